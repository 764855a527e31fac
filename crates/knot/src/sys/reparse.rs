//! One way from a reparse buffer to knot's record, for every backend that reads reparse
//! points (Windows, NTFS through ntfs-3g). Platform-neutral: raw bytes, the directory flag
//! and, where the system follows the link by another path than the buffer names (ntfs-3g's
//! translation to a Linux symlink), that path in; a [`Stored`] out. No I/O, so it is
//! tested on every OS against the codec's golden vectors.
//!
//! Names stay exact (DESIGN.md promise 5): a UTF-16 name becomes an `OsString` without
//! loss on every platform (see [`os_from_wide`]), and an LX symlink's bytes likewise
//! ([`os_from_bytes`]).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use knot_reparse::{ReparsePoint, Tag, WideString};

use super::{Judge, ReparseData, Stored, kind_of};

/// The record of a reparse point holding `raw`.
///
/// `dir` is whether the entry is a directory in the file system's own records (`None`
/// where that could not be read). `os_view` is the path the system itself follows, where
/// it differs from the buffer's names: ntfs-3g turns a junction to `C:\x` into a symlink
/// to `<mount point>/x`, and that path becomes `leads_to`. Without one, `leads_to` is the
/// substitute name where it says otherwise than the name Windows shows.
///
/// The target is the name Windows shows: the print name, or the substitute name as a Win32
/// path where the print name is empty (`MountPoint::display_name`). A buffer that holds no
/// target (a WOF-compressed file), or that the codec rejects, is still reported, by its
/// tag and with its raw bytes (`knot show --raw`); its target is the OS view, or empty.
/// The tag in a reparse buffer's first four bytes, read even where the rest does not
/// decode; `None` for a buffer shorter than that.
pub(crate) fn tag_of(raw: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(raw.get(..4)?.try_into().ok()?))
}

pub(crate) fn record(raw: Vec<u8>, dir: Option<bool>, os_view: Option<&Path>) -> Stored {
    let view = || os_view.map(Path::to_path_buf);
    let Ok(point) = knot_reparse::decode(&raw) else {
        let tag = tag_of(&raw).unwrap_or(0);
        return Stored {
            target: view().unwrap_or_default(),
            kind: kind_of(Tag(tag), Tag(tag).kind_name()),
            relative: false,
            dir,
            reparse: Some(ReparseData {
                tag,
                substitute_name: None,
                print_name: None,
                raw,
            }),
            leads_to: view(),
            judge: Judge::Follow,
        };
    };
    let wide = |name: &WideString| os_from_wide(name.as_units());
    // The name shown, the name followed, and whether it is relative to the link.
    let (shown, followed, relative) = match &point {
        ReparsePoint::MountPoint(m) => (wide(&m.display_name()), wide(&m.target()), false),
        ReparsePoint::Symlink(s) => (wide(&s.display_name()), wide(&s.target()), s.is_relative()),
        ReparsePoint::LxSymlink(lx) => {
            let text = os_from_bytes(&lx.target);
            (text.clone(), text, !lx.target.starts_with(b"/"))
        }
        ReparsePoint::AppExecLink(app) => {
            let exe = app.executable().map(wide).unwrap_or_default();
            (exe.clone(), exe, false)
        }
        _ => {
            let none = view().map(PathBuf::into_os_string).unwrap_or_default();
            (none.clone(), none, false)
        }
    };
    let leads_to = match os_view {
        Some(view) => Some(view.to_path_buf()),
        None => (followed != shown).then(|| PathBuf::from(followed)),
    };
    Stored {
        target: PathBuf::from(shown),
        kind: kind_of(point.tag(), point.kind()),
        relative,
        dir,
        leads_to,
        judge: Judge::Follow,
        reparse: Some(ReparseData {
            tag: point.tag().0,
            substitute_name: point.substitute_name().map(wide),
            print_name: point.print_name().map(wide),
            raw,
        }),
    }
}

