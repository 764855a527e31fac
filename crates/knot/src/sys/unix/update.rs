//! What `knot copy --update` and `--mirror` ask of a held directory of the copy: what an
//! entry is (one `fstatat`), whether two files hold the same bytes, and a directory
//! removed with everything in it. Every call acts through descriptors: the tree removed
//! is opened one directory at a time from the one above without following a link, so a
//! directory swapped for a link meanwhile is never gone through, and a mount point is
//! never entered; without recursion, at most [`HELD`] directories open at once, one let
//! go of opened again through `..` and refused unless it is still the same directory.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt as _;

use rustix::fs::{AtFlags, FileType as RawType, Mode, OFlags};
use rustix::io::Errno;

use super::super::{Attrs, Meta};

/// How many bytes each read of a content comparison asks for.
const CHUNK: usize = 256 * 1024;

/// What the entry `name` of `dir` is, not following a link, with its permissions and
/// times: one `fstatat`.
pub(crate) fn look_at(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<(Meta, Attrs)> {
    let stat = super::stat::settled(|| rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW))?;
    Ok((super::stat::meta(&stat), Attrs::of(&stat)))
}

/// What the entry `name` of `dir` leads to, following the link it is, with its
/// permissions and times: one `fstatat`.
pub(crate) fn look_through(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<(Meta, Attrs)> {
    let stat = super::stat::settled(|| rustix::fs::statat(dir, name, AtFlags::empty()))?;
    Ok((super::stat::meta(&stat), Attrs::of(&stat)))
}

/// Opens the regular file `name` of `dir` to read, never following a link there (but the
/// one `name` is, where `follow`).
pub(crate) fn open_file(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    follow: bool,
) -> io::Result<(OwnedFd, u64)> {
    let mut flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY;
    if !follow {
        flags |= OFlags::NOFOLLOW;
    }
    let fd = rustix::fs::openat(dir, name, flags | OFlags::NONBLOCK, Mode::empty())?;
    let stat = rustix::fs::fstat(&fd)?;
    if RawType::from_raw_mode(stat.st_mode as _) != RawType::RegularFile {
        return Err(super::super::error::Error::NotARegularFile.into());
    }
    Ok((fd, u64::try_from(stat.st_size).unwrap_or(0)))
}

/// Whether the regular files `name` of `dir` and `other_name` of `other` hold the same
/// bytes, compared straight through descriptors opened without following a link (but
/// the one `name` is, where `follow`), a chunk at a time, stopping at the first
/// difference.
pub(crate) fn same_data_at(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    follow: bool,
    other: BorrowedFd<'_>,
    other_name: &OsStr,
) -> io::Result<bool> {
    let (a, a_size) = open_file(dir, name, follow)?;
    let (b, b_size) = open_file(other, other_name, false)?;
    if a_size != b_size {
        return Ok(false);
    }
    let (mut x, mut y) = (vec![0; CHUNK], vec![0; CHUNK]);
    let mut at = 0;
    loop {
        let n = read_full(a.as_fd(), &mut x, at)?;
        let m = read_full(b.as_fd(), &mut y, at)?;
        if n != m || x[..n] != y[..m] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
        at += n as u64;
    }
}

/// The first bytes, at most `limit`, of the regular file `name` of `dir`, opened without
/// following a link there, and what the descriptor read is.
pub(crate) fn read_file_at(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    limit: usize,
) -> io::Result<(Meta, Vec<u8>)> {
    let (fd, _) = open_file(dir, name, false)?;
    let meta = super::stat::meta(&rustix::fs::fstat(&fd)?);
    let mut buf = vec![0; limit];
    let n = read_full(fd.as_fd(), &mut buf, 0)?;
    buf.truncate(n);
    Ok((meta, buf))
}

/// Reads from `at` until `buf` is full or the file ends: how many bytes were read.
fn read_full(fd: BorrowedFd<'_>, buf: &mut [u8], at: u64) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match rustix::io::pread(fd, &mut buf[got..], at + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(Errno::INTR) => {}
            Err(err) => return Err(err.into()),
        }
    }
    Ok(got)
}

/// Which mount a directory open as `fd` is on: its device, and on Linux its mount id
/// (`statx`), which tells a bind mount of the same file system apart too.
fn mount_of(fd: BorrowedFd<'_>) -> io::Result<(u64, Option<u64>)> {
    let stat = rustix::fs::fstat(fd)?;
    #[allow(
        clippy::unnecessary_cast,
        reason = "st_dev's width differs between Unix targets"
    )]
    let dev = stat.st_dev as u64;
    Ok((dev, mount_id(fd)))
}

