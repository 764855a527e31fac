//! The private platform layer: one backend per platform, chosen here once, so the rest of
//! the crate never sees a `cfg` (same-file's `imp` pattern, STYLE.md point 1).
//!
//! Every backend offers the same small set of calls. Each takes the paths it acts on and
//! returns a plain `io::Result`; naming the operation and the paths in the error is the
//! caller's job.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as imp;

#[cfg(not(unix))]
mod unsupported;
#[cfg(not(unix))]
use unsupported as imp;

pub(crate) use imp::{
    FLAVOUR_MATTERS, NATIVE_JUNCTIONS, classify_resolve_error, hard_link, junction, lstat,
    read_link, remove_link, rename_over, stat, symlink,
};

/// The type of a directory entry, without following it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FileType {
    Symlink,
    Dir,
    File,
    Other,
}

/// What knot needs from a stat call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Meta {
    pub(crate) ty: FileType,
    pub(crate) nlink: u64,
    /// (device, inode) on Unix; (volume serial, file id) on Windows.
    pub(crate) id: (u64, u64),
}
