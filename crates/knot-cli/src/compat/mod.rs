//! The front door and the drop-in front ends (DESIGN.md section 2): a run speaks knot's
//! own commands ([`crate::cmd`]), cmd's `mklink` or Sysinternals `junction`, by the name
//! the binary runs under, or as `knot compat mklink ...` / `knot compat junction ...`.
//! Each front end is only another parser that produces the same
//! [`Settings`](crate::cmd::Settings) as knot's own commands (STYLE.md point 9), and keeps
//! its own words: the program's dialect picks the messages.

pub mod junction;
pub mod mklink;

use std::ffi::OsString;

use crate::cmd::compat::FrontEnd;
use crate::cmd::{self, Command, Settings};
use crate::context::{Dialect, Environment, Program};
use crate::exit::Exit;
use crate::report::{Format, Messages, Printer};

/// Parses a command line (the program's name first) in the dialect of the program it
/// names. On a usage error, or for help and version, the text is printed and the run ends
/// with the [`Exit`] returned.
pub fn parse(args: impl IntoIterator<Item = OsString>, env: Environment) -> Result<Settings, Exit> {
    let args: Vec<OsString> = args.into_iter().collect();
    let program = Program::from_argv0(args.first().map(OsString::as_os_str).unwrap_or_default());
    let rest = args.get(1..).unwrap_or_default();
    match program.dialect {
        Dialect::Mklink => return mklink::parse(rest, env),
        Dialect::Junction => return junction::parse(rest, env),
        Dialect::Knot => {}
    }
    // `knot compat FRONT ARGS...`: every word of ARGS is the front end's. Through clap, a
    // `-q` among them would be taken as knot's own global `-q` and never reach junction.
    if let [_, compat, front, rest @ ..] = args.as_slice()
        && compat == "compat"
    {
        match front.to_str() {
            Some("mklink") => return mklink::parse(rest, env),
            Some("junction") => return junction::parse(rest, env),
            _ => {}
        }
    }
    let settings = cmd::parse(args, program, env)?;
    match settings.command {
        Command::Compat(front) => match front.front_end {
            FrontEnd::Mklink => mklink::parse(&front.args, env),
            FrontEnd::Junction => junction::parse(&front.args, env),
        },
        _ => Ok(settings),
    }
}

/// Carries out a run in its dialect: a front end's banner first, then the command, in the
/// front end's words or knot's.
pub fn run(settings: &Settings) -> Exit {
    let context = &settings.context;
    if let Some(banner) = context.banner {
        // A lost banner changes nothing here; main turns an output error into exit 1.
        let _ = Printer::new(Format::Human, Messages::of(context)).text(&format!("{banner}\n\n"));
    }
    match (context.program.dialect, &settings.command) {
        (Dialect::Junction, _) => junction::run(settings),
        (
            Dialect::Mklink,
            Command::Symlink(create) | Command::Hardlink(create) | Command::Junction(create),
        ) => mklink::run(create, context),
        (_, command) => command.run(context),
    }
}
