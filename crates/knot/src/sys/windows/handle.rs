//! Owned Win32 handles, closed on drop, and the queries knot makes through them.
//!
//! Working through a handle rather than a path is what makes `rm` safe: the entry is
//! opened once, without following it (`FILE_FLAG_OPEN_REPARSE_POINT`), checked through
//! that handle, and deleted through the same handle, so a path swapped in between is
//! never acted on.
//!
//! An entry below a directory knot holds is opened by its name relative to the
//! directory's handle ([`Handle::open_at`], [`Handle::create_dir_at`]): `NtCreateFile`
//! with the handle as `RootDirectory` and `FILE_OPEN_REPARSE_POINT`, as Rust's std opens
//! what `remove_dir_all` deletes (the fix of CVE-2022-21658). The name is looked up in
//! that directory, whatever its path names by then; no path is parsed again.

use std::ffi::OsStr;
use std::io;
use std::mem::{MaybeUninit, size_of};
use std::path::{Path, PathBuf};

use super::ffi::{
    BY_HANDLE_FILE_INFORMATION, CloseHandle, CreateFileW, ERROR_MORE_DATA,
    FILE_ATTRIBUTE_REPARSE_POINT, FILE_ATTRIBUTE_TAG_INFO, FILE_CREATE, FILE_DIRECTORY_FILE,
    FILE_FLAG_BACKUP_SEMANTICS, FILE_FLAG_OPEN_REPARSE_POINT, FILE_ID_INFO, FILE_OPEN,
    FILE_OPEN_FOR_BACKUP_INTENT, FILE_OPEN_REPARSE_POINT, FILE_READ_ATTRIBUTES, FILE_SHARE_DELETE,
    FILE_SHARE_READ, FILE_SHARE_WRITE, FILE_STANDARD_INFO, FILE_SYNCHRONOUS_IO_NONALERT,
    FileAttributeTagInfo, FileIdInfo, FileStandardInfo, FindClose, GetFileInformationByHandle,
    GetFileInformationByHandleEx, GetFinalPathNameByHandleW, HANDLE, INVALID_HANDLE_VALUE,
    IO_STATUS_BLOCK, NTSTATUS, NtCreateFile, OBJ_CASE_INSENSITIVE, OBJECT_ATTRIBUTES,
    OPEN_EXISTING, RtlNtStatusToDosError, SYNCHRONIZE, UNICODE_STRING, VOLUME_NAME_DOS,
};
use super::wide;

/// Every share mode: what [`Handle::open`] and [`Handle::open_at`] let others do.
pub(crate) const SHARE_ALL: u32 = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;

/// The Win32 error of an NT status (`RtlNtStatusToDosError`), as `io::Error`, so that an
/// NT call's failure reads as the Win32 call's would (`STATUS_OBJECT_NAME_NOT_FOUND` as
/// `ERROR_FILE_NOT_FOUND`, `STATUS_OBJECT_NAME_COLLISION` as `ERROR_ALREADY_EXISTS`).
pub(crate) fn nt_error(status: NTSTATUS) -> io::Error {
    // SAFETY: a pure translation of a status code.
    let code = unsafe { RtlNtStatusToDosError(status) };
    io::Error::from_raw_os_error(code as i32)
}

/// `name` as the `UNICODE_STRING` an NT call takes: one name, not empty, at most 32,767
/// units (a `UNICODE_STRING` counts bytes in 16 bits); `.` is the directory itself (the
/// empty name, which opens the `RootDirectory` again), as in the `*at` calls of Unix.
/// `units` must outlive its use.
pub(crate) fn nt_name(name: &OsStr, units: &mut Vec<u16>) -> io::Result<UNICODE_STRING> {
    let invalid = |why| io::Error::new(io::ErrorKind::InvalidInput, why);
    *units = match name.as_encoded_bytes() {
        b"" => return Err(invalid("an empty name")),
        b"." => Vec::new(),
        b".." => return Err(invalid("`..` is no name in a held directory")),
        _ => wide::units(name),
    };
    // One name: a separator would make the NT call walk a path below the directory.
    if units
        .iter()
        .any(|&u| u == u16::from(b'\\') || u == u16::from(b'/'))
    {
        return Err(invalid("a name with a path separator in it"));
    }
    let length = u16::try_from(units.len() * 2).map_err(|_| invalid("a name too long"))?;
    Ok(UNICODE_STRING {
        Length: length,
        MaximumLength: length,
        Buffer: units.as_mut_ptr(),
    })
}

