//! `knot materialize`: a link replaced by a copy of what it leads to, so that a tree can
//! be zipped, uploaded or handed over with real files where its links were.
//!
//! Each link is worked on through its directory, held open (the user named the path: its
//! directories are followed once, to hold the last one), by its name there:
//!
//! 1. What stands at the name is read once: its identity (device and inode), its type,
//!    and for a link the target it stores. That is "the link".
//! 2. What it leads to is copied into the held directory under a fresh hidden name: a
//!    file read through the descriptor that opening the link's name (following it) from
//!    the held directory gives, checked to be the file looked at in step 1 (data, holes,
//!    permissions, times), a directory with `knot copy`'s walk ([`super::Copying`]) made
//!    in the held directory, so nothing is written by path. The walk opens its root by
//!    the real path the link led to, and the root it opened is checked to be the
//!    directory looked at before anything is copied: what was put in place of either
//!    meanwhile is never copied. A hard link (a file with several names) is copied from
//!    itself.
//! 3. The copy and the name are swapped in one step (`renameat2(RENAME_EXCHANGE)`), and
//!    what came out is checked to be the link of step 1 (same identity, type and stored
//!    target). It is then removed: a link, or one name of a file that keeps its others.
//!    Anything else that took the name meanwhile is swapped back at once and left as it
//!    is, and the copy removed: knot never replaces what it did not look at.
//!
//! Where the file system cannot swap (FUSE file systems, ntfs-3g among them), the name is
//! checked again right before a plain `rename` of the copy over it. What another program
//! puts at the name in the instant between that check and the rename is replaced; that
//! instant is the one window left. A directory cannot be renamed over a link: there the
//! link is removed first, only while it is a link (`remove_link_at`), then the copy renamed
//! into the free name, which replaces nothing but an empty directory made in between; for
//! that moment the path is missing.
//!
//! A directory's copy is judged against the directory as the copy's source: its inner
//! links (leading inside it) are made to lead inside the copy, at the link's name, not the
//! hidden one; outer ones keep leading where they led.

use std::ffi::OsStr;
use std::io;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::{Copying, Ends, Inner, Outer};
use crate::apply::{ApplyOptions, Work};
use crate::change::ChangeMode;
use crate::error::{Error, ErrorKind, Op, Result};
use crate::link::{Kind, Link, Status};
use crate::scan::WalkState;
use crate::scan::walk::{DirEntry, Filter, Next, Sink, WalkBuilder};
use crate::sys::{self, At, FileType, Reader as _};
use crate::sys::{Backend as _, Directory as _};

/// Options for [`materialize`](materialize()).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct MaterializeOptions {
    /// On a directory, materialize every link below it, and below the copies made (the
    /// CLI's `--recursive`).
    pub recursive: bool,
    /// Replace, or only say what would be replaced (the CLI's `--dry-run`).
    pub mode: ChangeMode,
    /// How many threads copy a directory; 0 for one per core.
    pub threads: usize,
}

/// What became of one path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The link was replaced by a copy of what it led to; a hard link's name was given a
    /// file of its own.
    Materialized,
    /// Nothing to do: a file with one name, or a directory.
    AlreadyReal,
}

impl Outcome {
    /// The action as the JSON record and the report write it.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Materialized => "materialized",
            Outcome::AlreadyReal => "already-real",
        }
    }
}

/// One path materialized, or found real already.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Materialized {
    /// The entry as it was, as a scan records it: a link with its target as stored and its
    /// status, a hard link with its number of names, a file or a directory.
    pub link: Link,
    /// What was done.
    pub outcome: Outcome,
    /// What was copied: the real path the link led to (a hard link's own path).
    pub source: Option<PathBuf>,
    /// Whether what was copied is a directory.
    pub directory: bool,
    /// The bytes of file data copied.
    pub bytes: u64,
    /// Files, directories and links made (1 for a file).
    pub entries: u64,
}

