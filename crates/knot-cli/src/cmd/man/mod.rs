//! `knot man`: the page generated from knot's clap definition ([`super::command`]), never
//! written by hand, so it cannot drift from the parser.
//!
//! The man page a packager installs is one page, `knot.1`: the program's synopsis,
//! description and global options, then a COMMANDS section with each command's synopsis,
//! description and options (the layout of rsync(1) or ip(8), one page to install and to
//! search). `--dir` also writes a page per command (`knot-scan.1`, as git and cargo ship
//! them) for packagers who want `man knot-scan` to work, each one written beside its name
//! and renamed into place, never through an entry someone planted there (`pages`).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;

mod pages;

use crate::args::{Format, path_arg};
use crate::cmd::{Decide, Run};
use crate::context::Context;
use crate::exit::Exit;
use crate::report::{Messages, Printer, escape, quote, shell_word};
use pages::{InTheWay, PageDir, PageError};

#[derive(Args, Debug)]
pub struct ManArgs {
    /// Write knot.1 and knot-COMMAND.1 into this existing directory, replacing regular
    /// files of those names; a link, directory or special file of such a name is left
    /// alone and is an error (nothing is ever written through it).
    #[arg(long, value_name = "DIR", value_parser = path_arg())]
    dir: Option<PathBuf>,
}

impl Decide for ManArgs {
    type Settings = ManArgs;
    fn decide(self) -> ManArgs {
        self
    }
}

impl Run for ManArgs {
    fn run(&self, context: &Context) -> Exit {
        man(self.dir.as_deref(), Messages::of(context))
    }
}

/// The name the pages are titled with.
const BIN: &str = "knot";

/// `knot man [--dir DIR]`: the page on standard output, or every page written into DIR.
fn man(dir: Option<&Path>, messages: Messages) -> Exit {
    let root = built();
    let Some(dir) = dir else {
        let mut printer = Printer::new(Format::Human, messages);
        let _ = printer.text(&page(&root));
        return Exit::Success;
    };
    let mut pages = vec![(format!("{BIN}.1"), page(&root))];
    for cmd in commands(&root) {
        // clap_mangen names the source after the command (`reparse 0.1.0`): it is knot.
        let man = clap_mangen::Man::new(cmd.clone())
            .source(format!("{BIN} {}", env!("CARGO_PKG_VERSION")));
        let mut roff = Vec::new();
        // Rendering into memory cannot fail.
        let _ = man.render(&mut roff);
        let text = String::from_utf8_lossy(&roff);
        pages.push((man.get_filename(), with_synopsis(&text, cmd)));
    }
    let mut printer = Printer::new(Format::Human, messages);
    let writable_hint = || {
        messages.hint(&format!(
            "--dir names a directory that exists and can be written; create it first \
             (mkdir -p {})",
            quote(dir.as_os_str())
        ));
    };
    let held = match PageDir::open(dir) {
        Ok(held) => held,
        Err(err) => {
            messages.error(&format!(
                "cannot write the man pages into {}: {err}",
                quote(dir.as_os_str())
            ));
            writable_hint();
            return Exit::Failure;
        }
    };
    let mut exit = Exit::Success;
    for (name, text) in pages {
        let path = dir.join(&name);
        match held.write(std::ffi::OsStr::new(&name), text.as_bytes()) {
            // A list of paths, one per line, as `ls` prints them: not quoted as in a
            // message, escaped where a character would drive the terminal.
            Ok(()) => {
                let _ = printer.line(&escape(path.as_os_str()));
            }
            // Left as it is; the other pages are still written.
            Err(PageError::InTheWay(found)) => {
                let _ = printer.flush();
                messages.error(&format!(
                    "cannot write {}: {} is in the way",
                    quote(path.as_os_str()),
                    found.name()
                ));
                let remove = match found {
                    InTheWay::Symlink => format!("{BIN} rm"),
                    InTheWay::Dir => "rmdir".to_owned(),
                    InTheWay::Special(_) => "rm".to_owned(),
                };
                messages.hint(&format!(
                    "remove it ({remove} {}) or choose another directory",
                    shell_word(path.as_os_str())
                ));
                exit = Exit::Failure;
            }
            Err(PageError::Io(err)) => {
                let _ = printer.flush();
                messages.error(&format!(
                    "cannot write the man page {}: {err}",
                    quote(path.as_os_str())
                ));
                writable_hint();
                return Exit::Failure;
            }
        }
    }
    exit
}

/// knot's command, built (every subcommand knows its full name, `knot reparse decode`),
/// without clap's `help` subcommand, which is `--help` by another name.
fn built() -> clap::Command {
    let mut root = super::command().disable_help_subcommand(true);
    root.build();
    root
}

