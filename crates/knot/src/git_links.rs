//! Git's symlinks made real where a checkout left placeholders (the CLI's `knot git-links`).
//!
//! With `core.symlinks=false` (Git for Windows' default without the symlink privilege)
//! Git checks each symlink out as a small regular file holding the target text, and keeps
//! the index entry's mode `120000`: the placeholder counts as clean. This module reads the
//! repository's symlink entries, says what stands at each path, and replaces each
//! placeholder with a real link, through the staged create.
//!
//! **How the index is read.** Through the `git` program: `git ls-files -s -z` (the entries
//! and their blob ids), `git cat-file --batch` (the blobs: each target text, one process for
//! all), `git check-attr -z --stdin symlink` (Git for Windows' `symlink=file|dir`
//! attribute). Not with the `gix` crate: its index reading pulls in some forty crates, a
//! heavy build on a 2-core box for three short reads, and it would still need an attribute
//! stack of its own to answer `symlink` exactly as Git does (macros, `.git/info/attributes`,
//! `core.attributesFile`). `git` answers all three exactly, and a repository to repair is
//! one where `git` is installed.
//!
//! **What counts as a placeholder.** A regular file whose bytes are exactly the blob's;
//! anything else at the path (a link already, an edited file, nothing) is reported with
//! its own [`State`] and left alone.
//!
//! **The replacement.** The link is made under a fresh hidden name beside the placeholder
//! and read back (the staged create, DESIGN.md promise 3), then put in the placeholder's
//! place only while that is still the file looked at, holding the same bytes (the
//! backend's `put_link_over_file_at`: the file set aside, judged there, the link put at
//! the free name without overwriting anything); each directory on the way is opened from
//! the repository's top without following a link (promise 10).

use std::ffi::{OsStr, OsString};
use std::io::{self, Write as _};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use crate::change::ChangeMode;
use crate::create::{CreateOptions, FlavourCheck, LinkType, Made, TargetForm, plan_at};
use crate::error::{Error, ErrorKind, GitFailure, Op, Result};
use crate::link::Flavour;
use crate::sys::{self, At, FileType};
use crate::sys::{Backend as _, Directory as _};

/// The kind of link made where a symlink cannot be (Windows without the privilege or
/// Developer Mode): the CLI's `--fallback`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fallback {
    /// A junction, for a target that is a directory.
    Junction,
    /// A hard link, for a target that is a file on the same volume.
    Hardlink,
    /// A copy of the file the target is.
    Copy,
}

/// Options for [`fix`].
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct GitLinksOptions {
    /// Change the links, or only say what would change.
    pub mode: ChangeMode,
    /// What to make, in this order of preference, where a symlink needs a privilege this
    /// process lacks; empty: nothing (the entry fails with the privilege error).
    pub fallback: Vec<Fallback>,
}

/// What stands at the path of a symlink entry of the index.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum State {
    /// A regular file holding exactly the target text: what `core.symlinks=false` checks out.
    Placeholder,
    /// A link holding the target text: nothing to do.
    Link,
    /// A link holding another target.
    OtherLink {
        /// What it holds.
        target: PathBuf,
    },
    /// A regular file holding something else than the target text.
    Edited,
    /// Nothing.
    Missing,
    /// A directory or a special file, or a directory on the way that is none (a link, a
    /// file).
    Other,
}

impl State {
    /// The state's name in records: `placeholder`, `link`, `other-link`, `edited`,
    /// `missing`, `other`.
    pub fn name(&self) -> &'static str {
        match self {
            State::Placeholder => "placeholder",
            State::Link => "link",
            State::OtherLink { .. } => "other-link",
            State::Edited => "edited",
            State::Missing => "missing",
            State::Other => "other",
        }
    }
}

/// One symlink entry of the index, and what stands at its path.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct GitLink {
    /// Its path: the repository path given joined with the entry's path below it.
    pub path: PathBuf,
    /// The target text, the blob's bytes.
    pub target: PathBuf,
    /// The flavour a link made here gets: the `symlink` attribute's, else what the target
    /// is, else (a dangling target) a file.
    pub flavour: Flavour,
    /// Whether the flavour came from the `symlink` attribute.
    pub by_attribute: bool,
    /// What stood at the path when it was looked at.
    pub state: State,
    /// What [`fix`] made in its place (or would make, in a dry run); `None` for nothing.
    pub made: Option<Made>,
    /// Whether what was made is a copy ([`Fallback::Copy`]).
    pub copied: bool,
    /// Whether what was made is a fallback for a symlink this process may not make.
    pub fallback: bool,
}

/// An entry [`fix`] could not make a link of: the error, and the entry as it was looked
/// at, where it was.
#[derive(Debug)]
#[non_exhaustive]
pub struct Failed {
    /// The entry, a placeholder, as looked at before the link failed; `None` where what
    /// stands at its path could not be read.
    pub link: Option<GitLink>,
    /// Why.
    pub error: Error,
    /// Where `error` is the want of the symlink privilege and fallbacks were given: why
    /// the last of them did not fit the target.
    pub fallback_error: Option<Error>,
}

/// What the repository was given after [`fix`], so that `git status` says nothing changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RepoChanges {
    /// `core.symlinks` was `false` and symlinks were made: it was set to `true`, so that
    /// Git compares them as links and makes links in later checkouts.
    pub set_core_symlinks: bool,
    /// The entries given `git update-index --assume-unchanged`, as the user names them:
    /// those Git still reads otherwise than its index records once refreshed (a fallback:
    /// a junction, hard link or copy is not the symlink recorded; on ntfs-3g, a dangling
    /// relative symlink, which it shows without its text).
    pub assume_unchanged: Vec<PathBuf>,
    /// `git update-index --refresh` was run: the index's file times and sizes match the
    /// new links.
    pub refreshed: bool,
}

