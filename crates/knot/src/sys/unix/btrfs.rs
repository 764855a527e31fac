//! Every name of a file on btrfs without a walk: `BTRFS_IOC_INO_PATHS` asks the file
//! system for the paths of an inode, read from its back references (linux
//! `fs/btrfs/ioctl.c`, `btrfs_ioctl_ino_to_path`; `btrfs inspect-internal inode-resolve`
//! uses it). It needs `CAP_SYS_ADMIN`, answers for one subvolume (the one the descriptor
//! is in, which is the file's: a hard link never crosses subvolumes) and gives paths
//! relative to that subvolume's root, so the root is found here by walking up from the
//! file while the device stays the subvolume's, to the directory whose inode is 256
//! (`BTRFS_FIRST_FREE_OBJECTID`, every subvolume root's number).

use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};
use rustix::ioctl::{Opcode, Updater, opcode};

use super::stat::meta;

/// `BTRFS_SUPER_MAGIC` (linux `include/uapi/linux/magic.h`): `statfs`'s `f_type`.
const BTRFS_SUPER_MAGIC: i64 = 0x9123_683e;

/// `BTRFS_FIRST_FREE_OBJECTID`: the inode number of every subvolume's root directory.
const SUBVOLUME_ROOT_INO: u64 = 256;

/// `struct btrfs_ioctl_ino_path_args` (linux `include/uapi/linux/btrfs.h`).
#[repr(C)]
struct InoPathArgs {
    inum: u64,
    /// The size of the buffer at `fspath`.
    size: u64,
    reserved: [u64; 4],
    /// A `struct btrfs_data_container *`, as a `u64`.
    fspath: u64,
}

/// `BTRFS_IOC_INO_PATHS`: `_IOWR(BTRFS_IOCTL_MAGIC, 35, struct btrfs_ioctl_ino_path_args)`.
const INO_PATHS: Opcode = opcode::read_write::<InoPathArgs>(0x94, 35);

const _: () = assert!(std::mem::size_of::<InoPathArgs>() == 56);

/// The fixed head of `struct btrfs_data_container`: `bytes_left`, `bytes_missing`,
/// `elem_cnt`, `elem_missed` (four `u32`), then `u64 val[]`: for this ioctl, the offset of
/// each NUL-terminated path from the start of `val`.
const HEAD: usize = 16;

/// The buffer: the kernel fills at most 4096 bytes whatever the size asked
/// (`min_t(u32, ipa->size, 4096)` in `btrfs_ioctl_ino_to_path`), so a file whose paths
/// need more is walked instead (`elem_missed` says so).
const BUFFER: usize = 4096;

/// Every name of `file` (absolute, each confirmed to be the file by a `lstat`), when it is
/// on btrfs and the ioctl is allowed; `None` where it is not (another file system, no
/// `CAP_SYS_ADMIN`, a subvolume root that cannot be found from here), for a walk instead.
#[allow(
    clippy::useless_conversion,
    reason = "f_type is i64 on x86_64 Linux but narrower on other targets"
)]
pub(crate) fn names(file: &Path) -> io::Result<Option<Vec<PathBuf>>> {
    let parent = crate::path::parent_dir(file);
    let parent = std::fs::canonicalize(parent)?;
    let name = file
        .file_name()
        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
    let dir = rustix::fs::open(
        &parent,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    if i64::from(rustix::fs::fstatfs(&dir)?.f_type) != BTRFS_SUPER_MAGIC {
        return Ok(None);
    }
    let st = rustix::fs::statat(&dir, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW)?;
    let file_meta = meta(&st);
    let Some(root) = subvolume_root(&parent, file_meta.id.0)? else {
        return Ok(None);
    };
    let Some(relative) = ino_paths(&dir, st.st_ino)? else {
        return Ok(None);
    };
    let mut names = Vec::with_capacity(relative.len());
    for path in relative {
        let path = root.join(OsStr::from_bytes(&path));
        // The paths are the file system's: a mount over part of the subvolume, or a
        // rename since, would make one name another file. Then walk instead.
        match <crate::sys::Os as crate::sys::Backend>::lstat(&path) {
            Ok(m) if m.id == file_meta.id => names.push(path),
            _ => return Ok(None),
        }
    }
    Ok(Some(names))
}

/// The root of the subvolume that holds `dir` (a canonical path on device `dev`).
fn subvolume_root(dir: &Path, dev: u64) -> io::Result<Option<PathBuf>> {
    for ancestor in dir.ancestors() {
        let m = rustix::fs::lstat(ancestor)?;
        let m_meta = meta(&m);
        if m_meta.id.0 != dev {
            return Ok(None);
        }
        if m_meta.id.1 == u128::from(SUBVOLUME_ROOT_INO) {
            return Ok(Some(ancestor.to_path_buf()));
        }
    }
    Ok(None)
}

/// The paths of inode `ino` relative to the subvolume root, as bytes; `None` where the
/// ioctl is refused (`EPERM` without `CAP_SYS_ADMIN`, `ENOTTY` from something that is not
/// btrfs after all).
#[allow(
    unsafe_code,
    reason = "the ioctl; rustix has no safe wrapper for this one"
)]
#[allow(
    clippy::cast_possible_truncation,
    reason = "offsets inside a buffer of BUFFER bytes"
)]
fn ino_paths(dir: &impl std::os::fd::AsFd, ino: u64) -> io::Result<Option<Vec<Vec<u8>>>> {
    let size = BUFFER;
    {
        // u64 words, so the container is aligned as the kernel writes it.
        let mut buffer = vec![0u64; size / 8];
        let mut args = InoPathArgs {
            inum: ino,
            size: size as u64,
            reserved: [0; 4],
            fspath: buffer.as_mut_ptr() as u64,
        };
        // SAFETY: INO_PATHS is `_IOWR` of `InoPathArgs`, laid out as the kernel's struct
        // (checked above); `fspath` points at `size` writable bytes, aligned to 8, which
        // live until after the call, and the kernel writes no more than `size` of them.
        let result = unsafe { rustix::ioctl::ioctl(dir, Updater::<INO_PATHS, _>::new(&mut args)) };
        match result {
            Ok(()) => {}
            Err(e)
                if [
                    rustix::io::Errno::PERM,
                    rustix::io::Errno::ACCESS,
                    rustix::io::Errno::NOTTY,
                    rustix::io::Errno::OPNOTSUPP,
                    rustix::io::Errno::INVAL,
                ]
                .contains(&e) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        }
        let bytes: Vec<u8> = buffer.iter().flat_map(|w| w.to_ne_bytes()).collect();
        let word = |at: usize| u32::from_ne_bytes(bytes[at..at + 4].try_into().unwrap_or([0; 4]));
        let (count, missed) = (word(8) as usize, word(12));
        if missed > 0 {
            // More names than the kernel hands out at once: walk instead.
            return Ok(None);
        }
        let malformed = || io::Error::new(io::ErrorKind::InvalidData, "btrfs: malformed paths");
        let mut paths = Vec::with_capacity(count);
        for i in 0..count {
            let at = HEAD + i * 8;
            let offset = bytes
                .get(at..at + 8)
                .ok_or_else(malformed)?
                .try_into()
                .map(u64::from_ne_bytes)
                .map_err(|_| malformed())?;
            let start = HEAD + offset as usize;
            let rest = bytes.get(start..).ok_or_else(malformed)?;
            let end = rest.iter().position(|&b| b == 0).ok_or_else(malformed)?;
            paths.push(rest[..end].to_vec());
        }
        Ok(Some(paths))
    }
}
