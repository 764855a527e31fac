//! The platform layer's own refusals and failures, typed: each backend says which case it
//! met instead of writing prose into an `io::Error`, and `crate::error` maps each case to
//! its public kind in one place.
//!
//! The backends' calls still return `io::Result` (most of their errors are the system's
//! own): an [`Error`] travels inside the `io::Error` (`io::Error::new(kind, Error)`,
//! `From<Error> for io::Error`), so the caller keeps the `io::Error` it always had, its
//! message unchanged, and [`public_kind`] finds the case again by downcasting.

use std::io;
use std::path::PathBuf;

/// Why the platform layer could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[allow(
    dead_code,
    reason = "one enum for every backend; each meets only its own cases"
)]
pub(crate) enum Error {
    /// The link would lead off the NTFS volume that holds it (ntfs-3g), where Windows
    /// could not follow it: the target, and how to reach it from the volume.
    #[error("{why}")]
    OutsideVolume { target: PathBuf, why: String },
    /// A target that Windows would read as another path, or cannot store: a name Windows
    /// cannot use, `\` inside a name, a path through ntfs-3g's mapping of another drive,
    /// a name that is not Unicode, one too long for a reparse buffer.
    #[error("{why}")]
    TargetForWindows { target: PathBuf, why: String },
    /// No mount of the volume holds the directory (ntfs-3g; mountinfo changed under us).
    #[error("no mount point holds '{}'", .dir.display())]
    NoMountPoint { dir: PathBuf },
    /// The entry was replaced by something else while knot worked; it was left as it is.
    /// Retryable: knot changed nothing.
    #[error("it was replaced by something else while knot worked; it was left as it is")]
    Replaced,
    /// The entry changed on every try; it was left as it is. Retryable.
    #[error("it kept changing while knot worked; it was left as it is")]
    KeptChanging,
    /// The entry changed on every try to read what it is (knot changes nothing when it
    /// reads). Retryable.
    #[error("it kept changing while knot looked at it")]
    KeptChangingWhileRead,
    /// What took the entry's place could not be put back, and is now at `at`.
    #[error(
        "it was replaced by something else while knot worked, and that could not be put back \
         ({source}): it is now at '{}'",
        knot_names::escape::escape(.at.as_os_str())
    )]
    ReplacedKeptAt { at: PathBuf, source: io::Error },
    /// The new link could not be renamed in place (`source`), and the old one, set aside
    /// at `at`, could not be put back (`back`) (Windows).
    #[error("{source}; the old link could not be put back ({back}): it is now at '{}'", .at.display())]
    OldLinkAside {
        at: PathBuf,
        source: io::Error,
        back: io::Error,
    },
    /// Only a link can be put in place of another (the staged entry is no link).
    #[error("only a link can be put in place of another")]
    NotALink,
    /// The file system has no junctions (a Unix file system reached by mistake).
    #[error("this file system has no junctions")]
    NoJunctions,
    /// The file system has no reparse points (Windows: FAT, some network shares), as the
    /// call that set one said.
    #[error("the file system does not support junctions ({source})")]
    NoReparsePoints { source: io::Error },
    /// The file system cannot hold this kind of link (Windows: FAT and exFAT have no
    /// reparse points and no hard links): why, naming it, and where to make the link.
    #[error("{why}")]
    FileSystemLacks { why: String },
    /// A volume mount point is the mount manager's to remove (Windows).
    #[error(
        "it is a volume mount point, which the mount manager records; knot does not remove \
         it: use `mountvol DIR /D`"
    )]
    VolumeMountPoint,
    /// A junction cannot lead to another machine (Windows).
    #[error("a junction cannot lead to a network path")]
    RemoteJunction,
    /// The system reported success, but the reparse point reads back differently
    /// (DESIGN.md promise 3).
    #[error("{who} reports success, but the reparse point reads back differently")]
    ReadBack { who: &'static str },
    /// Nothing here can name an open file (no `/proc`).
    #[error("no /proc to name an open file")]
    NoProc,
    /// knot has no backend for this platform.
    #[error("not supported on this platform yet")]
    Platform,
    /// What was to be copied as a file is no regular file (it was replaced since the walk
    /// looked at it).
    #[error("it is not a regular file")]
    NotARegularFile,
    /// The data of a file whose reparse point keeps it elsewhere (WOF-compressed,
    /// deduplicated, a cloud file) cannot be read here: why, and what to do.
    #[error("{why}")]
    DataUnreadable { why: String },
    /// A file encrypted with EFS (Windows), whose copy would be written decrypted, as
    /// `CopyFileEx` refuses it unless told to allow a decrypted copy: refused.
    #[error(
        "it is encrypted (EFS), and its copy would be written decrypted; decrypt it first \
         (cipher /d), or copy it with robocopy /EFSRAW"
    )]
    Encrypted,
    /// This backend copies no file data yet (Windows).
    #[error("copying files is not available on this platform yet")]
    NoFileCopy,
    /// This backend copies no extended attributes (Windows: its extended attributes and
    /// alternate data streams are not copied yet).
    #[error("copying extended attributes is not available on this platform yet")]
    NoXattrs,
    /// A directory to be removed has another file system mounted on it (or below it):
    /// knot does not enter it.
    #[error("another file system is mounted there; knot does not remove it (unmount it first)")]
    MountPoint,
    /// The file system is not NTFS, where Cygwin's and WSL's links live and NT links are
    /// made (`knot convert --to-native`).
    #[error(
        "it is not on an NTFS volume (Windows, or one mounted with ntfs-3g), where Cygwin's \
         and WSL's links live; on this file system an ordinary symlink is the native link \
         already"
    )]
    NotNtfs,
}

