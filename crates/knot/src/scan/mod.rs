//! `knot scan`: every link under a set of roots, read with one pass over the directories.
//!
//! The shape is ripgrep's `ignore` walker (STYLE.md point 7): a [`ScanBuilder`] collects
//! the options, then either [`ScanBuilder::build`] gives a sequential iterator ([`Walk`])
//! or [`ScanBuilder::build_parallel`] gives a [`WalkParallel`] that runs one visitor per
//! thread. A visitor sees each [`Entry`] and returns a [`WalkState`]: go on, skip this
//! directory, or stop everything. Errors (a directory that cannot be read, a loop met with
//! `follow`) travel in the same stream as the entries and never stop the walk.
//!
//! Under the scan is a generic tree walk that shows every entry it meets (its name, type,
//! [`FileId`] and depth) to a filter, as ripgrep's `ignore` sits on a directory walk: the
//! walk owns the roots, the descriptors, `follow`'s visit-once rule and `same_file_system`;
//! the link scan is the filter that makes link records of what the walk shows it.
//!
//! ```no_run
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use knot::scan::{ScanBuilder, WalkState};
//!
//! let broken = AtomicUsize::new(0);
//! ScanBuilder::new("project").broken(true).build_parallel().run(|| {
//!     let broken = &broken;
//!     Box::new(move |entry| {
//!         match entry {
//!             Ok(entry) => {
//!                 println!("{}", entry.path().display());
//!                 broken.fetch_add(1, Ordering::Relaxed);
//!             }
//!             Err(err) => eprintln!("{err}"),
//!         }
//!         WalkState::Continue
//!     })
//! });
//! println!("{} broken links", broken.load(Ordering::Relaxed));
//! ```
//!
//! # What it costs
//!
//! A scan reads each directory once (`getdents64` on Linux) and learns each entry's type
//! from the listing, so it never stats a file that is not a link, and it does per link
//! only the work that the chosen [`Detail`] asks for. Only [`Kind::Hardlink`] needs a stat
//! of every regular file. Directories are opened relative to their parent's descriptor,
//! so no full path is ever resolved by the kernel and paths longer than `PATH_MAX` work.
//!
//! # Safety promises
//!
//! - Without [`ScanBuilder::follow`] no link is ever followed into, and a directory that is
//!   replaced by a link during the scan is reported, not followed (DESIGN.md promise 4).
//! - With it, each directory is walked at most once (by device and inode, or volume
//!   serial and file id), whatever the number of paths to it, so a scan takes time
//!   proportional to the tree, never to the number of paths through it. A link to a
//!   directory walked already is listed and not entered; a link that leads back to a
//!   directory the walk is inside (the roots' own ancestors included) is reported once
//!   as an [`ErrorKind::Loop`](crate::ErrorKind::Loop) error at that link and not
//!   followed. The walk goes in rounds, by the number of links followed, and a directory
//!   is walked under the first path of the first round to reach it, so the sequential and
//!   the parallel walk report the same records under the same paths.
//! - The number of directories held open is bounded (a quarter of the open-file limit, at
//!   most 256), however deep the tree: past that, the walk reopens a directory from the
//!   nearest one it holds and checks that it found the same directory.

pub mod du;
pub(crate) mod hardlinks;
mod links;
pub(crate) mod walk;

pub use crate::threads::Threads;
pub use walk::FileId;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::Result;
use crate::image::ImageRoot;
use crate::link::{Kind, Link};
use crate::sys::At;

/// How much of each record a scan fills in. Each level costs one more system call per
/// link than the one before; none costs anything for entries that are not links.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
#[non_exhaustive]
pub enum Detail {
    /// The path and kind only: nothing is read from a link.
    Kind,
    /// Also the target as stored and whether it is relative (`readlinkat`).
    Target,
    /// Also the status and whether the link leads to a directory (`fstatat`, following).
    #[default]
    Status,
    /// Everything [`crate::inspect()`] reports: also the resolved path and the link count.
    Full,
}

