//! The private platform layer: one backend per platform, chosen here once, so the rest of
//! the crate never sees a `cfg` (same-file's `imp` pattern, STYLE.md point 1).
//!
//! Every backend offers the same small set of calls. Each takes the paths it acts on and
//! returns a plain `io::Result`; naming the operation and the paths in the error is the
//! caller's job.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as imp;

// NTFS volumes mounted with ntfs-3g: real reparse points through an extended attribute.
#[cfg(target_os = "linux")]
mod ntfs3g;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as imp;

#[cfg(not(any(unix, windows)))]
mod unsupported;
#[cfg(not(any(unix, windows)))]
use unsupported as imp;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use knot_reparse::Tag;

use crate::link::{Flavour, Kind, Link};

// Four calls only Windows needs, with their answers elsewhere side by side.

/// knot's own kind for an OS error that `io::ErrorKind` has no word for (Windows'
/// `ERROR_PRIVILEGE_NOT_HELD`); `None` to read the kind from the `io::Error`.
#[cfg(windows)]
pub(crate) use windows::os_error_kind;
#[cfg(not(windows))]
pub(crate) fn os_error_kind(_err: &std::io::Error) -> Option<crate::error::ErrorKind> {
    None
}

/// Whether `path` is on another machine (a UNC path or a mapped network drive), where a
/// junction cannot lead. Only Windows can tell; elsewhere a junction's target is a path on
/// the volume that holds it.
#[cfg(windows)]
pub(crate) use windows::is_remote;
#[cfg(not(windows))]
pub(crate) fn is_remote(_path: &Path) -> bool {
    false
}

/// `path` as a user would type it: on Windows without the `\\?\` prefix that
/// `fs::canonicalize` adds, where the short form names the same file.
#[cfg(windows)]
pub(crate) use windows::user_path;
#[cfg(not(windows))]
pub(crate) fn user_path(path: PathBuf) -> PathBuf {
    path
}

/// The text to store for a symlink to `target`, as the user gave it. On Windows a
/// drive-relative target (`C:x`, relative to drive C's current directory) is made absolute
/// first, since `CreateSymbolicLinkW` would store it so and the link would not read back
/// as asked; everywhere else, and for every other target, the target as given.
#[cfg(windows)]
pub(crate) use windows::normalise_symlink_target;
#[cfg(not(windows))]
pub(crate) fn normalise_symlink_target(target: &Path) -> std::io::Result<PathBuf> {
    Ok(target.to_path_buf())
}

#[cfg(target_os = "linux")]
pub(crate) use ntfs3g::is_directory_entry;
/// Whether the entry at `path` itself (never followed) is a directory in the file system's
/// own records, where those differ from what `lstat` shows: on NTFS a junction or a
/// directory symlink is a directory with a reparse point (FILE_ATTRIBUTE_DIRECTORY), which
/// ntfs-3g presents to Linux as a symlink. `false` where the file system has no such
/// record. A hard link to such an entry would give a directory a second name, which NTFS
/// never allows (issue 10.3).
#[cfg(windows)]
pub(crate) use windows::is_directory_entry;
#[cfg(not(any(windows, target_os = "linux")))]
pub(crate) fn is_directory_entry(_path: &Path) -> bool {
    false
}

/// Whether `err` says this user may not do it (EACCES; on Windows ERROR_ACCESS_DENIED),
/// as opposed to EPERM, which a file system without links also gives.
#[cfg(unix)]
pub(crate) fn is_access_denied(err: &std::io::Error) -> bool {
    err.raw_os_error() == Some(rustix::io::Errno::ACCESS.raw_os_error())
}
#[cfg(windows)]
pub(crate) fn is_access_denied(err: &std::io::Error) -> bool {
    err.raw_os_error() == i32::try_from(windows_sys::Win32::Foundation::ERROR_ACCESS_DENIED).ok()
}
#[cfg(not(any(unix, windows)))]
pub(crate) fn is_access_denied(_err: &std::io::Error) -> bool {
    false
}

/// The kernel file system (`proc`, `sysfs`) that holds `dir`, whose links the kernel
/// makes and nobody can remove; `None` for every other file system.
#[cfg(target_os = "linux")]
pub(crate) fn kernel_fs(dir: &Path) -> Option<&'static str> {
    // PROC_SUPER_MAGIC and SYSFS_MAGIC, from linux/magic.h.
    match unix::fs_type(dir)? {
        0x9fa0 => Some("proc"),
        0x6265_6572 => Some("sysfs"),
        _ => None,
    }
}
#[cfg(not(target_os = "linux"))]
pub(crate) fn kernel_fs(_dir: &Path) -> Option<&'static str> {
    None
}

/// What the special file at `path` is (followed through links when `follow`); `None` for
/// anything else. Windows has no such files (an AF_UNIX socket is a reparse point there).
#[cfg(unix)]
pub(crate) fn special(path: &Path, follow: bool) -> Option<crate::link::Special> {
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
#[cfg(not(unix))]
pub(crate) fn special(_path: &Path, _follow: bool) -> Option<crate::link::Special> {
    None
}

/// What `knot junction` can do where a link is to be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Junctions {
    /// Real junctions (Windows; NTFS through ntfs-3g).
    Native,
    /// No junctions: an absolute directory symlink stands in, with a note.
    #[cfg_attr(windows, allow(dead_code, reason = "Windows always has junctions"))]
    Emulated,
    /// None, and a symlink would mislead (an NTFS volume that Windows will read, mounted
    /// with a driver that cannot write junctions): the reason and the fix.
    Refused(String),
}

