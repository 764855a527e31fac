//! A file's data, permissions and times copied from one held directory to another, by
//! descriptor only: the source opened at (directory, name) without following a link, the
//! copy filled by a reflink (`FICLONE`), else `copy_file_range`, else `read`/`write`, as
//! GNU cp tries them (coreutils `src/copy-file-data.c`), and named only once complete, so
//! no half-written file is ever seen under its name.
//!
//! On Linux a new file is made with no name (`O_TMPFILE` in the copy's directory) and
//! named with `linkat`, which never replaces: one name lookup per file. Where the file
//! system cannot make a nameless file (FUSE, so ntfs-3g; kernels without it), and for a
//! replacement (`--update`, `--mirror`, materialize), which must take the place of what
//! is there in one rename, the copy is made exclusively under a fresh hidden name beside
//! and renamed. Side by side on a journaled ext4 (`mkfs.ext4` defaults), 100,000 entries:
//! 2.1-3.0 s with the nameless file, 3.4-5.4 s with the hidden name, `cp -a` 3.0-5.1 s.
//!
//! Written here rather than taken from a crate: `reflink-copy` and `std::fs::copy` take
//! paths, which the kernel resolves again, so a directory on the way swapped for a link
//! between the walk's look and the copy would lead the read or the write elsewhere
//! (DESIGN.md promise 10). Every call below acts on a descriptor opened from a held
//! directory.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{AtFlags, FileType as RawType, Mode, OFlags, Timespec, Timestamps};
use rustix::io::Errno;

use super::super::{Attrs, Copied, FileData};

/// How many bytes one `copy_file_range` or `read` asks for.
const CHUNK: usize = 1 << 20;

/// Copies the regular file `name` of `from` to the new name `to_name` of `to`: data
/// (holes kept where the file is sparse), permissions and times. The copy is written with
/// no name, or under a fresh hidden name in `to` (made exclusively: `O_CREAT | O_EXCL |
/// O_NOFOLLOW`), then named `to_name` without replacing anything there (`linkat`, or
/// `RENAME_NOREPLACE`), so an interrupted or failed copy never leaves a half-written file
/// under `to_name`, and nothing that stands there, a link included, is written through or
/// replaced.
pub(crate) fn copy_file_at(
    from: BorrowedFd<'_>,
    name: &OsStr,
    to: BorrowedFd<'_>,
    to_name: &OsStr,
    xattrs: bool,
) -> io::Result<Copied> {
    copy_staged(from, name, to, to_name, Put::New, xattrs)
}

/// Where a staged file goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Put {
    /// To a new name: whatever is there already is left alone (`EEXIST`).
    New,
    /// Over what is there: a file or a link, replaced in one rename; a directory there is
    /// never replaced (`EISDIR`).
    Over,
}

/// [`copy_file_at`], the copy put in place as `put` says.
pub(crate) fn copy_staged(
    from: BorrowedFd<'_>,
    name: &OsStr,
    to: BorrowedFd<'_>,
    to_name: &OsStr,
    put: Put,
    xattrs: bool,
) -> io::Result<Copied> {
    // O_NONBLOCK: a FIFO put in the file's place since the walk looked does not block
    // the open; it is refused below as no regular file.
    let read = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NOCTTY;
    let source = rustix::fs::openat(from, name, read | OFlags::NONBLOCK, Mode::empty())?;
    fill_staged(&source, to, to_name, put, xattrs)
}

