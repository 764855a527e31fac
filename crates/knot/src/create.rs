//! Creating links: never overwriting, all or nothing, and read back before reporting
//! success (DESIGN.md promises 2 and 3).

use std::io;
use std::path::{Path, PathBuf};

use crate::diagnose::write_error;
use crate::error::{Error, ErrorKind, Op, Result};
use crate::inspect::{inspect, inspect_at};
use crate::link::{Flavour, Found, Link};
use crate::path::{
    ends_in_separator, hidden_file_name, parent_dir, real_location, relative_to,
    resolve_against_link,
};
use crate::sys::error::ReadBack;
use crate::sys::{self, At, FileType, Junctions, Meta, Place, Written};
use crate::sys::{Backend as _, Directory as _};

/// Which kind of link to make: a request. What was made is a [`Made`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkType {
    /// A symbolic link.
    Symlink,
    /// A junction (on Unix, an absolute directory symlink).
    Junction,
    /// A hard link.
    Hardlink,
    /// The best kind this platform allows for the target (the CLI's `knot link`); which
    /// kind that was is [`Created::made`].
    Best,
}

impl LinkType {
    fn op(self) -> Op {
        match self {
            LinkType::Symlink => Op::CreateSymlink,
            LinkType::Junction => Op::CreateJunction,
            LinkType::Hardlink => Op::CreateHardlink,
            LinkType::Best => Op::CreateLink,
        }
    }
}

/// How a symlink's target is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TargetForm {
    /// Exactly as given, like `ln -s` and `mklink`: a relative target is relative to the
    /// link's directory.
    #[default]
    AsGiven,
    /// As the relative path from the link's directory to the target, which is given as a
    /// path from the current directory (like `ln -sr`).
    Relative,
    /// As an absolute path; the target is given as a path from the current directory.
    Absolute,
}

/// What may stand at the link path already.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Replace {
    /// Nothing: an existing path is an error ([`ErrorKind::LinkExists`]).
    #[default]
    Never,
    /// A link, which is replaced (the CLI's `--force`; atomically where the file system can
    /// swap two names, see [`create`]); a real file or directory is still an error
    /// ([`ErrorKind::WouldReplaceReal`]).
    Links,
}

/// The kind of link [`create`] made: [`LinkType::Best`] asks for the best kind there is,
/// and this says which that was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Made {
    /// A symbolic link (on Unix also what [`LinkType::Junction`] makes, with
    /// [`Note::NoJunctions`]).
    Symlink,
    /// A junction.
    Junction,
    /// A hard link.
    Hardlink,
}

impl Made {
    /// The kind a create planned to make; `Best` is only ever asked for, and is made as a
    /// symlink.
    fn of(planned: LinkType) -> Made {
        match planned {
            LinkType::Symlink | LinkType::Best => Made::Symlink,
            LinkType::Junction => Made::Junction,
            LinkType::Hardlink => Made::Hardlink,
        }
    }
}

/// A drive letter, `A` to `Z`: the drive Windows gives an NTFS volume written from Linux
/// ([`CreateOptions::drive`]).
///
/// ```
/// use knot::DriveLetter;
///
/// let d: DriveLetter = "d:".parse().unwrap();
/// assert_eq!(d.letter(), 'D');
/// assert_eq!(DriveLetter::try_from('e').unwrap().to_string(), "E:");
/// assert!("DD:".parse::<DriveLetter>().is_err());
/// assert!(DriveLetter::try_from('1').is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DriveLetter(u8);

impl DriveLetter {
    /// `C`, the drive Windows boots from, used when none is given.
    pub const C: DriveLetter = DriveLetter(b'C');

    /// The letter, in upper case.
    pub fn letter(self) -> char {
        char::from(self.0)
    }
}

/// A character or text that is no drive letter, from [`DriveLetter::try_from`] or
/// [`str::parse`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseDriveError {
    text: String,
}

impl std::fmt::Display for ParseDriveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "'{}' is not a drive letter; write it like D:", self.text)
    }
}

impl std::error::Error for ParseDriveError {}

/// A letter `A` to `Z` in either case, stored in upper case.
impl TryFrom<char> for DriveLetter {
    type Error = ParseDriveError;

    fn try_from(letter: char) -> std::result::Result<DriveLetter, ParseDriveError> {
        match u8::try_from(letter) {
            Ok(byte) if byte.is_ascii_alphabetic() => Ok(DriveLetter(byte.to_ascii_uppercase())),
            _ => Err(ParseDriveError {
                text: letter.to_string(),
            }),
        }
    }
}

/// `D:` or `D`, in either case.
impl std::str::FromStr for DriveLetter {
    type Err = ParseDriveError;

    fn from_str(text: &str) -> std::result::Result<DriveLetter, ParseDriveError> {
        let err = || ParseDriveError {
            text: text.to_owned(),
        };
        let mut chars = text.chars();
        match (chars.next(), chars.next(), chars.next()) {
            (Some(letter), None | Some(':'), None) => {
                DriveLetter::try_from(letter).map_err(|_| err())
            }
            _ => Err(err()),
        }
    }
}

/// `D:`.
impl std::fmt::Display for DriveLetter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:", self.letter())
    }
}

#[cfg(test)]
mod type_tests {
    use super::*;

    #[test]
    fn drive_letters_are_a_to_z() {
        for text in ["d", "D", "d:", "D:"] {
            assert_eq!(text.parse::<DriveLetter>().unwrap().letter(), 'D', "{text}");
        }
        assert_eq!(DriveLetter::try_from('z').unwrap(), "Z:".parse().unwrap());
        assert_eq!(DriveLetter::C.to_string(), "C:");
        for text in ["", ":", "DD", "D:\\", "1", "é", "D;"] {
            let err = text.parse::<DriveLetter>().unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("'{text}' is not a drive letter; write it like D:")
            );
        }
        assert!(DriveLetter::try_from('ß').is_err());
    }

    /// `Best` is a request: what was made is a concrete kind.
    #[test]
    fn made_is_a_concrete_kind() {
        assert_eq!(Made::of(LinkType::Best), Made::Symlink);
        assert_eq!(Made::of(LinkType::Symlink), Made::Symlink);
        assert_eq!(Made::of(LinkType::Junction), Made::Junction);
        assert_eq!(Made::of(LinkType::Hardlink), Made::Hardlink);
    }
}

/// Whether [`CreateOptions::flavour`] must agree with a target that exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FlavourCheck {
    /// A flavour that contradicts the target is refused ([`ErrorKind::FlavourMismatch`]):
    /// knot's own commands.
    #[default]
    AgainstTarget,
    /// The flavour asked for is made whatever the target is, as cmd's `mklink` makes a file
    /// symlink to a directory when no `/D` is given (the CLI's `mklink` front end).
    AsAsked,
}

