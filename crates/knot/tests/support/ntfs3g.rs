//! A fresh NTFS image mounted with ntfs-3g, for the tests of knot and of the `knot` binary
//! (`#[path]`-included by both). They need root, /dev/fuse and the ntfs-3g package; without
//! them `volume` says why and the test passes, and with `KNOT_REQUIRE_NTFS3G=1` (as CI sets)
//! a missing piece is a failure.

#![allow(dead_code, reason = "each test file uses its own part of this module")]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

/// A mounted NTFS image in a temporary directory; unmounted on drop.
pub struct Volume {
    _dir: tempfile::TempDir,
    pub image: PathBuf,
    pub mnt: PathBuf,
}

pub fn tool(name: &str) -> Option<PathBuf> {
    ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|path| path.exists())
}

/// A fresh mounted volume, or `None` (after saying why) when this machine cannot make one.
pub fn volume(test: &str) -> Option<Volume> {
    let missing = if !rustix::process::geteuid().is_root() {
        Some("not running as root (mounting an image needs it)".to_owned())
    } else if !Path::new("/dev/fuse").exists() {
        Some("/dev/fuse is missing".to_owned())
    } else {
        ["mkntfs", "ntfs-3g", "ntfsinfo"]
            .into_iter()
            .find(|name| tool(name).is_none())
            .map(|name| format!("{name} is not installed (apt-get install ntfs-3g)"))
    };
    if let Some(why) = missing {
        assert!(
            std::env::var_os("KNOT_REQUIRE_NTFS3G").is_none_or(|v| v != "1"),
            "{test}: KNOT_REQUIRE_NTFS3G=1, but {why}"
        );
        eprintln!("skipping {test}: {why}");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("vol.img");
    let mnt = dir.path().join("mnt");
    fs::create_dir(&mnt).unwrap();
    fs::File::create(&image).unwrap().set_len(32 << 20).unwrap();
    run(Process::new(tool("mkntfs").unwrap())
        .args(["-F", "-Q", "-q"])
        .arg(&image));
    let volume = Volume {
        _dir: dir,
        image,
        mnt,
    };
    volume.mount();
    Some(volume)
}

pub fn run(cmd: &mut Process) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Volume {
    pub fn mount(&self) {
        run(Process::new(tool("ntfs-3g").unwrap())
            .arg(&self.image)
            .arg(&self.mnt));
    }

    pub fn unmount(&self) {
        if let Err(why) = self.try_unmount() {
            panic!("umount {}: {why}", self.mnt.display());
        }
    }

    /// `umount`, tried again while the mount is busy: another test thread that forks a
    /// process holds copies of this thread's descriptors (a directory listing of the
    /// volume, say) until the child's `exec` closes them. Bounded by a count.
    fn try_unmount(&self) -> Result<(), String> {
        for _ in 0..100 {
            let out = Process::new("umount").arg(&self.mnt).output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            if out.status.success() {
                return Ok(());
            } else if !stderr.contains("busy") {
                return Err(stderr);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Err("it stayed busy".into())
    }

    /// Unmounted and mounted again: ntfs-3g and the kernel forget what they cached.
    pub fn remount(&self) {
        self.unmount();
        self.mount();
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.mnt.join(name)
    }

    /// `ntfsinfo -F /name` on the unmounted image: NTFS read by another implementation.
    pub fn ntfsinfo(&self, name: &str) -> String {
        self.unmount();
        let out = run(Process::new(tool("ntfsinfo").unwrap())
            .arg("-F")
            .arg(format!("/{name}"))
            .arg(&self.image));
        self.mount();
        out
    }

    /// The names at the volume's root, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&self.mnt)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Volume {
    fn drop(&mut self) {
        let _ = self.try_unmount();
    }
}
