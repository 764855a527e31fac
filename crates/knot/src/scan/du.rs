//! `knot du`: the true size of a tree, every file counted once however many names it has,
//! with items and bytes by kind and the hard-link groups, as Link Shell Extension's
//! `--truesize` and robocopy's summary show them.
//!
//! A filter over the generic tree walk (`scan/walk.rs`), not a second walker: every entry
//! gets one `fstatat` (its own, never following a link), and links one `readlinkat` and
//! one `fstatat` that follows (to tell file from directory symlinks and find broken ones).
//! No link is ever walked into.
//!
//! # What is counted
//!
//! As POSIX and GNU `du` count, so that [`Usage::apparent`] equals `du -s -b DIR` and
//! [`Usage::allocated`] equals `du -s -B1 DIR` on the same tree:
//! - every entry below each root and the root itself, directories included: a directory's
//!   apparent size is its `st_size`, a symlink's the length of its target (its own
//!   `st_size`), never what it leads to;
//! - allocated bytes are `st_blocks` * 512;
//! - a file with more than one name (`st_nlink` > 1, any type but a directory) is counted
//!   once, under the first root (in the order given) where a name of it is found;
//! - a root that is itself a link is counted as the link, not walked through (`du`
//!   without `-L` or `-D`);
//! - file systems are crossed unless [`DuBuilder::same_file_system`] (`du -x`), where a
//!   directory on another file system is neither counted nor walked.
//!
//! # Copied without hard links
//!
//! [`Usage::copied`] counts every name's bytes, a file with several names once per name:
//! what a copy that does not keep hard links would take, and what `du -l -s -b` counts.
//!
//! # Listing down to a depth
//!
//! With [`DuBuilder::depth`], the same walk also sums what is under each entry down to
//! that depth (0: the roots, 1: what they list, ...), into [`DiskUsage::entries`]: only
//! the entries that deep are kept, each entry below them adds to its ancestor at that
//! depth, and the sums are carried up once the walk is done. Each file is counted once,
//! under one name: a file with several names in a root under the name whose path (below
//! the root) sorts first, component by component, so the listing is the same however
//! many threads walk; its other names have no line, as `du -a` prints only the name it
//! counts. A file with names under several roots is counted under the first root, as
//! above.
//!
//! # Platform behavior
//! On Windows sizes come from `GetFileInformationByHandle` and `FileStandardInfo`'s
//! allocation size (`None` where a file system does not answer it); a directory's size is
//! 0; a file's identity is (volume serial, file id), and junctions, mount points and
//! other reparse points are counted by their tag. On Unix the kinds junction and mount
//! point (a reparse point) only appear on NTFS through ntfs-3g; a directory on another
//! file system than the one that lists it is counted as a mount point.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use super::walk::{DirEntry, FileId, Filter, Next, Sink, WalkBuilder};
use super::{Progress, WalkState};
use crate::error::{Error, Op, Result};
use crate::link::Kind;
use crate::sys::{self, FileType, Judge, Meta, Stored};
use crate::sys::{Backend as _, Directory as _};

/// Items and bytes of one kind of entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Count {
    /// Entries (names) of this kind.
    pub items: u64,
    /// Apparent bytes (`st_size`), each file once.
    pub apparent: u64,
    /// Allocated bytes (`st_blocks` * 512), each file once; `None` where the system did
    /// not say for some entry.
    pub allocated: Option<u64>,
}

impl Count {
    fn add_bytes(&mut self, apparent: u64, allocated: Option<u64>) {
        self.apparent += apparent;
        self.allocated = self.allocated.zip(allocated).map(|(a, b)| a + b);
    }

    fn merge(&mut self, other: &Count) {
        self.items += other.items;
        self.add_bytes(other.apparent, other.allocated);
    }

    fn zero() -> Count {
        Count {
            items: 0,
            apparent: 0,
            allocated: Some(0),
        }
    }
}