/// A UTF-16 name as an `OsString`, exactly.
///
/// # Platform behavior
///
/// On Windows, `OsString::from_wide`. Elsewhere the name becomes UTF-8, and a lone
/// surrogate (which NTFS allows in a name, and UTF-8 cannot hold) becomes its three-byte
/// generalised UTF-8 form (WTF-8: `ED A0 80`..`ED BF BF`), which no valid UTF-8 contains:
/// the bytes name that unit and nothing else, so the name can be turned back unit for unit.
pub(crate) fn os_from_wide(units: &[u16]) -> OsString {
    #[cfg(windows)]
    {
        use std::os::windows::ffi::OsStringExt;
        OsString::from_wide(units)
    }
    #[cfg(not(windows))]
    {
        let mut bytes = Vec::with_capacity(units.len());
        for unit in char::decode_utf16(units.iter().copied()) {
            match unit {
                Ok(c) => bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                Err(lone) => {
                    let u = lone.unpaired_surrogate();
                    // 1110xxxx 10xxxxxx 10xxxxxx, as UTF-8 writes any 16-bit value.
                    bytes.extend_from_slice(&[
                        0xE0 | (u >> 12) as u8,
                        0x80 | ((u >> 6) & 0x3F) as u8,
                        0x80 | (u & 0x3F) as u8,
                    ]);
                }
            }
        }
        os_from_bytes_exact(bytes)
    }
}

/// The bytes of an LX symlink's target (WSL's Linux symlink, any bytes but NUL) as an
/// `OsString`, exactly.
///
/// # Platform behavior
///
/// On Unix the bytes themselves. On Windows, whose names are UTF-16, valid UTF-8 becomes
/// its characters and each byte that is not part of valid UTF-8 becomes the lone surrogate
/// `U+DC80 + byte` (`U+DC80`..`U+DCFF`, PEP 383's "surrogateescape"), which no valid UTF-8
/// decodes to: the bytes can be told back from the name.
pub(crate) fn os_from_bytes(bytes: &[u8]) -> OsString {
    #[cfg(windows)]
    {
        use std::os::windows::ffi::OsStringExt;
        let mut units = Vec::with_capacity(bytes.len());
        for chunk in bytes.utf8_chunks() {
            units.extend(chunk.valid().encode_utf16());
            units.extend(chunk.invalid().iter().map(|&b| 0xDC00 | u16::from(b)));
        }
        OsString::from_wide(&units)
    }
    #[cfg(not(windows))]
    {
        os_from_bytes_exact(bytes.to_vec())
    }
}

#[cfg(unix)]
fn os_from_bytes_exact(bytes: Vec<u8>) -> OsString {
    use std::os::unix::ffi::OsStringExt;
    OsString::from_vec(bytes)
}

