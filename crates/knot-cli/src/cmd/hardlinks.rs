//! `knot hardlinks`: every name of each FILE (`knot::hardlinks::names`), or every
//! hard-link group of a tree with `--groups` (`knot::hardlinks::groups`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use knot::hardlinks::{Group, HardlinksOptions, Names};
use knot::scan::Progress;

use crate::cmd::{Decide, Run};
use crate::context::Context;
use crate::exit::Exit;
use crate::report::error;
use crate::report::progress::{self, ProgressLine};
use crate::report::{self, Format, Messages, Printer, quote, shell_word};

/// `knot hardlinks --help`.
pub const LONG_ABOUT: &str = "List every name (hard link) of each FILE, or with --groups \
every hard-link group inside DIR.\n\n\
On Windows the names come from FindFirstFileNameW; on btrfs, as root, from the \
BTRFS_IOC_INO_PATHS ioctl; elsewhere (and where those are refused: FAT, some SMB servers) \
knot walks DIR (--within; default: the root of FILE's file system), never into another file \
system, and stops as soon as every name is found. Only names inside DIR are listed; a note \
says how many are outside. A symlink is never followed: a symlink with one name is an \
error, one with several (Linux allows that) has its own names listed.\n\n\
--groups lists every regular file inside DIR with more than one name: first the saturated \
groups (every name inside DIR), then the unsaturated ones (some names outside), each with \
its size, as Link Shell Extension's `ln --enum` does. Give --groups once per tree to look \
in several together (a pnpm project and its store: --groups proj --groups \
~/.local/share/pnpm/store): each name is counted once, however the trees overlap, and a \
directory reached again (a bind mount) is walked once. A symlink with several names is no \
group, as for `scan --kind hardlink` and `find -type f -links +1`: it is listed as a \
symlink.\n\n\
Exit codes: 0 done (names outside DIR are an answer, not a failure), 1 a FILE or a \
directory could not be read (each printed), 2 usage error.";

// Arguments of `knot hardlinks` (no doc comment: see `commands!` in cmd/mod.rs).
#[derive(Args, Debug)]
pub struct HardlinksArgs {
    /// The files whose names to list; a symlink is not followed.
    #[arg(
        value_name = "FILE",
        value_parser = crate::args::path_arg(),
        required_unless_present = "groups",
        conflicts_with = "groups"
    )]
    files: Vec<PathBuf>,
    /// Look for names only inside DIR (default: the root of FILE's file system).
    #[arg(long, value_name = "DIR", value_parser = crate::args::path_arg())]
    within: Option<PathBuf>,
    /// List every hard-link group inside DIR instead: saturated groups first. Give it once
    /// per tree to look in several together (a project and its package store).
    #[arg(
        long,
        value_name = "DIR",
        value_parser = crate::args::path_arg(),
        action = clap::ArgAction::Append,
        conflicts_with = "within"
    )]
    groups: Vec<PathBuf>,
    /// Print one JSON record per line: per FILE `path`, `nlink`, `names`, `complete`; per
    /// group `names`, `nlink`, `found`, `size`, `saturated`.
    #[arg(long, conflicts_with = "null")]
    json: bool,
    /// Print each name NUL-terminated.
    #[arg(short = '0', long = "null", conflicts_with = "groups")]
    null: bool,
    #[command(flatten)]
    threads: crate::args::ThreadsArg,
}

/// What to list.
#[derive(Debug)]
enum Mode {
    Names(Vec<PathBuf>),
    /// The groups of these trees together (at least one).
    Groups(Vec<PathBuf>),
}

/// `knot hardlinks`, fully decided.
#[derive(Debug)]
pub struct HardlinksSettings {
    mode: Mode,
    options: HardlinksOptions,
    format: Format,
}

