//! `knot materialize` through the binary, with exact output: the lines, the summary, the
//! JSON records, refusals that let the other paths go on, `--dry-run`, `--recursive`.

use std::fs;
use std::os::unix::fs::{MetadataExt as _, symlink};

use crate::fixture::{Env, run};

/// The summary `knot materialize` ends with on standard error.
fn summary(head: &str, links: u64, bytes: u64, real: u64, failures: u64) -> String {
    let width = [links, bytes, real, failures]
        .iter()
        .map(|n| n.to_string().len())
        .max()
        .unwrap();
    format!(
        "{head}\n  {links:>width$}  links\n  {bytes:>width$}  bytes\n  {real:>width$}  already \
         real\n  {failures:>width$}  failures\n"
    )
}

/// A file link, a directory link with an inner link inside the directory, a hard link, a
/// plain file.
fn tree() -> Env {
    let env = Env::new();
    env.file("data", "data");
    env.mkdir("lib/sub");
    env.file("lib/x", "x");
    symlink(env.real().join("lib/x"), env.path("lib/ax")).unwrap();
    symlink("data", env.path("file")).unwrap();
    symlink(env.real().join("lib"), env.path("dir")).unwrap();
    env.file("h1", "hh");
    fs::hard_link(env.path("h1"), env.path("h2")).unwrap();
    env
}

#[test]
fn materializes_each_link_and_sums_up() {
    let env = tree();
    let real = env.real();
    let ino = fs::metadata(env.path("h1")).unwrap().ino();
    run(
        &mut env.knot(["materialize", "file", "dir", "h2", "data"]),
        0,
        &format!(
            "materialized 'file': a copy of the file '{}'\n\
             materialized 'dir': a copy of the directory '{}'\n\
             materialized 'h2': a file of its own (it had 2 names)\n\
             already real 'data'\n",
            real.join("data").display(),
            real.join("lib").display(),
        ),
        &summary("materialized:", 3, 4 + 1 + 2, 1, 0),
    );
    assert_eq!(fs::read_to_string(env.path("file")).unwrap(), "data");
    assert!(fs::symlink_metadata(env.path("file")).unwrap().is_file());
    assert!(fs::symlink_metadata(env.path("dir")).unwrap().is_dir());
    assert_eq!(
        fs::read_link(env.path("dir/ax")).unwrap(),
        real.join("dir/x")
    );
    assert_eq!(fs::metadata(env.path("h1")).unwrap().ino(), ino);
    assert_ne!(fs::metadata(env.path("h2")).unwrap().ino(), ino);
    assert_eq!(fs::read_to_string(env.path("h2")).unwrap(), "hh");
    assert_eq!(env.names(), ["data", "dir", "file", "h1", "h2", "lib"]);
}

/// A dangling link is refused with the reason and its fix; the other paths go on, and
/// knot exits 1 at the end.
#[test]
fn a_dangling_link_fails_and_the_rest_goes_on() {
    let env = tree();
    symlink("nosuch", env.path("gone")).unwrap();
    run(
        &mut env.knot(["materialize", "gone", "file"]),
        1,
        &format!(
            "materialized 'file': a copy of the file '{}'\n",
            env.real().join("data").display()
        ),
        &format!(
            "knot: cannot materialize 'gone': the target 'nosuch' does not exist\n\
             knot: hint: check the target path (a relative target is read from the link's \
             directory), or create the target first\n{}",
            summary("materialized:", 1, 4, 0, 1)
        ),
    );
    assert_eq!(
        fs::read_link(env.path("gone")).unwrap(),
        std::path::Path::new("nosuch")
    );
}

#[test]
fn json_has_one_record_per_path() {
    let env = tree();
    symlink("nosuch", env.path("gone")).unwrap();
    let out = crate::fixture::output(&mut env.knot([
        "materialize",
        "--json",
        "-q",
        "file",
        "gone",
        "data",
    ]));
    assert_eq!(out.status.code(), Some(1));
    let all: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0]["path"], "file");
    assert_eq!(all[0]["kind"], "symlink");
    assert_eq!(all[0]["target"], "data");
    assert_eq!(all[0]["action"], "materialized");
    assert_eq!(all[0]["bytes"], 4);
    assert_eq!(all[0]["source"], env.real().join("data").to_str().unwrap());
    assert_eq!(all[0]["error"], serde_json::Value::Null);
    assert_eq!(all[1]["path"], "gone");
    assert_eq!(all[1]["action"], "failed");
    assert!(
        all[1]["error"].as_str().unwrap().contains("does not exist"),
        "{}",
        all[1]
    );
    assert_eq!(all[2]["action"], "already-real");
}

