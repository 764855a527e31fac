//! `knot du`: the true size of one or more trees, every file counted once however many
//! names it has (`knot::du`), as a table (items and bytes by kind, hard-link groups, what
//! removing the tree frees) or one JSON record with the same figures.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use knot::du::{Count, DiskUsage, DuBuilder, DuKind, Groups, Usage};
use knot::scan::Progress;
use serde::Serialize;

use crate::cmd::{Decide, Run};
use crate::context::Context;
use crate::exit::Exit;
use crate::report::error;
use crate::report::progress::{self, ProgressLine};
use crate::report::{self, Format, Messages, Printer};

/// `knot du --help`.
pub const LONG_ABOUT: &str = "The true size of DIR... (default: the current directory): \
every file counted once however many names it has, as POSIX du counts, so the apparent \
bytes equal `du -s -b DIR...` and the allocated bytes `du -s -B1 DIR...`: directories \
themselves are counted (their st_size), a symlink is counted as itself (the length of its \
target), never followed, and a file with several names once, under the first DIR that \
holds one of them. File systems are crossed unless --xdev.\n\n\
The table gives items and bytes by kind (files, hard-linked files, directories, file and \
directory symlinks, junctions, mount points, broken links, other, and reparse points by \
tag), the hard-link groups (saturated: every name inside; unsaturated: some outside, with \
how many) and the bytes removing the tree would free (everything but the files with names \
outside it). With several DIRs, a line per DIR and a total.\n\n\
Exit codes: 0 done, 1 something could not be read (each printed; the figures leave it \
out), 2 usage error.";

// Arguments of `knot du` (no doc comment: see `commands!` in cmd/mod.rs).
#[derive(Args, Debug)]
pub struct DuArgs {
    /// Trees to measure (default: the current directory). One that is a link is counted
    /// as the link, as du does.
    #[arg(value_name = "DIR", value_parser = crate::args::path_arg())]
    dirs: Vec<PathBuf>,
    /// Print one JSON record with every figure.
    #[arg(long)]
    json: bool,
    /// Neither count nor descend into directories on other file systems (du -x).
    #[arg(long)]
    xdev: bool,
    #[command(flatten)]
    threads: crate::args::ThreadsArg,
}

/// `knot du`, fully decided.
#[derive(Debug)]
pub struct DuSettings {
    roots: Vec<PathBuf>,
    format: Format,
    same_file_system: bool,
    threads: usize,
}

impl Decide for DuArgs {
    type Settings = DuSettings;
    fn decide(self) -> DuSettings {
        DuSettings {
            roots: crate::args::roots(self.dirs),
            format: Format::of(self.json, false),
            same_file_system: self.xdev,
            threads: self.threads.count(),
        }
    }
}

/// Runs `knot du`.
pub fn run(settings: &DuSettings, context: &Context) -> Exit {
    let mut builder = DuBuilder::new(&settings.roots[0]);
    for root in &settings.roots[1..] {
        builder.add(root);
    }
    let counters = Progress::new();
    builder
        .same_file_system(settings.same_file_system)
        .threads(settings.threads)
        .progress(Arc::clone(&counters));
    let line = ProgressLine::start(context, "du: ", Arc::clone(&counters), progress::du_counts);
    let report = |err: knot::Error| progress::suspend(|| error::report(&err, context));
    let usage = builder.run(&report);
    drop(line);
    progress::threads_note(&Messages::of(context), counters.threads());
    let mut printer = Printer::new(settings.format, Messages::of(context));
    // Where no root could be read, the errors are all there is to say (as du says them).
    let written = match settings.format {
        _ if !usage.roots.iter().any(counted) => Ok(()),
        Format::Json => printer.json(&JsonUsage::of(&usage)),
        _ => printer.text(&table(&usage)),
    };
    let _ = written.and_then(|()| printer.flush());
    if usage.total.errors > 0 {
        Exit::Failure
    } else {
        Exit::Success
    }
}

