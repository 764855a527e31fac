//! The shared part of a walk, and the reading of one directory.

use super::*;

/// The shared part of a walk: options, the filter and the count of open anchors.
pub(super) struct Walker<F> {
    pub(super) config: Config,
    pub(super) filter: F,
    pub(super) open: Arc<AtomicUsize>,
    pub(super) quit: AtomicBool,
    /// With `follow` or `once` only: a plain scan keeps no set of directories.
    pub(super) visited: Option<Visited>,
}

impl<F: fmt::Debug> fmt::Debug for Walker<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Walker")
            .field("config", &self.config)
            .field("filter", &self.filter)
            .field("open", &self.open)
            .field("quit", &self.quit)
            .finish_non_exhaustive()
    }
}

pub(super) fn scan_error(path: &Path, err: io::Error) -> Error {
    Error::io(Op::Scan, path, err)
}

/// The error for a root that could not be opened, saying what is wrong with its path: a
/// missing directory on the way, a file in the way, or a slash after a link that leads
/// nowhere.
fn root_error(path: &Path, err: io::Error) -> Error {
    crate::diagnose::lookup_error(Op::Scan, path, err)
}

/// `ELOOP` or `ENOTDIR` from opening a subdirectory without following: it is a link now.
pub(super) fn is_not_a_directory(err: &io::Error) -> bool {
    matches!(sys::Os::classify_resolve_error(err), Status::Loop)
        || err.kind() == io::ErrorKind::NotADirectory
}

/// The error for a directory met again below itself with `follow`.
pub(super) fn loop_error(path: &Path, depth: usize, place: &Place) -> Error {
    let ancestor = match place {
        Place::Depth(d) => nth_parent(path, depth - d).to_path_buf(),
        Place::AboveRoot(p) => p.clone(),
    };
    Error::new(Op::Scan, path, ErrorKind::Loop { ancestor })
}

impl<F: Filter> Walker<F> {
    pub(super) fn new(config: Config, filter: F) -> Walker<F> {
        Walker {
            visited: config.once.then(Visited::default),
            config,
            filter,
            open: Arc::new(AtomicUsize::new(0)),
            quit: AtomicBool::new(false),
        }
    }

    /// The jobs of the next round of a `follow` walk; none when it is over.
    pub(super) fn next_round(&self) -> Vec<Job> {
        match &self.visited {
            Some(visited) if !self.quitting() => visited.next_round(),
            _ => Vec::new(),
        }
    }

    pub(super) fn quitting(&self) -> bool {
        self.quit.load(Ordering::Relaxed)
    }

    pub(super) fn sink<'e, 'v>(&'e self, emit: &'e mut Emit<'v, F::Item>) -> Sink<'e, 'v, F::Item> {
        Sink {
            emit,
            quit: &self.quit,
            found: 0,
        }
    }

    /// Sends one error to the visitor; remembers a `Quit`.
    pub(super) fn fail(&self, emit: &mut Emit<'_, F::Item>, err: Error) -> WalkState {
        self.sink(emit).send(Err(err))
    }

    pub(super) fn anchor(&self, dir: Dir) -> Arc<Anchor> {
        self.open.fetch_add(1, Ordering::Relaxed);
        Arc::new(Anchor {
            dir,
            open: Arc::clone(&self.open),
        })
    }

    /// Opens, checks and reads the job's directory; hands what it lists to the filter and
    /// adds the subdirectories to read to `jobs`.
    pub(super) fn run(
        &self,
        job: Job,
        reader: &mut DirReader,
        emit: &mut Emit<'_, F::Item>,
        jobs: &mut Vec<Job>,
    ) {
        if self.quitting() {
            return;
        }
        let Job { path, depth, open } = job;
        let Some(mut opened) = self.open_job(&path, open, emit) else {
            return;
        };
        if depth > 0 && !self.admit(&path, depth, &mut opened, emit) {
            return;
        }
        let children = self.read(&opened.dir, &path, depth, reader, emit);
        if children.is_empty() || self.quitting() {
            return;
        }
        self.queue_children(&path, depth, opened, children, emit, jobs);
    }