/// The regular file open as `source` copied to `to_name` of `to`: a new one written with
/// no name and named (Linux), else written under a fresh hidden name there, then put in
/// place as `put` says (removed again where either fails).
fn fill_staged(
    source: &OwnedFd,
    to: BorrowedFd<'_>,
    to_name: &OsStr,
    put: Put,
    xattrs: bool,
) -> io::Result<Copied> {
    let stat = rustix::fs::fstat(source)?;
    if RawType::from_raw_mode(stat.st_mode as _) != RawType::RegularFile {
        return Err(super::super::error::Error::NotARegularFile.into());
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if put == Put::New
        && let Some(copy) = unnamed(to, stat.st_mode as u32)?
    {
        let copied = fill(source, &copy, &stat, xattrs)?;
        give_name(&copy, to, to_name)?;
        return Ok(copied);
    }
    let (hidden, copy) = stage(to, to_name)?;
    let done = fill(source, &copy, &stat, xattrs)
        .and_then(|copied| put_staged(to, &hidden, to_name, put).map(|()| copied));
    if done.is_err() {
        remove_stage(to, &hidden, &copy);
    }
    done
}

/// A new empty file with no name yet in `dir`'s file system (`O_TMPFILE`), open for
/// writing; `None` where the kernel or the file system cannot make one (FUSE, ntfs-3g
/// among them), where the file is staged under a hidden name instead. Nothing is left
/// behind by an interrupted copy: a file with no name is gone when it is closed.
///
/// It is made with the permission bits of `mode` (the umask and a default ACL applied, as
/// for any new file), so that where they come out as the source's, no `fchmod` is needed
/// ([`Attrs::give`]): a journaled file system writes the inode once less. Until it is
/// named, no other process can open it, whatever its permissions say. (A file staged
/// under a hidden name is made `0600`: that one has a name while it is filled.)
#[cfg(any(target_os = "linux", target_os = "android"))]
fn unnamed(dir: BorrowedFd<'_>, mode: u32) -> io::Result<Option<OwnedFd>> {
    let write = OFlags::WRONLY | OFlags::TMPFILE | OFlags::CLOEXEC | OFlags::NOCTTY;
    match rustix::fs::openat(dir, ".", write, Mode::from_raw_mode((mode & 0o777) as _)) {
        Ok(fd) => Ok(Some(fd)),
        // EISDIR and ENOENT: a kernel without O_TMPFILE (open(2)); EOPNOTSUPP: a file
        // system without it.
        Err(Errno::OPNOTSUPP | Errno::ISDIR | Errno::NOENT | Errno::INVAL) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// Gives the unnamed file `file` the name `name` in `dir` (`linkat`, which never replaces
/// what is there: `EEXIST`): by its descriptor (`AT_EMPTY_PATH`), or, where this process
/// may not (before Linux 6.10 only with `CAP_DAC_READ_SEARCH`), through
/// `/proc/self/fd`, as open(2) shows for `O_TMPFILE`.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn give_name(file: &OwnedFd, dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<()> {
    match rustix::fs::linkat(file, "", dir, name, AtFlags::EMPTY_PATH) {
        Err(Errno::NOENT) => Ok(rustix::fs::linkat(
            rustix::fs::CWD,
            super::held::own_path(file.as_fd()),
            dir,
            name,
            AtFlags::SYMLINK_FOLLOW,
        )?),
        done => Ok(done?),
    }
}

/// A new empty file under a fresh hidden name beside `name` in `dir`, made exclusively:
/// its name and a descriptor open for writing. A name taken already (planted, or drawn
/// twice) is passed over for another.
pub(crate) fn stage(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<(OsString, OwnedFd)> {
    let write = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW;
    let mut tries = 0;
    loop {
        let hidden = crate::path::hidden_file_name(name);
        match rustix::fs::openat(
            dir,
            &hidden,
            write | OFlags::CLOEXEC | OFlags::NOCTTY,
            Mode::from_raw_mode(0o600),
        ) {
            Ok(fd) => return Ok((hidden, fd)),
            Err(Errno::EXIST) if tries < 8 => tries += 1,
            Err(err) => return Err(err.into()),
        }
    }
}

/// Renames the staged entry `hidden` of `dir` to `name`, as `put` says: over what is
/// there (`renameat`), or only where nothing is (`renameat2` with `RENAME_NOREPLACE`, on
/// macOS `renameatx_np` with `RENAME_EXCL`; where the system or file system cannot,
/// `linkat` to the new name, which never replaces either, then the hidden name
/// unlinked).
pub(crate) fn put_staged(
    dir: BorrowedFd<'_>,
    hidden: &OsStr,
    name: &OsStr,
    put: Put,
) -> io::Result<()> {
    if put == Put::Over {
        return Ok(rustix::fs::renameat(dir, hidden, dir, name)?);
    }
    #[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
    match rustix::fs::renameat_with(dir, hidden, dir, name, rustix::fs::RenameFlags::NOREPLACE) {
        Ok(()) => return Ok(()),
        // Not on this file system (`ENOTSUP` and `EOPNOTSUPP` are one on Linux, two on
        // macOS).
        Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => {}
        Err(err) if err == Errno::NOTSUP => {}
        Err(err) => return Err(err.into()),
    }
    rustix::fs::linkat(dir, hidden, dir, name, AtFlags::empty())?;
    let _ = rustix::fs::unlinkat(dir, hidden, AtFlags::empty());
    Ok(())
}

/// Removes the staged file `hidden` of `dir` where it is still the file open as `made`
/// (same device and inode), never by its name alone: whatever took that name since is
/// left where it is.
pub(crate) fn remove_stage(dir: BorrowedFd<'_>, hidden: &OsStr, made: &OwnedFd) {
    let (Ok(made), Ok(found)) = (
        rustix::fs::fstat(made),
        rustix::fs::statat(dir, hidden, AtFlags::SYMLINK_NOFOLLOW),
    ) else {
        return;
    };
    if (made.st_dev, made.st_ino) == (found.st_dev, found.st_ino) {
        let _ = rustix::fs::unlinkat(dir, hidden, AtFlags::empty());
    }
}

/// The data, owner, permissions and times of `source` given to `copy`.
#[allow(
    clippy::unnecessary_cast,
    reason = "the stat fields' widths differ between Unix targets"
)]
fn fill(
    source: &OwnedFd,
    copy: &OwnedFd,
    stat: &rustix::fs::Stat,
    xattrs: bool,
) -> io::Result<Copied> {
    let size = stat.st_size as u64;
    let data = data(source.as_fd(), copy.as_fd(), size, stat.st_blocks as u64)?;
    let attrs = Attrs::of(stat);
    attrs.give(copy.as_fd(), Some(&rustix::fs::fstat(copy)?))?;
    // After the owner: a new owner clears `security.capability`. An ACL set now agrees
    // with the permission bits given, as it did on the source.
    if xattrs {
        give_xattrs(source.as_fd(), copy.as_fd())?;
    }
    Ok(Copied { bytes: size, data })
}

/// The extended attributes of `source`, ACLs among them, given to `copy`.
#[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
fn give_xattrs(source: BorrowedFd<'_>, copy: BorrowedFd<'_>) -> io::Result<()> {
    super::xattr::write(copy, &super::xattr::read(source)?)
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
fn give_xattrs(_source: BorrowedFd<'_>, _copy: BorrowedFd<'_>) -> io::Result<()> {
    Err(super::super::error::Error::NoXattrs.into())
}

/// The extended attributes of the directory `name` of `from`, opened without following a
/// link.
pub(crate) fn xattrs_at(from: BorrowedFd<'_>, name: &OsStr) -> io::Result<super::super::Xattrs> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    read_xattrs(&rustix::fs::openat(from, name, flags, Mode::empty())?)
}

/// The extended attributes of the regular file `name` of `from`, opened as `--update`
/// opens a file to compare (`update.rs`: never following a link, but the one `name` is
/// where `follow`), sorted by name.
pub(crate) fn file_xattrs_at(
    from: BorrowedFd<'_>,
    name: &OsStr,
    follow: bool,
) -> io::Result<super::super::Xattrs> {
    let (fd, _) = super::update::open_file(from, name, follow)?;
    let mut xattrs = read_xattrs(&fd)?;
    xattrs.sort();
    Ok(xattrs)
}

/// Every extended attribute of `fd`, where this system has them; elsewhere a refusal.
fn read_xattrs(fd: &OwnedFd) -> io::Result<super::super::Xattrs> {
    #[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
    return super::xattr::read(fd.as_fd());
    #[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
    {
        let _ = fd;
        Err(super::super::error::Error::NoXattrs.into())
    }
}

impl Attrs {
    /// The permissions, owner and times a stat call reported.
    #[allow(
        clippy::unnecessary_cast,
        clippy::useless_conversion,
        reason = "the stat fields' widths differ between Unix targets"
    )]
    pub(crate) fn of(stat: &rustix::fs::Stat) -> Attrs {
        Attrs {
            mode: (stat.st_mode as u32) & 0o7777,
            uid: stat.st_uid as u32,
            gid: stat.st_gid as u32,
            atime: (stat.st_atime as i64, stat.st_atime_nsec as u32),
            mtime: (stat.st_mtime as i64, stat.st_mtime_nsec as u32),
            ctime: (stat.st_ctime as i64, stat.st_ctime_nsec as u32),
        }
    }

    /// The access and modification times, as `futimens` and `utimensat` take them.
    #[allow(
        clippy::useless_conversion,
        clippy::unnecessary_cast,
        reason = "the timespec fields' widths differ between Unix targets"
    )]
    fn timestamps(&self) -> Timestamps {
        let time = |(secs, nanos): (i64, u32)| Timespec {
            tv_sec: secs as _,
            tv_nsec: nanos as _,
        };
        Timestamps {
            last_access: time(self.atime),
            last_modification: time(self.mtime),
        }
    }

    /// Gives `fd` these permissions and times, and the owner and group too where this
    /// process may (each tried alone: the owner where it is root or the owner already,
    /// the group where it is in it); the set-user-ID bit is dropped where the owner could
    /// not be given, the set-group-ID bit where the group could not, as cp drops them, so
    /// a copy never runs as someone it does not belong to.
    ///
    /// `made`, where given, is what `fd` is now (its `fstat`): an owner and group it has
    /// already are not given again, nor permissions it has already, each a write of the
    /// inode saved (on a journaled file system, a journal entry each).
    #[allow(
        clippy::useless_conversion,
        clippy::unnecessary_cast,
        reason = "the timespec fields' widths differ between Unix targets"
    )]
    pub(crate) fn give(
        &self,
        fd: BorrowedFd<'_>,
        made: Option<&rustix::fs::Stat>,
    ) -> io::Result<()> {
        let (uid, gid) = (
            rustix::fs::Uid::from_raw(self.uid),
            rustix::fs::Gid::from_raw(self.gid),
        );
        let owned = made
            .is_some_and(|made| (made.st_uid as u32, made.st_gid as u32) == (self.uid, self.gid));
        // Both at once where this process may (one call for most files), else each alone.
        let (owner, group) = if owned {
            (Ok(()), Ok(()))
        } else {
            match rustix::fs::fchown(fd, Some(uid), Some(gid)) {
                Ok(()) => (Ok(()), Ok(())),
                Err(_) => (
                    rustix::fs::fchown(fd, Some(uid), None),
                    rustix::fs::fchown(fd, None, Some(gid)),
                ),
            }
        };
        let mut mode = self.mode;
        if owner.is_err() {
            mode &= !0o4000;
        }
        if group.is_err() {
            mode &= !0o2000;
        }
        // A new owner clears the set-user-ID and set-group-ID bits: `made` is then out of
        // date, but the file was made without them, and `mode` differs where it has them.
        if made.is_none_or(|made| (made.st_mode as u32) & 0o7777 != mode) {
            rustix::fs::fchmod(fd, Mode::from_raw_mode(mode as _))?;
        }
        rustix::fs::futimens(fd, &self.timestamps())?;
        Ok(())
    }
}

