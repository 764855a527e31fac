//! `knot::copy::snapshot`: a copy whose files unchanged since a previous copy are hard
//! links to that copy's files.

use std::fs;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use knot::copy::{Action, CopyOptions, Item, Summary};
use knot::{ChangeMode, ErrorKind};

use crate::fixture::Dir;

/// Snapshots `source` to `copy` against `previous`: the counts, every item, every error.
fn run(
    source: &Path,
    copy: &Path,
    previous: &Path,
    options: CopyOptions,
) -> (Summary, Vec<Item>, Vec<knot::Error>) {
    let items = Mutex::new(Vec::new());
    let errors = Mutex::new(Vec::new());
    let summary = knot::copy::snapshot(source, copy, previous, &options, |item| match item {
        Ok(item) => items.lock().unwrap().push(item),
        Err(err) => errors.lock().unwrap().push(err),
    })
    .unwrap();
    (
        summary,
        items.into_inner().unwrap(),
        errors.into_inner().unwrap(),
    )
}

/// A plain copy, as the previous snapshot.
fn copy(source: &Path, copy: &Path) {
    knot::copy(source, copy, &CopyOptions::default(), |item| {
        item.unwrap();
    })
    .unwrap();
}

fn item<'a>(items: &'a [Item], source: &Path, below: &str) -> &'a Item {
    let path = source.join(below);
    items
        .iter()
        .find(|item| item.link.path == path)
        .unwrap_or_else(|| panic!("no item for {below}: {items:#?}"))
}

fn ino(path: &Path) -> u64 {
    fs::symlink_metadata(path).unwrap().ino()
}

/// An entry's path, file, size, modification time, mode, owner, data or target.
type Kept = (PathBuf, u64, u64, i64, i64, u32, u32, Vec<u8>);

/// Every entry below `root`, not following links, with what a snapshot must not change:
/// its file, size, modification time, mode, owner, and a file's data or a link's target
/// (not its number of names, nor its ctime, which a new name changes).
fn state(root: &Path) -> Vec<Kept> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = fs::symlink_metadata(&path).unwrap();
            let data = if meta.is_dir() {
                todo.push(path.clone());
                Vec::new()
            } else if meta.is_symlink() {
                fs::read_link(&path)
                    .unwrap()
                    .into_os_string()
                    .into_encoded_bytes()
            } else {
                fs::read(&path).unwrap()
            };
            let (size, mtime, nsec) = (meta.size(), meta.mtime(), meta.mtime_nsec());
            out.push((
                path,
                meta.ino(),
                size,
                mtime,
                nsec,
                meta.mode(),
                meta.uid(),
                data,
            ));
        }
    }
    out.sort();
    out
}

/// Unchanged files become names of the previous snapshot's files; changed ones (data,
/// size, modification time, mode) and new ones are copied; links and directories are
/// made as `copy` makes them; hard-link groups stay groups; the previous snapshot is left
/// as it was.
#[test]
fn unchanged_files_are_linked_to_the_previous_copy() {
    let dir = Dir::new();
    let src = dir.mkdir("src");
    dir.mkdir("src/d/e");
    dir.file("src/same", "same");
    dir.file("src/d/e/deep", "deep");
    dir.file("src/d/data", "old data");
    dir.file("src/d/time", "time");
    dir.file("src/d/mode", "mode");
    dir.file("src/g1", "group");
    fs::hard_link(src.join("g1"), src.join("g2")).unwrap();
    dir.symlink("src/d/link", "../same");
    let old = dir.join("old");
    copy(&src, &old);
    // The changes since.
    fs::write(src.join("d/data"), "new data!").unwrap();
    let file = fs::File::options()
        .write(true)
        .open(src.join("d/time"))
        .unwrap();
    let mtime = fs::metadata(src.join("d/time"))
        .unwrap()
        .modified()
        .unwrap();
    file.set_modified(mtime + std::time::Duration::from_nanos(1))
        .unwrap();
    fs::set_permissions(src.join("d/mode"), fs::Permissions::from_mode(0o600)).unwrap();
    dir.file("src/d/new", "new");
    let before = state(&old);
    let new = dir.join("new");
    let (summary, items, errors) = run(&src, &new, &old, CopyOptions::default());
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(state(&old), before, "the previous snapshot changed");
    for unchanged in ["same", "d/e/deep", "g1", "g2"] {
        assert_eq!(
            ino(&new.join(unchanged)),
            ino(&old.join(unchanged)),
            "{unchanged}"
        );
    }
    for changed in ["d/data", "d/time", "d/mode"] {
        assert_ne!(
            ino(&new.join(changed)),
            ino(&old.join(changed)),
            "{changed}"
        );
        assert_eq!(
            fs::read(new.join(changed)).unwrap(),
            fs::read(src.join(changed)).unwrap()
        );
        assert_eq!(fs::metadata(new.join(changed)).unwrap().nlink(), 1);
    }
    assert_eq!(fs::read_to_string(new.join("d/new")).unwrap(), "new");
    assert_eq!(
        fs::read_link(new.join("d/link")).unwrap(),
        Path::new("../same")
    );
    assert_eq!(
        fs::metadata(new.join("d/mode")).unwrap().mode() & 0o7777,
        0o600
    );
    let same = item(&items, &src, "same");
    assert_eq!(same.action, Action::Linked);
    assert_eq!(same.new_target.as_deref(), Some(old.join("same").as_path()));
    assert_eq!(item(&items, &src, "d/data").action, Action::Copied);
    // same, d/e/deep, and the group's first name; its other name is linked to that one.
    assert_eq!(summary.unchanged, 3);
    assert_eq!(summary.files, 4);
    assert_eq!((summary.groups, summary.hard_links), (1, 1));
    assert_eq!(summary.split, 0);
}

