//! `knot symlink`, `knot junction`, `knot hardlink` and `knot link`: their arguments, the
//! one settings they decide, the create and its report (a line, or with `--json` a
//! `created` change record; notes on standard error).

use std::path::{Path, PathBuf};

use clap::Args;
use knot::{
    ChangeMode, CreateOptions, Created, Flavour, LinkType, Made, Note, Replace, TargetForm,
};

use crate::args::{ChangeArgs, DriveArg, Format, path_arg};
use crate::cmd::{Decide, Run};
use crate::context::Context;
use crate::exit::Exit;
use crate::report::change::{Action, ChangeRecord};
use crate::report::{Messages, Printer, error, quote, stored_name};

// LINK and TARGET, in that order (no doc comment: see `commands!` in cmd/mod.rs).
#[derive(Args, Debug)]
pub struct PathsArgs {
    /// The link to create.
    #[arg(value_name = "LINK", value_parser = path_arg())]
    link: PathBuf,
    /// What the link points at.
    #[arg(value_name = "TARGET", value_parser = path_arg())]
    target: PathBuf,
}

#[derive(Args, Debug)]
pub struct ForceArg {
    /// Replace LINK if it is already a link (atomically on Linux's native file systems); a
    /// real file or directory is never replaced.
    #[arg(short, long)]
    force: bool,
}

impl ForceArg {
    fn replace(&self) -> Replace {
        if self.force {
            Replace::Links
        } else {
            Replace::Never
        }
    }
}

#[derive(Args, Debug)]
pub struct SymlinkArgs {
    #[command(flatten)]
    paths: PathsArgs,
    /// Make a directory symlink (checked against TARGET when it exists).
    #[arg(long, conflicts_with = "file")]
    dir: bool,
    /// Make a file symlink (checked against TARGET when it exists).
    #[arg(long)]
    file: bool,
    /// Store the target as a path relative to the link's directory
    /// (TARGET is then read from the current directory, like `ln -sr`).
    #[arg(long, conflicts_with = "absolute")]
    relative: bool,
    /// Store the target as an absolute path (TARGET is read from the current directory).
    #[arg(long)]
    absolute: bool,
    #[command(flatten)]
    drive: DriveArg,
    #[command(flatten)]
    force: ForceArg,
    #[command(flatten)]
    change: ChangeArgs,
}

#[derive(Args, Debug)]
pub struct JunctionArgs {
    #[command(flatten)]
    paths: PathsArgs,
    #[command(flatten)]
    drive: DriveArg,
    #[command(flatten)]
    force: ForceArg,
    #[command(flatten)]
    change: ChangeArgs,
}

#[derive(Args, Debug)]
pub struct HardlinkArgs {
    #[command(flatten)]
    paths: PathsArgs,
    #[command(flatten)]
    force: ForceArg,
    #[command(flatten)]
    change: ChangeArgs,
}

#[derive(Args, Debug)]
pub struct BestArgs {
    #[command(flatten)]
    paths: PathsArgs,
    #[command(flatten)]
    force: ForceArg,
    #[command(flatten)]
    change: ChangeArgs,
}

/// A create, fully decided (knot's four creates, mklink's and junction's).
#[derive(Debug)]
pub struct CreateSettings {
    pub link: PathBuf,
    pub target: PathBuf,
    pub ty: LinkType,
    pub options: CreateOptions,
    /// Make the link, or only check and say what would be made.
    pub mode: ChangeMode,
    pub format: Format,
}

impl CreateSettings {
    fn of(paths: PathsArgs, ty: LinkType, options: CreateOptions, change: &ChangeArgs) -> Self {
        CreateSettings {
            link: paths.link,
            target: paths.target,
            ty,
            options,
            mode: change.mode(),
            format: change.format(),
        }
    }
}

impl Decide for SymlinkArgs {
    type Settings = CreateSettings;
    fn decide(self) -> CreateSettings {
        let flavour = match (self.dir, self.file) {
            (true, _) => Some(Flavour::Dir),
            (_, true) => Some(Flavour::File),
            _ => None,
        };
        let form = match (self.relative, self.absolute) {
            (true, _) => TargetForm::Relative,
            (_, true) => TargetForm::Absolute,
            _ => TargetForm::AsGiven,
        };
        let options = CreateOptions {
            flavour,
            form,
            replace: self.force.replace(),
            drive: self.drive.drive,
            ..Default::default()
        };
        CreateSettings::of(self.paths, LinkType::Symlink, options, &self.change)
    }
}

