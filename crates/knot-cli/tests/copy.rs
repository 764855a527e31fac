//! `knot copy` through the binary, with exact output: the lines of what is not a plain
//! copy, the summary, the JSON records, the refusals, `--dry-run`, `--xdev`.

use std::fs;
use std::os::unix::fs::symlink;

use crate::fixture::{self, Env, records, run};

/// A tree with one link of each class, a hard-link pair and a file. The pair's first name
/// is `src/g`: the walk reads a directory whole before the ones below it.
fn tree() -> Env {
    let env = Env::new();
    env.mkdir("src/d");
    env.mkdir("out");
    env.file("src/d/f", "data");
    fs::hard_link(env.path("src/d/f"), env.path("src/g")).unwrap();
    symlink(env.real().join("src/d/f"), env.path("src/abs")).unwrap();
    symlink("../g", env.path("src/d/rel")).unwrap();
    symlink("nosuch", env.path("src/gone")).unwrap();
    symlink(env.real().join("out"), env.path("src/out")).unwrap();
    env
}

/// The summary `knot copy` ends with on standard error.
pub(crate) fn summary(rows: [u64; 17], head: &str) -> String {
    table(&rows, head, "")
}

/// The summary `knot copy` or `knot snapshot` (with its first row) ends with.
pub(crate) fn table(rows: &[u64], head: &str, first: &str) -> String {
    let labels = [first]
        .into_iter()
        .filter(|first| !first.is_empty())
        .chain([
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
        ]);
    let width = rows.iter().map(|n| n.to_string().len()).max().unwrap();
    let mut out = format!("{head}\n");
    for (n, label) in rows.iter().zip(labels) {
        out.push_str(&format!("  {n:>width$}  {label}\n"));
    }
    out
}

#[test]
fn reports_what_is_not_a_plain_copy_and_sums_up() {
    let env = tree();
    let real = env.real();
    let real = real.to_str().unwrap();
    run(
        &mut env.knot(["copy", "src", "dst"]),
        0,
        &format!(
            "rewritten 'src/abs': '{real}/src/d/f' -> '{real}/dst/d/f'  [inner]\n\
             linked 'dst/d/f' => 'dst/g'\n\
             kept 'src/gone' -> 'nosuch'  [dangling]\n\
             kept 'src/out' -> '{real}/out'  [outer]\n"
        ),
        &summary(
            [1, 4, 2, 4, 0, 1, 0, 0, 0, 1, 2, 0, 1, 0, 0, 0, 0],
            "copied:",
        ),
    );
    assert_eq!(
        fs::read_link(env.path("dst/abs")).unwrap(),
        env.real().join("dst/d/f")
    );
    assert_eq!(
        fs::read_link(env.path("dst/d/rel")).unwrap().to_str(),
        Some("../g")
    );
    assert_eq!(fs::read_to_string(env.path("dst/g")).unwrap(), "data");
}

/// `-v` lists the plain copies too (files, directories, a link copied as it is), in the
/// same order by path; standard error, a pipe here, has the summary and no progress line.
#[test]
fn verbose_lists_the_plain_copies_too() {
    let env = tree();
    let real = env.real();
    let real = real.to_str().unwrap();
    run(
        &mut env.knot(["copy", "-v", "src", "dst"]),
        0,
        &format!(
            "copied 'src'\n\
             rewritten 'src/abs': '{real}/src/d/f' -> '{real}/dst/d/f'  [inner]\n\
             copied 'src/d'\n\
             linked 'dst/d/f' => 'dst/g'\n\
             copied 'src/d/rel' -> '../g'  [inner]\n\
             copied 'src/g'\n\
             kept 'src/gone' -> 'nosuch'  [dangling]\n\
             kept 'src/out' -> '{real}/out'  [outer]\n"
        ),
        &summary(
            [1, 4, 2, 4, 0, 1, 0, 0, 0, 1, 2, 0, 1, 0, 0, 0, 0],
            "copied:",
        ),
    );
}

#[test]
fn json_has_one_record_per_entry_with_class_and_action() {
    let env = tree();
    let found = records(&mut env.knot(["copy", "--json", "-q", "src", "dst"]));
    let by_path = |path: &str| {
        found
            .iter()
            .find(|r| r["path"] == path)
            .unwrap_or_else(|| panic!("no record for {path}: {found:#?}"))
    };
    assert_eq!(found.len(), 8, "{found:#?}");
    let abs = by_path("src/abs");
    assert_eq!(abs["kind"], "symlink");
    assert_eq!(abs["class"], "inner");
    assert_eq!(abs["action"], "rewritten");
    assert_eq!(abs["copy"], "dst/abs");
    assert_eq!(
        abs["new_target"],
        env.real().join("dst/d/f").to_str().unwrap()
    );
    assert_eq!(abs["error"], serde_json::Value::Null);
    assert_eq!(by_path("src/d/rel")["action"], "copied");
    assert_eq!(by_path("src/d/rel")["class"], "inner");
    assert_eq!(by_path("src/gone")["class"], "dangling");
    assert_eq!(by_path("src/out")["class"], "outer");
    assert_eq!(by_path("src/out")["action"], "kept");
    assert_eq!(by_path("src/d")["kind"], "dir");
    let hard: Vec<_> = ["src/d/f", "src/g"]
        .iter()
        .map(|p| by_path(p)["action"].clone())
        .collect();
    assert!(hard.contains(&"linked".into()), "{hard:?}");
}

