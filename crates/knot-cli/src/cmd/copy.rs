//! `knot copy`: its arguments, its settings and the run. The library walks and copies
//! (`knot::copy`); this prints one line per entry whose outcome is not a plain copy (with
//! `-v`, per entry), sorted by path once the copy is done, so the same tree gives the same
//! report on any number of threads (only those lines are kept), or with `--json` one
//! record per entry as it comes, then a summary on standard error. Errors are printed as
//! they come, and the copy goes on. On a terminal, without `--json`, a progress line
//! counts the entries and bytes copied and the rate, and, once a walk of SRC beside the
//! copy has counted them, of how many and the time left.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use knot::copy::{Action, CopyOptions, Inner, Item, Outer, Summary};
use knot::du::DuKind;
use serde::Serialize;

use crate::args::Format;
use crate::cmd::{Decide, Run};
use crate::context::Context;
use crate::exit::Exit;
use crate::report::progress::ProgressLine;
use crate::report::{Messages, Printer, error, quote, to_stderr};

/// `knot copy --help`.
pub const LONG_ABOUT: &str = "Copy the directory SRC to DST, keeping its links.\n\n\
DST must not exist (it is made) or must be an empty directory, unless --update or \
--mirror is given. Each file is written under a hidden name beside its place and renamed \
into place once complete, so an interrupted copy never leaves a half-written file under a \
real name. Files are copied with their \
data (a reflink where the file system shares extents, as on btrfs and XFS; holes kept in a \
sparse file), permissions, owner (as root) and times; directories with their permissions \
and times. Symlinks are copied as symlinks, and the names a file has inside SRC stay names \
of one file in DST (hard-link groups). Junctions (on an NTFS volume mounted with ntfs-3g) \
are copied as junctions where DST can hold them, inner ones to the same directory in DST \
and dangling ones byte for byte; where DST has no junctions, each becomes an absolute \
directory symlink to the same directory, and its line says so (made symlink). FIFOs and \
devices are made anew (devices as root); sockets are reported and left out. With \
--xattrs, each file's, directory's and symlink's own extended attributes come too, POSIX \
ACLs among them; one that cannot be set (a file system that keeps none, a namespace only \
root may write) fails its entry, and the file or link never appears without them. A \
WOF-compressed, deduplicated or cloud file is copied as its data, a plain file, where the \
system gives that data (on Windows; a cloud file only where its data is on the computer: \
knot does not download it); through ntfs-3g, which cannot read it, it is refused with the \
reason. Any other reparse point that is no link is refused, named by its tag.\n\n\
A link that leads inside SRC (inner) is made to lead to the same place inside DST, keeping \
its form: a relative target that stays inside is kept as it is, an absolute one is \
rewritten from SRC to DST (--inner keep copies them as they are). Where a link leads is \
where the kernel takes it: each `..` after the links before it (`outl/../b` is beside where \
`outl` leads); a target whose `..` follows a link that leaves SRC, or that leaves SRC and \
comes back by another name, is written as where it leads, absolute or relative as it was. \
A link that leads outside \
(outer) keeps leading where it led (--outer keep, the default: a relative target is \
rewritten to get there from DST), is left out (--outer skip), or has what it leads to \
copied in its place (--outer copy: that one link followed, each directory copied once, a \
second link to one made a symlink to its copy, a link to a directory above it reported as \
a loop and copied as a link). A dangling link is copied as it is. SRC is read, and DST \
written, only through directories opened one name at a time without following links (but \
for the outer links --outer copy asks to follow), so nothing outside SRC is read into DST \
and nothing outside DST is written, whatever changes meanwhile.\n\n\
Each entry whose outcome is not a plain copy gets a line: rewritten, kept, dropped, linked \
(another name of a file copied already), link-limit (a name past the link limit, copied), \
first-failed (a name copied in place of the failed copy of its file's first name met, the \
next names linked to it), cloned, followed (--outer copy), skipped (a socket), made (a \
junction made a symlink), not entered (--xdev); -v lists the plain copies too; --json \
prints one record per entry, the scan record plus class (inner, outer, dangling, loop), \
action and error. A summary table follows on standard error, and while the copy runs on a \
terminal, a progress line (entries, bytes, rate; of how many, and the time left, once a \
walk of SRC beside the copy has counted them).\n\n\
--update brings an earlier copy in DST up to date: only what is missing or differs is \
copied. A file differs when its size, modification time (to the nanosecond) or permission \
bits differ, with --xattrs its extended attributes, or, with --checksum, its bytes \
(compared one by one); a link when its kind or \
target differs, or with --xattrs a symlink's own extended attributes. Every replacement is atomic: the new file, link, FIFO or device is made \
under a hidden name, then renamed over the old one (a junction, which no rename puts over a \
file, is made once what stood there is removed). Replaced entries are reported `updated`; \
unchanged ones are only counted. \
A file or link in DST where SRC has a directory is removed (a link as a link) and the \
directory made; a directory where SRC has a file or link is refused (--mirror replaces it). \
--mirror does what --update does and also removes from DST what SRC no longer has, each \
reported `removed`: links only ever as links, never followed; a directory with everything \
in it, opened one directory at a time without following links, never entering a mount \
point. A second --mirror of an unchanged tree changes nothing and says so. With --outer \
copy, what outer links lead to is brought up to date too, looked at through the links.\n\n\
On Windows, files are copied with their data (block cloning where the volume shares \
clusters, as ReFS and Dev Drive do; holes kept in a sparse file), their read-only, hidden, \
system, archive and not-indexed attributes and their access and write times, as robocopy's \
default /COPY:DAT, each written under a hidden name and renamed into place as elsewhere; \
security descriptors, creation times and alternate data streams are not copied. --update, \
--mirror and --outer copy are not available on Windows yet (refused before anything is \
made).\n\n\
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
    #[command(flatten)]
    tree: TreeArgs,
}

