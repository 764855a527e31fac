//! Everything knot prints: records (human, JSON Lines, NUL-terminated), messages, escaping.
//!
//! Link targets and names are untrusted text: in human output and messages every control
//! character and every byte that is not valid UTF-8 is escaped (`\n`, `\x1b`, `\xff`), so a
//! name can neither break a line nor drive the terminal (fd's `sanitize.rs`). JSON and `-0`
//! output carry names exactly.

use std::ffi::OsStr;
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine as _;
use serde_json::{Map, Value, json};

use knot::Link;

/// How records are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Aligned, escaped text for people.
    Human,
    /// One JSON object per line.
    Json,
    /// The path of each record, NUL-terminated.
    Nul,
}

pub use knot::escape::{escape, escape_bytes, escape_char, escape_text};

/// `'name'`, escaped: how paths appear in messages.
pub fn quote(name: &OsStr) -> String {
    format!("'{}'", escape(name))
}

/// A name that `link` stores (its target, or a reparse point's substitute or print
/// name), escaped: a reparse point stores Windows paths, whose backslashes are separators
/// and are kept on every system; any other link stores a name of this system.
pub fn stored_name(link: &Link, name: &OsStr) -> String {
    // A WSL symlink stores a Unix path, where a backslash is part of a name.
    if link
        .tag
        .is_some_and(|tag| tag != knot_reparse::Tag::LX_SYMLINK.0)
    {
        escape_text(name.as_encoded_bytes())
    } else {
        escape(name)
    }
}

/// A path for JSON: a string when it is valid Unicode, else `{"bytes": base64}` of its raw
/// bytes (on Windows, of its UTF-16LE units), so no name is ever lost.
pub fn json_name(name: &OsStr) -> Value {
    match name.to_str() {
        Some(s) => Value::String(s.to_owned()),
        None => {
            json!({ "bytes": base64::engine::general_purpose::STANDARD.encode(raw_bytes(name)) })
        }
    }
}

#[cfg(unix)]
fn raw_bytes(name: &OsStr) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    name.as_bytes().to_vec()
}

#[cfg(windows)]
fn raw_bytes(name: &OsStr) -> Vec<u8> {
    use std::os::windows::ffi::OsStrExt;
    name.encode_wide().flat_map(u16::to_le_bytes).collect()
}

#[cfg(not(any(unix, windows)))]
fn raw_bytes(name: &OsStr) -> Vec<u8> {
    name.as_encoded_bytes().to_vec()
}

fn opt_name(name: Option<&OsStr>) -> Value {
    name.map_or(Value::Null, json_name)
}

/// The JSON record of DESIGN.md section 2, keys in its order; fields that do not apply are
/// `null`.
pub fn record(link: &Link) -> Value {
    let mut map = Map::new();
    map.insert("path".into(), json_name(link.path.as_os_str()));
    map.insert("kind".into(), Value::String(link.kind.name().to_owned()));
    map.insert("dir".into(), link.dir.map_or(Value::Null, Value::Bool));
    map.insert(
        "target".into(),
        opt_name(link.target.as_deref().map(Path::as_os_str)),
    );
    map.insert(
        "relative".into(),
        link.relative.map_or(Value::Null, Value::Bool),
    );
    map.insert(
        "resolved".into(),
        opt_name(link.resolved.as_deref().map(Path::as_os_str)),
    );
    map.insert(
        "status".into(),
        link.status.map_or(Value::Null, |s| s.name().into()),
    );
    map.insert(
        "tag".into(),
        link.tag
            .map_or(Value::Null, |t| format!("{t:#010x}").into()),
    );
    map.insert(
        "substitute_name".into(),
        opt_name(link.substitute_name.as_deref()),
    );
    map.insert("print_name".into(), opt_name(link.print_name.as_deref()));
    map.insert("nlink".into(), link.nlink.map_or(Value::Null, Value::from));
    Value::Object(map)
}

/// The human form of one record: the path, then one aligned `field: value` line per field
/// that applies.
pub fn human(link: &Link) -> String {
    let mut lines = vec![escape(link.path.as_os_str())];
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
        field("resolved", escape(resolved.as_os_str()));
    }
    if let Some(status) = link.status {
        field("status", status.name().to_owned());
    }
    if link.status.is_some()
        && let Some(dir) = link.dir
    {
        let what = match (dir, link.special) {
            (true, _) => "a directory".to_owned(),
            (false, Some(special)) => format!("a {}", special.name()),
            (false, None) => "a file".to_owned(),
        };
        field("leads to", what);
    }
    if let Some(tag) = link.tag {
        field("tag", format!("{tag:#010x}"));
    }
    if let Some(name) = &link.substitute_name {
        field("substitute", stored_name(link, name));
    }
    if let Some(name) = &link.print_name {
        field("print", stored_name(link, name));
    }
    if let Some(nlink) = link.nlink.filter(|_| link.kind == knot::Kind::Hardlink) {
        field("names", nlink.to_string());
    }
    lines.join("\n") + "\n"
}

