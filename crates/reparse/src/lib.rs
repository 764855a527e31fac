//! knot-reparse: the codec for NTFS reparse-point buffers.
//!
//! A reparse point is a tag plus up to 16 KiB of data attached to a file or directory;
//! junctions and Windows symbolic links are the best known. Windows hands the data out
//! as a `REPARSE_DATA_BUFFER` (`FSCTL_GET_REPARSE_POINT`), and ntfs-3g exposes the same
//! bytes as the extended attribute `system.ntfs_reparse_data`. This crate turns those
//! bytes into values and back:
//!
//! - [`decode`] reads a buffer into a [`ReparsePoint`]: a typed value for mount points
//!   (junctions), symlinks, WSL symlinks, AppExecLinks and AF_UNIX sockets, a [`Generic`]
//!   value for every other tag. Every inconsistent length or offset is rejected with its
//!   own [`DecodeError`]; no input makes it panic.
//! - [`encode`] writes a buffer in Windows' own layout, so `decode(&encode(x)?)? == x`.
//! - [`Tag`] names every documented tag; [`nt`] converts between Win32 paths and the NT
//!   names stored in junctions and symlinks; [`WideString`] keeps UTF-16 names exactly,
//!   unpaired surrogates included.
//!
//! The crate is pure: no I/O, no `unsafe`, no dependencies, the same on every platform.
//!
//! # Example
//!
//! A junction to `C:\target`, as `mklink /J` writes it (MS-FSCC 2.1.2.5):
//!
//! ```
//! use knot_reparse::{decode, encode, MountPoint, ReparsePoint, Tag};
//!
//! let bytes = [
//!     0x03, 0x00, 0x00, 0xa0, 0x38, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1a, 0x00, 0x1c, 0x00, 0x12, 0x00,
//!     0x5c, 0x00, 0x3f, 0x00, 0x3f, 0x00, 0x5c, 0x00, 0x43, 0x00, 0x3a, 0x00, 0x5c, 0x00, 0x74, 0x00,
//!     0x61, 0x00, 0x72, 0x00, 0x67, 0x00, 0x65, 0x00, 0x74, 0x00, 0x00, 0x00, 0x43, 0x00, 0x3a, 0x00,
//!     0x5c, 0x00, 0x74, 0x00, 0x61, 0x00, 0x72, 0x00, 0x67, 0x00, 0x65, 0x00, 0x74, 0x00, 0x00, 0x00,
//! ];
//! let point = decode(&bytes)?;
//! assert_eq!(point.tag(), Tag::MOUNT_POINT);
//! assert_eq!(point.kind(), "junction");
//! let ReparsePoint::MountPoint(junction) = &point else { panic!("not a mount point") };
//! assert_eq!(junction.substitute_name, r"\??\C:\target");
//! assert_eq!(junction.print_name, r"C:\target");
//!
//! // Building the same junction gives the same bytes.
//! let built = ReparsePoint::from(MountPoint::junction(r"C:\target")?);
//! assert_eq!(encode(&built)?, bytes);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Buffer layout
//!
//! All integers are little-endian (MS-FSCC 2.1.2.2, 2.1.2.3):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | `ReparseTag` |
//! | 4 | 2 | `ReparseDataLength`: bytes after the header |
//! | 6 | 2 | `Reserved`: written 0, ignored on reading |
//! | 8 | 16 | `ReparseGuid`: only for non-Microsoft tags (bit 31 clear) |
//! | 8 or 24 | `ReparseDataLength` | the data |
//!
//! The whole buffer is at most [`MAX_BUFFER_SIZE`] (16,384) bytes.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
// The codec reads untrusted bytes and must never panic (DESIGN.md, safety promise 6):
// forbid the constructs that can, outside tests.
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::unreachable
    )
)]

mod appexec;
mod bytes;
mod error;
mod generic;
mod lx;
mod names;
pub mod nt;
mod tag;
mod wide;

pub use appexec::{APPEXECLINK_VERSION, AppExecLink};
pub use error::{DecodeError, EncodeError, NameField};
pub use generic::{Generic, Guid};
pub use lx::{LX_SYMLINK_VERSION, LxSymlink};
pub use names::{MountPoint, NameLayout, SYMLINK_FLAG_RELATIVE, Symlink};
pub use tag::Tag;
pub use wide::WideString;

