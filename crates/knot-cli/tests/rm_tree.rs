//! `knot rm --tree DIR...`: the lines, records and exit codes, mount points refused, and
//! junctions on an NTFS volume (ntfs-3g) removed as links.

use std::fs;
use std::path::Path;

use crate::fixture::{self, Env, run};

/// Every path below `dir`, relative to it, sorted; links not followed.
fn all(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut left = vec![dir.to_path_buf()];
    while let Some(below) = left.pop() {
        for entry in fs::read_dir(&below).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            found.push(
                path.strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            );
            if entry.file_type().unwrap().is_dir() {
                left.push(path);
            }
        }
    }
    found.sort();
    found
}

/// A tree with a file symlink out, a directory symlink out and a hard link to a file
/// outside; `outside` holds the canaries.
fn tree(env: &Env) {
    env.mkdir("outside/sub");
    env.file("outside/canary", "CANARY");
    env.file("outside/sub/canary", "CANARY");
    env.mkdir("t/d");
    env.file("t/d/f", "1");
    std::os::unix::fs::symlink("../../outside", env.path("t/d/out")).unwrap();
    std::os::unix::fs::symlink(env.path("outside/canary"), env.path("t/abs")).unwrap();
    fs::hard_link(env.path("outside/canary"), env.path("t/hard")).unwrap();
}

/// The links are listed first, each with what is done with it; the summary goes to
/// standard error; what they lead to stays.
#[test]
fn links_are_listed_and_removed_as_links() {
    let env = Env::new();
    tree(&env);
    let abs = env.path("outside/canary");
    let lines = format!(
        "link 't/abs' -> '{}'  [to be removed as a link]\n\
         link 't/d/out' -> '../../outside'  [to be removed as a link]\n",
        abs.display()
    );
    let mut rm = env.knot(["rm", "--tree", "t"]);
    let out = fixture::output(&mut rm);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let mut got: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    got.sort_unstable();
    assert_eq!(got.join("\n") + "\n", lines);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "removed 't': 2 files, 2 directories, 2 links\n"
    );
    assert_eq!(env.names(), ["outside"]);
    assert_eq!(all(&env.path("outside")), ["canary", "sub", "sub/canary"]);
    assert_eq!(fs::read_to_string(abs).unwrap(), "CANARY");
}

/// `--dry-run` lists and counts, and removes nothing; `--json` gives each link's scan
/// record with its action.
#[test]
fn a_dry_run_lists_and_removes_nothing() {
    let env = Env::new();
    tree(&env);
    let before = all(env.dir.path());
    run(
        &mut env.knot(["rm", "--tree", "-n", "t/d"]),
        0,
        "link 't/d/out' -> '../../outside'  [would be removed as a link]\n",
        "would remove 't/d': 1 file, 1 directory, 1 link\n",
    );
    let records = fixture::records(&mut env.knot(["rm", "--tree", "--dry-run", "--json", "t/d"]));
    assert_eq!(records.len(), 1, "{records:?}");
    let record = &records[0];
    assert_eq!(record["path"], "t/d/out");
    assert_eq!(record["kind"], "symlink");
    assert_eq!(record["target"], "../../outside");
    assert_eq!(record["status"], "ok");
    assert_eq!(record["action"], "would-remove");
    assert_eq!(record["dry_run"], true);
    assert_eq!(record["error"], serde_json::Value::Null);
    assert_eq!(all(env.dir.path()), before);
}

/// DIR a link, a file, `/` or `.`: refused with the fix, nothing removed, exit 1.
#[test]
fn trees_that_may_not_go_are_refused_with_the_fix() {
    let env = Env::new();
    tree(&env);
    std::os::unix::fs::symlink("t", env.path("l")).unwrap();
    let before = all(env.dir.path());
    run(
        &mut env.knot(["rm", "--tree", "l/"]),
        1,
        "",
        "knot: cannot remove the tree 'l/': it is a link; knot rm --tree never follows a \
         link, nor removes it as a tree\nknot: hint: to remove the link, run knot rm 'l'\n",
    );
    run(
        &mut env.knot(["rm", "--tree", "t/hard"]),
        1,
        "",
        "knot: cannot remove the tree 't/hard': it is a regular file, not a directory\n",
    );
    run(
        &mut env.knot(["rm", "--tree", "/"]),
        1,
        "",
        "knot: cannot remove the tree '/': it is the root directory\n",
    );
    run(
        &mut env.knot(["rm", "--tree", "."]),
        1,
        "",
        "knot: cannot remove the tree '.': it holds the current directory\n\
         knot: hint: change to a directory outside it first\n",
    );
    assert_eq!(all(env.dir.path()), before);
}

