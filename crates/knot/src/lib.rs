//! knot: create, inspect, scan and remove file-system links — NTFS junctions, symbolic
//! links, hard links and every other reparse point — with the safety promises of knot's
//! design: removing a link never touches its target, creating never overwrites, a failed
//! create leaves nothing behind, and every error names the operation, the paths, the cause
//! and the fix.
//!
//! Each operation is one function (one builder for a scan) that takes paths and returns a
//! [`Link`] record or an [`Error`]; the examples below run in a temporary directory.
//!
//! # Create
//!
//! [`create`] takes the link first, then the target (like `mklink`), a [`LinkType`] to ask
//! for and [`CreateOptions`]; what it made comes back as [`Created`], read back from the
//! file system, with the concrete kind made ([`Made`]) and any [`Note`]s.
//!
//! ```
//! use knot::{create, CreateOptions, ErrorKind, LinkType, Made, Replace};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # // A symlink on Windows needs a privilege (and Wine makes none): run on Unix.
//! # if cfg!(windows) { return Ok(()); }
//! let dir = tempfile::tempdir()?;
//! std::fs::create_dir(dir.path().join("v1"))?;
//! std::fs::create_dir(dir.path().join("v2"))?;
//! let link = dir.path().join("current");
//!
//! // A relative target is stored as given and read from the link's directory.
//! let made = create(&link, "v1", LinkType::Symlink, &CreateOptions::default())?;
//! assert_eq!(made.made, Made::Symlink);
//! assert_eq!(made.link.target.as_deref(), Some("v1".as_ref()));
//!
//! // An existing link is replaced only when asked (the CLI's `--force`).
//! let err = create(&link, "v2", LinkType::Symlink, &CreateOptions::default()).unwrap_err();
//! assert_eq!(*err.kind(), ErrorKind::LinkExists);
//! let force = CreateOptions { replace: Replace::Links, ..CreateOptions::default() };
//! let made = create(&link, "v2", LinkType::Symlink, &force)?;
//! assert_eq!(made.link.target.as_deref(), Some("v2".as_ref()));
//! # Ok(())
//! # }
//! ```
//!
//! # Inspect
//!
//! [`inspect`] reads what a path is without following it: a link with its [`Kind`],
//! target and [`Status`], or a plain file or directory (which is no error to ask about).
//!
//! ```
//! use knot::{create, inspect, CreateOptions, Flavour, Kind, LinkType, Status};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! assert_eq!(inspect(dir.path())?.kind, Kind::Dir);
//! # // A symlink on Windows needs a privilege (and Wine makes none): run on Unix.
//! # if cfg!(windows) { return Ok(()); }
//! let link = dir.path().join("gone");
//! // On Windows a symlink to a missing target needs its flavour (the CLI's `--file`).
//! let options = CreateOptions { flavour: Some(Flavour::File), ..CreateOptions::default() };
//! create(&link, "nowhere", LinkType::Symlink, &options)?;
//! let found = inspect(&link)?;
//! assert_eq!(found.kind, Kind::Symlink);
//! assert_eq!(found.status, Some(Status::Dangling));
//! # Ok(())
//! # }
//! ```
//!
//! # Remove
//!
//! [`remove`] removes a link and never what it leads to; anything that is not a link is
//! refused ([`ErrorKind::NotALink`], saying what was [`Found`]). [`ChangeMode::DryRun`]
//! checks everything and changes nothing.
//!
//! ```
//! use knot::{create, remove, CreateOptions, ErrorKind, Found, LinkType, ChangeMode};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let file = dir.path().join("data.txt");
//! std::fs::write(&file, "kept")?;
//! let link = dir.path().join("second-name");
//! create(&link, &file, LinkType::Hardlink, &CreateOptions::default())?;
//!
//! // A hard link is a file with two names, not a link: refused, and left alone.
//! let err = remove(&link, ChangeMode::Change).unwrap_err();
//! assert_eq!(*err.kind(), ErrorKind::NotALink { what: Found::File });
//! assert!(!err.is_retryable(), "a refusal, not a race");
//! assert_eq!(std::fs::read_to_string(&link)?, "kept");
//!
//! # // A symlink on Windows needs a privilege (and Wine makes none): run on Unix.
//! # if cfg!(windows) { return Ok(()); }
//! let sym = dir.path().join("sym");
//! create(&sym, "data.txt", LinkType::Symlink, &CreateOptions::default())?;
//! remove(&sym, ChangeMode::DryRun)?;
//! assert!(sym.symlink_metadata().is_ok(), "a dry run changes nothing");
//! let removed = remove(&sym, ChangeMode::Change)?;
//! assert_eq!(removed.path, sym);
//! assert_eq!(std::fs::read_to_string(&file)?, "kept");
//! # Ok(())
//! # }
//! ```
//!
//! # Scan
//!
//! [`scan::ScanBuilder`] walks trees for links, in parallel or as an iterator; errors
//! travel with the entries and never stop the walk. A filter of kinds parses from the
//! words `knot scan --kind` takes.
//!
//! ```
//! use knot::scan::ScanBuilder;
//! use knot::{create, CreateOptions, Flavour, Kind, LinkType};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # // A symlink on Windows needs a privilege (and Wine makes none): run on Unix.
//! # if cfg!(windows) { return Ok(()); }
//! let dir = tempfile::tempdir()?;
//! std::fs::create_dir(dir.path().join("sub"))?;
//! create(dir.path().join("sub/ok"), "..", LinkType::Symlink, &CreateOptions::default())?;
//! let file = CreateOptions { flavour: Some(Flavour::File), ..CreateOptions::default() };
//! create(dir.path().join("sub/broken"), "missing", LinkType::Symlink, &file)?;
//!
//! let kind: Kind = "symlink".parse()?;
//! let mut broken = Vec::new();
//! for entry in ScanBuilder::new(dir.path()).kinds([kind]).broken(true).build() {
//!     broken.push(entry?.into_link().path);
//! }
//! assert_eq!(broken, [dir.path().join("sub/broken")]);
//! # Ok(())
//! # }
//! ```
//!
//! # How results come back
//!
//! An operation on one path returns its result ([`create`], [`inspect`], [`remove`],
//! [`retarget`], [`convert`]). An operation over a tree or a list hands each result to the
//! caller as it is made, and never stops at the first failure:
//! - [`scan`] as an iterator ([`scan::ScanBuilder::build`]), which is all a sequential walk
//!   needs, or to a visitor per thread ([`scan::ScanBuilder::build_parallel`]), since a
//!   parallel walk finds entries on every thread at once;
//! - [`fix::fix`], [`apply`], [`convert_tree`], [`copy()`], [`hardlinks::names`] and
//!   [`hardlinks::groups`] to a callback, since they change or look at the file system as
//!   they go: an iterator would let the caller stop them halfway or hold them up between
//!   two changes, and each result is reported once it is done ([`apply`]'s in the
//!   manifest's order, the others' as they are found);
//! - [`du`] as one total when it is done: it has nothing to report before.
#![deny(unsafe_code)]
#![deny(missing_docs)]

