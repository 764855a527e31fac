//! `knot reparse decode`: the fields of a raw reparse buffer, as one JSON record or as text
//! laid out like `fsutil reparsepoint query`.
//!
//! Names in a buffer are untrusted: the text form escapes control characters (`\n`,
//! `\x1b`) and unpaired surrogates (`\u{d800}`) so a name can neither break a line nor
//! drive the terminal; the JSON form keeps every name exactly, as a string when it is
//! valid Unicode and otherwise as `{"bytes": "<base64 of the UTF-16LE bytes>"}`.

use std::fmt::Write as _;

use knot_names::escape::{escape_bytes, escape_char};

use base64::Engine as _;
use knot_reparse::{
    APPEXECLINK_VERSION, LX_SYMLINK_VERSION, NameLayout, ReparsePoint, Tag, WideString,
};
use serde_json::{Map, Value, json};

/// The JSON record for a decoded buffer.
///
/// Keys: `tag` (`"0xa0000003"`), `tag_name` (the SDK name, `IO_REPARSE_TAG_MOUNT_POINT`,
/// or null for an undocumented tag), `kind` (`junction`, `mount-point`, `symlink`,
/// `lx-symlink`, `appexeclink`, `af-unix`, `cloud`, ..., `unknown`), `substitute_name`
/// and `print_name` (mount points and symlinks; the print name exactly as stored, so
/// possibly empty), `relative` (symlinks), `target` (where a junction, symlink or LX
/// symlink leads: the substitute name as a Win32 path, `C:\x` rather than `\??\C:\x`, or
/// the LX target), `strings` (AppExecLink), `guid` and `data` (lowercase hex; other tags).
/// Keys that do not apply are null.
///
/// A name that is not valid Unicode is `{"bytes": "<base64>"}`: of its UTF-16LE bytes, or
/// for an LX target of its raw bytes.
pub fn render_json(point: &ReparsePoint) -> Value {
    let tag = point.tag();
    let mut record = Map::new();
    record.insert("tag".into(), format!("{:#010x}", tag.value()).into());
    record.insert("tag_name".into(), tag.name().into());
    record.insert("kind".into(), point.kind().into());
    for key in [
        "substitute_name",
        "print_name",
        "relative",
        "target",
        "strings",
        "guid",
        "data",
    ] {
        record.insert(key.into(), Value::Null);
    }
    let mut set = |key: &str, value: Value| {
        record.insert(key.into(), value);
    };
    match point {
        ReparsePoint::MountPoint(m) => {
            set("substitute_name", json_wide(&m.substitute_name));
            set("print_name", json_wide(&m.print_name));
            set("target", json_wide(&m.target()));
        }
        ReparsePoint::Symlink(s) => {
            set("substitute_name", json_wide(&s.substitute_name));
            set("print_name", json_wide(&s.print_name));
            set("relative", s.is_relative().into());
            set("target", json_wide(&s.target()));
        }
        ReparsePoint::LxSymlink(l) => set(
            "target",
            match l.target_str() {
                Some(text) => text.into(),
                None => json_bytes(&l.target),
            },
        ),
        ReparsePoint::AppExecLink(a) => {
            set("strings", a.strings.iter().map(json_wide).collect());
        }
        ReparsePoint::AfUnix => {}
        ReparsePoint::Generic(g) => {
            set("guid", g.guid.map(|guid| guid.to_string()).into());
            set("data", hex(&g.data).into());
        }
    }
    Value::Object(record)
}

