//! `knot::relocate` and `knot::relocate_back` (`knot move`): the steps reported in order,
//! on one file system and across two (the temporary directory and /dev/shm, a tmpfs), and
//! every refusal made before anything changes.

use std::fs;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use knot::{ChangeMode, ErrorKind, Event, Leave, Made, MoveOptions, NotMoved, Step};

use crate::fixture::Dir;

/// The tree: `a/f`, its second name `a/hard`, `a/sub/g`, and the inner absolute link
/// `a/inner` to `a/f`.
fn tree(dir: &Dir) -> PathBuf {
    dir.mkdir("a/sub");
    dir.file("a/f", "data");
    dir.file("a/sub/g", "g");
    fs::hard_link(dir.join("a/f"), dir.join("a/hard")).unwrap();
    dir.symlink("a/inner", dir.real().join("a/f"));
    dir.join("a")
}

fn symlink_options() -> MoveOptions {
    MoveOptions {
        leave: Leave::Symlink,
        ..MoveOptions::default()
    }
}

/// The move's steps, by kind, and the errors of entries.
#[derive(Default)]
struct Seen {
    steps: Vec<&'static str>,
    failed: Vec<ErrorKind>,
}

impl Seen {
    fn each(&mut self) -> impl FnMut(Event) + '_ {
        |event| match event {
            Event::Step(step) => self.steps.push(match step {
                Step::Rename { .. } => "rename",
                Step::Copy { .. } => "copy",
                Step::Check { .. } => "check",
                Step::SetAside { .. } => "set-aside",
                Step::Link { .. } => "link",
                Step::RemoveLink { .. } => "remove-link",
                Step::RemoveTree { .. } => "remove-tree",
                _ => "other",
            }),
            Event::Failed(err) => self.failed.push(err.kind().clone()),
            _ => {}
        }
    }
}

fn assert_whole(dir: &Path, inner_to: &Path) {
    assert_eq!(fs::read_to_string(dir.join("f")).unwrap(), "data");
    assert_eq!(fs::read_to_string(dir.join("sub/g")).unwrap(), "g");
    let (f, hard) = (
        fs::metadata(dir.join("f")).unwrap(),
        fs::metadata(dir.join("hard")).unwrap(),
    );
    assert_eq!((f.ino(), f.nlink()), (hard.ino(), 2));
    assert_eq!(
        fs::read_link(dir.join("inner")).unwrap(),
        inner_to.join("f")
    );
}

#[test]
fn on_one_file_system_a_rename_then_the_link_and_back() {
    let dir = Dir::new();
    let a = tree(&dir);
    let b = dir.join("b");
    let mut seen = Seen::default();
    let moved = knot::relocate(&a, &b, &symlink_options(), &mut seen.each()).unwrap();
    assert_eq!(seen.steps, ["rename", "link"]);
    assert!(!moved.across && moved.copied.is_none() && moved.removed.is_none());
    assert_eq!(moved.made, Some(Made::Symlink));
    assert_eq!(fs::read_link(&a).unwrap(), dir.real().join("b"));
    assert_whole(&b, &dir.real().join("a"));

    let mut seen = Seen::default();
    let moved = knot::relocate_back(&a, &MoveOptions::default(), &mut seen.each()).unwrap();
    assert!(!moved.across);
    // Renamed beside the link, swapped in (or the link removed first), the link gone.
    assert!(
        seen.steps == ["rename", "rename", "remove-link"]
            || seen.steps == ["rename", "remove-link", "rename"],
        "{:?}",
        seen.steps
    );
    assert!(seen.failed.is_empty(), "{:?}", seen.failed);
    assert!(fs::symlink_metadata(&a).unwrap().is_dir());
    assert_whole(&a, &dir.real().join("a"));
    assert_eq!(crate::fixture::names(dir.path()), ["a"]);
}