#[test]
fn a_dry_run_changes_nothing() {
    let env = tree();
    run(
        &mut env.knot(["materialize", "-n", "file", "-r", "."]),
        0,
        &format!(
            "would materialize 'file': a copy of the file '{real}'\n\
             already real '.'\n\
             would materialize './dir': a copy of the directory '{lib}'\n\
             would materialize './file': a copy of the file '{real}'\n\
             would materialize './h1': a file of its own (it had 2 names)\n\
             would materialize './h2': a file of its own (it had 2 names)\n\
             would materialize './lib/ax': a copy of the file '{x}'\n",
            real = env.real().join("data").display(),
            lib = env.real().join("lib").display(),
            x = env.real().join("lib/x").display(),
        ),
        &summary(
            "would materialize (dry run: nothing was changed):",
            6,
            4 + 4 + 2 + 2 + 1,
            1,
            0,
        ),
    );
    assert!(fs::symlink_metadata(env.path("file")).unwrap().is_symlink());
    assert!(fs::symlink_metadata(env.path("dir")).unwrap().is_symlink());
    assert_eq!(fs::metadata(env.path("h1")).unwrap().nlink(), 2);
}

/// `--recursive` leaves no link below the directory but the ones refused.
#[test]
fn recursive_leaves_no_link() {
    let env = tree();
    env.mkdir("tree");
    symlink(env.real().join("lib"), env.path("tree/lib")).unwrap();
    symlink("../data", env.path("tree/data")).unwrap();
    let out = crate::fixture::output(&mut env.knot(["materialize", "-q", "-r", "tree"]));
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("materialized 'tree/lib/ax': a copy of the file"),
        "{stdout}"
    );
    for path in ["tree/lib", "tree/lib/ax", "tree/data"] {
        assert!(
            !fs::symlink_metadata(env.path(path)).unwrap().is_symlink(),
            "{path}"
        );
    }
    assert_eq!(fs::read_to_string(env.path("tree/lib/ax")).unwrap(), "x");
    // The directory it was copied from still has its link.
    assert!(
        fs::symlink_metadata(env.path("lib/ax"))
            .unwrap()
            .is_symlink()
    );
}

/// A loop of links, a link inside its own target and a link to a special file are refused,
/// each with its reason, and nothing changes.
#[test]
fn loops_and_special_files_are_refused_with_the_reason() {
    let env = Env::new();
    symlink("b", env.path("a")).unwrap();
    symlink("a", env.path("b")).unwrap();
    env.mkdir("d/e");
    symlink("..", env.path("d/e/up")).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        env.path("fifo"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    symlink("fifo", env.path("f")).unwrap();
    run(
        &mut env.knot(["materialize", "-q", "a", "d/e/up", "f"]),
        1,
        "",
        &format!(
            "knot: cannot materialize 'a': it leads round a loop of links (or through too many \
             of them): there is nothing to copy\n\
             knot: cannot materialize 'd/e/up': it leads to '{}', which holds it or was copied \
             to make the directory it is in: its copy would hold itself\n\
             knot: cannot materialize 'f': it leads to a special file (a FIFO, a socket or a \
             device), which knot does not copy\n",
            env.real().join("d").display()
        ),
    );
    assert_eq!(env.names(), ["a", "b", "d", "f", "fifo"]);
    assert!(
        fs::symlink_metadata(env.path("d/e/up"))
            .unwrap()
            .is_symlink()
    );
}

/// `dir/` names what the link `dir` leads to: refused with the fix, nothing changed.
#[test]
fn a_trailing_slash_is_refused_with_the_fix() {
    let env = tree();
    run(
        &mut env.knot(["materialize", "-q", "dir/"]),
        1,
        "",
        "knot: cannot materialize 'dir/': 'dir' is a link, and the trailing slash leads \
         through it to what it points at\n\
         knot: hint: to materialize the link itself, leave off the slash: knot materialize \
         dir\n",
    );
    assert!(fs::symlink_metadata(env.path("dir")).unwrap().is_symlink());
}
