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

/// A snapshot's summary: the files unchanged (linked), those unchanged but copied as their
/// link was refused, then `knot copy`'s rows (`rest`).
fn summary(linked: u64, refused: u64, rest: &[u64]) -> String {
    let rows: Vec<u64> = [linked].into_iter().chain(rest.iter().copied()).collect();
    let width = rows.iter().map(|n| n.to_string().len()).max().unwrap();
    assert!(refused.to_string().len() <= width, "one width for all rows");
    let copy = table(&rows, "copied:", "unchanged (linked)");
    let mut lines: Vec<String> = copy.lines().map(str::to_owned).collect();
    lines.insert(
        2,
        format!("  {refused:>width$}  unchanged, copied (link refused)"),
    );
    lines.join("\n") + "\n"
}

#[test]
fn links_unchanged_files_and_sums_up() {
    let env = tree();
    run(
        &mut env.knot(["snapshot", "src", "new", "--previous", "old"]),
        0,
        "linked 'new/same' => 'old/same'\n",
        &summary(1, 0, &[1, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
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
        &summary(1, 0, &[1, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
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

/// NEW on another file system than OLD (a tmpfs, /dev/shm, against the temporary
/// directory's): no file could be linked, so the snapshot is refused before anything is
/// made, naming both and the fix.
#[cfg(target_os = "linux")]
#[test]
fn a_previous_copy_on_another_file_system_is_refused() {
    let env = tree();
    let shm = tempfile::tempdir_in("/dev/shm").expect("/dev/shm, a tmpfs on Linux");
    let dev = |path: &std::path::Path| fs::metadata(path).unwrap().dev();
    assert_ne!(
        dev(shm.path()),
        dev(env.dir.path()),
        "/dev/shm is a tmpfs of its own"
    );
    let old = shm.path().join("old");
    run(env.knot(["copy", "-q", "src"]).arg(&old), 0, "", "");
    let old = old.to_str().unwrap();
    run(
        &mut env.knot(["snapshot", "src", "new", "--previous", old]),
        1,
        "",
        &format!(
            "knot: cannot copy 'new': it is on another file system than the previous \
             snapshot '{old}', so no file could be linked to it; make the snapshot on the \
             file system of '{old}', or a full copy with knot copy\n"
        ),
    );
    assert_eq!(env.names(), ["old", "src"]);
    // The other way round: OLD on the disk, NEW on the tmpfs.
    let new = shm.path().join("new");
    let out = fixture::output(
        env.knot(["snapshot", "src"])
            .arg(&new)
            .args(["--previous", "old"]),
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("another file system than the previous snapshot 'old'"),
        "{out:?}"
    );
    assert!(!new.exists());
}

/// A user snapshotting files they do not own, with `fs.protected_hardlinks=1`: the system
/// refuses each link to OLD's file (EPERM), and knot copies the file instead, saying so
/// (link-refused) and counting it; nothing fails.
#[cfg(target_os = "linux")]
#[test]
fn a_refused_link_is_a_copy() {
    use std::os::unix::fs::PermissionsExt as _;
    if !rustix::process::geteuid().is_root() {
        let why = "not root: the files must belong to a user other than the one who snapshots";
        return fixture::skip("KNOT_REQUIRE_LIMITS", "a_refused_link_is_a_copy", why);
    }
    let protected = fs::read_to_string("/proc/sys/fs/protected_hardlinks").unwrap();
    if protected.trim() != "1" {
        let why = "fs.protected_hardlinks is not 1";
        return fixture::skip("KNOT_REQUIRE_LIMITS", "a_refused_link_is_a_copy", why);
    }
    let env = tree();
    fs::set_permissions(env.dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    env.mkdir("out");
    fs::set_permissions(env.path("out"), fs::Permissions::from_mode(0o777)).unwrap();
    let out = fixture::as_nobody(&env, &["snapshot", "src", "out/new", "--previous", "old"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "link-refused 'out/new/same': copied, as the system refused a hard link to \
         'old/same' (it is on another file system, or fs.protected_hardlinks lets this user \
         link only to files they own)\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        summary(0, 1, &[2, 8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    );
    assert_eq!(out.status.code(), Some(0));
    let ino = |path: &str| fs::metadata(env.path(path)).unwrap().ino();
    assert_ne!(ino("out/new/same"), ino("old/same"));
    assert_eq!(
        fs::read_to_string(env.path("out/new/same")).unwrap(),
        "same"
    );
    assert_eq!(
        fs::read_to_string(env.path("out/new/changed")).unwrap(),
        "new!"
    );
}

/// A previous snapshot that is SRC itself (by identity: here through a symlink) would
/// make NEW's files hard links to the live files; a NEW that is OLD, or inside it, would
/// write into OLD; a NEW with entries is no new tree. Each is refused naming OLD, with a
/// fix a snapshot has (no --update).
#[test]
fn refusals_name_old_and_the_fix() {
    let env = tree();
    std::os::unix::fs::symlink("src", env.path("srclink")).unwrap();
    run(
        &mut env.knot(["snapshot", "src", "new", "--previous", "srclink"]),
        1,
        "",
        "knot: cannot copy 'new': its previous snapshot 'srclink' is the source itself: its \
         files would be hard links to the live files, changing with them\n\
         knot: hint: name an earlier copy of SRC as --previous (`knot copy SRC OLD` makes the \
         first)\n",
    );
    run(
        &mut env.knot(["snapshot", "src", "old", "--previous", "old"]),
        1,
        "",
        "knot: cannot copy 'old': it is the previous snapshot 'old' itself\n\
         knot: hint: name a new path, or an empty directory, as NEW: a snapshot is a new tree \
         beside OLD, which it only reads\n",
    );
    env.mkdir("old/in");
    run(
        &mut env.knot(["snapshot", "src", "old/in/new", "--previous", "old"]),
        1,
        "",
        "knot: cannot copy 'old/in/new': it is inside the previous snapshot 'old', which a \
         snapshot only reads\n\
         knot: hint: choose a NEW outside 'old', beside it\n",
    );
    env.mkdir("full");
    env.file("full/there", "kept");
    run(
        &mut env.knot(["snapshot", "src", "full", "--previous", "old"]),
        1,
        "",
        "knot: cannot copy 'full': it is there and is not an empty directory; a snapshot is a \
         new tree\n\
         knot: hint: name a new path, or an empty directory, as NEW: a snapshot is a new tree \
         beside OLD, which it only reads\n",
    );
    assert_eq!(env.names(), ["full", "old", "src", "srclink"]);
    assert_eq!(env.names_in("old"), ["changed", "in", "same"]);
    assert!(env.names_in("old/in").is_empty());
}

/// A file system mounted inside OLD (a bind mount of OLD's own directory: the same
/// device, another mount): the system refuses a link across it (EXDEV), and knot copies
/// the file instead, saying so; the files outside it are linked.
#[cfg(target_os = "linux")]
#[test]
fn a_link_across_a_mount_inside_old_is_a_copy() {
    let test = "a_link_across_a_mount_inside_old_is_a_copy";
    let env = tree();
    env.mkdir("src/sub");
    env.file("src/sub/f", "f");
    run(
        &mut env.knot(["copy", "-q", "src/sub", "old/sub"]),
        0,
        "",
        "",
    );
    let sub = env.path("old/sub");
    let Some(_bound) = fixture::bind(test, &sub, &sub) else {
        return;
    };
    run(
        &mut env.knot(["snapshot", "src", "new", "--previous", "old"]),
        0,
        "linked 'new/same' => 'old/same'\n\
         link-refused 'new/sub/f': copied, as the system refused a hard link to 'old/sub/f' \
         (it is on another file system, or fs.protected_hardlinks lets this user link only to \
         files they own)\n",
        &summary(1, 1, &[2, 5, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    );
    let ino = |path: &str| fs::metadata(env.path(path)).unwrap().ino();
    assert_eq!(ino("new/same"), ino("old/same"));
    assert_ne!(ino("new/sub/f"), ino("old/sub/f"));
}