/// The repository that holds `repo`, and its symlink entries below `repo`.
#[derive(Debug)]
pub struct Repository {
    /// The path given.
    given: PathBuf,
    /// The top of its work tree, as Git gives it.
    top: PathBuf,
    /// `repo` below the top (empty at the top), with `/`.
    prefix: Vec<u8>,
    entries: Vec<IndexLink>,
    /// Each entry's index in `entries`, by its path from the top.
    by_full: std::collections::HashMap<Vec<u8>, usize>,
}

/// A symlink entry of the index.
#[derive(Debug)]
struct IndexLink {
    /// Its path from the top, with `/`, as Git gives it.
    full: Vec<u8>,
    /// The blob: the target text.
    blob: Vec<u8>,
    /// The `symlink` attribute's flavour, where it gives one.
    attribute: Option<Flavour>,
}

impl Repository {
    /// Reads the symlink entries (mode `120000`) of the index of the repository that holds
    /// the directory `repo` (its top or any directory below it), with their target texts
    /// and `symlink` attributes: only those below `repo`.
    ///
    /// # Errors
    /// `git` cannot be run, `repo` is in no Git work tree, or Git's output cannot be read
    /// ([`ErrorKind::Git`]).
    pub fn open<P: AsRef<Path>>(repo: P) -> Result<Repository> {
        open_inner(repo.as_ref())
    }

    /// The top of the work tree.
    pub fn top(&self) -> &Path {
        &self.top
    }

    /// How many symlink entries below the path given the index has.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the index has no symlink entry below the path given.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn git_error(repo: &Path, failure: GitFailure, why: String, said: &[u8]) -> Error {
    let said = String::from_utf8_lossy(said)
        .lines()
        .map(str::trim_end)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect();
    let kind = ErrorKind::Git { why, failure, said };
    Error::new(Op::Git, repo, kind)
}

/// Output of Git's that knot cannot read.
fn unreadable(repo: &Path, why: String) -> Error {
    git_error(repo, GitFailure::Failed, why, b"")
}

/// Runs `git -C dir args...`, with `input` on its standard input: its standard output.
fn git(dir: &Path, args: &[&str], input: Option<&[u8]>) -> Result<Vec<u8>> {
    git_ending(dir, args, input, &[0]).map(|(_, out)| out)
}

/// [`git`], taking any exit code of `ok` for success: the code, and the standard output.
fn git_ending(
    dir: &Path,
    args: &[&str],
    input: Option<&[u8]>,
    ok: &[i32],
) -> Result<(i32, Vec<u8>)> {
    let shown = format!("git {}", args.join(" "));
    let mut child = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        // The repository is the one that holds `dir`, whatever the environment names (a
        // hook's GIT_DIR or GIT_INDEX_FILE, say).
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_COMMON_DIR")
        .env_remove("GIT_INDEX_FILE")
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            let failure = if e.kind() == io::ErrorKind::NotFound {
                GitFailure::Missing
            } else {
                GitFailure::Failed
            };
            let why = format!("cannot run `git` ({e}); is Git installed?");
            git_error(dir, failure, why, b"")
        })?;
    // Written from a thread of its own: Git answers while it reads, and a full pipe both
    // ways would wait for ever.
    let writer = input.map(|input| {
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let input = input.to_vec();
        std::thread::spawn(move || stdin.write_all(&input))
    });
    // Both outputs read at once, so that Git never waits on a full pipe of either.
    let failed = |e: io::Error| unreadable(dir, format!("`{shown}` failed: {e}"));
    let output = child.wait_with_output().map_err(failed)?;
    if let Some(writer) = writer {
        let _ = writer.join();
    }
    match output.status.code() {
        Some(code) if ok.contains(&code) => Ok((code, output.stdout)),
        code => {
            let ended = code.map_or_else(|| "a signal".to_owned(), |c| format!("exit {c}"));
            let why = format!("`{shown}` failed ({ended})");
            Err(git_error(dir, GitFailure::Failed, why, &output.stderr))
        }
    }
}

fn open_inner(repo: &Path) -> Result<Repository> {
    // Git fails here (exit 128) where `repo` is in no work tree (or one Git will not
    // read: `safe.directory`).
    let top = git(repo, &["rev-parse", "--show-toplevel"], None).map_err(|e| match e.kind() {
        ErrorKind::Git {
            why,
            failure: GitFailure::Failed,
            said,
        } => Error::new(
            Op::Git,
            repo,
            ErrorKind::Git {
                why: why.clone(),
                failure: GitFailure::NotAWorkTree,
                said: said.clone(),
            },
        ),
        _ => e,
    })?;
    let top = os_string(&trim_newline(top))
        .ok_or_else(|| unreadable(repo, "the work tree's path is not valid UTF-8".to_owned()))?;
    let prefix = trim_newline(git(repo, &["rev-parse", "--show-prefix"], None)?);
    let listed = git(repo, &["ls-files", "-s", "-z", "--full-name"], None)?;
    // `<mode> <object> <stage>\t<path>\0`
    let mut links = Vec::new();
    for record in listed.split(|&b| b == 0).filter(|r| !r.is_empty()) {
        let Some(tab) = record.iter().position(|&b| b == b'\t') else {
            continue;
        };
        let (head, full) = (&record[..tab], &record[tab + 1..]);
        let mut fields = head.split(|&b| b == b' ');
        if fields.next() != Some(b"120000") {
            continue;
        }
        let Some(object) = fields.next() else {
            continue;
        };
        // A conflicted entry (stage 1 to 3) is the user's to settle.
        if fields.next() != Some(b"0") {
            continue;
        }
        links.push((full.to_vec(), object.to_vec()));
    }
    let blobs = read_blobs(repo, &links)?;
    let attributes = read_attributes(&top, &links)?;
    let entries = links
        .into_iter()
        .zip(blobs)
        .zip(attributes)
        .map(|(((full, _), blob), attribute)| IndexLink {
            full,
            blob,
            attribute,
        })
        .collect::<Vec<IndexLink>>();
    let by_full = entries
        .iter()
        .enumerate()
        .map(|(i, entry)| (entry.full.clone(), i))
        .collect();
    Ok(Repository {
        given: repo.to_path_buf(),
        top: PathBuf::from(top),
        prefix,
        entries,
        by_full,
    })
}

