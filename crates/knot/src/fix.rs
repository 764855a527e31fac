//! `knot fix`: repair the links of a tree (DESIGN.md section 2). Two repairs:
//! give every link whose target starts with a path prefix the same target under another
//! prefix ([`Repair::Replace`], through [`retarget`](crate::retarget)), or remove the links
//! that dangle ([`Repair::DeleteBroken`], through [`remove`](crate::remove()), so nothing but
//! a link is ever removed).
//!
//! The walk is the link scan ([`ScanBuilder`]), a filter over the generic tree walk: it
//! reads the target of each link (`readlinkat`) and of nothing else, so a tree where
//! nothing matches costs what `knot scan` costs, and only the links that match are
//! touched again.
//!
//! ```
//! use knot::fix::{Rewrite, NameRules};
//!
//! let rules = [Rewrite::parse("/data=/srv/data".as_ref()).unwrap()];
//! let rewrite = |t: &str| knot::fix::rewrite(&rules, t.as_ref(), NameRules::Unix);
//! assert_eq!(rewrite("/data/x"), Some("/srv/data/x".into()));
//! assert_eq!(rewrite("/data"), Some("/srv/data".into()));
//! assert_eq!(rewrite("/database"), None, "whole names only");
//! let drive = [Rewrite::parse(r"D:\=E:\".as_ref()).unwrap()];
//! let windows = knot::fix::rewrite(&drive, r"d:/Media\x".as_ref(), NameRules::Windows);
//! assert_eq!(windows, Some(r"E:\Media\x".into()));
//! ```

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::change::{ChangeMode, Retargeted};
use crate::create::{LinkType, NtForm, nt_form};
use crate::error::Result;
use crate::image::ImageRoot;
use crate::link::{Kind, Link};
use crate::path::os_string;
use crate::remove::{Recheck, Removed, remove_at};
use crate::retarget::{RetargetOptions, retarget_at};
use crate::scan::{Detail, Progress, ScanBuilder};
use crate::sys::At;
use crate::sys::Directory as _;

/// One `--replace OLD=NEW`: a link whose target starts with the path `old` gets `new` in
/// its place, the rest of the target kept as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rewrite {
    old: OsString,
    new: OsString,
}

/// Why a `OLD=NEW` is not a rewrite.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseRewriteError {
    /// No `=` in it.
    #[error("'{0}' is not OLD=NEW (no '=')")]
    NoEquals(String),
    /// `=` first: an empty prefix would match every target.
    #[error("'{0}' has an empty OLD prefix, which would match every target")]
    EmptyOld(String),
    /// Nothing after `=`.
    #[error("'{0}' has an empty NEW prefix; give the path the targets should start with")]
    EmptyNew(String),
}

impl Rewrite {
    /// A rewrite of the prefix `old` to `new`.
    ///
    /// # Errors
    /// Either one is empty.
    pub fn new(old: &OsStr, new: &OsStr) -> std::result::Result<Rewrite, ParseRewriteError> {
        let text = || format!("{}={}", old.to_string_lossy(), new.to_string_lossy());
        if old.is_empty() {
            return Err(ParseRewriteError::EmptyOld(text()));
        }
        if new.is_empty() {
            return Err(ParseRewriteError::EmptyNew(text()));
        }
        Ok(Rewrite {
            old: old.to_owned(),
            new: new.to_owned(),
        })
    }

    /// `OLD=NEW`, split at the first `=`: OLD cannot hold a `=`, NEW can.
    ///
    /// # Errors
    /// There is no `=`, or OLD or NEW is empty.
    pub fn parse(arg: &OsStr) -> std::result::Result<Rewrite, ParseRewriteError> {
        let bytes = arg.as_encoded_bytes();
        let Some(at) = bytes.iter().position(|&b| b == b'=') else {
            return Err(ParseRewriteError::NoEquals(
                arg.to_string_lossy().into_owned(),
            ));
        };
        // Split at an ASCII byte: both halves are whole names.
        match (os_string(&bytes[..at]), os_string(&bytes[at + 1..])) {
            (Some(old), Some(new)) => Rewrite::new(&old, &new),
            _ => Err(ParseRewriteError::NoEquals(
                arg.to_string_lossy().into_owned(),
            )),
        }
    }

