//! The hard-link filters on the tree walk: the names of one file (`knot hardlinks FILE`),
//! and every file with more than one name (`knot hardlinks --groups`).

use std::ffi::OsString;
use std::path::PathBuf;

use super::WalkState;
use super::walk::{DirEntry, FileId, Filter, Next, Sink};
use crate::error::{Error, Op};
use crate::sys::{Directory as _, FileType, Meta};

/// Whether an entry belongs in a hard-link group: a regular file with more than one name.
/// `scan --kind hardlink` and `hardlinks --groups` both ask this, so they agree.
///
/// A symlink with several names (Linux's `link(2)` of a symlink, `ln -P`), a FIFO or a
/// device file with several names is no hard-link group: a user who looks for hard links
/// looks for files sharing their data, as `find -type f -links +1` finds them, and a
/// symlink is listed as a symlink. (`knot hardlinks SYMLINK` still lists a symlink's own
/// names when asked, and `du` still counts such an entry's bytes once.)
pub(crate) fn hard_linked(meta: &Meta) -> bool {
    meta.ty == FileType::File && meta.nlink > 1
}

/// A name of a file, as the walk found it: which directory lists it (by id) and under
/// what name, so that FILE's own name is known again whatever path the walk reaches it by
/// (through a bind mount, or without the link FILE's path went through).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NameAt {
    pub(crate) dir: FileId,
    pub(crate) name: OsString,
}

/// The walk's filter for `crate::hardlinks::names`: the entries that are the file `id`.
#[derive(Debug)]
pub(crate) struct SameFile {
    id: FileId,
    /// The inode number as listings give it, where they can be trusted to be `st_ino`.
    ino: Option<u64>,
}

impl SameFile {
    /// The filter for the file `id`, whose listed inode number is `ino` where listings can
    /// be trusted to give `st_ino`.
    pub(crate) fn new(id: FileId, ino: Option<u64>) -> SameFile {
        SameFile { id, ino }
    }
}

impl Filter for SameFile {
    type Item = (NameAt, PathBuf);

    fn visit(&self, entry: &DirEntry<'_>, sink: &mut Sink<'_, '_, Self::Item>) -> Next {
        if entry.file_type() == FileType::Dir {
            return Next::Descend;
        }
        if let (Some(want), Some(listed)) = (self.ino, entry.ino())
            && want != listed
        {
            return Next::Skip;
        }
        let state = match entry.file_id() {
            Ok(id) if id == self.id => {
                let (dir, name) = entry.dir_and_name();
                let found = dir.meta().map(|meta| NameAt {
                    dir: FileId::of(&meta),
                    name: name.to_os_string(),
                });
                match found {
                    Ok(at) => sink.send(Ok((at, entry.path().to_path_buf()))),
                    Err(e) => sink.send(Err(Error::io(Op::Hardlinks, entry.path(), e))),
                }
            }
            Ok(_) => WalkState::Continue,
            // Gone since the listing: not a name any more.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => WalkState::Continue,
            Err(e) => sink.send(Err(Error::io(Op::Hardlinks, entry.path(), e))),
        };
        match state {
            WalkState::Quit => Next::Quit,
            _ => Next::Skip,
        }
    }
}

/// One member of a hard-link group as the walk found it: the file, its link count and
/// size from the walk's own stat, and the path.
#[derive(Debug)]
pub(crate) struct Member {
    pub(crate) id: FileId,
    pub(crate) nlink: u64,
    pub(crate) size: u64,
    pub(crate) path: PathBuf,
}

/// The walk's filter for `crate::hardlinks::groups`: every entry that is
/// [`hard_linked`].
#[derive(Debug)]
pub(crate) struct Linked;

impl Filter for Linked {
    type Item = Member;

    fn visit(&self, entry: &DirEntry<'_>, sink: &mut Sink<'_, '_, Self::Item>) -> Next {
        let item = match entry.file_type() {
            FileType::Dir => return Next::Descend,
            _ => match entry.lstat() {
                Ok(meta) if hard_linked(&meta) => Ok(Member {
                    id: FileId::of(&meta),
                    nlink: meta.nlink,
                    size: meta.size,
                    path: entry.path().to_path_buf(),
                }),
                Ok(_) => return Next::Skip,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Next::Skip,
                Err(e) => Err(Error::io(Op::Hardlinks, entry.path(), e)),
            },
        };
        match sink.send(item) {
            WalkState::Quit => Next::Quit,
            _ => Next::Skip,
        }
    }
}
