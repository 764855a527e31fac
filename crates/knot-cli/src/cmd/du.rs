//! `knot du`: the true size of one or more trees, every file counted once however many
//! names it has (`knot::du`), as a table (items and bytes by kind, hard-link groups, what
//! removing the tree frees, what a copy without hard links takes) or one JSON record with
//! the same figures; with `--depth N`, a line (or record) per entry down to depth N,
//! largest first. Bytes are exact unless `-h` or `--si` asks for sizes for people.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{ArgAction, Args};
use knot::du::{Count, DiskUsage, DuBuilder, DuEntry, DuKind, Groups, Usage};
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
how many), the bytes removing the tree would free (everything but the files with names \
outside it) and what a copy that does not keep hard links would take (every name's bytes, \
as `du -l` counts them). With several DIRs, a line per DIR and a total.\n\n\
--depth N lists every entry down to depth N instead (0: each DIR, 1: what each DIR holds, \
files too, as `du -a -d N`), with the bytes of everything under it, largest first (by \
allocated bytes, then apparent, then path), from the same one walk. A file with several \
names is counted once, under the name whose path sorts first (component by component), so \
the lines are the same on any number of threads; its other names have no line. The \
directories' lines equal `du -d N -b`'s where no file has names in two of them.\n\n\
Bytes are exact, for scripts. -h (--human) prints sizes in powers of 1024 as `du -h` does \
(1023, 1.0K, 1.5M, 12G: one decimal below 10, rounded up); --si in powers of 1000 as \
`du --si` (1.1k, 1.5M). --json always gives bytes.\n\n\
Exit codes: 0 done, 1 something could not be read (each printed; the figures leave it \
out), 2 usage error.";

// Arguments of `knot du` (no doc comment: see `commands!` in cmd/mod.rs).
#[derive(Args, Debug)]
pub struct DuArgs {
    /// Trees to measure (default: the current directory). One that is a link is counted
    /// as the link, as du does.
    #[arg(value_name = "DIR", value_parser = crate::args::path_arg())]
    dirs: Vec<PathBuf>,
    /// Print one JSON record with every figure (with --depth, one per entry).
    #[arg(long)]
    json: bool,
    /// Neither count nor descend into directories on other file systems (du -x).
    #[arg(long)]
    xdev: bool,
    /// List every entry down to depth N (0: each DIR) with what is under it, largest
    /// first, instead of the table (like du -a -d N).
    #[arg(long, value_name = "N")]
    depth: Option<usize>,
    /// Sizes for people, in powers of 1024, as du -h prints them (4.0K, 1.5M, 12G).
    #[arg(short = 'h', long, conflicts_with = "si")]
    human: bool,
    /// Sizes for people, in powers of 1000, as du --si prints them (4.1k, 1.5M).
    #[arg(long)]
    si: bool,
    #[command(flatten)]
    threads: crate::args::ThreadsArg,
    /// Print help (-h is --human here, as in du).
    #[arg(long, action = ArgAction::HelpLong)]
    help: Option<bool>,
}

/// How byte counts are printed in the table (never in JSON: those are always bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Units {
    /// Exact bytes.
    Bytes,
    /// Powers of 1024 (`-h`).
    Binary,
    /// Powers of 1000 (`--si`).
    Decimal,
}

impl Units {
    /// `bytes` as this unit prints it.
    fn show(self, bytes: u64) -> String {
        match self {
            Units::Bytes => bytes.to_string(),
            Units::Binary => human(bytes, 1024),
            Units::Decimal => human(bytes, 1000),
        }
    }

    /// `bytes` in a sentence: `12309 bytes`, or `13K`.
    fn amount(self, bytes: u64) -> String {
        match self {
            Units::Bytes => format!("{bytes} bytes"),
            _ => self.show(bytes),
        }
    }

    /// Bytes the system may not have said: `-` then.
    fn maybe(self, bytes: Option<u64>) -> String {
        bytes.map_or_else(|| "-".to_owned(), |bytes| self.show(bytes))
    }
}

/// `bytes` as GNU du prints them with `-h` (`base` 1024) or `--si` (1000): below one
/// `base`, the number itself; else in the largest unit it reaches (K, M, G, T, P, E; `k`
/// for 1000), with one decimal below 10 and none from 10 on, always rounded up (gnulib's
/// `human_readable` with `human_ceiling`), so `1025` is `1.1K`, `10239` is `10K` and
/// `1048575` is `1.0M`. Exact integer arithmetic: no float rounding can differ from du's.
/// Crates that print sizes (humansize, bytesize) round to nearest and write `KiB` or
/// `kB`, which is not what du users read.
fn human(bytes: u64, base: u64) -> String {
    const LETTERS: [&str; 7] = ["", "K", "M", "G", "T", "P", "E"];
    if bytes < base {
        return bytes.to_string();
    }
    let unit = |exponent: usize| match (base, exponent) {
        (1000, 1) => "k",
        _ => LETTERS[exponent],
    };
    let (n, base) = (u128::from(bytes), u128::from(base));
    let (mut exponent, mut scale) = (1, base);
    while n >= scale * base && exponent < LETTERS.len() - 1 {
        scale *= base;
        exponent += 1;
    }
    let tenths = (n * 10).div_ceil(scale);
    if tenths < 100 {
        return format!("{}.{}{}", tenths / 10, tenths % 10, unit(exponent));
    }
    let whole = n.div_ceil(scale);
    if whole >= base && exponent < LETTERS.len() - 1 {
        format!("1.0{}", unit(exponent + 1))
    } else {
        format!("{whole}{}", unit(exponent))
    }
}