    /// The prefix replaced.
    pub fn old(&self) -> &Path {
        Path::new(&self.old)
    }

    /// The prefix put in its place.
    pub fn new_prefix(&self) -> &Path {
        Path::new(&self.new)
    }
}

/// How names in a target compare with a prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameRules {
    /// Byte for byte, `/` the only separator (a Unix symlink).
    Unix,
    /// As Windows compares names: in any case, `\` and `/` both separators, `D:` a drive
    /// (a Windows link, and a reparse point read on an ntfs-3g volume).
    Windows,
}

impl NameRules {
    /// The rules for a link as read: Windows' for every link on Windows and for a reparse
    /// point (ntfs-3g), Unix's for a Unix symlink.
    pub fn of(link: &Link) -> NameRules {
        if cfg!(windows) || link.tag.is_some() {
            NameRules::Windows
        } else {
            NameRules::Unix
        }
    }

    fn is_separator(self, byte: u8) -> bool {
        byte == b'/' || (self == NameRules::Windows && byte == b'\\')
    }
}

/// One piece of a path's text: where it is, and what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Piece {
    /// `D:` (Windows).
    Drive(u8),
    /// The separators after the start or a drive: 1, or 2 for `\\server` (Windows).
    Root(usize),
    /// A name, from start to end.
    Name(usize, usize),
}

/// The pieces of `text`, each with the offset where it ends.
fn pieces(text: &[u8], rules: NameRules) -> Vec<(Piece, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    if rules == NameRules::Windows
        && let [letter, b':', ..] = text
        && letter.is_ascii_alphabetic()
    {
        out.push((Piece::Drive(letter.to_ascii_uppercase()), 2));
        at = 2;
    }
    let seps = |from: usize| {
        text[from..]
            .iter()
            .take_while(|&&b| rules.is_separator(b))
            .count()
    };
    let lead = seps(at);
    if lead > 0 {
        at += lead;
        let root = if rules == NameRules::Windows {
            lead.min(2)
        } else {
            1
        };
        out.push((Piece::Root(root), at));
    }
    while at < text.len() {
        let len = text[at..]
            .iter()
            .take_while(|&&b| !rules.is_separator(b))
            .count();
        out.push((Piece::Name(at, at + len), at + len));
        at += len;
        at += seps(at);
    }
    out
}

/// Whether two names are the same name under `rules`: Windows compares each character
/// upper-cased one to one (as NTFS's `$UpCase` table does), never expanding `ß` to `SS`.
fn same_name(a: &[u8], b: &[u8], rules: NameRules) -> bool {
    if a == b {
        return true;
    }
    if rules == NameRules::Unix {
        return false;
    }
    match (std::str::from_utf8(a), std::str::from_utf8(b)) {
        (Ok(a), Ok(b)) => {
            let up = |c: char| {
                let mut upper = c.to_uppercase();
                match (upper.next(), upper.next()) {
                    (Some(u), None) => u,
                    _ => c,
                }
            };
            a.chars().map(up).eq(b.chars().map(up))
        }
        _ => false,
    }
}

/// The target `target` rewritten by the first of `rules` whose OLD prefix it starts with,
/// whole names only (`/data` matches `/data` and `/data/x`, never `/database`); `None` when
/// none does. The rest of the target is kept as stored, trailing separator included. The
/// text is compared as stored: `.` and `..` are names like any other, never folded (on
/// Unix `a/..` after a link is not where the text says). A prefix's own trailing
/// separator does not count (`/data/` is `/data`).
///
/// # Platform behavior
/// Names compare byte for byte on Unix (a name that is not UTF-8 included); under
/// [`NameRules::Windows`] in any case, with `\` and `/` both separators, so `D:\` matches
/// `d:/x`. On Windows a target holding an unpaired surrogate is never rewritten.
pub fn rewrite(rules: &[Rewrite], target: &Path, names: NameRules) -> Option<PathBuf> {
    let text = target.as_os_str().as_encoded_bytes();
    rules.iter().find_map(|rule| {
        let end = prefix_end_of(rule.old.as_encoded_bytes(), text, names)?;
        let rest = &text[end..];
        let new = rule.new.as_encoded_bytes();
        let mut out = trim_separators(new, names).to_vec();
        // What ends in a separator after trimming is a root (`/`, `E:\`): the rest then
        // starts after its own first separator.
        let rest = match (out.last(), rest.first()) {
            (Some(&l), Some(&r)) if names.is_separator(l) && names.is_separator(r) => &rest[1..],
            _ => rest,
        };
        // OLD was a root (`/`, `D:\`): its separator goes with the new prefix.
        if let (Some(&first), Some(&last)) = (rest.first(), out.last())
            && !names.is_separator(first)
            && !names.is_separator(last)
        {
            out.push(text[end - 1]);
        }
        out.extend_from_slice(rest);
        os_string(&out).map(PathBuf::from)
    })
}

