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
use crate::fixture::{self, Env, record, records, run};

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
            "copied",
            "errors"
        ]
    );
    let root: Vec<&str> = json["roots"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        root,
        [
            "path",
            "items",
            "apparent",
            "allocated",
            "freed_apparent",
            "freed_allocated",
            "copied_apparent",
            "copied_allocated"
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
        // h1 and h2 are one file: a copy without hard links has it twice.
        format!(
            "copied without hard links: {} bytes apparent, {} allocated\n",
            all.0 + hard.0,
            all.1 + hard.1
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

/// `du -l -s -b` and `du -l -s -B1` (with `-c` over several paths): every name's bytes,
/// a file with several names once per name.
#[cfg(target_os = "linux")]
#[test]
fn the_copied_figure_is_what_du_l_counts() {
    let env = sparse_and_linked();
    mktree(&env.path("mk"), 2000, 7);
    let dir = env.dir.path();
    for paths in [&["tree"][..], &["other"], &["tree", "other"], &["mk"]] {
        let apparent = gnu_du(dir, &["-l", "-s", "-b", "-c"], paths);
        let allocated = gnu_du(dir, &["-l", "-s", "-B1", "-c"], paths);
        for threads in ["1", "2"] {
            let json = knot_du(&env, &["--threads", threads], paths);
            for (i, root) in json["roots"].as_array().unwrap().iter().enumerate() {
                assert_eq!(root["copied_apparent"], apparent[i], "{paths:?} {i}");
                assert_eq!(root["copied_allocated"], allocated[i], "{paths:?} {i}");
            }
            assert_eq!(json["copied"]["apparent"], *apparent.last().unwrap());
            assert_eq!(json["copied"]["allocated"], *allocated.last().unwrap());
        }
    }
    // tree/inside has two names in tree: counted twice, where the true size has it once.
    let json = knot_du(&env, &[], &["tree"]);
    assert_eq!(
        json["copied"]["apparent"].as_u64().unwrap(),
        json["apparent"].as_u64().unwrap() + 5000
    );
}

/// File sizes around every rounding edge of du -h and du --si, as sparse files.
#[cfg(target_os = "linux")]
const SIZES: [u64; 27] = [
    0,
    1,
    999,
    1000,
    1001,
    1023,
    1024,
    1025,
    1536,
    9999,
    10239,
    10240,
    10241,
    99999,
    999_499,
    999_500,
    999_999,
    1_000_000,
    1_048_575,
    1_048_576,
    1_048_577,
    10_485_759,
    10_485_760,
    12 << 30,
    (12 << 30) + 1,
    (1 << 40) - 1,
    5 << 40,
];

/// A directory of sparse files of `SIZES`, and a file with data, so that the allocated
/// sizes are not all 0.
#[cfg(target_os = "linux")]
fn sized_files(env: &Env) {
    env.mkdir("sized/sub");
    for size in SIZES {
        let file = fs::File::create(env.path(&format!("sized/f{size}"))).unwrap();
        file.set_len(size).unwrap();
    }
    env.file("sized/sub/data", &"d".repeat(300_000));
}

/// `du ARGS... PATH` in `dir`: each line's size as du prints it, by path.
#[cfg(target_os = "linux")]
fn gnu_du_lines(dir: &Path, args: &[&str], path: &str) -> Vec<(String, String)> {
    let out = Process::new("du")
        .args(args)
        .arg(path)
        .current_dir(dir)
        .output()
        .expect("du (coreutils) runs");
    assert!(out.status.success(), "{out:?}");
    let mut lines: Vec<(String, String)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let (size, path) = line.split_once('\t').unwrap();
            (path.to_owned(), size.to_owned())
        })
        .collect();
    lines.sort();
    lines
}

/// `knot du ARGS...`'s listing: (path, apparent, allocated) as printed, sorted by path,
/// after checking the heading.
#[cfg(target_os = "linux")]
fn knot_lines(env: &Env, args: &[&str]) -> Vec<(String, String, String)> {
    let out = fixture::output(&mut env.knot(["du"].iter().chain(args)));
    assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let heading: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(heading, ["apparent", "allocated", "path"], "{text}");
    let mut lines: Vec<(String, String, String)> = lines
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(fields.len(), 3, "{line}");
            (
                fields[2].to_owned(),
                fields[0].to_owned(),
                fields[1].to_owned(),
            )
        })
        .collect();
    lines.sort();
    lines
}

