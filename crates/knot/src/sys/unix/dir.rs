//! Directory handles for the scanner: every call is relative to an open directory
//! (`openat`, `fstatat`, `readlinkat`, `getdents64`), so the kernel never resolves a full
//! path and a tree deeper than `PATH_MAX` is walked like any other (DESIGN.md promise 5).
//!
//! Subdirectories are opened with `O_NOFOLLOW | O_DIRECTORY`: a directory that was replaced
//! by a link between the read of its parent and its own open fails to open instead of
//! being followed (promise 4).

use std::ffi::OsStr;
use std::io;
use std::ops::ControlFlow;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rustix::fs::{AtFlags, Mode, OFlags};

use super::super::{FileType, Meta, Stored};
use super::ntfs3g;
use super::stat::{file_type, meta, settled};
use crate::link::Kind;

/// Flags for every directory the scanner opens.
const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::CLOEXEC)
    .union(OFlags::NOCTTY);

/// An open directory.
#[derive(Debug)]
pub(crate) struct Dir {
    fd: OwnedFd,
    /// Whether the directory is on an ntfs-3g volume; asked once, when it holds a link.
    ntfs: OnceLock<bool>,
    /// Its file system's magic number (`fstatfs`); asked once, when needed.
    fs_type: OnceLock<i64>,
    /// Held to change entries in ([`Directory::hold`](super::super::Directory::hold)), not only to be listed: whether it is on
    /// an ntfs-3g volume is then asked of the directory itself, never of the mount table
    /// as it was when the process first looked (a volume mounted since must be known for
    /// what it is before a link on it is made, removed or replaced).
    held: bool,
}

impl From<OwnedFd> for Dir {
    fn from(fd: OwnedFd) -> Dir {
        Dir {
            fd,
            ntfs: OnceLock::new(),
            fs_type: OnceLock::new(),
            held: false,
        }
    }
}

impl super::super::Directory for Dir {
    /// Opens the directory `path` names, following links: a root the user named.
    fn open(path: &Path) -> io::Result<Dir> {
        let fd = rustix::fs::open(path, DIR_FLAGS, Mode::empty())?;
        Ok(Dir::from(fd))
    }

    /// Opens the subdirectory `name`. Without `follow`, a link there is never followed: the
    /// open fails (`ELOOP` or `ENOTDIR`).
    fn open_at(&self, name: &OsStr, follow: bool) -> io::Result<Dir> {
        let flags = if follow {
            DIR_FLAGS
        } else {
            DIR_FLAGS | OFlags::NOFOLLOW
        };
        let fd = rustix::fs::openat(&self.fd, name, flags, Mode::empty())?;
        Ok(Dir::from(fd))
    }

    /// Opens `..`: the scanner walks up from a root to learn its ancestors.
    fn parent(&self) -> io::Result<Dir> {
        self.open_at(OsStr::new(".."), true)
    }

    /// `fstat` of the directory itself.
    fn meta(&self) -> io::Result<Meta> {
        Ok(meta(&rustix::fs::fstat(&self.fd)?))
    }

    /// `fstatat` of `name`, following a link there only when asked. Not followed, a
    /// symlink on an ntfs-3g volume comes with its reparse tag, as the backend's `lstat` gives
    /// it: ntfs-3g shows files whose data sits behind a reparse point as symlinks too.
    fn stat_at(&self, name: &OsStr, follow: bool) -> io::Result<Meta> {
        let flags = if follow {
            AtFlags::empty()
        } else {
            AtFlags::SYMLINK_NOFOLLOW
        };
        let meta = meta(&settled(|| rustix::fs::statat(&self.fd, name, flags))?);
        if !follow && meta.ty == FileType::Link && self.is_ntfs() {
            return Ok(Meta {
                tag: ntfs3g::tag_at(self.fd.as_fd(), name)?,
                ..meta
            });
        }
        Ok(meta)
    }

    /// `name` itself with its sizes, for `du`: here the `fstatat` of [`Directory::stat_at`](super::super::Directory::stat_at),
    /// which has `st_blocks` already.
    fn usage_at(&self, name: &OsStr) -> io::Result<Meta> {
        self.stat_at(name, false)
    }

