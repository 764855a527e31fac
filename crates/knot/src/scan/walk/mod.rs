//! The tree walk under the scan: a generic parallel walk over directories that hands
//! every entry it meets (name, path, type, file id, depth) to a [`Filter`], as ripgrep's
//! `ignore` sits on a directory walk. The link scan is one filter on top
//! (`scan/links.rs`); hard-link siblings, `fix` and a tree copy are meant to be others.
//!
//! A [`WalkBuilder`] holds what the walk itself decides (roots, `follow`, `xdev`, threads,
//! the budget of open directories, progress); [`WalkBuilder::build`] gives a sequential
//! iterator ([`Sequential`]) and [`WalkBuilder::run_parallel`] runs one visitor per
//! thread. A filter sends what it wants reported through a [`Sink`], and tells the walk
//! with [`Next`] whether to go into a directory or follow a link. Errors (a directory
//! that cannot be read, a loop met with `follow`) travel in the same stream as the items.
//!
//! A unit of work is a [`Job`]: one directory to open and read. A job opens its directory
//! relative to an [`Anchor`], an open ancestor directory, usually its parent. Anchors are
//! shared by the jobs that need them and closed when the last one is done, and the walk
//! keeps at most `max_open` of them; past half of that, only every `STEP_SPACING`-th level
//! keeps one, and past all of it, a job walks down from the nearest anchor through the
//! recorded [`Step`]s, checking each directory's (device, inode) on the way.
//!
//! Everything platform-specific goes through `sys::Dir`, whose calls all take an open
//! directory and a name. On Unix they are `*at` calls on the directory's descriptor. On
//! Windows the listing is read through the directory's handle, but Win32 cannot open
//! relative to a handle, so a child is opened by the parent's path and its name; the
//! parent is held open without `FILE_SHARE_DELETE`, so that path cannot be renamed or
//! replaced while the walk uses it (`sys/windows/dir.rs`).

use std::cell::OnceCell;
use std::collections::{HashSet, VecDeque};
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use super::{Progress, WalkState};
use crate::error::{Error, ErrorKind, Op, Result};
use crate::link::Status;
use crate::sys::{self, Dir, DirReader, FileType, Meta};
use crate::sys::{Backend as _, Directory as _, Reader as _};

mod builder;
mod jobs;
mod parallel;
mod sequential;
mod visited;
mod walker;

use builder::Config;
pub(crate) use builder::WalkBuilder;
use jobs::*;
use parallel::run_parallel;
pub(crate) use sequential::Sequential;
use visited::Visited;
use walker::*;

/// Past half the budget of open directories, keep one only every this many levels, so a
/// reopen walks down at most this many directories.
const STEP_SPACING: usize = 16;

/// Which file an entry is, whatever path names it: (device, inode) on Unix, (volume
/// serial number, file id) on Windows. Two paths name the same file exactly when their
/// ids are equal (while both exist: a system may give a deleted file's id to a new one).
///
/// # Platform behavior
/// The index is a `u128` everywhere because ReFS file ids are 128 bits wide
/// (`FILE_ID_INFO`); on Unix and NTFS it holds a 64-bit inode or file id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId {
    device: u64,
    index: u128,
}

impl FileId {
    /// The file system: `st_dev` on Unix, the volume serial number on Windows.
    pub fn device(self) -> u64 {
        self.device
    }

    /// The file within its file system: `st_ino` on Unix, the file id on Windows.
    pub fn index(self) -> u128 {
        self.index
    }

    /// The id a stat call reported.
    pub(crate) fn of(meta: &Meta) -> FileId {
        FileId {
            device: meta.id.0,
            index: meta.id.1,
        }
    }
}

impl fmt::Display for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.device, self.index)
    }
}

/// What a [`Filter`] tells the walk to do with the entry it was shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Nothing more: do not go into it (for a directory, prune it).
    Skip,
    /// Walk into it, if it is a real directory.
    Descend,
    /// Walk into the directory this link leads to, the one with this id, if the walk
    /// follows links (in the next round: see [`Visited`]).
    Follow(FileId),
    /// Stop reading this directory; the filter's sink has told the walk to stop.
    Quit,
}

/// What a walk does with each entry: decides what to report of it (through the
/// [`Sink`]) and whether to go into it. Shared by every thread of a parallel walk.
pub(crate) trait Filter: Sync {
    /// What the filter reports.
    type Item: Send;

    /// Called with every entry the walk meets: each root first (a root directory before
    /// it is read, so the filter may prune it), then everything each directory lists but
    /// `.` and `..`.
    fn visit(&self, entry: &DirEntry<'_>, sink: &mut Sink<'_, '_, Self::Item>) -> Next;
}

/// A filter the caller keeps, to read what it gathered once the walk is done.
impl<F: Filter + ?Sized> Filter for &F {
    type Item = F::Item;

