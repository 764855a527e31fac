//! `knot apply`: make the links a manifest lists (DESIGN.md section 2), below a root.
//!
//! A manifest is a list of [`Record`]s, the JSON record `knot scan --json` prints, so a
//! tree's links can be written out in one place and made again in another. Each record is
//! made with the staged create ([`create`](crate::create)'s stages: probe, plan, staged
//! link, read back, put in place), so every rule of create holds; only what is per-link
//! overhead in a create of one link is left out (see `Planned::commit_lean`).
//!
//! A manifest is untrusted input: a record's path must stay below the root (no `..`, no
//! absolute path elsewhere), and the directories on the way to a link are made only where
//! missing and are never links (a link planted in the tree is not gone through).
//!
//! That must hold while other programs change the tree, so the directories are not
//! checked by path and then used by path (a directory swapped for a link in between
//! would be gone through). Each is opened from the one above it, held open, one name at a
//! time without following a link (`O_NOFOLLOW`; on Windows the reparse point itself), and
//! checked to be a directory ([`Pinned`]); the link is then made through the directory
//! held open: the staged create is handed the directory and the link's name
//! ([`sys::At`]), so its every step (the link, the hidden names of a replacement, the
//! read-back, the clean-up) acts relative to the directory held, whatever is put at its
//! path since (the `*at` calls on Unix; on Windows `NtCreateFile` relative to the
//! directory's handle). A hard link's target is reached the same way.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::change::ChangeMode;
use crate::create::{
    CreateOptions, DriveLetter, LinkType, Replace, create_new_lean, nt_form, plan_at,
};
use crate::error::{BadRecord, Error, ErrorKind, Op, Result};
use crate::inspect::inspect_at;
use crate::link::{Flavour, Found, Kind};
use crate::record::Record;
use crate::resolve::real_location;
use crate::sys::{self, At, FileType, Junctions, Place};
use crate::sys::{Backend as _, Directory as _};
use crate::threads::Threads;

/// Options for [`apply`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ApplyOptions {
    /// Make the links, or only check and say what would be done (the CLI's `--dry-run`).
    pub mode: ChangeMode,
    /// The drive letter of absolute junction targets written onto an NTFS volume from
    /// Linux (ntfs-3g) that a record gives as Linux paths; [`DriveLetter::C`] when `None`.
    /// A record's `X:\...` keeps its own letter.
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
/// done. Returns how many threads it was to make them on and made them on ([`Threads`]:
/// fewer where the system could not start more; then the others made every link).
///
/// A record's `path` is relative to `root` (an absolute path is taken only if it is below
/// `root`); its `kind` is `symlink` (target stored as it is; `dir` gives the flavour where
/// the file system keeps one), `junction` (a relative target is read from `root`) or
/// `hardlink` (its `target`, another name of the file, is a path below `root` too). A link
/// already as the record asks is [`Applied::Unchanged`]; a link with another target is
/// replaced (atomically where the file system can swap two names, see
/// [`create`](crate::create)); nothing else that stands at a path is touched. Missing
/// directories on the way are made; `root` itself is made if missing, when the first
/// link is to be made in it (a manifest whose every record is refused leaves no root).
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
///
/// On an NTFS volume mounted with ntfs-3g a record's target is taken in the form the link
/// stores it and `knot scan` records it (`..\Data\T`, `C:\Data\T`), as well as in the
/// Linux form (`../Data/T`): a junction's `X:\...` is the directory `\...` of the volume
/// the junction is made on, written with the letter `X`. So the records of a scan of one
/// such volume make the same links on another, byte for byte; and a link that holds the
/// very reparse buffer a record would write is [`Applied::Unchanged`], whichever form the
/// record's target is written in.
///
/// The directories on the way are opened one name at a time without following links and
/// held open while `apply` runs (one descriptor or handle each, up to half the limit on
/// open files). Each link is made through its directory held open (the `*at` calls on
/// Unix; on Windows by its name relative to the directory's handle, or for a symlink by
/// the path of the directory, which is held without `FILE_SHARE_DELETE` and so cannot be
/// renamed or replaced meanwhile), so a directory another program swaps for a link after
/// it was opened is never gone through.
pub fn apply<R, F>(root: R, records: &[Record], options: &ApplyOptions, report: F) -> Threads
where
    R: AsRef<Path>,
    F: FnMut(usize, Result<Applied>),
{
    apply_inner(root.as_ref(), records, options, report)
}

