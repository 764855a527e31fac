//! `knot apply MANIFEST`: the manifest's records (the JSON Lines of `knot scan --json`)
//! read with the record's own type, made below the root by the library, and reported one
//! line (or one JSON change record) per record, in manifest order.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use clap::Args;

use knot::{Applied, ApplyOptions, ChangeMode, Record};

use crate::cmd::{Decide, Run};
use crate::context::Context;
use crate::exit::Exit;
use crate::report::change::{Action, ChangeRecord};
use crate::report::error;
use crate::report::{Format, Messages, Printer, escape, progress, quote};
use manifest::LineError;
pub use manifest::Manifest;

mod manifest;

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
On an NTFS volume mounted with ntfs-3g a target is taken in the form a scan records it \
there (`..\\Data\\T`; a junction's `C:\\Data\\T` is `\\Data\\T` on the volume), so a scan \
of one such volume makes the same links on another. Links are made in parallel; the report \
is in manifest order.\n\n\
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
    /// Read records' absolute paths (and hard links' targets) below DIR as paths below
    /// the root: for a manifest scanned from an absolute path (`knot scan --json
    /// /abs/proj`), `--from /abs/proj`.
    #[arg(long, value_name = "DIR", value_parser = crate::args::path_arg())]
    from: Option<PathBuf>,
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
    /// Where the records' absolute paths are read from (`--from`).
    pub from: Option<PathBuf>,
    pub options: ApplyOptions,
    pub format: Format,
}

