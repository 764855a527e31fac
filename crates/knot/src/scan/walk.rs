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

/// The options of a walk, as far as the walk itself decides them.
#[derive(Clone, Debug)]
pub(crate) struct WalkBuilder {
    roots: Vec<PathBuf>,
    follow: bool,
    same_file_system: bool,
    threads: usize,
    max_open: Option<usize>,
    progress: Option<Arc<Progress>>,
}

impl WalkBuilder {
    /// A walk of `root` that follows no link, on all cores.
    pub(crate) fn new(root: &Path) -> WalkBuilder {
        WalkBuilder {
            roots: vec![root.to_path_buf()],
            follow: false,
            same_file_system: false,
            threads: 0,
            max_open: None,
            progress: None,
        }
    }

    pub(crate) fn add(&mut self, root: &Path) -> &mut WalkBuilder {
        self.roots.push(root.to_path_buf());
        self
    }

    /// Goes into links to directories, walking each directory at most once.
    pub(crate) fn follow(&mut self, yes: bool) -> &mut WalkBuilder {
        self.follow = yes;
        self
    }

    pub(crate) fn follows(&self) -> bool {
        self.follow
    }

    /// Does not go into a directory on another file system than its root's.
    pub(crate) fn same_file_system(&mut self, yes: bool) -> &mut WalkBuilder {
        self.same_file_system = yes;
        self
    }

    /// 0 means one per core.
    pub(crate) fn threads(&mut self, threads: usize) -> &mut WalkBuilder {
        self.threads = threads;
        self
    }

    pub(crate) fn max_open_dirs(&mut self, max: usize) -> &mut WalkBuilder {
        self.max_open = Some(max);
        self
    }

    pub(crate) fn progress(&mut self, progress: Arc<Progress>) -> &mut WalkBuilder {
        self.progress = Some(progress);
        self
    }

    fn config(&self) -> Config {
        Config {
            follow: self.follow,
            same_file_system: self.same_file_system,
            max_open: self
                .max_open
                .unwrap_or_else(crate::sys::Os::max_open_dirs)
                .max(2),
            progress: self.progress.clone(),
        }
    }

    /// The walk as an iterator, depth first, on the calling thread.
    pub(crate) fn build<F: Filter>(&self, filter: F) -> Sequential<F> {
        Sequential::new(Walker::new(self.config(), filter), &self.roots)
    }

    /// Runs the walk on [`WalkBuilder::threads`] threads; `visitor` is called once per
    /// thread for that thread's visitor, which is dropped on its thread when it is done.
    pub(crate) fn run_parallel<'s, F: Filter>(
        &self,
        filter: F,
        visitor: &mut dyn FnMut() -> BoxVisitor<'s, F::Item>,
    ) {
        let threads = match self.threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        run_parallel(
            Walker::new(self.config(), filter),
            &self.roots,
            threads,
            visitor,
        );
    }
}

/// The options, decided once.
#[derive(Clone, Debug)]
struct Config {
    follow: bool,
    same_file_system: bool,
    max_open: usize,
    progress: Option<Arc<Progress>>,
}

impl Config {
    /// Whether the directory's own (device, inode) is needed.
    fn needs_dir_meta(&self) -> bool {
        self.follow || self.same_file_system
    }
}

/// An open directory that jobs open their directories from. Counted, so the walk can keep
/// the number of open directories bounded.
#[derive(Debug)]
struct Anchor {
    dir: Dir,
    open: Arc<AtomicUsize>,
}

