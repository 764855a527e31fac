//! Black-box tests of the mklink front end: the knot binary run under the name
//! `mklink` (a symlink to it, or a copy named `MKLINK.EXE`) and as `knot compat mklink`,
//! with cmd's exact lines and exit codes.

use std::fs;
use std::path::Path;

use assert_cmd::Command;

use crate::fixture::{Env, How, Renamed, renamed, run};

/// cmd's usage text, as `mklink /?` prints it.
const USAGE: &str = "\
Creates a symbolic link.

MKLINK [[/D] | [/H] | [/J]] Link Target

        /D      Creates a directory symbolic link.  Default is a file
                symbolic link.
        /H      Creates a hard link instead of a symbolic link.
        /J      Creates a Directory Junction.
        Link    Specifies the new symbolic link name.
        Target  Specifies the path (relative or absolute) that the new link
                refers to.
";

const SYNTAX: &str = "The syntax of the command is incorrect.\n\
    mklink: hint: mklink takes MKLINK [[/D] | [/H] | [/J]] Link Target (`mklink /?` says \
    more)\n";

const JUNCTION_NOTE: &str =
    "mklink: note: this file system has no junctions; made an absolute directory symlink instead\n";

/// The names knot is installed under, each in a directory of its own beside the test's
/// (so that `Env::names` sees only what mklink made): a symlink named `mklink` and a copy
/// named `MKLINK.EXE`.
struct Names {
    linked: Renamed,
    copied: Renamed,
}

impl Names {
    fn new() -> Names {
        Names {
            linked: renamed("mklink", How::Symlink),
            copied: renamed("MKLINK.EXE", How::Copy),
        }
    }

    /// Every way to run the front end in `env`: `mklink ARGS`, `MKLINK.EXE ARGS` and
    /// `knot compat mklink ARGS`.
    fn each(&self, env: &Env, args: &[&str]) -> Vec<Command> {
        let named = |program: &Path| {
            let mut cmd = Command::new(program);
            cmd.current_dir(env.dir.path()).args(args);
            cmd
        };
        let mut compat = env.knot(["compat", "mklink"]);
        compat.args(args);
        vec![named(&self.linked.path), named(&self.copied.path), compat]
    }

    /// `mklink ARGS`, run in `env`.
    fn mklink(&self, env: &Env, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.linked.path);
        cmd.current_dir(env.dir.path()).args(args);
        cmd
    }
}

#[test]
fn help_prints_cmds_usage_and_succeeds() {
    let names = Names::new();
    let env = Env::new();
    for args in [&["/?"][..], &["/D", "l", "/?"], &["/X", "/?"]] {
        for mut cmd in names.each(&env, args) {
            run(&mut cmd, 0, USAGE, "");
        }
    }
    assert!(env.names().is_empty());
}

/// No arguments: the usage, but the run made nothing, so it fails (exit 1).
#[test]
fn no_arguments_print_the_usage_and_fail() {
    let names = Names::new();
    let env = Env::new();
    for mut cmd in names.each(&env, &[]) {
        run(&mut cmd, 1, USAGE, "");
    }
}

#[test]
fn command_lines_cmd_would_not_take_are_its_syntax_error() {
    let names = Names::new();
    let env = Env::new();
    env.file("f", "x");
    for args in [
        &["l"][..],
        &["l", "f", "x"],
        &["/X", "l", "f"],
        &["/D", "/J", "l", "f"],
        &["/h", "/H", "l", "f"],
        &["-D", "l", "f"],
        &["", "f"],
    ] {
        for mut cmd in names.each(&env, args) {
            run(&mut cmd, 1, "", SYNTAX);
        }
    }
    assert_eq!(env.names(), ["f"]);
}

