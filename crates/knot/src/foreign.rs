//! `knot convert --to-native`: links in the forms Cygwin, MSYS2 and WSL write on NTFS,
//! which Windows programs cannot follow, made NT symlinks (or junctions), keeping where
//! they lead.
//!
//! The two forms:
//! - **Cygwin and MSYS2 `!<symlink>` files**: a regular file with the DOS system
//!   attribute that holds the cookie `!<symlink>`, then a UTF-16LE byte order mark
//!   (`FF FE`) and the target in UTF-16LE, ended by a NUL; older Cygwin wrote the target
//!   after the cookie in plain bytes, ended by a NUL. So Cygwin reads them back: newlib-cygwin
//!   `winsup/cygwin/path.cc`, `symlink_info::check_sysfile` (`SYMLINK_COOKIE`, the BOM
//!   test `*(PWCHAR) srcbuf == 0xfeff`, then `sys_wcstombs` up to the NUL), and only
//!   for a file with `FILE_ATTRIBUTE_SYSTEM`.
//! - **WSL symlinks**: the reparse point `IO_REPARSE_TAG_LX_SYMLINK` (`0xA000001D`),
//!   whose data is a version (2) and the Linux target in UTF-8 (`knot-reparse`'s
//!   `LxSymlink`); Cygwin 3.1.5 and later make them too.
//!
//! Either target is a POSIX path. Cygwin maps `/mnt/c/...` (WSL's mount of drive C:,
//! `path.cc`'s `check_reparse_point_target`, lower-case letters only) and `/cygdrive/c/...`
//! (Cygwin's) to `C:\...`; a relative target keeps its names, with `\`. Any other absolute
//! path names a place inside a Cygwin or WSL installation, which Windows has no name for:
//! it is refused with the reason.
//!
//! The new link is made under a hidden name beside the old one through its held
//! directory, read back, and then put in its place: over a WSL symlink the way `--force`
//! replaces a link, and over a Cygwin file only while the file there is still a regular
//! file with the system attribute holding the bytes that were read
//! (`Directory::replace_system_file_at`).

use std::path::{Component, Path, PathBuf};

use crate::change::{ChangeMode, Retargeted};
use crate::create::{
    CreateOptions, DriveLetter, FlavourCheck, LinkType, Replace, TargetForm, nt_form, plan_at,
};
use crate::error::{Error, ErrorKind, Op, Result};
use crate::inspect::inspect_at;
use crate::link::{Flavour, Found, Kind, Link, ReparseTag};
use crate::path::{hidden_file_name, parent_dir};
use crate::sys::{ATTRIBUTE_SYSTEM, At, Directory as _, Junctions};

/// Cygwin's `SYMLINK_COOKIE`.
const COOKIE: &[u8] = b"!<symlink>";
/// The UTF-16LE byte order mark.
const BOM: [u8; 2] = [0xFF, 0xFE];
/// The longest target a Cygwin link file may hold, in UTF-16 units (Cygwin's
/// `NT_MAX_PATH`, 32,768, with the NUL).
const MAX_UNITS: usize = 32_768;
/// The most bytes a Cygwin link file holds: the cookie, the BOM and the longest target.
const MAX_FILE: usize = COOKIE.len() + BOM.len() + 2 * MAX_UNITS;

/// Which kind of NT link a directory target gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum NativeDirs {
    /// A directory symlink.
    #[default]
    Symlink,
    /// A junction (the CLI's `--to-native --to-junction`); a file target still gets a
    /// file symlink.
    Junction,
}

/// A link in a foreign form, read.
enum Foreign {
    /// A Cygwin `!<symlink>` file: its target, and every byte it holds.
    Cygwin { target: String, bytes: Vec<u8> },
    /// A WSL symlink, and its target.
    Lx { target: String },
}

impl Foreign {
    fn target(&self) -> &str {
        match self {
            Foreign::Cygwin { target, .. } | Foreign::Lx { target } => target,
        }
    }
}