/// What a visitor tells the walk to do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalkState {
    /// Go on.
    Continue,
    /// Do not descend into this entry: a directory reported with
    /// [`ScanBuilder::report_dirs`], or a link that [`ScanBuilder::follow`] would follow.
    /// Has no effect on other entries.
    Skip,
    /// Stop the whole walk, on every thread, as soon as possible.
    Quit,
}

/// One thing a scan found: a link record (or, with [`ScanBuilder::report_dirs`], a
/// directory) and how deep below its root it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    link: Link,
    depth: usize,
    /// A hard link's file: its group's first name is its target.
    file: Option<FileId>,
}

impl Entry {
    pub(crate) fn new(link: Link, depth: usize) -> Entry {
        Entry {
            link,
            depth,
            file: None,
        }
    }

    /// The path: the root joined with the path below it, as `find` prints it.
    pub fn path(&self) -> &Path {
        &self.link.path
    }

    /// What the entry is.
    pub fn kind(&self) -> &Kind {
        &self.link.kind
    }

    /// 0 for a root, 1 for what a root lists, and so on.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Whether this is a real directory (reported only with [`ScanBuilder::report_dirs`]).
    pub fn is_dir(&self) -> bool {
        self.link.kind == Kind::Dir
    }

    /// The record, filled in as far as the scan's [`Detail`] asked.
    pub fn link(&self) -> &Link {
        &self.link
    }

    /// The record, by value.
    pub fn into_link(self) -> Link {
        self.link
    }
}

/// Counters a scan keeps up to date while it runs, for a progress display: shared through
/// an `Arc`, read from any thread at any time. Updated once per directory, not per entry.
#[derive(Debug, Default)]
pub struct Progress {
    entries: AtomicU64,
    dirs: AtomicU64,
    found: AtomicU64,
    bytes: AtomicU64,
    threads_asked: AtomicU64,
    threads_started: AtomicU64,
}

impl Progress {
    /// New counters, all zero.
    pub fn new() -> Arc<Progress> {
        Arc::new(Progress::default())
    }

    /// How many threads the walk was to run on and runs on, once it has started them.
    pub fn threads(&self) -> Threads {
        let load = |n: &AtomicU64| usize::try_from(n.load(Ordering::Relaxed)).unwrap_or(0);
        Threads {
            asked: load(&self.threads_asked),
            started: load(&self.threads_started),
        }
    }

    pub(crate) fn set_threads(&self, threads: Threads) {
        self.threads_asked
            .store(threads.asked as u64, Ordering::Relaxed);
        self.threads_started
            .store(threads.started as u64, Ordering::Relaxed);
    }

    /// Directory entries seen so far.
    pub fn entries(&self) -> u64 {
        self.entries.load(Ordering::Relaxed)
    }

    /// Directories read so far.
    pub fn dirs(&self) -> u64 {
        self.dirs.load(Ordering::Relaxed)
    }

    /// Entries handed to a visitor so far.
    pub fn found(&self) -> u64 {
        self.found.load(Ordering::Relaxed)
    }

    /// Apparent bytes counted so far ([`du`]; 0 for a scan). Updated every megabyte or
    /// so per thread, not per entry.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    fn add_bytes(&self, bytes: u64) {
        if bytes > 0 {
            self.bytes.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    fn add(&self, entries: u64, found: u64) {
        self.entries.fetch_add(entries, Ordering::Relaxed);
        self.dirs.fetch_add(1, Ordering::Relaxed);
        if found > 0 {
            self.found.fetch_add(found, Ordering::Relaxed);
        }
    }
}

/// Options for a scan; `build` and `build_parallel` start it.
#[derive(Clone, Debug)]
pub struct ScanBuilder {
    /// What the tree walk under the scan decides.
    walk: walk::WalkBuilder,
    kinds: Option<Vec<Kind>>,
    broken: bool,
    detail: Detail,
    report_dirs: bool,
    files: bool,
    /// The roots as given, for their places in an image.
    roots: Vec<PathBuf>,
    image: Option<Arc<ImageRoot>>,
}

impl ScanBuilder {
    /// A scan of `root` that reports every link but hard links, with [`Detail::Status`],
    /// on all cores.
    pub fn new<P: AsRef<Path>>(root: P) -> ScanBuilder {
        ScanBuilder {
            walk: walk::WalkBuilder::new(root.as_ref()),
            kinds: None,
            broken: false,
            detail: Detail::default(),
            report_dirs: false,
            files: false,
            roots: vec![root.as_ref().to_path_buf()],
            image: None,
        }
    }

