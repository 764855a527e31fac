//! The Windows backend: links made, read and removed through Win32, with every reparse
//! buffer encoded and decoded by the codec (`knot-reparse`).
//!
//! | call | how |
//! |---|---|
//! | [`symlink`] | `CreateSymbolicLinkW`, unprivileged where Developer Mode allows it |
//! | [`junction`] | `NtCreateFile(FILE_CREATE)`, then `FSCTL_SET_REPARSE_POINT` through its handle |
//! | [`hard_link`] | `NtSetInformationFile(FileLinkInformation)` |
//! | [`read_link`] | `FSCTL_GET_REPARSE_POINT`, decoded by the codec |
//! | [`remove_link`] | checked and deleted through one handle to the link itself |
//! | [`rename_over`] | `NtSetInformationFile(FileRenameInformationEx)`, POSIX semantics |
//! | [`Dir`], [`DirReader`] | listings through the directory's handle (`FileIdExtdDirectoryInfo`) |
//! | `Dir::copy_file_at` | block cloning, else the allocated ranges, else every byte, through handles (`copy.rs`) |
//!
//! An entry the rest of the crate names as a held directory and a name ([`crate::sys::At`])
//! is opened here by that name relative to the directory's handle (`NtCreateFile` with it
//! as `RootDirectory`, never following), and linked and renamed relative to it too; only
//! a symlink is made by the directory's path and the name (`CreateSymbolicLinkW`), which
//! the directory's handle, held without `FILE_SHARE_DELETE`, keeps naming it (`dir.rs`).
//!
//! Every path goes through [`wide::path`], so paths longer than `MAX_PATH` work; every
//! `unsafe` block of knot lives under this directory, each with its `SAFETY` comment.
#![allow(
    unsafe_code,
    reason = "the Win32 calls of the Windows backend; the crate root denies unsafe elsewhere"
)]

mod copy;
mod dir;
mod ffi;
mod handle;
mod ioctl;
mod wide;

// One module per operation.
mod make;
mod names;
mod remove;
mod stat;
mod volume;

use make::*;
use names::*;
use remove::*;
use stat::*;
use volume::*;

use std::ffi::{OsStr, OsString};
use std::io;
use std::mem::{MaybeUninit, size_of};
use std::os::windows::ffi::OsStringExt;
use std::path::{Component, Path, PathBuf};

use knot_reparse::{MountPoint, ReparsePoint, Tag};

pub(crate) use dir::{Dir, DirReader};
use ffi::*;
use handle::{FindHandle, Follow, Handle};

use super::error::Error as SysError;
use super::{At, DotDot, FileType, Junctions, Meta, Place, Request, Stored, Strategy, Written};
use crate::link::{Flavour, Status};

fn last_error_is(err: &io::Error, codes: &[u32]) -> bool {
    err.raw_os_error()
        .is_some_and(|code| codes.iter().any(|&c| c as i32 == code))
}

fn os_error(code: u32) -> io::Error {
    io::Error::from_raw_os_error(code as i32)
}

/// What a failure to follow a link means for its status.
pub(crate) fn classify_resolve_error(err: &io::Error) -> Status {
    if last_error_is(err, &[ERROR_CANT_RESOLVE_FILENAME]) {
        Status::Loop
    } else if err.kind() == io::ErrorKind::NotFound
        || last_error_is(
            err,
            &[
                ERROR_FILE_NOT_FOUND,
                ERROR_PATH_NOT_FOUND,
                ERROR_INVALID_DRIVE,
                ERROR_BAD_NETPATH,
                ERROR_BAD_NET_NAME,
                ERROR_NOT_READY,
            ],
        )
    {
        Status::Dangling
    } else {
        Status::Unreadable
    }
}

/// knot's own kind for a Windows error that `io::ErrorKind` has no word for.
pub(crate) fn os_error_kind(err: &io::Error) -> Option<super::OsError> {
    if last_error_is(err, &[ERROR_PRIVILEGE_NOT_HELD]) {
        Some(super::OsError::PrivilegeNeeded)
    } else if last_error_is(err, &[ERROR_NOT_SAME_DEVICE]) {
        Some(super::OsError::CrossDevice)
    } else if last_error_is(err, &[ERROR_TOO_MANY_OPEN_FILES]) {
        Some(super::OsError::TooManyOpenFiles)
    } else if last_error_is(err, &[ERROR_SYMLINK_CLASS_DISABLED]) {
        Some(super::OsError::SymlinkEvaluation)
    } else if last_error_is(err, &[ERROR_NOT_A_REPARSE_POINT]) {
        Some(super::OsError::NotAReparsePoint)
    } else {
        None
    }
}

