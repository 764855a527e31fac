//! `knot::copy`: a tree copied with its links kept.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use knot::copy::{Action, Class, CopyOptions, Inner, Item, Outer, Summary};
use knot::{ChangeMode, ErrorKind};

use crate::fixture::Dir;

/// Copies `source` to `copy` with `options`: the counts, every item, every error.
pub(crate) fn run(
    source: &Path,
    copy: &Path,
    options: CopyOptions,
) -> (Summary, Vec<Item>, Vec<knot::Error>) {
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

/// [`run`], where nothing may fail: what it reported.
fn run_ok(source: &Path, copy: &Path, options: CopyOptions) -> Vec<Item> {
    let (_, items, errors) = run(source, copy, options);
    assert!(errors.is_empty(), "{errors:#?}");
    items
}

/// What became of the item whose source path ends in `name`, if it was reported.
fn action_of(items: &[Item], name: &str) -> Option<Action> {
    let item = items.iter().find(|item| item.link.path.ends_with(name));
    item.map(|item| item.action)
}

/// Every path below `root`, relative, without following links.
pub(crate) fn tree(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![PathBuf::new()];
    while let Some(below) = todo.pop() {
        for entry in fs::read_dir(root.join(&below)).unwrap() {
            let entry = entry.unwrap();
            let path = below.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                todo.push(path.clone());
            }
            out.push(path);
        }
    }
    out.sort();
    out
}

pub(crate) fn item<'a>(items: &'a [Item], source: &Path, below: &str) -> &'a Item {
    let path = source.join(below);
    items
        .iter()
        .find(|item| item.link.path == path)
        .unwrap_or_else(|| panic!("no item for {below}: {items:#?}"))
}

/// Inner links (absolute, relative, through `..`, out of the source and back in by its
/// name) lead to the same place inside the copy; outer ones to where they led; no link in
/// the copy leads into the source.
#[test]
fn inner_links_lead_inside_the_copy() {
    let dir = Dir::new();
    let base = dir.real();
    let src = dir.mkdir("src");
    dir.mkdir("src/a/b");
    dir.file("src/a/file", "data");
    dir.mkdir("outside");
    dir.file("outside/x", "out");
    dir.symlink("src/abs", base.join("src/a/file"));
    dir.symlink("src/a/b/rel", "../file");
    dir.symlink("src/a/b/dotdot", "../../a/b/../file");
    dir.symlink("src/a/by_name", "../../src/a/file");
    dir.symlink("src/absdir", base.join("src/a"));
    dir.symlink("src/out_abs", base.join("outside/x"));
    dir.symlink("src/a/out_rel", "../../outside/x");
    let dst = base.join("copies/dst");
    fs::create_dir(base.join("copies")).unwrap();
    let (summary, items, errors) = run(&src, &dst, CopyOptions::default());
    assert!(errors.is_empty(), "{errors:#?}");
    let src_real = fs::canonicalize(&src).unwrap();
    for (below, leads_to) in [
        ("abs", "a/file"),
        ("a/b/rel", "a/file"),
        ("a/b/dotdot", "a/file"),
        ("a/by_name", "a/file"),
        ("absdir", "a"),
    ] {
        let copy = dst.join(below);
        assert!(fs::symlink_metadata(&copy).unwrap().is_symlink(), "{below}");
        assert_eq!(
            fs::canonicalize(&copy).unwrap(),
            dst.join(leads_to),
            "{below} -> {:?}",
            fs::read_link(&copy)
        );
        assert_eq!(
            item(&items, &src, below).class,
            Some(Class::Inner),
            "{below}"
        );
    }
    // The form is kept: a relative target stays relative, and as it was where it stays
    // inside.
    assert_eq!(
        fs::read_link(dst.join("a/b/rel")).unwrap(),
        Path::new("../file")
    );
    assert!(fs::read_link(dst.join("a/by_name")).unwrap().is_relative());
    assert_eq!(fs::read_link(dst.join("abs")).unwrap(), dst.join("a/file"));
    assert_eq!(item(&items, &src, "abs").action, Action::Rewritten);
    for (below, form_relative) in [("out_abs", false), ("a/out_rel", true)] {
        let copy = dst.join(below);
        assert_eq!(fs::canonicalize(&copy).unwrap(), base.join("outside/x"));
        assert_eq!(fs::read_link(&copy).unwrap().is_relative(), form_relative);
        assert_eq!(item(&items, &src, below).class, Some(Class::Outer));
    }
    for below in tree(&dst) {
        let path = dst.join(&below);
        if fs::symlink_metadata(&path).unwrap().is_symlink() {
            let leads = fs::canonicalize(&path).unwrap();
            assert!(
                !leads.starts_with(&src_real),
                "{below:?} leads into the source"
            );
        }
    }
    assert_eq!(summary.symlinks, 7);
    // The copy is one level deeper than the source: the relative outer link is rewritten.
    assert_eq!(
        summary.rewritten, 4,
        "abs, absdir, by_name, out_rel: {items:#?}"
    );
    assert_eq!(item(&items, &src, "a/out_rel").action, Action::Rewritten);
    assert_eq!(summary.files, 1);
    assert_eq!(summary.dirs, 3);
    assert_eq!(summary.failed, 0);
}

/// `--inner keep` copies inner links as they are; `--outer skip` leaves outer ones out.
#[test]
fn inner_keep_and_outer_skip() {
    let dir = Dir::new();
    let base = dir.real();
    let src = dir.mkdir("src");
    dir.file("src/f", "x");
    dir.file("outside", "y");
    dir.symlink("src/abs", base.join("src/f"));
    dir.symlink("src/out", base.join("outside"));
    let options = CopyOptions {
        inner: Inner::Keep,
        outer: Outer::Skip,
        ..CopyOptions::default()
    };
    let dst = base.join("dst");
    let (summary, items, errors) = run(&src, &dst, options);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(fs::read_link(dst.join("abs")).unwrap(), base.join("src/f"));
    assert_eq!(item(&items, &src, "abs").action, Action::Kept);
    assert!(fs::symlink_metadata(dst.join("out")).is_err());
    assert_eq!(item(&items, &src, "out").action, Action::Dropped);
    assert_eq!((summary.kept, summary.dropped), (1, 1));
}

/// The names below `root` of each file that has several there, relative, grouped by file:
/// the set of groups.
fn groups(root: &Path) -> BTreeSet<BTreeSet<PathBuf>> {
    let mut by_inode = BTreeMap::<(u64, u64), BTreeSet<PathBuf>>::new();
    for below in tree(root) {
        let meta = fs::symlink_metadata(root.join(&below)).unwrap();
        if meta.is_file() && meta.nlink() > 1 {
            by_inode
                .entry((meta.dev(), meta.ino()))
                .or_default()
                .insert(below);
        }
    }
    by_inode
        .into_values()
        .filter(|names| names.len() > 1)
        .collect()
}

