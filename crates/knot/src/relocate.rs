//! `knot move DIR NEW`: a directory moved elsewhere, a link left at its old place; and
//! `knot move --back LINK`, which moves it back and removes the link (DESIGN.md section 2).
//!
//! Nothing here walks, copies or removes a tree by itself: on one file system a move is one
//! rename between held directories that never replaces anything
//! ([`Directory::move_to_at`]); across file systems it is [`copy`](crate::copy())'s engine
//! (into a new directory under a hidden name beside NEW), a check of the copy against the
//! source through the tree walk, and [`remove_tree`](crate::remove_tree()) of the source,
//! set aside under a hidden name first. The link is made by the staged create.
//!
//! The order keeps the data whole in at least one place whatever step fails or is cut
//! short (README.md, "knot move", has the table):
//!
//! | step | a crash after it leaves |
//! |---|---|
//! | rename DIR to NEW (one file system) | the data at NEW, nothing at DIR |
//! | copy DIR to a hidden name beside NEW | DIR whole, a part copy at the hidden name |
//! | check the copy | the same |
//! | rename the copy to NEW | DIR whole, NEW whole |
//! | rename DIR aside, to a hidden name beside it | NEW whole, the old data at the hidden name |
//! | make the link at DIR | the move done, the old data at the hidden name |
//! | remove the hidden old data | the move done |
//!
//! A failure (rather than a crash) undoes what was done: a copy that failed or differs is
//! removed; DIR found changed once set aside (written into while it was copied), or a
//! link that cannot be made, puts DIR back. A copy renamed to NEW is removed only by its
//! identity: renamed to a hidden name and looked at first. What cannot be undone is an error
//! that says where the data is ([`ErrorKind::MoveStopped`]).

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use crate::change::ChangeMode;
use crate::copy::{CopyOptions, Item, copy_staged};
use crate::create::{CreateOptions, DriveLetter, LinkType, Made, TargetForm, create_new_lean};
use crate::error::{Error, ErrorKind, MoveLeft, NotMoved, Op, Result};
use crate::link::{Flavour, Found, Kind, Status};
use crate::remove::tree::{Met, TreeAction, TreeRemoved, remove_tree_at, tree_entry};
use crate::sys::{self, At, FileType, Junctions};
use crate::sys::{Backend as _, Directory as _};

/// What a move leaves at the directory's old place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Leave {
    /// A junction (Windows; an NTFS volume mounted with ntfs-3g): refused elsewhere.
    Junction,
    /// A symbolic link, of the directory flavour, with the absolute target.
    Symlink,
    /// Nothing.
    Nothing,
}

impl Leave {
    /// The word of the CLI's `--leave`: `junction`, `symlink`, `none`.
    pub fn name(self) -> &'static str {
        match self {
            Leave::Junction => "junction",
            Leave::Symlink => "symlink",
            Leave::Nothing => "none",
        }
    }

    /// A junction where the directory `dir`'s file system has junctions, else a symlink:
    /// the CLI's default.
    pub fn default_for(dir: &Path) -> Leave {
        let parent = crate::path::absolute(dir)
            .ok()
            .and_then(|abs| sys::Dir::hold(crate::path::parent_dir(&abs)).ok())
            .and_then(|held| held.place().ok());
        match parent.map(|place| place.junctions()) {
            Some(Junctions::Native) => Leave::Junction,
            _ => Leave::Symlink,
        }
    }
}

/// Options for [`relocate`] and [`relocate_back`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MoveOptions {
    /// What to leave at the old place (ignored by [`relocate_back`]).
    pub leave: Leave,
    /// Move, or only say the steps that would be taken (the CLI's `--dry-run`).
    pub mode: ChangeMode,
    /// Across file systems, compare every file's bytes with its copy too, not only the
    /// kinds, sizes and link targets (the CLI's `--verify`).
    pub verify: bool,
    /// The drive letter of a junction written onto an NTFS volume from Linux (ntfs-3g).
    pub drive: Option<DriveLetter>,
}

impl Default for MoveOptions {
    fn default() -> MoveOptions {
        MoveOptions {
            leave: Leave::Symlink,
            mode: ChangeMode::Change,
            verify: false,
            drive: None,
        }
    }
}

/// One step of a move, reported before it is taken (in a dry run: the plan).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// `from` renamed to `to`, on one file system.
    Rename {
        /// What is renamed.
        from: PathBuf,
        /// Its new name.
        to: PathBuf,
    },
    /// `from` copied to `to`, a hidden name beside where the copy goes, links kept; taken
    /// where the rename crosses file systems.
    Copy {
        /// The source.
        from: PathBuf,
        /// The hidden name.
        to: PathBuf,
    },
    /// The copy checked against the source: the same entries, kinds, sizes and link
    /// targets; with `contents`, the same bytes.
    Check {
        /// The copy.
        copy: PathBuf,
        /// Whether each file's bytes are compared.
        contents: bool,
    },
    /// `from` renamed to a hidden name `to` beside it, out of the way.
    SetAside {
        /// What is set aside.
        from: PathBuf,
        /// The hidden name.
        to: PathBuf,
    },
    /// A link made at `at`, leading to `to`.
    Link {
        /// Where.
        at: PathBuf,
        /// The target.
        to: PathBuf,
        /// Its kind.
        leave: Leave,
    },
    /// The link at `at` removed (a move back).
    RemoveLink {
        /// The link.
        at: PathBuf,
    },
    /// The tree `path` removed as `rm --tree` removes it.
    RemoveTree {
        /// The tree.
        path: PathBuf,
    },
}

/// What a move did, as it goes: each step, and each failure of an entry in a copy or a
/// removal.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// A step about to be taken (or, in a dry run, that would be).
    Step(Step),
    /// An entry that could not be copied, checked or removed.
    Failed(Error),
}

