//! NTFS volumes mounted with ntfs-3g: real junctions and Windows symlinks, written from
//! Linux.
//!
//! `ln -s` on such a volume makes a link in ntfs-3g's private format, which Windows cannot
//! read. ntfs-3g exposes a file's raw reparse point as the extended attribute
//! `system.ntfs_reparse_data` (its value is the REPARSE_DATA_BUFFER itself: libntfs-3g
//! `reparse.c`), so knot encodes the buffer with `knot-reparse`, sets it on an empty
//! directory (a junction or a directory symlink) or an empty file (a file symlink), and
//! reads it back. ntfs-3g checks the buffer's lengths but not the directory's emptiness or
//! the names; knot makes the directory itself, so it is always empty.
//!
//! Once the attribute is set the entry reads as a symlink, and the kernel may still hold
//! the old inode type for a moment (FUSE marks it bad and the next `lstat` fails with
//! `EIO`: `fs/fuse/dir.c`), so no descriptor is held across the change and the result is
//! checked through `lgetxattr`.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::os::fd::{AsFd as _, BorrowedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};

use knot_reparse::{MountPoint, ReparsePoint, Symlink};
use rustix::fs::XattrFlags;
use rustix::io::Errno;

use super::super::error::Error as SysError;
use super::super::{At, Judge, Junctions, Request, Stored, Strategy, Written};
use super::fs_type;
use super::held::own_path;
use crate::link::{Flavour, Kind};
use crate::sys::Directory as _;

/// The raw reparse point of a file.
const REPARSE_DATA: &str = "system.ntfs_reparse_data";
/// The file's NTFS attribute flags (FILE_ATTRIBUTE_*), a little-endian u32.
const ATTRIB: &str = "system.ntfs_attrib";
/// FILE_ATTRIBUTE_DIRECTORY.
const ATTRIBUTE_DIRECTORY: u32 = 0x10;
/// FUSE_SUPER_MAGIC: ntfs-3g is a FUSE file system; no other kind can be it.
const FUSE_SUPER_MAGIC: i64 = 0x6573_5546;

/// An NTFS volume mounted with ntfs-3g.
#[derive(Debug)]
pub(crate) struct Volume {
    /// Every place it is mounted, as /proc/self/mountinfo says: the mount point and the
    /// directory of the volume mounted there, `/` unless it is a bind mount of a directory
    /// inside the volume (mountinfo's root field). A link and its target may be reached
    /// through different ones.
    mounts: Vec<Mount>,
    /// The mount point that holds the link's directory, for messages.
    mount: PathBuf,
    /// Its device number: every mount of the volume has the same one.
    dev: u64,
}

#[derive(Debug)]
struct Mount {
    point: PathBuf,
    root: PathBuf,
}

/// A target that Windows would not read as asked, or cannot store.
fn refuse(target: &Path, why: String) -> io::Error {
    SysError::TargetForWindows {
        target: target.to_path_buf(),
        why,
    }
    .into()
}

impl Volume {
    /// The ntfs-3g volume that holds the directory `dir` names, if it is on one.
    fn of(dir: &Path) -> io::Result<Option<Volume>> {
        use rustix::fs::{Mode, OFlags};
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = rustix::fs::open(dir, flags, Mode::empty())?;
        Volume::of_dir(std::os::fd::AsFd::as_fd(&fd))
    }

    /// The ntfs-3g volume that holds the directory held open as `dir`, if it is on one:
    /// FUSE by `fstatfs`, and ntfs-3g by the attribute `system.ntfs_attrib`, which only
    /// ntfs-3g has (read through `/proc/self/fd/N`: a held directory may be an `O_PATH`
    /// descriptor, which takes no attribute call).
    pub(crate) fn of_dir(dir: BorrowedFd<'_>) -> io::Result<Option<Volume>> {
        let fs_type = || rustix::fs::fstatfs(dir).map_or(0, |fs| magic(fs.f_type));
        if !is_volume_dir(dir, true, fs_type) {
            return Ok(None);
        }
        let own = own_path(dir);
        let real = fs::read_link(&own)?;
        let dev = rustix::fs::fstat(dir)?.st_dev;
        let mounts = mounts_of(dev)?;
        let mount = holder(&mounts, &real)
            .map(|m| m.point.clone())
            .ok_or_else(|| SysError::NoMountPoint { dir: real.clone() })?;
        Ok(Some(Volume { mounts, mount, dev }))
    }

    /// The path inside the volume, from its root (`/`), of `path` (absolute, at or below
    /// one of its mount points): the directory mounted there, then the rest.
    fn inside(&self, path: &Path) -> Option<PathBuf> {
        let mount = holder(&self.mounts, path)?;
        Some(mount.root.join(path.strip_prefix(&mount.point).ok()?))
    }

    /// Where the root of the volume can be seen, if one of its mounts shows it.
    fn root_mount(&self) -> Option<&Path> {
        self.mounts
            .iter()
            .find(|m| m.root == Path::new("/"))
            .map(|m| m.point.as_path())
    }

    fn outside(&self, target: &Path) -> io::Error {
        let mapping = match self.root_mount() {
            Some(root) => format!("'{}/.NTFS-3G/D:'", root.display()),
            None => "'.NTFS-3G/D:' at the volume's root".into(),
        };
        let why = format!(
            "the target '{}' is outside the NTFS volume mounted at '{}', so Windows could not \
             follow the link; choose a target on the volume, or map another drive with a \
             symlink {mapping} to where that drive is mounted",
            target.display(),
            self.mount.display(),
        );
        SysError::OutsideVolume {
            target: target.to_path_buf(),
            why,
        }
        .into()
    }

    /// A relative target, checked to name on Windows what it names here: each name one
    /// Windows allows, never leaving the volume by `..` (Windows resolves it from the
    /// link's directory and cannot leave the volume), and never passing through ntfs-3g's
    /// `.NTFS-3G/X:` mapping of another drive, which a relative path cannot reach on
    /// Windows.
    fn relative(&self, link: At<'_>, text: &str) -> io::Result<Symlink> {
        let dir = link.dir.real_path_at(OsStr::new("."))?;
        let inside = self.inside(&dir).ok_or_else(|| self.outside(&dir))?;
        // The path inside the volume, followed lexically as Windows follows it.
        let mut at: Vec<&OsStr> = inside
            .components()
            .filter_map(|c| match c {
                Component::Normal(name) => Some(name),
                _ => None,
            })
            .collect();
        if text.contains('\\') {
            return Err(refuse(
                Path::new(text),
                format!(
                    "the target '{text}' contains '\\', which separates names on Windows but is \
                 part of a name here, so Windows would follow another path; write the path \
                 with '/' (knot stores it with '\\'), or rename the name that contains '\\'"
                ),
            ));
        }
        let mut names = Vec::new();
        let mut mapping = None;
        for part in Path::new(text).components() {
            match part {
                Component::ParentDir if at.is_empty() => {
                    return Err(self.outside(&dir.join(text)));
                }
                Component::ParentDir => drop(at.pop()),
                Component::Normal(name) => {
                    at.push(name);
                    names.push(name);
                    if let [first, drive] = at[..]
                        && first == ".NTFS-3G"
                    {
                        mapping = mapping.or(drive_letter(drive.as_bytes()));
                    }
                }
                _ => {}
            }
        }
        if let Some(letter) = mapping {
            // Where it ends on that drive, if it stays there.
            let on_drive = match &at[..] {
                [first, drive, rest @ ..]
                    if *first == ".NTFS-3G" && drive_letter(drive.as_bytes()) == Some(letter) =>
                {
                    let rest: Vec<_> = rest.iter().map(|n| n.to_string_lossy()).collect();
                    format!("'{letter}:\\{}'", rest.join("\\"))
                }
                _ => format!("'{letter}:\\...'"),
            };
            return Err(refuse(
                Path::new(text),
                format!(
                    "the target '{text}' leads through '.NTFS-3G/{letter}:', ntfs-3g's mapping of \
                 drive {letter}:, which Windows cannot reach by a relative path; give the \
                 target as a path on that drive: {on_drive}"
                ),
            ));
        }
        for name in names {
            windows_name(Path::new(text), utf8(Path::new(name))?)?;
        }
        Ok(Symlink::relative(text.replace('/', "\\").as_str()))
    }

