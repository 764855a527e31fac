//! `knot scan`: its arguments, its settings, and the run: one visitor per thread renders
//! its records into a buffer and writes the buffer to standard output in one locked write
//! per batch, so output never becomes the bottleneck of a scan.
//!
//! Human output is `path -> target`, with `  [status]` where the status is not `ok`; the
//! arrows line up among consecutive links of the same directory. Loops met with `--follow`
//! are notes, not failures: each is reported once, at the link that leads back to a
//! directory it is inside.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use clap::Args;
use knot::scan::{Detail, Progress, ScanBuilder, WalkState};
use knot::{ErrorKind, Kind, Link, Status};
use knot_reparse::Tag;

use crate::cmd::{Decide, Run};
use crate::context::Context;
use crate::exit::Exit;
use crate::report::error;
use crate::report::progress::{self, ProgressLine};
use crate::report::{self, Format, Lost, Messages};

/// `knot scan --help`.
pub const LONG_ABOUT: &str = "List every link under DIR... (default: the current directory), \
one record each, as `path -> target`, the path being DIR joined with the path below it \
(as find prints it), followed by `[dangling]`, `[loop]`, `[too-long]` or `[unreadable]` where \
the link does not lead anywhere (`[elsewhere]`: on an NTFS volume mounted with ntfs-3g, a \
target on another Windows drive, which is not followed). Links are never descended into unless --follow; with it, \
each directory at most once (by device and inode, or volume serial and file id), so \
the time is proportional to the tree, never to the number of paths through it: a link \
to a directory walked already is listed, not entered again, and a link back to a \
directory it is in is a loop, reported once as a note.\n\n\
With --root IMG, links are judged inside the image root IMG (a root file system, a \
container image), as a chroot into it would see them: an absolute target resolves inside \
IMG and `..` at IMG stays there, so the status, --broken and `resolved` (a path inside the \
image; --json adds `resolved_host`) describe the image, not the host; no link leads out of \
IMG. Each DIR must be inside IMG; --follow does not go with --root.\n\n\
Exit codes: 0 done, 1 something could not be read (each printed), 2 usage error, \
3 --check found matching links (even if something could not be read).";

// Arguments of `knot scan` (no doc comment: see `commands!` in cmd/mod.rs).
#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Directories to scan (default: the current directory). A named directory that is a
    /// link is scanned through; links below it are not followed unless --follow.
    #[arg(value_name = "DIR", value_parser = crate::args::path_arg())]
    dirs: Vec<PathBuf>,
    /// Only links of these kinds: symlink, junction, mount-point, hardlink, unknown, or a
    /// reparse tag's kind word (lx-symlink, appexeclink, ...), in any case, `_` or `-`; a
    /// tag's SDK name (IO_REPARSE_TAG_SYMLINK) means every kind with that tag. The default
    /// is every link but hard links; `hardlink` lists regular files with more than one
    /// name, which takes a stat of every file, each with its group's first name inside the
    /// scan as its target (given once every name is found). Any other word is a usage
    /// error.
    #[arg(long, value_name = "K,...", value_delimiter = ',', value_parser = parse_kind)]
    kind: Vec<Kind>,
    /// Only broken links: status dangling, loop or too-long.
    #[arg(long)]
    broken: bool,
    /// Exit with status 3 when anything matched (for CI scripts).
    #[arg(long)]
    check: bool,
    /// Print one JSON record per line.
    #[arg(long, conflicts_with = "null")]
    json: bool,
    /// Print NUL-terminated paths.
    #[arg(short = '0', long = "null")]
    null: bool,
    /// Do not descend into directories on other file systems.
    #[arg(long)]
    xdev: bool,
    /// Descend into links to directories, walking each directory at most once: a link to
    /// a directory walked already is listed, not entered again; a link back into a
    /// directory being scanned (a loop) is reported once and not followed.
    #[arg(long, conflicts_with = "root")]
    follow: bool,
    #[command(flatten)]
    root: crate::args::ImageRootArg,
    #[command(flatten)]
    threads: crate::args::ThreadsArg,
    /// Sort the output by path (by default it streams in the order found).
    #[arg(long)]
    sort: bool,
    /// Print counts by kind and status, and the time taken, on standard error.
    #[arg(long)]
    stats: bool,
}