// What `knot copy` and `knot snapshot` both take: how links are copied, what else is, and
// how the copy is reported (no doc comment: clap would make it the commands' description).
#[derive(Args, Debug)]
pub(crate) struct TreeArgs {
    /// Links that lead inside SRC: rewrite them to lead inside the copy, or keep them as
    /// they are.
    #[arg(long, value_enum, value_name = "HOW", default_value_t = InnerArg::Rewrite)]
    inner: InnerArg,
    /// Links that lead outside SRC: keep them leading there, skip them, or copy what they
    /// lead to in their place.
    #[arg(long, value_enum, value_name = "HOW", default_value_t = OuterArg::Keep)]
    outer: OuterArg,
    /// Stay on SRC's file system: mount points below are reported and not entered, and
    /// made empty in the copy (as `cp -x` makes them).
    #[arg(long)]
    xdev: bool,
    /// Copy extended attributes too (POSIX ACLs among them), as `cp --preserve=xattr`
    /// and `rsync -X` do; one that cannot be set fails its entry.
    #[arg(long)]
    xattrs: bool,
    /// Say what would be copied, and make nothing.
    #[arg(long, short = 'n')]
    dry_run: bool,
    /// Print one JSON record per entry.
    #[arg(long)]
    json: bool,
    /// List every entry copied, the plain copies too.
    #[arg(long, short = 'v')]
    pub(crate) verbose: bool,
    #[command(flatten)]
    threads: crate::args::ThreadsArg,
}

impl TreeArgs {
    /// The copy's options (not updating an earlier copy).
    pub(crate) fn options(&self) -> CopyOptions {
        CopyOptions {
            inner: self.inner.inner(),
            outer: self.outer.outer(),
            same_file_system: self.xdev,
            xattrs: self.xattrs,
            mode: crate::args::mode(self.dry_run),
            threads: self.threads.count(),
            ..CopyOptions::default()
        }
    }