impl Decide for ApplyArgs {
    type Settings = ApplySettings;
    fn decide(self) -> ApplySettings {
        let manifest = (self.manifest != Path::new("-")).then_some(self.manifest);
        let root = self.root.unwrap_or_else(|| match &manifest {
            Some(path) => crate::args::parent_dir(path).to_path_buf(),
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
            from: self.from,
            options,
            format: Format::of(self.json, false),
        }
    }
}

pub fn run(apply: &ApplySettings, context: &Context) -> Exit {
    let messages = Messages::of(context);
    let name = match &apply.manifest {
        Some(path) => quote(path.as_os_str()),
        None => "standard input".to_owned(),
    };
    // A root that is no directory fails every record for one reason: said once, before
    // anything is read.
    if let Ok(meta) = std::fs::metadata(&apply.root)
        && !meta.is_dir()
    {
        messages.error(&format!(
            "cannot apply {name}: the root {} is a {}, not a directory",
            quote(apply.root.as_os_str()),
            if meta.is_file() {
                "file"
            } else {
                "special file"
            }
        ));
        messages.hint("give --root a directory, or a path where one can be made");
        return Exit::Failure;
    }
    let opened = match &apply.manifest {
        Some(path) => std::fs::File::open(path).and_then(Manifest::new),
        None => Manifest::new(std::io::stdin()),
    };
    let mut manifest = match opened {
        Ok(manifest) => manifest,
        Err(err) => {
            let cause = match err.kind() {
                std::io::ErrorKind::NotFound => "it does not exist".to_owned(),
                _ => err.to_string(),
            };
            messages.error(&format!("cannot read the manifest {name}: {cause}"));
            return Exit::Failure;
        }
    };
    let dry_run = apply.options.mode == ChangeMode::DryRun;
    let mut printer = Printer::new(apply.format, messages);
    let shown_root = (apply.root != Path::new(".")).then_some(apply.root.as_path());
    let mut line = String::new();
    let mut exit = Exit::Success;
    let mut short_of_threads = None;
    let mut first_part = true;
    // A part of the manifest at a time: each line is read on its own, a malformed one is
    // reported with its number and skipped, and the others are made.
    while let Some(part) = manifest.next_part(apply.options.threads) {
        let mut records = Vec::with_capacity(part.len());
        for (number, read) in part {
            match read {
                Ok(record) => records.push(record),
                Err(err) => {
                    let _ = printer.flush();
                    messages.error(&match err {
                        LineError::Json(_) => {
                            format!(
                                "cannot read {name} line {}: {err}; line skipped",
                                number + 1
                            )
                        }
                        LineError::TooLong => format!(
                            "cannot read {name} line {}: {err}; reading stopped",
                            number + 1
                        ),
                        // Not a line's fault: the text itself (or the device) failed.
                        LineError::Read(_) if number == 0 => {
                            format!("cannot read the manifest {name}: {err}")
                        }
                        LineError::Read(_) => format!(
                            "cannot read the manifest {name} past line {number}: {err}; \
                             reading stopped"
                        ),
                    });
                    exit = Exit::Failure;
                }
            }
        }
        if let Some(from) = &apply.from {
            below_from(&mut records, from);
        } else if first_part && let Some(scanned_from) = all_outside(&records, &apply.root) {
            // One reason for every record: said once, and nothing is made.
            messages.error(&format!(
                "cannot apply {name}: every record's path is absolute and outside the root {}",
                quote(apply.root.as_os_str())
            ));
            messages.hint(&format!(
                "the manifest was scanned from an absolute path: give --from with the \
                 directory that was scanned to make its links below the root (every path is \
                 below {}), or scan inside the tree: cd tree && knot scan --json .",
                quote(scanned_from.as_os_str())
            ));
            return Exit::Failure;
        }
        first_part = false;
        let threads = knot::apply(&apply.root, &records, &apply.options, |i, result| {
            let record = &records[i];
            let (action, old_target, error) = match result {
                Ok(Applied::Created) => (Action::Created, None, None),
                Ok(Applied::Replaced { old_target }) => (Action::Replaced, old_target, None),
                Ok(Applied::Unchanged) => (Action::Unchanged, None, None),
                Ok(_) => (Action::Unchanged, None, None),
                Err(err) => {
                    let _ = printer.flush();
                    error::report_record(&err, context);
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
                _ => {
                    human(
                        &mut line,
                        record,
                        shown_root,
                        action,
                        old_target.as_deref(),
                        dry_run,
                    );
                    printer.line(&line)
                }
            };
        });
        if threads.started < threads.asked {
            short_of_threads.get_or_insert(threads);
        }
    }
    let _ = printer.flush();
    if let Some(threads) = short_of_threads {
        progress::threads_note(&messages, threads);
    }
    exit
}

/// The records' absolute paths below `from`, and hard links' absolute targets there, made
/// relative to it: paths below the root. Other paths are left as they are (and refused
/// as outside the root, each with its record).
fn below_from(records: &mut [Record], from: &Path) {
    let from = std::path::absolute(from).unwrap_or_else(|_| from.to_path_buf());
    let relative = |path: &mut PathBuf| {
        if let Ok(rest) = path.strip_prefix(&from)
            && path.is_absolute()
            && !rest.as_os_str().is_empty()
        {
            *path = rest.to_path_buf();
        }
    };
    for record in records {
        relative(&mut record.path);
        if record.kind == "hardlink"
            && let Some(target) = &mut record.target
        {
            relative(target);
        }
    }
}

/// Where the manifest was scanned from, when every record's path is absolute and none is
/// below `root`: the directory all of them are below (`None` otherwise, and for no
/// records).
fn all_outside(records: &[Record], root: &Path) -> Option<PathBuf> {
    let root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
    let mut common: Option<PathBuf> = None;
    for record in records {
        let path = &record.path;
        if !path.is_absolute() || path.starts_with(&root) {
            return None;
        }
        let dir = path.parent().unwrap_or(path);
        common = Some(match common {
            None => dir.to_path_buf(),
            Some(common) => common
                .components()
                .zip(dir.components())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect(),
        });
    }
    common
}

/// `created 'copy/a/l' -> 'target'`, `replaced 'copy/a/l': 'old' -> 'new'`, written into
/// `out` (cleared first, kept from line to line so that a line costs no allocation): the
/// path below the root as it can be typed from here.
fn human(
    out: &mut String,
    record: &Record,
    root: Option<&Path>,
    action: Action,
    old_target: Option<&Path>,
    dry_run: bool,
) {
    out.clear();
    out.push_str(action.verb(dry_run));
    out.push_str(" '");
    push_shown_path(out, &record.path, root);
    out.push('\'');
    let arrow = if record.kind == "hardlink" {
        "=>"
    } else {
        "->"
    };
    if let (Action::Replaced, Some(old)) = (action, old_target) {
        out.push_str(": '");
        out.push_str(&escaped(old.as_os_str(), false));
        out.push('\'');
    }
    out.push(' ');
    out.push_str(arrow);
    out.push_str(" '");
    if let Some(target) = &record.target {
        // A WSL symlink stores a Unix path, where a backslash is part of a name.
        let nt = record
            .tag
            .is_some_and(|tag| tag != knot_reparse::Tag::LX_SYMLINK.0);
        out.push_str(&escaped(target.as_os_str(), nt));
    }
    out.push('\'');
}

/// The record's `path` as `human` shows it, escaped: `./a/l` (as `knot scan .` writes it)
/// as `a/l`, below `root` where it is relative. Most paths are Unicode and plain (no `.`
/// or empty component but a leading `./`), and are written as they are, which is what
/// taking them apart and joining them gives; any other is taken apart and joined.
fn push_shown_path(out: &mut String, path: &Path, root: Option<&Path>) {
    // On Unix (elsewhere every path is taken apart): not empty, no `.` or empty component,
    // no separator at the end.
    let plain = |text: &str| {
        let b = text.as_bytes();
        cfg!(unix)
            && b.first().is_some_and(|&c| c != b'.')
            && b.last().is_some_and(|&c| c != b'/')
            && !b
                .windows(2)
                .any(|w| w[0] == b'/' && (w[1] == b'/' || w[1] == b'.'))
    };
    let below = path.to_str().map(|text| {
        let mut text = text;
        while let Some(rest) = text.strip_prefix("./") {
            text = rest.trim_start_matches('/');
        }
        text
    });
    let root_text = match root {
        Some(root) if !path.is_absolute() => root.to_str().filter(|r| !r.is_empty()),
        _ => Some(""),
    };
    if let (Some(below), Some(root_text)) = (below, root_text)
        && plain(below)
    {
        if !root_text.is_empty() {
            out.push_str(&escape(OsStr::new(root_text)));
            if !root_text.ends_with('/') {
                out.push('/');
            }
        }
        out.push_str(&escape(OsStr::new(below)));
        return;
    }
    out.push_str(&escape(joined(path, root).as_os_str()));
}

/// `path` without its `.` components, below `root` where it is relative: what
/// [`push_shown_path`] shows, by taking the path apart.
fn joined(path: &Path, root: Option<&Path>) -> PathBuf {
    let below: PathBuf = path
        .components()
        .filter(|c| *c != std::path::Component::CurDir)
        .collect();
    match root {
        Some(root) if !path.is_absolute() => root.join(below),
        _ => below,
    }
}

/// A stored target, escaped: a Windows path keeps its backslashes, which separate names
/// there: a junction's `C:\...`, and (`nt`) any target of a record of a reparse point
/// that stores one (a scan's record of a link on NTFS: `..\Data\T`), as `knot show` and
/// `knot scan` print it. Elsewhere a backslash is part of a name, and is escaped.
fn escaped(name: &OsStr, nt: bool) -> String {
    if nt || name.as_encoded_bytes().get(1..3) == Some(b":\\") {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The written-as-it-is form of a plain path is what taking it apart and joining it
    /// gives, and every other path is taken apart.
    #[test]
    fn shown_paths_are_the_joined_components() {
        let paths = [
            "a", "./a", ".//a", "././a/b", "a//b", "a/./b", "a/", "a/.", ".hidden", "a/.h",
            "/abs/x", "./", ".", "a/../b", "é/ü",
        ];
        let roots = [
            None,
            Some(""),
            Some("copy"),
            Some("copy/"),
            Some("/r"),
            Some("a b"),
        ];
        for path in paths {
            for root in roots {
                let (path, root) = (Path::new(path), root.map(Path::new));
                let mut shown = String::new();
                push_shown_path(&mut shown, path, root);
                let taken_apart = joined(path, root);
                assert_eq!(
                    shown,
                    escape(taken_apart.as_os_str()),
                    "{path:?} below {root:?}"
                );
            }
        }
    }
}
