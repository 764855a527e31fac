//! `knot git-links` on Linux: on the local file system and on an NTFS volume mounted
//! with ntfs-3g.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use knot_reparse::{ReparsePoint, Symlink};
use serde_json::Value;

use super::git;
use crate::fixture::{self, Env, ntfs3g::volume};

/// The absolute target the repository's `abs` link holds: on the volume under test
/// where there is one (a link to outside an NTFS volume is refused), else a file of the
/// origin's.
fn origin(dir: &Path, abs: &Path) -> PathBuf {
    let src = dir.join("origin");
    fs::create_dir_all(src.join("d/sub")).unwrap();
    fs::write(src.join("f.txt"), "file\n").unwrap();
    fs::write(src.join("d/sub/inner"), "inner\n").unwrap();
    let links: [(&str, &Path); 11] = [
        ("lf", Path::new("f.txt")),
        ("ld", Path::new("d")),
        // Links to a link to a directory, whose paths are placeholders when looked at.
        ("a", Path::new("ld")),
        ("b", Path::new("ld/sub")),
        ("d/up", Path::new("../f.txt")),
        ("d/nested", Path::new("sub/inner")),
        ("abs", abs),
        ("dangling", Path::new("nowhere")),
        ("attrdir", Path::new("d/sub")),
        ("later", Path::new("not/yet")),
        ("deep/er/ld", Path::new("../../d")),
    ];
    fs::create_dir_all(src.join("deep/er")).unwrap();
    for (link, target) in links {
        std::os::unix::fs::symlink(target, src.join(link)).unwrap();
    }
    // `later` leads nowhere yet, and is a directory link by its attribute.
    fs::write(
        src.join(".gitattributes"),
        "attrdir symlink=dir\nlater symlink=dir\n",
    )
    .unwrap();
    git(&src, ["init", "-q"]);
    git(&src, ["add", "-A"]);
    git(&src, ["commit", "-q", "-m", "links"]);
    src
}

/// A clone of `src` at `dir` as Git for Windows makes one without the symlink privilege:
/// placeholders, and `core.symlinks=false` in its config.
fn placeholder_clone(src: &Path, dir: &Path) {
    placeholder_clone_at(src, dir, "lf");
}

/// In `env`'s real directory: the origin repository (its absolute link to its own
/// `f.txt`) and a clone of it at `clone` with placeholders; the real directory, the
/// origin and the clone.
fn origin_and_placeholder_clone(env: &Env) -> (PathBuf, PathBuf, PathBuf) {
    let real = env.real();
    let src = origin(&real, &real.join("origin/f.txt"));
    let clone = real.join("clone");
    placeholder_clone(&src, &clone);
    (real, src, clone)
}

/// [`placeholder_clone`], checked at the entry `entry`.
fn placeholder_clone_at(src: &Path, dir: &Path, entry: &str) {
    git(
        dir.parent().unwrap(),
        [
            OsStr::new("-c"),
            OsStr::new("core.symlinks=false"),
            OsStr::new("clone"),
            OsStr::new("-q"),
            src.as_os_str(),
            dir.as_os_str(),
        ],
    );
    git(dir, ["config", "core.symlinks", "false"]);
    assert!(
        fs::symlink_metadata(dir.join(entry)).unwrap().is_file(),
        "a placeholder, not a link"
    );
}

/// `find DIR -type l -printf '%P -> %l\n'`, sorted: every link below `dir` and its text.
fn links(dir: &Path) -> String {
    let out = Process::new("find")
        .arg(dir)
        .args(["-type", "l", "-printf", "%P -> %l\n"])
        .output()
        .unwrap();
    let mut lines: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    lines.sort_unstable();
    lines.join("\n")
}

fn knot_in(dir: &Path) -> assert_cmd::Command {
    let mut cmd = fixture::knot();
    cmd.current_dir(dir).env("GIT_CONFIG_NOSYSTEM", "1");
    cmd.env("GIT_CONFIG_GLOBAL", "/dev/null");
    cmd
}

