//! Errors that name the operation, the paths, the cause and, where one is known, the fix
//! (DESIGN.md promise 7). Shaped like walkdir's `Error`: accessors, a `source`, and a
//! conversion into `io::Error`.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::link::{Flavour, Found};

/// A `Result` whose error is knot's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// The operation that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op {
    /// Creating a symbolic link.
    CreateSymlink,
    /// Creating a junction.
    CreateJunction,
    /// Creating a hard link.
    CreateHardlink,
    /// Creating the best link the platform allows ([`LinkType::Best`](crate::LinkType::Best),
    /// the CLI's `knot link`).
    CreateLink,
    /// Reading what a path is.
    Inspect,
    /// Removing a link.
    Remove,
    /// Reading a directory during a scan.
    Scan,
    /// Giving a link a new target.
    Retarget,
    /// Changing a link's form (relative or absolute) or kind (symlink or junction).
    Convert,
    /// Making a link of a manifest ([`apply`](fn@crate::apply), the CLI's `knot apply`).
    Apply,
    /// Finding the names of a file ([`hardlinks`](crate::hardlinks), the CLI's
    /// `knot hardlinks`).
    Hardlinks,
}

impl Op {
    /// The operation as the verb phrase of a message: "cannot {verb} 'path'".
    pub fn verb(self) -> &'static str {
        match self {
            Op::CreateSymlink => "create symlink",
            Op::CreateJunction => "create junction",
            Op::CreateHardlink => "create hard link",
            Op::CreateLink => "create link",
            Op::Inspect => "inspect",
            Op::Remove => "remove",
            Op::Scan => "scan",
            Op::Retarget => "retarget",
            Op::Convert => "convert",
            Op::Apply => "apply",
            Op::Hardlinks => "list the names of",
        }
    }
}

