//! Removing and replacing links by their parent directory's descriptor and their name, so
//! that nothing but a link is ever removed or overwritten, even while other programs change
//! the directory (DESIGN.md promises 1, 2 and 9), and however long the path is (promise 5).
//!
//! Unix has no call that removes or replaces an entry only if it is a link, so every step
//! that could lose a file is made one that cannot:
//!
//! - **rm** checks that the entry is a link, then moves it aside to a fresh hidden name
//!   (`renameat2(RENAME_NOREPLACE)`), checks again what it moved, and removes it only if
//!   it is a link; anything else is put back at once, without overwriting. A non-link is
//!   moved only if it took the link's place between the check and the move.
//! - **--force** checks that the entry is a link and swaps the new link in
//!   (`renameat2(RENAME_EXCHANGE)`), so readers always find a link there; what was swapped
//!   out is removed if it is a link and swapped back otherwise. Any link in the way is
//!   replaced: two `--force` racing on one name both succeed, one after the other.
//!
//! FUSE file systems (ntfs-3g among them) answer both flags with `EINVAL`. There the entry
//! is moved into a fresh private directory of knot's (`mkdir` fails rather than reuse a
//! name, so the plain `rename` into it cannot replace anything), checked there, and a new
//! link is put in its place by making it again (`symlink`, or the same reparse point on a
//! new empty entry on ntfs-3g): calls that fail rather than overwrite. A file is put back
//! with `link`, which fails rather than overwrites too. The price is that for a moment the
//! path holds no link; what is promised, that no file is lost, still holds. The one case
//! left is a directory (in NTFS's records: ntfs-3g shows a cloud-files folder as a symlink)
//! put back with `rename` after checking that the name is free, since a directory never
//! gets a second name: only an entry made in the instant between could be replaced.
//! Two `--force` racing on one *directory* link on ntfs-3g may find each other's new link
//! half made (an empty directory, before its reparse point is set) and refuse, safely.
//!
//! Which link is removed is decided by what it is, not by which inode it is: inode numbers
//! are reused at once (a link removed by another program and made again gets its number
//! back), so an identity check would refuse or allow at random, while "is it a link"
//! (on ntfs-3g: a name-surrogate reparse point) is exactly what the promises need.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use knot_reparse::Tag;
use rustix::fs::{AtFlags, Mode, OFlags};
use rustix::io::Errno;

use super::super::FileType;
use super::super::error::Error as SysError;
use super::ntfs3g;
use super::stat::{meta, settled};
use crate::path::hidden_file_name;

/// How often a fresh hidden name is drawn after a clash before giving up.
const TRIES: usize = 8;

/// How often a replacement is tried again when another program changed the entry under it
/// (another `--force` on the same name put its own link there). Each such try means the
/// other program got its link in, so this bounds starvation, not time.
const REPLACE_TRIES: usize = 1000;

/// The longest path handed to the kernel in one piece: below `PATH_MAX` (4096 on Linux,
/// 1024 on the BSDs and macOS) with room to spare.
const CHUNK: usize = 1000;

/// How directories are opened for `*at` calls: `O_PATH` where there is one (no read
/// permission needed), else for reading.
#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "fuchsia",
    target_os = "redox",
    target_os = "emscripten"
))]
pub(super) const DIR_FLAGS: OFlags = OFlags::PATH.union(OFlags::DIRECTORY).union(OFlags::CLOEXEC);
#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "fuchsia",
    target_os = "redox",
    target_os = "emscripten"
)))]
pub(super) const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::CLOEXEC);

/// How often knot's private directory is tried again while FUSE keeps a file removed in
/// it under a hidden name until its last close (see [`Entry::remove_private`]): waiting
/// 1 ms, then twice as long each time, about a second in all.
const RELEASE_TRIES: usize = 10;

/// The prefix of the names libfuse gives a removed file that is still open.
const FUSE_HIDDEN: &[u8] = b".fuse_hidden";

/// The entries of the directory `dir` (held with [`DIR_FLAGS`]) if all are `.fuse_hidden…`
/// names (none at all, too); `None` if any is not, or the directory cannot be read.
fn fuse_hidden(dir: BorrowedFd<'_>) -> Option<Vec<OsString>> {
    use std::os::unix::ffi::OsStrExt;
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, ".", flags, Mode::empty()).ok()?;
    let mut hidden = Vec::new();
    for entry in rustix::fs::Dir::new(fd).ok()? {
        let entry = entry.ok()?;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        if !name.starts_with(FUSE_HIDDEN) {
            return None;
        }
        hidden.push(OsStr::from_bytes(name).to_owned());
    }
    Some(hidden)
}

/// What an entry is, as far as removing or replacing it goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Found {
    Missing,
    /// A link knot may remove or replace: a symlink, or on ntfs-3g a reparse point that
    /// stands for another name (MS-FSCC 2.1.2.1).
    Link,
    /// Anything else: a file, a directory, a special file, a reparse point that holds data.
    Other(FileType),
}

