//! knot: the command-line front end. Arguments become [`cli::Settings`], the library does
//! the work, and [`output`] prints the records and messages.

mod apply_cmd;
mod change;
mod cli;
mod compat;
mod du_cmd;
mod fix_cmd;
mod hardlinks_cmd;
mod output;
mod progress;
mod reparse_cmd;
mod retarget_cmd;
mod scan_cmd;
mod shell_cmd;

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::ExitCode;

use knot::{ChangeMode, Created, ErrorKind, LinkType, Made, Note, RemoveMode};

use crate::change::{Action, ChangeRecord};

use crate::cli::{Command, Dialect, Settings};
use crate::output::{Format, Messages, Printer, quote};

/// knot's exit codes (DESIGN.md section 2), every one of them: `main` returns one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exit {
    Success = 0,
    /// Some operation or entry failed; each failure was printed.
    Failure = 1,
    /// The command line was not understood (clap printed why).
    Usage = 2,
    /// `scan --check` found matching links.
    Found = 3,
}

impl std::process::Termination for Exit {
    fn report(self) -> ExitCode {
        ExitCode::from(self as u8)
    }
}

fn main() -> Exit {
    let settings = match cli::parse(std::env::args_os(), cli::Environment::of_this_process()) {
        Ok(settings) => settings,
        Err(exit) => return exit,
    };
    let exit = run(&settings);
    // Output lost to a full disk or an I/O error (reported once when it happened) makes
    // the run a failure; a closed pipe does not (DESIGN.md section 2).
    if exit == Exit::Success && output::stdout_failed() {
        Exit::Failure
    } else {
        exit
    }
}

fn run(settings: &Settings) -> Exit {
    let messages = settings.messages();
    if let Some(banner) = settings.banner {
        // A lost banner changes nothing here; main turns an output error into exit 1.
        let _ = Printer::new(Format::Human, messages).text(&format!("{banner}\n\n"));
    }
    if settings.program.dialect == cli::Dialect::Junction {
        return compat::junction::run(settings);
    }
    match &settings.command {
        Command::Create {
            link,
            target,
            ty,
            options,
            mode,
            format,
        } => {
            let dry_run = *mode == ChangeMode::DryRun;
            let made = if dry_run {
                knot::create_dry_run(link, target, *ty, options)
            } else {
                knot::create(link, target, *ty, options)
            };
            match made {
                Ok(created) => {
                    match (settings.program.dialect, format) {
                        (Dialect::Mklink, _) => {
                            compat::mklink::report_created(link, target, *ty, &created, messages)
                        }
                        (_, Format::Json) => report_created_json(&created, dry_run, messages),
                        _ => report_created(&created, target, *ty, dry_run, messages),
                    }
                    Exit::Success
                }
                Err(err) => {
                    match settings.program.dialect {
                        Dialect::Mklink => compat::mklink::report_error(&err, settings),
                        _ => report_error(&err, settings),
                    }
                    Exit::Failure
                }
            }
        }
        Command::Show { paths, format, raw } => show(paths, *format, *raw, settings),
        Command::Remove {
            paths,
            mode,
            format,
        } => remove(paths, *mode, *format, settings),
        Command::Scan(scan) => scan_cmd::run(scan, settings),
        Command::Du(du) => du_cmd::run(du, settings),
        Command::Fix(fix) => fix_cmd::run(fix, settings),
        Command::Hardlinks(hardlinks) => hardlinks_cmd::run(hardlinks, settings),
        Command::Apply(apply) => apply_cmd::run(apply, settings),
        Command::ReparseDecode { input, json } => reparse_decode(input.as_deref(), *json, messages),
        Command::Completions(shell) => shell_cmd::completions(*shell, messages),
        Command::Man { dir } => shell_cmd::man(dir.as_deref(), messages),
        Command::Retarget {
            link,
            target,
            options,
            format,
        } => retarget_cmd::retarget(link, target, options, *format, settings),
        Command::Convert {
            paths,
            to,
            recursive,
            options,
            format,
        } => retarget_cmd::convert(paths, *to, *recursive, options, *format, settings),
    }
}

