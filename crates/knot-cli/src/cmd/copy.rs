//! `knot copy`: its arguments, its settings and the run. The library walks and copies
//! (`knot::copy`); this prints one line per entry whose outcome is not a plain copy (with
//! `-v`, per entry), sorted by path once the copy is done, so the same tree gives the same
//! report on any number of threads (only those lines are kept), or with `--json` one
//! record per entry as it comes, then a summary on standard error. Errors are printed as
//! they come, and the copy goes on. On a terminal, without `--json`, a progress line
//! counts the entries and bytes copied and the rate (there is no total to reckon an ETA
//! from: the copy walks the tree once).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use clap::{Args, ValueEnum};
use knot::copy::{Action, CopyOptions, Inner, Item, Outer, Summary};
use serde::Serialize;

use crate::args::Format;
use crate::cmd::{Decide, Run};
use crate::context::Context;
use crate::exit::Exit;
use crate::report::progress::ProgressLine;
use crate::report::{Messages, Printer, error, quote, to_stderr};

/// `knot copy --help`.
pub const LONG_ABOUT: &str = "Copy the directory SRC to DST, keeping its links.\n\n\
DST must not exist (it is made) or must be an empty directory. Files are copied with their \
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
(another name of a file copied already), cloned, not entered (--xdev); -v lists the plain \
copies too; --json prints one record per entry, the scan record plus class (inner, outer, \
dangling, loop), action and error. A summary table follows on standard error, and while the \
copy runs on a terminal, a progress line (entries, bytes, rate).\n\n\
On Windows, files are copied with their data (block cloning where the volume shares \
clusters, as ReFS and Dev Drive do; holes kept in a sparse file), their read-only, hidden, \
system, archive and not-indexed attributes and their access and write times, as robocopy's \
default /COPY:DAT; security descriptors, creation times and alternate data streams are not \
copied.\n\n\
Exit codes: 0 done, 1 something could not be copied (each printed), 2 usage error.";

// Arguments of `knot copy` (no doc comment: see `commands!` in cmd/mod.rs).
#[derive(Args, Debug)]
pub struct CopyArgs {
    /// The directory to copy.
    #[arg(value_name = "SRC", value_parser = crate::args::path_arg())]
    source: PathBuf,
    /// Where to copy it: a new path, or an empty directory.
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
    /// Say what would be copied, and copy nothing.
    #[arg(long, short = 'n')]
    dry_run: bool,
    /// Print one JSON record per entry.
    #[arg(long)]
    json: bool,
    /// List every entry copied, the plain copies too.
    #[arg(long, short = 'v')]
    verbose: bool,
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
    verbose: bool,
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
        };
        CopySettings {
            source: self.source,
            copy: self.copy,
            options,
            format: Format::of(self.json, false),
            verbose: self.verbose,
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
    let counters = Arc::new(Counters::default());
    let line = progress_line(context, json, &counters);
    let copied = knot::copy(
        &settings.source,
        &settings.copy,
        &settings.options,
        |item| {
            let item = item.inspect_err(|err| error::fail(err, context));
            if let Ok(item) = &item {
                counters.add(item);
            }
            // Output never stops the work (DESIGN.md promise 8).
            if json {
                let record = record(&item, dry_run);
                let _ = printer
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .json(&record);
            } else if let Ok(item) = &item
                && let Some(line) = human(item, settings.verbose)
            {
                lines
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push((item.link.path.clone(), line));
            }
        },
    );
    drop(line);
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
        to_stderr(&summary_table(&summary, dry_run));
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

/// What the progress line counts: the entries copied so far and their bytes (a hard
/// link's none: it copies no data).
#[derive(Debug, Default)]
struct Counters {
    items: AtomicU64,
    bytes: AtomicU64,
}

impl Counters {
    fn add(&self, item: &Item) {
        self.items.fetch_add(1, Ordering::Relaxed);
        if item.action != Action::Linked {
            self.bytes.fetch_add(item.bytes, Ordering::Relaxed);
        }
    }

    /// `N entries, X copied, R/s`, after `elapsed`.
    fn render(&self, elapsed: std::time::Duration) -> String {
        let bytes = self.bytes.load(Ordering::Relaxed);
        let secs = elapsed.as_secs_f64();
        let rate = if secs > 0.0 {
            (bytes as f64 / secs) as u64
        } else {
            0
        };
        format!(
            "{} entries, {} copied, {}/s",
            self.items.load(Ordering::Relaxed),
            indicatif::BinaryBytes(bytes),
            indicatif::BinaryBytes(rate)
        )
    }
}

/// The progress line, where standard error is a terminal ([`ProgressLine::start_with`]
/// says) and the records do not go out as JSON.
fn progress_line(context: &Context, json: bool, counters: &Arc<Counters>) -> Option<ProgressLine> {
    if json {
        return None;
    }
    let counters = Arc::clone(counters);
    let started = Instant::now();
    ProgressLine::start_with(context, "copy: ", move || {
        counters.render(started.elapsed())
    })
}

/// The line of an entry whose outcome is not a plain copy; `None` for a plain copy,
/// unless `verbose`.
///
/// `rewritten 'src/l': '/src/a' -> '/dst/a'  [inner]`, `kept 'src/l' -> '/x'  [outer]`,
/// `dropped 'src/l' -> '/x'  [outer]`, `linked 'dst/b' => 'dst/a'`, `cloned 'src/f'`,
/// `not entered 'src/mnt'  [another file system]`; with `verbose`, `copied 'src/f'`,
/// `sparse 'src/s'`, `copied 'src/l' -> 'a'  [inner]`.
fn human(item: &Item, verbose: bool) -> Option<String> {
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
        Action::Copied | Action::Sparse if !verbose => return None,
        Action::Copied if item.class.is_some() => format!("copied {path} -> {}{class}", stored()),
        Action::Copied | Action::Sparse => format!("{} {path}", item.action.name()),
        Action::Cloned => format!("cloned {path}"),
        Action::Linked => format!("linked {} => {}", quote(item.copy.as_os_str()), new()),
        Action::Rewritten => format!("rewritten {path}: {} -> {}{class}", stored(), new()),
        Action::Kept => format!("kept {path} -> {}{class}", stored()),
        Action::Dropped => format!("dropped {path} -> {}{class}", stored()),
        Action::NotEntered => format!("not entered {path}  [another file system]"),
        _ => format!("{} {path}", item.action.name()),
    })
}

