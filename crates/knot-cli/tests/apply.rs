//! Black-box tests of `knot apply`: a manifest written by `knot scan --json`
//! made again in another root, idempotence, every action's exact report, and the refusals
//! that keep a manifest (untrusted input) below its root.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use crate::fixture::{self, Env, mktree, records, run};
use serde_json::Value;

/// (path, kind, target) of each record: what apply makes again.
fn links(records: &[Value]) -> BTreeSet<String> {
    records
        .iter()
        .map(|r| format!("{} {} {}", r["path"], r["kind"], r["target"]))
        .collect()
}

/// `cd tree && knot scan --json` writes paths relative to the tree; apply of
/// that manifest into a fresh root makes the same links (non-UTF-8 names, loops, dangling
/// and absolute links among them), and a second apply leaves every one unchanged.
#[test]
fn round_trips_a_mktree_tree_and_a_second_apply_changes_nothing() {
    let env = Env::new();
    mktree(&env.path("tree"), 3000, 5);
    let mut scan = fixture::knot();
    scan.current_dir(env.path("tree")).args(["scan", "--json"]);
    let scanned = records(&mut scan);
    assert!(scanned.len() > 100, "{} links", scanned.len());
    assert!(
        scanned.iter().any(|r| r["path"]["bytes"].is_string()),
        "a non-UTF-8 name is among them"
    );
    let manifest: String = scanned.iter().map(|r| format!("{r}\n")).collect();
    env.file("links.jsonl", &manifest);

    let first = records(&mut env.knot(["apply", "links.jsonl", "--root", "copy", "--json"]));
    assert_eq!(first.len(), scanned.len());
    for (report, record) in first.iter().zip(&scanned) {
        assert_eq!(report["action"], "created", "{report}");
        assert_eq!(report["path"], record["path"], "manifest order");
    }
    let mut rescan = fixture::knot();
    rescan
        .current_dir(env.path("copy"))
        .args(["scan", "--json"]);
    assert_eq!(links(&records(&mut rescan)), links(&scanned));

    let second = records(&mut env.knot(["apply", "links.jsonl", "--root", "copy", "--json"]));
    assert_eq!(second.len(), scanned.len());
    assert!(
        second
            .iter()
            .all(|r| r["action"] == "unchanged" && r["error"].is_null()),
        "{:?}",
        second.iter().find(|r| r["action"] != "unchanged")
    );
}

/// One record of each outcome, reported exactly, in manifest order; a real file and a
/// real directory in the way are left as they were.
#[test]
fn created_replaced_unchanged_and_failed_are_reported_exactly() {
    let env = Env::new();
    env.mkdir("copy/real-dir");
    env.file("copy/real-file", "data");
    symlink("old", env.path("copy/moved")).unwrap();
    symlink("same", env.path("copy/kept")).unwrap();
    env.file(
        "m.jsonl",
        r#"{"path":"new/deep/l","kind":"symlink","target":"../t"}
{"path":"moved","kind":"symlink","target":"new"}
{"path":"kept","kind":"symlink","target":"same"}
{"path":"real-file","kind":"symlink","target":"x"}
{"path":"real-dir","kind":"symlink","target":"x"}
{"path":"mp","kind":"mount-point","target":"\\??\\Volume{x}\\"}
{"path":"h","kind":"hardlink","target":null}
"#,
    );
    run(
        &mut env.knot(["apply", "m.jsonl", "--root", "copy"]),
        1,
        "created 'copy/new/deep/l' -> '../t'\n\
         replaced 'copy/moved': 'old' -> 'new'\n\
         unchanged 'copy/kept' -> 'same'\n",
        "knot: cannot apply 'copy/real-file': it is a file, not a link; knot apply replaces only links\n\
         knot: hint: move or delete it yourself first if you really mean to replace it\n\
         knot: cannot apply 'copy/real-dir': it is a directory, not a link; knot apply replaces only links\n\
         knot: hint: move or delete it yourself first if you really mean to replace it\n\
         knot: cannot apply 'copy/mp': the record is of kind 'mount-point', which knot cannot recreate (only symlink, junction and hardlink)\n\
         knot: cannot apply 'copy/h': the record has no target: a hard link is made again from another name of the file, given as its target\n",
    );
    assert_eq!(
        fs::read_link(env.path("copy/new/deep/l")).unwrap(),
        Path::new("../t")
    );
    assert_eq!(
        fs::read_link(env.path("copy/moved")).unwrap(),
        Path::new("new")
    );
    assert_eq!(
        fs::read_to_string(env.path("copy/real-file")).unwrap(),
        "data"
    );
    assert!(
        env.path("copy/real-dir")
            .symlink_metadata()
            .unwrap()
            .is_dir()
    );
    assert!(env.path("copy/mp").symlink_metadata().is_err());
    let names = env.names_in("copy");
    assert_eq!(
        names.len(),
        5,
        "nothing else, no temporary names: {names:?}"
    );
}