/// Where `old`'s pieces end in `target`, if `target` starts with all of them.
fn prefix_end_of(old: &[u8], target: &[u8], rules: NameRules) -> Option<usize> {
    let old_pieces = pieces(old, rules);
    let ours = pieces(target, rules);
    if old_pieces.len() > ours.len() {
        return None;
    }
    let mut end = 0;
    for (&(a, _), &(b, b_end)) in old_pieces.iter().zip(&ours) {
        let same = match (a, b) {
            (Piece::Drive(x), Piece::Drive(y)) => x == y,
            (Piece::Root(x), Piece::Root(y)) => x == y,
            (Piece::Name(s, e), Piece::Name(t, f)) => same_name(&old[s..e], &target[t..f], rules),
            _ => false,
        };
        if !same {
            return None;
        }
        end = b_end;
    }
    Some(end)
}

/// `text` without its trailing separators, unless they are its root (`/`, `D:\`).
fn trim_separators(text: &[u8], rules: NameRules) -> &[u8] {
    let root_end = pieces(text, rules)
        .iter()
        .take_while(|(p, _)| !matches!(p, Piece::Name(..)))
        .last()
        .map_or(0, |&(_, end)| end);
    let mut end = text.len();
    while end > root_end && rules.is_separator(text[end - 1]) {
        end -= 1;
    }
    &text[..end]
}

/// What [`fix`] does to the links it walks.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Repair {
    /// Retarget each link whose target starts with an OLD prefix; the first rewrite that
    /// matches wins.
    Replace(Vec<Rewrite>),
    /// Remove each link that dangles (status `dangling`, `loop` or `too-long`; never one
    /// that leads `elsewhere`, to another Windows drive, which may well work there).
    DeleteBroken,
}

/// Options for [`fix`].
#[derive(Clone, Debug)]
pub struct FixOptions {
    /// The repair.
    pub repair: Repair,
    /// Change, or only check and report.
    pub mode: ChangeMode,
    /// Threads to walk with; 0 means one per core.
    pub threads: usize,
    /// Counters the walk keeps up to date (entries seen, links found).
    pub progress: Option<Arc<Progress>>,
    /// The image root links are judged in ([`ImageRoot`]): which dangle, and whether a
    /// new target leads anywhere, as a chroot into it would see them. `None`: the host.
    pub image: Option<Arc<ImageRoot>>,
}

impl FixOptions {
    /// `repair`, changing links, on every core.
    pub fn new(repair: Repair) -> FixOptions {
        FixOptions {
            repair,
            mode: ChangeMode::Change,
            threads: 0,
            progress: None,
            image: None,
        }
    }
}

/// What [`fix`] did, or would do, to one link.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "one per link acted on, handed on at once: boxing would only add allocations"
)]
pub enum Fixed {
    /// A link matched a rewrite.
    Retarget {
        /// The link as the walk found it.
        link: Link,
        /// Its new target, as it is (or would be) stored.
        new_target: PathBuf,
        /// The link before and after, or why it could not be retargeted.
        result: Result<Retargeted>,
    },
    /// A link dangled.
    Delete {
        /// The link as the walk found it.
        link: Link,
        /// The link removed, or why it was not.
        result: Result<Link>,
    },
    /// A link that dangled when the walk found it, and led somewhere by the time it was
    /// to be removed (its target appeared in between): kept.
    Kept {
        /// The link as the walk found it.
        link: Link,
    },
}

