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
//! The listing keeps what it found in each directory (names, with the types and inode
//! numbers the directory gave: no `stat` where those say), and the removal works from
//! it in one pass, deepest first, reading no directory again: each is opened from the one
//! above and checked as above (device, mount id, inode), the entries listed in it are
//! removed, and it is removed from the one above. One found not empty then (something
//! was put in it since it was listed) is opened again, checked to be the same, read, and
//! emptied once more.
//!
//! The removal runs on one thread per core (`unlinkat` is bound by the system call, and
//! `rm -rf` runs on one): the listing tells how many entries lie below each directory, so
//! the tree is shared out as whole directories none of which is below another, largest
//! first, each reached from the tree down, every directory on the way opened and checked
//! as above. Once they are done, one thread removes what is left above them, which
//! skips the directories the threads removed or kept.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

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
    /// A link the listing found, to be removed as a link (never what it leads to) once
    /// the listing is done; its outcome is reported again, [`TreeAction::Removed`] or
    /// [`TreeAction::Failed`], when it is known.
    ToRemove,
    /// A link, removed as a link (never what it leads to).
    Removed,
    /// A link whose removal failed: it stays, and so do the directories above it.
    Failed,
    /// A link that would be removed as a link (a dry run).
    WouldRemove,
    /// A mount point: not entered, not removed; nor are the directories above it.
    Refused,
}

impl TreeAction {
    /// The word in JSON output: `to-remove`, `removed`, `failed`, `would-remove`,
    /// `refused`.
    pub fn name(self) -> &'static str {
        match self {
            TreeAction::ToRemove => "to-remove",
            TreeAction::Removed => "removed",
            TreeAction::Failed => "failed",
            TreeAction::WouldRemove => "would-remove",
            TreeAction::Refused => "refused",
        }
    }
}

/// An entry of a tree being removed that is no plain file or directory: a link, or a
/// mount point. Each is reported by the listing, before anything is removed, and each
/// link again once its removal is done or has failed.
#[derive(Debug)]
#[non_exhaustive]
pub struct Met {
    /// Its scan record: a link as `knot scan` reads it; a mount point as a directory of
    /// kind [`Kind::MountPoint`].
    pub link: Link,
    /// What is done with it, or what became of it.
    pub action: TreeAction,
    /// Why it is refused ([`ErrorKind::MountPointInTree`]), or why its removal failed.
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
    /// Links, each removed as a link (counted once removed; in a dry run, as listed).
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
/// is removed ([`TreeAction::ToRemove`], [`TreeAction::Refused`]; in a dry run,
/// [`TreeAction::WouldRemove`], and that is all it does), then, while removing, with
/// every link as its removal ends ([`TreeAction::Removed`], or [`TreeAction::Failed`]
/// with its error) and every other error met; the removal goes on past them. The
/// removal runs on several threads, so these later calls come in no set order.
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
    remove_tree_keeping(held, name, path, mode, KEEP_AT_MOST, each)
}

/// How many entries the listing keeps for the removal, about 64 bytes and a name each
/// (some 130 MiB): past that, a directory listed keeps only its directories and is read
/// again by the removal, so that a tree of any size is removed in bounded memory.
const KEEP_AT_MOST: usize = 1 << 20;

/// How many entries a link's record kept by the listing (for the report of its removal)
/// counts as against [`KEEP_AT_MOST`]: a record holds the link's path, target and more,
/// about as much as eight entries. Past the budget, a link's record is read again by the
/// removal instead.
const RECORD_WEIGHT: usize = 8;

