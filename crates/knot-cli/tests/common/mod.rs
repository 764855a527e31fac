//! What the black-box tests share: a temporary directory to run `knot` in, an exact-output
//! assertion, and the golden vectors (fd's `tests/testenv`).

#![allow(dead_code, reason = "each test file uses its own part of this module")]

use std::ffi::OsStr;
use std::fs;
use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

/// A temporary directory that knot runs in.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The directory with its links resolved, as `resolved` fields show it.
    pub fn real(&self) -> PathBuf {
        fs::canonicalize(self.dir.path()).unwrap()
    }

    pub fn mkdir(&self, name: &str) {
        fs::create_dir_all(self.path(name)).unwrap();
    }

    pub fn file(&self, name: &str, contents: &str) {
        fs::write(self.path(name), contents).unwrap();
    }

    /// `knot ARGS...`, run in the directory, with colour left to knot's own judgement.
    pub fn knot<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(&self, args: I) -> Command {
        let mut cmd = knot();
        cmd.current_dir(self.dir.path()).args(args);
        cmd
    }

    /// The names in the directory, sorted: to check that nothing was left behind.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

/// The `knot` binary under test.
pub fn knot() -> Command {
    let mut cmd = Command::cargo_bin("knot").unwrap();
    cmd.env_remove("NO_COLOR");
    cmd
}

/// Runs `cmd` to its end. Two failures to start are not knot's, and the start (and only
/// the start) is tried again, a bounded number of times:
/// - Under Wine on a busy machine, creating a process now and then fails with
///   ERROR_INTERNAL_ERROR (1359) before the program starts.
/// - On Linux, running a copy of the binary that a test has just written (the front-end
///   tests run knot as `MKLINK.EXE`) fails with ETXTBSY while a child that another test
///   thread forked during the copy still holds the copy's descriptor, until that child
///   execs and the descriptor closes (it is close-on-exec).
pub fn output(cmd: &mut Command) -> std::process::Output {
    const WINE_INTERNAL_ERROR: i32 = 1359;
    const TEXT_FILE_BUSY: i32 = 26;
    let mut last = None;
    for _ in 0..50 {
        match cmd.output() {
            Ok(out) => return out,
            Err(err) if err.raw_os_error() == Some(WINE_INTERNAL_ERROR) => last = Some(err),
            Err(err) if cfg!(target_os = "linux") && err.raw_os_error() == Some(TEXT_FILE_BUSY) => {
                last = Some(err);
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(err) => panic!("cannot run {cmd:?}: {err}"),
        }
    }
    panic!("cannot run {cmd:?}: {last:?}")
}

/// Runs `cmd` and checks its exit code, standard output and standard error exactly.
pub fn run(cmd: &mut Command, code: i32, stdout: &str, stderr: &str) {
    use assert_cmd::assert::OutputAssertExt;
    output(cmd)
        .assert()
        .code(code)
        .stdout(stdout.to_owned())
        .stderr(stderr.to_owned());
}

/// Runs `cmd`, checks that it succeeds, and parses its JSON Lines output.
pub fn records(cmd: &mut Command) -> Vec<Value> {
    use assert_cmd::assert::OutputAssertExt;
    let out = output(cmd).assert().code(0).get_output().stdout.clone();
    out.split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice(line).unwrap())
        .collect()
}

/// [`records`] for a command that prints exactly one record.
pub fn record(cmd: &mut Command) -> Value {
    let mut all = records(cmd);
    assert_eq!(all.len(), 1, "one record: {all:?}");
    all.remove(0)
}

/// The golden vectors, from the codec crate's `tests/vectors/vectors.json`, built into the
/// test binary so that it needs nothing beside the clone (and carries them under Wine).
pub fn vectors() -> Vec<Value> {
    const VECTORS: &str = include_str!("../../../reparse/tests/vectors/vectors.json");
    let list: Vec<Value> = serde_json::from_str(VECTORS).unwrap();
    assert!(!list.is_empty(), "vectors.json is empty");
    list
}

/// The bytes of the golden vector `name`.
pub fn vector(name: &str) -> Vec<u8> {
    let list = vectors();
    let found = list.iter().find(|v| v["name"] == name);
    unhex(found.expect(name)["hex"].as_str().unwrap())
}

pub fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[cfg(unix)]
/// Runs knot as the unprivileged user `nobody`, so permission bits apply even when the
/// tests run as root.
pub fn as_nobody(env: &Env, args: &[&str]) -> std::process::Output {
    let knot = assert_cmd::cargo::cargo_bin("knot");
    let root = std::process::Command::new("id").arg("-u").output().unwrap();
    let mut cmd = if String::from_utf8_lossy(&root.stdout).trim() == "0" {
        // setpriv is in util-linux, on every Debian system.
        let mut cmd = std::process::Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(&knot);
        cmd
    } else {
        std::process::Command::new(&knot)
    };
    cmd.args(args)
        .current_dir(env.dir.path())
        .output()
        .unwrap_or_else(|e| panic!("cannot run knot through setpriv (util-linux): {e}"))
}
