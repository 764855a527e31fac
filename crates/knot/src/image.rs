//! An image root (`--root DIR`): a tree judged by itself, as a chroot into it would see
//! it. An absolute target resolves inside DIR, `..` at DIR stays at DIR, and no link at
//! any depth leads out of DIR, so a link's status and resolved path describe the image,
//! not the host. The resolution walks held directories (`sys/unix/image.rs`).
//!
//! # Platform behavior
//! On Unix only. On Windows, where a root file system image is a Unix tree that knot
//! cannot judge as a chroot would (no chroot, drive letters, junctions that name
//! volumes), [`ImageRoot::open`] refuses with [`ErrorKind::Unsupported`].

use std::path::{Component, Path, PathBuf};

use crate::error::{Error, ErrorKind, Op, Result};
use crate::link::{Flavour, Link, Status};

/// A directory held open as the root of an image (`--root DIR`): links in it are judged as
/// a chroot into it would see them. An absolute target resolves inside the root, `..` at
/// the root stays there, and no link at any depth leads out: each look-up goes through
/// directories held open (on Linux, `openat2` with `RESOLVE_IN_ROOT`).
///
/// # Platform behavior
/// On Unix only: on Windows [`ImageRoot::open`] refuses ([`ErrorKind::Unsupported`]).
#[derive(Debug)]
pub struct ImageRoot {
    #[cfg(unix)]
    inner: crate::sys::image::Image,
    #[cfg(not(unix))]
    host: PathBuf,
}

/// Where a link in an image leads, judged inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Judged {
    pub(crate) status: Status,
    pub(crate) dir: Option<bool>,
    /// The path inside the image.
    pub(crate) resolved: Option<PathBuf>,
}

impl ImageRoot {
    /// Holds the directory `dir` as an image root.
    ///
    /// # Errors
    /// `dir` is no directory or cannot be opened; on Windows, always
    /// ([`ErrorKind::Unsupported`]).
    pub fn open<P: AsRef<Path>>(dir: P) -> Result<ImageRoot> {
        let dir = dir.as_ref();
        #[cfg(unix)]
        {
            let inner = crate::sys::image::Image::open(dir)
                .map_err(|e| crate::diagnose::lookup_error(Op::Scan, dir, e))?;
            Ok(ImageRoot { inner })
        }
        #[cfg(not(unix))]
        {
            let why = "an image root is judged as a Unix chroot would see it, which \
                       Windows cannot do; judge the image from Linux or WSL"
                .to_owned();
            Err(Error::new(Op::Scan, dir, ErrorKind::Unsupported { why }))
        }
    }

    /// The root's canonical path on the host.
    pub fn host(&self) -> &Path {
        #[cfg(unix)]
        return self.inner.host();
        #[cfg(not(unix))]
        return &self.host;
    }