/// The hard-link groups of the copy are the source's, as sets of names; a file with a
/// name outside the source is one file with one name in the copy. A group whose file has
/// names outside too is counted unsaturated.
#[test]
fn hard_link_groups_are_kept() {
    let dir = Dir::new();
    let src = dir.mkdir("src");
    dir.mkdir("src/x/y");
    dir.file("src/a", "one");
    fs::hard_link(src.join("a"), src.join("b")).unwrap();
    fs::hard_link(src.join("a"), src.join("x/y/c")).unwrap();
    dir.file("src/x/e", "two");
    fs::hard_link(src.join("x/e"), src.join("x/y/f")).unwrap();
    fs::hard_link(src.join("x/e"), dir.join("e_outside")).unwrap();
    dir.file("src/g", "single");
    dir.file("src/h", "outside too");
    fs::hard_link(src.join("h"), dir.join("h_outside")).unwrap();
    let want = groups(&src);
    assert_eq!(want.len(), 2);
    for threads in [1, 4] {
        let dst = dir.join(format!("dst{threads}"));
        let options = CopyOptions {
            threads,
            ..CopyOptions::default()
        };
        let (summary, _, errors) = run(&src, &dst, options);
        assert!(errors.is_empty(), "{errors:#?}");
        assert_eq!(groups(&dst), want);
        assert_eq!(fs::metadata(dst.join("h")).unwrap().nlink(), 1);
        assert_eq!(fs::read_to_string(dst.join("x/y/c")).unwrap(), "one");
        assert_eq!(
            (
                summary.groups,
                summary.unsaturated,
                summary.hard_links,
                summary.files
            ),
            (2, 1, 3, 4)
        );
    }
}

/// Copies `src` to `dst` under `--update` with `threads`: the counts, the items by name,
/// and the errors.
fn update_run(src: &Path, dst: &Path, threads: usize) -> (Summary, Vec<Item>, Vec<knot::Error>) {
    let options = CopyOptions {
        update: true,
        threads,
        ..CopyOptions::default()
    };
    run(src, dst, options)
}

/// A source `src` holding one file by three names: `a`, met first (the walk reads a
/// directory whole before the ones below it), then `d/b` and `d/c`.
fn group_of_three() -> (Dir, PathBuf) {
    let dir = Dir::new();
    let src = dir.mkdir("src");
    dir.mkdir("src/d");
    dir.file("src/a", "data");
    fs::hard_link(src.join("a"), src.join("d/b")).unwrap();
    fs::hard_link(src.join("a"), src.join("d/c")).unwrap();
    (dir, src)
}

/// A hard-link group whose first name met cannot be copied (under `--update`, a directory
/// stands at its place in DST) is kept but for that name: the next name is copied in its
/// place (`first-failed`, naming the copy that failed), the last one linked to that copy,
/// and the summary counts the group as short of a name, not as kept whole. `a` is met
/// first: the walk reads a directory whole before the ones below it.
#[test]
fn a_group_whose_first_copy_fails_is_kept_but_for_that_name() {
    let (dir, src) = group_of_three();
    for threads in [1, 4] {
        let dst = dir.mkdir(&format!("dst{threads}"));
        dir.mkdir(&format!("dst{threads}/a"));
        dir.file(&format!("dst{threads}/a/keep"), "there");
        let (summary, items, errors) = update_run(&src, &dst, threads);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert_eq!(errors[0].path(), dst.join("a"));
        let (b, c) = (dst.join("d/b"), dst.join("d/c"));
        assert_eq!(fs::read_to_string(&c).unwrap(), "data");
        let meta = |path: &Path| fs::metadata(path).unwrap();
        assert_eq!(meta(&b).ino(), meta(&c).ino());
        assert_eq!(meta(&b).nlink(), 2);
        // Either of `b` and `c` may be met first: that one is copied, the other linked.
        let item = |copy: &Path| items.iter().find(|item| item.copy == copy).unwrap();
        let (copied, linked) = match item(&b).action {
            Action::Linked => (item(&c), item(&b)),
            _ => (item(&b), item(&c)),
        };
        assert_eq!(copied.action, Action::FirstFailed, "{items:#?}");
        assert_eq!(copied.new_target.as_deref(), Some(&*dst.join("a")));
        assert_eq!(linked.action, Action::Linked, "{items:#?}");
        assert_eq!(linked.new_target.as_ref(), Some(&copied.copy));
        assert_eq!(
            (summary.groups, summary.unsaturated, summary.short),
            (0, 0, 1)
        );
        assert_eq!(
            (summary.files, summary.hard_links, summary.failed),
            (1, 1, 1)
        );
    }
}

/// A hard-link group whose later name cannot be linked to its copy is counted as short of
/// that name, not as kept whole (nor as unsaturated: the name missing is inside SRC).
#[test]
fn a_group_short_of_a_later_name_is_counted_apart() {
    let (dir, src) = group_of_three();
    let dst = dir.mkdir("dst");
    dir.mkdir("dst/d/b");
    dir.file("dst/d/b/keep", "there");
    let (summary, items, errors) = update_run(&src, &dst, 1);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].path(), dst.join("d/b"));
    assert!(
        items.iter().all(|item| item.action != Action::FirstFailed),
        "{items:#?}"
    );
    let ino = |name: &str| fs::metadata(dst.join(name)).unwrap().ino();
    assert_eq!(ino("a"), ino("d/c"));
    assert_eq!(
        (summary.groups, summary.unsaturated, summary.short),
        (0, 0, 1)
    );
}

