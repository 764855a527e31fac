//! Temporary names nobody can plant (issue 10.15, DESIGN.md promise 9): knot used to set a
//! link aside, or build its replacement, under `.NAME.knot~PID`, so anyone who could write
//! the directory could make `knot rm` or `--force` fail by creating that name first.

use crate::fixture::Env;

/// Runs `script` in `sh` in the directory, with `$KNOT` the binary: `exec "$KNOT" ...`
/// gives knot the shell's PID, which `$$` names in advance.
fn sh(env: &Env, script: &str) -> std::process::Output {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .env("KNOT", assert_cmd::cargo::cargo_bin("knot"))
        .current_dir(env.dir.path())
        .output()
        .unwrap()
}

#[test]
fn names_planted_for_knots_pid_do_not_stop_rm_or_force() {
    let env = Env::new();
    env.file("a", "a");
    std::os::unix::fs::symlink("a", env.path("l")).unwrap();
    let out = sh(&env, r#"mkdir ".l.knot~$$" && exec "$KNOT" rm -q l"#);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(env.names().len(), 2, "{:?}", env.names());
    assert!(env.path("a").exists() && !env.path("l").exists());

    std::os::unix::fs::symlink("a", env.path("m")).unwrap();
    let out = sh(
        &env,
        r#"echo planted > ".m.knot~$$" && exec "$KNOT" symlink -q --force m b"#,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_link(env.path("m")).unwrap(),
        std::path::Path::new("b")
    );
    // What was planted is left as it was.
    assert_eq!(env.names().len(), 4, "{:?}", env.names());
}