    pub(crate) fn format(&self) -> Format {
        Format::of(self.json, false)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum InnerArg {
    Rewrite,
    Keep,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum OuterArg {
    Keep,
    Skip,
    Copy,
}

impl InnerArg {
    pub(crate) fn inner(self) -> Inner {
        match self {
            InnerArg::Rewrite => Inner::Rewrite,
            InnerArg::Keep => Inner::Keep,
        }
    }
}

impl OuterArg {
    pub(crate) fn outer(self) -> Outer {
        match self {
            OuterArg::Keep => Outer::Keep,
            OuterArg::Skip => Outer::Skip,
            OuterArg::Copy => Outer::Copy,
        }
    }
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
            update: self.update,
            mirror: self.mirror,
            checksum: self.checksum,
            ..self.tree.options()
        };
        CopySettings {
            source: self.source,
            copy: self.copy,
            options,
            format: self.tree.format(),
            verbose: self.tree.verbose,
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
    /// The kind of link made, where it is not the source's (a junction made a symlink
    /// where DST has no junctions).
    made: Option<&'static str>,
    dry_run: bool,
    error: Option<String>,
}

pub fn run(settings: &CopySettings, context: &Context) -> Exit {
    let dry_run = settings.options.mode == knot::ChangeMode::DryRun;
    let options = &settings.options;
    let made = if options.update || options.mirror {
        Made::Update
    } else {
        Made::Copy
    };
    let shown = Shown {
        format: settings.format,
        verbose: settings.verbose,
    };
    let counted = Counted::of(&settings.source, &settings.options);
    report(shown, dry_run, made, counted, context, |each| {
        knot::copy(&settings.source, &settings.copy, &settings.options, each)
    })
}

/// What a run made: a copy, an earlier copy brought up to date (`--update`, `--mirror`:
/// its summary counts the entries updated, unchanged and removed too), or a snapshot (its
/// summary counts the files unchanged since the previous one, linked to it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Made {
    Copy,
    Update,
    Snapshot,
}

/// How a run's entries are shown: as lines or JSON records, and with `-v`, a line for
/// each plain copy too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shown {
    pub(crate) format: Format,
    pub(crate) verbose: bool,
}

/// Runs `copy`, which calls its argument with every entry's outcome, and reports them:
/// the lines (or JSON records), then the summary; on a terminal, a progress line while it
/// runs. `knot copy`'s and `knot snapshot`'s.
pub(crate) fn report(
    shown: Shown,
    dry_run: bool,
    made: Made,
    counted: Counted,
    context: &Context,
    copy: impl FnOnce(&(dyn Fn(knot::Result<Item>) + Sync)) -> knot::Result<Summary>,
) -> Exit {
    let Shown { format, verbose } = shown;
    let messages = Messages::of(context);
    let json = format == Format::Json;
    let printer = Mutex::new(Printer::new(format, messages));
    // Only the lines to be printed are kept, with the path they are sorted by.
    let lines = Mutex::new(Vec::new());
    let counters = Arc::new(Counters::default());
    let progress = progress_line(context, json, made, &counters);
    if progress.is_some() {
        drop(counted.start(&counters));
    }
    let copied = copy(&|item| {
        let item = item.inspect_err(|err| error::fail(err, context));
        if let Ok(item) = &item {
            counters.add(item);
        }
        // Output never stops the work (DESIGN.md promise 8).
        // An entry left as it was (--update) is only counted.
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
            && let Some(line) = human(item, verbose)
        {
            lines
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                // Boxed: exactly as long as they are (a tree's report may hold many).
                .push((
                    item.link.path.clone().into_boxed_path(),
                    line.into_boxed_str(),
                ));
        }
    });
    drop(progress);
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
        let mut table = summary_table(&summary, dry_run, made);
        if made == Made::Update && summary.nothing_changed() && summary.failed == 0 {
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
            made: item.made.as_ref().map(knot::Kind::name),
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
            made: None,
            dry_run,
            error: Some(error::message(err)),
        },
    }
}

/// What the progress line counts: the entries copied so far and their bytes (none for a
/// hard link, an entry left unchanged or one removed: they copy no data), and, once a
/// count of SRC ([`Counted`]) is done, how many there are in all.
#[derive(Debug, Default)]
struct Counters {
    items: AtomicU64,
    bytes: AtomicU64,
    total: OnceLock<Total>,
}