/// The read-back check's failure (DESIGN.md promise 3): the new link holds something else
/// than was asked, or the check itself could not read it. Public as
/// [`ErrorKind::ReadBack`] (a mismatch) or by the `io::Error` (see [`public_kind`]).
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadBack {
    /// What was asked for, and what the file system holds (both as the user reads them).
    #[error("{found}")]
    Mismatch { expected: String, found: String },
    /// The link could not be read back.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// A read-back failure travels through the create's `io::Result` steps as an `io::Error`:
/// a mismatch inside one of kind `InvalidData`, an I/O failure as itself.
impl From<ReadBack> for io::Error {
    fn from(err: ReadBack) -> io::Error {
        match err {
            ReadBack::Io(err) => err,
            mismatch @ ReadBack::Mismatch { .. } => {
                io::Error::new(io::ErrorKind::InvalidData, mismatch)
            }
        }
    }
}

/// The read-back mismatch carried by `err` (`expected`, `found`), if it carries one: the
/// check's own, or a backend's that saw its buffer read back differently
/// ([`Error::ReadBack`], whose message is what was found).
pub(crate) fn read_back_of(err: &io::Error) -> Option<(Option<&str>, String)> {
    let inner = err.get_ref()?;
    if let Some(ReadBack::Mismatch { expected, found }) = inner.downcast_ref::<ReadBack>() {
        return Some((Some(expected), found.clone()));
    }
    match inner.downcast_ref::<Error>() {
        Some(sys @ Error::ReadBack { .. }) => Some((None, sys.to_string())),
        _ => None,
    }
}

impl Error {
    /// The `io::ErrorKind` the error travels as: what callers and tests have always seen.
    fn io_kind(&self) -> io::ErrorKind {
        match self {
            Error::OutsideVolume { .. }
            | Error::TargetForWindows { .. }
            | Error::NoJunctions
            | Error::NoReparsePoints { .. }
            | Error::FileSystemLacks { .. }
            | Error::VolumeMountPoint
            | Error::RemoteJunction
            | Error::NotALink
            | Error::NoProc
            | Error::NoFileCopy
            | Error::NoXattrs
            | Error::DataUnreadable { .. }
            | Error::Encrypted
            | Error::NotNtfs
            | Error::Platform => io::ErrorKind::Unsupported,
            Error::NotARegularFile | Error::MountPoint => io::ErrorKind::InvalidInput,
            Error::ReadBack { .. } => io::ErrorKind::InvalidData,
            Error::NoMountPoint { .. }
            | Error::Replaced
            | Error::KeptChanging
            | Error::KeptChangingWhileRead
            | Error::ReplacedKeptAt { .. }
            | Error::OldLinkAside { .. } => io::ErrorKind::Other,
        }
    }

    /// Whether the case is a refusal, with its reason (it travels as `Unsupported`), as
    /// opposed to a failure of the I/O it names.
    pub(crate) fn is_refusal(&self) -> bool {
        self.io_kind() == io::ErrorKind::Unsupported
    }

    /// Whether the operation may succeed if tried again: the entry changed while knot
    /// worked, and knot changed nothing.
    pub(crate) fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::Replaced | Error::KeptChanging | Error::KeptChangingWhileRead
        )
    }
}

