//! Escaping, with one rule for backslashes: a name of this system is escaped by
//! [`escape`], where a backslash is part of the name (on Unix) and is escaped with the
//! control characters; text that already holds escapes, or a Windows path stored in a
//! reparse point, goes through [`escape_text`], which keeps its backslashes
//! ([`stored_name`] picks between the two). Link targets and names are untrusted: in
//! human output and messages every control character and every byte that is not valid
//! UTF-8 is escaped (`\n`, `\x1b`, `\xff`), so a name can neither break a line nor drive
//! the terminal (fd's `sanitize.rs`). JSON and `-0` output carry names exactly.

use std::borrow::Cow;
use std::ffi::OsStr;

use knot::Link;

pub use knot_names::escape::escape_text;

/// A name or path of this system, escaped: [`knot_names::escape::escape`], the one escaping
/// function, without its cost for the common name that needs nothing escaped (printable
/// ASCII but the backslash, which knot escapes in Unix names and never changes). A scan
/// prints tens of thousands of names, and looking up every character's Unicode category
/// doubled its CPU time in user space; the test below holds the shortcut to the library's
/// answer.
pub fn escape(name: &OsStr) -> Cow<'_, str> {
    match name.to_str() {
        Some(text)
            if text
                .bytes()
                .all(|b| (0x20..0x7f).contains(&b) && b != b'\\') =>
        {
            Cow::Borrowed(text)
        }
        _ => Cow::Owned(knot_names::escape::escape(name)),
    }
}

/// `'name'`, escaped: how paths appear in messages.
pub fn quote(name: &OsStr) -> String {
    format!("'{}'", escape(name))
}

/// A name that `link` stores (its target, or a reparse point's substitute or print
/// name), escaped: a reparse point stores Windows paths, whose backslashes are separators
/// and are kept on every system; any other link stores a name of this system.
pub fn stored_name<'a>(link: &Link, name: &'a OsStr) -> Cow<'a, str> {
    // A WSL symlink stores a Unix path, where a backslash is part of a name.
    if link
        .tag
        .is_some_and(|tag| tag != knot_reparse::Tag::LX_SYMLINK)
    {
        Cow::Owned(escape_text(name.as_encoded_bytes()))
    } else {
        escape(name)
    }
}

/// A command line of `words`, each as [`shell_word`] writes it, separated by spaces.
pub fn shell_line<W: AsRef<OsStr>>(words: impl IntoIterator<Item = W>) -> String {
    words
        .into_iter()
        .map(|w| shell_word(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `word` as a POSIX shell would need it typed: bare when safe, in single quotes when it is
/// plain text, and in ANSI-C quotes (`$'a\nb'`, which bash, zsh and ksh read) when it holds
/// control characters or bytes that are not UTF-8, so the suggestion names the same file.
pub fn shell_word(word: &OsStr) -> String {
    let bytes = word.as_encoded_bytes();
    let safe = |c: char| c.is_alphanumeric() || "-_./:=@%+,".contains(c);
    match word.to_str() {
        Some(text) if !text.is_empty() && text.chars().all(safe) => text.to_owned(),
        Some(text) if escape(word) == text => format!("'{}'", text.replace('\'', r"'\''")),
        _ => {
            let mut out = String::from("$'");
            for chunk in bytes.utf8_chunks() {
                for c in chunk.valid().chars() {
                    let plain = escape(OsStr::new(c.encode_utf8(&mut [0; 4]))) == c.to_string();
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
        link.tag = Some(knot_reparse::Tag::SYMLINK);
        assert_eq!(stored_name(&link, name), "a\\b");
        link.tag = Some(knot_reparse::Tag::LX_SYMLINK);
        assert_eq!(stored_name(&link, name), "a\\\\b");
    }

    /// The shortcut of [`escape`] gives the library's answer, for every character it
    /// takes and for names it hands on.
    #[test]
    fn the_escape_shortcut_agrees_with_the_library() {
        let ascii: String = (0x20u8..0x7f).map(char::from).collect();
        for name in [
            ascii.as_str(),
            "plain/path.txt",
            "back\\slash",
            "new\nline",
            "\u{1b}[31m",
            "caf\u{e9}",
            "\u{202e}",
            "",
        ] {
            let name = OsStr::new(name);
            assert_eq!(escape(name), knot_names::escape::escape(name), "{name:?}");
        }
        for c in ascii.chars().filter(|&c| c != '\\') {
            let name = c.to_string();
            assert!(matches!(escape(name.as_ref()), Cow::Borrowed(_)));
            assert_eq!(knot_names::escape::escape(name.as_ref()), name);
        }
    }
}
