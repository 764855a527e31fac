//! knot: the command-line front end. Arguments become [`cli::Settings`], the library does
//! the work, and [`output`] prints the records and messages.

mod cli;
mod output;

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::ExitCode;

use knot::{Created, ErrorKind, LinkType, RemoveMode};

use crate::cli::{Command, Settings};
use crate::output::{Format, Messages, Printer, quote};

/// knot's exit codes (DESIGN.md section 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exit {
    Success = 0,
    /// Some operation or entry failed; each failure was printed.
    Failure = 1,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

fn main() -> ExitCode {
    let settings = cli::parse(std::env::args_os());
    run(&settings).into()
}

fn run(settings: &Settings) -> Exit {
    let messages = Messages {
        quiet: settings.quiet,
    };
    match &settings.command {
        Command::Create {
            link,
            target,
            ty,
            options,
        } => match knot::create(link, target, *ty, options) {
            Ok(created) => {
                report_created(&created, target, *ty, messages);
                Exit::Success
            }
            Err(err) => {
                report_error(&err, messages);
                Exit::Failure
            }
        },
        Command::Show { paths, format } => show(paths, *format, messages),
        Command::Remove {
            paths,
            mode,
            format,
        } => remove(paths, *mode, *format, messages),
        Command::ReparseDecode { .. } => {
            messages.error("reparse decode: not built yet");
            Exit::Failure
        }
    }
}

fn report_created(created: &Created, given: &Path, asked: LinkType, messages: Messages) {
    let link = &created.link;
    let what = match created.made {
        LinkType::Junction => "junction",
        LinkType::Hardlink => "hard link",
        LinkType::Symlink | LinkType::Best => match (asked, link.dir) {
            (LinkType::Best, Some(true)) => "directory symlink",
            (LinkType::Best, Some(false)) => "file symlink",
            _ => "symlink",
        },
    };
    let arrow = if created.made == LinkType::Hardlink {
        "=>"
    } else {
        "->"
    };
    // A hard link stores no target: name the one given.
    let target = link.target.as_deref().unwrap_or(given);
    let mut printer = Printer::new(Format::Human);
    printer.line(&format!(
        "created {what} {} {arrow} {}",
        quote(link.path.as_os_str()),
        quote(target.as_os_str())
    ));
    for note in &created.notes {
        messages.note(&note.to_string());
    }
}

fn show(paths: &[std::path::PathBuf], format: Format, messages: Messages) -> Exit {
    let mut printer = Printer::new(format);
    let mut exit = Exit::Success;
    for path in paths {
        match knot::inspect(path) {
            Ok(link) => {
                printer.record(&link);
                if !link.kind.is_link() {
                    printer.flush();
                    messages.note(&format!(
                        "{} is a {}, not a link",
                        quote(path.as_os_str()),
                        kind_phrase(&link.kind)
                    ));
                }
            }
            Err(err) => {
                printer.flush();
                report_error(&err, messages);
                exit = Exit::Failure;
            }
        }
    }
    exit
}

fn kind_phrase(kind: &knot::Kind) -> &'static str {
    match kind {
        knot::Kind::File => "regular file",
        knot::Kind::Dir => "directory",
        _ => "special file",
    }
}

fn remove(
    paths: &[std::path::PathBuf],
    mode: RemoveMode,
    format: Format,
    messages: Messages,
) -> Exit {
    let mut printer = Printer::new(format);
    let mut exit = Exit::Success;
    for path in paths {
        match knot::remove(path, mode) {
            Ok(link) if format == Format::Human => {
                let verb = if mode == RemoveMode::DryRun {
                    "would remove"
                } else {
                    "removed"
                };
                let target = link
                    .target
                    .as_deref()
                    .map(|t| format!(" -> {}", quote(t.as_os_str())));
                printer.line(&format!(
                    "{verb} {} {}{}",
                    link.kind,
                    quote(path.as_os_str()),
                    target.unwrap_or_default()
                ));
            }
            Ok(link) => printer.record(&link),
            Err(err) => {
                printer.flush();
                report_error(&err, messages);
                exit = Exit::Failure;
            }
        }
    }
    exit
}

/// Prints an error as "knot: cannot OP 'PATH': CAUSE", then the fix.
fn report_error(err: &knot::Error, messages: Messages) {
    let cause = err.cause();
    messages.error(&format!(
        "cannot {} {}: {}",
        err.op().verb(),
        quote(err.path().as_os_str()),
        escape_text(&cause)
    ));
    if let Some(fix) = err.fix() {
        messages.hint(&fix);
    }
    if *err.kind() == ErrorKind::ArgumentsSwapped {
        messages.hint(&format!("did you mean: {}", swapped_command(err)));
    }
}

/// Causes may quote paths (the target); escape control characters in them too.
fn escape_text(text: &str) -> String {
    output::escape(OsStr::new(text))
}

/// The command line the user typed, with LINK and TARGET swapped.
fn swapped_command(err: &knot::Error) -> String {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    let link = err.path().as_os_str();
    let target = err.target().map(Path::as_os_str).unwrap_or_default();
    let position = |name: &OsStr| args.iter().rposition(|a| a == name);
    if let (Some(l), Some(t)) = (position(link), position(target)) {
        args.swap(l, t);
    }
    if let Some(first) = args.first_mut() {
        *first = OsString::from("knot");
    }
    args.iter()
        .map(|a| shell_word(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `word` as a POSIX shell would need it typed: bare when safe, else in single quotes.
fn shell_word(word: &OsStr) -> String {
    let text = output::escape(word);
    let safe = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || "-_./:=@%+,".contains(c));
    if safe {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}
