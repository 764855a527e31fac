//! Black-box tests of the shell integration: the completion scripts load in
//! their shells and complete, the man page renders with man-db, and `--color` decides the
//! colour of scan's records whatever NO_COLOR and the pipe say.
//!
//! The shells and man are installed by scripts/test-deps.sh. A test whose tool is missing
//! says why and passes; with `KNOT_REQUIRE_SHELLS=1` (as CI sets) it fails instead.

use std::io::Write as _;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};

use crate::fixture::{self, Env, knot, output, run};

/// Every command of knot, as the scripts and the page must name them.
const COMMANDS: [&str; 23] = [
    "symlink",
    "junction",
    "hardlink",
    "link",
    "show",
    "rm",
    "retarget",
    "convert",
    "scan",
    "du",
    "fix",
    "hardlinks",
    "apply",
    "copy",
    "snapshot",
    "materialize",
    "move",
    "git-links",
    "compat",
    "reparse",
    "completions",
    "man",
    "decode",
];

/// The pages `knot man --dir` writes, in the order it writes them.
const PAGES: [&str; 24] = [
    "knot.1",
    "knot-symlink.1",
    "knot-junction.1",
    "knot-hardlink.1",
    "knot-link.1",
    "knot-show.1",
    "knot-rm.1",
    "knot-retarget.1",
    "knot-convert.1",
    "knot-scan.1",
    "knot-du.1",
    "knot-fix.1",
    "knot-hardlinks.1",
    "knot-apply.1",
    "knot-copy.1",
    "knot-snapshot.1",
    "knot-materialize.1",
    "knot-move.1",
    "knot-git-links.1",
    "knot-compat.1",
    "knot-reparse.1",
    "knot-reparse-decode.1",
    "knot-completions.1",
    "knot-man.1",
];

