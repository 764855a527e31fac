//! cmd's `mklink [[/D] | [/H] | [/J]] Link Target`.

use std::ffi::OsString;

use crate::Exit;
use crate::cli::{Environment, Settings};

/// Parses mklink's arguments (`args` without the program's name).
pub fn parse(args: &[OsString], env: Environment) -> Result<Settings, Exit> {
    let _ = (args, env);
    crate::output::to_stderr("mklink: this front end is not built yet\n");
    Err(Exit::Usage)
}
