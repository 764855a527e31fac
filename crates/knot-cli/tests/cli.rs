//! Black-box tests of the `knot` binary: exact standard output, standard error and exit
//! codes, in a fresh temporary directory each (uutils `test_ln.rs`, fd `tests/testenv`).

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::fixture::{self, Env, record, run};

#[test]
fn symlink_then_show_then_rm() {
    let env = Env::new();
    fs::create_dir(env.path("d")).unwrap();
    run(
        &mut env.knot(["symlink", "l", "d"]),
        0,
        "created symlink 'l' -> 'd'\n",
        "",
    );
    let real = env.real();
    let show = format!(
        "l\n  kind:       symlink\n  target:     d (relative)\n  resolved:   {}/d\n  status:     ok\n  leads to:   a directory\n",
        real.display()
    );
    run(&mut env.knot(["show", "l"]), 0, &show, "");
    run(
        &mut env.knot(["rm", "l"]),
        0,
        "removed symlink 'l' -> 'd'\n",
        "",
    );
    assert_eq!(env.names(), ["d"]);
}

#[test]
fn show_json_record() {
    let env = Env::new();
    fs::write(env.path("f"), "x").unwrap();
    std::os::unix::fs::symlink("f", env.path("l")).unwrap();
    std::os::unix::fs::symlink("missing", env.path("dangling")).unwrap();
    let real = env.real();
    let expected = format!(
        concat!(
            r#"{{"path":"l","kind":"symlink","dir":false,"target":"f","relative":true,"resolved":"{0}/f","status":"ok","tag":null,"substitute_name":null,"print_name":null,"nlink":1}}"#,
            "\n",
            r#"{{"path":"dangling","kind":"symlink","dir":null,"target":"missing","relative":true,"resolved":"{0}/missing","status":"dangling","tag":null,"substitute_name":null,"print_name":null,"nlink":1}}"#,
            "\n",
            r#"{{"path":"f","kind":"file","dir":false,"target":null,"relative":null,"resolved":null,"status":null,"tag":null,"substitute_name":null,"print_name":null,"nlink":1}}"#,
            "\n"
        ),
        real.display()
    );
    run(
        &mut env.knot(["show", "--json", "l", "dangling", "f"]),
        0,
        &expected,
        "knot: note: 'f' is a regular file, not a link\n",
    );
}

#[test]
fn show_reports_dangling_loop_and_plain_kinds() {
    let env = Env::new();
    fs::create_dir(env.path("d")).unwrap();
    fs::write(env.path("f"), "x").unwrap();
    std::os::unix::fs::symlink("b", env.path("a")).unwrap();
    std::os::unix::fs::symlink("a", env.path("b")).unwrap();
    std::os::unix::fs::symlink("gone", env.path("g")).unwrap();
    let real = env.real().display().to_string();
    let stdout = format!(
        "a\n  kind:       symlink\n  target:     b (relative)\n  resolved:   {real}/b\n  status:     loop\n\
         g\n  kind:       symlink\n  target:     gone (relative)\n  resolved:   {real}/gone\n  status:     dangling\n\
         f\n  kind:       file\n\
         d\n  kind:       dir\n"
    );
    let stderr = "knot: note: 'f' is a regular file, not a link\nknot: note: 'd' is a directory, not a link\n";
    run(
        &mut env.knot(["show", "a", "g", "f", "d"]),
        0,
        &stdout,
        stderr,
    );
    // -q silences notes.
    env.knot(["-q", "show", "f"]).assert().code(0).stderr("");
}

#[test]
fn show_of_a_missing_path_fails() {
    let env = Env::new();
    run(
        &mut env.knot(["show", "nope"]),
        1,
        "",
        "knot: cannot inspect 'nope': it does not exist\nknot: hint: check the path: there is nothing called 'nope' in '.'\n",
    );
}

#[test]
fn rm_refuses_a_file_and_a_directory_and_touches_nothing() {
    let env = Env::new();
    fs::write(env.path("f"), "keep").unwrap();
    fs::create_dir(env.path("d")).unwrap();
    fs::write(env.path("d/canary"), "keep").unwrap();
    run(
        &mut env.knot(["rm", "f"]),
        1,
        "",
        "knot: cannot remove 'f': it is a regular file, not a link\n\
         knot: hint: knot rm removes links only; delete files with rm (or del)\n",
    );
    run(
        &mut env.knot(["rm", "d"]),
        1,
        "",
        "knot: cannot remove 'd': it is a directory, not a link\n\
         knot: hint: knot rm removes links only; delete directories with rmdir (or rd)\n",
    );
    assert_eq!(env.names(), ["d", "f"]);
    assert_eq!(fs::read_to_string(env.path("d/canary")).unwrap(), "keep");
    assert_eq!(fs::read_to_string(env.path("f")).unwrap(), "keep");
}

#[test]
fn rm_of_a_directory_link_keeps_the_target_contents() {
    let env = Env::new();
    fs::create_dir_all(env.path("d/sub")).unwrap();
    fs::write(env.path("d/sub/canary"), "alive").unwrap();
    run(
        &mut env.knot(["-q", "junction", "j", "d"]),
        0,
        &format!("created symlink 'j' -> '{}/d'\n", env.real().display()),
        "",
    );
    std::os::unix::fs::symlink("d", env.path("l")).unwrap();
    env.knot(["rm", "j", "l"]).assert().code(0);
    assert_eq!(env.names(), ["d"]);
    assert_eq!(
        fs::read_to_string(env.path("d/sub/canary")).unwrap(),
        "alive"
    );
}

#[test]
fn rm_goes_on_after_a_failure_and_exits_1() {
    let env = Env::new();
    fs::write(env.path("f"), "x").unwrap();
    std::os::unix::fs::symlink("f", env.path("l")).unwrap();
    env.knot(["rm", "f", "l"])
        .assert()
        .code(1)
        .stdout("removed symlink 'l' -> 'f'\n");
    assert_eq!(env.names(), ["f"]);
}

#[test]
fn rm_dry_run() {
    let env = Env::new();
    std::os::unix::fs::symlink("x", env.path("l")).unwrap();
    run(
        &mut env.knot(["rm", "--dry-run", "l"]),
        0,
        "would remove symlink 'l' -> 'x'\n",
        "",
    );
    run(&mut env.knot(["rm", "-n", "-0", "l"]), 0, "l\0", "");
    let record = record(&mut env.knot(["rm", "--dry-run", "--json", "l"]));
    assert_eq!(record["path"], "l");
    assert_eq!(record["target"], "x");
    assert_eq!(record["status"], "dangling");
    assert_eq!(env.names(), ["l"]);
}