/// An entry, named by its open parent directory and its name.
#[derive(Debug)]
pub(crate) struct Entry<'a> {
    /// The path as the caller knows it, for messages only.
    path: &'a Path,
    dir: BorrowedFd<'a>,
    name: &'a OsStr,
    /// Whether to ask for `renameat2`'s flags: cleared once the file system has said it
    /// has none (and by tests, to take the other way on any file system).
    #[cfg_attr(
        not(any(target_os = "linux", target_os = "android")),
        allow(dead_code, reason = "only Linux has renameat2")
    )]
    flags: std::cell::Cell<bool>,
}

/// Where [`Entry::set_aside`] put the entry.
#[derive(Debug)]
struct Aside {
    /// knot's private directory in the parent, where the file system cannot rename without
    /// overwriting; `None` when the entry sits beside its old name.
    private: Option<(OsString, OwnedFd)>,
    /// The entry's name there.
    name: OsString,
}

/// Opens the directory `path` for `*at` calls (with [`DIR_FLAGS`]),
/// following links in it as the kernel would. A path longer than the kernel takes is
/// opened piece by piece, each piece relative to the last.
pub(crate) fn open_dir(path: &Path) -> io::Result<OwnedFd> {
    let flags = DIR_FLAGS;
    let bytes = path.as_os_str().as_encoded_bytes();
    if bytes.len() < CHUNK {
        return Ok(rustix::fs::open(path, flags, Mode::empty())?);
    }
    let mut pieces = Vec::new();
    let mut piece = PathBuf::new();
    for part in path.components() {
        let len = part.as_os_str().len();
        if !piece.as_os_str().is_empty() && piece.as_os_str().len() + len + 1 > CHUNK {
            pieces.push(std::mem::take(&mut piece));
        }
        if len >= CHUNK {
            return Err(Errno::NAMETOOLONG.into());
        }
        piece.push(part);
    }
    pieces.push(piece);
    let mut fd = rustix::fs::open(&pieces[0], flags, Mode::empty())?;
    for piece in &pieces[1..] {
        fd = rustix::fs::openat(&fd, piece, flags, Mode::empty())?;
    }
    Ok(fd)
}

/// `dir/name` as a path the kernel takes however deep `dir` is: `/proc/self/fd/N/name`
/// names the entry through the descriptor (for the calls that take only a path: extended
/// attributes, `statfs`).
#[cfg(target_os = "linux")]
pub(crate) fn proc_path(dir: BorrowedFd<'_>, name: &OsStr) -> PathBuf {
    super::held::own_path(dir).join(name)
}

/// Whether an entry of type `ty` with reparse tag `tag` is a link knot may remove or
/// replace.
fn found(ty: FileType, tag: Option<u32>) -> Found {
    match (ty, tag) {
        (FileType::Link, Some(tag)) if !Tag(tag).is_name_surrogate() => Found::Other(ty),
        (FileType::Link, _) => Found::Link,
        (ty, _) => Found::Other(ty),
    }
}

/// The reparse tag of a symlink `name` in `dir` on an ntfs-3g volume; `None` elsewhere.
use ntfs3g::tag_at;

/// What `name` in `dir` is, not following it.
fn probe(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<Found> {
    let ty = match settled(|| rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)) {
        Ok(st) => meta(&st).ty,
        Err(Errno::NOENT) => return Ok(Found::Missing),
        Err(err) => return Err(err.into()),
    };
    if ty != FileType::Link {
        return Ok(Found::Other(ty));
    }
    // A reparse point that cannot be read cannot be shown to be a link: it is left alone.
    // (One that went in between was moved by another program.)
    match tag_at(dir, name) {
        Ok(tag) => Ok(found(ty, tag)),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(Found::Missing),
        Err(_) => Ok(Found::Other(ty)),
    }
}

/// What took the entry's place could not be put back: the error says where it is now.
fn kept_at(path: &Path, why: io::Error) -> io::Error {
    SysError::ReplacedKeptAt {
        at: path.to_path_buf(),
        source: why,
    }
    .into()
}

/// Whether `name` in `dir` is a directory in NTFS's own records (ntfs-3g shows junctions,
/// directory symlinks and cloud folders as symlinks).
use ntfs3g::is_directory_entry_at as is_ntfs_directory;

fn changed_since() -> io::Error {
    SysError::Replaced.into()
}

/// Whether `err` says the file system cannot do what a `renameat2` flag asks.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn flag_unsupported(err: Errno) -> bool {
    matches!(err, Errno::INVAL | Errno::NOSYS | Errno::NOTSUP)
}

