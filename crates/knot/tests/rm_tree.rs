//! `knot::remove_tree` (`knot rm --tree`): a tree removed, every link in it removed as a
//! link and never followed, the links and mount points reported before anything goes.

use std::fs;
use std::path::{Path, PathBuf};

use knot::{ChangeMode, ErrorKind, Met, TreeAction, TreeRemoved};

use crate::fixture::Dir;

/// `remove_tree`, with what it reported: the links and mount points met (path and
/// action), and the errors' kinds.
fn remove(
    path: &Path,
    mode: ChangeMode,
) -> (TreeRemoved, Vec<(PathBuf, TreeAction)>, Vec<ErrorKind>) {
    let (mut met, mut errors) = (Vec::new(), Vec::new());
    let mut each = |found: knot::Result<Met>| match found {
        Ok(found) => met.push((found.link.path.clone(), found.action)),
        Err(err) => errors.push(err.kind().clone()),
    };
    let removed = knot::remove_tree(path, mode, &mut each).unwrap();
    met.sort_by(|a, b| a.0.cmp(&b.0));
    (removed, met, errors)
}

/// Every path below `dir`, relative to it, sorted; links not followed.
fn all(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut left = vec![dir.to_path_buf()];
    while let Some(below) = left.pop() {
        for entry in fs::read_dir(&below).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let name = path.strip_prefix(dir).unwrap();
            found.push(name.to_string_lossy().replace('\\', "/"));
            if entry.file_type().unwrap().is_dir() {
                left.push(path);
            }
        }
    }
    found.sort();
    found
}

/// A plain tree goes whole, and the summary counts every entry.
#[test]
fn a_plain_tree_is_removed_and_counted() {
    let dir = Dir::new();
    dir.mkdir("t/a/b/c");
    dir.mkdir("t/empty");
    dir.file("t/f", "1");
    dir.file("t/a/g", "2");
    dir.file("t/a/b/c/h", "3");
    let (removed, met, errors) = remove(&dir.join("t"), ChangeMode::Change);
    assert_eq!((removed.files, removed.dirs, removed.links), (3, 5, 0));
    assert_eq!((removed.refused, removed.errors), (0, 0));
    assert!(met.is_empty() && errors.is_empty(), "{met:?} {errors:?}");
    assert!(all(dir.path()).is_empty(), "left: {:?}", all(dir.path()));
}

/// Read-only files go with the tree (on Windows their attribute is cleared on them alone,
/// as they go); a read-only file outside, with the same data, keeps its attribute.
#[test]
fn read_only_files_are_removed() {
    let dir = Dir::new();
    dir.mkdir("t/sub");
    for name in ["t/ro", "t/sub/ro", "outside"] {
        let path = dir.file(name, "data");
        let mut perms = fs::metadata(&path).unwrap().permissions();
        perms.set_readonly(true);
        fs::set_permissions(&path, perms).unwrap();
    }
    let (removed, _, errors) = remove(&dir.join("t"), ChangeMode::Change);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!((removed.files, removed.dirs), (2, 2));
    assert_eq!(dir.names(), ["outside"]);
    assert!(
        fs::metadata(dir.join("outside"))
            .unwrap()
            .permissions()
            .readonly()
    );
}

/// A dry run counts what would go and reports the links, and removes nothing.
#[cfg(unix)]
#[test]
fn a_dry_run_removes_nothing() {
    let dir = Dir::new();
    dir.mkdir("t/a");
    dir.file("t/a/f", "1");
    dir.symlink("t/a/l", "f");
    let before = all(dir.path());
    let (removed, met, errors) = remove(&dir.join("t"), ChangeMode::DryRun);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!((removed.files, removed.dirs, removed.links), (1, 2, 1));
    assert_eq!(met, [(dir.join("t/a/l"), TreeAction::WouldRemove)]);
    assert_eq!(all(dir.path()), before);
    assert_eq!(fs::read_link(dir.join("t/a/l")).unwrap(), Path::new("f"));
}

