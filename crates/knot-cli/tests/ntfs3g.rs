//! Real NTFS junctions and Windows symlinks written from Linux: each test makes a
//! small NTFS image with `mkntfs`, mounts it with `ntfs-3g` through FUSE, runs knot,
//! unmounts and remounts (ntfs-3g caches inode types), and checks the result three
//! independent ways: the raw `system.ntfs_reparse_data` bytes against the golden
//! vectors (Windows' own layout), ntfs-3g's own view (`readlink`, reading through the
//! link), and `ntfsinfo` on the unmounted image.
//!
//! The tests need root, /dev/fuse and the ntfs-3g package (see `fixture/ntfs3g.rs` in the
//! knot crate's tests, shared with the library's race tests).

use std::ffi::OsStr;
use std::fs;
use std::path::Path;
use std::process::Command as Process;

use assert_cmd::Command;
use serde_json::Value;

use crate::fixture::{self, vector};

use crate::fixture::ntfs3g::{Volume, run, volume};

impl Volume {
    fn knot<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(&self, args: I) -> Command {
        let mut cmd = fixture::knot();
        cmd.current_dir(&self.mnt).args(args);
        cmd
    }

    fn show(&self, name: &str) -> Value {
        fixture::record(&mut self.knot(["show", "--json", name]))
    }
}

/// The raw reparse point of `path` itself, as ntfs-3g stores it.
fn reparse_data(path: &Path) -> Vec<u8> {
    let mut buffer = vec![0u8; 16384];
    let len = rustix::fs::lgetxattr(path, "system.ntfs_reparse_data", &mut buffer)
        .unwrap_or_else(|e| panic!("no reparse point on {}: {e}", path.display()));
    buffer.truncate(len);
    buffer
}

/// A file as `compact.exe` leaves it: data, and a WOF reparse point (vector v11) that
/// ntfs-3g cannot interpret. Returns the reparse buffer.
pub(crate) fn compressed_file(path: &Path) -> Vec<u8> {
    fs::write(path, "data").unwrap();
    let wof = vector("v11-wof-windows-overlay-filter-compact-exe-file-algori");
    set_reparse_data(path, &wof);
    wof
}

/// The directory `path` made a volume mount point, as `mountvol` leaves one: a mount point
/// reparse point to `\\??\\Volume{GUID}\\`.
pub(crate) fn volume_mount_point(path: &Path) {
    fs::create_dir_all(path).unwrap();
    let point =
        knot_reparse::MountPoint::new("\\??\\Volume{01234567-89ab-cdef-0123-456789abcdef}\\", "");
    let buffer = knot_reparse::ReparsePoint::MountPoint(point)
        .encode()
        .unwrap();
    set_reparse_data(path, &buffer);
}

/// Writes the reparse buffer `buffer` onto the entry at `path`, as ntfs-3g takes one.
pub(crate) fn set_reparse_data(path: &Path, buffer: &[u8]) {
    rustix::fs::setxattr(
        path,
        "system.ntfs_reparse_data",
        buffer,
        rustix::fs::XattrFlags::empty(),
    )
    .unwrap();
}

/// Gives the entry at `path` a reparse point with `tag` and no data of its own, as a
/// sync engine leaves a cloud placeholder (`0x9000X01A`).
pub(crate) fn placeholder(path: &Path, tag: u32) {
    let mut buffer = tag.to_le_bytes().to_vec();
    buffer.extend([0, 0, 0, 0]);
    set_reparse_data(path, &buffer);
}

