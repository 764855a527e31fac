//! A file's data, attributes and times copied from one held directory to another, by
//! handle only: the source opened by its name relative to its directory's handle, never
//! followed (`NtCreateFile` with `FILE_OPEN_REPARSE_POINT`), and checked through that
//! handle to be a plain file; the copy made under a fresh hidden name relative to the other
//! directory's handle (`FILE_CREATE`: nothing standing there, a link included, is written
//! through), and renamed to its own name through its handle once whole, never over
//! anything.
//! Then, as CopyFile does: block cloning (`FSCTL_DUPLICATE_EXTENTS_TO_FILE`) where the
//! volume shares clusters (ReFS, Dev Drive: `FILE_SUPPORTS_BLOCK_REFCOUNTING`), else the
//! allocated ranges alone where the file is sparse (`FSCTL_SET_SPARSE`,
//! `FSCTL_QUERY_ALLOCATED_RANGES`), else every byte, read and written through the two
//! handles. The attributes that describe a file (read-only, hidden, system, archive, not
//! indexed) and its access and write times are given last, through the copy's handle
//! (`SetFileInformationByHandle` with `FileBasicInfo`), as robocopy's default `/COPY:DAT`
//! does; security descriptors are not copied (the copy inherits its directory's), nor
//! the creation time or alternate data streams.
//!
//! [`Attrs`] carries, on Windows, the attributes in `mode` (`uid` and `gid` are 0) and the
//! times as seconds and nanoseconds from the Unix epoch, converted exactly from and to
//! the file system's 100-nanosecond ticks.

#![allow(
    unsafe_code,
    reason = "the Win32 calls of the Windows backend; the crate root denies unsafe elsewhere"
)]

use std::os::windows::fs::FileExt as _;

use super::handle::SHARE_ALL;
use super::*;
use crate::sys::{Attrs, Copied, FileData};
use windows_sys::Win32::Storage::FileSystem::FILE_ATTRIBUTE_ENCRYPTED;

/// How many bytes one read asks for, and one clone covers at most (a multiple of every
/// cluster size; a clone must cover less than 4 GiB).
const CHUNK: u64 = 1 << 20;
const CLONE_CHUNK: u64 = 1 << 30;

/// The attributes a copy is given: those that say what the file is, not how it is stored.
const KEPT: u32 = FILE_ATTRIBUTE_READONLY
    | FILE_ATTRIBUTE_HIDDEN
    | FILE_ATTRIBUTE_SYSTEM
    | FILE_ATTRIBUTE_ARCHIVE
    | FILE_ATTRIBUTE_NOT_CONTENT_INDEXED;

/// Copies the plain file `name` of `from` to the new name `to_name` of `to`: its data, the
/// attributes in [`KEPT`] and its times. The copy is made new (`FILE_CREATE`) under a fresh
/// hidden name beside `to_name`, filled, then renamed to `to_name` through its own handle
/// without replacing anything (as on Unix: no moment shows a half-written file under its
/// real name); on a failure it is taken back, through that handle.
pub(super) fn copy_file_at(
    from: &Dir,
    name: &OsStr,
    to: &Dir,
    to_name: &OsStr,
) -> io::Result<Copied> {
    let source = from
        .entry(name, FILE_READ_DATA | FILE_READ_ATTRIBUTES)
        .map_err(|err| encrypted_or(from, name, err))?;
    let (attributes, tag) = source.attribute_tag()?;
    if tag.is_some() || attributes & FILE_ATTRIBUTE_DIRECTORY != 0 {
        return Err(SysError::NotARegularFile.into());
    }
    refuse_encrypted(attributes)?;
    let basic = basic_info(&source)?;
    let to_wide = wide::terminated(wide::units(to_name))?;
    let copy = stage(to, to_name)?;
    let filled = fill(&source, &copy, attributes).and_then(|copied| {
        give(&copy, &attrs_of(&basic), Give::File)?;
        rename_to(&copy, to, &to_wide)?;
        Ok(copied)
    });
    if filled.is_err() {
        take_back(&copy);
    }
    filled
}

/// Refuses a file encrypted with EFS (`attributes` has `FILE_ATTRIBUTE_ENCRYPTED`): its
/// data read through a handle comes decrypted, and its copy would be written in clear.
fn refuse_encrypted(attributes: u32) -> io::Result<()> {
    if attributes & FILE_ATTRIBUTE_ENCRYPTED != 0 {
        return Err(SysError::Encrypted.into());
    }
    Ok(())
}

