//! `knot show`: what a path is, read without following it.

use std::path::{Path, PathBuf};

use crate::chain::failed_status;
use crate::diagnose::{link_behind_slash, lookup_error};
#[cfg(doc)]
use crate::error::ErrorKind;
use crate::error::{Error, Op, Result};
use crate::image::ImageRoot;
use crate::link::{Flavour, Kind, Link, Status};
use crate::resolve::{canonical, resolve_dangling};
use crate::sys::{self, At, FileType, Leads};
use crate::sys::{Backend as _, Directory as _};

/// Reads what `path` is: a link with its target and status, or a plain file, directory or
/// special file (reported with its kind; it is not an error to ask). A path that ends in
/// a slash right after a link (`l/`) is what the link points at; the record says which
/// link in [`Link::through`].
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

/// [`inspect`] of a path in an image: the link judged inside the image root `root`, as a
/// chroot into it would ([`ImageRoot`]): its status and `resolved` (a path inside the
/// image) are the image's, and [`Link::resolved_host`] is where that is on the host.
///
/// # Errors
/// As [`inspect`]; and [`ErrorKind::OutsideRoot`] where `path` is not inside `root`.
pub fn inspect_in<P: AsRef<Path>>(path: P, root: &ImageRoot) -> Result<Link> {
    let path = path.as_ref();
    let place = root.locate(path).map_err(|e| e.with_op(Op::Inspect))?;
    let dir = crate::path::parent_dir(&place).to_path_buf();
    let mut link = retried(Source::Path(path), path, Some((root, &dir)))?;
    if !link.kind.is_link() {
        link.through = link_behind_slash(path);
    }
    Ok(link)
}

fn inspect_inner(path: &Path) -> Result<Link> {
    let mut link = retried(Source::Path(path), path, None)?;
    // A link is never reached through a trailing slash: only what is not one can be.
    if !link.kind.is_link() {
        link.through = link_behind_slash(path);
    }
    Ok(link)
}

/// [`inspect`] of the entry `at`, through its held directory: the record a change made or
/// decided on there is read from the very entry, whatever has since been put at its path.
pub(crate) fn inspect_at(at: At<'_>) -> Result<Link> {
    retried(Source::At(at), at.path, None)
}

/// An image root and the path inside it of the directory that holds the link.
type InImage<'a> = Option<(&'a ImageRoot, &'a Path)>;

