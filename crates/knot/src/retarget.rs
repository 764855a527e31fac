//! `knot retarget`: give an existing link a new target, keeping its kind and flavour
//! (DESIGN.md section 2). It is a new [`create`] plan for the link, committed over it with
//! [`Replace::Links`], so every rule of create holds (a junction's target must be an
//! existing local directory; nothing but a link is ever replaced; the result is read back).

use std::path::Path;

use crate::create::{CreateOptions, DriveLetter, LinkType, Replace, TargetForm, create};
use crate::error::{Error, ErrorKind, Op, Result};
use crate::inspect::inspect;
use crate::link::{Flavour, Found, Kind, Link, Status};

/// Whether to change the link, or only to check and say what would change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ChangeMode {
    /// Change the link.
    #[default]
    Change,
    /// Check everything and report the change, but change nothing (the CLI's `--dry-run`).
    DryRun,
}

/// Options for [`retarget`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RetargetOptions {
    /// Change, or only check.
    pub mode: ChangeMode,
    /// The drive letter of an absolute target written onto an NTFS volume from Linux
    /// (ntfs-3g); `None` keeps the link's own.
    pub drive: Option<DriveLetter>,
}

/// What [`retarget`] changed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Retargeted {
    /// The link as it was.
    pub before: Link,
    /// The link as it is now (read back), or as it would be after a dry run.
    pub after: Link,
}

/// Gives the link at `link` the target `new_target`, stored as given, keeping its kind
/// (a junction stays a junction) and flavour.
///
/// # Errors
/// `link` is not a symlink or junction ([`ErrorKind::NotALink`]), or the new target breaks
/// the rules of its kind (see [`create`]).
pub fn retarget<L: AsRef<Path>, T: AsRef<Path>>(
    link: L,
    new_target: T,
    options: &RetargetOptions,
) -> Result<Retargeted> {
    retarget_inner(link.as_ref(), new_target.as_ref(), options)
}

fn retarget_inner(link: &Path, new_target: &Path, options: &RetargetOptions) -> Result<Retargeted> {
    let before = inspect(link).map_err(|e| e.with_op(Op::Retarget))?;
    let ty = match before.kind {
        Kind::Symlink => LinkType::Symlink,
        Kind::Junction => LinkType::Junction,
        _ => {
            let what = match before.kind {
                Kind::Dir => Found::Dir,
                Kind::Special => Found::Special(before.special),
                Kind::Reparse(_) => Found::ReparseFile,
                _ => Found::File,
            };
            return Err(Error::new(Op::Retarget, link, ErrorKind::NotALink { what }));
        }
    };
    let create_options = CreateOptions {
        flavour: before
            .dir
            .map(|dir| if dir { Flavour::Dir } else { Flavour::File }),
        form: TargetForm::AsGiven,
        replace: Replace::Links,
        drive: options.drive,
    };
    if options.mode == ChangeMode::DryRun {
        return Ok(Retargeted {
            after: as_it_would_be(&before, link, new_target),
            before,
        });
    }
    let created =
        create(link, new_target, ty, &create_options).map_err(|e| e.with_op(Op::Retarget))?;
    Ok(Retargeted {
        before,
        after: created.link,
    })
}

/// The link as a dry run reports it: the new target as given, and the status of what the
/// target leads to now (read from the link's directory, following links as the system
/// would).
fn as_it_would_be(before: &Link, link: &Path, new_target: &Path) -> Link {
    let mut after = Link::new(before.path.clone(), before.kind);
    after.dir = before.dir;
    after.tag = before.tag;
    after.target = Some(new_target.to_path_buf());
    after.relative = Some(new_target.is_relative());
    after.status = Some(
        match std::fs::metadata(crate::path::parent_dir(link).join(new_target)) {
            Ok(_) => Status::Ok,
            Err(_) => Status::Dangling,
        },
    );
    after
}
