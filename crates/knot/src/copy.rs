//! `knot copy`: a tree copied with its links kept (DESIGN.md section 2).
//!
//! The copy is a filter over the tree walk under the scan (`scan::walk::Filter`), as the
//! link scan is: the walk reads SRC, each directory opened from the one above it without
//! following a link, and shows the filter every entry with the directory that lists it,
//! held open.
//! Everything read from SRC is read through that directory by name (a file's data through
//! a descriptor opened there with `O_NOFOLLOW`), so a directory of SRC swapped for a link
//! during the copy is never gone through: the walk refuses to open it and says so.
//!
//! Everything written to DST is written through DST's directories held open by
//! [`apply`](crate::apply)'s `Work`: DST made (or, empty, opened) in its held parent
//! without following a link and handed over held, each directory below made new there
//! (0700 until the end, when it gets its own mode where it is still the one made) and
//! held, so nothing is written outside DST whatever is put at a path there meanwhile.
//! Files are made exclusively (`O_CREAT | O_EXCL | O_NOFOLLOW`), links with the staged
//! create, hard links with `linkat` between held directories.
//!
//! Links are sorted by where they lead (from the real path of the link's directory in
//! SRC, as the kernel resolves `..`):
//! inner ones (inside SRC) are made to lead to the same place inside DST, keeping their
//! form; outer ones keep leading where they led; dangling ones and loops are copied as
//! they are. Hard-link groups are kept: only files with more than one name are
//! remembered, by file id, with the name of their first copy in DST.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::apply::{ApplyOptions, Work, split};
use crate::create::{CreateOptions, LinkType, create_new_lean};
use crate::error::{Error, ErrorKind, Op, Result};
use crate::link::{Flavour, Kind, Link, Status};
use crate::path::fold;
use crate::resolve::relative_to;
use crate::retarget::ChangeMode;
use crate::scan::walk::{DirEntry, FileId, Filter, Next, Sink, WalkBuilder};
use crate::scan::{Detail, Entry, WalkState};
use crate::sys::{self, At, Attrs, FileData, FileType};
use crate::sys::{Backend as _, Directory as _};

/// What to do with inner links: those that lead inside the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Inner {
    /// Make them lead to the same place inside the copy, keeping their form: a relative
    /// target that stays inside is kept as it is, an absolute one is rewritten from the
    /// source to the copy.
    #[default]
    Rewrite,
    /// Copy them as they are (an absolute one then leads into the source).
    Keep,
}

/// What to do with outer links: those that lead outside the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Outer {
    /// Keep them leading where they lead: an absolute target as it is, a relative one
    /// rewritten, still relative, to lead to the same place from the copy.
    #[default]
    Keep,
    /// Leave them out of the copy.
    Skip,
}

/// Options for [`copy`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct CopyOptions {
    /// Inner links (the CLI's `--inner`).
    pub inner: Inner,
    /// Outer links (the CLI's `--outer`).
    pub outer: Outer,
    /// Stay on the source's file system; mount points below are reported and not entered
    /// (the CLI's `--xdev`).
    pub same_file_system: bool,
    /// Copy, or only say what would be done (the CLI's `--dry-run`).
    pub mode: ChangeMode,
    /// How many threads walk and copy; 0 for one per core.
    pub threads: usize,
}

/// Where a link leads, seen from the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Class {
    /// Inside the source.
    Inner,
    /// Outside it.
    Outer,
    /// Nowhere: its target is missing.
    Dangling,
    /// Round a loop of links, or through a chain longer than the system follows.
    Loop,
}

impl Class {
    /// The class as the JSON record writes it.
    pub fn name(self) -> &'static str {
        match self {
            Class::Inner => "inner",
            Class::Outer => "outer",
            Class::Dangling => "dangling",
            Class::Loop => "loop",
        }
    }
}

/// What became of one entry of the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// A file's data copied byte for byte, or a directory made, or a link whose target
    /// needed no change copied as it is.
    Copied,
    /// A file copied as a reflink: the copy shares the original's extents.
    Cloned,
    /// A file copied with its holes kept.
    Sparse,
    /// Another name of a file copied already: made a hard link to that copy.
    Linked,
    /// A link whose target was rewritten to lead to the same place from the copy.
    Rewritten,
    /// A link copied as it is though it leads elsewhere from the copy (`--inner keep`,
    /// dangling links, loops, absolute outer links).
    Kept,
    /// A link left out (`--outer skip`).
    Dropped,
    /// A directory on another file system, not entered (`--xdev`).
    NotEntered,
}

