//! `knot copy --update` and `--mirror`: the copy made into a DST that may hold an earlier
//! copy already, changing only what differs.
//!
//! Each entry of SRC is looked at in DST first, through the held directory that would
//! hold it (one `fstatat`, never following a link): missing, it is copied as a plain copy
//! would; there and [`unchanged`] (a file with the same permission bits too, no more
//! hard links than its source has, and, with
//! `--checksum`, the same bytes, compared straight through descriptors), it is left as it
//! is; else it is replaced. A
//! file or link is replaced atomically: the new one is written under a fresh hidden name
//! in the same held directory, then renamed over the old name, so no moment shows a half
//! file or no entry there. A directory in DST where SRC has a file or a link is replaced
//! only under `--mirror`, removed with everything in it (through held directories,
//! never entering a link or a mount point): where SRC has a file, only once the file is
//! copied whole under a hidden name, then swapped in; a file or link where SRC has a
//! directory is removed (as a link, never followed) and the directory made.
//!
//! `--mirror` also removes what SRC no longer has: when a directory of SRC is met and its
//! directory in DST was there already, the names listed in DST and not in SRC are removed,
//! before any of its entries is copied.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::sync::Arc;

use super::{Action, Copying, Counts, Item};
use crate::apply::{Pinned, split};
use crate::error::{Error, ErrorKind, Op, Result};
use crate::link::{Flavour, Kind, Link};
use crate::scan::WalkState;
use crate::scan::walk::{DirEntry, Next, Sink};
use crate::sys::{self, Attrs, FileType, Meta};
use crate::sys::{Backend as _, Directory as _};

/// Whether the entry `copy` (in DST, or in the previous snapshot) is still the copy of
/// `source` in SRC: the same type, the same size and the same modification time to the
/// nanosecond. The one rule both `--update` and [`snapshot`](super::snapshot) go by; each
/// asks more where it needs it, at the call: `--update` the same permission bits (and
/// with `--checksum` the same bytes), a snapshot the same permissions and owner (which a
/// hard link shares). Each is what [`Directory::look_at`](crate::sys::Directory::look_at)
/// gives.
pub(crate) fn unchanged(source: &(Meta, Attrs), copy: &(Meta, Attrs)) -> bool {
    source.0.ty == copy.0.ty && source.0.size == copy.0.size && source.1.mtime == copy.1.mtime
}

/// Whether a directory of DST already there is to be given its source's permission bits
/// or time (`source`) at the end: reported updated where they differ from the copy's
/// (`copy`), else unchanged.
fn dir_differs(source: &Attrs, copy: &Attrs) -> bool {
    source.mode & 0o1777 != copy.mode & 0o1777 || source.mtime != copy.mtime
}

/// Whether a copy's extended attributes `copy` (sorted) are those of its source,
/// `source` (sorted): the same, but for a `security.` one the source lacks, which the
/// kernel gives every new file and link itself where a security module labels them
/// (`security.selinux`, `security.SMACK64`) and which copying again would only give again.
fn same_xattrs(source: &sys::Xattrs, copy: &sys::Xattrs) -> bool {
    let given_here = |name: &OsStr| {
        name.as_encoded_bytes().starts_with(b"security.")
            && !source.iter().any(|(theirs, _)| theirs == name)
    };
    let copy = copy.iter().filter(|(name, _)| !given_here(name));
    copy.eq(source.iter())
}

/// What stands in DST at an entry's name.
enum There {
    /// Nothing (or, in a dry run, the directory that would hold it is not there yet).
    Nothing,
    /// Something, in the held directory `Pinned`.
    Found(Arc<Pinned>, Meta, Attrs),
}

impl Copying {
    /// Whether DST may hold an earlier copy (`--update`, or `--mirror`, which implies it).
    pub(super) fn updating(&self) -> bool {
        self.options.update || self.options.mirror
    }

    /// The directory `below` DST, held; `None` where it is not there, or, in a dry run,
    /// where a file or link stands in its place (that the run replaces by a directory).
    fn held(&self, below: &Path, copy: &Path) -> Result<Option<Arc<Pinned>>> {
        match self.work.pin(below, false, copy) {
            Err(err)
                if self.dry_run()
                    && matches!(
                        err.kind(),
                        ErrorKind::LinkOnTheWay { .. } | ErrorKind::NotADirectory { .. }
                    ) =>
            {
                Ok(None)
            }
            held => held,
        }
    }