/// Whether a root was counted: it was read, or anything below it was. A root that could
/// not be read at all (missing, a link to nothing with a slash after it) has no line, and
/// its error says why; nor has one counted already under an earlier root (`du t t`), as
/// with du.
fn counted((_, usage): &(PathBuf, Usage)) -> bool {
    usage.total.items > 0
}

/// Bytes as a number, or `-` where the system did not say.
fn bytes(n: Option<u64>) -> String {
    n.map_or_else(|| "-".to_owned(), |n| n.to_string())
}

/// A kind's row label in the table.
fn label(kind: DuKind) -> &'static str {
    match kind {
        DuKind::File => "files",
        DuKind::HardLinked => "hard-linked files",
        DuKind::Dir => "directories",
        DuKind::FileSymlink => "file symlinks",
        DuKind::DirSymlink => "directory symlinks",
        DuKind::Junction => "junctions",
        DuKind::MountPoint => "mount points",
        DuKind::Broken => "broken links",
        DuKind::Other => "other",
        // A kind the library adds later: its JSON key until it has words here.
        _ => kind.name(),
    }
}

/// A reparse tag's row label: its kind word and its value.
fn reparse_label(tag: u32) -> String {
    format!(
        "reparse {} ({:#010x})",
        knot_reparse::Tag(tag).kind_name(),
        tag
    )
}

/// The human table.
fn table(usage: &DiskUsage) -> String {
    let total = &usage.total;
    let mut rows: Vec<(String, Count)> = Vec::new();
    let several = usage.roots.iter().filter(|root| counted(root)).count() > 1;
    let paths: Vec<(String, Count)> = usage
        .roots
        .iter()
        .filter(|root| counted(root))
        .map(|(path, usage)| (report::escape(path.as_os_str()).into_owned(), usage.total))
        .chain(several.then(|| ("total".to_owned(), total.total)))
        .collect();
    for kind in DuKind::ALL {
        rows.push((label(kind).to_owned(), total.kind(kind)));
    }
    for (tag, count) in total.reparse() {
        rows.push((reparse_label(tag), count));
    }
    rows.push(("total".to_owned(), total.total));
    let width = paths
        .iter()
        .chain(&rows)
        .map(|(label, _)| unicode_width::UnicodeWidthStr::width(label.as_str()))
        .max()
        .unwrap_or(0)
        .max("kind".len());
    let mut out = String::new();
    let line = |out: &mut String, label: &str, items: &str, apparent: &str, alloc: &str| {
        let pad = width.saturating_sub(unicode_width::UnicodeWidthStr::width(label));
        let _ = writeln!(
            out,
            "{label}{:pad$}  {items:>10}  {apparent:>16}  {alloc:>16}",
            ""
        );
    };
    for (heading, section) in [("path", &paths), ("kind", &rows)] {
        line(&mut out, heading, "items", "apparent", "allocated");
        for (label, count) in section {
            line(
                &mut out,
                label,
                &count.items.to_string(),
                &count.apparent.to_string(),
                &bytes(count.allocated),
            );
        }
        out.push('\n');
    }
    let Groups {
        groups,
        names,
        apparent,
        allocated,
        ..
    } = total.saturated;
    let _ = writeln!(
        out,
        "hard-link groups: {groups} saturated ({names} names, {apparent} bytes apparent, {} allocated)",
        bytes(allocated)
    );
    let Groups {
        groups,
        names,
        outside,
        apparent,
        allocated,
    } = total.unsaturated;
    let _ = writeln!(
        out,
        "                  {groups} unsaturated ({names} names inside, {outside} outside, \
         {apparent} bytes apparent, {} allocated)",
        bytes(allocated)
    );
    let _ = writeln!(
        out,
        "removing it frees: {} bytes apparent, {} allocated",
        total.freed.apparent,
        bytes(total.freed.allocated)
    );
    out
}