/// Options for [`create`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct CreateOptions {
    /// The symlink flavour (the CLI's `--dir` / `--file`), checked against an existing
    /// target unless [`CreateOptions::flavour_check`] says otherwise; `None` picks it from
    /// the target.
    pub flavour: Option<Flavour>,
    /// Whether [`CreateOptions::flavour`] is checked against an existing target.
    pub flavour_check: FlavourCheck,
    /// How a symlink's target is stored (the CLI's `--relative` / `--absolute`).
    pub form: TargetForm,
    /// What may be replaced (the CLI's `--force` is [`Replace::Links`]).
    pub replace: Replace,
    /// The drive letter of absolute targets written onto an NTFS volume from Linux
    /// (ntfs-3g; the CLI's `--drive X:`); [`DriveLetter::C`] when `None`. Ignored
    /// elsewhere.
    pub drive: Option<DriveLetter>,
}

/// Something worth telling the user that is not an error.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Note {
    /// The file system has no junctions, so an absolute directory symlink was made.
    NoJunctions,
    /// An existing link was replaced.
    Replaced,
    /// [`LinkType::Best`] (`knot link`) could not make a symlink for want of the privilege,
    /// and made a junction (a directory) or a hard link (a file) instead.
    NoSymlinkPrivilege,
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Note::NoJunctions => {
                "this file system has no junctions; made an absolute directory symlink instead"
            }
            Note::Replaced => "replaced the existing link",
            Note::NoSymlinkPrivilege => {
                "creating symlinks here needs Developer Mode or an elevated prompt; made the \
                 next best link instead"
            }
        })
    }
}

/// What [`create`] made, or [`create_dry_run`] would make.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Created {
    /// The new link, read back from the file system (from [`create_dry_run`]: as it would
    /// be read back).
    pub link: Link,
    /// The kind of link made (for [`LinkType::Best`], the one chosen).
    pub made: Made,
    /// Notes for the user.
    pub notes: Vec<Note>,
}

/// Creates a link at `link` leading to `target` (LINK first, like `mklink`).
///
/// Nothing is overwritten unless [`Replace::Links`] is given and `link` is itself a link;
/// then the new link is made under a temporary name beside it and put in its place. A
/// failed create leaves nothing behind. The new link is read back and compared with what
/// was asked before success is reported.
///
/// # Errors
/// Each refused case has its own [`ErrorKind`]: the link exists (or the arguments look
/// swapped), the target is missing or of the wrong type, the flavour contradicts the
/// target, a hard link would cross file systems, or the read-back differs.
///
/// # Platform behavior
/// On Unix a junction is an absolute directory symlink ([`Note::NoJunctions`]) and
/// [`LinkType::Best`] makes a symlink. Hard links never follow a symlink given as target.
/// A replacement is atomic where the file system can swap two names (Linux's
/// `renameat2(RENAME_EXCHANGE)`: no reader sees the path missing); elsewhere (FUSE file
/// systems such as ntfs-3g, Windows, other Unix systems) the old link is set aside first,
/// so for a moment there is no link, and never anything but a link is replaced.
pub fn create<L: AsRef<Path>, T: AsRef<Path>>(
    link: L,
    target: T,
    ty: LinkType,
    options: &CreateOptions,
) -> Result<Created> {
    create_inner(link.as_ref(), target.as_ref(), ty, options)
}

/// Checks everything [`create`] checks and makes nothing: the link as [`create`] would
/// make it, with the same notes (the CLI's `--dry-run`). A create that would be refused is
/// refused here with the same error.
///
/// # Errors
/// As [`create`], but for the errors of making the link and of the read-back: a dry run
/// stops before anything is made.
///
/// # Platform behavior
/// As [`create`]. On Windows a dry run cannot tell whether the symlink privilege will be
/// granted: it reports the symlink that `create` would try, where [`LinkType::Best`] may
/// then make the next best kind ([`Note::NoSymlinkPrivilege`]) and [`LinkType::Symlink`]
/// may be refused ([`ErrorKind::PrivilegeNeeded`]).
pub fn create_dry_run<L: AsRef<Path>, T: AsRef<Path>>(
    link: L,
    target: T,
    ty: LinkType,
    options: &CreateOptions,
) -> Result<Created> {
    let (link, target) = (link.as_ref(), target.as_ref());
    let (dir, name) = hold_link(link, target, ty.op())?;
    plan_at(At::new(&dir, name, link), target, None, ty, options, None)?.would_create()
}

/// Creating a link, in stages that other operations reuse: [`Probe`] what stands at the
/// link and the target, decide a [`Plan`], make the link under its final or a hidden name
/// ([`Staged`], which takes itself back if it is dropped uncommitted), then
/// [`Staged::commit`] it (read back, put in place). An operation that changes an existing
/// link (a new target, another form or kind) is a new `Plan` for that link, made and
/// committed the same way, with [`Replace::Links`].
///
/// The link's directory is opened once, here, and held: every stage looks at and acts on
/// the link through it ([`At`]), never by its path again.
fn create_inner(
    link: &Path,
    target: &Path,
    ty: LinkType,
    options: &CreateOptions,
) -> Result<Created> {
    let (dir, name) = hold_link(link, target, ty.op())?;
    plan_at(At::new(&dir, name, link), target, None, ty, options, None)?.commit()
}

/// The directory that holds the link path `link`, opened and held, and the link's name in
/// it: the one look-up of the user's path. What names no new entry (`/`, `..`, `J/`) is
/// refused first, before anything is opened.
pub(crate) fn hold_link<'p>(
    link: &'p Path,
    target: &Path,
    op: Op,
) -> Result<(sys::Dir, &'p std::ffi::OsStr)> {
    let fail = |kind| Error::new(op, link, kind).with_target(target);
    let Some(name) = link.file_name() else {
        return Err(fail(ErrorKind::BadLinkPath));
    };
    // `J/` names what `J` leads to: refused on every platform and for every kind,
    // before anything is looked at, so nothing is made through a link.
    if ends_in_separator(link) {
        return Err(fail(ErrorKind::LinkEndsInSeparator));
    }
    let dir = sys::Dir::hold(parent_dir(link))
        .map_err(|e| write_error(op, link, e).with_target(target))?;
    Ok((dir, name))
}

