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
//! Files are made exclusively (`O_CREAT | O_EXCL | O_NOFOLLOW`) under a hidden name and
//! renamed to their own once complete, links with the staged create, hard links with
//! `linkat` between held directories. `--update` and `--mirror` are in `update.rs`.
//!
//! Links are sorted by where they lead, as the kernel follows them (their real path, from
//! the real path of the link's directory in SRC, each `..` after the links before it):
//! inner ones (inside SRC) are made to lead to the same place inside DST, keeping their
//! form; outer ones keep leading where they led; dangling ones and loops are copied as
//! they are. Hard-link groups are kept: only files with more than one name are
//! remembered, by file id, with the name of their first copy in DST (where that copy
//! fails, the next name's copy takes its place, so the group is kept but for that name).

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::apply::{ApplyOptions, Work, split};
use crate::change::ChangeMode;
use crate::create::{CreateOptions, DriveLetter, LinkType, Made, create_new_lean, nt_form};
use crate::error::{Error, ErrorKind, Op, Result};
use crate::link::{Flavour, Kind, Link, Status};
use crate::path::fold;
use crate::resolve::{relative_to, resolve_target};
use crate::scan::walk::{DirEntry, FileId, Filter, Next, Sink, WalkBuilder};
use crate::scan::{Detail, Entry, WalkState};
use crate::sys::{self, At, Attrs, FileData, FileType, Place};
use crate::sys::{Backend as _, Directory as _};
use knot_reparse::Tag;

mod materialize;
mod snapshot;
mod update;

pub use materialize::{MaterializeOptions, MaterializeSummary, Materialized, Outcome, materialize};
use snapshot::Previous;
pub use snapshot::snapshot;
use update::unchanged;

/// Whether this platform copies extended attributes (`CopyOptions::xattrs`): Linux and
/// macOS, through `flistxattr`, `fgetxattr` and `fsetxattr` on descriptors.
const COPIES_XATTRS: bool = cfg!(any(
    target_os = "linux",
    target_os = "android",
    target_vendor = "apple"
));

/// What to do with inner links: those that lead inside the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Inner {
    /// Make them lead to the same place inside the copy, keeping their form: a relative
    /// target that stays inside is kept as it is, an absolute one is rewritten from the
    /// source to the copy. One whose `..` follows a link that leaves the source, or that
    /// leaves it and comes back by another name, is written as where it leads in the
    /// copy: absolute for an absolute target, relative for a relative one.
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
    /// Copy what they lead to in their place: a file as a file, a directory as a
    /// directory with everything below it (that one link followed, the walk below it
    /// following none, as below the source). Each directory is copied once: a link to a
    /// directory copied already is made a symlink to its copy, and one to a directory above
    /// it (a loop) is reported ([`Class::Loop`]), copied as a link and not entered.
    Copy,
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
    /// The copy may exist and hold an earlier copy: only what is missing or differs is
    /// copied, each replacement atomic (the CLI's `--update`).
    pub update: bool,
    /// As `update`, and what the source no longer has is removed from the copy (the
    /// CLI's `--mirror`).
    pub mirror: bool,
    /// Under `update` or `mirror`, a file of the same size and modification time is
    /// compared byte for byte too (the CLI's `--checksum`).
    pub checksum: bool,
    /// Extended attributes, POSIX ACLs among them, copied with each file, directory and
    /// symlink (a symlink's own: Linux and macOS) (the CLI's `--xattrs`); one that cannot
    /// be set fails its entry.
    pub xattrs: bool,
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
    /// An entry of the copy that differed replaced (`--update`, `--mirror`).
    Updated,
    /// An entry of the copy left as it is: the same as in the source (`--update`,
    /// `--mirror`).
    Unchanged,
    /// An entry of the copy the source no longer has, removed (`--mirror`).
    Removed,
    /// An outer link under [`Outer::Copy`]: what it leads to copied in its place.
    Followed,
    /// A socket, left out: it belongs to the program listening on it, and a copy would
    /// be no socket anyone listens on.
    Skipped,
    /// Another name of a file copied already, or a file unchanged since the previous
    /// snapshot, copied instead of linked: the file it would have been linked to has as
    /// many names as its file system allows (the link limit: 65,000 on ext4, 1,023 on
    /// NTFS). The next names of its group are linked to this copy.
    AtLinkLimit,
    /// Another name of a file copied on its own, as the copy of the first name of its
    /// group met failed (that failure reported with it): the next names of its group are
    /// linked to this copy, so the group is kept but for the name that failed.
    FirstFailed,
    /// A file unchanged since the previous snapshot, copied instead of linked: the system
    /// refused the hard link to its file there (`EPERM`: `fs.protected_hardlinks` lets a
    /// user link only to a file they own or may read and write; `EXDEV`: that file is on
    /// another file system, a mount inside the previous snapshot).
    LinkRefused,
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
            Action::Updated => "updated",
            Action::Unchanged => "unchanged",
            Action::Removed => "removed",
            Action::Skipped => "skipped",
            Action::Followed => "followed",
            Action::AtLinkLimit => "link-limit",
            Action::FirstFailed => "first-failed",
            Action::LinkRefused => "link-refused",
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
    /// The kind of link made in the copy, where it is not the source's: a junction made as
    /// an absolute directory symlink to the same directory where the copy's file system
    /// has no junctions (a copy from an NTFS volume onto ext4).
    pub made: Option<Kind>,
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
    /// Hard-link groups kept whole: files with more than one name in the copy.
    pub groups: u64,
    /// Of the groups kept whole, the unsaturated ones: files with names outside the source
    /// too, which are not copied (the copy's group has fewer names than the source's
    /// file). Not the groups split at the link limit or short of a name, which are
    /// counted apart.
    pub unsaturated: u64,
    /// Hard-link groups in the copy short of a name whose copy or link failed (each
    /// failure counted in `failed`): the copy's file has the other names. Where the first
    /// name's copy failed, the next name is copied in its place ([`Action::FirstFailed`])
    /// and the others linked to that copy. Not counted in `groups`.
    pub short: u64,
    /// Hard-link groups that reached the file system's link limit in the copy: each is
    /// there as several files, the names past the limit linked to a new copy
    /// ([`Action::AtLinkLimit`]); with the files unchanged since the previous snapshot
    /// copied because their file there had reached it. Not counted in `groups`.
    pub split: u64,
    /// Entries unchanged since an earlier copy, so not copied again (not counted in
    /// `files`, `dirs`, `symlinks` or `hard_links`): under [`CopyOptions::update`] or
    /// [`CopyOptions::mirror`], entries of the copy left as they were
    /// ([`Action::Unchanged`]); in a [`snapshot`], files made hard links to their file in
    /// the previous snapshot ([`Action::Linked`]).
    pub unchanged: u64,
    /// In a [`snapshot`], files unchanged since the previous snapshot copied because the
    /// system refused the hard link to their file there ([`Action::LinkRefused`]); not
    /// counted in `unchanged`, but in `files`.
    pub refused: u64,
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
    /// Entries of the copy replaced (counted in `files`, `dirs`, `symlinks`,
    /// `junctions`, `hard_links` or `special` too).
    pub updated: u64,
    /// Entries of the copy removed (a directory with everything in it counts once).
    pub removed: u64,
    /// Special files made: FIFOs and devices.
    pub special: u64,
    /// Sockets left out.
    pub skipped: u64,
    /// Entries that failed.
    pub failed: u64,
}

impl Summary {
    /// Whether the copy was left as it was: nothing made, replaced or removed (a second
    /// `--mirror` of an unchanged source).
    pub fn nothing_changed(&self) -> bool {
        self.files == 0
            && self.dirs == 0
            && self.symlinks == 0
            && self.junctions == 0
            && self.hard_links == 0
            && self.special == 0
            && self.updated == 0
            && self.removed == 0
    }
}

