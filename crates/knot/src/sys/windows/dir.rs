//! Directories for the scanner on Windows.
//!
//! A listing is read through the directory's own handle, the one that was checked to be
//! a directory and not a link: `GetFileInformationByHandleEx` with
//! `FileIdExtdDirectoryInfo` (Windows 10 and later, NTFS and ReFS), or where that class is
//! not known `FileIdBothDirectoryInfo` (every file system, and Wine 8, which has only
//! this one). Each entry brings its attributes and, for a reparse point, its tag, so the
//! type of every entry is known without opening it and only links are ever opened
//! (DESIGN.md section 3: this is what `FindFirstFileExW` reads, through a handle of its
//! own opened by path).
//!
//! Below a directory knot holds, an entry is opened by its name relative to the
//! directory's handle (`NtCreateFile` with the handle as `RootDirectory`, never following:
//! [`Handle::open_at`]), and made, linked, renamed and deleted the same way
//! (`FILE_CREATE` relative to the handle, `FileLinkInformation` and `FILE_RENAME_INFO`
//! with the handle as `RootDirectory`, and the disposition of the entry's own handle): no
//! path is looked up again, so a directory on the way swapped for a junction is never
//! gone through. A subdirectory opened without following is checked through its own
//! handle to be a directory and not a link, or it is reported (`NotADirectory`) and not
//! walked into (DESIGN.md promise 4).
//!
//! A [`Dir`] also keeps its path, for what only a path can do: make a symlink
//! (`CreateSymbolicLinkW`; writing a symlink's reparse point through a handle needs the
//! symlink privilege, which Developer Mode does not give), follow a link, name its volume,
//! and name entries in messages. What keeps that path true is how a [`Dir`]'s handle is
//! opened: without `FILE_SHARE_DELETE`, so while knot holds a directory no one can rename
//! or delete it, or put a junction in its place; and Windows refuses to rename a directory
//! with anything below it open ("the folder or a file in it is open in another program"),
//! so the directories above an open one stay where they are too. (Wine 8 keeps the first
//! rule but not the second.)
//!
//! A root, and a directory reached through a link, keep their final path, found through
//! their own handle (`GetFinalPathNameByHandleW`), so that the parent of a followed link's
//! target is its real parent. The handle stays open while the [`Dir`] lives: it is what
//! `meta` reports on and what the listing reads.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io;
use std::ops::ControlFlow;
use std::os::windows::ffi::OsStringExt;
use std::path::{Path, PathBuf};

use super::ffi::{
    DELETE, DIR_BUFFER_SIZE, DirBuffer, DirInfoLayout, ERROR_DIRECTORY, ERROR_FILE_NOT_FOUND,
    ERROR_NO_MORE_FILES, FILE_ATTRIBUTE_DIRECTORY, FILE_ATTRIBUTE_REPARSE_POINT,
    FILE_DIRECTORY_FILE, FILE_LIST_DIRECTORY, FILE_READ_ATTRIBUTES, FILE_READ_DATA,
    FILE_SHARE_READ, FILE_SHARE_WRITE, GetFileInformationByHandleEx, ID_BOTH_DIR_INFO,
    ID_EXTD_DIR_INFO, SYNCHRONIZE,
};
use super::handle::{Follow, Handle, SHARE_ALL};
use super::{
    delete_on_close, entry_meta, entry_usage, file_type, last_error_is, meta_of, os_error,
    read_link_of, stat, unsupported, wide,
};
use crate::sys::{Attrs, Copied, FileType, Meta, Stored, SystemFile};
use knot_reparse::Tag;

/// An open directory.
#[derive(Debug)]
pub(crate) struct Dir {
    /// Its full path: the final path for a root or a followed link (`\\?\C:\...`), the
    /// parent's path and the name below it otherwise.
    path: PathBuf,
    handle: Handle,
}

/// What a [`Dir`] is opened for: its identity (`meta`), or that and its entries too.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Identity,
    List,
}

impl Access {
    fn rights(self) -> u32 {
        match self {
            Access::Identity => FILE_READ_ATTRIBUTES | SYNCHRONIZE,
            Access::List => FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES | SYNCHRONIZE,
        }
    }
}

/// No `FILE_SHARE_DELETE`: the directory stays where its path says while it is open.
const HOLD: u32 = FILE_SHARE_READ | FILE_SHARE_WRITE;

