//! `knot convert --to-native` on an NTFS volume mounted with ntfs-3g: links in the forms
//! Cygwin, MSYS2 and WSL write, made by hand as those write them, become NT symlinks (or
//! junctions) whose reparse buffers are byte for byte the codec's; what only looks like
//! such a link is refused and left byte for byte as it was.
//!
//! A Cygwin link file is made from Cygwin's own format (newlib-cygwin
//! `winsup/cygwin/path.cc`, `symlink_info::check_sysfile`): a file with the DOS system
//! attribute (`FILE_ATTRIBUTE_SYSTEM`, here through ntfs-3g's `system.ntfs_attrib`) that
//! holds `SYMLINK_COOKIE` (`!<symlink>`), then the UTF-16LE byte order mark `FF FE` and
//! the target in UTF-16LE with a NUL at its end; or, in the older form, the target in
//! plain bytes after the cookie, with a NUL. A WSL symlink is its reparse buffer
//! (`IO_REPARSE_TAG_LX_SYMLINK`), written through `system.ntfs_reparse_data`, starting from
//! the golden vector of one that Cygwin made on Windows 11.

use std::fs;
use std::path::Path;

use knot_reparse::{LxSymlink, MountPoint, ReparsePoint, Symlink};

use crate::fixture::ntfs3g::{Volume, volume};
use crate::fixture::{self, vector};

const SYSTEM: u32 = 0x4;
const ARCHIVE: u32 = 0x20;
const DIRECTORY: u32 = 0x10;

impl Volume {
    fn knot_native<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(
        &self,
        args: I,
    ) -> assert_cmd::Command {
        let mut cmd = fixture::knot();
        cmd.current_dir(&self.mnt)
            .args(["convert", "--to-native"])
            .args(args);
        cmd
    }
}

/// The NTFS attributes of `path` itself.
fn attributes(path: &Path) -> u32 {
    let mut attrib = [0u8; 4];
    rustix::fs::lgetxattr(path, "system.ntfs_attrib", &mut attrib).unwrap();
    u32::from_le_bytes(attrib)
}

fn set_attributes(path: &Path, attributes: u32) {
    rustix::fs::setxattr(
        path,
        "system.ntfs_attrib",
        &attributes.to_le_bytes(),
        rustix::fs::XattrFlags::empty(),
    )
    .unwrap();
}

/// The raw reparse point of `path` itself.
fn reparse_data(path: &Path) -> Vec<u8> {
    let mut buffer = vec![0u8; 16384];
    let len = rustix::fs::lgetxattr(path, "system.ntfs_reparse_data", &mut buffer)
        .unwrap_or_else(|e| panic!("no reparse point on {}: {e}", path.display()));
    buffer.truncate(len);
    buffer
}

/// What Cygwin writes for a link to `target`: the cookie, the byte order mark, the
/// target in UTF-16LE and a NUL.
fn cygwin_bytes(target: &str) -> Vec<u8> {
    let mut bytes = b"!<symlink>".to_vec();
    bytes.extend([0xFF, 0xFE]);
    bytes.extend(target.encode_utf16().flat_map(u16::to_le_bytes));
    bytes.extend([0, 0]);
    bytes
}

/// A file holding `bytes`, with the DOS attributes `attributes`, as Cygwin leaves one.
fn cygwin_file(path: &Path, bytes: &[u8], attributes: u32) {
    fs::write(path, bytes).unwrap();
    set_attributes(path, attributes);
}

/// A WSL symlink at `path`: an empty file with the LX reparse buffer `buffer`.
fn lx_symlink(path: &Path, buffer: &[u8]) {
    fs::File::create(path).unwrap();
    rustix::fs::setxattr(
        path,
        "system.ntfs_reparse_data",
        buffer,
        rustix::fs::XattrFlags::empty(),
    )
    .unwrap();
}

fn encode(point: impl Into<ReparsePoint>) -> Vec<u8> {
    point.into().encode().unwrap()
}

/// A small tree that the links lead into: `Data/sub` (a directory) and `Data/file.txt`.
fn data(vol: &Volume) {
    fs::create_dir_all(vol.path("Data/sub")).unwrap();
    fs::write(vol.path("Data/sub/canary"), "alive").unwrap();
    fs::write(vol.path("Data/file.txt"), "through the link").unwrap();
}