    /// Opens the job's directory: a root by its path, anything else from its anchor.
    pub(super) fn open_job(
        &self,
        path: &Path,
        open: How,
        emit: &mut Emit<'_, F::Item>,
    ) -> Option<Opened> {
        match open {
            How::Root => self.open_root(path, emit),
            How::Below {
                anchor,
                steps,
                root,
                ancestors,
                via_link,
                claimed,
            } => match self.open_below(path, &anchor, steps.as_deref(), via_link) {
                Ok(dir) => Some(Opened {
                    dir,
                    root,
                    ancestors,
                    steps,
                    parent: Some(anchor),
                    via_link,
                    id: None,
                    claimed,
                }),
                Err(err) => {
                    self.fail(emit, err);
                    None
                }
            },
        }
    }

    /// Whether a directory below a root is to be read, where an option needs its own
    /// identity: on the root's file system (`same_file_system`), not a loop (`follow`)
    /// and not walked already (`follow`, `once`).
    pub(super) fn admit(
        &self,
        path: &Path,
        depth: usize,
        opened: &mut Opened,
        emit: &mut Emit<'_, F::Item>,
    ) -> bool {
        if !self.config.needs_dir_meta() {
            return true;
        }
        let id = match opened.dir.meta() {
            Ok(meta) => FileId::of(&meta),
            Err(err) => {
                self.fail(emit, scan_error(path, err));
                return false;
            }
        };
        if self.config.same_file_system && id.device != opened.root.dev {
            return false;
        }
        // A link is followed to the directory it led to when the filter read it: one
        // changed since is not followed to wherever it leads now.
        if let Some(claimed) = opened.claimed
            && claimed != id
        {
            self.fail(
                emit,
                Error::new(Op::Scan, path, ErrorKind::ChangedDuringScan),
            );
            return false;
        }
        if self.config.follow
            && let Some(place) = find_ancestor(opened.ancestors.as_deref(), id)
        {
            self.fail(emit, loop_error(path, depth, place));
            return false;
        }
        // Walked already, by another path: a link's target claimed in an earlier round;
        // with `once`, the same directory reached again without a link (a bind mount, a
        // root met again).
        if let Some(visited) = &self.visited
            && opened.claimed != Some(id)
            && !visited.claim(id)
        {
            return false;
        }
        opened.id = Some(id);
        true
    }