fn report_created(
    created: &Created,
    given: &Path,
    asked: LinkType,
    dry_run: bool,
    messages: Messages,
) {
    let link = &created.link;
    let what = match created.made {
        Made::Junction => "junction",
        Made::Hardlink => "hard link",
        _ => match (asked, link.dir) {
            (LinkType::Best, Some(true)) => "directory symlink",
            (LinkType::Best, Some(false)) => "file symlink",
            _ => "symlink",
        },
    };
    let arrow = if created.made == Made::Hardlink {
        "=>"
    } else {
        "->"
    };
    // A hard link stores no target: name the one given (which may itself be a symlink,
    // linked as it is).
    let target = match (created.made, link.target.as_deref()) {
        (Made::Hardlink, _) | (_, None) => quote(given.as_os_str()),
        (_, Some(stored)) => format!("'{}'", output::stored_name(link, stored.as_os_str())),
    };
    let mut printer = Printer::new(Format::Human, messages);
    // Output never stops the work (DESIGN.md promise 8): a lost line changes nothing here.
    let _ = printer.line(&format!(
        "{} {what} {} {arrow} {target}",
        Action::Created.verb(dry_run),
        quote(link.path.as_os_str()),
    ));
    report_notes(created, dry_run, messages);
}

/// A create's notes, on standard error; a dry run says what would be done.
fn report_notes(created: &Created, dry_run: bool, messages: Messages) {
    for note in &created.notes {
        messages.note(&match (note, dry_run) {
            (Note::Replaced, true) => "would replace the existing link".to_owned(),
            (Note::NoJunctions, true) => "this file system has no junctions; would make an \
                                          absolute directory symlink instead"
                .to_owned(),
            _ => note.to_string(),
        });
    }
}

/// `--json` on a create: the link's record (as it would be, in a dry run) as a `created`
/// change record; the notes go to standard error as in the human report.
fn report_created_json(created: &Created, dry_run: bool, messages: Messages) {
    let mut printer = Printer::new(Format::Json, messages);
    // Output never stops the work (DESIGN.md promise 8): a lost line changes nothing here.
    let _ = printer.json(&ChangeRecord {
        record: knot::Record::from(&created.link),
        action: Action::Created,
        old_target: None,
        dry_run,
        error: None,
    });
    let _ = printer.flush();
    report_notes(created, dry_run, messages);
}

/// `show --raw --json`: the record, then the raw buffer in hex (`null` where the link is
/// not a reparse point).
#[derive(serde::Serialize)]
struct RawRecord {
    #[serde(flatten)]
    record: knot::Record,
    raw: Option<String>,
}

// Output never stops the work (DESIGN.md promise 8): `show` and `rm` go on through every
// path when standard output is lost, so what the printer returns changes nothing.
fn show(paths: &[std::path::PathBuf], format: Format, raw: bool, settings: &Settings) -> Exit {
    let messages = settings.messages();
    let mut printer = Printer::new(format, messages);
    let mut exit = Exit::Success;
    for path in paths {
        match knot::inspect(path) {
            Ok(link) => {
                let _ = match (raw, format) {
                    (true, Format::Json) => printer.json(&RawRecord {
                        record: knot::Record::from(&link),
                        raw: link.reparse_data.as_deref().map(reparse_cmd::hex),
                    }),
                    (true, Format::Human) => printer
                        .record(&link)
                        .and_then(|()| printer.text(&raw_text(&link))),
                    _ => printer.record(&link),
                };
                if !link.kind.is_link() {
                    let _ = printer.flush();
                    messages.note(&match knot::link_behind_slash(path) {
                        // `show l/`: what the link `l` points at, reached through the slash.
                        Some(behind) => format!(
                            "{} is the {} that the link {} points at (the trailing slash leads \
                             through the link); to see the link itself: {}",
                            quote(path.as_os_str()),
                            kind_phrase(&link),
                            quote(behind.as_os_str()),
                            command(settings, "show", behind.as_os_str())
                        ),
                        None => format!(
                            "{} is a {}, not a link",
                            quote(path.as_os_str()),
                            kind_phrase(&link)
                        ),
                    });
                }
            }
            Err(err) => {
                let _ = printer.flush();
                report_error(&err, settings);
                exit = Exit::Failure;
            }
        }
    }
    exit
}