/// Which links `scan` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    All,
    Broken,
}

/// In what order records are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// As found, streaming.
    Found,
    /// Sorted by path, after the scan.
    Sorted,
}

/// `knot scan`, fully decided.
#[derive(Debug)]
pub struct ScanSettings {
    roots: Vec<PathBuf>,
    kinds: Option<Vec<Kind>>,
    filter: Filter,
    check: bool,
    format: Format,
    same_file_system: bool,
    follow: bool,
    root: crate::args::ImageRootArg,
    threads: usize,
    order: Order,
    stats: bool,
}

impl Decide for ScanArgs {
    type Settings = ScanSettings;
    fn decide(self) -> ScanSettings {
        let format = Format::of(self.json, self.null);
        ScanSettings {
            roots: crate::args::roots(self.dirs),
            kinds: (!self.kind.is_empty()).then_some(self.kind),
            filter: if self.broken {
                Filter::Broken
            } else {
                Filter::All
            },
            check: self.check,
            format,
            same_file_system: self.xdev,
            follow: self.follow,
            root: self.root,
            threads: self.threads.count(),
            order: if self.sort {
                Order::Sorted
            } else {
                Order::Found
            },
            stats: self.stats,
        }
    }
}

impl ScanSettings {
    /// `knot scan --sort ROOTS...`: every link but hard links, none followed, sorted by
    /// path (what junction's `-s` lists).
    pub fn sorted(roots: Vec<PathBuf>) -> ScanSettings {
        ScanSettings {
            roots,
            kinds: None,
            filter: Filter::All,
            check: false,
            format: Format::Human,
            same_file_system: false,
            follow: false,
            root: crate::args::ImageRootArg::default(),
            threads: 0,
            order: Order::Sorted,
            stats: false,
        }
    }

    /// The directories to scan.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }
}

/// A word of `--kind`, as the library parses a [`Kind`] (a tag's SDK name, such as
/// `IO_REPARSE_TAG_MOUNT_POINT`, means every kind with that tag, which the scan expands);
/// a word that names no kind is a usage error that lists the words there are, never a
/// filter that matches nothing.
fn parse_kind(word: &str) -> Result<Kind, String> {
    word.parse().map_err(|_: knot::ParseKindError| {
        let tags: Vec<&str> = knot_reparse::Tag::documented()
            .map(knot_reparse::Tag::kind_name)
            .filter(|kind| !matches!(*kind, "symlink" | "junction"))
            .collect();
        format!(
            "unknown kind '{}': expected symlink, junction, mount-point, hardlink, unknown, \
             or a reparse tag's kind word or SDK name (IO_REPARSE_TAG_...): {}",
            report::escape(word.as_ref()),
            tags.join(", ")
        )
    })
}

/// What one run found, summed over the threads.
#[derive(Debug, Default)]
struct Tally {
    /// Records by kind, then by status (`None`: not read).
    kinds: BTreeMap<String, BTreeMap<Option<&'static str>, u64>>,
    matched: u64,
    failed: bool,
    /// `--follow`: the directories that could not be entered (cloud placeholders on
    /// ntfs-3g), noted once after the scan: how many, and the first by path.
    unentered: u64,
    first_unentered: Option<(PathBuf, Tag)>,
}

impl Tally {
    fn count(&mut self, link: &Link) {
        self.matched += 1;
        *self
            .kinds
            .entry(link.kind.name().to_owned())
            .or_default()
            .entry(link.status.map(Status::name))
            .or_default() += 1;
    }

    /// A directory `--follow` could not enter, counted `n` times.
    fn unentered_at(&mut self, path: PathBuf, tag: Tag, n: u64) {
        self.unentered += n;
        if self
            .first_unentered
            .as_ref()
            .is_none_or(|(first, _)| path < *first)
        {
            self.first_unentered = Some((path, tag));
        }
    }

    fn merge(&mut self, other: Tally) {
        self.matched += other.matched;
        self.failed |= other.failed;
        self.unentered += other.unentered;
        if let Some((path, tag)) = other.first_unentered {
            self.unentered_at(path, tag, 0);
        }
        for (kind, statuses) in other.kinds {
            let into = self.kinds.entry(kind).or_default();
            for (status, n) in statuses {
                *into.entry(status).or_default() += n;
            }
        }
    }
}