/// Runs `act` on the entry the user's `path` names, through its directory, opened once
/// and held ([`crate::resolve::entry_of`]): the one look-up of the path for an operation `op`
/// that changes the entry. A path that names no entry of its own (`/`, `..`, `l/` on Unix:
/// never a link) is inspected by its path and handed to `refuse` instead, for the
/// operation's own refusal.
pub(crate) fn on_entry<T>(
    path: &Path,
    op: Op,
    act: impl FnOnce(At<'_>) -> Result<T>,
    refuse: impl FnOnce(Link) -> Error,
) -> Result<T> {
    let Some((parent, name)) = crate::resolve::entry_of(path) else {
        let link = inspect(path).map_err(|e| e.with_op(op))?;
        return Err(refuse(link));
    };
    let dir = sys::Dir::hold(parent).map_err(|e| lookup_error(op, path, e))?;
    act(At::new(&dir, name, path))
}

/// Where [`inspect`] reads: a path the user named, or an entry through its held directory.
#[derive(Clone, Copy)]
enum Source<'a> {
    Path(&'a Path),
    At(At<'a>),
}

impl Source<'_> {
    fn lstat(self) -> std::io::Result<sys::Meta> {
        match self {
            Source::Path(path) => sys::Os::lstat(path),
            Source::At(at) => at.lstat(),
        }
    }

    fn stat(self) -> std::io::Result<sys::Meta> {
        match self {
            Source::Path(path) => sys::Os::stat(path),
            Source::At(at) => at.stat(),
        }
    }

    fn read_link(self) -> std::io::Result<sys::Stored> {
        match self {
            Source::Path(path) => sys::Os::read_link(path),
            Source::At(at) => at.read_link(),
        }
    }

    /// Where the link `path` that stores `target` leads, though nothing is there
    /// ([`resolve_dangling`]): through the held directory, each part of the target named
    /// from it as `scan` names them (a few calls, where naming each part of the whole
    /// path costs one `readlink` per name), else from the path.
    fn resolve_dangling(self, path: &Path, target: &Path) -> Option<PathBuf> {
        if let Source::At(at) = self
            && let Ok(base) = at.dir.real_dir(crate::path::parent_dir(path))
        {
            let real = |part: &Path| at.dir.real_path_at(part.as_os_str());
            return Some(crate::resolve::resolve_target(&base, target, real));
        }
        resolve_dangling(path, target).ok()
    }

    /// The canonical path of what the link leads to: through the held directory where the
    /// system can name it, else from the path.
    fn canonical(self, path: &Path) -> std::io::Result<PathBuf> {
        match self {
            Source::At(at) => at
                .dir
                .real_path_at(at.name)
                .map(sys::Os::user_path)
                .or_else(|_| canonical(path)),
            Source::Path(_) => canonical(path),
        }
    }
}

fn retried(source: Source<'_>, path: &Path, image: InImage<'_>) -> Result<Link> {
    // A link replaced by something else between the `lstat` and the `readlink` (which then
    // fails with EINVAL, or ENOENT if it went; on Windows ERROR_NOT_A_REPARSE_POINT) is
    // looked at again, as what it is now.
    for _ in 0..8 {
        match inspect_once(source, path, image) {
            Err(Raced) => continue,
            Ok(found) => return found,
        }
    }
    inspect_once(source, path, image).unwrap_or_else(|Raced| {
        Err(Error::io(
            Op::Inspect,
            path,
            crate::sys::error::Error::KeptChangingWhileRead.into(),
        ))
    })
}

/// The entry changed while [`inspect_once`] read it.
struct Raced;

fn inspect_once(
    source: Source<'_>,
    path: &Path,
    image: InImage<'_>,
) -> std::result::Result<Result<Link>, Raced> {
    let meta = match source.lstat() {
        Ok(meta) => meta,
        Err(e) => return Ok(Err(lookup_error(Op::Inspect, path, e))),
    };
    let mut link = match meta.ty {
        FileType::Link => {
            let stored = match source.read_link() {
                Ok(stored) => stored,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::InvalidInput | std::io::ErrorKind::NotFound
                    ) || sys::Os::os_error_kind(&e) == Some(sys::OsError::NotAReparsePoint) =>
                {
                    return Err(Raced);
                }
                Err(e) => return Ok(Err(Error::io(Op::Inspect, path, e))),
            };
            let mut link = Link::new(path.to_path_buf(), Kind::Symlink);
            match (stored.fill(&mut link), image) {
                // Judged inside the image: the host is never looked at.
                (Some(leads), Some((root, dir))) => root.fill(&mut link, dir, &leads.path, true),
                (Some(leads), None) => resolve(source, &mut link, &leads),
                (None, _) => {}
            }
            link
        }
        FileType::Dir => {
            let mut link = Link::new(path.to_path_buf(), Kind::Dir);
            link.dir = Some(Flavour::Dir);
            link
        }
        FileType::File => {
            let kind = if meta.nlink > 1 {
                Kind::Hardlink
            } else {
                Kind::File
            };
            let mut link = Link::new(path.to_path_buf(), kind);
            link.dir = Some(Flavour::File);
            link
        }
        FileType::Other => {
            let mut link = Link::new(path.to_path_buf(), Kind::Special);
            link.special = sys::Os::special(path, false);
            link
        }
    };
    link.nlink = Some(meta.nlink);
    Ok(Ok(link))
}

/// Fills in `status`, `dir` and `resolved` by following the link, which `show` was asked to
/// do: the status is the answer to "does it lead somewhere?". A link the system cannot
/// follow where Windows would (ntfs-3g) is judged by the path it stores instead.
fn resolve(source: Source<'_>, link: &mut Link, leads: &Leads) {
    let at = leads.judged_at(&link.path);
    let found = if leads.followed {
        source.stat()
    } else {
        sys::Os::stat(&at)
    };
    match found {
        Ok(meta) => {
            link.status = Some(Status::Ok);
            // A Windows link's own flavour, where it has one, stands.
            link.dir = link.dir.or(Some(Flavour::of(meta.ty == FileType::Dir)));
            // Named only where it leads somewhere: where it does not, the canonical path
            // fails after a look at every name on the way.
            let resolved = if leads.followed {
                source.canonical(&link.path)
            } else {
                canonical(&at)
            };
            link.resolved = resolved.ok();
            if meta.ty == FileType::Other {
                link.special = sys::Os::special(&at, true);
            }
        }
        // A system's "loop" may be a chain that is only too long: walked to tell.
        Err(err) => link.status = Some(failed_status(&at, &err)),
    }
    if link.resolved.is_none() {
        link.resolved = source.resolve_dangling(&link.path, &leads.path);
    }
}