/// What a move did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Moved {
    /// Whether it crossed file systems (a copy and a removal, not a rename); in a dry run,
    /// whether it is expected to.
    pub across: bool,
    /// The link made at the old place (none for [`Leave::Nothing`], a move back, a dry run).
    pub made: Option<Made>,
    /// What the copy made, across file systems.
    pub copied: Option<crate::copy::Summary>,
    /// What the removal of the old data removed, across file systems.
    pub removed: Option<TreeRemoved>,
}

/// Moves the directory `dir` to the new path `new` and leaves a link to it at `dir`, as
/// [`MoveOptions::leave`] says, calling `each` with every step before it is taken.
///
/// On one file system: `dir` renamed to `new` (never replacing anything), then the link.
/// Across file systems (the rename fails with `EXDEV`): `dir` copied by the
/// [`copy`](crate::copy())'s engine into a new directory under a hidden name beside
/// `new` (links kept, inner ones made to lead into `new`, hard links kept), the copy
/// checked against `dir`, renamed to `new`, `dir` renamed aside to a hidden name, the
/// link made, and the old data removed as [`remove_tree`](crate::remove_tree()) removes a tree. A crash at any
/// point leaves the data whole in at least one place (see the module's table).
///
/// # Errors
/// Refused before anything is changed: `dir` a link ([`ErrorKind::TreeIsALink`]), no
/// directory ([`ErrorKind::TreeNotADirectory`]), the root, `.`, `..` or an ancestor of
/// the current directory ([`ErrorKind::TreeRefused`]), or holding a mount point
/// ([`ErrorKind::MountPointInTree`], the mount point's path); `new` there already
/// ([`ErrorKind::MoveDestinationExists`]) or inside `dir`
/// ([`ErrorKind::MoveIntoItself`]); a junction asked where there are none
/// ([`ErrorKind::NoJunctions`]). A copy that fails or differs, or a source written into
/// while it was copied, is removed and the source left ([`ErrorKind::MoveCopyFailed`]); a link that cannot be made puts `dir` back;
/// what cannot be undone says where the data is ([`ErrorKind::MoveStopped`]).
/// [`MoveOptions::verify`] where bytes cannot be compared yet (Windows) is refused first
/// ([`ErrorKind::Unsupported`]), and so is a move across volumes there, once the rename
/// says it crosses them.
///
/// # Platform behavior
/// Linux: `renameat2(RENAME_NOREPLACE)` between the held directories; where the file
/// system cannot (FUSE, ntfs-3g) and on other Unix systems, the new name is looked at,
/// then `renameat`, which replaces no file and no directory with entries. Windows: the
/// directory opened relative to its held parent's handle and renamed relative to the
/// other's without replacing (`NtSetInformationFile`, `FileRenameInformation`), which
/// fails across volumes as `MoveFileExW` without `MOVEFILE_COPY_ALLOWED` does; then the
/// copy. Junctions are left where the file system has them (Windows, ntfs-3g).
///
/// # Examples
/// ```
/// use knot::{Leave, MoveOptions, relocate, relocate_back};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # // A symlink on Windows needs a privilege (and Wine makes none): run on Unix.
/// # if cfg!(windows) { return Ok(()); }
/// let dir = tempfile::tempdir()?;
/// let (games, moved) = (dir.path().join("games"), dir.path().join("moved"));
/// std::fs::create_dir(&games)?;
/// std::fs::write(games.join("save"), "level 9")?;
/// let options = MoveOptions {
///     leave: Leave::Symlink,
///     ..MoveOptions::default()
/// };
/// relocate(&games, &moved, &options, &mut |_| {})?;
/// // The data is at `moved`, and still found through `games`, now a link.
/// assert!(std::fs::symlink_metadata(&games)?.is_symlink());
/// assert_eq!(std::fs::read_to_string(games.join("save"))?, "level 9");
/// relocate_back(&games, &options, &mut |_| {})?;
/// assert!(std::fs::symlink_metadata(&games)?.is_dir() && !moved.exists());
/// # Ok(())
/// # }
/// ```
pub fn relocate<D: AsRef<Path>, N: AsRef<Path>>(
    dir: D,
    new: N,
    options: &MoveOptions,
    each: &mut dyn FnMut(Event),
) -> Result<Moved> {
    relocate_inner(dir.as_ref(), new.as_ref(), options, each)
}

fn relocate_inner(
    dir: &Path,
    new: &Path,
    options: &MoveOptions,
    each: &mut dyn FnMut(Event),
) -> Result<Moved> {
    let op = Op::Move;
    refuse_verify(options, dir, op)?;
    let from = Held::source(dir, op)?;
    let to = Held::new_place(new, op)?;
    if crate::resolve::is_within(&to.real, &from.real) {
        return Err(Error::new(op, new, ErrorKind::MoveIntoItself));
    }
    let ty = link_type(options.leave, &from, op)?;
    refuse_mount_points(&from, op)?;
    let mut moving = Moving {
        op,
        options,
        each,
        moved: Moved::default(),
    };
    // The link leads to NEW by its real path, absolute.
    let target = to.real.clone();
    if options.mode == ChangeMode::DryRun {
        moving.moved.across = !from.same_file_system(&to)?;
        moving.plan_forward(&from, &to, &target);
        return Ok(moving.moved);
    }
    // The rename is tried first: it is reported once taken, and where it would cross file
    // systems the copy is taken instead.
    fault("rename")?;
    match from.parent.move_to_at(&from.name, &to.parent, &to.name) {
        Ok(()) => {
            moving.step(Step::Rename {
                from: dir.to_path_buf(),
                to: new.to_path_buf(),
            });
            moving.leave_link(&from, &target, ty, |moving| {
                // Put back: the data returns to DIR.
                to.parent
                    .move_to_at(&to.name, &from.parent, &from.name)
                    .map_err(|_| {
                        stopped(
                            moving.op,
                            &from.path,
                            to.path.clone(),
                            MoveLeft::MakeLink {
                                at: from.path.clone(),
                                aside: None,
                            },
                        )
                    })
            })?;
            Ok(moving.moved)
        }
        Err(err) if err.kind() == io::ErrorKind::CrossesDevices => {
            refuse_across(dir, op)?;
            moving.moved.across = true;
            moving.across(&from, &to, &target, ty)?;
            Ok(moving.moved)
        }
        Err(err) if is_there(&err) => Err(destination_error(op, new, err)),
        Err(err) => Err(Error::io(op, dir, err)),
    }
}