const CHECK: &str = "\
placeholder 'a' -> 'ld' (dir)
placeholder 'abs' -> 'ABS' (file)
placeholder 'attrdir' -> 'd/sub' (dir, by attribute)
placeholder 'b' -> 'ld/sub' (dir)
placeholder 'd/nested' -> 'sub/inner' (file)
placeholder 'd/up' -> '../f.txt' (file)
placeholder 'dangling' -> 'nowhere' (file)
placeholder 'deep/er/ld' -> '../../d' (dir)
placeholder 'later' -> 'not/yet' (dir, by attribute)
placeholder 'ld' -> 'd' (dir)
placeholder 'lf' -> 'f.txt' (file)
";

const FIXED: &str = "\
symlink 'a' -> 'ld' (dir)
symlink 'abs' -> 'ABS' (file)
symlink 'attrdir' -> 'd/sub' (dir, by attribute)
symlink 'b' -> 'ld/sub' (dir)
symlink 'd/nested' -> 'sub/inner' (file)
symlink 'd/up' -> '../f.txt' (file)
symlink 'dangling' -> 'nowhere' (file)
symlink 'deep/er/ld' -> '../../d' (dir)
symlink 'later' -> 'not/yet' (dir, by attribute)
symlink 'ld' -> 'd' (dir)
symlink 'lf' -> 'f.txt' (file)
";

/// `--check` lists every placeholder, with its target and flavour (the attribute's, else
/// the target's, else file), and exits 3; it changes nothing.
#[test]
fn check_lists_every_placeholder_and_exits_3() {
    let env = Env::new();
    let (real, _, clone) = origin_and_placeholder_clone(&env);
    let abs = real.join("origin/f.txt");
    let expected = CHECK.replace("ABS", abs.to_str().unwrap());
    fixture::run(
        knot_in(&clone).args(["git-links", "--check"]),
        3,
        &expected,
        "git-links:\n  11  placeholders\n   0  links already\n   0  others\n   0  unreadable\n",
    );
    assert_eq!(links(&clone), "", "nothing changed");
    // Given a directory of the work tree, only the entries below it, named as given; run
    // in it, named from there.
    fixture::run(
        knot_in(&clone).args(["git-links", "d", "--check", "-q"]),
        3,
        "placeholder 'd/nested' -> 'sub/inner' (file)\nplaceholder 'd/up' -> '../f.txt' (file)\n",
        "",
    );
    fixture::run(
        knot_in(&clone.join("d")).args(["git-links", "--check", "-q"]),
        3,
        "placeholder 'nested' -> 'sub/inner' (file)\nplaceholder 'up' -> '../f.txt' (file)\n",
        "",
    );
}

/// `--fix` makes the links a clone with symlinks has, byte for byte; `git status` is then
/// clean (core.symlinks was set to true, and said so); a second `--fix` changes nothing
/// and says so; `--check` then exits 0.
#[test]
fn fix_makes_the_links_of_a_normal_clone() {
    let env = Env::new();
    let real = env.real();
    let abs = real.join("origin/f.txt");
    let src = origin(&real, &abs);
    let clone = real.join("clone");
    placeholder_clone(&src, &clone);
    let normal = real.join("normal");
    git(
        &real,
        [
            OsStr::new("clone"),
            OsStr::new("-q"),
            src.as_os_str(),
            normal.as_os_str(),
        ],
    );
    let top = format!("'{}'", clone.display());
    fixture::run(
        knot_in(&clone).args(["git-links", "--fix"]),
        0,
        &FIXED.replace("ABS", abs.to_str().unwrap()),
        &format!(
            "knot: note: set core.symlinks=true in the config of {top}: Git now compares \
             these entries as links, and makes links in later checkouts\n\
             knot: note: refreshed the index of {top} (git update-index --refresh)\n\
             git-links:\n  11  symlinks made\n   0  fallbacks made\n   0  links already\n   \
             0  left as they are\n   0  failures\n"
        ),
    );
    assert_eq!(links(&clone), links(&normal));
    assert_eq!(links(&clone).lines().count(), 11);
    assert_eq!(git(&clone, ["status", "--porcelain"]), "");
    assert_eq!(git(&clone, ["config", "core.symlinks"]), "true\n");
    // Nothing was marked for Git to ignore.
    assert_eq!(
        git(&clone, ["ls-files", "-v"])
            .lines()
            .filter(|l| l.starts_with('h'))
            .count(),
        0
    );
    // No hidden name left behind.
    for dir in ["", "d", "deep/er"] {
        assert_eq!(
            fixture::names(&clone.join(dir)),
            fixture::names(&normal.join(dir)),
            "the same entries in '{dir}'"
        );
    }
    fixture::run(
        knot_in(&clone).args(["git-links", "--fix"]),
        0,
        "",
        "nothing to fix: 11 of 11 symlink entries are links already, 0 left as they are\n",
    );
    assert_eq!(links(&clone), links(&normal));
    fixture::run(
        knot_in(&clone).args(["git-links", "--check", "-q"]),
        0,
        "",
        "",
    );
}

