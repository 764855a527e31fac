//! `knot materialize`: its arguments, its settings and the run. The library replaces each
//! link (`knot::copy::materialize`); this prints one line per path as it is done, or with
//! `--json` one record, then a summary on standard error. Errors are printed as they come,
//! and the other paths go on.

use std::path::PathBuf;

use clap::Args;
use knot::copy::{MaterializeOptions, MaterializeSummary, Materialized, Outcome};
use serde::Serialize;

use crate::args::Format;
use crate::cmd::{Decide, Run};
use crate::context::Context;
use crate::exit::Exit;
use crate::report::{Messages, Printer, error, quote, to_stderr};

/// `knot materialize --help`.
pub const LONG_ABOUT: &str = "Replace each LINK with a copy of what it leads to: real files \
where links were, before zipping, uploading or handing over a tree.\n\n\
A symlink (or a junction, on an NTFS volume) to a file becomes a copy of the file, with its \
data (a reflink where the file system shares extents; holes kept), permissions and times. \
One to a directory becomes a copy of the directory, made as `knot copy` makes one: the links \
inside it that lead inside the directory are made to lead inside the copy, the others keep \
leading where they led. A file with several names (a hard link) gets a file of its own under \
this name; its other names keep the old one. What the link leads to is only read, never \
changed. A file with one name, or a directory, is left as it is (already real).\n\n\
With --recursive, every link below a directory LINK is materialized, and the links inside \
the copies made, until none is left but those refused; links are never entered. A link \
inside a copy that leads back to a directory that copy was made from is refused as a loop.\n\n\
The copy is made beside the link under a hidden name, in the link's directory held open \
(nothing is written by path), then swapped with the link in one step; what came out must be \
the link knot looked at, or it is swapped back and left as it is, and the copy removed. On a \
file system that cannot swap two names (FUSE, ntfs-3g), the name is checked again right \
before the copy is renamed over it: what another program puts there in that instant is \
replaced (a directory's copy, which cannot be renamed over a link, takes the name once the \
link is removed: for that moment the path is missing).\n\n\
Refused, with nothing changed: a dangling link, a loop of links, a link to a directory that \
holds it (its copy would hold itself), a link to a special file.\n\n\
Each path gets a line: materialized or already real; --json prints one record per path, the \
scan record of the link plus source, action and error. A summary follows on standard \
error.\n\n\
Not available on Windows yet.\n\n\
Exit codes: 0 done, 1 something could not be materialized (each printed), 2 usage error.";

// Arguments of `knot materialize` (no doc comment: see `commands!` in cmd/mod.rs).
#[derive(Args, Debug)]
pub struct MaterializeArgs {
    /// The links to replace (with --recursive, directories too).
    #[arg(value_name = "LINK", required = true, value_parser = crate::args::path_arg())]
    links: Vec<PathBuf>,
    /// Materialize every link below each directory LINK, and inside the copies made.
    #[arg(long, short = 'r')]
    recursive: bool,
    /// Say what would be replaced, and change nothing.
    #[arg(long, short = 'n')]
    dry_run: bool,
    /// Print one JSON record per path.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    threads: crate::args::ThreadsArg,
}

/// `knot materialize`, fully decided.
#[derive(Debug)]
pub struct MaterializeSettings {
    links: Vec<PathBuf>,
    options: MaterializeOptions,
    format: Format,
}

impl Decide for MaterializeArgs {
    type Settings = MaterializeSettings;
    fn decide(self) -> MaterializeSettings {
        let options = MaterializeOptions {
            recursive: self.recursive,
            mode: crate::args::mode(self.dry_run),
            threads: self.threads.count(),
        };
        MaterializeSettings {
            links: self.links,
            options,
            format: Format::of(self.json, false),
        }
    }
}

/// One JSON report record: the path's scan record, then what was copied and what became
/// of it.
#[derive(Debug, Serialize)]
struct MaterializeRecord {
    #[serde(flatten)]
    record: Option<knot::Record>,
    /// The path, where there is no record (a failure).
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "knot_names::json::serde_opt_name"
    )]
    path: Option<PathBuf>,
    /// What was copied: the real path the link led to, or a hard link's own path.
    #[serde(with = "knot_names::json::serde_opt_name")]
    source: Option<PathBuf>,
    action: &'static str,
    bytes: u64,
    dry_run: bool,
    error: Option<String>,
}

impl Run for MaterializeSettings {
    fn run(&self, context: &Context) -> Exit {
        let messages = Messages::of(context);
        let dry_run = self.options.mode == knot::ChangeMode::DryRun;
        let mut printer = Printer::new(self.format, messages);
        let json = self.format == Format::Json;
        let summary = knot::copy::materialize(&self.links, &self.options, &mut |outcome| {
            let outcome = outcome.inspect_err(|err| error::fail(err, context));
            // Output never stops the work (DESIGN.md promise 8).
            if json {
                let _ = printer.json(&record(&outcome, dry_run));
            } else if let Ok(item) = &outcome {
                let _ = printer.line(&human(item, dry_run));
            }
        });
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
}

fn record(outcome: &knot::Result<Materialized>, dry_run: bool) -> MaterializeRecord {
    match outcome {
        Ok(item) => MaterializeRecord {
            record: Some(knot::Record::from(&item.link)),
            path: None,
            source: item.source.clone(),
            action: item.outcome.name(),
            bytes: item.bytes,
            dry_run,
            error: None,
        },
        Err(err) => MaterializeRecord {
            record: None,
            path: Some(err.path().to_path_buf()),
            source: None,
            action: "failed",
            bytes: 0,
            dry_run,
            error: Some(error::message(err)),
        },
    }
}

/// `materialized 'l': a copy of the file '/data/file'`, `materialized 'b': a file of its
/// own (it had 2 names)`, `already real 'f'`; in a dry run, `would materialize ...`.
fn human(item: &Materialized, dry_run: bool) -> String {
    let path = quote(item.link.path.as_os_str());
    let done = if dry_run {
        "would materialize"
    } else {
        "materialized"
    };
    match item.outcome {
        Outcome::Materialized if item.link.kind == knot::Kind::Hardlink => format!(
            "{done} {path}: a file of its own (it had {} names)",
            item.link.nlink.unwrap_or(2)
        ),
        Outcome::Materialized => {
            let source = item.source.as_deref().unwrap_or("".as_ref());
            let what = if item.directory {
                "the directory"
            } else {
                "the file"
            };
            format!(
                "{done} {path}: a copy of {what} {}",
                quote(source.as_os_str())
            )
        }
        _ => format!("already real {path}"),
    }
}

/// The closing summary: one row per count, right-aligned.
fn summary_table(summary: &MaterializeSummary, dry_run: bool) -> String {
    let head = if dry_run {
        "would materialize (dry run: nothing was changed):"
    } else {
        "materialized:"
    };
    let rows = [
        ("links", summary.materialized),
        ("bytes", summary.bytes),
        ("already real", summary.already_real),
        ("failures", summary.failed),
    ];
    crate::report::count_table(head, &rows)
}