impl Drop for Anchor {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A directory between an anchor and a job's parent, for walking down again.
#[derive(Debug)]
struct Step {
    up: Option<Arc<Step>>,
    name: OsString,
    /// Its (device, inode) when it was read: a reopen must find the same directory.
    id: FileId,
    /// It was reached through a link (only with `follow`).
    via_link: bool,
    /// How many steps, this one included.
    len: usize,
}

/// A directory on the way from the top of the file system to the one being read, for
/// loop detection with `follow`.
#[derive(Debug)]
struct Ancestor {
    up: Option<Arc<Ancestor>>,
    id: FileId,
    /// Its depth below the root, or for the root's own ancestors, their path.
    place: Place,
}

#[derive(Debug)]
enum Place {
    Depth(usize),
    AboveRoot(PathBuf),
}

/// What every job under one root shares.
#[derive(Debug)]
struct Root {
    /// The root's device, for `same_file_system`.
    dev: u64,
}

/// One directory to read.
#[derive(Debug)]
struct Job {
    /// The path to print: the root joined with the names below it.
    path: PathBuf,
    depth: usize,
    open: How,
}

#[derive(Debug)]
enum How {
    /// A root, opened by its path.
    Root,
    /// A directory below a root: `parent` then `steps`, then the job's own name.
    Below {
        anchor: Arc<Anchor>,
        steps: Option<Arc<Step>>,
        root: Arc<Root>,
        /// The directories above the job's one (with `follow` only).
        ancestors: Option<Arc<Ancestor>>,
        /// The job's directory is reached through a link (with `follow` only).
        via_link: bool,
        /// The identity of the directory, when the walk already counts it as walked: a
        /// link's target, claimed at the start of the round that walks it.
        claimed: Option<FileId>,
    },
}

/// A job's directory, open, with what the job brought to it.
struct Opened {
    dir: Dir,
    root: Arc<Root>,
    ancestors: Option<Arc<Ancestor>>,
    steps: Option<Arc<Step>>,
    /// The anchor it was opened from; `None` for a root.
    parent: Option<Arc<Anchor>>,
    via_link: bool,
    /// Its identity, once read.
    id: Option<FileId>,
    /// The identity the job claimed for it in advance.
    claimed: Option<FileId>,
}

/// With `follow`, what makes the walk visit each directory once, by (device, inode) or
/// (volume serial, file id), whichever path reaches it, so that its time is proportional
/// to the tree, never to the number of paths through it (DESIGN.md promise 4): two links
/// per level to the next would otherwise make 2^levels records.
///
/// The walk goes in rounds. Round 0 walks the roots without entering links; round n+1
/// enters the links to directories that round n found, and walks below them without
/// entering links again. A directory is walked in the first round that reaches it, by the
/// path that comes first among that round's paths to it: a real directory before a link
/// to it, fewer links before more, and among links found in one round, the first path in
/// order. Each round's targets are all claimed before the round starts, so what a round
/// walks does not depend on the order in which threads meet it: the sequential and the
/// parallel walk find the same records under the same paths. A link to a directory that
/// is walked already, or claimed by an earlier path, is listed and not entered.
///
/// (Where one directory has two names without links, a bind mount or a hard-linked
/// directory, the first thread to reach it walks it, under its name.)
#[derive(Debug, Default)]
struct Visited {
    /// Every directory walked, or claimed to be walked in this round.
    walked: Mutex<HashSet<FileId>>,
    /// The links to directories found in this round, as jobs for the next.
    next: Mutex<Vec<Job>>,
}

impl Visited {
    fn lock_walked(&self) -> MutexGuard<'_, HashSet<FileId>> {
        self.walked.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts `id` as walked; false when it is already.
    fn claim(&self, id: FileId) -> bool {
        self.lock_walked().insert(id)
    }

    fn defer(&self, jobs: &mut Vec<Job>) {
        if !jobs.is_empty() {
            let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
            next.append(jobs);
        }
    }

    /// The next round: the links found in the last one, in path order, each claiming the
    /// directory it leads to; a link to a directory walked or claimed already is dropped
    /// (its record was listed when it was found). (On Windows, a directory that cannot be
    /// opened even for its attributes has no file id, only `LISTED_ID`, shared by all
    /// such; only the first is kept, and none could be opened to be read anyway.)
    fn next_round(&self) -> Vec<Job> {
        let mut next =
            std::mem::take(&mut *self.next.lock().unwrap_or_else(PoisonError::into_inner));
        next.sort_by(|a, b| a.path.cmp(&b.path));
        let mut walked = self.lock_walked();
        next.retain(|job| match &job.open {
            How::Below {
                claimed: Some(id), ..
            } => walked.insert(*id),
            _ => true,
        });
        // A stack: the first path is walked first.
        next.reverse();
        next
    }
}

/// What the jobs of one directory's subdirectories share.
struct Shared {
    anchor: Arc<Anchor>,
    steps: Option<Arc<Step>>,
    root: Arc<Root>,
    ancestors: Option<Arc<Ancestor>>,
}

/// The directory being read, for each of its entries.
#[derive(Clone, Copy)]
struct Listing<'a> {
    dir: &'a Dir,
    path: &'a Path,
    depth: usize,
}

/// A subdirectory found while reading a directory, made into a job when the read is done.
struct Child {
    path: PathBuf,
    /// For a link to a directory (with `follow` only): the directory's identity.
    via_link: Option<FileId>,
}

/// The shared part of a walk: options, the filter and the count of open anchors.
struct Walker<F> {
    config: Config,
    filter: F,
    open: Arc<AtomicUsize>,
    quit: AtomicBool,
    /// With `follow` only: a plain scan keeps no set of directories.
    visited: Option<Visited>,
}

impl<F: fmt::Debug> fmt::Debug for Walker<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Walker")
            .field("config", &self.config)
            .field("filter", &self.filter)
            .field("open", &self.open)
            .field("quit", &self.quit)
            .finish_non_exhaustive()
    }
}

fn scan_error(path: &Path, err: io::Error) -> Error {
    Error::io(Op::Scan, path, err)
}

/// `ELOOP` or `ENOTDIR` from opening a subdirectory without following: it is a link now.
fn is_not_a_directory(err: &io::Error) -> bool {
    matches!(sys::Os::classify_resolve_error(err), Status::Loop)
        || err.kind() == io::ErrorKind::NotADirectory
}