/// The links are made through the directories apply holds open (on Linux by
/// `/proc/self/fd` paths): what the create itself refuses is still named by the paths the
/// user knows, the link's, the target's and the directory's, never by one of knot's own.
/// A directory held open needs no read permission, as a path through it needs none.
#[test]
fn errors_from_the_create_name_the_users_paths() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.mkdir("copy/d");
    env.mkdir("copy/locked");
    fs::set_permissions(env.path("copy/locked"), fs::Permissions::from_mode(0o555)).unwrap();
    env.mkdir("copy/unreadable");
    fs::set_permissions(
        env.path("copy/unreadable"),
        fs::Permissions::from_mode(0o333),
    )
    .unwrap();
    fs::set_permissions(env.dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
    env.file(
        "m.jsonl",
        r#"{"path":"d/h","kind":"hardlink","target":"d/missing"}
{"path":"h2","kind":"hardlink","target":"nodir/f"}
{"path":"d/j","kind":"junction","target":"nojdir"}
{"path":"locked/l","kind":"symlink","target":"x"}
{"path":"unreadable/l","kind":"symlink","target":"x"}
"#,
    );
    let real = env.real();
    let real = real.display();
    let hint = "knot: hint: check the record's target (a relative target is read from the \
                root, a symlink's from the link's directory), or make the target first\n";
    let out = fixture::as_nobody(&env, &["apply", "m.jsonl", "--root", "copy"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "created 'copy/unreadable/l' -> 'x'\n"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines[..6].join("\n") + "\n",
        format!(
            "knot: cannot create hard link 'copy/d/h': the target 'copy/d/missing' does not \
             exist (looked for '{real}/copy/d/missing')\n{hint}\
             knot: cannot create hard link 'copy/h2': the target 'copy/nodir/f' does not exist \
             (looked for '{real}/copy/nodir/f')\n{hint}\
             knot: cannot create junction 'copy/d/j': the target 'copy/nojdir' does not exist \
             (looked for '{real}/copy/nojdir')\n{hint}"
        )
    );
    assert!(
        lines[6].starts_with(
            "knot: cannot create symlink 'copy/locked/l': this user may not change the \
             directory 'copy/locked' (permission denied)"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("/proc/"), "{stderr}");
    assert_eq!(out.status.code(), Some(1));
}

/// The JSON report is the manifest's record as read plus the action, the old target,
/// whether it was a dry run and the error.
#[test]
fn the_json_report_is_the_record_plus_the_action() {
    let env = Env::new();
    env.mkdir("r");
    symlink("old", env.path("r/l")).unwrap();
    env.file("r/f", "x");
    env.file(
        "r/m.jsonl",
        "{\"path\":\"l\",\"kind\":\"symlink\",\"target\":\"new\"}\n{\"path\":\"f\",\"kind\":\"symlink\",\"target\":\"x\"}\n",
    );
    let record = |path: &str, target: &str| {
        format!(
            r#"{{"path":"{path}","kind":"symlink","dir":null,"target":"{target}","relative":null,"resolved":null,"status":null,"tag":null,"substitute_name":null,"print_name":null,"nlink":null"#
        )
    };
    run(
        &mut env.knot(["apply", "r/m.jsonl", "--json"]),
        1,
        &format!(
            "{},\"action\":\"replaced\",\"old_target\":\"old\",\"dry_run\":false,\"error\":null}}\n\
             {},\"action\":\"failed\",\"old_target\":null,\"dry_run\":false,\"error\":\"cannot apply 'r/f': it is a file, not a link; knot apply replaces only links\"}}\n",
            record("l", "new"),
            record("f", "x"),
        ),
        "knot: cannot apply 'r/f': it is a file, not a link; knot apply replaces only links\n\
         knot: hint: move or delete it yourself first if you really mean to replace it\n",
    );
}

/// A malformed line is reported with its number and skipped; the others are made.
#[test]
fn a_malformed_line_is_reported_with_its_number_and_skipped() {
    let env = Env::new();
    env.file(
        "m.jsonl",
        "{\"path\":\"a\",\"kind\":\"symlink\",\"target\":\"t\"}\n\nnot json\n{\"kind\":\"symlink\"}\n{\"path\":\"b\",\"kind\":\"symlink\",\"target\":\"t\"}\n",
    );
    run(
        &mut env.knot(["apply", "m.jsonl"]),
        1,
        "created 'a' -> 't'\ncreated 'b' -> 't'\n",
        "knot: cannot read 'm.jsonl' line 3: expected ident at line 1 column 2; line skipped\n\
         knot: cannot read 'm.jsonl' line 4: missing field `path` at line 1 column 18; line skipped\n",
    );
    assert_eq!(fs::read_link(env.path("a")).unwrap(), Path::new("t"));
    assert_eq!(fs::read_link(env.path("b")).unwrap(), Path::new("t"));
}

/// `-` reads standard input; the root is then the current directory.
#[test]
fn a_dash_reads_standard_input_into_the_current_directory() {
    let env = Env::new();
    run(
        env.knot(["apply", "-"])
            .write_stdin("{\"path\":\"sub/l\",\"kind\":\"symlink\",\"target\":\"../t\"}\n"),
        0,
        "created 'sub/l' -> '../t'\n",
        "",
    );
    assert_eq!(fs::read_link(env.path("sub/l")).unwrap(), Path::new("../t"));
}

/// `--dry-run` says what would be done and changes nothing: no link, no directory.
#[test]
fn a_dry_run_changes_nothing() {
    let env = Env::new();
    env.mkdir("r");
    symlink("old", env.path("r/moved")).unwrap();
    env.file(
        "m.jsonl",
        "{\"path\":\"new/l\",\"kind\":\"symlink\",\"target\":\"t\"}\n{\"path\":\"here\",\"kind\":\"symlink\",\"target\":\"t\"}\n{\"path\":\"moved\",\"kind\":\"symlink\",\"target\":\"new\"}\n",
    );
    run(
        &mut env.knot(["apply", "--dry-run", "m.jsonl", "--root", "r"]),
        0,
        "would create 'r/new/l' -> 't'\n\
         would create 'r/here' -> 't'\n\
         would replace 'r/moved': 'old' -> 'new'\n",
        "",
    );
    let names = env.names_in("r");
    assert_eq!(names, ["moved"]);
    assert_eq!(
        fs::read_link(env.path("r/moved")).unwrap(),
        Path::new("old")
    );
}

/// A manifest is untrusted: `..` and absolute paths outside the root are refused, and a
/// link planted on the way is never gone through (nothing is made where it leads).
#[test]
fn paths_that_escape_the_root_are_refused() {
    let env = Env::new();
    env.mkdir("r");
    env.mkdir("outside");
    symlink("../outside", env.path("r/planted")).unwrap();
    let abs_in = env.path("r/abs-in");
    let abs_out = env.path("outside/abs-out");
    env.file(
        "m.jsonl",
        &format!(
            "{{\"path\":\"../escape\",\"kind\":\"symlink\",\"target\":\"t\"}}\n\
             {{\"path\":\"a/../../escape\",\"kind\":\"symlink\",\"target\":\"t\"}}\n\
             {{\"path\":{:?},\"kind\":\"symlink\",\"target\":\"t\"}}\n\
             {{\"path\":{:?},\"kind\":\"symlink\",\"target\":\"t\"}}\n\
             {{\"path\":\"planted/l\",\"kind\":\"symlink\",\"target\":\"t\"}}\n\
             {{\"path\":\"planted/deeper/l\",\"kind\":\"symlink\",\"target\":\"t\"}}\n\
             {{\"path\":\"h\",\"kind\":\"hardlink\",\"target\":\"../outside/f\"}}\n",
            abs_out.display(),
            abs_in.display()
        ),
    );
    let root = env.path("r");
    let out = fixture::output(env.knot(["apply", "m.jsonl", "--root"]).arg(&root));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("created '{}' -> 't'\n", abs_in.display())
    );
    let root_q = root.display();
    let hint = "knot: hint: a manifest's paths are relative to the root, without '..' (run `knot scan --json .` inside the tree to write them so)\n";
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!(
            "knot: cannot apply '../escape': the path leads outside the root '{root_q}'\n{hint}\
             knot: cannot apply 'a/../../escape': the path leads outside the root '{root_q}'\n{hint}\
             knot: cannot apply '{}': the path leads outside the root '{root_q}'\n{hint}\
             knot: cannot apply '{root_q}/planted/l': '{root_q}/planted' is a link, and knot apply never makes a link through one\n\
             knot: hint: make '{root_q}/planted' a real directory, or choose another root\n\
             knot: cannot apply '{root_q}/planted/deeper/l': '{root_q}/planted' is a link, and knot apply never makes a link through one\n\
             knot: hint: make '{root_q}/planted' a real directory, or choose another root\n\
             knot: cannot apply '../outside/f': the path leads outside the root '{root_q}'\n{hint}",
            abs_out.display()
        )
    );
    assert_eq!(
        fs::read_dir(env.path("outside")).unwrap().count(),
        0,
        "nothing made outside"
    );
    assert!(env.path("escape").symlink_metadata().is_err());
}