impl<'a> Entry<'a> {
    /// The entry `name` in the directory held open as `dir`; `path` is how the caller
    /// knows it, for messages.
    pub(crate) fn new(dir: BorrowedFd<'a>, name: &'a OsStr, path: &'a Path) -> Entry<'a> {
        Entry {
            dir,
            name,
            path,
            flags: std::cell::Cell::new(true),
        }
    }

    fn fd(&self) -> BorrowedFd<'a> {
        self.dir
    }

    fn aside_fd<'b>(&'b self, aside: &'b Aside) -> BorrowedFd<'b> {
        aside
            .private
            .as_ref()
            .map_or(self.fd(), |(_, fd)| fd.as_fd())
    }

    /// Where an entry set aside is now, for a message.
    fn aside_path(&self, aside: &Aside) -> PathBuf {
        let mut path = crate::path::parent_dir(self.path).to_path_buf();
        if let Some((private, _)) = &aside.private {
            path.push(private);
        }
        path.push(&aside.name);
        path
    }

    fn kept(&self, aside: &Aside, why: io::Error) -> io::Error {
        kept_at(&self.aside_path(aside), why)
    }

    /// [`Entry::kept`] for something at the name `hidden` beside the entry.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn kept_at(&self, hidden: &OsStr, why: io::Error) -> io::Error {
        kept_at(&crate::path::parent_dir(self.path).join(hidden), why)
    }

    /// Removes the entry if it is a link; anything else is left where it is.
    pub(crate) fn remove_link(&self) -> io::Result<()> {
        // Look before moving anything: a non-link is never moved unless it takes the
        // link's place in the instant between this look and the move.
        match probe(self.fd(), self.name)? {
            Found::Link => {}
            Found::Missing => return Err(Errno::NOENT.into()),
            Found::Other(_) => return Err(changed_since()),
        }
        let aside = self.set_aside()?;
        let found = match probe(self.aside_fd(&aside), &aside.name) {
            Ok(found) => found,
            // What it is cannot be told: it goes back where it was.
            Err(err) => {
                self.restore(&aside)?;
                return Err(err);
            }
        };
        match found {
            Found::Link => self.discard(&aside),
            Found::Missing => {
                self.remove_private(&aside);
                Err(changed_since())
            }
            Found::Other(_) => {
                self.restore(&aside)?;
                Err(changed_since())
            }
        }
    }

    /// Puts the new link `staged` (a name in the same directory) in the entry's place, if
    /// the entry is a link or missing; anything else is left where it is, and so is
    /// `staged`.
    pub(crate) fn replace_with(&self, staged: &OsStr) -> io::Result<()> {
        for _ in 0..REPLACE_TRIES {
            let found = probe(self.fd(), self.name)?;
            if let Found::Other(_) = found {
                return Err(changed_since());
            }
            if self.try_replace(staged, found)? {
                return Ok(());
            }
        }
        Err(SysError::KeptChanging.into())
    }

    /// Puts the new link `staged` (a name in the same directory) in the place of the
    /// entry, a regular file that is a link in another form (a Cygwin `!<symlink>` file, a
    /// placeholder Git checked out for a symlink), only while `same` says the file is
    /// still the one that was read, judged by what it holds (never by its inode number
    /// alone: numbers are reused at once). The file is set aside first (to a fresh hidden
    /// name, or into knot's private directory where the file system cannot rename without
    /// overwriting), judged there, where no other program knows its name; the link is then
    /// put at the name by calls that fail rather than overwrite, and only then the file is
    /// removed. Anything else, and the file itself
    /// if the link cannot be put in place, goes back without overwriting anything.
    pub(crate) fn replace_file_with(
        &self,
        staged: &OsStr,
        same: impl Fn(BorrowedFd<'_>, &OsStr) -> io::Result<bool>,
    ) -> io::Result<()> {
        if probe(self.fd(), self.name)? != Found::Other(FileType::File) {
            return Err(changed_since());
        }
        let aside = match self.set_aside() {
            Ok(aside) => aside,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Err(changed_since()),
            Err(err) => return Err(err),
        };
        let judged = match probe(self.aside_fd(&aside), &aside.name) {
            Ok(Found::Other(FileType::File)) => same(self.aside_fd(&aside), &aside.name),
            Ok(_) => Ok(false),
            Err(err) => Err(err),
        };
        // What is put back never goes over what took the name meanwhile, a link
        // included: a link the user put there is theirs.
        match judged {
            Ok(true) => {}
            Ok(false) => {
                self.restore_where_free(&aside)?;
                return Err(changed_since());
            }
            Err(err) => {
                self.restore_where_free(&aside)?;
                return Err(err);
            }
        }
        if let Err(err) = self.place(staged, &aside) {
            // The file goes back; where something took the name, the file, a link in
            // another form whose bytes were judged above (no data of its own), is removed,
            // as `replace_by_copy` removes an old link.
            match self.put_back_where_free(&aside) {
                Ok(()) => self.remove_private(&aside),
                Err(back) if back.kind() == io::ErrorKind::AlreadyExists => {
                    let _ = self.discard(&aside);
                }
                Err(back) => return Err(self.kept(&aside, back)),
            }
            return Err(if err.kind() == io::ErrorKind::AlreadyExists {
                changed_since()
            } else {
                err
            });
        }
        // The file, judged above, goes; if it cannot, it is left in knot's place beside
        // the name, and the link is in place all the same.
        let _ = self.discard(&aside);
        Ok(())
    }

    /// Puts the link `staged` at the entry's name, now free, failing rather than
    /// overwriting what took it meanwhile: renamed there where the file system can rename
    /// without overwriting (the file went aside that way), else made again there and
    /// `staged` removed.
    fn place(&self, staged: &OsStr, aside: &Aside) -> io::Result<()> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if aside.private.is_none() {
            use rustix::fs::{RenameFlags, renameat_with};
            let flags = RenameFlags::NOREPLACE;
            return Ok(renameat_with(
                self.fd(),
                staged,
                self.fd(),
                self.name,
                flags,
            )?);
        }
        let _ = aside;
        copy_link(self.fd(), staged, self.fd(), self.name)?;
        let _ = rustix::fs::unlinkat(self.fd(), staged, AtFlags::empty());
        Ok(())
    }

    /// One try of [`Entry::replace_with`] on the entry `found`; `false` when the entry
    /// changed in between and the caller should look again.
    fn try_replace(&self, staged: &OsStr, found: Found) -> io::Result<bool> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if self.flags.get() {
            use rustix::fs::{RenameFlags, renameat_with};
            let flags = if found == Found::Link {
                RenameFlags::EXCHANGE
            } else {
                RenameFlags::NOREPLACE
            };
            match renameat_with(self.fd(), staged, self.fd(), self.name, flags) {
                Ok(()) if found == Found::Link => {
                    return self.after_exchange(staged).map(|()| true);
                }
                Ok(()) => return Ok(true),
                // Made, or gone, in the meantime.
                Err(Errno::EXIST | Errno::NOENT) => return Ok(false),
                Err(err) if flag_unsupported(err) => self.flags.set(false),
                Err(err) => return Err(err.into()),
            }
        }
        self.replace_by_copy(staged, found)
    }

    /// After `RENAME_EXCHANGE`, `staged` holds what stood at the name: a link is removed,
    /// anything else is swapped back.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn after_exchange(&self, staged: &OsStr) -> io::Result<()> {
        use rustix::fs::{RenameFlags, renameat_with};
        match probe(self.fd(), staged)? {
            Found::Link => Ok(rustix::fs::unlinkat(self.fd(), staged, AtFlags::empty())?),
            Found::Missing => Ok(()),
            Found::Other(_) => {
                let back = renameat_with(
                    self.fd(),
                    staged,
                    self.fd(),
                    self.name,
                    RenameFlags::EXCHANGE,
                );
                // What is at `staged` now is the new link, unless yet another entry took
                // the name in between: the caller removes a link there, never anything else.
                match back {
                    Err(err) => Err(self.kept_at(staged, err.into())),
                    Ok(()) => match probe(self.fd(), staged)? {
                        Found::Other(_) => Err(self.kept_at(staged, Errno::EXIST.into())),
                        Found::Link | Found::Missing => Err(changed_since()),
                    },
                }
            }
        }
    }

    /// `--force` where the file system cannot swap: the old link is set aside, the new one
    /// made again in its place, and the old one removed. `false` when another link took
    /// the name in the meantime (another `--force`, say): the caller looks again.
    fn replace_by_copy(&self, staged: &OsStr, found: Found) -> io::Result<bool> {
        let aside = match found {
            Found::Link => match self.set_aside() {
                Ok(aside) => Some(aside),
                Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(false),
                Err(err) => return Err(err),
            },
            Found::Missing | Found::Other(_) => None,
        };
        if let Some(aside) = &aside {
            match probe(self.aside_fd(aside), &aside.name) {
                Ok(Found::Other(_)) => {
                    self.restore(aside)?;
                    return Err(changed_since());
                }
                Ok(_) => {}
                Err(err) => {
                    self.restore(aside)?;
                    return Err(err);
                }
            }
        }
        let made = copy_link(self.fd(), staged, self.fd(), self.name);
        if made.is_ok() {
            let _ = rustix::fs::unlinkat(self.fd(), staged, AtFlags::empty());
        }
        if let Some(aside) = &aside {
            // On failure the old link goes back the same way, never over what took its
            // place; if something did, the old link (a link: no data) is removed.
            match made {
                Ok(()) => {}
                Err(_) => {
                    match copy_link(self.aside_fd(aside), &aside.name, self.fd(), self.name) {
                        Ok(()) => {}
                        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
                        Err(why) => return Err(self.kept(aside, why)),
                    }
                }
            }
            // The old link goes; if it cannot, it is a link left in knot's directory, and
            // the new one is in place all the same.
            let _ = self.discard(aside);
        }
        match made {
            Ok(()) => Ok(true),
            // Something took the name while it was free: a link is replaced in turn,
            // anything else is left alone.
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                match probe(self.fd(), self.name)? {
                    Found::Link | Found::Missing => Ok(false),
                    Found::Other(_) => Err(changed_since()),
                }
            }
            Err(err) => Err(err),
        }
    }

    /// Moves the entry to a fresh name no other program knows, without overwriting
    /// anything.
    fn set_aside(&self) -> io::Result<Aside> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if self.flags.get() {
            use rustix::fs::{RenameFlags, renameat_with};
            for _ in 0..TRIES {
                let name = hidden_file_name(self.name);
                match renameat_with(
                    self.fd(),
                    self.name,
                    self.fd(),
                    &name,
                    RenameFlags::NOREPLACE,
                ) {
                    Ok(()) => {
                        return Ok(Aside {
                            private: None,
                            name,
                        });
                    }
                    Err(Errno::EXIST) => continue,
                    Err(err) if flag_unsupported(err) => {
                        self.flags.set(false);
                        break;
                    }
                    Err(err) => return Err(err.into()),
                }
            }
        }
        let private = self.private_dir()?;
        let fd = private.1.as_fd();
        if let Err(err) = rustix::fs::renameat(self.fd(), self.name, fd, self.name) {
            let _ = rustix::fs::unlinkat(self.fd(), &private.0, AtFlags::REMOVEDIR);
            return Err(err.into());
        }
        Ok(Aside {
            name: self.name.to_owned(),
            private: Some(private),
        })
    }

    /// A new, empty directory of knot's beside the entry (mode 0700, where the file system
    /// keeps modes: ntfs-3g without `permissions` does not; its name is unpredictable all
    /// the same).
    fn private_dir(&self) -> io::Result<(OsString, OwnedFd)> {
        for _ in 0..TRIES {
            let name = hidden_file_name(self.name);
            match rustix::fs::mkdirat(self.fd(), &name, Mode::RWXU) {
                Ok(()) => {
                    let flags = DIR_FLAGS | OFlags::NOFOLLOW;
                    return match rustix::fs::openat(self.fd(), &name, flags, Mode::empty()) {
                        Ok(fd) => Ok((name, fd)),
                        Err(err) => {
                            let _ = rustix::fs::unlinkat(self.fd(), &name, AtFlags::REMOVEDIR);
                            Err(err.into())
                        }
                    };
                }
                Err(Errno::EXIST) => continue,
                Err(err) => return Err(err.into()),
            }
        }
        Err(Errno::EXIST.into())
    }

    /// Removes the link that was set aside, and knot's private directory.
    fn discard(&self, aside: &Aside) -> io::Result<()> {
        let removed = rustix::fs::unlinkat(self.aside_fd(aside), &aside.name, AtFlags::empty());
        self.remove_private(aside);
        Ok(removed?)
    }

    /// Removes knot's private directory, once what was set aside in it has gone.
    ///
    /// A FUSE file system served by libfuse's high-level API (ntfs-3g is, and it takes no
    /// `hard_remove`) does not remove a name whose file is still open anywhere: it renames
    /// it to `.fuse_hidden…` in the same directory and removes that at the last close. A
    /// file is open that long when another program holds it, and also just after it was
    /// closed (FUSE sends the release without waiting for it), or while a child forked by
    /// another thread of this process holds a copy of the descriptor until its `exec`. The
    /// directory then cannot be removed yet: it is tried again while such a name is all
    /// that keeps it, up to [`RELEASE_TRIES`] times, waiting a little longer each time.
    /// Should the file stay open longer, its hidden name is moved out beside the entry,
    /// where FUSE removes it at the last close as it would have, and the directory goes.
    fn remove_private(&self, aside: &Aside) {
        let Some((private, fd)) = &aside.private else {
            return;
        };
        let mut wait = std::time::Duration::from_millis(1);
        for _ in 0..RELEASE_TRIES {
            match rustix::fs::unlinkat(self.fd(), private, AtFlags::REMOVEDIR) {
                Err(Errno::NOTEMPTY) => match fuse_hidden(fd.as_fd()) {
                    // The hidden name went between the two calls.
                    Some(hidden) if hidden.is_empty() => {}
                    Some(_) => {
                        std::thread::sleep(wait);
                        wait *= 2;
                    }
                    // What knot keeps there on purpose (an entry it could not put back).
                    None => return,
                },
                _ => return,
            }
        }
        for hidden in fuse_hidden(fd.as_fd()).unwrap_or_default() {
            // Never over anything: only to a name that is free beside the entry.
            if let Ok(Found::Missing) = probe(self.fd(), &hidden) {
                let _ = rustix::fs::renameat(fd, &hidden, self.fd(), &hidden);
            }
        }
        let _ = rustix::fs::unlinkat(self.fd(), private, AtFlags::REMOVEDIR);
    }

    /// Puts what was set aside back under its name, never over something that took the
    /// name since; if it cannot go back, the error says where it is.
    fn restore(&self, aside: &Aside) -> io::Result<()> {
        let put = self.put_back(aside);
        match put {
            Ok(()) => {
                self.remove_private(aside);
                Ok(())
            }
            Err(err) => Err(self.kept(aside, err)),
        }
    }

    /// [`Entry::restore`], but only where the name is free: nothing that took it, not even
    /// a link, is replaced.
    fn restore_where_free(&self, aside: &Aside) -> io::Result<()> {
        match self.put_back_where_free(aside) {
            Ok(()) => {
                self.remove_private(aside);
                Ok(())
            }
            Err(err) => Err(self.kept(aside, err)),
        }
    }

    /// Puts a regular file that was set aside back under its name, failing
    /// (`AlreadyExists`) rather than replacing anything that took the name.
    fn put_back_where_free(&self, aside: &Aside) -> io::Result<()> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if aside.private.is_none() {
            use rustix::fs::{RenameFlags, renameat_with};
            let (from, flags) = (self.aside_fd(aside), RenameFlags::NOREPLACE);
            return Ok(renameat_with(
                from,
                &aside.name,
                self.fd(),
                self.name,
                flags,
            )?);
        }
        // From knot's private directory a file goes back by `link`, which never
        // overwrites.
        self.put_back(aside)
    }

    fn put_back(&self, aside: &Aside) -> io::Result<()> {
        let from = self.aside_fd(aside);
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if aside.private.is_none() {
            use rustix::fs::{RenameFlags, renameat_with};
            return match renameat_with(
                from,
                &aside.name,
                self.fd(),
                self.name,
                RenameFlags::NOREPLACE,
            ) {
                Ok(()) => Ok(()),
                // A link took the name: swap them, so the entry set aside is back, and the
                // newcomer goes as the link it is. Anything else is left where it is.
                Err(Errno::EXIST) => {
                    if probe(self.fd(), self.name)? != Found::Link {
                        return Err(Errno::EXIST.into());
                    }
                    renameat_with(
                        from,
                        &aside.name,
                        self.fd(),
                        self.name,
                        RenameFlags::EXCHANGE,
                    )?;
                    match probe(from, &aside.name)? {
                        Found::Link => {
                            Ok(rustix::fs::unlinkat(from, &aside.name, AtFlags::empty())?)
                        }
                        Found::Missing => Ok(()),
                        Found::Other(_) => Err(Errno::EXIST.into()),
                    }
                }
                Err(err) => Err(err.into()),
            };
        }
        let found = match probe(from, &aside.name)? {
            // An NTFS directory that ntfs-3g shows as a symlink (a cloud-files folder, say)
            // must never get a second name.
            Found::Link | Found::Other(FileType::Link) if is_ntfs_directory(from, &aside.name) => {
                Found::Other(FileType::Dir)
            }
            found => found,
        };
        match found {
            Found::Missing => Ok(()),
            // `link` fails rather than overwrites; the name set aside then goes.
            Found::Link | Found::Other(FileType::File | FileType::Other | FileType::Link) => {
                rustix::fs::linkat(from, &aside.name, self.fd(), self.name, AtFlags::empty())?;
                Ok(rustix::fs::unlinkat(from, &aside.name, AtFlags::empty())?)
            }
            // A directory cannot have a second name: it is renamed back if the name is
            // free (the kernel never renames a directory over anything but an empty one).
            Found::Other(FileType::Dir) => match probe(self.fd(), self.name)? {
                Found::Missing => Ok(rustix::fs::renameat(
                    from,
                    &aside.name,
                    self.fd(),
                    self.name,
                )?),
                _ => Err(Errno::EXIST.into()),
            },
        }
    }
}

