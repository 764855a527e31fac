//! Directories for the scanner on Windows.
//!
//! A listing is read through the directory's own handle, the one that was checked to be
//! a directory and not a link: `GetFileInformationByHandleEx` with
//! `FileIdExtdDirectoryInfo` (Windows 10 and later, NTFS and ReFS), or where that class is
//! not known `FileIdBothDirectoryInfo` (every file system, and Wine 8, which has only
//! this one). Each entry brings its attributes and, for a reparse point, its tag, so the
//! type of every entry is known without opening it and only links are ever opened
//! (DESIGN.md section 3: this is what `FindFirstFileExW` reads, through a handle of its
//! own opened by path).
//!
//! Win32 has no open-relative-to-a-handle call (that is `NtCreateFile`'s `RootDirectory`,
//! an NT call knot does not make), so a [`Dir`] keeps its path and opens what is below it
//! by that path (through `\\?\` when long, so depth is not limited by `MAX_PATH`). What
//! keeps that path true is how a [`Dir`]'s handle is opened: without `FILE_SHARE_DELETE`,
//! so while knot holds a directory no one can rename or delete it, or put a junction in
//! its place; and Windows refuses to rename a directory with anything below it open ("the
//! folder or a file in it is open in another program"), so the directories above an open
//! one stay where they are too. (Wine 8 keeps the first rule but not the second.) Only the
//! last name of a path below an open directory can change, and an entry opened by that
//! name is checked through its own handle: a subdirectory opened without following is a
//! directory and not a link, or it is reported (`NotADirectory`) and not walked into
//! (DESIGN.md promise 4).
//!
//! A root, and a directory reached through a link, keep their final path, found through
//! their own handle (`GetFinalPathNameByHandleW`), so that the parent of a followed link's
//! target is its real parent. The handle stays open while the [`Dir`] lives: it is what
//! `meta` reports on and what the listing reads.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io;
use std::ops::ControlFlow;
use std::os::windows::ffi::OsStringExt;
use std::path::{Path, PathBuf};

use super::ffi::{
    DIR_BUFFER_SIZE, DirBuffer, DirInfoLayout, ERROR_DIRECTORY, ERROR_FILE_NOT_FOUND,
    ERROR_NO_MORE_FILES, FILE_ATTRIBUTE_DIRECTORY, FILE_ATTRIBUTE_REPARSE_POINT,
    FILE_LIST_DIRECTORY, FILE_READ_ATTRIBUTES, FILE_SHARE_READ, FILE_SHARE_WRITE,
    GetFileInformationByHandleEx, ID_BOTH_DIR_INFO, ID_EXTD_DIR_INFO, SYNCHRONIZE,
};
use super::handle::{Follow, Handle};
use super::{
    file_type, last_error_is, lstat, meta_of, os_error, read_link, stat, unsupported, wide,
};
use crate::sys::{FileType, Meta, Stored};

/// An open directory.
#[derive(Debug)]
pub(crate) struct Dir {
    /// Its full path: the final path for a root or a followed link (`\\?\C:\...`), the
    /// parent's path and the name below it otherwise.
    path: PathBuf,
    handle: Handle,
}

/// What a [`Dir`] is opened for: its identity (`meta`), or that and its entries too.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Identity,
    List,
}