/// The kinds of entry `du` tells apart, each entry in exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum DuKind {
    /// Regular files with one name.
    File,
    /// Regular files with more than one name: items count the names found, bytes each file
    /// once.
    HardLinked,
    /// Real directories, the roots included; on Unix, not those counted as mount points.
    Dir,
    /// Symbolic links that lead to a file (or anything but a directory).
    FileSymlink,
    /// Symbolic links that lead to a directory.
    DirSymlink,
    /// Junctions that lead somewhere.
    Junction,
    /// Mount points: a junction to a volume on Windows; on Unix, a directory on another
    /// file system than the one that lists it.
    MountPoint,
    /// Links (symbolic links, junctions, mount points) that lead nowhere: dangling, a
    /// loop, a chain too long. Not a link to another Windows drive on an NTFS volume read
    /// through ntfs-3g (`elsewhere`): it is counted by its flavour.
    Broken,
    /// FIFOs, sockets and devices.
    Other,
}

impl DuKind {
    /// Every kind, in the order of the table.
    pub const ALL: [DuKind; 9] = [
        DuKind::File,
        DuKind::HardLinked,
        DuKind::Dir,
        DuKind::FileSymlink,
        DuKind::DirSymlink,
        DuKind::Junction,
        DuKind::MountPoint,
        DuKind::Broken,
        DuKind::Other,
    ];

    /// The key in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            DuKind::File => "files",
            DuKind::HardLinked => "hardlinked_files",
            DuKind::Dir => "dirs",
            DuKind::FileSymlink => "file_symlinks",
            DuKind::DirSymlink => "dir_symlinks",
            DuKind::Junction => "junctions",
            DuKind::MountPoint => "mount_points",
            DuKind::Broken => "broken_links",
            DuKind::Other => "other",
        }
    }
}

/// Where an entry is counted: one of the fixed kinds, or a reparse point of another tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Row {
    Kind(DuKind),
    Reparse(u32),
}

/// Hard-link groups: files with more than one name, found by (device, inode).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Groups {
    /// Files.
    pub groups: u64,
    /// Their names found inside the roots.
    pub names: u64,
    /// Their names outside the roots (`st_nlink` less the names found); 0 when saturated.
    pub outside: u64,
    /// Their apparent bytes, each file once.
    pub apparent: u64,
    /// Their allocated bytes, each file once.
    pub allocated: Option<u64>,
}

/// What `du` found under one root, or under all of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Usage {
    by_kind: BTreeMap<DuKind, Count>,
    reparse: BTreeMap<u32, Count>,
    /// Groups whose every name was found (LSE's "saturated").
    pub saturated: Groups,
    /// Groups with names outside (LSE's "unsaturated").
    pub unsaturated: Groups,
    /// Everything: items and bytes, each file once (`du -s -b` and `du -s -B1`).
    pub total: Count,
    /// The bytes that removing the tree would free: everything but the files with names
    /// outside it.
    pub freed: Count,
    /// Every name's bytes, a file with several names counted once per name: what a copy
    /// that does not keep hard links takes (`du -l -s -b` and `du -l -s -B1`).
    pub copied: Count,
    /// Entries that could not be read (each was reported); their bytes are missing.
    pub errors: u64,
}

impl Default for Usage {
    fn default() -> Usage {
        Usage {
            by_kind: DuKind::ALL.iter().map(|&k| (k, Count::zero())).collect(),
            reparse: BTreeMap::new(),
            saturated: Groups {
                allocated: Some(0),
                ..Groups::default()
            },
            unsaturated: Groups {
                allocated: Some(0),
                ..Groups::default()
            },
            total: Count::zero(),
            freed: Count::zero(),
            copied: Count::zero(),
            errors: 0,
        }
    }
}

impl Usage {
    /// Items and bytes of one kind.
    pub fn kind(&self, kind: DuKind) -> Count {
        self.by_kind.get(&kind).copied().unwrap_or_else(Count::zero)
    }