fn utf16le(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

#[test]
fn junction_is_a_real_ntfs_junction() {
    let Some(vol) = volume("junction_is_a_real_ntfs_junction") else {
        return;
    };
    fs::create_dir(vol.path("target")).unwrap();
    fs::write(vol.path("target/canary"), "alive").unwrap();
    vol.knot(["junction", "j", "target"])
        .assert()
        .code(0)
        .stdout("created junction 'j' -> 'C:\\target'\n")
        .stderr("");
    vol.remount();
    // Byte for byte what Windows writes (substitute + NUL, print + NUL): vector k1, which
    // ntfs-3g also accepted and resolved when it was made.
    assert_eq!(
        reparse_data(&vol.path("j")),
        vector("k1-junction-accepted-by-ntfs-3g")
    );
    // ntfs-3g's own reading of it.
    assert_eq!(fs::read_link(vol.path("j")).unwrap(), vol.path("target"));
    assert_eq!(fs::read_to_string(vol.path("j/canary")).unwrap(), "alive");
    let record = vol.show("j");
    assert_eq!(record["kind"], "junction");
    assert_eq!(record["target"], "C:\\target");
    assert_eq!(record["substitute_name"], "\\??\\C:\\target");
    assert_eq!(record["print_name"], "C:\\target");
    assert_eq!(record["tag"], "0xa0000003");
    assert_eq!(record["dir"], true);
    assert_eq!(record["status"], "ok");
    assert_eq!(record["resolved"], vol.path("target").to_str().unwrap());
    // Another NTFS implementation reads the same tag off the image.
    let info = vol.ntfsinfo("j");
    assert!(
        info.contains("Reparse tag:\t\t 0xa0000003 (mount point)"),
        "{info}"
    );
    // Removing the junction leaves the target and its contents.
    vol.knot(["rm", "j"])
        .assert()
        .code(0)
        .stdout("removed junction 'j' -> 'C:\\target'\n");
    vol.remount();
    assert_eq!(vol.names(), ["target"]);
    assert_eq!(
        fs::read_to_string(vol.path("target/canary")).unwrap(),
        "alive"
    );
}

#[test]
fn absolute_directory_symlink_in_windows_layout() {
    let Some(vol) = volume("absolute_directory_symlink_in_windows_layout") else {
        return;
    };
    fs::create_dir(vol.path("Target")).unwrap();
    let target = vol.path("Target");
    vol.knot([OsStr::new("symlink"), OsStr::new("s"), target.as_os_str()])
        .assert()
        .code(0)
        .stdout("created symlink 's' -> 'C:\\Target'\n");
    vol.remount();
    // Print name first, no NULs, flags 0: vector v5.
    assert_eq!(
        reparse_data(&vol.path("s")),
        vector("v5-absolute-directory-file-symlink-to-c-target-print-")
    );
    assert_eq!(fs::read_link(vol.path("s")).unwrap(), target);
    let record = vol.show("s");
    assert_eq!(
        (record["kind"].as_str(), record["dir"].as_bool()),
        (Some("symlink"), Some(true))
    );
    assert_eq!(record["relative"], false);
    let info = vol.ntfsinfo("s");
    assert!(
        info.contains("Reparse tag:\t\t 0xa000000c (symlink)"),
        "{info}"
    );
}

#[test]
fn relative_symlinks_keep_their_form() {
    let Some(vol) = volume("relative_symlinks_keep_their_form") else {
        return;
    };
    fs::create_dir_all(vol.path("a/b")).unwrap();
    fs::write(vol.path("a/b/file.txt"), "through the link").unwrap();
    // `mklink /D dot .`: vector v1, captured on Windows.
    vol.knot(["symlink", "dot", "."])
        .assert()
        .code(0)
        .stdout("created symlink 'dot' -> '.'\n");
    // A file symlink: an empty file with the reparse point, backslashes, the relative flag.
    vol.knot(["symlink", "a/f", "b/file.txt"])
        .assert()
        .code(0)
        .stdout("created symlink 'a/f' -> 'b\\file.txt'\n");
    vol.remount();
    assert_eq!(
        reparse_data(&vol.path("dot")),
        vector("v1-relative-directory-symlink-mklink-d-dot-symlink-fl")
    );
    let name = utf16le("b\\file.txt");
    let mut expected = vec![0x0c, 0x00, 0x00, 0xa0];
    expected.extend(u16::try_from(12 + 2 * name.len()).unwrap().to_le_bytes());
    expected.extend([0, 0]);
    let len = u16::try_from(name.len()).unwrap().to_le_bytes();
    expected.extend([len, len, [0, 0], len].concat()); // substitute after print
    expected[8..10].copy_from_slice(&len); // SubstituteNameOffset = print name's length
    expected.extend(1u32.to_le_bytes()); // SYMLINK_FLAG_RELATIVE
    expected.extend(&name);
    expected.extend(&name);
    assert_eq!(reparse_data(&vol.path("a/f")), expected);
    assert_eq!(
        fs::read_link(vol.path("a/f")).unwrap(),
        Path::new("b/file.txt")
    );
    assert_eq!(
        fs::read_to_string(vol.path("a/f")).unwrap(),
        "through the link"
    );
    let record = vol.show("a/f");
    assert_eq!(record["dir"], false);
    assert_eq!(record["relative"], true);
    assert_eq!(record["target"], "b\\file.txt");
}

#[test]
fn non_ascii_names_and_targets_round_trip() {
    let Some(vol) = volume("non_ascii_names_and_targets_round_trip") else {
        return;
    };
    fs::create_dir(vol.path("Ünïcødé 目录")).unwrap();
    vol.knot(["junction", "jünction", "Ünïcødé 目录"])
        .assert()
        .code(0);
    vol.knot(["symlink", "sÿmlink", "Ünïcødé 目录"])
        .assert()
        .code(0);
    vol.remount();
    let j = reparse_data(&vol.path("jünction"));
    let needle = utf16le("\\??\\C:\\Ünïcødé 目录");
    assert!(
        j.windows(needle.len()).any(|w| w == needle),
        "UTF-16 substitute name on disk"
    );
    assert_eq!(vol.show("jünction")["print_name"], "C:\\Ünïcødé 目录");
    assert_eq!(vol.show("sÿmlink")["target"], "Ünïcødé 目录");
    assert_eq!(
        fs::read_link(vol.path("sÿmlink")).unwrap(),
        Path::new("Ünïcødé 目录")
    );
    assert_eq!(
        fs::read_link(vol.path("jünction")).unwrap(),
        vol.path("Ünïcødé 目录")
    );
}

/// The five links `mklink` made on Windows 11 on a volume with drive letter W: (vectors
/// `w11-*`, as `fsutil` dumped them), made by knot on a volume it is told is W:, are the
/// same bytes exactly: relative file and directory symlinks, absolute ones, and a junction.
/// The Windows job makes the same links with knot.exe and compares them the same way
/// (`windows_cli::on_windows::the_links_mklink_made_on_windows_11_byte_for_byte`).
#[test]
fn the_links_mklink_made_on_windows_11_byte_for_byte() {
    let Some(vol) = volume("the_links_mklink_made_on_windows_11_byte_for_byte") else {
        return;
    };
    fs::write(vol.path("target.txt"), "target file contents\r\n").unwrap();
    fs::create_dir(vol.path("realdir")).unwrap();
    let (file, dir) = (vol.path("target.txt"), vol.path("realdir"));
    let cases: [(&[&OsStr], &str, &str); 5] = [
        // mklink rel_link.txt target.txt
        (
            &[
                "symlink".as_ref(),
                "rel_link.txt".as_ref(),
                "target.txt".as_ref(),
            ],
            "created symlink 'rel_link.txt' -> 'target.txt'\n",
            "w11-rel_link-txt-mklink",
        ),
        // mklink abs_link.txt W:\target.txt
        (
            &[
                "symlink".as_ref(),
                "--drive".as_ref(),
                "W:".as_ref(),
                "abs_link.txt".as_ref(),
                file.as_os_str(),
            ],
            "created symlink 'abs_link.txt' -> 'W:\\target.txt'\n",
            "w11-abs_link-txt-mklink",
        ),
        // mklink /D rel_dirlink realdir
        (
            &[
                "symlink".as_ref(),
                "rel_dirlink".as_ref(),
                "realdir".as_ref(),
            ],
            "created symlink 'rel_dirlink' -> 'realdir'\n",
            "w11-rel_dirlink-mklink",
        ),
        // mklink /D abs_dirlink W:\realdir
        (
            &[
                "symlink".as_ref(),
                "--drive".as_ref(),
                "W:".as_ref(),
                "abs_dirlink".as_ref(),
                dir.as_os_str(),
            ],
            "created symlink 'abs_dirlink' -> 'W:\\realdir'\n",
            "w11-abs_dirlink-mklink",
        ),
        // mklink /J junction W:\realdir
        (
            &[
                "junction".as_ref(),
                "--drive".as_ref(),
                "W:".as_ref(),
                "junction".as_ref(),
                "realdir".as_ref(),
            ],
            "created junction 'junction' -> 'W:\\realdir'\n",
            "w11-junction-mklink",
        ),
    ];
    for (args, stdout, _) in cases {
        vol.knot(args).assert().code(0).stdout(stdout).stderr("");
    }
    vol.remount();
    for (_, _, name) in cases {
        let link = name
            .trim_start_matches("w11-")
            .trim_end_matches("-mklink")
            .replace("-txt", ".txt");
        assert_eq!(
            hex::encode(reparse_data(&vol.path(&link))),
            hex::encode(vector(name)),
            "{link}: the bytes differ from what mklink wrote on Windows 11 ({name})"
        );
    }
}

#[test]
fn drive_letter_and_mapped_drives() {
    let Some(vol) = volume("drive_letter_and_mapped_drives") else {
        return;
    };
    fs::create_dir(vol.path("data")).unwrap();
    vol.knot(["junction", "--drive", "e:", "j", "data"])
        .assert()
        .code(0)
        .stdout("created junction 'j' -> 'E:\\data'\n");
    let other = tempfile::tempdir().unwrap();
    fs::create_dir(other.path().join("shared")).unwrap();
    fs::create_dir(vol.path(".NTFS-3G")).unwrap();
    std::os::unix::fs::symlink(other.path(), vol.path(".NTFS-3G/D:")).unwrap();
    vol.knot(["junction", "jd", ".NTFS-3G/D:/shared"])
        .assert()
        .code(0)
        .stdout("created junction 'jd' -> 'D:\\shared'\n");
    vol.knot(["symlink", "--dir", "sd", "D:\\elsewhere"])
        .assert()
        .code(0)
        .stdout("created symlink 'sd' -> 'D:\\elsewhere'\n");
    vol.remount();
    assert_eq!(vol.show("j")["substitute_name"], "\\??\\E:\\data");
    assert_eq!(vol.show("jd")["substitute_name"], "\\??\\D:\\shared");
    // ntfs-3g follows D: through its .NTFS-3G mapping.
    assert_eq!(
        fs::canonicalize(vol.path("jd")).unwrap(),
        fs::canonicalize(other.path().join("shared")).unwrap()
    );
    let sd = vol.show("sd");
    assert_eq!(
        (sd["substitute_name"].as_str(), sd["dir"].as_bool()),
        (Some("\\??\\D:\\elsewhere"), Some(true))
    );
}

#[test]
fn refused_cases_make_nothing() {
    let Some(vol) = volume("refused_cases_make_nothing") else {
        return;
    };
    fs::create_dir(vol.path("d")).unwrap();
    fs::write(vol.path("f"), "x").unwrap();
    let outside = tempfile::tempdir().unwrap();
    let outside = outside.path().to_str().unwrap().to_owned();
    let cases: [(&[&str], &str); 4] = [
        (&["junction", "j", "f"], "is not a directory"),
        (
            &["junction", "j", &outside],
            "is outside the NTFS volume mounted at",
        ),
        (
            &["symlink", "s", &outside],
            "is outside the NTFS volume mounted at",
        ),
        (
            &["symlink", "s", "missing"],
            "cannot tell a file symlink from a directory symlink",
        ),
    ];
    for (args, cause) in cases {
        let out = vol.knot(args).assert().code(1).get_output().clone();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains(cause), "{args:?}: {stderr}");
        assert_eq!(vol.names(), ["d", "f"], "{args:?} left something behind");
    }
    vol.remount();
    assert_eq!(vol.names(), ["d", "f"]);
}

#[test]
fn hard_links_and_force() {
    let Some(vol) = volume("hard_links_and_force") else {
        return;
    };
    fs::write(vol.path("f"), "x").unwrap();
    fs::create_dir(vol.path("a")).unwrap();
    fs::create_dir(vol.path("b")).unwrap();
    vol.knot(["hardlink", "h", "f"]).assert().code(0);
    vol.knot(["junction", "j", "a"]).assert().code(0);
    vol.knot(["-q", "junction", "--force", "j", "b"])
        .assert()
        .code(0)
        .stdout("created junction 'j' -> 'C:\\b'\n");
    vol.remount();
    assert_eq!(vol.show("h")["nlink"], 2);
    assert_eq!(vol.show("j")["target"], "C:\\b");
    assert_eq!(vol.names(), ["a", "b", "f", "h", "j"]);
}