/// Cygwin's files (both forms, relative and `/cygdrive/c`) and WSL's symlinks (the
/// golden vector, and `/mnt/c`) become NT symlinks holding exactly the codec's buffer,
/// of the flavour of what they lead to, which Linux then follows through ntfs-3g.
#[test]
fn cygwin_and_wsl_links_become_nt_symlinks() {
    let Some(vol) = volume("cygwin_and_wsl_links_become_nt_symlinks") else {
        return;
    };
    data(&vol);
    let system = SYSTEM | ARCHIVE;
    cygwin_file(&vol.path("c_dir"), &cygwin_bytes("Data/sub"), system);
    cygwin_file(&vol.path("c_file"), &cygwin_bytes("Data/file.txt"), system);
    cygwin_file(
        &vol.path("c_abs"),
        &cygwin_bytes("/cygdrive/c/Data/sub"),
        system,
    );
    // `..` after a name, which POSIX takes after following the name: written afresh.
    cygwin_file(
        &vol.path("c_dots"),
        &cygwin_bytes("Data/sub/../file.txt"),
        system,
    );
    // The older form: the target in plain bytes after the cookie.
    cygwin_file(&vol.path("c_old"), b"!<symlink>Data/file.txt\0", system);
    // Cygwin's `ln -s` on Windows 11 (vector v10): a WSL symlink to `mksh`.
    fs::write(vol.path("mksh"), "a program").unwrap();
    let v10 = vector("v10-wsl-lx-symlink-io-reparse-tag-lx-symlink-0xa000001");
    assert_eq!(
        v10,
        encode(LxSymlink::new("mksh")),
        "the vector is the codec's"
    );
    lx_symlink(&vol.path("l_file"), &v10);
    lx_symlink(
        &vol.path("l_dir"),
        &encode(LxSymlink::new("/mnt/c/Data/sub")),
    );
    vol.remount();
    vol.knot_native([
        "c_dir", "c_file", "c_abs", "c_dots", "c_old", "l_file", "l_dir",
    ])
    .assert()
    .code(0)
    .stderr("")
    .stdout(
        "replaced 'c_dir': 'Data/sub' -> 'Data\\sub' (now a symlink)\n\
             replaced 'c_file': 'Data/file.txt' -> 'Data\\file.txt' (now a symlink)\n\
             replaced 'c_abs': '/cygdrive/c/Data/sub' -> 'C:\\Data\\sub' (now a symlink)\n\
             replaced 'c_dots': 'Data/sub/../file.txt' -> 'Data\\file.txt' (now a symlink)\n\
             replaced 'c_old': 'Data/file.txt' -> 'Data\\file.txt' (now a symlink)\n\
             replaced 'l_file': 'mksh' -> 'mksh' (now a symlink)\n\
             replaced 'l_dir': '/mnt/c/Data/sub' -> 'C:\\Data\\sub' (now a symlink)\n",
    );
    vol.remount();
    let expected = [
        ("c_dir", encode(Symlink::relative(r"Data\sub")), true),
        ("c_file", encode(Symlink::relative(r"Data\file.txt")), false),
        (
            "c_abs",
            encode(Symlink::absolute(r"C:\Data\sub").unwrap()),
            true,
        ),
        ("c_dots", encode(Symlink::relative(r"Data\file.txt")), false),
        ("c_old", encode(Symlink::relative(r"Data\file.txt")), false),
        ("l_file", encode(Symlink::relative("mksh")), false),
        (
            "l_dir",
            encode(Symlink::absolute(r"C:\Data\sub").unwrap()),
            true,
        ),
    ];
    for (name, buffer, dir) in expected {
        let path = vol.path(name);
        assert_eq!(reparse_data(&path), buffer, "{name}");
        // The flavour: a directory symlink is a directory in NTFS's records.
        assert_eq!(attributes(&path) & DIRECTORY != 0, dir, "{name}");
        let record = vol.show_native(name);
        assert_eq!(record["kind"], "symlink", "{name}");
        assert_eq!(record["dir"], dir, "{name}");
        assert_eq!(record["status"], "ok", "{name}");
    }
    assert_eq!(
        fs::read_to_string(vol.path("c_dir/canary")).unwrap(),
        "alive"
    );
    assert_eq!(
        fs::read_to_string(vol.path("c_old")).unwrap(),
        "through the link"
    );
    assert_eq!(fs::read_to_string(vol.path("l_file")).unwrap(), "a program");
    assert_eq!(
        fs::read_to_string(vol.path("l_dir/canary")).unwrap(),
        "alive"
    );
    // Nothing left beside them; a second run finds NT links, and changes nothing.
    assert_eq!(
        vol.names(),
        [
            "Data", "c_abs", "c_dir", "c_dots", "c_file", "c_old", "l_dir", "l_file", "mksh"
        ]
    );
    vol.knot_native(["c_dir", "l_dir"])
        .assert()
        .code(0)
        .stdout("unchanged 'c_dir': 'Data\\sub'\nunchanged 'l_dir': 'C:\\Data\\sub'\n");
}

