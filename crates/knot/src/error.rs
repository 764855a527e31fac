//! Errors that name the operation, the paths and the cause, as typed values (DESIGN.md
//! promise 7). Shaped like walkdir's `Error`: accessors, a `source`, a neutral `Display`
//! that names no command or flag of a front end, and a conversion into `io::Error`. The
//! words a person reads, causes and fixes, belong to the front end (the knot command
//! line words them from [`Error::kind`]).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use knot_reparse::Tag;

use crate::link::{Flavour, Found, Kind};

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
    /// Copying a tree ([`copy`](fn@crate::copy), the CLI's `knot copy`).
    Copy,
    /// Replacing a link with a copy of what it leads to
    /// ([`materialize`](crate::copy::materialize()), the CLI's `knot materialize`).
    Materialize,
    /// Making a Git symlink entry's placeholder a real link
    /// ([`git_links`](crate::git_links), the CLI's `knot git-links`).
    GitLinks,
    /// Running Git on a repository ([`git_links`](crate::git_links)).
    Git,
    /// Removing a directory tree ([`remove_tree`](crate::remove_tree()), the CLI's
    /// `knot rm --tree`).
    RemoveTree,
    /// Moving a directory and leaving a link to it ([`relocate`](crate::relocate()), the
    /// CLI's `knot move`).
    Move,
    /// Moving a directory back to where a link to it stands
    /// ([`relocate_back`](crate::relocate_back()), the CLI's `knot move --back`).
    MoveBack,
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
            Op::Copy => "copy",
            Op::Materialize => "materialize",
            Op::GitLinks => "make a real link of",
            Op::Git => "use the Git repository",
            Op::RemoveTree => "remove the tree",
            Op::Move => "move",
            Op::MoveBack => "move back",
        }
    }
}

