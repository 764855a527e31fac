//! The private platform layer: one backend per platform, chosen here once, so the code
//! outside `sys/` needs no `cfg` for what a platform does (same-file's `imp` pattern,
//! STYLE.md point 1).
//!
//! The contract is three traits, listed and documented once, here: [`Backend`] (the calls
//! on paths and the platform's rules), [`Directory`] (a directory held open, and every
//! call relative to it) and [`Reader`]. Each backend implements them for its own [`Os`],
//! `Dir` and `DirReader`, and the default methods answer where a backend has nothing to
//! say; `unsupported.rs` is held to them in every test build. Each call returns a plain
//! `io::Result`, whose platform cases are typed ([`error`]); naming the operation and the
//! paths in the error is the caller's job.
//!
//! Every call that changes an entry, and every read that a change is decided on, names the
//! entry as an [`At`]: a directory held open ([`Dir`]) and one name in it, never a path
//! (STYLE.md point 6, as std's `remove_dir_all` after CVE-2022-21658 and cap-std do). A
//! path from the user is opened once into its held parent ([`Directory::hold`] of the parent)
//! and a name; after that nothing is looked up by that path again, so a directory on the
//! way swapped for a link between a check and the act cannot lead the act elsewhere.
//! Links are made by the [`Strategy`] that [`Directory::place`] chooses for the held directory
//! (ntfs-3g is one), and every backend that reads reparse points turns them into records
//! through one module ([`reparse`]).
//!
//! What a held directory is on each platform:
//! - Unix: a descriptor (`O_PATH` where there is one), and every call an `*at` call
//!   relative to it (`symlinkat`, `linkat`, `renameat2`, `unlinkat`, `readlinkat`,
//!   `fstatat`). The one exception is ntfs-3g's extended attributes, which Linux reads
//!   and writes only by path or through a descriptor of the entry itself (an `O_PATH`
//!   descriptor takes none): there the entry is named `/proc/self/fd/N/NAME`, which the
//!   kernel resolves through the held descriptor.
//! - Windows: a handle, and every entry opened by its name relative to it, never followed
//!   (`NtCreateFile` with the handle as `RootDirectory` and `FILE_OPEN_REPARSE_POINT`),
//!   then renamed, linked and deleted through handles (`FileRenameInformation` and
//!   `FileLinkInformation` relative to the directory's handle). A symlink alone is made by
//!   path (`CreateSymbolicLinkW`), the directory's path and the name, which the handle
//!   keeps true: it is opened without `FILE_SHARE_DELETE`, so that while it is held the
//!   directory cannot be renamed, removed or replaced by a junction, and Windows refuses
//!   to rename a directory above it (`windows/dir.rs`).

#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as imp;
#[cfg(unix)]
pub(crate) use unix::image;

// The platform layer's own errors, mapped to public kinds in one place.
pub(crate) mod error;

// One way from a reparse buffer to a record, for every backend that reads them.
#[cfg_attr(
    not(any(windows, target_os = "linux")),
    allow(dead_code, reason = "no backend reads reparse points here")
)]
mod reparse;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as imp;

#[cfg(any(test, not(any(unix, windows))))]
mod unsupported;
#[cfg(not(any(unix, windows)))]
use unsupported as imp;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use knot_reparse::Tag;

use crate::link::{Flavour, Kind, Link, ReparseTag, Status};

use std::io;

pub(crate) use crate::path::DotDot;

/// The backend contract: what every platform's backend (unix/, windows/, unsupported.rs)
/// provides, listed and documented once, here. Each backend implements it for its own
/// [`Os`]; where a backend has nothing to say (no privilege errors off Windows, no kernel
/// file systems off Linux), the default answers, so no backend carries a stub.
pub(crate) trait Backend {
    /// An open directory: [`Directory`].
    type Dir: Directory;
    /// Reads directories: [`Reader`].
    type DirReader: Reader<Dir = Self::Dir>;

    /// How the platform resolves `..`.
    const DOT_DOT: DotDot;
    /// How [`Backend::hard_link_names`] finds a file's names, when it does.
    const NAMES_FROM: NamesFrom = NamesFrom::Nowhere;
    /// Whether [`Directory::copy_file_at`] copies files here (a tree copy refuses at once
    /// where not).
    const COPIES_FILES: bool = false;
    /// Whether the [`Directory`] calls that look at, replace, swap and remove entries of
    /// an earlier copy, and follow a link to copy what it leads to, work here
    /// ([`Directory::look_at`], [`Directory::replace_file_at`], [`Directory::put_staged_at`],
    /// [`Directory::exchange_at`], [`Directory::remove_tree_at`],
    /// [`Directory::copy_followed_file_at`], ...): `knot copy --update`, `--mirror` and
    /// `--outer copy`, `knot snapshot` and `knot materialize` refuse at once where not.
    const UPDATES_COPIES: bool = false;