/// The buffer for people, like `fsutil reparsepoint query`: tag, kind and tag bits, the
/// name offsets and lengths exactly as stored in `raw` (the bytes `point` was decoded
/// from), the names, the type's other fields, then a hex dump of the whole of `raw`.
/// Every line ends with `\n`.
pub fn render_human(point: &ReparsePoint, raw: &[u8]) -> String {
    let mut out = String::new();
    let mut line = |label: &str, value: &str| {
        // "Substitute Name offset:" is the longest label; values line up after it.
        let _ = writeln!(out, "{:<24}{value}", format!("{label}:"));
    };
    let tag = point.tag();
    line("Reparse Tag Value", &format!("{:#010x}", tag.value()));
    line("Tag name", tag.name().unwrap_or("(undocumented)"));
    line("Kind", point.kind());
    line("Tag flags", &tag_flags(tag));

    if let Some(layout) = NameLayout::read(raw) {
        line(
            "Substitute Name offset",
            &layout.substitute_offset.to_string(),
        );
        line(
            "Substitute Name length",
            &layout.substitute_length.to_string(),
        );
        line("Print Name offset", &layout.print_offset.to_string());
        line("Print Name length", &layout.print_length.to_string());
    }
    match point {
        ReparsePoint::MountPoint(m) => {
            line("Substitute Name", &escape_wide(&m.substitute_name));
            line("Print Name", &print_name(&m.print_name, &m.display_name()));
        }
        ReparsePoint::Symlink(s) => {
            line("Substitute Name", &escape_wide(&s.substitute_name));
            line("Print Name", &print_name(&s.print_name, &s.display_name()));
            let meaning = if s.is_relative() {
                "relative"
            } else {
                "absolute"
            };
            line("Flags", &format!("{:#010x} ({meaning})", s.flags));
        }
        ReparsePoint::LxSymlink(l) => {
            line("Version", &LX_SYMLINK_VERSION.to_string());
            line("Target", &escape_bytes(&l.target));
        }
        ReparsePoint::AppExecLink(a) => {
            line("Version", &APPEXECLINK_VERSION.to_string());
            for (i, s) in a.strings.iter().enumerate() {
                line(&format!("String {}", i + 1), &escape_wide(s));
            }
        }
        ReparsePoint::AfUnix => {}
        ReparsePoint::Generic(g) => {
            if let Some(guid) = g.guid {
                line("GUID", &guid.to_string());
            }
        }
    }
    if let Some(&[lo, hi]) = raw.get(4..6) {
        let length = u16::from_le_bytes([lo, hi]);
        line(
            "Reparse Data Length",
            &format!("{length:#06x} ({length} bytes)"),
        );
    }
    line("Reparse Buffer", &format!("{} bytes", raw.len()));
    out.push_str(&hex_dump(raw));
    out
}

/// The print name, or a note that it is empty and what is shown instead.
fn print_name(stored: &WideString, shown: &WideString) -> String {
    if stored.is_empty() {
        format!("(empty; shown as {})", escape_wide(shown))
    } else {
        escape_wide(stored)
    }
}

/// `Microsoft, Name Surrogate`, or `none`: the M, N and D bits (MS-FSCC 2.1.2.1).
fn tag_flags(tag: Tag) -> String {
    let flags: Vec<&str> = [
        (tag.is_microsoft(), "Microsoft"),
        (tag.is_name_surrogate(), "Name Surrogate"),
        (tag.is_directory(), "Directory"),
    ]
    .into_iter()
    .filter_map(|(set, name)| set.then_some(name))
    .collect();
    if flags.is_empty() {
        "none".to_owned()
    } else {
        flags.join(", ")
    }
}

/// 16 bytes a line: offset, hex in two groups of 8, then the printable ASCII.
fn hex_dump(raw: &[u8]) -> String {
    let mut out = String::new();
    for (row, chunk) in raw.chunks(16).enumerate() {
        let _ = write!(out, "{:04x}:  ", row * 16);
        for column in 0..16 {
            if column == 8 {
                out.push(' ');
            }
            match chunk.get(column) {
                Some(byte) => {
                    let _ = write!(out, "{byte:02x} ");
                }
                None => out.push_str("   "),
            }
        }
        out.push(' ');
        out.extend(chunk.iter().map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '.'
            }
        }));
        out.push('\n');
    }
    out
}

/// A UTF-16 name for a terminal: control characters escaped as `output::escape` does,
/// unpaired surrogates as `\u{d800}`.
fn escape_wide(name: &WideString) -> String {
    let mut out = String::with_capacity(name.len());
    for c in char::decode_utf16(name.as_units().iter().copied()) {
        match c {
            Ok(c) => escape_char(&mut out, c),
            Err(e) => {
                let _ = write!(out, "\\u{{{:x}}}", e.unpaired_surrogate());
            }
        }
    }
    out
}

