//! The library scan: what it finds, that the sequential and parallel walks agree,
//! that it agrees with `find`, and that it survives loops, odd names, trees deeper than
//! `PATH_MAX`, directories changing under it, and bounded descriptors.

// The comparisons with GNU find, and the mount namespace, are Linux's.
#[cfg(target_os = "linux")]
use std::collections::BTreeSet;
#[cfg(target_os = "linux")]
use std::ffi::OsStr;
use std::ffi::OsString;
use std::fs;
#[cfg(target_os = "linux")]
use std::os::unix::ffi::OsStrExt;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
#[cfg(target_os = "linux")]
use std::process::Command;
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::Duration;

use crate::fixture::Dir;
#[cfg(target_os = "linux")]
use crate::fixture::mktree;
use knot::scan::{Detail, Entry, ScanBuilder, WalkState};
use knot::{ErrorKind, Kind, Link, Status};

/// Everything a walk reported: records sorted by path, and errors.
#[derive(Debug, Default)]
struct Found {
    links: Vec<Link>,
    errors: Vec<knot::Error>,
    /// Directories read, where counted.
    dirs: u64,
}

impl Found {
    fn paths(&self) -> Vec<PathBuf> {
        self.links.iter().map(|l| l.path.clone()).collect()
    }

    fn get(&self, path: &Path) -> &Link {
        self.links
            .iter()
            .find(|l| l.path == path)
            .unwrap_or_else(|| panic!("{} not found in {:?}", path.display(), self.paths()))
    }
}

fn sequential(builder: &ScanBuilder) -> Found {
    let mut found = Found::default();
    for item in builder.build() {
        match item {
            Ok(entry) => found.links.push(entry.into_link()),
            Err(err) => found.errors.push(err),
        }
    }
    found.links.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

fn parallel(builder: &ScanBuilder) -> Found {
    let found = Mutex::new(Found::default());
    builder.build_parallel().run(|| {
        let found = &found;
        Box::new(move |item| {
            let mut found = found.lock().unwrap();
            match item {
                Ok(entry) => found.links.push(entry.into_link()),
                Err(err) => found.errors.push(err),
            }
            WalkState::Continue
        })
    });
    let mut found = found.into_inner().unwrap();
    found.links.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

/// Both walks, checked to agree (STYLE.md point 7), on two threads.
fn scan(builder: &mut ScanBuilder) -> Found {
    let one = sequential(builder);
    let two = parallel(builder.threads(2));
    assert_eq!(
        one.links, two.links,
        "the sequential and parallel walks differ"
    );
    let messages = |f: &Found| {
        let mut m: Vec<String> = f.errors.iter().map(|e| e.to_string()).collect();
        m.sort();
        m
    };
    assert_eq!(messages(&one), messages(&two));
    one
}

/// Runs `f` on another thread and fails if it takes longer than `secs`: a hung scan must
/// fail the test, not hang it. The limits are minutes, for a guard against a hang on a
/// busy machine, never a measure of speed (that is bench/'s job).
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs))
        .expect("the scan did not finish in time")
}

/// A small tree with every kind of entry a scan must tell apart.
fn sample() -> Dir {
    let t = Dir::new();
    t.mkdir("a/b");
    t.file("a/file", "x");
    t.file("a/b/deep", "x");
    t.symlink("a/rel", "file");
    t.symlink("a/b/up", "../file");
    t.symlink("a/dir", "b");
    t.symlink("a/abs", t.join("a/file"));
    t.symlink("a/gone", "missing");
    t.symlink("a/self", "self");
    t.symlink("top", "a");
    fs::hard_link(t.join("a/file"), t.join("a/b/twin")).unwrap();
    t
}

#[test]
fn finds_every_link_with_target_and_status() {
    let t = sample();
    let found = scan(&mut ScanBuilder::new(t.path()));
    assert!(found.errors.is_empty(), "{:?}", found.errors);
    let want: Vec<(&str, &str, Status, bool)> = vec![
        ("a/abs", "", Status::Ok, false),
        ("a/b/up", "../file", Status::Ok, false),
        ("a/dir", "b", Status::Ok, true),
        ("a/gone", "missing", Status::Dangling, false),
        ("a/rel", "file", Status::Ok, false),
        ("a/self", "self", Status::Loop, false),
        ("top", "a", Status::Ok, true),
    ];
    assert_eq!(found.links.len(), want.len(), "{:?}", found.paths());
    for (name, target, status, dir) in want {
        let link = found.get(&t.join(name));
        assert_eq!(link.kind, Kind::Symlink);
        assert_eq!(link.status, Some(status), "{name}");
        if !target.is_empty() {
            assert_eq!(link.target.as_deref(), Some(Path::new(target)), "{name}");
            assert_eq!(link.relative, Some(true));
        }
        if status == Status::Ok {
            assert_eq!(link.dir.map(knot::Flavour::is_dir), Some(dir), "{name}");
        }
    }
    assert_eq!(found.get(&t.join("a/abs")).relative, Some(false));
}