/// What went wrong, in knot's own terms.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The link path already exists, and [`Replace::Links`](crate::Replace::Links) (the
    /// CLI's `--force`) was not asked for.
    LinkExists,
    /// The link path exists, the target does not: the arguments look swapped (`ln` order).
    ArgumentsSwapped,
    /// [`Replace::Links`](crate::Replace::Links) (the CLI's `--force`) was asked for, but
    /// the existing path is not a link: a real file, directory or special file, or a file
    /// whose data sits behind a reparse point.
    WouldReplaceReal {
        /// What stands at the link path.
        what: Found,
    },
    /// The target does not exist, and this kind of link needs it.
    TargetMissing,
    /// The target exists but cannot be read (a permission or I/O error).
    TargetUnreadable,
    /// A junction to something that is not a directory.
    TargetNotDirectory,
    /// A hard link to a directory.
    TargetIsDirectory,
    /// A hard link to a link that NTFS keeps as a directory (a junction, a directory
    /// symlink or another directory reparse point): NTFS never gives a directory a second
    /// name.
    TargetIsDirectoryLink,
    /// The flavour asked for ([`CreateOptions::flavour`](crate::CreateOptions::flavour), the
    /// CLI's `--dir` or `--file`) contradicts what the target is.
    FlavourMismatch {
        /// What was asked for.
        asked: Flavour,
        /// What the target is.
        found: Flavour,
    },
    /// A symlink to a missing target on a system where the flavour matters, without a
    /// flavour ([`CreateOptions::flavour`](crate::CreateOptions::flavour), the CLI's
    /// `--dir` or `--file`).
    FlavourNeeded,
    /// A hard link across file systems (EXDEV).
    CrossDevice,
    /// Creating a symbolic link needs a privilege this process does not hold (Windows'
    /// `ERROR_PRIVILEGE_NOT_HELD`: symlinks are for administrators unless Developer Mode is
    /// on).
    PrivilegeNeeded,
    /// A junction to a network path (a UNC path or a mapped network drive): junctions lead
    /// only to local volumes.
    RemoteTarget,
    /// [`remove`](crate::remove) (`knot rm`) met something that is not a link.
    NotALink {
        /// What stands at the path.
        what: Found,
    },
    /// The path does not exist.
    NotFound,
    /// The link was made, but reading it back did not give what was asked.
    ReadBack {
        /// What was asked for.
        expected: String,
        /// What the file system holds.
        found: String,
    },
    /// This platform or file system cannot do the operation.
    Unsupported {
        /// Why, in a few words.
        why: String,
    },
    /// The link path has no final name (`/`, `..`).
    BadLinkPath,
    /// The link path ends with a separator (`J/`), so it names the directory `J` is or
    /// leads to, not a new link.
    LinkEndsInSeparator,
    /// A scan with [`ScanBuilder::follow`](crate::scan::ScanBuilder::follow) (the CLI's
    /// `--follow`) met a link that leads back to a directory it is already
    /// inside; the link is not followed again.
    Loop {
        /// The directory the link leads back to.
        ancestor: PathBuf,
    },
    /// A directory changed while a scan was reading the tree: it is no longer a directory
    /// (it may have been replaced by a link, which a scan never follows unless asked).
    ChangedDuringScan,
    /// A directory on the way to the link path does not exist (`knot symlink nosuch/l t`).
    DirMissing {
        /// The first directory of the path that is missing.
        dir: PathBuf,
    },
    /// Something on the way to the link path is not a directory (`knot symlink f/l t`).
    NotADirectory {
        /// The part of the path that is not a directory.
        path: PathBuf,
        /// What it is: a file or a special file.
        what: Found,
    },
    /// This user may not change the directory that holds the link (EACCES).
    NoPermission {
        /// The directory.
        dir: PathBuf,
    },
    /// The file system that holds the link is mounted read-only (EROFS).
    ReadOnlyFileSystem,
    /// The process, or the system, has as many files open as it may (EMFILE, ENFILE;
    /// Windows' ERROR_TOO_MANY_OPEN_FILES): nothing changed under knot, it ran out.
    TooManyOpenFiles,
    /// The link is made by the kernel (`/proc`, `/sys`) and cannot be removed.
    KernelFileSystem {
        /// The file system's name: `proc`, `sysfs`.
        name: &'static str,
    },
    /// The path ends in a slash, which leads through the link before it to its target:
    /// removing `l/` (`knot rm l/`) names what `l` leads to, not the link `l`.
    TrailingSlash {
        /// The link itself: the path without its trailing slash.
        link: PathBuf,
    },
    /// A junction cannot store a relative target (`knot convert --relative` of one): NTFS
    /// junctions are absolute by definition.
    JunctionNotRelative,
    /// `knot convert --to-junction` where the file system has no junctions (only NTFS
    /// has them: Windows, or a volume mounted with ntfs-3g).
    NoJunctions,
    /// A manifest's path leads outside the root its links are made below (`..`, or an
    /// absolute path elsewhere): a manifest is untrusted input.
    OutsideRoot {
        /// The root.
        root: PathBuf,
    },
    /// A directory on the way to a manifest's link is a link, which
    /// [`apply`](fn@crate::apply) never goes through.
    LinkOnTheWay {
        /// The link on the way.
        path: PathBuf,
    },
    /// A manifest's record asks for what cannot be made.
    BadRecord {
        /// Why, as a phrase after "the record".
        why: String,
    },
    /// [`hardlinks::names`](crate::hardlinks::names) (`knot hardlinks`) of a directory:
    /// a directory has one name (its `.` and `..` entries are not others).
    IsADirectory,
    /// [`hardlinks::names`](crate::hardlinks::names) (`knot hardlinks`) of a symlink with
    /// one name: it is not followed, so the names of what it leads to are not listed.
    IsASymlink {
        /// The canonical path of what it leads to, found when the error was made; `None`
        /// where it leads nowhere.
        leads_to: Option<PathBuf>,
    },
    /// Any other failure of the system call.
    Io,
}

/// An error from a knot operation.
#[derive(Debug)]
pub struct Error {
    op: Op,
    // Boxed, not `PathBuf`: on Windows a `PathBuf` is 32 bytes, and two of them pushed
    // `Result<_, Error>` past clippy's `result_large_err` bound.
    path: Box<Path>,
    target: Option<Box<Path>>,
    /// Where the target was looked for, when it was not found: the full path.
    looked_for: Option<Box<Path>>,
    kind: ErrorKind,
    source: Option<io::Error>,
}