#[test]
fn create_never_overwrites_without_force() {
    let env = Env::new();
    fs::write(env.path("a"), "a").unwrap();
    fs::write(env.path("b"), "b").unwrap();
    std::os::unix::fs::symlink("a", env.path("l")).unwrap();
    run(
        &mut env.knot(["symlink", "l", "b"]),
        1,
        "",
        "knot: cannot create symlink 'l': it already exists\n\
         knot: hint: add --force to replace it if it is a link, or choose another name\n",
    );
    run(
        &mut env.knot(["-q", "symlink", "--force", "l", "b"]),
        0,
        "created symlink 'l' -> 'b'\n",
        "",
    );
    run(
        &mut env.knot(["symlink", "-f", "l", "a"]),
        0,
        "created symlink 'l' -> 'a'\n",
        "knot: note: replaced the existing link\n",
    );
    run(
        &mut env.knot(["symlink", "--force", "a", "b"]),
        1,
        "",
        "knot: cannot create symlink 'a': it is a file, not a link; --force replaces only links\n\
         knot: hint: move or delete it yourself first if you really mean to replace it\n",
    );
    assert_eq!(env.names(), ["a", "b", "l"]);
    assert_eq!(fs::read_to_string(env.path("a")).unwrap(), "a");
}

#[test]
fn swapped_arguments_show_the_corrected_command() {
    let env = Env::new();
    fs::write(env.path("real file"), "x").unwrap();
    run(
        &mut env.knot(["symlink", "--file", "real file", "new"]),
        1,
        "",
        "knot: cannot create symlink 'real file': it already exists, and the target 'new' does not\n\
         knot: hint: the arguments look swapped: knot takes LINK first, then TARGET (like mklink)\n\
         knot: hint: did you mean: knot symlink --file new 'real file'\n",
    );
    assert_eq!(env.names(), ["real file"]);
}

#[test]
fn refused_creates_have_their_own_errors_and_make_nothing() {
    let env = Env::new();
    fs::write(env.path("f"), "x").unwrap();
    fs::create_dir(env.path("d")).unwrap();
    let real = env.real().display().to_string();
    let cases: [(&[&str], String); 4] = [
        (
            &["junction", "j", "f"],
            "knot: cannot create junction 'j': the target 'f' is not a directory; a junction points at a directory\n\
             knot: hint: use `knot symlink` to link to a file\n"
                .to_owned(),
        ),
        (
            &["hardlink", "h", "d"],
            "knot: cannot create hard link 'h': the target 'd' is a directory; hard links are for files\n\
             knot: hint: use `knot junction` or `knot symlink` to link to a directory\n"
                .to_owned(),
        ),
        (
            &["hardlink", "h", "missing"],
            format!(
                "knot: cannot create hard link 'h': the target 'missing' does not exist (looked for '{real}/missing')\n\
                 knot: hint: check the target path (a relative target is read from the current directory), or create the target first\n"
            ),
        ),
        (
            &["symlink", "--dir", "s", "f"],
            "knot: cannot create symlink 's': --dir was given, but the target 'f' is a file\n\
             knot: hint: drop --dir/--file: knot picks the flavour from an existing target\n"
                .to_owned(),
        ),
    ];
    for (args, stderr) in cases {
        run(&mut env.knot(args), 1, "", &stderr);
        assert_eq!(env.names(), ["d", "f"], "{args:?}");
    }
}

#[test]
#[cfg(target_os = "linux")]
fn hard_link_across_file_systems() {
    let env = Env::new();
    let other = tempfile::tempdir_in("/dev/shm").expect("/dev/shm (tmpfs) as a second file system");
    let target = other.path().join("f");
    fs::write(&target, "x").unwrap();
    let stderr = format!(
        "knot: cannot create hard link 'h': the target '{}' is on another file system; a hard link must stay on one volume\n\
         knot: hint: use `knot symlink` across file systems, or copy the file\n",
        target.display()
    );
    run(
        &mut env.knot([OsStr::new("hardlink"), OsStr::new("h"), target.as_os_str()]),
        1,
        "",
        &stderr,
    );
    assert!(env.names().is_empty());
}

#[test]
fn hardlink_and_link_commands() {
    let env = Env::new();
    fs::write(env.path("f"), "x").unwrap();
    fs::create_dir(env.path("d")).unwrap();
    run(
        &mut env.knot(["hardlink", "h", "f"]),
        0,
        "created hard link 'h' => 'f'\n",
        "",
    );
    run(
        &mut env.knot(["show", "h"]),
        0,
        "h\n  kind:       hardlink\n  names:      2\n",
        "",
    );
    // A hard link to a symlink links the symlink itself, and says so.
    std::os::unix::fs::symlink("f", env.path("s")).unwrap();
    run(
        &mut env.knot(["hardlink", "hs", "s"]),
        0,
        "created hard link 'hs' => 's'\n",
        "",
    );
    assert_eq!(fs::read_link(env.path("hs")).unwrap(), Path::new("f"));
    run(
        &mut env.knot(["link", "ld", "d"]),
        0,
        "created directory symlink 'ld' -> 'd'\n",
        "",
    );
    run(
        &mut env.knot(["link", "lf", "f"]),
        0,
        "created file symlink 'lf' -> 'f'\n",
        "",
    );
}

#[test]
fn relative_and_absolute_symlinks() {
    let env = Env::new();
    fs::create_dir_all(env.path("a/b")).unwrap();
    fs::create_dir(env.path("c")).unwrap();
    run(
        &mut env.knot(["symlink", "--relative", "a/b/l", "c"]),
        0,
        "created symlink 'a/b/l' -> '../../c'\n",
        "",
    );
    let abs = format!("created symlink 'a/m' -> '{}/c'\n", env.real().display());
    run(
        &mut env.knot(["symlink", "--absolute", "a/m", "c"]),
        0,
        &abs,
        "",
    );
    assert_eq!(
        fs::read_link(env.path("a/b/l")).unwrap(),
        Path::new("../../c")
    );
}

#[test]
fn junction_on_unix_says_so() {
    let env = Env::new();
    fs::create_dir(env.path("d")).unwrap();
    let stdout = format!("created symlink 'j' -> '{}/d'\n", env.real().display());
    run(
        &mut env.knot(["junction", "j", "d"]),
        0,
        &stdout,
        "knot: note: this file system has no junctions; made an absolute directory symlink instead\n",
    );
    let record = record(&mut env.knot(["show", "--json", "j"]));
    assert_eq!(record["kind"], "symlink");
}

#[test]
#[cfg_attr(target_os = "macos", ignore = "APFS refuses a name that is not UTF-8")]
fn awkward_names_are_escaped_for_people_and_exact_for_machines() {
    let env = Env::new();
    let name = OsStr::from_bytes(b"bad\xff new\nline\x1b[31m");
    env.knot([OsStr::new("symlink"), name, OsStr::new("t\tab")])
        .assert()
        .code(0)
        .stdout("created symlink 'bad\\xff new\\nline\\x1b[31m' -> 't\\tab'\n");
    assert_eq!(
        fs::read_link(env.path("x").with_file_name(name)).unwrap(),
        Path::new("t\tab")
    );
    // JSON: the non-UTF-8 name as base64 of its bytes; the target exact.
    let record = record(&mut env.knot([OsStr::new("show"), OsStr::new("--json"), name]));
    assert_eq!(
        record["path"],
        serde_json::json!({"bytes": "YmFk/yBuZXcKbGluZRtbMzFt"})
    );
    assert_eq!(record["target"], "t\tab");
    // -0: the raw bytes.
    let mut expected = name.as_bytes().to_vec();
    expected.push(0);
    env.knot([OsStr::new("show"), OsStr::new("-0"), name])
        .assert()
        .code(0)
        .stdout(expected);
    env.knot([OsStr::new("rm"), name]).assert().code(0);
    assert!(env.names().is_empty());
}