/// Names that are not UTF-8 come as `{"bytes": base64}` and are made byte for byte;
/// hard links are made from another name below the root.
#[test]
#[cfg_attr(target_os = "macos", ignore = "APFS refuses a name that is not UTF-8")]
fn non_utf8_names_and_hard_links() {
    use std::os::unix::ffi::OsStrExt;
    let env = Env::new();
    env.mkdir("r");
    env.file("r/data", "x");
    env.file(
        "m.jsonl",
        "{\"path\":{\"bytes\":\"YmFkLf8tbmFtZQ==\"},\"kind\":\"symlink\",\"target\":{\"bytes\":\"/w==\"}}\n\
         {\"path\":\"second\",\"kind\":\"hardlink\",\"target\":\"data\"}\n",
    );
    run(
        &mut env.knot(["apply", "m.jsonl", "--root", "r"]),
        0,
        "created 'r/bad-\\xff-name' -> '\\xff'\ncreated 'r/second' => 'data'\n",
        "",
    );
    let name = std::ffi::OsStr::from_bytes(b"bad-\xff-name");
    assert_eq!(
        fs::read_link(env.path("r").join(name))
            .unwrap()
            .as_os_str()
            .as_bytes(),
        b"\xff"
    );
    assert_eq!(fs::read_to_string(env.path("r/second")).unwrap(), "x");
    run(
        &mut env.knot(["apply", "m.jsonl", "--root", "r"]),
        0,
        "unchanged 'r/bad-\\xff-name' -> '\\xff'\nunchanged 'r/second' => 'data'\n",
        "",
    );
}