#[test]
fn other_reparse_points_are_named_and_never_removed() {
    let Some(vol) = volume("other_reparse_points_are_named_and_never_removed") else {
        return;
    };
    let wof = compressed_file(&vol.path("compressed"));
    vol.remount();
    let record = vol.show("compressed");
    assert_eq!(
        (record["kind"].as_str(), record["tag"].as_str()),
        (Some("wof"), Some("0x80000017"))
    );
    assert_eq!(record["target"], Value::Null);
    let out = vol
        .knot(["rm", "compressed"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("not a link")
    );
    assert_eq!(reparse_data(&vol.path("compressed")), wof);
}

#[test]
fn scan_reports_windows_kinds_and_names() {
    let Some(vol) = volume("scan_reports_windows_kinds_and_names") else {
        return;
    };
    fs::create_dir_all(vol.path("deep/er")).unwrap();
    fs::write(vol.path("file"), "data").unwrap();
    vol.knot(["junction", "deep/er/j", "deep"]).assert().code(0);
    vol.knot(["symlink", "deep/s", "../file"]).assert().code(0);
    compressed_file(&vol.path("compressed"));
    vol.remount();
    vol.knot(["scan", "--sort", "."])
        .assert()
        .code(0)
        .stdout(
            "./compressed  (wof)\n./deep/er/j  -> C:\\deep  (junction)\n./deep/s     -> ..\\file\n",
        )
        .stderr("");
    let records = fixture::records(&mut vol.knot(["scan", "--json", "--sort", "."]));
    assert_eq!(records.len(), 3);
    assert_eq!(
        (records[0]["kind"].as_str(), records[0]["tag"].as_str()),
        (Some("wof"), Some("0x80000017"))
    );
    assert_eq!(records[1]["substitute_name"], "\\??\\C:\\deep");
    assert_eq!(records[1]["resolved"], vol.path("deep").to_str().unwrap());
    assert_eq!(records[1]["status"], "ok");
    assert_eq!(
        (
            records[2]["kind"].as_str(),
            records[2]["relative"].as_bool()
        ),
        (Some("symlink"), Some(true))
    );
    assert_eq!(records[2]["print_name"], "..\\file");
    assert_eq!(records[2]["dir"], false);
    // --kind selects by the Windows kind.
    vol.knot(["scan", "--kind", "junction", "."])
        .assert()
        .code(0)
        .stdout("./deep/er/j -> C:\\deep  (junction)\n");
}

/// Through a bind mount of a directory inside the volume, Windows paths still start at the
/// volume's root.
#[test]
fn bind_mounts_keep_the_path_inside_the_volume() {
    let Some(vol) = volume("bind_mounts_keep_the_path_inside_the_volume") else {
        return;
    };
    fs::create_dir_all(vol.path("data/tgt")).unwrap();
    let bind = tempfile::tempdir().unwrap();
    run(Process::new("mount")
        .arg("--bind")
        .arg(vol.path("data"))
        .arg(bind.path()));
    let made = fixture::knot()
        .current_dir(bind.path())
        .args(["junction", "jb", "tgt"])
        .output()
        .unwrap();
    run(Process::new("umount").arg(bind.path()));
    assert_eq!(String::from_utf8_lossy(&made.stderr), "");
    assert_eq!(
        String::from_utf8_lossy(&made.stdout),
        "created junction 'jb' -> 'C:\\data\\tgt'\n"
    );
    vol.remount();
    assert_eq!(
        vol.show("data/jb")["substitute_name"],
        "\\??\\C:\\data\\tgt"
    );
    assert_eq!(vol.show("data/jb")["status"], "ok");
}

/// A relative target that climbs out of the volume could never be followed by Windows.
#[test]
fn relative_targets_stay_on_the_volume() {
    let Some(vol) = volume("relative_targets_stay_on_the_volume") else {
        return;
    };
    fs::create_dir(vol.path("d")).unwrap();
    let other = tempfile::tempdir().unwrap();
    let other = other.path().to_str().unwrap().to_owned();
    for args in [
        &["symlink", "--dir", "d/up", "../../x"][..],
        &["symlink", "--relative", "--dir", "r", &other],
    ] {
        let out = vol.knot(args).assert().code(1).get_output().clone();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            stderr.contains("is outside the NTFS volume"),
            "{args:?}: {stderr}"
        );
    }
    vol.knot(["symlink", "--dir", "d/ok", "../d"])
        .assert()
        .code(0);
    assert_eq!(vol.names(), ["d"]);
}

/// `--force` replaces only links. A WOF-compressed file and a cloud file hold
/// their data behind a reparse point, and ntfs-3g shows them as symlinks: no create
/// replaces them, whatever the kind asked for, and their data stays.
#[test]
fn force_never_replaces_files_whose_data_is_behind_a_reparse_point() {
    let Some(vol) = volume("force_never_replaces_files_whose_data_is_behind_a_reparse_point")
    else {
        return;
    };
    let wof = compressed_file(&vol.path("wof.txt"));
    fs::write(vol.path("cloud.txt"), "data").unwrap();
    // IO_REPARSE_TAG_CLOUD_A, with no data of its own.
    let cloud = [0x1a, 0x00, 0x00, 0x90, 0, 0, 0, 0];
    rustix::fs::setxattr(
        vol.path("cloud.txt"),
        "system.ntfs_reparse_data",
        &cloud,
        rustix::fs::XattrFlags::empty(),
    )
    .unwrap();
    fs::write(vol.path("other.txt"), "other").unwrap();
    fs::create_dir(vol.path("dir")).unwrap();
    vol.remount();
    for name in ["wof.txt", "cloud.txt"] {
        for args in [
            vec!["symlink", "--force", "--file", name, "other.txt"],
            vec!["hardlink", "--force", name, "other.txt"],
            vec!["junction", "--force", name, "dir"],
            vec!["link", "--force", name, "other.txt"],
        ] {
            let out = vol.knot(&args).assert().code(1).get_output().clone();
            let stderr = String::from_utf8(out.stderr).unwrap();
            assert!(
                stderr.contains("it is a file with a reparse point, not a link"),
                "{args:?}: {stderr}"
            );
        }
    }
    vol.remount();
    assert_eq!(reparse_data(&vol.path("wof.txt")), wof);
    assert_eq!(reparse_data(&vol.path("cloud.txt")), cloud);
    assert_eq!(
        vol.names(),
        ["cloud.txt", "dir", "other.txt", "wof.txt"],
        "nothing made beside them"
    );
}

/// A hard link to a junction or a directory symlink would give an NTFS
/// directory a second name (ntfs-3g shows them as symlinks, so `link(2)` did it), which
/// Windows never allows. knot refuses it from the NTFS attributes; a hard link to a file
/// symlink, which NTFS allows, is still made.
#[test]
fn hard_links_to_directory_links_are_refused() {
    let Some(vol) = volume("hard_links_to_directory_links_are_refused") else {
        return;
    };
    fs::create_dir(vol.path("d")).unwrap();
    fs::write(vol.path("f"), "x").unwrap();
    vol.knot(["junction", "j", "d"]).assert().code(0);
    vol.knot(["symlink", "s", "d"]).assert().code(0);
    vol.knot(["symlink", "sf", "f"]).assert().code(0);
    for target in ["j", "s"] {
        vol.knot(["hardlink", "h", target])
            .assert()
            .code(1)
            .stdout("")
            .stderr(format!(
                "knot: cannot create hard link 'h': the target '{target}' is a link that NTFS \
                 keeps as a directory (a junction or a directory symlink), and NTFS never \
                 gives a directory a second name; a hard link needs an existing file\n\
                 knot: hint: hard-link a file, or use `knot junction` or `knot symlink` to \
                 link to a directory\n"
            ));
        vol.knot(["hardlink", "d/h", target]).assert().code(1);
    }
    vol.knot(["hardlink", "hf", "sf"]).assert().code(0);
    vol.remount();
    assert_eq!(vol.names(), ["d", "f", "hf", "j", "s", "sf"]);
    assert!(fs::read_dir(vol.path("d")).unwrap().next().is_none());
    for name in ["j", "s"] {
        assert_eq!(vol.show(name)["nlink"], 1, "{name}");
    }
    assert_eq!(vol.show("hf")["nlink"], 2);
    // Another implementation agrees: the junction's MFT record has one name.
    let info = vol.ntfsinfo("j");
    assert_eq!(
        info.matches("Dumping attribute $FILE_NAME").count(),
        1,
        "{info}"
    );
}