/// The line Git printed without its one `\n` (a name may end in `\r` or `\n` itself).
fn trim_newline(mut bytes: Vec<u8>) -> Vec<u8> {
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
    }
    bytes
}

/// Bytes Git printed as a name: raw bytes on Unix; UTF-8 on Windows, where Git writes
/// every name so (`None` for other bytes there, which Windows cannot name).
fn os_string(bytes: &[u8]) -> Option<OsString> {
    crate::path::os_string(bytes)
}

/// [`os_string`], or where the bytes cannot name anything here, their text with `\u{FFFD}`
/// for what is not UTF-8: for messages.
fn shown(bytes: &[u8]) -> OsString {
    os_string(bytes).unwrap_or_else(|| String::from_utf8_lossy(bytes).into_owned().into())
}

/// The blobs of `links`, read by one `git cat-file --batch`.
fn read_blobs(repo: &Path, links: &[(Vec<u8>, Vec<u8>)]) -> Result<Vec<Vec<u8>>> {
    if links.is_empty() {
        return Ok(Vec::new());
    }
    let mut input = Vec::new();
    for (_, object) in links {
        input.extend_from_slice(object);
        input.push(b'\n');
    }
    let out = git(repo, &["cat-file", "--batch"], Some(&input))?;
    let bad = || {
        unreadable(
            repo,
            "`git cat-file --batch` gave output knot cannot read".into(),
        )
    };
    // `<object> <type> <size>\n<contents>\n` per object.
    let mut blobs = Vec::with_capacity(links.len());
    let mut rest = &out[..];
    for _ in links {
        let end = rest.iter().position(|&b| b == b'\n').ok_or_else(bad)?;
        let head = std::str::from_utf8(&rest[..end]).map_err(|_| bad())?;
        let size: usize = match head.split(' ').collect::<Vec<_>>()[..] {
            [_, "blob", size] => size.parse().map_err(|_| bad())?,
            _ => return Err(unreadable(repo, format!("`git cat-file --batch`: {head}"))),
        };
        let body = rest.get(end + 1..end + 1 + size).ok_or_else(bad)?;
        blobs.push(body.to_vec());
        rest = rest.get(end + 2 + size..).unwrap_or_default();
    }
    Ok(blobs)
}

/// The `symlink` attribute of each of `links`: `file`, or `dir` / `directory`, as Git for
/// Windows reads it (`mingw_create_symlink`); anything else gives none.
fn read_attributes(top: &OsStr, links: &[(Vec<u8>, Vec<u8>)]) -> Result<Vec<Option<Flavour>>> {
    if links.is_empty() {
        return Ok(Vec::new());
    }
    let mut input = Vec::new();
    for (full, _) in links {
        input.extend_from_slice(full);
        input.push(0);
    }
    // Asked at the top, where the full paths are the paths.
    let out = git(
        Path::new(top),
        &["check-attr", "-z", "--stdin", "symlink"],
        Some(&input),
    )?;
    // `<path>\0<attribute>\0<value>\0` per path, in the order asked.
    let fields: Vec<&[u8]> = out.split(|&b| b == 0).collect();
    let mut found = std::collections::HashMap::new();
    for triple in fields.chunks(3) {
        if let [path, _, value] = triple {
            let flavour = match *value {
                b"file" => Some(Flavour::File),
                b"dir" | b"directory" => Some(Flavour::Dir),
                _ => None,
            };
            found.insert(path.to_vec(), flavour);
        }
    }
    Ok(links
        .iter()
        .map(|(full, _)| found.get(full).copied().flatten())
        .collect())
}

/// Looks at the path of each symlink entry of `repo`, in the index's order (sorted by
/// path), and gives each, with what stands there, to `each`; nothing is changed.
pub fn check(repo: &Repository, mut each: impl FnMut(std::result::Result<GitLink, Failed>)) {
    for entry in &repo.entries {
        each(
            look(repo, entry)
                .map(|(link, _)| link)
                .map_err(|error| Failed {
                    link: None,
                    error,
                    fallback_error: None,
                }),
        );
    }
}

