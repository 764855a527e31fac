//! UTF-16 names, kept exactly as stored.

use core::fmt;

/// A name as Windows stores it: a sequence of UTF-16 code units.
///
/// NTFS names and reparse-point names are not guaranteed to be valid UTF-16: an unpaired
/// surrogate is a legal `WCHAR`. `WideString` keeps the units as they are, so a name read
/// from a buffer is written back bit for bit; converting to Rust text is an explicit,
/// fallible ([`to_utf8`](Self::to_utf8)) or lossy ([`to_string_lossy`](Self::to_string_lossy))
/// step.
///
/// `Display` is lossy (unpaired surrogates become U+FFFD); `Debug` is lossless and writes
/// unpaired surrogates as `\u{d800}`.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WideString(Vec<u16>);

impl WideString {
    /// An empty name.
    pub const fn new() -> Self {
        WideString(Vec::new())
    }

    /// Wraps UTF-16 code units as they are.
    pub fn from_units(units: impl Into<Vec<u16>>) -> Self {
        WideString(units.into())
    }

    /// Reads UTF-16LE bytes. `None` if the byte count is odd.
    pub fn from_le_bytes(bytes: &[u8]) -> Option<Self> {
        if !bytes.len().is_multiple_of(2) {
            return None;
        }
        Some(WideString(units_from_le(bytes).collect()))
    }

    /// The code units.
    pub fn as_units(&self) -> &[u16] {
        &self.0
    }

    /// The code units, by value.
    pub fn into_units(self) -> Vec<u16> {
        self.0
    }

    /// The UTF-16LE bytes, as they appear in a reparse buffer.
    pub fn to_le_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|unit| unit.to_le_bytes()).collect()
    }

    /// Length in UTF-16 code units.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Length in bytes (twice [`len`](Self::len)), as reparse buffers count it.
    pub fn byte_len(&self) -> usize {
        self.0.len() * 2
    }

    /// Whether the name is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the units are valid UTF-16 (no unpaired surrogate).
    pub fn is_valid_unicode(&self) -> bool {
        char::decode_utf16(self.0.iter().copied()).all(|c| c.is_ok())
    }

    /// The name as Rust text, or `None` if it holds an unpaired surrogate.
    pub fn to_utf8(&self) -> Option<String> {
        String::from_utf16(&self.0).ok()
    }

    /// The name as Rust text, each unpaired surrogate replaced by U+FFFD. For display
    /// only: the result may not name the same file.
    pub fn to_string_lossy(&self) -> String {
        String::from_utf16_lossy(&self.0)
    }

    /// Whether the name contains the UTF-16 unit `unit`.
    pub fn contains_unit(&self, unit: u16) -> bool {
        self.0.contains(&unit)
    }

    /// Appends the units of `s`.
    pub fn push_str(&mut self, s: &str) {
        self.0.extend(s.encode_utf16());
    }

    /// Appends code units.
    pub fn push_units(&mut self, units: &[u16]) {
        self.0.extend_from_slice(units);
    }
}

/// The UTF-16LE units in `bytes`; a trailing odd byte is ignored.
pub(crate) fn units_from_le(bytes: &[u8]) -> impl Iterator<Item = u16> + '_ {
    let lo = bytes.iter().step_by(2);
    let hi = bytes.iter().skip(1).step_by(2);
    lo.zip(hi).map(|(&lo, &hi)| u16::from_le_bytes([lo, hi]))
}

impl From<&str> for WideString {
    fn from(s: &str) -> Self {
        WideString(s.encode_utf16().collect())
    }
}

impl From<String> for WideString {
    fn from(s: String) -> Self {
        WideString::from(s.as_str())
    }
}

impl From<&String> for WideString {
    fn from(s: &String) -> Self {
        WideString::from(s.as_str())
    }
}

impl From<Vec<u16>> for WideString {
    fn from(units: Vec<u16>) -> Self {
        WideString(units)
    }
}

impl From<&[u16]> for WideString {
    fn from(units: &[u16]) -> Self {
        WideString(units.to_vec())
    }
}

impl From<WideString> for Vec<u16> {
    fn from(s: WideString) -> Self {
        s.0
    }
}

impl AsRef<[u16]> for WideString {
    fn as_ref(&self) -> &[u16] {
        &self.0
    }
}

impl PartialEq<str> for WideString {
    fn eq(&self, other: &str) -> bool {
        self.0.iter().copied().eq(other.encode_utf16())
    }
}

impl PartialEq<&str> for WideString {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

impl PartialEq<WideString> for str {
    fn eq(&self, other: &WideString) -> bool {
        *other == *self
    }
}

impl PartialEq<WideString> for &str {
    fn eq(&self, other: &WideString) -> bool {
        *other == **self
    }
}

impl fmt::Display for WideString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in char::decode_utf16(self.0.iter().copied()) {
            fmt::Write::write_char(f, c.unwrap_or(char::REPLACEMENT_CHARACTER))?;
        }
        Ok(())
    }
}

impl fmt::Debug for WideString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for c in char::decode_utf16(self.0.iter().copied()) {
            match c {
                Ok(c) => {
                    for e in c.escape_debug() {
                        fmt::Write::write_char(f, e)?;
                    }
                }
                Err(e) => write!(f, "\\u{{{:x}}}", e.unpaired_surrogate())?,
            }
        }
        f.write_str("\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossless_and_lossy() {
        let good = WideString::from("C:\\é𝄞");
        assert_eq!(good.to_utf8().as_deref(), Some("C:\\é𝄞"));
        assert!(good.is_valid_unicode());
        assert_eq!(good, "C:\\é𝄞");

        let bad = WideString::from_units(vec![0x61, 0xD800, 0x62]);
        assert_eq!(bad.to_utf8(), None);
        assert!(!bad.is_valid_unicode());
        assert_eq!(bad.to_string_lossy(), "a\u{FFFD}b");
        assert_eq!(bad.to_string(), "a\u{FFFD}b");
        assert_eq!(format!("{bad:?}"), "\"a\\u{d800}b\"");
        assert_eq!(bad.as_units(), &[0x61, 0xD800, 0x62]);
    }

    #[test]
    fn le_bytes_round_trip() {
        let s = WideString::from_units(vec![0x005C, 0xDC00, 0x1234]);
        let bytes = s.to_le_bytes();
        assert_eq!(bytes, [0x5C, 0x00, 0x00, 0xDC, 0x34, 0x12]);
        assert_eq!(WideString::from_le_bytes(&bytes), Some(s));
        assert_eq!(WideString::from_le_bytes(&[1, 2, 3]), None);
    }
}