    /// What the link `name` stores (`readlinkat`).
    fn read_link_at(&self, name: &OsStr) -> io::Result<Stored> {
        let target = rustix::fs::readlinkat(&self.fd, name, Vec::new())?;
        let target = PathBuf::from(OsStr::from_bytes(target.as_bytes()));
        // On an ntfs-3g volume the link is a reparse point: report what Windows sees.
        if self.is_ntfs()
            && let Some(stored) = ntfs3g::read_link_at(self.fd.as_fd(), name, &target)?
        {
            return Ok(stored);
        }
        Ok(Stored {
            relative: target.is_relative(),
            target,
            kind: Kind::Symlink,
            dir: None,
            reparse: None,
            leads_to: None,
            judge: crate::sys::Judge::Follow,
        })
    }

    /// Opens the directory `path` names, following links (the user named it), to hold it
    /// and work below it, never to list it: `O_PATH` where there is one, so no read
    /// permission is needed. A path longer than the kernel takes is opened piece by piece.
    fn hold(path: &Path) -> io::Result<Dir> {
        Ok(Dir {
            held: true,
            ..Dir::from(super::entry::open_dir(path)?)
        })
    }

    /// [`Directory::hold`](super::super::Directory::hold) of the subdirectory `name`, never following a link there: the open
    /// fails (`ELOOP` or `ENOTDIR`).
    fn hold_at(&self, name: &OsStr) -> io::Result<Dir> {
        let flags = super::entry::DIR_FLAGS | OFlags::NOFOLLOW;
        let fd = rustix::fs::openat(&self.fd, name, flags, Mode::empty())?;
        Ok(Dir {
            held: true,
            ..Dir::from(fd)
        })
    }

    /// Makes the directory `name` here (`mkdirat`, which never follows or replaces
    /// anything).
    fn make_dir_at(&self, name: &OsStr) -> io::Result<()> {
        Ok(rustix::fs::mkdirat(
            &self.fd,
            name,
            Mode::from_raw_mode(0o777),
        )?)
    }

    /// Where this directory really is, for computing the targets knot stores: its
    /// canonical path as the kernel names the descriptor (Linux), else, where the kernel
    /// cannot name it (other Unix systems; past a page of path), the canonical path of
    /// `path`, the path it was opened by.
    fn real_dir(&self, path: &Path) -> io::Result<PathBuf> {
        self.real_path_at(OsStr::new("."))
            .or_else(|_| <super::Os as super::super::Backend>::real_dir(path))
    }

    /// `faccessat(".", W_OK | X_OK, AT_EACCESS)` through the held descriptor: the
    /// permission check an entry's creation or removal here would meet, as this process's
    /// effective user (root passes it); then `fstatvfs`'s read-only flag, which the
    /// permission check does not see.
    fn may_change(&self) -> io::Result<()> {
        use rustix::fs::{Access, AtFlags, StatVfsMountFlags};
        rustix::fs::accessat(
            &self.fd,
            ".",
            Access::WRITE_OK | Access::EXEC_OK,
            AtFlags::EACCESS,
        )?;
        if rustix::fs::fstatvfs(&self.fd)?
            .f_flag
            .contains(StatVfsMountFlags::RDONLY)
        {
            return Err(rustix::io::Errno::ROFS.into());
        }
        Ok(())
    }

    /// How links are made in this directory (`fstatfs`; ntfs-3g's attributes).
    fn place(&self) -> io::Result<super::super::Place> {
        super::place_of(self)
    }

    /// Gives the entry `target_name` of `target_dir` the new name `name` here (`linkat`
    /// without `AT_SYMLINK_FOLLOW`: a symlink given as the target gets the second name, it
    /// is not followed; never replaces anything).
    fn hard_link_at(&self, name: &OsStr, target_dir: &Dir, target_name: &OsStr) -> io::Result<()> {
        Ok(rustix::fs::linkat(
            &target_dir.fd,
            target_name,
            &self.fd,
            name,
            AtFlags::empty(),
        )?)
    }

