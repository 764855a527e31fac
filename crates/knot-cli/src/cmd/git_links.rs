//! `knot git-links`: its arguments, its settings and the run. The library reads the
//! repository's symlink entries and replaces each placeholder (`knot::git_links`); this
//! prints one line per entry (with `--json`, one record), then what the repository was
//! given and a summary on standard error.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use knot::git_links::{Failed, Fallback, GitLink, GitLinksOptions, Repository, State};
use knot::{Flavour, Made};
use serde::Serialize;

use crate::args::{Format, path_arg};
use crate::cmd::{Decide, Run};
use crate::context::Context;
use crate::exit::Exit;
use crate::report::{Messages, Printer, error, quote, to_stderr};

/// `knot git-links --help`.
pub const LONG_ABOUT: &str = "Find the symlinks of a Git repository that were checked out as \
placeholders, and make them real links.\n\n\
With core.symlinks=false (Git for Windows' default without the symlink privilege or \
Developer Mode), Git checks each symlink out as a small text file holding the target, and \
`git status` says nothing. knot reads the index's symlink entries (mode 120000) with `git \
ls-files`, their target texts with `git cat-file` and Git for Windows' `symlink` attribute \
with `git check-attr`, all below REPO (default: the current directory; any directory of \
the work tree).\n\n\
A placeholder is a regular file whose bytes are exactly the target text. Anything else at \
an entry's path is reported and left alone: a link already (link, or other-link when it \
holds another target), an edited file (edited), nothing (missing), a directory (other).\n\n\
--check lists every entry that is not a link holding its target, and exits 3 if any is a \
placeholder (for CI).\n\n\
--fix replaces each placeholder with a symlink holding the target text (on an NTFS volume \
mounted with ntfs-3g, a real NTFS symlink with `\\` separators, as Git for Windows makes \
it). The flavour is the `symlink` attribute's (symlink=file, symlink=dir), else what the \
target is, else (a dangling target) file. The link is made under a hidden name beside the \
placeholder and read back, then put in its place while that is still the placeholder. \
Where a symlink needs a privilege this process lacks (Windows), the first --fallback that \
fits is made instead: a junction for a directory target, a hard link for a file on the \
same volume, or a copy of the file; each is reported, and Git is told to leave it \
(`git update-index --assume-unchanged`), since it is not the symlink the index records.\n\n\
So that `git status` stays clean, where symlinks were made and core.symlinks was false it \
is set to true in the repository's config (later checkouts then make links too), and the \
index is refreshed (`git update-index --refresh`); each is said on standard error.\n\n\
--json prints one record per entry: path, target, flavour, state, action, dry_run, error. \
Exit codes: 0 done (or, with --check, no placeholder), 1 an entry could not be made a link \
or Git failed (each printed), 2 usage error, 3 --check found placeholders.";

// Arguments of `knot git-links` (no doc comment: see `commands!` in cmd/mod.rs).
#[derive(Args, Debug)]
#[command(group(
    clap::ArgGroup::new("what").required(true).args(["check", "fix"])
))]
pub struct GitLinksArgs {
    /// The repository, or a directory in it (default: the current directory).
    #[arg(value_name = "REPO", value_parser = path_arg())]
    repo: Option<PathBuf>,
    /// List the placeholders; exit 3 if there are any.
    #[arg(long)]
    check: bool,
    /// Replace each placeholder with a real link.
    #[arg(long)]
    fix: bool,
    /// What to make where a symlink needs a privilege this process lacks, in order of
    /// preference (comma-separated): junction, hardlink, copy, or none.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "KIND")]
    fallback: Vec<FallbackArg>,
    /// Say what would be made, and change nothing.
    #[arg(long, short = 'n')]
    dry_run: bool,
    /// Print one JSON record per entry.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum FallbackArg {
    Junction,
    Hardlink,
    Copy,
    None,
}

/// What `knot git-links` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Check,
    Fix,
}

/// `knot git-links`, fully decided.
#[derive(Debug)]
pub struct GitLinksSettings {
    repo: PathBuf,
    mode: Mode,
    options: GitLinksOptions,
    format: Format,
}

