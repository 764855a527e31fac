//! Temporary names nobody can plant (DESIGN.md promise 9): knot sets a link aside, or builds
//! its replacement, under a hidden name beside it, `.NAME.knot~` and 16 hex digits drawn at
//! random. Anyone who can write the directory can create names there first; `knot rm` and
//! `--force` must succeed all the same, and leave what was planted as it was.
//!
//! A name can only be planted ahead of knot if it can be predicted, so the tests plant
//! every name a predictable knot would reach for: the process ID in the older form
//! `.NAME.knot~PID`, and in the current form the process ID and the first counter values,
//! as 16 hex digits. A knot that drew any of them, and gave up when the name was taken,
//! fails these tests.

use crate::fixture::Env;

/// The shell function `plant PREFIX CMD`: creates, with `CMD` (`mkdir`, or `touch`), every
/// name above for the link name in `PREFIX` (`.l.knot~`), and prints `$$`.
const PLANT: &str = r#"plant() {
    for n in $$ 0 1 2 3 4 5 6 7 8; do "$2" -- "$1$(printf %016x "$n")" || return; done
    "$2" -- "$1$$" && echo $$
}
"#;

/// Runs `script` in `sh` in the directory, with `$KNOT` the binary: `exec "$KNOT" ...`
/// gives knot the shell's PID, which `$$` names in advance.
fn sh(env: &Env, script: &str) -> std::process::Output {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{PLANT}{script}"))
        .env("KNOT", assert_cmd::cargo::cargo_bin("knot"))
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The names `plant` made for the link `link`, with the PID it printed on the first line
/// (knot's report follows).
fn planted(link: &str, out: &std::process::Output) -> Vec<String> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let pid: u64 = stdout.lines().next().unwrap().parse().unwrap();
    let mut names: Vec<String> = [pid, 0, 1, 2, 3, 4, 5, 6, 7, 8]
        .iter()
        .map(|n| format!(".{link}.knot~{n:016x}"))
        .collect();
    names.push(format!(".{link}.knot~{pid}"));
    names
}

#[test]
fn names_planted_for_knots_pid_do_not_stop_rm_or_force() {
    let env = Env::new();
    env.file("a", "a");
    std::os::unix::fs::symlink("a", env.path("l")).unwrap();
    let out = sh(&env, r#"plant .l.knot~ mkdir && exec "$KNOT" rm -q l"#);
    let mut want = planted("l", &out);
    want.push("a".into());
    want.sort();
    want.dedup();
    assert_eq!(env.names(), want);
    assert!(env.path("a").exists() && !env.path("l").exists());

    std::os::unix::fs::symlink("a", env.path("m")).unwrap();
    let out = sh(
        &env,
        r#"plant .m.knot~ touch && exec "$KNOT" symlink -q --force m b"#,
    );
    assert_eq!(
        std::fs::read_link(env.path("m")).unwrap(),
        std::path::Path::new("b")
    );
    // What was planted is left as it was.
    want.extend(planted("m", &out));
    want.push("m".into());
    want.sort();
    want.dedup();
    assert_eq!(env.names(), want);
}
