//! Every name of a file, and every hard-link group of a tree (`knot hardlinks`).
//!
//! [`names`] asks the file system where it can say without a walk: Windows'
//! `FindFirstFileNameW` / `FindNextFileNameW`, btrfs' `BTRFS_IOC_INO_PATHS` (with
//! `CAP_SYS_ADMIN`). Everywhere else, and where those refuse (FAT and some SMB servers
//! answer `ERROR_INVALID_LEVEL`; Wine's `FindFirstFileNameW` is a stub), it walks the
//! directory asked for (by default the root of the file's file system) with a filter over
//! the scan's tree walk: never into another file system (hard links cannot cross one),
//! matching the inode number each directory entry carries (`d_ino`) before any stat,
//! confirming a candidate with `fstatat` (device and inode), and stopping as soon as all
//! `nlink` names are found. FILE's own name is one of them from the start, so the walk
//! cannot stop on names made while it runs and leave FILE out.
//!
//! [`groups`] walks one or more trees once, with a stat of every regular file, and reports
//! each file with more than one name: "saturated" groups (every name inside the trees)
//! first, then "unsaturated" ones, as Link Shell Extension's `ln --enum` does.
//!
//! Both walk each directory once (by device and inode): a bind mount of the same file
//! system inside the tree, or a tree given twice or inside another, shows its names once.
//!
//! A hard-link group is a regular file with more than one name, as `scan --kind hardlink`
//! and `find -type f -links +1` count them: a symlink with several names (which Linux
//! allows) is listed as a symlink, not as a group. `names` of a symlink with several names
//! still lists them, as it was asked for that symlink.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::{Error, ErrorKind, Op, Result};
use crate::scan::hardlinks::{Linked, Member, NameAt, SameFile};
use crate::scan::walk::{FileId, WalkBuilder};
use crate::scan::{Progress, WalkState};
use crate::sys::Backend as _;
use crate::sys::{self, FileType};

/// How [`names`] found the names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Method {
    /// Windows' `FindFirstFileNameW` / `FindNextFileNameW`: no walk.
    FileNames,
    /// btrfs' `BTRFS_IOC_INO_PATHS`: no walk.
    BtrfsInoPaths,
    /// A walk of the directory.
    Walk,
}

impl Method {
    /// The method in a word, for notes.
    pub fn name(self) -> &'static str {
        match self {
            Method::FileNames => "FindFirstFileNameW",
            Method::BtrfsInoPaths => "BTRFS_IOC_INO_PATHS",
            Method::Walk => "walk",
        }
    }
}

/// What [`names`] may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Lookup {
    /// The file system's own answer where it has one, else a walk.
    #[default]
    Auto,
    /// Always a walk.
    Walk,
}

/// Options of [`names`] and [`groups`].
#[derive(Clone, Debug, Default)]
pub struct HardlinksOptions {
    /// Where to look: only names inside this directory are reported. `None`: the root of
    /// the file's file system (for [`names`]; [`groups`] takes its directories).
    pub within: Option<PathBuf>,
    /// How the names are found.
    pub lookup: Lookup,
    /// Threads of a walk; 0 means one per core.
    pub threads: usize,
    /// Counters a walk keeps up to date.
    pub progress: Option<Arc<Progress>>,
}

/// The names of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Names {
    /// The file as asked.
    pub path: PathBuf,
    /// Its link count: how many names it has in all.
    pub nlink: u64,
    /// The names found inside [`Names::within`], sorted.
    pub names: Vec<PathBuf>,
    /// Where they were looked for.
    pub within: PathBuf,
    /// Whether `within` was chosen by knot (the root of the file's file system).
    pub within_default: bool,
    /// How they were found.
    pub method: Method,
    /// Whether the file is a symlink (not followed: these are the symlink's own names).
    pub symlink: bool,
    /// See [`Names::complete`].
    complete: bool,
}

