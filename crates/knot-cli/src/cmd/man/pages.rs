//! Writing pages into `knot man --dir DIR`, a directory that others may be able to write
//! too (a staging tree, a shared prefix). Whatever was planted there, knot writes only
//! the files it makes, and only inside DIR (DESIGN.md promise 10, "act on what you
//! checked"):
//!
//! - DIR is opened once and held; every later call is relative to that handle, so a DIR
//!   swapped for a link meanwhile is never gone through.
//! - Each page is written into a new file under a fresh hidden name (`.knot.1.knot~` and
//!   16 random hex digits, as the library names its temporary entries), created
//!   exclusively and never through a link (`O_CREAT | O_EXCL | O_NOFOLLOW`): a name
//!   someone planted is never opened, and a clash draws another name.
//! - The new file is renamed onto the page's name (`renameat`), which replaces the entry
//!   itself, never what a link there leads to. Before that, an entry in the way that is
//!   not a regular file (a symlink, a directory, a FIFO, a device) is refused, and the
//!   hidden file removed: replacing a symlink would be no write through it, but a page
//!   that was a link is something its owner set up, not an old page. A regular file in
//!   the way is an old page: replaced (never written into, so a second name it has keeps
//!   its data).

use std::ffi::{OsStr, OsString};
use std::io::{self, Write as _};
use std::path::Path;

#[cfg(not(unix))]
use other as imp;
#[cfg(unix)]
use unix as imp;

/// How many fresh hidden names are drawn before a clash is taken for an error: each is
/// 64 random bits, so a second clash in a row means something else is wrong.
const ATTEMPTS: usize = 8;

/// The directory of `--dir`, held open.
#[derive(Debug)]
pub struct PageDir {
    dir: imp::Dir,
}

/// What stands at a page's name that is not a regular file, which a page never replaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InTheWay {
    Symlink,
    Dir,
    /// A FIFO, socket or device, as far as the system tells.
    Special(Option<knot::Special>),
}

impl InTheWay {
    /// `a symlink`, `a directory`, `a FIFO`, ...: what is in the way, for a message.
    pub fn name(self) -> String {
        match self {
            InTheWay::Symlink => "a symlink".to_owned(),
            InTheWay::Dir => "a directory".to_owned(),
            InTheWay::Special(None) => "a special file".to_owned(),
            InTheWay::Special(Some(special)) => format!("a {}", special.name()),
        }
    }
}

/// Why a page was not written.
#[derive(Debug)]
pub enum PageError {
    /// Something that is not a regular file is at the page's name; it was left alone.
    InTheWay(InTheWay),
    /// The system refused a step (creating, writing, renaming).
    Io(io::Error),
}

impl From<io::Error> for PageError {
    fn from(err: io::Error) -> PageError {
        PageError::Io(err)
    }
}

impl PageDir {
    /// Opens the directory `path` (following it, if it is a link: the user named it) and
    /// holds it.
    ///
    /// # Errors
    /// It does not exist, is not a directory, or cannot be opened.
    pub fn open(path: &Path) -> io::Result<PageDir> {
        Ok(PageDir {
            dir: imp::Dir::open(path)?,
        })
    }

    /// Writes `text` as the page `name` in the directory: into a new hidden file, then
    /// renamed onto `name`. Nothing is left behind when it fails.
    ///
    /// # Errors
    /// [`PageError::InTheWay`] when `name` is anything but a regular file or nothing;
    /// [`PageError::Io`] when a step fails.
    pub fn write(&self, name: &OsStr, text: &[u8]) -> Result<(), PageError> {
        let (hidden, mut file, made) = self.create_hidden(name)?;
        let result = file
            .write_all(text)
            .map_err(PageError::from)
            .and_then(|()| {
                // Closed before the rename: Windows does not rename a file open without
                // delete sharing.
                drop(file);
                match self.dir.in_the_way(name)? {
                    Some(found) => Err(PageError::InTheWay(found)),
                    None => Ok(self.dir.rename(&hidden, name)?),
                }
            });
        if result.is_err() {
            self.dir.remove_if_same(&hidden, &made);
        }
        result
    }