/// Whether an open follows a link at the path's last component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Follow {
    /// Open the link itself (`FILE_FLAG_OPEN_REPARSE_POINT`).
    No,
    /// Open what the link leads to.
    Yes,
}

/// A file or directory handle from `CreateFileW`.
#[derive(Debug)]
pub(crate) struct Handle(HANDLE);

// SAFETY: a file handle is a kernel object reference that any thread may use or close;
// knot never shares one with code that keeps per-thread state in it (no overlapped I/O).
unsafe impl Send for Handle {}
// SAFETY: every call made through `&Handle` is a query or a single self-contained
// operation, and the kernel serialises calls on a synchronous handle (its file object has
// one lock). The one with state in the file object, a directory listing
// (`DirReader::read`), starts it again each time, and the scan reads each directory from
// one thread only; two threads listing one directory at once would see its entries split
// between them, never memory unsafety.
unsafe impl Sync for Handle {}

impl Handle {
    /// Opens an existing file or directory with `access`, sharing read, write and delete so
    /// no other program is locked out. Directories open too (`FILE_FLAG_BACKUP_SEMANTICS`,
    /// which also lets a process holding the backup privilege through).
    pub(crate) fn open(path: &Path, access: u32, follow: Follow) -> io::Result<Handle> {
        Handle::open_shared(path, access, follow, SHARE_ALL)
    }

    /// Opens the existing entry `name` in the directory open as `dir`, never following a
    /// link there (`FILE_OPEN_REPARSE_POINT`), with `access` and letting others do what
    /// `share` allows: [`Handle::open_shared`] of the entry itself, found by its name in
    /// that directory rather than by a path.
    pub(crate) fn open_at(
        dir: &Handle,
        name: &OsStr,
        access: u32,
        share: u32,
    ) -> io::Result<Handle> {
        Handle::nt_create(dir, name, access, share, FILE_OPEN, 0)
    }

    /// [`Handle::open_at`] without `FILE_OPEN_REPARSE_POINT`: the entry `name` opened as
    /// the file system gives it, its reparse point served by the filter for its tag (the
    /// data of a WOF-compressed, deduplicated or cloud file). A link there is followed:
    /// the caller checks that the handle is of the file it meant (by its id).
    pub(crate) fn open_data_at(
        dir: &Handle,
        name: &OsStr,
        access: u32,
        share: u32,
    ) -> io::Result<Handle> {
        Handle::nt_create_as(dir, name, access, share, FILE_OPEN, 0)
    }

    /// Makes the directory `name` in the directory open as `dir`, and opens it with
    /// `access` (`FILE_CREATE`: it fails with `ERROR_ALREADY_EXISTS` where anything
    /// stands, and never follows or replaces it). The handle is the new directory's own:
    /// nothing put at the name since can be reached through it.
    pub(crate) fn create_dir_at(dir: &Handle, name: &OsStr, access: u32) -> io::Result<Handle> {
        Handle::nt_create(
            dir,
            name,
            access,
            SHARE_ALL,
            FILE_CREATE,
            FILE_DIRECTORY_FILE,
        )
    }

    /// Makes the file (`FILE_NON_DIRECTORY_FILE`) or directory (`FILE_DIRECTORY_FILE`)
    /// `name` in the directory open as `dir`, as `options` says, and opens it with `access`,
    /// letting others do what `share` allows (`FILE_CREATE`: it fails with
    /// `ERROR_ALREADY_EXISTS` where anything stands, a link included, and never follows or
    /// replaces it). The handle is the new entry's own.
    pub(crate) fn create_at(
        dir: &Handle,
        name: &OsStr,
        access: u32,
        share: u32,
        options: u32,
    ) -> io::Result<Handle> {
        Handle::nt_create(dir, name, access, share, FILE_CREATE, options)
    }

