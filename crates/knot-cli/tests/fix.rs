//! `knot fix` through the binary, with exact output: `--replace` by whole path
//! names, the first match winning, `--dry-run` changing nothing, the JSON report, and
//! `--broken --delete` removing dangling links and nothing else.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;

use crate::fixture::{self, Env, records, run};

fn target(env: &Env, name: &str) -> String {
    fs::read_link(env.path(name))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// A tree with links on both sides of every boundary `/data` has.
fn tree() -> Env {
    let env = Env::new();
    env.mkdir("t/sub");
    env.mkdir("srv/x");
    for (link, to) in [
        ("t/a", "/data/x"),
        ("t/b", "/database/x"),
        ("t/c", "/data"),
        ("t/d", "/data/"),
        ("t/sub/e", "/data/../etc"),
        ("t/f", "../data/x"),
        ("t/g", "/dat"),
        ("t/h", "/other/data/x"),
    ] {
        symlink(to, env.path(link)).unwrap();
    }
    // A regular file and a directory whose names look like links are never touched.
    env.file("t/a.lnk", "data");
    env
}

#[test]
fn replace_by_whole_names_keeps_the_rest_as_stored() {
    let env = tree();
    let srv = env.real().join("srv");
    let srv = srv.to_str().unwrap();
    run(
        &mut env.knot(["fix", "t", "--replace", &format!("/data={srv}")]),
        0,
        &format!(
            "replaced 't/a': '/data/x' -> '{srv}/x'\n\
             replaced 't/c': '/data' -> '{srv}'\n\
             replaced 't/d': '/data/' -> '{srv}/'\n\
             replaced 't/sub/e': '/data/../etc' -> '{srv}/../etc'  [dangling]\n"
        ),
        "",
    );
    assert_eq!(target(&env, "t/a"), format!("{srv}/x"));
    assert_eq!(target(&env, "t/sub/e"), format!("{srv}/../etc"));
    for (link, unchanged) in [
        ("t/b", "/database/x"),
        ("t/f", "../data/x"),
        ("t/g", "/dat"),
        ("t/h", "/other/data/x"),
    ] {
        assert_eq!(target(&env, link), unchanged, "{link}");
    }
    assert_eq!(fs::read_to_string(env.path("t/a.lnk")).unwrap(), "data");
    // Nothing matches any more: nothing to say, nothing done.
    run(
        &mut env.knot(["fix", "t", "--replace", &format!("/data={srv}")]),
        0,
        "",
        "",
    );
}

#[test]
fn links_that_would_still_dangle_are_marked() {
    let env = tree();
    run(
        &mut env.knot([
            "fix",
            "t",
            "--replace",
            "/data/=/nowhere/",
            "--replace",
            "/dat=/x",
        ]),
        0,
        "replaced 't/a': '/data/x' -> '/nowhere/x'  [dangling]\n\
         replaced 't/c': '/data' -> '/nowhere'  [dangling]\n\
         replaced 't/d': '/data/' -> '/nowhere/'  [dangling]\n\
         replaced 't/g': '/dat' -> '/x'  [dangling]\n\
         replaced 't/sub/e': '/data/../etc' -> '/nowhere/../etc'  [dangling]\n",
        "",
    );
}

#[test]
fn the_first_matching_replace_wins_and_relative_prefixes_work() {
    let env = tree();
    run(
        &mut env.knot([
            "fix",
            "t",
            "--replace",
            "../data/x=../srv/x",
            "--replace",
            "../data=../wrong",
            "--replace",
            "/data/x=/first",
            "--replace",
            "/data=/second",
        ]),
        0,
        "replaced 't/a': '/data/x' -> '/first'  [dangling]\n\
         replaced 't/c': '/data' -> '/second'  [dangling]\n\
         replaced 't/d': '/data/' -> '/second/'  [dangling]\n\
         replaced 't/f': '../data/x' -> '../srv/x'\n\
         replaced 't/sub/e': '/data/../etc' -> '/second/../etc'  [dangling]\n",
        "",
    );
    assert_eq!(target(&env, "t/f"), "../srv/x");
}

#[test]
fn dry_run_says_what_and_changes_nothing() {
    let env = tree();
    run(
        &mut env.knot(["fix", "t", "--dry-run", "--replace", "../data=../srv"]),
        0,
        "would replace 't/f': '../data/x' -> '../srv/x'\n",
        "",
    );
    assert_eq!(target(&env, "t/f"), "../data/x");
    let out = records(&mut env.knot(["fix", "t", "-n", "--json", "--replace", "/data/x=/y"]));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0]["path"], "t/a");
    assert_eq!(out[0]["target"], "/y");
    assert_eq!(out[0]["old_target"], "/data/x");
    assert_eq!(out[0]["action"], "replaced");
    assert_eq!(out[0]["dry_run"], true);
    assert_eq!(out[0]["status"], "dangling");
    assert_eq!(target(&env, "t/a"), "/data/x");
}