use bytes::{u16_at, u32_at};

/// `MAXIMUM_REPARSE_DATA_BUFFER_SIZE`: the largest reparse buffer, header included
/// (16 KiB; `ntifs.h`, and the size of NTFS's `$REPARSE_POINT` attribute limit).
pub const MAX_BUFFER_SIZE: usize = 16 * 1024;

/// `REPARSE_DATA_BUFFER_HEADER_SIZE`: tag, `ReparseDataLength`, `Reserved`.
pub const HEADER_SIZE: usize = 8;

/// `REPARSE_GUID_DATA_BUFFER_HEADER_SIZE`: the 8-byte header plus a 16-byte GUID.
pub const GUID_HEADER_SIZE: usize = 24;

/// A decoded reparse buffer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ReparsePoint {
    /// `IO_REPARSE_TAG_MOUNT_POINT`: a junction or volume mount point.
    MountPoint(MountPoint),
    /// `IO_REPARSE_TAG_SYMLINK`: a symbolic link.
    Symlink(Symlink),
    /// `IO_REPARSE_TAG_LX_SYMLINK`: a WSL symbolic link.
    LxSymlink(LxSymlink),
    /// `IO_REPARSE_TAG_APPEXECLINK`: an app execution alias.
    AppExecLink(AppExecLink),
    /// `IO_REPARSE_TAG_AF_UNIX`: an AF_UNIX socket; the buffer carries no data.
    AfUnix,
    /// Any other tag, with its data as stored.
    Generic(Generic),
}

impl ReparsePoint {
    /// The tag.
    pub fn tag(&self) -> Tag {
        match self {
            ReparsePoint::MountPoint(_) => Tag::MOUNT_POINT,
            ReparsePoint::Symlink(_) => Tag::SYMLINK,
            ReparsePoint::LxSymlink(_) => Tag::LX_SYMLINK,
            ReparsePoint::AppExecLink(_) => Tag::APPEXECLINK,
            ReparsePoint::AfUnix => Tag::AF_UNIX,
            ReparsePoint::Generic(generic) => generic.tag,
        }
    }

    /// The knot kind: `junction`, `mount-point` (a mount point to `\??\Volume{GUID}\`),
    /// `symlink`, `lx-symlink`, `appexeclink`, `af-unix`, or for other tags
    /// [`Tag::kind_name`] (`cloud`, `wof`, `dedup`, ..., `unknown`).
    pub fn kind(&self) -> &'static str {
        match self {
            ReparsePoint::MountPoint(mount_point) => mount_point.kind(),
            other => other.tag().kind_name(),
        }
    }

    /// The substitute name of a mount point or symlink.
    pub fn substitute_name(&self) -> Option<&WideString> {
        match self {
            ReparsePoint::MountPoint(m) => Some(&m.substitute_name),
            ReparsePoint::Symlink(s) => Some(&s.substitute_name),
            _ => None,
        }
    }

    /// The print name of a mount point or symlink, as stored (possibly empty).
    pub fn print_name(&self) -> Option<&WideString> {
        match self {
            ReparsePoint::MountPoint(m) => Some(&m.print_name),
            ReparsePoint::Symlink(s) => Some(&s.print_name),
            _ => None,
        }
    }

    /// The size of [`encode`]'s output, whether or not it fits in [`MAX_BUFFER_SIZE`].
    pub fn encoded_len(&self) -> usize {
        match self {
            ReparsePoint::MountPoint(m) => m.encoded_len(),
            ReparsePoint::Symlink(s) => s.encoded_len(),
            ReparsePoint::LxSymlink(l) => l.encoded_len(),
            ReparsePoint::AppExecLink(a) => a.encoded_len(),
            ReparsePoint::AfUnix => HEADER_SIZE,
            ReparsePoint::Generic(g) => g.encoded_len(),
        }
    }

    /// The buffer for this value; see [`encode`].
    ///
    /// # Errors
    ///
    /// See [`encode`].
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        match self {
            ReparsePoint::MountPoint(m) => m.encode(),
            ReparsePoint::Symlink(s) => s.encode(),
            ReparsePoint::LxSymlink(l) => l.encode(),
            ReparsePoint::AppExecLink(a) => a.encode(),
            ReparsePoint::AfUnix => bytes::start_buffer(Tag::AF_UNIX, HEADER_SIZE, HEADER_SIZE),
            ReparsePoint::Generic(g) => g.encode(),
        }
    }
}