#[test]
fn usage_errors_exit_2_with_a_short_usage_line() {
    let env = Env::new();
    run(
        &mut env.knot(["symlink", "only-one"]),
        2,
        "",
        "error: the following required arguments were not provided:\n  <TARGET>\n\n\
         Usage: knot symlink <LINK> <TARGET>\n\nFor more information, try '--help'.\n",
    );
    env.knot(["frobnicate"]).assert().code(2);
    env.knot(["symlink", "--dir", "--file", "a", "b"])
        .assert()
        .code(2);
    env.knot(["show", "--json", "-0", "a"]).assert().code(2);
    assert!(env.names().is_empty());
}

/// Runs knot with `args` in `env`, its standard output a pipe closed before it writes:
/// its exit code and standard error.
fn with_closed_stdout(env: &Env, args: &[String]) -> (Option<i32>, String) {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("knot"))
        .current_dir(env.dir.path())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (child.wait().unwrap().code(), stderr)
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let env = Env::new();
    let mut args = vec!["show".to_owned()];
    for i in 0..2000 {
        std::os::unix::fs::symlink("t", env.path(&format!("l{i}"))).unwrap();
        args.push(format!("l{i}"));
    }
    assert_eq!(with_closed_stdout(&env, &args), (Some(0), String::new()));
}

/// A closed pipe stops the output, not the work: every link is still removed, the file
/// in the middle is still refused, and the exit status says so.
#[test]
fn a_closed_pipe_does_not_stop_the_work() {
    let env = Env::new();
    let mut args = vec!["rm".to_owned()];
    for i in 0..2000 {
        std::os::unix::fs::symlink("t", env.path(&format!("l{i}"))).unwrap();
        args.push(format!("l{i}"));
    }
    env.file("keep", "x");
    args.insert(1000, "keep".into());
    let (code, stderr) = with_closed_stdout(&env, &args);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.starts_with("knot: cannot remove 'keep': it is a regular file"),
        "{stderr}"
    );
    assert_eq!(env.names(), ["keep"]);
}

#[test]
fn show_raw_of_a_unix_symlink_says_there_is_no_reparse_buffer() {
    let env = Env::new();
    std::os::unix::fs::symlink("/", env.path("l")).unwrap();
    run(
        &mut env.knot(["show", "--raw", "l"]),
        0,
        "l\n  kind:       symlink\n  target:     / (absolute)\n  resolved:   /\n  status:     ok\n  leads to:   a directory\n  raw:        none (not a reparse point)\n",
        "",
    );
    let record = record(&mut env.knot(["show", "--raw", "--json", "l"]));
    assert_eq!(record["raw"], serde_json::Value::Null);
    assert_eq!(record["kind"], "symlink");
}

/// A symlink may lead where its maker cannot look, as with `ln -s`; a hard link needs its
/// target read, and says which path it could not read.
#[test]
fn targets_that_cannot_be_read() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.mkdir("locked/in");
    env.file("locked/in/f", "x");
    fs::set_permissions(env.path("locked"), fs::Permissions::from_mode(0o700)).unwrap();
    fs::set_permissions(env.dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
    let out = fixture::as_nobody(&env, &["symlink", "l", "locked/in/f"]);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "created symlink 'l' -> 'locked/in/f'\n"
    );
    let out = fixture::as_nobody(&env, &["hardlink", "h", "locked/in/f"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "knot: cannot create hard link 'h': cannot read the target 'locked/in/f': Permission denied (os error 13)\n"
    );
    assert_eq!(env.names(), ["l", "locked"]);
}

/// The corrected command names the same files when typed into a shell: `--` before a path
/// that starts with `-`, ANSI-C quotes for a name with a newline.
#[test]
fn swapped_arguments_hint_is_a_command_that_works() {
    let env = Env::new();
    env.file("file", "x");
    env.file("a\nb", "x");
    let hint = |args: &[&str]| {
        let out = env.knot(args).assert().code(1).get_output().clone();
        let stderr = String::from_utf8(out.stderr).unwrap();
        stderr.lines().last().unwrap().to_owned()
    };
    assert_eq!(
        hint(&["symlink", "file", "--", "-y"]),
        "knot: hint: did you mean: knot symlink -- -y file"
    );
    assert_eq!(
        hint(&["symlink", "a\nb", "new", "--dir"]),
        "knot: hint: did you mean: knot symlink --dir new $'a\\x0ab'"
    );
    assert_eq!(env.names(), ["a\nb", "file"]);
}

/// Where a test sends one of knot's output streams.
#[derive(Clone, Copy, Debug)]
enum Sink {
    /// A pipe the test reads.
    Pipe,
    /// `/dev/full` (Linux): every write fails with ENOSPC.
    #[cfg(target_os = "linux")]
    Full,
    /// A pipe whose reading end the test closed before starting knot: every write fails
    /// with EPIPE, whatever the scheduling.
    Closed,
}

impl Sink {
    fn stdio(self) -> std::process::Stdio {
        match self {
            Sink::Pipe => std::process::Stdio::piped(),
            #[cfg(target_os = "linux")]
            Sink::Full => fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap()
                .into(),
            Sink::Closed => {
                let (reader, writer) = std::io::pipe().unwrap();
                drop(reader);
                writer.into()
            }
        }
    }
}

/// Runs `cmd` with its standard output and error sent to `stdout` and `stderr`: its exit
/// code, and what it wrote to the streams that are pipes.
fn run_into(
    mut cmd: std::process::Command,
    stdout: Sink,
    stderr: Sink,
) -> (Option<i32>, String, String) {
    let out = cmd
        .stdout(stdout.stdio())
        .stderr(stderr.stdio())
        .output()
        .unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (out.status.code(), text(out.stdout), text(out.stderr))
}

fn knot_in(env: &Env, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("knot"));
    cmd.current_dir(env.dir.path()).args(args);
    cmd
}

