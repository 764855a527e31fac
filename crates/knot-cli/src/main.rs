//! knot: the command-line front end. The command line becomes [`cmd::Settings`] (knot's
//! own commands, or a drop-in front end's in [`compat`]), the library does the work, and
//! [`report`] prints the records and messages.
//!
//! Dependencies flow one way: `main` -> `compat` -> `cmd` -> `report` -> the leaves
//! `args`, `context` and `exit`.

mod args;
mod cmd;
mod compat;
mod context;
mod exit;
mod report;

use crate::context::Environment;
use crate::exit::Exit;

fn main() -> Exit {
    let env = Environment::of_this_process();
    let settings = match compat::parse(std::env::args_os(), env) {
        Ok(settings) => settings,
        Err(exit) => return exit,
    };
    let exit = compat::run(&settings);
    // An error reported along the way makes the run a failure; so does output lost to a
    // full disk or an I/O error (reported once when it happened), but not a closed pipe
    // (DESIGN.md section 2).
    exit.merge(Exit::failed_if(
        report::error::errored() || report::stdout_failed(),
    ))
}
