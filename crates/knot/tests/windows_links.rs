//! Links that only real Windows makes: run in the Windows CI job (`KNOT_REQUIRE_WINDOWS=1`),
//! where each must succeed. Under Wine 8, which has no reparse points, each meets the
//! documented refusal, checks that nothing was left, and says so (`wine_lacks`); the parts
//! that need no link (hard links, names, refusals) run there too.

use std::ffi::OsString;
use std::fs;
use std::os::windows::ffi::OsStringExt;
use std::path::{Path, PathBuf};

use crate::fixture::{Dir, wine_lacks};
use knot::scan::ScanBuilder;
use knot::{
    ChangeMode, CreateOptions, ErrorKind, Flavour, Kind, LinkType, Note, Replace, Status, create,
    inspect, remove,
};

fn default() -> CreateOptions {
    CreateOptions::default()
}

fn force() -> CreateOptions {
    CreateOptions {
        replace: Replace::Links,
        ..default()
    }
}

fn under_wine() -> bool {
    std::env::var_os("KNOT_UNDER_WINE").is_some()
}

/// `path` as knot shows a resolved path: canonical (8.3 names expanded), without `\\?\`.
fn real(path: &Path) -> PathBuf {
    let canonical = fs::canonicalize(path).unwrap();
    PathBuf::from(canonical.to_str().unwrap().trim_start_matches(r"\\?\"))
}

fn note(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "note: {text}");
}

/// A junction at `link` to `target`, or `None` where the volume has no reparse points
/// (Wine 8), which only off the Windows job may happen.
fn junction(test: &str, link: &Path, target: &Path) -> Option<knot::Link> {
    match create(link, target, LinkType::Junction, &default()) {
        Ok(made) => Some(made.link),
        Err(err) => {
            note(&format!("no junction made: {err}"));
            assert!(
                matches!(err.kind(), ErrorKind::Unsupported { why } if why.contains("reparse points")),
                "{err}"
            );
            assert!(fs::symlink_metadata(link).is_err(), "{err}: left behind");
            wine_lacks(test, "no junctions here (Wine 8 has no reparse points)");
            None
        }
    }
}

/// A symlink at `link` to `target` (flavour `flavour`), or `None` where the volume has no
/// reparse points (Wine 8) or this user lacks the privilege, which only off the Windows job
/// may happen.
fn symlink(test: &str, link: &Path, target: &Path, flavour: Flavour) -> Option<knot::Link> {
    let options = CreateOptions {
        flavour: Some(flavour),
        ..default()
    };
    match create(link, target, LinkType::Symlink, &options) {
        Ok(made) => Some(made.link),
        Err(err) => {
            note(&format!("no symlink made: {err}"));
            match err.kind() {
                ErrorKind::Unsupported { why }
                    if why.contains("does not support symbolic links") => {}
                ErrorKind::PrivilegeNeeded => assert!(!under_wine(), "{err}"),
                other => panic!("unexpected {other:?}: {err}"),
            }
            assert!(fs::symlink_metadata(link).is_err(), "{err}: left behind");
            wine_lacks(
                test,
                "no symlinks here (no reparse points, or no privilege)",
            );
            None
        }
    }
}

/// `--force` replaces a real junction and a real directory symlink with a new link to
/// another directory; the old targets' contents are untouched.
#[test]
fn force_replaces_a_junction_and_a_directory_symlink() {
    let test = "force_replaces_a_junction_and_a_directory_symlink";
    let t = Dir::new();
    let (d1, d2) = (t.mkdir("d1"), t.mkdir("d2"));
    t.file("d1/canary", "alive");
    if junction(test, &t.join("j"), &d1).is_some() {
        let made = create(t.join("j"), &d2, LinkType::Junction, &force()).unwrap();
        assert_eq!(made.link.kind, Kind::Junction);
        assert_eq!(
            made.link.target.as_deref(),
            Some(std::path::absolute(&d2).unwrap().as_path())
        );
        assert!(made.notes.contains(&Note::Replaced), "{:?}", made.notes);
        // A junction replaced by a directory symlink, and back.
        if symlink(test, &t.join("s"), Path::new("d1"), Flavour::Dir).is_some() {
            let made = create(t.join("s"), "d2", LinkType::Symlink, &force()).unwrap();
            assert_eq!(made.link.target.as_deref(), Some(Path::new("d2")));
            assert_eq!(made.link.status, Some(Status::Ok));
            let made = create(t.join("s"), &d1, LinkType::Junction, &force()).unwrap();
            assert_eq!(made.link.kind, Kind::Junction);
            remove(t.join("s"), ChangeMode::Change).unwrap();
        }
        remove(t.join("j"), ChangeMode::Change).unwrap();
    }
    assert_eq!(fs::read_to_string(d1.join("canary")).unwrap(), "alive");
    assert_eq!(t.names(), ["d1", "d2"]);
}

/// `FILE_ATTRIBUTE_READONLY` set on the link itself (not followed), through a handle
/// opened with `FILE_FLAG_OPEN_REPARSE_POINT`.
fn set_read_only(link: &Path) {
    use std::os::windows::fs::OpenOptionsExt;
    // winnt.h: FILE_WRITE_ATTRIBUTES, FILE_READ_ATTRIBUTES; winbase.h:
    // FILE_FLAG_BACKUP_SEMANTICS (a directory opens), FILE_FLAG_OPEN_REPARSE_POINT.
    let handle = fs::OpenOptions::new()
        .access_mode(0x0100 | 0x0080)
        .custom_flags(0x0200_0000 | 0x0020_0000)
        .open(link)
        .unwrap();
    let mut permissions = handle.metadata().unwrap().permissions();
    permissions.set_readonly(true);
    handle.set_permissions(permissions).unwrap();
}

/// A read-only junction is shown, retargeted in place and removed like any other; its
/// target is never touched.
#[test]
fn read_only_junctions() {
    let test = "read_only_junctions";
    let t = Dir::new();
    let (d1, d2) = (t.mkdir("d1"), t.mkdir("d2"));
    t.file("d1/canary", "alive");
    if junction(test, &t.join("j"), &d1).is_some() {
        set_read_only(&t.join("j"));
        assert!(
            fs::symlink_metadata(t.join("j"))
                .unwrap()
                .permissions()
                .readonly()
        );
        let shown = inspect(t.join("j")).unwrap();
        assert_eq!(
            (shown.kind, shown.status),
            (Kind::Junction, Some(Status::Ok))
        );
        let done = knot::retarget(t.join("j"), &d2, &knot::RetargetOptions::default()).unwrap();
        assert!(done.changed);
        assert_eq!(
            done.after.target.as_deref(),
            Some(std::path::absolute(&d2).unwrap().as_path())
        );
        remove(t.join("j"), ChangeMode::Change).unwrap();
    }
    assert_eq!(fs::read_to_string(d1.join("canary")).unwrap(), "alive");
    assert_eq!(t.names(), ["d1", "d2"]);
}

/// A scan lists junctions and directory symlinks as links and never walks into them: the
/// files below their targets are met once, in the targets themselves.
#[test]
fn scans_over_reparse_points() {
    let test = "scans_over_reparse_points";
    let t = Dir::new();
    let target = t.mkdir("target");
    let f = t.file("target/f", "x");
    create(t.join("target/g"), &f, LinkType::Hardlink, &default()).unwrap();
    t.mkdir("links");
    let Some(_) = junction(test, &t.join("links/j"), &target) else {
        return;
    };
    let with_symlink = symlink(
        test,
        &t.join("links/s"),
        Path::new(r"..\target"),
        Flavour::Dir,
    )
    .is_some();
    let mut found: Vec<(PathBuf, Kind)> = ScanBuilder::new(t.path())
        .kinds([Kind::Junction, Kind::Symlink, Kind::Hardlink])
        .build()
        .map(|e| {
            let e = e.unwrap();
            (e.path().to_path_buf(), *e.kind())
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    let mut want = vec![(t.join(r"links\j"), Kind::Junction)];
    if with_symlink {
        want.push((t.join(r"links\s"), Kind::Symlink));
    }
    want.extend([
        (t.join(r"target\f"), Kind::Hardlink),
        (t.join(r"target\g"), Kind::Hardlink),
    ]);
    assert_eq!(found, want);
}

/// A relative target with `..` is stored as given and leads where Windows reads it: from
/// the link's own directory.
#[test]
fn relative_targets_with_dot_dot() {
    let test = "relative_targets_with_dot_dot";
    let t = Dir::new();
    t.mkdir(r"a\b");
    t.mkdir("x");
    t.file(r"x\f", "x");
    let Some(link) = symlink(
        test,
        &t.join(r"a\b\l"),
        Path::new(r"..\..\x\f"),
        Flavour::File,
    ) else {
        return;
    };
    assert_eq!(link.target.as_deref(), Some(Path::new(r"..\..\x\f")));
    assert_eq!(link.status, Some(Status::Ok));
    assert_eq!(fs::read_to_string(t.join(r"a\b\l")).unwrap(), "x");
    let shown = inspect(t.join(r"a\b\l")).unwrap();
    assert_eq!(shown.resolved, Some(real(&t.join(r"x\f"))));
}

/// `..` after a directory symlink: Windows reads a relative target after the directory
/// symlinks before it in the path are resolved (the link's real directory), but a junction
/// before it stays in the path (its `..` is the junction's parent). This settles the rule
/// in the Windows job; knot folds `..` lexically (README, "Windows"), so it reports the
/// link by its real path, where both readings agree.
#[test]
fn dot_dot_under_a_directory_symlink_prefix() {
    let test = "dot_dot_under_a_directory_symlink_prefix";
    let t = Dir::new();
    t.mkdir(r"real\sub");
    t.file(r"real\x", "under real");
    t.file("x", "beside the prefix");
    // real\sub\l -> ..\x: from its real directory, real\x.
    let Some(_) = symlink(
        test,
        &t.join(r"real\sub\l"),
        Path::new(r"..\x"),
        Flavour::File,
    ) else {
        return;
    };
    assert_eq!(
        fs::read_to_string(t.join(r"real\sub\l")).unwrap(),
        "under real"
    );
    // Through a directory symlink s -> real\sub: still real\x.
    if symlink(test, &t.join("s"), Path::new(r"real\sub"), Flavour::Dir).is_some() {
        assert_eq!(fs::read_to_string(t.join(r"s\l")).unwrap(), "under real");
        let through = inspect(t.join(r"s\l")).unwrap();
        note(&format!(
            "knot reads s\\l (-> ..\\x) as leading to {:?}",
            through.resolved
        ));
    }
    // Through a junction j -> real\sub: what Windows reads is printed, and must be one of
    // the two readings; the Windows job's log settles which.
    if junction(test, &t.join("j"), &t.join(r"real\sub")).is_some() {
        let read = fs::read_to_string(t.join(r"j\l")).unwrap();
        note(&format!("through a junction, '..' read: {read}"));
        assert!(["under real", "beside the prefix"].contains(&read.as_str()));
    }
    let shown = inspect(t.join(r"real\sub\l")).unwrap();
    assert_eq!(shown.resolved, Some(real(&t.join(r"real\x"))));
}

/// A target longer than MAX_PATH: a junction to it is made and read back whole; a symlink
/// to it is made, or fails with its own error, never a privilege error where a short
/// symlink could be made (the retry without the unprivileged flag is gone).
#[test]
fn targets_over_max_path() {
    let test = "targets_over_max_path";
    let t = Dir::new();
    let mut deep = t.path().to_path_buf();
    for i in 0..6 {
        deep.push(format!("{i}{}", "d".repeat(50)));
    }
    fs::create_dir_all(&deep).unwrap();
    fs::write(deep.join("f"), "deep").unwrap();
    assert!(deep.as_os_str().len() > 260);
    if let Some(link) = junction(test, &t.join("j"), &deep) {
        assert_eq!(
            link.target.as_deref(),
            Some(std::path::absolute(&deep).unwrap().as_path())
        );
        assert_eq!(link.status, Some(Status::Ok));
        remove(t.join("j"), ChangeMode::Change).unwrap();
    }
    if symlink(test, &t.join("short"), Path::new("x"), Flavour::File).is_some() {
        remove(t.join("short"), ChangeMode::Change).unwrap();
        let options = CreateOptions {
            flavour: Some(Flavour::File),
            ..default()
        };
        match create(t.join("s"), deep.join("f"), LinkType::Symlink, &options) {
            Ok(made) => {
                assert_eq!(made.link.status, Some(Status::Ok));
                assert_eq!(fs::read_to_string(t.join("s")).unwrap(), "deep");
                remove(t.join("s"), ChangeMode::Change).unwrap();
            }
            Err(err) => {
                note(&format!("a symlink to a long target: {err}"));
                assert_ne!(*err.kind(), ErrorKind::PrivilegeNeeded, "{err}");
            }
        }
    }
    let names = t.names();
    assert_eq!(names.len(), 1, "{names:?}");
}

/// Names that are not valid UTF-16 (an unpaired surrogate), which NTFS stores as they are:
/// a hard link, a junction and a symlink named so are made, shown and removed, and the
/// names come back unit for unit.
#[test]
fn unpaired_surrogates_in_names() {
    let test = "unpaired_surrogates_in_names";
    let t = Dir::new();
    let odd = |stem: &str| {
        let mut units: Vec<u16> = stem.encode_utf16().collect();
        units.push(0xD800);
        OsString::from_wide(&units)
    };
    let f = t.path().join(odd("f"));
    if let Err(err) = fs::write(&f, "x") {
        // Wine keeps names as UTF-8 on Linux, which has no unpaired surrogate.
        assert!(under_wine(), "{err}");
        wine_lacks(
            test,
            "names with an unpaired surrogate (Wine 8 stores names as UTF-8)",
        );
        return;
    }
    let h = t.path().join(odd("h"));
    let made = create(&h, &f, LinkType::Hardlink, &default()).unwrap();
    assert_eq!(made.link.path, h);
    assert_eq!(inspect(&h).unwrap().nlink, Some(2));
    let d = t.path().join(odd("d"));
    fs::create_dir(&d).unwrap();
    if let Some(link) = junction(test, &t.path().join(odd("j")), &d) {
        assert_eq!(
            link.target.as_deref(),
            Some(std::path::absolute(&d).unwrap().as_path())
        );
        assert_eq!(link.status, Some(Status::Ok));
        remove(t.path().join(odd("j")), ChangeMode::Change).unwrap();
    }
    let target = PathBuf::from(odd("f"));
    if let Some(link) = symlink(test, &t.path().join(odd("s")), &target, Flavour::File) {
        assert_eq!(link.target.as_deref(), Some(target.as_path()));
        assert_eq!(link.status, Some(Status::Ok));
        remove(t.path().join(odd("s")), ChangeMode::Change).unwrap();
    }
    let mut left: Vec<OsString> = fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    left.sort();
    assert_eq!(left, [odd("d"), odd("f"), odd("h")]);
}

/// A junction placed on a network share is refused before anything is made: the server,
/// not this machine, would follow it. Wine's drive N: is a network drive, so this runs
/// there too.
#[test]
fn junction_on_a_network_share_is_refused() {
    let Some(drive) = std::env::var_os("KNOT_TEST_NETWORK_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("KNOT_WINE_NETWORK_DRIVE")
                .map(|d| PathBuf::from(format!(r"{}\", d.to_string_lossy())))
        })
    else {
        note("skipped: no network drive to test with (set KNOT_TEST_NETWORK_DIR)");
        return;
    };
    let remote = drive.join(format!("junction-place-{}", std::process::id()));
    let _ = fs::remove_dir_all(&remote);
    fs::create_dir_all(&remote).unwrap();
    let t = Dir::new();
    let err = create(remote.join("j"), t.path(), LinkType::Junction, &default()).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Unsupported { why }
            if why.contains("is on a network share, where a junction is followed by the server")),
        "{err}"
    );
    assert_eq!(fs::read_dir(&remote).unwrap().count(), 0);
    fs::remove_dir(&remote).unwrap();
}