/// What is put in the tree after the listing read it (here while a link of it is
/// reported) is removed too: the removal works from what the listing kept, and a
/// directory found not empty is read again. A link put there is removed as a link, never
/// followed, and reported removed, as the link listed is.
#[cfg(unix)]
#[test]
fn entries_put_in_the_tree_after_the_listing_are_removed_too() {
    let dir = Dir::new();
    dir.mkdir("t/a");
    dir.file("t/a/f", "1");
    dir.symlink("t/a/l", "f");
    let outside = dir.mkdir("outside");
    dir.file("outside/canary", "CANARY");
    let (mut met, mut errors) = (Vec::new(), Vec::new());
    let mut each = |found: knot::Result<Met>| match found {
        Ok(found) => {
            if found.action == TreeAction::ToRemove {
                fs::write(dir.join("t/late"), "1").unwrap();
                fs::write(dir.join("t/a/late"), "1").unwrap();
                fs::create_dir(dir.join("t/a/late-dir")).unwrap();
                fs::write(dir.join("t/a/late-dir/f"), "1").unwrap();
                std::os::unix::fs::symlink(&outside, dir.join("t/a/late-link")).unwrap();
            }
            met.push((found.link.path.clone(), found.action));
        }
        Err(err) => errors.push(err.kind().clone()),
    };
    let removed = knot::remove_tree(dir.join("t"), ChangeMode::Change, &mut each).unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    met.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        met,
        [
            (dir.join("t/a/l"), TreeAction::ToRemove),
            (dir.join("t/a/l"), TreeAction::Removed),
            (dir.join("t/a/late-link"), TreeAction::Removed),
        ]
    );
    assert_eq!((removed.files, removed.dirs, removed.links), (4, 3, 2));
    assert_eq!(dir.names(), ["outside"]);
    assert_eq!(all(&outside), ["canary"]);
    assert_eq!(
        fs::read_to_string(dir.join("outside/canary")).unwrap(),
        "CANARY"
    );
}

/// A canary behind every kind of link survives with its data: file and directory
/// symlinks, relative and absolute, to outside, to the tree's parent and to the tree
/// itself, and a hard link whose other name is outside. Each link is reported before it
/// is removed as a link.
#[cfg(unix)]
#[test]
fn a_canary_behind_every_kind_of_link_survives() {
    let dir = Dir::new();
    let outside = dir.mkdir("outside");
    dir.file("outside/canary", "CANARY");
    dir.mkdir("outside/sub");
    dir.file("outside/sub/canary", "CANARY");
    dir.file("outside/hard", "HARD");
    let tree = dir.mkdir("t");
    dir.mkdir("t/d/e");
    let links = [
        ("t/file-rel", PathBuf::from("../outside/canary")),
        ("t/file-abs", outside.join("canary")),
        ("t/d/dir-rel", PathBuf::from("../../outside")),
        ("t/d/dir-abs", outside.clone()),
        ("t/d/e/up", PathBuf::from("..")),
        ("t/d/e/parent", PathBuf::from("../../..")),
        ("t/d/e/tree", tree.clone()),
        ("t/dangling", PathBuf::from("nowhere")),
    ];
    for (name, target) in &links {
        dir.symlink(name, target);
    }
    fs::hard_link(dir.join("outside/hard"), dir.join("t/d/hard")).unwrap();
    let (removed, met, errors) = remove(&tree, ChangeMode::Change);
    assert!(errors.is_empty(), "{errors:?}");
    let mut expected: Vec<_> = links
        .iter()
        .flat_map(|(name, _)| {
            [TreeAction::ToRemove, TreeAction::Removed].map(|action| (dir.join(name), action))
        })
        .collect();
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(met, expected);
    assert_eq!((removed.files, removed.dirs, removed.links), (1, 3, 8));
    assert_eq!(dir.names(), ["outside"]);
    assert_eq!(all(&outside), ["canary", "hard", "sub", "sub/canary"]);
    for canary in ["outside/canary", "outside/sub/canary"] {
        assert_eq!(fs::read_to_string(dir.join(canary)).unwrap(), "CANARY");
    }
    assert_eq!(
        fs::read_to_string(dir.join("outside/hard")).unwrap(),
        "HARD"
    );
}