    /// What the entry `path` itself is, not following it (with its reparse tag, where it
    /// has one): for reads of a path the user named.
    fn lstat(path: &Path) -> io::Result<Meta>;
    /// What `path` leads to, following links.
    fn stat(path: &Path) -> io::Result<Meta>;
    /// What the link `path` stores, read without following it.
    fn read_link(path: &Path) -> io::Result<Stored>;
    /// Every name of the file `path` (absolute), where the file system can say without a
    /// walk; `None`: walk.
    fn hard_link_names(_path: &Path) -> io::Result<Option<Vec<PathBuf>>> {
        Ok(None)
    }
    /// Whether the inode numbers the listings of `dir` carry are the entries' own.
    fn listed_ino_is_st_ino(_dir: &Path) -> bool {
        true
    }
    /// What a failure to follow a link means for its status.
    fn classify_resolve_error(err: &io::Error) -> crate::link::Status;
    /// The status of the link `path`, which the system could not follow for too many links,
    /// found by walking its chain one link at a time; `None` where the platform does not
    /// walk chains (the system's answer then stands).
    fn chain_status(_path: &Path) -> Option<crate::link::Status> {
        None
    }
    /// knot's own word for an OS error that `io::ErrorKind` has none for.
    fn os_error_kind(_err: &io::Error) -> Option<OsError> {
        None
    }
    /// Whether `err` says this user may not do it.
    fn is_access_denied(err: &io::Error) -> bool;
    /// Whether `path` is on another machine, where a junction cannot lead.
    fn is_remote(_path: &Path) -> bool {
        false
    }
    /// `path` as a user would type it.
    fn user_path(path: PathBuf) -> PathBuf {
        path
    }
    /// The text to store for a symlink to `target`.
    fn normalise_symlink_target(target: &Path) -> io::Result<PathBuf> {
        Ok(target.to_path_buf())
    }
    /// Whether the entry `path` itself is a directory in the file system's own records,
    /// where those differ from what `lstat` shows (NTFS: a junction is a directory).
    fn is_directory_entry(_path: &Path) -> bool {
        false
    }
    /// Looks afresh at what is mounted, as a walk starts: a volume mounted while a program
    /// that uses knot runs is known to its next walk.
    fn look_at_mounts() {}
    /// The kernel file system (`proc`, `sysfs`) that holds `dir`, whose links nobody can
    /// remove.
    fn kernel_fs(_dir: &Path) -> Option<&'static str> {
        None
    }
    /// What the special file at `path` is (followed when `follow`); `None` for anything
    /// else.
    fn special(_path: &Path, _follow: bool) -> Option<crate::link::Special> {
        None
    }
    /// Where the directory `dir` really is, for computing the targets knot stores.
    fn real_dir(dir: &Path) -> io::Result<PathBuf>;
    /// Whether two components of absolute paths name the same directory entry.
    fn same_name(a: &std::path::Component<'_>, b: &std::path::Component<'_>) -> bool {
        a == b
    }
    /// How many directories a scan may keep open at once.
    fn max_open_dirs() -> usize;
    /// How many directories `knot apply` may hold open at once.
    fn max_held_dirs() -> usize;
}

/// A directory held open: what the scanner reads and every change acts through.
pub(crate) trait Directory: Sized + std::fmt::Debug + Send + Sync {
    /// Opens the directory `path` names, following links: a root the user named.
    fn open(path: &Path) -> io::Result<Self>;
    /// Opens the subdirectory `name`; without `follow`, a link there is never followed.
    fn open_at(&self, name: &std::ffi::OsStr, follow: bool) -> io::Result<Self>;
    /// Opens `..`.
    fn parent(&self) -> io::Result<Self>;
    /// What the directory itself is.
    fn meta(&self) -> io::Result<Meta>;
    /// What `name` is, following a link there only when asked; not followed, a reparse
    /// point comes with its tag.
    fn stat_at(&self, name: &std::ffi::OsStr, follow: bool) -> io::Result<Meta>;
    /// `name` itself with its sizes, for `du`.
    fn usage_at(&self, name: &std::ffi::OsStr) -> io::Result<Meta>;
    /// What the link `name` stores.
    fn read_link_at(&self, name: &std::ffi::OsStr) -> io::Result<Stored>;
    /// The canonical path of what `name` leads to.
    fn real_path_at(&self, name: &std::ffi::OsStr) -> io::Result<PathBuf>;
    /// Opens the directory `path` names, following links (the user named it), to hold it
    /// and act below it.
    fn hold(path: &Path) -> io::Result<Self>;
    /// [`Directory::hold`] of the subdirectory `name`, never following a link there.
    fn hold_at(&self, name: &std::ffi::OsStr) -> io::Result<Self>;
    /// Makes the directory `name` here, never following or replacing anything.
    fn make_dir_at(&self, name: &std::ffi::OsStr) -> io::Result<()>;
    /// Whether this process may add and remove entries here, as a dry run asks before it
    /// says a change would be made: an error says why not (permission denied, a
    /// read-only file system). Where the platform has no such question that can be asked
    /// without changing anything, `Ok`.
    fn may_change(&self) -> io::Result<()> {
        Ok(())
    }
    /// How links are made in this directory.
    fn place(&self) -> io::Result<Place>;
    /// Where this directory really is, for computing the targets knot stores; `path` is
    /// the path it was opened by.
    fn real_dir(&self, path: &Path) -> io::Result<PathBuf>;
    /// Gives the entry `target_name` of `target_dir` the new name `name` here, never
    /// following a symlink given as the target, never replacing anything.
    fn hard_link_at(
        &self,
        name: &std::ffi::OsStr,
        target_dir: &Self,
        target_name: &std::ffi::OsStr,
    ) -> io::Result<()>;
    /// Removes the link `name` here itself, never what it leads to, and only if it is
    /// still a link; `path` names it in messages.
    fn remove_link_at(&self, name: &std::ffi::OsStr, path: &Path) -> io::Result<()>;
    /// Puts the new link `staged` here in the place of `name`, if that is a link or gone;
    /// a real file there is never replaced. `path` names it in messages.
    fn rename_over_at(
        &self,
        staged: &std::ffi::OsStr,
        name: &std::ffi::OsStr,
        path: &Path,
    ) -> io::Result<()>;
    /// Removes the name `name` here: one this process just made and checked.
    fn remove_name_at(&self, name: &std::ffi::OsStr) -> io::Result<()>;
    /// Copies the regular file `name` here to the new name `to_name` of `to`: its data
    /// (a reflink where the file system shares extents; holes kept), permissions and
    /// times (and its extended attributes, ACLs among them, where `xattrs`), all through
    /// descriptors, never following a link at either name, never replacing anything.
    /// Where the backend copies no data yet, a refusal.
    fn copy_file_at(
        &self,
        _name: &std::ffi::OsStr,
        _to: &Self,
        _to_name: &std::ffi::OsStr,
        _xattrs: bool,
    ) -> io::Result<Copied> {
        Err(error::Error::NoFileCopy.into())
    }
    /// Copies the data of the file `name` here, whose reparse point (`tag`, one of
    /// [`holds_data`]) keeps its data elsewhere, to the new plain file `to_name` of `to`:
    /// the bytes the file system's filter for that tag gives, read through a handle of the
    /// same file, staged and put in place as [`Directory::copy_file_at`] does, never
    /// replacing anything. Where this system cannot read that data, a refusal
    /// ([`error::Error::DataUnreadable`]) that says why and what to do: by default, as
    /// ntfs-3g reads such a file, the one place outside Windows where knot meets reparse
    /// tags.
    fn copy_reparse_data_at(
        &self,
        _name: &std::ffi::OsStr,
        tag: Tag,
        _to: &Self,
        _to_name: &std::ffi::OsStr,
    ) -> io::Result<Copied> {
        Err(unreadable_here(tag).into())
    }
    /// The size of the data [`Directory::copy_reparse_data_at`] would copy, or its refusal
    /// (for `--dry-run`).
    fn reparse_data_size_at(&self, _name: &std::ffi::OsStr, tag: Tag) -> io::Result<u64> {
        Err(unreadable_here(tag).into())
    }
    /// The permissions, owner and times of the entry `name` here, not following a link.
    fn attrs_at(&self, _name: &std::ffi::OsStr) -> io::Result<Attrs> {
        Err(error::Error::NoFileCopy.into())
    }
    /// Gives the link `name` here the owner (where this process may) and times of
    /// `attrs`, the link itself, never what it leads to.
    fn give_link_attrs_at(&self, _name: &std::ffi::OsStr, _attrs: &Attrs) -> io::Result<()> {
        Err(error::Error::NoFileCopy.into())
    }
    /// The extended attributes of the symlink `name` here itself, never what it leads
    /// to, sorted by name (as [`Directory::file_xattrs_at`], to compare two links'). Where
    /// the backend copies none, a refusal.
    fn link_xattrs_at(&self, _name: &std::ffi::OsStr) -> io::Result<Xattrs> {
        Err(error::Error::NoXattrs.into())
    }
    /// Gives the symlink `name` here itself the extended attributes `xattrs`; anything
    /// else there is left as it is ([`error::Error::Replaced`]). Where the backend copies
    /// none, a refusal.
    fn give_link_xattrs_at(&self, _name: &std::ffi::OsStr, _xattrs: &Xattrs) -> io::Result<()> {
        Err(error::Error::NoXattrs.into())
    }
    /// Gives the directory `name` here the permissions, owner (where this process may)
    /// and times `attrs`, never following a link there, where it is still the directory
    /// `id` (a copy's directory, made by [`Directory::make_copy_dir_at`]); another there
    /// is left as it is ([`error::Error::Replaced`]).
    fn give_dir_attrs_at(
        &self,
        _name: &std::ffi::OsStr,
        _attrs: &Attrs,
        _id: (u64, u128),
    ) -> io::Result<()> {
        Err(error::Error::NoFileCopy.into())
    }

