//! What a run knows about itself before any command runs: the program it was started as
//! (its name and dialect), the terminals, colour, quietness and the arguments as typed.
//! A leaf: it imports nothing from the rest of the crate.

use std::ffi::{OsStr, OsString};
use std::path::Path;

/// When output is coloured (`--color`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Color {
    /// Only when standard output is a terminal, and never when NO_COLOR is set.
    #[default]
    Auto,
    /// Always, even into a pipe or a file, and with NO_COLOR set (as in fd and ripgrep).
    Always,
    /// Never.
    Never,
}

impl From<Color> for clap::ColorChoice {
    fn from(color: Color) -> clap::ColorChoice {
        match color {
            Color::Auto => clap::ColorChoice::Auto,
            Color::Always => clap::ColorChoice::Always,
            Color::Never => clap::ColorChoice::Never,
        }
    }
}

/// The `--color` a command line asks for, read before clap parses it, so that clap's own
/// help and usage errors follow it too; the last one wins, as clap reads it. A value clap
/// will refuse counts as auto (clap then prints why, exit 2).
pub fn color_in(args: &[OsString]) -> Color {
    use clap::ValueEnum as _;
    let mut color = Color::Auto;
    let mut words = args.iter().skip(1).map(|a| a.to_str());
    while let Some(word) = words.next() {
        let value = match word {
            Some("--") => break,
            Some("--color") => words.next().flatten(),
            Some(word) => word.strip_prefix("--color="),
            None => None,
        };
        if let Some(chosen) = value.and_then(|v| Color::from_str(v, false).ok()) {
            color = chosen;
        }
    }
    color
}

/// Which syntax a run speaks, from the name the binary was run under (DESIGN.md section
/// 2: the same binary, run as `mklink` or `junction`, is a drop-in front end).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// knot's own commands.
    Knot,
    /// cmd's `mklink [[/D] | [/H] | [/J]] Link Target`.
    Mklink,
    /// Sysinternals `junction [-s] [-q] [-d] [-nobanner] [-accepteula] <path> [<target>]`.
    Junction,
}

impl Dialect {
    /// The dialect of a binary run as `argv0`: its file name without directory or `.exe`,
    /// in any case (Windows file names are); knot's own for any other name.
    pub fn from_argv0(argv0: &OsStr) -> Dialect {
        let name = Path::new(argv0)
            .file_name()
            .map(|name| name.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        match name.strip_suffix(".exe").unwrap_or(&name) {
            "mklink" => Dialect::Mklink,
            "junction" => Dialect::Junction,
            _ => Dialect::Knot,
        }
    }
}

/// Who is speaking: the name messages start with and the syntax the arguments were read
/// in, so that messages and hints (the swapped-arguments hint) name the program the user
/// ran, not a fixed "knot".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Program {
    /// The prefix of every message and the first word of a suggested command.
    pub name: &'static str,
    /// The syntax the arguments were read in.
    pub dialect: Dialect,
}

impl Program {
    /// knot, speaking its own syntax.
    pub const KNOT: Program = Program {
        name: "knot",
        dialect: Dialect::Knot,
    };

    /// cmd's mklink, as `mklink` or `knot compat mklink`.
    pub const MKLINK: Program = Program {
        name: "mklink",
        dialect: Dialect::Mklink,
    };

    /// Sysinternals' junction, as `junction` or `knot compat junction`.
    pub const JUNCTION: Program = Program {
        name: "junction",
        dialect: Dialect::Junction,
    };

    /// The program a binary run as `argv0` is.
    pub fn from_argv0(argv0: &OsStr) -> Program {
        match Dialect::from_argv0(argv0) {
            Dialect::Knot => Program::KNOT,
            Dialect::Mklink => Program::MKLINK,
            Dialect::Junction => Program::JUNCTION,
        }
    }
}

/// What a run learns about its process before it parses anything: the only place the
/// environment and the terminals are looked at; everything below reads [`Settings`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Environment {
    /// Whether standard output is a terminal.
    pub stdout_terminal: bool,
    /// Whether standard error is a terminal.
    pub stderr_terminal: bool,
    /// Whether `NO_COLOR` is set to something (<https://no-color.org>: an empty value does
    /// not count).
    pub no_color: bool,
}

impl Environment {
    /// A process whose output goes into pipes, with `NO_COLOR` unset: what tests vary,
    /// and what the fuzz targets run in.
    pub const PIPED: Environment = Environment {
        stdout_terminal: false,
        stderr_terminal: false,
        no_color: false,
    };

    /// This process's facts.
    pub fn of_this_process() -> Environment {
        use std::io::IsTerminal as _;
        Environment {
            stdout_terminal: std::io::stdout().is_terminal(),
            stderr_terminal: std::io::stderr().is_terminal(),
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        }
    }
}

