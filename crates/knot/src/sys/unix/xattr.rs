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
use std::os::fd::BorrowedFd;
use std::os::unix::ffi::OsStrExt as _;

use rustix::fs::XattrFlags;
use rustix::io::Errno;

/// The extended attributes of one file or directory: each name with its value.
pub(crate) type Xattrs = Vec<(OsString, Vec<u8>)>;

/// Every extended attribute of `fd`. A file system that keeps none (`ENOTSUP`) has none.
pub(crate) fn read(fd: BorrowedFd<'_>) -> io::Result<Xattrs> {
    let names = match grow(|buf| rustix::fs::flistxattr(fd, buf)) {
        Ok(names) => names,
        Err(Errno::NOTSUP) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut xattrs = Vec::new();
    for name in names.split(|&b| b == 0).filter(|name| !name.is_empty()) {
        let name = OsStr::from_bytes(name);
        match grow(|buf| rustix::fs::fgetxattr(fd, name, buf)) {
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
    for (name, value) in xattrs {
        rustix::fs::fsetxattr(fd, name.as_os_str(), value, XattrFlags::empty())
            .map_err(|e| named(e, name))?;
    }
    Ok(())
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
    use std::os::fd::AsFd as _;

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
