//! `knot move DIR NEW`: a directory moved elsewhere, a link left at its old place; `knot
//! move --back LINK`: the data moved back to the link's place, the link removed.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use knot::{ChangeMode, Event, Leave, MoveOptions, Moved, Step};
use serde::Serialize;

use crate::args::{DriveArg, Format, path_arg};
use crate::cmd::{Decide, Run};
use crate::context::Context;
use crate::exit::Exit;
use crate::report::{Messages, Printer, error, quote, to_stderr};

/// `knot move --help`.
pub const LONG_ABOUT: &str = "Move the directory DIR to the new path NEW and leave a link \
at DIR that leads to NEW, so whatever used DIR finds its data still: the classic \"move \
this game, cache or profile folder to another drive and leave a junction\". knot move \
--back LINK undoes it: the data goes back to LINK's place and the link is removed.\n\n\
--leave junction (the default where junctions exist: Windows, and NTFS volumes mounted \
with ntfs-3g), symlink (the default elsewhere: a directory symlink with NEW's absolute \
path) or none. A junction asked where there are none is refused, with the fix.\n\n\
On one file system the move is one rename, which never replaces anything, then the link. \
Across file systems (another drive, volume or mount) DIR is copied as knot copy copies a \
tree (links kept as links, inner links made to lead inside NEW, hard links kept) into a \
hidden name beside NEW; the copy is checked against DIR (the same entries, kinds, sizes \
and link targets; with --verify every file's bytes too), renamed to NEW, DIR renamed \
aside to a hidden name, the link made, and the old data removed as knot rm --tree removes \
a tree (never through a link). A copy that fails (no space, a file that cannot be read) \
or differs is removed and DIR left as it was; a link that cannot be made puts DIR back.\n\n\
A crash at any step leaves the data whole in at least one place:\n\
  after the rename (one file system): the data at NEW, no link at DIR yet\n\
  during the copy or check: DIR whole; a part copy at .NEW.knot~... beside NEW\n\
  after the copy is renamed to NEW: DIR whole, NEW whole\n\
  after DIR is set aside: NEW whole, the old data at .DIR.knot~... beside DIR\n\
  after the link is made: moved; the old data at .DIR.knot~... (knot rm --tree it)\n\
--back takes the same steps the other way: the data renamed (or copied and checked) to \
a hidden name beside LINK, then swapped with the link in one step where the file system \
can (else the link removed, then the data renamed), then the old data removed. A crash \
leaves the data whole at its place or at the hidden name beside LINK.\n\n\
Refused, with nothing changed: DIR a link (use --back to undo a move), not a directory, \
the root, . or .., or holding the current directory or a mount point; NEW there already \
or inside DIR. --back refuses anything but a junction or directory symlink that leads \
straight to a real directory: a real directory, a file symlink, a dangling link, a link \
to a link.\n\n\
Each step is printed as it is taken (with --dry-run only the steps, which expect a \
rename where DIR and NEW's directory are on one mount); with --json, one record per \
step: step (rename, copy, check, set-aside, junction, symlink, remove-link, remove-tree), \
path, to and dry_run. A summary follows on standard error.\n\n\
Exit codes: 0 moved, 1 refused or failed (the error says where the data is), 2 usage \
error.";

/// What to leave at DIR.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LeaveArg {
    /// A junction (Windows; NTFS through ntfs-3g).
    Junction,
    /// A directory symlink with NEW's absolute path.
    Symlink,
    /// No link.
    None,
}

// Arguments of `knot move` (no doc comment: see `commands!` in cmd/mod.rs).
#[derive(Args, Debug)]
pub struct MoveArgs {
    /// The directory to move.
    #[arg(
        value_name = "DIR",
        value_parser = path_arg(),
        required_unless_present = "back",
        conflicts_with = "back"
    )]
    dir: Option<PathBuf>,
    /// Its new path, which must not exist (on this or another file system).
    #[arg(
        value_name = "NEW",
        value_parser = path_arg(),
        required_unless_present = "back",
        conflicts_with = "back"
    )]
    new: Option<PathBuf>,
    /// Move the data the junction or directory symlink LINK leads to back to LINK's place,
    /// and remove the link: the undo of knot move.
    #[arg(long, value_name = "LINK", value_parser = path_arg())]
    back: Option<PathBuf>,
    /// What to leave at DIR (default: a junction where junctions exist, else a symlink).
    #[arg(long, value_enum, value_name = "KIND", conflicts_with = "back")]
    leave: Option<LeaveArg>,
    /// Across file systems, compare every file's bytes with its copy before DIR is given
    /// up, not only the entries, kinds, sizes and link targets.
    #[arg(long)]
    verify: bool,
    /// Say the steps, and change nothing.
    #[arg(long, short = 'n')]
    dry_run: bool,
    /// Print one JSON record per step.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    drive: DriveArg,
}

/// What `knot move` does.
#[derive(Debug)]
pub enum What {
    /// DIR to NEW.
    Forward { dir: PathBuf, new: PathBuf },
    /// The data back to LINK.
    Back { link: PathBuf },
}

/// `knot move`, fully decided.
#[derive(Debug)]
pub struct MoveSettings {
    pub what: What,
    /// `--leave`; `None` for the default, decided by DIR's file system.
    pub leave: Option<Leave>,
    pub verify: bool,
    pub mode: ChangeMode,
    pub format: Format,
    pub drive: Option<knot::DriveLetter>,
}