/// Items and bytes, as JSON.
#[derive(Serialize)]
struct JsonCount {
    items: u64,
    apparent: u64,
    allocated: Option<u64>,
}

impl From<Count> for JsonCount {
    fn from(count: Count) -> JsonCount {
        JsonCount {
            items: count.items,
            apparent: count.apparent,
            allocated: count.allocated,
        }
    }
}

/// One root's figures.
#[derive(Serialize)]
struct JsonRoot<'a> {
    #[serde(with = "knot_names::json::serde_name")]
    path: &'a OsStr,
    items: u64,
    apparent: u64,
    allocated: Option<u64>,
    freed_apparent: u64,
    freed_allocated: Option<u64>,
}

/// Reparse points of one tag.
#[derive(Serialize)]
struct JsonReparse {
    /// As every record writes a tag: `0x` and eight hex digits.
    tag: String,
    kind: &'static str,
    items: u64,
    apparent: u64,
    allocated: Option<u64>,
}

/// Hard-link groups.
#[derive(Serialize)]
struct JsonGroups {
    groups: u64,
    names: u64,
    outside: u64,
    apparent: u64,
    allocated: Option<u64>,
}

impl From<Groups> for JsonGroups {
    fn from(g: Groups) -> JsonGroups {
        JsonGroups {
            groups: g.groups,
            names: g.names,
            outside: g.outside,
            apparent: g.apparent,
            allocated: g.allocated,
        }
    }
}

#[derive(Serialize)]
struct JsonFreed {
    apparent: u64,
    allocated: Option<u64>,
}

#[derive(Serialize)]
struct JsonGroupPair {
    saturated: JsonGroups,
    unsaturated: JsonGroups,
}

/// The one record of `knot du --json` (README, "knot du"): figures for all roots
/// together, and per root.
#[derive(Serialize)]
struct JsonUsage<'a> {
    roots: Vec<JsonRoot<'a>>,
    items: u64,
    apparent: u64,
    allocated: Option<u64>,
    kinds: serde_json::Map<String, serde_json::Value>,
    reparse: Vec<JsonReparse>,
    groups: JsonGroupPair,
    freed: JsonFreed,
    errors: u64,
}

impl<'a> JsonUsage<'a> {
    fn of(usage: &'a DiskUsage) -> JsonUsage<'a> {
        let total: &Usage = &usage.total;
        let kinds = DuKind::ALL
            .iter()
            .map(|&kind| {
                let count = JsonCount::from(total.kind(kind));
                let value = serde_json::to_value(count).unwrap_or(serde_json::Value::Null);
                (kind.name().to_owned(), value)
            })
            .collect();
        JsonUsage {
            roots: usage
                .roots
                .iter()
                .filter(|root| counted(root))
                .map(|(path, usage)| JsonRoot {
                    path: path.as_os_str(),
                    items: usage.total.items,
                    apparent: usage.total.apparent,
                    allocated: usage.total.allocated,
                    freed_apparent: usage.freed.apparent,
                    freed_allocated: usage.freed.allocated,
                })
                .collect(),
            items: total.total.items,
            apparent: total.total.apparent,
            allocated: total.total.allocated,
            kinds,
            reparse: total
                .reparse()
                .map(|(tag, count)| JsonReparse {
                    tag: format!("{tag:#010x}"),
                    kind: knot_reparse::Tag(tag).kind_name(),
                    items: count.items,
                    apparent: count.apparent,
                    allocated: count.allocated,
                })
                .collect(),
            groups: JsonGroupPair {
                saturated: total.saturated.into(),
                unsaturated: total.unsaturated.into(),
            },
            freed: JsonFreed {
                apparent: total.freed.apparent,
                allocated: total.freed.allocated,
            },
            errors: total.errors,
        }
    }
}

impl Run for DuSettings {
    fn run(&self, context: &Context) -> Exit {
        run(self, context)
    }
}
