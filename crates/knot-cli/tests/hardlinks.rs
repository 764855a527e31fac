//! `knot hardlinks` through the binary, with exact output: every name of a
//! file inside DIR, names outside it, the same names as `find -samefile` on a mktree.py
//! tree, non-UTF-8 names, directories and symlinks refused or handled, and `--groups`
//! with saturated and unsaturated groups.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::fixture::{Env, mktree, output, records, run};

/// `d/a` = `d/sub/b` = `o/c` (three names, one outside `d`), `d/one` (one name),
/// `d/x` = `d/y` (two names, both inside `d`).
fn tree() -> Env {
    let env = Env::new();
    env.mkdir("d/sub");
    env.mkdir("o");
    env.file("d/a", "hello");
    fs::hard_link(env.path("d/a"), env.path("d/sub/b")).unwrap();
    fs::hard_link(env.path("d/a"), env.path("o/c")).unwrap();
    env.file("d/one", "1");
    env.file("d/x", "twelve bytes");
    fs::hard_link(env.path("d/x"), env.path("d/y")).unwrap();
    env
}

#[test]
fn every_name_inside_dir_one_per_line() {
    let env = tree();
    run(
        &mut env.knot(["hardlinks", "d/x", "--within", "d"]),
        0,
        "d/x\nd/y\n",
        "",
    );
    run(
        &mut env.knot(["hardlinks", "d/one", "--within", "."]),
        0,
        "./d/one\n",
        "",
    );
}

#[test]
fn names_outside_dir_are_a_note_not_a_failure() {
    let env = tree();
    run(
        &mut env.knot(["hardlinks", "d/a", "--within", "d"]),
        0,
        "d/a\nd/sub/b\n",
        "knot: note: 'd/a' has 3 names; 1 name is outside 'd'\n",
    );
    run(
        &mut env.knot(["hardlinks", "o/c", "--within", "o"]),
        0,
        "o/c\n",
        "knot: note: 'o/c' has 3 names; 2 names are outside 'o'\n",
    );
    let found = records(&mut env.knot(["hardlinks", "d/a", "--within", "d", "--json", "-q"]));
    assert_eq!(
        found,
        [
            serde_json::json!({"path": "d/a", "nlink": 3, "names": ["d/a", "d/sub/b"], "complete": false})
        ]
    );
    let found = records(&mut env.knot(["hardlinks", "d/a", "--within", ".", "--json"]));
    assert_eq!(
        found,
        [
            serde_json::json!({"path": "d/a", "nlink": 3, "names": ["./d/a", "./d/sub/b", "./o/c"], "complete": true})
        ]
    );
}

#[test]
fn several_files_get_headers_and_nul_lists_names() {
    let env = tree();
    run(
        &mut env.knot(["hardlinks", "d/x", "d/one", "--within", "d"]),
        0,
        "d/x:\nd/x\nd/y\n\nd/one:\nd/one\n",
        "",
    );
    run(
        &mut env.knot(["hardlinks", "-0", "d/x", "--within", "d"]),
        0,
        "d/x\0d/y\0",
        "",
    );
}

#[test]
fn the_default_dir_is_the_root_of_the_file_system_with_a_note() {
    let env = tree();
    let out = output(&mut env.knot(["hardlinks", "d/x"]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("knot: note: looked for the names of 'd/x' in '")
            && stderr.ends_with("', the root of its file system (--within DIR looks elsewhere)\n"),
        "{stderr}"
    );
    let real = env.real();
    let names: BTreeSet<_> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| fs::canonicalize(l).unwrap())
        .collect();
    assert_eq!(names, BTreeSet::from([real.join("d/x"), real.join("d/y")]));
}

