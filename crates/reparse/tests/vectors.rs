//! The golden vectors (`tests/vectors/vectors.json`): real captures from Windows and
//! buffers verified with ntfs-3g. `tests/vectors/README.md` says the format and where each
//! came from.

use knot_reparse::{ReparsePoint, WideString, decode, encode};
use serde_json::Value;

/// The vectors, built into the test binary: a clone needs nothing beside it, and a test
/// binary run elsewhere (under Wine) carries them along.
const VECTORS: &str = include_str!("vectors/vectors.json");

struct Vector {
    name: String,
    bytes: Vec<u8>,
    json: Value,
}

fn vectors() -> Vec<Vector> {
    let json: Value =
        serde_json::from_str(VECTORS).unwrap_or_else(|e| panic!("vectors.json is not JSON: {e}"));
    let list = json.as_array().expect("vectors.json holds a list");
    assert!(!list.is_empty(), "vectors.json is empty");
    list.iter()
        .map(|v| {
            let name = v["name"].as_str().expect("name").to_owned();
            let hex = v["hex"].as_str().expect("hex");
            Vector {
                bytes: unhex(hex).unwrap_or_else(|| panic!("{name}: bad hex")),
                name,
                json: v.clone(),
            }
        })
        .collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    hex::decode(s).ok()
}

fn text(name: &WideString) -> String {
    name.to_utf8().expect("vector names are valid Unicode")
}

/// Every field of `expect` that is present must match; absent fields are not checked.
fn check_expected(vector: &Vector, point: &ReparsePoint, expect: &Value) {
    let name = &vector.name;
    let fields = expect.as_object().expect("expect is an object");
    for (field, want) in fields {
        let got: Value = match field.as_str() {
            "tag" => format!("{:#010x}", point.tag()).into(),
            "kind" => point.kind().into(),
            "substitute_name" => point.substitute_name().map(text).into(),
            "print_name" => point.print_name().map(text).into(),
            "relative" => match point {
                ReparsePoint::Symlink(s) => s.is_relative().into(),
                _ => Value::Null,
            },
            "target" => match point {
                ReparsePoint::LxSymlink(l) => l.target_str().expect("UTF-8 target").into(),
                _ => Value::Null,
            },
            // The README: "all non-empty strings in order".
            "strings" => match point {
                ReparsePoint::AppExecLink(a) => a
                    .strings
                    .iter()
                    .filter(|s| !s.is_empty())
                    .map(text)
                    .collect::<Vec<_>>()
                    .into(),
                _ => Value::Null,
            },
            other => panic!("{name}: expect has a field this test does not know: {other}"),
        };
        assert_eq!(&got, want, "{name}: field `{field}`");
    }
}

#[test]
fn every_expected_vector_decodes_to_its_fields() {
    let mut checked = 0;
    for vector in vectors() {
        let Some(expect) = vector.json.get("expect") else {
            continue;
        };
        let point =
            decode(&vector.bytes).unwrap_or_else(|e| panic!("{}: rejected: {e}", vector.name));
        check_expected(&vector, &point, expect);
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} vectors had `expect`");
}

#[test]
fn every_malformed_vector_is_rejected() {
    let mut checked = 0;
    for vector in vectors() {
        if vector.json.get("malformed") != Some(&Value::Bool(true)) {
            continue;
        }
        let result = decode(&vector.bytes);
        assert!(result.is_err(), "{}: accepted as {result:?}", vector.name);
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} malformed vectors");
}

#[test]
fn every_vector_is_either_expected_or_malformed() {
    for vector in vectors() {
        let expect = vector.json.get("expect").is_some();
        let malformed = vector.json.get("malformed") == Some(&Value::Bool(true));
        assert!(
            expect != malformed,
            "{}: needs exactly one of expect, malformed",
            vector.name
        );
    }
}

/// Re-encoding gives the exact bytes back when the buffer is in the layout `encode`
/// writes, which is Windows' own: k1 and v3 (junctions: substitute + NUL, print + NUL),
/// v1 and v5 (symlinks: print first, no NULs), the five w11 buffers `mklink` wrote on
/// Windows 11 (four symlinks and a junction), v10 (LX symlink), v11 (WOF, a plain
/// 8-byte-header buffer), c1 (AppExecLink). c4, PowerShell's junction with an empty print
/// name, also comes back exactly: its writer still puts a NUL after the substitute name
/// and an empty, NUL-terminated print name after that, which is what `encode` writes for
/// an empty print name. Every other buffer in a different layout (names in another order
/// or without NULs, a nonzero `Reserved`) decodes to the same value but re-encodes in
/// Windows' layout, which the round trip below checks instead.
#[test]
fn windows_layout_vectors_reencode_to_the_same_bytes() {
    const EXACT: &[&str] = &[
        "k1-",
        "v1-",
        "v3-",
        "v5-",
        "v10-",
        "v11-",
        "c1-",
        "c4-",
        "w11-rel_link-",
        "w11-abs_link-",
        "w11-rel_dirlink-",
        "w11-abs_dirlink-",
        "w11-junction-",
    ];
    let mut exact = 0;
    for vector in vectors() {
        if vector.json.get("expect").is_none() {
            continue;
        }
        let point = decode(&vector.bytes).expect("decodes");
        let bytes = encode(&point).unwrap_or_else(|e| panic!("{}: {e}", vector.name));
        // Whatever the layout, the value survives.
        assert_eq!(decode(&bytes).as_ref(), Ok(&point), "{}", vector.name);
        if EXACT.iter().any(|prefix| vector.name.starts_with(prefix)) {
            assert_eq!(
                hex::encode(&bytes),
                hex::encode(&vector.bytes),
                "{}: re-encoded bytes differ",
                vector.name
            );
            exact += 1;
        }
    }
    assert_eq!(exact, EXACT.len(), "a vector listed in EXACT is missing");
}

/// Each malformed vector fails for the reason its description gives, not by accident.
#[test]
fn malformed_vectors_fail_for_their_stated_reason() {
    use knot_reparse::{DecodeError as E, NameField};
    for vector in vectors() {
        let Err(error) = decode(&vector.bytes) else {
            continue;
        };
        let ok = match vector.name.split('-').next().unwrap_or_default() {
            "m1" => matches!(error, E::ShortHeader { len: 4 }),
            "m2" => matches!(
                error,
                E::LengthMismatch {
                    header_len: 8,
                    data_length: 56,
                    actual: 62,
                    ..
                }
            ),
            "m3" => matches!(
                error,
                E::NameOutOfBounds {
                    name: NameField::Substitute,
                    offset: 0,
                    length: 64,
                    ..
                }
            ),
            "m4" => matches!(
                error,
                E::OddNameOffset {
                    name: NameField::Print,
                    offset: 1
                }
            ),
            "m5" => matches!(error, E::ReservedTag { .. }),
            _ => true,
        };
        assert!(ok, "{}: unexpected error {error:?} ({error})", vector.name);
    }
}
