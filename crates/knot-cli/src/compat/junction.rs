//! Sysinternals `junction [-s] [-q] [-d] [-nobanner] [-accepteula] <path> [<target>]`.
//!
//! The arguments become the same [`Command`]s as knot's own (`knot show`, `knot scan
//! --sort`, `knot junction`, `knot rm`); [`run`] carries them out and prints what
//! junction.exe v1.07 prints: `PATH: JUNCTION` and its name lines, `Created: LINK` /
//! `Targetted at: TARGET`, `Deleted PATH.`, `No reparse points found.` Where knot differs,
//! it is on purpose (README, "Replacing mklink and junction.exe"): `-s` never enters a
//! link and prints no progress dots, every failure exits 1, `-d` removes links only, and
//! `-q` hides error messages but not the exit code.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use knot::scan::{Detail, ScanBuilder};
use knot::{ChangeMode, CreateOptions, Kind, Link, LinkType};

use crate::args::Format;
use crate::cmd::create::CreateSettings;
use crate::cmd::rm::RmSettings;
use crate::cmd::scan::ScanSettings;
use crate::cmd::show::ShowSettings;
use crate::cmd::{Command, Settings};
use crate::context::{Color, Context, Environment, ErrorMessages, Program, Terminal};
use crate::exit::Exit;
use crate::report::{self as output, Messages, Printer, error};

/// knot's own first line, where junction.exe prints its banner (without `-nobanner`).
pub const BANNER: &str = concat!(
    "knot ",
    env!("CARGO_PKG_VERSION"),
    " - junction.exe-compatible front end (Junction v1.07)"
);

/// junction v1.07's usage text, as knot's front end takes it (the last lines are knot's).
const USAGE: &str = "\
The first usage is for displaying reparse point information, the
second usage is for creating a junction point, and the last for
deleting a junction point:
usage: junction [-s] [-q] <file or directory>
       -q     Don't print error messages (quiet)

       -s     Recurse subdirectories

usage: junction <junction directory> <junction target>

       example: junction d:\\link c:\\windows

usage: junction -d <junction directory>

Switches may be written -s or /s, in any case; -nobanner and -accepteula are taken too.
This is knot's junction front end: `knot --help` shows knot's own commands.
";

/// The line junction prints when a query finds nothing.
const NONE_FOUND: &str = "No reparse points found.";

/// One of junction's switches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Switch {
    Recurse,
    Quiet,
    Delete,
    NoBanner,
    AcceptEula,
    Help,
}

/// The switch `arg` is, `Some(Err(()))` for an unknown `-word`, or `None` for a path.
/// A switch starts with `-` or `/` and is read in any case, as junction.exe reads it; a
/// `/word` that is no switch is a path (on Unix, `/tmp` is one).
fn switch(arg: &OsStr) -> Option<Result<Switch, ()>> {
    let text = arg.to_str()?;
    let (dash, name) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'/') => (false, &text[1..]),
        _ => return None,
    };
    let known = match name.to_ascii_lowercase().as_str() {
        "s" => Switch::Recurse,
        "q" => Switch::Quiet,
        "d" => Switch::Delete,
        "nobanner" => Switch::NoBanner,
        "accepteula" => Switch::AcceptEula,
        "?" => Switch::Help,
        _ if dash => return Some(Err(())),
        _ => return None,
    };
    Some(Ok(known))
}