/// [`remove_tree_at`], the listing keeping at most about `budget` entries.
fn remove_tree_keeping(
    held: &Dir,
    name: &OsStr,
    path: &Path,
    mode: ChangeMode,
    budget: usize,
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
    let (listed, mount_id) = root.identity().map_err(fail)?;
    // A tree that is itself a mount point (another file system, a bind mount) is never
    // emptied: it is refused as a mount point inside would be.
    let (above, above_mount) = held.identity().map_err(fail)?;
    if above.0 != listed.0 || above_mount != mount_id {
        return Err(Error::new(
            Op::RemoveTree,
            path,
            ErrorKind::MountPointInTree,
        ));
    }
    let check = Check {
        dev: listed.0,
        mount_id,
        ino_listed: sys::Os::listed_ino_is_st_ino(path),
    };
    let mut tree = Tree::new(check, sys::Os::max_held_dirs(), mode, budget);
    tree.list(root, path, each);
    if mode == ChangeMode::DryRun {
        tree.counts.dirs += 1;
        return Ok(tree.counts);
    }
    // Opened again, and checked to be the tree listed.
    let root = held.open_at(name, false).map_err(fail)?;
    if root.identity().map_err(fail)? != (listed, mount_id) {
        let kind = ErrorKind::ReplacedDuringRemoval;
        return Err(Error::new(Op::RemoveTree, path, kind));
    }
    let refused = tree.counts.refused;
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let units = units(&tree, threads);
    let mut counts = TreeRemoved {
        refused,
        ..TreeRemoved::default()
    };
    // The threads take the units, largest first; what they report is handed to `each`
    // by this thread as it comes (a bounded queue: a slow reader holds the removal back,
    // and nothing piles up in memory), before the removal of what is left above them
    // goes on.
    if !units.is_empty() {
        let next = AtomicUsize::new(0);
        let max_held = (tree.max_held.saturating_sub(2) / threads).max(1);
        let work = |each: &mut dyn FnMut(Result<Met>)| {
            let mut removal = Removal {
                tree: &tree,
                reader: DirReader::new(),
                max_held,
                counts: TreeRemoved::default(),
            };
            while let Some(&unit) = units.get(next.fetch_add(1, Ordering::Relaxed)) {
                removal.unit(&root, path, unit, each);
            }
            removal.counts
        };
        let done = Mutex::new(Vec::new());
        let (send, reports) = std::sync::mpsc::sync_channel(1024);
        std::thread::scope(|scope| {
            let started = crate::threads::start_threads(scope, threads, || {
                let send = send.clone();
                let (work, done) = (&work, &done);
                move || {
                    let found = work(&mut |met| {
                        let _ = send.send(met);
                    });
                    done.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(found);
                }
            });
            drop(send);
            if started == 0 {
                let found = work(&mut *each);
                done.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(found);
            }
            reports.iter().for_each(&mut *each);
        });
        for found in done.into_inner().unwrap_or_else(PoisonError::into_inner) {
            counts.files += found.files;
            counts.dirs += found.dirs;
            counts.links += found.links;
            counts.refused += found.refused;
            counts.errors += found.errors;
        }
    }
    let mut removal = Removal {
        tree: &tree,
        reader: DirReader::new(),
        max_held: tree.max_held,
        counts,
    };
    let left = removal.take(0);
    removal.remove_below(held, name, root, listed, left, path, each);
    Ok(removal.counts)
}