    /// What stands at `below` in DST, looked at through its held parent.
    fn there(&self, below: &Path, copy: &Path) -> Result<There> {
        let (parent, name) = split(below);
        let Some(pinned) = self.held(parent, copy)? else {
            return Ok(There::Nothing);
        };
        match pinned.dir.look_at(name) {
            Ok((meta, attrs)) => Ok(There::Found(pinned, meta, attrs)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(There::Nothing),
            Err(e) => Err(Error::io(Op::Copy, copy, e)),
        }
    }

    /// A directory stands in DST where SRC has a file or a link: removed with everything
    /// in it under `--mirror` (not in a dry run), refused under `--update` alone.
    fn clear_dir(&self, pinned: &Pinned, name: &OsStr, copy: &Path) -> Result<()> {
        if !self.options.mirror {
            let why = "a directory stands at its place in DST (--mirror replaces it)".into();
            return Err(Error::new(Op::Copy, copy, ErrorKind::Unsupported { why }));
        }
        if !self.dry_run() {
            pinned
                .dir
                .remove_tree_at(name)
                .map_err(|e| Error::io(Op::Copy, copy, e))?;
        }
        Ok(())
    }

    /// A directory stands in DST where SRC has the regular file `entry`: under `--mirror`
    /// the file is copied first under a fresh hidden name in the held directory, then put
    /// in the directory's place (swapped with it in one step where the file system can,
    /// else the tree removed only once the copy is whole, then the copy renamed in), and
    /// the tree removed. A copy that fails leaves the directory as it was. How many bytes
    /// were copied; `None` in a dry run.
    fn file_over_dir(
        &self,
        entry: &DirEntry<'_>,
        pinned: &Pinned,
        to_name: &OsStr,
        copy: &Path,
    ) -> Result<Option<u64>> {
        if !self.options.mirror || self.dry_run() {
            return self.clear_dir(pinned, to_name, copy).map(|()| None);
        }
        let (dir, name) = entry.dir_and_name();
        let hidden = crate::path::hidden_file_name(to_name);
        let hidden_path = crate::path::parent_dir(copy).join(&hidden);
        let copied = dir
            .copy_file_at(name, &pinned.dir, &hidden, self.options.xattrs)
            .map_err(|e| copy_error(entry.path(), copy, e))?;
        // The hidden name is this process's own, made just now: the copy, so removing it
        // loses nothing.
        let take_back = |e| {
            let _ = pinned.dir.remove_name_at(&hidden);
            Error::io(Op::Copy, copy, e)
        };
        match pinned.dir.exchange_at(&hidden, to_name) {
            // The old tree is the hidden name now.
            Ok(true) => {
                pinned
                    .dir
                    .remove_tree_at(&hidden)
                    .map_err(|e| Error::io(Op::Copy, &hidden_path, e))?;
            }
            Ok(false) => {
                pinned.dir.remove_tree_at(to_name).map_err(take_back)?;
                // The tree is gone: the copy stays at its hidden name rather than be lost.
                pinned
                    .dir
                    .put_staged_at(&hidden, to_name, false)
                    .map_err(|e| Error::io(Op::Copy, &hidden_path, e))?;
            }
            Err(e) => return Err(take_back(e)),
        }
        Ok(Some(copied.bytes))
    }

    /// Under `xattrs`, whether the file `name` of `dir` (at `path`; the file it leads to
    /// where `follow`) and its copy `to_name` in `pinned` have the same extended
    /// attributes (a change to them alone changes no size nor time, as `rsync -X` compares
    /// them too); always so without.
    fn same_xattrs(
        &self,
        (dir, name, follow): (&crate::sys::Dir, &OsStr, bool),
        path: &Path,
        pinned: &Pinned,
        to_name: &OsStr,
    ) -> Result<bool> {
        if !self.options.xattrs {
            return Ok(true);
        }
        let source = dir
            .file_xattrs_at(name, follow)
            .map_err(|e| Error::io(Op::Copy, path, e))?;
        let copy = pinned.dir.file_xattrs_at(to_name, false);
        // A copy whose attributes cannot be read is copied again.
        Ok(copy.is_ok_and(|copy| same_xattrs(&source, &copy)))
    }

    /// Whether the regular file `from` (at `path`; the file it leads to where its
    /// `follow`), looked at as `source`, and its copy `to_name` in `pinned`, looked at as
    /// `copy`, are the same by the rule `--update` keeps a file by: the [`unchanged`] rule,
    /// the permission bits (the set-ID bits aside: they are kept only where the owner
    /// could be given), no more names than `names` (a copy linked to a file it is no
    /// longer one with in SRC gets a file of its own), with `xattrs` the extended
    /// attributes, with `checksum` the bytes.
    fn same_file(
        &self,
        (dir, name, follow): (&crate::sys::Dir, &OsStr, bool),
        path: &Path,
        source: &(Meta, Attrs),
        (pinned, to_name, copy): (&Pinned, &OsStr, &(Meta, Attrs)),
        names: u64,
    ) -> Result<bool> {
        Ok(unchanged(source, copy)
            && source.1.mode & 0o1777 == copy.1.mode & 0o1777
            && copy.0.nlink <= names
            && self.same_xattrs((dir, name, follow), path, pinned, to_name)?
            && (!self.options.checksum
                || dir
                    .same_data_at(name, follow, &pinned.dir, to_name)
                    .map_err(|e| Error::io(Op::Copy, path, e))?))
    }

    /// A file (or the first name of a hard-link group) under `--update`.
    pub(super) fn update_file(&self, entry: &DirEntry<'_>, below: &Path) -> Result<Item> {
        let copy = self.copy_path(below);
        let There::Found(pinned, meta, attrs) = self.there(below, &copy)? else {
            return self.copy_file(entry, below);
        };
        let (dir, name) = entry.dir_and_name();
        let (_, to_name) = split(below);
        let source = dir
            .look_at(name)
            .map_err(|e| Error::io(Op::Copy, entry.path(), e))?;
        let mut item = self.item(entry, below, Kind::File, Action::Updated);
        item.link.dir = Some(Flavour::File);
        item.bytes = source.0.size;
        // Permission bits that changed alone are given by copying the file again; a
        // copy with more names than its source has (a group split in SRC) gets its own.
        let there = (pinned.as_ref(), to_name, &(meta, attrs));
        if self.same_file(
            (dir, name, false),
            entry.path(),
            &source,
            there,
            source.0.nlink,
        )? {
            Counts::add(&self.counts.unchanged, 1);
            item.action = Action::Unchanged;
            return Ok(item);
        }
        if meta.ty == FileType::Dir {
            if let Some(bytes) = self.file_over_dir(entry, &pinned, to_name, &copy)? {
                item.bytes = bytes;
            }
        } else if !self.dry_run() {
            let copied = dir
                .replace_file_at(name, &pinned.dir, to_name, self.options.xattrs)
                .map_err(|e| copy_error(entry.path(), &copy, e))?;
            item.bytes = copied.bytes;
        }
        Counts::add(&self.counts.updated, 1);
        Counts::add(&self.counts.files, 1);
        Counts::add(&self.counts.bytes, item.bytes);
        Ok(item)
    }

    /// Another name of a hard-link group under `--update`: left as it is where DST's name
    /// is a name of the copy of the group's first name already; else a hard link to it
    /// made under a hidden name and renamed over what is there. `None` where nothing is
    /// there: linked as a plain copy links.
    pub(super) fn update_hard_link(
        &self,
        below: &Path,
        first: &Path,
        copy: &Path,
    ) -> Result<Option<Action>> {
        let There::Found(pinned, meta, _) = self.there(below, copy)? else {
            return Ok(None);
        };
        let (_, name) = split(below);
        let (first_dir, first_name) = split(first);
        let first_copy = self.copy_path(first);
        let target = match self.held(first_dir, copy)? {
            Some(target) => target,
            // A dry run: the group's first copy would be made in a directory not made.
            None => return Ok(Some(Action::Updated)),
        };
        let first_meta = match target.dir.look_at(first_name) {
            Ok((first_meta, _)) => Some(first_meta),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && self.dry_run() => None,
            Err(e) => return Err(Error::io(Op::Copy, &first_copy, e)),
        };
        if first_meta.is_some_and(|first| first.id == meta.id) {
            return Ok(Some(Action::Unchanged));
        }
        if meta.ty == FileType::Dir {
            self.clear_dir(&pinned, name, copy)?;
        }
        if self.dry_run() {
            return Ok(Some(Action::Updated));
        }
        let fail = |e| Error::io(Op::Copy, copy, e).with_target(&first_copy);
        let hidden = crate::path::hidden_file_name(name);
        pinned
            .dir
            .hard_link_at(&hidden, &target.dir, first_name)
            .map_err(fail)?;
        if let Err(e) = pinned.dir.put_staged_at(&hidden, name, true) {
            // The hidden name is this process's own, made just now: another name of the
            // group's copy, so removing it loses nothing.
            let _ = pinned.dir.remove_name_at(&hidden);
            return Err(fail(e));
        }
        Ok(Some(Action::Updated))
    }

    /// A link under `--update`, before it is made: `Some(Unchanged)` where the same link
    /// (the same kind, or a symlink for a junction, as one is made where the copy's file
    /// system has no junctions) with the same target is there (and with `xattrs`, under
    /// `--xattrs`, the same extended attributes of its own); `Some(Updated)` where
    /// something else is, to be replaced: a directory removed first with everything in it
    /// (`--mirror`), and for a junction (a directory to the file system, which no rename
    /// puts over a file) the file or link there removed first, as a name; a symlink is
    /// made under a hidden name and renamed over it. `None` where nothing is there (made
    /// as a plain copy makes it).
    pub(super) fn update_link(
        &self,
        link: &Link,
        target: &Path,
        below: &Path,
        xattrs: Option<&sys::Xattrs>,
    ) -> Result<Option<Action>> {
        let copy = self.copy_path(below);
        let There::Found(pinned, meta, _) = self.there(below, &copy)? else {
            return Ok(None);
        };
        let (_, name) = split(below);
        match meta.ty {
            FileType::Link => {
                let stored = pinned
                    .dir
                    .read_link_at(name)
                    .map_err(|e| Error::io(Op::Copy, &copy, e))?;
                let same_kind = stored.kind == link.kind
                    || (link.kind == Kind::Junction && stored.kind == Kind::Symlink);
                // On an NTFS volume read through ntfs-3g, a target stored in Windows' form
                // (`..\a`, `C:\a`), as the path of this system it names.
                let place = pinned.place(&copy)?;
                let there = match place.linux_path_of(&stored.target) {
                    Some((path, _)) => path,
                    None => stored.target,
                };
                // With --xattrs, a symlink's own extended attributes too; one whose
                // attributes cannot be read is made again.
                let same = || match xattrs {
                    Some(xattrs) => pinned
                        .dir
                        .link_xattrs_at(name)
                        .is_ok_and(|now| same_xattrs(xattrs, &now)),
                    None => true,
                };
                if same_kind && there == target && same() {
                    return Ok(Some(Action::Unchanged));
                }
            }
            FileType::Dir => {
                self.clear_dir(&pinned, name, &copy)?;
                return Ok(Some(Action::Updated));
            }
            _ => {}
        }
        if link.kind == Kind::Junction && !self.dry_run() {
            pinned
                .dir
                .remove_name_at(name)
                .map_err(|e| Error::io(Op::Copy, &copy, e))?;
        }
        Ok(Some(Action::Updated))
    }

    /// A special file under `--update`: `None` where nothing is at its name in DST, or
    /// it is a socket (made by no copy: left out as a plain copy leaves it). Else the
    /// entry there is left as it is where it is the same kind of special file, by the
    /// [`unchanged`] rule and with the same permission bits ([`Action::Unchanged`]), or
    /// replaced: the special file made anew under a hidden name and renamed over it (a
    /// directory there removed first, under `--mirror`; [`Action::Updated`]).
    pub(super) fn update_special(
        &self,
        entry: &DirEntry<'_>,
        below: &Path,
    ) -> Result<Option<Item>> {
        use crate::link::Special;
        let copy = self.copy_path(below);
        let There::Found(pinned, meta, attrs) = self.there(below, &copy)? else {
            return Ok(None);
        };
        let (dir, name) = entry.dir_and_name();
        let (_, to_name) = split(below);
        let source = dir
            .look_at(name)
            .map_err(|e| Error::io(Op::Copy, entry.path(), e))?;
        let special = crate::sys::Os::special(entry.path(), false);
        if special.is_none_or(|special| special == Special::Socket) {
            return Ok(None);
        }
        let mut item = self.item(entry, below, Kind::Special, Action::Updated);
        item.link.special = special;
        let same_kind =
            meta.ty == FileType::Other && crate::sys::Os::special(&copy, false) == special;
        let same_mode = source.1.mode & 0o1777 == attrs.mode & 0o1777;
        if same_kind && same_mode && unchanged(&source, &(meta, attrs)) {
            Counts::add(&self.counts.unchanged, 1);
            item.action = Action::Unchanged;
            return Ok(Some(item));
        }
        if meta.ty == FileType::Dir {
            self.clear_dir(&pinned, to_name, &copy)?;
        }
        if !self.dry_run() {
            let hidden = crate::path::hidden_file_name(to_name);
            dir.copy_special_at(name, &pinned.dir, &hidden)
                .map_err(|e| super::special_error(entry.path(), e))?;
            if let Err(e) = pinned.dir.put_staged_at(&hidden, to_name, true) {
                // The hidden name is this process's own, made just now.
                let _ = pinned.dir.remove_name_at(&hidden);
                return Err(Error::io(Op::Copy, &copy, e));
            }
        }
        Counts::add(&self.counts.updated, 1);
        Counts::add(&self.counts.special, 1);
        Ok(Some(item))
    }

    /// The file an outer link leads to (`--outer copy`) under `--update`, before it is
    /// copied: `None` where nothing is at its name in DST; `Some(Unchanged)` where a file
    /// there is the same by the rule a file is (the [`unchanged`] rule, the permission
    /// bits, with `xattrs` the extended attributes, with `checksum` the bytes), the file
    /// the link leads to looked at through it; else `Some(Updated)`: copied again and put
    /// over what is there (a directory there removed first, under `--mirror`).
    pub(super) fn followed_file_there(
        &self,
        item: &Item,
        below: &Path,
        source: &super::Source<'_>,
    ) -> Result<Option<Action>> {
        let copy = &item.copy;
        let There::Found(pinned, meta, attrs) = self.there(below, copy)? else {
            return Ok(None);
        };
        let (_, to_name) = split(below);
        let fail = |e| Error::io(Op::Copy, &item.link.path, e);
        if meta.ty == FileType::Dir {
            self.clear_dir(&pinned, to_name, copy)?;
            return Ok(Some(Action::Updated));
        }
        let followed = source.dir.look_through(source.name).map_err(fail)?;
        // One name: a followed file's copy is never a name of another.
        let there = (pinned.as_ref(), to_name, &(meta, attrs));
        let from = (source.dir, source.name, true);
        let same = self.same_file(from, &item.link.path, &followed, there, 1)?;
        Ok(Some(if same {
            Action::Unchanged
        } else {
            Action::Updated
        }))
    }

    /// The directory an outer link leads to (`--outer copy`, the directory `target`) under
    /// `--update`, before the walk goes into it: `true` where DST has a directory at its
    /// name, held and given the permissions and times of `target` at the end (`item` made
    /// `Updated` where they differ, else `Unchanged`); `false` where the directory is to be
    /// made: nothing there, or a file or link there removed (a link as a link), `item`
    /// made `Updated`.
    pub(super) fn followed_dir_there(
        &self,
        item: &mut Item,
        below: &Path,
        target: &crate::sys::Dir,
    ) -> Result<bool> {
        let copy = item.copy.clone();
        let There::Found(pinned, meta, now) = self.there(below, &copy)? else {
            return Ok(false);
        };
        let (_, name) = split(below);
        let fail = |e| Error::io(Op::Copy, &copy, e);
        if meta.ty != FileType::Dir {
            if !self.dry_run() {
                pinned.dir.remove_name_at(name).map_err(fail)?;
            }
            Counts::add(&self.counts.updated, 1);
            item.action = Action::Updated;
            return Ok(false);
        }
        let Some(held) = self.work.pin(below, false, &copy)? else {
            return Err(fail(std::io::ErrorKind::NotFound.into()));
        };
        let id = held.dir.meta().map_err(fail)?.id;
        let here = OsStr::new(".");
        let attrs = target
            .attrs_at(here)
            .map_err(|e| Error::io(Op::Copy, &item.link.path, e))?;
        let changed = dir_differs(&attrs, &now);
        self.remember_dir(below, (target, here), attrs, id)?;
        self.open_to_write(&pinned, name, &copy, id)?;
        item.action = if changed {
            Counts::add(&self.counts.updated, 1);
            Action::Updated
        } else {
            Counts::add(&self.counts.unchanged, 1);
            Action::Unchanged
        };
        Ok(true)
    }

    /// A directory under `--update`: made where DST has none (a file or link there
    /// removed first: a link as a link), held where DST has one (reported updated where
    /// its permission bits or time differ from SRC's, given at the end); under `--mirror`
    /// the names DST has there and SRC does not are removed, each reported.
    pub(super) fn update_dir(
        &self,
        entry: &DirEntry<'_>,
        below: &Path,
        sink: &mut Sink<'_, '_, Item>,
    ) -> Next {
        let (next, item, there) = self.update_dir_item(entry, below);
        let Some(item) = item else {
            return next;
        };
        let kept = there && item.is_ok();
        if sink.send(item) == WalkState::Quit {
            return Next::Quit;
        }
        if kept && self.options.mirror && next == Next::Descend {
            for removed in self.remove_extras(entry, below) {
                if sink.send(removed) == WalkState::Quit {
                    return Next::Quit;
                }
            }
        }
        next
    }

    /// The directory's item, and whether DST had it already (as a directory, and held:
    /// under `--mirror` its extra names are removed).
    fn update_dir_item(
        &self,
        entry: &DirEntry<'_>,
        below: &Path,
    ) -> (Next, Option<Result<Item>>, bool) {
        if below.as_os_str().is_empty() {
            // DST's root, held already (made, or there).
            return match self.dir(entry, below) {
                (next, Some(Ok(mut item))) if !self.root_made => {
                    Counts::take(&self.counts.dirs, 1);
                    Counts::add(&self.counts.unchanged, 1);
                    item.action = Action::Unchanged;
                    (next, Some(Ok(item)), true)
                }
                (next, item) => (next, item, false),
            };
        }
        let copy = self.copy_path(below);
        let found = match self.there(below, &copy) {
            Ok(found) => found,
            Err(err) => return (Next::Skip, Some(Err(err)), false),
        };
        let There::Found(pinned, meta, now) = found else {
            let (next, item) = self.dir(entry, below);
            return (next, item, false);
        };
        let (_, name) = split(below);
        if meta.ty != FileType::Dir {
            // A file or a link where SRC has a directory: removed (a link as a link,
            // never what it leads to), then the directory made.
            if !self.dry_run()
                && let Err(e) = pinned.dir.remove_name_at(name)
            {
                return (Next::Skip, Some(Err(Error::io(Op::Copy, &copy, e))), false);
            }
            return match self.dir(entry, below) {
                (next, Some(Ok(mut item))) => {
                    Counts::add(&self.counts.updated, 1);
                    item.action = Action::Updated;
                    (next, Some(Ok(item)), false)
                }
                (next, item) => (next, item, false),
            };
        }
        // There already: held (opened from its parent without following a link), given
        // its permissions and times at the end where they differ.
        let (dir, src_name) = entry.dir_and_name();
        let path = entry.path();
        let held = match self.work.pin(below, false, &copy) {
            Ok(Some(held)) => held,
            Ok(None) => {
                let err = std::io::Error::from(std::io::ErrorKind::NotFound);
                return (
                    Next::Skip,
                    Some(Err(Error::io(Op::Copy, &copy, err))),
                    false,
                );
            }
            Err(err) => return (Next::Skip, Some(Err(err)), false),
        };
        if self.options.same_file_system
            && let Ok(source) = entry.lstat()
            && source.id.0 != self.root_device
        {
            // There already: left as it is.
            return (
                Next::Skip,
                Some(self.mount_point(entry, below, false)),
                false,
            );
        }
        let id = match held.dir.meta() {
            Ok(meta) => meta.id,
            Err(e) => return (Next::Skip, Some(Err(Error::io(Op::Copy, &copy, e))), false),
        };
        // Its permission bits or time differ from SRC's: given at the end, an update.
        let mut changed = false;
        match dir.attrs_at(src_name) {
            Ok(attrs) => {
                changed = dir_differs(&attrs, &now);
                if let Err(err) = self.remember_dir(below, (dir, src_name), attrs, id) {
                    return (Next::Descend, Some(Err(err)), false);
                }
                if let Err(err) = self.open_to_write(&pinned, name, &copy, id) {
                    return (Next::Descend, Some(Err(err)), false);
                }
            }
            Err(e) if crate::sys::error::of(&e).is_some() => {}
            Err(e) => return (Next::Skip, Some(Err(Error::io(Op::Copy, path, e))), false),
        }
        let action = if changed {
            Counts::add(&self.counts.updated, 1);
            Action::Updated
        } else {
            Counts::add(&self.counts.unchanged, 1);
            Action::Unchanged
        };
        let mut item = self.item(entry, below, Kind::Dir, action);
        item.link.dir = Some(Flavour::Dir);
        (Next::Descend, Some(Ok(item)), true)
    }

    /// The directory `name` of DST's held directory `pinned` (at `copy`), where it is
    /// still the directory `id` held, made writable to this user alone (0700) where it is
    /// not, as a fresh copy makes each directory, so entries can be made and removed in
    /// it: remembered already, it is given its own permissions at the end. Not in a dry
    /// run; on Unix only (a read-only attribute on Windows keeps no entry out).
    fn open_to_write(
        &self,
        pinned: &Pinned,
        name: &OsStr,
        copy: &Path,
        id: (u64, u128),
    ) -> Result<()> {
        if !cfg!(unix) || self.dry_run() {
            return Ok(());
        }
        let fail = |e| Error::io(Op::Copy, copy, e);
        let (meta, attrs) = pinned.dir.look_at(name).map_err(fail)?;
        if meta.id != id || attrs.mode & 0o300 == 0o300 {
            return Ok(());
        }
        let writable = Attrs {
            mode: 0o700,
            ..attrs
        };
        pinned
            .dir
            .give_dir_attrs_at(name, &writable, id)
            .map_err(fail)
    }

    /// The names DST has in the directory `below` and SRC does not, removed (not in a dry
    /// run): a link or file unlinked (a link as a link), a directory with everything in
    /// it. Each is reported `removed`.
    fn remove_extras(&self, entry: &DirEntry<'_>, below: &Path) -> Vec<Result<Item>> {
        let (dir, name) = entry.dir_and_name();
        let listed = dir
            .open_at(name, false)
            .and_then(|source| source.names())
            .map_err(|e| Error::io(Op::Copy, entry.path(), e));
        self.remove_names_not_in(listed, below, entry.path())
    }

    /// Under `--mirror` and `--outer copy`: the names DST has in the copy of the
    /// directory the outer link `entry` leads to (the directory `id`, which the walk goes
    /// into next) and that directory does not, removed, as [`Copying::remove_extras`].
    pub(super) fn remove_followed_extras(
        &self,
        entry: &DirEntry<'_>,
        below: &Path,
        id: crate::scan::walk::FileId,
    ) -> Vec<Result<Item>> {
        let (dir, name) = entry.dir_and_name();
        let listed = dir.open_at(name, true).and_then(|target| {
            let meta = target.meta()?;
            if crate::scan::walk::FileId::of(&meta) != id {
                return Err(crate::sys::error::Error::Replaced.into());
            }
            target.names()
        });
        let listed = listed.map_err(|e| Error::io(Op::Copy, entry.path(), e));
        self.remove_names_not_in(listed, below, entry.path())
    }

    /// The names of DST's directory `below` that are not among `listed` (SRC's names
    /// there, `source` its path), removed, each reported.
    fn remove_names_not_in(
        &self,
        listed: Result<Vec<OsString>>,
        below: &Path,
        source: &Path,
    ) -> Vec<Result<Item>> {
        let copy = self.copy_path(below);
        let source_names: HashSet<OsString> = match listed {
            Ok(names) => names.into_iter().collect(),
            Err(err) => return vec![Err(err)],
        };
        let held = match self.work.pin(below, false, &copy) {
            Ok(Some(held)) => held,
            Ok(None) => return Vec::new(),
            Err(err) => return vec![Err(err)],
        };
        let names = match held.dir.names() {
            Ok(names) => names,
            Err(e) => return vec![Err(Error::io(Op::Copy, &copy, e))],
        };
        let mut removed = Vec::new();
        for extra in names.iter().filter(|name| !source_names.contains(*name)) {
            let path = copy.join(extra);
            removed.push(self.remove_extra(&held, extra, &path, source.join(extra)));
        }
        removed
    }

    fn remove_extra(
        &self,
        held: &Pinned,
        name: &OsStr,
        copy: &Path,
        source_path: std::path::PathBuf,
    ) -> Result<Item> {
        let fail = |e| Error::io(Op::Copy, copy, e);
        let (meta, _) = held.dir.look_at(name).map_err(fail)?;
        let kind = match meta.ty {
            FileType::Dir => Kind::Dir,
            FileType::Link => Kind::Symlink,
            _ => Kind::File,
        };
        if !self.dry_run() {
            if meta.ty == FileType::Dir {
                held.dir.remove_tree_at(name).map_err(fail)?;
            } else {
                held.dir.remove_name_at(name).map_err(fail)?;
            }
        }
        Counts::add(&self.counts.removed, 1);
        Ok(Item {
            link: Link::new(source_path, kind),
            copy: copy.to_path_buf(),
            class: None,
            action: Action::Removed,
            new_target: None,
            bytes: 0,
            made: None,
        })
    }
}

/// The error of copying the file `source` of SRC to `copy` in DST: it names `copy` where
/// it can only be about writing there (DST's file system read-only or full, or a
/// permission refused while `source` is one this process may read), else `source`.
pub(super) fn copy_error(source: &Path, copy: &Path, err: std::io::Error) -> Error {
    use std::io::ErrorKind as Io;
    let writing = match err.kind() {
        Io::ReadOnlyFilesystem | Io::StorageFull | Io::QuotaExceeded | Io::FileTooLarge => true,
        #[cfg(unix)]
        Io::PermissionDenied => rustix::fs::access(source, rustix::fs::Access::READ_OK).is_ok(),
        _ => false,
    };
    Error::io(Op::Copy, if writing { copy } else { source }, err)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A copy's attributes are its source's where they are equal, or where the copy has
    /// only `security.` ones more that the source lacks (labels the kernel gives); any
    /// other difference is one, a `security.` one the source has with another value too.
    #[test]
    fn a_label_the_kernel_gives_the_copy_is_no_difference() {
        let xattrs = |list: &[(&str, &str)]| -> sys::Xattrs {
            let each = |(name, value): &(&str, &str)| (name.into(), value.as_bytes().to_vec());
            list.iter().map(each).collect()
        };
        let source = xattrs(&[("security.ima", "h"), ("user.a", "1")]);
        for (copy, same) in [
            (vec![("security.ima", "h"), ("user.a", "1")], true),
            (
                vec![
                    ("security.ima", "h"),
                    ("security.selinux", "l"),
                    ("user.a", "1"),
                ],
                true,
            ),
            (vec![("security.ima", "x"), ("user.a", "1")], false),
            (vec![("user.a", "1")], false),
            (
                vec![("security.ima", "h"), ("user.a", "1"), ("user.b", "2")],
                false,
            ),
            (
                vec![("security.ima", "h"), ("trusted.t", "l"), ("user.a", "1")],
                false,
            ),
        ] {
            assert_eq!(same_xattrs(&source, &xattrs(&copy)), same, "{copy:?}");
        }
    }
}