/// Parses junction's arguments (`args` without the program's name).
///
/// `-?` prints the usage on standard output (exit 0); a command line junction does not
/// take prints it on standard error, then what was wrong (exit 2, knot's usage error).
pub fn parse(args: &[OsString], env: Environment) -> Result<Settings, Exit> {
    let mut switches = Vec::new();
    let mut paths = Vec::new();
    let mut unknown = None;
    for arg in args {
        match switch(arg) {
            Some(Ok(found)) => switches.push(found),
            Some(Err(())) => {
                unknown.get_or_insert(arg);
            }
            None => paths.push(PathBuf::from(arg)),
        }
    }
    let has = |wanted| switches.contains(&wanted);
    let banner = (!has(Switch::NoBanner)).then_some(BANNER);
    if has(Switch::Help) {
        return Err(help(banner));
    }
    let (recurse, quiet, delete) = (
        has(Switch::Recurse),
        has(Switch::Quiet),
        has(Switch::Delete),
    );
    let wrong = if let Some(arg) = unknown {
        Some(format!("unknown switch '{}'", output::escape(arg)))
    } else if paths.iter().any(|p| p.as_os_str().is_empty()) {
        Some("an empty name is not a path".to_owned())
    } else if delete && (recurse || quiet) {
        Some("-d takes neither -s nor -q".to_owned())
    } else {
        match (paths.len(), delete) {
            (0, _) => Some("no file or directory given".to_owned()),
            (1, _) => None,
            (2, true) => Some("-d takes one junction directory, not a target".to_owned()),
            (2, false) if recurse => {
                Some("-s lists what is below one directory; it takes no target".to_owned())
            }
            (2, false) => None,
            _ => Some(format!(
                "too many arguments ({}): junction takes a path and, to create, a target",
                paths.len()
            )),
        }
    };
    if let Some(wrong) = wrong {
        output::to_stderr(&format!(
            "{}{USAGE}\njunction: {wrong}\n",
            banner.map(|b| format!("{b}\n\n")).unwrap_or_default()
        ));
        return Err(Exit::Usage);
    }
    let mut paths = paths.into_iter();
    let first = paths.next().unwrap_or_default();
    let command = match (paths.next(), delete, recurse) {
        (Some(target), _, _) => Command::Junction(CreateSettings {
            link: first,
            target,
            ty: LinkType::Junction,
            options: CreateOptions::default(),
            mode: ChangeMode::Change,
            format: Format::Human,
        }),
        (None, true, _) => Command::Rm(RmSettings {
            paths: vec![first],
            mode: ChangeMode::Change,
            format: Format::Human,
            tree: false,
        }),
        (None, false, true) => Command::Scan(ScanSettings::sorted(vec![first])),
        (None, false, false) => Command::Show(ShowSettings {
            paths: vec![first],
            format: Format::Human,
            raw: false,
            root: crate::args::ImageRootArg::default(),
        }),
    };
    Ok(Settings {
        command,
        context: Context {
            quiet,
            program: Program::JUNCTION,
            args: args.to_vec(),
            terminal: Terminal::of(env, Color::Auto),
            errors: if quiet {
                ErrorMessages::Hidden
            } else {
                ErrorMessages::Shown
            },
            banner,
        },
    })
}

/// `-?`: the banner and the usage on standard output, exit 0 (1 when they could not be
/// written, as for knot's `--help`).
fn help(banner: Option<&str>) -> Exit {
    let messages = Messages {
        quiet: false,
        errors: ErrorMessages::Shown,
        program: Program::JUNCTION.name,
    };
    let mut printer = Printer::new(Format::Human, messages);
    let text = banner.map(|b| format!("{b}\n\n")).unwrap_or_default() + USAGE;
    let _ = printer.text(&text).and_then(|()| printer.flush());
    if output::stdout_failed() {
        Exit::Failure
    } else {
        Exit::Success
    }
}

/// Carries out a run of the junction front end (its banner is printed already).
pub fn run(settings: &Settings) -> Exit {
    let context = &settings.context;
    let messages = Messages::of(context);
    let mut printer = Printer::new(Format::Human, messages);
    // Output never stops the work (DESIGN.md promise 8): a lost line changes nothing here,
    // and main turns an output error into exit 1.
    match &settings.command {
        Command::Junction(CreateSettings {
            link,
            target,
            ty,
            options,
            ..
        }) => match knot::create(link, target, *ty, options) {
            Ok(created) => {
                let stored = created.link.target.as_deref().unwrap_or(target);
                let _ = printer.line(&format!("Created: {}", output::escape(link.as_os_str())));
                let _ = printer.line(&format!(
                    "Targetted at: {}",
                    output::stored_name(&created.link, stored.as_os_str())
                ));
                let _ = printer.flush();
                for note in &created.notes {
                    messages.note(&note.to_string());
                }
                Exit::Success
            }
            Err(err) => failed(&err, context),
        },
        Command::Rm(RmSettings { paths, mode, .. }) => {
            let mut exit = Exit::Success;
            for path in paths {
                match knot::remove(path, *mode) {
                    Ok(_) => {
                        let _ =
                            printer.line(&format!("Deleted {}.", output::escape(path.as_os_str())));
                    }
                    Err(err) => {
                        let _ = printer.flush();
                        exit = failed(&err, context);
                    }
                }
            }
            exit
        }
        Command::Show(ShowSettings { paths, .. }) => {
            let mut exit = Exit::Success;
            for path in paths {
                match knot::inspect(path) {
                    Ok(link) => {
                        let _ = printer.text(&listing(&link).unwrap_or(format!("{NONE_FOUND}\n")));
                    }
                    Err(err) => {
                        let _ = printer.flush();
                        exit = failed(&err, context);
                    }
                }
            }
            exit
        }
        Command::Scan(scan) => recurse(scan.roots(), &mut printer, context),
        _ => {
            messages.error("this command has no junction form; run it as knot");
            Exit::Usage
        }
    }
}