/// A LINK with a trailing slash is refused by every create at once, with the fix, and
/// nothing is made: making it and cleaning up after a failure (`rmdir("J/")`, which
/// follows the new link) would leave the link there.
#[test]
fn a_link_with_a_trailing_slash_is_refused_and_leaves_nothing() {
    let Some(vol) = volume("a_link_with_a_trailing_slash_is_refused_and_leaves_nothing") else {
        return;
    };
    fs::create_dir_all(vol.path("Data/T")).unwrap();
    fs::write(vol.path("f"), "x").unwrap();
    let target = vol.path("Data/T");
    let target = target.to_str().unwrap();
    vol.knot(["symlink", "--dir", "dang", "missing"])
        .assert()
        .code(0);
    let cases: [(&[&str], &str, &str); 6] = [
        (&["junction", "J/", target], "junction", "J"),
        (&["symlink", "--dir", "S/", "../Data/T"], "symlink", "S"),
        (&["symlink", "S/.", "Data/T"], "symlink", "S"),
        (&["hardlink", "H/", "f"], "hard link", "H"),
        (&["link", "L/", "Data/T"], "link", "L"),
        (
            &["symlink", "--force", "dang/", "Data/T"],
            "symlink",
            "dang",
        ),
    ];
    for (args, what, name) in cases {
        let link = args[args.len() - 2];
        vol.knot(args).assert().code(1).stdout("").stderr(format!(
            "knot: cannot create {what} '{link}': a trailing path separator makes it name the \
             directory it is or leads to, not a new link\n\
             knot: hint: name the link without the trailing separator: '{name}'\n"
        ));
        assert_eq!(vol.names(), ["Data", "dang", "f"], "{args:?}");
    }
    vol.remount();
    assert_eq!(vol.names(), ["Data", "dang", "f"]);
    assert_eq!(vol.show("dang")["target"], "missing");
    assert!(fs::read_dir(vol.path("Data/T")).unwrap().next().is_none());
}

/// A target whose Windows form would name another path is never written as success:
/// a relative target typed with backslashes (one Linux name, which Windows reads as a path
/// and which climbed out of the volume unchecked), a Linux name holding `\` (`C:\Data\a\b`
/// on Windows), a name with `:` (a data stream on Windows) or one Windows cannot use, and
/// a relative target through ntfs-3g's `.NTFS-3G/D:` mapping (stored literally). Each is
/// refused with its reason, and nothing is made.
#[test]
fn targets_windows_would_read_as_another_path_are_refused() {
    let Some(vol) = volume("targets_windows_would_read_as_another_path_are_refused") else {
        return;
    };
    for name in ["a\\b", "x:y", "dot.", "sp ", "st*r", "q?", "p|pe", "c\u{1}"] {
        fs::create_dir_all(vol.path("Data").join(name)).unwrap();
    }
    fs::create_dir_all(vol.path("Data/a/b")).unwrap();
    fs::create_dir_all(vol.path("Users/u")).unwrap();
    let other = tempfile::tempdir().unwrap();
    fs::create_dir(other.path().join("x")).unwrap();
    fs::create_dir(vol.path(".NTFS-3G")).unwrap();
    std::os::unix::fs::symlink(other.path(), vol.path(".NTFS-3G/D:")).unwrap();
    let data = vol.path("Data");
    let abs = |name: &str| data.join(name).to_str().unwrap().to_owned();
    let mut cases: Vec<(Vec<String>, String)> =
        vec![
        (
            vec!["symlink".into(), "--dir".into(), "Users/u/up".into(), "..\\..\\..\\x".into()],
            "the target '..\\..\\..\\x' contains '\\', which separates names on Windows but is \
             part of a name here"
                .into(),
        ),
        (
            vec!["symlink".into(), "--dir".into(), "Users/u/s".into(), "..\\..\\Data".into()],
            "write the path with '/'".into(),
        ),
        (
            vec!["symlink".into(), "--dir".into(), "Users/m".into(), "../.NTFS-3G/D:/x".into()],
            "the target '../.NTFS-3G/D:/x' leads through '.NTFS-3G/D:', ntfs-3g's mapping of \
             drive D:, which Windows cannot reach by a relative path; give the target as a \
             path on that drive: 'D:\\x'"
                .into(),
        ),
        (
            vec!["symlink".into(), "--dir".into(), "Users/w".into(), "D:\\x\\a:b".into()],
            "has the name 'a:b', which Windows cannot use: ':' starts the name of a data \
             stream on Windows"
                .into(),
        ),
        (
            vec!["symlink".into(), "--dir".into(), "Users/r".into(), "../Data/x:y".into()],
            "has the name 'x:y'".into(),
        ),
    ];
    for (name, why) in [
        ("a\\b", "'\\' separates names on Windows"),
        ("x:y", "':' starts the name of a data stream on Windows"),
        ("dot.", "Windows drops dots and spaces at the end of a name"),
        ("sp ", "Windows drops dots and spaces at the end of a name"),
        ("st*r", "Windows does not allow '*' in a name"),
        ("q?", "Windows does not allow '?' in a name"),
        ("p|pe", "Windows does not allow '|' in a name"),
        (
            "c\u{1}",
            "Windows does not allow control characters in a name",
        ),
    ] {
        for command in [&["junction"][..], &["symlink", "--absolute"]] {
            let mut args: Vec<String> = command.iter().map(|&a| a.into()).collect();
            args.extend(["Users/l".into(), abs(name)]);
            cases.push((args, why.into()));
        }
    }
    for (args, why) in cases {
        let out = vol.knot(&args).assert().code(1).get_output().clone();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains(&why), "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("knot: cannot create "),
            "{args:?}: {stderr}"
        );
        assert_eq!(vol.names(), [".NTFS-3G", "Data", "Users"], "{args:?}");
        assert_eq!(
            fs::read_dir(vol.path("Users")).unwrap().count(),
            1,
            "{args:?} left something behind"
        );
    }
    // The names Windows allows still work, and the mapped drive through its Windows name.
    vol.knot(["symlink", "--dir", "Users/ok", "../Data/a/b"])
        .assert()
        .code(0)
        .stdout("created symlink 'Users/ok' -> '..\\Data\\a\\b'\n");
    vol.knot(["symlink", "--dir", "Users/d", "D:\\x"])
        .assert()
        .code(0)
        .stdout("created symlink 'Users/d' -> 'D:\\x'\n");
    vol.remount();
    assert_eq!(vol.show("Users/ok")["status"], "ok");
}

/// The same volume reached through a bind mount of one of its folders is the same volume,
/// not "outside the volume". A junction from the volume's mount to a target under the bind
/// mount, and one from the bind mount to a target under the volume's mount, are both on
/// the volume: `C:\Data\T` and `C:\Users`.
#[test]
fn a_bind_mount_of_a_folder_is_the_same_volume() {
    let Some(vol) = volume("a_bind_mount_of_a_folder_is_the_same_volume") else {
        return;
    };
    fs::create_dir_all(vol.path("Data/T")).unwrap();
    fs::create_dir_all(vol.path("Users")).unwrap();
    let bind = tempfile::tempdir().unwrap();
    let bound = bind.path().join("bind");
    fs::create_dir(&bound).unwrap();
    run(Process::new("mount")
        .arg("--bind")
        .arg(vol.path("Data"))
        .arg(&bound));
    let knot = |args: &[&OsStr]| fixture::knot().args(args).output().unwrap();
    let j1 = vol.path("Users/J1");
    let j2 = bound.join("J2");
    let s3 = bound.join("S3");
    let made = [
        knot(&[
            "junction".as_ref(),
            j1.as_os_str(),
            bound.join("T").as_os_str(),
        ]),
        knot(&[
            "junction".as_ref(),
            j2.as_os_str(),
            vol.path("Users").as_os_str(),
        ]),
        knot(&[
            "symlink".as_ref(),
            s3.as_os_str(),
            vol.path("Users").as_os_str(),
        ]),
        // A target outside the volume: the fix names the mapping of another drive at the
        // volume's root, not at the bind mount.
        knot(&[
            "junction".as_ref(),
            bound.join("J4").as_os_str(),
            bind.path().as_os_str(),
        ]),
    ];
    run(Process::new("umount").arg(&bound));
    let printed: Vec<_> = made
        .iter()
        .map(|out| {
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
            )
        })
        .collect();
    assert_eq!(
        printed[..3],
        [
            (
                Some(0),
                format!("created junction '{}' -> 'C:\\Data\\T'\n", j1.display())
            ),
            (
                Some(0),
                format!("created junction '{}' -> 'C:\\Users'\n", j2.display())
            ),
            (
                Some(0),
                format!("created symlink '{}' -> 'C:\\Users'\n", s3.display())
            ),
        ],
        "{}",
        String::from_utf8_lossy(&made[0].stderr)
    );
    let refused = String::from_utf8_lossy(&made[3].stderr);
    assert_eq!(made[3].status.code(), Some(1), "{refused}");
    assert!(
        refused.contains(&format!("'{}/.NTFS-3G/D:'", vol.mnt.display())),
        "{refused}"
    );
    vol.remount();
    assert_eq!(vol.show("Users/J1")["substitute_name"], "\\??\\C:\\Data\\T");
    assert_eq!(vol.show("Users/J1")["status"], "ok");
    assert_eq!(vol.show("Data/J2")["substitute_name"], "\\??\\C:\\Users");
    assert_eq!(vol.show("Data/J2")["status"], "ok");
    assert_eq!(vol.show("Data/S3")["print_name"], "C:\\Users");
    assert_eq!(
        fs::read_link(vol.path("Data/J2")).unwrap(),
        vol.path("Users")
    );
}

