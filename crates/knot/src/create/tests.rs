use super::*;

/// `--force` builds its link under a hidden name; one that is taken is
/// passed over, never reported as the link's error.
#[test]
fn force_passes_over_a_planted_hidden_name() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("l");
    std::os::unix::fs::symlink("a", &link).unwrap();
    let planted = dir.path().join(".l.knot~0000000000000001");
    std::fs::write(&planted, "planted").unwrap();
    crate::path::tests::DRAWN.with(|drawn| drawn.borrow_mut().push(1));
    let options = CreateOptions {
        replace: Replace::Links,
        ..CreateOptions::default()
    };
    let made = create(&link, "b", LinkType::Symlink, &options);
    crate::path::tests::DRAWN.with(|drawn| drawn.borrow_mut().clear());
    assert_eq!(made.unwrap().link.target, Some(PathBuf::from("b")));
    assert_eq!(std::fs::read_to_string(&planted).unwrap(), "planted");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

/// The read-back of the entry `l` in `dir` against a plan to store `stored`, leading
/// to `target` (what it was: `target_meta`).
fn verify(
    dir: &Path,
    stored: &str,
    target: &Path,
    target_meta: Option<Meta>,
) -> std::result::Result<(), ReadBack> {
    let held = sys::Dir::hold(dir).unwrap();
    let path = dir.join("l");
    let at = At::new(&held, std::ffi::OsStr::new("l"), &path);
    let plan = Plan {
        made: LinkType::Symlink,
        stored: stored.into(),
        flavour: Flavour::File,
        notes: vec![],
        place: held.place().unwrap(),
        replacing: false,
        target_path: target.into(),
        target_meta,
    };
    looked_at(at, &plan.stored).and_then(|meta| check_made(&plan, at, meta, None, None))
}

/// Promise 3: a link that does not read back as asked is an error. A real system that
/// reports success and makes nothing is simulated by planning one target and finding
/// another (or nothing) on disk.
#[test]
fn read_back_catches_what_was_not_made() {
    let mismatch = |err: std::result::Result<(), ReadBack>| match err {
        Err(ReadBack::Mismatch { expected, found }) => (expected, found),
        other => panic!("a mismatch, not {other:?}"),
    };
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().join("l");
    let verify = |stored: &str| verify(dir.path(), stored, Path::new(stored), None);
    assert_eq!(mismatch(verify("a")), ("\"a\"".into(), "nothing".into()));
    std::os::unix::fs::symlink("b", &at).unwrap();
    assert_eq!(mismatch(verify("a")), ("\"a\"".into(), "\"b\"".into()));
    assert!(verify("b").is_ok());
}

/// A link that holds what was asked but leads somewhere other than the target (as
/// ntfs-3g reads `C:\\Data\\a\\b` for a Linux name `a\\b`) is an error.
#[test]
fn read_back_checks_where_the_link_leads() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, at) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("l"),
    );
    std::fs::write(&a, "a").unwrap();
    std::fs::write(&b, "b").unwrap();
    std::os::unix::fs::symlink("b", &at).unwrap();
    let verify = |target: &Path, meta| verify(dir.path(), "b", target, meta);
    let target_a = sys::Os::stat(&a).ok();
    assert!(matches!(
        verify(&a, target_a),
        Err(ReadBack::Mismatch { expected, found })
            if expected == "\"b\"" && found == "\"b\", which does not lead to the target"
    ));
    assert!(verify(&b, sys::Os::stat(&b).ok()).is_ok());
    std::fs::remove_file(&b).unwrap();
    assert!(verify(&b, target_a).is_err(), "dangling now");
}

/// The staged link takes itself back when it is dropped uncommitted, and only what it
/// made: a link, or a new name of the target (whose data stays).
#[test]
fn a_staged_link_dropped_uncommitted_takes_back_what_it_made() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("t");
    std::fs::write(&target, "data").unwrap();
    let held = sys::Dir::hold(dir.path()).unwrap();
    for (ty, replace) in [
        (LinkType::Symlink, Replace::Never),
        (LinkType::Symlink, Replace::Links),
        (LinkType::Hardlink, Replace::Never),
        (LinkType::Hardlink, Replace::Links),
    ] {
        let link = dir.path().join("l");
        let options = CreateOptions {
            replace,
            ..CreateOptions::default()
        };
        let at = At::new(&held, std::ffi::OsStr::new("l"), &link);
        let planned = plan_at(at, &target, None, ty, &options, None).unwrap();
        let staged = Staged::make(&planned).unwrap();
        assert!(staged.at().lstat().is_ok());
        assert_eq!(
            staged.path == link,
            replace == Replace::Never,
            "{ty:?} {replace:?}"
        );
        drop(staged);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(
            names.len(),
            1,
            "{ty:?} {replace:?}: only the target is left"
        );
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "data");
    }
}

/// A link that another process put at the name after this one made its own (a racing
/// create, or `--force`) is not what this process made: a failed create leaves it.
#[test]
fn a_staged_link_dropped_uncommitted_leaves_another_process_link() {
    let dir = tempfile::tempdir().unwrap();
    let held = sys::Dir::hold(dir.path()).unwrap();
    let link = dir.path().join("l");
    let options = CreateOptions::default();
    let at = At::new(&held, std::ffi::OsStr::new("l"), &link);
    let planned = plan_at(
        at,
        Path::new("first"),
        None,
        LinkType::Symlink,
        &options,
        None,
    )
    .unwrap();
    let staged = Staged::make(&planned).unwrap();
    // The other process swaps its own link in.
    std::os::unix::fs::symlink("second", dir.path().join("other")).unwrap();
    std::fs::rename(dir.path().join("other"), &link).unwrap();
    assert!(staged.verify().is_err(), "the read-back finds another link");
    drop(staged);
    assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("second"));
}

/// A plan for a link that exists already, committed over it: the seam that retarget,
/// convert and apply use. The old link is replaced; a new one stands in its place.
#[test]
fn a_new_plan_for_an_existing_link_is_committed_over_it() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("l");
    std::os::unix::fs::symlink("old", &link).unwrap();
    let options = CreateOptions {
        replace: Replace::Links,
        ..CreateOptions::default()
    };
    let held = sys::Dir::hold(dir.path()).unwrap();
    let at = At::new(&held, std::ffi::OsStr::new("l"), &link);
    let planned = plan_at(
        at,
        Path::new("new"),
        None,
        LinkType::Symlink,
        &options,
        None,
    )
    .unwrap();
    assert!(planned.probe.replacing && planned.probe.existing.is_some());
    let record = Staged::make(&planned).unwrap().commit().ok().unwrap();
    assert_eq!(record.path, link);
    assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("new"));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}