    /// Makes `name` here a new empty directory holding the directory reparse point
    /// `buffer` as it is (a junction copied byte for byte, its target there or not), read
    /// back: where knot writes reparse points itself (an NTFS volume through ntfs-3g).
    /// Elsewhere `Unsupported`.
    fn make_reparse_dir_at(&self, _name: &std::ffi::OsStr, _buffer: &[u8]) -> io::Result<()> {
        Err(io::ErrorKind::Unsupported.into())
    }

    /// [`Directory::copy_file_at`] of the file the link `name` here leads to: that one
    /// link followed, as asked (`knot copy --outer copy`), the file then read through the
    /// descriptor so opened. Staged under a hidden name, then put in place: over a file
    /// or link at `to_name` where `over` (as [`Directory::replace_file_at`]), else only
    /// where nothing is.
    fn copy_followed_file_at(
        &self,
        _name: &std::ffi::OsStr,
        _to: &Self,
        _to_name: &std::ffi::OsStr,
        _over: bool,
        _xattrs: bool,
    ) -> io::Result<Copied> {
        Err(error::Error::NoFileCopy.into())
    }

    /// [`Directory::copy_followed_file_at`] to the new name `to_name`, where the file the
    /// link `name` leads to is the file `id` looked at before: checked on the descriptor
    /// the copy reads, so that a file put in its place meanwhile is never copied
    /// ([`error::Error::Replaced`]). `knot materialize`.
    fn copy_followed_file_checked_at(
        &self,
        _name: &std::ffi::OsStr,
        _to: &Self,
        _to_name: &std::ffi::OsStr,
        _id: (u64, u128),
    ) -> io::Result<Copied> {
        Err(error::Error::NoFileCopy.into())
    }

    /// Copies the special file `name` here (not followed) as the new entry `to_name` of
    /// `to`, as `cp -a` does: a FIFO or a device file made anew (a device only where this
    /// process may make one: root), with its permissions, owner (where this process may
    /// give it) and times. What it is, and whether it was made: a socket is not (it
    /// belongs to the program listening on it, and a copy is no socket anyone listens on).
    fn copy_special_at(
        &self,
        _name: &std::ffi::OsStr,
        _to: &Self,
        _to_name: &std::ffi::OsStr,
    ) -> io::Result<(crate::link::Special, bool)> {
        Err(error::Error::NoFileCopy.into())
    }