/// Opens the directory `path` names, following links: a root, or where a link leads. Its
/// path is where it really is (its final path), so that `..` is the real parent; Wine 8
/// cannot name a handle past MAX_PATH, and the full path is the next best there.
fn open_dir(path: &Path, access: Access) -> io::Result<Dir> {
    let handle = Handle::open_shared(path, access.rights(), Follow::Yes, HOLD)?;
    is_dir(&handle, Follow::Yes)?;
    let path = match handle.final_path() {
        Ok(path) => path,
        Err(_) => crate::path::absolute(path)?,
    };
    Ok(Dir { path, handle })
}

/// Whether `handle` is open on a directory; with `Follow::No`, a directory that is no link.
fn is_dir(handle: &Handle, follow: Follow) -> io::Result<()> {
    let (attributes, tag) = handle.attribute_tag()?;
    let is_dir = match follow {
        Follow::Yes => attributes & FILE_ATTRIBUTE_DIRECTORY != 0,
        // A link is not followed: it is not a directory to walk into.
        Follow::No => file_type(attributes, tag) == FileType::Dir,
    };
    if !is_dir {
        // ERROR_DIRECTORY ("The directory name is invalid"), which std reads as
        // `NotADirectory`: what the walker expects of a directory that is one no more.
        return Err(os_error(ERROR_DIRECTORY));
    }
    Ok(())
}

impl crate::sys::Directory for Dir {
    /// Opens the directory `path` names, following links: a root the user named.
    fn open(path: &Path) -> io::Result<Dir> {
        open_dir(path, Access::List)
    }

    /// Opens the subdirectory `name`. Without `follow`, a link there is never followed:
    /// the open fails with `ERROR_DIRECTORY` (`NotADirectory`).
    fn open_at(&self, name: &OsStr, follow: bool) -> io::Result<Dir> {
        if follow {
            // Where a link leads is a path: it is followed by path, as the user's are.
            open_dir(&self.join(name), Access::List)
        } else {
            self.dir_at(name)
        }
    }

    /// The directory above, or this one again at the root of a volume (as `/..` is `/`),
    /// for its identity only: it is not opened for listing, which the directories above a
    /// root the user can read need not allow.
    fn parent(&self) -> io::Result<Dir> {
        open_dir(self.path.parent().unwrap_or(&self.path), Access::Identity)
    }

    /// The directory itself: (volume serial, file id) and link count.
    fn meta(&self) -> io::Result<Meta> {
        meta_of(&self.handle, Follow::Yes)
    }

    /// What `name` is, following a link there only when asked.
    fn stat_at(&self, name: &OsStr, follow: bool) -> io::Result<Meta> {
        if follow {
            stat(&self.join(name))
        } else {
            entry_meta(self.entry(name, FILE_READ_ATTRIBUTES), &self.join(name))
        }
    }

    /// `name` itself, not followed, with the bytes allocated to it (`FileStandardInfo`'s
    /// `AllocationSize`, which `GetFileInformationByHandle` does not give), for `du`: one
    /// open for both.
    fn usage_at(&self, name: &OsStr) -> io::Result<Meta> {
        entry_usage(self.entry(name, FILE_READ_ATTRIBUTES), &self.join(name))
    }

    /// What the link `name` stores.
    fn read_link_at(&self, name: &OsStr) -> io::Result<Stored> {
        read_link_of(&self.entry(name, FILE_READ_ATTRIBUTES)?)
    }

    /// Opens the directory `path` names, following links, to hold it and work below it:
    /// while it is held, no one can rename or delete it (no `FILE_SHARE_DELETE`). It is
    /// opened with the right to list it all the same: an open with attribute rights only
    /// takes no part in sharing, so its share mode would hold nothing (Windows skips the
    /// share-access check for such opens; Wine 8 does the same).
    fn hold(path: &Path) -> io::Result<Dir> {
        open_dir(path, Access::List)
    }

    /// [`Dir::hold`] of the subdirectory `name`, never following a link there: the open
    /// fails with `ERROR_DIRECTORY` (`NotADirectory`).
    fn hold_at(&self, name: &OsStr) -> io::Result<Dir> {
        self.dir_at(name)
    }

    /// Makes the directory `name` here ([`Handle::create_dir_at`], which never follows or
    /// replaces anything at the name).
    fn make_dir_at(&self, name: &OsStr) -> io::Result<()> {
        Handle::create_dir_at(&self.handle, name, FILE_READ_ATTRIBUTES).map(drop)
    }