/// The error for a directory met again below itself with `follow`.
fn loop_error(path: &Path, depth: usize, place: &Place) -> Error {
    let ancestor = match place {
        Place::Depth(d) => nth_parent(path, depth - d).to_path_buf(),
        Place::AboveRoot(p) => p.clone(),
    };
    Error::new(Op::Scan, path, ErrorKind::Loop { ancestor })
}

impl<F: Filter> Walker<F> {
    fn new(config: Config, filter: F) -> Walker<F> {
        Walker {
            visited: config.follow.then(Visited::default),
            config,
            filter,
            open: Arc::new(AtomicUsize::new(0)),
            quit: AtomicBool::new(false),
        }
    }

    /// The jobs of the next round of a `follow` walk; none when it is over.
    fn next_round(&self) -> Vec<Job> {
        match &self.visited {
            Some(visited) if !self.quitting() => visited.next_round(),
            _ => Vec::new(),
        }
    }

    fn quitting(&self) -> bool {
        self.quit.load(Ordering::Relaxed)
    }

    fn sink<'e, 'v>(&'e self, emit: &'e mut Emit<'v, F::Item>) -> Sink<'e, 'v, F::Item> {
        Sink {
            emit,
            quit: &self.quit,
            found: 0,
        }
    }

    /// Sends one error to the visitor; remembers a `Quit`.
    fn fail(&self, emit: &mut Emit<'_, F::Item>, err: Error) -> WalkState {
        self.sink(emit).send(Err(err))
    }

    fn anchor(&self, dir: Dir) -> Arc<Anchor> {
        self.open.fetch_add(1, Ordering::Relaxed);
        Arc::new(Anchor {
            dir,
            open: Arc::clone(&self.open),
        })
    }

    /// Opens, checks and reads the job's directory; hands what it lists to the filter and
    /// adds the subdirectories to read to `jobs`.
    fn run(
        &self,
        job: Job,
        reader: &mut DirReader,
        emit: &mut Emit<'_, F::Item>,
        jobs: &mut Vec<Job>,
    ) {
        if self.quitting() {
            return;
        }
        let Job { path, depth, open } = job;
        let Some(mut opened) = self.open_job(&path, open, emit) else {
            return;
        };
        if depth > 0 && !self.admit(&path, depth, &mut opened, emit) {
            return;
        }
        let children = self.read(&opened.dir, &path, depth, reader, emit);
        if children.is_empty() || self.quitting() {
            return;
        }
        self.queue_children(&path, depth, opened, children, emit, jobs);
    }

    /// Opens the job's directory: a root by its path, anything else from its anchor.
    fn open_job(&self, path: &Path, open: How, emit: &mut Emit<'_, F::Item>) -> Option<Opened> {
        match open {
            How::Root => self.open_root(path, emit),
            How::Below {
                anchor,
                steps,
                root,
                ancestors,
                via_link,
                claimed,
            } => match self.open_below(path, &anchor, steps.as_deref(), via_link) {
                Ok(dir) => Some(Opened {
                    dir,
                    root,
                    ancestors,
                    steps,
                    parent: Some(anchor),
                    via_link,
                    id: None,
                    claimed,
                }),
                Err(err) => {
                    self.fail(emit, err);
                    None
                }
            },
        }
    }

    /// Whether a directory below a root is to be read, where an option needs its own
    /// identity: on the root's file system (`same_file_system`), not a loop and not
    /// walked already (`follow`).
    fn admit(
        &self,
        path: &Path,
        depth: usize,
        opened: &mut Opened,
        emit: &mut Emit<'_, F::Item>,
    ) -> bool {
        if !self.config.needs_dir_meta() {
            return true;
        }
        let id = match opened.dir.meta() {
            Ok(meta) => FileId::of(&meta),
            Err(err) => {
                self.fail(emit, scan_error(path, err));
                return false;
            }
        };
        if self.config.same_file_system && id.device != opened.root.dev {
            return false;
        }
        if self.config.follow
            && let Some(place) = find_ancestor(opened.ancestors.as_deref(), id)
        {
            self.fail(emit, loop_error(path, depth, place));
            return false;
        }
        // Walked already, by another path: a link's target claimed in an earlier round
        // (or, if the link changed since it was read, anything).
        if let Some(visited) = &self.visited
            && opened.claimed != Some(id)
            && !visited.claim(id)
        {
            return false;
        }
        opened.id = Some(id);
        true
    }