/// A full or closed standard error stops the messages, not the work: knot
/// neither panics nor aborts, every link is still removed, and the exit code is what the
/// work says.
#[test]
fn a_full_or_closed_stderr_stops_messages_not_the_work() {
    let env = Env::new();
    for sink in [
        #[cfg(target_os = "linux")]
        Sink::Full,
        Sink::Closed,
    ] {
        assert_eq!(
            run_into(knot_in(&env, &["show", "missing"]), Sink::Pipe, sink),
            (Some(1), String::new(), String::new()),
            "{sink:?}"
        );
        for l in ["l1", "l2"] {
            std::os::unix::fs::symlink("t", env.path(l)).unwrap();
        }
        let args = [
            "rm", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "l1", "l2",
        ];
        assert_eq!(
            run_into(knot_in(&env, &args), Sink::Pipe, sink),
            (
                Some(1),
                "removed symlink 'l1' -> 't'\nremoved symlink 'l2' -> 't'\n".to_owned(),
                String::new()
            ),
            "{sink:?}"
        );
        assert!(env.names().is_empty(), "{sink:?}");
        // Both streams gone at once (`knot rm ... 2>&1 | head -1`): the work still goes on.
        std::os::unix::fs::symlink("t", env.path("l3")).unwrap();
        let (code, _, _) = run_into(knot_in(&env, &["rm", "m1", "l3"]), sink, sink);
        assert_eq!(code, Some(1), "{sink:?}");
        assert!(env.names().is_empty(), "{sink:?}");
        // Usage errors keep their exit code.
        let (code, _, _) = run_into(knot_in(&env, &["symlink", "x"]), Sink::Pipe, sink);
        assert_eq!(code, Some(2), "{sink:?}");
    }
}

/// A scan whose standard error is closed still lists every link it can read
/// and exits 1 for the directory it could not read (run as `nobody`, so that permissions
/// apply under root).
#[test]
#[cfg(target_os = "linux")]
fn a_scan_with_a_closed_stderr_still_reports_by_its_exit_code() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.mkdir("tree/locked");
    std::os::unix::fs::symlink("x", env.path("tree/l")).unwrap();
    fs::set_permissions(env.path("tree/locked"), fs::Permissions::from_mode(0o700)).unwrap();
    fs::set_permissions(env.dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    for sink in [Sink::Full, Sink::Closed] {
        let mut cmd = std::process::Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(assert_cmd::cargo::cargo_bin("knot"))
            .args(["scan", "tree"])
            .current_dir(env.dir.path());
        assert_eq!(
            run_into(cmd, Sink::Pipe, sink),
            (
                Some(1),
                "tree/l -> x  [dangling]\n".to_owned(),
                String::new()
            ),
            "{sink:?}"
        );
    }
}

/// The other stream: a full standard output is reported once, the work goes
/// on, and knot exits 1, since its output is incomplete (a closed pipe, by contrast, ends
/// the output quietly: see `a_closed_pipe_does_not_stop_the_work`).
#[test]
#[cfg(target_os = "linux")]
fn a_full_stdout_is_reported_once_and_the_work_goes_on() {
    let env = Env::new();
    env.file("f", "x");
    for l in ["l1", "l2"] {
        std::os::unix::fs::symlink("f", env.path(l)).unwrap();
    }
    assert_eq!(
        run_into(
            knot_in(&env, &["rm", "l1", "f", "l2"]),
            Sink::Full,
            Sink::Pipe
        ),
        (
            Some(1),
            String::new(),
            "knot: cannot write to standard output: No space left on device (os error 28)\n\
             knot: cannot remove 'f': it is a regular file, not a link\n\
             knot: hint: knot rm removes links only; delete files with rm (or del)\n"
                .to_owned()
        )
    );
    assert_eq!(env.names(), ["f"]);
    let full = "knot: cannot write to standard output: No space left on device (os error 28)\n";
    for args in [&["show", "f"][..], &["--help"], &["symlink", "l", "f"]] {
        let (code, _, stderr) = run_into(knot_in(&env, args), Sink::Full, Sink::Pipe);
        assert_eq!(code, Some(1), "{args:?}");
        assert!(stderr.starts_with(full), "{args:?}: {stderr}");
    }
    // The link was made all the same: the output failed, not the work.
    assert_eq!(fs::read_link(env.path("l")).unwrap(), Path::new("f"));
}

/// `knot rm l/` (tab completion adds the slash) names what the link `l`
/// points at, not the link: it is refused, with the command that removes the link, and
/// the target's contents are never touched; `show l/` says the same. Links to a file and
/// to nothing, where the slash makes the path fail, say it too.
#[test]
fn a_trailing_slash_after_a_link_names_the_link_and_how_to_remove_it() {
    let env = Env::new();
    env.mkdir("d");
    env.file("d/canary", "alive");
    env.file("f", "x");
    std::os::unix::fs::symlink("d", env.path("l")).unwrap();
    std::os::unix::fs::symlink("f", env.path("lf")).unwrap();
    std::os::unix::fs::symlink("nothing", env.path("dang")).unwrap();
    for args in [
        &["rm", "l/"][..],
        &["rm", "--dry-run", "l/"],
        &["rm", "l/."],
    ] {
        let given = args.last().unwrap();
        run(
            &mut env.knot(args),
            1,
            "",
            &format!(
                "knot: cannot remove '{given}': 'l' is a link, and the trailing slash leads \
                 through it to what it points at\n\
                 knot: hint: to remove the link itself, leave off the slash: knot rm l\n"
            ),
        );
    }
    for link in ["lf", "dang"] {
        run(
            &mut env.knot(["rm", &format!("{link}/")]),
            1,
            "",
            &format!(
                "knot: cannot remove '{link}/': '{link}' is a link, and the trailing slash \
                 leads through it to what it points at\n\
                 knot: hint: to remove the link itself, leave off the slash: knot rm {link}\n"
            ),
        );
    }
    run(
        &mut env.knot(["show", "l/"]),
        0,
        "l/\n  kind:       dir\n",
        "knot: note: 'l/' is the directory that the link 'l' points at (the trailing slash \
         leads through the link); to see the link itself: knot show l\n",
    );
    run(
        &mut env.knot(["show", "dang/"]),
        1,
        "",
        "knot: cannot inspect 'dang/': 'dang' is a link, and the trailing slash leads through \
         it to what it points at\n\
         knot: hint: to see the link itself, leave off the slash: knot show dang\n",
    );
    // A real directory named with a slash is still just a directory.
    run(
        &mut env.knot(["rm", "d/"]),
        1,
        "",
        "knot: cannot remove 'd/': it is a directory, not a link\n\
         knot: hint: knot rm removes links only; delete directories with rmdir (or rd)\n",
    );
    assert_eq!(env.names(), ["d", "dang", "f", "l", "lf"]);
    assert_eq!(fs::read_to_string(env.path("d/canary")).unwrap(), "alive");
    env.knot(["rm", "l"]).assert().code(0);
    assert_eq!(fs::read_to_string(env.path("d/canary")).unwrap(), "alive");
}