/// -h and --si print sizes as du -h and du --si print them, apparent (`--apparent-size`)
/// and allocated, at every rounding edge.
#[cfg(target_os = "linux")]
#[test]
fn human_sizes_are_du_h_sizes() {
    let env = Env::new();
    sized_files(&env);
    let dir = env.dir.path();
    for (flag, du_flag) in [("-h", "-h"), ("--human", "-h"), ("--si", "--si")] {
        let knot = knot_lines(&env, &["--depth", "1", flag, "sized"]);
        let apparent = gnu_du_lines(dir, &["-a", "-d", "1", du_flag, "--apparent-size"], "sized");
        let allocated = gnu_du_lines(dir, &["-a", "-d", "1", du_flag], "sized");
        assert_eq!(knot.len(), SIZES.len() + 2, "{knot:?}");
        let knot_apparent: Vec<(String, String)> = knot
            .iter()
            .map(|(p, a, _)| (p.clone(), a.clone()))
            .collect();
        let knot_allocated: Vec<(String, String)> = knot
            .iter()
            .map(|(p, _, b)| (p.clone(), b.clone()))
            .collect();
        assert_eq!(knot_apparent, apparent, "{flag}");
        assert_eq!(knot_allocated, allocated, "{flag}");
    }
    // Known sizes, whatever du says.
    let knot = knot_lines(&env, &["--depth", "1", "-h", "sized"]);
    let si = knot_lines(&env, &["--depth", "1", "--si", "sized"]);
    let apparent = |lines: &[(String, String, String)], size: u64| {
        let path = format!("sized/f{size}");
        lines.iter().find(|line| line.0 == path).unwrap().1.clone()
    };
    for (size, h, s) in [
        (0, "0", "0"),
        (999, "999", "999"),
        (1000, "1000", "1.0k"),
        (1023, "1023", "1.1k"),
        (1024, "1.0K", "1.1k"),
        (1025, "1.1K", "1.1k"),
        (1536, "1.5K", "1.6k"),
        (10239, "10K", "11k"),
        (10241, "11K", "11k"),
        (999_500, "977K", "1.0M"),
        (1_048_575, "1.0M", "1.1M"),
        (1_048_577, "1.1M", "1.1M"),
        (10_485_760, "10M", "11M"),
        (12 << 30, "12G", "13G"),
        ((12 << 30) + 1, "13G", "13G"),
        ((1 << 40) - 1, "1.0T", "1.1T"),
        (5 << 40, "5.0T", "5.5T"),
    ] {
        assert_eq!(apparent(&knot, size), h, "-h {size}");
        assert_eq!(apparent(&si, size), s, "--si {size}");
    }
    // Bytes stay exact without -h, and in JSON with it.
    let exact = knot_lines(&env, &["--depth", "1", "sized"]);
    assert_eq!(apparent(&exact, 1_048_575), "1048575");
    let json = records(&mut env.knot(["du", "--json", "-h", "--depth", "0", "sized"]));
    assert!(json[0]["apparent"].as_u64().unwrap() > 5 << 40, "{json:?}");
}

/// The table with -h: every byte figure for people, items still counted.
#[test]
fn the_table_with_human_sizes() {
    let env = Env::new();
    env.mkdir("tree");
    env.file("tree/a", &"a".repeat(3000));
    fs::hard_link(env.path("tree/a"), env.path("tree/b")).unwrap();
    let out = fixture::output(&mut env.knot(["du", "-h", "tree"]));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let row = text
        .lines()
        .find(|line| line.starts_with("hard-linked files"))
        .unwrap();
    let fields: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(fields[2..4], ["2", "3.0K"], "{text}");
    assert!(
        text.contains("hard-link groups: 1 saturated (2 names, 3.0K apparent, "),
        "{text}"
    );
    assert!(text.contains("\ncopied without hard links: "), "{text}");
    assert!(!text.contains("bytes"), "{text}");
}