impl Error {
    /// An error of `kind` from `op` on `path`, with no target and no underlying
    /// `io::Error`: what a caller that hands knot's errors on (a report callback, a test
    /// of how a front end words them) builds its own with.
    pub fn new<P: AsRef<Path>>(op: Op, path: P, kind: ErrorKind) -> Error {
        Error {
            op,
            path: path.as_ref().into(),
            target: None,
            looked_for: None,
            kind,
            source: None,
        }
    }

    /// An error from a system call; its kind is the platform layer's case where the
    /// `io::Error` carries one, else what the OS error says (`sys::error::public_kind`).
    pub(crate) fn io(op: Op, path: &Path, err: io::Error) -> Error {
        let kind = public_kind(&err);
        Error {
            op,
            path: path.into(),
            target: None,
            looked_for: None,
            kind,
            source: Some(err),
        }
    }

    /// An error from a create's read-back steps: a link that reads back otherwise than
    /// asked as [`ErrorKind::ReadBack`] (what was asked, `stored` unless the check said,
    /// and what was found), anything else as [`Error::io`].
    pub(crate) fn io_or_read_back(op: Op, path: &Path, err: io::Error, stored: &Path) -> Error {
        let found = match crate::sys::error::read_back_of(&err) {
            Some(found) => found,
            // Any other failure that says the data read is not as asked.
            None if err.kind() == io::ErrorKind::InvalidData => (None, err.to_string()),
            None => return Error::io(op, path, err),
        };
        let (expected, found) = found;
        let expected = expected.map_or_else(
            || format!("{:?}", stored.display().to_string()),
            str::to_owned,
        );
        Error::new(op, path, ErrorKind::ReadBack { expected, found })
    }

    pub(crate) fn with_target(mut self, target: &Path) -> Error {
        self.target = Some(target.into());
        self
    }

    /// Records where a target that was not found was looked for (the full path), when the
    /// target as given does not say it.
    pub(crate) fn with_looked_for(mut self, path: Option<PathBuf>) -> Error {
        self.looked_for = path
            .filter(|p| Some(p.as_path()) != self.target.as_deref())
            .map(PathBuf::into_boxed_path);
        self
    }

    pub(crate) fn with_kind(mut self, kind: ErrorKind) -> Error {
        self.kind = kind;
        self
    }

    pub(crate) fn with_source(mut self, err: io::Error) -> Error {
        self.source = Some(err);
        self
    }

    pub(crate) fn with_op(mut self, op: Op) -> Error {
        self.op = op;
        self
    }

    /// The operation that failed.
    pub fn op(&self) -> Op {
        self.op
    }

    /// The path the operation was acting on (the link).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The target, for operations that have one.
    pub fn target(&self) -> Option<&Path> {
        self.target.as_deref()
    }

