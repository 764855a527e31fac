//! `knot copy --update` and `--mirror` through the binary, with exact output: the lines of
//! what was updated and removed, the summary with its three more rows, the line that says
//! nothing changed, the refusals.

use std::fs;
use std::os::unix::fs::{MetadataExt as _, symlink};

use crate::fixture::{self, Env, records, run};

/// The summary of a `--update` or `--mirror` run: the copy's rows, then updated,
/// unchanged and removed, then the closing line where there is one.
fn summary(rows: [u64; 20], head: &str, last: &str) -> String {
    let labels = [
        "files",
        "bytes",
        "directories",
        "symlinks",
        "junctions",
        "hard-link groups",
        "of them unsaturated (names outside SRC)",
        "groups split at the link limit",
        "groups short of a name that failed",
        "links rewritten",
        "links kept",
        "links dropped",
        "dangling links",
        "not entered",
        "special files",
        "sockets skipped",
        "failures",
        "updated",
        "unchanged",
        "removed",
    ];
    let width = rows.iter().map(|n| n.to_string().len()).max().unwrap();
    let mut out = format!("{head}\n");
    for (n, label) in rows.iter().zip(labels) {
        out.push_str(&format!("  {n:>width$}  {label}\n"));
    }
    out.push_str(last);
    out
}

/// SRC with a file, a directory and a link, and DST its copy.
fn copied() -> Env {
    let env = Env::new();
    env.mkdir("src/d");
    env.mkdir("outside");
    env.file("outside/canary", "alive");
    env.file("src/a", "a");
    env.file("src/d/b", "b");
    symlink("../a", env.path("src/d/l")).unwrap();
    let out = fixture::output(&mut env.knot(["copy", "src", "dst"]));
    assert!(out.status.success(), "{out:?}");
    env
}

#[test]
fn mirror_reports_what_it_updated_and_removed_then_that_nothing_changed() {
    let env = copied();
    env.file("src/a", "longer");
    env.file("dst/extra", "x");
    env.mkdir("dst/d/olddir/deeper");
    symlink(env.path("outside"), env.path("dst/escape")).unwrap();
    // d's time in SRC, surely not its copy's (not left to the clock's tick).
    fs::File::open(env.path("src/d"))
        .unwrap()
        .set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000))
        .unwrap();
    // d's time differs: given SRC's, an update.
    let dry = [1, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 3];
    let lines = "updated 'src/a'\n\
                 updated 'src/d'\n\
                 removed 'dst/d/olddir'\n\
                 removed 'dst/escape'\n\
                 removed 'dst/extra'\n";
    run(
        &mut env.knot(["copy", "--mirror", "--dry-run", "src", "dst"]),
        0,
        lines,
        &summary(dry, "would copy (dry run: nothing was copied):", ""),
    );
    assert_eq!(env.names_in("dst"), ["a", "d", "escape", "extra"]);
    run(
        &mut env.knot(["copy", "--mirror", "src", "dst"]),
        0,
        lines,
        &summary(dry, "copied:", ""),
    );
    assert_eq!(env.names_in("dst"), ["a", "d"]);
    assert_eq!(env.names_in("dst/d"), ["b", "l"]);
    assert_eq!(fs::read_to_string(env.path("dst/a")).unwrap(), "longer");
    assert_eq!(env.names_in("outside"), ["canary"]);
    // Again: nothing to do, and the copy keeps every inode and time.
    let before = fs::metadata(env.path("dst/a")).unwrap();
    run(
        &mut env.knot(["copy", "--mirror", "src", "dst"]),
        0,
        "",
        &summary(
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0],
            "copied:",
            "nothing changed: DST is up to date\n",
        ),
    );
    let after = fs::metadata(env.path("dst/a")).unwrap();
    assert_eq!(
        (after.ino(), after.mtime(), after.mtime_nsec()),
        (before.ino(), before.mtime(), before.mtime_nsec())
    );
}

/// `--update` leaves what SRC no longer has; `--json` has no record of what was left
/// as it was.
#[test]
fn update_keeps_extras_and_json_lists_only_changes() {
    let env = copied();
    env.file("src/d/b", "bb");
    env.file("dst/extra", "x");
    let found = records(&mut env.knot(["copy", "--update", "--json", "src", "dst"]));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["path"], "src/d/b");
    assert_eq!(found[0]["copy"], "dst/d/b");
    assert_eq!(found[0]["action"], "updated");
    assert_eq!(env.names_in("dst"), ["a", "d", "extra"]);
    assert_eq!(fs::read_to_string(env.path("dst/d/b")).unwrap(), "bb");
}

