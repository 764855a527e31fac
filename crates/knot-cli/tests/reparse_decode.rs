//! `knot reparse decode` against the golden vectors (`crates/reparse/tests/vectors/`),
//! through the binary: every valid vector gives exactly its expected fields, every
//! malformed one exits 1 with a precise error and never a panic.

use serde_json::Value;

mod common;

use common::{knot, unhex, vectors};

#[test]
fn every_vector_decodes_to_its_expected_fields() {
    let mut checked = 0;
    for vector in vectors().iter().filter(|v| v.get("expect").is_some()) {
        let name = vector["name"].as_str().unwrap();
        let bytes = unhex(vector["hex"].as_str().unwrap());
        let out = knot()
            .args(["reparse", "decode", "--json", "-"])
            .write_stdin(bytes)
            .assert()
            .code(0)
            .stderr("")
            .get_output()
            .stdout
            .clone();
        let record: Value = serde_json::from_slice(&out).unwrap();
        for (field, expected) in vector["expect"].as_object().unwrap() {
            assert_eq!(&record[field], expected, "{name}: field {field}");
        }
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} vectors checked");
}

#[test]
fn malformed_vectors_exit_1_with_a_precise_error() {
    let mut checked = 0;
    for vector in vectors().iter().filter(|v| v["malformed"] == true) {
        let name = vector["name"].as_str().unwrap();
        let bytes = unhex(vector["hex"].as_str().unwrap());
        let out = knot()
            .args(["reparse", "decode"])
            .write_stdin(bytes)
            .assert()
            .code(1)
            .get_output()
            .clone();
        assert!(out.stdout.is_empty(), "{name}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            stderr.starts_with("knot: cannot decode standard input as a reparse buffer: "),
            "{name}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        checked += 1;
    }
    assert!(checked >= 5);
}

#[test]
fn human_output_of_a_junction_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("k1.bin");
    let k1 = vectors()
        .into_iter()
        .find(|v| v["name"] == "k1-junction-accepted-by-ntfs-3g")
        .unwrap();
    std::fs::write(&file, unhex(k1["hex"].as_str().unwrap())).unwrap();
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
    knot()
        .arg("reparse")
        .arg("decode")
        .arg(&file)
        .assert()
        .code(0)
        .stdout(expected)
        .stderr("");
}

#[test]
fn a_missing_file_is_reported() {
    let out = knot()
        .args(["reparse", "decode", "no-such-file.bin"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("knot: cannot read 'no-such-file.bin': "),
        "{stderr}"
    );
}
