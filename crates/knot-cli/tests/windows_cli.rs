//! Black-box tests of `knot.exe` on Windows: exact standard output, standard
//! error and exit codes, run on Windows and under Wine (`scripts/test-windows.sh`).
//!
//! Wine 8 has no reparse points: it refuses junctions, and its `CreateSymbolicLinkW`
//! reports success and makes nothing. Those tests accept the link made and correct, or
//! exactly the documented failure with nothing left behind, and under Wine
//! (`KNOT_UNDER_WINE`, set by scripts/wine-runner.sh) only the failure.
//!
//! One test here runs on every platform: `knot reparse decode` must print, byte for byte,
//! the records recorded from the Linux build in `windows_cli/reparse_decode.jsonl`, so
//! the Windows build is checked against Linux's output. After a deliberate change to that
//! output, record it again on Linux with
//! `KNOT_RECORD=1 cargo test -p knot-cli --test tests windows_cli::`.

use std::path::Path;

use serde_json::{Value, json};

use crate::fixture::{knot, output, unhex, vectors};

/// Prints past the test harness's capture (which takes only `print!` and `eprint!`), so
/// what a test met instead of the real thing shows in every run, not only on failure.
#[cfg(windows)]
fn note(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "note: {text}");
}

/// What `knot reparse decode` does with every shared vector, as text and as JSON.
fn decode_records() -> Vec<Value> {
    let mut records = Vec::new();
    for vector in vectors() {
        let bytes = unhex(vector["hex"].as_str().unwrap());
        for args in [
            &["reparse", "decode", "--json", "-"][..],
            &["reparse", "decode", "-"],
        ] {
            let out = output(knot().args(args).write_stdin(bytes.clone()));
            records.push(json!({
                "name": vector["name"],
                "args": args,
                "code": out.status.code(),
                "stdout": String::from_utf8(out.stdout).unwrap(),
                "stderr": String::from_utf8(out.stderr).unwrap(),
            }));
        }
    }
    records
}

#[test]
fn reparse_decode_prints_the_records_recorded_on_linux() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/windows_cli/reparse_decode.jsonl");
    let records = decode_records();
    if std::env::var_os("KNOT_RECORD").is_some() && cfg!(target_os = "linux") {
        let lines: Vec<String> = records.iter().map(Value::to_string).collect();
        std::fs::write(&file, lines.join("\n") + "\n").unwrap();
        return;
    }
    let recorded: Vec<Value> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(
        records.len(),
        recorded.len(),
        "one record per vector and mode"
    );
    for (got, want) in records.iter().zip(&recorded) {
        assert_eq!(got, want, "{} {}", want["name"], want["args"]);
    }
    assert!(
        records.iter().any(|r| r["code"] == 1),
        "malformed vectors are covered"
    );
}

#[cfg(windows)]
mod on_windows {
    use std::ffi::OsStr;
    use std::fs;
    use std::path::PathBuf;

    use serde_json::Value;

    use crate::fixture::{Env, output, run, vector};

    fn under_wine() -> bool {
        std::env::var_os("KNOT_UNDER_WINE").is_some()
    }

    #[test]
    fn hardlink_then_show() {
        let env = Env::new();
        fs::write(env.path("f"), "x").unwrap();
        run(
            &mut env.knot(["hardlink", "l", "f"]),
            0,
            "created hard link 'l' => 'f'\n",
            "",
        );
        run(
            &mut env.knot(["show", "l"]),
            0,
            "l\n  kind:       hardlink\n  names:      2\n",
            "",
        );
        let out = output(&mut env.knot(["show", "--json", "l", "f"]));
        assert_eq!(out.status.code(), Some(0));
        let records: Vec<Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(records.len(), 2);
        for (record, path) in records.iter().zip(["l", "f"]) {
            assert_eq!(record["path"], path);
            assert_eq!(record["kind"], "hardlink");
            assert_eq!(record["nlink"], 2);
            assert_eq!(record["dir"], false);
            assert_eq!(record["target"], Value::Null);
            assert_eq!(record["tag"], Value::Null);
        }
        assert_eq!(env.names(), ["f", "l"]);
    }