mod apply;
mod chain;
mod change;
pub mod copy;
mod create;
mod diagnose;
mod error;
pub mod fix;
/// What the unit tests share with the integration tests' fixture: a sorted listing and
/// bench/mktree.py trees.
#[cfg(test)]
#[path = "../tests/fixture/shared.rs"]
#[allow(dead_code, reason = "the unit tests need no `KNOT_REQUIRE_*` switch")]
mod fixture;
/// The integration tests' NTFS volume mounted with ntfs-3g, for the unit tests that need
/// one (with the shared fixture's `names` and `skip`, which it takes from `super`).
#[cfg(all(test, target_os = "linux"))]
#[path = "../tests/fixture"]
mod ntfs3g_fixture {
    pub use crate::fixture::{names, skip};
    #[allow(dead_code, reason = "the unit tests use a part of it")]
    pub mod ntfs3g;
}
mod foreign;
pub mod git_links;
pub mod hardlinks;
mod image;
mod inspect;
mod link;
mod path;
pub mod record;
mod relocate;
mod remove;
mod resolve;
mod retarget;
pub mod scan;
mod sys;
mod threads;

pub use apply::{Applied, ApplyOptions, apply};
pub use change::{ChangeMode, Kept, Retargeted};
pub use copy::copy;
pub use create::{
    CreateOptions, Created, DriveLetter, FlavourCheck, LinkType, Made, Note, ParseDriveError,
    Replace, TargetForm, create, create_dry_run,
};
pub use error::{BadRecord, Error, ErrorKind, GitFailure, MoveLeft, NotMoved, Op, Result};
pub use image::ImageRoot;
pub use inspect::{inspect, inspect_in};
/// A reparse point's tag, as [`Kind::Reparse`] and [`Link::tag`] carry it (the codec's
/// type, re-exported so that a caller needs no other crate to name one).
pub use knot_reparse::Tag;
pub use link::{Flavour, Found, Kind, Link, ParseKindError, ReparseTag, Special, Status};
pub use record::Record;
pub use relocate::{Event, Leave, MoveOptions, Moved, Step, relocate, relocate_back};
pub use remove::remove;
pub use remove::tree::{Met, TreeAction, TreeRemoved, remove_tree};
pub use retarget::{
    ConvertOptions, ConvertTo, NativeDirs, RetargetOptions, convert, convert_in, convert_tree,
    convert_tree_in, retarget,
};
pub use scan::du;
pub use scan::{FileId, Threads};