/// Why Git gave no answer ([`ErrorKind::Git`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GitFailure {
    /// `git` cannot be run: not installed, or not on `PATH`.
    Missing,
    /// The path given is in no Git work tree (or in one Git refuses to read:
    /// `safe.directory`); what Git said tells which.
    NotAWorkTree,
    /// Git ran and failed (a lock held by another Git, say), or gave output knot cannot
    /// read.
    Failed,
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
    /// The link was made, but reading it back did not give what was asked: both as the
    /// read-back check renders them (a quoted target, or what stands there instead).
    ReadBack {
        /// What was asked for.
        expected: String,
        /// What the file system holds.
        found: String,
    },
    /// This platform or file system cannot do the operation.
    Unsupported {
        /// Why, in a few words: the message of the platform layer's own typed refusal (a
        /// target Windows could not follow or store, a volume with no junctions), or of
        /// the system's `Unsupported` error. It stays text because the refusal's reason is
        /// the platform's to word, with the paths it names; its kind is this variant.
        why: String,
    },
    /// Git could not be run, or said the path is in no work tree, or failed, or gave
    /// output knot cannot read ([`git_links`](crate::git_links)).
    Git {
        /// What Git was asked and how it ended, in a few words.
        why: String,
        /// Which of these it is.
        failure: GitFailure,
        /// What Git said on its standard error, a line each.
        said: Vec<String>,
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
    /// `path` (the entry itself, or a directory on the way to it) is a reparse point that
    /// holds data and that this system cannot open: on an NTFS volume mounted with
    /// ntfs-3g, a cloud placeholder (`OneDrive/Documents`) or a file compressed by Windows
    /// (WOF), which ntfs-3g shows as a symlink to nowhere. It is not a link.
    ReparsePoint {
        /// The reparse point.
        path: PathBuf,
        /// Its tag.
        tag: Tag,
    },
    /// A scan that follows links met a directory it cannot enter: a reparse point that
    /// leads nowhere this system follows (on ntfs-3g, a cloud placeholder directory), with
    /// its tag. Not a failure: the scan goes on, and says so.
    NotEntered {
        /// Its tag.
        tag: Tag,
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
    /// Windows' SymlinkEvaluation policy does not let a symlink of this class be followed
    /// here (ERROR_SYMLINK_CLASS_DISABLED, 1463): by default a symlink met through a
    /// network share (remote to remote, remote to local) is not followed on the client.
    SymlinkEvaluation,
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
    /// `knot convert --to-native` of an entry that is no link in a form Windows cannot
    /// follow (a Cygwin or MSYS2 `!<symlink>` file, a WSL symlink), or one whose target
    /// has no Windows form: why, in a few words, naming what is wrong.
    NotForeignLink {
        /// Why: the attribute, magic or target text that is missing or wrong.
        why: String,
    },
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
        /// Why.
        why: BadRecord,
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
    /// A tree copy's destination is there and is not an empty directory.
    DestinationNotEmpty,
    /// A tree copy's destination lies inside its source, which would copy the copy.
    DestinationInsideSource {
        /// The source.
        source: PathBuf,
    },
    /// A tree copy's source lies inside its destination (an earlier copy to update, or a
    /// directory holding it): updating or mirroring would replace or remove the source.
    SourceInsideDestination {
        /// The source.
        source: PathBuf,
    },
    /// A tree copy's destination is a link (a symlink, a junction), which knot does not
    /// follow at the destination's name.
    DestinationIsALink,
    /// A tree copy's destination is there and is no directory.
    DestinationNotADirectory {
        /// What it is: a file or a special file.
        what: Found,
    },
    /// A snapshot's destination is there and is not an empty directory: a snapshot is a
    /// new tree.
    SnapshotNotNew {
        /// The previous snapshot, where the destination is it.
        previous: Option<PathBuf>,
    },
    /// A snapshot's destination lies inside the previous snapshot, which a snapshot only
    /// reads.
    InsidePrevious {
        /// The previous snapshot.
        previous: PathBuf,
    },
    /// A snapshot's previous snapshot is its source itself: the snapshot's files would be
    /// hard links to the live files.
    PreviousIsSource {
        /// The previous snapshot, as named.
        previous: PathBuf,
    },
    /// A tree copy's source is not a directory.
    SourceNotADirectory,
    /// A special file (a FIFO, a socket, a device) met in a tree copy, which knot does
    /// not copy.
    SpecialFile,
    /// A tree to remove ([`remove_tree`](crate::remove_tree())) is itself a link, which
    /// is never followed: the link is what `knot rm` removes.
    TreeIsALink,
    /// A tree to remove is not a directory.
    TreeNotADirectory {
        /// What it is: a file or a special file.
        what: Found,
    },
    /// A tree to remove is the root directory (`/`, `C:\`), or holds the current
    /// directory (`.`, `..`, an ancestor of it).
    TreeRefused {
        /// Whether it holds the current directory (else it is a root).
        holds_current: bool,
    },
    /// A mount point inside a tree being removed: another file system, or a bind mount,
    /// is mounted there; it is not entered, and the directories above it stay.
    MountPointInTree,
    /// A directory of a tree being removed is no longer the one its directory listed (it
    /// was replaced meanwhile): it is left as it is, never gone through.
    ReplacedDuringRemoval,
    /// A move's new place is there already: a move makes a new path.
    MoveDestinationExists,
    /// A move's new place is inside the directory moved, or the directory holds it.
    MoveIntoItself,
    /// A link knot was asked to move back ([`relocate_back`](crate::relocate_back())) is
    /// not one a move would have left: a junction or directory symlink leading straight to
    /// a real directory.
    NotAMovedLink {
        /// What it is instead.
        why: NotMoved,
    },
    /// A move across file systems whose copy failed or differs from the source: the copy
    /// is removed, the source is left as it was.
    MoveCopyFailed {
        /// How many entries failed to copy (each was reported).
        failed: u64,
        /// The first difference found by the check, where the copy was made but differs.
        differs: Option<String>,
        /// Whether the difference is the source's: something written into it while it was
        /// copied (found once it was set aside, before the link: the move undone).
        changed: bool,
    },
    /// A move stopped after the data was moved or copied, and could not undo what it had
    /// done: where the data is now, whole, and what is left to finish by hand.
    MoveStopped {
        /// Where the data is, whole.
        data: PathBuf,
        /// What is left to do (the step that failed, as [`MoveLeft`] says); boxed, to keep
        /// the error small.
        left: Box<MoveLeft>,
    },
    /// Any other failure of the system call.
    Io,
}

/// Why a link is not one a move would have left ([`ErrorKind::NotAMovedLink`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotMoved {
    /// It is a real directory, no link.
    RealDirectory,
    /// It is a file, or a special file, no link.
    NotALink,
    /// A file symlink (or a link to a file).
    FileLink,
    /// It leads nowhere.
    Dangling,
    /// It leads to another link.
    LinkToLink,
    /// It leads to the directory that holds it, or inside itself.
    LeadsAbove,
    /// It stores a relative target, which a move never leaves (a link another tool made,
    /// such as a pnpm or workspace link).
    RelativeTarget,
}