    /// Reparse points of other tags than symlink and mount point (WOF-compressed, cloud,
    /// deduplicated files, ...), by tag, in tag order.
    pub fn reparse(&self) -> impl Iterator<Item = (u32, Count)> + '_ {
        self.reparse.iter().map(|(&tag, &count)| (tag, count))
    }

    /// Apparent bytes (`du -s -b`).
    pub fn apparent(&self) -> u64 {
        self.total.apparent
    }

    /// Allocated bytes (`du -s -B1`), `None` where the system did not say.
    pub fn allocated(&self) -> Option<u64> {
        self.total.allocated
    }

    fn row(&mut self, row: Row) -> &mut Count {
        match row {
            Row::Kind(kind) => self.by_kind.entry(kind).or_insert_with(Count::zero),
            Row::Reparse(tag) => self.reparse.entry(tag).or_insert_with(Count::zero),
        }
    }

    /// Counts one entry's name, and its bytes if `bytes`.
    fn count(&mut self, row: Row, bytes: Option<(u64, Option<u64>)>) {
        self.row(row).items += 1;
        self.total.items += 1;
        if let Some((apparent, allocated)) = bytes {
            self.row(row).add_bytes(apparent, allocated);
            self.total.add_bytes(apparent, allocated);
        }
    }

    fn merge(&mut self, other: &Usage) {
        for (kind, count) in &other.by_kind {
            self.row(Row::Kind(*kind)).merge(count);
        }
        for (tag, count) in &other.reparse {
            self.row(Row::Reparse(*tag)).merge(count);
        }
        self.total.merge(&other.total);
        self.copied.merge(&other.copied);
        self.errors += other.errors;
    }

    /// What removing the tree frees, once the groups are counted: everything but the
    /// files that have names outside it.
    fn settle(&mut self) {
        self.freed = Count {
            items: self.total.items,
            apparent: self.total.apparent - self.unsaturated.apparent,
            allocated: self
                .total
                .allocated
                .zip(self.unsaturated.allocated)
                .map(|(all, kept)| all - kept),
        };
    }
}

/// What `du` found: each root's usage, and the total over all of them with files shared
/// between roots counted once.
#[derive(Clone, Debug)]
pub struct DiskUsage {
    /// Each root, in the order given, with its usage. With several roots, every entry is
    /// counted once, under the first root it is found under (as `du` counts its
    /// arguments): a root found under an earlier one, or given twice, counts nothing, and
    /// a file with names under two roots is counted under the first.
    pub roots: Vec<(PathBuf, Usage)>,
    /// All roots together.
    pub total: Usage,
    /// With [`DuBuilder::depth`], a line for each entry down to that depth (see the module
    /// docs), largest first: by allocated bytes (apparent where the system did not say),
    /// then apparent bytes, then path. Empty otherwise.
    pub entries: Vec<DuEntry>,
}

/// One entry of the listing [`DuBuilder::depth`] asks for, with everything under it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuEntry {
    /// The root joined with the names below it.
    pub path: PathBuf,
    /// 0 for a root, 1 for what a root lists, and so on.
    pub depth: usize,
    /// It is a real directory (not a link to one).
    pub dir: bool,
    /// The entry and everything under it: names, and bytes with each file counted once.
    pub usage: Count,
}

/// Options of a `du` run.
#[derive(Clone, Debug)]
pub struct DuBuilder {
    roots: Vec<PathBuf>,
    depth: Option<usize>,
    same_file_system: bool,
    threads: usize,
    progress: Option<Arc<Progress>>,
}

impl DuBuilder {
    /// The usage of `root`, crossing file systems, on all cores.
    pub fn new<P: AsRef<Path>>(root: P) -> DuBuilder {
        DuBuilder {
            roots: vec![root.as_ref().to_path_buf()],
            depth: None,
            same_file_system: false,
            threads: 0,
            progress: None,
        }
    }

    /// Adds another root.
    pub fn add<P: AsRef<Path>>(&mut self, root: P) -> &mut DuBuilder {
        self.roots.push(root.as_ref().to_path_buf());
        self
    }

    /// Neither counts nor walks directories on another file system than their root's
    /// (`du -x`). The default crosses them, as `du` does.
    pub fn same_file_system(&mut self, yes: bool) -> &mut DuBuilder {
        self.same_file_system = yes;
        self
    }

    /// Lists every entry down to `depth` below the roots (0: the roots themselves) with
    /// what is under it, in [`DiskUsage::entries`]. Counted in the same walk; only the
    /// entries that deep are kept in memory.
    pub fn depth(&mut self, depth: usize) -> &mut DuBuilder {
        self.depth = Some(depth);
        self
    }

    /// How many threads walk; 0 (the default) means one per core.
    pub fn threads(&mut self, threads: usize) -> &mut DuBuilder {
        self.threads = threads;
        self
    }