/// Out of file descriptors is said as such, with the fix, never as a tree that "kept
/// changing": under `ulimit -n 12`, a manifest over many directories fails for that
/// reason, and nothing else is claimed.
#[test]
fn running_out_of_file_descriptors_is_named() {
    let env = Env::new();
    let manifest: String = (0..2000)
        .map(|i| {
            format!(
                "{{\"path\": \"d{}/l{i}\", \"kind\": \"symlink\", \"target\": \"t\"}}\n",
                i % 200
            )
        })
        .collect();
    env.file("m.jsonl", &manifest);
    let knot = assert_cmd::cargo::cargo_bin("knot");
    let out = fixture::output(
        assert_cmd::Command::new("bash")
            .args(["-c", "ulimit -n 12 && exec \"$0\" apply m.jsonl --root r"])
            .arg(&knot)
            .current_dir(env.dir.path()),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("too many open files"), "{stderr}");
    assert!(
        stderr.contains("hint: raise the limit on open files (`ulimit -n 4096`, say), or use fewer threads (--threads)"),
        "{stderr}"
    );
    assert!(!stderr.contains("kept changing"), "{stderr}");
}

/// A record's absolute path is taken where it lies below the root, however the root is
/// given (`copy`, `./copy`, or absolute); an empty target is refused for every kind, as
/// the command line refuses one, and nothing is made for it (a junction's was read as the
/// root itself).
#[test]
fn absolute_paths_below_a_relative_root_and_empty_targets() {
    let env = Env::new();
    let copy = env.real().join("copy");
    for root in ["copy", "./copy", copy.to_str().unwrap()] {
        let manifest = format!(
            "{{\"path\": \"{}/a/l\", \"kind\": \"symlink\", \"target\": \"t\"}}\n",
            copy.display()
        );
        env.file("m.jsonl", &manifest);
        let out = fixture::output(&mut env.knot(["apply", "m.jsonl", "--root", root]));
        assert_eq!(out.status.code(), Some(0), "{root}: {out:?}");
        assert_eq!(
            fs::read_link(copy.join("a/l")).unwrap(),
            Path::new("t"),
            "{root}"
        );
        fs::remove_dir_all(&copy).unwrap();
    }
    env.file("f", "x");
    let manifest = "{\"path\": \"s\", \"kind\": \"symlink\", \"target\": \"\"}\n\
                    {\"path\": \"j\", \"kind\": \"junction\", \"target\": \"\"}\n\
                    {\"path\": \"h\", \"kind\": \"hardlink\", \"target\": \"\"}\n";
    env.file("m.jsonl", manifest);
    let out = fixture::output(&mut env.knot(["apply", "m.jsonl", "--root", "r"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    for name in ["s", "j", "h"] {
        let line = format!(
            "knot: cannot apply 'r/{name}': the record has an empty target, which names nothing\n"
        );
        assert!(stderr.contains(&line), "{line} in {stderr}");
    }
    // Every record refused: the root is not made either.
    assert!(!env.path("r").exists());
}

/// A manifest scanned from an absolute path: without --from, one error says why every
/// record is refused, with the fix, and nothing is made (not even the root); with --from
/// the directory scanned, its links (and hard links' targets) are made below the root.
#[test]
fn a_manifest_scanned_from_an_absolute_path_takes_from() {
    let env = Env::new();
    env.mkdir("proj/a");
    env.file("proj/f", "x");
    symlink("../f", env.path("proj/a/l")).unwrap();
    fs::hard_link(env.path("proj/f"), env.path("proj/a/g")).unwrap();
    let proj = env.real().join("proj");
    let manifest = format!(
        "{{\"path\": \"{p}/a/l\", \"kind\": \"symlink\", \"target\": \"../f\"}}\n\
         {{\"path\": \"{p}/f\", \"kind\": \"hardlink\", \"target\": \"{p}/a/g\"}}\n",
        p = proj.display()
    );
    env.file("m.jsonl", &manifest);
    env.mkdir("new/a");
    env.file("new/a/g", "y");
    fs::remove_dir_all(env.path("new")).unwrap();
    let out = fixture::output(&mut env.knot(["apply", "m.jsonl", "--root", "new"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "knot: cannot apply 'm.jsonl': every record's path is absolute and outside the \
             root 'new'\nknot: hint: the manifest was scanned from an absolute path: give \
             --from with the directory that was scanned to make its links below the root \
             (every path is below '{}'), or scan inside the tree: cd tree && knot scan \
             --json .\n",
            proj.display()
        )
    );
    assert!(!env.path("new").exists(), "the root was made");
    // With --from, below the root; the hard link's target is read below it too.
    env.mkdir("new/a");
    env.file("new/a/g", "y");
    let out = fixture::output(&mut env.knot([
        "apply",
        "m.jsonl",
        "--root",
        "new",
        "--from",
        proj.to_str().unwrap(),
    ]));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        fs::read_link(env.path("new/a/l")).unwrap(),
        Path::new("../f")
    );
    assert_eq!(fs::read_to_string(env.path("new/f")).unwrap(), "y");
}

/// A manifest with a UTF-8 byte order mark, or in UTF-16 with its mark (Windows
/// PowerShell 5.1's `>` writes UTF-16LE with CRLF line ends), is read whole: no line is
/// lost.
#[test]
fn a_byte_order_mark_and_utf16_are_read() {
    let env = Env::new();
    let text = "{\"path\": \"a\", \"kind\": \"symlink\", \"target\": \"t\"}\r\n\
                {\"path\": \"b\", \"kind\": \"symlink\", \"target\": \"t\"}\r\n";
    let utf16 =
        |unit: fn(u16) -> [u8; 2]| -> Vec<u8> { text.encode_utf16().flat_map(unit).collect() };
    let forms: [(&str, Vec<u8>); 3] = [
        (
            "utf-8 with a mark",
            [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat(),
        ),
        (
            "utf-16le",
            [vec![0xFF, 0xFE], utf16(u16::to_le_bytes)].concat(),
        ),
        (
            "utf-16be",
            [vec![0xFE, 0xFF], utf16(u16::to_be_bytes)].concat(),
        ),
    ];
    for (form, bytes) in forms {
        fs::write(env.path("m.jsonl"), &bytes).unwrap();
        let out = fixture::output(&mut env.knot(["apply", "m.jsonl", "--root", "r"]));
        assert_eq!(out.status.code(), Some(0), "{form}: {out:?}");
        assert_eq!(env.names_in("r"), ["a", "b"], "{form}");
        fs::remove_dir_all(env.path("r")).unwrap();
    }
    fs::write(env.path("m.jsonl"), [0xFF, 0xFE, b'{']).unwrap();
    let out = fixture::output(&mut env.knot(["apply", "m.jsonl", "--root", "r"]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "knot: cannot read the manifest 'm.jsonl': it is UTF-16 (it starts with a byte order \
         mark) but has an odd length\n"
    );
}

/// apply's messages fit a manifest: a root that is a file is said once, with the fix, not
/// once per record as a bare errno; a target too long for the system is named as such;
/// a record's missing target is checked in the record, read from the root.
#[test]
fn messages_fit_a_manifest() {
    let env = Env::new();
    env.file("rootfile", "");
    let long = "y".repeat(5000);
    let manifest = format!(
        "{{\"path\": \"a\", \"kind\": \"symlink\", \"target\": \"t\"}}\n\
         {{\"path\": \"long\", \"kind\": \"symlink\", \"target\": \"{long}\"}}\n\
         {{\"path\": \"h\", \"kind\": \"hardlink\", \"target\": \"missing\"}}\n"
    );
    env.file("m.jsonl", &manifest);
    let out = fixture::output(&mut env.knot(["apply", "m.jsonl", "--root", "rootfile"]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "knot: cannot apply 'm.jsonl': the root 'rootfile' is a file, not a directory\n\
         knot: hint: give --root a directory, or a path where one can be made\n"
    );
    let out = fixture::output(&mut env.knot(["apply", "m.jsonl", "--root", "r"]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "created 'r/a' -> 't'\n"
    );
    let real = env.real();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "knot: cannot create symlink 'r/long': the target is too long for the system to \
             store (5000 bytes)\n\
             knot: cannot create hard link 'r/h': the target 'r/missing' does not exist \
             (looked for '{}/r/missing')\n\
             knot: hint: check the record's target (a relative target is read from the root, \
             a symlink's from the link's directory), or make the target first\n",
            real.display()
        )
    );
}

/// A manifest is read as a stream, a part at a time: one larger than a part gives every
/// record its line, in order; a line past the limit (an endless `/dev/zero`) stops the
/// reading at once, with its number, after the lines before it are made.
#[test]
fn a_manifest_is_read_as_a_stream_with_a_limit_per_line() {
    let env = Env::new();
    let record = |i: usize| {
        format!(
            "{{\"path\": \"d{}/l{i}\", \"kind\": \"symlink\", \"target\": \"../{}\"}}\n",
            i % 10,
            "t".repeat(200)
        )
    };
    // About 10 MiB: more than one part of 8 MiB.
    let count = 40_000;
    let big: String = (0..count).map(record).collect();
    assert!(big.len() > 9 << 20, "{}", big.len());
    env.file("big.jsonl", &big);
    let out = fixture::output(&mut env.knot(["apply", "big.jsonl", "--root", "r", "-n"]));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let shown = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines.len(), count);
    for i in [0, 1, count / 2, count - 1] {
        assert!(
            lines[i].starts_with(&format!("would create 'r/d{}/l{i}' -> ", i % 10)),
            "{i}: {}",
            lines[i]
        );
    }

    // A manifest whose line LINE is too long: the reading stops there, exit 1.
    let stopped = |manifest: &str, root: &str, line: usize| {
        let out = fixture::output(&mut env.knot(["apply", manifest, "--root", root]));
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!(
                "knot: cannot read '{manifest}' line {line}: it is longer than 1 MiB, which no \
                 record is (is it a manifest?); reading stopped\n"
            )
        );
    };
    let too_long = format!("{}{}\n{}", record(1), "x".repeat(1 << 21), record(2));
    env.file("long.jsonl", &too_long);
    stopped("long.jsonl", "r", 2);
    assert_eq!(env.names_in("r"), ["d1"]);
    assert!(!env.path("r/d2").exists());
    stopped("/dev/zero", "z", 1);
    assert!(!env.path("z").exists());
}

/// A scan's hard-link records name their group's first name (by path) as their target,
/// the same on any number of threads; apply makes the other names from it. So a tree scanned, its
/// first names copied into a new root (as a copy that loses hard links leaves them),
/// applied there and scanned again gives the same links and the same groups, and a second
/// apply changes nothing. A first name that is missing is said as such.
#[test]
fn hard_links_round_trip_through_a_manifest() {
    use std::os::unix::fs::MetadataExt;
    let env = Env::new();
    for dir in ["tree/a", "tree/b/deep", "tree/c"] {
        env.mkdir(dir);
    }
    env.file("tree/a/one", "one");
    fs::hard_link(env.path("tree/a/one"), env.path("tree/b/deep/one-again")).unwrap();
    fs::hard_link(env.path("tree/a/one"), env.path("tree/c/one")).unwrap();
    env.file("tree/c/two", "two");
    fs::hard_link(env.path("tree/c/two"), env.path("tree/b/two")).unwrap();
    env.file("tree/c/single", "single");
    symlink("../a/one", env.path("tree/c/to-one")).unwrap();
    let scan = |dir: &str, threads: &str| {
        let mut scan = fixture::knot();
        scan.current_dir(env.path(dir)).args([
            "scan",
            "--json",
            "--kind",
            "symlink,hardlink",
            "--threads",
            threads,
            "--sort",
            ".",
        ]);
        scan
    };
    let manifest = fixture::output(&mut scan("tree", "1")).stdout;
    assert_eq!(fixture::output(&mut scan("tree", "4")).stdout, manifest);
    let scanned = records(&mut scan("tree", "2"));
    let targets: Vec<(String, String)> = scanned
        .iter()
        .filter(|r| r["kind"] == "hardlink")
        .map(|r| (r["path"].to_string(), r["target"].to_string()))
        .collect();
    let pair = |path: &str, target: &str| (format!("\"{path}\""), format!("\"{target}\""));
    assert_eq!(
        targets,
        [
            pair("./a/one", "./a/one"),
            pair("./b/deep/one-again", "./a/one"),
            pair("./b/two", "./b/two"),
            pair("./c/one", "./a/one"),
            pair("./c/two", "./b/two"),
        ]
    );
    fs::write(env.path("m.jsonl"), &manifest).unwrap();

    // The first names missing: each said, with what to do.
    let out = fixture::output(&mut env.knot(["apply", "m.jsonl", "--root", "bare"]));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "knot: cannot create hard link 'bare/a/one': the target 'bare/a/one' does not exist"
        ) && stderr.contains(
            "knot: hint: it is the first name of its hard-link group (its target is itself), \
             a file, which apply does not make: copy the file there first, then apply again\n"
        ),
        "{stderr}"
    );

    // The first names copied, as a copy that loses hard links leaves them.
    for (path, target) in &targets {
        if path == target {
            let name = path.trim_matches('"').trim_start_matches("./");
            fs::create_dir_all(env.path(&format!("copy/{name}")).parent().unwrap()).unwrap();
            fs::copy(
                env.path(&format!("tree/{name}")),
                env.path(&format!("copy/{name}")),
            )
            .unwrap();
        }
    }
    let out = fixture::output(&mut env.knot(["apply", "m.jsonl", "--root", "copy"]));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // The same records, but for where they resolve (the copy, not the tree).
    let unresolved = |mut records: Vec<Value>| {
        for record in &mut records {
            record["resolved"] = Value::Null;
        }
        records
    };
    assert_eq!(
        unresolved(records(&mut scan("copy", "2"))),
        unresolved(scanned.clone())
    );
    // The same groups: the names of each file, by inode, in both trees.
    let groups = |dir: &str| {
        let mut by_file = std::collections::BTreeMap::<u64, BTreeSet<String>>::new();
        for record in scanned.iter().filter(|r| r["kind"] == "hardlink") {
            let name = record["path"].as_str().unwrap();
            let ino = fs::metadata(env.path(dir).join(name)).unwrap().ino();
            by_file.entry(ino).or_default().insert(name.to_owned());
        }
        by_file.into_values().collect::<BTreeSet<_>>()
    };
    assert_eq!(groups("copy"), groups("tree"));
    assert_eq!(groups("copy").len(), 2);
    let out = fixture::output(&mut env.knot(["apply", "m.jsonl", "--root", "copy"]));
    assert_eq!(out.status.code(), Some(0));
    let report = String::from_utf8(out.stdout).unwrap();
    assert_eq!(report.lines().count(), 6, "{report}");
    assert!(
        report.lines().all(|l| l.starts_with("unchanged ")),
        "{report}"
    );
}
