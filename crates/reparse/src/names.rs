//! Mount points (MS-FSCC 2.1.2.5) and symbolic links (MS-FSCC 2.1.2.4): the two buffers
//! that carry a substitute name and a print name.

use crate::bytes::{start_buffer, to_u16, u16_at, u32_at};
use crate::nt::{self, NtPathError, NtPathKind};
use crate::wide::units_from_le;
use crate::{DecodeError, EncodeError, HEADER_SIZE, NameField, Tag, WideString};

/// `SYMLINK_FLAG_RELATIVE`: the symlink's substitute name is relative to the link's
/// parent directory (MS-FSCC 2.1.2.4).
pub const SYMLINK_FLAG_RELATIVE: u32 = 0x0000_0001;

/// Bytes of a mount point's fixed fields: the four name offsets and lengths.
const MOUNT_POINT_FIXED: usize = 8;
/// Bytes of a symlink's fixed fields: the four name fields and `Flags`.
const SYMLINK_FIXED: usize = 12;

/// A mount point (`IO_REPARSE_TAG_MOUNT_POINT`, MS-FSCC 2.1.2.5): a junction to a
/// directory, or a volume mount point to `\??\Volume{GUID}\`.
///
/// Only the names are kept, not where they sat in the buffer: buffers from different
/// writers that hold the same names are equal. [`encode`](crate::encode) writes Windows'
/// own layout (substitute name + NUL, then print name + NUL, as `mklink /J` does); read
/// the stored offsets with [`NameLayout::read`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MountPoint {
    /// The NT path the I/O manager follows, such as `\??\C:\target`.
    pub substitute_name: WideString,
    /// The path shown to people, such as `C:\target`. May be empty: PowerShell's
    /// `New-Item -ItemType Junction` and Rust's `junction_point` leave it so; see
    /// [`display_name`](Self::display_name).
    pub print_name: WideString,
}

impl MountPoint {
    /// A mount point with these names, as they are.
    pub fn new(substitute_name: impl Into<WideString>, print_name: impl Into<WideString>) -> Self {
        MountPoint {
            substitute_name: substitute_name.into(),
            print_name: print_name.into(),
        }
    }

    /// The junction `mklink /J` would make to the full Win32 path `target`: substitute name
    /// `\??\C:\target` and print name `C:\target`.
    ///
    /// `target` may be `C:\x`, `\\?\C:\x`, `\\?\Volume{GUID}\` or already `\??\C:\x`; the
    /// print name is always the plain Win32 form ([`nt::nt_to_win32`]), never empty,
    /// because Windows containers rebuild junctions from it (go-winio#340). A volume path
    /// makes a volume mount point.
    ///
    /// # Errors
    ///
    /// [`NtPathError::NotAbsolute`] for a relative path, [`NtPathError::NotLocal`] for a
    /// network or device path, [`NtPathError::DotComponent`] for `.` or `..` components.
    pub fn junction(target: impl Into<WideString>) -> Result<Self, NtPathError> {
        let target = target.into();
        let substitute_name = nt::win32_to_nt(target.as_units())?;
        match nt::classify(substitute_name.as_units()) {
            NtPathKind::Drive | NtPathKind::Volume => {}
            NtPathKind::Unc | NtPathKind::Device | NtPathKind::NotNt => {
                return Err(NtPathError::NotLocal { path: target });
            }
        }
        if nt::has_dot_component(substitute_name.as_units()) {
            return Err(NtPathError::DotComponent { path: target });
        }
        let print_name = nt::nt_to_win32(substitute_name.as_units());
        Ok(MountPoint {
            substitute_name,
            print_name,
        })
    }

    /// Whether this leads to a volume (`\??\Volume{GUID}\...`) rather than a directory.
    pub fn is_volume_mount_point(&self) -> bool {
        nt::is_volume_name(self.substitute_name.as_units())
    }

    /// The knot kind: `mount-point` for a volume mount point, otherwise `junction`.
    pub fn kind(&self) -> &'static str {
        if self.is_volume_mount_point() {
            "mount-point"
        } else {
            "junction"
        }
    }

    /// Where the mount point leads, as a Win32 path: the substitute name through
    /// [`nt::nt_to_win32`] (`C:\target`, `\\?\Volume{GUID}\`). This is what Windows
    /// follows; the print name is only a label a writer may have got wrong or left empty.
    pub fn target(&self) -> WideString {
        nt::nt_to_win32(self.substitute_name.as_units())
    }

    /// The name to show: the print name, or the [`target`](Self::target) when the print
    /// name is empty.
    pub fn display_name(&self) -> WideString {
        if self.print_name.is_empty() {
            self.target()
        } else {
            self.print_name.clone()
        }
    }

    pub(crate) fn encoded_len(&self) -> usize {
        // Windows' layout: substitute name + NUL, print name + NUL.
        HEADER_SIZE
            + MOUNT_POINT_FIXED
            + self.substitute_name.byte_len()
            + self.print_name.byte_len()
            + 4
    }

    pub(crate) fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let total = self.encoded_len();
        let mut buf = start_buffer(Tag::MOUNT_POINT, total, HEADER_SIZE)?;
        let sub_len = to_u16(self.substitute_name.byte_len(), total)?;
        let print_len = to_u16(self.print_name.byte_len(), total)?;
        let print_offset = to_u16(self.substitute_name.byte_len() + 2, total)?;
        for field in [0, sub_len, print_offset, print_len] {
            buf.extend_from_slice(&field.to_le_bytes());
        }
        buf.extend(self.substitute_name.to_le_bytes());
        buf.extend_from_slice(&[0, 0]);
        buf.extend(self.print_name.to_le_bytes());
        buf.extend_from_slice(&[0, 0]);
        debug_assert_eq!(buf.len(), total);
        Ok(buf)
    }

    pub(crate) fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let names = decode_names(Tag::MOUNT_POINT, data, MOUNT_POINT_FIXED)?;
        Ok(MountPoint {
            substitute_name: names.substitute,
            print_name: names.print,
        })
    }
}