    fn visit(&self, entry: &DirEntry<'_>, sink: &mut Sink<'_, '_, F::Item>) -> Next {
        (**self).visit(entry, sink)
    }
}

/// One entry the walk met, as a [`Filter`] sees it: what the listing said, and calls that
/// ask the system more about it, relative to the open directory that lists it.
pub(crate) struct DirEntry<'a> {
    /// The open directory to ask about the entry: the one that lists it, or for a root
    /// directory, the root itself (asked about `.`).
    dir: &'a Dir,
    /// The name to ask `dir` about.
    at: &'a OsStr,
    /// The path of the directory that lists it; the entry's path is that joined with
    /// `at`, unless `own_path` says otherwise (a root).
    dir_path: &'a Path,
    own_path: Option<&'a Path>,
    path: OnceCell<PathBuf>,
    ty: FileType,
    depth: usize,
    /// The entry's own `lstat`, where the walk made one (`DT_UNKNOWN`, a root that is not
    /// a directory).
    meta: Option<Meta>,
    /// The inode number the listing gave (`d_ino`; on Windows the file id).
    ino: Option<u64>,
}

impl DirEntry<'_> {
    /// The path: the root joined with the names below it, as `find` prints it. Built on
    /// the first call (most entries never need it).
    pub(crate) fn path(&self) -> &Path {
        match self.own_path {
            Some(path) => path,
            None => self.path.get_or_init(|| self.dir_path.join(self.at)),
        }
    }

    fn into_path(self) -> PathBuf {
        match self.own_path {
            Some(path) => path.to_path_buf(),
            None => self
                .path
                .into_inner()
                .unwrap_or_else(|| self.dir_path.join(self.at)),
        }
    }

    /// The path of the directory that lists the entry, as [`DirEntry::path`] begins (for a
    /// root, the root's own path). Borrowed: no path is built.
    pub(crate) fn dir_path(&self) -> &Path {
        self.dir_path
    }

    /// The type, not following a link.
    pub(crate) fn file_type(&self) -> FileType {
        self.ty
    }

    /// 0 for a root, 1 for what a root lists, and so on.
    pub(crate) fn depth(&self) -> usize {
        self.depth
    }

    /// The open directory that lists the entry and the name it lists it by, for the
    /// `*at` calls of `sys::Dir`.
    pub(crate) fn dir_and_name(&self) -> (&Dir, &OsStr) {
        (self.dir, self.at)
    }

    /// The entry's metadata, not following a link (one `fstatat` unless the walk made it).
    pub(crate) fn lstat(&self) -> io::Result<Meta> {
        match self.meta {
            Some(meta) => Ok(meta),
            None => self.dir.stat_at(self.at, false),
        }
    }

    /// The inode number as the directory listing gave it (`d_ino` on Unix; on Windows the
    /// file id, where the listing has one that fits 64 bits), read without a stat: `None`
    /// for a root and where the listing does not say. On most file systems it is the
    /// entry's `st_ino`, but not on all (overlayfs may differ): a match is a candidate,
    /// to be confirmed with [`DirEntry::file_id`].
    pub(crate) fn ino(&self) -> Option<u64> {
        self.ino
    }

    /// Which file the entry is, not following a link.
    pub(crate) fn file_id(&self) -> io::Result<FileId> {
        self.lstat().map(|meta| FileId::of(&meta))
    }
}

/// Where a [`Filter`] sends what it reports: to the visitor of the thread that read the
/// entry. Counts what it sends, for [`Progress`], and remembers a `Quit`.
pub(crate) struct Sink<'e, 'v, T> {
    emit: &'e mut Emit<'v, T>,
    quit: &'e AtomicBool,
    found: u64,
}

impl<T> Sink<'_, '_, T> {
    /// Hands one item or error to the visitor; what the visitor answers.
    pub(crate) fn send(&mut self, item: Result<T>) -> WalkState {
        if item.is_ok() {
            self.found += 1;
        }
        let state = (self.emit)(item);
        if state == WalkState::Quit {
            self.quit.store(true, Ordering::Relaxed);
        }
        state
    }
}

impl<T> Sink<'_, '_, T> {
    /// Runs `body`, a filter of `U`s, with a sink whose items `map` turns into this sink's
    /// (or drops): a filter built on another one, which acts on what the inner one finds
    /// while the directory that lists it is still open.
    pub(crate) fn adapt<U>(
        &mut self,
        mut map: impl FnMut(Result<U>) -> Option<Result<T>>,
        body: impl FnOnce(&mut Sink<'_, '_, U>) -> Next,
    ) -> Next {
        let quit = self.quit;
        let mut emit = |item: Result<U>| match map(item) {
            Some(item) => self.send(item),
            None => WalkState::Continue,
        };
        let mut inner = Sink {
            emit: &mut emit,
            quit,
            found: 0,
        };
        body(&mut inner)
    }
}

/// A visitor as the walk calls it.
pub(crate) type Emit<'a, T> = dyn FnMut(Result<T>) -> WalkState + 'a;

/// The closure form of a visitor of a parallel walk, made once per thread.
pub(crate) type BoxVisitor<'s, T> = Box<dyn FnMut(Result<T>) -> WalkState + Send + 's>;

#[cfg(all(test, unix))]
mod tests;