/// The junction front end makes a real NTFS junction on an ntfs-3g volume, lists
/// it as junction.exe lists one (its substitute name without `\??\`), and deletes it.
#[test]
fn junction_front_end_makes_lists_and_deletes_a_real_junction() {
    let Some(vol) = volume("junction_front_end_makes_lists_and_deletes_a_real_junction") else {
        return;
    };
    fs::create_dir(vol.path("target")).unwrap();
    fs::write(vol.path("target/canary"), "alive").unwrap();
    let junction = |args: &[&str]| {
        let mut cmd = vol.knot(["compat", "junction", "-nobanner"]);
        cmd.args(args);
        cmd
    };
    junction(&["j", "target"])
        .assert()
        .code(0)
        .stdout("Created: j\nTargetted at: C:\\target\n")
        .stderr("");
    vol.remount();
    assert_eq!(
        reparse_data(&vol.path("j")),
        vector("k1-junction-accepted-by-ntfs-3g")
    );
    junction(&["j"])
        .assert()
        .code(0)
        .stdout("j: JUNCTION\n   Substitute Name: C:\\target\n")
        .stderr("");
    junction(&["-s", "."])
        .assert()
        .code(0)
        .stdout("./j: JUNCTION\n   Substitute Name: C:\\target\n")
        .stderr("");
    junction(&["-d", "j"])
        .assert()
        .code(0)
        .stdout("Deleted j.\n")
        .stderr("");
    vol.remount();
    assert_eq!(vol.names(), ["target"]);
    assert_eq!(
        fs::read_to_string(vol.path("target/canary")).unwrap(),
        "alive"
    );
}

/// A junction retargeted on ntfs-3g stays the same entry with a new reparse
/// point, Windows' layout byte for byte, and keeps its drive letter; `convert` turns it
/// into a directory symlink and back.
#[test]
fn retarget_and_convert_real_junctions() {
    let Some(vol) = volume("retarget_and_convert_real_junctions") else {
        return;
    };
    fs::create_dir(vol.path("target")).unwrap();
    fs::create_dir(vol.path("other")).unwrap();
    fs::write(vol.path("target/canary"), "alive").unwrap();
    vol.knot(["junction", "j", "other"]).assert().code(0);
    vol.knot(["retarget", "j", "target"])
        .assert()
        .code(0)
        .stdout("replaced 'j': 'C:\\other' -> 'C:\\target'\n")
        .stderr("");
    vol.remount();
    assert_eq!(
        reparse_data(&vol.path("j")),
        vector("k1-junction-accepted-by-ntfs-3g")
    );
    assert_eq!(fs::read_link(vol.path("j")).unwrap(), vol.path("target"));
    let info = vol.ntfsinfo("j");
    assert!(
        info.contains("Reparse tag:\t\t 0xa0000003 (mount point)"),
        "{info}"
    );
    // The drive letter stays the link's own unless --drive says otherwise.
    vol.knot(["retarget", "--drive", "D:", "j", "other"])
        .assert()
        .code(0)
        .stdout("replaced 'j': 'C:\\target' -> 'D:\\other'\n");
    vol.knot(["retarget", "j", "target"])
        .assert()
        .code(0)
        .stdout("replaced 'j': 'D:\\other' -> 'D:\\target'\n");
    // A dry run changes nothing.
    vol.knot(["retarget", "--dry-run", "j", "other"])
        .assert()
        .code(0)
        .stdout("would replace 'j': 'D:\\target' -> 'D:\\other'\n");
    vol.remount();
    assert_eq!(vol.show("j")["substitute_name"], "\\??\\D:\\target");
    // A junction's rules hold for the new target.
    vol.knot(["retarget", "j", "target/canary"])
        .assert()
        .code(1)
        .stdout("");
    // A junction cannot be relative; --to-symlink makes it a directory symlink, which can.
    vol.knot(["convert", "--relative", "j"])
        .assert()
        .code(1)
        .stderr(
            "knot: cannot convert 'j': it is a junction, and a junction always stores an \
             absolute target\nknot: hint: make it a directory symlink, which can be relative: \
             knot convert --to-symlink, then knot convert --relative\n",
        );
    vol.knot(["convert", "--to-symlink", "j"])
        .assert()
        .code(0)
        .stdout("replaced 'j': 'D:\\target' -> 'D:\\target' (now a symlink)\n");
    vol.knot(["convert", "--relative", "j"])
        .assert()
        .code(0)
        .stdout("replaced 'j': 'D:\\target' -> 'target'\n");
    vol.remount();
    let record = vol.show("j");
    assert_eq!(record["kind"], "symlink");
    assert_eq!(record["tag"], "0xa000000c");
    assert_eq!(record["target"], "target");
    assert_eq!(record["dir"], true);
    assert_eq!(fs::read_to_string(vol.path("j/canary")).unwrap(), "alive");
    vol.knot(["convert", "--to-junction", "j"])
        .assert()
        .code(0)
        .stdout("replaced 'j': 'target' -> 'C:\\target' (now a junction)\n");
    vol.remount();
    assert_eq!(
        reparse_data(&vol.path("j")),
        vector("k1-junction-accepted-by-ntfs-3g")
    );
    assert_eq!(vol.names(), ["j", "other", "target"]);
    assert_eq!(
        fs::read_to_string(vol.path("target/canary")).unwrap(),
        "alive"
    );
}

/// `knot fix --replace C:\=D:\` moves real junctions to another drive letter,
/// in place of the old ones, and leaves links to other prefixes alone.
#[test]
fn fix_moves_junctions_across_a_drive_letter_change() {
    let Some(vol) = volume("fix_moves_junctions_across_a_drive_letter_change") else {
        return;
    };
    fs::create_dir_all(vol.path("data/sub")).unwrap();
    fs::create_dir(vol.path("links")).unwrap();
    vol.knot(["junction", "--drive", "C:", "links/j", "data"])
        .assert()
        .code(0)
        .stdout("created junction 'links/j' -> 'C:\\data'\n");
    vol.knot(["junction", "--drive", "C:", "links/k", "data/sub"])
        .assert()
        .code(0);
    vol.knot(["junction", "--drive", "E:", "links/e", "data"])
        .assert()
        .code(0);
    vol.remount();
    vol.knot(["fix", "links", "--dry-run", "--replace", "c:/=D:\\"])
        .assert()
        .code(0)
        .stdout(
            "would replace 'links/j': 'C:\\data' -> 'D:\\data'\n\
             would replace 'links/k': 'C:\\data\\sub' -> 'D:\\data\\sub'\n",
        )
        .stderr("");
    vol.knot(["fix", "links", "--replace", "c:/=D:\\"])
        .assert()
        .code(0)
        .stdout(
            "replaced 'links/j': 'C:\\data' -> 'D:\\data'\n\
             replaced 'links/k': 'C:\\data\\sub' -> 'D:\\data\\sub'\n",
        )
        .stderr("");
    vol.remount();
    let j = vol.show("links/j");
    assert_eq!(
        (j["kind"].as_str(), j["substitute_name"].as_str()),
        (Some("junction"), Some("\\??\\D:\\data"))
    );
    assert_eq!(vol.show("links/k")["print_name"], "D:\\data\\sub");
    assert_eq!(vol.show("links/e")["substitute_name"], "\\??\\E:\\data");
    // The bytes are a junction's as Windows writes them, and another NTFS implementation
    // reads them off the unmounted image.
    // Tag, data length, reserved; substitute at 0 (22 bytes), print name at 24 (14 bytes);
    // each name followed by a NUL.
    let mut expected = vec![0x03, 0x00, 0x00, 0xa0, 0x30, 0x00, 0x00, 0x00];
    expected.extend([0x00, 0x00, 0x16, 0x00, 0x18, 0x00, 0x0e, 0x00]);
    expected.extend(utf16le("\\??\\D:\\data\0D:\\data\0"));
    assert_eq!(reparse_data(&vol.path("links/j")), expected);
    let info = vol.ntfsinfo("links/j");
    assert!(
        info.contains("Reparse tag:\t\t 0xa0000003 (mount point)"),
        "{info}"
    );
    assert_eq!(
        fs::read_link(vol.path("links/j")).unwrap(),
        vol.path("data")
    );
    assert_eq!(vol.names(), ["data", "links"]);
    // Nothing left to change.
    vol.knot(["fix", "links", "--replace", "C:\\=D:\\"])
        .assert()
        .code(0)
        .stdout("");
}

