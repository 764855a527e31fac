//! `knot move DIR NEW` and `knot move --back LINK`: on one file system and across two (a
//! tmpfs mounted in the test's directory), the links inside kept, a failure at each step
//! leaving the data whole, every refusal changing nothing, and junctions on ntfs-3g.

use std::fs;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _, symlink};
use std::path::{Path, PathBuf};

use crate::fixture::{self, Env, names};

/// The tree moved: `a/f` with a second name `a/hard`, `a/sub/g`, an inner absolute link
/// `a/inner` to `a/f`, an inner relative one `a/sub/rel`, and an outer link `a/out` to the
/// directory `outside`, which holds a canary.
fn tree() -> Env {
    let env = Env::new();
    env.mkdir("a/sub");
    env.mkdir("outside");
    env.file("a/f", "data");
    env.file("a/sub/g", "g");
    env.file("outside/canary", "alive");
    fs::hard_link(env.path("a/f"), env.path("a/hard")).unwrap();
    symlink(env.real().join("a/f"), env.path("a/inner")).unwrap();
    symlink("../f", env.path("a/sub/rel")).unwrap();
    symlink(env.real().join("outside"), env.path("a/out")).unwrap();
    env
}

/// Whether `dir` holds the tree whole: every entry, the hard link a second name of `f`,
/// the inner absolute link leading to `f` inside `inner_to` (the tree's path when the
/// link was made), and the canary outside untouched.
fn assert_whole(env: &Env, dir: &Path, inner_to: &Path) {
    assert_eq!(
        fs::read_to_string(dir.join("f")).unwrap(),
        "data",
        "{dir:?}"
    );
    assert_eq!(fs::read_to_string(dir.join("sub/g")).unwrap(), "g");
    let (f, hard) = (
        fs::metadata(dir.join("f")).unwrap(),
        fs::metadata(dir.join("hard")).unwrap(),
    );
    assert_eq!(
        (f.ino(), f.nlink()),
        (hard.ino(), 2),
        "the hard link is kept"
    );
    assert_eq!(
        fs::read_link(dir.join("inner")).unwrap(),
        inner_to.join("f")
    );
    assert_eq!(
        fs::read_link(dir.join("sub/rel")).unwrap(),
        Path::new("../f")
    );
    assert_eq!(
        fs::read_link(dir.join("out")).unwrap(),
        env.real().join("outside")
    );
    assert_eq!(
        fs::read_to_string(env.path("outside/canary")).unwrap(),
        "alive"
    );
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// On one file system: a rename and a symlink there, exactly; `--back` swaps the data into
/// the link's place and removes the link; the tree is the same after both.
#[test]
fn on_one_file_system_there_and_back() {
    let env = tree();
    let real = env.real();
    fixture::run(
        &mut env.knot(["move", "a", "b", "--leave", "symlink"]),
        0,
        &format!(
            "rename 'a' -> 'b'\nsymlink 'a' -> '{}'\n",
            real.join("b").display()
        ),
        "moved 'a' to 'b' on one file system (a rename); the symlink left\n",
    );
    assert_eq!(fs::read_link(env.path("a")).unwrap(), real.join("b"));
    // Renamed, not copied: the links inside are as they were (the inner one leads
    // through the link left at `a`).
    assert_whole(&env, &env.path("b"), &real.join("a"));
    let out = fixture::output(&mut env.knot(["move", "--back", "a"]));
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout(&out).starts_with(&format!(
            "rename '{}' -> '.a.knot~",
            real.join("b").display()
        )),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        stderr(&out),
        "moved the data back to 'a' on one file system (a rename); the link removed\n"
    );
    assert!(fs::symlink_metadata(env.path("a")).unwrap().is_dir());
    assert_whole(&env, &env.path("a"), &real.join("a"));
    assert_eq!(names(env.dir.path()), ["a", "outside"]);
}