    /// The path inside the image of `path`, a path on the host in the image: its directory
    /// resolved on the host, its last name kept (`rootfs/etc/app.conf` is `/etc/app.conf`).
    ///
    /// # Errors
    /// The path does not exist, or is not inside the root ([`ErrorKind::OutsideRoot`]).
    pub fn locate<P: AsRef<Path>>(&self, path: P) -> Result<PathBuf> {
        let path = path.as_ref();
        if std::fs::canonicalize(path).is_ok_and(|real| real == self.host()) {
            return Ok(PathBuf::from("/"));
        }
        let real = match crate::resolve::entry_of(path) {
            Some((parent, name)) => {
                let parent = if parent.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    parent
                };
                std::fs::canonicalize(parent).map(|p| p.join(name))
            }
            None => std::fs::canonicalize(path),
        }
        .map_err(|e| crate::diagnose::lookup_error(Op::Scan, path, e))?;
        match real.strip_prefix(self.host()) {
            Ok(rest) => Ok(Path::new("/").join(rest)),
            Err(_) => Err(Error::new(
                Op::Scan,
                path,
                ErrorKind::OutsideRoot {
                    root: self.host().to_path_buf(),
                },
            )),
        }
    }

    /// The host path of `image`, a path inside the image.
    pub fn host_path<P: AsRef<Path>>(&self, image: P) -> PathBuf {
        let mut out = self.host().to_path_buf();
        out.extend(
            image
                .as_ref()
                .components()
                .filter(|c| matches!(c, Component::Normal(_))),
        );
        out
    }

    /// Where a link in the image directory `dir` (an image path) that stores `target`
    /// leads; `want_path`: whether the resolved path is wanted, or only the status.
    pub(crate) fn judge(&self, dir: &Path, target: &Path, want_path: bool) -> Judged {
        #[cfg(unix)]
        {
            let path = dir.join(target);
            match self.inner.resolve(&path, want_path) {
                Ok(found) => Judged {
                    status: found.status,
                    dir: found.dir,
                    resolved: found.path,
                },
                Err(err) => Judged {
                    status: <crate::sys::Os as crate::sys::Backend>::classify_resolve_error(&err),
                    dir: None,
                    resolved: None,
                },
            }
        }
        #[cfg(not(unix))]
        {
            let _ = (dir, target, want_path);
            Judged {
                status: Status::Unreadable,
                dir: None,
                resolved: None,
            }
        }
    }

    /// Where a link in the image directory `dir` that stores `text` leads, as an image
    /// path that leads there the same way, for `convert`: as
    /// [`fold_keeping_failures`](crate::resolve::fold_keeping_failures), inside the image
    /// (each `..` taken after the links before it, resolved in the image, and at the root
    /// staying there); `Err` with the part that leads to no directory where a `.` or `..`
    /// follows one, as folding it would make a failing link lead somewhere.
    pub(crate) fn fold(&self, dir: &Path, text: &Path) -> std::result::Result<PathBuf, PathBuf> {
        crate::resolve::fold_through(&dir.join(text), |path, _| {
            let judged = self.judge(path, Path::new("."), true);
            match judged.resolved {
                Some(real) if judged.status == Status::Ok && judged.dir == Some(true) => Some(real),
                _ => None,
            }
        })
    }

    /// The path inside the image of the directory `at` holds, from its real place.
    pub(crate) fn dir_at(&self, at: crate::sys::At<'_>) -> Result<PathBuf> {
        use crate::sys::Directory as _;
        let host = at
            .dir
            .real_dir(crate::path::parent_dir(at.path))
            .map_err(|e| Error::io(Op::Scan, at.path, e))?;
        match host.strip_prefix(self.host()) {
            Ok(rest) => Ok(Path::new("/").join(rest)),
            Err(_) => Err(Error::new(
                Op::Scan,
                at.path,
                ErrorKind::OutsideRoot {
                    root: self.host().to_path_buf(),
                },
            )),
        }
    }

    /// [`ImageRoot::fill`] of the link at `at` (in the directory the walk holds), by the
    /// target its record stores.
    pub(crate) fn fill_at(&self, at: crate::sys::At<'_>, link: &mut Link) -> Result<()> {
        let dir = self.dir_at(at)?;
        if let Some(target) = link.target.clone() {
            link.dir = None;
            self.fill(link, &dir, &target, true);
        }
        Ok(())
    }

    /// Fills in `link`'s status, flavour and resolved paths as judged inside the image,
    /// the link being in the image directory `dir` and storing `target`. `full`: whether
    /// the resolved paths are wanted.
    pub(crate) fn fill(&self, link: &mut Link, dir: &Path, target: &Path, full: bool) {
        let judged = self.judge(dir, target, full);
        self.fill_judged(link, judged, full);
    }

    /// [`ImageRoot::fill`] of a link the walk met in `held`, the directory it holds open
    /// at the image directory `dir`. Where only the status is wanted it is told, where it
    /// can be, without a path walked from the root for each link: a target that is a
    /// name in `held` is looked up there, and one that leads through a directory other
    /// links in `held` lead through, in that directory, opened inside the root once for
    /// them while the walk lists `held`.
    pub(crate) fn fill_in(
        &self,
        held: &crate::sys::Dir,
        link: &mut Link,
        dir: &Path,
        target: &Path,
        full: bool,
    ) {
        #[cfg(unix)]
        if !full && let Some(found) = self.inner.status_in(held, dir, target) {
            let judged = Judged {
                status: found.status,
                dir: found.dir,
                resolved: None,
            };
            return self.fill_judged(link, judged, full);
        }
        #[cfg(not(unix))]
        let _ = held;
        self.fill(link, dir, target, full);
    }

    fn fill_judged(&self, link: &mut Link, judged: Judged, full: bool) {
        link.status = Some(judged.status);
        if link.dir.is_none() {
            link.dir = judged.dir.map(Flavour::of);
        }
        if full {
            link.resolved_host = judged.resolved.as_ref().map(|p| self.host_path(p));
            link.resolved = judged.resolved;
        }
    }
}
