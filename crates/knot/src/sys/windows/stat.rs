//! What an entry is: its attributes, its identity, what a link stores.

#![allow(
    unsafe_code,
    reason = "the Win32 calls of the Windows backend; the crate root denies unsafe elsewhere"
)]

use super::*;

/// The entry's type from its attributes and reparse tag, the same for `lstat` and for a
/// directory listing.
///
/// A reparse point is a [`FileType::Link`], with one exception: a directory whose tag is
/// not a name surrogate (a cloud-files placeholder folder, a projected file system's
/// folder: MS-FSCC 2.1.2.1) is a real directory with real children, which a scan walks
/// and `rm` refuses.
pub(super) fn file_type(attributes: u32, tag: Option<u32>) -> FileType {
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
pub(super) fn unsupported(err: &io::Error) -> bool {
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
pub(super) fn file_id(handle: &Handle) -> io::Result<(u64, u128)> {
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
pub(super) fn meta_of(handle: &Handle, follow: Follow) -> io::Result<Meta> {
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
/// An entry locked against every open, or that this user may not open, is read from its
/// directory instead (`listed_meta`).
pub(crate) fn lstat(path: &Path) -> io::Result<Meta> {
    entry_meta(Handle::open(path, FILE_READ_ATTRIBUTES, Follow::No), path)
}

/// What the entry `opened` (itself, a link not followed) is; where it is locked against
/// every open, what the listing of `path`, its path, says.
pub(super) fn entry_meta(opened: io::Result<Handle>, path: &Path) -> io::Result<Meta> {
    match opened {
        Ok(handle) => meta_of(&handle, Follow::No),
        Err(err) if listed_instead(&err) => listed_meta(path).ok_or(err),
        Err(err) => Err(err),
    }
}

/// [`entry_meta`] with the entry's allocation size (`Dir::usage_at`). A file system that
/// does not answer `FileStandardInfo` leaves it `None`.
pub(super) fn entry_usage(opened: io::Result<Handle>, path: &Path) -> io::Result<Meta> {
    match opened {
        Ok(handle) => {
            let meta = meta_of(&handle, Follow::No)?;
            let allocated = match handle.standard_info() {
                Ok(info) => u64::try_from(info.AllocationSize).ok(),
                Err(err) if unsupported(&err) => None,
                Err(err) => return Err(err),
            };
            Ok(Meta { allocated, ..meta })
        }
        Err(err) if listed_instead(&err) => listed_meta(path).ok_or(err),
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
        Err(err) if listed_instead(&err) => listed_meta(path)
            .filter(|meta| meta.tag.is_none())
            .ok_or(err),
        Err(err) => Err(err),
    }
}

/// Whether an open that failed with `err` is answered from the directory listing instead
/// ([`listed_meta`]), as std's `metadata` does: `ERROR_SHARING_VIOLATION` (a few system
/// files locked against every open: `pagefile.sys`, `hiberfil.sys`) and
/// `ERROR_ACCESS_DENIED` (an entry this user may not open even for its attributes, such as
/// `C:\System Volume Information`), whose listing the directory still gives.
pub(super) fn listed_instead(err: &io::Error) -> bool {
    last_error_is(err, &[ERROR_SHARING_VIOLATION, ERROR_ACCESS_DENIED])
}

/// The id of an entry read from its directory listing, which has none: all ones, which is
/// `FILE_INVALID_FILE_ID` (winnt.h) in the low 64 bits, so no id read through a handle is
/// ever equal to it.
pub(super) const LISTED_ID: (u64, u128) = (u64::MAX, u128::MAX);

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
pub(super) fn listed_meta(path: &Path) -> Option<Meta> {
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
    read_link_of(&Handle::open(path, FILE_READ_ATTRIBUTES, Follow::No)?)
}

/// [`read_link`] of the entry open as `handle` (itself, not followed).
pub(super) fn read_link_of(handle: &Handle) -> io::Result<Stored> {
    let (attributes, tag) = handle.attribute_tag()?;
    if tag.is_none() {
        return Err(os_error(ERROR_NOT_A_REPARSE_POINT));
    }
    let raw = ioctl::get_reparse_point(handle)?;
    Ok(super::super::reparse::record(
        raw,
        Some(attributes & FILE_ATTRIBUTE_DIRECTORY != 0),
        None,
    ))
}
