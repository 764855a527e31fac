//! What every operation that changes links is told, and what retarget and convert say
//! they did: [`ChangeMode`] (change, or only say), [`Retargeted`] and [`Kept`]. Apart from
//! those operations, so that each may name them without naming another.

use std::path::PathBuf;

use crate::link::Link;

/// Whether to change links, or only to check everything and say what would change: the
/// one dry-run switch of every operation that changes links ([`remove`](crate::remove()),
/// [`retarget`](crate::retarget()), [`convert`](crate::convert()), [`fix`](crate::fix::fix), [`apply`](crate::apply())); a create's
/// dry run is [`create_dry_run`](crate::create_dry_run).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ChangeMode {
    /// Change the links.
    #[default]
    Change,
    /// Check everything and report the change, but change nothing (the CLI's `--dry-run`).
    DryRun,
}

/// What [`retarget`](crate::retarget()) or [`convert`](crate::convert()) changed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Retargeted {
    /// The link as it was.
    pub before: Link,
    /// The link as it is now (read back), or as it would be after a dry run.
    pub after: Link,
    /// Whether the link was (or, in a dry run, would be) changed: `false` when it was
    /// already as asked, and was left alone.
    pub changed: bool,
    /// Why a link that is not as asked was left as it is: `None` where it was changed, or
    /// was as asked already.
    pub kept: Option<Kept>,
}

/// Why [`convert`](crate::convert()) left a link as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kept {
    /// Its target has a `.`, `..` or slash after `part` (absolute), which leads to no
    /// directory (it is missing, a file, or a loop): the system fails on the target as it
    /// is, and written the other way, folded, it would lead somewhere.
    WouldLeadSomewhere {
        /// The part of the target, as an absolute path, that leads to no directory.
        part: PathBuf,
    },
    /// It is a junction, asked to be relative below a root ([`convert_tree`](crate::convert_tree)): a junction
    /// always stores an absolute target.
    JunctionIsAbsolute,
}