impl Names {
    /// Whether every name was found: the names found, each confirmed to be the file
    /// before and after its link count was read again, are as many as that count. So
    /// they were all names of the file at once, and there was no other; while another
    /// program adds or removes names, it may be false though each lasting name was found.
    pub fn complete(&self) -> bool {
        self.complete
    }

    /// How many names are outside [`Names::within`].
    pub fn outside(&self) -> u64 {
        self.nlink.saturating_sub(self.names.len() as u64)
    }
}

/// The directory of the root of the file system that holds `dir`: its topmost ancestor on
/// the same device (a mount point; on btrfs, the root of a subvolume).
fn file_system_root(dir: &Path, device: u64) -> std::io::Result<PathBuf> {
    let dir = crate::resolve::canonical(dir)?;
    let mut root = dir.clone();
    for ancestor in dir.ancestors().skip(1) {
        match sys::Os::lstat(ancestor) {
            Ok(meta) if meta.id.0 == device => root = ancestor.to_path_buf(),
            _ => break,
        }
    }
    Ok(root)
}

/// Every name of `file` inside [`HardlinksOptions::within`] (default: the root of its file
/// system), without following it if it is a link.
///
/// Errors met by a walk (a directory that cannot be read) go to `report`, and the walk
/// goes on; the names found are returned whatever.
///
/// # Errors
/// `file` cannot be read; it is a directory ([`ErrorKind::IsADirectory`]); it is a
/// symlink with one name ([`ErrorKind::IsASymlink`], with where it leads: symlinks are
/// not followed).
///
/// # Platform behavior
/// See the module: Windows and btrfs answer without a walk where they can.
pub fn names<P: AsRef<Path>>(
    file: P,
    options: &HardlinksOptions,
    report: &mut dyn FnMut(Error),
) -> Result<Names> {
    names_inner(file.as_ref(), options, report)
}

fn names_inner(
    file: &Path,
    options: &HardlinksOptions,
    report: &mut dyn FnMut(Error),
) -> Result<Names> {
    let fail = |e| Error::io(Op::Hardlinks, file, e);
    let meta =
        sys::Os::lstat(file).map_err(|e| crate::diagnose::lookup_error(Op::Hardlinks, file, e))?;
    match meta.ty {
        FileType::Dir => return Err(Error::new(Op::Hardlinks, file, ErrorKind::IsADirectory)),
        FileType::Link if meta.nlink <= 1 => {
            if let Some(tag) = meta.data_tag() {
                let kind = ErrorKind::ReparsePoint {
                    path: file.to_path_buf(),
                    tag,
                };
                return Err(Error::new(Op::Hardlinks, file, kind));
            }
            let leads_to = std::fs::canonicalize(file).ok();
            return Err(Error::new(
                Op::Hardlinks,
                file,
                ErrorKind::IsASymlink { leads_to },
            ));
        }
        _ => {}
    }
    let id = FileId::of(&meta);
    let parent = crate::path::parent_dir(file);
    let (within, within_default) = match &options.within {
        Some(dir) => (dir.clone(), false),
        None => (file_system_root(parent, id.device()).map_err(fail)?, true),
    };
    let mut found = Names {
        path: file.to_path_buf(),
        nlink: meta.nlink,
        names: Vec::new(),
        within,
        within_default,
        method: Method::Walk,
        symlink: meta.ty == FileType::Link,
        complete: false,
    };
    // FILE is a name of itself, wherever the walk would meet it: found first.
    let own = own_name(file, &found.within);
    if options.lookup == Lookup::Auto
        && let Ok(Some(all)) = sys::Os::hard_link_names(file)
    {
        found.method = match sys::Os::NAMES_FROM {
            sys::NamesFrom::FileNames => Method::FileNames,
            sys::NamesFrom::BtrfsInoPaths => Method::BtrfsInoPaths,
            sys::NamesFrom::Nowhere => Method::Walk,
        };
        found.names = inside(&found.within, all);
    } else {
        let within_meta =
            sys::Os::stat(&found.within).map_err(|e| Error::io(Op::Hardlinks, &found.within, e))?;
        // Another file system cannot hold a name of the file.
        if within_meta.id.0 == id.device() {
            let own_at = own.as_ref().map(|(at, _)| at);
            found.names = walk(&found.within, id, meta.nlink, own_at, options, report);
        }
    }
    found.names.extend(own.map(|(_, path)| path));
    found.names.sort();
    found.names.dedup();
    (found.nlink, found.complete) = confirm(file, id, meta.nlink, &mut found.names);
    Ok(found)
}