    /// Judges each link inside the image `root` ([`ImageRoot`]), as a chroot into it
    /// would: its status and resolved path are the image's, and `resolved` is a path
    /// inside the image. The scan's roots must be inside the image; a link under one that
    /// is not is reported as an [`ErrorKind::OutsideRoot`](crate::ErrorKind::OutsideRoot)
    /// error. [`ScanBuilder::follow`] is not taken with an image root: the walk never
    /// leaves the tree it was given.
    pub fn image_root(&mut self, root: Arc<ImageRoot>) -> &mut ScanBuilder {
        self.image = Some(root);
        self
    }

    /// Hands every regular file to the action too, as a record of kind [`Kind::File`]
    /// (`knot convert --to-native`, for which a file may be a Cygwin link): for
    /// [`ScanBuilder::act`] only.
    pub(crate) fn files(&mut self, yes: bool) -> &mut ScanBuilder {
        self.files = yes;
        self
    }

    /// Adds another root.
    pub fn add<P: AsRef<Path>>(&mut self, root: P) -> &mut ScanBuilder {
        self.walk.add(root.as_ref());
        self.roots.push(root.as_ref().to_path_buf());
        self
    }

    /// Reports only links of these kinds. The default is every kind of link except
    /// [`Kind::Hardlink`]: a hard link is a regular file with more than one name, and
    /// finding those takes a stat of every regular file, so it is only done when asked.
    ///
    /// # Platform behavior
    /// On Unix every link is a `symlink` (knot's junctions there are symlinks), so
    /// `junction`, `mount-point` and reparse kinds find nothing.
    ///
    /// A kind matches by its word ([`Kind::name`]): `unknown` finds every reparse point
    /// with an undocumented tag; `IO_REPARSE_TAG_MOUNT_POINT` names both `junction` and
    /// `mount-point` ([`Kind::from_name`]).
    pub fn kinds<I: IntoIterator<Item = Kind>>(&mut self, kinds: I) -> &mut ScanBuilder {
        self.kinds = Some(kinds.into_iter().collect());
        self
    }

    /// Reports only broken links: status `dangling`, `loop` or `too-long`
    /// ([`Status::is_broken`](crate::Status::is_broken); never `elsewhere`).
    pub fn broken(&mut self, yes: bool) -> &mut ScanBuilder {
        self.broken = yes;
        self
    }

    /// Descends into links to directories (never by default), walking each directory at
    /// most once: a link to a directory walked already is listed, not entered again, and a
    /// link that leads back to a directory the walk is inside is reported as an
    /// [`ErrorKind::Loop`](crate::ErrorKind::Loop) error and not followed.
    ///
    /// A directory is walked under the first path that reaches it: first the roots
    /// without entering links, then the directories that one link leads to, then two, and
    /// so on; among the links of one round, the first in path order. With `follow`, a
    /// directory named by two roots is walked once, as the first, and a root inside
    /// another is walked as itself, not again as part of the other.
    pub fn follow(&mut self, yes: bool) -> &mut ScanBuilder {
        self.walk.follow(yes);
        self
    }

    /// Does not descend into directories on another file system than their root's
    /// (`find -xdev`).
    pub fn same_file_system(&mut self, yes: bool) -> &mut ScanBuilder {
        self.walk.same_file_system(yes);
        self
    }

    /// How much of each record to fill in (see [`Detail`]). `broken` reads the status
    /// whatever this says.
    pub fn detail(&mut self, detail: Detail) -> &mut ScanBuilder {
        self.detail = detail;
        self
    }

    /// Also hands every directory to the visitor (kind [`Kind::Dir`]), before it is read,
    /// so the visitor can prune it with [`WalkState::Skip`].
    pub fn report_dirs(&mut self, yes: bool) -> &mut ScanBuilder {
        self.report_dirs = yes;
        self
    }