/// The tree itself a link, a file, the root directory, `.`, `..` or a directory that
/// holds the current directory: refused before anything is removed.
#[cfg(unix)]
#[test]
fn trees_that_may_not_go_are_refused() {
    let dir = Dir::new();
    dir.mkdir("real/sub");
    dir.file("real/sub/f", "1");
    dir.symlink("link", "real");
    dir.file("file", "1");
    let refused = |path: &Path| {
        knot::remove_tree(path, ChangeMode::Change, &mut |_| panic!("nothing is met"))
            .map(|_| ())
            .unwrap_err()
            .kind()
            .clone()
    };
    assert_eq!(refused(&dir.join("link")), ErrorKind::TreeIsALink);
    // `link/` names the directory the link leads to: still the link, never followed.
    assert_eq!(refused(&dir.join("link/")), ErrorKind::TreeIsALink);
    assert!(matches!(
        refused(&dir.join("file")),
        ErrorKind::TreeNotADirectory { .. }
    ));
    let root = ErrorKind::TreeRefused {
        holds_current: false,
    };
    assert_eq!(refused(Path::new("/")), root);
    let current = ErrorKind::TreeRefused {
        holds_current: true,
    };
    assert_eq!(refused(&dir.join("real/sub/..")), current);
    assert_eq!(refused(&dir.join("real/.")), current);
    assert_eq!(refused(Path::new(".")), current);
    // The test binary's current directory is inside `/`, and so inside its ancestors.
    let cwd = std::env::current_dir().unwrap();
    assert_eq!(refused(cwd.parent().unwrap()), current);
    assert_eq!(
        all(dir.path()),
        ["file", "link", "real", "real/sub", "real/sub/f"]
    );
}

/// A directory inside the tree swapped for a symlink to a directory outside while the
/// tree is removed is never gone through: the outside canaries always survive. Rounds
/// are counted, not timed; the swap is met where the removal took the symlink away (as a
/// link) or reported the directory replaced or gone.
#[cfg(target_os = "linux")]
#[test]
fn a_directory_swapped_for_a_link_while_the_tree_is_removed_is_not_followed() {
    use std::sync::atomic::{AtomicBool, Ordering};
    const ROUNDS: usize = 40;
    const SWAPS: usize = 200;
    const DIRS: usize = 20;
    let dir = Dir::new();
    let outside = dir.mkdir("outside");
    for n in 0..10 {
        dir.file(&format!("outside/f{n}"), "CANARY");
    }
    dir.mkdir("outside/sub");
    dir.file("outside/sub/g", "CANARY");
    let outside_before = all(&outside);
    let mut met = 0;
    for round in 0..ROUNDS {
        let tree = dir.join(format!("t{round}"));
        for d in 0..DIRS {
            let below = tree.join(format!("s{d}"));
            fs::create_dir_all(below.join("sub")).unwrap();
            for n in 0..10 {
                fs::write(below.join(format!("f{n}")), "x").unwrap();
                fs::write(below.join(format!("sub/f{n}")), "x").unwrap();
            }
        }
        let victim = tree.join(format!("s{}", round % DIRS));
        let aside = dir.join(format!("aside{round}"));
        let done = AtomicBool::new(false);
        let gone = AtomicBool::new(false);
        let mut errors = Vec::new();
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
            let mut each = |found: knot::Result<Met>| {
                if let Err(err) = found {
                    errors.push(err);
                }
            };
            let removed = knot::remove_tree(&tree, ChangeMode::Change, &mut each);
            done.store(true, Ordering::Relaxed);
            if removed.is_err() || !errors.is_empty() || gone.load(Ordering::Relaxed) {
                met += 1;
            }
        });
        assert_eq!(
            all(&outside),
            outside_before,
            "round {round}: outside changed"
        );
        for n in 0..10 {
            let canary = outside.join(format!("f{n}"));
            assert_eq!(fs::read_to_string(canary).unwrap(), "CANARY");
        }
    }
    assert!(met > 0, "no round met the swap");
}

