//! The record knot reports for every path: what `show`, `scan`, `rm --dry-run` print.

use std::borrow::Cow;
use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

/// What a path is, in knot's vocabulary (DESIGN.md section 1).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// A symbolic link (on Windows a file or directory symlink; see [`Link::dir`]).
    Symlink,
    /// An NTFS junction (a mount-point reparse point to a directory path).
    Junction,
    /// A junction to a volume (`\??\Volume{GUID}\`).
    MountPoint,
    /// A regular file with more than one name (see [`Link::nlink`]).
    Hardlink,
    /// A regular file with one name: not a link.
    File,
    /// A real directory: not a link.
    Dir,
    /// A FIFO, socket or device: not a link.
    Special,
    /// Any other reparse point, named by its tag (`lx-symlink`, `appexeclink`, `cloud`, ...).
    Reparse(Cow<'static, str>),
}

impl Kind {
    /// The word used in output and JSON.
    pub fn name(&self) -> &str {
        match self {
            Kind::Symlink => "symlink",
            Kind::Junction => "junction",
            Kind::MountPoint => "mount-point",
            Kind::Hardlink => "hardlink",
            Kind::File => "file",
            Kind::Dir => "dir",
            Kind::Special => "special",
            Kind::Reparse(name) => name,
        }
    }

    /// Whether this kind is a link (as opposed to a plain file, directory or special file).
    pub fn is_link(&self) -> bool {
        !matches!(self, Kind::File | Kind::Dir | Kind::Special)
    }

    /// The kinds of link a word names, as `knot scan --kind` takes it, or `None` when it
    /// names none:
    ///
    /// - a kind word, in any ASCII case and with `_` for `-`: `symlink`, `junction`,
    ///   `mount-point`, `hardlink`, `unknown` (a reparse point with an undocumented tag),
    ///   or a documented tag's kind word (`lx-symlink`, `LX_SYMLINK`, `appexeclink`,
    ///   `cloud-f`, ...; see [`knot_reparse::Tag::kind_name`]). The short SDK names are
    ///   these words too (`MOUNT_POINT` is `mount-point`);
    /// - a tag's full SDK name, in any case (`IO_REPARSE_TAG_SYMLINK`): every kind that a
    ///   reparse point with that tag is reported as, which for
    ///   `IO_REPARSE_TAG_MOUNT_POINT` is both `junction` and `mount-point`.
    ///
    /// Each kind is the one a scan or [`crate::inspect`] reports, so a filter made from
    /// any spelling matches what that spelling means (issue 10.6: `SYMLINK` once became a
    /// reparse kind that no link ever has).
    pub fn from_name(word: &str) -> Option<Vec<Kind>> {
        use knot_reparse::Tag;
        const SDK_PREFIX: &str = "io-reparse-tag-";
        let normal = word.to_ascii_lowercase().replace('_', "-");
        if normal.starts_with(SDK_PREFIX) && normal.len() > SDK_PREFIX.len() {
            let tag = Tag::documented().find(|tag| {
                tag.name()
                    .is_some_and(|sdk| sdk.eq_ignore_ascii_case(&word.replace('-', "_")))
            })?;
            return Some(if tag == Tag::MOUNT_POINT {
                vec![Kind::Junction, Kind::MountPoint]
            } else {
                vec![crate::sys::kind_of(tag.kind_name())]
            });
        }
        let kind = match normal.as_str() {
            "symlink" => Kind::Symlink,
            "junction" => Kind::Junction,
            "mount-point" => Kind::MountPoint,
            "hardlink" => Kind::Hardlink,
            "unknown" => Kind::Reparse(Cow::Borrowed("unknown")),
            _ => {
                let tag = Tag::documented().find(|tag| tag.kind_name() == normal)?;
                crate::sys::kind_of(tag.kind_name())
            }
        };
        Some(vec![kind])
    }