/// The target of the Cygwin link file that holds `bytes` (system attribute checked by
/// the caller), or why it is none.
fn cygwin_target(bytes: &[u8]) -> std::result::Result<String, String> {
    let Some(rest) = bytes.strip_prefix(COOKIE) else {
        return Err(
            "it does not start with Cygwin's link cookie '!<symlink>', so it is a file, \
             not a link"
                .into(),
        );
    };
    let target = match rest {
        [0xFF, 0xFE, text @ ..] => {
            if text.len() % 2 != 0 {
                return Err(format!(
                    "its UTF-16 target is {} bytes long, an odd number, so it is cut short",
                    text.len()
                ));
            }
            let units: Vec<u16> = text
                .chunks_exact(2)
                .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
                .collect();
            let Some(end) = units.iter().position(|&unit| unit == 0) else {
                return Err(
                    "its target has no NUL at its end, so it is cut short (truncated)".into(),
                );
            };
            if end + 1 != units.len() {
                return Err(format!(
                    "it holds {} more bytes after its target's NUL, which a link does not",
                    2 * (units.len() - end - 1)
                ));
            }
            String::from_utf16(&units[..end])
                .map_err(|_| "its target is not valid UTF-16 (an unpaired surrogate)".to_owned())?
        }
        [0xFF, ..] | [0xFE, ..] => {
            return Err(
                "its target starts with half a byte order mark, or a big-endian one, where \
                 Cygwin writes the UTF-16LE mark FF FE"
                    .into(),
            );
        }
        plain => {
            // The older form: the target in plain bytes, ended by a NUL.
            let Some(end) = plain.iter().position(|&b| b == 0) else {
                return Err(
                    "its target has no NUL at its end, so it is cut short (truncated)".into(),
                );
            };
            if end + 1 != plain.len() {
                return Err(format!(
                    "it holds {} more bytes after its target's NUL, which a link does not",
                    plain.len() - end - 1
                ));
            }
            String::from_utf8(plain[..end].to_vec()).map_err(|_| {
                "its target, in the older form without a byte order mark, is not UTF-8".to_owned()
            })?
        }
    };
    if target.is_empty() {
        return Err("its target is empty".into());
    }
    Ok(target)
}

/// The target `posix` (a Cygwin or WSL link's) in the form an NT link stores it: `X:\...`
/// for `/mnt/x/...` and `/cygdrive/x/...` (and for a Windows path Cygwin took as given),
/// the names of a relative one joined with `\`; or why it has none.
fn windows_target(posix: &str) -> std::result::Result<String, String> {
    let drive_path = |letter: char, rest: &str| -> std::result::Result<String, String> {
        let names: Vec<&str> = rest
            .split('/')
            .filter(|n| !n.is_empty() && *n != ".")
            .collect();
        if names.iter().any(|n| n.contains('\\')) {
            return Err(backslash(posix));
        }
        let names: Vec<String> = names.into_iter().map(nt_name).collect();
        Ok(format!(
            "{}:\\{}",
            letter.to_ascii_uppercase(),
            names.join("\\")
        ))
    };
    let bytes = posix.as_bytes();
    // `C:\x` or `C:/x`: a Windows path, which Cygwin takes as given.
    if let [letter, b':', b'\\' | b'/', ..] = bytes
        && letter.is_ascii_alphabetic()
    {
        return drive_path(char::from(*letter), &posix[3..].replace('\\', "/"));
    }
    if let Some(rest) = posix.strip_prefix('/') {
        let mut parts = rest.splitn(3, '/');
        let (first, second, tail) = (parts.next(), parts.next(), parts.next().unwrap_or(""));
        let letter = match (first, second) {
            // WSL mounts drives lower-case; `/mnt/C` is another directory.
            (Some("mnt"), Some(l)) if l.len() == 1 && l.as_bytes()[0].is_ascii_lowercase() => {
                Some(char::from(l.as_bytes()[0]))
            }
            (Some("cygdrive"), Some(l))
                if l.len() == 1 && l.as_bytes()[0].is_ascii_alphabetic() =>
            {
                Some(char::from(l.as_bytes()[0]))
            }
            _ => None,
        };
        return match letter {
            Some(letter) => drive_path(letter, tail),
            None => Err(format!(
                "its target '{posix}' is an absolute path inside Cygwin or WSL, which Windows \
                 has no name for: only /mnt/X/... (WSL) and /cygdrive/X/... (Cygwin) name a \
                 Windows drive; make the link relative, or give it a target on a drive first"
            )),
        };
    }
    let names: Vec<&str> = posix
        .split('/')
        .filter(|n| !n.is_empty() && *n != ".")
        .collect();
    if names.iter().any(|n| n.contains('\\')) {
        return Err(backslash(posix));
    }
    if names.is_empty() {
        return Ok(".".into());
    }
    let names: Vec<String> = names.into_iter().map(nt_name).collect();
    Ok(names.join("\\"))
}