/// Replaces each placeholder of `repo` with a real link (in a dry run: says what it would
/// make), giving each entry to `each`, in the index's order, once all are done; then gives
/// the repository what `git status` needs to see the links as unchanged ([`RepoChanges`]).
///
/// An entry's flavour, where no attribute gives it, is what its target is, resolved
/// first through the index's own symlink entries (a link to another placeholder's link
/// to a directory is a directory link), and an entry whose target passes through other
/// entries is made after them.
///
/// The link made is a symlink holding the target text (on an NTFS volume read from Linux,
/// a real NTFS symlink, its separators `\`, as Git for Windows writes it), of the entry's
/// flavour; where this process may not make symlinks, the first of
/// [`GitLinksOptions::fallback`] that fits the target.
///
/// # Errors
/// Of each entry, in `each` ([`Failed`]): what stands at its path cannot be read, or the
/// link cannot be made (the placeholder is then left as it was). Of the whole, returned: running
/// `git config` or `git update-index` failed ([`ErrorKind::Git`]).
///
/// # Platform behavior
/// On Unix the placeholder is set aside under a hidden name (into a private directory of
/// knot's on FUSE and ntfs-3g), judged there by its identity and bytes, and the link put
/// at its path by calls that never overwrite; anything else found is put back, and a link
/// the user put at the path meanwhile stays. On Windows the placeholder is checked
/// through the handle that renames it aside.
pub fn fix(
    repo: &Repository,
    options: &GitLinksOptions,
    mut each: impl FnMut(std::result::Result<GitLink, Failed>),
) -> Result<RepoChanges> {
    let dry_run = options.mode == ChangeMode::DryRun;
    let mut symlinks = false;
    let mut made = Vec::new();
    // An entry whose target passes through other entries is made after them, so that its
    // link is read back through theirs; the results are given in the index's order.
    let mut order: Vec<usize> = (0..repo.entries.len()).collect();
    order.sort_by_key(|&i| leads_to_dir(repo, &repo.entries[i]).1);
    let mut results: Vec<Option<std::result::Result<GitLink, Failed>>> =
        std::iter::repeat_with(|| None).take(order.len()).collect();
    for i in order {
        let entry = &repo.entries[i];
        let result = match look(repo, entry) {
            Ok((mut link, Some((dir, name, id)))) => {
                match replace(&dir, &name, id, entry, &mut link, options) {
                    Ok(()) => {
                        symlinks |= !link.fallback;
                        made.push(entry.full.clone());
                        Ok(link)
                    }
                    Err(failure) => {
                        let (error, fallback_error) = *failure;
                        Err(Failed {
                            link: Some(link),
                            error,
                            fallback_error,
                        })
                    }
                }
            }
            Ok((link, None)) => Ok(link),
            Err(error) => Err(Failed {
                link: None,
                error,
                fallback_error: None,
            }),
        };
        results[i] = Some(result);
    }
    results.into_iter().flatten().for_each(&mut each);
    let mut changes = RepoChanges::default();
    if dry_run || made.is_empty() {
        return Ok(changes);
    }
    let top = repo.top.as_path();
    if symlinks {
        let value = git(
            top,
            &["config", "--type=bool", "--get", "core.symlinks"],
            None,
        )
        .map(trim_newline)
        .unwrap_or_default();
        if value == b"false" {
            git(top, &["config", "core.symlinks", "true"], None)?;
            changes.set_core_symlinks = true;
        }
    }
    // Exit 1 from `--refresh` only says that some entries differ (an edited placeholder;
    // its "needs update" goes to the standard output, unread): the times and sizes of the
    // others are refreshed all the same. Anything else (128: the index is locked by
    // another Git) is a failure, with what Git said (`-q` would silence that too).
    git_ending(top, &["update-index", "--refresh"], None, &[0, 1])?;
    changes.refreshed = true;
    // What Git still reads otherwise than its index records: a fallback (a junction, hard
    // link or copy is not the symlink recorded), or a link the file system shows in
    // another form (ntfs-3g shows a dangling relative symlink as no link text at all).
    let differ = git(top, &["diff-files", "--name-only", "-z"], None)?;
    let differ: Vec<Vec<u8>> = differ
        .split(|&b| b == 0)
        .filter(|full| made.iter().any(|m| m == full))
        .map(<[u8]>::to_vec)
        .collect();
    if !differ.is_empty() {
        let mut input = Vec::new();
        for full in &differ {
            input.extend_from_slice(full);
            input.push(0);
        }
        git(
            top,
            &["update-index", "--assume-unchanged", "-z", "--stdin"],
            Some(&input),
        )?;
        changes.assume_unchanged = differ.iter().map(|full| user_path(repo, full)).collect();
    }
    Ok(changes)
}

/// The path of the entry `full` (a path from the top) as the user names it: the path
/// given, joined with the entry's path below it.
fn user_path(repo: &Repository, full: &[u8]) -> PathBuf {
    let below = full.strip_prefix(&repo.prefix[..]).unwrap_or(full);
    let below = shown(below);
    if repo.given == Path::new(".") {
        PathBuf::from(&below)
    } else {
        repo.given.join(&below)
    }
}

/// What stands at the path of `entry`: the entry's record, and where it is a placeholder,
/// its directory held with its name and identity.
#[allow(clippy::type_complexity, reason = "a private helper's one return")]
fn look(
    repo: &Repository,
    entry: &IndexLink,
) -> Result<(GitLink, Option<(sys::Dir, OsString, (u64, u128))>)> {
    let path = user_path(repo, &entry.full);
    let target = PathBuf::from(shown(&entry.blob));
    let fail = |e: io::Error| Error::io(Op::GitLinks, &path, e).with_target(&target);
    // Git for Windows writes names in UTF-8; other bytes (a repository made elsewhere)
    // name nothing here.
    let (Some(full), Some(_)) = (os_string(&entry.full), os_string(&entry.blob)) else {
        let why = "its path or its target is not UTF-8, so this system has no name for it; \
                   rename it in the repository"
            .to_owned();
        let kind = ErrorKind::Unsupported { why };
        return Err(Error::new(Op::GitLinks, &path, kind).with_target(&target));
    };
    let mut link = GitLink {
        path: path.clone(),
        target: target.clone(),
        flavour: entry.attribute.unwrap_or(Flavour::File),
        by_attribute: entry.attribute.is_some(),
        state: State::Missing,
        made: None,
        copied: false,
        fallback: false,
    };
    let full = PathBuf::from(full);
    let (dir, name) = match hold_parent(&repo.top, &full).map_err(fail)? {
        Ok(held) => held,
        Err(state) => {
            link.state = state;
            return Ok((link, None));
        }
    };
    if entry.attribute.is_none() {
        link.flavour = Flavour::of(leads_to_dir(repo, entry).0);
    }
    let meta = match dir.stat_at(&name, false) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((link, None)),
        Err(e) => return Err(fail(e)),
    };
    link.state = match meta.ty {
        FileType::Link => {
            let stored = dir.read_link_at(&name).map_err(fail)?.target;
            if same_text(&stored, &entry.blob) {
                State::Link
            } else {
                State::OtherLink { target: stored }
            }
        }
        FileType::File => {
            let (meta, bytes) = dir
                .read_file_at(&name, entry.blob.len() + 1)
                .map_err(fail)?;
            if bytes == entry.blob {
                link.state = State::Placeholder;
                return Ok((link, Some((dir, name, meta.id))));
            }
            State::Edited
        }
        FileType::Dir | FileType::Other => State::Other,
    };
    Ok((link, None))
}

