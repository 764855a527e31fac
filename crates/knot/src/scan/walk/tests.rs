//! The filter seam of the walk, with filters other than the link scan.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::fixture::mktree;

/// Counts every entry the walk shows it and goes into every directory.
#[derive(Debug, Default)]
struct Count(AtomicUsize);

impl Filter for Count {
    type Item = ();

    fn visit(&self, _: &DirEntry<'_>, _: &mut Sink<'_, '_, ()>) -> Next {
        self.0.fetch_add(1, Ordering::Relaxed);
        Next::Descend
    }
}

/// Sends the path of every entry; follows links to directories.
#[derive(Debug)]
struct Paths;

impl Filter for Paths {
    type Item = PathBuf;

    fn visit(&self, entry: &DirEntry<'_>, sink: &mut Sink<'_, '_, PathBuf>) -> Next {
        sink.send(Ok(entry.path().to_path_buf()));
        match entry.file_type() {
            FileType::Link => match std::fs::metadata(entry.path()) {
                Ok(meta) if meta.is_dir() => {
                    let (dir, name) = entry.dir_and_name();
                    Next::Follow(FileId::of(&dir.stat_at(name, true).unwrap()))
                }
                _ => Next::Skip,
            },
            _ => Next::Descend,
        }
    }
}

/// Sends the entries that are one file.
#[derive(Debug)]
struct Names(FileId);

impl Filter for Names {
    type Item = PathBuf;

    fn visit(&self, entry: &DirEntry<'_>, sink: &mut Sink<'_, '_, PathBuf>) -> Next {
        match entry.file_id() {
            Ok(id) if id == self.0 => {
                sink.send(Ok(entry.path().to_path_buf()));
            }
            Ok(_) => {}
            Err(err) => {
                sink.send(Err(scan_error(entry.path(), err)));
            }
        }
        Next::Descend
    }
}

/// `find ROOT`'s count: one byte per entry, so odd names cannot miscount.
fn find_count(root: &Path) -> usize {
    let out = std::process::Command::new("find")
        .arg(root)
        .args(["-printf", "x"])
        .output()
        .expect("find runs");
    assert!(out.status.success());
    out.stdout.len()
}

fn parallel<F: Filter>(walk: &WalkBuilder, filter: F) -> Vec<Result<F::Item>> {
    let found = Mutex::new(Vec::new());
    walk.run_parallel(filter, &mut || {
        let found = &found;
        Box::new(move |item| {
            found.lock().unwrap().push(item);
            WalkState::Continue
        })
    });
    found.into_inner().unwrap()
}

#[test]
fn a_filter_sees_every_entry_find_lists() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    mktree(&root, 3000, 1);
    let expected = find_count(&root);
    assert!(expected > 3000);
    for threads in [1, 2] {
        // Two open directories at most: deep directories are reopened from an anchor.
        for max_open in [2, 256] {
            let mut walk = WalkBuilder::new(&root);
            walk.threads(threads).max_open_dirs(max_open);
            let count = Count::default();
            let errors: Vec<_> = walk.build(&count).collect();
            assert!(errors.is_empty(), "{errors:?}");
            assert_eq!(count.0.swap(0, Ordering::Relaxed), expected);
            assert!(parallel(&walk, &count).is_empty());
            assert_eq!(count.0.into_inner(), expected, "threads {threads}");
        }
    }
}

#[test]
fn a_filter_picks_the_names_of_one_file_by_id() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
    std::fs::write(root.join("a"), "one file").unwrap();
    std::fs::write(root.join("c"), "another").unwrap();
    std::fs::hard_link(root.join("a"), root.join("sub/deeper/b")).unwrap();
    std::os::unix::fs::symlink("a", root.join("sub/l")).unwrap();
    let id = FileId::of(&sys::Os::lstat(&root.join("a")).unwrap());
    let names = |items: Vec<Result<PathBuf>>| -> BTreeSet<PathBuf> {
        items.into_iter().map(Result::unwrap).collect()
    };
    let expected = BTreeSet::from([root.join("a"), root.join("sub/deeper/b")]);
    let walk = WalkBuilder::new(root);
    assert_eq!(names(walk.build(Names(id)).collect()), expected);
    assert_eq!(names(parallel(&walk, Names(id))), expected);
    // A root is an entry like any other.
    let walk = WalkBuilder::new(&root.join("sub/deeper/b"));
    let expected = BTreeSet::from([root.join("sub/deeper/b")]);
    assert_eq!(names(walk.build(Names(id)).collect()), expected);
}

