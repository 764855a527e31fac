//! App execution aliases (`IO_REPARSE_TAG_APPEXECLINK`).

use crate::bytes::{start_buffer, u32_at};
use crate::wide::units_from_le;
use crate::{DecodeError, EncodeError, HEADER_SIZE, Tag, WideString};

/// The AppExecLink format version Windows 10 and 11 write.
pub const APPEXECLINK_VERSION: u32 = 3;

/// An app execution alias (`IO_REPARSE_TAG_APPEXECLINK`, `0x8000001B`): the files in
/// `%LOCALAPPDATA%\Microsoft\WindowsApps` that start Store apps (`wt.exe`, `python.exe`).
///
/// The format is not in MS-FSCC. As observed: a `u32` version (3), then NUL-terminated
/// UTF-16 strings, in version 3 four of them: the package family name, the application
/// user model id, the executable's full path, and an application type (`"0"`). All
/// strings are kept, in order, however many there are.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AppExecLink {
    /// The strings, without their NULs.
    pub strings: Vec<WideString>,
}

impl AppExecLink {
    /// An AppExecLink holding these strings.
    pub fn new<S: Into<WideString>>(strings: impl IntoIterator<Item = S>) -> Self {
        AppExecLink {
            strings: strings.into_iter().map(Into::into).collect(),
        }
    }

    /// The first string: the package family name (`Microsoft.WindowsTerminal_8wekyb3d8bbwe`).
    pub fn package_family_name(&self) -> Option<&WideString> {
        self.strings.first()
    }

    /// The second string: the application user model id (`...!App`).
    pub fn app_user_model_id(&self) -> Option<&WideString> {
        self.strings.get(1)
    }

    /// The third string: the full path of the executable the alias starts.
    pub fn executable(&self) -> Option<&WideString> {
        self.strings.get(2)
    }

    pub(crate) fn encoded_len(&self) -> usize {
        HEADER_SIZE + 4 + self.strings.iter().map(|s| s.byte_len() + 2).sum::<usize>()
    }

    pub(crate) fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        if let Some(index) = self.strings.iter().position(|s| s.contains_unit(0)) {
            return Err(EncodeError::NulInString { index });
        }
        let mut buf = start_buffer(Tag::APPEXECLINK, self.encoded_len(), HEADER_SIZE)?;
        buf.extend_from_slice(&APPEXECLINK_VERSION.to_le_bytes());
        for s in &self.strings {
            buf.extend(s.to_le_bytes());
            buf.extend_from_slice(&[0, 0]);
        }
        Ok(buf)
    }

    pub(crate) fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let version = u32_at(data, 0).ok_or(DecodeError::ShortData {
            tag: Tag::APPEXECLINK,
            need: 4,
            have: data.len(),
        })?;
        if version != APPEXECLINK_VERSION {
            return Err(DecodeError::BadAppExecLinkVersion { version });
        }
        let string_bytes = data.get(4..).unwrap_or_default();
        if !string_bytes.len().is_multiple_of(2) {
            return Err(DecodeError::OddStringData {
                len: string_bytes.len(),
            });
        }
        let units: Vec<u16> = units_from_le(string_bytes).collect();
        let mut strings = Vec::new();
        let mut rest = units.as_slice();
        // Byte position of `rest` in the whole buffer, for the error message.
        let mut offset = HEADER_SIZE + 4;
        while !rest.is_empty() {
            let Some(nul) = rest.iter().position(|&u| u == 0) else {
                return Err(DecodeError::UnterminatedString {
                    index: strings.len(),
                    offset,
                });
            };
            let (string, tail) = rest.split_at(nul);
            strings.push(WideString::from(string));
            rest = tail.get(1..).unwrap_or_default();
            offset += (nul + 1) * 2;
        }
        Ok(AppExecLink { strings })
    }
}