/// `err`, the refusal to open the file `name` of `from` for its data; where that is an
/// access denied to an EFS-encrypted file (this user holds no key for it), the refusal
/// of encrypted files instead, which says what to do.
fn encrypted_or(from: &Dir, name: &OsStr, err: io::Error) -> io::Error {
    if !is_access_denied(&err) {
        return err;
    }
    match from
        .entry(name, FILE_READ_ATTRIBUTES)
        .and_then(|h| h.attribute_tag())
    {
        Ok((attributes, _)) => refuse_encrypted(attributes).err().unwrap_or(err),
        Err(_) => err,
    }
}

/// Takes back the copy open as `copy`, made by this process, exclusively, under its
/// hidden name, through its own handle: deleted, and where it was given the read-only
/// attribute already and Windows will not delete it so (before 10 1809, FAT), made plain
/// first through the same handle, so that no hidden copy is left behind.
fn take_back(copy: &Handle) {
    if delete_on_close(copy).is_err() {
        let _ = set_attributes(copy, 0);
        let _ = delete_on_close(copy);
    }
}

/// The regular file open as `handle` (read access), as [`Directory::system_file_at`]
/// reads it: its attributes, and for a system file its first `limit` bytes read from its
/// start.
///
/// [`Directory::system_file_at`]: crate::sys::Directory::system_file_at
pub(super) fn system_file(handle: &Handle, limit: usize) -> io::Result<crate::sys::SystemFile> {
    let (attributes, tag) = handle.attribute_tag()?;
    if tag.is_some() || attributes & FILE_ATTRIBUTE_DIRECTORY != 0 {
        return Err(SysError::NotARegularFile.into());
    }
    if attributes & crate::sys::ATTRIBUTE_SYSTEM == 0 {
        return Ok(crate::sys::SystemFile {
            attributes,
            bytes: Vec::new(),
            more: false,
        });
    }
    let file = handle.as_file();
    let (mut bytes, mut at) = (vec![0u8; limit.saturating_add(1)], 0);
    while at < bytes.len() {
        let offset = u64::try_from(at).unwrap_or(u64::MAX);
        match file.seek_read(&mut bytes[at..], offset) {
            Ok(0) => break,
            Ok(n) => at += n,
            Err(err) => return Err(err),
        }
    }
    bytes.truncate(at);
    let more = bytes.len() > limit;
    bytes.truncate(limit);
    Ok(crate::sys::SystemFile {
        attributes,
        bytes,
        more,
    })
}

/// Copies the data of the file `name` of `from`, whose reparse point (`tag`: WOF, dedup,
/// a cloud tag) keeps it elsewhere, to the new plain file `to_name` of `to`, as
/// [`copy_file_at`] copies a file: the bytes its filter gives (decompressed, rebuilt from
/// the chunk store, a cloud file's local data), every one read (no clone, no holes: those
/// would copy how the file is stored, not its data), its attributes and times; no reparse
/// point. A cloud file whose data is not all here is refused rather than downloaded
/// (see [`open_data`]).
pub(super) fn copy_reparse_data_at(
    from: &Dir,
    name: &OsStr,
    tag: Tag,
    to: &Dir,
    to_name: &OsStr,
) -> io::Result<Copied> {
    let source = open_data(from, name, tag)?;
    refuse_encrypted(source.attribute_tag()?.0)?;
    let basic = basic_info(&source)?;
    let size = source.as_file().metadata()?.len();
    let to_wide = wide::terminated(wide::units(to_name))?;
    let copy = stage(to, to_name)?;
    let filled = copy_range(&source, &copy, 0, size).and_then(|()| {
        give(&copy, &attrs_of(&basic), Give::File)?;
        rename_to(&copy, to, &to_wide)?;
        Ok(Copied {
            bytes: size,
            data: FileData::Copied { sparse: false },
        })
    });
    if filled.is_err() {
        take_back(&copy);
    }
    filled
}

/// The size of the data [`copy_reparse_data_at`] would copy, or why it would not.
pub(super) fn reparse_data_size_at(from: &Dir, name: &OsStr, tag: Tag) -> io::Result<u64> {
    Ok(open_data(from, name, tag)?.as_file().metadata()?.len())
}

