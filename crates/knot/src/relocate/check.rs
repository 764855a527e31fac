//! The check of a move's copy against its source, before the source is given up: the
//! same entries by name, of the same kinds, files of the same sizes, links with the
//! targets the copy was to give them; with `contents`, every file's bytes compared with
//! its copy's through descriptors. Both trees are listed by the tree walk under the scan
//! (a filter over it), never following a link.
//!
//! The source is listed before it is copied, and that listing kept: once the source is
//! set aside, it is listed again and compared with it, files by their modification and
//! change times too, so that whatever was written into it while it was copied is found
//! before the old data goes ([`changed`]).

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};

use crate::error::{Error, Op, Result};
use crate::scan::WalkState;
use crate::scan::walk::{DirEntry, Filter, Next, Sink, WalkBuilder};
use crate::sys::Directory as _;
use crate::sys::{self, Backend as _, FileType};

/// What an entry is, as the check compares it.
#[derive(Debug, PartialEq, Eq)]
enum What {
    Dir,
    File(u64),
    Link(PathBuf),
    Other,
}

impl What {
    fn word(&self) -> &'static str {
        match self {
            What::Dir => "a directory",
            What::File(_) => "a file",
            What::Link(_) => "a link",
            What::Other => "a special file",
        }
    }
}

/// An entry as listed: what it is, and for a file its modification and change times
/// (seconds and nanoseconds) where the platform gives them through a held directory: a
/// writer can set the modification time back (`touch -r`), never the change time.
type Listed = (What, Option<((i64, u32), (i64, u32))>);

/// The source of a move as listed before it is copied, and the identity of the directory
/// listed (the one the move holds: it keeps it when set aside).
pub(super) struct Source(BTreeMap<PathBuf, Listed>, (u64, u128));

impl Source {
    /// The identity of the directory listed.
    pub(super) fn id(&self) -> (u64, u128) {
        self.1
    }
}

/// Lists a tree: each entry below the root by its path from the root, and what it is;
/// nothing but an error where the root the walk opened is not the directory `id`.
struct Inventory<'a> {
    root: &'a Path,
    id: Option<(u64, u128)>,
}

impl Filter for Inventory<'_> {
    type Item = (PathBuf, Listed);

    fn visit(&self, entry: &DirEntry<'_>, sink: &mut Sink<'_, '_, Self::Item>) -> Next {
        if entry.depth() == 0 {
            // The path given leads to the directory held, else nothing is listed: a
            // directory on the way swapped since would have another tree compared.
            let replaced = || io::Error::from(sys::error::Error::Replaced);
            return match entry.lstat() {
                Ok(meta) if self.id.is_none_or(|id| id == meta.id) => Next::Descend,
                found => {
                    let err = found.err().unwrap_or_else(replaced);
                    sink.send(Err(Error::io(Op::Move, self.root, err)));
                    Next::Quit
                }
            };
        }
        let path = entry.path();
        let rel = path.strip_prefix(self.root).unwrap_or(path).to_path_buf();
        let (dir, name) = entry.dir_and_name();
        let ty = entry.file_type();
        // A file's size and times from one look, where the platform gives its times
        // through the held directory; else its size alone.
        let listed = match ty {
            FileType::Dir => Ok((What::Dir, None)),
            FileType::Link => dir
                .read_link_at(name)
                .map(|stored| (What::Link(stored.target), None)),
            FileType::File if sys::Os::UPDATES_COPIES => dir
                .look_at(name)
                .map(|(meta, attrs)| (What::File(meta.size), Some((attrs.mtime, attrs.ctime)))),
            FileType::File => entry.lstat().map(|meta| (What::File(meta.size), None)),
            FileType::Other => Ok((What::Other, None)),
        };
        let item = listed
            .map(|listed| (rel, listed))
            .map_err(|e| Error::io(Op::Move, path, e));
        match sink.send(item) {
            WalkState::Quit => Next::Quit,
            _ if ty == FileType::Dir => Next::Descend,
            _ => Next::Skip,
        }
    }
}

fn list(root: &Path, id: Option<(u64, u128)>) -> Result<BTreeMap<PathBuf, Listed>> {
    let mut found = BTreeMap::new();
    for item in WalkBuilder::new(root).build(Inventory { root, id }) {
        let (rel, listed) = item?;
        found.insert(rel, listed);
    }
    Ok(found)
}

/// The source of a move, listed before it is copied.
pub(super) fn list_source(source: &Path, id: (u64, u128)) -> Result<Source> {
    list(source, Some(id)).map(|listed| Source(listed, id))
}

