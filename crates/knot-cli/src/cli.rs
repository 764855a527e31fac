//! Parsing: the command line becomes one immutable [`Settings`] (STYLE.md point 8). Nothing
//! here touches the file system.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

use knot::{
    ChangeMode, ConvertOptions, ConvertTo, CreateOptions, DriveLetter, Flavour, LinkType,
    RemoveMode, Replace, RetargetOptions, TargetForm,
};

use crate::Exit;
use crate::output::{ErrorMessages, Format, Messages};

#[derive(Parser, Debug)]
#[command(
    name = "knot",
    version,
    about = "Create, inspect and remove junctions, symbolic links and hard links, safely.",
    long_about = "Create, inspect and remove junctions, symbolic links and hard links, safely.\n\n\
        Commands that create take the LINK first, then the TARGET, like mklink.\n\
        Exit codes: 0 success, 1 an operation failed, 2 usage error.\n\n\
        Colour: --color auto (the default) colours output only when standard output is a \
        terminal and NO_COLOR is not set to a non-empty value; always colours even into a \
        pipe or with NO_COLOR set; never does not colour.",
    propagate_version = true
)]
struct Cli<C: Subcommand> {
    /// Silence notes (errors are still printed).
    #[arg(short, long, global = true)]
    quiet: bool,

    /// When to colour output and help: auto (on a terminal, unless NO_COLOR is set),
    /// always (even into a pipe, and with NO_COLOR set) or never.
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        default_value_t = Color::Auto,
        hide_possible_values = true
    )]
    color: Color,

    #[command(subcommand)]
    command: C,
}

/// Declares knot's commands once and derives them twice: [`Commands`], which the parser
/// uses, builds a command's arguments only when that command runs (clap's `defer`), and
/// [`EagerCommands`], for the completion scripts and the man page, builds them all at once.
///
/// Building every command for every run was most of knot's own work in one `knot symlink`
/// (DESIGN.md section 7: at most 1.2x of `ln -s`). The scripts and the page need the eager
/// form: a deferred command gets clap's global options (`--quiet`, `--color`) before its
/// own arguments, so the scripts would offer them first, and the `help` command's copy of
/// `reparse` would lack `decode`. Help and usage errors read the same either way.
///
/// A command's description lives on its variant. The `Args` structs the commands take
/// their arguments from have no doc comments: clap would read one as the command's
/// description when it builds a deferred command, after the variant's.
macro_rules! commands {
    ($($variants:tt)*) => {
        /// knot's commands, as the parser builds them: each one only when it runs.
        #[derive(Subcommand, Debug)]
        #[command(defer = true)]
        enum Commands { $($variants)* }

        /// knot's commands, every one built at once: see `commands!`.
        #[derive(Subcommand)]
        #[allow(dead_code, reason = "only its clap definition is used; nothing is parsed into it")]
        enum EagerCommands { $($variants)* }
    };
}

