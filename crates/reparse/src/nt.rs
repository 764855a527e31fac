//! NT path prefixes: between Win32 paths and the NT names stored in reparse buffers.
//!
//! A junction's or absolute symlink's *substitute name* is an NT object-manager path in
//! the `\??\` (per-session DOS devices) directory: `\??\C:\dir` or `\??\UNC\server\share`.
//! The I/O manager follows it as is, so it must never carry a Win32 prefix such as
//! `\\?\` (the `junction` crate's issue #30 made `\??\\\?\C:\...`, which Windows stores
//! and then cannot follow). The *print name* is the Win32 form shown to people.
//!
//! | Win32 path                 | NT substitute name          |
//! |----------------------------|-----------------------------|
//! | `C:\x`                     | `\??\C:\x`                  |
//! | `\\server\share\x`         | `\??\UNC\server\share\x`    |
//! | `\\?\C:\x`                 | `\??\C:\x`                  |
//! | `\\?\UNC\server\share\x`   | `\??\UNC\server\share\x`    |
//! | `\\?\Volume{GUID}\`        | `\??\Volume{GUID}\`         |
//! | `\\.\C:\x`                 | `\??\C:\x`                  |
//!
//! Functions here take UTF-16 units (`&[u16]`, which a [`WideString`] gives by
//! [`as_units`](WideString::as_units) or `as_ref()`), so names that are not valid Unicode
//! pass through unchanged. They only rewrite prefixes and, outside `\\?\` paths, turn `/`
//! into `\` as Win32 does; they do not resolve `.` or `..` (use `std::path::absolute` or
//! `GetFullPathNameW` first).

use core::fmt;

use crate::WideString;

const BACKSLASH: u16 = b'\\' as u16;
const SLASH: u16 = b'/' as u16;
const COLON: u16 = b':' as u16;
const DOT: u16 = b'.' as u16;
const QUESTION: u16 = b'?' as u16;

/// What an NT name in a substitute name points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NtPathKind {
    /// `\??\C:\...`: a path on a drive letter.
    Drive,
    /// `\??\UNC\server\share\...`: a network path.
    Unc,
    /// `\??\Volume{GUID}\...`: a volume by its GUID; a mount point to it is a *volume mount
    /// point* (knot kind `mount-point`).
    Volume,
    /// `\??\` followed by anything else (`\??\GLOBALROOT\Device\...`, `\??\PIPE\...`).
    Device,
    /// No `\??\` prefix: a relative symlink target, or a path rooted on the current drive
    /// (`\dir`).
    NotNt,
}

/// Why a Win32 path could not be made into an NT name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NtPathError {
    /// The path is empty.
    Empty,
    /// The path is relative (`dir\x`), rooted on the current drive (`\x`) or relative to a
    /// drive's current directory (`C:x`); an NT name needs a full path.
    NotAbsolute {
        /// The path given.
        path: WideString,
    },
    /// A junction must lead to a local drive (`C:\...`) or a volume (`\\?\Volume{GUID}\`),
    /// not to a network or device path.
    NotLocal {
        /// The path given.
        path: WideString,
    },
    /// A mount point name may not contain `.` or `..` components (MS-FSCC 2.1.2.5).
    DotComponent {
        /// The path given.
        path: WideString,
    },
}

impl fmt::Display for NtPathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NtPathError::Empty => f.write_str("the path is empty"),
            NtPathError::NotAbsolute { path } => {
                write!(
                    f,
                    "`{path}` is not a full path (like C:\\dir or \\\\server\\share)"
                )
            }
            NtPathError::NotLocal { path } => write!(
                f,
                "`{path}` is not a local drive or volume path; a junction cannot lead there"
            ),
            NtPathError::DotComponent { path } => write!(
                f,
                "`{path}` contains a `.` or `..` component, which a junction may not hold"
            ),
        }
    }
}

impl std::error::Error for NtPathError {}

/// The NT prefix `\??\`.
pub const NT_PREFIX: &str = r"\??\";
/// The Win32 verbatim prefix `\\?\`.
pub const VERBATIM_PREFIX: &str = r"\\?\";

/// Whether `units` starts with the ASCII text `prefix`, ignoring ASCII case.
fn starts_with_ascii(units: &[u16], prefix: &str) -> bool {
    units.len() >= prefix.len()
        && units
            .iter()
            .zip(prefix.bytes())
            .all(|(&u, b)| u < 0x80 && (u as u8).eq_ignore_ascii_case(&b))
}