/// A symbolic link (`IO_REPARSE_TAG_SYMLINK`, MS-FSCC 2.1.2.4), to a file or directory.
///
/// As with [`MountPoint`], only the names and flags are kept. [`encode`](crate::encode)
/// writes Windows' own layout (`CreateSymbolicLinkW`, `mklink`): print name first, then
/// substitute name, no NULs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Symlink {
    /// The path the I/O manager follows: `\??\C:\target` for an absolute link, the target
    /// as written (`..\dir`) for a relative one.
    pub substitute_name: WideString,
    /// The path shown to people (`C:\target`, `..\dir`). May be empty.
    pub print_name: WideString,
    /// `Flags` as stored; bit 0 is [`SYMLINK_FLAG_RELATIVE`], other bits are kept as they
    /// are.
    pub flags: u32,
}

impl Symlink {
    /// A symlink with these names and flags, as they are.
    pub fn with_names(
        substitute_name: impl Into<WideString>,
        print_name: impl Into<WideString>,
        flags: u32,
    ) -> Self {
        Symlink {
            substitute_name: substitute_name.into(),
            print_name: print_name.into(),
            flags,
        }
    }

    /// A relative symlink: both names are `target`, unchanged, and the flag
    /// [`SYMLINK_FLAG_RELATIVE`] is set. Windows resolves the target against the link's
    /// parent directory and expects `\` separators; this function does not rewrite `/`.
    pub fn relative(target: impl Into<WideString>) -> Self {
        let target = target.into();
        Symlink {
            substitute_name: target.clone(),
            print_name: target,
            flags: SYMLINK_FLAG_RELATIVE,
        }
    }

    /// An absolute symlink to the full Win32 path `target`, as `mklink` makes it:
    /// substitute name `\??\C:\target` (see [`nt::win32_to_nt`]), print name `C:\target`.
    ///
    /// # Errors
    ///
    /// [`NtPathError::Empty`] or [`NtPathError::NotAbsolute`] if `target` is not a full
    /// path.
    pub fn absolute(target: impl Into<WideString>) -> Result<Self, NtPathError> {
        let target = target.into();
        let substitute_name = nt::win32_to_nt(target.as_units())?;
        let print_name = nt::nt_to_win32(substitute_name.as_units());
        Ok(Symlink {
            substitute_name,
            print_name,
            flags: 0,
        })
    }

    /// A symlink to `target`, absolute if it is a full path ([`nt::is_absolute`]: `C:\x`,
    /// `\\server\share`, `\\?\...`), relative otherwise (`x`, `..\x`, `\x`), as
    /// `CreateSymbolicLinkW` decides. A drive-relative `C:x` is the exception: the codec
    /// keeps it as relative text, while `CreateSymbolicLinkW` makes it a full path against
    /// drive C's current directory, which only the system knows; resolve such a target
    /// before calling this to store what Windows would.
    ///
    /// # Errors
    ///
    /// [`NtPathError::Empty`] for an empty target, [`NtPathError::NotAbsolute`] for a bare
    /// `\\` (a UNC prefix without a server).
    pub fn new(target: impl Into<WideString>) -> Result<Self, NtPathError> {
        let target = target.into();
        if target.is_empty() {
            Err(NtPathError::Empty)
        } else if nt::is_absolute(target.as_units()) {
            Self::absolute(target)
        } else {
            Ok(Self::relative(target))
        }
    }

    /// Whether [`SYMLINK_FLAG_RELATIVE`] is set.
    pub fn is_relative(&self) -> bool {
        self.flags & SYMLINK_FLAG_RELATIVE != 0
    }

    /// The target as a Win32 path: a relative target as stored, an absolute one through
    /// [`nt::nt_to_win32`] (`\??\C:\x` becomes `C:\x`). Like Rust's `fs::read_link`, this
    /// reads the substitute name, which is what Windows follows.
    pub fn target(&self) -> WideString {
        if self.is_relative() {
            self.substitute_name.clone()
        } else {
            nt::nt_to_win32(self.substitute_name.as_units())
        }
    }

