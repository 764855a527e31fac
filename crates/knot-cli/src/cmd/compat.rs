//! `knot compat FRONT ARGS...`: the drop-in front ends by name. Its settings name the
//! front end and its arguments, which [`crate::compat::parse`] hands to that front end's
//! parser before anything runs.

use std::ffi::OsString;

use clap::Args;

use crate::cmd::{Decide, Run};
use crate::context::Context;
use crate::exit::Exit;

/// The front ends `knot compat` runs.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrontEnd {
    /// cmd's `mklink [[/D] | [/H] | [/J]] Link Target`.
    Mklink,
    /// Sysinternals' `junction [-s] [-q] [-d] [-nobanner] [-accepteula] <path> [<target>]`.
    Junction,
}

#[derive(Args, Debug)]
pub struct CompatArgs {
    /// The front end.
    #[arg(value_enum)]
    pub front_end: FrontEnd,
    /// Its arguments, exactly as that program takes them.
    #[arg(
        value_name = "ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true,
        num_args = 0..
    )]
    pub args: Vec<OsString>,
}

impl Decide for CompatArgs {
    type Settings = CompatArgs;
    fn decide(self) -> CompatArgs {
        self
    }
}

impl Run for CompatArgs {
    /// Never reached: [`crate::compat::parse`] replaces these settings by the front end's
    /// own before the run starts. Should it be, nothing is done and the run is a usage
    /// error.
    fn run(&self, _: &Context) -> Exit {
        Exit::Usage
    }
}
