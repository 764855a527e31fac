//! `knot rm --tree`: a directory tree removed without following a link anywhere in it.
//!
//! One walk lists what is not a plain file or directory (every link, every mount point),
//! then the tree is removed (below), or, in a dry run, nothing. Every walk goes through
//! held directories, as std's `remove_dir_all` does since CVE-2022-21658: each directory is
//! opened from the one above it without following a link (`openat` `O_NOFOLLOW |
//! O_DIRECTORY`; on Windows relative to the parent's handle, not following a reparse
//! point), checked to be on the tree's own mount and to be the directory the listing
//! named (its inode), and everything in it is removed through that descriptor; the
//! directory itself goes last, from the one above. A directory swapped for a link
//! meanwhile fails to open (`ELOOP`, `ENOTDIR`) and is never gone through; a link is
//! removed as a link, never followed.
//!
//! A mount point inside the tree (another device, or a bind mount of the same file
//! system: Linux's mount id tells them apart) is refused and left whole, with the
//! directories above it; the rest of the tree is removed.
//!
//! The removal itself is two passes. The first, on one thread per core, removes every
//! file and link, each directory opened and checked as above and emptied of all but its
//! directories: `unlinkat` is bound by the system call, and directories far apart are
//! emptied at once (`rm -rf` runs on one thread). The second, on one thread, goes down
//! the directories that are left, removes whatever the first could not (and reports
//! it), and removes each directory, deepest first.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use crate::change::ChangeMode;
use crate::error::{Error, ErrorKind, Op, Result};
use crate::inspect::inspect_at;
use crate::link::{Flavour, Found, Kind, Link};
use crate::sys::{self, At, Dir, DirReader, FileType};
use crate::sys::{Backend as _, Directory as _, Reader as _};

/// What a tree removal does with an entry it met that is no plain file or directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TreeAction {
    /// A link, removed as a link (never what it leads to).
    Removed,
    /// A link that would be removed as a link (a dry run).
    WouldRemove,
    /// A mount point: not entered, not removed; nor are the directories above it.
    Refused,
}

impl TreeAction {
    /// The word in JSON output: `removed`, `would-remove`, `refused`.
    pub fn name(self) -> &'static str {
        match self {
            TreeAction::Removed => "removed",
            TreeAction::WouldRemove => "would-remove",
            TreeAction::Refused => "refused",
        }
    }
}

/// An entry of a tree being removed that is no plain file or directory: a link, or a
/// mount point. Each is reported before anything is removed.
#[derive(Debug)]
#[non_exhaustive]
pub struct Met {
    /// Its scan record: a link as `knot scan` reads it; a mount point as a directory of
    /// kind [`Kind::MountPoint`].
    pub link: Link,
    /// What is done with it.
    pub action: TreeAction,
    /// Why it is refused ([`ErrorKind::MountPointInTree`]).
    pub error: Option<Error>,
}

/// What a tree removal removed (or, in a dry run, would remove).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TreeRemoved {
    /// Files (and special files): every name of them.
    pub files: u64,
    /// Directories, the tree's own included.
    pub dirs: u64,
    /// Links, each removed as a link.
    pub links: u64,
    /// Mount points refused.
    pub refused: u64,
    /// Entries that could not be removed (each was reported).
    pub errors: u64,
}

/// Removes the directory `path` and everything in it, never following a link: links in
/// it are removed as links, and mount points in it are refused and left whole.
///
/// `each` is called first with every link and mount point in the tree, before anything
/// is removed (in a dry run, that is all it does), then with every error met while
/// removing; the removal goes on past them.
///
/// # Errors
/// `path` itself is refused before anything is removed where it is a link
/// ([`ErrorKind::TreeIsALink`]: `knot rm` removes the link), not a directory
/// ([`ErrorKind::TreeNotADirectory`]), the root directory or a directory that holds the
/// current directory, `.` and `..` included ([`ErrorKind::TreeRefused`]), or cannot be
/// opened.
///
/// # Platform behavior
/// On Linux a bind mount is told from the directory it is on by its mount id (`statx`
/// `STATX_MNT_ID`); elsewhere only another device is a mount point. On Windows a junction
/// or directory symlink is removed through a handle opened on the reparse point itself,
/// and a read-only file has that attribute cleared on it alone, through the handle that
/// deletes it, where Windows does not delete it otherwise.
pub fn remove_tree<P: AsRef<Path>>(
    path: P,
    mode: ChangeMode,
    each: &mut dyn FnMut(Result<Met>),
) -> Result<TreeRemoved> {
    remove_tree_inner(path.as_ref(), mode, each)
}

