//! The Windows backend: links made, read and removed through Win32, with every reparse
//! buffer encoded and decoded by the codec (`knot-reparse`).
//!
//! | call | how |
//! |---|---|
//! | [`symlink`] | `CreateSymbolicLinkW`, unprivileged where Developer Mode allows it |
//! | [`junction`] | `CreateDirectoryW`, then `FSCTL_SET_REPARSE_POINT` through a handle |
//! | [`hard_link`] | `CreateHardLinkW` |
//! | [`read_link`] | `FSCTL_GET_REPARSE_POINT`, decoded by the codec |
//! | [`remove_link`] | checked and deleted through one handle to the link itself |
//! | [`rename_over`] | `SetFileInformationByHandle(FileRenameInfoEx)`, POSIX semantics |
//! | [`Dir`], [`DirReader`] | listings through the directory's handle (`FileIdExtdDirectoryInfo`) |
//!
//! An entry the rest of the crate names as a held directory and a name ([`crate::sys::At`])
//! is named here by the directory's path and the name: the directory's handle, held
//! without `FILE_SHARE_DELETE`, keeps that path naming it (`dir.rs`).
//!
//! Every path goes through [`wide::path`], so paths longer than `MAX_PATH` work; every
//! `unsafe` block of knot lives under this directory, each with its `SAFETY` comment.
#![allow(
    unsafe_code,
    reason = "the Win32 calls of the Windows backend; the crate root denies unsafe elsewhere"
)]

mod dir;
mod ffi;
mod handle;
mod ioctl;
mod wide;

use std::ffi::OsString;
use std::io;
use std::mem::{MaybeUninit, size_of};
use std::os::windows::ffi::OsStringExt;
use std::path::{Component, Path, PathBuf};

use knot_reparse::{MountPoint, ReparsePoint, Tag};

pub(crate) use dir::{Dir, DirReader};
use ffi::*;
use handle::{FindHandle, Follow, Handle};

use super::error::Error as SysError;
use super::{At, DotDot, FileType, Junctions, Meta, Place, Request, Stored, Strategy, Written};
use crate::link::{Flavour, Status};

/// Where a link is to be made: the file system of the directory that will hold it, as
/// `GetVolumeInformationByHandleW` describes it.
#[derive(Debug)]
pub(crate) struct OnVolume {
    /// `None` when the volume could not be asked (the link is still attempted; its own
    /// error then says what is wrong).
    volume: Option<Volume>,
}

#[derive(Debug)]
struct Volume {
    /// The volume's root, as the user would type it (`C:\`, `\\server\share\`).
    root: PathBuf,
    /// The file system's name: `NTFS`, `ReFS`, `FAT32`, `exFAT`.
    file_system: String,
    /// `FILE_SUPPORTS_*` and other `GetVolumeInformationByHandleW` flags.
    flags: u32,
}

impl Strategy for OnVolume {
    /// Junctions are native, except on a file system without reparse points (FAT, exFAT),
    /// which is refused before anything is made (DESIGN.md section 3: "a file system
    /// without links says so").
    fn junctions(&self) -> Junctions {
        match &self.volume {
            Some(volume) if volume.flags & FILE_SUPPORTS_REPARSE_POINTS == 0 => {
                Junctions::Refused(format!(
                    "the {} file system of '{}' does not support reparse points (it does not \
                     report FILE_SUPPORTS_REPARSE_POINTS), so it cannot hold a junction; make \
                     the link on an NTFS or ReFS volume",
                    volume.file_system,
                    volume.root.display()
                ))
            }
            _ => Junctions::Native,
        }
    }

    /// Windows reads a symlink's flavour: a file symlink to a directory (or the reverse)
    /// cannot be followed.
    fn flavour_matters(&self) -> bool {
        true
    }

    fn symlink(&self, request: &Request<'_>) -> io::Result<Written> {
        symlink(request)
    }

    fn junction(&self, request: &Request<'_>) -> io::Result<Written> {
        junction(request)
    }

    /// A junction's buffer; a symlink is made by `CreateSymbolicLinkW`, and replaced
    /// whole: writing a symlink's reparse point with `FSCTL_SET_REPARSE_POINT` needs the
    /// symlink privilege, which Developer Mode does not give.
    fn encode(&self, request: &Request<'_>, junction: bool) -> io::Result<Written> {
        if junction {
            junction_buffer(request).map(Some)
        } else {
            Ok(None)
        }
    }

    fn rewrite(&self, link: At<'_>, buffer: &[u8]) -> io::Result<()> {
        rewrite(&link.dir.join(link.name), buffer)
    }
}

/// The place of links in the directory `dir`: the volume holding it, as far as it can be
/// asked.
fn place_of(dir: &Path) -> Place {
    Place::new(OnVolume {
        volume: volume_of(dir).ok(),
    })
}