    /// Where this directory really is, for computing the targets knot stores:
    /// [`super::real_dir`] of `path`, the path it was opened by (lexical, as Windows
    /// resolves `..` in a link's target).
    fn real_dir(&self, path: &Path) -> io::Result<PathBuf> {
        super::real_dir(path)
    }

    /// How links are made here: the volume that holds the directory.
    fn place(&self) -> io::Result<crate::sys::Place> {
        Ok(super::place_of(&self.path))
    }

    /// [`super::hard_link`] of the entry `target_name` of `target_dir` as `name` here.
    fn hard_link_at(&self, name: &OsStr, target_dir: &Dir, target_name: &OsStr) -> io::Result<()> {
        super::hard_link(target_dir, target_name, self, name)
    }

    /// [`super::remove_link`] of the entry `name` here (`path` names it in messages).
    fn remove_link_at(&self, name: &OsStr, _path: &Path) -> io::Result<()> {
        super::remove_link(self, name)
    }

    /// A junction copied byte for byte (a dangling one, or one to a drive this system does
    /// not reach): a new empty directory given the buffer through its own handle
    /// ([`super::make_junction`], which needs no privilege, unlike a symlink), where the
    /// buffer is a junction: a mount point to a directory, not to a volume (the mount
    /// manager records those itself), and read back (a file system that kept another
    /// buffer is reported, the directory left as made). Anything else `Unsupported`.
    fn make_reparse_dir_at(&self, name: &OsStr, buffer: &[u8]) -> io::Result<()> {
        match knot_reparse::decode(buffer) {
            Ok(knot_reparse::ReparsePoint::MountPoint(point)) if !point.is_volume_mount_point() => {
                super::make_junction(self, name, buffer)?;
                let made = self.entry(name, FILE_READ_ATTRIBUTES)?;
                match super::ioctl::get_reparse_point(&made) {
                    Ok(read) if read == buffer => Ok(()),
                    _ => Err(super::SysError::ReadBack { who: "Windows" }.into()),
                }
            }
            _ => Err(io::ErrorKind::Unsupported.into()),
        }
    }

    /// [`super::remove_tree_reparse`]: a link as a link, a file whose reparse point keeps
    /// its data as that file, each through its own handle.
    fn remove_tree_link_at(&self, name: &OsStr, _path: &Path) -> io::Result<()> {
        super::remove_tree_reparse(self, name)
    }

    /// [`super::rename_over`] of the entry `staged` here onto `name` here.
    fn rename_over_at(&self, staged: &OsStr, name: &OsStr, _path: &Path) -> io::Result<()> {
        super::rename_over(self, staged, name)
    }

    /// Deletes the name `name` here, a name this process just made: opened without
    /// following and deleted through that handle.
    fn remove_name_at(&self, name: &OsStr) -> io::Result<()> {
        delete_on_close(&self.entry(name, DELETE)?)
    }

    /// [`super::remove_file`]: through a handle of the file itself, its read-only
    /// attribute cleared there only if Windows will not delete it otherwise.
    fn remove_file_at(&self, name: &OsStr) -> io::Result<()> {
        super::remove_file(self, name)
    }

    /// Windows cannot swap two names in one step: `false`, nothing moved.
    fn exchange_at(&self, _a: &OsStr, _b: &OsStr) -> io::Result<bool> {
        Ok(false)
    }

    /// [`super::move_entry`]: the entry opened relative to this handle without following
    /// it, and renamed relative to `to`'s handle, never replacing anything (a rename to
    /// another volume fails with `ERROR_NOT_SAME_DEVICE`, as `MoveFileExW` without
    /// `MOVEFILE_COPY_ALLOWED` does).
    fn move_to_at(&self, name: &OsStr, to: &Dir, to_name: &OsStr) -> io::Result<()> {
        super::move_entry(self, name, to, to_name)
    }

    /// [`super::remove_dir`]: through a handle of the directory itself, never a link.
    fn remove_dir_at(&self, name: &OsStr) -> io::Result<()> {
        super::remove_dir(self, name)
    }

    /// [`super::copy::copy_file_at`]: through a handle of the source opened without
    /// following, to a copy made new (`FILE_CREATE`) relative to `to`'s handle.
    /// Extended attributes and alternate data streams are not copied yet: asked for, a
    /// refusal before anything is made.
    fn copy_file_at(
        &self,
        name: &OsStr,
        to: &Dir,
        to_name: &OsStr,
        xattrs: bool,
    ) -> io::Result<Copied> {
        if xattrs {
            return Err(crate::sys::error::Error::NoXattrs.into());
        }
        super::copy::copy_file_at(self, name, to, to_name)
    }

