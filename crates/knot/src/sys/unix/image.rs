//! Resolution inside an image root (`--root DIR`), as a chroot into DIR would resolve: an
//! absolute path starts at DIR, `..` at DIR stays there, and no link at any depth leads
//! out. Everything is looked up relative to directories held open, so a directory swapped
//! for a link meanwhile is never followed out of DIR: on Linux by the kernel itself
//! (`openat2` with `RESOLVE_IN_ROOT`, 5.6 and later), elsewhere, and to name where a link
//! that leads nowhere would lead, by knot's own walk one component at a time with the same
//! rules.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::io;
#[cfg(target_os = "linux")]
use std::os::fd::AsFd as _;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Component, Path, PathBuf};
#[cfg(target_os = "linux")]
use std::sync::atomic::{AtomicBool, Ordering};

use rustix::fs::{AtFlags, FileType as RawType, Mode, OFlags};
use rustix::io::Errno;

use crate::link::Status;

/// The most links one resolution follows before it is called a loop (a cycle of links is
/// found sooner, by meeting the same link with the same path still to go).
const MAX_HOPS: usize = 256;
/// The links the kernel follows before it gives up (`ELOOP`): more make a chain too long.
const KERNEL_HOPS: usize = 40;
/// How many times a component that changed between its look-up and its open is tried again.
const RETRIES: usize = 8;

/// How a directory on the way is held: only for looking up names in it where the system
/// can (`O_PATH`, which needs no read permission), else for reading.
#[cfg(any(target_os = "linux", target_os = "android"))]
const HELD: OFlags = OFlags::PATH;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const HELD: OFlags = OFlags::RDONLY;

/// An image root held open.
#[derive(Debug)]
pub(crate) struct Image {
    fd: OwnedFd,
    /// The root's canonical host path.
    host: PathBuf,
    /// Each walking thread's directories that targets lead through ([`Prefixes`]),
    /// closed with the image.
    #[cfg(target_os = "linux")]
    prefixes: std::sync::Mutex<std::collections::HashMap<std::thread::ThreadId, Prefixes>>,
    /// How many directories all the threads' [`Prefixes`] hold open.
    #[cfg(target_os = "linux")]
    held: std::sync::atomic::AtomicUsize,
}

/// Where a path in the image leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) status: Status,
    /// Whether it leads to a directory (known where it leads somewhere).
    pub(crate) dir: Option<bool>,
    /// The path inside the image (`/usr/bin/mawk`): for `ok`, where it leads, links
    /// followed; otherwise as far as it exists resolved, the rest folded, the last name
    /// kept. `None` where only the status was asked for.
    pub(crate) path: Option<PathBuf>,
}