impl Decide for HardlinksArgs {
    type Settings = HardlinksSettings;
    fn decide(self) -> HardlinksSettings {
        let options = HardlinksOptions {
            within: self.within,
            threads: self.threads.count(),
            ..HardlinksOptions::default()
        };
        let mode = if self.groups.is_empty() {
            Mode::Names(self.files)
        } else {
            Mode::Groups(self.groups)
        };
        let format = Format::of(self.json, self.null);
        HardlinksSettings {
            mode,
            options,
            format,
        }
    }
}

/// A name in a JSON record: a string, or `{"bytes": base64}` where it is not Unicode.
#[derive(serde::Serialize)]
#[serde(transparent)]
struct Name<'a>(#[serde(serialize_with = "knot_names::json::serde_name::serialize")] &'a Path);

/// The JSON record of one FILE.
#[derive(serde::Serialize)]
struct NamesRecord<'a> {
    #[serde(serialize_with = "knot_names::json::serde_name::serialize")]
    path: &'a Path,
    nlink: u64,
    names: Vec<Name<'a>>,
    complete: bool,
}

/// The JSON record of one group.
#[derive(serde::Serialize)]
struct GroupRecord<'a> {
    names: Vec<Name<'a>>,
    nlink: u64,
    found: u64,
    size: u64,
    saturated: bool,
}

fn names_of(paths: &[PathBuf]) -> Vec<Name<'_>> {
    paths.iter().map(|p| Name(p)).collect()
}

pub fn run(hardlinks: &HardlinksSettings, context: &Context) -> Exit {
    match &hardlinks.mode {
        Mode::Names(files) => run_names(files, hardlinks, context),
        Mode::Groups(dirs) => run_groups(dirs, hardlinks, context),
    }
}

fn run_names(files: &[PathBuf], hardlinks: &HardlinksSettings, context: &Context) -> Exit {
    let messages = Messages::of(context);
    let mut exit = Exit::Success;
    let mut printer = Printer::new(hardlinks.format, messages);
    let mut first = true;
    for file in files {
        // What came before goes out before this FILE's errors and notes.
        let _ = printer.flush();
        let mut report = |err: knot::Error| error::fail(&err, context);
        let (options, line) = with_progress(hardlinks, context, progress::names_counts);
        let found = knot::hardlinks::names(file, &options, &mut report);
        drop(line);
        threads_note(&options, &messages);
        let found = match found {
            Ok(found) => found,
            Err(err) => {
                match err.kind() {
                    knot::ErrorKind::IsASymlink { leads_to: Some(to) } => {
                        messages.error(&error::error_line(&err));
                        let within = hardlinks.options.within.as_deref();
                        messages.hint(&names_of_target(to, within, context));
                    }
                    _ => error::report(&err, context),
                }
                exit = Exit::Failure;
                continue;
            }
        };
        notes(&found, messages);
        let _ = match hardlinks.format {
            Format::Json => printer.json(&NamesRecord {
                path: &found.path,
                nlink: found.nlink,
                names: names_of(&found.names),
                complete: found.complete(),
            }),
            Format::Nul => found.names.iter().try_for_each(|name| {
                let mut bytes = name.as_os_str().as_encoded_bytes().to_vec();
                bytes.push(0);
                printer.raw(&bytes)
            }),
            Format::Human => {
                let mut text = String::new();
                if files.len() > 1 {
                    if !first {
                        text.push('\n');
                    }
                    text.push_str(&format!("{}:\n", report::escape(found.path.as_os_str())));
                }
                for name in &found.names {
                    text.push_str(&report::escape(name.as_os_str()));
                    text.push('\n');
                }
                printer.text(&text)
            }
        };
        first = false;
    }
    exit
}