/// Makes the link `from` in `from_dir` again as `to` in `to_dir`, never overwriting: a
/// junction or directory symlink on ntfs-3g as the same reparse point on a new empty
/// directory, a file symlink there as a second name of the same file, another symlink as
/// a new one with the same text; a hard link (a regular file) gets another name.
fn copy_link(
    from_dir: BorrowedFd<'_>,
    from: &OsStr,
    to_dir: BorrowedFd<'_>,
    to: &OsStr,
) -> io::Result<()> {
    if tag_at(from_dir, from)?.is_some() {
        if !ntfs3g::copy_directory_link(from_dir, from, to_dir, to)? {
            rustix::fs::linkat(from_dir, from, to_dir, to, AtFlags::empty())?;
        }
        return Ok(());
    }
    let st = rustix::fs::statat(from_dir, from, AtFlags::SYMLINK_NOFOLLOW)?;
    match meta(&st).ty {
        FileType::Link => {
            let text = rustix::fs::readlinkat(from_dir, from, Vec::new())?;
            Ok(rustix::fs::symlinkat(text.as_c_str(), to_dir, to)?)
        }
        FileType::File => Ok(rustix::fs::linkat(
            from_dir,
            from,
            to_dir,
            to,
            AtFlags::empty(),
        )?),
        FileType::Dir | FileType::Other => Err(SysError::NotALink.into()),
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::symlink;

    use super::*;
    use crate::fixture::names;

    /// The entry `l` in `dir`, with or without `renameat2`'s flags (without them, the way
    /// FUSE file systems such as ntfs-3g are handled).
    fn entry(dir: &Path, flags: bool) -> Entry<'static> {
        // Leaked: a few descriptors and paths for the length of the test run.
        let fd: &'static OwnedFd = Box::leak(Box::new(open_dir(dir).unwrap()));
        let path: &'static Path = Box::leak(dir.join("l").into_boxed_path());
        let entry = Entry::new(fd.as_fd(), OsStr::new("l"), path);
        entry.flags.set(flags);
        entry
    }

    #[test]
    fn rm_removes_a_link_and_leaves_a_file_where_it_is() {
        for flags in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            symlink("a", dir.path().join("l")).unwrap();
            entry(dir.path(), flags).remove_link().unwrap();
            assert!(names(dir.path()).is_empty(), "flags: {flags}");

            fs::write(dir.path().join("l"), "precious").unwrap();
            let err = entry(dir.path(), flags).remove_link().unwrap_err();
            assert!(
                err.to_string().contains("replaced by something else"),
                "{err}"
            );
            assert_eq!(
                fs::read_to_string(dir.path().join("l")).unwrap(),
                "precious"
            );
            assert_eq!(names(dir.path()), ["l"], "nothing set aside");
        }
    }

    /// Which link is removed is decided by what it is, not by its inode number, which a
    /// new link can get back at once: a link put in the place of the one looked at is a
    /// link too, and goes; only a non-link is refused. The other link takes the name after
    /// the entry is opened (its directory held, its name taken) and looked at, so that a
    /// check of the inode number, wherever it were taken, would refuse it.
    #[test]
    fn rm_removes_whatever_link_stands_there() {
        use std::os::unix::fs::MetadataExt;
        for flags in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            let link = dir.path().join("l");
            symlink("a", &link).unwrap();
            let entry = entry(dir.path(), flags);
            assert_eq!(probe(entry.fd(), entry.name).unwrap(), Found::Link);
            let looked_at = fs::symlink_metadata(&link).unwrap().ino();
            // Made while the first one exists, so that it cannot get its inode number.
            symlink("b", dir.path().join("other")).unwrap();
            fs::rename(dir.path().join("other"), &link).unwrap();
            assert_ne!(fs::symlink_metadata(&link).unwrap().ino(), looked_at);
            entry.remove_link().unwrap();
            assert!(names(dir.path()).is_empty(), "flags: {flags}");
        }
    }

    /// A file that takes the link's place between the look and the
    /// move is moved aside, found to be no link, and put back under its name, never
    /// removed, with nothing left over; with and without `renameat2`'s flags.
    #[test]
    fn a_file_moved_aside_by_a_race_is_put_back() {
        for flags in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            fs::write(dir.path().join("l"), "precious").unwrap();
            let entry = entry(dir.path(), flags);
            let aside = entry.set_aside().unwrap();
            assert_eq!(
                probe(entry.aside_fd(&aside), &aside.name).unwrap(),
                Found::Other(FileType::File)
            );
            entry.restore(&aside).unwrap();
            assert_eq!(
                fs::read_to_string(dir.path().join("l")).unwrap(),
                "precious"
            );
            assert_eq!(names(dir.path()), ["l"], "flags: {flags}");
        }
    }

    /// A directory too (it cannot be put back with `link`).
    #[test]
    fn a_directory_moved_aside_by_a_race_is_put_back() {
        for flags in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            fs::create_dir(dir.path().join("l")).unwrap();
            fs::write(dir.path().join("l/canary"), "keep").unwrap();
            let entry = entry(dir.path(), flags);
            let aside = entry.set_aside().unwrap();
            entry.restore(&aside).unwrap();
            assert_eq!(
                fs::read_to_string(dir.path().join("l/canary")).unwrap(),
                "keep"
            );
            assert_eq!(names(dir.path()), ["l"]);
        }
    }

    /// When something new took the name while a file was set aside, the file
    /// is still never lost: with `renameat2` the two are swapped and the newcomer, a link,
    /// goes; without, the file stays where it was set aside and the error says where.
    #[test]
    fn a_file_set_aside_is_never_lost_when_its_name_was_taken() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("l"), "precious").unwrap();
        let with_flags = entry(dir.path(), true);
        let aside = with_flags.set_aside().unwrap();
        symlink("newcomer", dir.path().join("l")).unwrap();
        with_flags.restore(&aside).unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join("l")).unwrap(),
            "precious"
        );
        assert_eq!(names(dir.path()), ["l"]);

        let without = entry(dir.path(), false);
        let aside = without.set_aside().unwrap();
        symlink("newcomer", dir.path().join("l")).unwrap();
        let err = without.restore(&aside).unwrap_err();
        let kept = without.aside_path(&aside);
        assert!(
            err.to_string().contains(&*kept.to_string_lossy()),
            "{err} names {}",
            kept.display()
        );
        assert_eq!(fs::read_to_string(&kept).unwrap(), "precious");
    }

    #[test]
    fn force_replaces_a_link_and_refuses_anything_else() {
        for flags in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            let (link, staged) = (dir.path().join("l"), OsStr::new(".l.new"));
            symlink("old", &link).unwrap();
            symlink("new", dir.path().join(staged)).unwrap();
            entry(dir.path(), flags).replace_with(staged).unwrap();
            assert_eq!(fs::read_link(&link).unwrap(), Path::new("new"));
            assert_eq!(names(dir.path()), ["l"], "flags: {flags}");

            // Gone in the meantime: the new link is put there all the same.
            fs::remove_file(&link).unwrap();
            symlink("newer", dir.path().join(staged)).unwrap();
            entry(dir.path(), flags).replace_with(staged).unwrap();
            assert_eq!(fs::read_link(&link).unwrap(), Path::new("newer"));

            // A real file in its place is left alone, and so is the new link.
            fs::remove_file(&link).unwrap();
            fs::write(&link, "precious").unwrap();
            symlink("newest", dir.path().join(staged)).unwrap();
            let err = entry(dir.path(), flags).replace_with(staged).unwrap_err();
            assert!(
                err.to_string().contains("replaced by something else"),
                "{err}"
            );
            assert_eq!(fs::read_to_string(&link).unwrap(), "precious");
            assert_eq!(names(dir.path()), [".l.new", "l"]);
        }
    }

    /// A hard link replaces a link the same way (`knot hardlink --force`).
    #[test]
    fn force_puts_a_hard_link_in_place_of_a_link() {
        for flags in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            fs::write(dir.path().join("f"), "data").unwrap();
            symlink("old", dir.path().join("l")).unwrap();
            fs::hard_link(dir.path().join("f"), dir.path().join(".l.new")).unwrap();
            entry(dir.path(), flags)
                .replace_with(OsStr::new(".l.new"))
                .unwrap();
            assert_eq!(fs::read_to_string(dir.path().join("l")).unwrap(), "data");
            assert_eq!(names(dir.path()), ["f", "l"]);
        }
    }

    /// A name that clashes with a hidden name is never the link's error; a
    /// fresh one is drawn, with and without `renameat2`'s flags.
    #[test]
    fn a_planted_hidden_name_is_passed_over() {
        for flags in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            symlink("a", dir.path().join("l")).unwrap();
            fs::write(dir.path().join(".l.knot~0000000000000001"), "planted").unwrap();
            fs::create_dir(dir.path().join(".l.knot~0000000000000002")).unwrap();
            crate::path::tests::DRAWN.with(|drawn| drawn.borrow_mut().extend([2, 1, 2, 1]));
            entry(dir.path(), flags).remove_link().unwrap();
            crate::path::tests::DRAWN.with(|drawn| drawn.borrow_mut().clear());
            assert_eq!(
                names(dir.path()),
                [".l.knot~0000000000000001", ".l.knot~0000000000000002"],
                "flags: {flags}"
            );
        }
    }

    /// A parent longer than `PATH_MAX` is opened piece by piece.
    #[test]
    fn directories_deeper_than_path_max_open_piece_by_piece() {
        let dir = tempfile::tempdir().unwrap();
        let mut path = dir.path().to_path_buf();
        let mut fd = open_dir(&path).unwrap();
        let name = "d".repeat(200);
        for _ in 0..30 {
            rustix::fs::mkdirat(&fd, name.as_str(), Mode::RWXU).unwrap();
            fd = rustix::fs::openat(&fd, name.as_str(), DIR_FLAGS, Mode::empty()).unwrap();
            path.push(&name);
        }
        assert!(path.as_os_str().len() > 6000);
        rustix::fs::symlinkat("t", &fd, "l").unwrap();
        let parent = open_dir(&path).unwrap();
        let link = path.join("l");
        let entry = Entry::new(parent.as_fd(), OsStr::new("l"), &link);
        assert_eq!(probe(entry.fd(), entry.name).unwrap(), Found::Link);
        entry.remove_link().unwrap();
        assert_eq!(probe(entry.fd(), entry.name).unwrap(), Found::Missing);
    }
}