#[test]
fn across_file_systems_a_checked_copy_then_the_source_removed() {
    let dir = Dir::new();
    let a = tree(&dir);
    let other =
        tempfile::tempdir_in("/dev/shm").expect("/dev/shm, a tmpfs, for a second file system");
    let b = other.path().join("b");
    let options = MoveOptions {
        verify: true,
        ..symlink_options()
    };
    let mut seen = Seen::default();
    let moved = knot::relocate(&a, &b, &options, &mut seen.each()).unwrap();
    assert_eq!(
        seen.steps,
        [
            "copy",
            "check",
            "rename",
            "set-aside",
            "link",
            "remove-tree"
        ]
    );
    assert!(seen.failed.is_empty(), "{:?}", seen.failed);
    assert!(moved.across);
    let copied = moved.copied.unwrap();
    assert_eq!(
        (copied.files, copied.hard_links, copied.rewritten),
        (2, 1, 1)
    );
    let removed = moved.removed.unwrap();
    assert_eq!((removed.files, removed.links, removed.dirs), (3, 1, 2));
    let b_real = fs::canonicalize(&b).unwrap();
    assert_eq!(fs::read_link(&a).unwrap(), b_real);
    assert_whole(&b, &b_real);
    assert_eq!(crate::fixture::names(dir.path()), ["a"]);
    assert_eq!(crate::fixture::names(other.path()), ["b"]);

    let mut seen = Seen::default();
    let moved = knot::relocate_back(&a, &options, &mut seen.each()).unwrap();
    assert!(moved.across);
    assert_eq!(seen.steps[..2], ["copy", "check"]);
    assert_eq!(seen.steps.last(), Some(&"remove-tree"));
    assert!(fs::symlink_metadata(&a).unwrap().is_dir());
    assert_whole(&a, &dir.real().join("a"));
    assert!(crate::fixture::names(other.path()).is_empty());
}

/// Across file systems, what is written into the directory while it is copied (here:
/// once the copy is made, before it is checked) is never lost: found once DIR is set
/// aside, before the link, the move is undone (DIR put back whole with what was written,
/// the copy removed) and said as a failed copy.
#[test]
fn what_is_written_into_the_directory_while_it_is_copied_is_kept() {
    let dir = Dir::new();
    let other =
        tempfile::tempdir_in("/dev/shm").expect("/dev/shm, a tmpfs, for a second file system");
    for (case, why) in [
        ("added", "'sub/late' was added while it was copied"),
        ("written", "'f' was changed while it was copied"),
        ("touched", "'f' was changed while it was copied"),
    ] {
        let a = tree(&dir);
        let b = other.path().join(case);
        let mut wrote = false;
        let mut seen = Vec::new();
        let err = knot::relocate(&a, &b, &symlink_options(), &mut |event| {
            if let Event::Step(step) = &event {
                seen.push(format!("{step:?}"));
            }
            if let Event::Step(Step::Check { .. }) = event {
                if case == "added" {
                    fs::write(a.join("sub/late"), "late").unwrap();
                } else if case == "touched" {
                    // Rewritten at the same size, its time put back (`touch -r`): only
                    // the change time tells.
                    let was = fs::metadata(a.join("f")).unwrap();
                    let mtime = was.modified().unwrap();
                    // The kernel's clock for file times is coarse: wait for its next tick,
                    // so that the change time can differ at all.
                    let probe = dir.join("probe");
                    let ticked = (0..1_000_000).any(|_| {
                        fs::write(&probe, "").unwrap();
                        let now = fs::metadata(&probe).unwrap();
                        (now.ctime(), now.ctime_nsec()) != (was.ctime(), was.ctime_nsec())
                    });
                    fs::remove_file(&probe).unwrap();
                    assert!(ticked);
                    let mut f = fs::File::options().write(true).open(a.join("f")).unwrap();
                    std::io::Write::write_all(&mut f, b"DATA").unwrap();
                    f.set_modified(mtime).unwrap();
                } else {
                    // The same size, another time: only the time tells.
                    let f = fs::File::options().write(true).open(a.join("f")).unwrap();
                    f.set_modified(std::time::SystemTime::UNIX_EPOCH).unwrap();
                }
                wrote = true;
            }
        })
        .unwrap_err();
        assert!(wrote);
        let ErrorKind::MoveCopyFailed {
            failed: 0,
            differs: Some(said),
            changed: true,
        } = err.kind()
        else {
            panic!("{case}: {err:?}");
        };
        assert_eq!(said, why);
        // No link was made: the change was found before it.
        assert!(!seen.iter().any(|s| s.starts_with("Link")), "{seen:?}");
        // DIR whole in its place with what was written; nothing at NEW, no hidden names.
        assert!(fs::symlink_metadata(&a).unwrap().is_dir());
        if case == "touched" {
            assert_eq!(fs::read_to_string(a.join("f")).unwrap(), "DATA");
        } else {
            assert_whole(&a, &dir.real().join("a"));
        }
        if case == "added" {
            assert_eq!(fs::read_to_string(a.join("sub/late")).unwrap(), "late");
        }
        assert_eq!(crate::fixture::names(dir.path()), ["a"]);
        assert!(crate::fixture::names(other.path()).is_empty());
        fs::remove_dir_all(&a).unwrap();
    }
}