/// The hint for a symlink with one name that leads to `to`: the command for what it leads
/// to, with the `--within` given; for a directory, which has no other names, the command
/// for the hard-link groups below it.
fn names_of_target(to: &Path, within: Option<&Path>, context: &Context) -> String {
    let program = context.program.name;
    if to.is_dir() {
        return format!(
            "it leads to a directory, which has no other names; for the hard-link groups \
             below it: {program} hardlinks --groups {}",
            shell_word(to.as_os_str())
        );
    }
    let mut line = format!("{program} hardlinks {}", shell_word(to.as_os_str()));
    if let Some(within) = within {
        line.push_str(" --within ");
        line.push_str(&shell_word(within.as_os_str()));
    }
    format!("for the names of what it leads to: {line}")
}

/// The options of one walk with fresh counters, and the progress line that shows them
/// (only on a terminal: a walk of a whole file system can take minutes).
fn with_progress(
    hardlinks: &HardlinksSettings,
    context: &Context,
    render: fn(&Progress) -> String,
) -> (HardlinksOptions, Option<ProgressLine>) {
    let counters = Progress::new();
    let mut options = hardlinks.options.clone();
    options.progress = Some(Arc::clone(&counters));
    let line = ProgressLine::start(context, "hardlinks: ", counters, render);
    (options, line)
}

/// [`progress::threads_note`] of the walk `options` counted in.
fn threads_note(options: &HardlinksOptions, messages: &Messages) {
    if let Some(counters) = &options.progress {
        progress::threads_note(messages, counters.threads());
    }
}

/// What the names alone do not say: where they were looked for, how many are outside.
fn notes(found: &Names, messages: report::Messages) {
    let path = quote(found.path.as_os_str());
    let within = quote(found.within.as_os_str());
    if found.within_default {
        messages.note(&format!(
            "looked for the names of {path} in {within}, the root of its file system \
             (--within DIR looks elsewhere)"
        ));
    }
    if found.symlink {
        messages.note(&format!(
            "{path} is a symlink, not followed: these are the names of the symlink itself"
        ));
    }
    let outside = found.outside();
    if outside > 0 {
        let (names, are) = if outside == 1 {
            ("name", "is")
        } else {
            ("names", "are")
        };
        messages.note(&format!(
            "{path} has {} names; {outside} {names} {are} outside {within}",
            found.nlink
        ));
    }
}

fn run_groups(dirs: &[PathBuf], hardlinks: &HardlinksSettings, context: &Context) -> Exit {
    let messages = Messages::of(context);
    let mut report = |err: knot::Error| error::fail(&err, context);
    let (options, line) = with_progress(hardlinks, context, progress::groups_counts);
    let groups = knot::hardlinks::groups(dirs, &options, &mut report);
    drop(line);
    threads_note(&options, &messages);
    let mut printer = Printer::new(hardlinks.format, messages);
    for group in &groups {
        let _ = match hardlinks.format {
            Format::Json => printer.json(&GroupRecord {
                names: names_of(&group.names),
                nlink: group.nlink,
                found: group.found(),
                size: group.size,
                saturated: group.saturated(),
            }),
            _ => printer.text(&human_group(group)),
        };
    }
    // Errors were reported and marked as the walk met them.
    Exit::Success
}

/// `saturated: 3 of 3 names, 12 bytes` or `unsaturated: 2 of 3 names (1 outside), 12
/// bytes`, then the names, indented.
fn human_group(group: &Group) -> String {
    let (label, outside) = if group.saturated() {
        ("saturated:  ", String::new())
    } else {
        (
            "unsaturated:",
            format!(" ({} outside)", group.nlink - group.found()),
        )
    };
    let bytes = if group.size == 1 { "byte" } else { "bytes" };
    let mut text = format!(
        "{label} {} of {} names{outside}, {} {bytes}\n",
        group.found(),
        group.nlink,
        group.size
    );
    for name in &group.names {
        text.push_str("  ");
        text.push_str(&report::escape(name.as_os_str()));
        text.push('\n');
    }
    text
}

impl Run for HardlinksSettings {
    fn run(&self, context: &Context) -> Exit {
        run(self, context)
    }
}