/// Mount points inside the tree (a tmpfs, and a bind mount of a directory of the same
/// file system) are refused with the fix and keep their contents, with the directories
/// above them; the rest of the tree is removed; exit 1.
#[cfg(target_os = "linux")]
#[test]
fn mount_points_inside_are_refused_and_the_rest_removed() {
    const TEST: &str = "mount_points_inside_are_refused_and_the_rest_removed";
    let env = Env::new();
    env.mkdir("t/a/m");
    env.mkdir("t/b/bound");
    env.mkdir("t/c");
    env.file("t/c/f", "1");
    env.file("t/a/f", "1");
    env.mkdir("elsewhere");
    env.file("elsewhere/canary", "CANARY");
    let Some(_tmpfs) = fixture::tmpfs(TEST, &env.path("t/a/m")) else {
        return;
    };
    let Some(_bind) = fixture::bind(TEST, &env.path("elsewhere"), &env.path("t/b/bound")) else {
        return;
    };
    fs::write(env.path("t/a/m/canary"), "CANARY").unwrap();
    let fix = "knot: hint: unmount it first (umount), then run knot rm --tree again\n";
    let out = fixture::output(&mut env.knot(["rm", "--tree", "t"]));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let lines = sorted_lines(&out.stdout);
    assert_eq!(
        lines,
        [
            "mount point 't/a/m'  [refused: unmount it first]",
            "mount point 't/b/bound'  [refused: unmount it first]",
        ]
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(fix), "{stderr}");
    assert!(
        stderr.ends_with("removed 't': 2 files, 1 directory, 0 links; 2 mount points refused\n"),
        "{stderr}"
    );
    assert_eq!(
        all(&env.path("t")),
        ["a", "a/m", "a/m/canary", "b", "b/bound", "b/bound/canary"]
    );
    assert_eq!(
        fs::read_to_string(env.path("t/a/m/canary")).unwrap(),
        "CANARY"
    );
    assert_eq!(
        fs::read_to_string(env.path("elsewhere/canary")).unwrap(),
        "CANARY"
    );
    let records = {
        let mut rm = env.knot(["rm", "--tree", "--json", "-n", "t"]);
        let out = fixture::output(&mut rm);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        text.lines()
            .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(records.len(), 2, "{records:?}");
    for record in &records {
        assert_eq!(record["kind"], "mount-point");
        assert_eq!(record["action"], "refused");
        let path = record["path"].as_str().unwrap();
        assert_eq!(
            record["error"],
            format!(
                "cannot remove the tree '{path}': another file system is mounted there; it \
                 was not entered"
            )
        );
    }
}

/// A tree that is itself a mount point (a tmpfs, a bind mount) is refused with the fix,
/// and nothing in it is removed.
#[cfg(target_os = "linux")]
#[test]
fn a_tree_that_is_a_mount_point_is_refused_whole() {
    const TEST: &str = "a_tree_that_is_a_mount_point_is_refused_whole";
    let env = Env::new();
    env.mkdir("m");
    env.mkdir("bound");
    env.mkdir("elsewhere/sub");
    env.file("elsewhere/sub/canary", "CANARY");
    let Some(_tmpfs) = fixture::tmpfs(TEST, &env.path("m")) else {
        return;
    };
    let Some(_bind) = fixture::bind(TEST, &env.path("elsewhere"), &env.path("bound")) else {
        return;
    };
    fs::create_dir(env.path("m/sub")).unwrap();
    fs::write(env.path("m/sub/canary"), "CANARY").unwrap();
    for tree in ["m", "bound"] {
        for dry_run in [false, true] {
            let mut args = vec!["rm", "--tree", tree];
            if dry_run {
                args.push("-n");
            }
            let out = fixture::output(&mut env.knot(args));
            assert_eq!(out.status.code(), Some(1), "{tree}: {out:?}");
            let stderr = String::from_utf8(out.stderr).unwrap();
            assert!(
                stderr.contains(&format!(
                    "cannot remove the tree '{tree}': another file system is mounted there"
                )) && stderr.contains("unmount it first"),
                "{tree}: {stderr}"
            );
            assert_eq!(
                fs::read_to_string(env.path(&format!("{tree}/sub/canary"))).unwrap(),
                "CANARY",
                "{tree}"
            );
        }
    }
}

/// In a tree large enough to be removed on several threads, mount points deep inside the
/// directories the threads share out are refused once each, with the directories above
/// them; the rest goes; exit 1.
#[cfg(target_os = "linux")]
#[test]
fn mount_points_inside_a_tree_removed_on_threads_are_refused_once() {
    const TEST: &str = "mount_points_inside_a_tree_removed_on_threads_are_refused_once";
    let env = Env::new();
    for s in 0..20 {
        env.mkdir(&format!("t/s{s}/sub"));
        for n in 0..5 {
            env.file(&format!("t/s{s}/f{n}"), "1");
        }
        for n in 0..10 {
            env.file(&format!("t/s{s}/sub/f{n}"), "1");
        }
    }
    env.mkdir("t/s3/sub/m");
    env.mkdir("t/s7/bound");
    env.mkdir("elsewhere");
    env.file("elsewhere/canary", "CANARY");
    let Some(_tmpfs) = fixture::tmpfs(TEST, &env.path("t/s3/sub/m")) else {
        return;
    };
    let Some(_bind) = fixture::bind(TEST, &env.path("elsewhere"), &env.path("t/s7/bound")) else {
        return;
    };
    fs::write(env.path("t/s3/sub/m/canary"), "CANARY").unwrap();
    let out = fixture::output(&mut env.knot(["rm", "--tree", "t"]));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let lines = sorted_lines(&out.stdout);
    assert_eq!(
        lines,
        [
            "mount point 't/s3/sub/m'  [refused: unmount it first]",
            "mount point 't/s7/bound'  [refused: unmount it first]",
        ]
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .ends_with("removed 't': 300 files, 37 directories, 0 links; 2 mount points refused\n"),
        "{stderr}"
    );
    assert_eq!(
        all(&env.path("t")),
        [
            "s3",
            "s3/sub",
            "s3/sub/m",
            "s3/sub/m/canary",
            "s7",
            "s7/bound",
            "s7/bound/canary"
        ]
    );
    assert_eq!(
        fs::read_to_string(env.path("elsewhere/canary")).unwrap(),
        "CANARY"
    );
}

/// On an NTFS volume (ntfs-3g), junctions inside the tree, to a directory outside it and
/// to one inside, are removed as links: their targets and the canaries in them stay. A
/// file whose reparse point keeps its data (WOF-compressed) is no link: removed as the
/// file it is, and not listed.
#[cfg(target_os = "linux")]
#[test]
fn junctions_on_ntfs_are_removed_as_links() {
    use crate::fixture::ntfs3g::volume;
    let Some(vol) = volume("junctions_on_ntfs_are_removed_as_links") else {
        return;
    };
    fs::create_dir(vol.path("target")).unwrap();
    fs::write(vol.path("target/canary"), "alive").unwrap();
    fs::create_dir_all(vol.path("t/d")).unwrap();
    fs::write(vol.path("t/d/f"), "1").unwrap();
    let knot = |args: &[&str]| {
        let mut cmd = fixture::knot();
        cmd.current_dir(&vol.mnt).args(args);
        cmd
    };
    run(
        &mut knot(&["junction", "t/d/j", "target"]),
        0,
        "created junction 't/d/j' -> 'C:\\target'\n",
        "",
    );
    run(
        &mut knot(&["junction", "t/up", "t"]),
        0,
        "created junction 't/up' -> 'C:\\t'\n",
        "",
    );
    crate::ntfs3g::compressed_file(&vol.path("t/d/packed"));
    // ntfs-3g caches inode types: remounted, it shows the junctions as links.
    vol.remount();
    let out = fixture::output(&mut knot(&["rm", "--tree", "t"]));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let lines = sorted_lines(&out.stdout);
    assert_eq!(
        lines,
        [
            "junction 't/d/j' -> 'C:\\target'  [to be removed as a link]",
            "junction 't/up' -> 'C:\\t'  [to be removed as a link]",
        ]
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.ends_with("removed 't': 2 files, 2 directories, 2 links\n"),
        "{stderr}"
    );
    vol.remount();
    assert_eq!(vol.names(), ["target"]);
    assert_eq!(
        fs::read_to_string(vol.path("target/canary")).unwrap(),
        "alive"
    );
}

/// On an NTFS volume (ntfs-3g), a volume mounted at a directory of the tree (a mount
/// point reparse point to `\??\Volume{GUID}\`) is refused as a mount point, with the fix,
/// and left with the directories above it; the rest goes.
#[cfg(target_os = "linux")]
#[test]
fn volume_mount_points_on_ntfs_are_refused() {
    use crate::fixture::ntfs3g::volume;
    let Some(vol) = volume("volume_mount_points_on_ntfs_are_refused") else {
        return;
    };
    fs::create_dir_all(vol.path("t/b")).unwrap();
    fs::write(vol.path("t/b/f"), "1").unwrap();
    crate::ntfs3g::volume_mount_point(&vol.path("t/a/vol"));
    vol.remount();
    let mut cmd = fixture::knot();
    cmd.current_dir(&vol.mnt).args(["rm", "--tree", "t"]);
    let out = fixture::output(&mut cmd);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        sorted_lines(&out.stdout),
        ["mount point 't/a/vol'  [refused: unmount it first]"]
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.ends_with("1 mount point refused\n"), "{stderr}");
    vol.remount();
    assert_eq!(vol.names(), ["t"]);
    assert!(fs::symlink_metadata(vol.path("t/a/vol")).is_ok());
    assert!(!vol.path("t/b").exists());
}