/// A create probed and planned, with nothing made yet: the stages up to [`Plan`], for the
/// operations that change an existing link (retarget, convert). Such an operation plans
/// the link anew with [`Replace::Links`], then shows the plan ([`Planned::preview`], a dry
/// run: everything checked, nothing changed), rewrites the link's reparse point in place
/// where the platform can ([`Planned::rewrite`]), or makes the plan and commits it over
/// the link ([`Planned::commit`]), which is what [`create`] does.
pub(crate) struct Planned<'a> {
    asked: Asked<'a>,
    probe: Probe,
    plan: Plan,
}

/// Stages 1 and 2 of [`create`] alone, for the link at `link` (its directory held open):
/// every check a create makes before it makes anything. `hard_target` is a hard link's
/// target where the caller holds it already (`knot apply` reaches it through the
/// directories it holds), else it is opened here from `target`; `place` is how links are
/// made in the link's directory where the caller decided it already, else decided here.
pub(crate) fn plan_at<'a>(
    link: At<'a>,
    target: &'a Path,
    hard_target: Option<At<'a>>,
    ty: LinkType,
    options: &'a CreateOptions,
    place: Option<Place>,
) -> Result<Planned<'a>> {
    let asked = Asked {
        link,
        target,
        hard_target,
        ty,
        options,
        lean: false,
    };
    let probe = Probe::new(&asked, None)?;
    let plan = Plan::new(&asked, &probe, place)?;
    Ok(Planned { asked, probe, plan })
}

/// A new link at `link`, where nothing is expected to stand (`knot apply`'s common case),
/// at `place`, decided by the caller: [`plan_at`] and [`Planned::commit_lean`] without
/// the looks that the create itself makes. The link's name is not looked up beforehand:
/// the create refuses an existing one ([`ErrorKind::LinkExists`], which the caller takes
/// as its cue to look). A symlink's target is not looked up where the place keeps no
/// flavour and none is asked: only its text is stored, and the read-back reads the text
/// (`readlinkat`: one call for the look and the comparison). Every other check, and the
/// read-back of a hard link or a reparse point, is [`Planned::commit_lean`]'s.
pub(crate) fn create_new_lean<'a>(
    link: At<'a>,
    target: &'a Path,
    hard_target: Option<At<'a>>,
    ty: LinkType,
    options: &'a CreateOptions,
    place: Place,
) -> Result<Made> {
    let asked = Asked {
        link,
        target,
        hard_target,
        ty,
        options: &CreateOptions {
            replace: Replace::Never,
            ..*options
        },
        lean: true,
    };
    let probe = Probe::new(&asked, Some(&place))?;
    let plan = Plan::new(&asked, &probe, Some(place))?;
    let planned = Planned { asked, probe, plan };
    let op = ty.op();
    match Staged::make(&planned) {
        Ok(staged) => staged.commit_lean().map_err(|err| {
            Error::io_or_read_back(op, link.path, err, &planned.plan.stored).with_target(target)
        })?,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            return Err(Error::new(op, link.path, ErrorKind::LinkExists).with_target(target));
        }
        Err(e) => return Err(write_error(op, link.path, e).with_target(target)),
    }
    Ok(Made::of(planned.plan.made))
}

