//! Paths as Win32 wants them: NUL-terminated UTF-16, and `\\?\` for long paths.
//!
//! Windows limits a plain path to `MAX_PATH` (260) UTF-16 units unless the process opts
//! in to long paths (a manifest and a registry setting knot cannot count on). A path with
//! the `\\?\` prefix has no such limit but is passed to the file system unparsed: no
//! current directory, no `.` or `..`, no `/`. So, like std's `get_long_path`
//! (library/std/src/sys/path/windows.rs), a path is made absolute with `GetFullPathNameW`
//! first and given the prefix if it is long then; only a short full path is passed as it
//! is. Paths shown to the user go the other way: see [`user_path`].

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::windows::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use super::ffi::{GetFullPathNameW, MAX_PATH};

/// A full path shorter than this many units, its NUL included, is passed as it is. 248, not
/// 260: `CreateDirectoryW` needs room for an 8.3 file name after the directory (its docs;
/// std's `get_long_path` uses the same bound, counted the same way).
const SHORT_PATH_LIMIT: usize = 248;

const BACKSLASH: u16 = b'\\' as u16;
const SLASH: u16 = b'/' as u16;

/// `s` as UTF-16 units, without a terminator.
pub(crate) fn units(s: &OsStr) -> Vec<u16> {
    s.encode_wide().collect()
}

/// `units` with a NUL after them; an interior NUL is an error (Win32 would cut the name
/// short there and act on another path).
pub(crate) fn terminated(mut units: Vec<u16>) -> io::Result<Vec<u16>> {
    if units.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path contains a NUL character",
        ));
    }
    units.push(0);
    Ok(units)
}

fn starts_with(units: &[u16], prefix: &str) -> bool {
    strip_prefix(units, prefix).is_some()
}

/// `units` after the ASCII `prefix`, compared ignoring ASCII case (`\\?\unc\` is
/// `\\?\UNC\` to Windows).
pub(crate) fn strip_prefix<'a>(units: &'a [u16], prefix: &str) -> Option<&'a [u16]> {
    let n = prefix.len();
    let head = units.get(..n)?;
    let same = head
        .iter()
        .zip(prefix.bytes())
        .all(|(&u, b)| u < 0x80 && (u as u8).eq_ignore_ascii_case(&b));
    same.then(|| &units[n..])
}

/// Whether `units` is a UNC path, `\\server\share` (either separator), and not a device
/// path (`\\.\`, `\\?\`).
pub(crate) fn is_unc(units: &[u16]) -> bool {
    match units {
        [a, b, c, d, ..] if is_sep(*a) && is_sep(*b) && is_sep(*d) => {
            *c != u16::from(b'.') && *c != u16::from(b'?')
        }
        [a, b, _, ..] => is_sep(*a) && is_sep(*b),
        _ => false,
    }
}

/// The drive letter of `C:\...` or `C:`.
pub(crate) fn drive_letter(units: &[u16]) -> Option<u16> {
    match units {
        [letter, colon, ..]
            if *colon == u16::from(b':')
                && *letter < 0x80
                && (*letter as u8).is_ascii_alphabetic() =>
        {
            Some(*letter)
        }
        _ => None,
    }
}