/// Across file systems (a tmpfs in the test's directory): copied with the links kept (the
/// inner absolute one made to lead into NEW, the hard link kept, the outer one kept and
/// the canary behind it whole), the source removed, the link left; and back again, the
/// inner link leading into the old place once more. No hidden name is left anywhere.
#[test]
fn across_file_systems_there_and_back() {
    let env = tree();
    env.mkdir("mnt");
    let Some(_mounted) = fixture::tmpfs("move::across", &env.path("mnt")) else {
        return;
    };
    let real = env.real();
    let out = fixture::output(&mut env.knot(["move", "--verify", "a", "mnt/b"]));
    assert!(out.status.success(), "{out:?}");
    let lines: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    let words: Vec<&str> = lines.iter().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(
        words,
        ["copy", "check", "rename", "set", "symlink", "remove"],
        "{lines:?}"
    );
    assert!(
        lines[1].ends_with("(entries, kinds, sizes, link targets, bytes)"),
        "{lines:?}"
    );
    assert_eq!(
        stderr(&out),
        "moved 'a' to 'mnt/b' across file systems: 2 files, 5 bytes copied and checked; the \
         symlink left\n"
    );
    assert_eq!(fs::read_link(env.path("a")).unwrap(), real.join("mnt/b"));
    assert_whole(&env, &env.path("mnt/b"), &real.join("mnt/b"));
    assert_eq!(names(env.dir.path()), ["a", "mnt", "outside"]);
    assert_eq!(names(&env.path("mnt")), ["b"]);

    let out = fixture::output(&mut env.knot(["move", "--back", "a"]));
    assert!(out.status.success(), "{out:?}");
    assert!(stderr(&out).starts_with("moved the data back to 'a' across file systems"));
    assert!(fs::symlink_metadata(env.path("a")).unwrap().is_dir());
    assert_whole(&env, &env.path("a"), &real.join("a"));
    assert_eq!(names(env.dir.path()), ["a", "mnt", "outside"]);
    assert!(names(&env.path("mnt")).is_empty());
}

/// A tmpfs too small for the copy: the copy fails, is removed, and `a` is left as it was.
#[test]
fn no_space_leaves_the_source_whole() {
    let env = tree();
    env.file("a/big", &"x".repeat(256 * 1024));
    env.mkdir("mnt");
    let Some(_mounted) = fixture::small_tmpfs("move::no_space", &env.path("mnt"), "64k") else {
        return;
    };
    let out = fixture::output(&mut env.knot(["move", "-q", "a", "mnt/b"]));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = stderr(&out);
    assert!(err.contains("No space left on device"), "{err}");
    assert!(
        err.contains("knot: cannot move 'a': 1 entry could not be copied (each is shown above); the copy was removed, and the directory left as it was\n"),
        "{err}"
    );
    assert!(fs::symlink_metadata(env.path("a")).unwrap().is_dir());
    assert_whole(&env, &env.path("a"), &env.real().join("a"));
    assert_eq!(fs::read(env.path("a/big")).unwrap().len(), 256 * 1024);
    assert!(
        names(&env.path("mnt")).is_empty(),
        "{:?}",
        names(&env.path("mnt"))
    );
    assert_eq!(names(env.dir.path()), ["a", "mnt", "outside"]);
}

