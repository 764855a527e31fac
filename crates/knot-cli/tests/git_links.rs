//! `knot git-links`: a repository with file, directory, relative, absolute, dangling and
//! nested symlinks and a `symlink=dir` attribute, cloned with `core.symlinks=false` (as
//! Git for Windows clones without the symlink privilege), found and repaired: on Linux,
//! on the local file system and on an NTFS volume mounted with ntfs-3g; on Windows, with
//! Windows' own links (under Wine, which cannot run Git, only the refusal). Git is needed
//! (scripts/test-deps.sh installs it); a Linux machine without it fails here.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command as Process;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(windows)]
mod windows;

/// `git ARGS...` in `dir`, with no system or user config of this machine read, checked to
/// succeed: its standard output.
fn git<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(dir: &Path, args: I) -> String {
    let out = Process::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env(
            "GIT_CONFIG_GLOBAL",
            if cfg!(windows) { "NUL" } else { "/dev/null" },
        )
        .env("GIT_AUTHOR_NAME", "knot")
        .env("GIT_AUTHOR_EMAIL", "knot@example.org")
        .env("GIT_COMMITTER_NAME", "knot")
        .env("GIT_COMMITTER_EMAIL", "knot@example.org")
        .args(args)
        .output()
        .expect("git is installed (scripts/test-deps.sh)");
    assert!(
        out.status.success(),
        "git in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