/// A directory given twice, or by two paths, is scanned once: no record twice.
#[test]
fn a_root_given_twice_is_scanned_once() {
    let t = sample();
    let once = scan(&mut ScanBuilder::new(t.path()));
    let twice = scan(ScanBuilder::new(t.path()).add(t.path()).add(t.join("a/..")));
    assert_eq!(twice.paths(), once.paths());
}

#[test]
fn printed_paths_are_the_root_joined_with_the_path_below_it() {
    let t = sample();
    let found = scan(ScanBuilder::new(t.join("a")).kinds([Kind::Symlink]));
    assert!(found.paths().contains(&t.join("a").join("b").join("up")));
    // A relative root stays relative, as find prints it.
    let rel = Path::new("tests-scan-relative-root");
    let _ = fs::remove_dir_all(rel);
    fs::create_dir(rel).unwrap();
    symlink("x", rel.join("l")).unwrap();
    let found = scan(&mut ScanBuilder::new(rel));
    fs::remove_dir_all(rel).unwrap();
    assert_eq!(found.paths(), vec![rel.join("l")]);
}

#[test]
fn hard_links_only_when_asked() {
    let t = sample();
    let found = scan(ScanBuilder::new(t.path()).kinds([Kind::Hardlink]));
    assert_eq!(found.paths(), vec![t.join("a/b/twin"), t.join("a/file")]);
    let twin = found.get(&t.join("a/b/twin"));
    assert_eq!(twin.kind, Kind::Hardlink);
    assert_eq!(twin.nlink, Some(2));
    let both = scan(ScanBuilder::new(t.path()).kinds([Kind::Hardlink, Kind::Symlink]));
    assert_eq!(both.links.len(), 9);
    // Kinds that do not exist on Unix find nothing.
    let none = scan(ScanBuilder::new(t.path()).kinds([Kind::Junction]));
    assert!(none.links.is_empty());
}

/// Every spelling of every kind word and tag name means the kind a scan reports for it:
/// `--kind SYMLINK` (any case, or the SDK name `IO_REPARSE_TAG_SYMLINK`) is not a reparse
/// kind that no link has, which would make the filter match nothing.
#[test]
fn every_spelling_of_a_kind_means_that_kind() {
    use knot_reparse::Tag;
    fn spellings(word: &str) -> Vec<String> {
        let mut capital = word.to_owned();
        capital[..1].make_ascii_uppercase();
        vec![
            word.to_owned(),
            word.to_ascii_uppercase(),
            word.to_ascii_lowercase(),
            capital,
            word.replace('-', "_"),
            word.replace('_', "-"),
            word.to_ascii_uppercase().replace('-', "_"),
        ]
    }
    fn check(word: &str, want: &[&str]) {
        for spelling in spellings(word) {
            let kinds = Kind::from_name(&spelling)
                .unwrap_or_else(|| panic!("'{spelling}' (for '{word}') is not accepted"));
            let names: Vec<&str> = kinds.iter().map(Kind::name).collect();
            assert_eq!(names, want, "'{spelling}'");
            // The kinds a scan reports: a symlink, junction or mount point is never a
            // `Kind::Reparse` of that name.
            for kind in &kinds {
                if let Kind::Reparse(tag) = kind {
                    assert!(
                        !matches!(
                            tag.tag().kind_name(),
                            "symlink" | "junction" | "mount-point" | "hardlink"
                        ),
                        "'{spelling}' gives {kind:?}"
                    );
                }
            }
        }
    }
    for (word, kind) in [
        ("symlink", "symlink"),
        ("junction", "junction"),
        ("mount-point", "mount-point"),
        ("hardlink", "hardlink"),
        ("unknown", "unknown"),
    ] {
        check(word, &[kind]);
    }
    for tag in Tag::documented() {
        let sdk = tag.name().unwrap();
        let want: &[&str] = if tag == Tag::MOUNT_POINT {
            &["junction", "mount-point"]
        } else {
            &[tag.kind_name()]
        };
        check(sdk, want);
        check(tag.kind_name(), &[tag.kind_name()]);
        let short = sdk.strip_prefix("IO_REPARSE_TAG_").unwrap();
        // The short SDK name is the kind word, but for MOUNT_POINT, which is `mount-point`.
        let short_kind = if tag == Tag::MOUNT_POINT {
            "mount-point"
        } else {
            tag.kind_name()
        };
        check(short, &[short_kind]);
    }
    for word in [
        "",
        "bogus",
        "links",
        "IO_REPARSE_TAG_",
        "IO_REPARSE_TAG_NOPE",
        "dir",
    ] {
        assert_eq!(Kind::from_name(word), None, "'{word}'");
    }
    // A filter made of any spelling finds the links; so does the library's own
    // `Kind::of_tag(Tag::SYMLINK)`, which is the same kind.
    let t = sample();
    let every = scan(ScanBuilder::new(t.path()).kinds([Kind::Symlink]));
    assert_eq!(every.links.len(), 7);
    for word in ["symlink", "SYMLINK", "Symlink", "IO_REPARSE_TAG_SYMLINK"] {
        let kinds = Kind::from_name(word).unwrap();
        let found = scan(ScanBuilder::new(t.path()).kinds(kinds));
        assert_eq!(found.paths(), every.paths(), "{word}");
    }
    let reparse = Kind::of_tag(Tag::SYMLINK);
    let found = scan(ScanBuilder::new(t.path()).kinds([reparse]));
    assert_eq!(found.paths(), every.paths());
}