/// How many links of the index [`leads_to_dir`] follows, as the kernel's bound on links in
/// one path (Linux's `MAXSYMLINKS`).
const HOPS: usize = 40;

/// Whether the target of `entry` is a directory, resolved first through the index's own
/// symlink entries, followed lexically as the link they will be (their paths may still be
/// placeholders, files, when this one is looked at: a link to a link to a directory is a
/// directory link all the same, as Git for Windows settles with its second pass over
/// "phantom" symlinks), then, once no entry of the index is on the way, on disk; and how
/// many entries of the index it passed through (those are made first).
fn leads_to_dir(repo: &Repository, entry: &IndexLink) -> (bool, usize) {
    // `at`: the path from the top reached so far; `rest`: what is left to walk.
    let mut at: Vec<&[u8]> = entry.full.split(|&b| b == b'/').collect();
    at.pop();
    let mut rest: Vec<&[u8]> = Vec::new();
    let mut text: &[u8] = &entry.blob;
    for hops in 0..HOPS {
        if text.first() == Some(&b'/') {
            // Absolute: Git stores it as given; only the disk can say.
            return (on_disk_is_dir(PathBuf::from(shown(text)), &rest), hops);
        }
        let mut parts: Vec<&[u8]> = text.split(|&b| b == b'/').collect();
        parts.extend(rest.drain(..).rev());
        parts.reverse();
        rest = parts;
        let mut followed = None;
        while let Some(part) = rest.pop() {
            match part {
                b"" | b"." => {}
                b".." => {
                    if at.pop().is_none() {
                        // Above the top: the disk says.
                        let mut path = repo.top.clone();
                        path.push("..");
                        return (on_disk_is_dir(path, &rest), hops);
                    }
                }
                name => {
                    at.push(name);
                    let full = at.join(&b'/');
                    if let Some(&i) = repo.by_full.get(&full) {
                        at.pop();
                        followed = Some(&repo.entries[i].blob[..]);
                        break;
                    }
                }
            }
        }
        match followed {
            Some(next) => text = next,
            None => {
                let mut path = repo.top.clone();
                for part in at {
                    path.push(shown(part));
                }
                return (on_disk_is_dir(path, &[]), hops);
            }
        }
    }
    (false, HOPS)
}

/// Whether `path` joined with `rest` (the parts still to walk, last first) is a
/// directory on disk, following links.
fn on_disk_is_dir(mut path: PathBuf, rest: &[&[u8]]) -> bool {
    for part in rest.iter().rev() {
        path.push(shown(part));
    }
    sys::Os::stat(&path).is_ok_and(|meta| meta.ty == FileType::Dir)
}

/// Whether the link text `stored` is the blob's: byte for byte, or with `\` for `/` (an NT
/// symlink, as Git for Windows makes it and ntfs-3g shows it).
fn same_text(stored: &Path, blob: &[u8]) -> bool {
    let stored = stored.as_os_str().as_encoded_bytes();
    stored == blob
        || (stored.len() == blob.len()
            && stored
                .iter()
                .zip(blob)
                .all(|(&s, &b)| s == b || (b == b'/' && s == b'\\')))
}

fn parent_of(path: &Path) -> &Path {
    crate::path::parent_dir(path)
}

/// The directory that holds `full` (a path from `top`), opened from `top` one directory at
/// a time without following a link, and the entry's name; where a directory on the way is
/// missing, [`State::Missing`], and where it is no directory (a link among them: Git never
/// checks out below a link either), [`State::Other`].
fn hold_parent(
    top: &Path,
    full: &Path,
) -> io::Result<std::result::Result<(sys::Dir, OsString), State>> {
    let mut parts: Vec<&OsStr> = Vec::new();
    for part in full.components() {
        match part {
            Component::Normal(part) => parts.push(part),
            _ => return Err(io::ErrorKind::InvalidInput.into()),
        }
    }
    let Some((name, dirs)) = parts.split_last() else {
        return Err(io::ErrorKind::InvalidInput.into());
    };
    let mut dir = sys::Dir::hold(top)?;
    for part in dirs {
        dir = match dir.hold_at(part) {
            Ok(dir) => dir,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Err(State::Missing)),
            Err(e) if e.kind() == io::ErrorKind::NotADirectory || sys::error::of(&e).is_some() => {
                return Ok(Err(State::Other));
            }
            Err(e) => return Err(e),
        };
    }
    Ok(Ok((dir, (*name).to_owned())))
}

/// The placeholder `name` of `dir` (the file `id`) replaced with the link `entry` asks
/// for, through the staged create: made and read back under a hidden name, then put in
/// the placeholder's place while that is still the placeholder. Only the want of the
/// symlink privilege moves on to the fallbacks, and among them only a kind that does not
/// fit the target ([`does_not_fit`]) to the next; the error, and the last fallback's.
fn replace(
    dir: &sys::Dir,
    name: &OsStr,
    id: (u64, u128),
    entry: &IndexLink,
    link: &mut GitLink,
    options: &GitLinksOptions,
) -> std::result::Result<(), Box<(Error, Option<Error>)>> {
    let dry_run = options.mode == ChangeMode::DryRun;
    let mut kinds = vec![None];
    kinds.extend(options.fallback.iter().copied().map(Some));
    let mut privilege = None;
    let mut misfit = None;
    for kind in kinds {
        let ty = match kind {
            None => LinkType::Symlink,
            Some(Fallback::Junction) => LinkType::Junction,
            Some(Fallback::Hardlink) => LinkType::Hardlink,
            Some(Fallback::Copy) => LinkType::Hardlink,
        };
        let copy = kind == Some(Fallback::Copy);
        match make_one(dir, name, id, entry, link, ty, copy, dry_run) {
            Ok(made) => {
                link.made = Some(made);
                link.copied = copy;
                link.fallback = kind.is_some();
                return Ok(());
            }
            Err(err) if kind.is_none() && *err.kind() == ErrorKind::PrivilegeNeeded => {
                privilege = Some(err);
            }
            Err(err) if kind.is_some() && does_not_fit(err.kind()) => misfit = Some(err),
            // Anything else (the placeholder changed, an I/O error) is the entry's error.
            Err(err) => return Err(Box::new((err, None))),
        }
    }
    Err(Box::new((
        privilege.expect("at least the symlink was tried"),
        misfit,
    )))
}