commands! {
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
        #[command(flatten)]
        change: ChangeArgs,
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
        #[command(flatten)]
        change: ChangeArgs,
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
        #[command(flatten)]
        change: ChangeArgs,
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
        #[command(flatten)]
        change: ChangeArgs,
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
    /// Give the link LINK a new target, keeping its kind (a junction stays a junction)
    /// and flavour.
    ///
    /// NEW_TARGET is stored as given: a relative one is relative to LINK's directory. The
    /// change is atomic: on Linux the new link is made beside LINK and swapped in; a
    /// junction on Windows, and any link on an NTFS volume mounted with ntfs-3g, has its
    /// reparse point rewritten in place.
    Retarget {
        /// The link to change: a symlink or a junction.
        #[arg(value_name = "LINK", value_parser = path_arg())]
        link: PathBuf,
        /// Its new target.
        #[arg(value_name = "NEW_TARGET", value_parser = path_arg())]
        target: PathBuf,
        /// The drive letter of an absolute target on an NTFS volume mounted with ntfs-3g
        /// (default: the link's own).
        #[arg(long, value_name = "X:", value_parser = parse_drive)]
        drive: Option<DriveLetter>,
        #[command(flatten)]
        change: ChangeArgs,
    },
    /// Rewrite links between relative and absolute targets, or between junctions and
    /// directory symlinks, keeping what they lead to.
    ///
    /// A relative target is computed from the link's own directory (like `ln -r`). A
    /// dangling link converts too, by its text; a link already in the form asked for is
    /// reported `unchanged`.
    #[command(group(
        clap::ArgGroup::new("form")
            .required(true)
            .args(["relative", "absolute", "to_symlink", "to_junction"])
    ))]
    Convert {
        /// The links to convert (with --recursive, also directories: every link below).
        #[arg(required = true, value_name = "PATH", value_parser = path_arg())]
        paths: Vec<PathBuf>,
        /// Make each symlink's target relative to the link's directory.
        #[arg(long)]
        relative: bool,
        /// Make each symlink's target absolute.
        #[arg(long)]
        absolute: bool,
        /// Replace each junction by a directory symlink to the same directory.
        #[arg(long)]
        to_symlink: bool,
        /// Replace each directory symlink by a junction (where junctions exist: Windows,
        /// NTFS through ntfs-3g).
        #[arg(long)]
        to_junction: bool,
        /// Convert every link below each directory PATH.
        #[arg(long, short = 'r')]
        recursive: bool,
        /// The drive letter of an absolute target on an NTFS volume mounted with ntfs-3g
        /// (default: the link's own).
        #[arg(long, value_name = "X:", value_parser = parse_drive)]
        drive: Option<DriveLetter>,
        #[command(flatten)]
        change: ChangeArgs,
    },
    /// List every link under DIR... (default: the current directory), one record each.
    #[command(long_about = crate::scan_cmd::LONG_ABOUT)]
    Scan(crate::scan_cmd::ScanArgs),
    /// The true size of DIR...: every file counted once however many names it has, by
    /// kind, with hard-link groups and what removing it would free.
    #[command(long_about = crate::du_cmd::LONG_ABOUT)]
    Du(crate::du_cmd::DuArgs),
    /// Repair the links under DIR: --replace OLD=NEW retargets those whose target starts
    /// with OLD; --broken --delete removes those that dangle.
    #[command(long_about = crate::fix_cmd::LONG_ABOUT)]
    Fix(crate::fix_cmd::FixArgs),
    /// List every name (hard link) of each FILE, or with --groups every hard-link group
    /// inside DIR.
    #[command(long_about = crate::hardlinks_cmd::LONG_ABOUT)]
    Hardlinks(crate::hardlinks_cmd::HardlinksArgs),
    /// Make the links a manifest lists (the JSON Lines of `knot scan --json`) below a root.
    #[command(long_about = crate::apply_cmd::LONG_ABOUT)]
    Apply(crate::apply_cmd::ApplyArgs),
    /// Run a drop-in front end: `knot compat mklink ARGS` is `mklink ARGS`, and
    /// `knot compat junction ARGS` is Sysinternals' `junction ARGS`, with their syntax
    /// and messages (the same as running knot under the name `mklink` or `junction`).
    Compat {
        /// The front end.
        #[arg(value_enum)]
        front_end: FrontEnd,
        /// Its arguments, exactly as that program takes them.
        #[arg(
            value_name = "ARGS",
            trailing_var_arg = true,
            allow_hyphen_values = true,
            num_args = 0..
        )]
        args: Vec<OsString>,
    },
    /// Work with raw reparse-point buffers.
    Reparse {
        #[command(subcommand)]
        command: ReparseCommand,
    },
    /// Print a completion script for SHELL on standard output.
    ///
    /// The script completes knot's commands and options; the README says where each
    /// shell looks for it (bash: ~/.local/share/bash-completion/completions/knot).
    Completions {
        /// bash, zsh, fish, powershell or elvish.
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print knot's man page (roff), with a section for every command.
    ///
    /// `knot man > knot.1` is a complete page. With --dir, knot.1 (the same page) and a
    /// page of its own for each command (knot-scan.1, knot-reparse-decode.1, ...) are
    /// written into DIR, and their paths printed.
    Man {
        /// Write knot.1 and knot-COMMAND.1 into this existing directory, replacing regular
        /// files of those names; a link, directory or special file of such a name is left
        /// alone and is an error (nothing is ever written through it).
        #[arg(long, value_name = "DIR", value_parser = path_arg())]
        dir: Option<PathBuf>,
    },
}