/// The first difference between the tree `copy` and the source (`wanted`, listed at
/// `source`), in words; `None` where they are the same. `targets` holds, by path from the
/// root, the target each link of the copy was made with (an inner link's rewritten one).
pub(super) fn differs(
    wanted: &Source,
    source: &Path,
    copy: &Path,
    targets: &HashMap<PathBuf, PathBuf>,
    contents: bool,
) -> Result<Option<String>> {
    let wanted = &wanted.0;
    let mut found = list(copy, None)?;
    let quoted = |rel: &Path| format!("'{}'", rel.display());
    for (rel, (what, _)) in wanted {
        let Some((there, _)) = found.remove(rel) else {
            return Ok(Some(format!("{} is missing from the copy", quoted(rel))));
        };
        let same = match (what, &there) {
            (What::Link(target), What::Link(made)) => made == targets.get(rel).unwrap_or(target),
            (a, b) => a == b,
        };
        if !same {
            let why = match (what, &there) {
                (What::File(a), What::File(b)) => {
                    format!("{a} bytes in the source, {b} in the copy")
                }
                (What::Link(_), What::Link(made)) => {
                    format!("its copy leads to '{}'", made.display())
                }
                (a, b) => format!("{} in the source, {} in the copy", a.word(), b.word()),
            };
            return Ok(Some(format!("{}: {why}", quoted(rel))));
        }
    }
    if let Some(rel) = found.keys().next() {
        return Ok(Some(format!(
            "the copy has {}, which the source has not",
            quoted(rel)
        )));
    }
    if contents {
        return same_bytes(source, copy, wanted);
    }
    Ok(None)
}

/// The first change to the source since it was listed (`was`), now at `now` (set aside),
/// in words: an entry gone, new, or of another kind, size, link target or (files, where
/// the platform gives them) modification or change time; `None` where nothing changed.
pub(super) fn changed(was: &Source, now: &Path) -> Result<Option<String>> {
    let mut found = list(now, Some(was.1))?;
    let quoted = |rel: &Path| format!("'{}'", rel.display());
    for (rel, listed) in &was.0 {
        match found.remove(rel) {
            None => return Ok(Some(format!("{} was removed", quoted(rel)))),
            Some(there) if there != *listed => {
                return Ok(Some(format!("{} was changed", quoted(rel))));
            }
            Some(_) => {}
        }
    }
    Ok(found
        .keys()
        .next()
        .map(|rel| format!("{} was added", quoted(rel))))
}

/// Every file of `files` compared byte for byte with its copy, each directory held once
/// on each side while its files are compared (the listing is sorted by path).
fn same_bytes(
    source: &Path,
    copy: &Path,
    files: &BTreeMap<PathBuf, Listed>,
) -> Result<Option<String>> {
    let fail = |path: &Path, e| Error::io(Op::Move, path, e);
    let roots = (
        sys::Dir::hold(source).map_err(|e| fail(source, e))?,
        sys::Dir::hold(copy).map_err(|e| fail(copy, e))?,
    );
    let mut held: Option<(PathBuf, sys::Dir, sys::Dir)> = None;
    for (rel, (what, _)) in files {
        if !matches!(what, What::File(_)) {
            continue;
        }
        let (Some(name), parent) = (rel.file_name(), rel.parent().unwrap_or(Path::new(""))) else {
            continue;
        };
        if held.as_ref().is_none_or(|(at, _, _)| at != parent) {
            let from = below(&roots.0, parent).map_err(|e| fail(&source.join(parent), e))?;
            let to = below(&roots.1, parent).map_err(|e| fail(&copy.join(parent), e))?;
            held = Some((parent.to_path_buf(), from, to));
        }
        let Some((_, from, to)) = &held else {
            continue;
        };
        let same = from
            .same_data_at(name, false, to, name)
            .map_err(|e| fail(&source.join(rel), e))?;
        if !same {
            let why = format!("'{}': its copy holds other bytes", rel.display());
            return Ok(Some(why));
        }
    }
    Ok(None)
}

