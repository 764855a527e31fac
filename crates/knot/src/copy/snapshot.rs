//! `knot snapshot`: a copy of a tree whose files unchanged since a previous copy are hard
//! links to that copy's files, as `rsync -aH --link-dest` makes them.
//!
//! The copy is [`copy`](super::copy)'s, with one step more for a file (each hard-link
//! group's first name): its entry in the previous copy, at the same path, is looked at
//! through that copy's directories, held (each opened from the one above without following
//! a link), and where it is unchanged the file in the new copy is made a hard link to it.
//! The previous copy is only read and linked to, never written.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{
    Action, CopyOptions, Copying, Counts, Item, Summary, at_link_limit, join_below, unchanged,
};
use crate::apply::{ApplyOptions, Pinned, Work, split};
use crate::error::{Error, ErrorKind, Op, Result, quote_lossy};
use crate::link::{Flavour, Kind};
use crate::scan::walk::DirEntry;
use crate::sys::{self, FileType};
use crate::sys::{Backend as _, Directory as _};

/// Copies the directory `source` to `copy` as [`copy`](super::copy) does, but makes each
/// file that is unchanged since `previous` (an earlier copy of `source`) a hard link to
/// the file at the same path there, and calls `report` with every entry's [`Item`] or
/// error. Returns the counts.
///
/// A file is unchanged when the entry at its path in `previous` is a file of the same
/// size and modification time (to the nanosecond), with the same permissions and owner
/// (which a hard link shares). Such a file is reported [`Action::Linked`], its
/// `new_target` the file in `previous`, and counted in [`Summary::unchanged`]; where that
/// file has as many names as its file system allows, it is copied instead and reported
/// [`Action::AtLinkLimit`]. Every other entry is copied as [`copy`](super::copy) copies it.
///
/// `previous` is read only through its directories held open, each opened from the one
/// above without following a link (a link in its place is read as a change), and never
/// written.
///
/// # Errors
/// As [`copy`](super::copy), and, before anything is made, where `copy` is a directory
/// with entries ([`ErrorKind::SnapshotNotNew`], naming `previous` where it is that), where
/// `previous` is not a directory that can be read ([`ErrorKind::SourceNotADirectory`]),
/// is `source` itself ([`ErrorKind::PreviousIsSource`]), holds `copy`
/// ([`ErrorKind::InsidePrevious`]), or is on another file system than `copy`
/// ([`ErrorKind::Unsupported`]: no file could be linked to it).
///
/// A file of `previous` the system refuses a hard link to (`EPERM` under
/// `fs.protected_hardlinks`, a file of another user; `EXDEV`, a file system mounted
/// inside `previous`) is copied instead, reported [`Action::LinkRefused`] and counted in
/// [`Summary::refused`].
///
/// # Platform behavior
/// Unix: as [`copy`](super::copy). Windows: not available yet: refused before anything is
/// made ([`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported)).
pub fn snapshot<S, D, P, F>(
    source: S,
    copy: D,
    previous: P,
    options: &CopyOptions,
    report: F,
) -> Result<Summary>
where
    S: AsRef<Path>,
    D: AsRef<Path>,
    P: AsRef<Path>,
    F: Fn(Result<Item>) + Sync,
{
    let previous = Some(previous.as_ref());
    super::copy_inner(source.as_ref(), copy.as_ref(), previous, options, &report)
}

/// What [`Previous::hold`] checks the previous snapshot against: the copy (as named,
/// its real path, its file system's device) and the source's identity.
pub(super) struct Ends<'a> {
    pub(super) copy: &'a Path,
    pub(super) copy_real: &'a Path,
    pub(super) copy_dev: u64,
    pub(super) source_id: (u64, u128),
}

/// The previous snapshot: its path as given, and its directories, held (never made).
pub(super) struct Previous {
    path: PathBuf,
    work: Work,
}

