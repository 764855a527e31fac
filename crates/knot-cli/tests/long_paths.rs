//! Paths longer than `PATH_MAX`: every path `knot scan` prints can be shown,
//! replaced and removed, and links can be made there (DESIGN.md promise 5), so that
//! `knot scan -0 | xargs -0 knot rm` works on any tree.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

use rustix::fs::{Mode, OFlags};

use crate::fixture::{Env, record};

/// `tree/` and 25 directories of 200-byte names below it (a path of about 5,000 bytes),
/// holding a file `f`, a link `up -> ..` and a dangling link `gone`. Built with `*at` calls,
/// as no path call can reach that deep. Returns the deepest directory, relative to `env`.
fn deep_tree(env: &Env) -> PathBuf {
    env.mkdir("tree");
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let mut dir = rustix::fs::open(env.path("tree"), flags, Mode::empty()).unwrap();
    let mut deep = PathBuf::from("tree");
    let name = "d".repeat(200);
    for _ in 0..25 {
        rustix::fs::mkdirat(&dir, name.as_str(), Mode::RWXU).unwrap();
        dir = rustix::fs::openat(&dir, name.as_str(), flags, Mode::empty()).unwrap();
        deep.push(&name);
    }
    let file = OFlags::WRONLY | OFlags::CREATE | OFlags::CLOEXEC;
    drop(rustix::fs::openat(&dir, "f", file, Mode::RUSR).unwrap());
    rustix::fs::symlinkat("..", &dir, "up").unwrap();
    rustix::fs::symlinkat("nowhere", &dir, "gone").unwrap();
    assert!(deep.as_os_str().len() > 4096);
    deep
}

fn nul_paths(bytes: &[u8]) -> Vec<OsString> {
    bytes
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| OsString::from_vec(s.to_vec()))
        .collect()
}

#[test]
fn paths_longer_than_path_max_can_be_shown_linked_and_removed() {
    let env = Env::new();
    let deep = deep_tree(&env);
    let out = env
        .knot(["scan", "-0", "tree"])
        .assert()
        .code(0)
        .get_output()
        .clone();
    let mut found = nul_paths(&out.stdout);
    found.sort();
    assert_eq!(
        found,
        [deep.join("gone").into_os_string(), deep.join("up").into()]
    );

    // show, on each path scan printed.
    let gone = record(env.knot(["show", "--json"]).arg(deep.join("gone")));
    assert_eq!(gone["status"], "dangling");
    assert_eq!(gone["target"], "nowhere");
    assert_eq!(
        gone["path"].as_str().map(str::len),
        Some(deep.join("gone").as_os_str().len())
    );
    let up = record(env.knot(["show", "--json"]).arg(deep.join("up")));
    assert_eq!(
        (up["status"].as_str(), up["dir"].as_bool()),
        (Some("ok"), Some(true))
    );

    // Links made there, and one replaced with --force.
    env.knot(["symlink"])
        .arg(deep.join("new"))
        .arg("f")
        .assert()
        .code(0);
    env.knot(["hardlink"])
        .arg(deep.join("twin"))
        .arg(deep.join("f"))
        .assert()
        .code(0);
    env.knot(["symlink", "--force"])
        .arg(deep.join("new"))
        .arg("up")
        .assert()
        .code(0);
    let new = record(env.knot(["show", "--json"]).arg(deep.join("new")));
    assert_eq!(new["target"], "up");

    // knot scan -0 | xargs -0 knot rm
    let out = env
        .knot(["scan", "-0", "tree"])
        .assert()
        .code(0)
        .get_output()
        .clone();
    let links = nul_paths(&out.stdout);
    assert_eq!(links.len(), 3);
    env.knot(["rm", "-q"]).args(&links).assert().code(0);
    env.knot(["scan", "tree"]).assert().code(0).stdout("");
    // The file and its second name are still there; rm refuses them.
    let twin = record(env.knot(["show", "--json"]).arg(deep.join("twin")));
    assert_eq!(
        (twin["kind"].as_str(), twin["nlink"].as_u64()),
        (Some("hardlink"), Some(2))
    );
    env.knot(["rm"]).arg(deep.join("f")).assert().code(1);
    assert!(deep.join("f").as_os_str().as_bytes().len() > 4096);
}

/// `hardlinks --groups` takes a group's size from the walk's own stat, made relative to
/// the directory that lists the name: a group whose first name is longer than `PATH_MAX`
/// has its size, where a second stat by path could not reach it.
#[test]
fn group_sizes_come_from_the_walk_past_path_max() {
    let env = Env::new();
    let deep = deep_tree(&env);
    env.file("tree/z", "twelve bytes");
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let tree = rustix::fs::open(env.path("tree"), flags, Mode::empty()).unwrap();
    let mut dir = rustix::fs::openat(&tree, ".", flags, Mode::empty()).unwrap();
    for name in deep.iter().skip(1) {
        dir = rustix::fs::openat(&dir, name, flags, Mode::empty()).unwrap();
    }
    rustix::fs::linkat(&tree, "z", &dir, "g", rustix::fs::AtFlags::empty()).unwrap();
    let group = record(&mut env.knot(["hardlinks", "--groups", "tree", "--json"]));
    assert_eq!(group["size"], 12, "{group}");
    assert_eq!(group["found"], 2, "{group}");
    assert_eq!(
        group["names"][0].as_str().map(str::as_bytes),
        Some(deep.join("g").as_os_str().as_bytes())
    );
}
