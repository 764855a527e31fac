//! Black-box tests of `knot du`: its totals against GNU du's on
//! bench/mktree.py trees and on a tree of sparse and hard-linked files, the JSON record's
//! schema, and the exact table on a small tree.

use std::fs;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::Path;
use std::process::Command as Process;

use serde_json::Value;

#[cfg(target_os = "linux")]
use crate::fixture::mktree;
use crate::fixture::{self, Env, record, run};

/// `du ARGS... PATHS...` in `dir`: the first number of each line. GNU du (`-b`, `-B1`):
/// the comparisons with du run on Linux.
#[cfg(target_os = "linux")]
fn gnu_du(dir: &Path, args: &[&str], paths: &[&str]) -> Vec<u64> {
    let out = Process::new("du")
        .args(args)
        .args(paths)
        .current_dir(dir)
        .output()
        .expect("du (coreutils) runs");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| line.split('\t').next().unwrap().parse().unwrap())
        .collect()
}

/// `knot du --json PATHS...` in `env`'s directory, with `extra` arguments.
fn knot_du(env: &Env, extra: &[&str], paths: &[&str]) -> Value {
    record(env.knot(["du", "--json"]).args(extra).args(paths))
}

/// Checks knot's totals, per path and in all, against `du -s -b` and `du -s -B1` (with
/// `-c` for the total over several paths).
#[cfg(target_os = "linux")]
fn agrees_with_du(env: &Env, paths: &[&str]) {
    let dir = env.dir.path();
    let apparent = gnu_du(dir, &["-s", "-b", "-c"], paths);
    let allocated = gnu_du(dir, &["-s", "-B1", "-c"], paths);
    for threads in ["1", "2"] {
        let json = knot_du(env, &["--threads", threads], paths);
        for (i, root) in json["roots"].as_array().unwrap().iter().enumerate() {
            assert_eq!(root["apparent"], apparent[i], "{} apparent", paths[i]);
            assert_eq!(root["allocated"], allocated[i], "{} allocated", paths[i]);
        }
        assert_eq!(json["apparent"], *apparent.last().unwrap());
        assert_eq!(json["allocated"], *allocated.last().unwrap());
        assert_eq!(json["errors"], 0);
    }
}

#[test]
#[cfg(target_os = "linux")]
fn totals_equal_du_on_mktree_trees() {
    let env = Env::new();
    mktree(&env.path("one"), 4000, 3);
    mktree(&env.path("two"), 2000, 5);
    agrees_with_du(&env, &["one"]);
    // Several paths: a line each and the total (du -c).
    agrees_with_du(&env, &["one", "two"]);
    let json = knot_du(&env, &[], &["one"]);
    // mktree.py makes hard links: every one of them is inside the tree.
    assert!(json["groups"]["saturated"]["groups"].as_u64().unwrap() > 0);
    assert_eq!(json["groups"]["unsaturated"]["groups"], 0);
    assert_eq!(json["freed"]["apparent"], json["apparent"]);
}

/// A tree of sparse files and hard links with names inside and outside it, and two trees
/// that share a file.
fn sparse_and_linked() -> Env {
    let env = Env::new();
    env.mkdir("tree/sub");
    env.mkdir("other");
    // 64 MiB apparent, one block allocated.
    let sparse = fs::File::create(env.path("tree/sparse")).unwrap();
    sparse.set_len(64 << 20).unwrap();
    drop(sparse);
    let holes = fs::File::create(env.path("tree/sub/holes")).unwrap();
    holes.set_len(1 << 20).unwrap();
    std::io::Write::write_all(&mut &holes, b"data at the start").unwrap();
    drop(holes);
    env.file("tree/inside", &"i".repeat(5000));
    fs::hard_link(env.path("tree/inside"), env.path("tree/sub/inside2")).unwrap();
    env.file("tree/shared", &"s".repeat(9000));
    fs::hard_link(env.path("tree/shared"), env.path("other/shared")).unwrap();
    fs::hard_link(env.path("tree/sparse"), env.path("other/sparse")).unwrap();
    env
}