/// The file `name` of `from`, whose reparse point has the data-bearing `tag`, opened to
/// read its data: first itself (`FILE_OPEN_REPARSE_POINT`), to check that it still has
/// that tag, that it is no directory and that its data is here (a cloud file's
/// `RECALL_ON_DATA_ACCESS`, `RECALL_ON_OPEN` or `OFFLINE` attribute says it is not; reading
/// it would download it, which a copy does not do unasked); then that same file opened
/// again from its own handle (the empty name, as `ReOpenFile` opens it), now as the file
/// system gives it, through its filter: never by its name again, so a link put at the
/// name meanwhile is never followed (not even to a share, which would be sent this
/// user's credentials); and checked by its id to be the same file.
fn open_data(from: &Dir, name: &OsStr, tag: Tag) -> io::Result<Handle> {
    let itself = from.entry(name, FILE_READ_ATTRIBUTES)?;
    let (attributes, found) = itself.attribute_tag()?;
    if found != Some(tag.value()) || attributes & FILE_ATTRIBUTE_DIRECTORY != 0 {
        return Err(SysError::Replaced.into());
    }
    let named = || {
        let what = crate::sys::holds_data(tag).unwrap_or("a reparse point");
        format!(
            "{what} ({}, {tag:#010x})",
            crate::link::Kind::of_tag(tag).name()
        )
    };
    let away = FILE_ATTRIBUTE_OFFLINE
        | FILE_ATTRIBUTE_RECALL_ON_OPEN
        | FILE_ATTRIBUTE_RECALL_ON_DATA_ACCESS;
    if attributes & away != 0 {
        let why = format!(
            "it is {}, whose data is not all on this computer: make it available offline \
             first (knot does not download it)",
            named()
        );
        return Err(SysError::DataUnreadable { why }.into());
    }
    let id = file_id(&itself)?;
    let source = Handle::open_data_at(&itself, OsStr::new("."), FILE_READ_DATA, SHARE_ALL)
        .map_err(|err| {
            if last_error_is(&err, &[ERROR_CANT_ACCESS_FILE]) {
                let why = format!(
                    "it is {}, and no filter on this system serves its reparse point \
                     ({err}): install the feature that made it (Data Deduplication, the \
                     sync client) or copy it where that runs",
                    named()
                );
                SysError::DataUnreadable { why }.into()
            } else {
                err
            }
        })?;
    let (followed, _) = source.attribute_tag()?;
    if file_id(&source)? != id || followed & FILE_ATTRIBUTE_DIRECTORY != 0 {
        return Err(SysError::Replaced.into());
    }
    Ok(source)
}

/// A new empty file under a fresh hidden name beside `name` in `dir`, made exclusively
/// (`FILE_CREATE`; drawn again on a clash), open to be filled, given its attributes and
/// renamed.
fn stage(dir: &Dir, name: &OsStr) -> io::Result<Handle> {
    let access = FILE_READ_DATA | FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES | DELETE;
    for _ in 0..8 {
        let hidden = crate::path::hidden_file_name(name);
        match Handle::create_at(
            dir.handle(),
            &hidden,
            access,
            FILE_SHARE_READ,
            FILE_NON_DIRECTORY_FILE,
        ) {
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            made => return made,
        }
    }
    Err(io::ErrorKind::AlreadyExists.into())
}

/// The data of `source` written into `copy`, which is new and empty.
fn fill(source: &Handle, copy: &Handle, attributes: u32) -> io::Result<Copied> {
    let size = source.as_file().metadata()?.len();
    let sparse = attributes & FILE_ATTRIBUTE_SPARSE_FILE != 0;
    if size > 0 && clone(source, copy, size, sparse)? {
        return Ok(Copied {
            bytes: size,
            data: FileData::Cloned,
        });
    }
    if sparse && holes(source, copy, size)? {
        return Ok(Copied {
            bytes: size,
            data: FileData::Copied { sparse: true },
        });
    }
    copy_range(source, copy, 0, size)?;
    Ok(Copied {
        bytes: size,
        data: FileData::Copied { sparse: false },
    })
}

/// Copies the bytes from `start` to `end` to the same offsets, through the two handles;
/// stops early where the file ends early (it shrank since it was looked at).
fn copy_range(source: &Handle, copy: &Handle, start: u64, end: u64) -> io::Result<()> {
    let (from, to) = (source.as_file(), copy.as_file());
    let mut buf = vec![0; usize::try_from(CHUNK.min(end - start)).unwrap_or(0)];
    let mut at = start;
    while at < end {
        let want = usize::try_from((end - at).min(CHUNK)).unwrap_or(buf.len());
        let read = match from.seek_read(&mut buf[..want], at) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if last_error_is(&err, &[ERROR_HANDLE_EOF]) => break,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        let mut written = 0;
        while written < read {
            match to.seek_write(&buf[written..read], at + written as u64)? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => written += n,
            }
        }
        at += read as u64;
    }
    Ok(())
}