/// A file that cannot be read (knot run as nobody): the copy fails, is removed, and `a`
/// is left as it was.
#[test]
fn an_unreadable_file_leaves_the_source_whole() {
    let env = tree();
    env.file("a/secret", "hidden");
    env.mkdir("mnt");
    let Some(_mounted) = fixture::tmpfs("move::unreadable", &env.path("mnt")) else {
        return;
    };
    let nobody = |path: &Path| {
        let _ = std::os::unix::fs::lchown(path, Some(65534), Some(65534));
    };
    for path in [
        "a",
        "a/f",
        "a/sub",
        "a/sub/g",
        "a/inner",
        "a/sub/rel",
        "a/out",
        "a/secret",
    ] {
        nobody(&env.path(path));
    }
    fs::set_permissions(env.path("a/secret"), fs::Permissions::from_mode(0o000)).unwrap();
    fs::set_permissions(env.path("mnt"), fs::Permissions::from_mode(0o777)).unwrap();
    fs::set_permissions(env.dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
    let out = fixture::as_nobody(&env, &["move", "-q", "a", "mnt/b"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = stderr(&out);
    assert!(err.starts_with("knot: cannot move 'a/secret': "), "{err}");
    assert!(err.contains("could not be copied"), "{err}");
    assert!(fs::symlink_metadata(env.path("a")).unwrap().is_dir());
    assert_eq!(fs::read_to_string(env.path("a/secret")).unwrap(), "hidden");
    assert_whole(&env, &env.path("a"), &env.real().join("a"));
    assert!(
        names(&env.path("mnt")).is_empty(),
        "{:?}",
        names(&env.path("mnt"))
    );
}

/// The steps across file systems at which a failure is injected (debug builds only:
/// `KNOT_MOVE_FAIL`, `KNOT_MOVE_CRASH`), in order.
const STEPS: [&str; 6] = [
    "copy",
    "check",
    "rename-copy",
    "set-aside",
    "link",
    "remove",
];

/// Whether this build of knot reads the fault switches (a debug build); says so if not.
fn faults_injectable(test: &str) -> bool {
    if !cfg!(debug_assertions) {
        fixture::skip(
            "KNOT_REQUIRE_DEBUG",
            test,
            "a release build injects no faults (KNOT_MOVE_FAIL, KNOT_MOVE_CRASH)",
        );
    }
    cfg!(debug_assertions)
}

/// A failure at each step across file systems: up to the link, everything is undone (`a`
/// the directory it was, nothing in `mnt`); at the removal of the old data, the move is
/// done and the error says where the old data is and how to remove it.
#[test]
fn a_failure_at_each_step_leaves_the_data_whole() {
    if !faults_injectable("move::failure") {
        return;
    }
    for step in STEPS {
        let env = tree();
        env.mkdir("mnt");
        let Some(_mounted) = fixture::tmpfs("move::failure", &env.path("mnt")) else {
            return;
        };
        let mut cmd = env.knot(["move", "-q", "a", "mnt/b"]);
        let out = fixture::output(cmd.env("KNOT_MOVE_FAIL", step));
        assert_eq!(out.status.code(), Some(1), "{step}: {out:?}");
        let err = stderr(&out);
        if step == "remove" {
            assert_eq!(
                fs::read_link(env.path("a")).unwrap(),
                env.real().join("mnt/b")
            );
            assert_whole(&env, &env.path("mnt/b"), &env.real().join("mnt/b"));
            let hidden: Vec<String> = names(env.dir.path())
                .into_iter()
                .filter(|n| n.starts_with(".a.knot~"))
                .collect();
            assert_eq!(hidden.len(), 1, "{step}");
            assert_whole(&env, &env.path(&hidden[0]), &env.real().join("a"));
            assert!(err.contains("knot rm --tree"), "{step}: {err}");
            continue;
        }
        assert!(
            err.contains(&format!("fault injected at {step}")),
            "{step}: {err}"
        );
        assert!(
            fs::symlink_metadata(env.path("a")).unwrap().is_dir(),
            "{step}"
        );
        assert_whole(&env, &env.path("a"), &env.real().join("a"));
        assert!(
            names(&env.path("mnt")).is_empty(),
            "{step}: {:?}",
            names(&env.path("mnt"))
        );
        assert_eq!(names(env.dir.path()), ["a", "mnt", "outside"], "{step}");
    }
}

/// A crash (the process stopped dead) right before each step across file systems leaves
/// the data whole in at least one place: `a`, NEW, or the hidden name `a` was set aside
/// to.
#[test]
fn a_crash_before_each_step_leaves_the_data_whole() {
    if !faults_injectable("move::crash") {
        return;
    }
    for step in STEPS {
        let env = tree();
        env.mkdir("mnt");
        let Some(_mounted) = fixture::tmpfs("move::crash", &env.path("mnt")) else {
            return;
        };
        let mut cmd = env.knot(["move", "-q", "a", "mnt/b"]);
        let out = fixture::output(cmd.env("KNOT_MOVE_CRASH", step));
        assert_eq!(
            out.status.code(),
            None,
            "{step}: killed by SIGABRT: {out:?}"
        );
        let real = env.real();
        let whole_at_a = fs::symlink_metadata(env.path("a")).is_ok_and(|m| m.is_dir());
        let whole_at_new = fs::symlink_metadata(env.path("mnt/b")).is_ok_and(|m| m.is_dir());
        let aside: Vec<PathBuf> = names(env.dir.path())
            .into_iter()
            .filter(|n| n.starts_with(".a.knot~"))
            .map(|n| env.path(&n))
            .collect();
        match step {
            "copy" | "check" | "rename-copy" | "set-aside" => {
                assert!(whole_at_a, "{step}");
                assert_whole(&env, &env.path("a"), &real.join("a"));
            }
            _ => {
                assert!(whole_at_new, "{step}");
                assert_whole(&env, &env.path("mnt/b"), &real.join("mnt/b"));
                assert_eq!(aside.len(), 1, "{step}");
                assert_whole(&env, &aside[0], &real.join("a"));
            }
        }
    }
}

/// A failure of the link on one file system puts the directory back.
#[test]
fn a_link_that_cannot_be_made_puts_the_directory_back() {
    if !faults_injectable("move::link") {
        return;
    }
    let env = tree();
    let mut cmd = env.knot(["move", "-q", "a", "b"]);
    let out = fixture::output(cmd.env("KNOT_MOVE_FAIL", "link"));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_whole(&env, &env.path("a"), &env.real().join("a"));
    assert_eq!(names(env.dir.path()), ["a", "outside"]);
}

/// Each refusal exits 1 with the path and the fix, and changes nothing.
#[test]
fn refusals_change_nothing() {
    let env = tree();
    env.mkdir("taken");
    env.file("file", "x");
    symlink("a", env.path("link")).unwrap();
    let real = env.real();
    let cases: [(&[&str], &str); 7] = [
        (
            &["move", "link", "n"],
            "knot: cannot move 'link': it is a link, not a real directory; knot move moves a \
             directory, never through a link\nknot: hint: to move the data it leads to back \
             here, run knot move --back 'link'\n",
        ),
        (
            &["move", "file", "n"],
            "knot: cannot move 'file': it is a regular file, not a directory\nknot: hint: name \
             a directory; knot move moves directories\n",
        ),
        (
            &["move", "a", "taken"],
            "knot: cannot move 'taken': it is there already; knot move moves a directory to a \
             new path\nknot: hint: name a new path as NEW (knot move never replaces anything); \
             to move into a directory, name the new path inside it\n",
        ),
        (
            &["move", "a", "a/sub/n"],
            "knot: cannot move 'a/sub/n': it is inside the directory to move\nknot: hint: \
             choose a NEW outside the directory to move\n",
        ),
        (
            &["move", ".", "n"],
            "knot: cannot move '.': it holds the current directory\nknot: hint: change to a \
             directory outside it first\n",
        ),
        (
            &["move", "a", "n", "--leave", "junction"],
            "knot: cannot move 'a': this file system has no junctions (they are NTFS's: \
             Windows, or an NTFS volume mounted with ntfs-3g)\nknot: hint: leave a directory \
             symlink instead: --leave symlink\n",
        ),
        (
            &["move", "--back", "a"],
            "knot: cannot move back 'a': it is a real directory, not a link; knot move --back \
             takes a junction or directory symlink that leads straight to a real directory (as \
             knot move leaves)\nknot: hint: to move this directory elsewhere and leave a link, \
             run knot move DIR NEW\n",
        ),
    ];
    for (args, err) in cases {
        fixture::run(&mut env.knot(args), 1, "", err);
        assert_whole(&env, &env.path("a"), &real.join("a"));
        assert_eq!(
            names(env.dir.path()),
            ["a", "file", "link", "outside", "taken"]
        );
    }
    // An ancestor of the current directory.
    let mut cmd = fixture::knot();
    cmd.current_dir(env.path("a/sub"))
        .args(["move", "..", "../../n"]);
    let out = fixture::output(&mut cmd);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        stderr(&out).contains("it holds the current directory"),
        "{}",
        stderr(&out)
    );
    let mut cmd = fixture::knot();
    cmd.current_dir(env.path("a/sub"))
        .args(["move", real.join("a").to_str().unwrap(), "../../n"]);
    let out = fixture::output(&mut cmd);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_whole(&env, &env.path("a"), &real.join("a"));
}

/// `--back` refuses a file symlink, a dangling link and a link to a link, each with the
/// reason and the fix, and changes nothing.
#[test]
fn back_refuses_what_a_move_would_not_leave() {
    let env = tree();
    symlink(env.real().join("a/f"), env.path("to_file")).unwrap();
    symlink(env.real().join("gone"), env.path("dangling")).unwrap();
    symlink(env.real().join("a"), env.path("first")).unwrap();
    symlink(env.real().join("first"), env.path("second")).unwrap();
    symlink("a/sub", env.path("workspace")).unwrap();
    let cases = [
        ("to_file", "it is a link to a file, not to a directory"),
        ("dangling", "it leads nowhere"),
        (
            "second",
            "it leads to another link, not straight to the data",
        ),
        (
            "workspace",
            "it stores a relative target, which knot move never leaves (a link another tool \
             made, such as a pnpm or workspace link)",
        ),
    ];
    for (link, why) in cases {
        let out = fixture::output(&mut env.knot(["move", "--back", link]));
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert!(
            stderr(&out).starts_with(&format!("knot: cannot move back '{link}': {why}; ")),
            "{}",
            stderr(&out)
        );
        assert!(stderr(&out).contains("knot: hint: "), "{}", stderr(&out));
    }
    assert_whole(&env, &env.path("a"), &env.real().join("a"));
    assert_eq!(
        names(env.dir.path()),
        [
            "a",
            "dangling",
            "first",
            "outside",
            "second",
            "to_file",
            "workspace"
        ]
    );
}

/// A mount point inside DIR is refused before anything moves, with its path and the fix.
#[test]
fn a_mount_point_inside_is_refused() {
    let env = tree();
    env.mkdir("a/m");
    let Some(_mounted) = fixture::tmpfs("move::mount_point", &env.path("a/m")) else {
        return;
    };
    fixture::run(
        &mut env.knot(["move", "a", "b"]),
        1,
        "",
        "knot: cannot move 'a/m': another file system is mounted there, inside the directory \
         to move; nothing was moved\nknot: hint: unmount it first (umount), then run knot \
         move again\n",
    );
    assert_whole(&env, &env.path("a"), &env.real().join("a"));
    assert_eq!(names(env.dir.path()), ["a", "outside"]);
}

/// On an NTFS volume (ntfs-3g), a volume mounted at a directory inside DIR (a mount point
/// reparse point to `\??\Volume{GUID}\`) is refused as a mount point before anything
/// moves.
#[test]
fn ntfs3g_a_volume_mount_point_inside_is_refused() {
    let Some(vol) = fixture::ntfs3g::volume("move::ntfs3g_volume") else {
        return;
    };
    crate::ntfs3g::volume_mount_point(&vol.path("games/vol"));
    fs::write(vol.path("games/slot1"), "level 9").unwrap();
    vol.remount();
    let mut cmd = fixture::knot();
    cmd.current_dir(&vol.mnt).args(["move", "games", "saved"]);
    fixture::run(
        &mut cmd,
        1,
        "",
        "knot: cannot move 'games/vol': another file system is mounted there, inside the \
         directory to move; nothing was moved\nknot: hint: unmount it first (umount), then \
         run knot move again\n",
    );
    vol.remount();
    assert_eq!(vol.names(), ["games"]);
    assert_eq!(
        fs::read_to_string(vol.path("games/slot1")).unwrap(),
        "level 9"
    );
}

/// `--dry-run` says the steps and changes nothing; `--json` gives one record per step.
#[test]
fn dry_run_says_the_steps_and_changes_nothing() {
    let env = tree();
    let real = env.real();
    fixture::run(
        &mut env.knot(["move", "-n", "a", "b", "--leave", "symlink"]),
        0,
        &format!(
            "would rename 'a' -> 'b'\nwould symlink 'a' -> '{}'\n",
            real.join("b").display()
        ),
        "would move 'a' to 'b' on one file system (a rename); a symlink left\n",
    );
    let records = fixture::records(&mut env.knot(["move", "-n", "--json", "a", "b"]));
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(records[0]["step"], "rename");
    assert_eq!(records[0]["path"], "a");
    assert_eq!(records[0]["to"], "b");
    assert_eq!(records[0]["dry_run"], true);
    assert_eq!(records[1]["step"], "symlink");
    assert_eq!(records[1]["to"], real.join("b").to_str().unwrap());
    assert_whole(&env, &env.path("a"), &real.join("a"));
    assert_eq!(names(env.dir.path()), ["a", "outside"]);
}

/// On an NTFS volume mounted with ntfs-3g a real junction is left by default (a mount
/// point reparse point, read back by its bytes after a remount), and `--back` moves the
/// data back into its place.
#[test]
fn ntfs3g_leaves_a_junction_and_moves_back() {
    let Some(vol) = fixture::ntfs3g::volume("move::ntfs3g") else {
        return;
    };
    fs::create_dir_all(vol.path("games/save")).unwrap();
    fs::write(vol.path("games/save/slot1"), "level 9").unwrap();
    fs::create_dir(vol.path("d")).unwrap();
    let mut cmd = fixture::knot();
    cmd.current_dir(&vol.mnt)
        .args(["move", "-q", "games", "d/games"]);
    let out = fixture::output(&mut cmd);
    assert!(out.status.success(), "{out:?}");
    vol.remount();
    let mut buffer = vec![0; 16 * 1024];
    let len = rustix::fs::lgetxattr(vol.path("games"), "system.ntfs_reparse_data", &mut buffer)
        .expect("a reparse point at games");
    buffer.truncate(len);
    match knot_reparse::decode(&buffer).unwrap() {
        knot_reparse::ReparsePoint::MountPoint(m) => {
            assert_eq!(m.print_name.to_string_lossy(), "C:\\d\\games");
        }
        other => panic!("games is no junction: {other:?}"),
    }
    assert_eq!(
        fs::read_to_string(vol.path("games/save/slot1")).unwrap(),
        "level 9"
    );
    let mut cmd = fixture::knot();
    cmd.current_dir(&vol.mnt)
        .args(["move", "-q", "--back", "games"]);
    let out = fixture::output(&mut cmd);
    assert!(out.status.success(), "{out:?}");
    vol.remount();
    assert!(fs::symlink_metadata(vol.path("games")).unwrap().is_dir());
    assert_eq!(
        fs::read_to_string(vol.path("games/save/slot1")).unwrap(),
        "level 9"
    );
    assert!(fs::read_dir(vol.path("d")).unwrap().next().is_none());
}

/// `--back` from inside the data (reached through the link) is refused: the data would
/// move, or across file systems be removed, from under the current directory.
#[test]
fn back_refuses_data_that_holds_the_current_directory() {
    let env = tree();
    let out = fixture::output(&mut env.knot(["move", "-q", "--leave", "symlink", "a", "b"]));
    assert!(out.status.success(), "{out:?}");
    let mut cmd = fixture::knot();
    cmd.current_dir(env.path("b/sub"))
        .args(["move", "--back", "../../a"]);
    fixture::run(
        &mut cmd,
        1,
        "",
        &format!(
            "knot: cannot move back '{}': it holds the current directory\nknot: hint: change \
             to a directory outside it first\n",
            env.real().join("b").display()
        ),
    );
    assert_eq!(fs::read_link(env.path("a")).unwrap(), env.real().join("b"));
    assert_whole(&env, &env.path("b"), &env.real().join("a"));
}

/// A real failure at the link, across file systems: a junction on an ntfs-3g volume
/// cannot lead off the volume, so after the copy, its check and DIR set aside, the link is
/// refused; DIR is put back whole and the copy removed.
#[test]
fn ntfs3g_a_junction_that_cannot_be_made_puts_the_directory_back() {
    let Some(vol) = fixture::ntfs3g::volume("move::ntfs3g_undo") else {
        return;
    };
    let other = tempfile::tempdir().unwrap();
    fs::create_dir_all(vol.path("games/save")).unwrap();
    fs::write(vol.path("games/save/slot1"), "level 9").unwrap();
    let new = other.path().join("games");
    let mut cmd = fixture::knot();
    cmd.current_dir(&vol.mnt).arg("move").arg("games").arg(&new);
    let out = fixture::output(&mut cmd);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let words: Vec<String> = stdout(&out)
        .lines()
        .map(|l| l.split(' ').next().unwrap().to_owned())
        .collect();
    assert_eq!(
        words,
        ["copy", "check", "rename", "set", "junction"],
        "{out:?}"
    );
    assert!(
        stderr(&out).starts_with("knot: cannot move 'games': the target "),
        "{}",
        stderr(&out)
    );
    vol.remount();
    assert!(fs::symlink_metadata(vol.path("games")).unwrap().is_dir());
    assert_eq!(
        fs::read_to_string(vol.path("games/save/slot1")).unwrap(),
        "level 9"
    );
    assert_eq!(vol.names(), ["games"]);
    assert!(names(other.path()).is_empty(), "{:?}", names(other.path()));
}