/// FILE's own name, if it is inside `within`: the directory that lists it and the name
/// there, and its path as a walk of `within` writes it.
fn own_name(file: &Path, within: &Path) -> Option<(NameAt, PathBuf)> {
    let name = file.file_name()?;
    let parent = crate::path::parent_dir(file);
    let dir = sys::Os::stat(parent).ok()?;
    let real = sys::Os::user_path(crate::resolve::canonical(parent).ok()?);
    let path = inside(within, vec![real.join(name)]).pop()?;
    let at = NameAt {
        dir: FileId::of(&dir),
        name: name.to_os_string(),
    };
    Some((at, path))
}

/// Keeps the `names` that are still names of the file `id`, and reads its link count
/// again (through one of them, or `file`; else `nlink` stands): that count, and whether
/// the names are all of them.
///
/// Names found one after another, while another program adds and removes names, may
/// never have existed together: a walk can meet a name that is gone by the time it meets
/// the next. So each is confirmed twice, before and after the count is read. A name
/// confirmed both times (names are not reused in between) was a name at the moment of the
/// count, so when the count equals the names, they were every name then.
fn confirm(file: &Path, id: FileId, nlink: u64, names: &mut Vec<PathBuf>) -> (u64, bool) {
    let is_file = |path: &PathBuf| sys::Os::lstat(path).is_ok_and(|m| FileId::of(&m) == id);
    names.retain(is_file);
    let count = names
        .iter()
        .map(PathBuf::as_path)
        .chain([file])
        .find_map(|path| sys::Os::lstat(path).ok().filter(|m| FileId::of(m) == id))
        .map_or(nlink, |meta| meta.nlink);
    let before = names.len();
    names.retain(is_file);
    (count, names.len() == before && names.len() as u64 == count)
}

/// The names among `all` (absolute, real paths) that are inside `within`, written as
/// `within` joined with the rest, as a walk of `within` writes them.
fn inside(within: &Path, all: Vec<PathBuf>) -> Vec<PathBuf> {
    let Ok(real) = crate::resolve::canonical(within) else {
        return Vec::new();
    };
    let real = sys::Os::user_path(real);
    all.into_iter()
        .filter_map(|name| {
            let rest = name.strip_prefix(&real).ok()?;
            Some(if rest.as_os_str().is_empty() {
                within.to_path_buf()
            } else {
                within.join(rest)
            })
        })
        .collect()
}

/// The names of the file `id` found by a walk of `within`, until `nlink` names are known
/// (`own`, FILE's own name, is one of them and not found again).
fn walk(
    within: &Path,
    id: FileId,
    nlink: u64,
    own: Option<&NameAt>,
    options: &HardlinksOptions,
    report: &mut dyn FnMut(Error),
) -> Vec<PathBuf> {
    let mut builder = WalkBuilder::new(within);
    builder
        .same_file_system(true)
        .once(true)
        .threads(options.threads);
    if let Some(progress) = &options.progress {
        builder.progress(Arc::clone(progress));
    }
    let ino = u64::try_from(id.index())
        .ok()
        .filter(|_| sys::Os::listed_ino_is_st_ino(within));
    let filter = SameFile::new(id, ino);
    let names = Mutex::new(Vec::new());
    let errors = Mutex::new(Vec::new());
    let count = AtomicU64::new(u64::from(own.is_some()));
    builder.run_parallel(filter, &mut || {
        let (names, errors, count) = (&names, &errors, &count);
        Box::new(move |item| match item {
            // FILE itself, under the path the walk reached it by: known already.
            Ok((at, _)) if Some(&at) == own => WalkState::Continue,
            Ok((_, path)) => {
                names
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(path);
                if count.fetch_add(1, Ordering::Relaxed) + 1 >= nlink {
                    WalkState::Quit
                } else {
                    WalkState::Continue
                }
            }
            // A directory removed since its parent was read holds no name any more.
            Err(err) if *err.kind() == ErrorKind::NotFound => WalkState::Continue,
            Err(err) => {
                errors
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(err);
                WalkState::Continue
            }
        })
    });
    for err in errors.into_inner().unwrap_or_else(PoisonError::into_inner) {
        report(err);
    }
    names.into_inner().unwrap_or_else(PoisonError::into_inner)
}

