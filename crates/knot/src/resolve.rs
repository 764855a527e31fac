//! Where a path leads, by the platform's rules (`sys::Backend`): `..` taken where the system
//! takes it, the real place of a directory, the names compared as the platform compares
//! them. Above the platform layer; the lexical rules it builds on are `crate::path`'s.

use std::io;
use std::path::{Component, Path, PathBuf};

use crate::path::{
    DotDot, absolute, ends_in_separator, fold, parent_dir, real_location_physical,
    resolve_against_link, resolve_physical,
};
use crate::sys::{Backend, Os};

/// The directory that holds the entry `path` names, and the entry's name in it, to hold
/// the directory and act on the name; `None` where the path names no entry of its own:
/// `/`, `.`, `..`, or, where the system resolves `..` physically (Unix), a path that ends
/// in a separator or `/.`, which the system follows through a link (`l/` is where `l`
/// leads). On Windows `l\` is the link `l` itself.
pub(crate) fn entry_of(path: &Path) -> Option<(&Path, &std::ffi::OsStr)> {
    let name = path.file_name()?;
    if Os::DOT_DOT == DotDot::Physical && ends_in_separator(path) {
        return None;
    }
    Some((parent_dir(path), name))
}

/// Where a link in the directory `dir` that stores `text` leads, as an absolute path that
/// leads there the same way: `.` and `..` taken out where the system takes them out when
/// it follows the path (on Unix each `..` after the links before it, `sym/..` being the
/// parent of where `sym` leads; on Windows all lexically, as Windows folds a link's
/// target), links not followed by a `..` kept as they are; and `Err` where folding would
/// change what the link does. The system takes a `.`, a `..` or a slash
/// after a name only where that name leads to a directory, and fails otherwise (a missing
/// name, a file, a loop); folded out, they would make such a link lead somewhere
/// (`f/..` the directory that holds the file `f`, `missing/..` the directory that holds
/// the missing name). So where one follows a name that leads to no directory, the answer
/// is `Err` with that part of the path; a slash at the end is kept as it is.
pub(crate) fn fold_keeping_failures(dir: &Path, text: &Path) -> Result<PathBuf, PathBuf> {
    let full = dir.join(text);
    if Os::DOT_DOT == DotDot::Lexical {
        // Windows folds a link's target lexically itself: folded, it leads where it did.
        return Ok(fold(&full));
    }
    fold_through(&full, |path, real| {
        if !std::fs::metadata(path).is_ok_and(|meta| meta.is_dir()) {
            return None;
        }
        let canonical = real.then(|| std::fs::canonicalize(path).ok()).flatten();
        Some(canonical.unwrap_or_else(|| path.to_path_buf()))
    })
}

/// The fold of the absolute path `full` that [`fold_keeping_failures`] makes on the host
/// and `ImageRoot::fold` inside an image: names pushed as they come, and a `.` or `..`
/// taken only after a part that leads to a directory, as `dir(part, real)` says (`None`
/// where it does not; with `real`, for a `..`, where it really is, the `..` taken from
/// there); `Err` with the part that leads to no directory.
pub(crate) fn fold_through(
    full: &Path,
    dir: impl Fn(&Path, bool) -> Option<PathBuf>,
) -> Result<PathBuf, PathBuf> {
    let bytes = full.as_os_str().as_encoded_bytes();
    let mut out = PathBuf::from("/");
    for part in bytes.split(|&b| b == b'/') {
        match part {
            // The root, a doubled slash, or the slash at the end (kept, below).
            b"" => continue,
            b"." | b".." => match dir(&out, part == b"..") {
                None => return Err(out),
                Some(_) if part == b"." => {}
                Some(real) => {
                    out = real;
                    // At the root, `..` stays there (`pop` takes nothing away).
                    out.pop();
                }
            },
            // A name after a slash: the part before leads to a directory, or fails as it
            // did (a missing directory stays missing, and so does all below it).
            name => match crate::path::os_string(name) {
                Some(name) => out.push(name),
                None => return Err(out),
            },
        }
    }
    if bytes.ends_with(b"/") && out.as_os_str().len() > 1 {
        out.as_mut_os_string().push("/");
    }
    Ok(out)
}