    /// `knot junction`: an empty directory with a mount-point reparse point to the target,
    /// which must be a directory on this volume (or under a `.NTFS-3G/X:` mapping).
    fn make_junction(&self, request: &Request<'_>) -> io::Result<Vec<u8>> {
        make(request.at, true, &self.junction_buffer(request)?)
    }

    /// The buffer of [`Volume::make_junction`].
    fn junction_buffer(&self, request: &Request<'_>) -> io::Result<Vec<u8>> {
        let windows = self.windows_path(request.given, request.target, request.drive)?;
        let point = MountPoint::junction(windows.as_str())
            .map_err(|e| refuse(request.given, e.to_string()))?;
        encode(request.given, point.into())
    }

    /// `knot symlink`: an empty file (a file symlink) or directory (a directory symlink)
    /// with a symlink reparse point. A relative target keeps its form, with backslashes and
    /// SYMLINK_FLAG_RELATIVE; an absolute one becomes `X:\path\in\volume`.
    fn make_symlink(&self, request: &Request<'_>) -> io::Result<Vec<u8>> {
        let buffer = self.symlink_buffer(request)?;
        make(request.at, request.flavour == Flavour::Dir, &buffer)
    }

    /// The buffer of [`Volume::make_symlink`].
    fn symlink_buffer(&self, request: &Request<'_>) -> io::Result<Vec<u8>> {
        let text = utf8(request.target)?;
        let point = if let Some(windows) = windows_absolute(text)? {
            Symlink::absolute(windows.as_str())
        } else if request.target.is_absolute() {
            let windows = self.windows_path(request.given, request.target, request.drive)?;
            Symlink::absolute(windows.as_str())
        } else {
            Ok(self.relative(request.at, text)?)
        };
        let point = point.map_err(|e| refuse(request.given, e.to_string()))?;
        encode(request.given, point.into())
    }

    /// The Windows path of an absolute Linux path on this volume, reached through any of
    /// its mounts. A path under `.NTFS-3G/X:` at the volume's root (how ntfs-3g maps other
    /// drives) keeps that drive; any other path on the volume gets `drive` (default `C`).
    /// Each name must be one Windows allows.
    fn windows_path(
        &self,
        given: &Path,
        planned: &Path,
        drive: Option<char>,
    ) -> io::Result<String> {
        let lexical = crate::path::absolute(given)?;
        if let Some(inside) = self.inside(&lexical)
            && let Ok(rest) = inside.strip_prefix("/.NTFS-3G")
        {
            let mut parts = rest.components();
            if let Some(Component::Normal(first)) = parts.next()
                && let Some(letter) = drive_letter(first.as_bytes())
            {
                return join_windows(given, letter, parts.as_path());
            }
        }
        let real = crate::path::real_location_physical(planned)?;
        // Below a mount point, but on another file system mounted inside the volume:
        // outside it as well. A missing target is judged by the nearest existing directory.
        let elsewhere = real
            .ancestors()
            .find_map(|p| fs::metadata(p).ok())
            .is_some_and(|m| m.dev() != self.dev);
        match self.inside(&real) {
            Some(inside) if !elsewhere => join_windows(
                given,
                drive.unwrap_or('C'),
                inside.strip_prefix("/").unwrap_or(&inside),
            ),
            _ => Err(self.outside(&real)),
        }
    }
}

/// knot writes the reparse points itself: real junctions, and symlinks of the flavour
/// Windows reads.
impl Strategy for Volume {
    fn junctions(&self) -> Junctions {
        Junctions::Native
    }

    fn flavour_matters(&self) -> bool {
        true
    }

    fn symlink(&self, request: &Request<'_>) -> io::Result<Written> {
        self.make_symlink(request).map(Some)
    }

    fn junction(&self, request: &Request<'_>) -> io::Result<Written> {
        self.make_junction(request).map(Some)
    }

    fn encode(&self, request: &Request<'_>, junction: bool) -> io::Result<Written> {
        if junction {
            self.junction_buffer(request).map(Some)
        } else {
            self.symlink_buffer(request).map(Some)
        }
    }

    fn rewrite(&self, link: At<'_>, buffer: &[u8]) -> io::Result<()> {
        rewrite(link, buffer)
    }

    /// For a target in its Windows form `target`, given to a link on this volume: the
    /// Linux path it names (a relative one with `/`; `X:\path` under the root of the
    /// volume, or under its `.NTFS-3G/X:` mapping of that drive where there is one), and
    /// the drive letter to write for a junction (`None` under a mapping, which keeps its
    /// own). `None` for a target that names no such path (a Linux absolute path).
    fn linux_path_of(&self, target: &Path) -> Option<(PathBuf, Option<char>)> {
        let root = self.root_mount().unwrap_or(&self.mount);
        let text = target.to_str()?;
        let names = |rest: &str| -> PathBuf {
            rest.split(['\\', '/'])
                .filter(|n| !n.is_empty())
                .collect::<PathBuf>()
        };
        let [letter, b':', b'\\' | b'/', ..] = text.as_bytes() else {
            // A relative target names the same place with `/`; one from the root of the
            // current drive (`\x`) names no path of its own here.
            return (target.is_relative() && !text.starts_with('\\'))
                .then(|| (PathBuf::from(text.replace('\\', "/")), None));
        };
        let letter = char::from(*letter).to_ascii_uppercase();
        if !letter.is_ascii_uppercase() {
            return None;
        }
        let mapping = root.join(".NTFS-3G").join(format!("{letter}:"));
        if mapping.symlink_metadata().is_ok() {
            return Some((mapping.join(names(&text[3..])), None));
        }
        Some((root.join(names(&text[3..])), Some(letter)))
    }
}

