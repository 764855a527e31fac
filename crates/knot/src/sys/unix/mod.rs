//! The Unix backend: links are made, replaced and removed with the `*at` calls relative to a
//! directory held open (`symlinkat(2)`, `linkat(2)`, `renameat2(2)`, `unlinkat(2)`:
//! `dir.rs` and `entry.rs`); paths are taken only by the reads of a path the user named
//! (`lstat`, `stat`, `readlink`). rustix's wrappers are exact here (none follows a link
//! unless asked), so this file needs no `unsafe`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::{Backend, DotDot, Junctions, Meta, Place, Request, Stored, Strategy, Written};
use crate::link::{Kind, Status};

// The scanner's directory handles: `openat`, `fstatat`, `readlinkat`, `getdents64`.
mod dir;
// A stat call's answer as `Meta`.
mod stat;
pub(crate) use dir::{Dir, DirReader};
use stat::meta as dir_meta;
// NTFS volumes mounted with ntfs-3g: real reparse points through an extended attribute,
// a strategy of this backend. Only Linux has one; elsewhere the same calls find none.
#[cfg(target_os = "linux")]
mod ntfs3g;
#[cfg(not(target_os = "linux"))]
#[path = "ntfs3g_absent.rs"]
mod ntfs3g;
// Resolution inside an image root (`--root`).
pub(crate) mod image;
// Removing and replacing links through their parent directory.
mod entry;
// A chain of links walked one link at a time.
mod chain;
// A file's data, permissions and times copied through held directories.
mod copy;
// A file held by a descriptor, and named through it (`/proc/self/fd/N`).
#[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
mod held;
// Extended attributes copied by descriptor (`knot copy --xattrs`).
#[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
mod xattr;
// What `copy --update` and `--mirror` ask of the copy's held directories.
mod update;

#[cfg(target_os = "linux")]
mod btrfs;

pub(crate) use entry::Entry;
#[cfg(target_os = "linux")]
pub(crate) use entry::proc_path;

/// An ordinary Unix file system: `symlink(2)` makes one kind of symlink for files and
/// directories alike, and there are no junctions: `knot junction` makes an absolute
/// directory symlink instead.
#[derive(Debug)]
struct Native;

impl Strategy for Native {
    fn junctions(&self) -> Junctions {
        Junctions::Emulated
    }

    fn flavour_matters(&self) -> bool {
        false
    }

    fn symlink(&self, request: &Request<'_>) -> io::Result<Written> {
        let at = request.at;
        at.dir.symlink_at(at.name, request.target).map(|()| None)
    }

    /// Not reached: the caller makes a symlink instead ([`Junctions::Emulated`]).
    fn junction(&self, _request: &Request<'_>) -> io::Result<Written> {
        Err(super::error::Error::NoJunctions.into())
    }
}

/// An NTFS volume mounted with the kernel's driver, which has no way to write a junction.
/// Its symlinks are Unix symlinks, as on [`Native`].
#[derive(Debug)]
struct KernelNtfs;

impl Strategy for KernelNtfs {
    fn junctions(&self) -> Junctions {
        Junctions::Refused(
            "this NTFS volume is mounted with the kernel's ntfs3 driver, which cannot write \
             junctions (a Unix symlink here would be invisible to Windows); unmount it and \
             mount it with ntfs-3g (`ntfs-3g DEVICE MOUNTPOINT`), then run knot again"
                .into(),
        )
    }

    fn flavour_matters(&self) -> bool {
        false
    }

    fn symlink(&self, request: &Request<'_>) -> io::Result<Written> {
        Native.symlink(request)
    }

    /// Not reached: the caller refuses first ([`Junctions::Refused`]).
    fn junction(&self, request: &Request<'_>) -> io::Result<Written> {
        Native.junction(request)
    }
}

/// NTFS_SB_MAGIC, which the kernel's `ntfs` and `ntfs3` drivers report in `statfs`.
const NTFS_SB_MAGIC: i64 = 0x5346_544e;