/// `knot apply` of junction records onto an NTFS volume makes real junctions
/// (the bytes Windows writes, read back after a remount and by ntfsinfo), in a directory
/// it makes; a second apply finds them as asked and leaves them unchanged.
#[test]
fn apply_makes_real_junctions() {
    let Some(vol) = volume("apply_makes_real_junctions") else {
        return;
    };
    fs::create_dir(vol.path("target")).unwrap();
    let manifest = format!(
        "{{\"path\":\"j\",\"kind\":\"junction\",\"target\":{:?}}}\n\
         {{\"path\":\"sub/j2\",\"kind\":\"junction\",\"dir\":true,\"target\":\"target\"}}\n",
        vol.path("target").to_str().unwrap()
    );
    vol.knot(["apply", "-"])
        .write_stdin(manifest.clone())
        .assert()
        .code(0)
        .stdout(format!(
            "created 'j' -> '{}'\ncreated 'sub/j2' -> 'target'\n",
            vol.path("target").display()
        ))
        .stderr("");
    vol.remount();
    assert_eq!(
        reparse_data(&vol.path("j")),
        vector("k1-junction-accepted-by-ntfs-3g")
    );
    assert_eq!(
        reparse_data(&vol.path("sub/j2")),
        reparse_data(&vol.path("j"))
    );
    assert_eq!(vol.show("sub/j2")["kind"], "junction");
    vol.knot(["apply", "-"])
        .write_stdin(manifest)
        .assert()
        .code(0)
        .stdout(format!(
            "unchanged 'j' -> '{}'\nunchanged 'sub/j2' -> 'target'\n",
            vol.path("target").display()
        ));
    let info = vol.ntfsinfo("sub/j2");
    assert!(
        info.contains("Reparse tag:\t\t 0xa0000003 (mount point)"),
        "{info}"
    );
}

/// mklink's flavour is its switch, never what the target is: without /D a symlink to a
/// directory is a file symlink, with /D a symlink to a file is a directory symlink, as
/// cmd makes them (Windows then refuses to open each through the other's kind).
#[test]
fn mklink_front_end_takes_the_flavour_from_its_switch() {
    let Some(vol) = volume("mklink_front_end_takes_the_flavour_from_its_switch") else {
        return;
    };
    fs::create_dir(vol.path("d")).unwrap();
    fs::write(vol.path("f"), "data").unwrap();
    vol.knot(["compat", "mklink", "l", "d"])
        .assert()
        .code(0)
        .stdout("symbolic link created for l <<===>> d\n")
        .stderr("");
    vol.knot(["compat", "mklink", "/D", "s", "f"])
        .assert()
        .code(0)
        .stdout("symbolic link created for s <<===>> f\n")
        .stderr("");
    let check = |when: &str| {
        for (name, dir) in [("l", false), ("s", true)] {
            let record = vol.show(name);
            assert_eq!(
                (
                    record["kind"].as_str(),
                    record["dir"].as_bool(),
                    record["tag"].as_str(),
                    record["target"].as_str()
                ),
                (
                    Some("symlink"),
                    Some(dir),
                    Some("0xa000000c"),
                    Some(if dir { "f" } else { "d" })
                ),
                "{name} {when}: {record}"
            );
        }
    };
    check("before the remount");
    vol.remount();
    check("after the remount");
    for name in ["l", "s"] {
        let info = vol.ntfsinfo(name);
        assert!(
            info.contains("Reparse tag:\t\t 0xa000000c (symlink)"),
            "{name}: {info}"
        );
    }
}

/// A relative symlink whose target is gone reads, through ntfs-3g, as a symlink to the text
/// `unsupported reparse tag 0xa000000c`, ntfs-3g's placeholder for a target it cannot
/// translate. knot never takes that text for a path: `show` and `scan` judge the link by
/// its stored target (`..\Data\gone` from the link's directory: dangling, resolved there),
/// and `convert --absolute` keeps that target's meaning (`C:\Data\gone`).
#[test]
fn a_target_ntfs3g_cannot_translate_is_judged_by_its_stored_text() {
    let Some(vol) = volume("a_target_ntfs3g_cannot_translate_is_judged_by_its_stored_text") else {
        return;
    };
    fs::create_dir_all(vol.path("Users")).unwrap();
    fs::create_dir_all(vol.path("Data/gone")).unwrap();
    vol.knot(["symlink", "--dir", "Users/S", "../Data/gone"])
        .assert()
        .code(0)
        .stdout("created symlink 'Users/S' -> '..\\Data\\gone'\n");
    fs::remove_dir(vol.path("Data/gone")).unwrap();
    vol.remount();
    let placeholder = fs::read_link(vol.path("Users/S")).unwrap();
    assert!(
        placeholder
            .to_string_lossy()
            .starts_with("unsupported reparse tag 0x"),
        "ntfs-3g's placeholder: {placeholder:?}"
    );
    let gone = vol.path("Data/gone");
    let gone = gone.to_str().unwrap();
    vol.knot(["show", "Users/S"])
        .assert()
        .code(0)
        .stdout(format!(
            "Users/S\n  kind:       symlink\n  target:     ..\\Data\\gone (relative)\n  \
         resolved:   {gone}\n  status:     dangling\n  tag:        0xa000000c\n  \
         substitute: ..\\Data\\gone\n  print:      ..\\Data\\gone\n"
        ));
    let record = vol.show("Users/S");
    assert_eq!(
        (record["status"].as_str(), record["resolved"].as_str()),
        (Some("dangling"), Some(gone))
    );
    let scanned = fixture::record(&mut vol.knot(["scan", "--json", "Users"]));
    assert_eq!(
        (scanned["status"].as_str(), scanned["resolved"].as_str()),
        (Some("dangling"), Some(gone))
    );
    vol.knot(["scan", "--broken", "Users"])
        .assert()
        .code(0)
        .stdout("Users/S -> ..\\Data\\gone  [dangling]\n");
    vol.knot(["convert", "--absolute", "Users/S"])
        .assert()
        .code(0)
        .stdout("replaced 'Users/S': '..\\Data\\gone' -> 'C:\\Data\\gone'\n")
        .stderr("");
    vol.remount();
    let record = vol.show("Users/S");
    assert_eq!(record["substitute_name"], "\\??\\C:\\Data\\gone");
    assert_eq!(record["dir"], true);
    assert_eq!(
        (record["status"].as_str(), record["resolved"].as_str()),
        (Some("dangling"), Some(gone))
    );
}

/// `knot symlink --dir Users/Media 'D:\Media'` (the README's recipe) makes a link that works
/// on Windows and that Linux cannot follow: ntfs-3g shows it under `.NTFS-3G/D:`, which
/// nobody mapped. Its status is `elsewhere`, not `dangling`: `scan --broken` does not list
/// it, `fix --broken --delete` leaves it (and removes the dangling link beside it), and du
/// counts it by its flavour. With the drive mapped, it is followed there.
#[test]
fn a_link_to_another_windows_drive_is_elsewhere_and_never_broken() {
    let Some(vol) = volume("a_link_to_another_windows_drive_is_elsewhere_and_never_broken") else {
        return;
    };
    fs::create_dir(vol.path("Users")).unwrap();
    vol.knot(["symlink", "--dir", "Users/Media", "D:\\Media"])
        .assert()
        .code(0)
        .stdout("created symlink 'Users/Media' -> 'D:\\Media'\n");
    vol.knot(["symlink", "--dir", "Users/Gone", "C:\\Gone"])
        .assert()
        .code(0);
    vol.remount();
    let media = reparse_data(&vol.path("Users/Media"));
    let record = vol.show("Users/Media");
    assert_eq!(
        (
            record["status"].as_str(),
            record["resolved"].as_str(),
            record["dir"].as_bool()
        ),
        (Some("elsewhere"), None, Some(true))
    );
    vol.knot(["show", "Users/Media"]).assert().code(0).stdout(
        "Users/Media\n  kind:       symlink\n  target:     D:\\Media (absolute)\n  \
             status:     elsewhere (on another Windows drive; not followed from here)\n  \
             tag:        0xa000000c\n  substitute: \\??\\D:\\Media\n  print:      D:\\Media\n",
    );
    vol.knot(["scan", "--sort", "Users"])
        .assert()
        .code(0)
        .stdout("Users/Gone  -> C:\\Gone  [dangling]\nUsers/Media -> D:\\Media  [elsewhere]\n");
    vol.knot(["scan", "--broken", "Users"])
        .assert()
        .code(0)
        .stdout("Users/Gone -> C:\\Gone  [dangling]\n");
    let du = fixture::record(&mut vol.knot(["du", "--json", "Users"]));
    assert_eq!(
        (
            du["kinds"]["broken_links"]["items"].as_u64(),
            du["kinds"]["dir_symlinks"]["items"].as_u64()
        ),
        (Some(1), Some(1))
    );
    vol.knot(["fix", "Users", "--broken", "--delete"])
        .assert()
        .code(0)
        .stdout("deleted 'Users/Gone' -> 'C:\\Gone'\n")
        .stderr("");
    vol.remount();
    assert_eq!(reparse_data(&vol.path("Users/Media")), media);
    assert_eq!(
        fs::read_dir(vol.path("Users")).unwrap().count(),
        1,
        "only the dangling link went"
    );
    // With the drive mapped the ntfs-3g way, the link is followed there.
    let other = tempfile::tempdir().unwrap();
    fs::create_dir(other.path().join("Media")).unwrap();
    fs::create_dir(vol.path(".NTFS-3G")).unwrap();
    std::os::unix::fs::symlink(other.path(), vol.path(".NTFS-3G/D:")).unwrap();
    let record = vol.show("Users/Media");
    assert_eq!(record["status"], "ok");
    assert_eq!(
        record["resolved"].as_str(),
        fs::canonicalize(other.path().join("Media"))
            .unwrap()
            .to_str()
    );
}