/// The tool `name` from the system's directories, or `None` (after saying why) when it is
/// not installed.
fn tool(test: &str, name: &str, package: &str) -> Option<PathBuf> {
    if package == "man-db" && cfg!(target_os = "macos") {
        let why = "macOS's man is not man-db, and has no `man -l`";
        fixture::skip("KNOT_REQUIRE_SHELLS", test, why);
        return None;
    }
    let found = ["/usr/bin", "/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|path| path.exists());
    if found.is_none() {
        let why = format!("{name} is not installed (apt-get install {package})");
        fixture::skip("KNOT_REQUIRE_SHELLS", test, &why);
    }
    found
}

/// `knot ARGS`, which must succeed; its standard output.
fn stdout_of(args: &[&str]) -> String {
    let out = output(knot().args(args));
    assert_eq!(out.status.code(), Some(0), "knot {args:?}: {out:?}");
    assert!(out.stderr.is_empty(), "knot {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `program ARGS` with `input` on standard input; its exit code, stdout and stderr.
fn feed(program: &Path, args: &[&str], input: &str) -> (Option<i32>, String, String) {
    let mut child = Process::new(program)
        .args(args)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "80")
        .env("LC_ALL", "C.UTF-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn knot_path() -> PathBuf {
    assert_cmd::cargo::cargo_bin("knot")
}

/// bash loads the script with a plain `source` (no bash-completion package needed),
/// registers it for `knot`, and completes commands and `--color`'s values.
#[test]
#[cfg_attr(
    target_os = "macos",
    ignore = "macOS's bash is 3.2, which has no `complete -o nosort` (bash 4.4) and cannot `source` a process substitution"
)]
fn the_bash_script_loads_and_completes() {
    let Some(bash) = tool("the_bash_script_loads_and_completes", "bash", "bash") else {
        return;
    };
    let script = format!(
        r#"source <("{}" completions bash) || exit 9
complete -p knot
COMP_WORDS=(knot sc); COMP_CWORD=1; _knot knot sc knot; printf '%s\n' "${{COMPREPLY[@]}}"
COMP_WORDS=(knot --color ''); COMP_CWORD=2; _knot knot '' --color
printf '%s\n' "${{COMPREPLY[@]}}""#,
        knot_path().display()
    );
    let (code, stdout, stderr) = feed(&bash, &["-c", &script], "");
    assert_eq!(
        (code, stdout.as_str(), stderr.as_str()),
        (
            Some(0),
            "complete -o bashdefault -o default -o nosort -F _knot knot\nscan\nauto\nalways\nnever\n",
            ""
        )
    );
}

/// zsh parses the script, and compinit finds it as `_knot` in a directory of `$fpath`, the
/// place the README tells to install it.
#[test]
fn the_zsh_script_parses_and_is_found_in_fpath() {
    let Some(zsh) = tool("the_zsh_script_parses_and_is_found_in_fpath", "zsh", "zsh") else {
        return;
    };
    let env = Env::new();
    env.file("_knot", &stdout_of(&["completions", "zsh"]));
    let script = env.path("_knot");
    let (code, stdout, stderr) = feed(&zsh, &["-n", script.to_str().unwrap()], "");
    assert_eq!((code, stdout.as_str(), stderr.as_str()), (Some(0), "", ""));
    let load = format!(
        "fpath=({} $fpath); autoload -Uz compinit; compinit -u -d {}; print -r -- $_comps[knot]",
        env.dir.path().display(),
        env.path("zcompdump").display()
    );
    let (code, stdout, stderr) = feed(&zsh, &["-f", "-c", &load], "");
    assert_eq!(
        (code, stdout.as_str(), stderr.as_str()),
        (Some(0), "_knot\n", "")
    );
}

/// fish parses the script and, once sourced, completes knot's commands with their help.
#[test]
fn the_fish_script_parses_and_completes() {
    let Some(fish) = tool("the_fish_script_parses_and_completes", "fish", "fish") else {
        return;
    };
    let env = Env::new();
    env.file("knot.fish", &stdout_of(&["completions", "fish"]));
    let script = env.path("knot.fish");
    let script = script.to_str().unwrap();
    let (code, stdout, stderr) = feed(&fish, &["-n", script], "");
    assert_eq!((code, stdout.as_str(), stderr.as_str()), (Some(0), "", ""));
    let complete =
        format!("source {script}; complete -C 'knot sc'; complete -C 'knot scan --color '");
    let (code, stdout, stderr) = feed(&fish, &["--no-config", "-c", &complete], "");
    assert_eq!(
        (code, stdout.as_str(), stderr.as_str()),
        (
            Some(0),
            "scan\tList every link under DIR... (default: the current directory), one record \
             each\nalways\tAlways, even into a pipe or a file, and with NO_COLOR set (as in fd \
             and ripgrep)\nauto\tOnly when standard output is a terminal, and never when \
             NO_COLOR is set\nnever\tNever\n",
            ""
        )
    );
}

/// PowerShell and elvish are not in Debian's archive: their scripts are checked for what
/// they must hold, every command of knot under the name `knot`.
#[test]
fn every_script_names_every_command() {
    for (shell, register) in [
        ("bash", "complete -F _knot"),
        ("zsh", "#compdef knot"),
        ("fish", "complete -c knot"),
        (
            "powershell",
            "Register-ArgumentCompleter -Native -CommandName 'knot'",
        ),
        ("elvish", "set edit:completion:arg-completer[knot]"),
    ] {
        let script = stdout_of(&["completions", shell]);
        assert!(script.contains(register), "{shell}: {register}");
        for command in COMMANDS {
            assert!(script.contains(command), "{shell}: {command}");
        }
    }
}

/// The commands `knot ARGS... --help` lists under `Commands:`: each entry's first word,
/// on a line indented by two spaces (a wrapped description is indented further).
fn commands_in_help(args: &[&str]) -> Vec<String> {
    let mut args = args.to_vec();
    args.push("--help");
    let help = stdout_of(&args);
    help.lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| !line.is_empty())
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .map(|line| line.split_whitespace().next().unwrap().to_owned())
        .collect()
}

/// Every command path of knot's help, subcommands of subcommands included, `help` too.
fn command_paths() -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut pending = vec![Vec::<String>::new()];
    while let Some(parent) = pending.pop() {
        let args: Vec<&str> = parent.iter().map(String::as_str).collect();
        for name in commands_in_help(&args) {
            let mut path = parent.clone();
            path.push(name.clone());
            if name != "help" {
                pending.push(path.clone());
            }
            paths.push(path);
        }
    }
    paths
}