impl Previous {
    /// `previous`, held (the user named it: followed), checked to be a directory other
    /// than the source, and one that the copy is not, nor inside, and that is on the
    /// copy's file system: a snapshot's point is sharing the unchanged files with the
    /// previous one, and no file can be linked across file systems. Refused there, where
    /// `rsync --link-dest` copies every file without a word.
    pub(super) fn hold(previous: &Path, ends: &Ends<'_>) -> Result<Previous> {
        let fail = |e| Error::io(Op::Copy, previous, e);
        let meta = sys::Os::stat(previous).map_err(fail)?;
        if meta.ty != FileType::Dir {
            return Err(Error::new(
                Op::Copy,
                previous,
                ErrorKind::SourceNotADirectory,
            ));
        }
        let dir = sys::Dir::hold(previous).map_err(fail)?;
        let held = dir.meta().map_err(fail)?;
        let refuse = |kind| Err(Error::new(Op::Copy, ends.copy, kind));
        if held.id == ends.source_id {
            let previous = previous.to_path_buf();
            return refuse(ErrorKind::PreviousIsSource { previous });
        }
        let real = dir.real_dir(previous).map_err(fail)?;
        if ends.copy_real == real {
            let previous = Some(previous.to_path_buf());
            return refuse(ErrorKind::SnapshotNotNew { previous });
        }
        if ends.copy_real.starts_with(&real) {
            let previous = previous.to_path_buf();
            return refuse(ErrorKind::InsidePrevious { previous });
        }
        if held.id.0 != ends.copy_dev {
            let why = format!(
                "it is on another file system than the previous snapshot {}, so no file \
                 could be linked to it; make the snapshot on the file system of {}, or a \
                 full copy with knot copy",
                quote_lossy(previous),
                quote_lossy(previous)
            );
            return refuse(ErrorKind::Unsupported { why });
        }
        let work = Work::with_root(previous, dir, ApplyOptions::default(), Op::Copy);
        Ok(Previous {
            path: previous.to_path_buf(),
            work,
        })
    }

    /// The directory that holds the file `below` in the previous snapshot, held, and that
    /// file's identity, where it is unchanged against the source's file `name` in `dir`;
    /// `None` where it is missing, changed, or cannot be read (the file is then copied).
    fn unchanged_file(
        &self,
        dir: &sys::Dir,
        name: &OsStr,
        below: &Path,
        copy: &Path,
    ) -> Option<(Arc<Pinned>, (u64, u128))> {
        let new = dir.look_at(name).ok()?;
        let pinned = self.work.pin(split(below).0, false, copy).ok()??;
        let old = pinned.dir.look_at(name).ok()?;
        // The rule `--update` goes by, and more: a hard link shares the file's permissions
        // and owner, so they must be the same too.
        let same_owner = (new.1.mode, new.1.uid, new.1.gid) == (old.1.mode, old.1.uid, old.1.gid);
        (unchanged(&new, &old) && same_owner).then_some((pinned, old.0.id))
    }
}

/// Whether `err`, from the hard link to a previous snapshot's file, is the system's
/// refusal of that one link, so that the file is copied instead: `EPERM`
/// (`fs.protected_hardlinks`, and a file the user neither owns nor may read and write) or
/// `EXDEV` (a mount inside the previous snapshot).
fn link_refused(err: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        use rustix::io::Errno;
        let raw = err.raw_os_error();
        raw == Some(Errno::PERM.raw_os_error()) || raw == Some(Errno::XDEV.raw_os_error())
    }
    #[cfg(not(unix))]
    {
        let _ = err;
        false
    }
}

impl Copying {
    /// The file `below` made a hard link to its unchanged file in the previous snapshot,
    /// or copied.
    pub(super) fn link_or_copy(
        &self,
        previous: &Previous,
        entry: &DirEntry<'_>,
        below: &Path,
    ) -> Result<Item> {
        let copy = self.copy_path(below);
        let (dir, name) = entry.dir_and_name();
        let Some((old_dir, old_id)) = previous.unchanged_file(dir, name, below, &copy) else {
            return self.copy_data(entry, below);
        };
        let old_path = join_below(&previous.path, below);
        match self.hard_link(below, &copy, &old_dir.dir, name, &old_path) {
            Ok(true) => {}
            Ok(false) => {
                Counts::add(&self.counts.at_limit, 1);
                return self
                    .copy_data(entry, below)
                    .map(|item| at_link_limit(item, old_path));
            }
            Err(err) if err.io_error().is_some_and(link_refused) => {
                let copied = self.copy_data(entry, below);
                if copied.is_ok() {
                    Counts::add(&self.counts.refused, 1);
                }
                return copied.map(|mut item| {
                    item.action = Action::LinkRefused;
                    item.new_target = Some(old_path);
                    item
                });
            }
            Err(err) => return Err(err),
        }
        if !self.dry_run() {
            // The previous snapshot's entry may have been replaced between its check and
            // the link: the name made must be a name of the file checked, or it is taken
            // back and the file copied.
            let (to_dir, to_name) = split(below);
            let pinned = self.pin(to_dir, &copy)?;
            let made = pinned.dir.stat_at(to_name, false);
            if made.as_ref().map(|meta| meta.id).ok() != Some(old_id) {
                pinned
                    .dir
                    .remove_name_at(to_name)
                    .map_err(|e| Error::io(Op::Copy, &copy, e))?;
                return self.copy_data(entry, below);
            }
        }
        Counts::add(&self.counts.unchanged, 1);
        let mut item = self.item(entry, below, Kind::File, Action::Linked);
        item.link.dir = Some(Flavour::File);
        item.new_target = Some(old_path);
        item.bytes = entry.lstat().map_or(0, |meta| meta.size);
        Ok(item)
    }
}
