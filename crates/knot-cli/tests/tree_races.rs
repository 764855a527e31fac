//! The tree commands while another program swaps a directory of the tree for a link to a
//! directory outside it.
//!
//! `tree/sub` is a real directory of links and `tree/s` a symlink to `outside`, which holds
//! links with the same names and targets. While knot walks the tree, a racer swaps the two
//! names again and again (`renameat2(RENAME_EXCHANGE)`), so that `tree/sub` leads outside
//! at some moments. Whatever the racer's timing, nothing outside the tree may change: knot
//! acts on each link in the directory the walk read it from, never by a path that may lead
//! elsewhere by then. The outcome is checked every round, so the test cannot pass or fail
//! by scheduling; the work is bounded by counts of rounds and of swaps.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::fixture::{self, Env};
use rustix::fs::{CWD, RenameFlags, renameat_with};

/// Rounds per command, and links in each directory.
const ROUNDS: usize = 12;
const LINKS: usize = 60;
/// The most swaps the racer makes in one round, whatever knot's speed.
const SWAPS: usize = 200_000;

/// The names and targets of the links in `dir`, sorted.
fn links(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut found: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let target = fs::read_link(e.path()).unwrap_or_default();
            (e.file_name().to_string_lossy().into_owned(), target)
        })
        .collect();
    found.sort();
    found
}

/// Runs `knot ARGS` on `tree` for [`ROUNDS`] rounds while a racer swaps `tree/sub` and
/// `tree/s`; each round starts with the real directory at `tree/sub` holding the links
/// `target(i)` makes, and the same links outside. After each round `outside` must hold
/// exactly what it held.
fn swap_race(args: &[&str], target: impl Fn(&Path, usize) -> PathBuf) {
    let env = Env::new();
    let (tree, outside) = (env.path("tree"), env.path("outside"));
    let (sub, s) = (tree.join("sub"), tree.join("s"));
    fs::create_dir_all(&sub).unwrap();
    fs::create_dir(&outside).unwrap();
    std::os::unix::fs::symlink("../outside", &s).unwrap();
    for i in 0..LINKS {
        std::os::unix::fs::symlink(target(env.dir.path(), i), outside.join(format!("l{i}")))
            .unwrap();
    }
    let before = links(&outside);
    let working = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicUsize::new(0));
    for round in 0..ROUNDS {
        // The real directory back at `tree/sub`, with its links as at the start.
        if fs::symlink_metadata(&sub).unwrap().file_type().is_symlink() {
            renameat_with(CWD, &sub, CWD, &s, RenameFlags::EXCHANGE).unwrap();
        }
        for entry in fs::read_dir(&sub).unwrap() {
            fs::remove_file(entry.unwrap().path()).unwrap();
        }
        for i in 0..LINKS {
            std::os::unix::fs::symlink(target(env.dir.path(), i), sub.join(format!("l{i}")))
                .unwrap();
        }
        working.store(true, Ordering::Release);
        let racer = {
            let (sub, s, working, swaps) = (sub.clone(), s.clone(), working.clone(), swaps.clone());
            std::thread::spawn(move || {
                for _ in 0..SWAPS {
                    if !working.load(Ordering::Acquire) {
                        break;
                    }
                    renameat_with(CWD, &sub, CWD, &s, RenameFlags::EXCHANGE).unwrap();
                    swaps.fetch_add(1, Ordering::Relaxed);
                }
            })
        };
        let out = fixture::output(&mut env.knot(args));
        working.store(false, Ordering::Release);
        racer.join().unwrap();
        assert_eq!(
            links(&outside),
            before,
            "round {round}: knot {args:?} changed links outside the tree\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    assert!(swaps.load(Ordering::Relaxed) > 0, "the racer never swapped");
}

#[test]
fn fix_replace_never_changes_links_outside_the_tree() {
    swap_race(&["fix", "tree", "--replace", "/old=/new"], |_, i| {
        PathBuf::from(format!("/old/x{i}"))
    });
}

#[test]
fn fix_delete_broken_never_removes_links_outside_the_tree() {
    swap_race(&["fix", "tree", "--broken", "--delete"], |_, i| {
        PathBuf::from(format!("missing{i}"))
    });
}

#[test]
fn convert_recursive_never_changes_links_outside_the_tree() {
    swap_race(&["convert", "--relative", "-r", "tree"], |base, i| {
        base.join(format!("gone/x{i}"))
    });
}