    /// Reads the directory, hands each entry to the filter, and returns the
    /// subdirectories to walk.
    fn read(
        &self,
        dir: &Dir,
        path: &Path,
        depth: usize,
        reader: &mut DirReader,
        emit: &mut Emit<'_, F::Item>,
    ) -> Vec<Child> {
        let mut children = Vec::new();
        let mut seen = 0u64;
        let mut sink = self.sink(emit);
        let listing = Listing { dir, path, depth };
        let read = reader.read(dir, |name, ty, ino| {
            seen += 1;
            let next = self.entry(&listing, (name, ty, ino), &mut sink, &mut children);
            if next == Next::Quit || self.quitting() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        if let Some(progress) = &self.config.progress {
            progress.add(seen, sink.found);
        }
        if let Err(err) = read {
            sink.send(Err(scan_error(path, err)));
        }
        children
    }

    /// One entry of a directory being read: its type, asked for where the listing does
    /// not say, then the filter, then what the filter says to walk into.
    fn entry(
        &self,
        listing: &Listing<'_>,
        (name, ty, ino): (&OsStr, Option<FileType>, Option<u64>),
        sink: &mut Sink<'_, '_, F::Item>,
        children: &mut Vec<Child>,
    ) -> Next {
        let Listing {
            dir,
            path: dir_path,
            depth,
        } = *listing;
        let depth = depth + 1;
        let (ty, meta) = match ty {
            Some(ty) => (ty, None),
            // DT_UNKNOWN: the file system does not say; ask.
            None => match dir.stat_at(name, false) {
                Ok(meta) => (meta.ty, Some(meta)),
                Err(err) => {
                    return match sink.send(Err(scan_error(&dir_path.join(name), err))) {
                        WalkState::Quit => Next::Quit,
                        _ => Next::Skip,
                    };
                }
            },
        };
        let entry = DirEntry {
            dir,
            at: name,
            dir_path,
            own_path: None,
            path: OnceCell::new(),
            ty,
            depth,
            meta,
            ino,
        };
        let next = self.filter.visit(&entry, sink);
        match next {
            Next::Descend if ty == FileType::Dir => children.push(Child {
                path: entry.into_path(),
                via_link: None,
            }),
            Next::Follow(id) if self.config.follow && ty == FileType::Link => {
                children.push(Child {
                    path: entry.into_path(),
                    via_link: Some(id),
                });
            }
            _ => {}
        }
        next
    }

    /// What the children of a directory share: where they open from (this directory
    /// while the budget of open directories allows, else its nearest kept ancestor and
    /// the steps down), and with `follow`, the directories above them.
    fn shared(
        &self,
        path: &Path,
        depth: usize,
        opened: Opened,
        emit: &mut Emit<'_, F::Item>,
    ) -> Option<Shared> {
        let Opened {
            dir,
            root,
            ancestors,
            steps,
            parent,
            via_link,
            id,
            claimed: _,
        } = opened;
        // Where the children open from: this directory, while the budget allows.
        let open = self.open.load(Ordering::Relaxed);
        let spaced = steps.as_ref().map_or(0, |s| s.len) >= STEP_SPACING;
        let keep = parent.is_none()
            || open < self.config.max_open / 2
            || (open < self.config.max_open && spaced);
        // The directory's identity: an ancestor for --follow, and how to know it again
        // when it is reopened later (a step).
        let id = match id {
            None if self.config.follow || !keep => match dir.meta() {
                Ok(meta) => Some(FileId::of(&meta)),
                Err(err) => {
                    self.fail(emit, scan_error(path, err));
                    return None;
                }
            },
            id => id,
        };
        let ancestors = match id {
            Some(id) if self.config.follow => Some(Arc::new(Ancestor {
                up: ancestors,
                id,
                place: Place::Depth(depth),
            })),
            _ => None,
        };
        let (anchor, steps) = if keep {
            (self.anchor(dir), None)
        } else {
            // Read just above whenever the directory is not kept.
            let id = id?;
            drop(dir);
            let name = path.file_name()?;
            let len = steps.as_ref().map_or(0, |s| s.len) + 1;
            let step = Step {
                up: steps,
                name: name.to_os_string(),
                id,
                via_link,
                len,
            };
            (parent?, Some(Arc::new(step)))
        };
        Some(Shared {
            anchor,
            steps,
            root,
            ancestors,
        })
    }

    /// Makes jobs of the subdirectories found; with `follow`, a link back up is a loop,
    /// reported here.
    fn queue_children(
        &self,
        path: &Path,
        depth: usize,
        opened: Opened,
        children: Vec<Child>,
        emit: &mut Emit<'_, F::Item>,
        jobs: &mut Vec<Job>,
    ) {
        let Some(Shared {
            anchor,
            steps,
            root,
            ancestors,
        }) = self.shared(path, depth, opened, emit)
        else {
            return;
        };
        let mut next_round = Vec::new();
        for child in children.into_iter().rev() {
            // A link back to this directory or one above: a loop, reported here once
            // (each directory is read once, so each link is met once).
            if let Some(target) = child.via_link
                && let Some(place) = find_ancestor(ancestors.as_deref(), target)
            {
                let err = loop_error(&child.path, depth + 1, place);
                if self.fail(emit, err) == WalkState::Quit {
                    return;
                }
                continue;
            }
            let job = Job {
                path: child.path,
                depth: depth + 1,
                open: How::Below {
                    anchor: Arc::clone(&anchor),
                    steps: steps.clone(),
                    root: Arc::clone(&root),
                    ancestors: ancestors.clone(),
                    via_link: child.via_link.is_some(),
                    claimed: child.via_link,
                },
            };
            match child.via_link {
                // Entered in the next round, if no other path claims it first.
                Some(_) => next_round.push(job),
                None => jobs.push(job),
            }
        }
        if let Some(visited) = &self.visited {
            visited.defer(&mut next_round);
        }
    }

    /// Opens a root, and shows it to the filter before it is read. A root that is not a
    /// directory (a file, or a link to a file or to nothing) is shown to the filter as
    /// it is, and not read.
    fn open_root(&self, path: &Path, emit: &mut Emit<'_, F::Item>) -> Option<Opened> {
        let dir = match Dir::open(path) {
            Ok(dir) => dir,
            Err(err) => {
                if let Err(err) = self.root_entry(path, err, emit) {
                    self.fail(emit, err);
                }
                return None;
            }
        };
        let entry = DirEntry {
            dir: &dir,
            at: OsStr::new("."),
            dir_path: path,
            own_path: Some(path),
            path: OnceCell::new(),
            ty: FileType::Dir,
            depth: 0,
            meta: None,
            ino: None,
        };
        if self.filter.visit(&entry, &mut self.sink(emit)) != Next::Descend || self.quitting() {
            return None;
        }
        let meta = if self.config.needs_dir_meta() {
            match dir.meta() {
                Ok(meta) => Some(meta),
                Err(err) => {
                    self.fail(emit, scan_error(path, err));
                    return None;
                }
            }
        } else {
            None
        };
        let id = meta.map(|meta| FileId::of(&meta));
        let ancestors = match (id, self.config.follow) {
            (Some(id), true) => root_ancestors(&dir, path, id),
            _ => None,
        };
        let root = Arc::new(Root {
            dev: id.map_or(0, |id| id.device),
        });
        Some(Opened {
            dir,
            root,
            ancestors,
            steps: None,
            parent: None,
            via_link: false,
            id,
            claimed: None,
        })
    }

    /// A root that could not be opened as a directory: shown to the filter if it is a link
    /// or a file, else the error.
    fn root_entry(
        &self,
        path: &Path,
        open_err: io::Error,
        emit: &mut Emit<'_, F::Item>,
    ) -> Result<()> {
        let not_a_dir = is_not_a_directory(&open_err) || open_err.kind() == io::ErrorKind::NotFound;
        let Some(name) = path.file_name().filter(|_| not_a_dir) else {
            return Err(scan_error(path, open_err));
        };
        let Ok(dir) = Dir::open(crate::path::parent_dir(path)) else {
            return Err(scan_error(path, open_err));
        };
        let Ok(meta) = dir.stat_at(name, false) else {
            return Err(scan_error(path, open_err));
        };
        if !matches!(meta.ty, FileType::Link | FileType::File) {
            return Err(scan_error(path, open_err));
        }
        let entry = DirEntry {
            dir: &dir,
            at: name,
            dir_path: path,
            own_path: Some(path),
            path: OnceCell::new(),
            ty: meta.ty,
            depth: 0,
            meta: Some(meta),
            ino: None,
        };
        self.filter.visit(&entry, &mut self.sink(emit));
        Ok(())
    }

    /// Opens a job's directory from its anchor, walking down the recorded steps first.
    fn open_below(
        &self,
        path: &Path,
        anchor: &Anchor,
        steps: Option<&Step>,
        via_link: bool,
    ) -> Result<Dir> {
        let Some(name) = path.file_name() else {
            return Err(Error::new(Op::Scan, path, ErrorKind::ChangedDuringScan));
        };
        let changed = || Error::new(Op::Scan, path, ErrorKind::ChangedDuringScan);
        let open = |from: &Dir, name: &OsStr, follow: bool| {
            from.open_at(name, follow).map_err(|err| {
                if !follow && is_not_a_directory(&err) {
                    changed()
                } else {
                    scan_error(path, err)
                }
            })
        };
        let Some(last) = steps else {
            return open(&anchor.dir, name, via_link);
        };
        let mut chain = Vec::with_capacity(last.len);
        let mut step = Some(last);
        while let Some(s) = step {
            chain.push(s);
            step = s.up.as_deref();
        }
        let mut here: Option<Dir> = None;
        for s in chain.into_iter().rev() {
            let from = here.as_ref().unwrap_or(&anchor.dir);
            let next = open(from, &s.name, s.via_link)?;
            let id = next.meta().map_err(|e| scan_error(path, e))?;
            if FileId::of(&id) != s.id {
                return Err(changed());
            }
            here = Some(next);
        }
        let from = here.as_ref().unwrap_or(&anchor.dir);
        open(from, name, via_link)
    }
}

/// `path` without its last `n` names.
fn nth_parent(path: &Path, n: usize) -> &Path {
    let mut p = path;
    for _ in 0..n {
        match p.parent() {
            Some(parent) => p = parent,
            None => break,
        }
    }
    p
}

fn find_ancestor(mut ancestor: Option<&Ancestor>, id: FileId) -> Option<&Place> {
    while let Some(a) = ancestor {
        if a.id == id {
            return Some(&a.place);
        }
        ancestor = a.up.as_deref();
    }
    None
}

/// Every directory above the root up to `/`, by (device, inode): with `follow`, a link to
/// any of them would scan the root again.
fn root_ancestors(dir: &Dir, path: &Path, id: FileId) -> Option<Arc<Ancestor>> {
    // The root's own real path names its ancestors in messages.
    let real = crate::path::canonical(path).unwrap_or_else(|_| path.to_path_buf());
    let mut above = Vec::new();
    let mut current: Option<Dir> = None;
    let mut last = id;
    let mut real_above = real.as_path();
    loop {
        let from = current.as_ref().unwrap_or(dir);
        let Ok(parent) = from.parent() else { break };
        let Ok(meta) = parent.meta() else { break };
        let id = FileId::of(&meta);
        if id == last {
            break; // `/..` is `/`
        }
        real_above = real_above.parent().unwrap_or(real_above);
        above.push((id, real_above.to_path_buf()));
        last = id;
        current = Some(parent);
    }
    let mut chain: Option<Arc<Ancestor>> = None;
    for (id, path) in above.into_iter().rev() {
        chain = Some(Arc::new(Ancestor {
            up: chain,
            id,
            place: Place::AboveRoot(path),
        }));
    }
    chain
}

/// One job per root; a directory named twice (or by two paths without links) is scanned
/// once. A root that is a link is scanned through it, under its own name, as asked; but
/// with `follow`, which walks each directory once, only the first root that names a
/// directory walks it, and every root claims its directory before the walk starts (so a
/// root below another is walked as itself, not as part of the other).
fn root_jobs<F: Filter>(roots: &[PathBuf], walker: &Walker<F>) -> Vec<Job> {
    let mut seen = HashSet::new();
    let unique: Vec<&PathBuf> = roots
        .iter()
        .filter(|root| {
            let through_link = walker.visited.is_none()
                && sys::Os::lstat(root).is_ok_and(|m| m.ty == FileType::Link);
            through_link || sys::Os::stat(root).map_or(true, |meta| seen.insert(FileId::of(&meta)))
        })
        .collect();
    if let Some(visited) = &walker.visited {
        visited.lock_walked().extend(seen);
    }
    unique
        .into_iter()
        .rev()
        .map(|root| Job {
            path: root.clone(),
            depth: 0,
            open: How::Root,
        })
        .collect()
}

/// The sequential walk: a stack of jobs, and what the last directory read produced.
pub(crate) struct Sequential<F: Filter> {
    walker: Walker<F>,
    stack: Vec<Job>,
    pending: VecDeque<Result<F::Item>>,
    reader: DirReader,
}

impl<F: Filter + fmt::Debug> fmt::Debug for Sequential<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sequential")
            .field("walker", &self.walker)
            .field("stack", &self.stack)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl<F: Filter> Sequential<F> {
    fn new(walker: Walker<F>, roots: &[PathBuf]) -> Sequential<F> {
        Sequential {
            stack: root_jobs(roots, &walker),
            walker,
            pending: VecDeque::new(),
            reader: DirReader::new(),
        }
    }
}

impl<F: Filter> Iterator for Sequential<F> {
    type Item = Result<F::Item>;

    fn next(&mut self) -> Option<Result<F::Item>> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            let Some(job) = self.stack.pop() else {
                self.stack = self.walker.next_round();
                if self.stack.is_empty() {
                    return None;
                }
                continue;
            };
            let pending = &mut self.pending;
            let mut emit = |item| {
                pending.push_back(item);
                WalkState::Continue
            };
            self.walker
                .run(job, &mut self.reader, &mut emit, &mut self.stack);
        }
    }
}
/// The shared stack of a parallel walk.
struct Queue {
    state: Mutex<QueueState>,
    ready: Condvar,
}

