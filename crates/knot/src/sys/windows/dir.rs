//! Directories for the scanner on Windows.
//!
//! A listing comes from `FindFirstFileExW` with `FindExInfoBasic` (no 8.3 names) and
//! `FIND_FIRST_EX_LARGE_FETCH` (bigger reads from the file system): each entry brings its
//! attributes and, for a reparse point, its tag (`dwReserved0`), so the type of every entry
//! is known without opening it and only links are ever opened (DESIGN.md section 3).
//!
//! Win32 has no open-relative-to-a-handle call (that is `NtCreateFile`'s `RootDirectory`),
//! so a [`Dir`] keeps its path and opens what is below it by that path (through `\\?\`
//! when long, so depth is not limited by `MAX_PATH`). A root, and a directory reached
//! through a link, keep their final path, found through their own handle
//! (`GetFinalPathNameByHandleW`), so that the parent of a followed link's target is its
//! real parent. The handle stays open while the [`Dir`]
//! lives: it is what `meta` reports on, and a subdirectory opened without following is
//! checked through its own handle to be a directory and not a link, so a directory that
//! was replaced by a junction between the listing and the open is reported, not followed
//! (DESIGN.md promise 4).

use std::ffi::{OsStr, OsString};
use std::io;
use std::mem::MaybeUninit;
use std::ops::ControlFlow;
use std::os::windows::ffi::OsStringExt;
use std::path::{Path, PathBuf};

use super::ffi::{
    ERROR_DIRECTORY, ERROR_FILE_NOT_FOUND, ERROR_NO_MORE_FILES, FILE_ATTRIBUTE_DIRECTORY,
    FILE_ATTRIBUTE_REPARSE_POINT, FILE_READ_ATTRIBUTES, FIND_FIRST_EX_LARGE_FETCH, FindExInfoBasic,
    FindExSearchNameMatch, FindFirstFileExW, FindNextFileW, INVALID_HANDLE_VALUE, SYNCHRONIZE,
    WIN32_FIND_DATAW,
};
use super::handle::{FindHandle, Follow, Handle};
use super::{file_type, last_error_is, lstat, meta_of, os_error, read_link, stat, wide};
use crate::sys::{FileType, Meta, Stored};

/// An open directory.
#[derive(Debug)]
pub(crate) struct Dir {
    /// Its full path: the final path for a root or a followed link (`\\?\C:\...`), the
    /// parent's path and the name below it otherwise.
    path: PathBuf,
    handle: Handle,
}

fn open_dir(path: &Path, follow: Follow) -> io::Result<Dir> {
    let handle = Handle::open(path, FILE_READ_ATTRIBUTES | SYNCHRONIZE, follow)?;
    let (attributes, tag) = handle.attribute_tag()?;
    let is_dir = match follow {
        Follow::Yes => attributes & FILE_ATTRIBUTE_DIRECTORY != 0,
        // A link is not followed: it is not a directory to walk into.
        Follow::No => file_type(attributes, tag) == FileType::Dir,
    };
    if !is_dir {
        // ERROR_DIRECTORY ("The directory name is invalid"), which std reads as
        // `NotADirectory`: what the walker expects of a directory that is one no more.
        return Err(os_error(ERROR_DIRECTORY));
    }
    let path = match follow {
        // A plain directory below an open one: its path is exact as it is.
        Follow::No => path.to_path_buf(),
        // A root or a link followed: where it really is, so that `..` is the real parent.
        // Wine 8 cannot name a handle past MAX_PATH; the full path is the next best.
        Follow::Yes => match handle.final_path() {
            Ok(path) => path,
            Err(_) => crate::path::absolute(path)?,
        },
    };
    Ok(Dir { path, handle })
}

impl Dir {
    /// Opens the directory `path` names, following links: a root the user named.
    pub(crate) fn open(path: &Path) -> io::Result<Dir> {
        open_dir(path, Follow::Yes)
    }

    /// Opens the subdirectory `name`. Without `follow`, a link there is never followed:
    /// the open fails with `ERROR_DIRECTORY` (`NotADirectory`).
    pub(crate) fn open_at(&self, name: &OsStr, follow: bool) -> io::Result<Dir> {
        let follow = if follow { Follow::Yes } else { Follow::No };
        open_dir(&self.path.join(name), follow)
    }

