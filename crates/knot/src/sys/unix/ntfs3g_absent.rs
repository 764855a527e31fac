//! ntfs-3g's strategy where it cannot be: knot finds ntfs-3g volumes through Linux's
//! `/proc/self/mountinfo` and reads their reparse points through `/proc/self/fd`, so on
//! the other Unix systems no directory is ever on one. The same calls as `ntfs3g.rs`, each
//! answering "not an ntfs-3g volume", so the Unix backend calls them without a `cfg`.

use std::ffi::OsStr;
use std::io;
use std::os::fd::BorrowedFd;
use std::path::Path;

use super::super::{Junctions, Request, Stored, Strategy, Written};

/// An NTFS volume mounted with ntfs-3g: none here.
#[derive(Debug)]
pub(crate) enum Volume {}

impl Volume {
    pub(crate) fn of_dir(_dir: BorrowedFd<'_>) -> io::Result<Option<Volume>> {
        Ok(None)
    }
}

impl Strategy for Volume {
    fn junctions(&self) -> Junctions {
        match *self {}
    }

    fn flavour_matters(&self) -> bool {
        match *self {}
    }

    fn symlink(&self, _request: &Request<'_>) -> io::Result<Written> {
        match *self {}
    }

    fn junction(&self, _request: &Request<'_>) -> io::Result<Written> {
        match *self {}
    }
}

pub(crate) fn system_file_at(
    _dir: BorrowedFd<'_>,
    _name: &OsStr,
    _limit: usize,
) -> io::Result<super::super::SystemFile> {
    Err(super::super::error::Error::NotNtfs.into())
}

pub(crate) fn tag(_path: &Path) -> io::Result<Option<u32>> {
    Ok(None)
}

pub(crate) fn tag_at(_dir: BorrowedFd<'_>, _name: &OsStr) -> io::Result<Option<u32>> {
    Ok(None)
}

pub(crate) fn read_link(_path: &Path, _text: &Path) -> io::Result<Option<Stored>> {
    Ok(None)
}

pub(crate) fn read_link_at(
    _dir: BorrowedFd<'_>,
    _name: &OsStr,
    _text: &Path,
) -> io::Result<Option<Stored>> {
    Ok(None)
}

pub(crate) fn look_at_mounts() {}

pub(crate) fn is_volume_dir(
    _dir: BorrowedFd<'_>,
    _held: bool,
    _fs_type: impl FnOnce() -> i64,
) -> bool {
    false
}

pub(crate) fn is_directory_entry(_path: &Path) -> bool {
    false
}

pub(crate) fn is_directory_entry_at(_dir: BorrowedFd<'_>, _name: &OsStr) -> bool {
    false
}

pub(crate) fn copy_directory_link(
    _from_dir: BorrowedFd<'_>,
    _from: &OsStr,
    _to_dir: BorrowedFd<'_>,
    _to: &OsStr,
) -> io::Result<bool> {
    Ok(false)
}

pub(crate) fn make_reparse_dir_at(
    _dir: BorrowedFd<'_>,
    _name: &OsStr,
    _buffer: &[u8],
) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}