impl Decide for JunctionArgs {
    type Settings = CreateSettings;
    fn decide(self) -> CreateSettings {
        let options = CreateOptions {
            replace: self.force.replace(),
            drive: self.drive.drive,
            ..Default::default()
        };
        CreateSettings::of(self.paths, LinkType::Junction, options, &self.change)
    }
}

impl Decide for HardlinkArgs {
    type Settings = CreateSettings;
    fn decide(self) -> CreateSettings {
        let options = CreateOptions {
            replace: self.force.replace(),
            ..Default::default()
        };
        CreateSettings::of(self.paths, LinkType::Hardlink, options, &self.change)
    }
}

impl Decide for BestArgs {
    type Settings = CreateSettings;
    fn decide(self) -> CreateSettings {
        let options = CreateOptions {
            replace: self.force.replace(),
            ..Default::default()
        };
        CreateSettings::of(self.paths, LinkType::Best, options, &self.change)
    }
}

impl Run for CreateSettings {
    fn run(&self, context: &Context) -> Exit {
        let messages = Messages::of(context);
        let dry_run = self.mode == ChangeMode::DryRun;
        let made = if dry_run {
            knot::create_dry_run(&self.link, &self.target, self.ty, &self.options)
        } else {
            knot::create(&self.link, &self.target, self.ty, &self.options)
        };
        match made {
            Ok(created) if self.format == Format::Json => {
                report_created_json(&created, dry_run, messages)
            }
            Ok(created) => report_created(&created, &self.target, self.ty, dry_run, messages),
            Err(err) => error::fail(&err, context),
        }
        Exit::Success
    }
}

fn report_created(
    created: &Created,
    given: &Path,
    asked: LinkType,
    dry_run: bool,
    messages: Messages,
) {
    let link = &created.link;
    let what = match created.made {
        Made::Junction => "junction",
        Made::Hardlink => "hard link",
        _ => match (asked, link.dir) {
            (LinkType::Best, Some(knot::Flavour::Dir)) => "directory symlink",
            (LinkType::Best, Some(knot::Flavour::File)) => "file symlink",
            _ => "symlink",
        },
    };
    let arrow = if created.made == Made::Hardlink {
        "=>"
    } else {
        "->"
    };
    // A hard link stores no target: name the one given (which may itself be a symlink,
    // linked as it is).
    let target = match (created.made, link.target.as_deref()) {
        (Made::Hardlink, _) | (_, None) => quote(given.as_os_str()),
        (_, Some(stored)) => format!("'{}'", stored_name(link, stored.as_os_str())),
    };
    let mut printer = Printer::new(Format::Human, messages);
    // Output never stops the work (DESIGN.md promise 8): a lost line changes nothing here.
    let _ = printer.line(&format!(
        "{} {what} {} {arrow} {target}",
        Action::Created.verb(dry_run),
        quote(link.path.as_os_str()),
    ));
    report_notes(created, dry_run, messages);
}

/// A create's notes, on standard error; a dry run says what would be done.
fn report_notes(created: &Created, dry_run: bool, messages: Messages) {
    for note in &created.notes {
        messages.note(&match (note, dry_run) {
            (Note::Replaced, true) => "would replace the existing link".to_owned(),
            (Note::NoJunctions, true) => "this file system has no junctions; would make an \
                                          absolute directory symlink instead"
                .to_owned(),
            _ => note.to_string(),
        });
    }
}

/// `--json` on a create: the link's record (as it would be, in a dry run) as a `created`
/// change record; the notes go to standard error as in the human report.
fn report_created_json(created: &Created, dry_run: bool, messages: Messages) {
    let mut printer = Printer::new(Format::Json, messages);
    // Output never stops the work (DESIGN.md promise 8): a lost line changes nothing here.
    let _ = printer.json(&ChangeRecord {
        record: knot::Record::from(&created.link),
        action: Action::Created,
        old_target: None,
        dry_run,
        error: None,
    });
    let _ = printer.flush();
    report_notes(created, dry_run, messages);
}