/// With `--to-junction`, a directory target gets a junction (the codec's buffer, drive
/// C:), a file target still a file symlink; `--dry-run` and `--json` say so first and
/// change nothing.
#[test]
fn to_junction_makes_junctions_for_directories() {
    let Some(vol) = volume("to_junction_makes_junctions_for_directories") else {
        return;
    };
    data(&vol);
    let system = SYSTEM | ARCHIVE;
    cygwin_file(&vol.path("c_dir"), &cygwin_bytes("Data/sub"), system);
    cygwin_file(&vol.path("c_file"), &cygwin_bytes("Data/file.txt"), system);
    lx_symlink(
        &vol.path("l_dir"),
        &encode(LxSymlink::new("/mnt/c/Data/sub")),
    );
    let before = fs::read(vol.path("c_dir")).unwrap();
    let out = vol
        .knot_native([
            "--to-junction",
            "--dry-run",
            "--json",
            "c_dir",
            "c_file",
            "l_dir",
        ])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let records: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let kinds: Vec<_> = records
        .iter()
        .map(|r| (r["path"].clone(), r["kind"].clone(), r["dry_run"].clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("c_dir".into(), "junction".into(), true.into()),
            ("c_file".into(), "symlink".into(), true.into()),
            ("l_dir".into(), "junction".into(), true.into()),
        ]
    );
    assert_eq!(records[0]["old_target"], "Data/sub");
    assert_eq!(records[0]["target"], "C:\\Data\\sub");
    assert_eq!(fs::read(vol.path("c_dir")).unwrap(), before, "a dry run");
    vol.knot_native(["--to-junction", "c_dir", "c_file", "l_dir"])
        .assert()
        .code(0)
        .stdout(
            "replaced 'c_dir': 'Data/sub' -> 'C:\\Data\\sub' (now a junction)\n\
             replaced 'c_file': 'Data/file.txt' -> 'Data\\file.txt' (now a symlink)\n\
             replaced 'l_dir': '/mnt/c/Data/sub' -> 'C:\\Data\\sub' (now a junction)\n",
        );
    vol.remount();
    let junction = encode(MountPoint::junction(r"C:\Data\sub").unwrap());
    assert_eq!(reparse_data(&vol.path("c_dir")), junction);
    assert_eq!(reparse_data(&vol.path("l_dir")), junction);
    assert_eq!(
        reparse_data(&vol.path("c_file")),
        encode(Symlink::relative(r"Data\file.txt"))
    );
    assert_eq!(vol.show_native("c_dir")["kind"], "junction");
    assert_eq!(
        fs::read_to_string(vol.path("l_dir/canary")).unwrap(),
        "alive"
    );
}

/// Whatever only looks like a Cygwin link is refused with the reason, exit 1, and left
/// byte for byte as it was, attributes and all; the good one among them is converted.
#[test]
fn what_is_no_link_is_refused_and_left_alone() {
    let Some(vol) = volume("what_is_no_link_is_refused_and_left_alone") else {
        return;
    };
    data(&vol);
    let system = SYSTEM | ARCHIVE;
    let good = cygwin_bytes("Data/file.txt");
    let mut odd = good.clone();
    odd.pop();
    let mut cut = good.clone();
    cut.truncate(good.len() - 2);
    let cases: [(&str, Vec<u8>, u32, &str); 7] = [
        (
            "no_system",
            good.clone(),
            ARCHIVE,
            "no DOS system attribute",
        ),
        (
            "bad_magic",
            b"!<symlinq>\xFF\xFEx\0\0\0".to_vec(),
            system,
            "cookie",
        ),
        ("truncated", cut, system, "truncated"),
        ("odd_length", odd, system, "odd number"),
        (
            "unpaired_bom",
            b"!<symlink>\xFFx\0".to_vec(),
            system,
            "byte order mark",
        ),
        (
            "no_drive",
            cygwin_bytes("/usr/bin"),
            system,
            "has no name for",
        ),
        (
            "trailing_data",
            [good.as_slice(), b"data"].concat(),
            system,
            "after its target's NUL",
        ),
    ];
    for (name, bytes, attributes, _) in &cases {
        cygwin_file(&vol.path(name), bytes, *attributes);
    }
    cygwin_file(&vol.path("good"), &good, system);
    vol.remount();
    let names: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let out = vol
        .knot_native(names.iter().copied().chain(["good"]))
        .assert()
        .code(1)
        .stdout("replaced 'good': 'Data/file.txt' -> 'Data\\file.txt' (now a symlink)\n")
        .get_output()
        .stderr
        .clone();
    let stderr = String::from_utf8(out).unwrap();
    vol.remount();
    for (name, bytes, attributes, why) in &cases {
        let line = stderr
            .lines()
            .find(|l| l.starts_with(&format!("knot: cannot convert '{name}': ")))
            .unwrap_or_else(|| panic!("no error for {name}: {stderr}"));
        assert!(line.contains(why), "{name}: {line}");
        let path = vol.path(name);
        assert_eq!(fs::read(&path).unwrap(), *bytes, "{name} is left as it was");
        assert_eq!(attributes_of_file(&path), *attributes, "{name}");
    }
    assert!(
        stderr.contains("knot: hint: knot convert --to-native converts Cygwin"),
        "{stderr}"
    );
    assert_eq!(vol.show_native("good")["kind"], "symlink");
}