impl Image {
    /// Holds the directory `dir` as an image root.
    pub(crate) fn open(dir: &Path) -> io::Result<Image> {
        let host = std::fs::canonicalize(dir)?;
        let fd = rustix::fs::open(
            &host,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Image {
            fd,
            host,
            #[cfg(target_os = "linux")]
            prefixes: std::sync::Mutex::default(),
            #[cfg(target_os = "linux")]
            held: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// The root's canonical host path.
    pub(crate) fn host(&self) -> &Path {
        &self.host
    }

    /// Where `path`, a path inside the image (absolute from its root, or relative to it),
    /// leads, its last component followed as the system would; `want_path`: whether the
    /// image path is wanted too, or only the status.
    pub(crate) fn resolve(&self, path: &Path, want_path: bool) -> io::Result<Found> {
        #[cfg(target_os = "linux")]
        if let Some(found) = self.resolve_in_kernel(path, want_path) {
            return Ok(found);
        }
        // knot's own walk names the place whether asked or not.
        let _ = want_path;
        self.walk(path)
    }

    /// Where `target`, stored by a link in the directory `held` (the walk's, the image
    /// directory `dir`) leads, status only, where directories held open can tell, with one
    /// `fstatat` a name and no path walked from the root: a target that is one name is
    /// looked up in `held`; one that leads through a directory (`/usr/bin/x`,
    /// `../../lib/x`) in that directory, opened inside the root the second time a link of
    /// this thread's walk leads through it ([`Prefixes`]); and where the name is a link
    /// itself, its target in turn, as long as every directory on the way is held and holds
    /// no link on its own path, so that the links followed are counted as the kernel counts
    /// them. `None` where it cannot tell (a directory met for the first time, a link in
    /// `proc`, whose magic links the kernel does not follow, a chain longer than the
    /// kernel follows, a link found in a directory reached through a link):
    /// [`Image::resolve`] answers then.
    pub(crate) fn status_in(&self, held: &super::Dir, dir: &Path, target: &Path) -> Option<Found> {
        let bytes = target.as_os_str().as_bytes();
        #[cfg(target_os = "linux")]
        {
            let mut taken = None;
            let found = self.follow(&mut taken, held, dir.as_os_str().as_bytes(), bytes);
            if let Some(prefixes) = taken {
                self.lock_prefixes()
                    .insert(std::thread::current().id(), prefixes);
            }
            found
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = dir;
            self.names_in(held, bytes)
        }
    }

    /// [`Image::status_in`] where the system has no `openat2`: a target that is one name,
    /// as a chain of such names leads on, looked up in `held`.
    #[cfg(not(target_os = "linux"))]
    fn names_in(&self, held: &super::Dir, target: &[u8]) -> Option<Found> {
        let fd = held.fd();
        let mut name = one_name(target)?.to_vec();
        let mut hops = 0;
        loop {
            let stat = match rustix::fs::statat(fd, name.as_slice(), AtFlags::SYMLINK_NOFOLLOW) {
                Ok(stat) => stat,
                Err(Errno::NOENT) => return Some(dangling()),
                Err(_) => return None,
            };
            if RawType::from_raw_mode(stat.st_mode) != RawType::Symlink {
                return Some(ok(RawType::from_raw_mode(stat.st_mode)));
            }
            hops += 1;
            if hops > KERNEL_HOPS {
                return None;
            }
            let next = rustix::fs::readlinkat(fd, name.as_slice(), Vec::new()).ok()?;
            name = one_name(next.as_bytes())?.to_vec();
        }
    }

    /// [`Image::status_in`] on Linux: `dir` the image path of `held`, `taken` this thread's
    /// [`Prefixes`] once a directory other than `held` is needed.
    #[cfg(target_os = "linux")]
    fn follow(
        &self,
        taken: &mut Option<Prefixes>,
        held: &super::Dir,
        dir: &[u8],
        target: &[u8],
    ) -> Option<Found> {
        // The image directory the text is read from: a real directory's path, `/` and
        // names, none a link (the walk enters none, and --root does not go with --follow).
        let mut base = dir.to_vec();
        let mut text = target.to_vec();
        let mut hops = 0;
        loop {
            let (key, last) = match text.iter().rposition(|&b| b == b'/') {
                // `/name`: a name in the root.
                Some(0) => (b"/".to_vec(), one_name(&text[1..])?),
                Some(cut) => (joined(&base, &text[..cut]), one_name(&text[cut + 1..])?),
                None => (base.clone(), one_name(&text)?),
            };
            // Where `last` is looked up, and the directory's real image path where no
            // link is on its way (so the links followed from there are counted right).
            let (fd, real, links) = if key == dir {
                (held.fd(), Some(key.clone()), None)
            } else {
                if NO_OPENAT2.load(Ordering::Relaxed) {
                    return None;
                }
                let prefixes = taken.get_or_insert_with(|| {
                    let mut prefixes = self.take_prefixes();
                    prefixes.enter(dir);
                    prefixes
                });
                match prefixes.get(self, &key)? {
                    // After a link, the kernel counts the links on the way to the
                    // directory too, which are known only where there are none.
                    Prefix::Held { real: None, .. } | Prefix::Missing { .. } if hops > 0 => {
                        return None;
                    }
                    Prefix::Held {
                        fd, real, links, ..
                    } => (
                        fd.as_fd(),
                        real.clone(),
                        Some(&links[usize::from(hops > 0)]),
                    ),
                    Prefix::Missing { .. } => return Some(dangling()),
                    Prefix::Once | Prefix::Unknown => return None,
                }
            };
            let looked = look(fd, last, links.is_some_and(|links| links.get() > 0));
            if let Some(links) = links {
                let link = matches!(looked, Ok(Look::Link(_)));
                links.set((links.get() + if link { 1 } else { -1 }).clamp(-2, 2));
            }
            let next = match looked {
                Ok(Look::Link(next)) => next,
                Ok(Look::Other(ty)) => return Some(ok(ty)),
                Err(Errno::NOENT) => return Some(dangling()),
                Err(_) => return None,
            };
            hops += 1;
            // A link in `proc` (asked only now: one `fstatfs` a directory) may be magic.
            let magic = || key == dir && held.fs_type() == PROC_SUPER_MAGIC;
            let Some(real) = real.filter(|_| hops <= KERNEL_HOPS && !magic()) else {
                // Where links lead on through a directory reached through a link, the
                // rest are judged by the whole path at once, not looked up here first.
                if key != dir
                    && let Some(prefixes) = taken
                {
                    prefixes.forget(self, &key);
                }
                return None;
            };
            text = next;
            base = real;
        }
    }

    /// This thread's [`Prefixes`], taken out while used, so that no thread waits on
    /// another's system calls.
    #[cfg(target_os = "linux")]
    fn take_prefixes(&self) -> Prefixes {
        let thread = std::thread::current().id();
        self.lock_prefixes().remove(&thread).unwrap_or_default()
    }

    #[cfg(target_os = "linux")]
    fn lock_prefixes(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<std::thread::ThreadId, Prefixes>> {
        self.prefixes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The directory at the image path `key` (`/` and names, `..` among them only after a
    /// name), opened by the kernel inside the root: where no link is on its way (and it
    /// is not in `proc`), with its real image path; `checked`, the time of opening, as
    /// [`Prefixes::dirs`] counts it.
    #[cfg(target_os = "linux")]
    fn open_prefix(&self, key: &[u8], checked: u64) -> Prefix {
        use rustix::fs::ResolveFlags;
        let rel = match key.iter().position(|&b| b != b'/') {
            Some(start) => &key[start..],
            None => b".".as_slice(),
        };
        let open = |flags| {
            rustix::fs::openat2(
                &self.fd,
                OsStr::from_bytes(rel),
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
                ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS | flags,
            )
        };
        let opened = match open(ResolveFlags::NO_SYMLINKS) {
            Ok(fd) => {
                let proc = rustix::fs::fstatfs(&fd).map_or(true, |fs| {
                    #[allow(
                        clippy::useless_conversion,
                        reason = "f_type is i64 on x86_64 Linux but narrower on other targets"
                    )]
                    let ty = i64::from(fs.f_type);
                    ty == PROC_SUPER_MAGIC
                });
                Ok((fd, (!proc).then(|| normalized(key))))
            }
            // A link on the way: opened again, following it.
            Err(Errno::LOOP) => open(ResolveFlags::empty()).map(|fd| (fd, None)),
            Err(err) => Err(err),
        };
        match opened {
            Ok((fd, real)) => Prefix::Held {
                fd,
                real,
                links: Default::default(),
                checked,
            },
            // As the whole path would fail: a name in it leads nowhere.
            Err(Errno::NOENT | Errno::NOTDIR) => Prefix::Missing { checked },
            Err(Errno::NOSYS | Errno::PERM) => {
                NO_OPENAT2.store(true, Ordering::Relaxed);
                Prefix::Unknown
            }
            Err(_) => Prefix::Unknown,
        }
    }

    /// The kernel's answer, where it leads somewhere and the kernel can say; `None` where
    /// knot's own walk is needed (no `openat2`, a rename raced the look-up, a link that
    /// leads nowhere, whose resolved path and kind of failure knot names itself).
    #[cfg(target_os = "linux")]
    fn resolve_in_kernel(&self, path: &Path, want_path: bool) -> Option<Found> {
        use rustix::fs::ResolveFlags;
        if NO_OPENAT2.load(Ordering::Relaxed) {
            return None;
        }
        let rel = in_root(path);
        let fd = match rustix::fs::openat2(
            &self.fd,
            rel.as_os_str(),
            OFlags::PATH | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
        ) {
            Ok(fd) => fd,
            Err(Errno::NOSYS) | Err(Errno::PERM) => {
                // No openat2 (before Linux 5.6), or a seccomp filter that refuses it.
                NO_OPENAT2.store(true, Ordering::Relaxed);
                return None;
            }
            // Where only the status is asked for, a missing name is all there is to say:
            // as the kernel follows a link, so does a chroot (a loop is told from a chain
            // that is only too long by knot's own walk).
            Err(Errno::NOENT | Errno::NOTDIR) if !want_path => {
                return Some(Found {
                    status: Status::Dangling,
                    dir: None,
                    path: None,
                });
            }
            Err(_) => return None,
        };
        let stat = rustix::fs::fstat(&fd).ok()?;
        let dir = RawType::from_raw_mode(stat.st_mode) == RawType::Directory;
        let path = if want_path {
            let host = std::fs::read_link(super::held::own_path(fd.as_fd())).ok()?;
            // A root renamed meanwhile, or no /proc: knot's own walk names the place.
            Some(Path::new("/").join(host.strip_prefix(&self.host).ok()?))
        } else {
            None
        };
        Some(Found {
            status: Status::Ok,
            dir: Some(dir),
            path,
        })
    }

    /// knot's own walk, one component at a time through held directories.
    fn walk(&self, path: &Path) -> io::Result<Found> {
        let mut walk = Walk {
            image: self,
            held: Vec::new(),
            pending: Vec::new(),
            hops: 0,
            seen: HashSet::new(),
            first_final: None,
        };
        walk.push_front(path);
        walk.run()
    }
}

/// Set once `openat2` is found missing (before Linux 5.6) or refused (seccomp).
#[cfg(target_os = "linux")]
static NO_OPENAT2: AtomicBool = AtomicBool::new(false);

/// The directories the targets of links lead through, met by one walking thread, each by
/// its image path ([`joined`]), opened by the kernel inside the root the second time it is
/// met: a directory many links lead into (`/usr/bin` from `/etc/alternatives`,
/// `/usr/lib/x86_64-linux-gnu`, `/etc/alternatives` from a package's documentation) is
/// walked to once, not once a link. Kept while the walk goes on, at most
/// [`MAX_PREFIXES`] a thread and held open for all threads together (then let go of and
/// met anew), and closed with the image. A directory held is looked at where it is, and
/// opened again at its image path once the thread has moved on to another directory of
/// the walk [`CHECK_EVERY`] times since: one moved out of the image, or swapped for
/// another, is looked in no longer than that (and one found missing is looked for again
/// as often).
#[cfg(target_os = "linux")]
#[derive(Debug, Default)]
struct Prefixes {
    seen: std::collections::HashMap<Vec<u8>, Prefix>,
    /// How many of them are held open.
    held: usize,
    /// How many times the thread has gone on to another directory of the walk.
    dirs: u64,
    /// The directory of the walk the thread is in (its image path).
    dir: Vec<u8>,
}

/// How many directories one walking thread's [`Prefixes`] keeps, and how many the image
/// holds open for all of its threads together (each an open descriptor).
#[cfg(target_os = "linux")]
const MAX_PREFIXES: usize = 256;

/// After how many moves of a walking thread to another directory (among those whose
/// links lead through directories of its [`Prefixes`]) a directory held is opened again
/// at its image path, in place of the one held, and one found missing looked for again:
/// an `openat2`, an `fstatfs` and a `close` for each directory held, every 32 moves (a
/// 200,000-entry image: about 2% more system calls, no stat).
#[cfg(target_os = "linux")]
const CHECK_EVERY: u64 = 32;

#[cfg(target_os = "linux")]
impl Prefixes {
    /// Counts the walk's directory `dir` where it is not the one the thread was in.
    fn enter(&mut self, dir: &[u8]) {
        if self.dir != dir {
            self.dirs += 1;
            self.dir.clear();
            self.dir.extend_from_slice(dir);
        }
    }

    /// The directory `key` as met so far: met for the first time now ([`Prefix::Once`]),
    /// or opened now, met the second time. `None` where it is not opened as the image
    /// holds [`MAX_PREFIXES`] directories already (this thread's let go of first): the
    /// whole path decides.
    fn get(&mut self, image: &Image, key: &[u8]) -> Option<&Prefix> {
        if !self.seen.contains_key(key) && self.seen.len() >= MAX_PREFIXES {
            self.clear(image);
        }
        // Opened [`CHECK_EVERY`] directories ago: opened again now, as when met the second
        // time, to find the directory at its image path now (or none there).
        let stale = match self.seen.get(key) {
            Some(Prefix::Held { checked, .. } | Prefix::Missing { checked }) => {
                self.dirs - *checked >= CHECK_EVERY
            }
            _ => false,
        };
        // What its names lately were ([`look`]), kept for the one opened again.
        let mut carried = None;
        if stale {
            if let Some(Prefix::Held { links, .. }) = self.seen.get(key) {
                carried = Some(links.clone());
            }
            self.forget(image, key);
            self.seen.insert(key.to_vec(), Prefix::Once);
        }
        if matches!(self.seen.get(key), Some(Prefix::Once)) {
            // A place among the directories held taken first, so that no two threads
            // pass the bound together.
            let take = || {
                image
                    .held
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
                        (held < MAX_PREFIXES).then_some(held + 1)
                    })
                    .is_ok()
            };
            if !take() {
                self.clear(image);
                if !take() {
                    return None;
                }
            }
            let mut opened = image.open_prefix(key, self.dirs);
            if let (Prefix::Held { links, .. }, Some(carried)) = (&mut opened, carried) {
                *links = carried;
            }
            if matches!(opened, Prefix::Held { .. }) {
                self.held += 1;
            } else {
                image.held.fetch_sub(1, Ordering::Relaxed);
            }
            self.seen.insert(key.to_vec(), opened);
        }
        Some(self.seen.entry(key.to_vec()).or_insert(Prefix::Once))
    }

    /// Judges each next link through `key` by the whole path.
    fn forget(&mut self, image: &Image, key: &[u8]) {
        if let Some(seen) = self.seen.get_mut(key) {
            if matches!(seen, Prefix::Held { .. }) {
                self.held -= 1;
                image.held.fetch_sub(1, Ordering::Relaxed);
            }
            *seen = Prefix::Unknown;
        }
    }

    /// Lets go of every directory this thread holds.
    fn clear(&mut self, image: &Image) {
        self.seen.clear();
        image.held.fetch_sub(self.held, Ordering::Relaxed);
        self.held = 0;
    }
}

/// A directory targets lead through, as met so far.
#[cfg(target_os = "linux")]
#[derive(Debug)]
enum Prefix {
    /// Met once: the link was judged by the whole path.
    Once,
    /// Opened inside the root (`O_PATH`); `real`, its image path with `..` taken, where
    /// no link is on its way (nor `proc`): a link found in it is followed from there.
    /// `links`: whether the names looked up in it lately were links, first where a
    /// target leads and then where a link in a chain leads ([`look`]).
    /// `checked`: when it was opened at its image path, counted as [`Prefixes::dirs`]
    /// counts.
    Held {
        fd: OwnedFd,
        real: Option<Vec<u8>>,
        links: [std::cell::Cell<i8>; 2],
        checked: u64,
    },
    /// Leads to nothing, or to no directory: a name in it leads nowhere. `checked`: when
    /// it was looked for, as for `Held`.
    Missing { checked: u64 },
    /// The kernel could not say (a loop or a chain too long, a rename raced it), or a link
    /// in it could not be followed from it: each link is judged by the whole path.
    Unknown,
}

/// The image path `text` (a link's target up to its last `/`) leads to from the image
/// directory `base` (`/` and names, none a link): absolute from the root, or `base`
/// joined with it; `.` and empty names dropped, each `..` before the first name taken
/// from `base` (at the root staying there), later ones kept, as the names before them
/// may be links.
#[cfg(target_os = "linux")]
fn joined(base: &[u8], text: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if !text.starts_with(b"/") {
        push_parts(&mut out, base, true);
    }
    push_parts(&mut out, text, false);
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

/// The image path `key` with every `..` taken lexically: where it leads where no name in
/// it is a link.
#[cfg(target_os = "linux")]
fn normalized(key: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    push_parts(&mut out, key, true);
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

/// Puts the names of `path` after `out` (`/name` each; `.` and empty names dropped), a
/// `..` taking the name before it off (at the root staying there) where `always`, else
/// only until a name of `path` is put.
#[cfg(target_os = "linux")]
fn push_parts(out: &mut Vec<u8>, path: &[u8], always: bool) {
    let mut leading = true;
    for part in path.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." if always || leading => {
                let cut = out.iter().rposition(|&b| b == b'/').unwrap_or(0);
                out.truncate(cut);
            }
            part => {
                leading = false;
                out.push(b'/');
                out.extend_from_slice(part);
            }
        }
    }
}

/// The file system of `/proc` (PROC_SUPER_MAGIC), where magic links are.
#[cfg(target_os = "linux")]
const PROC_SUPER_MAGIC: i64 = 0x9fa0;

/// What a name is, looked at without following it.
#[cfg(target_os = "linux")]
enum Look {
    /// A link, storing this target.
    Link(Vec<u8>),
    /// Anything else, of this type.
    Other(RawType),
}

/// What the name `last` of `fd` is: read as a link first where `link_first` (where the
/// names looked up there lately were links: `/etc/alternatives`, a library's `.so`
/// names), one `readlinkat` instead of an `fstatat` and a `readlinkat`; else looked at
/// first, one `fstatat` for anything but a link.
#[cfg(target_os = "linux")]
fn look(fd: std::os::fd::BorrowedFd<'_>, last: &[u8], link_first: bool) -> Result<Look, Errno> {
    if link_first {
        match rustix::fs::readlinkat(fd, last, Vec::new()) {
            Ok(target) => return Ok(Look::Link(target.into_bytes())),
            // Not a link.
            Err(Errno::INVAL) => {}
            Err(err) => return Err(err),
        }
    }
    let stat = rustix::fs::statat(fd, last, AtFlags::SYMLINK_NOFOLLOW)?;
    match RawType::from_raw_mode(stat.st_mode) {
        RawType::Symlink => Ok(Look::Link(
            rustix::fs::readlinkat(fd, last, Vec::new())?.into_bytes(),
        )),
        ty => Ok(Look::Other(ty)),
    }
}

/// A path that leads to a file of type `ty`, where only the status is asked for.
fn ok(ty: RawType) -> Found {
    Found {
        status: Status::Ok,
        dir: Some(ty == RawType::Directory),
        path: None,
    }
}

/// A path that leads nowhere, where only the status is asked for.
fn dangling() -> Found {
    Found {
        status: Status::Dangling,
        dir: None,
        path: None,
    }
}

/// `target` where it is one name in the link's own directory: no `/`, not `.` or `..`.
fn one_name(target: &[u8]) -> Option<&[u8]> {
    match target {
        b"" | b"." | b".." => None,
        name if name.contains(&b'/') => None,
        name => Some(name),
    }
}

/// `path` relative to the root: its root and prefix taken off, and as `Path::components`
/// reads it (no `.`, no `/` at the end), which a plain path already is.
#[cfg(target_os = "linux")]
fn in_root(path: &Path) -> std::borrow::Cow<'_, Path> {
    let bytes = path.as_os_str().as_bytes();
    let start = bytes.iter().position(|&b| b != b'/').unwrap_or(bytes.len());
    let rest = &bytes[start..];
    let plain = !rest.is_empty()
        && !rest.ends_with(b"/")
        && rest.split(|&b| b == b'/').all(|part| part != b".");
    if plain {
        return std::borrow::Cow::Borrowed(Path::new(OsStr::from_bytes(rest)));
    }
    let rel: PathBuf = path
        .components()
        .filter(|c| !matches!(c, Component::RootDir | Component::Prefix(_)))
        .collect();
    if rel.as_os_str().is_empty() {
        std::borrow::Cow::Owned(PathBuf::from("."))
    } else {
        std::borrow::Cow::Owned(rel)
    }
}