/// `du --json` writes a reparse point's tag as every record writes one: `0x` and eight
/// hex digits, beside its kind word.
#[test]
fn du_writes_reparse_tags_as_records_do() {
    let Some(vol) = volume("du_writes_reparse_tags_as_records_do") else {
        return;
    };
    fs::create_dir(vol.path("t")).unwrap();
    compressed_file(&vol.path("t/wof.txt"));
    fs::write(vol.path("t/cloud.txt"), "data").unwrap();
    placeholder(&vol.path("t/cloud.txt"), 0x9000_001A);
    vol.remount();
    let du = fixture::record(&mut vol.knot(["du", "--json", "t"]));
    let tags: Vec<(String, String, u64)> = du["reparse"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["tag"].as_str().unwrap().to_owned(),
                row["kind"].as_str().unwrap().to_owned(),
                row["items"].as_u64().unwrap(),
            )
        })
        .collect();
    let scan = fixture::record(&mut vol.knot(["show", "--json", "t/cloud.txt"]));
    assert_eq!(scan["tag"], "0x9000001a");
    assert!(
        tags.contains(&(
            "0x9000001a".to_owned(),
            scan["kind"].as_str().unwrap().to_owned(),
            1
        )),
        "{du}"
    );
    assert!(tags.iter().any(|(tag, _, _)| tag == "0x80000017"), "{du}");
}

/// `--kind cloud` finds every cloud placeholder, whichever of the sixteen cloud tags its
/// sync engine gave it (OneDrive's files carry `cloud-7`, `0x9000701a`, and others).
#[test]
fn kind_cloud_finds_every_cloud_tag() {
    let Some(vol) = volume("kind_cloud_finds_every_cloud_tag") else {
        return;
    };
    for (name, tag) in [
        ("a.txt", 0x9000_001Au32),
        ("b.txt", 0x9000_701A),
        ("c.txt", 0x9000_F01A),
    ] {
        fs::write(vol.path(name), "data").unwrap();
        placeholder(&vol.path(name), tag);
    }
    vol.remount();
    let out = vol
        .knot(["scan", "--kind", "cloud", "--sort", "-0", "."])
        .assert()
        .code(0);
    let found = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_eq!(found, "./a.txt\0./b.txt\0./c.txt\0");
    let out = vol
        .knot(["scan", "--kind", "cloud-7", "-0", "."])
        .assert()
        .code(0);
    assert_eq!(
        String::from_utf8_lossy(&out.get_output().stdout),
        "./b.txt\0"
    );
}

/// `convert -r` gives every link a line: a junction is `unchanged` for `--absolute` (it is
/// absolute), kept with the reason for `--relative` (it cannot be relative), and a symlink
/// is `unchanged` for `--to-symlink`.
#[test]
fn convert_recursive_gives_every_link_a_line() {
    let Some(vol) = volume("convert_recursive_gives_every_link_a_line") else {
        return;
    };
    fs::create_dir_all(vol.path("t/target")).unwrap();
    vol.knot(["junction", "t/j", "t/target"]).assert().code(0);
    vol.knot(["symlink", "--dir", "t/s", "target"])
        .assert()
        .code(0);
    vol.knot(["convert", "-r", "--absolute", "t"])
        .assert()
        .code(0)
        .stdout(
            "unchanged 't/j': 'C:\\t\\target'\n\
             replaced 't/s': 'target' -> 'C:\\t\\target'\n",
        );
    vol.knot(["convert", "-r", "--relative", "t"])
        .assert()
        .code(0)
        .stdout(
            "unchanged 't/j': 'C:\\t\\target'  [kept: a junction always stores an absolute \
             target]\n\
             replaced 't/s': 'C:\\t\\target' -> 'target'\n",
        );
    vol.knot(["convert", "-r", "--to-symlink", "--dry-run", "t"])
        .assert()
        .code(0)
        .stdout(
            "would replace 't/j': 'C:\\t\\target' -> 'C:\\t\\target' (now a symlink)\n\
             unchanged 't/s': 'target'\n",
        );
}

/// A cloud placeholder directory (OneDrive's, on a volume Windows made) is there, but
/// ntfs-3g cannot enter it: knot says so, with what to do, and never that it is missing
/// or that it is a symlink.
#[test]
fn a_cloud_placeholder_directory_is_named_as_one() {
    let Some(vol) = volume("a_cloud_placeholder_directory_is_named_as_one") else {
        return;
    };
    fs::create_dir_all(vol.path("OneDrive/Documents")).unwrap();
    placeholder(&vol.path("OneDrive"), 0x9000_701A);
    vol.remount();
    let hint = "knot: hint: its files are fetched by its sync engine (OneDrive and others) on \
                Windows: open it there, or have its files kept on the device first\n";
    vol.knot(["show", "OneDrive/Documents"])
        .assert()
        .code(1)
        .stderr(format!(
            "knot: cannot inspect 'OneDrive/Documents': 'OneDrive' is a cloud placeholder \
             (cloud-7, 0x9000701a) that this system cannot open; it is not a link\n{hint}"
        ));
    vol.knot(["hardlinks", "OneDrive"])
        .assert()
        .code(1)
        .stderr(format!(
            "knot: cannot list the names of 'OneDrive': it is a cloud placeholder (cloud-7, \
             0x9000701a) that this system cannot open; it is not a link\n{hint}"
        ));
}

/// `scan --follow` cannot enter a cloud placeholder directory, and says so once, however
/// many there are, in every output form; the records line up as without --follow.
#[test]
fn scan_follow_notes_the_placeholders_it_cannot_enter_once() {
    let Some(vol) = volume("scan_follow_notes_the_placeholders_it_cannot_enter_once") else {
        return;
    };
    for (name, tag) in [("OneDrive", 0x9000_701Au32), ("Box", 0x9000_001A)] {
        fs::create_dir_all(vol.path(name).join("inside")).unwrap();
        placeholder(&vol.path(name), tag);
    }
    fs::create_dir(vol.path("d")).unwrap();
    std::os::unix::fs::symlink("d", vol.path("d-link")).unwrap();
    vol.remount();
    let note = "knot: note: not followed into './Box' (and 1 more like it): it is a cloud \
                placeholder directory (cloud, 0x9000001a) that this system cannot open\n";
    vol.knot(["scan", "--follow", "--sort", "."])
        .assert()
        .code(0)
        .stdout(
            "./Box       (cloud)\n\
             ./OneDrive  (cloud-7)\n\
             ./d-link   -> d\n",
        )
        .stderr(note);
    for form in ["-0", "--json", "--broken"] {
        vol.knot(["scan", "--follow", form, "."])
            .assert()
            .code(0)
            .stderr(note);
    }
    // Without --follow nothing was asked to be entered.
    vol.knot(["scan", "."]).assert().code(0).stderr("");
    // A root below a placeholder is not a directory met on the way: it could not be read.
    for follow in [&[][..], &["--follow"]] {
        let args = [&["scan"], follow, &["OneDrive/inside"]].concat();
        vol.knot(&args).assert().code(1).stderr(
            "knot: cannot scan 'OneDrive/inside': 'OneDrive' is a cloud placeholder (cloud-7, \
             0x9000701a) that this system cannot open; it is not a link\n\
             knot: hint: its files are fetched by its sync engine (OneDrive and others) on \
             Windows: open it there, or have its files kept on the device first\n",
        );
    }
}