/// Files have the source's contents, permission bits and modification times, and so do
/// directories (a read-only one included, made writable only while it is filled) and
/// symlinks (times only: a Linux symlink's permissions are always 0777).
#[test]
fn contents_modes_and_times_are_kept() {
    let dir = Dir::new();
    let src = dir.mkdir("src");
    dir.mkdir("src/ro/deep");
    dir.file("src/ro/deep/f", "deep");
    dir.file("src/exec", "#!/bin/sh\n");
    dir.file("src/empty", "");
    fs::write(src.join("big"), vec![7u8; 5 << 20]).unwrap();
    fs::set_permissions(src.join("exec"), fs::Permissions::from_mode(0o750)).unwrap();
    fs::set_permissions(src.join("empty"), fs::Permissions::from_mode(0o604)).unwrap();
    let old = std::time::UNIX_EPOCH + std::time::Duration::new(1_234_567_890, 42);
    for below in ["exec", "ro/deep/f", "ro/deep", "ro"] {
        let file = fs::File::open(src.join(below)).unwrap();
        file.set_modified(old).unwrap();
    }
    dir.symlink("src/ro/l", "deep/f");
    let link_time = rustix::fs::Timestamps {
        last_access: rustix::fs::Timespec {
            tv_sec: 1_000_000_000,
            tv_nsec: 5,
        },
        last_modification: rustix::fs::Timespec {
            tv_sec: 1_100_000_000,
            tv_nsec: 6,
        },
    };
    rustix::fs::utimensat(
        rustix::fs::CWD,
        src.join("ro/l"),
        &link_time,
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .unwrap();
    fs::File::open(src.join("ro"))
        .unwrap()
        .set_modified(old)
        .unwrap();
    fs::set_permissions(src.join("ro"), fs::Permissions::from_mode(0o555)).unwrap();
    let dst = dir.join("dst");
    let (_, _, errors) = run(&src, &dst, CopyOptions::default());
    fs::set_permissions(src.join("ro"), fs::Permissions::from_mode(0o755)).unwrap();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(tree(&dst), tree(&src));
    for below in tree(&src) {
        let (a, b) = (
            fs::symlink_metadata(src.join(&below)).unwrap(),
            fs::symlink_metadata(dst.join(&below)).unwrap(),
        );
        if a.is_symlink() {
            assert!(b.is_symlink(), "{below:?}");
        } else if below == Path::new("ro") {
            assert_eq!(b.mode() & 0o7777, 0o555);
        } else {
            assert_eq!(a.mode() & 0o7777, b.mode() & 0o7777, "{below:?}");
        }
        assert_eq!(
            (a.mtime(), a.mtime_nsec()),
            (b.mtime(), b.mtime_nsec()),
            "{below:?}"
        );
        if a.is_file() {
            assert_eq!(
                fs::read(src.join(&below)).unwrap(),
                fs::read(dst.join(&below)).unwrap()
            );
        }
    }
    fs::set_permissions(dst.join("ro"), fs::Permissions::from_mode(0o755)).unwrap();
}

/// The extended attributes of `path` (not followed), sorted.
fn xattrs(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut names = vec![0u8; 4096];
    let len = rustix::fs::llistxattr(path, &mut names).unwrap();
    let mut out: Vec<(String, Vec<u8>)> = names[..len]
        .split(|&b| b == 0)
        .filter(|name| !name.is_empty())
        .map(|name| {
            let name = String::from_utf8(name.to_vec()).unwrap();
            let mut value = vec![0u8; 4096];
            let len = rustix::fs::lgetxattr(path, name.as_str(), &mut value).unwrap();
            value.truncate(len);
            (name, value)
        })
        .collect();
    out.sort();
    out
}

/// An ACL in the kernel's form (`system.posix_acl_*`): a version, then (tag, permissions,
/// id) per entry. This one: u::rwx, u:1000:r-x (a named user, which no permission bits
/// hold), g::r-x, m::r-x, o::---.
fn acl() -> Vec<u8> {
    let mut acl = 2u32.to_le_bytes().to_vec();
    for (tag, perm, id) in [
        (1u16, 7u16, u32::MAX),
        (2, 5, 1000),
        (4, 5, u32::MAX),
        (0x10, 5, u32::MAX),
        (0x20, 0, u32::MAX),
    ] {
        acl.extend(tag.to_le_bytes());
        acl.extend(perm.to_le_bytes());
        acl.extend(id.to_le_bytes());
    }
    acl
}

/// `--xattrs`: a file's and a directory's extended attributes come over, ACLs (access and
/// default) among them, a directory's though it is made read-only; without it, none do.
#[test]
fn extended_attributes_and_acls_are_copied_with_xattrs() {
    let dir = Dir::new();
    let src = dir.mkdir("src");
    dir.mkdir("src/d");
    dir.file("src/d/f", "data");
    let set = |below: &str, name: &str, value: &[u8]| {
        rustix::fs::setxattr(
            src.join(below),
            name,
            value,
            rustix::fs::XattrFlags::empty(),
        )
        .unwrap_or_else(|e| panic!("setting {name} on {}: {e}", src.display()));
    };
    set("d/f", "user.origin", b"knot test");
    set("d/f", "system.posix_acl_access", &acl());
    set("d", "user.dir", &[0u8, 1, 2, 255]);
    set("d", "system.posix_acl_default", &acl());
    fs::set_permissions(src.join("d"), fs::Permissions::from_mode(0o555)).unwrap();
    let options = CopyOptions {
        xattrs: true,
        ..CopyOptions::default()
    };
    let with = dir.join("with");
    let (_, _, errors) = run(&src, &with, options);
    let without = dir.join("without");
    let (_, _, plain_errors) = run(&src, &without, CopyOptions::default());
    for root in [&src, &with, &without] {
        fs::set_permissions(root.join("d"), fs::Permissions::from_mode(0o755)).unwrap();
    }
    assert!(
        errors.is_empty() && plain_errors.is_empty(),
        "{errors:#?}{plain_errors:#?}"
    );
    for below in ["d", "d/f"] {
        let original = xattrs(&src.join(below));
        assert_eq!(original.len(), 2, "{below}: {original:?}");
        assert_eq!(xattrs(&with.join(below)), original, "{below}");
        assert!(
            xattrs(&without.join(below))
                .iter()
                .all(|(name, _)| !name.starts_with("user.")),
            "{below}"
        );
    }
    assert_eq!(
        fs::metadata(with.join("d/f")).unwrap().mode() & 0o777,
        fs::metadata(src.join("d/f")).unwrap().mode() & 0o777
    );
}

/// `--update --xattrs`: a file whose extended attributes alone changed (no size, no
/// time) is copied again with them; one whose attributes are the same is left as it is;
/// without `--xattrs` neither is looked at.
#[test]
fn update_with_xattrs_copies_a_file_whose_attributes_alone_changed() {
    let dir = Dir::new();
    let src = dir.mkdir("src");
    dir.file("src/changed", "data");
    dir.file("src/same", "data");
    for name in ["changed", "same"] {
        rustix::fs::setxattr(
            src.join(name),
            "user.origin",
            b"one",
            rustix::fs::XattrFlags::empty(),
        )
        .unwrap();
    }
    let with = CopyOptions {
        xattrs: true,
        ..CopyOptions::default()
    };
    let dst = dir.join("dst");
    run_ok(&src, &dst, with);
    let mtime = fs::metadata(src.join("changed"))
        .unwrap()
        .modified()
        .unwrap();
    rustix::fs::setxattr(
        src.join("changed"),
        "user.origin",
        b"two",
        rustix::fs::XattrFlags::empty(),
    )
    .unwrap();
    assert_eq!(
        fs::metadata(src.join("changed"))
            .unwrap()
            .modified()
            .unwrap(),
        mtime
    );
    // Without --xattrs: nothing differs.
    let update = CopyOptions {
        update: true,
        ..CopyOptions::default()
    };
    let items = run_ok(&src, &dst, update);
    assert_eq!(action_of(&items, "changed"), Some(Action::Unchanged));
    assert_eq!(xattrs(&dst.join("changed")), xattrs(&src.join("same")));
    let update = CopyOptions {
        xattrs: true,
        ..update
    };
    let items = run_ok(&src, &dst, update);
    assert_eq!(action_of(&items, "changed"), Some(Action::Updated));
    assert_eq!(action_of(&items, "same"), Some(Action::Unchanged));
    assert_eq!(xattrs(&dst.join("changed")), xattrs(&src.join("changed")));
}

/// A symlink's own extended attributes (`trusted.`: the kernel keeps no `user.` ones on
/// a link, and only root may write one) come over with `--xattrs`, and `--update
/// --xattrs` makes a link again whose attributes alone changed; a link's owner comes over
/// with or without it (as root, who may give it).
#[test]
fn a_symlinks_own_attributes_and_owner_are_copied() {
    const TEST: &str = "a_symlinks_own_attributes_and_owner_are_copied";
    if !rustix::process::geteuid().is_root() {
        let why = "only root may give a link extended attributes or an owner";
        crate::fixture::skip("KNOT_REQUIRE_ROOT", TEST, why);
        return;
    }
    let dir = Dir::new();
    let src = dir.mkdir("src");
    dir.file("src/f", "data");
    dir.mkdir("src/d");
    dir.symlink("src/d/plain", "../f");
    let link = dir.symlink("src/l", "f");
    let set = |value: &[u8]| {
        let flags = rustix::fs::XattrFlags::empty();
        rustix::fs::lsetxattr(&link, "trusted.knot", value, flags).unwrap();
    };
    set(b"one");
    let (uid, gid) = (
        rustix::fs::Uid::from_raw(1234),
        rustix::fs::Gid::from_raw(5678),
    );
    rustix::fs::chownat(
        rustix::fs::CWD,
        &link,
        Some(uid),
        Some(gid),
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .unwrap();
    let with = CopyOptions {
        xattrs: true,
        ..CopyOptions::default()
    };
    let (dst, without) = (dir.join("dst"), dir.join("without"));
    run_ok(&src, &dst, with);
    run_ok(&src, &without, CopyOptions::default());
    // The `trusted.` ones (a security module may label every new link itself).
    let trusted = |path: &Path| {
        let mut all = xattrs(path);
        all.retain(|(name, _)| name.starts_with("trusted."));
        all
    };
    let one = vec![("trusted.knot".to_owned(), b"one".to_vec())];
    assert_eq!(trusted(&dst.join("l")), one);
    assert_eq!(trusted(&dst.join("d/plain")), []);
    assert_eq!(trusted(&without.join("l")), []);
    for copy in [&dst, &without] {
        let meta = fs::symlink_metadata(copy.join("l")).unwrap();
        assert!(meta.file_type().is_symlink());
        assert_eq!((meta.uid(), meta.gid()), (1234, 5678), "{}", copy.display());
        assert_eq!(fs::read_link(copy.join("l")).unwrap(), Path::new("f"));
        // Nothing left under a hidden name.
        let names = fs::read_dir(copy).unwrap().count();
        assert_eq!(names, 3, "{}", copy.display());
    }
    set(b"two");
    let update = CopyOptions {
        update: true,
        ..CopyOptions::default()
    };
    // Without --xattrs, the same link is left as it is.
    let items = run_ok(&src, &dst, update);
    assert_eq!(action_of(&items, "l"), Some(Action::Unchanged));
    assert_eq!(trusted(&dst.join("l")), one);
    let update = CopyOptions {
        xattrs: true,
        ..update
    };
    let items = run_ok(&src, &dst, update);
    assert_eq!(action_of(&items, "l"), Some(Action::Updated));
    assert_eq!(action_of(&items, "plain"), Some(Action::Unchanged));
    assert_eq!(trusted(&dst.join("l")), trusted(&link));
    let items = run_ok(&src, &dst, update);
    assert_eq!(action_of(&items, "l"), Some(Action::Unchanged));
}

/// A dangling link is copied as it is, and reported so.
#[test]
fn dangling_links_are_copied_and_reported() {
    let dir = Dir::new();
    let src = dir.mkdir("src");
    dir.symlink("src/gone", "nosuch/file");
    dir.symlink("src/gone_abs", dir.real().join("src/nosuch"));
    let dst = dir.join("dst");
    let (summary, items, errors) = run(&src, &dst, CopyOptions::default());
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(
        fs::read_link(dst.join("gone")).unwrap(),
        Path::new("nosuch/file")
    );
    assert_eq!(
        fs::read_link(dst.join("gone_abs")).unwrap(),
        dir.real().join("src/nosuch")
    );
    for below in ["gone", "gone_abs"] {
        let item = item(&items, &src, below);
        assert_eq!(
            (item.class, item.action),
            (Some(Class::Dangling), Action::Kept)
        );
    }
    assert_eq!(summary.dangling, 2);
}

/// A destination that is there and not an empty directory, or that lies inside the
/// source, is refused before anything is made; an empty directory is taken.
#[test]
fn destination_must_be_new_or_empty() {
    let dir = Dir::new();
    let src = dir.mkdir("src");
    dir.file("src/f", "x");
    dir.mkdir("full");
    dir.file("full/there", "kept");
    dir.file("file", "kept");
    let fails = |dst: &Path| {
        knot::copy(&src, dst, &CopyOptions::default(), |_| {
            panic!("nothing is copied")
        })
        .unwrap_err()
    };
    assert_eq!(
        fails(&dir.join("full")).kind(),
        &ErrorKind::DestinationNotEmpty
    );
    assert_eq!(
        fails(&dir.join("file")).kind(),
        &ErrorKind::DestinationNotADirectory {
            what: knot::Found::File
        }
    );
    assert!(matches!(
        fails(&src.join("inside")).kind(),
        ErrorKind::DestinationInsideSource { .. }
    ));
    assert_eq!(dir.names(), ["file", "full", "src"]);
    assert_eq!(crate::fixture::names(&dir.join("full")), ["there"]);
    assert_eq!(crate::fixture::names(&src), ["f"]);
    dir.mkdir("empty");
    let (summary, _, errors) = run(&src, &dir.join("empty"), CopyOptions::default());
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(summary.files, 1);
}

/// A dry run makes nothing, and reports what it would do.
#[test]
fn dry_run_makes_nothing() {
    let dir = Dir::new();
    let src = dir.mkdir("src");
    dir.mkdir("src/d");
    dir.file("src/d/f", "x");
    fs::hard_link(src.join("d/f"), src.join("g")).unwrap();
    dir.symlink("src/abs", dir.real().join("src/d"));
    let options = CopyOptions {
        mode: ChangeMode::DryRun,
        ..CopyOptions::default()
    };
    let (summary, items, errors) = run(&src, &dir.join("dst"), options);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(dir.names(), ["src"]);
    assert_eq!(item(&items, &src, "abs").action, Action::Rewritten);
    assert_eq!(
        (summary.files, summary.symlinks, summary.hard_links),
        (1, 1, 1)
    );
    // Into an empty directory: it stays empty.
    dir.mkdir("empty");
    let (_, _, errors) = run(&src, &dir.join("empty"), options);
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(crate::fixture::names(&dir.join("empty")).is_empty());
}

/// A directory of the source swapped for a link to a directory outside while the copy
/// runs is never gone through: nothing from outside is read into the copy, and nothing is
/// written outside the copy. Rounds are counted, not timed.
#[test]
fn a_directory_swapped_for_a_link_is_not_followed() {
    const ROUNDS: usize = 40;
    const DIRS: usize = 30;
    const SWAPS: usize = 200;
    let dir = Dir::new();
    let src = dir.mkdir("src");
    for d in 0..DIRS {
        dir.mkdir(&format!("src/d{d}/inner"));
        dir.file(&format!("src/d{d}/f"), "ok");
        dir.file(&format!("src/d{d}/inner/g"), "ok");
    }
    let outside = dir.mkdir("outside");
    dir.mkdir("outside/inner");
    dir.file("outside/f", "SECRET");
    dir.file("outside/inner/g", "SECRET");
    dir.file("outside/secret", "SECRET");
    let outside_before = tree(&outside);
    let copies = dir.mkdir("copies");
    // Set aside outside the source, so the walk never meets the directory by another name.
    let aside = dir.join("aside");
    let mut met = 0;
    for round in 0..ROUNDS {
        let dst = copies.join(format!("c{round}"));
        let done = AtomicBool::new(false);
        let name = format!("d{}", round % DIRS);
        let victim = src.join(&name);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for _ in 0..SWAPS {
                    if done.load(Ordering::Relaxed) {
                        break;
                    }
                    fs::rename(&victim, &aside).unwrap();
                    std::os::unix::fs::symlink(&outside, &victim).unwrap();
                    std::thread::yield_now();
                    fs::remove_file(&victim).unwrap();
                    fs::rename(&aside, &victim).unwrap();
                }
            });
            let options = CopyOptions {
                threads: 2,
                ..CopyOptions::default()
            };
            let (summary, _, _) = run(&src, &dst, options);
            done.store(true, Ordering::Relaxed);
            // The walk met the swap: it refused the link where a directory was, or
            // copied the link it found at the directory's name.
            let linked = fs::symlink_metadata(dst.join(&name))
                .is_ok_and(|meta| meta.file_type().is_symlink());
            if summary.failed > 0 || linked {
                met += 1;
            }
        });
        for below in tree(&dst) {
            let path = dst.join(&below);
            let meta = fs::symlink_metadata(&path).unwrap();
            assert_ne!(
                below.file_name().unwrap(),
                "secret",
                "round {round}: {below:?}"
            );
            if meta.is_file() {
                assert_eq!(
                    fs::read_to_string(&path).unwrap(),
                    "ok",
                    "round {round}: {below:?}"
                );
            }
        }
        assert_eq!(tree(&outside), outside_before, "round {round}");
        assert_eq!(fs::read_to_string(outside.join("f")).unwrap(), "SECRET");
    }
    assert_eq!(crate::fixture::names(&copies).len(), ROUNDS);
    assert_eq!(dir.names(), ["copies", "outside", "src"]);
    assert!(met > 0, "no round met the swap");
}

