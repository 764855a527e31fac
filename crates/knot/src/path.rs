//! The lexical rules of paths, below the platform layer: nothing here asks which platform
//! it is (`crate::resolve` does, above it), and the file system is touched only to resolve
//! a directory the caller named.

use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};

/// How a platform resolves `..` in a path, or in a link's target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DotDot {
    /// After the links before it, where the kernel finds it: `sym/..` is the parent of
    /// where `sym` leads (Unix).
    #[cfg_attr(windows, allow(dead_code, reason = "Windows folds `..` lexically"))]
    Physical,
    /// Lexically, before anything is looked up: `sym/..` is `.` (Windows, which folds a
    /// path with `GetFullPathNameW` and a link's target the same way).
    Lexical,
}

/// `path` made absolute against the current directory, with `.` and `..` folded lexically,
/// the way Windows' `GetFullPathNameW` does for `mklink /J` and `junction.exe`.
pub(crate) fn absolute(path: &Path) -> io::Result<PathBuf> {
    Ok(fold(&std::path::absolute(path)?))
}

/// `.` and `..` folded lexically out of an absolute path.
pub(crate) fn fold(abs: &Path) -> PathBuf {
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

/// Bytes cut from an `OsStr` at ASCII separators, as an `OsString` again: always on
/// Unix; elsewhere only when they are Unicode (no unpaired surrogate), without `unsafe`.
pub(crate) fn os_string(bytes: &[u8]) -> Option<OsString> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Some(std::ffi::OsStr::from_bytes(bytes).to_owned())
    }
    #[cfg(not(unix))]
    {
        std::str::from_utf8(bytes).ok().map(OsString::from)
    }
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

/// Where a stored target leads, seen from the link: a relative target is joined to the
/// link's parent directory, never to the current directory (DESIGN.md section 1).
pub(crate) fn resolve_against_link(link: &Path, target: &Path) -> PathBuf {
    if target.is_absolute() {
        target.to_path_buf()
    } else {
        parent_dir(link).join(target)
    }
}

/// Where `target`, as a link in the directory `base` stores it, leads where `..` is taken
/// physically ([`DotDot::Physical`], after the links before it): its longest leading part
/// for which `real` names a real place, the rest, which names nothing yet, folded; the last
/// name kept as it is.
pub(crate) fn resolve_physical(
    base: &Path,
    target: &Path,
    real: impl Fn(&Path) -> io::Result<PathBuf>,
) -> PathBuf {
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

/// The real location of `path` where `..` is taken physically: its directories resolved
/// (`fs::canonicalize`) as far as they exist, its final component kept as it is.
pub(crate) fn real_location_physical(path: &Path) -> io::Result<PathBuf> {
    let abs = std::path::absolute(path)?;
    Ok(resolve_physical(Path::new("/"), &abs, |known| {
        std::fs::canonicalize(known)
    }))
}

/// A fresh hidden name for an entry called `name` (`.NAME.knot~` and 16 random hex
/// digits), made beside it where knot builds a replacement or sets a link aside to remove
/// it. Each call gives another name, which nobody can predict, so a neighbour who can
/// write the directory cannot plant it in advance (DESIGN.md promise 9); the calls that
/// use it never overwrite, and retry with a new name on a clash.
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
    // Asked once: a system call per name otherwise (one per file a copy writes).
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNT.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(*PID.get_or_init(std::process::id));
    hasher.finish()
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

    /// Hidden names are fresh and unpredictable (no PID), and stay short
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

    /// The separators of the platform, and `/.`, mark a path that names a
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