    /// The handle as a [`std::fs::File`] for reads and writes, borrowed: never closed
    /// through it (`ManuallyDrop`), so it must not outlive `self`, which owns the handle.
    pub(crate) fn as_file(&self) -> std::mem::ManuallyDrop<std::fs::File> {
        use std::os::windows::io::FromRawHandle as _;
        // SAFETY: the handle is open and stays open while `self` lives; the `File` is
        // never dropped, so it never closes the handle `self` owns.
        std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_handle(self.0) })
    }

    /// `NtCreateFile` of `name` relative to `dir`, as `CreateFileW` opens a path: with
    /// `SYNCHRONIZE` and `FILE_READ_ATTRIBUTES` added to `access`, synchronous I/O, backup
    /// intent (directories open too), the name case-insensitive; and never following a link.
    fn nt_create(
        dir: &Handle,
        name: &OsStr,
        access: u32,
        share: u32,
        disposition: u32,
        options: u32,
    ) -> io::Result<Handle> {
        let options = options | FILE_OPEN_REPARSE_POINT;
        Handle::nt_create_as(dir, name, access, share, disposition, options)
    }

    /// [`Handle::nt_create`], a reparse point at `name` served as its tag says unless
    /// `options` has `FILE_OPEN_REPARSE_POINT`.
    fn nt_create_as(
        dir: &Handle,
        name: &OsStr,
        access: u32,
        share: u32,
        disposition: u32,
        options: u32,
    ) -> io::Result<Handle> {
        let mut units = Vec::new();
        let name = nt_name(name, &mut units)?;
        let attributes = OBJECT_ATTRIBUTES {
            Length: size_of::<OBJECT_ATTRIBUTES>() as u32,
            RootDirectory: dir.0,
            ObjectName: &raw const name,
            Attributes: OBJ_CASE_INSENSITIVE,
            SecurityDescriptor: std::ptr::null(),
            SecurityQualityOfService: std::ptr::null(),
        };
        let mut raw: HANDLE = std::ptr::null_mut();
        // SAFETY: an all-zero IO_STATUS_BLOCK is valid (a status and a number).
        let mut status_block: IO_STATUS_BLOCK = unsafe { std::mem::zeroed() };
        let options = options | FILE_SYNCHRONOUS_IO_NONALERT | FILE_OPEN_FOR_BACKUP_INTENT;
        // SAFETY: `attributes` points at `name`, whose buffer (`units`) lives to the end of
        // this function; `dir` is open; `raw` and `status_block` are writable; no
        // allocation size and no extended attributes are passed.
        let status = unsafe {
            NtCreateFile(
                &raw mut raw,
                access | SYNCHRONIZE | FILE_READ_ATTRIBUTES,
                &raw const attributes,
                &raw mut status_block,
                std::ptr::null(),
                0,
                share,
                disposition,
                options,
                std::ptr::null(),
                0,
            )
        };
        if status < 0 {
            return Err(nt_error(status));
        }
        Ok(Handle(raw))
    }

    /// [`Handle::open`], letting others do only what `share` allows while the handle is
    /// open: without `FILE_SHARE_DELETE`, no one can rename or delete the entry (nor open
    /// it to do so), and opening fails if someone already has it open to.
    pub(crate) fn open_shared(
        path: &Path,
        access: u32,
        follow: Follow,
        share: u32,
    ) -> io::Result<Handle> {
        let name = wide::path(path)?;
        let mut flags = FILE_FLAG_BACKUP_SEMANTICS;
        if follow == Follow::No {
            flags |= FILE_FLAG_OPEN_REPARSE_POINT;
        }
        // SAFETY: `name` is NUL-terminated; null security attributes and template handle
        // are allowed; the returned handle is checked before it is owned.
        let raw = unsafe {
            CreateFileW(
                name.as_ptr(),
                access,
                share,
                std::ptr::null(),
                OPEN_EXISTING,
                flags,
                std::ptr::null_mut(),
            )
        };
        if raw == INVALID_HANDLE_VALUE {
            return Err(io::Error::last_os_error());
        }
        Ok(Handle(raw))
    }

    pub(crate) fn raw(&self) -> HANDLE {
        self.0
    }

    /// `GetFileInformationByHandle`: attributes, volume serial number, file index, links.
    pub(crate) fn info(&self) -> io::Result<BY_HANDLE_FILE_INFORMATION> {
        let mut info = MaybeUninit::<BY_HANDLE_FILE_INFORMATION>::uninit();
        // SAFETY: the handle is open; `info` is valid for writing one structure.
        if unsafe { GetFileInformationByHandle(self.0, info.as_mut_ptr()) } == 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the call succeeded, so it filled the structure.
        Ok(unsafe { info.assume_init() })
    }

    /// `FileIdInfo` (Windows 8 and later): the 64-bit volume serial number and the 128-bit
    /// file id. ReFS ids need all 128 bits; `info`'s 64-bit `nFileIndex` is only part of one.
    pub(crate) fn id_info(&self) -> io::Result<FILE_ID_INFO> {
        let mut info = MaybeUninit::<FILE_ID_INFO>::uninit();
        // SAFETY: the handle is open; `info` is writable for the FILE_ID_INFO that
        // FileIdInfo fills, and its size is passed.
        let ok = unsafe {
            GetFileInformationByHandleEx(
                self.0,
                FileIdInfo,
                info.as_mut_ptr().cast(),
                size_of::<FILE_ID_INFO>() as u32,
            )
        };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the call succeeded, so it filled the structure.
        Ok(unsafe { info.assume_init() })
    }

    /// `FileStandardInfo`: the allocation size, end of file and link count.
    pub(crate) fn standard_info(&self) -> io::Result<FILE_STANDARD_INFO> {
        let mut info = MaybeUninit::<FILE_STANDARD_INFO>::uninit();
        // SAFETY: the handle is open; `info` is writable for the FILE_STANDARD_INFO that
        // FileStandardInfo fills, and its size is passed.
        let ok = unsafe {
            GetFileInformationByHandleEx(
                self.0,
                FileStandardInfo,
                info.as_mut_ptr().cast(),
                size_of::<FILE_STANDARD_INFO>() as u32,
            )
        };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the call succeeded, so it filled the structure.
        Ok(unsafe { info.assume_init() })
    }

    /// The attributes and, for a reparse point, its tag (`FileAttributeTagInfo`): what the
    /// entry opened is, read from the handle itself.
    pub(crate) fn attribute_tag(&self) -> io::Result<(u32, Option<u32>)> {
        let mut info = FILE_ATTRIBUTE_TAG_INFO {
            FileAttributes: 0,
            ReparseTag: 0,
        };
        // SAFETY: the handle is open; `info` is a FILE_ATTRIBUTE_TAG_INFO, the structure
        // FileAttributeTagInfo asks for, and its size is passed.
        let ok = unsafe {
            GetFileInformationByHandleEx(
                self.0,
                FileAttributeTagInfo,
                (&raw mut info).cast(),
                size_of::<FILE_ATTRIBUTE_TAG_INFO>() as u32,
            )
        };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        let tag =
            (info.FileAttributes & FILE_ATTRIBUTE_REPARSE_POINT != 0).then_some(info.ReparseTag);
        Ok((info.FileAttributes, tag))
    }

    /// The path the handle was opened as, with links resolved
    /// (`GetFinalPathNameByHandleW`), in its `\\?\` form.
    pub(crate) fn final_path(&self) -> io::Result<PathBuf> {
        self.final_path_as(VOLUME_NAME_DOS)
    }

    /// [`Handle::final_path`] with the volume named as `flags` says: `VOLUME_NAME_DOS`
    /// (`\\?\C:\dir\file`) or `VOLUME_NAME_NONE` (`\dir\file`, the path inside its
    /// volume, as `FindFirstFileNameW` gives names).
    pub(crate) fn final_path_as(&self, flags: u32) -> io::Result<PathBuf> {
        use std::os::windows::ffi::OsStringExt;
        let mut buf: Vec<u16> = vec![0; 512];
        loop {
            let capacity = u32::try_from(buf.len()).unwrap_or(u32::MAX);
            // SAFETY: the handle is open; `buf` holds `capacity` writable units.
            let n = unsafe { GetFinalPathNameByHandleW(self.0, buf.as_mut_ptr(), capacity, flags) }
                as usize;
            if n == 0 {
                let err = io::Error::last_os_error();
                // Windows returns the size needed; Wine 8 fails with ERROR_MORE_DATA
                // instead. Grow up to the longest path there is (32,767 units).
                if err.raw_os_error() == Some(ERROR_MORE_DATA as i32) && buf.len() < 1 << 15 {
                    buf.resize(buf.len() * 2, 0);
                    continue;
                }
                return Err(err);
            }
            if n < buf.len() {
                buf.truncate(n);
                return Ok(PathBuf::from(std::ffi::OsString::from_wide(&buf)));
            }
            // Too small: `n` is the size needed, terminator included.
            buf.resize(n, 0);
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the handle is open and owned; it is closed once, here. A failure leaves
        // nothing to do.
        unsafe { CloseHandle(self.0) };
    }
}

/// A directory search handle from `FindFirstFileExW`, closed with `FindClose`.
#[derive(Debug)]
pub(crate) struct FindHandle(HANDLE);

impl FindHandle {
    /// Owns `raw`, a handle `FindFirstFileExW` returned (never `INVALID_HANDLE_VALUE`).
    pub(crate) fn new(raw: HANDLE) -> FindHandle {
        debug_assert!(raw != INVALID_HANDLE_VALUE);
        FindHandle(raw)
    }
}

impl FindHandle {
    /// The raw search handle, for `FindNextFileNameW`.
    pub(crate) fn raw(&self) -> HANDLE {
        self.0
    }
}

impl Drop for FindHandle {
    fn drop(&mut self) {
        // SAFETY: the search handle is open and owned; it is closed once, here.
        unsafe { FindClose(self.0) };
    }
}