    /// Makes the directory `name` here for a copy, open to this user alone until
    /// [`Directory::give_dir_attrs_at`] gives it its own permissions, and holds it, never
    /// following a link there: with its identity. Fails where anything is at `name`
    /// already, a directory included.
    fn make_copy_dir_at(&self, _name: &std::ffi::OsStr) -> io::Result<(Self, (u64, u128))> {
        Err(error::Error::NoFileCopy.into())
    }
    /// Swaps the entries `a` and `b` here in one step, whatever each is: `false` where
    /// the file system cannot (FUSE file systems, ntfs-3g among them), and nothing moved.
    fn exchange_at(&self, _a: &std::ffi::OsStr, _b: &std::ffi::OsStr) -> io::Result<bool> {
        Err(error::Error::NoFileCopy.into())
    }
    /// Renames `from` here to `to` here, replacing what is at `to`: only where
    /// [`Directory::exchange_at`] cannot swap, right after checking what is at `to`.
    fn rename_at(&self, _from: &std::ffi::OsStr, _to: &std::ffi::OsStr) -> io::Result<()> {
        Err(error::Error::NoFileCopy.into())
    }
    /// Gives the entry `name` here, whatever it is (a directory with everything in it),
    /// the new name `to_name` in `to`, in one step, never following a link at either name
    /// and never replacing what is at `to_name`: [`io::ErrorKind::AlreadyExists`] there,
    /// [`io::ErrorKind::CrossesDevices`] where `to` is on another file system (nothing
    /// moved either way).
    fn move_to_at(
        &self,
        _name: &std::ffi::OsStr,
        _to: &Self,
        _to_name: &std::ffi::OsStr,
    ) -> io::Result<()> {
        Err(error::Error::NoFileCopy.into())
    }
    /// Removes the empty directory `name` here, never following a link there: one this
    /// process made.
    fn remove_dir_at(&self, _name: &std::ffi::OsStr) -> io::Result<()> {
        Err(error::Error::NoFileCopy.into())
    }
    /// Holds the directory `name` here, never following a link there, where it is empty,
    /// as seen through the descriptor held: `None` where it is not.
    fn hold_empty_dir_at(&self, _name: &std::ffi::OsStr) -> io::Result<Option<Self>> {
        Err(error::Error::NoFileCopy.into())
    }
    /// Copies the regular file `name` here as [`Directory::copy_file_at`] does, but puts
    /// the copy in place of `to_name` of `to` in one rename, over a file or link there
    /// (never a directory); staged under a fresh hidden name until then.
    fn replace_file_at(
        &self,
        _name: &std::ffi::OsStr,
        _to: &Self,
        _to_name: &std::ffi::OsStr,
        _xattrs: bool,
    ) -> io::Result<Copied> {
        Err(error::Error::NoFileCopy.into())
    }
    /// The extended attributes (ACLs among them) of the directory `name` here, opened
    /// without following a link. Where the backend copies none, a refusal.
    fn xattrs_at(&self, _name: &std::ffi::OsStr) -> io::Result<Xattrs> {
        Err(error::Error::NoXattrs.into())
    }
    /// The extended attributes of the regular file `name` here, opened without following
    /// a link (but the one `name` is, where `follow`), sorted by name (to compare two
    /// files' under `--update`). Where the backend copies none, a refusal.
    fn file_xattrs_at(&self, _name: &std::ffi::OsStr, _follow: bool) -> io::Result<Xattrs> {
        Err(error::Error::NoXattrs.into())
    }
    /// Gives the directory `name` here the extended attributes `xattrs`, never following
    /// a link there, where it is still the directory `id` (as
    /// [`Directory::give_dir_attrs_at`]).
    fn give_xattrs_at(
        &self,
        _name: &std::ffi::OsStr,
        _xattrs: &Xattrs,
        _id: (u64, u128),
    ) -> io::Result<()> {
        Err(error::Error::NoXattrs.into())
    }
    /// Renames the entry `staged` here, made by this process under a hidden name, to
    /// `name`: over a file or link there if `over` (never a directory), else only where
    /// nothing is.
    fn put_staged_at(
        &self,
        _staged: &std::ffi::OsStr,
        _name: &std::ffi::OsStr,
        _over: bool,
    ) -> io::Result<()> {
        Err(error::Error::NoFileCopy.into())
    }
    /// What the entry `name` here is, not following a link, with its permissions and
    /// times.
    fn look_at(&self, _name: &std::ffi::OsStr) -> io::Result<(Meta, Attrs)> {
        Err(error::Error::NoFileCopy.into())
    }
    /// What the entry `name` here leads to, following a link there (an outer link under
    /// `--outer copy`), with its permissions and times.
    fn look_through(&self, _name: &std::ffi::OsStr) -> io::Result<(Meta, Attrs)> {
        Err(error::Error::NoFileCopy.into())
    }
    /// Whether the regular file `name` here (the file it leads to where `follow`: an outer
    /// link under `--outer copy`) holds the same bytes as `other_name` of `other`, read
    /// through descriptors, never following a link in `other`.
    fn same_data_at(
        &self,
        _name: &std::ffi::OsStr,
        _follow: bool,
        _other: &Self,
        _other_name: &std::ffi::OsStr,
    ) -> io::Result<bool> {
        Err(error::Error::NoFileCopy.into())
    }
    /// The first bytes, at most `limit`, of the regular file `name` here, read through a
    /// handle opened without following a link there, and what that handle is: a link or
    /// anything but a regular file is refused ([`error::Error::NotARegularFile`]).
    fn read_file_at(&self, _name: &std::ffi::OsStr, _limit: usize) -> io::Result<(Meta, Vec<u8>)> {
        Err(error::Error::NoFileCopy.into())
    }
    /// Puts the link `staged` here (made by this process under a hidden name) in the place
    /// of the regular file `name` (a placeholder Git checked out for a symlink), while that
    /// is still the file `file` holding exactly `data`; anything else there (a link, an
    /// edited file, a file that cannot be read) is left as it is ([`error::Error::Replaced`]
    /// or the error reading it), and `staged` stays for the caller to take back. The file
    /// is set aside, judged there, and the link put at the name without overwriting
    /// anything, as [`Directory::replace_system_file_at`] does. `path` names it in
    /// messages. Where the backend has no such replacement, a refusal.
    fn put_link_over_file_at(
        &self,
        _staged: &std::ffi::OsStr,
        _name: &std::ffi::OsStr,
        _path: &Path,
        _file: (u64, u128),
        _data: &[u8],
    ) -> io::Result<()> {
        Err(error::Error::NoFileCopy.into())
    }
    /// Removes the directory `name` here with everything in it, never following a link
    /// (a link inside is removed as a link) and never entering a mount point: how many
    /// entries were removed, the directory included.
    fn remove_tree_at(&self, _name: &std::ffi::OsStr) -> io::Result<u64> {
        Err(error::Error::NoFileCopy.into())
    }
    /// The names of the entries here, but `.` and `..`.
    fn names(&self) -> io::Result<Vec<std::ffi::OsString>> {
        Err(error::Error::NoFileCopy.into())
    }
    /// The regular file `name` here, read as a link in Cygwin's and MSYS2's form might be
    /// (`knot convert --to-native`): its DOS attributes and, where they have the system
    /// attribute ([`ATTRIBUTE_SYSTEM`]: no other file is one, and a walk reads no other
    /// file's data), its first `limit` bytes, both through one descriptor (handle) of the
    /// file, opened without following a link. Only
    /// on NTFS, which keeps DOS attributes (Windows; ntfs-3g's `system.ntfs_attrib`);
    /// elsewhere a refusal that says so ([`error::Error::NotNtfs`]).
    fn system_file_at(&self, _name: &std::ffi::OsStr, _limit: usize) -> io::Result<SystemFile> {
        Err(error::Error::NotNtfs.into())
    }
    /// Puts the new link `staged`, made here under a hidden name and read back, in the
    /// place of the file `name`, only while that is still a regular file with the DOS
    /// system attribute that holds exactly `bytes` (the Cygwin link that was read): set
    /// aside, checked there, the link put in its place without overwriting anything, and
    /// only then the file removed; anything else found there is put back and left alone
    /// ([`error::Error::Replaced`]). `path` names it in messages.
    fn replace_system_file_at(
        &self,
        _staged: &std::ffi::OsStr,
        _name: &std::ffi::OsStr,
        _path: &Path,
        _bytes: &[u8],
    ) -> io::Result<()> {
        Err(error::Error::NotNtfs.into())
    }
    /// Which mount this directory is on, beyond its device: Linux's mount id (`statx`
    /// `STATX_MNT_ID`), which tells a bind mount of the same file system apart too;
    /// `None` where the system does not say.
    fn mount_id(&self) -> io::Result<Option<u64>> {
        Ok(None)
    }
    /// The directory's identity (device, inode) and its mount id
    /// ([`Directory::mount_id`]), asked at once where the system can (`statx`).
    fn identity(&self) -> io::Result<((u64, u128), Option<u64>)> {
        Ok((self.meta()?.id, self.mount_id()?))
    }
    /// Removes the file (or special file) `name` here, never following a link: a tree
    /// being removed deletes it. On Windows a read-only file has that attribute cleared
    /// first, through the handle that deletes it, and on no other file.
    fn remove_file_at(&self, name: &std::ffi::OsStr) -> io::Result<()> {
        self.remove_name_at(name)
    }
    /// Removes the link `name` here as a link, never what it leads to: a tree being
    /// removed deletes it, as it deletes whatever else is there, so what takes the link's
    /// place meanwhile may go too, but never a directory, nor anything through one.
    fn remove_tree_link_at(&self, name: &std::ffi::OsStr, path: &Path) -> io::Result<()> {
        self.remove_link_at(name, path)
    }
}