/// The file system's magic number (`statfs` f_type), which the kernel's drivers set.
#[allow(
    clippy::useless_conversion,
    reason = "f_type is i64 on x86_64 Linux but narrower on other targets"
)]
#[cfg_attr(
    not(target_os = "linux"),
    allow(
        dead_code,
        reason = "only Linux asks a path's file system: /proc, sysfs, ntfs-3g"
    )
)]
pub(crate) fn fs_type(dir: &Path) -> Option<i64> {
    rustix::fs::statfs(dir).ok().map(|s| i64::from(s.f_type))
}

/// How links are made in the directory held open as `dir`, found from its file system
/// (`fstatfs`, asked once per directory). An ntfs-3g volume (Linux) gets its own strategy,
/// which writes reparse points.
fn place_of(dir: &Dir) -> io::Result<Place> {
    if dir.is_ntfs()
        && let Some(volume) = ntfs3g::Volume::of_dir(dir.fd())?
    {
        return Ok(Place::new(volume));
    }
    Ok(if dir.fs_type() == NTFS_SB_MAGIC {
        Place::new(KernelNtfs)
    } else {
        Place::new(Native)
    })
}

/// A path longer than this is handed to the kernel through its parent's descriptor.
#[cfg(target_os = "linux")]
const LONG: usize = 4000;

/// Runs `call` on `path`, or, for a path longer than the kernel takes (`PATH_MAX`), on a
/// short path to the same entry (`/proc/self/fd/N/NAME`, the parent opened piece by piece),
/// so every path a scan prints can be shown (DESIGN.md promise 5). Only for reads of a
/// path the user named; changes go through a held directory.
fn short<T>(path: &Path, call: impl FnOnce(&Path) -> io::Result<T>) -> io::Result<T> {
    #[cfg(target_os = "linux")]
    if path.as_os_str().len() >= LONG
        && let Some(name) = path.file_name()
    {
        use std::os::fd::AsFd;
        let parent = entry::open_dir(crate::path::parent_dir(path))?;
        return call(&proc_path(parent.as_fd(), name));
    }
    call(path)
}

/// The Unix backend (the contract in `sys/mod.rs`).
#[derive(Debug)]
pub(crate) struct Os;

impl Backend for Os {
    type Dir = Dir;
    type DirReader = DirReader;

    /// The kernel resolves `..` after the links before it.
    const DOT_DOT: DotDot = DotDot::Physical;
    const COPIES_FILES: bool = true;
    const UPDATES_COPIES: bool = true;
    /// btrfs names a file's names (`BTRFS_IOC_INO_PATHS`).
    const NAMES_FROM: super::NamesFrom = super::NamesFrom::BtrfsInoPaths;

    /// `lstat`: the entry itself. On an ntfs-3g volume a symlink's reparse tag comes with
    /// it, since ntfs-3g shows files whose data sits behind a reparse point
    /// (WOF-compressed, cloud files) as symlinks too, and those are no links
    /// ([`Meta::is_link`]).
    fn lstat(path: &Path) -> io::Result<Meta> {
        short(path, |path| {
            let meta = dir_meta(&stat::settled(|| rustix::fs::lstat(path))?);
            if meta.ty == super::FileType::Link {
                return Ok(Meta {
                    tag: ntfs3g::tag(path)?,
                    ..meta
                });
            }
            Ok(meta)
        })
    }

    fn stat(path: &Path) -> io::Result<Meta> {
        short(path, |path| {
            Ok(dir_meta(&stat::settled(|| rustix::fs::stat(path))?))
        })
    }

    /// Reads a link: its text from `readlink(2)`; on an ntfs-3g volume also its reparse
    /// point, which says what Windows sees.
    fn read_link(path: &Path) -> io::Result<Stored> {
        short(path, |path| {
            let text = fs::read_link(path)?;
            if let Some(stored) = ntfs3g::read_link(path, &text)? {
                return Ok(stored);
            }
            Ok(Stored {
                relative: text.is_relative(),
                target: text,
                kind: Kind::Symlink,
                dir: None,
                reparse: None,
                leads_to: None,
                judge: crate::sys::Judge::Follow,
            })
        })
    }

    /// btrfs (`BTRFS_IOC_INO_PATHS`, with `CAP_SYS_ADMIN`); `None` elsewhere: walk.
    fn hard_link_names(path: &Path) -> io::Result<Option<Vec<PathBuf>>> {
        #[cfg(target_os = "linux")]
        return btrfs::names(path);
        #[cfg(not(target_os = "linux"))]
        {
            let _ = path;
            Ok(None)
        }
    }