struct QueueState {
    jobs: Vec<Job>,
    /// Threads holding a job; the walk is over when none does and no job is left.
    active: usize,
    /// Threads waiting for a job: only they need waking (a wake is a system call).
    idle: usize,
    done: bool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// When no thread holds a job and none is left, the round is over: the next one's
    /// jobs (`follow` only), or the end of the walk. Taken under the lock, so no thread
    /// starts the next round before every thread is done with this one.
    fn end_of_round<F: Filter>(state: &mut QueueState, walker: &Walker<F>) {
        if state.active == 0 && state.jobs.is_empty() {
            state.jobs = walker.next_round();
            state.done = state.jobs.is_empty();
        }
    }

    /// The next job, waiting while other threads may still produce one.
    fn pop<F: Filter>(&self, walker: &Walker<F>) -> Option<Job> {
        let mut state = self.lock();
        loop {
            if state.done {
                return None;
            }
            if let Some(job) = state.jobs.pop() {
                state.active += 1;
                return Some(job);
            }
            if state.active == 0 {
                Queue::end_of_round(&mut state, walker);
                if state.idle > 0 {
                    self.ready.notify_all();
                }
                continue;
            }
            state.idle += 1;
            state = self
                .ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.idle -= 1;
        }
    }

    /// Shares the jobs a thread found; `keeps_one` says it goes on with one more itself.
    fn share<F: Filter>(&self, jobs: &mut Vec<Job>, keeps_one: bool, walker: &Walker<F>) {
        let mut state = self.lock();
        let mut shared = !jobs.is_empty();
        state.jobs.append(jobs);
        if !keeps_one {
            state.active -= 1;
        }
        if state.active == 0 && state.jobs.is_empty() {
            Queue::end_of_round(&mut state, walker);
            shared = !state.jobs.is_empty();
        }
        if state.idle > 0 && (state.done || shared) {
            self.ready.notify_all();
        }
    }