/// One link to make.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Request<'a> {
    /// Where to make it.
    pub(crate) link: &'a Path,
    /// The target to store, as knot planned it: as given for a symlink, or an absolute path.
    pub(crate) target: &'a Path,
    /// The target as the user gave it.
    pub(crate) given: &'a Path,
    pub(crate) flavour: Flavour,
    /// The drive letter for absolute targets written onto NTFS from another system.
    #[cfg_attr(
        windows,
        allow(dead_code, reason = "Windows paths have their own drive")
    )]
    pub(crate) drive: Option<char>,
}

/// The reparse buffer a create wrote, so the read-back can compare it byte for byte;
/// `None` where the link is not a reparse point (its target text is compared instead).
pub(crate) type Written = Option<Vec<u8>>;
pub(crate) use imp::{
    Place, classify_resolve_error, hard_link, junction, lstat, place, read_link, remove_link,
    rename_over, stat, symlink,
};
// The scanner's calls, all relative to an open directory.
pub(crate) use imp::{Dir, DirReader, max_open_dirs};

/// The type of a directory entry, without following it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FileType {
    /// A link that [`read_link`] reads: a symlink, a junction, or another link-like
    /// reparse point.
    Link,
    Dir,
    File,
    /// A FIFO, socket or device file.
    #[cfg_attr(
        windows,
        allow(
            dead_code,
            reason = "Windows has no such files; an AF_UNIX socket is a reparse point"
        )
    )]
    Other,
}

/// What knot needs from a stat call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Meta {
    pub(crate) ty: FileType,
    pub(crate) nlink: u64,
    /// (device, inode) on Unix; (volume serial, file id) on Windows, where ReFS file ids
    /// are 128 bits wide (`FILE_ID_INFO`), so the second half is a `u128` everywhere.
    pub(crate) id: (u64, u128),
    /// The reparse tag, where the entry is a reparse point (Windows, NTFS through ntfs-3g).
    pub(crate) tag: Option<u32>,
}

impl Meta {
    /// Whether the entry is a link that knot may remove or replace: a symlink, a junction,
    /// or another reparse point that stands for another name (the name-surrogate bit,
    /// MS-FSCC 2.1.2.1). A WOF-compressed, deduplicated or cloud file holds its data behind
    /// its reparse point: it is no link, though Windows and ntfs-3g list it among them.
    pub(crate) fn is_link(&self) -> bool {
        self.ty == FileType::Link
            && self
                .tag
                .is_none_or(|tag| knot_reparse::Tag(tag).is_name_surrogate())
    }
}

/// What a link stores, read without following it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Stored {
    /// The target as the platform presents it: the text of a Unix symlink; for a reparse
    /// point, its target as a path (the print name, or the substitute name without `\??\`).
    pub(crate) target: PathBuf,
    /// What kind of link it is.
    pub(crate) kind: Kind,
    /// Whether the target is relative to the link's directory.
    pub(crate) relative: bool,
    /// Whether the link itself is a directory (a Windows directory symlink or junction);
    /// `None` where links have no flavour.
    pub(crate) dir: Option<bool>,
    /// The reparse tag, names and raw buffer, for reparse points.
    pub(crate) reparse: Option<ReparseData>,
    /// Where the system follows the link, when that differs from `target`: ntfs-3g shows a
    /// junction to `C:\x` as a symlink to `<mount point>/x`.
    pub(crate) leads_to: Option<PathBuf>,
}

impl Stored {
    /// Fills in `link`'s record from what it stores, and returns the path the system
    /// follows when the link leads to one, for the caller to resolve. An AppExecLink names
    /// a program, and a reparse point that is not a link (a WOF-compressed or cloud file)
    /// leads nowhere: those get no status.
    pub(crate) fn fill(self, link: &mut Link) -> Option<PathBuf> {
        link.kind = self.kind;
        if self.dir.is_some() {
            link.dir = self.dir;
        }
        if let Some(reparse) = self.reparse {
            link.tag = Some(reparse.tag);
            link.substitute_name = reparse.substitute_name;
            link.print_name = reparse.print_name;
            link.reparse_data = Some(reparse.raw);
        }
        match link.kind {
            Kind::Symlink | Kind::Junction | Kind::MountPoint | Kind::Reparse(Tag::LX_SYMLINK) => {
                link.relative = Some(self.relative);
                let leads_to = self.leads_to.unwrap_or_else(|| self.target.clone());
                link.target = Some(self.target);
                Some(leads_to)
            }
            Kind::Reparse(Tag::APPEXECLINK) => {
                link.target = Some(self.target);
                None
            }
            _ => None,
        }
    }
}

/// A reparse point as read from the file system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ReparseData {
    pub(crate) tag: u32,
    pub(crate) substitute_name: Option<OsString>,
    pub(crate) print_name: Option<OsString>,
    /// The raw REPARSE_DATA_BUFFER bytes.
    pub(crate) raw: Vec<u8>,
}

// knot's kind for a reparse point, for the backends.
pub(crate) use crate::link::kind_of;