fn remove_tree_inner(
    path: &Path,
    mode: ChangeMode,
    each: &mut dyn FnMut(Result<Met>),
) -> Result<TreeRemoved> {
    let fail = |err: io::Error| Error::io(Op::RemoveTree, path, err);
    let (parent, name) = tree_entry(path, Op::RemoveTree)?;
    let held = Dir::hold(parent).map_err(fail)?;
    remove_tree_at(&held, name, path, mode, each)
}

/// [`remove_tree`] of the entry `name` of the directory `held`, which the caller holds
/// (`knot move` removes the old data it set aside there, and lists the tree it moves for
/// mount points, never looking either up by its path again); `path` names it in messages
/// and reports.
pub(crate) fn remove_tree_at(
    held: &Dir,
    name: &OsStr,
    path: &Path,
    mode: ChangeMode,
    each: &mut dyn FnMut(Result<Met>),
) -> Result<TreeRemoved> {
    let fail = |err: io::Error| Error::io(Op::RemoveTree, path, err);
    let meta = held.stat_at(name, false).map_err(fail)?;
    let what = match meta.ty {
        FileType::Dir => None,
        FileType::Link => {
            return Err(Error::new(Op::RemoveTree, path, ErrorKind::TreeIsALink));
        }
        FileType::File => Some(Found::File),
        FileType::Other => Some(Found::Special(sys::Os::special(path, false))),
    };
    if let Some(what) = what {
        return Err(Error::new(
            Op::RemoveTree,
            path,
            ErrorKind::TreeNotADirectory { what },
        ));
    }
    let root = held.open_at(name, false).map_err(fail)?;
    let mut tree = Tree {
        check: Check {
            dev: root.meta().map_err(fail)?.id.0,
            mount_id: root.mount_id().map_err(fail)?,
            ino_listed: sys::Os::listed_ino_is_st_ino(path),
        },
        max_held: sys::Os::max_held_dirs(),
        mode,
        reader: DirReader::new(),
        refused: HashSet::new(),
        counts: TreeRemoved::default(),
    };
    let listed = root.meta().map_err(fail)?.id;
    tree.list(root, path, each);
    if mode == ChangeMode::DryRun {
        tree.counts.dirs += 1;
        return Ok(tree.counts);
    }
    // Opened again for each pass, to be read from the start, and checked to be the tree
    // listed.
    let reopen = || {
        let root = held.open_at(name, false).map_err(fail)?;
        if root.meta().map_err(fail)?.id != listed {
            let kind = ErrorKind::ReplacedDuringRemoval;
            return Err(Error::new(Op::RemoveTree, path, kind));
        }
        Ok(root)
    };
    tree.counts = TreeRemoved {
        refused: tree.counts.refused,
        ..TreeRemoved::default()
    };
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let (files, links) = unlink_files(&tree.check, Arc::new(reopen()?), path, threads);
    tree.counts.files += files;
    tree.counts.links += links;
    if !tree.remove(reopen()?, path, each) {
        match held.remove_dir_at(name) {
            Ok(()) => tree.counts.dirs += 1,
            Err(err) => tree.failed(each, Error::io(Op::RemoveTree, path, err)),
        }
    }
    Ok(tree.counts)
}

