//! The JSON record of a link (DESIGN.md section 2): one type, written by `knot show`,
//! `knot scan` and `knot rm --dry-run`, and read back by whatever consumes their output (the
//! coming `knot apply`), so that a record read back equals the one written.
//!
//! ```
//! use knot::{Kind, Link, Record};
//!
//! let mut link = Link::new("a/b".into(), Kind::Symlink);
//! link.target = Some("../c".into());
//! let record = Record::from(&link);
//! let json = serde_json::to_string(&record).unwrap();
//! assert!(json.starts_with(r#"{"path":"a/b","kind":"symlink","dir":null,"target":"../c""#));
//! assert_eq!(serde_json::from_str::<Record>(&json).unwrap(), record);
//! ```
//!
//! Fields that do not apply are `null`, and every field is always written, in the order
//! of DESIGN.md; a field other than `path` and `kind` that is missing on input reads as
//! `null`. A name that is not valid
//! Unicode (non-UTF-8 bytes on Unix, unpaired surrogates on Windows) is written as
//! `{"bytes": "<base64>"}` of its raw bytes (on Windows: of its UTF-16LE units), so no name
//! is lost or mangled (DESIGN.md promise 5).

use std::ffi::OsString;
use std::path::PathBuf;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Flavour, Link, Status};

/// The JSON record of one link, as `show --json`, `scan --json` and `rm --dry-run --json`
/// print it.
///
/// Serialize it with any serde format (knot prints it with `serde_json`, one record per
/// line); deserializing what was serialized gives the same record back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Record {
    /// The link's path, as given or as found by a scan.
    #[serde(with = "serde_name")]
    pub path: PathBuf,
    /// The link's kind word ([`Kind::name`](crate::Kind::name)): `symlink`, `junction`,
    /// `hardlink`, `mount-point`, or a reparse tag's kind word.
    pub kind: String,
    /// Whether the link is (or leads to) a directory, where known.
    #[serde(default)]
    pub dir: Option<bool>,
    /// The target exactly as stored.
    #[serde(default, with = "serde_opt_name")]
    pub target: Option<PathBuf>,
    /// Whether the stored target is relative.
    #[serde(default)]
    pub relative: Option<bool>,
    /// The absolute path the target leads to.
    #[serde(default, with = "serde_opt_name")]
    pub resolved: Option<PathBuf>,
    /// With an image root (`--root`), where `resolved`, then a path inside the image, is on
    /// the host. Written only with an image root.
    #[serde(
        default,
        with = "serde_opt_name",
        skip_serializing_if = "Option::is_none"
    )]
    pub resolved_host: Option<PathBuf>,
    /// Where the link leads: `ok`, `dangling`, `loop`, `too-long`, `unreadable`,
    /// `elsewhere`.
    #[serde(default, with = "status")]
    pub status: Option<Status>,
    /// The reparse tag, written as `0x` and eight hex digits.
    #[serde(default, with = "tag")]
    pub tag: Option<u32>,
    /// A reparse point's substitute name.
    #[serde(default, with = "serde_opt_name")]
    pub substitute_name: Option<OsString>,
    /// A reparse point's print name.
    #[serde(default, with = "serde_opt_name")]
    pub print_name: Option<OsString>,
    /// The number of names the file has.
    #[serde(default)]
    pub nlink: Option<u64>,
}

impl From<&Link> for Record {
    fn from(link: &Link) -> Record {
        Record {
            path: link.path.clone(),
            kind: link.kind.name().to_owned(),
            dir: link.dir.map(Flavour::is_dir),
            target: link.target.clone(),
            relative: link.relative,
            resolved: link.resolved.clone(),
            resolved_host: link.resolved_host.clone(),
            status: link.status,
            tag: link.tag.map(|tag| tag.0),
            substitute_name: link.substitute_name.clone(),
            print_name: link.print_name.clone(),
            nlink: link.nlink,
        }
    }
}

