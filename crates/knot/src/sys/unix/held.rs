//! A file held by a descriptor, and named through it: `/proc/self/fd/N` leads to the file
//! the descriptor N holds and no further (a link held itself stays that link), for the
//! calls that take only a path (a link's extended attributes and times, `linkat` of a
//! nameless file, an ntfs-3g attribute, where a descriptor's path is asked); and a
//! symlink held itself, checked to be one.

use std::ffi::OsStr;
use std::io;
#[cfg(any(target_os = "linux", target_os = "android"))]
use std::os::fd::AsRawFd as _;
use std::os::fd::{BorrowedFd, OwnedFd};
#[cfg(any(target_os = "linux", target_os = "android"))]
use std::path::PathBuf;

use rustix::fs::{FileType, Mode, OFlags};

/// The path in `/proc/self/fd` that leads to the file `fd` holds, and no further.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn own_path(fd: BorrowedFd<'_>) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

/// A call on an [`own_path`] that found no such path: no `/proc` to name the file by
/// ([`NoProc`]); any other failure as it is.
///
/// [`NoProc`]: super::super::error::Error::NoProc
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn no_proc(err: impl Into<io::Error>) -> io::Error {
    let err = err.into();
    match err.kind() {
        io::ErrorKind::NotFound => super::super::error::Error::NoProc.into(),
        _ => err,
    }
}

/// The symlink `name` of `dir` itself, held by a descriptor and checked by `fstat` to be
/// a link (anything else there is [`Replaced`]): on Linux `O_PATH | O_NOFOLLOW`, which
/// gives no access to what it leads to, the link then named by [`own_path`]; on macOS
/// `O_SYMLINK`, which opens the link itself (with `O_NONBLOCK | O_NOCTTY`, so a FIFO or
/// terminal swapped in neither blocks nor becomes this process's terminal before the
/// check).
///
/// [`Replaced`]: super::super::error::Error::Replaced
#[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
pub(crate) fn hold_link(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<OwnedFd> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    #[cfg(target_vendor = "apple")]
    let flags = {
        // O_SYMLINK, which rustix does not name.
        const O_SYMLINK: OFlags = OFlags::from_bits_retain(0x0020_0000);
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC | O_SYMLINK
    };
    let fd = rustix::fs::openat(dir, name, flags, Mode::empty())?;
    if FileType::from_raw_mode(rustix::fs::fstat(&fd)?.st_mode) != FileType::Symlink {
        return Err(super::super::error::Error::Replaced.into());
    }
    Ok(fd)
}