    /// [`super::copy::copy_reparse_data_at`].
    fn copy_reparse_data_at(
        &self,
        name: &OsStr,
        tag: Tag,
        to: &Dir,
        to_name: &OsStr,
    ) -> io::Result<Copied> {
        super::copy::copy_reparse_data_at(self, name, tag, to, to_name)
    }

    /// [`super::copy::reparse_data_size_at`].
    fn reparse_data_size_at(&self, name: &OsStr, tag: Tag) -> io::Result<u64> {
        super::copy::reparse_data_size_at(self, name, tag)
    }

    /// The attributes and times of `name` itself, read through its handle.
    fn attrs_at(&self, name: &OsStr) -> io::Result<Attrs> {
        super::copy::attrs_at(self, name)
    }

    /// The times, given through a handle of the link itself.
    fn give_link_attrs_at(&self, name: &OsStr, attrs: &Attrs) -> io::Result<()> {
        super::copy::give_link_times_at(self, name, attrs)
    }

    /// The file `name` opened by its name relative to this directory's handle, never
    /// followed, and read through that handle: its attributes
    /// (`GetFileInformationByHandleEx`, `FileAttributeTagInfo`) and first bytes.
    fn system_file_at(&self, name: &OsStr, limit: usize) -> io::Result<SystemFile> {
        let handle = self.entry(name, FILE_READ_DATA | FILE_READ_ATTRIBUTES)?;
        super::copy::system_file(&handle, limit)
    }

    /// [`super::rename_over`]'s way, with the old entry judged through the handle that is
    /// then renamed aside and deleted: a regular file with the system attribute holding
    /// exactly `bytes`.
    fn replace_system_file_at(
        &self,
        staged: &OsStr,
        name: &OsStr,
        _path: &Path,
        bytes: &[u8],
    ) -> io::Result<()> {
        super::replace_entry_reading(self, staged, name, FILE_READ_DATA, |old| {
            let file = match super::copy::system_file(old, bytes.len()) {
                Ok(file) => file,
                Err(err) if crate::sys::error::of(&err).is_some() => return Ok(false),
                Err(err) => return Err(err),
            };
            Ok(file.attributes & crate::sys::ATTRIBUTE_SYSTEM != 0
                && !file.more
                && file.bytes == bytes)
        })
    }

    /// Through a handle of the directory opened without following, checked to be the
    /// directory `id`.
    fn give_dir_attrs_at(&self, name: &OsStr, attrs: &Attrs, id: (u64, u128)) -> io::Result<()> {
        super::copy::give_dir_attrs_at(self, name, attrs, id)
    }

    /// Made and opened in one call relative to this directory's handle (`FILE_CREATE`),
    /// held as [`Dir::hold_at`] holds one (no `FILE_SHARE_DELETE`): the handle is the new
    /// directory's own, and no one can rename or delete it while it is held. Its security
    /// is what it inherits: knot copies no security descriptors.
    fn make_copy_dir_at(&self, name: &OsStr) -> io::Result<(Dir, (u64, u128))> {
        let handle = Handle::create_at(
            &self.handle,
            name,
            Access::List.rights(),
            HOLD,
            FILE_DIRECTORY_FILE,
        )?;
        let id = super::file_id(&handle)?;
        let dir = Dir {
            path: self.join(name),
            handle,
        };
        Ok((dir, id))
    }

    /// [`Dir::hold_at`], then the entries read through the handle held.
    fn hold_empty_dir_at(&self, name: &OsStr) -> io::Result<Option<Dir>> {
        use crate::sys::Reader as _;
        let dir = self.dir_at(name)?;
        let mut empty = true;
        DirReader::new().read(&dir, |_, _, _| {
            empty = false;
            ControlFlow::Break(())
        })?;
        Ok(empty.then_some(dir))
    }

