//! The walk itself: reading one directory, and the sequential and parallel drivers that
//! hand directories out.
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

use std::collections::{HashSet, VecDeque};
use std::ffi::{OsStr, OsString};
use std::io;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use super::{Detail, Entry, ParallelVisitorBuilder, Progress, WalkState};
use crate::error::{Error, ErrorKind, Op, Result};
use crate::link::{Kind, Link, Status};
use crate::path::{parent_dir, resolve_target};
use crate::sys::{self, Dir, DirReader, FileType, Meta};

/// Past half the budget of open directories, keep one only every this many levels, so a
/// reopen walks down at most this many directories.
const STEP_SPACING: usize = 16;

/// The options, decided once.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    /// `None`: every link kind but hard links.
    pub(crate) kinds: Option<Vec<Kind>>,
    /// Whether hard links are wanted (a stat of every regular file).
    pub(crate) hardlinks: bool,
    /// Whether any other kind of link is wanted.
    pub(crate) links: bool,
    pub(crate) broken: bool,
    pub(crate) follow: bool,
    pub(crate) same_file_system: bool,
    pub(crate) detail: Detail,
    pub(crate) report_dirs: bool,
    pub(crate) max_open: usize,
    pub(crate) progress: Option<Arc<Progress>>,
}

impl Config {
    fn wants(&self, kind: &Kind) -> bool {
        match &self.kinds {
            None => kind.is_link() && *kind != Kind::Hardlink,
            Some(kinds) => kinds.contains(kind),
        }
    }

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
    id: (u64, u128),
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
    id: (u64, u128),
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

/// A root, open, with what its jobs share and, with `follow`, the directories above it.
struct OpenedRoot {
    dir: Dir,
    root: Arc<Root>,
    above: Option<Arc<Ancestor>>,
    id: Option<(u64, u128)>,
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
        claimed: Option<(u64, u128)>,
    },
}

/// With `follow`, what makes the walk visit each directory once, by (device, inode) or
/// (volume serial, file id), whichever path reaches it, so that its time is proportional
/// to the tree, never to the number of paths through it (DESIGN.md promise 4; issue 10.12:
/// two links per level to the next made 2^levels records).
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
    walked: Mutex<HashSet<(u64, u128)>>,
    /// The links to directories found in this round, as jobs for the next.
    next: Mutex<Vec<Job>>,
}