#[test]
fn broken_means_dangling_or_loop() {
    let t = sample();
    let found = scan(ScanBuilder::new(t.path()).broken(true).detail(Detail::Kind));
    assert_eq!(found.paths(), vec![t.join("a/gone"), t.join("a/self")]);
    assert!(
        found
            .links
            .iter()
            .all(|l| l.status.is_some_and(Status::is_broken))
    );
}

#[test]
fn detail_levels_read_only_what_they_need() {
    let t = sample();
    let kind = scan(ScanBuilder::new(t.path()).detail(Detail::Kind));
    let link = kind.get(&t.join("a/rel"));
    assert_eq!((link.target.as_ref(), link.status), (None, None));
    let target = scan(ScanBuilder::new(t.path()).detail(Detail::Target));
    let link = target.get(&t.join("a/rel"));
    assert_eq!(link.target.as_deref(), Some(Path::new("file")));
    assert_eq!(link.status, None);
    let full = scan(ScanBuilder::new(t.path()).detail(Detail::Full));
    let real = fs::canonicalize(t.path()).unwrap();
    let link = full.get(&t.join("a/b/up"));
    assert_eq!(
        link.resolved.as_deref(),
        Some(real.join("a/file").as_path())
    );
    assert_eq!(link.nlink, Some(1));
    // The same record `inspect` gives.
    let mut shown = knot::inspect(t.join("a/dir")).unwrap();
    shown.reparse_data = None;
    assert_eq!(full.get(&t.join("a/dir")), &shown);
    let gone = full.get(&t.join("a/gone"));
    assert_eq!(
        gone.resolved.as_deref(),
        Some(t.join("a/missing").as_path())
    );
}

/// `scan --json` resolves `..` in a dangling link's `resolved` as `show` does, as the
/// kernel does, never lexically: with `sym -> deep/a/b`, `sym/../missing` leads to
/// `deep/a/missing`, not to `missing`. Every record a full scan makes is the one `inspect`
/// makes, whatever the target: dangling or looping, `..` after a link or not, absolute or
/// relative, through a root that is itself a link.
#[test]
fn full_records_are_the_ones_inspect_makes() {
    let t = Dir::new();
    t.mkdir("deep/a/b");
    t.mkdir("d/e");
    t.symlink("sym", "deep/a/b");
    t.symlink("t1", "sym/../missing");
    t.symlink("t2", "sym/../../gone/x");
    t.symlink("t3", "sym/../b/../../../../missing");
    t.symlink("t4", t.join("sym/../missing"));
    t.symlink("t5", "sym/..");
    t.symlink("t6", "sym/../b");
    t.symlink("d/e/t7", "../../sym/../missing");
    t.symlink("d/e/t8", "../../sym/..");
    t.symlink("d/e/spin", "spin");
    t.symlink("d/e/t9", "spin/../x");
    t.symlink("d/e/t10", "../../t1/../y");
    t.symlink("d/e/up", "..");
    t.symlink("via", "d/e");
    let real = fs::canonicalize(t.path()).unwrap();
    for root in [t.path().to_path_buf(), t.join("via"), t.join("d/e/up")] {
        let found = scan(ScanBuilder::new(&root).detail(Detail::Full));
        assert!(found.errors.is_empty(), "{:?}", found.errors);
        assert!(!found.links.is_empty());
        for link in &found.links {
            let mut shown = knot::inspect(&link.path).unwrap();
            shown.reparse_data = None;
            assert_eq!(link, &shown, "{}", link.path.display());
        }
    }
    // The case as reported, spelled out.
    let found = scan(ScanBuilder::new(t.path()).detail(Detail::Full));
    let t1 = found.get(&t.join("t1"));
    assert_eq!(t1.status, Some(Status::Dangling));
    assert_eq!(
        t1.resolved.as_deref(),
        Some(real.join("deep/a/missing").as_path())
    );
    let t7 = found.get(&t.join("d/e/t7"));
    assert_eq!(
        t7.resolved.as_deref(),
        Some(real.join("deep/a/missing").as_path())
    );
}

#[test]
fn a_root_that_is_a_link_or_a_file() {
    let t = sample();
    // A named link to a directory is scanned through.
    let through = scan(&mut ScanBuilder::new(t.join("top")));
    assert!(through.paths().contains(&t.join("top/rel")));
    // A named link to a file, or to nothing, is reported itself.
    let itself = scan(ScanBuilder::new(t.join("a/rel")).add(t.join("a/gone")));
    assert_eq!(itself.paths(), vec![t.join("a/gone"), t.join("a/rel")]);
    assert_eq!(itself.links[0].status, Some(Status::Dangling));
    // A missing root is an error in the stream.
    let missing = scan(&mut ScanBuilder::new(t.join("nothing")));
    assert_eq!(missing.errors.len(), 1);
    assert_eq!(missing.errors[0].path(), t.join("nothing"));
    assert_eq!(missing.errors[0].op(), knot::Op::Scan);
}