/// The reparse buffer behind a link, decoded and dumped, for `show --raw`.
fn raw_text(link: &knot::Link) -> String {
    let Some(raw) = link.reparse_data.as_deref() else {
        return "  raw:        none (not a reparse point)\n".to_owned();
    };
    let body = match knot_reparse::decode(raw) {
        Ok(point) => reparse_cmd::render_human(&point, raw),
        Err(err) => format!("cannot decode: {err}\n{}", reparse_cmd::hex(raw)),
    };
    body.lines().map(|line| format!("  {line}\n")).collect()
}

fn kind_phrase(link: &knot::Link) -> &'static str {
    match link.kind {
        knot::Kind::File => "regular file",
        knot::Kind::Dir => "directory",
        _ => link.special.map_or("special file", knot::Special::name),
    }
}

fn remove(
    paths: &[std::path::PathBuf],
    mode: RemoveMode,
    format: Format,
    settings: &Settings,
) -> Exit {
    let mut printer = Printer::new(format, settings.messages());
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
                    .map(|t| format!(" -> '{}'", output::stored_name(&link, t.as_os_str())));
                let _ = printer.line(&format!(
                    "{verb} {} {}{}",
                    link.kind,
                    quote(path.as_os_str()),
                    target.unwrap_or_default()
                ));
            }
            Ok(link) => {
                let _ = printer.record(&link);
            }
            Err(err) => {
                let _ = printer.flush();
                report_error(&err, settings);
                exit = Exit::Failure;
            }
        }
    }
    exit
}

/// Prints an error as "knot: cannot OP 'PATH': CAUSE", then the fix.
pub(crate) fn report_error(err: &knot::Error, settings: &Settings) {
    let messages = settings.messages();
    messages.error(&error_line(err));
    if let ErrorKind::TrailingSlash { link } = err.kind() {
        let (verb, subcommand) = match err.op() {
            knot::Op::Remove => ("remove", "rm"),
            _ => ("see", "show"),
        };
        messages.hint(&format!(
            "to {verb} the link itself, leave off the slash: {}",
            command(settings, subcommand, link.as_os_str())
        ));
    } else if let Some(fix) = err.fix() {
        messages.hint(&fix);
    }
    if *err.kind() == ErrorKind::ArgumentsSwapped {
        let link = err.path().as_os_str();
        let target = err.target().map(Path::as_os_str).unwrap_or_default();
        let swapped = swapped_command(link, target, settings.program.name, &settings.args);
        messages.hint(&format!("did you mean: {swapped}"));
    }
}

/// "cannot OP 'PATH': CAUSE", the error line without the program's name.
fn error_line(err: &knot::Error) -> String {
    // Causes quote paths the library escaped already, and may hold a system's message:
    // escape what could still drive the terminal, but not the backslashes of those escapes.
    format!(
        "cannot {} {}: {}",
        err.op().verb(),
        quote(err.path().as_os_str()),
        output::escape_text(err.cause().as_bytes())
    )
}