/// SRC's entries (names) and the bytes of its files (each once), as `knot du` counts
/// them.
#[derive(Clone, Copy, Debug)]
struct Total {
    items: u64,
    bytes: u64,
    /// Whether the bytes copied are to reach `bytes`: not where some files are left as
    /// they are or linked (`--update`, `--mirror`, snapshot), which copy no data.
    bytes_all_copied: bool,
}

/// The tree the progress line counts, to give how much is left and when it ends: SRC,
/// on its file system alone with `--xdev`. Counted only where the line is drawn, by a
/// thread of its own beside the copy, through `knot du`'s walk (no link followed; so an
/// outer link's tree copied under `--outer copy` is not in the count, and the line then
/// gives no end once the count is passed).
#[derive(Clone, Debug)]
pub(crate) struct Counted {
    source: PathBuf,
    same_file_system: bool,
    bytes_all_copied: bool,
}

impl Counted {
    /// SRC as `options` copy it.
    pub(crate) fn of(source: &Path, options: &CopyOptions) -> Counted {
        Counted {
            source: source.to_path_buf(),
            same_file_system: options.same_file_system,
            bytes_all_copied: !(options.update || options.mirror),
        }
    }

    /// A snapshot of `source`: unchanged files are linked, not copied.
    pub(crate) fn snapshot(source: &Path, options: &CopyOptions) -> Counted {
        Counted {
            bytes_all_copied: false,
            ..Counted::of(source, options)
        }
    }

    /// Counts in a thread of its own, the total going to `counters` when done; nothing
    /// where the system cannot start a thread, or the count fails at the root. The copy
    /// does not wait for it: a copy that ends first ends the count with the process.
    fn start(self, counters: &Arc<Counters>) -> Option<std::thread::JoinHandle<()>> {
        let counters = Arc::clone(counters);
        std::thread::Builder::new()
            .spawn(move || {
                let usage = knot::du::DuBuilder::new(&self.source)
                    .same_file_system(self.same_file_system)
                    .threads(1)
                    .run(&|_| {});
                let total = usage.total;
                if total.errors == 0 || total.total.items > 0 {
                    let _ = counters.total.set(Total {
                        items: total.total.items,
                        // The files' data, which is what the copy counts in bytes.
                        bytes: [DuKind::File, DuKind::HardLinked]
                            .iter()
                            .map(|&kind| total.kind(kind).apparent)
                            .sum(),
                        bytes_all_copied: self.bytes_all_copied,
                    });
                }
            })
            .ok()
    }
}

impl Counters {
    fn add(&self, item: &Item) {
        self.items.fetch_add(1, Ordering::Relaxed);
        if !matches!(
            item.action,
            Action::Linked | Action::Unchanged | Action::Removed
        ) {
            self.bytes.fetch_add(item.bytes, Ordering::Relaxed);
        }
    }

    /// `N entries, X copied, R/s`, after `elapsed`; once SRC is counted,
    /// `N of M entries, X of Y copied, R/s, T left`.
    fn render(&self, elapsed: std::time::Duration) -> String {
        let items = self.items.load(Ordering::Relaxed);
        let bytes = self.bytes.load(Ordering::Relaxed);
        let secs = elapsed.as_secs_f64();
        let rate = if secs > 0.0 {
            (bytes as f64 / secs) as u64
        } else {
            0
        };
        let rate = indicatif::BinaryBytes(rate);
        let Some(total) = self.total.get() else {
            return format!(
                "{items} entries, {} copied, {rate}/s",
                indicatif::BinaryBytes(bytes),
            );
        };
        let copied = if total.bytes_all_copied {
            format!(
                "{} of {}",
                indicatif::BinaryBytes(bytes),
                indicatif::BinaryBytes(total.bytes)
            )
        } else {
            indicatif::BinaryBytes(bytes).to_string()
        };
        let left = left(total, items, bytes, elapsed)
            .map(|left| format!(", {} left", indicatif::HumanDuration(left)))
            .unwrap_or_default();
        format!(
            "{items} of {} entries, {copied} copied, {rate}/s{left}",
            total.items
        )
    }
}

