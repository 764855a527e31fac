//! The clap pieces more than one command takes, each defined once: path arguments, the
//! roots of a walk (default `.`), the directory a path is in, `--drive`, `--threads`, and
//! the conversions of `--json`/`-0` to a [`Format`] and of `--dry-run` to a mode. A leaf: it imports nothing
//! from the rest of the crate.
//!
//! The `Args` structs here have no doc comments: clap would read one as the description
//! of the command that flattens them (see `commands!` in `cmd/mod.rs`).

use std::path::{Path, PathBuf};

use clap::Args;
use knot::{ChangeMode, DriveLetter};

/// How records are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Aligned, escaped text for people.
    Human,
    /// One JSON object per line.
    Json,
    /// The path of each record, NUL-terminated.
    Nul,
}

impl Format {
    /// The format `--json` and `-0` (`--null`) ask for; `--json` wins where a command
    /// takes both without declaring them in conflict.
    pub fn of(json: bool, null: bool) -> Format {
        match (json, null) {
            (true, _) => Format::Json,
            (_, true) => Format::Nul,
            _ => Format::Human,
        }
    }
}

/// The mode `--dry-run` asks for.
pub fn mode(dry_run: bool) -> ChangeMode {
    if dry_run {
        ChangeMode::DryRun
    } else {
        ChangeMode::Change
    }
}

/// A path argument: any name but the empty one, which names no file. clap's own message
/// for it ("a value is required ... but none was supplied") reads as if the argument were
/// missing.
pub fn path_arg() -> impl clap::builder::TypedValueParser<Value = PathBuf> {
    use clap::builder::TypedValueParser as _;
    clap::builder::OsStringValueParser::new().try_map(|name| {
        if name.is_empty() {
            Err("an empty name is not a path")
        } else {
            Ok(PathBuf::from(name))
        }
    })
}

/// `D:` or `D`, any case, as the library reads a drive letter.
pub fn parse_drive(text: &str) -> Result<DriveLetter, String> {
    text.parse()
        .map_err(|err: knot::ParseDriveError| err.to_string())
}

/// The directory `path` is in, as typed: `.` for a bare name.
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// The directories a walk starts from, `.` where none is given.
pub fn roots(dirs: Vec<PathBuf>) -> Vec<PathBuf> {
    if dirs.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        dirs
    }
}

// `--drive X:`, for every command that may write an absolute target on ntfs-3g.
#[derive(Args, Debug, Clone, Copy)]
pub struct DriveArg {
    /// On an NTFS volume mounted with ntfs-3g: the drive letter Windows gives the volume,
    /// for absolute targets (default C:; retarget and convert keep the link's own, and
    /// apply a record's X:\... target its own).
    #[arg(long, value_name = "X:", value_parser = parse_drive)]
    pub drive: Option<DriveLetter>,
}

// `--threads N`, for every command that walks a tree: at least one; none given is one
// per core.
#[derive(Args, Debug, Clone, Copy)]
pub struct ThreadsArg {
    /// Threads to use (default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
}

impl ThreadsArg {
    /// The number the library takes: 0 for one per core.
    pub fn count(self) -> usize {
        self.threads.map_or(0, usize::from)
    }
}

// `--json` and `-0` of the commands that print link records (show, rm).
#[derive(Args, Debug)]
pub struct FormatArgs {
    /// Print one JSON object per line.
    #[arg(long, conflicts_with = "null")]
    json: bool,
    /// Print NUL-terminated paths.
    #[arg(short = '0', long = "null")]
    null: bool,
}

impl FormatArgs {
    pub fn format(&self) -> Format {
        Format::of(self.json, self.null)
    }
}

// The options of every command that changes one link given by name (the creates,
// retarget, convert).
#[derive(Args, Debug)]
pub struct ChangeArgs {
    /// Check everything and say what would change, but change nothing.
    #[arg(long, short = 'n')]
    dry_run: bool,
    /// Print one JSON record per link: its record after the change, the action and the old
    /// target.
    #[arg(long)]
    json: bool,
}

impl ChangeArgs {
    pub fn mode(&self) -> ChangeMode {
        mode(self.dry_run)
    }

    pub fn format(&self) -> Format {
        Format::of(self.json, false)
    }
}

// `--root DIR`, for the commands that judge links (scan, show, fix, convert).
#[derive(Args, Debug, Clone, Default)]
pub struct ImageRootArg {
    /// Judge links inside the image DIR (a root file system, a container image), as a
    /// chroot into DIR would see them: an absolute target resolves inside DIR and `..` at
    /// DIR stays there, so the status and `resolved` (a path inside the image, such as
    /// /usr/bin/mawk) describe the image, not the host. No link leads out of DIR.
    #[arg(long = "root", value_name = "DIR", value_parser = path_arg())]
    root: Option<PathBuf>,
}

impl ImageRootArg {
    /// The image root given, if any.
    pub fn dir(&self) -> Option<&Path> {
        self.root.as_deref()
    }
}