/// What a stopped move leaves to do by hand ([`ErrorKind::MoveStopped`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MoveLeft {
    /// The link at the old place could not be made: the data is at its new place only.
    MakeLink {
        /// Where the link belongs.
        at: PathBuf,
        /// Where the old data was set aside (across file systems), under a hidden name.
        aside: Option<PathBuf>,
    },
    /// The old copy of the data could not be removed (in full): it stays at this hidden
    /// name, which may be removed with a tree removal.
    RemoveOld {
        /// The hidden name.
        at: PathBuf,
    },
    /// The data is under a hidden name: rename it to this path.
    RenameTo {
        /// Where the data belongs.
        to: PathBuf,
    },
    /// The old data changed while it was copied (something was written into it): it is
    /// kept at this path, for what changed to be brought over by hand.
    Changed {
        /// Where the old data is kept.
        at: PathBuf,
        /// What changed first, in words (`'a/b' was changed`).
        why: String,
    },
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

    pub(crate) fn with_path(mut self, path: &Path) -> Error {
        self.path = path.into();
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

    /// Whether the operation may succeed if tried again: the entry changed while knot
    /// worked on it (it was replaced, or kept changing on every try), and knot left it as
    /// it was. Any other error is a failure that a second try would meet again.
    pub fn is_retryable(&self) -> bool {
        self.source
            .as_ref()
            .and_then(crate::sys::error::of)
            .is_some_and(crate::sys::error::Error::is_retryable)
    }

    /// The error as an `io::Error` whose message is this error's and whose kind is the
    /// underlying system error's, else the nearest to [`Error::kind`]
    /// (`AlreadyExists`, `NotFound`, `CrossesDevices`, `Unsupported`, else `Other`).
    pub fn into_io_error(self) -> io::Error {
        let kind = match (&self.kind, &self.source) {
            (_, Some(e)) => e.kind(),
            (ErrorKind::LinkExists | ErrorKind::ArgumentsSwapped, None) => {
                io::ErrorKind::AlreadyExists
            }
            (ErrorKind::TargetMissing | ErrorKind::NotFound, None) => io::ErrorKind::NotFound,
            (ErrorKind::CrossDevice, None) => io::ErrorKind::CrossesDevices,
            (ErrorKind::Unsupported { .. }, None) => io::ErrorKind::Unsupported,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, self)
    }

    /// The cause in a few neutral words, as a phrase after "cannot {op} 'path': ". A
    /// program that shows errors to people words its own causes and hints from
    /// [`Error::kind`] (the knot command line does).
    fn cause(&self) -> String {
        let target = || quote_lossy(self.target.as_deref().unwrap_or(Path::new("")));
        let system = |none: &str| self.source.as_ref().map_or(none.into(), |e| e.to_string());
        let looked_for = || {
            self.looked_for
                .as_deref()
                .map(|p| format!(" (looked for {})", quote_lossy(p)))
                .unwrap_or_default()
        };
        match &self.kind {
            ErrorKind::LinkExists => "it already exists".into(),
            ErrorKind::ArgumentsSwapped => {
                format!("it exists, and the target {} does not", target())
            }
            ErrorKind::WouldReplaceReal { what } => format!("it is a {what}, not a link"),
            ErrorKind::TargetMissing => {
                format!("the target {} does not exist{}", target(), looked_for())
            }
            ErrorKind::TargetUnreadable => match &self.source {
                Some(e) => format!("cannot read the target {}: {e}", target()),
                None => format!("cannot read the target {}", target()),
            },
            ErrorKind::TargetNotDirectory => format!("the target {} is not a directory", target()),
            ErrorKind::TargetIsDirectory => format!("the target {} is a directory", target()),
            ErrorKind::TargetIsDirectoryLink => {
                format!("the target {} is a directory link", target())
            }
            ErrorKind::FlavourMismatch { found, .. } => {
                format!("the target {} is a {}", target(), flavour_word(*found))
            }
            ErrorKind::FlavourNeeded => format!(
                "the target {} does not exist{}, and the flavour is not given",
                target(),
                looked_for()
            ),
            ErrorKind::CrossDevice => format!("the target {} is on another file system", target()),
            ErrorKind::PrivilegeNeeded => "Windows lets only administrators create symbolic \
                links, unless Developer Mode is on (ERROR_PRIVILEGE_NOT_HELD)"
                .into(),
            ErrorKind::RemoteTarget => format!("the target {} is on the network", target()),
            ErrorKind::NotALink { what } => format!("it is a {what}, not a link"),
            ErrorKind::NotFound => system("no such file or directory"),
            ErrorKind::ReadBack { expected, found } => {
                format!("it reads back as {found}, not {expected}")
            }
            ErrorKind::Unsupported { why } => why.clone(),
            ErrorKind::Git { why, said, .. } if said.is_empty() => why.clone(),
            ErrorKind::Git { why, said, .. } => format!("{why}: {}", said.join("; ")),
            ErrorKind::BadLinkPath => "the path has no final name".into(),
            ErrorKind::LinkEndsInSeparator => "the path ends with a separator".into(),
            ErrorKind::Loop { ancestor } => format!("it leads back to {}", quote_lossy(ancestor)),
            ErrorKind::ChangedDuringScan => "it changed during the scan".into(),
            ErrorKind::DirMissing { dir } => format!("{} does not exist", quote_lossy(dir)),
            ErrorKind::NotEntered { tag } => format!(
                "it is a directory this system cannot open ({:#010x}); not followed",
                tag.0
            ),
            ErrorKind::ReparsePoint { path, tag } => format!(
                "{} is a reparse point this system cannot open ({:#010x})",
                quote_lossy(path),
                tag.0
            ),
            ErrorKind::NotADirectory { path, what } => {
                format!("{} is a {what}, not a directory", quote_lossy(path))
            }
            ErrorKind::NoPermission { dir } => format!("permission denied on {}", quote_lossy(dir)),
            ErrorKind::ReadOnlyFileSystem => "read-only file system".into(),
            ErrorKind::TooManyOpenFiles => "too many open files".into(),
            ErrorKind::SymlinkEvaluation => SYMLINK_EVALUATION.into(),
            ErrorKind::KernelFileSystem { name } => format!("it is part of the {name} file system"),
            ErrorKind::TrailingSlash { link } => {
                format!("it ends in a slash after the link {}", quote_lossy(link))
            }
            ErrorKind::JunctionNotRelative => "a junction cannot store a relative target".into(),
            ErrorKind::NoJunctions => "this file system has no junctions".into(),
            ErrorKind::NotForeignLink { why } => why.clone(),
            ErrorKind::OutsideRoot { root } => format!("it leads outside {}", quote_lossy(root)),
            ErrorKind::LinkOnTheWay { path } => format!("{} is a link", quote_lossy(path)),
            ErrorKind::BadRecord { why } => format!("the record {why}"),
            ErrorKind::IsADirectory => "it is a directory".into(),
            ErrorKind::IsASymlink { .. } => "it is a symlink".into(),
            ErrorKind::DestinationNotEmpty => "it is there and is not an empty directory".into(),
            ErrorKind::DestinationInsideSource { source } => {
                format!("it is inside {}", quote_lossy(source))
            }
            ErrorKind::SourceInsideDestination { source } => {
                format!("it holds {}", quote_lossy(source))
            }
            ErrorKind::DestinationIsALink => {
                "it is a link, which knot does not follow at the destination's name".into()
            }
            ErrorKind::DestinationNotADirectory { what } => {
                format!("it is a {}, not a directory", what.name())
            }
            ErrorKind::SnapshotNotNew {
                previous: Some(previous),
            } => format!(
                "it is the previous snapshot {} itself",
                quote_lossy(previous)
            ),
            ErrorKind::SnapshotNotNew { previous: None } => {
                "it is there and is not an empty directory; a snapshot is a new tree".into()
            }
            ErrorKind::InsidePrevious { previous } => format!(
                "it is inside the previous snapshot {}, which a snapshot only reads",
                quote_lossy(previous)
            ),
            ErrorKind::PreviousIsSource { previous } => format!(
                "its previous snapshot {} is the source itself: its files would be hard links \
                 to the live files, changing with them",
                quote_lossy(previous)
            ),
            ErrorKind::SourceNotADirectory => "it is not a directory".into(),
            ErrorKind::SpecialFile => "it is a special file, which is not copied".into(),
            ErrorKind::TreeIsALink => "it is a link, which is not followed".into(),
            ErrorKind::TreeNotADirectory { what } => format!("it is a {what}, not a directory"),
            ErrorKind::TreeRefused {
                holds_current: true,
            } => "it holds the current directory".into(),
            ErrorKind::TreeRefused {
                holds_current: false,
            } => "it is the root directory".into(),
            ErrorKind::MountPointInTree => "it is a mount point".into(),
            ErrorKind::ReplacedDuringRemoval => "it was replaced while the tree was removed".into(),
            ErrorKind::MoveDestinationExists => "the new place is there already".into(),
            ErrorKind::MoveIntoItself => "the new place is inside the directory moved".into(),
            ErrorKind::NotAMovedLink { why } => why.phrase().into(),
            ErrorKind::MoveCopyFailed {
                differs: Some(why),
                changed: true,
                ..
            } => format!("the source changed: {why}; nothing was moved"),
            ErrorKind::MoveCopyFailed {
                differs: Some(why), ..
            } => format!("the copy differs from the source at {why}"),
            ErrorKind::MoveCopyFailed { failed, .. } => {
                format!("{failed} entries could not be copied")
            }
            ErrorKind::MoveStopped { data, .. } => {
                format!(
                    "the move stopped; the data is whole at {}",
                    quote_lossy(data)
                )
            }
            ErrorKind::Io => system("an unknown error"),
        }
    }
}