/// How long the rest takes at the pace so far: the part done is the share of entries
/// done, averaged with the share of bytes where all bytes are copied (a tree of small
/// files goes by entries, one of large files by bytes). `None` until a hundredth is done,
/// and past the count (an outer link's tree under `--outer copy`).
fn left(total: &Total, items: u64, bytes: u64, elapsed: std::time::Duration) -> Option<Duration> {
    let share = |done: u64, all: u64| {
        if all == 0 {
            1.0
        } else {
            done as f64 / all as f64
        }
    };
    let mut done = share(items, total.items);
    if total.bytes_all_copied {
        done = (done + share(bytes, total.bytes)) / 2.0;
    }
    if !(0.01..1.0).contains(&done) || items > total.items {
        return None;
    }
    Some(elapsed.mul_f64((1.0 - done) / done))
}

/// The progress line, where standard error is a terminal ([`ProgressLine::start_with`]
/// says) and the records do not go out as JSON; headed by what runs (`copy: `,
/// `snapshot: `).
fn progress_line(
    context: &Context,
    json: bool,
    made: Made,
    counters: &Arc<Counters>,
) -> Option<ProgressLine> {
    if json {
        return None;
    }
    let counters = Arc::clone(counters);
    let started = Instant::now();
    let head = match made {
        Made::Copy | Made::Update => "copy: ",
        Made::Snapshot => "snapshot: ",
    };
    ProgressLine::start_with(context, head, move || counters.render(started.elapsed()))
}

/// The line of an entry whose outcome is not a plain copy; `None` for a plain copy,
/// unless `verbose`.
///
/// `rewritten 'src/l': '/src/a' -> '/dst/a'  [inner]`, `kept 'src/l' -> '/x'  [outer]`,
/// `dropped 'src/l' -> '/x'  [outer]`, `linked 'dst/b' => 'dst/a'`, `cloned 'src/f'`,
/// `not entered 'src/mnt'  [another file system]`, `updated 'src/f'`,
/// `removed 'dst/old'`; with `verbose`, `copied 'src/f'`, `sparse 'src/s'`,
/// `copied 'src/l' -> 'a'  [inner]`.
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
    if let Some(made) = item.made {
        let line = format!(
            "made {} {path} -> {}  [no junctions in DST's file system]",
            made.name(),
            quote(
                item.new_target
                    .as_deref()
                    .or(item.link.target.as_deref())
                    .unwrap_or("".as_ref())
                    .as_os_str()
            )
        );
        return Some(line);
    }
    Some(match item.action {
        Action::Copied | Action::Sparse if !verbose => return None,
        Action::Copied if item.class.is_some() => format!("copied {path} -> {}{class}", stored()),
        Action::Copied | Action::Sparse => format!("{} {path}", item.action.name()),
        Action::Cloned => format!("cloned {path}"),
        Action::Linked => format!("linked {} => {}", quote(item.copy.as_os_str()), new()),
        Action::Rewritten => format!("rewritten {path}: {} -> {}{class}", stored(), new()),
        Action::Kept => format!("kept {path} -> {}{class}", stored()),
        Action::Dropped => format!("dropped {path} -> {}{class}", stored()),
        Action::Followed => format!("followed {path} -> {}{class}", stored()),
        Action::NotEntered => format!("not entered {path}  [another file system]"),
        Action::Unchanged => return None,
        Action::Removed => format!("removed {}", quote(item.copy.as_os_str())),
        Action::Skipped => {
            let what = item
                .link
                .special
                .map_or("special file", knot::Special::name);
            format!("skipped {path}  [{what}]")
        }
        Action::AtLinkLimit => format!(
            "link-limit {}: copied, as {} has as many names as its file system allows",
            quote(item.copy.as_os_str()),
            new()
        ),
        Action::FirstFailed => format!(
            "first-failed {}: copied, as the copy of {}, another name of its file, failed",
            quote(item.copy.as_os_str()),
            new()
        ),
        Action::LinkRefused => format!(
            "link-refused {}: copied, as the system refused a hard link to {} (it is on \
             another file system, or fs.protected_hardlinks lets this user link only to \
             files they own)",
            quote(item.copy.as_os_str()),
            new()
        ),
        _ => format!("{} {path}", item.action.name()),
    })
}