/// Copies `size` bytes of data: a reflink where the file system shares extents, else the
/// data segments alone where the file is sparse (fewer blocks than its size needs), else
/// every byte.
fn data(
    source: BorrowedFd<'_>,
    copy: BorrowedFd<'_>,
    size: u64,
    blocks: u64,
) -> io::Result<FileData> {
    if clone(source, copy)? {
        return Ok(FileData::Cloned);
    }
    if blocks.saturating_mul(512) < size
        && let Some(data) = sparse(source, copy, size)?
    {
        return Ok(data);
    }
    copy_range(source, copy, 0, size)?;
    Ok(FileData::Copied { sparse: false })
}

/// Whether an error of a clone or an in-kernel copy says only that the file system, or
/// the kernel, cannot do it here, so the next way is tried: the errors GNU cp takes so
/// (`is_CLONENOTSUP`, coreutils `src/copy.c`).
fn falls_back(err: Errno) -> bool {
    [
        Errno::NOSYS,
        Errno::NOTTY,
        Errno::OPNOTSUPP,
        Errno::NOTSUP,
        Errno::INVAL,
        Errno::BADF,
        Errno::XDEV,
        Errno::TXTBSY,
        Errno::PERM,
        Errno::ACCESS,
    ]
    .contains(&err)
}