fn is_sep(u: u16) -> bool {
    u == BACKSLASH || u == SLASH
}

fn is_ascii_alpha(u: u16) -> bool {
    u < 0x80 && (u as u8).is_ascii_alphabetic()
}

fn is_hex(u: u16) -> bool {
    u < 0x80 && (u as u8).is_ascii_hexdigit()
}

/// `units` after the first `n`, or empty.
fn after(units: &[u16], n: usize) -> &[u16] {
    units.get(n..).unwrap_or(&[])
}

/// Whether `units` (after `\??\` or `\\?\`) is `Volume{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}`
/// followed by `\` or the end.
fn is_volume_guid(units: &[u16]) -> bool {
    if !starts_with_ascii(units, "Volume{") {
        return false;
    }
    let guid = after(units, "Volume{".len());
    let groups = [8usize, 4, 4, 4, 12];
    let mut pos = 0;
    for (i, &n) in groups.iter().enumerate() {
        let Some(digits) = guid.get(pos..pos + n) else {
            return false;
        };
        if !digits.iter().all(|&u| is_hex(u)) {
            return false;
        }
        pos += n;
        let want = if i + 1 == groups.len() { b'}' } else { b'-' };
        if guid.get(pos) != Some(&u16::from(want)) {
            return false;
        }
        pos += 1;
    }
    matches!(guid.get(pos), None | Some(&BACKSLASH))
}

/// What the NT name `name` points at.
pub fn classify(name: &[u16]) -> NtPathKind {
    if !starts_with_ascii(name, NT_PREFIX) {
        return NtPathKind::NotNt;
    }
    let rest = after(name, NT_PREFIX.len());
    if starts_with_ascii(rest, "UNC\\") {
        NtPathKind::Unc
    } else if is_drive(rest) {
        NtPathKind::Drive
    } else if is_volume_guid(rest) {
        NtPathKind::Volume
    } else {
        NtPathKind::Device
    }
}

/// `C:` followed by a separator or the end.
fn is_drive(units: &[u16]) -> bool {
    match units {
        [letter, COLON] => is_ascii_alpha(*letter),
        [letter, COLON, sep, ..] => is_ascii_alpha(*letter) && is_sep(*sep),
        _ => false,
    }
}

/// Whether `name` is a volume mount point's substitute name, `\??\Volume{GUID}\...`.
pub fn is_volume_name(name: &[u16]) -> bool {
    classify(name) == NtPathKind::Volume
}

/// Whether `path` is a full Win32 path (`C:\x`, `\\server\share`, `\\?\...`, `\\.\...`)
/// or already an NT name (`\??\...`), as opposed to a relative one (`x`, `..\x`, `\x`,
/// `C:x`). Windows stores a symlink to the latter with `SYMLINK_FLAG_RELATIVE`.
pub fn is_absolute(path: &[u16]) -> bool {
    match path {
        [a, b, ..] if is_sep(*a) && is_sep(*b) => true,
        _ => starts_with_ascii(path, NT_PREFIX) || is_drive(path) && path.len() > 2,
    }
}

/// The NT name for the Win32 path `path`: see the [module table](self).
///
/// A `\??\` name is returned unchanged. `\\?\` paths keep everything after the prefix as
/// is; other paths have `/` turned into `\`.
///
/// # Errors
///
/// [`NtPathError::Empty`] or [`NtPathError::NotAbsolute`] (`x`, `\x`, `C:x`).
pub fn win32_to_nt(path: &[u16]) -> Result<WideString, NtPathError> {
    if path.is_empty() {
        return Err(NtPathError::Empty);
    }
    if starts_with_ascii(path, NT_PREFIX) {
        return Ok(WideString::from(path));
    }
    let mut out = WideString::from(NT_PREFIX);
    if starts_with_ascii(path, VERBATIM_PREFIX) {
        // `\\?\C:\x` and `\\?\UNC\s\x` both become `\??\` + the rest: verbatim paths are
        // passed to the object manager unparsed, so nothing else changes.
        out.push_units(after(path, VERBATIM_PREFIX.len()));
        return Ok(out);
    }
    let not_absolute = || NtPathError::NotAbsolute {
        path: WideString::from(path),
    };
    match path {
        // `\\.\C:\x` (Win32 device namespace) -> `\??\C:\x`.
        [a, b, DOT, c, ..] if is_sep(*a) && is_sep(*b) && is_sep(*c) => {
            push_normalised(&mut out, after(path, 4));
        }
        // `\\?` with slashes (`//?/C:/x`) is not verbatim for Win32 but still a device
        // path; treat it like `\\.\`.
        [a, b, QUESTION, c, ..] if is_sep(*a) && is_sep(*b) && is_sep(*c) => {
            push_normalised(&mut out, after(path, 4));
        }
        // `\\server\share\x` -> `\??\UNC\server\share\x`.
        [a, b, rest @ ..] if is_sep(*a) && is_sep(*b) => {
            if rest.is_empty() {
                return Err(not_absolute());
            }
            out.push_str("UNC\\");
            push_normalised(&mut out, rest);
        }
        _ if is_drive(path) && path.len() > 2 => push_normalised(&mut out, path),
        _ => return Err(not_absolute()),
    }
    Ok(out)
}