    /// The name to show: the print name, or the [`target`](Self::target) when the print
    /// name is empty.
    pub fn display_name(&self) -> WideString {
        if self.print_name.is_empty() {
            self.target()
        } else {
            self.print_name.clone()
        }
    }

    pub(crate) fn encoded_len(&self) -> usize {
        HEADER_SIZE + SYMLINK_FIXED + self.print_name.byte_len() + self.substitute_name.byte_len()
    }

    pub(crate) fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let total = self.encoded_len();
        let mut buf = start_buffer(Tag::SYMLINK, total, HEADER_SIZE)?;
        // Windows' layout: print name at offset 0, substitute name right after, no NULs.
        let print_len = to_u16(self.print_name.byte_len(), total)?;
        let sub_len = to_u16(self.substitute_name.byte_len(), total)?;
        for field in [print_len, sub_len, 0, print_len] {
            buf.extend_from_slice(&field.to_le_bytes());
        }
        buf.extend_from_slice(&self.flags.to_le_bytes());
        buf.extend(self.print_name.to_le_bytes());
        buf.extend(self.substitute_name.to_le_bytes());
        debug_assert_eq!(buf.len(), total);
        Ok(buf)
    }

    pub(crate) fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let names = decode_names(Tag::SYMLINK, data, SYMLINK_FIXED)?;
        Ok(Symlink {
            substitute_name: names.substitute,
            print_name: names.print,
            flags: names.flags,
        })
    }
}

/// Where the names of a mount point or symlink buffer sit, as stored: for showing a
/// buffer the way `fsutil reparsepoint query` does. Offsets count from the start of the
/// path buffer, lengths exclude any NUL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NameLayout {
    /// `SubstituteNameOffset`.
    pub substitute_offset: u16,
    /// `SubstituteNameLength`.
    pub substitute_length: u16,
    /// `PrintNameOffset`.
    pub print_offset: u16,
    /// `PrintNameLength`.
    pub print_length: u16,
    /// `Flags` of a symlink; `None` for a mount point.
    pub flags: Option<u32>,
    /// Where the path buffer starts in the whole buffer: 16 for a mount point, 20 for a
    /// symlink.
    pub path_buffer_start: usize,
}

impl NameLayout {
    /// Reads the name fields of a mount point or symlink buffer, without checking them.
    /// `None` for other tags or a buffer too short to hold the fields.
    pub fn read(buf: &[u8]) -> Option<NameLayout> {
        let tag = Tag(u32_at(buf, 0)?);
        let fixed = match tag {
            Tag::MOUNT_POINT => MOUNT_POINT_FIXED,
            Tag::SYMLINK => SYMLINK_FIXED,
            _ => return None,
        };
        let data = buf.get(HEADER_SIZE..)?;
        let flags = if tag == Tag::SYMLINK {
            Some(u32_at(data, 8)?)
        } else {
            None
        };
        Some(NameLayout {
            substitute_offset: u16_at(data, 0)?,
            substitute_length: u16_at(data, 2)?,
            print_offset: u16_at(data, 4)?,
            print_length: u16_at(data, 6)?,
            flags,
            path_buffer_start: HEADER_SIZE + fixed,
        })
    }
}

struct Names {
    substitute: WideString,
    print: WideString,
    flags: u32,
}

/// Reads the name fields and both names from `data` (the bytes after the 8-byte header).
/// `fixed` is the size of the fields before the path buffer: 8, or 12 with `Flags`.
///
/// The names are found by their offsets only: writers disagree on the order (Windows puts
/// a junction's substitute name first and a symlink's print name first) and on NULs.
fn decode_names(tag: Tag, data: &[u8], fixed: usize) -> Result<Names, DecodeError> {
    let short = || DecodeError::ShortData {
        tag,
        need: fixed,
        have: data.len(),
    };
    let field = |offset| u16_at(data, offset).ok_or_else(short);
    let (sub_offset, sub_length) = (field(0)?, field(2)?);
    let (print_offset, print_length) = (field(4)?, field(6)?);
    let flags = if fixed == SYMLINK_FIXED {
        u32_at(data, 8).ok_or_else(short)?
    } else {
        0
    };
    let path_buffer = data.get(fixed..).ok_or_else(short)?;
    let name = |name: NameField, offset: u16, length: u16| {
        let start = usize::from(offset);
        let bytes = path_buffer.get(start..start + usize::from(length)).ok_or(
            DecodeError::NameOutOfBounds {
                name,
                offset,
                length,
                path_buffer_start: HEADER_SIZE + fixed,
                path_buffer_len: path_buffer.len(),
            },
        )?;
        if !offset.is_multiple_of(2) {
            return Err(DecodeError::OddNameOffset { name, offset });
        }
        if !length.is_multiple_of(2) {
            return Err(DecodeError::OddNameLength { name, length });
        }
        Ok(WideString::from_units(
            units_from_le(bytes).collect::<Vec<_>>(),
        ))
    };
    Ok(Names {
        substitute: name(NameField::Substitute, sub_offset, sub_length)?,
        print: name(NameField::Print, print_offset, print_length)?,
        flags,
    })
}
