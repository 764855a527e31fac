//! `knot retarget` and `knot convert` through the binary: exact output, exit codes, and
//! what is left on disk.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::Path;

use crate::fixture::{self, Env, run};

#[test]
fn retarget_reports_the_old_and_the_new_target() {
    let env = Env::new();
    env.mkdir("a");
    env.mkdir("b");
    symlink("a", env.path("cur")).unwrap();
    run(
        &mut env.knot(["retarget", "cur", "b"]),
        0,
        "replaced 'cur': 'a' -> 'b'\n",
        "",
    );
    assert_eq!(fs::read_link(env.path("cur")).unwrap(), Path::new("b"));
    run(
        &mut env.knot(["retarget", "--dry-run", "cur", "a"]),
        0,
        "would replace 'cur': 'b' -> 'a'\n",
        "",
    );
    assert_eq!(fs::read_link(env.path("cur")).unwrap(), Path::new("b"));
    run(
        &mut env.knot(["retarget", "cur", "b"]),
        0,
        "unchanged 'cur': 'b'\n",
        "",
    );
    assert_eq!(env.names(), ["a", "b", "cur"]);
}

#[test]
fn retarget_json_is_a_change_record() {
    let env = Env::new();
    env.mkdir("a");
    symlink("old", env.path("l")).unwrap();
    let real = env.real();
    let expected = format!(
        concat!(
            r#"{{"path":"l","kind":"symlink","dir":true,"target":"a","relative":true,"resolved":"{0}/a","status":"ok","tag":null,"substitute_name":null,"print_name":null,"nlink":1,"action":"replaced","old_target":"old","dry_run":false,"error":null}}"#,
            "\n"
        ),
        real.display()
    );
    run(
        &mut env.knot(["retarget", "--json", "l", "a"]),
        0,
        &expected,
        "",
    );
    // A target that is not UTF-8 is carried exactly, as the record carries names.
    let mut cmd = env.knot(["retarget", "--json", "--dry-run", "l"]);
    cmd.arg(OsStr::from_bytes(b"x\xff"));
    let out = fixture::record(&mut cmd);
    assert_eq!(out["target"]["bytes"], "eP8=");
    assert_eq!(out["old_target"], "a");
    assert_eq!(out["action"], "replaced");
    assert_eq!(out["dry_run"], true);
    assert_eq!(out["status"], "dangling");
}

#[test]
fn retarget_refuses_what_is_not_a_link() {
    let env = Env::new();
    env.file("f", "data");
    run(
        &mut env.knot(["retarget", "f", "x"]),
        1,
        "",
        "knot: cannot retarget 'f': it is a regular file, not a link\n\
         knot: hint: knot retarget changes symlinks and junctions only\n",
    );
    run(
        &mut env.knot(["retarget", "missing", "x"]),
        1,
        "",
        "knot: cannot retarget 'missing': it does not exist\nknot: hint: check the path: there is nothing called 'missing' in '.'\n",
    );
    assert_eq!(fs::read_to_string(env.path("f")).unwrap(), "data");
    assert_eq!(env.names(), ["f"]);
}

#[test]
fn convert_between_relative_and_absolute() {
    let env = Env::new();
    env.mkdir("a/sub");
    let real = env.real();
    symlink(real.join("a/sub"), env.path("a/abs")).unwrap();
    symlink("../a", env.path("a/rel")).unwrap();
    run(
        &mut env.knot(["convert", "--relative", "a/abs", "a/rel"]),
        0,
        &format!(
            "replaced 'a/abs': '{}/a/sub' -> 'sub'\nunchanged 'a/rel': '../a'\n",
            real.display()
        ),
        "",
    );
    run(
        &mut env.knot(["convert", "--absolute", "--dry-run", "a/abs"]),
        0,
        &format!(
            "would replace 'a/abs': 'sub' -> '{}/a/sub'\n",
            real.display()
        ),
        "",
    );
    assert_eq!(fs::read_link(env.path("a/abs")).unwrap(), Path::new("sub"));
}

