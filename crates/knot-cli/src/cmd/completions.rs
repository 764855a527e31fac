//! `knot completions SHELL`: the script, generated from knot's clap definition
//! ([`super::command`]), never written by hand, so it cannot drift from the parser.

use clap::Args;

use crate::args::Format;
use crate::cmd::{Decide, Run};
use crate::context::Context;
use crate::exit::Exit;
use crate::report::{Messages, Printer};

/// The name the script completes.
const BIN: &str = "knot";

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, powershell or elvish.
    #[arg(value_enum, value_name = "SHELL")]
    shell: clap_complete::Shell,
}

impl Decide for CompletionsArgs {
    type Settings = CompletionsArgs;
    fn decide(self) -> CompletionsArgs {
        self
    }
}

/// `knot completions SHELL`: the script on standard output.
impl Run for CompletionsArgs {
    fn run(&self, context: &Context) -> Exit {
        let (shell, messages) = (self.shell, Messages::of(context));
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut super::command(), BIN, &mut script);
        let mut printer = Printer::new(Format::Human, messages);
        // A lost output was reported where it happened; the exit code comes from main.
        let _ = printer.text(&String::from_utf8_lossy(&script));
        Exit::Success
    }
}
