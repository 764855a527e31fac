//! `knot retarget LINK NEW_TARGET`: the link changed in place, reported in the one shape
//! of the link-maintenance commands ([`crate::report::change`]).

use std::path::PathBuf;

use clap::Args;
use knot::RetargetOptions;

use crate::args::{ChangeArgs, DriveArg, Format, path_arg};
use crate::cmd::{Decide, Run};
use crate::context::Context;
use crate::exit::Exit;
use crate::report::change::retargeted;
use crate::report::{Messages, Printer};

#[derive(Args, Debug)]
pub struct RetargetArgs {
    /// The link to change: a symlink or a junction.
    #[arg(value_name = "LINK", value_parser = path_arg())]
    link: PathBuf,
    /// Its new target.
    #[arg(value_name = "NEW_TARGET", value_parser = path_arg())]
    target: PathBuf,
    #[command(flatten)]
    drive: DriveArg,
    #[command(flatten)]
    change: ChangeArgs,
}

/// `knot retarget`, fully decided.
#[derive(Debug)]
pub struct RetargetSettings {
    link: PathBuf,
    target: PathBuf,
    options: RetargetOptions,
    format: Format,
}

impl Decide for RetargetArgs {
    type Settings = RetargetSettings;
    fn decide(self) -> RetargetSettings {
        let options = RetargetOptions {
            mode: self.change.mode(),
            drive: self.drive.drive,
        };
        RetargetSettings {
            link: self.link,
            target: self.target,
            options,
            format: self.change.format(),
        }
    }
}

/// `knot retarget LINK NEW_TARGET`.
impl Run for RetargetSettings {
    fn run(&self, context: &Context) -> Exit {
        let (link, target, options, format) =
            (&self.link, &self.target, &self.options, self.format);
        let dry_run = options.mode == knot::ChangeMode::DryRun;
        let mut printer = Printer::new(format, Messages::of(context));
        let result = knot::retarget(link, target, options);
        match retargeted(&mut printer, format, link, result, dry_run, context) {
            // A failure was reported, and marked.
            Ok(()) | Err(()) => Exit::Success,
        }
    }
}
