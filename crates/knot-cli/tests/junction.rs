//! Black-box tests of the Sysinternals `junction` front end: the binary run
//! under the name `junction` (a symlink to it, or on Windows a copy named
//! `junction.exe`), and `knot compat junction`, with exact output and exit codes.

use std::ffi::OsStr;

use assert_cmd::Command;

use crate::fixture::{self, Env, How, Renamed, renamed};

/// knot's banner line and the empty line after it.
const BANNER: &str = concat!(
    "knot ",
    env!("CARGO_PKG_VERSION"),
    " - junction.exe-compatible front end (Junction v1.07)\n\n"
);

/// The usage text the front end prints for `-?` and for a command line it does not take.
const USAGE: &str = "\
The first usage is for displaying reparse point information, the
second usage is for creating a junction point, and the last for
deleting a junction point:
usage: junction [-s] [-q] <file or directory>
       -q     Don't print error messages (quiet)

       -s     Recurse subdirectories

usage: junction <junction directory> <junction target>

       example: junction d:\\link c:\\windows

usage: junction -d <junction directory>

Switches may be written -s or /s, in any case; -nobanner and -accepteula are taken too.
This is knot's junction front end: `knot --help` shows knot's own commands.
";

/// A temporary directory, and the knot binary under the name `junction` in a directory of
/// its own (so that the temporary directory holds only what a test makes).
struct Front {
    env: Env,
    bin: Renamed,
}

impl Front {
    fn new() -> Front {
        #[cfg(unix)]
        let bin = renamed("junction", How::Symlink);
        #[cfg(windows)]
        let bin = renamed("junction.exe", How::Copy);
        Front {
            env: Env::new(),
            bin,
        }
    }

    /// `junction ARGS...`, run in the temporary directory.
    fn junction<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(&self, args: I) -> Command {
        let mut cmd = Command::new(&self.bin.path);
        cmd.env_remove("NO_COLOR")
            .current_dir(self.env.dir.path())
            .args(args);
        cmd
    }

    /// `knot compat junction ARGS...`, run in the temporary directory.
    fn compat<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(&self, args: I) -> Command {
        let mut cmd = self.env.knot(["compat", "junction"]);
        cmd.args(args);
        cmd
    }
}

fn run(cmd: &mut Command, code: i32, stdout: &str, stderr: &str) {
    fixture::run(cmd, code, stdout, stderr);
}

/// Both ways in: the binary named `junction`, and `knot compat junction`.
fn both(front: &Front, args: &[&str], code: i32, stdout: &str, stderr: &str) {
    run(&mut front.junction(args), code, stdout, stderr);
    run(&mut front.compat(args), code, stdout, stderr);
}

#[test]
fn a_plain_directory_has_no_reparse_points_and_the_banner_comes_first() {
    let front = Front::new();
    front.env.mkdir("d");
    both(
        &front,
        &["d"],
        0,
        &format!("{BANNER}No reparse points found.\n"),
        "",
    );
    both(
        &front,
        &["-nobanner", "d"],
        0,
        "No reparse points found.\n",
        "",
    );
}

#[test]
fn usage_on_request_goes_to_stdout() {
    let front = Front::new();
    both(&front, &["-?"], 0, &format!("{BANNER}{USAGE}"), "");
    both(&front, &["/?", "-nobanner"], 0, USAGE, "");
}

#[test]
fn command_lines_junction_does_not_take_are_usage_errors() {
    let front = Front::new();
    front.env.mkdir("d");
    for (args, why) in [
        (&[][..], "no file or directory given"),
        (&["-x", "d"], "unknown switch '-x'"),
        (&["-d", "-s", "d"], "-d takes neither -s nor -q"),
        (&["-d", "-q", "d"], "-d takes neither -s nor -q"),
        (
            &["-d", "d", "t"],
            "-d takes one junction directory, not a target",
        ),
        (
            &["-s", "d", "t"],
            "-s lists what is below one directory; it takes no target",
        ),
        (
            &["a", "b", "c"],
            "too many arguments (3): junction takes a path and, to create, a target",
        ),
        (&[""], "an empty name is not a path"),
    ] {
        let stderr = format!("{BANNER}{USAGE}\njunction: {why}\n");
        both(&front, args, 2, "", &stderr);
    }
    both(
        &front,
        &["-nobanner", "-x", "d"],
        2,
        "",
        &format!("{USAGE}\njunction: unknown switch '-x'\n"),
    );
    assert_eq!(front.env.names(), ["d"], "nothing made or removed");
}

#[cfg(unix)]
mod on_unix {
    use std::fs;
    use std::os::unix::fs::symlink;

    use super::{BANNER, Front, both, run};