impl Planned<'_> {
    /// The kind of link the plan makes, as [`inspect`] would report it.
    pub(crate) fn made_kind(&self) -> crate::link::Kind {
        match self.plan.made {
            LinkType::Junction => crate::link::Kind::Junction,
            LinkType::Hardlink => crate::link::Kind::Hardlink,
            LinkType::Symlink | LinkType::Best => crate::link::Kind::Symlink,
        }
    }

    /// What the place can do with junctions (native, emulated by a symlink, refused).
    pub(crate) fn junctions(&self) -> Junctions {
        self.plan.place.junctions()
    }

    fn fail(&self, err: io::Error) -> Error {
        write_error(self.asked.ty.op(), self.asked.link.path, err).with_target(self.asked.target)
    }

    /// The hard link's target, held: handed in, or opened by the probe.
    fn hard_target(&self) -> Option<At<'_>> {
        self.asked.hard_target.or_else(|| self.probe.hard_target())
    }

    /// The reparse buffer the plan writes, where knot writes it itself (Windows junctions,
    /// links on ntfs-3g): encoded and checked (on ntfs-3g, against what Windows can read),
    /// written nowhere.
    fn buffer(&self) -> Result<Written> {
        let request = sys::Request {
            at: self.asked.link,
            target: &self.plan.stored,
            given: self.asked.target,
            flavour: self.plan.flavour,
            drive: self.asked.options.drive.map(DriveLetter::letter),
        };
        match self.plan.made {
            LinkType::Hardlink => Ok(None),
            made => self
                .plan
                .place
                .encode(&request, made == LinkType::Junction)
                .map_err(|e| self.fail(e)),
        }
    }

    /// The link as the plan would leave it, from `before`, the link that stands there: a
    /// dry run's answer. Everything a create checks before it makes anything is checked
    /// (the buffer too, where knot writes one).
    pub(crate) fn preview(&self, before: &Link) -> Result<Link> {
        let buffer = self.buffer()?;
        let mut link = Link::new(before.path.clone(), self.made_kind());
        link.dir = before.dir;
        link.target = Some(self.plan.stored.clone());
        link.relative = Some(self.plan.stored.is_relative());
        if let Some(raw) = buffer {
            sys::fill_reparse(&mut link, raw);
        }
        let target_path = &self.probe.target_path;
        (link.status, link.resolved) = match self.probe.target_meta {
            Some(_) => (
                Some(crate::link::Status::Ok),
                crate::path::canonical(target_path).ok(),
            ),
            None => (
                Some(crate::link::Status::Dangling),
                crate::path::real_location(target_path).ok(),
            ),
        };
        Ok(link)
    }

    /// What [`Planned::commit`] would report, with nothing made: [`create_dry_run`]'s
    /// answer. A symlink or junction is [`Planned::preview`]ed as a new link; a hard link
    /// is the target's file with one more name.
    fn would_create(&self) -> Result<Created> {
        let path = self.asked.link.path.to_path_buf();
        let link = match self.plan.made {
            LinkType::Hardlink => {
                let op = self.asked.ty.op();
                let found = match self.hard_target() {
                    Some(at) => inspect_at(at),
                    None => inspect(&self.probe.target_path),
                };
                let mut link = found.map_err(|e| e.with_op(op).with_target(self.asked.target))?;
                link.path = path;
                link.nlink = link.nlink.map(|n| n + 1);
                if link.kind == crate::link::Kind::File {
                    link.kind = crate::link::Kind::Hardlink;
                }
                link
            }
            _ => {
                // What `inspect` reads back: the flavour where the place stores one (Windows
                // reads it), else what the target is, and nothing for a dangling link.
                let mut new = Link::new(path, self.made_kind());
                new.dir = if self.plan.place.flavour_matters() {
                    Some(self.plan.flavour == Flavour::Dir)
                } else {
                    self.probe.target_meta.map(|m| m.ty == FileType::Dir)
                };
                let mut link = self.preview(&new)?;
                link.nlink = Some(1);
                link
            }
        };
        let mut notes = self.plan.notes.clone();
        if self.plan.replacing && self.probe.existing.is_some() {
            notes.push(Note::Replaced);
        }
        Ok(Created {
            link,
            made: Made::of(self.plan.made),
            notes,
        })
    }

    /// Writes the plan's reparse buffer over the existing link's, in place on the same
    /// file (Windows junctions, links on ntfs-3g: see each backend's `rewrite`), and reads
    /// the link back. The plan comes back, with nothing done, where the link is not a
    /// reparse point knot writes: [`Planned::commit`] replaces it instead.
    pub(crate) fn rewrite(self) -> Result<std::result::Result<Created, Self>> {
        let Some(buffer) = self.buffer()? else {
            return Ok(Err(self));
        };
        let Asked { link, target, .. } = self.asked;
        let op = self.asked.ty.op();
        let checked = self
            .plan
            .place
            .rewrite(link, &buffer)
            .and_then(|()| {
                let meta = looked_at(link, &self.plan.stored)?;
                check_made(&self.plan, link, meta, None, Some(&buffer)).map_err(io::Error::from)
            })
            .and_then(|()| inspect_at(link).map_err(io::Error::from));
        let record = checked.map_err(|e| {
            Error::io_or_read_back(op, link.path, e, &self.plan.stored).with_target(target)
        })?;
        Ok(Ok(Created {
            link: record,
            made: Made::of(self.plan.made),
            notes: self.plan.notes,
        }))
    }

    /// Stages 3 and 4: makes the link as planned and commits it (over the existing link,
    /// when it replaces one).
    pub(crate) fn commit(self) -> Result<Created> {
        let (asked, op) = (self.asked, self.asked.ty.op());
        let staged = match Staged::make(&self) {
            Ok(staged) => staged,
            // `knot link` without the symlink privilege (Windows without Developer Mode or
            // elevation): the next best kind, which needs none, and a note saying so.
            Err(e)
                if asked.ty == LinkType::Best
                    && sys::Os::os_error_kind(&e) == Some(ErrorKind::PrivilegeNeeded) =>
            {
                let next = if self.plan.flavour == Flavour::Dir {
                    LinkType::Junction
                } else {
                    LinkType::Hardlink
                };
                let target = &self.probe.target_path;
                let mut created = plan_at(asked.link, target, None, next, asked.options, None)
                    .and_then(Planned::commit)
                    .map_err(|e| e.with_op(op))?;
                created.notes.insert(0, Note::NoSymlinkPrivilege);
                return Ok(created);
            }
            Err(e) => return Err(write_error(op, asked.link.path, e).with_target(asked.target)),
        };
        let record = staged.commit().map_err(|err| {
            Error::io_or_read_back(op, asked.link.path, err, &self.plan.stored)
                .with_target(asked.target)
        })?;
        let mut notes = self.plan.notes.clone();
        if self.plan.replacing && self.probe.existing.is_some() {
            notes.push(Note::Replaced);
        }
        Ok(Created {
            link: record,
            made: Made::of(self.plan.made),
            notes,
        })
    }

    /// [`Planned::commit`] for work over many links (`knot apply`): the same stages and
    /// read-back check (DESIGN.md promise 3), without reading a whole record of the new
    /// link, which the caller does not need. Returns the kind made. There is no next best
    /// kind to fall back to: the caller asks for a concrete one.
    pub(crate) fn commit_lean(self) -> Result<Made> {
        let (asked, op) = (self.asked, self.asked.ty.op());
        let staged = Staged::make(&self)
            .map_err(|e| write_error(op, asked.link.path, e).with_target(asked.target))?;
        staged.commit_lean().map_err(|err| {
            Error::io_or_read_back(op, asked.link.path, err, &self.plan.stored)
                .with_target(asked.target)
        })?;
        Ok(Made::of(self.plan.made))
    }
}

/// Stage 1: what stands at the link, and what the target is, seen from where it will be
/// resolved; refuses what can never be made (an existing entry that may not be replaced).
struct Probe {
    /// What is at the link now.
    existing: Option<Meta>,
    /// Whether the new link replaces what is there (`--force`): then it is made under a
    /// hidden name and put in place.
    replacing: bool,
    /// The target as a path from here: joined to the link's directory for a symlink stored
    /// as given, as given otherwise.
    target_path: PathBuf,
    /// What the target is (for a hard link, the entry itself; else where it leads).
    target_meta: Option<Meta>,
    /// A hard link's target, opened into its directory, held, and its name, where the
    /// caller did not hand one in: the link is made from it, never by its path again.
    target_dir: Option<(sys::Dir, std::ffi::OsString)>,
}