/// Whether a fallback failed only because its kind cannot be made for this target here
/// (a junction to a file, a hard link to a directory or across volumes, a copy of a
/// directory, a kind this volume cannot hold): the next one is tried.
fn does_not_fit(kind: &ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::TargetMissing
            | ErrorKind::TargetNotDirectory
            | ErrorKind::TargetIsDirectory
            | ErrorKind::TargetIsDirectoryLink
            | ErrorKind::FlavourMismatch { .. }
            | ErrorKind::CrossDevice
            | ErrorKind::RemoteTarget
            | ErrorKind::NoJunctions
            | ErrorKind::Unsupported { .. }
    )
}

/// Whether symlinks are refused as if this process lacked the privilege: in debug builds
/// only, where `KNOT_TEST_SYMLINK_PRIVILEGE=none` (or, in unit tests, this thread's
/// switch), so that the fallbacks run on systems where symlinks need none.
fn symlinks_refused() -> bool {
    #[cfg(test)]
    if REFUSE_SYMLINKS.get() {
        return true;
    }
    cfg!(debug_assertions)
        && std::env::var_os("KNOT_TEST_SYMLINK_PRIVILEGE").is_some_and(|v| v == "none")
}

#[cfg(test)]
thread_local! {
    static REFUSE_SYMLINKS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// One try of [`replace`]: a link of type `ty` (or with `copy`, a copy of the target's
/// file) made under a hidden name and put in place.
#[allow(clippy::too_many_arguments, reason = "a private helper of `replace`")]
fn make_one(
    dir: &sys::Dir,
    name: &OsStr,
    id: (u64, u128),
    entry: &IndexLink,
    link: &GitLink,
    ty: LinkType,
    copy: bool,
    dry_run: bool,
) -> Result<Made> {
    let path = link.path.as_path();
    let target = link.target.as_path();
    let options = CreateOptions {
        flavour: Some(link.flavour),
        flavour_check: FlavourCheck::AsAsked,
        form: TargetForm::AsGiven,
        ..CreateOptions::default()
    };
    // The target as a path from the current directory: what a junction, a hard link and
    // a copy are given.
    let from_here = parent_of(path).join(target);
    // Where `\` is the separator (Windows), the text with `\` for `/`, as Git for
    // Windows writes it (`mingw_create_symlink`): Windows resolves a symlink's text with
    // `\` alone. (On an NTFS volume read from Linux the create writes `\` itself.)
    let native = match target.to_str() {
        Some(text) if std::path::MAIN_SEPARATOR == '\\' => PathBuf::from(text.replace('/', "\\")),
        _ => target.to_path_buf(),
    };
    let given = if ty == LinkType::Symlink {
        native.as_path()
    } else {
        from_here.as_path()
    };
    let fail = |e: io::Error| Error::io(Op::GitLinks, path, e).with_target(target);
    if ty == LinkType::Symlink && symlinks_refused() {
        return Err(Error::new(Op::GitLinks, path, ErrorKind::PrivilegeNeeded).with_target(target));
    }
    if copy {
        // Only a file is copied.
        let kind = match sys::Os::stat(&from_here) {
            Ok(meta) if meta.ty == FileType::File => None,
            Ok(_) => Some(ErrorKind::TargetIsDirectory),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Some(ErrorKind::TargetMissing),
            Err(e) => return Err(fail(e)),
        };
        if let Some(kind) = kind {
            return Err(Error::new(Op::GitLinks, path, kind).with_target(target));
        }
    }
    for _ in 0..8 {
        let hidden = crate::path::hidden_file_name(name);
        let hidden_path = parent_of(path).join(&hidden);
        let at = At::new(dir, &hidden, &hidden_path);
        if copy {
            if dry_run {
                return Ok(Made::Hardlink);
            }
            let source = sys::Dir::hold(parent_of(&from_here)).map_err(fail)?;
            let Some(source_name) = from_here.file_name() else {
                return Err(fail(io::ErrorKind::InvalidInput.into()));
            };
            match source.copy_file_at(source_name, dir, &hidden, false) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(fail(e)),
            }
            return put(dir, &hidden, name, id, &entry.blob, path, target).map(|()| Made::Hardlink);
        }
        let ours = |e: Error| e.with_op(Op::GitLinks).with_path(path);
        let planned = plan_at(at, given, None, ty, &options, None).map_err(ours)?;
        if dry_run {
            planned.may_make().map_err(ours)?;
            return Ok(Made::of(ty));
        }
        let created = match planned.commit() {
            Ok(created) => created,
            Err(e) if *e.kind() == ErrorKind::LinkExists => continue,
            Err(e) => return Err(ours(e)),
        };
        put(dir, &hidden, name, id, &entry.blob, path, target)?;
        return Ok(created.made);
    }
    Err(fail(io::ErrorKind::AlreadyExists.into()))
}