    /// A new file under a fresh hidden name beside `name`, which nobody can predict; a
    /// name that exists already (planted, or a clash) is never opened, and another is
    /// drawn.
    fn create_hidden(&self, name: &OsStr) -> io::Result<(OsString, std::fs::File, imp::Made)> {
        let mut last = None;
        for _ in 0..ATTEMPTS {
            let hidden = hidden_name(name);
            match self.dir.create_new(&hidden) {
                Ok((file, made)) => return Ok((hidden, file, made)),
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => last = Some(err),
                Err(err) => return Err(err),
            }
        }
        Err(last.unwrap_or_else(|| io::ErrorKind::AlreadyExists.into()))
    }
}

/// `.NAME.knot~` and 16 hex digits that no other user can predict: the form of the
/// library's hidden names, so that a clean-up or a look at the directory knows them.
fn hidden_name(name: &OsStr) -> OsString {
    let mut hidden = OsString::from(".");
    hidden.push(name);
    hidden.push(format!(".knot~{:016x}", unpredictable()));
    hidden
}

/// 64 bits no other user can guess: std's `RandomState` is keyed from the system's
/// random source, and a counter keeps two draws of one process apart.
fn unpredictable() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNT.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}

/// Unix: every call relative to the held directory descriptor (`openat`, `fstatat`,
/// `renameat`, `unlinkat`).
#[cfg(unix)]
mod unix {
    use std::ffi::OsStr;
    use std::io;
    use std::os::fd::OwnedFd;
    use std::path::Path;

    use rustix::fs::{AtFlags, FileType, Mode, OFlags};

    use super::InTheWay;

    #[derive(Debug)]
    pub struct Dir(OwnedFd);

    /// The identity (device, inode) of the file knot made, so that a clean-up removes
    /// that file and nothing renamed onto its name since.
    #[derive(Debug, PartialEq, Eq)]
    pub struct Made(u64, u64);

    impl Made {
        /// The (device, inode) of `st`.
        #[allow(
            clippy::unnecessary_cast,
            reason = "the widths of st_dev and st_ino differ between Unix systems"
        )]
        fn of(st: &rustix::fs::Stat) -> Made {
            Made(st.st_dev as u64, st.st_ino as u64)
        }
    }

    impl Dir {
        pub fn open(path: &Path) -> io::Result<Dir> {
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
            Ok(Dir(rustix::fs::open(path, flags, Mode::empty())?))
        }

        /// Creates `name`, which must not exist, and never through a link.
        pub fn create_new(&self, name: &OsStr) -> io::Result<(std::fs::File, Made)> {
            let flags =
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            // What `fs::write` creates with; the umask takes its share.
            let fd = rustix::fs::openat(&self.0, name, flags, Mode::from_raw_mode(0o666))?;
            let st = rustix::fs::fstat(&fd)?;
            #[allow(
                clippy::useless_conversion,
                reason = "st_dev and st_ino are u64 on Linux but narrower on other targets"
            )]
            let made = Made::of(&st);
            Ok((std::fs::File::from(fd), made))
        }

        /// What is at `name`, if it is anything but a regular file or nothing.
        pub fn in_the_way(&self, name: &OsStr) -> io::Result<Option<InTheWay>> {
            let st = match rustix::fs::statat(&self.0, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => st,
                Err(rustix::io::Errno::NOENT) => return Ok(None),
                Err(err) => return Err(err.into()),
            };
            Ok(match FileType::from_raw_mode(st.st_mode) {
                FileType::RegularFile => None,
                FileType::Symlink => Some(InTheWay::Symlink),
                FileType::Directory => Some(InTheWay::Dir),
                FileType::Fifo => Some(InTheWay::Special(Some(knot::Special::Fifo))),
                FileType::Socket => Some(InTheWay::Special(Some(knot::Special::Socket))),
                FileType::CharacterDevice => {
                    Some(InTheWay::Special(Some(knot::Special::CharDevice)))
                }
                FileType::BlockDevice => Some(InTheWay::Special(Some(knot::Special::BlockDevice))),
                _ => Some(InTheWay::Special(None)),
            })
        }

        /// Renames `from` onto `to`, both in this directory: `to` itself is replaced, never
        /// what a link there leads to.
        pub fn rename(&self, from: &OsStr, to: &OsStr) -> io::Result<()> {
            Ok(rustix::fs::renameat(&self.0, from, &self.0, to)?)
        }

        /// Removes `name` if it is still the file knot made.
        pub fn remove_if_same(&self, name: &OsStr, made: &Made) {
            #[allow(
                clippy::useless_conversion,
                reason = "st_dev and st_ino are u64 on Linux but narrower on other targets"
            )]
            let same = rustix::fs::statat(&self.0, name, AtFlags::SYMLINK_NOFOLLOW)
                .is_ok_and(|st| Made::of(&st) == *made);
            if same {
                let _ = rustix::fs::unlinkat(&self.0, name, AtFlags::empty());
            }
        }
    }
}