fn open_dir(path: &Path, follow: Follow, access: Access) -> io::Result<Dir> {
    let rights = match access {
        Access::Identity => FILE_READ_ATTRIBUTES | SYNCHRONIZE,
        Access::List => FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES | SYNCHRONIZE,
    };
    // No FILE_SHARE_DELETE: the directory stays where its path says while it is open.
    let handle = Handle::open_shared(path, rights, follow, FILE_SHARE_READ | FILE_SHARE_WRITE)?;
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

impl crate::sys::Directory for Dir {
    /// Opens the directory `path` names, following links: a root the user named.
    fn open(path: &Path) -> io::Result<Dir> {
        open_dir(path, Follow::Yes, Access::List)
    }

    /// Opens the subdirectory `name`. Without `follow`, a link there is never followed:
    /// the open fails with `ERROR_DIRECTORY` (`NotADirectory`).
    fn open_at(&self, name: &OsStr, follow: bool) -> io::Result<Dir> {
        let follow = if follow { Follow::Yes } else { Follow::No };
        open_dir(&self.path.join(name), follow, Access::List)
    }

    /// The directory above, or this one again at the root of a volume (as `/..` is `/`),
    /// for its identity only: it is not opened for listing, which the directories above a
    /// root the user can read need not allow.
    fn parent(&self) -> io::Result<Dir> {
        open_dir(
            self.path.parent().unwrap_or(&self.path),
            Follow::Yes,
            Access::Identity,
        )
    }

    /// The directory itself: (volume serial, file id) and link count.
    fn meta(&self) -> io::Result<Meta> {
        meta_of(&self.handle, Follow::Yes)
    }

    /// What `name` is, following a link there only when asked.
    fn stat_at(&self, name: &OsStr, follow: bool) -> io::Result<Meta> {
        let path = self.path.join(name);
        if follow { stat(&path) } else { lstat(&path) }
    }

    /// `name` itself, not followed, with the bytes allocated to it (`FileStandardInfo`'s
    /// `AllocationSize`, which `GetFileInformationByHandle` does not give), for `du`: one
    /// open for both.
    fn usage_at(&self, name: &OsStr) -> io::Result<Meta> {
        super::usage(&self.path.join(name))
    }

    /// What the link `name` stores.
    fn read_link_at(&self, name: &OsStr) -> io::Result<Stored> {
        read_link(&self.path.join(name))
    }

    /// Opens the directory `path` names, following links, to hold it and work below it:
    /// while it is held, no one can rename or delete it (no `FILE_SHARE_DELETE`). It is
    /// opened with the right to list it all the same: an open with attribute rights only
    /// takes no part in sharing, so its share mode would hold nothing (Windows skips the
    /// share-access check for such opens; Wine 8 does the same).
    fn hold(path: &Path) -> io::Result<Dir> {
        open_dir(path, Follow::Yes, Access::List)
    }

    /// [`Dir::hold`] of the subdirectory `name`, never following a link there: the open
    /// fails with `ERROR_DIRECTORY` (`NotADirectory`).
    fn hold_at(&self, name: &OsStr) -> io::Result<Dir> {
        open_dir(&self.path.join(name), Follow::No, Access::List)
    }

    /// Makes the directory `name` here (`CreateDirectoryW`, which never follows or
    /// replaces anything at the name).
    fn make_dir_at(&self, name: &OsStr) -> io::Result<()> {
        std::fs::create_dir(self.path.join(name))
    }

    /// Where this directory really is, for computing the targets knot stores:
    /// [`super::real_dir`] of `path`, the path it was opened by (lexical, as Windows
    /// resolves `..` in a link's target).
    fn real_dir(&self, path: &Path) -> io::Result<PathBuf> {
        super::real_dir(path)
    }

    /// How links are made here: the volume that holds the directory.
    fn place(&self) -> io::Result<crate::sys::Place> {
        Ok(super::place_of(&self.path))
    }

    /// `CreateHardLinkW` of the entry `target_name` of `target_dir` as `name` here.
    fn hard_link_at(&self, name: &OsStr, target_dir: &Dir, target_name: &OsStr) -> io::Result<()> {
        super::hard_link(&target_dir.join(target_name), &self.join(name))
    }

    /// [`super::remove_link`] of the entry `name` here (`path` names it in messages).
    fn remove_link_at(&self, name: &OsStr, _path: &Path) -> io::Result<()> {
        super::remove_link(&self.join(name))
    }

    /// [`super::rename_over`] of the entry `staged` here onto `name` here.
    fn rename_over_at(&self, staged: &OsStr, name: &OsStr, _path: &Path) -> io::Result<()> {
        super::rename_over(&self.join(staged), &self.join(name))
    }

    /// Deletes the name `name` here (`DeleteFileW`): a name this process just made.
    fn remove_name_at(&self, name: &OsStr) -> io::Result<()> {
        std::fs::remove_file(self.join(name))
    }

    /// The final path of what `name` leads to, shown without `\\?\` where that is exact.
    fn real_path_at(&self, name: &OsStr) -> io::Result<PathBuf> {
        let handle = Handle::open(&self.path.join(name), FILE_READ_ATTRIBUTES, Follow::Yes)?;
        Ok(wide::user_path(handle.final_path()?))
    }
}

impl Dir {
    /// The path of the entry `name` here: how Windows names it, kept true by the handle
    /// this directory is held by (see the module's documentation).
    pub(super) fn join(&self, name: &OsStr) -> PathBuf {
        self.path.join(name)
    }
}

/// Reads directories for the scanner: one buffer per thread, and the information class
/// that the file systems met so far answer.
pub(crate) struct DirReader {
    buffer: Box<DirBuffer>,
    pub(super) layout: &'static DirInfoLayout,
}

impl fmt::Debug for DirReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirReader")
            .field("class", &self.layout.class_name)
            .finish_non_exhaustive()
    }
}

impl crate::sys::Reader for DirReader {
    type Dir = Dir;

    fn new() -> DirReader {
        DirReader {
            buffer: Box::new(DirBuffer([0; DIR_BUFFER_SIZE])),
            layout: &ID_EXTD_DIR_INFO,
        }
    }

