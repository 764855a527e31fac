//! `knot copy` of a tree on an NTFS volume mounted with ntfs-3g: junctions and symlinks
//! copied as real reparse points, read back by their bytes and decoded. Each copy is its
//! own process, which reads the mount table afresh (a scan asks for ntfs-3g volumes once
//! per process).

use std::ffi::OsStr;
use std::fs;
use std::path::Path;

use knot_reparse::ReparsePoint;
use serde_json::Value;

use crate::fixture::{self, ntfs3g::Volume, ntfs3g::volume};

/// The reparse point of `path` itself, as ntfs-3g stores it, decoded.
fn reparse(path: &Path) -> ReparsePoint {
    let mut buffer = vec![0; 16 * 1024];
    let len = rustix::fs::lgetxattr(path, "system.ntfs_reparse_data", &mut buffer)
        .unwrap_or_else(|e| panic!("no reparse point on {}: {e}", path.display()));
    buffer.truncate(len);
    knot_reparse::decode(&buffer).unwrap()
}

/// A junction's print name and substitute name.
fn junction(path: &Path) -> (String, String) {
    match reparse(path) {
        ReparsePoint::MountPoint(m) => (
            m.print_name.to_string_lossy(),
            m.substitute_name.to_string_lossy(),
        ),
        other => panic!("{} is no junction: {other:?}", path.display()),
    }
}

/// A symlink's print name and whether it is relative.
fn symlink(path: &Path) -> (String, bool) {
    match reparse(path) {
        ReparsePoint::Symlink(s) => (s.print_name.to_string_lossy(), s.flags & 1 == 1),
        other => panic!("{} is no symlink: {other:?}", path.display()),
    }
}

fn knot<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(vol: &Volume, args: I) -> Vec<Value> {
    let mut cmd = fixture::knot();
    cmd.current_dir(&vol.mnt).args(args);
    fixture::records(&mut cmd)
}

/// `knot copy --json SRC DST`: the records by path below SRC.
fn copy(vol: &Volume, dst: &Path) -> Vec<Value> {
    let records = knot(
        vol,
        [
            OsStr::new("copy"),
            OsStr::new("--json"),
            OsStr::new("src"),
            dst.as_os_str(),
        ],
    );
    for record in &records {
        assert!(record["error"].is_null(), "{record}");
    }
    records
}

fn record<'a>(records: &'a [Value], path: &str) -> &'a Value {
    records
        .iter()
        .find(|r| r["path"] == path)
        .unwrap_or_else(|| panic!("no record for {path}: {records:#?}"))
}

/// The tree: `src/a/b`, `src/a/file`, `outside/x`; junctions to inside (`j_in`,
/// `a/b/j_up`) and outside (`j_out`); symlinks absolute, relative, through `..` and to
/// outside.
fn tree(vol: &Volume) {
    fs::create_dir_all(vol.path("src/a/b")).unwrap();
    fs::write(vol.path("src/a/file"), "data").unwrap();
    fs::create_dir(vol.path("outside")).unwrap();
    fs::write(vol.path("outside/x"), "out").unwrap();
    let abs = vol.path("src/a/file");
    for args in [
        ["junction", "src/j_in", "src/a"],
        ["junction", "src/a/b/j_up", "src/a"],
        ["junction", "src/j_out", "outside"],
        ["symlink", "src/abs", abs.to_str().unwrap()],
        ["symlink", "src/a/b/rel", "../file"],
        ["symlink", "src/a/b/dotdot", "../../a/b/../file"],
        ["symlink", "src/out_rel", "../outside/x"],
    ] {
        let mut cmd = fixture::knot();
        cmd.current_dir(&vol.mnt).args(args).assert().code(0);
    }
}