impl Decide for MoveArgs {
    type Settings = MoveSettings;
    fn decide(self) -> MoveSettings {
        let what = match (self.back, self.dir, self.new) {
            (Some(link), _, _) => What::Back { link },
            (None, dir, new) => What::Forward {
                dir: dir.unwrap_or_default(),
                new: new.unwrap_or_default(),
            },
        };
        MoveSettings {
            what,
            leave: self.leave.map(|leave| match leave {
                LeaveArg::Junction => Leave::Junction,
                LeaveArg::Symlink => Leave::Symlink,
                LeaveArg::None => Leave::Nothing,
            }),
            verify: self.verify,
            mode: crate::args::mode(self.dry_run),
            format: Format::of(self.json, false),
            drive: self.drive.drive,
        }
    }
}

/// One JSON record of `knot move`: a step.
#[derive(Debug, Serialize)]
struct StepRecord<'a> {
    step: &'static str,
    #[serde(with = "knot_names::json::serde_name")]
    path: &'a Path,
    #[serde(with = "knot_names::json::serde_opt_name")]
    to: Option<&'a Path>,
    dry_run: bool,
}

impl Run for MoveSettings {
    fn run(&self, context: &Context) -> Exit {
        let dry_run = self.mode == ChangeMode::DryRun;
        let mut printer = Printer::new(self.format, Messages::of(context));
        let leave = match (&self.what, self.leave) {
            (_, Some(leave)) => leave,
            (What::Forward { dir, .. }, None) => Leave::default_for(dir),
            (What::Back { .. }, None) => Leave::Nothing,
        };
        let options = MoveOptions {
            leave,
            mode: self.mode,
            verify: self.verify,
            drive: self.drive,
        };
        let json = self.format == Format::Json;
        let mut each = |event: Event| match event {
            Event::Step(step) => {
                let (word, path, to) = step_parts(&step);
                let _ = if json {
                    printer.json(&StepRecord {
                        step: word,
                        path,
                        to,
                        dry_run,
                    })
                } else {
                    printer.line(&step_line(&step, dry_run))
                };
                let _ = printer.flush();
            }
            Event::Failed(err) => {
                let _ = printer.flush();
                error::fail(&err, context);
            }
            _ => {}
        };
        let moved = match &self.what {
            What::Forward { dir, new } => knot::relocate(dir, new, &options, &mut each),
            What::Back { link } => knot::relocate_back(link, &options, &mut each),
        };
        let _ = printer.flush();
        match moved {
            Ok(moved) if !context.quiet => to_stderr(&summary(&self.what, &moved, leave, dry_run)),
            Ok(_) => {}
            Err(err) => error::fail(&err, context),
        }
        Exit::failed_if(error::errored())
    }
}

/// A step's word in JSON, its path, and where it leads.
fn step_parts(step: &Step) -> (&'static str, &Path, Option<&Path>) {
    match step {
        Step::Rename { from, to } => ("rename", from, Some(to)),
        Step::Copy { from, to } => ("copy", from, Some(to)),
        Step::Check { copy, .. } => ("check", copy, None),
        Step::SetAside { from, to } => ("set-aside", from, Some(to)),
        Step::Link { at, to, leave } => (leave.name(), at, Some(to)),
        Step::RemoveLink { at } => ("remove-link", at, None),
        Step::RemoveTree { path } => ("remove-tree", path, None),
        _ => ("step", Path::new(""), None),
    }
}

/// A step as a line for people: `rename 'a' -> 'b'`, `would copy ...` in a dry run.
fn step_line(step: &Step, dry_run: bool) -> String {
    let q = |path: &Path| quote(path.as_os_str());
    let line = match step {
        Step::Rename { from, to } => format!("rename {} -> {}", q(from), q(to)),
        Step::Copy { from, to } => format!("copy {} -> {}", q(from), q(to)),
        Step::Check { copy, contents } => format!(
            "check {} against the source (entries, kinds, sizes, link targets{})",
            q(copy),
            if *contents { ", bytes" } else { "" }
        ),
        Step::SetAside { from, to } => format!("set aside {} -> {}", q(from), q(to)),
        Step::Link { at, to, leave } => format!("{} {} -> {}", leave.name(), q(at), q(to)),
        Step::RemoveLink { at } => format!("remove the link {}", q(at)),
        Step::RemoveTree { path } => format!("remove the tree {}", q(path)),
        _ => String::new(),
    };
    if dry_run {
        format!("would {line}")
    } else {
        line
    }
}

/// The closing line: what was moved where, how, and what was left.
fn summary(what: &What, moved: &Moved, leave: Leave, dry_run: bool) -> String {
    let how = match (&moved.copied, moved.across) {
        (Some(copied), _) => format!(
            "across file systems: {} {}, {} bytes copied and checked",
            copied.files,
            if copied.files == 1 { "file" } else { "files" },
            copied.bytes
        ),
        (None, true) => "across file systems (a copy, then a removal)".into(),
        (None, false) => "on one file system (a rename)".into(),
    };
    let verb = if dry_run { "would move" } else { "moved" };
    match what {
        What::Forward { dir, new } => {
            let left = match leave {
                Leave::Nothing => "no link left".to_owned(),
                leave => format!(
                    "{} {} left",
                    if dry_run { "a" } else { "the" },
                    leave.name()
                ),
            };
            format!(
                "{verb} {} to {} {how}; {left}\n",
                quote(dir.as_os_str()),
                quote(new.as_os_str())
            )
        }
        What::Back { link } => {
            format!(
                "{verb} the data back to {} {how}; the link removed\n",
                quote(link.as_os_str())
            )
        }
    }
}
