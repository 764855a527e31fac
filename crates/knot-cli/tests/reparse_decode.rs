//! `knot reparse decode` against the golden vectors (`crates/reparse/tests/vectors/`),
//! through the binary: every valid vector gives exactly its expected fields, every
//! malformed one exits 1 with a precise error and never a panic.

use serde_json::Value;

use crate::fixture::{knot, unhex, vectors};

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

/// The five buffers `mklink` wrote on Windows 11 (vectors `w11-*`), decoded as Windows
/// itself showed them (SecurityRonin/ntfs-forensic, tests/data/win_reparse_truth.txt):
/// `fsutil reparsepoint query` gave the tag, its flags and the data length, and for the
/// junction the names' offsets and lengths and the names; `dir` gave each link's print
/// name in brackets (`<SYMLINK> abs_link.txt [W:\target.txt]`).
#[test]
fn the_windows_11_buffers_decode_as_fsutil_and_dir_showed_them() {
    // (vector, tag, kind, fsutil's data length, dir's bracketed name)
    let cases = [
        (
            "w11-rel_link-txt-mklink",
            "0xa000000c",
            "symlink",
            "0x0034",
            "target.txt",
        ),
        (
            "w11-abs_link-txt-mklink",
            "0xa000000c",
            "symlink",
            "0x0048",
            "W:\\target.txt",
        ),
        (
            "w11-rel_dirlink-mklink",
            "0xa000000c",
            "symlink",
            "0x0028",
            "realdir",
        ),
        (
            "w11-abs_dirlink-mklink",
            "0xa000000c",
            "symlink",
            "0x003c",
            "W:\\realdir",
        ),
        (
            "w11-junction-mklink",
            "0xa0000003",
            "junction",
            "0x003c",
            "W:\\realdir",
        ),
    ];
    for (name, tag, kind, data_length, shown) in cases {
        let out = knot()
            .args(["reparse", "decode", "-"])
            .write_stdin(crate::fixture::vector(name))
            .assert()
            .code(0)
            .stderr("")
            .get_output()
            .stdout
            .clone();
        let text = String::from_utf8(out).unwrap();
        for line in [
            format!("Reparse Tag Value:      {tag}\n"),
            format!("Kind:                   {kind}\n"),
            "Tag flags:              Microsoft, Name Surrogate\n".to_owned(),
            format!("Print Name:             {shown}\n"),
            format!("Reparse Data Length:    {data_length} "),
        ] {
            assert!(text.contains(&line), "{name}: no {line:?} in\n{text}");
        }
    }
    // fsutil's names of the junction (it prints none for a symlink).
    let out = knot()
        .args(["reparse", "decode", "-"])
        .write_stdin(crate::fixture::vector("w11-junction-mklink"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let fsutil = "\
Substitute Name offset: 0
Substitute Name length: 28
Print Name offset:      30
Print Name length:      20
Substitute Name:        \\??\\W:\\realdir
Print Name:             W:\\realdir
";
    assert!(text.contains(fsutil), "{text}");
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

/// Feeds `knot reparse decode INPUT` bytes through `feed` (a pipe: its standard input, or a
/// FIFO) until knot stops reading, and returns how many it took and how it ended. Gives up
/// once knot has taken `GIVE_UP` bytes, far more than a buffer and a pipe's capacity.
#[cfg(unix)]
fn feed_until_knot_stops(
    input: &str,
    fifo: Option<&std::path::Path>,
) -> (usize, std::process::Output) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    const GIVE_UP: usize = 64 << 20;
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("knot"));
    cmd.args(["reparse", "decode", input])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.stdin(if fifo.is_some() {
        Stdio::null()
    } else {
        Stdio::piped()
    });
    let mut child = cmd.spawn().unwrap();
    let mut sink: Box<dyn Write> = match fifo {
        // Opening a FIFO for writing waits for its reader: knot.
        Some(fifo) => Box::new(std::fs::OpenOptions::new().write(true).open(fifo).unwrap()),
        None => Box::new(child.stdin.take().unwrap()),
    };
    let chunk = [0u8; 8192];
    let mut written = 0;
    // The write fails (EPIPE) once knot has closed its end: it stopped reading.
    while written < GIVE_UP && sink.write_all(&chunk).is_ok() {
        written += chunk.len();
    }
    drop(sink);
    if written >= GIVE_UP {
        let _ = child.kill();
    }
    (written, child.wait_with_output().unwrap())
}

/// `knot reparse decode` checks the 16 KiB limit as it reads, so an endless standard input
/// ends: it reads one byte past the limit, and fails at once.
#[cfg(unix)]
#[test]
fn endless_standard_input_fails_at_once() {
    let (written, out) = feed_until_knot_stops("-", None);
    // What knot read, plus what the pipe held when it closed its end (at most 1 MiB).
    assert!(written < 2 << 20, "knot read {written} bytes and went on");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "knot: cannot decode standard input as a reparse buffer: it is longer than 16384 \
         bytes, the largest reparse buffer there is (the input must be the raw bytes of one \
         buffer)\n"
    );
}

/// The same for a FILE that never ends (a FIFO here; `/dev/zero` below).
#[cfg(unix)]
#[test]
fn an_endless_file_fails_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let (written, out) = feed_until_knot_stops(fifo.to_str().unwrap(), Some(&fifo));
    assert!(written < 2 << 20, "knot read {written} bytes and went on");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "knot: cannot decode '{}' as a reparse buffer: it is longer than 16384 bytes",
            fifo.display()
        )),
        "{stderr}"
    );
}

/// As reported: `/dev/zero`.
#[cfg(target_os = "linux")]
#[test]
fn dev_zero_fails_at_once() {
    knot()
        .args(["reparse", "decode", "/dev/zero"])
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(1)
        .stdout("")
        .stderr(
            "knot: cannot decode '/dev/zero' as a reparse buffer: it is longer than 16384 \
             bytes, the largest reparse buffer there is (the input must be the raw bytes of \
             one buffer)\n",
        );
}

/// The limit is exact: a buffer of 16,384 bytes is read whole and decoded (its
/// own lengths decide), one byte more is too long.
#[test]
fn the_limit_is_one_maximum_buffer() {
    // A generic buffer for a non-Microsoft tag: 8-byte header, 16-byte GUID, the data.
    let mut buffer = vec![0u8; 16384];
    buffer[..4].copy_from_slice(&0x0000_1234u32.to_le_bytes());
    buffer[4..6].copy_from_slice(&((16384 - 24) as u16).to_le_bytes());
    knot()
        .args(["reparse", "decode", "--json", "-"])
        .write_stdin(buffer.clone())
        .assert()
        .code(0)
        .stderr("");
    buffer.push(0);
    knot()
        .args(["reparse", "decode", "-"])
        .write_stdin(buffer)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("it is longer than 16384 bytes"));
}