/// Copied to another place on the same volume, junctions are real junctions and symlinks
/// real symlinks, read back by their bytes: inner ones lead to the same place inside the
/// copy (a relative one keeps its text), outer ones where they led, none into the source.
#[test]
fn junctions_and_symlinks_are_copied_as_reparse_points() {
    let Some(vol) = volume("junctions_and_symlinks_are_copied_as_reparse_points") else {
        return;
    };
    tree(&vol);
    let records = copy(&vol, Path::new("dst"));
    vol.remount();
    let dst = vol.path("dst");
    assert_eq!(
        junction(&dst.join("j_in")),
        ("C:\\dst\\a".into(), "\\??\\C:\\dst\\a".into())
    );
    assert_eq!(junction(&dst.join("a/b/j_up")).0, "C:\\dst\\a");
    assert_eq!(junction(&dst.join("j_out")).0, "C:\\outside");
    assert_eq!(
        symlink(&dst.join("abs")),
        ("C:\\dst\\a\\file".into(), false)
    );
    assert_eq!(symlink(&dst.join("a/b/rel")), ("..\\file".into(), true));
    assert_eq!(
        symlink(&dst.join("a/b/dotdot")),
        ("..\\..\\a\\b\\..\\file".into(), true)
    );
    assert_eq!(
        symlink(&dst.join("out_rel")),
        ("..\\outside\\x".into(), true)
    );
    // As Linux follows them: inner ones inside the copy, outer ones outside, none into
    // the source.
    let real = |below: &str| fs::canonicalize(dst.join(below)).unwrap();
    assert_eq!(real("j_in"), dst.join("a"));
    assert_eq!(real("a/b/j_up"), dst.join("a"));
    assert_eq!(real("abs"), dst.join("a/file"));
    assert_eq!(real("a/b/rel"), dst.join("a/file"));
    assert_eq!(real("a/b/dotdot"), dst.join("a/file"));
    assert_eq!(real("j_out"), vol.path("outside"));
    assert_eq!(real("out_rel"), vol.path("outside/x"));
    let j_in = record(&records, "src/j_in");
    assert_eq!(
        (
            &j_in["kind"],
            &j_in["target"],
            &j_in["class"],
            &j_in["action"],
            &j_in["made"]
        ),
        (
            &"junction".into(),
            &"C:\\src\\a".into(),
            &"inner".into(),
            &"rewritten".into(),
            &Value::Null
        )
    );
    let j_out = record(&records, "src/j_out");
    assert_eq!(
        (&j_out["class"], &j_out["action"]),
        (&"outer".into(), &"kept".into())
    );
    let rel = record(&records, "src/a/b/rel");
    assert_eq!(
        (&rel["class"], &rel["action"]),
        (&"inner".into(), &"copied".into())
    );
}

/// Copied off the volume, onto a file system without junctions, a junction becomes an
/// absolute directory symlink to the same directory (an inner one to the copy's), and the
/// record says so; symlinks stored in Windows' form lead where they led.
#[test]
fn junctions_copied_off_the_volume_become_directory_symlinks() {
    let Some(vol) = volume("junctions_copied_off_the_volume_become_directory_symlinks") else {
        return;
    };
    tree(&vol);
    let base = tempfile::tempdir().unwrap();
    let dst = fs::canonicalize(base.path()).unwrap().join("dst");
    let records = copy(&vol, &dst);
    assert_eq!(fs::read_link(dst.join("j_in")).unwrap(), dst.join("a"));
    assert_eq!(fs::read_link(dst.join("a/b/j_up")).unwrap(), dst.join("a"));
    assert_eq!(
        fs::read_link(dst.join("j_out")).unwrap(),
        vol.path("outside")
    );
    assert_eq!(fs::read_link(dst.join("abs")).unwrap(), dst.join("a/file"));
    assert_eq!(
        fs::read_link(dst.join("a/b/rel")).unwrap(),
        Path::new("../file")
    );
    assert_eq!(
        fs::canonicalize(dst.join("out_rel")).unwrap(),
        vol.path("outside/x")
    );
    let j_in = record(&records, "src/j_in");
    assert_eq!(
        (&j_in["made"], &j_in["action"]),
        (&"symlink".into(), &"rewritten".into())
    );
    // The line says what was made.
    let again = dst.with_file_name("again");
    let mut cmd = fixture::knot();
    cmd.current_dir(&vol.mnt).args([
        OsStr::new("copy"),
        OsStr::new("-q"),
        OsStr::new("src"),
        again.as_os_str(),
    ]);
    let out = fixture::output(&mut cmd);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = format!(
        "made symlink 'src/j_in' -> '{}'  [no junctions in DST's file system]",
        again.join("a").display()
    );
    assert!(stdout.lines().any(|l| l == line), "{stdout}");
}

/// A dangling junction is copied as it is: onto the volume, the same reparse point byte
/// for byte (a create makes a junction only to a directory that is there); off it, an
/// absolute directory symlink to the same missing directory.
#[test]
fn a_dangling_junction_is_copied_as_it_is() {
    let Some(vol) = volume("a_dangling_junction_is_copied_as_it_is") else {
        return;
    };
    fs::create_dir_all(vol.path("src/gone")).unwrap();
    let mut cmd = fixture::knot();
    cmd.current_dir(&vol.mnt)
        .args(["junction", "src/j", "src/gone"])
        .assert()
        .code(0);
    fs::remove_dir(vol.path("src/gone")).unwrap();
    let records = copy(&vol, Path::new("dst"));
    let j = record(&records, "src/j");
    assert_eq!(
        (&j["class"], &j["action"], &j["made"]),
        (&"dangling".into(), &"kept".into(), &Value::Null)
    );
    vol.remount();
    assert_eq!(reparse(&vol.path("dst/j")), reparse(&vol.path("src/j")));
    assert_eq!(junction(&vol.path("dst/j")).0, "C:\\src\\gone");

    let base = tempfile::tempdir().unwrap();
    let off = base.path().join("dst");
    let records = copy(&vol, &off);
    assert_eq!(record(&records, "src/j")["made"], "symlink");
    assert_eq!(fs::read_link(off.join("j")).unwrap(), vol.path("src/gone"));
}