/// Moves the data a link leads to back to the link's place and removes the link: the
/// undo of [`relocate`]. The link must be a junction or a directory symlink that leads
/// straight to a real directory (not through another link); that directory's data takes
/// the link's place.
///
/// On one file system: the directory renamed to a hidden name beside the link, then put in
/// the link's place (swapped with it in one step where the file system can, else the link
/// removed and the directory renamed), then the link removed. Across file systems: a copy
/// beside the link under a hidden name (as [`relocate`] copies), checked, put in the
/// link's place as above, and the old data removed as [`remove_tree`](crate::remove_tree()) removes a tree.
///
/// # Errors
/// Refused before anything is changed where `link` is no such link
/// ([`ErrorKind::NotAMovedLink`]), or what it leads to holds a mount point
/// ([`ErrorKind::MountPointInTree`]), the link, or the current directory
/// ([`ErrorKind::TreeRefused`]); then as [`relocate`].
///
/// # Platform behavior
/// As [`relocate`]; the swap of the data and the link is `renameat2(RENAME_EXCHANGE)`
/// where the file system has it (Linux, but not FUSE or ntfs-3g), else (and on Windows)
/// the link removed as a link, then the data renamed into its place.
pub fn relocate_back<L: AsRef<Path>>(
    link: L,
    options: &MoveOptions,
    each: &mut dyn FnMut(Event),
) -> Result<Moved> {
    relocate_back_inner(link.as_ref(), options, each)
}

fn relocate_back_inner(
    link: &Path,
    options: &MoveOptions,
    each: &mut dyn FnMut(Event),
) -> Result<Moved> {
    let op = Op::MoveBack;
    refuse_verify(options, link, op)?;
    let (data, at) = moved_link(link)?;
    refuse_mount_points(&data, op)?;
    let mut moving = Moving {
        op,
        options,
        each,
        moved: Moved::default(),
    };
    let hidden = crate::path::hidden_file_name(&at.name);
    let hidden_path = at.parent_path.join(&hidden);
    if options.mode == ChangeMode::DryRun {
        moving.moved.across = !data.same_file_system(&at)?;
        moving.plan_back(&data, &at);
        return Ok(moving.moved);
    }
    fault("rename")?;
    match data.parent.move_to_at(&data.name, &at.parent, &hidden) {
        Ok(()) => {
            moving.step(Step::Rename {
                from: data.path.clone(),
                to: hidden_path.clone(),
            });
            let put_back = |_: &mut Moving<'_>| {
                at.parent
                    .move_to_at(&hidden, &data.parent, &data.name)
                    .map_err(|_| {
                        stopped(
                            op,
                            link,
                            hidden_path.clone(),
                            MoveLeft::RenameTo {
                                to: data.path.clone(),
                            },
                        )
                    })
            };
            moving.swap_in(&at, &hidden, &hidden_path, put_back)?;
            Ok(moving.moved)
        }
        Err(err) if err.kind() == io::ErrorKind::CrossesDevices => {
            refuse_across(link, op)?;
            moving.moved.across = true;
            moving.back_across(&data, &at)?;
            Ok(moving.moved)
        }
        Err(err) => Err(Error::io(op, &data.path, err)),
    }
}

/// An entry of a move, found through its held parent: the directory that holds it, held,
/// its name there, its path as given, and its real path (its parent's, and its name).
struct Held {
    parent: sys::Dir,
    parent_path: PathBuf,
    name: std::ffi::OsString,
    path: PathBuf,
    real: PathBuf,
}

impl Held {
    /// The directory to move: a real directory, not a link, nor `/`, `.`, `..` or an
    /// ancestor of the current directory.
    fn source(path: &Path, op: Op) -> Result<Held> {
        let (parent_path, name) = tree_entry(path, op)?;
        let fail = |e| Error::io(op, path, e);
        let parent = sys::Dir::hold(parent_path).map_err(fail)?;
        let meta = parent.stat_at(name, false).map_err(fail)?;
        let what = match meta.ty {
            FileType::Dir => None,
            FileType::Link => return Err(Error::new(op, path, ErrorKind::TreeIsALink)),
            FileType::File => Some(Found::File),
            FileType::Other => Some(Found::Special(sys::Os::special(path, false))),
        };
        if let Some(what) = what {
            return Err(Error::new(op, path, ErrorKind::TreeNotADirectory { what }));
        }
        let real = parent.real_dir(parent_path).map_err(fail)?.join(name);
        Ok(Held {
            parent,
            parent_path: shown_parent(path, parent_path),
            name: name.to_os_string(),
            path: path.to_path_buf(),
            real,
        })
    }

