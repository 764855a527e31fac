//! The Unix backend: `symlink(2)`, `link(2)`, `readlink(2)`, `unlink(2)`, `rename(2)`.
//! std's wrappers are exact here (none follows a link unless its name says so), so this
//! file needs no `unsafe`.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::{FileType, Meta, Stored};
use crate::link::{Flavour, Kind, Status};

// The scanner's directory handles: `openat`, `fstatat`, `readlinkat`, `getdents64`.
mod dir;
pub(crate) use dir::{Dir, DirReader, max_open_dirs};

/// Unix has no junctions: `knot junction` makes an absolute directory symlink instead.
pub(crate) const NATIVE_JUNCTIONS: bool = false;

/// `symlink(2)` makes one kind of symlink for files and directories alike.
pub(crate) const FLAVOUR_MATTERS: bool = false;

fn meta(m: &fs::Metadata) -> Meta {
    let ft = m.file_type();
    let ty = if ft.is_symlink() {
        FileType::Link
    } else if ft.is_dir() {
        FileType::Dir
    } else if ft.is_file() {
        FileType::File
    } else {
        FileType::Other
    };
    Meta {
        ty,
        nlink: m.nlink(),
        id: (m.dev(), m.ino()),
        tag: None,
    }
}

pub(crate) fn lstat(path: &Path) -> io::Result<Meta> {
    fs::symlink_metadata(path).map(|m| meta(&m))
}

pub(crate) fn stat(path: &Path) -> io::Result<Meta> {
    fs::metadata(path).map(|m| meta(&m))
}

pub(crate) fn read_link(path: &Path) -> io::Result<Stored> {
    let target = fs::read_link(path)?;
    Ok(Stored {
        relative: target.is_relative(),
        target,
        kind: Kind::Symlink,
        dir: None,
        reparse: None,
    })
}

pub(crate) fn symlink(target: &Path, link: &Path, _flavour: Flavour) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

/// Never called: [`NATIVE_JUNCTIONS`] is false, so the caller makes a symlink instead.
pub(crate) fn junction(_target: &Path, _link: &Path) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "this file system has no junctions",
    ))
}

/// `link(2)` through std, which calls `linkat(..., 0)`: a symlink given as the target is
/// linked itself, never followed.
pub(crate) fn hard_link(target: &Path, link: &Path) -> io::Result<()> {
    fs::hard_link(target, link)
}

/// `rename(2)`: atomic, and replaces a link without following it.
pub(crate) fn rename_over(from: &Path, to: &Path) -> io::Result<()> {
    fs::rename(from, to)
}

/// `unlink(2)` removes the link itself; it never follows one.
pub(crate) fn remove_link(path: &Path, _meta: &Meta) -> io::Result<()> {
    fs::remove_file(path)
}

/// What a failure to follow a link means for its status.
pub(crate) fn classify_resolve_error(err: &io::Error) -> Status {
    match err.raw_os_error() {
        Some(code) if code == rustix::io::Errno::LOOP.raw_os_error() => Status::Loop,
        Some(code)
            if code == rustix::io::Errno::NOENT.raw_os_error()
                || code == rustix::io::Errno::NOTDIR.raw_os_error() =>
        {
            Status::Dangling
        }
        _ => Status::Unreadable,
    }
}