#[test]
fn loops_never_hang_without_follow() {
    let t = Dir::new();
    t.mkdir("d");
    t.symlink("d/dot", ".");
    t.symlink("d/a", "b");
    t.symlink("d/b", "a");
    t.symlink("d/root", "/");
    t.symlink("d/up", "..");
    let root = t.path().to_path_buf();
    let found = within(300, move || scan(&mut ScanBuilder::new(root)));
    assert_eq!(found.links.len(), 5);
    assert!(found.errors.is_empty());
    assert_eq!(found.get(&t.join("d/a")).status, Some(Status::Loop));
    assert_eq!(found.get(&t.join("d/dot")).status, Some(Status::Ok));
}

#[test]
fn follow_descends_into_directory_links_and_reports_each_loop_once() {
    let t = Dir::new();
    t.mkdir("d/sub");
    t.mkdir("other");
    t.symlink("other/inside", "x");
    t.symlink("d/to-other", "../other");
    t.symlink("d/dot", ".");
    t.symlink("d/sub/up", "..");
    t.symlink("d/root", "/");
    t.symlink("d/top", t.path());
    t.symlink("d/a", "b");
    t.symlink("d/b", "a");
    let root = t.join("d");
    let found = within(300, move || scan(ScanBuilder::new(root).follow(true)));
    // The link into `other` is followed; its link is found through it.
    assert!(found.paths().contains(&t.join("d/to-other/inside")));
    let mut loops: Vec<(PathBuf, PathBuf)> = found
        .errors
        .iter()
        .map(|e| match e.kind() {
            ErrorKind::Loop { ancestor } => (e.path().to_path_buf(), ancestor.clone()),
            other => panic!("unexpected error {other:?}: {e}"),
        })
        .collect();
    loops.sort();
    let real = fs::canonicalize(t.path()).unwrap();
    assert_eq!(
        loops,
        vec![
            (t.join("d/dot"), t.join("d")),
            (t.join("d/root"), PathBuf::from("/")),
            (t.join("d/sub/up"), t.join("d")),
            (t.join("d/top"), real.clone()),
        ]
    );
    // Every link is still a record, loops and all.
    assert_eq!(found.links.len(), 8, "{:?}", found.paths());
}

/// Where no directory can be reached by two paths, `follow` finds what `find -L` finds.
#[test]
#[cfg(target_os = "linux")] // GNU find (-xtype)
fn follow_without_loops_matches_find_follow() {
    let t = Dir::new();
    t.mkdir("root/real/deeper");
    t.mkdir("outside/deeper");
    t.symlink("root/real/deeper/l", "../../nowhere");
    t.symlink("outside/deeper/l2", "missing");
    t.symlink("outside/deeper/ok", "../deeper");
    t.symlink("root/alias", "../outside");
    let found = scan(ScanBuilder::new(t.join("root")).follow(true));
    let root = t.join("root");
    let want: BTreeSet<PathBuf> = find(&["-L", &root.to_string_lossy(), "-xtype", "l"])
        .into_iter()
        .collect();
    let mut want_links = want.clone();
    want_links.extend([t.join("root/alias"), t.join("root/alias/deeper/ok")]);
    let got: BTreeSet<PathBuf> = found.paths().into_iter().collect();
    assert_eq!(got, want_links);
    // `ok` leads back to the directory it is in: a loop, reported once.
    assert_eq!(found.errors.len(), 1, "{:?}", found.errors);
    assert_eq!(found.errors[0].path(), t.join("root/alias/deeper/ok"));
}

/// A record counter that makes a walk stop once it has found more than `limit` records,
/// so a walk that would go on for hours fails at once: work is bounded by counts, never
/// by time.
fn bounded(builder: &mut ScanBuilder, limit: usize) -> (Found, Found) {
    let one = {
        let progress = knot::scan::Progress::new();
        builder.progress(progress.clone());
        let mut found = Found::default();
        for item in builder.build().take(limit + 1) {
            match item {
                Ok(entry) => found.links.push(entry.into_link()),
                Err(err) => found.errors.push(err),
            }
        }
        found.links.sort_by(|a, b| a.path.cmp(&b.path));
        found.dirs = progress.dirs();
        found
    };
    let two = {
        let progress = knot::scan::Progress::new();
        builder.progress(progress.clone()).threads(2);
        let found = Mutex::new(Found::default());
        builder.build_parallel().run(|| {
            let found = &found;
            Box::new(move |item| {
                let mut found = found.lock().unwrap();
                match item {
                    Ok(entry) => found.links.push(entry.into_link()),
                    Err(err) => found.errors.push(err),
                }
                if found.links.len() + found.errors.len() > limit {
                    WalkState::Quit
                } else {
                    WalkState::Continue
                }
            })
        });
        let mut found = found.into_inner().unwrap();
        found.links.sort_by(|a, b| a.path.cmp(&b.path));
        found.dirs = progress.dirs();
        found
    };
    (one, two)
}