/// A reflink of the whole file (`FICLONE`): `true` where made.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn clone(source: BorrowedFd<'_>, copy: BorrowedFd<'_>) -> io::Result<bool> {
    match rustix::fs::ioctl_ficlone(copy, source) {
        Ok(()) => Ok(true),
        Err(err) if falls_back(err) => Ok(false),
        Err(err) => Err(err.into()),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn clone(_source: BorrowedFd<'_>, _copy: BorrowedFd<'_>) -> io::Result<bool> {
    Ok(false)
}

/// The data segments of a sparse file (`SEEK_DATA`, `SEEK_HOLE`), each copied at its
/// offset, the rest left as holes; the size set at the end, so a hole at the end stays
/// one. `None` where the file system cannot say where the holes are.
#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "dragonfly",
    target_os = "macos",
    target_os = "ios",
    target_os = "illumos",
    target_os = "solaris"
))]
fn sparse(source: BorrowedFd<'_>, copy: BorrowedFd<'_>, size: u64) -> io::Result<Option<FileData>> {
    use rustix::fs::{SeekFrom, seek};
    let mut at = 0;
    while at < size {
        let start = match seek(source, SeekFrom::Data(at)) {
            Ok(start) => start,
            // Only holes from here to the end.
            Err(Errno::NXIO) => break,
            Err(err) if at == 0 && falls_back(err) => return Ok(None),
            Err(err) => return Err(err.into()),
        };
        // Data only past the size looked at: the file grew since; the copy stops there.
        if start >= size {
            break;
        }
        let end = seek(source, SeekFrom::Hole(start))?.min(size);
        copy_range(source, copy, start, end)?;
        at = end;
    }
    rustix::fs::ftruncate(copy, size)?;
    Ok(Some(FileData::Copied { sparse: true }))
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "dragonfly",
    target_os = "macos",
    target_os = "ios",
    target_os = "illumos",
    target_os = "solaris"
)))]
fn sparse(
    _source: BorrowedFd<'_>,
    _copy: BorrowedFd<'_>,
    _size: u64,
) -> io::Result<Option<FileData>> {
    Ok(None)
}

/// Copies the bytes from `start` to `end` to the same offsets: `copy_file_range` while
/// the kernel takes it, then `pread`/`pwrite`. Stops early where the file ends early (it
/// shrank since it was looked at).
fn copy_range(
    source: BorrowedFd<'_>,
    copy: BorrowedFd<'_>,
    start: u64,
    end: u64,
) -> io::Result<()> {
    let mut at = start;
    // procfs and some FUSE file systems answer 0 where they have data (cp's note on
    // kernels up to 5.6): a 0 hands the rest to read/write, which tells the end apart.
    while at < end && in_kernel(source, copy, &mut at, end)? {}
    let mut buf = vec![0; CHUNK.min(usize::try_from(end - at).unwrap_or(CHUNK))];
    while at < end {
        let want = buf.len().min(usize::try_from(end - at).unwrap_or(CHUNK));
        let read = match rustix::io::pread(source, &mut buf[..want], at) {
            Ok(0) => break,
            Ok(n) => n,
            Err(Errno::INTR) => continue,
            Err(err) => return Err(err.into()),
        };
        let mut written = 0;
        while written < read {
            match rustix::io::pwrite(copy, &buf[written..read], at + written as u64) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => written += n,
                Err(Errno::INTR) => {}
                Err(err) => return Err(err.into()),
            }
        }
        at += read as u64;
    }
    Ok(())
}