/// Copies the directory `source` to `copy`, keeping its links, and calls `report` with
/// every entry's [`Item`] or error, from whichever thread met it. Returns the counts.
///
/// `copy` must not exist (it is made) or be an empty directory, unless
/// [`CopyOptions::update`] or [`CopyOptions::mirror`] is set: then it may hold an earlier
/// copy, and only what is missing or differs is copied, every replacement atomic (made
/// under a hidden name, then renamed over the old entry; [`Action::Updated`]), what is the
/// same left as it is ([`Action::Unchanged`]); under `mirror`, what `source` no longer has
/// is removed ([`Action::Removed`]), links as links, directories through held directories,
/// never entering a mount point. Each file is written under a hidden name and renamed to
/// its own once complete. Files are copied with
/// their data (a reflink where the file system shares extents, holes kept in a sparse
/// file), permissions, owner (where this process may give it) and times; directories are
/// made with their permissions and times (0700 until the end); symlinks as symlinks
/// (junctions are not copied yet: each is reported, [`ErrorKind::Unsupported`]); the
/// names of a file with several inside `source` as names of one file; a WOF-compressed,
/// deduplicated or cloud file as its data, a plain file, where the system gives that data
/// (Windows; not a cloud file whose data is not on the computer, which is not downloaded),
/// else reported with why ([`ErrorKind::Unsupported`]), as is any other reparse point that
/// is no link (under `update` or `mirror` such files are reported too, for now). Inner links
/// ([`Class::Inner`]) are made to lead to the same place inside `copy` unless
/// [`Inner::Keep`]; outer ones as [`Outer`] says; dangling ones and loops as they are.
///
/// # Errors
/// The whole copy fails, before anything is made, where `source` is no directory
/// ([`ErrorKind::SourceNotADirectory`]), `copy` is a link, not followed
/// ([`ErrorKind::DestinationIsALink`]), or another entry that is no directory
/// ([`ErrorKind::DestinationNotADirectory`]), or a directory with entries (but under
/// `update` or `mirror`; [`ErrorKind::DestinationNotEmpty`]), or lies inside `source`
/// ([`ErrorKind::DestinationInsideSource`]), `update` or `mirror` is asked with
/// [`Outer::Copy`] ([`ErrorKind::Unsupported`]), or either cannot be read or made. Then
/// each entry's own failure goes to `report` and the others go on.
///
/// # Platform behavior
/// Unix: file data through descriptors opened from held directories (`FICLONE`, then
/// `copy_file_range`, then `read`/`write`; `SEEK_DATA`/`SEEK_HOLE` where the file is
/// sparse). Windows: file data through handles opened relative to held directories
/// (`FSCTL_DUPLICATE_EXTENTS_TO_FILE` where the volume clones blocks, as ReFS and Dev
/// Drive do, else read and write, only the allocated ranges of a sparse file), the
/// read-only, hidden, system, archive and not-indexed attributes and the access and write
/// times; no security descriptors, creation times or alternate data streams. Each file
/// is written under a hidden name and renamed to its own once whole, on Windows as on
/// Unix. On Windows, [`CopyOptions::update`], [`CopyOptions::mirror`] and
/// [`Outer::Copy`] are not available yet. Elsewhere, and for what is not available:
/// refused before anything is made ([`ErrorKind::Unsupported`]).
pub fn copy<S, D, F>(source: S, copy: D, options: &CopyOptions, report: F) -> Result<Summary>
where
    S: AsRef<Path>,
    D: AsRef<Path>,
    F: Fn(Result<Item>) + Sync,
{
    copy_inner(source.as_ref(), copy.as_ref(), None, options, &report)
}

/// [`copy`] into `staged`, a new directory beside where the copy will be renamed to
/// (`knot move` stages its copy under a hidden name): inner links are made to lead into
/// `named`, the copy's real path once renamed, not into `staged`.
///
/// `source_id` is the identity of the directory the caller holds as the source: the
/// source's path must still lead to it, or the copy is refused before anything is made.
pub(crate) fn copy_staged(
    source: (&Path, (u64, u128)),
    staged: &Path,
    named: &Path,
    options: &CopyOptions,
    report: &(dyn Fn(Result<Item>) + Sync),
) -> Result<Summary> {
    let (source, source_id) = source;
    let copy = Copy {
        to: staged,
        named: Some(named),
        source_id: Some(source_id),
    };
    copy_into(source, copy, None, options, report)
}

/// Where a copy is written, and, where it is staged under another name, the real path
/// its inner links lead into.
struct Copy<'a> {
    to: &'a Path,
    named: Option<&'a Path>,
    source_id: Option<(u64, u128)>,
}

fn copy_inner(
    source: &Path,
    copy: &Path,
    previous: Option<&Path>,
    options: &CopyOptions,
    report: &(dyn Fn(Result<Item>) + Sync),
) -> Result<Summary> {
    let to = Copy {
        to: copy,
        named: None,
        source_id: None,
    };
    copy_into(source, to, previous, options, report)
}

fn copy_into(
    source: &Path,
    to: Copy<'_>,
    previous: Option<&Path>,
    options: &CopyOptions,
    report: &(dyn Fn(Result<Item>) + Sync),
) -> Result<Summary> {
    let copy = to.to;
    let dry_run = options.mode == ChangeMode::DryRun;
    if !sys::Os::COPIES_FILES {
        let why = "copying a tree is not available on this platform yet".to_owned();
        return Err(Error::new(Op::Copy, source, ErrorKind::Unsupported { why }));
    }
    if options.xattrs && !COPIES_XATTRS {
        let why = "copying extended attributes is not available on this platform yet; \
                   copy without --xattrs"
            .to_owned();
        return Err(Error::new(Op::Copy, source, ErrorKind::Unsupported { why }));
    }
    if !sys::Os::UPDATES_COPIES {
        let asked = if previous.is_some() {
            Some("a snapshot")
        } else if options.mirror {
            Some("--mirror")
        } else if options.update {
            Some("--update")
        } else if options.outer == Outer::Copy {
            Some("--outer copy")
        } else {
            None
        };
        if let Some(asked) = asked {
            let why = format!(
                "{asked} is not available on this platform yet; a plain copy into a new or \
                 empty DST is (knot copy SRC DST, outer links kept or skipped)"
            );
            return Err(Error::new(Op::Copy, source, ErrorKind::Unsupported { why }));
        }
    }
    let fail = |path: &Path, e| Error::io(Op::Copy, path, e);
    let source_meta = sys::Os::stat(source).map_err(|e| fail(source, e))?;
    if to.source_id.is_some_and(|id| id != source_meta.id) {
        let replaced = std::io::Error::from(sys::error::Error::Replaced);
        return Err(Error::io(Op::Copy, source, replaced));
    }
    if source_meta.ty != FileType::Dir {
        return Err(Error::new(Op::Copy, source, ErrorKind::SourceNotADirectory));
    }
    let source_real = crate::resolve::canonical(source).map_err(|e| fail(source, e))?;
    // The source by the path it was given, which an absolute target may name it by: only
    // where that path, folded, is still the source (`x/..` after a link `x` is not).
    let source_abs = crate::path::absolute(source)
        .ok()
        .filter(|abs| crate::resolve::canonical(abs).is_ok_and(|real| real == source_real))
        .unwrap_or_else(|| source_real.clone());
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
            // An earlier copy: held as it is (opened without following a link).
            Ok(None) if options.update || options.mirror => {
                Some(parent.hold_at(name).map_err(|e| fail(copy, e))?)
            }
            Ok(None) => return Err(not_empty(copy, previous, &meta)),
            Err(e) => return Err(fail(copy, e)),
        },
        Ok(meta) => return Err(not_a_directory(copy, &meta)),
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
    let root_made = root.is_none();
    let mut copy_real = real_of(&root)?;
    if copy_real.starts_with(&source_real) {
        let kind = ErrorKind::DestinationInsideSource {
            source: source.to_path_buf(),
        };
        return Err(Error::new(Op::Copy, copy, kind));
    }
    // The other way round: an earlier copy (or any directory) that holds the source, by
    // path or, through a link or a bind mount on the way, by the identity of each
    // directory above the source.
    if let Some(dir) = &root {
        let held = dir.meta().map_err(|e| fail(copy, e))?.id;
        if source_real.starts_with(&copy_real) || holds(held, source)? {
            let kind = ErrorKind::SourceInsideDestination {
                source: source.to_path_buf(),
            };
            return Err(Error::new(Op::Copy, copy, kind));
        }
    }
    let previous = match previous {
        Some(previous) => {
            let copy_dev = root
                .as_ref()
                .unwrap_or(&parent)
                .meta()
                .map_err(|e| fail(copy, e))?;
            let ends = snapshot::Ends {
                copy,
                copy_real: &copy_real,
                copy_dev: copy_dev.id.0,
                source_id: source_meta.id,
            };
            Some(Previous::hold(previous, &ends)?)
        }
        None => None,
    };
    if root.is_none() && !dry_run {
        let (dir, _) = parent.make_copy_dir_at(name).map_err(|e| fail(copy, e))?;
        root = Some(dir);
        copy_real = real_of(&root)?;
    }
    if let Some(named) = to.named {
        copy_real = named.to_path_buf();
    }
    let root_meta = match &root {
        Some(dir) => Some(dir.meta().map_err(|e| fail(copy, e))?),
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
    let ends = Ends {
        source: source.to_path_buf(),
        source_abs,
        source_real,
        source_meta,
        copy: copy.to_path_buf(),
        copy_real,
        root_meta,
        root_made,
        work,
        previous,
    };
    Ok(Copying::new(*options, ends).run(report))
}