impl Fixed {
    /// The link as the walk found it.
    pub fn link(&self) -> &Link {
        match self {
            Fixed::Retarget { link, .. } | Fixed::Delete { link, .. } | Fixed::Kept { link } => {
                link
            }
        }
    }

    /// Whether the change failed.
    pub fn failed(&self) -> bool {
        match self {
            Fixed::Retarget { result, .. } => result.is_err(),
            Fixed::Delete { result, .. } => result.is_err(),
            Fixed::Kept { .. } => false,
        }
    }
}

/// Walks `root` and repairs its links as `options` say, handing each link acted on (and
/// each error of the walk, which goes on) to `report`, from whichever thread found it.
///
/// Each link is changed through the directory the walk read it from, held open, so a directory of the tree swapped for a link to
/// another place while the walk runs never leads a change outside the tree. A link to be
/// removed is looked at again there first: one that leads somewhere by then is kept
/// ([`Fixed::Kept`]).
///
/// # Errors
/// None of its own: every failure is reported, and the walk goes on.
///
/// # Platform behavior
/// Targets compare by [`NameRules::of`] each link. On an ntfs-3g volume a junction's new
/// target `X:\path` is taken as `path` on the volume holding the link (the drive letter is
/// what Windows calls that volume, as `--drive` says), or under the volume's `.NTFS-3G/X:`
/// mapping where there is one; a symlink's is stored as given.
pub fn fix<P, F>(root: P, options: &FixOptions, report: F)
where
    P: AsRef<Path>,
    F: FnMut(Result<Fixed>) + Send,
{
    fix_inner(root.as_ref(), options, &Mutex::new(report));
}

fn fix_inner<F: FnMut(Result<Fixed>) + Send>(root: &Path, options: &FixOptions, report: &Mutex<F>) {
    let mut scan = ScanBuilder::new(root);
    scan.threads(options.threads);
    if let Some(progress) = &options.progress {
        scan.progress(Arc::clone(progress));
    }
    if let Some(image) = &options.image {
        scan.image_root(Arc::clone(image));
    }
    match options.repair {
        Repair::Replace(_) => scan.detail(Detail::Target),
        Repair::DeleteBroken => scan.broken(true).detail(Detail::Target),
    };
    let send = |item: Result<Fixed>| {
        // A report that panicked on another thread poisons nothing worth stopping for.
        let mut report = report.lock().unwrap_or_else(|e| e.into_inner());
        report(item);
    };
    scan.act_parallel(|at, link| repair(at, link, options), send);
}

/// The repair of one link the walk found, at `at`, if it needs one.
fn repair(at: At<'_>, link: Link, options: &FixOptions) -> Option<Result<Fixed>> {
    match &options.repair {
        Repair::Replace(rules) => {
            let target = link.target.as_deref()?;
            let new_target = rewrite(rules, target, NameRules::of(&link))?;
            let mut result = retarget_to(at, &link, &new_target, options.mode);
            if let (Some(image), Ok(done)) = (&options.image, &mut result) {
                // Whether the new target leads anywhere, judged in the image.
                done.after.target = Some(new_target.clone());
                if let Err(err) = image.fill_at(at, &mut done.after) {
                    return Some(Err(err));
                }
            }
            Some(Ok(Fixed::Retarget {
                link,
                new_target,
                result,
            }))
        }
        Repair::DeleteBroken => {
            let mode = options.mode;
            let recheck = match &options.image {
                // Looked at again in the image: one that leads somewhere there by now is kept.
                Some(image) => {
                    let mut now = link.clone();
                    if let Err(err) = image.fill_at(at, &mut now) {
                        return Some(Err(err));
                    }
                    if now.status.is_some_and(|s| !s.is_broken()) {
                        return Some(Ok(Fixed::Kept { link }));
                    }
                    Recheck::IsLink
                }
                None => Recheck::IsBroken,
            };
            Some(Ok(match remove_at(at, mode, recheck) {
                Ok(Removed::Gone(removed)) => Fixed::Delete {
                    link,
                    result: Ok(removed),
                },
                Ok(Removed::Works(_)) => Fixed::Kept { link },
                Err(err) => Fixed::Delete {
                    link,
                    result: Err(err),
                },
            }))
        }
    }
}