/// An edited placeholder (no longer the target text), a missing one and a link already
/// in place are reported with their states and left as they are; the others are made.
#[test]
fn an_edited_placeholder_is_left_alone_and_reported() {
    let env = Env::new();
    let (_, _, clone) = origin_and_placeholder_clone(&env);
    fs::write(clone.join("lf"), "my own notes").unwrap();
    fs::remove_file(clone.join("ld")).unwrap();
    fs::remove_file(clone.join("d/up")).unwrap();
    std::os::unix::fs::symlink("../f.txt", clone.join("d/up")).unwrap();
    fs::remove_file(clone.join("d/nested")).unwrap();
    std::os::unix::fs::symlink("elsewhere", clone.join("d/nested")).unwrap();
    let records = fixture::records(knot_in(&clone).args(["git-links", "--fix", "--json"]));
    let by_path = |path: &str| -> &Value {
        records
            .iter()
            .find(|r| r["path"] == path)
            .unwrap_or_else(|| panic!("no record for {path}: {records:?}"))
    };
    let state = |path: &str| {
        let r = by_path(path);
        (
            r["state"].as_str().unwrap().to_owned(),
            r["action"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(records.len(), 11);
    assert_eq!(state("lf"), ("edited".into(), "none".into()));
    assert_eq!(state("ld"), ("missing".into(), "none".into()));
    assert_eq!(state("d/up"), ("link".into(), "none".into()));
    assert_eq!(state("d/nested"), ("other-link".into(), "none".into()));
    assert_eq!(state("attrdir"), ("placeholder".into(), "symlink".into()));
    assert_eq!(
        by_path("later"),
        &serde_json::json!({"path": "later", "target": "not/yet", "flavour": "dir",
            "state": "placeholder", "action": "symlink", "dry_run": false, "error": null})
    );
    assert_eq!(
        fs::read_to_string(clone.join("lf")).unwrap(),
        "my own notes"
    );
    assert!(fs::symlink_metadata(clone.join("ld")).is_err());
    assert_eq!(
        fs::read_link(clone.join("d/nested")).unwrap(),
        Path::new("elsewhere")
    );
    assert_eq!(
        fs::read_link(clone.join("attrdir")).unwrap(),
        Path::new("d/sub")
    );
    // The human lines say what was left and why.
    fs::write(clone.join("lf"), "my own notes").unwrap();
    let out = fixture::output(knot_in(&clone).args(["git-links", "--check", "-q"]));
    assert_eq!(out.status.code(), Some(0), "no placeholder left");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "other-link 'd/nested' -> 'elsewhere': not 'sub/inner', left as it is\n\
         missing 'ld': nothing there, left as it is\n\
         edited 'lf': not the target text 'f.txt', left as it is\n"
    );
}

/// `--dry-run` says what it would make and changes nothing, not even the config.
#[test]
fn a_dry_run_changes_nothing() {
    let env = Env::new();
    let real = env.real();
    let abs = real.join("origin/f.txt");
    let src = origin(&real, &abs);
    let clone = real.join("clone");
    placeholder_clone(&src, &clone);
    let out = fixture::output(knot_in(&clone).args(["git-links", "--fix", "--dry-run", "-q"]));
    assert_eq!(out.status.code(), Some(0));
    let expected: String = FIXED
        .replace("ABS", abs.to_str().unwrap())
        .lines()
        .map(|l| format!("would make {l}\n"))
        .collect();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
    assert_eq!(links(&clone), "");
    assert_eq!(git(&clone, ["config", "core.symlinks"]), "false\n");
}

/// Outside a work tree, or with Git missing, a clear error and exit 1; a usage error is 2.
#[test]
fn errors_name_the_path_and_the_fix() {
    let env = Env::new();
    fixture::run(
        knot_in(env.dir.path()).args(["git-links", "--check"]),
        1,
        "",
        "knot: cannot use the Git repository '.': `git rev-parse --show-toplevel` failed \
         (exit 128)\n\
         knot: git: fatal: not a git repository (or any of the parent directories): .git\n\
         knot: hint: give a directory of a Git work tree (default: the current directory)\n",
    );
    let src = origin(&env.real(), Path::new("/abs"));
    fixture::run(
        knot_in(&src)
            .env("PATH", "/nonexistent")
            .args(["git-links", "--check"]),
        1,
        "",
        "knot: cannot use the Git repository '.': cannot run `git` (No such file or directory \
         (os error 2)); is Git installed?\nknot: hint: install Git, or put it on PATH\n",
    );
    for args in [
        &["git-links"][..],
        &["git-links", "--check", "--fix"],
        &["git-links", "--check", "--dry-run"],
        &["git-links", "--fix", "--fallback", "none,copy"],
        &["git-links", "--fix", "--fallback", "symlink"],
    ] {
        let out = fixture::output(knot_in(&src).args(args));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

/// Where Git cannot refresh the index (another Git holds its lock), `--fix` says so, with
/// what Git said a line each, and exits 1: it does not go on as if refreshed, nor blame the
/// path given.
#[test]
fn a_failed_refresh_is_reported() {
    let env = Env::new();
    let (_, _, clone) = origin_and_placeholder_clone(&env);
    fs::write(clone.join(".git/index.lock"), "").unwrap();
    let out = fixture::output(knot_in(&clone).args(["git-links", "--fix", "-q"]));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let top = clone.to_str().unwrap();
    assert!(
        stderr.starts_with(&format!(
            "knot: cannot use the Git repository '{top}': \
             `git update-index --refresh` failed (exit 128)\n\
             knot: git: fatal: Unable to create '{top}/.git/index.lock': File exists.\n\
             knot: git: Another git process seems to be running in this repository, e.g.\n"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("\\n"), "a line each: {stderr}");
    assert!(!stderr.contains("hint: give a directory"), "{stderr}");
    assert!(!stderr.contains("refreshed the index"), "{stderr}");
    assert!(!stderr.contains("assume-unchanged"), "{stderr}");
    assert_eq!(fs::read_link(clone.join("lf")).unwrap(), Path::new("f.txt"));
}

/// Where symlinks need a privilege knot lacks (here pretended, as debug builds allow):
/// the hint names `--fallback`; a fallback that cannot fit moves on to the next, and the
/// last one's reason is said too; a dry run claims a copy only of a file.
#[test]
fn fallbacks_where_symlinks_are_refused() {
    if !symlinks_can_be_refused("fallbacks_where_symlinks_are_refused") {
        return;
    }
    let env = Env::new();
    let (_, _, clone) = origin_and_placeholder_clone(&env);
    let refused = || {
        let mut cmd = knot_in(&clone);
        cmd.env("KNOT_TEST_SYMLINK_PRIVILEGE", "none");
        cmd
    };
    let out = fixture::output(refused().args(["git-links", "--fix", "-q"]));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(
            "knot: cannot make a real link of 'lf': Windows lets only administrators create \
             symbolic links, unless Developer Mode is on (ERROR_PRIVILEGE_NOT_HELD)\n\
             knot: hint: turn on Developer Mode (Settings > System > For developers) or run \
             knot as administrator, or make junctions and hard links instead: \
             knot git-links --fix --fallback junction,hardlink\n"
        ),
        "{stderr}"
    );
    assert_eq!(links(&clone), "", "nothing made");

    let out = fixture::output(refused().args([
        "git-links",
        "--fix",
        "--dry-run",
        "--json",
        "--fallback",
        "copy",
    ]));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let records = fixture::json_lines(&out.stdout);
    let action = |path: &str| {
        records.iter().find(|r| r["path"] == path).unwrap()["action"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(action("lf"), "copy");
    assert_eq!(action("dangling"), "failed", "no copy of nothing");
    assert_eq!(action("ld"), "failed", "no copy of a directory");
    assert!(
        stderr.contains(
            "knot: the last fallback did not fit either: cannot make a real link of \
             'dangling': the target 'nowhere' does not exist\n"
        ),
        "{stderr}"
    );
    assert_eq!(links(&clone), "", "nothing made");
}

/// Git is asked about the repository that holds the path given, whatever GIT_DIR and
/// GIT_WORK_TREE say (as in a hook); a top directory whose name ends in `\r` is read
/// whole; and Git is never left waiting on a full pipe of its standard error.
#[test]
fn git_is_asked_about_the_path_and_read_whole() {
    let env = Env::new();
    let real = env.real();
    let src = origin(&real, &real.join("origin/f.txt"));
    let clone = real.join("clone\r");
    placeholder_clone(&src, &clone);
    let out = fixture::output(
        knot_in(&clone)
            .env("GIT_DIR", real.join("nowhere"))
            .env("GIT_WORK_TREE", real.join("nowhere"))
            .args(["git-links", "--check", "-q"]),
    );
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "",
        "the repository of the path given, its top read whole"
    );
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 11);

    // A `git` that says much on its standard error before it ends.
    let bin = real.join("bin");
    fs::create_dir(&bin).unwrap();
    fs::write(
        bin.join("git"),
        "#!/bin/sh\n/usr/bin/head -c 1000000 /dev/zero | /usr/bin/tr '\\0' x >&2\necho >&2\nexit 1\n",
    )
    .unwrap();
    let mut perms = fs::metadata(bin.join("git")).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    fs::set_permissions(bin.join("git"), perms).unwrap();
    let out = fixture::output(
        knot_in(&clone)
            .env("PATH", &bin)
            .timeout(std::time::Duration::from_secs(60))
            .args(["git-links", "--check", "-q"]),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "ended, not killed by the timeout"
    );
}

/// Whether this build of knot refuses symlinks when asked to (a debug build reads
/// `KNOT_TEST_SYMLINK_PRIVILEGE`); says so if not.
fn symlinks_can_be_refused(test: &str) -> bool {
    if !cfg!(debug_assertions) {
        fixture::skip(
            "KNOT_REQUIRE_DEBUG",
            test,
            "a release build refuses no symlinks (KNOT_TEST_SYMLINK_PRIVILEGE)",
        );
    }
    cfg!(debug_assertions)
}

/// The fallbacks made for real where symlinks are refused (as debug builds can pretend):
/// a hard link and a copy on the local file system, junctions and hard links on ntfs-3g;
/// each is marked `--assume-unchanged`, and `git status` stays clean.
#[test]
fn fallbacks_are_made_and_git_status_stays_clean() {
    if !symlinks_can_be_refused("fallbacks_are_made_and_git_status_stays_clean") {
        return;
    }
    let env = Env::new();
    let real = env.real();
    let src = origin(&real, &real.join("origin/f.txt"));
    let fallback = |clone: &Path, kinds: &str| {
        let out = fixture::output(
            knot_in(clone)
                .env("KNOT_TEST_SYMLINK_PRIVILEGE", "none")
                .args(["git-links", "--fix", "--json", "--fallback", kinds]),
        );
        let records = fixture::json_lines(&out.stdout);
        let action = move |path: &str| {
            records.iter().find(|r| r["path"] == path).unwrap()["action"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        (action, String::from_utf8(out.stderr).unwrap())
    };

    for (kinds, made) in [("hardlink", "hardlink"), ("copy", "copy")] {
        let clone = real.join(format!("clone-{kinds}"));
        placeholder_clone(&src, &clone);
        let (action, stderr) = fallback(&clone, kinds);
        assert_eq!(action("lf"), made, "{stderr}");
        assert_eq!(action("d/up"), made, "{stderr}");
        assert_eq!(action("ld"), "failed", "no {kinds} of a directory");
        assert_eq!(fs::read_to_string(clone.join("lf")).unwrap(), "file\n");
        let same = |a: &Path, b: &Path| {
            use std::os::unix::fs::MetadataExt as _;
            fs::metadata(a).unwrap().ino() == fs::metadata(b).unwrap().ino()
        };
        assert_eq!(
            same(&clone.join("lf"), &clone.join("f.txt")),
            kinds == "hardlink"
        );
        assert!(stderr.contains("--assume-unchanged"), "{stderr}");
        assert!(stderr.contains("'lf'"), "{stderr}");
        assert_eq!(git(&clone, ["status", "--porcelain"]), "", "{stderr}");
        assert!(
            git(&clone, ["ls-files", "-v", "lf"]).starts_with("h "),
            "lf is marked assume-unchanged"
        );
    }

    let Some(vol) = volume("fallbacks_are_made_and_git_status_stays_clean") else {
        return;
    };
    let clone = vol.path("clone");
    placeholder_clone(&src, &clone);
    let (action, stderr) = fallback(&clone, "junction,hardlink");
    for (path, made) in [
        ("ld", "junction"),
        ("a", "junction"),
        ("b", "junction"),
        ("attrdir", "junction"),
        ("deep/er/ld", "junction"),
        ("lf", "hardlink"),
        ("d/up", "hardlink"),
        ("d/nested", "hardlink"),
    ] {
        assert_eq!(action(path), made, "{path}: {stderr}");
    }
    // A junction's reparse tag (IO_REPARSE_TAG_MOUNT_POINT).
    assert_eq!(
        reparse(&clone.join("ld"))[..4],
        0xA000_0003u32.to_le_bytes()
    );
    assert_eq!(
        fs::read_to_string(clone.join("ld/sub/inner")).unwrap(),
        "inner\n"
    );
    assert_eq!(git(&clone, ["status", "--porcelain"]), "", "{stderr}");
}

/// The README's synopsis names every kind `--fallback` takes.
#[test]
fn the_readme_synopsis_names_every_fallback() {
    let readme = include_str!("../../../../README.md");
    let synopsis = readme
        .lines()
        .find(|line| line.starts_with("`knot git-links [REPO]"))
        .expect("a synopsis");
    for kind in ["junction", "hardlink", "copy", "none"] {
        assert!(synopsis.contains(kind), "{kind} in {synopsis}");
        let out = fixture::output(knot_in(Path::new("/")).args([
            "git-links",
            "--fix",
            "--dry-run",
            "--fallback",
            kind,
            "/nonexistent",
        ]));
        assert_ne!(out.status.code(), Some(2), "--fallback {kind} is taken");
    }
}

/// Names with spaces and bytes that are not UTF-8, in the link's path and its target,
/// are made as Git would make them.
#[test]
fn names_with_spaces_and_other_bytes() {
    use std::os::unix::ffi::OsStrExt as _;
    let env = Env::new();
    let real = env.real();
    let src = real.join("origin");
    fs::create_dir_all(src.join("a dir")).unwrap();
    let odd = OsStr::from_bytes(b"t\xfe");
    fs::write(src.join(odd), "odd\n").unwrap();
    std::os::unix::fs::symlink("a dir", src.join("sp ace")).unwrap();
    std::os::unix::fs::symlink(odd, src.join(OsStr::from_bytes(b"l\xff"))).unwrap();
    fs::write(src.join("a dir/f"), "f\n").unwrap();
    git(&src, ["init", "-q"]);
    git(&src, ["add", "-A"]);
    git(&src, ["commit", "-q", "-m", "links"]);
    let clone = real.join("clone");
    placeholder_clone_at(&src, &clone, "sp ace");
    let out = fixture::output(knot_in(&clone).args(["git-links", "--fix", "-q"]));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        fs::read_link(clone.join("sp ace")).unwrap(),
        Path::new("a dir")
    );
    assert_eq!(
        fs::read_link(clone.join(OsStr::from_bytes(b"l\xff"))).unwrap(),
        Path::new(odd)
    );
    assert_eq!(git(&clone, ["status", "--porcelain"]), "");
}

/// The reparse point of `path` itself, as ntfs-3g stores it: its bytes.
fn reparse(path: &Path) -> Vec<u8> {
    let mut buffer = vec![0; 16 * 1024];
    let len = rustix::fs::lgetxattr(path, "system.ntfs_reparse_data", &mut buffer)
        .unwrap_or_else(|e| panic!("no reparse point on {}: {e}", path.display()));
    buffer.truncate(len);
    buffer
}

/// On an NTFS volume (a checkout on a Windows drive, repaired from Linux), the links are
/// real NTFS symlinks: relative, their separators `\` as Git for Windows writes them, of
/// the flavour asked; read back by their bytes after a remount. A link to outside the
/// volume is refused with the reason, and its placeholder kept. `git status` is clean but
/// for it.
#[test]
fn fix_on_ntfs3g_makes_real_ntfs_symlinks() {
    let Some(vol) = volume("fix_on_ntfs3g_makes_real_ntfs_symlinks") else {
        return;
    };
    let env = Env::new();
    let real = env.real();
    let src = origin(&real, Path::new("/etc/hostname"));
    let clone = vol.path("clone");
    placeholder_clone(&src, &clone);
    let out = fixture::output(knot_in(&clone).args(["git-links", "--fix", "--json"]));
    assert_eq!(out.status.code(), Some(1), "the link to outside is refused");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with(&format!(
            "knot: cannot make a real link of 'abs': the target '/etc/hostname' is outside \
             the NTFS volume mounted at '{}'",
            vol.mnt.display()
        )),
        "{stderr}"
    );
    let records = fixture::json_lines(&out.stdout);
    assert_eq!(records.len(), 11);
    let abs = records.iter().find(|r| r["path"] == "abs").unwrap();
    assert_eq!(
        (
            &abs["target"],
            &abs["flavour"],
            &abs["action"],
            &abs["state"]
        ),
        (
            &"/etc/hostname".into(),
            &"file".into(),
            &"failed".into(),
            &"placeholder".into()
        )
    );
    assert!(
        abs["error"]
            .as_str()
            .unwrap()
            .starts_with("cannot make a real link of 'abs': the target '/etc/hostname' is outside"),
        "{abs}"
    );
    vol.remount();
    let expected = [
        ("lf", "f.txt", false),
        ("ld", "d", true),
        ("d/up", "..\\f.txt", false),
        ("d/nested", "sub\\inner", false),
        ("dangling", "nowhere", false),
        ("attrdir", "d\\sub", true),
        ("later", "not\\yet", true),
        ("deep/er/ld", "..\\..\\d", true),
        ("a", "ld", true),
        ("b", "ld\\sub", true),
    ];
    for (link, target, dir) in expected {
        let path = clone.join(link);
        let bytes = reparse(&path);
        // Byte for byte the relative symlink Windows writes for that text (the codec's
        // encoding, which the golden vectors of `mklink` on Windows 11 pin down).
        assert_eq!(
            bytes,
            knot_reparse::encode(&ReparsePoint::from(Symlink::relative(target))).unwrap(),
            "{link}"
        );
        match knot_reparse::decode(&bytes).unwrap() {
            ReparsePoint::Symlink(s) => {
                assert_eq!(s.print_name.to_string_lossy(), target, "{link}");
                assert_eq!(s.substitute_name.to_string_lossy(), target, "{link}");
                assert_eq!(s.flags & 1, 1, "{link} is relative");
            }
            other => panic!("{link} is no NTFS symlink: {other:?}"),
        }
        // The flavour: a directory symlink is a directory in NTFS's own records, which
        // ntfs-3g shows in `system.ntfs_attrib` (FILE_ATTRIBUTE_DIRECTORY, 0x10).
        let mut attrib = [0; 4];
        rustix::fs::lgetxattr(&path, "system.ntfs_attrib", &mut attrib).unwrap();
        assert_eq!(
            u32::from_le_bytes(attrib) & 0x10 != 0,
            dir,
            "{link}'s flavour"
        );
    }
    assert!(fs::symlink_metadata(clone.join("abs")).unwrap().is_file());
    assert_eq!(git(&clone, ["status", "--porcelain"]), " T abs\n");
    assert_eq!(fs::read_to_string(clone.join("d/up")).unwrap(), "file\n");
}

/// Rounds of the race below, placeholders in its directory, and the most swaps the racer
/// makes in one round, whatever knot's speed.
const ROUNDS: usize = 8;
const PLACEHOLDERS: usize = 40;
const SWAPS: usize = 200_000;

/// The names and contents of the entries of `dir`, sorted, links marked.
fn contents(dir: &Path) -> Vec<(String, String)> {
    let mut found: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let what = match fs::read_link(e.path()) {
                Ok(target) => format!("link to {}", target.display()),
                Err(_) => fs::read_to_string(e.path()).unwrap(),
            };
            (e.file_name().to_string_lossy().into_owned(), what)
        })
        .collect();
    found.sort();
    found
}

/// While `--fix` works, a racer swaps the directory `sub` of placeholders again and again
/// with `s`, a link to a directory outside the work tree holding files with the same
/// names and bytes (`renameat2(RENAME_EXCHANGE)`). Whatever the timing, nothing outside
/// may change: each directory on the way is opened from the top without following a
/// link, and the placeholder replaced through it. Checked every round; the racer must
/// have swapped, and knot must have met the swapped directory (an entry not made).
#[test]
fn fix_never_changes_files_through_a_swapped_directory() {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    let env = Env::new();
    let real = env.real();
    let src = real.join("origin");
    fs::create_dir_all(src.join("sub")).unwrap();
    for i in 0..PLACEHOLDERS {
        std::os::unix::fs::symlink(format!("t{i}"), src.join(format!("sub/l{i}"))).unwrap();
    }
    git(&src, ["init", "-q"]);
    git(&src, ["add", "-A"]);
    git(&src, ["commit", "-q", "-m", "links"]);
    let clone = real.join("clone");
    placeholder_clone_at(&src, &clone, "sub/l0");
    let (sub, s, outside) = (clone.join("sub"), clone.join("s"), real.join("outside"));
    fs::create_dir(&outside).unwrap();
    for i in 0..PLACEHOLDERS {
        fs::write(outside.join(format!("l{i}")), format!("t{i}")).unwrap();
    }
    std::os::unix::fs::symlink(&outside, &s).unwrap();
    let before = contents(&outside);
    let working = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicUsize::new(0));
    let mut met = 0;
    for round in 0..ROUNDS {
        // The real directory back at `sub`, its placeholders as checked out.
        if fs::symlink_metadata(&sub).unwrap().file_type().is_symlink() {
            renameat_with(CWD, &sub, CWD, &s, RenameFlags::EXCHANGE).unwrap();
        }
        for i in 0..PLACEHOLDERS {
            let path = sub.join(format!("l{i}"));
            let _ = fs::remove_file(&path);
            fs::write(&path, format!("t{i}")).unwrap();
        }
        working.store(true, Ordering::Release);
        let racer = {
            let (sub, s, working, swaps) = (sub.clone(), s.clone(), working.clone(), swaps.clone());
            std::thread::spawn(move || {
                for _ in 0..SWAPS {
                    if !working.load(Ordering::Acquire) {
                        break;
                    }
                    renameat_with(CWD, &sub, CWD, &s, RenameFlags::EXCHANGE).unwrap();
                    swaps.fetch_add(1, Ordering::Relaxed);
                }
            })
        };
        let out = fixture::output(knot_in(&clone).args(["git-links", "--fix", "--json"]));
        working.store(false, Ordering::Release);
        racer.join().unwrap();
        assert_eq!(
            contents(&outside),
            before,
            "round {round}: knot changed files outside the work tree\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let made = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains(r#""action":"symlink""#))
            .count();
        if made < PLACEHOLDERS {
            met += 1;
        }
    }
    assert!(swaps.load(Ordering::Relaxed) > 0, "the racer never swapped");
    assert!(met > 0, "knot never met the swapped directory");
}

/// The help says what the command does, how it is called, and its exit codes.
#[test]
fn help_says_what_it_does_and_how_it_ends() {
    let out = fixture::output(fixture::knot().args(["git-links", "--help"]));
    assert_eq!(out.status.code(), Some(0));
    // Words, not lines: the help wraps to the terminal's width.
    let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let help = words(&String::from_utf8(out.stdout).unwrap());
    for part in [
        "Find the symlinks of a Git repository that were checked out as placeholders",
        "Usage: knot git-links [REPO] (--check | --fix) [--fallback KIND,...] [--dry-run] \
         [--json]",
        "--fallback <KIND>",
        "where symlinks were made and core.symlinks was false it is set to true",
        "3 --check found placeholders.",
    ] {
        assert!(help.contains(&words(part)), "{part:?} in {help}");
    }
    let out = fixture::output(fixture::knot().args(["--help"]));
    let top = words(&String::from_utf8(out.stdout).unwrap());
    assert!(
        top.contains("git-links Find a Git repository's symlinks checked out as"),
        "{top}"
    );
}