fn apply_inner(
    root: &Path,
    records: &[Record],
    options: &ApplyOptions,
    mut report: impl FnMut(usize, Result<Applied>),
) -> Threads {
    let work = Work::new(root, *options, Op::Apply);
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    }
    .min(records.len().max(1));
    let ran_on = |started| Threads {
        asked: threads,
        started,
    };
    if threads == 1 {
        let mut last = None;
        for (i, record) in records.iter().enumerate() {
            report(i, work.one(record, &mut last));
        }
        return ran_on(1);
    }
    // Each thread takes the records of its own directories (by a hash of the directory's
    // path as written), in manifest order: the kernel makes one entry at a time in a
    // directory, and two threads creating in one directory wait on each other there and
    // spend more time than one. Results come back through a channel and are reported in
    // manifest order as soon as the ones before are in.
    let mut shares = vec![Vec::new(); threads];
    for (i, record) in records.iter().enumerate() {
        shares[share_of(&record.path, threads)].push(i);
    }
    // The threads take the shares one after another: all of them where the system starts
    // every thread asked for; where it cannot start one (out of memory, or of processes
    // in a cgroup), the threads it did start take that one's share too, and with none
    // started the records are made here.
    let next_share = AtomicUsize::new(0);
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        let running = crate::threads::start_threads(scope, threads, || {
            let send = send.clone();
            let (work, shares, next_share) = (&work, &shares, &next_share);
            move || {
                let mut last = None;
                while let Some(share) = shares.get(next_share.fetch_add(1, Ordering::Relaxed)) {
                    // Sent a batch at a time: a message wakes the reporting thread, and a
                    // wake is a system call.
                    for batch in share.chunks(BATCH) {
                        let done: Vec<_> = batch
                            .iter()
                            .map(|&i| (i, work.one(&records[i], &mut last)))
                            .collect();
                        if send.send(done).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        drop(send);
        if running == 0 {
            let mut last = None;
            for (i, record) in records.iter().enumerate() {
                report(i, work.one(record, &mut last));
            }
            return ran_on(1);
        }
        let mut waiting = HashMap::new();
        let mut due = 0;
        for (i, result) in receive.into_iter().flatten() {
            waiting.insert(i, result);
            while let Some(result) = waiting.remove(&due) {
                report(due, result);
                due += 1;
            }
        }
        ran_on(running)
    })
}

/// How many records a thread makes before it hands their results on to be reported.
const BATCH: usize = 64;

/// Which of `threads` shares the record at `path` is in: a hash of its directory's path
/// as written (the bytes before the last separator), so that the records of one directory
/// are in one share.
fn share_of(path: &Path, threads: usize) -> usize {
    use std::hash::{BuildHasher as _, BuildHasherDefault, DefaultHasher};
    let bytes = path.as_os_str().as_encoded_bytes();
    let is_separator = |b: &u8| std::path::is_separator(char::from(*b));
    let dir = bytes
        .iter()
        .rposition(is_separator)
        .map_or(&[][..], |end| &bytes[..end]);
    // A fixed hasher: the same directory is in the same share in every run.
    let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(dir);
    (hash % threads as u64) as usize
}

/// The directory the last record of a thread was made in, held, by its path below the
/// root: the next record is most often in the same one (a scan lists a directory's links
/// together), and then it is taken from here without the shared cache's lock.
type Last = Option<(PathBuf, Arc<Pinned>)>;

/// What the threads share: the directories held open, each opened (or made) once.
/// [`copy`](crate::copy) makes its directories and files through it too.
pub(crate) struct Work {
    root: PathBuf,
    /// The operation its errors name.
    op: Op,
    options: ApplyOptions,
    /// The directories held open, by their path below the root (empty for the root).
    pins: Mutex<HashMap<PathBuf, Arc<Pinned>>>,
    /// How many may be held at once (each is an open descriptor or handle).
    max_pins: usize,
    /// The root as a full path, folded lexically (`copy` in `/home/u` is `/home/u/copy`):
    /// what a record's absolute path must lie below.
    absolute_root: PathBuf,
}

/// A directory below the root, held open: reached from the root one name at a time, each
/// opened from the one above without following a link there and checked to be a
/// directory, so no link was gone through on the way, whatever another program has put at
/// its path since. Links are made through it ([`sys::At`]).
pub(crate) struct Pinned {
    pub(crate) dir: sys::Dir,
    /// How links are made in it, decided once.
    place: OnceLock<Place>,
}

impl Pinned {
    fn new(dir: sys::Dir) -> Pinned {
        Pinned {
            dir,
            place: OnceLock::new(),
        }
    }

    /// The place of links made in it; `link` names one in errors.
    pub(crate) fn place(&self, link: &Path) -> Result<Place> {
        if let Some(place) = self.place.get() {
            return Ok(place.clone());
        }
        let place = self
            .dir
            .place()
            .map_err(|e| Error::io(Op::Apply, link, e))?;
        Ok(self.place.get_or_init(|| place).clone())
    }
}

/// How often a record is tried again when the entry at its path changes under it (made,
/// removed or swapped by another program between two steps): each try sees the change.
const TRIES: usize = 8;

/// A hard link's target: the directory that holds it, held; its name there; its path.
type HardTarget = (Arc<Pinned>, std::ffi::OsString, PathBuf);

/// What one record asks for, decided for the place of its link.
struct Asked<'a> {
    want: Want,
    /// The target as the record stores it.
    stored: &'a Path,
    /// The target as the create takes it ([`Work::target_at`]; a hard link's path).
    target: &'a Path,
    /// The drive letter of a junction written onto NTFS from Linux.
    drive: Option<DriveLetter>,
    /// The record's `dir`: a symlink's flavour, where the file system keeps one.
    dir: Option<bool>,
}

/// The kinds a manifest can ask for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    Symlink,
    Junction,
    Hardlink,
}