    /// Calls `each` with the name, type and file id of every entry but `.` and `..`. The
    /// type is always known: it comes with the listing; the file id is `None` where it is
    /// wider than 64 bits (ReFS) or zero (a file system that has none).
    ///
    /// The listing is read through `dir`'s handle, from its start (the `Restart` class,
    /// so a directory read before is read whole again), until `ERROR_NO_MORE_FILES`.
    fn read(
        &mut self,
        dir: &Dir,
        mut each: impl FnMut(&OsStr, Option<FileType>, Option<u64>) -> ControlFlow<()>,
    ) -> io::Result<()> {
        let mut first = true;
        loop {
            let class = if first {
                self.layout.restart
            } else {
                self.layout.class
            };
            // SAFETY: the handle is open with FILE_LIST_DIRECTORY and synchronous (not
            // FILE_FLAG_OVERLAPPED); the buffer is DIR_BUFFER_SIZE writable bytes, aligned
            // to 8 as the entries the class writes (ffi.rs), and its size is passed.
            let ok = unsafe {
                GetFileInformationByHandleEx(
                    dir.handle.raw(),
                    class,
                    self.buffer.0.as_mut_ptr().cast(),
                    DIR_BUFFER_SIZE as u32,
                )
            };
            if ok == 0 {
                let err = io::Error::last_os_error();
                // The end; or, at the start, the root of an empty volume, which has no
                // `.` and `..` either.
                if last_error_is(&err, &[ERROR_NO_MORE_FILES])
                    || (first && last_error_is(&err, &[ERROR_FILE_NOT_FOUND]))
                {
                    return Ok(());
                }
                // A class this system or file system does not know (before Windows 10,
                // FAT, SMB, Wine 8): the one every file system has, from now on.
                if first && unsupported(&err) && self.layout.class != ID_BOTH_DIR_INFO.class {
                    self.layout = &ID_BOTH_DIR_INFO;
                    continue;
                }
                return Err(err);
            }
            first = false;
            if entries(&self.buffer.0, self.layout, &mut each)?.is_break() {
                return Ok(());
            }
        }
    }
}

/// Calls `each` with the entries of one filled buffer, laid out as `layout` says, skipping
/// `.` and `..`. Every offset and length is checked against the buffer: a malformed listing
/// is an error (`InvalidData`), never a read out of bounds.
pub(super) fn entries(
    buffer: &[u8],
    layout: &DirInfoLayout,
    mut each: impl FnMut(&OsStr, Option<FileType>, Option<u64>) -> ControlFlow<()>,
) -> io::Result<ControlFlow<()>> {
    let malformed = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "the file system returned a malformed directory listing",
        )
    };
    let u32_at = |at: usize| -> io::Result<u32> {
        let bytes = buffer.get(at..at + 4).ok_or_else(malformed)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    };
    let mut at = 0;
    loop {
        let next = u32_at(at)? as usize;
        let attributes = u32_at(at + layout.attributes)?;
        let name_bytes = u32_at(at + layout.name_length)? as usize;
        let start = at + layout.name;
        let name = buffer
            .get(start..start + name_bytes)
            .filter(|_| name_bytes.is_multiple_of(2))
            .ok_or_else(malformed)?;
        let name: Vec<u16> = name
            .chunks_exact(2)
            .map(|unit| u16::from_le_bytes([unit[0], unit[1]]))
            .collect();
        let dot = u16::from(b'.');
        if name != [dot] && name != [dot, dot] {
            // The tag is there only when the entry is a reparse point.
            let tag = if attributes & FILE_ATTRIBUTE_REPARSE_POINT != 0 {
                Some(u32_at(at + layout.tag)?)
            } else {
                None
            };
            let ty = file_type(attributes, tag);
            let id = buffer
                .get(at + layout.file_id..at + layout.file_id + layout.file_id_len)
                .ok_or_else(malformed)?;
            let (low, high) = id.split_at(8);
            let low = u64::from_le_bytes(low.try_into().map_err(|_| malformed())?);
            let id = (low != 0 && high.iter().all(|&b| b == 0)).then_some(low);
            if each(&OsString::from_wide(&name), Some(ty), id).is_break() {
                return Ok(ControlFlow::Break(()));
            }
        }
        if next == 0 {
            return Ok(ControlFlow::Continue(()));
        }
        at = at.checked_add(next).ok_or_else(malformed)?;
    }
}

/// How many directories a scan may keep open at once. Windows has no small limit on
/// handles (millions per process); this bounds the memory the walk's open directories
/// hold, as on Unix.
pub(crate) fn max_open_dirs() -> usize {
    256
}

/// How many directories `knot apply` may hold open at once: Windows has no small limit
/// on handles, so enough for the directories of a large manifest.
pub(crate) fn max_held_dirs() -> usize {
    1 << 14
}