    /// Reads the directory, hands each entry to the filter, and returns the
    /// subdirectories to walk.
    pub(super) fn read(
        &self,
        dir: &Dir,
        path: &Path,
        depth: usize,
        reader: &mut DirReader,
        emit: &mut Emit<'_, F::Item>,
    ) -> Vec<Child> {
        let mut children = Vec::new();
        let mut seen = 0u64;
        let mut sink = self.sink(emit);
        let listing = Listing { dir, path, depth };
        let read = reader.read(dir, |name, ty, ino| {
            seen += 1;
            let next = self.entry(&listing, (name, ty, ino), &mut sink, &mut children);
            if next == Next::Quit || self.quitting() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        if let Some(progress) = &self.config.progress {
            progress.add(seen, sink.found);
        }
        if let Err(err) = read {
            sink.send(Err(scan_error(path, err)));
        }
        children
    }

    /// One entry of a directory being read: its type, asked for where the listing does
    /// not say, then the filter, then what the filter says to walk into.
    pub(super) fn entry(
        &self,
        listing: &Listing<'_>,
        (name, ty, ino): (&OsStr, Option<FileType>, Option<u64>),
        sink: &mut Sink<'_, '_, F::Item>,
        children: &mut Vec<Child>,
    ) -> Next {
        let Listing {
            dir,
            path: dir_path,
            depth,
        } = *listing;
        let depth = depth + 1;
        let (ty, meta) = match ty {
            Some(ty) => (ty, None),
            // DT_UNKNOWN: the file system does not say; ask.
            None => match dir.stat_at(name, false) {
                Ok(meta) => (meta.ty, Some(meta)),
                Err(err) => {
                    return match sink.send(Err(scan_error(&dir_path.join(name), err))) {
                        WalkState::Quit => Next::Quit,
                        _ => Next::Skip,
                    };
                }
            },
        };
        let entry = DirEntry {
            dir,
            at: name,
            dir_path,
            own_path: None,
            path: OnceCell::new(),
            ty,
            depth,
            meta,
            ino,
        };
        let next = self.filter.visit(&entry, sink);
        match next {
            Next::Descend if ty == FileType::Dir => children.push(Child {
                path: entry.into_path(),
                via_link: None,
            }),
            Next::Follow(id) if self.config.follow && ty == FileType::Link => {
                children.push(Child {
                    path: entry.into_path(),
                    via_link: Some(id),
                });
            }
            _ => {}
        }
        next
    }

    /// What the children of a directory share: where they open from (this directory
    /// while the budget of open directories allows, else its nearest kept ancestor and
    /// the steps down), and with `follow`, the directories above them.
    pub(super) fn shared(
        &self,
        path: &Path,
        depth: usize,
        opened: Opened,
        emit: &mut Emit<'_, F::Item>,
    ) -> Option<Shared> {
        let Opened {
            dir,
            root,
            ancestors,
            steps,
            parent,
            via_link,
            id,
            claimed: _,
        } = opened;
        // Where the children open from: this directory, while the budget allows.
        let open = self.open.load(Ordering::Relaxed);
        let spaced = steps.as_ref().map_or(0, |s| s.len) >= STEP_SPACING;
        let keep = parent.is_none()
            || open < self.config.max_open / 2
            || (open < self.config.max_open && spaced);
        // The directory's identity: an ancestor for --follow, and how to know it again
        // when it is reopened later (a step).
        let id = match id {
            None if self.config.follow || !keep => match dir.meta() {
                Ok(meta) => Some(FileId::of(&meta)),
                Err(err) => {
                    self.fail(emit, scan_error(path, err));
                    return None;
                }
            },
            id => id,
        };
        let ancestors = match id {
            Some(id) if self.config.follow => Some(Arc::new(Ancestor {
                up: ancestors,
                id,
                place: Place::Depth(depth),
            })),
            _ => None,
        };
        let (anchor, steps) = if keep {
            (self.anchor(dir), None)
        } else {
            // Read just above whenever the directory is not kept.
            let id = id?;
            drop(dir);
            let name = path.file_name()?;
            let len = steps.as_ref().map_or(0, |s| s.len) + 1;
            let step = Step {
                up: steps,
                name: name.to_os_string(),
                id,
                via_link,
                len,
            };
            (parent?, Some(Arc::new(step)))
        };
        Some(Shared {
            anchor,
            steps,
            root,
            ancestors,
        })
    }

    /// Makes jobs of the subdirectories found; with `follow`, a link back up is a loop,
    /// reported here.
    pub(super) fn queue_children(
        &self,
        path: &Path,
        depth: usize,
        opened: Opened,
        children: Vec<Child>,
        emit: &mut Emit<'_, F::Item>,
        jobs: &mut Vec<Job>,
    ) {
        let Some(Shared {
            anchor,
            steps,
            root,
            ancestors,
        }) = self.shared(path, depth, opened, emit)
        else {
            return;
        };
        let mut next_round = Vec::new();
        for child in children.into_iter().rev() {
            // A link back to this directory or one above: a loop, reported here once
            // (each directory is read once, so each link is met once).
            if let Some(target) = child.via_link
                && let Some(place) = find_ancestor(ancestors.as_deref(), target)
            {
                let err = loop_error(&child.path, depth + 1, place);
                if self.fail(emit, err) == WalkState::Quit {
                    return;
                }
                continue;
            }
            let job = Job {
                path: child.path,
                depth: depth + 1,
                open: How::Below {
                    anchor: Arc::clone(&anchor),
                    steps: steps.clone(),
                    root: Arc::clone(&root),
                    ancestors: ancestors.clone(),
                    via_link: child.via_link.is_some(),
                    claimed: child.via_link,
                },
            };
            match child.via_link {
                // Entered in the next round, if no other path claims it first.
                Some(_) => next_round.push(job),
                None => jobs.push(job),
            }
        }
        if let Some(visited) = &self.visited {
            visited.defer(&mut next_round);
        }
    }

    /// Opens a root, and shows it to the filter before it is read. A root that is not a
    /// directory (a file, or a link to a file or to nothing) is shown to the filter as
    /// it is, and not read.
    pub(super) fn open_root(&self, path: &Path, emit: &mut Emit<'_, F::Item>) -> Option<Opened> {
        let dir = match Dir::open(path) {
            Ok(dir) => dir,
            Err(err) => {
                if let Err(err) = self.root_entry(path, err, emit) {
                    self.fail(emit, err);
                }
                return None;
            }
        };
        let entry = DirEntry {
            dir: &dir,
            at: OsStr::new("."),
            dir_path: path,
            own_path: Some(path),
            path: OnceCell::new(),
            ty: FileType::Dir,
            depth: 0,
            meta: None,
            ino: None,
        };
        if self.filter.visit(&entry, &mut self.sink(emit)) != Next::Descend || self.quitting() {
            return None;
        }
        let meta = if self.config.needs_dir_meta() {
            match dir.meta() {
                Ok(meta) => Some(meta),
                Err(err) => {
                    self.fail(emit, scan_error(path, err));
                    return None;
                }
            }
        } else {
            None
        };
        let id = meta.map(|meta| FileId::of(&meta));
        let ancestors = match (id, self.config.follow) {
            (Some(id), true) => root_ancestors(&dir, path, id),
            _ => None,
        };
        let root = Arc::new(Root {
            dev: id.map_or(0, |id| id.device),
        });
        Some(Opened {
            dir,
            root,
            ancestors,
            steps: None,
            parent: None,
            via_link: false,
            id,
            claimed: None,
        })
    }

    /// A root that could not be opened as a directory: shown to the filter if it is a
    /// link, a file or a special file (a FIFO, a device), else the error. A root that ends
    /// in a slash (`l/`) names what its link leads to: where that is no directory, the
    /// error, never the link.
    pub(super) fn root_entry(
        &self,
        path: &Path,
        open_err: io::Error,
        emit: &mut Emit<'_, F::Item>,
    ) -> Result<()> {
        let not_a_dir = is_not_a_directory(&open_err) || open_err.kind() == io::ErrorKind::NotFound;
        let Some(name) = path
            .file_name()
            .filter(|_| not_a_dir && !crate::path::ends_in_separator(path))
        else {
            return Err(root_error(path, open_err));
        };
        let Ok(dir) = Dir::open(crate::path::parent_dir(path)) else {
            return Err(root_error(path, open_err));
        };
        let Ok(meta) = dir.stat_at(name, false) else {
            return Err(root_error(path, open_err));
        };
        if meta.ty == FileType::Dir {
            return Err(root_error(path, open_err));
        }
        let entry = DirEntry {
            dir: &dir,
            at: name,
            dir_path: path,
            own_path: Some(path),
            path: OnceCell::new(),
            ty: meta.ty,
            depth: 0,
            meta: Some(meta),
            ino: None,
        };
        self.filter.visit(&entry, &mut self.sink(emit));
        Ok(())
    }

    /// Opens a job's directory from its anchor, walking down the recorded steps first.
    pub(super) fn open_below(
        &self,
        path: &Path,
        anchor: &Anchor,
        steps: Option<&Step>,
        via_link: bool,
    ) -> Result<Dir> {
        let Some(name) = path.file_name() else {
            return Err(Error::new(Op::Scan, path, ErrorKind::ChangedDuringScan));
        };
        let changed = || Error::new(Op::Scan, path, ErrorKind::ChangedDuringScan);
        let open = |from: &Dir, name: &OsStr, follow: bool| {
            from.open_at(name, follow).map_err(|err| {
                if !follow && is_not_a_directory(&err) {
                    changed()
                } else {
                    scan_error(path, err)
                }
            })
        };
        let Some(last) = steps else {
            return open(&anchor.dir, name, via_link);
        };
        let mut chain = Vec::with_capacity(last.len);
        let mut step = Some(last);
        while let Some(s) = step {
            chain.push(s);
            step = s.up.as_deref();
        }
        let mut here: Option<Dir> = None;
        for s in chain.into_iter().rev() {
            let from = here.as_ref().unwrap_or(&anchor.dir);
            let next = open(from, &s.name, s.via_link)?;
            let id = next.meta().map_err(|e| scan_error(path, e))?;
            if FileId::of(&id) != s.id {
                return Err(changed());
            }
            here = Some(next);
        }
        let from = here.as_ref().unwrap_or(&anchor.dir);
        open(from, name, via_link)
    }
}

/// `path` without its last `n` names.
pub(super) fn nth_parent(path: &Path, n: usize) -> &Path {
    let mut p = path;
    for _ in 0..n {
        match p.parent() {
            Some(parent) => p = parent,
            None => break,
        }
    }
    p
}

pub(super) fn find_ancestor(mut ancestor: Option<&Ancestor>, id: FileId) -> Option<&Place> {
    while let Some(a) = ancestor {
        if a.id == id {
            return Some(&a.place);
        }
        ancestor = a.up.as_deref();
    }
    None
}

/// Every directory above the root up to `/`, by (device, inode): with `follow`, a link to
/// any of them would scan the root again.
pub(super) fn root_ancestors(dir: &Dir, path: &Path, id: FileId) -> Option<Arc<Ancestor>> {
    // The root's own real path names its ancestors in messages.
    let real = crate::resolve::canonical(path).unwrap_or_else(|_| path.to_path_buf());
    let mut above = Vec::new();
    let mut current: Option<Dir> = None;
    let mut last = id;
    let mut real_above = real.as_path();
    loop {
        let from = current.as_ref().unwrap_or(dir);
        let Ok(parent) = from.parent() else { break };
        let Ok(meta) = parent.meta() else { break };
        let id = FileId::of(&meta);
        if id == last {
            break; // `/..` is `/`
        }
        real_above = real_above.parent().unwrap_or(real_above);
        above.push((id, real_above.to_path_buf()));
        last = id;
        current = Some(parent);
    }
    let mut chain: Option<Arc<Ancestor>> = None;
    for (id, path) in above.into_iter().rev() {
        chain = Some(Arc::new(Ancestor {
            up: chain,
            id,
            place: Place::AboveRoot(path),
        }));
    }
    chain
}

/// One job per root; a directory named twice (or by two paths without links) is scanned
/// once. A root that is a link is scanned through it, under its own name, as asked; but
/// with `follow` or `once`, which walk each directory once, only the first root that
/// names a directory walks it, and every root claims its directory before the walk starts (so a
/// root below another is walked as itself, not as part of the other).
pub(super) fn root_jobs<F: Filter>(roots: &[PathBuf], walker: &Walker<F>) -> Vec<Job> {
    let mut seen = HashSet::new();
    let unique: Vec<&PathBuf> = roots
        .iter()
        .filter(|root| {
            let through_link = walker.visited.is_none()
                && sys::Os::lstat(root).is_ok_and(|m| m.ty == FileType::Link);
            through_link || sys::Os::stat(root).map_or(true, |meta| seen.insert(FileId::of(&meta)))
        })
        .collect();
    if let Some(visited) = &walker.visited {
        visited.lock_walked().extend(seen);
    }
    unique
        .into_iter()
        .rev()
        .map(|root| Job {
            path: root.clone(),
            depth: 0,
            open: How::Root,
        })
        .collect()
}
