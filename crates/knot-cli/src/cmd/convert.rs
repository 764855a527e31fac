//! `knot convert`: links rewritten between relative and absolute targets, or between
//! junctions and directory symlinks, reported in the one shape of the link-maintenance
//! commands ([`crate::report::change`]).

use std::path::PathBuf;

use clap::Args;
use knot::{ConvertOptions, ConvertTo, Kind};

use crate::args::{ChangeArgs, DriveArg, Format, path_arg};
use crate::cmd::{Decide, Run};
use crate::context::Context;
use crate::exit::Exit;
use crate::report::change::retargeted;
use crate::report::{Messages, Printer, error};

#[derive(Args, Debug)]
#[command(group(
    clap::ArgGroup::new("form")
        .required(true)
        .args(["relative", "absolute", "to_symlink", "to_junction"])
))]
pub struct ConvertArgs {
    /// The links to convert (with --recursive, also directories: every link below).
    #[arg(required = true, value_name = "PATH", value_parser = path_arg())]
    paths: Vec<PathBuf>,
    /// Make each symlink's target relative to the link's directory.
    #[arg(long)]
    relative: bool,
    /// Make each symlink's target absolute.
    #[arg(long)]
    absolute: bool,
    /// Replace each junction by a directory symlink to the same directory.
    #[arg(long)]
    to_symlink: bool,
    /// Replace each directory symlink by a junction (where junctions exist: Windows,
    /// NTFS through ntfs-3g).
    #[arg(long)]
    to_junction: bool,
    /// Convert every link below each directory PATH.
    #[arg(long, short = 'r')]
    recursive: bool,
    #[command(flatten)]
    drive: DriveArg,
    #[command(flatten)]
    change: ChangeArgs,
}

/// `knot convert`, fully decided.
#[derive(Debug)]
pub struct ConvertSettings {
    paths: Vec<PathBuf>,
    to: ConvertTo,
    recursive: bool,
    options: ConvertOptions,
    format: Format,
}

impl Decide for ConvertArgs {
    type Settings = ConvertSettings;
    fn decide(self) -> ConvertSettings {
        let to = if self.relative {
            ConvertTo::Relative
        } else if self.absolute {
            ConvertTo::Absolute
        } else if self.to_symlink {
            ConvertTo::Symlink
        } else {
            ConvertTo::Junction
        };
        let options = ConvertOptions {
            mode: self.change.mode(),
            drive: self.drive.drive,
        };
        ConvertSettings {
            paths: self.paths,
            to,
            recursive: self.recursive,
            options,
            format: self.change.format(),
        }
    }
}

/// `knot convert --relative|--absolute|--to-symlink|--to-junction PATH... [--recursive]`.
impl Run for ConvertSettings {
    fn run(&self, context: &Context) -> Exit {
        let (to, recursive, options, format) =
            (self.to, self.recursive, &self.options, self.format);
        let dry_run = options.mode == knot::ChangeMode::DryRun;
        let mut printer = Printer::new(format, Messages::of(context));
        let mut failed = false;
        for path in &self.paths {
            let is_dir = knot::inspect(path).is_ok_and(|link| link.kind == Kind::Dir);
            if !(recursive && is_dir) {
                let result = knot::convert(path, to, options);
                failed |= retargeted(&mut printer, format, path, result, dry_run, context).is_err();
                continue;
            }
            // Every link below, converted through the one tree walk as it finds them; reported
            // in path order, so the report reads the same on every run.
            let mut links = Vec::new();
            knot::convert_tree(path, to, options, |item| match item {
                Ok(converted) => links.push(converted),
                Err(err) => {
                    let _ = printer.flush();
                    error::fail(&err, context);
                }
            });
            links.sort_by(|(a, _), (b, _)| a.cmp(b));
            for (link, result) in links {
                failed |=
                    retargeted(&mut printer, format, &link, result, dry_run, context).is_err();
            }
        }
        Exit::failed_if(failed)
    }
}