/// Across file systems, a set-aside that fails undoes the copy by its identity: a
/// directory put at NEW in the copy's place meanwhile is not the copy, and is kept.
#[test]
fn the_undo_removes_only_the_copy_it_made() {
    let dir = Dir::new();
    let a = tree(&dir);
    let other =
        tempfile::tempdir_in("/dev/shm").expect("/dev/shm, a tmpfs, for a second file system");
    let b = other.path().join("b");
    let foreign = other.path().join("foreign");
    fs::create_dir(&foreign).unwrap();
    fs::write(foreign.join("keep"), "theirs").unwrap();
    let parked = other.path().join("parked");
    let a_parked = dir.join("a-parked");
    let mut failed = Vec::new();
    let err = knot::relocate(&a, &b, &symlink_options(), &mut |event| match event {
        Event::Step(Step::SetAside { .. }) => {
            // NEW is a public name now: another directory takes its place; and DIR goes
            // elsewhere, so that the set-aside fails.
            fs::rename(&b, &parked).unwrap();
            fs::rename(&foreign, &b).unwrap();
            fs::rename(&a, &a_parked).unwrap();
        }
        Event::Failed(err) => failed.push(err),
        _ => {}
    })
    .unwrap_err();
    assert_eq!(err.path(), a, "{err:?}");
    assert_eq!(failed.len(), 1, "{failed:?}");
    // The directory at NEW, not the copy, is kept as found.
    assert_eq!(fs::read_to_string(b.join("keep")).unwrap(), "theirs");
    assert_whole(&a_parked, &dir.real().join("a"));
    let mut names = crate::fixture::names(other.path());
    names.sort();
    assert_eq!(names, ["b", "parked"]);
}

/// Across file systems, NEW made by another while DIR was copied is never replaced: the
/// copy is removed, DIR left, and the error says NEW is there.
#[test]
fn new_made_meanwhile_is_said_to_be_there() {
    let dir = Dir::new();
    let a = tree(&dir);
    let other =
        tempfile::tempdir_in("/dev/shm").expect("/dev/shm, a tmpfs, for a second file system");
    let b = other.path().join("b");
    let err = knot::relocate(&a, &b, &symlink_options(), &mut |event| {
        if let Event::Step(Step::Rename { .. }) = event {
            fs::create_dir(&b).unwrap();
            fs::write(b.join("keep"), "theirs").unwrap();
        }
    })
    .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::MoveDestinationExists, "{err:?}");
    assert_eq!(err.path(), b);
    assert_eq!(fs::read_to_string(b.join("keep")).unwrap(), "theirs");
    assert_whole(&a, &dir.real().join("a"));
    assert_eq!(crate::fixture::names(other.path()), ["b"]);
}