/// The directory `rel` below `root`, each name opened from the one above without
/// following a link.
fn below(root: &sys::Dir, rel: &Path) -> std::io::Result<sys::Dir> {
    let mut dir = root.open_at(std::ffi::OsStr::new("."), false)?;
    for part in rel.components() {
        dir = dir.open_at(part.as_os_str(), false)?;
    }
    Ok(dir)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::fs;

    /// Two trees alike: `f` (4 bytes), `d/g`, and the link `l` to `f`.
    fn two() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        for root in [&a, &b] {
            fs::create_dir_all(root.join("d")).unwrap();
            fs::write(root.join("f"), "data").unwrap();
            fs::write(root.join("d/g"), "g").unwrap();
            std::os::unix::fs::symlink("f", root.join("l")).unwrap();
        }
        (dir, a, b)
    }

    /// `dir` listed as the source of a move.
    fn listed(dir: &Path) -> Source {
        let id = sys::Os::lstat(dir).unwrap().id;
        list_source(dir, id).unwrap()
    }

    fn check(a: &Path, b: &Path, contents: bool) -> Option<String> {
        differs(&listed(a), a, b, &HashMap::new(), contents).unwrap()
    }

    #[test]
    fn alike_trees_do_not_differ() {
        let (_dir, a, b) = two();
        assert_eq!(check(&a, &b, true), None);
    }

    #[test]
    fn each_difference_is_found_and_said() {
        let (_dir, a, b) = two();
        fs::remove_file(b.join("d/g")).unwrap();
        assert_eq!(
            check(&a, &b, false).unwrap(),
            "'d/g' is missing from the copy"
        );
        fs::write(b.join("d/g"), "gg").unwrap();
        assert_eq!(
            check(&a, &b, false).unwrap(),
            "'d/g': 1 bytes in the source, 2 in the copy"
        );
        fs::write(b.join("d/g"), "g").unwrap();
        fs::write(b.join("extra"), "").unwrap();
        assert_eq!(
            check(&a, &b, false).unwrap(),
            "the copy has 'extra', which the source has not"
        );
        fs::remove_file(b.join("extra")).unwrap();
        fs::remove_file(b.join("l")).unwrap();
        std::os::unix::fs::symlink("d/g", b.join("l")).unwrap();
        assert_eq!(
            check(&a, &b, false).unwrap(),
            "'l': its copy leads to 'd/g'"
        );
        // The target the copy was to give it.
        let targets = HashMap::from([(PathBuf::from("l"), PathBuf::from("d/g"))]);
        let source = listed(&a);
        assert_eq!(differs(&source, &a, &b, &targets, false).unwrap(), None);
        fs::remove_file(b.join("l")).unwrap();
        fs::write(b.join("l"), "f").unwrap();
        assert_eq!(
            check(&a, &b, false).unwrap(),
            "'l': a link in the source, a file in the copy"
        );
    }

    #[test]
    fn other_bytes_of_the_same_size_are_found_only_with_contents() {
        let (_dir, a, b) = two();
        fs::write(b.join("f"), "dada").unwrap();
        assert_eq!(check(&a, &b, false), None);
        assert_eq!(
            check(&a, &b, true).unwrap(),
            "'f': its copy holds other bytes"
        );
    }

    #[test]
    fn each_change_since_the_listing_is_found_and_said() {
        let (_dir, a, _b) = two();
        let was = listed(&a);
        assert_eq!(changed(&was, &a).unwrap(), None);
        // The same size, written again with another time.
        let f = fs::File::options().write(true).open(a.join("f")).unwrap();
        f.set_modified(std::time::SystemTime::UNIX_EPOCH).unwrap();
        drop(f);
        assert_eq!(changed(&was, &a).unwrap().unwrap(), "'f' was changed");
        let was = listed(&a);
        fs::write(a.join("d/new"), "").unwrap();
        assert_eq!(changed(&was, &a).unwrap().unwrap(), "'d/new' was added");
        fs::remove_file(a.join("d/new")).unwrap();
        fs::remove_file(a.join("d/g")).unwrap();
        assert_eq!(changed(&was, &a).unwrap().unwrap(), "'d/g' was removed");
    }

    /// Looked at again, a directory other than the one listed is never compared, however
    /// alike: here another tree whose files are the very same files (hard links).
    #[test]
    fn another_directory_at_the_path_is_not_compared() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        fs::create_dir_all(a.join("d")).unwrap();
        fs::create_dir_all(b.join("d")).unwrap();
        fs::write(a.join("f"), "data").unwrap();
        fs::write(a.join("d/g"), "g").unwrap();
        fs::hard_link(a.join("f"), b.join("f")).unwrap();
        fs::hard_link(a.join("d/g"), b.join("d/g")).unwrap();
        let was = listed(&a);
        assert_eq!(changed(&was, &a).unwrap(), None);
        let err = changed(&was, &b).unwrap_err();
        assert!(
            err.to_string().contains("replaced by something else"),
            "{err}"
        );
    }
}
