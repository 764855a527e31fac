//! `knot::copy` with `Outer::Copy`: what outer links lead to copied in their place, each
//! directory once, loops reported and not entered.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use knot::copy::{Action, Class, CopyOptions, Item, Outer, Summary};

use crate::fixture::Dir;

fn run(source: &Path, copy: &Path, threads: usize) -> (Summary, Vec<Item>, Vec<knot::Error>) {
    let options = CopyOptions {
        outer: Outer::Copy,
        threads,
        ..CopyOptions::default()
    };
    let items = Mutex::new(Vec::new());
    let errors = Mutex::new(Vec::new());
    let summary = knot::copy(source, copy, &options, |item| match item {
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

fn item<'a>(items: &'a [Item], source: &Path, below: &str) -> &'a Item {
    let path = source.join(below);
    items
        .iter()
        .find(|item| item.link.path == path)
        .unwrap_or_else(|| panic!("no item for {below}: {items:#?}"))
}

/// Every link below `root`, with where it leads (canonical), not following links on the
/// way.
fn links(root: &Path) -> Vec<(PathBuf, Option<PathBuf>)> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let ty = entry.file_type().unwrap();
            if ty.is_symlink() {
                out.push((entry.path(), fs::canonicalize(entry.path()).ok()));
            } else if ty.is_dir() {
                todo.push(entry.path());
            }
        }
    }
    out
}

/// A tree whose outer links loop: one to an ancestor of the source, two to the same
/// directory outside (one relative, one absolute), one to a file; outside, a link back up
/// to that directory and one into the source through `..`. The copy terminates, reports
/// the loop, copies the outside directory once and the file as a file, and no link in
/// the copy leads into the source or out of the copy but the loop's.
#[test]
fn outer_copy_copies_each_directory_once_and_reports_loops() {
    for threads in [1, 0] {
        let dir = Dir::new();
        let base = dir.real();
        let src = dir.mkdir("src/a").parent().unwrap().to_path_buf();
        dir.file("src/a/file", "data");
        dir.mkdir("outside/sub");
        dir.file("outside/x", "out");
        symlink(&base, src.join("up")).unwrap();
        symlink("../outside", src.join("o1")).unwrap();
        symlink(base.join("outside"), src.join("o2")).unwrap();
        symlink("../outside/x", src.join("of")).unwrap();
        symlink("..", base.join("outside/sub/back")).unwrap();
        symlink("../../src/a", base.join("outside/sub/in")).unwrap();
        fs::create_dir(base.join("copies")).unwrap();
        let dst = base.join("copies/dst");

        let (summary, items, errors) = run(&src, &dst, threads);
        assert!(errors.is_empty(), "{errors:#?}");
        assert_eq!(summary.failed, 0);

        // The ancestor: a loop, not entered, copied as the link it is.
        let up = item(&items, &src, "up");
        assert_eq!((up.class, up.action), (Some(Class::Loop), Action::Kept));
        assert_eq!(fs::read_link(dst.join("up")).unwrap(), base);

        // The outside directory, copied once: under whichever link came first; the other
        // is made a link to that copy, in its own form.
        let (first, second) = if fs::symlink_metadata(dst.join("o1")).unwrap().is_dir() {
            ("o1", "o2")
        } else {
            ("o2", "o1")
        };
        let copied = dst.join(first);
        assert!(fs::symlink_metadata(&copied).unwrap().is_dir());
        assert_eq!(fs::read_to_string(copied.join("x")).unwrap(), "out");
        assert_eq!(item(&items, &src, first).action, Action::Followed);
        let other = item(&items, &src, second);
        assert_eq!(
            (other.class, other.action),
            (Some(Class::Outer), Action::Rewritten)
        );
        let expected = if second == "o1" {
            PathBuf::from("o2")
        } else {
            copied.clone()
        };
        assert_eq!(fs::read_link(dst.join(second)).unwrap(), expected);

        // The file: a file.
        let of = fs::symlink_metadata(dst.join("of")).unwrap();
        assert!(of.is_file(), "{of:?}");
        assert_eq!(fs::read_to_string(dst.join("of")).unwrap(), "out");
        assert_eq!(item(&items, &src, "of").action, Action::Followed);

        // Inside the copied directory: the link back up leads to its copy (a loop, not
        // entered); the one into the source leads into the copy.
        let back = items
            .iter()
            .find(|i| i.link.path.ends_with("sub/back"))
            .unwrap();
        assert_eq!(
            (back.class, back.action),
            (Some(Class::Loop), Action::Rewritten)
        );
        assert_eq!(
            fs::read_link(copied.join("sub/back")).unwrap(),
            Path::new("..")
        );
        assert_eq!(
            fs::read_link(copied.join("sub/in")).unwrap(),
            Path::new("../../a")
        );
        assert_eq!(
            fs::canonicalize(copied.join("sub/in")).unwrap(),
            dst.join("a")
        );
        // One copy of the outside directory: one `x` in the whole copy.
        let xs = items
            .iter()
            .filter(|i| i.link.path.ends_with("x") && i.action == Action::Copied)
            .count();
        assert_eq!(xs, 1, "{items:#?}");

        for (link, leads) in links(&dst) {
            if link == dst.join("up") {
                continue;
            }
            let leads = leads.unwrap_or_else(|| panic!("{} leads nowhere", link.display()));
            assert!(
                leads.starts_with(&dst),
                "{} -> {}",
                link.display(),
                leads.display()
            );
        }
    }
}