/// Puts what was made at `hidden` in the place of the placeholder `name` (the file `id`
/// holding `blob`); on any failure, what was made is removed, and only that: the entry
/// at `hidden` only while it is still the one made there (its identity looked at right
/// after it was made), never whatever else stands there.
fn put(
    dir: &sys::Dir,
    hidden: &OsStr,
    name: &OsStr,
    id: (u64, u128),
    blob: &[u8],
    path: &Path,
    target: &Path,
) -> Result<()> {
    let fail = |e: io::Error| Error::io(Op::GitLinks, path, e).with_target(target);
    let made = dir.stat_at(hidden, false).map_err(fail)?;
    let hidden_path = parent_of(path).join(hidden);
    dir.put_link_over_file_at(hidden, name, path, id, blob)
        .map_err(|e| {
            let _ = match dir.stat_at(hidden, false) {
                Ok(meta) if meta.id == made.id && meta.ty == FileType::Link => {
                    dir.remove_link_at(hidden, &hidden_path)
                }
                Ok(meta) if meta.id == made.id && meta.ty == FileType::File => {
                    dir.remove_name_at(hidden)
                }
                _ => Ok(()),
            };
            fail(e)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_nt_link_text_is_the_blob_with_backslashes() {
        assert!(same_text(Path::new("../a/b"), b"../a/b"));
        assert!(same_text(Path::new("..\\a\\b"), b"../a/b"));
        assert!(!same_text(Path::new("../a/c"), b"../a/b"));
        assert!(!same_text(Path::new("../a/b/"), b"../a/b"));
    }
}

/// Windows has no name for bytes that are not UTF-8 (Git for Windows writes every name in
/// UTF-8): such an entry is refused with the reason, never taken as an empty path.
#[cfg(all(test, windows))]
mod windows_tests {
    use super::*;

    /// The staged entry goes in only over the placeholder looked at, holding the bytes
    /// looked at: a placeholder edited in place, or gone, is refused, and the staged entry
    /// stays for the caller to take back.
    #[test]
    fn the_link_replaces_only_the_placeholder_looked_at() {
        let tmp = tempfile::tempdir().unwrap();
        let (root, p) = (tmp.path(), tmp.path().join("p"));
        let dir = sys::Dir::hold(root).unwrap();
        let replaced = |err: io::Error| {
            sys::error::of(&err).is_some_and(|e| matches!(e, sys::error::Error::Replaced))
        };
        std::fs::write(&p, "t").unwrap();
        std::fs::write(root.join(".h"), "staged").unwrap();
        let id = dir.stat_at("p".as_ref(), false).unwrap().id;
        let put = || dir.put_link_over_file_at(".h".as_ref(), "p".as_ref(), &p, id, b"t");
        // Edited in place: the same file, other bytes.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&p)
            .and_then(|mut f| f.write_all(b"u"))
            .unwrap();
        assert!(replaced(put().unwrap_err()));
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "u");
        assert_eq!(std::fs::read_to_string(root.join(".h")).unwrap(), "staged");
        // Gone.
        std::fs::remove_file(&p).unwrap();
        assert!(replaced(put().unwrap_err()));
        assert!(std::fs::symlink_metadata(&p).is_err(), "nothing put there");
        assert_eq!(std::fs::read_to_string(root.join(".h")).unwrap(), "staged");
        // The placeholder as looked at.
        std::fs::write(&p, "t").unwrap();
        let id = dir.stat_at("p".as_ref(), false).unwrap().id;
        dir.put_link_over_file_at(".h".as_ref(), "p".as_ref(), &p, id, b"t")
            .unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "staged");
        assert!(std::fs::symlink_metadata(root.join(".h")).is_err());
    }

    #[test]
    fn a_name_that_is_not_utf8_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        for (full, blob) in [(&b"l\xff"[..], &b"t"[..]), (b"l", b"t\xfe")] {
            let entry = IndexLink {
                full: full.to_vec(),
                blob: blob.to_vec(),
                attribute: None,
            };
            let repo = Repository {
                given: PathBuf::from("."),
                top: tmp.path().to_path_buf(),
                prefix: Vec::new(),
                by_full: [(entry.full.clone(), 0)].into_iter().collect(),
                entries: vec![entry],
            };
            let err = look(&repo, &repo.entries[0]).unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::Unsupported { why } if why.contains("not UTF-8")),
                "{err}"
            );
        }
    }
}