/// Replaces the reparse point of the link at `link` by `buffer`, on the same entry, without
/// ever giving another file reparse data (a file renamed onto the name between a check and
/// a write by name would get it, its data hidden behind it).
///
/// The entry is opened itself through its held directory, not followed (`O_PATH |
/// O_NOFOLLOW`: ntfs-3g shows a link as a symlink, and such a descriptor names the
/// symlink), and every later call goes
/// through that descriptor as `/proc/self/fd/N`, which the kernel resolves to the very
/// entry opened, whatever is renamed onto its name meanwhile: so what is checked (a
/// symlink whose reparse point stands for another name) is what is written. The old
/// buffer is kept, and put back if the new one does not read back. The entry keeps its
/// type (a link stays a link), so the kernel's cached inode type stays right.
fn rewrite(link: At<'_>, buffer: &[u8]) -> io::Result<()> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(link.dir.fd(), link.name, flags, Mode::empty())?;
    let own = own_path(fd.as_fd());
    let is_symlink = rustix::fs::fstat(&fd)
        .is_ok_and(|st| rustix::fs::FileType::from_raw_mode(st.st_mode).is_symlink());
    // `getxattr`, which follows `/proc/self/fd/N` to the entry itself (`lgetxattr` would
    // ask the proc link), and stops there: the entry is a symlink opened with `O_PATH`.
    let read_own = || -> io::Result<Option<Vec<u8>>> {
        let mut buffer = vec![0u8; knot_reparse::MAX_BUFFER_SIZE];
        match rustix::fs::getxattr(&own, REPARSE_DATA, &mut buffer) {
            Ok(len) => {
                buffer.truncate(len);
                Ok(Some(buffer))
            }
            Err(Errno::NODATA | Errno::NOTSUP) => Ok(None),
            Err(err) => Err(err.into()),
        }
    };
    let old = match read_own()? {
        Some(old) if is_symlink && is_name_surrogate(&old) => old,
        // Not a link (any more): nothing is written.
        _ => return Err(replaced()),
    };
    rustix::fs::setxattr(&own, REPARSE_DATA, buffer, XattrFlags::REPLACE)?;
    if read_own()?.as_deref() == Some(buffer) {
        return Ok(());
    }
    let restored = rustix::fs::setxattr(&own, REPARSE_DATA, &old, XattrFlags::REPLACE);
    drop(fd);
    match restored {
        Ok(()) => Err(SysError::ReadBack { who: "ntfs-3g" }.into()),
        Err(err) => Err(err.into()),
    }
}

/// Whether a reparse buffer stands for another name (a junction, a symlink: MS-FSCC
/// 2.1.2.1), so it is a link, not a file whose data sits behind its reparse point.
fn is_name_surrogate(buffer: &[u8]) -> bool {
    super::super::reparse::tag_of(buffer)
        .is_some_and(|tag| knot_reparse::Tag(tag).is_name_surrogate())
}

/// The mount among `mounts` that holds `path`: the longest mount point above it.
fn holder<'a>(mounts: &'a [Mount], path: &Path) -> Option<&'a Mount> {
    mounts
        .iter()
        .filter(|m| path.starts_with(&m.point))
        .max_by_key(|m| m.point.components().count())
}

/// Refuses a name that Windows would read as another path: `\` separates
/// names and `:` starts a stream name there, `* ? " < > |` and control characters are not
/// allowed in a name, and Win32 drops dots and spaces at the end of one.
fn windows_name(target: &Path, name: &str) -> io::Result<()> {
    let why = if name.contains('\\') {
        "'\\' separates names on Windows (give a path with '/'; knot stores it with '\\')"
            .to_owned()
    } else if name.contains(':') {
        "':' starts the name of a data stream on Windows".to_owned()
    } else if let Some(c) = name.chars().find(|c| "*?\"<>|".contains(*c)) {
        format!("Windows does not allow '{c}' in a name")
    } else if name.chars().any(|c| c.is_ascii_control() && c != '\x7f') {
        "Windows does not allow control characters in a name".to_owned()
    } else if name.ends_with(['.', ' ']) && name != "." && name != ".." {
        "Windows drops dots and spaces at the end of a name".to_owned()
    } else {
        return Ok(());
    };
    Err(refuse(
        target,
        format!(
            "the target '{}' has the name '{}', which Windows cannot use: {why}, so on \
             Windows the link would lead somewhere else; rename it, or choose another target",
            target.display(),
            knot_names::escape::escape(OsStr::new(name)),
        ),
    ))
}

fn encode(target: &Path, point: ReparsePoint) -> io::Result<Vec<u8>> {
    point.encode().map_err(|e| refuse(target, e.to_string()))
}

fn utf8(path: &Path) -> io::Result<&str> {
    path.to_str().ok_or_else(|| {
        refuse(
            path,
            format!(
                "the target '{}' is not valid UTF-8, and NTFS names are Unicode",
                path.display()
            ),
        )
    })
}

/// `X` from a component `X:`.
fn drive_letter(name: &[u8]) -> Option<char> {
    match name {
        [letter, b':'] if letter.is_ascii_alphabetic() => {
            Some(char::from(letter.to_ascii_uppercase()))
        }
        _ => None,
    }
}

/// A target typed the Windows way, `D:\data` or `D:/data`, for a link that leads to
/// another drive: `.` and `..` folded, as `CreateSymbolicLinkW` folds them, and each name
/// one Windows allows.
fn windows_absolute(text: &str) -> io::Result<Option<String>> {
    let bytes = text.as_bytes();
    let [letter, b':', b'\\' | b'/', ..] = bytes else {
        return Ok(None);
    };
    if !letter.is_ascii_alphabetic() {
        return Ok(None);
    }
    let mut names = Vec::new();
    for name in text[3..].split(['\\', '/']) {
        match name {
            "" | "." => {}
            ".." => drop(names.pop()),
            name => {
                windows_name(Path::new(text), name)?;
                names.push(name);
            }
        }
    }
    Ok(Some(format!(
        "{}:\\{}",
        char::from(*letter),
        names.join("\\")
    )))
}

/// `X:\a\b` from the names of `rest`, each one Windows allows; `target` is for messages.
fn join_windows(target: &Path, letter: char, rest: &Path) -> io::Result<String> {
    let mut out = format!("{letter}:");
    for part in rest.components() {
        let name = utf8(Path::new(part.as_os_str()))?;
        windows_name(target, name)?;
        out.push('\\');
        out.push_str(name);
    }
    if out.len() == 2 {
        out.push('\\');
    }
    Ok(out)
}

/// Makes the entry at `link` a new reparse point holding `buffer`: a new empty directory
/// (`dir`) or file, with the buffer set through the descriptor knot created it with, then
/// read back.
fn make(link: At<'_>, dir: bool, buffer: &[u8]) -> io::Result<Vec<u8>> {
    make_at(link.dir.fd(), link.name, dir, buffer)?;
    Ok(buffer.to_vec())
}