#[test]
fn directories_and_one_name_symlinks_are_refused_with_the_fix() {
    let env = tree();
    std::os::unix::fs::symlink("x", env.path("d/s")).unwrap();
    run(
        &mut env.knot(["hardlinks", "d"]),
        1,
        "",
        "knot: cannot list the names of 'd': it is a directory; a directory has no other \
         names (hard links are for files)\n\
         knot: hint: name a file; to see a directory's hard-link groups: `knot hardlinks \
         --groups DIR`\n",
    );
    run(
        &mut env.knot(["hardlinks", "d/s", "--within", "d"]),
        1,
        "",
        &format!(
            "knot: cannot list the names of 'd/s': it is a symlink with no other name, and \
             knot does not follow it\n\
             knot: hint: for the names of what it leads to: knot hardlinks {} --within d\n",
            env.real().join("d/x").display()
        ),
    );
    // A symlink with two names (Linux allows it): its own names, with a note.
    std::os::unix::fs::symlink("x", env.path("d/s2")).unwrap();
    rustix::fs::linkat(
        rustix::fs::CWD,
        env.path("d/s2"),
        rustix::fs::CWD,
        env.path("d/sub/s3"),
        rustix::fs::AtFlags::empty(),
    )
    .unwrap();
    run(
        &mut env.knot(["hardlinks", "d/s2", "--within", "d"]),
        0,
        "d/s2\nd/sub/s3\n",
        "knot: note: 'd/s2' is a symlink, not followed: these are the names of the symlink \
         itself\n",
    );
    run(
        &mut env.knot(["hardlinks", "missing"]),
        1,
        "",
        "knot: cannot list the names of 'missing': it does not exist\nknot: hint: check the path: there is nothing called 'missing' in '.'\n",
    );
}

#[test]
#[cfg_attr(target_os = "macos", ignore = "APFS refuses a name that is not UTF-8")]
fn non_utf8_names_round_trip() {
    let env = tree();
    let odd = OsStr::from_bytes(b"d/sub/caf\xe9");
    fs::hard_link(env.path("d/x"), env.path("").join(odd)).unwrap();
    let found = records(&mut env.knot(["hardlinks", "d/x", "--within", "d", "--json"]));
    assert_eq!(
        found,
        [
            serde_json::json!({"path": "d/x", "nlink": 3, "names": [{"bytes": "ZC9zdWIvY2Fm6Q=="}, "d/x", "d/y"], "complete": true})
        ]
    );
    let out = output(&mut env.knot(["hardlinks", "-0", "d/x", "--within", "d"]));
    assert_eq!(out.stdout, b"d/sub/caf\xe9\0d/x\0d/y\0");
    run(
        &mut env.knot(["hardlinks", "d/x", "--within", "d"]),
        0,
        "d/sub/caf\\xe9\nd/x\nd/y\n",
        "",
    );
}

#[test]
fn groups_saturated_first_then_unsaturated_with_sizes() {
    let env = tree();
    run(
        &mut env.knot(["hardlinks", "--groups", "d"]),
        0,
        "saturated:   2 of 2 names, 12 bytes\n  d/x\n  d/y\n\
         unsaturated: 2 of 3 names (1 outside), 5 bytes\n  d/a\n  d/sub/b\n",
        "",
    );
    let found = records(&mut env.knot(["hardlinks", "--groups", "d", "--json"]));
    assert_eq!(
        found,
        [
            serde_json::json!({"names": ["d/x", "d/y"], "nlink": 2, "found": 2, "size": 12, "saturated": true}),
            serde_json::json!({"names": ["d/a", "d/sub/b"], "nlink": 3, "found": 2, "size": 5, "saturated": false}),
        ]
    );
    run(
        &mut env.knot(["hardlinks", "--groups", "."]),
        0,
        "saturated:   3 of 3 names, 5 bytes\n  ./d/a\n  ./d/sub/b\n  ./o/c\n\
         saturated:   2 of 2 names, 12 bytes\n  ./d/x\n  ./d/y\n",
        "",
    );
}

#[test]
fn usage_errors_exit_2() {
    let env = tree();
    for args in [
        &["hardlinks"][..],
        &["hardlinks", "--groups", "d", "d/x"],
        &["hardlinks", "--groups", "d", "--within", "d"],
        &["hardlinks", "--json", "-0", "d/x"],
    ] {
        assert_eq!(
            output(&mut env.knot(args)).status.code(),
            Some(2),
            "{args:?}"
        );
    }
}

