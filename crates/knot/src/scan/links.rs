//! The link scan: the filter that [`ScanBuilder`](super::ScanBuilder) puts on the tree
//! walk (`scan/walk.rs`). It turns the entries the walk meets into link records, as far
//! as the [`Detail`] asks, keeps those the kinds and `broken` ask for, hands directories
//! to the visitor with `report_dirs`, and tells the walk which links lead to directories
//! for `follow`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::walk::{DirEntry, FileId, Filter, Next, Sink};
use super::{Detail, Entry, WalkState};
use crate::error::{Error, ErrorKind, Op, Result};
use crate::image::ImageRoot;
use crate::link::{Flavour, Kind, Link, Status};
use crate::path::parent_dir;
use crate::resolve::resolve_target;
use crate::sys::{At, Dir, FileType, Leads, Meta};
use crate::sys::{Backend as _, Directory as _};

/// What a scan reports, decided once.
#[derive(Clone, Debug)]
pub(crate) struct LinkFilter {
    /// `None`: every link kind but hard links.
    pub(crate) kinds: Option<Vec<Kind>>,
    /// Whether hard links are wanted (a stat of every regular file).
    pub(crate) hardlinks: bool,
    /// Whether any other kind of link is wanted.
    pub(crate) links: bool,
    pub(crate) broken: bool,
    /// Whether the walk follows links: then every link is read, for where it leads.
    pub(crate) follow: bool,
    pub(crate) detail: Detail,
    pub(crate) report_dirs: bool,
    /// Whether every regular file is reported too, as a record of kind [`Kind::File`].
    pub(crate) files: bool,
    /// The image root links are judged in (`--root`), if any.
    pub(crate) image: Option<Arc<InImage>>,
}

/// An image root and the places of the scan's roots inside it.
#[derive(Debug)]
pub(crate) struct InImage {
    pub(crate) root: Arc<ImageRoot>,
    /// Each root of the scan as given, with its path inside the image.
    pub(crate) roots: Vec<(PathBuf, Option<PathBuf>)>,
}

impl InImage {
    /// The path inside the image of the directory that holds the link at `path` (a path
    /// the walk made: a root, then names of real directories), named from the place of
    /// the scan's root it is under, without a system call.
    fn dir_of(&self, path: &Path) -> Result<PathBuf> {
        // Most often the root, a `/` and names, the last the link's: cut as bytes.
        let bytes = path.as_os_str().as_encoded_bytes();
        for (root, place) in &self.roots {
            let root = root.as_os_str().as_encoded_bytes();
            let (Some(rest), Some(place)) = (bytes.strip_prefix(root), place) else {
                continue;
            };
            let Some(rest) = rest.strip_prefix(b"/") else {
                continue;
            };
            let plain = !rest.starts_with(b"/")
                && rest
                    .split(|&b| b == b'/')
                    .all(|part| part != b"." && part != b"..");
            if !plain {
                break;
            }
            let mut at = place.as_os_str().as_encoded_bytes().to_vec();
            if let Some(cut) = rest.iter().rposition(|&b| b == b'/') {
                if !at.ends_with(b"/") {
                    at.push(b'/');
                }
                at.extend_from_slice(&rest[..cut]);
            }
            if let Some(at) = crate::path::os_string(&at) {
                return Ok(PathBuf::from(at));
            }
            break;
        }
        for (root, place) in &self.roots {
            if let (Ok(rest), Some(place)) = (path.strip_prefix(root), place) {
                let at = place.join(rest);
                return Ok(at.parent().map_or_else(|| at.clone(), Path::to_path_buf));
            }
        }
        Err(Error::new(
            Op::Scan,
            path,
            ErrorKind::OutsideRoot {
                root: self.root.host().to_path_buf(),
            },
        ))
    }
}

/// The link scan with an action on each link it finds, taken in [`Filter::visit`], while
/// the directory that lists the link is open: `act` is handed the link's entry named
/// through that directory ([`At`]), and what it returns is what the walk reports.
pub(crate) struct Acting<A> {
    pub(crate) links: LinkFilter,
    pub(crate) act: A,
}

impl<A> std::fmt::Debug for Acting<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acting")
            .field("links", &self.links)
            .finish_non_exhaustive()
    }
}

