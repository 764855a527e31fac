//! `knot retarget` and `knot convert`: give an existing link a new target, or another form
//! or kind, keeping what it leads to (DESIGN.md section 2). Each is a new [`create`] plan
//! for the link with [`Replace::Links`] (`crate::create::plan_at`), so every rule of
//! create holds: a junction's target must be an existing local directory; nothing but a
//! link is ever replaced; the result is read back. A dry run stops after the plan.
//!
//! [`create`]: crate::create

use std::path::{Path, PathBuf};

use crate::change::{ChangeMode, Kept, Retargeted};
use crate::create::{
    CreateOptions, DriveLetter, FlavourCheck, LinkType, Planned, Replace, TargetForm, plan_at,
};
use crate::error::{Error, ErrorKind, Op, Result};
pub use crate::foreign::NativeDirs;
use crate::image::ImageRoot;
use crate::inspect::{inspect_at, on_entry};
use crate::link::{Flavour, Found, Kind, Link};
use crate::sys::At;
use crate::sys::Directory as _;
use crate::sys::Junctions;

/// Options for [`retarget`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RetargetOptions {
    /// Change, or only check.
    pub mode: ChangeMode,
    /// The drive letter of an absolute target written onto an NTFS volume from Linux
    /// (ntfs-3g); `None` keeps the link's own (from its substitute name), else `C:`.
    pub drive: Option<DriveLetter>,
}

/// Gives the link at `link` the target `new_target`, stored as given (a relative one is
/// relative to the link's directory), keeping its kind (a junction stays a junction) and
/// flavour.
///
/// # Errors
/// `link` is not a symlink or junction ([`ErrorKind::NotALink`]), or the new target breaks
/// the rules of its kind (see [`create`](crate::create)).
///
/// # Platform behavior
/// On Linux's native file systems the new link is made beside the old one and swapped in
/// (`renameat2(RENAME_EXCHANGE)`), so no reader ever finds the path missing. A Windows
/// junction and a link on an NTFS volume mounted with ntfs-3g keep their file: the reparse
/// point is rewritten in place (`FSCTL_SET_REPARSE_POINT`; the `system.ntfs_reparse_data`
/// attribute), read back, and the old one put back if the read-back fails. A Windows
/// symlink is replaced the way `--force` replaces one.
pub fn retarget<L: AsRef<Path>, T: AsRef<Path>>(
    link: L,
    new_target: T,
    options: &RetargetOptions,
) -> Result<Retargeted> {
    retarget_inner(link.as_ref(), new_target.as_ref(), options)
}

fn retarget_inner(link: &Path, new_target: &Path, options: &RetargetOptions) -> Result<Retargeted> {
    let op = Op::Retarget;
    on_entry(
        link,
        op,
        |at| retarget_at(at, new_target, options),
        |before| not_a_link(&before, link, op),
    )
}

/// [`retarget`] of the link at `at`, through its held directory: inspected, planned and
/// changed there, whatever has been put at its path since.
pub(crate) fn retarget_at(
    at: At<'_>,
    new_target: &Path,
    options: &RetargetOptions,
) -> Result<Retargeted> {
    let (op, link) = (Op::Retarget, at.path);
    let before = inspect_at(at).map_err(|e| e.with_op(op))?;
    let ty = link_type(&before, link, op)?;
    if before.target.as_deref() == Some(new_target) {
        return Ok(unchanged(before));
    }
    // The link's flavour, checked against the new target as create checks it.
    let create_options = relink(
        &before,
        flavour_of(&before),
        options.drive,
        FlavourCheck::AgainstTarget,
    );
    let planned =
        plan_at(at, new_target, None, ty, &create_options, None).map_err(|e| e.with_op(op))?;
    change(before, planned, options.mode, op)
}

/// The options the link `before` is made again with, in place: `flavour`, its target as
/// given, the drive letter asked for (else its own), its flavour checked as `check` says.
fn relink(
    before: &Link,
    flavour: Option<Flavour>,
    drive: Option<DriveLetter>,
    check: FlavourCheck,
) -> CreateOptions {
    CreateOptions {
        flavour,
        form: TargetForm::AsGiven,
        replace: Replace::Links,
        drive: drive.or_else(|| drive_of(before)),
        flavour_check: check,
    }
}

/// `absolute` as a path relative to the directory `dir`, with the slash at its end kept:
/// a slash at the end asks for a directory, and the link fails without one.
fn relative_keeping_slash(absolute: &Path, dir: &Path) -> PathBuf {
    let mut relative = crate::resolve::relative_to(absolute, dir);
    if absolute.as_os_str().as_encoded_bytes().ends_with(b"/") && !relative.as_os_str().is_empty() {
        relative.as_mut_os_string().push("/");
    }
    relative
}