/// A regular file read by [`Directory::system_file_at`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SystemFile {
    /// Its DOS attributes (`FILE_ATTRIBUTE_*`).
    pub(crate) attributes: u32,
    /// Its first bytes, as many as were asked for; none without the system attribute.
    pub(crate) bytes: Vec<u8>,
    /// Whether it holds more than that.
    pub(crate) more: bool,
}

/// FILE_ATTRIBUTE_SYSTEM, which Cygwin gives its `!<symlink>` files.
pub(crate) const ATTRIBUTE_SYSTEM: u32 = 0x4;

/// What [`Directory::copy_file_at`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Copied {
    /// The file's size.
    pub(crate) bytes: u64,
    /// How its data was copied.
    pub(crate) data: FileData,
}

/// How a file's data was copied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FileData {
    /// A reflink: the copy shares the original's extents until either is written.
    #[cfg_attr(
        not(any(target_os = "linux", target_os = "android", windows)),
        allow(dead_code, reason = "only Linux and Windows clone here")
    )]
    Cloned,
    /// Byte by byte (in the kernel where it can); `sparse`: only the data segments, the
    /// holes left as holes.
    #[cfg_attr(
        not(any(unix, windows)),
        allow(dead_code, reason = "only Unix and Windows copy data")
    )]
    Copied { sparse: bool },
}

/// The permissions, owner and times of an entry, to give its copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(
    not(unix),
    allow(
        dead_code,
        reason = "Windows gives no owner; elsewhere nothing is copied"
    )
)]
pub(crate) struct Attrs {
    /// The permission bits (`st_mode & 0o7777`); on Windows, the file attributes a copy
    /// is given (read-only, hidden, system, archive, not indexed: `windows/copy.rs`).
    pub(crate) mode: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    /// Seconds and nanoseconds.
    pub(crate) atime: (i64, u32),
    pub(crate) mtime: (i64, u32),
    /// The change time (`st_ctime`; `ChangeTime` on Windows), which no writer can set
    /// back: read, never given to a copy.
    pub(crate) ctime: (i64, u32),
}

/// Reads directories, with one reusable buffer per thread.
pub(crate) trait Reader: std::fmt::Debug {
    /// The directories it reads.
    type Dir;
    fn new() -> Self;
    /// Calls `each` with the name, type (`None` where the listing does not say) and inode
    /// number of every entry but `.` and `..`; `each` may stop the read early.
    fn read(
        &mut self,
        dir: &Self::Dir,
        each: impl FnMut(&std::ffi::OsStr, Option<FileType>, Option<u64>) -> std::ops::ControlFlow<()>,
    ) -> io::Result<()>;
}

/// How a backend finds every name of a file without a walk ([`Backend::hard_link_names`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NamesFrom {
    /// It cannot: the caller walks.
    Nowhere,
    /// Windows' `FindFirstFileNameW` / `FindNextFileNameW`.
    #[cfg_attr(
        not(windows),
        allow(dead_code, reason = "only Windows names a file's names")
    )]
    FileNames,
    /// btrfs' `BTRFS_IOC_INO_PATHS`.
    #[cfg_attr(not(unix), allow(dead_code, reason = "only Unix has btrfs"))]
    BtrfsInoPaths,
}