    /// Everywhere but overlayfs (`OVERLAYFS_SUPER_MAGIC`), whose listings may give a lower
    /// layer's number.
    fn listed_ino_is_st_ino(dir: &Path) -> bool {
        #[cfg(target_os = "linux")]
        return fs_type(dir).is_some_and(|ty| ty != 0x794c_7630);
        #[cfg(not(target_os = "linux"))]
        {
            let _ = dir;
            true
        }
    }

    fn classify_resolve_error(err: &io::Error) -> Status {
        match err.raw_os_error() {
            Some(code) if code == rustix::io::Errno::LOOP.raw_os_error() => Status::Loop,
            Some(code)
                if code == rustix::io::Errno::NOENT.raw_os_error()
                    || code == rustix::io::Errno::NOTDIR.raw_os_error() =>
            {
                Status::Dangling
            }
            _ => Status::Unreadable,
        }
    }

    fn chain_status(path: &Path) -> Option<Status> {
        chain::chain_status(path)
    }

    /// Running out of file descriptors (EMFILE, ENFILE), which must never read as a race.
    fn os_error_kind(err: &io::Error) -> Option<super::OsError> {
        let code = err.raw_os_error()?;
        [rustix::io::Errno::MFILE, rustix::io::Errno::NFILE]
            .iter()
            .any(|errno| errno.raw_os_error() == code)
            .then_some(super::OsError::TooManyOpenFiles)
    }

    /// EACCES, as opposed to EPERM, which a file system without links also gives.
    fn is_access_denied(err: &io::Error) -> bool {
        err.raw_os_error() == Some(rustix::io::Errno::ACCESS.raw_os_error())
    }

    /// On NTFS a junction or a directory symlink is a directory with a reparse point
    /// (FILE_ATTRIBUTE_DIRECTORY), which ntfs-3g presents to Linux as a symlink. A hard
    /// link to such an entry would give a directory a second name, which NTFS never allows.
    fn is_directory_entry(path: &Path) -> bool {
        ntfs3g::is_directory_entry(path)
    }

    /// Whether an ntfs-3g volume may be mounted: the mount table read again.
    fn look_at_mounts() {
        ntfs3g::look_at_mounts();
    }

    /// `proc` and `sysfs` (PROC_SUPER_MAGIC and SYSFS_MAGIC, from linux/magic.h).
    fn kernel_fs(dir: &Path) -> Option<&'static str> {
        #[cfg(target_os = "linux")]
        return match fs_type(dir)? {
            0x9fa0 => Some("proc"),
            0x6265_6572 => Some("sysfs"),
            _ => None,
        };
        #[cfg(not(target_os = "linux"))]
        {
            let _ = dir;
            None
        }
    }

    fn special(path: &Path, follow: bool) -> Option<crate::link::Special> {
        use crate::link::Special;
        use std::os::unix::fs::FileTypeExt;
        let meta = if follow {
            std::fs::metadata(path)
        } else {
            std::fs::symlink_metadata(path)
        };
        let ty = meta.ok()?.file_type();
        [
            (ty.is_char_device(), Special::CharDevice),
            (ty.is_block_device(), Special::BlockDevice),
            (ty.is_fifo(), Special::Fifo),
            (ty.is_socket(), Special::Socket),
        ]
        .into_iter()
        .find_map(|(is, special)| is.then_some(special))
    }

    /// Its canonical path, symlinks resolved, so a target computed from it is right from
    /// the link's real place.
    fn real_dir(dir: &Path) -> io::Result<PathBuf> {
        fs::canonicalize(dir)
    }

    fn max_open_dirs() -> usize {
        dir::max_open_dirs()
    }

    fn max_held_dirs() -> usize {
        dir::max_held_dirs()
    }
}

#[cfg(test)]
mod tests {
    use super::super::Directory as _;
    use super::*;

