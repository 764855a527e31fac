//! `knot apply MANIFEST`: the manifest's records (the JSON Lines of `knot scan --json`)
//! read with the record's own type, made below the root by the library, and reported one
//! line (or one JSON change record) per record, in manifest order.

use std::ffi::OsStr;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use clap::Args;

use knot::{Applied, ApplyOptions, ChangeMode, Record};

use crate::cmd::{Decide, Run};
use crate::context::Context;
use crate::exit::Exit;
use crate::report::change::{Action, ChangeRecord};
use crate::report::error;
use crate::report::{Format, Messages, Printer, quote};

pub const LONG_ABOUT: &str = "Make the links a manifest lists, below a root. MANIFEST is JSON \
Lines in the record format `knot scan --json` prints (at least `path`, `kind` and `target`; \
`dir` for a symlink's flavour); `-` reads standard input. A record's path is relative to \
--root (default: the manifest's directory, or the current directory for `-`); a path with \
`..`, or an absolute path elsewhere, is refused. So that a scan writes paths relative to \
the tree, run it inside the tree: `cd tree && knot scan --json > ../links.jsonl`, then \
`knot apply links.jsonl --root copy`.\n\n\
A link already as the record asks is `unchanged`, a link with another target `replaced`, \
a missing one `created`; a real file or directory in the way is never touched (`failed`, \
with the reason). Missing directories on the way are made, and never through a link. \
Kinds: symlink (target stored as it is), junction (on Unix: an absolute directory \
symlink; on ntfs-3g: a real junction), hardlink (target: another name below the root). \
Links are made in parallel; the report is in manifest order.\n\n\
Exit codes: 0 done, 1 a record failed or a line could not be read (each printed), 2 usage \
error.";

// Arguments of `knot apply` (no doc comment: see `commands!` in cmd/mod.rs).
#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// The manifest: JSON Lines of link records, as `knot scan --json` prints; `-` reads
    /// standard input.
    #[arg(value_name = "MANIFEST", value_parser = crate::args::path_arg())]
    manifest: PathBuf,
    /// The directory the records' paths are relative to (made if missing; default: the
    /// manifest's directory, or the current directory when reading standard input).
    #[arg(long, value_name = "DIR", value_parser = crate::args::path_arg())]
    root: Option<PathBuf>,
    /// Say what would be done, and change nothing.
    #[arg(long, short = 'n')]
    dry_run: bool,
    /// Print one JSON record per line: the manifest's record, then `action`,
    /// `old_target`, `dry_run` and `error`.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    drive: crate::args::DriveArg,
    #[command(flatten)]
    threads: crate::args::ThreadsArg,
}

/// `knot apply`, fully decided.
#[derive(Debug)]
pub struct ApplySettings {
    /// The manifest; `None` for standard input.
    pub manifest: Option<PathBuf>,
    pub root: PathBuf,
    pub options: ApplyOptions,
    pub format: Format,
}

impl Decide for ApplyArgs {
    type Settings = ApplySettings;
    fn decide(self) -> ApplySettings {
        let manifest = (self.manifest != Path::new("-")).then_some(self.manifest);
        let root = self.root.unwrap_or_else(|| match &manifest {
            Some(path) => match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
                _ => PathBuf::from("."),
            },
            None => PathBuf::from("."),
        });
        let options = ApplyOptions {
            mode: crate::args::mode(self.dry_run),
            drive: self.drive.drive,
            threads: self.threads.count(),
        };
        ApplySettings {
            manifest,
            root,
            options,
            format: Format::of(self.json, false),
        }
    }
}

pub fn run(apply: &ApplySettings, context: &Context) -> Exit {
    let messages = Messages::of(context);
    let (name, read) = match &apply.manifest {
        Some(path) => (quote(path.as_os_str()), std::fs::read(path)),
        None => {
            let mut bytes = Vec::new();
            let read = std::io::stdin().lock().read_to_end(&mut bytes);
            ("standard input".to_owned(), read.map(|_| bytes))
        }
    };
    let bytes = match read {
        Ok(bytes) => bytes,
        Err(err) => {
            messages.error(&format!("cannot read the manifest {name}: {err}"));
            return Exit::Failure;
        }
    };
    let mut exit = Exit::Success;
    // Each line is read on its own: a malformed one is reported with its number and
    // skipped, and the others are made.
    let mut records = Vec::new();
    for (number, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.trim_ascii().is_empty() {
            continue;
        }
        match serde_json::from_slice::<Record>(line) {
            Ok(record) => records.push(record),
            Err(err) => {
                messages.error(&format!(
                    "cannot read {name} line {}: {err}; line skipped",
                    number + 1
                ));
                exit = Exit::Failure;
            }
        }
    }
    let dry_run = apply.options.mode == ChangeMode::DryRun;
    let mut printer = Printer::new(apply.format, messages);
    let shown_root = (apply.root != Path::new(".")).then_some(apply.root.as_path());
    knot::apply(&apply.root, &records, &apply.options, |i, result| {
        let record = &records[i];
        let (action, old_target, error) = match result {
            Ok(Applied::Created) => (Action::Created, None, None),
            Ok(Applied::Replaced { old_target }) => (Action::Replaced, old_target, None),
            Ok(Applied::Unchanged) => (Action::Unchanged, None, None),
            Ok(_) => (Action::Unchanged, None, None),
            Err(err) => {
                let _ = printer.flush();
                error::report(&err, context);
                exit = Exit::Failure;
                (Action::Failed, None, Some(error::message(&err)))
            }
        };
        // Output never stops the work (DESIGN.md promise 8).
        let _ = match apply.format {
            Format::Json => printer.json(&ChangeRecord {
                record: record.clone(),
                action,
                old_target,
                dry_run,
                error,
            }),
            _ if action == Action::Failed => Ok(()),
            _ => printer.line(&human(
                record,
                shown_root,
                action,
                old_target.as_deref(),
                dry_run,
            )),
        };
    });
    exit
}

/// `created 'copy/a/l' -> 'target'`, `replaced 'copy/a/l': 'old' -> 'new'`: the path
/// below the root as it can be typed from here.
fn human(
    record: &Record,
    root: Option<&Path>,
    action: Action,
    old_target: Option<&Path>,
    dry_run: bool,
) -> String {
    // `./a/l` (as `knot scan .` writes it) is shown as `a/l`, below the root.
    let below: PathBuf = record
        .path
        .components()
        .filter(|c| *c != std::path::Component::CurDir)
        .collect();
    let path = match root {
        Some(root) if !record.path.is_absolute() => root.join(below),
        _ => below,
    };
    let arrow = if record.kind == "hardlink" {
        "=>"
    } else {
        "->"
    };
    let target = record
        .target
        .as_deref()
        .map(|t| escaped(t.as_os_str()))
        .unwrap_or_default();
    let verb = action.verb(dry_run);
    match (action, old_target) {
        (Action::Replaced, Some(old)) => format!(
            "{verb} {}: '{}' {arrow} '{target}'",
            quote(path.as_os_str()),
            escaped(old.as_os_str())
        ),
        _ => format!("{verb} {} {arrow} '{target}'", quote(path.as_os_str())),
    }
}

/// A stored target, escaped: a Windows path (a junction's `C:\...`) keeps its backslashes.
fn escaped(name: &OsStr) -> String {
    if name.as_encoded_bytes().get(1..3) == Some(b":\\") {
        crate::report::escape_text(name.as_encoded_bytes())
    } else {
        crate::report::escape(name).into_owned()
    }
}

impl Run for ApplySettings {
    fn run(&self, context: &Context) -> Exit {
        run(self, context)
    }
}
