//! knot's own commands: the parser, and the one list of commands. Each command lives in
//! its own module, which owns its arguments (a clap `Args` struct), its settings (what the
//! arguments decide, [`Decide`]) and its run and output ([`Run`]). The command line becomes
//! one immutable [`Settings`] (STYLE.md point 9); nothing here touches the file system.
//!
//! Adding a command is its module, and one entry in `commands!` below.

use std::ffi::OsString;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

use crate::context::{Color, Context, Environment, ErrorMessages, Program, Terminal, color_in};
use crate::exit::Exit;
use crate::report::Messages;

pub mod apply;
pub mod compat;
pub mod completions;
pub mod convert;
pub mod copy;
pub mod create;
pub mod du;
pub mod fix;
pub mod git_links;
pub mod hardlinks;
pub mod man;
pub mod materialize;
pub mod r#move;
pub mod reparse;
pub mod retarget;
pub mod rm;
pub mod scan;
pub mod show;
pub mod snapshot;

/// The heading of the options every command takes, apart from each command's own: in
/// every command's help they come last, under it, not among the command's options.
const GLOBAL: &str = "Global options";

#[derive(Parser, Debug)]
#[command(
    name = "knot",
    version,
    about = "Create, inspect, find, repair and remove junctions, symbolic links and hard links, \
             safely.",
    long_about = "Create, inspect, find, repair and remove junctions, symbolic links and hard \
                  links, safely.\n\n\
        Commands that create take the LINK first, then the TARGET, like mklink.\n\
        Exit codes: 0 success, 1 an operation failed, 2 usage error, 3 `scan --check` found \
        matching links (`git-links --check`: placeholders).\n\n\
        Colour: --color auto (the default) colours output only when standard output is a \
        terminal and NO_COLOR is not set to a non-empty value; always colours even into a \
        pipe or with NO_COLOR set; never does not colour.",
    propagate_version = true
)]
struct Cli<C: Subcommand> {
    /// Silence notes (errors are still printed).
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    quiet: bool,

    /// When to colour output and help: auto (on a terminal, unless NO_COLOR is set),
    /// always (even into a pipe, and with NO_COLOR set) or never.
    #[arg(
        long,
        global = true,
        help_heading = GLOBAL,
        value_enum,
        value_name = "WHEN",
        default_value_t = Color::Auto,
        hide_possible_values = true
    )]
    color: Color,

    #[command(subcommand)]
    command: C,
}

/// What a command's arguments decide: its settings, which carry everything its run needs.
pub trait Decide {
    type Settings: Run + std::fmt::Debug;
    fn decide(self) -> Self::Settings;
    /// Why these arguments cannot go together, where clap's own rules cannot say it (a
    /// value of one with another): a usage error, exit 2.
    fn conflict(&self) -> Option<String> {
        None
    }
}

/// A command's run: the work, its output, and the exit it ends with.
pub trait Run {
    fn run(&self, context: &Context) -> Exit;
}