/// -h is --human for du, as in du; help is --help (and `knot help du`); -h with --si is
/// a usage error.
#[test]
fn dash_h_is_human_and_help_is_long_only() {
    let env = Env::new();
    env.mkdir("tree");
    let out = fixture::output(&mut env.knot(["du", "-h", "tree"]));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("path "));
    for args in [&["du", "--help"][..], &["help", "du"]] {
        let out = fixture::output(&mut env.knot(args));
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("  -h, --human"), "{help}");
        assert!(help.contains("      --help"), "{help}");
        assert!(help.contains("--depth <N>"), "{help}");
    }
    let out = fixture::output(&mut env.knot(["du", "-h", "--si", "tree"]));
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    // Every other command keeps -h for help.
    let out = fixture::output(&mut env.knot(["scan", "-h"]));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: knot scan"));
}

/// `knot du --depth N --json`'s records: (path, record), sorted by path.
fn depth_records(env: &Env, args: &[&str]) -> Vec<(std::ffi::OsString, Value)> {
    records(&mut env.knot(["du", "--json", "--depth"].iter().chain(args)))
        .into_iter()
        .map(|record| {
            let path: std::ffi::OsString =
                knot_names::json::serde_name::deserialize(record["path"].clone()).unwrap();
            (path, record)
        })
        .collect()
}

/// Every name below `root` (itself included), not following links.
#[cfg(target_os = "linux")]
fn every_name(root: &Path) -> Vec<std::path::PathBuf> {
    let mut names = vec![root.to_path_buf()];
    let mut i = 0;
    while i < names.len() {
        if fs::symlink_metadata(&names[i]).unwrap().is_dir() {
            let mut below: Vec<_> = fs::read_dir(&names[i])
                .unwrap()
                .map(|entry| entry.unwrap().path())
                .collect();
            below.sort();
            names.extend(below);
        }
        i += 1;
    }
    names
}

/// Removes every name of a file of several names that is not in the directory of its
/// first name: then no file has names in two directories.
#[cfg(target_os = "linux")]
fn keep_hard_links_within_one_directory(root: &Path) {
    let mut groups: std::collections::BTreeMap<(u64, u64), Vec<std::path::PathBuf>> =
        std::collections::BTreeMap::new();
    for name in every_name(root) {
        let meta = fs::symlink_metadata(&name).unwrap();
        if !meta.is_dir() && meta.nlink() > 1 {
            groups
                .entry((meta.dev(), meta.ino()))
                .or_default()
                .push(name);
        }
    }
    let mut within = 0;
    for names in groups.values() {
        let parent = names[0].parent().unwrap();
        for name in &names[1..] {
            if name.parent().unwrap() == parent {
                within += 1;
            } else {
                fs::remove_file(name).unwrap();
            }
        }
    }
    assert!(within > 0, "some hard links stay, within a directory");
}

/// `du ARGS... PATH` in `dir`: (path, bytes) of each line, sorted by path.
#[cfg(target_os = "linux")]
fn gnu_du_bytes(dir: &Path, args: &[&str], path: &str) -> Vec<(std::ffi::OsString, u64)> {
    use std::os::unix::ffi::OsStrExt;
    let out = Process::new("du")
        .args(args)
        .arg(path)
        .current_dir(dir)
        .output()
        .expect("du (coreutils) runs");
    assert!(out.status.success(), "{out:?}");
    let mut lines: Vec<(std::ffi::OsString, u64)> = out
        .stdout
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| {
            let tab = line.iter().position(|&b| b == b'\t').unwrap();
            let size = std::str::from_utf8(&line[..tab]).unwrap().parse().unwrap();
            (
                std::ffi::OsStr::from_bytes(&line[tab + 1..]).to_owned(),
                size,
            )
        })
        .collect();
    lines.sort();
    lines
}