impl Decide for GitLinksArgs {
    type Settings = GitLinksSettings;
    fn decide(self) -> GitLinksSettings {
        let fallback = self
            .fallback
            .iter()
            .filter_map(|f| match f {
                FallbackArg::Junction => Some(Fallback::Junction),
                FallbackArg::Hardlink => Some(Fallback::Hardlink),
                FallbackArg::Copy => Some(Fallback::Copy),
                FallbackArg::None => None,
            })
            .collect();
        GitLinksSettings {
            repo: self.repo.unwrap_or_else(|| PathBuf::from(".")),
            mode: if self.check { Mode::Check } else { Mode::Fix },
            options: GitLinksOptions {
                mode: crate::args::mode(self.dry_run),
                fallback,
            },
            format: Format::of(self.json, false),
        }
    }

    fn conflict(&self) -> Option<String> {
        if self.check && (self.dry_run || !self.fallback.is_empty()) {
            return Some("--check changes nothing: --dry-run and --fallback go with --fix".into());
        }
        if self.fallback.contains(&FallbackArg::None) && self.fallback.len() > 1 {
            return Some("--fallback none cannot be given with another fallback".into());
        }
        None
    }
}

/// One JSON report record.
#[derive(Debug, Serialize)]
struct GitLinkRecord<'a> {
    #[serde(with = "knot_names::json::serde_name")]
    path: &'a std::path::Path,
    #[serde(with = "knot_names::json::serde_opt_name")]
    target: Option<&'a std::path::Path>,
    flavour: Option<&'static str>,
    state: Option<&'static str>,
    action: &'static str,
    dry_run: bool,
    error: Option<String>,
}

/// The counts of a run.
#[derive(Default)]
struct Counts {
    placeholders: u64,
    made: u64,
    fallbacks: u64,
    links: u64,
    left: u64,
    failed: u64,
}

impl Run for GitLinksSettings {
    fn run(&self, context: &Context) -> Exit {
        let messages = Messages::of(context);
        let dry_run = self.options.mode == knot::ChangeMode::DryRun;
        let repo = match Repository::open(&self.repo) {
            Ok(repo) => repo,
            Err(err) => {
                error::fail(&err, context);
                return Exit::Failure;
            }
        };
        let mut printer = Printer::new(self.format, messages);
        let json = self.format == Format::Json;
        let fix = self.mode == Mode::Fix;
        let mut counts = Counts::default();
        let mut each = |outcome: Result<GitLink, Failed>| {
            match &outcome {
                Ok(link) => count(&mut counts, link),
                Err(failed) => {
                    counts.failed += 1;
                    let _ = printer.flush();
                    error::fail(&failed.error, context);
                    if let Some(why) = &failed.fallback_error {
                        messages.error(&format!(
                            "the last fallback did not fit either: {}",
                            error::error_line(why)
                        ));
                    }
                }
            }
            // Output never stops the work (DESIGN.md promise 8).
            if json {
                let _ = printer.json(&record(&outcome, fix, dry_run));
            } else if let Ok(link) = &outcome
                && let Some(line) = human(link, fix, dry_run)
            {
                let _ = printer.line(&line);
            }
        };
        let changes = if fix {
            knot::git_links::fix(&repo, &self.options, &mut each)
        } else {
            knot::git_links::check(&repo, &mut each);
            Ok(Default::default())
        };
        let _ = printer.flush();
        let changes = match changes {
            Ok(changes) => changes,
            Err(err) => {
                error::fail(&err, context);
                return Exit::Failure;
            }
        };
        if !context.quiet {
            let top = quote(repo.top().as_os_str());
            if changes.set_core_symlinks {
                messages.note(&format!(
                    "set core.symlinks=true in the config of {top}: Git now compares these \
                     entries as links, and makes links in later checkouts"
                ));
            }
            if changes.refreshed {
                messages.note(&format!(
                    "refreshed the index of {top} (git update-index --refresh)"
                ));
            }
            if !changes.assume_unchanged.is_empty() {
                let paths: Vec<String> = changes
                    .assume_unchanged
                    .iter()
                    .map(|p| quote(p.as_os_str()))
                    .collect();
                messages.note(&format!(
                    "Git reads these links otherwise than its index records (a fallback, or \
                     a link this file system shows in another form), so they were marked \
                     `git update-index --assume-unchanged` (undo: --no-assume-unchanged): {}",
                    paths.join(", ")
                ));
            }
            to_stderr(&summary(&counts, fix, dry_run, repo.len()));
        }
        let exit = Exit::failed_if(counts.failed > 0 || error::errored());
        if !fix && counts.placeholders > 0 {
            exit.merge(Exit::Found)
        } else {
            exit
        }
    }
}