/// The listed directories the threads of a removal share out (none on one thread, or
/// for a small tree), largest first: each holds at most an eighth of a thread's share of
/// the tree's entries, and none is below another.
fn units(tree: &Tree, threads: usize) -> Vec<usize> {
    // Entries below each directory, its own included: a directory's come after it.
    let mut size: Vec<usize> = (0..tree.nodes.len())
        .map(|node| lock(&tree.nodes, node).len())
        .collect();
    for node in (1..size.len()).rev() {
        size[tree.above[node].0] += size[node];
    }
    let total = size.first().copied().unwrap_or(0);
    if threads < 2 || total < 256 || tree.max_held < 8 * threads {
        return Vec::new();
    }
    let most = total / (threads * 8);
    let mut units = Vec::new();
    let mut open = vec![0];
    while let Some(node) = open.pop() {
        for entry in lock(&tree.nodes, node).iter() {
            if let Listed::Dir(below) = &entry.listed {
                let below = *below;
                if size[below] <= most {
                    units.push(below);
                } else {
                    open.push(below);
                }
            }
        }
    }
    units.sort_by_key(|&node| std::cmp::Reverse(size[node]));
    units
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

/// One entry a directory listed: its name, its type (the listing's, else one `lstat`'s
/// where it took one), its inode number (`d_ino`), and, for a directory, what the
/// listing found of it.
struct Entry {
    name: OsString,
    ty: Option<FileType>,
    ino: Option<u64>,
    listed: Listed,
}

/// What the listing found of an entry of the tree: of a directory, or of a link.
enum Listed {
    /// Nothing: not a directory, or one the listing could not open or read, or not the
    /// one the directory above named. The removal opens and reads it itself (and meets
    /// whatever was wrong, and reports it). A link read so is read again by the removal
    /// for its report.
    No,
    /// A link, reported with this record: the removal reports its outcome with it.
    Link(Box<Link>),
    /// Listed: its entries are [`Tree::nodes`]`[n]`.
    Dir(usize),
    /// A mount point: reported, and refused.
    MountPoint,
    /// Removed whole by a thread of the removal ([`Removal::unit`]).
    Removed,
    /// Emptied by a thread of the removal but for what stays in it (reported).
    Kept,
}

/// A directory below the tree's, opened from the one above.
enum Below {
    /// With its identity (device, inode).
    Dir(Dir, (u64, u128)),
    /// Another file system, or a bind mount.
    MountPoint,
    /// Not the directory the listing named.
    Replaced,
}

/// A directory on the way down, with the entries not yet removed: held, but for the
/// shallowest levels of a tree deeper than [`Tree::max_held`].
struct Level {
    dir: Option<Dir>,
    /// Its identity (device, inode): checked when it is held again through `..`.
    id: (u64, u128),
    path: PathBuf,
    name: OsString,
    left: Vec<Entry>,
    /// Whether `left` was read by the removal itself (not the listing): a directory
    /// still not empty after that is reported, not read again.
    read: bool,
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
    /// Opens the directory `name` of `dir`, never following a link there, and checks it
    /// is on the tree's mount and is the directory listed (`ino`, the listing's `d_ino`).
    fn open_below(&self, dir: &Dir, name: &OsStr, ino: Option<u64>) -> io::Result<Below> {
        let below = dir.open_at(name, false)?;
        let (id, mount_id) = below.identity()?;
        if id.0 != self.dev || mount_id != self.mount_id {
            return Ok(Below::MountPoint);
        }
        if self.ino_listed
            && let Some(ino) = ino
            && u128::from(ino) != id.1
        {
            return Ok(Below::Replaced);
        }
        Ok(Below::Dir(below, id))
    }

    /// Opens the directory `name` of `dir` again, never following a link there, and
    /// checks it is still the one with the identity `id`, on the tree's mount.
    fn reopen(&self, dir: &Dir, name: &OsStr, id: (u64, u128)) -> io::Result<Below> {
        let below = dir.open_at(name, false)?;
        let (found, mount_id) = below.identity()?;
        if found.0 != self.dev || mount_id != self.mount_id {
            return Ok(Below::MountPoint);
        }
        if found != id {
            return Ok(Below::Replaced);
        }
        Ok(Below::Dir(below, id))
    }
}

/// One tree being listed and removed.
struct Tree {
    check: Check,
    /// How many directories may be held at once, one per level.
    max_held: usize,
    mode: ChangeMode,
    reader: DirReader,
    /// The entries of every directory listed, the tree's own first; the removal takes
    /// each directory's as it goes down, and reads none again unless something was put
    /// in it since.
    nodes: Vec<Mutex<Vec<Entry>>>,
    /// Where each directory listed is: the directory above (its index in `nodes`) and
    /// its entry there; the tree's own has none.
    above: Vec<(usize, usize)>,
    /// How many entries `nodes` holds, and how many it may: past that, a directory
    /// listed keeps only its directories, and the removal reads it again itself, so a
    /// tree of any size is listed in bounded memory.
    kept: usize,
    budget: usize,
    /// The mount points the listing reported, not reported again by the removal of a
    /// directory it reads itself.
    refused: HashSet<PathBuf>,
    counts: TreeRemoved,
}

/// The entries of `dir`.
fn read(reader: &mut DirReader, dir: &Dir) -> io::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    reader.read(dir, |name, ty, ino| {
        entries.push(Entry {
            name: name.to_os_string(),
            ty,
            ino,
            listed: Listed::No,
        });
        std::ops::ControlFlow::Continue(())
    })?;
    Ok(entries)
}

/// The entries `nodes[node]` holds, now.
fn lock(nodes: &[Mutex<Vec<Entry>>], node: usize) -> std::sync::MutexGuard<'_, Vec<Entry>> {
    nodes[node].lock().unwrap_or_else(PoisonError::into_inner)
}

impl Tree {
    /// A tree to list, nothing listed yet: its mount and identity checks, how many
    /// directories it may hold, and how many entries its listing may keep.
    fn new(check: Check, max_held: usize, mode: ChangeMode, budget: usize) -> Tree {
        Tree {
            check,
            max_held,
            mode,
            reader: DirReader::new(),
            nodes: Vec::new(),
            above: Vec::new(),
            kept: 0,
            budget,
            refused: HashSet::new(),
            counts: TreeRemoved::default(),
        }
    }

    fn failed(&mut self, each: &mut dyn FnMut(Result<Met>), err: Error) {
        self.counts.errors += 1;
        each(Err(err));
    }