/// Makes `name` in `dir` a new reparse point holding `buffer`, all or nothing.
///
/// The attribute is set through the descriptor of the entry knot made (`fsetxattr`, or for
/// a file, held with `O_PATH` and never opened for I/O, `setxattr` of `/proc/self/fd/N`),
/// never by name: a file another program renamed onto the name in the meantime would
/// otherwise become a link, its data hidden behind the reparse point. A directory is
/// checked to be empty through that descriptor first (a directory renamed over the new,
/// empty one is not knot's). Once the attribute is set, the kernel may still hold the old
/// inode type for a moment (FUSE marks it bad and the next `lstat` fails with `EIO`:
/// `fs/fuse/dir.c`), so the descriptor is closed and the result read back by name: the
/// same inode, holding the same buffer. On failure only knot's own entry is removed.
fn make_at(dir: BorrowedFd<'_>, name: &OsStr, is_dir: bool, buffer: &[u8]) -> io::Result<()> {
    use rustix::fs::{AtFlags, Mode, OFlags};
    let flags = OFlags::CLOEXEC | OFlags::NOFOLLOW;
    let fd = if is_dir {
        rustix::fs::mkdirat(dir, name, Mode::from_raw_mode(0o755))?;
        let opened = rustix::fs::openat(
            dir,
            name,
            flags | OFlags::RDONLY | OFlags::DIRECTORY,
            Mode::empty(),
        );
        match opened {
            Ok(fd) if is_empty(&fd) => fd,
            // Not the directory knot made, or not empty any more: leave it.
            Ok(_) => return Err(replaced()),
            Err(err) => {
                // Only an empty directory can go this way.
                let _ = rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR);
                return Err(err.into());
            }
        }
    } else {
        // Made with `mknod` and held with `O_PATH`, never opened for I/O: a file FUSE
        // counts as open when its name is removed is not removed but hidden until the last
        // close (`Entry::remove_private`), and this link's name is removed or replaced
        // soon (a staged link), maybe while a child forked by another thread still holds a
        // copy of a descriptor. `mknod` fails rather than reuse a name; should another
        // program put a file of its own at this unpredictable name before it is opened,
        // that file is turned into the link only if it is empty, as checked below.
        let file = rustix::fs::FileType::RegularFile;
        rustix::fs::mknodat(dir, name, file, Mode::from_raw_mode(0o644), 0)?;
        match rustix::fs::openat(dir, name, flags | OFlags::PATH, Mode::empty()) {
            Ok(fd) => fd,
            Err(err) => {
                undo(dir, name, &super::proc_path(dir, name));
                return Err(err.into());
            }
        }
    };
    let ino = rustix::fs::fstat(&fd)?.st_ino;
    let path = super::proc_path(dir, name);
    // Another program may have written into the new entry, by its name, since it was
    // made: its data must not end up hidden behind a reparse point. This is checked just
    // before the attribute is set (once it is, the kernel marks the inode bad, and even
    // `fstat` of this descriptor fails), which leaves the instant between the two calls.
    let empty = if is_dir {
        is_empty(&fd)
    } else {
        rustix::fs::fstat(&fd).is_ok_and(|st| st.st_size == 0)
    };
    if !empty {
        drop(fd);
        return Err(replaced());
    }
    // Through the descriptor either way: a file held with `O_PATH` takes no attribute
    // call of its own, but `/proc/self/fd/N` leads to it, never to what has its name now.
    let set = if is_dir {
        rustix::fs::fsetxattr(&fd, REPARSE_DATA, buffer, XattrFlags::CREATE)
    } else {
        let fd = std::os::fd::AsFd::as_fd(&fd);
        rustix::fs::setxattr(own_path(fd), REPARSE_DATA, buffer, XattrFlags::CREATE)
    };
    drop(fd);
    let ours = || {
        let _ = settle(&path);
        rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW).is_ok_and(|st| st.st_ino == ino)
    };
    let result = set.map_err(io::Error::from).and_then(|()| {
        settle(&path)?;
        if !ours() {
            return Err(replaced());
        }
        if read_attribute(&path)?.as_deref() == Some(buffer) {
            Ok(())
        } else {
            Err(SysError::ReadBack { who: "ntfs-3g" }.into())
        }
    });
    if result.is_err() && ours() {
        undo(dir, name, &path);
    }
    result
}

/// Removes what [`make_at`] made at `name`, and nothing that could hold data: a link goes
/// the way `knot rm` removes one, an empty directory with `rmdir`, an empty file if it is
/// still empty.
fn undo(dir: BorrowedFd<'_>, name: &OsStr, path: &Path) {
    use rustix::fs::AtFlags;
    let Ok(st) = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) else {
        return;
    };
    let _ = match rustix::fs::FileType::from_raw_mode(st.st_mode) {
        rustix::fs::FileType::Symlink => super::Entry::new(dir, name, path).remove_link(),
        rustix::fs::FileType::Directory => {
            rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR).map_err(io::Error::from)
        }
        rustix::fs::FileType::RegularFile if st.st_size == 0 => {
            rustix::fs::unlinkat(dir, name, AtFlags::empty()).map_err(io::Error::from)
        }
        _ => Ok(()),
    };
}

fn replaced() -> io::Error {
    SysError::Replaced.into()
}

/// Whether the open directory `fd` has no entries but `.` and `..`.
fn is_empty(fd: &std::os::fd::OwnedFd) -> bool {
    // From the start, however often it is asked.
    if rustix::fs::seek(fd, rustix::fs::SeekFrom::Start(0)).is_err() {
        return false;
    }
    let mut buf = Vec::with_capacity(4096);
    let mut entries = rustix::fs::RawDir::new(fd, buf.spare_capacity_mut());
    while let Some(entry) = entries.next() {
        match entry {
            Ok(entry) if matches!(entry.file_name().to_bytes(), b"." | b"..") => {}
            _ => return false,
        }
    }
    true
}

/// Waits for the kernel to drop its cached inode type: the first `lstat` after the change
/// may fail with `EIO`, the next one sees the link.
fn settle(link: &Path) -> io::Result<()> {
    let mut last = None;
    for attempt in 0..6 {
        match fs::symlink_metadata(link) {
            Ok(meta) if meta.file_type().is_symlink() => return Ok(()),
            Ok(_) => last = None,
            Err(err) if err.raw_os_error() == Some(Errno::IO.raw_os_error()) => last = Some(err),
            Err(err) => return Err(err),
        }
        // The look-up right after the change is the one that fails; wait only if more do.
        if attempt > 0 {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "ntfs-3g did not turn the entry into a link",
        )
    }))
}

