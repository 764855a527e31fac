//! `knot::copy` with `update` and `mirror`: a copy brought up to date with its source.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use knot::ChangeMode;
use knot::copy::{Action, CopyOptions, Item};

use crate::copy::{item, run, tree};
use crate::fixture::Dir;

fn update() -> CopyOptions {
    CopyOptions {
        update: true,
        ..CopyOptions::default()
    }
}

fn mirror() -> CopyOptions {
    CopyOptions {
        mirror: true,
        ..CopyOptions::default()
    }
}

/// Every entry below `root` as it stands: inode, modification time to the nanosecond,
/// and a file's bytes or a link's target.
fn state(root: &Path) -> BTreeMap<PathBuf, (u64, i64, i64, Vec<u8>)> {
    tree(root)
        .into_iter()
        .map(|below| {
            let path = root.join(&below);
            let meta = fs::symlink_metadata(&path).unwrap();
            let data = if meta.file_type().is_symlink() {
                fs::read_link(&path)
                    .unwrap()
                    .into_os_string()
                    .into_encoded_bytes()
            } else if meta.is_file() {
                fs::read(&path).unwrap()
            } else {
                Vec::new()
            };
            (below, (meta.ino(), meta.mtime(), meta.mtime_nsec(), data))
        })
        .collect()
}

fn ino(path: &Path) -> u64 {
    fs::symlink_metadata(path).unwrap().ino()
}

/// Sets the modification time of `path` (a file) to `secs`.
fn set_mtime(path: &Path, secs: u64) {
    let time = std::time::UNIX_EPOCH + std::time::Duration::new(secs, 500);
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(time)
        .unwrap();
}

fn actions(items: &[Item]) -> BTreeMap<PathBuf, Action> {
    items
        .iter()
        .map(|item| (item.copy.clone(), item.action))
        .collect()
}

/// `update` copies what is missing or differs and leaves the rest as it is (the same
/// inode); without it, a copy into a directory that is not empty is still refused.
#[test]
fn update_copies_only_what_changed() {
    let dir = Dir::new();
    let src = dir.mkdir("src");
    dir.mkdir("src/sub");
    dir.file("src/same", "same");
    dir.file("src/grows", "small");
    dir.file("src/sub/deep", "deep");
    dir.symlink("src/link", "same");
    let dst = dir.join("dst");
    let (_, _, errors) = run(&src, &dst, CopyOptions::default());
    assert!(errors.is_empty(), "{errors:#?}");
    let (same, deep, link) = (
        ino(&dst.join("same")),
        ino(&dst.join("sub/deep")),
        ino(&dst.join("link")),
    );
    dir.file("src/grows", "larger now");
    dir.file("src/sub/new", "new");
    // sub's new time in SRC, surely not its copy's (not left to the clock's tick).
    fs::File::open(src.join("sub"))
        .unwrap()
        .set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000))
        .unwrap();
    let err = knot::copy(&src, &dst, &CopyOptions::default(), |_| {}).unwrap_err();
    assert_eq!(err.kind(), &knot::ErrorKind::DestinationNotEmpty);

    let (summary, items, errors) = run(&src, &dst, update());
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(fs::read_to_string(dst.join("grows")).unwrap(), "larger now");
    assert_eq!(fs::read_to_string(dst.join("sub/new")).unwrap(), "new");
    assert_eq!(ino(&dst.join("same")), same);
    assert_eq!(ino(&dst.join("sub/deep")), deep);
    assert_eq!(ino(&dst.join("link")), link);
    assert_eq!(item(&items, &src, "grows").action, Action::Updated);
    assert_eq!(item(&items, &src, "sub/new").action, Action::Copied);
    assert_eq!(item(&items, &src, "same").action, Action::Unchanged);
    assert_eq!(item(&items, &src, "link").action, Action::Unchanged);
    // sub has a new entry in SRC, so a new time: given to its copy, an update.
    assert_eq!(item(&items, &src, "sub").action, Action::Updated);
    assert_eq!((summary.updated, summary.files, summary.removed), (2, 2, 0));
    // root, same, sub/deep, link
    assert_eq!(summary.unchanged, 4);
    // No staged file is left behind.
    assert_eq!(
        crate::fixture::names(&dst),
        ["grows", "link", "same", "sub"]
    );
    // Permissions changed alone: the copy gets them.
    fs::set_permissions(src.join("same"), fs::Permissions::from_mode(0o640)).unwrap();
    let (summary, items, errors) = run(&src, &dst, update());
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(item(&items, &src, "same").action, Action::Updated);
    assert_eq!(summary.updated, 1);
    let mode = fs::metadata(dst.join("same")).unwrap().permissions().mode();
    assert_eq!(mode & 0o7777, 0o640);
}