    /// Counters to keep up to date while it runs: entries, directories, and bytes
    /// ([`Progress::bytes`]).
    pub fn progress(&mut self, progress: Arc<Progress>) -> &mut DuBuilder {
        self.progress = Some(progress);
        self
    }

    /// Walks every root in turn (each on all threads) and adds up what it finds. Entries
    /// that cannot be read are handed to `errors`, from any thread, as they are met;
    /// the walk goes on, and [`Usage::errors`] counts them.
    pub fn run(&self, errors: &(dyn Fn(Error) + Sync)) -> DiskUsage {
        let mut owners: HashMap<FileId, Group> = HashMap::new();
        let mut roots = Vec::with_capacity(self.roots.len());
        let mut total = Usage::default();
        let mut entries = Vec::new();
        // Roots that overlap (`du t t/sub`, `du t t`) count each entry once, as du does
        // with several arguments; one root needs no such record of every entry.
        let counted = (self.roots.len() > 1).then(|| Mutex::new(HashSet::new()));
        for root in &self.roots {
            let Gathered {
                mut usage,
                groups,
                mut nodes,
                ..
            } = self.walk_root(root, counted.as_ref(), errors);
            // The first name of each file counted under this root, for the listing.
            let mut firsts = HashMap::new();
            // A file with a name under an earlier root is counted there.
            for (id, mut group) in groups {
                if let Some(first) = owners.get_mut(&id) {
                    first.names += group.names;
                    continue;
                }
                usage
                    .row(group.row)
                    .add_bytes(group.apparent, group.allocated);
                usage.total.add_bytes(group.apparent, group.allocated);
                group.tally(&mut usage);
                if let Some((name, key)) = group.first.take() {
                    nodes
                        .entry(key)
                        .or_default()
                        .count
                        .add_bytes(group.apparent, group.allocated);
                    firsts.insert(id, name);
                }
                owners.insert(id, group);
            }
            if self.depth.is_some() {
                entries.extend(listing(root, nodes, &firsts));
            }
            total.merge(&usage);
            roots.push((root.clone(), usage));
        }
        // The total's groups, with the names found under every root.
        for group in owners.values() {
            group.tally(&mut total);
        }
        for (_, usage) in &mut roots {
            usage.settle();
        }
        total.settle();
        entries.sort_by(|a: &DuEntry, b: &DuEntry| {
            let size = |entry: &DuEntry| entry.usage.allocated.unwrap_or(entry.usage.apparent);
            size(b)
                .cmp(&size(a))
                .then(b.usage.apparent.cmp(&a.usage.apparent))
                .then_with(|| a.path.cmp(&b.path))
        });
        DiskUsage {
            roots,
            total,
            entries,
        }
    }

    /// One root: the usage without the hard-linked files' bytes, those files, and the
    /// listing's entries without them.
    fn walk_root(
        &self,
        root: &Path,
        counted: Option<&Mutex<HashSet<FileId>>>,
        errors: &(dyn Fn(Error) + Sync),
    ) -> Gathered {
        let gathered = Mutex::new(Gathered::default());
        // A root that is a link is the link, not what it leads to (du without -L).
        let link_root = sys::Os::lstat(root).is_ok_and(|meta| meta.ty == FileType::Link);
        let mut walk = WalkBuilder::new(root);
        walk.same_file_system(self.same_file_system)
            .threads(if link_root { 1 } else { self.threads });
        if let Some(progress) = &self.progress {
            walk.progress(Arc::clone(progress));
        }
        let filter = DuFilter {
            same_file_system: self.same_file_system,
            counted,
            cut: self.depth.map(|depth| Cut {
                depth,
                root_names: root.components().count(),
            }),
        };
        let progress = self.progress.as_deref();
        let visit = |item: Result<Seen>, tally: &mut Gathered, pending: &mut u64| {
            match item {
                Ok(seen) => tally.add(seen, pending),
                Err(err) => {
                    tally.usage.errors += 1;
                    errors(err);
                }
            }
            if *pending >= 1 << 20
                && let Some(progress) = progress
            {
                progress.add_bytes(std::mem::take(pending));
            }
            WalkState::Continue
        };
        if link_root {
            let mut tally = Gathered::default();
            let mut pending = 0;
            match sys::Os::lstat(root) {
                // Given twice, or found under an earlier root: counted there.
                Ok(meta) if filter.counted_before(&meta) => {}
                Ok(meta) => {
                    let row = link_row(root, &meta);
                    let mut seen = Seen::of(row, &meta);
                    seen.place = filter.cut.as_ref().map(|_| Place::root(&meta));
                    visit(Ok(seen), &mut tally, &mut pending);
                }
                Err(err) => {
                    visit(
                        Err(Error::io(Op::Scan, root, err)),
                        &mut tally,
                        &mut pending,
                    );
                }
            }
            if let Some(progress) = progress {
                progress.add_bytes(pending);
            }
            tally.flush();
            return tally;
        }
        walk.run_parallel(&filter, &mut || {
            let mut local = Local {
                tally: Gathered::default(),
                pending: 0,
                into: &gathered,
                progress,
            };
            let visit = &visit;
            Box::new(move |item| visit(item, &mut local.tally, &mut local.pending))
        });
        let mut gathered = gathered
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        gathered.flush();
        gathered
    }
}