impl Work {
    /// The directories below `root`, none held yet; errors name `op`.
    pub(crate) fn new(root: &Path, options: ApplyOptions, op: Op) -> Work {
        Work {
            root: root.to_path_buf(),
            op,
            options,
            pins: Mutex::new(HashMap::new()),
            max_pins: sys::Os::max_held_dirs(),
            absolute_root: crate::path::absolute(root).unwrap_or_else(|_| root.to_path_buf()),
        }
    }

    /// The directories below `root`, the root held already as `dir` (opened by the caller
    /// without following a link at its name): never opened by its path, so never made
    /// here either.
    pub(crate) fn with_root(root: &Path, dir: sys::Dir, options: ApplyOptions, op: Op) -> Work {
        let work = Work::new(root, options, op);
        work.keep(Path::new(""), dir);
        work
    }

    /// Holds `dir`, opened or made by the caller from its parent held here, as the
    /// directory `below` the root.
    pub(crate) fn keep(&self, below: &Path, dir: sys::Dir) -> Arc<Pinned> {
        let pinned = Arc::new(Pinned::new(dir));
        let mut pins = self.lock_pins();
        if pins.len() >= self.max_pins {
            pins.retain(|below, _| below.as_os_str().is_empty());
        }
        pins.insert(below.to_path_buf(), Arc::clone(&pinned));
        pinned
    }

    fn dry_run(&self) -> bool {
        self.options.mode == ChangeMode::DryRun
    }

    fn one(&self, record: &Record, last: &mut Last) -> Result<Applied> {
        let relative = self.below_root(&record.path)?;
        let link = self.root.join(&relative);
        let (want, stored) = asked_of(record, &link)?;
        // A hard link's target is looked at before anything is made for the record.
        let hard = match want {
            Want::Hardlink => Some(self.hard_target_of(stored, &link)?),
            Want::Symlink | Want::Junction => None,
        };
        let (below, name) = split(&relative);
        let dir = match last {
            Some((at, dir)) if at.as_os_str() == below.as_os_str() => Arc::clone(dir),
            _ => {
                let Some(dir) = self.pin(below, !self.dry_run(), &link)? else {
                    // A dry run where the directory is still to be made: nothing stands
                    // there.
                    return Ok(Applied::Created);
                };
                *last = Some((below.to_path_buf(), Arc::clone(&dir)));
                dir
            }
        };
        let at = At::new(&dir.dir, name, &link);
        let place = dir.place(&link)?;
        let (target, drive, translated) = match &hard {
            Some((_, _, user)) => (user.clone(), self.options.drive, false),
            None => self.target_at(want, stored, &place),
        };
        let hard_target = hard
            .as_ref()
            .map(|(dir, name, user)| At::new(&dir.dir, name, user));
        let asked = Asked {
            want,
            stored,
            target: &target,
            drive,
            dir: record.dir,
        };
        let made = self.make(at, &asked, hard_target, place);
        if !translated {
            return made;
        }
        // A target taken in its NT form is named as the record has it, with the path it
        // was looked for at.
        made.map_err(|err| {
            if err.target() != Some(target.as_path()) {
                return err;
            }
            let looked_for = err.looked_for().unwrap_or(&target).to_path_buf();
            err.with_target(stored).with_looked_for(Some(looked_for))
        })
    }

