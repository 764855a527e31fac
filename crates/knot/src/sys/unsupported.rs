//! The backend for platforms knot does not support yet: every operation fails with a clear
//! error instead of doing something half right.

//!
//! In test builds it is compiled on every platform too, and held to the backend contract
//! (`check_backend!` in `sys/mod.rs`).

use std::io;
use std::path::{Component, Path, PathBuf};

use super::{DotDot, Meta, Place, Stored};
use crate::link::Status;

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

pub(crate) fn listed_ino_is_st_ino(_dir: &Path) -> bool {
    false
}

pub(crate) const NAMES_FROM: crate::hardlinks::Method = crate::hardlinks::Method::Walk;

pub(crate) fn hard_link_names(_path: &Path) -> io::Result<Option<Vec<std::path::PathBuf>>> {
    Ok(None)
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

    pub(crate) fn usage_at(&self, _name: &std::ffi::OsStr) -> io::Result<Meta> {
        unsupported()
    }

    pub(crate) fn read_link_at(&self, _name: &std::ffi::OsStr) -> io::Result<Stored> {
        unsupported()
    }

    pub(crate) fn hold(_path: &Path) -> io::Result<Dir> {
        unsupported()
    }

    pub(crate) fn hold_at(&self, _name: &std::ffi::OsStr) -> io::Result<Dir> {
        unsupported()
    }

    pub(crate) fn make_dir_at(&self, _name: &std::ffi::OsStr) -> io::Result<()> {
        unsupported()
    }

    pub(crate) fn real_dir(&self, _path: &Path) -> io::Result<PathBuf> {
        unsupported()
    }

    pub(crate) fn linux_path_of(&self, _target: &Path) -> Option<(PathBuf, Option<char>)> {
        None
    }

    pub(crate) fn place(&self) -> io::Result<Place> {
        unsupported()
    }

    pub(crate) fn hard_link_at(
        &self,
        _name: &std::ffi::OsStr,
        _target_dir: &Dir,
        _target_name: &std::ffi::OsStr,
    ) -> io::Result<()> {
        unsupported()
    }

    pub(crate) fn remove_link_at(&self, _name: &std::ffi::OsStr, _path: &Path) -> io::Result<()> {
        unsupported()
    }

    pub(crate) fn rename_over_at(
        &self,
        _staged: &std::ffi::OsStr,
        _name: &std::ffi::OsStr,
        _path: &Path,
    ) -> io::Result<()> {
        unsupported()
    }

    pub(crate) fn remove_name_at(&self, _name: &std::ffi::OsStr) -> io::Result<()> {
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
        _each: impl FnMut(
            &std::ffi::OsStr,
            Option<super::FileType>,
            Option<u64>,
        ) -> std::ops::ControlFlow<()>,
    ) -> io::Result<()> {
        unsupported()
    }
}

pub(crate) fn max_open_dirs() -> usize {
    64
}

pub(crate) fn max_held_dirs() -> usize {
    64
}

pub(crate) fn os_error_kind(_err: &io::Error) -> Option<crate::error::ErrorKind> {
    None
}

pub(crate) fn is_access_denied(_err: &io::Error) -> bool {
    false
}

pub(crate) fn is_remote(_path: &Path) -> bool {
    false
}

pub(crate) fn user_path(path: PathBuf) -> PathBuf {
    path
}

pub(crate) fn normalise_symlink_target(target: &Path) -> io::Result<PathBuf> {
    Ok(target.to_path_buf())
}

pub(crate) fn is_directory_entry(_path: &Path) -> bool {
    false
}

pub(crate) fn kernel_fs(_dir: &Path) -> Option<&'static str> {
    None
}

pub(crate) fn special(_path: &Path, _follow: bool) -> Option<crate::link::Special> {
    None
}

/// No place can be had ([`place`] fails), so links are never made here: `..` as the
/// portable default, folded where the path names it.
pub(crate) const DOT_DOT: DotDot = DotDot::Lexical;

pub(crate) fn real_dir(_dir: &Path) -> io::Result<PathBuf> {
    unsupported()
}

pub(crate) fn same_name(a: &Component<'_>, b: &Component<'_>) -> bool {
    a == b
}

pub(crate) fn chain_status(_path: &Path) -> Option<Status> {
    None
}