impl Probe {
    /// The probe; `place`, where the caller decided it already, lets a lean create
    /// ([`create_new_lean`]) pass over a target whose flavour does not matter there.
    fn new(asked: &Asked<'_>, place: Option<&Place>) -> Result<Probe> {
        let Asked {
            link: at,
            target,
            hard_target,
            ty,
            options,
            lean,
        } = *asked;
        let (op, link) = (ty.op(), at.path);
        let fail = |kind| Error::new(op, link, kind).with_target(target);
        if link.file_name().is_none() {
            return Err(fail(ErrorKind::BadLinkPath));
        }
        // `J/` names what `J` leads to: refused on every platform and for every kind,
        // before anything is looked at, so nothing is made through a link.
        if ends_in_separator(link) {
            return Err(fail(ErrorKind::LinkEndsInSeparator));
        }
        // A lean create does not look: the create refuses an existing name itself.
        let existing = match (!lean).then(|| at.lstat()) {
            None => None,
            Some(Ok(meta)) => Some(meta),
            Some(Err(e)) if e.kind() == io::ErrorKind::NotFound => None,
            Some(Err(e)) => return Err(write_error(op, link, e).with_target(target)),
        };
        // Only a link is ever replaced: not a file whose data sits behind a reparse
        // point, which Windows and ntfs-3g list among links (the same rule as `knot
        // rm`'s). With `--force` the new link is always made beside the name and then put
        // in its place, even where nothing stands yet: a link made straight at the name
        // would be, for a moment, an empty file or directory on ntfs-3g, which a racing
        // `--force` must take for a real one.
        let replacing = options.replace == Replace::Links && existing.is_none_or(|m| m.is_link());

        let seen_from_link = matches!(ty, LinkType::Best)
            || (ty == LinkType::Symlink && options.form == TargetForm::AsGiven);
        let target_path = if seen_from_link {
            resolve_against_link(link, target)
        } else {
            target.to_path_buf()
        };
        // A hard link is made to the entry itself, held open; the others lead through it,
        // a relative target from the link's own directory, as the system will follow it.
        let mut target_dir = None;
        // Only the text is stored, and the read-back reads the text.
        let text_only = lean
            && ty == LinkType::Symlink
            && options.flavour.is_none()
            && place.is_some_and(|place| !place.flavour_matters());
        let found = match (ty, hard_target) {
            _ if text_only => Err(io::ErrorKind::NotFound.into()),
            (LinkType::Hardlink, Some(held)) => held.lstat(),
            (LinkType::Hardlink, None) => match hold_entry(&target_path) {
                Some(Ok(held)) => {
                    let meta = held.0.stat_at(&held.1, false);
                    target_dir = Some(held);
                    meta
                }
                Some(Err(e)) => Err(e),
                None => sys::Os::lstat(&target_path),
            },
            _ if seen_from_link && target.is_relative() => at.dir.stat_at(target.as_os_str(), true),
            _ => sys::Os::stat(&target_path),
        };
        let target_meta = match found {
            Ok(meta) => Some(meta),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) if sys::Os::classify_resolve_error(&e).is_broken() => None,
            // A symlink may lead where this user cannot look (like `ln -s`): its flavour
            // is then asked for where it matters, as for a missing target.
            Err(_) if ty == LinkType::Symlink => None,
            Err(e) => {
                let err = Error::new(op, link, ErrorKind::TargetUnreadable).with_target(target);
                return Err(err.with_source(e));
            }
        };

        if let Some(meta) = existing
            && !replacing
        {
            if target_meta.is_none() {
                return Err(fail(ErrorKind::ArgumentsSwapped));
            }
            return Err(fail(match (options.replace, meta.ty) {
                (Replace::Never, _) => ErrorKind::LinkExists,
                (Replace::Links, FileType::Dir) => ErrorKind::WouldReplaceReal { what: Found::Dir },
                (Replace::Links, FileType::File) => {
                    ErrorKind::WouldReplaceReal { what: Found::File }
                }
                (Replace::Links, FileType::Link) => ErrorKind::WouldReplaceReal {
                    what: Found::ReparseFile,
                },
                (Replace::Links, FileType::Other) => ErrorKind::WouldReplaceReal {
                    what: Found::Special(None),
                },
            }));
        }
        Ok(Probe {
            existing,
            replacing,
            target_path,
            target_meta,
            target_dir,
        })
    }

    /// The hard link's target the probe opened, held.
    fn hard_target(&self) -> Option<At<'_>> {
        let (dir, name) = self.target_dir.as_ref()?;
        Some(At::new(dir, name, &self.target_path))
    }
}

/// The entry `path` names, opened into its directory, held, and its name; `None` where the
/// path names no entry of its own (`/`, `..`, or on Unix a trailing slash, which leads
/// through a link): those are looked at by their path, and a hard link to them refused.
fn hold_entry(path: &Path) -> Option<io::Result<(sys::Dir, std::ffi::OsString)>> {
    let (parent, name) = crate::path::entry_of(path)?;
    Some(sys::Dir::hold(parent).map(|dir| (dir, name.to_owned())))
}

/// Stage 2: the decided work: what to make, where, and the target text to store in it.
struct Plan {
    /// The kind of link to make (for [`LinkType::Best`], the one chosen).
    made: LinkType,
    stored: PathBuf,
    flavour: Flavour,
    notes: Vec<Note>,
    /// Where the link is made: which backend, and what it can do there.
    place: Place,
    /// Whether it replaces what stands at the link (then it is staged under a hidden name).
    replacing: bool,
    /// The target as a path from here, and what it was when planned (the read-back checks
    /// that the link leads there).
    target_path: PathBuf,
    target_meta: Option<Meta>,
}

impl Plan {
    /// The plan at `place`, where the caller decided it already (for the link's
    /// directory), else at the place decided here.
    fn new(asked: &Asked<'_>, probe: &Probe, place: Option<Place>) -> Result<Plan> {
        let (op, link, target) = (asked.ty.op(), asked.link.path, asked.target);
        let place = match place {
            Some(place) => place,
            None => asked
                .link
                .dir
                .place()
                .map_err(|e| write_error(op, link, e).with_target(target))?,
        };
        let decided = plan(asked, probe, &place).map_err(|refused| match refused {
            Refused::Kind(kind) => {
                // A target that is not there: say where it was looked for, since a
                // relative one is read from the link's directory or from the current one,
                // by kind.
                let missing = matches!(kind, ErrorKind::TargetMissing | ErrorKind::FlavourNeeded);
                let looked_for = missing
                    .then(|| real_location(&probe.target_path).ok())
                    .flatten();
                Error::new(op, link, kind)
                    .with_target(target)
                    .with_looked_for(looked_for)
            }
            Refused::LinkDir(err) => write_error(op, link, err).with_target(target),
            Refused::Target(err) => Error::new(op, link, ErrorKind::TargetUnreadable)
                .with_target(target)
                .with_source(err),
        })?;
        Ok(Plan {
            made: decided.made,
            stored: decided.stored,
            flavour: decided.flavour,
            notes: decided.notes,
            place,
            replacing: probe.replacing,
            target_path: probe.target_path.clone(),
            target_meta: probe.target_meta,
        })
    }
}

/// Stage 3: a link made as planned, under the link's own name or, when it replaces what
/// is there, under a fresh hidden name beside it, in the link's held directory. Dropped
/// without [`Staged::commit`], it takes back what it made, and only that: the entry at its
/// name is removed only while it is still the one the read-back saw (device and inode) and
/// still holds what this process wrote (its target, its reparse buffer, or for a hard link
/// the target's file), so a link another process put there meanwhile (a racing create or
/// `--force`) is never removed.
struct Staged<'p> {
    planned: &'p Planned<'p>,
    /// Where it was made: the link's name, or a hidden one beside it.
    name: std::ffi::OsString,
    /// Its path, for messages.
    path: PathBuf,
    /// The reparse buffer written, where the link is one.
    written: Written,
    /// What the read-back found at the name: the entry this process made.
    made_id: std::cell::Cell<Option<(u64, u128)>>,
    committed: bool,
}