/// A junction to another drive (`D:\\`, which this system does not reach) is outer and
/// copied as it is: onto the volume, the same reparse point byte for byte.
#[test]
fn a_junction_to_another_drive_is_copied_as_it_is() {
    let Some(vol) = volume("a_junction_to_another_drive_is_copied_as_it_is") else {
        return;
    };
    fs::create_dir_all(vol.path("src")).unwrap();
    fs::create_dir_all(vol.path("outside")).unwrap();
    let mut cmd = fixture::knot();
    cmd.current_dir(&vol.mnt)
        .args(["junction", "--drive", "D:", "src/jd", "outside"])
        .assert()
        .code(0);
    let records = copy(&vol, Path::new("dst"));
    let jd = record(&records, "src/jd");
    assert_eq!(
        (&jd["target"], &jd["class"], &jd["action"], &jd["made"]),
        (
            &"D:\\outside".into(),
            &"outer".into(),
            &"kept".into(),
            &Value::Null
        )
    );
    vol.remount();
    assert_eq!(reparse(&vol.path("dst/jd")), reparse(&vol.path("src/jd")));
    assert_eq!(junction(&vol.path("dst/jd")).0, "D:\\outside");
}

/// `knot copy --mirror` of a tree with junctions, on the volume and off it: a second run
/// leaves each junction (or the directory symlink made for it off the volume) as it is,
/// and one whose target changed in SRC is made anew to its new target.
#[test]
fn mirror_leaves_junctions_that_are_the_same_and_remakes_one_that_changed() {
    let test = "mirror_leaves_junctions_that_are_the_same_and_remakes_one_that_changed";
    let Some(vol) = volume(test) else {
        return;
    };
    tree(&vol);
    let base = tempfile::tempdir().unwrap();
    let off = fs::canonicalize(base.path()).unwrap().join("dst");
    let on = vol.path("dst");
    let mirror = |dst: &Path| {
        let records = knot(
            &vol,
            [
                OsStr::new("copy"),
                OsStr::new("--mirror"),
                OsStr::new("--json"),
                OsStr::new("src"),
                dst.as_os_str(),
            ],
        );
        for record in &records {
            assert!(record["error"].is_null(), "{record}");
        }
        records
    };
    copy(&vol, &on);
    copy(&vol, &off);
    for dst in [&on, &off] {
        let records = mirror(dst);
        assert!(records.is_empty(), "{}: {records:#?}", dst.display());
    }
    // src/j_in now leads to src/a/b.
    fs::remove_file(vol.path("src/j_in")).unwrap();
    let mut cmd = fixture::knot();
    cmd.current_dir(&vol.mnt)
        .args(["junction", "src/j_in", "src/a/b"])
        .assert()
        .code(0);
    for dst in [&on, &off] {
        let records = mirror(dst);
        assert_eq!(records.len(), 1, "{}: {records:#?}", dst.display());
        assert_eq!(record(&records, "src/j_in")["action"], "updated");
    }
    vol.remount();
    assert_eq!(junction(&on.join("j_in")).0, "C:\\dst\\a\\b");
    assert_eq!(junction(&on.join("j_out")).0, "C:\\outside");
    assert_eq!(fs::read_link(off.join("j_in")).unwrap(), off.join("a/b"));
}

