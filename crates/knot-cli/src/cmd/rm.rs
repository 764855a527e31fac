//! `knot rm PATH...`: links removed, never a regular file or directory.

use std::path::PathBuf;

use clap::Args;
use knot::ChangeMode;

use crate::args::{Format, FormatArgs, path_arg};
use crate::cmd::{Decide, Run};
use crate::context::Context;
use crate::exit::Exit;
use crate::report::{Messages, Printer, error, quote, stored_name};

#[derive(Args, Debug)]
pub struct RmArgs {
    /// Links to remove (a trailing slash, as tab completion adds, names what a link
    /// points at, so `knot rm l/` is refused and says to run `knot rm l`).
    #[arg(required = true, value_name = "PATH", value_parser = path_arg())]
    paths: Vec<PathBuf>,
    /// Say what would be removed, and remove nothing.
    #[arg(long, short = 'n')]
    dry_run: bool,
    #[command(flatten)]
    format: FormatArgs,
}

/// `knot rm`, fully decided (also junction's `-d`).
#[derive(Debug)]
pub struct RmSettings {
    pub paths: Vec<PathBuf>,
    pub mode: ChangeMode,
    pub format: Format,
}

impl Decide for RmArgs {
    type Settings = RmSettings;
    fn decide(self) -> RmSettings {
        RmSettings {
            paths: self.paths,
            mode: crate::args::mode(self.dry_run),
            format: self.format.format(),
        }
    }
}

impl Run for RmSettings {
    fn run(&self, context: &Context) -> Exit {
        let (mode, format) = (self.mode, self.format);
        let mut printer = Printer::new(format, Messages::of(context));
        for path in &self.paths {
            match knot::remove(path, mode) {
                Ok(link) if format == Format::Human => {
                    let verb = if mode == ChangeMode::DryRun {
                        "would remove"
                    } else {
                        "removed"
                    };
                    let target = link
                        .target
                        .as_deref()
                        .map(|t| format!(" -> '{}'", stored_name(&link, t.as_os_str())));
                    let _ = printer.line(&format!(
                        "{verb} {} {}{}",
                        link.kind,
                        quote(path.as_os_str()),
                        target.unwrap_or_default()
                    ));
                }
                Ok(link) => {
                    let _ = printer.record(&link);
                }
                Err(err) => {
                    let _ = printer.flush();
                    error::fail(&err, context);
                }
            }
        }
        Exit::Success
    }
}