/// Errors name the part of the path at fault and the fix, not only the errno text: a missing directory, a file where a directory should be, a directory this user
/// may not write to, a kernel file system, an empty name.
#[test]
fn bare_errno_errors_name_the_path_at_fault_and_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.file("f", "x");
    let cases: [(&[&str], &str); 5] = [
        (
            &["symlink", "nosuch/l", "x"],
            "knot: cannot create symlink 'nosuch/l': the directory 'nosuch' does not exist\n\
             knot: hint: create the directory 'nosuch' first, or check the path\n",
        ),
        (
            &["hardlink", "nosuch/deeper/l", "f"],
            "knot: cannot create hard link 'nosuch/deeper/l': the directory 'nosuch' does not exist\n\
             knot: hint: create the directory 'nosuch' first, or check the path\n",
        ),
        (
            &["symlink", "f/l", "x"],
            "knot: cannot create symlink 'f/l': 'f' is a file, not a directory\n\
             knot: hint: a link lives in a directory: check the path\n",
        ),
        (
            &["rm", "f/l"],
            "knot: cannot remove 'f/l': 'f' is a file, not a directory\n\
             knot: hint: a link lives in a directory: check the path\n",
        ),
        (
            &["show", "nosuch/l"],
            "knot: cannot inspect 'nosuch/l': the directory 'nosuch' does not exist\n\
             knot: hint: create the directory 'nosuch' first, or check the path\n",
        ),
    ];
    for (args, stderr) in cases {
        run(&mut env.knot(args), 1, "", stderr);
    }
    // /proc/self/cwd exists, and is the kernel's: not "No such file or directory".
    #[cfg(target_os = "linux")]
    for args in [
        &["rm", "/proc/self/cwd"][..],
        &["rm", "-n", "/proc/self/cwd"],
    ] {
        run(
            &mut env.knot(args),
            1,
            "",
            "knot: cannot remove '/proc/self/cwd': it is part of the kernel's proc file system, \
             whose links show the kernel's own state and cannot be removed\n",
        );
    }
    for args in [
        &["symlink", "", "x"][..],
        &["symlink", "l", ""],
        &["rm", ""],
    ] {
        let name = if args[0] == "rm" {
            "<PATH>..."
        } else if args[1].is_empty() {
            "<LINK>"
        } else {
            "<TARGET>"
        };
        run(
            &mut env.knot(args),
            2,
            "",
            &format!(
                "error: invalid value '' for '{name}': an empty name is not a path\n\n\
                 For more information, try '--help'.\n"
            ),
        );
    }
    // A directory this user may not write to (run as nobody: root may write anywhere).
    env.mkdir("ro");
    std::os::unix::fs::symlink("x", env.path("ro/old")).unwrap();
    fs::set_permissions(env.path("ro"), fs::Permissions::from_mode(0o555)).unwrap();
    fs::set_permissions(env.dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let hint = "knot: hint: choose a directory this user may write to, or get write permission \
                on 'ro' (its owner, or root, can give it)\n";
    for (args, what) in [
        (&["symlink", "ro/l", "x"][..], "create symlink 'ro/l'"),
        (&["rm", "ro/old"], "remove 'ro/old'"),
    ] {
        let out = fixture::as_nobody(&env, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!(
                "knot: cannot {what}: this user may not change the directory 'ro' (permission \
                 denied)\n{hint}"
            )
        );
    }
    assert_eq!(env.names(), ["f", "ro"]);
    assert_eq!(fs::read_dir(env.path("ro")).unwrap().count(), 1);
}

/// Each command reads a relative TARGET from where its help says: junction and
/// hard link from the current directory (as `mklink /J`, junction.exe and `ln` do), symlink
/// and link from the link's directory; a missing target says where it was looked for.
#[test]
fn relative_targets_are_read_where_each_command_says_and_missing_ones_say_where() {
    let env = Env::new();
    env.mkdir("sub");
    env.mkdir("d");
    env.file("t", "top");
    let real = env.real().display().to_string();
    run(
        &mut env.knot(["hardlink", "sub/h", "t"]),
        0,
        "created hard link 'sub/h' => 't'\n",
        "",
    );
    assert_eq!(fs::read_to_string(env.path("sub/h")).unwrap(), "top");
    run(
        &mut env.knot(["-q", "junction", "sub/j", "d"]),
        0,
        &format!("created symlink 'sub/j' -> '{real}/d'\n"),
        "",
    );
    let cwd = "(a relative target is read from the current directory)";
    let link_dir = "(a relative target is read from the link's directory)";
    let cases: [(&[&str], String); 3] = [
        (
            &["hardlink", "sub/h2", "nosuch"],
            format!(
                "knot: cannot create hard link 'sub/h2': the target 'nosuch' does not exist \
                 (looked for '{real}/nosuch')\n\
                 knot: hint: check the target path {cwd}, or create the target first\n"
            ),
        ),
        (
            &["junction", "sub/j2", "nosuch"],
            format!(
                "knot: cannot create junction 'sub/j2': the target 'nosuch' does not exist \
                 (looked for '{real}/nosuch')\n\
                 knot: hint: check the target path {cwd}, or create the target first\n"
            ),
        ),
        (
            // `t` exists here, but not in sub/, where a link reads it.
            &["link", "sub/k", "t"],
            format!(
                "knot: cannot create link 'sub/k': the target 't' does not exist \
                 (looked for '{real}/sub/t')\n\
                 knot: hint: check the target path {link_dir}, or create the target first\n"
            ),
        ),
    ];
    for (args, stderr) in cases {
        run(&mut env.knot(args), 1, "", &stderr);
    }
    let absolute = format!("{real}/nosuch");
    run(
        &mut env.knot(["hardlink", "sub/h3", &absolute]),
        1,
        "",
        &format!(
            "knot: cannot create hard link 'sub/h3': the target '{absolute}' does not exist\n\
             knot: hint: check the target path {cwd}, or create the target first\n"
        ),
    );
    let names = env.names_in("sub");
    assert_eq!(names, ["h", "j"]);
}