/// How records look on this run's standard output.
#[derive(Clone, Copy, Debug)]
struct Style {
    format: Format,
    color: bool,
}

/// Arrows line up over a window of this many records, whatever their directories (a pnpm
/// tree holds a few links per directory, each path longer than the last): a bounded
/// window, so that output streams and memory stays flat however large the tree.
const WINDOW: usize = 256;

/// A path wider than this does not push the others' arrows out.
const ALIGN_MAX: usize = 80;

/// Output buffered by a thread is written once it holds this much.
const BATCH: usize = 64 * 1024;

/// Consecutive human records, up to [`WINDOW`], rendered together so their arrows align.
#[derive(Default)]
struct Group {
    links: Vec<(String, Link)>,
}

impl Group {
    fn push(&mut self, link: Link, style: Style, out: &mut Vec<u8>) {
        self.links
            .push((report::escape(link.path.as_os_str()).into_owned(), link));
        if self.links.len() >= WINDOW {
            self.render(style, out);
        }
    }

    fn render(&mut self, style: Style, out: &mut Vec<u8>) {
        let width = self
            .links
            .iter()
            .map(|(p, _)| display_width(p))
            .filter(|&w| w <= ALIGN_MAX)
            .max()
            .unwrap_or(0);
        for (path, link) in self.links.drain(..) {
            human_line(&path, width, &link, style, out);
        }
    }
}

/// The columns `text` takes on a terminal: wide characters (CJK, emoji) take two.
fn display_width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

fn paint(out: &mut Vec<u8>, color: bool, code: &str, text: &str) {
    if color {
        out.extend_from_slice(b"\x1b[");
        out.extend_from_slice(code.as_bytes());
        out.push(b'm');
        out.extend_from_slice(text.as_bytes());
        out.extend_from_slice(b"\x1b[0m");
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}

/// `path -> target  [status]`, or for a hard link `path  [hardlink, N names]`.
fn human_line(path: &str, width: usize, link: &Link, style: Style, out: &mut Vec<u8>) {
    out.extend_from_slice(path.as_bytes());
    let pad = width.saturating_sub(display_width(path));
    out.extend(std::iter::repeat_n(b' ', pad));
    if link.kind == Kind::Hardlink {
        let names = link.nlink.unwrap_or(0);
        paint(
            out,
            style.color,
            "2",
            &format!("  [hardlink, {names} names]"),
        );
        out.push(b'\n');
        return;
    }
    // A reparse point that is not a link (a WOF-compressed or cloud file) has no target.
    if let Some(target) = &link.target {
        out.extend_from_slice(b" -> ");
        paint(
            out,
            style.color,
            "36",
            &report::stored_name(link, target.as_os_str()),
        );
    }
    if let Some(status) = link.status.filter(|&s| s != Status::Ok) {
        let code = if status.is_broken() { "31" } else { "33" };
        out.extend_from_slice(b"  ");
        paint(out, style.color, code, &format!("[{status}]"));
    }
    if let Kind::Reparse(_) | Kind::Junction | Kind::MountPoint = link.kind {
        out.extend_from_slice(format!("  ({})", link.kind).as_bytes());
    }
    out.push(b'\n');
}

/// Writes a batch to standard output under one lock. A reader that went away, or any
/// other write error (reported once), is returned as [`Lost`]: the thread that meets it
/// stops the scan (see [`run`]), nothing here exits.
fn write_out(buf: &mut Vec<u8>, messages: Messages) -> Result<(), Lost> {
    if report::stdout_gone() {
        buf.clear();
        return Err(Lost);
    }
    if buf.is_empty() {
        return Ok(());
    }
    let result = progress::suspend(|| {
        let mut out = io::stdout().lock();
        out.write_all(buf).and_then(|()| out.flush())
    });
    buf.clear();
    report::check(result, messages)
}

/// What the threads share.
struct Shared<'a> {
    context: &'a Context,
    style: Style,
    /// Write out once this much is buffered: at once on a terminal.
    batch: usize,
    order: Order,
    messages: Messages,
    tally: Mutex<Tally>,
    sorted: Mutex<Vec<Link>>,
}