/// Every path below `root` with its mode, not following links.
fn modes(root: &Path) -> Vec<(PathBuf, u32)> {
    tree(root)
        .into_iter()
        .map(|below| {
            let mode = fs::symlink_metadata(root.join(&below)).unwrap().mode();
            (below, mode)
        })
        .collect()
}

/// The copy's root swapped for a link to a directory outside while the copy runs: the
/// copy goes on in the directory it made and holds, and nothing outside it is written or
/// given a mode (the source's `ssh` is 0777, the outside one 0700). Rounds are counted,
/// not timed, and at least one must have swapped the root while the copy ran.
#[test]
fn a_destination_swapped_for_a_link_is_not_written_through() {
    const ROUNDS: usize = 200;
    let dir = Dir::new();
    let src = dir.mkdir("src");
    for d in 0..20 {
        dir.file(&format!("src/f{d}"), "ok");
        dir.mkdir(&format!("src/d{d}"));
        dir.file(&format!("src/d{d}/g"), "ok");
    }
    let ssh = dir.mkdir("src/ssh");
    fs::set_permissions(&ssh, fs::Permissions::from_mode(0o777)).unwrap();
    let outside = dir.mkdir("outside");
    let outside_ssh = dir.mkdir("outside/ssh");
    fs::set_permissions(&outside_ssh, fs::Permissions::from_mode(0o700)).unwrap();
    dir.file("outside/keep", "KEEP");
    let before = modes(&outside);
    let dst = dir.join("dst");
    let mut swapped = 0;
    for round in 0..ROUNDS {
        let aside = dir.join(format!("aside{round}"));
        let done = AtomicBool::new(false);
        let hit = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    if fs::rename(&dst, &aside).is_ok() {
                        std::os::unix::fs::symlink(&outside, &dst).unwrap();
                        if !done.load(Ordering::Relaxed) {
                            hit.store(true, Ordering::Relaxed);
                        }
                        return;
                    }
                    std::hint::spin_loop();
                }
            });
            let options = CopyOptions {
                threads: 2,
                ..CopyOptions::default()
            };
            // It may fail at once (the swap met before the root was held): nothing to see.
            let _ = knot::copy(&src, &dst, &options, |_| {});
            done.store(true, Ordering::Relaxed);
        });
        if hit.load(Ordering::Relaxed) {
            swapped += 1;
        }
        assert_eq!(modes(&outside), before, "round {round}");
        match fs::symlink_metadata(&dst) {
            Ok(meta) if meta.is_dir() => fs::remove_dir_all(&dst).unwrap(),
            Ok(_) => fs::remove_file(&dst).unwrap(),
            Err(_) => {}
        }
        if aside.exists() {
            fs::remove_dir_all(&aside).unwrap();
        }
        if swapped >= 10 {
            break;
        }
    }
    assert!(swapped > 0, "no round swapped the root while the copy ran");
}