/// Across file systems, a move back sets the old data aside before it is checked and
/// removed: what is written into it by its path after the check is not lost.
#[test]
fn a_move_back_across_file_systems_loses_no_late_write() {
    let dir = Dir::new();
    let a = tree(&dir);
    let other =
        tempfile::tempdir_in("/dev/shm").expect("/dev/shm, a tmpfs, for a second file system");
    let b = other.path().join("b");
    knot::relocate(&a, &b, &symlink_options(), &mut |_| {}).unwrap();
    // Written into the old data at NEW by its path: once before it is set aside (found
    // by the check, so it is kept), once as it is about to be removed (by then it is under
    // its hidden name, so NEW is gone and nothing can be written there).
    let (mut early, mut late) = (false, false);
    let err = knot::relocate_back(&a, &symlink_options(), &mut |event| match event {
        Event::Step(Step::SetAside { .. }) => {
            fs::write(b.join("early"), "early").unwrap();
            early = true;
        }
        Event::Step(Step::RemoveTree { .. }) => {
            late = fs::write(b.join("late"), "late").is_ok();
        }
        _ => {}
    })
    .unwrap_err();
    assert!(early);
    assert_whole(&a, &dir.real().join("a"));
    let ErrorKind::MoveStopped { data, left } = err.kind() else {
        panic!("{err:?}");
    };
    assert_eq!(data, &a);
    let knot::MoveLeft::Changed { at, why } = &**left else {
        panic!("{left:?}");
    };
    assert_eq!(why, "'early' was added");
    assert_eq!(fs::read_to_string(at.join("early")).unwrap(), "early");
    if late {
        assert_eq!(fs::read_to_string(b.join("late")).unwrap(), "late");
    }
}

#[test]
fn a_dry_run_reports_the_steps_and_changes_nothing() {
    let dir = Dir::new();
    let a = tree(&dir);
    let options = MoveOptions {
        mode: ChangeMode::DryRun,
        ..symlink_options()
    };
    let mut seen = Seen::default();
    let moved = knot::relocate(&a, dir.join("b"), &options, &mut seen.each()).unwrap();
    assert_eq!(seen.steps, ["rename", "link"]);
    assert_eq!(moved.made, None);
    assert_whole(&a, &dir.real().join("a"));
    assert_eq!(crate::fixture::names(dir.path()), ["a"]);
}

#[test]
fn refusals_come_before_anything_changes() {
    let dir = Dir::new();
    let a = tree(&dir);
    dir.mkdir("taken");
    dir.file("file", "x");
    dir.symlink("link", "a");
    let refused = |from: &Path, to: &Path, leave| {
        let options = MoveOptions {
            leave,
            ..MoveOptions::default()
        };
        let mut seen = Seen::default();
        let err = knot::relocate(from, to, &options, &mut seen.each()).unwrap_err();
        assert!(seen.steps.is_empty(), "{:?}", seen.steps);
        err.kind().clone()
    };
    let sym = Leave::Symlink;
    assert_eq!(
        refused(&dir.join("link"), &dir.join("n"), sym),
        ErrorKind::TreeIsALink
    );
    assert!(matches!(
        refused(&dir.join("file"), &dir.join("n"), sym),
        ErrorKind::TreeNotADirectory { .. }
    ));
    assert_eq!(
        refused(&a, &dir.join("taken"), sym),
        ErrorKind::MoveDestinationExists
    );
    assert_eq!(
        refused(&a, &dir.join("a/sub/n"), sym),
        ErrorKind::MoveIntoItself
    );
    assert_eq!(
        refused(&a, &dir.join("n"), Leave::Junction),
        ErrorKind::NoJunctions
    );
    assert_eq!(
        refused(Path::new("/"), &dir.join("n"), sym),
        ErrorKind::TreeRefused {
            holds_current: false
        }
    );
    assert_whole(&a, &dir.real().join("a"));
    assert_eq!(
        crate::fixture::names(dir.path()),
        ["a", "file", "link", "taken"]
    );
}