/// The form or kind [`convert`] gives a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConvertTo {
    /// A symlink whose target is relative to the link's directory (like `ln -r`).
    Relative,
    /// A symlink whose target is an absolute path.
    Absolute,
    /// A directory symlink in place of a junction.
    Symlink,
    /// A junction in place of a directory symlink, where junctions exist.
    Junction,
    /// An NT symlink (for a directory target, the kind `dirs` says) in place of a link in
    /// a form Windows cannot follow: a Cygwin or MSYS2 `!<symlink>` file, or a WSL symlink
    /// (`IO_REPARSE_TAG_LX_SYMLINK`), where NT links are made (Windows, NTFS through
    /// ntfs-3g). A link that is an NT link already is left alone.
    Native(NativeDirs),
}

/// The forms [`convert_at`] rewrites a link into, keeping its text's meaning: every
/// [`ConvertTo`] but [`ConvertTo::Native`], which reads links of other forms.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reform {
    Relative,
    Absolute,
    Symlink,
    Junction,
}

/// Options for [`convert`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ConvertOptions {
    /// Change, or only check.
    pub mode: ChangeMode,
    /// As [`RetargetOptions::drive`].
    pub drive: Option<DriveLetter>,
}

/// Rewrites the link at `link` into the form or kind `to`, keeping where it leads: a
/// symlink's target between relative (from the link's own directory) and absolute, a
/// junction into a directory symlink, or a directory symlink into a junction. A dangling
/// link converts too, by its text. A link already in that form is left alone
/// ([`Retargeted::changed`] is `false`).
///
/// A relative target is computed from where the link really is (its directory with links
/// resolved), since that is where the system resolves it; `..` in a target is taken where
/// the system takes it, after the links before it (on Windows, lexically, as Windows
/// does), so the new target leads to what the old one led to.
///
/// [`ConvertTo::Native`] reads links of other forms instead: a Cygwin or MSYS2
/// `!<symlink>` file or a WSL symlink becomes an NT symlink (or junction) to the Windows
/// form of its target (`/mnt/c/x` and `/cygdrive/c/x` are `C:\x`; a relative target keeps
/// where it leads), of the flavour of what the target is.
///
/// # Errors
/// `link` is not a symlink or junction ([`ErrorKind::NotALink`]); a junction cannot be
/// relative ([`ErrorKind::JunctionNotRelative`]); no junctions on this file system
/// ([`ErrorKind::NoJunctions`]); the rules of the new kind (a junction needs an existing
/// local directory). For [`ConvertTo::Native`]: `link` is no link in a foreign form, or
/// its target has no Windows form ([`ErrorKind::NotForeignLink`], with the reason), or the
/// file system is not NTFS ([`ErrorKind::Unsupported`]).
///
/// # Platform behavior
/// As [`retarget`]: atomic on Linux's native file systems; in place for a Windows
/// junction and on ntfs-3g when the kind stays; a change of kind makes the new link beside
/// the old one and puts it in its place. [`ConvertTo::Native`] works on Windows and on
/// NTFS volumes mounted with ntfs-3g (the DOS attributes through `system.ntfs_attrib`):
/// the new link is made beside the old one, read back, and put in its place, over a Cygwin
/// file only while it still holds the bytes that were read.
pub fn convert<L: AsRef<Path>>(
    link: L,
    to: ConvertTo,
    options: &ConvertOptions,
) -> Result<Retargeted> {
    convert_inner(link.as_ref(), to, options)
}

/// [`convert`] of a link in an image, judged inside the image root `image` as a chroot
/// into it would ([`ImageRoot`]): [`ConvertTo::Relative`] makes the target relative
/// within the image (`../../usr/bin/mawk` for `/usr/bin/mawk` from `/a/b`), so it leads to
/// the same place when the image moves, and never climbs above the root; a relative
/// target that climbs above the root (which a chroot stops at the root) is rewritten to
/// the same place without the climb. [`ConvertTo::Absolute`] makes image-absolute targets
/// (`/usr/bin/mawk`, not the host path). `..` after a link is taken where a chroot takes
/// it, after that link, resolved inside the image. Other forms are as [`convert`].
///
/// # Errors
/// As [`convert`]; and [`ErrorKind::OutsideRoot`] where the link is not inside `image`.
pub fn convert_in<L: AsRef<Path>>(
    link: L,
    to: ConvertTo,
    options: &ConvertOptions,
    image: &ImageRoot,
) -> Result<Retargeted> {
    let link = link.as_ref();
    let op = Op::Convert;
    on_entry(
        link,
        op,
        |at| convert_at(at, to, options, Some(image)),
        |before| not_a_link(&before, link, op),
    )
}