/// A file changed in place, keeping its size and modification time, is left as it is by
/// `update`, and replaced with `checksum`.
#[test]
fn checksum_catches_a_change_of_the_same_size_and_time() {
    let dir = Dir::new();
    let src = dir.mkdir("src");
    let file = dir.file("src/f", "before");
    set_mtime(&file, 1_000_000);
    let dst = dir.join("dst");
    run(&src, &dst, CopyOptions::default());
    fs::write(&file, "after!").unwrap();
    set_mtime(&file, 1_000_000);
    let (_, items, errors) = run(&src, &dst, update());
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(item(&items, &src, "f").action, Action::Unchanged);
    assert_eq!(fs::read_to_string(dst.join("f")).unwrap(), "before");
    let options = CopyOptions {
        checksum: true,
        ..update()
    };
    let (summary, items, errors) = run(&src, &dst, options);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(item(&items, &src, "f").action, Action::Updated);
    assert_eq!(fs::read_to_string(dst.join("f")).unwrap(), "after!");
    assert_eq!(summary.updated, 1);
    // Now the same: left as it is.
    let (summary, _, _) = run(&src, &dst, options);
    assert!(summary.nothing_changed(), "{summary:?}");
}

/// `mirror` removes what the source no longer has: files, directories with what is in
/// them, links (as links: a link to a directory outside is removed, what it leads to is
/// left whole, the links inside a removed directory too).
#[test]
fn mirror_removes_what_the_source_no_longer_has() {
    let dir = Dir::new();
    let src = dir.mkdir("src");
    dir.file("src/kept", "kept");
    dir.mkdir("src/sub");
    let outside = dir.mkdir("outside");
    dir.file("outside/canary", "alive");
    let dst = dir.join("dst");
    run(&src, &dst, CopyOptions::default());
    dir.file("dst/extra", "x");
    dir.mkdir("dst/olddir/deeper");
    dir.file("dst/olddir/deeper/f", "x");
    dir.symlink("dst/olddir/to_outside", &outside);
    dir.symlink("dst/escape", &outside);
    dir.symlink("dst/sub/escape_file", outside.join("canary"));

    let (summary, items, errors) = run(&src, &dst, mirror());
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(crate::fixture::names(&dst), ["kept", "sub"]);
    assert!(crate::fixture::names(&dst.join("sub")).is_empty());
    assert_eq!(crate::fixture::names(&outside), ["canary"]);
    assert_eq!(fs::read_to_string(outside.join("canary")).unwrap(), "alive");
    assert_eq!(summary.removed, 4);
    for below in ["extra", "olddir", "escape", "sub/escape_file"] {
        assert_eq!(item(&items, &src, below).action, Action::Removed, "{below}");
    }
    // update alone removes nothing.
    dir.file("dst/extra", "x");
    let (summary, _, _) = run(&src, &dst, update());
    assert_eq!(summary.removed, 0);
    assert!(dst.join("extra").exists());
}

