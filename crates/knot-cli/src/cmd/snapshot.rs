//! `knot snapshot`: its arguments, its settings and the run. The library copies
//! (`knot::copy::snapshot`); the report is `knot copy`'s, with the unchanged files
//! counted.

use std::path::PathBuf;

use clap::Args;
use knot::copy::CopyOptions;

use crate::args::Format;
use crate::cmd::copy::{Counted, Made, Shown, TreeArgs, report};
use crate::cmd::{Decide, Run};
use crate::context::Context;
use crate::exit::Exit;

/// `knot snapshot --help`.
pub const LONG_ABOUT: &str = "Copy the directory SRC to NEW as `knot copy` does, but make each \
file unchanged since the copy OLD (--previous) a hard link to its file there: an incremental \
backup, as `rsync -aH --link-dest=OLD` makes one.\n\n\
A file is unchanged when the entry at the same path in OLD is a file of the same size and \
modification time (to the nanosecond), with the same permissions and owner (which a hard \
link shares). Every other entry is copied as `knot copy` copies it: changed and new files \
with their data, directories, symlinks (inner ones made to lead inside NEW), and the names \
a file has inside SRC as names of one file in NEW. OLD is only read, through directories \
opened one name at a time without following links, and never written; a link in OLD where \
SRC has a directory or a file counts as a change.\n\n\
Where a file already has as many names as its file system allows (65,000 on ext4, 1,023 \
on NTFS), knot copies it instead of linking, and says so (link-limit); the next names of a \
hard-link group are then linked to that copy. Where the system refuses the link to a file \
in OLD (fs.protected_hardlinks lets a user link only to files they own or may read and \
write; a file system mounted inside OLD), knot copies the file and says so (link-refused).\n\n\
NEW must be on OLD's file system, as a hard link cannot cross file systems: knot refuses a \
snapshot whose NEW is on another one before anything is made (rsync --link-dest would copy \
every file); make it beside OLD, or make a full copy with `knot copy`.\n\n\
Each entry whose outcome is not a plain copy gets a line: linked (to OLD, or to another \
name of a file copied already), link-limit, link-refused, first-failed, rewritten, kept, \
dropped, cloned, not entered (--xdev); -v lists the plain copies too; --json prints one \
record per entry, as `knot copy --json` does. A summary table follows on standard error, \
and while the snapshot runs on a terminal, a progress line (entries, bytes copied, \
rate).\n\n\
Not available on Windows yet.\n\n\
Exit codes: 0 done, 1 something could not be copied (each printed), 2 usage error.";

// Arguments of `knot snapshot` (no doc comment: see `commands!` in cmd/mod.rs).
#[derive(Args, Debug)]
pub struct SnapshotArgs {
    /// The directory to copy.
    #[arg(value_name = "SRC", value_parser = crate::args::path_arg())]
    source: PathBuf,
    /// Where to copy it: a new path, or an empty directory.
    #[arg(value_name = "NEW", value_parser = crate::args::path_arg())]
    copy: PathBuf,
    /// The previous snapshot: files unchanged since it are made hard links to its files.
    #[arg(long, value_name = "OLD", value_parser = crate::args::path_arg())]
    previous: PathBuf,
    #[command(flatten)]
    tree: TreeArgs,
}

/// `knot snapshot`, fully decided.
#[derive(Debug)]
pub struct SnapshotSettings {
    source: PathBuf,
    copy: PathBuf,
    previous: PathBuf,
    options: CopyOptions,
    format: Format,
    verbose: bool,
}

impl Decide for SnapshotArgs {
    type Settings = SnapshotSettings;
    fn decide(self) -> SnapshotSettings {
        let options = self.tree.options();
        SnapshotSettings {
            source: self.source,
            copy: self.copy,
            previous: self.previous,
            options,
            format: self.tree.format(),
            verbose: self.tree.verbose,
        }
    }
}

impl Run for SnapshotSettings {
    fn run(&self, context: &Context) -> Exit {
        let dry_run = self.options.mode == knot::ChangeMode::DryRun;
        let shown = Shown {
            format: self.format,
            verbose: self.verbose,
        };
        let counted = Counted::snapshot(&self.source, &self.options);
        report(shown, dry_run, Made::Snapshot, counted, context, |each| {
            knot::copy::snapshot(
                &self.source,
                &self.copy,
                &self.previous,
                &self.options,
                each,
            )
        })
    }
}
