//! Names for people: link targets and file names are untrusted text, so in messages and
//! human output every character that is not plainly visible is escaped, and every byte
//! that is not UTF-8: control characters (`\n`, `\x1b`), format characters such as the
//! bidirectional-text controls and zero-width characters (`\u{202e}`, `\u{200b}`), line
//! and paragraph separators (`\u{2028}`), spaces other than the ASCII space (`\u{a0}`),
//! and invalid bytes (`\xff`). A name can then neither break a line, drive the terminal,
//! display reversed, nor hide a character (fd's `sanitize.rs`).
//!
//! An escape must never be mistaken for the name's own text: where a backslash can be part
//! of a name (Unix), it is escaped too (`\\`), so a name holding ESC prints `\x1b` and one
//! holding the four characters `\x1b` prints `\\x1b`. Where a backslash is a path separator
//! and never part of a name (Windows paths, which is also what reparse points store on
//! any system), it is printed as it is: `C:\Data`, not `C:\\Data`.

use std::ffi::OsStr;
use std::fmt::Write as _;

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// A name or path of this system, escaped. On Unix a backslash is an ordinary character of
/// a name and is escaped (`\\`); on Windows it is the separator and is kept.
pub fn escape(name: &OsStr) -> String {
    if cfg!(windows) {
        escape_text(name.as_encoded_bytes())
    } else {
        escape_bytes(name.as_encoded_bytes())
    }
}

/// A Unix name or path as bytes (mostly UTF-8), escaped like [`escape`] on Unix: the
/// backslash too.
pub fn escape_bytes(bytes: &[u8]) -> String {
    escape_with(bytes, true)
}

/// Text in which a backslash is not part of a name: a Windows path (as reparse points
/// store it, read on any system), or a message whose names were escaped already. Escaped
/// like [`escape`], but backslashes are kept.
pub fn escape_text(bytes: &[u8]) -> String {
    escape_with(bytes, false)
}

fn escape_with(bytes: &[u8], backslash: bool) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if backslash && c == '\\' {
                out.push_str("\\\\");
            } else {
                escape_char(&mut out, c);
            }
        }
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out
}

/// Appends `c`, escaped if it is not plainly visible (see the module's documentation):
/// `\n`, `\t`, `\r`, `\x1b` for controls up to U+00FF, `\u{200b}` for the others. A
/// backslash is appended as it is: callers that print names where it can be part of one
/// escape it themselves ([`escape`]).
pub fn escape_char(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        c if c.is_control() && u32::from(c) <= 0xff => {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        }
        c if is_invisible(c) => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
        c => out.push(c),
    }
}

/// Whether `c` cannot be seen for what it is: a control; a format character (Unicode's
/// category Cf: the bidirectional-text controls of "Trojan Source", zero-width spaces and
/// joiners, the byte-order mark, soft hyphens, tags); a line or paragraph separator; a space
/// other than U+0020, which looks like one; or a Hangul filler, which displays as nothing.
fn is_invisible(c: char) -> bool {
    match c.general_category() {
        GeneralCategory::Control
        | GeneralCategory::Format
        | GeneralCategory::LineSeparator
        | GeneralCategory::ParagraphSeparator => true,
        GeneralCategory::SpaceSeparator => c != ' ',
        _ => matches!(c, '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_the_rest_kept() {
        assert_eq!(
            escape(OsStr::new("a b\n\tc\x1b[31m")),
            "a b\\n\\tc\\x1b[31m"
        );
        assert_eq!(escape(OsStr::new("héllo 目录 😀")), "héllo 目录 😀");
        assert_eq!(escape(OsStr::new("\u{9b}")), "\\x9b");
        assert_eq!(
            escape(OsStr::new("evil\u{202e}txt.exe")),
            "evil\\u{202e}txt.exe"
        );
        assert_eq!(escape_bytes(b"bad-\xff-name"), "bad-\\xff-name");
    }

    /// A name holding ESC and one holding the four characters `\x1b` print
    /// differently; a Windows path keeps its separators.
    #[test]
    fn an_escape_is_never_the_name_s_own_text() {
        assert_eq!(escape_bytes(b"a\x1b"), "a\\x1b");
        assert_eq!(escape_bytes(br"a\x1b"), r"a\\x1b");
        assert_eq!(escape_bytes(br"\"), r"\\");
        assert_eq!(escape_text(br"C:\Data\x1b"), r"C:\Data\x1b");
        assert_eq!(escape_text(b"C:\\a\x1b"), "C:\\a\\x1b");
        if cfg!(windows) {
            assert_eq!(escape(OsStr::new(r"C:\Data")), r"C:\Data");
        } else {
            assert_eq!(escape(OsStr::new(r"a\b")), r"a\\b");
        }
    }

    /// Invisible and line-breaking characters are escaped; visible ones,
    /// combining marks included, are not.
    #[test]
    fn invisible_and_line_breaking_characters_are_escaped() {
        for (c, shown) in [
            ('\u{2028}', "\\u{2028}"),
            ('\u{2029}', "\\u{2029}"),
            ('\u{200b}', "\\u{200b}"),
            ('\u{200d}', "\\u{200d}"),
            ('\u{feff}', "\\u{feff}"),
            ('\u{ad}', "\\u{ad}"),
            ('\u{a0}', "\\u{a0}"),
            ('\u{3000}', "\\u{3000}"),
            ('\u{3164}', "\\u{3164}"),
            ('\u{e0041}', "\\u{e0041}"),
            ('\u{85}', "\\x85"),
        ] {
            assert_eq!(escape_text(c.to_string().as_bytes()), shown, "{c:?}");
        }
        assert_eq!(escape(OsStr::new("e\u{301}")), "e\u{301}");
        assert_eq!(escape(OsStr::new("a b")), "a b");
    }
}
