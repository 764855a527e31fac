//! knot: create, inspect, scan and remove file-system links — NTFS junctions, symbolic
//! links, hard links and every other reparse point — with the safety promises of knot's
//! design: removing a link never touches its target, creating never overwrites, a failed
//! create leaves nothing behind, and every error names the operation, the paths, the cause
//! and the fix.
//!
//! ```no_run
//! use knot::{create, inspect, remove, CreateOptions, LinkType, RemoveMode};
//!
//! # fn main() -> knot::Result<()> {
//! let made = create("current", "releases/v2", LinkType::Symlink, &CreateOptions::default())?;
//! assert_eq!(made.link.kind.name(), "symlink");
//! let link = inspect("current")?;
//! println!("{} -> {:?}", link.path.display(), link.target);
//! remove("current", RemoveMode::Remove)?;
//! # Ok(())
//! # }
//! ```
#![deny(unsafe_code)]
#![deny(missing_docs)]

mod chain;
mod create;
mod diagnose;
mod error;
pub mod escape;
mod inspect;
mod link;
mod path;
mod remove;
pub mod scan;
mod sys;

pub use create::{CreateOptions, Created, LinkType, Note, Replace, TargetForm, create};
pub use diagnose::link_behind_slash;
pub use error::{Error, ErrorKind, Op, Result};
pub use inspect::inspect;
pub use link::{Flavour, Kind, Link, Special, Status};
pub use remove::{RemoveMode, remove};
pub use scan::FileId;
