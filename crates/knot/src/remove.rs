//! `knot rm`: remove links, never what they point at (DESIGN.md promise 1).

use std::path::Path;

use crate::diagnose::{link_behind_slash, write_error};
use crate::error::{Error, ErrorKind, Op, Result};
use crate::inspect::inspect;
use crate::link::{Found, Kind, Link};
use crate::path::parent_dir;
use crate::sys::{self, FileType};
use knot_reparse::Tag;

/// Whether to remove, or only to say what would be removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RemoveMode {
    /// Remove the link.
    Remove,
    /// Check everything and report the link, but change nothing (the CLI's `--dry-run`).
    DryRun,
}

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
pub fn remove<P: AsRef<Path>>(path: P, mode: RemoveMode) -> Result<Link> {
    remove_inner(path.as_ref(), mode)
}

fn remove_inner(path: &Path, mode: RemoveMode) -> Result<Link> {
    let link = inspect(path).map_err(|e| e.with_op(Op::Remove))?;
    let what = match link.kind {
        Kind::Symlink | Kind::Junction | Kind::MountPoint => None,
        // A reparse point is a link only when its tag says it stands for another name
        // (the name-surrogate bit, MS-FSCC 2.1.2.1): removing a WOF-compressed, deduplicated
        // or cloud file would lose its data.
        Kind::Reparse(_) if link.tag.is_some_and(|tag| Tag(tag).is_name_surrogate()) => None,
        Kind::Reparse(_) => Some(Found::ReparseFile),
        Kind::File | Kind::Hardlink => Some(Found::File),
        Kind::Dir => Some(Found::Dir),
        Kind::Special => Some(Found::Special(link.special)),
    };
    if let Some(what) = what {
        // `rm l/`: the slash led through the link `l`; say so, and never touch the target.
        let kind = match link_behind_slash(path) {
            Some(link) => ErrorKind::TrailingSlash { link },
            None => ErrorKind::NotALink { what },
        };
        return Err(Error::new(Op::Remove, path, kind));
    }
    if let Some(name) = sys::kernel_fs(parent_dir(path)) {
        return Err(Error::new(
            Op::Remove,
            path,
            ErrorKind::KernelFileSystem { name },
        ));
    }
    if mode == RemoveMode::Remove {
        // Look again right before removing: the entry may have been replaced since.
        let meta = sys::lstat(path).map_err(|e| Error::io(Op::Remove, path, e))?;
        if meta.ty != FileType::Link {
            // A FIFO or device put in its place is a special file, not "a regular file".
            let what = match meta.ty {
                FileType::Dir => Found::Dir,
                FileType::Other => Found::Special(sys::special(path, false)),
                FileType::File | FileType::Link => Found::File,
            };
            return Err(Error::new(Op::Remove, path, ErrorKind::NotALink { what }));
        }
        sys::remove_link(path).map_err(|e| write_error(Op::Remove, path, e))?;
    }
    Ok(link)
}
