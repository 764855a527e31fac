//! A unit of work, one directory to open and read, and what jobs share: anchors, the
//! steps down from them, ancestors for loop detection.

use super::*;

/// An open directory that jobs open their directories from. Counted, so the walk can keep
/// the number of open directories bounded.
#[derive(Debug)]
pub(super) struct Anchor {
    pub(super) dir: Dir,
    pub(super) open: Arc<AtomicUsize>,
}

impl Drop for Anchor {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A directory between an anchor and a job's parent, for walking down again.
#[derive(Debug)]
pub(super) struct Step {
    pub(super) up: Option<Arc<Step>>,
    pub(super) name: OsString,
    /// Its (device, inode) when it was read: a reopen must find the same directory.
    pub(super) id: FileId,
    /// It was reached through a link (only with `follow`).
    pub(super) via_link: bool,
    /// How many steps, this one included.
    pub(super) len: usize,
}

/// A directory on the way from the top of the file system to the one being read, for
/// loop detection with `follow`.
#[derive(Debug)]
pub(super) struct Ancestor {
    pub(super) up: Option<Arc<Ancestor>>,
    pub(super) id: FileId,
    /// Its depth below the root, or for the root's own ancestors, their path.
    pub(super) place: Place,
}

#[derive(Debug)]
pub(super) enum Place {
    Depth(usize),
    AboveRoot(PathBuf),
}

/// What every job under one root shares.
#[derive(Debug)]
pub(super) struct Root {
    /// The root's device, for `same_file_system`.
    pub(super) dev: u64,
}

/// One directory to read.
#[derive(Debug)]
pub(super) struct Job {
    /// The path to print: the root joined with the names below it.
    pub(super) path: PathBuf,
    pub(super) depth: usize,
    pub(super) open: How,
}

#[derive(Debug)]
pub(super) enum How {
    /// A root, opened by its path.
    Root,
    /// A directory below a root: `parent` then `steps`, then the job's own name.
    Below {
        anchor: Arc<Anchor>,
        steps: Option<Arc<Step>>,
        root: Arc<Root>,
        /// The directories above the job's one (with `follow` only).
        ancestors: Option<Arc<Ancestor>>,
        /// The job's directory is reached through a link (with `follow` only).
        via_link: bool,
        /// The identity of the directory, when the walk already counts it as walked: a
        /// link's target, claimed at the start of the round that walks it.
        claimed: Option<FileId>,
    },
}

/// A job's directory, open, with what the job brought to it.
pub(super) struct Opened {
    pub(super) dir: Dir,
    pub(super) root: Arc<Root>,
    pub(super) ancestors: Option<Arc<Ancestor>>,
    pub(super) steps: Option<Arc<Step>>,
    /// The anchor it was opened from; `None` for a root.
    pub(super) parent: Option<Arc<Anchor>>,
    pub(super) via_link: bool,
    /// Its identity, once read.
    pub(super) id: Option<FileId>,
    /// The identity the job claimed for it in advance.
    pub(super) claimed: Option<FileId>,
}

/// What the jobs of one directory's subdirectories share.
pub(super) struct Shared {
    pub(super) anchor: Arc<Anchor>,
    pub(super) steps: Option<Arc<Step>>,
    pub(super) root: Arc<Root>,
    pub(super) ancestors: Option<Arc<Ancestor>>,
}

/// The directory being read, for each of its entries.
#[derive(Clone, Copy)]
pub(super) struct Listing<'a> {
    pub(super) dir: &'a Dir,
    pub(super) path: &'a Path,
    pub(super) depth: usize,
}

/// A subdirectory found while reading a directory, made into a job when the read is done.
pub(super) struct Child {
    pub(super) path: PathBuf,
    /// For a link to a directory (with `follow` only): the directory's identity.
    pub(super) via_link: Option<FileId>,
}