/// The listing of one root, from the entries of the walk (by their path below the root):
/// each one's sum carried up to its parent's, deepest first, and the names that count
/// nothing left out (a file's names but the first).
fn listing(
    root: &Path,
    mut nodes: HashMap<PathBuf, Node>,
    firsts: &HashMap<FileId, PathBuf>,
) -> Vec<DuEntry> {
    let depth = |key: &Path| key.components().count();
    let mut levels: Vec<Vec<PathBuf>> = Vec::new();
    for key in nodes.keys() {
        let d = depth(key);
        if levels.len() <= d {
            levels.resize_with(d + 1, Vec::new);
        }
        levels[d].push(key.clone());
    }
    for d in (1..levels.len()).rev() {
        for key in std::mem::take(&mut levels[d]) {
            let count = nodes[&key].count;
            let parent = key.parent().unwrap_or(Path::new("")).to_path_buf();
            match nodes.entry(parent) {
                Entry::Occupied(mut node) => node.get_mut().count.merge(&count),
                // Not met itself (it always is: the walk went through it); still carried up.
                Entry::Vacant(node) => {
                    levels[d - 1].push(node.key().clone());
                    node.insert(Node {
                        count,
                        ..Node::default()
                    });
                }
            }
        }
    }
    nodes
        .into_iter()
        .filter(|(key, node)| {
            node.listed
                && node
                    .group
                    .is_none_or(|id| firsts.get(&id).is_some_and(|first| first == key))
        })
        .map(|(key, node)| DuEntry {
            depth: depth(&key),
            path: if key.as_os_str().is_empty() {
                root.to_path_buf()
            } else {
                root.join(&key)
            },
            dir: node.dir,
            usage: node.count,
        })
        .collect()
}

/// A file with more than one name, as far as it was found.
#[derive(Clone, Debug)]
struct Group {
    row: Row,
    nlink: u64,
    names: u64,
    apparent: u64,
    allocated: Option<u64>,
    /// With a listing: the name whose path below the root sorts first, and the key of the
    /// line it is counted in.
    first: Option<(PathBuf, PathBuf)>,
}

impl Group {
    /// Takes `name` (counted in the line `key`) as the first name, if it sorts before the
    /// first so far.
    fn offer(&mut self, name: PathBuf, key: PathBuf) {
        if self.first.as_ref().is_none_or(|(first, _)| name < *first) {
            self.first = Some((name, key));
        }
    }

    /// Adds the group to `usage`'s groups, and to what removing the tree frees if every
    /// name of it is inside.
    fn tally(&self, usage: &mut Usage) {
        let saturated = self.names >= self.nlink;
        let groups = if saturated {
            &mut usage.saturated
        } else {
            &mut usage.unsaturated
        };
        groups.groups += 1;
        groups.names += self.names;
        groups.outside += self.nlink.saturating_sub(self.names);
        groups.apparent += self.apparent;
        groups.allocated = groups.allocated.zip(self.allocated).map(|(a, b)| a + b);
    }
}