#[test]
fn json_records_are_the_link_after_and_what_was_done() {
    let env = tree();
    let out = records(&mut env.knot(["fix", "t", "--json", "--replace", "../data=../srv"]));
    assert_eq!(out.len(), 1, "{out:?}");
    let real = env.real();
    assert_eq!(
        out[0],
        serde_json::json!({
            "path": "t/f", "kind": "symlink", "dir": true, "target": "../srv/x",
            "relative": true, "resolved": real.join("srv/x").to_str().unwrap(),
            "status": "ok", "tag": null, "substitute_name": null, "print_name": null,
            "nlink": 1, "action": "replaced", "old_target": "../data/x", "dry_run": false,
            "error": null
        })
    );
}

#[test]
#[cfg_attr(target_os = "macos", ignore = "APFS refuses a name that is not UTF-8")]
fn names_and_targets_that_are_not_utf8_compare_by_bytes() {
    let env = Env::new();
    env.mkdir("t");
    let name = env.path("t").join(OsStr::from_bytes(b"l\xff"));
    symlink(OsStr::from_bytes(b"/d\xfe/x\x80"), &name).unwrap();
    symlink(OsStr::from_bytes(b"/d\xfd/x"), env.path("t/other")).unwrap();
    let mut cmd = env.knot(["fix", "t", "--json"]);
    cmd.arg("--replace")
        .arg(OsStr::from_bytes(b"/d\xfe=/n\xfc"));
    let out = records(&mut cmd);
    assert_eq!(out.len(), 1, "{out:?}");
    // base64 of b"t/l\xff", b"/n\xfc/x\x80" and b"/d\xfe/x\x80".
    assert_eq!(out[0]["path"], serde_json::json!({"bytes": "dC9s/w=="}));
    assert_eq!(out[0]["target"], serde_json::json!({"bytes": "L278L3iA"}));
    assert_eq!(
        out[0]["old_target"],
        serde_json::json!({"bytes": "L2T+L3iA"})
    );
    assert_eq!(
        fs::read_link(&name).unwrap().as_os_str().as_bytes(),
        b"/n\xfc/x\x80"
    );
    assert_eq!(target(&env, "t/other"), "/d\u{fffd}/x");
}