    /// Removes the link `name` here itself, never what it leads to, and only if it is
    /// still a link (any link: inode numbers are reused at once, so which link it is
    /// cannot be told apart reliably, and removing a link loses no data); a real file that
    /// took its place is left where it is. `path` names it in messages. See `entry.rs`.
    fn remove_link_at(&self, name: &OsStr, path: &Path) -> io::Result<()> {
        super::Entry::new(self.fd.as_fd(), name, path).remove_link()
    }

    /// One `unlinkat` without `AT_REMOVEDIR`: it removes the link itself, never what it
    /// leads to, and fails (`EISDIR`) where a directory took its place. On ntfs-3g a
    /// junction shown as a link goes the same way (as [`Directory::remove_link_at`](super::super::Directory::remove_link_at)
    /// removes it in the end).
    fn remove_tree_link_at(&self, name: &OsStr, _path: &Path) -> io::Result<()> {
        Ok(rustix::fs::unlinkat(&self.fd, name, AtFlags::empty())?)
    }

    /// Puts the new link `staged`, made here under a hidden name, in the place of `name`,
    /// if that is a link (any link: a racing `--force` may have replaced the one
    /// inspected) or gone; a real file put there since it was inspected is never replaced
    /// (DESIGN.md promise 2). Atomic where the file system can swap two names; see
    /// `entry.rs` for how, and for file systems that cannot (FUSE, ntfs-3g).
    fn rename_over_at(&self, staged: &OsStr, name: &OsStr, path: &Path) -> io::Result<()> {
        super::Entry::new(self.fd.as_fd(), name, path).replace_with(staged)
    }

    /// Removes the name `name` here (`unlinkat`): for a name this process just made and
    /// checked (a hard link it takes back).
    fn remove_name_at(&self, name: &OsStr) -> io::Result<()> {
        Ok(rustix::fs::unlinkat(&self.fd, name, AtFlags::empty())?)
    }

    /// See `copy.rs`.
    fn copy_file_at(
        &self,
        name: &OsStr,
        to: &Dir,
        to_name: &OsStr,
        xattrs: bool,
    ) -> io::Result<super::super::Copied> {
        super::copy::copy_file_at(self.fd.as_fd(), name, to.fd.as_fd(), to_name, xattrs)
    }

    /// `openat` with `O_DIRECTORY | O_NOFOLLOW`, then `flistxattr` and `fgetxattr`
    /// (`xattr.rs`).
    fn xattrs_at(&self, name: &OsStr) -> io::Result<super::super::Xattrs> {
        super::copy::xattrs_at(self.fd.as_fd(), name)
    }

    /// `openat` with `O_NOFOLLOW | O_NONBLOCK`, a regular file checked by its descriptor,
    /// then `flistxattr` and `fgetxattr` (`xattr.rs`).
    fn file_xattrs_at(&self, name: &OsStr, follow: bool) -> io::Result<super::super::Xattrs> {
        super::copy::file_xattrs_at(self.fd.as_fd(), name, follow)
    }

    /// As `give_dir_attrs_at`, with `fsetxattr` (`xattr.rs`).
    fn give_xattrs_at(
        &self,
        name: &OsStr,
        xattrs: &super::super::Xattrs,
        id: (u64, u128),
    ) -> io::Result<()> {
        super::copy::give_xattrs_at(self.fd.as_fd(), name, xattrs, id)
    }

    /// `fstatat` without following a link.
    fn attrs_at(&self, name: &OsStr) -> io::Result<super::super::Attrs> {
        super::copy::attrs_at(self.fd.as_fd(), name)
    }

    /// Through the link held by a descriptor (`copy.rs`).
    fn give_link_attrs_at(&self, name: &OsStr, attrs: &super::super::Attrs) -> io::Result<()> {
        super::copy::give_link_attrs_at(self.fd.as_fd(), name, attrs)
    }

    /// The link held by a descriptor (`xattr.rs`), sorted by name.
    #[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
    fn link_xattrs_at(&self, name: &OsStr) -> io::Result<super::super::Xattrs> {
        let mut xattrs = super::xattr::read_link(self.fd.as_fd(), name)?;
        xattrs.sort();
        Ok(xattrs)
    }

