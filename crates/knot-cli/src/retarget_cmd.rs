//! `knot retarget` and `knot convert`: each link changed is reported in the one shape of
//! the link-maintenance commands ([`crate::change`]): a line for people, or with `--json`
//! a [`ChangeRecord`] per link.

use std::path::{Path, PathBuf};

use knot::{ConvertOptions, ConvertTo, Kind, RetargetOptions, Retargeted};

use crate::Exit;
use crate::change::{Action, ChangeRecord};
use crate::cli::Settings;
use crate::output::{Format, Printer, quote, stored_name};

/// `knot retarget LINK NEW_TARGET`.
pub fn retarget(
    link: &Path,
    target: &Path,
    options: &RetargetOptions,
    format: Format,
    settings: &Settings,
) -> Exit {
    let dry_run = options.mode == knot::ChangeMode::DryRun;
    let mut printer = Printer::new(format, settings.messages());
    let result = knot::retarget(link, target, options);
    match report(&mut printer, format, link, result, dry_run, settings) {
        Ok(()) => Exit::Success,
        Err(()) => Exit::Failure,
    }
}

/// `knot convert --relative|--absolute|--to-symlink|--to-junction PATH... [--recursive]`.
pub fn convert(
    paths: &[PathBuf],
    to: ConvertTo,
    recursive: bool,
    options: &ConvertOptions,
    format: Format,
    settings: &Settings,
) -> Exit {
    let dry_run = options.mode == knot::ChangeMode::DryRun;
    let mut printer = Printer::new(format, settings.messages());
    let mut failed = false;
    for path in paths {
        let is_dir = knot::inspect(path).is_ok_and(|link| link.kind == Kind::Dir);
        if !(recursive && is_dir) {
            let result = knot::convert(path, to, options);
            failed |= report(&mut printer, format, path, result, dry_run, settings).is_err();
            continue;
        }
        // Every link below, converted through the one tree walk as it finds them; reported
        // in path order, so the report reads the same on every run.
        let mut links = Vec::new();
        knot::convert_tree(path, to, options, |item| match item {
            Ok(converted) => links.push(converted),
            Err(err) => {
                let _ = printer.flush();
                crate::report_error(&err, settings);
                failed = true;
            }
        });
        links.sort_by(|(a, _), (b, _)| a.cmp(b));
        for (link, result) in links {
            failed |= report(&mut printer, format, &link, result, dry_run, settings).is_err();
        }
    }
    if failed { Exit::Failure } else { Exit::Success }
}

/// Reports one link's change, or its failure (on standard error, and with `--json` also
/// as a `failed` record when the link can be read).
fn report(
    printer: &mut Printer,
    format: Format,
    path: &Path,
    result: knot::Result<Retargeted>,
    dry_run: bool,
    settings: &Settings,
) -> Result<(), ()> {
    // Output never stops the work (DESIGN.md promise 8): a lost line changes nothing here.
    match result {
        Ok(done) => {
            let action = if done.changed {
                Action::Replaced
            } else {
                Action::Unchanged
            };
            let _ = match format {
                Format::Json => printer.json(&ChangeRecord {
                    record: knot::Record::from(&done.after),
                    action,
                    old_target: done.changed.then(|| done.before.target.clone()).flatten(),
                    dry_run,
                    error: None,
                }),
                _ => printer.line(&human(path, &done, action, dry_run)),
            };
            Ok(())
        }
        Err(err) => {
            if format == Format::Json
                && let Ok(link) = knot::inspect(path)
            {
                let _ = printer.json(&ChangeRecord {
                    record: knot::Record::from(&link),
                    action: Action::Failed,
                    old_target: None,
                    dry_run,
                    error: Some(err.to_string()),
                });
            }
            let _ = printer.flush();
            crate::report_error(&err, settings);
            Err(())
        }
    }
}

/// `replaced 'l': 'old' -> 'new'`, `would replace ...`, `unchanged 'l': 'target'`; a
/// change of kind says what the link is now.
fn human(path: &Path, done: &Retargeted, action: Action, dry_run: bool) -> String {
    let target = |link: &knot::Link| {
        let text = link.target.as_deref().unwrap_or(Path::new(""));
        format!("'{}'", stored_name(link, text.as_os_str()))
    };
    let (before, after) = (&done.before, &done.after);
    let verb = action.verb(dry_run);
    let path = quote(path.as_os_str());
    if !done.changed {
        return format!("{verb} {path}: {}", target(before));
    }
    let kind = if before.kind == after.kind {
        String::new()
    } else {
        format!(" (now a {})", after.kind.name())
    };
    format!(
        "{verb} {path}: {} -> {}{kind}",
        target(before),
        target(after)
    )
}