#[test]
#[cfg(target_os = "linux")]
fn totals_equal_du_with_sparse_files_and_hard_links() {
    let env = sparse_and_linked();
    agrees_with_du(&env, &["tree"]);
    agrees_with_du(&env, &["tree", "other"]);
    agrees_with_du(&env, &["other", "tree"]);

    let size = |name: &str| fs::symlink_metadata(env.path(name)).unwrap();
    let json = knot_du(&env, &[], &["tree"]);
    let saturated = &json["groups"]["saturated"];
    assert_eq!(saturated["groups"], 1);
    assert_eq!(saturated["names"], 2);
    assert_eq!(saturated["apparent"], 5000);
    let unsaturated = &json["groups"]["unsaturated"];
    assert_eq!(unsaturated["groups"], 2);
    assert_eq!(unsaturated["names"], 2);
    assert_eq!(unsaturated["outside"], 2);
    assert_eq!(unsaturated["apparent"], 9000 + (64 << 20));
    let kept_blocks = (size("tree/shared").blocks() + size("tree/sparse").blocks()) * 512;
    assert_eq!(
        json["freed"]["apparent"],
        json["apparent"].as_u64().unwrap() - 9000 - (64 << 20)
    );
    assert_eq!(
        json["freed"]["allocated"],
        json["allocated"].as_u64().unwrap() - kept_blocks
    );

    // Both trees: every group saturated, each file counted once, under the first path.
    let json = knot_du(&env, &[], &["tree", "other"]);
    assert_eq!(json["groups"]["saturated"]["groups"], 3);
    assert_eq!(json["groups"]["unsaturated"]["groups"], 0);
    assert_eq!(json["freed"]["apparent"], json["apparent"]);
    let other = &json["roots"][1];
    assert_eq!(other["apparent"], size("other").size());
}

#[test]
fn the_json_record_has_the_documented_fields_and_numbers() {
    let env = sparse_and_linked();
    let json = knot_du(&env, &[], &["tree"]);
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "roots",
            "items",
            "apparent",
            "allocated",
            "kinds",
            "reparse",
            "groups",
            "freed",
            "errors"
        ]
    );
    let kinds: Vec<&str> = json["kinds"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        kinds,
        [
            "files",
            "hardlinked_files",
            "dirs",
            "file_symlinks",
            "dir_symlinks",
            "junctions",
            "mount_points",
            "broken_links",
            "other"
        ]
    );
    for count in json["kinds"].as_object().unwrap().values() {
        for field in ["items", "apparent", "allocated"] {
            assert!(count[field].is_u64(), "{field} in {count}");
        }
    }
    assert_eq!(json["kinds"]["hardlinked_files"]["items"], 4);
    assert_eq!(json["kinds"]["files"]["items"], 1);
    assert_eq!(json["kinds"]["dirs"]["items"], 2);
    assert_eq!(json["items"], 7);
    assert_eq!(json["roots"][0]["path"], "tree");
    assert_eq!(json["reparse"], Value::Array(Vec::new()));
}

#[test]
#[cfg_attr(target_os = "macos", ignore = "APFS refuses a name that is not UTF-8")]
fn a_name_that_is_not_utf8_round_trips_in_json() {
    use std::os::unix::ffi::OsStrExt;
    let env = Env::new();
    let name = std::ffi::OsStr::from_bytes(b"bad-\xff");
    fs::create_dir(env.dir.path().join(name)).unwrap();
    let json = record(env.knot(["du", "--json"]).arg(name));
    assert_eq!(json["roots"][0]["path"]["bytes"], "YmFkLf8=");
}

/// The sizes of `names` below `dir` as lstat gives them: (apparent, allocated).
fn sizes(dir: &Path, names: &[&str]) -> (u64, u64) {
    names.iter().fold((0, 0), |(a, b), name| {
        let meta = fs::symlink_metadata(dir.join(name)).unwrap();
        (a + meta.size(), b + meta.blocks() * 512)
    })
}