/// `knot du`, fully decided.
#[derive(Debug)]
pub struct DuSettings {
    roots: Vec<PathBuf>,
    format: Format,
    units: Units,
    depth: Option<usize>,
    same_file_system: bool,
    threads: usize,
}

impl Decide for DuArgs {
    type Settings = DuSettings;
    fn decide(self) -> DuSettings {
        DuSettings {
            roots: crate::args::roots(self.dirs),
            format: Format::of(self.json, false),
            units: match (self.human, self.si) {
                (true, _) => Units::Binary,
                (_, true) => Units::Decimal,
                _ => Units::Bytes,
            },
            depth: self.depth,
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
    if let Some(depth) = settings.depth {
        builder.depth(depth);
    }
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
    let written = match (settings.format, settings.depth) {
        _ if !usage.roots.iter().any(counted) => Ok(()),
        (Format::Json, Some(_)) => usage
            .entries
            .iter()
            .try_for_each(|entry| printer.json(&JsonEntry::of(entry))),
        (Format::Json, None) => printer.json(&JsonUsage::of(&usage)),
        (_, Some(_)) => printer.text(&listing(&usage.entries, settings.units)),
        _ => printer.text(&table(&usage, settings.units)),
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

/// The lines of `--depth`: apparent and allocated bytes, then the path, under a heading.
fn listing(entries: &[DuEntry], units: Units) -> String {
    let rows: Vec<(String, String, std::borrow::Cow<'_, str>)> = entries
        .iter()
        .map(|entry| {
            (
                units.show(entry.usage.apparent),
                units.maybe(entry.usage.allocated),
                report::escape(entry.path.as_os_str()),
            )
        })
        .collect();
    let width = |heading: &str, column: fn(&(String, String, _)) -> &String| {
        rows.iter()
            .map(|row| column(row).len())
            .chain([heading.len()])
            .max()
            .unwrap_or(0)
    };
    let apparent = width("apparent", |row| &row.0);
    let allocated = width("allocated", |row| &row.1);
    let mut out = format!(
        "{:>apparent$}  {:>allocated$}  path\n",
        "apparent", "allocated"
    );
    for (a, b, path) in &rows {
        let _ = writeln!(out, "{a:>apparent$}  {b:>allocated$}  {path}");
    }
    out
}

/// The human table.
fn table(usage: &DiskUsage, units: Units) -> String {
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
                &units.show(count.apparent),
                &units.maybe(count.allocated),
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
        "hard-link groups: {groups} saturated ({names} names, {} apparent, {} allocated)",
        units.amount(apparent),
        units.maybe(allocated)
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
         {} apparent, {} allocated)",
        units.amount(apparent),
        units.maybe(allocated)
    );
    let _ = writeln!(
        out,
        "removing it frees: {} apparent, {} allocated",
        units.amount(total.freed.apparent),
        units.maybe(total.freed.allocated)
    );
    let _ = writeln!(
        out,
        "copied without hard links: {} apparent, {} allocated",
        units.amount(total.copied.apparent),
        units.maybe(total.copied.allocated)
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
    copied_apparent: u64,
    copied_allocated: Option<u64>,
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

/// Apparent and allocated bytes.
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
    copied: JsonFreed,
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
                    copied_apparent: usage.copied.apparent,
                    copied_allocated: usage.copied.allocated,
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
            copied: JsonFreed {
                apparent: total.copied.apparent,
                allocated: total.copied.allocated,
            },
            errors: total.errors,
        }
    }
}

/// One line of `--depth --json` (README, "knot du").
#[derive(Serialize)]
struct JsonEntry<'a> {
    #[serde(with = "knot_names::json::serde_name")]
    path: &'a OsStr,
    depth: usize,
    dir: bool,
    items: u64,
    apparent: u64,
    allocated: Option<u64>,
}

impl<'a> JsonEntry<'a> {
    fn of(entry: &'a DuEntry) -> JsonEntry<'a> {
        JsonEntry {
            path: entry.path.as_os_str(),
            depth: entry.depth,
            dir: entry.dir,
            items: entry.usage.items,
            apparent: entry.usage.apparent,
            allocated: entry.usage.allocated,
        }
    }
}

impl Run for DuSettings {
    fn run(&self, context: &Context) -> Exit {
        run(self, context)
    }
}

#[cfg(test)]
mod tests {
    use super::human;

    /// The rounding edges (the black-box tests check them against GNU du itself) and the
    /// largest sizes, which no file here can have.
    #[test]
    fn human_sizes_round_up_as_du_does() {
        for (bytes, binary, decimal) in [
            (0, "0", "0"),
            (1023, "1023", "1.1k"),
            (1024, "1.0K", "1.1k"),
            (10_239, "10K", "11k"),
            (1_048_575, "1.0M", "1.1M"),
            (999_999, "977K", "1.0M"),
            ((1 << 60) - 1, "1.0E", "1.2E"),
            (u64::MAX, "16E", "19E"),
        ] {
            assert_eq!(human(bytes, 1024), binary, "{bytes}");
            assert_eq!(human(bytes, 1000), decimal, "{bytes}");
        }
    }
}