/// The first few paths found, for a message.
fn first(found: &Found) -> Vec<PathBuf> {
    found.paths().into_iter().take(8).collect()
}

/// With `follow`, each directory is walked once, whichever path reaches it, not only
/// kept from its ancestors: directory links shaped like a DAG (two links per level to the
/// next) would otherwise make 2^levels records. The records and the directories read are those of the tree, in the sequential and
/// the parallel walk alike.
#[test]
fn follow_walks_a_dag_of_links_in_time_proportional_to_the_tree() {
    const LEVELS: usize = 30;
    // Levels that only links reach: `outside/L<i>/a` and `b` both lead to `L<i+1>`; the
    // last level leads back to the first.
    let t = Dir::new();
    t.mkdir("root");
    for level in 0..LEVELS {
        t.mkdir(&format!("outside/L{level}"));
        if level + 1 < LEVELS {
            t.symlink(format!("outside/L{level}/a"), format!("../L{}", level + 1));
            t.symlink(format!("outside/L{level}/b"), format!("../L{}", level + 1));
        }
    }
    let last = format!("outside/L{}", LEVELS - 1);
    t.symlink(format!("{last}/gone"), "missing");
    t.symlink(format!("{last}/back"), "../L0");
    t.symlink("root/a", "../outside/L0");
    t.symlink("root/b", "../outside/L0");
    let root = t.join("root");
    let (one, two) = within(300, move || {
        bounded(ScanBuilder::new(root).follow(true), 10_000)
    });
    // Each level is walked once, through the first path to it: `a` at every level.
    let deepest = t.join(format!("root{}", "/a".repeat(LEVELS)));
    let want_links = 2 + 2 * (LEVELS - 1) + 2;
    for found in [&one, &two] {
        assert_eq!(found.links.len(), want_links, "{:?}", first(found));
        assert_eq!(found.dirs, 1 + LEVELS as u64);
        assert!(found.paths().contains(&deepest.join("gone")));
        // `b` at each level is listed, not entered.
        let through_b = found
            .paths()
            .into_iter()
            .filter(|p| p.strip_prefix(t.join("root")).unwrap().components().count() > 1)
            .filter(|p| p.parent().unwrap().ends_with("b"))
            .count();
        assert_eq!(through_b, 0);
        // The link back to the first level is a loop, reported once.
        let loops: Vec<_> = found
            .errors
            .iter()
            .map(|e| e.path().to_path_buf())
            .collect();
        assert_eq!(loops, vec![deepest.join("back")]);
        match found.errors[0].kind() {
            ErrorKind::Loop { ancestor } => assert_eq!(ancestor, &t.join("root/a")),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        one.links, two.links,
        "the sequential and parallel walks differ"
    );
}

/// With the levels inside the root: the walk reads each real directory once
/// and lists the links to them; none is entered.
#[test]
fn follow_lists_links_to_directories_walked_already() {
    const LEVELS: usize = 20;
    let t = Dir::new();
    for level in 0..LEVELS {
        t.mkdir(&format!("L{level}/sub"));
        if level + 1 < LEVELS {
            for name in ["a", "b", "sub/c"] {
                let up = if name.starts_with("sub") {
                    "../.."
                } else {
                    ".."
                };
                t.symlink(format!("L{level}/{name}"), format!("{up}/L{}", level + 1));
            }
        }
    }
    // Aliases of a directory and of one below it, both walked as themselves.
    t.symlink("alias", "L3");
    t.symlink("alias2", "L3/sub");
    let root = t.path().to_path_buf();
    let (one, two) = within(300, move || {
        bounded(ScanBuilder::new(root).follow(true), 10_000)
    });
    for found in [&one, &two] {
        assert!(found.errors.is_empty(), "{:?}", found.errors);
        assert_eq!(
            found.links.len(),
            3 * (LEVELS - 1) + 2,
            "{:?}",
            first(found)
        );
        assert_eq!(found.dirs, 1 + 2 * LEVELS as u64);
        assert!(found.paths().contains(&t.join("alias2")));
    }
    assert_eq!(
        one.links, two.links,
        "the sequential and parallel walks differ"
    );
    // The same records as a plain scan: every directory is in the tree already.
    let plain = scan(&mut ScanBuilder::new(t.path()));
    assert_eq!(plain.links, one.links);
}

/// Two roots, one inside the other, and a root named through a link to
/// another: with `follow` each directory is walked once, as the first root that names it.
#[test]
fn follow_walks_each_directory_once_across_roots() {
    let t = Dir::new();
    t.mkdir("r/sub/deep");
    t.symlink("r/sub/deep/l", "x");
    t.symlink("r/to-sub", "sub");
    t.symlink("top", "r");
    let (one, two) = within(300, {
        let t = t.path().to_path_buf();
        move || {
            bounded(
                ScanBuilder::new(t.join("r"))
                    .add(t.join("r/sub"))
                    .add(t.join("top"))
                    .follow(true),
                1000,
            )
        }
    });
    for found in [&one, &two] {
        assert!(found.errors.is_empty(), "{:?}", found.errors);
        assert_eq!(
            found.paths(),
            vec![t.join("r/sub/deep/l"), t.join("r/to-sub")]
        );
        assert_eq!(found.dirs, 3);
    }
}

#[test]
fn skip_prunes_and_quit_stops() {
    let t = sample();
    // Skip a reported directory: nothing below it.
    let mut builder = ScanBuilder::new(t.path());
    builder.report_dirs(true);
    let b = t.join("a/b");
    let found = Mutex::new(Vec::new());
    builder.threads(2).build_parallel().run(|| {
        let (found, b) = (&found, &b);
        Box::new(move |item: knot::Result<Entry>| {
            let entry = item.unwrap();
            if entry.path() == b {
                return WalkState::Skip;
            }
            found.lock().unwrap().push(entry.path().to_path_buf());
            WalkState::Continue
        })
    });
    let found = found.into_inner().unwrap();
    assert!(!found.contains(&t.join("a/b/up")));
    assert!(found.contains(&t.join("a/rel")));
    assert!(found.contains(&t.path().to_path_buf()));
    // Quit: the walk stops at once.
    let count = Mutex::new(0);
    ScanBuilder::new(t.path())
        .threads(2)
        .build_parallel()
        .run(|| {
            let count = &count;
            Box::new(move |_| {
                *count.lock().unwrap() += 1;
                WalkState::Quit
            })
        });
    assert!(*count.lock().unwrap() <= 2);
}

#[test]
#[cfg_attr(target_os = "macos", ignore = "APFS refuses a name that is not UTF-8")]
fn odd_names_round_trip_byte_for_byte() {
    let t = Dir::new();
    let names: Vec<OsString> = vec![
        OsString::from_vec(b"bad-\xff\xfe-name".to_vec()),
        OsString::from("new\nline"),
        OsString::from("tab\tand\x1b[31mescape"),
        OsString::from("n".repeat(255)),
        OsString::from("with space"),
    ];
    let dir = t.mkdir(&"d".repeat(255));
    for name in &names {
        symlink(name, t.join(name)).unwrap();
        symlink(name, dir.join(name)).unwrap();
    }
    let found = scan(&mut ScanBuilder::new(t.path()));
    assert_eq!(found.links.len(), names.len() * 2);
    for name in &names {
        for parent in [t.path(), dir.as_path()] {
            let link = found.get(&parent.join(name));
            assert_eq!(
                link.target.as_deref().map(Path::as_os_str),
                Some(name.as_os_str())
            );
        }
    }
}

/// Counts this process's descriptors open on `tree` or below it: the walk's, and not those
/// of the tests that run beside this one in the same binary. A descriptor the kernel
/// cannot name, its path being longer than a page, is one deep in the tree.
fn open_fds(tree: &Path) -> usize {
    let Ok(fds) = fs::read_dir("/proc/self/fd") else {
        return 0;
    };
    fds.filter_map(Result::ok)
        .filter(|fd| match fs::read_link(fd.path()) {
            Ok(path) => path.starts_with(tree),
            Err(err) => err.raw_os_error() == Some(36), // ENAMETOOLONG
        })
        .count()
}

/// A comb `levels` deep, built with *at calls so no path is ever resolved whole: at each
/// level `d` goes on, `s/ok` links back to `../d`, `gone` dangles.
fn comb(root: &Path, levels: usize) {
    use rustix::fs::{Mode, OFlags, mkdirat, openat, symlinkat};
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
    let mut here = rustix::fs::open(root, flags, Mode::empty()).unwrap();
    let mode = Mode::from_raw_mode(0o755);
    for _ in 0..levels {
        mkdirat(&here, "dddddddddd", mode).unwrap();
        mkdirat(&here, "s", mode).unwrap();
        symlinkat("../dddddddddd", &here, "s/ok").unwrap();
        symlinkat("missing", &here, "gone").unwrap();
        here = openat(&here, "dddddddddd", flags, Mode::empty()).unwrap();
    }
}

#[test]
fn deeper_than_1000_levels_and_longer_than_path_max_with_bounded_descriptors() {
    let levels = 1100; // 1100 * 11 bytes: a path of 12 KB, about three times PATH_MAX
    let t = Dir::new();
    comb(t.path(), levels);
    let root = t.path().to_path_buf();
    let tree = t.real();
    let peak = within(600, move || {
        let before = open_fds(&tree);
        let peak = Mutex::new(0usize);
        let links = Mutex::new(Vec::new());
        ScanBuilder::new(&root)
            .threads(2)
            .detail(Detail::Full)
            .build_parallel()
            .run(|| {
                let (peak, links, tree) = (&peak, &links, &tree);
                Box::new(move |item| {
                    let entry = item.unwrap();
                    if entry.depth() % 50 == 0 {
                        let n = open_fds(tree);
                        let mut p = peak.lock().unwrap();
                        *p = (*p).max(n);
                    }
                    links.lock().unwrap().push(entry.into_link());
                    WalkState::Continue
                })
            });
        let links = links.into_inner().unwrap();
        assert_eq!(links.len(), 2 * levels);
        let deepest = links
            .iter()
            .max_by_key(|l| l.path.as_os_str().len())
            .unwrap();
        assert!(deepest.path.as_os_str().len() > 2 * 4096);
        for link in &links {
            let want = if link.path.ends_with("gone") {
                Status::Dangling
            } else {
                Status::Ok
            };
            assert_eq!(link.status, Some(want), "{}", link.path.display());
            assert!(link.resolved.is_some());
        }
        peak.into_inner().unwrap().saturating_sub(before)
    });
    eprintln!("at most {peak} more descriptors open during the scan");
    if !Path::new("/proc/self/fd").exists() {
        // macOS: no /proc, and its /dev/fd entries name no paths.
        eprintln!(
            "note: descriptors not counted here (no /proc/self/fd): the bound is not checked"
        );
    }
    // 256 anchors at most, plus a few per thread.
    assert!(peak <= 256 + 16, "{peak} descriptors open at once");
    // The sequential walk agrees.
    let seq = sequential(ScanBuilder::new(t.path()).detail(Detail::Kind));
    assert_eq!(seq.links.len(), 2 * levels);
    assert!(seq.errors.is_empty());
}

#[test]
fn a_small_descriptor_budget_reopens_from_held_ancestors() {
    let t = Dir::new();
    comb(t.path(), 120);
    let found = scan(ScanBuilder::new(t.path()).max_open_dirs(4));
    assert!(found.errors.is_empty(), "{:?}", found.errors);
    assert_eq!(found.links.len(), 240);
}

#[test]
fn a_directory_replaced_by_a_link_is_reported_not_followed() {
    let t = Dir::new();
    t.mkdir("a/victim");
    t.symlink("a/victim/inside", "x");
    t.mkdir("elsewhere");
    t.symlink("elsewhere/must-not-be-seen", "y");
    t.symlink("a/z", "z");
    let victim = t.join("a/victim");
    let elsewhere = t.join("elsewhere");
    let found = Mutex::new(Found::default());
    // One thread: the directory is reported before it is opened.
    ScanBuilder::new(t.join("a"))
        .report_dirs(true)
        .threads(1)
        .build_parallel()
        .run(|| {
            let found = &found;
            let (victim, elsewhere) = (victim.clone(), elsewhere.clone());
            Box::new(move |item| {
                let mut found = found.lock().unwrap();
                match item {
                    Ok(entry) if entry.path() == victim => {
                        fs::rename(&victim, victim.with_extension("moved")).unwrap();
                        symlink(&elsewhere, &victim).unwrap();
                    }
                    Ok(entry) => found.links.push(entry.into_link()),
                    Err(err) => found.errors.push(err),
                }
                WalkState::Continue
            })
        });
    let found = found.into_inner().unwrap();
    assert!(
        !found
            .paths()
            .iter()
            .any(|p| p.ends_with("must-not-be-seen"))
    );
    assert!(found.paths().contains(&t.join("a/z")), "the scan went on");
    assert_eq!(found.errors.len(), 1, "{:?}", found.errors);
    assert_eq!(found.errors[0].kind(), &ErrorKind::ChangedDuringScan);
    assert_eq!(found.errors[0].path(), victim);

    // Removed outright: reported too.
    let t = Dir::new();
    t.mkdir("a/victim");
    t.symlink("a/z", "z");
    let victim = t.join("a/victim");
    let errors = Mutex::new(Vec::new());
    ScanBuilder::new(t.join("a"))
        .report_dirs(true)
        .threads(1)
        .build_parallel()
        .run(|| {
            let errors = &errors;
            let victim = victim.clone();
            Box::new(move |item| {
                match item {
                    Ok(entry) if entry.path() == victim => fs::remove_dir(&victim).unwrap(),
                    Ok(_) => {}
                    Err(err) => errors.lock().unwrap().push(err.to_string()),
                }
                WalkState::Continue
            })
        });
    let errors = errors.into_inner().unwrap();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("victim"), "{errors:?}");
}