/// Writes records to standard output, stopping quietly when the reader has gone away.
pub struct Printer {
    out: io::BufWriter<io::Stdout>,
    format: Format,
}

impl Printer {
    pub fn new(format: Format) -> Printer {
        Printer {
            out: io::BufWriter::new(io::stdout()),
            format,
        }
    }

    /// Prints one record in the chosen format.
    pub fn record(&mut self, link: &Link) {
        if stdout_gone() {
            return;
        }
        let result = match self.format {
            Format::Human => self.out.write_all(human(link).as_bytes()),
            Format::Json => writeln!(self.out, "{}", record(link)),
            Format::Nul => self
                .out
                .write_all(link.path.as_os_str().as_encoded_bytes())
                .and_then(|()| self.out.write_all(b"\0")),
        };
        check(result);
    }

    /// Prints one line of text (human output that is not a record).
    pub fn line(&mut self, text: &str) {
        if stdout_gone() {
            return;
        }
        check(writeln!(self.out, "{text}"));
    }

    /// Prints text as it is (it ends with its own newline).
    pub fn text(&mut self, text: &str) {
        if stdout_gone() {
            return;
        }
        check(self.out.write_all(text.as_bytes()));
    }

    /// Prints a JSON value as one line.
    pub fn json(&mut self, value: &Value) {
        if stdout_gone() {
            return;
        }
        check(writeln!(self.out, "{value}"));
    }

    pub fn flush(&mut self) {
        if stdout_gone() {
            return;
        }
        check(self.out.flush());
    }
}

impl Drop for Printer {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Set once standard output cannot be written any more (its reader went away, or a write
/// failed): output stops there.
static STDOUT_GONE: AtomicBool = AtomicBool::new(false);

/// Set when a write to standard output failed for another reason than a closed pipe (a
/// full disk, an I/O error): the output is incomplete, so knot exits 1 at the end.
static STDOUT_FAILED: AtomicBool = AtomicBool::new(false);

/// Set once standard error cannot be written: messages stop there, the work goes on.
static STDERR_GONE: AtomicBool = AtomicBool::new(false);

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
pub fn check(result: io::Result<()>) {
    if let Err(err) = result {
        if err.kind() != io::ErrorKind::BrokenPipe && !STDOUT_FAILED.swap(true, Ordering::Relaxed) {
            to_stderr(&format!("knot: cannot write to standard output: {err}\n"));
        }
        STDOUT_GONE.store(true, Ordering::Relaxed);
    }
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
}

impl Messages {
    pub fn note(&self, text: &str) {
        if !self.quiet {
            to_stderr(&format!("knot: note: {text}\n"));
        }
    }

    pub fn error(&self, text: &str) {
        to_stderr(&format!("knot: {text}\n"));
    }

    pub fn hint(&self, text: &str) {
        to_stderr(&format!("knot: hint: {text}\n"));
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// A reparse point's names are Windows paths and keep their backslashes, but a WSL
    /// symlink stores a Unix path, whose backslashes are part of a name and are escaped.
    #[test]
    fn stored_names_escape_backslashes_where_they_are_part_of_a_name() {
        let mut link = Link::new("l".into(), knot::Kind::Symlink);
        let name = OsStr::new("a\\b");
        assert_eq!(stored_name(&link, name), "a\\\\b");
        link.tag = Some(knot_reparse::Tag::SYMLINK.0);
        assert_eq!(stored_name(&link, name), "a\\b");
        link.tag = Some(knot_reparse::Tag::LX_SYMLINK.0);
        assert_eq!(stored_name(&link, name), "a\\\\b");
    }

    #[test]
    fn non_utf8_names_are_escaped_and_base64_in_json() {
        use std::os::unix::ffi::OsStrExt;
        let name = OsStr::from_bytes(b"bad-\xff-name");
        assert_eq!(escape(name), "bad-\\xff-name");
        assert_eq!(json_name(name), json!({"bytes": "YmFkLf8tbmFtZQ=="}));
    }
}