/// What a [`materialize`](materialize()) did, counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MaterializeSummary {
    /// Links replaced by copies.
    pub materialized: u64,
    /// Paths with nothing to do.
    pub already_real: u64,
    /// Bytes of file data copied.
    pub bytes: u64,
    /// Paths that failed.
    pub failed: u64,
}

/// Replaces each of `paths` that is a link with a copy of what it leads to, and calls
/// `report` with each path's outcome or error; a failure on one path is reported and the
/// others go on. Returns the counts.
///
/// A symlink (or junction, on an NTFS volume) to a file is replaced by a copy of the file
/// (data, holes, permissions, times); one to a directory by a copy of the directory made
/// as [`copy`](fn@crate::copy) makes one, its inner links made to lead inside the copy. A
/// file with several names (a hard link) gets a file of its own under this name; its other
/// names keep the old one. A file with one name, or a directory, is left as it is
/// ([`Outcome::AlreadyReal`]). With [`MaterializeOptions::recursive`], every link below a
/// directory is materialized too, the copies made included, without entering a link.
///
/// # Errors
/// Reported for the path, and nothing changed there: a dangling link
/// ([`ErrorKind::TargetMissing`]), a loop of links ([`ErrorKind::Unsupported`]), a link
/// to a directory that holds it, whose copy would hold itself, or, under `recursive`, a
/// link inside a copy leading to a directory that copy was made from
/// ([`ErrorKind::Loop`]), a link to a special file ([`ErrorKind::SpecialFile`]); a name
/// that was replaced by something else while knot worked (left as it is); any failure to
/// read or copy, the partial copy removed.
///
/// # Platform behavior
/// Unix: as [`copy`](fn@crate::copy); the swap is `renameat2(RENAME_EXCHANGE)` on Linux,
/// and where the file system has none, a check right before a plain `rename` (see the
/// module source). Windows: not available yet ([`ErrorKind::Unsupported`]).
pub fn materialize<P: AsRef<Path>>(
    paths: &[P],
    options: &MaterializeOptions,
    report: &mut dyn FnMut(Result<Materialized>),
) -> MaterializeSummary {
    let mut run = Run {
        options: *options,
        summary: MaterializeSummary::default(),
        report,
    };
    for path in paths {
        run.path(path.as_ref());
    }
    run.summary
}

/// One run: its options, counts and report.
struct Run<'r> {
    options: MaterializeOptions,
    summary: MaterializeSummary,
    report: &'r mut dyn FnMut(Result<Materialized>),
}

impl Run<'_> {
    fn send(&mut self, outcome: Result<Materialized>) {
        match &outcome {
            Ok(item) if item.outcome == Outcome::Materialized => {
                self.summary.materialized += 1;
                self.summary.bytes += item.bytes;
            }
            Ok(_) => self.summary.already_real += 1,
            Err(_) => self.summary.failed += 1,
        }
        (self.report)(outcome);
    }

    /// A path the user named: materialized; under `recursive`, walked if it is (or has
    /// become) a directory.
    fn path(&mut self, path: &Path) {
        let options = self.options;
        let done = match crate::resolve::entry_of(path) {
            Some(_) => crate::inspect::on_entry(
                path,
                Op::Materialize,
                |at| one(at, &options, &[]),
                |_| Error::new(Op::Materialize, path, ErrorKind::BadLinkPath),
            ),
            // `.`, `..`, `/`, `d/`: a directory, never a link.
            None => crate::inspect(path)
                .map_err(|e| e.with_op(Op::Materialize))
                .and_then(|link| match link.kind {
                    // `l/` names what the link `l` leads to, not the link.
                    _ if link.through.is_some() => {
                        let link = link.through.unwrap_or_default();
                        let kind = ErrorKind::TrailingSlash { link };
                        Err(Error::new(Op::Materialize, path, kind))
                    }
                    Kind::Dir => Ok(Materialized {
                        link,
                        outcome: Outcome::AlreadyReal,
                        source: None,
                        directory: false,
                        bytes: 0,
                        entries: 0,
                    }),
                    _ => Err(Error::new(Op::Materialize, path, ErrorKind::BadLinkPath)),
                }),
        };
        let walk = match &done {
            Ok(_) if !options.recursive => None,
            Ok(item) if item.outcome == Outcome::AlreadyReal => {
                (item.link.kind == Kind::Dir).then(Vec::new)
            }
            Ok(item) if item.directory && options.mode == ChangeMode::Change => {
                Some(item.source.iter().cloned().collect())
            }
            _ => None,
        };
        self.send(done);
        if let Some(mut chain) = walk {
            self.tree(path, &mut chain);
        }
    }

    /// Every link below the directory `root` materialized (reported once the walk is done,
    /// sorted by path), then every link below the directory copies made; `chain` holds the
    /// directories the copies around `root` were made from, which a link there may not
    /// lead to again.
    fn tree(&mut self, root: &Path, chain: &mut Vec<PathBuf>) {
        let filter = Links {
            options: self.options,
            chain,
            made: Mutex::new(Vec::new()),
        };
        let mut walk = WalkBuilder::new(root);
        walk.threads(1);
        // Reported in the order of their paths, whatever order the directories list them in.
        let mut outcomes: Vec<_> = walk.build(&filter).collect();
        outcomes.sort_by(|a, b| path_of(a).cmp(path_of(b)));
        for outcome in outcomes {
            self.send(outcome);
        }
        let made = filter
            .made
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (copy, source) in made {
            chain.push(source);
            self.tree(&copy, chain);
            chain.pop();
        }
    }
}