/// On btrfs, files are copied as reflinks: the entry says `cloned`, and the copy's
/// extents are the original's own: `filefrag -v` lists the same physical offsets for
/// both, each flagged `shared`.
#[test]
fn files_on_btrfs_are_reflinked() {
    let Some(vol) = crate::fixture::btrfs("copy::files_on_btrfs_are_reflinked") else {
        return;
    };
    let src = vol.mnt.join("src");
    fs::create_dir(&src).unwrap();
    let data: Vec<u8> = (0..4u32 << 20).map(|i| (i % 253) as u8).collect();
    fs::write(src.join("big"), &data).unwrap();
    // Written out, so that the file has extents to share.
    let synced = std::process::Command::new("sync").status().unwrap();
    assert!(synced.success());
    let dst = vol.mnt.join("dst");
    let (summary, items, errors) = run(&src, &dst, CopyOptions::default());
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(summary.files, 1);
    assert_eq!(item(&items, &src, "big").action, Action::Cloned);
    assert_eq!(fs::read(dst.join("big")).unwrap(), data);
    let synced = std::process::Command::new("sync").status().unwrap();
    assert!(synced.success());
    let (original, copy) = (extents(&src.join("big")), extents(&dst.join("big")));
    assert!(!original.is_empty(), "the original has no extents");
    let places = |extents: &[Extent]| -> Vec<(u64, u64, u64)> {
        extents
            .iter()
            .map(|e| (e.logical, e.physical, e.length))
            .collect()
    };
    assert_eq!(
        places(&copy),
        places(&original),
        "the copy has extents of its own"
    );
    for extent in copy.iter().chain(&original) {
        assert!(extent.shared, "an extent not shared: {extent:?}");
    }
}