/// The volume holding `dir`, asked through a handle to `dir` itself
/// (`GetVolumeInformationByHandleW`), so a volume mounted on a folder is found as well as
/// a drive; its root, for messages, from `GetVolumePathNameW`.
fn volume_of(dir: &Path) -> io::Result<Volume> {
    let handle = Handle::open(dir, FILE_READ_ATTRIBUTES, Follow::Yes)?;
    let mut flags: u32 = 0;
    let mut name = [0u16; MAX_PATH as usize + 1];
    // SAFETY: the handle is open; the volume-name buffer is null with size 0 (not
    // wanted); the serial and component-length pointers may be null; `flags` and `name`
    // are writable, and `name`'s size is passed.
    let ok = unsafe {
        GetVolumeInformationByHandleW(
            handle.raw(),
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            &mut flags,
            name.as_mut_ptr(),
            name.len() as u32,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    let name_end = name.iter().position(|&u| u == 0).unwrap_or(name.len());
    let dir = wide::path(dir)?;
    let mut root: Vec<u16> = vec![0; dir.len().max(MAX_PATH as usize) + 1];
    // SAFETY: `dir` is NUL-terminated; `root` holds `root.len()` writable units, at least
    // the length of `dir` plus one, which `GetVolumePathNameW` documents as enough.
    let root =
        if unsafe { GetVolumePathNameW(dir.as_ptr(), root.as_mut_ptr(), root.len() as u32) } == 0 {
            PathBuf::new()
        } else {
            let end = root.iter().position(|&u| u == 0).unwrap_or(root.len());
            wide::user_path(PathBuf::from(OsString::from_wide(&root[..end])))
        };
    Ok(Volume {
        root,
        file_system: String::from_utf16_lossy(&name[..name_end]),
        flags,
    })
}

fn last_error_is(err: &io::Error, codes: &[u32]) -> bool {
    err.raw_os_error()
        .is_some_and(|code| codes.iter().any(|&c| c as i32 == code))
}

fn os_error(code: u32) -> io::Error {
    io::Error::from_raw_os_error(code as i32)
}

/// The entry's type from its attributes and reparse tag, the same for `lstat` and for a
/// directory listing.
///
/// A reparse point is a [`FileType::Link`], with one exception: a directory whose tag is
/// not a name surrogate (a cloud-files placeholder folder, a projected file system's
/// folder: MS-FSCC 2.1.2.1) is a real directory with real children, which a scan walks
/// and `rm` refuses.
fn file_type(attributes: u32, tag: Option<u32>) -> FileType {
    let dir = attributes & FILE_ATTRIBUTE_DIRECTORY != 0;
    match tag {
        Some(tag) if dir && !Tag(tag).is_name_surrogate() => FileType::Dir,
        Some(_) => FileType::Link,
        None if dir => FileType::Dir,
        None => FileType::File,
    }
}

/// Whether `err` says that the system or the file system does not know an information
/// class or flag it was asked for: `ERROR_INVALID_PARAMETER` (an unknown class or flag,
/// from older Windows and from file systems without it), `ERROR_NOT_SUPPORTED` and
/// `ERROR_INVALID_FUNCTION` (file systems and filters), `ERROR_CALL_NOT_IMPLEMENTED`
/// (classes Wine 8 leaves unimplemented). The caller then asks the older way.
fn unsupported(err: &io::Error) -> bool {
    last_error_is(
        err,
        &[
            ERROR_INVALID_PARAMETER,
            ERROR_NOT_SUPPORTED,
            ERROR_INVALID_FUNCTION,
            ERROR_CALL_NOT_IMPLEMENTED,
        ],
    )
}

/// The identity of the entry `handle` is open on: (volume serial, file id).
///
/// `FileIdInfo` gives the 64-bit serial and the 128-bit id, which is what tells files apart
/// on ReFS (its ids do not fit in 64 bits, so `nFileIndex` can be the same for two files).
/// Where that class is not answered (`unsupported`: Windows 7, some file systems and
/// redirectors), `GetFileInformationByHandle`'s 32-bit serial and 64-bit index are used,
/// which are whole on NTFS and FAT. One file system answers the same way for every file,
/// so ids from the same volume are always of the same form and compare correctly; on NTFS
/// the two forms agree except in the serial's high 32 bits.
fn file_id(handle: &Handle) -> io::Result<(u64, u128)> {
    match handle.id_info() {
        Ok(info) => Ok((
            info.VolumeSerialNumber,
            u128::from_le_bytes(info.FileId.Identifier),
        )),
        Err(err) if unsupported(&err) => {
            let info = handle.info()?;
            Ok((
                u64::from(info.dwVolumeSerialNumber),
                (u128::from(info.nFileIndexHigh) << 32) | u128::from(info.nFileIndexLow),
            ))
        }
        Err(err) => Err(err),
    }
}

/// What `handle` is. The tag is asked for only where the attributes say there is one.
fn meta_of(handle: &Handle, follow: Follow) -> io::Result<Meta> {
    let info = handle.info()?;
    let tag = if follow == Follow::No && info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT != 0 {
        handle.attribute_tag()?.1
    } else {
        None
    };
    Ok(Meta {
        ty: file_type(info.dwFileAttributes, tag),
        nlink: u64::from(info.nNumberOfLinks),
        id: file_id(handle)?,
        tag,
        size: (u64::from(info.nFileSizeHigh) << 32) | u64::from(info.nFileSizeLow),
        allocated: None,
    })
}

/// The entry itself, a link not followed.
///
/// An entry locked against every open is read from its directory instead (`listed_meta`).
pub(crate) fn lstat(path: &Path) -> io::Result<Meta> {
    match Handle::open(path, FILE_READ_ATTRIBUTES, Follow::No) {
        Ok(handle) => meta_of(&handle, Follow::No),
        Err(err) if last_error_is(&err, &[ERROR_SHARING_VIOLATION]) => listed_meta(path).ok_or(err),
        Err(err) => Err(err),
    }
}

/// The entry itself, a link not followed, with its allocation size (`Dir::usage_at`).
/// A file system that does not answer `FileStandardInfo` leaves it `None`.
pub(crate) fn usage(path: &Path) -> io::Result<Meta> {
    match Handle::open(path, FILE_READ_ATTRIBUTES, Follow::No) {
        Ok(handle) => {
            let meta = meta_of(&handle, Follow::No)?;
            let allocated = match handle.standard_info() {
                Ok(info) => u64::try_from(info.AllocationSize).ok(),
                Err(err) if unsupported(&err) => None,
                Err(err) => return Err(err),
            };
            Ok(Meta { allocated, ..meta })
        }
        Err(err) if last_error_is(&err, &[ERROR_SHARING_VIOLATION]) => listed_meta(path).ok_or(err),
        Err(err) => Err(err),
    }
}

/// What the path leads to, links followed.
///
/// An entry locked against every open is read from its directory instead (`listed_meta`),
/// where it is not a link (a link's listing says nothing of what it leads to).
pub(crate) fn stat(path: &Path) -> io::Result<Meta> {
    match Handle::open(path, FILE_READ_ATTRIBUTES, Follow::Yes) {
        Ok(handle) => meta_of(&handle, Follow::Yes),
        Err(err) if last_error_is(&err, &[ERROR_SHARING_VIOLATION]) => listed_meta(path)
            .filter(|meta| meta.tag.is_none())
            .ok_or(err),
        Err(err) => Err(err),
    }
}

/// The id of an entry read from its directory listing, which has none: all ones, which is
/// `FILE_INVALID_FILE_ID` (winnt.h) in the low 64 bits, so no id read through a handle is
/// ever equal to it.
const LISTED_ID: (u64, u128) = (u64::MAX, u128::MAX);

/// What the listing of its directory says of `path`'s entry (`FindFirstFileExW`, which
/// reads the directory and opens nothing): for the few system files that are locked against
/// every open, even one for attributes only (`pagefile.sys`, `hiberfil.sys`:
/// `ERROR_SHARING_VIOLATION`), as std's `metadata` does.
///
/// The type and reparse tag are exact. A listing has no link count and no file id: `nlink`
/// is 1 (such a file is never reported as a hard link) and `id` is [`LISTED_ID`], so every
/// check that compares it with an id read through a handle (`remove_link`, `rename_over`)
/// refuses, the safe way round. `None` where the search fails or could match another
/// entry: `FindFirstFileExW` reads wildcards (`*?<>"`) in the last name as a pattern.
fn listed_meta(path: &Path) -> Option<Meta> {
    let name = path.file_name()?;
    if wide::units(name)
        .iter()
        .any(|&u| u < 0x80 && b"*?<>\"".contains(&(u as u8)))
    {
        return None;
    }
    let pattern = wide::path(path).ok()?;
    let mut data = MaybeUninit::<WIN32_FIND_DATAW>::uninit();
    // SAFETY: `pattern` is NUL-terminated; `data` is writable for the WIN32_FIND_DATAW
    // that FindExInfoBasic fills; no search filter; the returned handle is checked before
    // it is owned.
    let raw = unsafe {
        FindFirstFileExW(
            pattern.as_ptr(),
            FindExInfoBasic,
            data.as_mut_ptr().cast(),
            FindExSearchNameMatch,
            std::ptr::null(),
            0,
        )
    };
    if raw == INVALID_HANDLE_VALUE {
        return None;
    }
    drop(FindHandle::new(raw));
    // SAFETY: FindFirstFileExW succeeded, so it filled `data`.
    let data = unsafe { data.assume_init() };
    // dwReserved0 holds the tag only when the entry is a reparse point.
    let tag =
        (data.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT != 0).then_some(data.dwReserved0);
    Some(Meta {
        ty: file_type(data.dwFileAttributes, tag),
        nlink: 1,
        id: LISTED_ID,
        tag,
        size: (u64::from(data.nFileSizeHigh) << 32) | u64::from(data.nFileSizeLow),
        allocated: None,
    })
}

/// Reads the reparse point at `path` (not followed) and decodes it.
///
/// The target is the name Windows shows (the print name, or the substitute name without
/// `\??\` when the print name is empty: `MountPoint::display_name`); where Windows follows
/// another path (the substitute name says otherwise), that path is `leads_to`.
pub(crate) fn read_link(path: &Path) -> io::Result<Stored> {
    let handle = Handle::open(path, FILE_READ_ATTRIBUTES, Follow::No)?;
    let (attributes, tag) = handle.attribute_tag()?;
    if tag.is_none() {
        return Err(os_error(ERROR_NOT_A_REPARSE_POINT));
    }
    let raw = ioctl::get_reparse_point(&handle)?;
    Ok(super::reparse::record(
        raw,
        Some(attributes & FILE_ATTRIBUTE_DIRECTORY != 0),
        None,
    ))
}

/// The text a symlink stores: the target as given, with `/` made `\` (Windows resolves a
/// relative target with forward slashes wrongly or not at all: git-for-windows/git#1646),
/// except in a `\\?\` path, where every character is literal.
fn symlink_text(target: &Path) -> Vec<u16> {
    let units = wide::units(target.as_os_str());
    if wide::strip_prefix(&units, r"\\?\").is_some() {
        return units;
    }
    units
        .into_iter()
        .map(|u| {
            if u == u16::from(b'/') {
                u16::from(b'\\')
            } else {
                u
            }
        })
        .collect()
}

/// A drive-relative target (`C:x`, or `C:` alone) made absolute against drive C's current
/// directory with `GetFullPathNameW` (`crate::path::absolute`), which is what
/// `CreateSymbolicLinkW` itself does with one: it stores such a target as a full path, not
/// a relative one (ReactOS's kernel32 `CreateSymbolicLinkW` shows the same: a
/// `RtlPathTypeDriveRelative` target goes through `GetFullPathNameW`, while rooted and
/// relative ones are kept). Every other target as it is, relative ones (`x`, `..\x`,
/// `\x`) included.
pub(crate) fn normalise_symlink_target(target: &Path) -> io::Result<PathBuf> {
    let units = wide::units(target.as_os_str());
    let rooted = matches!(units.get(2), Some(&u) if u == u16::from(b'\\') || u == u16::from(b'/'));
    if wide::drive_letter(&units).is_some() && !rooted {
        crate::path::absolute(target)
    } else {
        Ok(target.to_path_buf())
    }
}

/// `CreateSymbolicLinkW`: a file or directory symlink as the flavour says, unprivileged
/// where Developer Mode allows it (`SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE`, Windows
/// 10 1703 and later), retried without that flag where Windows rejects it as
/// `ERROR_INVALID_PARAMETER` (older builds).
///
/// Windows fills in the reparse buffer itself, so nothing is returned for a byte
/// comparison: the read-back compares the target text. (Wine 8 reports success here and
/// makes nothing; the read-back turns that into an error.)
fn symlink(request: &Request<'_>) -> io::Result<Written> {
    let link = wide::path(&request.at.dir.join(request.at.name))?;
    let target = wide::terminated(symlink_text(request.target))?;
    let flags = match request.flavour {
        Flavour::Dir => SYMBOLIC_LINK_FLAG_DIRECTORY,
        Flavour::File => 0,
    };
    let create = |flags: u32| {
        // SAFETY: both names are NUL-terminated UTF-16.
        if unsafe { CreateSymbolicLinkW(link.as_ptr(), target.as_ptr(), flags) } {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    };
    match create(flags | SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE) {
        Err(err) if last_error_is(&err, &[ERROR_INVALID_PARAMETER]) => create(flags)?,
        other => other?,
    }
    Ok(None)
}

/// A junction at `request.at` to `request.target`, a full Win32 path to a local
/// directory: an empty directory carrying a mount-point reparse point whose substitute
/// name is `\??\` + the target and whose print name is the target (`mklink /J`'s layout;
/// the codec's `MountPoint::junction`).
///
/// All or nothing: the directory is made, opened without following (so a path swapped in
/// is never written through), checked to be the plain directory just made, given the
/// buffer, and if that fails deleted through the same handle.
///
/// # Errors
/// A target that is not a full local path (network paths are refused: junctions cannot
/// lead there), a buffer over 16 KiB, and whatever `CreateDirectoryW` or
/// `FSCTL_SET_REPARSE_POINT` say; a file system without reparse points is reported as
/// [`io::ErrorKind::Unsupported`].
fn junction(request: &Request<'_>) -> io::Result<Written> {
    let buffer = junction_buffer(request)?;
    make_junction(&request.at.dir.join(request.at.name), &buffer)?;
    Ok(Some(buffer))
}

/// The buffer of [`junction`]: checked and encoded, written nowhere.
fn junction_buffer(request: &Request<'_>) -> io::Result<Vec<u8>> {
    let invalid = |why: String| {
        io::Error::from(SysError::TargetForWindows {
            target: request.target.to_path_buf(),
            why,
        })
    };
    if is_remote(request.target) {
        return Err(SysError::RemoteJunction.into());
    }
    let point = MountPoint::junction(wide::units(request.target.as_os_str()))
        .map_err(|e| invalid(e.to_string()))?;
    ReparsePoint::from(point)
        .encode()
        .map_err(|e| invalid(format!("the target is too long for a junction: {e}")))
}

/// Replaces the reparse point of the link `link` by `buffer` in place (`knot retarget` of
/// a junction): the link is opened itself (`FILE_FLAG_OPEN_REPARSE_POINT |
/// FILE_FLAG_BACKUP_SEMANTICS`), checked through that handle to be a link (a
/// name-surrogate reparse point), given the new buffer with `FSCTL_SET_REPARSE_POINT`
/// through the same handle, and read back; if the read-back fails the old buffer is put
/// back. The path never lacks its link, and nothing but the entry checked is written.
fn rewrite(link: &Path, buffer: &[u8]) -> io::Result<()> {
    let access = FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES | FILE_READ_ATTRIBUTES;
    let handle = Handle::open(link, access, Follow::No)?;
    match handle.attribute_tag()? {
        (_, Some(tag)) if Tag(tag).is_name_surrogate() => {}
        _ => return Err(SysError::Replaced.into()),
    }
    let old = ioctl::get_reparse_point(&handle)?;
    ioctl::set_reparse_point(&handle, buffer)?;
    match ioctl::get_reparse_point(&handle) {
        Ok(read) if read == buffer => Ok(()),
        _ => {
            ioctl::set_reparse_point(&handle, &old)?;
            Err(SysError::ReadBack { who: "Windows" }.into())
        }
    }
}

fn make_junction(link: &Path, buffer: &[u8]) -> io::Result<()> {
    let name = wide::path(link)?;
    // SAFETY: `name` is NUL-terminated; null security attributes give the default.
    if unsafe { CreateDirectoryW(name.as_ptr(), std::ptr::null()) } == 0 {
        return Err(io::Error::last_os_error());
    }
    let access = FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES | FILE_READ_ATTRIBUTES | DELETE;
    let handle = match Handle::open(link, access, Follow::No) {
        Ok(handle) => handle,
        Err(err) => {
            // Not opened, so not checked. `remove_dir` is RemoveDirectoryW, which removes
            // an empty directory, or a junction or directory symlink (the link itself:
            // it opens the entry without following it). So if something was put there
            // in between, a link may be removed in its place, but never a file, a
            // directory with entries, or anything a link leads to.
            let _ = std::fs::remove_dir(link);
            return Err(err);
        }
    };
    match handle.attribute_tag() {
        Ok((attributes, None)) if attributes & FILE_ATTRIBUTE_DIRECTORY != 0 => {}
        // Something else was put there since: not knot's to write to, or to remove.
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "the new directory was replaced while the junction was being made",
            ));
        }
        Err(err) => {
            let _ = delete_on_close(&handle);
            return Err(err);
        }
    }
    if let Err(err) = ioctl::set_reparse_point(&handle, buffer) {
        let _ = delete_on_close(&handle);
        drop(handle);
        if last_error_is(
            &err,
            &[
                ERROR_NOT_SUPPORTED,
                ERROR_INVALID_FUNCTION,
                ERROR_CALL_NOT_IMPLEMENTED,
            ],
        ) {
            return Err(SysError::NoReparsePoints { source: err }.into());
        }
        return Err(err);
    }
    Ok(())
}