/// What one thread, or all of them, found under one root.
#[derive(Debug, Default)]
struct Gathered {
    usage: Usage,
    groups: HashMap<FileId, Group>,
    /// With a listing, its lines by the entry's path below the root (empty for the root):
    /// what is under each, without the files of several names.
    nodes: HashMap<PathBuf, Node>,
    /// What entries deeper than the listing added to one line, not yet in `nodes`: a
    /// directory's entries come one after another, and all go to the same line, which is
    /// then looked up once for them all.
    below: Option<(PathBuf, Count)>,
}

/// A line of the listing, as the walk fills it.
#[derive(Debug)]
struct Node {
    /// What was counted in it: itself and, at the deepest depth listed, all below it.
    count: Count,
    /// It is an entry that was met, not only a line it is counted in.
    listed: bool,
    dir: bool,
    /// The file, where it has several names: only the first is listed.
    group: Option<FileId>,
}

impl Default for Node {
    fn default() -> Node {
        Node {
            count: Count::zero(),
            listed: false,
            dir: false,
            group: None,
        }
    }
}

impl Gathered {
    fn add(&mut self, seen: Seen, pending: &mut u64) {
        let Seen {
            row,
            apparent,
            allocated,
            group,
            place,
        } = seen;
        match group {
            Some((id, nlink)) => {
                self.usage.count(row, None);
                let group = self
                    .groups
                    .entry(id)
                    .and_modify(|group| group.names += 1)
                    .or_insert(Group {
                        row,
                        nlink,
                        names: 1,
                        apparent,
                        allocated,
                        first: None,
                    });
                if let Some(Place {
                    key,
                    name: Some(name),
                    ..
                }) = &place
                {
                    group.offer(name.clone(), key.clone());
                }
            }
            None => self.usage.count(row, Some((apparent, allocated))),
        }
        self.usage.copied.items += 1;
        self.usage.copied.add_bytes(apparent, allocated);
        if let Some(Place { key, own, dir, .. }) = place {
            // The name, and its bytes unless its file is counted by its group.
            let mut count = Count::zero();
            count.items = 1;
            if group.is_none() {
                count.add_bytes(apparent, allocated);
            }
            if own {
                let node = self.nodes.entry(key).or_default();
                node.count.merge(&count);
                node.listed = true;
                node.dir = dir;
                node.group = group.map(|(id, _)| id);
            } else {
                self.add_below(key, count);
            }
        }
        *pending += apparent;
    }

    /// Adds `count`, of an entry deeper than the listing, to the line `key`.
    fn add_below(&mut self, key: PathBuf, count: Count) {
        match &mut self.below {
            Some((line, sum)) if line.as_os_str() == key.as_os_str() => sum.merge(&count),
            _ => {
                self.flush();
                self.below = Some((key, count));
            }
        }
    }

    /// Adds what entries deeper than the listing left in [`Gathered::below`] to its line.
    fn flush(&mut self) {
        if let Some((key, count)) = self.below.take() {
            self.nodes.entry(key).or_default().count.merge(&count);
        }
    }

    fn merge(&mut self, mut other: Gathered) {
        other.flush();
        self.flush();
        self.usage.merge(&other.usage);
        for (id, group) in other.groups {
            match self.groups.entry(id) {
                Entry::Occupied(mut mine) => {
                    let mine = mine.get_mut();
                    mine.names += group.names;
                    if let Some((name, key)) = group.first {
                        mine.offer(name, key);
                    }
                }
                Entry::Vacant(slot) => {
                    slot.insert(group);
                }
            }
        }
        for (key, node) in other.nodes {
            match self.nodes.entry(key) {
                Entry::Occupied(mut mine) => {
                    let mine = mine.get_mut();
                    mine.count.merge(&node.count);
                    if node.listed {
                        mine.listed = true;
                        mine.dir = node.dir;
                        mine.group = node.group;
                    }
                }
                Entry::Vacant(slot) => {
                    slot.insert(node);
                }
            }
        }
    }
}

/// One thread's tally, merged into the root's when the thread is done.
struct Local<'a> {
    tally: Gathered,
    pending: u64,
    into: &'a Mutex<Gathered>,
    progress: Option<&'a Progress>,
}