/// The path an outcome is about.
fn path_of(outcome: &Result<Materialized>) -> &Path {
    match outcome {
        Ok(item) => &item.link.path,
        Err(err) => err.path(),
    }
}

/// The walk of `--recursive`: each link met (and each file with several names)
/// materialized through the directory that lists it; no link is entered.
struct Links<'c> {
    options: MaterializeOptions,
    chain: &'c [PathBuf],
    /// The directories made, with what they were copied from, to walk next.
    made: Mutex<Vec<(PathBuf, PathBuf)>>,
}

impl Filter for Links<'_> {
    type Item = Materialized;

    fn visit(&self, entry: &DirEntry<'_>, sink: &mut Sink<'_, '_, Materialized>) -> Next {
        match entry.file_type() {
            FileType::Dir => return Next::Descend,
            FileType::Link => {}
            FileType::File if entry.lstat().is_ok_and(|meta| meta.nlink > 1) => {}
            FileType::File | FileType::Other => return Next::Skip,
        }
        let (dir, name) = entry.dir_and_name();
        let done = one(At::new(dir, name, entry.path()), &self.options, self.chain);
        if let Ok(item) = &done
            && item.directory
            && self.options.mode == ChangeMode::Change
            && let Some(source) = &item.source
        {
            self.made
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push((entry.path().to_path_buf(), source.clone()));
        }
        match sink.send(done) {
            WalkState::Quit => Next::Quit,
            _ => Next::Skip,
        }
    }
}

/// What stood at a name when it was looked at: enough to know it again.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    id: (u64, u128),
    ty: FileType,
    stored: Option<PathBuf>,
}

fn seen_at(dir: &sys::Dir, name: &OsStr) -> io::Result<Seen> {
    let meta = dir.stat_at(name, false)?;
    let stored = match meta.ty {
        FileType::Link => Some(dir.read_link_at(name)?.target),
        _ => None,
    };
    Ok(Seen {
        id: meta.id,
        ty: meta.ty,
        stored,
    })
}