/// Every kind of link, with each switch in either case, and the success line exactly.
#[test]
fn each_switch_makes_its_link_and_says_so() {
    let names = Names::new();
    let env = Env::new();
    env.file("f", "x");
    env.mkdir("d");
    let real = env.real();
    let table: [(&[&str], &str, &str); 8] = [
        (&["s", "f"], "symbolic link created for s <<===>> f\n", ""),
        (
            &["/D", "sd", "d"],
            "symbolic link created for sd <<===>> d\n",
            "",
        ),
        (
            &["sd2", "d", "/d"],
            "symbolic link created for sd2 <<===>> d\n",
            "",
        ),
        (&["/H", "h", "f"], "Hardlink created for h <<===>> f\n", ""),
        (
            &["/h", "h2", "f"],
            "Hardlink created for h2 <<===>> f\n",
            "",
        ),
        (
            &["/J", "j", "d"],
            "Junction created for j <<===>> d\n",
            JUNCTION_NOTE,
        ),
        (
            &["/j", "j2", "./d"],
            "Junction created for j2 <<===>> ./d\n",
            JUNCTION_NOTE,
        ),
        (&["-l", "f"], "symbolic link created for -l <<===>> f\n", ""),
    ];
    for (args, stdout, stderr) in table {
        run(&mut names.mklink(&env, args), 0, stdout, stderr);
    }
    for (link, target) in [("s", "f"), ("sd", "d"), ("sd2", "d"), ("-l", "f")] {
        assert_eq!(fs::read_link(env.path(link)).unwrap(), Path::new(target));
    }
    for link in ["j", "j2"] {
        assert_eq!(fs::read_link(env.path(link)).unwrap(), real.join("d"));
    }
    for link in ["h", "h2"] {
        use std::os::unix::fs::MetadataExt;
        let (a, b) = (
            fs::symlink_metadata(env.path(link)).unwrap(),
            fs::metadata(env.path("f")).unwrap(),
        );
        assert_eq!((a.dev(), a.ino()), (b.dev(), b.ino()), "{link}");
    }
}

/// The target is stored as typed, relative to the link's directory; the line names Link
/// and Target as typed.
#[test]
fn a_relative_target_stays_relative() {
    let names = Names::new();
    let env = Env::new();
    env.mkdir("a/b");
    env.file("c", "x");
    run(
        &mut names.mklink(&env, &["a/b/l", "../../c"]),
        0,
        "symbolic link created for a/b/l <<===>> ../../c\n",
        "",
    );
    assert_eq!(
        fs::read_link(env.path("a/b/l")).unwrap(),
        Path::new("../../c")
    );
    assert_eq!(fs::read_to_string(env.path("a/b/l")).unwrap(), "x");
    // Absolute paths start with a slash and are paths, not switches.
    let link = env.path("abs");
    let target = env.path("c");
    let (l, t) = (link.to_str().unwrap(), target.to_str().unwrap());
    run(
        &mut names.mklink(&env, &[l, t]),
        0,
        &format!("symbolic link created for {l} <<===>> {t}\n"),
        "",
    );
    assert_eq!(fs::read_link(&link).unwrap(), target);
}

/// mklink without /D makes a file symlink even to a directory (knot's own `symlink
/// --file` refuses that); on Unix a symlink has no flavour, so it is just the symlink.
#[test]
fn no_switch_links_a_directory_too() {
    let names = Names::new();
    let env = Env::new();
    env.mkdir("d");
    run(
        &mut names.mklink(&env, &["l", "d"]),
        0,
        "symbolic link created for l <<===>> d\n",
        "",
    );
    assert_eq!(fs::read_link(env.path("l")).unwrap(), Path::new("d"));
    run(
        &mut env.knot(["symlink", "--file", "k", "d"]),
        1,
        "",
        "knot: cannot create symlink 'k': --file was given, but the target 'd' is a \
         directory\nknot: hint: drop --dir/--file: knot picks the flavour from an existing \
         target\n",
    );
    assert_eq!(env.names(), ["d", "l"]);
}

/// An existing link name is refused for every kind, with cmd's message; mklink never
/// replaces anything.
#[test]
fn an_existing_name_is_refused() {
    let names = Names::new();
    let env = Env::new();
    env.file("f", "x");
    env.file("taken", "keep");
    env.mkdir("d");
    for switch in [None, Some("/D"), Some("/H"), Some("/J")] {
        let target = if switch == Some("/J") { "d" } else { "f" };
        let args: Vec<&str> = switch.into_iter().chain(["taken", target]).collect();
        for mut cmd in names.each(&env, &args) {
            run(
                &mut cmd,
                1,
                "",
                "Cannot create a file when that file already exists.\n\
                 mklink: hint: 'taken' exists, and mklink never replaces anything: choose \
                 another name, or remove it first (`knot rm` removes a link, and only a \
                 link)\n",
            );
        }
    }
    assert_eq!(fs::read_to_string(env.path("taken")).unwrap(), "keep");
    assert_eq!(env.names(), ["d", "f", "taken"]);
}

