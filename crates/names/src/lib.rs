//! How knot shows and writes names (file names, paths, link targets), one rule for each,
//! shared by the `knot` library and its command line:
//!
//! - [`escape`]: for people. A name is untrusted text; in messages and human output every
//!   character that is not plainly visible is escaped, and every byte that is not UTF-8.
//! - [`json`]: for programs. A name is written as a JSON string, or as `{"bytes":
//!   "<base64>"}` of its raw bytes when it is not Unicode, so no name is lost or mangled;
//!   read back, it is the same name.

pub mod escape;
pub mod json;