/// An outer link retargeted while the copy runs, between the walk reading it and going
/// into it (the next round), to the copy itself: the walk goes only where the link led
/// when it was read, so the copy never copies itself (no `srcmark` below `dst/o`), and the
/// change is reported. Rounds are counted, not timed, and at least one must have met the
/// change (reported).
#[test]
fn an_outer_link_retargeted_during_the_copy_is_not_followed_elsewhere() {
    use std::sync::atomic::{AtomicBool, Ordering};
    const ROUNDS: usize = 300;
    let dir = Dir::new();
    let base = dir.real();
    let src = dir.mkdir("src");
    dir.file("src/srcmark", "src");
    for d in 0..30 {
        dir.mkdir(&format!("src/d{d}"));
        dir.file(&format!("src/d{d}/f"), "ok");
    }
    dir.mkdir("out");
    dir.file("out/outmark", "out");
    let dst = base.join("dst");
    let link = src.join("o");
    let mut met = 0;
    for round in 0..ROUNDS {
        let _ = fs::remove_file(&link);
        symlink(base.join("out"), &link).unwrap();
        let done = AtomicBool::new(false);
        let errors = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            scope.spawn(|| {
                // As soon as the copy has made `dst/o` (the link read and judged outer),
                // the link is made to lead to the copy itself.
                while !done.load(Ordering::Relaxed) {
                    if dst.join("o").exists() {
                        let aside = base.join("o.new");
                        let _ = fs::remove_file(&aside);
                        symlink(&dst, &aside).unwrap();
                        fs::rename(&aside, &link).unwrap();
                        return;
                    }
                    std::hint::spin_loop();
                }
            });
            let options = CopyOptions {
                outer: Outer::Copy,
                threads: 2,
                ..CopyOptions::default()
            };
            let _ = knot::copy(&src, &dst, &options, |item| {
                if let Err(err) = item {
                    errors.lock().unwrap().push(err);
                }
            });
            done.store(true, Ordering::Relaxed);
        });
        let errors = errors.into_inner().unwrap();
        assert!(
            !dst.join("o/srcmark").exists(),
            "round {round}: the copy copied itself: {errors:#?}"
        );
        if errors
            .iter()
            .any(|e| e.path() == link && matches!(e.kind(), knot::ErrorKind::ChangedDuringScan))
        {
            met += 1;
        } else {
            assert!(errors.is_empty(), "round {round}: {errors:#?}");
        }
        fs::remove_dir_all(&dst).unwrap();
        if met >= 5 {
            break;
        }
    }
    assert!(
        met > 0,
        "no round met the link changed before the walk went into it"
    );
}
