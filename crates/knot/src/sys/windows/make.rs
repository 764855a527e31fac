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
/// where Developer Mode allows it (`SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE`).
///
/// That flag is passed only where Windows knows it, build 14972 and later (Windows 10
/// 1703); older builds reject it with `ERROR_INVALID_PARAMETER`, so there the call is made
/// without it (git for Windows decides by the build number the same way, commit 96891c3
/// "mingw: try to create symlinks without elevated permissions"). There is no retry on
/// `ERROR_INVALID_PARAMETER`: on a build that knows the flag, that error has another
/// cause (a target Windows will not store), and a retry without the flag would turn it
/// into `ERROR_PRIVILEGE_NOT_HELD` for a user without the privilege, a wrong "turn on
/// Developer Mode", and a silent fallback in `knot link`. The first error is the one
/// reported.
///
/// Windows fills in the reparse buffer itself, so nothing is returned for a byte
/// comparison: the read-back compares the target text. (Wine 8 reports success here and
/// makes nothing; the read-back turns that into an error.)
pub(super) fn symlink(request: &Request<'_>) -> io::Result<Written> {
    let link = wide::path(&request.at.dir.join(request.at.name))?;
    let target = wide::terminated(symlink_text(request.target))?;
    let mut flags = match request.flavour {
        Flavour::Dir => SYMBOLIC_LINK_FLAG_DIRECTORY,
        Flavour::File => 0,
    };
    if knows_unprivileged_create() {
        flags |= SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE;
    }
    // SAFETY: both names are NUL-terminated UTF-16.
    if unsafe { CreateSymbolicLinkW(link.as_ptr(), target.as_ptr(), flags) } {
        Ok(None)
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The first Windows build that knows `SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE`
/// (Windows 10 Insider build 14972, released in 1703: "Symlinks in Windows 10!", Windows
/// Developer Blog, 2016-12-02).
const UNPRIVILEGED_CREATE_BUILD: u32 = 14972;

/// Whether this Windows knows `SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE`: its build
/// from `RtlGetVersion`, which, unlike `GetVersionExW`, is not capped by the program's
/// manifest. Where the version cannot be read the flag is passed (every supported
/// Windows knows it).
fn knows_unprivileged_create() -> bool {
    static KNOWS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *KNOWS.get_or_init(|| {
        let mut info = OSVERSIONINFOW {
            dwOSVersionInfoSize: size_of::<OSVERSIONINFOW>() as u32,
            ..OSVERSIONINFOW::default()
        };
        // SAFETY: `info` is a writable OSVERSIONINFOW whose size field is set.
        let status = unsafe { RtlGetVersion(&raw mut info) };
        status < 0
            || info.dwMajorVersion > 10
            || (info.dwMajorVersion == 10 && info.dwBuildNumber >= UNPRIVILEGED_CREATE_BUILD)
    })
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
    let given = wide::units(request.target.as_os_str());
    let bare = wide::strip_prefix(&given, r"\\?\")
        .or_else(|| wide::strip_prefix(&given, r"\??\"))
        .unwrap_or(&given);
    // `\\?\C:` is the volume's device, not its root directory `C:\`: a mount point to it
    // leads nowhere a directory can be listed.
    if bare.len() == 2 && wide::drive_letter(bare).is_some() {
        return Err(invalid(format!(
            "'{}' names the volume's device, not its root directory; give '{}\\' to link to \
             the root",
            request.target.display(),
            request.target.display()
        )));
    }
    let target = without_subst(&given);
    let point = MountPoint::junction(target).map_err(|e| invalid(e.to_string()))?;
    if point.is_volume_mount_point() {
        return Err(invalid(
            "a junction to a volume (\\\\?\\Volume{GUID}\\) is a volume mount point, which the \
             mount manager records when it makes one; knot does not make or remove them: use \
             `mountvol DIR VOLUME` (SetVolumeMountPointW), or `knot junction` to a directory \
             on that volume"
                .into(),
        ));
    }
    ReparsePoint::from(point)
        .encode()
        .map_err(|e| invalid(format!("the target is too long for a junction: {e}")))
}

/// The access a handle needs to set a reparse point: `FILE_WRITE_ATTRIBUTES` alone, which
/// MS-FSA 2.1.5.10.37 (FSCTL_SET_REPARSE_POINT, phase 1) accepts as well as
/// `FILE_WRITE_DATA` ("If (Open.GrantedAccess & (FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES))
/// == 0, the operation MUST be failed with STATUS_ACCESS_DENIED"). `FILE_WRITE_DATA` is
/// not asked for: an ACL or another program's sharing mode can refuse it where attributes
/// may still be written (a read-only share of the directory, a deny-write ACE).
const SET_REPARSE_ACCESS: u32 = FILE_WRITE_ATTRIBUTES;

/// `target` with a subst drive (`subst S: C:\work`) replaced by the folder it maps
/// (`S:\x` is stored as `C:\work\x`): a junction holding `\??\S:\x` is followed through
/// the DOS device map of whoever follows it, and a subst drive is in the map of the logon
/// session that made it only (an elevated prompt, a service or another user would find
/// nothing, or another folder). `QueryDosDeviceW` says what a drive letter maps to: a
/// subst drive's mapping is a path (`\??\C:\work`), a volume's a device
/// (`\Device\HarddiskVolume3`). Followed up to 8 times (a subst drive of a subst drive).
pub(super) fn without_subst(target: &[u16]) -> Vec<u16> {
    let mut target = target.to_vec();
    for _ in 0..8 {
        let (prefix, rest) = match wide::strip_prefix(&target, r"\\?\") {
            Some(rest) => (4, rest),
            None => (0, target.as_slice()),
        };
        let Some(letter) = wide::drive_letter(rest) else {
            break;
        };
        let device = [letter, u16::from(b':'), 0];
        let mut mapped = vec![0u16; MAX_PATH as usize * 2];
        // SAFETY: `device` is NUL-terminated; `mapped` is writable for its length.
        let n =
            unsafe { QueryDosDeviceW(device.as_ptr(), mapped.as_mut_ptr(), mapped.len() as u32) };
        if n == 0 {
            break;
        }
        // The first of the NUL-separated strings.
        let end = mapped.iter().position(|&u| u == 0).unwrap_or(mapped.len());
        let Some(folder) = wide::strip_prefix(&mapped[..end], r"\??\") else {
            break;
        };
        let folder_letter = wide::drive_letter(folder);
        if folder_letter.is_none() || folder_letter == Some(letter) {
            break;
        }
        let mut folder = folder.to_vec();
        while folder.last() == Some(&u16::from(b'\\')) {
            folder.pop();
        }
        let mut next = target[..prefix].to_vec();
        next.extend_from_slice(&folder);
        next.extend_from_slice(&rest[2..]);
        target = next;
    }
    target
}

/// Replaces the reparse point of the link `name` in `dir` by `buffer` in place (`knot
/// retarget` of a junction): the link is opened itself, by its name relative to the
/// directory's handle, checked through that handle to be a link (a name-surrogate reparse
/// point), given the new buffer with `FSCTL_SET_REPARSE_POINT` through the same handle,
/// and read back; if the read-back fails the old buffer is put back. The name never lacks
/// its link, and nothing but the entry checked is written.
pub(super) fn rewrite(dir: &Dir, name: &OsStr, buffer: &[u8]) -> io::Result<()> {
    let handle = dir.entry(name, SET_REPARSE_ACCESS)?;
    match handle.attribute_tag()? {
        (_, Some(tag)) if Tag(tag).is_name_surrogate() => {}
        _ => return Err(SysError::Replaced.into()),
    }
    // A volume mount point is the mount manager's to change (`remove.rs`).
    refuse_volume_mount_point(&handle)?;
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
    let access = SET_REPARSE_ACCESS | DELETE;
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