/// Whether output is coloured and where terminals are, decided once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Terminal {
    /// Standard output is a terminal: records go out at once, not in batches.
    pub stdout: bool,
    /// Standard error is a terminal: long work shows progress there.
    pub stderr: bool,
    /// Records are coloured: as `--color` says; in auto, only on a terminal and never when
    /// `NO_COLOR` is set.
    pub color: bool,
}

impl Terminal {
    /// The terminals, with colour as `color` asks: in auto only on a terminal and never
    /// when `NO_COLOR` is set; `always` wins over `NO_COLOR`, as in fd and ripgrep. (The
    /// front ends, which have no `--color`, pass [`Color::Auto`].)
    pub fn of(env: Environment, color: Color) -> Terminal {
        Terminal {
            stdout: env.stdout_terminal,
            stderr: env.stderr_terminal,
            color: match color {
                Color::Auto => env.stdout_terminal && !env.no_color,
                Color::Always => true,
                Color::Never => false,
            },
        }
    }
}

/// Whether error messages (and the hints that go with them) are printed. knot always
/// prints them; junction's `-q` ("Don't print error messages") hides them, and the exit
/// code still says what failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorMessages {
    Shown,
    Hidden,
}

/// Everything a run knows besides its command, decided before anything is done.
#[derive(Debug)]
pub struct Context {
    pub quiet: bool,
    pub program: Program,
    /// The arguments after the program's name, as typed, for the hints that suggest a
    /// corrected command line.
    pub args: Vec<OsString>,
    pub terminal: Terminal,
    /// Whether errors are printed (junction's `-q` hides them; the exit code stays).
    pub errors: ErrorMessages,
    /// A front end's banner, printed on standard output before anything else, followed
    /// by an empty line (junction without `-nobanner`).
    pub banner: Option<&'static str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const PIPED: Environment = Environment::PIPED;

    #[test]
    fn the_dialect_comes_from_the_name_the_binary_was_run_under() {
        for (argv0, dialect) in [
            ("knot", Dialect::Knot),
            ("/usr/local/bin/knot", Dialect::Knot),
            ("knot.exe", Dialect::Knot),
            ("mklink", Dialect::Mklink),
            ("./MKLINK.EXE", Dialect::Mklink),
            ("mklink.exe", Dialect::Mklink),
            ("junction", Dialect::Junction),
            ("/opt/Junction.exe", Dialect::Junction),
            ("junction64", Dialect::Knot),
            ("my-mklink", Dialect::Knot),
            ("", Dialect::Knot),
        ] {
            assert_eq!(Dialect::from_argv0(argv0.as_ref()), dialect, "{argv0}");
        }
    }

    #[test]
    fn each_name_is_its_own_program() {
        for (argv0, program) in [
            ("knot", Program::KNOT),
            ("MkLink.EXE", Program::MKLINK),
            ("junction.exe", Program::JUNCTION),
        ] {
            assert_eq!(Program::from_argv0(argv0.as_ref()), program);
        }
    }

    #[test]
    fn colour_only_on_a_terminal_and_never_with_no_color() {
        for (stdout_terminal, no_color, color) in [
            (false, false, false),
            (false, true, false),
            (true, false, true),
            (true, true, false),
        ] {
            let env = Environment {
                stdout_terminal,
                no_color,
                ..PIPED
            };
            assert_eq!(Terminal::of(env, Color::Auto).color, color, "{env:?}");
        }
        let env = Environment {
            stderr_terminal: true,
            ..PIPED
        };
        assert_eq!(
            Terminal::of(env, Color::Auto),
            Terminal {
                stdout: false,
                stderr: true,
                color: false
            }
        );
    }

    /// `--color always` colours into a pipe and wins over NO_COLOR (as in fd and ripgrep);
    /// `--color never` never colours, not even on a terminal.
    #[test]
    fn always_and_never_override_the_terminal_and_no_color() {
        for stdout_terminal in [false, true] {
            for no_color in [false, true] {
                let env = Environment {
                    stdout_terminal,
                    no_color,
                    ..PIPED
                };
                assert!(Terminal::of(env, Color::Always).color, "{env:?}");
                assert!(!Terminal::of(env, Color::Never).color, "{env:?}");
                let terminal = Terminal::of(env, Color::Never);
                assert_eq!((terminal.stdout, terminal.stderr), (stdout_terminal, false));
            }
        }
    }

    /// clap's own help and errors follow the same `--color`, read before clap parses.
    #[test]
    fn the_color_is_read_before_parsing_for_clap_s_own_output() {
        for (args, color) in [
            (&["knot"][..], Color::Auto),
            (&["knot", "--color=always", "--help"], Color::Always),
            (&["knot", "scan", "--color", "never", "frob"], Color::Never),
            (&["knot", "--color=never", "--color=always"], Color::Always),
            (&["knot", "--color=purple"], Color::Auto),
            (&["knot", "show", "--", "--color=never"], Color::Auto),
        ] {
            let args: Vec<OsString> = args.iter().map(OsString::from).collect();
            assert_eq!(color_in(&args), color, "{args:?}");
        }
    }
}
