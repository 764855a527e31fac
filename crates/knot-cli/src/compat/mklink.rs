//! cmd's `mklink [[/D] | [/H] | [/J]] Link Target`: its syntax, its success lines and its
//! error messages (cmd's message table, which scripts such as rebar3's parse), over knot's
//! own create. The arguments become the same [`CreateSettings`] that `knot symlink`, `knot
//! hardlink` and `knot junction` make; only the messages are mklink's.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use knot::{ChangeMode, CreateOptions, Created, ErrorKind, Flavour, FlavourCheck, LinkType, Op};

use crate::args::Format;
use crate::cmd::create::CreateSettings;
use crate::cmd::{Command, Settings};
use crate::context::{Color, Context, Environment, ErrorMessages, Program, Terminal};
use crate::exit::Exit;
use crate::report::{self as output, Messages, Printer, error};

/// cmd's usage text, for `/?` and for no arguments, word for word.
pub const USAGE: &str = "\
Creates a symbolic link.

MKLINK [[/D] | [/H] | [/J]] Link Target

        /D      Creates a directory symbolic link.  Default is a file
                symbolic link.
        /H      Creates a hard link instead of a symbolic link.
        /J      Creates a Directory Junction.
        Link    Specifies the new symbolic link name.
        Target  Specifies the path (relative or absolute) that the new link
                refers to.
";

/// cmd's message for a command line it cannot read.
const SYNTAX: &str = "The syntax of the command is incorrect.";
const EXISTS: &str = "Cannot create a file when that file already exists.";
const PRIVILEGE: &str = "You do not have sufficient privilege to perform this operation.";
const LOCAL_NTFS: &str = "Local NTFS volumes are required to complete the operation.";
const NO_SYMLINKS: &str = "The device does not support symbolic links.";
const PATH_NOT_FOUND: &str = "The system cannot find the path specified.";
const SAME_VOLUME: &str = "The new link and the existing file must be on the same NTFS volume.";

/// The kind of link a switch asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Switch {
    /// `/D`: a directory symbolic link.
    Dir,
    /// `/H`: a hard link.
    Hard,
    /// `/J`: a directory junction.
    Junction,
}

/// What one word of the command line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Word {
    Switch(Switch),
    Help,
    /// A `/` and one character that is no switch of mklink's.
    Unknown,
    Path,
}

/// A switch is `/` and one letter, in either case, as cmd reads it. A longer word that
/// starts with `/` is a path: on Unix every absolute path does (`mklink /tmp/l t`), and a
/// two-character path such as `/d` can still be written `//d` or `/d/`.
fn word(arg: &OsStr) -> Word {
    match arg.as_encoded_bytes() {
        [b'/', letter] => match letter.to_ascii_lowercase() {
            b'd' => Word::Switch(Switch::Dir),
            b'h' => Word::Switch(Switch::Hard),
            b'j' => Word::Switch(Switch::Junction),
            b'?' => Word::Help,
            _ => Word::Unknown,
        },
        _ => Word::Path,
    }
}

/// A command line read.
#[derive(Debug, PartialEq, Eq)]
enum Read {
    Create {
        link: PathBuf,
        target: PathBuf,
        switch: Option<Switch>,
    },
    /// `/?`, anywhere.
    Help,
    /// Nothing at all.
    Nothing,
    /// Anything else cmd would not take: an unknown switch, two switches, not exactly a
    /// Link and a Target.
    Syntax,
}

/// Reads the words as cmd's mklink does: `/?` anywhere wins; switches may stand anywhere,
/// at most one of them; exactly two other words, the Link and then the Target.
fn read(args: &[OsString]) -> Read {
    if args.is_empty() {
        return Read::Nothing;
    }
    if args.iter().any(|a| word(a) == Word::Help) {
        return Read::Help;
    }
    let mut switch = None;
    let mut paths = Vec::new();
    for arg in args {
        match word(arg) {
            Word::Switch(s) if switch.is_none() => switch = Some(s),
            Word::Path if !arg.is_empty() => paths.push(PathBuf::from(arg)),
            _ => return Read::Syntax,
        }
    }
    match <[PathBuf; 2]>::try_from(paths) {
        Ok([link, target]) => Read::Create {
            link,
            target,
            switch,
        },
        Err(_) => Read::Syntax,
    }
}