impl Action {
    /// The action as the JSON record and the report write it.
    pub fn name(self) -> &'static str {
        match self {
            Action::Copied => "copied",
            Action::Cloned => "cloned",
            Action::Sparse => "sparse",
            Action::Linked => "linked",
            Action::Rewritten => "rewritten",
            Action::Kept => "kept",
            Action::Dropped => "dropped",
            Action::NotEntered => "not-entered",
        }
    }
}

/// One entry of the source and what became of it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Item {
    /// The entry as a scan records it (path in the source, kind, target as stored,
    /// status), a directory or file with its kind `dir` or `file`.
    pub link: Link,
    /// Its path in the copy.
    pub copy: PathBuf,
    /// For a link, where it leads.
    pub class: Option<Class>,
    /// What was done.
    pub action: Action,
    /// The target written into the copy, where it differs from the one stored (a
    /// rewritten link), or the copy's other name a hard link was made to.
    pub new_target: Option<PathBuf>,
    /// A file's size in bytes.
    pub bytes: u64,
}

/// What a [`copy`] did, counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Summary {
    /// Files copied (each hard-link group once).
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Directories made (the copy's root included).
    pub dirs: u64,
    /// Symlinks made.
    pub symlinks: u64,
    /// Junctions made.
    pub junctions: u64,
    /// Hard-link groups kept: files with more than one name in the copy.
    pub groups: u64,
    /// Of those, the unsaturated ones: files with names outside the source too, which
    /// are not copied (the copy's group has fewer names than the source's file).
    pub unsaturated: u64,
    /// Other names of those files, made as hard links.
    pub hard_links: u64,
    /// Links whose target was rewritten.
    pub rewritten: u64,
    /// Links copied as they are though they lead elsewhere from the copy.
    pub kept: u64,
    /// Links left out.
    pub dropped: u64,
    /// Dangling links (copied as they are, and counted in `kept`).
    pub dangling: u64,
    /// Directories on another file system, not entered.
    pub not_entered: u64,
    /// Entries that failed.
    pub failed: u64,
}

/// Copies the directory `source` to `copy`, keeping its links, and calls `report` with
/// every entry's [`Item`] or error, from whichever thread met it. Returns the counts.
///
/// `copy` must not exist (it is made) or be an empty directory. Files are copied with
/// their data (a reflink where the file system shares extents, holes kept in a sparse
/// file), permissions, owner (where this process may give it) and times; directories are
/// made with their permissions and times (0700 until the end); symlinks as symlinks
/// (junctions are not copied yet: each is reported, [`ErrorKind::Unsupported`]); the
/// names of a file with several inside `source` as names of one file. Inner links
/// ([`Class::Inner`]) are made to lead to the same place inside `copy` unless
/// [`Inner::Keep`]; outer ones as [`Outer`] says; dangling ones and loops as they are.
///
/// # Errors
/// The whole copy fails, before anything is made, where `source` is no directory
/// ([`ErrorKind::SourceNotADirectory`]), `copy` is there and is not an empty directory
/// ([`ErrorKind::DestinationNotEmpty`]) or lies inside `source`
/// ([`ErrorKind::DestinationInsideSource`]), or either cannot be read or made. Then each
/// entry's own failure goes to `report` and the others go on.
///
/// # Platform behavior
/// Unix: file data through descriptors opened from held directories (`FICLONE`, then
/// `copy_file_range`, then `read`/`write`; `SEEK_DATA`/`SEEK_HOLE` where the file is
/// sparse). Windows: file data through handles opened relative to held directories
/// (`FSCTL_DUPLICATE_EXTENTS_TO_FILE` where the volume clones blocks, as ReFS and Dev
/// Drive do, else read and write, only the allocated ranges of a sparse file), the
/// read-only, hidden, system, archive and not-indexed attributes and the access and write
/// times; no security descriptors, creation times or alternate data streams. Elsewhere:
/// refused before anything is made ([`ErrorKind::Unsupported`]).
pub fn copy<S, D, F>(source: S, copy: D, options: &CopyOptions, report: F) -> Result<Summary>
where
    S: AsRef<Path>,
    D: AsRef<Path>,
    F: Fn(Result<Item>) + Sync,
{
    copy_inner(source.as_ref(), copy.as_ref(), options, &report)
}

