//! `knot::copy::materialize`: a link replaced by a copy of what it leads to.

use std::fs;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _, symlink};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use knot::copy::{MaterializeOptions, MaterializeSummary, Materialized, Outcome, materialize};
use knot::{ChangeMode, ErrorKind};

use crate::fixture::Dir;

/// Materializes `paths` with `options`: the counts, every item, every error.
fn run(
    paths: &[PathBuf],
    options: MaterializeOptions,
) -> (MaterializeSummary, Vec<Materialized>, Vec<knot::Error>) {
    let mut items = Vec::new();
    let mut errors = Vec::new();
    let summary = materialize(paths, &options, &mut |outcome| match outcome {
        Ok(item) => items.push(item),
        Err(err) => errors.push(err),
    });
    (summary, items, errors)
}

fn options() -> MaterializeOptions {
    MaterializeOptions::default()
}

fn recursive() -> MaterializeOptions {
    MaterializeOptions {
        recursive: true,
        ..MaterializeOptions::default()
    }
}

/// An old modification time, set on `path`.
fn age(path: &Path) -> SystemTime {
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(old)
        .unwrap();
    old
}

fn mtime(path: &Path) -> SystemTime {
    fs::symlink_metadata(path).unwrap().modified().unwrap()
}

fn is_link(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink())
}

/// Every path below `root`, relative, with what it is: a file's contents, a link's target,
/// or `dir`; links not followed.
fn listing(root: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut todo = vec![PathBuf::new()];
    while let Some(below) = todo.pop() {
        for entry in fs::read_dir(root.join(&below)).unwrap() {
            let entry = entry.unwrap();
            let path = below.join(entry.file_name());
            let full = root.join(&path);
            let ty = entry.file_type().unwrap();
            let what = if ty.is_symlink() {
                format!("-> {}", fs::read_link(&full).unwrap().display())
            } else if ty.is_dir() {
                todo.push(path.clone());
                "dir".to_owned()
            } else {
                fs::read_to_string(&full).unwrap()
            };
            out.push((path, what));
        }
    }
    out.sort();
    out
}

/// A symlink to a file becomes a copy of the file: data, permissions, times; the file
/// itself is not touched, and nothing is left beside the link.
#[test]
fn a_link_to_a_file_becomes_its_copy() {
    let dir = Dir::new();
    let target = dir.file("target", "data\n");
    fs::set_permissions(&target, fs::Permissions::from_mode(0o640)).unwrap();
    let old = age(&target);
    let link = dir.symlink("l", "target");
    let (summary, items, errors) = run(std::slice::from_ref(&link), options());
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(summary.materialized, 1);
    assert_eq!(items[0].outcome, Outcome::Materialized);
    assert_eq!(items[0].link.kind, knot::Kind::Symlink);
    assert_eq!(
        items[0].source.as_deref(),
        Some(&*dir.real().join("target"))
    );
    assert_eq!(items[0].bytes, 5);
    let meta = fs::symlink_metadata(&link).unwrap();
    assert!(meta.is_file());
    assert_eq!(fs::read_to_string(&link).unwrap(), "data\n");
    assert_eq!(meta.mode() & 0o7777, 0o640);
    assert_eq!(mtime(&link), old);
    assert_ne!(meta.ino(), fs::metadata(&target).unwrap().ino());
    // The target is never modified.
    assert_eq!(fs::read_to_string(&target).unwrap(), "data\n");
    assert_eq!(mtime(&target), old);
    assert_eq!(dir.names(), ["l", "target"]);
}

