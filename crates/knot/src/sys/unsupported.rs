//! The backend for platforms knot does not support yet: every operation fails with a clear
//! error instead of doing something half right.

use std::io;
use std::path::Path;

use super::{Junctions, Meta, Request, Stored, Written};
use crate::link::Status;

/// Where a link is to be made: nowhere, yet.
#[derive(Debug)]
pub(crate) struct Place;

impl Place {
    pub(crate) fn junctions(&self) -> Junctions {
        Junctions::Native
    }

    pub(crate) fn flavour_matters(&self) -> bool {
        true
    }
}

pub(crate) fn place(_link: &Path) -> io::Result<Place> {
    unsupported()
}

fn unsupported<T>() -> io::Result<T> {
    Err(super::error::Error::Platform.into())
}

pub(crate) fn lstat(_path: &Path) -> io::Result<Meta> {
    unsupported()
}

pub(crate) fn stat(_path: &Path) -> io::Result<Meta> {
    unsupported()
}

pub(crate) fn read_link(_path: &Path) -> io::Result<Stored> {
    unsupported()
}

pub(crate) fn symlink(_place: &Place, _request: &Request<'_>) -> io::Result<Written> {
    unsupported()
}

pub(crate) fn junction(_place: &Place, _request: &Request<'_>) -> io::Result<Written> {
    unsupported()
}

pub(crate) fn hard_link(_target: &Path, _link: &Path) -> io::Result<()> {
    unsupported()
}

pub(crate) fn rename_over(_from: &Path, _to: &Path) -> io::Result<()> {
    unsupported()
}

pub(crate) fn remove_link(_path: &Path) -> io::Result<()> {
    unsupported()
}

pub(crate) fn classify_resolve_error(_err: &io::Error) -> Status {
    Status::Unreadable
}

/// An open directory, for the scanner; none can be opened here.
#[derive(Debug)]
pub(crate) struct Dir(());

impl Dir {
    pub(crate) fn open(_path: &Path) -> io::Result<Dir> {
        unsupported()
    }

    pub(crate) fn open_at(&self, _name: &std::ffi::OsStr, _follow: bool) -> io::Result<Dir> {
        unsupported()
    }

    pub(crate) fn parent(&self) -> io::Result<Dir> {
        unsupported()
    }

    pub(crate) fn meta(&self) -> io::Result<Meta> {
        unsupported()
    }

    pub(crate) fn stat_at(&self, _name: &std::ffi::OsStr, _follow: bool) -> io::Result<Meta> {
        unsupported()
    }

    pub(crate) fn read_link_at(&self, _name: &std::ffi::OsStr) -> io::Result<Stored> {
        unsupported()
    }

    pub(crate) fn real_path_at(&self, _name: &std::ffi::OsStr) -> io::Result<std::path::PathBuf> {
        unsupported()
    }
}

/// Reads directories for the scanner; nothing to read here.
#[derive(Debug)]
pub(crate) struct DirReader(());

impl DirReader {
    pub(crate) fn new() -> DirReader {
        DirReader(())
    }

    pub(crate) fn read(
        &mut self,
        _dir: &Dir,
        _each: impl FnMut(&std::ffi::OsStr, Option<super::FileType>) -> std::ops::ControlFlow<()>,
    ) -> io::Result<()> {
        unsupported()
    }
}

pub(crate) fn max_open_dirs() -> usize {
    64
}
