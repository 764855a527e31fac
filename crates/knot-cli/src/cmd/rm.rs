//! `knot rm PATH...`: links removed, never a regular file or directory; `knot rm --tree
//! DIR...`: directory trees removed, every link in them as a link, never followed.

use std::path::{Path, PathBuf};

use clap::Args;
use knot::{ChangeMode, Met, TreeRemoved};
use serde::Serialize;

use crate::args::{Format, FormatArgs, path_arg};
use crate::cmd::{Decide, Run};
use crate::context::Context;
use crate::exit::Exit;
use crate::report::{Messages, Printer, error, quote, stored_name, to_stderr};

/// `knot rm --help`.
pub const LONG_ABOUT: &str = "Remove links; never a regular file or directory, never \
what a link points at. A directory symlink or junction goes, the directory it leads to \
and everything in it stay.\n\n\
With --tree, remove each directory DIR and everything in it, as rm -rf would, but never \
through a link: every symlink and junction inside is removed as a link, and what it leads \
to stays, even outside the tree. Each directory is opened from the one above without \
following a link and checked to be the directory listed, so a directory swapped for a \
link while the tree is removed is never gone through. Before anything is removed, a line \
is printed for every link met (`link 'd/l' -> 'target'  [to be removed as a link]`) and \
every mount point (`mount point 'd/m'  [refused: unmount it first]`); with --dry-run that \
is all. A mount point inside the tree (another file system, or a bind mount) is not \
entered: it and the directories above it stay, the rest is removed. A link whose removal \
then fails is reported with its error and stays, with the directories above it. A \
summary of the files, directories and links removed, and of the errors, follows on \
standard error. DIR itself may not be a link (knot rm removes it), the root directory, \
or hold the current directory. On Windows a read-only file in the tree is removed too: \
its attribute is cleared on that file alone, as it goes. With --json, one record per link or mount point met, once its \
outcome is known: its scan record, then action (removed, failed, would-remove, refused) \
and error; the records of links come in no set order.\n\n\
Exit codes: 0 done, 1 something was refused or could not be removed (each printed), 2 \
usage error.";

// Arguments of `knot rm` (no doc comment: see `commands!` in cmd/mod.rs).
#[derive(Args, Debug)]
pub struct RmArgs {
    /// Links to remove (a trailing slash, as tab completion adds, names what a link
    /// points at, so `knot rm l/` is refused and says to run `knot rm l`); with --tree,
    /// directories to remove with everything in them.
    #[arg(required = true, value_name = "PATH", value_parser = path_arg())]
    paths: Vec<PathBuf>,
    /// Remove each PATH, a directory, with everything in it, never following a link:
    /// links inside are removed as links, mount points inside are refused.
    #[arg(long, conflicts_with = "null")]
    tree: bool,
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
    /// `--tree`: the paths are directory trees.
    pub tree: bool,
}

impl Decide for RmArgs {
    type Settings = RmSettings;
    fn decide(self) -> RmSettings {
        RmSettings {
            paths: self.paths,
            mode: crate::args::mode(self.dry_run),
            format: self.format.format(),
            tree: self.tree,
        }
    }
}

impl Run for RmSettings {
    fn run(&self, context: &Context) -> Exit {
        if self.tree {
            return self.run_tree(context);
        }
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

/// One JSON record of `rm --tree`: a link or mount point met, its scan record, then what
/// became of it.
#[derive(Debug, Serialize)]
struct TreeRecord {
    #[serde(flatten)]
    record: Option<knot::Record>,
    /// The entry's path, where there is no record (a failure).
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "knot_names::json::serde_opt_name"
    )]
    path: Option<PathBuf>,
    action: &'static str,
    dry_run: bool,
    error: Option<String>,
}

impl RmSettings {
    /// `knot rm --tree DIR...`.
    fn run_tree(&self, context: &Context) -> Exit {
        let dry_run = self.mode == ChangeMode::DryRun;
        let mut printer = Printer::new(self.format, Messages::of(context));
        for path in &self.paths {
            let mut each = |met: knot::Result<Met>| {
                let met = match met {
                    Ok(met) => met,
                    Err(err) => {
                        if self.format == Format::Json {
                            let _ = printer.json(&TreeRecord {
                                record: None,
                                path: Some(err.path().to_path_buf()),
                                action: "failed",
                                dry_run,
                                error: Some(error::message(&err)),
                            });
                        }
                        let _ = printer.flush();
                        error::fail(&err, context);
                        return;
                    }
                };
                // A line of the listing says what will be done; a JSON record what was
                // done, once it is known. What became of a link listed shows in the
                // summary, and a failure in its error line.
                let _ = match (self.format, met.action) {
                    (Format::Json, knot::TreeAction::ToRemove) => Ok(()),
                    (Format::Json, action) => printer.json(&TreeRecord {
                        record: Some(knot::Record::from(&met.link)),
                        path: None,
                        action: action.name(),
                        dry_run,
                        error: met.error.as_ref().map(error::message),
                    }),
                    (_, knot::TreeAction::Removed | knot::TreeAction::Failed) => Ok(()),
                    _ => printer.line(&met_line(&met, dry_run)),
                };
                // A refusal (a mount point) or a failed removal is an error too, said with
                // its fix.
                if let Some(err) = &met.error {
                    let _ = printer.flush();
                    error::fail(err, context);
                }
            };
            let removed = knot::remove_tree(path, self.mode, &mut each);
            let _ = printer.flush();
            match removed {
                Ok(removed) if !context.quiet => to_stderr(&summary(path, &removed, dry_run)),
                Ok(_) => {}
                Err(err) => error::fail(&err, context),
            }
        }
        Exit::failed_if(error::errored())
    }
}

/// The line for a link or mount point met: what it is, and what is done with it.
fn met_line(met: &Met, dry_run: bool) -> String {
    let link = &met.link;
    let path = quote(link.path.as_os_str());
    if met.action == knot::TreeAction::Refused {
        return format!("mount point {path}  [refused: unmount it first]");
    }
    let target = link
        .target
        .as_deref()
        .map(|t| format!(" -> '{}'", stored_name(link, t.as_os_str())))
        .unwrap_or_default();
    let done = if dry_run {
        "would be removed as a link"
    } else {
        "to be removed as a link"
    };
    format!("{} {path}{target}  [{done}]", link_word(link.kind))
}

/// `link`, or the kind where it says more (`junction`).
fn link_word(kind: knot::Kind) -> String {
    match kind {
        knot::Kind::Symlink => "link".into(),
        kind => kind.to_string(),
    }
}

/// The closing line of one tree: what was removed (or would be), and what was refused.
fn summary(path: &Path, removed: &TreeRemoved, dry_run: bool) -> String {
    let verb = if dry_run { "would remove" } else { "removed" };
    let mut line = format!(
        "{verb} {}: {} {}, {} {}, {} {}",
        quote(path.as_os_str()),
        removed.files,
        plural(removed.files, "file", "files"),
        removed.dirs,
        plural(removed.dirs, "directory", "directories"),
        removed.links,
        plural(removed.links, "link", "links"),
    );
    if removed.refused > 0 {
        line.push_str(&format!(
            "; {} {} refused",
            removed.refused,
            plural(removed.refused, "mount point", "mount points")
        ));
    }
    if removed.errors > 0 {
        line.push_str(&format!(
            "; {} {}",
            removed.errors,
            plural(removed.errors, "error", "errors")
        ));
    }
    line.push('\n');
    line
}

fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}