    /// The link held by a descriptor (`xattr.rs`).
    #[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
    fn give_link_xattrs_at(&self, name: &OsStr, xattrs: &super::super::Xattrs) -> io::Result<()> {
        super::xattr::write_link(self.fd.as_fd(), name, xattrs)
    }

    /// Through a descriptor of the directory opened with `O_NOFOLLOW`, checked by
    /// `fstat` to be the directory `id`: `fchown`, `fchmod`, `futimens`.
    fn give_dir_attrs_at(
        &self,
        name: &OsStr,
        attrs: &super::super::Attrs,
        id: (u64, u128),
    ) -> io::Result<()> {
        super::copy::give_dir_attrs_at(self.fd.as_fd(), name, attrs, id)
    }

    /// `openat` following the link `name`, then staged as `copy_file_at` (`copy.rs`).
    fn copy_followed_file_at(
        &self,
        name: &OsStr,
        to: &Dir,
        to_name: &OsStr,
        over: bool,
        xattrs: bool,
    ) -> io::Result<super::super::Copied> {
        use super::copy::{Put, copy_followed_file_at};
        let put = if over { Put::Over } else { Put::New };
        copy_followed_file_at(self.fd.as_fd(), name, to.fd.as_fd(), to_name, put, xattrs)
    }

    /// `openat` following the link `name`, the file checked by its descriptor, then staged
    /// as `copy_file_at` (`copy.rs`).
    fn copy_followed_file_checked_at(
        &self,
        name: &OsStr,
        to: &Dir,
        to_name: &OsStr,
        id: (u64, u128),
    ) -> io::Result<super::super::Copied> {
        super::copy::copy_followed_file_checked_at(
            self.fd.as_fd(),
            name,
            to.fd.as_fd(),
            to_name,
            id,
        )
    }

    /// `mkfifoat` or `mknodat`, then the attributes given through a descriptor of the
    /// new entry opened without following a link (`copy.rs`).
    fn copy_special_at(
        &self,
        name: &OsStr,
        to: &Dir,
        to_name: &OsStr,
    ) -> io::Result<(crate::link::Special, bool)> {
        super::copy::copy_special_at(self.fd.as_fd(), name, to.fd.as_fd(), to_name)
    }

    /// On an ntfs-3g volume: a new empty directory with the buffer set through its own
    /// descriptor, read back (`ntfs3g.rs`).
    fn make_reparse_dir_at(&self, name: &OsStr, buffer: &[u8]) -> io::Result<()> {
        if !self.is_ntfs() {
            return Err(io::ErrorKind::Unsupported.into());
        }
        ntfs3g::make_reparse_dir_at(self.fd.as_fd(), name, buffer)
    }

    /// `mkdirat` with mode 0700 (as cp makes a directory: no group or other bits until
    /// the end), then [`hold_at`](super::super::Directory::hold_at) and `fstat`.
    fn make_copy_dir_at(&self, name: &OsStr) -> io::Result<(Dir, (u64, u128))> {
        rustix::fs::mkdirat(&self.fd, name, Mode::from_raw_mode(0o700))?;
        let dir = self.hold_at(name)?;
        let id = super::super::Directory::meta(&dir)?.id;
        Ok((dir, id))
    }