    /// `knot move` on one volume: a rename relative to held directories' handles, never
    /// replacing anything. With `--leave symlink` the link follows (with Developer Mode or
    /// elevation), or, where none can be made (Wine 8 has no reparse points), the
    /// directory is put back and the move refused; `--back` then undoes it.
    #[test]
    fn move_renames_on_one_volume_and_puts_back_what_it_cannot_link() {
        let env = Env::new();
        env.mkdir("a\\sub");
        fs::write(env.path("a\\sub\\f"), "data").unwrap();
        run(
            &mut env.knot(["move", "a", "b", "--leave", "none"]),
            0,
            "rename 'a' -> 'b'\n",
            "moved 'a' to 'b' on one file system (a rename); no link left\n",
        );
        assert_eq!(env.names(), ["b"]);
        assert_eq!(fs::read_to_string(env.path("b\\sub\\f")).unwrap(), "data");
        run(
            &mut env.knot(["move", "b", "c", "--leave", "none"]),
            0,
            "rename 'b' -> 'c'\n",
            "moved 'b' to 'c' on one file system (a rename); no link left\n",
        );
        fs::create_dir(env.path("taken")).unwrap();
        let out = output(&mut env.knot(["move", "c", "taken"]));
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let out = output(&mut env.knot(["move", "c", "d", "--leave", "symlink"]));
        if out.status.success() {
            assert!(!under_wine());
            assert!(fs::symlink_metadata(env.path("c")).unwrap().is_symlink());
            assert_eq!(fs::read_to_string(env.path("c\\sub\\f")).unwrap(), "data");
            let back = output(&mut env.knot(["move", "--back", "c"]));
            assert_eq!(back.status.code(), Some(0), "{back:?}");
            assert_eq!(env.names(), ["c", "taken"]);
        } else {
            super::note(&format!(
                "no symlink could be made: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
            assert_eq!(out.status.code(), Some(1), "{out:?}");
            assert_eq!(env.names(), ["c", "taken"]);
        }
        assert!(fs::symlink_metadata(env.path("c")).is_ok());
        assert_eq!(fs::read_to_string(env.path("c\\sub\\f")).unwrap(), "data");
    }

    /// `--root` judges an image as a Unix chroot would, which Windows cannot: refused, with
    /// the reason and where to do it instead, for each command that takes it.
    #[test]
    fn an_image_root_is_refused_with_the_reason() {
        let env = Env::new();
        env.mkdir("img");
        for args in [
            &["scan", "--root", "img", "img"][..],
            &["show", "--root", "img", "img"],
            &["fix", "--root", "img", "img", "--broken", "--delete"],
            &["convert", "--relative", "--root", "img", "-r", "img"],
        ] {
            let out = output(&mut env.knot(args));
            assert_eq!(out.status.code(), Some(1), "{args:?}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains("Linux or WSL"), "{args:?}: {stderr}");
            assert!(out.stdout.is_empty(), "{args:?}");
        }
    }

    #[test]
    fn hardlink_refusals() {
        let env = Env::new();
        fs::write(env.path("f"), "x").unwrap();
        fs::create_dir(env.path("d")).unwrap();
        run(
            &mut env.knot(["hardlink", "l", "d"]),
            1,
            "",
            "knot: cannot create hard link 'l': the target 'd' is a directory; hard links are \
             for files\nknot: hint: use `knot junction` or `knot symlink` to link to a \
             directory\n",
        );
        run(
            &mut env.knot(["hardlink", "f", "missing"]),
            1,
            "",
            "knot: cannot create hard link 'f': it already exists, and the target 'missing' \
             does not\nknot: hint: the arguments look swapped: knot takes LINK first, then \
             TARGET (like mklink)\nknot: hint: did you mean: knot hardlink missing f\n",
        );
        assert_eq!(env.names(), ["d", "f"]);
    }

    /// Retarget and convert change links only: a file, a hard link and a
    /// directory are refused and left alone (these run under Wine too).
    #[test]
    fn retarget_and_convert_refuse_what_is_not_a_link() {
        let env = Env::new();
        fs::write(env.path("f"), "x").unwrap();
        fs::create_dir(env.path("d")).unwrap();
        run(
            &mut env.knot(["retarget", "f", "d"]),
            1,
            "",
            "knot: cannot retarget 'f': it is a regular file, not a link
\
             knot: hint: knot retarget changes symlinks and junctions only
",
        );
        run(
            &mut env.knot(["convert", "--relative", "d"]),
            1,
            "",
            "knot: cannot convert 'd': it is a directory, not a link
\
             knot: hint: to convert the links below a directory, add --recursive
",
        );
        run(
            &mut env.knot(["hardlink", "h", "f"]),
            0,
            "created hard link 'h' => 'f'
",
            "",
        );
        let out = output(&mut env.knot(["convert", "--to-symlink", "h"]));
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(env.names(), ["d", "f", "h"]);
        assert_eq!(fs::read_to_string(env.path("f")).unwrap(), "x");
    }

    /// A junction is retargeted in place (`FSCTL_SET_REPARSE_POINT` through a
    /// handle to it) and converted to a directory symlink. Wine 8 has no reparse points,
    /// so there the junction cannot be made, and this says so.
    #[test]
    fn junction_retargeted_in_place() {
        let env = Env::new();
        fs::create_dir(env.path("d")).unwrap();
        fs::create_dir(env.path("e")).unwrap();
        let made = output(&mut env.knot(["junction", "j", "d"]));
        if made.status.code() != Some(0) {
            // Only the volume's lack of reparse points lets the test skip; any other
            // failure to make the junction is a failure.
            assert_no_reparse_points(&made);
            assert_eq!(env.names(), ["d", "e"]);
            crate::fixture::wine_lacks(
                "junction_retargeted_in_place",
                "no junctions here (Wine 8 has no reparse points): retarget of a junction not run",
            );
            return;
        }
        // knot stores a target as `GetFullPathNameW` makes it (`std::path::absolute`),
        // which keeps 8.3 names such as `C:\Users\RUNNER~1` (the temporary directory of
        // hosted runners); `fs::canonicalize` would expand them.
        let (d, e) = (
            std::path::absolute(env.path("d")).unwrap(),
            std::path::absolute(env.path("e")).unwrap(),
        );
        run(
            &mut env.knot(["retarget", "j", "e"]),
            0,
            &format!("replaced 'j': '{}' -> '{}'\n", d.display(), e.display()),
            "",
        );
        let out = output(&mut env.knot(["show", "--json", "j"]));
        let record: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(record["kind"], "junction");
        assert_eq!(record["target"], e.to_str().unwrap());
        assert_eq!(env.names(), ["d", "e", "j"]);
    }

    /// Asserts that `knot junction j ...` failed the one way a volume without reparse
    /// points (Wine 8's) makes it fail: exit 1, nothing on stdout, and the refusal that
    /// names the file system.
    fn assert_no_reparse_points(out: &std::process::Output) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(out.stdout.is_empty());
        assert!(
            stderr.starts_with("knot: cannot create junction 'j': the ")
                && stderr.contains("does not support reparse points")
                && stderr.ends_with(
                    "so it cannot hold a junction; make the link on an NTFS or ReFS volume\n"
                ),
            "{stderr}"
        );
    }

    /// Junctions: made and shown, or refused before anything is made (Wine 8: no reparse
    /// points). Never an empty directory left behind.
    #[test]
    fn junction_made_or_refused_with_nothing_left() {
        let env = Env::new();
        fs::create_dir(env.path("d")).unwrap();
        let out = output(&mut env.knot(["junction", "j", "d"]));
        let stderr = String::from_utf8(out.stderr.clone()).unwrap();
        if out.status.code() == Some(0) {
            assert!(!under_wine(), "Wine 8 has no junctions");
            let full = std::path::absolute(env.path("d")).unwrap();
            let stdout = String::from_utf8(out.stdout).unwrap();
            assert_eq!(
                stdout,
                format!("created junction 'j' -> '{}'\n", full.display())
            );
            let shown = output(&mut env.knot(["show", "--json", "j"]));
            let record: Value = serde_json::from_slice(&shown.stdout).unwrap();
            assert_eq!(record["kind"], "junction");
            assert_eq!(record["tag"], "0xa0000003");
            assert_eq!(record["status"], "ok");
            run(
                &mut env.knot(["rm", "j"]),
                0,
                &format!("removed junction 'j' -> '{}'\n", full.display()),
                "",
            );
        } else {
            super::note(&format!("no junction made: {}", stderr.trim_end()));
            assert_no_reparse_points(&out);
            crate::fixture::wine_lacks(
                "junction_made_or_refused_with_nothing_left",
                "no junctions here (Wine 8 has no reparse points)",
            );
        }
        assert_eq!(env.names(), ["d"]);
    }

    #[test]
    fn junction_refusals() {
        let env = Env::new();
        fs::write(env.path("f"), "x").unwrap();
        run(
            &mut env.knot(["junction", "j", "f"]),
            1,
            "",
            "knot: cannot create junction 'j': the target 'f' is not a directory; a junction \
             points at a directory\nknot: hint: use `knot symlink` to link to a file\n",
        );
        // A relative target is read from the current directory, and the
        // message says where it was looked for.
        run(
            &mut env.knot(["junction", "j", "missing"]),
            1,
            "",
            &format!(
                "knot: cannot create junction 'j': the target 'missing' does not exist (looked \
                 for '{}')\nknot: hint: check the target path (a relative target is read from \
                 the current directory), or create the target first\n",
                env.path("missing").display()
            ),
        );
        assert_eq!(env.names(), ["f"]);
    }

    /// A junction to a network drive (Wine's N:, which scripts/wine-runner.sh maps and
    /// Wine reports as a network drive) is refused with its own message.
    #[test]
    fn junction_to_a_network_drive_is_refused() {
        let Some(drive) = std::env::var_os("KNOT_WINE_NETWORK_DRIVE") else {
            super::note("skipped: no network drive to test with");
            return;
        };
        let remote = PathBuf::from(format!(
            r"{}\cli-target-{}",
            drive.to_string_lossy(),
            std::process::id()
        ));
        fs::create_dir_all(&remote).unwrap();
        let env = Env::new();
        run(
            &mut env.knot([OsStr::new("junction"), OsStr::new("j"), remote.as_os_str()]),
            1,
            "",
            &format!(
                "knot: cannot create junction 'j': the target '{}' is on a network share; a \
                 junction can only lead to a local volume\nknot: hint: use `knot symlink` to \
                 link to a network path\n",
                remote.display()
            ),
        );
        assert!(env.names().is_empty());
        fs::remove_dir(&remote).unwrap();
    }

    /// Symlinks: made (with the privilege or Developer Mode), refused for the privilege
    /// with the fix, or refused before anything is made where the volume reports no
    /// reparse points (Wine 8, whose `CreateSymbolicLinkW` would report a success it does
    /// not deliver). Never a false success, nothing left behind.
    #[test]
    fn symlink_made_refused_or_caught_by_the_read_back() {
        let env = Env::new();
        fs::write(env.path("f"), "x").unwrap();
        let out = output(&mut env.knot(["symlink", "s", "f"]));
        let stderr = String::from_utf8(out.stderr).unwrap();
        match out.status.code() {
            Some(0) => {
                assert!(!under_wine());
                assert_eq!(out.stdout, b"created symlink 's' -> 'f'\n");
                run(
                    &mut env.knot(["rm", "s"]),
                    0,
                    "removed symlink 's' -> 'f'\n",
                    "",
                );
            }
            _ if stderr.contains("ERROR_PRIVILEGE_NOT_HELD") => {
                assert!(!under_wine());
                assert_eq!(
                    stderr,
                    "knot: cannot create symlink 's': Windows lets only administrators create \
                     symbolic links, unless Developer Mode is on (ERROR_PRIVILEGE_NOT_HELD)\n\
                     knot: hint: turn on Developer Mode (Settings > System > For developers) \
                     or run knot as administrator; for a directory, `knot junction` needs no \
                     privilege\n"
                );
            }
            code => {
                super::note(&format!("no symlink made: {}", stderr.trim_end()));
                assert_eq!(code, Some(1));
                assert!(out.stdout.is_empty());
                assert!(
                    stderr.starts_with("knot: cannot create symlink 's': the ")
                        && stderr.ends_with(
                            "does not support symbolic links (it does not report \
                             FILE_SUPPORTS_REPARSE_POINTS); make the link on an NTFS or ReFS \
                             volume\n"
                        ),
                    "{stderr}"
                );
                crate::fixture::wine_lacks(
                    "symlink_made_refused_or_caught_by_the_read_back",
                    "no symlinks here (Wine 8 has no reparse points)",
                );
            }
        }
        assert_eq!(env.names(), ["f"]);
    }

    #[test]
    fn symlink_to_a_missing_target_needs_a_flavour() {
        let env = Env::new();
        run(
            &mut env.knot(["symlink", "s", "missing"]),
            1,
            "",
            &format!(
                "knot: cannot create symlink 's': the target 'missing' does not exist (looked \
                 for '{}'), so knot cannot tell a file symlink from a directory symlink\nknot: \
                 hint: say which with --dir or --file\n",
                env.path("missing").display()
            ),
        );
        assert!(env.names().is_empty());
    }

    #[test]
    fn rm_refuses_files_and_directories() {
        let env = Env::new();
        fs::write(env.path("f"), "keep").unwrap();
        fs::create_dir(env.path("d")).unwrap();
        run(
            &mut env.knot(["rm", "f"]),
            1,
            "",
            "knot: cannot remove 'f': it is a regular file, not a link\nknot: hint: knot rm \
             removes links only; delete files with rm (or del)\n",
        );
        run(
            &mut env.knot(["rm", "d"]),
            1,
            "",
            "knot: cannot remove 'd': it is a directory, not a link\nknot: hint: knot rm \
             removes links only; delete directories with rmdir (or rd)\n",
        );
        assert_eq!(fs::read_to_string(env.path("f")).unwrap(), "keep");
        assert_eq!(env.names(), ["d", "f"]);
    }

    /// The mklink front end: knot.exe copied to `mklink.exe` (and `MKLINK.EXE`)
    /// in a directory of its own, run in the test's directory.
    mod mklink {
        use std::path::Path;

        use assert_cmd::Command;

        use super::under_wine;
        use crate::fixture::{Env, How, Renamed, output, renamed, run};

        fn copy(name: &str) -> Renamed {
            renamed(name, How::Copy)
        }

        fn mklink(exe: &Path, env: &Env, args: &[&str]) -> Command {
            let mut cmd = Command::new(exe);
            cmd.current_dir(env.dir.path()).args(args);
            cmd
        }

        /// Wine has CreateHardLinkW: `/H` works for real, under both names.
        #[test]
        fn hard_links_are_made_with_cmds_line() {
            let env = Env::new();
            std::fs::write(env.path("f"), "x").unwrap();
            for (name, link, switch) in [("mklink.exe", "h", "/H"), ("MKLINK.EXE", "h2", "/h")] {
                let copy = copy(name);
                run(
                    &mut mklink(&copy.path, &env, &[switch, link, "f"]),
                    0,
                    &format!("Hardlink created for {link} <<===>> f\n"),
                    "",
                );
                assert_eq!(std::fs::read_to_string(env.path(link)).unwrap(), "x");
            }
            assert_eq!(env.names(), ["f", "h", "h2"]);
        }

        #[test]
        fn refusals_have_cmds_messages() {
            let copy = copy("mklink.exe");
            let env = Env::new();
            std::fs::write(env.path("f"), "x").unwrap();
            std::fs::write(env.path("taken"), "keep").unwrap();
            run(
                &mut mklink(&copy.path, &env, &["/H", "taken", "f"]),
                1,
                "",
                "Cannot create a file when that file already exists.\n\
                 mklink: hint: 'taken' exists, and mklink never replaces anything: choose \
                 another name, or remove it first (`knot rm` removes a link, and only a \
                 link)\n",
            );
            run(
                &mut mklink(&copy.path, &env, &["/H", "f", "missing"]),
                1,
                "",
                "Cannot create a file when that file already exists.\n\
                 mklink: hint: 'f' exists and the target 'missing' does not: the arguments \
                 look swapped; mklink takes Link first, then Target\n\
                 mklink: hint: did you mean: mklink /H missing f\n",
            );
            run(
                &mut mklink(&copy.path, &env, &["/X", "l", "f"]),
                1,
                "",
                "The syntax of the command is incorrect.\n\
                 mklink: hint: mklink takes MKLINK [[/D] | [/H] | [/J]] Link Target \
                 (`mklink /?` says more)\n",
            );
            assert_eq!(std::fs::read_to_string(env.path("taken")).unwrap(), "keep");
            assert_eq!(env.names(), ["f", "taken"]);
        }

        /// `/J`: made, or (Wine 8, no reparse points) refused with cmd's message for a
        /// volume that cannot hold one, and knot's reason; nothing left behind.
        #[test]
        fn a_junction_is_made_or_refused_cleanly() {
            let copy = copy("mklink.exe");
            let env = Env::new();
            std::fs::create_dir(env.path("d")).unwrap();
            let out = output(&mut mklink(&copy.path, &env, &["/J", "j", "d"]));
            let stderr = String::from_utf8(out.stderr).unwrap();
            if out.status.code() == Some(0) {
                assert!(!under_wine(), "Wine 8 has no junctions");
                assert_eq!(out.stdout, b"Junction created for j <<===>> d\n");
                assert_eq!(stderr, "");
                std::fs::remove_dir(env.path("j")).unwrap();
            } else {
                assert_eq!(out.status.code(), Some(1), "{stderr}");
                assert!(out.stdout.is_empty());
                let (line, hint) = stderr.split_once('\n').unwrap();
                assert_eq!(
                    line,
                    "Local NTFS volumes are required to complete the operation."
                );
                assert!(
                    hint.starts_with("mklink: hint: the ")
                        && hint.contains("does not support reparse points")
                        && hint.ends_with("make the link on an NTFS or ReFS volume\n"),
                    "{hint}"
                );
                crate::fixture::wine_lacks(
                    "a_junction_is_made_or_refused_cleanly",
                    "no junctions here (Wine 8 has no reparse points)",
                );
            }
            assert_eq!(env.names(), ["d"]);
        }

        /// A symlink: made, refused for the privilege with cmd's message, or refused where
        /// the volume reports no reparse points (Wine 8) with cmd's message and knot's
        /// reason. Never a false success.
        #[test]
        fn a_symlink_is_made_refused_or_caught() {
            let copy = copy("mklink.exe");
            let env = Env::new();
            std::fs::write(env.path("f"), "x").unwrap();
            let out = output(&mut mklink(&copy.path, &env, &["s", "f"]));
            let stderr = String::from_utf8(out.stderr).unwrap();
            match out.status.code() {
                Some(0) => {
                    assert!(!under_wine());
                    assert_eq!(out.stdout, b"symbolic link created for s <<===>> f\n");
                    std::fs::remove_file(env.path("s")).unwrap();
                }
                _ if stderr.starts_with("You do not have") => {
                    assert!(!under_wine());
                    assert_eq!(
                        stderr,
                        "You do not have sufficient privilege to perform this operation.\n\
                         mklink: hint: turn on Developer Mode (Settings > System > For \
                         developers) or run as administrator; for a directory, `mklink /J` \
                         needs no privilege\n"
                    );
                }
                code => {
                    assert_eq!(code, Some(1));
                    assert!(out.stdout.is_empty());
                    assert!(
                        stderr.starts_with(
                            "The device does not support symbolic links.\nmklink: hint: the "
                        ) && stderr.contains(
                            "does not support symbolic links (it does not report \
                             FILE_SUPPORTS_REPARSE_POINTS)"
                        ),
                        "{stderr}"
                    );
                    crate::fixture::wine_lacks(
                        "a_symlink_is_made_refused_or_caught",
                        "no symlinks here (Wine 8 has no reparse points)",
                    );
                }
            }
            assert_eq!(env.names(), ["f"]);
        }

        #[test]
        fn help_is_cmds_usage() {
            let copy = copy("MKLINK.EXE");
            let env = Env::new();
            let out = output(&mut mklink(&copy.path, &env, &["/?"]));
            assert_eq!(out.status.code(), Some(0));
            let stdout = String::from_utf8(out.stdout).unwrap();
            assert!(
                stdout.starts_with(
                    "Creates a symbolic link.\n\nMKLINK [[/D] | [/H] | [/J]] Link Target\n"
                ),
                "{stdout}"
            );
        }
    }

    /// `knot apply` on Windows: hard-link records are made for real (under Wine too), in a
    /// directory apply makes; a junction record is made, or where the file system has no
    /// reparse points (Wine 8) fails with the reason and leaves nothing; a real file in the
    /// way is `failed` and left as it is. A second apply finds the hard link unchanged.
    #[test]
    fn apply_hard_links_junctions_and_a_file_in_the_way() {
        let env = Env::new();
        fs::create_dir_all(env.path("copy/d")).unwrap();
        fs::write(env.path("copy/f"), "data").unwrap();
        fs::write(env.path("copy/d/taken"), "keep").unwrap();
        let manifest = r#"{"path":"sub/h","kind":"hardlink","target":"f"}
{"path":"j","kind":"junction","target":"d"}
{"path":"d/taken","kind":"hardlink","target":"f"}
"#;
        fs::write(env.path("m.jsonl"), manifest).unwrap();
        let out = output(&mut env.knot(["apply", "--json", "m.jsonl", "--root", "copy"]));
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let records: Vec<Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        let actions: Vec<&str> = records
            .iter()
            .map(|r| r["action"].as_str().unwrap())
            .collect();
        let junction = &records[1];
        if junction["action"] == "created" {
            assert!(!under_wine(), "Wine 8 has no junctions");
            let shown = output(&mut env.knot(["show", "--json", "copy/j"]));
            let record: Value = serde_json::from_slice(&shown.stdout).unwrap();
            assert_eq!(record["kind"], "junction");
            assert_eq!(record["status"], "ok");
        } else {
            let error = junction["error"].as_str().unwrap();
            super::note(&format!("no junction made: {error}"));
            assert!(
                error.starts_with("cannot create junction 'copy\\j': the ")
                    && error.contains("does not support reparse points"),
                "{error}"
            );
            assert!(fs::symlink_metadata(env.path("copy/j")).is_err());
            crate::fixture::wine_lacks(
                "apply_hard_links_junctions_and_a_file_in_the_way",
                "no junctions here (Wine 8 has no reparse points)",
            );
        }
        assert_eq!(actions[0], "created");
        assert_eq!(actions[2], "failed");
        assert_eq!(
            records[2]["error"],
            "cannot apply 'copy\\d\\taken': it is a file, not a link; knot apply replaces \
             only links"
        );
        assert_eq!(fs::read_to_string(env.path("copy/sub/h")).unwrap(), "data");
        assert_eq!(
            fs::read_to_string(env.path("copy/d/taken")).unwrap(),
            "keep"
        );
        let shown = output(&mut env.knot(["show", "--json", "copy/sub/h"]));
        let record: Value = serde_json::from_slice(&shown.stdout).unwrap();
        assert_eq!(record["kind"], "hardlink");
        assert_eq!(record["nlink"], 2);
        // Nothing else was made: no temporary names.
        let names = |dir: &str| env.names_in(dir);
        assert_eq!(names("copy/sub"), ["h"]);
        assert_eq!(names("copy/d"), ["taken"]);
        // Made already: unchanged.
        let out = output(&mut env.knot(["apply", "--json", "m.jsonl", "--root", "copy"]));
        let first: Value = serde_json::from_str(
            String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .next()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(first["action"], "unchanged");
    }

    /// The JSON records of `knot copy --json ARGS`, by their path in the source, and the
    /// run's exit code and standard error.
    fn copy_records(env: &Env, args: &[&str]) -> (Option<i32>, Vec<Value>, String) {
        let out = output(&mut env.knot(["copy", "--json"].iter().chain(args)));
        let records = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        (
            out.status.code(),
            records,
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    /// The action of the record whose source path is `path`.
    fn action<'a>(records: &'a [Value], path: &str) -> &'a str {
        records
            .iter()
            .find(|r| r["path"] == path)
            .unwrap_or_else(|| panic!("no record of {path}: {records:?}"))["action"]
            .as_str()
            .unwrap()
    }

    /// `knot copy` copies files (data and times), directories and a hard-link group
    /// (Wine has hard links), under Wine as on Windows, and its summary says so.
    #[test]
    fn copy_files_directories_and_hard_link_groups() {
        let env = Env::new();
        fs::create_dir_all(env.path("src/d/e")).unwrap();
        fs::write(env.path("src/a"), "alpha").unwrap();
        fs::write(env.path("src/d/b"), "beta").unwrap();
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
        fs::write(env.path("src/d/e/c"), &big).unwrap();
        fs::hard_link(env.path("src/a"), env.path("src/d/a2")).unwrap();
        let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_500_000_000);
        fs::File::options()
            .write(true)
            .open(env.path("src/d/e/c"))
            .unwrap()
            .set_times(fs::FileTimes::new().set_modified(old))
            .unwrap();
        let (code, records, stderr) = copy_records(&env, &["src", "dst"]);
        assert_eq!(code, Some(0), "{stderr}");
        assert_eq!(records.len(), 7, "{records:?}");
        for path in [r"src\d\b", r"src\d\e\c", r"src\d", r"src\d\e", "src"] {
            assert_eq!(action(&records, path), "copied", "{path}");
        }
        // One name of the group is copied and the other made a link to it, whichever the
        // walk met first.
        let mut group = [action(&records, r"src\a"), action(&records, r"src\d\a2")];
        group.sort_unstable();
        assert_eq!(group, ["copied", "linked"]);
        assert_eq!(fs::read_to_string(env.path("dst/d/b")).unwrap(), "beta");
        assert_eq!(fs::read(env.path("dst/d/e/c")).unwrap(), big);
        let modified = |path: &str| fs::metadata(env.path(path)).unwrap().modified().unwrap();
        assert_eq!(modified("dst/d/e/c"), old);
        // One file with two names: written through one, read through the other.
        fs::write(env.path("dst/a"), "changed").unwrap();
        assert_eq!(fs::read_to_string(env.path("dst/d/a2")).unwrap(), "changed");
        assert_eq!(fs::read_to_string(env.path("src/a")).unwrap(), "alpha");
        assert_eq!(
            stderr,
            "copied:\n       3  files\n  200009  bytes\n       3  directories\n       \
             0  symlinks\n       0  junctions\n       1  hard-link groups\n       0  of them \
             unsaturated (names outside SRC)\n       0  groups split at the link limit\n       \
             0  groups short of a name that failed\n       0  links \
             rewritten\n       0  links kept\n       0  links dropped\n       0  dangling \
             links\n       0  not entered\n       0  special files\n       0  sockets \
             skipped\n       0  failures\n"
        );
        // The copy is there: a second one into it is refused, and nothing is changed.
        let out = output(&mut env.knot(["copy", "src", "dst"]));
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(fs::read_to_string(env.path("dst/a")).unwrap(), "changed");
    }

    /// What cannot be copied is reported on its own line with the reason, the rest is
    /// copied, and knot exits 1: a file another program holds locked against reading (as
    /// Wine does too), and where links can be made (Windows: not Wine 8, which has no
    /// reparse points), a junction, which knot does not copy yet.
    #[test]
    fn copy_reports_what_it_cannot_copy_and_copies_the_rest() {
        use std::os::windows::fs::OpenOptionsExt as _;
        let env = Env::new();
        fs::create_dir_all(env.path("src/d")).unwrap();
        fs::write(env.path("src/locked"), "mine").unwrap();
        fs::write(env.path("src/d/f"), "free").unwrap();
        let junction = output(&mut env.knot(["junction", "src/j", "src/d"]));
        let junction = junction.status.code() == Some(0);
        if junction {
            assert!(!under_wine(), "Wine 8 has no junctions");
        } else {
            super::note("no junction made (no reparse points): the locked file alone fails");
            crate::fixture::wine_lacks(
                "copy_reports_what_it_cannot_copy_and_copies_the_rest",
                "no junctions here (Wine 8 has no reparse points)",
            );
        }
        let lock = fs::File::options()
            .read(true)
            .share_mode(0)
            .open(env.path("src/locked"))
            .unwrap();
        let (code, records, stderr) = copy_records(&env, &["src", "dst"]);
        drop(lock);
        assert_eq!(code, Some(1), "{stderr}");
        let failed: Vec<&Value> = records.iter().filter(|r| r["action"] == "failed").collect();
        assert_eq!(failed.len(), 1, "{records:?}");
        let locked = failed
            .iter()
            .find(|r| r["path"] == r"src\locked")
            .unwrap_or_else(|| panic!("{failed:?}"));
        let error = locked["error"].as_str().unwrap();
        assert!(error.starts_with(r"cannot copy 'src\locked': "), "{error}");
        assert!(
            stderr.contains(r"knot: cannot copy 'src\locked': "),
            "{stderr}"
        );
        if junction {
            // An inner junction: copied as a junction to the same directory in DST.
            let j = records.iter().find(|r| r["path"] == r"src\j").unwrap();
            assert_ne!(j["action"], "failed", "{j:?}");
            assert_eq!(fs::read_to_string(env.path("dst/j/f")).unwrap(), "free");
        }
        assert_eq!(action(&records, r"src\d\f"), "copied");
        assert_eq!(fs::read_to_string(env.path("dst/d/f")).unwrap(), "free");
        assert!(fs::symlink_metadata(env.path("dst/locked")).is_err());
        assert!(stderr.ends_with("1  failures\n"), "{stderr}");
    }

    /// No staged copy is left under its hidden name (`.NAME.knot~...`): each file was
    /// renamed into place once whole.
    #[test]
    fn copy_leaves_no_staged_names() {
        let env = Env::new();
        fs::create_dir_all(env.path("src/d")).unwrap();
        fs::write(env.path("src/a"), "alpha").unwrap();
        fs::write(env.path("src/d/b"), vec![7u8; 300_000]).unwrap();
        let (code, _, stderr) = copy_records(&env, &["src", "dst"]);
        assert_eq!(code, Some(0), "{stderr}");
        let names = |dir: &str| -> Vec<String> {
            let mut names: Vec<String> = fs::read_dir(env.path(dir))
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort_unstable();
            names
        };
        assert_eq!(names("dst"), ["a", "d"]);
        assert_eq!(names("dst/d"), ["b"]);
        assert_eq!(fs::read(env.path("dst/d/b")).unwrap(), vec![7u8; 300_000]);
    }

    /// What needs the calls Windows does not have yet (--update, --mirror, --outer copy,
    /// snapshot, materialize) is refused with a message that says so, exit 1, nothing made.
    #[test]
    fn update_mirror_snapshot_and_materialize_are_refused() {
        let env = Env::new();
        fs::create_dir_all(env.path("src")).unwrap();
        fs::write(env.path("src/a"), "alpha").unwrap();
        fs::create_dir_all(env.path("old")).unwrap();
        for (args, what) in [
            (&["copy", "--update", "src", "dst"][..], "--update"),
            (&["copy", "--mirror", "src", "dst"][..], "--mirror"),
            (
                &["copy", "--outer", "copy", "src", "dst"][..],
                "--outer copy",
            ),
            (
                &["snapshot", "src", "dst", "--previous", "old"][..],
                "a snapshot",
            ),
        ] {
            let out = output(&mut env.knot(args));
            let stderr = String::from_utf8(out.stderr).unwrap();
            assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
            assert!(
                stderr.contains(&format!("{what} is not available on this platform yet")),
                "{args:?}: {stderr}"
            );
            assert!(fs::symlink_metadata(env.path("dst")).is_err(), "{args:?}");
        }
        fs::hard_link(env.path("src/a"), env.path("src/b")).unwrap();
        let out = output(&mut env.knot(["materialize", "src/b"]));
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("materializing a link is not available on this platform yet"),
            "{stderr}"
        );
        assert_eq!(fs::read_to_string(env.path("src/b")).unwrap(), "alpha");
    }

    /// Paths past MAX_PATH work from the command line too.
    #[test]
    fn long_paths() {
        let env = Env::new();
        let deep: PathBuf = (0..5).map(|i| format!("{i}{}", "x".repeat(60))).collect();
        fs::create_dir_all(env.path("").join(&deep)).unwrap();
        fs::write(env.path("").join(&deep).join("f"), "x").unwrap();
        let link = deep.join("l");
        let target = deep.join("f");
        let out =
            output(&mut env.knot([OsStr::new("hardlink"), link.as_os_str(), target.as_os_str()]));
        assert_eq!(out.status.code(), Some(0), "{:?}", out);
        let shown =
            output(&mut env.knot([OsStr::new("show"), OsStr::new("--json"), link.as_os_str()]));
        let record: Value = serde_json::from_slice(&shown.stdout).unwrap();
        assert_eq!(record["nlink"], 2);
        assert_eq!(record["path"], link.to_str().unwrap());
    }

    /// Every name under `dir`, depth first and sorted, with its contents for a file: what
    /// a command that must change nothing leaves as it was.
    fn tree(dir: &std::path::Path) -> Vec<(String, Option<String>)> {
        let mut found = Vec::new();
        let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap()).collect();
        entries.sort_by_key(fs::DirEntry::file_name);
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type().unwrap().is_dir() {
                found.push((name.clone(), None));
                let inner = tree(&entry.path());
                found.extend(inner.into_iter().map(|(n, c)| (format!("{name}/{n}"), c)));
            } else {
                found.push((name, Some(fs::read_to_string(entry.path()).unwrap())));
            }
        }
        found
    }

    /// The Windows path of `knot fix` that Wine can run (it has no reparse points): a
    /// tree of files, a directory and a hard link has nothing to repair, so each repair
    /// prints nothing, changes nothing and exits 0; a usage error exits 2.
    #[test]
    fn fix_of_a_tree_without_links_changes_nothing() {
        let env = Env::new();
        env.mkdir(r"tree\sub");
        env.file(r"tree\a", "a");
        env.file(r"tree\sub\b", "b");
        fs::hard_link(env.path(r"tree\a"), env.path(r"tree\sub\a2")).unwrap();
        let before = tree(&env.path("tree"));
        assert_eq!(before.len(), 4, "{before:?}");
        for args in [
            &["fix", "tree", r"--replace", r"D:\=E:\", "--dry-run"][..],
            &["fix", "tree", r"--replace", r"D:\=E:\"],
            &["fix", "tree", "--broken", "--delete", "--dry-run"],
            &["fix", "tree", "--broken", "--delete"],
        ] {
            run(&mut env.knot(args), 0, "", "");
            assert_eq!(tree(&env.path("tree")), before, "{args:?}");
        }
        for args in [
            &["fix", "tree", "--broken"][..],
            &["fix", "tree", "--replace", r"=E:\"],
            &["fix", "tree"],
        ] {
            let out = output(&mut env.knot(args));
            assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
            assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
            assert!(out.stderr.starts_with(b"error: "), "{args:?}: {out:?}");
            assert_eq!(tree(&env.path("tree")), before, "{args:?}");
        }
    }

    /// The five links `mklink` made on Windows 11 on drive W: (vectors `w11-*`), made by
    /// knot.exe here, are the same bytes as `fsutil reparsepoint query` shows them, with
    /// `W:\` read as this test's directory (the runner has no W:). The absolute targets are
    /// given as the directory's final path without `\\?\`, the one form every way of
    /// making a path full leaves as it is. The ntfs-3g test of the same name makes them on
    /// Linux with `--drive W:`. fsutil needs an elevated prompt, which hosted runners
    /// have; Wine 8 has no reparse points, and Windows makes no symlink without the
    /// privilege or Developer Mode: there the test says so and stops, unless
    /// `KNOT_REQUIRE_WINDOWS=1`.
    #[test]
    fn the_links_mklink_made_on_windows_11_byte_for_byte() {
        let test = "the_links_mklink_made_on_windows_11_byte_for_byte";
        let env = Env::new();
        fs::write(env.path("target.txt"), "target file contents\r\n").unwrap();
        fs::create_dir(env.path("realdir")).unwrap();
        let base = env
            .real()
            .to_str()
            .unwrap()
            .trim_start_matches(r"\\?\")
            .to_owned();
        let (file, dir) = (format!(r"{base}\target.txt"), format!(r"{base}\realdir"));
        let cases: [([&str; 3], &str, &str); 5] = [
            // mklink rel_link.txt target.txt
            (
                ["symlink", "rel_link.txt", "target.txt"],
                "rel_link.txt",
                "w11-rel_link-txt-mklink",
            ),
            // mklink abs_link.txt W:\target.txt
            (
                ["symlink", "abs_link.txt", &file],
                "abs_link.txt",
                "w11-abs_link-txt-mklink",
            ),
            // mklink /D rel_dirlink realdir
            (
                ["symlink", "rel_dirlink", "realdir"],
                "rel_dirlink",
                "w11-rel_dirlink-mklink",
            ),
            // mklink /D abs_dirlink W:\realdir
            (
                ["symlink", "abs_dirlink", &dir],
                "abs_dirlink",
                "w11-abs_dirlink-mklink",
            ),
            // mklink /J junction W:\realdir
            (
                ["junction", "junction", &dir],
                "junction",
                "w11-junction-mklink",
            ),
        ];
        for (args, _, _) in &cases {
            let out = output(&mut env.knot(args));
            if out.status.code() != Some(0) {
                let stderr = String::from_utf8_lossy(&out.stderr);
                let what = format!(
                    "reparse points (`knot {}` failed: {})",
                    args.join(" "),
                    stderr.trim_end()
                );
                crate::fixture::wine_lacks(test, &what);
                return;
            }
        }
        for (_, link, name) in cases {
            let want = super::with_drive_replaced(&vector(name), r"W:\", &format!(r"{base}\"));
            assert_eq!(
                hex::encode(fsutil_reparse_buffer(&env.path(link))),
                hex::encode(want),
                "{link}: the bytes differ from what mklink wrote on Windows 11 ({name}), \
                 W:\\ read as {base}\\"
            );
        }
    }

    /// The reparse buffer of `path` as `fsutil reparsepoint query` prints it, the way the
    /// w11 vectors were taken.
    fn fsutil_reparse_buffer(path: &std::path::Path) -> Vec<u8> {
        let out = std::process::Command::new("fsutil")
            .args(["reparsepoint", "query"])
            .arg(path)
            .output()
            .unwrap_or_else(|e| panic!("cannot run fsutil: {e}"));
        assert!(
            out.status.success(),
            "fsutil on {}: {out:?}",
            path.display()
        );
        super::fsutil_buffer(&String::from_utf8_lossy(&out.stdout))
    }

    /// A file with the system attribute, as Cygwin and MSYS2 leave their links.
    fn system_file(path: &std::path::Path, bytes: &[u8], system: bool) {
        use std::io::Write as _;
        use std::os::windows::fs::OpenOptionsExt as _;
        // FILE_ATTRIBUTE_SYSTEM, or FILE_ATTRIBUTE_NORMAL.
        let attributes = if system { 0x4 } else { 0x80 };
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .attributes(attributes)
            .open(path)
            .unwrap()
            .write_all(bytes)
            .unwrap();
    }

    /// Cygwin's form (winsup/cygwin/path.cc, `check_sysfile`): `!<symlink>`, the UTF-16LE
    /// byte order mark, the target in UTF-16LE and a NUL.
    fn cygwin_bytes(target: &str) -> Vec<u8> {
        let mut bytes = b"!<symlink>\xFF\xFE".to_vec();
        bytes.extend(target.encode_utf16().flat_map(u16::to_le_bytes));
        bytes.extend([0, 0]);
        bytes
    }

    /// `convert --to-native`: what only looks like a Cygwin link is refused with the
    /// reason and left as it was (under Wine too: the file is read through a handle); a
    /// Cygwin link file becomes an NT symlink of the flavour of its target. Wine 8 makes no
    /// symlinks: there the conversion fails, and the file stays.
    #[test]
    fn convert_to_native() {
        let env = Env::new();
        fs::create_dir(env.path("dir")).unwrap();
        system_file(&env.path("plain"), &cygwin_bytes("dir"), false);
        system_file(&env.path("magic"), b"!<symlinq>\xFF\xFEd\0\0\0", true);
        system_file(&env.path("cut"), b"!<symlink>\xFF\xFEd\0", true);
        for (name, why) in [
            ("plain", "it has no DOS system attribute"),
            ("magic", "it does not start with Cygwin's link cookie"),
            ("cut", "its target has no NUL at its end"),
        ] {
            let before = fs::read(env.path(name)).unwrap();
            let out = output(&mut env.knot(["convert", "--to-native", name]));
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
            assert!(
                stderr.starts_with(&format!("knot: cannot convert '{name}': {why}")),
                "{name}: {stderr}"
            );
            assert_eq!(fs::read(env.path(name)).unwrap(), before, "{name}");
        }
        system_file(&env.path("c"), &cygwin_bytes("dir"), true);
        let out = output(&mut env.knot(["convert", "--to-native", "c"]));
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() == Some(0) {
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                "replaced 'c': 'dir' -> 'dir' (now a symlink)\n"
            );
            let record = output(&mut env.knot(["show", "--json", "c"]));
            let record: Value = serde_json::from_slice(&record.stdout).unwrap();
            assert_eq!(record["kind"], "symlink");
            assert_eq!(record["dir"], true);
            assert_eq!(record["target"], "dir");
        } else {
            crate::fixture::wine_lacks("convert_to_native", &format!("symlinks: {stderr}"));
            assert_eq!(out.status.code(), Some(1), "{stderr}");
            assert_eq!(fs::read(env.path("c")).unwrap(), cygwin_bytes("dir"));
            assert_eq!(env.names(), ["c", "cut", "dir", "magic", "plain"]);
        }
    }
}

/// The reparse buffer that `fsutil reparsepoint query` printed as `text`: the tag, and the
/// data after the 8-byte header as a hex dump (`0000:  14 00 14 00 ...  ....`). The
/// header's `Reserved`, which fsutil does not print, is taken as 0.
fn fsutil_buffer(text: &str) -> Vec<u8> {
    let field = |name: &str| {
        let line = text.lines().find_map(|l| l.strip_prefix(name));
        let hex = line.unwrap_or_else(|| panic!("no {name:?} in fsutil's\n{text}"));
        u32::from_str_radix(hex.trim().trim_start_matches("0x"), 16).unwrap()
    };
    let tag = field("Reparse Tag Value :");
    let length = field("Reparse Data Length:");
    let mut data = Vec::new();
    for line in text.lines().skip_while(|l| !l.starts_with("Reparse Data:")) {
        let Some((offset, row)) = line.split_once(":  ") else {
            continue;
        };
        if offset.len() != 4 || u16::from_str_radix(offset, 16).is_err() {
            continue;
        }
        // 16 bytes in two groups of 8 (48 characters), then the same bytes as text.
        let bytes = row.get(..48).unwrap_or(row).split_whitespace();
        data.extend(bytes.map(|b| u8::from_str_radix(b, 16).unwrap()));
    }
    assert_eq!(data.len(), length as usize, "fsutil's\n{text}");
    let mut buffer = tag.to_le_bytes().to_vec();
    buffer.extend(u16::try_from(length).unwrap().to_le_bytes());
    buffer.extend([0, 0]);
    buffer.extend(data);
    buffer
}

/// What fsutil printed on Windows 11 for two of the w11 links (SecurityRonin/ntfs-forensic,
/// tests/data/win_reparse_truth.txt, with its CRLF line ends and trailing blanks) reads
/// back as their vectors: the parser the Windows test reads fsutil with, checked
/// everywhere.
#[test]
fn fsutil_dumps_read_back_as_the_windows_11_vectors() {
    let rel_link = "Reparse Tag Value : 0xa000000c\r
Tag value: Microsoft\r
Tag value: Name Surrogate\r
Tag value: Symbolic Link\r
\r
Reparse Data Length: 0x34      \r
Reparse Data:\r
0000:  14 00 14 00 00 00 14 00  01 00 00 00 74 00 61 00  ............t.a.\r
0010:  72 00 67 00 65 00 74 00  2e 00 74 00 78 00 74 00  r.g.e.t...t.x.t.\r
0020:  74 00 61 00 72 00 67 00  65 00 74 00 2e 00 74 00  t.a.r.g.e.t...t.\r
0030:  78 00 74 00                                       x.t.\r
";
    let junction = "Reparse Tag Value : 0xa0000003\r
Tag value: Microsoft\r
Tag value: Name Surrogate\r
Tag value: Mount Point\r
Substitue Name offset: 0\r
Substitue Name length: 28\r
Print Name offset:     30\r
Print Name Length:     20\r
Substitute Name:       \\??\\W:\\realdir\r
Print Name:            W:\\realdir\r
\r
Reparse Data Length: 0x3c      \r
Reparse Data:\r
0000:  00 00 1c 00 1e 00 14 00  5c 00 3f 00 3f 00 5c 00  ........\\.?.?.\\.\r
0010:  57 00 3a 00 5c 00 72 00  65 00 61 00 6c 00 64 00  W.:.\\.r.e.a.l.d.\r
0020:  69 00 72 00 00 00 57 00  3a 00 5c 00 72 00 65 00  i.r...W.:.\\.r.e.\r
0030:  61 00 6c 00 64 00 69 00  72 00 00 00              a.l.d.i.r...\r
";
    for (text, name) in [
        (rel_link, "w11-rel_link-txt-mklink"),
        (junction, "w11-junction-mklink"),
    ] {
        assert_eq!(
            hex::encode(fsutil_buffer(text)),
            hex::encode(crate::fixture::vector(name)),
            "{name}"
        );
    }
}

/// `knot du` counts a file with two names once: on Windows the link count and
/// the file id come from `GetFileInformationByHandle`, which Wine answers too. Runs on
/// every platform.
#[test]
fn du_counts_a_hard_linked_file_once() {
    let env = crate::fixture::Env::new();
    let tree = env.path("tree");
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    std::fs::write(tree.join("a"), "12345").unwrap();
    std::fs::hard_link(tree.join("a"), tree.join("sub").join("b")).unwrap();
    std::fs::write(tree.join("c"), "xyz").unwrap();
    let out = output(knot().args(["du", "--json"]).arg(&tree));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["items"], 5, "{json}");
    assert_eq!(json["kinds"]["files"]["items"], 1);
    assert_eq!(json["kinds"]["files"]["apparent"], 3);
    assert_eq!(json["kinds"]["hardlinked_files"]["items"], 2);
    assert_eq!(json["kinds"]["hardlinked_files"]["apparent"], 5);
    assert_eq!(json["kinds"]["dirs"]["items"], 2);
    let saturated = &json["groups"]["saturated"];
    assert_eq!(saturated["groups"], 1);
    assert_eq!(saturated["names"], 2);
    assert_eq!(saturated["apparent"], 5);
    assert_eq!(json["groups"]["unsaturated"]["groups"], 0);
    assert_eq!(json["errors"], 0);
}

/// `buffer`, a symlink's or a junction's reparse buffer, with `from` replaced by `to` where
/// a name starts with it (after `\??\` in a substitute name), laid out as `buffer` is: its
/// names in the same order, each NUL-terminated where it was, and the lengths, offsets and
/// data length made to fit. Written from MS-FSCC 2.1.2.4 and 2.1.2.5, not with the codec,
/// so that the bytes knot writes are not checked against knot's own encoder.
fn with_drive_replaced(buffer: &[u8], from: &str, to: &str) -> Vec<u8> {
    let field = |at: usize| usize::from(u16::from_le_bytes([buffer[at], buffer[at + 1]]));
    let tag = u32::from_le_bytes(buffer[..4].try_into().unwrap());
    // Where the names start: after the four name fields, and a symlink's flags.
    let start = match tag {
        0xa000_000c => 20,
        0xa000_0003 => 16,
        _ => panic!("not a symlink or a junction: {tag:#010x}"),
    };
    let names = &buffer[start..];
    // (offset, length) of the substitute name, then of the print name, as stored.
    let mut stored = [(field(8), field(10)), (field(12), field(14))];
    let mut order = [0, 1];
    order.sort_by_key(|&i| stored[i].0);
    let (mut laid, mut end) = (Vec::new(), 0);
    for i in order {
        let (offset, length) = stored[i];
        assert_eq!(offset, end, "names with a gap before them");
        let units: Vec<u16> = names[offset..offset + length]
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        let text = String::from_utf16(&units).unwrap();
        let text = ["", r"\??\"]
            .into_iter()
            .find_map(|p| {
                Some(format!(
                    "{p}{to}{}",
                    text.strip_prefix(&format!("{p}{from}"))?
                ))
            })
            .unwrap_or(text);
        let nul = names.get(offset + length..offset + length + 2) == Some(&[0, 0][..]);
        end = offset + length + if nul { 2 } else { 0 };
        let bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        stored[i] = (laid.len(), bytes.len());
        laid.extend(bytes);
        if nul {
            laid.extend([0, 0]);
        }
    }
    assert_eq!(end, names.len(), "bytes after the names");
    let mut out = buffer[..4].to_vec();
    out.extend(u16::try_from(start - 8 + laid.len()).unwrap().to_le_bytes());
    out.extend(&buffer[6..8]);
    for (offset, length) in stored {
        out.extend(u16::try_from(offset).unwrap().to_le_bytes());
        out.extend(u16::try_from(length).unwrap().to_le_bytes());
    }
    out.extend(&buffer[16..start]);
    out.extend(laid);
    out
}

/// The helper of the Windows test above, checked where it runs everywhere: replacing `W:\`
/// by itself gives each w11 buffer back byte for byte, and by a longer directory gives
/// buffers whose names (decoded by `knot reparse decode`) lead there.
#[test]
fn the_drive_of_the_windows_11_buffers_is_replaced_in_their_own_layout() {
    let names = [
        "w11-rel_link-txt-mklink",
        "w11-abs_link-txt-mklink",
        "w11-rel_dirlink-mklink",
        "w11-abs_dirlink-mklink",
        "w11-junction-mklink",
    ];
    for name in names {
        let buffer = crate::fixture::vector(name);
        assert_eq!(
            with_drive_replaced(&buffer, r"W:\", r"W:\"),
            buffer,
            "{name}"
        );
        let moved = with_drive_replaced(&buffer, r"W:\", r"C:\Temp\.tmp1\");
        let out = output(
            knot()
                .args(["reparse", "decode", "--json", "-"])
                .write_stdin(moved),
        );
        assert_eq!(out.status.code(), Some(0), "{name}: {out:?}");
        let record: Value = serde_json::from_slice(&out.stdout).unwrap();
        let print = record["print_name"].as_str().unwrap();
        let substitute = record["substitute_name"].as_str().unwrap();
        if name.contains("rel_") {
            assert!(
                !print.contains(':') && substitute == print,
                "{name}: {record}"
            );
        } else {
            assert!(print.starts_with(r"C:\Temp\.tmp1\"), "{name}: {record}");
            assert_eq!(substitute, format!(r"\??\{print}"), "{name}");
        }
    }
}