/// A symlink to a directory becomes a copy of the directory. Its inner links are judged
/// against the directory: an absolute one is rewritten to lead inside the copy, under the
/// link's own name (not the hidden one the copy was made under); a relative one stays;
/// an outer one keeps leading where it led. The directory itself is not touched.
#[test]
fn a_link_to_a_directory_becomes_its_copy() {
    let dir = Dir::new();
    let real = dir.real();
    dir.mkdir("target/sub");
    dir.file("target/f", "f");
    dir.file("target/sub/g", "g");
    dir.file("outside", "out");
    dir.symlink("target/abs", real.join("target/f"));
    dir.symlink("target/rel", "sub/g");
    dir.symlink("target/out", real.join("outside"));
    let before = listing(&dir.join("target"));
    let old = age(&dir.join("target/f"));
    dir.mkdir("work");
    let link = dir.symlink("work/l", real.join("target"));
    let (summary, items, errors) = run(std::slice::from_ref(&link), options());
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(summary.materialized, 1);
    assert!(items[0].directory);
    assert!(fs::symlink_metadata(&link).unwrap().is_dir());
    assert_eq!(fs::read_to_string(link.join("f")).unwrap(), "f");
    assert_eq!(fs::read_to_string(link.join("sub/g")).unwrap(), "g");
    assert_eq!(mtime(&link.join("f")), old);
    assert_eq!(
        fs::read_link(link.join("abs")).unwrap(),
        real.join("work/l/f")
    );
    assert_eq!(fs::read_link(link.join("rel")).unwrap(), Path::new("sub/g"));
    assert_eq!(
        fs::read_link(link.join("out")).unwrap(),
        real.join("outside")
    );
    assert_eq!(listing(&dir.join("target")), before);
    assert_eq!(mtime(&dir.join("target/f")), old);
    assert_eq!(crate::fixture::names(&dir.join("work")), ["l"]);
}

/// A file with several names: this name gets a file of its own with the same data; the
/// other names keep the old file.
#[test]
fn a_hard_link_gets_its_own_file() {
    let dir = Dir::new();
    let a = dir.file("a", "shared");
    let b = dir.join("b");
    fs::hard_link(&a, &b).unwrap();
    let old = age(&a);
    let ino = fs::metadata(&a).unwrap().ino();
    let (summary, items, errors) = run(std::slice::from_ref(&b), options());
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(summary.materialized, 1);
    assert_eq!(items[0].link.kind, knot::Kind::Hardlink);
    let meta_a = fs::metadata(&a).unwrap();
    let meta_b = fs::metadata(&b).unwrap();
    assert_eq!(meta_a.ino(), ino);
    assert_eq!(meta_a.nlink(), 1);
    assert_ne!(meta_b.ino(), ino);
    assert_eq!(meta_b.nlink(), 1);
    assert_eq!(fs::read_to_string(&b).unwrap(), "shared");
    assert_eq!(mtime(&b), old);
    assert_eq!(mtime(&a), old);
    assert_eq!(dir.names(), ["a", "b"]);
}

/// Dangling links and loops are refused with the reason, and nothing changes; the other
/// paths go on.
#[test]
fn dangling_links_and_loops_are_refused() {
    let dir = Dir::new();
    let dangling = dir.symlink("dangling", "nosuch");
    let a = dir.symlink("a", "b");
    let b = dir.symlink("b", "a");
    dir.file("t", "t");
    let fine = dir.symlink("fine", "t");
    let (summary, items, errors) = run(&[dangling.clone(), a.clone(), fine.clone()], options());
    assert_eq!(summary.failed, 2);
    assert_eq!(summary.materialized, 1);
    assert_eq!(items.len(), 1);
    assert_eq!(*errors[0].kind(), ErrorKind::TargetMissing);
    assert_eq!(errors[0].path(), dangling);
    assert!(errors[1].to_string().contains("loop"), "{}", errors[1]);
    assert_eq!(errors[1].path(), a);
    assert_eq!(fs::read_link(&dangling).unwrap(), Path::new("nosuch"));
    assert_eq!(fs::read_link(&a).unwrap(), Path::new("b"));
    assert_eq!(fs::read_link(&b).unwrap(), Path::new("a"));
    assert!(!is_link(&fine));
    assert_eq!(dir.names(), ["a", "b", "dangling", "fine", "t"]);
}

/// A link to a directory that holds it would copy itself: refused.
#[test]
fn a_link_inside_its_target_is_refused() {
    let dir = Dir::new();
    dir.mkdir("d/e");
    let link = dir.symlink("d/e/up", "..");
    let before = listing(dir.path());
    let (_, _, errors) = run(std::slice::from_ref(&link), options());
    assert_eq!(errors.len(), 1);
    assert!(
        matches!(errors[0].kind(), ErrorKind::Loop { .. }),
        "{:?}",
        errors[0]
    );
    assert_eq!(listing(dir.path()), before);
}

