//! The report of every command that changes links (`retarget`, `convert`, `fix`, `apply`):
//! one line per link for people, or with `--json` one record per link, the link's record
//! (DESIGN.md section 2) plus what was done to it.

use std::path::{Path, PathBuf};

use knot::Retargeted;
use serde::Serialize;

use crate::args::Format;
use crate::context::Context;
use crate::report::{Printer, error, quote, stored_name};

/// What a command did, or with `--dry-run` would do, to one link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// A missing link was made (`apply`).
    Created,
    /// An existing link got another target or form (`retarget`, `convert`, `fix`, `apply`).
    Replaced,
    /// A link was already right and was left alone.
    Unchanged,
    /// A link was removed (`fix --broken --delete`).
    Deleted,
    /// Nothing was done, for the reason in `error`.
    Failed,
}

impl Action {
    /// The verb of a human report line: `replaced 'l': 'a' -> 'b'`.
    pub fn verb(self, dry_run: bool) -> &'static str {
        match (self, dry_run) {
            (Action::Created, false) => "created",
            (Action::Created, true) => "would create",
            (Action::Replaced, false) => "replaced",
            (Action::Replaced, true) => "would replace",
            (Action::Unchanged, _) => "unchanged",
            (Action::Deleted, false) => "deleted",
            (Action::Deleted, true) => "would delete",
            (Action::Failed, _) => "failed",
        }
    }
}

/// One JSON report record: the link's record as it is after the change (or would be),
/// then what was done.
#[derive(Debug, Serialize)]
pub struct ChangeRecord {
    #[serde(flatten)]
    pub record: knot::Record,
    pub action: Action,
    /// The target before the change, where it changed.
    #[serde(with = "knot_names::json::serde_opt_name")]
    pub old_target: Option<PathBuf>,
    /// Whether this was only a dry run (nothing was changed).
    pub dry_run: bool,
    /// Why the action failed, as the error message says it.
    pub error: Option<String>,
}

/// Reports one link's change, or its failure (on standard error, and with `--json` also
/// as a `failed` record when the link can be read).
pub fn retargeted(
    printer: &mut Printer,
    format: Format,
    path: &Path,
    result: knot::Result<Retargeted>,
    dry_run: bool,
    context: &Context,
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
                    error: Some(error::message(&err)),
                });
            }
            let _ = printer.flush();
            error::fail(&err, context);
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
        let why = match &done.kept {
            Some(knot::Kept::WouldLeadSomewhere { part }) => format!(
                "  [kept: {} leads to no directory, so the link fails; written the other way \
                 it would lead somewhere]",
                quote(part.as_os_str())
            ),
            Some(knot::Kept::JunctionIsAbsolute) => {
                "  [kept: a junction always stores an absolute target]".to_owned()
            }
            _ => String::new(),
        };
        return format!("{verb} {path}: {}{why}", target(before));
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