/// An entry whose type changed is replaced: a directory by a file or a link, a file or
/// link by a directory, a link by a file. A link in the copy is never followed: the one
/// standing where the source has a directory is replaced by a directory, what it led to
/// left whole. `update` alone refuses to remove a directory.
#[test]
fn mirror_replaces_an_entry_whose_type_changed() {
    let dir = Dir::new();
    let src = dir.mkdir("src");
    let outside = dir.mkdir("outside");
    dir.file("outside/canary", "alive");
    dir.file("outside/inner", "alive");
    let dst = dir.mkdir("dst");
    // was a directory, now a file / a link
    dir.file("src/was_dir", "file now");
    dir.mkdir("dst/was_dir/deeper");
    dir.symlink("src/was_dir_link", "was_dir");
    dir.mkdir("dst/was_dir_link");
    // was a file / a link, now a directory
    dir.mkdir("src/was_file");
    dir.file("src/was_file/inner", "inner");
    dir.file("dst/was_file", "file then");
    dir.mkdir("src/was_link");
    dir.file("src/was_link/inner", "inner");
    dir.symlink("dst/was_link", &outside);
    // was a link, now a file
    dir.file("src/canary", "mine");
    dir.symlink("dst/canary", outside.join("canary"));

    // update replaces a file or link by a directory, and refuses to remove a directory.
    let (_, items, errors) = run(&src, &dst, update());
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(dst.join("was_dir/deeper").is_dir());
    assert!(dst.join("was_dir_link").is_dir());
    for below in ["was_file", "was_link", "canary"] {
        assert_eq!(item(&items, &src, below).action, Action::Updated, "{below}");
    }

    let (summary, items, errors) = run(&src, &dst, mirror());
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(fs::read_to_string(dst.join("was_dir")).unwrap(), "file now");
    assert_eq!(
        fs::read_link(dst.join("was_dir_link")).unwrap(),
        Path::new("was_dir")
    );
    assert_eq!(
        fs::read_to_string(dst.join("was_file/inner")).unwrap(),
        "inner"
    );
    assert!(fs::symlink_metadata(dst.join("was_link")).unwrap().is_dir());
    assert_eq!(
        fs::read_to_string(dst.join("was_link/inner")).unwrap(),
        "inner"
    );
    assert!(fs::symlink_metadata(dst.join("canary")).unwrap().is_file());
    assert_eq!(fs::read_to_string(dst.join("canary")).unwrap(), "mine");
    assert_eq!(crate::fixture::names(&outside), ["canary", "inner"]);
    assert_eq!(fs::read_to_string(outside.join("canary")).unwrap(), "alive");
    assert_eq!(fs::read_to_string(outside.join("inner")).unwrap(), "alive");
    for below in ["was_dir", "was_dir_link"] {
        assert_eq!(item(&items, &src, below).action, Action::Updated, "{below}");
    }
    assert_eq!(summary.updated, 2);
}

/// A second `mirror` of a source that did not change changes nothing: every entry of the
/// copy keeps its inode, time and bytes, and the summary says nothing changed.
#[test]
fn a_second_mirror_changes_nothing() {
    let dir = Dir::new();
    let src = dir.mkdir("src");
    crate::fixture::mktree(&src, 300, 7);
    let dst = dir.join("dst");
    let (_, _, errors) = run(&src, &dst, mirror());
    assert!(errors.is_empty(), "{errors:#?}");
    let before = state(&dst);
    let root = fs::metadata(&dst).unwrap();
    let (summary, items, errors) = run(&src, &dst, mirror());
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(summary.nothing_changed(), "{summary:?}");
    assert!(
        items.iter().all(|item| item.action == Action::Unchanged),
        "{items:#?}"
    );
    assert_eq!(summary.unchanged, items.len() as u64);
    assert_eq!(state(&dst), before);
    let after = fs::metadata(&dst).unwrap();
    assert_eq!(
        (after.mtime(), after.mtime_nsec(), after.ino()),
        (root.mtime(), root.mtime_nsec(), root.ino())
    );
}

/// A dry run changes nothing in the copy and reports what the run then does.
#[test]
fn a_dry_run_changes_nothing_and_reports_the_same() {
    let dir = Dir::new();
    let src = dir.mkdir("src");
    dir.file("src/a", "a");
    dir.file("src/b", "b");
    dir.mkdir("src/d");
    dir.file("src/d/c", "c");
    let dst = dir.join("dst");
    run(&src, &dst, CopyOptions::default());
    dir.file("src/b", "bigger");
    dir.file("src/d/new", "new");
    dir.mkdir("src/newdir");
    dir.file("src/newdir/f", "f");
    dir.file("dst/gone", "gone");
    dir.mkdir("dst/d/gonedir");
    // A file where the source now has a directory with entries.
    dir.file("dst/newdir", "a file then");
    // d's time in SRC, surely not its copy's (not left to the clock's tick): an update.
    fs::File::open(src.join("d"))
        .unwrap()
        .set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000))
        .unwrap();
    let before = state(&dst);
    let dry = CopyOptions {
        mode: ChangeMode::DryRun,
        ..mirror()
    };
    let (dry_summary, dry_items, errors) = run(&src, &dst, dry);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(state(&dst), before);
    let (summary, items, errors) = run(&src, &dst, mirror());
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(actions(&dry_items), actions(&items));
    assert_eq!(dry_summary.updated, summary.updated);
    assert_eq!(dry_summary.removed, summary.removed);
    // b, newdir, and d's time.
    assert_eq!((summary.updated, summary.removed), (3, 2));
    assert_eq!(fs::read_to_string(dst.join("newdir/f")).unwrap(), "f");
}