#[cfg(all(test, unix))]
mod swap_tests {
    use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _, symlink};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Barrier};

    use super::*;

    fn id(dir: &Path, name: &str) -> (u64, u128) {
        let meta = std::fs::symlink_metadata(dir.join(name)).unwrap();
        (meta.dev(), u128::from(meta.ino()))
    }

    fn replaced(err: &io::Error) -> bool {
        sys::error::of(err).is_some_and(|e| matches!(e, sys::error::Error::Replaced))
    }

    /// The link goes in only over the file looked at, holding the bytes looked at: a file
    /// changed in place, another file put there, a link or a socket put there, is left
    /// where it is, and the staged link stays for the caller to take back.
    #[test]
    fn the_link_replaces_only_the_placeholder_looked_at() {
        let tmp = tempfile::tempdir().unwrap();
        let (root, p) = (tmp.path(), tmp.path().join("p"));
        let dir = sys::Dir::hold(root).unwrap();
        let put = |file| dir.put_link_over_file_at(".h".as_ref(), "p".as_ref(), &p, file, b"t");
        let staged_stays = || {
            assert_eq!(std::fs::read_link(root.join(".h")).unwrap(), Path::new("t"));
        };
        std::fs::write(&p, "t").unwrap();
        symlink("t", root.join(".h")).unwrap();
        let placeholder = id(root, "p");
        std::fs::write(&p, "edited").unwrap();
        assert!(replaced(&put(placeholder).unwrap_err()));
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "edited");
        staged_stays();

        std::fs::write(&p, "t").unwrap();
        assert!(put((0, 0)).is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "t");
        staged_stays();

        // The user's own link where the placeholder was.
        let placeholder = id(root, "p");
        std::fs::remove_file(&p).unwrap();
        symlink("users-own", &p).unwrap();
        assert!(replaced(&put(placeholder).unwrap_err()));
        assert_eq!(std::fs::read_link(&p).unwrap(), Path::new("users-own"));
        staged_stays();

        // A socket, which cannot be opened to be read.
        std::fs::remove_file(&p).unwrap();
        let _socket = std::os::unix::net::UnixListener::bind(&p).unwrap();
        let socket = id(root, "p");
        assert!(put(socket).is_err());
        assert!(
            std::fs::symlink_metadata(&p)
                .unwrap()
                .file_type()
                .is_socket()
        );
        staged_stays();
        std::fs::remove_file(&p).unwrap();

        std::fs::write(&p, "t").unwrap();
        put(id(root, "p")).unwrap();
        assert_eq!(std::fs::read_link(&p).unwrap(), Path::new("t"));
        assert_eq!(crate::fixture::names(root), ["p"], "the placeholder went");
    }

    /// Where the put fails, what was made is taken back, and nothing else: the user's
    /// link at the placeholder's path stays.
    #[test]
    fn a_failed_put_takes_back_only_what_was_made() {
        let tmp = tempfile::tempdir().unwrap();
        let (root, p) = (tmp.path(), tmp.path().join("p"));
        let dir = sys::Dir::hold(root).unwrap();
        std::fs::write(&p, "t").unwrap();
        let placeholder = id(root, "p");
        std::fs::remove_file(&p).unwrap();
        symlink("users-own", &p).unwrap();
        symlink("t", root.join(".h")).unwrap();
        let err = put(
            &dir,
            ".h".as_ref(),
            "p".as_ref(),
            placeholder,
            b"t",
            &p,
            "t".as_ref(),
        );
        assert!(err.is_err());
        assert_eq!(std::fs::read_link(&p).unwrap(), Path::new("users-own"));
        assert_eq!(crate::fixture::names(root), ["p"], "the staged link went");
    }

    /// Under a fallback, a placeholder changed since it was looked at is reported as such,
    /// not as the want of the privilege the symlink met first; the fallback that would
    /// have fitted is not tried again after it.
    #[test]
    fn a_changed_placeholder_under_a_fallback_is_its_own_error() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::write(root.join("f.txt"), "file").unwrap();
        std::fs::write(root.join("p"), "f.txt").unwrap();
        let dir = sys::Dir::hold(root).unwrap();
        let entry = IndexLink {
            full: b"p".to_vec(),
            blob: b"f.txt".to_vec(),
            attribute: None,
        };
        let mut link = GitLink {
            path: root.join("p"),
            target: PathBuf::from("f.txt"),
            flavour: Flavour::File,
            by_attribute: false,
            state: State::Placeholder,
            made: None,
            copied: false,
            fallback: false,
        };
        let options = GitLinksOptions {
            fallback: vec![Fallback::Junction, Fallback::Hardlink],
            ..GitLinksOptions::default()
        };
        REFUSE_SYMLINKS.set(true);
        // An id that is not the placeholder's: it changed since it was looked at.
        let (err, misfit) =
            *replace(&dir, "p".as_ref(), (0, 0), &entry, &mut link, &options).unwrap_err();
        REFUSE_SYMLINKS.set(false);
        assert_ne!(*err.kind(), ErrorKind::PrivilegeNeeded, "{err}");
        assert!(err.is_retryable(), "the placeholder changed: {err}");
        assert!(misfit.is_none());
        assert_eq!(std::fs::read_to_string(root.join("p")).unwrap(), "f.txt");
        assert_eq!(crate::fixture::names(root), ["f.txt", "p"]);
    }

    /// Rounds of the race below.
    const ROUNDS: usize = 10_000;

    /// While the link is put in place, the user renames a link of their own over the
    /// placeholder: whoever comes first, the user's link is what stands at the path after,
    /// and nothing is left beside it. The race must have been met (a put refused) at least
    /// once.
    #[test]
    fn a_link_the_user_puts_there_meanwhile_is_never_lost() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let p = root.join("p");
        let dir = sys::Dir::hold(&root).unwrap();
        let start = Arc::new(Barrier::new(2));
        let done = Arc::new(Barrier::new(2));
        let stop = Arc::new(AtomicBool::new(false));
        let racer = {
            let (root, start, done, stop) =
                (root.clone(), start.clone(), done.clone(), stop.clone());
            std::thread::spawn(move || {
                for round in 0.. {
                    start.wait();
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    // A different short pause each round, so that the rename falls
                    // before, while and after the put.
                    for _ in 0..(round % 64) * 50 {
                        std::hint::spin_loop();
                    }
                    std::fs::rename(root.join("u"), root.join("p")).unwrap();
                    done.wait();
                }
            })
        };
        let mut met = 0;
        for _ in 0..ROUNDS {
            std::fs::write(&p, "t").unwrap();
            symlink("users-own", root.join("u")).unwrap();
            symlink("t", root.join(".h")).unwrap();
            let placeholder = id(&root, "p");
            start.wait();
            let put = put(
                &dir,
                ".h".as_ref(),
                "p".as_ref(),
                placeholder,
                b"t",
                &p,
                "t".as_ref(),
            );
            done.wait();
            met += usize::from(put.is_err());
            assert_eq!(std::fs::read_link(&p).unwrap(), Path::new("users-own"));
            assert_eq!(
                crate::fixture::names(&root),
                ["p"],
                "nothing left beside it"
            );
            std::fs::remove_file(&p).unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        start.wait();
        racer.join().unwrap();
        assert!(
            met > 0,
            "the put never met the user's link in {ROUNDS} rounds"
        );
    }
}