fn convert_inner(link: &Path, to: ConvertTo, options: &ConvertOptions) -> Result<Retargeted> {
    let op = Op::Convert;
    on_entry(
        link,
        op,
        |at| convert_at(at, to, options, None),
        |before| not_a_link(&before, link, op),
    )
}

/// [`convert`] of the link at `at`, through its held directory: read, planned and changed
/// there, whatever has been put at its path since.
pub(crate) fn convert_at(
    at: At<'_>,
    to: ConvertTo,
    options: &ConvertOptions,
    image: Option<&ImageRoot>,
) -> Result<Retargeted> {
    let (op, link) = (Op::Convert, at.path);
    let to = match to {
        ConvertTo::Relative => Reform::Relative,
        ConvertTo::Absolute => Reform::Absolute,
        ConvertTo::Symlink => Reform::Symlink,
        ConvertTo::Junction => Reform::Junction,
        ConvertTo::Native(dirs) => {
            // Named on its own, every entry is converted or refused: none is passed over.
            return crate::foreign::to_native_at(at, dirs, options.mode, options.drive, false)?
                .ok_or_else(|| {
                    let why = "it is not a Cygwin or WSL link".to_owned();
                    Error::new(op, link, ErrorKind::NotForeignLink { why })
                });
        }
    };
    let before = inspect_at(at).map_err(|e| e.with_op(op))?;
    let kind = link_type(&before, link, op)?;
    let relative = before.relative == Some(true);
    let junction = kind == LinkType::Junction;
    if let Some(image) = image
        && matches!(to, Reform::Relative | Reform::Absolute)
        && !junction
    {
        return convert_in_image(at, before, kind, to == Reform::Relative, options, image);
    }
    let (ty, flavour) = match to {
        Reform::Relative if junction => {
            return Err(Error::new(op, link, ErrorKind::JunctionNotRelative));
        }
        Reform::Relative if relative => return Ok(unchanged(before)),
        Reform::Absolute if !relative => return Ok(unchanged(before)),
        Reform::Symlink if !junction => return Ok(unchanged(before)),
        Reform::Junction if junction => return Ok(unchanged(before)),
        Reform::Relative | Reform::Absolute => (kind, flavour_of(&before)),
        Reform::Symlink => (LinkType::Symlink, Some(Flavour::Dir)),
        Reform::Junction => (LinkType::Junction, None),
    };
    // The text the system follows: on ntfs-3g its own translation of the reparse point
    // (a Linux path), elsewhere the target itself.
    let text = at
        .read_link()
        .map(|stored| stored.leads_to.unwrap_or(stored.target))
        .map_err(|e| Error::io(op, link, e))?;
    let dir = at
        .dir
        .real_dir(crate::path::parent_dir(link))
        .map_err(|e| Error::io(op, link, e))?;
    // Written the other way, the link must do what it does: where folding the target
    // would make a link that fails lead somewhere, it is left as it is.
    let absolute = match crate::resolve::fold_keeping_failures(&dir, &text) {
        Ok(absolute) => absolute,
        Err(part) => {
            return Ok(Retargeted {
                kept: Some(Kept::WouldLeadSomewhere { part }),
                ..unchanged(before)
            });
        }
    };
    let new_target: PathBuf = match to {
        Reform::Relative => relative_keeping_slash(&absolute, &dir),
        _ => absolute,
    };
    // The same link, written another way: its flavour stays what it is, even where it
    // does not match what the target is now (a dangling link, or mklink's file symlink to
    // a directory).
    let create_options = relink(&before, flavour, options.drive, FlavourCheck::AsAsked);
    let planned =
        plan_at(at, &new_target, None, ty, &create_options, None).map_err(|e| e.with_op(op))?;
    if ty == LinkType::Junction && planned.junctions() != Junctions::Native {
        return Err(Error::new(op, link, ErrorKind::NoJunctions));
    }
    change(before, planned, options.mode, op)
}

