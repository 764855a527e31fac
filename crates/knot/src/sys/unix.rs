//! The Unix backend: `symlink(2)`, `link(2)`, `readlink(2)`, `unlink(2)`, `rename(2)`.
//! std's wrappers are exact here (none follows a link unless its name says so), so this
//! file needs no `unsafe`.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

#[cfg(target_os = "linux")]
use super::ntfs3g;
use super::{FileType, Junctions, Meta, Request, Stored, Written};
use crate::link::{Kind, Status};

// The scanner's directory handles: `openat`, `fstatat`, `readlinkat`, `getdents64`.
mod dir;
pub(crate) use dir::{Dir, DirReader, max_open_dirs};

/// Where a link is to be made: an ordinary Unix file system, or an NTFS volume.
#[derive(Debug)]
pub(crate) enum Place {
    /// `symlink(2)` makes one kind of symlink for files and directories alike, and there
    /// are no junctions: `knot junction` makes an absolute directory symlink instead.
    Native,
    /// An NTFS volume mounted with ntfs-3g: real reparse points, written by knot.
    #[cfg(target_os = "linux")]
    Ntfs3g(ntfs3g::Volume),
    /// An NTFS volume mounted with the kernel's driver, which has no way to write a
    /// junction.
    KernelNtfs,
}

impl Place {
    pub(crate) fn junctions(&self) -> Junctions {
        match self {
            Place::Native => Junctions::Emulated,
            #[cfg(target_os = "linux")]
            Place::Ntfs3g(_) => Junctions::Native,
            Place::KernelNtfs => Junctions::Refused(
                "this NTFS volume is mounted with the kernel's ntfs3 driver, which cannot write \
                 junctions (a Unix symlink here would be invisible to Windows); unmount it and \
                 mount it with ntfs-3g (`ntfs-3g DEVICE MOUNTPOINT`), then run knot again"
                    .into(),
            ),
        }
    }

    /// Whether a symlink must be a file or a directory symlink (Windows reads the flavour).
    pub(crate) fn flavour_matters(&self) -> bool {
        match self {
            Place::Native | Place::KernelNtfs => false,
            #[cfg(target_os = "linux")]
            Place::Ntfs3g(_) => true,
        }
    }
}

/// NTFS_SB_MAGIC, which the kernel's `ntfs` and `ntfs3` drivers report in `statfs`.
const NTFS_SB_MAGIC: i64 = 0x5346_544e;

/// The file system's magic number (`statfs` f_type), which the kernel's drivers set.
#[allow(
    clippy::useless_conversion,
    reason = "f_type is i64 on x86_64 Linux but narrower on other targets"
)]
pub(crate) fn fs_type(dir: &Path) -> Option<i64> {
    rustix::fs::statfs(dir).ok().map(|s| i64::from(s.f_type))
}

/// Where a link at `link` would be made: found from the directory that would hold it.
pub(crate) fn place(link: &Path) -> io::Result<Place> {
    let dir = crate::path::parent_dir(link);
    #[cfg(target_os = "linux")]
    if let Some(volume) = ntfs3g::Volume::of(dir)? {
        return Ok(Place::Ntfs3g(volume));
    }
    let fs_type = fs_type(dir).unwrap_or(0);
    Ok(if fs_type == NTFS_SB_MAGIC {
        Place::KernelNtfs
    } else {
        Place::Native
    })
}

fn meta(m: &fs::Metadata) -> Meta {
    let ft = m.file_type();
    let ty = if ft.is_symlink() {
        FileType::Link
    } else if ft.is_dir() {
        FileType::Dir
    } else if ft.is_file() {
        FileType::File
    } else {
        FileType::Other
    };
    Meta {
        ty,
        nlink: m.nlink(),
        id: (m.dev(), m.ino()),
        tag: None,
    }
}

pub(crate) fn lstat(path: &Path) -> io::Result<Meta> {
    fs::symlink_metadata(path).map(|m| meta(&m))
}

pub(crate) fn stat(path: &Path) -> io::Result<Meta> {
    fs::metadata(path).map(|m| meta(&m))
}

/// Reads a link: its text from `readlink(2)`; on an ntfs-3g volume also its reparse
/// point, which says what Windows sees.
pub(crate) fn read_link(path: &Path) -> io::Result<Stored> {
    let text = fs::read_link(path)?;
    #[cfg(target_os = "linux")]
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
    })
}

pub(crate) fn symlink(place: &Place, request: &Request<'_>) -> io::Result<Written> {
    match place {
        #[cfg(target_os = "linux")]
        Place::Ntfs3g(volume) => volume.symlink(request).map(Some),
        Place::Native | Place::KernelNtfs => {
            std::os::unix::fs::symlink(request.target, request.link).map(|()| None)
        }
    }
}

/// A real junction where the place has them; elsewhere the caller makes a symlink instead
/// (see [`Place::junctions`]), so this is not reached.
pub(crate) fn junction(place: &Place, request: &Request<'_>) -> io::Result<Written> {
    match place {
        #[cfg(target_os = "linux")]
        Place::Ntfs3g(volume) => volume.junction(request).map(Some),
        Place::Native | Place::KernelNtfs => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this file system has no junctions",
        )),
    }
}

/// `link(2)` through std, which calls `linkat(..., 0)`: a symlink given as the target is
/// linked itself, never followed.
pub(crate) fn hard_link(target: &Path, link: &Path) -> io::Result<()> {
    fs::hard_link(target, link)
}

/// `rename(2)`: atomic, and replaces a link without following it.
pub(crate) fn rename_over(from: &Path, to: &Path) -> io::Result<()> {
    fs::rename(from, to)
}

/// `unlink(2)` removes the link itself; it never follows one.
pub(crate) fn remove_link(path: &Path, _meta: &Meta) -> io::Result<()> {
    fs::remove_file(path)
}

/// What a failure to follow a link means for its status.
pub(crate) fn classify_resolve_error(err: &io::Error) -> Status {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// No kernel here has the ntfs3 driver to mount with, so its refusal is checked on the
    /// decision itself: a junction there is refused with the fix, never faked.
    #[test]
    fn kernel_ntfs_refuses_junctions_and_says_how_to_get_them() {
        let Junctions::Refused(why) = Place::KernelNtfs.junctions() else {
            panic!("ntfs3 must refuse junctions");
        };
        assert!(
            why.contains("ntfs3") && why.contains("mount it with ntfs-3g"),
            "{why}"
        );
        assert_eq!(Place::Native.junctions(), Junctions::Emulated);
        assert!(!Place::KernelNtfs.flavour_matters());
    }

    #[test]
    fn ordinary_directories_are_native() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            place(&dir.path().join("l")).unwrap(),
            Place::Native
        ));
    }
}