impl From<MountPoint> for ReparsePoint {
    fn from(value: MountPoint) -> Self {
        ReparsePoint::MountPoint(value)
    }
}

impl From<Symlink> for ReparsePoint {
    fn from(value: Symlink) -> Self {
        ReparsePoint::Symlink(value)
    }
}

impl From<LxSymlink> for ReparsePoint {
    fn from(value: LxSymlink) -> Self {
        ReparsePoint::LxSymlink(value)
    }
}

impl From<AppExecLink> for ReparsePoint {
    fn from(value: AppExecLink) -> Self {
        ReparsePoint::AppExecLink(value)
    }
}

impl From<Generic> for ReparsePoint {
    fn from(value: Generic) -> Self {
        ReparsePoint::Generic(value)
    }
}

impl TryFrom<&[u8]> for ReparsePoint {
    type Error = DecodeError;

    fn try_from(buf: &[u8]) -> Result<Self, Self::Error> {
        decode(buf)
    }
}

/// Reads a whole reparse buffer: exactly the bytes `FSCTL_GET_REPARSE_POINT` returned
/// (its `lpBytesReturned`, not the 16 KiB it was given) or the value of ntfs-3g's
/// `system.ntfs_reparse_data` attribute.
///
/// Names are found by their offsets, never by assuming an order, and kept as stored
/// (unpaired surrogates included); `Reserved` is ignored (MS-FSCC 2.1.2.2).
///
/// # Errors
///
/// A [`DecodeError`] naming the first inconsistency, checked in this order: the header
/// ([`ShortHeader`](DecodeError::ShortHeader), [`TooLarge`](DecodeError::TooLarge),
/// [`ReservedTag`](DecodeError::ReservedTag),
/// [`ShortGuidHeader`](DecodeError::ShortGuidHeader),
/// [`LengthMismatch`](DecodeError::LengthMismatch)), then the data of the tag.
pub fn decode(buf: &[u8]) -> Result<ReparsePoint, DecodeError> {
    let short_header = DecodeError::ShortHeader { len: buf.len() };
    if buf.len() < HEADER_SIZE {
        return Err(short_header);
    }
    let (Some(tag), Some(data_length)) = (u32_at(buf, 0), u16_at(buf, 4)) else {
        return Err(short_header);
    };
    let tag = Tag(tag);
    if buf.len() > MAX_BUFFER_SIZE {
        return Err(DecodeError::TooLarge { len: buf.len() });
    }
    if tag.is_reserved() {
        return Err(DecodeError::ReservedTag { tag });
    }
    // MS-FSCC 2.1.2.2: REPARSE_DATA_BUFFER "MUST be used only with reparse tag values
    // whose high bit is set to 1"; other tags use REPARSE_GUID_DATA_BUFFER (2.1.2.3).
    let header_len = if tag.is_microsoft() {
        HEADER_SIZE
    } else {
        GUID_HEADER_SIZE
    };
    if buf.len() < header_len {
        return Err(DecodeError::ShortGuidHeader {
            tag,
            len: buf.len(),
        });
    }
    if buf.len() != header_len + usize::from(data_length) {
        return Err(DecodeError::LengthMismatch {
            tag,
            header_len,
            data_length,
            actual: buf.len(),
        });
    }
    let data = buf.get(header_len..).unwrap_or_default();
    if !tag.is_microsoft() {
        let guid = buf
            .get(HEADER_SIZE..GUID_HEADER_SIZE)
            .and_then(|g| <[u8; 16]>::try_from(g).ok())
            .map(Guid);
        return Ok(ReparsePoint::Generic(Generic {
            tag,
            guid,
            data: data.to_vec(),
        }));
    }
    Ok(match tag {
        Tag::MOUNT_POINT => ReparsePoint::MountPoint(MountPoint::decode(data)?),
        Tag::SYMLINK => ReparsePoint::Symlink(Symlink::decode(data)?),
        Tag::LX_SYMLINK => ReparsePoint::LxSymlink(LxSymlink::decode(data)?),
        Tag::APPEXECLINK => ReparsePoint::AppExecLink(AppExecLink::decode(data)?),
        Tag::AF_UNIX if data.is_empty() => ReparsePoint::AfUnix,
        Tag::AF_UNIX => {
            return Err(DecodeError::UnexpectedData {
                tag,
                len: data.len(),
            });
        }
        _ => ReparsePoint::Generic(Generic {
            tag,
            guid: None,
            data: data.to_vec(),
        }),
    })
}