/// Reparse points that are no links, on a volume read through ntfs-3g, which has no plugin
/// for their tags here and shows each as a link to the text `unsupported reparse tag …`:
/// a WOF-compressed file (its data readable only through ntfs-3g-system-compression), a
/// cloud file (whose data, local or not, ntfs-3g cannot read), a cloud placeholder
/// directory (which ntfs-3g cannot open), a deduplicated file, and a tag knot does not
/// know. Each is refused with its own reason, naming its tag and what to
/// do; the rest is copied; nothing of the refused ones is left in DST, not even a staged
/// name; exit 1. `--dry-run` says the same. (On Windows, where the filters serve these
/// tags, the first three are copied as their data; Wine has no reparse points, so that
/// path is tested nowhere here.)
#[test]
fn reparse_points_that_are_no_links_are_refused_each_with_its_reason() {
    use crate::ntfs3g::{compressed_file, placeholder};
    let Some(vol) = volume("reparse_points_that_are_no_links_are_refused_each_with_its_reason")
    else {
        return;
    };
    fs::create_dir(vol.path("src")).unwrap();
    fs::write(vol.path("src/plain"), "plain").unwrap();
    compressed_file(&vol.path("src/wof"));
    for (name, tag) in [
        ("cloud", 0x9000_001A_u32),
        ("cloud3", 0x9000_301A),
        ("dedup", 0x8000_0013),
        ("odd", 0x8000_0099),
    ] {
        fs::write(vol.path(&format!("src/{name}")), "local data").unwrap();
        placeholder(&vol.path(&format!("src/{name}")), tag);
    }
    fs::create_dir_all(vol.path("src/OneDrive/Documents")).unwrap();
    placeholder(&vol.path("src/OneDrive"), 0x9000_701A);
    vol.remount();
    // What knot meets: ntfs-3g gives no data for any of them.
    for (name, tag) in [
        ("wof", "0x80000017"),
        ("cloud", "0x9000001a"),
        ("odd", "0x80000099"),
    ] {
        assert_eq!(
            fs::read_link(vol.path(&format!("src/{name}"))).unwrap(),
            Path::new(&format!("unsupported reparse tag {tag}"))
        );
    }
    let cloud = "it is a cloud file (KIND, TAG), whose data ntfs-3g cannot read (it may be \
                 only in the cloud): make it available offline and copy it on Windows";
    let reasons = [
        (
            "src/cloud",
            cloud.replace("KIND", "cloud").replace("TAG", "0x9000001a"),
        ),
        (
            "src/cloud3",
            cloud
                .replace("KIND", "cloud-3")
                .replace("TAG", "0x9000301a"),
        ),
        (
            "src/dedup",
            "it is a deduplicated file (dedup, 0x80000013), whose data is in the volume's \
             deduplication chunk store, which ntfs-3g cannot read: copy it on Windows"
                .to_owned(),
        ),
        (
            "src/odd",
            "it is a reparse point (unknown, 0x80000099) that knot does not know how to copy"
                .to_owned(),
        ),
        (
            "src/OneDrive",
            "it is a cloud placeholder directory (cloud-7, 0x9000701a) that this system \
             cannot open: copy it on Windows, where the sync engine that made it gives its \
             files"
                .to_owned(),
        ),
        (
            "src/wof",
            "it is a WOF-compressed file (wof, 0x80000017), and ntfs-3g reads WOF-compressed \
             data only with the system-compression plugin: install ntfs-3g-system-compression \
             and mount the volume again, or copy it on Windows"
                .to_owned(),
        ),
    ];
    // In the walk's order: by name, case folded.
    let stderr: String = reasons
        .iter()
        .map(|(path, why)| format!("knot: cannot copy '{path}': {why}\n"))
        .collect();
    for dry_run in [true, false] {
        let mut cmd = fixture::knot();
        cmd.current_dir(&vol.mnt)
            .args(["copy", "--json", "src", "dst"]);
        if dry_run {
            cmd.arg("--dry-run");
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        // The refusals, then the summary (which `--json` writes to stderr).
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.starts_with(&stderr), "{said}");
        assert!(said.contains("\n  1  files\n  5  bytes\n"), "{said}");
        assert!(said.ends_with("\n  6  failures\n"), "{said}");
        let records = fixture::json_lines(&out.stdout);
        for (path, why) in &reasons {
            let failed = record(&records, path);
            assert_eq!(failed["action"], "failed", "{failed}");
            assert_eq!(failed["error"], format!("cannot copy '{path}': {why}"));
        }
        let plain = record(&records, "src/plain");
        assert_eq!(plain["action"], "copied", "{plain}");
        assert_eq!(records.len(), 1 + 1 + reasons.len(), "{records:#?}");
        if dry_run {
            assert!(!vol.path("dst").exists());
        }
    }
    let mut names: Vec<_> = fs::read_dir(vol.path("dst"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["plain"]);
    assert_eq!(fs::read_to_string(vol.path("dst/plain")).unwrap(), "plain");
}

/// `knot copy --mirror` on an ntfs-3g volume, which cannot swap two entries in one step:
/// a directory of DST where SRC has a file is replaced once the file is copied (the tree
/// removed, then the copy renamed in), with no hidden name left.
#[test]
fn mirror_replaces_a_directory_by_a_file_where_no_swap_is_possible() {
    let test = "mirror_replaces_a_directory_by_a_file_where_no_swap_is_possible";
    let Some(vol) = volume(test) else {
        return;
    };
    fs::create_dir_all(vol.path("src")).unwrap();
    fs::write(vol.path("src/x"), "file now").unwrap();
    fs::create_dir_all(vol.path("dst/x/deeper")).unwrap();
    fs::write(vol.path("dst/x/deeper/f"), "old").unwrap();
    let records = knot(&vol, ["copy", "--mirror", "--json", "src", "dst"]);
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0]["action"], "updated", "{records:#?}");
    assert_eq!(fs::read_to_string(vol.path("dst/x")).unwrap(), "file now");
    let names: Vec<_> = fs::read_dir(vol.path("dst"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(names, ["x"]);
}