/// When output is coloured (`--color`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Color {
    /// Only when standard output is a terminal, and never when NO_COLOR is set.
    #[default]
    Auto,
    /// Always, even into a pipe or a file, and with NO_COLOR set (as in fd and ripgrep).
    Always,
    /// Never.
    Never,
}

impl From<Color> for clap::ColorChoice {
    fn from(color: Color) -> clap::ColorChoice {
        match color {
            Color::Auto => clap::ColorChoice::Auto,
            Color::Always => clap::ColorChoice::Always,
            Color::Never => clap::ColorChoice::Never,
        }
    }
}

/// The `--color` a command line asks for, read before clap parses it, so that clap's own
/// help and usage errors follow it too; the last one wins, as clap reads it. A value clap
/// will refuse counts as auto (clap then prints why, exit 2).
fn color_in(args: &[OsString]) -> Color {
    use clap::ValueEnum as _;
    let mut color = Color::Auto;
    let mut words = args.iter().skip(1).map(|a| a.to_str());
    while let Some(word) = words.next() {
        let value = match word {
            Some("--") => break,
            Some("--color") => words.next().flatten(),
            Some(word) => word.strip_prefix("--color="),
            None => None,
        };
        if let Some(chosen) = value.and_then(|v| Color::from_str(v, false).ok()) {
            color = chosen;
        }
    }
    color
}

/// knot's clap definition, every command in it, for the completion scripts and the man page.
pub fn command() -> clap::Command {
    Cli::<EagerCommands>::command()
}