/// The create a switch asks for: the same [`CreateSettings`] as knot's own commands make.
/// Without a switch mklink makes a file symlink even to a directory, and with `/D` a
/// directory symlink even to a file: the flavour is made as asked, never checked against
/// the target ([`FlavourCheck::AsAsked`]). mklink never replaces anything.
fn create(link: PathBuf, target: PathBuf, switch: Option<Switch>) -> Command {
    let symlink = |flavour| {
        (
            LinkType::Symlink,
            CreateOptions {
                flavour: Some(flavour),
                flavour_check: FlavourCheck::AsAsked,
                ..CreateOptions::default()
            },
        )
    };
    let (ty, options) = match switch {
        None => symlink(Flavour::File),
        Some(Switch::Dir) => symlink(Flavour::Dir),
        Some(Switch::Hard) => (LinkType::Hardlink, CreateOptions::default()),
        Some(Switch::Junction) => (LinkType::Junction, CreateOptions::default()),
    };
    let create = CreateSettings {
        link,
        target,
        ty,
        options,
        mode: ChangeMode::Change,
        format: Format::Human,
    };
    match ty {
        LinkType::Hardlink => Command::Hardlink(create),
        LinkType::Junction => Command::Junction(create),
        _ => Command::Symlink(create),
    }
}

/// Parses mklink's arguments (`args` without the program's name). `/?` prints the usage
/// and ends the run with success; no arguments print it too and end with failure (cmd's
/// errorlevel for that is not on record, and a script that ran `mklink` without
/// arguments did not get its link: knot's rule is exit 1 on any failure); any other
/// command line mklink would not take is cmd's syntax error, exit 1, not knot's usage
/// exit 2: scripts written for mklink know only 0 and 1.
pub fn parse(args: &[OsString], env: Environment) -> Result<Settings, Exit> {
    let messages = Messages {
        quiet: false,
        errors: ErrorMessages::Shown,
        program: Program::MKLINK.name,
    };
    let (link, target, switch) = match read(args) {
        Read::Create {
            link,
            target,
            switch,
        } => (link, target, switch),
        Read::Help => return Err(usage(Exit::Success, messages)),
        Read::Nothing => return Err(usage(Exit::Failure, messages)),
        Read::Syntax => {
            output::to_stderr(&format!("{SYNTAX}\n"));
            messages.hint(
                "mklink takes MKLINK [[/D] | [/H] | [/J]] Link Target (`mklink /?` says more)",
            );
            return Err(Exit::Failure);
        }
    };
    Ok(Settings {
        command: create(link, target, switch),
        context: Context {
            quiet: false,
            program: Program::MKLINK,
            args: args.to_vec(),
            terminal: Terminal::of(env, Color::Auto),
            errors: ErrorMessages::Shown,
            banner: None,
        },
    })
}

/// Prints the usage on standard output; a usage that could not be written (a full disk,
/// not a closed pipe) makes the run a failure, as for any other output.
fn usage(exit: Exit, messages: Messages) -> Exit {
    let mut printer = Printer::new(Format::Human, messages);
    let _ = printer.text(USAGE).and_then(|()| printer.flush());
    drop(printer);
    if output::stdout_failed() {
        Exit::Failure
    } else {
        exit
    }
}

/// Makes the link, and reports it in mklink's words.
pub fn run(create: &CreateSettings, context: &Context) -> Exit {
    match knot::create(&create.link, &create.target, create.ty, &create.options) {
        Ok(created) => {
            let messages = Messages::of(context);
            report_created(&create.link, &create.target, create.ty, &created, messages);
            Exit::Success
        }
        Err(err) => {
            report_error(&err, context);
            error::mark_failed();
            Exit::Failure
        }
    }
}