fn push_normalised(out: &mut WideString, units: &[u16]) {
    let mapped: Vec<u16> = units
        .iter()
        .map(|&u| if u == SLASH { BACKSLASH } else { u })
        .collect();
    out.push_units(&mapped);
}

/// The Win32 path for the NT name `name`, as a person would type it; the inverse of
/// [`win32_to_nt`].
///
/// `\??\C:\x` becomes `C:\x`, `\??\UNC\s\x` becomes `\\s\x`, any other `\??\` name
/// (`\??\Volume{GUID}\`) becomes `\\?\...`, and a name without `\??\` (a relative symlink
/// target) is returned unchanged. This is the print name to show when a buffer's print
/// name is empty (PowerShell's `New-Item` and Rust's `junction_point` leave it so).
pub fn nt_to_win32(name: &[u16]) -> WideString {
    let rest = after(name, NT_PREFIX.len());
    match classify(name) {
        NtPathKind::Drive => WideString::from(rest),
        NtPathKind::Unc => {
            let mut out = WideString::from(r"\\");
            out.push_units(after(rest, "UNC\\".len()));
            out
        }
        NtPathKind::Volume | NtPathKind::Device => {
            let mut out = WideString::from(VERBATIM_PREFIX);
            out.push_units(rest);
            out
        }
        NtPathKind::NotNt => WideString::from(name),
    }
}