/// In human output an escape is never the name's own text: a name holding
/// ESC and one holding the four characters `\x1b` print differently (the backslash is
/// escaped too), and invisible or line-breaking characters are escaped.
#[test]
fn backslashes_and_invisible_characters_are_escaped_for_people() {
    let env = Env::new();
    run(
        &mut env.knot(["symlink", "a\x1b", "t"]),
        0,
        "created symlink 'a\\x1b' -> 't'\n",
        "",
    );
    run(
        &mut env.knot(["symlink", "a\\x1b", "t\\u{2028}"]),
        0,
        "created symlink 'a\\\\x1b' -> 't\\\\u{2028}'\n",
        "",
    );
    run(
        &mut env.knot([
            "symlink",
            "line\u{2028}break\u{2029}",
            "zero\u{200b}width\u{feff}",
        ]),
        0,
        "created symlink 'line\\u{2028}break\\u{2029}' -> 'zero\\u{200b}width\\u{feff}'\n",
        "",
    );
    let real = env.real().display().to_string();
    run(
        &mut env.knot(["show", "a\\x1b"]),
        0,
        &format!(
            "a\\\\x1b\n  kind:       symlink\n  target:     t\\\\u{{2028}} (relative)\n  \
             resolved:   {real}/t\\\\u{{2028}}\n  status:     dangling\n"
        ),
        "",
    );
    run(
        &mut env.knot(["scan", "--sort"]),
        0,
        "./a\\x1b                     -> t  [dangling]\n\
         ./a\\\\x1b                    -> t\\\\u{2028}  [dangling]\n\
         ./line\\u{2028}break\\u{2029} -> zero\\u{200b}width\\u{feff}  [dangling]\n",
        "",
    );
    // The swapped-arguments hint types a backslash so that a shell gives it back.
    env.file("back\\slash", "x");
    let out = env
        .knot(["symlink", "back\\slash", "new"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .ends_with("knot: hint: did you mean: knot symlink new $'back\\\\slash'\n")
    );
    // Machines get the names exactly.
    assert_eq!(
        record(&mut env.knot(["show", "--json", "a\\x1b"]))["target"],
        "t\\u{2028}"
    );
}

/// `scan`'s columns line up by display width: a CJK character or an emoji takes
/// two columns, not one.
#[test]
fn scan_columns_line_up_past_wide_characters() {
    let env = Env::new();
    env.mkdir("d");
    for name in ["ab", "目录目录", "😀"] {
        std::os::unix::fs::symlink("x", env.path(&format!("d/{name}"))).unwrap();
    }
    run(
        &mut env.knot(["scan", "--sort", "d"]),
        0,
        "d/ab       -> x  [dangling]\n\
         d/目录目录 -> x  [dangling]\n\
         d/😀       -> x  [dangling]\n",
        "",
    );
}

/// A chain of 45 links that ends at a real file is too long for the system
/// to follow, not a loop: knot walks the chain to tell a cycle from an over-long chain.
#[test]
fn an_over_long_chain_is_too_long_not_a_loop() {
    let env = Env::new();
    env.file("real", "x");
    let mut previous = "real".to_owned();
    for i in 1..=45 {
        let name = format!("l{i}");
        std::os::unix::fs::symlink(&previous, env.path(&name)).unwrap();
        previous = name;
    }
    std::os::unix::fs::symlink("cycle2", env.path("cycle1")).unwrap();
    std::os::unix::fs::symlink("cycle1", env.path("cycle2")).unwrap();
    std::os::unix::fs::symlink("grows/x", env.path("grows")).unwrap();
    let real = env.real().display().to_string();
    run(
        &mut env.knot(["show", "l45", "cycle1", "grows", "l1"]),
        0,
        &format!(
            "l45\n  kind:       symlink\n  target:     l44 (relative)\n  resolved:   {real}/l44\n  \
             status:     too-long\n\
             cycle1\n  kind:       symlink\n  target:     cycle2 (relative)\n  resolved:   \
             {real}/cycle2\n  status:     loop\n\
             grows\n  kind:       symlink\n  target:     grows/x (relative)\n  resolved:   \
             {real}/grows/x\n  status:     loop\n\
             l1\n  kind:       symlink\n  target:     real (relative)\n  resolved:   {real}/real\n  \
             status:     ok\n  leads to:   a file\n"
        ),
        "",
    );
    assert_eq!(
        record(&mut env.knot(["show", "--json", "l45"]))["status"],
        "too-long"
    );
    // Broken, for scan --broken: the system cannot open it. l41..l45 are past Linux's 40.
    run(
        &mut env.knot(["scan", "--broken", "--sort", "--kind", "symlink"]),
        0,
        "./cycle1 -> cycle2  [loop]\n\
         ./cycle2 -> cycle1  [loop]\n\
         ./grows  -> grows/x  [loop]\n\
         ./l41    -> l40  [too-long]\n\
         ./l42    -> l41  [too-long]\n\
         ./l43    -> l42  [too-long]\n\
         ./l44    -> l43  [too-long]\n\
         ./l45    -> l44  [too-long]\n",
        "",
    );
}

/// A link to a device leads to a device, not to "a file"; a special file is
/// named for what it is in notes and refusals.
#[test]
fn links_to_devices_and_fifos_say_what_they_lead_to() {
    let env = Env::new();
    std::os::unix::fs::symlink("/dev/null", env.path("null")).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(env.path("fifo"))
        .status()
        .unwrap();
    assert!(made.success());
    std::os::unix::fs::symlink("fifo", env.path("to-fifo")).unwrap();
    let real = env.real().display().to_string();
    run(
        &mut env.knot(["show", "null", "to-fifo", "fifo"]),
        0,
        &format!(
            "null\n  kind:       symlink\n  target:     /dev/null (absolute)\n  resolved:   \
             /dev/null\n  status:     ok\n  leads to:   a character device\n\
             to-fifo\n  kind:       symlink\n  target:     fifo (relative)\n  resolved:   \
             {real}/fifo\n  status:     ok\n  leads to:   a FIFO\n\
             fifo\n  kind:       special\n"
        ),
        "knot: note: 'fifo' is a FIFO, not a link\n",
    );
    run(
        &mut env.knot(["rm", "fifo"]),
        1,
        "",
        "knot: cannot remove 'fifo': it is a FIFO, not a link\n",
    );
    assert_eq!(env.names(), ["fifo", "null", "to-fifo"]);
}

/// `--dry-run` on the create commands (DESIGN.md section 2: on every command that changes
/// links): the line a create prints, as `would create`, and nothing made.
#[test]
fn create_dry_run_says_what_and_makes_nothing() {
    let env = Env::new();
    fs::write(env.path("f"), "x").unwrap();
    fs::create_dir(env.path("d")).unwrap();
    let real = env.real().display().to_string();
    let no_junctions = "knot: note: this file system has no junctions; would make an absolute \
                        directory symlink instead\n";
    let table: [(&[&str], String, &str); 6] = [
        (
            &["symlink", "-n", "l", "f"],
            "would create symlink 'l' -> 'f'\n".into(),
            "",
        ),
        (
            &["symlink", "--dry-run", "--dir", "l", "nowhere"],
            "would create symlink 'l' -> 'nowhere'\n".into(),
            "",
        ),
        (
            &["junction", "--dry-run", "j", "d"],
            format!("would create symlink 'j' -> '{real}/d'\n"),
            no_junctions,
        ),
        (
            &["hardlink", "-n", "h", "f"],
            "would create hard link 'h' => 'f'\n".into(),
            "",
        ),
        (
            &["link", "-n", "ld", "d"],
            "would create directory symlink 'ld' -> 'd'\n".into(),
            "",
        ),
        (
            &["link", "-n", "lf", "f"],
            "would create file symlink 'lf' -> 'f'\n".into(),
            "",
        ),
    ];
    for (args, stdout, stderr) in table {
        run(&mut env.knot(args), 0, &stdout, stderr);
        assert_eq!(env.names(), ["d", "f"], "{args:?}");
    }
    assert_eq!(fs::metadata(env.path("f")).unwrap().len(), 1);
}

/// A dry run refuses what the create would refuse, with the same error and exit 1.
#[test]
fn create_dry_run_refuses_what_create_refuses() {
    let env = Env::new();
    fs::write(env.path("f"), "x").unwrap();
    fs::create_dir(env.path("d")).unwrap();
    std::os::unix::fs::symlink("f", env.path("l")).unwrap();
    let cases: [&[&str]; 5] = [
        &["symlink", "l", "d"],
        &["symlink", "--file", "m", "d"],
        &["junction", "j", "f"],
        &["hardlink", "h", "d"],
        &["link", "--force", "f", "d"],
    ];
    for args in cases {
        let real = fixture::output(&mut env.knot(args));
        assert_eq!(real.status.code(), Some(1), "{args:?}");
        assert!(!real.stderr.is_empty(), "{args:?}");
        for flag in ["--dry-run", "-n"] {
            let mut dry = vec![args[0], flag];
            dry.extend(&args[1..]);
            let out = fixture::output(&mut env.knot(&dry));
            assert_eq!(out.status.code(), Some(1), "{dry:?}");
            assert_eq!(out.stdout, b"", "{dry:?}");
            assert_eq!(
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&real.stderr),
                "{dry:?}"
            );
        }
    }
    assert_eq!(env.names(), ["d", "f", "l"]);
}