/// Declares knot's commands once and derives them twice: [`Commands`], which the parser
/// uses, builds a command's arguments only when that command runs (clap's `defer`), and
/// [`EagerCommands`], for the completion scripts and the man page, builds them all at once.
/// It also derives [`Command`], the commands as decided, and the dispatch to each one's
/// [`Decide`] and [`Run`].
///
/// Building every command for every run was most of knot's own work in one `knot symlink`
/// (DESIGN.md section 7: at most 1.2x of `ln -s`). The scripts and the page need the eager
/// form: a deferred command gets clap's global options (`--quiet`, `--color`) before its
/// own arguments, so the scripts would offer them first, and the `help` command's copy of
/// `reparse` would lack `decode`. Help and usage errors read the same either way.
///
/// A command's description lives on its entry. The `Args` structs the commands take
/// their arguments from have no doc comments: clap would read one as the command's
/// description when it builds a deferred command, after the entry's.
macro_rules! commands {
    ($($(#[$meta:meta])* $name:ident($args:ty),)*) => {
        /// knot's commands, as the parser builds them: each one only when it runs.
        #[derive(Subcommand, Debug)]
        #[command(defer = true)]
        enum Commands { $($(#[$meta])* $name($args),)* }

        /// knot's commands, every one built at once: see `commands!`.
        #[derive(Subcommand)]
        #[allow(dead_code, reason = "only its clap definition is used; nothing is parsed into it")]
        enum EagerCommands { $($(#[$meta])* $name($args),)* }

        /// One command, fully decided.
        #[derive(Debug)]
        pub enum Command { $($name(<$args as Decide>::Settings),)* }

        impl Commands {
            fn decide(self) -> Command {
                match self { $(Commands::$name(args) => Command::$name(args.decide()),)* }
            }

            fn conflict(&self) -> Option<String> {
                match self { $(Commands::$name(args) => args.conflict(),)* }
            }
        }

        impl Command {
            /// Runs the command.
            pub fn run(&self, context: &Context) -> Exit {
                match self { $(Command::$name(settings) => settings.run(context),)* }
            }
        }
    };
}

commands! {
    /// Create a symbolic link LINK that points at TARGET.
    ///
    /// TARGET is stored exactly as given (like `ln -s` and `mklink`), so a relative TARGET
    /// is relative to LINK's directory, not to the current one; with --relative or
    /// --absolute, TARGET is read from the current directory instead (like `ln -sr`).
    Symlink(create::SymlinkArgs),
    /// Create a junction LINK to the directory TARGET (on Unix: an absolute directory
    /// symlink; on an NTFS volume mounted with ntfs-3g: a real junction).
    ///
    /// A relative TARGET is read from the current directory, as `mklink /J` and
    /// junction.exe read it, and stored as an absolute path.
    Junction(create::JunctionArgs),
    /// Create a hard link LINK to the file TARGET.
    ///
    /// A relative TARGET is read from the current directory, as `ln` and `mklink /H` read
    /// it.
    Hardlink(create::HardlinkArgs),
    /// Create the best link this platform allows for TARGET, and say which.
    ///
    /// TARGET is read as a symlink reads it: a relative TARGET is relative to LINK's
    /// directory.
    Link(create::BestArgs),
    /// Show what each PATH is: its kind, target, resolved path and status.
    Show(show::ShowArgs),
    /// Remove links; never a regular file or directory, never what a link points at.
    /// --tree removes directory trees, every link inside as a link.
    #[command(long_about = rm::LONG_ABOUT)]
    Rm(rm::RmArgs),
    /// Give the link LINK a new target, keeping its kind (a junction stays a junction)
    /// and flavour.
    ///
    /// NEW_TARGET is stored as given: a relative one is relative to LINK's directory. The
    /// change is atomic: on Linux the new link is made beside LINK and swapped in; a
    /// junction on Windows, and any link on an NTFS volume mounted with ntfs-3g, has its
    /// reparse point rewritten in place.
    Retarget(retarget::RetargetArgs),
    /// Rewrite links between relative and absolute targets, or between junctions and
    /// directory symlinks, or from Cygwin's and WSL's forms into NT links, keeping what
    /// they lead to.
    #[command(long_about = convert::LONG_ABOUT)]
    Convert(convert::ConvertArgs),
    /// List every link under DIR... (default: the current directory), one record each.
    #[command(long_about = scan::LONG_ABOUT)]
    Scan(scan::ScanArgs),
    /// The true size of DIR...: every file counted once however many names it has, by
    /// kind, with hard-link groups and what removing it would free.
    // -h is --human, as in du: help is --help alone.
    #[command(long_about = du::LONG_ABOUT, disable_help_flag = true)]
    Du(du::DuArgs),
    /// Repair the links under DIR: --replace OLD=NEW retargets those whose target starts
    /// with OLD; --broken --delete removes those that dangle.
    #[command(long_about = fix::LONG_ABOUT)]
    Fix(fix::FixArgs),
    /// List every name (hard link) of each FILE, or with --groups every hard-link group
    /// inside DIR.
    #[command(
        long_about = hardlinks::LONG_ABOUT,
        override_usage = "knot hardlinks [OPTIONS] <FILE>...\n       knot hardlinks [OPTIONS] --groups <DIR>"
    )]
    Hardlinks(hardlinks::HardlinksArgs),
    /// Make the links a manifest lists (the JSON Lines of `knot scan --json`) below a root.
    #[command(long_about = apply::LONG_ABOUT)]
    Apply(apply::ApplyArgs),
    /// Copy the directory SRC to DST, keeping its links: inner links lead inside DST,
    /// hard-link groups stay groups.
    #[command(long_about = copy::LONG_ABOUT)]
    Copy(copy::CopyArgs),
    /// Copy the directory SRC to NEW, making files unchanged since the copy OLD
    /// (--previous) hard links to its files: an incremental backup.
    #[command(long_about = snapshot::LONG_ABOUT)]
    Snapshot(snapshot::SnapshotArgs),
    /// Replace each LINK with a copy of what it leads to (a hard link: give this name a
    /// file of its own); --recursive does every link below a directory.
    #[command(long_about = materialize::LONG_ABOUT)]
    Materialize(materialize::MaterializeArgs),
    /// Move the directory DIR to NEW and leave a link (a junction, a symlink) at DIR; with
    /// --back LINK, move the data back to LINK's place and remove the link.
    #[command(
        long_about = r#move::LONG_ABOUT,
        override_usage = "knot move [OPTIONS] <DIR> <NEW>\n       knot move [OPTIONS] --back <LINK>"
    )]
    Move(r#move::MoveArgs),
    /// Find a Git repository's symlinks checked out as placeholder files
    /// (core.symlinks=false), and make them real links.
    #[command(
        name = "git-links",
        long_about = git_links::LONG_ABOUT,
        override_usage = "knot git-links [REPO] (--check | --fix) [--fallback KIND,...] [--dry-run] [--json]"
    )]
    GitLinks(git_links::GitLinksArgs),
    /// Run a drop-in front end: `knot compat mklink ARGS` is `mklink ARGS`, and
    /// `knot compat junction ARGS` is Sysinternals' `junction ARGS`, with their syntax
    /// and messages (the same as running knot under the name `mklink` or `junction`).
    Compat(compat::CompatArgs),
    /// Work with raw reparse-point buffers.
    Reparse(reparse::ReparseArgs),
    /// Print a completion script for SHELL on standard output.
    ///
    /// The script completes knot's commands and options; the README says where each
    /// shell looks for it (bash: ~/.local/share/bash-completion/completions/knot).
    Completions(completions::CompletionsArgs),
    /// Print knot's man page (roff), with a section for every command.
    ///
    /// `knot man > knot.1` is a complete page. With --dir, knot.1 (the same page) and a
    /// page of its own for each command (knot-scan.1, knot-reparse-decode.1, ...) are
    /// written into DIR, and their paths printed.
    Man(man::ManArgs),
}

/// knot's clap definition, every command in it, for the completion scripts and the man page.
pub fn command() -> clap::Command {
    Cli::<EagerCommands>::command()
}

/// A run of knot's own commands, fully decided: the command and its context.
#[derive(Debug)]
pub struct Settings {
    pub command: Command,
    pub context: Context,
}

/// Parses knot's own command line (`args` with the program's name first) into
/// [`Settings`]. On a usage error, or for `--help` and `--version`, clap's text is printed
/// and the run ends with the [`Exit`] returned.
pub fn parse(args: Vec<OsString>, program: Program, env: Environment) -> Result<Settings, Exit> {
    let mut clap_cli = Cli::<Commands>::command().color(color_in(&args).into());
    let cli = clap_cli
        .try_get_matches_from_mut(&args)
        .and_then(|matches| Cli::<Commands>::from_arg_matches(&matches))
        .and_then(|cli| match cli.command.conflict() {
            Some(why) => Err(clap::Error::raw(
                clap::error::ErrorKind::ArgumentConflict,
                why,
            )),
            None => Ok(cli),
        })
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
    Ok(Settings {
        command: cli.command.decide(),
        context: Context {
            quiet: cli.quiet,
            program,
            args: args.into_iter().skip(1).collect(),
            terminal: Terminal::of(env, cli.color),
            errors: ErrorMessages::Shown,
            banner: None,
        },
    })
}

/// Prints clap's usage error (exit 2) or the `--help` / `--version` text (exit 0), and
/// says how the run ends. Help that cannot be written (a full disk, not a closed pipe) is
/// an error, exit 1, as for any other output; a usage error exits 2 whether or not its
/// message got out.
/// The image root `--root` gives, held open; `Err` (reported) where it cannot be.
fn open_image(
    arg: &crate::args::ImageRootArg,
    context: &Context,
) -> Result<Option<std::sync::Arc<knot::ImageRoot>>, Exit> {
    let Some(dir) = arg.dir() else {
        return Ok(None);
    };
    match knot::ImageRoot::open(dir) {
        Ok(root) => Ok(Some(std::sync::Arc::new(root))),
        Err(err) => {
            crate::report::error::fail(&err, context);
            Err(Exit::Failure)
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    const PIPED: Environment = Environment::PIPED;

    /// The `--color` of a command line decides the colour of its records.
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
            let settings = parse(
                args.iter().map(OsString::from).collect(),
                Program::KNOT,
                env,
            )
            .unwrap();
            assert_eq!(settings.context.terminal.color, color, "{args:?} {env:?}");
        }
    }

    #[test]
    fn settings_hold_the_program_its_arguments_and_the_terminals() {
        let args = ["knot", "-q", "symlink", "l", "t"].map(OsString::from);
        let env = Environment {
            stdout_terminal: true,
            ..PIPED
        };
        let settings = parse(args.to_vec(), Program::KNOT, env).unwrap();
        assert_eq!(settings.context.program, Program::KNOT);
        assert_eq!(settings.context.args, args[1..]);
        assert!(settings.context.quiet);
        assert_eq!(settings.context.terminal, Terminal::of(env, Color::Auto));
        let messages = Messages::of(&settings.context);
        assert!(messages.quiet);
        assert_eq!(messages.program, "knot");
        assert!(matches!(
            settings.command,
            Command::Symlink(create::CreateSettings {
                ty: knot::LinkType::Symlink,
                ..
            })
        ));
    }

    /// A usage error is returned as exit 2, not exited on from inside the parser.
    #[test]
    fn a_usage_error_is_exit_2() {
        let args = ["knot", "frobnicate"].map(OsString::from);
        assert_eq!(
            parse(args.to_vec(), Program::KNOT, PIPED).unwrap_err(),
            Exit::Usage
        );
    }

    /// `--threads` follows one rule in every command that takes it: at least one thread
    /// (none given is one per core), so `--threads 0` is a usage error everywhere.
    #[test]
    fn threads_zero_is_a_usage_error_in_every_command() {
        for command in [
            &["scan"][..],
            &["du"],
            &["fix", "d", "--broken", "--delete"],
            &["hardlinks", "f"],
            &["apply", "m"],
        ] {
            let mut args = vec!["knot"];
            args.extend_from_slice(command);
            args.extend(["--threads", "0"]);
            let args: Vec<OsString> = args.into_iter().map(OsString::from).collect();
            assert_eq!(
                parse(args.clone(), Program::KNOT, PIPED).unwrap_err(),
                Exit::Usage,
                "{command:?}"
            );
            let one = args
                .iter()
                .map(|a| if a == "0" { "1".into() } else { a.clone() });
            assert!(
                parse(one.collect(), Program::KNOT, PIPED).is_ok(),
                "{command:?}"
            );
        }
    }
}