/// The previous snapshot is read without following links: a directory there swapped for a
/// link to a directory outside, whose files match the source's, leads nothing to be
/// linked to those files; the source's files are copied, and the outside files keep
/// their one name.
#[test]
fn a_link_in_the_previous_copy_is_not_followed() {
    let dir = Dir::new();
    dir.mkdir("src/d");
    dir.mkdir("src/e");
    let src = dir.join("src");
    dir.file("src/d/f", "data");
    dir.file("src/e/f", "data");
    let old = dir.join("old");
    copy(&src, &old);
    let outside = dir.join("outside");
    copy(&src.join("d"), &outside);
    fs::remove_dir_all(old.join("d")).unwrap();
    std::os::unix::fs::symlink(&outside, old.join("d")).unwrap();
    let new = dir.join("new");
    let (summary, items, errors) = run(&src, &new, &old, CopyOptions::default());
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(item(&items, &src, "d/f").action, Action::Copied);
    assert_eq!(fs::metadata(outside.join("f")).unwrap().nlink(), 1);
    assert_eq!(fs::read_to_string(new.join("d/f")).unwrap(), "data");
    // The directory left as it was is linked to.
    assert_eq!(item(&items, &src, "e/f").action, Action::Linked);
    assert_eq!(summary.unchanged, 1);
}

/// A dry run says what would be linked and copied, and makes nothing.
#[test]
fn dry_run_makes_nothing() {
    let dir = Dir::new();
    let src = dir.mkdir("src");
    dir.file("src/same", "same");
    dir.file("src/g1", "group");
    fs::hard_link(src.join("g1"), src.join("g2")).unwrap();
    let old = dir.join("old");
    copy(&src, &old);
    dir.file("src/new", "new");
    let before = state(&old);
    let new = dir.join("new");
    let options = CopyOptions {
        mode: ChangeMode::DryRun,
        ..CopyOptions::default()
    };
    let (summary, items, errors) = run(&src, &new, &old, options);
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(!new.exists());
    assert_eq!(state(&old), before);
    assert_eq!(item(&items, &src, "same").action, Action::Linked);
    assert_eq!(item(&items, &src, "new").action, Action::Copied);
    assert_eq!((summary.unchanged, summary.files), (2, 1));
}

/// A previous snapshot that is no directory, that is the source itself, that is the new
/// one or holds it, is refused before anything is made.
#[test]
fn the_previous_copy_must_be_a_directory_outside_the_new_one() {
    let dir = Dir::new();
    let src = dir.mkdir("src");
    dir.file("src/f", "f");
    let file = dir.file("file", "x");
    let fail = |new: &Path, previous: &Path| {
        knot::copy::snapshot(&src, new, previous, &CopyOptions::default(), |_| {}).unwrap_err()
    };
    let err = fail(&dir.join("new"), &file);
    assert!(
        matches!(err.kind(), ErrorKind::SourceNotADirectory),
        "{err}"
    );
    let old = dir.join("old");
    copy(&src, &old);
    let err = fail(&old.join("new"), &old);
    assert!(
        matches!(err.kind(), ErrorKind::InsidePrevious { previous } if *previous == old),
        "{err}"
    );
    let err = fail(&old, &old);
    assert!(
        matches!(err.kind(), ErrorKind::SnapshotNotNew { previous: Some(p) } if *p == old),
        "{err}"
    );
    let err = fail(&dir.join("new"), &src);
    assert!(
        matches!(err.kind(), ErrorKind::PreviousIsSource { previous } if *previous == src),
        "{err}"
    );
    assert_eq!(dir.names(), ["file", "old", "src"]);
    assert_eq!(crate::fixture::names(&old), ["f"]);
}