/// The directory that holds the tree `path` and the tree's name in it; refused where
/// `path` names no entry of its own that may go (`/`, `.`, `..`, an ancestor of the
/// current directory). A trailing separator is dropped: `l/` names the link `l`, which
/// is refused as a link, never the directory it leads to. `op` is the operation refused
/// (a tree removal, a move).
pub(crate) fn tree_entry(path: &Path, op: Op) -> Result<(&Path, &OsStr)> {
    let refused = |holds_current| Error::new(op, path, ErrorKind::TreeRefused { holds_current });
    let last = path.components().next_back();
    // `d/.` names `d` to `components`, which drops a `.` after the first name.
    let bytes = path.as_os_str().as_encoded_bytes();
    let ends_in_dot = matches!(bytes, [.., sep, b'.'] if std::path::is_separator(char::from(*sep)));
    if matches!(last, Some(Component::CurDir | Component::ParentDir)) || ends_in_dot {
        return Err(refused(true));
    }
    let (Some(Component::Normal(name)), Some(parent)) = (last, path.parent()) else {
        return Err(refused(false));
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    // The current directory inside the tree: removing it would pull the ground from
    // under the shell (rm refuses `.` and `..` for the same reason).
    if let (Ok(cwd), Ok(real)) = (std::env::current_dir(), std::fs::canonicalize(parent))
        && std::fs::canonicalize(cwd).is_ok_and(|cwd| cwd.starts_with(real.join(name)))
    {
        return Err(refused(true));
    }
    Ok((parent, name))
}

/// One entry a directory listed: its name, its type where the listing said, and its
/// inode number (`d_ino`).
struct Entry {
    name: OsString,
    ty: Option<FileType>,
    ino: Option<u64>,
}

/// A directory below the tree's, opened from the one above.
enum Below {
    Dir(Dir),
    /// Another file system, or a bind mount.
    MountPoint,
    /// Not the directory the listing named.
    Replaced,
}

/// A directory on the way down, with the entries it listed not yet removed: held, but
/// for the shallowest levels of a tree deeper than [`Tree::max_held`].
struct Level {
    dir: Option<Dir>,
    /// Its identity (device, inode): checked when it is held again through `..`.
    id: (u64, u128),
    path: PathBuf,
    name: OsString,
    left: Vec<Entry>,
    /// Something in it stays (a mount point, an entry that could not be removed): it is
    /// not removed, nor are the directories above it.
    keep: bool,
}

/// What a directory of the tree is checked against when it is opened.
struct Check {
    /// The tree's device and mount id: a directory on another is a mount point.
    dev: u64,
    mount_id: Option<u64>,
    /// Whether the listing's inode numbers are the directories' own (not on overlayfs).
    ino_listed: bool,
}

impl Check {
    /// Opens the directory `entry` of `dir`, never following a link there, and checks it
    /// is on the tree's mount and is the directory listed.
    fn open_below(&self, dir: &Dir, entry: &Entry) -> io::Result<Below> {
        let below = dir.open_at(&entry.name, false)?;
        let meta = below.meta()?;
        if meta.id.0 != self.dev || below.mount_id()? != self.mount_id {
            return Ok(Below::MountPoint);
        }
        if self.ino_listed
            && let Some(ino) = entry.ino
            && u128::from(ino) != meta.id.1
        {
            return Ok(Below::Replaced);
        }
        Ok(Below::Dir(below))
    }
}

/// One tree being listed and removed.
struct Tree {
    check: Check,
    /// How many directories may be held at once, one per level.
    max_held: usize,
    mode: ChangeMode,
    reader: DirReader,
    /// The mount points reported by the listing, not reported again.
    refused: HashSet<PathBuf>,
    counts: TreeRemoved,
}

impl Tree {
    fn failed(&mut self, each: &mut dyn FnMut(Result<Met>), err: Error) {
        self.counts.errors += 1;
        each(Err(err));
    }

    /// The entries of `dir`.
    fn read(&mut self, dir: &Dir) -> io::Result<Vec<Entry>> {
        let mut entries = Vec::new();
        self.reader.read(dir, |name, ty, ino| {
            entries.push(Entry {
                name: name.to_os_string(),
                ty,
                ino,
            });
            std::ops::ControlFlow::Continue(())
        })?;
        Ok(entries)
    }

    /// The type of `entry` of `dir`: the listing's, else one `lstat`.
    fn type_of(dir: &Dir, entry: &Entry) -> io::Result<FileType> {
        match entry.ty {
            Some(ty) => Ok(ty),
            None => Ok(dir.stat_at(&entry.name, false)?.ty),
        }
    }

    /// The first walk: every link and mount point reported, nothing removed; in a dry
    /// run, the entries counted and errors reported too. A directory found waits on the
    /// stack as a name in the one above, opened when its turn comes, so the directories
    /// held are those with a directory still to list: about the depth of the tree.
    fn list(&mut self, root: Dir, path: &Path, each: &mut dyn FnMut(Result<Met>)) {
        let dry_run = self.mode == ChangeMode::DryRun;
        let mut stack = Vec::new();
        self.list_dir(&Arc::new(root), path, &mut stack, each);
        while let Some(job) = stack.pop() {
            let path = job.path;
            match self.check.open_below(&job.parent, &job.entry) {
                Ok(Below::Dir(below)) => {
                    drop(job.parent);
                    self.counts.dirs += 1;
                    self.list_dir(&Arc::new(below), &path, &mut stack, each);
                }
                Ok(Below::MountPoint) => {
                    self.counts.refused += 1;
                    each(Ok(mount_point(&path)));
                    self.refused.insert(path);
                }
                Ok(Below::Replaced) if dry_run => {
                    let kind = ErrorKind::ReplacedDuringRemoval;
                    self.failed(each, Error::new(Op::RemoveTree, &path, kind));
                }
                Err(err) if dry_run => {
                    self.failed(each, Error::io(Op::RemoveTree, &path, err));
                }
                // Met again, and reported, by the removal.
                Ok(Below::Replaced) | Err(_) => {}
            }
        }
    }

    /// Lists the directory `dir` (at `dir_path`) for [`Tree::list`]: its links reported,
    /// its directories put on `stack`.
    fn list_dir(
        &mut self,
        dir: &Arc<Dir>,
        dir_path: &Path,
        stack: &mut Vec<Job>,
        each: &mut dyn FnMut(Result<Met>),
    ) {
        let dry_run = self.mode == ChangeMode::DryRun;
        let entries = match self.read(dir) {
            Ok(entries) => entries,
            Err(err) => {
                if dry_run {
                    self.failed(each, Error::io(Op::RemoveTree, dir_path, err));
                }
                return;
            }
        };
        for entry in entries {
            let path = dir_path.join(&entry.name);
            let ty = match Self::type_of(dir, &entry) {
                Ok(ty) => ty,
                Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
                Err(err) => {
                    if dry_run {
                        self.failed(each, Error::io(Op::RemoveTree, &path, err));
                    }
                    continue;
                }
            };
            match ty {
                FileType::Link => {
                    self.counts.links += 1;
                    let action = if dry_run {
                        TreeAction::WouldRemove
                    } else {
                        TreeAction::Removed
                    };
                    match inspect_at(At::new(dir, &entry.name, &path)) {
                        Ok(link) => each(Ok(Met {
                            link,
                            action,
                            error: None,
                        })),
                        Err(err) => each(Err(err.with_op(Op::RemoveTree))),
                    }
                }
                FileType::Dir => stack.push(Job {
                    parent: Arc::clone(dir),
                    entry,
                    path,
                }),
                FileType::File | FileType::Other => self.counts.files += 1,
            }
        }
    }

    /// The second walk: everything below `root` (the tree, open) removed, deepest first,
    /// each directory through its held descriptor. Without recursion, whatever the
    /// depth: the directories on the way down are kept on a stack, at most
    /// [`Tree::max_held`] of them open (the deepest); one let go of is opened again
    /// through `..` of the one below it once that is emptied, and refused unless it is
    /// the same directory (as `copy --mirror` removes a tree). Whether something in the
    /// tree stays, and the tree with it.
    fn remove(&mut self, root: Dir, path: &Path, each: &mut dyn FnMut(Result<Met>)) -> bool {
        let mut stack = Vec::new();
        match self.level(root, path.to_path_buf(), OsString::new()) {
            Ok(level) => stack.push(level),
            Err(err) => {
                self.failed(each, err);
                return true;
            }
        }
        // The shallowest level held: every level from it down is.
        let mut low = 0;
        while let Some(top) = stack.last_mut() {
            let Some(entry) = top.left.pop() else {
                let Some(done) = stack.pop() else { break };
                let at = stack.len().saturating_sub(1);
                let Some(parent) = stack.last_mut() else {
                    return done.keep;
                };
                if done.keep {
                    parent.keep = true;
                }
                if parent.dir.is_none() {
                    // Let go of on the way down: held again through `..`.
                    match up(&done) {
                        Ok(up) if up.meta().is_ok_and(|meta| meta.id == parent.id) => {
                            parent.dir = Some(up);
                            low = at;
                        }
                        found => {
                            let err = match found {
                                Err(err) => Error::io(Op::RemoveTree, &parent.path, err),
                                Ok(_) => {
                                    let kind = ErrorKind::ReplacedDuringRemoval;
                                    Error::new(Op::RemoveTree, &parent.path, kind)
                                }
                            };
                            self.failed(each, err);
                            // Nothing above can be reached, nor removed.
                            return true;
                        }
                    }
                }
                if done.keep {
                    continue;
                }
                drop(done.dir);
                let Some(dir) = parent.dir.as_ref() else {
                    unreachable!("held just now")
                };
                match dir.remove_dir_at(&done.name) {
                    Ok(()) => self.counts.dirs += 1,
                    Err(err) => {
                        parent.keep = true;
                        self.failed(each, Error::io(Op::RemoveTree, &done.path, err));
                    }
                }
                continue;
            };
            let Some(dir) = top.dir.as_ref() else {
                unreachable!("the deepest level is always held")
            };
            let path = top.path.join(&entry.name);
            let removed = match Self::type_of(dir, &entry) {
                Ok(FileType::Link) => dir
                    .remove_link_at(&entry.name, &path)
                    .map(|()| self.counts.links += 1),
                Ok(FileType::File | FileType::Other) => dir
                    .remove_file_at(&entry.name)
                    .map(|()| self.counts.files += 1),
                Ok(FileType::Dir) => match self.check.open_below(dir, &entry) {
                    Ok(Below::Dir(below)) => {
                        match self.level(below, path, entry.name) {
                            Ok(level) => {
                                stack.push(level);
                                if stack.len() - low > self.max_held {
                                    stack[low].dir = None;
                                    low += 1;
                                }
                            }
                            Err(err) => {
                                top.keep = true;
                                self.failed(each, err);
                            }
                        }
                        continue;
                    }
                    Ok(Below::MountPoint) => {
                        top.keep = true;
                        if !self.refused.contains(&path) {
                            self.counts.refused += 1;
                            each(Ok(mount_point(&path)));
                        }
                        continue;
                    }
                    Ok(Below::Replaced) => {
                        top.keep = true;
                        let kind = ErrorKind::ReplacedDuringRemoval;
                        self.failed(each, Error::new(Op::RemoveTree, &path, kind));
                        continue;
                    }
                    Err(err) => Err(err),
                },
                Err(err) => Err(err),
            };
            match removed {
                Ok(()) => {}
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(err) => {
                    let Some(top) = stack.last_mut() else {
                        unreachable!("the entry's directory is held")
                    };
                    top.keep = true;
                    self.failed(each, Error::io(Op::RemoveTree, &path, err));
                }
            }
        }
        true
    }

    /// The directory `dir`, held, with its entries listed.
    fn level(&mut self, dir: Dir, path: PathBuf, name: OsString) -> Result<Level> {
        let fail = |err| Error::io(Op::RemoveTree, &path, err);
        let left = self.read(&dir).map_err(fail)?;
        let id = dir.meta().map_err(fail)?.id;
        Ok(Level {
            dir: Some(dir),
            id,
            path,
            name,
            left,
            keep: false,
        })
    }
}

/// The directory above the level `done`, opened through its `..`.
fn up(done: &Level) -> io::Result<Dir> {
    match done.dir.as_ref() {
        Some(dir) => dir.parent(),
        None => Err(io::ErrorKind::NotFound.into()),
    }
}

/// A directory to empty of its files and links: the entry `entry` of `parent`.
struct Job {
    parent: Arc<Dir>,
    entry: Entry,
    path: PathBuf,
}

/// The jobs not yet taken, and how many threads are at work on one (which may add more).
struct Queue {
    state: Mutex<(Vec<Job>, usize)>,
    changed: Condvar,
}

impl Queue {
    /// The next job, or `None` once there are none and no thread can add one.
    fn take(&self) -> Option<Job> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(job) = state.0.pop() {
                state.1 += 1;
                return Some(job);
            }
            if state.1 == 0 {
                self.changed.notify_all();
                return None;
            }
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// A job done, with the jobs it found.
    fn done(&self, found: Vec<Job>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.0.extend(found);
        state.1 -= 1;
        self.changed.notify_all();
    }
}

/// The first pass of a removal, on up to `threads` threads: every file and link below
/// `root` (the tree, open at `path`) removed, each directory opened from the one above
/// and checked ([`Check::open_below`]) before it is emptied; directories, and whatever
/// cannot be removed, left to the second pass, which meets and reports it. A job holds
/// the directory above the one it empties, opened when it is taken, so the directories
/// held are those with jobs left (newest first: about the depth of the tree), not every
/// directory found. How many files and links were removed.
fn unlink_files(check: &Check, root: Arc<Dir>, path: &Path, threads: usize) -> (u64, u64) {
    let (files, links) = (AtomicU64::new(0), AtomicU64::new(0));
    let empty = |dir: &Arc<Dir>, path: &Path, reader: &mut DirReader| -> Vec<Job> {
        let mut found = Vec::new();
        let _ = reader.read(dir, |name, ty, ino| {
            let entry = Entry {
                name: name.to_os_string(),
                ty,
                ino,
            };
            let path = path.join(name);
            let removed = match Tree::type_of(dir, &entry) {
                Ok(FileType::Link) => dir.remove_link_at(name, &path).map(|()| &links),
                Ok(FileType::File | FileType::Other) => dir.remove_file_at(name).map(|()| &files),
                Ok(FileType::Dir) => {
                    found.push(Job {
                        parent: Arc::clone(dir),
                        entry,
                        path,
                    });
                    return std::ops::ControlFlow::Continue(());
                }
                Err(err) => Err(err),
            };
            if let Ok(count) = removed {
                count.fetch_add(1, Ordering::Relaxed);
            }
            std::ops::ControlFlow::Continue(())
        });
        found
    };
    let first = empty(&root, path, &mut DirReader::new());
    drop(root);
    let queue = Queue {
        state: Mutex::new((first, 0)),
        changed: Condvar::new(),
    };
    let work = || {
        let mut reader = DirReader::new();
        while let Some(job) = queue.take() {
            let found = match check.open_below(&job.parent, &job.entry) {
                Ok(Below::Dir(dir)) => {
                    drop(job.parent);
                    empty(&Arc::new(dir), &job.path, &mut reader)
                }
                _ => Vec::new(),
            };
            queue.done(found);
        }
    };
    std::thread::scope(|scope| {
        crate::threads::start_threads(scope, threads.saturating_sub(1), || work);
        work();
    });
    (files.into_inner(), links.into_inner())
}

/// What is reported of a mount point inside the tree.
fn mount_point(path: &Path) -> Met {
    let mut link = Link::new(path.to_path_buf(), Kind::MountPoint);
    link.dir = Some(Flavour::Dir);
    Met {
        link,
        action: TreeAction::Refused,
        error: Some(Error::new(
            Op::RemoveTree,
            path,
            ErrorKind::MountPointInTree,
        )),
    }
}