/// One `copy_file_range` from `at` on: `true` while it copied something and more may
/// follow; `false` where it copied nothing or cannot be used here.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn in_kernel(
    source: BorrowedFd<'_>,
    copy: BorrowedFd<'_>,
    at: &mut u64,
    end: u64,
) -> io::Result<bool> {
    let len = usize::try_from(end - *at).unwrap_or(CHUNK).min(CHUNK);
    let (mut from, mut to) = (*at, *at);
    match rustix::fs::copy_file_range(source, Some(&mut from), copy, Some(&mut to), len) {
        Ok(0) => Ok(false),
        Ok(n) => {
            *at += n as u64;
            Ok(true)
        }
        Err(Errno::INTR) => Ok(true),
        Err(err) if falls_back(err) => Ok(false),
        Err(err) => Err(err.into()),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn in_kernel(_: BorrowedFd<'_>, _: BorrowedFd<'_>, _: &mut u64, _: u64) -> io::Result<bool> {
    Ok(false)
}

/// Copies the regular file the link `name` of `from` leads to (that one link followed, as
/// `knot copy --outer copy` asks) to `to_name` of `to`, as [`copy_staged`] copies one:
/// read through the descriptor opened by following the link, written under a fresh
/// hidden name and put in place as `put` says.
pub(crate) fn copy_followed_file_at(
    from: BorrowedFd<'_>,
    name: &OsStr,
    to: BorrowedFd<'_>,
    to_name: &OsStr,
    put: Put,
    xattrs: bool,
) -> io::Result<Copied> {
    fill_staged(&open_followed(from, name)?, to, to_name, put, xattrs)
}

/// The file the link `name` of `from` leads to, opened for reading by following that one
/// link (a FIFO there does not block the open).
fn open_followed(from: BorrowedFd<'_>, name: &OsStr) -> io::Result<OwnedFd> {
    let read = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK;
    Ok(rustix::fs::openat(from, name, read, Mode::empty())?)
}

/// [`copy_followed_file_at`] to the new name `to_name`, where the file the link `name`
/// leads to is the file `id` (device, inode) looked at before: checked on the descriptor
/// the copy reads, so a file put in its place meanwhile (the link changed, a directory on
/// its way replaced) is never copied ([`Replaced`]).
///
/// [`Replaced`]: super::super::error::Error::Replaced
pub(crate) fn copy_followed_file_checked_at(
    from: BorrowedFd<'_>,
    name: &OsStr,
    to: BorrowedFd<'_>,
    to_name: &OsStr,
    id: (u64, u128),
) -> io::Result<Copied> {
    let source = open_followed(from, name)?;
    is(&source, id)?;
    fill_staged(&source, to, to_name, Put::New, false)
}

/// Copies the special file `name` of `from` (not followed) as the new entry `to_name` of
/// `to`: a FIFO with `mkfifoat`, a device with `mknodat` (its device number kept), which
/// never follow or replace anything; then its permissions, owner (where this process may)
/// and times, given through a descriptor of the new entry opened with `O_PATH |
/// O_NOFOLLOW` (named `/proc/self/fd/N` for `chmod` and `utimensat`, which the kernel
/// resolves to that very entry), so nothing put at the name meanwhile is changed. A socket
/// is not made: `(Socket, false)`.
#[cfg(target_os = "linux")]
pub(crate) fn copy_special_at(
    from: BorrowedFd<'_>,
    name: &OsStr,
    to: BorrowedFd<'_>,
    to_name: &OsStr,
) -> io::Result<(crate::link::Special, bool)> {
    use crate::link::Special;
    use rustix::fs::AtFlags;
    let stat = rustix::fs::statat(from, name, AtFlags::SYMLINK_NOFOLLOW)?;
    let ty = RawType::from_raw_mode(stat.st_mode);
    let special = match ty {
        RawType::Fifo => Special::Fifo,
        RawType::CharacterDevice => Special::CharDevice,
        RawType::BlockDevice => Special::BlockDevice,
        RawType::Socket => return Ok((Special::Socket, false)),
        _ => return Err(super::super::error::Error::Replaced.into()),
    };
    let private = Mode::from_raw_mode(0o600);
    #[allow(
        clippy::useless_conversion,
        reason = "st_rdev's width differs between Unix targets"
    )]
    let made = match special {
        Special::Fifo => rustix::fs::mkfifoat(to, to_name, private),
        _ => rustix::fs::mknodat(to, to_name, ty, private, u64::from(stat.st_rdev) as _),
    };
    made?;
    let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(to, to_name, flags, Mode::empty())?;
    if RawType::from_raw_mode(rustix::fs::fstat(&fd)?.st_mode) != ty {
        return Err(super::super::error::Error::Replaced.into());
    }
    let attrs = Attrs::of(&stat);
    let empty = AtFlags::EMPTY_PATH;
    let owner = rustix::fs::chownat(
        &fd,
        "",
        Some(rustix::fs::Uid::from_raw(attrs.uid)),
        None,
        empty,
    );
    let group = rustix::fs::chownat(
        &fd,
        "",
        None,
        Some(rustix::fs::Gid::from_raw(attrs.gid)),
        empty,
    );
    let mut mode = attrs.mode;
    if owner.is_err() {
        mode &= !0o4000;
    }
    if group.is_err() {
        mode &= !0o2000;
    }
    let own = super::held::own_path(fd.as_fd());
    rustix::fs::chmod(&own, Mode::from_raw_mode(mode as _))?;
    rustix::fs::utimensat(rustix::fs::CWD, &own, &attrs.timestamps(), AtFlags::empty())?;
    Ok((special, true))
}

/// Elsewhere not yet: knot copies special files on Linux.
#[cfg(not(target_os = "linux"))]
pub(crate) fn copy_special_at(
    _from: BorrowedFd<'_>,
    _name: &OsStr,
    _to: BorrowedFd<'_>,
    _to_name: &OsStr,
) -> io::Result<(crate::link::Special, bool)> {
    Err(io::ErrorKind::Unsupported.into())
}

/// The permissions, owner and times of the directory `name` of `from`, not following a
/// link there.
pub(crate) fn attrs_at(from: BorrowedFd<'_>, name: &OsStr) -> io::Result<Attrs> {
    let stat = rustix::fs::statat(from, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW)?;
    Ok(Attrs::of(&stat))
}

/// Gives the link `name` of `dir` the owner (where this process may, as `cp -a` gives
/// it) and times of `attrs`, the link itself: through the link held by a descriptor and
/// checked to be one ([`hold_link`](super::held::hold_link)), where this system can
/// hold a link; elsewhere (FreeBSD) only the times, by name (`utimensat` with
/// `AT_SYMLINK_NOFOLLOW`), as an owner given by name could land on what was swapped in
/// for the link. An owner that cannot be given is no failure: a link's owner matters
/// only in a sticky directory, where the kernel follows a link there only for its owner
/// or the directory's.
pub(crate) fn give_link_attrs_at(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    attrs: &Attrs,
) -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
    {
        let fd = super::held::hold_link(dir, name)?;
        let (uid, gid) = (
            rustix::fs::Uid::from_raw(attrs.uid),
            rustix::fs::Gid::from_raw(attrs.gid),
        );
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let chown = |uid, gid| rustix::fs::chownat(&fd, "", uid, gid, AtFlags::EMPTY_PATH);
        #[cfg(target_vendor = "apple")]
        let chown = |uid, gid| rustix::fs::fchown(&fd, uid, gid);
        if chown(Some(uid), Some(gid)).is_err() {
            let _ = chown(None, Some(gid));
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        rustix::fs::utimensat(
            rustix::fs::CWD,
            super::held::own_path(fd.as_fd()),
            &attrs.timestamps(),
            AtFlags::empty(),
        )
        .map_err(super::held::no_proc)?;
        #[cfg(target_vendor = "apple")]
        rustix::fs::futimens(&fd, &attrs.timestamps())?;
        Ok(())
    }
    #[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
    {
        let flags = AtFlags::SYMLINK_NOFOLLOW;
        Ok(rustix::fs::utimensat(
            dir,
            name,
            &attrs.timestamps(),
            flags,
        )?)
    }
}