    /// No kernel here has the ntfs3 driver to mount with, so its refusal is checked on the
    /// decision itself: a junction there is refused with the fix, never faked.
    #[test]
    fn kernel_ntfs_refuses_junctions_and_says_how_to_get_them() {
        let Junctions::Refused(why) = KernelNtfs.junctions() else {
            panic!("ntfs3 must refuse junctions");
        };
        assert!(
            why.contains("ntfs3") && why.contains("mount it with ntfs-3g"),
            "{why}"
        );
        assert_eq!(Native.junctions(), Junctions::Emulated);
        assert!(!KernelNtfs.flavour_matters());
    }

    /// `rename_over_at` and `remove_link_at` of `dir`'s entries, through `dir` held open.
    fn rename_over(new: &Path, old: &Path) -> io::Result<()> {
        let dir = Dir::hold(crate::path::parent_dir(old)).unwrap();
        dir.rename_over_at(new.file_name().unwrap(), old.file_name().unwrap(), old)
    }

    fn remove_link(link: &Path) -> io::Result<()> {
        let dir = Dir::hold(crate::path::parent_dir(link)).unwrap();
        dir.remove_link_at(link.file_name().unwrap(), link)
    }

    /// Promise 2 under a race: if a real file took the link's place after it was
    /// inspected, `--force`'s last step leaves the file alone and says so.
    #[test]
    fn rename_over_replaces_links_only() {
        let dir = tempfile::tempdir().unwrap();
        let (old, new) = (dir.path().join("l"), dir.path().join(".l.new"));
        std::os::unix::fs::symlink("a", &old).unwrap();
        std::os::unix::fs::symlink("b", &new).unwrap();
        // Someone replaces the link with a real file.
        fs::remove_file(&old).unwrap();
        fs::write(&old, "precious").unwrap();
        let err = rename_over(&new, &old).unwrap_err();
        assert!(
            err.to_string().contains("replaced by something else"),
            "{err}"
        );
        assert_eq!(fs::read_to_string(&old).unwrap(), "precious");
        assert_eq!(fs::read_link(&new).unwrap(), Path::new("b"));
        // The link itself is replaced, and the old one is gone.
        fs::remove_file(&old).unwrap();
        std::os::unix::fs::symlink("a", &old).unwrap();
        rename_over(&new, &old).unwrap();
        assert_eq!(fs::read_link(&old).unwrap(), Path::new("b"));
        assert!(fs::symlink_metadata(&new).is_err());
    }

    /// Promise 1 under a race: a real file that took the link's place after it was
    /// inspected is never removed, and stays where it is.
    #[test]
    fn remove_link_removes_links_only() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("l");
        std::os::unix::fs::symlink("a", &link).unwrap();
        fs::remove_file(&link).unwrap();
        fs::write(&link, "precious").unwrap();
        let err = remove_link(&link).unwrap_err();
        assert!(
            err.to_string().contains("replaced by something else"),
            "{err}"
        );
        assert_eq!(fs::read_to_string(&link).unwrap(), "precious");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "nothing set aside"
        );
        // Another link in its place is removed: it is a link, and whether it is the one
        // looked at cannot be told from its inode number, which a new link may get back at
        // once. It takes the name after the entry is opened (`remove_link_at` is this
        // entry's `remove_link`; the entry is made here so that the swap can come after it)
        // and looked at, so that a check of the inode number would refuse it.
        use std::os::unix::fs::MetadataExt;
        fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink("a", &link).unwrap();
        let held = Dir::hold(dir.path()).unwrap();
        let entry = Entry::new(held.fd(), link.file_name().unwrap(), &link);
        let looked_at = fs::symlink_metadata(&link).unwrap();
        assert!(looked_at.file_type().is_symlink());
        // Made while the first one exists, so that it cannot get its inode number.
        let other = dir.path().join("other");
        std::os::unix::fs::symlink("b", &other).unwrap();
        fs::rename(&other, &link).unwrap();
        assert_ne!(fs::symlink_metadata(&link).unwrap().ino(), looked_at.ino());
        entry.remove_link().unwrap();
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn ordinary_directories_are_native() {
        let dir = tempfile::tempdir().unwrap();
        let place = Dir::hold(dir.path()).unwrap().place().unwrap();
        assert_eq!(format!("{place:?}"), "Place(Native)");
    }
}