/// A wide tree (a directory of 300 directories, each holding one) and a deep one (200
/// levels, a file in each) are removed under `ulimit -n 32`: a directory found waits as a
/// name in the one above until its turn, and past 16 levels the shallowest are let go of
/// and opened again through `..`, so the descriptors held stay few.
#[test]
fn wide_and_deep_trees_are_removed_with_few_descriptors() {
    let env = Env::new();
    for i in 0..300 {
        env.mkdir(&format!("t/d{i}/e"));
        env.file(&format!("t/d{i}/e/f"), "1");
    }
    let mut deep = std::path::PathBuf::from("t/deep");
    for _ in 0..200 {
        deep.push("d");
        fs::create_dir_all(env.dir.path().join(&deep)).unwrap();
        fs::write(env.dir.path().join(&deep).join("f"), "1").unwrap();
    }
    let knot = assert_cmd::cargo::cargo_bin("knot");
    let limited = |args: &str| {
        fixture::output(
            assert_cmd::Command::new("bash")
                .args([
                    "-c",
                    &format!("ulimit -n 32 && exec \"$0\" rm --tree {args} t"),
                ])
                .arg(&knot)
                .current_dir(env.dir.path()),
        )
    };
    // The listing alone, which a dry run is.
    let out = limited("-n");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "would remove 't': 500 files, 802 directories, 0 links\n"
    );
    assert_eq!(out.status.code(), Some(0));
    let out = limited("");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "removed 't': 500 files, 802 directories, 0 links\n"
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(env.names().is_empty(), "{:?}", env.names());
}

