//! Sysinternals `junction [-s] [-q] [-d] [-nobanner] [-accepteula] <path> [<target>]`.

use std::ffi::OsString;

use crate::Exit;
use crate::cli::{Environment, Settings};

/// Parses junction's arguments (`args` without the program's name).
pub fn parse(args: &[OsString], env: Environment) -> Result<Settings, Exit> {
    let _ = (args, env);
    crate::output::to_stderr("junction: this front end is not built yet\n");
    Err(Exit::Usage)
}