/// A name of a POSIX target as Windows stores it: each character Windows forbids in a
/// name (`"*:<>?|` and the control characters) as the private-use character U+F000 plus
/// its code, as Cygwin and WSL (DrvFs) store such a name on NTFS, so that the link leads
/// to the file they made (`notes:v2.txt` would otherwise name a data stream of `notes`).
fn nt_name(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '"' | '*' | ':' | '<' | '>' | '?' | '|' | '\u{1}'..='\u{1f}' => {
                char::from_u32(0xF000 + u32::from(c)).unwrap_or(c)
            }
            c => c,
        })
        .collect()
}

fn backslash(posix: &str) -> String {
    format!(
        "its target '{posix}' has a name with '\\' in it, which Windows would read as two \
         names"
    )
}

/// How often a fresh hidden name is drawn after a clash before giving up.
const HIDDEN_TRIES: usize = 8;

/// Whether the target `posix` (a Cygwin or WSL link's) is relative: not `/...`, and not a
/// Windows path Cygwin took as given (`C:\...`, `C:/...`). Told by its text, never by
/// `Path`, whose answer depends on the system knot runs on.
fn is_posix_relative(posix: &str) -> bool {
    let drive = matches!(posix.as_bytes(), [letter, b':', ..] if letter.is_ascii_alphabetic());
    !posix.starts_with('/') && !drive
}

/// Whether a relative target has `..` after a name (`a/../b`), which POSIX takes after
/// following `a` and Windows lexically: such a target is computed afresh from where it
/// leads.
fn has_inner_dot_dot(target: &Path) -> bool {
    let mut named = false;
    for part in target.components() {
        match part {
            Component::Normal(_) => named = true,
            Component::ParentDir if named => return true,
            _ => {}
        }
    }
    false
}

/// What [`read_foreign`] found.
enum Read {
    /// A link in a foreign form.
    Foreign(Foreign),
    /// An NT link already.
    Native,
    /// Plainly no link, passed over without a word in a walk: not a regular file with the
    /// system attribute and the cookie, nor a WSL symlink.
    Nothing,
}