/// Whether `path` is on another machine: a UNC path (`\\server\share`, `\\?\UNC\...`) or
/// on a drive letter mapped to a share (`GetDriveTypeW` says `DRIVE_REMOTE`). Junctions
/// cannot lead there: the I/O manager follows a mount point only to a local volume.
pub(crate) fn is_remote(path: &Path) -> bool {
    let units = wide::units(path.as_os_str());
    let rest =
        match wide::strip_prefix(&units, r"\\?\").or_else(|| wide::strip_prefix(&units, r"\??\")) {
            Some(rest) if wide::strip_prefix(rest, r"UNC\").is_some() => return true,
            Some(rest) => rest,
            // `\\server\share`, but not the device namespace `\\.\`.
            None if wide::is_unc(&units) => return true,
            None => &units,
        };
    let Some(drive) = wide::drive_letter(rest) else {
        return false;
    };
    let root = [drive, u16::from(b':'), u16::from(b'\\'), 0];
    // SAFETY: `root` is a NUL-terminated drive root such as `C:\`.
    unsafe { GetDriveTypeW(root.as_ptr()) == DRIVE_REMOTE }
}

/// A path as a user would type it: without `\\?\` where the short form is exact.
pub(crate) fn user_path(path: PathBuf) -> PathBuf {
    wide::user_path(path)
}

/// Whether `err` says this user may not do it (ERROR_ACCESS_DENIED).
pub(crate) fn is_access_denied(err: &io::Error) -> bool {
    err.raw_os_error() == i32::try_from(windows_sys::Win32::Foundation::ERROR_ACCESS_DENIED).ok()
}

// The path rules (`crate::path`).

/// Where the directory `dir` really is, for computing the targets knot stores: its full
/// path as `GetFullPathNameW` makes it (`std::path::absolute`), which is what `mklink /J`
/// and `junction.exe` store and how Windows itself resolves `..` in a path (lexically).
/// In a symlink's relative target Windows resolves `..` after the directory symlinks
/// before the link (not the junctions): knot does not, and says so (README, "Windows";
/// the Windows job's `dot_dot_under_a_directory_symlink_prefix` test). `fs::canonicalize` would add `\\?\` (a junction holding `\??\\\?\C:\...`
/// cannot be followed: tesuji/junction#30), turn a mapped drive into its UNC path and
/// resolve junctions the user named on purpose.
pub(crate) fn real_dir(dir: &Path) -> io::Result<PathBuf> {
    crate::path::absolute(dir)
}

/// Whether two components of absolute paths name the same directory entry: names (and a
/// UNC prefix's server and share) compare ignoring ASCII case, as NTFS and Win32 compare
/// them, so `C:\Work\a` and `c:\work\b` share `C:\Work`; full Unicode case folding (the
/// volume's upcase table) is the file system's, and a name that differs only there just
/// goes up one `..` more.
pub(crate) fn same_name(a: &Component<'_>, b: &Component<'_>) -> bool {
    a == b
        || match (a, b) {
            (Component::Normal(a), Component::Normal(b)) => a.eq_ignore_ascii_case(b),
            (Component::Prefix(a), Component::Prefix(b)) => {
                a.as_os_str().eq_ignore_ascii_case(b.as_os_str())
            }
            _ => false,
        }
}

#[cfg(test)]
mod tests;

/// The Windows backend (the contract in `sys/mod.rs`): each call is this file's function of
/// the same name, which says how.
#[derive(Debug)]
pub(crate) struct Os;

impl super::Backend for Os {
    type Dir = Dir;
    type DirReader = DirReader;

    /// Windows folds `..` lexically in a path (`GetFullPathNameW`), and in a link's target
    /// once the directory symlinks before the link are resolved; knot folds the target
    /// lexically from the link's path as given (see [`real_dir`]).
    const DOT_DOT: DotDot = DotDot::Lexical;
    const NAMES_FROM: super::NamesFrom = super::NamesFrom::FileNames;
    const COPIES_FILES: bool = true;

    fn lstat(path: &Path) -> io::Result<Meta> {
        lstat(path)
    }

    fn stat(path: &Path) -> io::Result<Meta> {
        stat(path)
    }

    fn read_link(path: &Path) -> io::Result<Stored> {
        read_link(path)
    }

    fn hard_link_names(path: &Path) -> io::Result<Option<Vec<PathBuf>>> {
        hard_link_names(path)
    }

    fn classify_resolve_error(err: &io::Error) -> Status {
        classify_resolve_error(err)
    }

    fn os_error_kind(err: &io::Error) -> Option<super::OsError> {
        os_error_kind(err)
    }

    fn is_access_denied(err: &io::Error) -> bool {
        is_access_denied(err)
    }

    fn is_remote(path: &Path) -> bool {
        is_remote(path)
    }

    fn user_path(path: PathBuf) -> PathBuf {
        user_path(path)
    }

    fn normalise_symlink_target(target: &Path) -> io::Result<PathBuf> {
        normalise_symlink_target(target)
    }

    fn is_directory_entry(path: &Path) -> bool {
        is_directory_entry(path)
    }

    fn real_dir(dir: &Path) -> io::Result<PathBuf> {
        real_dir(dir)
    }

    fn same_name(a: &Component<'_>, b: &Component<'_>) -> bool {
        same_name(a, b)
    }

    fn max_open_dirs() -> usize {
        dir::max_open_dirs()
    }

    fn max_held_dirs() -> usize {
        dir::max_held_dirs()
    }
}
