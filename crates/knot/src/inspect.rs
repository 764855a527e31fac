//! `knot show`: what a path is, read without following it.

use std::path::Path;

use crate::chain::failed_status;
use crate::diagnose::lookup_error;
#[cfg(doc)]
use crate::error::ErrorKind;
use crate::error::{Error, Op, Result};
use crate::link::{Kind, Link, Status};
use crate::path::{canonical, resolve_dangling};
use crate::sys::{self, FileType, Leads};

/// Reads what `path` is: a link with its target and status, or a plain file, directory or
/// special file (reported with its kind; it is not an error to ask).
///
/// # Errors
/// The path does not exist or cannot be read; where a directory on the way is missing or
/// is a file, the error says which ([`ErrorKind::DirMissing`],
/// [`ErrorKind::NotADirectory`]), and a trailing slash after a link that makes the path
/// fail is [`ErrorKind::TrailingSlash`].
///
/// # Platform behavior
/// On Unix, knot's junctions are directory symlinks and are reported as `symlink`.
pub fn inspect<P: AsRef<Path>>(path: P) -> Result<Link> {
    inspect_inner(path.as_ref())
}

fn inspect_inner(path: &Path) -> Result<Link> {
    // A link replaced by something else between the `lstat` and the `readlink` (which then
    // fails with EINVAL, or ENOENT if it went) is looked at again, as what it is now.
    for _ in 0..8 {
        match inspect_once(path) {
            Err(Raced) => continue,
            Ok(found) => return found,
        }
    }
    inspect_once(path).unwrap_or_else(|Raced| {
        Err(Error::io(
            Op::Inspect,
            path,
            std::io::Error::other("it kept changing while knot looked at it"),
        ))
    })
}

/// The entry changed while [`inspect_once`] read it.
struct Raced;

fn inspect_once(path: &Path) -> std::result::Result<Result<Link>, Raced> {
    let meta = match sys::lstat(path) {
        Ok(meta) => meta,
        Err(e) => return Ok(Err(lookup_error(Op::Inspect, path, e))),
    };
    let mut link = match meta.ty {
        FileType::Link => {
            let stored = match sys::read_link(path) {
                Ok(stored) => stored,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::InvalidInput | std::io::ErrorKind::NotFound
                    ) =>
                {
                    return Err(Raced);
                }
                Err(e) => return Ok(Err(Error::io(Op::Inspect, path, e))),
            };
            let mut link = Link::new(path.to_path_buf(), Kind::Symlink);
            if let Some(leads) = stored.fill(&mut link) {
                resolve(&mut link, &leads);
            }
            link
        }
        FileType::Dir => {
            let mut link = Link::new(path.to_path_buf(), Kind::Dir);
            link.dir = Some(true);
            link
        }
        FileType::File => {
            let kind = if meta.nlink > 1 {
                Kind::Hardlink
            } else {
                Kind::File
            };
            let mut link = Link::new(path.to_path_buf(), kind);
            link.dir = Some(false);
            link
        }
        FileType::Other => {
            let mut link = Link::new(path.to_path_buf(), Kind::Special);
            link.special = sys::special(path, false);
            link
        }
    };
    link.nlink = Some(meta.nlink);
    Ok(Ok(link))
}

/// Fills in `status`, `dir` and `resolved` by following the link, which `show` was asked to
/// do: the status is the answer to "does it lead somewhere?". A link the system cannot
/// follow where Windows would (ntfs-3g) is judged by the path it stores instead.
fn resolve(link: &mut Link, leads: &Leads) {
    let at = leads.judged_at(&link.path);
    match sys::stat(&at) {
        Ok(meta) => {
            link.status = Some(Status::Ok);
            // A Windows link's own flavour, where it has one, stands.
            link.dir = link.dir.or(Some(meta.ty == FileType::Dir));
            link.resolved = canonical(&at).ok();
            if meta.ty == FileType::Other {
                link.special = sys::special(&at, true);
            }
        }
        // A system's "loop" may be a chain that is only too long: walked to tell.
        Err(err) => link.status = Some(failed_status(&at, &err)),
    }
    if link.resolved.is_none() {
        link.resolved = resolve_dangling(&link.path, &leads.path).ok();
    }
}
