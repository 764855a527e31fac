//! Extended attributes copied from one descriptor to another (`knot copy --xattrs`):
//! every attribute the source lists, POSIX ACLs among them (`system.posix_acl_access`,
//! `system.posix_acl_default`), as `cp --preserve=xattr` and `rsync -X` copy them.
//!
//! By descriptor only, as the data is copied: a name is never looked up again. Written here
//! rather than taken from the `xattr` crate, whose calls on a descriptor are the same three
//! system calls rustix already gives (`flistxattr`, `fgetxattr`, `fsetxattr`); what is
//! knot's own is what a failure means, below.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsFd as _, BorrowedFd};
use std::os::unix::ffi::OsStrExt as _;

use rustix::fs::XattrFlags;
use rustix::io::Errno;

/// The extended attributes of one file or directory: each name with its value.
pub(crate) type Xattrs = Vec<(OsString, Vec<u8>)>;

/// Every extended attribute of `fd`. A file system that keeps none (`ENOTSUP`) has none.
pub(crate) fn read(fd: BorrowedFd<'_>) -> io::Result<Xattrs> {
    read_with(
        |buf| rustix::fs::flistxattr(fd, buf),
        |name, buf| rustix::fs::fgetxattr(fd, name, buf),
    )
}

/// Every extended attribute `list` names, each as `get` reads it.
fn read_with(
    mut list: impl FnMut(&mut [u8]) -> rustix::io::Result<usize>,
    mut get: impl FnMut(&OsStr, &mut [u8]) -> rustix::io::Result<usize>,
) -> io::Result<Xattrs> {
    let names = match grow(&mut list) {
        Ok(names) => names,
        Err(Errno::NOTSUP) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut xattrs = Vec::new();
    for name in names.split(|&b| b == 0).filter(|name| !name.is_empty()) {
        let name = OsStr::from_bytes(name);
        match grow(|buf| get(name, buf)) {
            Ok(value) => xattrs.push((name.to_os_string(), value)),
            // Gone since it was listed.
            Err(Errno::NODATA) => {}
            Err(e) => return Err(named(e, name)),
        }
    }
    Ok(xattrs)
}

/// Gives `fd` the attributes `xattrs`. One that cannot be set fails the whole, named (a
/// file system that keeps none, a namespace only root may write): the caller asked for
/// them, so a copy without them is not the copy asked for.
pub(crate) fn write(fd: BorrowedFd<'_>, xattrs: &Xattrs) -> io::Result<()> {
    write_with(xattrs, |name, value| {
        rustix::fs::fsetxattr(fd, name, value, XattrFlags::empty())
    })
}

/// Each of the attributes `xattrs` given by `set`, as [`write`] gives them.
fn write_with(
    xattrs: &Xattrs,
    mut set: impl FnMut(&OsStr, &[u8]) -> rustix::io::Result<()>,
) -> io::Result<()> {
    for (name, value) in xattrs {
        set(name, value).map_err(|e| named(e, name))?;
    }
    Ok(())
}

/// Every extended attribute of the symlink `name` of `dir` itself (on Linux only
/// `trusted.` and `security.` ones: the kernel keeps no `user.` ones on a link). A link
/// cannot be opened for its attributes, so it is held ([`hold_link`]) and named by that
/// descriptor's entry in `/proc/self/fd`, which leads to the link itself and no further:
/// never by its path, never through a link.
///
/// [`hold_link`]: super::held::hold_link
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn read_link(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<Xattrs> {
    let fd = super::held::hold_link(dir, name)?;
    let own = super::held::own_path(fd.as_fd());
    read_with(
        |buf| rustix::fs::listxattr(&own, buf),
        |name, buf| rustix::fs::getxattr(&own, name, buf),
    )
    .map_err(super::held::no_proc)
}

/// Gives the symlink `name` of `dir` itself the attributes `xattrs`, as [`read_link`]
/// reads them and [`write`] writes them.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn write_link(dir: BorrowedFd<'_>, name: &OsStr, xattrs: &Xattrs) -> io::Result<()> {
    if xattrs.is_empty() {
        return Ok(());
    }
    let fd = super::held::hold_link(dir, name)?;
    let own = super::held::own_path(fd.as_fd());
    write_with(xattrs, |name, value| {
        rustix::fs::setxattr(&own, name, value, XattrFlags::empty())
    })
    .map_err(super::held::no_proc)
}

/// [`read_link`] on macOS, through the link opened itself ([`hold_link`]).
///
/// [`hold_link`]: super::held::hold_link
#[cfg(target_vendor = "apple")]
pub(crate) fn read_link(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<Xattrs> {
    read(super::held::hold_link(dir, name)?.as_fd())
}

/// [`write_link`] on macOS, through the link opened itself.
#[cfg(target_vendor = "apple")]
pub(crate) fn write_link(dir: BorrowedFd<'_>, name: &OsStr, xattrs: &Xattrs) -> io::Result<()> {
    if xattrs.is_empty() {
        return Ok(());
    }
    write(super::held::hold_link(dir, name)?.as_fd(), xattrs)
}

/// Calls `call` with a buffer that grows until what it reads fits (`ERANGE`: the list or
/// value grew between the size asked and the read).
fn grow(
    mut call: impl FnMut(&mut [u8]) -> rustix::io::Result<usize>,
) -> rustix::io::Result<Vec<u8>> {
    let mut buf = vec![0; 256];
    loop {
        match call(&mut buf) {
            Ok(len) => {
                buf.truncate(len);
                return Ok(buf);
            }
            Err(Errno::RANGE) if buf.len() < 1 << 26 => {
                let len = buf.len() * 4;
                buf.resize(len, 0);
            }
            Err(e) => return Err(e),
        }
    }
}

/// `err`, saying which attribute it met.
fn named(err: Errno, name: &OsStr) -> io::Error {
    let err = io::Error::from(err);
    io::Error::new(
        err.kind(),
        format!("extended attribute '{}': {err}", name.to_string_lossy()),
    )
}

#[cfg(all(test, target_os = "linux"))]
mod tests {

    use super::*;

    /// Every attribute comes over: a value past the first buffer's size, and an ACL (a
    /// named user's entry, which the permission bits cannot hold).
    #[test]
    fn copies_every_attribute() {
        let tmp = tempfile::tempdir().unwrap();
        let (from, to) = (tmp.path().join("from"), tmp.path().join("to"));
        let from = std::fs::File::create(from).unwrap();
        let to = std::fs::File::create(to).unwrap();
        let big = vec![7u8; 3000];
        // The ACL u::rw-,u:1000:rw-,g::r--,m::rw-,o::r-- in the kernel's form: a version,
        // then (tag, permissions, id) per entry.
        let mut acl = 2u32.to_le_bytes().to_vec();
        for (tag, perm, id) in [
            (1u16, 6u16, u32::MAX),
            (2, 6, 1000),
            (4, 4, u32::MAX),
            (0x10, 6, u32::MAX),
            (0x20, 4, u32::MAX),
        ] {
            acl.extend(tag.to_le_bytes());
            acl.extend(perm.to_le_bytes());
            acl.extend(id.to_le_bytes());
        }
        for (name, value) in [
            ("user.small", &b"v"[..]),
            ("user.big", &big),
            ("system.posix_acl_access", &acl),
        ] {
            rustix::fs::fsetxattr(from.as_fd(), name, value, XattrFlags::empty())
                .unwrap_or_else(|e| panic!("{name} on {}: {e}", tmp.path().display()));
        }
        let xattrs = read(from.as_fd()).unwrap();
        write(to.as_fd(), &xattrs).unwrap();
        let mut copied = read(to.as_fd()).unwrap();
        copied.sort();
        assert_eq!(
            copied,
            [
                (OsString::from("system.posix_acl_access"), acl),
                (OsString::from("user.big"), big),
                (OsString::from("user.small"), b"v".to_vec()),
            ]
        );
    }
}