/// One extent of a file as `filefrag -v` lists it: where it is in the file and on the
/// device, in blocks, and whether it is shared with another file.
#[derive(Debug)]
struct Extent {
    logical: u64,
    physical: u64,
    length: u64,
    shared: bool,
}

/// The extents `filefrag -v` lists for `path`: the rows
/// `   0:        0..    1023:       3328..      4351:   1024:             last,shared,eof`.
fn extents(path: &Path) -> Vec<Extent> {
    let out = std::process::Command::new("filefrag")
        .arg("-v")
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let start = |range: &str| -> u64 {
        let first = range.split("..").next().unwrap();
        first.trim().parse().unwrap()
    };
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            fields[0].trim().parse::<u64>().ok()?;
            Some(Extent {
                logical: start(fields[1]),
                physical: start(fields[2]),
                length: fields[3].trim().parse().unwrap(),
                shared: fields.last().unwrap().contains("shared"),
            })
        })
        .collect()
}

/// While the copy runs, a directory it made is open to this user alone (as cp makes
/// them), whatever the source's mode: others may not reach the copy's files before the
/// copy is done. At the end it has the source's mode.
#[test]
fn directories_are_private_until_the_copy_is_done() {
    let dir = Dir::new();
    let src = dir.mkdir("src");
    let sub = dir.mkdir("src/sub");
    dir.file("src/sub/f", "ok");
    fs::set_permissions(&sub, fs::Permissions::from_mode(0o755)).unwrap();
    let dst = dir.join("dst");
    let seen = Mutex::new(Vec::new());
    let options = CopyOptions {
        threads: 1,
        ..CopyOptions::default()
    };
    knot::copy(&src, &dst, &options, |item| {
        let item = item.unwrap();
        if item.link.kind == knot::Kind::Dir {
            let mode = fs::symlink_metadata(&item.copy).unwrap().mode();
            seen.lock()
                .unwrap()
                .push((item.copy.clone(), mode & 0o7777));
        }
    })
    .unwrap();
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.len(), 2, "{seen:?}");
    for (path, mode) in seen {
        assert_eq!(mode & 0o077, 0, "{path:?} was {mode:o} during the copy");
    }
    let mode = fs::metadata(dst.join("sub")).unwrap().mode() & 0o7777;
    assert_eq!(mode, 0o755);
}

/// An outer relative link still leads where it led when the source or the copy is named
/// through a link to a directory elsewhere: `..` goes up from where a directory really
/// is, so targets are worked out from real paths.
#[test]
fn outer_links_are_right_through_a_linked_path() {
    let dir = Dir::new();
    let base = dir.real();
    dir.mkdir("a/b");
    dir.mkdir("real/src");
    dir.symlink("a/b/alias", base.join("real"));
    dir.symlink("real/src/out", "../../outside/f");
    dir.mkdir("outside");
    let f = dir.file("outside/f", "there");
    let f = fs::canonicalize(f).unwrap();
    let options = CopyOptions::default();

    let (_, _, errors) = run(&base.join("a/b/alias/src"), &base.join("dst"), options);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(fs::canonicalize(base.join("dst/out")).unwrap(), f);

    let (_, _, errors) = run(&base.join("real/src"), &base.join("a/b/alias/dst"), options);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(fs::canonicalize(base.join("real/dst/out")).unwrap(), f);
}

/// A hard-link group with more names in one directory than the copy's file system allows a
/// file there (a btrfs image without extended references: about 18 names of 200 bytes) is
/// copied as several files: the name past the limit is copied (`link-limit`), the next
/// names are linked to that copy, and the summary counts the group as split.
#[test]
fn a_group_past_the_link_limit_is_split() {
    const NAMES: usize = 45;
    let test = "copy::a_group_past_the_link_limit_is_split";
    let Some(vol) = crate::fixture::btrfs_few_links(test) else {
        return;
    };
    let dir = Dir::new();
    let src = dir.mkdir("src");
    let name = |i: usize| format!("{i:03}{}", "n".repeat(197));
    dir.file(&format!("src/{}", name(0)), "data");
    for i in 1..NAMES {
        fs::hard_link(src.join(name(0)), src.join(name(i))).unwrap();
    }
    let dst = vol.mnt.join("dst");
    let options = CopyOptions {
        threads: 2,
        ..CopyOptions::default()
    };
    let (summary, items, errors) = run(&src, &dst, options);
    assert!(errors.is_empty(), "{errors:#?}");
    // Every name is there, with the data; the names are names of a few files.
    let mut files = BTreeMap::<u64, usize>::new();
    for i in 0..NAMES {
        let path = dst.join(name(i));
        assert_eq!(fs::read_to_string(&path).unwrap(), "data");
        *files.entry(fs::metadata(&path).unwrap().ino()).or_default() += 1;
    }
    assert!(files.len() >= 2, "the limit was not met: {files:?}");
    assert!(files.values().all(|&n| n > 1), "{files:?}");
    let at_limit: Vec<_> = items
        .iter()
        .filter(|item| item.action == Action::AtLinkLimit)
        .collect();
    assert_eq!(at_limit.len(), files.len() - 1, "{items:#?}");
    assert!(at_limit.iter().all(|item| item.new_target.is_some()));
    assert_eq!(summary.files as usize, files.len());
    assert_eq!(summary.hard_links as usize, NAMES - files.len());
    assert_eq!((summary.groups, summary.split), (0, 1));
}