    /// The directory above, or this one again at the root of a volume (as `/..` is `/`).
    pub(crate) fn parent(&self) -> io::Result<Dir> {
        open_dir(self.path.parent().unwrap_or(&self.path), Follow::Yes)
    }

    /// The directory itself: (volume serial, file index) and link count.
    pub(crate) fn meta(&self) -> io::Result<Meta> {
        meta_of(&self.handle, Follow::Yes)
    }

    /// What `name` is, following a link there only when asked.
    pub(crate) fn stat_at(&self, name: &OsStr, follow: bool) -> io::Result<Meta> {
        let path = self.path.join(name);
        if follow { stat(&path) } else { lstat(&path) }
    }

    /// What the link `name` stores.
    pub(crate) fn read_link_at(&self, name: &OsStr) -> io::Result<Stored> {
        read_link(&self.path.join(name))
    }

    /// The final path of what `name` leads to, shown without `\\?\` where that is exact.
    pub(crate) fn real_path_at(&self, name: &OsStr) -> io::Result<PathBuf> {
        let handle = Handle::open(&self.path.join(name), FILE_READ_ATTRIBUTES, Follow::Yes)?;
        Ok(wide::user_path(handle.final_path()?))
    }
}

/// Reads directories for the scanner.
#[derive(Debug)]
pub(crate) struct DirReader(());

impl DirReader {
    pub(crate) fn new() -> DirReader {
        DirReader(())
    }

    /// Calls `each` with the name and type of every entry but `.` and `..`. The type is
    /// always known: it comes with the listing.
    pub(crate) fn read(
        &mut self,
        dir: &Dir,
        mut each: impl FnMut(&OsStr, Option<FileType>) -> ControlFlow<()>,
    ) -> io::Result<()> {
        let pattern = wide::path(&dir.path.join("*"))?;
        let mut data = MaybeUninit::<WIN32_FIND_DATAW>::uninit();
        // SAFETY: `pattern` is NUL-terminated; `data` is writable for the
        // WIN32_FIND_DATAW that FindExInfoBasic fills; no search filter; the returned
        // handle is checked before it is owned.
        let raw = unsafe {
            FindFirstFileExW(
                pattern.as_ptr(),
                FindExInfoBasic,
                data.as_mut_ptr().cast(),
                FindExSearchNameMatch,
                std::ptr::null(),
                FIND_FIRST_EX_LARGE_FETCH,
            )
        };
        if raw == INVALID_HANDLE_VALUE {
            let err = io::Error::last_os_error();
            // The root of an empty volume has no `.` and `..` either: nothing to list.
            if last_error_is(&err, &[ERROR_FILE_NOT_FOUND]) {
                return Ok(());
            }
            return Err(err);
        }
        let find = FindHandle::new(raw);
        loop {
            // SAFETY: FindFirstFileExW or FindNextFileW succeeded, so `data` is filled.
            let entry = unsafe { data.assume_init_ref() };
            let end = entry
                .cFileName
                .iter()
                .position(|&u| u == 0)
                .unwrap_or(entry.cFileName.len());
            let name = &entry.cFileName[..end];
            let dots = name == [u16::from(b'.')] || name == [u16::from(b'.'), u16::from(b'.')];
            if !dots {
                // dwReserved0 holds the tag only when the entry is a reparse point.
                let tag = (entry.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT != 0)
                    .then_some(entry.dwReserved0);
                let ty = file_type(entry.dwFileAttributes, tag);
                let name = OsString::from_wide(name);
                if each(&name, Some(ty)).is_break() {
                    return Ok(());
                }
            }
            // SAFETY: the search handle is open; `data` is writable for one structure.
            if unsafe { FindNextFileW(find.raw(), data.as_mut_ptr()) } == 0 {
                let err = io::Error::last_os_error();
                if last_error_is(&err, &[ERROR_NO_MORE_FILES]) {
                    return Ok(());
                }
                return Err(err);
            }
        }
    }
}

/// How many directories a scan may keep open at once. Windows has no small limit on
/// handles (millions per process); this bounds the memory the walk's open directories
/// hold, as on Unix.
pub(crate) fn max_open_dirs() -> usize {
    256
}