/// The names `find DIR -samefile FILE` prints, as a set.
fn find_samefile(dir: &Path, file: &Path) -> BTreeSet<Vec<u8>> {
    let out = std::process::Command::new("find")
        .arg(dir)
        .arg("-samefile")
        .arg(file)
        .arg("-print0")
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
        .split(|&b| b == 0)
        .filter(|n| !n.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

#[test]
fn the_same_names_as_find_samefile_on_a_mktree_tree() {
    let env = Env::new();
    mktree(&env.path("tree"), 4000, 1);
    // Every regular file with more than one name that mktree.py made, and one more made
    // here with names spread over the tree.
    let out = std::process::Command::new("find")
        .arg(env.path("tree"))
        .args(["-type", "f", "-links", "+1", "-print0"])
        .output()
        .unwrap();
    let mut files: Vec<Vec<u8>> = out
        .stdout
        .split(|&b| b == 0)
        .filter(|n| !n.is_empty())
        .map(<[u8]>::to_vec)
        .take(5)
        .collect();
    let dirs: Vec<_> = walk_dirs(&env.path("tree"))
        .into_iter()
        .step_by(7)
        .collect();
    env.file("tree/spread", "x");
    for (i, dir) in dirs.iter().enumerate() {
        fs::hard_link(env.path("tree/spread"), dir.join(format!("spread-{i}"))).unwrap();
    }
    files.push(env.path("tree/spread").into_os_string().into_vec());
    assert!(files.len() > 1, "mktree.py makes hard links");
    for file in &files {
        let file = Path::new(OsStr::from_bytes(file));
        let expected = find_samefile(&env.path("tree"), file);
        let out = output(&mut env.knot([
            "hardlinks".as_ref(),
            "-0".as_ref(),
            file.as_os_str(),
            "--within".as_ref(),
            env.path("tree").as_os_str(),
        ]));
        assert_eq!(out.status.code(), Some(0));
        let found: BTreeSet<Vec<u8>> = out
            .stdout
            .split(|&b| b == 0)
            .filter(|n| !n.is_empty())
            .map(<[u8]>::to_vec)
            .collect();
        assert_eq!(found, expected, "{}", file.display());
    }
}

fn walk_dirs(root: &Path) -> Vec<std::path::PathBuf> {
    let mut dirs = vec![root.to_path_buf()];
    let mut i = 0;
    while i < dirs.len() {
        let mut below: Vec<_> = fs::read_dir(&dirs[i])
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().unwrap().is_dir())
            .map(|e| e.path())
            .collect();
        below.sort();
        dirs.extend(below);
        i += 1;
    }
    dirs
}

use std::os::unix::ffi::OsStringExt;

/// The usage names both forms, FILE... and --groups DIR, so a refused mix of the two (and
/// `knot hardlinks` alone) shows the one that was meant; a one-name symlink to a directory
/// is pointed to --groups, never to a directory as a FILE.
#[test]
fn usage_errors_name_both_forms() {
    let env = Env::new();
    env.mkdir("d");
    std::os::unix::fs::symlink("d", env.path("dl")).unwrap();
    let usage = "Usage: knot hardlinks [OPTIONS] <FILE>...\n       \
                 knot hardlinks [OPTIONS] --groups <DIR>\n";
    for args in [&["hardlinks", "--groups", ".", "other"][..], &["hardlinks"]] {
        let out = output(&mut env.knot(args));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(usage), "{args:?}: {stderr}");
    }
    let out = output(&mut env.knot(["hardlinks", "dl"]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "knot: cannot list the names of 'dl': it is a symlink with no other name, and knot \
             does not follow it\nknot: hint: it leads to a directory, which has no other \
             names; for the hard-link groups below it: knot hardlinks --groups {}\n",
            env.real().join("d").display()
        )
    );
}

/// A bind mount of a directory of the same file system inside DIR is one directory
/// reached by two paths: it is walked once, so its names are not counted twice, by
/// `--groups` or by the names of a file. Which of the two paths names it is the walk's
/// choice.
#[cfg(target_os = "linux")]
#[test]
fn a_bind_mount_inside_dir_is_walked_once() {
    let test = "a_bind_mount_inside_dir_is_walked_once";
    let env = Env::new();
    env.mkdir("d/real");
    env.mkdir("d/alias");
    env.mkdir("d/other");
    env.file("d/real/x", "twelve bytes");
    fs::hard_link(env.path("d/real/x"), env.path("d/real/y")).unwrap();
    fs::hard_link(env.path("d/real/x"), env.path("d/other/z")).unwrap();
    let Some(_bound) = crate::fixture::bind(test, &env.path("d/real"), &env.path("d/alias")) else {
        return;
    };
    // Each name once, under the real or the alias path.
    let one_path_each = |names: &[serde_json::Value]| {
        let names: Vec<&str> = names.iter().map(|n| n.as_str().unwrap()).collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(names.contains(&"d/other/z"), "{names:?}");
        for name in ["x", "y"] {
            let found = ["real", "alias"]
                .iter()
                .filter(|dir| names.contains(&format!("d/{dir}/{name}").as_str()))
                .count();
            assert_eq!(found, 1, "{name}: {names:?}");
        }
    };
    let groups = records(&mut env.knot(["hardlinks", "--groups", "d", "--json"]));
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0]["found"], 3, "{groups:?}");
    assert_eq!(groups[0]["saturated"], true, "{groups:?}");
    one_path_each(groups[0]["names"].as_array().unwrap());
    for threads in ["1", "2"] {
        let found = records(&mut env.knot([
            "hardlinks",
            "d/other/z",
            "--within",
            "d",
            "--json",
            "--threads",
            threads,
        ]));
        assert_eq!(found[0]["complete"], true, "{found:?}");
        one_path_each(found[0]["names"].as_array().unwrap());
    }
}

