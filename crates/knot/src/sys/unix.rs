//! The Unix backend: `symlink(2)`, `link(2)`, `readlink(2)`, `unlink(2)`, `rename(2)`.
//! std's wrappers are exact here (none follows a link unless its name says so), so this
//! file needs no `unsafe`.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use rustix::io::Errno;

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
        id: (m.dev(), u128::from(m.ino())),
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

/// Puts the new link `from` in the place of the link `to`, which must still be the link
/// `replaced` describes: a real file put there since it was inspected is never replaced
/// (DESIGN.md promise 2).
///
/// On Linux the two are swapped in one step (`renameat2(RENAME_EXCHANGE)`), so readers
/// always see a link, and what was swapped out is checked afterwards: the old link is
/// removed, anything else is swapped back. Where the file system cannot swap (some FUSE
/// file systems), `to` is checked just before a plain `rename(2)`, which narrows the window
/// to the two calls.
pub(crate) fn rename_over(from: &Path, to: &Path, replaced: &Meta) -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, from, CWD, to, RenameFlags::EXCHANGE) {
            Ok(()) => {
                let swapped_out = lstat(from);
                if swapped_out.is_ok_and(|m| same_link(&m, replaced)) {
                    return fs::remove_file(from);
                }
                renameat_with(CWD, from, CWD, to, RenameFlags::EXCHANGE)?;
                return Err(changed_since());
            }
            Err(Errno::INVAL | Errno::NOSYS | Errno::NOTSUP) => {}
            Err(err) => return Err(err.into()),
        }
    }
    match lstat(to) {
        Ok(m) if same_link(&m, replaced) => fs::rename(from, to),
        Ok(_) => Err(changed_since()),
        Err(err) => Err(err),
    }
}

/// Whether `found` is still the link that was `inspected`.
fn same_link(found: &Meta, inspected: &Meta) -> bool {
    found.ty == FileType::Link && found.id == inspected.id
}

fn changed_since() -> io::Error {
    io::Error::other("it was replaced by something else while knot worked; it was left as it is")
}

/// `unlink(2)` removes the link itself; it never follows one.
///
/// The link must still be the one `meta` describes. On Linux it is first renamed aside to a
/// hidden name in the same directory (`renameat2(RENAME_NOREPLACE)`) and checked there:
/// only the link itself is unlinked, and anything that took its place in the meantime is
/// renamed back untouched. Where the file system cannot do that (some FUSE file systems),
/// the entry is checked just before `unlink(2)`, which narrows the window to two calls.
pub(crate) fn remove_link(path: &Path, meta: &Meta) -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        let aside = crate::path::hidden_name(path);
        match renameat_with(CWD, path, CWD, &aside, RenameFlags::NOREPLACE) {
            Ok(()) => {
                if lstat(&aside).is_ok_and(|m| same_link(&m, meta)) {
                    return fs::remove_file(&aside);
                }
                return match renameat_with(CWD, &aside, CWD, path, RenameFlags::NOREPLACE) {
                    Ok(()) => Err(changed_since()),
                    Err(err) => Err(io::Error::other(format!(
                        "it was replaced by something else while knot worked, and that could \
                         not be put back ({err}): it is now at '{}'",
                        aside.display()
                    ))),
                };
            }
            Err(Errno::INVAL | Errno::NOSYS | Errno::NOTSUP) => {}
            Err(err) => return Err(err.into()),
        }
    }
    match lstat(path) {
        Ok(m) if same_link(&m, meta) => fs::remove_file(path),
        Ok(_) => Err(changed_since()),
        Err(err) => Err(err),
    }
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

    /// Promise 2 under a race: if a real file took the link's place after it was
    /// inspected, `--force`'s last step leaves the file alone and says so.
    #[test]
    fn rename_over_replaces_only_the_link_it_was_given() {
        let dir = tempfile::tempdir().unwrap();
        let (old, new) = (dir.path().join("l"), dir.path().join(".l.new"));
        std::os::unix::fs::symlink("a", &old).unwrap();
        let inspected = lstat(&old).unwrap();
        std::os::unix::fs::symlink("b", &new).unwrap();
        // Someone replaces the link with a real file.
        fs::remove_file(&old).unwrap();
        fs::write(&old, "precious").unwrap();
        let err = rename_over(&new, &old, &inspected).unwrap_err();
        assert!(
            err.to_string().contains("replaced by something else"),
            "{err}"
        );
        assert_eq!(fs::read_to_string(&old).unwrap(), "precious");
        assert_eq!(fs::read_link(&new).unwrap(), Path::new("b"));
        // The link itself is replaced, and the old one is gone.
        fs::remove_file(&old).unwrap();
        std::os::unix::fs::symlink("a", &old).unwrap();
        let inspected = lstat(&old).unwrap();
        rename_over(&new, &old, &inspected).unwrap();
        assert_eq!(fs::read_link(&old).unwrap(), Path::new("b"));
        assert!(fs::symlink_metadata(&new).is_err());
    }

    /// Promise 1 under a race: a real file that took the link's place after it was
    /// inspected is never removed, and stays where it is.
    #[test]
    fn remove_link_removes_only_the_link_it_was_given() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("l");
        std::os::unix::fs::symlink("a", &link).unwrap();
        let inspected = lstat(&link).unwrap();
        fs::remove_file(&link).unwrap();
        fs::write(&link, "precious").unwrap();
        let err = remove_link(&link, &inspected).unwrap_err();
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
        // Another link in its place is not the one inspected either (made before the
        // file goes, so that it cannot reuse the inode number).
        let other = dir.path().join("other");
        std::os::unix::fs::symlink("b", &other).unwrap();
        fs::rename(&other, &link).unwrap();
        assert!(remove_link(&link, &inspected).is_err());
        let current = lstat(&link).unwrap();
        remove_link(&link, &current).unwrap();
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
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