/// What a copy is made from and into: the source (as given, as a full path, its real
/// path, its metadata), the copy (as given, its real path, its root's metadata where it
/// is held, whether this copy makes it, its directories held), and the previous snapshot.
struct Ends {
    source: PathBuf,
    source_abs: PathBuf,
    source_real: PathBuf,
    source_meta: sys::Meta,
    copy: PathBuf,
    copy_real: PathBuf,
    root_meta: Option<sys::Meta>,
    root_made: bool,
    work: Work,
    previous: Option<Previous>,
}

impl Copying {
    fn new(options: CopyOptions, ends: Ends) -> Copying {
        let source_root = sys::Dir::hold(&ends.source_real).ok();
        let copying = Copying {
            source_root,
            options,
            source: ends.source,
            source_abs: ends.source_abs,
            source_real: ends.source_real,
            copy: ends.copy,
            copy_real: ends.copy_real,
            root_id: ends.root_meta.as_ref().map(|meta| meta.id),
            root_made: ends.root_made,
            root_device: ends.source_meta.id.0,
            work: ends.work,
            previous: ends.previous,
            groups: Mutex::new(HashMap::new()),
            dirs: Mutex::new(Vec::new()),
            junctions: Mutex::new(Vec::new()),
            followed: Mutex::new(HashMap::new()),
            follows: AtomicBool::new(false),
            counts: Counts::default(),
            source_id: None,
        };
        if options.outer == Outer::Copy {
            // The source is copied to the copy's root; the copy is never copied into
            // itself.
            let mut followed = copying.lock_followed();
            followed.insert(FileId::of(&ends.source_meta), PathBuf::new());
            if let Some(meta) = &ends.root_meta {
                followed.insert(FileId::of(meta), PathBuf::new());
            }
        }
        copying
    }

    /// Walks the source and copies it, then makes the junctions and gives the directories
    /// their attributes, with each entry's item or error to `report`. The counts.
    fn run(self, report: &(dyn Fn(Result<Item>) + Sync)) -> Summary {
        let failed = AtomicU64::new(0);
        let note = |item: Result<Item>| {
            if item.is_err() {
                failed.fetch_add(1, Ordering::Relaxed);
            }
            report(item);
        };
        let mut walk = WalkBuilder::new(&self.source);
        walk.threads(self.options.threads);
        // The walk follows the links the filter says to follow, and no other.
        walk.follow(self.options.outer == Outer::Copy);
        walk.run_parallel(&self, &mut || {
            let note = &note;
            Box::new(move |item: Result<Item>| {
                note(item);
                WalkState::Continue
            })
        });
        if !self.dry_run() {
            // Junctions first, while their directories are still writable.
            self.finish_junctions(note);
            self.finish_dirs(|err| note(Err(err)));
        }
        let mut summary = self.counts.summary();
        for group in self
            .groups
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
        {
            if group.split.load(Ordering::Relaxed) {
                summary.split += 1;
            } else if group.failed.load(Ordering::Relaxed) {
                // Short of a name where the file was copied for the others.
                let newest = group.newest.lock().unwrap_or_else(PoisonError::into_inner);
                if matches!(group.first.get(), Some(Ok(_))) || newest.is_some() {
                    summary.short += 1;
                }
            } else if group.linked.load(Ordering::Relaxed) {
                summary.groups += 1;
                // The first copy's name and the names linked to it.
                let names = 1 + group.names.load(Ordering::Relaxed);
                if names < group.nlink.load(Ordering::Relaxed) {
                    summary.unsaturated += 1;
                }
            }
        }
        summary.failed = failed.into_inner();
        summary
    }
}

/// Whether the directory `id` is `source` or one of the directories above it, each opened
/// from the one below (`..`, as the kernel goes up: through a bind mount's parent too).
fn holds(id: (u64, u128), source: &Path) -> Result<bool> {
    let fail = |e| Error::io(Op::Copy, source, e);
    let mut dir = sys::Dir::open(source).map_err(fail)?;
    // Bounded: the root is its own parent, and no path is deeper than this.
    for _ in 0..4096 {
        let meta = dir.meta().map_err(fail)?;
        if meta.id == id {
            return Ok(true);
        }
        let up = dir.parent().map_err(fail)?;
        if up.meta().map_err(fail)?.id == meta.id {
            return Ok(false);
        }
        dir = up;
    }
    Ok(false)
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
    updated: AtomicU64,
    removed: AtomicU64,
    special: AtomicU64,
    skipped: AtomicU64,
    unchanged: AtomicU64,
    /// Files unchanged since the previous snapshot, copied at its file's link limit.
    at_limit: AtomicU64,
    /// Files unchanged since the previous snapshot, copied as the link to its file was
    /// refused.
    refused: AtomicU64,
}

impl Counts {
    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    fn take(counter: &AtomicU64, n: u64) {
        counter.fetch_sub(n, Ordering::Relaxed);
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
            split: get(&self.at_limit),
            short: 0,
            unchanged: get(&self.unchanged),
            refused: get(&self.refused),
            hard_links: get(&self.hard_links),
            rewritten: get(&self.rewritten),
            kept: get(&self.kept),
            dropped: get(&self.dropped),
            dangling: get(&self.dangling),
            not_entered: get(&self.not_entered),
            updated: get(&self.updated),
            removed: get(&self.removed),
            special: get(&self.special),
            skipped: get(&self.skipped),
            failed: 0,
        }
    }
}

/// A file with more than one name: the path below the copy of its first copy, once made
/// (`Err` with the path below the copy of that name where its copy failed); the copy its
/// next names are linked to (the first, the one made in its place where it failed, or the
/// newest one made where a link would have passed the link limit); whether another name
/// was linked to it, how many were, how many names the file has (inside the source and
/// out), whether it reached the limit, and whether the copy or link of a name failed.
#[derive(Debug, Default)]
struct Group {
    first: OnceLock<std::result::Result<PathBuf, PathBuf>>,
    newest: Mutex<Option<PathBuf>>,
    linked: AtomicBool,
    names: AtomicU64,
    nlink: AtomicU64,
    split: AtomicBool,
    failed: AtomicBool,
}

impl Group {
    /// `copied`, the outcome of one of the group's names, with the group marked short of
    /// that name where it failed.
    fn outcome(&self, copied: Result<Item>) -> Result<Item> {
        if copied.is_err() {
            self.failed.store(true, Ordering::Relaxed);
        }
        copied
    }
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
    /// The source's root, held where it could be opened: where the real paths of places
    /// named below it are asked, to judge links (read only).
    source_root: Option<sys::Dir>,
    /// The identity of the copy's root, held (none in a dry run that makes it).
    root_id: Option<(u64, u128)>,
    /// Whether the copy's root is made by this copy (or, in a dry run, would be).
    root_made: bool,
    /// The source's file system, for `same_file_system`.
    root_device: u64,
    /// The identity the source's root must have once the walk opened it, where the caller
    /// looked at it through a link (`knot materialize`): another is not copied.
    source_id: Option<(u64, u128)>,
    /// The copy's directories, held.
    work: Work,
    /// The previous snapshot, for [`snapshot`].
    previous: Option<Previous>,
    /// Files with more than one name, by file id.
    groups: Mutex<HashMap<FileId, Arc<Group>>>,
    /// Every directory made, below the copy, with what to give it once its entries are in
    /// and its identity, checked then.
    dirs: Mutex<Vec<MadeDir>>,
    /// Junctions to make once the walk is done: a junction is made only to a directory
    /// that is there, and an inner one leads to a directory of the copy.
    junctions: Mutex<Vec<Junction>>,
    /// Under [`Outer::Copy`]: every directory copied, by file id, with the path below the
    /// copy of its copy (the source's and the copy's roots at the copy's root), so each is
    /// copied once; and whether a link was followed (then a link's directory in the source
    /// is no longer found by its path below the source).
    followed: Mutex<HashMap<FileId, PathBuf>>,
    follows: AtomicBool,
    counts: Counts,
}

impl Filter for Copying {
    type Item = Item;

    fn visit(&self, entry: &DirEntry<'_>, sink: &mut Sink<'_, '_, Item>) -> Next {
        if entry.depth() == 0
            && let Some(id) = self.source_id
            && entry.lstat().map(|meta| meta.id).ok() != Some(id)
        {
            // The root the walk opened (by its path) is not the directory looked at.
            let replaced = std::io::Error::from(sys::error::Error::Replaced);
            let _ = sink.send(Err(Error::io(Op::Copy, entry.path(), replaced)));
            return Next::Quit;
        }
        let below = entry
            .path()
            .strip_prefix(&self.source)
            .unwrap_or(Path::new(""))
            .to_path_buf();
        let (next, item) = match entry.file_type() {
            FileType::Dir if self.is_the_copy(entry, &below) => {
                // Met inside the source (through a bind mount, say): copying it would copy
                // the copy without end. A loop, not entered.
                Counts::add(&self.counts.not_entered, 1);
                let mut item = self.item(entry, &below, Kind::Dir, Action::NotEntered);
                item.class = Some(Class::Loop);
                (Next::Skip, Some(Ok(item)))
            }
            FileType::Dir if self.updating() => return self.update_dir(entry, &below, sink),
            FileType::Dir => self.dir(entry, &below),
            FileType::File => (Next::Skip, self.file(entry, &below)),
            FileType::Link => return self.link(entry, &below, sink),
            FileType::Other => (Next::Skip, Some(self.special(entry, &below))),
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
            made: None,
        }
    }