#[test]
fn back_takes_only_a_link_a_move_would_leave() {
    let dir = Dir::new();
    let a = tree(&dir);
    dir.symlink("to_file", dir.real().join("a/f"));
    dir.symlink("dangling", dir.real().join("gone"));
    dir.symlink("second", dir.real().join("link"));
    dir.symlink("link", dir.real().join("a"));
    dir.symlink("a/up", dir.real());
    // A workspace link (pnpm, yarn): relative, to a real directory.
    dir.symlink("workspace", "a/sub");
    let refused = |path: &Path| {
        let mut seen = Seen::default();
        let err = knot::relocate_back(path, &MoveOptions::default(), &mut seen.each()).unwrap_err();
        assert!(seen.steps.is_empty());
        match err.kind() {
            ErrorKind::NotAMovedLink { why } => *why,
            other => panic!("{}: {other:?}", path.display()),
        }
    };
    assert_eq!(refused(&a), NotMoved::RealDirectory);
    assert_eq!(refused(&dir.join("a/f")), NotMoved::NotALink);
    assert_eq!(refused(&dir.join("to_file")), NotMoved::FileLink);
    assert_eq!(refused(&dir.join("dangling")), NotMoved::Dangling);
    assert_eq!(refused(&dir.join("second")), NotMoved::LinkToLink);
    assert_eq!(refused(&dir.join("a/up")), NotMoved::LeadsAbove);
    assert_eq!(refused(&dir.join("workspace")), NotMoved::RelativeTarget);
    assert_whole(&a, &dir.real().join("a"));
}

