//! Buffers of every other tag, kept as raw data.

use core::fmt;

use crate::bytes::start_buffer;
use crate::{EncodeError, GUID_HEADER_SIZE, HEADER_SIZE, Tag};

/// A GUID as stored in a `REPARSE_GUID_DATA_BUFFER` (MS-FSCC 2.1.2.3): 16 bytes, the
/// first three fields little-endian.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Guid(pub [u8; 16]);

/// The registry form, lower case: `{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}`.
impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a0, a1, a2, a3, b0, b1, c0, c1, d @ ..] = self.0;
        write!(
            f,
            "{{{:08x}-{:04x}-{:04x}-",
            u32::from_le_bytes([a0, a1, a2, a3]),
            u16::from_le_bytes([b0, b1]),
            u16::from_le_bytes([c0, c1]),
        )?;
        for (i, byte) in d.iter().enumerate() {
            if i == 2 {
                f.write_str("-")?;
            }
            write!(f, "{byte:02x}")?;
        }
        f.write_str("}")
    }
}

/// A reparse point knot has no structure for: the tag, the GUID of a non-Microsoft tag,
/// and the data as stored.
///
/// Microsoft tags (bit 31 set) use the 8-byte `REPARSE_DATA_BUFFER` header and have no
/// GUID; every other tag uses the 24-byte `REPARSE_GUID_DATA_BUFFER` header with one
/// (MS-FSCC 2.1.2.2, 2.1.2.3; ntfs-3g's `valid_reparse_data` checks the same rule).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Generic {
    /// The tag.
    pub tag: Tag,
    /// `ReparseGuid`: `Some` exactly when the tag is not a Microsoft tag.
    pub guid: Option<Guid>,
    /// The data after the header.
    pub data: Vec<u8>,
}

impl Generic {
    /// A buffer with a Microsoft tag and no GUID.
    pub fn new(tag: Tag, data: impl Into<Vec<u8>>) -> Self {
        Generic {
            tag,
            guid: None,
            data: data.into(),
        }
    }

    /// A buffer with a non-Microsoft tag and its GUID.
    pub fn with_guid(tag: Tag, guid: Guid, data: impl Into<Vec<u8>>) -> Self {
        Generic {
            tag,
            guid: Some(guid),
            data: data.into(),
        }
    }

    pub(crate) fn encoded_len(&self) -> usize {
        let header = if self.guid.is_some() {
            GUID_HEADER_SIZE
        } else {
            HEADER_SIZE
        };
        header + self.data.len()
    }

    pub(crate) fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let tag = self.tag;
        if tag.is_reserved() {
            return Err(EncodeError::ReservedTag { tag });
        }
        if matches!(
            tag,
            Tag::MOUNT_POINT | Tag::SYMLINK | Tag::LX_SYMLINK | Tag::APPEXECLINK | Tag::AF_UNIX
        ) {
            return Err(EncodeError::TypedTag { tag });
        }
        let total = self.encoded_len();
        let mut buf = match (tag.is_microsoft(), self.guid) {
            (true, None) => start_buffer(tag, total, HEADER_SIZE)?,
            (false, Some(guid)) => {
                let mut buf = start_buffer(tag, total, GUID_HEADER_SIZE)?;
                buf.extend_from_slice(&guid.0);
                buf
            }
            (true, Some(_)) => return Err(EncodeError::UnexpectedGuid { tag }),
            (false, None) => return Err(EncodeError::MissingGuid { tag }),
        };
        buf.extend_from_slice(&self.data);
        Ok(buf)
    }
}