    #[test]
    fn a_symlink_is_listed_with_its_names() {
        let front = Front::new();
        front.env.mkdir("d");
        front.env.file("f", "x");
        symlink("f", front.env.path("file-link")).unwrap();
        symlink("d", front.env.path("dir-link")).unwrap();
        both(
            &front,
            &["file-link"],
            0,
            &format!(
                "{BANNER}file-link: SYMBOLIC LINK\n   Print Name     : f\n   Substitute Name: f\n"
            ),
            "",
        );
        both(
            &front,
            &["-nobanner", "dir-link"],
            0,
            "dir-link: SYMBOLIC LINK\n   Print Name     : d\n   Substitute Name: d\n",
            "",
        );
        // A hard link is no reparse point.
        fs::hard_link(front.env.path("f"), front.env.path("h")).unwrap();
        both(
            &front,
            &["-nobanner", "h"],
            0,
            "No reparse points found.\n",
            "",
        );
    }

    /// Without -s, a directory is reported itself, not what is in it.
    #[test]
    fn without_s_a_directory_reports_only_itself() {
        let front = Front::new();
        front.env.mkdir("d");
        symlink("..", front.env.path("d/up")).unwrap();
        both(
            &front,
            &["-nobanner", "d"],
            0,
            "No reparse points found.\n",
            "",
        );
    }

    /// -s: every link once, sorted by path, none entered (a link to an ancestor is listed,
    /// not followed: junction.exe would walk it again and again), no progress dots.
    #[test]
    fn s_lists_every_link_below_once_without_following() {
        let front = Front::new();
        front.env.mkdir("top/sub/deeper");
        front.env.file("top/file", "x");
        fs::hard_link(front.env.path("top/file"), front.env.path("top/second")).unwrap();
        symlink("../..", front.env.path("top/sub/up")).unwrap();
        symlink("missing", front.env.path("top/sub/deeper/gone")).unwrap();
        symlink("file", front.env.path("top/a-link")).unwrap();
        let listing = "top/a-link: SYMBOLIC LINK\n   Print Name     : file\n   Substitute Name: file\n\
                       top/sub/deeper/gone: SYMBOLIC LINK\n   Print Name     : missing\n   Substitute Name: missing\n\
                       top/sub/up: SYMBOLIC LINK\n   Print Name     : ../..\n   Substitute Name: ../..\n";
        both(&front, &["-s", "top"], 0, &format!("{BANNER}{listing}"), "");
        // The switches in any case and in either style.
        for args in [
            ["/s", "-nobanner", "top"],
            ["-S", "/NOBANNER", "top"],
            ["/S", "-NoBanner", "top"],
        ] {
            both(&front, &args, 0, listing, "");
        }
        front.env.mkdir("empty");
        both(
            &front,
            &["-s", "-accepteula", "-nobanner", "empty"],
            0,
            "No reparse points found.\n",
            "",
        );
    }

    /// On Unix a junction is an absolute directory symlink (DESIGN.md section 3), made by
    /// the same create as `knot junction`, listed as junction.exe lists a symlink.
    #[test]
    fn create_list_and_delete() {
        let front = Front::new();
        front.env.mkdir("target");
        front.env.file("target/canary", "alive");
        let full = front.env.real().join("target");
        let full = full.display();
        let note = "junction: note: this file system has no junctions; made an absolute \
                    directory symlink instead\n";
        run(
            &mut front.junction(["j", "target"]),
            0,
            &format!("{BANNER}Created: j\nTargetted at: {full}\n"),
            note,
        );
        assert_eq!(
            fs::read_link(front.env.path("j"))
                .unwrap()
                .display()
                .to_string(),
            full.to_string()
        );
        run(
            &mut front.junction(["-nobanner", "j"]),
            0,
            &format!("j: SYMBOLIC LINK\n   Print Name     : {full}\n   Substitute Name: {full}\n"),
            "",
        );
        run(
            &mut front.junction(["-d", "j"]),
            0,
            &format!("{BANNER}Deleted j.\n"),
            "",
        );
        assert_eq!(front.env.names(), ["target"]);
        assert_eq!(
            fs::read_to_string(front.env.path("target/canary")).unwrap(),
            "alive"
        );
        // knot compat junction does the same.
        run(
            &mut front.compat(["-nobanner", "k", "target"]),
            0,
            &format!("Created: k\nTargetted at: {full}\n"),
            note,
        );
        run(
            &mut front.compat(["/D", "/nobanner", "k"]),
            0,
            "Deleted k.\n",
            "",
        );
        // An existing link is never replaced.
        front.env.mkdir("taken");
        run(
            &mut front.junction(["-nobanner", "taken", "target"]),
            1,
            "",
            "junction: cannot create junction 'taken': it already exists\n\
             junction: hint: if it is a link, delete it first with `junction -d taken`, or \
             choose another name\n",
        );
        assert_eq!(front.env.names(), ["taken", "target"]);
    }