/// A file with one name and a directory are real already: nothing to do, and said so.
#[test]
fn real_files_and_directories_are_left_as_they_are() {
    let dir = Dir::new();
    let f = dir.file("f", "f");
    let d = dir.mkdir("d");
    let (summary, items, errors) = run(&[f, d], options());
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(summary.already_real, 2);
    assert!(
        items
            .iter()
            .all(|item| item.outcome == Outcome::AlreadyReal)
    );
    assert_eq!(dir.names(), ["d", "f"]);
}

/// `recursive` materializes every link below a directory, the links inside the copies it
/// makes included, until no link is left; a dangling one is reported and stays.
#[test]
fn recursive_leaves_no_link_below() {
    let dir = Dir::new();
    let real = dir.real();
    dir.mkdir("lib/inner");
    dir.file("lib/x", "x");
    dir.file("lib/inner/y", "y");
    dir.symlink("lib/ax", real.join("lib/x"));
    dir.file("data", "data");
    dir.mkdir("tree/sub");
    dir.symlink("tree/sub/lib", real.join("lib"));
    dir.symlink("tree/file", "../data");
    dir.symlink("tree/broken", "nosuch");
    dir.file("tree/h1", "h");
    fs::hard_link(dir.join("tree/h1"), dir.join("tree/h2")).unwrap();
    let lib_before = listing(&dir.join("lib"));
    let (summary, _, errors) = run(&[dir.join("tree")], recursive());
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(*errors[0].kind(), ErrorKind::TargetMissing);
    // tree/sub/lib, its copy's ax (an inner link rewritten into the copy), tree/file, one
    // of h1 and h2 (the other then has one name).
    assert_eq!(summary.materialized, 4, "{summary:?}");
    let after = listing(&dir.join("tree"));
    let links: Vec<_> = after
        .iter()
        .filter(|(_, what)| what.starts_with("->"))
        .collect();
    assert_eq!(links, [&(PathBuf::from("broken"), "-> nosuch".to_owned())]);
    assert_eq!(
        fs::read_to_string(dir.join("tree/sub/lib/ax")).unwrap(),
        "x"
    );
    assert_eq!(
        fs::read_to_string(dir.join("tree/sub/lib/inner/y")).unwrap(),
        "y"
    );
    assert_eq!(fs::read_to_string(dir.join("tree/file")).unwrap(), "data");
    let h1 = fs::metadata(dir.join("tree/h1")).unwrap();
    let h2 = fs::metadata(dir.join("tree/h2")).unwrap();
    assert_ne!(h1.ino(), h2.ino());
    assert_eq!(listing(&dir.join("lib")), lib_before);
}

/// Under `recursive`, a link inside a copy that leads back to what the copy was made from
/// is refused as a loop, so the run ends.
#[test]
fn recursive_stops_at_a_loop_through_copies() {
    let dir = Dir::new();
    let real = dir.real();
    dir.mkdir("one");
    dir.mkdir("two");
    dir.symlink("one/to_two", real.join("two"));
    dir.symlink("two/to_one", real.join("one"));
    dir.mkdir("tree");
    dir.symlink("tree/one", real.join("one"));
    let (_, _, errors) = run(&[dir.join("tree")], recursive());
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        matches!(errors[0].kind(), ErrorKind::Loop { .. }),
        "{:?}",
        errors[0]
    );
    assert_eq!(errors[0].path(), dir.join("tree/one/to_two/to_one"));
    assert!(is_link(&dir.join("tree/one/to_two/to_one")));
}