/// [`convert_at`] of a symlink inside an image root, to a relative target within the
/// image (`relative`) or an image-absolute one: see [`convert_in`].
fn convert_in_image(
    at: At<'_>,
    before: Link,
    ty: LinkType,
    relative: bool,
    options: &ConvertOptions,
    image: &ImageRoot,
) -> Result<Retargeted> {
    let (op, link) = (Op::Convert, at.path);
    let text = at
        .read_link()
        .map(|stored| stored.leads_to.unwrap_or(stored.target))
        .map_err(|e| Error::io(op, link, e))?;
    // The link's directory inside the image, from the held directory's real place.
    let host_dir = at
        .dir
        .real_dir(crate::path::parent_dir(link))
        .map_err(|e| Error::io(op, link, e))?;
    let outside = || {
        let root = image.host().to_path_buf();
        Error::new(op, link, ErrorKind::OutsideRoot { root })
    };
    let dir = Path::new("/").join(host_dir.strip_prefix(image.host()).map_err(|_| outside())?);
    let climbs = climbs_above_root(&dir, &text);
    let as_asked = if relative {
        text.is_relative() && !climbs
    } else {
        text.is_absolute()
    };
    if as_asked {
        return Ok(unchanged(before));
    }
    let absolute = match image.fold(&dir, &text) {
        Ok(absolute) => absolute,
        Err(part) => {
            return Ok(Retargeted {
                kept: Some(Kept::WouldLeadSomewhere { part }),
                ..unchanged(before)
            });
        }
    };
    let new_target = if relative {
        relative_keeping_slash(&absolute, &dir)
    } else {
        absolute
    };
    if before.target.as_deref() == Some(new_target.as_path()) {
        return Ok(unchanged(before));
    }
    let create_options = relink(
        &before,
        flavour_of(&before),
        options.drive,
        FlavourCheck::AsAsked,
    );
    let planned =
        plan_at(at, &new_target, None, ty, &create_options, None).map_err(|e| e.with_op(op))?;
    change(before, planned, options.mode, op)
}

/// Whether the relative `text`, from the image directory `dir`, climbs above the image's
/// root with its `..` (counted lexically: what a chroot stops at the root).
fn climbs_above_root(dir: &Path, text: &Path) -> bool {
    use std::path::Component;
    if text.is_absolute() {
        return false;
    }
    let mut depth = dir
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .count();
    for part in text.components() {
        match part {
            Component::ParentDir if depth == 0 => return true,
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            _ => {}
        }
    }
    false
}

/// [`convert`] of every symlink and junction below `root` (each one `unchanged` where it
/// is in the form asked already, and a junction asked to be relative kept, with
/// [`Kept::JunctionIsAbsolute`]), found by the tree walk on the calling thread, depth
/// first. Each link is converted through the directory the walk read it from, held open,
/// so a directory of the tree swapped for a link while the walk runs never leads a
/// conversion outside the tree. Each link's path and outcome, and each error of the walk
/// (which goes on), is handed to `report`.
///
/// # Platform behavior
/// As [`convert`].
pub fn convert_tree<P, F>(root: P, to: ConvertTo, options: &ConvertOptions, report: F)
where
    P: AsRef<Path>,
    F: FnMut(Result<(PathBuf, Result<Retargeted>)>),
{
    convert_tree_inner(root.as_ref(), to, options, None, report);
}

/// [`convert_tree`] of a tree in an image, each link converted as [`convert_in`] converts
/// it.
pub fn convert_tree_in<P, F>(
    root: P,
    to: ConvertTo,
    options: &ConvertOptions,
    image: &ImageRoot,
    report: F,
) where
    P: AsRef<Path>,
    F: FnMut(Result<(PathBuf, Result<Retargeted>)>),
{
    convert_tree_inner(root.as_ref(), to, options, Some(image), report);
}

fn convert_tree_inner<F>(
    root: &Path,
    to: ConvertTo,
    options: &ConvertOptions,
    image: Option<&ImageRoot>,
    mut report: F,
) where
    F: FnMut(Result<(PathBuf, Result<Retargeted>)>),
{
    // Every symlink and junction gets its outcome: `unchanged` where it is in the form
    // asked already, and a junction asked to be relative, which it cannot be, is kept
    // with that reason (for one link named, that is an error).
    let mut scan = crate::scan::ScanBuilder::new(root);
    if let ConvertTo::Native(dirs) = to {
        // Every link, for its outcome, and every regular file, which may be a Cygwin
        // link; a file that is plainly none is passed over.
        if let Err(err) = crate::foreign::check_root(root) {
            report(Err(err));
            return;
        }
        let lx = Kind::of_tag(knot_reparse::Tag::LX_SYMLINK);
        scan.kinds([Kind::Symlink, Kind::Junction, lx]).files(true);
        scan.act(|at, link| {
            match crate::foreign::to_native_at(at, dirs, options.mode, options.drive, true) {
                Ok(None) => None,
                Ok(Some(done)) => Some(Ok((link.path, Ok(done)))),
                Err(err) => Some(Ok((link.path, Err(err)))),
            }
        })
        .for_each(report);
        return;
    }
    scan.kinds([Kind::Symlink, Kind::Junction]);
    scan.act(|at, link| {
        let result = match convert_at(at, to, options, image) {
            Err(err) if *err.kind() == ErrorKind::JunctionNotRelative => Ok(Retargeted {
                kept: Some(Kept::JunctionIsAbsolute),
                ..unchanged(link.clone())
            }),
            other => other,
        };
        Some(Ok((link.path, result)))
    })
    .for_each(report);
}