/// A link whose removal fails (its directory may not be changed) is listed to be removed,
/// then gets its error line and is not counted in the summary; with --json its one record
/// says failed, with the error, and the other link's says removed.
#[cfg(target_os = "linux")]
#[test]
fn a_link_whose_removal_fails_is_reported_failed_not_removed() {
    const TEST: &str = "a_link_whose_removal_fails_is_reported_failed_not_removed";
    let env = Env::new();
    for tree in ["t", "u"] {
        env.mkdir(&format!("{tree}/locked"));
        env.mkdir(&format!("{tree}/open"));
        env.file(&format!("{tree}/f"), "1");
        std::os::unix::fs::symlink("../f", env.path(&format!("{tree}/locked/l"))).unwrap();
        std::os::unix::fs::symlink("../f", env.path(&format!("{tree}/open/l"))).unwrap();
    }
    let Some(_t) = fixture::lock(TEST, &env.path("t/locked")) else {
        return;
    };
    let Some(_u) = fixture::lock(TEST, &env.path("u/locked")) else {
        return;
    };
    let out = fixture::output(&mut env.knot(["rm", "--tree", "t"]));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let lines = sorted_lines(&out.stdout);
    assert_eq!(
        lines,
        [
            "link 't/locked/l' -> '../f'  [to be removed as a link]",
            "link 't/open/l' -> '../f'  [to be removed as a link]",
        ]
    );
    let cause = if rustix::process::geteuid().is_root() {
        "Operation not permitted (os error 1)"
    } else {
        "Permission denied (os error 13)"
    };
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "knot: cannot remove the tree 't/locked/l': {cause}\n\
             removed 't': 1 file, 1 directory, 1 link; 1 error\n"
        )
    );
    assert_eq!(all(&env.path("t")), ["locked", "locked/l"]);
    let out = fixture::output(&mut env.knot(["rm", "--tree", "--json", "u"]));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let mut records: Vec<serde_json::Value> = std::str::from_utf8(&out.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    records.sort_by_key(|record| record["path"].to_string());
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(records[0]["path"], "u/locked/l");
    assert_eq!(records[0]["target"], "../f");
    assert_eq!(records[0]["action"], "failed");
    assert_eq!(
        records[0]["error"],
        format!("cannot remove the tree 'u/locked/l': {cause}")
    );
    assert_eq!(records[1]["path"], "u/open/l");
    assert_eq!(records[1]["action"], "removed");
    assert_eq!(records[1]["error"], serde_json::Value::Null);
    assert_eq!(all(&env.path("u")), ["locked", "locked/l"]);
}

/// The lines of `stdout`, sorted: the removal runs on several threads, so its lines come
/// in no set order.
#[cfg(target_os = "linux")]
fn sorted_lines(stdout: &[u8]) -> Vec<&str> {
    let mut lines: Vec<&str> = std::str::from_utf8(stdout).unwrap().lines().collect();
    lines.sort_unstable();
    lines
}