    /// A hard link's `stored` target, another name of a file below the root, as a path,
    /// and the directory that holds it, held, with its name there: reached as the link is,
    /// through the directories held open, so a directory on the way swapped for a link
    /// cannot bring in a file from elsewhere.
    fn hard_target_of(&self, stored: &Path, link: &Path) -> Result<HardTarget> {
        let relative = self.below_root(stored)?;
        let (below, name) = split(&relative);
        let user = self.root.join(&relative);
        match self.pin(below, false, link)? {
            Some(dir) => Ok((dir, name.to_owned(), user)),
            None => {
                let looked_for = real_location(&user).ok();
                let err = Error::new(Op::CreateHardlink, link, ErrorKind::TargetMissing);
                Err(err.with_target(&user).with_looked_for(looked_for))
            }
        }
    }

    /// What a symlink's or junction's `stored` target is to the create at `place`, and the
    /// drive letter of a junction written onto NTFS from Linux: a symlink's target is
    /// text, stored as it is, and a junction's a path of this system anywhere (read from
    /// the root when relative), followed where it leads, as targets are. Where links at
    /// `place` are NT links read from Linux (an NTFS volume mounted with ntfs-3g), a target
    /// in the NT form (`..\Data\T`, `C:\Data\T`: what a scan of links there records) is
    /// taken in that form ([`nt_form`]), as a retarget by `knot fix` takes it, so the link
    /// made stores what the record says; a junction's `X:` is then its drive letter.
    /// Whether the target was so taken in another form than the record's is the third
    /// part.
    fn target_at(
        &self,
        want: Want,
        stored: &Path,
        place: &Place,
    ) -> (PathBuf, Option<DriveLetter>, bool) {
        let ty = match want {
            Want::Junction => LinkType::Junction,
            _ => LinkType::Symlink,
        };
        let (given, drive, translated) = match nt_form(place, ty, stored) {
            Some(nt) => {
                let translated = nt.given != stored;
                (nt.given, nt.drive.or(self.options.drive), translated)
            }
            None => (stored.to_path_buf(), self.options.drive, false),
        };
        match want {
            Want::Junction => (self.root.join(given), drive, translated),
            _ => (given, drive, translated),
        }
    }