/// mklink's success line, with Link and Target as typed (escaped, like every name knot
/// prints), then knot's notes on standard error (on Unix, that a junction is an absolute
/// directory symlink), which leave standard output as scripts expect it.
fn report_created(
    link: &Path,
    target: &Path,
    asked: LinkType,
    created: &Created,
    messages: Messages,
) {
    let what = match asked {
        LinkType::Hardlink => "Hardlink",
        LinkType::Junction => "Junction",
        _ => "symbolic link",
    };
    let mut printer = Printer::new(Format::Human, messages);
    // Output never stops the work (DESIGN.md promise 8): a lost line changes nothing here.
    let _ = printer.line(&format!(
        "{what} created for {} <<===>> {}",
        output::escape(link.as_os_str()),
        output::escape(target.as_os_str())
    ));
    drop(printer);
    for note in &created.notes {
        messages.note(&note.to_string());
    }
}

/// A failure: mklink's own line where cmd has one for it, then knot's hint (the fix);
/// where cmd has none (a refusal only knot makes, such as a read-back that does not match),
/// knot's own error line and fix. Either way the run exits 1.
fn report_error(err: &knot::Error, context: &Context) {
    let messages = Messages::of(context);
    let (line, hints) = reply(err, &context.args);
    match line {
        Some(line) => output::to_stderr(&format!("{line}\n")),
        None => messages.error(&error::error_line(err)),
    }
    let hints = match (line, hints.is_empty()) {
        (None, true) => error::fix(err).into_iter().collect(),
        _ => hints,
    };
    for hint in hints {
        messages.hint(&hint);
    }
}