    /// The new place: nothing there, its parent a directory.
    fn new_place(path: &Path, op: Op) -> Result<Held> {
        let fail = |e| Error::io(op, path, e);
        let abs = crate::path::absolute(path).map_err(fail)?;
        let Some(name) = abs.file_name() else {
            return Err(Error::new(op, path, ErrorKind::MoveDestinationExists));
        };
        let parent_path = crate::path::parent_dir(&abs);
        let parent = sys::Dir::hold(parent_path).map_err(|e| Error::io(op, parent_path, e))?;
        match parent.stat_at(name, false) {
            Ok(_) => return Err(Error::new(op, path, ErrorKind::MoveDestinationExists)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(fail(e)),
        }
        let real = parent
            .real_dir(parent_path)
            .map_err(|e| Error::io(op, parent_path, e))?
            .join(name);
        // Hidden names beside NEW are shown as NEW is given, where it ends in its own name.
        let parent_path = match path.file_name() {
            Some(given) if given == name => crate::path::parent_dir(path),
            _ => parent_path,
        };
        Ok(Held {
            parent,
            parent_path: shown_parent(path, parent_path),
            name: name.to_os_string(),
            path: path.to_path_buf(),
            real,
        })
    }

    /// Whether a rename from this entry's directory to `other`'s is expected to stay on
    /// one file system (same device, same mount): what a dry run says.
    fn same_file_system(&self, other: &Held) -> Result<bool> {
        let fail = |e| Error::io(Op::Move, &self.path, e);
        let (a, b) = (
            self.parent.meta().map_err(fail)?,
            other.parent.meta().map_err(fail)?,
        );
        let mounts = (
            self.parent.mount_id().map_err(fail)?,
            other.parent.mount_id().map_err(fail)?,
        );
        Ok(a.id.0 == b.id.0 && mounts.0 == mounts.1)
    }
}

/// Refuses [`MoveOptions::verify`] where the platform cannot compare two files' bytes
/// through held directories yet (Windows), before anything is changed.
fn refuse_verify(options: &MoveOptions, path: &Path, op: Op) -> Result<()> {
    if options.verify && !sys::Os::UPDATES_COPIES {
        let why = "comparing every file's bytes (--verify) is not available on this platform \
                   yet; move without it (the copy is still checked by entries, kinds, sizes \
                   and link targets)"
            .to_owned();
        return Err(Error::new(op, path, ErrorKind::Unsupported { why }));
    }
    Ok(())
}

/// Refuses a move across file systems (volumes) where the listing that finds what was
/// written into the source while it was copied has no file times (Windows: a file
/// rewritten in place at the same size would go unseen, and be lost), before anything is
/// changed.
fn refuse_across(path: &Path, op: Op) -> Result<()> {
    if !sys::Os::UPDATES_COPIES {
        let why = "a move across volumes is not available on this platform yet (a file \
                   written while it is copied could not be told); move it within one volume, \
                   or copy it with knot copy and remove the source yourself"
            .to_owned();
        return Err(Error::new(op, path, ErrorKind::Unsupported { why }));
    }
    Ok(())
}

/// The directory `parent` that holds `path`, as hidden names beside `path` are shown: none
/// for a bare name (`.a.knot~...`, not `./.a.knot~...`).
fn shown_parent(path: &Path, parent: &Path) -> PathBuf {
    if parent == Path::new(".") && path.parent().is_some_and(|p| p.as_os_str().is_empty()) {
        PathBuf::new()
    } else {
        parent.to_path_buf()
    }
}

/// The link type `leave` makes at `at`'s place: a junction only where junctions are real.
fn link_type(leave: Leave, at: &Held, op: Op) -> Result<Option<LinkType>> {
    Ok(match leave {
        Leave::Nothing => None,
        Leave::Symlink => Some(LinkType::Symlink),
        Leave::Junction => {
            let place = at.parent.place().map_err(|e| Error::io(op, &at.path, e))?;
            match place.junctions() {
                Junctions::Native => Some(LinkType::Junction),
                Junctions::Emulated | Junctions::Refused(_) => {
                    return Err(Error::new(op, &at.path, ErrorKind::NoJunctions));
                }
            }
        }
    })
}

/// Refuses a tree that holds a mount point: its first one, by path, before anything is
/// changed. The listing is [`remove_tree`]'s own, in a dry run.
fn refuse_mount_points(dir: &Held, op: Op) -> Result<()> {
    let mut mount = None;
    remove_tree_at(
        &dir.parent,
        &dir.name,
        &dir.path,
        ChangeMode::DryRun,
        &mut |met| {
            if let Ok(met) = met
                && met.action == TreeAction::Refused
                && mount.is_none()
            {
                mount = Some(met.link.path);
            }
        },
    )
    .map_err(|e| e.with_op(op))?;
    match mount {
        Some(path) => Err(Error::new(op, path, ErrorKind::MountPointInTree)),
        None => Ok(()),
    }
}

/// The link to move back, checked to be one a move would have left: the directory it
/// leads to (held through its parent) and the link itself.
fn moved_link(link: &Path) -> Result<(Held, Held)> {
    let op = Op::MoveBack;
    let refuse = |why| Error::new(op, link, ErrorKind::NotAMovedLink { why });
    let fail = |e| Error::io(op, link, e);
    let (parent_path, name) = tree_entry(link, op)?;
    let parent = sys::Dir::hold(parent_path).map_err(fail)?;
    let meta = parent.stat_at(name, false).map_err(fail)?;
    match meta.ty {
        FileType::Link => {}
        FileType::Dir => return Err(refuse(NotMoved::RealDirectory)),
        _ => return Err(refuse(NotMoved::NotALink)),
    }
    let found = crate::inspect::inspect_at(At::new(&parent, name, link))?;
    if !matches!(found.kind, Kind::Symlink | Kind::Junction) {
        return Err(refuse(NotMoved::NotALink));
    }
    match found.status {
        Some(Status::Ok) => {}
        _ => return Err(refuse(NotMoved::Dangling)),
    }
    if found.dir != Some(Flavour::Dir) {
        return Err(refuse(NotMoved::FileLink));
    }
    // Where it leads, one step: a link there is a link to a link.
    let stored = parent.read_link_at(name).map_err(fail)?;
    // A move leaves an absolute target (a junction's always is): a relative one is another
    // tool's link, whose data a move back across file systems would remove.
    if stored.leads_to.is_none() && !stored.target.is_absolute() {
        return Err(refuse(NotMoved::RelativeTarget));
    }
    let step = match stored.leads_to {
        Some(leads) => leads,
        None if stored.target.is_absolute() => stored.target.clone(),
        None => crate::path::parent_dir(link).join(&stored.target),
    };
    let step = crate::path::absolute(&step).map_err(fail)?;
    let data_parent_path = crate::path::parent_dir(&step).to_path_buf();
    let Some(data_name) = step.file_name() else {
        return Err(refuse(NotMoved::LeadsAbove));
    };
    let data_parent = sys::Dir::hold(&data_parent_path).map_err(fail)?;
    let data_id = match data_parent.stat_at(data_name, false) {
        Ok(meta) if meta.ty == FileType::Dir => meta.id,
        Ok(meta) if meta.ty == FileType::Link => return Err(refuse(NotMoved::LinkToLink)),
        Ok(_) => return Err(refuse(NotMoved::FileLink)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(refuse(NotMoved::Dangling)),
        Err(e) => return Err(fail(e)),
    };
    // What the link leads to as the system follows it must be that directory (a `..`
    // after another link in the target leads elsewhere than the names say).
    if parent.stat_at(name, true).map_err(fail)?.id != data_id {
        return Err(refuse(NotMoved::LinkToLink));
    }
    let data_real = data_parent
        .real_dir(&data_parent_path)
        .map_err(fail)?
        .join(data_name);
    let link_real = parent.real_dir(parent_path).map_err(fail)?.join(name);
    // The data may not hold the link (it would move into itself), nor the link's
    // directory lie inside it.
    if link_real.starts_with(&data_real) {
        return Err(refuse(NotMoved::LeadsAbove));
    }
    // The data may not hold the current directory, which would move (or go) with it.
    if std::env::current_dir()
        .and_then(std::fs::canonicalize)
        .is_ok_and(|cwd| cwd.starts_with(&data_real))
    {
        let kind = ErrorKind::TreeRefused {
            holds_current: true,
        };
        return Err(Error::new(op, &step, kind));
    }
    let data = Held {
        parent: data_parent,
        parent_path: data_parent_path,
        name: data_name.to_os_string(),
        path: step.clone(),
        real: data_real,
    };
    let at = Held {
        parent,
        parent_path: shown_parent(link, parent_path),
        name: name.to_os_string(),
        path: link.to_path_buf(),
        real: link_real,
    };
    Ok((data, at))
}

/// A move under way: its steps reported, what it did counted.
struct Moving<'a> {
    op: Op,
    options: &'a MoveOptions,
    each: &'a mut dyn FnMut(Event),
    moved: Moved,
}

impl Moving<'_> {
    fn step(&mut self, step: Step) {
        (self.each)(Event::Step(step));
    }