#[test]
fn skip_prunes_and_quit_stops() {
    #[derive(Debug)]
    struct NotSub;
    impl Filter for NotSub {
        type Item = PathBuf;
        fn visit(&self, entry: &DirEntry<'_>, sink: &mut Sink<'_, '_, PathBuf>) -> Next {
            sink.send(Ok(entry.path().to_path_buf()));
            if entry.path().ends_with("sub") {
                Next::Skip
            } else {
                Next::Descend
            }
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir_all(root.join("sub/below")).unwrap();
    std::fs::create_dir_all(root.join("other/below")).unwrap();
    let walk = WalkBuilder::new(root);
    let found: BTreeSet<PathBuf> = walk.build(NotSub).map(Result::unwrap).collect();
    let expected = BTreeSet::from([
        root.to_path_buf(),
        root.join("sub"),
        root.join("other"),
        root.join("other/below"),
    ]);
    assert_eq!(found, expected);
    // A visitor that quits at once gets one item, on any number of threads.
    for threads in [1, 2] {
        let seen = AtomicUsize::new(0);
        let mut walk = WalkBuilder::new(root);
        walk.threads(threads).run_parallel(NotSub, &mut || {
            let seen = &seen;
            Box::new(move |_| {
                seen.fetch_add(1, Ordering::Relaxed);
                WalkState::Quit
            })
        });
        assert_eq!(seen.into_inner(), 1);
    }
}

/// A filter that panics on one entry ends the walk on every thread, and the panic
/// reaches the caller: the other threads do not wait without end for the job the
/// panicking one held.
#[test]
fn a_panic_on_one_thread_ends_the_walk_instead_of_hanging_it() {
    #[derive(Debug)]
    struct Boom;
    impl Filter for Boom {
        type Item = ();
        fn visit(&self, entry: &DirEntry<'_>, _: &mut Sink<'_, '_, ()>) -> Next {
            assert!(!entry.path().ends_with("boom"), "a filter's bug");
            Next::Descend
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    for i in 0..64 {
        std::fs::create_dir_all(root.join(format!("d{i}/below"))).unwrap();
    }
    std::fs::create_dir(root.join("d7/boom")).unwrap();
    let mut walk = WalkBuilder::new(root);
    walk.threads(2);
    let walked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        walk.run_parallel(Boom, &mut || Box::new(|_| WalkState::Continue));
    }));
    assert!(walked.is_err(), "the panic did not reach the caller");
}

#[test]
fn follow_agrees_sequential_and_parallel_and_reports_a_loop() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir_all(root.join("a/b")).unwrap();
    std::fs::create_dir_all(root.join("c")).unwrap();
    std::os::unix::fs::symlink("../a", root.join("c/to-a")).unwrap();
    std::os::unix::fs::symlink("../..", root.join("a/b/up")).unwrap();
    let mut walk = WalkBuilder::new(&root);
    walk.follow(true).threads(2);
    let split = |items: Vec<Result<PathBuf>>| {
        let mut paths = BTreeSet::new();
        let mut errors = Vec::new();
        for item in items {
            match item {
                Ok(path) => {
                    paths.insert(path);
                }
                Err(err) => errors.push((err.path().to_path_buf(), err.kind().clone())),
            }
        }
        (paths, errors)
    };
    let sequential = split(walk.build(Paths).collect());
    let parallel = split(parallel(&walk, Paths));
    assert_eq!(sequential, parallel);
    let (paths, errors) = sequential;
    // `a` is walked as itself, so `c/to-a` is listed and not entered.
    assert!(paths.contains(&root.join("c/to-a")));
    assert!(!paths.contains(&root.join("c/to-a/b")));
    assert_eq!(
        errors,
        vec![(
            root.join("a/b/up"),
            ErrorKind::Loop {
                ancestor: root.clone()
            }
        )]
    );
}
