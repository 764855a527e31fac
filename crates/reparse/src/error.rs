//! Why a buffer was rejected, or could not be built.

use core::fmt;

use crate::{MAX_BUFFER_SIZE, Tag};

/// Which of the two names of a mount point or symlink buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NameField {
    /// `SubstituteName`: the NT path the I/O manager follows.
    Substitute,
    /// `PrintName`: the path shown to users.
    Print,
}

impl fmt::Display for NameField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameField::Substitute => "substitute name",
            NameField::Print => "print name",
        })
    }
}

/// Why [`decode`](crate::decode) rejected a buffer.
///
/// Each inconsistency has its own variant, carrying the offsets and lengths involved, so
/// a message can say exactly what is wrong. Offsets named "offset" in a variant are as
/// stored in the field; `path_buffer_start` and similar give the position in the whole
/// buffer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecodeError {
    /// Fewer than the 8 bytes of the `REPARSE_DATA_BUFFER` header (MS-FSCC 2.1.2.2).
    ShortHeader {
        /// Bytes given.
        len: usize,
    },
    /// A non-Microsoft tag, whose buffer must have the 24-byte `REPARSE_GUID_DATA_BUFFER`
    /// header (MS-FSCC 2.1.2.3), but fewer bytes were given.
    ShortGuidHeader {
        /// The tag.
        tag: Tag,
        /// Bytes given.
        len: usize,
    },
    /// More than [`MAX_BUFFER_SIZE`] (16,384) bytes, the most any reparse point holds.
    TooLarge {
        /// Bytes given.
        len: usize,
    },
    /// Tag 0 or 1: reserved, never valid (MS-FSCC 2.3.82).
    ReservedTag {
        /// The tag.
        tag: Tag,
    },
    /// The buffer is not `ReparseDataLength` + header bytes long.
    LengthMismatch {
        /// The tag.
        tag: Tag,
        /// 8, or 24 for a GUID buffer.
        header_len: usize,
        /// `ReparseDataLength` as stored.
        data_length: u16,
        /// Bytes given.
        actual: usize,
    },
    /// The data is too short for the fixed fields of its tag (the four name fields of a
    /// mount point, plus `Flags` of a symlink; the version of an LX symlink or AppExecLink).
    ShortData {
        /// The tag.
        tag: Tag,
        /// Data bytes the fixed fields need.
        need: usize,
        /// Data bytes present (`ReparseDataLength`).
        have: usize,
    },
    /// A name runs past the end of the path buffer.
    NameOutOfBounds {
        /// Which name.
        name: NameField,
        /// Its offset in bytes from the start of the path buffer, as stored.
        offset: u16,
        /// Its length in bytes, as stored.
        length: u16,
        /// Where the path buffer starts in the whole buffer (16 or 20).
        path_buffer_start: usize,
        /// Bytes in the path buffer.
        path_buffer_len: usize,
    },
    /// A name offset that is not a whole number of UTF-16 units.
    OddNameOffset {
        /// Which name.
        name: NameField,
        /// The offset as stored.
        offset: u16,
    },
    /// A name length that is not a whole number of UTF-16 units.
    OddNameLength {
        /// Which name.
        name: NameField,
        /// The length as stored.
        length: u16,
    },
    /// An LX symlink whose version is not 2.
    BadLxSymlinkVersion {
        /// The version as stored.
        version: u32,
    },
    /// An AppExecLink whose version is not 3.
    BadAppExecLinkVersion {
        /// The version as stored.
        version: u32,
    },
    /// AppExecLink strings that are not a whole number of UTF-16 units.
    OddStringData {
        /// Bytes after the version field.
        len: usize,
    },
    /// An AppExecLink string without its terminating NUL.
    UnterminatedString {
        /// The string's position in the list, from 0.
        index: usize,
        /// Where it starts in the whole buffer.
        offset: usize,
    },
    /// Data where the tag has none (AF_UNIX).
    UnexpectedData {
        /// The tag.
        tag: Tag,
        /// Data bytes present.
        len: usize,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::ShortHeader { len } => write!(
                f,
                "reparse buffer is {len} bytes, shorter than its 8-byte header"
            ),
            DecodeError::ShortGuidHeader { tag, len } => write!(
                f,
                "reparse buffer for non-Microsoft tag {tag} is {len} bytes, \
                 shorter than its 24-byte GUID header"
            ),
            DecodeError::TooLarge { len } => write!(
                f,
                "reparse buffer is {len} bytes, more than the maximum of {MAX_BUFFER_SIZE}"
            ),
            DecodeError::ReservedTag { tag } => {
                write!(f, "reparse tag {tag} is reserved and never valid")
            }
            DecodeError::LengthMismatch {
                tag,
                header_len,
                data_length,
                actual,
            } => write!(
                f,
                "ReparseDataLength of tag {tag} is {data_length}, so the buffer should be \
                 {expected} bytes ({header_len}-byte header + {data_length}), but it is {actual}",
                expected = *header_len + usize::from(*data_length),
            ),
            DecodeError::ShortData { tag, need, have } => write!(
                f,
                "reparse data of tag {tag} is {have} bytes, too short for its fixed fields \
                 ({need} bytes)"
            ),
            DecodeError::NameOutOfBounds {
                name,
                offset,
                length,
                path_buffer_start,
                path_buffer_len,
            } => write!(
                f,
                "{name} (offset {offset}, length {length}) runs past the end of the \
                 {path_buffer_len}-byte path buffer at byte {path_buffer_start}"
            ),
            DecodeError::OddNameOffset { name, offset } => write!(
                f,
                "{name} offset {offset} is odd, not a whole number of UTF-16 units"
            ),
            DecodeError::OddNameLength { name, length } => write!(
                f,
                "{name} length {length} is odd, not a whole number of UTF-16 units"
            ),
            DecodeError::BadLxSymlinkVersion { version } => {
                write!(f, "LX symlink version is {version}, expected 2")
            }
            DecodeError::BadAppExecLinkVersion { version } => {
                write!(f, "AppExecLink version is {version}, expected 3")
            }
            DecodeError::OddStringData { len } => write!(
                f,
                "AppExecLink strings take {len} bytes, not a whole number of UTF-16 units"
            ),
            DecodeError::UnterminatedString { index, offset } => write!(
                f,
                "AppExecLink string {index} at byte {offset} has no terminating NUL"
            ),
            DecodeError::UnexpectedData { tag, len } => {
                write!(
                    f,
                    "tag {tag} carries no data, but {len} bytes follow the header"
                )
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// Why [`encode`](crate::encode) could not build a buffer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EncodeError {
    /// The buffer would exceed [`MAX_BUFFER_SIZE`] (16,384) bytes.
    TooLarge {
        /// Bytes the buffer would take.
        len: usize,
    },
    /// Tag 0 or 1: reserved, never valid (MS-FSCC 2.3.82).
    ReservedTag {
        /// The tag.
        tag: Tag,
    },
    /// A generic buffer with a non-Microsoft tag but no GUID: such tags must use
    /// `REPARSE_GUID_DATA_BUFFER` (MS-FSCC 2.1.2.3).
    MissingGuid {
        /// The tag.
        tag: Tag,
    },
    /// A generic buffer with a Microsoft tag and a GUID: Microsoft tags use the 8-byte
    /// `REPARSE_DATA_BUFFER` header (MS-FSCC 2.1.2.2), which has no GUID.
    UnexpectedGuid {
        /// The tag.
        tag: Tag,
    },
    /// A generic buffer with a tag that has its own [`ReparsePoint`](crate::ReparsePoint)
    /// variant (mount point, symlink, LX symlink, AppExecLink, AF_UNIX), which
    /// [`decode`](crate::decode) would read back as that variant.
    TypedTag {
        /// The tag.
        tag: Tag,
    },
    /// An AppExecLink string that contains a NUL, which would end it early.
    NulInString {
        /// The string's position in the list, from 0.
        index: usize,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::TooLarge { len } => write!(
                f,
                "reparse buffer would be {len} bytes, more than the maximum of {MAX_BUFFER_SIZE}"
            ),
            EncodeError::ReservedTag { tag } => {
                write!(f, "reparse tag {tag} is reserved and never valid")
            }
            EncodeError::MissingGuid { tag } => write!(
                f,
                "non-Microsoft tag {tag} needs a GUID (REPARSE_GUID_DATA_BUFFER)"
            ),
            EncodeError::UnexpectedGuid { tag } => write!(
                f,
                "Microsoft tag {tag} takes no GUID (REPARSE_DATA_BUFFER has none)"
            ),
            EncodeError::TypedTag { tag } => write!(
                f,
                "tag {tag} has its own reparse point variant; build that instead of a \
                 generic buffer"
            ),
            EncodeError::NulInString { index } => {
                write!(f, "AppExecLink string {index} contains a NUL")
            }
        }
    }
}

impl std::error::Error for EncodeError {}
