//! Library tests of create, inspect and remove on Unix: the safety promises of DESIGN.md
//! section 4 (1, 2, 3, 5 and 7), each against a real temporary tree.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::fixture::Dir;
use knot::{
    ChangeMode, CreateOptions, ErrorKind, Flavour, FlavourCheck, Found, Kind, LinkType, Made, Note,
    Op, Replace, Status, TargetForm, create, inspect, remove,
};

fn force() -> CreateOptions {
    CreateOptions {
        replace: Replace::Links,
        ..Default::default()
    }
}

#[test]
fn symlink_stores_the_target_as_given_and_reads_back() {
    let t = Dir::new();
    t.mkdir("d");
    let made = create(
        t.join("l"),
        "d",
        LinkType::Symlink,
        &CreateOptions::default(),
    )
    .unwrap();
    assert_eq!(made.made, Made::Symlink);
    assert_eq!(fs::read_link(t.join("l")).unwrap(), Path::new("d"));
    let link = made.link;
    assert_eq!(link.kind, Kind::Symlink);
    assert_eq!(link.target.as_deref(), Some(Path::new("d")));
    assert_eq!(link.relative, Some(true));
    assert_eq!(link.status, Some(Status::Ok));
    assert_eq!(link.dir.map(knot::Flavour::is_dir), Some(true));
    assert_eq!(link.resolved, Some(fs::canonicalize(t.join("d")).unwrap()));
}

#[test]
fn relative_targets_resolve_against_the_link_not_the_current_directory() {
    let t = Dir::new();
    t.mkdir("sub");
    t.file("sub/f", "x");
    // `f` exists beside the link, not in the current directory.
    let made = create(
        t.join("sub/l"),
        "f",
        LinkType::Symlink,
        &CreateOptions::default(),
    )
    .unwrap();
    assert_eq!(made.link.status, Some(Status::Ok));
    assert_eq!(made.link.dir.map(knot::Flavour::is_dir), Some(false));
}

#[test]
fn relative_and_absolute_forms() {
    let t = Dir::new();
    t.mkdir("a/b");
    t.mkdir("c");
    let real = fs::canonicalize(t.path()).unwrap();
    let rel = CreateOptions {
        form: TargetForm::Relative,
        ..Default::default()
    };
    create(t.join("a/b/l"), t.join("c"), LinkType::Symlink, &rel).unwrap();
    assert_eq!(
        fs::read_link(t.join("a/b/l")).unwrap(),
        Path::new("../../c")
    );
    let abs = CreateOptions {
        form: TargetForm::Absolute,
        ..Default::default()
    };
    create(
        t.join("a/l"),
        t.join("a/b/../../c"),
        LinkType::Symlink,
        &abs,
    )
    .unwrap();
    assert_eq!(fs::read_link(t.join("a/l")).unwrap(), real.join("c"));
}

#[test]
fn flavour_is_checked_against_an_existing_target() {
    let t = Dir::new();
    t.file("f", "x");
    let dir = CreateOptions {
        flavour: Some(Flavour::Dir),
        ..Default::default()
    };
    let err = create(t.join("l"), "f", LinkType::Symlink, &dir).unwrap_err();
    assert_eq!(
        *err.kind(),
        ErrorKind::FlavourMismatch {
            asked: Flavour::Dir,
            found: Flavour::File
        }
    );
    assert_eq!(t.names(), ["f"]);
    // A missing target takes the flavour it is given.
    create(t.join("l"), "missing", LinkType::Symlink, &dir).unwrap();
}

