//! Hard links: a second name (`FileLinkInformation`, relative to a held directory), and
//! every name of a file (`FindFirstFileNameW`).

#![allow(
    unsafe_code,
    reason = "the Win32 calls of the Windows backend; the crate root denies unsafe elsewhere"
)]

use super::*;

/// Gives the entry `target_name` of the directory `target_dir` the second name `name` in
/// the directory `dir`, as `CreateHardLinkW` does, but with both names relative to their
/// directories' handles: the entry is opened itself (a symlink given as the target gets a
/// second name, it is not followed) with `FILE_WRITE_ATTRIBUTES`, as `CreateHardLinkW`
/// opens it, and given the name with `NtSetInformationFile(FileLinkInformation)`, never
/// replacing what stands there (`ERROR_ALREADY_EXISTS`).
pub(crate) fn hard_link(
    target_dir: &Dir,
    target_name: &OsStr,
    dir: &Dir,
    name: &OsStr,
) -> io::Result<()> {
    let target = target_dir.entry(target_name, FILE_WRITE_ATTRIBUTES)?;
    // ReplaceIfExists false.
    let linked = set_name(
        &target,
        FileLinkInformation,
        0,
        dir,
        &wide::terminated(wide::units(name))?,
    );
    // A file system without hard links (FAT, exFAT) fails the call with a bare system
    // error (ERROR_INVALID_FUNCTION, ERROR_NOT_SUPPORTED): its flags are asked then, for
    // such an error only, and the refusal names it. Not before every link: the flag is
    // not to be trusted alone (Wine 8 makes hard links and does not report it), and any
    // other failure (the name taken, access denied) is the link's own. Nothing was made
    // either way.
    if let Err(err) = &linked
        && unsupported(err)
        && let Ok((flags, file_system)) = volume_flags(&target)
        && flags & FILE_SUPPORTS_HARD_LINKS == 0
    {
        return Err(SysError::FileSystemLacks {
            why: format!(
                "the {file_system} file system does not support hard links (it does not \
                 report FILE_SUPPORTS_HARD_LINKS; {err}); make the link on an NTFS volume, \
                 or copy the file"
            ),
        }
        .into());
    }
    linked
}

/// Every name of the file `path`, from `FindFirstFileNameW` / `FindNextFileNameW`: they
/// come back relative to the volume (`\dir\file`, as `fsutil hardlink list` prints
/// them), so each is joined to the volume's root as the file's own handle names it: its
/// final path (`GetFinalPathNameByHandleW`, `VOLUME_NAME_DOS`) less its path inside the
/// volume (the same call with `VOLUME_NAME_NONE`). `--within` is made real by the same
/// call on its own handle (`std::fs::canonicalize`), so both sides name the volume the same
/// way where `GetVolumePathNameW` would not: a volume mounted on a folder, a subst drive
/// (whose root is a folder of another drive), a file reached through a junction to another
/// volume. `None` where the file system cannot say (`ERROR_INVALID_LEVEL`: FAT, some SMB
/// servers; `ERROR_CALL_NOT_IMPLEMENTED`, `ERROR_NOT_SUPPORTED`, `ERROR_INVALID_FUNCTION`:
/// Wine 8, whose `FindFirstFileNameW` is a stub), for a walk instead.
pub(crate) fn hard_link_names(path: &Path) -> io::Result<Option<Vec<PathBuf>>> {
    let Some((find_first, find_next)) = file_name_calls() else {
        return Ok(None);
    };
    let handle = Handle::open(path, FILE_READ_ATTRIBUTES, Follow::No)?;
    let full = wide::units(handle.final_path_as(VOLUME_NAME_DOS)?.as_os_str());
    let inside = wide::units(handle.final_path_as(VOLUME_NAME_NONE)?.as_os_str());
    let Some(root) = full.strip_suffix(inside.as_slice()) else {
        // Not seen: the two forms of one final path end alike. Walk instead.
        return Ok(None);
    };
    let mut root = root.to_vec();
    while root.last() == Some(&u16::from(b'\\')) {
        root.pop();
    }
    let wide_path = wide::terminated(full)?;
    let unsupported = [
        ERROR_INVALID_LEVEL,
        ERROR_CALL_NOT_IMPLEMENTED,
        ERROR_NOT_SUPPORTED,
        ERROR_INVALID_FUNCTION,
    ];
    let mut names = Vec::new();
    // The longest path there is (32,767 units and the terminator), so no name ever needs
    // ERROR_MORE_DATA's second call: what the search does with a name that did not fit is
    // not documented, and a name passed over would be a name lost.
    let mut buffer = vec![0u16; 1 << 15];
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
pub(super) fn file_name_calls() -> Option<(FindFirstFileNameW, FindNextFileNameW)> {
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
