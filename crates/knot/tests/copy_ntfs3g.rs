//! `knot::copy` of a tree on an NTFS volume mounted with ntfs-3g: junctions and symlinks
//! copied as real reparse points, checked by their bytes.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use knot::copy::{Action, Class, CopyOptions, Item, Summary};
use knot::{CreateOptions, Kind, LinkType};
use knot_reparse::ReparsePoint;

use crate::fixture::ntfs3g::volume;

/// Copies `source` to `copy`: the counts, every item, every error.
fn run(source: &Path, copy: &Path) -> (Summary, Vec<Item>, Vec<knot::Error>) {
    let items = Mutex::new(Vec::new());
    let errors = Mutex::new(Vec::new());
    let summary = knot::copy(source, copy, &CopyOptions::default(), |item| match item {
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

/// The reparse point of `path` itself, as ntfs-3g stores it, decoded.
fn reparse(path: &Path) -> ReparsePoint {
    let mut buffer = vec![0; 16 * 1024];
    let len = rustix::fs::lgetxattr(path, "system.ntfs_reparse_data", &mut buffer)
        .unwrap_or_else(|e| panic!("no reparse point on {}: {e}", path.display()));
    buffer.truncate(len);
    knot_reparse::decode(&buffer).unwrap()
}

/// A junction's target (its print name) and substitute name.
fn junction(path: &Path) -> (String, String) {
    match reparse(path) {
        ReparsePoint::MountPoint(m) => (
            m.print_name.to_string_lossy(),
            m.substitute_name.to_string_lossy(),
        ),
        other => panic!("{} is no junction: {other:?}", path.display()),
    }
}

/// A symlink's print name and whether it is relative.
fn symlink(path: &Path) -> (String, bool) {
    match reparse(path) {
        ReparsePoint::Symlink(s) => (s.print_name.to_string_lossy(), s.flags & 1 == 1),
        other => panic!("{} is no symlink: {other:?}", path.display()),
    }
}

fn make(link: &Path, target: &Path, ty: LinkType) {
    knot::create(link, target, ty, &CreateOptions::default()).unwrap();
}

/// The tree of the tests: `src/a/b`, `src/a/file`, `outside/x`; junctions to inside
/// (`j_in`, `a/b/j_up`), to outside (`j_out`) and through a junction of the source
/// (`j_via`, made to `j_in/b`); symlinks absolute, relative, through `..` and to
/// outside.
fn tree(vol: &crate::fixture::ntfs3g::Volume) -> PathBuf {
    let src = vol.path("src");
    fs::create_dir_all(src.join("a/b")).unwrap();
    fs::write(src.join("a/file"), "data").unwrap();
    fs::create_dir(vol.path("outside")).unwrap();
    fs::write(vol.path("outside/x"), "out").unwrap();
    make(&src.join("j_in"), &src.join("a"), LinkType::Junction);
    make(&src.join("a/b/j_up"), &src.join("a"), LinkType::Junction);
    make(&src.join("j_out"), &vol.path("outside"), LinkType::Junction);
    make(&src.join("abs"), &src.join("a/file"), LinkType::Symlink);
    make(&src.join("a/b/rel"), Path::new("../file"), LinkType::Symlink);
    make(
        &src.join("a/b/dotdot"),
        Path::new("../../a/b/../file"),
        LinkType::Symlink,
    );
    make(&src.join("out_rel"), Path::new("../outside/x"), LinkType::Symlink);
    src
}

/// Copied to another place on the same volume, junctions are real junctions and symlinks
/// real symlinks, read back by their bytes: inner ones lead to the same place inside the
/// copy (a relative one keeps its text), outer ones where they led, and none into the
/// source.
#[test]
fn junctions_and_symlinks_on_ntfs3g_are_copied_as_reparse_points() {
    let Some(vol) = volume("junctions_and_symlinks_on_ntfs3g_are_copied_as_reparse_points")
    else {
        return;
    };
    let src = tree(&vol);
    let dst = vol.path("dst");
    let (summary, items, errors) = run(&src, &dst);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!((summary.junctions, summary.symlinks), (3, 4), "{summary:?}");
    vol.remount();

    assert_eq!(
        junction(&dst.join("j_in")),
        ("C:\\dst\\a".into(), "\\??\\C:\\dst\\a".into())
    );
    assert_eq!(junction(&dst.join("a/b/j_up")).0, "C:\\dst\\a");
    assert_eq!(junction(&dst.join("j_out")).0, "C:\\outside");
    assert_eq!(symlink(&dst.join("abs")), ("C:\\dst\\a\\file".into(), false));
    assert_eq!(symlink(&dst.join("a/b/rel")), ("..\\file".into(), true));
    assert_eq!(
        symlink(&dst.join("a/b/dotdot")),
        ("..\\..\\a\\b\\..\\file".into(), true)
    );
    assert_eq!(symlink(&dst.join("out_rel")), ("..\\outside\\x".into(), true));

    // As Linux follows them: inner ones inside the copy, outer ones outside, none into
    // the source.
    let real = |below: &str| fs::canonicalize(dst.join(below)).unwrap();
    assert_eq!(real("j_in"), dst.join("a"));
    assert_eq!(real("a/b/j_up"), dst.join("a"));
    assert_eq!(real("abs"), dst.join("a/file"));
    assert_eq!(real("a/b/rel"), dst.join("a/file"));
    assert_eq!(real("a/b/dotdot"), dst.join("a/file"));
    assert_eq!(real("j_out"), vol.path("outside"));
    assert_eq!(real("out_rel"), vol.path("outside/x"));
    assert_eq!(fs::read_to_string(dst.join("j_in/file")).unwrap(), "data");

    let j_in = item(&items, &src, "j_in");
    assert_eq!(j_in.link.kind, Kind::Junction);
    assert_eq!(j_in.link.target.as_deref(), Some(Path::new("C:\\src\\a")));
    assert_eq!((j_in.class, j_in.action), (Some(Class::Inner), Action::Rewritten));
    assert_eq!(j_in.made, None);
    let j_out = item(&items, &src, "j_out");
    assert_eq!((j_out.class, j_out.action), (Some(Class::Outer), Action::Kept));
    let rel = item(&items, &src, "a/b/rel");
    assert_eq!((rel.class, rel.action), (Some(Class::Inner), Action::Copied));
}

/// Copied off the volume, onto a file system without junctions, a junction becomes an
/// absolute directory symlink to the same directory (an inner one to the copy's), and the
/// item says so; symlinks stored in Windows' form lead where they led.
#[test]
fn junctions_copied_off_ntfs3g_become_directory_symlinks() {
    let Some(vol) = volume("junctions_copied_off_ntfs3g_become_directory_symlinks") else {
        return;
    };
    let src = tree(&vol);
    let base = tempfile::tempdir().unwrap();
    let dst = fs::canonicalize(base.path()).unwrap().join("dst");
    let (summary, items, errors) = run(&src, &dst);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!((summary.junctions, summary.symlinks), (0, 7), "{summary:?}");
    assert_eq!(fs::read_link(dst.join("j_in")).unwrap(), dst.join("a"));
    assert_eq!(fs::read_link(dst.join("a/b/j_up")).unwrap(), dst.join("a"));
    assert_eq!(fs::read_link(dst.join("j_out")).unwrap(), vol.path("outside"));
    assert_eq!(fs::read_link(dst.join("abs")).unwrap(), dst.join("a/file"));
    assert_eq!(fs::read_link(dst.join("a/b/rel")).unwrap(), Path::new("../file"));
    assert_eq!(
        fs::canonicalize(dst.join("out_rel")).unwrap(),
        vol.path("outside/x")
    );
    let j_in = item(&items, &src, "j_in");
    assert_eq!(j_in.made, Some(Kind::Symlink));
    assert_eq!((j_in.class, j_in.action), (Some(Class::Inner), Action::Rewritten));
}

/// A dangling junction is copied as it is: onto the volume, the same reparse point byte
/// for byte (a create makes a junction only to a directory that is there); off it, an
/// absolute directory symlink to the same missing directory.
#[test]
fn a_dangling_junction_is_copied_as_it_is() {
    let Some(vol) = volume("a_dangling_junction_is_copied_as_it_is") else {
        return;
    };
    let src = vol.path("src");
    fs::create_dir_all(src.join("gone")).unwrap();
    make(&src.join("j"), &src.join("gone"), LinkType::Junction);
    fs::remove_dir(src.join("gone")).unwrap();
    let dst = vol.path("dst");
    let (summary, items, errors) = run(&src, &dst);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!((summary.junctions, summary.dangling), (1, 1), "{summary:?}");
    let j = item(&items, &src, "j");
    assert_eq!((j.class, j.action, j.made), (Some(Class::Dangling), Action::Kept, None));
    vol.remount();
    assert_eq!(reparse(&dst.join("j")), reparse(&src.join("j")));
    assert_eq!(junction(&dst.join("j")).0, "C:\\src\\gone");

    let base = tempfile::tempdir().unwrap();
    let off = base.path().join("dst");
    let (summary, items, errors) = run(&src, &off);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!((summary.junctions, summary.symlinks), (0, 1), "{summary:?}");
    assert_eq!(item(&items, &src, "j").made, Some(Kind::Symlink));
    assert_eq!(fs::read_link(off.join("j")).unwrap(), src.join("gone"));
}