/// The attributes ntfs-3g shows for a regular file, without the ones it adds itself.
fn attributes_of_file(path: &Path) -> u32 {
    attributes(path) & (SYSTEM | ARCHIVE)
}

/// `--recursive` converts the links below a directory, passes over every file that is
/// plainly none (a system file without the cookie, as `desktop.ini` is one), and reports
/// NT links as `unchanged`.
#[test]
fn recursive_converts_the_links_below() {
    let Some(vol) = volume("recursive_converts_the_links_below") else {
        return;
    };
    data(&vol);
    let system = SYSTEM | ARCHIVE;
    fs::create_dir_all(vol.path("t/deep")).unwrap();
    cygwin_file(
        &vol.path("t/deep/c"),
        &cygwin_bytes("../../Data/sub"),
        system,
    );
    cygwin_file(&vol.path("t/desktop.ini"), b"[.ShellClassInfo]\r\n", system);
    fs::write(vol.path("t/plain.txt"), "text").unwrap();
    lx_symlink(
        &vol.path("t/l"),
        &encode(LxSymlink::new("../Data/file.txt")),
    );
    vol.remount();
    vol.knot_native(["-r", "t"])
        .assert()
        .code(0)
        .stderr("")
        .stdout(
            "replaced 't/deep/c': '../../Data/sub' -> '..\\..\\Data\\sub' (now a symlink)\n\
             replaced 't/l': '../Data/file.txt' -> '..\\Data\\file.txt' (now a symlink)\n",
        );
    vol.remount();
    assert_eq!(
        reparse_data(&vol.path("t/deep/c")),
        encode(Symlink::relative(r"..\..\Data\sub"))
    );
    assert_eq!(
        fs::read(vol.path("t/desktop.ini")).unwrap(),
        b"[.ShellClassInfo]\r\n"
    );
    assert_eq!(attributes_of_file(&vol.path("t/desktop.ini")), system);
    assert_eq!(fs::read_to_string(vol.path("t/plain.txt")).unwrap(), "text");
    vol.knot_native(["-r", "t"]).assert().code(0).stdout(
        "unchanged 't/deep/c': '..\\..\\Data\\sub'\n\
             unchanged 't/l': '..\\Data\\file.txt'\n",
    );
}

impl Volume {
    fn show_native(&self, name: &str) -> serde_json::Value {
        let mut cmd = fixture::knot();
        cmd.current_dir(&self.mnt).args(["show", "--json", name]);
        fixture::record(&mut cmd)
    }
}

/// Off NTFS there is nothing to convert: a file named is refused with the reason (an
/// ordinary symlink is the native link there), a tree at its root, and nothing changes.
#[test]
fn off_ntfs_it_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("c");
    fs::write(&link, cygwin_bytes("x")).unwrap();
    for args in [vec!["c"], vec!["-r", "."]] {
        let mut cmd = fixture::knot();
        cmd.current_dir(dir.path())
            .args(["convert", "--to-native"])
            .args(&args);
        let out = cmd.assert().code(1).stdout("").get_output().stderr.clone();
        let stderr = String::from_utf8(out).unwrap();
        assert!(
            stderr.contains("it is not on an NTFS volume")
                && stderr.contains("an ordinary symlink is the native link already"),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(fs::read(&link).unwrap(), cygwin_bytes("x"));
    // `--to-native` takes `--to-junction` with it, and no other form.
    let mut cmd = fixture::knot();
    cmd.current_dir(dir.path())
        .args(["convert", "--to-native", "--relative", "c"]);
    cmd.assert().code(2);
}