#[test]
fn an_unreadable_directory_is_reported_and_the_scan_goes_on() {
    // Root reads every directory whatever its mode; the CLI test drops privileges instead.
    if rustix::process::geteuid().is_root() {
        eprintln!("skipped here: root bypasses permission bits (covered by the CLI test)");
        return;
    }
    let t = Dir::new();
    t.mkdir("locked");
    t.symlink("locked/hidden", "x");
    t.symlink("seen", "y");
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(t.join("locked"), fs::Permissions::from_mode(0o000)).unwrap();
    let found = scan(&mut ScanBuilder::new(t.path()));
    fs::set_permissions(t.join("locked"), fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(found.paths(), vec![t.join("seen")]);
    assert_eq!(found.errors.len(), 1);
    assert_eq!(found.errors[0].path(), t.join("locked"));
}

// ---- agreement with find, on trees made by bench/mktree.py ----

/// The paths `find ARGS` prints, NUL-separated so no name is mangled.
#[cfg(target_os = "linux")]
fn find(args: &[&str]) -> Vec<PathBuf> {
    let out = Command::new("find")
        .args(args)
        .arg("-print0")
        .output()
        .expect("find runs");
    out.stdout
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| PathBuf::from(OsStr::from_bytes(s)))
        .collect()
}

#[test]
#[cfg(target_os = "linux")] // GNU find (-xtype), and ELOOP as Linux numbers it
fn agrees_with_find_on_mktree_trees() {
    for (entries, seed) in [(3000, 1), (2000, 7)] {
        let t = Dir::new();
        let root = t.join("tree");
        mktree(&root, entries, seed);
        let root_s = root.to_str().unwrap();

        // Agreeing on an empty tree would prove nothing: the tree has symlinks, dangling
        // ones and files with more than one name.
        let links = find(&[root_s, "-type", "l"]);
        assert!(!links.is_empty(), "mktree.py made no symlinks");
        assert!(
            !find(&[root_s, "-xtype", "l"]).is_empty(),
            "mktree.py made no dangling symlinks"
        );
        assert!(
            !find(&[root_s, "-type", "f", "-links", "+1"]).is_empty(),
            "mktree.py made no hard links"
        );

        let all = scan(&mut ScanBuilder::new(&root));
        assert!(all.errors.is_empty(), "{:?}", all.errors);
        let got: BTreeSet<PathBuf> = all.paths().into_iter().collect();
        let want: BTreeSet<PathBuf> = links.into_iter().collect();
        assert_eq!(got, want, "scan and find -type l differ");
        assert_eq!(got.len(), all.links.len(), "a link was reported twice");

        // find -xtype l prints dangling links, and reports loops on stderr instead.
        let broken = scan(ScanBuilder::new(&root).broken(true));
        let got: BTreeSet<PathBuf> = broken.paths().into_iter().collect();
        let mut want: BTreeSet<PathBuf> = find(&[root_s, "-xtype", "l"]).into_iter().collect();
        for link in &want {
            assert!(fs::metadata(link).is_err());
        }
        for link in find(&[root_s, "-type", "l"]) {
            if fs::metadata(&link).is_err_and(|e| e.raw_os_error() == Some(40)) {
                want.insert(link); // ELOOP
            }
        }
        assert_eq!(got, want, "scan --broken and find -xtype l differ");

        let hard = scan(ScanBuilder::new(&root).kinds([Kind::Hardlink]));
        let got: BTreeSet<PathBuf> = hard.paths().into_iter().collect();
        let want: BTreeSet<PathBuf> = find(&[root_s, "-type", "f", "-links", "+1"])
            .into_iter()
            .collect();
        assert_eq!(got, want, "scan --kind hardlink and find -links +1 differ");
    }
}