#[test]
fn convert_recursive_converts_every_symlink_below_in_path_order() {
    let env = Env::new();
    env.mkdir("t/b/c");
    env.file("t/f", "f");
    let real = env.real();
    symlink(real.join("t/f"), env.path("t/b/c/l1")).unwrap();
    symlink(real.join("t/b"), env.path("t/a")).unwrap();
    symlink("gone", env.path("t/b/dangling")).unwrap();
    run(
        &mut env.knot(["convert", "--relative", "--recursive", "t"]),
        0,
        &format!(
            "replaced 't/a': '{0}/t/b' -> 'b'\n\
             replaced 't/b/c/l1': '{0}/t/f' -> '../../f'\n\
             unchanged 't/b/dangling': 'gone'\n",
            real.display()
        ),
        "",
    );
    assert_eq!(fs::read_to_string(env.path("t/b/c/l1")).unwrap(), "f");
    run(
        &mut env.knot(["convert", "--relative", "t"]),
        1,
        "",
        "knot: cannot convert 't': it is a directory, not a link\n\
         knot: hint: to convert the links below a directory, add --recursive\n",
    );
}

#[test]
fn convert_to_junction_where_there_are_none_says_so() {
    let env = Env::new();
    env.mkdir("d");
    symlink("d", env.path("l")).unwrap();
    run(
        &mut env.knot(["convert", "--to-junction", "l"]),
        1,
        "",
        "knot: cannot convert 'l': this file system has no junctions (they are NTFS's: \
         Windows, or an NTFS volume mounted with ntfs-3g)\n\
         knot: hint: keep the symlink: it is what stands in for a junction here\n",
    );
    run(
        &mut env.knot(["convert", "--to-symlink", "l"]),
        0,
        "unchanged 'l': 'd'\n",
        "",
    );
    assert_eq!(fs::read_link(env.path("l")).unwrap(), Path::new("d"));
}

#[test]
fn convert_needs_exactly_one_form() {
    let env = Env::new();
    let out = fixture::output(&mut env.knot(["convert", "l"]));
    assert_eq!(out.status.code(), Some(2));
    let out = fixture::output(&mut env.knot(["convert", "--relative", "--absolute", "l"]));
    assert_eq!(out.status.code(), Some(2));
}

/// One failure does not stop the others; the exit code says it happened.
#[test]
fn convert_goes_on_after_a_failure() {
    let env = Env::new();
    env.file("f", "x");
    symlink("/nowhere", env.path("l")).unwrap();
    let up = "../".repeat(env.real().components().count() - 1);
    run(
        &mut env.knot(["convert", "--relative", "f", "l"]),
        1,
        &format!("replaced 'l': '/nowhere' -> '{up}nowhere'\n"),
        "knot: cannot convert 'f': it is a regular file, not a link\n\
         knot: hint: knot convert changes symlinks and junctions only\n",
    );
}

/// `l/` names what the link `l` points at: retarget and convert refuse it for the slash,
/// as rm does, with the command that names the link itself, and touch nothing (convert's
/// hint is never `--recursive`, which would convert the links inside the target).
#[test]
fn a_trailing_slash_is_refused_with_the_command_that_names_the_link() {
    let env = Env::new();
    env.mkdir("d");
    std::os::unix::fs::symlink("d", env.path("l")).unwrap();
    std::os::unix::fs::symlink("x", env.path("d/inner")).unwrap();
    for (args, verb, fixed) in [
        (
            &["retarget", "l/", "e"][..],
            "retarget",
            "knot retarget l e",
        ),
        (
            &["convert", "--absolute", "l/"],
            "convert",
            "knot convert --absolute l",
        ),
    ] {
        let out = fixture::output(&mut env.knot(args));
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!(
                "knot: cannot {verb} 'l/': 'l' is a link, and the trailing slash leads through \
                 it to what it points at\nknot: hint: to {verb} the link itself, leave off the \
                 slash: {fixed}\n"
            ),
            "{args:?}"
        );
        assert_eq!(fs::read_link(env.path("l")).unwrap(), Path::new("d"));
        assert_eq!(fs::read_link(env.path("d/inner")).unwrap(), Path::new("x"));
    }
}

/// A link that folding would make lead somewhere is left as it is, and the line says why.
#[test]
fn convert_keeps_a_link_that_folding_would_make_work() {
    let env = Env::new();
    env.file("f", "x");
    std::os::unix::fs::symlink("f/..", env.path("l")).unwrap();
    let out = fixture::output(&mut env.knot(["convert", "--absolute", "l"]));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "unchanged 'l': 'f/..'  [kept: '{}' leads to no directory, so the link fails; \
             written the other way it would lead somewhere]\n",
            env.real().join("f").display()
        )
    );
    assert_eq!(fs::read_link(env.path("l")).unwrap(), Path::new("f/.."));
}