    /// [`super::replace_entry_reading`]: the entry at `name`, opened without following,
    /// goes only while it is still the regular file `file` holding exactly `data`, both
    /// judged through the handle that is then renamed aside and deleted; where nothing is
    /// there, nothing is put there either.
    fn put_link_over_file_at(
        &self,
        staged: &OsStr,
        name: &OsStr,
        _path: &Path,
        file: (u64, u128),
        data: &[u8],
    ) -> io::Result<()> {
        use std::io::Read as _;
        super::replace_entry_reading(self, staged, name, FILE_READ_DATA, |old| {
            let meta = meta_of(old, Follow::No)?;
            if meta.ty != FileType::File || meta.tag.is_some() || meta.id != file {
                return Ok(false);
            }
            let mut bytes = Vec::with_capacity(data.len() + 1);
            let handle = old.as_file();
            (&*handle)
                .take(data.len() as u64 + 1)
                .read_to_end(&mut bytes)?;
            Ok(bytes == data)
        })
    }

    /// The entry opened by its name relative to this directory's handle, never following
    /// a link there (`FILE_OPEN_REPARSE_POINT`), refused unless it is a regular file
    /// (no directory, no reparse point), then read through that handle.
    fn read_file_at(&self, name: &OsStr, limit: usize) -> io::Result<(Meta, Vec<u8>)> {
        use std::io::Read as _;
        let handle = self.entry(name, FILE_READ_DATA | FILE_READ_ATTRIBUTES)?;
        let meta = meta_of(&handle, Follow::No)?;
        if meta.ty != FileType::File || meta.tag.is_some() {
            return Err(crate::sys::error::Error::NotARegularFile.into());
        }
        let mut bytes = Vec::with_capacity(limit);
        let file = handle.as_file();
        (&*file).take(limit as u64).read_to_end(&mut bytes)?;
        Ok((meta, bytes))
    }

    /// The final path of what `name` leads to, shown without `\\?\` where that is exact.
    fn real_path_at(&self, name: &OsStr) -> io::Result<PathBuf> {
        let handle = Handle::open(&self.path.join(name), FILE_READ_ATTRIBUTES, Follow::Yes)?;
        Ok(wide::user_path(handle.final_path()?))
    }
}

impl Dir {
    /// The path of the entry `name` here: how Windows names it, kept true by the handle
    /// this directory is held by (see the module's documentation). For what only a path
    /// can do, and for messages; every other call opens `name` through [`Dir::entry`].
    pub(super) fn join(&self, name: &OsStr) -> PathBuf {
        self.path.join(name)
    }

    /// The entry `name` here itself (a link not followed), opened with `access` by its
    /// name relative to this directory's handle ([`Handle::open_at`]).
    pub(super) fn entry(&self, name: &OsStr, access: u32) -> io::Result<Handle> {
        Handle::open_at(&self.handle, name, access, SHARE_ALL)
    }

    /// This directory held as it is, but with `path` as the path it keeps: for the tests
    /// that show what is found through the handle and not by the path.
    #[cfg(test)]
    pub(super) fn with_path(self, path: PathBuf) -> Dir {
        Dir { path, ..self }
    }

    /// This directory's handle, for calls that name an entry relative to it.
    pub(super) fn handle(&self) -> &Handle {
        &self.handle
    }

    /// The subdirectory `name`, held ([`HOLD`]) and listable, opened relative to this
    /// directory's handle without following a link there: a link, or anything else that
    /// is no directory, fails with `ERROR_DIRECTORY` (`NotADirectory`).
    fn dir_at(&self, name: &OsStr) -> io::Result<Dir> {
        let handle = Handle::open_at(&self.handle, name, Access::List.rights(), HOLD)?;
        is_dir(&handle, Follow::No)?;
        Ok(Dir {
            path: self.join(name),
            handle,
        })
    }
}

/// Reads directories for the scanner: one buffer per thread, and the information class
/// that the file systems met so far answer.
pub(crate) struct DirReader {
    buffer: Box<DirBuffer>,
    pub(super) layout: &'static DirInfoLayout,
}

impl fmt::Debug for DirReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirReader")
            .field("class", &self.layout.class_name)
            .finish_non_exhaustive()
    }
}

impl crate::sys::Reader for DirReader {
    type Dir = Dir;

    fn new() -> DirReader {
        DirReader {
            buffer: Box::new(DirBuffer([0; DIR_BUFFER_SIZE])),
            layout: &ID_EXTD_DIR_INFO,
        }
    }