/// Hard-link groups: a second update leaves every name as it is; a name of the copy that
/// is no longer a name of the group's copy is made one again.
#[test]
fn update_keeps_hard_link_groups() {
    let dir = Dir::new();
    let src = dir.mkdir("src");
    dir.file("src/a", "group");
    fs::hard_link(src.join("a"), src.join("b")).unwrap();
    let dst = dir.join("dst");
    run(&src, &dst, CopyOptions::default());
    let (summary, _, errors) = run(&src, &dst, mirror());
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(summary.nothing_changed(), "{summary:?}");
    fs::remove_file(dst.join("b")).unwrap();
    fs::write(dst.join("b"), "group").unwrap();
    let (summary, items, errors) = run(&src, &dst, mirror());
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(ino(&dst.join("a")), ino(&dst.join("b")));
    assert_eq!(fs::read_to_string(dst.join("a")).unwrap(), "group");
    // Whichever name the walk met first was the group's first: `b` replaced by a copy and
    // `a` made a name of it, or `b` made a name of `a`'s copy.
    assert_eq!(item(&items, &src, "b").action, Action::Updated);
    assert!((1..=2).contains(&summary.updated), "{summary:?}");
}

/// A directory of the copy swapped for a link to a directory outside while `mirror`
/// runs never makes knot remove or write anything outside: the directory outside holds
/// files of the names the mirror removes and writes, and stays as it was. Rounds are
/// counted, not timed.
#[test]
fn a_copy_directory_swapped_for_a_link_during_mirror_is_not_followed() {
    const ROUNDS: usize = 40;
    const SWAPS: usize = 200;
    const FILES: usize = 100;
    let dir = Dir::new();
    let src = dir.mkdir("src");
    dir.mkdir("src/d");
    let outside = dir.mkdir("outside");
    for n in 0..FILES {
        dir.file(&format!("src/d/f{n}"), "new content");
        dir.file(&format!("outside/f{n}"), "SECRET");
        dir.file(&format!("outside/x{n}"), "SECRET");
    }
    dir.mkdir("outside/xdir");
    let outside_before = state(&outside);
    let copies = dir.mkdir("copies");
    let mut met = 0;
    for round in 0..ROUNDS {
        let dst = copies.join(format!("c{round}"));
        fs::create_dir_all(dst.join("d/xdir")).unwrap();
        for n in 0..FILES {
            fs::write(dst.join(format!("d/f{n}")), "old").unwrap();
            fs::write(dst.join(format!("d/x{n}")), "extra").unwrap();
        }
        let victim = dst.join("d");
        let aside = dir.join(format!("aside{round}"));
        let done = AtomicBool::new(false);
        let replaced = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                // A round-dependent head start for the mirror, counted in yields, so the
                // swaps fall on different steps of it.
                for _ in 0..(round % 10) * 40 {
                    std::thread::yield_now();
                }
                for _ in 0..SWAPS {
                    if done.load(Ordering::Relaxed) {
                        break;
                    }
                    fs::rename(&victim, &aside).unwrap();
                    // The mirror may make a directory of its own at the name while it is
                    // free, or replace the link by one: then the swap was met, and the
                    // one set aside stays aside.
                    if std::os::unix::fs::symlink(&outside, &victim).is_err() {
                        replaced.store(true, Ordering::Relaxed);
                        break;
                    }
                    std::thread::yield_now();
                    let still_link = fs::symlink_metadata(&victim)
                        .is_ok_and(|meta| meta.file_type().is_symlink());
                    if !still_link || fs::remove_file(&victim).is_err() {
                        replaced.store(true, Ordering::Relaxed);
                        break;
                    }
                    if fs::rename(&aside, &victim).is_err() {
                        replaced.store(true, Ordering::Relaxed);
                        break;
                    }
                }
            });
            let options = CopyOptions {
                threads: 2,
                ..mirror()
            };
            let (summary, _, _) = run(&src, &dst, options);
            done.store(true, Ordering::Relaxed);
            if summary.failed > 0 || replaced.load(Ordering::Relaxed) {
                met += 1;
            }
        });
        assert!(
            state(&outside) == outside_before,
            "round {round}: outside changed, it holds {:?}",
            crate::fixture::names(&outside)
        );
    }
    assert!(met > 0, "no round met the swap");
}