/// `DeviceIoControl` of `code` on `handle`, with `input` and `output` (the bytes the call
/// returned). `ERROR_MORE_DATA` is returned as an error, with the output filled.
fn control<I, O>(
    handle: &Handle,
    code: u32,
    input: Option<&I>,
    output: &mut [O],
) -> io::Result<u32> {
    let (input_ptr, input_len) = match input {
        Some(input) => (std::ptr::from_ref(input).cast(), size_of::<I>() as u32),
        None => (std::ptr::null(), 0),
    };
    let output_len = u32::try_from(std::mem::size_of_val(output)).unwrap_or(u32::MAX);
    let output_ptr = if output.is_empty() {
        std::ptr::null_mut()
    } else {
        output.as_mut_ptr().cast()
    };
    let mut returned: u32 = 0;
    // SAFETY: the handle is open for synchronous I/O; the input is one readable `I` (or
    // none), the output `output_len` writable bytes (or none), and their sizes are passed;
    // no OVERLAPPED.
    let ok = unsafe {
        DeviceIoControl(
            handle.raw(),
            code,
            input_ptr,
            input_len,
            output_ptr,
            output_len,
            &mut returned,
            std::ptr::null_mut(),
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(returned)
}

/// A block clone of the whole file, where the copy's volume clones blocks: the copy given
/// the source's integrity setting and sparseness (which the clone needs them to share) and
/// its size, then `FSCTL_DUPLICATE_EXTENTS_TO_FILE` in pieces of at most [`CLONE_CHUNK`],
/// the last rounded up to the cluster. `false` where the volume does not clone, or refuses
/// the first piece: the data is then copied another way.
fn clone(source: &Handle, copy: &Handle, size: u64, sparse: bool) -> io::Result<bool> {
    if volume_flags(copy).unwrap_or(0) & FILE_SUPPORTS_BLOCK_REFCOUNTING == 0 {
        return Ok(false);
    }
    let mut integrity = [FSCTL_GET_INTEGRITY_INFORMATION_BUFFER {
        ChecksumAlgorithm: 0,
        Reserved: 0,
        Flags: 0,
        ChecksumChunkSizeInBytes: 0,
        ClusterSizeInBytes: 0,
    }];
    if control::<(), _>(
        source,
        FSCTL_GET_INTEGRITY_INFORMATION,
        None,
        &mut integrity,
    )
    .is_err()
    {
        return Ok(false);
    }
    let [integrity] = integrity;
    let cluster = u64::from(integrity.ClusterSizeInBytes);
    if cluster == 0 || !cluster.is_power_of_two() {
        return Ok(false);
    }
    let set = FSCTL_SET_INTEGRITY_INFORMATION_BUFFER {
        ChecksumAlgorithm: integrity.ChecksumAlgorithm,
        Reserved: 0,
        Flags: integrity.Flags,
    };
    let none: &mut [u8] = &mut [];
    if control(copy, FSCTL_SET_INTEGRITY_INFORMATION, Some(&set), none).is_err() {
        return Ok(false);
    }
    // A copy that cannot be made sparse is no clone: copied instead, as it is still empty.
    if sparse && set_sparse(copy).is_err() {
        return Ok(false);
    }
    copy.as_file().set_len(size)?;
    let rounded = size.div_ceil(cluster) * cluster;
    let mut at = 0;
    while at < rounded {
        let count = (rounded - at).min(CLONE_CHUNK);
        let piece = DUPLICATE_EXTENTS_DATA {
            FileHandle: source.raw(),
            SourceFileOffset: at as i64,
            TargetFileOffset: at as i64,
            ByteCount: count as i64,
        };
        match control::<_, u8>(copy, FSCTL_DUPLICATE_EXTENTS_TO_FILE, Some(&piece), &mut []) {
            Ok(_) => at += count,
            // Nothing cloned yet: the data is copied instead, into the copy at its size.
            Err(_) if at == 0 => return Ok(false),
            Err(err) => return Err(err),
        }
    }
    Ok(true)
}

/// Marks the file open as `handle` (with write access) sparse (`FSCTL_SET_SPARSE`).
pub(super) fn set_sparse(handle: &Handle) -> io::Result<()> {
    control::<(), u8>(handle, FSCTL_SET_SPARSE, None, &mut []).map(drop)
}

/// The flags of the volume `handle` is on (`GetVolumeInformationByHandleW`).
fn volume_flags(handle: &Handle) -> io::Result<u32> {
    let mut flags: u32 = 0;
    // SAFETY: the handle is open; no name buffers (null, size 0); the serial and
    // component-length pointers may be null; `flags` is writable.
    let ok = unsafe {
        GetVolumeInformationByHandleW(
            handle.raw(),
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            &mut flags,
            std::ptr::null_mut(),
            0,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(flags)
}

/// The allocated ranges of the sparse file `source` copied into `copy`, made sparse and
/// given the size first, so the rest stays holes. `false` where the file system keeps no
/// holes (`FSCTL_SET_SPARSE` or the first query refused): every byte is copied instead.
pub(super) fn holes(source: &Handle, copy: &Handle, size: u64) -> io::Result<bool> {
    if set_sparse(copy).is_err() {
        return Ok(false);
    }
    copy.as_file().set_len(size)?;
    let mut ranges = vec![
        FILE_ALLOCATED_RANGE_BUFFER {
            FileOffset: 0,
            Length: 0,
        };
        256
    ];
    let mut at = 0;
    let mut first = true;
    while at < size {
        let asked = FILE_ALLOCATED_RANGE_BUFFER {
            FileOffset: at as i64,
            Length: (size - at) as i64,
        };
        let (returned, more) = match control(
            source,
            FSCTL_QUERY_ALLOCATED_RANGES,
            Some(&asked),
            &mut ranges,
        ) {
            Ok(returned) => (returned, false),
            // Full: the ranges that fit came back; the rest is asked for after them.
            Err(err) if last_error_is(&err, &[ERROR_MORE_DATA]) => (
                ranges.len() as u32 * size_of::<FILE_ALLOCATED_RANGE_BUFFER>() as u32,
                true,
            ),
            Err(_) if first => return Ok(false),
            Err(err) => return Err(err),
        };
        first = false;
        let count = returned as usize / size_of::<FILE_ALLOCATED_RANGE_BUFFER>();
        for range in &ranges[..count.min(ranges.len())] {
            let start = u64::try_from(range.FileOffset).unwrap_or(0).min(size);
            let end = start
                .saturating_add(u64::try_from(range.Length).unwrap_or(0))
                .min(size);
            copy_range(source, copy, start, end)?;
            at = at.max(end);
        }
        if !more || count == 0 {
            break;
        }
    }
    Ok(true)
}

/// The `FileBasicInfo` of `handle`: its four times and its attributes.
fn basic_info(handle: &Handle) -> io::Result<FILE_BASIC_INFO> {
    let mut info = FILE_BASIC_INFO {
        CreationTime: 0,
        LastAccessTime: 0,
        LastWriteTime: 0,
        ChangeTime: 0,
        FileAttributes: 0,
    };
    // SAFETY: the handle is open with FILE_READ_ATTRIBUTES; `info` is the FILE_BASIC_INFO
    // FileBasicInfo fills, and its size is passed.
    let ok = unsafe {
        GetFileInformationByHandleEx(
            handle.raw(),
            FileBasicInfo,
            (&raw mut info).cast(),
            size_of::<FILE_BASIC_INFO>() as u32,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(info)
}

/// 1601-01-01 to 1970-01-01 in 100-nanosecond ticks.
const UNIX_EPOCH_TICKS: i64 = 116_444_736_000_000_000;
const TICKS_PER_SECOND: i64 = 10_000_000;

/// A time in ticks since 1601 as seconds and nanoseconds since 1970.
fn from_ticks(ticks: i64) -> (i64, u32) {
    let since = ticks.saturating_sub(UNIX_EPOCH_TICKS);
    let nanos = since.rem_euclid(TICKS_PER_SECOND) * 100;
    (since.div_euclid(TICKS_PER_SECOND), nanos as u32)
}

/// The other way: seconds and nanoseconds since 1970 as ticks since 1601, at least 1 (0
/// would tell `SetFileInformationByHandle` to leave the time as it is).
fn to_ticks((secs, nanos): (i64, u32)) -> i64 {
    secs.saturating_mul(TICKS_PER_SECOND)
        .saturating_add(i64::from(nanos / 100))
        .saturating_add(UNIX_EPOCH_TICKS)
        .max(1)
}

/// What a copy is given of `info`.
fn attrs_of(info: &FILE_BASIC_INFO) -> Attrs {
    Attrs {
        mode: info.FileAttributes & KEPT,
        uid: 0,
        gid: 0,
        atime: from_ticks(info.LastAccessTime),
        mtime: from_ticks(info.LastWriteTime),
        ctime: from_ticks(info.ChangeTime),
    }
}

/// What [`give`] gives.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Give {
    /// A file's attributes and times.
    File,
    /// A directory's attributes and times.
    Dir,
    /// The times alone (a link).
    Times,
}

/// Gives the entry open as `handle` (with `FILE_WRITE_ATTRIBUTES`) the times of `attrs`,
/// and a file or directory its attributes too: a file with none of those kept gets
/// `FILE_ATTRIBUTE_NORMAL`, so that a new file's archive bit goes (a new directory has
/// none to lose). The creation and change times are left as they are (0).
fn give(handle: &Handle, attrs: &Attrs, what: Give) -> io::Result<()> {
    let kept = attrs.mode & KEPT;
    let attributes = match what {
        Give::Times => 0,
        Give::File if kept == 0 => FILE_ATTRIBUTE_NORMAL,
        Give::File | Give::Dir => kept,
    };
    let info = FILE_BASIC_INFO {
        CreationTime: 0,
        LastAccessTime: to_ticks(attrs.atime),
        LastWriteTime: to_ticks(attrs.mtime),
        ChangeTime: 0,
        FileAttributes: attributes,
    };
    set_basic_info(handle, &info)
}

/// Sets the `FileBasicInfo` of `handle` (open with `FILE_WRITE_ATTRIBUTES`): a time or
/// the attributes left 0 stay as they are.
pub(super) fn set_basic_info(handle: &Handle, info: &FILE_BASIC_INFO) -> io::Result<()> {
    // SAFETY: the handle is open with FILE_WRITE_ATTRIBUTES; `info` is the FILE_BASIC_INFO
    // FileBasicInfo takes, and its size is passed.
    let ok = unsafe {
        SetFileInformationByHandle(
            handle.raw(),
            FileBasicInfo,
            std::ptr::from_ref(info).cast(),
            size_of::<FILE_BASIC_INFO>() as u32,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The attributes and times of the entry `name` of `dir`, not following a link there.
pub(super) fn attrs_at(dir: &Dir, name: &OsStr) -> io::Result<Attrs> {
    Ok(attrs_of(&basic_info(
        &dir.entry(name, FILE_READ_ATTRIBUTES)?,
    )?))
}

/// Gives the link `name` of `dir` the times of `attrs`: the link itself, opened without
/// following it.
pub(super) fn give_link_times_at(dir: &Dir, name: &OsStr, attrs: &Attrs) -> io::Result<()> {
    give(&dir.entry(name, FILE_WRITE_ATTRIBUTES)?, attrs, Give::Times)
}

/// Gives the directory `name` of `dir` the attributes and times `attrs`, through a handle
/// of it opened without following a link, where it is still the directory `id` (a copy's
/// directory): another put in its place is left as it is.
pub(super) fn give_dir_attrs_at(
    dir: &Dir,
    name: &OsStr,
    attrs: &Attrs,
    id: (u64, u128),
) -> io::Result<()> {
    let handle = dir.entry(name, FILE_WRITE_ATTRIBUTES)?;
    let (attributes, tag) = handle.attribute_tag()?;
    if file_type(attributes, tag) != FileType::Dir || file_id(&handle)? != id {
        return Err(SysError::Replaced.into());
    }
    give(&handle, attrs, Give::Dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Times convert exactly both ways, before 1970 too, and 0 ticks is never written.
    #[test]
    fn ticks_convert_exactly() {
        for ticks in [
            1,
            UNIX_EPOCH_TICKS,
            UNIX_EPOCH_TICKS - 1,
            UNIX_EPOCH_TICKS + 12_345_678_901,
            133_000_000_000_000_007,
        ] {
            assert_eq!(to_ticks(from_ticks(ticks)), ticks, "{ticks}");
        }
        assert_eq!(from_ticks(UNIX_EPOCH_TICKS + 15), (0, 1_500));
        assert_eq!(from_ticks(UNIX_EPOCH_TICKS - 1), (-1, 999_999_900));
        assert_eq!(to_ticks((i64::MIN, 0)), 1);
    }
}