/// The raw reparse point of `path` itself (never followed); `None` when it has none or the
/// file system has no such attribute.
fn read_attribute(path: &Path) -> io::Result<Option<Vec<u8>>> {
    let mut buffer = vec![0u8; knot_reparse::MAX_BUFFER_SIZE];
    match rustix::fs::lgetxattr(path, REPARSE_DATA, &mut buffer) {
        Ok(len) => {
            buffer.truncate(len);
            Ok(Some(buffer))
        }
        Err(Errno::NODATA | Errno::NOTSUP) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// Whether the entry `path` itself carries FILE_ATTRIBUTE_DIRECTORY in its NTFS
/// attributes (`system.ntfs_attrib`, read without following a link; the kernel's ntfs3
/// driver has the attribute too). `false` off NTFS.
pub(crate) fn is_directory_entry(path: &Path) -> bool {
    directory_attribute(path) == Some(true)
}

/// [`is_directory_entry`] for the entry `name` in the open directory `dir`.
pub(crate) fn is_directory_entry_at(dir: BorrowedFd<'_>, name: &OsStr) -> bool {
    is_directory_entry(&super::proc_path(dir, name))
}

/// FILE_ATTRIBUTE_DIRECTORY of the entry `path` itself; `None` off NTFS.
fn directory_attribute(path: &Path) -> Option<bool> {
    let mut attrib = [0u8; 4];
    let len = rustix::fs::lgetxattr(path, ATTRIB, &mut attrib).ok()?;
    (len == 4).then(|| u32::from_le_bytes(attrib) & ATTRIBUTE_DIRECTORY != 0)
}

/// [`Directory::system_file_at`](super::super::Directory::system_file_at) on an ntfs-3g
/// volume: the entry `name` of `dir` opened for reading without following a link
/// (`O_NOFOLLOW`: ntfs-3g shows its links as symlinks; `O_NONBLOCK`: a FIFO is not waited
/// on), checked to be a regular file, and its NTFS attributes (`fgetxattr` of
/// `system.ntfs_attrib`) and first `limit` bytes read through that one descriptor.
pub(crate) fn system_file_at(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    limit: usize,
) -> io::Result<super::super::SystemFile> {
    use rustix::fs::{Mode, OFlags};
    use std::io::Read as _;
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, name, flags, Mode::empty())?;
    let st = rustix::fs::fstat(&fd)?;
    if !rustix::fs::FileType::from_raw_mode(st.st_mode).is_file() {
        return Err(SysError::NotARegularFile.into());
    }
    let mut attrib = [0u8; 4];
    let len = rustix::fs::fgetxattr(&fd, ATTRIB, &mut attrib)?;
    if len != 4 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "ntfs-3g gave NTFS attributes of another size than 4 bytes",
        ));
    }
    let attributes = u32::from_le_bytes(attrib);
    let mut bytes = Vec::new();
    if attributes & super::super::ATTRIBUTE_SYSTEM == 0 {
        return Ok(super::super::SystemFile {
            attributes,
            bytes,
            more: false,
        });
    }
    let wanted = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    fs::File::from(fd).take(wanted).read_to_end(&mut bytes)?;
    let more = bytes.len() > limit;
    bytes.truncate(limit);
    Ok(super::super::SystemFile {
        attributes,
        bytes,
        more,
    })
}

/// Reads a link on an ntfs-3g volume as Windows sees it: kind, names and target from its
/// reparse point; `text` (ntfs-3g's translation, which the kernel follows) becomes
/// `leads_to`. `None` for a link that has no reparse point (or not on such a volume).
pub(crate) fn read_link(path: &Path, text: &Path) -> io::Result<Option<Stored>> {
    if !on_volume(crate::path::parent_dir(path)) {
        return Ok(None);
    }
    stored(path, text)
}

/// Whether the directory `dir` is on an ntfs-3g volume: FUSE, with ntfs-3g's
/// `system.ntfs_attrib`. Only there does a reparse attribute that cannot be read mean an
/// error; on another FUSE file system (sshfs, say) a symlink is a plain symlink.
///
/// Asked afresh every time (a `statfs`, and an attribute only on FUSE), unlike the scan's
/// once-per-walk look at the mount table: a volume mounted while a program that uses
/// knot runs must be known for what it is before a link on it is removed or replaced.
fn on_volume(dir: &Path) -> bool {
    fs_type(dir) == Some(FUSE_SUPER_MAGIC)
        && rustix::fs::getxattr(dir, ATTRIB, &mut [0u8; 4]).is_ok()
}

/// Whether the open directory `dir` is on an ntfs-3g volume. The scanner asks once per
/// directory that holds links, and where the mount table had no FUSE file system when the
/// walk began, asks nothing; a directory held to change entries in (`held`)
/// is always asked itself.
pub(crate) fn is_volume_dir(
    dir: BorrowedFd<'_>,
    held: bool,
    fs_type: impl FnOnce() -> i64,
) -> bool {
    if !held && !fuse_mounted() {
        return false;
    }
    let fuse = fs_type() == FUSE_SUPER_MAGIC;
    // Through `/proc/self/fd/N`: a held directory may be an `O_PATH` descriptor, which
    // takes no attribute call of its own.
    fuse && rustix::fs::getxattr(own_path(dir), ATTRIB, &mut [0u8; 4]).is_ok()
}

/// [`read_link`] for the link `name` in the open directory `dir`, found without building
/// a path from the root: the attribute calls take a path, and `/proc/self/fd/N/name`
/// names the entry through the descriptor, however deep it is.
pub(crate) fn read_link_at(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    text: &Path,
) -> io::Result<Option<Stored>> {
    stored(&own_path(dir).join(name), text)
}

/// The reparse tag of the entry `name` in the open directory `dir` (a descriptor, which
/// may be `O_PATH`), when `dir` is on a FUSE file system and the entry has a reparse point:
/// that is how ntfs-3g shows a WOF-compressed or cloud file, as a symlink that is none.
/// `None` elsewhere, and for a symlink without one.
pub(crate) fn tag_at(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<Option<u32>> {
    // `/proc/self/fd/N/NAME`: its parent, `/proc/self/fd/N`, leads to the directory
    // whatever it was opened as.
    tag(&super::proc_path(dir, name))
}

/// The reparse tag of `path` itself, where it is a symlink on a FUSE file system (see
/// [`tag_at`]).
pub(crate) fn tag(path: &Path) -> io::Result<Option<u32>> {
    if !on_volume(crate::path::parent_dir(path)) {
        return Ok(None);
    }
    Ok(read_attribute(path)?
        .as_deref()
        .and_then(super::super::reparse::tag_of))
}

/// Makes the directory reparse point `from` in `from_dir` (a junction or a directory
/// symlink) again as the new entry `to` in `to_dir`: a new empty directory made for it
/// (which fails rather than overwrites), with the same buffer, read back. `false` when
/// `from` is no such thing: a file symlink on NTFS can have a second name instead (`link`,
/// which fails rather than overwrites too), and an NTFS directory never can. `--force`
/// replaces a link this way where the file system cannot swap two names.
pub(crate) fn copy_directory_link(
    from_dir: BorrowedFd<'_>,
    from: &OsStr,
    to_dir: BorrowedFd<'_>,
    to: &OsStr,
) -> io::Result<bool> {
    if tag_at(from_dir, from)?.is_none() {
        return Ok(false);
    }
    let source = super::proc_path(from_dir, from);
    let mut attrib = [0u8; 4];
    rustix::fs::lgetxattr(&source, ATTRIB, &mut attrib)?;
    if u32::from_le_bytes(attrib) & ATTRIBUTE_DIRECTORY == 0 {
        return Ok(false);
    }
    let Some(raw) = read_attribute(&source)? else {
        return Ok(false);
    };
    make_at(to_dir, to, true, &raw)?;
    Ok(true)
}

/// Makes `name` in `dir` a new empty directory holding the directory reparse point
/// `buffer` as it is, read back ([`make_at`]): a junction copied byte for byte, whether or
/// not its target is there.
pub(crate) fn make_reparse_dir_at(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    buffer: &[u8],
) -> io::Result<()> {
    make_at(dir, name, true, buffer)
}

#[allow(
    clippy::useless_conversion,
    reason = "f_type is i64 on x86_64 Linux but narrower on other targets"
)]
fn magic(f_type: impl Into<i64>) -> i64 {
    f_type.into()
}