/// Reports `err` (unless `-q`) and says the run failed. Where knot's own fix names a knot
/// command, junction's words say it instead: junction has no `--force`, so an existing
/// link is deleted first, and what `-d` refuses is deleted with the system's own tools.
fn failed(err: &knot::Error, context: &Context) -> Exit {
    let hint = match err.kind() {
        knot::ErrorKind::LinkExists => Some(format!(
            "if it is a link, delete it first with `junction -d {}`, or choose another name",
            output::escape(err.path().as_os_str())
        )),
        knot::ErrorKind::NotALink { what } => Some(match what {
            knot::Found::Dir => {
                "junction -d deletes links only; delete directories with rmdir (or rd)".to_owned()
            }
            knot::Found::ReparseFile => "junction -d deletes links only; this file's data is behind its reparse point (compressed, deduplicated or in the cloud)"
                .to_owned(),
            _ => "junction -d deletes links only; delete files with rm (or del)".to_owned(),
        }),
        _ => None,
    };
    let Some(hint) = hint else {
        error::report(err, context);
        return Exit::Failure;
    };
    let messages = Messages::of(context);
    messages.error(&error::error_line(err));
    messages.hint(&hint);
    Exit::Failure
}

/// `-s`: every link below the roots, sorted by path, through knot's scan, which never
/// enters a link (junction.exe descends into junctions, so a junction to an ancestor
/// repeats the tree below it until paths get too long). Errors are reported as the scan
/// meets them and do not stop it.
fn recurse(roots: &[PathBuf], printer: &mut Printer, context: &Context) -> Exit {
    let Some((first, rest)) = roots.split_first() else {
        return Exit::Success;
    };
    let mut builder = ScanBuilder::new(first);
    for root in rest {
        builder.add(root);
    }
    builder.detail(Detail::Full);
    let mut exit = Exit::Success;
    let mut found = Vec::new();
    for entry in builder.build() {
        match entry {
            Ok(entry) => {
                let link = entry.into_link();
                found.extend(listing(&link).map(|text| (link.path, text)));
            }
            Err(err) => exit = failed(&err, context),
        }
    }
    // Sorted by path, so the output does not depend on the order the directories were
    // read in.
    found.sort();
    // Where something could not be read, "none found" would claim what was not seen.
    if found.is_empty() && exit == Exit::Success {
        let _ = printer.line(NONE_FOUND);
    }
    for (_, text) in found {
        let _ = printer.text(&text);
    }
    exit
}

