//! The error line, "PROGRAM: cannot OP 'PATH': CAUSE", and knot's hints after it. The
//! causes and hints are worded here, from `knot::Error`'s kind and payloads: the library's
//! own `Display` is neutral and names no command or flag (as walkdir's), and every word a
//! user reads is the CLI's. The mklink and junction front ends take [`cause`] and [`fix`]
//! from here where they have no words of their own.
//!
//! Also the run's "errored" flag (ripgrep's `messages.rs`): [`fail`] reports an error, under
//! the progress line, and marks the run failed, so `main` ends it with exit 1 however
//! many threads met errors.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use knot::{BadRecord, ErrorKind, Flavour, Found, GitFailure, Op};

use crate::context::Context;
use crate::report::escape::{escape, escape_text, quote, shell_line, shell_word};
use crate::report::{Messages, progress};

/// Set once any error was reported through [`fail`].
static ERRORED: AtomicBool = AtomicBool::new(false);

/// Reports `err` with its hints (wiping the progress line while it is written) and marks
/// the run failed.
pub fn fail(err: &knot::Error, context: &Context) {
    progress::suspend(|| report(err, context));
    mark_failed();
}

/// Marks the run failed, for a failure reported in other words than [`report`]'s.
pub fn mark_failed() {
    ERRORED.store(true, Ordering::Relaxed);
}

/// Whether [`fail`] or [`mark_failed`] was called during this run.
pub fn errored() -> bool {
    ERRORED.load(Ordering::Relaxed)
}

/// Prints an error as "knot: cannot OP 'PATH': CAUSE", then the fix.
pub fn report(err: &knot::Error, context: &Context) {
    let messages = Messages::of(context);
    messages.error(&error_line(err));
    if let ErrorKind::Git { said, .. } = err.kind() {
        for line in said {
            messages.error(&format!("git: {}", escape_text(line.as_bytes())));
        }
    }
    if let ErrorKind::TrailingSlash { link } = err.kind() {
        let (verb, line) = match err.op() {
            knot::Op::Remove => ("remove", command(context, "rm", link.as_os_str())),
            knot::Op::Materialize => (
                "materialize",
                command(context, "materialize", link.as_os_str()),
            ),
            // The command as typed, the link named without the slash.
            op @ (knot::Op::Retarget | knot::Op::Convert) => (
                op.verb(),
                without_slash(err.path().as_os_str(), link.as_os_str(), context),
            ),
            _ => ("see", command(context, "show", link.as_os_str())),
        };
        messages.hint(&format!(
            "to {verb} the link itself, leave off the slash: {line}"
        ));
    } else if let Some(fix) = fix(err) {
        messages.hint(&fix);
    }
    if *err.kind() == ErrorKind::ArgumentsSwapped {
        let link = err.path().as_os_str();
        let target = err.target().map(Path::as_os_str).unwrap_or_default();
        let swapped = swapped_command(link, target, context.program.name, &context.args);
        messages.hint(&format!("did you mean: {swapped}"));
    }
}

/// [`report`] of the error of a manifest's record (`knot apply`): its hints speak of the
/// record, whose targets are read from the root, and not of options apply does not have.
pub fn report_record(err: &knot::Error, context: &Context) {
    let Some(fix) = record_fix(err) else {
        return report(err, context);
    };
    let messages = Messages::of(context);
    messages.error(&error_line(err));
    messages.hint(&fix);
}

/// The fix of a record's error where it differs from a command's.
fn record_fix(err: &knot::Error) -> Option<String> {
    Some(match err.kind() {
        // A scan's hard-link records name their group's first name, a file: apply makes
        // the other names from it, not the file itself.
        ErrorKind::TargetMissing
            if err.op() == knot::Op::CreateHardlink && err.target() == Some(err.path()) =>
        {
            "it is the first name of its hard-link group (its target is itself), a file, \
             which apply does not make: copy the file there first, then apply again"
                .into()
        }
        ErrorKind::TargetMissing => "check the record's target (a relative target is read from \
            the root, a symlink's from the link's directory), or make the target first"
            .into(),
        ErrorKind::FlavourMismatch { .. } | ErrorKind::FlavourNeeded => {
            "correct the record's \"dir\", or leave it out: knot picks the flavour from an \
             existing target"
                .into()
        }
        _ => return None,
    })
}