/// The closing summary: one row per kind, the count right-aligned; for a snapshot, the
/// files unchanged since the previous one (linked to it) first; under `--update` or
/// `--mirror`, the entries updated, unchanged (left as they were) and removed last.
fn summary_table(summary: &Summary, dry_run: bool, made: Made) -> String {
    let head = if dry_run {
        "would copy (dry run: nothing was copied):"
    } else {
        "copied:"
    };
    let mut rows = Vec::new();
    if made == Made::Snapshot {
        rows.push(("unchanged (linked)", summary.unchanged));
        rows.push(("unchanged, copied (link refused)", summary.refused));
    }
    rows.extend([
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
        ("groups split at the link limit", summary.split),
        ("groups short of a name that failed", summary.short),
        ("links rewritten", summary.rewritten),
        ("links kept", summary.kept),
        ("links dropped", summary.dropped),
        ("dangling links", summary.dangling),
        ("not entered", summary.not_entered),
        ("special files", summary.special),
        ("sockets skipped", summary.skipped),
        ("failures", summary.failed),
    ]);
    if made == Made::Update {
        rows.extend([
            ("updated", summary.updated),
            ("unchanged", summary.unchanged),
            ("removed", summary.removed),
        ]);
    }
    crate::report::count_table(head, &rows)
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
        assert!(progress_line(&context(false, false), false, Made::Copy, &counters).is_none());
        assert!(progress_line(&context(true, false), true, Made::Copy, &counters).is_none());
        assert!(progress_line(&context(true, true), false, Made::Snapshot, &counters).is_none());
        assert!(progress_line(&context(true, false), false, Made::Copy, &counters).is_some());
        assert!(progress_line(&context(true, false), false, Made::Snapshot, &counters).is_some());
    }

    /// Once SRC is counted: how many of how many, and the time left at the pace so far,
    /// by entries and bytes where every byte is copied, by entries alone where not.
    #[test]
    fn progress_gives_the_part_done_and_the_time_left() {
        let counters = Counters::default();
        counters.items.store(25, Ordering::Relaxed);
        counters.bytes.store(1 << 20, Ordering::Relaxed);
        let total = Total {
            items: 100,
            bytes: 4 << 20,
            bytes_all_copied: true,
        };
        counters.total.set(total).unwrap();
        assert_eq!(
            counters.render(Duration::from_secs(10)),
            "25 of 100 entries, 1.00 MiB of 4.00 MiB copied, 102.40 KiB/s, 30 seconds left"
        );
        let update = Total {
            bytes_all_copied: false,
            ..total
        };
        // A quarter of the entries in 10 s: 30 s left, whatever the bytes.
        assert_eq!(
            left(&update, 25, 0, Duration::from_secs(10)),
            Some(Duration::from_secs(30))
        );
        // Half by entries, a quarter by bytes: three eighths done in 30 s, 50 s left.
        assert_eq!(
            left(&total, 50, 1 << 20, Duration::from_secs(30)),
            Some(Duration::from_secs(50))
        );
        // Nothing said too early, nor past the count (an outer tree copied too).
        assert_eq!(left(&total, 0, 0, Duration::from_secs(1)), None);
        assert_eq!(left(&total, 101, 4 << 20, Duration::from_secs(1)), None);
    }

    /// The count of SRC runs beside the copy and gives its entries and bytes.
    #[test]
    fn the_count_gives_the_entries_and_bytes_of_src() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        std::fs::write(dir.path().join("d/f"), "12345").unwrap();
        std::fs::write(dir.path().join("g"), "123").unwrap();
        let counters = Arc::new(Counters::default());
        let count = Counted::of(dir.path(), &CopyOptions::default()).start(&counters);
        count.unwrap().join().unwrap();
        let total = counters.total.get().unwrap();
        // The root, d, d/f and g.
        assert_eq!((total.items, total.bytes), (4, 8));
        assert!(total.bytes_all_copied);
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