/// The front ends `knot compat` runs.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum FrontEnd {
    /// cmd's `mklink [[/D] | [/H] | [/J]] Link Target`.
    Mklink,
    /// Sysinternals' `junction [-s] [-q] [-d] [-nobanner] [-accepteula] <path> [<target>]`.
    Junction,
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
pub fn parse_drive(text: &str) -> Result<DriveLetter, String> {
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

// The options of every command that changes links (no doc comment: see `commands!`).
#[derive(Args, Debug)]
struct ChangeArgs {
    /// Check everything and say what would change, but change nothing.
    #[arg(long, short = 'n')]
    dry_run: bool,
    /// Print one JSON record per link: its record after the change, the action and the old
    /// target.
    #[arg(long)]
    json: bool,
}

impl ChangeArgs {
    fn mode(&self) -> ChangeMode {
        if self.dry_run {
            ChangeMode::DryRun
        } else {
            ChangeMode::Change
        }
    }

    fn format(&self) -> Format {
        if self.json {
            Format::Json
        } else {
            Format::Human
        }
    }
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

/// Prints clap's usage error (exit 2) or the `--help` / `--version` text (exit 0), and
/// says how the run ends. Help that cannot be written (a full disk, not a closed pipe) is
/// an error, exit 1, as for any other output; a usage error exits 2 whether or not its
/// message got out.
fn after_clap(err: &clap::Error, messages: Messages) -> Exit {
    let printed = err.print();
    match printed {
        Err(e) if !err.use_stderr() && e.kind() != std::io::ErrorKind::BrokenPipe => {
            messages.error(&format!("cannot write to standard output: {e}"));
            Exit::Failure
        }
        _ if err.use_stderr() => Exit::Usage,
        _ => Exit::Success,
    }
}

/// One command, fully decided.
#[derive(Debug)]
pub enum Command {
    Create {
        link: PathBuf,
        target: PathBuf,
        ty: LinkType,
        options: CreateOptions,
        /// Make the link, or only check and say what would be made.
        mode: ChangeMode,
        format: Format,
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
    Du(crate::du_cmd::DuSettings),
    Completions(clap_complete::Shell),
    Man {
        dir: Option<PathBuf>,
    },
    Retarget {
        link: PathBuf,
        target: PathBuf,
        options: RetargetOptions,
        format: Format,
    },
    Convert {
        paths: Vec<PathBuf>,
        to: ConvertTo,
        recursive: bool,
        options: ConvertOptions,
        format: Format,
    },
    Fix(crate::fix_cmd::FixSettings),
    Hardlinks(crate::hardlinks_cmd::HardlinksSettings),
    Apply(crate::apply_cmd::ApplySettings),
}

/// Which syntax a run speaks, from the name the binary was run under (DESIGN.md section
/// 2: the same binary, run as `mklink` or `junction`, is a drop-in front end).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// knot's own commands.
    Knot,
    /// cmd's `mklink [[/D] | [/H] | [/J]] Link Target`.
    Mklink,
    /// Sysinternals `junction [-s] [-q] [-d] [-nobanner] [-accepteula] <path> [<target>]`.
    Junction,
}

impl Dialect {
    /// The dialect of a binary run as `argv0`: its file name without directory or `.exe`,
    /// in any case (Windows file names are); knot's own for any other name.
    pub fn from_argv0(argv0: &OsStr) -> Dialect {
        let name = Path::new(argv0)
            .file_name()
            .map(|name| name.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        match name.strip_suffix(".exe").unwrap_or(&name) {
            "mklink" => Dialect::Mklink,
            "junction" => Dialect::Junction,
            _ => Dialect::Knot,
        }
    }
}

/// Who is speaking: the name messages start with and the syntax the arguments were read
/// in, so that messages and hints (the swapped-arguments hint) name the program the user
/// ran, not a fixed "knot".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Program {
    /// The prefix of every message and the first word of a suggested command.
    pub name: &'static str,
    /// The syntax the arguments were read in.
    pub dialect: Dialect,
}

impl Program {
    /// knot, speaking its own syntax.
    pub const KNOT: Program = Program {
        name: "knot",
        dialect: Dialect::Knot,
    };

    /// cmd's mklink, as `mklink` or `knot compat mklink`.
    pub const MKLINK: Program = Program {
        name: "mklink",
        dialect: Dialect::Mklink,
    };

    /// Sysinternals' junction, as `junction` or `knot compat junction`.
    pub const JUNCTION: Program = Program {
        name: "junction",
        dialect: Dialect::Junction,
    };

    /// The program a binary run as `argv0` is.
    pub fn from_argv0(argv0: &OsStr) -> Program {
        match Dialect::from_argv0(argv0) {
            Dialect::Knot => Program::KNOT,
            Dialect::Mklink => Program::MKLINK,
            Dialect::Junction => Program::JUNCTION,
        }
    }
}

/// What a run learns about its process before it parses anything: the only place the
/// environment and the terminals are looked at; everything below reads [`Settings`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Environment {
    /// Whether standard output is a terminal.
    pub stdout_terminal: bool,
    /// Whether standard error is a terminal.
    pub stderr_terminal: bool,
    /// Whether `NO_COLOR` is set to something (<https://no-color.org>: an empty value does
    /// not count).
    pub no_color: bool,
}

impl Environment {
    /// This process's facts.
    pub fn of_this_process() -> Environment {
        use std::io::IsTerminal as _;
        Environment {
            stdout_terminal: std::io::stdout().is_terminal(),
            stderr_terminal: std::io::stderr().is_terminal(),
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        }
    }
}

/// Whether output is coloured and where terminals are, decided once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Terminal {
    /// Standard output is a terminal: records go out at once, not in batches.
    pub stdout: bool,
    /// Standard error is a terminal: long work shows progress there.
    pub stderr: bool,
    /// Records are coloured: as `--color` says; in auto, only on a terminal and never when
    /// `NO_COLOR` is set.
    pub color: bool,
}