fn copy_inner(
    source: &Path,
    copy: &Path,
    options: &CopyOptions,
    report: &(dyn Fn(Result<Item>) + Sync),
) -> Result<Summary> {
    let dry_run = options.mode == ChangeMode::DryRun;
    if !sys::Os::COPIES_FILES {
        let why = "copying a tree is not available on this platform yet".to_owned();
        return Err(Error::new(Op::Copy, source, ErrorKind::Unsupported { why }));
    }
    let fail = |path: &Path, e| Error::io(Op::Copy, path, e);
    let source_meta = sys::Os::stat(source).map_err(|e| fail(source, e))?;
    if source_meta.ty != FileType::Dir {
        return Err(Error::new(Op::Copy, source, ErrorKind::SourceNotADirectory));
    }
    let source_abs = crate::path::absolute(source).map_err(|e| fail(source, e))?;
    let source_real = crate::resolve::canonical(source).map_err(|e| fail(source, e))?;
    let copy_abs = crate::path::absolute(copy).map_err(|e| fail(copy, e))?;
    // The copy's parent is held (the user named it: followed), and the copy is made or
    // opened in it without following a link at its name, then held: never looked up by
    // its path again, so a link put at that path meanwhile leads nothing written outside.
    let Some(name) = copy_abs.file_name() else {
        return Err(Error::new(Op::Copy, copy, ErrorKind::DestinationNotEmpty));
    };
    let parent_path = crate::path::parent_dir(&copy_abs);
    let parent = sys::Dir::hold(parent_path).map_err(|e| fail(parent_path, e))?;
    let mut root = match parent.stat_at(name, false) {
        Ok(meta) if meta.ty == FileType::Dir => match parent.hold_empty_dir_at(name) {
            Ok(Some(dir)) => Some(dir),
            Ok(None) => {
                return Err(Error::new(Op::Copy, copy, ErrorKind::DestinationNotEmpty));
            }
            Err(e) => return Err(fail(copy, e)),
        },
        Ok(_) => return Err(Error::new(Op::Copy, copy, ErrorKind::DestinationNotEmpty)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(fail(copy, e)),
    };
    // Where the copy really is: the held directory's real path, or its parent's and its
    // name.
    let real_of = |root: &Option<sys::Dir>| match root {
        Some(dir) => dir.real_dir(copy).map_err(|e| fail(copy, e)),
        None => parent
            .real_dir(parent_path)
            .map(|real| real.join(name))
            .map_err(|e| fail(parent_path, e)),
    };
    let mut copy_real = real_of(&root)?;
    if copy_real.starts_with(&source_real) {
        let kind = ErrorKind::DestinationInsideSource {
            source: source.to_path_buf(),
        };
        return Err(Error::new(Op::Copy, copy, kind));
    }
    if root.is_none() && !dry_run {
        let (dir, _) = parent.make_copy_dir_at(name).map_err(|e| fail(copy, e))?;
        root = Some(dir);
        copy_real = real_of(&root)?;
    }
    let root_id = match &root {
        Some(dir) => Some(dir.meta().map_err(|e| fail(copy, e))?.id),
        None => None,
    };
    let apply_options = ApplyOptions {
        mode: options.mode,
        ..ApplyOptions::default()
    };
    let work = match root {
        Some(dir) => Work::with_root(copy, dir, apply_options, Op::Copy),
        None => Work::new(copy, apply_options, Op::Copy),
    };
    let filter = Copying {
        options: *options,
        source: source.to_path_buf(),
        source_abs,
        source_real,
        copy: copy.to_path_buf(),
        copy_real,
        root_id,
        root_device: source_meta.id.0,
        work,
        groups: Mutex::new(HashMap::new()),
        dirs: Mutex::new(Vec::new()),
        counts: Counts::default(),
    };
    let failed = AtomicU64::new(0);
    let mut walk = WalkBuilder::new(source);
    walk.threads(options.threads);
    walk.run_parallel(&filter, &mut || {
        let failed = &failed;
        Box::new(move |item: Result<Item>| {
            if item.is_err() {
                failed.fetch_add(1, Ordering::Relaxed);
            }
            report(item);
            WalkState::Continue
        })
    });
    if !dry_run {
        filter.finish_dirs(|err| {
            failed.fetch_add(1, Ordering::Relaxed);
            report(Err(err));
        });
    }
    let mut summary = filter.counts.summary();
    let groups = filter
        .groups
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    for group in groups.values() {
        if group.linked.load(Ordering::Relaxed) {
            summary.groups += 1;
            // The first copy's name and the names linked to it.
            let names = 1 + group.names.load(Ordering::Relaxed);
            if names < group.nlink.load(Ordering::Relaxed) {
                summary.unsaturated += 1;
            }
        }
    }
    summary.failed = failed.into_inner();
    Ok(summary)
}

/// The counts, kept by every thread.
#[derive(Debug, Default)]
struct Counts {
    files: AtomicU64,
    bytes: AtomicU64,
    dirs: AtomicU64,
    symlinks: AtomicU64,
    junctions: AtomicU64,
    hard_links: AtomicU64,
    rewritten: AtomicU64,
    kept: AtomicU64,
    dropped: AtomicU64,
    dangling: AtomicU64,
    not_entered: AtomicU64,
}

impl Counts {
    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    fn summary(&self) -> Summary {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Summary {
            files: get(&self.files),
            bytes: get(&self.bytes),
            dirs: get(&self.dirs),
            symlinks: get(&self.symlinks),
            junctions: get(&self.junctions),
            groups: 0,
            unsaturated: 0,
            hard_links: get(&self.hard_links),
            rewritten: get(&self.rewritten),
            kept: get(&self.kept),
            dropped: get(&self.dropped),
            dangling: get(&self.dangling),
            not_entered: get(&self.not_entered),
            failed: 0,
        }
    }
}

/// A file with more than one name: the path below the copy of its first copy, once made
/// (`None` where that copy failed), whether another name was linked to it, how many were,
/// and how many names the file has (inside the source and out).
#[derive(Debug, Default)]
struct Group {
    first: OnceLock<Option<PathBuf>>,
    linked: AtomicBool,
    names: AtomicU64,
    nlink: AtomicU64,
}

/// The copy, as a filter on the walk of the source.
struct Copying {
    options: CopyOptions,
    /// The source as given: the walk's paths start with it.
    source: PathBuf,
    /// The source as a full path, folded lexically, and its real path: an absolute target
    /// below either is inside.
    source_abs: PathBuf,
    source_real: PathBuf,
    /// The copy as given, and its real path (from its held directory): relative targets
    /// are worked out between real paths, as the kernel resolves `..` physically.
    copy: PathBuf,
    copy_real: PathBuf,
    /// The identity of the copy's root, held (none in a dry run that makes it).
    root_id: Option<(u64, u128)>,
    /// The source's file system, for `same_file_system`.
    root_device: u64,
    /// The copy's directories, held.
    work: Work,
    /// Files with more than one name, by file id.
    groups: Mutex<HashMap<FileId, Arc<Group>>>,
    /// Every directory made, below the copy, with what to give it once its entries are in
    /// and its identity, checked then.
    dirs: Mutex<Vec<Made>>,
    counts: Counts,
}

impl Filter for Copying {
    type Item = Item;

    fn visit(&self, entry: &DirEntry<'_>, sink: &mut Sink<'_, '_, Item>) -> Next {
        let below = entry
            .path()
            .strip_prefix(&self.source)
            .unwrap_or(Path::new(""))
            .to_path_buf();
        let (next, item) = match entry.file_type() {
            FileType::Dir => self.dir(entry, &below),
            FileType::File => (Next::Skip, self.file(entry, &below)),
            FileType::Link => return self.link(entry, &below, sink),
            FileType::Other => {
                let err = Error::new(Op::Copy, entry.path(), ErrorKind::SpecialFile);
                (Next::Skip, Some(Err(err)))
            }
        };
        match item.map(|item| sink.send(item)) {
            Some(WalkState::Quit) => Next::Quit,
            _ => next,
        }
    }
}

impl Copying {
    fn dry_run(&self) -> bool {
        self.options.mode == ChangeMode::DryRun
    }

    /// The path in the copy of the entry `below` the source.
    fn copy_path(&self, below: &Path) -> PathBuf {
        join_below(&self.copy, below)
    }

    fn item(&self, entry: &DirEntry<'_>, below: &Path, kind: Kind, action: Action) -> Item {
        Item {
            link: Link::new(entry.path().to_path_buf(), kind),
            copy: self.copy_path(below),
            class: None,
            action,
            new_target: None,
            bytes: 0,
        }
    }

    /// A directory: made in the copy (the root is made already), its permissions and
    /// times remembered for the end; on another file system under `same_file_system`,
    /// reported and not entered.
    fn dir(&self, entry: &DirEntry<'_>, below: &Path) -> (Next, Option<Result<Item>>) {
        let path = entry.path();
        let (dir, name) = entry.dir_and_name();
        let meta = match entry.lstat() {
            Ok(meta) => meta,
            Err(e) => return (Next::Skip, Some(Err(Error::io(Op::Copy, path, e)))),
        };
        if self.options.same_file_system && meta.id.0 != self.root_device {
            Counts::add(&self.counts.not_entered, 1);
            let item = self.item(entry, below, Kind::Dir, Action::NotEntered);
            return (Next::Skip, Some(Ok(item)));
        }
        let attrs = match dir.attrs_at(name) {
            Ok(attrs) => Some(attrs),
            Err(e) if sys::error::of(&e).is_some() => None,
            Err(e) => return (Next::Skip, Some(Err(Error::io(Op::Copy, path, e)))),
        };
        let copy = self.copy_path(below);
        let id = if below.as_os_str().is_empty() {
            self.root_id
        } else if self.dry_run() {
            None
        } else {
            match self.make_dir(below, &copy) {
                Ok(id) => Some(id),
                Err(err) => return (Next::Skip, Some(Err(err))),
            }
        };
        if let (Some(attrs), Some(id)) = (attrs, id) {
            self.lock_dirs().push((below.to_path_buf(), attrs, id));
        }
        Counts::add(&self.counts.dirs, 1);
        let mut item = self.item(entry, below, Kind::Dir, Action::Copied);
        item.link.dir = Some(Flavour::Dir);
        (Next::Descend, Some(Ok(item)))
    }

    /// A file: copied, or made another name of the copy of a file met already.
    fn file(&self, entry: &DirEntry<'_>, below: &Path) -> Option<Result<Item>> {
        let path = entry.path();
        let meta = match entry.lstat() {
            Ok(meta) => meta,
            Err(e) => return Some(Err(Error::io(Op::Copy, path, e))),
        };
        if meta.nlink <= 1 {
            return Some(self.copy_file(entry, below));
        }
        let group = {
            let mut groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(groups.entry(FileId::of(&meta)).or_default())
        };
        group.nlink.fetch_max(meta.nlink, Ordering::Relaxed);
        // The first name to get here copies the file; the others wait for it, then link.
        let mut copied_here = None;
        let first = group.first.get_or_init(|| {
            let copied = self.copy_file(entry, below);
            let first = copied.is_ok().then(|| below.to_path_buf());
            copied_here = Some(copied);
            first
        });
        if let Some(copied) = copied_here {
            return Some(copied);
        }
        let Some(first) = first else {
            // The first copy failed: this name gets its own.
            return Some(self.copy_file(entry, below));
        };
        let copy = self.copy_path(below);
        let linked = self.hard_link(below, first, &copy);
        Some(linked.map(|()| {
            group.linked.store(true, Ordering::Relaxed);
            group.names.fetch_add(1, Ordering::Relaxed);
            Counts::add(&self.counts.hard_links, 1);
            let mut item = self.item(entry, below, Kind::Hardlink, Action::Linked);
            item.link.nlink = Some(meta.nlink);
            item.new_target = Some(self.copy_path(first));
            item.bytes = meta.size;
            item
        }))
    }

    /// The name `below` in the copy made another name of the copy at `first`.
    fn hard_link(&self, below: &Path, first: &Path, copy: &Path) -> Result<()> {
        if self.dry_run() {
            return Ok(());
        }
        let (dir, name) = split(below);
        let (first_dir, first_name) = split(first);
        let pinned = self.pin(dir, copy)?;
        let target = self.pin(first_dir, copy)?;
        pinned
            .dir
            .hard_link_at(name, &target.dir, first_name)
            .map_err(|e| Error::io(Op::Copy, copy, e).with_target(&self.copy_path(first)))
    }

    /// Makes the directory `below` the copy in its parent, held, and holds it: a copy's
    /// directory is new, so anything at its name (another directory included) is a
    /// failure, never given the source directory's permissions. Its identity, for the end.
    fn make_dir(&self, below: &Path, copy: &Path) -> Result<(u64, u128)> {
        let (parent, name) = split(below);
        let pinned = self.pin(parent, copy)?;
        let (dir, id) = pinned
            .dir
            .make_copy_dir_at(name)
            .map_err(|e| Error::io(Op::Copy, copy, e))?;
        self.work.keep(below, dir);
        Ok(id)
    }

    /// The directory `below` the copy, held (made already: its entry came first; where it
    /// was let go of, opened again from the one above without following a link).
    fn pin(&self, below: &Path, copy: &Path) -> Result<Arc<crate::apply::Pinned>> {
        self.work.pin(below, false, copy)?.ok_or_else(|| {
            Error::new(
                Op::Copy,
                copy,
                ErrorKind::DirMissing {
                    dir: self.copy_path(below),
                },
            )
        })
    }

    fn copy_file(&self, entry: &DirEntry<'_>, below: &Path) -> Result<Item> {
        let copy = self.copy_path(below);
        let (dir, name) = entry.dir_and_name();
        let mut item = self.item(entry, below, Kind::File, Action::Copied);
        item.link.dir = Some(Flavour::File);
        if self.dry_run() {
            item.bytes = entry.lstat().map_or(0, |meta| meta.size);
        } else {
            let (to_dir, to_name) = split(below);
            let pinned = self.pin(to_dir, &copy)?;
            let copied = dir
                .copy_file_at(name, &pinned.dir, to_name)
                .map_err(|e| Error::io(Op::Copy, entry.path(), e))?;
            item.bytes = copied.bytes;
            item.action = match copied.data {
                FileData::Cloned => Action::Cloned,
                FileData::Copied { sparse: true } => Action::Sparse,
                FileData::Copied { sparse: false } => Action::Copied,
            };
        }
        Counts::add(&self.counts.files, 1);
        Counts::add(&self.counts.bytes, item.bytes);
        Ok(item)
    }

    /// A link: its record read by the link scan's filter (target as stored, status), then
    /// made in the copy as its class and the options say.
    fn link(&self, entry: &DirEntry<'_>, below: &Path, sink: &mut Sink<'_, '_, Item>) -> Next {
        let links = crate::scan::links_filter(Detail::Status);
        // Its times, for the copy: read first, as the link scan's reads do not change them.
        let (dir, name) = entry.dir_and_name();
        let attrs = dir.attrs_at(name).ok();
        let map = |found: Result<Entry>| match found {
            Ok(found) => Some(self.copy_link(found.into_link(), below, attrs.as_ref())),
            Err(err) => Some(Err(err)),
        };
        sink.adapt(map, |inner| links.visit(entry, inner));
        Next::Skip
    }

    fn copy_link(&self, link: Link, below: &Path, attrs: Option<&Attrs>) -> Result<Item> {
        let copy = self.copy_path(below);
        let not_copied =
            |why: String| Error::new(Op::Copy, &link.path, ErrorKind::Unsupported { why });
        let ty = match link.kind {
            Kind::Symlink => LinkType::Symlink,
            // Not yet: a junction is made only to a directory that is there, so an inner
            // one must wait until the walk has made its target in the copy, and a
            // dangling one cannot be made; and its target is stored in Windows' form.
            Kind::Junction => {
                return Err(not_copied("copying a junction is not supported yet".into()));
            }
            _ => return Err(not_copied(format!("a {} is not copied", link.kind.name()))),
        };
        let Some(stored) = link.target.clone() else {
            return Err(not_copied("it stores no target".into()));
        };
        let (class, action, target) = self.judge(&link, below, &stored);
        let mut item = Item {
            copy: copy.clone(),
            class: Some(class),
            action,
            new_target: (target != stored).then(|| target.clone()),
            bytes: 0,
            link,
        };
        match action {
            Action::Rewritten => Counts::add(&self.counts.rewritten, 1),
            Action::Kept => Counts::add(&self.counts.kept, 1),
            Action::Dropped => Counts::add(&self.counts.dropped, 1),
            _ => {}
        }
        if class == Class::Dangling {
            Counts::add(&self.counts.dangling, 1);
        }
        if action == Action::Dropped {
            return Ok(item);
        }
        if !self.dry_run() {
            let (dir, name) = split(below);
            let pinned = self.pin(dir, &copy)?;
            let place = pinned.place(&copy)?;
            let flavour = match item.link.dir {
                Some(flavour) if place.flavour_matters() && ty == LinkType::Symlink => {
                    Some(flavour)
                }
                _ => None,
            };
            let options = CreateOptions {
                flavour,
                ..CreateOptions::default()
            };
            let at = At::new(&pinned.dir, name, &copy);
            create_new_lean(at, &target, None, ty, &options, place)
                .map_err(|e| e.with_op(Op::Copy))?;
            // Best effort, as `cp -a`: a file system that keeps no times of its own on a
            // link (a reparse point written through ntfs-3g's attribute) fails no copy.
            if let Some(attrs) = attrs {
                let _ = pinned.dir.give_link_times_at(name, attrs);
            }
        }
        match ty {
            LinkType::Junction => Counts::add(&self.counts.junctions, 1),
            _ => Counts::add(&self.counts.symlinks, 1),
        }
        item.link.relative = Some(stored.is_relative());
        Ok(item)
    }

    /// The class of the link `link`, at `below` the source and storing `stored`, what to
    /// do with it, and the target to write into the copy.
    fn judge(&self, link: &Link, below: &Path, stored: &Path) -> (Class, Action, PathBuf) {
        let kept = |class| (class, Action::Kept, stored.to_path_buf());
        match link.status {
            Some(Status::Dangling) => return kept(Class::Dangling),
            Some(Status::Loop | Status::TooLong) => return kept(Class::Loop),
            _ => {}
        }
        // Where the link leads from its directory in the source, and the same from its
        // place in the copy: from their real paths (the walk went through no link below
        // the source), as the kernel resolves `..` physically. An absolute target may name
        // the source by the path it was given.
        let parent = below.parent().unwrap_or(Path::new(""));
        let from_source = join_below(&self.source_real, parent);
        let from_copy = join_below(&self.copy_real, parent);
        let leads = fold(&from_source.join(stored));
        let inside = leads
            .strip_prefix(&self.source_real)
            .or_else(|_| leads.strip_prefix(&self.source_abs))
            .ok()
            .map(Path::to_path_buf);
        match inside {
            Some(rest) => {
                let there = join_below(&self.copy_real, &rest);
                if stored.is_relative() && fold(&from_copy.join(stored)) == there {
                    (Class::Inner, Action::Copied, stored.to_path_buf())
                } else if self.options.inner == Inner::Keep {
                    kept(Class::Inner)
                } else if stored.is_absolute() {
                    (Class::Inner, Action::Rewritten, there)
                } else {
                    // A relative target that leaves the source and comes back by its name
                    // (`../src/x`) would lead into the source from the copy.
                    (
                        Class::Inner,
                        Action::Rewritten,
                        relative_to(&there, &from_copy),
                    )
                }
            }
            None if self.options.outer == Outer::Skip => {
                (Class::Outer, Action::Dropped, stored.to_path_buf())
            }
            None if stored.is_absolute() || fold(&from_copy.join(stored)) == leads => {
                kept(Class::Outer)
            }
            None => (
                Class::Outer,
                Action::Rewritten,
                relative_to(&leads, &from_copy),
            ),
        }
    }

    /// Gives every directory made its permissions and times, deepest first, once its
    /// entries are in (a copy of a read-only directory is made writable until then, and a
    /// directory's times change as entries are made in it).
    fn finish_dirs(&self, mut fail: impl FnMut(Error)) {
        let mut dirs = std::mem::take(&mut *self.lock_dirs());
        dirs.sort_by_key(|(below, _, _)| std::cmp::Reverse(below.components().count()));
        for (below, attrs, id) in dirs {
            let copy = self.copy_path(&below);
            let (parent, name) = if below.as_os_str().is_empty() {
                (Path::new(""), OsStr::new("."))
            } else {
                split(&below)
            };
            let given = self.pin(parent, &copy).and_then(|pinned| {
                pinned
                    .dir
                    .give_dir_attrs_at(name, &attrs, id)
                    .map_err(|e| Error::io(Op::Copy, &copy, e))
            });
            if let Err(err) = given {
                fail(err);
            }
        }
    }

    fn lock_dirs(&self) -> std::sync::MutexGuard<'_, Vec<Made>> {
        self.dirs.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A directory made in the copy: its path below the copy, what to give it at the end, and
/// its identity.
type Made = (PathBuf, Attrs, (u64, u128));

/// `base` joined with `below` (empty for `base` itself).
fn join_below(base: &Path, below: &Path) -> PathBuf {
    if below.as_os_str().is_empty() {
        base.to_path_buf()
    } else {
        base.join(below)
    }
}

impl std::fmt::Debug for Copying {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Copying")
            .field("source", &self.source)
            .field("copy", &self.copy)
            .finish_non_exhaustive()
    }
}
