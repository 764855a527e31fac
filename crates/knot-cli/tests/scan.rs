//! Black-box tests of `knot scan`: exact output on small hand-made trees, exit
//! codes, and the robustness cases that need a separate process (dropped privileges, a
//! mount).

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::process::Command as Process;

#[cfg(target_os = "linux")]
use crate::fixture::mktree;
use crate::fixture::{self, Env, as_nobody, records, run};

/// Links in the scan tests' trees.
trait Links {
    fn link(&self, name: impl AsRef<OsStr>, target: impl AsRef<OsStr>);
}

impl Links for Env {
    fn link(&self, name: impl AsRef<OsStr>, target: impl AsRef<OsStr>) {
        symlink(target.as_ref(), self.dir.path().join(name.as_ref())).unwrap();
    }
}

/// The small tree, under `tree/`, that most tests scan.
fn sample() -> Env {
    let env = Env::new();
    env.mkdir("tree/a/sub");
    env.file("tree/f", "x");
    env.file("tree/a/sub/g", "x");
    env.link("tree/a/l1", "../f");
    env.link("tree/a/long-name", "sub/g");
    env.link("tree/b", "a");
    env.link("tree/gone", "nowhere");
    env.link("tree/a/sub/spin", "spin");
    env
}

/// Arrows line up over a window of records, whatever their directories.
#[test]
fn sorted_human_output_lines_up_across_directories() {
    let env = sample();
    run(
        &mut env.knot(["scan", "--sort", "tree"]),
        0,
        "tree/a/l1        -> ../f\n\
         tree/a/long-name -> sub/g\n\
         tree/a/sub/spin  -> spin  [loop]\n\
         tree/b           -> a\n\
         tree/gone        -> nowhere  [dangling]\n",
        "",
    );
}

#[test]
fn broken_shows_the_status() {
    let env = sample();
    run(
        &mut env.knot(["scan", "--broken", "--sort", "tree"]),
        0,
        "tree/a/sub/spin -> spin  [loop]\n\
         tree/gone       -> nowhere  [dangling]\n",
        "",
    );
}

#[test]
fn the_default_root_is_the_current_directory() {
    let env = Env::new();
    env.link("l", "t");
    run(&mut env.knot(["scan"]), 0, "./l -> t  [dangling]\n", "");
}

#[test]
fn several_roots_nul_output() {
    let env = sample();
    run(
        &mut env.knot(["scan", "-0", "--sort", "tree/a", "tree/b"]),
        0,
        "tree/a/l1\0tree/a/long-name\0tree/a/sub/spin\0tree/b/l1\0tree/b/long-name\0\
         tree/b/sub/spin\0",
        "",
    );
}

#[test]
fn json_records() {
    let env = sample();
    let real = fs::canonicalize(env.dir.path()).unwrap();
    let real = real.to_str().unwrap();
    run(
        &mut env.knot(["scan", "--json", "--sort", "--broken", "tree"]),
        0,
        &format!(
            "{{\"path\":\"tree/a/sub/spin\",\"kind\":\"symlink\",\"dir\":null,\"target\":\"spin\",\
             \"relative\":true,\"resolved\":\"{real}/tree/a/sub/spin\",\"status\":\"loop\",\
             \"tag\":null,\"substitute_name\":null,\"print_name\":null,\"nlink\":1}}\n\
             {{\"path\":\"tree/gone\",\"kind\":\"symlink\",\"dir\":null,\"target\":\"nowhere\",\
             \"relative\":true,\"resolved\":\"{real}/tree/nowhere\",\"status\":\"dangling\",\
             \"tag\":null,\"substitute_name\":null,\"print_name\":null,\"nlink\":1}}\n"
        ),
        "",
    );
    let out = env
        .knot(["scan", "--json", "tree/b"])
        .output()
        .unwrap()
        .stdout;
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains(&format!(
        "{{\"path\":\"tree/b/l1\",\"kind\":\"symlink\",\"dir\":false,\"target\":\"../f\",\
         \"relative\":true,\"resolved\":\"{real}/tree/f\",\"status\":\"ok\""
    )));
}

