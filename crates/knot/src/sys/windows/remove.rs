//! Removing and replacing links through a handle to the link itself.

#![allow(
    unsafe_code,
    reason = "the Win32 calls of the Windows backend; the crate root denies unsafe elsewhere"
)]

use super::handle::SHARE_ALL;
use super::*;

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
pub(super) fn delete_on_close(handle: &Handle) -> io::Result<()> {
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

/// Removes the link `name` in the directory `dir`, never what it leads to.
///
/// The link itself is opened by its name relative to the directory's handle (never
/// followed, with DELETE access), and through that one handle it is checked to be a
/// name-surrogate reparse point (a symlink, junction or other link, not a plain file or
/// directory, nor a reparse point that holds data: MS-FSCC 2.1.2.1), and then deleted. An
/// entry swapped in between the check and the delete is never touched: the handle names
/// the entry, not the name. Deleting a junction or directory symlink this way removes the
/// link's own (empty) directory entry; the target's contents are not reached.
pub(crate) fn remove_link(dir: &Dir, name: &OsStr) -> io::Result<()> {
    delete_link(&dir.entry(name, DELETE | FILE_READ_ATTRIBUTES)?)
}

/// [`remove_link`] of the entry open as `handle` (with `DELETE` access).
fn delete_link(handle: &Handle) -> io::Result<()> {
    // Whatever link stands there now goes (as on Unix, where which link it is cannot be
    // told reliably): what is promised is that nothing but a link is ever deleted, and
    // the check and the delete go through this one handle.
    match handle.attribute_tag()? {
        (_, Some(tag)) if Tag(tag).is_name_surrogate() => {}
        _ => return Err(os_error(ERROR_NOT_A_REPARSE_POINT)),
    }
    refuse_volume_mount_point(handle)?;
    delete_on_close(handle)
}

/// Refuses a volume mount point (a mount point to `\??\Volume{GUID}\`): the mount manager
/// records each one it makes (`SetVolumeMountPointW`, `mountvol`), and deleting its
/// directory or reparse point behind the mount manager's back leaves that record stale;
/// `mountvol DIR /D` (`DeleteVolumeMountPointW`) removes both. knot makes none either
/// (`make.rs`). A junction to a directory passes.
pub(super) fn refuse_volume_mount_point(handle: &Handle) -> io::Result<()> {
    if handle.attribute_tag()?.1 != Some(Tag::MOUNT_POINT.0) {
        return Ok(());
    }
    let raw = ioctl::get_reparse_point(handle)?;
    match knot_reparse::decode(&raw) {
        Ok(ReparsePoint::MountPoint(point)) if point.is_volume_mount_point() => {
            Err(SysError::VolumeMountPoint.into())
        }
        _ => Ok(()),
    }
}

/// Puts the new link `staged` (made beside `name` under a hidden name, in the directory
/// `dir`) in the place of `name`, if that is a link (any link: a racing `--force` may have
/// put its own there) or gone; a real file or directory put there since it was inspected
/// is never replaced (DESIGN.md promise 2).
///
/// Windows has no rename that replaces its target only if the target is still what was
/// checked, and a handle that kept others from replacing `name` would keep knot from it
/// too. So the old link is opened without following it, checked through that handle, and
/// renamed aside to a fresh hidden name through the same handle (exactly the entry
/// checked, whatever the name holds by then); the new link is renamed in without
/// replacing anything, and the old one deleted through its handle. If something took the
/// name in between, the new link is not put there: the old link (a link: no data) is
/// deleted, and what took its place is looked at again. The price is a moment in which
/// the name holds no link; the gain is that no file is ever replaced. Directory links
/// (junctions, directory symlinks), which no rename can replace, are replaced this way
/// too. Every name is opened and renamed relative to the directory's handle.
pub(crate) fn rename_over(dir: &Dir, staged: &OsStr, name: &OsStr) -> io::Result<()> {
    replace_entry(dir, staged, name, |old| {
        let link = matches!(old.attribute_tag()?, (_, Some(tag)) if Tag(tag).is_name_surrogate());
        if link {
            refuse_volume_mount_point(old)?;
        }
        Ok(link)
    })
}

/// [`rename_over`], with what may be replaced decided by `may_go` (the tests, under a Wine
/// that has no links, let files go).
pub(super) fn replace_entry(
    dir: &Dir,
    staged: &OsStr,
    name: &OsStr,
    may_go: impl Fn(&Handle) -> io::Result<bool>,
) -> io::Result<()> {
    replace_with(dir, staged, name, 0, true, may_go)
}

/// [`replace_entry`], with the old entry opened with `access` too, for `may_go` to read
/// what it holds through the handle that is then renamed aside and deleted
/// (`convert --to-native` judges a Cygwin link file by its bytes, `git-links` a
/// placeholder); where nothing is at `name`, nothing is put there either: the entry judged
/// is gone ([`SysError::Replaced`]).
pub(super) fn replace_entry_reading(
    dir: &Dir,
    staged: &OsStr,
    name: &OsStr,
    access: u32,
    may_go: impl Fn(&Handle) -> io::Result<bool>,
) -> io::Result<()> {
    replace_with(dir, staged, name, access, false, may_go)
}

/// [`replace_entry`] and [`replace_entry_reading`]: `missing`, whether the new link goes
/// in where nothing is at `name`.
fn replace_with(
    dir: &Dir,
    staged: &OsStr,
    name: &OsStr,
    access: u32,
    missing: bool,
    may_go: impl Fn(&Handle) -> io::Result<bool>,
) -> io::Result<()> {
    let new = dir.entry(staged, DELETE)?;
    let to = wide::terminated(wide::units(name))?;
    // Each try again means another program got its link in: this bounds starvation.
    for _ in 0..1000 {
        let old = match dir.entry(name, DELETE | FILE_READ_ATTRIBUTES | access) {
            Ok(old) => old,
            Err(err) if err.kind() == io::ErrorKind::NotFound && !missing => {
                return Err(SysError::Replaced.into());
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => match rename_to(&new, dir, &to) {
                Ok(()) => return Ok(()),
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(err) => return Err(err),
            },
            Err(err) => return Err(err),
        };
        if !may_go(&old)? {
            return Err(SysError::Replaced.into());
        }
        let aside = set_aside(&old, dir, name)?;
        match rename_to(&new, dir, &to) {
            Ok(()) => {
                // The new link is in place; the old one goes (best effort: it is a link).
                let _ = delete_on_close(&old);
                return Ok(());
            }
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                let _ = delete_on_close(&old);
            }
            Err(err) => {
                if let Err(why) = rename_to(&old, dir, &to) {
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

/// Renames the entry open as `handle` to a fresh hidden name beside `name` in `dir`, drawn
/// again on a clash; returns its path, for messages.
pub(super) fn set_aside(handle: &Handle, dir: &Dir, name: &OsStr) -> io::Result<PathBuf> {
    for _ in 0..8 {
        let aside = crate::path::hidden_file_name(name);
        match rename_to(handle, dir, &wide::terminated(wide::units(&aside))?) {
            Ok(()) => return Ok(dir.join(&aside)),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(err),
        }
    }
    Err(io::ErrorKind::AlreadyExists.into())
}

/// Renames the entry open as `handle` to the name `to` (NUL-terminated) in `dir`, never
/// replacing what is there: `FileRenameInformationEx` with POSIX semantics, or the classic
/// `FileRenameInformation` where that class is not supported (`ERROR_INVALID_PARAMETER`,
/// `ERROR_NOT_SUPPORTED`: older Windows, other file systems, Wine 8).
pub(super) fn rename_to(handle: &Handle, dir: &Dir, to: &[u16]) -> io::Result<()> {
    match rename(handle, dir, to, Some(FILE_RENAME_FLAG_POSIX_SEMANTICS)) {
        Err(err) if unsupported(&err) => rename(handle, dir, to, None),
        other => other,
    }
}

/// Renames the entry `name` of `dir`, opened relative to its handle without following a
/// reparse point there, to `to_name` in `to`, relative to that handle, never replacing
/// what is there ([`rename_to`]).
pub(crate) fn move_entry(dir: &Dir, name: &OsStr, to: &Dir, to_name: &OsStr) -> io::Result<()> {
    let handle = dir.entry(name, DELETE)?;
    rename_to(&handle, to, &wide::terminated(wide::units(to_name))?)
}

/// Whether the entry at `path` itself (a link not followed) is a directory: a real one, a
/// junction or a directory symlink.
pub(crate) fn is_directory_entry(path: &Path) -> bool {
    Handle::open(path, FILE_READ_ATTRIBUTES, Follow::No)
        .and_then(|handle| handle.attribute_tag())
        .is_ok_and(|(attributes, _)| attributes & FILE_ATTRIBUTE_DIRECTORY != 0)
}

/// Gives the entry open as `handle` the name `to` (NUL-terminated) in the directory `dir`,
/// relative to its handle: `NtSetInformationFile` of `class` (a rename or a hard link),
/// whose `FILE_RENAME_INFORMATION` and `FILE_LINK_INFORMATION` share one layout: a 32-bit
/// `word` (`ReplaceIfExists`, or the `Flags` of the `Ex` classes), `RootDirectory` (the
/// name is relative to it), `FileNameLength` in bytes, then the name (its NUL stored, not
/// counted).
///
/// The NT call and not `SetFileInformationByHandle`: Win32 takes the name as a path and
/// Wine 8 makes it a full one, which with a `RootDirectory` is an invalid parameter.
pub(super) fn set_name(
    handle: &Handle,
    class: FILE_INFORMATION_CLASS,
    word: u32,
    dir: &Dir,
    to: &[u16],
) -> io::Result<()> {
    let name_bytes = (to.len() - 1) * 2;
    let size = (RENAME_INFO_NAME_OFFSET + to.len() * 2).max(size_of::<FILE_RENAME_INFO>());
    // u64s: the structure holds a HANDLE, so the buffer must be pointer-aligned.
    let mut buf = vec![0u64; size.div_ceil(8)];
    let info = buf.as_mut_ptr().cast::<FILE_RENAME_INFO>();
    // SAFETY: `buf` is zeroed, 8-byte aligned and at least `size` bytes, which covers the
    // fixed part (checked in ffi.rs, for both structures) and the name with its NUL at
    // RENAME_INFO_NAME_OFFSET (2-byte aligned).
    unsafe {
        (*info).Anonymous.Flags = word;
        (*info).RootDirectory = dir.handle().raw();
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
    // SAFETY: an all-zero IO_STATUS_BLOCK is valid (a status and a number).
    let mut status_block: IO_STATUS_BLOCK = unsafe { std::mem::zeroed() };
    // SAFETY: `handle` is open; `buf` holds the structure of `class`, `size` bytes, as built
    // above; `status_block` is writable.
    let status = unsafe {
        NtSetInformationFile(
            handle.raw(),
            &raw mut status_block,
            buf.as_ptr().cast(),
            size as u32,
            class,
        )
    };
    if status < 0 {
        return Err(handle::nt_error(status));
    }
    Ok(())
}

/// Renames the entry open as `handle` (with DELETE access) to `to` in `dir`, never
/// replacing an entry there: `FileRenameInformationEx` with `flags`, or
/// `FileRenameInformation` (with `ReplaceIfExists` false) when `flags` is `None`.
pub(super) fn rename(handle: &Handle, dir: &Dir, to: &[u16], flags: Option<u32>) -> io::Result<()> {
    match flags {
        Some(flags) => set_name(handle, FileRenameInformationEx, flags, dir, to),
        // ReplaceIfExists false is a zero word.
        None => set_name(handle, FileRenameInformation, 0, dir, to),
    }
}

/// Removes the file `name` of `dir` (a tree being removed deletes it), opened by its name
/// relative to the directory's handle, never followed, and deleted through that handle
/// ([`delete_as_it_is`]). It is opened with `DELETE` and no right to change it (besides
/// `FILE_READ_ATTRIBUTES` and `SYNCHRONIZE`, which every knot open asks): the
/// directory's `FILE_DELETE_CHILD` grants the `DELETE`.
pub(crate) fn remove_file(dir: &Dir, name: &OsStr) -> io::Result<()> {
    let handle = dir.entry(name, DELETE | FILE_READ_ATTRIBUTES)?;
    let (attributes, _) = handle.attribute_tag()?;
    if attributes & FILE_ATTRIBUTE_DIRECTORY != 0 {
        return Err(os_error(ERROR_DIRECTORY));
    }
    delete_as_it_is(&handle, attributes)
}

/// Removes, in a tree being removed, the entry `name` of `dir` that the listing read as
/// a reparse point that is no directory: a link ([`remove_link`]), or a file whose
/// reparse point keeps its data (WOF-compressed, deduplicated, a cloud file, an app
/// execution alias, a socket: no name surrogate, MS-FSCC 2.1.2.1), which is that file
/// itself, deleted as a file is through its own handle, opened as a reparse point (never
/// served by its filter: nothing is downloaded or decompressed). A volume mount point
/// is refused, as by [`remove_link`]; anything else there now is left as it is.
pub(crate) fn remove_tree_reparse(dir: &Dir, name: &OsStr) -> io::Result<()> {
    let handle = dir.entry(name, DELETE | FILE_READ_ATTRIBUTES)?;
    match handle.attribute_tag()? {
        (attributes, Some(tag))
            if !Tag(tag).is_name_surrogate() && attributes & FILE_ATTRIBUTE_DIRECTORY == 0 =>
        {
            delete_as_it_is(&handle, attributes)
        }
        _ => delete_link(&handle),
    }
}

/// Deletes the entry open as `handle` (with `DELETE` access), whose attributes are
/// `attributes`. Where it is read-only and Windows will not delete it so (Windows before
/// 10 1809, FAT, SMB, Wine), the read-only attribute is cleared through the entry opened
/// again from its own handle with `FILE_WRITE_ATTRIBUTES` (asked only then), on this
/// entry and no other, and the delete asked again; the attribute is given back if that
/// fails too, and where it succeeds on a file with other names (which share its
/// attributes: a hard link), so that those keep it.
pub(super) fn delete_as_it_is(handle: &Handle, attributes: u32) -> io::Result<()> {
    let err = match delete_on_close(handle) {
        Ok(()) => return Ok(()),
        Err(err) => err,
    };
    if attributes & FILE_ATTRIBUTE_READONLY == 0 || !is_access_denied(&err) {
        return Err(err);
    }
    // The same entry, whatever its name is now (the empty name relative to its own
    // handle, as `ReOpenFile` opens it).
    let writer = Handle::open_at(handle, OsStr::new("."), FILE_WRITE_ATTRIBUTES, SHARE_ALL)
        .map_err(|_| err)?;
    // Where the names cannot be counted, as if there were others: giving the attribute
    // back to a file that goes costs nothing.
    let names = handle.info().map_or(u32::MAX, |info| info.nNumberOfLinks);
    set_attributes(&writer, attributes & !FILE_ATTRIBUTE_READONLY)?;
    let deleted = delete_on_close(handle);
    if deleted.is_err() || names > 1 {
        let _ = set_attributes(&writer, attributes);
    }
    deleted
}

/// Removes the empty directory `name` of `dir`, opened by its name relative to the
/// directory's handle, never followed, and deleted through that handle; a link put in its
/// place meanwhile is refused (`ERROR_DIRECTORY`), not followed. A read-only one is
/// deleted as a read-only file is ([`delete_as_it_is`]: Explorer marks customized folders
/// read-only, and NTFS refuses to delete them otherwise where the disposition cannot say
/// to ignore it). A directory whose reparse point is no name surrogate (a cloud-files
/// placeholder folder: a real directory, listed and emptied as one) goes too.
pub(crate) fn remove_dir(dir: &Dir, name: &OsStr) -> io::Result<()> {
    let handle = dir.entry(name, DELETE | FILE_READ_ATTRIBUTES)?;
    let attributes = match handle.attribute_tag()? {
        (attributes, None) if attributes & FILE_ATTRIBUTE_DIRECTORY != 0 => attributes,
        (attributes, Some(tag))
            if attributes & FILE_ATTRIBUTE_DIRECTORY != 0 && !Tag(tag).is_name_surrogate() =>
        {
            attributes
        }
        _ => return Err(os_error(ERROR_DIRECTORY)),
    };
    delete_as_it_is(&handle, attributes)
}

/// Gives the entry open as `handle` the attributes `attributes`, its times left as they
/// are (0).
pub(super) fn set_attributes(handle: &Handle, attributes: u32) -> io::Result<()> {
    let info = FILE_BASIC_INFO {
        CreationTime: 0,
        LastAccessTime: 0,
        LastWriteTime: 0,
        ChangeTime: 0,
        // 0 would leave them as they are: a file with none left is "normal".
        FileAttributes: if attributes == 0 {
            FILE_ATTRIBUTE_NORMAL
        } else {
            attributes
        },
    };
    super::copy::set_basic_info(handle, &info)
}