/// One hard-link group: the names of one file found inside a tree.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Group {
    /// The names found, sorted.
    pub names: Vec<PathBuf>,
    /// How many names the file has in all.
    pub nlink: u64,
    /// The file's size in bytes (apparent, as `ls -l` shows it).
    pub size: u64,
}

impl Group {
    /// How many names were found inside the tree.
    pub fn found(&self) -> u64 {
        self.names.len() as u64
    }

    /// Whether every name is inside the tree.
    pub fn saturated(&self) -> bool {
        self.found() >= self.nlink
    }
}

/// Every hard-link group inside `dirs` together, never crossing into another file
/// system: saturated groups (every name inside them) first, then unsaturated ones, each in
/// the order of its first name.
///
/// Each directory is walked once, under the first path that reaches it: a tree given twice
/// or inside another given tree, or reached again through a bind mount, adds no names.
/// Errors met by the walk go to `report`, and the walk goes on.
///
/// # Errors
/// None of its own: an unreadable directory is reported through `report`.
pub fn groups<I>(dirs: I, options: &HardlinksOptions, report: &mut dyn FnMut(Error)) -> Vec<Group>
where
    I: IntoIterator,
    I::Item: AsRef<Path>,
{
    let dirs: Vec<PathBuf> = dirs
        .into_iter()
        .map(|dir| dir.as_ref().to_path_buf())
        .collect();
    groups_inner(&dirs, options, report)
}

fn groups_inner(
    dirs: &[PathBuf],
    options: &HardlinksOptions,
    report: &mut dyn FnMut(Error),
) -> Vec<Group> {
    let Some((first, more)) = dirs.split_first() else {
        return Vec::new();
    };
    let mut builder = WalkBuilder::new(first);
    for dir in more {
        builder.add(dir);
    }
    builder
        .same_file_system(true)
        .once(true)
        .threads(options.threads);
    if let Some(progress) = &options.progress {
        builder.progress(Arc::clone(progress));
    }
    let found = Mutex::new(Vec::new());
    let errors = Mutex::new(Vec::new());
    builder.run_parallel(Linked, &mut || {
        let (found, errors) = (&found, &errors);
        Box::new(move |item| {
            match item {
                Ok(item) => found
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(item),
                Err(err) => errors
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(err),
            }
            WalkState::Continue
        })
    });
    for err in errors.into_inner().unwrap_or_else(PoisonError::into_inner) {
        report(err);
    }
    let mut by_file: HashMap<FileId, Group> = HashMap::new();
    for member in found.into_inner().unwrap_or_else(PoisonError::into_inner) {
        let Member {
            id,
            nlink,
            size,
            path,
        } = member;
        // The size from the walk's own stat of the first name met.
        let group = by_file.entry(id).or_insert(Group {
            names: Vec::new(),
            nlink,
            size,
        });
        group.nlink = group.nlink.max(nlink);
        group.names.push(path);
    }
    let mut groups: Vec<Group> = by_file
        .into_values()
        .map(|mut group| {
            group.names.sort();
            group
        })
        .collect();
    groups.sort_by(|a, b| {
        b.saturated()
            .cmp(&a.saturated())
            .then_with(|| a.names.cmp(&b.names))
    });
    groups
}