/// Every command below `root`, depth first, parents before their subcommands.
fn commands(root: &clap::Command) -> Vec<&clap::Command> {
    let mut all = Vec::new();
    for cmd in root.get_subcommands().filter(|c| !c.is_hide_set()) {
        all.push(cmd);
        all.extend(commands(cmd));
    }
    all
}

/// The single page: knot's own sections, then COMMANDS with a subsection per command.
fn page(root: &clap::Command) -> String {
    let man = clap_mangen::Man::new(root.clone());
    let mut out = Vec::new();
    // Writing into memory cannot fail.
    let _ = man.render_title(&mut out);
    let _ = man.render_name_section(&mut out);
    let _ = writeln!(out, ".SH SYNOPSIS\n{}", synopsis(root));
    let _ = man.render_description_section(&mut out);
    let _ = man.render_options_section(&mut out);
    let _ = writeln!(out, ".SH COMMANDS");
    for cmd in commands(root) {
        let own = own_options(cmd);
        let has_options = own.get_arguments().any(|a| !a.is_hide_set());
        let man = clap_mangen::Man::new(own);
        let name = cmd.get_bin_name().unwrap_or(cmd.get_name());
        let _ = writeln!(out, ".SS \"{name}\"");
        let mut part = Vec::new();
        let _ = writeln!(part, ".SH SYNOPSIS\n{}", synopsis(&own_options(cmd)));
        let _ = man.render_description_section(&mut part);
        if has_options {
            let _ = man.render_options_section(&mut part);
        }
        out.extend(inside_subsection(&String::from_utf8_lossy(&part)).bytes());
    }
    out.extend(SECTIONS.bytes());
    let _ = man.render_version_section(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    once_preamble(&text)
}

/// The sections of the single page that clap has nothing for, in roff: EXIT STATUS,
/// ENVIRONMENT and EXAMPLES (man-pages(7) order).
const SECTIONS: &str = r#".SH "EXIT STATUS"
.TP
.B 0
Done.
.TP
.B 1
An operation failed, a record or line could not be read, or something below a directory
could not be read; each is printed, and the rest is done.
.TP
.B 2
A usage error: nothing was done.
.TP
.B 3
.B knot scan \-\-check
found links that match.
.SH ENVIRONMENT
.TP
.B NO_COLOR
Set to anything but the empty string,
.B \-\-color auto
(the default) does not colour.
.SH EXAMPLES
.PP
Make a symbolic link, then see what it is and where it leads:
.PP
.RS
.nf
knot symlink current releases/1.4
knot show current
.fi
.RE
.PP
Find the links under a tree that lead nowhere, then remove them:
.PP
.RS
.nf
knot scan \-\-broken ~/src
knot fix ~/src \-\-broken \-\-delete \-\-dry\-run
knot fix ~/src \-\-broken \-\-delete
.fi
.RE
.PP
Move every link into /data to /srv/data:
.PP
.RS
.nf
knot fix ~/src \-\-replace /data=/srv/data
.fi
.RE
.PP
Write a tree's links out, and make them again below another root:
.PP
.RS
.nf
cd tree && knot scan \-\-json . > ../links.jsonl
knot apply ../links.jsonl \-\-root ../copy
.fi
.RE
.PP
Copy a tree with its links, then keep the copy in step with it (what the tree no longer
has is removed from the copy; a second run of an unchanged tree changes nothing):
.PP
.RS
.nf
knot copy project backup/project
knot copy \-\-mirror project backup/project
.fi
.RE
.PP
The true size of a tree, every file counted once, every name of a file, and the hard\-link
groups of a project and its package store together:
.PP
.RS
.nf
knot du node_modules
knot hardlinks node_modules/.pnpm/x/index.js \-\-within node_modules
knot hardlinks \-\-groups proj \-\-groups ~/.local/share/pnpm/store
.fi
.RE
.PP
Remove a link, never what it leads to:
.PP
.RS
.nf
knot rm current
.fi
.RE
"#;

/// `cmd` with only its own options shown: the global ones (`--quiet`, `--color`) and
/// `--help` and `--version` are on the page once, under knot's OPTIONS.
fn own_options(cmd: &clap::Command) -> clap::Command {
    cmd.clone().mut_args(|arg| {
        let shared = arg.is_global_set() || ["help", "version"].contains(&arg.get_id().as_str());
        arg.hide(shared)
    })
}

/// A command's sections, to sit inside its `.SS` subsection: man pages nest no deeper, so
/// each section heading (SYNOPSIS, DESCRIPTION, OPTIONS) becomes a paragraph break.
fn inside_subsection(roff: &str) -> String {
    roff.lines()
        .map(|line| {
            if line.starts_with(".SH ") {
                ".PP"
            } else {
                line
            }
        })
        .fold(String::new(), |mut all, line| {
            all.push_str(line);
            all.push('\n');
            all
        })
}

/// The roff crate starts every rendered piece with the same two-line definition of an
/// apostrophe string; a page needs it once, at the top.
fn once_preamble(text: &str) -> String {
    const PREAMBLE: [&str; 2] = [r".ie \n(.g .ds Aq \(aq", r".el .ds Aq '"];
    let mut out = format!("{}\n{}\n", PREAMBLE[0], PREAMBLE[1]);
    for line in text.lines().filter(|line| !PREAMBLE.contains(line)) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// `cmd`'s synopsis line in roff: its name, its options as clap_mangen writes them but
/// each with its value (`[--threads N]`, which clap_mangen writes `[--threads]`), then its
/// arguments, hidden ones left out.
fn synopsis(cmd: &clap::Command) -> String {
    let roff = |text: &str| text.replace('\\', "\\e").replace('-', "\\-");
    let value = |arg: &clap::Arg| {
        let names: Vec<String> = match arg.get_value_names() {
            Some(names) => names.iter().map(|n| roff(n.as_str())).collect(),
            None => vec![roff(&arg.get_id().as_str().to_uppercase())],
        };
        let many = arg.get_num_args().is_some_and(|n| n.max_values() > 1);
        format!(
            "\\fI{}\\fR{}",
            names.join(" "),
            if many { "..." } else { "" }
        )
    };
    let name = cmd.get_bin_name().unwrap_or(cmd.get_name());
    let mut line = format!("\\fB{}\\fR", roff(name));
    let shown = || cmd.get_arguments().filter(|arg| !arg.is_hide_set());
    for arg in shown().filter(|arg| !arg.is_positional()) {
        let mut names = Vec::new();
        if let Some(short) = arg.get_short() {
            names.push(format!("\\fB\\-{short}\\fR"));
        }
        if let Some(long) = arg.get_long() {
            names.push(format!("\\fB\\-\\-{}\\fR", roff(long)));
        }
        let mut part = names.join("|");
        if arg.get_action().takes_values() {
            part.push(' ');
            part.push_str(&value(arg));
        }
        line.push(' ');
        line.push_str(&if arg.is_required_set() {
            part
        } else {
            format!("[{part}]")
        });
    }
    for arg in shown().filter(|arg| arg.is_positional()) {
        let part = value(arg);
        line.push(' ');
        line.push_str(&if arg.is_required_set() {
            part
        } else {
            format!("[{part}]")
        });
    }
    if cmd.has_subcommands() {
        line.push_str(" <\\fIsubcommands\\fR>");
    }
    line
}

/// A page clap_mangen rendered, with [`synopsis`] for the line it wrote after `.SH
/// SYNOPSIS`.
fn with_synopsis(page: &str, cmd: &clap::Command) -> String {
    let mut out = String::new();
    let mut next_is_synopsis = false;
    for line in page.lines() {
        if next_is_synopsis {
            out.push_str(&synopsis(cmd));
            next_is_synopsis = false;
        } else {
            next_is_synopsis = line == ".SH SYNOPSIS";
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_has_one_title_one_preamble_and_every_command() {
        let text = page(&built());
        assert_eq!(text.matches(".TH ").count(), 1, "{text}");
        assert!(text.starts_with(".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n.TH knot 1 "));
        assert_eq!(text.matches(".ds Aq").count(), 2);
        for name in [
            "knot symlink",
            "knot junction",
            "knot hardlink",
            "knot link",
            "knot show",
            "knot rm",
            "knot retarget",
            "knot convert",
            "knot scan",
            "knot du",
            "knot fix",
            "knot hardlinks",
            "knot apply",
            "knot copy",
            "knot move",
            "knot git-links",
            "knot compat",
            "knot reparse",
            "knot reparse decode",
            "knot completions",
            "knot man",
        ] {
            assert_eq!(
                text.matches(&format!(".SS \"{name}\"\n")).count(),
                1,
                "{name}"
            );
        }
        assert!(!text.contains(".SS \"knot help\""));
    }

    #[test]
    fn every_command_has_a_page_of_its_own() {
        let root = built();
        let names: Vec<String> = commands(&root)
            .into_iter()
            .map(|cmd| clap_mangen::Man::new(cmd.clone()).get_filename())
            .collect();
        assert_eq!(
            names,
            [
                "knot-symlink.1",
                "knot-junction.1",
                "knot-hardlink.1",
                "knot-link.1",
                "knot-show.1",
                "knot-rm.1",
                "knot-retarget.1",
                "knot-convert.1",
                "knot-scan.1",
                "knot-du.1",
                "knot-fix.1",
                "knot-hardlinks.1",
                "knot-apply.1",
                "knot-copy.1",
                "knot-snapshot.1",
                "knot-materialize.1",
                "knot-move.1",
                "knot-git-links.1",
                "knot-compat.1",
                "knot-reparse.1",
                "knot-reparse-decode.1",
                "knot-completions.1",
                "knot-man.1",
            ]
        );
    }
}