/// cmd's line for `err` (`None`: cmd has none, knot's own line is printed) and knot's
/// hints, in mklink's terms. The match names every kind there is, so that a new one is a
/// decision here (clippy's `wildcard_enum_match_arm`, denied, catches a kind left to the
/// `_` arm, which the library's `#[non_exhaustive]` makes the compiler require).
#[deny(clippy::wildcard_enum_match_arm)]
fn reply(err: &knot::Error, args: &[OsString]) -> (Option<&'static str>, Vec<String>) {
    let cause = || output::escape_text(error::cause(err).as_bytes());
    let with_fix = || match error::fix(err) {
        Some(fix) => vec![format!("{}; {fix}", cause())],
        None => vec![cause()],
    };
    let target = || output::quote(err.target().unwrap_or(Path::new("")).as_os_str());
    match err.kind() {
        ErrorKind::LinkExists | ErrorKind::WouldReplaceReal { .. } => (
            Some(EXISTS),
            vec![format!(
                "{} exists, and mklink never replaces anything: choose another name, or \
                 remove it first (`knot rm` removes a link, and only a link)",
                output::quote(err.path().as_os_str())
            )],
        ),
        ErrorKind::ArgumentsSwapped => (
            Some(EXISTS),
            vec![
                format!(
                    "{} exists and the target {} does not: the arguments look swapped; mklink \
                     takes Link first, then Target",
                    output::quote(err.path().as_os_str()),
                    target()
                ),
                format!("did you mean: {}", swapped(args)),
            ],
        ),
        ErrorKind::PrivilegeNeeded => (
            Some(PRIVILEGE),
            vec![
                "turn on Developer Mode (Settings > System > For developers) or run as \
                 administrator; for a directory, `mklink /J` needs no privilege"
                    .into(),
            ],
        ),
        ErrorKind::SymlinkEvaluation => (
            None,
            vec![crate::report::error::SYMLINK_EVALUATION_FIX.into()],
        ),
        ErrorKind::RemoteTarget => (
            Some(LOCAL_NTFS),
            vec![format!("{}; `mklink /D` links to a network path", cause())],
        ),
        ErrorKind::Unsupported { .. } if err.op() == Op::CreateSymlink => {
            (Some(NO_SYMLINKS), vec![cause()])
        }
        ErrorKind::Unsupported { .. } => (Some(LOCAL_NTFS), vec![cause()]),
        ErrorKind::CrossDevice => (
            Some(SAME_VOLUME),
            vec![format!(
                "the target {} is on another file system; a symbolic link (mklink without \
                 /H) may cross volumes, or copy the file",
                target()
            )],
        ),
        ErrorKind::TargetMissing
        | ErrorKind::DirMissing { .. }
        | ErrorKind::NotADirectory { .. } => (Some(PATH_NOT_FOUND), with_fix()),
        ErrorKind::NotFound => (Some(PATH_NOT_FOUND), vec![]),
        // Refusals that are knot's own: mklink would make these links, broken.
        ErrorKind::TargetNotDirectory => (
            None,
            vec!["a junction leads to a directory: `mklink` without /J links to a file".into()],
        ),
        ErrorKind::TargetIsDirectory | ErrorKind::TargetIsDirectoryLink => (
            None,
            vec![
                "hard links are for files: `mklink /J` or `mklink /D` links to a directory".into(),
            ],
        ),
        // Knot's own line and fix: cmd has no message for these, or they cannot come
        // from a create with mklink's options (no flavour to pick, nothing replaced).
        ErrorKind::TargetUnreadable
        | ErrorKind::FlavourMismatch { .. }
        | ErrorKind::FlavourNeeded
        | ErrorKind::NotALink { .. }
        | ErrorKind::ReadBack { .. }
        | ErrorKind::BadLinkPath
        | ErrorKind::LinkEndsInSeparator
        | ErrorKind::Loop { .. }
        | ErrorKind::ChangedDuringScan
        | ErrorKind::NoPermission { .. }
        | ErrorKind::ReadOnlyFileSystem
        | ErrorKind::TooManyOpenFiles
        | ErrorKind::KernelFileSystem { .. }
        | ErrorKind::TrailingSlash { .. }
        | ErrorKind::JunctionNotRelative
        | ErrorKind::NoJunctions
        | ErrorKind::NotForeignLink { .. }
        | ErrorKind::OutsideRoot { .. }
        | ErrorKind::LinkOnTheWay { .. }
        | ErrorKind::BadRecord { .. }
        | ErrorKind::IsADirectory
        | ErrorKind::IsASymlink { .. }
        | ErrorKind::ReparsePoint { .. }
        | ErrorKind::NotEntered { .. }
        | ErrorKind::DestinationNotEmpty
        | ErrorKind::DestinationInsideSource { .. }
        | ErrorKind::SourceInsideDestination { .. }
        | ErrorKind::DestinationIsALink
        | ErrorKind::DestinationNotADirectory { .. }
        | ErrorKind::SnapshotNotNew { .. }
        | ErrorKind::InsidePrevious { .. }
        | ErrorKind::PreviousIsSource { .. }
        | ErrorKind::SourceNotADirectory
        | ErrorKind::SpecialFile
        | ErrorKind::Git { .. }
        | ErrorKind::TreeIsALink
        | ErrorKind::TreeNotADirectory { .. }
        | ErrorKind::TreeRefused { .. }
        | ErrorKind::MountPointInTree
        | ErrorKind::ReplacedDuringRemoval
        | ErrorKind::MoveDestinationExists
        | ErrorKind::MoveIntoItself
        | ErrorKind::NotAMovedLink { .. }
        | ErrorKind::MoveCopyFailed { .. }
        | ErrorKind::MoveStopped { .. }
        | ErrorKind::Io => (None, vec![]),
        _ => (None, vec![]),
    }
}