/// `--force --dry-run` over a link says it would replace it, and leaves it alone.
#[test]
fn create_dry_run_with_force_replaces_nothing() {
    let env = Env::new();
    fs::create_dir(env.path("d")).unwrap();
    std::os::unix::fs::symlink("old", env.path("l")).unwrap();
    run(
        &mut env.knot(["symlink", "--force", "--dry-run", "l", "d"]),
        0,
        "would create symlink 'l' -> 'd'\n",
        "knot: note: would replace the existing link\n",
    );
    assert_eq!(fs::read_link(env.path("l")).unwrap(), Path::new("old"));
    assert_eq!(env.names(), ["d", "l"]);
    // The real one says it in the past tense.
    run(
        &mut env.knot(["symlink", "--force", "l", "d"]),
        0,
        "created symlink 'l' -> 'd'\n",
        "knot: note: replaced the existing link\n",
    );
    assert_eq!(fs::read_link(env.path("l")).unwrap(), Path::new("d"));
}

/// `--json` on the create commands: one change record, action `created`, the
/// link's record as `show --json` reads it; in a dry run the same record as it would be.
#[test]
fn create_json_reports_a_change_record() {
    let env = Env::new();
    fs::write(env.path("f"), "x").unwrap();
    fs::create_dir(env.path("d")).unwrap();
    let real = env.real().display().to_string();
    let record = |path: &str, kind: &str, dir: bool, target: Option<&str>, nlink: u32| {
        let (target, relative, resolved, status) = match target {
            Some(t) => (
                format!("\"{t}\""),
                (!t.starts_with('/')).to_string(),
                format!("\"{real}/{}\"", if dir { "d" } else { "f" }),
                "\"ok\"",
            ),
            None => ("null".into(), "null".into(), "null".into(), "null"),
        };
        format!(
            r#"{{"path":"{path}","kind":"{kind}","dir":{dir},"target":{target},"relative":{relative},"resolved":{resolved},"status":{status},"tag":null,"substitute_name":null,"print_name":null,"nlink":{nlink}"#
        )
    };
    let abs = format!("{real}/d");
    let table: [(&str, &str, String); 4] = [
        ("symlink", "f", record("L", "symlink", false, Some("f"), 1)),
        ("junction", "d", record("L", "symlink", true, Some(&abs), 1)),
        ("hardlink", "f", record("L", "hardlink", false, None, 2)),
        ("link", "d", record("L", "symlink", true, Some("d"), 1)),
    ];
    for (command, target, record) in table {
        for dry_run in [true, false] {
            let mut args = vec![command, "--json", "L", target];
            if dry_run {
                args.insert(1, "--dry-run");
            }
            let stdout = format!(
                "{record},\"action\":\"created\",\"old_target\":null,\"dry_run\":{dry_run},\"error\":null}}\n"
            );
            let out = fixture::output(&mut env.knot(&args));
            assert_eq!(out.status.code(), Some(0), "{args:?}");
            assert_eq!(String::from_utf8_lossy(&out.stdout), stdout, "{args:?}");
            assert_eq!(env.names().contains(&"L".to_owned()), !dry_run, "{args:?}");
        }
        // What was made reads back as the record said.
        let shown = fixture::output(&mut env.knot(["show", "--json", "L"]));
        assert_eq!(
            String::from_utf8_lossy(&shown.stdout),
            format!("{record}}}\n"),
            "{command}"
        );
        fs::remove_file(env.path("L")).unwrap();
    }
}

/// Every command that works on threads does its work on as many as the system gives: run
/// as an unprivileged user allowed few processes (`prlimit --nproc`, which counts threads),
/// with 400 threads asked for, scan, du, fix, hardlinks and apply print what they print
/// on one thread, exit as they do there, and say in a note that fewer threads were
/// started (they aborted, exit 134, when a thread could not be started).
#[cfg(target_os = "linux")]
#[test]
fn commands_work_on_the_threads_the_system_gives() {
    use std::os::unix::fs::PermissionsExt;
    if !rustix::process::geteuid().is_root() {
        // A process limit binds the user it is set for: another user than the one that
        // runs the tests, so root is needed to become it.
        let why = "not root: only root can run knot as another user with a process limit";
        return fixture::skip("KNOT_REQUIRE_LIMITS", "commands_work_on_the_threads", why);
    }
    let env = Env::new();
    env.mkdir("tree/a/b");
    env.mkdir("tree/c");
    env.file("tree/f", "x");
    fs::hard_link(env.path("tree/f"), env.path("tree/a/g")).unwrap();
    std::os::unix::fs::symlink("../f", env.path("tree/a/l")).unwrap();
    std::os::unix::fs::symlink("gone", env.path("tree/c/d")).unwrap();
    let manifest: String = (0..300)
        .map(|i| {
            format!(
                "{{\"path\": \"d{}/l{i}\", \"kind\": \"symlink\", \"target\": \"t\"}}\n",
                i % 30
            )
        })
        .collect();
    env.file("m.jsonl", &manifest);
    // The user `nobody` reads the tree, may change it (fix's dry run asks), and writes
    // the roots apply makes.
    for dir in ["", "tree", "tree/a", "tree/a/b", "tree/c"] {
        let mode = fs::Permissions::from_mode(0o777);
        fs::set_permissions(env.dir.path().join(dir), mode).unwrap();
    }
    let as_nobody = |args: &[&str], nproc| {
        let out = fixture::as_nobody_limited(&env, args, nproc);
        let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
        (out.status.code(), text(out.stdout), text(out.stderr))
    };
    let note = "note: the system started only ";
    for args in [
        &["scan", "tree", "--sort"][..],
        &["du", "tree"],
        &["fix", "tree", "--replace", "gone=back", "--dry-run"],
        &["hardlinks", "--groups", "tree"],
    ] {
        let one = [args, &["--threads", "1"]].concat();
        let many = [args, &["--threads", "400"]].concat();
        let (code, stdout, err) = as_nobody(&one, None);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        // Sixteen processes for the user: knot and at most fifteen threads of its own
        // (fewer while another test runs a knot as the same user).
        let (limited_code, limited_stdout, stderr) = as_nobody(&many, Some(16));
        assert_eq!(
            (limited_code, &limited_stdout),
            (code, &stdout),
            "{args:?}: {stderr}"
        );
        assert!(
            stderr.contains(note)
                && stderr.contains(" of the 400 threads asked for; the work was done on "),
            "{args:?}: {stderr}"
        );
    }
    let (code, stdout, _) = as_nobody(&["apply", "m.jsonl", "--root", "r", "--threads", "1"], None);
    assert_eq!(code, Some(0));
    assert_eq!(stdout.lines().count(), 300);
    fs::remove_dir_all(env.path("r")).unwrap();
    let (limited_code, limited_stdout, stderr) = as_nobody(
        &["apply", "m.jsonl", "--root", "r", "--threads", "400"],
        Some(16),
    );
    assert_eq!((limited_code, &limited_stdout), (code, &stdout), "{stderr}");
    assert!(stderr.contains(note), "{stderr}");
    let made: usize = (0..30)
        .map(|d| env.names_in(&format!("r/d{d}")).len())
        .sum();
    assert_eq!(made, 300);
}