impl<'p> Staged<'p> {
    /// Makes the link. A hidden name that another entry holds is drawn again: a clash is
    /// never the link's error.
    fn make(planned: &'p Planned<'p>) -> io::Result<Staged<'p>> {
        let (link, plan) = (planned.asked.link, &planned.plan);
        let mut tries = 0;
        loop {
            let name = if plan.replacing {
                hidden_file_name(link.name)
            } else {
                link.name.to_owned()
            };
            let path = parent_dir(link.path).join(&name);
            let request = sys::Request {
                at: At::new(link.dir, &name, &path),
                target: &plan.stored,
                given: planned.asked.target,
                flavour: plan.flavour,
                drive: planned.asked.options.drive.map(DriveLetter::letter),
            };
            match make(plan, planned.hard_target(), &request) {
                Ok(written) => {
                    return Ok(Staged {
                        planned,
                        name,
                        path,
                        written,
                        made_id: std::cell::Cell::new(None),
                        committed: false,
                    });
                }
                Err(e)
                    if plan.replacing && e.kind() == io::ErrorKind::AlreadyExists && tries < 8 =>
                {
                    tries += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Where the link was made.
    fn at(&self) -> At<'_> {
        At::new(self.planned.asked.link.dir, &self.name, &self.path)
    }

    /// Stage 4: reads the link back (DESIGN.md promise 3) and puts it in place. The record
    /// is read before the link is put in place: once there, another program (a racing
    /// `--force`) may replace it at once, and a link that was made is never reported as a
    /// failure.
    fn commit(mut self) -> io::Result<Link> {
        self.verify()?;
        let mut record = inspect_at(self.at())?;
        self.put_in_place()?;
        record.path = self.planned.asked.link.path.to_path_buf();
        Ok(record)
    }

    /// [`Staged::commit`] without the record: the read-back check, then in place.
    fn commit_lean(mut self) -> io::Result<()> {
        self.verify()?;
        self.put_in_place()
    }

    fn verify(&self) -> std::result::Result<(), ReadBack> {
        let at = self.at();
        let plan = &self.planned.plan;
        if self.planned.asked.lean && plan.made != LinkType::Hardlink && plan.target_meta.is_none()
        {
            return check_text(plan, at, self.written.as_deref());
        }
        let meta = looked_at(at, &self.planned.plan.stored)?;
        self.made_id.set(Some(meta.id));
        check_made(
            &self.planned.plan,
            at,
            meta,
            self.planned.hard_target(),
            self.written.as_deref(),
        )
    }

    fn put_in_place(&mut self) -> io::Result<()> {
        if self.planned.plan.replacing {
            let link = self.planned.asked.link;
            link.dir.rename_over_at(&self.name, link.name, link.path)?;
        }
        self.committed = true;
        Ok(())
    }

    /// Whether the entry at `at` still holds what this process made there.
    fn holds_what_was_made(&self, at: At<'_>, meta: &Meta) -> bool {
        if self.made_id.get().is_some_and(|id| id != meta.id) {
            return false;
        }
        let plan = &self.planned.plan;
        match plan.made {
            LinkType::Hardlink => {
                let target = match self.planned.hard_target() {
                    Some(target) => target.lstat(),
                    None => sys::Os::lstat(&plan.target_path),
                };
                target.is_ok_and(|t| t.id == meta.id)
            }
            _ if meta.ty != FileType::Link => false,
            _ => at.read_link().is_ok_and(|found| match &self.written {
                Some(written) => found.reparse.is_some_and(|r| &r.raw == written),
                None => found.target == plan.stored,
            }),
        }
    }
}

impl Drop for Staged<'_> {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        // All or nothing: putting the link in place is the last step, so it is still at
        // its name; only what this process made is removed there.
        let at = self.at();
        let Ok(meta) = at.lstat() else {
            return;
        };
        if !self.holds_what_was_made(at, &meta) {
            return;
        }
        let _ = match self.planned.plan.made {
            LinkType::Hardlink => at.dir.remove_name_at(at.name),
            _ => at.dir.remove_link_at(at.name, at.path),
        };
    }
}

/// What was asked for: the arguments of [`create`].
#[derive(Clone, Copy)]
struct Asked<'a> {
    /// Where the link goes: its directory, held, and its name.
    link: At<'a>,
    target: &'a Path,
    /// A hard link's target, where the caller holds it already.
    hard_target: Option<At<'a>>,
    ty: LinkType,
    options: &'a CreateOptions,
    /// Only the looks the create itself does not make ([`create_new_lean`]).
    lean: bool,
}

/// What [`plan`] decides.
struct Decided {
    made: LinkType,
    stored: PathBuf,
    flavour: Flavour,
    notes: Vec<Note>,
}

/// Why [`plan`] refused: a kind of its own, or a file-system call that failed (kept, with
/// its cause, for the message).
enum Refused {
    Kind(ErrorKind),
    /// Resolving the link's directory failed.
    LinkDir(io::Error),
    /// Resolving the target failed.
    Target(io::Error),
}

impl From<ErrorKind> for Refused {
    fn from(kind: ErrorKind) -> Refused {
        Refused::Kind(kind)
    }
}