/// The link at `path` as its reparse point describes it (`text`, ntfs-3g's translation,
/// is where the kernel follows it); `None` when it has none. An attribute that cannot be
/// read (EACCES, EIO) is an error, not a link without one.
///
/// Where ntfs-3g's view is not where Windows would go, the link is judged by its stored
/// target instead ([`judge`]): a target ntfs-3g could not translate (its placeholder text
/// is never taken for a path), and one on another Windows drive (`elsewhere`).
fn stored(path: &Path, text: &Path) -> io::Result<Option<Stored>> {
    let Some(raw) = read_attribute(path)? else {
        return Ok(None);
    };
    let view = (!is_untranslated(text)).then_some(text);
    let mut stored = super::super::reparse::record(raw, directory_attribute(path), view);
    let target = match (&stored.kind, &stored.reparse) {
        (Kind::Symlink | Kind::Junction | Kind::MountPoint, Some(reparse)) => {
            reparse.substitute_name.as_deref().and_then(OsStr::to_str)
        }
        _ => None,
    };
    let Some(target) = target.map(|name| windows_target(name, stored.relative)) else {
        return Ok(Some(stored));
    };
    let mapped = |dir: &Path| dir.symlink_metadata().is_ok();
    let root = || {
        let volume = Volume::of(crate::path::parent_dir(path)).ok()??;
        volume.root_mount().map(Path::to_path_buf)
    };
    if let Some((judge, leads_to)) = judge(&target, text, mapped, root) {
        stored.judge = judge;
        stored.leads_to = Some(leads_to);
    }
    Ok(Some(stored))
}

/// What ntfs-3g's `readlink` gives for a reparse point whose target it could not
/// translate (`ntfs_make_symlink` fails, and `src/ntfs-3g.c` answers this text and the
/// tag in hex): a relative target it did not find, `\x` it did not find, a network path.
/// A placeholder, never a path.
const UNTRANSLATED: &[u8] = b"unsupported reparse tag 0x";

fn is_untranslated(text: &Path) -> bool {
    text.as_os_str().as_bytes().starts_with(UNTRANSLATED)
}