    /// -d removes links only: a real directory is refused and left as it was (junction.exe
    /// calls RemoveDirectory, which deletes an empty directory, and exits 0 on failure).
    #[test]
    fn d_refuses_what_is_not_a_link() {
        let front = Front::new();
        front.env.mkdir("d");
        front.env.file("f", "x");
        both(
            &front,
            &["-nobanner", "-d", "d"],
            1,
            "",
            "junction: cannot remove 'd': it is a directory, not a link\n\
             junction: hint: junction -d deletes links only; delete directories with rmdir (or rd)\n",
        );
        both(
            &front,
            &["-nobanner", "-d", "f"],
            1,
            "",
            "junction: cannot remove 'f': it is a regular file, not a link\n\
             junction: hint: junction -d deletes links only; delete files with rm (or del)\n",
        );
        assert_eq!(fs::read_to_string(front.env.path("f")).unwrap(), "x");
        assert_eq!(front.env.names(), ["d", "f"]);
        assert!(fs::symlink_metadata(front.env.path("d")).unwrap().is_dir());
    }

    /// -q hides error messages, never the exit code.
    #[test]
    fn q_silences_errors_but_not_the_exit_code() {
        let front = Front::new();
        both(
            &front,
            &["-nobanner", "missing"],
            1,
            "",
            "junction: cannot inspect 'missing': it does not exist\njunction: hint: check the path: there is nothing called 'missing' in '.'\n",
        );
        both(&front, &["-nobanner", "-q", "missing"], 1, "", "");
        both(&front, &["/Q", "missing"], 1, BANNER, "");
        both(&front, &["-q", "-s", "-nobanner", "missing"], 1, "", "");
        front.env.mkdir("d");
        both(&front, &["-nobanner", "-q", "d", "missing"], 1, "", "");
        assert_eq!(front.env.names(), ["d"]);
    }

    /// Names are escaped as knot escapes them: a newline cannot forge a line.
    #[test]
    fn control_characters_are_escaped() {
        let front = Front::new();
        symlink("t\u{1b}[31m", front.env.path("a\nb")).unwrap();
        both(
            &front,
            &["-nobanner", "-s", "."],
            0,
            "./a\\nb: SYMBOLIC LINK\n   Print Name     : t\\x1b[31m\n   Substitute Name: t\\x1b[31m\n",
            "",
        );
    }
}

/// Windows, and Wine 8, which has no reparse points: creating fails cleanly there.
#[cfg(windows)]
mod on_windows {
    use std::fs;

    use super::{Front, run};

    fn under_wine() -> bool {
        std::env::var_os("KNOT_UNDER_WINE").is_some()
    }

    #[test]
    fn a_plain_directory_lists_nothing_and_d_refuses_it() {
        let front = Front::new();
        front.env.mkdir("d");
        run(
            &mut front.junction(["-nobanner", "-s", "d"]),
            0,
            "No reparse points found.\n",
            "",
        );
        let out = crate::fixture::output(&mut front.junction(["-nobanner", "-d", "d"]));
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(out.stdout.is_empty());
        assert!(
            stderr.starts_with("junction: cannot remove 'd': it is a directory, not a link\n"),
            "{stderr}"
        );
        assert_eq!(front.env.names(), ["d"]);
    }

    #[test]
    fn create_makes_a_junction_or_fails_with_nothing_left() {
        let front = Front::new();
        front.env.mkdir("d");
        let out = crate::fixture::output(&mut front.junction(["-nobanner", "j", "d"]));
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        if out.status.code() == Some(0) {
            assert!(!under_wine(), "Wine 8 has no junctions");
            let full = std::path::absolute(front.env.path("d")).unwrap();
            assert_eq!(
                stdout,
                format!("Created: j\nTargetted at: {}\n", full.display())
            );
            let listed = crate::fixture::output(&mut front.junction(["-nobanner", "j"]));
            assert_eq!(
                String::from_utf8(listed.stdout).unwrap(),
                format!("j: JUNCTION\n   Substitute Name: {}\n", full.display())
            );
            run(
                &mut front.junction(["-nobanner", "-d", "j"]),
                0,
                "Deleted j.\n",
                "",
            );
        } else {
            // Only the volume's lack of reparse points (Wine 8's) is accepted, and only
            // off the Windows job.
            assert_eq!(out.status.code(), Some(1), "{stderr}");
            assert_eq!(stdout, "");
            assert!(
                stderr.starts_with("junction: cannot create junction 'j': ")
                    && stderr.contains("does not support reparse points"),
                "{stderr}"
            );
            crate::fixture::wine_lacks(
                "create_makes_a_junction_or_fails_with_nothing_left",
                "no junctions here (Wine 8 has no reparse points)",
            );
        }
        assert_eq!(front.env.names(), ["d"]);
        assert!(fs::symlink_metadata(front.env.path("d")).unwrap().is_dir());
    }
}