    /// How many threads [`WalkParallel`] uses; 0 (the default) means one per core.
    pub fn threads(&mut self, threads: usize) -> &mut ScanBuilder {
        self.walk.threads(threads);
        self
    }

    /// The most directories the scan keeps open at once; the default is a quarter of the
    /// open-file limit, at most 256. At least 2 are kept whatever this says.
    pub fn max_open_dirs(&mut self, max: usize) -> &mut ScanBuilder {
        self.walk.max_open_dirs(max);
        self
    }

    /// Counters to keep up to date while the scan runs.
    pub fn progress(&mut self, progress: Arc<Progress>) -> &mut ScanBuilder {
        self.walk.progress(progress);
        self
    }

    /// A sequential walk: an iterator over the entries and errors, depth first.
    pub fn build(&self) -> Walk {
        let filter = self.filter();
        Walk {
            groups: filter.holds_hardlinks().then(Groups::default),
            inner: self.walk.build(filter),
            ready: Vec::new().into_iter(),
            rest: None,
        }
    }

    /// A parallel walk over [`ScanBuilder::threads`] threads.
    pub fn build_parallel(&self) -> WalkParallel {
        WalkParallel {
            walk: self.walk.clone(),
            filter: self.filter(),
        }
    }

    /// Runs the scan on [`ScanBuilder::threads`] threads and hands each link it finds to
    /// `act`, with the link's entry named through the directory that lists it, which the
    /// walk holds open ([`At`]): an action taken there acts on the entry the walk found, in
    /// the directory the walk read, never by a path that may lead elsewhere by then (a
    /// directory swapped for a link). What `act` returns, and the walk's errors, go to
    /// `report`, from whichever thread found them.
    pub(crate) fn act_parallel<T, A, R>(&self, act: A, report: R)
    where
        T: Send,
        A: Fn(At<'_>, Link) -> Option<Result<T>> + Sync,
        R: Fn(Result<T>) + Sync,
    {
        let acting = links::Acting {
            links: self.filter(),
            act,
        };
        let report = &report;
        self.walk.run_parallel(acting, &mut || {
            Box::new(move |item| {
                report(item);
                WalkState::Continue
            })
        });
    }

    /// [`ScanBuilder::act_parallel`] on the calling thread, depth first: an iterator over
    /// what `act` returns and the walk's errors.
    pub(crate) fn act<T, A>(&self, act: A) -> impl Iterator<Item = Result<T>>
    where
        T: Send,
        A: Fn(At<'_>, Link) -> Option<Result<T>> + Sync,
    {
        self.walk.build(links::Acting {
            links: self.filter(),
            act,
        })
    }

    /// The link scan, as a filter on the tree walk.
    fn filter(&self) -> links::LinkFilter {
        let kinds = self.kinds.clone();
        let hardlinks = kinds
            .as_ref()
            .is_some_and(|kinds| kinds.contains(&Kind::Hardlink));
        let links = kinds
            .as_ref()
            .is_none_or(|kinds| kinds.iter().any(|k| k.is_link() && *k != Kind::Hardlink));
        let detail = if self.broken {
            self.detail.max(Detail::Status)
        } else {
            self.detail
        };
        links::LinkFilter {
            kinds,
            hardlinks,
            links,
            broken: self.broken,
            follow: self.walk.follows() && self.image.is_none(),
            detail,
            report_dirs: self.report_dirs,
            files: self.files,
            image: self.image.as_ref().map(|image| {
                Arc::new(links::InImage {
                    roots: (self.roots.iter())
                        .map(|root| (root.clone(), image.locate(root).ok()))
                        .collect(),
                    root: Arc::clone(image),
                })
            }),
        }
    }
}

/// The link scan's filter as a tree copy reads links with it: every link but hard links,
/// read as far as `detail`.
pub(crate) fn links_filter(detail: Detail) -> links::LinkFilter {
    links::LinkFilter {
        kinds: None,
        hardlinks: false,
        links: true,
        broken: false,
        follow: false,
        detail,
        report_dirs: false,
        files: false,
        image: None,
    }
}

/// A sequential scan: an iterator over what it finds, errors included. With `hardlink`
/// among the kinds and the target asked for, a hard link's record comes once every name of
/// its file is found, or at the end of the walk.
#[derive(Debug)]
pub struct Walk {
    inner: walk::Sequential<links::LinkFilter>,
    /// Hard-link records held back until their group's first name is known.
    groups: Option<Groups>,
    ready: std::vec::IntoIter<Entry>,
    rest: Option<Rest>,
}

impl Iterator for Walk {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Result<Entry>> {
        loop {
            if let Some(entry) = self.ready.next() {
                return Some(Ok(entry));
            }
            if let Some(rest) = &mut self.rest {
                return rest.next().map(Ok);
            }
            let groups = self.groups.as_mut();
            match (self.inner.next(), groups) {
                (Some(Ok(entry)), Some(groups)) if entry.file.is_some() => {
                    if let Some(group) = groups.add(entry) {
                        self.ready = group.into_iter();
                    }
                }
                (None, Some(_)) => self.rest = self.groups.take().map(Groups::rest),
                (found, _) => return found,
            }
        }
    }
}

/// Hard-link records held back until each one's target is known: the first name (by
/// path) of its group inside the scan, which is what `knot apply` makes the other names
/// from (the first name's target is itself: the file, which apply does not make). A
/// group is given out as soon as all its names are found; the groups with names outside
/// the scan, at the end of the walk. Only a name's path, depth and link count are held.
#[derive(Debug, Default)]
pub(crate) struct Groups {
    pending: HashMap<FileId, Vec<Held>>,
}

/// A hard link's name as held: its path, its depth below its root, its link count.
type Held = (PathBuf, usize, u64);

impl Groups {
    /// Takes a hard-link record; gives its group's records once every name is found.
    fn add(&mut self, entry: Entry) -> Option<Vec<Entry>> {
        use std::collections::hash_map::Entry as Slot;
        let file = entry.file?;
        let nlink = entry.link.nlink.unwrap_or(0);
        let name = (entry.link.path, entry.depth, nlink);
        // The link count as the last name's stat gave it: a name made meanwhile only
        // keeps the group waiting until the end.
        match self.pending.entry(file) {
            Slot::Occupied(mut names) => {
                names.get_mut().push(name);
                if names.get().len() as u64 >= nlink {
                    let names = names.remove();
                    return Some(named(file, names).map(Named::into_entry).collect());
                }
            }
            Slot::Vacant(slot) => {
                let mut names = Vec::with_capacity(usize::try_from(nlink).unwrap_or(2).min(8));
                names.push(name);
                slot.insert(names);
            }
        }
        None
    }

    /// The groups still waiting (some names outside the scan), in path order, each
    /// record made as it is taken.
    fn rest(self) -> Rest {
        let mut rest: Vec<Named> = self
            .pending
            .into_iter()
            .flat_map(|(file, names)| named(file, names))
            .collect();
        rest.sort_unstable_by(|a, b| bytes(&a.held.0).cmp(bytes(&b.held.0)));
        Rest(rest.into_iter())
    }
}

/// A path's bytes: the order names are sorted in, cheaper than by components.
fn bytes(path: &Path) -> &[u8] {
    path.as_os_str().as_encoded_bytes()
}

/// A name with its group's first name.
#[derive(Debug)]
struct Named {
    held: Held,
    file: FileId,
    first: Arc<PathBuf>,
}

impl Named {
    fn into_entry(self) -> Entry {
        let (path, depth, nlink) = self.held;
        let mut link = Link::new(path, Kind::Hardlink);
        link.dir = Some(crate::link::Flavour::File);
        link.nlink = Some(nlink);
        link.target = Some(Arc::unwrap_or_clone(self.first));
        Entry {
            file: Some(self.file),
            ..Entry::new(link, depth)
        }
    }
}

/// One file's names, in path order, each with the first.
fn named(file: FileId, mut names: Vec<Held>) -> impl Iterator<Item = Named> {
    names.sort_unstable_by(|a, b| bytes(&a.0).cmp(bytes(&b.0)));
    let first = Arc::new(
        names
            .first()
            .map(|(path, ..)| path.clone())
            .unwrap_or_default(),
    );
    names.into_iter().map(move |held| Named {
        held,
        file,
        first: Arc::clone(&first),
    })
}

/// The hard-link records given at the end of a walk, made one at a time.
#[derive(Debug)]
struct Rest(std::vec::IntoIter<Named>);

impl Iterator for Rest {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        self.0.next().map(Named::into_entry)
    }
}

/// A visitor of a parallel walk: one per thread, dropped when its thread is done (so a
/// visitor that buffers output can flush it in `Drop`).
pub trait ParallelVisitor: Send {
    /// Called with each entry or error the walk meets on this visitor's thread.
    fn visit(&mut self, entry: Result<Entry>) -> WalkState;
}

/// Makes one [`ParallelVisitor`] per thread.
pub trait ParallelVisitorBuilder<'s> {
    /// A visitor for one more thread.
    fn build(&mut self) -> Box<dyn ParallelVisitor + 's>;
}

/// The closure form of a visitor, as [`WalkParallel::run`] takes it.
pub type FnVisitor<'s> = Box<dyn FnMut(Result<Entry>) -> WalkState + Send + 's>;

struct FnVisitorImp<'s>(FnVisitor<'s>);