    /// A directory: made in the copy (the root is made already), its permissions and
    /// times remembered for the end; on another file system under `same_file_system`,
    /// reported and not entered.
    /// Whether the directory `entry`, `below` the source, is the copy's root.
    fn is_the_copy(&self, entry: &DirEntry<'_>, below: &Path) -> bool {
        !below.as_os_str().is_empty()
            && self.root_id.is_some()
            && entry
                .lstat()
                .is_ok_and(|meta| Some(meta.id) == self.root_id)
    }

    fn dir(&self, entry: &DirEntry<'_>, below: &Path) -> (Next, Option<Result<Item>>) {
        let path = entry.path();
        let (dir, name) = entry.dir_and_name();
        let meta = match entry.lstat() {
            Ok(meta) => meta,
            Err(e) => return (Next::Skip, Some(Err(Error::io(Op::Copy, path, e)))),
        };
        if self.options.same_file_system && meta.id.0 != self.root_device {
            return (Next::Skip, Some(self.mount_point(entry, below, true)));
        }
        // Under `--outer copy`, a directory met again (the source inside a directory an
        // outer link led to, or one copied through a link already): a loop, not entered.
        if self.options.outer == Outer::Copy && !below.as_os_str().is_empty() {
            let mut followed = self.lock_followed();
            if followed.contains_key(&FileId::of(&meta)) {
                drop(followed);
                Counts::add(&self.counts.not_entered, 1);
                let mut item = self.item(entry, below, Kind::Dir, Action::NotEntered);
                item.class = Some(Class::Loop);
                return (Next::Skip, Some(Ok(item)));
            }
            followed.insert(FileId::of(&meta), below.to_path_buf());
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
        if let (Some(attrs), Some(id)) = (attrs, id)
            && let Err(err) = self.remember_dir(below, (dir, name), attrs, id)
        {
            return (Next::Descend, Some(Err(err)));
        }
        Counts::add(&self.counts.dirs, 1);
        let mut item = self.item(entry, below, Kind::Dir, Action::Copied);
        item.link.dir = Some(Flavour::Dir);
        (Next::Descend, Some(Ok(item)))
    }

    /// A directory on another file system under `same_file_system`: reported and not
    /// entered; where `make` (it is not in DST), made there empty, with the permissions
    /// and times it shows (its file system's root's), as `cp -x` and `rsync -x` make it,
    /// so a copy of a root file system keeps its mount points to mount on.
    fn mount_point(&self, entry: &DirEntry<'_>, below: &Path, make: bool) -> Result<Item> {
        Counts::add(&self.counts.not_entered, 1);
        let item = self.item(entry, below, Kind::Dir, Action::NotEntered);
        if !make || self.dry_run() || below.as_os_str().is_empty() {
            return Ok(item);
        }
        let (dir, name) = entry.dir_and_name();
        let attrs = match dir.attrs_at(name) {
            Ok(attrs) => Some(attrs),
            Err(e) if sys::error::of(&e).is_some() => None,
            Err(e) => return Err(Error::io(Op::Copy, entry.path(), e)),
        };
        let id = self.make_dir(below, &item.copy)?;
        if let Some(attrs) = attrs {
            self.remember_dir(below, (dir, name), attrs, id)?;
        }
        Ok(item)
    }

    /// Counts `item` and gives it its action by what `--update` found at its name
    /// (`there`, as [`Copying::update_link`] says): `true` where that is left as it is
    /// (the item is done), `false` where the entry is made (replacing what is there, if
    /// anything).
    fn mark(&self, item: &mut Item, there: Option<Action>) -> bool {
        match there {
            Some(Action::Unchanged) => {
                Counts::add(&self.counts.unchanged, 1);
                item.action = Action::Unchanged;
                true
            }
            Some(_) => {
                Counts::add(&self.counts.updated, 1);
                item.action = Action::Updated;
                false
            }
            None => false,
        }
    }

    /// A file: copied, or made another name of the copy of a file met already.
    fn file(&self, entry: &DirEntry<'_>, below: &Path) -> Option<Result<Item>> {
        let path = entry.path();
        let meta = match entry.lstat() {
            Ok(meta) => meta,
            Err(e) => return Some(Err(Error::io(Op::Copy, path, e))),
        };
        if meta.nlink <= 1 {
            return Some(self.place_file(entry, below));
        }
        let group = {
            let mut groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(groups.entry(FileId::of(&meta)).or_default())
        };
        group.nlink.fetch_max(meta.nlink, Ordering::Relaxed);
        // The first name to get here copies the file; the others wait for it, then link.
        let mut copied_here = None;
        let first = group.first.get_or_init(|| {
            let copied = self.place_file(entry, below);
            let first = match copied {
                Ok(_) => Ok(below.to_path_buf()),
                Err(_) => Err(below.to_path_buf()),
            };
            copied_here = Some(copied);
            first
        });
        if let Some(copied) = copied_here {
            return Some(group.outcome(copied));
        }
        let copy = self.copy_path(below);
        // Under the group's lock, which a link to one file waits for in the kernel anyway:
        // where the link limit is met, or the first copy failed, one name makes the new
        // copy the next ones link to.
        let mut newest = group.newest.lock().unwrap_or_else(PoisonError::into_inner);
        let to = match (newest.as_ref(), first) {
            (Some(to), _) => to.clone(),
            (None, Ok(first)) => newest.insert(first.clone()).clone(),
            (None, Err(failed)) => {
                let copied = self.place_file(entry, below);
                if copied.is_ok() {
                    *newest = Some(below.to_path_buf());
                }
                let failed = self.copy_path(failed);
                return Some(group.outcome(copied.map(|item| first_failed(item, failed))));
            }
        };
        let to_path = self.copy_path(&to);
        let (to_dir, to_name) = split(&to);
        // Under --update, DST's name may be there already: left as it is, or replaced.
        let there = if self.updating() {
            self.update_hard_link(below, &to, &copy)
        } else {
            Ok(None)
        };
        let linked = there.and_then(|there| match there {
            Some(action) => Ok(action),
            None if self.dry_run() => Ok(Action::Linked),
            None => self
                .pin(to_dir, &copy)
                .and_then(|target| self.hard_link(below, &copy, &target.dir, to_name, &to_path))
                .map(|linked| {
                    if linked {
                        Action::Linked
                    } else {
                        Action::AtLinkLimit
                    }
                }),
        });
        Some(match linked {
            Ok(Action::AtLinkLimit) => {
                group.split.store(true, Ordering::Relaxed);
                let copied = self.place_file(entry, below);
                if copied.is_ok() {
                    *newest = Some(below.to_path_buf());
                }
                group.outcome(copied.map(|item| at_link_limit(item, to_path)))
            }
            Ok(action) => {
                group.linked.store(true, Ordering::Relaxed);
                group.names.fetch_add(1, Ordering::Relaxed);
                match action {
                    Action::Unchanged => Counts::add(&self.counts.unchanged, 1),
                    Action::Updated => {
                        Counts::add(&self.counts.updated, 1);
                        Counts::add(&self.counts.hard_links, 1);
                    }
                    _ => Counts::add(&self.counts.hard_links, 1),
                }
                let mut item = self.item(entry, below, Kind::Hardlink, action);
                item.link.nlink = Some(meta.nlink);
                item.new_target = Some(to_path);
                item.bytes = meta.size;
                Ok(item)
            }
            Err(err) => group.outcome(Err(err)),
        })
    }

    /// The name `below` in the copy (`copy`) made another name of the file `to_name` in
    /// `to_dir` (at `to_path`); `false` where that file has as many names as its file
    /// system allows, and nothing was made.
    fn hard_link(
        &self,
        below: &Path,
        copy: &Path,
        to_dir: &sys::Dir,
        to_name: &OsStr,
        to_path: &Path,
    ) -> Result<bool> {
        if self.dry_run() {
            return Ok(true);
        }
        let (dir, name) = split(below);
        let pinned = self.pin(dir, copy)?;
        match pinned.dir.hard_link_at(name, to_dir, to_name) {
            Ok(()) => Ok(true),
            Err(e) if is_link_limit(&e) => Ok(false),
            Err(e) => Err(Error::io(Op::Copy, copy, e).with_target(to_path)),
        }
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

    /// A file copied, or under `--update` copied where it is missing or differs.
    fn place_file(&self, entry: &DirEntry<'_>, below: &Path) -> Result<Item> {
        if self.updating() {
            self.update_file(entry, below)
        } else {
            self.copy_file(entry, below)
        }
    }

    /// A file copied, or, in a [`snapshot`], linked to the previous one's file where that
    /// is unchanged.
    fn copy_file(&self, entry: &DirEntry<'_>, below: &Path) -> Result<Item> {
        match &self.previous {
            Some(previous) => self.link_or_copy(previous, entry, below),
            None => self.copy_data(entry, below),
        }
    }

    fn copy_data(&self, entry: &DirEntry<'_>, below: &Path) -> Result<Item> {
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
                .copy_file_at(name, &pinned.dir, to_name, self.options.xattrs)
                .map_err(|e| update::copy_error(entry.path(), &copy, e))?;
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

    /// A special file: a FIFO or a device made anew in the copy, as `cp -a` makes them; a
    /// socket reported and left out. Under `--update`, one there already is left as it is
    /// or replaced (`update_special`).
    fn special(&self, entry: &DirEntry<'_>, below: &Path) -> Result<Item> {
        let copy = self.copy_path(below);
        let (dir, name) = entry.dir_and_name();
        if self.updating()
            && let Some(item) = self.update_special(entry, below)?
        {
            return Ok(item);
        }
        let mut item = self.item(entry, below, Kind::Special, Action::Copied);
        let (special, made) = if self.dry_run() {
            let special = sys::Os::special(entry.path(), false);
            let special = special.unwrap_or(crate::link::Special::Fifo);
            (special, special != crate::link::Special::Socket)
        } else {
            let (to_dir, to_name) = split(below);
            let pinned = self.pin(to_dir, &copy)?;
            dir.copy_special_at(name, &pinned.dir, to_name)
                .map_err(|e| special_error(entry.path(), e))?
        };
        item.link.special = Some(special);
        if made {
            Counts::add(&self.counts.special, 1);
        } else {
            Counts::add(&self.counts.skipped, 1);
            item.action = Action::Skipped;
        }
        Ok(item)
    }

    /// A link: its record read by the link scan's filter (target as stored, status), then
    /// made in the copy as its class and the options say.
    fn link(&self, entry: &DirEntry<'_>, below: &Path, sink: &mut Sink<'_, '_, Item>) -> Next {
        let links = crate::scan::links_filter(Detail::Status);
        // Its times, for the copy: read first, as the link scan's reads do not change them.
        let (dir, name) = entry.dir_and_name();
        let attrs = dir.attrs_at(name).ok();
        // How links are read where it is: on an NTFS volume read through ntfs-3g, a target
        // is stored in Windows' form (`..\a`, `C:\a`).
        let place = dir.place().ok();
        // Below a link followed (`--outer copy`), the link's directory in the source is
        // found by its real path.
        let parent = entry.path().parent().unwrap_or(Path::new(""));
        let real_parent = if self.follows.load(Ordering::Relaxed) {
            dir.real_dir(parent).ok()
        } else {
            None
        };
        let source = Source {
            dir,
            name,
            real_parent: real_parent.as_deref(),
            attrs,
            place: place.as_ref(),
        };
        let follow = std::cell::Cell::new(None);
        let map = |found: Result<Entry>| match found {
            Ok(found) => self.copy_link(found.into_link(), below, &source, &follow),
            Err(err) => Some(Err(err)),
        };
        if sink.adapt(map, |inner| links.visit(entry, inner)) == Next::Quit {
            return Next::Quit;
        }
        let Some(id) = follow.get() else {
            return Next::Skip;
        };
        // Under --mirror, what the copy of the directory followed has that it has not.
        if self.options.mirror {
            for removed in self.remove_followed_extras(entry, below, id) {
                if sink.send(removed) == WalkState::Quit {
                    return Next::Quit;
                }
            }
        }
        Next::Follow(id)
    }

    /// The link `link`, found at `below` the source (`source`), made in the copy: a
    /// symlink now, a junction once the walk is done (`None` now); under `--outer copy`,
    /// an outer one's file copied, or its directory made and `follow` set for the walk to
    /// go into it.
    fn copy_link(
        &self,
        link: Link,
        below: &Path,
        source: &Source<'_>,
        follow: &std::cell::Cell<Option<FileId>>,
    ) -> Option<Result<Item>> {
        let (attrs, from) = (source.attrs, source.place);
        let copy = self.copy_path(below);
        let not_copied =
            |why: String| Error::new(Op::Copy, &link.path, ErrorKind::Unsupported { why });
        let ty = match link.kind {
            Kind::Symlink => LinkType::Symlink,
            Kind::Junction => LinkType::Junction,
            Kind::Reparse(reparse) => {
                return Some(self.copy_reparse(link, reparse.tag(), below, source));
            }
            _ => {
                let why = format!("a {} is not copied", link.kind.name());
                return Some(Err(not_copied(why)));
            }
        };
        let Some(stored) = link.target.clone() else {
            return Some(Err(not_copied("it stores no target".into())));
        };
        // A target in Windows' form is judged, and made in the copy, as the path of this
        // system it names (a junction's drive letter kept); one on a drive this system
        // does not reach is kept as it is.
        let nt = match link.status {
            Some(Status::Elsewhere) => None,
            _ => from.and_then(|place| nt_form(place, ty, &stored)),
        };
        let (linux, drive) = match nt {
            Some(nt) => (nt.path, nt.drive),
            None => (stored.clone(), None),
        };
        let (class, action, target) = self.judge(&link, below, &linux, source);
        let mut item = Item {
            copy: copy.clone(),
            class: Some(class),
            action,
            new_target: (target != linux).then(|| target.clone()),
            bytes: 0,
            made: None,
            link,
        };
        if class == Class::Outer && self.options.outer == Outer::Copy {
            match self.copy_outer(item, below, &linux, source, follow) {
                Ok(done) => return Some(done),
                // A loop: made a link, as `--outer keep` makes it.
                Err(link) => item = *link,
            }
        }
        match item.action {
            Action::Rewritten => Counts::add(&self.counts.rewritten, 1),
            Action::Kept => Counts::add(&self.counts.kept, 1),
            Action::Dropped => Counts::add(&self.counts.dropped, 1),
            _ => {}
        }
        if class == Class::Dangling {
            Counts::add(&self.counts.dangling, 1);
        }
        if action == Action::Dropped {
            return Some(Ok(item));
        }
        let xattrs = match self.link_xattrs(ty, source, &item.link.path) {
            Ok(xattrs) => xattrs,
            Err(err) => return Some(Err(err)),
        };
        // Under --update, what stands at its name in DST already: left as it is where it
        // is the same link, else replaced.
        let there = if self.updating() {
            match self.update_link(&item.link, &target, below, xattrs.as_ref()) {
                Ok(there) => there,
                Err(err) => return Some(Err(err)),
            }
        } else {
            None
        };
        if self.mark(&mut item, there) {
            return Some(Ok(item));
        }
        if ty == LinkType::Junction {
            if self.dry_run() {
                Counts::add(&self.counts.junctions, 1);
                return Some(Ok(item));
            }
            let junction = Junction {
                item,
                below: below.to_path_buf(),
                target,
                drive,
                attrs,
            };
            self.junctions
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(junction);
            return None;
        }
        if !self.dry_run() {
            let flavour = item.link.dir;
            let over = there.is_some();
            let (attrs, xattrs) = (attrs.as_ref(), xattrs.as_ref());
            let made = self.make_link(below, &target, ty, flavour, drive, attrs, xattrs, over);
            if let Err(err) = made {
                return Some(Err(err));
            }
        }
        Counts::add(&self.counts.symlinks, 1);
        Some(Ok(item))
    }

    /// A reparse point that is no link knot copies, found at `below` the source: where it
    /// keeps a file's data elsewhere (a WOF-compressed, deduplicated or cloud file), that
    /// data copied as a plain file, as the file system gives it; any other refused, named
    /// by its tag, as one knot does not know how to copy.
    fn copy_reparse(
        &self,
        link: Link,
        tag: Tag,
        below: &Path,
        source: &Source<'_>,
    ) -> Result<Item> {
        let refuse = |why: String| Error::new(Op::Copy, &link.path, ErrorKind::Unsupported { why });
        if sys::holds_data(tag).is_none() {
            let why = format!(
                "it is a reparse point ({}, {tag:#010x}) that knot does not know how to copy",
                link.kind.name()
            );
            return Err(refuse(why));
        }
        // A directory with such a tag (a cloud placeholder directory) is walked as a
        // directory where the system opens it (Windows); it comes here only where it
        // cannot be opened (ntfs-3g).
        if link.dir == Some(Flavour::Dir) {
            let what = if tag.is_cloud() || tag == Tag::ONEDRIVE {
                "a cloud placeholder directory"
            } else {
                "a directory behind a reparse point"
            };
            let why = format!(
                "it is {what} ({}, {tag:#010x}) that this system cannot open: copy it on \
                 Windows, where the sync engine that made it gives its files",
                link.kind.name()
            );
            return Err(refuse(why));
        }
        let unreadable = |e| Error::io(Op::Copy, &link.path, e);
        let mut item = Item {
            copy: self.copy_path(below),
            class: None,
            action: Action::Copied,
            new_target: None,
            bytes: 0,
            made: Some(Kind::File),
            link: Link::new(link.path.clone(), link.kind),
        };
        item.link.tag = link.tag;
        if self.dry_run() || self.updating() {
            item.bytes = source
                .dir
                .reparse_data_size_at(source.name, tag)
                .map_err(unreadable)?;
            if self.updating() {
                let why = "--update and --mirror do not copy a file's data from behind its \
                           reparse point yet: copy it without them"
                    .to_owned();
                return Err(refuse(why));
            }
        } else {
            let (to_dir, to_name) = split(below);
            let pinned = self.pin(to_dir, &item.copy)?;
            let copied = source
                .dir
                .copy_reparse_data_at(source.name, tag, &pinned.dir, to_name)
                .map_err(unreadable)?;
            item.bytes = copied.bytes;
        }
        Counts::add(&self.counts.files, 1);
        Counts::add(&self.counts.bytes, item.bytes);
        Ok(item)
    }

    /// An outer link under `--outer copy`, `item`, at `below` the source, storing `stored`
    /// (as a path of this system): what it leads to copied in its place, the link
    /// followed once, as asked. A file is copied through the descriptor so opened. A
    /// directory copied already (or being copied) is not copied again: the link is made
    /// a symlink to its copy, of the link's form (a loop where that directory holds the
    /// link). Any other directory is made in the copy, remembered, and `follow` set for
    /// the walk to go into it, held as below the source. A directory above the link that
    /// has no copy (above the source) is a loop: `Err`, with the item to make as a link.
    fn copy_outer(
        &self,
        mut item: Item,
        below: &Path,
        stored: &Path,
        source: &Source<'_>,
        follow: &std::cell::Cell<Option<FileId>>,
    ) -> std::result::Result<Result<Item>, Box<Item>> {
        let fail = |item: &Item, e| Ok(Err(Error::io(Op::Copy, &item.link.path, e)));
        let target = match source.dir.open_at(source.name, true) {
            Ok(target) => target,
            Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
                return Ok(self.copy_followed_file(item, below, source));
            }
            Err(e) => return fail(&item, e),
        };
        let id = match target.meta() {
            Ok(meta) => FileId::of(&meta),
            Err(e) => return fail(&item, e),
        };
        let parent = below.parent().unwrap_or(Path::new(""));
        let from_source = match source.real_parent {
            Some(real) => real.to_path_buf(),
            None => join_below(&self.source_real, parent),
        };
        let above = target
            .real_dir(&item.link.path)
            .is_ok_and(|real| from_source.starts_with(real));
        let copied = {
            let mut followed = self.lock_followed();
            match followed.get(&id) {
                Some(copied) => Some(copied.clone()),
                None if above => {
                    item.class = Some(Class::Loop);
                    return Err(Box::new(item));
                }
                None => {
                    followed.insert(id, below.to_path_buf());
                    None
                }
            }
        };
        if let Some(copied) = copied {
            let there = join_below(&self.copy_real, &copied);
            let new = if stored.is_relative() {
                relative_to(&there, &join_below(&self.copy_real, parent))
            } else {
                there
            };
            if below.starts_with(&copied) {
                item.class = Some(Class::Loop);
            }
            item.action = Action::Rewritten;
            item.new_target = Some(new.clone());
            // Under --update, the same link there already is left as it is; anything else
            // is replaced.
            let xattrs = match self.link_xattrs(LinkType::Symlink, source, &item.link.path) {
                Ok(xattrs) => xattrs,
                Err(err) => return Ok(Err(err)),
            };
            let there = if self.updating() {
                let mut link = item.link.clone();
                link.kind = Kind::Symlink;
                match self.update_link(&link, &new, below, xattrs.as_ref()) {
                    Ok(there) => there,
                    Err(err) => return Ok(Err(err)),
                }
            } else {
                None
            };
            if self.mark(&mut item, there) {
                return Ok(Ok(item));
            }
            if !self.dry_run() {
                let attrs = source.attrs.as_ref();
                let made = self.make_link(
                    below,
                    &new,
                    LinkType::Symlink,
                    Some(Flavour::Dir),
                    None,
                    attrs,
                    xattrs.as_ref(),
                    there.is_some(),
                );
                if let Err(err) = made {
                    return Ok(Err(err));
                }
            }
            Counts::add(&self.counts.rewritten, 1);
            Counts::add(&self.counts.symlinks, 1);
            return Ok(Ok(item));
        }
        self.follows.store(true, Ordering::Relaxed);
        let mut replaced = false;
        if self.updating() {
            match self.followed_dir_there(&mut item, below, &target) {
                Ok(true) => {
                    follow.set(Some(id));
                    return Ok(Ok(item));
                }
                Ok(false) => replaced = item.action == Action::Updated,
                Err(err) => return Ok(Err(err)),
            }
        }
        if !self.dry_run() {
            let copy = item.copy.clone();
            match self.make_dir(below, &copy) {
                Ok(made) => {
                    if let Ok(attrs) = target.attrs_at(OsStr::new("."))
                        && let Err(err) =
                            self.remember_dir(below, (&target, OsStr::new(".")), attrs, made)
                    {
                        return Ok(Err(err));
                    }
                }
                Err(err) => return Ok(Err(err)),
            }
        }
        Counts::add(&self.counts.dirs, 1);
        if !replaced {
            item.action = Action::Followed;
        }
        follow.set(Some(id));
        Ok(Ok(item))
    }

    /// The file an outer link leads to, under `--outer copy`: copied in its place, read
    /// through a descriptor opened by following that one link.
    fn copy_followed_file(
        &self,
        mut item: Item,
        below: &Path,
        source: &Source<'_>,
    ) -> Result<Item> {
        item.action = Action::Followed;
        // Under --update, what stands at its name in DST already: left as it is where it
        // is the same file, else replaced.
        let there = if self.updating() {
            self.followed_file_there(&item, below, source)?
        } else {
            None
        };
        if self.mark(&mut item, there) {
            return Ok(item);
        }
        let over = there.is_some();
        if !self.dry_run() {
            let copy = item.copy.clone();
            let (to_dir, to_name) = split(below);
            let pinned = self.pin(to_dir, &copy)?;
            let copied = source
                .dir
                .copy_followed_file_at(source.name, &pinned.dir, to_name, over, self.options.xattrs)
                .map_err(|e| Error::io(Op::Copy, &item.link.path, e))?;
            item.bytes = copied.bytes;
        }
        Counts::add(&self.counts.files, 1);
        Counts::add(&self.counts.bytes, item.bytes);
        Ok(item)
    }

    /// Makes the link `below` the copy, of type `ty`, to `target` (a junction's with
    /// `drive`, a symlink of `flavour` where the place keeps one), with the owner and times
    /// `attrs` and the extended attributes `xattrs` (`--xattrs`: a symlink's own). What
    /// was made: a junction is made an absolute directory symlink where the copy's file
    /// system has no junctions. Where `over` (a symlink replacing what `--update` found
    /// there), or where it gets extended attributes, it is made under a fresh hidden name
    /// and renamed into place once whole, so no moment shows no entry there, nor a link
    /// without them.
    #[allow(
        clippy::too_many_arguments,
        reason = "the link's own fields, as create takes them, and how it is put in place"
    )]
    fn make_link(
        &self,
        below: &Path,
        target: &Path,
        ty: LinkType,
        flavour: Option<Flavour>,
        drive: Option<DriveLetter>,
        attrs: Option<&Attrs>,
        xattrs: Option<&sys::Xattrs>,
        over: bool,
    ) -> Result<Made> {
        let copy = self.copy_path(below);
        let (dir, name) = split(below);
        let pinned = self.pin(dir, &copy)?;
        let place = pinned.place(&copy)?;
        let flavour = flavour.filter(|_| place.flavour_matters() && ty == LinkType::Symlink);
        let options = CreateOptions {
            flavour,
            drive,
            ..CreateOptions::default()
        };
        let xattrs = xattrs.filter(|xattrs| !xattrs.is_empty());
        let staged = over || xattrs.is_some();
        let made_as = if staged {
            crate::path::hidden_file_name(name)
        } else {
            name.to_os_string()
        };
        let at = At::new(&pinned.dir, &made_as, &copy);
        let made = create_new_lean(at, target, None, ty, &options, place)
            .map_err(|e| e.with_op(Op::Copy))?;
        // Best effort, as `cp -a`: a file system that keeps no times of its own on a link
        // (a reparse point written through ntfs-3g's attribute) fails no copy.
        if let Some(attrs) = attrs {
            let _ = pinned.dir.give_link_attrs_at(&made_as, attrs);
        }
        let given = match xattrs {
            Some(xattrs) => pinned.dir.give_link_xattrs_at(&made_as, xattrs),
            None => Ok(()),
        };
        let put = given.and_then(|()| {
            if staged {
                pinned.dir.put_staged_at(&made_as, name, over)
            } else {
                Ok(())
            }
        });
        if let Err(e) = put {
            // The hidden name is this process's own, made just now.
            let _ = pinned.dir.remove_link_at(&made_as, &copy);
            // Taken meanwhile, as a link made at its name at once would say.
            if !over && e.kind() == std::io::ErrorKind::AlreadyExists {
                let err = Error::new(Op::Copy, &copy, ErrorKind::LinkExists);
                return Err(err.with_target(target));
            }
            return Err(Error::io(Op::Copy, &copy, e));
        }
        Ok(made)
    }

