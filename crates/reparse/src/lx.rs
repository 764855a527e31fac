//! WSL symbolic links (`IO_REPARSE_TAG_LX_SYMLINK`).

use crate::bytes::{start_buffer, u32_at};
use crate::{DecodeError, EncodeError, HEADER_SIZE, Tag};

/// The only version of the LX symlink format; ntfs-3g refuses others too
/// (`valid_reparse_data`).
pub const LX_SYMLINK_VERSION: u32 = 2;

/// A WSL symbolic link (`IO_REPARSE_TAG_LX_SYMLINK`, `0xA000001D`), as made by WSL and by
/// Cygwin 3.4+ `ln -s`: a `u32` version (2), then the Linux target, UTF-8 with `/`
/// separators and no NUL.
///
/// The target is kept as bytes: a Linux target need not be UTF-8, and knot never changes a
/// name it read.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LxSymlink {
    /// The target as stored.
    pub target: Vec<u8>,
}

impl LxSymlink {
    /// An LX symlink to `target` (`&str`, `String` or bytes).
    pub fn new(target: impl Into<Vec<u8>>) -> Self {
        LxSymlink {
            target: target.into(),
        }
    }

    /// The target as text, or `None` if it is not UTF-8.
    pub fn target_str(&self) -> Option<&str> {
        core::str::from_utf8(&self.target).ok()
    }

    pub(crate) fn encoded_len(&self) -> usize {
        HEADER_SIZE + 4 + self.target.len()
    }

    pub(crate) fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut buf = start_buffer(Tag::LX_SYMLINK, self.encoded_len(), HEADER_SIZE)?;
        buf.extend_from_slice(&LX_SYMLINK_VERSION.to_le_bytes());
        buf.extend_from_slice(&self.target);
        Ok(buf)
    }

    pub(crate) fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let version = u32_at(data, 0).ok_or(DecodeError::ShortData {
            tag: Tag::LX_SYMLINK,
            need: 4,
            have: data.len(),
        })?;
        if version != LX_SYMLINK_VERSION {
            return Err(DecodeError::BadLxSymlinkVersion { version });
        }
        Ok(LxSymlink {
            target: data.get(4..).unwrap_or_default().to_vec(),
        })
    }
}