/// mklink makes the flavour it is told (no switch: a file symlink, even to a
/// directory), so the flavour is not checked when asked so.
#[test]
fn a_flavour_made_as_asked_is_not_checked() {
    let t = Dir::new();
    t.file("f", "x");
    t.mkdir("d");
    for (link, target, flavour) in [("l", "d", Flavour::File), ("m", "f", Flavour::Dir)] {
        let options = CreateOptions {
            flavour: Some(flavour),
            flavour_check: FlavourCheck::AsAsked,
            ..Default::default()
        };
        let made = create(t.join(link), target, LinkType::Symlink, &options).unwrap();
        assert_eq!(made.made, Made::Symlink);
        assert_eq!(fs::read_link(t.join(link)).unwrap(), Path::new(target));
    }
    assert_eq!(t.names(), ["d", "f", "l", "m"]);
}

#[test]
fn an_existing_link_is_never_overwritten_without_force() {
    let t = Dir::new();
    t.file("a", "a");
    t.file("b", "b");
    t.symlink("l", "a");
    let err = create(
        t.join("l"),
        "b",
        LinkType::Symlink,
        &CreateOptions::default(),
    )
    .unwrap_err();
    assert_eq!(*err.kind(), ErrorKind::LinkExists);
    assert_eq!(err.op(), Op::CreateSymlink);
    assert!(err.to_string().ends_with("': it already exists"), "{err}");
    assert_eq!(fs::read_link(t.join("l")).unwrap(), Path::new("a"));
}

#[test]
fn force_replaces_a_link_and_leaves_no_temporary_file() {
    let t = Dir::new();
    t.file("a", "a");
    t.file("b", "b");
    t.symlink("l", "a");
    let made = create(t.join("l"), "b", LinkType::Symlink, &force()).unwrap();
    assert_eq!(made.notes, [Note::Replaced]);
    assert_eq!(fs::read_link(t.join("l")).unwrap(), Path::new("b"));
    assert_eq!(t.names(), ["a", "b", "l"]);
}

/// A 255-byte name is as good as any: its replacement is built under a shorter name.
#[test]
fn force_replaces_a_link_with_a_255_byte_name() {
    let t = Dir::new();
    t.file("a", "a");
    t.file("b", "b");
    let name = "n".repeat(255);
    t.symlink(&name, "a");
    create(t.join(&name), "b", LinkType::Symlink, &force()).unwrap();
    assert_eq!(fs::read_link(t.join(&name)).unwrap(), Path::new("b"));
    assert_eq!(t.names(), ["a", "b", name.as_str()]);
}

#[test]
fn force_never_replaces_a_real_file_or_directory() {
    let t = Dir::new();
    t.file("f", "keep");
    t.mkdir("d");
    t.file("d/canary", "keep");
    t.file("target", "t");
    let err = create(t.join("f"), "target", LinkType::Symlink, &force()).unwrap_err();
    assert_eq!(
        *err.kind(),
        ErrorKind::WouldReplaceReal { what: Found::File }
    );
    let err = create(t.join("d"), "target", LinkType::Symlink, &force()).unwrap_err();
    assert_eq!(
        *err.kind(),
        ErrorKind::WouldReplaceReal { what: Found::Dir }
    );
    assert_eq!(fs::read_to_string(t.join("f")).unwrap(), "keep");
    assert_eq!(fs::read_to_string(t.join("d/canary")).unwrap(), "keep");
    assert_eq!(t.names(), ["d", "f", "target"]);
}

