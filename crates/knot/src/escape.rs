//! Names for people: link targets and file names are untrusted text, so in messages and
//! human output every control character, every bidirectional-text control and every byte
//! that is not UTF-8 is escaped (`\n`, `\x1b`, `\u{202e}`, `\xff`). A name can then neither
//! break a line, drive the terminal, nor display reversed (fd's `sanitize.rs`).

use std::ffi::OsStr;
use std::fmt::Write as _;

/// `name` with control characters and invalid UTF-8 escaped.
pub fn escape(name: &OsStr) -> String {
    escape_bytes(name.as_encoded_bytes())
}

/// Bytes that are mostly UTF-8 text, escaped like [`escape`].
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            escape_char(&mut out, c);
        }
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out
}

/// Appends `c`, escaped if it is a control character (`\n`, `\t`, `\r`, `\x1b`, `\u{85}`)
/// or a bidirectional-text control (`\u{202e}`).
pub fn escape_char(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        c if c.is_control() && u32::from(c) <= 0xff => {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        }
        c if c.is_control() || is_bidi_control(c) => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
        c => out.push(c),
    }
}

/// The characters that reorder text on display (Unicode's Bidi_Control property), the
/// "Trojan Source" characters.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
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
        assert_eq!(escape(OsStr::new("héllo\\x 目录")), "héllo\\x 目录");
        assert_eq!(escape(OsStr::new("\u{9b}")), "\\x9b");
        assert_eq!(
            escape(OsStr::new("evil\u{202e}txt.exe")),
            "evil\\u{202e}txt.exe"
        );
        assert_eq!(escape_bytes(b"bad-\xff-name"), "bad-\\xff-name");
    }
}