/// Writes `point` as a reparse buffer, ready for `FSCTL_SET_REPARSE_POINT` or ntfs-3g's
/// `system.ntfs_reparse_data`.
///
/// The layout is Windows' own: a mount point holds its substitute name + NUL, then its
/// print name + NUL (`mklink /J`); a symlink holds its print name, then its substitute
/// name, no NULs (`CreateSymbolicLinkW`). `Reserved` is 0. For every value,
/// `decode(&encode(x)?)? == x`; for a buffer in Windows' layout,
/// `encode(&decode(b)?)? == b`.
///
/// # Errors
///
/// [`EncodeError::TooLarge`] past 16,384 bytes; for a [`Generic`] value, a reserved tag,
/// a GUID that does not match the tag's kind of header, or a tag that has its own variant;
/// an AppExecLink string holding a NUL.
pub fn encode(point: &ReparsePoint) -> Result<Vec<u8>, EncodeError> {
    point.encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "030000a03800000000001a001c0012005c003f003f005c0043003a005c0074006100720067\
                      0065007400000043003a005c007400610072006700650074000000";

    #[test]
    fn junction_constructor_matches_worked_example() {
        let point = ReparsePoint::from(MountPoint::junction(r"C:\target").unwrap());
        assert_eq!(point.encode().unwrap(), hex::decode(K1).unwrap());
        assert_eq!(point.encoded_len(), 64);
    }

    #[test]
    fn header_errors() {
        assert_eq!(decode(&[]), Err(DecodeError::ShortHeader { len: 0 }));
        assert_eq!(
            decode(&[3, 0, 0, 0xa0, 0, 0, 0]),
            Err(DecodeError::ShortHeader { len: 7 })
        );
        let mut big = vec![0u8; MAX_BUFFER_SIZE + 1];
        big[..4].copy_from_slice(&Tag::WOF.0.to_le_bytes());
        assert_eq!(
            decode(&big),
            Err(DecodeError::TooLarge {
                len: MAX_BUFFER_SIZE + 1
            })
        );
        assert_eq!(
            decode(&[1, 0, 0, 0, 0, 0, 0, 0]),
            Err(DecodeError::ReservedTag { tag: Tag(1) })
        );
        assert_eq!(
            decode(&[0x34, 0x12, 0, 0, 0, 0, 0, 0]),
            Err(DecodeError::ShortGuidHeader {
                tag: Tag(0x1234),
                len: 8
            })
        );
        assert_eq!(
            decode(&[0x17, 0, 0, 0x80, 1, 0, 0, 0]),
            Err(DecodeError::LengthMismatch {
                tag: Tag::WOF,
                header_len: 8,
                data_length: 1,
                actual: 8
            })
        );
    }

    #[test]
    fn largest_buffer_is_accepted() {
        let data = vec![0xaa; MAX_BUFFER_SIZE - HEADER_SIZE];
        let point = ReparsePoint::Generic(Generic::new(Tag::WOF, data));
        let bytes = point.encode().unwrap();
        assert_eq!(bytes.len(), MAX_BUFFER_SIZE);
        assert_eq!(decode(&bytes).unwrap(), point);

        let data = vec![0xaa; MAX_BUFFER_SIZE - HEADER_SIZE + 1];
        let point = ReparsePoint::Generic(Generic::new(Tag::WOF, data));
        assert_eq!(
            point.encode(),
            Err(EncodeError::TooLarge {
                len: MAX_BUFFER_SIZE + 1
            })
        );
    }

    #[test]
    fn name_errors() {
        // Symlink data shorter than its 12 fixed bytes.
        let buf = [0x0c, 0, 0, 0xa0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            decode(&buf),
            Err(DecodeError::ShortData {
                tag: Tag::SYMLINK,
                need: 12,
                have: 8
            })
        );
        // Odd length.
        let buf = [
            0x03, 0, 0, 0xa0, 10, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0x41, 0,
        ];
        assert_eq!(
            decode(&buf),
            Err(DecodeError::OddNameLength {
                name: NameField::Substitute,
                length: 1
            })
        );
        // Print name out of bounds.
        let buf = [
            0x03, 0, 0, 0xa0, 10, 0, 0, 0, 0, 0, 2, 0, 2, 0, 2, 0, 0x41, 0,
        ];
        assert_eq!(
            decode(&buf),
            Err(DecodeError::NameOutOfBounds {
                name: NameField::Print,
                offset: 2,
                length: 2,
                path_buffer_start: 16,
                path_buffer_len: 2
            })
        );
        let message = decode(&buf).unwrap_err().to_string();
        assert_eq!(
            message,
            "print name (offset 2, length 2) runs past the end of the 2-byte path buffer at byte 16"
        );
    }

    #[test]
    fn empty_names_may_sit_at_the_end() {
        // Rust std's junction_point: print name empty, its offset right after the
        // substitute name's NUL, which is the end of the path buffer here.
        let point = MountPoint::new(r"\??\C:\x", "");
        let mut buf = vec![0x03, 0, 0, 0xa0, 0, 0, 0, 0];
        let sub = point.substitute_name.to_le_bytes();
        let fields = [0u16, sub.len() as u16, sub.len() as u16 + 2, 0];
        for f in fields {
            buf.extend_from_slice(&f.to_le_bytes());
        }
        buf.extend_from_slice(&sub);
        buf.extend_from_slice(&[0, 0]);
        buf[4] = (buf.len() - 8) as u8;
        assert_eq!(decode(&buf).unwrap(), ReparsePoint::MountPoint(point));
    }

    #[test]
    fn lx_and_appexeclink_errors() {
        let buf = [0x1d, 0, 0, 0xa0, 4, 0, 0, 0, 1, 0, 0, 0];
        assert_eq!(
            decode(&buf),
            Err(DecodeError::BadLxSymlinkVersion { version: 1 })
        );
        let buf = [0x1d, 0, 0, 0xa0, 2, 0, 0, 0, 2, 0];
        assert_eq!(
            decode(&buf),
            Err(DecodeError::ShortData {
                tag: Tag::LX_SYMLINK,
                need: 4,
                have: 2
            })
        );
        let buf = [0x1b, 0, 0, 0x80, 4, 0, 0, 0, 2, 0, 0, 0];
        assert_eq!(
            decode(&buf),
            Err(DecodeError::BadAppExecLinkVersion { version: 2 })
        );
        let buf = [0x1b, 0, 0, 0x80, 7, 0, 0, 0, 3, 0, 0, 0, 0x41, 0, 0];
        assert_eq!(decode(&buf), Err(DecodeError::OddStringData { len: 3 }));
        let buf = [
            0x1b, 0, 0, 0x80, 10, 0, 0, 0, 3, 0, 0, 0, 0x41, 0, 0, 0, 0x42, 0,
        ];
        assert_eq!(
            decode(&buf),
            Err(DecodeError::UnterminatedString {
                index: 1,
                offset: 16
            })
        );
        let buf = [0x23, 0, 0, 0x80, 1, 0, 0, 0, 0];
        assert_eq!(
            decode(&buf),
            Err(DecodeError::UnexpectedData {
                tag: Tag::AF_UNIX,
                len: 1
            })
        );
        assert_eq!(
            decode(&[0x23, 0, 0, 0x80, 0, 0, 0, 0]),
            Ok(ReparsePoint::AfUnix)
        );
    }

    #[test]
    fn generic_rules() {
        let guid = Guid([1; 16]);
        assert_eq!(
            Generic::new(Tag::MOUNT_POINT, vec![]).encode(),
            Err(EncodeError::TypedTag {
                tag: Tag::MOUNT_POINT
            })
        );
        assert_eq!(
            Generic::new(Tag(0x1234), vec![]).encode(),
            Err(EncodeError::MissingGuid { tag: Tag(0x1234) })
        );
        assert_eq!(
            Generic::with_guid(Tag::WOF, guid, vec![]).encode(),
            Err(EncodeError::UnexpectedGuid { tag: Tag::WOF })
        );
        assert_eq!(
            Generic::with_guid(Tag(1), guid, vec![]).encode(),
            Err(EncodeError::ReservedTag { tag: Tag(1) })
        );
        let point = ReparsePoint::from(Generic::with_guid(Tag(0x1234), guid, vec![9, 8]));
        let bytes = point.encode().unwrap();
        assert_eq!(bytes.len(), 26);
        assert_eq!(decode(&bytes).unwrap(), point);
        assert_eq!(point.kind(), "unknown");
    }

    #[test]
    fn guid_display() {
        let guid = Guid([
            0x78, 0x56, 0x34, 0x12, 0xbc, 0x9a, 0xf0, 0xde, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
            0xcd, 0xef,
        ]);
        assert_eq!(guid.to_string(), "{12345678-9abc-def0-0123-456789abcdef}");
    }

    #[test]
    fn kinds() {
        let volume =
            MountPoint::junction(r"\\?\Volume{12345678-9abc-def0-0123-456789abcdef}\").unwrap();
        assert_eq!(
            volume.substitute_name,
            r"\??\Volume{12345678-9abc-def0-0123-456789abcdef}\"
        );
        assert_eq!(ReparsePoint::from(volume).kind(), "mount-point");
        assert_eq!(ReparsePoint::from(Symlink::relative("x")).kind(), "symlink");
        assert_eq!(ReparsePoint::from(LxSymlink::new("x")).kind(), "lx-symlink");
        assert_eq!(ReparsePoint::AfUnix.kind(), "af-unix");
        assert_eq!(
            ReparsePoint::from(AppExecLink::new(["a"])).kind(),
            "appexeclink"
        );
        assert_eq!(
            ReparsePoint::from(Generic::new(Tag::CLOUD_3, vec![])).kind(),
            "cloud-3"
        );
    }

    #[test]
    fn constructors() {
        let s = Symlink::new(r"C:\Target").unwrap();
        assert_eq!(s.substitute_name, r"\??\C:\Target");
        assert_eq!(s.print_name, r"C:\Target");
        assert!(!s.is_relative());
        assert_eq!(s.target(), r"C:\Target");

        let s = Symlink::new(r"..\dir").unwrap();
        assert!(s.is_relative());
        assert_eq!(s.substitute_name, r"..\dir");
        assert_eq!(s.print_name, r"..\dir");

        let s = Symlink::new(r"\\?\UNC\server\share").unwrap();
        assert_eq!(s.substitute_name, r"\??\UNC\server\share");
        assert_eq!(s.print_name, r"\\server\share");

        assert_eq!(Symlink::new(""), Err(nt::NtPathError::Empty));

        let j = MountPoint::junction(r"\\?\C:\x").unwrap();
        assert_eq!(j.substitute_name, r"\??\C:\x");
        assert_eq!(j.print_name, r"C:\x");
        assert!(matches!(
            MountPoint::junction(r"\\server\share"),
            Err(nt::NtPathError::NotLocal { .. })
        ));
        assert!(matches!(
            MountPoint::junction(r"C:\a\..\b"),
            Err(nt::NtPathError::DotComponent { .. })
        ));
        assert!(matches!(
            MountPoint::junction(r"rel"),
            Err(nt::NtPathError::NotAbsolute { .. })
        ));

        let empty_print = MountPoint::new(r"\??\C:\test\tgt", "");
        assert_eq!(empty_print.display_name(), r"C:\test\tgt");
    }

    #[test]
    fn name_layout() {
        let layout = NameLayout::read(&hex::decode(K1).unwrap()).unwrap();
        assert_eq!(
            layout,
            NameLayout {
                substitute_offset: 0,
                substitute_length: 26,
                print_offset: 28,
                print_length: 18,
                flags: None,
                path_buffer_start: 16
            }
        );
        assert_eq!(NameLayout::read(&[0x17, 0, 0, 0x80, 0, 0, 0, 0]), None);
        assert_eq!(NameLayout::read(&hex::decode(K1).unwrap()[..15]), None);
    }
}
