//! Turning a system call's bare error into one that says what is wrong with the path
//! (DESIGN.md promise 7): which directory on the way is missing or is a file, that this
//! user may not write where the link goes, or that a trailing slash leads through a link.
//! Only called once a call has failed, so the common path pays nothing.

use std::io;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, ErrorKind, Op};
use crate::link::Found;
use crate::path::parent_dir;
use crate::sys::Backend as _;
use crate::sys::{self, FileType};

/// The error for a failed look-up of `path` (lstat, readlink): a missing directory on the
/// way, or a part of it that is a file, is named; otherwise the system's error stands.
pub(crate) fn lookup_error(op: Op, path: &Path, err: io::Error) -> Error {
    let kind = match err.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => link_behind_slash(path)
            .map_or_else(
                || bad_ancestor(path),
                |link| Some(ErrorKind::TrailingSlash { link }),
            ),
        _ => None,
    };
    with_kind(Error::io(op, path, err), kind)
}

/// The error for a failed change at `path` (making or removing a link there): as
/// [`lookup_error`], and also a directory this user may not write to, or a read-only
/// file system.
pub(crate) fn write_error(op: Op, path: &Path, err: io::Error) -> Error {
    let kind = if sys::Os::os_error_kind(&err).is_some() {
        // knot's own word for it already (Windows' missing symlink privilege).
        None
    } else if sys::Os::is_access_denied(&err) {
        Some(ErrorKind::NoPermission {
            dir: parent_dir(path).to_path_buf(),
        })
    } else if err.kind() == io::ErrorKind::ReadOnlyFilesystem {
        Some(ErrorKind::ReadOnlyFileSystem)
    } else {
        return lookup_error(op, path, err);
    };
    with_kind(Error::io(op, path, err), kind)
}

fn with_kind(err: Error, kind: Option<ErrorKind>) -> Error {
    match kind {
        Some(kind) => err.with_kind(kind),
        None => err,
    }
}

/// The first directory on the way to `path` that is missing or is not a directory.
fn bad_ancestor(path: &Path) -> Option<ErrorKind> {
    let parent = path.parent()?;
    let mut prefix = PathBuf::new();
    for part in parent.components() {
        prefix.push(part);
        if matches!(part, Component::Prefix(_) | Component::RootDir) {
            continue;
        }
        match sys::Os::stat(&prefix) {
            Ok(meta) if meta.ty == FileType::Dir => {}
            Ok(meta) => {
                let what = if meta.ty == FileType::File {
                    Found::File
                } else {
                    Found::Special(None)
                };
                return Some(ErrorKind::NotADirectory { path: prefix, what });
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // There, but not to be entered: a reparse point that holds data (a cloud
                // placeholder directory on ntfs-3g reads as a symlink to nowhere).
                if let Some(tag) = data_reparse_point(&prefix) {
                    return Some(ErrorKind::ReparsePoint { path: prefix, tag });
                }
                return Some(ErrorKind::DirMissing { dir: prefix });
            }
            Err(_) => return None,
        }
    }
    None
}

/// If `path` ends in a slash (or `/.`) right after a link, that link: `l/` names what the
/// link `l` points at (the system follows a link before a trailing slash), not the link.
///
/// Tab completion adds that slash to a link to a directory, so `knot rm l/` is what people
/// type to remove the link `l`; knot then says so instead of acting on the target.
///
/// # Platform behavior
/// On Windows a trailing backslash does not lead through a link: `l\` is the link itself,
/// so this is only `Some` where the path also names something else.
pub(crate) fn link_behind_slash(path: &Path) -> Option<PathBuf> {
    let bytes = path.as_os_str().as_encoded_bytes();
    let slash = |b: u8| std::path::is_separator(char::from(b));
    let trailing = match bytes {
        [.., b] if slash(*b) => true,
        [.., s, b'.'] if slash(*s) => true,
        _ => false,
    };
    if !trailing {
        return None;
    }
    // Components drop trailing slashes and a final `.`.
    let link: PathBuf = path.components().collect();
    if link.as_os_str().is_empty() || link.file_name().is_none() {
        return None;
    }
    match sys::Os::lstat(&link) {
        Ok(meta) if meta.ty == FileType::Link => Some(link),
        _ => None,
    }
}

/// The tag of the entry at `path` itself where it is a reparse point that holds data (not
/// a link: no name-surrogate bit), which this system shows but cannot open.
fn data_reparse_point(path: &Path) -> Option<knot_reparse::Tag> {
    sys::Os::lstat(path).ok()?.data_tag()
}