    /// Refuses the mount point `path` met by the listing: counted, reported, and
    /// remembered, so that the removal neither enters nor reports it again.
    fn refuse(&mut self, each: &mut dyn FnMut(Result<Met>), path: PathBuf) {
        self.counts.refused += 1;
        each(Ok(mount_point(&path)));
        self.refused.insert(path);
    }

    /// The entries listed of the directory `node`, to change.
    fn node(&mut self, node: usize) -> &mut Vec<Entry> {
        self.nodes[node]
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The type of `entry` of `dir`: the listing's, else one `lstat`.
    fn type_of(dir: &Dir, entry: &Entry) -> io::Result<FileType> {
        match entry.ty {
            Some(ty) => Ok(ty),
            None => Ok(dir.stat_at(&entry.name, false)?.ty),
        }
    }

    /// The listing: every link and mount point reported, nothing removed, and what each
    /// directory holds kept for the removal; in a dry run, the entries counted and
    /// errors reported too. A directory found waits on the stack as an entry of the one
    /// above, opened when its turn comes, so the directories held are those with a
    /// directory still to list: about the depth of the tree.
    fn list(&mut self, root: Dir, path: &Path, each: &mut dyn FnMut(Result<Met>)) {
        let dry_run = self.mode == ChangeMode::DryRun;
        let mut stack = Vec::new();
        self.nodes.push(Mutex::new(Vec::new()));
        self.above.push((0, 0));
        self.list_dir(&Arc::new(root), path, 0, &mut stack, each);
        while let Some(job) = stack.pop() {
            let path = job.path;
            let opened = {
                let entry = &self.node(job.node)[job.index];
                let (name, ino) = (entry.name.clone(), entry.ino);
                self.check.open_below(&job.parent, &name, ino)
            };
            match opened {
                Ok(Below::Dir(below, _)) => {
                    drop(job.parent);
                    self.counts.dirs += 1;
                    let node = self.nodes.len();
                    self.nodes.push(Mutex::new(Vec::new()));
                    self.above.push((job.node, job.index));
                    // A directory listed whole is removed from what was kept of it; one
                    // past the budget, or unread, the removal reads itself.
                    if self.list_dir(&Arc::new(below), &path, node, &mut stack, each) {
                        self.node(job.node)[job.index].listed = Listed::Dir(node);
                    }
                }
                Ok(Below::MountPoint) => {
                    self.node(job.node)[job.index].listed = Listed::MountPoint;
                    self.refuse(each, path);
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

    /// Lists the directory `dir` (at `dir_path`) for [`Tree::list`] into `nodes[node]`:
    /// its links reported, its directories put on `stack`. Whether it was kept whole: not
    /// where it could not be read, nor past [`Tree::budget`], where only its directories
    /// are kept (for the listing to go on below them).
    fn list_dir(
        &mut self,
        dir: &Arc<Dir>,
        dir_path: &Path,
        node: usize,
        stack: &mut Vec<Job>,
        each: &mut dyn FnMut(Result<Met>),
    ) -> bool {
        let dry_run = self.mode == ChangeMode::DryRun;
        let entries = match read(&mut self.reader, dir) {
            Ok(entries) => entries,
            Err(err) => {
                if dry_run {
                    self.failed(each, Error::io(Op::RemoveTree, dir_path, err));
                }
                return false;
            }
        };
        let whole = self.kept < self.budget;
        let mut keep = Vec::with_capacity(if whole { entries.len() } else { 0 });
        let mut records = 0;
        for mut entry in entries {
            let ty = match Self::type_of(dir, &entry) {
                Ok(ty) => ty,
                Err(err) if err.kind() == io::ErrorKind::NotFound => {
                    if whole {
                        keep.push(entry);
                    }
                    continue;
                }
                Err(err) => {
                    if dry_run {
                        let path = dir_path.join(&entry.name);
                        self.failed(each, Error::io(Op::RemoveTree, &path, err));
                    }
                    if whole {
                        keep.push(entry);
                    }
                    continue;
                }
            };
            entry.ty = Some(ty);
            match ty {
                FileType::Link => {
                    let action = if dry_run {
                        TreeAction::WouldRemove
                    } else {
                        TreeAction::ToRemove
                    };
                    let path = dir_path.join(&entry.name);
                    match inspect_at(At::new(dir, &entry.name, &path)) {
                        // A file whose reparse point keeps its data: that file, removed
                        // as a file is (see `remove_tree_link_at`).
                        Ok(link) if holds_its_data(&link) => self.counts.files += 1,
                        // A volume mounted at a directory (a mount point reparse point to
                        // `\??\Volume{GUID}\`): refused as a mount point, left whole.
                        Ok(link) if link.kind == Kind::MountPoint => {
                            entry.listed = Listed::MountPoint;
                            self.refuse(each, path);
                        }
                        Ok(link) => {
                            self.counts.links += 1;
                            // Kept for the report of its removal.
                            let room = self.kept + keep.len() + (records + 1) * RECORD_WEIGHT;
                            if !dry_run && whole && room <= self.budget {
                                entry.listed = Listed::Link(Box::new(link.clone()));
                                records += 1;
                            }
                            each(Ok(Met {
                                link,
                                action,
                                error: None,
                            }));
                        }
                        Err(err) => {
                            self.counts.links += 1;
                            each(Err(err.with_op(Op::RemoveTree)));
                        }
                    }
                }
                FileType::Dir => stack.push(Job {
                    parent: Arc::clone(dir),
                    node,
                    index: keep.len(),
                    path: dir_path.join(&entry.name),
                }),
                FileType::File | FileType::Other => self.counts.files += 1,
            }
            if whole || ty == FileType::Dir {
                keep.push(entry);
            }
        }
        self.kept += keep.len() + records * RECORD_WEIGHT;
        *self.node(node) = keep;
        whole
    }
}

/// Whether `link`, read as a reparse point that is no directory, is a file whose reparse
/// point keeps its data (WOF-compressed, deduplicated, a cloud file: [`sys::holds_data`]):
/// the file itself, not a link to anything, removed and counted as a file, with no
/// record of its own. Any other reparse point (an app execution alias, a socket, a tag
/// knot does not know) is listed and counted as a link, and removed as itself too.
fn holds_its_data(link: &Link) -> bool {
    matches!(link.kind, Kind::Reparse(tag) if sys::holds_data(tag.tag()).is_some())
        && link.dir != Some(Flavour::Dir)
}

/// One thread's share of a removal: the directories it removes from what the listing
/// kept in `tree`, what it removed, and what it met (reported by the caller).
struct Removal<'t> {
    tree: &'t Tree,
    reader: DirReader,
    /// How many directories this thread may hold at once.
    max_held: usize,
    counts: TreeRemoved,
}

impl Removal<'_> {
    fn failed(&mut self, each: &mut dyn FnMut(Result<Met>), err: Error) {
        self.counts.errors += 1;
        each(Err(err));
    }

    /// Refuses the mount point `path` met by the removal: counted and reported, unless the
    /// listing met it too (where it kept only its directory's directories) and did so.
    fn refuse(&mut self, each: &mut dyn FnMut(Result<Met>), path: &Path) {
        if !self.tree.refused.contains(path) {
            self.counts.refused += 1;
            each(Ok(mount_point(path)));
        }
    }

    fn read(&mut self, dir: &Dir) -> io::Result<Vec<Entry>> {
        read(&mut self.reader, dir)
    }

    /// The entries listed of the directory `node`, taken: no other thread takes them.
    fn take(&self, node: usize) -> Vec<Entry> {
        std::mem::take(&mut *lock(&self.tree.nodes, node))
    }

    /// Removes the directory `name` of `parent` (open as `dir`, of identity `id`, at
    /// `path`) and everything below it, from its entries `left`; one found not empty at
    /// the end (something was put in it since it was listed) is opened again, checked to
    /// be the same, read, and emptied once more. Whether something in it stays, and it
    /// with it.
    #[allow(
        clippy::too_many_arguments,
        reason = "one directory, as the caller has it open, and its entries"
    )]
    fn remove_below(
        &mut self,
        parent: &Dir,
        name: &OsStr,
        dir: Dir,
        id: (u64, u128),
        left: Vec<Entry>,
        path: &Path,
        each: &mut dyn FnMut(Result<Met>),
    ) -> bool {
        let (mut dir, mut left, mut read) = (dir, left, false);
        while !self.remove(dir, id, left, read, path, each) {
            let err = match parent.remove_dir_at(name) {
                Ok(()) => {
                    self.counts.dirs += 1;
                    return false;
                }
                Err(err) if err.kind() == io::ErrorKind::DirectoryNotEmpty && !read => {
                    match self.tree.check.reopen(parent, name, id) {
                        Ok(Below::Dir(again, _)) => match self.read(&again) {
                            Ok(entries) => {
                                (dir, left, read) = (again, entries, true);
                                continue;
                            }
                            Err(err) => Error::io(Op::RemoveTree, path, err),
                        },
                        Ok(Below::MountPoint | Below::Replaced) => {
                            Error::new(Op::RemoveTree, path, ErrorKind::ReplacedDuringRemoval)
                        }
                        Err(err) => Error::io(Op::RemoveTree, path, err),
                    }
                }
                Err(err) => Error::io(Op::RemoveTree, path, err),
            };
            self.failed(each, err);
            break;
        }
        true
    }

    /// Removes the listed directory `unit` (below the tree `root`, open, at `path`):
    /// opened from the tree down, each directory on the way checked as the listing's,
    /// then removed as [`Removal::remove_below`] does, and marked in the directory above
    /// as removed or kept. One that cannot be reached so is left as it is, for the
    /// removal of what is above it to meet.
    fn unit(&mut self, root: &Dir, path: &Path, unit: usize, each: &mut dyn FnMut(Result<Met>)) {
        let tree = self.tree;
        let mut way = Vec::new();
        let mut node = unit;
        while node != 0 {
            way.push(tree.above[node]);
            node = tree.above[node].0;
        }
        let mut path = path.to_path_buf();
        let mut held: Option<Dir> = None;
        while let Some((above, index)) = way.pop() {
            let (name, ino) = {
                let entries = lock(&tree.nodes, above);
                (entries[index].name.clone(), entries[index].ino)
            };
            path.push(&name);
            let parent = held.as_ref().unwrap_or(root);
            let Ok(Below::Dir(below, id)) = tree.check.open_below(parent, &name, ino) else {
                return;
            };
            if !way.is_empty() {
                held = Some(below);
                continue;
            }
            let left = self.take(unit);
            let kept = self.remove_below(parent, &name, below, id, left, &path, each);
            lock(&tree.nodes, above)[index].listed =
                if kept { Listed::Kept } else { Listed::Removed };
            return;
        }
    }

    /// The removal: everything below `root` (the tree, open, of identity `id`, whose
    /// entries are `left`: listed, or `read` by the removal itself) removed, deepest
    /// first, each directory opened from the one above and checked as the listing's
    /// ([`Check::open_below`]), emptied of the entries the listing found in it through
    /// its held descriptor, and removed from the one above. One found not empty then
    /// (something was put in it meanwhile) is opened again, checked to be the same, read,
    /// and emptied once more. Without recursion, whatever the depth: the directories on
    /// the way down are kept on a stack, at most [`Tree::max_held`] of them open (the
    /// deepest); one let go of is opened again through `..` of the one below it once that
    /// is emptied, and refused unless it is the same directory (as `copy --mirror`
    /// removes a tree). Whether something in the tree stays, and the tree with it.
    fn remove(
        &mut self,
        root: Dir,
        id: (u64, u128),
        left: Vec<Entry>,
        read: bool,
        path: &Path,
        each: &mut dyn FnMut(Result<Met>),
    ) -> bool {
        let mut stack = vec![Level {
            dir: Some(root),
            id,
            path: path.to_path_buf(),
            name: OsString::new(),
            left,
            read,
            keep: false,
        }];
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
                        Ok(up) if up.identity().is_ok_and(|(id, _)| id == parent.id) => {
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
                let err = match dir.remove_dir_at(&done.name) {
                    Ok(()) => {
                        self.counts.dirs += 1;
                        continue;
                    }
                    // Something was put in it since it was listed.
                    Err(err) if err.kind() == io::ErrorKind::DirectoryNotEmpty && !done.read => {
                        match self.tree.check.reopen(dir, &done.name, done.id) {
                            Ok(Below::Dir(again, id)) => match self.read(&again) {
                                Ok(left) => {
                                    let level = Level {
                                        dir: Some(again),
                                        id,
                                        path: done.path,
                                        name: done.name,
                                        left,
                                        read: true,
                                        keep: false,
                                    };
                                    self.descend(&mut stack, &mut low, level);
                                    continue;
                                }
                                Err(err) => Error::io(Op::RemoveTree, &done.path, err),
                            },
                            Ok(Below::MountPoint | Below::Replaced) => {
                                let kind = ErrorKind::ReplacedDuringRemoval;
                                Error::new(Op::RemoveTree, &done.path, kind)
                            }
                            Err(err) => Error::io(Op::RemoveTree, &done.path, err),
                        }
                    }
                    Err(err) => Error::io(Op::RemoveTree, &done.path, err),
                };
                if let Some(parent) = stack.last_mut() {
                    parent.keep = true;
                }
                self.failed(each, err);
                continue;
            };
            let Some(dir) = top.dir.as_ref() else {
                unreachable!("the deepest level is always held")
            };
            let removed = match Tree::type_of(dir, &entry) {
                // A volume mount point the listing refused, and reported.
                Ok(FileType::Link) if matches!(entry.listed, Listed::MountPoint) => {
                    top.keep = true;
                    continue;
                }
                Ok(FileType::Link) => {
                    let path = top.path.join(&entry.name);
                    // The listing's record, or, for a link it did not keep, one read now.
                    let link = match entry.listed {
                        Listed::Link(link) => Some(*link),
                        _ => inspect_at(At::new(dir, &entry.name, &path)).ok(),
                    };
                    // A volume mount point: refused, and reported, by the listing (which
                    // reads every link), or here where it was put there since.
                    if let Some(link) = &link
                        && link.kind == Kind::MountPoint
                    {
                        top.keep = true;
                        self.refuse(each, &path);
                        continue;
                    }
                    let file = link.as_ref().is_some_and(holds_its_data);
                    let err = match dir.remove_tree_link_at(&entry.name, &path) {
                        Ok(()) if file => {
                            self.counts.files += 1;
                            continue;
                        }
                        Ok(()) => {
                            self.counts.links += 1;
                            if let Some(link) = link {
                                let action = TreeAction::Removed;
                                each(Ok(Met {
                                    link,
                                    action,
                                    error: None,
                                }));
                            }
                            continue;
                        }
                        // Gone meanwhile, not removed by this removal: not reported.
                        Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
                        Err(err) => Error::io(Op::RemoveTree, &path, err),
                    };
                    top.keep = true;
                    match link.filter(|_| !file) {
                        Some(link) => {
                            self.counts.errors += 1;
                            each(Ok(Met {
                                link,
                                action: TreeAction::Failed,
                                error: Some(err),
                            }));
                        }
                        None => self.failed(each, err),
                    }
                    continue;
                }
                Ok(FileType::File | FileType::Other) => dir
                    .remove_file_at(&entry.name)
                    .map(|()| self.counts.files += 1),
                Ok(FileType::Dir) if matches!(entry.listed, Listed::MountPoint | Listed::Kept) => {
                    // Reported by the listing, or by the thread that emptied it.
                    top.keep = true;
                    continue;
                }
                Ok(FileType::Dir) if matches!(entry.listed, Listed::Removed) => continue,
                Ok(FileType::Dir) => {
                    match self.tree.check.open_below(dir, &entry.name, entry.ino) {
                        Ok(Below::Dir(below, id)) => {
                            let path = top.path.join(&entry.name);
                            let (left, read) = match entry.listed {
                                Listed::Dir(node) => (Ok(self.take(node)), false),
                                _ => (self.read(&below), true),
                            };
                            match left {
                                Ok(left) => {
                                    let level = Level {
                                        dir: Some(below),
                                        id,
                                        path,
                                        name: entry.name,
                                        left,
                                        read,
                                        keep: false,
                                    };
                                    self.descend(&mut stack, &mut low, level);
                                }
                                Err(err) => {
                                    top.keep = true;
                                    self.failed(each, Error::io(Op::RemoveTree, &path, err));
                                }
                            }
                            continue;
                        }
                        Ok(Below::MountPoint) => {
                            top.keep = true;
                            self.refuse(each, &top.path.join(&entry.name));
                            continue;
                        }
                        Ok(Below::Replaced) => {
                            top.keep = true;
                            let path = top.path.join(&entry.name);
                            let kind = ErrorKind::ReplacedDuringRemoval;
                            self.failed(each, Error::new(Op::RemoveTree, &path, kind));
                            continue;
                        }
                        Err(err) => Err(err),
                    }
                }
                Err(err) => Err(err),
            };
            match removed {
                Ok(()) => {}
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(err) => {
                    top.keep = true;
                    let path = top.path.join(&entry.name);
                    self.failed(each, Error::io(Op::RemoveTree, &path, err));
                }
            }
        }
        true
    }