/// A directory inside a tree that `mirror` removes, swapped for a link to a directory
/// outside while the removal runs, is never gone through: the link is removed as a link,
/// and everything outside stays. Rounds are counted, not timed.
#[test]
fn a_directory_swapped_for_a_link_while_a_tree_is_removed_is_not_followed() {
    const ROUNDS: usize = 30;
    const SWAPS: usize = 200;
    const DIRS: usize = 20;
    let dir = Dir::new();
    let src = dir.mkdir("src");
    dir.file("src/kept", "kept");
    let outside = dir.mkdir("outside");
    for n in 0..10 {
        dir.file(&format!("outside/f{n}"), "SECRET");
    }
    dir.mkdir("outside/sub");
    dir.file("outside/sub/g", "SECRET");
    let outside_before = state(&outside);
    let copies = dir.mkdir("copies");
    let mut met = 0;
    for round in 0..ROUNDS {
        let dst = copies.join(format!("c{round}"));
        for d in 0..DIRS {
            let below = dst.join(format!("old/s{d}"));
            fs::create_dir_all(below.join("sub")).unwrap();
            for n in 0..10 {
                fs::write(below.join(format!("f{n}")), "x").unwrap();
            }
        }
        let victim = dst.join(format!("old/s{}", round % DIRS));
        let aside = dir.join(format!("aside{round}"));
        let done = AtomicBool::new(false);
        let gone = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for _ in 0..(round % 10) * 20 {
                    std::thread::yield_now();
                }
                for _ in 0..SWAPS {
                    if done.load(Ordering::Relaxed) || fs::rename(&victim, &aside).is_err() {
                        break;
                    }
                    if std::os::unix::fs::symlink(&outside, &victim).is_err() {
                        break;
                    }
                    std::thread::yield_now();
                    // The removal took the link away (as a link): the swap was met.
                    if fs::remove_file(&victim).is_err() {
                        gone.store(true, Ordering::Relaxed);
                        break;
                    }
                    if fs::rename(&aside, &victim).is_err() {
                        break;
                    }
                }
            });
            let options = CopyOptions {
                threads: 2,
                ..mirror()
            };
            let (summary, _, _) = run(&src, &dst, options);
            done.store(true, Ordering::Relaxed);
            if summary.failed > 0 || gone.load(Ordering::Relaxed) {
                met += 1;
            }
        });
        assert!(
            state(&outside) == outside_before,
            "round {round}: outside changed, it holds {:?}",
            crate::fixture::names(&outside)
        );
    }
    assert!(met > 0, "no round met the swap");
}

/// A file of the copy appears under its own name only whole: while it is being written it
/// has no name (`O_TMPFILE`, Linux) or a hidden one (`.big.knot~` and 16 hex digits),
/// then it is named. Another thread lists DST a bounded number of times while the copy
/// runs, and must meet the file being written at least once: under its hidden name, or
/// (Linux) open in this process with no name, in DST (unless the file system clones the
/// file at once: then nothing is ever half-written, and the test says so).
#[test]
fn a_file_appears_under_its_name_only_whole() {
    const ROUNDS: usize = 6;
    const POLLS: usize = 100_000;
    let dir = Dir::new();
    let src = dir.mkdir("src");
    let data: Vec<u8> = (0..32u32 << 20).map(|i| (i % 251) as u8 + 1).collect();
    fs::write(src.join("big"), &data).unwrap();
    let whole = data.len() as u64;
    let (mut staged_seen, mut cloned) = (0, 0);
    for round in 0..ROUNDS {
        let dst = dir.join(format!("dst{round}"));
        fs::create_dir(&dst).unwrap();
        let done = AtomicBool::new(false);
        let seen = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for _ in 0..POLLS {
                    if done.load(Ordering::Relaxed) {
                        break;
                    }
                    let Ok(entries) = fs::read_dir(&dst) else {
                        continue;
                    };
                    for entry in entries.flatten() {
                        let name = entry.file_name().to_string_lossy().into_owned();
                        if name == "big" {
                            // Renamed in whole, never written under its name.
                            if let Ok(meta) = entry.metadata() {
                                assert_eq!(meta.len(), whole, "round {round}");
                            }
                        } else if name.starts_with(".big.knot~") {
                            seen.store(true, Ordering::Relaxed);
                        }
                    }
                    if unnamed_in(&dst) {
                        seen.store(true, Ordering::Relaxed);
                    }
                }
            });
            let (_, items, errors) = run(&src, &dst, CopyOptions::default());
            done.store(true, Ordering::Relaxed);
            assert!(errors.is_empty(), "{errors:#?}");
            if items.iter().any(|item| item.action == Action::Cloned) {
                cloned += 1;
            }
        });
        if seen.load(Ordering::Relaxed) {
            staged_seen += 1;
        }
        assert_eq!(crate::fixture::names(&dst), ["big"], "round {round}");
    }
    if cloned == ROUNDS {
        eprintln!("the file system cloned the file every time: no copy was ever half-written");
        return;
    }
    assert!(staged_seen > 0, "no listing met the file being written");
}

