//! Everything knot prints: records (human, JSON Lines, NUL-terminated), messages, escaping,
//! the error lines and their hints, change records and progress. It imports only the
//! leaves (`exit`, `context`, `args`), never a command.
//!
//! Link targets and names are untrusted text: in human output and messages every control
//! character and every byte that is not valid UTF-8 is escaped (`\n`, `\x1b`, `\xff`), so a
//! name can neither break a line nor drive the terminal (fd's `sanitize.rs`). JSON and `-0`
//! output carry names exactly.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use knot::{Link, Record};

pub use crate::args::Format;
use crate::context::Context;
pub use crate::context::ErrorMessages;
pub use escape::{escape, escape_text, quote, shell_line, shell_word, stored_name};

pub mod change;
pub mod error;
pub mod escape;
pub mod progress;
pub mod reparse;

/// One line of JSON: the record of DESIGN.md section 2 ([`knot::Record`]), or any other
/// value, and its newline.
pub fn json_line(out: &mut impl Write, value: &impl serde::Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")
}

/// A status as `show` prints it: its word, and what it means where the word alone would
/// puzzle.
fn status_words(status: knot::Status) -> String {
    match status {
        knot::Status::Elsewhere => {
            "elsewhere (on another Windows drive; not followed from here)".to_owned()
        }
        status => status.name().to_owned(),
    }
}

/// The human form of one record: the path, then one aligned `field: value` line per field
/// that applies.
pub fn human(link: &Link) -> String {
    let mut lines = vec![escape(link.path.as_os_str()).into_owned()];
    let mut field =
        |name: &str, value: String| lines.push(format!("  {:<12}{value}", format!("{name}:")));
    field("kind", link.kind.name().to_owned());
    if let Some(target) = &link.target {
        let form = match link.relative {
            Some(true) => " (relative)",
            Some(false) => " (absolute)",
            None => "",
        };
        field(
            "target",
            format!("{}{form}", stored_name(link, target.as_os_str())),
        );
    }
    if let Some(resolved) = &link.resolved {
        field("resolved", escape(resolved.as_os_str()).into_owned());
    }
    if let Some(status) = link.status {
        field("status", status_words(status));
    }
    // What a link that works leads to: a dangling Windows link still has its flavour in
    // `dir`, and leads to nothing.
    if link.status == Some(knot::Status::Ok)
        && let Some(dir) = link.dir
    {
        let what = match (dir, link.special) {
            (knot::Flavour::Dir, _) => "a directory".to_owned(),
            (knot::Flavour::File, Some(special)) => format!("a {}", special.name()),
            (knot::Flavour::File, None) => "a file".to_owned(),
        };
        field("leads to", what);
    }
    if let Some(tag) = link.tag {
        field("tag", format!("{tag:#010x}"));
    }
    if let Some(name) = &link.substitute_name {
        field("substitute", stored_name(link, name).into_owned());
    }
    if let Some(name) = &link.print_name {
        field("print", stored_name(link, name).into_owned());
    }
    if let Some(nlink) = link.nlink.filter(|_| link.kind == knot::Kind::Hardlink) {
        field("names", nlink.to_string());
    }
    lines.join("\n") + "\n"
}

/// Writes records to standard output, stopping quietly when the reader has gone away.
///
/// Every write returns whether the output still goes somewhere: `Err(Lost)` once it
/// does not, after which nothing more is written (see [`check`]). Callers that print a
/// record or two ignore it; long work (a scan) stops on it.
pub struct Printer {
    out: io::BufWriter<io::Stdout>,
    format: Format,
    messages: Messages,
}

impl Printer {
    pub fn new(format: Format, messages: Messages) -> Printer {
        Printer {
            out: io::BufWriter::new(io::stdout()),
            format,
            messages,
        }
    }

    /// Prints one record in the chosen format.
    pub fn record(&mut self, link: &Link) -> Result<(), Lost> {
        match self.format {
            Format::Human => self.write(|out| out.write_all(human(link).as_bytes())),
            Format::Json => self.write(|out| json_line(out, &Record::from(link))),
            Format::Nul => self.write(|out| {
                out.write_all(link.path.as_os_str().as_encoded_bytes())?;
                out.write_all(b"\0")
            }),
        }
    }

    /// Prints one line of text (human output that is not a record).
    pub fn line(&mut self, text: &str) -> Result<(), Lost> {
        self.write(|out| writeln!(out, "{text}"))
    }

    /// Prints text as it is (it ends with its own newline).
    pub fn text(&mut self, text: &str) -> Result<(), Lost> {
        self.write(|out| out.write_all(text.as_bytes()))
    }

    /// Prints bytes as they are (a NUL-terminated name).
    pub fn raw(&mut self, bytes: &[u8]) -> Result<(), Lost> {
        self.write(|out| out.write_all(bytes))
    }

    /// Prints a value as one line of JSON.
    pub fn json(&mut self, value: &impl serde::Serialize) -> Result<(), Lost> {
        self.write(|out| json_line(out, value))
    }

    pub fn flush(&mut self) -> Result<(), Lost> {
        self.write(|out| out.flush())
    }

    fn write(
        &mut self,
        write: impl FnOnce(&mut io::BufWriter<io::Stdout>) -> io::Result<()>,
    ) -> Result<(), Lost> {
        if stdout_gone() {
            return Err(Lost);
        }
        check(write(&mut self.out), self.messages)
    }
}