/// Carries out a plan for an existing link: only shows it in a dry run; else rewrites the
/// link's reparse point in place where the platform can and the kind stays, or makes the
/// new link and commits it over the old one.
fn change(before: Link, planned: Planned<'_>, mode: ChangeMode, op: Op) -> Result<Retargeted> {
    if mode == ChangeMode::DryRun {
        planned.may_make().map_err(|e| e.with_op(op))?;
        let after = planned.preview(&before).map_err(|e| e.with_op(op))?;
        return Ok(Retargeted {
            before,
            after,
            changed: true,
            kept: None,
        });
    }
    let same_kind = planned.made_kind() == before.kind;
    let planned = if same_kind {
        match planned.rewrite().map_err(|e| e.with_op(op))? {
            Ok(created) => {
                return Ok(Retargeted {
                    before,
                    after: created.link,
                    changed: true,
                    kept: None,
                });
            }
            Err(planned) => planned,
        }
    } else {
        planned
    };
    let created = planned.commit().map_err(|e| e.with_op(op))?;
    Ok(Retargeted {
        before,
        after: created.link,
        changed: true,
        kept: None,
    })
}

fn unchanged(before: Link) -> Retargeted {
    Retargeted {
        after: before.clone(),
        before,
        changed: false,
        kept: None,
    }
}

/// The refusal of a path that names no link of its own. `l/` names what the link `l`
/// leads to: the slash is the reason ([`ErrorKind::TrailingSlash`], as `remove` says it),
/// and what it leads to is never acted on.
fn not_a_link(before: &Link, link: &Path, op: Op) -> Error {
    if let Some(through) = &before.through {
        let kind = ErrorKind::TrailingSlash {
            link: through.clone(),
        };
        return Error::new(op, link, kind);
    }
    link_type(before, link, op)
        .err()
        .unwrap_or_else(|| Error::new(op, link, ErrorKind::BadLinkPath))
}

/// The kind of link to plan for `link`, which must be a symlink or a junction.
fn link_type(before: &Link, link: &Path, op: Op) -> Result<LinkType> {
    match before.kind {
        Kind::Symlink => Ok(LinkType::Symlink),
        Kind::Junction => Ok(LinkType::Junction),
        _ => {
            let what = match before.kind {
                Kind::Dir => Found::Dir,
                Kind::Special => Found::Special(before.special),
                Kind::Reparse(_) | Kind::MountPoint => Found::ReparseFile,
                _ => Found::File,
            };
            Err(Error::new(op, link, ErrorKind::NotALink { what }))
        }
    }
}

/// The link's own flavour, kept (Windows and NTFS read it).
fn flavour_of(link: &Link) -> Option<Flavour> {
    link.dir
}

/// The drive letter of a link's absolute reparse target (`\??\D:\...`), so a retarget on
/// an NTFS volume from Linux keeps the letter Windows gives it.
fn drive_of(link: &Link) -> Option<DriveLetter> {
    let name = link.substitute_name.as_ref()?.to_str()?;
    let rest = name.strip_prefix(r"\??\").unwrap_or(name);
    let mut chars = rest.chars();
    match (chars.next(), chars.next(), chars.next()) {
        (Some(letter), Some(':'), Some('\\')) => DriveLetter::try_from(letter).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drive_letter_comes_from_the_substitute_name() {
        let mut link = Link::new(PathBuf::from("j"), Kind::Junction);
        assert_eq!(drive_of(&link), None);
        for (name, drive) in [
            (r"\??\D:\data", Some('D')),
            (r"\??\e:\", Some('E')),
            (r"D:\x", Some('D')),
            (r"..\x", None),
            (r"\??\Volume{1}\", None),
        ] {
            link.substitute_name = Some(name.into());
            assert_eq!(drive_of(&link).map(DriveLetter::letter), drive, "{name}");
        }
    }
}