/// Whether this process holds open a file with no name in `dir` (`O_TMPFILE`: the kernel
/// shows it as `DIR/#INODE (deleted)` in `/proc/self/fd`).
fn unnamed_in(dir: &Path) -> bool {
    if !cfg!(target_os = "linux") {
        return false;
    }
    let Ok(fds) = fs::read_dir("/proc/self/fd") else {
        return false;
    };
    fds.flatten().any(|fd| {
        fs::read_link(fd.path()).is_ok_and(|to| {
            to.parent() == Some(dir)
                && to.file_name().is_some_and(|name| {
                    let name = name.to_string_lossy();
                    name.starts_with('#') && name.ends_with(" (deleted)")
                })
        })
    })
}

/// `update` brings special files up to date too: a FIFO there already is left as it is
/// (counted unchanged, not made again), and a file standing where SRC now has a FIFO is
/// replaced by one through a hidden name (no staged entry left).
#[test]
fn update_leaves_a_fifo_there_and_replaces_a_file_by_one() {
    use std::os::unix::fs::FileTypeExt as _;
    let dir = Dir::new();
    let src = dir.mkdir("src");
    let mkfifo = |path: &Path| {
        let made = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap();
        assert!(made.success());
    };
    mkfifo(&src.join("fifo"));
    dir.file("src/was-file", "x");
    let dst = dir.join("dst");
    let (summary, _, errors) = run(&src, &dst, CopyOptions::default());
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(summary.special, 1);
    let fifo = ino(&dst.join("fifo"));
    fs::remove_file(src.join("was-file")).unwrap();
    mkfifo(&src.join("was-file"));

    let (summary, items, errors) = run(&src, &dst, update());
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(item(&items, &src, "fifo").action, Action::Unchanged);
    assert_eq!(item(&items, &src, "was-file").action, Action::Updated);
    assert_eq!(ino(&dst.join("fifo")), fifo);
    let replaced = fs::symlink_metadata(dst.join("was-file")).unwrap();
    assert!(replaced.file_type().is_fifo());
    assert_eq!((summary.special, summary.updated), (1, 1));
    // root and fifo
    assert_eq!(summary.unchanged, 2);
    assert_eq!(crate::fixture::names(&dst), ["fifo", "was-file"]);

    // Nothing left to do: nothing made again.
    let (summary, _, errors) = run(&src, &dst, update());
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(summary.nothing_changed(), "{summary:#?}");
    assert_eq!(summary.unchanged, 3);
}