/// `--json` writes each record as the walk meets it, none held until the copy is done:
/// on one thread, a directory's entries come before those below them (`src/g` before
/// `src/d/f`, which sorting by path would put first).
#[test]
fn json_records_come_as_the_walk_meets_them() {
    let env = tree();
    let found = records(&mut env.knot(["copy", "--json", "-q", "--threads", "1", "src", "dst"]));
    let at = |path: &str| {
        found
            .iter()
            .position(|r| r["path"] == path)
            .unwrap_or_else(|| panic!("no record for {path}: {found:#?}"))
    };
    assert_eq!(found.len(), 8, "{found:#?}");
    assert!(at("src/g") < at("src/d/f"), "{found:#?}");
}

#[test]
fn outer_skip_and_inner_keep() {
    let env = tree();
    let real = env.real();
    let real = real.to_str().unwrap();
    run(
        &mut env.knot([
            "copy", "-q", "--inner", "keep", "--outer", "skip", "src", "dst",
        ]),
        0,
        &format!(
            "kept 'src/abs' -> '{real}/src/d/f'  [inner]\n\
             linked 'dst/d/f' => 'dst/g'\n\
             kept 'src/gone' -> 'nosuch'  [dangling]\n\
             dropped 'src/out' -> '{real}/out'  [outer]\n"
        ),
        "",
    );
    assert!(fs::symlink_metadata(env.path("dst/out")).is_err());
    assert_eq!(
        fs::read_link(env.path("dst/abs")).unwrap(),
        env.real().join("src/d/f")
    );
}

#[test]
fn dry_run_makes_nothing() {
    let env = tree();
    let out = fixture::output(&mut env.knot(["copy", "--dry-run", "src", "dst"]));
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with("would copy (dry run: nothing was copied):\n"),
        "{out:?}"
    );
    assert_eq!(env.names(), ["out", "src"]);
}

#[test]
fn a_destination_with_entries_is_refused() {
    let env = tree();
    env.mkdir("dst");
    env.file("dst/there", "kept");
    run(
        &mut env.knot(["copy", "src", "dst"]),
        1,
        "",
        "knot: cannot copy 'dst': it is there and is not an empty directory; knot copy makes \
         a new tree unless told to update one\n\
         knot: hint: name a new path, or an empty directory, as the destination; or add \
         --update (or --mirror) to bring an earlier copy up to date\n",
    );
    assert_eq!(env.names_in("dst"), ["there"]);
    run(
        &mut env.knot(["copy", "src", "src/d/inside"]),
        1,
        "",
        "knot: cannot copy 'src/d/inside': it is inside 'src', which would copy the copy\n\
         knot: hint: choose a destination outside the source\n",
    );
}

/// A DST that is no directory is refused for what it is, with its fix, whatever
/// `--update` or `--mirror` says: a symlink (not followed at DST's name), a file.
#[test]
fn a_destination_that_is_no_directory_is_refused_for_what_it_is() {
    let env = tree();
    env.mkdir("old");
    symlink("old", env.path("oldlink")).unwrap();
    env.file("afile", "kept");
    run(
        &mut env.knot(["copy", "--update", "src", "oldlink"]),
        1,
        "",
        "knot: cannot copy 'oldlink': it is a link, which knot does not follow at the \
         destination's name\n\
         knot: hint: name the directory it leads to as the destination, or a new path\n",
    );
    run(
        &mut env.knot(["copy", "--mirror", "src", "afile"]),
        1,
        "",
        "knot: cannot copy 'afile': it is a file, not a directory\n\
         knot: hint: name a new path, or a directory, as the destination; or remove what is \
         there first\n",
    );
    assert_eq!(fs::read_to_string(env.path("afile")).unwrap(), "kept");
    assert!(env.names_in("old").is_empty());
}

