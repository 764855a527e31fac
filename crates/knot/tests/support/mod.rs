//! What the library's integration tests share.

pub mod ntfs3g;
