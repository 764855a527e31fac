//! What a stat call says, as the platform layer's [`Meta`], and the retry a FUSE file
//! system needs after an entry changed under it.

use rustix::io::Errno;

use super::super::{FileType, Meta};

/// How often a stat call is tried again after `EIO` ([`settled`]).
const TRIES: usize = 8;

/// The type of an entry as a listing or a stat call gives it; `None` where the file
/// system does not say (`DT_UNKNOWN`).
pub(crate) fn file_type(ty: rustix::fs::FileType) -> Option<FileType> {
    use rustix::fs::FileType as T;
    Some(match ty {
        T::Symlink => FileType::Link,
        T::Directory => FileType::Dir,
        T::RegularFile => FileType::File,
        T::Unknown => return None,
        _ => FileType::Other,
    })
}

/// What knot needs of a stat call's answer.
#[allow(
    clippy::unnecessary_cast,
    reason = "the widths of st_nlink, st_dev, st_ino and st_blocks differ between Unix systems"
)]
pub(crate) fn meta(st: &rustix::fs::Stat) -> Meta {
    Meta {
        ty: file_type(rustix::fs::FileType::from_raw_mode(st.st_mode)).unwrap_or(FileType::Other),
        nlink: st.st_nlink as u64,
        id: (st.st_dev as u64, u128::from(st.st_ino as u64)),
        tag: None,
        size: u64::try_from(st.st_size).unwrap_or(0),
        // st_blocks counts 512-byte units whatever the file system's block size (POSIX
        // leaves the unit open; Linux, the BSDs and macOS all use 512).
        allocated: Some((st.st_blocks as u64).saturating_mul(512)),
    }
}

/// Runs a stat call again while it fails with `EIO`: when another program has just turned
/// an entry on a FUSE file system into a link (ntfs-3g, through its reparse point), the
/// kernel marks the inode it cached as bad and fails the next look-up once
/// (`fs/fuse/dir.c`); the one after finds the entry as it is.
pub(crate) fn settled<T>(mut call: impl FnMut() -> rustix::io::Result<T>) -> rustix::io::Result<T> {
    let mut result = call();
    for _ in 0..TRIES {
        match result {
            Err(Errno::IO) => result = call(),
            _ => break,
        }
    }
    result
}