/// An OS error that `io::ErrorKind` has no word for ([`Backend::os_error_kind`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OsError {
    /// Creating a symbolic link needs a privilege this process does not hold (Windows).
    #[cfg_attr(
        not(windows),
        allow(dead_code, reason = "only Windows has the privilege")
    )]
    PrivilegeNeeded,
    /// A hard link across volumes (Windows' ERROR_NOT_SAME_DEVICE).
    #[cfg_attr(
        not(windows),
        allow(dead_code, reason = "Unix says EXDEV, which io has")
    )]
    CrossDevice,
    /// As many files open as the process or the system may have.
    TooManyOpenFiles,
    /// Windows' SymlinkEvaluation policy does not let a symlink of this class (remote to
    /// remote, remote to local, ...) be followed here (ERROR_SYMLINK_CLASS_DISABLED).
    #[cfg_attr(
        not(windows),
        allow(dead_code, reason = "only Windows has the SymlinkEvaluation policy")
    )]
    SymlinkEvaluation,
    /// The entry is no reparse point (Windows' ERROR_NOT_A_REPARSE_POINT, 4390): what a
    /// read of a link says where the link was replaced by a plain entry meanwhile.
    #[cfg_attr(
        not(windows),
        allow(dead_code, reason = "Unix says EINVAL, which io reads as InvalidInput")
    )]
    NotAReparsePoint,
}

/// This platform's backend.
/// Extended attributes of a file or directory: each name with its value.
pub(crate) type Xattrs = Vec<(std::ffi::OsString, Vec<u8>)>;

pub(crate) use imp::Os;
/// This platform's open directory.
pub(crate) type Dir = <Os as Backend>::Dir;
/// This platform's directory reader.
pub(crate) type DirReader = <Os as Backend>::DirReader;

// The backend for other platforms, compiled and held to the contract in every test build
// too, so it cannot fall behind unseen.
#[cfg(test)]
const _: fn() = || {
    fn holds<B: Backend>() {}
    holds::<unsupported::Os>();
};

/// What `knot junction` can do where a link is to be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Junctions {
    /// Real junctions (Windows; NTFS through ntfs-3g).
    #[cfg_attr(
        all(unix, not(target_os = "linux")),
        allow(dead_code, reason = "only Linux has ntfs-3g volumes")
    )]
    Native,
    /// No junctions: an absolute directory symlink stands in, with a note.
    #[cfg_attr(windows, allow(dead_code, reason = "Windows always has junctions"))]
    Emulated,
    /// None, and a symlink would mislead (an NTFS volume that Windows will read, mounted
    /// with a driver that cannot write junctions): the reason and the fix.
    Refused(String),
}

/// An entry named through a directory held open: the directory and one name in it, with
/// the path the user knows the entry by, which is for messages only and never looked up.
#[derive(Clone, Copy, Debug)]
pub(crate) struct At<'a> {
    pub(crate) dir: &'a Dir,
    pub(crate) name: &'a std::ffi::OsStr,
    pub(crate) path: &'a Path,
}

impl<'a> At<'a> {
    pub(crate) fn new(dir: &'a Dir, name: &'a std::ffi::OsStr, path: &'a Path) -> At<'a> {
        At { dir, name, path }
    }

    /// What the entry is, not following it (with its reparse tag, where it has one).
    pub(crate) fn lstat(&self) -> std::io::Result<Meta> {
        self.dir.stat_at(self.name, false)
    }

    /// What the entry leads to, following it.
    pub(crate) fn stat(&self) -> std::io::Result<Meta> {
        self.dir.stat_at(self.name, true)
    }

    /// What the link stores.
    pub(crate) fn read_link(&self) -> std::io::Result<Stored> {
        self.dir.read_link_at(self.name)
    }
}

/// One link to make.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Request<'a> {
    /// Where to make it.
    pub(crate) at: At<'a>,
    /// The target to store, as knot planned it: as given for a symlink, or an absolute path.
    pub(crate) target: &'a Path,
    /// The target as the user gave it.
    #[cfg_attr(
        not(target_os = "linux"),
        allow(
            dead_code,
            reason = "only ntfs-3g, on Linux, writes a target from what the user gave"
        )
    )]
    pub(crate) given: &'a Path,
    #[cfg_attr(
        all(unix, not(target_os = "linux")),
        allow(
            dead_code,
            reason = "a Unix symlink has no flavour; only Linux has ntfs-3g"
        )
    )]
    pub(crate) flavour: Flavour,
    /// The drive letter for absolute targets written onto NTFS from another system.
    #[cfg_attr(
        any(windows, all(unix, not(target_os = "linux"))),
        allow(
            dead_code,
            reason = "Windows paths have their own drive; only Linux has ntfs-3g"
        )
    )]
    pub(crate) drive: Option<char>,
}

/// The reparse buffer a create wrote, so the read-back can compare it byte for byte;
/// `None` where the link is not a reparse point (its target text is compared instead).
pub(crate) type Written = Option<Vec<u8>>;

