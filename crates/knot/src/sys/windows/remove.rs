//! Removing and replacing links through a handle to the link itself.

#![allow(
    unsafe_code,
    reason = "the Win32 calls of the Windows backend; the crate root denies unsafe elsewhere"
)]

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
pub(super) fn replace_entry(
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
pub(super) fn set_aside(handle: &Handle, path: &Path) -> io::Result<PathBuf> {
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
pub(super) fn rename_to(handle: &Handle, to: &[u16]) -> io::Result<()> {
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
pub(super) fn rename(handle: &Handle, to: &[u16], flags: Option<u32>) -> io::Result<()> {
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
