//! `knot fix`: its arguments, its context and the run. The library walks and repairs
//! (`knot::fix`); this prints the report of change.rs, sorted by path once the walk is
//! done, so the same tree gives the same report on any number of threads. Errors of the
//! walk (a directory that cannot be read) are printed as they come, and the walk goes on.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use knot::fix::{FixOptions, Fixed, Repair, Rewrite};
use knot::scan::Progress;
use knot::{ChangeMode, Link};

use crate::cmd::{Decide, Run};
use crate::context::Context;
use crate::exit::Exit;
use crate::report::change::{Action, ChangeRecord};
use crate::report::error;
use crate::report::progress::{self, ProgressLine};
use crate::report::{self, Format, Messages, Printer, quote};

/// `knot fix --help`.
pub const LONG_ABOUT: &str = "Repair the links under DIR.\n\n\
With --replace OLD=NEW, every link whose target starts with the path OLD gets NEW in its \
place, the rest of the target kept as stored: whole names only (/data matches /data and \
/data/x, never /database), compared as stored (`.` and `..` are not folded). A Windows link, \
and a reparse point on an NTFS volume mounted with ntfs-3g, compares as Windows does: in any \
case, with \\ and / both separators, so --replace 'D:\\=E:\\' moves every link to another \
drive. OLD=NEW is split at the first `=` (OLD cannot hold one, NEW can); --replace can be \
given again, and the first OLD that matches wins. Links keep their kind and flavour.\n\n\
With --broken --delete, every link that dangles (its target is missing, a loop, or a chain \
too long to follow) is removed; never anything but a link.\n\n\
With --root IMG (an image root, DIR inside it), which links dangle and where a new target \
leads are judged inside IMG, as a chroot into it would see them.\n\n\
Exit codes: 0 done, 1 some change failed or something could not be read (each printed), \
2 usage error.";

// Arguments of `knot fix` (no doc comment: see `commands!` in cmd/mod.rs).
#[derive(Args, Debug)]
pub struct FixArgs {
    /// The directory whose links to repair.
    #[arg(value_name = "DIR", value_parser = crate::args::path_arg())]
    dir: PathBuf,
    /// Give links whose target starts with the path OLD the prefix NEW instead (split at
    /// the first `=`); repeat for more, the first match wins.
    #[arg(
        long = "replace",
        value_name = "OLD=NEW",
        value_parser = rewrite_arg(),
        required_unless_present = "broken",
        conflicts_with = "broken"
    )]
    replace: Vec<Rewrite>,
    /// Select the links that dangle (with --delete: remove them; to list them, use
    /// `knot scan --broken DIR`).
    #[arg(long, requires = "delete")]
    broken: bool,
    /// Remove the links --broken selects.
    #[arg(long, requires = "broken")]
    delete: bool,
    /// Say what would change, and change nothing.
    #[arg(long, short = 'n')]
    dry_run: bool,
    /// Print one JSON record per line.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    root: crate::args::ImageRootArg,
    #[command(flatten)]
    threads: crate::args::ThreadsArg,
}

/// `OLD=NEW`, as any bytes (a name that is not UTF-8 included).
fn rewrite_arg() -> impl clap::builder::TypedValueParser<Value = Rewrite> {
    use clap::builder::TypedValueParser as _;
    clap::builder::OsStringValueParser::new()
        .try_map(|arg| Rewrite::parse(&arg).map_err(|err| err.to_string()))
}

/// `knot fix`, fully decided.
#[derive(Debug)]
pub struct FixSettings {
    dir: PathBuf,
    options: FixOptions,
    root: crate::args::ImageRootArg,
    format: Format,
}

impl Decide for FixArgs {
    type Settings = FixSettings;
    fn decide(self) -> FixSettings {
        let repair = if self.broken {
            Repair::DeleteBroken
        } else {
            Repair::Replace(self.replace)
        };
        let mut options = FixOptions::new(repair);
        options.threads = self.threads.count();
        options.mode = crate::args::mode(self.dry_run);
        FixSettings {
            dir: self.dir,
            options,
            root: self.root,
            format: Format::of(self.json, false),
        }
    }
}