/// `--groups` takes several trees (a project and its package store), given with
/// `--groups` each: a group's names are found across all of them, each name once, however
/// the trees overlap or repeat.
#[test]
fn groups_take_several_dirs_and_count_each_name_once() {
    let env = tree();
    let both = "saturated:   3 of 3 names, 5 bytes\n  d/a\n  d/sub/b\n  o/c\n\
                saturated:   2 of 2 names, 12 bytes\n  d/x\n  d/y\n";
    run(
        &mut env.knot(["hardlinks", "--groups", "d", "--groups", "o"]),
        0,
        both,
        "",
    );
    run(
        &mut env.knot([
            "hardlinks",
            "--groups",
            "o",
            "--groups",
            "d",
            "--groups",
            "d/sub",
        ]),
        0,
        both,
        "",
    );
    let d_alone = "saturated:   2 of 2 names, 12 bytes\n  d/x\n  d/y\n\
                   unsaturated: 2 of 3 names (1 outside), 5 bytes\n  d/a\n  d/sub/b\n";
    for args in [
        &["hardlinks", "--groups", "d", "--groups", "d"][..],
        &["hardlinks", "--groups", "d/sub", "--groups", "d"],
        &["hardlinks", "--groups", "d", "--groups=d/sub"],
    ] {
        run(&mut env.knot(args), 0, d_alone, "");
    }
}

/// A symlink with two names (`ln -P`) is no hard-link group, as it is no hard link for
/// `scan --kind hardlink` and `find -type f -links +1`: both list regular files only.
#[test]
fn a_symlink_with_two_names_is_no_group_as_for_scan_kind_hardlink() {
    let env = tree();
    std::os::unix::fs::symlink("x", env.path("d/s")).unwrap();
    rustix::fs::linkat(
        rustix::fs::CWD,
        env.path("d/s"),
        rustix::fs::CWD,
        env.path("d/sub/s2"),
        rustix::fs::AtFlags::empty(),
    )
    .unwrap();
    run(
        &mut env.knot(["hardlinks", "--groups", "d"]),
        0,
        "saturated:   2 of 2 names, 12 bytes\n  d/x\n  d/y\n\
         unsaturated: 2 of 3 names (1 outside), 5 bytes\n  d/a\n  d/sub/b\n",
        "",
    );
    run(
        &mut env.knot(["scan", "--sort", "-0", "--kind", "hardlink", "d"]),
        0,
        "d/a\0d/sub/b\0d/x\0d/y\0",
        "",
    );
}

/// The hint for a one-name symlink repeats the `--within` the command was given, and only
/// that: a FILE that happens to be called `--within` (after `--`) is no option.
#[test]
fn the_hint_repeats_the_within_option_and_no_file_named_like_it() {
    let env = tree();
    std::os::unix::fs::symlink("x", env.path("d/s")).unwrap();
    let x = env.real().join("d/x");
    let hint = |within: &str| {
        format!(
            "knot: hint: for the names of what it leads to: knot hardlinks {}{within}\n",
            x.display()
        )
    };
    let out = output(&mut env.knot(["hardlinks", "--", "--within", "d/s"]));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.ends_with(&hint("")), "{stderr}");
    for args in [
        &["hardlinks", "--within=d", "--", "d/s"][..],
        &["hardlinks", "d/s", "--within", "d"],
    ] {
        let out = output(&mut env.knot(args));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.ends_with(&hint(" --within d")), "{args:?}: {stderr}");
    }
}