/// On a mktree.py tree whose files have names in one directory only, the directories'
/// lines of --depth N are `du -d N -b`'s and `du -d N -B1`'s, and every line of a file
/// with one name is `du -a -d N`'s, on one thread or two.
#[cfg(target_os = "linux")]
#[test]
fn depth_agrees_with_du_d() {
    let env = Env::new();
    mktree(&env.path("mk"), 3000, 11);
    keep_hard_links_within_one_directory(&env.path("mk"));
    let dir = env.dir.path();
    let several = |path: &std::ffi::OsStr| {
        let meta = fs::symlink_metadata(dir.join(path)).unwrap();
        !meta.is_dir() && meta.nlink() > 1
    };
    for depth in [0, 1, 2, 3] {
        let n = depth.to_string();
        let dirs_apparent = gnu_du_bytes(dir, &["-d", &n, "-b"], "mk");
        let dirs_allocated = gnu_du_bytes(dir, &["-d", &n, "-B1"], "mk");
        let all_apparent = gnu_du_bytes(dir, &["-a", "-d", &n, "-b"], "mk");
        let all_allocated = gnu_du_bytes(dir, &["-a", "-d", &n, "-B1"], "mk");
        assert!(dirs_apparent.len() > 1 || depth == 0);
        for threads in ["1", "2"] {
            let knot = depth_records(&env, &[&n, "--threads", threads, "mk"]);
            let pick = |dirs: bool, field: &str| -> Vec<(std::ffi::OsString, u64)> {
                knot.iter()
                    .filter(|(path, record)| {
                        if dirs {
                            record["dir"] == true
                        } else {
                            !several(path)
                        }
                    })
                    .map(|(path, record)| (path.clone(), record[field].as_u64().unwrap()))
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect()
            };
            let without_several = |lines: &[(std::ffi::OsString, u64)]| {
                lines
                    .iter()
                    .filter(|(path, _)| !several(path))
                    .cloned()
                    .collect::<Vec<_>>()
            };
            let what = format!("--depth {depth} --threads {threads}");
            assert_eq!(pick(true, "apparent"), dirs_apparent, "{what}");
            assert_eq!(pick(true, "allocated"), dirs_allocated, "{what}");
            assert_eq!(
                pick(false, "apparent"),
                without_several(&all_apparent),
                "{what}"
            );
            assert_eq!(
                pick(false, "allocated"),
                without_several(&all_allocated),
                "{what}"
            );
            for (path, record) in &knot {
                assert_eq!(
                    record["depth"].as_u64().unwrap() as usize,
                    Path::new(path).components().count() - 1,
                    "{what}: {record}"
                );
            }
        }
    }
}

