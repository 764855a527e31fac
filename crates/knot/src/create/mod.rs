//! Creating links: never overwriting, all or nothing, and read back before reporting
//! success (DESIGN.md promises 2 and 3).
//!
//! The stages, one module each: [`Probe`] what stands at the link and the target
//! (`probe.rs`), decide a [`Plan`] (`plan.rs`), make the link under its final or a hidden
//! name and read it back ([`Staged`], `staged.rs`), driven by [`Planned`] (`planned.rs`),
//! which the operations that change an existing link (retarget, convert, apply) reuse.

mod plan;
mod planned;
mod probe;
mod staged;

use std::io;
use std::path::{Path, PathBuf};

use crate::diagnose::write_error;
use crate::error::{Error, ErrorKind, Op, Result};
use crate::inspect::{inspect, inspect_at};
use crate::link::{Flavour, Found, Link};
use crate::path::{ends_in_separator, hidden_file_name, parent_dir, resolve_against_link};
use crate::resolve::{real_location, relative_to};
use crate::sys::error::ReadBack;
use crate::sys::{self, At, FileType, Junctions, Meta, Place, Written};
use crate::sys::{Backend as _, Directory as _};

use plan::Plan;
use planned::Asked;
pub(crate) use planned::{Planned, create_new_lean, plan_at};
use probe::Probe;
use staged::{Staged, check_made, looked_at};

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
    pub(crate) fn of(planned: LinkType) -> Made {
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
    /// The symlink was made and holds what was asked, but Windows' SymlinkEvaluation
    /// policy does not let it be followed here (a symlink on a network share, with the
    /// default policy): it was checked by what it holds, not by where it leads.
    SymlinkEvaluation,
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
            Note::SymlinkEvaluation => {
                "Windows' SymlinkEvaluation policy does not let this symlink be followed here \
                 (a symlink on a network share); an administrator can allow it with `fsutil \
                 behavior set SymlinkEvaluation R2R:1 R2L:1`"
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

/// A target in the form an NT link stores it and knot shows it, as a create takes it: see
/// [`nt_form`].
pub(crate) struct NtForm {
    /// The target to give the create: a junction's the Linux path it names (its names
    /// under the volume's root, or under ntfs-3g's `.NTFS-3G/X:` mapping of the drive); a
    /// relative symlink's its names with `/` (written back with `\`, with the relative
    /// flag); a symlink's `X:\...` as it is (written as it is, whatever the drive).
    pub(crate) given: PathBuf,
    /// The drive letter a junction is written with: the target's own (`None` under a
    /// mapping, which keeps its own, and for a relative target).
    pub(crate) drive: Option<DriveLetter>,
    /// The Linux path the target names (a relative one from the link's directory).
    pub(crate) path: PathBuf,
}

/// The target `target`, in the form an NT link stores it and knot shows it (`..\a\b` with
/// backslashes, `C:\a\b`: a scan's record, or what `knot show` printed), as a create of a
/// link of kind `ty` at `place` takes it, where links there are NT links read from Linux
/// (an NTFS volume mounted with ntfs-3g): in that form, so that the link made stores
/// what was given. `None` elsewhere, where a target is a path of this system, and for a
/// target in no Windows form (a Linux absolute path).
pub(crate) fn nt_form(place: &Place, ty: LinkType, target: &Path) -> Option<NtForm> {
    let (path, letter) = place.linux_path_of(target)?;
    let drive = letter.and_then(|l| DriveLetter::try_from(l).ok());
    Some(match ty {
        LinkType::Junction => NtForm {
            given: path.clone(),
            drive,
            path,
        },
        _ if path.is_relative() => NtForm {
            given: path.clone(),
            drive: None,
            path,
        },
        _ => NtForm {
            given: target.to_path_buf(),
            drive: None,
            path,
        },
    })
}

#[cfg(all(test, unix))]
mod tests;