    /// Makes the link `asked` at `at`, at `place`: created where nothing stands, left
    /// where it is as asked, replaced where another link stands, refused where anything
    /// else does.
    fn make(
        &self,
        at: At<'_>,
        asked: &Asked<'_>,
        hard_target: Option<At<'_>>,
        place: Place,
    ) -> Result<Applied> {
        let (link, want, target) = (at.path, asked.want, asked.target);
        let ty = match want {
            Want::Symlink => LinkType::Symlink,
            Want::Junction => LinkType::Junction,
            Want::Hardlink => LinkType::Hardlink,
        };
        let flavour = match asked.dir {
            Some(dir) if want == Want::Symlink && place.flavour_matters() => {
                Some(if dir { Flavour::Dir } else { Flavour::File })
            }
            _ => None,
        };
        let options = CreateOptions {
            flavour,
            drive: asked.drive,
            ..CreateOptions::default()
        };
        let replacing = CreateOptions {
            replace: Replace::Links,
            ..options
        };
        let plan = |options| plan_at(at, target, hard_target, ty, options, Some(place.clone()));
        // Another program may make, remove or swap the entry between the steps below:
        // each try looks again, and only a link made and read back is reported `created`.
        for _ in 0..TRIES {
            // The common case, a link to be made where nothing stands, costs one create
            // and no look beforehand: the create itself refuses an existing name.
            if !self.dry_run() {
                match create_new_lean(at, target, hard_target, ty, &options, place.clone()) {
                    Ok(_) => return Ok(Applied::Created),
                    Err(e)
                        if matches!(
                            e.kind(),
                            ErrorKind::LinkExists | ErrorKind::ArgumentsSwapped
                        ) => {}
                    Err(e) => return Err(e),
                }
            }
            let existing = match at.lstat() {
                Ok(meta) => meta,
                Err(e) if e.kind() == io::ErrorKind::NotFound && self.dry_run() => {
                    plan(&options)?.may_make()?;
                    return Ok(Applied::Created);
                }
                // Gone since the create found it: made again, on the next try.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io(Op::Apply, link, e)),
            };
            if let Some(target) = hard_target
                && target
                    .lstat()
                    .is_ok_and(|t| t.id == existing.id && t.ty != FileType::Dir)
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
                    link,
                    ErrorKind::WouldReplaceReal { what },
                ));
            }
            let found = match inspect_at(at) {
                Ok(found) => found,
                Err(e) if e.kind() == &ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            if want != Want::Hardlink && self.is_as_asked(&found, asked, &place) {
                return Ok(Applied::Unchanged);
            }
            let planned = plan(&replacing)?;
            // What would be written is there already, whatever the form of the record's
            // target: on ntfs-3g `../x` and `..\x` are written as the same buffer.
            if want != Want::Hardlink && planned.would_make(&found)? {
                return Ok(Applied::Unchanged);
            }
            if self.dry_run() {
                planned.may_make()?;
            } else {
                planned.commit_lean()?;
            }
            return Ok(Applied::Replaced {
                old_target: found.target,
            });
        }
        let err = crate::sys::error::Error::KeptChanging.into();
        Err(Error::io(Op::Apply, link, err))
    }

    /// Whether the link `found` is what the record `asked` asks: the same kind (on a file
    /// system without junctions, the directory symlink made for one), the same target, and
    /// the same flavour where the file system keeps one.
    fn is_as_asked(&self, found: &crate::Link, asked: &Asked<'_>, place: &Place) -> bool {
        let flavour_matters = place.flavour_matters();
        let dir = asked.dir;
        match asked.want {
            Want::Symlink => {
                found.kind == Kind::Symlink
                    && found.target.as_deref() == Some(asked.stored)
                    && (!flavour_matters || dir.is_none() || found.dir == dir.map(Flavour::of))
            }
            Want::Junction => {
                let kind = match place.junctions() {
                    Junctions::Emulated => Kind::Symlink,
                    _ => Kind::Junction,
                };
                // A junction stores an absolute path, in the form of its file system
                // (`C:\...` on NTFS): compare where it leads.
                let leads_to = real_location(asked.target).ok();
                found.kind == kind
                    && (found.target.as_deref() == Some(asked.target)
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
                self.op,
                path,
                ErrorKind::OutsideRoot {
                    root: self.root.clone(),
                },
            )
        };
        let rest = if path.is_absolute() {
            path.strip_prefix(&self.absolute_root)
                .map_err(|_| outside())?
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
            return Err(Error::new(self.op, path, ErrorKind::BadLinkPath));
        }
        Ok(relative)
    }

    /// The directory `below` the root, held open: from the cache, or opened from the one
    /// above it (made first where missing, if `make`; never in a dry run). `None` where it
    /// is missing and not made. A link on the way to it is an error of the record
    /// `link`'s ([`ErrorKind::LinkOnTheWay`]), as is anything else there that is no
    /// directory.
    pub(crate) fn pin(&self, below: &Path, make: bool, link: &Path) -> Result<Option<Arc<Pinned>>> {
        if let Some(pinned) = self.lock_pins().get(below) {
            return Ok(Some(Arc::clone(pinned)));
        }
        // Only the root has no parent.
        let (Some(above), Some(name)) = (below.parent(), below.file_name()) else {
            return self.pin_root(make);
        };
        let Some(parent) = self.pin(above, make, link)? else {
            return Ok(None);
        };
        let Some(dir) = self.open_below(&parent, below, name, make, link)? else {
            return Ok(None);
        };
        let pinned = Arc::new(Pinned::new(dir));
        let mut pins = self.lock_pins();
        if pins.len() >= self.max_pins {
            // Full: let go of all but the root (those in use stay open until dropped); the
            // ones needed again are opened again the same way.
            pins.retain(|below, _| below.as_os_str().is_empty());
        }
        let pinned = pins.entry(below.to_path_buf()).or_insert(pinned);
        Ok(Some(Arc::clone(pinned)))
    }

    /// The root, held: the user's, so opened following links, and made where it is
    /// missing (if `make`) only when the first record to be made in it gets here, so that
    /// a manifest whose every record is refused leaves no root behind. `None` where it is
    /// missing and not made (a dry run: every link in it would be made).
    fn pin_root(&self, make: bool) -> Result<Option<Arc<Pinned>>> {
        let root = Path::new("");
        // Under the lock: the root is made and opened once, whichever thread comes first.
        let mut pins = self.lock_pins();
        if let Some(pinned) = pins.get(root) {
            return Ok(Some(Arc::clone(pinned)));
        }
        let fail = |e: io::Error| Error::io(self.op, &self.root, e);
        if make {
            std::fs::create_dir_all(&self.root).map_err(fail)?;
        }
        match sys::Dir::hold(&self.root) {
            Ok(dir) => {
                let pinned = Arc::new(Pinned::new(dir));
                pins.insert(PathBuf::new(), Arc::clone(&pinned));
                Ok(Some(pinned))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound && !make => Ok(None),
            Err(e) => Err(fail(e)),
        }
    }

    /// Opens the directory `name` in `parent` (at `below` the root) without following a
    /// link there, making it first where it is missing, if `make`.
    fn open_below(
        &self,
        parent: &Pinned,
        below: &Path,
        name: &OsStr,
        make: bool,
        link: &Path,
    ) -> Result<Option<sys::Dir>> {
        let dir = || self.root.join(below);
        // Another program may make, remove or swap the entry between the calls: each try
        // looks again, and a few are enough for one that does not keep changing it.
        for _ in 0..4 {
            let err = match parent.dir.hold_at(name) {
                Ok(opened) => return Ok(Some(opened)),
                // Out of descriptors, or any other failure than the entry's being no
                // directory (ELOOP, ENOTDIR) or gone: no race, and no reason to try again.
                Err(err) if sys::Os::os_error_kind(&err).is_some() => {
                    return Err(Error::io(self.op, &dir(), err));
                }
                Err(err) => err,
            };
            match parent.dir.stat_at(name, false) {
                Ok(meta) if meta.ty == FileType::Link => {
                    let kind = ErrorKind::LinkOnTheWay { path: dir() };
                    return Err(Error::new(self.op, link, kind));
                }
                Ok(meta) if meta.ty != FileType::Dir => {
                    let what = if meta.ty == FileType::File {
                        Found::File
                    } else {
                        Found::Special(None)
                    };
                    let kind = ErrorKind::NotADirectory { path: dir(), what };
                    return Err(Error::new(self.op, link, kind));
                }
                // A directory that this user may not open.
                Ok(_) if err.kind() == io::ErrorKind::PermissionDenied => {
                    return Err(Error::io(self.op, &dir(), err));
                }
                // A directory again: opened again.
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound && !make => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    // `mkdir` never follows or replaces anything; what it made (or what
                    // another thread made first) is opened as above.
                    match parent.dir.make_dir_at(name) {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                        Err(e) => return Err(Error::io(self.op, &dir(), e)),
                    }
                }
                Err(_) => return Err(Error::io(self.op, &dir(), err)),
            }
        }
        let err = crate::sys::error::Error::KeptChanging.into();
        Err(Error::io(self.op, &dir(), err))
    }

    fn lock_pins(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Arc<Pinned>>> {
        // A thread that panicked holding the lock left a map that is still right.
        self.pins
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The kind a record asks for, and its target as stored; a record without them is refused
/// with the reason, named by its path `link`.
fn asked_of<'r>(record: &'r Record, link: &Path) -> Result<(Want, &'r Path)> {
    let bad = |why: BadRecord| Error::new(Op::Apply, link, ErrorKind::BadRecord { why });
    let want = match record.kind.parse::<Kind>() {
        Ok(Kind::Symlink) => Want::Symlink,
        Ok(Kind::Junction) => Want::Junction,
        Ok(Kind::Hardlink) => Want::Hardlink,
        _ => {
            return Err(bad(BadRecord::KindNotMade {
                kind: record.kind.to_string(),
            }));
        }
    };
    let kind = match want {
        Want::Symlink => Kind::Symlink,
        Want::Junction => Kind::Junction,
        Want::Hardlink => Kind::Hardlink,
    };
    match record.target.as_deref() {
        None => Err(bad(BadRecord::NoTarget { kind })),
        // An empty name names nothing: refused here, as the command line refuses it,
        // before it is read as the root (a junction) or given to the system.
        Some(stored) if stored.as_os_str().is_empty() => Err(bad(BadRecord::EmptyTarget { kind })),
        Some(stored) => Ok((want, stored)),
    }
}

/// A path below the root as the directory that holds it (empty for the root) and its
/// name.
pub(crate) fn split(relative: &Path) -> (&Path, &OsStr) {
    let below = relative.parent().unwrap_or(Path::new(""));
    (below, relative.file_name().unwrap_or_default())
}