/// A file of the previous snapshot that has as many names as its file system allows (an
/// ext4 image: 65,000) is not linked to: the unchanged file is copied instead, and
/// reported `link-limit`; the previous snapshot is left as it was.
#[test]
fn a_file_at_the_link_limit_is_copied() {
    let Some(vol) = crate::fixture::ext4("snapshot::a_file_at_the_link_limit_is_copied") else {
        return;
    };
    let dir = Dir::new();
    let src = dir.mkdir("src");
    dir.file("src/full", "full");
    dir.file("src/other", "other");
    let old = vol.mnt.join("old");
    copy(&src, &old);
    let names = old.join("names");
    fs::create_dir(&names).unwrap();
    // ext4 gives a file at most 65,000 names: it has one, and is given the others.
    let mut made = 1;
    loop {
        match fs::hard_link(old.join("full"), names.join(made.to_string())) {
            Ok(()) => made += 1,
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::MLINK.raw_os_error()) => break,
            Err(e) => panic!("{e}"),
        }
        assert!(made <= 65_000, "no link limit met");
    }
    assert_eq!(fs::metadata(old.join("full")).unwrap().nlink(), 65_000);
    let before: Vec<_> = ["full", "other"]
        .map(|name| {
            state(&old)
                .into_iter()
                .find(|s| s.0 == old.join(name))
                .unwrap()
        })
        .into();
    let new = vol.mnt.join("new");
    let (summary, items, errors) = run(&src, &new, &old, CopyOptions::default());
    assert!(errors.is_empty(), "{errors:#?}");
    let full = item(&items, &src, "full");
    assert_eq!(full.action, Action::AtLinkLimit);
    assert_eq!(full.new_target.as_deref(), Some(old.join("full").as_path()));
    assert_ne!(ino(&new.join("full")), ino(&old.join("full")));
    assert_eq!(fs::read_to_string(new.join("full")).unwrap(), "full");
    assert_eq!(ino(&new.join("other")), ino(&old.join("other")));
    assert_eq!(item(&items, &src, "other").action, Action::Linked);
    assert_eq!((summary.unchanged, summary.split, summary.files), (1, 1, 1));
    let after: Vec<_> = ["full", "other"]
        .map(|name| {
            state(&old)
                .into_iter()
                .find(|s| s.0 == old.join(name))
                .unwrap()
        })
        .into();
    assert_eq!(after, before);
    assert_eq!(fs::metadata(old.join("full")).unwrap().nlink(), 65_000);
}

/// A directory of the previous snapshot swapped for a link to a directory outside, whose
/// files match the source's, while the snapshot runs: no file outside is ever linked to
/// (each keeps its one name) or changed, and the new snapshot's files hold the source's
/// data. Rounds are counted, not timed.
#[test]
fn a_previous_directory_swapped_for_a_link_is_not_followed() {
    const ROUNDS: usize = 40;
    const DIRS: usize = 20;
    const SWAPS: usize = 200;
    let dir = Dir::new();
    let src = dir.mkdir("src");
    // Every file the same to a snapshot: size, mode, owner and time.
    let time = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1 << 30);
    for d in 0..DIRS {
        dir.mkdir(&format!("src/d{d}"));
        for name in ["f", "g"] {
            let path = dir.file(&format!("src/d{d}/{name}"), "ok");
            let file = fs::File::options().write(true).open(path).unwrap();
            file.set_modified(time).unwrap();
        }
    }
    let old = dir.join("old");
    copy(&src, &old);
    // Outside: the same files (same size, time, mode), so only a link followed would
    // take them for unchanged.
    let outside = dir.join("outside");
    copy(&src.join("d0"), &outside);
    let outside_before = state(&outside);
    let aside = dir.join("aside");
    let news = dir.mkdir("new");
    let mut met = 0;
    for round in 0..ROUNDS {
        let new = news.join(format!("n{round}"));
        let name = format!("d{}", round % DIRS);
        let victim = old.join(&name);
        let done = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for _ in 0..SWAPS {
                    if done.load(Ordering::Relaxed) {
                        break;
                    }
                    fs::rename(&victim, &aside).unwrap();
                    std::os::unix::fs::symlink(&outside, &victim).unwrap();
                    std::thread::yield_now();
                    fs::remove_file(&victim).unwrap();
                    fs::rename(&aside, &victim).unwrap();
                }
            });
            let options = CopyOptions {
                threads: 2,
                ..CopyOptions::default()
            };
            let (_, items, errors) = run(&src, &new, &old, options);
            done.store(true, Ordering::Relaxed);
            assert!(errors.is_empty(), "round {round}: {errors:#?}");
            // The snapshot met the swap: it found the link, and copied the files.
            let f = item(&items, &src, &format!("{name}/f"));
            if f.action != Action::Linked {
                met += 1;
            }
            // The files of the other directories, unchanged, are linked all the same.
            let other = format!("d{}/f", (round + 1) % DIRS);
            assert_eq!(
                item(&items, &src, &other).action,
                Action::Linked,
                "round {round}"
            );
        });
        for file in ["f", "g"] {
            assert_eq!(
                fs::metadata(outside.join(file)).unwrap().nlink(),
                1,
                "round {round}"
            );
            let path = new.join(&name).join(file);
            assert_eq!(fs::read_to_string(&path).unwrap(), "ok", "round {round}");
            let linked = ino(&path) == ino(&victim.join(file));
            assert!(
                linked || fs::metadata(&path).unwrap().nlink() == 1,
                "round {round}"
            );
        }
        assert_eq!(state(&outside), outside_before, "round {round}");
    }
    assert!(met > 0, "no round met the swap");
}
