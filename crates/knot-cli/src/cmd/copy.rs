//! `knot copy`: its arguments, its settings and the run. The library walks and copies
//! (`knot::copy`); this prints one line per entry whose outcome is not a plain copy,
//! sorted by path once the copy is done, so the same tree gives the same report on any
//! number of threads (only those lines are kept), or with `--json` one record per entry
//! as it comes, then a summary on standard error. Errors are printed as they come, and
//! the copy goes on.

use std::path::PathBuf;
use std::sync::Mutex;

use clap::{Args, ValueEnum};
use knot::copy::{Action, CopyOptions, Inner, Item, Outer, Summary};
use serde::Serialize;

use crate::args::Format;
use crate::cmd::{Decide, Run};
use crate::context::Context;
use crate::exit::Exit;
use crate::report::{Messages, Printer, error, quote, to_stderr};

/// `knot copy --help`.
pub const LONG_ABOUT: &str = "Copy the directory SRC to DST, keeping its links.\n\n\
DST must not exist (it is made) or must be an empty directory, unless --update or \
--mirror is given. Each file is written under a hidden name beside its place and renamed \
into place once complete, so an interrupted copy never leaves a half-written file under a \
real name. Files are copied with their \
data (a reflink where the file system shares extents, as on btrfs and XFS; holes kept in a \
sparse file), permissions, owner (as root) and times; directories with their permissions \
and times. Symlinks are copied as symlinks (junctions are not copied yet: each is reported), \
and the names a file has inside SRC stay names of one file in DST (hard-link groups).\n\n\
A link that leads inside SRC (inner) is made to lead to the same place inside DST, keeping \
its form: a relative target that stays inside is kept as it is, an absolute one is \
rewritten from SRC to DST (--inner keep copies them as they are). A link that leads outside \
(outer) keeps leading where it led (--outer keep, the default: a relative target is \
rewritten to get there from DST) or is left out (--outer skip). A dangling link is copied \
as it is. SRC is read, and DST written, only through directories opened one name at a time \
without following links, so nothing outside SRC is read into DST and nothing outside DST is \
written, whatever changes meanwhile.\n\n\
Each entry whose outcome is not a plain copy gets a line: rewritten, kept, dropped, linked \
(another name of a file copied already), cloned, not entered (--xdev); --json prints one \
record per entry, the scan record plus class (inner, outer, dangling, loop), action and \
error. A summary follows on standard error.\n\n\
--update brings an earlier copy in DST up to date: only what is missing or differs is \
copied. A file differs when its size, modification time (to the nanosecond) or permission \
bits differ, or, with --checksum, its bytes (compared one by one); a link when its kind or \
target differs. Every replacement is atomic: the new file or link is made under a hidden \
name, then renamed over the old one. Replaced entries are reported `updated`; unchanged ones are only counted. \
A file or link in DST where SRC has a directory is removed (a link as a link) and the \
directory made; a directory where SRC has a file or link is refused (--mirror replaces it). \
--mirror does what --update does and also removes from DST what SRC no longer has, each \
reported `removed`: links only ever as links, never followed; a directory with everything \
in it, opened one directory at a time without following links, never entering a mount \
point. A second --mirror of an unchanged tree changes nothing and says so.\n\n\
Not available on Windows yet.\n\n\
Exit codes: 0 done, 1 something could not be copied (each printed), 2 usage error.";