/// "cannot OP 'PATH': CAUSE", the error line without the program's name.
pub fn error_line(err: &knot::Error) -> String {
    // Causes quote paths the library escaped already, and may hold a system's message:
    // escape what could still drive the terminal, but not the backslashes of those escapes.
    format!(
        "cannot {} {}: {}",
        err.op().verb(),
        quote(err.path().as_os_str()),
        escape_text(cause(err).as_bytes())
    )
}

/// The cause, in knot's words: the phrase after "cannot OP 'PATH': ". Built from the
/// error's kind and its payloads' values; the library's own `Display` is neutral.
pub fn cause(err: &knot::Error) -> String {
    target_cause(err).unwrap_or_else(|| path_cause(err))
}

/// The cause of an error about the target, or `None` for another kind.
fn target_cause(err: &knot::Error) -> Option<String> {
    let target = || quote_path(err.target().unwrap_or(Path::new("")));
    let looked_for = || {
        err.looked_for()
            .map(|p| format!(" (looked for {})", quote_path(p)))
            .unwrap_or_default()
    };
    Some(match err.kind() {
        ErrorKind::ArgumentsSwapped => {
            format!("it already exists, and the target {} does not", target())
        }
        ErrorKind::TargetMissing => {
            format!("the target {} does not exist{}", target(), looked_for())
        }
        ErrorKind::TargetUnreadable => match err.io_error() {
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
        _ => return None,
    })
}

/// The cause of an error about the path itself, or of any kind [`target_cause`] does not
/// word.
fn path_cause(err: &knot::Error) -> String {
    match err.kind() {
        ErrorKind::LinkExists => "it already exists".into(),
        ErrorKind::WouldReplaceReal { what } => {
            let who = if err.op() == Op::Apply {
                "knot apply"
            } else {
                "--force"
            };
            format!(
                "it is a {}, not a link; {who} replaces only links",
                plain(*what)
            )
        }
        ErrorKind::NotALink { what } => format!("it is a {what}, not a link"),
        ErrorKind::IsADirectory => "it is a directory; a directory has no other names \
            (hard links are for files)"
            .into(),
        ErrorKind::IsASymlink { .. } => "it is a symlink with no other name, and knot does not \
            follow it"
            .into(),
        ErrorKind::NotFound => match err.io_error() {
            // The directories on the way exist (the library names the one that does not):
            // the last name is what is missing.
            Some(e) if e.kind() == std::io::ErrorKind::NotFound => "it does not exist".into(),
            Some(e) => e.to_string(),
            None => "no such file or directory".into(),
        },
        ErrorKind::ReadBack { expected, found } => format!(
            "the system reported success, but the link reads back as {found}, not {expected}"
        ),
        ErrorKind::Unsupported { why } | ErrorKind::Git { why, .. } => why.clone(),
        ErrorKind::BadLinkPath => "the path has no final name to create".into(),
        ErrorKind::LinkEndsInSeparator => "a trailing path separator makes it name the \
            directory it is or leads to, not a new link"
            .into(),
        ErrorKind::Loop { ancestor } if err.op() == Op::Materialize => format!(
            "it leads to {}, which holds it or was copied to make the directory it is in: \
             its copy would hold itself",
            quote_path(ancestor)
        ),
        ErrorKind::Loop { ancestor } => format!(
            "it leads back to {}, which contains it; not followed again",
            quote_path(ancestor)
        ),
        ErrorKind::ChangedDuringScan => {
            "it changed during the scan and is no longer the directory that was listed; \
            not followed"
                .into()
        }
        ErrorKind::DirMissing { dir } => {
            format!("the directory {} does not exist", quote_path(dir))
        }
        ErrorKind::ReparsePoint { path, tag } => {
            let what = if tag.is_cloud() {
                "a cloud placeholder"
            } else {
                "a reparse point"
            };
            let subject = if path == err.path() {
                "it".to_owned()
            } else {
                quote_path(path)
            };
            format!(
                "{subject} is {what} ({}, {:#010x}) that this system cannot open; it is not \
                 a link",
                tag.kind_name(),
                tag.0
            )
        }
        ErrorKind::NotADirectory { path, what } => {
            format!(
                "{} is a {}, not a directory",
                quote_path(path),
                plain(*what)
            )
        }
        ErrorKind::NoPermission { dir } => format!(
            "this user may not change the directory {} (permission denied)",
            quote_path(dir)
        ),
        ErrorKind::ReadOnlyFileSystem => "the file system that holds it is read-only".into(),
        ErrorKind::TooManyOpenFiles => {
            "too many open files: the limit on open files was reached".into()
        }
        ErrorKind::SymlinkEvaluation => "Windows' SymlinkEvaluation policy does not let a \
            symbolic link met through a network share be followed here \
            (ERROR_SYMLINK_CLASS_DISABLED)"
            .into(),
        ErrorKind::KernelFileSystem { name } => format!(
            "it is part of the kernel's {name} file system, whose links show the kernel's \
             own state and cannot be removed"
        ),
        ErrorKind::TrailingSlash { link } => format!(
            "{} is a link, and the trailing slash leads through it to what it points at",
            quote_path(link)
        ),
        ErrorKind::JunctionNotRelative => {
            "it is a junction, and a junction always stores an absolute target".into()
        }
        ErrorKind::NoJunctions => "this file system has no junctions (they are NTFS's: \
            Windows, or an NTFS volume mounted with ntfs-3g)"
            .into(),
        ErrorKind::NotForeignLink { why } => why.clone(),
        ErrorKind::OutsideRoot { root } => {
            format!("the path leads outside the root {}", quote_path(root))
        }
        ErrorKind::LinkOnTheWay { path } => format!(
            "{} is a link, and knot apply never makes a link through one",
            quote_path(path)
        ),
        ErrorKind::BadRecord { why } => format!("the record {}", bad_record(why)),
        ErrorKind::DestinationNotEmpty => {
            "it is there and is not an empty directory; knot copy makes a new tree unless told to \
             update one"
                .into()
        }
        ErrorKind::DestinationInsideSource { source } => format!(
            "it is inside {}, which would copy the copy",
            quote_path(source)
        ),
        ErrorKind::SourceInsideDestination { source } => format!(
            "it holds {}, which updating it would replace or remove",
            quote_path(source)
        ),
        ErrorKind::DestinationIsALink => {
            "it is a link, which knot does not follow at the destination's name".into()
        }
        ErrorKind::DestinationNotADirectory { what } => {
            format!("it is a {}, not a directory", plain(*what))
        }
        ErrorKind::SnapshotNotNew {
            previous: Some(previous),
        } => format!(
            "it is the previous snapshot {} itself",
            quote_path(previous)
        ),
        ErrorKind::SnapshotNotNew { previous: None } => {
            "it is there and is not an empty directory; a snapshot is a new tree".into()
        }
        ErrorKind::InsidePrevious { previous } => format!(
            "it is inside the previous snapshot {}, which a snapshot only reads",
            quote_path(previous)
        ),
        ErrorKind::PreviousIsSource { previous } => format!(
            "its previous snapshot {} is the source itself: its files would be hard links to \
             the live files, changing with them",
            quote_path(previous)
        ),
        ErrorKind::SourceNotADirectory => "it is not a directory".into(),
        ErrorKind::SpecialFile if err.op() == Op::Materialize => {
            "it leads to a special file (a FIFO, a socket or a device), which knot does not copy"
                .into()
        }
        ErrorKind::SpecialFile => {
            "it is a special file (a FIFO, a socket or a device), which knot copy skips".into()
        }
        ErrorKind::TreeIsALink if err.op() == Op::Move => {
            "it is a link, not a real directory; knot move moves a directory, never through \
             a link"
                .into()
        }
        ErrorKind::TreeIsALink => {
            "it is a link; knot rm --tree never follows a link, nor removes it as a tree".into()
        }
        ErrorKind::TreeNotADirectory { what } => format!("it is a {what}, not a directory"),
        ErrorKind::TreeRefused {
            holds_current: true,
        } => "it holds the current directory".into(),
        ErrorKind::TreeRefused {
            holds_current: false,
        } => "it is the root directory".into(),
        ErrorKind::MountPointInTree if matches!(err.op(), Op::Move | Op::MoveBack) => {
            "another file system is mounted there, inside the directory to move; nothing was \
             moved"
                .into()
        }
        ErrorKind::MountPointInTree => {
            "another file system is mounted there; it was not entered".into()
        }
        ErrorKind::MoveDestinationExists => {
            "it is there already; knot move moves a directory to a new path".into()
        }
        ErrorKind::MoveIntoItself => "it is inside the directory to move".into(),
        ErrorKind::NotAMovedLink { why } => format!(
            "{}; knot move --back takes a junction or directory symlink that leads straight \
             to a real directory (as knot move leaves)",
            why.phrase()
        ),
        ErrorKind::MoveCopyFailed {
            differs: Some(why),
            changed: true,
            ..
        } => format!("{why}; the copy was removed and the directory put back: nothing was moved"),
        ErrorKind::MoveCopyFailed {
            differs: Some(why), ..
        } => format!(
            "the copy differs from it at {why}; the copy was removed, and the directory left \
             as it was"
        ),
        ErrorKind::MoveCopyFailed { failed, .. } => format!(
            "{failed} {} could not be copied (each is shown above); the copy was removed, and \
             the directory left as it was",
            if *failed == 1 { "entry" } else { "entries" }
        ),
        ErrorKind::MoveStopped { data, left } => match &**left {
            knot::MoveLeft::MakeLink {
                aside: Some(aside), ..
            } => format!(
                "the move stopped: the data is whole at {}, and no link was left here; the old \
                 data is at {}",
                quote_path(data),
                quote_path(aside)
            ),
            knot::MoveLeft::MakeLink { .. } => format!(
                "the move stopped: the data is whole at {}, and no link was left here",
                quote_path(data)
            ),
            knot::MoveLeft::RemoveOld { .. } => format!(
                "the move is done (the data is whole at {}), but this old copy could not be \
                 removed in full",
                quote_path(data)
            ),
            knot::MoveLeft::RenameTo { .. } => format!(
                "the move stopped: the data is whole at {}, under a hidden name",
                quote_path(data)
            ),
            knot::MoveLeft::Changed { why, .. } => format!(
                "the data as copied is at {}, but this old copy changed while it was copied \
                 ({why}), so it was kept",
                quote_path(data)
            ),
        },
        ErrorKind::ReplacedDuringRemoval => {
            "it was replaced while the tree was removed; it was not gone through".into()
        }
        _ => match err.io_error() {
            Some(e) if e.kind() == std::io::ErrorKind::InvalidFilename => too_long(err, e),
            Some(e) => e.to_string(),
            None => "an unknown error".into(),
        },
    }
}

/// A name too long for the system (`ENAMETOOLONG`): which one, the target or the link's
/// own name, where one is longer than a system takes (4,095 bytes for a path on Linux,
/// 255 for one name); the system's words otherwise.
fn too_long(err: &knot::Error, e: &std::io::Error) -> String {
    let name = err.path().file_name().map_or(0, |n| n.len());
    match err.target().map(|t| t.as_os_str().len()) {
        Some(target) if target > 4095 => {
            format!("the target is too long for the system to store ({target} bytes)")
        }
        _ if name > 255 => format!("its name is too long ({name} bytes)"),
        _ => e.to_string(),
    }
}

/// How to fix it, where one is known, for the knot command line; the swapped-arguments
/// command is added by [`report`], which knows the command line.
pub fn fix(err: &knot::Error) -> Option<String> {
    target_fix(err).or_else(|| path_fix(err))
}

/// The fix of an error about the target.
fn target_fix(err: &knot::Error) -> Option<String> {
    Some(match err.kind() {
        ErrorKind::TargetMissing => match err.op() {
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
        ErrorKind::FlavourMismatch { .. } => "drop --dir/--file: knot picks the flavour \
            from an existing target"
            .into(),
        ErrorKind::FlavourNeeded => "say which with --dir or --file".into(),
        ErrorKind::Git {
            failure: GitFailure::Missing,
            ..
        } => "install Git, or put it on PATH".into(),
        ErrorKind::Git {
            failure: GitFailure::NotAWorkTree,
            ..
        } => "give a directory of a Git work tree (default: the current directory)".into(),
        ErrorKind::CrossDevice => "use `knot symlink` across file systems, or copy the file".into(),
        ErrorKind::PrivilegeNeeded if err.op() == Op::GitLinks => "turn on Developer Mode \
            (Settings > System > For developers) or run knot as administrator, or make \
            junctions and hard links instead: knot git-links --fix --fallback junction,hardlink"
            .into(),
        ErrorKind::PrivilegeNeeded => "turn on Developer Mode (Settings > System > For \
            developers) or run knot as administrator; for a directory, `knot junction` \
            needs no privilege"
            .into(),
        ErrorKind::RemoteTarget => "use `knot symlink` to link to a network path".into(),
        _ => return None,
    })
}

/// The fix of [`ErrorKind::SymlinkEvaluation`] (`fsutil behavior set SymlinkEvaluation`,
/// learn.microsoft.com "fsutil behavior"): R2R is a link on a share to the share, R2L one
/// on a share to this machine; both are off by default.
pub(crate) const SYMLINK_EVALUATION_FIX: &str = "an administrator can let Windows follow \
    symbolic links on shares: `fsutil behavior set SymlinkEvaluation R2R:1 R2L:1` \
    (`fsutil behavior query SymlinkEvaluation` shows the policy; Group Policy may set it)";

/// How to take the mount point `path` out of a tree: on Windows a volume is mounted at a
/// directory by the mount manager, which `mountvol` asks to let go of it.
fn unmount(path: &Path) -> String {
    if cfg!(windows) {
        // In double quotes, as cmd and PowerShell take a path (none holds a `"`).
        format!(
            "remove the volume's mount point first (mountvol \"{}\" /D)",
            path.display()
        )
    } else {
        "unmount it first (umount)".into()
    }
}

/// The fix of an error about the path itself.
fn path_fix(err: &knot::Error) -> Option<String> {
    Some(match err.kind() {
        ErrorKind::ReparsePoint { tag, .. } if tag.is_cloud() => "its files are fetched by its \
            sync engine (OneDrive and others) on Windows: open it there, or have its files \
            kept on the device first"
            .into(),
        ErrorKind::ReparsePoint { .. } => {
            "Windows reads it, with the filter its reparse tag names".into()
        }
        ErrorKind::NotFound
            if err
                .io_error()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound) =>
        {
            let path = err.path();
            let name = path.file_name()?;
            let parent = crate::args::parent_dir(path);
            format!(
                "check the path: there is nothing called {} in {}",
                quote(name),
                quote_path(parent)
            )
        }
        ErrorKind::LinkExists => {
            "add --force to replace it if it is a link, or choose another name".into()
        }
        ErrorKind::ArgumentsSwapped => "the arguments look swapped: knot takes LINK first, \
            then TARGET (like mklink)"
            .into(),
        ErrorKind::WouldReplaceReal { .. } => {
            "move or delete it yourself first if you really mean to replace it".into()
        }
        ErrorKind::LinkEndsInSeparator => format!(
            "name the link without the trailing separator: '{}'",
            without_trailing_separators(&escape(err.path().as_os_str()))
        ),
        ErrorKind::NotALink { what: Found::Dir } if err.op() == Op::Convert => {
            "to convert the links below a directory, add --recursive".into()
        }
        ErrorKind::NotALink { .. } if matches!(err.op(), Op::Retarget | Op::Convert) => {
            format!(
                "knot {} changes symlinks and junctions only",
                err.op().verb()
            )
        }
        ErrorKind::JunctionNotRelative => "make it a directory symlink, which can be \
            relative: knot convert --to-symlink, then knot convert --relative"
            .into(),
        ErrorKind::NoJunctions if matches!(err.op(), Op::Move) => {
            "leave a directory symlink instead: --leave symlink".into()
        }
        ErrorKind::NoJunctions => "keep the symlink: it is what stands in for a junction \
            here"
            .into(),
        ErrorKind::NotForeignLink { .. } => "knot convert --to-native converts Cygwin and \
            MSYS2 !<symlink> files and WSL symlinks whose target has a Windows name; it was \
            left as it is"
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
            quote_path(dir)
        ),
        ErrorKind::NotADirectory { .. } => "a link lives in a directory: check the path".into(),
        ErrorKind::NoPermission { dir } => format!(
            "choose a directory this user may write to, or get write permission on {} \
             (its owner, or root, can give it)",
            quote_path(dir)
        ),
        ErrorKind::ReadOnlyFileSystem => {
            "remount it read-write, or choose a place on another file system".into()
        }
        ErrorKind::SymlinkEvaluation => SYMLINK_EVALUATION_FIX.into(),
        ErrorKind::TooManyOpenFiles if err.op() == Op::RemoveTree => {
            "raise the limit on open files (`ulimit -n 4096`, say)".into()
        }
        ErrorKind::TooManyOpenFiles => {
            "raise the limit on open files (`ulimit -n 4096`, say), or use fewer threads \
             (--threads)"
                .into()
        }
        ErrorKind::TrailingSlash { link } => format!(
            "name the link without the trailing slash: {}",
            quote_path(link)
        ),
        ErrorKind::OutsideRoot { .. } => "a manifest's paths are relative to the root, \
            without '..' (run `knot scan --json .` inside the tree to write them so)"
            .into(),
        ErrorKind::LinkOnTheWay { path } => format!(
            "make {} a real directory, or choose another root",
            quote_path(path)
        ),
        ErrorKind::IsADirectory => "name a file; to see a directory's hard-link groups: \
            `knot hardlinks --groups DIR`"
            .into(),
        ErrorKind::DestinationNotEmpty => {
            "name a new path, or an empty directory, as the destination; or add --update (or \
             --mirror) to bring an earlier copy up to date"
                .into()
        }
        ErrorKind::DestinationInsideSource { .. } => {
            "choose a destination outside the source".into()
        }
        ErrorKind::SourceInsideDestination { .. } => {
            "choose a destination that does not hold the source".into()
        }
        ErrorKind::DestinationIsALink => {
            "name the directory it leads to as the destination, or a new path".into()
        }
        ErrorKind::DestinationNotADirectory { .. } => {
            "name a new path, or a directory, as the destination; or remove what is there first"
                .into()
        }
        ErrorKind::SnapshotNotNew { .. } => "name a new path, or an empty directory, as NEW: a \
            snapshot is a new tree beside OLD, which it only reads"
            .into(),
        ErrorKind::InsidePrevious { previous } => {
            format!("choose a NEW outside {}, beside it", quote_path(previous))
        }
        ErrorKind::PreviousIsSource { .. } => "name an earlier copy of SRC as --previous \
            (`knot copy SRC OLD` makes the first)"
            .into(),
        ErrorKind::TreeIsALink if err.op() == Op::Move => format!(
            "to move the data it leads to back here, run knot move --back '{}'",
            without_trailing_separators(&escape(err.path().as_os_str()))
        ),
        ErrorKind::TreeIsALink => format!(
            "to remove the link, run knot rm '{}'",
            without_trailing_separators(&escape(err.path().as_os_str()))
        ),
        ErrorKind::TreeRefused {
            holds_current: true,
        } => "change to a directory outside it first".into(),
        ErrorKind::MountPointInTree if matches!(err.op(), Op::Move | Op::MoveBack) => {
            format!("{}, then run knot move again", unmount(err.path()))
        }
        ErrorKind::MountPointInTree => {
            format!("{}, then run knot rm --tree again", unmount(err.path()))
        }
        ErrorKind::TreeNotADirectory { .. } if err.op() == Op::Move => {
            "name a directory; knot move moves directories".into()
        }
        ErrorKind::MoveDestinationExists => {
            "name a new path as NEW (knot move never replaces anything); to move into a \
             directory, name the new path inside it"
                .into()
        }
        ErrorKind::MoveIntoItself => "choose a NEW outside the directory to move".into(),
        ErrorKind::NotAMovedLink { why } => match why {
            knot::NotMoved::RealDirectory => {
                "to move this directory elsewhere and leave a link, run knot move DIR NEW".into()
            }
            knot::NotMoved::LinkToLink => {
                "name the last link of the chain, the one that leads to the data".into()
            }
            knot::NotMoved::Dangling => {
                "the data it led to is gone; remove the link with knot rm".into()
            }
            knot::NotMoved::RelativeTarget => {
                "this link is not one knot move left: remove it with knot rm, and move its \
                 data with mv or knot copy if you mean to"
                    .into()
            }
            _ => "name the junction or directory symlink that knot move left".into(),
        },
        ErrorKind::MoveCopyFailed { changed: true, .. } => {
            "run knot move again (once nothing writes into the directory)".into()
        }
        ErrorKind::MoveCopyFailed { .. } => {
            "fix what is shown above (free space, permissions), then run knot move again".into()
        }
        ErrorKind::MoveStopped { data, left } => match &**left {
            knot::MoveLeft::MakeLink {
                at,
                aside: Some(aside),
            } => format!(
                "make the link by hand: knot junction {} {} (or knot symlink), then remove the \
                 old data when you are sure: knot rm --tree {}; or put it back: mv {} {}",
                quote_path(at),
                quote_path(data),
                quote_path(aside),
                quote_path(aside),
                quote_path(at)
            ),
            knot::MoveLeft::MakeLink { at, .. } => format!(
                "make the link by hand: knot junction {} {} (or knot symlink), or move the \
                 data back: mv {} {}",
                quote_path(at),
                quote_path(data),
                quote_path(data),
                quote_path(at)
            ),
            knot::MoveLeft::RemoveOld { at } => {
                format!(
                    "remove it when you are sure: knot rm --tree {}",
                    quote_path(at)
                )
            }
            knot::MoveLeft::RenameTo { to } => format!(
                "put it in place: mv {} {}",
                quote_path(data),
                quote_path(to)
            ),
            knot::MoveLeft::Changed { at, .. } => format!(
                "bring over what changed from it to {}, then remove it: knot rm --tree {}",
                quote_path(data),
                quote_path(at)
            ),
        },
        ErrorKind::IsASymlink { leads_to } => match leads_to {
            Some(target) => format!(
                "for the names of what it leads to: knot hardlinks {}",
                quote_path(target)
            ),
            None => "name the file it leads to (it leads nowhere now)".into(),
        },
        _ => return None,
    })
}