/// The entry `at` materialized, or found real already. `chain`: see [`Run::tree`].
fn one(at: At<'_>, options: &MaterializeOptions, chain: &[PathBuf]) -> Result<Materialized> {
    let path = at.path;
    let fail = |e| Error::io(Op::Materialize, path, e);
    if !sys::Os::UPDATES_COPIES {
        let why = "materializing a link is not available on this platform yet".to_owned();
        return Err(Error::new(
            Op::Materialize,
            path,
            ErrorKind::Unsupported { why },
        ));
    }
    let link = crate::inspect::inspect_at(at).map_err(|e| e.with_op(Op::Materialize))?;
    let seen = seen_at(at.dir, at.name).map_err(fail)?;
    let mut item = Materialized {
        link,
        outcome: Outcome::Materialized,
        source: None,
        directory: false,
        bytes: 0,
        entries: 0,
    };
    let dry_run = options.mode == ChangeMode::DryRun;
    if seen.ty == FileType::File && item.link.kind != Kind::Symlink {
        let names = at.lstat().map_err(fail)?.nlink;
        if names <= 1 {
            item.outcome = Outcome::AlreadyReal;
            return Ok(item);
        }
        // A hard link: this name gets a file of its own, copied from the file itself.
        item.source = Some(path.to_path_buf());
        item.entries = 1;
        if dry_run {
            item.bytes = at.lstat().map_err(fail)?.size;
            return Ok(item);
        }
        let (hidden, id) = staged(at.dir, at.name, |hidden| {
            let copied = at.dir.copy_file_at(at.name, at.dir, hidden, false)?;
            item.bytes = copied.bytes;
            Ok(())
        })
        .map_err(fail)?;
        put_in_place(at, &hidden, id, &seen, false)?;
        return Ok(item);
    }
    if seen.ty != FileType::Link {
        item.outcome = Outcome::AlreadyReal;
        return Ok(item);
    }
    let target = || item.link.target.clone().unwrap_or_default();
    match item.link.status {
        Some(Status::Dangling) => {
            return Err(
                Error::new(Op::Materialize, path, ErrorKind::TargetMissing).with_target(&target())
            );
        }
        Some(Status::Loop | Status::TooLong) => {
            let why = "it leads round a loop of links (or through too many of them): there is \
                nothing to copy"
                .to_owned();
            return Err(
                Error::new(Op::Materialize, path, ErrorKind::Unsupported { why })
                    .with_target(&target()),
            );
        }
        _ => {}
    }
    let leads_to = at.stat().map_err(|e| fail(e).with_target(&target()))?;
    let source = at
        .dir
        .real_path_at(at.name)
        .map_err(|e| fail(e).with_target(&target()))?;
    item.source = Some(source.clone());
    match leads_to.ty {
        FileType::File => {
            item.entries = 1;
            if dry_run {
                item.bytes = leads_to.size;
                return Ok(item);
            }
            // Read through the link, from the descriptor it opens: the file looked at, or
            // nothing copied.
            let (hidden, id) = staged(at.dir, at.name, |hidden| {
                let copied =
                    at.dir
                        .copy_followed_file_checked_at(at.name, at.dir, hidden, leads_to.id)?;
                item.bytes = copied.bytes;
                Ok(())
            })
            .map_err(fail)?;
            put_in_place(at, &hidden, id, &seen, false)?;
        }
        FileType::Dir => {
            item.directory = true;
            let here = at
                .dir
                .real_dir(crate::path::parent_dir(path))
                .map_err(fail)?
                .join(at.name);
            if here.starts_with(&source) || chain.iter().any(|made| made.starts_with(&source)) {
                let kind = ErrorKind::Loop { ancestor: source };
                return Err(Error::new(Op::Materialize, path, kind).with_target(&target()));
            }
            if dry_run {
                return Ok(item);
            }
            let (hidden, id) = staged_dir(at, &source, leads_to.id, here, options, &mut item)
                .map_err(|e| match e {
                    Staged::Io(e) => fail(e),
                    // Reported for the link, with the entry of the directory that failed.
                    Staged::Copy(e) => fail(io::Error::other(e.to_string())),
                })?;
            put_in_place(at, &hidden, id, &seen, true)?;
        }
        FileType::Link | FileType::Other => {
            return Err(
                Error::new(Op::Materialize, path, ErrorKind::SpecialFile).with_target(&target())
            );
        }
    }
    Ok(item)
}

/// How many fresh hidden names are drawn before giving up on a clash.
const TRIES: usize = 8;