pub fn run(fix: &FixSettings, context: &Context) -> Exit {
    let messages = Messages::of(context);
    let mut found = Vec::new();
    let mut exit = Exit::Success;
    let counters = Progress::new();
    let mut options = fix.options.clone();
    options.progress = Some(Arc::clone(&counters));
    options.image = match super::open_image(&fix.root, context) {
        Ok(image) => image,
        Err(exit) => return exit,
    };
    if let Some(image) = &options.image
        && let Err(err) = image.locate(&fix.dir)
    {
        error::fail(&err, context);
        return Exit::Failure;
    }
    let line = ProgressLine::start(
        context,
        "fix: ",
        Arc::clone(&counters),
        progress::scan_counts,
    );
    knot::fix::fix(&fix.dir, &options, |item| match item {
        Ok(fixed) => found.push(fixed),
        Err(err) => {
            error::fail(&err, context);
        }
    });
    drop(line);
    progress::threads_note(&messages, counters.threads());
    found.sort_by(|a, b| a.link().path.cmp(&b.link().path));
    let dry_run = fix.options.mode == ChangeMode::DryRun;
    let mut printer = Printer::new(fix.format, messages);
    // Output never stops the work (DESIGN.md promise 8): the changes are made already.
    for fixed in &found {
        let (action, after, error) = outcome(fixed);
        if let Some(err) = error {
            let _ = printer.flush();
            error::report(err, context);
            exit = Exit::Failure;
        }
        let _ = match fix.format {
            Format::Json => printer.json(&ChangeRecord {
                record: knot::Record::from(after),
                action,
                old_target: fixed.link().target.clone(),
                dry_run,
                error: error.map(ToString::to_string),
            }),
            _ if action == Action::Failed => Ok(()),
            _ => printer.line(&human(fixed, action, after, dry_run)),
        };
    }
    // Silence would read as a run that did nothing for no reason: on a terminal, say
    // that no link matched (a pipe and --json get nothing, as there is nothing).
    if found.is_empty() && fix.format != Format::Json && context.terminal.stdout {
        messages.note(&nothing_matched(fix));
    }
    exit
}

/// `no link below 'DIR' has a target that starts with '/old': nothing to change`.
fn nothing_matched(fix: &FixSettings) -> String {
    let dir = quote(fix.dir.as_os_str());
    match &fix.options.repair {
        Repair::Replace(rewrites) => {
            let olds: Vec<String> = rewrites
                .iter()
                .map(|r| quote(r.old().as_os_str()))
                .collect();
            format!(
                "no link below {dir} has a target that starts with {}: nothing to change",
                olds.join(" or ")
            )
        }
        Repair::DeleteBroken => format!("no link below {dir} dangles: nothing to delete"),
        _ => format!("no link below {dir} needed a repair"),
    }
}

/// What was done, the link as it is after (as found, where nothing was done), and why
/// it failed.
fn outcome(fixed: &Fixed) -> (Action, &Link, Option<&knot::Error>) {
    match fixed {
        Fixed::Retarget {
            result: Ok(done), ..
        } => (Action::Replaced, &done.after, None),
        Fixed::Delete { result: Ok(_), .. } => (Action::Deleted, fixed.link(), None),
        Fixed::Kept { link } => (Action::Unchanged, link, None),
        Fixed::Retarget {
            result: Err(err), ..
        }
        | Fixed::Delete {
            result: Err(err), ..
        } => (Action::Failed, fixed.link(), Some(err)),
    }
}

/// `replaced 'l': 'old' -> 'new'`, with `  [dangling]` where the new target leads
/// nowhere; `deleted 'l' -> 'target'`.
fn human(fixed: &Fixed, action: Action, after: &Link, dry_run: bool) -> String {
    let link = fixed.link();
    // Both targets are written as the link found writes names (a reparse point's keep
    // their backslashes).
    let target = |of: &Link| {
        let stored = of.target.as_deref().unwrap_or("".as_ref());
        format!("'{}'", report::stored_name(link, stored.as_os_str()))
    };
    let verb = action.verb(dry_run);
    let path = quote(link.path.as_os_str());
    match action {
        Action::Replaced => {
            let status = match after.status {
                Some(status) if status.is_broken() => format!("  [{status}]"),
                _ => String::new(),
            };
            format!(
                "{verb} {path}: {} -> {}{status}",
                target(link),
                target(after)
            )
        }
        // Dangling when found, leading somewhere when it was to go.
        Action::Unchanged => format!(
            "{verb} {path} -> {}  [it leads somewhere now: kept]",
            target(link)
        ),
        _ => format!("{verb} {path} -> {}", target(link)),
    }
}

impl Run for FixSettings {
    fn run(&self, context: &Context) -> Exit {
        run(self, context)
    }
}