use knot_names::json::{serde_name, serde_opt_name};

/// `serde(with)` for a status, written as its name ([`Status::name`]).
mod status {
    use super::*;

    pub fn serialize<S: Serializer>(status: &Option<Status>, s: S) -> Result<S::Ok, S::Error> {
        status.map(Status::name).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Status>, D::Error> {
        let Some(word) = Option::<std::borrow::Cow<'de, str>>::deserialize(d)? else {
            return Ok(None);
        };
        Status::ALL
            .iter()
            .find(|status| status.name() == word)
            .map(|&status| Some(status))
            .ok_or_else(|| {
                serde::de::Error::invalid_value(
                    serde::de::Unexpected::Str(&word),
                    &"ok, dangling, loop, too-long, unreadable or elsewhere",
                )
            })
    }
}

/// `serde(with)` for a reparse tag, written as `0x` and eight hex digits.
mod tag {
    use super::*;

    pub fn serialize<S: Serializer>(tag: &Option<u32>, s: S) -> Result<S::Ok, S::Error> {
        tag.map(|tag| format!("{tag:#010x}")).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        let Some(text) = Option::<std::borrow::Cow<'de, str>>::deserialize(d)? else {
            return Ok(None);
        };
        text.strip_prefix("0x")
            .or_else(|| text.strip_prefix("0X"))
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .map(Some)
            .ok_or_else(|| {
                serde::de::Error::invalid_value(
                    serde::de::Unexpected::Str(&text),
                    &"a reparse tag such as 0xa000000c",
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Kind;

    fn full(path: &str) -> Record {
        let mut link = Link::new(path.into(), Kind::Junction);
        link.dir = Some(Flavour::Dir);
        link.target = Some(r"C:\data".into());
        link.relative = Some(false);
        link.resolved = Some("/mnt/c/data".into());
        link.status = Some(Status::Ok);
        link.tag = Some(knot_reparse::Tag(0xa000_0003));
        link.substitute_name = Some(r"\??\C:\data".into());
        link.print_name = Some(r"C:\data".into());
        link.nlink = Some(1);
        Record::from(&link)
    }

    fn round_trip(record: &Record) -> String {
        let json = serde_json::to_string(record).unwrap();
        let back: Record = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, record, "{json}");
        json
    }

    /// The example record of DESIGN.md section 2, byte for byte, and back.
    #[test]
    fn writes_the_documented_record_and_reads_it_back() {
        let json = round_trip(&full("a/b"));
        assert_eq!(
            json,
            r#"{"path":"a/b","kind":"junction","dir":true,"target":"C:\\data","relative":false,"resolved":"/mnt/c/data","status":"ok","tag":"0xa0000003","substitute_name":"\\??\\C:\\data","print_name":"C:\\data","nlink":1}"#
        );
    }

    #[test]
    fn fields_that_do_not_apply_are_null_and_read_back_as_none() {
        let record = Record::from(&Link::new("l".into(), Kind::Symlink));
        let json = round_trip(&record);
        assert_eq!(
            json,
            r#"{"path":"l","kind":"symlink","dir":null,"target":null,"relative":null,"resolved":null,"status":null,"tag":null,"substitute_name":null,"print_name":null,"nlink":null}"#
        );
        let short: Record = serde_json::from_str(r#"{"path":"l","kind":"symlink"}"#).unwrap();
        assert_eq!(short, record);
    }

    #[test]
    fn every_status_round_trips() {
        for &status in Status::ALL {
            let mut record = full("s");
            record.status = Some(status);
            let json = round_trip(&record);
            assert!(json.contains(&format!(r#""status":"{}""#, status.name())));
        }
    }

    #[test]
    fn tags_round_trip_across_their_range() {
        for tag in [0, 1, 0x8000_0017, 0xa000_000c, 0xa000_001d, u32::MAX] {
            let mut record = full("t");
            record.tag = Some(tag);
            let json = round_trip(&record);
            assert!(json.contains(&format!(r#""tag":"{tag:#010x}""#)), "{json}");
        }
    }

    #[test]
    fn unicode_names_are_strings() {
        for name in [
            "",
            "space name",
            "new\nline",
            "tab\t\u{1b}[31m",
            "日本語",
            "\u{202e}rtl",
        ] {
            let mut record = full("p");
            record.path = PathBuf::from(name);
            record.target = Some(PathBuf::from(name));
            record.print_name = Some(OsString::from(name));
            let json = round_trip(&record);
            assert!(json.starts_with(&format!(
                r#"{{"path":{}"#,
                serde_json::to_string(name).unwrap()
            )));
        }
    }

    /// Names that are not UTF-8 are `{"bytes": base64}` of their raw bytes, and read back
    /// byte for byte (DESIGN.md promise 5).
    #[cfg(unix)]
    #[test]
    fn non_utf8_names_are_base64_bytes_and_read_back_byte_for_byte() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let table: [(&[u8], &str); 4] = [
            (b"bad-\xff-name", "YmFkLf8tbmFtZQ=="),
            (b"\xff", "/w=="),
            (b"\xc3", "ww=="),
            (b"a\x80b\xfe\xfd", "YYBi/v0="),
        ];
        for (raw, base64) in table {
            let name = OsStr::from_bytes(raw);
            let mut record = full("x");
            record.path = PathBuf::from(name);
            record.target = Some(PathBuf::from(name));
            record.resolved = Some(PathBuf::from(name));
            record.substitute_name = Some(name.to_owned());
            record.print_name = Some(name.to_owned());
            let json = round_trip(&record);
            let bytes = format!(r#"{{"bytes":"{base64}"}}"#);
            assert!(json.starts_with(&format!(r#"{{"path":{bytes},"#)), "{json}");
            assert_eq!(json.matches(&bytes).count(), 5, "{json}");
        }
    }

    /// On Windows a name that is not Unicode holds an unpaired surrogate: its UTF-16LE
    /// units are the bytes, read back unit for unit.
    #[cfg(windows)]
    #[test]
    fn unpaired_surrogates_are_base64_utf16le_and_read_back_unit_for_unit() {
        use std::os::windows::ffi::OsStringExt;
        for (units, base64) in [
            (&[0xd800, 0x61][..], "ANhhAA=="),
            (&[0x61, 0xdc00][..], "YQAA3A=="),
        ] {
            let mut record = full("x");
            record.target = Some(PathBuf::from(OsString::from_wide(units)));
            let json = round_trip(&record);
            assert!(
                json.contains(&format!(r#""target":{{"bytes":"{base64}"}}"#)),
                "{json}"
            );
        }
        let odd = r#"{"path":{"bytes":"YQ=="},"kind":"symlink"}"#;
        assert!(serde_json::from_str::<Record>(odd).is_err());
    }

    #[test]
    fn bad_input_is_an_error_not_a_wrong_record() {
        for json in [
            r#"{"path":{"bytes":"not base64!"},"kind":"symlink"}"#,
            r#"{"path":{"text":"l"},"kind":"symlink"}"#,
            r#"{"path":{"bytes":"bA==","bytes":"bA=="},"kind":"symlink"}"#,
            r#"{"path":7,"kind":"symlink"}"#,
            r#"{"path":["l"],"kind":"symlink"}"#,
            r#"{"path":"l","kind":"symlink","target":false}"#,
            r#"{"path":"l","kind":"symlink","status":"fine"}"#,
            r#"{"path":"l","kind":"symlink","tag":"a0000003"}"#,
            r#"{"path":"l","kind":"symlink","tag":"0x1ffffffff"}"#,
            r#"{"kind":"symlink"}"#,
        ] {
            assert!(serde_json::from_str::<Record>(json).is_err(), "{json}");
        }
    }
}
