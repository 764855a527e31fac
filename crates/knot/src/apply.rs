//! `knot apply`: make the links a manifest lists (DESIGN.md section 2), below a root.
//!
//! A manifest is a list of [`Record`]s, the JSON record `knot scan --json` prints, so a
//! tree's links can be written out in one place and made again in another. Each record is
//! made with the staged create ([`create`](crate::create)'s stages: probe, plan, staged
//! link, read back, put in place), so every rule of create holds; only what is per-link
//! overhead in a create of one link is left out (see [`create_lean`]).
//!
//! A manifest is untrusted input: a record's path must stay below the root (no `..`, no
//! absolute path elsewhere), and the directories on the way to a link are made only where
//! missing and are never links (a link planted in the tree is not gone through).

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::create::{CreateOptions, DriveLetter, LinkType, Replace, check_create, create_lean};
use crate::error::{Error, ErrorKind, Op, Result};
use crate::inspect::inspect;
use crate::link::{Flavour, Found, Kind};
use crate::path::{parent_dir, real_location};
use crate::record::Record;
use crate::retarget::ChangeMode;
use crate::sys::{self, FileType, Junctions, Place};

/// Options for [`apply`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ApplyOptions {
    /// Make the links, or only check and say what would be done (the CLI's `--dry-run`).
    pub mode: ChangeMode,
    /// The drive letter of absolute junction targets written onto an NTFS volume from
    /// Linux (ntfs-3g); [`DriveLetter::C`] when `None`.
    pub drive: Option<DriveLetter>,
    /// How many threads make links; 0 for one per core.
    pub threads: usize,
}

/// What [`apply`] did with one record, or with [`ChangeMode::DryRun`] would do.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Applied {
    /// Nothing stood at the path: the link was made.
    Created,
    /// A link with another target (or of another kind) stood there and was replaced.
    Replaced {
        /// The target of the link that was there.
        old_target: Option<PathBuf>,
    },
    /// The link was there already, as the record asks.
    Unchanged,
}

/// Makes the links of `records` below `root`, in parallel, and calls `report` with each
/// record's index in `records` and its outcome, in the order of `records`, as they are
/// done.
///
/// A record's `path` is relative to `root` (an absolute path is taken only if it is below
/// `root`); its `kind` is `symlink` (target stored as it is; `dir` gives the flavour where
/// the file system keeps one), `junction` (a relative target is read from `root`) or
/// `hardlink` (its `target`, another name of the file, is a path below `root` too). A link
/// already as the record asks is [`Applied::Unchanged`]; a link with another target is
/// replaced (atomically where the file system can swap two names, see
/// [`create`](crate::create)); nothing else that stands at a path is touched. Missing
/// directories on the way are made; `root` itself is made if missing.
///
/// # Errors
/// Each record's own: a path outside the root ([`ErrorKind::OutsideRoot`]), a link on the
/// way ([`ErrorKind::LinkOnTheWay`]), a kind knot cannot make or a record without a target
/// ([`ErrorKind::BadRecord`]), a real file or directory at the path
/// ([`ErrorKind::WouldReplaceReal`]), or any error of [`create`](crate::create). The
/// others go on.
///
/// # Platform behavior
/// As [`create`](crate::create): on Unix a junction is an absolute directory symlink, on
/// an NTFS volume mounted with ntfs-3g a real junction.
pub fn apply<R, F>(root: R, records: &[Record], options: &ApplyOptions, report: F)
where
    R: AsRef<Path>,
    F: FnMut(usize, Result<Applied>),
{
    apply_inner(root.as_ref(), records, options, report);
}

fn apply_inner(
    root: &Path,
    records: &[Record],
    options: &ApplyOptions,
    mut report: impl FnMut(usize, Result<Applied>),
) {
    let work = Work {
        root: root.to_path_buf(),
        options: *options,
        dirs: Mutex::new(HashSet::new()),
        places: Mutex::new(HashMap::new()),
    };
    if options.mode == ChangeMode::Change
        && let Err(e) = std::fs::create_dir_all(root)
    {
        for i in 0..records.len() {
            report(
                i,
                Err(Error::io(
                    Op::Apply,
                    root,
                    io::Error::new(e.kind(), e.to_string()),
                )),
            );
        }
        return;
    }
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    }
    .min(records.len().max(1));
    if threads == 1 {
        for (i, record) in records.iter().enumerate() {
            report(i, work.one(record));
        }
        return;
    }
    // A work queue (the next index) shared by the threads; results come back through a
    // channel and are reported in manifest order as soon as the ones before are in.
    let next = AtomicUsize::new(0);
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let send = send.clone();
            let (next, work) = (&next, &work);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(record) = records.get(i) else { break };
                    if send.send((i, work.one(record))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(send);
        let mut waiting = HashMap::new();
        let mut due = 0;
        for (i, result) in receive {
            waiting.insert(i, result);
            while let Some(result) = waiting.remove(&due) {
                report(due, result);
                due += 1;
            }
        }
    });
}