    /// Calls `each` with the name, type and file id of every entry but `.` and `..`. The
    /// type is always known: it comes with the listing; the file id is `None` where it is
    /// wider than 64 bits (ReFS) or zero (a file system that has none).
    ///
    /// The listing is read through `dir`'s handle, from its start (the `Restart` class,
    /// so a directory read before is read whole again), until `ERROR_NO_MORE_FILES`.
    fn read(
        &mut self,
        dir: &Dir,
        mut each: impl FnMut(&OsStr, Option<FileType>, Option<u64>) -> ControlFlow<()>,
    ) -> io::Result<()> {
        let mut first = true;
        loop {
            let class = if first {
                self.layout.restart
            } else {
                self.layout.class
            };
            // SAFETY: the handle is open with FILE_LIST_DIRECTORY and synchronous (not
            // FILE_FLAG_OVERLAPPED); the buffer is DIR_BUFFER_SIZE writable bytes, aligned
            // to 8 as the entries the class writes (ffi.rs), and its size is passed.
            let ok = unsafe {
                GetFileInformationByHandleEx(
                    dir.handle.raw(),
                    class,
                    self.buffer.0.as_mut_ptr().cast(),
                    DIR_BUFFER_SIZE as u32,
                )
            };
            if ok == 0 {
                let err = io::Error::last_os_error();
                // The end; or, at the start, the root of an empty volume, which has no
                // `.` and `..` either.
                if last_error_is(&err, &[ERROR_NO_MORE_FILES])
                    || (first && last_error_is(&err, &[ERROR_FILE_NOT_FOUND]))
                {
                    return Ok(());
                }
                // A class this system or file system does not know (before Windows 10,
                // FAT, SMB, Wine 8): the one every file system has, from now on.
                if first && unsupported(&err) && self.layout.class != ID_BOTH_DIR_INFO.class {
                    self.layout = &ID_BOTH_DIR_INFO;
                    continue;
                }
                return Err(err);
            }
            first = false;
            if entries(&self.buffer.0, self.layout, &mut each)?.is_break() {
                return Ok(());
            }
        }
    }
}

/// Calls `each` with the entries of one filled buffer, laid out as `layout` says, skipping
/// `.` and `..`. Every offset and length is checked against the buffer: a malformed listing
/// is an error (`InvalidData`), never a read out of bounds.
pub(super) fn entries(
    buffer: &[u8],
    layout: &DirInfoLayout,
    mut each: impl FnMut(&OsStr, Option<FileType>, Option<u64>) -> ControlFlow<()>,
) -> io::Result<ControlFlow<()>> {
    let malformed = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "the file system returned a malformed directory listing",
        )
    };
    let u32_at = |at: usize| -> io::Result<u32> {
        let bytes = buffer.get(at..at + 4).ok_or_else(malformed)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    };
    let mut at = 0;
    loop {
        let next = u32_at(at)? as usize;
        let attributes = u32_at(at + layout.attributes)?;
        let name_bytes = u32_at(at + layout.name_length)? as usize;
        let start = at + layout.name;
        let name = buffer
            .get(start..start + name_bytes)
            .filter(|_| name_bytes.is_multiple_of(2))
            .ok_or_else(malformed)?;
        let name: Vec<u16> = name
            .chunks_exact(2)
            .map(|unit| u16::from_le_bytes([unit[0], unit[1]]))
            .collect();
        let dot = u16::from(b'.');
        if name != [dot] && name != [dot, dot] {
            // The tag is there only when the entry is a reparse point.
            let tag = if attributes & FILE_ATTRIBUTE_REPARSE_POINT != 0 {
                Some(u32_at(at + layout.tag)?)
            } else {
                None
            };
            let ty = file_type(attributes, tag);
            let id = buffer
                .get(at + layout.file_id..at + layout.file_id + layout.file_id_len)
                .ok_or_else(malformed)?;
            let (low, high) = id.split_at(8);
            let low = u64::from_le_bytes(low.try_into().map_err(|_| malformed())?);
            let id = (low != 0 && high.iter().all(|&b| b == 0)).then_some(low);
            if each(&OsString::from_wide(&name), Some(ty), id).is_break() {
                return Ok(ControlFlow::Break(()));
            }
        }
        if next == 0 {
            return Ok(ControlFlow::Continue(()));
        }
        at = at.checked_add(next).ok_or_else(malformed)?;
    }
}

/// How many directories a scan may keep open at once. Windows has no small limit on
/// handles (millions per process); this bounds the memory the walk's open directories
/// hold, as on Unix.
pub(crate) fn max_open_dirs() -> usize {
    256
}

/// How many directories `knot apply` may hold open at once: Windows has no small limit
/// on handles, so enough for the directories of a large manifest.
pub(crate) fn max_held_dirs() -> usize {
    1 << 14
}