/// One thread's visitor: renders into its own buffer; flushes when full and when dropped.
struct Visitor<'a> {
    shared: &'a Shared<'a>,
    out: Vec<u8>,
    group: Group,
    tally: Tally,
    sorted: Vec<Link>,
}

impl Visitor<'_> {
    fn found(&mut self, link: Link) -> Result<(), Lost> {
        self.tally.count(&link);
        let style = self.shared.style;
        if self.shared.order == Order::Sorted {
            self.sorted.push(link);
            return Ok(());
        }
        render(link, style, &mut self.group, &mut self.out);
        if self.out.len() >= self.shared.batch {
            write_out(&mut self.out, self.shared.messages)?;
        }
        Ok(())
    }

    fn error(&mut self, err: &knot::Error) -> Result<(), Lost> {
        if let ErrorKind::NotEntered { tag } = err.kind() {
            // Said once, after the scan: the placeholders of one sync root are many.
            self.tally.unentered_at(err.path().to_path_buf(), *tag, 1);
            return Ok(());
        }
        // Errors go out after the records found before them.
        self.group.render(self.shared.style, &mut self.out);
        let written = write_out(&mut self.out, self.shared.messages);
        self.report(err);
        written
    }

    fn report(&mut self, err: &knot::Error) {
        progress::suspend(|| self.report_now(err));
    }

    fn report_now(&mut self, err: &knot::Error) {
        if matches!(err.kind(), ErrorKind::Loop { .. }) {
            self.shared.messages.note(&format!(
                "not following {}: it leads back to {}, which contains it",
                report::quote(err.path().as_os_str()),
                match err.kind() {
                    ErrorKind::Loop { ancestor } => report::quote(ancestor.as_os_str()),
                    _ => String::new(),
                }
            ));
        } else {
            error::report(err, self.shared.context);
            self.tally.failed = true;
        }
    }
}

impl Drop for Visitor<'_> {
    fn drop(&mut self) {
        self.group.render(self.shared.style, &mut self.out);
        // Lost output was reported where it happened, and ends the scan through `run`.
        let _ = write_out(&mut self.out, self.shared.messages);
        self.shared
            .tally
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .merge(std::mem::take(&mut self.tally));
        self.shared
            .sorted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .append(&mut self.sorted);
    }
}

fn render(link: Link, style: Style, group: &mut Group, out: &mut Vec<u8>) {
    match style.format {
        Format::Human => group.push(link, style, out),
        Format::Json => {
            // Writing into a Vec cannot fail.
            let _ = report::json_line(out, &knot::Record::from(&link));
        }
        Format::Nul => {
            out.extend_from_slice(link.path.as_os_str().as_encoded_bytes());
            out.push(0);
        }
    }
}