/// `CreateHardLinkW`. It links the entry itself: a symlink given as the target gets a
/// second name, it is not followed.
pub(crate) fn hard_link(target: &Path, link: &Path) -> io::Result<()> {
    let link = wide::path(link)?;
    let target = wide::path(target)?;
    // SAFETY: both names are NUL-terminated; null security attributes are reserved.
    if unsafe { CreateHardLinkW(link.as_ptr(), target.as_ptr(), std::ptr::null()) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Every name of the file `path`, from `FindFirstFileNameW` / `FindNextFileNameW`: they
/// come back relative to the volume (`\dir\file`, as `fsutil hardlink list` prints
/// them), so each is joined to the volume's root from `GetVolumePathNameW`. `None` where
/// the file system cannot say (`ERROR_INVALID_LEVEL`: FAT, some SMB servers;
/// `ERROR_CALL_NOT_IMPLEMENTED`, `ERROR_NOT_SUPPORTED`, `ERROR_INVALID_FUNCTION`: Wine 8,
/// whose `FindFirstFileNameW` is a stub), for a walk instead.
pub(crate) fn hard_link_names(path: &Path) -> io::Result<Option<Vec<PathBuf>>> {
    let Some((find_first, find_next)) = file_name_calls() else {
        return Ok(None);
    };
    let wide_path = wide::path(path)?;
    // The volume's root, as `C:\` or a mount folder's path.
    let mut root = vec![0u16; wide_path.len() + MAX_PATH as usize];
    // SAFETY: the name is NUL-terminated; the buffer is writable for the length passed.
    if unsafe { GetVolumePathNameW(wide_path.as_ptr(), root.as_mut_ptr(), root.len() as u32) } == 0
    {
        return Err(io::Error::last_os_error());
    }
    let end = root.iter().position(|&u| u == 0).unwrap_or(root.len());
    root.truncate(end);
    while root.last() == Some(&u16::from(b'\\')) {
        root.pop();
    }
    let unsupported = [
        ERROR_INVALID_LEVEL,
        ERROR_CALL_NOT_IMPLEMENTED,
        ERROR_NOT_SUPPORTED,
        ERROR_INVALID_FUNCTION,
    ];
    let mut names = Vec::new();
    let mut buffer = vec![0u16; MAX_PATH as usize];
    let mut find: Option<FindHandle> = None;
    loop {
        let mut len = buffer.len() as u32;
        let ok = match &find {
            None => {
                // SAFETY: the name is NUL-terminated; `len` is the buffer's length in
                // units, and the buffer is writable for it.
                let raw =
                    unsafe { find_first(wide_path.as_ptr(), 0, &mut len, buffer.as_mut_ptr()) };
                if raw != INVALID_HANDLE_VALUE {
                    find = Some(FindHandle::new(raw));
                }
                raw != INVALID_HANDLE_VALUE
            }
            // SAFETY: the search handle is open; the buffer is writable for `len` units.
            Some(handle) => unsafe { find_next(handle.raw(), &mut len, buffer.as_mut_ptr()) != 0 },
        };
        if !ok {
            let err = io::Error::last_os_error();
            if last_error_is(&err, &[ERROR_MORE_DATA]) {
                // `len` is the size needed, its terminator included.
                buffer.resize((len as usize).max(buffer.len() * 2), 0);
                continue;
            }
            if find.is_none() && last_error_is(&err, &unsupported) {
                return Ok(None);
            }
            if find.is_some() && last_error_is(&err, &[ERROR_HANDLE_EOF]) {
                return Ok(Some(names));
            }
            return Err(err);
        }
        let end = buffer.iter().position(|&u| u == 0).unwrap_or(buffer.len());
        let mut full = root.clone();
        full.extend_from_slice(&buffer[..end]);
        names.push(wide::user_path(PathBuf::from(OsString::from_wide(&full))));
    }
}

/// `FindFirstFileNameW` and `FindNextFileNameW` from kernelbase.dll, once; `None` where
/// it has them not (Wine 8, whose kernel32 stubs abort the process: see `ffi.rs`).
fn file_name_calls() -> Option<(FindFirstFileNameW, FindNextFileNameW)> {
    static CALLS: std::sync::OnceLock<Option<(FindFirstFileNameW, FindNextFileNameW)>> =
        std::sync::OnceLock::new();
    *CALLS.get_or_init(|| {
        let module: Vec<u16> = "kernelbase.dll\0".encode_utf16().collect();
        // SAFETY: the name is NUL-terminated; kernelbase.dll is loaded in every process
        // and never unloaded, so the addresses stay valid.
        let module = unsafe { GetModuleHandleW(module.as_ptr()) };
        if module.is_null() {
            return None;
        }
        // SAFETY: the module handle is valid; the names are NUL-terminated ASCII.
        let first = unsafe { GetProcAddress(module, c"FindFirstFileNameW".as_ptr().cast()) }?;
        // SAFETY: as above.
        let next = unsafe { GetProcAddress(module, c"FindNextFileNameW".as_ptr().cast()) }?;
        // SAFETY: the exports have the signatures of fileapi.h, which the types spell.
        unsafe {
            Some((
                std::mem::transmute::<unsafe extern "system" fn() -> isize, FindFirstFileNameW>(
                    first,
                ),
                std::mem::transmute::<unsafe extern "system" fn() -> isize, FindNextFileNameW>(
                    next,
                ),
            ))
        }
    })
}

/// Marks the entry `handle` is open on for deletion; it goes when the handle closes.
///
/// Asked three ways, each where the one before is not known (`unsupported`):
/// 1. `FileDispositionInfoEx` with POSIX semantics (Windows 10 1709+, NTFS: the name goes
///    at once) and `FILE_DISPOSITION_FLAG_IGNORE_READONLY_ATTRIBUTE` (Windows 10 1809+), so
///    a link with the read-only attribute is removed too: `rm` removes links whatever
///    their attributes, as `unlink(2)` does (the attribute is the link's own, not its
///    target's);
/// 2. the same without ignoring the read-only attribute (Windows 10 1709 to 1803);
/// 3. the classic `FileDispositionInfo` (older Windows, other file systems, Wine 8): the
///    name goes with the last handle, and a read-only entry is refused
///    (`ERROR_ACCESS_DENIED`).
fn delete_on_close(handle: &Handle) -> io::Result<()> {
    const DELETE_NOW: u32 = FILE_DISPOSITION_FLAG_DELETE | FILE_DISPOSITION_FLAG_POSIX_SEMANTICS;
    for flags in [
        DELETE_NOW | FILE_DISPOSITION_FLAG_IGNORE_READONLY_ATTRIBUTE,
        DELETE_NOW,
    ] {
        let ex = FILE_DISPOSITION_INFO_EX { Flags: flags };
        // SAFETY: the handle is open with DELETE access; `ex` is the structure
        // FileDispositionInfoEx takes, and its size is passed.
        let ok = unsafe {
            SetFileInformationByHandle(
                handle.raw(),
                FileDispositionInfoEx,
                (&raw const ex).cast(),
                size_of::<FILE_DISPOSITION_INFO_EX>() as u32,
            )
        };
        if ok != 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if !unsupported(&err) {
            return Err(err);
        }
    }
    let classic = FILE_DISPOSITION_INFO { DeleteFile: true };
    // SAFETY: as above, with the FILE_DISPOSITION_INFO structure FileDispositionInfo takes.
    let ok = unsafe {
        SetFileInformationByHandle(
            handle.raw(),
            FileDispositionInfo,
            (&raw const classic).cast(),
            size_of::<FILE_DISPOSITION_INFO>() as u32,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Removes the link at `path`, never what it leads to.
///
/// The link itself is opened (`FILE_FLAG_OPEN_REPARSE_POINT`, with DELETE access), and
/// through that one handle it is checked to be a name-surrogate reparse point (a symlink,
/// junction or other link, not a plain file or directory, nor a reparse point that holds
/// data: MS-FSCC 2.1.2.1), and then deleted. A path
/// swapped in between the check and the delete is never touched: the handle names the
/// entry, not the path. Deleting a junction or directory symlink this way removes the
/// link's own (empty) directory entry; the target's contents are not reached.
pub(crate) fn remove_link(path: &Path) -> io::Result<()> {
    let handle = Handle::open(
        path,
        DELETE | FILE_READ_ATTRIBUTES | SYNCHRONIZE,
        Follow::No,
    )?;
    // Whatever link stands there now goes (as on Unix, where which link it is cannot be
    // told reliably): what is promised is that nothing but a link is ever deleted, and
    // the check and the delete go through this one handle.
    match handle.attribute_tag()? {
        (_, Some(tag)) if Tag(tag).is_name_surrogate() => {}
        _ => return Err(os_error(ERROR_NOT_A_REPARSE_POINT)),
    }
    delete_on_close(&handle)
}

/// Puts the new link `from` (made beside `to` under a hidden name) in the place of `to`,
/// if `to` is a link (any link: a racing `--force` may have put its own there) or gone; a
/// real file or directory put there since it was inspected is never replaced (DESIGN.md
/// promise 2).
///
/// Windows has no rename that replaces its target only if the target is still what was
/// checked, and a handle that kept others from replacing `to` would keep knot from it too.
/// So the old link is opened without following it, checked through that handle, and
/// renamed aside to a fresh hidden name through the same handle (exactly the entry
/// checked, whatever the path names by then); the new link is renamed in without
/// replacing anything, and the old one deleted through its handle. If something took the
/// name in between, the new link is not put there: the old link (a link: no data) is
/// deleted, and what took its place is looked at again. The price is a moment in which
/// the path holds no link; the gain is that no file is ever replaced. Directory links
/// (junctions, directory symlinks), which no rename can replace, are replaced this way
/// too.
pub(crate) fn rename_over(from: &Path, to: &Path) -> io::Result<()> {
    replace_entry(from, to, |old| {
        Ok(matches!(old.attribute_tag()?, (_, Some(tag)) if Tag(tag).is_name_surrogate()))
    })
}

/// [`rename_over`], with what may be replaced decided by `may_go` (the tests, under a Wine
/// that has no links, let files go).
fn replace_entry(
    from: &Path,
    to: &Path,
    may_go: impl Fn(&Handle) -> io::Result<bool>,
) -> io::Result<()> {
    let new = Handle::open(from, DELETE | SYNCHRONIZE, Follow::No)?;
    let name = wide::path(to)?;
    // Each try again means another program got its link in: this bounds starvation.
    for _ in 0..1000 {
        let old = match Handle::open(to, DELETE | FILE_READ_ATTRIBUTES | SYNCHRONIZE, Follow::No) {
            Ok(old) => old,
            Err(err) if err.kind() == io::ErrorKind::NotFound => match rename_to(&new, &name) {
                Ok(()) => return Ok(()),
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(err) => return Err(err),
            },
            Err(err) => return Err(err),
        };
        if !may_go(&old)? {
            return Err(SysError::Replaced.into());
        }
        let aside = set_aside(&old, to)?;
        match rename_to(&new, &name) {
            Ok(()) => {
                // The new link is in place; the old one goes (best effort: it is a link).
                let _ = delete_on_close(&old);
                return Ok(());
            }
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                let _ = delete_on_close(&old);
            }
            Err(err) => {
                if let Err(why) = rename_to(&old, &name) {
                    return Err(SysError::OldLinkAside {
                        at: aside,
                        source: err,
                        back: why,
                    }
                    .into());
                }
                return Err(err);
            }
        }
    }
    Err(SysError::KeptChanging.into())
}

/// Renames the entry open as `handle` to a fresh hidden name beside `path`, drawn again
/// on a clash; returns that name.
fn set_aside(handle: &Handle, path: &Path) -> io::Result<PathBuf> {
    for _ in 0..8 {
        let aside = crate::path::hidden_name(path);
        match rename_to(handle, &wide::path(&aside)?) {
            Ok(()) => return Ok(aside),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(err),
        }
    }
    Err(io::ErrorKind::AlreadyExists.into())
}

/// Renames the entry open as `handle` to `to`, never replacing what is there:
/// `FileRenameInfoEx` with POSIX semantics, or the classic `FileRenameInfo` where that
/// class is not supported (`ERROR_INVALID_PARAMETER`, `ERROR_NOT_SUPPORTED`: older
/// Windows, other file systems, Wine 8).
fn rename_to(handle: &Handle, to: &[u16]) -> io::Result<()> {
    match rename(handle, to, Some(FILE_RENAME_FLAG_POSIX_SEMANTICS)) {
        Err(err) if unsupported(&err) => rename(handle, to, None),
        other => other,
    }
}

/// Whether the entry at `path` itself (a link not followed) is a directory: a real one, a
/// junction or a directory symlink.
pub(crate) fn is_directory_entry(path: &Path) -> bool {
    Handle::open(path, FILE_READ_ATTRIBUTES, Follow::No)
        .and_then(|handle| handle.attribute_tag())
        .is_ok_and(|(attributes, _)| attributes & FILE_ATTRIBUTE_DIRECTORY != 0)
}

/// `SetFileInformationByHandle` with a `FILE_RENAME_INFO` naming `to` (NUL-terminated),
/// never replacing an entry there: `FileRenameInfoEx` with `flags`, or `FileRenameInfo`
/// (with `ReplaceIfExists` false) when `flags` is `None`.
fn rename(handle: &Handle, to: &[u16], flags: Option<u32>) -> io::Result<()> {
    let name_bytes = (to.len() - 1) * 2;
    let size = (RENAME_INFO_NAME_OFFSET + to.len() * 2).max(size_of::<FILE_RENAME_INFO>());
    // u64s: the structure holds a HANDLE, so the buffer must be pointer-aligned.
    let mut buf = vec![0u64; size.div_ceil(8)];
    let info = buf.as_mut_ptr().cast::<FILE_RENAME_INFO>();
    let class = match flags {
        Some(_) => FileRenameInfoEx,
        None => FileRenameInfo,
    };
    // SAFETY: `buf` is zeroed, 8-byte aligned and at least `size` bytes, which covers the
    // fixed part (checked in ffi.rs) and the name with its NUL at RENAME_INFO_NAME_OFFSET
    // (2-byte aligned). RootDirectory stays null: `to` is a full or relative Win32 path.
    unsafe {
        match flags {
            Some(flags) => (*info).Anonymous.Flags = flags,
            None => (*info).Anonymous.ReplaceIfExists = false,
        }
        (*info).FileNameLength = u32::try_from(name_bytes)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "name too long"))?;
        std::ptr::copy_nonoverlapping(
            to.as_ptr(),
            buf.as_mut_ptr()
                .cast::<u8>()
                .add(RENAME_INFO_NAME_OFFSET)
                .cast::<u16>(),
            to.len(),
        );
    }
    // SAFETY: the handle is open with DELETE access; `buf` holds a FILE_RENAME_INFO of
    // `size` bytes as built above.
    let ok = unsafe {
        SetFileInformationByHandle(handle.raw(), class, buf.as_ptr().cast(), size as u32)
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// What a failure to follow a link means for its status.
pub(crate) fn classify_resolve_error(err: &io::Error) -> Status {
    if last_error_is(err, &[ERROR_CANT_RESOLVE_FILENAME]) {
        Status::Loop
    } else if err.kind() == io::ErrorKind::NotFound
        || last_error_is(
            err,
            &[
                ERROR_FILE_NOT_FOUND,
                ERROR_PATH_NOT_FOUND,
                ERROR_INVALID_DRIVE,
                ERROR_BAD_NETPATH,
                ERROR_BAD_NET_NAME,
                ERROR_NOT_READY,
            ],
        )
    {
        Status::Dangling
    } else {
        Status::Unreadable
    }
}

/// knot's own kind for a Windows error that `io::ErrorKind` has no word for.
pub(crate) fn os_error_kind(err: &io::Error) -> Option<super::OsError> {
    if last_error_is(err, &[ERROR_PRIVILEGE_NOT_HELD]) {
        Some(super::OsError::PrivilegeNeeded)
    } else if last_error_is(err, &[ERROR_NOT_SAME_DEVICE]) {
        Some(super::OsError::CrossDevice)
    } else if last_error_is(err, &[ERROR_TOO_MANY_OPEN_FILES]) {
        Some(super::OsError::TooManyOpenFiles)
    } else {
        None
    }
}

/// Whether `path` is on another machine: a UNC path (`\\server\share`, `\\?\UNC\...`) or
/// on a drive letter mapped to a share (`GetDriveTypeW` says `DRIVE_REMOTE`). Junctions
/// cannot lead there: the I/O manager follows a mount point only to a local volume.
pub(crate) fn is_remote(path: &Path) -> bool {
    let units = wide::units(path.as_os_str());
    let rest =
        match wide::strip_prefix(&units, r"\\?\").or_else(|| wide::strip_prefix(&units, r"\??\")) {
            Some(rest) if wide::strip_prefix(rest, r"UNC\").is_some() => return true,
            Some(rest) => rest,
            // `\\server\share`, but not the device namespace `\\.\`.
            None if wide::is_unc(&units) => return true,
            None => &units,
        };
    let Some(drive) = wide::drive_letter(rest) else {
        return false;
    };
    let root = [drive, u16::from(b':'), u16::from(b'\\'), 0];
    // SAFETY: `root` is a NUL-terminated drive root such as `C:\`.
    unsafe { GetDriveTypeW(root.as_ptr()) == DRIVE_REMOTE }
}

/// A path as a user would type it: without `\\?\` where the short form is exact.
pub(crate) fn user_path(path: PathBuf) -> PathBuf {
    wide::user_path(path)
}

/// Whether `err` says this user may not do it (ERROR_ACCESS_DENIED).
pub(crate) fn is_access_denied(err: &io::Error) -> bool {
    err.raw_os_error() == i32::try_from(windows_sys::Win32::Foundation::ERROR_ACCESS_DENIED).ok()
}

// The path rules (`crate::path`).

/// Where the directory `dir` really is, for computing the targets knot stores: its full
/// path as `GetFullPathNameW` makes it (`std::path::absolute`), which is what `mklink /J`
/// and `junction.exe` store and how Windows itself resolves `..` in a link's target
/// (lexically). `fs::canonicalize` would add `\\?\` (a junction holding `\??\\\?\C:\...`
/// cannot be followed: tesuji/junction#30), turn a mapped drive into its UNC path and
/// resolve junctions the user named on purpose.
pub(crate) fn real_dir(dir: &Path) -> io::Result<PathBuf> {
    crate::path::absolute(dir)
}

/// Whether two components of absolute paths name the same directory entry: names (and a
/// UNC prefix's server and share) compare ignoring ASCII case, as NTFS and Win32 compare
/// them, so `C:\Work\a` and `c:\work\b` share `C:\Work`; full Unicode case folding (the
/// volume's upcase table) is the file system's, and a name that differs only there just
/// goes up one `..` more.
pub(crate) fn same_name(a: &Component<'_>, b: &Component<'_>) -> bool {
    a == b
        || match (a, b) {
            (Component::Normal(a), Component::Normal(b)) => a.eq_ignore_ascii_case(b),
            (Component::Prefix(a), Component::Prefix(b)) => {
                a.as_os_str().eq_ignore_ascii_case(b.as_os_str())
            }
            _ => false,
        }
}

#[cfg(test)]
mod tests;

/// The Windows backend (the contract in `sys/mod.rs`): each call is this file's function of
/// the same name, which says how.
#[derive(Debug)]
pub(crate) struct Os;

impl super::Backend for Os {
    type Dir = Dir;
    type DirReader = DirReader;

    /// Windows folds `..` lexically, in a path (`GetFullPathNameW`) and in a link's target.
    const DOT_DOT: DotDot = DotDot::Lexical;
    const NAMES_FROM: super::NamesFrom = super::NamesFrom::FileNames;

    fn lstat(path: &Path) -> io::Result<Meta> {
        lstat(path)
    }

    fn stat(path: &Path) -> io::Result<Meta> {
        stat(path)
    }

    fn read_link(path: &Path) -> io::Result<Stored> {
        read_link(path)
    }

    fn hard_link_names(path: &Path) -> io::Result<Option<Vec<PathBuf>>> {
        hard_link_names(path)
    }

    fn classify_resolve_error(err: &io::Error) -> Status {
        classify_resolve_error(err)
    }

    fn os_error_kind(err: &io::Error) -> Option<super::OsError> {
        os_error_kind(err)
    }

    fn is_access_denied(err: &io::Error) -> bool {
        is_access_denied(err)
    }

    fn is_remote(path: &Path) -> bool {
        is_remote(path)
    }

    fn user_path(path: PathBuf) -> PathBuf {
        user_path(path)
    }

    fn normalise_symlink_target(target: &Path) -> io::Result<PathBuf> {
        normalise_symlink_target(target)
    }

    fn is_directory_entry(path: &Path) -> bool {
        is_directory_entry(path)
    }

    fn real_dir(dir: &Path) -> io::Result<PathBuf> {
        real_dir(dir)
    }

    fn same_name(a: &Component<'_>, b: &Component<'_>) -> bool {
        same_name(a, b)
    }

    fn max_open_dirs() -> usize {
        dir::max_open_dirs()
    }

    fn max_held_dirs() -> usize {
        dir::max_held_dirs()
    }
}
