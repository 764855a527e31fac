//! `knot rm`: remove links, never what they point at (DESIGN.md promise 1).

use std::path::Path;

use crate::change::ChangeMode;
pub(crate) mod tree;

use crate::diagnose::write_error;
use crate::error::{Error, ErrorKind, Op, Result};
use crate::inspect::{inspect_at, on_entry};
use crate::link::{Found, Kind, Link};
use crate::path::parent_dir;
use crate::sys::{self, At, FileType};
use crate::sys::{Backend as _, Directory as _};
use knot_reparse::Tag;

/// Removes the link at `path` and returns what it was.
///
/// The link itself is removed, never its target: a directory symlink or junction goes, the
/// directory it points at and everything in it stay.
///
/// # Errors
/// `path` does not exist, or is a regular file, a directory or a special file
/// ([`ErrorKind::NotALink`]): those are refused and left untouched. A path that ends in a
/// slash after a link (`l/`, which names what `l` points at) is refused with
/// [`ErrorKind::TrailingSlash`], naming the link; a link the kernel made (`/proc`, `/sys`)
/// with [`ErrorKind::KernelFileSystem`].
///
/// # Platform behavior
/// On Unix the link is removed with `unlink(2)`. A regular file with several names is a
/// file, not a link, and is refused too.
pub fn remove<P: AsRef<Path>>(path: P, mode: ChangeMode) -> Result<Link> {
    remove_inner(path.as_ref(), mode)
}

fn remove_inner(path: &Path, mode: ChangeMode) -> Result<Link> {
    let removed = on_entry(
        path,
        Op::Remove,
        |at| remove_at(at, mode, Recheck::IsLink),
        |link| {
            refusal(path, &link)
                .unwrap_or_else(|| Error::new(Op::Remove, path, ErrorKind::BadLinkPath))
        },
    )?;
    match removed {
        Removed::Gone(link) | Removed::Works(link) => Ok(link),
    }
}

/// What [`remove_at`] checks again right before it removes the link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Recheck {
    /// That it is still a link.
    IsLink,
    /// That it is still a link and still leads nowhere (`knot fix --broken --delete`): a
    /// link whose target has appeared since it was found is kept.
    IsBroken,
}

/// What [`remove_at`] did.
#[derive(Debug)]
pub(crate) enum Removed {
    /// The link was removed (or, in a dry run, would be).
    Gone(Link),
    /// The link was kept: it leads somewhere now ([`Recheck::IsBroken`]).
    Works(Link),
}

/// Removes the link at `at`, through its held directory, and returns what it was: the
/// checks of [`remove`], made and acted on through the same directory, so the link removed
/// is the one in the directory that was checked, whatever has been put at its path since.
pub(crate) fn remove_at(at: At<'_>, mode: ChangeMode, recheck: Recheck) -> Result<Removed> {
    let path = at.path;
    let link = inspect_at(at).map_err(|e| e.with_op(Op::Remove))?;
    if let Some(err) = refusal(path, &link) {
        return Err(err);
    }
    if let Some(name) = sys::Os::kernel_fs(parent_dir(path)) {
        return Err(Error::new(
            Op::Remove,
            path,
            ErrorKind::KernelFileSystem { name },
        ));
    }
    // Look again right before removing: the entry may have been replaced since.
    let meta = at.lstat().map_err(|e| Error::io(Op::Remove, path, e))?;
    if meta.ty != FileType::Link {
        // A FIFO or device put in its place is a special file, not "a regular file".
        let what = match meta.ty {
            FileType::Dir => Found::Dir,
            FileType::Other => Found::Special(sys::Os::special(path, false)),
            FileType::File | FileType::Link => Found::File,
        };
        return Err(Error::new(Op::Remove, path, ErrorKind::NotALink { what }));
    }
    if recheck == Recheck::IsBroken && at.stat().is_ok() {
        return Ok(Removed::Works(link));
    }
    if mode == ChangeMode::DryRun {
        // What the removal would meet: the directory's permission and its file system.
        at.dir
            .may_change()
            .map_err(|e| write_error(Op::Remove, path, e))?;
    }
    if mode == ChangeMode::Change {
        at.dir
            .remove_link_at(at.name, path)
            .map_err(|e| write_error(Op::Remove, path, e))?;
    }
    Ok(Removed::Gone(link))
}

/// Why the entry `link`, found at `path`, is not removed: anything that is not a link.
fn refusal(path: &Path, link: &Link) -> Option<Error> {
    let what = match link.kind {
        Kind::Symlink | Kind::Junction | Kind::MountPoint => None,
        // A reparse point is a link only when its tag says it stands for another name
        // (the name-surrogate bit, MS-FSCC 2.1.2.1): removing a WOF-compressed, deduplicated
        // or cloud file would lose its data.
        Kind::Reparse(_) if link.tag.is_some_and(Tag::is_name_surrogate) => None,
        Kind::Reparse(_) => Some(Found::ReparseFile),
        Kind::File | Kind::Hardlink => Some(Found::File),
        Kind::Dir => Some(Found::Dir),
        Kind::Special => Some(Found::Special(link.special)),
    }?;
    // `rm l/`: the slash led through the link `l`; say so, and never touch the target.
    let kind = match link.through.clone() {
        Some(link) => ErrorKind::TrailingSlash { link },
        None => ErrorKind::NotALink { what },
    };
    Some(Error::new(Op::Remove, path, kind))
}