/// One component still to resolve.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Part {
    Root,
    Up,
    Name(OsString),
}

struct Walk<'a> {
    image: &'a Image,
    /// The directories walked into below the root, each with its name.
    held: Vec<(OsString, OwnedFd)>,
    /// The components still to resolve, the next one last.
    pending: Vec<Part>,
    hops: usize,
    /// Each link met, by its place, with what was still to resolve after it.
    seen: HashSet<(PathBuf, Vec<Part>)>,
    /// The place of the first link met as the last component: where a loop is reported.
    first_final: Option<PathBuf>,
}

impl Walk<'_> {
    /// Puts the components of `path` in front of those still to resolve.
    fn push_front(&mut self, path: &Path) {
        let parts = path.components().filter_map(|c| match c {
            Component::RootDir | Component::Prefix(_) => Some(Part::Root),
            Component::ParentDir => Some(Part::Up),
            Component::CurDir => None,
            Component::Normal(name) => Some(Part::Name(name.to_owned())),
        });
        let parts: Vec<Part> = parts.collect();
        self.pending.extend(parts.into_iter().rev());
    }

    /// The image path of the directory walked into so far.
    fn here(&self) -> PathBuf {
        let mut out = PathBuf::from("/");
        out.extend(self.held.iter().map(|(name, _)| name));
        out
    }

    /// The image path of `name` in the directory walked into, with the rest folded
    /// lexically (`..` at the root stays there): where a path that leads nowhere would
    /// lead.
    fn folded(&self, name: &OsStr) -> PathBuf {
        let mut out = self.here();
        out.push(name);
        for part in self.pending.iter().rev() {
            match part {
                Part::Root => out = PathBuf::from("/"),
                Part::Up => {
                    out.pop();
                }
                Part::Name(name) => out.push(name),
            }
        }
        out
    }

    fn run(mut self) -> io::Result<Found> {
        let mut retries = 0;
        while let Some(part) = self.pending.pop() {
            let name = match part {
                Part::Root => {
                    self.held.clear();
                    continue;
                }
                Part::Up => {
                    self.held.pop();
                    continue;
                }
                Part::Name(name) => name,
            };
            let at = self.held.last().map_or(&self.image.fd, |(_, fd)| fd);
            let stat = match rustix::fs::statat(at, name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW) {
                Ok(stat) => stat,
                Err(Errno::NOENT) => return Ok(self.ends(Status::Dangling, None, &name)),
                Err(err) => return Err(err.into()),
            };
            let last = self.pending.is_empty();
            match RawType::from_raw_mode(stat.st_mode) {
                RawType::Symlink => {
                    let place = self.here().join(&name);
                    if last && self.first_final.is_none() {
                        self.first_final = Some(place.clone());
                    }
                    self.hops += 1;
                    if self.hops > MAX_HOPS || !self.seen.insert((place, self.pending.clone())) {
                        return Ok(self.ends(Status::Loop, None, &name));
                    }
                    let target = match rustix::fs::readlinkat(at, name.as_os_str(), Vec::new()) {
                        Ok(target) => target,
                        // Replaced meanwhile: looked at again, as what it is now.
                        Err(Errno::INVAL | Errno::NOENT) if retries < RETRIES => {
                            retries += 1;
                            self.hops -= 1;
                            self.pending.push(Part::Name(name));
                            continue;
                        }
                        Err(err) => return Err(err.into()),
                    };
                    let target = OsStr::from_bytes(target.as_bytes());
                    self.push_front(Path::new(target));
                }
                RawType::Directory => {
                    let flags = HELD | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
                    match rustix::fs::openat(at, name.as_os_str(), flags, Mode::empty()) {
                        Ok(fd) => self.held.push((name, fd)),
                        // Swapped for a link or a file, or gone, since the look-up: looked
                        // at again, as what it is now (never followed by the open).
                        Err(Errno::LOOP | Errno::NOTDIR | Errno::NOENT) if retries < RETRIES => {
                            retries += 1;
                            self.pending.push(Part::Name(name));
                        }
                        Err(err) => return Err(err.into()),
                    }
                }
                _ if last => {
                    let mut path = self.here();
                    path.push(&name);
                    return Ok(self.ends(Status::Ok, Some(path), &name));
                }
                // A name after a file: the system fails (ENOTDIR).
                _ => return Ok(self.ends(Status::Dangling, None, &name)),
            }
        }
        let path = self.here();
        Ok(self.ends(Status::Ok, Some(path), OsStr::new("")))
    }

    /// The answer where the walk stops at `name`: `ok` at `path`, or a failure, whose place
    /// is `name` with the rest folded (a loop: the place of the first link met last).
    fn ends(self, status: Status, path: Option<PathBuf>, name: &OsStr) -> Found {
        match status {
            Status::Ok => {
                let dir = name.is_empty();
                let status = if self.hops > KERNEL_HOPS {
                    Status::TooLong
                } else {
                    Status::Ok
                };
                Found {
                    status,
                    dir: Some(dir),
                    path,
                }
            }
            Status::Loop => Found {
                status,
                dir: None,
                path: self.first_final.clone().or_else(|| Some(self.folded(name))),
            },
            _ => Found {
                status,
                dir: None,
                path: Some(self.folded(name)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A small image: `usr/bin/tool`, links in and across it, a `..` chain above the
    /// root, a loop, and a link to `/proc` (which the image lacks).
    fn image() -> (tempfile::TempDir, Image) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("usr/bin")).unwrap();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("usr/bin/tool"), "").unwrap();
        for (link, target) in [
            ("bin", "usr/bin"),
            ("usr/bin/t", "tool"),
            ("a/abs", "/bin/t"),
            ("a/b/up", "../../../../../usr/bin/tool"),
            ("a/b/via", "/bin/../bin/t"),
            ("loop1", "/a/../loop2"),
            ("loop2", "loop1"),
            ("proc-self", "/proc/self"),
            ("proc-loop", "/proc-loop/self"),
            ("a/b/file-dir", "/usr/bin/tool/x"),
        ] {
            symlink(target, root.join(link)).unwrap();
        }
        let image = Image::open(root).unwrap();
        (dir, image)
    }

    fn found(status: Status, dir: Option<bool>, path: &str) -> Found {
        Found {
            status,
            dir,
            path: Some(PathBuf::from(path)),
        }
    }

    /// knot's own walk (what runs where the kernel has no `openat2`) answers as a chroot
    /// would, and as the kernel does where it leads somewhere.
    #[test]
    fn the_walk_resolves_as_a_chroot_would() {
        let (_dir, image) = image();
        let file = Some(false);
        for (path, want) in [
            ("/a/abs", found(Status::Ok, file, "/usr/bin/tool")),
            ("/a/b/up", found(Status::Ok, file, "/usr/bin/tool")),
            ("/a/b/via", found(Status::Ok, file, "/usr/bin/tool")),
            ("/bin", found(Status::Ok, Some(true), "/usr/bin")),
            ("/../../bin/t", found(Status::Ok, file, "/usr/bin/tool")),
            ("/proc-self", found(Status::Dangling, None, "/proc/self")),
            ("/proc-loop", found(Status::Loop, None, "/proc-loop")),
            ("/loop1", found(Status::Loop, None, "/loop1")),
            (
                "/a/b/file-dir",
                found(Status::Dangling, None, "/usr/bin/tool/x"),
            ),
        ] {
            assert_eq!(image.walk(Path::new(path)).unwrap(), want, "{path}");
            let kernel = image.resolve(Path::new(path), true).unwrap();
            assert_eq!(kernel, want, "{path}, as resolved");
        }
    }

    /// Where only the status is asked for, a link's target looked up in the directory the
    /// walk holds ([`Image::status_in`]: a name there, a chain of names, a directory met
    /// before by another link there) answers as the whole path resolved from the root
    /// does; and it answers, for each case it is for (so it is what this test compares).
    #[cfg(target_os = "linux")]
    #[test]
    fn a_status_from_the_held_directory_is_the_whole_paths() {
        let (dir, image) = image();
        let root = dir.path();
        std::fs::create_dir_all(root.join("usr/lib/sub")).unwrap();
        std::fs::write(root.join("usr/lib/x.so.1.2"), "").unwrap();
        for (link, target) in [
            ("usr/lib/x.so.1", "x.so.1.2"),
            ("usr/lib/x.so", "x.so.1"),
            ("usr/lib/cycle-a", "cycle-b"),
            ("usr/lib/cycle-b", "cycle-a"),
            ("usr/lib/sub/up", "../x.so.1.2"),
            ("usr/lib/file", "/usr/bin/tool"),
        ] {
            symlink(target, root.join(link)).unwrap();
        }
        // A chain of names longer than the kernel follows.
        for i in 0..45 {
            symlink(
                format!("long{}", i + 1),
                root.join(format!("usr/lib/long{i}")),
            )
            .unwrap();
        }
        std::fs::write(root.join("usr/lib/long45"), "").unwrap();
        let held = |dir: &str| {
            let fd = rustix::fs::openat(
                &image.fd,
                dir,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .unwrap();
            super::super::Dir::from(fd)
        };
        let status = |status, dir| Found {
            status,
            dir,
            path: None,
        };
        let (ok, file, dangling) = (Status::Ok, Some(false), Status::Dangling);
        std::fs::create_dir_all(root.join("etc/alt")).unwrap();
        symlink("/usr/bin/tool", root.join("etc/alt/tool")).unwrap();
        std::fs::write(root.join("etc/alt/plain"), "").unwrap();
        std::fs::create_dir(root.join("etc/alt/sub")).unwrap();
        symlink("usr/lib", root.join("lib2")).unwrap();
        symlink("usr/lib", root.join("lib3")).unwrap();
        for i in 0..39 {
            let (link, next) = (format!("usr/lib/chain{i}"), format!("chain{}", i + 1));
            symlink(next, root.join(link)).unwrap();
        }
        symlink("/lib3/x.so.1.2", root.join("usr/lib/chain39")).unwrap();
        symlink("/lib3/none", root.join("usr/lib/to-lib3-none")).unwrap();
        // (image directory, target, the answer from the held directories, if any), in
        // order: what a row opens, a later row finds held.
        for (dir, target, fast) in [
            ("/usr/lib", "x.so.1.2", Some(status(ok, file))),
            ("/usr/lib", "x.so", Some(status(ok, file))),
            ("/usr/lib", "sub", Some(status(ok, Some(true)))),
            ("/usr/lib", "missing", Some(status(dangling, None))),
            ("/usr/lib", "cycle-a", None),
            ("/usr/lib", "long0", None),
            ("/usr/lib", "long4", None),
            ("/usr/lib", "long5", Some(status(ok, file))),
            // The link's own directory by another path: held already.
            ("/usr/lib", "/usr/lib/x.so", Some(status(ok, file))),
            ("/usr/lib", "../lib/missing", Some(status(dangling, None))),
            // Another directory: opened the second time it is met.
            ("/usr/lib", "/usr/bin/tool", None),
            ("/usr/lib", "/usr/bin/tool", Some(status(ok, file))),
            // A link there followed from there, no link on the way.
            ("/usr/lib", "/usr/bin/t", Some(status(ok, file))),
            // `..` before the first name taken from the link's directory: the same one.
            (
                "/usr/lib",
                "../../../../usr/bin/tool",
                Some(status(ok, file)),
            ),
            ("/usr/lib", "/bin/tool", None),
            ("/usr/lib", "/bin/tool", Some(status(ok, file))),
            // A link in a directory reached through a link (`bin`): the kernel's count of
            // links is not known there, so the whole path decides, this time and after.
            ("/usr/lib", "/bin/t", None),
            ("/usr/lib", "/bin/t", None),
            ("/usr/lib", "/bin/missing", None),
            ("/usr/lib", "/usr/bin/missing", Some(status(dangling, None))),
            ("/usr/lib", "/bin/../lib/x.so.1.2", None),
            ("/usr/lib", "/bin/../lib/x.so.1.2", Some(status(ok, file))),
            ("/usr/lib", "/nowhere/x", None),
            ("/usr/lib", "/nowhere/y", Some(status(dangling, None))),
            ("/usr/lib", "/usr/bin/tool/x", None),
            ("/usr/lib", "/usr/bin/tool/y", Some(status(dangling, None))),
            ("/usr/lib", "/loop1/x", None),
            ("/usr/lib", "/loop1/y", None),
            ("/usr/lib", "sub/../x.so.1.2", None),
            ("/usr/lib", "sub/../x.so.1.2", Some(status(ok, file))),
            ("/usr/lib", "/usr/bin/", None),
            ("/usr/lib", "/usr/bin/.", None),
            ("/usr/lib", "..", None),
            ("/usr/lib/sub", "../x.so.1.2", None),
            ("/usr/lib/sub", "../x.so.1.2", Some(status(ok, file))),
            // A chain of links in a directory held, counted as the kernel counts it.
            ("/usr/lib/sub", "../x.so", Some(status(ok, file))),
            ("/usr/lib/sub", "../long5", Some(status(ok, file))),
            ("/usr/lib/sub", "../long4", None),
            // Kept from one directory to the next.
            ("/usr/lib/sub", "/usr/bin/tool", Some(status(ok, file))),
            // A link to a link in another directory (`/etc/alternatives`), followed there.
            ("/a/b", "/etc/alt/tool", None),
            ("/a/b", "/etc/alt/tool", Some(status(ok, file))),
            ("/a/b", "../../etc/alt/tool", Some(status(ok, file))),
            // Read as a link first there now: a file, a directory and nothing answer too.
            ("/a/b", "/etc/alt/plain", Some(status(ok, file))),
            ("/a/b", "/etc/alt/tool", Some(status(ok, file))),
            ("/a/b", "/etc/alt/tool", Some(status(ok, file))),
            ("/a/b", "/etc/alt/none", Some(status(dangling, None))),
            ("/a/b", "/etc/alt/tool", Some(status(ok, file))),
            ("/a/b", "/etc/alt/tool", Some(status(ok, file))),
            ("/a/b", "/etc/alt/sub", Some(status(ok, Some(true)))),
            // Through a link (`lib2`), one link more than the chain: too many for the
            // kernel, so not followed here.
            ("/a/b", "/lib2/x.so.1.2", None),
            ("/a/b", "/lib2/long5", None),
            // A name in the root, from another directory.
            ("/usr/lib", "/usr", None),
            ("/usr/lib", "/x.so.1.2", Some(status(dangling, None))),
            ("/usr/lib", "/a", Some(status(ok, Some(true)))),
            // After a chain of 40 links, a directory reached through a link (`lib3`): the
            // kernel would follow one link too many; after one, it would not, but the
            // links on the way are not counted here, so the whole path decides both.
            ("/a/b", "/lib3/x.so.1.2", None),
            ("/a/b", "/lib3/x.so.1.2", Some(status(ok, file))),
            ("/usr/lib", "chain0", None),
            ("/usr/lib", "chain39", None),
            ("/a/b", "/lib3/none", Some(status(dangling, None))),
            ("/usr/lib", "to-lib3-none", None),
        ] {
            let here = held(dir.trim_start_matches('/'));
            let got = image.status_in(&here, Path::new(dir), Path::new(target));
            assert_eq!(got, fast, "{target} in {dir}");
            let whole = image
                .resolve(&Path::new(dir).join(target), false)
                .unwrap_or_else(|_| status(Status::Unreadable, None));
            let whole = Found {
                path: None,
                ..whole
            };
            if let Some(got) = got {
                assert_eq!(got, whole, "{target} in {dir}, as the whole path");
            }
        }
        // A magic link in `proc` (a pipe's descriptor, which reads as `pipe:[N]`, one
        // name) is not followed by its text: the kernel would not follow it at all.
        let (read, _write) = std::io::pipe().unwrap();
        let fds = rustix::fs::open(
            "/proc/self/fd",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .unwrap();
        let fds = super::super::Dir::from(fds);
        let name = std::os::fd::AsRawFd::as_raw_fd(&read).to_string();
        let got = image.status_in(&fds, Path::new("/proc/self/fd"), Path::new(&name));
        assert_eq!(got, None, "a pipe's descriptor in /proc/self/fd");
    }

    /// A target's directory named as the kernel reads it: absolute from the root, or from
    /// the link's directory, `..` before the first name taken there (at the root staying
    /// there), later ones kept; every `..` taken where asked.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_targets_directory_is_named_as_the_kernel_reads_it() {
        for (base, text, want) in [
            ("/usr/lib", "/usr/bin", "/usr/bin"),
            ("/usr/lib", "../bin", "/usr/bin"),
            ("/usr/lib", "../../../../bin", "/bin"),
            ("/usr/lib", "./sub/./x", "/usr/lib/sub/x"),
            ("/usr/lib", "sub/../x", "/usr/lib/sub/../x"),
            ("/usr/lib", "..//..", "/"),
            ("/", "..", "/"),
            ("/", "a//b/", "/a/b"),
        ] {
            assert_eq!(
                joined(base.as_bytes(), text.as_bytes()),
                want.as_bytes(),
                "{text} from {base}"
            );
        }
        assert_eq!(normalized(b"/usr/lib/sub/../x/.."), b"/usr/lib");
        assert_eq!(normalized(b"/../.."), b"/");
    }

    /// A directory held that is moved out of the image, a directory of its own put in its
    /// place, is looked in only until the walk has moved on to another directory
    /// [`CHECK_EVERY`] times: then the one at its image path answers, as the whole path
    /// does; and one found missing then is looked for again as often.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_directory_held_moved_out_of_the_image_is_let_go_of() {
        let (dir, image) = image();
        let root = dir.path();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.join("p/q")).unwrap();
        std::fs::write(root.join("p/q/name"), "").unwrap();
        let held = |dir: &str| {
            let flags = OFlags::PATH | OFlags::DIRECTORY;
            let fd = rustix::fs::openat(&image.fd, dir, flags, Mode::empty());
            super::super::Dir::from(fd.unwrap())
        };
        let (a, b) = (held("a"), held("a/b"));
        let status = |here: &super::super::Dir, dir: &str| {
            let got = image.status_in(here, Path::new(dir), Path::new("/p/q/name"));
            got.map(|found| found.status)
        };
        // The answers of the next CHECK_EVERY links, each in another directory than the
        // one before.
        let rounds = || {
            let each = |round| {
                let (here, dir) = if round % 2 == 0 {
                    (&b, "/a/b")
                } else {
                    (&a, "/a")
                };
                status(here, dir)
            };
            (0..CHECK_EVERY).map(each).collect::<Vec<_>>()
        };
        let held_open = || image.held.load(Ordering::Relaxed);
        // Met twice: held from then on.
        assert_eq!(status(&a, "/a"), None);
        assert_eq!(status(&a, "/a"), Some(Status::Ok));
        assert_eq!(held_open(), 1);
        // Moved out, and an empty directory put at its image path.
        std::fs::rename(root.join("p/q"), outside.path().join("q")).unwrap();
        std::fs::create_dir(root.join("p/q")).unwrap();
        let whole = image.resolve(Path::new("/p/q/name"), false).unwrap();
        assert_eq!(whole.status, Status::Dangling);
        // Looked in where it is until the walk has moved on CHECK_EVERY times since it
        // was opened, then let go of.
        let answers = rounds();
        let stale = answers.iter().filter(|a| **a == Some(Status::Ok)).count();
        assert_eq!(stale, CHECK_EVERY as usize - 1, "{answers:?}");
        assert_eq!(answers.last(), Some(&Some(Status::Dangling)), "{answers:?}");
        assert_eq!(held_open(), 1);
        // The one there now is held in its place: a name put in it is found, and the
        // directory moved out is never looked in again.
        std::fs::write(root.join("p/q/name"), "").unwrap();
        assert_eq!(status(&a, "/a"), Some(Status::Ok));
        std::fs::remove_file(root.join("p/q/name")).unwrap();
        std::fs::write(outside.path().join("q/other"), "").unwrap();
        assert_eq!(status(&b, "/a/b"), Some(Status::Dangling));
        // Gone from the image: found missing at the next check, and let go of.
        std::fs::remove_dir(root.join("p/q")).unwrap();
        let answers = rounds();
        assert_eq!(answers.last(), Some(&Some(Status::Dangling)), "{answers:?}");
        assert_eq!(held_open(), 0);
        // Back again: looked for again at the check after, and held.
        std::fs::create_dir(root.join("p/q")).unwrap();
        std::fs::write(root.join("p/q/name"), "").unwrap();
        let answers = rounds();
        assert_eq!(answers.last(), Some(&Some(Status::Ok)), "{answers:?}");
        assert_eq!(held_open(), 1);
    }

    /// The walking threads together hold no more than [`MAX_PREFIXES`] directories open,
    /// however many their links lead through, and none keeps more than that.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_directories_held_are_bounded() {
        let (dir, image) = image();
        let root = dir.path();
        for i in 0..MAX_PREFIXES + 40 {
            std::fs::create_dir(root.join(format!("d{i}"))).unwrap();
        }
        let threads = 4;
        let most = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    let held = super::super::Dir::from(
                        rustix::fs::openat(
                            &image.fd,
                            "a",
                            OFlags::RDONLY | OFlags::DIRECTORY,
                            Mode::empty(),
                        )
                        .unwrap(),
                    );
                    for i in 0..MAX_PREFIXES + 40 {
                        for _ in 0..2 {
                            let target = format!("/d{i}/x");
                            let got = image.status_in(&held, Path::new("/a"), Path::new(&target));
                            assert!(matches!(
                                got,
                                None | Some(Found {
                                    status: Status::Dangling,
                                    ..
                                })
                            ));
                        }
                        most.fetch_max(image.held.load(Ordering::Relaxed), Ordering::Relaxed);
                    }
                });
            }
        });
        let prefixes = image.lock_prefixes();
        let open = prefixes
            .values()
            .flat_map(|p| p.seen.values())
            .filter(|p| matches!(p, Prefix::Held { .. }))
            .count();
        assert_eq!(open, image.held.load(Ordering::Relaxed));
        assert!(prefixes.values().all(|p| p.seen.len() <= MAX_PREFIXES));
        let most = most.load(Ordering::Relaxed);
        assert!(most >= MAX_PREFIXES - threads, "the bound was met ({most})");
        assert!(most <= MAX_PREFIXES, "{most} directories held");
    }
}