    /// The steps of a move, reported without taking them.
    fn plan_forward(&mut self, from: &Held, to: &Held, target: &Path) {
        if self.moved.across {
            let staged = to.parent_path.join(crate::path::hidden_file_name(&to.name));
            let aside = from
                .parent_path
                .join(crate::path::hidden_file_name(&from.name));
            self.plan_copy(&from.path, &staged);
            self.step(Step::Rename {
                from: staged,
                to: to.path.clone(),
            });
            self.step(Step::SetAside {
                from: from.path.clone(),
                to: aside.clone(),
            });
            self.plan_link(from, target);
            self.step(Step::RemoveTree { path: aside });
        } else {
            self.step(Step::Rename {
                from: from.path.clone(),
                to: to.path.clone(),
            });
            self.plan_link(from, target);
        }
    }

    fn plan_copy(&mut self, from: &Path, staged: &Path) {
        self.step(Step::Copy {
            from: from.to_path_buf(),
            to: staged.to_path_buf(),
        });
        self.step(Step::Check {
            copy: staged.to_path_buf(),
            contents: self.options.verify,
        });
    }

    fn plan_link(&mut self, at: &Held, target: &Path) {
        if self.options.leave != Leave::Nothing {
            self.step(Step::Link {
                at: at.path.clone(),
                to: target.to_path_buf(),
                leave: self.options.leave,
            });
        }
    }

    /// The steps of a move back, reported without taking them.
    fn plan_back(&mut self, data: &Held, at: &Held) {
        let hidden = at.parent_path.join(crate::path::hidden_file_name(&at.name));
        if self.moved.across {
            self.plan_copy(&data.path, &hidden);
        } else {
            self.step(Step::Rename {
                from: data.path.clone(),
                to: hidden.clone(),
            });
        }
        self.step(Step::RemoveLink {
            at: at.path.clone(),
        });
        self.step(Step::Rename {
            from: hidden,
            to: at.path.clone(),
        });
        if self.moved.across {
            let aside = data
                .parent_path
                .join(crate::path::hidden_file_name(&data.name));
            self.step(Step::SetAside {
                from: data.path.clone(),
                to: aside.clone(),
            });
            self.step(Step::RemoveTree { path: aside });
        }
    }

    /// The link at `at`'s place, leading to `target`; where it cannot be made, `undo`
    /// puts the data back and the link's error is returned.
    fn leave_link(
        &mut self,
        at: &Held,
        target: &Path,
        ty: Option<LinkType>,
        undo: impl FnOnce(&mut Self) -> Result<()>,
    ) -> Result<()> {
        let Some(ty) = ty else {
            return Ok(());
        };
        self.step(Step::Link {
            at: at.path.clone(),
            to: target.to_path_buf(),
            leave: self.options.leave,
        });
        let made = fault("link").and_then(|()| {
            let options = CreateOptions {
                flavour: Some(Flavour::Dir),
                form: TargetForm::Absolute,
                drive: self.options.drive,
                ..CreateOptions::default()
            };
            let place = at
                .parent
                .place()
                .map_err(|e| Error::io(self.op, &at.path, e))?;
            let link = At::new(&at.parent, &at.name, &at.path);
            create_new_lean(link, target, None, ty, &options, place).map_err(|e| e.with_op(self.op))
        });
        match made {
            Ok(made) => {
                self.moved.made = Some(made);
                Ok(())
            }
            Err(err) => {
                undo(self)?;
                Err(err)
            }
        }
    }

