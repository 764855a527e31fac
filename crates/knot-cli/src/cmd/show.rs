//! `knot show PATH...`: each path's record, with `--raw` its reparse buffer decoded.

use std::path::PathBuf;

use clap::Args;

use crate::args::{Format, FormatArgs, path_arg};
use crate::cmd::{Decide, Run};
use crate::context::Context;
use crate::exit::Exit;
use crate::report::{Messages, Printer, error, quote, reparse};

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// Paths to show; links are not followed.
    #[arg(required = true, value_name = "PATH", value_parser = path_arg())]
    paths: Vec<PathBuf>,
    /// Also show the raw reparse-point buffer: decoded with a hex dump, or in JSON as
    /// `raw` (hex); null for links that are not reparse points.
    #[arg(long)]
    raw: bool,
    #[command(flatten)]
    root: crate::args::ImageRootArg,
    #[command(flatten)]
    format: FormatArgs,
}

/// `knot show`, fully decided (also junction's query).
#[derive(Debug)]
pub struct ShowSettings {
    pub paths: Vec<PathBuf>,
    pub format: Format,
    pub raw: bool,
    pub root: crate::args::ImageRootArg,
}

impl Decide for ShowArgs {
    type Settings = ShowSettings;
    fn decide(self) -> ShowSettings {
        ShowSettings {
            paths: self.paths,
            format: self.format.format(),
            raw: self.raw,
            root: self.root,
        }
    }
}

/// `show --raw --json`: the record, then the raw buffer in hex (`null` where the link is
/// not a reparse point).
#[derive(serde::Serialize)]
struct RawRecord {
    #[serde(flatten)]
    record: knot::Record,
    raw: Option<String>,
}

// Output never stops the work (DESIGN.md promise 8): `show` and `rm` go on through every
// path when standard output is lost, so what the printer returns changes nothing.
impl Run for ShowSettings {
    fn run(&self, context: &Context) -> Exit {
        let (format, raw) = (self.format, self.raw);
        let messages = Messages::of(context);
        let image = match super::open_image(&self.root, context) {
            Ok(image) => image,
            Err(exit) => return exit,
        };
        let mut printer = Printer::new(format, messages);
        for path in &self.paths {
            let found = match &image {
                Some(image) => knot::inspect_in(path, image),
                None => knot::inspect(path),
            };
            match found {
                Ok(link) => {
                    let _ = match (raw, format) {
                        (true, Format::Json) => printer.json(&RawRecord {
                            record: knot::Record::from(&link),
                            raw: link.reparse_data.as_deref().map(reparse::hex),
                        }),
                        (true, Format::Human) => printer
                            .record(&link)
                            .and_then(|()| printer.text(&raw_text(&link))),
                        _ => printer.record(&link),
                    };
                    if !link.kind.is_link() {
                        let _ = printer.flush();
                        messages.note(&match &link.through {
                            // `show l/`: what the link `l` points at, reached through the slash.
                            Some(behind) => format!(
                                "{} is the {} that the link {} points at (the trailing slash leads \
                             through the link); to see the link itself: {}",
                                quote(path.as_os_str()),
                                kind_phrase(&link),
                                quote(behind.as_os_str()),
                                error::command(context, "show", behind.as_os_str())
                            ),
                            None => format!(
                                "{} is a {}, not a link",
                                quote(path.as_os_str()),
                                kind_phrase(&link)
                            ),
                        });
                    }
                }
                Err(err) => {
                    let _ = printer.flush();
                    error::fail(&err, context);
                }
            }
        }
        Exit::Success
    }
}

/// The reparse buffer behind a link, decoded and dumped, for `show --raw`.
fn raw_text(link: &knot::Link) -> String {
    let Some(raw) = link.reparse_data.as_deref() else {
        return "  raw:        none (not a reparse point)\n".to_owned();
    };
    let body = match knot_reparse::decode(raw) {
        Ok(point) => reparse::render_human(&point, raw),
        Err(err) => format!("cannot decode: {err}\n{}", reparse::hex(raw)),
    };
    body.lines().map(|line| format!("  {line}\n")).collect()
}

fn kind_phrase(link: &knot::Link) -> &'static str {
    match link.kind {
        knot::Kind::File => "regular file",
        knot::Kind::Dir => "directory",
        _ => link.special.map_or("special file", knot::Special::name),
    }
}
