//! Walking a chain of links one link at a time, as the kernel resolves it (`..` after the
//! links before it), to tell a cycle from a chain that is only too long
//! (`crate::chain`).

use std::collections::HashSet;
use std::ffi::OsString;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use crate::link::Status;

/// Links followed before the chain counts as endless, whatever it looks like: far past
/// any system's limit (Linux 40, Windows 63), so a chain this long is a cycle in all but
/// name (a link like `a -> a/x` never repeats exactly, yet never ends).
const MAX_LINKS: usize = 1000;

/// Resolves `path` as the kernel would, links followed, `..` physical, counting links.
/// A link met again with the same path left to resolve is a cycle.
pub(crate) fn chain_status(path: &Path) -> Option<Status> {
    let mut at: PathBuf = if path.is_absolute() {
        PathBuf::from("/")
    } else {
        std::env::current_dir().ok()?
    };
    // What is left to resolve, the next component last.
    let mut rest: Vec<OsString> = Vec::new();
    push_components(&mut rest, path);
    let mut seen = HashSet::new();
    let mut links = 0;
    while let Some(part) = rest.pop() {
        if part == ".." {
            at.pop();
            continue;
        }
        let next = at.join(&part);
        let meta = match std::fs::symlink_metadata(&next) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Some(Status::Dangling),
            Err(_) => return None,
        };
        if !meta.file_type().is_symlink() {
            if !rest.is_empty() && !meta.is_dir() {
                return Some(Status::Dangling);
            }
            at = next;
            continue;
        }
        links += 1;
        let mut state = DefaultHasher::new();
        rest.hash(&mut state);
        if links > MAX_LINKS || !seen.insert((meta.dev(), meta.ino(), state.finish())) {
            return Some(Status::Loop);
        }
        let target = std::fs::read_link(&next).ok()?;
        if target.is_absolute() {
            at = PathBuf::from("/");
        }
        push_components(&mut rest, &target);
    }
    Some(Status::TooLong)
}

/// Pushes `path`'s components onto `rest` so that the first is popped first.
fn push_components(rest: &mut Vec<OsString>, path: &Path) {
    let parts = path.components().filter_map(|c| match c {
        Component::Normal(name) => Some(name.to_owned()),
        Component::ParentDir => Some("..".into()),
        Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
    });
    let start = rest.len();
    rest.extend(parts);
    rest[start..].reverse();
}