#[test]
fn the_table_of_a_small_tree() {
    let env = Env::new();
    env.mkdir("tree/a");
    env.file("tree/f", "12345");
    env.file("tree/a/h1", "abc");
    fs::hard_link(env.path("tree/a/h1"), env.path("tree/h2")).unwrap();
    symlink("f", env.path("tree/l")).unwrap();
    symlink("a", env.path("tree/dl")).unwrap();
    symlink("nowhere", env.path("tree/gone")).unwrap();
    let fifo = Process::new("mkfifo")
        .arg(env.path("tree/pipe"))
        .status()
        .unwrap();
    assert!(fifo.success());
    let dir = env.dir.path();
    let row = |label: &str, items: u64, (apparent, allocated): (u64, u64)| {
        format!("{label:<18}  {items:>10}  {apparent:>16}  {allocated:>16}\n")
    };
    let header = |label: &str| {
        format!(
            "{label:<18}  {:>10}  {:>16}  {:>16}\n",
            "items", "apparent", "allocated"
        )
    };
    let dirs = sizes(dir, &["tree", "tree/a"]);
    let hard = sizes(dir, &["tree/a/h1"]);
    let all = sizes(
        dir,
        &[
            "tree",
            "tree/a",
            "tree/f",
            "tree/a/h1",
            "tree/l",
            "tree/dl",
            "tree/gone",
            "tree/pipe",
        ],
    );
    let expected = [
        header("path"),
        row("tree", 9, all),
        "\n".to_owned(),
        header("kind"),
        row("files", 1, sizes(dir, &["tree/f"])),
        row("hard-linked files", 2, hard),
        row("directories", 2, dirs),
        row("file symlinks", 1, sizes(dir, &["tree/l"])),
        row("directory symlinks", 1, sizes(dir, &["tree/dl"])),
        row("junctions", 0, (0, 0)),
        row("mount points", 0, (0, 0)),
        row("broken links", 1, sizes(dir, &["tree/gone"])),
        row("other", 1, sizes(dir, &["tree/pipe"])),
        row("total", 9, all),
        "\n".to_owned(),
        format!(
            "hard-link groups: 1 saturated (2 names, 3 bytes apparent, {} allocated)\n",
            hard.1
        ),
        "                  0 unsaturated (0 names inside, 0 outside, 0 bytes apparent, 0 allocated)\n"
            .to_owned(),
        format!(
            "removing it frees: {} bytes apparent, {} allocated\n",
            all.0, all.1
        ),
    ]
    .concat();
    run(&mut env.knot(["du", "tree"]), 0, &expected, "");
    // Piped standard error: no progress line, whatever the time taken.
    run(
        &mut env.knot(["du", "--threads", "1", "tree"]),
        0,
        &expected,
        "",
    );
}

#[test]
fn a_path_that_is_a_link_is_counted_as_the_link() {
    let env = Env::new();
    env.mkdir("tree");
    env.file("tree/big", &"b".repeat(10_000));
    symlink("tree", env.path("link")).unwrap();
    let json = knot_du(&env, &[], &["link"]);
    assert_eq!(json["items"], 1);
    assert_eq!(json["kinds"]["dir_symlinks"]["items"], 1);
    #[cfg(target_os = "linux")]
    agrees_with_du(&env, &["link"]);
}

#[test]
fn a_missing_path_is_an_error_that_names_it_and_exits_1() {
    let env = Env::new();
    env.mkdir("tree");
    let out = fixture::output(&mut env.knot(["du", "--json", "tree", "missing"]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "knot: cannot scan 'missing': it does not exist\nknot: hint: check the path: there is nothing called 'missing' in '.'\n"
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["errors"], 1);
    // A root that could not be read has no line, as with du: its error says why.
    assert_eq!(json["roots"].as_array().map(Vec::len), Some(1), "{json}");
    assert_eq!(json["roots"][0]["path"], "tree");
}

/// Roots that are no directories, as du takes them: a FIFO or a device is counted (one
/// item, no bytes); a link to nothing with a slash after it names nothing (an error, exit
/// 1); and where no root could be read, the errors are all that is printed.
#[test]
fn roots_that_are_no_directories_are_taken_as_du_takes_them() {
    let env = Env::new();
    let fifo = env.path("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    std::os::unix::fs::symlink("gone", env.path("dl")).unwrap();
    for root in ["fifo", "/dev/null"] {
        let out = fixture::output(&mut env.knot(["du", "--json", root]));
        assert_eq!(out.status.code(), Some(0), "{root}: {out:?}");
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["roots"][0]["items"], 1, "{root}: {json}");
        assert_eq!(json["roots"][0]["apparent"], 0, "{root}: {json}");
        assert_eq!(json["kinds"]["other"]["items"], 1, "{root}: {json}");
    }
    for (args, stderr) in [
        (
            &["du", "dl/"][..],
            "knot: cannot scan 'dl/': 'dl' is a link, and the trailing slash leads through it to \
             what it points at\nknot: hint: to see the link itself, leave off the slash: knot show dl\n",
        ),
        (
            &["du", "missing"],
            "knot: cannot scan 'missing': it does not exist\nknot: hint: check the path: there is nothing called 'missing' in '.'\n",
        ),
        (
            &["du", "--json", "missing"],
            "knot: cannot scan 'missing': it does not exist\nknot: hint: check the path: there is nothing called 'missing' in '.'\n",
        ),
    ] {
        let out = fixture::output(&mut env.knot(args));
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), stderr, "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
    }
    // The link itself, without the slash, is a broken link.
    let out = fixture::output(&mut env.knot(["du", "--json", "dl"]));
    assert_eq!(out.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["kinds"]["broken_links"]["items"], 1, "{json}");
}