/// A walk reads the mount table afresh: an ntfs-3g volume mounted after a walk in the same
/// process (a program that uses knot, running on) is known to the next walk, its
/// junctions read as junctions. Run in a child test process in a mount namespace of its
/// own, where no FUSE file system is mounted when its first walk starts (other tests'
/// volumes are unmounted there only).
#[cfg(target_os = "linux")]
#[test]
fn a_volume_mounted_after_a_walk_is_known_to_the_next() {
    let test = "scan::a_volume_mounted_after_a_walk_is_known_to_the_next";
    if crate::fixture::ntfs3g::volume(test).is_none() {
        return;
    }
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "--"])
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", "scan::mounted_after_a_walk", "--ignored"])
        .args(["--nocapture", "--test-threads=1"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The child of [`a_volume_mounted_after_a_walk_is_known_to_the_next`].
#[cfg(target_os = "linux")]
#[test]
#[ignore = "run by a_volume_mounted_after_a_walk_is_known_to_the_next, in a mount namespace"]
fn mounted_after_a_walk() {
    // Every FUSE mount of this namespace (its copy of the parent's) let go of, here only.
    let table = fs::read_to_string("/proc/self/mountinfo").unwrap();
    for line in table.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let after = fields.iter().position(|&f| f == "-").unwrap();
        if matches!(fields[after + 1], "fuse" | "fuseblk") {
            let point = fields[4].replace("\\040", " ");
            crate::fixture::ntfs3g::run(Command::new("umount").args(["-l", &point]));
        }
    }
    let dir = Dir::new();
    dir.symlink("l", "t");
    assert_eq!(sequential(&ScanBuilder::new(dir.path())).links.len(), 1);
    let vol = crate::fixture::ntfs3g::volume("scan::mounted_after_a_walk").unwrap();
    fs::create_dir(vol.path("d")).unwrap();
    knot::create(
        vol.path("j"),
        vol.path("d"),
        knot::LinkType::Junction,
        &knot::CreateOptions::default(),
    )
    .unwrap();
    let found = sequential(&ScanBuilder::new(&vol.mnt));
    assert_eq!(found.get(&vol.path("j")).kind, Kind::Junction, "{found:?}");
}