    /// Across file systems: the copy, its check, the copy renamed to NEW, DIR set aside,
    /// the link, the old data removed.
    fn across(
        &mut self,
        from: &Held,
        to: &Held,
        target: &Path,
        ty: Option<LinkType>,
    ) -> Result<()> {
        let (staged, listed) = self.copy_checked(from, to)?;
        let staged_path = to.parent_path.join(&staged);
        // The copy's identity: once it is renamed to NEW (a public name), only the
        // directory with this identity is ever removed from there.
        let copy_id = match to.parent.stat_at(&staged, false) {
            Ok(meta) => meta.id,
            Err(e) => {
                self.remove_quietly(&to.parent, &staged, &staged_path);
                return Err(Error::io(self.op, &staged_path, e));
            }
        };
        self.step(Step::Rename {
            from: staged_path.clone(),
            to: to.path.clone(),
        });
        if let Err(err) = fault("rename-copy").and_then(|()| {
            to.parent
                .move_to_at(&staged, &to.parent, &to.name)
                .map_err(|e| destination_error(self.op, &to.path, e))
        }) {
            self.remove_quietly(&to.parent, &staged, &staged_path);
            return Err(err);
        }
        let (aside, aside_path) = match self.set_aside(from) {
            Ok(aside) => aside,
            Err(err) => {
                self.remove_copy(to, copy_id);
                return Err(err);
            }
        };
        // What was written into DIR while it was copied is found now, before the link:
        // the move is undone (DIR put back, the copy removed) and nothing is lost.
        if let Some(why) = self.changed(&listed, &aside_path) {
            if from
                .parent
                .move_to_at(&aside, &from.parent, &from.name)
                .is_err()
            {
                return Err(stopped(
                    self.op,
                    &aside_path,
                    to.path.clone(),
                    MoveLeft::Changed {
                        at: aside_path.clone(),
                        why,
                    },
                ));
            }
            self.remove_copy(to, copy_id);
            let kind = ErrorKind::MoveCopyFailed {
                failed: 0,
                differs: Some(format!("{why} while it was copied")),
                changed: true,
            };
            return Err(Error::new(self.op, &from.path, kind));
        }
        self.leave_link(from, target, ty, |moving| {
            // DIR back in its place; the copy goes.
            match from.parent.move_to_at(&aside, &from.parent, &from.name) {
                Ok(()) => {
                    moving.remove_copy(to, copy_id);
                    Ok(())
                }
                Err(_) => Err(stopped(
                    moving.op,
                    &from.path,
                    to.path.clone(),
                    MoveLeft::MakeLink {
                        at: from.path.clone(),
                        aside: Some(aside_path.clone()),
                    },
                )),
            }
        })?;
        self.remove_old(&from.parent, &aside, &aside_path, &to.path)
    }

    /// `held` renamed to a fresh hidden name beside it, never replacing anything, the step
    /// reported first: the hidden name, and its path as shown.
    fn set_aside(&mut self, held: &Held) -> Result<(std::ffi::OsString, PathBuf)> {
        let aside = crate::path::hidden_file_name(&held.name);
        let aside_path = held.parent_path.join(&aside);
        self.step(Step::SetAside {
            from: held.path.clone(),
            to: aside_path.clone(),
        });
        fault("set-aside").and_then(|()| {
            held.parent
                .move_to_at(&held.name, &held.parent, &aside)
                .map_err(|e| Error::io(self.op, &held.path, e))
        })?;
        Ok((aside, aside_path))
    }

    /// The copy this move made, renamed to NEW (`to`), removed by its identity `id`: first
    /// renamed to a fresh hidden name (never replacing), looked at there, and removed only
    /// where it is that copy; anything else is put back, and reported.
    fn remove_copy(&mut self, to: &Held, id: (u64, u128)) {
        let hidden = crate::path::hidden_file_name(&to.name);
        let hidden_path = to.parent_path.join(&hidden);
        if let Err(e) = to.parent.move_to_at(&to.name, &to.parent, &hidden) {
            (self.each)(Event::Failed(Error::io(self.op, &to.path, e)));
            return;
        }
        match to.parent.stat_at(&hidden, false) {
            Ok(meta) if meta.ty == FileType::Dir && meta.id == id => {
                self.remove_quietly(&to.parent, &hidden, &hidden_path);
            }
            _ => {
                let not_ours = io::Error::other(
                    "it is no longer the copy this move made; it was left as found",
                );
                let err = match to.parent.move_to_at(&hidden, &to.parent, &to.name) {
                    Ok(()) => Error::io(self.op, &to.path, not_ours),
                    Err(_) => Error::io(self.op, &hidden_path, not_ours),
                };
                (self.each)(Event::Failed(err));
            }
        }
    }

    /// What changed in the old data, now at `old`, since it was listed before it was
    /// copied (`listed`): none where nothing did; where it cannot be looked at again, that.
    fn changed(&mut self, listed: &check::Source, old: &Path) -> Option<String> {
        match check::changed(listed, old) {
            Ok(None) => None,
            Ok(Some(why)) => Some(why),
            Err(err) => {
                (self.each)(Event::Failed(err.with_op(self.op)));
                Some("it could not be looked at again".to_owned())
            }
        }
    }