/// Why a manifest's record is refused, as a phrase after "the record".
fn bad_record(why: &BadRecord) -> String {
    match why {
        BadRecord::KindNotMade { kind } => format!(
            "is of kind '{}', which knot cannot recreate (only symlink, junction and \
             hardlink)",
            escape(kind.as_ref())
        ),
        BadRecord::NoTarget {
            kind: knot::Kind::Hardlink,
        } => "has no target: a hard link is made again from another name of the file, given \
              as its target"
            .into(),
        BadRecord::EmptyTarget { .. } => "has an empty target, which names nothing".into(),
        _ => "has no target".into(),
    }
}

/// What was found, in the words of a create's messages: a plain "file" for a regular file,
/// as `ln` says it (`knot rm` says "regular file", [`knot::Found::name`]).
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

/// `'path'`, escaped.
fn quote_path(path: &Path) -> String {
    quote(path.as_os_str())
}

/// "cannot OP 'PATH': CAUSE" in knot's words, unescaped beyond the path: the `error` of a
/// JSON change record, which carries text exactly.
pub fn message(err: &knot::Error) -> String {
    let mut message = format!(
        "cannot {} {}: {}",
        err.op().verb(),
        quote(err.path().as_os_str()),
        cause(err)
    );
    // What Git said, which the terminal gets a line each.
    if let ErrorKind::Git { said, .. } = err.kind()
        && !said.is_empty()
    {
        message = format!("{message}: {}", said.join("; "));
    }
    message
}