/// A missing path is said as such, by every command that takes one, with the part that is
/// missing: the last name ("it does not exist", and where it was looked for), or a
/// directory on the way.
#[test]
fn a_missing_path_names_the_missing_part() {
    let env = Env::new();
    env.mkdir("a");
    for (args, verb) in [
        (&["show"][..], "inspect"),
        (&["rm"], "remove"),
        (&["du"], "scan"),
        (&["scan"], "scan"),
        (&["hardlinks"], "list the names of"),
        (&["convert", "--absolute"], "convert"),
    ] {
        for (path, cause, hint) in [
            (
                "a/gone",
                "it does not exist",
                "check the path: there is nothing called 'gone' in 'a'",
            ),
            (
                "no/gone",
                "the directory 'no' does not exist",
                "create the directory 'no' first, or check the path",
            ),
        ] {
            let out = fixture::output(env.knot(args).arg(path));
            assert_eq!(out.status.code(), Some(1), "{args:?} {path}");
            assert_eq!(
                String::from_utf8_lossy(&out.stderr),
                format!("knot: cannot {verb} '{path}': {cause}\nknot: hint: {hint}\n"),
                "{args:?} {path}"
            );
        }
    }
    let out = fixture::output(&mut env.knot(["apply", "gone.jsonl"]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "knot: cannot read the manifest 'gone.jsonl': it does not exist\n"
    );
}

/// Every command's help lists its own options, then the ones every command takes (`-q`,
/// `--color`) under a heading of their own, last.
#[test]
fn global_options_have_a_heading_of_their_own_in_every_help() {
    let env = Env::new();
    for command in [
        "scan",
        "symlink",
        "apply",
        "du",
        "hardlinks",
        "fix",
        "rm",
        "git-links",
        "move",
    ] {
        let out = fixture::output(&mut env.knot([command, "--help"]));
        assert_eq!(out.status.code(), Some(0), "{command}");
        let help = String::from_utf8_lossy(&out.stdout);
        let heading = help.find("\nGlobal options:\n").expect(command);
        let (own, global) = help.split_at(heading);
        assert!(
            global.contains("-q, --quiet") && global.contains("--color <WHEN>"),
            "{help}"
        );
        assert!(
            !own.contains("--quiet") && !own.contains("--color"),
            "{help}"
        );
    }
}

/// No inline code span in any help starts or ends with a space: a wrap at such a space
/// leaves a lone backtick at a line's end, and the span's meaning (two spaces before
/// `[dangling]`) is lost.
#[test]
fn no_code_span_in_any_help_is_padded_with_spaces() {
    let env = Env::new();
    let top = fixture::output(&mut env.knot(["--help"]));
    let top = String::from_utf8_lossy(&top.stdout).into_owned();
    let commands: Vec<String> = top
        .lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| !line.is_empty())
        // A command's line, not a wrapped description's.
        .filter(|line| !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .filter(|command| command != "help")
        .collect();
    assert!(commands.len() > 10, "{top}");
    for command in [None].into_iter().chain(commands.iter().map(Some)) {
        let args: Vec<&str> = command
            .map(String::as_str)
            .into_iter()
            .chain(["--help"])
            .collect();
        let out = fixture::output(&mut env.knot(&args));
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        // Wrapped lines joined again: a span may be wrapped between its words.
        let help = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(" ");
        for span in help.split('`').skip(1).step_by(2) {
            assert_eq!(span, span.trim(), "{args:?}: `{span}` in {help}");
        }
    }
}

/// A dry run refuses what the change itself would meet, with the same words, and makes
/// nothing: a directory this user may not change (create, rm, retarget, convert, apply),
/// a hard link to another file system, and a read-only file system.
#[cfg(target_os = "linux")]
#[test]
fn dry_runs_refuse_what_the_change_would_meet() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.mkdir("locked");
    env.file("f", "x");
    std::os::unix::fs::symlink("t", env.path("locked/l")).unwrap();
    env.file(
        "m.jsonl",
        "{\"path\": \"locked/n\", \"kind\": \"symlink\", \"target\": \"t\"}\n",
    );
    fs::set_permissions(env.path("locked"), fs::Permissions::from_mode(0o555)).unwrap();
    fs::set_permissions(env.dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let same = |args: &[&str], real: &[&str]| {
        let dry = fixture::as_nobody(&env, args);
        let change = fixture::as_nobody(&env, real);
        assert_eq!(dry.status.code(), Some(1), "{args:?}: {dry:?}");
        assert_eq!(
            String::from_utf8_lossy(&dry.stderr),
            String::from_utf8_lossy(&change.stderr),
            "{args:?}"
        );
        assert!(
            String::from_utf8_lossy(&dry.stderr).contains("may not change the directory 'locked'"),
            "{args:?}: {dry:?}"
        );
    };
    same(
        &["symlink", "--dry-run", "locked/n", "t"],
        &["symlink", "locked/n", "t"],
    );
    same(&["rm", "--dry-run", "locked/l"], &["rm", "locked/l"]);
    same(
        &["retarget", "--dry-run", "locked/l", "u"],
        &["retarget", "locked/l", "u"],
    );
    same(
        &["convert", "--absolute", "--dry-run", "locked/l"],
        &["convert", "--absolute", "locked/l"],
    );
    let dry = fixture::as_nobody(&env, &["apply", "--dry-run", "m.jsonl"]);
    assert_eq!(dry.status.code(), Some(1), "{dry:?}");
    assert!(
        String::from_utf8_lossy(&dry.stderr).contains("may not change the directory"),
        "{dry:?}"
    );
    assert_eq!(env.names_in("locked"), ["l"]);
    // Another file system, read-only after: a tmpfs mounted in the directory (root).
    env.mkdir("mnt");
    let test = "dry_runs_refuse_what_the_change_would_meet";
    let Some(_mount) = fixture::tmpfs(test, &env.path("mnt")) else {
        return;
    };
    let out = fixture::output(&mut env.knot(["hardlink", "--dry-run", "mnt/h", "f"]));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is on another file system"),
        "{out:?}"
    );
    let remount = std::process::Command::new("mount")
        .args(["-o", "remount,ro"])
        .arg(env.path("mnt"))
        .status()
        .unwrap();
    assert!(remount.success());
    let out = fixture::output(&mut env.knot(["symlink", "--dry-run", "mnt/l", "t"]));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("read-only"),
        "{out:?}"
    );
    assert!(env.names_in("mnt").is_empty());
}