/// Arguments in `ln` order: cmd's message, then the command line that was meant, in
/// mklink's syntax (the switch kept, no `--`).
#[test]
fn swapped_arguments_are_named_with_the_mklink_command_meant() {
    let names = Names::new();
    let env = Env::new();
    env.file("-f", "x");
    for (args, meant) in [
        (&["/h", "-f", "new"][..], "mklink /h new -f"),
        (&["-f", "new name"], "mklink 'new name' -f"),
    ] {
        run(
            &mut names.mklink(&env, args),
            1,
            "",
            &format!(
                "Cannot create a file when that file already exists.\n\
                 mklink: hint: '-f' exists and the target '{}' does not: the arguments look \
                 swapped; mklink takes Link first, then Target\n\
                 mklink: hint: did you mean: {meant}\n",
                args[args.len() - 1]
            ),
        );
    }
    assert_eq!(env.names(), ["-f"]);
}

#[test]
fn a_missing_directory_or_target_is_a_path_not_found() {
    let names = Names::new();
    let env = Env::new();
    env.file("f", "x");
    env.mkdir("d");
    run(
        &mut names.mklink(&env, &["/D", "no/l", "d"]),
        1,
        "",
        "The system cannot find the path specified.\n\
         mklink: hint: the directory 'no' does not exist; create the directory 'no' first, \
         or check the path\n",
    );
    let missing = env.real().join("missing");
    for switch in ["/H", "/J"] {
        run(
            &mut names.mklink(&env, &[switch, "l", "missing"]),
            1,
            "",
            &format!(
                "The system cannot find the path specified.\n\
                 mklink: hint: the target 'missing' does not exist (looked for '{}'); check \
                 the target path (a relative target is read from the current directory), or \
                 create the target first\n",
                missing.display()
            ),
        );
    }
    assert_eq!(env.names(), ["d", "f"]);
}

#[test]
#[cfg(target_os = "linux")]
fn a_hard_link_across_file_systems_must_stay_on_one_volume() {
    let names = Names::new();
    let env = Env::new();
    let other = tempfile::tempdir_in("/dev/shm").expect("/dev/shm (tmpfs) as a second file system");
    let target = other.path().join("f");
    fs::write(&target, "x").unwrap();
    let t = target.to_str().unwrap();
    run(
        &mut names.mklink(&env, &["/H", "h", t]),
        1,
        "",
        &format!(
            "The new link and the existing file must be on the same NTFS volume.\n\
             mklink: hint: the target '{t}' is on another file system; a symbolic link \
             (mklink without /H) may cross volumes, or copy the file\n"
        ),
    );
    assert!(env.names().is_empty());
}

/// Refusals that are knot's own (cmd would make a broken link): knot's line, named
/// mklink, and the fix in mklink's terms.
#[test]
fn knots_own_refusals_keep_knots_line() {
    let names = Names::new();
    let env = Env::new();
    env.file("f", "x");
    env.mkdir("d");
    run(
        &mut names.mklink(&env, &["/J", "j", "f"]),
        1,
        "",
        "mklink: cannot create junction 'j': the target 'f' is not a directory; a junction \
         points at a directory\n\
         mklink: hint: a junction leads to a directory: `mklink` without /J links to a file\n",
    );
    run(
        &mut names.mklink(&env, &["/H", "h", "d"]),
        1,
        "",
        "mklink: cannot create hard link 'h': the target 'd' is a directory; hard links are \
         for files\n\
         mklink: hint: hard links are for files: `mklink /J` or `mklink /D` links to a \
         directory\n",
    );
    assert_eq!(env.names(), ["d", "f"]);
}