/// Retargets `link` to `new_target`; for a reparse point read on Unix (ntfs-3g), through
/// the Linux path the Windows target names ([`nt_form`]), so that create's rules (a
/// junction needs an existing directory) are checked where the directory is.
fn retarget_to(at: At<'_>, link: &Link, new_target: &Path, mode: ChangeMode) -> Result<Retargeted> {
    let mut options = RetargetOptions {
        mode,
        ..RetargetOptions::default()
    };
    let here = on_this_volume(at, link, new_target);
    let given = match &here {
        Some(nt) => {
            if link.kind == Kind::Junction {
                options.drive = nt.drive;
            }
            nt.given.clone()
        }
        None => new_target.to_path_buf(),
    };
    let mut done = retarget_at(at, &given, &options)?;
    if mode == ChangeMode::DryRun {
        // Report the target as it would be stored, and whether it would lead anywhere,
        // judged where the system would look.
        done.after.target = Some(new_target.to_path_buf());
        if let Some(nt) = &here {
            let base = crate::path::parent_dir(&link.path);
            done.after.status = Some(match std::fs::metadata(base.join(&nt.path)) {
                Ok(_) => crate::Status::Ok,
                Err(_) => crate::Status::Dangling,
            });
        }
    }
    Ok(done)
}

/// For a reparse point read on an ntfs-3g volume: its Windows target as a retarget of
/// the link takes it, as the link's held directory finds it. `None` for every other link.
fn on_this_volume(at: At<'_>, link: &Link, target: &Path) -> Option<NtForm> {
    link.tag?;
    let ty = match link.kind {
        Kind::Junction => LinkType::Junction,
        _ => LinkType::Symlink,
    };
    nt_form(&at.dir.place().ok()?, ty, target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(pairs: &[&str]) -> Vec<Rewrite> {
        pairs
            .iter()
            .map(|p| Rewrite::parse(p.as_ref()).unwrap())
            .collect()
    }

    fn unix(pairs: &[&str], target: &str) -> Option<String> {
        rewrite(&rules(pairs), target.as_ref(), NameRules::Unix)
            .map(|p| p.to_string_lossy().into_owned())
    }

    fn windows(pairs: &[&str], target: &str) -> Option<String> {
        rewrite(&rules(pairs), target.as_ref(), NameRules::Windows)
            .map(|p| p.to_string_lossy().into_owned())
    }

    #[test]
    fn whole_names_only() {
        let r = ["/data=/srv"];
        assert_eq!(unix(&r, "/data").as_deref(), Some("/srv"));
        assert_eq!(unix(&r, "/data/x").as_deref(), Some("/srv/x"));
        assert_eq!(unix(&r, "/database"), None);
        assert_eq!(unix(&r, "/dat"), None);
        assert_eq!(unix(&r, "data/x"), None, "relative is not absolute");
        assert_eq!(unix(&r, "/Data/x"), None, "Unix names keep their case");
        assert_eq!(unix(&["/=/mnt"], "/x/y").as_deref(), Some("/mnt/x/y"));
        assert_eq!(unix(&["/data=/"], "/data/x").as_deref(), Some("/x"));
    }

    #[test]
    fn separators_dots_and_the_rest_as_stored() {
        let r = ["/data/=/srv/"];
        assert_eq!(unix(&r, "/data/").as_deref(), Some("/srv/"));
        assert_eq!(unix(&r, "/data//x/").as_deref(), Some("/srv//x/"));
        assert_eq!(unix(&r, "//data/x").as_deref(), Some("/srv/x"));
        assert_eq!(unix(&r, "/data/../etc").as_deref(), Some("/srv/../etc"));
        assert_eq!(
            unix(&["../lib=../../lib"], "../lib/a").as_deref(),
            Some("../../lib/a")
        );
        assert_eq!(unix(&["../lib=x"], "../../lib/a"), None);
        assert_eq!(
            unix(&["./a=b"], "a/c"),
            None,
            "'.' is a name like any other"
        );
    }

    #[test]
    fn the_first_matching_rewrite_wins() {
        let r = ["/a/b=/one", "/a=/two", "/a/b=/three"];
        assert_eq!(unix(&r, "/a/b/c").as_deref(), Some("/one/c"));
        assert_eq!(unix(&r, "/a/c").as_deref(), Some("/two/c"));
    }

    #[test]
    fn windows_names_compare_as_windows_compares_them() {
        let r = [r"D:\=E:\"];
        assert_eq!(windows(&r, r"D:\x").as_deref(), Some(r"E:\x"));
        assert_eq!(windows(&r, r"d:/x\y").as_deref(), Some(r"E:\x\y"));
        assert_eq!(windows(&r, r"D:\").as_deref(), Some(r"E:\"));
        assert_eq!(windows(&r, r"C:\x"), None);
        assert_eq!(windows(&r, r"D:x"), None, "drive-relative is not rooted");
        let r = [r"C:\Data=C:\Archive"];
        assert_eq!(windows(&r, r"c:\DATA\x").as_deref(), Some(r"C:\Archive\x"));
        assert_eq!(windows(&r, r"C:\Database"), None);
        assert_eq!(
            windows(&["C:/Ärger=C:/x"], r"C:\äRGER\y").as_deref(),
            Some(r"C:/x\y")
        );
        assert_eq!(
            windows(&["C:/Straße=C:/x"], r"C:\STRASSE"),
            None,
            "one to one"
        );
        assert_eq!(
            windows(&[r"\\srv\share=\\new\s"], r"\\SRV\Share\a").as_deref(),
            Some(r"\\new\s\a")
        );
        assert_eq!(windows(&[r"\srv=\x"], r"\\srv\a"), None);
    }

    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_compare_by_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let old = OsStr::from_bytes(b"/d\xff");
        let rule = [Rewrite::new(old, OsStr::from_bytes(b"/n\xfe")).unwrap()];
        let got = rewrite(
            &rule,
            Path::new(OsStr::from_bytes(b"/d\xff/x\x80")),
            NameRules::Unix,
        );
        assert_eq!(
            got.as_deref(),
            Some(Path::new(OsStr::from_bytes(b"/n\xfe/x\x80")))
        );
        let other = Path::new(OsStr::from_bytes(b"/d\xfe/x"));
        assert_eq!(rewrite(&rule, other, NameRules::Unix), None);
    }

    /// A link that dangled when the walk found it and leads somewhere by the time it is to
    /// be removed (its target appeared in between) is kept, and said to be.
    #[cfg(unix)]
    #[test]
    fn a_link_that_works_by_the_time_of_its_delete_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l");
        std::os::unix::fs::symlink("t", &path).unwrap();
        let found = crate::inspect(&path).unwrap();
        assert_eq!(found.status, Some(crate::Status::Dangling));
        std::fs::write(dir.path().join("t"), "here now").unwrap();
        let held = crate::sys::Dir::hold(dir.path()).unwrap();
        let at = At::new(&held, OsStr::new("l"), &path);
        let options = FixOptions::new(Repair::DeleteBroken);
        match repair(at, found, &options) {
            Some(Ok(Fixed::Kept { link })) => assert_eq!(link.path, path),
            other => panic!("kept, not {other:?}"),
        }
        assert_eq!(std::fs::read_link(&path).unwrap(), Path::new("t"));
    }

    #[test]
    fn old_new_splits_at_the_first_equals() {
        let r = Rewrite::parse("/a=/b=c".as_ref()).unwrap();
        assert_eq!(
            (r.old(), r.new_prefix()),
            (Path::new("/a"), Path::new("/b=c"))
        );
        for (arg, err) in [
            ("/a", ParseRewriteError::NoEquals("/a".into())),
            ("=/b", ParseRewriteError::EmptyOld("=/b".into())),
            ("/a=", ParseRewriteError::EmptyNew("/a=".into())),
        ] {
            assert_eq!(Rewrite::parse(arg.as_ref()).unwrap_err(), err, "{arg}");
        }
    }
}