fn count(counts: &mut Counts, link: &GitLink) {
    match (&link.state, link.made) {
        (State::Placeholder, Some(_)) if link.fallback => counts.fallbacks += 1,
        (State::Placeholder, Some(_)) => counts.made += 1,
        (State::Placeholder, None) => counts.placeholders += 1,
        (State::Link, _) => counts.links += 1,
        _ => counts.left += 1,
    }
}

fn flavour(flavour: Flavour) -> &'static str {
    match flavour {
        Flavour::File => "file",
        Flavour::Dir => "dir",
    }
}

/// What was made: `symlink`, `junction`, `hardlink`, `copy`; `none` for nothing.
fn action(link: &GitLink) -> &'static str {
    match link.made {
        _ if link.copied => "copy",
        Some(Made::Symlink) => "symlink",
        Some(Made::Junction) => "junction",
        Some(Made::Hardlink) => "hardlink",
        Some(_) | None => "none",
    }
}

fn record(outcome: &Result<GitLink, Failed>, fix: bool, dry_run: bool) -> GitLinkRecord<'_> {
    match outcome {
        Ok(link) => GitLinkRecord {
            path: &link.path,
            target: Some(&link.target),
            flavour: Some(flavour(link.flavour)),
            state: Some(link.state.name()),
            action: action(link),
            dry_run: fix && dry_run,
            error: None,
        },
        Err(Failed {
            link, error: err, ..
        }) => GitLinkRecord {
            path: err.path(),
            target: err.target(),
            flavour: link.as_ref().map(|l| flavour(l.flavour)),
            state: link.as_ref().map(|l| l.state.name()),
            action: "failed",
            dry_run: fix && dry_run,
            error: Some(error::message(err)),
        },
    }
}

/// `placeholder 'a/l' -> 'target' (file)`, `symlink 'a/l' -> 'target' (dir)`,
/// `junction 'a/l' -> 'target' (fallback)`, `edited 'a/l': left as it is`; a link in
/// place gets no line.
fn human(link: &GitLink, fix: bool, dry_run: bool) -> Option<String> {
    let path = quote(link.path.as_os_str());
    let target = quote(link.target.as_os_str());
    let mut how = flavour(link.flavour).to_owned();
    if link.by_attribute {
        how.push_str(", by attribute");
    }
    if link.fallback {
        how.push_str(", fallback");
    }
    let would = if dry_run { "would make " } else { "" };
    Some(match (&link.state, link.made) {
        (State::Link, _) => return None,
        (State::Placeholder, Some(_)) => {
            format!("{would}{} {path} -> {target} ({how})", action(link))
        }
        (State::Placeholder, None) if fix => return None,
        (State::Placeholder, None) => format!("placeholder {path} -> {target} ({how})"),
        (State::OtherLink { target: stored }, _) => format!(
            "other-link {path} -> {}: not {target}, left as it is",
            quote(stored.as_os_str())
        ),
        (State::Edited, _) => {
            format!("edited {path}: not the target text {target}, left as it is")
        }
        (State::Missing, _) => format!("missing {path}: nothing there, left as it is"),
        (state, _) => format!(
            "{} {path}: not a file, or below no directory; left as it is",
            state.name()
        ),
    })
}

/// The closing summary on standard error.
fn summary(counts: &Counts, fix: bool, dry_run: bool, entries: usize) -> String {
    if fix && counts.made + counts.fallbacks == 0 && counts.failed == 0 {
        return format!(
            "nothing to fix: {} of {entries} symlink entries are links already, {} left as \
             they are\n",
            counts.links, counts.left
        );
    }
    let head = match (fix, dry_run) {
        (false, _) => "git-links:",
        (true, true) => "would make (dry run: nothing was changed):",
        (true, false) => "git-links:",
    };
    let rows: Vec<(&str, u64)> = if fix {
        vec![
            ("symlinks made", counts.made),
            ("fallbacks made", counts.fallbacks),
            ("links already", counts.links),
            ("left as they are", counts.left),
            ("failures", counts.failed),
        ]
    } else {
        vec![
            ("placeholders", counts.placeholders),
            ("links already", counts.links),
            ("others", counts.left),
            ("unreadable", counts.failed),
        ]
    };
    crate::report::count_table(head, &rows)
}