/// A file with names in three directories is counted once, under the name whose path
/// sorts first, on any number of threads; its other names have no line. Many such files,
/// their first names met first or last by the walk.
#[test]
fn a_file_of_several_names_counts_under_its_first_path() {
    let env = Env::new();
    for d in ["t/a", "t/b", "t/c/deep"] {
        env.mkdir(d);
    }
    for i in 0..30 {
        let size = 10_000 + i * 100;
        // The first name is in a, b or c by turns: a walk's own order cannot match it.
        let homes = ["a", "b", "c/deep"];
        let names: Vec<String> = (0..3)
            .map(|j| format!("t/{}/n{i:02}-{j}", homes[(i + j) % 3]))
            .collect();
        env.file(&names[0], &"x".repeat(size));
        for name in &names[1..] {
            fs::hard_link(env.path(&names[0]), env.path(name)).unwrap();
        }
    }
    let data = |i: usize| (10_000 + i * 100) as u64;
    let dir_size = |name: &str| fs::symlink_metadata(env.path(name)).unwrap().size();
    // Under a: every file whose name in a sorts first of its three, i.e. all of them
    // (t/a < t/b < t/c).
    let expected_a: u64 = (0..30).map(data).sum::<u64>() + dir_size("t/a");
    for threads in ["1", "2"] {
        let lines = depth_records(&env, &["1", "--threads", threads, "t"]);
        let size = |path: &str| {
            lines
                .iter()
                .find(|(p, _)| p == path)
                .map(|(_, r)| r["apparent"].as_u64().unwrap())
        };
        assert_eq!(size("t/a"), Some(expected_a), "{lines:?}");
        assert_eq!(size("t/b"), Some(dir_size("t/b")), "{lines:?}");
        assert_eq!(size("t/c"), Some(dir_size("t/c") + dir_size("t/c/deep")));
        // Items count every name.
        let items = |path: &str| lines.iter().find(|(p, _)| p == path).unwrap().1["items"].clone();
        assert_eq!(items("t/a"), 31);
        assert_eq!(items("t/b"), 31);
        assert_eq!(items("t/c"), 32);
        // One level down: each file's line is its name in a; the names in b and c have none.
        let lines = depth_records(&env, &["2", "--threads", threads, "t"]);
        for i in 0..30 {
            let first = format!("t/a/n{i:02}-{}", (3 - i % 3) % 3);
            let line = lines.iter().find(|(p, _)| *p == *first);
            assert_eq!(
                line.map(|(_, r)| r["apparent"].as_u64().unwrap()),
                Some(data(i)),
                "{first}"
            );
        }
        assert!(
            !lines.iter().any(|(p, _)| {
                let p = p.to_string_lossy();
                p.starts_with("t/b/") || p.starts_with("t/c/deep/")
            }),
            "{lines:?}"
        );
    }
    // With a second root, a file is counted under the first root that holds a name of it.
    let lines = depth_records(&env, &["0", "t/c", "t"]);
    let total = |path: &str| lines.iter().find(|(p, _)| p == path).unwrap().1["apparent"].clone();
    assert_eq!(
        total("t/c"),
        (0..30).map(data).sum::<u64>() + dir_size("t/c") + dir_size("t/c/deep")
    );
    assert_eq!(
        total("t"),
        dir_size("t") + dir_size("t/a") + dir_size("t/b")
    );
}

/// The listing is sorted largest first, by allocated bytes, then apparent bytes, then
/// path; --json has the same order, one record per line with the documented fields.
#[test]
fn the_listing_is_sorted_largest_first() {
    let env = Env::new();
    env.mkdir("s/e");
    env.file("s/a", &"a".repeat(20_000));
    env.file("s/b", &"b".repeat(20_100));
    env.file("s/c", &"c".repeat(20_000));
    env.file("s/d", &"d".repeat(200_000));
    env.file("s/e/big", &"e".repeat(100_000));
    env.file("s/f", "f");
    let lines: Vec<String> = knot_lines_in_order(&env, &["--depth", "1", "s"]);
    assert_eq!(lines, ["s", "s/d", "s/e", "s/b", "s/a", "s/c", "s/f"]);
    let json = records(&mut env.knot(["du", "--json", "--depth", "1", "s"]));
    let paths: Vec<&str> = json.iter().map(|r| r["path"].as_str().unwrap()).collect();
    assert_eq!(paths, lines);
    for record in &json {
        let keys: Vec<&str> = record
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            ["path", "depth", "dir", "items", "apparent", "allocated"]
        );
    }
    assert_eq!(json[0]["depth"], 0);
    assert_eq!(json[0]["dir"], true);
    assert_eq!(json[0]["items"], 8);
    assert_eq!(json[1]["depth"], 1);
    assert_eq!(json[1]["dir"], false);
    assert_eq!(json[1]["apparent"], 200_000);
    assert_eq!(json[2]["items"], 2);
}

/// The paths of `knot du ARGS...`'s listing, in the order printed.
fn knot_lines_in_order(env: &Env, args: &[&str]) -> Vec<String> {
    let out = fixture::output(&mut env.knot(["du"].iter().chain(args)));
    assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().nth(2).unwrap().to_owned())
        .collect()
}