/// Checks the target against the kind asked for and decides what to store.
fn plan(asked: &Asked<'_>, probe: &Probe, place: &Place) -> std::result::Result<Decided, Refused> {
    let Asked {
        link,
        target,
        ty,
        options,
        ..
    } = *asked;
    let link = link.path;
    let (target_path, target_meta) = (probe.target_path.as_path(), probe.target_meta);
    let target_is_dir = target_meta.map(|m| m.ty == FileType::Dir);
    if let (Some(asked), Some(is_dir)) = (options.flavour, target_is_dir) {
        let found = if is_dir { Flavour::Dir } else { Flavour::File };
        if asked != found
            && ty != LinkType::Hardlink
            && options.flavour_check == FlavourCheck::AgainstTarget
        {
            return Err(ErrorKind::FlavourMismatch { asked, found }.into());
        }
    }
    let flavour = match (options.flavour, target_is_dir) {
        (Some(flavour), _) => flavour,
        (None, Some(true)) => Flavour::Dir,
        (None, Some(false)) => Flavour::File,
        (None, None) if place.flavour_matters() && ty == LinkType::Symlink => {
            return Err(ErrorKind::FlavourNeeded.into());
        }
        (None, None) => Flavour::File,
    };
    let target_err = Refused::Target;
    match ty {
        LinkType::Symlink => {
            let stored = match options.form {
                TargetForm::AsGiven => {
                    sys::Os::normalise_symlink_target(target).map_err(target_err)?
                }
                TargetForm::Absolute => real_location(target).map_err(target_err)?,
                TargetForm::Relative => {
                    let from = asked
                        .link
                        .dir
                        .real_dir(parent_dir(link))
                        .map_err(Refused::LinkDir)?;
                    relative_to(&real_location(target).map_err(target_err)?, &from)
                }
            };
            Ok(Decided {
                made: ty,
                stored,
                flavour,
                notes: vec![],
            })
        }
        LinkType::Junction => match target_is_dir {
            None => Err(ErrorKind::TargetMissing.into()),
            Some(false) => Err(ErrorKind::TargetNotDirectory.into()),
            Some(true) => {
                let stored = real_location(target_path).map_err(target_err)?;
                if sys::Os::is_remote(&stored) {
                    return Err(ErrorKind::RemoteTarget.into());
                }
                match place.junctions() {
                    Junctions::Native => Ok(Decided {
                        made: ty,
                        stored,
                        flavour,
                        notes: vec![],
                    }),
                    Junctions::Emulated => Ok(Decided {
                        made: LinkType::Symlink,
                        stored,
                        flavour,
                        notes: vec![Note::NoJunctions],
                    }),
                    Junctions::Refused(why) => Err(ErrorKind::Unsupported { why }.into()),
                }
            }
        },
        LinkType::Hardlink => match target_meta.map(|m| m.ty) {
            None => Err(ErrorKind::TargetMissing.into()),
            Some(FileType::Dir) => Err(ErrorKind::TargetIsDirectory.into()),
            // ntfs-3g shows a junction as a symlink, and `link(2)` would give the NTFS
            // directory behind it a second name (issue 10.3); a Unix symlink stays allowed,
            // as with `ln`.
            Some(FileType::Link) if sys::Os::is_directory_entry(target_path) => {
                Err(ErrorKind::TargetIsDirectoryLink.into())
            }
            Some(_) => Ok(Decided {
                made: ty,
                stored: target.to_path_buf(),
                flavour,
                notes: vec![],
            }),
        },
        LinkType::Best => match target_meta {
            None => Err(ErrorKind::TargetMissing.into()),
            Some(_) => Ok(Decided {
                made: LinkType::Symlink,
                stored: sys::Os::normalise_symlink_target(target).map_err(target_err)?,
                flavour,
                notes: vec![],
            }),
        },
    }
}

fn make(
    plan: &Plan,
    hard_target: Option<At<'_>>,
    request: &sys::Request<'_>,
) -> io::Result<Written> {
    let at = request.at;
    match (plan.made, hard_target) {
        (LinkType::Symlink | LinkType::Best, _) => sys::symlink(&plan.place, request),
        (LinkType::Junction, _) => sys::junction(&plan.place, request),
        (LinkType::Hardlink, Some(target)) => at
            .dir
            .hard_link_at(at.name, target.dir, target.name)
            .map(|()| None),
        // The target names no entry of its own (`/`, `..`): refused in the plan.
        (LinkType::Hardlink, None) => Err(io::ErrorKind::InvalidInput.into()),
    }
}

/// The read-back's first look at the entry `at` that was just made: what stands there.
fn looked_at(at: At<'_>, stored: &Path) -> std::result::Result<Meta, ReadBack> {
    match at.lstat() {
        Ok(meta) => Ok(meta),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(ReadBack::Mismatch {
            expected: format!("{:?}", stored.display().to_string()),
            found: "nothing".into(),
        }),
        Err(e) => Err(e.into()),
    }
}

/// [`check_made`] of a symlink or reparse point whose target was not looked at: what `at`
/// stores, read in one call (`readlinkat`, which fails on anything that is no link), is
/// what was written.
fn check_text(
    plan: &Plan,
    at: At<'_>,
    written: Option<&[u8]>,
) -> std::result::Result<(), ReadBack> {
    let mismatch = |found: String| {
        Err(ReadBack::Mismatch {
            expected: format!("{:?}", plan.stored.display().to_string()),
            found,
        })
    };
    let found = match at.read_link() {
        Ok(found) => found,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return mismatch("nothing".into()),
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => {
            return mismatch("something that is not a link".into());
        }
        Err(e) => return Err(e.into()),
    };
    match (written, &found.reparse) {
        (Some(written), Some(reparse)) if reparse.raw == written => Ok(()),
        (Some(_), _) => mismatch("another reparse buffer".into()),
        (None, _) if found.target == plan.stored => Ok(()),
        (None, _) => mismatch(format!("{:?}", found.target.display().to_string())),
    }
}