fn json_wide(name: &WideString) -> Value {
    match name.to_utf8() {
        Some(text) => Value::String(text),
        None => json_bytes(&name.to_le_bytes()),
    }
}

fn json_bytes(bytes: &[u8]) -> Value {
    json!({ "bytes": base64::engine::general_purpose::STANDARD.encode(bytes) })
}

/// `bytes` as lowercase hex, two digits a byte.
pub fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use knot_reparse::{AppExecLink, Generic, Guid, LxSymlink, MountPoint, Symlink, decode};

    /// The k1 vector: `\??\C:\target` / `C:\target` in Windows' layout.
    const K1: &str = "030000a03800000000001a001c0012005c003f003f005c0043003a005c0074006100720067\
                      0065007400000043003a005c007400610072006700650074000000";

    #[test]
    fn junction_json() {
        let point = decode(&hex::decode(K1).unwrap()).unwrap();
        assert_eq!(
            render_json(&point),
            json!({
                "tag": "0xa0000003",
                "tag_name": "IO_REPARSE_TAG_MOUNT_POINT",
                "kind": "junction",
                "substitute_name": "\\??\\C:\\target",
                "print_name": "C:\\target",
                "relative": null,
                "target": "C:\\target",
                "strings": null,
                "guid": null,
                "data": null,
            })
        );
    }

    #[test]
    fn symlink_json() {
        let point =
            decode(&hex::decode("0c0000a0100000000200020000000200010000002e002e00").unwrap())
                .unwrap();
        let record = render_json(&point);
        assert_eq!(record["kind"], "symlink");
        assert_eq!(record["relative"], true);
        assert_eq!(record["substitute_name"], ".");
        assert_eq!(record["target"], ".");
    }

    #[test]
    fn names_that_are_not_unicode_are_base64() {
        let substitute = WideString::from_units(vec![0x5c, 0xd800]);
        let point = ReparsePoint::from(Symlink::with_names(substitute, "ok", 1));
        let record = render_json(&point);
        // 5c 00 00 d8 -> "XAAA2A=="
        assert_eq!(record["substitute_name"], json!({ "bytes": "XAAA2A==" }));
        assert_eq!(record["print_name"], "ok");

        let point = ReparsePoint::from(LxSymlink::new(vec![b'a', 0xff]));
        assert_eq!(render_json(&point)["target"], json!({ "bytes": "Yf8=" }));
    }

    #[test]
    fn other_kinds_json() {
        let point = ReparsePoint::from(LxSymlink::new("mksh"));
        let record = render_json(&point);
        assert_eq!(record["kind"], "lx-symlink");
        assert_eq!(record["target"], "mksh");
        assert_eq!(record["substitute_name"], Value::Null);

        let point = ReparsePoint::from(AppExecLink::new(["a", "b!App"]));
        assert_eq!(render_json(&point)["strings"], json!(["a", "b!App"]));

        let point = ReparsePoint::from(Generic::new(Tag::WOF, vec![0x01, 0xab]));
        let record = render_json(&point);
        assert_eq!(record["tag"], "0x80000017");
        assert_eq!(record["tag_name"], "IO_REPARSE_TAG_WOF");
        assert_eq!(record["kind"], "wof");
        assert_eq!(record["data"], "01ab");
        assert_eq!(record["guid"], Value::Null);

        let point = ReparsePoint::from(Generic::with_guid(Tag(0x1234), Guid([0; 16]), vec![]));
        let record = render_json(&point);
        assert_eq!(record["tag_name"], Value::Null);
        assert_eq!(record["kind"], "unknown");
        assert_eq!(record["guid"], "{00000000-0000-0000-0000-000000000000}");
        assert_eq!(record["data"], "");

        let record = render_json(&ReparsePoint::AfUnix);
        assert_eq!(record["kind"], "af-unix");
        assert_eq!(record["data"], Value::Null);
    }

    #[test]
    fn junction_human() {
        let raw = hex::decode(K1).unwrap();
        let point = decode(&raw).unwrap();
        let expected = "\
Reparse Tag Value:      0xa0000003
Tag name:               IO_REPARSE_TAG_MOUNT_POINT
Kind:                   junction
Tag flags:              Microsoft, Name Surrogate
Substitute Name offset: 0
Substitute Name length: 26
Print Name offset:      28
Print Name length:      18
Substitute Name:        \\??\\C:\\target
Print Name:             C:\\target
Reparse Data Length:    0x0038 (56 bytes)
Reparse Buffer:         64 bytes
0000:  03 00 00 a0 38 00 00 00  00 00 1a 00 1c 00 12 00  ....8...........
0010:  5c 00 3f 00 3f 00 5c 00  43 00 3a 00 5c 00 74 00  \\.?.?.\\.C.:.\\.t.
0020:  61 00 72 00 67 00 65 00  74 00 00 00 43 00 3a 00  a.r.g.e.t...C.:.
0030:  5c 00 74 00 61 00 72 00  67 00 65 00 74 00 00 00  \\.t.a.r.g.e.t...
";
        assert_eq!(render_human(&point, &raw), expected);
    }

    #[test]
    fn symlink_human_with_empty_print_name_and_control_characters() {
        let point = ReparsePoint::from(Symlink::with_names(
            WideString::from_units(vec![0x61, 0x0a, 0x1b, 0xdc00]),
            "",
            1,
        ));
        let raw = point.encode().unwrap();
        let text = render_human(&point, &raw);
        assert!(
            text.contains("Substitute Name:        a\\n\\x1b\\u{dc00}\n"),
            "{text}"
        );
        assert!(
            text.contains("Print Name:             (empty; shown as a\\n\\x1b\\u{dc00})\n"),
            "{text}"
        );
        assert!(
            text.contains("Flags:                  0x00000001 (relative)\n"),
            "{text}"
        );
        assert!(text.contains("Print Name offset:      0\n"), "{text}");
        assert!(text.contains("Substitute Name offset: 0\n"), "{text}");
        assert!(text.contains("Substitute Name length: 8\n"), "{text}");
    }

    #[test]
    fn hex_dump_pads_the_last_line() {
        let dump = hex_dump(&[0x41, 0x00, 0x7f, 0x20, 1, 2, 3, 4, 5, 6]);
        assert_eq!(
            dump,
            "0000:  41 00 7f 20 01 02 03 04  05 06                    A.. ......\n"
        );
        assert_eq!(hex_dump(&[]), "");
    }

    #[test]
    fn other_kinds_human() {
        let point = ReparsePoint::from(LxSymlink::new(vec![b'x', b'\n', 0xff]));
        let text = render_human(&point, &point.encode().unwrap());
        assert!(
            text.contains("Target:                 x\\n\\xff\n"),
            "{text}"
        );
        assert!(text.contains("Tag flags:              Microsoft, Name Surrogate\n"));

        let point = ReparsePoint::from(AppExecLink::new(["pkg", "pkg!App"]));
        let text = render_human(&point, &point.encode().unwrap());
        assert!(text.contains("String 1:               pkg\n"), "{text}");
        assert!(text.contains("String 2:               pkg!App\n"), "{text}");

        let point = ReparsePoint::from(Generic::new(Tag::CLOUD_3, vec![]));
        let text = render_human(&point, &point.encode().unwrap());
        assert!(text.contains("Kind:                   cloud-3\n"), "{text}");
        assert!(
            text.contains("Tag flags:              Microsoft, Directory\n"),
            "{text}"
        );

        let point = ReparsePoint::from(Generic::with_guid(Tag(0x1234), Guid([0; 16]), vec![]));
        let text = render_human(&point, &point.encode().unwrap());
        assert!(
            text.contains("Tag name:               (undocumented)\n"),
            "{text}"
        );
        assert!(text.contains("Tag flags:              none\n"), "{text}");
        assert!(
            text.contains("GUID:                   {00000000-"),
            "{text}"
        );
    }

    #[test]
    fn volume_mount_point_kind() {
        let point = ReparsePoint::from(
            MountPoint::junction(r"\\?\Volume{01234567-89ab-cdef-0123-456789abcdef}\").unwrap(),
        );
        assert_eq!(render_json(&point)["kind"], "mount-point");
    }
}