    /// The move back across file systems: a copy beside the link, checked, put in the
    /// link's place, the old data removed.
    fn back_across(&mut self, data: &Held, at: &Held) -> Result<()> {
        let (staged, listed) = self.copy_checked(data, at)?;
        let staged_path = at.parent_path.join(&staged);
        self.swap_in(at, &staged, &staged_path, |moving| {
            moving.remove_quietly(&at.parent, &staged, &staged_path);
            Ok(())
        })?;
        // The old data set aside under a hidden name in its own directory before it is
        // checked and removed: what is written into it by its path from here on is not.
        let (aside, aside_path) = match self.set_aside(data) {
            Ok(aside) => aside,
            Err(err) => {
                (self.each)(Event::Failed(err));
                return Err(self.old_left(&data.path, &at.path));
            }
        };
        if let Some(why) = self.changed(&listed, &aside_path) {
            return Err(stopped(
                self.op,
                &aside_path,
                at.path.clone(),
                MoveLeft::Changed {
                    at: aside_path.clone(),
                    why,
                },
            ));
        }
        self.remove_old(&data.parent, &aside, &aside_path, &at.path)
    }

    /// `from` copied into a new directory under a hidden name beside `to` (inner links
    /// made to lead into `to`), and checked against `from`: its hidden name, and `from` as
    /// listed before it was copied. A copy that failed or differs is removed, and the error
    /// returned.
    fn copy_checked(
        &mut self,
        from: &Held,
        to: &Held,
    ) -> Result<(std::ffi::OsString, check::Source)> {
        let staged = crate::path::hidden_file_name(&to.name);
        let staged_path = to.parent_path.join(&staged);
        self.step(Step::Copy {
            from: from.path.clone(),
            to: staged_path.clone(),
        });
        let copy_options = CopyOptions {
            threads: 0,
            ..CopyOptions::default()
        };
        let failed = Mutex::new(Vec::new());
        let targets = Mutex::new(HashMap::new());
        let report = |item: Result<Item>| match item {
            Ok(item) => {
                if let (Some(target), Ok(rel)) = (
                    item.new_target.clone().or_else(|| item.link.target.clone()),
                    item.copy.strip_prefix(&staged_path),
                ) {
                    let mut targets = targets.lock().unwrap_or_else(PoisonError::into_inner);
                    targets.insert(rel.to_path_buf(), target);
                }
            }
            Err(err) => failed
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(err.with_op(self.op)),
        };
        // Listed before it is copied: what is written into it from here on is found
        // before the old data goes (`check::changed`).
        let listed = from
            .parent
            .stat_at(&from.name, false)
            .map_err(|e| Error::io(self.op, &from.path, e))
            .and_then(|held| check::list_source(&from.path, held.id))
            .map_err(|e| e.with_op(self.op));
        let copied = listed
            .and_then(|listed| fault("copy").map(|()| listed))
            .and_then(|listed| {
                // The directory listed is the one copied: the copy refuses another.
                copy_staged(
                    (&from.path, listed.id()),
                    &staged_path,
                    &to.real,
                    &copy_options,
                    &report,
                )
                .map(|copied| (listed, copied))
                .map_err(|e| e.with_op(self.op))
            });
        let failed = failed.into_inner().unwrap_or_else(PoisonError::into_inner);
        let count = failed.len() as u64;
        for err in failed {
            (self.each)(Event::Failed(err));
        }
        let (listed, copied) = match copied {
            Ok((listed, copied)) if count == 0 && copied.failed == 0 => (listed, copied),
            Ok((_, copied)) => {
                self.remove_quietly(&to.parent, &staged, &staged_path);
                let kind = ErrorKind::MoveCopyFailed {
                    failed: count.max(copied.failed),
                    differs: None,
                    changed: false,
                };
                return Err(Error::new(self.op, &from.path, kind));
            }
            Err(err) => {
                self.remove_quietly(&to.parent, &staged, &staged_path);
                return Err(err);
            }
        };
        self.moved.copied = Some(copied);
        self.step(Step::Check {
            copy: staged_path.clone(),
            contents: self.options.verify,
        });
        let targets = targets.into_inner().unwrap_or_else(PoisonError::into_inner);
        let differs = fault("check").and_then(|()| {
            check::differs(
                &listed,
                &from.path,
                &staged_path,
                &targets,
                self.options.verify,
            )
            .map_err(|e| e.with_op(self.op))
        });
        match differs {
            Ok(None) => Ok((staged, listed)),
            Ok(Some(why)) => {
                self.remove_quietly(&to.parent, &staged, &staged_path);
                let kind = ErrorKind::MoveCopyFailed {
                    failed: 0,
                    differs: Some(why),
                    changed: false,
                };
                Err(Error::new(self.op, &from.path, kind))
            }
            Err(err) => {
                self.remove_quietly(&to.parent, &staged, &staged_path);
                Err(err)
            }
        }
    }

    /// The directory `hidden` (its path `hidden_path`) put in the place of the link `at`:
    /// swapped with it in one step where the file system can, the link then removed under
    /// the hidden name; elsewhere the link removed, then the directory renamed. Where the
    /// link cannot be removed, `undo` takes the directory back.
    fn swap_in(
        &mut self,
        at: &Held,
        hidden: &OsStr,
        hidden_path: &Path,
        undo: impl FnOnce(&mut Self) -> Result<()>,
    ) -> Result<()> {
        if let Err(err) = fault("remove-link") {
            undo(self)?;
            return Err(err);
        }
        let swapped = at
            .parent
            .exchange_at(hidden, &at.name)
            .map_err(|e| Error::io(self.op, &at.path, e));
        let stopped = |op| {
            stopped(
                op,
                &at.path,
                hidden_path.to_path_buf(),
                MoveLeft::RenameTo {
                    to: at.path.clone(),
                },
            )
        };
        match swapped {
            Ok(true) => {
                self.step(Step::Rename {
                    from: hidden_path.to_path_buf(),
                    to: at.path.clone(),
                });
                self.step(Step::RemoveLink {
                    at: hidden_path.to_path_buf(),
                });
                // The link, swapped out to the hidden name, goes (a link: no data).
                if let Err(e) = at.parent.remove_link_at(hidden, hidden_path) {
                    (self.each)(Event::Failed(Error::io(self.op, hidden_path, e)));
                }
                Ok(())
            }
            Ok(false) => {
                self.step(Step::RemoveLink {
                    at: at.path.clone(),
                });
                if let Err(e) = at.parent.remove_link_at(&at.name, &at.path) {
                    undo(self)?;
                    return Err(Error::io(self.op, &at.path, e));
                }
                self.step(Step::Rename {
                    from: hidden_path.to_path_buf(),
                    to: at.path.clone(),
                });
                fault("rename-back")?;
                at.parent
                    .move_to_at(hidden, &at.parent, &at.name)
                    .map_err(|_| stopped(self.op))
            }
            Err(err) => {
                undo(self)?;
                Err(err)
            }
        }
    }