/// Whether the NT name holds a `.` or `..` component, which MS-FSCC 2.1.2.5 forbids in a
/// mount point's names.
pub fn has_dot_component(name: &[u16]) -> bool {
    name.split(|&u| u == BACKSLASH)
        .any(|c| matches!(c, [DOT] | [DOT, DOT]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> WideString {
        WideString::from(s)
    }

    fn to_nt(s: &str) -> Result<String, NtPathError> {
        win32_to_nt(w(s).as_units()).map(|n| n.to_string_lossy())
    }

    fn to_win32(s: &str) -> String {
        nt_to_win32(w(s).as_units()).to_string_lossy()
    }

    #[test]
    fn drive_paths() {
        assert_eq!(to_nt(r"C:\x").unwrap(), r"\??\C:\x");
        assert_eq!(to_nt(r"c:\").unwrap(), r"\??\c:\");
        assert_eq!(to_nt("C:/x/y").unwrap(), r"\??\C:\x\y");
        assert_eq!(to_win32(r"\??\C:\x"), r"C:\x");
        assert_eq!(to_win32(r"\??\C:\"), r"C:\");
    }

    #[test]
    fn unc_paths() {
        assert_eq!(
            to_nt(r"\\server\share\x").unwrap(),
            r"\??\UNC\server\share\x"
        );
        assert_eq!(to_nt("//server/share").unwrap(), r"\??\UNC\server\share");
        assert_eq!(to_win32(r"\??\UNC\server\share\x"), r"\\server\share\x");
        assert_eq!(to_win32(r"\??\unc\server\share"), r"\\server\share");
    }

    #[test]
    fn verbatim_paths_never_double_the_prefix() {
        // The `junction` crate's issue #30: `\\?\C:\x` must not become `\??\\\?\C:\x`.
        assert_eq!(to_nt(r"\\?\C:\x").unwrap(), r"\??\C:\x");
        assert_eq!(to_nt(r"\\?\UNC\s\x").unwrap(), r"\??\UNC\s\x");
        // Verbatim means unparsed: slashes stay.
        assert_eq!(to_nt(r"\\?\C:\a/b").unwrap(), r"\??\C:\a/b");
        assert_eq!(to_nt(r"\??\C:\x").unwrap(), r"\??\C:\x");
        assert_eq!(to_nt(r"\\.\C:\x").unwrap(), r"\??\C:\x");
        assert_eq!(to_nt("//./C:/x").unwrap(), r"\??\C:\x");
    }

    #[test]
    fn volume_guid() {
        let guid = r"Volume{12345678-9abc-DEF0-1234-56789abcdef0}";
        let nt = format!(r"\??\{guid}\");
        assert_eq!(to_nt(&format!(r"\\?\{guid}\")).unwrap(), nt);
        assert_eq!(classify(w(&nt).as_units()), NtPathKind::Volume);
        assert!(is_volume_name(w(&nt).as_units()));
        assert!(is_volume_name(w(&format!(r"\??\{guid}")).as_units()));
        assert!(is_volume_name(w(&format!(r"\??\{guid}\dir")).as_units()));
        assert_eq!(to_win32(&nt), format!(r"\\?\{guid}\"));
        // Not quite a GUID.
        for bad in [
            r"\??\Volume{12345678-9abc-def0-1234-56789abcdef}\",
            r"\??\Volume{12345678-9abc-def0-1234-56789abcdef0\",
            r"\??\Volume{12345678-9abc-def0-1234-56789abcdefg}\",
            r"\??\Volume{12345678-9abc-def0-1234-56789abcdef0}x",
            r"\??\Volume{",
        ] {
            assert_eq!(classify(w(bad).as_units()), NtPathKind::Device, "{bad}");
        }
    }

    #[test]
    fn classify_kinds() {
        assert_eq!(classify(w(r"\??\C:\x").as_units()), NtPathKind::Drive);
        assert_eq!(classify(w(r"\??\C:").as_units()), NtPathKind::Drive);
        assert_eq!(classify(w(r"\??\UNC\s\x").as_units()), NtPathKind::Unc);
        assert_eq!(
            classify(w(r"\??\GLOBALROOT\Device\X").as_units()),
            NtPathKind::Device
        );
        assert_eq!(classify(w(r"..\x").as_units()), NtPathKind::NotNt);
        assert_eq!(classify(w(r"\x").as_units()), NtPathKind::NotNt);
        assert_eq!(classify(&[]), NtPathKind::NotNt);
    }

    #[test]
    fn device_names_show_verbatim() {
        assert_eq!(
            to_win32(r"\??\GLOBALROOT\Device\X"),
            r"\\?\GLOBALROOT\Device\X"
        );
    }

    #[test]
    fn relative_targets_pass_through() {
        for rel in [r"..\x", ".", r"a\b", r"\rooted", "C:drive-relative", ""] {
            assert_eq!(to_win32(rel), rel);
        }
    }

    #[test]
    fn not_absolute() {
        assert_eq!(to_nt(""), Err(NtPathError::Empty));
        for rel in [r"x\y", r"\x", "C:x", "C:", r"\\", "."] {
            assert!(
                matches!(to_nt(rel), Err(NtPathError::NotAbsolute { .. })),
                "{rel}"
            );
        }
    }

    #[test]
    fn absolute_or_not() {
        for abs in [
            r"C:\x",
            "C:/",
            r"\\s\x",
            r"\\?\C:\x",
            r"\??\C:\x",
            r"\\.\C:",
        ] {
            assert!(is_absolute(w(abs).as_units()), "{abs}");
        }
        for rel in [r"x", r"..\x", r"\x", "C:x", "C:", ""] {
            assert!(!is_absolute(w(rel).as_units()), "{rel}");
        }
    }

    #[test]
    fn unpaired_surrogates_survive() {
        let mut path = w(r"C:\");
        path.push_units(&[0xD800, 0x61]);
        let nt = win32_to_nt(path.as_units()).unwrap();
        assert_eq!(&nt.as_units()[4..], path.as_units());
        assert_eq!(nt_to_win32(nt.as_units()), path);
    }

    #[test]
    fn dots() {
        assert!(has_dot_component(w(r"\??\C:\a\..\b").as_units()));
        assert!(has_dot_component(w(r"\??\C:\a\.").as_units()));
        assert!(!has_dot_component(w(r"\??\C:\a\.b\..c").as_units()));
    }
}