impl Terminal {
    /// The terminals, with colour as `color` asks: in auto only on a terminal and never
    /// when `NO_COLOR` is set; `always` wins over `NO_COLOR`, as in fd and ripgrep. (The
    /// front ends, which have no `--color`, pass [`Color::Auto`].)
    pub fn of(env: Environment, color: Color) -> Terminal {
        Terminal {
            stdout: env.stdout_terminal,
            stderr: env.stderr_terminal,
            color: match color {
                Color::Auto => env.stdout_terminal && !env.no_color,
                Color::Always => true,
                Color::Never => false,
            },
        }
    }
}

/// Everything a run of knot needs to know, decided before anything is done.
#[derive(Debug)]
pub struct Settings {
    pub command: Command,
    pub quiet: bool,
    pub program: Program,
    /// The arguments after the program's name, as typed, for the hints that suggest a
    /// corrected command line.
    pub args: Vec<OsString>,
    pub terminal: Terminal,
    /// Whether errors are printed (junction's `-q` hides them; the exit code stays).
    pub errors: ErrorMessages,
    /// A front end's banner, printed on standard output before anything else, followed
    /// by an empty line (junction without `-nobanner`).
    pub banner: Option<&'static str>,
}

impl Settings {
    /// How messages are written for this run.
    pub fn messages(&self) -> Messages {
        Messages {
            quiet: self.quiet,
            errors: self.errors,
            program: self.program.name,
        }
    }
}