/// A `mount --bind FROM TO` undone on drop, or `None` after saying why it cannot be made
/// (`KNOT_REQUIRE_LOOP=1` makes that a failure).
struct Bind(PathBuf);

impl Bind {
    fn new(test: &str, from: &Path, to: &Path) -> Option<Bind> {
        if !rustix::process::geteuid().is_root() {
            crate::fixture::skip("KNOT_REQUIRE_LOOP", test, "it needs root (mount --bind)");
            return None;
        }
        let out = std::process::Command::new("mount")
            .arg("--bind")
            .args([from, to])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        Some(Bind(to.to_path_buf()))
    }
}

impl Drop for Bind {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// `--update` and `--mirror` into a directory that holds the source are refused before
/// anything changes: by path, and by identity where a bind mount hides the path.
#[test]
fn a_destination_that_holds_the_source_is_refused() {
    let dir = Dir::new();
    dir.mkdir("p/src");
    dir.file("p/src/f", "source");
    dir.file("p/other", "other");
    dir.mkdir("p/src/src");
    dir.file("p/src/src/f", "inner");
    let before = tree(&dir.join("p"));
    let refused = |source: &Path, copy: &Path, mirror: bool| {
        let options = CopyOptions {
            update: !mirror,
            mirror,
            ..CopyOptions::default()
        };
        let err = knot::copy(source, copy, &options, |item| panic!("{item:?}")).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::SourceInsideDestination { .. }),
            "{err}"
        );
    };
    for mirror in [false, true] {
        refused(&dir.join("p/src"), &dir.join("p"), mirror);
        refused(&dir.join("p/src/src"), &dir.join("p/src"), mirror);
    }
    dir.mkdir("q");
    if let Some(_bind) = Bind::new(
        "copy::a_destination_that_holds_the_source_is_refused",
        &dir.join("p"),
        &dir.join("q"),
    ) {
        refused(&dir.join("p/src"), &dir.join("q"), true);
    }
    assert_eq!(tree(&dir.join("p")), before);
    assert_eq!(fs::read_to_string(dir.join("p/src/f")).unwrap(), "source");
    assert_eq!(fs::read_to_string(dir.join("p/other")).unwrap(), "other");
}

/// The copy met inside the source through a bind mount is a loop, not entered: the copy
/// ends, and holds no copy of itself.
#[test]
fn the_copy_met_inside_the_source_is_not_entered() {
    let dir = Dir::new();
    dir.mkdir("x/m");
    dir.file("x/f", "f");
    dir.mkdir("y/d");
    let Some(_bind) = Bind::new(
        "copy::the_copy_met_inside_the_source_is_not_entered",
        &dir.join("y"),
        &dir.join("x/m"),
    ) else {
        return;
    };
    let (_, items, errors) = run(&dir.join("x"), &dir.join("y/d/new"), CopyOptions::default());
    assert!(errors.is_empty(), "{errors:#?}");
    let looped: Vec<_> = items
        .iter()
        .filter(|item| item.class == Some(Class::Loop))
        .collect();
    assert_eq!(looped.len(), 1, "{items:#?}");
    assert_eq!(looped[0].link.path, dir.join("x/m/d/new"));
    assert_eq!(looped[0].action, Action::NotEntered);
    assert_eq!(fs::read_to_string(dir.join("y/d/new/f")).unwrap(), "f");
    assert!(
        fs::symlink_metadata(dir.join("y/d/new/m/d"))
            .unwrap()
            .is_dir()
    );
    assert!(!dir.join("y/d/new/m/d/new").exists());
}

/// The file `name` below `dir` holding `data`, its directories made.
fn put(dir: &Dir, name: &str, data: &str) {
    dir.mkdir(Path::new(name).parent().unwrap().to_str().unwrap());
    dir.file(name, data);
}

/// Where `link` (below `src`) leads, as the kernel follows it, seen from the copy: the same
/// place below `dst` where it is inside `src`, else the place itself; `None` for a link
/// that leads nowhere.
fn counterpart(src: &Path, dst: &Path, link: &Path) -> Option<PathBuf> {
    let src_real = fs::canonicalize(src).unwrap();
    let dst_real = fs::canonicalize(dst).unwrap();
    let leads = fs::canonicalize(src.join(link)).ok()?;
    Some(match leads.strip_prefix(&src_real) {
        Ok(rest) if rest.as_os_str().is_empty() => dst_real,
        Ok(rest) => dst_real.join(rest),
        Err(_) => leads,
    })
}

/// A `..` after a link is taken where the kernel takes it: `outl/..` is the parent of
/// where `outl` leads. A target that goes out through such a link is outer (kept leading
/// there, or left out under `--outer skip`), never rewritten into the copy; one that goes
/// through an inner link and back leads to the same place in the copy, in its form.
#[test]
fn dot_dot_after_a_link_is_judged_where_the_kernel_takes_it() {
    let dir = Dir::new();
    let base = dir.real();
    let src = dir.mkdir("c/s");
    dir.mkdir("else/deep");
    put(&dir, "else/b/f", "OUTSIDE");
    put(&dir, "c/s/b/f", "INSIDE");
    dir.mkdir("c/s/sub/deeper");
    put(&dir, "c/s/sub/b/f", "SUB");
    dir.symlink("c/s/outl", base.join("else/deep"));
    dir.symlink("c/s/x", base.join("c/s/outl/../b"));
    dir.symlink("c/s/y", "outl/../b");
    dir.symlink("c/s/ink", "sub/deeper");
    dir.symlink("c/s/z", "ink/../b");
    dir.symlink("c/s/za", base.join("c/s/ink/../b"));
    assert_eq!(fs::read_to_string(src.join("x/f")).unwrap(), "OUTSIDE");
    let dst = base.join("c/d");
    let (_, items, errors) = run(&src, &dst, CopyOptions::default());
    assert!(errors.is_empty(), "{errors:#?}");
    for (below, data, class) in [
        ("x", "OUTSIDE", Class::Outer),
        ("y", "OUTSIDE", Class::Outer),
        ("z", "SUB", Class::Inner),
        ("za", "SUB", Class::Inner),
    ] {
        let copy = dst.join(below);
        let target = fs::read_link(&copy).unwrap();
        assert_eq!(
            fs::read_to_string(copy.join("f")).unwrap(),
            data,
            "{below} -> {target:?}"
        );
        assert_eq!(
            fs::canonicalize(&copy).ok(),
            counterpart(&src, &dst, Path::new(below)),
            "{below} -> {target:?}"
        );
        assert_eq!(item(&items, &src, below).class, Some(class), "{below}");
        // The form is kept.
        assert_eq!(
            target.is_absolute(),
            fs::read_link(src.join(below)).unwrap().is_absolute(),
            "{below} -> {target:?}"
        );
    }
    // An absolute target that went through the source is written as where it leads.
    assert_eq!(fs::read_link(dst.join("x")).unwrap(), base.join("else/b"));

    let options = CopyOptions {
        outer: Outer::Skip,
        ..CopyOptions::default()
    };
    let dst = base.join("c/skip");
    let (_, items, errors) = run(&src, &dst, options);
    assert!(errors.is_empty(), "{errors:#?}");
    for below in ["x", "y", "outl"] {
        assert!(fs::symlink_metadata(dst.join(below)).is_err(), "{below}");
        assert_eq!(item(&items, &src, below).action, Action::Dropped, "{below}");
    }
    assert_eq!(fs::read_to_string(dst.join("z/f")).unwrap(), "SUB");
}

