//! `knot convert`: links rewritten between relative and absolute targets, or between
//! junctions and directory symlinks, or from Cygwin's and WSL's forms into NT links, reported in the one shape of the link-maintenance
//! commands ([`crate::report::change`]).

use std::path::PathBuf;

use clap::Args;
use knot::{ConvertOptions, ConvertTo, Kind, NativeDirs};

use crate::args::{ChangeArgs, DriveArg, Format, path_arg};
use crate::cmd::{Decide, Run};
use crate::context::Context;
use crate::exit::Exit;
use crate::report::change::retargeted;
use crate::report::{Messages, Printer, error};

/// The long help of `knot convert` (and its man page).
pub const LONG_ABOUT: &str = "Rewrite links between relative and absolute targets, or \
between junctions and directory symlinks, or from Cygwin's and WSL's forms into NT links, \
keeping what they lead to.\n\n\
A relative target is computed from the link's own directory (like `ln -r`). A dangling link \
converts too, by its text; a link already in the form asked for is reported `unchanged`.\n\n\
With --root IMG (an image root, each PATH inside it), --relative makes each target relative \
within the image (`../../usr/bin/mawk` for /usr/bin/mawk), never climbing above IMG, so it \
leads to the same place when the image moves; a relative target that climbs above IMG (which \
a chroot stops at IMG) is rewritten without the climb. --absolute makes image-absolute \
targets (/usr/bin/mawk, not the host path). `..` is taken as a chroot into IMG takes it.\n\n\
--to-native turns links that Windows programs cannot follow into NT symlinks: a Cygwin or \
MSYS2 `!<symlink>` file (a file with the DOS system attribute holding `!<symlink>` and the \
target) and a WSL symlink (reparse tag 0xA000001D, what WSL's and Cygwin's `ln -s` make on \
NTFS). A target /mnt/c/... or /cygdrive/c/... becomes C:\\...; a relative one keeps where \
it leads, written with \\; any other absolute path has no Windows name and is refused. The \
flavour follows what the target is; with --to-junction a directory target gets a junction. \
It works on Windows and on NTFS volumes mounted with ntfs-3g (there the DOS attribute is \
system.ntfs_attrib); elsewhere it is refused, since an ordinary symlink is the native link \
there. A file that looks like such a link but is not one (no system attribute, another \
magic, a target cut short) is refused with the reason and left as it is. The new link is \
made beside the old one, read back, and put in its place; with --recursive, files that are \
plainly no links are passed over.\n\n\
Exit codes: 0 done, 1 some conversion failed or was refused (each printed), 2 usage error.";

#[derive(Args, Debug)]
#[command(group(
    clap::ArgGroup::new("form")
        .required(true)
        .multiple(true)
        .args(["relative", "absolute", "to_symlink", "to_junction", "to_native"])
))]
pub struct ConvertArgs {
    /// The links to convert (with --recursive, also directories: every link below).
    #[arg(required = true, value_name = "PATH", value_parser = path_arg())]
    paths: Vec<PathBuf>,
    /// Make each symlink's target relative to the link's directory.
    #[arg(long, conflicts_with_all = ["absolute", "to_symlink", "to_junction", "to_native"])]
    relative: bool,
    /// Make each symlink's target absolute.
    #[arg(long, conflicts_with_all = ["to_symlink", "to_junction", "to_native"])]
    absolute: bool,
    /// Replace each junction by a directory symlink to the same directory.
    #[arg(long, conflicts_with_all = ["to_junction", "to_native", "root"])]
    to_symlink: bool,
    /// Replace each directory symlink by a junction (where junctions exist: Windows,
    /// NTFS through ntfs-3g); with --to-native, make a junction for a directory target.
    #[arg(long, conflicts_with = "root")]
    to_junction: bool,
    /// Replace each Cygwin/MSYS2 `!<symlink>` file and WSL symlink by an NT symlink
    /// (Windows, NTFS through ntfs-3g).
    #[arg(long, conflicts_with = "root")]
    to_native: bool,
    /// Convert every link below each directory PATH.
    #[arg(long, short = 'r')]
    recursive: bool,
    #[command(flatten)]
    root: crate::args::ImageRootArg,
    #[command(flatten)]
    drive: DriveArg,
    #[command(flatten)]
    change: ChangeArgs,
}

/// `knot convert`, fully decided.
#[derive(Debug)]
pub struct ConvertSettings {
    paths: Vec<PathBuf>,
    to: ConvertTo,
    recursive: bool,
    options: ConvertOptions,
    root: crate::args::ImageRootArg,
    format: Format,
}

impl Decide for ConvertArgs {
    type Settings = ConvertSettings;
    fn decide(self) -> ConvertSettings {
        let to = if self.relative {
            ConvertTo::Relative
        } else if self.absolute {
            ConvertTo::Absolute
        } else if self.to_symlink {
            ConvertTo::Symlink
        } else if self.to_native {
            ConvertTo::Native(if self.to_junction {
                NativeDirs::Junction
            } else {
                NativeDirs::Symlink
            })
        } else {
            ConvertTo::Junction
        };
        let options = ConvertOptions {
            mode: self.change.mode(),
            drive: self.drive.drive,
        };
        ConvertSettings {
            paths: self.paths,
            to,
            recursive: self.recursive,
            options,
            root: self.root,
            format: self.change.format(),
        }
    }
}

/// `knot convert --relative|--absolute|--to-symlink|--to-junction|--to-native PATH...
/// [--recursive]`.
impl Run for ConvertSettings {
    fn run(&self, context: &Context) -> Exit {
        let (to, recursive, options, format) =
            (self.to, self.recursive, &self.options, self.format);
        let dry_run = options.mode == knot::ChangeMode::DryRun;
        let image = match super::open_image(&self.root, context) {
            Ok(image) => image,
            Err(exit) => return exit,
        };
        let mut printer = Printer::new(format, Messages::of(context));
        let mut failed = false;
        for path in &self.paths {
            let is_dir = knot::inspect(path).is_ok_and(|link| link.kind == Kind::Dir);
            if !(recursive && is_dir) {
                let result = match &image {
                    Some(image) => knot::convert_in(path, to, options, image),
                    None => knot::convert(path, to, options),
                };
                failed |= retargeted(&mut printer, format, path, result, dry_run, context).is_err();
                continue;
            }
            // Every link below, converted through the one tree walk as it finds them; reported
            // in path order, so the report reads the same on every run.
            let mut links = Vec::new();
            let each = |item: knot::Result<_>| match item {
                Ok(converted) => links.push(converted),
                Err(err) => {
                    let _ = printer.flush();
                    error::fail(&err, context);
                }
            };
            match &image {
                Some(image) => knot::convert_tree_in(path, to, options, image, each),
                None => knot::convert_tree(path, to, options, each),
            }
            links.sort_by(|(a, _), (b, _)| a.cmp(b));
            for (link, result) in links {
                failed |=
                    retargeted(&mut printer, format, &link, result, dry_run, context).is_err();
            }
        }
        Exit::failed_if(failed)
    }
}
