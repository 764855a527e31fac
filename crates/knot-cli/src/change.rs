//! The report of every command that changes links (`retarget`, `convert`, `fix`, `apply`):
//! one line per link for people, or with `--json` one record per link, the link's record
//! (DESIGN.md section 2) plus what was done to it.

use std::path::PathBuf;

use serde::Serialize;

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
    #[serde(with = "knot::record::serde_opt_name")]
    pub old_target: Option<PathBuf>,
    /// Whether this was only a dry run (nothing was changed).
    pub dry_run: bool,
    /// Why the action failed, as the error message says it.
    pub error: Option<String>,
}