impl Visited {
    fn lock_walked(&self) -> MutexGuard<'_, HashSet<(u64, u128)>> {
        self.walked.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts `id` as walked; false when it is already.
    fn claim(&self, id: (u64, u128)) -> bool {
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

/// A subdirectory found while reading a directory, made into a job when the read is done.
struct Child {
    path: PathBuf,
    /// For a link to a directory (with `follow` only): the directory's identity.
    via_link: Option<(u64, u128)>,
}

/// The shared part of a walk: options and the count of open anchors.
#[derive(Debug)]
struct Walker {
    config: Config,
    open: Arc<AtomicUsize>,
    quit: AtomicBool,
    /// With `follow` only: a plain scan keeps no set of directories.
    visited: Option<Visited>,
}

type Emit<'a> = dyn FnMut(Result<Entry>) -> WalkState + 'a;

fn scan_error(path: &Path, err: io::Error) -> Error {
    Error::io(Op::Scan, path, err)
}

/// `ELOOP` or `ENOTDIR` from opening a subdirectory without following: it is a link now.
fn is_not_a_directory(err: &io::Error) -> bool {
    matches!(sys::classify_resolve_error(err), Status::Loop)
        || err.kind() == io::ErrorKind::NotADirectory
}

impl Walker {
    fn new(config: Config) -> Walker {
        Walker {
            visited: config.follow.then(Visited::default),
            config,
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

    fn anchor(&self, dir: Dir) -> Arc<Anchor> {
        self.open.fetch_add(1, Ordering::Relaxed);
        Arc::new(Anchor {
            dir,
            open: Arc::clone(&self.open),
        })
    }

    /// Sends one item to the visitor; remembers a `Quit`.
    fn emit(&self, emit: &mut Emit<'_>, item: Result<Entry>) -> WalkState {
        let state = emit(item);
        if state == WalkState::Quit {
            self.quit.store(true, Ordering::Relaxed);
        }
        state
    }

    /// Opens, checks and reads the job's directory; reports what it finds to `emit` and
    /// adds the subdirectories to read to `jobs`.
    fn run(&self, job: Job, reader: &mut DirReader, emit: &mut Emit<'_>, jobs: &mut Vec<Job>) {
        if self.quitting() {
            return;
        }
        let Job { path, depth, open } = job;
        let mut id = None;
        let mut claim = None;
        let (dir, root, ancestors, steps, parent_anchor, via_link) = match open {
            How::Root => match self.open_root(&path, emit) {
                Some(OpenedRoot {
                    dir,
                    root,
                    above,
                    id: root_id,
                }) => {
                    id = root_id;
                    (dir, root, above, None, None, false)
                }
                None => return,
            },
            How::Below {
                anchor,
                steps,
                root,
                ancestors,
                via_link,
                claimed,
            } => {
                claim = claimed;
                let dir = match self.open_below(&path, &anchor, steps.as_deref(), via_link) {
                    Ok(dir) => dir,
                    Err(err) => {
                        self.emit(emit, Err(err));
                        return;
                    }
                };
                (dir, root, ancestors, steps, Some(anchor), via_link)
            }
        };

        // The directory's own identity, where an option needs it.
        if self.config.needs_dir_meta() && depth > 0 {
            let meta = match dir.meta() {
                Ok(meta) => meta,
                Err(err) => {
                    self.emit(emit, Err(scan_error(&path, err)));
                    return;
                }
            };
            if self.config.same_file_system && meta.id.0 != root.dev {
                return;
            }
            if self.config.follow
                && let Some(place) = find_ancestor(ancestors.as_deref(), meta.id)
            {
                let ancestor = match place {
                    Place::Depth(d) => nth_parent(&path, depth - d).to_path_buf(),
                    Place::AboveRoot(p) => p.clone(),
                };
                let err = Error::new(Op::Scan, &path, ErrorKind::Loop { ancestor });
                self.emit(emit, Err(err));
                return;
            }
            // Walked already, by another path: a link's target claimed in an earlier round
            // (or, if the link changed since it was read, anything).
            if let Some(visited) = &self.visited
                && claim != Some(meta.id)
                && !visited.claim(meta.id)
            {
                return;
            }
            id = Some(meta.id);
        }

        let mut children = Vec::new();
        let mut seen = 0u64;
        let mut found = 0u64;
        let read = reader.read(&dir, |name, ty| {
            seen += 1;
            let state = self.entry(
                &dir,
                &path,
                depth,
                name,
                ty,
                emit,
                &mut children,
                &mut found,
            );
            if state == WalkState::Quit || self.quitting() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        if let Some(progress) = &self.config.progress {
            progress.add(seen, found);
        }
        if let Err(err) = read {
            self.emit(emit, Err(scan_error(&path, err)));
        }
        if children.is_empty() || self.quitting() {
            return;
        }

        // Where the children open from: this directory, while the budget allows.
        let open = self.open.load(Ordering::Relaxed);
        let spaced = steps.as_ref().map_or(0, |s| s.len) >= STEP_SPACING;
        let keep = parent_anchor.is_none()
            || open < self.config.max_open / 2
            || (open < self.config.max_open && spaced);
        // The directory's identity: an ancestor for --follow, and how to know it again
        // when it is reopened later (a step).
        let id = match id {
            None if self.config.follow || !keep => match dir.meta() {
                Ok(meta) => Some(meta.id),
                Err(err) => {
                    self.emit(emit, Err(scan_error(&path, err)));
                    return;
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
            let Some(id) = id else {
                return;
            };
            drop(dir);
            let Some(name) = path.file_name() else {
                return;
            };
            let len = steps.as_ref().map_or(0, |s| s.len) + 1;
            let step = Step {
                up: steps,
                name: name.to_os_string(),
                id,
                via_link,
                len,
            };
            let Some(anchor) = parent_anchor else {
                return;
            };
            (anchor, Some(Arc::new(step)))
        };
        let mut next_round = Vec::new();
        for child in children.into_iter().rev() {
            if let Some(target) = child.via_link {
                // A link back to this directory or one above: a loop, reported here once
                // (each directory is read once, so each link is met once).
                if let Some(place) = find_ancestor(ancestors.as_deref(), target) {
                    let ancestor = match place {
                        Place::Depth(d) => nth_parent(&child.path, depth + 1 - d).to_path_buf(),
                        Place::AboveRoot(p) => p.clone(),
                    };
                    let err = Error::new(Op::Scan, &child.path, ErrorKind::Loop { ancestor });
                    if self.emit(emit, Err(err)) == WalkState::Quit {
                        return;
                    }
                    continue;
                }
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

    /// One entry of a directory being read.
    #[allow(clippy::too_many_arguments, reason = "the state of one directory read")]
    fn entry(
        &self,
        dir: &Dir,
        dir_path: &Path,
        depth: usize,
        name: &OsStr,
        ty: Option<FileType>,
        emit: &mut Emit<'_>,
        children: &mut Vec<Child>,
        found: &mut u64,
    ) -> WalkState {
        let config = &self.config;
        let ty = match ty {
            Some(ty) => ty,
            // DT_UNKNOWN: the file system does not say; ask.
            None => match dir.stat_at(name, false) {
                Ok(meta) => meta.ty,
                Err(err) => {
                    let err = scan_error(&dir_path.join(name), err);
                    return self.emit(emit, Err(err));
                }
            },
        };
        match ty {
            FileType::Dir => {
                let path = dir_path.join(name);
                if config.report_dirs {
                    let mut link = Link::new(path.clone(), Kind::Dir);
                    link.dir = Some(true);
                    *found += 1;
                    match self.emit(
                        emit,
                        Ok(Entry {
                            link,
                            depth: depth + 1,
                        }),
                    ) {
                        WalkState::Continue => {}
                        state => return state,
                    }
                }
                children.push(Child {
                    path,
                    via_link: None,
                });
                WalkState::Continue
            }
            FileType::Link if config.links || config.follow => {
                let path = dir_path.join(name);
                let (record, leads_to_dir) = match self.link_record(dir, name, path) {
                    Ok(found) => found,
                    Err(err) => return self.emit(emit, Err(err)),
                };
                let mut state = WalkState::Continue;
                let mut follow = None;
                if config.follow
                    && let Some(id) = leads_to_dir
                {
                    follow = Some((record.path.clone(), id));
                }
                if self.matches(&record) {
                    *found += 1;
                    state = self.emit(
                        emit,
                        Ok(Entry {
                            link: record,
                            depth: depth + 1,
                        }),
                    );
                }
                if let (Some((path, id)), WalkState::Continue) = (follow, state) {
                    children.push(Child {
                        path,
                        via_link: Some(id),
                    });
                }
                match state {
                    WalkState::Quit => WalkState::Quit,
                    _ => WalkState::Continue,
                }
            }
            FileType::File if config.hardlinks => match dir.stat_at(name, false) {
                Ok(meta) if meta.nlink > 1 => {
                    let mut link = Link::new(dir_path.join(name), Kind::Hardlink);
                    link.dir = Some(false);
                    link.nlink = Some(meta.nlink);
                    if config.broken {
                        return WalkState::Continue;
                    }
                    *found += 1;
                    match self.emit(
                        emit,
                        Ok(Entry {
                            link,
                            depth: depth + 1,
                        }),
                    ) {
                        WalkState::Quit => WalkState::Quit,
                        _ => WalkState::Continue,
                    }
                }
                Ok(_) => WalkState::Continue,
                Err(err) => self.emit(emit, Err(scan_error(&dir_path.join(name), err))),
            },
            _ => WalkState::Continue,
        }
    }

    /// Whether a link record passes the kind and `broken` filters.
    fn matches(&self, link: &Link) -> bool {
        self.config.wants(&link.kind)
            && (!self.config.broken || link.status.is_some_and(Status::is_broken))
    }

    /// The record of the link `name` in `dir`, as far as the detail asks, and the identity
    /// of the directory it leads to, if it leads to one (known only where the status was
    /// read).
    fn link_record(
        &self,
        dir: &Dir,
        name: &OsStr,
        path: PathBuf,
    ) -> Result<(Link, Option<(u64, u128)>)> {
        let config = &self.config;
        let detail = config.detail;
        let mut link = Link::new(path, Kind::Symlink);
        let read = detail >= Detail::Target || config.kinds.is_some();
        // Where the system follows the link: `None` once read for a reparse point that
        // leads nowhere (a WOF-compressed or cloud file), which gets no status.
        let mut leads_to = None;
        let mut leads_somewhere = true;
        if read {
            let stored = dir
                .read_link_at(name)
                .map_err(|e| scan_error(&link.path, e))?;
            leads_to = stored.fill(&mut link);
            leads_somewhere = leads_to.is_some();
        }
        let mut leads_to_dir = None;
        if leads_somewhere && (detail >= Detail::Status || config.follow) {
            match dir.stat_at(name, true) {
                Ok(meta) => {
                    let is_dir = meta.ty == FileType::Dir;
                    leads_to_dir = is_dir.then_some(meta.id);
                    link.status = Some(Status::Ok);
                    if link.dir.is_none() {
                        link.dir = Some(is_dir);
                    }
                }
                // A system's "loop" may be a chain that is only too long (issue 10.19).
                Err(err) => link.status = Some(crate::chain::failed_status(&link.path, &err)),
            }
            if detail < Detail::Status {
                link.status = None;
                link.dir = None;
            }
        }
        if detail >= Detail::Full {
            if link.status == Some(Status::Ok) {
                link.resolved = dir.real_path_at(name).ok();
            }
            if link.resolved.is_none()
                && let Some(target) = &leads_to
            {
                // As `inspect` resolves it (`path::resolve_target`), each part of the
                // target named from this directory, which is where the kernel starts;
                // from the directory's real path (its own path may run through links),
                // or from the path as scanned where the kernel cannot name the directory
                // (past a page of path).
                let base = dir
                    .real_path_at(OsStr::new("."))
                    .or_else(|_| std::path::absolute(parent_dir(&link.path)));
                link.resolved = base.ok().map(|base| {
                    resolve_target(&base, target, |part| dir.real_path_at(part.as_os_str()))
                });
            }
            link.nlink = dir.stat_at(name, false).ok().map(|m: Meta| m.nlink);
        }
        Ok((link, leads_to_dir))
    }

    /// Opens a root. A root that is not a directory (a file, or a link to a file or to
    /// nothing) is reported as an entry itself when it matches.
    fn open_root(&self, path: &Path, emit: &mut Emit<'_>) -> Option<OpenedRoot> {
        let dir = match Dir::open(path) {
            Ok(dir) => dir,
            Err(err) => {
                if let Err(err) = self.root_entry(path, err, emit) {
                    self.emit(emit, Err(err));
                }
                return None;
            }
        };
        if self.config.report_dirs {
            let mut link = Link::new(path.to_path_buf(), Kind::Dir);
            link.dir = Some(true);
            if self.emit(emit, Ok(Entry { link, depth: 0 })) != WalkState::Continue {
                return None;
            }
        }
        let meta = if self.config.needs_dir_meta() {
            match dir.meta() {
                Ok(meta) => Some(meta),
                Err(err) => {
                    self.emit(emit, Err(scan_error(path, err)));
                    return None;
                }
            }
        } else {
            None
        };
        let above = match (&meta, self.config.follow) {
            (Some(meta), true) => root_ancestors(&dir, path, meta.id),
            _ => None,
        };
        let root = Arc::new(Root {
            dev: meta.map_or(0, |m| m.id.0),
        });
        Some(OpenedRoot {
            dir,
            root,
            above,
            id: meta.map(|m| m.id),
        })
    }

    /// A root that could not be opened as a directory: report it as a link or hard link if
    /// it is one, else the error.
    fn root_entry(&self, path: &Path, open_err: io::Error, emit: &mut Emit<'_>) -> Result<()> {
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
        let link = match meta.ty {
            FileType::Link if self.config.links => self.link_record(&dir, name, path.into())?.0,
            FileType::File if self.config.hardlinks && meta.nlink > 1 => {
                let mut link = Link::new(path.to_path_buf(), Kind::Hardlink);
                link.dir = Some(false);
                link.nlink = Some(meta.nlink);
                link
            }
            FileType::Link | FileType::File => return Ok(()),
            _ => return Err(scan_error(path, open_err)),
        };
        if link.kind == Kind::Hardlink {
            if !self.config.broken {
                self.emit(emit, Ok(Entry { link, depth: 0 }));
            }
        } else if self.matches(&link) {
            self.emit(emit, Ok(Entry { link, depth: 0 }));
        }
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
            if next.meta().map_err(|e| scan_error(path, e))?.id != s.id {
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

fn find_ancestor(mut ancestor: Option<&Ancestor>, id: (u64, u128)) -> Option<&Place> {
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
fn root_ancestors(dir: &Dir, path: &Path, id: (u64, u128)) -> Option<Arc<Ancestor>> {
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
        if meta.id == last {
            break; // `/..` is `/`
        }
        real_above = real_above.parent().unwrap_or(real_above);
        above.push((meta.id, real_above.to_path_buf()));
        last = meta.id;
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
fn root_jobs(roots: &[PathBuf], walker: &Walker) -> Vec<Job> {
    let mut seen = HashSet::new();
    let unique: Vec<&PathBuf> = roots
        .iter()
        .filter(|root| {
            let through_link =
                walker.visited.is_none() && sys::lstat(root).is_ok_and(|m| m.ty == FileType::Link);
            through_link || sys::stat(root).map_or(true, |meta| seen.insert(meta.id))
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
#[derive(Debug)]
pub(crate) struct Sequential {
    walker: Walker,
    stack: Vec<Job>,
    pending: VecDeque<Result<Entry>>,
    reader: DirReader,
}

impl Sequential {
    pub(crate) fn new(config: Config, roots: &[PathBuf]) -> Sequential {
        let walker = Walker::new(config);
        Sequential {
            stack: root_jobs(roots, &walker),
            walker,
            pending: VecDeque::new(),
            reader: DirReader::new(),
        }
    }

    pub(crate) fn next(&mut self) -> Option<Result<Entry>> {
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
    fn end_of_round(state: &mut QueueState, walker: &Walker) {
        if state.active == 0 && state.jobs.is_empty() {
            state.jobs = walker.next_round();
            state.done = state.jobs.is_empty();
        }
    }

    /// The next job, waiting while other threads may still produce one.
    fn pop(&self, walker: &Walker) -> Option<Job> {
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
    fn share(&self, jobs: &mut Vec<Job>, keeps_one: bool, walker: &Walker) {
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

pub(crate) fn run_parallel(
    config: Config,
    roots: &[PathBuf],
    threads: usize,
    builder: &mut dyn ParallelVisitorBuilder<'_>,
) {
    let walker = Walker::new(config);
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
        let mut visitor = builder.build();
        work(&walker, &queue, &mut |item| visitor.visit(item));
        return;
    }
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let mut visitor = builder.build();
            let (walker, queue) = (&walker, &queue);
            scope.spawn(move || {
                work(walker, queue, &mut |item| visitor.visit(item));
                // The visitor is dropped here, on its own thread, before `run` returns.
            });
        }
    });
}

fn work(walker: &Walker, queue: &Queue, emit: &mut Emit<'_>) {
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