impl Drop for Local<'_> {
    fn drop(&mut self) {
        if let Some(progress) = self.progress {
            progress.add_bytes(self.pending);
        }
        self.into
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .merge(std::mem::take(&mut self.tally));
    }
}

/// One entry, as the filter sends it to its thread's tally.
#[derive(Debug)]
struct Seen {
    row: Row,
    apparent: u64,
    allocated: Option<u64>,
    /// (identity, link count) of anything but a directory with more than one name.
    group: Option<(FileId, u64)>,
    /// With a listing, the line it is counted in.
    place: Option<Place>,
}

impl Seen {
    fn of(row: Row, meta: &Meta) -> Seen {
        Seen {
            row,
            apparent: meta.size,
            allocated: meta.allocated,
            group: grouped(meta).then(|| (FileId::of(meta), meta.nlink)),
            place: None,
        }
    }
}

/// Whether `meta` is a file with more than one name (anything but a directory).
fn grouped(meta: &Meta) -> bool {
    meta.ty != FileType::Dir && meta.nlink > 1
}

/// Where an entry is counted in the listing.
#[derive(Debug)]
struct Place {
    /// The line: the entry's path below the root, cut to the depth listed (empty for the
    /// root).
    key: PathBuf,
    /// The line is the entry's own (it is no deeper than the depth listed).
    own: bool,
    /// For a file of several names, this name's path below the root: the first of them
    /// counts the bytes.
    name: Option<PathBuf>,
    dir: bool,
}

impl Place {
    /// The root's own line.
    fn root(meta: &Meta) -> Place {
        Place {
            key: PathBuf::new(),
            own: true,
            name: grouped(meta).then(PathBuf::new),
            dir: meta.ty == FileType::Dir,
        }
    }
}

/// The depth a listing goes down to, and how many names the root's path has (to find an
/// entry's path below the root from its own).
#[derive(Debug)]
struct Cut {
    depth: usize,
    root_names: usize,
}

impl Cut {
    /// Where `entry` is counted. Its path below the root is never built for an entry
    /// deeper than the listing, but for a file of several names.
    fn place(&self, entry: &DirEntry<'_>, meta: &Meta) -> Place {
        if entry.depth() == 0 {
            return Place::root(meta);
        }
        let below = entry.dir_path().components().skip(self.root_names);
        let (_, name) = entry.dir_and_name();
        let path = || {
            let mut path: PathBuf = below.clone().collect();
            path.push(name);
            path
        };
        let grouped = grouped(meta);
        if entry.depth() <= self.depth {
            let key = path();
            Place {
                name: grouped.then(|| key.clone()),
                key,
                own: true,
                dir: meta.ty == FileType::Dir,
            }
        } else {
            Place {
                key: below.clone().take(self.depth).collect(),
                own: false,
                name: grouped.then(path),
                dir: false,
            }
        }
    }
}

/// Where a link is counted: by what it is and where it leads. Asked by path, for a root.
fn link_row(path: &Path, meta: &Meta) -> Row {
    let stored = sys::Os::read_link(path).ok();
    let to_dir = to_dir_of(
        stored.as_ref(),
        || sys::Os::stat(path),
        |to| sys::Os::stat(&crate::path::resolve_against_link(path, to)),
    );
    row_of_link(meta, stored.map(|stored| stored.kind), to_dir)
}

/// Whether the link that stores `stored` (`None`: unreadable) leads to a directory
/// (`None`: it leads nowhere), by `follow`ing it; where the system cannot follow it as
/// Windows would (ntfs-3g), by a `look` at the path it stores (relative: from its
/// directory). A link to another Windows drive is not judged, so it is never counted
/// broken: it leads to what its flavour says.
fn to_dir_of(
    stored: Option<&Stored>,
    follow: impl FnOnce() -> std::io::Result<Meta>,
    look: impl FnOnce(&Path) -> std::io::Result<Meta>,
) -> Option<bool> {
    let is_dir = |target: Meta| target.ty == FileType::Dir;
    match stored {
        Some(stored) if stored.judge == Judge::Elsewhere => Some(stored.dir == Some(true)),
        Some(Stored {
            judge: Judge::Path,
            leads_to: Some(to),
            ..
        }) => look(to).map(is_dir).ok(),
        _ => follow().map(is_dir).ok(),
    }
}