/// Each script names each command where its shell looks the command up, in the form its
/// clap generator writes (a `case` label, a completer key, a completion of the parent),
/// so a command left out of one fails here even when its name is written elsewhere (in
/// another command's help, say). The commands come from `knot --help`, so a new command
/// is checked without being added to a list.
#[test]
fn every_script_completes_every_command_of_the_help() {
    let paths = command_paths();
    let mut names: Vec<&str> = paths
        .iter()
        .map(|path| path.last().unwrap().as_str())
        .filter(|name| *name != "help")
        .collect();
    names.sort_unstable();
    let mut listed = COMMANDS.to_vec();
    listed.sort_unstable();
    assert_eq!(names, listed, "the commands of the help are the man page's");
    let scripts: Vec<(&str, String)> = ["bash", "zsh", "fish", "powershell", "elvish"]
        .into_iter()
        .map(|shell| (shell, stdout_of(&["completions", shell])))
        .collect();
    let has_line = |script: &str, line: &str| script.lines().any(|l| l.trim() == line);
    for path in &paths {
        let (name, parents) = path.split_last().unwrap();
        let bash_parent: String = parents.iter().fold("knot".to_owned(), |id, parent| {
            format!("{id}__subcmd__{parent}")
        });
        let key = format!("knot;{}", path.join(";"));
        for (shell, script) in &scripts {
            let found = match *shell {
                // `knot,du)` then `cmd="knot__subcmd__du"`.
                // clap_complete spells a `-` in a name as `__subcmd__` in bash's ids.
                "bash" => {
                    let id = name.replace('-', "__subcmd__");
                    has_line(script, &format!("{bash_parent},{name})"))
                        && has_line(script, &format!("cmd=\"{bash_parent}__subcmd__{id}\""))
                }
                // `(du)` in the parent's `case`, and `'du:about'` among its choices.
                "zsh" => {
                    has_line(script, &format!("({name})"))
                        && script
                            .lines()
                            .any(|l| l.trim().starts_with(&format!("'{name}:")))
                }
                // Offered where the parent's command is (or is still to be) given.
                "fish" => {
                    let condition = match parents.last() {
                        None => "\"__fish_knot_needs_command\"".to_owned(),
                        Some(parent) => format!(
                            "\"__fish_knot_using_subcommand {parent}; and not \
                             __fish_seen_subcommand_from"
                        ),
                    };
                    let offered = format!("-f -a \"{name}\" -d ");
                    script.lines().any(|l| {
                        l.starts_with(&format!("complete -c knot -n {condition}"))
                            && l.contains(&offered)
                    })
                }
                // `'knot;du' {` and `&'knot;du'= {`: the completer of the command itself.
                "powershell" => has_line(script, &format!("'{key}' {{")),
                _ => has_line(script, &format!("&'{key}'= {{")),
            };
            assert!(found, "{shell} does not complete {path:?}");
        }
    }
}

/// Each command's help opens with the description `knot --help` lists for it, not with
/// that of a group of options it takes: cli.rs builds a command's arguments only when it
/// runs, after its description (`commands!`).
#[test]
fn each_command_s_help_opens_with_its_own_description() {
    for path in command_paths() {
        let (name, parents) = path.split_last().unwrap();
        if name == "help" {
            continue;
        }
        let mut args: Vec<&str> = parents.iter().map(String::as_str).collect();
        args.push("--help");
        let listing = stdout_of(&args);
        let listed = listing
            .lines()
            .find_map(|line| {
                let rest = line.strip_prefix("  ")?.strip_prefix(name.as_str())?;
                rest.starts_with(' ').then(|| rest.trim_start())
            })
            .unwrap_or_else(|| panic!("knot {args:?} does not list {name}"));
        let opening = listed
            .split_whitespace()
            .take(4)
            .collect::<Vec<_>>()
            .join(" ");
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        // du takes -h for --human, as du does: its help is --help alone.
        args.push(if name == "du" { "--help" } else { "-h" });
        let help = stdout_of(&args);
        assert!(
            help.starts_with(&opening),
            "knot {args:?} opens with {:?}, not {opening:?}",
            help.lines().next()
        );
    }
}