/// A dry run reports what would be done and changes nothing.
#[test]
fn a_dry_run_changes_nothing() {
    let dir = Dir::new();
    let real = dir.real();
    dir.mkdir("lib");
    dir.file("lib/x", "x");
    dir.file("data", "data");
    dir.mkdir("tree");
    dir.symlink("tree/lib", real.join("lib"));
    dir.symlink("tree/file", "../data");
    dir.file("tree/h1", "h");
    fs::hard_link(dir.join("tree/h1"), dir.join("tree/h2")).unwrap();
    let before = listing(dir.path());
    let options = MaterializeOptions {
        recursive: true,
        mode: ChangeMode::DryRun,
        ..MaterializeOptions::default()
    };
    let (summary, _, errors) = run(&[dir.join("tree"), dir.join("tree/file")], options);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(summary.materialized, 5, "{summary:?}");
    assert_eq!(listing(dir.path()), before);
}

/// What stands at the link's name is swapped, between knot's look and its rename, for
/// something else: a file, a directory or another link. knot never replaces it: it is at
/// the name afterwards, whole (or, a link knot looked at, materialized as itself), and
/// nothing is left beside it. Rounds are counted, not timed; the target is large enough
/// that its copy takes a while, and at least one round must have met the swap after the
/// look (knot then says the name was replaced).
#[test]
fn a_link_swapped_while_copied_is_never_replaced() {
    swap_race(Before::SymlinkToFile);
}

/// [`a_link_swapped_while_copied_is_never_replaced`] with a link to a directory of many
/// files, copied by the tree copy.
#[test]
fn a_directory_link_swapped_while_copied_is_never_replaced() {
    swap_race(Before::SymlinkToDir);
}

/// [`a_link_swapped_while_copied_is_never_replaced`] with a hard link: the other name of
/// the file is outside the link's directory.
#[test]
fn a_hard_link_swapped_while_copied_is_never_replaced() {
    swap_race(Before::HardLink);
}

/// The first bytes of a file (or what it is, where it is no file): short enough to show.
fn head(path: &Path) -> String {
    match fs::read(path) {
        Ok(data) => String::from_utf8_lossy(&data[..data.len().min(32)]).into_owned(),
        Err(e) => e.to_string(),
    }
}

/// What the name of [`swap_race`] is, before the swap.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Before {
    SymlinkToFile,
    SymlinkToDir,
    HardLink,
}