/// A tmpfs mounted on `tree/mnt`, holding one file: `--xdev` does not count it, and without
/// it the file is counted.
#[cfg(target_os = "linux")]
#[test]
fn xdev_counts_the_root_file_system_only() {
    let env = Env::new();
    env.mkdir("tree/mnt");
    env.file("tree/a", "12345");
    let Some(_mounted) = fixture::tmpfs(
        "xdev_counts_the_root_file_system_only",
        &env.path("tree/mnt"),
    ) else {
        return;
    };
    env.file("tree/mnt/b", "1234567");
    let crossed = record(&mut env.knot(["du", "--json", "tree"]));
    assert_eq!(crossed["kinds"]["files"]["items"], 2, "{crossed}");
    assert_eq!(crossed["kinds"]["files"]["apparent"], 12, "{crossed}");
    assert_eq!(crossed["errors"], 0);
    let stayed = record(&mut env.knot(["du", "--json", "--xdev", "tree"]));
    assert_eq!(stayed["kinds"]["files"]["items"], 1, "{stayed}");
    assert_eq!(stayed["kinds"]["files"]["apparent"], 5, "{stayed}");
    assert_eq!(stayed["errors"], 0);
    // The mount point given as a root of its own is counted there, as `du -x` counts it:
    // left out of the first root's walk, it was not counted under it.
    let both = record(&mut env.knot(["du", "--json", "--xdev", "tree", "tree/mnt"]));
    let roots = both["roots"].as_array().unwrap();
    assert_eq!(roots.len(), 2, "{both}");
    assert_eq!(roots[1]["path"], "tree/mnt", "{both}");
    assert_eq!(both["kinds"]["files"]["items"], 2, "{both}");
}

/// Roots that overlap count every entry once, under the first root it is found under, as
/// du counts its arguments: each root's line and the total equal `du -s -b -c`'s for the
/// same arguments in the same order, and a hard-linked file's names are counted once each.
#[test]
#[cfg(target_os = "linux")]
fn overlapping_roots_count_every_entry_once_as_du_does() {
    let env = Env::new();
    env.mkdir("t/sub");
    env.file("t/sub/f", &"f".repeat(5000));
    env.file("t/x", &"x".repeat(3000));
    std::os::unix::fs::symlink("x", env.path("t/l")).unwrap();
    fs::hard_link(env.path("t/sub/f"), env.path("t/g")).unwrap();
    for args in [
        &["t", "t"][..],
        &["t", "t/sub"],
        &["t/sub", "t"],
        &["t/sub", "t/sub"],
    ] {
        let gnu = std::process::Command::new("du")
            .args(["-s", "-b", "-c"])
            .args(args)
            .current_dir(env.dir.path())
            .output()
            .unwrap();
        assert!(gnu.status.success(), "{gnu:?}");
        let gnu: Vec<(String, u64)> = String::from_utf8_lossy(&gnu.stdout)
            .lines()
            .map(|line| {
                let (bytes, path) = line.split_once('\t').unwrap();
                (path.to_owned(), bytes.parse().unwrap())
            })
            .collect();
        let out = fixture::output(env.knot(["du", "--json"]).args(args));
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut knot: Vec<(String, u64)> = json["roots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|root| {
                let path = root["path"].as_str().unwrap().to_owned();
                (path, root["apparent"].as_u64().unwrap())
            })
            .collect();
        knot.push(("total".to_owned(), json["apparent"].as_u64().unwrap()));
        assert_eq!(knot, gnu, "{args:?}");
        // f and g are one file with two names: one group, each name counted once; both
        // names are below `t`, and only f below `t/sub`.
        let groups = &json["groups"];
        let (saturated, unsaturated) = if args.contains(&"t") { (1, 0) } else { (0, 1) };
        assert_eq!(groups["saturated"]["groups"], saturated, "{args:?}: {json}");
        assert_eq!(
            groups["unsaturated"]["groups"], unsaturated,
            "{args:?}: {json}"
        );
        let names = if args.contains(&"t") {
            &groups["saturated"]["names"]
        } else {
            &groups["unsaturated"]["names"]
        };
        assert_eq!(
            *names,
            if args.contains(&"t") { 2 } else { 1 },
            "{args:?}: {json}"
        );
    }
}