/// Gives the directory `name` of `dir` the permissions, owner and times `attrs`, through
/// a descriptor of it opened without following a link, where it is the directory `id`
/// (device, inode): one put in its place is left as it is.
pub(crate) fn give_dir_attrs_at(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    attrs: &Attrs,
    id: (u64, u128),
) -> io::Result<()> {
    attrs.give(made_dir(dir, name, id)?.as_fd(), None)
}

/// Gives the directory `name` of `dir` the extended attributes `xattrs`, as
/// [`give_dir_attrs_at`] gives its permissions: where it is the directory `id`.
pub(crate) fn give_xattrs_at(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    xattrs: &super::super::Xattrs,
    id: (u64, u128),
) -> io::Result<()> {
    let fd = made_dir(dir, name, id)?;
    #[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
    return super::xattr::write(fd.as_fd(), xattrs);
    #[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
    {
        let _ = (fd, xattrs);
        Err(super::super::error::Error::NoXattrs.into())
    }
}

/// The directory `name` of `dir`, opened without following a link, where it is the
/// directory `id` (device, inode): one put in its place is [`Replaced`].
///
/// [`Replaced`]: super::super::error::Error::Replaced
fn made_dir(dir: BorrowedFd<'_>, name: &OsStr, id: (u64, u128)) -> io::Result<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, name, flags, Mode::empty())?;
    is(&fd, id)?;
    Ok(fd)
}