/// A link's row: `kind` as read (`None`: unreadable), `to_dir` whether it leads to a
/// directory (`None`: it leads nowhere).
fn row_of_link(meta: &Meta, kind: Option<Kind>, to_dir: Option<bool>) -> Row {
    match (kind, to_dir) {
        // A reparse point that holds data, not a name (WOF, cloud, dedup): no link.
        (Some(Kind::Reparse(tag)), _) => Row::Reparse(tag.tag().0),
        _ if !meta.is_link() => Row::Reparse(meta.tag.unwrap_or(0)),
        (_, None) => Row::Kind(DuKind::Broken),
        (Some(Kind::Junction), Some(_)) => Row::Kind(DuKind::Junction),
        (Some(Kind::MountPoint), Some(_)) => Row::Kind(DuKind::MountPoint),
        (_, Some(true)) => Row::Kind(DuKind::DirSymlink),
        (_, Some(false)) => Row::Kind(DuKind::FileSymlink),
    }
}

/// The `du` filter on the tree walk.
#[derive(Debug)]
struct DuFilter<'s> {
    same_file_system: bool,
    /// With several roots, every entry counted so far under any of them (directories, and
    /// everything with one name), by id: met again (`du t t/sub`), it is not counted again,
    /// nor is a directory walked again. A file with several names is counted once by its
    /// group, which also counts its names, and is not kept here.
    counted: Option<&'s Mutex<HashSet<FileId>>>,
    /// With a listing, how deep it goes.
    cut: Option<Cut>,
}

impl DuFilter<'_> {
    /// Whether `meta` was counted already (under this root or an earlier one); marks it
    /// counted otherwise.
    fn counted_before(&self, meta: &Meta) -> bool {
        let Some(counted) = self.counted else {
            return false;
        };
        if meta.ty == FileType::File && meta.nlink > 1 {
            return false;
        }
        let mut counted = counted.lock().unwrap_or_else(PoisonError::into_inner);
        !counted.insert(FileId::of(meta))
    }
}

impl Filter for DuFilter<'_> {
    type Item = Seen;

    fn visit(&self, entry: &DirEntry<'_>, sink: &mut Sink<'_, '_, Seen>) -> Next {
        let (dir, name) = entry.dir_and_name();
        let meta = match dir.usage_at(name) {
            Ok(meta) => meta,
            Err(err) => {
                return match sink.send(Err(Error::io(Op::Scan, entry.path(), err))) {
                    WalkState::Quit => Next::Quit,
                    _ => Next::Skip,
                };
            }
        };
        // A mount point `--xdev` leaves out is not counted here: checked before it is
        // marked counted, so that a root of its own on that file system still is.
        let mount = meta.ty == FileType::Dir
            && entry.depth() > 0
            && dir.meta().is_ok_and(|parent| parent.id.0 != meta.id.0);
        if (mount && self.same_file_system) || self.counted_before(&meta) {
            return Next::Skip;
        }
        let (row, next) = match meta.ty {
            FileType::Dir => {
                // Another file system than the directory that lists it: a mount point.
                let kind = if mount {
                    DuKind::MountPoint
                } else {
                    DuKind::Dir
                };
                (Row::Kind(kind), Next::Descend)
            }
            FileType::File if meta.nlink > 1 => (Row::Kind(DuKind::HardLinked), Next::Skip),
            FileType::File => (Row::Kind(DuKind::File), Next::Skip),
            FileType::Link => {
                let stored = dir.read_link_at(name).ok();
                let to_dir = to_dir_of(
                    stored.as_ref(),
                    || dir.stat_at(name, true),
                    |to| {
                        let base = dir.real_path_at(std::ffi::OsStr::new("."))?;
                        sys::Os::stat(&base.join(to))
                    },
                );
                (
                    row_of_link(&meta, stored.map(|stored| stored.kind), to_dir),
                    Next::Skip,
                )
            }
            FileType::Other => (Row::Kind(DuKind::Other), Next::Skip),
        };
        let mut seen = Seen::of(row, &meta);
        seen.place = self.cut.as_ref().map(|cut| cut.place(entry, &meta));
        match sink.send(Ok(seen)) {
            WalkState::Quit => Next::Quit,
            _ => next,
        }
    }
}
