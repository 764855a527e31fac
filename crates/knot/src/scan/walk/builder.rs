//! The walk's options, as far as the walk itself decides them, and how it is started.

use super::*;

/// The options of a walk, as far as the walk itself decides them.
#[derive(Clone, Debug)]
pub(crate) struct WalkBuilder {
    roots: Vec<PathBuf>,
    follow: bool,
    once: bool,
    same_file_system: bool,
    threads: usize,
    max_open: Option<usize>,
    progress: Option<Arc<Progress>>,
}

impl WalkBuilder {
    /// A walk of `root` that follows no link, on all cores.
    pub(crate) fn new(root: &Path) -> WalkBuilder {
        WalkBuilder {
            roots: vec![root.to_path_buf()],
            follow: false,
            once: false,
            same_file_system: false,
            threads: 0,
            max_open: None,
            progress: None,
        }
    }

    pub(crate) fn add(&mut self, root: &Path) -> &mut WalkBuilder {
        self.roots.push(root.to_path_buf());
        self
    }

    /// Goes into links to directories, walking each directory at most once.
    pub(crate) fn follow(&mut self, yes: bool) -> &mut WalkBuilder {
        self.follow = yes;
        self
    }

    pub(crate) fn follows(&self) -> bool {
        self.follow
    }

    /// Walks each directory at most once, by (device, inode) or (volume serial, file id),
    /// even without [`WalkBuilder::follow`]: a directory with a second path that is no
    /// link (a bind mount of the same file system inside the tree, a hard-linked
    /// directory), or a root given twice or below another root, is read under the first
    /// path that reaches it. `follow` implies it.
    pub(crate) fn once(&mut self, yes: bool) -> &mut WalkBuilder {
        self.once = yes;
        self
    }

    /// Does not go into a directory on another file system than its root's.
    pub(crate) fn same_file_system(&mut self, yes: bool) -> &mut WalkBuilder {
        self.same_file_system = yes;
        self
    }

    /// 0 means one per core.
    pub(crate) fn threads(&mut self, threads: usize) -> &mut WalkBuilder {
        self.threads = threads;
        self
    }

    pub(crate) fn max_open_dirs(&mut self, max: usize) -> &mut WalkBuilder {
        self.max_open = Some(max);
        self
    }

    pub(crate) fn progress(&mut self, progress: Arc<Progress>) -> &mut WalkBuilder {
        self.progress = Some(progress);
        self
    }

    pub(super) fn config(&self) -> Config {
        Config {
            follow: self.follow,
            once: self.follow || self.once,
            same_file_system: self.same_file_system,
            max_open: self
                .max_open
                .unwrap_or_else(crate::sys::Os::max_open_dirs)
                .max(2),
            progress: self.progress.clone(),
        }
    }

    /// The walk as an iterator, depth first, on the calling thread.
    pub(crate) fn build<F: Filter>(&self, filter: F) -> Sequential<F> {
        Sequential::new(Walker::new(self.config(), filter), &self.roots)
    }

    /// Runs the walk on [`WalkBuilder::threads`] threads; `visitor` is called once per
    /// thread for that thread's visitor, which is dropped on its thread when it is done.
    pub(crate) fn run_parallel<'s, F: Filter>(
        &self,
        filter: F,
        visitor: &mut dyn FnMut() -> BoxVisitor<'s, F::Item>,
    ) {
        let threads = match self.threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        run_parallel(
            Walker::new(self.config(), filter),
            &self.roots,
            threads,
            visitor,
        );
    }
}

/// The options, decided once.
#[derive(Clone, Debug)]
pub(super) struct Config {
    pub(super) follow: bool,
    /// Each directory walked once ([`WalkBuilder::once`]; always with `follow`).
    pub(super) once: bool,
    pub(super) same_file_system: bool,
    pub(super) max_open: usize,
    pub(super) progress: Option<Arc<Progress>>,
}

impl Config {
    /// Whether the directory's own (device, inode) is needed.
    pub(super) fn needs_dir_meta(&self) -> bool {
        self.once || self.same_file_system
    }
}