// Arguments of `knot copy` (no doc comment: see `commands!` in cmd/mod.rs).
#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("updating").args(["update", "mirror"]).multiple(true))]
pub struct CopyArgs {
    /// The directory to copy.
    #[arg(value_name = "SRC", value_parser = crate::args::path_arg())]
    source: PathBuf,
    /// Where to copy it: a new path, or an empty directory (or, with --update or
    /// --mirror, an earlier copy).
    #[arg(value_name = "DST", value_parser = crate::args::path_arg())]
    copy: PathBuf,
    /// Links that lead inside SRC: rewrite them to lead inside DST, or keep them as they
    /// are.
    #[arg(long, value_enum, value_name = "HOW", default_value_t = InnerArg::Rewrite)]
    inner: InnerArg,
    /// Links that lead outside SRC: keep them leading there, or skip them.
    #[arg(long, value_enum, value_name = "HOW", default_value_t = OuterArg::Keep)]
    outer: OuterArg,
    /// Stay on SRC's file system: mount points below are reported and not entered.
    #[arg(long)]
    xdev: bool,
    /// DST may hold an earlier copy: copy only what is missing or differs (size or
    /// modification time), each replacement atomic.
    #[arg(long)]
    update: bool,
    /// As --update, and remove from DST what SRC no longer has (links as links, never
    /// followed).
    #[arg(long)]
    mirror: bool,
    /// With --update or --mirror: a file of the same size and time is compared byte for
    /// byte too.
    #[arg(long, requires = "updating")]
    checksum: bool,
    /// Say what would be copied, and copy nothing.
    #[arg(long, short = 'n')]
    dry_run: bool,
    /// Print one JSON record per entry.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    threads: crate::args::ThreadsArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum InnerArg {
    Rewrite,
    Keep,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum OuterArg {
    Keep,
    Skip,
}

/// `knot copy`, fully decided.
#[derive(Debug)]
pub struct CopySettings {
    source: PathBuf,
    copy: PathBuf,
    options: CopyOptions,
    format: Format,
}

impl Decide for CopyArgs {
    type Settings = CopySettings;
    fn decide(self) -> CopySettings {
        let options = CopyOptions {
            inner: match self.inner {
                InnerArg::Rewrite => Inner::Rewrite,
                InnerArg::Keep => Inner::Keep,
            },
            outer: match self.outer {
                OuterArg::Keep => Outer::Keep,
                OuterArg::Skip => Outer::Skip,
            },
            same_file_system: self.xdev,
            mode: crate::args::mode(self.dry_run),
            threads: self.threads.count(),
            update: self.update,
            mirror: self.mirror,
            checksum: self.checksum,
        };
        CopySettings {
            source: self.source,
            copy: self.copy,
            options,
            format: Format::of(self.json, false),
        }
    }
}

/// One JSON report record: the entry's scan record, then where it went and what became
/// of it.
#[derive(Debug, Serialize)]
struct CopyRecord {
    #[serde(flatten)]
    record: Option<knot::Record>,
    /// The entry's path, where there is no record (a failure).
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "knot_names::json::serde_opt_name"
    )]
    path: Option<PathBuf>,
    /// Its path in the copy.
    #[serde(with = "knot_names::json::serde_opt_name")]
    copy: Option<PathBuf>,
    class: Option<&'static str>,
    action: &'static str,
    /// The target written into the copy, where it differs from the one stored, or the
    /// other name a hard link was made to.
    #[serde(with = "knot_names::json::serde_opt_name")]
    new_target: Option<PathBuf>,
    dry_run: bool,
    error: Option<String>,
}

pub fn run(settings: &CopySettings, context: &Context) -> Exit {
    let messages = Messages::of(context);
    let dry_run = settings.options.mode == knot::ChangeMode::DryRun;
    let json = settings.format == Format::Json;
    let printer = Mutex::new(Printer::new(settings.format, messages));
    // Only the lines to be printed are kept, with the path they are sorted by.
    let lines = Mutex::new(Vec::new());
    let copied = knot::copy(
        &settings.source,
        &settings.copy,
        &settings.options,
        |item| {
            let item = item.inspect_err(|err| error::fail(err, context));
            // Output never stops the work (DESIGN.md promise 8).
            // An entry left as it was is only counted.
            if item
                .as_ref()
                .is_ok_and(|item| item.action == Action::Unchanged)
            {
                return;
            }
            if json {
                let record = record(&item, dry_run);
                let _ = printer
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .json(&record);
            } else if let Ok(item) = &item
                && let Some(line) = human(item)
            {
                lines
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push((item.link.path.clone(), line));
            }
        },
    );
    let mut printer = printer
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let summary = match copied {
        Ok(summary) => summary,
        Err(err) => {
            let _ = printer.flush();
            error::fail(&err, context);
            return Exit::Failure;
        }
    };
    // Human lines sorted by path, so the same tree gives the same report on any number
    // of threads; JSON records went out as they came.
    let mut lines = lines
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    lines.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, line) in &lines {
        let _ = printer.line(line);
    }
    let _ = printer.flush();
    if !context.quiet {
        let options = &settings.options;
        let updating = options.update || options.mirror;
        let mut table = summary_table(&summary, dry_run, updating);
        if updating && summary.nothing_changed() && summary.failed == 0 {
            let would = if dry_run { " would be" } else { "" };
            table.push_str(&format!("nothing{would} changed: DST is up to date\n"));
        }
        to_stderr(&table);
    }
    if summary.failed > 0 || error::errored() {
        Exit::Failure
    } else {
        Exit::Success
    }
}

