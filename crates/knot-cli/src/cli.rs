//! Parsing: the command line becomes one immutable [`Settings`] (STYLE.md point 8). Nothing
//! here touches the file system.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use knot::{CreateOptions, DriveLetter, Flavour, LinkType, RemoveMode, Replace, TargetForm};

use crate::output::Format;

#[derive(Parser, Debug)]
#[command(
    name = "knot",
    version,
    about = "Create, inspect and remove junctions, symbolic links and hard links, safely.",
    long_about = "Create, inspect and remove junctions, symbolic links and hard links, safely.\n\n\
        Commands that create take the LINK first, then the TARGET, like mklink.\n\
        Exit codes: 0 success, 1 an operation failed, 2 usage error.",
    propagate_version = true
)]
struct Cli {
    /// Silence notes (errors are still printed).
    #[arg(short, long, global = true)]
    quiet: bool,

    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand, Debug)]
enum Commands {
    /// Create a symbolic link LINK that points at TARGET.
    ///
    /// TARGET is stored exactly as given (like `ln -s` and `mklink`), so a relative TARGET
    /// is relative to LINK's directory, not to the current one; with --relative or
    /// --absolute, TARGET is read from the current directory instead (like `ln -sr`).
    Symlink {
        #[command(flatten)]
        paths: LinkArgs,
        /// Make a directory symlink (checked against TARGET when it exists).
        #[arg(long, conflicts_with = "file")]
        dir: bool,
        /// Make a file symlink (checked against TARGET when it exists).
        #[arg(long)]
        file: bool,
        /// Store the target as a path relative to the link's directory
        /// (TARGET is then read from the current directory, like `ln -sr`).
        #[arg(long, conflicts_with = "absolute")]
        relative: bool,
        /// Store the target as an absolute path (TARGET is read from the current directory).
        #[arg(long)]
        absolute: bool,
        #[command(flatten)]
        drive: DriveArg,
        #[command(flatten)]
        force: ForceArg,
    },
    /// Create a junction LINK to the directory TARGET (on Unix: an absolute directory
    /// symlink; on an NTFS volume mounted with ntfs-3g: a real junction).
    ///
    /// A relative TARGET is read from the current directory, as `mklink /J` and
    /// junction.exe read it, and stored as an absolute path.
    Junction {
        #[command(flatten)]
        paths: LinkArgs,
        #[command(flatten)]
        drive: DriveArg,
        #[command(flatten)]
        force: ForceArg,
    },
    /// Create a hard link LINK to the file TARGET.
    ///
    /// A relative TARGET is read from the current directory, as `ln` and `mklink /H` read
    /// it.
    Hardlink {
        #[command(flatten)]
        paths: LinkArgs,
        #[command(flatten)]
        force: ForceArg,
    },
    /// Create the best link this platform allows for TARGET, and say which.
    ///
    /// TARGET is read as a symlink reads it: a relative TARGET is relative to LINK's
    /// directory.
    Link {
        #[command(flatten)]
        paths: LinkArgs,
        #[command(flatten)]
        force: ForceArg,
    },
    /// Show what each PATH is: its kind, target, resolved path and status.
    Show {
        /// Paths to show; links are not followed.
        #[arg(required = true, value_name = "PATH", value_parser = path_arg())]
        paths: Vec<PathBuf>,
        /// Also show the raw reparse-point buffer: decoded with a hex dump, or in JSON as
        /// `raw` (hex); null for links that are not reparse points.
        #[arg(long)]
        raw: bool,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Remove links; never a regular file or directory, never what a link points at.
    Rm {
        /// Links to remove (a trailing slash, as tab completion adds, names what a link
        /// points at, so `knot rm l/` is refused and says to run `knot rm l`).
        #[arg(required = true, value_name = "PATH", value_parser = path_arg())]
        paths: Vec<PathBuf>,
        /// Say what would be removed, and remove nothing.
        #[arg(long, short = 'n')]
        dry_run: bool,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// List every link under DIR... (default: the current directory), one record each.
    #[command(long_about = crate::scan_cmd::LONG_ABOUT)]
    Scan(crate::scan_cmd::ScanArgs),
    /// Work with raw reparse-point buffers.
    Reparse {
        #[command(subcommand)]
        command: ReparseCommand,
    },
}

#[derive(Subcommand, Debug)]
enum ReparseCommand {
    /// Decode a raw REPARSE_DATA_BUFFER and print its fields, like `fsutil reparsepoint query`.
    Decode {
        /// The file holding the buffer's bytes; `-` or nothing reads standard input.
        #[arg(value_name = "FILE", value_parser = path_arg())]
        input: Option<PathBuf>,
        /// Print one JSON record instead.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
struct LinkArgs {
    /// The link to create.
    #[arg(value_name = "LINK", value_parser = path_arg())]
    link: PathBuf,
    /// What the link points at.
    #[arg(value_name = "TARGET", value_parser = path_arg())]
    target: PathBuf,
}

#[derive(Args, Debug)]
struct DriveArg {
    /// On an NTFS volume mounted with ntfs-3g: the drive letter Windows gives the volume,
    /// for absolute targets (default C:).
    #[arg(long, value_name = "X:", value_parser = parse_drive)]
    drive: Option<DriveLetter>,
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
fn parse_drive(text: &str) -> Result<DriveLetter, String> {
    text.parse()
        .map_err(|err: knot::ParseDriveError| err.to_string())
}

#[derive(Args, Debug)]
struct ForceArg {
    /// Replace LINK if it is already a link (atomically on Linux's native file systems); a
    /// real file or directory is never replaced.
    #[arg(short, long)]
    force: bool,
}

#[derive(Args, Debug)]
struct FormatArgs {
    /// Print one JSON object per line.
    #[arg(long, conflicts_with = "null")]
    json: bool,
    /// Print NUL-terminated paths.
    #[arg(short = '0', long = "null")]
    null: bool,
}

impl FormatArgs {
    fn format(&self) -> Format {
        match (self.json, self.null) {
            (true, _) => Format::Json,
            (_, true) => Format::Nul,
            _ => Format::Human,
        }
    }
}

/// Prints clap's usage error (exit 2) or the `--help` / `--version` text (exit 0) and
/// exits. Help that cannot be written (a full disk, not a closed pipe) is an error, exit 1,
/// as for any other output; a usage error exits 2 whether or not its message got out.
fn exit_after(err: &clap::Error) -> ! {
    let printed = err.print();
    let code = match printed {
        Err(e) if !err.use_stderr() && e.kind() != std::io::ErrorKind::BrokenPipe => {
            crate::output::to_stderr(&format!("knot: cannot write to standard output: {e}\n"));
            1
        }
        _ => err.exit_code(),
    };
    std::process::exit(code)
}

/// One command, fully decided.
#[derive(Debug)]
pub enum Command {
    Create {
        link: PathBuf,
        target: PathBuf,
        ty: LinkType,
        options: CreateOptions,
    },
    Show {
        paths: Vec<PathBuf>,
        format: Format,
        raw: bool,
    },
    Remove {
        paths: Vec<PathBuf>,
        mode: RemoveMode,
        format: Format,
    },
    ReparseDecode {
        input: Option<PathBuf>,
        json: bool,
    },
    Scan(crate::scan_cmd::ScanSettings),
}

/// Everything a run of knot needs to know, decided before anything is done.
#[derive(Debug)]
pub struct Settings {
    pub command: Command,
    pub quiet: bool,
}

/// Parses the arguments; on a usage error clap prints a short usage line and exits with 2.
pub fn parse<I: IntoIterator<Item = OsString>>(args: I) -> Settings {
    let cli = Cli::try_parse_from(args).unwrap_or_else(|err| exit_after(&err));
    let create = |paths: LinkArgs, ty, options| Command::Create {
        link: paths.link,
        target: paths.target,
        ty,
        options,
    };
    let replace = |force: ForceArg| {
        if force.force {
            Replace::Links
        } else {
            Replace::Never
        }
    };
    let command = match cli.command {
        Commands::Symlink {
            paths,
            dir,
            file,
            relative,
            absolute,
            drive,
            force,
        } => {
            let flavour = match (dir, file) {
                (true, _) => Some(Flavour::Dir),
                (_, true) => Some(Flavour::File),
                _ => None,
            };
            let form = match (relative, absolute) {
                (true, _) => TargetForm::Relative,
                (_, true) => TargetForm::Absolute,
                _ => TargetForm::AsGiven,
            };
            let options = CreateOptions {
                flavour,
                form,
                replace: replace(force),
                drive: drive.drive,
            };
            create(paths, LinkType::Symlink, options)
        }
        Commands::Junction {
            paths,
            drive,
            force,
        } => create(
            paths,
            LinkType::Junction,
            CreateOptions {
                replace: replace(force),
                drive: drive.drive,
                ..Default::default()
            },
        ),
        Commands::Hardlink { paths, force } => create(
            paths,
            LinkType::Hardlink,
            CreateOptions {
                replace: replace(force),
                ..Default::default()
            },
        ),
        Commands::Link { paths, force } => create(
            paths,
            LinkType::Best,
            CreateOptions {
                replace: replace(force),
                ..Default::default()
            },
        ),
        Commands::Show { paths, raw, format } => Command::Show {
            paths,
            format: format.format(),
            raw,
        },
        Commands::Rm {
            paths,
            dry_run,
            format,
        } => Command::Remove {
            paths,
            mode: if dry_run {
                RemoveMode::DryRun
            } else {
                RemoveMode::Remove
            },
            format: format.format(),
        },
        Commands::Reparse {
            command: ReparseCommand::Decode { input, json },
        } => Command::ReparseDecode { input, json },
        Commands::Scan(args) => Command::Scan(args.into_settings()),
    };
    Settings {
        command,
        quiet: cli.quiet,
    }
}