/// How links are made at one place. Each backend decides it once, in its `place`, from
/// the directory that will hold the link (an ordinary Unix file system; an NTFS volume
/// through ntfs-3g, where knot writes the reparse points itself; one through the kernel's
/// ntfs3 driver; a Windows volume), so the rest of a create never asks which it is.
pub(crate) trait Strategy: std::fmt::Debug {
    /// What `knot junction` can do here.
    fn junctions(&self) -> Junctions;
    /// Whether a symlink must be a file or a directory symlink (Windows reads the flavour).
    fn flavour_matters(&self) -> bool;
    /// Makes the symlink `request` asks for.
    fn symlink(&self, request: &Request<'_>) -> std::io::Result<Written>;
    /// Makes the junction `request` asks for, where [`Strategy::junctions`] says
    /// [`Junctions::Native`]; elsewhere the caller makes a symlink instead or refuses.
    fn junction(&self, request: &Request<'_>) -> std::io::Result<Written>;
    /// The reparse buffer that [`Strategy::symlink`] (`junction: false`) or
    /// [`Strategy::junction`] would write for `request`, encoded and checked but written
    /// nowhere; `None` where the system builds the link itself (a Unix symlink; a Windows
    /// symlink, whose buffer `CreateSymbolicLinkW` fills in).
    fn encode(&self, _request: &Request<'_>, _junction: bool) -> std::io::Result<Written> {
        Ok(None)
    }
    /// Replaces the reparse point of the existing link at `link` by `buffer` in place, on
    /// the same file, and reads it back; the old buffer is put back if the read-back fails.
    /// Only where [`Strategy::encode`] gives a buffer; elsewhere `Unsupported`, and the
    /// caller replaces the link by a new one instead.
    fn rewrite(&self, _link: At<'_>, _buffer: &[u8]) -> std::io::Result<()> {
        Err(std::io::ErrorKind::Unsupported.into())
    }
    /// For a target in its Windows form (`..\a`, `C:\a`: what a link on NTFS stores), given
    /// to a link here where links are NT links that Linux reads (an NTFS volume mounted
    /// with ntfs-3g): the Linux path it names, and the drive letter to write for a
    /// junction. `None` elsewhere, where a target is a path of this system.
    fn linux_path_of(&self, _target: &Path) -> Option<(PathBuf, Option<char>)> {
        None
    }
}

/// Where a link is to be made, with the [`Strategy`] that makes links there.
///
/// Cheap to clone and shared between threads, so that work over many links in one
/// directory (`knot apply`) decides it once per directory.
#[derive(Clone, Debug)]
pub(crate) struct Place(std::sync::Arc<dyn Strategy + Send + Sync>);

impl Place {
    pub(crate) fn new(strategy: impl Strategy + Send + Sync + 'static) -> Place {
        Place(std::sync::Arc::new(strategy))
    }

    /// See [`Strategy::junctions`].
    pub(crate) fn junctions(&self) -> Junctions {
        self.0.junctions()
    }

    /// See [`Strategy::flavour_matters`].
    pub(crate) fn flavour_matters(&self) -> bool {
        self.0.flavour_matters()
    }

    /// See [`Strategy::encode`].
    pub(crate) fn encode(&self, request: &Request<'_>, junction: bool) -> std::io::Result<Written> {
        self.0.encode(request, junction)
    }

    /// See [`Strategy::rewrite`].
    pub(crate) fn rewrite(&self, link: At<'_>, buffer: &[u8]) -> std::io::Result<()> {
        self.0.rewrite(link, buffer)
    }

    /// See [`Strategy::linux_path_of`].
    pub(crate) fn linux_path_of(&self, target: &Path) -> Option<(PathBuf, Option<char>)> {
        self.0.linux_path_of(target)
    }
}

/// Makes a symlink at `place` the way links are made there.
pub(crate) fn symlink(place: &Place, request: &Request<'_>) -> std::io::Result<Written> {
    place.0.symlink(request)
}

/// Makes a junction at `place` the way links are made there.
pub(crate) fn junction(place: &Place, request: &Request<'_>) -> std::io::Result<Written> {
    place.0.junction(request)
}
/// The type of a directory entry, without following it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FileType {
    /// A link that [`Backend::read_link`] reads: a symlink, a junction, or another link-like
    /// reparse point.
    Link,
    Dir,
    File,
    /// A FIFO, socket or device file.
    #[cfg_attr(
        windows,
        allow(
            dead_code,
            reason = "Windows has no such files; an AF_UNIX socket is a reparse point"
        )
    )]
    Other,
}

/// What knot needs from a stat call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Meta {
    pub(crate) ty: FileType,
    pub(crate) nlink: u64,
    /// (device, inode) on Unix; (volume serial, file id) on Windows, where ReFS file ids
    /// are 128 bits wide (`FILE_ID_INFO`), so the second half is a `u128` everywhere.
    pub(crate) id: (u64, u128),
    /// The reparse tag, where the entry is a reparse point (Windows, NTFS through ntfs-3g).
    pub(crate) tag: Option<u32>,
    /// The apparent size in bytes: `st_size` on Unix (for a directory, what the file
    /// system says; for a symlink, the length of its target), the file size on Windows.
    pub(crate) size: u64,
    /// The bytes allocated to it: `st_blocks` * 512 on Unix; `None` where the call that
    /// made this `Meta` does not say (Windows: see `Dir::allocated_at`).
    pub(crate) allocated: Option<u64>,
}

impl Meta {
    /// Whether the entry is a link that knot may remove or replace: a symlink, a junction,
    /// or another reparse point that stands for another name (the name-surrogate bit,
    /// MS-FSCC 2.1.2.1). A WOF-compressed, deduplicated or cloud file holds its data behind
    /// its reparse point: it is no link, though Windows and ntfs-3g list it among them.
    pub(crate) fn is_link(&self) -> bool {
        self.ty == FileType::Link && self.data_tag().is_none()
    }

    /// The tag of a reparse point that holds data (no name-surrogate bit: a WOF-compressed,
    /// deduplicated or cloud file or directory), which Windows and ntfs-3g list among
    /// links though it is none; `None` for anything else.
    pub(crate) fn data_tag(&self) -> Option<knot_reparse::Tag> {
        let tag = knot_reparse::Tag(self.tag?);
        (self.ty == FileType::Link && !tag.is_name_surrogate()).then_some(tag)
    }
}

/// What a link stores, read without following it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Stored {
    /// The target as the platform presents it: the text of a Unix symlink; for a reparse
    /// point, its target as a path (the print name, or the substitute name without `\??\`).
    pub(crate) target: PathBuf,
    /// What kind of link it is.
    pub(crate) kind: Kind,
    /// Whether the target is relative to the link's directory.
    pub(crate) relative: bool,
    /// Whether the link itself is a directory (a Windows directory symlink or junction);
    /// `None` where links have no flavour.
    pub(crate) dir: Option<bool>,
    /// The reparse tag, names and raw buffer, for reparse points.
    pub(crate) reparse: Option<ReparseData>,
    /// Where the system follows the link, when that differs from `target`: ntfs-3g shows a
    /// junction to `C:\x` as a symlink to `<mount point>/x`. Where the link is not
    /// followed ([`Judge::Path`]), the path knot looks at instead.
    pub(crate) leads_to: Option<PathBuf>,
    /// How knot tells where the link leads.
    pub(crate) judge: Judge,
}