impl NotMoved {
    /// What the link is, as a phrase after "cannot move back 'path': ".
    pub fn phrase(self) -> &'static str {
        match self {
            NotMoved::RealDirectory => "it is a real directory, not a link",
            NotMoved::NotALink => "it is not a junction or a directory symlink",
            NotMoved::FileLink => "it is a link to a file, not to a directory",
            NotMoved::Dangling => "it leads nowhere",
            NotMoved::LinkToLink => "it leads to another link, not straight to the data",
            NotMoved::LeadsAbove => "it leads to a directory that holds it",
            NotMoved::RelativeTarget => {
                "it stores a relative target, which knot move never leaves (a link another \
                 tool made, such as a pnpm or workspace link)"
            }
        }
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
        err.into_io_error()
    }
}

/// What a manifest's record is refused for ([`ErrorKind::BadRecord`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BadRecord {
    /// Its kind is none that [`apply`](fn@crate::apply) makes (only symlink, junction and
    /// hardlink): the kind as the record writes it.
    KindNotMade {
        /// The record's `kind`.
        kind: String,
    },
    /// It has no target; `kind` is the kind it asks for (a hard link is made again from
    /// another name of the file, given as its target).
    NoTarget {
        /// The kind the record asks for.
        kind: Kind,
    },
    /// Its target is the empty string, which names nothing (a junction's would be read
    /// as the root itself); `kind` is the kind it asks for.
    EmptyTarget {
        /// The kind the record asks for.
        kind: Kind,
    },
}