    /// `renameat2(RENAME_EXCHANGE)` (Linux); `false` where the file system answers that it
    /// cannot (`EINVAL`, `ENOSYS`, `ENOTSUP`: FUSE, ntfs-3g) and on other Unix systems.
    fn exchange_at(&self, a: &OsStr, b: &OsStr) -> io::Result<bool> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use rustix::fs::{RenameFlags, renameat_with};
            use rustix::io::Errno;
            match renameat_with(&self.fd, a, &self.fd, b, RenameFlags::EXCHANGE) {
                Ok(()) => Ok(true),
                Err(Errno::INVAL | Errno::NOSYS | Errno::NOTSUP) => Ok(false),
                Err(err) => Err(err.into()),
            }
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            let _ = (a, b);
            Ok(false)
        }
    }

    /// `renameat`.
    fn rename_at(&self, from: &OsStr, to: &OsStr) -> io::Result<()> {
        Ok(rustix::fs::renameat(&self.fd, from, &self.fd, to)?)
    }

    /// `renameat2(RENAME_NOREPLACE)` (Linux). Where the file system cannot (`EINVAL`,
    /// `ENOSYS`, `ENOTSUP`: FUSE, ntfs-3g) and on other Unix systems: `to_name` looked at
    /// first, then a plain `renameat`, which never replaces a file or a directory with
    /// entries by a directory; only an empty directory made at `to_name` between the look
    /// and the rename could be replaced.
    fn move_to_at(&self, name: &OsStr, to: &Dir, to_name: &OsStr) -> io::Result<()> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use rustix::fs::{RenameFlags, renameat_with};
            use rustix::io::Errno;
            match renameat_with(&self.fd, name, &to.fd, to_name, RenameFlags::NOREPLACE) {
                Err(Errno::INVAL | Errno::NOSYS | Errno::NOTSUP) => {}
                other => return Ok(other?),
            }
        }
        match rustix::fs::statat(&to.fd, to_name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(_) => return Err(io::ErrorKind::AlreadyExists.into()),
            Err(rustix::io::Errno::NOENT) => {}
            Err(err) => return Err(err.into()),
        }
        Ok(rustix::fs::renameat(&self.fd, name, &to.fd, to_name)?)
    }

    /// `unlinkat(AT_REMOVEDIR)`, which removes a directory only, never a link to one.
    fn remove_dir_at(&self, name: &OsStr) -> io::Result<()> {
        Ok(rustix::fs::unlinkat(&self.fd, name, AtFlags::REMOVEDIR)?)
    }

    /// `openat` with `O_RDONLY | O_DIRECTORY | O_NOFOLLOW`, then the entries read through
    /// that descriptor, which is the one held.
    fn hold_empty_dir_at(&self, name: &OsStr) -> io::Result<Option<Dir>> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.fd, name, flags, Mode::empty())?;
        let dir = Dir {
            held: true,
            ..Dir::from(fd)
        };
        let mut empty = true;
        read_entries(&mut Vec::with_capacity(4096), &dir, &mut |_, _, _| {
            empty = false;
            ControlFlow::Break(())
        })?;
        Ok(empty.then_some(dir))
    }

    /// On an ntfs-3g volume, see `ntfs3g.rs`; elsewhere the refusal.
    fn system_file_at(&self, name: &OsStr, limit: usize) -> io::Result<super::super::SystemFile> {
        if !self.is_ntfs() {
            return Err(super::super::error::Error::NotNtfs.into());
        }
        super::ntfs3g::system_file_at(self.fd.as_fd(), name, limit)
    }

    /// On an ntfs-3g volume, the file set aside and checked by what it holds (see
    /// `entry.rs`); elsewhere the refusal.
    fn replace_system_file_at(
        &self,
        staged: &OsStr,
        name: &OsStr,
        path: &Path,
        bytes: &[u8],
    ) -> io::Result<()> {
        if !self.is_ntfs() {
            return Err(super::super::error::Error::NotNtfs.into());
        }
        let same = |dir: BorrowedFd<'_>, name: &OsStr| {
            let file = super::ntfs3g::system_file_at(dir, name, bytes.len())?;
            Ok(file.attributes & super::super::ATTRIBUTE_SYSTEM != 0
                && !file.more
                && file.bytes == bytes)
        };
        super::Entry::new(self.fd.as_fd(), name, path).replace_file_with(staged, same)
    }

    /// The file set aside and judged there by its identity and bytes (see `entry.rs`).
    fn put_link_over_file_at(
        &self,
        staged: &OsStr,
        name: &OsStr,
        path: &Path,
        file: (u64, u128),
        data: &[u8],
    ) -> io::Result<()> {
        let same = |dir: BorrowedFd<'_>, name: &OsStr| match super::update::read_file_at(
            dir,
            name,
            data.len() + 1,
        ) {
            Ok((meta, bytes)) => Ok(meta.id == file && bytes == data),
            Err(e) if super::super::error::of(&e).is_some() => Ok(false),
            Err(e) => Err(e),
        };
        super::Entry::new(self.fd.as_fd(), name, path).replace_file_with(staged, same)
    }

    /// See `copy.rs`: staged, then `renameat` over `to_name`.
    fn replace_file_at(
        &self,
        name: &OsStr,
        to: &Dir,
        to_name: &OsStr,
        xattrs: bool,
    ) -> io::Result<super::super::Copied> {
        use super::copy::{Put, copy_staged};
        copy_staged(
            self.fd.as_fd(),
            name,
            to.fd.as_fd(),
            to_name,
            Put::Over,
            xattrs,
        )
    }

    /// `renameat`, or `renameat2` with `RENAME_NOREPLACE` (see `copy.rs`).
    fn put_staged_at(&self, staged: &OsStr, name: &OsStr, over: bool) -> io::Result<()> {
        use super::copy::{Put, put_staged};
        let put = if over { Put::Over } else { Put::New };
        put_staged(self.fd.as_fd(), staged, name, put)
    }

    /// One `fstatat` without following a link.
    fn look_at(&self, name: &OsStr) -> io::Result<(Meta, super::super::Attrs)> {
        super::update::look_at(self.fd.as_fd(), name)
    }

    /// One `fstatat` following the link `name`.
    fn look_through(&self, name: &OsStr) -> io::Result<(Meta, super::super::Attrs)> {
        super::update::look_through(self.fd.as_fd(), name)
    }

    /// See `update.rs`.
    fn same_data_at(
        &self,
        name: &OsStr,
        follow: bool,
        other: &Dir,
        other_name: &OsStr,
    ) -> io::Result<bool> {
        super::update::same_data_at(self.fd.as_fd(), name, follow, other.fd.as_fd(), other_name)
    }

    /// See `update.rs`.
    fn read_file_at(&self, name: &OsStr, limit: usize) -> io::Result<(Meta, Vec<u8>)> {
        super::update::read_file_at(self.fd.as_fd(), name, limit)
    }

    /// See `update.rs`.
    fn remove_tree_at(&self, name: &OsStr) -> io::Result<u64> {
        super::update::remove_tree_at(self.fd.as_fd(), name)
    }

    /// `getdents64` through a descriptor of `.` opened from the one held (which may be
    /// an `O_PATH` descriptor, which cannot be read).
    /// `statx` of the descriptor with `STATX_MNT_ID`.
    fn mount_id(&self) -> io::Result<Option<u64>> {
        Ok(super::update::mount_id(self.fd.as_fd()))
    }

    /// One `statx` for the device, inode and mount id where the kernel has it; else
    /// `fstat` and [`Directory::mount_id`](super::super::Directory::mount_id).
    fn identity(&self) -> io::Result<((u64, u128), Option<u64>)> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use rustix::fs::StatxFlags;
            let want = StatxFlags::INO | StatxFlags::MNT_ID;
            if let Ok(statx) = rustix::fs::statx(&self.fd, "", AtFlags::EMPTY_PATH, want)
                && StatxFlags::from_bits_retain(statx.stx_mask).contains(want)
            {
                let dev = rustix::fs::makedev(statx.stx_dev_major, statx.stx_dev_minor);
                return Ok(((dev, u128::from(statx.stx_ino)), Some(statx.stx_mnt_id)));
            }
        }
        Ok((self.meta()?.id, self.mount_id()?))
    }

    fn names(&self) -> io::Result<Vec<std::ffi::OsString>> {
        super::update::names(self.fd.as_fd())
    }

    /// The canonical path of what `name` leads to, found without building a path: the
    /// kernel names the file it opened (`O_PATH`, then `/proc/self/fd`). Fails with
    /// `ENAMETOOLONG` past a page of path, and with `Unsupported` where there is no `/proc`.
    fn real_path_at(&self, name: &OsStr) -> io::Result<PathBuf> {
        real_path_at(self, name)
    }
}