    /// The old data at `old` removed as `rm --tree` removes a tree; what cannot be removed
    /// is reported, and the move, done, says so (the data is whole at `data`).
    fn remove_old(
        &mut self,
        parent: &sys::Dir,
        name: &OsStr,
        old: &Path,
        data: &Path,
    ) -> Result<()> {
        self.step(Step::RemoveTree {
            path: old.to_path_buf(),
        });
        if let Err(err) = fault("remove") {
            (self.each)(Event::Failed(err));
            return Err(self.old_left(old, data));
        }
        let mut failed = Vec::new();
        let removed = remove_tree_at(parent, name, old, ChangeMode::Change, &mut |met| {
            if let Some(err) = failure(met) {
                failed.push(err.with_op(self.op));
            }
        });
        let count = failed.len();
        for err in failed {
            (self.each)(Event::Failed(err));
        }
        match removed {
            Ok(removed) if count == 0 && removed.errors == 0 && removed.refused == 0 => {
                self.moved.removed = Some(removed);
                Ok(())
            }
            Ok(removed) => {
                self.moved.removed = Some(removed);
                Err(self.old_left(old, data))
            }
            Err(_) => Err(self.old_left(old, data)),
        }
    }

    fn old_left(&self, old: &Path, data: &Path) -> Error {
        stopped(
            self.op,
            old,
            data.to_path_buf(),
            MoveLeft::RemoveOld {
                at: old.to_path_buf(),
            },
        )
    }

    /// Removes a tree this move made (a copy it gives up), reporting what it cannot.
    fn remove_quietly(&mut self, parent: &sys::Dir, name: &OsStr, path: &Path) {
        let mut failed = Vec::new();
        let removed = remove_tree_at(parent, name, path, ChangeMode::Change, &mut |met| {
            if let Some(err) = failure(met) {
                failed.push(err);
            }
        });
        if let Err(err) = removed {
            failed.push(err);
        }
        for err in failed {
            (self.each)(Event::Failed(err.with_op(self.op)));
        }
    }
}

/// The error of what a tree removal reported, where it is a failure: an error, or a link
/// whose removal failed.
fn failure(met: Result<Met>) -> Option<Error> {
    match met {
        Err(err) => Some(err),
        Ok(Met {
            action: TreeAction::Failed,
            error,
            ..
        }) => error,
        Ok(_) => None,
    }
}

/// Whether a rename that never replaces failed because its new name is taken: where
/// `RENAME_NOREPLACE` is missing (FUSE, ntfs-3g, other Unix), `renameat` onto a directory
/// with entries fails with `ENOTEMPTY`, NEW there all the same.
fn is_there(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::AlreadyExists | io::ErrorKind::DirectoryNotEmpty
    )
}

/// The error of a rename to NEW (`new`): [`ErrorKind::MoveDestinationExists`] where the
/// name is taken, else the system's.
fn destination_error(op: Op, new: &Path, err: io::Error) -> Error {
    if is_there(&err) {
        Error::new(op, new, ErrorKind::MoveDestinationExists).with_source(err)
    } else {
        Error::io(op, new, err)
    }
}

/// A move stopped at `path` (by `op`), the data whole at `data`, with `left` to do by hand.
fn stopped(op: Op, path: &Path, data: PathBuf, left: MoveLeft) -> Error {
    let kind = ErrorKind::MoveStopped {
        data,
        left: Box::new(left),
    };
    Error::new(op, path, kind)
}

/// A fault injected at the step `name` for the tests, in debug builds only:
/// `KNOT_MOVE_FAIL=name` fails the step as an I/O error would, `KNOT_MOVE_CRASH=name`
/// stops the process right before it (as a crash or a power cut would), leaving what was
/// done so far. Release builds read neither.
fn fault(name: &str) -> Result<()> {
    #[cfg(debug_assertions)]
    {
        if std::env::var_os("KNOT_MOVE_CRASH").is_some_and(|v| v == name) {
            std::process::abort();
        }
        if std::env::var_os("KNOT_MOVE_FAIL").is_some_and(|v| v == name) {
            let err = io::Error::other(format!("fault injected at {name}"));
            return Err(Error::io(Op::Move, Path::new(name), err));
        }
    }
    let _ = name;
    Ok(())
}

mod check;

#[cfg(test)]
mod tests {
    use super::*;

    /// A rename to NEW that finds its name taken says so, whichever way the system says
    /// it: `EEXIST` (`RENAME_NOREPLACE`, Windows) or `ENOTEMPTY` (a plain rename onto a
    /// directory with entries, where the file system has no `RENAME_NOREPLACE`: FUSE,
    /// ntfs-3g); any other failure is the system's own.
    #[test]
    fn a_taken_new_name_is_said_so_however_the_system_says_it() {
        let new = Path::new("new");
        for (kind, taken) in [
            (io::ErrorKind::AlreadyExists, true),
            (io::ErrorKind::DirectoryNotEmpty, true),
            (io::ErrorKind::PermissionDenied, false),
            (io::ErrorKind::NotFound, false),
        ] {
            let err = destination_error(Op::Move, new, io::Error::from(kind));
            assert_eq!(
                matches!(err.kind(), ErrorKind::MoveDestinationExists),
                taken,
                "{kind:?}: {err}"
            );
        }
    }
}