/// Promise 2: while `--force` replaces a link over and over, a reader never finds the path
/// missing.
#[test]
fn force_replacement_is_atomic_for_readers() {
    let t = Dir::new();
    t.file("a", "a");
    t.file("b", "b");
    t.symlink("l", "a");
    let link = t.join("l");
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let reader = {
        let (link, stop, reads) = (link.clone(), Arc::clone(&stop), Arc::clone(&reads));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                fs::symlink_metadata(&link).expect("the link is never missing");
                reads.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    // 300 replacements, each after the reader has looked at least once since the last
    // one: bounded by counts, however slowly the threads are scheduled. (A
    // reader that found the link missing has panicked: stop, and let the join say so.)
    for replaced in 0..300 {
        let seen = reads.load(Ordering::Relaxed);
        while reads.load(Ordering::Relaxed) == seen && !reader.is_finished() {
            std::thread::yield_now();
        }
        if reader.is_finished() {
            break;
        }
        let target = if replaced % 2 == 0 { "b" } else { "a" };
        create(&link, target, LinkType::Symlink, &force()).unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    reader.join().unwrap();
    assert_eq!(t.names(), ["a", "b", "l"]);
}

#[test]
fn swapped_arguments_are_recognised() {
    let t = Dir::new();
    t.file("existing", "x");
    let err = create(
        t.join("existing"),
        "new-name",
        LinkType::Symlink,
        &CreateOptions::default(),
    )
    .unwrap_err();
    assert_eq!(*err.kind(), ErrorKind::ArgumentsSwapped);
    assert_eq!(err.target(), Some(Path::new("new-name")));
    assert_eq!(t.names(), ["existing"]);
}

#[test]
fn junction_is_an_absolute_directory_symlink_with_a_note() {
    let t = Dir::new();
    t.mkdir("d");
    let made = create(
        t.join("j"),
        t.join("d"),
        LinkType::Junction,
        &CreateOptions::default(),
    )
    .unwrap();
    assert_eq!(made.made, Made::Symlink);
    assert_eq!(made.notes, [Note::NoJunctions]);
    assert_eq!(made.link.kind, Kind::Symlink);
    let stored = fs::read_link(t.join("j")).unwrap();
    assert!(stored.is_absolute());
    assert_eq!(stored, fs::canonicalize(t.join("d")).unwrap());
}

#[test]
fn refused_creates_make_nothing() {
    let t = Dir::new();
    t.file("f", "x");
    t.mkdir("d");
    let none = CreateOptions::default();
    let cases = [
        (LinkType::Junction, "f", ErrorKind::TargetNotDirectory),
        (LinkType::Junction, "missing", ErrorKind::TargetMissing),
        (LinkType::Hardlink, "d", ErrorKind::TargetIsDirectory),
        (LinkType::Hardlink, "missing", ErrorKind::TargetMissing),
        (LinkType::Best, "missing", ErrorKind::TargetMissing),
    ];
    for (ty, target, kind) in cases {
        let err = create(t.join("new"), t.join(target), ty, &none).unwrap_err();
        assert_eq!(*err.kind(), kind, "{ty:?} to {target}");
        assert!(!err.is_retryable(), "{ty:?} to {target} is a refusal");
        assert_eq!(t.names(), ["d", "f"], "{ty:?} to {target} made nothing");
    }
}

#[test]
fn a_create_in_a_missing_directory_fails_cleanly() {
    let t = Dir::new();
    let err = create(
        t.join("no/such/l"),
        "x",
        LinkType::Symlink,
        &CreateOptions::default(),
    )
    .unwrap_err();
    // The missing directory is named, not just ENOENT; the system's error is
    // still there underneath.
    assert_eq!(*err.kind(), ErrorKind::DirMissing { dir: t.join("no") });
    assert_eq!(
        err.io_error().map(std::io::Error::kind),
        Some(std::io::ErrorKind::NotFound)
    );
    assert!(
        err.to_string().starts_with("cannot create symlink '"),
        "{err}"
    );
    assert!(err.to_string().ends_with("/no' does not exist"), "{err}");
    assert!(t.names().is_empty());

    // The same when the plan fails to resolve the link's directory
    // (`--relative`), instead of "unsupported" with the cause in prose.
    t.file("x", "x");
    let relative = CreateOptions {
        form: TargetForm::Relative,
        ..CreateOptions::default()
    };
    let err = create(
        t.join("no/such/l"),
        t.join("x"),
        LinkType::Symlink,
        &relative,
    )
    .unwrap_err();
    assert_eq!(*err.kind(), ErrorKind::DirMissing { dir: t.join("no") });
    assert_eq!(
        err.io_error().map(std::io::Error::kind),
        Some(std::io::ErrorKind::NotFound)
    );
    assert_eq!(t.names(), ["x"]);
}

/// `inspect` says which link a trailing slash leads through (`Link::through`), and no link
/// for a real directory or a path without the slash; where the slash leads nowhere (a
/// dangling link), the error names the link; a missing entry is just missing.
#[test]
fn inspect_names_the_link_a_trailing_slash_leads_through() {
    let t = Dir::new();
    t.mkdir("d");
    std::os::unix::fs::symlink("d", t.join("l")).unwrap();
    std::os::unix::fs::symlink("gone", t.join("g")).unwrap();
    let with = |p: &str| {
        let mut path = t.join(p).into_os_string();
        path.push("/");
        knot::inspect(std::path::PathBuf::from(path))
    };
    assert_eq!(with("l").unwrap().through, Some(t.join("l")));
    let err = with("g").unwrap_err();
    assert_eq!(*err.kind(), ErrorKind::TrailingSlash { link: t.join("g") });
    assert_eq!(
        knot::inspect(t.join("l/.")).unwrap().through,
        Some(t.join("l"))
    );
    assert_eq!(with("d").unwrap().through, None);
    let err = with("missing").unwrap_err();
    assert!(
        !matches!(err.kind(), ErrorKind::TrailingSlash { .. }),
        "{err:?}"
    );
    assert_eq!(knot::inspect(t.join("l")).unwrap().through, None);
    // Removing `l/` never removes anything: the link stays, and so does the directory.
    let mut slashed = t.join("l").into_os_string();
    slashed.push("/");
    let slashed = std::path::PathBuf::from(slashed);
    let err = knot::remove(&slashed, knot::ChangeMode::Change).unwrap_err();
    assert_eq!(*err.kind(), ErrorKind::TrailingSlash { link: t.join("l") });
    assert_eq!(t.names(), ["d", "g", "l"]);
    // Nor do retarget and convert: the slash is the reason, as for rm.
    let err = knot::retarget(&slashed, "e", &knot::RetargetOptions::default()).unwrap_err();
    assert_eq!(*err.kind(), ErrorKind::TrailingSlash { link: t.join("l") });
    let to = knot::ConvertTo::Absolute;
    let err = knot::convert(&slashed, to, &knot::ConvertOptions::default()).unwrap_err();
    assert_eq!(*err.kind(), ErrorKind::TrailingSlash { link: t.join("l") });
    assert_eq!(
        std::fs::read_link(t.join("l")).unwrap(),
        std::path::Path::new("d")
    );
}

#[test]
fn hard_link_shares_the_inode() {
    let t = Dir::new();
    t.file("f", "x");
    let made = create(
        t.join("h"),
        t.join("f"),
        LinkType::Hardlink,
        &CreateOptions::default(),
    )
    .unwrap();
    assert_eq!(made.link.kind, Kind::Hardlink);
    assert_eq!(made.link.nlink, Some(2));
    let (a, b) = (
        fs::metadata(t.join("f")).unwrap(),
        fs::metadata(t.join("h")).unwrap(),
    );
    assert_eq!((a.dev(), a.ino()), (b.dev(), b.ino()));
}

/// A hard link across file systems: the temporary directory and /dev/shm (tmpfs).
#[test]
#[cfg(target_os = "linux")]
fn hard_link_across_file_systems_is_refused() {
    let t = Dir::new();
    let other =
        tempfile::tempdir_in("/dev/shm").expect("/dev/shm, a tmpfs, for a second file system");
    let here = fs::metadata(t.path()).unwrap().dev();
    assert_ne!(
        here,
        fs::metadata(other.path()).unwrap().dev(),
        "the test needs two file systems"
    );
    let target = other.path().join("f");
    fs::write(&target, "x").unwrap();
    let err = create(
        t.join("h"),
        &target,
        LinkType::Hardlink,
        &CreateOptions::default(),
    )
    .unwrap_err();
    assert_eq!(*err.kind(), ErrorKind::CrossDevice);
    assert!(
        err.to_string().ends_with("is on another file system"),
        "{err}"
    );
    assert!(t.names().is_empty());
}

#[test]
fn best_link_is_a_symlink_on_unix() {
    let t = Dir::new();
    t.mkdir("d");
    t.file("f", "x");
    let a = create(t.join("ld"), "d", LinkType::Best, &CreateOptions::default()).unwrap();
    let b = create(t.join("lf"), "f", LinkType::Best, &CreateOptions::default()).unwrap();
    assert_eq!(
        (a.made, a.link.dir.map(knot::Flavour::is_dir)),
        (Made::Symlink, Some(true))
    );
    assert_eq!(
        (b.made, b.link.dir.map(knot::Flavour::is_dir)),
        (Made::Symlink, Some(false))
    );
}

#[test]
fn inspect_reports_status_and_plain_kinds() {
    let t = Dir::new();
    t.file("f", "x");
    t.mkdir("d");
    t.symlink("dangling", "missing");
    t.symlink("loop1", "loop2");
    t.symlink("loop2", "loop1");
    t.symlink("self", "self");
    assert_eq!(
        inspect(t.join("dangling")).unwrap().status,
        Some(Status::Dangling)
    );
    assert_eq!(inspect(t.join("loop1")).unwrap().status, Some(Status::Loop));
    assert_eq!(inspect(t.join("self")).unwrap().status, Some(Status::Loop));
    let f = inspect(t.join("f")).unwrap();
    assert_eq!((f.kind, f.status, f.nlink), (Kind::File, None, Some(1)));
    assert_eq!(inspect(t.join("d")).unwrap().kind, Kind::Dir);
    let err = inspect(t.join("nothing")).unwrap_err();
    assert_eq!(*err.kind(), ErrorKind::NotFound);
}

/// Promise 1: removing a directory link never touches what is inside the target.
#[test]
fn removing_a_directory_link_keeps_the_target_contents() {
    let t = Dir::new();
    t.mkdir("d/inner");
    t.file("d/canary", "alive");
    t.file("d/inner/canary", "alive");
    t.symlink("l", "d");
    let j = create(
        t.join("j"),
        t.join("d"),
        LinkType::Junction,
        &CreateOptions::default(),
    )
    .unwrap();
    let removed = remove(t.join("l"), ChangeMode::Change).unwrap();
    assert_eq!(removed.kind, Kind::Symlink);
    remove(&j.link.path, ChangeMode::Change).unwrap();
    assert_eq!(t.names(), ["d"]);
    assert_eq!(fs::read_to_string(t.join("d/canary")).unwrap(), "alive");
    assert_eq!(
        fs::read_to_string(t.join("d/inner/canary")).unwrap(),
        "alive"
    );
}

#[test]
fn remove_refuses_files_and_directories() {
    let t = Dir::new();
    t.file("f", "keep");
    t.mkdir("d");
    fs::hard_link(t.join("f"), t.join("h")).unwrap();
    for (name, what) in [("f", Found::File), ("h", Found::File), ("d", Found::Dir)] {
        let err = remove(t.join(name), ChangeMode::Change).unwrap_err();
        assert_eq!(*err.kind(), ErrorKind::NotALink { what }, "{name}");
        assert_eq!(err.op(), Op::Remove);
        assert!(!err.is_retryable());
    }
    assert_eq!(t.names(), ["d", "f", "h"]);
    assert_eq!(fs::read_to_string(t.join("f")).unwrap(), "keep");
}

#[test]
fn dry_run_removes_nothing() {
    let t = Dir::new();
    t.symlink("l", "x");
    let link = remove(t.join("l"), ChangeMode::DryRun).unwrap();
    assert_eq!(link.target.as_deref(), Some(Path::new("x")));
    assert_eq!(t.names(), ["l"]);
}

/// Promise 5: names round-trip byte for byte.
#[test]
#[cfg_attr(target_os = "macos", ignore = "APFS refuses a name that is not UTF-8")]
fn awkward_names_round_trip() {
    let t = Dir::new();
    let long = "n".repeat(255);
    let names: [&[u8]; 4] = [
        b"bad-\xff-name",
        b"with space",
        b"new\nline\x1b",
        long.as_bytes(),
    ];
    for name in names {
        let name = std::ffi::OsStr::from_bytes(name);
        let link = t.path().join(name);
        let made = create(&link, name, LinkType::Symlink, &CreateOptions::default()).unwrap();
        assert_eq!(
            made.link.target.as_deref().map(|p| p.as_os_str()),
            Some(name)
        );
        assert_eq!(fs::read_link(&link).unwrap().as_os_str(), name);
        assert_eq!(inspect(&link).unwrap().status, Some(Status::Loop));
        remove(&link, ChangeMode::Change).unwrap();
    }
    assert!(t.names().is_empty());
}

/// A dangling link's `resolved` is where the kernel would look: its target taken from the
/// link's real directory, even when the link is reached through a symlinked directory.
#[test]
fn resolved_follows_the_links_real_directory() {
    let t = Dir::new();
    t.mkdir("real/a/b");
    t.symlink("ld", "real/a/b");
    t.symlink("real/a/b/l", "../missing");
    let real = fs::canonicalize(t.path()).unwrap();
    let link = inspect(t.join("ld/l")).unwrap();
    assert_eq!(link.status, Some(Status::Dangling));
    assert_eq!(link.resolved, Some(real.join("real/a/missing")));
    let scanned: Vec<_> = knot::scan::ScanBuilder::new(t.join("ld/"))
        .detail(knot::scan::Detail::Full)
        .build()
        .map(|entry| entry.unwrap().into_link())
        .collect();
    assert_eq!(scanned.len(), 1);
    assert_eq!(scanned[0].resolved, Some(real.join("real/a/missing")));
}

/// A LINK ending in a separator (`J/`, `J/.`) names the directory `J` is or
/// leads to, not a new link. Every create refuses it before it looks at anything, whether
/// nothing is there, a dangling symlink is (which `symlink(2)` reported as a bare "File
/// exists"), or a link to a directory is (which the kernel would follow), with or without
/// `--force`; nothing is made or changed.
#[test]
fn a_link_ending_in_a_separator_is_refused_for_every_kind() {
    let t = Dir::new();
    t.mkdir("d");
    t.file("f", "x");
    t.symlink("dang", "nowhere");
    t.symlink("dl", "d");
    for ty in [
        LinkType::Symlink,
        LinkType::Junction,
        LinkType::Hardlink,
        LinkType::Best,
    ] {
        for link in ["new/", "new//", "new/.", "dang/", "dl/", "dl/."] {
            for options in [CreateOptions::default(), force()] {
                let target = if ty == LinkType::Hardlink { "f" } else { "d" };
                let err = create(t.join(link), t.join(target), ty, &options).unwrap_err();
                assert_eq!(*err.kind(), ErrorKind::LinkEndsInSeparator, "{ty:?} {link}");
                // The path as given, from which a front end's hint names the link without
                // its separator.
                assert_eq!(err.path(), t.join(link).as_path(), "{ty:?} {link}");
                assert!(
                    err.to_string().ends_with("the path ends with a separator"),
                    "{err}"
                );
                assert_eq!(t.names(), ["d", "dang", "dl", "f"], "{ty:?} {link}");
                assert_eq!(fs::read_link(t.join("dang")).unwrap(), Path::new("nowhere"));
                assert_eq!(fs::read_link(t.join("dl")).unwrap(), Path::new("d"));
                assert_eq!(fs::read_dir(t.join("d")).unwrap().count(), 0);
            }
        }
    }
}