/// With `sym -> deep/a/b` and `t1 -> sym/../missing`, `show` says `.../deep/a/missing` (as
/// the kernel resolves `..`), and `scan --json` says the same, for every link of the tree,
/// not `.../missing`.
#[test]
fn scan_json_resolves_as_show_does() {
    let env = Env::new();
    env.mkdir("tree/deep/a/b");
    env.mkdir("tree/d");
    env.link("tree/sym", "deep/a/b");
    env.link("tree/t1", "sym/../missing");
    env.link("tree/t2", "sym/../../x/y");
    env.link("tree/t3", "sym/..");
    env.link("tree/d/t4", "../sym/../../missing");
    env.link("tree/d/spin", "spin");
    let real = fs::canonicalize(env.dir.path()).unwrap();
    let records = fixture::records(&mut env.knot(["scan", "--json", "--sort", "tree"]));
    assert_eq!(records.len(), 6);
    for scanned in &records {
        let path = scanned["path"].as_str().unwrap();
        let shown = fixture::record(&mut env.knot(["show", "--json", path]));
        assert_eq!(scanned["resolved"], shown["resolved"], "{path}");
        assert_eq!(scanned["status"], shown["status"], "{path}");
    }
    let resolved = |path: &str| {
        records.iter().find(|r| r["path"] == path).unwrap()["resolved"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let real = real.to_str().unwrap();
    assert_eq!(resolved("tree/t1"), format!("{real}/tree/deep/a/missing"));
    assert_eq!(resolved("tree/t2"), format!("{real}/tree/deep/x/y"));
    assert_eq!(resolved("tree/d/t4"), format!("{real}/tree/deep/missing"));
}

#[test]
fn check_exits_3_when_anything_matched() {
    let env = sample();
    env.knot(["scan", "--check", "--broken", "tree"])
        .assert()
        .code(3);
    // A match is certain even when something else could not be read: 3 wins over 1.
    env.knot(["scan", "--check", "--broken", "nothing", "tree"])
        .assert()
        .code(3);
    env.knot(["scan", "--check", "--broken", "-q", "tree/a/l1"])
        .assert()
        .code(0)
        .stdout("");
    env.knot(["scan", "--check", "--kind", "hardlink", "tree"])
        .assert()
        .code(0)
        .stdout("");
}

#[test]
fn kinds() {
    let env = sample();
    fs::hard_link(env.path("tree/f"), env.path("tree/a/twin")).unwrap();
    run(
        &mut env.knot(["scan", "--sort", "--kind", "hardlink", "tree"]),
        0,
        "tree/a/twin  [hardlink, 2 names]\ntree/f       [hardlink, 2 names]\n",
        "",
    );
    run(
        &mut env.knot(["scan", "--sort", "--kind", "junction,lx-symlink", "tree"]),
        0,
        "",
        "",
    );
    env.knot(["scan", "--kind", "bogus", "tree"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("unknown kind 'bogus'"));
}

/// `--kind SYMLINK` matches symlinks, so that `--check` cannot pass silently: every
/// spelling of a kind means it; a word that is no kind is a usage error naming the kinds.
#[test]
fn every_spelling_of_a_kind_filters_by_it() {
    let env = sample();
    let all = "tree/a/l1\0tree/a/long-name\0tree/a/sub/spin\0tree/b\0tree/gone\0";
    for word in [
        "symlink",
        "SYMLINK",
        "Symlink",
        "IO_REPARSE_TAG_SYMLINK",
        "io_reparse_tag_symlink",
        "junction,SYMLINK",
    ] {
        env.knot(["scan", "--sort", "-0", "--kind", word, "tree"])
            .assert()
            .code(0)
            .stdout(all)
            .stderr("");
        env.knot(["scan", "--check", "--kind", word, "tree"])
            .assert()
            .code(3);
    }
    // On Unix there are no junctions: found by no spelling, and said by none to be found.
    for word in [
        "JUNCTION",
        "Junction",
        "IO_REPARSE_TAG_MOUNT_POINT",
        "MOUNT_POINT",
        "LX_SYMLINK",
    ] {
        env.knot(["scan", "--check", "--kind", word, "tree"])
            .assert()
            .code(0)
            .stdout("")
            .stderr("");
    }
    for word in ["symlinks", "IO_REPARSE_TAG_NOPE", "file", "symlink,bogus"] {
        let out = env
            .knot(["scan", "--check", "--kind", word, "tree"])
            .assert()
            .code(2)
            .stdout("")
            .get_output()
            .stderr
            .clone();
        let stderr = String::from_utf8_lossy(&out);
        assert!(
            stderr.contains(
                "expected symlink, junction, mount-point, hardlink, unknown, or a reparse \
                 tag's kind word or SDK name (IO_REPARSE_TAG_...): reserved-zero"
            ) && stderr.contains("lx-symlink, "),
            "{word}: {stderr}"
        );
    }
}

#[test]
fn stats_on_stderr() {
    let env = sample();
    let out = env
        .knot(["scan", "--stats", "--sort", "tree"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    // With --stats the status is read, so it is shown.
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("tree/gone        -> nowhere  [dangling]")
    );
    let err = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert!(lines[0].starts_with("knot: stats: 9 entries in 3 directories, "));
    assert_eq!(lines[1], "knot: stats: 5 matched");
    assert_eq!(
        lines[2],
        "knot: stats:   symlink            5  (ok 3, dangling 1, loop 1)"
    );
}

#[test]
#[cfg_attr(target_os = "macos", ignore = "APFS refuses a name that is not UTF-8")]
fn odd_names_are_escaped_for_people_and_exact_in_json_and_nul() {
    let env = Env::new();
    env.mkdir("tree");
    env.link(OsStr::from_bytes(b"tree/bad-\xff"), "new\nline");
    run(
        &mut env.knot(["scan", "tree"]),
        0,
        "tree/bad-\\xff -> new\\nline  [dangling]\n",
        "",
    );
    let out = env.knot(["scan", "-0", "tree"]).output().unwrap();
    assert_eq!(out.stdout, b"tree/bad-\xff\0");
    let out = env.knot(["scan", "--json", "tree"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("{\"path\":{\"bytes\":\"dHJlZS9iYWQt/w==\"},\"kind\":\"symlink\",")
            && text.contains("\"target\":\"new\\nline\""),
        "{text}"
    );
}

#[test]
fn follow_reports_each_loop_once_as_a_note() {
    let env = Env::new();
    env.mkdir("tree/d");
    env.link("tree/d/up", "..");
    env.link("tree/into", "d");
    let out = env
        .knot(["scan", "--follow", "--sort", "tree"])
        .output()
        .unwrap();
    // `into` leads to `d`, which is walked already: it is listed, not entered again, so
    // the loop below `d` is met once.
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "tree/d/up -> ..\n\
         tree/into -> d\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "knot: note: not following 'tree/d/up': it leads back to 'tree', which contains it\n"
    );
    // Without --follow nothing is followed, nothing is a loop.
    run(
        &mut env.knot(["scan", "--sort", "tree"]),
        0,
        "tree/d/up -> ..\n\
         tree/into -> d\n",
        "",
    );
}

/// `scan --follow` walks a DAG of directory links once, not once per path (two links per
/// level to the next level would make 2^levels records): the records are those of the
/// tree, counted, whatever the number of threads.
#[test]
fn follow_walks_each_directory_once() {
    const LEVELS: usize = 16;
    let env = Env::new();
    env.mkdir("tree");
    for level in 0..LEVELS {
        env.mkdir(&format!("levels/L{level}"));
        if level + 1 < LEVELS {
            env.link(format!("levels/L{level}/a"), format!("../L{}", level + 1));
            env.link(format!("levels/L{level}/b"), format!("../L{}", level + 1));
        }
    }
    env.link("tree/a", "../levels/L0");
    env.link("tree/b", "../levels/L0");
    for threads in ["1", "2"] {
        let out = env
            .knot([
                "scan",
                "--follow",
                "--sort",
                "-0",
                "--threads",
                threads,
                "tree",
            ])
            .timeout(std::time::Duration::from_secs(300))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(String::from_utf8_lossy(&out.stderr), "");
        let paths = nul_set(&out.stdout);
        assert_eq!(paths.len(), 2 * LEVELS, "{threads} threads");
        // The first path to each level walks it: `a` at every level.
        let mut want = BTreeSet::new();
        let mut at = String::from("tree");
        for _ in 0..LEVELS {
            want.insert(format!("{at}/a").into_bytes());
            want.insert(format!("{at}/b").into_bytes());
            at.push_str("/a");
        }
        assert_eq!(paths, want);
    }
    // The help says so.
    let help = env.knot(["scan", "--help"]).output().unwrap().stdout;
    assert!(
        String::from_utf8_lossy(&help).contains("each directory at most once"),
        "{}",
        String::from_utf8_lossy(&help)
    );
}

#[test]
fn a_link_to_the_root_never_hangs() {
    let env = Env::new();
    env.mkdir("tree");
    env.link("tree/root", "/");
    env.link("tree/dot", ".");
    env.knot(["scan", "--follow", "--sort", "tree"])
        // A guard against a hang, not a measure of speed.
        .timeout(std::time::Duration::from_secs(300))
        .assert()
        .code(0)
        .stdout("tree/dot  -> .\ntree/root -> /\n");
}

#[test]
fn a_missing_root_is_an_error_and_the_others_are_scanned() {
    let env = sample();
    run(
        &mut env.knot(["scan", "--sort", "nothing", "tree/b"]),
        1,
        "tree/b/l1        -> ../f\n\
         tree/b/long-name -> sub/g\n\
         tree/b/sub/spin  -> spin  [loop]\n",
        "knot: cannot scan 'nothing': it does not exist\nknot: hint: check the path: there is nothing called 'nothing' in '.'\n",
    );
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let env = Env::new();
    env.mkdir("tree");
    for i in 0..3000 {
        env.link(format!("tree/l{i}"), "t".repeat(100));
    }
    let knot = assert_cmd::cargo::cargo_bin("knot");
    let out = Process::new("bash")
        .arg("-c")
        .arg(format!(
            "'{}' scan tree | head -n 1; echo \"${{PIPESTATUS[0]}}\"",
            knot.display()
        ))
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert_eq!(lines[1], "0", "knot's exit status");
    // With --check, the matches found still decide the exit status.
    let out = Process::new("bash")
        .arg("-c")
        .arg(format!(
            "'{}' scan --check tree | head -n 1 >/dev/null; echo \"${{PIPESTATUS[0]}}\"",
            knot.display()
        ))
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "3\n",
        "knot's exit status"
    );
}

#[test]
fn an_unreadable_directory_is_reported_and_the_scan_goes_on() {
    let env = Env::new();
    env.mkdir("tree/locked");
    env.mkdir("tree/open");
    env.link("tree/locked/hidden", "x");
    env.link("tree/open/seen", "y");
    env.link("tree/top", "z");
    for dir in ["", "tree", "tree/open"] {
        fs::set_permissions(env.path(dir), fs::Permissions::from_mode(0o755)).unwrap();
    }
    fs::set_permissions(env.path("tree/locked"), fs::Permissions::from_mode(0o000)).unwrap();
    let out = as_nobody(&env, &["scan", "--sort", "tree"]);
    fs::set_permissions(env.path("tree/locked"), fs::Permissions::from_mode(0o755)).unwrap();
    // If the directory turned out readable, `hidden` shows up and the exit code is 0: the
    // test fails rather than passing without testing anything.
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "tree/open/seen -> y  [dangling]\ntree/top       -> z  [dangling]\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "knot: cannot scan 'tree/locked': Permission denied (os error 13)\n"
    );
    assert_eq!(out.status.code(), Some(1));
}

/// A tmpfs mounted on `tree/mnt`, holding one link: `--xdev` does not go into it, and
/// without it the walk does.
#[cfg(target_os = "linux")]
#[test]
fn xdev_stays_on_the_root_file_system() {
    let env = Env::new();
    env.mkdir("tree/mnt");
    env.link("tree/here", "x");
    let Some(_mounted) =
        fixture::tmpfs("xdev_stays_on_the_root_file_system", &env.path("tree/mnt"))
    else {
        return;
    };
    env.link("tree/mnt/there", "y");
    run(
        &mut env.knot(["scan", "--sort", "tree"]),
        0,
        "tree/here      -> x  [dangling]\ntree/mnt/there -> y  [dangling]\n",
        "",
    );
    run(
        &mut env.knot(["scan", "--sort", "--xdev", "tree"]),
        0,
        "tree/here -> x  [dangling]\n",
        "",
    );
}

// ---- agreement with find on a tree made by bench/mktree.py ----

fn nul_set(bytes: &[u8]) -> BTreeSet<Vec<u8>> {
    bytes
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

#[test]
#[cfg(target_os = "linux")] // GNU find (-xtype), and ELOOP as Linux numbers it
fn agrees_with_find_on_a_mktree_tree() {
    let env = Env::new();
    mktree(&env.path("tree"), 4000, 3);
    let find = |args: &[&str]| {
        let out = Process::new("find")
            .arg("tree")
            .args(args)
            .arg("-print0")
            .current_dir(env.dir.path())
            .output()
            .unwrap();
        nul_set(&out.stdout)
    };
    let scan = |args: &[&str]| {
        let out = env
            .knot(["scan", "-0"])
            .args(args)
            .arg("tree")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        nul_set(&out.stdout)
    };
    // Agreeing on a tree without links would prove nothing.
    assert!(!find(&["-type", "l"]).is_empty(), "mktree.py made no links");
    assert!(
        !find(&["-xtype", "l"]).is_empty(),
        "mktree.py made no dangling links"
    );
    assert_eq!(scan(&[]), find(&["-type", "l"]));
    assert_eq!(scan(&["--threads", "1"]), find(&["-type", "l"]));
    let broken = scan(&["--broken"]);
    let dangling = find(&["-xtype", "l"]);
    assert!(broken.is_superset(&dangling));
    // The rest are the loops, which find reports as errors instead.
    for extra in broken.difference(&dangling) {
        let err = fs::metadata(env.dir.path().join(OsStr::from_bytes(extra))).unwrap_err();
        assert_eq!(
            err.raw_os_error(),
            Some(40),
            "{}",
            String::from_utf8_lossy(extra)
        );
    }
}

/// A root that is a special file is walked as `find` walks it: no link, nothing printed,
/// exit 0; a link to nothing with a slash after it names nothing: an error, never the link.
#[test]
fn special_file_and_slashed_dangling_roots() {
    let env = Env::new();
    assert!(
        std::process::Command::new("mkfifo")
            .arg(env.path("fifo"))
            .status()
            .unwrap()
            .success()
    );
    std::os::unix::fs::symlink("gone", env.path("dl")).unwrap();
    let out = fixture::output(&mut env.knot(["scan", "fifo"]));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{out:?}");
    let out = fixture::output(&mut env.knot(["scan", "dl/"]));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "knot: cannot scan 'dl/': 'dl' is a link, and the trailing slash leads through it to \
             what it points at\nknot: hint: to see the link itself, leave off the slash: knot show dl\n"
    );
    let out = fixture::output(&mut env.knot(["scan", "dl"]));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "dl -> gone  [dangling]\n"
    );
}

/// Paths as long as a pnpm tree's, one link per directory, line up with each other; one
/// path wider than 80 columns does not push the others' arrows out.
#[test]
fn long_paths_of_many_directories_line_up() {
    let env = Env::new();
    let dirs = [
        "node_modules/.pnpm/@babel+core@7.22.5/node_modules/@babel/core",
        "node_modules/.pnpm/react@18.2.0/node_modules/react",
        "node_modules/.pnpm/a@1.0.0/node_modules/a/very/deep/directory/that/goes/on/and/on/and/on",
    ];
    for dir in dirs {
        env.mkdir(&format!("tree/{dir}"));
        env.link(format!("tree/{dir}/l"), "t");
    }
    let out = fixture::output(&mut env.knot(["scan", "--sort", "tree"]));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    let arrow = |line: &str| line.find(" -> ").unwrap();
    // The two paths under 80 columns (the first two, by path) share their arrow's column,
    // the widest of them; the longer one is not padded and pads no other.
    let (short, long): (Vec<&str>, Vec<&str>) = lines.iter().partition(|l| arrow(l) <= 80);
    assert_eq!(short.len(), 2, "{stdout}");
    assert_eq!(arrow(short[0]), arrow(short[1]), "{stdout}");
    assert!(arrow(short[0]) > 40, "{stdout}");
    assert_eq!(arrow(long[0]), long[0].find("/l").unwrap() + 2, "{stdout}");
}

/// A hard-link record names its group's first name inside the scan (by path) as its
/// target, also where the file has names outside it, and the same in JSON on any number of
/// threads; `-0` lists the names alike.
#[test]
fn hard_link_records_name_the_first_name_inside_the_scan() {
    let env = Env::new();
    env.mkdir("tree/sub/deep");
    env.file("tree/sub/deep/b", "x");
    fs::hard_link(env.path("tree/sub/deep/b"), env.path("tree/sub/a")).unwrap();
    fs::hard_link(env.path("tree/sub/deep/b"), env.path("tree/outside")).unwrap();
    env.file("tree/sub/c", "y");
    fs::hard_link(env.path("tree/sub/c"), env.path("tree/sub/deep/d")).unwrap();
    for threads in ["1", "3"] {
        let found = records(&mut env.knot([
            "scan",
            "--json",
            "--kind",
            "hardlink",
            "--sort",
            "--threads",
            threads,
            "tree/sub",
        ]));
        let got: Vec<(&str, &str, u64)> = found
            .iter()
            .map(|r| {
                let text = |k: &str| r[k].as_str().unwrap();
                (text("path"), text("target"), r["nlink"].as_u64().unwrap())
            })
            .collect();
        assert_eq!(
            got,
            [
                ("tree/sub/a", "tree/sub/a", 3),
                ("tree/sub/c", "tree/sub/c", 2),
                ("tree/sub/deep/b", "tree/sub/a", 3),
                ("tree/sub/deep/d", "tree/sub/c", 2),
            ],
            "{threads} threads"
        );
    }
    let out =
        fixture::output(&mut env.knot(["scan", "-0", "--kind", "hardlink", "--sort", "tree/sub"]));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "tree/sub/a\0tree/sub/c\0tree/sub/deep/b\0tree/sub/deep/d\0"
    );
}