/// Runs `knot scan`: `scan` says what to scan, `run` the rest (the terminals, the
/// program's name, how errors are reported).
pub fn run(settings: &ScanSettings, context: &Context) -> Exit {
    let messages = Messages::of(context);
    let started = Instant::now();
    let image = match super::open_image(&settings.root, context) {
        Ok(image) => image,
        Err(exit) => return exit,
    };
    let mut builder = ScanBuilder::new(&settings.roots[0]);
    for root in &settings.roots[1..] {
        builder.add(root);
    }
    if let Some(image) = image {
        // A directory outside the image has no place in it: said once, before the scan.
        for root in &settings.roots {
            if let Err(err) = image.locate(root) {
                error::fail(&err, context);
                return Exit::Failure;
            }
        }
        builder.image_root(image);
    }
    if let Some(kinds) = &settings.kinds {
        builder.kinds(kinds.iter().cloned());
    }
    // Read per link only what the output shows: the human form shows the status where it
    // is not ok (one fstatat per link), -0 only the path.
    let detail = match settings.format {
        Format::Json => Detail::Full,
        Format::Human => Detail::Status,
        Format::Nul if settings.stats => Detail::Status,
        Format::Nul => Detail::Kind,
    };
    let progress = Progress::new();
    builder
        .broken(settings.filter == Filter::Broken)
        .follow(settings.follow)
        .same_file_system(settings.same_file_system)
        .threads(settings.threads)
        .detail(detail)
        .progress(Arc::clone(&progress));

    let shared = Shared {
        context,
        batch: if context.terminal.stdout { 1 } else { BATCH },
        style: Style {
            format: settings.format,
            color: context.terminal.color,
        },
        order: settings.order,
        messages,
        tally: Mutex::new(Tally::default()),
        sorted: Mutex::new(Vec::new()),
    };
    let line = ProgressLine::start(
        context,
        "scanning: ",
        Arc::clone(&progress),
        progress::scan_counts,
    );

    builder.build_parallel().run(|| {
        let mut visitor = Visitor {
            shared: &shared,
            out: Vec::with_capacity(BATCH + 4096),
            group: Group::default(),
            tally: Tally::default(),
            sorted: Vec::new(),
        };
        Box::new(move |entry| {
            let written = match entry {
                Ok(entry) => visitor.found(entry.into_link()),
                Err(err) => visitor.error(&err),
            };
            // Nobody reads the records any more (this thread's write failed, or another
            // thread's did): stop, with what was found so far deciding the exit code
            // (--check: 3 once anything matched).
            if written.is_err() || report::stdout_gone() {
                WalkState::Quit
            } else {
                WalkState::Continue
            }
        })
    });
    drop(line);
    progress::threads_note(&messages, progress.threads());

    let mut sorted =
        std::mem::take(&mut *shared.sorted.lock().unwrap_or_else(PoisonError::into_inner));
    if settings.order == Order::Sorted {
        sorted.sort_unstable_by(|a, b| a.path.cmp(&b.path));
        let mut out = Vec::with_capacity(BATCH + 4096);
        let mut group = Group::default();
        for link in sorted {
            render(link, shared.style, &mut group, &mut out);
            if out.len() >= BATCH && write_out(&mut out, messages).is_err() {
                break;
            }
        }
        group.render(shared.style, &mut out);
        let _ = write_out(&mut out, messages);
    }

    let tally = std::mem::take(&mut *shared.tally.lock().unwrap_or_else(PoisonError::into_inner));
    if let Some((path, tag)) = &tally.first_unentered {
        note_unentered(path, *tag, tally.unentered, messages);
    }
    if settings.stats {
        print_stats(&tally, &progress, started.elapsed(), messages);
    }
    if settings.check && tally.matched > 0 {
        Exit::Found
    } else if tally.failed {
        Exit::Failure
    } else {
        Exit::Success
    }
}

/// `--follow` met directories it cannot enter: the first by path, and how many.
fn note_unentered(first: &Path, tag: Tag, count: u64, messages: Messages) {
    let what = if tag.is_cloud() {
        "a cloud placeholder directory"
    } else {
        "a directory reparse point"
    };
    let more = match count {
        0 | 1 => String::new(),
        n => format!(" (and {} more like it)", n - 1),
    };
    messages.note(&format!(
        "not followed into {}{more}: it is {what} ({}, {:#010x}) that this system cannot open",
        report::quote(first.as_os_str()),
        tag.kind_name(),
        tag.0
    ));
}

/// `--stats`: counts by kind and status, and the time taken, on standard error.
fn print_stats(tally: &Tally, progress: &Progress, elapsed: Duration, messages: Messages) {
    let stats = |text: &str| messages.labelled("stats: ", text);
    let mut text = stats(&format!(
        "{} entries in {} directories, {:.3} s\n",
        progress.entries(),
        progress.dirs(),
        elapsed.as_secs_f64()
    ));
    text.push_str(&stats(&format!("{} matched", tally.matched)));
    if tally.failed {
        text.push_str(" (some directories could not be read)");
    }
    text.push('\n');
    for (kind, statuses) in &tally.kinds {
        let total: u64 = statuses.values().sum();
        let parts: Vec<String> = Status::ALL
            .iter()
            .filter_map(|s| statuses.get(&Some(s.name())).map(|n| format!("{s} {n}")))
            .collect();
        text.push_str(&stats(&format!("  {kind:<10} {total:>9}")));
        if !parts.is_empty() {
            text.push_str(&format!("  ({})", parts.join(", ")));
        }
        text.push('\n');
    }
    report::to_stderr(&text);
}

impl Run for ScanSettings {
    fn run(&self, context: &Context) -> Exit {
        run(self, context)
    }
}