#[test]
fn broken_delete_removes_dangling_links_only() {
    let env = Env::new();
    env.mkdir("t/real");
    env.file("t/real/canary", "alive");
    env.file("t/gone.lnk", "a regular file named like a link");
    symlink("nowhere", env.path("t/gone")).unwrap();
    symlink("spin", env.path("t/spin")).unwrap();
    symlink("real", env.path("t/ok")).unwrap();
    // A directory symlink into a tree of dangling links is not followed.
    env.mkdir("outside");
    symlink("missing", env.path("outside/dangles")).unwrap();
    symlink("../outside", env.path("t/dirlink")).unwrap();
    run(
        &mut env.knot(["fix", "t", "--broken", "--delete", "--dry-run"]),
        0,
        "would delete 't/gone' -> 'nowhere'\nwould delete 't/spin' -> 'spin'\n",
        "",
    );
    assert!(env.path("t/gone").symlink_metadata().is_ok());
    run(
        &mut env.knot(["fix", "t", "--broken", "--delete"]),
        0,
        "deleted 't/gone' -> 'nowhere'\ndeleted 't/spin' -> 'spin'\n",
        "",
    );
    let names = env.names_in("t");
    assert_eq!(names, ["dirlink", "gone.lnk", "ok", "real"]);
    assert!(env.path("outside/dangles").symlink_metadata().is_ok());
    assert_eq!(
        fs::read_to_string(env.path("t/real/canary")).unwrap(),
        "alive"
    );
    let out = records(&mut env.knot(["fix", "t", "--broken", "--delete", "--json"]));
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn usage_errors_exit_2() {
    let env = tree();
    for args in [
        &["fix", "t"][..],
        &["fix", "t", "--broken"],
        &["fix", "t", "--delete"],
        &["fix", "t", "--replace", "=/x"],
        &["fix", "t", "--replace", "/x="],
        &["fix", "t", "--replace", "/x"],
        &["fix", "t", "--broken", "--delete", "--replace", "/a=/b"],
    ] {
        let out = fixture::output(&mut env.knot(args));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    run(
        &mut env.knot(["fix", "t", "--replace", "/x"]),
        2,
        "",
        "error: invalid value '/x' for '--replace <OLD=NEW>': '/x' is not OLD=NEW (no '=')\n\n\
         For more information, try '--help'.\n",
    );
    assert_eq!(target(&env, "t/a"), "/data/x");
}

#[test]
fn failures_are_printed_the_walk_goes_on_and_exit_1() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.mkdir("t/open");
    env.mkdir("t/locked");
    symlink("/data/a", env.path("t/fails")).unwrap();
    symlink("/data/b", env.path("t/open/works")).unwrap();
    symlink("/data/c", env.path("t/locked/hidden")).unwrap();
    let mode = |dir: &str, mode| {
        fs::set_permissions(env.path(dir), fs::Permissions::from_mode(mode)).unwrap()
    };
    // Run as nobody: `t` can be read but not written, `t/open` written, `t/locked` not read.
    mode("", 0o755);
    mode("t", 0o755);
    mode("t/open", 0o777);
    mode("t/locked", 0o000);
    let out = fixture::as_nobody(&env, &["fix", "t", "--replace", "/data=/srv"]);
    mode("t/locked", 0o755);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "replaced 't/open/works': '/data/b' -> '/srv/b'  [dangling]\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "knot: cannot scan 't/locked': Permission denied (os error 13)\n\
         knot: cannot retarget 't/fails': this user may not change the directory 't' \
         (permission denied)\n\
         knot: hint: choose a directory this user may write to, or get write permission on \
         't' (its owner, or root, can give it)\n"
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(target(&env, "t/fails"), "/data/a");
    assert_eq!(target(&env, "t/open/works"), "/srv/b");
}

/// A run that matched no link says so on a terminal (run under `script`, util-linux, for
/// one), and prints nothing into a pipe or with --json: there is nothing to report.
#[test]
#[cfg(target_os = "linux")]
fn a_run_that_matched_nothing_says_so_on_a_terminal() {
    let env = Env::new();
    env.mkdir("tree");
    // A link that works, and whose target starts with no OLD given.
    std::os::unix::fs::symlink("/", env.path("tree/a")).unwrap();
    let knot = assert_cmd::cargo::cargo_bin("knot");
    for (args, note) in [
        (
            "fix tree --replace /nomatch=/y --replace /other=/z",
            "knot: note: no link below 'tree' has a target that starts with '/nomatch' or \
             '/other': nothing to change\r\n",
        ),
        (
            "fix tree --broken --delete",
            "knot: note: no link below 'tree' dangles: nothing to delete\r\n",
        ),
    ] {
        let line = format!("'{}' {args}", knot.display());
        let out = fixture::output(
            assert_cmd::Command::new("script")
                .args(["-qec", &line, "/dev/null"])
                .current_dir(env.dir.path()),
        );
        assert_eq!(out.status.code(), Some(0), "{args}: {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), note, "{args}");
        let argv: Vec<&str> = args.split(' ').collect();
        for json in [false, true] {
            let mut cmd = env.knot(&argv);
            if json {
                cmd.arg("--json");
            }
            let out = fixture::output(&mut cmd);
            assert_eq!(out.status.code(), Some(0), "{args}");
            assert!(
                out.stdout.is_empty() && out.stderr.is_empty(),
                "{args}: {out:?}"
            );
        }
    }
    assert_eq!(
        fs::read_link(env.path("tree/a")).unwrap(),
        std::path::Path::new("/")
    );
}