impl ParallelVisitor for FnVisitorImp<'_> {
    fn visit(&mut self, entry: Result<Entry>) -> WalkState {
        (self.0)(entry)
    }
}

struct FnBuilder<F>(F);

impl<'s, F: FnMut() -> FnVisitor<'s>> ParallelVisitorBuilder<'s> for FnBuilder<F> {
    fn build(&mut self) -> Box<dyn ParallelVisitor + 's> {
        Box::new(FnVisitorImp((self.0)()))
    }
}

/// A parallel scan: each thread takes directories from a shared stack, reads them, and
/// hands what it finds to its own visitor. Entries arrive in no particular order.
#[derive(Debug)]
pub struct WalkParallel {
    walk: walk::WalkBuilder,
    filter: links::LinkFilter,
}

impl WalkParallel {
    /// Runs the walk; `mkf` is called once per thread for that thread's visitor. Returns
    /// when every thread is done.
    pub fn run<'s, F>(self, mkf: F)
    where
        F: FnMut() -> FnVisitor<'s>,
    {
        self.visit(&mut FnBuilder(mkf));
    }

    /// Runs the walk with one visitor per thread from `builder`. Returns when every thread
    /// is done.
    pub fn visit(self, builder: &mut dyn ParallelVisitorBuilder<'_>) {
        // Hard links are held back until their group's first name is known ([`Groups`]):
        // a group is handed to the visitor of the thread that found its last name; the
        // groups still waiting at the end, to one more visitor, on this thread, in path
        // order (none after a visitor quit: the walk did not see every name).
        let groups = self
            .filter
            .holds_hardlinks()
            .then(|| Mutex::new(Groups::default()));
        let quit = std::sync::atomic::AtomicBool::new(false);
        self.walk.run_parallel(self.filter, &mut || {
            let mut visitor = builder.build();
            let (groups, quit) = (groups.as_ref(), &quit);
            Box::new(move |found| {
                let state = match (found, groups) {
                    (Ok(entry), Some(groups)) if entry.file.is_some() => {
                        let group = groups
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .add(entry);
                        let mut state = WalkState::Continue;
                        for entry in group.into_iter().flatten() {
                            state = visitor.visit(Ok(entry));
                            if state == WalkState::Quit {
                                break;
                            }
                        }
                        state
                    }
                    (found, _) => visitor.visit(found),
                };
                if state == WalkState::Quit {
                    quit.store(true, Ordering::Relaxed);
                }
                state
            })
        });
        let rest = groups.map(|groups| {
            groups
                .into_inner()
                .unwrap_or_else(PoisonError::into_inner)
                .rest()
        });
        if let Some(rest) = rest.filter(|rest| rest.0.len() > 0)
            && !quit.load(Ordering::Relaxed)
        {
            let mut visitor = builder.build();
            for entry in rest {
                if visitor.visit(Ok(entry)) == WalkState::Quit {
                    break;
                }
            }
        }
    }
}