/// Reads the new link back (DESIGN.md promise 3): some systems report success and make
/// nothing. `meta` is what stands at `at` ([`looked_at`]). A reparse point must hold
/// exactly the buffer written; another link, the target text planned. A link to a target
/// that exists must also lead to it (what the target led to when planned): a reparse point
/// can hold the buffer asked for and still be read as another path. A hard link must be a
/// name of the target's file. A mismatch says what was asked and what was found.
fn check_made(
    plan: &Plan,
    at: At<'_>,
    meta: Meta,
    hard_target: Option<At<'_>>,
    written: Option<&[u8]>,
) -> std::result::Result<(), ReadBack> {
    let stored = &plan.stored;
    let mismatch = |found: String| {
        Err(ReadBack::Mismatch {
            expected: format!("{:?}", stored.display().to_string()),
            found,
        })
    };
    match plan.made {
        LinkType::Hardlink => {
            let target = match hard_target {
                Some(target) => target.lstat()?,
                None => sys::Os::lstat(&plan.target_path)?,
            };
            if meta.id != target.id {
                return mismatch("another file".into());
            }
        }
        _ => {
            if meta.ty != FileType::Link {
                return mismatch("something that is not a link".into());
            }
            let found = at.read_link()?;
            match (written, &found.reparse) {
                (Some(written), Some(reparse)) if reparse.raw == written => {}
                (Some(_), _) => return mismatch("another reparse buffer".into()),
                (None, _) if found.target == *stored => {}
                (None, _) => {
                    let text = found.target.display().to_string();
                    return mismatch(format!("{text:?}"));
                }
            }
            if let Some(target) = plan.target_meta
                && at.stat().map(|m| m.id).ok() != Some(target.id)
            {
                let read = found.leads_to.as_ref().unwrap_or(&found.target);
                return mismatch(format!(
                    "{:?}, which does not lead to the target",
                    read.display().to_string()
                ));
            }
        }
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// Issue 10.15: `--force` builds its link under a hidden name; one that is taken is
    /// passed over, never reported as the link's error.
    #[test]
    fn force_passes_over_a_planted_hidden_name() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("l");
        std::os::unix::fs::symlink("a", &link).unwrap();
        let planted = dir.path().join(".l.knot~0000000000000001");
        std::fs::write(&planted, "planted").unwrap();
        crate::path::tests::DRAWN.with(|drawn| drawn.borrow_mut().push(1));
        let options = CreateOptions {
            replace: Replace::Links,
            ..CreateOptions::default()
        };
        let made = create(&link, "b", LinkType::Symlink, &options);
        crate::path::tests::DRAWN.with(|drawn| drawn.borrow_mut().clear());
        assert_eq!(made.unwrap().link.target, Some(PathBuf::from("b")));
        assert_eq!(std::fs::read_to_string(&planted).unwrap(), "planted");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    /// The read-back of the entry `l` in `dir` against a plan to store `stored`, leading
    /// to `target` (what it was: `target_meta`).
    fn verify(
        dir: &Path,
        stored: &str,
        target: &Path,
        target_meta: Option<Meta>,
    ) -> std::result::Result<(), ReadBack> {
        let held = sys::Dir::hold(dir).unwrap();
        let path = dir.join("l");
        let at = At::new(&held, std::ffi::OsStr::new("l"), &path);
        let plan = Plan {
            made: LinkType::Symlink,
            stored: stored.into(),
            flavour: Flavour::File,
            notes: vec![],
            place: held.place().unwrap(),
            replacing: false,
            target_path: target.into(),
            target_meta,
        };
        looked_at(at, &plan.stored).and_then(|meta| check_made(&plan, at, meta, None, None))
    }

    /// Promise 3: a link that does not read back as asked is an error. A real system that
    /// reports success and makes nothing is simulated by planning one target and finding
    /// another (or nothing) on disk.
    #[test]
    fn read_back_catches_what_was_not_made() {
        let mismatch = |err: std::result::Result<(), ReadBack>| match err {
            Err(ReadBack::Mismatch { expected, found }) => (expected, found),
            other => panic!("a mismatch, not {other:?}"),
        };
        let dir = tempfile::tempdir().unwrap();
        let at = dir.path().join("l");
        let verify = |stored: &str| verify(dir.path(), stored, Path::new(stored), None);
        assert_eq!(mismatch(verify("a")), ("\"a\"".into(), "nothing".into()));
        std::os::unix::fs::symlink("b", &at).unwrap();
        assert_eq!(mismatch(verify("a")), ("\"a\"".into(), "\"b\"".into()));
        assert!(verify("b").is_ok());
    }

    /// A link that holds what was asked but leads somewhere other than the target (as
    /// ntfs-3g reads `C:\\Data\\a\\b` for a Linux name `a\\b`) is an error.
    #[test]
    fn read_back_checks_where_the_link_leads() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, at) = (
            dir.path().join("a"),
            dir.path().join("b"),
            dir.path().join("l"),
        );
        std::fs::write(&a, "a").unwrap();
        std::fs::write(&b, "b").unwrap();
        std::os::unix::fs::symlink("b", &at).unwrap();
        let verify = |target: &Path, meta| verify(dir.path(), "b", target, meta);
        let target_a = sys::Os::stat(&a).ok();
        assert!(matches!(
            verify(&a, target_a),
            Err(ReadBack::Mismatch { expected, found })
                if expected == "\"b\"" && found == "\"b\", which does not lead to the target"
        ));
        assert!(verify(&b, sys::Os::stat(&b).ok()).is_ok());
        std::fs::remove_file(&b).unwrap();
        assert!(verify(&b, target_a).is_err(), "dangling now");
    }

    /// The staged link takes itself back when it is dropped uncommitted, and only what it
    /// made: a link, or a new name of the target (whose data stays).
    #[test]
    fn a_staged_link_dropped_uncommitted_takes_back_what_it_made() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("t");
        std::fs::write(&target, "data").unwrap();
        let held = sys::Dir::hold(dir.path()).unwrap();
        for (ty, replace) in [
            (LinkType::Symlink, Replace::Never),
            (LinkType::Symlink, Replace::Links),
            (LinkType::Hardlink, Replace::Never),
            (LinkType::Hardlink, Replace::Links),
        ] {
            let link = dir.path().join("l");
            let options = CreateOptions {
                replace,
                ..CreateOptions::default()
            };
            let at = At::new(&held, std::ffi::OsStr::new("l"), &link);
            let planned = plan_at(at, &target, None, ty, &options, None).unwrap();
            let staged = Staged::make(&planned).unwrap();
            assert!(staged.at().lstat().is_ok());
            assert_eq!(
                staged.path == link,
                replace == Replace::Never,
                "{ty:?} {replace:?}"
            );
            drop(staged);
            let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
            assert_eq!(
                names.len(),
                1,
                "{ty:?} {replace:?}: only the target is left"
            );
            assert_eq!(std::fs::read_to_string(&target).unwrap(), "data");
        }
    }

    /// A link that another process put at the name after this one made its own (a racing
    /// create, or `--force`) is not what this process made: a failed create leaves it.
    #[test]
    fn a_staged_link_dropped_uncommitted_leaves_another_process_link() {
        let dir = tempfile::tempdir().unwrap();
        let held = sys::Dir::hold(dir.path()).unwrap();
        let link = dir.path().join("l");
        let options = CreateOptions::default();
        let at = At::new(&held, std::ffi::OsStr::new("l"), &link);
        let planned = plan_at(
            at,
            Path::new("first"),
            None,
            LinkType::Symlink,
            &options,
            None,
        )
        .unwrap();
        let staged = Staged::make(&planned).unwrap();
        // The other process swaps its own link in.
        std::os::unix::fs::symlink("second", dir.path().join("other")).unwrap();
        std::fs::rename(dir.path().join("other"), &link).unwrap();
        assert!(staged.verify().is_err(), "the read-back finds another link");
        drop(staged);
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("second"));
    }

    /// A plan for a link that exists already, committed over it: the seam that retarget,
    /// convert and apply use. The old link is replaced; a new one stands in its place.
    #[test]
    fn a_new_plan_for_an_existing_link_is_committed_over_it() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("l");
        std::os::unix::fs::symlink("old", &link).unwrap();
        let options = CreateOptions {
            replace: Replace::Links,
            ..CreateOptions::default()
        };
        let held = sys::Dir::hold(dir.path()).unwrap();
        let at = At::new(&held, std::ffi::OsStr::new("l"), &link);
        let planned = plan_at(
            at,
            Path::new("new"),
            None,
            LinkType::Symlink,
            &options,
            None,
        )
        .unwrap();
        assert!(planned.probe.replacing && planned.probe.existing.is_some());
        let record = Staged::make(&planned).unwrap().commit().ok().unwrap();
        assert_eq!(record.path, link);
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("new"));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