/// Whether the open `fd` is the file `id` (device, inode); anything else is [`Replaced`].
///
/// [`Replaced`]: super::super::error::Error::Replaced
fn is(fd: &OwnedFd, id: (u64, u128)) -> io::Result<()> {
    let stat = rustix::fs::fstat(fd)?;
    #[allow(
        clippy::unnecessary_cast,
        reason = "st_dev and st_ino differ between Unix targets"
    )]
    let found = (stat.st_dev as u64, u128::from(stat.st_ino as u64));
    if found != id {
        return Err(super::super::error::Error::Replaced.into());
    }
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::fs;
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};

    use super::super::super::{Directory as _, FileData};
    use super::super::Dir;
    use super::*;

    fn held(path: &std::path::Path) -> Dir {
        Dir::hold(path).unwrap()
    }

    /// Data, permission bits and both times come over; the copy's name is made new.
    #[test]
    fn copies_data_mode_and_times() {
        let tmp = tempfile::tempdir().unwrap();
        let (from, to) = (tmp.path().join("from"), tmp.path().join("to"));
        fs::create_dir(&from).unwrap();
        fs::create_dir(&to).unwrap();
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(from.join("f"), &data).unwrap();
        fs::set_permissions(from.join("f"), fs::Permissions::from_mode(0o751)).unwrap();
        let times = fs::FileTimes::new()
            .set_accessed(std::time::UNIX_EPOCH + std::time::Duration::new(1_000_000, 7))
            .set_modified(std::time::UNIX_EPOCH + std::time::Duration::new(2_000_000, 123_456_789));
        fs::File::options()
            .write(true)
            .open(from.join("f"))
            .unwrap()
            .set_times(times)
            .unwrap();
        let copied = held(&from)
            .copy_file_at(OsStr::new("f"), &held(&to), OsStr::new("g"), false)
            .unwrap();
        assert_eq!(copied.bytes, data.len() as u64);
        // Before the copy is read, which may set its access time (relatime).
        let (a, b) = (
            fs::metadata(from.join("f")).unwrap(),
            fs::metadata(to.join("g")).unwrap(),
        );
        assert_eq!(fs::read(to.join("g")).unwrap(), data);
        assert_eq!(b.mode() & 0o7777, 0o751);
        assert_eq!((b.mtime(), b.mtime_nsec()), (a.mtime(), a.mtime_nsec()));
        assert_eq!((b.atime(), b.atime_nsec()), (1_000_000, 7));
    }

    /// A link's owner and times are given to the link itself; a file found at its name in
    /// its place (a hard link swapped in) is left as it is: not given the owner, nor the
    /// times.
    #[test]
    fn a_links_owner_and_times_go_to_the_link_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        fs::write(dir.join("file"), "").unwrap();
        std::os::unix::fs::symlink("file", dir.join("link")).unwrap();
        let before = fs::metadata(dir.join("file")).unwrap();
        let mine = (before.uid(), before.gid());
        let stat = |uid: u32, gid: u32| {
            let mut stat = rustix::fs::stat(dir.join("file")).unwrap();
            (stat.st_uid, stat.st_gid) = (uid as _, gid as _);
            stat.st_mtime = 1_000_000;
            stat.st_mtime_nsec = 5;
            stat
        };
        // Another owner only where this process may give one (as root); else its own.
        let other = if rustix::process::geteuid().is_root() {
            (1234, 5678)
        } else {
            mine
        };
        let attrs = Attrs::of(&stat(other.0, other.1));
        let held = held(dir);
        give_link_attrs_at(held.fd(), OsStr::new("link"), &attrs).unwrap();
        let link = fs::symlink_metadata(dir.join("link")).unwrap();
        assert_eq!((link.uid(), link.gid()), other);
        assert_eq!((link.mtime(), link.mtime_nsec()), (1_000_000, 5));
        let err = give_link_attrs_at(held.fd(), OsStr::new("file"), &attrs).unwrap_err();
        assert_eq!(
            err.to_string(),
            super::super::super::error::Error::Replaced.to_string()
        );
        let after = fs::metadata(dir.join("file")).unwrap();
        assert_eq!((after.uid(), after.gid()), mine);
        assert_eq!(
            (after.mtime(), after.mtime_nsec()),
            (before.mtime(), before.mtime_nsec())
        );
    }

    /// Permissions the umask strips from a new file, the set-user-ID, set-group-ID and
    /// sticky bits, another owner and group, and a group other than a set-group-ID
    /// directory gives: each copy has the source's, made nameless or under a hidden name
    /// (a replacement). A permission or owner left as the new file had it fails here.
    #[test]
    fn copies_every_mode_and_owner_the_new_file_lacks() {
        let root = rustix::process::geteuid().is_root();
        let tmp = tempfile::tempdir().unwrap();
        let (from, to) = (tmp.path().join("from"), tmp.path().join("to"));
        fs::create_dir(&from).unwrap();
        fs::create_dir(&to).unwrap();
        if root {
            // New files in `to` get its group (4321), not the source's.
            std::os::unix::fs::chown(&to, None, Some(4321)).unwrap();
            fs::set_permissions(&to, fs::Permissions::from_mode(0o2777)).unwrap();
        }
        let mut cases = vec![(0o666, None), (0o777, None), (0o000, None), (0o640, None)];
        cases.extend([(0o1644, None), (0o2755, None), (0o4755, None)]);
        if root {
            cases.extend([(0o644, Some((1234, 5678))), (0o4750, Some((1234, 5678)))]);
        }
        let (before, after) = (held(&from), held(&to));
        for (i, (mode, owner)) in cases.into_iter().enumerate() {
            let name = format!("f{i}");
            fs::write(from.join(&name), b"data").unwrap();
            if let Some((uid, gid)) = owner {
                std::os::unix::fs::chown(from.join(&name), Some(uid), Some(gid)).unwrap();
            }
            fs::set_permissions(from.join(&name), fs::Permissions::from_mode(mode)).unwrap();
            let source = fs::metadata(from.join(&name)).unwrap();
            let (new, over) = (format!("new{i}"), format!("over{i}"));
            fs::write(to.join(&over), b"old").unwrap();
            before
                .copy_file_at(OsStr::new(&name), &after, OsStr::new(&new), false)
                .unwrap();
            before
                .replace_file_at(OsStr::new(&name), &after, OsStr::new(&over), false)
                .unwrap();
            for copy in [new, over] {
                let made = fs::metadata(to.join(&copy)).unwrap();
                let what = format!("{copy} of a {mode:o} file owned by {owner:?}");
                assert_eq!(made.mode() & 0o7777, mode, "{what}");
                if root {
                    assert_eq!(
                        (made.uid(), made.gid()),
                        (source.uid(), source.gid()),
                        "{what}"
                    );
                }
            }
        }
    }

    /// Nothing standing at the copy's name is written to or through (a file, a symlink to
    /// a file elsewhere), and a symlink at the source's name is not followed.
    #[test]
    fn never_writes_through_or_reads_through_a_link() {
        let tmp = tempfile::tempdir().unwrap();
        let (from, to) = (tmp.path().join("from"), tmp.path().join("to"));
        fs::create_dir(&from).unwrap();
        fs::create_dir(&to).unwrap();
        fs::write(from.join("f"), "new").unwrap();
        fs::write(tmp.path().join("elsewhere"), "precious").unwrap();
        std::os::unix::fs::symlink(tmp.path().join("elsewhere"), to.join("l")).unwrap();
        std::os::unix::fs::symlink(tmp.path().join("elsewhere"), from.join("l")).unwrap();
        fs::write(to.join("there"), "kept").unwrap();
        let (from_dir, to_dir) = (held(&from), held(&to));
        for name in ["l", "there"] {
            let err = from_dir
                .copy_file_at(OsStr::new("f"), &to_dir, OsStr::new(name), false)
                .unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{name}");
        }
        let err = from_dir
            .copy_file_at(OsStr::new("l"), &to_dir, OsStr::new("new"), false)
            .unwrap_err();
        assert_eq!(err.raw_os_error(), Some(Errno::LOOP.raw_os_error()));
        assert_eq!(
            fs::read_to_string(tmp.path().join("elsewhere")).unwrap(),
            "precious"
        );
        assert_eq!(fs::read_to_string(to.join("there")).unwrap(), "kept");
        assert!(!to.join("new").exists());
        // The copies staged for the names taken were removed again.
        let mut names: Vec<_> = fs::read_dir(&to)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["l", "there"]);
    }

    /// The copy is written under a hidden name and renamed in: replacing puts it over a
    /// file or a link in one rename (the link itself, never what it leads to), and a
    /// directory there is never replaced.
    #[test]
    fn a_replacement_is_renamed_over_the_old_name() {
        let tmp = tempfile::tempdir().unwrap();
        let (from, to) = (tmp.path().join("from"), tmp.path().join("to"));
        fs::create_dir(&from).unwrap();
        fs::create_dir(&to).unwrap();
        fs::write(from.join("f"), "new").unwrap();
        fs::write(tmp.path().join("elsewhere"), "precious").unwrap();
        fs::write(to.join("file"), "old").unwrap();
        std::os::unix::fs::symlink(tmp.path().join("elsewhere"), to.join("l")).unwrap();
        fs::create_dir(to.join("d")).unwrap();
        let old = fs::metadata(to.join("file")).unwrap().ino();
        let (from_dir, to_dir) = (held(&from), held(&to));
        for name in ["file", "l"] {
            from_dir
                .replace_file_at(OsStr::new("f"), &to_dir, OsStr::new(name), false)
                .unwrap();
            assert_eq!(fs::read_to_string(to.join(name)).unwrap(), "new");
        }
        assert_ne!(fs::metadata(to.join("file")).unwrap().ino(), old);
        assert!(fs::symlink_metadata(to.join("l")).unwrap().is_file());
        from_dir
            .replace_file_at(OsStr::new("f"), &to_dir, OsStr::new("d"), false)
            .unwrap_err();
        assert!(to.join("d").is_dir());
        assert_eq!(
            fs::read_to_string(tmp.path().join("elsewhere")).unwrap(),
            "precious"
        );
        let mut names: Vec<_> = fs::read_dir(&to)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["d", "file", "l"]);
    }

    /// The file a followed link leads to (`--outer copy`) is staged as any copy: put only
    /// where nothing is, or, asked to, renamed over a file or a link (the link itself),
    /// never over a directory; no staged file is left where it was not put.
    #[test]
    fn a_followed_file_is_staged_and_put_as_asked() {
        let tmp = tempfile::tempdir().unwrap();
        let (from, to) = (tmp.path().join("from"), tmp.path().join("to"));
        fs::create_dir(&from).unwrap();
        fs::create_dir(&to).unwrap();
        fs::write(tmp.path().join("target"), "new").unwrap();
        std::os::unix::fs::symlink(tmp.path().join("target"), from.join("l")).unwrap();
        fs::write(tmp.path().join("elsewhere"), "precious").unwrap();
        std::os::unix::fs::symlink(tmp.path().join("elsewhere"), to.join("link")).unwrap();
        fs::write(to.join("file"), "old").unwrap();
        fs::create_dir(to.join("d")).unwrap();
        let (from_dir, to_dir) = (held(&from), held(&to));
        let follow = |name: &str, over: bool| {
            from_dir.copy_followed_file_at(OsStr::new("l"), &to_dir, OsStr::new(name), over, false)
        };
        for name in ["file", "link", "d"] {
            let err = follow(name, false).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{name}");
        }
        assert_eq!(fs::read_to_string(to.join("file")).unwrap(), "old");
        assert_eq!(follow("new", false).unwrap().bytes, 3);
        assert_eq!(fs::read_to_string(to.join("new")).unwrap(), "new");
        for name in ["file", "link"] {
            follow(name, true).unwrap();
            assert_eq!(fs::read_to_string(to.join(name)).unwrap(), "new");
        }
        assert!(fs::symlink_metadata(to.join("link")).unwrap().is_file());
        follow("d", true).unwrap_err();
        assert!(to.join("d").is_dir());
        assert_eq!(
            fs::read_to_string(tmp.path().join("elsewhere")).unwrap(),
            "precious"
        );
        let mut names: Vec<_> = fs::read_dir(&to)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["d", "file", "link", "new"]);
    }

    /// A sparse file's copy has its holes: as few blocks as the original, and the same
    /// bytes, a hole at the end included.
    #[test]
    fn a_file_grown_past_the_size_looked_at_is_copied_to_that_size() {
        let tmp = tempfile::tempdir().unwrap();
        let (from, to) = (tmp.path().join("from"), tmp.path().join("to"));
        let file = fs::File::create(&from).unwrap();
        // A hole, then data only past the 4 KiB the copy was told of.
        file.set_len(8 << 20).unwrap();
        std::os::unix::fs::FileExt::write_all_at(&file, b"late", 4 << 20).unwrap();
        let copy = fs::File::create(&to).unwrap();
        if let Some(data) = sparse(file.as_fd(), copy.as_fd(), 4096).unwrap() {
            assert_eq!(data, FileData::Copied { sparse: true });
            assert_eq!(fs::read(&to).unwrap(), vec![0; 4096]);
        }
    }

    #[test]
    fn a_sparse_file_stays_sparse() {
        let tmp = tempfile::tempdir().unwrap();
        let (from, to) = (tmp.path().join("from"), tmp.path().join("to"));
        fs::create_dir(&from).unwrap();
        fs::create_dir(&to).unwrap();
        let file = fs::File::create(from.join("s")).unwrap();
        file.set_len(64 << 20).unwrap();
        std::os::unix::fs::FileExt::write_all_at(&file, b"middle", 32 << 20).unwrap();
        std::os::unix::fs::FileExt::write_all_at(&file, b"start", 0).unwrap();
        drop(file);
        let original = fs::metadata(from.join("s")).unwrap();
        assert!(
            original.blocks() * 512 < original.len(),
            "the file system keeps holes"
        );
        let copied = held(&from)
            .copy_file_at(OsStr::new("s"), &held(&to), OsStr::new("s"), false)
            .unwrap();
        let copy = fs::metadata(to.join("s")).unwrap();
        assert_eq!(copy.len(), 64 << 20);
        assert!(
            copy.blocks() <= original.blocks() + 64,
            "{} blocks, the original {} ({copied:?})",
            copy.blocks(),
            original.blocks()
        );
        assert!(matches!(
            copied.data,
            FileData::Cloned | FileData::Copied { sparse: true }
        ));
        assert_eq!(
            fs::read(to.join("s")).unwrap(),
            fs::read(from.join("s")).unwrap()
        );
    }
}
