//! `knot::hardlinks`: the walk stops as soon as every name is found (counted
//! in entries read, never in time), and on a real btrfs image the names come from
//! `BTRFS_IOC_INO_PATHS` and equal the walk's.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::fixture::{self, Dir};
use knot::hardlinks::{HardlinksOptions, Lookup, Method, names};
use knot::scan::Progress;

fn options(within: &Path, lookup: Lookup) -> HardlinksOptions {
    HardlinksOptions {
        within: Some(within.to_path_buf()),
        lookup,
        ..HardlinksOptions::default()
    }
}

fn no_errors() -> impl FnMut(knot::Error) {
    |err| panic!("{err}")
}

#[test]
fn the_walk_stops_once_every_name_is_found() {
    let tmp = Dir::new();
    let root = &tmp.path().join("t");
    fs::create_dir(root).unwrap();
    fs::write(root.join("f"), "x").unwrap();
    fs::hard_link(root.join("f"), root.join("g")).unwrap();
    // A big directory below: read only if the walk went on after both names.
    fs::create_dir(root.join("big")).unwrap();
    for i in 0..2000 {
        fs::write(root.join(format!("big/{i}")), "").unwrap();
    }
    for threads in [1, 2] {
        let progress = Progress::new();
        let mut opts = options(root, Lookup::Walk);
        opts.threads = threads;
        opts.progress = Some(progress.clone());
        let found = names(root.join("f"), &opts, &mut no_errors()).unwrap();
        assert_eq!(found.names, [root.join("f"), root.join("g")]);
        assert!(found.complete());
        assert_eq!(found.method, Method::Walk);
        // The root lists three entries (the read stops at the second name, wherever the
        // listing puts it); `big` is never read.
        assert!(
            progress.entries() <= 3,
            "threads {threads}: {}",
            progress.entries()
        );
        assert_eq!(progress.dirs(), 1);
    }
    // With a name outside the tree, the walk reads everything.
    fs::remove_file(root.join("g")).unwrap();
    fs::hard_link(root.join("f"), root.join("big/h")).unwrap();
    fs::hard_link(root.join("f"), tmp.path().join("outside")).unwrap();
    let progress = Progress::new();
    let mut opts = options(root, Lookup::Walk);
    opts.progress = Some(progress.clone());
    let found = names(root.join("f"), &opts, &mut no_errors()).unwrap();
    assert_eq!(found.names, [root.join("big/h"), root.join("f")]);
    assert_eq!(found.outside(), 1);
    assert_eq!(progress.entries(), 2003);
}

#[test]
fn a_file_on_another_file_system_than_dir_has_no_names_there() {
    let tmp = Dir::new();
    fs::write(tmp.path().join("f"), "x").unwrap();
    let found = names(
        tmp.path().join("f"),
        // A file system of the kernel's, never the temporary directory's.
        &options(
            Path::new(if cfg!(target_os = "linux") {
                "/proc"
            } else {
                "/dev"
            }),
            Lookup::Walk,
        ),
        &mut no_errors(),
    )
    .unwrap();
    assert!(found.names.is_empty());
    assert_eq!(found.outside(), 1);
}

/// While another thread adds and removes names of FILE, FILE itself is always among the
/// names found, and `complete` holds only when the names found are all of FILE's names at
/// once: then `keep`, a name that never changes, is among them too. The racer's names
/// move from directory to directory and are never reused; FILE and `keep` lie deeper than
/// them, so a walk that counts any `nlink` names it meets stops before reaching them.
/// Bounded by counts (runs, and the racer's names), whatever the scheduling.
#[test]
fn file_is_always_a_name_and_complete_means_every_name_while_names_change() {
    const RUNS: usize = 200;
    const RACER_NAMES: usize = 2_000_000;
    let tmp = Dir::new();
    let root = tmp.path().join("t");
    let deep = root.join("z/z/z");
    fs::create_dir_all(&deep).unwrap();
    let file = deep.join("f");
    fs::write(&file, "x").unwrap();
    let keep = deep.join("keep");
    fs::hard_link(&file, &keep).unwrap();
    let dirs: Vec<PathBuf> = (0..8).map(|i| root.join(format!("r{i}"))).collect();
    for dir in &dirs {
        fs::create_dir(dir).unwrap();
    }
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (mut left_out, mut lied) = (Vec::new(), Vec::new());
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut last: Option<PathBuf> = None;
            for i in 0..RACER_NAMES {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let name = dirs[i % dirs.len()].join(format!("n{i}"));
                fs::hard_link(&file, &name).unwrap();
                if let Some(last) = last.replace(name) {
                    fs::remove_file(last).unwrap();
                }
            }
        });
        for _ in 0..RUNS {
            let found = names(&file, &options(&root, Lookup::Walk), &mut no_errors()).unwrap();
            let mut distinct = found.names.clone();
            distinct.dedup();
            assert_eq!(distinct, found.names, "sorted, each name once");
            if !found.names.contains(&file) {
                left_out.push(found.clone());
            }
            if found.complete()
                && (!found.names.contains(&keep) || found.names.len() as u64 != found.nlink)
            {
                lied.push(found);
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    assert!(
        left_out.is_empty(),
        "{} of {RUNS}: {left_out:#?}",
        left_out.len()
    );
    assert!(lied.is_empty(), "{} of {RUNS}: {lied:#?}", lied.len());
}

#[test]
fn btrfs_names_come_from_the_ioctl_and_equal_the_walk() {
    let Some(vol) = fixture::btrfs("btrfs_names_come_from_the_ioctl_and_equal_the_walk") else {
        return;
    };
    let mnt = &vol.mnt;
    // A subvolume: the ioctl's paths are relative to its root, not the mount's.
    let made = Command::new("btrfs")
        .args(["-q", "subvolume", "create"])
        .arg(mnt.join("sv"))
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    for base in [mnt.clone(), mnt.join("sv")] {
        fs::create_dir_all(base.join("a/b")).unwrap();
        fs::create_dir_all(base.join("c")).unwrap();
        fs::write(base.join("a/f"), "data").unwrap();
        fs::hard_link(base.join("a/f"), base.join("a/b/g")).unwrap();
        fs::hard_link(base.join("a/f"), base.join("c/h")).unwrap();
        let odd = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"c/caf\xe9");
        fs::hard_link(base.join("a/f"), base.join(odd)).unwrap();
        for within in [base.clone(), base.join("a")] {
            let by_ioctl = names(
                base.join("a/f"),
                &options(&within, Lookup::Auto),
                &mut no_errors(),
            )
            .unwrap();
            let by_walk = names(
                base.join("a/f"),
                &options(&within, Lookup::Walk),
                &mut no_errors(),
            )
            .unwrap();
            assert_eq!(
                by_ioctl.method,
                Method::BtrfsInoPaths,
                "{}",
                within.display()
            );
            assert_eq!(by_walk.method, Method::Walk);
            assert_eq!(by_ioctl.names, by_walk.names, "{}", within.display());
            assert_eq!(by_ioctl.nlink, 4);
        }
        // The default: the subvolume's root (or the mount), where every name is.
        let found = names(
            base.join("c/h"),
            &HardlinksOptions::default(),
            &mut no_errors(),
        )
        .unwrap();
        assert!(found.within_default);
        assert_eq!(found.within, base);
        assert_eq!(found.names.len(), 4);
        assert!(found.complete());
    }
}