/// What the threads share: the directories checked (or made) already and the place of
/// each directory that holds links, each decided once.
struct Work {
    root: PathBuf,
    options: ApplyOptions,
    dirs: Mutex<HashSet<PathBuf>>,
    places: Mutex<HashMap<PathBuf, Place>>,
}

/// The kinds a manifest can ask for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    Symlink,
    Junction,
    Hardlink,
}

impl Work {
    fn dry_run(&self) -> bool {
        self.options.mode == ChangeMode::DryRun
    }

    fn one(&self, record: &Record) -> Result<Applied> {
        let bad =
            |path: &Path, why: String| Error::new(Op::Apply, path, ErrorKind::BadRecord { why });
        let relative = self.below_root(&record.path)?;
        let link = self.root.join(&relative);
        let want = match record.kind.parse::<Kind>() {
            Ok(Kind::Symlink) => Want::Symlink,
            Ok(Kind::Junction) => Want::Junction,
            Ok(Kind::Hardlink) => Want::Hardlink,
            _ => {
                return Err(bad(
                    &link,
                    format!(
                        "is of kind '{}', which knot cannot recreate (only symlink, junction \
                         and hardlink)",
                        crate::escape::escape(record.kind.as_ref())
                    ),
                ));
            }
        };
        let Some(stored) = record.target.as_deref() else {
            let why = match want {
                Want::Hardlink => "has no target: a hard link is made again from another \
                    name of the file, given as its target"
                    .to_owned(),
                _ => "has no target".to_owned(),
            };
            return Err(bad(&link, why));
        };
        let target = match want {
            Want::Symlink => stored.to_path_buf(),
            Want::Junction => self.root.join(stored),
            Want::Hardlink => self.root.join(self.below_root(stored)?),
        };
        let dir_exists = self.dirs_on_the_way(&link)?;
        let place = if dir_exists {
            Some(self.place_of(&link)?)
        } else {
            None
        };
        let ty = match want {
            Want::Symlink => LinkType::Symlink,
            Want::Junction => LinkType::Junction,
            Want::Hardlink => LinkType::Hardlink,
        };
        let flavour = match (&place, record.dir) {
            (Some(place), Some(dir)) if want == Want::Symlink && place.flavour_matters() => {
                Some(if dir { Flavour::Dir } else { Flavour::File })
            }
            _ => None,
        };
        let mut options = CreateOptions {
            flavour,
            drive: self.options.drive,
            ..CreateOptions::default()
        };
        if !dir_exists {
            // A dry run where the directory is still to be made: nothing stands there.
            return Ok(Applied::Created);
        }
        // The common case, a link to be made where nothing stands, costs one create and
        // no look beforehand: the create itself refuses an existing name.
        if !self.dry_run() {
            match create_lean(&link, &target, ty, &options, place.clone()) {
                Ok(_) => return Ok(Applied::Created),
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::LinkExists | ErrorKind::ArgumentsSwapped
                    ) => {}
                Err(e) => return Err(e),
            }
        }
        let existing = match sys::lstat(&link) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                check_create(&link, &target, ty, &options, place)?;
                return Ok(Applied::Created);
            }
            Err(e) => return Err(Error::io(Op::Apply, &link, e)),
        };
        if want == Want::Hardlink
            && sys::lstat(&target).is_ok_and(|t| t.id == existing.id && t.ty != FileType::Dir)
        {
            return Ok(Applied::Unchanged);
        }
        if !existing.is_link() {
            let what = match existing.ty {
                FileType::Dir => Found::Dir,
                FileType::File => Found::File,
                FileType::Link => Found::ReparseFile,
                FileType::Other => Found::Special(None),
            };
            return Err(Error::new(
                Op::Apply,
                &link,
                ErrorKind::WouldReplaceReal { what },
            ));
        }
        let found = inspect(&link)?;
        if want != Want::Hardlink
            && self.is_as_asked(&found, want, stored, &target, record.dir, place.as_ref())
        {
            return Ok(Applied::Unchanged);
        }
        options.replace = Replace::Links;
        if self.dry_run() {
            check_create(&link, &target, ty, &options, place)?;
        } else {
            create_lean(&link, &target, ty, &options, place)?;
        }
        Ok(Applied::Replaced {
            old_target: found.target,
        })
    }

    /// Whether the link `found` is what the record asks: the same kind (on a file system
    /// without junctions, the directory symlink made for one), the same target, and the
    /// same flavour where the file system keeps one.
    fn is_as_asked(
        &self,
        found: &crate::Link,
        want: Want,
        stored: &Path,
        target: &Path,
        dir: Option<bool>,
        place: Option<&Place>,
    ) -> bool {
        let flavour_matters = place.is_some_and(Place::flavour_matters);
        match want {
            Want::Symlink => {
                found.kind == Kind::Symlink
                    && found.target.as_deref() == Some(stored)
                    && (!flavour_matters || dir.is_none() || found.dir == dir)
            }
            Want::Junction => {
                let kind = match place.map(Place::junctions) {
                    Some(Junctions::Emulated) => Kind::Symlink,
                    _ => Kind::Junction,
                };
                // A junction stores an absolute path, in the form of its file system
                // (`C:\...` on NTFS): compare where it leads.
                let leads_to = real_location(target).ok();
                found.kind == kind
                    && (found.target.as_deref() == Some(target)
                        || (leads_to.is_some() && found.resolved == leads_to))
            }
            Want::Hardlink => false,
        }
    }

    /// `path` as a path below the root: relative, without `..`; an absolute path only if
    /// it names a place below the root.
    fn below_root(&self, path: &Path) -> Result<PathBuf> {
        let outside = || {
            Error::new(
                Op::Apply,
                path,
                ErrorKind::OutsideRoot {
                    root: self.root.clone(),
                },
            )
        };
        let rest = if path.is_absolute() {
            path.strip_prefix(&self.root).map_err(|_| outside())?
        } else {
            path
        };
        let mut relative = PathBuf::new();
        for component in rest.components() {
            match component {
                Component::Normal(name) => relative.push(name),
                Component::CurDir => {}
                Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                    return Err(outside());
                }
            }
        }
        if relative.as_os_str().is_empty() {
            return Err(Error::new(Op::Apply, path, ErrorKind::BadLinkPath));
        }
        Ok(relative)
    }

    /// Checks the directories between the root and `link`, making the missing ones (not in
    /// a dry run); none may be a link. Returns whether the link's directory exists (only a
    /// dry run says no).
    fn dirs_on_the_way(&self, link: &Path) -> Result<bool> {
        let parent = parent_dir(link);
        if self.lock_dirs().contains(parent) {
            return Ok(true);
        }
        let below = parent.strip_prefix(&self.root).unwrap_or(Path::new(""));
        let mut dir = self.root.clone();
        for name in below.components() {
            dir.push(name);
            if self.lock_dirs().contains(&dir) {
                continue;
            }
            let mut tries = 0;
            loop {
                match sys::lstat(&dir) {
                    Ok(meta) if meta.ty == FileType::Dir => break,
                    Ok(meta) if meta.ty == FileType::Link => {
                        let path = dir.clone();
                        return Err(Error::new(
                            Op::Apply,
                            link,
                            ErrorKind::LinkOnTheWay { path },
                        ));
                    }
                    Ok(meta) => {
                        let what = if meta.ty == FileType::File {
                            Found::File
                        } else {
                            Found::Special(None)
                        };
                        let path = dir.clone();
                        let kind = ErrorKind::NotADirectory { path, what };
                        return Err(Error::new(Op::Apply, link, kind));
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound && self.dry_run() => {
                        return Ok(false);
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound && tries < 2 => {
                        // `mkdir` never follows or replaces anything; what it made (or
                        // what another thread made first) is looked at again above.
                        tries += 1;
                        match std::fs::create_dir(&dir) {
                            Ok(()) => {}
                            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                            Err(e) => return Err(Error::io(Op::Apply, &dir, e)),
                        }
                    }
                    Err(e) => return Err(Error::io(Op::Apply, &dir, e)),
                }
            }
            self.lock_dirs().insert(dir.clone());
        }
        Ok(true)
    }

    fn lock_dirs(&self) -> std::sync::MutexGuard<'_, HashSet<PathBuf>> {
        // A thread that panicked holding the lock left a set that is still right.
        self.dirs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The place of the directory that holds `link`, decided once per directory.
    fn place_of(&self, link: &Path) -> Result<Place> {
        let dir = parent_dir(link);
        let mut places = self
            .places
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(place) = places.get(dir) {
            return Ok(place.clone());
        }
        let place = sys::place(link).map_err(|e| Error::io(Op::Apply, link, e))?;
        places.insert(dir.to_path_buf(), place.clone());
        Ok(place)
    }
}