    /// For a target that was not found: the full path where it was looked for (a relative
    /// target is read from the link's directory or from the current directory, depending
    /// on the operation), when that differs from the target as given.
    pub fn looked_for(&self) -> Option<&Path> {
        self.looked_for.as_deref()
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The underlying system error, if there was one.
    pub fn io_error(&self) -> Option<&io::Error> {
        self.source.as_ref()
    }

    /// The cause, as a phrase that follows "cannot {op} 'path': ".
    pub fn cause(&self) -> String {
        let target = || quote_lossy(self.target.as_deref().unwrap_or(Path::new("")));
        let looked_for = || {
            self.looked_for
                .as_deref()
                .map(|p| format!(" (looked for {})", quote_lossy(p)))
                .unwrap_or_default()
        };
        match &self.kind {
            ErrorKind::LinkExists => "it already exists".into(),
            ErrorKind::ArgumentsSwapped => {
                format!("it already exists, and the target {} does not", target())
            }
            ErrorKind::WouldReplaceReal { what } => {
                let who = if self.op == Op::Apply {
                    "knot apply"
                } else {
                    "--force"
                };
                format!(
                    "it is a {}, not a link; {who} replaces only links",
                    plain(*what)
                )
            }
            ErrorKind::TargetMissing => {
                format!("the target {} does not exist{}", target(), looked_for())
            }
            ErrorKind::TargetUnreadable => match &self.source {
                Some(e) => format!("cannot read the target {}: {e}", target()),
                None => format!("cannot read the target {}", target()),
            },
            ErrorKind::TargetNotDirectory => {
                format!(
                    "the target {} is not a directory; a junction points at a directory",
                    target()
                )
            }
            ErrorKind::TargetIsDirectory => {
                format!(
                    "the target {} is a directory; hard links are for files",
                    target()
                )
            }
            ErrorKind::TargetIsDirectoryLink => format!(
                "the target {} is a link that NTFS keeps as a directory (a junction or a \
                 directory symlink), and NTFS never gives a directory a second name; a hard \
                 link needs an existing file",
                target()
            ),
            ErrorKind::FlavourMismatch { asked, found } => {
                let found = match found {
                    Flavour::Dir => "directory",
                    Flavour::File => "file",
                };
                format!(
                    "--{} was given, but the target {} is a {found}",
                    asked.name(),
                    target()
                )
            }
            ErrorKind::FlavourNeeded => format!(
                "the target {} does not exist{}, so knot cannot tell a file symlink from a directory symlink",
                target(),
                looked_for()
            ),
            ErrorKind::CrossDevice => format!(
                "the target {} is on another file system; a hard link must stay on one volume",
                target()
            ),
            ErrorKind::PrivilegeNeeded => "Windows lets only administrators create symbolic \
                links, unless Developer Mode is on (ERROR_PRIVILEGE_NOT_HELD)"
                .into(),
            ErrorKind::RemoteTarget => format!(
                "the target {} is on a network share; a junction can only lead to a local volume",
                target()
            ),
            ErrorKind::NotALink { what } => format!("it is a {what}, not a link"),
            ErrorKind::IsADirectory => "it is a directory; a directory has no other names \
                (hard links are for files)"
                .into(),
            ErrorKind::IsASymlink { .. } => {
                "it is a symlink with no other name, and knot does not \
                follow it"
                    .into()
            }
            ErrorKind::NotFound => match &self.source {
                Some(e) => e.to_string(),
                None => "no such file or directory".into(),
            },
            ErrorKind::ReadBack { expected, found } => format!(
                "the system reported success, but the link reads back as {found}, not {expected}"
            ),
            ErrorKind::Unsupported { why } => why.clone(),
            ErrorKind::BadLinkPath => "the path has no final name to create".into(),
            ErrorKind::LinkEndsInSeparator => "a trailing path separator makes it name the \
                directory it is or leads to, not a new link"
                .into(),
            ErrorKind::Loop { ancestor } => format!(
                "it leads back to {}, which contains it; not followed again",
                quote_lossy(ancestor)
            ),
            ErrorKind::ChangedDuringScan => {
                "it changed during the scan and is no longer the directory that was listed; \
                not followed"
                    .into()
            }
            ErrorKind::DirMissing { dir } => {
                format!("the directory {} does not exist", quote_lossy(dir))
            }
            ErrorKind::NotADirectory { path, what } => {
                format!(
                    "{} is a {}, not a directory",
                    quote_lossy(path),
                    plain(*what)
                )
            }
            ErrorKind::NoPermission { dir } => format!(
                "this user may not change the directory {} (permission denied)",
                quote_lossy(dir)
            ),
            ErrorKind::ReadOnlyFileSystem => "the file system that holds it is read-only".into(),
            ErrorKind::TooManyOpenFiles => {
                "too many open files: the limit on open files was reached".into()
            }
            ErrorKind::KernelFileSystem { name } => format!(
                "it is part of the kernel's {name} file system, whose links show the kernel's \
                 own state and cannot be removed"
            ),
            ErrorKind::TrailingSlash { link } => format!(
                "{} is a link, and the trailing slash leads through it to what it points at",
                quote_lossy(link)
            ),
            ErrorKind::JunctionNotRelative => {
                "it is a junction, and a junction always stores an absolute target".into()
            }
            ErrorKind::NoJunctions => "this file system has no junctions (they are NTFS's: \
                Windows, or an NTFS volume mounted with ntfs-3g)"
                .into(),
            ErrorKind::OutsideRoot { root } => {
                format!("the path leads outside the root {}", quote_lossy(root))
            }
            ErrorKind::LinkOnTheWay { path } => format!(
                "{} is a link, and knot apply never makes a link through one",
                quote_lossy(path)
            ),
            ErrorKind::BadRecord { why } => format!("the record {why}"),
            ErrorKind::Io => match &self.source {
                Some(e) => e.to_string(),
                None => "an unknown error".into(),
            },
        }
    }

    /// How to fix it, where one is known. The arguments-swapped fix needs the command line,
    /// which only the caller knows; it is reported as the kind [`ErrorKind::ArgumentsSwapped`].
    ///
    /// The fixes are written for the `knot` command line, which prints them as hints; in
    /// library terms its words mean:
    ///
    /// | the fix says | the library's |
    /// |---|---|
    /// | `--force` | [`Replace::Links`](crate::Replace::Links) in [`CreateOptions::replace`](crate::CreateOptions::replace) |
    /// | `--dir`, `--file` | [`CreateOptions::flavour`](crate::CreateOptions::flavour) |
    /// | `knot symlink`, `knot junction` | [`create`](crate::create) with [`LinkType::Symlink`](crate::LinkType::Symlink), [`LinkType::Junction`](crate::LinkType::Junction) |
    /// | `knot rm` | [`remove`](crate::remove) |
    pub fn fix(&self) -> Option<String> {
        Some(match &self.kind {
            ErrorKind::LinkExists => {
                "add --force to replace it if it is a link, or choose another name".into()
            }
            ErrorKind::ArgumentsSwapped => "the arguments look swapped: knot takes LINK first, \
                then TARGET (like mklink)"
                .into(),
            ErrorKind::WouldReplaceReal { .. } => {
                "move or delete it yourself first if you really mean to replace it".into()
            }
            ErrorKind::TargetMissing => match self.op {
                Op::CreateHardlink | Op::CreateJunction => {
                    "check the target path (a relative target is read from the current \
                     directory), or create the target first"
                        .into()
                }
                _ => "check the target path (a relative target is read from the link's \
                      directory), or create the target first"
                    .into(),
            },
            ErrorKind::TargetNotDirectory => "use `knot symlink` to link to a file".into(),
            ErrorKind::TargetIsDirectory => {
                "use `knot junction` or `knot symlink` to link to a directory".into()
            }
            ErrorKind::TargetIsDirectoryLink => "hard-link a file, or use `knot junction` or \
                `knot symlink` to link to a directory"
                .into(),
            ErrorKind::LinkEndsInSeparator => format!(
                "name the link without the trailing separator: '{}'",
                without_trailing_separators(&crate::escape::escape(self.path.as_os_str()))
            ),
            ErrorKind::FlavourMismatch { .. } => "drop --dir/--file: knot picks the flavour \
                from an existing target"
                .into(),
            ErrorKind::FlavourNeeded => "say which with --dir or --file".into(),
            ErrorKind::CrossDevice => {
                "use `knot symlink` across file systems, or copy the file".into()
            }
            ErrorKind::PrivilegeNeeded => "turn on Developer Mode (Settings > System > For \
                developers) or run knot as administrator; for a directory, `knot junction` \
                needs no privilege"
                .into(),
            ErrorKind::RemoteTarget => "use `knot symlink` to link to a network path".into(),
            ErrorKind::NotALink { what: Found::Dir } if self.op == Op::Convert => {
                "to convert the links below a directory, add --recursive".into()
            }
            ErrorKind::NotALink { .. } if matches!(self.op, Op::Retarget | Op::Convert) => {
                format!(
                    "knot {} changes symlinks and junctions only",
                    self.op.verb()
                )
            }
            ErrorKind::JunctionNotRelative => "make it a directory symlink, which can be \
                relative: knot convert --to-symlink, then knot convert --relative"
                .into(),
            ErrorKind::NoJunctions => "keep the symlink: it is what stands in for a junction \
                here"
                .into(),
            ErrorKind::NotALink { what: Found::File } => {
                "knot rm removes links only; delete files with rm (or del)".into()
            }
            ErrorKind::NotALink {
                what: Found::ReparseFile,
            } => "its data lives behind the reparse point (compression, deduplication or the \
                cloud); knot rm removes links only"
                .into(),
            ErrorKind::NotALink { what: Found::Dir } => {
                "knot rm removes links only; delete directories with rmdir (or rd)".into()
            }
            ErrorKind::DirMissing { dir } => format!(
                "create the directory {} first, or check the path",
                quote_lossy(dir)
            ),
            ErrorKind::NotADirectory { .. } => "a link lives in a directory: check the path".into(),
            ErrorKind::NoPermission { dir } => format!(
                "choose a directory this user may write to, or get write permission on {} \
                 (its owner, or root, can give it)",
                quote_lossy(dir)
            ),
            ErrorKind::ReadOnlyFileSystem => {
                "remount it read-write, or choose a place on another file system".into()
            }
            ErrorKind::TooManyOpenFiles => {
                "raise the limit on open files (`ulimit -n 4096`, say), or use fewer threads \
                 (--threads)"
                    .into()
            }
            ErrorKind::TrailingSlash { link } => format!(
                "name the link without the trailing slash: {}",
                quote_lossy(link)
            ),
            ErrorKind::OutsideRoot { .. } => "a manifest's paths are relative to the root, \
                without '..' (run `knot scan --json .` inside the tree to write them so)"
                .into(),
            ErrorKind::LinkOnTheWay { path } => format!(
                "make {} a real directory, or choose another root",
                quote_lossy(path)
            ),
            ErrorKind::IsADirectory => "name a file; to see a directory's hard-link groups: \
                `knot hardlinks --groups DIR`"
                .into(),
            ErrorKind::IsASymlink { leads_to } => match leads_to {
                Some(target) => format!(
                    "for the names of what it leads to: knot hardlinks {}",
                    quote_lossy(target)
                ),
                None => "name the file it leads to (it leads nowhere now)".into(),
            },
            _ => return None,
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot {} {}: {}",
            self.op.verb(),
            quote_lossy(&self.path),
            self.cause()
        )
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

impl From<Error> for io::Error {
    fn from(err: Error) -> io::Error {
        let kind = match (&err.kind, &err.source) {
            (_, Some(e)) => e.kind(),
            (ErrorKind::LinkExists | ErrorKind::ArgumentsSwapped, None) => {
                io::ErrorKind::AlreadyExists
            }
            (ErrorKind::TargetMissing | ErrorKind::NotFound, None) => io::ErrorKind::NotFound,
            (ErrorKind::CrossDevice, None) => io::ErrorKind::CrossesDevices,
            (ErrorKind::Unsupported { .. }, None) => io::ErrorKind::Unsupported,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, err)
    }
}

/// What was found, in the words of a create's messages: a plain "file" for a regular file,
/// as `ln` says it (`knot rm` says "regular file", [`Found::name`]).
fn plain(what: Found) -> &'static str {
    match what {
        Found::File => "file",
        other => other.name(),
    }
}

/// `J` from `J/`, `J//` or `J/.`; a path that is only separators stays as it is.
fn without_trailing_separators(mut path: &str) -> &str {
    let sep = std::path::is_separator;
    while let Some(rest) = path
        .strip_suffix(sep)
        .or_else(|| path.strip_suffix('.')?.strip_suffix(sep))
        .filter(|rest| !rest.is_empty())
    {
        path = rest;
    }
    path
}

/// `'path'`, for messages from the library; the CLI quotes and escapes paths itself.
fn quote_lossy(path: &Path) -> String {
    format!("'{}'", crate::escape::escape(path.as_os_str()))
}

/// The public kind of a failure from the platform layer: its own case where it carries
/// one (a refusal, with its reason, or a failure of the I/O it names), else what the OS
/// error says.
pub(crate) fn public_kind(err: &io::Error) -> ErrorKind {
    use crate::sys::{Backend as _, Os, OsError};
    if let Some(sys) = crate::sys::error::of(err) {
        return if sys.is_refusal() {
            ErrorKind::Unsupported {
                why: sys.to_string(),
            }
        } else {
            ErrorKind::Io
        };
    }
    match Os::os_error_kind(err) {
        Some(OsError::PrivilegeNeeded) => return ErrorKind::PrivilegeNeeded,
        Some(OsError::CrossDevice) => return ErrorKind::CrossDevice,
        Some(OsError::TooManyOpenFiles) => return ErrorKind::TooManyOpenFiles,
        None => {}
    }
    match err.kind() {
        io::ErrorKind::NotFound => ErrorKind::NotFound,
        io::ErrorKind::CrossesDevices => ErrorKind::CrossDevice,
        io::ErrorKind::Unsupported => ErrorKind::Unsupported {
            why: err.to_string(),
        },
        _ => ErrorKind::Io,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The platform layer's cases map to their public kinds: a refusal with its reason, a
    /// failure as I/O; a plain OS error by its kind.
    #[test]
    fn platform_cases_map_to_public_kinds() {
        use crate::sys::error::Error as SysError;
        let err = io::Error::from(SysError::Replaced);
        assert!(matches!(public_kind(&err), ErrorKind::Io));
        let why = "the target 'x' is outside the NTFS volume".to_owned();
        let err = io::Error::from(SysError::OutsideVolume {
            target: PathBuf::from("x"),
            why: why.clone(),
        });
        assert!(matches!(public_kind(&err), ErrorKind::Unsupported { why: w } if w == why));
        let err = io::Error::from(io::ErrorKind::NotFound);
        assert!(matches!(public_kind(&err), ErrorKind::NotFound));
        let err = io::Error::new(io::ErrorKind::Unsupported, "no");
        assert!(matches!(public_kind(&err), ErrorKind::Unsupported { why } if why == "no"));
    }
    use crate::link::Special;

    fn error(op: Op, kind: ErrorKind) -> Error {
        Error::new(op, Path::new("p"), kind).with_target(Path::new("t"))
    }

    /// The causes and fixes come from the payloads' values, never from their wording.
    #[test]
    fn what_was_found_gives_the_cause_and_the_fix() {
        let cases = [
            (
                Found::File,
                "it is a regular file, not a link",
                Some("knot rm removes links only; delete files with rm (or del)"),
            ),
            (
                Found::Dir,
                "it is a directory, not a link",
                Some("knot rm removes links only; delete directories with rmdir (or rd)"),
            ),
            (
                Found::ReparseFile,
                "it is a file with a reparse point, not a link",
                Some(
                    "its data lives behind the reparse point (compression, deduplication or \
                     the cloud); knot rm removes links only",
                ),
            ),
            (
                Found::Special(Some(Special::Fifo)),
                "it is a FIFO, not a link",
                None,
            ),
            (
                Found::Special(None),
                "it is a special file, not a link",
                None,
            ),
        ];
        for (what, cause, fix) in cases {
            let err = error(Op::Remove, ErrorKind::NotALink { what });
            assert_eq!(err.cause(), cause);
            assert_eq!(err.fix().as_deref(), fix, "{what:?}");
        }
        for (what, word) in [
            (Found::File, "file"),
            (Found::Dir, "directory"),
            (Found::ReparseFile, "file with a reparse point"),
            (Found::Special(None), "special file"),
        ] {
            let err = error(Op::CreateSymlink, ErrorKind::WouldReplaceReal { what });
            assert_eq!(
                err.cause(),
                format!("it is a {word}, not a link; --force replaces only links")
            );
            assert!(err.fix().is_some());
        }
    }

    #[test]
    fn a_part_of_the_path_that_is_no_directory() {
        for (what, cause) in [
            (Found::File, "'f' is a file, not a directory"),
            (
                Found::Special(None),
                "'f' is a special file, not a directory",
            ),
        ] {
            let kind = ErrorKind::NotADirectory {
                path: PathBuf::from("f"),
                what,
            };
            assert_eq!(error(Op::CreateSymlink, kind).cause(), cause);
        }
    }

    #[test]
    fn flavour_mismatch_names_both_flavours() {
        let err = error(
            Op::CreateSymlink,
            ErrorKind::FlavourMismatch {
                asked: Flavour::Dir,
                found: Flavour::File,
            },
        );
        assert_eq!(err.cause(), "--dir was given, but the target 't' is a file");
        let err = error(
            Op::CreateSymlink,
            ErrorKind::FlavourMismatch {
                asked: Flavour::File,
                found: Flavour::Dir,
            },
        );
        assert_eq!(
            err.cause(),
            "--file was given, but the target 't' is a directory"
        );
        assert_eq!(
            err.fix().as_deref(),
            Some("drop --dir/--file: knot picks the flavour from an existing target")
        );
    }
}