/// The command line typed, in mklink's syntax, with Link and Target swapped: the switch
/// as typed, then the Target, then the Link (mklink has no `--`: a path that starts with
/// `-` needs nothing).
fn swapped(args: &[OsString]) -> String {
    let (switches, paths): (Vec<&OsString>, Vec<&OsString>) =
        args.iter().partition(|a| word(a) != Word::Path);
    let mut words = vec![OsStr::new(Program::MKLINK.name)];
    words.extend(switches.iter().map(|a| a.as_os_str()));
    words.extend(paths.iter().rev().map(|a| a.as_os_str()));
    output::shell_line(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    fn created(link: &str, target: &str, switch: Option<Switch>) -> Read {
        Read::Create {
            link: link.into(),
            target: target.into(),
            switch,
        }
    }

    #[test]
    fn switches_in_either_case_anywhere_at_most_one() {
        let table: [(&[&str], Read); 14] = [
            (&["l", "t"], created("l", "t", None)),
            (&["/D", "l", "t"], created("l", "t", Some(Switch::Dir))),
            (&["/d", "l", "t"], created("l", "t", Some(Switch::Dir))),
            (&["l", "/h", "t"], created("l", "t", Some(Switch::Hard))),
            (&["l", "t", "/J"], created("l", "t", Some(Switch::Junction))),
            (&["/tmp/l", "/t"], Read::Syntax),
            (&["/tmp/l", "//t"], created("/tmp/l", "//t", None)),
            (&["-D", "l", "t"], Read::Syntax),
            (&["/D", "/J", "l", "t"], Read::Syntax),
            (&["/D", "/d", "l", "t"], Read::Syntax),
            (&["/X", "l", "t"], Read::Syntax),
            (&["l"], Read::Syntax),
            (&["l", "", "t"], Read::Syntax),
            (&["/D", "/D", "l", "/?"], Read::Help),
        ];
        for (args, expected) in table {
            assert_eq!(read(&words(args)), expected, "{args:?}");
        }
        assert_eq!(read(&[]), Read::Nothing);
    }

    #[test]
    fn the_swapped_command_keeps_the_switch_and_needs_no_double_dash() {
        for (args, expected) in [
            (&["a", "b"][..], "mklink b a"),
            (&["/d", "-a", "b c"], "mklink /d 'b c' -a"),
            (&["a", "b", "/H"], "mklink /H b a"),
        ] {
            assert_eq!(swapped(&words(args)), expected, "{args:?}");
        }
    }

    #[test]
    fn each_failure_gets_the_line_cmd_prints_for_it() {
        let unsupported = || ErrorKind::Unsupported {
            why: "the file system has no such links".into(),
        };
        let table = [
            (Op::CreateSymlink, ErrorKind::PrivilegeNeeded, PRIVILEGE),
            (Op::CreateSymlink, ErrorKind::RemoteTarget, LOCAL_NTFS),
            (Op::CreateJunction, unsupported(), LOCAL_NTFS),
            (Op::CreateHardlink, unsupported(), LOCAL_NTFS),
            (Op::CreateSymlink, unsupported(), NO_SYMLINKS),
            (Op::CreateHardlink, ErrorKind::CrossDevice, SAME_VOLUME),
            (Op::CreateSymlink, ErrorKind::LinkExists, EXISTS),
            (Op::CreateJunction, ErrorKind::TargetMissing, PATH_NOT_FOUND),
        ];
        for (op, kind, line) in table {
            let err = knot::Error::new(op, "l", kind.clone());
            let (found, _) = reply(&err, &words(&["l", "t"]));
            assert_eq!(found, Some(line), "{op:?} {kind:?}");
        }
        // Windows' SymlinkEvaluation policy: no line of cmd's, knot's cause and the fix.
        let err = knot::Error::new(Op::CreateSymlink, "l", ErrorKind::SymlinkEvaluation);
        let (found, hints) = reply(&err, &words(&["l", "t"]));
        assert_eq!(found, None);
        assert!(
            hints
                .iter()
                .any(|h| h.contains("fsutil behavior set SymlinkEvaluation")),
            "{hints:?}"
        );
        // The lines themselves, as cmd prints them.
        assert_eq!(
            [
                PRIVILEGE,
                LOCAL_NTFS,
                NO_SYMLINKS,
                SAME_VOLUME,
                EXISTS,
                PATH_NOT_FOUND
            ],
            [
                "You do not have sufficient privilege to perform this operation.",
                "Local NTFS volumes are required to complete the operation.",
                "The device does not support symbolic links.",
                "The new link and the existing file must be on the same NTFS volume.",
                "Cannot create a file when that file already exists.",
                "The system cannot find the path specified.",
            ]
        );
    }
}