/// Whether `units` is a verbatim path (`\\?\`, `\??\`), which Win32 passes to the file
/// system unparsed and without the `MAX_PATH` limit.
fn is_verbatim(units: &[u16]) -> bool {
    starts_with(units, r"\\?\") || starts_with(units, r"\??\")
}

/// Whether `units` is a full path that Win32 reads without the current directory: a drive
/// and a separator (`C:\`, `C:/`), or two separators (`\\server\share`, the device path
/// `\\.\`). Not `\x` (the current drive's root) nor `C:x` (drive C's current directory).
fn is_full(units: &[u16]) -> bool {
    match units {
        [a, b, ..] if is_sep(*a) && is_sep(*b) => true,
        [_, _, sep, ..] => drive_letter(units).is_some() && is_sep(*sep),
        _ => false,
    }
}

/// `path` ready for a Win32 call, made as std's `get_long_path` makes it:
/// - a verbatim path (`\\?\`, `\??\`) as it is;
/// - a short full path (see `is_full`) as it is;
/// - anything else made absolute with `GetFullPathNameW`, as Win32 itself would (so a short
///   relative path, whose full form in a deep current directory can be long, is not
///   missed); if the result is long, it gets the `\\?\` prefix (`\\?\UNC\` for
///   `\\server\share`, and `\\.\` is made `\\?\`), so `MAX_PATH` never limits knot.
///
/// # Errors
/// An interior NUL, or `GetFullPathNameW` failing.
pub(crate) fn path(path: &Path) -> io::Result<Vec<u16>> {
    let units = terminated(units(path.as_os_str()))?;
    if is_verbatim(&units) || (units.len() < SHORT_PATH_LIMIT && is_full(&units)) {
        return Ok(units);
    }
    let full = full_path(&units)?;
    if full.len() + 1 < SHORT_PATH_LIMIT || is_verbatim(&full) {
        return terminated(full);
    }
    let (prefix, rest) = if let Some(rest) = strip_prefix(&full, r"\\.\") {
        // `\\.\C:\x` -> `\\?\C:\x`: the same name, unparsed.
        (r"\\?\", rest)
    } else if let [a, b, rest @ ..] = full.as_slice()
        && is_sep(*a)
        && is_sep(*b)
    {
        // `\\server\share\x` -> `\\?\UNC\server\share\x`.
        (r"\\?\UNC\", rest)
    } else if drive_letter(&full).is_some() {
        (r"\\?\", full.as_slice())
    } else {
        // Nothing else comes out of GetFullPathNameW; were it to, Win32 parses it.
        ("", full.as_slice())
    };
    let mut verbatim: Vec<u16> = Vec::with_capacity(prefix.len() + rest.len() + 1);
    verbatim.extend(prefix.encode_utf16());
    verbatim.extend_from_slice(rest);
    terminated(verbatim)
}

fn is_sep(unit: u16) -> bool {
    unit == BACKSLASH || unit == SLASH
}

/// `GetFullPathNameW` of a NUL-terminated path: absolute, `.` and `..` folded, `/` made
/// `\`. No terminator in the result.
pub(crate) fn full_path(path: &[u16]) -> io::Result<Vec<u16>> {
    let mut buf: Vec<u16> = vec![0; MAX_PATH as usize];
    loop {
        let capacity = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        // SAFETY: `path` is NUL-terminated (every caller builds it with `terminated`);
        // `buf` holds `capacity` writable units; the file-part pointer may be null.
        let n = unsafe {
            GetFullPathNameW(
                path.as_ptr(),
                capacity,
                buf.as_mut_ptr(),
                std::ptr::null_mut(),
            )
        } as usize;
        if n == 0 {
            return Err(io::Error::last_os_error());
        }
        if n < buf.len() {
            buf.truncate(n);
            return Ok(buf);
        }
        // Too small: `n` is the size needed, terminator included.
        buf.resize(n, 0);
    }
}

/// The form of `path` to show a user: without the `\\?\` prefix that `fs::canonicalize`
/// and `GetFinalPathNameByHandleW` add, where the short form names the same file. That is
/// when it fits in `MAX_PATH` and `GetFullPathNameW` leaves it unchanged, so no trailing
/// dot or space, no `.` or `..` and no device name (`CON`, `NUL`) is silently reread
/// (std's `from_wide_to_user_path`, rust-lang/rust#107978). Otherwise the path is kept.
pub(crate) fn user_path(path: PathBuf) -> PathBuf {
    let units = units(path.as_os_str());
    let short: Vec<u16> = if starts_with(&units, r"\\?\UNC\") {
        let mut short: Vec<u16> = r"\\".encode_utf16().collect();
        short.extend_from_slice(&units[r"\\?\UNC\".len()..]);
        short
    } else if starts_with(&units, r"\\?\")
        && matches!(&units[4..], [letter, colon, sep, ..]
            if *letter < 0x80 && (*letter as u8).is_ascii_alphabetic()
                && *colon == u16::from(b':') && *sep == BACKSLASH)
    {
        units[4..].to_vec()
    } else {
        return path;
    };
    if short.len() >= MAX_PATH as usize {
        return path;
    }
    match terminated(short.clone()).and_then(|t| full_path(&t)) {
        Ok(full) if full == short => PathBuf::from(OsString::from_wide(&short)),
        _ => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(units: &[u16]) -> String {
        String::from_utf16_lossy(units.strip_suffix(&[0]).unwrap_or(units))
    }

    fn full(path: &str) -> String {
        text(&full_path(&terminated(units(OsStr::new(path))).unwrap()).unwrap())
    }

    #[test]
    fn short_full_paths_pass_unchanged() {
        for p in [
            r"C:\x",
            "C:/x",
            r"\\?\C:\x",
            r"\\server\share\x",
            r"\\.\C:\x",
        ] {
            assert_eq!(text(&path(Path::new(p)).unwrap()), p);
        }
    }

    /// A relative path is short, but its full form need not be: it is made full first,
    /// and given the prefix when that is long.
    #[test]
    fn other_paths_are_made_full() {
        for p in [r"a\b", "a/b", r"\x", "C:x"] {
            let made = text(&path(Path::new(p)).unwrap());
            assert_eq!(made, full(p), "{p}");
            assert!(is_full(&units(OsStr::new(&made))), "{p} -> {made}");
        }
        // Rooted at the current drive: 246 units as given, 248 and more in full.
        let rooted = format!(r"\{}", "r".repeat(245));
        let long = full(&rooted);
        assert!(long.len() >= SHORT_PATH_LIMIT, "{long}");
        assert_eq!(
            text(&path(Path::new(&rooted)).unwrap()),
            format!(r"\\?\{long}")
        );
    }

    #[test]
    fn long_paths_become_verbatim() {
        let long = format!(r"C:\{}\{}", "a".repeat(200), "b".repeat(200));
        assert_eq!(
            text(&path(Path::new(&long)).unwrap()),
            format!(r"\\?\{long}")
        );
        let unc = format!(r"\\server\share\{}", "c".repeat(300));
        assert_eq!(
            text(&path(Path::new(&unc)).unwrap()),
            format!(r"\\?\UNC\server\share\{}", "c".repeat(300))
        );
        // `.` and `..` are folded before the prefix turns parsing off, and a path that is
        // short once folded needs none.
        let dotted = format!(r"C:\{}\..\{}\..\{}", "d".repeat(250), "e".repeat(250), "f");
        assert_eq!(text(&path(Path::new(&dotted)).unwrap()), r"C:\f");
        let dotted = format!(r"C:\{}\{}\..\g", "d".repeat(250), "e".repeat(10));
        assert_eq!(
            text(&path(Path::new(&dotted)).unwrap()),
            format!(r"\\?\C:\{}\g", "d".repeat(250))
        );
        // A long device path is made verbatim.
        let device = format!(r"\\.\C:\{}", "h".repeat(300));
        assert_eq!(
            text(&path(Path::new(&device)).unwrap()),
            format!(r"\\?\C:\{}", "h".repeat(300))
        );
    }

    #[test]
    fn interior_nul_is_refused() {
        assert_eq!(
            path(Path::new("a\0b")).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
    }

    #[test]
    fn user_paths_drop_the_prefix_only_when_exact() {
        let user = |s: &str| user_path(PathBuf::from(s)).display().to_string();
        assert_eq!(user(r"\\?\C:\dir\f"), r"C:\dir\f");
        assert_eq!(user(r"\\?\UNC\server\share\f"), r"\\server\share\f");
        // A trailing dot is part of the name only in the verbatim form.
        assert_eq!(user(r"\\?\C:\dir\f."), r"\\?\C:\dir\f.");
        assert_eq!(user(r"\\?\C:\dir\..\f"), r"\\?\C:\dir\..\f");
        let long = format!(r"\\?\C:\{}", "x".repeat(300));
        assert_eq!(user(&long), long);
        assert_eq!(user(r"\\?\Volume{0}\x"), r"\\?\Volume{0}\x");
        assert_eq!(user(r"C:\plain"), r"C:\plain");
    }
}