fn record(outcome: &knot::Result<Item>, dry_run: bool) -> CopyRecord {
    match outcome {
        Ok(item) => CopyRecord {
            record: Some(knot::Record::from(&item.link)),
            path: None,
            copy: Some(item.copy.clone()),
            class: item.class.map(knot::copy::Class::name),
            action: item.action.name(),
            new_target: item.new_target.clone(),
            dry_run,
            error: None,
        },
        Err(err) => CopyRecord {
            record: None,
            path: Some(err.path().to_path_buf()),
            copy: None,
            class: None,
            action: "failed",
            new_target: None,
            dry_run,
            error: Some(error::message(err)),
        },
    }
}

/// The line of an entry whose outcome is not a plain copy; `None` for a plain copy.
///
/// `rewritten 'src/l': '/src/a' -> '/dst/a'  [inner]`, `kept 'src/l' -> '/x'  [outer]`,
/// `dropped 'src/l' -> '/x'  [outer]`, `linked 'dst/b' => 'dst/a'`, `cloned 'src/f'`,
/// `not entered 'src/mnt'  [another file system]`, `updated 'src/f'`,
/// `removed 'dst/old'`.
fn human(item: &Item) -> Option<String> {
    let path = quote(item.link.path.as_os_str());
    let class = item
        .class
        .map(|class| format!("  [{}]", class.name()))
        .unwrap_or_default();
    let stored = || {
        let target = item.link.target.as_deref().unwrap_or("".as_ref());
        quote(target.as_os_str())
    };
    let new = || {
        let target = item.new_target.as_deref().unwrap_or("".as_ref());
        quote(target.as_os_str())
    };
    Some(match item.action {
        Action::Copied | Action::Sparse => return None,
        Action::Cloned => format!("cloned {path}"),
        Action::Linked => format!("linked {} => {}", quote(item.copy.as_os_str()), new()),
        Action::Rewritten => format!("rewritten {path}: {} -> {}{class}", stored(), new()),
        Action::Kept => format!("kept {path} -> {}{class}", stored()),
        Action::Dropped => format!("dropped {path} -> {}{class}", stored()),
        Action::NotEntered => format!("not entered {path}  [another file system]"),
        Action::Unchanged => return None,
        Action::Removed => format!("removed {}", quote(item.copy.as_os_str())),
        _ => format!("{} {path}", item.action.name()),
    })
}

/// The closing summary: one row per kind, the count right-aligned; under `--update` or
/// `--mirror` (`updating`), the entries updated, unchanged and removed too.
fn summary_table(summary: &Summary, dry_run: bool, updating: bool) -> String {
    let head = if dry_run {
        "would copy (dry run: nothing was copied):"
    } else {
        "copied:"
    };
    let mut rows = vec![
        ("files", summary.files),
        ("bytes", summary.bytes),
        ("directories", summary.dirs),
        ("symlinks", summary.symlinks),
        ("junctions", summary.junctions),
        ("hard-link groups", summary.groups),
        ("links rewritten", summary.rewritten),
        ("links kept", summary.kept),
        ("links dropped", summary.dropped),
        ("dangling links", summary.dangling),
        ("not entered", summary.not_entered),
        ("failures", summary.failed),
    ];
    if updating {
        rows.extend([
            ("updated", summary.updated),
            ("unchanged", summary.unchanged),
            ("removed", summary.removed),
        ]);
    }
    let width = rows
        .iter()
        .map(|(_, n)| n.to_string().len())
        .max()
        .unwrap_or(1);
    let mut out = format!("{head}\n");
    for (label, n) in rows {
        out.push_str(&format!("  {n:>width$}  {label}\n"));
    }
    out
}

impl Run for CopySettings {
    fn run(&self, context: &Context) -> Exit {
        run(self, context)
    }
}