/// `PROGRAM SUBCOMMAND PATH`, as the user would type it.
fn command(settings: &Settings, subcommand: &str, path: &OsStr) -> String {
    format!(
        "{} {subcommand} {}",
        settings.program.name,
        shell_word(path)
    )
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
    words
        .iter()
        .map(|a| shell_word(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `word` as a POSIX shell would need it typed: bare when safe, in single quotes when it is
/// plain text, and in ANSI-C quotes (`$'a\nb'`, which bash, zsh and ksh read) when it holds
/// control characters or bytes that are not UTF-8, so the suggestion names the same file.
fn shell_word(word: &OsStr) -> String {
    let bytes = word.as_encoded_bytes();
    let safe = |c: char| c.is_alphanumeric() || "-_./:=@%+,".contains(c);
    match word.to_str() {
        Some(text) if !text.is_empty() && text.chars().all(safe) => text.to_owned(),
        Some(text) if output::escape(word) == text => format!("'{}'", text.replace('\'', r"'\''")),
        _ => {
            let mut out = String::from("$'");
            for chunk in bytes.utf8_chunks() {
                for c in chunk.valid().chars() {
                    let plain =
                        output::escape(OsStr::new(c.encode_utf8(&mut [0; 4]))) == c.to_string();
                    match c {
                        '\'' | '\\' => {
                            out.push('\\');
                            out.push(c);
                        }
                        c if plain => out.push(c),
                        c if u32::from(c) <= 0xff => {
                            out.push_str(&format!("\\x{:02x}", u32::from(c)))
                        }
                        c => out.push_str(&format!("\\u{:04x}", u32::from(c))),
                    }
                }
                for byte in chunk.invalid() {
                    out.push_str(&format!("\\x{byte:02x}"));
                }
            }
            out.push('\'');
            out
        }
    }
}

/// Reads one byte more than the largest reparse buffer, and no more: enough to tell that
/// the input is too long, so `/dev/zero` or an endless pipe fails at once instead of
/// filling memory (issue 10.11).
fn read_at_most_one_buffer(input: impl std::io::Read) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let limit = knot_reparse::MAX_BUFFER_SIZE + 1;
    let mut bytes = Vec::with_capacity(limit);
    input.take(limit as u64).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// `knot reparse decode`: raw buffer bytes from a file or standard input, fields out.
fn reparse_decode(input: Option<&Path>, json: bool, messages: Messages) -> Exit {
    let (name, read) = match input {
        Some(path) if path != Path::new("-") => (
            quote(path.as_os_str()),
            std::fs::File::open(path).and_then(read_at_most_one_buffer),
        ),
        _ => (
            "standard input".to_owned(),
            read_at_most_one_buffer(std::io::stdin().lock()),
        ),
    };
    let raw = match read {
        Ok(raw) => raw,
        Err(err) => {
            messages.error(&format!("cannot read {name}: {err}"));
            return Exit::Failure;
        }
    };
    if raw.len() > knot_reparse::MAX_BUFFER_SIZE {
        messages.error(&format!(
            "cannot decode {name} as a reparse buffer: it is longer than {} bytes, the \
             largest reparse buffer there is (the input must be the raw bytes of one buffer)",
            knot_reparse::MAX_BUFFER_SIZE
        ));
        return Exit::Failure;
    }
    match knot_reparse::decode(&raw) {
        Ok(point) => {
            let mut printer = Printer::new(Format::Human, messages);
            // A lost output was reported where it happened; the exit code comes from main.
            let _ = if json {
                printer.json(&reparse_cmd::render_json(&point))
            } else {
                printer.text(&reparse_cmd::render_human(&point, &raw))
            };
            Exit::Success
        }
        Err(err) => {
            messages.error(&format!("cannot decode {name} as a reparse buffer: {err}"));
            Exit::Failure
        }
    }
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

    #[test]
    fn exit_codes_are_the_documented_ones() {
        use std::process::Termination as _;
        for (exit, code) in [
            (Exit::Success, 0u8),
            (Exit::Failure, 1),
            (Exit::Usage, 2),
            (Exit::Found, 3),
        ] {
            assert_eq!(exit as u8, code);
            assert_eq!(exit.report(), ExitCode::from(code));
        }
    }
}
