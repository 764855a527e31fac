//! `FSCTL_GET_REPARSE_POINT` and `FSCTL_SET_REPARSE_POINT`: the raw reparse buffer in and
//! out of a handle. The bytes are the codec's business (`knot-reparse`); nothing here
//! looks inside them.

use std::io;

use super::ffi::{
    DeviceIoControl, FSCTL_GET_REPARSE_POINT, FSCTL_SET_REPARSE_POINT,
    MAXIMUM_REPARSE_DATA_BUFFER_SIZE, ReparseBuffer,
};
use super::handle::Handle;

/// The reparse buffer of the entry `handle` was opened on (with
/// `FILE_FLAG_OPEN_REPARSE_POINT`): exactly the bytes the file system returned.
///
/// # Errors
/// `ERROR_NOT_A_REPARSE_POINT` (4390) if it is not one; any other `DeviceIoControl`
/// failure. The buffer is the largest a reparse point can be, so it is never too small.
pub(crate) fn get_reparse_point(handle: &Handle) -> io::Result<Vec<u8>> {
    let mut buf = Box::new(ReparseBuffer([0; MAXIMUM_REPARSE_DATA_BUFFER_SIZE]));
    let mut returned: u32 = 0;
    // SAFETY: the handle is open; no input buffer; the output buffer is 16 KiB, writable
    // and 8-byte aligned (ReparseBuffer), and its size is passed; the call is synchronous
    // (no OVERLAPPED: the handle was not opened for overlapped I/O).
    let ok = unsafe {
        DeviceIoControl(
            handle.raw(),
            FSCTL_GET_REPARSE_POINT,
            std::ptr::null(),
            0,
            buf.0.as_mut_ptr().cast(),
            MAXIMUM_REPARSE_DATA_BUFFER_SIZE as u32,
            &mut returned,
            std::ptr::null_mut(),
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    let len = (returned as usize).min(MAXIMUM_REPARSE_DATA_BUFFER_SIZE);
    Ok(buf.0[..len].to_vec())
}

/// Attaches `buffer` (a whole REPARSE_DATA_BUFFER from the codec) to the entry `handle`
/// was opened on, which needs write access (MS-FSA 2.1.5.10.37: `FILE_WRITE_DATA` or
/// `FILE_WRITE_ATTRIBUTES`; knot asks only the latter, `make.rs`).
///
/// # Errors
/// Whatever the file system says: `ERROR_NOT_SUPPORTED` or `ERROR_INVALID_FUNCTION` where
/// it has no reparse points (FAT, exFAT, Wine 8), `ERROR_DIR_NOT_EMPTY` for a mount point
/// on a directory with entries, `ERROR_INVALID_REPARSE_DATA` for a buffer it rejects.
pub(crate) fn set_reparse_point(handle: &Handle, buffer: &[u8]) -> io::Result<()> {
    let len = u32::try_from(buffer.len())
        .ok()
        .filter(|&n| n as usize <= MAXIMUM_REPARSE_DATA_BUFFER_SIZE)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "reparse buffer too large"))?;
    let mut returned: u32 = 0;
    // SAFETY: the handle is open; the input buffer is `len` readable bytes (the kernel
    // copies it before reading it as a structure, so its alignment does not matter); no
    // output buffer; synchronous call.
    let ok = unsafe {
        DeviceIoControl(
            handle.raw(),
            FSCTL_SET_REPARSE_POINT,
            buffer.as_ptr().cast(),
            len,
            std::ptr::null_mut(),
            0,
            &mut returned,
            std::ptr::null_mut(),
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