/// The real location of `path` with its directories resolved but its final component kept
/// as it is, so a target that is itself a link is pointed at, not followed.
///
/// On Unix `..` is resolved where the kernel resolves it, after the links before it
/// (`sym/..` is the parent of where `sym` leads, not `.`), so the path is folded only when
/// its directory does not exist; on Windows, which folds `..` lexically, it is folded first.
pub(crate) fn real_location(path: &Path) -> io::Result<PathBuf> {
    if Os::DOT_DOT == DotDot::Lexical {
        let abs = absolute(path)?;
        return match (abs.parent(), abs.file_name()) {
            (Some(parent), Some(name)) => match real_dir(parent) {
                Ok(real) => Ok(real.join(name)),
                // A missing parent (a dangling target): the lexical form is all there is.
                Err(_) => Ok(abs),
            },
            _ => Ok(abs),
        };
    }
    real_location_physical(path)
}

/// Where `target`, as a link in the directory `base` stores it, leads: its longest leading
/// part that exists resolved as the kernel resolves it (links followed, `..` physical),
/// the rest, which names nothing yet, folded; the last name is kept as it is, so a target
/// that is itself a link is pointed at, not followed. `real(part)` names where a leading
/// part of `target` leads from `base` (a canonical path), or fails where it leads nowhere.
///
/// This is the one resolver of a link that the kernel cannot follow (dangling, or a loop)
/// for `show` and `scan` alike: `show` names each part by its path ([`real_location`]),
/// `scan` from the directory it holds open, so paths longer than `PATH_MAX` cost no more
/// (both take `sym/../missing` to `missing` beside where `sym` leads, as the kernel
/// would, never folding it lexically). On Windows, which folds `..` in a link's target
/// lexically, the target is folded against `base`.
pub(crate) fn resolve_target(
    base: &Path,
    target: &Path,
    real: impl Fn(&Path) -> io::Result<PathBuf>,
) -> PathBuf {
    if Os::DOT_DOT == DotDot::Lexical {
        return fold(&base.join(target));
    }
    resolve_physical(base, target, real)
}

/// [`resolve_target`] for the link `link`, each part named by its path.
pub(crate) fn resolve_dangling(link: &Path, target: &Path) -> io::Result<PathBuf> {
    real_location(&resolve_against_link(link, target))
}

/// Where the directory `dir` really is, for computing the targets knot stores, by the
/// platform's rule (`sys::Os::real_dir`): its canonical path on Unix, so a target computed
/// from it is right from the link's real place; its full path as `GetFullPathNameW` makes
/// it on Windows, which resolves `..` in a link's target lexically.
pub(crate) fn real_dir(dir: &Path) -> io::Result<PathBuf> {
    Os::real_dir(dir)
}

/// The canonical path of what `path` leads to, links followed, in the form a user would
/// type it (on Windows without the `\\?\` that `fs::canonicalize` adds, where the short form
/// names the same file).
pub(crate) fn canonical(path: &Path) -> io::Result<PathBuf> {
    std::fs::canonicalize(path).map(crate::sys::Os::user_path)
}