/// A file made by `make` under a fresh hidden name in `dir`, drawn from the link's `name`
/// (a clash draws another), with its identity.
fn staged(
    dir: &sys::Dir,
    name: &OsStr,
    mut make: impl FnMut(&OsStr) -> io::Result<()>,
) -> io::Result<(std::ffi::OsString, (u64, u128))> {
    for _ in 0..TRIES {
        let hidden = crate::path::hidden_file_name(name);
        match make(&hidden) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
        return match dir.stat_at(&hidden, false) {
            Ok(meta) => Ok((hidden, meta.id)),
            Err(e) => {
                let _ = dir.remove_name_at(&hidden);
                Err(e)
            }
        };
    }
    Err(io::ErrorKind::AlreadyExists.into())
}

/// Why a directory's copy failed: making its root, or an entry of the copy.
enum Staged {
    Io(io::Error),
    Copy(Error),
}

/// The directory `source` copied as `knot copy` copies one, made under a fresh hidden
/// name in the link's held directory, its links judged as if the copy were at `here`
/// (the link's real path); on any failure, the partial copy removed. `source` must be the
/// directory `leads_to` that the link was seen to lead to: the walk's root is checked to
/// be it once opened, before anything is copied, and a directory put in its place
/// meanwhile refused ([`sys::error::Error::Replaced`]).
fn staged_dir(
    at: At<'_>,
    source: &Path,
    leads_to: (u64, u128),
    here: PathBuf,
    options: &MaterializeOptions,
    item: &mut Materialized,
) -> std::result::Result<(std::ffi::OsString, (u64, u128)), Staged> {
    let source_meta = sys::Os::stat(source).map_err(Staged::Io)?;
    if source_meta.id != leads_to {
        return Err(Staged::Io(sys::error::Error::Replaced.into()));
    }
    let mut made = None;
    for _ in 0..TRIES {
        let hidden = crate::path::hidden_file_name(at.name);
        match at.dir.make_copy_dir_at(&hidden) {
            Ok((dir, id)) => {
                made = Some((hidden, dir, id));
                break;
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Staged::Io(e)),
        }
    }
    let Some((hidden, dir, id)) = made else {
        return Err(Staged::Io(io::ErrorKind::AlreadyExists.into()));
    };
    let copy_options = super::CopyOptions {
        inner: Inner::Rewrite,
        outer: Outer::Keep,
        threads: options.threads,
        ..super::CopyOptions::default()
    };
    let apply_options = ApplyOptions {
        mode: ChangeMode::Change,
        ..ApplyOptions::default()
    };
    let root_meta = dir.meta().map_err(Staged::Io)?;
    let ends = Ends {
        source: source.to_path_buf(),
        source_abs: source.to_path_buf(),
        source_real: source.to_path_buf(),
        source_meta,
        copy: at.path.to_path_buf(),
        copy_real: here,
        root_meta: Some(root_meta),
        root_made: true,
        work: Work::with_root(at.path, dir, apply_options, Op::Materialize),
        previous: None,
    };
    let failures = Mutex::new(Vec::new());
    let mut copying = Copying::new(copy_options, ends);
    copying.source_id = Some(leads_to);
    let summary = copying.run(&|outcome: Result<super::Item>| {
        // A socket the copy leaves out leaves it not whole: a failure here too.
        let failed = match outcome {
            Err(err) => Some(err),
            Ok(item) if item.action == super::Action::Skipped => Some(Error::new(
                Op::Materialize,
                &item.link.path,
                ErrorKind::SpecialFile,
            )),
            Ok(_) => None,
        };
        if let Some(err) = failed {
            failures
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(err);
        }
    });
    item.bytes = summary.bytes;
    item.entries = summary.files + summary.dirs + summary.symlinks + summary.hard_links;
    let failures = failures
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(first) = failures.into_iter().next() {
        let _ = remove_made(at.dir, &hidden, id);
        return Err(Staged::Copy(first));
    }
    Ok((hidden, id))
}