/// The scripts offer a command's own options first, then the global ones, then `--help`
/// and `--version`, and `knot help reparse` completes `decode`: they come from knot's
/// definition with every command built at once, never from the parser's, which builds a
/// command only when it runs (cli.rs, `commands!`).
#[test]
fn the_scripts_offer_a_command_s_own_options_before_the_global_ones() {
    let bash = stdout_of(&["completions", "bash"]);
    let opts: Vec<&str> = bash
        .lines()
        .filter_map(|line| line.trim().strip_prefix("opts=\""))
        .filter(|opts| opts.contains("--quiet"))
        .collect();
    assert!(opts.len() > COMMANDS.len(), "{opts:?}");
    for line in &opts {
        // du declares its own --help (-h is --human there, as in du): it comes with du's
        // options, before the global ones.
        let last = if line.contains("--human") {
            "--threads --help --quiet --color --version"
        } else {
            "--quiet --color --help --version"
        };
        assert!(line.contains(last), "{line}");
    }
    assert!(opts.contains(
        &"-f -n -q -h -V --dir --file --relative --absolute --drive --force --dry-run --json \
          --quiet --color --help --version\""
    ));
    assert!(
        bash.lines()
            .any(|line| line.trim() == "knot__subcmd__help__subcmd__reparse,decode)")
    );
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    run(
        knot().args(["completions", "tcsh"]),
        2,
        "",
        "error: invalid value 'tcsh' for '<SHELL>'\n  \
         [possible values: bash, elvish, fish, powershell, zsh]\n\n  \
         tip: a similar value exists: 'zsh'\n\n\
         For more information, try '--help'.\n",
    );
}

/// `knot man | man -l -` renders one page: its NAME, knot's options, and a subsection
/// for every command with that command's own options.
#[test]
fn the_man_page_renders_with_man() {
    let Some(man) = tool("the_man_page_renders_with_man", "man", "man-db") else {
        return;
    };
    let page = stdout_of(&["man"]);
    let (code, text, stderr) = feed(&man, &["-l", "-"], &page);
    assert_eq!((code, stderr.as_str()), (Some(0), ""), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    let section = |name: &str| lines.iter().filter(|l| **l == name).count();
    for name in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "COMMANDS",
        "EXIT STATUS",
        "ENVIRONMENT",
        "EXAMPLES",
    ] {
        assert_eq!(section(name), 1, "{name} in\n{text}");
    }
    // man-pages(7) order: EXIT STATUS, ENVIRONMENT and EXAMPLES after the commands.
    let at = |name: &str| lines.iter().position(|l| *l == name).unwrap();
    assert!(at("COMMANDS") < at("EXIT STATUS"), "{text}");
    assert!(at("EXIT STATUS") < at("ENVIRONMENT") && at("ENVIRONMENT") < at("EXAMPLES"));
    let exit_status = lines[at("EXIT STATUS")..at("ENVIRONMENT")].join("\n");
    for code in ["0", "1", "2", "3"] {
        let listed = exit_status
            .lines()
            .any(|l| l.trim_start().starts_with(code));
        assert!(listed, "exit status {code} in\n{exit_status}");
    }
    assert!(lines[at("ENVIRONMENT") + 1].trim() == "NO_COLOR", "{text}");
    assert!(
        text.contains("knot fix ~/src --broken --delete --dry-run"),
        "{text}"
    );
    // Synopses give each option's value, as --help does.
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for option in [
        "[--color WHEN]",
        "[--threads N]",
        "[--root DIR]",
        "[--drive X:]",
    ] {
        assert!(flat.contains(option), "{option} in\n{text}");
    }
    assert!(lines[0].starts_with("knot(1)"), "{text}");
    let name = lines.iter().position(|l| *l == "NAME").unwrap();
    let words: Vec<&str> = lines[name + 1].split_whitespace().collect();
    assert_eq!(
        words[..6],
        ["knot", "-", "Create,", "inspect,", "find,", "repair"],
        "{text}"
    );
    for command in COMMANDS {
        let heading = match command {
            "decode" => "   knot reparse decode".to_owned(),
            _ => format!("   knot {command}"),
        };
        assert_eq!(section(&heading), 1, "{heading} in\n{text}");
    }
    for option in [
        "--color <WHEN>",
        "--dry-run",
        "--broken",
        "--relative",
        "--dir <DIR>",
    ] {
        assert!(text.contains(option), "{option} in\n{text}");
    }
    // Global options are on the page once, not again under every command.
    assert_eq!(text.matches("Silence notes").count(), 1, "{text}");
}

