//! The backend for platforms knot does not support yet: every operation fails with a clear
//! error instead of doing something half right.
//!
//! In test builds it is compiled on every platform too, and held to the backend contract
//! (the traits in `sys/mod.rs`).

use std::ffi::OsStr;
use std::io;
use std::path::{Path, PathBuf};

use super::{Backend, Directory, DotDot, FileType, Meta, Place, Reader, Stored};
use crate::link::Status;

fn unsupported<T>() -> io::Result<T> {
    Err(super::error::Error::Platform.into())
}

/// The backend of a platform knot does not support: every operation fails.
#[derive(Debug)]
pub(crate) struct Os;

impl Backend for Os {
    type Dir = Dir;
    type DirReader = DirReader;

    const DOT_DOT: DotDot = DotDot::Lexical;

    fn lstat(_path: &Path) -> io::Result<Meta> {
        unsupported()
    }

    fn stat(_path: &Path) -> io::Result<Meta> {
        unsupported()
    }

    fn read_link(_path: &Path) -> io::Result<Stored> {
        unsupported()
    }

    fn classify_resolve_error(_err: &io::Error) -> Status {
        Status::Unreadable
    }

    fn is_access_denied(_err: &io::Error) -> bool {
        false
    }

    fn real_dir(_dir: &Path) -> io::Result<PathBuf> {
        unsupported()
    }

    fn max_open_dirs() -> usize {
        64
    }

    fn max_held_dirs() -> usize {
        64
    }
}

/// An open directory; none can be opened here.
#[derive(Debug)]
pub(crate) struct Dir(());

impl Directory for Dir {
    fn open(_path: &Path) -> io::Result<Dir> {
        unsupported()
    }

    fn open_at(&self, _name: &OsStr, _follow: bool) -> io::Result<Dir> {
        unsupported()
    }

    fn parent(&self) -> io::Result<Dir> {
        unsupported()
    }

    fn meta(&self) -> io::Result<Meta> {
        unsupported()
    }

    fn stat_at(&self, _name: &OsStr, _follow: bool) -> io::Result<Meta> {
        unsupported()
    }

    fn usage_at(&self, _name: &OsStr) -> io::Result<Meta> {
        unsupported()
    }

    fn read_link_at(&self, _name: &OsStr) -> io::Result<Stored> {
        unsupported()
    }

    fn real_path_at(&self, _name: &OsStr) -> io::Result<PathBuf> {
        unsupported()
    }

    fn hold(_path: &Path) -> io::Result<Dir> {
        unsupported()
    }

    fn hold_at(&self, _name: &OsStr) -> io::Result<Dir> {
        unsupported()
    }

    fn make_dir_at(&self, _name: &OsStr) -> io::Result<()> {
        unsupported()
    }

    fn place(&self) -> io::Result<Place> {
        unsupported()
    }

    fn real_dir(&self, _path: &Path) -> io::Result<PathBuf> {
        unsupported()
    }

    fn hard_link_at(
        &self,
        _name: &OsStr,
        _target_dir: &Dir,
        _target_name: &OsStr,
    ) -> io::Result<()> {
        unsupported()
    }

    fn remove_link_at(&self, _name: &OsStr, _path: &Path) -> io::Result<()> {
        unsupported()
    }

    fn rename_over_at(&self, _staged: &OsStr, _name: &OsStr, _path: &Path) -> io::Result<()> {
        unsupported()
    }

    fn remove_name_at(&self, _name: &OsStr) -> io::Result<()> {
        unsupported()
    }
}

/// Reads directories; nothing to read here.
#[derive(Debug)]
pub(crate) struct DirReader(());

impl Reader for DirReader {
    type Dir = Dir;

    fn new() -> DirReader {
        DirReader(())
    }

    fn read(
        &mut self,
        _dir: &Dir,
        _each: impl FnMut(&OsStr, Option<FileType>, Option<u64>) -> std::ops::ControlFlow<()>,
    ) -> io::Result<()> {
        unsupported()
    }
}