/// `--outer copy` with `update` and `mirror`: what outer links lead to is brought up to
/// date like the rest, looked at through the links. A second run of an unchanged tree
/// changes nothing (every entry kept: inode and time); a changed file the link leads to
/// is copied again, a file gone from the directory a link leads to is removed from its
/// copy (`mirror`), and a link DST has where SRC's outer link now leads to a directory
/// (a copy made with `--outer keep`) is replaced by the copy of that directory.
#[test]
fn outer_copy_is_brought_up_to_date_with_update_and_mirror() {
    let dir = Dir::new();
    let src = dir.mkdir("src");
    let outside = dir.mkdir("outside");
    dir.file("outside/a", "a");
    dir.file("outside/gone", "gone");
    dir.file("outer-file", "data");
    dir.file("src/f", "f");
    dir.symlink("src/dir", &outside);
    dir.symlink("src/file", dir.join("outer-file"));
    let outer = |options: CopyOptions| CopyOptions {
        outer: knot::copy::Outer::Copy,
        ..options
    };
    let dst = dir.join("dst");
    let (_, _, errors) = run(&src, &dst, outer(CopyOptions::default()));
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(fs::symlink_metadata(dst.join("dir")).unwrap().is_dir());
    assert_eq!(fs::read_to_string(dst.join("file")).unwrap(), "data");

    // Unchanged: nothing made again, whether updated or mirrored.
    let before = state(&dst);
    for options in [update(), mirror()] {
        let (summary, items, errors) = run(&src, &dst, outer(options));
        assert!(errors.is_empty(), "{errors:#?}");
        assert!(summary.nothing_changed(), "{summary:#?} {items:#?}");
        assert_eq!(state(&dst), before);
    }

    // Changed: the file a link leads to grows, a file of the directory goes.
    fs::write(dir.join("outer-file"), "more data").unwrap();
    fs::remove_file(outside.join("gone")).unwrap();
    let (_, items, errors) = run(&src, &dst, outer(update()));
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(item(&items, &src, "file").action, Action::Updated);
    assert_eq!(fs::read_to_string(dst.join("file")).unwrap(), "more data");
    assert!(dst.join("dir/gone").exists(), "update removes nothing");
    let (summary, items, errors) = run(&src, &dst, outer(mirror()));
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(summary.removed, 1, "{items:#?}");
    assert_eq!(crate::fixture::names(&dst.join("dir")), ["a"]);
    assert_eq!(fs::read_to_string(outside.join("a")).unwrap(), "a");

    // A copy that kept the outer links as links, then brought up to date copying them.
    let kept = dir.join("kept");
    let (_, _, errors) = run(&src, &kept, CopyOptions::default());
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(fs::symlink_metadata(kept.join("dir")).unwrap().is_symlink());
    let (_, items, errors) = run(&src, &kept, outer(mirror()));
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(item(&items, &src, "dir").action, Action::Updated);
    assert_eq!(item(&items, &src, "file").action, Action::Updated);
    assert!(fs::symlink_metadata(kept.join("dir")).unwrap().is_dir());
    assert_eq!(crate::fixture::names(&kept.join("dir")), ["a"]);
    assert!(
        !fs::symlink_metadata(kept.join("file"))
            .unwrap()
            .is_symlink()
    );
    assert_eq!(fs::read_to_string(kept.join("file")).unwrap(), "more data");
    // What the links led to is untouched.
    assert_eq!(crate::fixture::names(&outside), ["a"]);
    assert_eq!(
        fs::read_to_string(dir.join("outer-file")).unwrap(),
        "more data"
    );
}

