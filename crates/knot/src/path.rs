//! Path arithmetic that never touches the file system, or touches it only to resolve a
//! directory that the caller named.

use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::sys::{Backend, DotDot, Os};

/// `path` made absolute against the current directory, with `.` and `..` folded lexically,
/// the way Windows' `GetFullPathNameW` does for `mklink /J` and `junction.exe`.
pub(crate) fn absolute(path: &Path) -> io::Result<PathBuf> {
    Ok(fold(&std::path::absolute(path)?))
}

/// `.` and `..` folded lexically out of an absolute path.
fn fold(abs: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in abs.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                // `..` at the root stays at the root, as the kernel does.
                if !matches!(
                    out.components().next_back(),
                    Some(Component::RootDir) | None
                ) {
                    out.pop();
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// An absolute `path` with `.` and `..` taken out where the system takes them out when it
/// follows the path: on Unix each `..` after the links before it (the part before it
/// resolved first, `sym/..` being the parent of where `sym` leads), lexically only where
/// that part names nothing (a dangling path, which no system can follow either); on
/// Windows all lexically, as Windows folds a link's target. Links not followed by a `..`
/// stay as they are, so the result names what `path` names and keeps its words.
pub(crate) fn fold_as_followed(path: &Path) -> PathBuf {
    if Os::DOT_DOT == DotDot::Lexical {
        return fold(path);
    }
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if let Ok(real) = std::fs::canonicalize(&out) {
                    out = real;
                }
                if !matches!(
                    out.components().next_back(),
                    Some(Component::RootDir) | None
                ) {
                    out.pop();
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// The directory a link lives in: its parent, or `.` for a bare name.
pub(crate) fn parent_dir(link: &Path) -> &Path {
    match link.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Whether `link` ends with a separator, or with a separator and `.` (`J/`, `J/.`): such a
/// path names the directory that `J` is or leads to, never a new entry called `J`, so the
/// kernel would follow a link found there and a create would act on something else than
/// asked. `Path` itself hides the separator: `Path::new("J/").file_name()` is
/// `J`.
pub(crate) fn ends_in_separator(link: &Path) -> bool {
    let bytes = link.as_os_str().as_encoded_bytes();
    let sep = |b: u8| std::path::is_separator(char::from(b));
    match bytes {
        [.., b] if sep(*b) => true,
        [.., b, b'.'] => sep(*b),
        _ => false,
    }
}

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

/// Where a stored target leads, seen from the link: a relative target is joined to the
/// link's parent directory, never to the current directory (DESIGN.md section 1).
pub(crate) fn resolve_against_link(link: &Path, target: &Path) -> PathBuf {
    if target.is_absolute() {
        target.to_path_buf()
    } else {
        parent_dir(link).join(target)
    }
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
    let abs = std::path::absolute(path)?;
    Ok(resolve_target(Path::new("/"), &abs, |known| {
        std::fs::canonicalize(known)
    }))
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
    // A target that ends in `..` (or is a root) is a directory, resolved whole.
    let (dir, name) = match (target.parent(), target.file_name()) {
        (Some(dir), Some(name)) => (dir, Some(name)),
        _ => (target, None),
    };
    let parts: Vec<Component<'_>> = dir.components().collect();
    let known = (1..=parts.len()).rev().find_map(|keep| {
        let (known, rest) = parts.split_at(keep);
        let real = real(&known.iter().collect::<PathBuf>()).ok()?;
        Some(fold(&real.join(rest.iter().collect::<PathBuf>())))
    });
    let resolved = known.unwrap_or_else(|| fold(&base.join(dir)));
    match name {
        Some(name) => resolved.join(name),
        None => resolved,
    }
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

/// A fresh hidden name beside `link` (`.NAME.knot~` and 16 random hex digits) where knot
/// builds a replacement or sets a link aside to remove it. Each call gives another name,
/// which nobody can predict, so a neighbour who can write the directory cannot plant it
/// in advance (DESIGN.md promise 9); the calls that use it never overwrite, and retry
/// with a new name on a clash.
#[cfg_attr(
    not(windows),
    allow(
        dead_code,
        reason = "elsewhere hidden names are made in a held directory"
    )
)]
pub(crate) fn hidden_name(link: &Path) -> PathBuf {
    link.with_file_name(hidden_file_name(link.file_name().unwrap_or_default()))
}

/// The file name of [`hidden_name`] for an entry called `name`.
pub(crate) fn hidden_file_name(name: &std::ffi::OsStr) -> OsString {
    #[cfg(test)]
    let drawn = tests::DRAWN
        .with(|drawn| drawn.borrow_mut().pop())
        .unwrap_or_else(unpredictable);
    #[cfg(not(test))]
    let drawn = unpredictable();
    let suffix = format!(".knot~{drawn:016x}");
    let mut hidden = OsString::from(".");
    // A name is at most 255 bytes (units on Windows): a long one is left out of the
    // temporary name rather than making it too long to create.
    if name.len() + suffix.len() < 250 {
        hidden.push(name);
    }
    hidden.push(suffix);
    hidden
}

/// 64 bits no other user can guess. std's `RandomState` is keyed from the operating
/// system's random source once per thread (and changes its keys with every instance), so
/// hashing a counter with it gives unpredictable values on every platform without another
/// dependency; the counter keeps two names of one process apart.
fn unpredictable() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNT.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    hasher.finish()
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

/// Whether two components of absolute paths name the same directory entry, by the
/// platform's rule (`sys::Os::same_name`): exactly on Unix, ignoring ASCII case on Windows.
fn same_component(a: &Component<'_>, b: &Component<'_>) -> bool {
    Os::same_name(a, b)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    thread_local! {
        /// What [`hidden_file_name`] draws next on this thread, last first, before it
        /// draws at random again: so that a test can plant a clash.
        pub(crate) static DRAWN: std::cell::RefCell<Vec<u64>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }

    /// Issue 10.15: hidden names are fresh and unpredictable (no PID), and stay short
    /// enough to create beside a 255-byte name.
    #[test]
    fn hidden_names_are_fresh_and_unpredictable() {
        let a = hidden_file_name(std::ffi::OsStr::new("link"));
        let b = hidden_file_name(std::ffi::OsStr::new("link"));
        assert_ne!(a, b);
        let a = a.to_str().unwrap();
        let suffix = a.strip_prefix(".link.knot~").unwrap();
        assert_eq!(suffix.len(), 16);
        assert!(suffix.bytes().all(|c| c.is_ascii_hexdigit()));
        let long = hidden_file_name(std::ffi::OsStr::new(&"x".repeat(255)));
        assert!(long.len() <= 255, "{}", long.len());
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

    #[test]
    fn absolute_folds_dots_lexically() {
        let (root, a_c) = if cfg!(windows) {
            (r"C:\", r"C:\a\c")
        } else {
            ("/", "/a/c")
        };
        let a_dots = format!("{root}a/./b/../c");
        assert_eq!(absolute(Path::new(&a_dots)).unwrap(), Path::new(a_c));
        let up = format!("{root}../..");
        assert_eq!(absolute(Path::new(&up)).unwrap(), Path::new(root));
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

    /// Issue 10.5: the separators of the platform, and `/.`, mark a path that names a
    /// directory; a `.` or `..` that is part of a name does not.
    #[test]
    fn trailing_separators() {
        for path in ["J/", "J//", "J/.", "a/J/", "/J/"] {
            assert!(ends_in_separator(Path::new(path)), "{path}");
        }
        for path in ["J", "a/J", "J.", "J..", ".J", "a/.J", "."] {
            assert!(!ends_in_separator(Path::new(path)), "{path}");
        }
        assert_eq!(ends_in_separator(Path::new(r"J\")), cfg!(windows));
        assert_eq!(ends_in_separator(Path::new(r"J\.")), cfg!(windows));
    }

    #[test]
    fn resolves_against_the_link_not_the_current_directory() {
        assert_eq!(
            resolve_against_link(Path::new("d/l"), Path::new("t")),
            Path::new("d/t")
        );
        assert_eq!(
            resolve_against_link(Path::new("l"), Path::new("t")),
            Path::new("./t")
        );
        assert_eq!(
            resolve_against_link(Path::new("d/l"), Path::new("/t")),
            Path::new("/t")
        );
    }
}
