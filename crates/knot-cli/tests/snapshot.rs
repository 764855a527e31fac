//! `knot snapshot` through the binary, with exact output: the lines of what is not a plain
//! copy, the summary with its unchanged files, the JSON records, `--dry-run`, refusals.

use std::fs;
use std::os::unix::fs::MetadataExt as _;

use crate::copy::table;
use crate::fixture::{self, Env, records, run};

/// A source, its copy `old`, then a change: `src/same` is unchanged, `src/changed` is not.
fn tree() -> Env {
    let env = Env::new();
    env.mkdir("src");
    env.file("src/same", "same");
    env.file("src/changed", "old");
    run(&mut env.knot(["copy", "-q", "src", "old"]), 0, "", "");
    fs::write(env.path("src/changed"), "new!").unwrap();
    env
}

#[test]
fn links_unchanged_files_and_sums_up() {
    let env = tree();
    run(
        &mut env.knot(["snapshot", "src", "new", "--previous", "old"]),
        0,
        "linked 'new/same' => 'old/same'\n",
        &table(
            &[1, 1, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            "copied:",
            "unchanged (linked)",
        ),
    );
    let ino = |path: &str| fs::metadata(env.path(path)).unwrap().ino();
    assert_eq!(ino("new/same"), ino("old/same"));
    assert_ne!(ino("new/changed"), ino("old/changed"));
    assert_eq!(fs::read_to_string(env.path("new/changed")).unwrap(), "new!");
    assert_eq!(fs::read_to_string(env.path("old/changed")).unwrap(), "old");
}

/// `-v` lists the plain copies too, as `knot copy -v` does (the report is copy's); standard
/// error, a pipe here, has the summary and no progress line.
#[test]
fn verbose_lists_the_plain_copies_too() {
    let env = tree();
    run(
        &mut env.knot(["snapshot", "-v", "src", "new", "--previous", "old"]),
        0,
        "copied 'src'\n\
         copied 'src/changed'\n\
         linked 'new/same' => 'old/same'\n",
        &table(
            &[1, 1, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            "copied:",
            "unchanged (linked)",
        ),
    );
}

#[test]
fn json_says_linked_with_the_previous_file() {
    let env = tree();
    let all = records(&mut env.knot([
        "snapshot",
        "--json",
        "-q",
        "src",
        "new",
        "--previous",
        "old",
    ]));
    let same = all.iter().find(|r| r["path"] == "src/same").unwrap();
    assert_eq!(same["action"], "linked");
    assert_eq!(same["new_target"], "old/same");
    assert_eq!(same["copy"], "new/same");
    let changed = all.iter().find(|r| r["path"] == "src/changed").unwrap();
    assert_eq!(changed["action"], "copied");
}

#[test]
fn dry_run_makes_nothing() {
    let env = tree();
    let out = fixture::output(&mut env.knot(["snapshot", "-n", "src", "new", "--previous", "old"]));
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "linked 'new/same' => 'old/same'\n"
    );
    assert_eq!(env.names(), ["old", "src"]);
}

#[test]
fn a_previous_copy_that_is_no_directory_is_refused() {
    let env = tree();
    run(
        &mut env.knot(["snapshot", "src", "new", "--previous", "src/same"]),
        1,
        "",
        "knot: cannot copy 'src/same': it is not a directory\n",
    );
    let out = fixture::output(&mut env.knot(["snapshot", "src", "new"]));
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--previous <OLD>"));
    assert_eq!(env.names(), ["old", "src"]);
}