fn swap_race(what: Before) {
    let directory = what == Before::SymlinkToDir;
    const ROUNDS: usize = 300;
    let dir = Dir::new();
    let data = "T".repeat(4 << 20);
    if directory {
        dir.mkdir("target");
        for f in 0..200 {
            dir.file(&format!("target/f{f}"), "T");
        }
    } else {
        dir.file("target", &data);
    }
    dir.file("elsewhere", "ELSEWHERE");
    let work = dir.mkdir("work");
    let link = work.join("l");
    let mut met = 0;
    for round in 0..ROUNDS {
        let kind = round % 3;
        let intruder = dir.join(format!("intruder{round}"));
        match kind {
            0 => fs::write(&intruder, format!("INTRUDER{round}")).unwrap(),
            1 => {
                fs::create_dir(&intruder).unwrap();
                fs::write(intruder.join("canary"), "canary").unwrap();
            }
            _ => symlink(dir.join("elsewhere"), &intruder).unwrap(),
        }
        match what {
            Before::HardLink => fs::hard_link(dir.join("target"), &link).unwrap(),
            _ => symlink(dir.join("target"), &link).unwrap(),
        }
        let aside = dir.join(format!("aside{round}"));
        let started = AtomicBool::new(false);
        let outcome = std::thread::scope(|scope| {
            scope.spawn(|| {
                while !started.load(Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
                // Spin a little, differently each round, then swap.
                for _ in 0..(round * 7919) % 20_000 {
                    std::hint::spin_loop();
                }
                fs::rename(&link, &aside).unwrap();
                fs::rename(&intruder, &link).unwrap();
            });
            started.store(true, Ordering::Relaxed);
            let (_, items, errors) = run(std::slice::from_ref(&link), options());
            (items, errors)
        });
        let (items, errors) = outcome;
        if errors
            .iter()
            .any(|err| err.to_string().contains("replaced by something else"))
        {
            met += 1;
        }
        // The intruder is at the name, whole: or, a link, looked at by knot and
        // materialized as what it leads to.
        match kind {
            0 => assert_eq!(
                head(&link),
                format!("INTRUDER{round}"),
                "round {round}: {items:?} {errors:?}"
            ),
            1 => assert_eq!(
                head(&link.join("canary")),
                "canary",
                "round {round}: {items:?} {errors:?}"
            ),
            _ => {
                if is_link(&link) {
                    assert_eq!(fs::read_link(&link).unwrap(), dir.join("elsewhere"));
                } else {
                    assert_eq!(
                        head(&link),
                        "ELSEWHERE",
                        "round {round}: {items:?} {errors:?}"
                    );
                }
            }
        }
        // Nothing but the name is left in the link's directory.
        assert_eq!(crate::fixture::names(&work), ["l"], "round {round}");
        assert_eq!(
            fs::read_to_string(dir.join("elsewhere")).unwrap(),
            "ELSEWHERE"
        );
        match fs::symlink_metadata(&link).unwrap().is_dir() {
            true => fs::remove_dir_all(&link).unwrap(),
            false => fs::remove_file(&link).unwrap(),
        }
        match fs::symlink_metadata(&aside).unwrap().is_dir() {
            true => fs::remove_dir_all(&aside).unwrap(),
            false => fs::remove_file(&aside).unwrap(),
        }
        if met >= 5 {
            break;
        }
    }
    if directory {
        assert_eq!(crate::fixture::names(&dir.join("target")).len(), 200);
    } else {
        assert_eq!(fs::read_to_string(dir.join("target")).unwrap(), data);
    }
    assert!(
        met > 0,
        "no round met the swap between knot's look and its rename"
    );
}

/// The link's directory swapped for a link to a directory outside while a directory is
/// copied for the link: knot goes on in the directory it holds, and nothing is written
/// outside it. Rounds are counted, not timed, and at least one must have swapped the
/// directory while knot ran.
#[test]
fn a_parent_swapped_for_a_link_is_not_written_through() {
    const ROUNDS: usize = 200;
    let dir = Dir::new();
    let real = dir.real();
    for d in 0..100 {
        dir.mkdir(&format!("target/d{d}"));
        dir.file(&format!("target/d{d}/f"), "ok");
    }
    let outside = dir.mkdir("outside");
    dir.file("outside/keep", "KEEP");
    let before = listing(&outside);
    // A name made and taken back there would change it.
    let outside_mtime = mtime(&outside);
    let work = dir.join("work");
    let mut swapped = 0;
    for round in 0..ROUNDS {
        fs::create_dir(&work).unwrap();
        symlink(real.join("target"), work.join("l")).unwrap();
        let aside = dir.join(format!("aside{round}"));
        let started = AtomicBool::new(false);
        let done = AtomicBool::new(false);
        let hit = AtomicBool::new(false);
        let (items, errors) = std::thread::scope(|scope| {
            scope.spawn(|| {
                while !started.load(Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
                for _ in 0..(round * 7919) % 200_000 {
                    std::hint::spin_loop();
                }
                fs::rename(&work, &aside).unwrap();
                symlink(&outside, &work).unwrap();
                if !done.load(Ordering::Relaxed) {
                    hit.store(true, Ordering::Relaxed);
                }
            });
            started.store(true, Ordering::Relaxed);
            let (_, items, errors) = run(&[work.join("l")], options());
            done.store(true, Ordering::Relaxed);
            (items, errors)
        });
        assert_eq!(
            listing(&outside),
            before,
            "round {round}: {items:?} {errors:?}"
        );
        assert_eq!(
            mtime(&outside),
            outside_mtime,
            "round {round}: written outside"
        );
        // Whatever knot did, it did in the directory it held: now `aside`.
        let names = crate::fixture::names(&aside);
        assert_eq!(names, ["l"], "round {round}: {items:?} {errors:?}");
        if hit.load(Ordering::Relaxed) && !items.is_empty() {
            swapped += 1;
        }
        fs::remove_file(&work).unwrap();
        fs::remove_dir_all(&aside).unwrap();
        if swapped >= 10 {
            break;
        }
    }
    assert!(
        swapped > 0,
        "no round swapped the directory while knot copied"
    );
}

/// On ntfs-3g, which cannot swap two names (`RENAME_EXCHANGE`): a symlink to a file, a
/// symlink to a directory, a hard link and a junction are materialized through the check
/// right before a plain rename (a directory's copy once the link is removed), and nothing
/// is left beside them.
#[test]
fn ntfs3g_links_are_materialized_without_the_swap() {
    let Some(vol) = crate::fixture::ntfs3g::volume(
        "materialize::ntfs3g_links_are_materialized_without_the_swap",
    ) else {
        return;
    };
    let mnt = &vol.mnt;
    fs::write(mnt.join("t"), "data").unwrap();
    fs::create_dir(mnt.join("d")).unwrap();
    fs::write(mnt.join("d/f"), "f").unwrap();
    fs::write(mnt.join("h1"), "hh").unwrap();
    fs::hard_link(mnt.join("h1"), mnt.join("h2")).unwrap();
    symlink("t", mnt.join("l")).unwrap();
    symlink(mnt.join("d"), mnt.join("dl")).unwrap();
    knot::create(
        mnt.join("j"),
        mnt.join("d"),
        knot::LinkType::Junction,
        &knot::CreateOptions::default(),
    )
    .unwrap();
    assert_eq!(
        knot::inspect(mnt.join("j")).unwrap().kind,
        knot::Kind::Junction
    );
    let (summary, items, errors) = run(
        &[mnt.join("l"), mnt.join("dl"), mnt.join("h2"), mnt.join("j")],
        options(),
    );
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(summary.materialized, 4);
    assert_eq!(items[3].link.kind, knot::Kind::Junction);
    assert!(fs::symlink_metadata(mnt.join("j")).unwrap().is_dir());
    assert_eq!(fs::read_to_string(mnt.join("j/f")).unwrap(), "f");
    assert!(fs::symlink_metadata(mnt.join("l")).unwrap().is_file());
    assert_eq!(fs::read_to_string(mnt.join("l")).unwrap(), "data");
    assert!(fs::symlink_metadata(mnt.join("dl")).unwrap().is_dir());
    assert_eq!(fs::read_to_string(mnt.join("dl/f")).unwrap(), "f");
    assert_eq!(fs::metadata(mnt.join("h1")).unwrap().nlink(), 1);
    assert_eq!(fs::read_to_string(mnt.join("h2")).unwrap(), "hh");
    assert_eq!(vol.names(), ["d", "dl", "h1", "h2", "j", "l", "t"]);
}

/// A directory whose copy fails on one entry (a FIFO, which knot does not copy) is not
/// materialized: the error names the link and the entry, the link stays, and the partial
/// copy is removed.
#[test]
fn a_directory_that_cannot_be_copied_whole_leaves_the_link() {
    let dir = Dir::new();
    let real = dir.real();
    dir.mkdir("target/sub");
    dir.file("target/sub/f", "f");
    // A socket: the one kind of entry a copy leaves out.
    let _socket = std::os::unix::net::UnixListener::bind(dir.join("target/sock")).unwrap();
    dir.mkdir("work");
    let link = dir.symlink("work/l", real.join("target"));
    let (summary, _, errors) = run(std::slice::from_ref(&link), options());
    assert_eq!(summary.failed, 1);
    assert_eq!(errors[0].path(), link);
    assert!(errors[0].to_string().contains("sock"), "{}", errors[0]);
    assert!(is_link(&link));
    assert_eq!(crate::fixture::names(&dir.join("work")), ["l"]);
}

/// What the link leads to is swapped, between knot's look and its copy, so that the
/// link never leads to the swapped-in thing: the link `work/l` leads to `x/t`, `x` a
/// symlink to `y`; the race first turns `x` to `z` (whose `t` is another file, "LEGIT"),
/// then puts an intruder at `y/t`, the real path the link led to when knot looked. Read
/// through the link, only the file looked at (or, looked at later, LEGIT) can be copied;
/// the intruder never. Rounds are counted; at least one must have met the swap after the
/// look (knot then says the file was replaced).
#[test]
fn a_target_swapped_after_the_look_is_never_copied() {
    target_swap_race(false);
}

/// [`a_target_swapped_after_the_look_is_never_copied`] with a link to a directory: the
/// tree copy's walk, which opens its root by path, copies nothing but the directory looked
/// at.
#[test]
fn a_directory_target_swapped_after_the_look_is_never_copied() {
    target_swap_race(true);
}

/// What a file of [`target_swap_race`] holds, or for a directory its file `f`; `None`
/// where it is no file or directory.
fn marked(path: &Path, directory: bool) -> Option<String> {
    let file = if directory {
        path.join("f")
    } else {
        path.to_path_buf()
    };
    fs::read_to_string(file).ok()
}

fn target_swap_race(directory: bool) {
    const ROUNDS: usize = 3000;
    let dir = Dir::new();
    let make = |at: &Path, mark: &str| {
        if directory {
            fs::create_dir(at).unwrap();
            fs::write(at.join("f"), mark).unwrap();
        } else {
            fs::write(at, mark).unwrap();
        }
    };
    let remove = |at: &Path| match fs::symlink_metadata(at) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(at).unwrap(),
        Ok(_) => fs::remove_file(at).unwrap(),
        Err(_) => {}
    };
    dir.mkdir("y");
    dir.mkdir("z");
    make(&dir.join("y/t"), "ORIGINAL");
    make(&dir.join("z/t"), "LEGIT");
    let x = dir.join("x");
    symlink("y", &x).unwrap();
    let work = dir.mkdir("work");
    let link = work.join("l");
    let mut met = 0;
    // How long the racer waits before it swaps, in spins: lengthened where the swap came
    // before knot looked (it copied LEGIT), shortened where it came after the copy (it
    // copied ORIGINAL), so that it keeps near the window between, on a busy machine as on
    // a quiet one; varied round by round around that.
    let mut delay: u64 = 2_000;
    for round in 0..ROUNDS {
        let spins = delay / 2 + (round as u64 * 7919) % (delay + 1);
        let intruder = dir.join("intruder");
        make(&intruder, "INTRUDER");
        symlink(x.join("t"), &link).unwrap();
        let started = AtomicBool::new(false);
        let (items, errors) = std::thread::scope(|scope| {
            scope.spawn(|| {
                while !started.load(Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
                for _ in 0..spins {
                    std::hint::spin_loop();
                }
                let turned = dir.join("x.new");
                symlink("z", &turned).unwrap();
                fs::rename(&turned, &x).unwrap();
                fs::rename(dir.join("y/t"), dir.join("aside")).unwrap();
                fs::rename(&intruder, dir.join("y/t")).unwrap();
            });
            started.store(true, Ordering::Relaxed);
            let (_, items, errors) = run(std::slice::from_ref(&link), options());
            (items, errors)
        });
        if errors
            .iter()
            .any(|err| err.to_string().contains("replaced by something else"))
        {
            met += 1;
        }
        // The link, left as it was, or a copy of what it led to: never the intruder.
        if !is_link(&link) {
            let got = marked(&link, directory);
            assert!(
                matches!(got.as_deref(), Some("ORIGINAL" | "LEGIT")),
                "round {round}: {got:?} {items:?} {errors:?}"
            );
            match got.as_deref() {
                Some("LEGIT") => delay = delay * 5 / 4 + 16,
                Some("ORIGINAL") if errors.is_empty() => delay = (delay * 3 / 4).max(16),
                _ => {}
            }
        }
        assert_eq!(crate::fixture::names(&work), ["l"], "round {round}");
        remove(&link);
        remove(&dir.join("y/t"));
        fs::rename(dir.join("aside"), dir.join("y/t")).unwrap();
        let turned = dir.join("x.new");
        symlink("y", &turned).unwrap();
        fs::rename(&turned, &x).unwrap();
        if met >= 3 {
            break;
        }
    }
    assert_eq!(
        marked(&dir.join("y/t"), directory).as_deref(),
        Some("ORIGINAL")
    );
    assert_eq!(
        marked(&dir.join("z/t"), directory).as_deref(),
        Some("LEGIT")
    );
    assert!(met > 0, "no round met the swap after the look in {ROUNDS}");
}