/// A directory of the copy where SRC now has a file, swapped for a link to a directory
/// outside while `mirror` stages the file and swaps it in, is never gone through: the
/// tree removed is only ever the one set aside by the swap, and a link swapped aside is
/// never gone through (the failure is reported, the link left under its hidden name), so
/// everything outside stays. Rounds are counted, not timed; the swap is met where a link
/// is found set aside, or the mirror reports a failure (what it looked at changed).
#[test]
fn a_directory_swapped_for_a_link_while_a_file_replaces_it_is_not_followed() {
    const ROUNDS: usize = 300;
    const SWAPS: usize = 200;
    const FILES: usize = 100;
    let dir = Dir::new();
    let src = dir.mkdir("src");
    dir.file("src/x", &"new content\n".repeat(50_000));
    let outside = dir.mkdir("outside");
    for n in 0..FILES {
        dir.file(&format!("outside/f{n}"), "SECRET");
    }
    let outside_before = state(&outside);
    let copies = dir.mkdir("copies");
    let mut met = 0;
    for round in 0..ROUNDS {
        let dst = copies.join(format!("c{round}"));
        fs::create_dir_all(dst.join("x")).unwrap();
        for n in 0..FILES {
            fs::write(dst.join(format!("x/f{n}")), "old").unwrap();
        }
        let victim = dst.join("x");
        let aside = dir.join(format!("aside{round}"));
        let done = AtomicBool::new(false);
        let replaced = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for _ in 0..(round % 10) * 40 {
                    std::thread::yield_now();
                }
                for _ in 0..SWAPS {
                    if done.load(Ordering::Relaxed) {
                        break;
                    }
                    // The mirror may have put its file (or set the tree aside) already:
                    // then the swap was met.
                    let is_dir = fs::symlink_metadata(&victim).is_ok_and(|meta| meta.is_dir());
                    if !is_dir || fs::rename(&victim, &aside).is_err() {
                        replaced.store(true, Ordering::Relaxed);
                        break;
                    }
                    if std::os::unix::fs::symlink(&outside, &victim).is_err() {
                        replaced.store(true, Ordering::Relaxed);
                        break;
                    }
                    std::thread::yield_now();
                    let still_link = fs::symlink_metadata(&victim)
                        .is_ok_and(|meta| meta.file_type().is_symlink());
                    if !still_link || fs::remove_file(&victim).is_err() {
                        replaced.store(true, Ordering::Relaxed);
                        break;
                    }
                    if fs::rename(&aside, &victim).is_err() {
                        replaced.store(true, Ordering::Relaxed);
                        break;
                    }
                }
            });
            let (summary, _, _) = run(&src, &dst, mirror());
            done.store(true, Ordering::Relaxed);
            // The link swapped aside by the mirror, in the place of the tree: left under
            // its hidden name, reported as a failure.
            let link_aside = fs::read_dir(&dst).unwrap().flatten().any(|entry| {
                entry.file_name().to_string_lossy().starts_with(".x.knot~")
                    && entry.file_type().is_ok_and(|ty| ty.is_symlink())
            });
            if link_aside {
                assert!(summary.failed > 0, "round {round}: {summary:?}");
            }
            // Met where the mirror found the tree changed under it: the link set aside,
            // or the name gone or a link where it looked (each a failure reported; the
            // tree alone, unraced, gives none).
            if link_aside || summary.failed > 0 {
                met += 1;
            }
        });
        assert!(
            state(&outside) == outside_before,
            "round {round}: outside changed, it holds {:?}",
            crate::fixture::names(&outside)
        );
    }
    assert!(met > 0, "no round met the swap");
}

/// A tree deeper than the directories `mirror` holds open while it removes it: a
/// directory near its top, moved outside and back while the removal runs, is never taken
/// for its old place: the one above it is opened again only where it is still the same
/// directory, so nothing outside is removed (an empty directory of the tree's names
/// among it). Rounds are counted, not timed; the swap is met where the removal reports
/// the directory replaced.
#[test]
fn a_directory_moved_out_of_a_deep_tree_being_removed_is_not_followed() {
    const ROUNDS: usize = 60;
    const SWAPS: usize = 2000;
    const DEPTH: usize = 80;
    let dir = Dir::new();
    let src = dir.mkdir("src");
    let outside = dir.mkdir("outside");
    dir.mkdir("outside/d");
    for n in 0..10 {
        dir.file(&format!("outside/f{n}"), "SECRET");
    }
    let outside_before = state(&outside);
    let copies = dir.mkdir("copies");
    let mut met = 0;
    for round in 0..ROUNDS {
        let dst = copies.join(format!("c{round}"));
        let mut level = dst.join("deep");
        let mut victim = None;
        for depth in 0..DEPTH {
            level.push("d");
            fs::create_dir_all(&level).unwrap();
            for n in 0..10 {
                fs::write(level.join(format!("f{n}")), "old").unwrap();
            }
            if depth == 5 {
                victim = Some(level.clone());
            }
        }
        let victim = victim.unwrap();
        let moved = dir.join(format!("outside/moved{round}"));
        let done = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for _ in 0..(round % 10) * 40 {
                    std::thread::yield_now();
                }
                for _ in 0..SWAPS {
                    if done.load(Ordering::Relaxed) || fs::rename(&victim, &moved).is_err() {
                        break;
                    }
                    std::thread::yield_now();
                    if fs::rename(&moved, &victim).is_err() {
                        break;
                    }
                }
            });
            let (_, _, errors) = run(&src, &dst, mirror());
            done.store(true, Ordering::Relaxed);
            if errors
                .iter()
                .any(|err| err.to_string().contains("replaced by something else"))
            {
                met += 1;
            }
        });
        // What was moved outside and stayed there is the tree's, not outside's.
        let _ = fs::remove_dir_all(&moved);
        assert!(
            state(&outside) == outside_before,
            "round {round}: outside changed, it holds {:?}",
            crate::fixture::names(&outside)
        );
    }
    assert!(met > 0, "no round met the swap");
}
