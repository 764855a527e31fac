//! knot: the command-line front end, as a library for the `knot` binary (`main.rs`) and
//! the fuzz targets (`fuzz/`), which reach the parsers of untrusted input through
//! [`fuzzing`]. The command line becomes `cmd::Settings` (knot's own commands, or a
//! drop-in front end's in `compat`), the library does the work, and `report` prints
//! the records and messages.
//!
//! Dependencies flow one way: [`main`] -> `compat` -> `cmd` -> `report` -> the leaves
//! `args`, `context` and `exit`.

mod args;
mod cmd;
mod compat;
mod context;
mod exit;
mod report;

use std::process::ExitCode;

use crate::context::Environment;
use crate::exit::Exit;

/// A run of knot on this process's command line and environment: `main`'s whole work.
pub fn main() -> ExitCode {
    std::process::Termination::report(run())
}

fn run() -> Exit {
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

/// The parsers of untrusted input, for the fuzz targets: a manifest's lines, and the
/// `mklink` and `junction` command lines. Not knot's library API (that is the `knot`
/// crate): what it offers may change with any release.
#[doc(hidden)]
pub mod fuzzing {
    use std::ffi::OsString;

    use crate::context::Environment;

    /// Reads `bytes` as `knot apply` reads a manifest, a part of `part` bytes at a time
    /// on `threads` threads, and hands each line's record (or why there is none) to
    /// `each`, with the line's number from 0.
    pub fn manifest(
        bytes: Vec<u8>,
        part: usize,
        threads: usize,
        mut each: impl FnMut(usize, Result<&knot::Record, String>),
    ) {
        let Ok(manifest) = crate::cmd::apply::Manifest::new(std::io::Cursor::new(bytes)) else {
            return;
        };
        let mut manifest = manifest.with_part(part);
        while let Some(lines) = manifest.next_part(threads) {
            for (number, read) in lines {
                each(number, read.as_ref().map_err(ToString::to_string));
            }
        }
    }

    /// Parses `args` as `mklink` would take them (without the program's name): whether
    /// they were taken as a command.
    pub fn mklink(args: &[OsString]) -> bool {
        crate::compat::mklink::parse(args, Environment::PIPED).is_ok()
    }

    /// Parses `args` as Sysinternals' `junction` would take them (without the program's
    /// name): whether they were taken as a command.
    pub fn junction(args: &[OsString]) -> bool {
        crate::compat::junction::parse(args, Environment::PIPED).is_ok()
    }
}
