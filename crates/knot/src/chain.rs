//! Telling a cycle of links from a chain that is only too long. The system gives up on
//! both with the same error (ELOOP: "Too many levels of symbolic links", after 40 links on
//! Linux), but a chain of 45 links that ends at a real file is not a loop, and its fix is
//! different (shorten the chain, not break a cycle). So when the system says "loop", knot
//! walks the path itself, one link at a time, to see which it is.

use std::io;
use std::path::Path;

use crate::link::Status;
use crate::sys;
use crate::sys::Backend as _;

/// The status of the link at `path`, which the system could not follow (`err`).
pub(crate) fn failed_status(path: &Path, err: &io::Error) -> Status {
    match sys::Os::classify_resolve_error(err) {
        Status::Loop => loop_status(path),
        status => status,
    }
}

/// The status of the link at `path`, which the system could not follow for too many
/// links: [`Status::Loop`] for a real cycle, [`Status::TooLong`] for a chain that ends
/// somewhere, [`Status::Dangling`] for a long chain that ends at nothing. Where the walk
/// itself fails (a directory it cannot read), the system's answer stands.
///
/// # Platform behavior
/// Where the platform layer cannot walk a chain (off Unix), the system's answer,
/// [`Status::Loop`], stands.
pub(crate) fn loop_status(path: &Path) -> Status {
    sys::Os::chain_status(path).unwrap_or(Status::Loop)
}