/// A target that names the source by another path (through a link to it) is inner: the
/// copy leads to the same place in the copy, never into the source.
#[test]
fn a_target_naming_the_source_by_another_path_is_inner() {
    let dir = Dir::new();
    let base = dir.real();
    let src = dir.mkdir("s");
    put(&dir, "s/a/f", "a");
    dir.symlink("sother", base.join("s"));
    dir.symlink("s/viaother", base.join("sother/a"));
    dir.symlink("s/relother", "../sother/a");
    let dst = base.join("d");
    let (_, items, errors) = run(&src, &dst, CopyOptions::default());
    assert!(errors.is_empty(), "{errors:#?}");
    for (below, form) in [("viaother", base.join("d/a")), ("relother", "a".into())] {
        assert_eq!(
            item(&items, &src, below).class,
            Some(Class::Inner),
            "{below}"
        );
        assert_eq!(
            item(&items, &src, below).action,
            Action::Rewritten,
            "{below}"
        );
        assert_eq!(fs::read_link(dst.join(below)).unwrap(), form, "{below}");
        assert_eq!(fs::canonicalize(dst.join(below)).unwrap(), base.join("d/a"));
    }
}

/// A source named by a path whose lexical fold is another directory (`x/..` after a link
/// `x`): an absolute target into that other directory is outer, kept leading there.
#[test]
fn a_source_named_through_a_link_and_dot_dot_is_judged_by_its_real_path() {
    let dir = Dir::new();
    let base = dir.real();
    dir.mkdir("q/elsewhere/deep");
    put(&dir, "q/cwd/real/f", "OUT");
    dir.symlink("q/cwd/x", base.join("q/elsewhere/deep"));
    dir.symlink("q/elsewhere/abs", base.join("q/cwd/real"));
    let src = base.join("q/cwd/x/..");
    let dst = base.join("q/out");
    let (_, items, errors) = run(&src, &dst, CopyOptions::default());
    assert!(errors.is_empty(), "{errors:#?}");
    let abs = item(&items, &src, "abs");
    assert_eq!((abs.class, abs.action), (Some(Class::Outer), Action::Kept));
    assert_eq!(
        fs::read_link(dst.join("abs")).unwrap(),
        base.join("q/cwd/real")
    );
    assert_eq!(fs::read_to_string(dst.join("abs/f")).unwrap(), "OUT");
}

/// Over generated trees of links (relative and absolute, through inner and outer links,
/// `..` after them, chains, the source named by another path, an outside link back into
/// the source): every link of the copy leads where its source led, in the copy where
/// that is inside the source, and none leads into the source.
#[test]
fn every_link_of_the_copy_leads_where_its_source_led() {
    const LINKS: usize = 40;
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for round in 0..6 {
        let dir = Dir::new();
        let base = dir.real();
        let src = dir.mkdir("src");
        put(&dir, "src/d0/f", "d0");
        put(&dir, "src/d1/e/f", "e");
        put(&dir, "out/o0/f", "o0");
        put(&dir, "out/o0/p/f", "p");
        dir.symlink("sother", base.join("src"));
        dir.symlink("out/back", base.join("src/d1"));
        dir.symlink("src/outl", base.join("out/o0/p"));
        dir.symlink("src/ink", "d1/e");
        dir.symlink("src/d0/up", "../d1");
        dir.symlink("src/toout", base.join("out/back"));
        let places = ["", "d0", "d1", "d1/e"];
        let mut names: Vec<String> = ["outl", "ink", "up", "toout", "back"]
            .map(String::from)
            .to_vec();
        names.extend(["..", "..", "d0", "d1", "e", "f", "o0", "p"].map(String::from));
        let starts = [
            PathBuf::new(),
            PathBuf::new(),
            base.join("src"),
            base.join("sother"),
            base.join("out"),
            base.clone(),
        ];
        // Each link drawn again until it leads somewhere, but for one in five.
        for i in 0..LINKS {
            let name = format!("l{i}");
            let at = format!("src/{}/{name}", places[next(places.len())]);
            let dangling = next(5) == 0;
            for _ in 0..200 {
                let mut target = starts[next(starts.len())].clone();
                for _ in 0..=next(4) {
                    target.push(&names[next(names.len())]);
                }
                let link = dir.symlink(&at, &target);
                if dangling || fs::metadata(&link).is_ok() {
                    break;
                }
                fs::remove_file(&link).unwrap();
            }
            names.push(name);
        }
        // Half the rounds name the source by the other path.
        let given = if round % 2 == 0 {
            src.clone()
        } else {
            base.join("sother")
        };
        let dst = base.join("dst");
        let (_, items, errors) = run(&given, &dst, CopyOptions::default());
        assert!(errors.is_empty(), "{errors:#?}");
        let src_real = fs::canonicalize(&src).unwrap();
        let mut checked = 0;
        for below in tree(&src) {
            if !fs::symlink_metadata(src.join(&below)).unwrap().is_symlink() {
                continue;
            }
            let Some(want) = counterpart(&src, &dst, &below) else {
                continue;
            };
            let copy = dst.join(&below);
            let got = fs::canonicalize(&copy)
                .unwrap_or_else(|e| panic!("{below:?} -> {:?}: {e}", fs::read_link(&copy)));
            assert_eq!(
                got,
                want,
                "round {round}: {below:?}: {:?} copied as {:?}: {:#?}",
                fs::read_link(src.join(&below)).unwrap(),
                fs::read_link(&copy).unwrap(),
                items.iter().find(|item| item.link.path.ends_with(&below))
            );
            assert!(
                !got.starts_with(&src_real),
                "{below:?} leads into the source"
            );
            checked += 1;
        }
        assert!(
            checked > LINKS / 4,
            "round {round}: only {checked} links lead somewhere"
        );
    }
}