/// `--checksum` only with `--update` or `--mirror`; without either, a DST with entries is
/// still refused, and the hint names them.
#[test]
fn checksum_needs_update_and_a_full_destination_is_still_refused() {
    let env = copied();
    let out = fixture::output(&mut env.knot(["copy", "--checksum", "src", "dst"]));
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    run(
        &mut env.knot(["copy", "src", "dst"]),
        1,
        "",
        "knot: cannot copy 'dst': it is there and is not an empty directory; knot copy makes \
         a new tree unless told to update one\n\
         knot: hint: name a new path, or an empty directory, as the destination; or add \
         --update (or --mirror) to bring an earlier copy up to date\n",
    );
}

/// A directory to remove with another file system mounted below it (a bind mount of a
/// directory outside, the same file system) is not entered: the failure is reported, and
/// nothing of what is mounted there is removed.
#[test]
fn mirror_never_removes_through_a_mount_point() {
    let env = copied();
    env.mkdir("dst/old/mnt");
    env.file("dst/old/f", "x");
    let Some(_bound) = fixture::bind(
        "mirror_never_removes_through_a_mount_point",
        &env.path("outside"),
        &env.path("dst/old/mnt"),
    ) else {
        return;
    };
    let out = fixture::output(&mut env.knot(["copy", "--mirror", "src", "dst"]));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("knot: cannot copy 'dst/old': another file system is mounted there"),
        "{stderr}"
    );
    assert_eq!(env.names_in("outside"), ["canary"]);
    assert_eq!(
        fs::read_to_string(env.path("outside/canary")).unwrap(),
        "alive"
    );
}

/// A file whose copy fails halfway (DST's file system full) leaves no file under its name
/// and no staged copy under a hidden one; with `--update`, the old copy stays whole under
/// its name.
#[test]
fn a_copy_that_fails_halfway_leaves_no_half_file() {
    let env = Env::new();
    env.mkdir("src");
    env.mkdir("dst");
    let big: String = "0123456789abcdef".repeat(64 * 1024);
    env.file("src/big", &big);
    let Some(_small) = fixture::small_tmpfs(
        "a_copy_that_fails_halfway_leaves_no_half_file",
        &env.path("dst"),
        "256k",
    ) else {
        return;
    };
    let out = fixture::output(&mut env.knot(["copy", "src", "dst"]));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("knot: cannot copy 'dst/big'"), "{stderr}");
    assert!(env.names_in("dst").is_empty(), "{:?}", env.names_in("dst"));
    // An earlier copy, replaced by a larger file that does not fit: kept whole.
    env.file("dst/big", "old");
    let out = fixture::output(&mut env.knot(["copy", "--update", "src", "dst"]));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(env.names_in("dst"), ["big"]);
    assert_eq!(fs::read_to_string(env.path("dst/big")).unwrap(), "old");
}

/// `--outer copy` with `--mirror`: the copy of what an outer link leads to is brought up
/// to date through the link, and a second run changes nothing and says so.
#[test]
fn outer_copy_with_mirror_updates_what_the_links_lead_to() {
    let env = Env::new();
    env.mkdir("src");
    env.mkdir("outside");
    env.file("outside/a", "a");
    env.file("outside/gone", "gone");
    std::os::unix::fs::symlink(env.path("outside"), env.path("src/dir")).unwrap();
    let copy = ["copy", "-q", "--outer", "copy", "--mirror", "src", "dst"];
    let out = fixture::output(&mut env.knot(copy));
    assert!(out.status.success(), "{out:?}");
    assert_eq!(env.names_in("dst/dir"), ["a", "gone"]);
    fs::remove_file(env.path("outside/gone")).unwrap();
    let out = fixture::output(&mut env.knot(copy));
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        // The directory's time changed with the name gone.
        "updated 'src/dir'\nremoved 'dst/dir/gone'\n"
    );
    assert_eq!(env.names_in("dst/dir"), ["a"]);
    let out = fixture::output(&mut env.knot(["copy", "--outer", "copy", "--mirror", "src", "dst"]));
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("nothing changed"),
        "{out:?}"
    );
}