/// Parses the arguments into [`Settings`]. On a usage error, or for `--help` and
/// `--version`, clap's text is printed and the run ends with the [`Exit`] returned.
pub fn parse<I: IntoIterator<Item = OsString>>(
    args: I,
    env: Environment,
) -> Result<Settings, Exit> {
    let args: Vec<OsString> = args.into_iter().collect();
    let program = Program::from_argv0(args.first().map(OsString::as_os_str).unwrap_or_default());
    let rest = args.get(1..).unwrap_or_default();
    match program.dialect {
        Dialect::Mklink => return crate::compat::mklink::parse(rest, env),
        Dialect::Junction => return crate::compat::junction::parse(rest, env),
        Dialect::Knot => {}
    }
    // `knot compat FRONT ARGS...`: every word of ARGS is the front end's. Through clap, a
    // `-q` among them would be taken as knot's own global `-q` and never reach junction.
    if let [_, compat, front, rest @ ..] = args.as_slice()
        && compat == "compat"
    {
        match front.to_str() {
            Some("mklink") => return crate::compat::mklink::parse(rest, env),
            Some("junction") => return crate::compat::junction::parse(rest, env),
            _ => {}
        }
    }
    let mut clap_cli = Cli::<Commands>::command().color(color_in(&args).into());
    let cli = clap_cli
        .try_get_matches_from_mut(&args)
        .and_then(|matches| Cli::<Commands>::from_arg_matches(&matches))
        .map_err(|err| {
            after_clap(
                &err.format(&mut clap_cli),
                Messages {
                    quiet: false,
                    errors: ErrorMessages::Shown,
                    program: program.name,
                },
            )
        })?;
    let create = |paths: LinkArgs, ty, options, change: ChangeArgs| Command::Create {
        link: paths.link,
        target: paths.target,
        ty,
        options,
        mode: change.mode(),
        format: change.format(),
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
            change,
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
                ..Default::default()
            };
            create(paths, LinkType::Symlink, options, change)
        }
        Commands::Junction {
            paths,
            drive,
            force,
            change,
        } => create(
            paths,
            LinkType::Junction,
            CreateOptions {
                replace: replace(force),
                drive: drive.drive,
                ..Default::default()
            },
            change,
        ),
        Commands::Hardlink {
            paths,
            force,
            change,
        } => create(
            paths,
            LinkType::Hardlink,
            CreateOptions {
                replace: replace(force),
                ..Default::default()
            },
            change,
        ),
        Commands::Link {
            paths,
            force,
            change,
        } => create(
            paths,
            LinkType::Best,
            CreateOptions {
                replace: replace(force),
                ..Default::default()
            },
            change,
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
        Commands::Du(args) => Command::Du(args.into_settings()),
        Commands::Completions { shell } => Command::Completions(shell),
        Commands::Man { dir } => Command::Man { dir },
        Commands::Retarget {
            link,
            target,
            drive,
            change,
        } => {
            let mut options = RetargetOptions::default();
            options.mode = change.mode();
            options.drive = drive;
            Command::Retarget {
                link,
                target,
                options,
                format: change.format(),
            }
        }
        Commands::Convert {
            paths,
            relative,
            absolute,
            to_symlink,
            recursive,
            drive,
            change,
            ..
        } => {
            let to = if relative {
                ConvertTo::Relative
            } else if absolute {
                ConvertTo::Absolute
            } else if to_symlink {
                ConvertTo::Symlink
            } else {
                ConvertTo::Junction
            };
            let mut options = ConvertOptions::default();
            options.mode = change.mode();
            options.drive = drive;
            Command::Convert {
                paths,
                to,
                recursive,
                options,
                format: change.format(),
            }
        }
        Commands::Fix(args) => Command::Fix(args.into_settings()),
        Commands::Hardlinks(args) => Command::Hardlinks(args.into_settings()),
        Commands::Apply(args) => Command::Apply(args.into_settings()),
        Commands::Compat { front_end, args } => {
            return match front_end {
                FrontEnd::Mklink => crate::compat::mklink::parse(&args, env),
                FrontEnd::Junction => crate::compat::junction::parse(&args, env),
            };
        }
    };
    Ok(Settings {
        command,
        quiet: cli.quiet,
        program,
        args: args.into_iter().skip(1).collect(),
        terminal: Terminal::of(env, cli.color),
        errors: ErrorMessages::Shown,
        banner: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PIPED: Environment = Environment {
        stdout_terminal: false,
        stderr_terminal: false,
        no_color: false,
    };

    #[test]
    fn the_dialect_comes_from_the_name_the_binary_was_run_under() {
        for (argv0, dialect) in [
            ("knot", Dialect::Knot),
            ("/usr/local/bin/knot", Dialect::Knot),
            ("knot.exe", Dialect::Knot),
            ("mklink", Dialect::Mklink),
            ("./MKLINK.EXE", Dialect::Mklink),
            ("mklink.exe", Dialect::Mklink),
            ("junction", Dialect::Junction),
            ("/opt/Junction.exe", Dialect::Junction),
            ("junction64", Dialect::Knot),
            ("my-mklink", Dialect::Knot),
            ("", Dialect::Knot),
        ] {
            assert_eq!(Dialect::from_argv0(argv0.as_ref()), dialect, "{argv0}");
        }
    }

    #[test]
    fn each_name_is_its_own_program() {
        for (argv0, program) in [
            ("knot", Program::KNOT),
            ("MkLink.EXE", Program::MKLINK),
            ("junction.exe", Program::JUNCTION),
        ] {
            assert_eq!(Program::from_argv0(argv0.as_ref()), program);
        }
    }

    #[test]
    fn colour_only_on_a_terminal_and_never_with_no_color() {
        for (stdout_terminal, no_color, color) in [
            (false, false, false),
            (false, true, false),
            (true, false, true),
            (true, true, false),
        ] {
            let env = Environment {
                stdout_terminal,
                no_color,
                ..PIPED
            };
            assert_eq!(Terminal::of(env, Color::Auto).color, color, "{env:?}");
        }
        let env = Environment {
            stderr_terminal: true,
            ..PIPED
        };
        assert_eq!(
            Terminal::of(env, Color::Auto),
            Terminal {
                stdout: false,
                stderr: true,
                color: false
            }
        );
    }

    /// `--color always` colours into a pipe and wins over NO_COLOR (as in fd and ripgrep);
    /// `--color never` never colours, not even on a terminal (issue 12).
    #[test]
    fn always_and_never_override_the_terminal_and_no_color() {
        for stdout_terminal in [false, true] {
            for no_color in [false, true] {
                let env = Environment {
                    stdout_terminal,
                    no_color,
                    ..PIPED
                };
                assert!(Terminal::of(env, Color::Always).color, "{env:?}");
                assert!(!Terminal::of(env, Color::Never).color, "{env:?}");
                let terminal = Terminal::of(env, Color::Never);
                assert_eq!((terminal.stdout, terminal.stderr), (stdout_terminal, false));
            }
        }
    }

    /// The `--color` of a command line decides the colour of its records (issue 12).
    #[test]
    fn the_color_option_reaches_the_settings() {
        let tty = Environment {
            stdout_terminal: true,
            ..PIPED
        };
        let no_color = Environment {
            no_color: true,
            ..PIPED
        };
        for (args, env, color) in [
            (&["knot", "scan"][..], tty, true),
            (&["knot", "scan"], PIPED, false),
            (&["knot", "--color=always", "scan"], no_color, true),
            (&["knot", "scan", "--color", "always"], PIPED, true),
            (&["knot", "scan", "--color=never"], tty, false),
            (
                &["knot", "--color=never", "scan", "--color=auto"],
                tty,
                true,
            ),
        ] {
            let settings = parse(args.iter().map(OsString::from), env).unwrap();
            assert_eq!(settings.terminal.color, color, "{args:?} {env:?}");
        }
    }

    /// clap's own help and errors follow the same `--color`, read before clap parses.
    #[test]
    fn the_color_is_read_before_parsing_for_clap_s_own_output() {
        for (args, color) in [
            (&["knot"][..], Color::Auto),
            (&["knot", "--color=always", "--help"], Color::Always),
            (&["knot", "scan", "--color", "never", "frob"], Color::Never),
            (&["knot", "--color=never", "--color=always"], Color::Always),
            (&["knot", "--color=purple"], Color::Auto),
            (&["knot", "show", "--", "--color=never"], Color::Auto),
        ] {
            let args: Vec<OsString> = args.iter().map(OsString::from).collect();
            assert_eq!(color_in(&args), color, "{args:?}");
        }
    }

    #[test]
    fn settings_hold_the_program_its_arguments_and_the_terminals() {
        let args = ["knot", "-q", "symlink", "l", "t"].map(OsString::from);
        let env = Environment {
            stdout_terminal: true,
            ..PIPED
        };
        let settings = parse(args.clone(), env).unwrap();
        assert_eq!(settings.program, Program::KNOT);
        assert_eq!(settings.args, args[1..]);
        assert!(settings.quiet);
        assert_eq!(settings.terminal, Terminal::of(env, Color::Auto));
        let messages = settings.messages();
        assert!(messages.quiet);
        assert_eq!(messages.program, "knot");
        assert!(matches!(
            settings.command,
            Command::Create {
                ty: LinkType::Symlink,
                ..
            }
        ));
    }

    /// A usage error is returned as exit 2, not exited on from inside the parser.
    #[test]
    fn a_usage_error_is_exit_2() {
        let args = ["knot", "frobnicate"].map(OsString::from);
        assert_eq!(parse(args, PIPED).unwrap_err(), Exit::Usage);
    }
}