/// A link whose removal fails (its directory may not be changed) is reported failed with
/// its error, after the listing reported it to be removed, and is not counted; it stays,
/// with the directories above it. The other link is reported removed.
#[cfg(target_os = "linux")]
#[test]
fn a_link_whose_removal_fails_is_reported_failed_and_not_counted() {
    const TEST: &str = "a_link_whose_removal_fails_is_reported_failed_and_not_counted";
    let dir = Dir::new();
    dir.mkdir("t/locked");
    dir.mkdir("t/open");
    dir.file("t/f", "1");
    dir.symlink("t/locked/l", "../f");
    dir.symlink("t/open/l", "../f");
    let Some(_locked) = crate::fixture::lock(TEST, &dir.join("t/locked")) else {
        return;
    };
    let (mut met, mut errors) = (Vec::new(), Vec::new());
    let mut each = |found: knot::Result<Met>| match found {
        Ok(found) => {
            let error = found.error.map(|err| err.path().to_path_buf());
            met.push((found.link.path.clone(), found.action, error));
        }
        Err(err) => errors.push(err),
    };
    let removed = knot::remove_tree(dir.join("t"), ChangeMode::Change, &mut each).unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    // The listing's reports come first: a stable sort keeps them before the outcomes.
    met.sort_by(|a, b| a.0.cmp(&b.0));
    let locked = dir.join("t/locked/l");
    assert_eq!(
        met,
        [
            (locked.clone(), TreeAction::ToRemove, None),
            (locked.clone(), TreeAction::Failed, Some(locked.clone())),
            (dir.join("t/open/l"), TreeAction::ToRemove, None),
            (dir.join("t/open/l"), TreeAction::Removed, None),
        ]
    );
    assert_eq!((removed.files, removed.dirs, removed.links), (1, 1, 1));
    assert_eq!(removed.errors, 1);
    assert_eq!(all(&dir.join("t")), ["locked", "locked/l"]);
}

/// What the removal's threads report reaches the caller while they remove, through a
/// queue of 1,024: with 3,000 links below the top, the first link reported removed comes
/// while hundreds are still there (where the reports were kept until every thread was
/// done, none was left by then).
#[cfg(unix)]
#[test]
fn removals_are_reported_while_the_removal_goes_on() {
    if std::thread::available_parallelism().map_or(1, usize::from) < 2 {
        eprintln!("skipped: one core, so the removal runs on this thread alone");
        return;
    }
    let dir = Dir::new();
    let root = dir.mkdir("t");
    for d in 0..30 {
        let below = dir.mkdir(&format!("t/d{d}"));
        for l in 0..100 {
            std::os::unix::fs::symlink("/nowhere", below.join(format!("l{l}"))).unwrap();
        }
    }
    let left_at_first = std::cell::Cell::new(None);
    let mut each = |met: knot::Result<Met>| {
        let met = met.unwrap();
        if met.action == TreeAction::Removed && left_at_first.get().is_none() {
            let left: usize = (0..30)
                .filter_map(|d| fs::read_dir(root.join(format!("d{d}"))).ok())
                .map(|entries| entries.count())
                .sum();
            left_at_first.set(Some(left));
        }
    };
    let removed = knot::remove_tree(&root, ChangeMode::Change, &mut each).unwrap();
    assert_eq!(removed.links, 3000);
    assert!(!root.exists());
    let left = left_at_first.get().unwrap();
    assert!(
        left >= 1000,
        "{left} links left when the first was reported removed"
    );
}