/// The mount id of the directory open as `fd` (`statx` `STATX_MNT_ID`), where the system
/// says: it tells a bind mount of the same file system apart from the directory it is on.
pub(crate) fn mount_id(fd: BorrowedFd<'_>) -> Option<u64> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::StatxFlags;
        if let Ok(statx) = rustix::fs::statx(fd, "", AtFlags::EMPTY_PATH, StatxFlags::MNT_ID)
            && StatxFlags::from_bits_retain(statx.stx_mask).contains(StatxFlags::MNT_ID)
        {
            return Some(statx.stx_mnt_id);
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = fd;
    None
}

/// Opens the directory `name` of `dir` (on the mount `mount`) to list and remove its
/// entries, never following a link there, and refusing a mount point.
fn open_below(dir: BorrowedFd<'_>, name: &OsStr, mount: (u64, Option<u64>)) -> io::Result<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, name, flags, Mode::empty())?;
    if mount_of(fd.as_fd())? != mount {
        return Err(super::super::error::Error::MountPoint.into());
    }
    Ok(fd)
}

/// Removes the directory `name` of `dir` with everything in it: each directory below
/// opened from the one above without following a link, and refused where another file
/// system is mounted on it; every other entry (a link included: the link itself, never
/// what it leads to) unlinked from the directory held. How many entries were removed,
/// the directory included.
pub(crate) fn remove_tree_at(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<u64> {
    let mount = mount_of(dir)?;
    let fd = open_below(dir, name, mount)?;
    let removed = empty(fd, name, mount)?;
    rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR)?;
    Ok(removed + 1)
}

/// How many directories of a tree being removed are held open at most (the deepest
/// ones); one above them is opened again from below (`..`) when its turn comes, and
/// checked to be the directory it was.
const HELD: usize = 32;

/// A directory of a tree being removed: its name in the one above, its identity (device,
/// inode), its descriptor where it is held, and the names in it not yet removed.
struct Level {
    name: OsString,
    id: (u64, u64),
    fd: Option<OwnedFd>,
    left: Vec<OsString>,
}

impl Level {
    fn new(name: &OsStr, fd: OwnedFd) -> io::Result<Level> {
        let left = names(fd.as_fd())?;
        Ok(Level {
            name: name.to_os_string(),
            id: id_of(fd.as_fd())?,
            fd: Some(fd),
            left,
        })
    }
}

/// The identity (device, inode) of the directory open as `fd`.
fn id_of(fd: BorrowedFd<'_>) -> io::Result<(u64, u64)> {
    let stat = rustix::fs::fstat(fd)?;
    #[allow(
        clippy::unnecessary_cast,
        reason = "st_dev's and st_ino's widths differ between Unix targets"
    )]
    Ok((stat.st_dev as u64, stat.st_ino as u64))
}

/// Removes everything in the directory `name` of `dir`, open as `fd`; how many entries.
/// Without recursion, whatever the depth: the directories on the way down are kept on a
/// stack, at most [`HELD`] of them open; one let go of is opened again through `..` of
/// the one below it once that is emptied, and refused unless it is the same directory.
fn empty(fd: OwnedFd, name: &OsStr, mount: (u64, Option<u64>)) -> io::Result<u64> {
    let mut removed = 0;
    let mut stack = vec![Level::new(name, fd)?];
    // The shallowest level held: every level from it to the top is.
    let mut low = 0;
    while let Some(top) = stack.last_mut() {
        let Some(fd) = top.fd.as_ref() else {
            unreachable!("the deepest level is always held")
        };
        if let Some(entry) = top.left.pop() {
            match rustix::fs::unlinkat(fd, &entry, AtFlags::empty()) {
                Ok(()) => removed += 1,
                // A directory (Linux says EISDIR, POSIX allows EPERM).
                Err(Errno::ISDIR | Errno::PERM) => {
                    let below = open_below(fd.as_fd(), &entry, mount)?;
                    stack.push(Level::new(&entry, below)?);
                    if stack.len() - low > HELD {
                        stack[low].fd = None;
                        low += 1;
                    }
                }
                Err(Errno::NOENT) => {}
                Err(err) => return Err(err.into()),
            }
            continue;
        }
        // Emptied: removed from the level above, held again first where it was let go of.
        let Some(done) = stack.pop() else { break };
        let depth = stack.len().saturating_sub(1);
        let Some(parent) = stack.last_mut() else {
            break;
        };
        if parent.fd.is_none() {
            let Some(below) = done.fd.as_ref() else {
                unreachable!("the deepest level is always held")
            };
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            let up = rustix::fs::openat(below, "..", flags, Mode::empty())?;
            if id_of(up.as_fd())? != parent.id {
                return Err(super::super::error::Error::Replaced.into());
            }
            parent.fd = Some(up);
            low = depth;
        }
        drop(done.fd);
        let Some(fd) = parent.fd.as_ref() else {
            unreachable!("held just now")
        };
        rustix::fs::unlinkat(fd, &done.name, AtFlags::REMOVEDIR)?;
        removed += 1;
    }
    Ok(removed)
}

/// The names in the directory open as `fd`, but `.` and `..`.
pub(crate) fn names(fd: BorrowedFd<'_>) -> io::Result<Vec<OsString>> {
    // Opened again to be read: `fd` may be an `O_PATH` descriptor, which cannot be (and
    // `Dir::read_from` would keep its flags).
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let mut dir = rustix::fs::Dir::new(rustix::fs::openat(fd, ".", flags, Mode::empty())?)?;
    let mut names = Vec::new();
    while let Some(entry) = dir.read() {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(OsStr::from_bytes(name).to_os_string());
        }
    }
    Ok(names)
}