/// How knot tells where a link leads. Following the link, as the system does, is the rule;
/// an NTFS volume read through ntfs-3g has the two exceptions, where the system's view
/// of the link is not where Windows would go (`sys/unix/ntfs3g.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Judge {
    /// By following the link itself.
    Follow,
    /// By looking at the path `leads_to` (from the link's directory, where it is
    /// relative), not through the link: the system cannot follow the link where Windows
    /// would. ntfs-3g shows a link whose target it could not translate as a symlink to
    /// a placeholder text, which is no path.
    #[cfg_attr(
        not(target_os = "linux"),
        allow(dead_code, reason = "only Linux has ntfs-3g")
    )]
    Path,
    /// Not at all: the target is on another Windows drive or volume, which this system
    /// does not reach ([`Status::Elsewhere`]).
    #[cfg_attr(
        not(target_os = "linux"),
        allow(dead_code, reason = "only Linux has ntfs-3g")
    )]
    Elsewhere,
}

/// Where a link leads, as [`Stored::fill`] hands it over to be judged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Leads {
    /// The target as the system reads it, relative to the link's directory or absolute.
    pub(crate) path: PathBuf,
    /// Whether following the link gets there; where not ([`Judge::Path`]), `path` is
    /// looked at instead.
    pub(crate) followed: bool,
}

impl Leads {
    /// The path to stat to judge the link at `link`: the link itself where the system
    /// follows it, else the path it leads to, from the link's directory.
    pub(crate) fn judged_at(&self, link: &Path) -> PathBuf {
        if self.followed {
            link.to_path_buf()
        } else {
            crate::path::resolve_against_link(link, &self.path)
        }
    }
}

impl Stored {
    /// Fills in `link`'s record from what it stores, and returns where it leads, for the
    /// caller to judge. An AppExecLink names a program, and a reparse point that is not a
    /// link (a WOF-compressed or cloud file) leads nowhere: those get no status. A link
    /// to another drive ([`Judge::Elsewhere`]) is judged here, `elsewhere`, and leads
    /// nowhere the caller could look.
    pub(crate) fn fill(self, link: &mut Link) -> Option<Leads> {
        link.kind = self.kind;
        if self.dir.is_some() {
            link.dir = self.dir.map(Flavour::of);
        }
        if let Some(reparse) = self.reparse {
            link.tag = Some(Tag(reparse.tag));
            link.substitute_name = reparse.substitute_name;
            link.print_name = reparse.print_name;
            link.reparse_data = Some(reparse.raw);
        }
        match link.kind {
            Kind::Symlink
            | Kind::Junction
            | Kind::MountPoint
            | Kind::Reparse(ReparseTag(Tag::LX_SYMLINK)) => {
                link.relative = Some(self.relative);
                let leads_to = self.leads_to.unwrap_or_else(|| self.target.clone());
                link.target = Some(self.target);
                match self.judge {
                    Judge::Elsewhere => {
                        link.status = Some(Status::Elsewhere);
                        None
                    }
                    judge => Some(Leads {
                        path: leads_to,
                        followed: judge == Judge::Follow,
                    }),
                }
            }
            Kind::Reparse(ReparseTag(Tag::APPEXECLINK)) => {
                link.target = Some(self.target);
                None
            }
            _ => None,
        }
    }
}

/// A reparse point as read from the file system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ReparseData {
    pub(crate) tag: u32,
    pub(crate) substitute_name: Option<OsString>,
    pub(crate) print_name: Option<OsString>,
    /// The raw REPARSE_DATA_BUFFER bytes.
    pub(crate) raw: Vec<u8>,
}

/// Fills in `link`'s record from a reparse buffer knot would write (a dry run's preview):
/// kind, names, tag, target, as a read of the link would give them.
pub(crate) fn fill_reparse(link: &mut Link, raw: Vec<u8>) {
    let _ = reparse::record(raw, link.dir.map(Flavour::is_dir), None).fill(link);
}

// knot's kind for a reparse point, for the backends.
pub(crate) use crate::link::kind_of;

/// What a file with the reparse tag `tag` is, where its reparse point keeps its data
/// elsewhere and the file system gives that data to a reader (through the filter that
/// serves the tag on Windows): a WOF-compressed file (`compact.exe`, WIMBoot), a
/// deduplicated one, a cloud file (any `CLOUD_*` tag, OneDrive's). `None` for every other
/// tag: a link, or a reparse point knot does not know how to copy.
pub(crate) fn holds_data(tag: Tag) -> Option<&'static str> {
    match tag {
        Tag::WOF => Some("a WOF-compressed file"),
        Tag::DEDUP => Some("a deduplicated file"),
        Tag::ONEDRIVE => Some("a cloud file"),
        tag if tag.is_cloud() => Some("a cloud file"),
        _ => None,
    }
}

/// Why the data of a file with the data-bearing reparse tag `tag` cannot be read where
/// reparse points are read through ntfs-3g: it has no plugin for the tag (with one, such
/// as ntfs-3g-system-compression for WOF, the file is a plain file to it, and the walk
/// copies it as one), so the file is a link to `unsupported reparse tag …` to it.
fn unreadable_here(tag: Tag) -> error::Error {
    let kind = Kind::of_tag(tag);
    let what = holds_data(tag).unwrap_or("a reparse point");
    let named = format!("{what} ({}, {tag:#010x})", kind.name());
    let why = match tag {
        Tag::WOF => format!(
            "it is {named}, and ntfs-3g reads WOF-compressed data only with the \
             system-compression plugin: install ntfs-3g-system-compression and mount the \
             volume again, or copy it on Windows"
        ),
        Tag::DEDUP => format!(
            "it is {named}, whose data is in the volume's deduplication chunk store, which \
             ntfs-3g cannot read: copy it on Windows"
        ),
        _ => format!(
            "it is {named}, whose data ntfs-3g cannot read (it may be only in the cloud): \
             make it available offline and copy it on Windows"
        ),
    };
    error::Error::DataUnreadable { why }
}