/// `--outer copy`: an outer link's directory copied in its place, once; a second link to
/// it made a link to that copy; a link to an ancestor of SRC reported as a loop and copied
/// as a link; a file link copied as a file.
#[test]
fn outer_copy_copies_once_and_reports_the_loop() {
    let env = Env::new();
    env.mkdir("src");
    env.mkdir("out/sub");
    env.file("out/sub/x", "out");
    let real = env.real();
    symlink(&real, env.path("src/up")).unwrap();
    symlink("../out", env.path("src/o1")).unwrap();
    symlink("o1", env.path("src/o2")).unwrap();
    symlink("../out/sub/x", env.path("src/of")).unwrap();
    let real = real.to_str().unwrap();
    run(
        &mut env.knot(["copy", "--outer", "copy", "--threads", "1", "src", "dst"]),
        0,
        &format!(
            "followed 'src/o1' -> '../out'  [outer]\n\
             followed 'src/of' -> '../out/sub/x'  [outer]\n\
             kept 'src/up' -> '{real}'  [loop]\n"
        ),
        &summary(
            [2, 6, 3, 2, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0],
            "copied:",
        ),
    );
    assert_eq!(fs::read_to_string(env.path("dst/o1/sub/x")).unwrap(), "out");
    assert_eq!(fs::read_to_string(env.path("dst/of")).unwrap(), "out");
    assert!(fs::symlink_metadata(env.path("dst/of")).unwrap().is_file());
    assert_eq!(
        fs::read_link(env.path("dst/o2")).unwrap(),
        std::path::Path::new("o1")
    );
    assert_eq!(fs::read_link(env.path("dst/up")).unwrap(), env.real());
}

/// `knot snapshot --outer copy` copies what outer links lead to as `knot copy` does, and
/// links the files there unchanged since OLD to OLD's copies of them.
#[test]
fn snapshot_with_outer_copy_links_what_outer_links_lead_to() {
    use std::os::unix::fs::MetadataExt as _;
    let env = Env::new();
    env.mkdir("src");
    env.mkdir("out/sub");
    env.file("src/f", "a");
    env.file("out/sub/x", "o");
    symlink("../out", env.path("src/o")).unwrap();
    let out = fixture::output(&mut env.knot(["copy", "-q", "--outer", "copy", "src", "old"]));
    assert!(out.status.success(), "{out:?}");
    let out = fixture::output(&mut env.knot([
        "snapshot",
        "-q",
        "--outer",
        "copy",
        "src",
        "new",
        "--previous",
        "old",
    ]));
    assert!(out.status.success(), "{out:?}");
    let ino = |path: &str| fs::symlink_metadata(env.path(path)).unwrap().ino();
    assert!(fs::symlink_metadata(env.path("new/o")).unwrap().is_dir());
    assert_eq!(ino("new/o/sub/x"), ino("old/o/sub/x"));
    assert_eq!(ino("new/f"), ino("old/f"));
}