impl From<Error> for io::Error {
    fn from(err: Error) -> io::Error {
        io::Error::new(err.io_kind(), err)
    }
}

/// The platform layer's error carried by `err`, if it carries one.
pub(crate) fn of(err: &io::Error) -> Option<&Error> {
    err.get_ref()?.downcast_ref::<Error>()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each case travels as the `io::Error` kind and message callers have always seen,
    /// keeps what it wraps, and maps to its public kind.
    #[test]
    fn cases_travel_in_io_errors_and_map_to_public_kinds() {
        let err = io::Error::from(Error::Replaced);
        assert_eq!(err.kind(), io::ErrorKind::Other);
        assert_eq!(
            err.to_string(),
            "it was replaced by something else while knot worked; it was left as it is"
        );
        assert!(of(&err).unwrap().is_retryable());

        let why = "the target 'x' is outside the NTFS volume".to_owned();
        let err = io::Error::from(Error::OutsideVolume {
            target: PathBuf::from("x"),
            why: why.clone(),
        });
        assert_eq!(err.kind(), io::ErrorKind::Unsupported);
        assert!(!of(&err).unwrap().is_retryable());
        assert!(of(&err).unwrap().is_refusal());

        let source = io::Error::from(io::ErrorKind::PermissionDenied);
        let err = io::Error::from(Error::ReplacedKeptAt {
            at: PathBuf::from("/d/.l.knot~1"),
            source,
        });
        assert!(
            err.to_string().ends_with("it is now at '/d/.l.knot~1'"),
            "{err}"
        );
        let inner = std::error::Error::source(of(&err).unwrap()).unwrap();
        assert_eq!(
            inner.downcast_ref::<io::Error>().unwrap().kind(),
            io::ErrorKind::PermissionDenied
        );

        let err = io::Error::from(Error::ReadBack { who: "ntfs-3g" });
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    /// The read-back check's own error: a mismatch keeps what was asked and found, and
    /// travels as `InvalidData` showing what was found; an I/O failure travels as itself.
    /// A backend's own read-back failure is found again too.
    #[test]
    fn read_back_failures_are_typed() {
        let err = io::Error::from(ReadBack::Mismatch {
            expected: "\"a\"".into(),
            found: "nothing".into(),
        });
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(err.to_string(), "nothing");
        assert_eq!(
            read_back_of(&err),
            Some((Some("\"a\""), "nothing".to_owned()))
        );
        let err = io::Error::from(ReadBack::from(io::Error::from(io::ErrorKind::NotFound)));
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert_eq!(read_back_of(&err), None);
        let err = io::Error::from(Error::ReadBack { who: "ntfs-3g" });
        assert_eq!(
            read_back_of(&err),
            Some((
                None,
                "ntfs-3g reports success, but the reparse point reads back differently".into()
            ))
        );
    }
}