/// `PROGRAM SUBCOMMAND PATH`, as the user would type it.
pub fn command(context: &Context, subcommand: &str, path: &OsStr) -> String {
    format!("{} {subcommand} {}", context.program.name, shell_word(path))
}

/// The command line the user typed, with the word `slashed` (the last one that is it)
/// replaced by `link`.
fn without_slash(slashed: &OsStr, link: &OsStr, context: &Context) -> String {
    let at = context.args.iter().rposition(|a| a == slashed);
    let words = context.args.iter().enumerate().map(|(i, a)| match at {
        Some(at) if at == i => link,
        _ => a.as_os_str(),
    });
    shell_line(std::iter::once(OsStr::new(context.program.name)).chain(words))
}

/// The command line the user typed (`program`, then `args`, the words after the
/// program's name), with `link` and `target` swapped: its options as typed, then `--`
/// where a path starts with `-`, then TARGET and LINK.
fn swapped_command(link: &OsStr, target: &OsStr, program: &str, args: &[OsString]) -> String {
    let (l, t) = (
        args.iter().rposition(|a| a == link),
        args.iter().rposition(|a| a == target),
    );
    let mut words = vec![OsString::from(program)];
    words.extend(
        args.iter()
            .enumerate()
            .filter(|&(i, a)| Some(i) != l && Some(i) != t && a != "--")
            .map(|(_, a)| a.clone()),
    );
    if [link, target]
        .iter()
        .any(|p| p.as_encoded_bytes().starts_with(b"-"))
    {
        words.push("--".into());
    }
    words.push(target.to_owned());
    words.push(link.to_owned());
    shell_line(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    /// The swapped-arguments hint is built from Settings: the program's name and the
    /// arguments as typed, never from the process's argv or a fixed "knot".
    #[test]
    fn the_swapped_command_names_the_program_and_keeps_the_options() {
        let table: [(&str, &[&str], &str, &str, &str); 4] = [
            (
                "knot",
                &["symlink", "--file", "real file", "new"],
                "real file",
                "new",
                "knot symlink --file new 'real file'",
            ),
            (
                "mklink",
                &["symlink", "a", "b"],
                "a",
                "b",
                "mklink symlink b a",
            ),
            (
                "knot",
                &["symlink", "--", "file", "-y"],
                "file",
                "-y",
                "knot symlink -- -y file",
            ),
            (
                "knot",
                &["-q", "symlink", "a", "b", "--dir"],
                "a",
                "b",
                "knot -q symlink --dir b a",
            ),
        ];
        for (program, args, link, target, expected) in table {
            let got = swapped_command(link.as_ref(), target.as_ref(), program, &words(args));
            assert_eq!(got, expected, "{program} {args:?}");
        }
    }

    fn error(op: Op, kind: ErrorKind) -> knot::Error {
        knot::Error::new(op, "p", kind)
    }

    /// The causes and fixes come from the payloads' values, never from their wording.
    #[test]
    fn what_was_found_gives_the_cause_and_the_fix() {
        use knot::Special;
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
        for (what, expected_cause, expected_fix) in cases {
            let err = error(Op::Remove, ErrorKind::NotALink { what });
            assert_eq!(cause(&err), expected_cause);
            assert_eq!(fix(&err).as_deref(), expected_fix, "{what:?}");
        }
        for (what, word) in [
            (Found::File, "file"),
            (Found::Dir, "directory"),
            (Found::ReparseFile, "file with a reparse point"),
            (Found::Special(None), "special file"),
        ] {
            let err = error(Op::CreateSymlink, ErrorKind::WouldReplaceReal { what });
            assert_eq!(
                cause(&err),
                format!("it is a {word}, not a link; --force replaces only links")
            );
            assert!(fix(&err).is_some());
        }
    }

    #[test]
    fn a_part_of_the_path_that_is_no_directory() {
        for (what, expected) in [
            (Found::File, "'f' is a file, not a directory"),
            (
                Found::Special(None),
                "'f' is a special file, not a directory",
            ),
        ] {
            let kind = ErrorKind::NotADirectory {
                path: "f".into(),
                what,
            };
            assert_eq!(cause(&error(Op::CreateSymlink, kind)), expected);
        }
    }

    /// The flavour asked for is named as its flag; what the target is, in a word. The
    /// target is read from the error, so a mismatch made by a caller names none ('').
    #[test]
    fn flavour_mismatch_names_both_flavours() {
        let mismatch = |asked, found| {
            error(
                Op::CreateSymlink,
                ErrorKind::FlavourMismatch { asked, found },
            )
        };
        let err = mismatch(Flavour::Dir, Flavour::File);
        assert_eq!(cause(&err), "--dir was given, but the target '' is a file");
        let err = mismatch(Flavour::File, Flavour::Dir);
        assert_eq!(
            cause(&err),
            "--file was given, but the target '' is a directory"
        );
        assert_eq!(
            fix(&err).as_deref(),
            Some("drop --dir/--file: knot picks the flavour from an existing target")
        );
    }

    /// The hint names the link as typed, without the separators that made it name a
    /// directory.
    #[test]
    fn a_link_ending_in_a_separator_is_named_without_it() {
        for link in ["new/", "new//", "new/.", "d/n/"] {
            let err = knot::Error::new(Op::CreateSymlink, link, ErrorKind::LinkEndsInSeparator);
            let name = link.trim_end_matches(['/', '.']);
            assert_eq!(
                fix(&err).unwrap(),
                format!("name the link without the trailing separator: '{name}'"),
                "{link}"
            );
        }
    }

    /// Windows' missing privilege: the hint says how to get it, or how to do without.
    #[test]
    fn the_privilege_hint_says_how_to_get_it() {
        let fix = fix(&error(Op::CreateSymlink, ErrorKind::PrivilegeNeeded)).unwrap();
        assert!(
            fix.contains("Developer Mode") && fix.contains("knot junction"),
            "{fix}"
        );
    }

    /// Windows' SymlinkEvaluation policy: its own cause, and the fix names the policy and
    /// the `fsutil` command that changes it, wherever the error is met.
    #[test]
    fn the_symlink_evaluation_hint_names_the_policy() {
        for op in [Op::Inspect, Op::CreateSymlink, Op::Remove] {
            let err = error(op, ErrorKind::SymlinkEvaluation);
            assert!(
                cause(&err).contains("ERROR_SYMLINK_CLASS_DISABLED"),
                "{op:?}"
            );
            let fix = fix(&err).unwrap();
            assert!(
                fix.contains("fsutil behavior set SymlinkEvaluation R2R:1 R2L:1"),
                "{op:?}: {fix}"
            );
        }
    }

    /// Words that only a program's user reads are the CLI's: the library's message of the
    /// same error names no flag.
    #[test]
    fn the_library_message_is_neutral_and_the_cli_words_it() {
        let err = error(Op::CreateSymlink, ErrorKind::LinkExists);
        assert_eq!(
            err.to_string(),
            "cannot create symlink 'p': it already exists"
        );
        assert_eq!(
            fix(&err).as_deref(),
            Some("add --force to replace it if it is a link, or choose another name")
        );
        let err = error(Op::Apply, ErrorKind::WouldReplaceReal { what: Found::File });
        assert_eq!(
            message(&err),
            "cannot apply 'p': it is a file, not a link; knot apply replaces only links"
        );
    }
}
