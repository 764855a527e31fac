//! Where links are made: the volume that holds a directory, and what it can do.

#![allow(
    unsafe_code,
    reason = "the Win32 calls of the Windows backend; the crate root denies unsafe elsewhere"
)]

use super::*;

/// Where a link is to be made: the file system of the directory that will hold it, as
/// `GetVolumeInformationByHandleW` describes it.
#[derive(Debug)]
pub(crate) struct OnVolume {
    /// `None` when the volume could not be asked (the link is still attempted; its own
    /// error then says what is wrong).
    pub(super) volume: Option<Volume>,
    /// The directory, where it is on a network share (a UNC path or a mapped drive:
    /// [`is_remote`]); `None` on a local volume.
    pub(super) remote: Option<PathBuf>,
}

#[derive(Debug)]
pub(super) struct Volume {
    /// The volume's root, as the user would type it (`C:\`, `\\server\share\`).
    pub(super) root: PathBuf,
    /// The file system's name: `NTFS`, `ReFS`, `FAT32`, `exFAT`.
    pub(super) file_system: String,
    /// `FILE_SUPPORTS_*` and other `GetVolumeInformationByHandleW` flags.
    pub(super) flags: u32,
}

impl Strategy for OnVolume {
    /// Junctions are native, except on a file system without reparse points (FAT, exFAT),
    /// which is refused before anything is made (DESIGN.md section 3: "a file system
    /// without links says so").
    ///
    /// A junction on a network share is refused too: a mount point on a share is not
    /// followed by this machine but by the server, on its own volumes: only a symlink
    /// (tag 0xA000000C) comes back to the client to follow, as STATUS_STOPPED_ON_SYMLINK
    /// with its target (MS-SMB2 2.2.2.2.1, "Symbolic Link Error Response"), so `C:\x` in
    /// a junction there names the server's C: drive. A symlink there is the client's to
    /// follow.
    fn junctions(&self) -> Junctions {
        if let Some(dir) = &self.remote {
            return Junctions::Refused(format!(
                "'{}' is on a network share, where a junction is followed by the server, to \
                 the server's own disks, not by this machine; make the junction on a local \
                 volume, or use `knot symlink`",
                user_path(dir.clone()).display()
            ));
        }
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

    /// A symlink, refused before anything is made on a file system without reparse points
    /// (FAT, exFAT), which `CreateSymbolicLinkW` would otherwise fail with a bare system
    /// error.
    fn symlink(&self, request: &Request<'_>) -> io::Result<Written> {
        if let Some(volume) = &self.volume
            && volume.flags & FILE_SUPPORTS_REPARSE_POINTS == 0
        {
            return Err(SysError::FileSystemLacks {
                why: format!(
                    "the {} file system of '{}' does not support symbolic links (it does not \
                     report FILE_SUPPORTS_REPARSE_POINTS); make the link on an NTFS or ReFS \
                     volume",
                    volume.file_system,
                    volume.root.display()
                ),
            }
            .into());
        }
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
        rewrite(link.dir, link.name, buffer)
    }
}

/// The place of links in the directory `dir`: the volume holding it, as far as it can be
/// asked.
pub(super) fn place_of(dir: &Path) -> Place {
    Place::new(OnVolume {
        volume: volume_of(dir).ok(),
        remote: is_remote(dir).then(|| dir.to_path_buf()),
    })
}

/// The volume holding `dir`, asked through a handle to `dir` itself
/// (`GetVolumeInformationByHandleW`), so a volume mounted on a folder is found as well as
/// a drive; its root, for messages, from `GetVolumePathNameW`.
pub(super) fn volume_of(dir: &Path) -> io::Result<Volume> {
    let handle = Handle::open(dir, FILE_READ_ATTRIBUTES, Follow::Yes)?;
    let (flags, file_system) = volume_flags(&handle)?;
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
        file_system,
        flags,
    })
}

/// The `FILE_SUPPORTS_*` flags and the file system's name of the volume that holds the
/// entry open as `handle` (`GetVolumeInformationByHandleW`).
pub(super) fn volume_flags(handle: &Handle) -> io::Result<(u32, String)> {
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
    Ok((flags, String::from_utf16_lossy(&name[..name_end])))
}