impl fmt::Display for BadRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadRecord::KindNotMade { kind } => write!(
                f,
                "is of kind '{}', which is not made",
                knot_names::escape::escape(kind.as_ref())
            ),
            BadRecord::NoTarget { .. } => f.write_str("has no target"),
            BadRecord::EmptyTarget { .. } => f.write_str("has an empty target"),
        }
    }
}

/// "file" or "directory".
fn flavour_word(flavour: Flavour) -> &'static str {
    match flavour {
        Flavour::Dir => "directory",
        Flavour::File => "file",
    }
}
/// `'path'`, for messages from the library; the CLI quotes and escapes paths itself.
pub(crate) fn quote_lossy(path: &Path) -> String {
    format!("'{}'", knot_names::escape::escape(path.as_os_str()))
}

/// The cause of [`ErrorKind::SymlinkEvaluation`], as the library and the command line word
/// it.
pub(crate) const SYMLINK_EVALUATION: &str = "Windows' SymlinkEvaluation policy does not let \
    a symbolic link met through a network share be followed here \
    (ERROR_SYMLINK_CLASS_DISABLED)";

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
        Some(OsError::SymlinkEvaluation) => return ErrorKind::SymlinkEvaluation,
        Some(OsError::NotAReparsePoint) | None => {}
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

    /// The library's message names what was found from the payload's value, and names no
    /// flag or command of a front end.
    #[test]
    fn the_display_is_neutral() {
        let cases = [
            (
                Op::Remove,
                ErrorKind::NotALink {
                    what: Found::Special(Some(Special::Fifo)),
                },
                "cannot remove 'p': it is a FIFO, not a link",
            ),
            (
                Op::CreateSymlink,
                ErrorKind::WouldReplaceReal { what: Found::Dir },
                "cannot create symlink 'p': it is a directory, not a link",
            ),
            (
                Op::Apply,
                ErrorKind::WouldReplaceReal { what: Found::File },
                "cannot apply 'p': it is a regular file, not a link",
            ),
            (
                Op::CreateSymlink,
                ErrorKind::FlavourMismatch {
                    asked: Flavour::Dir,
                    found: Flavour::File,
                },
                "cannot create symlink 'p': the target 't' is a file",
            ),
            (
                Op::CreateSymlink,
                ErrorKind::NotADirectory {
                    path: PathBuf::from("f"),
                    what: Found::Special(None),
                },
                "cannot create symlink 'p': 'f' is a special file, not a directory",
            ),
            (
                Op::Apply,
                ErrorKind::BadRecord {
                    why: BadRecord::NoTarget {
                        kind: Kind::Hardlink,
                    },
                },
                "cannot apply 'p': the record has no target",
            ),
        ];
        for (op, kind, expected) in cases {
            assert_eq!(error(op, kind).to_string(), expected);
        }
    }

    /// A race (the entry replaced, or changing on every try) is retryable; a refusal or a
    /// failure of the system call is not. The `io::Error` keeps the system's kind.
    #[test]
    fn races_are_retryable_and_failures_are_not() {
        use crate::sys::error::Error as SysError;
        let race = |sys: SysError| Error::io(Op::Remove, Path::new("p"), sys.into());
        assert!(race(SysError::Replaced).is_retryable());
        assert!(race(SysError::KeptChanging).is_retryable());
        assert!(race(SysError::KeptChangingWhileRead).is_retryable());
        assert!(!race(SysError::NoJunctions).is_retryable());
        let denied = io::Error::from(io::ErrorKind::PermissionDenied);
        let err = Error::io(Op::Remove, Path::new("p"), denied);
        assert!(!err.is_retryable());
        assert_eq!(err.into_io_error().kind(), io::ErrorKind::PermissionDenied);
        let err = error(Op::CreateSymlink, ErrorKind::LinkExists);
        assert!(!err.is_retryable());
        let io = io::Error::from(err);
        assert_eq!(io.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(
            io.to_string(),
            "cannot create symlink 'p': it already exists"
        );
    }
}