impl Dir {
    /// The descriptor, for the backend's own `*at` calls.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Whether the directory is on an ntfs-3g volume; asked once.
    pub(super) fn is_ntfs(&self) -> bool {
        *self
            .ntfs
            .get_or_init(|| ntfs3g::is_volume_dir(self.fd.as_fd(), self.held, || self.fs_type()))
    }

    /// The magic number of the directory's file system (`fstatfs` f_type; 0 where it
    /// cannot be read); asked once.
    #[allow(
        clippy::useless_conversion,
        reason = "f_type is i64 on x86_64 Linux but narrower on other targets"
    )]
    pub(super) fn fs_type(&self) -> i64 {
        *self
            .fs_type
            .get_or_init(|| rustix::fs::fstatfs(&self.fd).map_or(0, |s| i64::from(s.f_type)))
    }

    /// Makes the symlink `name` here holding `target` (`symlinkat`, which never follows
    /// or replaces anything).
    pub(crate) fn symlink_at(&self, name: &OsStr, target: &Path) -> io::Result<()> {
        Ok(rustix::fs::symlinkat(target, &self.fd, name)?)
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn real_path_at(dir: &Dir, name: &OsStr) -> io::Result<PathBuf> {
    let fd = rustix::fs::openat(&dir.fd, name, OFlags::PATH | OFlags::CLOEXEC, Mode::empty())?;
    std::fs::read_link(super::held::own_path(fd.as_fd()))
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn real_path_at(_dir: &Dir, _name: &OsStr) -> io::Result<PathBuf> {
    Err(crate::sys::error::Error::NoProc.into())
}

/// Reads directories with one reusable buffer per thread.
#[derive(Debug)]
pub(crate) struct DirReader {
    buf: Vec<u8>,
}

impl super::super::Reader for DirReader {
    type Dir = Dir;

    fn new() -> DirReader {
        // glibc's readdir reads 32 KiB at a time; more buys nothing measurable.
        DirReader {
            buf: Vec::with_capacity(32 * 1024),
        }
    }

    /// Calls `each` with the name, type and inode number (`d_ino`) of every entry but `.`
    /// and `..`, as the directory lists them. The type is `None` where the file system
    /// does not say (`DT_UNKNOWN`): the caller must stat the entry. `each` may stop the
    /// read early.
    fn read(
        &mut self,
        dir: &Dir,
        mut each: impl FnMut(&OsStr, Option<FileType>, Option<u64>) -> ControlFlow<()>,
    ) -> io::Result<()> {
        read_entries(&mut self.buf, dir, &mut each)
    }
}

/// What [`Reader::read`](super::super::Reader::read) calls with each entry: its name, type and `d_ino`.
type Each<'a> = dyn FnMut(&OsStr, Option<FileType>, Option<u64>) -> ControlFlow<()> + 'a;

/// `getdents64` straight into the buffer: no allocation per entry.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn read_entries(buf: &mut Vec<u8>, dir: &Dir, each: &mut Each<'_>) -> io::Result<()> {
    let mut entries = rustix::fs::RawDir::new(&dir.fd, buf.spare_capacity_mut());
    while let Some(entry) = entries.next() {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        let ty = file_type(entry.file_type());
        if each(OsStr::from_bytes(name), ty, Some(entry.ino())).is_break() {
            break;
        }
    }
    Ok(())
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn read_entries(_buf: &mut Vec<u8>, dir: &Dir, each: &mut Each<'_>) -> io::Result<()> {
    let mut entries = rustix::fs::Dir::read_from(&dir.fd)?;
    while let Some(entry) = entries.read() {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        let ty = file_type(entry.file_type());
        if each(OsStr::from_bytes(name), ty, Some(entry.ino())).is_break() {
            break;
        }
    }
    Ok(())
}

/// How many directories `knot apply` may hold open at once: half the soft limit on open
/// files, so a manifest over thousands of directories keeps each open once, and the other
/// half is left for the rest of the program.
pub(crate) fn max_held_dirs() -> usize {
    let soft = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
    let half = soft.map_or(u64::MAX, |n| n / 2);
    usize::try_from(half.clamp(8, 1 << 16)).unwrap_or(1 << 16)
}

/// How many directories a scan may keep open at once: a quarter of the soft limit on open
/// files, at most 256, so a scan of a tree thousands of levels deep never runs out of
/// descriptors and leaves plenty for the rest of the program.
pub(crate) fn max_open_dirs() -> usize {
    let soft = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
    let quarter = soft.map_or(u64::MAX, |n| n / 4);
    usize::try_from(quarter.clamp(8, 256)).unwrap_or(256)
}