    /// Goes down into `level`, a directory of the deepest level held; past
    /// [`Tree::max_held`] levels, the shallowest held is let go of.
    fn descend(&self, stack: &mut Vec<Level>, low: &mut usize, level: Level) {
        stack.push(level);
        if stack.len() - *low > self.max_held {
            stack[*low].dir = None;
            *low += 1;
        }
    }
}

/// The directory above the level `done`, opened through its `..`.
fn up(done: &Level) -> io::Result<Dir> {
    match done.dir.as_ref() {
        Some(dir) => dir.parent(),
        None => Err(io::ErrorKind::NotFound.into()),
    }
}

/// A directory to list: the entry `index` of the listed directory `node`, open as
/// `parent`.
struct Job {
    parent: Arc<Dir>,
    node: usize,
    index: usize,
    path: PathBuf,
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

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::fs;

    /// A tree of `dirs` directories of `files` files and a link each, two levels deep.
    fn tree(root: &Path, dirs: usize, files: usize) {
        for d in 0..dirs {
            let dir = root.join(format!("d{d}/sub"));
            fs::create_dir_all(&dir).unwrap();
            for f in 0..files {
                fs::write(dir.join(format!("f{f}")), "x").unwrap();
                fs::write(root.join(format!("d{d}/g{f}")), "x").unwrap();
            }
            std::os::unix::fs::symlink("/nowhere", dir.join("link")).unwrap();
        }
    }