/// Gives `path` and everything below it to `nobody` where the tests run as root, so
/// [`fixture::as_nobody`] may write there.
fn give_to_nobody(path: &std::path::Path) {
    if !rustix::process::geteuid().is_root() {
        return;
    }
    std::os::unix::fs::lchown(path, Some(65534), Some(65534)).unwrap();
    if fs::symlink_metadata(path).unwrap().is_dir() {
        for entry in fs::read_dir(path).unwrap() {
            give_to_nobody(&entry.unwrap().path());
        }
    }
}

/// Under `--mirror`, a directory of DST where SRC now has a file is replaced only once
/// the file is copied: a file that cannot be read leaves the directory and all in it as
/// they were, with no staged copy left beside it.
#[test]
fn a_directory_is_kept_where_the_file_replacing_it_cannot_be_copied() {
    use std::os::unix::fs::PermissionsExt as _;
    let env = Env::new();
    fs::set_permissions(env.dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
    env.mkdir("s");
    env.mkdir("d/x");
    env.file("d/x/precious", "keep");
    env.file("s/x", "new");
    fs::set_permissions(env.path("s/x"), fs::Permissions::from_mode(0o000)).unwrap();
    give_to_nobody(&env.path("s"));
    give_to_nobody(&env.path("d"));
    let out = fixture::as_nobody(&env, &["copy", "--mirror", "s", "d"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("knot: cannot copy 's/x'"), "{stderr}");
    assert_eq!(env.names_in("d"), ["x"]);
    assert_eq!(env.names_in("d/x"), ["precious"]);
    assert_eq!(
        fs::read_to_string(env.path("d/x/precious")).unwrap(),
        "keep"
    );
}

/// A directory of DST replaced by SRC's file under `--mirror` counts the file once: one
/// file and its bytes, one update.
#[test]
fn a_directory_replaced_by_a_file_counts_the_file_once() {
    let env = Env::new();
    env.mkdir("src");
    env.mkdir("dst/x/deeper");
    env.file("dst/x/deeper/f", "old");
    env.file("src/a", "ab");
    env.file("src/x", "cd");
    run(
        &mut env.knot(["copy", "--mirror", "src", "dst"]),
        0,
        "updated 'src/x'\n",
        &summary(
            [2, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0],
            "copied:",
            "",
        ),
    );
    assert_eq!(env.names_in("dst"), ["a", "x"]);
    assert_eq!(fs::read_to_string(env.path("dst/x")).unwrap(), "cd");
}

/// A hard-link group split in SRC (one name given a file of its own, the same bytes and
/// times) is split in DST by `--mirror`; two files joined into one group in SRC are
/// joined in DST. A run after each changes nothing.
#[test]
fn mirror_splits_and_joins_hard_link_groups_as_src_does() {
    let env = Env::new();
    env.mkdir("s");
    env.file("s/a", "same\n");
    fs::hard_link(env.path("s/a"), env.path("s/b")).unwrap();
    let out = fixture::output(&mut env.knot(["copy", "s", "d"]));
    assert!(out.status.success(), "{out:?}");
    let ino = |name: &str| fs::symlink_metadata(env.path(name)).unwrap().ino();
    assert_eq!(ino("d/a"), ino("d/b"));
    // Split: b a file of its own, as `cp -p s/a s/b.n; mv s/b.n s/b` makes it.
    let split = std::process::Command::new("cp")
        .args(["-p", "s/a", "s/b.n"])
        .current_dir(env.dir.path())
        .status()
        .unwrap();
    assert!(split.success());
    fs::rename(env.path("s/b.n"), env.path("s/b")).unwrap();
    let out = fixture::output(&mut env.knot(["copy", "--mirror", "s", "d"]));
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("updated 's/"), "{stdout}");
    assert_ne!(ino("d/a"), ino("d/b"));
    for name in ["d/a", "d/b"] {
        let meta = fs::symlink_metadata(env.path(name)).unwrap();
        assert_eq!(meta.nlink(), 1, "{name}");
        assert_eq!(fs::read_to_string(env.path(name)).unwrap(), "same\n");
    }
    let out = fixture::output(&mut env.knot(["copy", "--mirror", "s", "d"]));
    assert!(
        String::from_utf8_lossy(&out.stderr).ends_with("nothing changed: DST is up to date\n"),
        "{out:?}"
    );
    // Joined again: b another name of a.
    fs::remove_file(env.path("s/b")).unwrap();
    fs::hard_link(env.path("s/a"), env.path("s/b")).unwrap();
    let out = fixture::output(&mut env.knot(["copy", "--mirror", "s", "d"]));
    assert!(out.status.success(), "{out:?}");
    assert_eq!(ino("d/a"), ino("d/b"));
    assert_eq!(fs::symlink_metadata(env.path("d/a")).unwrap().nlink(), 2);
    let out = fixture::output(&mut env.knot(["copy", "--mirror", "s", "d"]));
    assert!(
        String::from_utf8_lossy(&out.stderr).ends_with("nothing changed: DST is up to date\n"),
        "{out:?}"
    );
    // DST's group holds a name SRC has as a file of its own (c), and lacks one (b).
    let cp = |from: &str, to: &str| {
        let copied = std::process::Command::new("cp")
            .args(["-p", from, to])
            .current_dir(env.dir.path())
            .status()
            .unwrap();
        assert!(copied.success());
    };
    cp("s/a", "s/c");
    fs::remove_file(env.path("d/b")).unwrap();
    cp("d/a", "d/b");
    fs::hard_link(env.path("d/a"), env.path("d/c")).unwrap();
    let out = fixture::output(&mut env.knot(["copy", "--mirror", "s", "d"]));
    assert!(out.status.success(), "{out:?}");
    assert_eq!(ino("d/a"), ino("d/b"));
    assert_eq!(fs::symlink_metadata(env.path("d/a")).unwrap().nlink(), 2);
    assert_eq!(fs::symlink_metadata(env.path("d/c")).unwrap().nlink(), 1);
    assert_eq!(fs::read_to_string(env.path("d/c")).unwrap(), "same\n");
}

/// A hard-link group whose first name met cannot be copied (a directory stands at its place
/// in DST, which `--update` leaves) keeps its other names together: the next name is copied
/// and says why (`first-failed`), the last is linked to it, and the summary counts the
/// group as short of a name. The walk reads a directory whole before the ones below it, so
/// `a` is met first, then `d/b`, then `d/e/c`.
#[test]
fn update_keeps_a_group_whose_first_copy_failed_together_and_says_so() {
    let env = Env::new();
    env.mkdir("src/d/e");
    env.file("src/a", "data");
    fs::hard_link(env.path("src/a"), env.path("src/d/b")).unwrap();
    fs::hard_link(env.path("src/a"), env.path("src/d/e/c")).unwrap();
    env.mkdir("dst/a");
    env.file("dst/a/keep", "there");
    run(
        &mut env.knot(["copy", "--update", "src", "dst"]),
        1,
        "first-failed 'dst/d/b': copied, as the copy of 'dst/a', another name of its file, \
         failed\n\
         linked 'dst/d/e/c' => 'dst/d/b'\n",
        &format!(
            "knot: cannot copy 'dst/a': a directory stands at its place in DST (--mirror \
             replaces it)\n{}",
            summary(
                [1, 4, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0],
                "copied:",
                ""
            )
        ),
    );
    let ino = |name: &str| fs::symlink_metadata(env.path(name)).unwrap().ino();
    assert_eq!(ino("dst/d/b"), ino("dst/d/e/c"));
    assert_eq!(fs::read_to_string(env.path("dst/a/keep")).unwrap(), "there");
    // The JSON record says so too, naming the copy that failed.
    env.mkdir("json/a");
    let out = fixture::output(&mut env.knot(["copy", "--update", "--json", "src", "json"]));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let found = fixture::json_lines(&out.stdout);
    let record = found.iter().find(|r| r["path"] == "src/d/b").unwrap();
    assert_eq!(record["action"], "first-failed", "{found:#?}");
    assert_eq!(record["new_target"], "json/a", "{found:#?}");
}

/// `--mirror` removes a tree of DST deeper than any stack would hold a call per level
/// (10,000 directories, one in the other, made through descriptors): all of it, with
/// nothing left half removed.
#[test]
fn mirror_removes_a_very_deep_tree() {
    use rustix::fs::{Mode, OFlags};
    let env = copied();
    env.mkdir("dst/deep");
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let mut fd = rustix::fs::open(env.path("dst/deep"), flags, Mode::empty()).unwrap();
    for _ in 0..10_000 {
        rustix::fs::mkdirat(&fd, "d", Mode::from_raw_mode(0o755)).unwrap();
        fd = rustix::fs::openat(&fd, "d", flags, Mode::empty()).unwrap();
    }
    rustix::fs::mkdirat(&fd, "f", Mode::from_raw_mode(0o755)).unwrap();
    drop(fd);
    let out = fixture::output(&mut env.knot(["copy", "--mirror", "src", "dst"]));
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "removed 'dst/deep'\n");
    assert_eq!(env.names_in("dst"), ["a", "d"]);
}