/// The relative path that leads from directory `base` to `path`; both absolute.
pub(crate) fn relative_to(path: &Path, base: &Path) -> PathBuf {
    let mut path_parts = path.components().peekable();
    let mut base_parts = base.components().peekable();
    while let (Some(a), Some(b)) = (path_parts.peek(), base_parts.peek()) {
        if !same_component(a, b) {
            break;
        }
        path_parts.next();
        base_parts.next();
    }
    let mut out = PathBuf::new();
    for _ in base_parts {
        out.push("..");
    }
    out.extend(path_parts);
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// Whether the absolute path `path` is `dir` or below it, its components compared by the
/// platform's rule ([`same_component`]: `C:\Data\x` is below `c:\data` on Windows).
pub(crate) fn is_within(path: &Path, dir: &Path) -> bool {
    let mut parts = path.components();
    dir.components()
        .all(|d| parts.next().is_some_and(|p| same_component(&p, &d)))
}

/// Whether two components of absolute paths name the same directory entry, by the
/// platform's rule (`sys::Os::same_name`): exactly on Unix, ignoring ASCII case on Windows.
fn same_component(a: &Component<'_>, b: &Component<'_>) -> bool {
    Os::same_name(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A path is within a directory where the directory's components lead it, by the
    /// platform's rule for names; a name that only begins the same is not.
    #[test]
    fn a_path_within_a_directory_is_told_by_its_components() {
        #[cfg(unix)]
        let (dir, cases) = (
            "/data/games",
            [
                ("/data/games", true),
                ("/data/games/x/y", true),
                ("/data/games2", false),
                ("/data", false),
                ("/Data/games/x", false),
            ],
        );
        #[cfg(windows)]
        let (dir, cases) = (
            r"C:\Data\Games",
            [
                (r"C:\Data\Games", true),
                (r"c:\data\games\x\y", true),
                (r"C:\Data\Games2", false),
                (r"C:\Data", false),
                (r"D:\Data\Games\x", false),
            ],
        );
        for (path, within) in cases {
            assert_eq!(is_within(Path::new(path), Path::new(dir)), within, "{path}");
        }
    }
    /// `sym/..` is where the kernel goes: the parent of what `sym` leads to.
    #[cfg(unix)]
    #[test]
    fn dot_dot_after_a_link_is_resolved_physically() {
        let dir = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(base.join("x/y")).unwrap();
        std::os::unix::fs::symlink("x/y", base.join("sym")).unwrap();
        assert_eq!(real_location(&base.join("sym/..")).unwrap(), base.join("x"));
        assert_eq!(
            real_location(&base.join("sym/../t")).unwrap(),
            base.join("x/t")
        );
        assert_eq!(
            real_location(&base.join("sym/../../z/t")).unwrap(),
            base.join("z/t")
        );
    }

    #[test]
    fn relative_paths() {
        let cases = [
            ("/a/b/c", "/a/b", "c"),
            ("/a/b", "/a/b", "."),
            ("/a/x/y", "/a/b/c", "../../x/y"),
            ("/", "/a/b", "../.."),
            ("/a", "/", "a"),
        ];
        for (path, base, want) in cases {
            assert_eq!(
                relative_to(Path::new(path), Path::new(base)),
                Path::new(want),
                "{path} from {base}"
            );
        }
    }

    /// Windows compares names ignoring case, Unix exactly: `--relative` climbs only as far
    /// as the paths really differ.
    #[test]
    fn relative_paths_compare_names_as_the_platform_does() {
        if cfg!(windows) {
            assert_eq!(
                relative_to(Path::new(r"C:\Work\A\b"), Path::new(r"c:\work\a")),
                Path::new("b")
            );
            assert_eq!(
                relative_to(
                    Path::new(r"\\Server\Share\x"),
                    Path::new(r"\\server\share\y")
                ),
                Path::new(r"..\x")
            );
        } else {
            assert_eq!(
                relative_to(Path::new("/work/A/b"), Path::new("/work/a")),
                Path::new("../A/b")
            );
        }
    }

    /// Windows: the targets knot stores are full paths as `GetFullPathNameW` makes them,
    /// never `\\?\` ones (a junction to `\??\\\?\C:\...` cannot be followed).
    #[test]
    fn real_locations_have_no_verbatim_prefix() {
        let here = std::env::current_dir().unwrap();
        let real = real_location(&here.join("missing")).unwrap();
        assert!(real.is_absolute());
        assert!(
            !real.to_string_lossy().starts_with(r"\\?\"),
            "{}",
            real.display()
        );
        assert_eq!(real.file_name().unwrap(), "missing");
    }
}