    /// The same kind in its canonical form: a [`Kind::Reparse`] whose name is a kind word
    /// (`Reparse("symlink")`, or `Reparse("SYMLINK")`) becomes that kind, as a filter must
    /// see it. A name that is no kind word stays as it is.
    pub(crate) fn normalised(self) -> Vec<Kind> {
        match &self {
            Kind::Reparse(name) => Kind::from_name(name).unwrap_or_else(|| vec![self]),
            _ => vec![self],
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether a link leads somewhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// The target exists.
    Ok,
    /// The target is missing.
    Dangling,
    /// Resolution cycles.
    Loop,
    /// The chain of links is longer than the system follows in one path (40 on Linux): each
    /// link leads on and the chain ends at something real, but the path cannot be opened.
    TooLong,
    /// Permission or I/O error while resolving.
    Unreadable,
}

impl Status {
    /// The word used in output and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Dangling => "dangling",
            Status::Loop => "loop",
            Status::TooLong => "too-long",
            Status::Unreadable => "unreadable",
        }
    }

    /// Whether the link is broken (`dangling`, `loop` or `too-long`: the system cannot
    /// open the path), as `scan --broken` means it.
    pub fn is_broken(self) -> bool {
        matches!(self, Status::Dangling | Status::Loop | Status::TooLong)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a special file is: it is neither a regular file nor a directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Special {
    /// A character device (`/dev/null`, a terminal).
    CharDevice,
    /// A block device (a disk).
    BlockDevice,
    /// A named pipe.
    Fifo,
    /// A Unix-domain socket.
    Socket,
}

impl Special {
    /// `"character device"`, `"block device"`, `"FIFO"` or `"socket"`.
    pub fn name(self) -> &'static str {
        match self {
            Special::CharDevice => "character device",
            Special::BlockDevice => "block device",
            Special::Fifo => "FIFO",
            Special::Socket => "socket",
        }
    }
}

/// A Windows symlink is either a file symlink or a directory symlink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// A file symlink (`mklink`).
    File,
    /// A directory symlink (`mklink /D`).
    Dir,
}

impl Flavour {
    /// `"file"` or `"dir"`.
    pub fn name(self) -> &'static str {
        match self {
            Flavour::File => "file",
            Flavour::Dir => "dir",
        }
    }
}

/// Everything knot knows about one path. Fields that do not apply are `None`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Link {
    /// The path, as given or as found by a scan.
    pub path: PathBuf,
    /// What it is.
    pub kind: Kind,
    /// Whether it is (or, for a link, leads to) a directory. For a Windows symlink: its
    /// flavour. `None` for a dangling Unix symlink.
    pub dir: Option<bool>,
    /// The target exactly as stored in the link.
    pub target: Option<PathBuf>,
    /// Whether the stored target is relative (resolved against the link's parent).
    pub relative: Option<bool>,
    /// The absolute path the target leads to: the canonical path when it exists, else the
    /// target joined to the link's parent, its existing part resolved as the kernel would
    /// (`sym/../x` is `x` beside where `sym` leads).
    pub resolved: Option<PathBuf>,
    /// Whether the target can be reached.
    pub status: Option<Status>,
    /// The reparse tag, for reparse points.
    pub tag: Option<u32>,
    /// The reparse point's substitute name (the path Windows follows).
    pub substitute_name: Option<OsString>,
    /// The reparse point's print name (the path Windows shows).
    pub print_name: Option<OsString>,
    /// The number of names the file has (hard links), where it was read.
    pub nlink: Option<u64>,
    /// For a special file, or a link that leads to one: what it is (a device, a FIFO, a
    /// socket). `None` otherwise, and where it was not read (a scan).
    pub special: Option<Special>,
    /// The raw REPARSE_DATA_BUFFER, for reparse points (`knot show --raw`).
    pub reparse_data: Option<Vec<u8>>,
}

impl Link {
    /// A record with only the path and kind filled in.
    pub fn new(path: PathBuf, kind: Kind) -> Link {
        Link {
            path,
            kind,
            dir: None,
            target: None,
            relative: None,
            resolved: None,
            status: None,
            tag: None,
            substitute_name: None,
            print_name: None,
            nlink: None,
            special: None,
            reparse_data: None,
        }
    }
}