/// A small deterministic generator for the racer's delays (xorshift).
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// DIR's parent swapped for a link to another directory while the move works: the move
/// acts on the directory it held, never on what the path leads to by then. The other
/// directory holds a file by DIR's name, which a move that looked DIR up again by its path
/// would move (or a link made through the path would sit beside); it must stay, alone.
/// Each round ends in one of two ways, both checked: refused (the swap came before DIR's
/// parent was held: what the path named then is a file, or nothing), or moved (the data at NEW, the
/// link in the held directory). The rounds in which the swap landed while the move worked
/// and it still moved are counted, and must be some: the race was met.
#[test]
fn a_parent_swapped_for_a_link_mid_move_is_never_gone_through() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Barrier};
    const ROUNDS: u64 = 600;
    let dir = Dir::new();
    let base = dir.real();
    let (src, held, outside) = (
        base.join("src"),
        base.join("src.held"),
        base.join("outside"),
    );
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("a"), "canary").unwrap();
    let setup = || {
        let _ = fs::remove_file(&src);
        let _ = fs::remove_dir_all(&held);
        let _ = fs::remove_dir_all(&src);
        let _ = fs::remove_dir_all(base.join("new"));
        fs::create_dir_all(src.join("a/sub")).unwrap();
        fs::write(src.join("a/sub/f"), "data").unwrap();
        // Enough entries for the look for mount points (between the hold and the rename)
        // to take a while.
        for i in 0..40 {
            fs::write(src.join(format!("a/sub/{i}")), "").unwrap();
        }
    };
    let options = symlink_options();
    let work = |_round: u64| knot::relocate(src.join("a"), base.join("new"), &options, &mut |_| {});
    // The racer's delays span about twice the move's work (the quickest of a few).
    let mut took = std::time::Duration::MAX;
    for round in 0..5 {
        setup();
        let started = std::time::Instant::now();
        work(round).unwrap();
        took = took.min(started.elapsed());
    }
    let spin_started = std::time::Instant::now();
    for _ in 0..100_000 {
        std::hint::spin_loop();
    }
    let per = spin_started.elapsed().as_nanos().max(1) / 100_000;
    let spins = u64::try_from(2 * took.as_nanos() / per.max(1))
        .unwrap_or(u64::MAX)
        .max(16);
    let barrier = Arc::new(Barrier::new(2));
    let swapped = Arc::new(AtomicBool::new(false));
    let racer = {
        let (src, held, outside) = (src.clone(), held.clone(), outside.clone());
        let (barrier, swapped) = (Arc::clone(&barrier), Arc::clone(&swapped));
        std::thread::spawn(move || {
            let mut seed = 0x9e37_79b9_7f4a_7c15;
            for _ in 0..ROUNDS {
                barrier.wait();
                for _ in 0..next(&mut seed) % spins {
                    std::hint::spin_loop();
                }
                fs::rename(&src, &held).unwrap();
                std::os::unix::fs::symlink(&outside, &src).unwrap();
                swapped.store(true, Ordering::SeqCst);
                barrier.wait();
            }
        })
    };
    let (mut moved, mut refused, mut met) = (0, 0, 0);
    for round in 0..ROUNDS {
        setup();
        swapped.store(false, Ordering::SeqCst);
        barrier.wait();
        let result = work(round);
        let during = swapped.load(Ordering::SeqCst);
        barrier.wait();
        // Nothing outside moved, linked or added.
        assert_eq!(
            fs::read_to_string(outside.join("a")).unwrap(),
            "canary",
            "round {round}"
        );
        assert_eq!(crate::fixture::names(&outside), ["a"], "round {round}");
        match result {
            Ok(_) => {
                moved += 1;
                met += u64::from(during);
                assert_eq!(fs::read_to_string(base.join("new/sub/f")).unwrap(), "data");
                // The link is in the directory held, now renamed to `src.held`.
                let link = fs::read_link(held.join("a")).unwrap();
                assert!(link.ends_with("new"), "round {round}: {link:?}");
            }
            Err(err) => {
                refused += 1;
                // What the path named then: the file outside, or nothing (between the
                // racer's rename and its link).
                let gone = err
                    .io_error()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound);
                assert!(
                    matches!(err.kind(), ErrorKind::TreeNotADirectory { .. }) || gone,
                    "round {round}: {err}"
                );
                assert_eq!(fs::read_to_string(held.join("a/sub/f")).unwrap(), "data");
            }
        }
    }
    racer.join().unwrap();
    eprintln!("{ROUNDS} rounds: {moved} moved, {refused} refused, {met} met the swap mid-move");
    assert!(met > 0, "the swap never landed while a move worked");
}

/// Across file systems, a link of the old data whose removal fails (its directory may not
/// be changed) is reported failed, and the move stops with the old data left, the link
/// to the copy made.
#[test]
fn a_link_of_the_old_data_that_cannot_be_removed_is_reported() {
    const TEST: &str = "a_link_of_the_old_data_that_cannot_be_removed_is_reported";
    let dir = Dir::new();
    let a = tree(&dir);
    dir.mkdir("a/locked");
    dir.symlink("a/locked/l", "../f");
    let other =
        tempfile::tempdir_in("/dev/shm").expect("/dev/shm, a tmpfs, for a second file system");
    let b = other.path().join("b");
    let Some(mut locked) = crate::fixture::lock(TEST, &dir.join("a/locked")) else {
        return;
    };
    let mut seen = Seen::default();
    let moved = knot::relocate(&a, &b, &symlink_options(), &mut seen.each());
    // The old data stays beside the link, under the name it was set aside as.
    let aside: Vec<_> = crate::fixture::names(dir.path())
        .into_iter()
        .filter(|name| name != "a")
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    locked.moved_to(&dir.join(&aside[0]).join("locked"));
    assert!(moved.is_err(), "{moved:?}");
    assert_eq!(seen.steps.last(), Some(&"remove-tree"), "{:?}", seen.steps);
    assert_eq!(seen.failed, [ErrorKind::Io]);
    assert_eq!(
        crate::fixture::names(&dir.join(&aside[0]).join("locked")),
        ["l"]
    );
}