    /// The tree `t` of `held` (at `root`) listed as `mode` lists it, keeping at most
    /// `budget` entries.
    fn list_t(held: &Dir, root: &Path, mode: ChangeMode, budget: usize) -> Tree {
        let root_dir = held.open_at(OsStr::new("t"), false).unwrap();
        let (listed, mount_id) = root_dir.identity().unwrap();
        let check = Check {
            dev: listed.0,
            mount_id,
            ino_listed: true,
        };
        let mut tree = Tree::new(check, 64, mode, budget);
        tree.list(root_dir, root, &mut |_| {});
        tree
    }

    /// Past its budget the listing keeps only directories, and the removal reads the
    /// rest itself: the tree goes all the same, each link reported once to be removed and
    /// once removed (with the record the removal reads where the listing kept none), and
    /// the listing kept no more than the budget and the directories past it.
    #[test]
    fn past_its_budget_the_listing_keeps_only_directories() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("t");
        let (dirs, files) = (40, 10);
        tree(&root, dirs, files);
        let held = Dir::hold(dir.path()).unwrap();
        let budget = 50;
        let (mut listed, mut links) = (0, 0);
        let removed = remove_tree_keeping(
            &held,
            OsStr::new("t"),
            &root,
            ChangeMode::Change,
            budget,
            &mut |met| {
                let met = met.unwrap();
                assert_eq!(met.link.target.as_deref(), Some(Path::new("/nowhere")));
                match met.action {
                    TreeAction::ToRemove => listed += 1,
                    TreeAction::Removed => links += 1,
                    action => panic!("{action:?}"),
                }
            },
        )
        .unwrap();
        assert!(!root.exists());
        assert_eq!((listed, links), (dirs, dirs));
        assert_eq!(
            (removed.files, removed.links, removed.dirs),
            (
                (dirs * files * 2) as u64,
                dirs as u64,
                (dirs * 2 + 1) as u64
            )
        );
        // The same tree, listed with every entry kept and with the budget.
        tree(&root, dirs, files);
        let kept = |budget| {
            let tree = list_t(&held, &root, ChangeMode::DryRun, budget);
            (0..tree.nodes.len())
                .map(|node| lock(&tree.nodes, node).len())
                .sum::<usize>()
        };
        let all = dirs * (files * 2 + 2) + dirs;
        assert_eq!(kept(usize::MAX), all);
        assert!(kept(budget) <= budget + 2 * dirs, "{}", kept(budget));
    }

    /// The links' records the listing keeps for the report of their removal count
    /// against its budget as [`RECORD_WEIGHT`] entries each: a tree of links keeps few of
    /// them under a small budget (the removal reads the others again), all of them under
    /// a large one.
    #[test]
    fn the_links_records_kept_count_against_the_budget() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("t");
        let (dirs, links) = (20, 30);
        for d in 0..dirs {
            let below = root.join(format!("d{d}"));
            fs::create_dir_all(&below).unwrap();
            for l in 0..links {
                std::os::unix::fs::symlink("/nowhere", below.join(format!("l{l}"))).unwrap();
            }
        }
        let held = Dir::hold(dir.path()).unwrap();
        let records = |budget| {
            let tree = list_t(&held, &root, ChangeMode::Change, budget);
            (0..tree.nodes.len())
                .map(|node| {
                    let entries = lock(&tree.nodes, node);
                    entries
                        .iter()
                        .filter(|entry| matches!(entry.listed, Listed::Link(_)))
                        .count()
                })
                .sum::<usize>()
        };
        assert_eq!(records(usize::MAX), dirs * links);
        let budget = 100;
        // Each record is counted as it is kept: none past the budget, even in a directory
        // kept whole.
        let most = budget / RECORD_WEIGHT;
        assert!(records(budget) <= most, "{} records kept", records(budget));
    }
}