/// `knot man --dir DIR` writes the same knot.1 and a page per command, each a page that
/// man renders under its own name.
#[test]
fn man_dir_writes_a_page_per_command() {
    let env = Env::new();
    env.mkdir("man1");
    let listed: String = PAGES.iter().map(|p| format!("man1/{p}\n")).collect();
    run(&mut env.knot(["man", "--dir", "man1"]), 0, &listed, "");
    let names = env.names_in("man1");
    let mut expected = PAGES.map(str::to_owned).to_vec();
    expected.sort();
    assert_eq!(names, expected);
    let page = std::fs::read_to_string(env.path("man1/knot.1")).unwrap();
    assert_eq!(page, stdout_of(&["man"]));
    let Some(man) = tool("man_dir_writes_a_page_per_command", "man", "man-db") else {
        return;
    };
    let scan = std::fs::read_to_string(env.path("man1/knot-scan.1")).unwrap();
    let (code, text, stderr) = feed(&man, &["-l", "-"], &scan);
    assert_eq!((code, stderr.as_str()), (Some(0), ""), "{text}");
    assert!(text.starts_with("knot-scan(1)"), "{text}");
    assert!(text.contains("--broken"), "{text}");
}

#[test]
fn man_dir_that_is_missing_names_it_and_the_fix() {
    let env = Env::new();
    run(
        &mut env.knot(["man", "--dir", "nowhere"]),
        1,
        "",
        "knot: cannot write the man pages into 'nowhere': No such file or directory (os \
         error 2)\n\
         knot: hint: --dir names a directory that exists and can be written; create it \
         first (mkdir -p 'nowhere')\n",
    );
}

/// `knot man --dir DIR` writes only files it makes, inside DIR: a link planted at a page's
/// name (to a file outside DIR, or to a name that does not exist) is not written through,
/// a FIFO is not opened (which would block), a directory is left. Each is refused by
/// name with the fix, the other pages are written, it exits 1, and no hidden name stays.
#[test]
fn man_dir_never_writes_through_what_was_planted_in_it() {
    let env = Env::new();
    env.mkdir("man1");
    env.file("victim", "precious");
    symlink("../victim", env.path("man1/knot.1")).unwrap();
    symlink("../missing", env.path("man1/knot-symlink.1")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(env.path("man1/knot-junction.1"))
        .status()
        .unwrap();
    assert!(fifo.success());
    env.mkdir("man1/knot-hardlink.1");
    let listed: String = PAGES[4..].iter().map(|p| format!("man1/{p}\n")).collect();
    run(
        // A FIFO opened for writing blocks until a reader comes: bounded, not hung.
        env.knot(["man", "--dir", "man1"])
            .timeout(std::time::Duration::from_secs(60)),
        1,
        &listed,
        "knot: cannot write 'man1/knot.1': a symlink is in the way\n\
         knot: hint: remove it (knot rm man1/knot.1) or choose another directory\n\
         knot: cannot write 'man1/knot-symlink.1': a symlink is in the way\n\
         knot: hint: remove it (knot rm man1/knot-symlink.1) or choose another directory\n\
         knot: cannot write 'man1/knot-junction.1': a FIFO is in the way\n\
         knot: hint: remove it (rm man1/knot-junction.1) or choose another directory\n\
         knot: cannot write 'man1/knot-hardlink.1': a directory is in the way\n\
         knot: hint: remove it (rmdir man1/knot-hardlink.1) or choose another directory\n",
    );
    assert_eq!(
        std::fs::read_to_string(env.path("victim")).unwrap(),
        "precious"
    );
    assert!(env.path("missing").symlink_metadata().is_err());
    assert_eq!(env.names(), ["man1", "victim"]);
    let names = env.names_in("man1");
    let mut expected = PAGES.map(str::to_owned).to_vec();
    expected.sort();
    assert_eq!(names, expected, "no hidden name left behind");
    // What was planted is as it was.
    assert_eq!(
        std::fs::read_link(env.path("man1/knot.1")).unwrap(),
        Path::new("../victim")
    );
    assert_eq!(
        std::fs::read_link(env.path("man1/knot-symlink.1")).unwrap(),
        Path::new("../missing")
    );
    let fifo = std::fs::symlink_metadata(env.path("man1/knot-junction.1")).unwrap();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&fifo.file_type()));
    assert!(
        std::fs::read_dir(env.path("man1/knot-hardlink.1"))
            .unwrap()
            .next()
            .is_none()
    );
    let page = std::fs::read_to_string(env.path("man1/knot-man.1")).unwrap();
    assert!(page.starts_with(".ie "), "{page}");
}