/// The closing summary: one row per kind, the count right-aligned.
fn summary_table(summary: &Summary, dry_run: bool) -> String {
    let head = if dry_run {
        "would copy (dry run: nothing was copied):"
    } else {
        "copied:"
    };
    let rows = [
        ("files", summary.files),
        ("bytes", summary.bytes),
        ("directories", summary.dirs),
        ("symlinks", summary.symlinks),
        ("junctions", summary.junctions),
        ("hard-link groups", summary.groups),
        (
            "of them unsaturated (names outside SRC)",
            summary.unsaturated,
        ),
        ("links rewritten", summary.rewritten),
        ("links kept", summary.kept),
        ("links dropped", summary.dropped),
        ("dangling links", summary.dangling),
        ("not entered", summary.not_entered),
        ("failures", summary.failed),
    ];
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{Color, Environment, ErrorMessages, Program, Terminal};

    fn context(stderr_terminal: bool, quiet: bool) -> Context {
        let env = Environment {
            stderr_terminal,
            ..Environment::PIPED
        };
        Context {
            quiet,
            program: Program::KNOT,
            args: Vec::new(),
            terminal: Terminal::of(env, Color::Auto),
            errors: ErrorMessages::Shown,
            banner: None,
        }
    }

    /// The progress line is drawn only on a terminal, and neither with --json nor with
    /// --quiet; a copy's integration tests, whose standard error is a pipe, show none.
    #[test]
    fn progress_only_on_a_terminal_and_not_with_json() {
        let counters = Arc::new(Counters::default());
        assert!(progress_line(&context(false, false), false, &counters).is_none());
        assert!(progress_line(&context(true, false), true, &counters).is_none());
        assert!(progress_line(&context(true, true), false, &counters).is_none());
        assert!(progress_line(&context(true, false), false, &counters).is_some());
    }

    /// Entries, bytes (a hard link's not again) and the rate.
    #[test]
    fn progress_counts_entries_bytes_and_the_rate() {
        let counters = Counters::default();
        counters.items.store(3, Ordering::Relaxed);
        counters.bytes.store(4 << 20, Ordering::Relaxed);
        assert_eq!(
            counters.render(std::time::Duration::from_secs(2)),
            "3 entries, 4.00 MiB copied, 2.00 MiB/s"
        );
    }
}