impl<T, A> Filter for Acting<A>
where
    T: Send,
    A: Fn(At<'_>, Link) -> Option<Result<T>> + Sync,
{
    type Item = T;

    fn visit(&self, entry: &DirEntry<'_>, sink: &mut Sink<'_, '_, T>) -> Next {
        let (dir, name) = entry.dir_and_name();
        let act = |found: Result<Entry>| match found {
            Ok(found) => {
                let link = found.into_link();
                let path = link.path.clone();
                (self.act)(At::new(dir, name, &path), link)
            }
            Err(err) => Some(Err(err)),
        };
        sink.adapt(act, |inner| self.links.visit(entry, inner))
    }
}

/// What the visitor's answer means for the walk of the entry it was given.
fn next_of(state: WalkState, go_on: Next) -> Next {
    match state {
        WalkState::Continue => go_on,
        WalkState::Skip => Next::Skip,
        WalkState::Quit => Next::Quit,
    }
}

impl Filter for LinkFilter {
    type Item = Entry;

    fn visit(&self, entry: &DirEntry<'_>, sink: &mut Sink<'_, '_, Entry>) -> Next {
        let depth = entry.depth();
        match entry.file_type() {
            FileType::Dir if self.report_dirs => {
                let mut link = Link::new(entry.path().to_path_buf(), Kind::Dir);
                link.dir = Some(Flavour::Dir);
                next_of(sink.send(Ok(Entry::new(link, depth))), Next::Descend)
            }
            FileType::Dir => Next::Descend,
            // A root that is a link is reported only when links are asked for: it is not
            // followed (it does not lead to a directory, or it would have been opened).
            FileType::Link if self.links || (self.follow && depth > 0) => self.link(entry, sink),
            FileType::File if self.files => {
                let mut link = Link::new(entry.path().to_path_buf(), Kind::File);
                link.dir = Some(Flavour::File);
                next_of(sink.send(Ok(Entry::new(link, depth))), Next::Skip)
            }
            FileType::File if self.hardlinks => match entry.lstat() {
                Ok(meta) if super::hardlinks::hard_linked(&meta) => {
                    if self.broken {
                        return Next::Skip;
                    }
                    let mut link = Link::new(entry.path().to_path_buf(), Kind::Hardlink);
                    link.dir = Some(Flavour::File);
                    link.nlink = Some(meta.nlink);
                    let entry = Entry {
                        file: Some(FileId::of(&meta)),
                        ..Entry::new(link, depth)
                    };
                    next_of(sink.send(Ok(entry)), Next::Skip)
                }
                Ok(_) => Next::Skip,
                Err(err) => {
                    let err = Error::io(Op::Scan, entry.path(), err);
                    next_of(sink.send(Err(err)), Next::Skip)
                }
            },
            _ => Next::Skip,
        }
    }
}

impl LinkFilter {
    /// Whether hard-link records are held back for their targets (their group's first
    /// name, known once every name is found): where hard links and targets are asked for.
    pub(crate) fn holds_hardlinks(&self) -> bool {
        self.hardlinks && self.detail >= Detail::Target
    }

    fn wants(&self, kind: &Kind) -> bool {
        match &self.kinds {
            None => kind.is_link() && *kind != Kind::Hardlink,
            // `cloud` is every cloud tag (`cloud-1` to `cloud-f` too): what a user asking
            // for cloud placeholders means.
            Some(kinds) => kinds.iter().any(|k| {
                k.name() == kind.name()
                    || (*k == Kind::of_tag(knot_reparse::Tag::CLOUD)
                        && matches!(kind, Kind::Reparse(tag) if tag.tag().is_cloud()))
            }),
        }
    }

    /// Whether a link record passes the kind and `broken` filters.
    fn matches(&self, link: &Link) -> bool {
        self.wants(&link.kind) && (!self.broken || link.status.is_some_and(Status::is_broken))
    }

    /// A link: its record, sent if it matches, and where it leads for `follow`.
    fn link(&self, entry: &DirEntry<'_>, sink: &mut Sink<'_, '_, Entry>) -> Next {
        let (dir, name) = entry.dir_and_name();
        let (link, leads_to_dir) = match self.link_record(dir, name, entry.path().to_path_buf()) {
            Ok(found) => found,
            Err(err) => return next_of(sink.send(Err(err)), Next::Skip),
        };
        let go_on = match leads_to_dir {
            Some(id) if self.follow => Next::Follow(id),
            _ => Next::Skip,
        };
        // A directory that is a reparse point leading nowhere (a cloud placeholder on
        // ntfs-3g) cannot be entered: with `follow`, where a user expects to be taken in,
        // that is said (before its record, if it matches).
        if self.follow
            && let Kind::Reparse(tag) = &link.kind
            && link.dir == Some(Flavour::Dir)
            && link.target.is_none()
        {
            let unopened = ErrorKind::NotEntered { tag: tag.0 };
            if let Next::Quit = next_of(
                sink.send(Err(Error::new(Op::Scan, &link.path, unopened))),
                Next::Skip,
            ) {
                return Next::Quit;
            }
        }
        if !self.matches(&link) {
            return go_on;
        }
        let depth = entry.depth();
        match next_of(sink.send(Ok(Entry::new(link, depth))), go_on) {
            // A visitor's Skip only keeps the link from being followed.
            Next::Quit => Next::Quit,
            Next::Follow(id) => Next::Follow(id),
            _ => Next::Skip,
        }
    }

    /// The record of the link `name` in `dir`, as far as the detail asks, and the identity
    /// of the directory it leads to, if it leads to one (known only where the status was
    /// read).
    fn link_record(
        &self,
        dir: &Dir,
        name: &OsStr,
        path: PathBuf,
    ) -> Result<(Link, Option<FileId>)> {
        let config = self;
        let detail = config.detail;
        let mut link = Link::new(path, Kind::Symlink);
        // `follow` reads every link too: a directory reparse point it cannot enter (a
        // cloud placeholder) is known only by its reparse data.
        let read = detail >= Detail::Target
            || config.kinds.is_some()
            || config.follow
            || (config.image.is_some() && detail >= Detail::Status);
        // Where the system follows the link: `None` once read for a reparse point that
        // leads nowhere (a WOF-compressed or cloud file), which gets no status, or to
        // another Windows drive (ntfs-3g), which is `elsewhere` and never followed.
        let mut leads = None;
        let mut leads_somewhere = true;
        if read {
            let stored = dir
                .read_link_at(name)
                .map_err(|e| Error::io(Op::Scan, &link.path, e))?;
            leads = stored.fill(&mut link);
            leads_somewhere = leads.is_some();
        }
        // A link the system cannot follow where Windows would (ntfs-3g) is judged by the
        // path it stores, from this directory's real path, and is not walked into.
        let base = || {
            dir.real_path_at(OsStr::new("."))
                .or_else(|_| std::path::absolute(parent_dir(&link.path)))
        };
        if let Some(image) = &config.image {
            // Judged inside the image: where the link leads on the host is never looked at.
            if detail >= Detail::Status
                && let Some(Leads { path: target, .. }) = &leads
            {
                let at = image.dir_of(&link.path)?;
                let full = detail >= Detail::Full;
                image.root.fill_in(dir, &mut link, &at, target, full);
            }
            if detail < Detail::Target {
                link.target = None;
                link.relative = None;
            }
            if detail >= Detail::Full {
                link.nlink = dir.stat_at(name, false).ok().map(|m: Meta| m.nlink);
            }
            return Ok((link, None));
        }
        let unfollowed = leads.as_ref().filter(|leads| !leads.followed);
        let mut leads_to_dir = None;
        if leads_somewhere && (detail >= Detail::Status || config.follow) {
            let at = unfollowed.map(|leads| match base() {
                Ok(base) => base.join(&leads.path),
                Err(_) => leads.judged_at(&link.path),
            });
            let meta = match &at {
                Some(at) => crate::sys::Os::stat(at),
                None => dir.stat_at(name, true),
            };
            let at = at.as_deref().unwrap_or(&link.path);
            match meta {
                Ok(meta) => {
                    let is_dir = meta.ty == FileType::Dir;
                    leads_to_dir = (is_dir && unfollowed.is_none()).then(|| FileId::of(&meta));
                    link.status = Some(Status::Ok);
                    if link.dir.is_none() {
                        link.dir = Some(Flavour::of(is_dir));
                    }
                }
                // A system's "loop" may be a chain that is only too long.
                Err(err) => link.status = Some(crate::chain::failed_status(at, &err)),
            }
            if detail < Detail::Status {
                link.dir = None;
            }
        }
        // Only as far as asked: a status from the read (`elsewhere`) goes too.
        if detail < Detail::Status {
            link.status = None;
        }
        if detail >= Detail::Full {
            if link.status == Some(Status::Ok) && unfollowed.is_none() {
                link.resolved = dir.real_path_at(name).ok();
            }
            if link.resolved.is_none()
                && let Some(Leads { path: target, .. }) = &leads
            {
                // As `inspect` resolves it (`path::resolve_target`), each part of the
                // target named from this directory, which is where the kernel starts;
                // from the directory's real path (its own path may run through links),
                // or from the path as scanned where the kernel cannot name the directory
                // (past a page of path).
                link.resolved = base().ok().map(|base| {
                    resolve_target(&base, target, |part| dir.real_path_at(part.as_os_str()))
                });
            }
            link.nlink = dir.stat_at(name, false).ok().map(|m: Meta| m.nlink);
        }
        Ok((link, leads_to_dir))
    }
}
