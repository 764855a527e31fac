//! The error line, "PROGRAM: cannot OP 'PATH': CAUSE", and knot's hints after it; and
//! the run's "errored" flag (ripgrep's `messages.rs`): [`fail`] reports an error, under
//! the progress line, and marks the run failed, so `main` ends it with exit 1 however
//! many threads met errors.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use knot::ErrorKind;

use crate::context::Context;
use crate::report::escape::{escape_text, quote, shell_word};
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
    if let ErrorKind::TrailingSlash { link } = err.kind() {
        let (verb, subcommand) = match err.op() {
            knot::Op::Remove => ("remove", "rm"),
            _ => ("see", "show"),
        };
        messages.hint(&format!(
            "to {verb} the link itself, leave off the slash: {}",
            command(context, subcommand, link.as_os_str())
        ));
    } else if let Some(fix) = err.fix() {
        messages.hint(&fix);
    }
    if *err.kind() == ErrorKind::ArgumentsSwapped {
        let link = err.path().as_os_str();
        let target = err.target().map(Path::as_os_str).unwrap_or_default();
        let swapped = swapped_command(link, target, context.program.name, &context.args);
        messages.hint(&format!("did you mean: {swapped}"));
    }
}

/// "cannot OP 'PATH': CAUSE", the error line without the program's name.
pub fn error_line(err: &knot::Error) -> String {
    // Causes quote paths the library escaped already, and may hold a system's message:
    // escape what could still drive the terminal, but not the backslashes of those escapes.
    format!(
        "cannot {} {}: {}",
        err.op().verb(),
        quote(err.path().as_os_str()),
        escape_text(err.cause().as_bytes())
    )
}

/// `PROGRAM SUBCOMMAND PATH`, as the user would type it.
pub fn command(context: &Context, subcommand: &str, path: &OsStr) -> String {
    format!("{} {subcommand} {}", context.program.name, shell_word(path))
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
}