/// Puts the copy `hidden` (identity `id`) in the place of the entry `at`, if that is still
/// what was `seen`; anything else there is left as it is, and the copy removed.
fn put_in_place(
    at: At<'_>,
    hidden: &OsStr,
    id: (u64, u128),
    seen: &Seen,
    directory: bool,
) -> Result<()> {
    let fail = |e| Error::io(Op::Materialize, at.path, e);
    let take_back = |why: io::Error| {
        let why = match remove_copy(at.dir, hidden, id, directory) {
            Ok(()) => why,
            Err(_) => sys::error::Error::ReplacedKeptAt {
                at: crate::path::parent_dir(at.path).join(hidden),
                source: why,
            }
            .into(),
        };
        fail(why)
    };
    let replaced = || io::Error::from(sys::error::Error::Replaced);
    match at.dir.exchange_at(hidden, at.name) {
        Ok(true) => {
            // What came out must be what was looked at; anything else goes back.
            if seen_at(at.dir, hidden).is_ok_and(|out| out == *seen) {
                // A link, or one name of a file that keeps its others.
                return at.dir.remove_name_at(hidden).map_err(fail);
            }
            match at.dir.exchange_at(hidden, at.name) {
                Ok(true) => Err(take_back(replaced())),
                Ok(false) => Err(fail(replaced())),
                Err(e) => Err(fail(e)),
            }
        }
        Ok(false) => {
            // No swap on this file system: a check right before a plain rename.
            match seen_at(at.dir, at.name) {
                Ok(now) if now == *seen && !directory => {
                    at.dir.rename_at(hidden, at.name).map_err(&take_back)
                }
                // A directory is never renamed over a link: the link goes first (only
                // while it is a link), then the copy takes the free name, where `rename`
                // replaces nothing but an empty directory.
                Ok(now) if now == *seen => {
                    at.dir
                        .remove_link_at(at.name, at.path)
                        .map_err(&take_back)?;
                    at.dir.rename_at(hidden, at.name).map_err(|e| {
                        let at_path = crate::path::parent_dir(at.path).join(hidden);
                        fail(io::Error::other(format!(
                            "the link was removed, but the copy could not be renamed into \
                             its place ({e}): it is at '{}'",
                            knot_names::escape::escape(at_path.as_os_str())
                        )))
                    })
                }
                Ok(_) => Err(take_back(replaced())),
                Err(e) => Err(take_back(e)),
            }
        }
        Err(e) => Err(take_back(e)),
    }
}

/// Removes the copy `hidden`, if it is still the one made (`id`).
fn remove_copy(dir: &sys::Dir, hidden: &OsStr, id: (u64, u128), directory: bool) -> io::Result<()> {
    if directory {
        remove_made(dir, hidden, id)
    } else if dir.stat_at(hidden, false)?.id == id {
        dir.remove_name_at(hidden)
    } else {
        Err(sys::error::Error::Replaced.into())
    }
}

/// Removes the directory `name` that knot made (`id`), with everything in it, never
/// following a link: each directory opened from the one above without following.
fn remove_made(dir: &sys::Dir, name: &OsStr, id: (u64, u128)) -> io::Result<()> {
    let sub = dir.open_at(name, false)?;
    if sub.meta()?.id != id {
        return Err(sys::error::Error::Replaced.into());
    }
    remove_below(&sub)?;
    dir.remove_dir_at(name)
}

fn remove_below(dir: &sys::Dir) -> io::Result<()> {
    let mut entries = Vec::new();
    sys::DirReader::new().read(dir, |name, ty, _| {
        entries.push((name.to_owned(), ty));
        ControlFlow::Continue(())
    })?;
    for (name, ty) in entries {
        let ty = match ty {
            Some(ty) => ty,
            None => dir.stat_at(&name, false)?.ty,
        };
        if ty == FileType::Dir {
            let sub = dir.open_at(&name, false)?;
            remove_below(&sub)?;
            dir.remove_dir_at(&name)?;
        } else {
            dir.remove_name_at(&name)?;
        }
    }
    Ok(())
}