/// Reads the entry at `at`, whose record is `before`, as a link in a foreign form. `walk`:
/// a tree is walked, and what is plainly no link is [`Read::Nothing`], not refused.
fn read_foreign(at: At<'_>, before: &Link, walk: bool) -> Result<Read> {
    let (op, link) = (Op::Convert, at.path);
    let refuse = |why: String| Error::new(op, link, ErrorKind::NotForeignLink { why });
    match &before.kind {
        Kind::Symlink | Kind::Junction if before.tag.is_some() => Ok(Read::Native),
        Kind::Symlink | Kind::Junction => {
            // Only where links are NT links is a link with no reparse point foreign.
            let place = at.dir.place().map_err(|e| Error::io(op, link, e))?;
            if place.junctions() != Junctions::Native {
                if walk {
                    return Ok(Read::Nothing);
                }
                return Err(Error::io(
                    op,
                    link,
                    crate::sys::error::Error::NotNtfs.into(),
                ));
            }
            Err(refuse(
                "it is a symlink in ntfs-3g's own form (made by ln -s on Linux), not a \
                 Cygwin or WSL link; make it again with knot symlink"
                    .into(),
            ))
        }
        Kind::Reparse(ReparseTag(tag)) if *tag == knot_reparse::Tag::LX_SYMLINK => {
            let raw = before.reparse_data.as_deref().unwrap_or_default();
            let target = match knot_reparse::decode(raw) {
                Ok(knot_reparse::ReparsePoint::LxSymlink(lx)) => lx.target_str().map(str::to_owned),
                _ => None,
            };
            match target {
                Some(target) if !target.is_empty() => Ok(Read::Foreign(Foreign::Lx { target })),
                Some(_) => Err(refuse("its WSL target is empty".into())),
                None => Err(refuse("its WSL target is not UTF-8".into())),
            }
        }
        Kind::File | Kind::Hardlink => {
            let file = match at.dir.system_file_at(at.name, MAX_FILE) {
                Ok(file) => file,
                // A walk passes over files off NTFS (a tree may hold an NTFS mount).
                Err(e) if walk && is_not_ntfs(&e) => return Ok(Read::Nothing),
                Err(e) => return Err(Error::io(op, link, e)),
            };
            let system = file.attributes & ATTRIBUTE_SYSTEM != 0;
            if walk && !(system && file.bytes.starts_with(COOKIE)) {
                return Ok(Read::Nothing);
            }
            if !system {
                return Err(refuse(
                    "it has no DOS system attribute, which Cygwin gives every link file, so \
                     it is a file, not a link"
                        .into(),
                ));
            }
            if file.more {
                return Err(refuse(format!(
                    "it holds more than {MAX_FILE} bytes, more than any Cygwin link"
                )));
            }
            let target = cygwin_target(&file.bytes).map_err(refuse)?;
            Ok(Read::Foreign(Foreign::Cygwin {
                target,
                bytes: file.bytes,
            }))
        }
        _ if walk => Ok(Read::Nothing),
        Kind::Dir => Err(Error::new(
            op,
            link,
            ErrorKind::NotALink { what: Found::Dir },
        )),
        _ => Err(refuse(format!(
            "it is of the kind '{}', not a Cygwin or WSL link",
            before.kind.name()
        ))),
    }
}

fn is_not_ntfs(err: &std::io::Error) -> bool {
    matches!(
        crate::sys::error::of(err),
        Some(crate::sys::error::Error::NotNtfs)
    )
}

/// Whether the directory `root` is where NT links are made (Windows, NTFS through
/// ntfs-3g): a walk of a tree elsewhere is refused once, at its root, rather than passing
/// over every file in it.
pub(crate) fn check_root(root: &Path) -> Result<()> {
    let op = Op::Convert;
    let dir = crate::sys::Dir::hold(root).map_err(|e| Error::io(op, root, e))?;
    let place = dir.place().map_err(|e| Error::io(op, root, e))?;
    if place.junctions() == Junctions::Native {
        Ok(())
    } else {
        Err(Error::io(
            op,
            root,
            crate::sys::error::Error::NotNtfs.into(),
        ))
    }
}