/// A failure is reported, the rest is copied, and the exit code says so: a file this
/// user may not read (the copy runs as `nobody`).
#[test]
fn a_failure_is_reported_and_the_rest_goes_on() {
    use std::os::unix::fs::PermissionsExt as _;
    let env = tree();
    env.mkdir("src/more");
    env.file("src/more/f", "x");
    env.file("src/secret", "hidden");
    fs::set_permissions(env.path("src/secret"), fs::Permissions::from_mode(0o000)).unwrap();
    fs::set_permissions(env.dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
    let out = fixture::as_nobody(&env, &["copy", "-q", "src", "dst"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("knot: cannot copy 'src/secret': ") && stderr.lines().count() == 1,
        "{stderr}"
    );
    assert_eq!(fs::read_to_string(env.path("dst/more/f")).unwrap(), "x");
    assert_eq!(fs::read_to_string(env.path("dst/d/f")).unwrap(), "data");
    assert!(fs::symlink_metadata(env.path("dst/secret")).is_err());
}

/// FIFOs are made anew and sockets left out, each said; a device is made as root, and
/// for anyone else refused with the reason, the rest copied.
#[cfg(target_os = "linux")]
#[test]
fn special_files_are_copied_or_said_why_not() {
    let env = Env::new();
    env.mkdir("src");
    env.file("src/f", "data");
    let made = std::process::Command::new("mkfifo")
        .arg(env.path("src/fifo"))
        .status()
        .unwrap();
    assert!(made.success());
    let _listener = std::os::unix::net::UnixListener::bind(env.path("src/sock")).unwrap();
    run(
        &mut env.knot(["copy", "src", "dst"]),
        0,
        "skipped 'src/sock'  [socket]\n",
        &summary(
            [1, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0],
            "copied:",
        ),
    );
    use std::os::unix::fs::FileTypeExt as _;
    let fifo = fs::symlink_metadata(env.path("dst/fifo")).unwrap();
    assert!(fifo.file_type().is_fifo());
    assert!(fs::symlink_metadata(env.path("dst/sock")).is_err());
    if !rustix::process::geteuid().is_root() {
        eprintln!("special_files_are_copied_or_said_why_not: not root, no device made to copy");
        return;
    }
    let dev = rustix::fs::makedev(1, 3);
    let kind = rustix::fs::FileType::CharacterDevice;
    let mode = rustix::fs::Mode::from_raw_mode(0o644);
    rustix::fs::mknodat(rustix::fs::CWD, env.path("src/null"), kind, mode, dev).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(env.dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
    let out = fixture::as_nobody(&env, &["copy", "-q", "src", "dst2"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "knot: cannot copy 'src/null': only root may make a device file (CAP_MKNOD); copy \
         as root, or leave it out of the source\n"
    );
    assert_eq!(fs::read_to_string(env.path("dst2/f")).unwrap(), "data");
}

/// With --xdev, a mount point below SRC is reported and not entered, and made in DST
/// empty, with the permissions its file system's root shows (as `cp -x` makes it); a
/// second run with --update leaves it as it is.
#[cfg(target_os = "linux")]
#[test]
fn xdev_reports_mount_points_and_does_not_enter_them() {
    let env = tree();
    env.mkdir("src/mnt");
    let Some(_mounted) = fixture::tmpfs("copy::xdev", &env.path("src/mnt")) else {
        return;
    };
    env.file("src/mnt/inside", "other fs");
    let out = fixture::output(&mut env.knot(["copy", "-q", "--xdev", "src", "dst"]));
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("not entered 'src/mnt'  [another file system]\n"),
        "{stdout}"
    );
    let made = fs::symlink_metadata(env.path("dst/mnt")).unwrap();
    assert!(made.is_dir());
    assert!(fixture::names(&env.path("dst/mnt")).is_empty());
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(env.path("src/mnt"), fs::Permissions::from_mode(0o750)).unwrap();
        let out = fixture::output(&mut env.knot(["copy", "-q", "--xdev", "src", "dst1"]));
        assert!(out.status.success(), "{out:?}");
        let mode = fs::metadata(env.path("dst1/mnt"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o750);
    }
    let out = fixture::output(&mut env.knot(["copy", "-q", "--xdev", "--update", "src", "dst"]));
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("not entered 'src/mnt'  [another file system]\n"),
        "{out:?}"
    );
    assert!(fixture::names(&env.path("dst/mnt")).is_empty());
    let out = fixture::output(&mut env.knot(["copy", "-q", "src", "dst2"]));
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        fs::read_to_string(env.path("dst2/mnt/inside")).unwrap(),
        "other fs"
    );
}

/// Run as a user who owns the file but is not in its group, the copy keeps the
/// set-user-ID bit (the owner is given) and drops the set-group-ID bit (the group is not),
/// as cp does. Needs root, to run knot as `nobody` (`setpriv`).
#[test]
fn set_id_bits_are_kept_only_where_the_owner_or_group_is_given() {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    if !rustix::process::geteuid().is_root() || which("setpriv").is_none() {
        eprintln!("skipping: needs root and setpriv");
        return;
    }
    let env = Env::new();
    env.mkdir("src");
    env.file("src/f", "data");
    let f = env.path("src/f");
    let nobody = 65534;
    std::os::unix::fs::chown(&f, Some(nobody), Some(0)).unwrap();
    fs::set_permissions(&f, fs::Permissions::from_mode(0o6755)).unwrap();
    for dir in [env.path(""), env.path("src")] {
        std::os::unix::fs::chown(&dir, Some(nobody), Some(nobody)).unwrap();
    }
    let knot = assert_cmd::cargo::cargo_bin("knot");
    let status = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(knot)
        .args(["copy", "-q", "src", "dst"])
        .current_dir(env.path(""))
        .status()
        .unwrap();
    assert!(status.success());
    let meta = fs::metadata(env.path("dst/f")).unwrap();
    assert_eq!(meta.uid(), nobody);
    assert_eq!(meta.mode() & 0o7777, 0o4755);
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// `--xattrs` gives each copy its extended attributes; without it, a copy has none.
#[cfg(target_os = "linux")]
#[test]
fn xattrs_are_copied_when_asked() {
    let env = Env::new();
    env.mkdir("src");
    env.file("src/f", "data");
    let get = |path: &str| {
        let mut value = [0u8; 64];
        rustix::fs::getxattr(env.path(path), "user.knot", &mut value)
            .map(|len| value[..len].to_vec())
    };
    rustix::fs::setxattr(
        env.path("src/f"),
        "user.knot",
        b"kept",
        rustix::fs::XattrFlags::empty(),
    )
    .unwrap();
    for (args, dst) in [
        (&["copy", "--xattrs", "src", "with"][..], "with/f"),
        (&["copy", "src", "without"], "without/f"),
    ] {
        let out = fixture::output(env.knot(args).arg("-q"));
        assert!(out.status.success(), "{args:?}: {out:?}");
        let expected = (dst == "with/f").then(|| b"kept".to_vec());
        assert_eq!(get(dst).ok(), expected, "{args:?}");
    }
}