/// A read-only directory of DST (the copy of a read-only one) takes new entries under
/// `--mirror` run by its owner, as a fresh copy does: writable to its owner while they
/// are made, its own permissions given back at the end; an extra name in it is removed.
#[test]
fn mirror_writes_into_a_read_only_directory_of_its_copy() {
    use std::os::unix::fs::PermissionsExt as _;
    let env = Env::new();
    fs::set_permissions(env.dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
    env.mkdir("s/ro");
    env.file("s/ro/f", "f");
    fs::set_permissions(env.path("s/ro"), fs::Permissions::from_mode(0o555)).unwrap();
    give_to_nobody(&env.path("s"));
    let out = fixture::as_nobody(&env, &["copy", "s", "d"]);
    assert!(out.status.success(), "{out:?}");
    let mode = |name: &str| fs::symlink_metadata(env.path(name)).unwrap().mode() & 0o7777;
    assert_eq!(mode("d/ro"), 0o555);
    fs::set_permissions(env.path("s/ro"), fs::Permissions::from_mode(0o755)).unwrap();
    env.file("s/ro/g", "z");
    fs::remove_file(env.path("s/ro/f")).unwrap();
    fs::set_permissions(env.path("s/ro"), fs::Permissions::from_mode(0o555)).unwrap();
    give_to_nobody(&env.path("s"));
    let out = fixture::as_nobody(&env, &["copy", "--mirror", "s", "d"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(env.names_in("d/ro"), ["g"]);
    assert_eq!(fs::read_to_string(env.path("d/ro/g")).unwrap(), "z");
    assert_eq!(mode("d/ro"), 0o555);
}

/// A directory whose permissions or time changed in SRC is given them by `--update`, and
/// that is an update: reported, counted, and no "nothing changed". A run after changes
/// nothing.
#[test]
fn update_reports_a_directory_whose_permissions_and_time_changed() {
    use std::os::unix::fs::PermissionsExt as _;
    let env = copied();
    fs::set_permissions(env.path("src/d"), fs::Permissions::from_mode(0o700)).unwrap();
    let touched = std::process::Command::new("touch")
        .args(["-d", "2000-01-01", "src/d"])
        .current_dir(env.dir.path())
        .status()
        .unwrap();
    assert!(touched.success());
    run(
        &mut env.knot(["copy", "--update", "src", "dst"]),
        0,
        "updated 'src/d'\n",
        &summary(
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 4, 0],
            "copied:",
            "",
        ),
    );
    let meta = fs::symlink_metadata(env.path("dst/d")).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o700);
    assert_eq!(
        meta.mtime(),
        fs::symlink_metadata(env.path("src/d")).unwrap().mtime()
    );
    let out = fixture::output(&mut env.knot(["copy", "--update", "src", "dst"]));
    assert!(
        String::from_utf8_lossy(&out.stderr).ends_with("nothing changed: DST is up to date\n"),
        "{out:?}"
    );
}

/// A directory of DST its user may not write (read-only, and another's, so not made
/// writable either): the failure to write a new file into it names the DST path, not
/// SRC's file, which was readable.
#[test]
fn a_failure_to_write_into_dst_names_the_dst_path() {
    use std::os::unix::fs::PermissionsExt as _;
    if !rustix::process::geteuid().is_root() {
        fixture::skip(
            "KNOT_REQUIRE_XDEV",
            "a_failure_to_write_into_dst_names_the_dst_path",
            "not running as root (giving DST's directory to another user needs it)",
        );
        return;
    }
    let env = Env::new();
    fs::set_permissions(env.dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
    env.mkdir("s/ro");
    env.file("s/ro/g", "z");
    env.mkdir("d/ro");
    give_to_nobody(&env.path("s"));
    give_to_nobody(&env.path("d"));
    // d/ro stays root's, and read-only.
    std::os::unix::fs::lchown(env.path("d/ro"), Some(0), Some(0)).unwrap();
    fs::set_permissions(env.path("d/ro"), fs::Permissions::from_mode(0o555)).unwrap();
    let out = fixture::as_nobody(&env, &["copy", "--mirror", "s", "d"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("knot: cannot copy 'd/ro/g': "), "{stderr}");
    assert!(!stderr.contains("'s/ro/g'"), "{stderr}");
}