    fn stop(&self) {
        let mut state = self.lock();
        state.done = true;
        self.ready.notify_all();
    }
}

fn run_parallel<'s, F: Filter>(
    walker: Walker<F>,
    roots: &[PathBuf],
    threads: usize,
    visitor: &mut dyn FnMut() -> BoxVisitor<'s, F::Item>,
) {
    let queue = Queue {
        state: Mutex::new(QueueState {
            jobs: root_jobs(roots, &walker),
            active: 0,
            idle: 0,
            done: false,
        }),
        ready: Condvar::new(),
    };
    if threads <= 1 {
        let mut visitor = visitor();
        work(&walker, &queue, &mut *visitor);
        return;
    }
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let mut visitor = visitor();
            let (walker, queue) = (&walker, &queue);
            scope.spawn(move || {
                work(walker, queue, &mut *visitor);
                // The visitor is dropped here, on its own thread, before `run` returns.
            });
        }
    });
}

fn work<F: Filter>(walker: &Walker<F>, queue: &Queue, emit: &mut Emit<'_, F::Item>) {
    let mut reader = DirReader::new();
    let mut jobs = Vec::new();
    let mut next = None;
    loop {
        let job = match next.take() {
            Some(job) => job,
            None => match queue.pop(walker) {
                Some(job) => job,
                None => return,
            },
        };
        walker.run(job, &mut reader, emit, &mut jobs);
        if walker.quitting() {
            queue.stop();
            return;
        }
        // Go on with the last subdirectory found (depth first, so few directories are
        // pending at once) and share the others.
        next = jobs.pop();
        if !(jobs.is_empty() && next.is_some()) {
            queue.share(&mut jobs, next.is_some(), walker);
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    //! The filter seam of the walk, with filters other than the link scan.

    use std::collections::BTreeSet;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Counts every entry the walk shows it and goes into every directory.
    #[derive(Debug, Default)]
    struct Count(AtomicUsize);

    impl Filter for Count {
        type Item = ();

        fn visit(&self, _: &DirEntry<'_>, _: &mut Sink<'_, '_, ()>) -> Next {
            self.0.fetch_add(1, Ordering::Relaxed);
            Next::Descend
        }
    }

    /// Sends the path of every entry; follows links to directories.
    #[derive(Debug)]
    struct Paths;

    impl Filter for Paths {
        type Item = PathBuf;

        fn visit(&self, entry: &DirEntry<'_>, sink: &mut Sink<'_, '_, PathBuf>) -> Next {
            sink.send(Ok(entry.path().to_path_buf()));
            match entry.file_type() {
                FileType::Link => match std::fs::metadata(entry.path()) {
                    Ok(meta) if meta.is_dir() => {
                        let (dir, name) = entry.dir_and_name();
                        Next::Follow(FileId::of(&dir.stat_at(name, true).unwrap()))
                    }
                    _ => Next::Skip,
                },
                _ => Next::Descend,
            }
        }
    }

    /// Sends the entries that are one file.
    #[derive(Debug)]
    struct Names(FileId);

    impl Filter for Names {
        type Item = PathBuf;

        fn visit(&self, entry: &DirEntry<'_>, sink: &mut Sink<'_, '_, PathBuf>) -> Next {
            match entry.file_id() {
                Ok(id) if id == self.0 => {
                    sink.send(Ok(entry.path().to_path_buf()));
                }
                Ok(_) => {}
                Err(err) => {
                    sink.send(Err(scan_error(entry.path(), err)));
                }
            }
            Next::Descend
        }
    }

    fn mktree(dest: &Path, entries: usize) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/mktree.py");
        let status = std::process::Command::new("python3")
            .arg(script)
            .arg(dest)
            .args(["--entries", &entries.to_string()])
            .stdout(std::process::Stdio::null())
            .status()
            .expect("python3 runs bench/mktree.py");
        assert!(status.success());
    }

    /// `find ROOT`'s count: one byte per entry, so odd names cannot miscount.
    fn find_count(root: &Path) -> usize {
        let out = std::process::Command::new("find")
            .arg(root)
            .args(["-printf", "x"])
            .output()
            .expect("find runs");
        assert!(out.status.success());
        out.stdout.len()
    }

    fn parallel<F: Filter>(walk: &WalkBuilder, filter: F) -> Vec<Result<F::Item>> {
        let found = Mutex::new(Vec::new());
        walk.run_parallel(filter, &mut || {
            let found = &found;
            Box::new(move |item| {
                found.lock().unwrap().push(item);
                WalkState::Continue
            })
        });
        found.into_inner().unwrap()
    }

    #[test]
    fn a_filter_sees_every_entry_find_lists() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("tree");
        mktree(&root, 3000);
        let expected = find_count(&root);
        assert!(expected > 3000);
        for threads in [1, 2] {
            // Two open directories at most: deep directories are reopened from an anchor.
            for max_open in [2, 256] {
                let mut walk = WalkBuilder::new(&root);
                walk.threads(threads).max_open_dirs(max_open);
                let count = Count::default();
                let errors: Vec<_> = walk.build(&count).collect();
                assert!(errors.is_empty(), "{errors:?}");
                assert_eq!(count.0.swap(0, Ordering::Relaxed), expected);
                assert!(parallel(&walk, &count).is_empty());
                assert_eq!(count.0.into_inner(), expected, "threads {threads}");
            }
        }
    }

    #[test]
    fn a_filter_picks_the_names_of_one_file_by_id() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
        std::fs::write(root.join("a"), "one file").unwrap();
        std::fs::write(root.join("c"), "another").unwrap();
        std::fs::hard_link(root.join("a"), root.join("sub/deeper/b")).unwrap();
        std::os::unix::fs::symlink("a", root.join("sub/l")).unwrap();
        let id = FileId::of(&sys::Os::lstat(&root.join("a")).unwrap());
        let names = |items: Vec<Result<PathBuf>>| -> BTreeSet<PathBuf> {
            items.into_iter().map(Result::unwrap).collect()
        };
        let expected = BTreeSet::from([root.join("a"), root.join("sub/deeper/b")]);
        let walk = WalkBuilder::new(root);
        assert_eq!(names(walk.build(Names(id)).collect()), expected);
        assert_eq!(names(parallel(&walk, Names(id))), expected);
        // A root is an entry like any other.
        let walk = WalkBuilder::new(&root.join("sub/deeper/b"));
        let expected = BTreeSet::from([root.join("sub/deeper/b")]);
        assert_eq!(names(walk.build(Names(id)).collect()), expected);
    }

    #[test]
    fn skip_prunes_and_quit_stops() {
        #[derive(Debug)]
        struct NotSub;
        impl Filter for NotSub {
            type Item = PathBuf;
            fn visit(&self, entry: &DirEntry<'_>, sink: &mut Sink<'_, '_, PathBuf>) -> Next {
                sink.send(Ok(entry.path().to_path_buf()));
                if entry.path().ends_with("sub") {
                    Next::Skip
                } else {
                    Next::Descend
                }
            }
        }
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("sub/below")).unwrap();
        std::fs::create_dir_all(root.join("other/below")).unwrap();
        let walk = WalkBuilder::new(root);
        let found: BTreeSet<PathBuf> = walk.build(NotSub).map(Result::unwrap).collect();
        let expected = BTreeSet::from([
            root.to_path_buf(),
            root.join("sub"),
            root.join("other"),
            root.join("other/below"),
        ]);
        assert_eq!(found, expected);
        // A visitor that quits at once gets one item, on any number of threads.
        for threads in [1, 2] {
            let seen = AtomicUsize::new(0);
            let mut walk = WalkBuilder::new(root);
            walk.threads(threads).run_parallel(NotSub, &mut || {
                let seen = &seen;
                Box::new(move |_| {
                    seen.fetch_add(1, Ordering::Relaxed);
                    WalkState::Quit
                })
            });
            assert_eq!(seen.into_inner(), 1);
        }
    }

    #[test]
    fn follow_agrees_sequential_and_parallel_and_reports_a_loop() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::create_dir_all(root.join("c")).unwrap();
        std::os::unix::fs::symlink("../a", root.join("c/to-a")).unwrap();
        std::os::unix::fs::symlink("../..", root.join("a/b/up")).unwrap();
        let mut walk = WalkBuilder::new(&root);
        walk.follow(true).threads(2);
        let split = |items: Vec<Result<PathBuf>>| {
            let mut paths = BTreeSet::new();
            let mut errors = Vec::new();
            for item in items {
                match item {
                    Ok(path) => {
                        paths.insert(path);
                    }
                    Err(err) => errors.push((err.path().to_path_buf(), err.kind().clone())),
                }
            }
            (paths, errors)
        };
        let sequential = split(walk.build(Paths).collect());
        let parallel = split(parallel(&walk, Paths));
        assert_eq!(sequential, parallel);
        let (paths, errors) = sequential;
        // `a` is walked as itself, so `c/to-a` is listed and not entered.
        assert!(paths.contains(&root.join("c/to-a")));
        assert!(!paths.contains(&root.join("c/to-a/b")));
        assert_eq!(
            errors,
            vec![(
                root.join("a/b/up"),
                ErrorKind::Loop {
                    ancestor: root.clone()
                }
            )]
        );
    }
}