/// Two volumes: `from`, whose links are scanned, and `to`, where they are applied below
/// `copy`. Each has `Data/T` and `Data/f.txt` at its root (where the absolute links lead);
/// `copy` has them too (where the relative ones lead, as they did on `from`).
struct Scanned {
    from: Volume,
    to: Volume,
    /// `from`'s links, by name in `Users/u`, with `knot scan --json`'s record of each.
    records: Vec<(&'static str, String)>,
}

/// The links `apply` must make again from a scan, with the target each is shown with.
const SCANNED: [(&str, &str); 6] = [
    ("abs", "C:\\Data\\T"),
    ("absf", "C:\\Data\\f.txt"),
    ("j", "C:\\Data\\T"),
    ("other", "D:\\x"),
    ("rel", "..\\..\\Data\\T"),
    ("relf", "..\\..\\Data\\f.txt"),
];

/// [`Scanned`]: every kind and flavour a scan of an NTFS volume gives, made by knot on
/// `from` and scanned there.
fn scanned(test: &str) -> Option<Scanned> {
    let from = volume(test)?;
    let to = volume(test)?;
    for vol in [&from, &to] {
        fs::create_dir_all(vol.path("Data/T")).unwrap();
        fs::write(vol.path("Data/f.txt"), "data").unwrap();
    }
    fs::create_dir_all(to.path("copy/Data/T")).unwrap();
    fs::write(to.path("copy/Data/f.txt"), "copy").unwrap();
    fs::create_dir_all(from.path("Users/u")).unwrap();
    let abs = |name: &str| from.path(name).to_str().unwrap().to_owned();
    let made: [&[&str]; 6] = [
        &["symlink", "--dir", "Users/u/abs", &abs("Data/T")],
        &["symlink", "--file", "Users/u/absf", &abs("Data/f.txt")],
        &["junction", "Users/u/j", &abs("Data/T")],
        &["symlink", "--dir", "Users/u/other", "D:\\x"],
        &["symlink", "--dir", "Users/u/rel", "../../Data/T"],
        &["symlink", "--file", "Users/u/relf", "../../Data/f.txt"],
    ];
    for args in made {
        from.knot(args).assert().code(0);
    }
    let out = from
        .knot(["scan", "--json", "--sort"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let lines: Vec<String> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let records: Vec<_> = SCANNED.iter().map(|(name, _)| *name).zip(lines).collect();
    for ((name, target), (_, line)) in SCANNED.iter().zip(&records) {
        let record: Value = serde_json::from_str(line).unwrap();
        assert_eq!(record["path"], format!("./Users/u/{name}"), "{line}");
        assert_eq!(record["target"], *target, "{line}");
    }
    Some(Scanned { from, to, records })
}

impl Scanned {
    /// `knot apply` of `manifest` into `copy` on `to`: its exact report (`verb 'copy/PATH'
    /// -> 'TARGET'` for each of `links`), nothing on standard error, exit 0.
    fn apply(&self, manifest: &str, verb: &str, links: &[(&str, &str)]) {
        fs::write(self.to.path("links.jsonl"), manifest).unwrap();
        let report: String = links
            .iter()
            .map(|(path, target)| {
                let path = path.trim_start_matches("./");
                format!("{verb} 'copy/{path}' -> '{target}'\n")
            })
            .collect();
        self.to
            .knot(["apply", "links.jsonl", "--root", "copy"])
            .assert()
            .stdout(report)
            .stderr("")
            .code(0);
    }

    /// The records of the links `names`, as a manifest.
    fn manifest(&self, names: &[&str]) -> String {
        self.records
            .iter()
            .filter(|(name, _)| names.contains(name))
            .map(|(_, line)| format!("{line}\n"))
            .collect()
    }

    /// The link `made` below `copy` on `to` holds the reparse data of `like` on `from`,
    /// byte for byte, and is of its kind and flavour.
    fn same_link(&self, made: &str, like: &str) {
        let (made, like) = (format!("copy/Users/u/{made}"), format!("Users/u/{like}"));
        assert_eq!(
            reparse_data(&self.to.path(&made)),
            reparse_data(&self.from.path(&like)),
            "{made}: the reparse data of {like}"
        );
        let (a, b) = (self.to.show(&made), self.from.show(&like));
        assert_eq!(
            (&a["kind"], &a["dir"], &a["target"], &a["tag"]),
            (&b["kind"], &b["dir"], &b["target"], &b["tag"]),
            "{made}"
        );
    }
}

/// A relative symlink's record from a scan of an NTFS volume has its target in NT form,
/// `..\..\Data\T`: on a volume that holds NT links that is the volume's own form, taken
/// as such (not refused for its `\`), and the same link is made.
#[test]
fn apply_takes_relative_symlink_records_in_their_nt_form() {
    let Some(vol) = scanned("apply_takes_relative_symlink_records_in_their_nt_form") else {
        return;
    };
    let manifest = vol.manifest(&["rel", "relf"]);
    let links = [
        ("./Users/u/rel", "..\\..\\Data\\T"),
        ("./Users/u/relf", "..\\..\\Data\\f.txt"),
    ];
    vol.apply(&manifest, "created", &links);
    vol.to.remount();
    vol.same_link("rel", "rel");
    vol.same_link("relf", "relf");
    assert_eq!(
        fs::read_to_string(vol.to.path("copy/Users/u/relf")).unwrap(),
        "copy"
    );
    vol.apply(&manifest, "unchanged", &links);
}

/// A junction's record from a scan of an NTFS volume has the target `C:\Data\T`: the
/// directory `\Data\T` of the volume (drive C:) the junction is made on, not a relative
/// path read from the root (`copy/C:\Data\T`). The same junction is made.
#[test]
fn apply_takes_junction_records_to_a_drive_letter() {
    let Some(vol) = scanned("apply_takes_junction_records_to_a_drive_letter") else {
        return;
    };
    let manifest = vol.manifest(&["j"]);
    let links = [("./Users/u/j", "C:\\Data\\T")];
    vol.apply(&manifest, "created", &links);
    vol.to.remount();
    vol.same_link("j", "j");
    assert_eq!(
        fs::read_link(vol.to.path("copy/Users/u/j")).unwrap(),
        vol.to.path("Data/T")
    );
    vol.apply(&manifest, "unchanged", &links);
    let info = vol.to.ntfsinfo("copy/Users/u/j");
    assert!(
        info.contains("Reparse tag:\t\t 0xa0000003 (mount point)"),
        "{info}"
    );
}

/// A symlink record written with `/` (`../../Data/T`, as a person writes one) makes the
/// link its `\` twin makes; applied again, what would be written is what is there, and it
/// is `unchanged`, not replaced on every run.
#[test]
fn apply_leaves_symlink_records_written_with_slashes_unchanged() {
    let Some(vol) = scanned("apply_leaves_symlink_records_written_with_slashes_unchanged") else {
        return;
    };
    let manifest = "{\"path\":\"Users/u/slash\",\"kind\":\"symlink\",\"dir\":true,\
                    \"target\":\"../../Data/T\"}\n\
                    {\"path\":\"Users/u/slashf\",\"kind\":\"symlink\",\"dir\":false,\
                    \"target\":\"../../Data/f.txt\"}\n";
    let links = [
        ("Users/u/slash", "../../Data/T"),
        ("Users/u/slashf", "../../Data/f.txt"),
    ];
    vol.apply(manifest, "created", &links);
    vol.apply(manifest, "unchanged", &links);
    vol.to.remount();
    vol.apply(manifest, "unchanged", &links);
    vol.same_link("slash", "rel");
    vol.same_link("slashf", "relf");
}

/// A whole scan of an NTFS volume (relative and absolute symlinks of both flavours, a
/// junction, a link to another drive), applied below a root on another volume, makes the
/// same links, byte for byte; a second apply reports every record `unchanged`.
#[test]
fn apply_remakes_its_own_scan_on_another_volume() {
    let Some(vol) = scanned("apply_remakes_its_own_scan_on_another_volume") else {
        return;
    };
    let names: Vec<&str> = SCANNED.iter().map(|(name, _)| *name).collect();
    let manifest = vol.manifest(&names);
    let links: Vec<(String, &str)> = SCANNED
        .iter()
        .map(|(name, target)| (format!("./Users/u/{name}"), *target))
        .collect();
    let links: Vec<(&str, &str)> = links.iter().map(|(p, t)| (p.as_str(), *t)).collect();
    vol.apply(&manifest, "created", &links);
    vol.to.remount();
    for name in names {
        vol.same_link(name, name);
    }
    vol.apply(&manifest, "unchanged", &links);
}