/// Where an `OsString` is neither bytes nor UTF-16 (WASI has `OsStringExt` too, but no
/// backend reads reparse points there): valid UTF-8 as it is, anything else escaped.
#[cfg(not(any(unix, windows)))]
fn os_from_bytes_exact(bytes: Vec<u8>) -> OsString {
    match String::from_utf8(bytes) {
        Ok(text) => OsString::from(text),
        Err(err) => OsString::from(err.into_bytes().escape_ascii().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::Kind;
    use serde_json::Value;

    const VECTORS: &str = include_str!("../../../reparse/tests/vectors/vectors.json");

    fn wide(text: &str) -> OsString {
        os_from_wide(&text.encode_utf16().collect::<Vec<_>>())
    }

    /// Every golden vector becomes the record its `expect` describes, with its raw bytes
    /// kept; a malformed one is still reported, by its tag, with no names.
    #[test]
    fn every_golden_vector_becomes_its_record() {
        let list: Vec<Value> = serde_json::from_str(VECTORS).unwrap();
        assert!(list.len() >= 13, "vectors.json lost vectors");
        for vector in list {
            let name = vector["name"].as_str().unwrap();
            let raw = hex::decode(vector["hex"].as_str().unwrap()).unwrap();
            let stored = record(raw.clone(), Some(true), None);
            let reparse = stored.reparse.clone().unwrap();
            assert_eq!(reparse.raw, raw, "{name}");
            assert_eq!(stored.dir, Some(true), "{name}");
            if vector["malformed"] == Value::Bool(true) {
                let tag = raw
                    .get(..4)
                    .map_or(0, |b| u32::from_le_bytes(b.try_into().unwrap()));
                assert_eq!(reparse.tag, tag, "{name}");
                assert_eq!(
                    stored.kind,
                    kind_of(Tag(tag), Tag(tag).kind_name()),
                    "{name}"
                );
                assert_eq!(
                    (reparse.substitute_name, reparse.print_name),
                    (None, None),
                    "{name}"
                );
                assert_eq!(stored.target, PathBuf::new(), "{name}");
                assert_eq!(stored.leads_to, None, "{name}");
                continue;
            }
            for (field, want) in vector["expect"].as_object().unwrap() {
                match field.as_str() {
                    "tag" => assert_eq!(format!("{:#010x}", reparse.tag), *want, "{name}"),
                    "kind" => assert_eq!(stored.kind.name(), want, "{name}"),
                    "relative" => assert_eq!(Value::from(stored.relative), *want, "{name}"),
                    "substitute_name" => assert_eq!(
                        reparse.substitute_name,
                        Some(wide(want.as_str().unwrap())),
                        "{name}"
                    ),
                    "print_name" => assert_eq!(
                        reparse.print_name,
                        Some(wide(want.as_str().unwrap())),
                        "{name}"
                    ),
                    "target" => assert_eq!(
                        stored.target,
                        PathBuf::from(want.as_str().unwrap()),
                        "{name}"
                    ),
                    // The program an AppExecLink starts is its target (the third string).
                    "strings" => assert_eq!(
                        stored.target,
                        PathBuf::from(want[2].as_str().unwrap()),
                        "{name}"
                    ),
                    other => panic!("{name}: no check for the field {other:?}"),
                }
            }
            // The target is what Windows shows: the print name, or the substitute name
            // as a Win32 path where the print name is empty; the path followed is
            // `leads_to` only where it says otherwise.
            match stored.kind {
                Kind::Junction | Kind::Symlink => {
                    let print = reparse.print_name.unwrap();
                    if print.is_empty() {
                        let sub = reparse.substitute_name.unwrap();
                        let win32 = sub.to_str().unwrap().strip_prefix(r"\??\").unwrap();
                        assert_eq!(stored.target, PathBuf::from(win32), "{name}");
                    } else {
                        assert_eq!(stored.target, PathBuf::from(print), "{name}");
                    }
                    assert_ne!(stored.leads_to.as_ref(), Some(&stored.target), "{name}");
                }
                _ => assert_eq!(stored.leads_to, None, "{name}"),
            }
        }
    }

    /// On ntfs-3g, the path the system follows is `leads_to`; a buffer that
    /// holds no target, or that the codec rejects, has that path as its target.
    #[test]
    fn the_os_view_is_where_the_link_leads() {
        let view = Path::new("/mnt/ntfs/target");
        let junction = knot_reparse::MountPoint::junction(r"C:\target").unwrap();
        let raw = knot_reparse::encode(&junction.into()).unwrap();
        let stored = record(raw, Some(true), Some(view));
        assert_eq!(stored.target, PathBuf::from(r"C:\target"));
        assert_eq!(stored.leads_to.as_deref(), Some(view));
        assert_eq!(stored.kind, Kind::Junction);
        let bad = record(vec![3, 0, 0, 0xa0, 1], None, Some(view));
        assert_eq!(bad.target, view);
        assert_eq!(bad.leads_to.as_deref(), Some(view));
        assert_eq!(bad.dir, None);
        assert_eq!(bad.reparse.unwrap().tag, 0xa000_0003);
    }

    /// DESIGN.md promise 5: names are exact. A lone surrogate survives as its WTF-8
    /// bytes, and an LX symlink's bytes that are not UTF-8 are kept as they are.
    #[cfg(unix)]
    #[test]
    fn names_are_lossless() {
        use std::os::unix::ffi::OsStrExt;
        let units = [
            u16::from(b'a'),
            0xD800,
            u16::from(b'b'),
            0xDFFF,
            0xD83D,
            0xDE00,
        ];
        let name = os_from_wide(&units);
        assert_eq!(
            name.as_bytes(),
            b"a\xED\xA0\x80b\xED\xBF\xBF\xF0\x9F\x98\x80",
            "a lone surrogate is kept, a pair is one character"
        );
        let symlink = knot_reparse::Symlink::relative(WideString::from_units(units.to_vec()));
        let raw = knot_reparse::encode(&symlink.into()).unwrap();
        let stored = record(raw, Some(false), None);
        assert_eq!(stored.target.as_os_str(), name);
        assert_eq!(stored.reparse.unwrap().substitute_name, Some(name));
        let lx = knot_reparse::LxSymlink::new(b"caf\xE9/x".to_vec());
        let raw = knot_reparse::encode(&lx.into()).unwrap();
        let stored = record(raw, Some(false), None);
        assert_eq!(stored.target.as_os_str().as_bytes(), b"caf\xE9/x");
        assert!(stored.relative);
    }

    // Moved from the Windows backend's tests: the same record on every platform.
    #[test]
    fn junction_buffers_read_back_by_their_names() {
        let raw = knot_reparse::ReparsePoint::from(
            knot_reparse::MountPoint::junction(r"C:\target").unwrap(),
        )
        .encode()
        .unwrap();
        let s = record(raw.clone(), Some(true), None);
        assert_eq!(s.kind, crate::link::Kind::Junction);
        assert_eq!(s.target, Path::new(r"C:\target"));
        assert!(!s.relative);
        assert_eq!(s.dir, Some(true));
        assert_eq!(s.leads_to, None);
        let reparse = s.reparse.unwrap();
        assert_eq!(reparse.tag, 0xA000_0003);
        assert_eq!(reparse.substitute_name.unwrap(), r"\??\C:\target");
        assert_eq!(reparse.print_name.unwrap(), r"C:\target");
        assert_eq!(reparse.raw, raw);

        // An empty print name (PowerShell's New-Item): the substitute name, without `\??\`.
        let raw = knot_reparse::ReparsePoint::from(knot_reparse::MountPoint::new(r"\??\D:\x", ""))
            .encode()
            .unwrap();
        assert_eq!(record(raw, Some(true), None).target, Path::new(r"D:\x"));

        // A print name that says something else than the substitute name: shown as stored,
        // followed where Windows follows it.
        let raw = knot_reparse::ReparsePoint::from(knot_reparse::MountPoint::new(
            r"\??\D:\real",
            r"C:\shown",
        ))
        .encode()
        .unwrap();
        let s = record(raw, Some(true), None);
        assert_eq!(s.target, Path::new(r"C:\shown"));
        assert_eq!(s.leads_to.as_deref(), Some(Path::new(r"D:\real")));
    }

    #[test]
    fn symlink_and_other_buffers() {
        let raw = knot_reparse::ReparsePoint::from(knot_reparse::Symlink::relative(r"..\dir"))
            .encode()
            .unwrap();
        let s = record(raw, Some(false), None);
        assert_eq!(s.kind, crate::link::Kind::Symlink);
        assert_eq!(s.target, Path::new(r"..\dir"));
        assert!(s.relative);
        assert_eq!(s.dir, Some(false));

        let raw = knot_reparse::ReparsePoint::from(knot_reparse::Generic::new(
            knot_reparse::Tag::WOF,
            vec![1, 2, 3],
        ))
        .encode()
        .unwrap();
        let s = record(raw, Some(false), None);
        assert_eq!(s.kind.name(), "wof");
        assert_eq!(s.reparse.unwrap().tag, knot_reparse::Tag::WOF.0);

        // A buffer the codec rejects is still reported by its tag, with its bytes.
        let bad = vec![0x03, 0, 0, 0xa0, 0xff, 0, 0, 0];
        let s = record(bad.clone(), Some(true), None);
        assert_eq!(s.kind, crate::link::Kind::Junction);
        assert_eq!(s.reparse.unwrap().raw, bad);
    }
}