    /// Under `--xattrs`, the extended attributes of the symlink (`ty`) `source` itself, at
    /// `path`; `None` without `--xattrs`, and for a junction.
    fn link_xattrs(
        &self,
        ty: LinkType,
        source: &Source<'_>,
        path: &Path,
    ) -> Result<Option<sys::Xattrs>> {
        if !self.options.xattrs || ty != LinkType::Symlink {
            return Ok(None);
        }
        let xattrs = source.dir.link_xattrs_at(source.name);
        Ok(Some(xattrs.map_err(|e| Error::io(Op::Copy, path, e))?))
    }

    /// A dangling junction, or one to another drive (which this system does not reach),
    /// copied as it is: where the copy's file system holds reparse points that knot writes
    /// (ntfs-3g), the same reparse point, byte for byte (a create makes a junction only to
    /// a directory that is there, but NTFS keeps one whose target is gone); elsewhere a
    /// directory symlink to the same target (the missing directory, or the other drive's
    /// path as stored), as a junction is made where there are none.
    fn make_dangling_junction(&self, junction: &Junction) -> Result<Made> {
        let below = &junction.below;
        if let Some(raw) = &junction.item.link.reparse_data {
            let copy = self.copy_path(below);
            let (dir, name) = split(below);
            let pinned = self.pin(dir, &copy)?;
            match pinned.dir.make_reparse_dir_at(name, raw) {
                Ok(()) => {
                    if let Some(attrs) = &junction.attrs {
                        let _ = pinned.dir.give_link_attrs_at(name, attrs);
                    }
                    return Ok(Made::Junction);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {}
                Err(e) => {
                    let err = Error::io(Op::Copy, &copy, e);
                    return Err(err.with_target(&junction.target));
                }
            }
        }
        self.make_link(
            below,
            &junction.target,
            LinkType::Symlink,
            Some(Flavour::Dir),
            None,
            junction.attrs.as_ref(),
            None,
            false,
        )
        .map(|_| Made::Symlink)
    }

    /// Makes the junctions the walk met, each once its target is there: an inner one
    /// leads to a directory of the copy (made by now) or through another junction of the
    /// copy, so those whose target is missing are tried again while others get made.
    /// Each one's item, or why it could not be made (a dangling junction: a junction is
    /// made only to a directory that is there), goes to `deliver`.
    fn finish_junctions(&self, mut deliver: impl FnMut(Result<Item>)) {
        let mut pending = std::mem::take(
            &mut *self
                .junctions
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        pending.sort_by(|a, b| a.below.cmp(&b.below));
        loop {
            let before = pending.len();
            let mut waiting = Vec::new();
            for junction in pending {
                let as_it_is = junction.item.class == Some(Class::Dangling)
                    || junction.item.link.status == Some(Status::Elsewhere);
                let made = if as_it_is {
                    self.make_dangling_junction(&junction)
                } else {
                    self.make_link(
                        &junction.below,
                        &junction.target,
                        LinkType::Junction,
                        Some(Flavour::Dir),
                        junction.drive,
                        junction.attrs.as_ref(),
                        None,
                        false,
                    )
                };
                match made {
                    Ok(made) => {
                        let mut item = junction.item;
                        if made == Made::Junction {
                            Counts::add(&self.counts.junctions, 1);
                        } else {
                            Counts::add(&self.counts.symlinks, 1);
                            item.made = Some(Kind::Symlink);
                        }
                        deliver(Ok(item));
                    }
                    Err(err) if matches!(err.kind(), ErrorKind::TargetMissing) => {
                        waiting.push((junction, err));
                    }
                    Err(err) => deliver(Err(err)),
                }
            }
            if waiting.is_empty() || waiting.len() == before {
                for (_, err) in waiting {
                    deliver(Err(err));
                }
                return;
            }
            pending = waiting.into_iter().map(|(junction, _)| junction).collect();
        }
    }

    /// How the link `link`, at `below` the source, storing `stored` (as a path of this
    /// system), is copied: its class, what is done with it and the target it gets.
    ///
    /// It is inner or outer by where it leads as the kernel follows it, each `..` taken
    /// after the links before it (`sym/..` is the parent of where `sym` leads): inner
    /// where the entry its target names (a link there not followed) or its real path is
    /// inside the source's real path. The target keeps its form where every directory it
    /// goes through below the source is really inside the source: each link there leads,
    /// in the copy, to the same place in the copy (or outside, to the same place), so the
    /// target does too. A relative one is then copied as it is, an absolute one has the
    /// source's path replaced by the copy's. Otherwise (a `..` after a link that leaves the source, a
    /// target that leaves the source and comes back by another name) it is written as
    /// where it leads: where the kernel takes its last name, in the copy for a place
    /// inside the source; absolute for an absolute target, relative from the link's real
    /// directory for a relative one.
    fn judge(
        &self,
        link: &Link,
        below: &Path,
        stored: &Path,
        source: &Source<'_>,
    ) -> (Class, Action, PathBuf) {
        let kept = |class| (class, Action::Kept, stored.to_path_buf());
        match link.status {
            Some(Status::Dangling) => return kept(Class::Dangling),
            Some(Status::Loop | Status::TooLong) => return kept(Class::Loop),
            // On another Windows drive or volume, which this system does not reach.
            Some(Status::Elsewhere) => return kept(Class::Outer),
            _ => {}
        }
        // The link's directory in the source, and the same in the copy: their real
        // paths (the walk went through no link below the source).
        let parent = below.parent().unwrap_or(Path::new(""));
        let from_source = match source.real_parent {
            Some(real) => real.to_path_buf(),
            None => join_below(&self.source_real, parent),
        };
        let from_copy = join_below(&self.copy_real, parent);
        // Each part of the target named from the directory held, where the kernel starts
        // (by its real path where the system cannot name it so).
        let real = |part: &Path| {
            source
                .dir
                .real_path_at(part.as_os_str())
                .or_else(|_| crate::resolve::canonical(&from_source.join(part)))
        };
        // Where the kernel takes its last name (a link there not followed), and where it
        // leads in the end: inner where either is inside the source (a link to a link
        // there, whatever that one leads to, or one that leads back into the source).
        let names = resolve_target(&from_source, stored, real);
        let leads = real(Path::new(source.name)).unwrap_or_else(|_| names.clone());
        let inside = |path: &Path| {
            path.strip_prefix(&self.source_real)
                .or_else(|_| path.strip_prefix(&self.source_abs))
                .ok()
                .map(Path::to_path_buf)
        };
        let inner = inside(&names).or_else(|| inside(&leads));
        let class = if inner.is_some() {
            Class::Inner
        } else {
            Class::Outer
        };
        if class == Class::Outer && self.options.outer == Outer::Skip {
            return (Class::Outer, Action::Dropped, stored.to_path_buf());
        }
        // Where it leads written as a place: in the copy for one inside the source.
        let place = match inside(&names).or(inner) {
            Some(rest) => join_below(&self.copy_real, &rest),
            None => names,
        };
        let rewritten = |target| (class, Action::Rewritten, target);
        if stored.is_relative() && self.stays_inside(stored, real) {
            return match class {
                Class::Inner => (class, Action::Copied, stored.to_path_buf()),
                _ => kept(class),
            };
        }
        if class == Class::Inner && self.options.inner == Inner::Keep {
            return kept(Class::Inner);
        }
        if stored.is_relative() {
            // Out of the source by `..` and on to the same place from the copy.
            let lexical = fold(&from_source.join(stored));
            if class == Class::Outer
                && inside(&lexical).is_none()
                && fold(&from_copy.join(stored)) == place
            {
                return kept(class);
            }
            return rewritten(relative_to(&place, &from_copy));
        }
        // An absolute target that names the source by its path: the same path below the
        // copy, where it stays inside the source.
        let below_source = stored
            .strip_prefix(&self.source_real)
            .or_else(|_| stored.strip_prefix(&self.source_abs))
            .ok()
            .filter(|rest| {
                self.stays_inside(rest, |part: &Path| match &self.source_root {
                    // From the source's root, held: an `openat` and a `readlink` of its
                    // descriptor, not a `realpath` from `/` (a `readlink` per part).
                    Some(root) => root.real_path_at(part.as_os_str()),
                    None => crate::resolve::canonical(&self.source_real.join(part)),
                })
            });
        match below_source {
            Some(rest) => rewritten(join_below(&self.copy_real, rest)),
            None if class == Class::Outer && inside(&fold(stored)).is_none() => kept(class),
            None => rewritten(place),
        }
    }

    /// Whether every directory that `target`, below a directory of the source, goes
    /// through (each part but a last name, as `real` resolves it from there) is really
    /// inside the source: each link on the way is then copied to lead to the same place
    /// in the copy, and `..` after it goes where it goes in the source.
    fn stays_inside(
        &self,
        target: &Path,
        real: impl Fn(&Path) -> std::io::Result<PathBuf>,
    ) -> bool {
        let parts: Vec<_> = target.components().collect();
        // A last `..` or `.` is gone through too: it names a directory, not an entry.
        let through = match parts.last() {
            Some(std::path::Component::Normal(_)) => parts.len() - 1,
            _ => parts.len(),
        };
        let mut on_the_way = PathBuf::new();
        parts.iter().take(through).all(|part| {
            on_the_way.push(part);
            real(&on_the_way).is_ok_and(|real| real.starts_with(&self.source_real))
        })
    }

    /// Gives every directory made its permissions and times, deepest first, once its
    /// entries are in (a copy of a read-only directory is made writable until then, and a
    /// directory's times change as entries are made in it).
    fn finish_dirs(&self, mut fail: impl FnMut(Error)) {
        let mut dirs = std::mem::take(&mut *self.lock_dirs());
        dirs.sort_by_key(|made| std::cmp::Reverse(made.below.components().count()));
        for MadeDir {
            below,
            attrs,
            id,
            xattrs,
        } in dirs
        {
            let copy = self.copy_path(&below);
            let (parent, name) = if below.as_os_str().is_empty() {
                (Path::new(""), OsStr::new("."))
            } else {
                split(&below)
            };
            let given = self.pin(parent, &copy).and_then(|pinned| {
                // Before the permissions: a directory made read-only still takes them.
                if let Some(xattrs) = &xattrs {
                    pinned
                        .dir
                        .give_xattrs_at(name, xattrs, id)
                        .map_err(|e| Error::io(Op::Copy, &copy, e))?;
                }
                // Under --update, a directory that has its permissions and times already
                // is left as it is (its change time too).
                if self.updating()
                    && let Ok((_, now)) = pinned.dir.look_at(name)
                    && (now.mode, now.uid, now.gid, now.mtime)
                        == (attrs.mode, attrs.uid, attrs.gid, attrs.mtime)
                {
                    return Ok(());
                }
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

    fn lock_followed(&self) -> std::sync::MutexGuard<'_, HashMap<FileId, PathBuf>> {
        self.followed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_dirs(&self) -> std::sync::MutexGuard<'_, Vec<MadeDir>> {
        self.dirs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Remembers the directory `below` the copy (the directory `id`) for the end, with the
    /// attributes `attrs` of its source, and, under `xattrs`, the extended attributes of
    /// that source: the directory `from` (a held directory and a name in it).
    fn remember_dir(
        &self,
        below: &Path,
        from: (&sys::Dir, &OsStr),
        attrs: Attrs,
        id: (u64, u128),
    ) -> Result<()> {
        let xattrs = if self.options.xattrs {
            let read = from.0.xattrs_at(from.1);
            Some(read.map_err(|e| Error::io(Op::Copy, &self.copy_path(below), e))?)
        } else {
            None
        };
        self.lock_dirs().push(MadeDir {
            below: below.to_path_buf(),
            attrs,
            id,
            xattrs,
        });
        Ok(())
    }
}

/// A directory made in the copy: its path below the copy, what to give it at the end, and
/// its identity.
struct MadeDir {
    below: PathBuf,
    attrs: Attrs,
    id: (u64, u128),
    /// Its source's extended attributes, under `xattrs`.
    xattrs: Option<sys::Xattrs>,
}

/// A link of the source as the copy reads it: its directory, held, and name; that
/// directory's real path where it is below a link followed (`--outer copy`); the link's
/// times; and how links are made there.
struct Source<'a> {
    dir: &'a sys::Dir,
    name: &'a OsStr,
    real_parent: Option<&'a Path>,
    attrs: Option<Attrs>,
    place: Option<&'a Place>,
}

/// A junction to make in the copy once the walk is done: its item, below the copy, the
/// target to make it to (a path of this system), the drive letter it was written with
/// (on an NTFS volume read through ntfs-3g), and its times.
struct Junction {
    item: Item,
    below: PathBuf,
    target: PathBuf,
    drive: Option<DriveLetter>,
    attrs: Option<Attrs>,
}

/// The error of copying the special file `path`: a device, which only root may make
/// (`mknod` fails with `EPERM` for anyone else), says so.
fn special_error(path: &Path, err: std::io::Error) -> Error {
    let device = matches!(
        sys::Os::special(path, false),
        Some(crate::link::Special::CharDevice | crate::link::Special::BlockDevice)
    );
    if device && err.kind() == std::io::ErrorKind::PermissionDenied {
        let why = "only root may make a device file (CAP_MKNOD); copy as root, or leave it \
                   out of the source"
            .to_owned();
        return Error::new(Op::Copy, path, ErrorKind::Unsupported { why });
    }
    Error::io(Op::Copy, path, err)
}

/// The refusal of a destination `copy` that is a directory with entries (`meta`): for a
/// snapshot (`previous`), one that is not new, the previous snapshot itself or another.
fn not_empty(copy: &Path, previous: Option<&Path>, meta: &sys::Meta) -> Error {
    let Some(previous) = previous else {
        return Error::new(Op::Copy, copy, ErrorKind::DestinationNotEmpty);
    };
    let is_previous = sys::Os::stat(previous).is_ok_and(|old| old.id == meta.id);
    let previous = is_previous.then(|| previous.to_path_buf());
    Error::new(Op::Copy, copy, ErrorKind::SnapshotNotNew { previous })
}

/// The refusal of a destination `copy` that is no directory (`meta`, not followed).
fn not_a_directory(copy: &Path, meta: &sys::Meta) -> Error {
    let kind = match meta.ty {
        FileType::Link => ErrorKind::DestinationIsALink,
        FileType::File => ErrorKind::DestinationNotADirectory {
            what: crate::link::Found::File,
        },
        FileType::Other => ErrorKind::DestinationNotADirectory {
            what: crate::link::Found::Special(sys::Os::special(copy, false)),
        },
        FileType::Dir => ErrorKind::DestinationNotEmpty,
    };
    Error::new(Op::Copy, copy, kind)
}

/// The item of a file copied where a hard link would have passed the link limit of the
/// file at `to`.
fn at_link_limit(mut item: Item, to: PathBuf) -> Item {
    item.action = Action::AtLinkLimit;
    item.new_target = Some(to);
    item
}

/// The item of a file copied in place of the copy of another name of its file, at `failed`,
/// which failed; one left as it was (`--update`) or linked to the previous snapshot keeps
/// its action, as it was not copied.
fn first_failed(mut item: Item, failed: PathBuf) -> Item {
    if matches!(
        item.action,
        Action::Copied | Action::Cloned | Action::Sparse | Action::Updated
    ) {
        item.action = Action::FirstFailed;
        item.new_target = Some(failed);
    }
    item
}

/// Whether `err` says a file has as many names as its file system allows (`EMLINK`;
/// `ERROR_TOO_MANY_LINKS` on Windows).
fn is_link_limit(err: &std::io::Error) -> bool {
    #[cfg(unix)]
    let limit = rustix::io::Errno::MLINK.raw_os_error();
    #[cfg(windows)]
    let limit = windows_sys::Win32::Foundation::ERROR_TOO_MANY_LINKS as i32;
    err.raw_os_error() == Some(limit)
}

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