/// A link's target as Windows follows it (its substitute name), in the parts knot judges
/// it by on the volume.
#[derive(Clone, Debug, PartialEq, Eq)]
enum WindowsTarget<'a> {
    /// Relative to the link's directory (SYMLINK_FLAG_RELATIVE): its names, `..` kept.
    Relative(Vec<&'a str>),
    /// From the root of the link's own volume (`\x`, with the relative flag).
    Rooted(Vec<&'a str>),
    /// On the drive `X:` (`\??\X:\x`): the letter, in upper case, and the names.
    Drive(char, Vec<&'a str>),
    /// The volume `Volume{GUID}` (`\??\Volume{GUID}\`), by that name.
    Volume(&'a str),
    /// Anything else: a network path (`\??\UNC\server\share`), a drive-relative `X:x`.
    Other,
}

/// The [`WindowsTarget`] of a substitute name; `relative` is SYMLINK_FLAG_RELATIVE.
fn windows_target(name: &str, relative: bool) -> WindowsTarget<'_> {
    fn names(rest: &str) -> Vec<&str> {
        // `/` is never part of an NTFS name.
        rest.split(['\\', '/']).filter(|n| !n.is_empty()).collect()
    }
    let nt = name
        .strip_prefix(r"\??\")
        .or_else(|| name.strip_prefix(r"\\?\"));
    let rest = nt.unwrap_or(name);
    match rest.as_bytes() {
        [letter, b':', b'\\' | b'/', ..] if letter.is_ascii_alphabetic() => {
            return WindowsTarget::Drive(
                char::from(letter.to_ascii_uppercase()),
                names(&rest[3..]),
            );
        }
        [letter, b':'] if letter.is_ascii_alphabetic() => {
            return WindowsTarget::Drive(char::from(letter.to_ascii_uppercase()), Vec::new());
        }
        [_, b':', ..] => return WindowsTarget::Other,
        _ => {}
    }
    if nt.is_some() {
        return match rest.split(['\\', '/']).next() {
            Some(volume) if volume.starts_with("Volume{") => WindowsTarget::Volume(volume),
            _ => WindowsTarget::Other,
        };
    }
    match (relative, rest.strip_prefix(['\\', '/'])) {
        (false, _) => WindowsTarget::Other,
        (true, Some(rooted)) => WindowsTarget::Rooted(names(rooted)),
        (true, None) => WindowsTarget::Relative(names(rest)),
    }
}

/// How a link on the volume is judged, where ntfs-3g's view of it (`view`, what its
/// `readlink` gives) is not where Windows would go: the [`Judge`] and the path to look at
/// (for [`Judge::Elsewhere`], the view, kept for a conversion to start from). `None`
/// where following the link is right: ntfs-3g translated the target onto the volume, or
/// into a mapping of another drive that exists.
///
/// ntfs-3g (`libntfs-3g/reparse.c`, `ntfs_get_fulllink`, `ntfs_get_abslink`) takes an
/// absolute target `X:\path` as `<mount>/.NTFS-3G/X:/path` when that mapping exists (a
/// symlink the user makes to where drive X is mounted), else as `<mount>/path` when it
/// finds that path on this volume, else as `<mount>/.NTFS-3G/X:/path` all the same. So:
/// - through a mapping that exists: followed, there;
/// - on the volume's own drive (`C:`, as `--drive` defaults to), not found: the path
///   under the volume's root, judged there (`mapped` says whether a mapping exists);
/// - on another drive with no mapping, or another volume or a network path: `elsewhere`,
///   even where ntfs-3g found a path of that name on this volume (it is another drive's);
/// - a target ntfs-3g could not translate at all (a placeholder, not a path): a relative
///   one from the link's directory, `\x` under the volume's root (`root`).
fn judge(
    target: &WindowsTarget<'_>,
    view: &Path,
    mapped: impl Fn(&Path) -> bool,
    root: impl FnOnce() -> Option<PathBuf>,
) -> Option<(Judge, PathBuf)> {
    let untranslated = is_untranslated(view);
    let elsewhere = || Some((Judge::Elsewhere, view.to_path_buf()));
    let under =
        |dir: PathBuf, names: &[&str]| -> PathBuf { names.iter().fold(dir, |d, n| d.join(n)) };
    match target {
        WindowsTarget::Relative(names) => {
            untranslated.then(|| (Judge::Path, under(PathBuf::new(), names)))
        }
        WindowsTarget::Rooted(names) if untranslated => match root() {
            Some(root) => Some((Judge::Path, under(root, names))),
            None => elsewhere(),
        },
        WindowsTarget::Rooted(_) => None,
        WindowsTarget::Drive(letter, names) => {
            let drive = format!("{letter}:");
            match mapping_in(view, &drive) {
                Some(mapping) if mapped(&mapping) => None,
                Some(_) | None if *letter != 'C' => elsewhere(),
                Some(mapping) => {
                    // `<mount>/.NTFS-3G/C:`: the volume's root is `<mount>`.
                    let mount = mapping.parent().and_then(Path::parent)?;
                    Some((Judge::Path, under(mount.to_path_buf(), names)))
                }
                None if untranslated => match root() {
                    Some(root) => Some((Judge::Path, under(root, names))),
                    None => elsewhere(),
                },
                None => None,
            }
        }
        WindowsTarget::Volume(volume) => match mapping_in(view, volume) {
            Some(mapping) if mapped(&mapping) => None,
            _ => elsewhere(),
        },
        WindowsTarget::Other => untranslated.then(|| (Judge::Elsewhere, view.to_path_buf())),
    }
}

/// `<mount>/.NTFS-3G/NAME`, where ntfs-3g's view of a link runs through its mapping
/// `NAME` (`X:` or `Volume{GUID}`) at the volume's root: the view's part up to it.
fn mapping_in(view: &Path, name: &str) -> Option<PathBuf> {
    let parts: Vec<Component<'_>> = view.components().collect();
    let at = parts
        .windows(2)
        .position(|pair| pair[0].as_os_str() == ".NTFS-3G" && pair[1].as_os_str() == name)?;
    Some(parts[..at + 2].iter().collect())
}

/// What the last look at the mount table found: [`UNSEEN`] before the first, then
/// whether a FUSE file system that could be ntfs-3g was mounted.
static FUSE: AtomicU8 = AtomicU8::new(UNSEEN);
const UNSEEN: u8 = 0;
const NONE: u8 = 1;
const SOME: u8 = 2;

/// Reads the mount table again for [`fuse_mounted`]. Every walk does as it starts (one
/// read of `/proc/self/mountinfo`), so a volume mounted while a program that uses knot
/// runs is seen by its next walk, and a walk of a machine without one asks nothing per
/// directory.
pub(crate) fn look_at_mounts() {
    FUSE.store(if fuse_in_table() { SOME } else { NONE }, Ordering::Relaxed);
}

/// Whether any FUSE file system that could be ntfs-3g was mounted at the last look.
fn fuse_mounted() -> bool {
    match FUSE.load(Ordering::Relaxed) {
        UNSEEN => {
            look_at_mounts();
            fuse_mounted()
        }
        seen => seen == SOME,
    }
}

/// Whether the mount table has a FUSE file system that could be ntfs-3g: ntfs-3g mounts as
/// type `fuseblk` (a device) or `fuse` (an image file), where other FUSE file systems name
/// themselves (`fuse.sshfs`).
fn fuse_in_table() -> bool {
    // Unreadable mountinfo: assume there may be one, and ask per directory.
    let Ok(table) = fs::read("/proc/self/mountinfo") else {
        return true;
    };
    table.split(|&b| b == b'\n').any(|line| {
        // The file system type follows the " - " separator.
        let fields = line.split(|&b| b == b' ');
        let mut after = fields.skip_while(|&f| f != b"-").skip(1);
        matches!(after.next(), Some(b"fuse" | b"fuseblk"))
    })
}

/// Every mount of the file system with device number `dev`, from /proc/self/mountinfo.
fn mounts_of(dev: u64) -> io::Result<Vec<Mount>> {
    let table = fs::read("/proc/self/mountinfo")?;
    let device = format!("{}:{}", rustix::fs::major(dev), rustix::fs::minor(dev));
    Ok(table
        .split(|&b| b == b'\n')
        .filter_map(|line| {
            // id, parent id, major:minor, root inside the file system, mount point, ...
            let mut fields = line.split(|&b| b == b' ').skip(2);
            let (numbers, root, point) = (fields.next()?, fields.next()?, fields.next()?);
            let path = |field: &[u8]| PathBuf::from(OsString::from_vec(unescape(field)));
            (numbers == device.as_bytes()).then(|| Mount {
                point: path(point),
                root: path(root),
            })
        })
        .collect())
}

/// Mount points in mountinfo escape space, tab, newline and backslash as `\ooo`.
fn unescape(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while let Some(&b) = field.get(i) {
        let octal = field
            .get(i + 1..i + 4)
            .filter(|d| b == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) => {
                out.push(
                    d.iter()
                        .fold(0u8, |n, c| n.wrapping_mul(8).wrapping_add(c - b'0')),
                );
                i += 4;
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_paths() {
        let t = Path::new("t");
        assert_eq!(join_windows(t, 'C', Path::new("a/b")).unwrap(), r"C:\a\b");
        assert_eq!(join_windows(t, 'D', Path::new("")).unwrap(), r"D:\");
        assert_eq!(drive_letter(b"d:"), Some('D'));
        assert_eq!(drive_letter(b"dd"), None);
        let absolute = |text| windows_absolute(text).unwrap();
        assert_eq!(absolute("D:/x/y").as_deref(), Some(r"D:\x\y"));
        assert_eq!(absolute(r"d:\x\.\y\..\z\\w").as_deref(), Some(r"d:\x\z\w"));
        assert_eq!(absolute("D:/").as_deref(), Some(r"D:\"));
        assert_eq!(absolute("../x"), None);
        assert_eq!(absolute("1:/x"), None);
    }

    /// Every name Windows would read as another path is refused, with the
    /// reason; the names it allows pass.
    #[test]
    fn names_windows_cannot_use_are_refused() {
        let t = Path::new("t");
        let refused = [
            ("a\\b", "separates names"),
            ("a:b", "data stream"),
            ("a*", "'*'"),
            ("a?", "'?'"),
            ("\"a\"", "'\"'"),
            ("a<b", "'<'"),
            ("a>b", "'>'"),
            ("a|b", "'|'"),
            ("a\u{1}b", "control characters"),
            ("a\tb", "control characters"),
            ("a.", "dots and spaces"),
            ("a ", "dots and spaces"),
            ("...", "dots and spaces"),
        ];
        for (name, why) in refused {
            let err = windows_name(t, name).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::Unsupported, "{name:?}");
            assert!(err.to_string().contains(why), "{name:?}: {err}");
            assert!(
                err.to_string().contains("the target 't'"),
                "{name:?}: {err}"
            );
        }
        for name in [
            ".",
            "..",
            ".a",
            "a.b",
            "a b",
            "Ünïcødé 目录",
            "a\u{7f}",
            "a+b,c;d=e",
        ] {
            windows_name(t, name).unwrap();
        }
        let err = join_windows(Path::new("/m/x:y"), 'C', Path::new("x:y")).unwrap_err();
        assert!(err.to_string().contains("data stream"), "{err}");
        assert!(windows_absolute(r"D:\a*b").is_err());
        assert!(windows_absolute(r"D:\a\b:c").is_err());
    }

    /// A path is placed inside the volume through whichever of its mounts
    /// holds it, a bind mount starting where mountinfo's root field says.
    #[test]
    fn paths_inside_the_volume_through_any_of_its_mounts() {
        let mount = |point: &str, root: &str| Mount {
            point: PathBuf::from(point),
            root: PathBuf::from(root),
        };
        let volume = Volume {
            mounts: vec![
                mount("/mnt", "/"),
                mount("/bind", "/Data"),
                mount("/mnt/Data/in", "/Users"),
            ],
            mount: PathBuf::from("/bind"),
            dev: 0,
        };
        let inside = |p: &str| volume.inside(Path::new(p));
        assert_eq!(inside("/mnt/Users").as_deref(), Some(Path::new("/Users")));
        assert_eq!(inside("/bind/T").as_deref(), Some(Path::new("/Data/T")));
        assert_eq!(inside("/bind").as_deref(), Some(Path::new("/Data")));
        assert_eq!(
            inside("/mnt/Data/in/x").as_deref(),
            Some(Path::new("/Users/x"))
        );
        assert_eq!(inside("/elsewhere"), None);
        assert_eq!(inside("/bindery"), None);
        assert_eq!(volume.root_mount(), Some(Path::new("/mnt")));
        assert!(
            volume
                .outside(Path::new("/x"))
                .to_string()
                .contains("'/mnt/.NTFS-3G/D:'")
        );
    }

    #[test]
    fn windows_targets_by_their_parts() {
        use WindowsTarget::*;
        assert_eq!(
            windows_target(r"..\Data\gone", true),
            Relative(vec!["..", "Data", "gone"])
        );
        assert_eq!(windows_target(r"\Data\x", true), Rooted(vec!["Data", "x"]));
        assert_eq!(
            windows_target(r"\??\d:\Media", false),
            Drive('D', vec!["Media"])
        );
        assert_eq!(windows_target(r"\??\C:\", false), Drive('C', vec![]));
        assert_eq!(
            windows_target(r"\\?\C:\a\b", false),
            Drive('C', vec!["a", "b"])
        );
        assert_eq!(windows_target(r"E:\x", true), Drive('E', vec!["x"]));
        assert_eq!(
            windows_target(r"\??\Volume{01234567-89ab}\", false),
            Volume("Volume{01234567-89ab}")
        );
        assert_eq!(windows_target(r"\??\UNC\server\share", false), Other);
        assert_eq!(windows_target(r"D:x", true), Other);
        assert_eq!(windows_target(r"x", false), Other);
    }

    /// ntfs-3g's view of a link, case by case, judged where Windows would go: its
    /// placeholder is never a path, and a link to another drive is `elsewhere`, not
    /// dangling.
    #[test]
    fn links_are_judged_where_windows_would_go() {
        let placeholder = Path::new("unsupported reparse tag 0xa000000c");
        let no_mapping = |_: &Path| false;
        let mapping = |dir: &Path| dir == Path::new("/mnt/.NTFS-3G/D:");
        let root = || Some(PathBuf::from("/mnt"));
        let no_root = || None;
        let judged = |target: &WindowsTarget<'_>, view: &str, mapped: &dyn Fn(&Path) -> bool| {
            judge(target, Path::new(view), mapped, root)
        };
        let path = |p: &str| Some((Judge::Path, PathBuf::from(p)));
        let elsewhere = |view: &str| Some((Judge::Elsewhere, PathBuf::from(view)));
        let relative = windows_target(r"..\Data\gone", true);
        // Translated: followed as ntfs-3g shows it.
        assert_eq!(judged(&relative, "../Data/gone", &no_mapping), None);
        // The placeholder is never a path: the stored target, from the link's directory.
        assert_eq!(
            judge(&relative, placeholder, no_mapping, no_root),
            path("../Data/gone")
        );
        // The volume's own drive: found, followed; not found, under the root.
        let c = windows_target(r"\??\C:\Data\gone", false);
        assert_eq!(judged(&c, "/mnt/Data/gone", &no_mapping), None);
        assert_eq!(
            judged(&c, "/mnt/.NTFS-3G/C:/Data/gone", &no_mapping),
            path("/mnt/Data/gone")
        );
        // Another drive: elsewhere, unless mapped; found on this volume or not.
        let d = windows_target(r"\??\D:\Media", false);
        assert_eq!(
            judged(&d, "/mnt/.NTFS-3G/D:/Media", &no_mapping),
            elsewhere("/mnt/.NTFS-3G/D:/Media")
        );
        assert_eq!(
            judged(&d, "/mnt/Media", &no_mapping),
            elsewhere("/mnt/Media")
        );
        assert_eq!(judged(&d, "/mnt/.NTFS-3G/D:/Media", &mapping), None);
        // `\x` not found: under the root, where the volume's root is mounted somewhere.
        let rooted = windows_target(r"\Data\x", true);
        assert_eq!(
            judged(&rooted, placeholder.to_str().unwrap(), &no_mapping),
            path("/mnt/Data/x")
        );
        assert_eq!(judged(&rooted, "/mnt/Data/x", &no_mapping), None);
        assert_eq!(
            judge(&rooted, placeholder, no_mapping, no_root),
            elsewhere(placeholder.to_str().unwrap())
        );
        // Another volume or a network share: elsewhere, unless the volume is mapped.
        let volume = windows_target(r"\??\Volume{1}\", false);
        assert_eq!(
            judged(&volume, "/mnt/.NTFS-3G/Volume{1}", &no_mapping),
            elsewhere("/mnt/.NTFS-3G/Volume{1}")
        );
        let mapped_volume = |dir: &Path| dir == Path::new("/mnt/.NTFS-3G/Volume{1}");
        assert_eq!(
            judged(&volume, "/mnt/.NTFS-3G/Volume{1}", &mapped_volume),
            None
        );
        let unc = windows_target(r"\??\UNC\srv\share", false);
        assert_eq!(
            judged(&unc, placeholder.to_str().unwrap(), &no_mapping),
            elsewhere(placeholder.to_str().unwrap())
        );
    }

    #[test]
    fn mountinfo_escapes() {
        assert_eq!(unescape(br"/mnt/with\040space\134x"), b"/mnt/with space\\x");
        assert_eq!(unescape(br"/plain"), b"/plain");
    }
}
