//! Making links: symlinks (`CreateSymbolicLinkW`), junctions (`FSCTL_SET_REPARSE_POINT`),
//! a junction's reparse point rewritten in place.

#![allow(
    unsafe_code,
    reason = "the Win32 calls of the Windows backend; the crate root denies unsafe elsewhere"
)]

use super::*;

/// The text a symlink stores: the target as given, with `/` made `\` (Windows resolves a
/// relative target with forward slashes wrongly or not at all: git-for-windows/git#1646),
/// except in a `\\?\` path, where every character is literal.
pub(super) fn symlink_text(target: &Path) -> Vec<u16> {
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
pub(super) fn symlink(request: &Request<'_>) -> io::Result<Written> {
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
pub(super) fn junction(request: &Request<'_>) -> io::Result<Written> {
    let buffer = junction_buffer(request)?;
    make_junction(request.at.dir, request.at.name, &buffer)?;
    Ok(Some(buffer))
}

/// The buffer of [`junction`]: checked and encoded, written nowhere.
pub(super) fn junction_buffer(request: &Request<'_>) -> io::Result<Vec<u8>> {
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

/// Replaces the reparse point of the link `name` in `dir` by `buffer` in place (`knot
/// retarget` of a junction): the link is opened itself, by its name relative to the
/// directory's handle, checked through that handle to be a link (a name-surrogate reparse
/// point), given the new buffer with `FSCTL_SET_REPARSE_POINT` through the same handle,
/// and read back; if the read-back fails the old buffer is put back. The name never lacks
/// its link, and nothing but the entry checked is written.
pub(super) fn rewrite(dir: &Dir, name: &OsStr, buffer: &[u8]) -> io::Result<()> {
    let handle = dir.entry(name, FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES)?;
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

/// Makes the directory `name` in `dir` and gives it the reparse point `buffer`: made and
/// opened in one call relative to the directory's handle ([`Handle::create_dir_at`]), so
/// the handle is the new, empty directory's own and nothing put at the name since can be
/// written through it; deleted through that handle if the buffer is refused.
pub(super) fn make_junction(dir: &Dir, name: &OsStr, buffer: &[u8]) -> io::Result<()> {
    let access = FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES | DELETE;
    let handle = Handle::create_dir_at(dir.handle(), name, access)?;
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