/// [`convert`](crate::convert) with [`ConvertTo::Native`](crate::ConvertTo::Native) of
/// the entry at `at`, through its held directory. `walk`: a tree is walked, and entries
/// that are plainly no foreign links come back as `None`.
pub(crate) fn to_native_at(
    at: At<'_>,
    dirs: NativeDirs,
    mode: ChangeMode,
    drive: Option<DriveLetter>,
    walk: bool,
) -> Result<Option<Retargeted>> {
    let (op, link) = (Op::Convert, at.path);
    let mut before = inspect_at(at).map_err(|e| e.with_op(op))?;
    let foreign = match read_foreign(at, &before, walk)? {
        Read::Nothing => return Ok(None),
        Read::Native => {
            return Ok(Some(Retargeted {
                after: before.clone(),
                before,
                changed: false,
                kept: None,
            }));
        }
        Read::Foreign(foreign) => foreign,
    };
    let refuse = |why: String| Error::new(op, link, ErrorKind::NotForeignLink { why });
    let place = at.dir.place().map_err(|e| Error::io(op, link, e))?;
    if place.junctions() != Junctions::Native {
        return Err(Error::io(
            op,
            link,
            crate::sys::error::Error::NotNtfs.into(),
        ));
    }
    let posix = foreign.target();
    before.target = Some(PathBuf::from(posix));
    let mut text = windows_target(posix).map_err(refuse)?;
    let real_dir = at
        .dir
        .real_dir(parent_dir(link))
        .map_err(|e| Error::io(op, link, e))?;
    // `a/../b`: where it leads, found as the system that made it would (POSIX: after
    // following `a`), and written without the `..`, so Windows goes there too; where that
    // cannot be found, refused (Windows would take the `..` lexically, and lead elsewhere).
    if is_posix_relative(posix) && has_inner_dot_dot(Path::new(posix)) {
        let there =
            crate::resolve::fold_keeping_failures(&real_dir, Path::new(posix)).map_err(|at| {
                refuse(format!(
                    "its target '{posix}' has '..' after a name, and '{}' on the way is no \
                     directory, so it leads nowhere here, while Windows, which takes '..' \
                     lexically, would lead somewhere",
                    at.display()
                ))
            })?;
        let relative = crate::resolve::relative_to(&there, &real_dir);
        text = windows_target(&relative.to_string_lossy()).map_err(refuse)?;
    }
    // What the target is, where it is on this system, decides the flavour; a target that
    // is not there gets a file symlink, as Cygwin and WSL make no flavour either.
    let symlink_form = nt_form(&place, LinkType::Symlink, Path::new(&text));
    let here = match &symlink_form {
        Some(nt) => crate::path::resolve_against_link(link, &nt.path),
        None => crate::path::resolve_against_link(link, Path::new(&text)),
    };
    let is_dir = std::fs::metadata(&here).is_ok_and(|m| m.is_dir());
    let flavour = if is_dir { Flavour::Dir } else { Flavour::File };
    let ty = if is_dir && dirs == NativeDirs::Junction {
        LinkType::Junction
    } else {
        LinkType::Symlink
    };
    let (given, link_drive) = match (ty, nt_form(&place, ty, Path::new(&text))) {
        (_, Some(nt)) if nt.given.is_relative() && ty == LinkType::Junction => {
            (real_dir.join(&nt.given), nt.drive)
        }
        (_, Some(nt)) => (nt.given, nt.drive),
        (LinkType::Junction, None) if Path::new(&text).is_relative() => {
            (real_dir.join(&text), None)
        }
        (_, None) => (PathBuf::from(&text), None),
    };
    let create_options = CreateOptions {
        flavour: Some(flavour),
        flavour_check: FlavourCheck::AgainstTarget,
        form: TargetForm::AsGiven,
        replace: Replace::Never,
        // A target's own drive (`/mnt/d/x`) stays; `--drive` is for a relative one made a
        // junction.
        drive: link_drive.or(drive),
    };
    // The new link, made under a hidden name beside the old one and read back (a fresh
    // name drawn again where one is taken); messages name the link's own path.
    let mut tries = 0;
    let staged = loop {
        let staged = hidden_file_name(at.name);
        let staged_at = At::new(at.dir, &staged, link);
        let taken = |e: &Error| *e.kind() == ErrorKind::LinkExists && tries < HIDDEN_TRIES;
        let planned = match plan_at(
            staged_at,
            &given,
            None,
            ty,
            &create_options,
            Some(place.clone()),
        ) {
            Ok(planned) => planned,
            Err(e) if taken(&e) => {
                tries += 1;
                continue;
            }
            Err(e) => return Err(e.with_op(op)),
        };
        if mode == ChangeMode::DryRun {
            planned.may_make().map_err(|e| e.with_op(op))?;
            let mut shown = before.clone();
            shown.dir = Some(flavour);
            let mut after = planned.preview(&shown).map_err(|e| e.with_op(op))?;
            after.path = link.to_path_buf();
            return Ok(Some(Retargeted {
                before,
                after,
                changed: true,
                kept: None,
            }));
        }
        match planned.commit() {
            Ok(_) => break staged,
            Err(e) if taken(&e) => tries += 1,
            Err(e) => return Err(e.with_op(op)),
        }
    };
    let staged_path = parent_dir(link).join(&staged);
    let put = match &foreign {
        Foreign::Cygwin { bytes, .. } => {
            at.dir.replace_system_file_at(&staged, at.name, link, bytes)
        }
        Foreign::Lx { .. } => at.dir.rename_over_at(&staged, at.name, link),
    };
    if let Err(err) = put {
        let _ = at.dir.remove_link_at(&staged, &staged_path);
        return Err(crate::diagnose::write_error(op, link, err));
    }
    let after = inspect_at(at).map_err(|e| e.with_op(op))?;
    Ok(Some(Retargeted {
        before,
        after,
        changed: true,
        kept: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str) -> Vec<u8> {
        let mut bytes = COOKIE.to_vec();
        bytes.extend(BOM);
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        bytes.extend([0, 0]);
        bytes
    }

    /// Both of Cygwin's forms read, as `check_sysfile` reads them; everything that is
    /// not quite one refused, with the reason.
    #[test]
    fn cygwin_link_files() {
        assert_eq!(cygwin_target(&utf16("../x")).unwrap(), "../x");
        assert_eq!(
            cygwin_target(&utf16("/cygdrive/c/Users/ü")).unwrap(),
            "/cygdrive/c/Users/ü"
        );
        assert_eq!(cygwin_target(b"!<symlink>dir/a\0").unwrap(), "dir/a");
        let refused = |bytes: &[u8], why: &str| {
            let err = cygwin_target(bytes).unwrap_err();
            assert!(err.contains(why), "{bytes:?}: {err}");
        };
        refused(b"!<symlinq>x\0", "cookie");
        refused(b"", "cookie");
        refused(b"!<symlink>x", "truncated");
        let mut odd = utf16("x");
        odd.pop();
        refused(&odd, "odd number");
        let mut cut = utf16("xy");
        cut.truncate(cut.len() - 2);
        refused(&cut, "truncated");
        refused(b"!<symlink>\xFF", "half a byte order mark");
        refused(b"!<symlink>\xFE\xFFx\0", "big-endian");
        refused(b"!<symlink>\xFF\xFE\x00\xD8\0\0", "unpaired surrogate");
        refused(&utf16(""), "empty");
        refused(b"!<symlink>\0", "empty");
        refused(b"!<symlink>x\0data", "more bytes");
        refused(b"!<symlink>\xE9\0", "not UTF-8");
    }

    #[test]
    fn posix_targets_in_windows_form() {
        let ok = |posix: &str| windows_target(posix).unwrap();
        assert_eq!(ok("/mnt/c/Users/x"), r"C:\Users\x");
        assert_eq!(ok("/mnt/d"), r"D:\");
        assert_eq!(ok("/mnt/d/"), r"D:\");
        assert_eq!(ok("/cygdrive/e/a//b/./c"), r"E:\a\b\c");
        assert_eq!(ok("/cygdrive/E/a"), r"E:\a");
        assert_eq!(ok("C:/a/b"), r"C:\a\b");
        assert_eq!(ok(r"c:\a\b"), r"C:\a\b");
        assert_eq!(ok("../a/b"), r"..\a\b");
        assert_eq!(ok("./a/"), "a");
        assert_eq!(ok("a"), "a");
        // What Windows forbids in a name, as Cygwin and WSL store it.
        assert_eq!(ok("notes:v2.txt"), "notes\u{f03a}v2.txt");
        assert_eq!(ok("../a?b/c*d|e"), "..\\a\u{f03f}b\\c\u{f02a}d\u{f07c}e");
        assert_eq!(
            ok("/mnt/c/x<y>\"z\"\u{1}"),
            "C:\\x\u{f03c}y\u{f03e}\u{f022}z\u{f022}\u{f001}"
        );
        for refused in [
            "/usr/bin",
            "/mnt/C/x",
            "/mnt/cd/x",
            "/cygdrive/1/x",
            "/",
            "a\\b",
        ] {
            assert!(windows_target(refused).is_err(), "{refused}");
        }
        assert!(windows_target("/usr/bin").unwrap_err().contains("/mnt/X"));
        assert!(has_inner_dot_dot(Path::new("a/../b")));
        // Absolute on every system, whatever `Path` says there.
        for absolute in ["/mnt/c/a/../b", "C:/a/../b", r"C:\a\..\b", "/x"] {
            assert!(!is_posix_relative(absolute), "{absolute}");
        }
        for relative in ["a/../b", "../b", "a", "./c:d"] {
            assert!(is_posix_relative(relative), "{relative}");
        }
        assert!(!has_inner_dot_dot(Path::new("../../b")));
    }
}

#[cfg(all(test, target_os = "linux"))]
mod ntfs3g_tests {
    use std::fs;

    use crate::{ConvertOptions, ConvertTo, NativeDirs, convert};

    use crate::ntfs3g_fixture as fixture;

    /// A hidden name already taken where the new link is staged: a fresh one is drawn,
    /// and what holds the taken one is left as it is.
    #[test]
    fn a_taken_hidden_name_is_passed_over() {
        let Some(vol) = fixture::ntfs3g::volume("a_taken_hidden_name_is_passed_over") else {
            return;
        };
        let dir = vol.mnt.as_path();
        fs::write(dir.join("t"), "target").unwrap();
        // Cygwin's form: the cookie, the UTF-16LE byte order mark, the target and a NUL,
        // in a file with the system attribute.
        let mut bytes = b"!<symlink>\xFF\xFE".to_vec();
        bytes.extend("t".encode_utf16().flat_map(u16::to_le_bytes));
        bytes.extend([0, 0]);
        fs::write(dir.join("l"), bytes).unwrap();
        let system = 0x24u32.to_le_bytes();
        let flags = rustix::fs::XattrFlags::empty();
        rustix::fs::setxattr(dir.join("l"), "system.ntfs_attrib", &system, flags).unwrap();
        fs::write(dir.join(".l.knot~0000000000000001"), "planted").unwrap();
        crate::path::tests::DRAWN.with(|drawn| drawn.borrow_mut().extend([2, 1]));
        let converted = convert(
            dir.join("l"),
            ConvertTo::Native(NativeDirs::Symlink),
            &ConvertOptions::default(),
        );
        crate::path::tests::DRAWN.with(|drawn| drawn.borrow_mut().clear());
        converted.unwrap();
        assert_eq!(fs::read_link(dir.join("l")).unwrap().to_str(), Some("t"));
        assert_eq!(
            fs::read_to_string(dir.join(".l.knot~0000000000000001")).unwrap(),
            "planted"
        );
        let mut names = fixture::names(dir);
        names.retain(|n| !n.starts_with('$') && n != "System Volume Information");
        assert_eq!(names, [".l.knot~0000000000000001", "l", "t"]);
    }
}