/// A regular file at a page's name is an old page: replaced by the new one, never
/// written into, so a hard link planted there (a second name of a file outside DIR)
/// leaves that file as it was.
#[test]
fn man_dir_replaces_an_old_page_without_writing_into_it() {
    let env = Env::new();
    env.mkdir("man1");
    env.file("victim", "precious");
    std::fs::hard_link(env.path("victim"), env.path("man1/knot.1")).unwrap();
    env.file("man1/knot-scan.1", "an old page");
    let listed: String = PAGES.iter().map(|p| format!("man1/{p}\n")).collect();
    run(&mut env.knot(["man", "--dir", "man1"]), 0, &listed, "");
    assert_eq!(
        std::fs::read_to_string(env.path("victim")).unwrap(),
        "precious"
    );
    let page = std::fs::read_to_string(env.path("man1/knot.1")).unwrap();
    assert_eq!(page, stdout_of(&["man"]));
    let scan = std::fs::read_to_string(env.path("man1/knot-scan.1")).unwrap();
    assert!(scan.contains("knot-scan"), "{scan}");
}

/// A tree whose scan prints one dangling link, coloured: the target in cyan and the
/// status in red.
fn dangling() -> Env {
    let env = Env::new();
    symlink("nowhere", env.path("l")).unwrap();
    env
}

const PLAIN: &str = "./l -> nowhere  [dangling]\n";
const COLOURED: &str = "./l -> \x1b[36mnowhere\x1b[0m  \x1b[31m[dangling]\x1b[0m\n";

/// `--color=always` colours into a pipe, and wins over NO_COLOR, wherever it stands on
/// the command line (it is a global option).
#[test]
fn color_always_colours_a_pipe_even_with_no_color() {
    let env = dangling();
    run(&mut env.knot(["--color=always", "scan"]), 0, COLOURED, "");
    run(
        &mut env.knot(["scan", "--color", "always"]),
        0,
        COLOURED,
        "",
    );
    run(
        env.knot(["scan", "--color=always"]).env("NO_COLOR", "1"),
        0,
        COLOURED,
        "",
    );
}

/// Auto (the default) does not colour a pipe; never does not colour; the last --color
/// wins.
#[test]
fn auto_and_never_do_not_colour_a_pipe() {
    let env = dangling();
    run(&mut env.knot(["scan"]), 0, PLAIN, "");
    run(&mut env.knot(["scan", "--color=auto"]), 0, PLAIN, "");
    run(
        env.knot(["--color=auto", "scan"]).env("NO_COLOR", "1"),
        0,
        PLAIN,
        "",
    );
    run(&mut env.knot(["scan", "--color=never"]), 0, PLAIN, "");
    run(
        &mut env.knot(["--color=always", "scan", "--color=never"]),
        0,
        PLAIN,
        "",
    );
}

#[test]
fn a_bad_color_is_a_usage_error() {
    run(
        knot().args(["scan", "--color=sometimes"]),
        2,
        "",
        "error: invalid value 'sometimes' for '--color <WHEN>'\n  \
         [possible values: auto, always, never]\n\n\
         For more information, try '--help'.\n",
    );
}

/// clap's own help follows --color too: coloured with always, even into a pipe and with
/// NO_COLOR, and plain with never.
#[test]
fn help_follows_color() {
    let always = output(
        knot()
            .args(["--color=always", "scan", "--help"])
            .env("NO_COLOR", "1"),
    );
    assert_eq!(always.status.code(), Some(0));
    assert!(always.stdout.starts_with(b"List every link"));
    assert!(always.stdout.contains(&0x1b), "{always:?}");
    let never = output(knot().args(["--color=never", "scan", "--help"]));
    assert_eq!(never.status.code(), Some(0));
    assert!(!never.stdout.contains(&0x1b), "{never:?}");
    let auto = output(knot().args(["scan", "--help"]));
    assert_eq!(auto.stdout, never.stdout);
}