/// Elsewhere (Windows): the same steps by path under the directory, which is checked once
/// to be one. Windows has no `openat`; `create_new` is `CREATE_NEW`, which fails on any
/// existing entry (a link included) rather than open it, and `rename` is
/// `MoveFileExW(MOVEFILE_REPLACE_EXISTING)`, which replaces a link itself, never what it
/// leads to. What a path-based walk cannot promise is that DIR itself is not swapped
/// between two calls; a handle-relative version (`NtCreateFile` with a root directory)
/// would.
#[cfg(not(unix))]
mod other {
    use std::ffi::OsStr;
    use std::fs;
    use std::io;
    use std::path::{Path, PathBuf};

    use super::InTheWay;

    #[derive(Debug)]
    pub struct Dir(PathBuf);

    /// Nothing to tell the file knot made by: its name is unpredictable.
    #[derive(Debug)]
    pub struct Made;

    impl Dir {
        pub fn open(path: &Path) -> io::Result<Dir> {
            if !fs::metadata(path)?.is_dir() {
                return Err(io::ErrorKind::NotADirectory.into());
            }
            Ok(Dir(path.to_path_buf()))
        }

        pub fn create_new(&self, name: &OsStr) -> io::Result<(fs::File, Made)> {
            let file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(self.0.join(name))?;
            Ok((file, Made))
        }

        pub fn in_the_way(&self, name: &OsStr) -> io::Result<Option<InTheWay>> {
            let meta = match fs::symlink_metadata(self.0.join(name)) {
                Ok(meta) => meta,
                Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(err) => return Err(err),
            };
            let ty = meta.file_type();
            Ok(if ty.is_symlink() {
                Some(InTheWay::Symlink)
            } else if ty.is_dir() {
                Some(InTheWay::Dir)
            } else if ty.is_file() {
                None
            } else {
                Some(InTheWay::Special(None))
            })
        }

        pub fn rename(&self, from: &OsStr, to: &OsStr) -> io::Result<()> {
            fs::rename(self.0.join(from), self.0.join(to))
        }

        pub fn remove_if_same(&self, name: &OsStr, _made: &Made) {
            let _ = fs::remove_file(self.0.join(name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_names_are_fresh_and_keep_the_librarys_form() {
        let a = hidden_name(OsStr::new("knot.1"));
        let b = hidden_name(OsStr::new("knot.1"));
        assert_ne!(a, b);
        let suffix = a.to_str().unwrap().strip_prefix(".knot.1.knot~").unwrap();
        assert_eq!(suffix.len(), 16);
        assert!(suffix.bytes().all(|c| c.is_ascii_hexdigit()));
    }
}
