//! `knot git-links` on Windows: placeholders found and made Windows symlinks, with `\`
//! separators and the flavour asked, as Git for Windows makes them. Wine cannot run a Git
//! of its own here, so under Wine only the refusal without Git runs; on real Windows
//! (`KNOT_REQUIRE_WINDOWS=1`, the Windows CI job) the whole repair must run.

use std::fs;
use std::os::windows::fs::FileTypeExt as _;
use std::path::Path;
use std::process::Command as Process;

use super::git;
use crate::fixture::{self, wine_lacks};

fn knot_in(dir: &Path) -> assert_cmd::Command {
    let mut cmd = fixture::knot();
    cmd.current_dir(dir).env("GIT_CONFIG_NOSYSTEM", "1");
    cmd.env("GIT_CONFIG_GLOBAL", "NUL");
    cmd
}

/// Without a Git it can run, a clear error naming the repository and the fix, exit 1.
#[test]
fn without_git_it_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = fixture::output(
        knot_in(dir.path())
            .env("PATH", dir.path())
            .args(["git-links", "--check"]),
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("knot: cannot use the Git repository '.': cannot run `git` ("),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("is Git installed?\nknot: hint: install Git, or put it on PATH\n"),
        "{stderr}"
    );
}

/// Adds a symlink entry `path` -> `target` to the index of `repo` by its blob, as a
/// checkout on Linux would record it: no link needs to be made to record one.
fn add_link(repo: &Path, path: &str, target: &str) {
    let mut child = Process::new("git")
        .current_dir(repo)
        .args(["hash-object", "-w", "--stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(target.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let blob = String::from_utf8(out.stdout).unwrap();
    git(
        repo,
        [
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("120000,{},{path}", blob.trim()),
        ],
    );
}

/// A repository with file, directory, relative and dangling links and a `symlink=dir`
/// attribute, cloned as Git for Windows clones without the privilege: `--check` lists
/// them and exits 3; `--fix` makes Windows symlinks with `\` separators, of the flavour
/// of the attribute or the target; `git status` is then clean, and a second `--fix`
/// changes nothing.
#[test]
fn fix_makes_windows_symlinks() {
    let test = "fix_makes_windows_symlinks";
    if Process::new("git").arg("--version").output().is_err() {
        wine_lacks(test, "no Git that this Windows can run is installed");
        return;
    }
    let base = tempfile::tempdir().unwrap();
    let base = fs::canonicalize(base.path()).unwrap();
    let src = base.join("origin");
    fs::create_dir_all(src.join("d/sub")).unwrap();
    fs::write(src.join("f.txt"), "file\n").unwrap();
    fs::write(src.join("d/sub/inner"), "inner\n").unwrap();
    fs::write(src.join(".gitattributes"), "later symlink=dir\n").unwrap();
    git(&src, ["init", "-q"]);
    git(&src, ["add", "-A"]);
    for (path, target) in [
        ("lf", "f.txt"),
        ("ld", "d"),
        ("d/up", "../f.txt"),
        ("d/nested", "sub/inner"),
        ("later", "not/yet"),
    ] {
        add_link(&src, path, target);
    }
    git(&src, ["commit", "-q", "-m", "links"]);
    let clone = base.join("clone");
    git(
        &base,
        [
            "-c",
            "core.symlinks=false",
            "clone",
            "-q",
            "origin",
            "clone",
        ],
    );
    git(&clone, ["config", "core.symlinks", "false"]);
    fixture::run(
        knot_in(&clone).args(["git-links", "--check", "-q"]),
        3,
        "placeholder 'd/nested' -> 'sub/inner' (file)\n\
         placeholder 'd/up' -> '../f.txt' (file)\n\
         placeholder 'later' -> 'not/yet' (dir, by attribute)\n\
         placeholder 'ld' -> 'd' (dir)\n\
         placeholder 'lf' -> 'f.txt' (file)\n",
        "",
    );
    let out = fixture::output(knot_in(&clone).args(["git-links", "--fix", "-q"]));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (path, text, dir) in [
        ("lf", "f.txt", false),
        ("ld", "d", true),
        ("d/up", "..\\f.txt", false),
        ("d/nested", "sub\\inner", false),
        ("later", "not\\yet", true),
    ] {
        let link = clone.join(path);
        assert_eq!(fs::read_link(&link).unwrap(), Path::new(text), "{path}");
        let ty = fs::symlink_metadata(&link).unwrap().file_type();
        assert_eq!(
            (ty.is_symlink_file(), ty.is_symlink_dir()),
            (!dir, dir),
            "{path}'s flavour"
        );
    }
    assert_eq!(fs::read_to_string(clone.join("d/up")).unwrap(), "file\n");
    assert_eq!(git(&clone, ["status", "--porcelain"]), "");
    assert_eq!(git(&clone, ["config", "core.symlinks"]), "true\n");
    fixture::run(
        knot_in(&clone).args(["git-links", "--fix"]),
        0,
        "",
        "nothing to fix: 5 of 5 symlink entries are links already, 0 left as they are\n",
    );
}
