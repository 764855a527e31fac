//! `knot reparse decode [FILE]`: the fields of a raw reparse buffer
//! ([`crate::report::reparse`] lays them out).

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use crate::args::{Format, path_arg};
use crate::cmd::{Decide, Run};
use crate::context::Context;
use crate::exit::Exit;
use crate::report::{Messages, Printer, quote, reparse};

#[derive(Args, Debug)]
pub struct ReparseArgs {
    #[command(subcommand)]
    command: ReparseCommand,
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

/// `knot reparse decode`, fully decided.
#[derive(Debug)]
pub struct DecodeSettings {
    input: Option<PathBuf>,
    json: bool,
}

impl Decide for ReparseArgs {
    type Settings = DecodeSettings;
    fn decide(self) -> DecodeSettings {
        let ReparseCommand::Decode { input, json } = self.command;
        DecodeSettings { input, json }
    }
}

impl Run for DecodeSettings {
    fn run(&self, context: &Context) -> Exit {
        decode(self.input.as_deref(), self.json, Messages::of(context))
    }
}

/// Reads one byte more than the largest reparse buffer, and no more: enough to tell that
/// the input is too long, so `/dev/zero` or an endless pipe fails at once instead of
/// filling memory.
fn read_at_most_one_buffer(input: impl std::io::Read) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let limit = knot_reparse::MAX_BUFFER_SIZE + 1;
    let mut bytes = Vec::with_capacity(limit);
    input.take(limit as u64).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// `knot reparse decode`: raw buffer bytes from a file or standard input, fields out.
fn decode(input: Option<&Path>, json: bool, messages: Messages) -> Exit {
    let (name, read) = match input {
        Some(path) if path != Path::new("-") => (
            quote(path.as_os_str()),
            std::fs::File::open(path).and_then(read_at_most_one_buffer),
        ),
        _ => (
            "standard input".to_owned(),
            read_at_most_one_buffer(std::io::stdin().lock()),
        ),
    };
    let raw = match read {
        Ok(raw) => raw,
        Err(err) => {
            messages.error(&format!("cannot read {name}: {err}"));
            return Exit::Failure;
        }
    };
    if raw.len() > knot_reparse::MAX_BUFFER_SIZE {
        messages.error(&format!(
            "cannot decode {name} as a reparse buffer: it is longer than {} bytes, the \
             largest reparse buffer there is (the input must be the raw bytes of one buffer)",
            knot_reparse::MAX_BUFFER_SIZE
        ));
        return Exit::Failure;
    }
    match knot_reparse::decode(&raw) {
        Ok(point) => {
            let mut printer = Printer::new(Format::Human, messages);
            // A lost output was reported where it happened; the exit code comes from main.
            let _ = if json {
                printer.json(&reparse::render_json(&point))
            } else {
                printer.text(&reparse::render_human(&point, &raw))
            };
            Exit::Success
        }
        Err(err) => {
            messages.error(&format!("cannot decode {name} as a reparse buffer: {err}"));
            Exit::Failure
        }
    }
}