impl Drop for Printer {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// Standard output cannot be written any more: its reader went away, or a write failed
/// (reported once, when it happened). Nothing more is printed; the work may go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lost;

/// Set once standard output cannot be written any more (its reader went away, or a write
/// failed): output stops there.
static STDOUT_GONE: AtomicBool = AtomicBool::new(false);

/// Set when a write to standard output failed for another reason than a closed pipe (a
/// full disk, an I/O error): the output is incomplete, so knot exits 1 at the end.
static STDOUT_FAILED: AtomicBool = AtomicBool::new(false);

/// Set once standard error cannot be written: messages stop there, the work goes on.
static STDERR_GONE: AtomicBool = AtomicBool::new(false);

/// A closing summary: `head`, then one row per count, the counts right-aligned to the
/// widest.
pub fn count_table(head: &str, rows: &[(&str, u64)]) -> String {
    let width = rows
        .iter()
        .map(|(_, n)| n.to_string().len())
        .max()
        .unwrap_or(1);
    let mut out = format!("{head}\n");
    for (label, n) in rows {
        out.push_str(&format!("  {n:>width$}  {label}\n"));
    }
    out
}

/// Whether standard output cannot be written any more: output stops, and long work (a
/// scan) may stop too, since nobody reads its records.
pub fn stdout_gone() -> bool {
    STDOUT_GONE.load(Ordering::Relaxed)
}

/// Whether some output was lost to a write error other than a closed pipe.
pub fn stdout_failed() -> bool {
    STDOUT_FAILED.load(Ordering::Relaxed)
}

/// After a write to standard output. Output never stops the work (DESIGN.md promise 8):
/// after a failed write nothing more is printed, but the work goes on (`knot rm a b c |
/// head -1` still removes all three). A closed pipe ends the output quietly and the exit
/// code says what the work did; any other error (a full disk) is reported once, and knot
/// exits 1 at the end, since its output is incomplete.
/// The error is returned, never acted on here (no exit from inside a write, which may be
/// on a scan thread): the caller decides whether to go on.
pub fn check(result: io::Result<()>, messages: Messages) -> Result<(), Lost> {
    let Err(err) = result else {
        return Ok(());
    };
    if err.kind() != io::ErrorKind::BrokenPipe && !STDOUT_FAILED.swap(true, Ordering::Relaxed) {
        messages.error(&format!("cannot write to standard output: {err}"));
    }
    STDOUT_GONE.store(true, Ordering::Relaxed);
    Err(Lost)
}

/// Writes `text` to standard error as it is, in one write where the system allows. Where
/// standard error cannot be written (closed, full), messages stop and the work goes on:
/// unlike `eprint!`, this never panics (DESIGN.md promise 8).
pub fn to_stderr(text: &str) {
    if STDERR_GONE.load(Ordering::Relaxed) {
        return;
    }
    if io::stderr().lock().write_all(text.as_bytes()).is_err() {
        STDERR_GONE.store(true, Ordering::Relaxed);
    }
}

/// Messages on standard error, each prefixed with the program name.
#[derive(Clone, Copy, Debug)]
pub struct Messages {
    pub quiet: bool,
    pub errors: ErrorMessages,
    /// The name the messages start with ([`crate::context::Program::name`]).
    pub program: &'static str,
}

impl Messages {
    /// How messages are written for this run.
    pub fn of(context: &Context) -> Messages {
        Messages {
            quiet: context.quiet,
            errors: context.errors,
            program: context.program.name,
        }
    }

    pub fn note(&self, text: &str) {
        if !self.quiet {
            self.say("note: ", text);
        }
    }

    pub fn error(&self, text: &str) {
        if self.errors == ErrorMessages::Shown {
            self.say("", text);
        }
    }

    pub fn hint(&self, text: &str) {
        if self.errors == ErrorMessages::Shown {
            self.say("hint: ", text);
        }
    }

    /// `PROGRAM: LABEL: TEXT` for a label such as `stats: ` (`--stats`), without the
    /// newline, for a line drawn over and over (the progress line).
    pub fn labelled(&self, label: &str, text: &str) -> String {
        format!("{}: {label}{text}", self.program)
    }

    fn say(&self, label: &str, text: &str) {
        to_stderr(&(self.labelled(label, text) + "\n"));
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn non_utf8_names_are_escaped_and_base64_in_json() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let name = OsStr::from_bytes(b"bad-\xff-name");
        assert_eq!(escape(name), "bad-\\xff-name");
        let mut out = Vec::new();
        json_line(
            &mut out,
            &Record::from(&Link::new(name.into(), knot::Kind::Symlink)),
        )
        .unwrap();
        assert!(out.starts_with(br#"{"path":{"bytes":"YmFkLf8tbmFtZQ=="},"kind":"symlink""#));
        assert!(out.ends_with(b"}\n"));
    }

    #[test]
    fn messages_start_with_the_program_name() {
        let messages = Messages {
            quiet: false,
            errors: ErrorMessages::Shown,
            program: "mklink",
        };
        assert_eq!(
            messages.labelled("stats: ", "1 matched"),
            "mklink: stats: 1 matched"
        );
        assert_eq!(messages.labelled("", "cannot"), "mklink: cannot");
    }
}