/// junction.exe's lines for `link`, or `None` for what is not a reparse point or symlink
/// (a file, directory or hard link).
///
/// On Unix a symlink stores only its target, so its print and substitute names are the
/// target, as junction.exe shows a symlink whose names are the same.
pub fn listing(link: &Link) -> Option<String> {
    let name = |n: &OsStr| output::stored_name(link, n).into_owned();
    let target = || link.target.as_deref().map(|t| name(t.as_os_str()));
    let substitute = link.substitute_name.as_deref().map(name).or_else(target);
    let print = link.print_name.as_deref().map(name).or_else(target);
    let field = |label: &str, value: Option<String>| {
        format!("   {label:<15}: {}\n", value.unwrap_or_default())
    };
    let (what, fields) = match link.kind {
        Kind::Junction => {
            // junction.exe shows the substitute name without its NT prefix.
            let shown = substitute.map(|s| s.strip_prefix(r"\??\").map(str::to_owned).unwrap_or(s));
            ("JUNCTION", field("Substitute Name", shown))
        }
        // junction.exe labels a volume's name `Print Name` and shows it with its prefix.
        Kind::MountPoint => ("MOUNT POINT", field("Print Name", substitute)),
        Kind::Symlink => (
            "SYMBOLIC LINK",
            field("Print Name", print) + &field("Substitute Name", substitute),
        ),
        Kind::Reparse(tag) if tag.tag().is_microsoft() => {
            ("UNKNOWN MICROSOFT REPARSE POINT", String::new())
        }
        Kind::Reparse(tag) => (
            "THIRD-PARTY REPARSE POINT",
            field("Tag", Some(format!("0x{:08X}", tag.tag().value())))
                + &field(
                    "Surrogate",
                    Some(
                        if tag.tag().is_name_surrogate() {
                            "Yes"
                        } else {
                            "No"
                        }
                        .to_owned(),
                    ),
                ),
        ),
        _ => return None,
    };
    Some(format!(
        "{}: {what}\n{fields}",
        output::escape(link.path.as_os_str())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switches_in_either_style_and_any_case() {
        for (arg, found) in [
            ("-s", Some(Ok(Switch::Recurse))),
            ("/S", Some(Ok(Switch::Recurse))),
            ("-Q", Some(Ok(Switch::Quiet))),
            ("/d", Some(Ok(Switch::Delete))),
            ("-NoBanner", Some(Ok(Switch::NoBanner))),
            ("/accepteula", Some(Ok(Switch::AcceptEula))),
            ("-?", Some(Ok(Switch::Help))),
            ("/?", Some(Ok(Switch::Help))),
            ("-x", Some(Err(()))),
            ("/tmp", None),
            ("dir", None),
        ] {
            assert_eq!(switch(arg.as_ref()), found, "{arg}");
        }
    }

    /// A reparse point of `tag` at `path`, as a scan of an NTFS volume records it.
    fn reparse(path: &str, kind: Kind, tag: u32) -> Link {
        let mut link = Link::new(PathBuf::from(path), kind);
        link.tag = Some(knot::Tag(tag));
        link
    }

    #[test]
    fn a_mount_point_shows_its_volume_name_with_its_prefix() {
        let mut link = reparse("vol", Kind::MountPoint, 0xA000_0003);
        let volume = r"\??\Volume{3e7ec2e1-0000-0000-0000-100000000000}\";
        link.substitute_name = Some(volume.into());
        link.print_name = Some("".into());
        assert_eq!(
            listing(&link).as_deref(),
            Some(
                "vol: MOUNT POINT\n   \
                 Print Name     : \\??\\Volume{3e7ec2e1-0000-0000-0000-100000000000}\\\n"
            )
        );
    }

    #[test]
    fn a_microsoft_tag_knot_does_not_know_is_an_unknown_microsoft_reparse_point() {
        for (tag, name) in [(0x8000_0017, "wof"), (0x8000_0013, "dedup")] {
            let link = reparse(name, Kind::of_tag(knot_reparse::Tag(tag)), tag);
            assert_eq!(
                listing(&link),
                Some(format!("{name}: UNKNOWN MICROSOFT REPARSE POINT\n")),
                "{tag:#010x}"
            );
        }
    }

    #[test]
    fn a_third_party_tag_shows_its_value_and_whether_it_is_a_surrogate() {
        for (tag, surrogate) in [(0x0000_1234, "No"), (0x2000_1234, "Yes")] {
            let link = reparse("other", Kind::of_tag(knot_reparse::Tag(tag)), tag);
            assert_eq!(
                listing(&link),
                Some(format!(
                    "other: THIRD-PARTY REPARSE POINT\n   \
                     Tag            : 0x{tag:08X}\n   \
                     Surrogate      : {surrogate}\n"
                )),
                "{tag:#010x}"
            );
        }
    }
}
