//! The record knot reports for every path: what `show`, `scan`, `rm --dry-run` print.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use knot_reparse::Tag;

/// What a path is, in knot's vocabulary (DESIGN.md section 1).
///
/// Kinds compare (and hash) by what they are: a kind is one value, since a reparse tag
/// that has a kind of its own is that kind ([`Kind::of_tag`]: `SYMLINK` is
/// [`Kind::Symlink`]), and only knot builds a [`ReparseTag`]. Two reparse points with two
/// undocumented tags are two kinds with one word, `unknown` ([`Kind::name`]); a scan's
/// filter of kinds goes by the word ([`scan::ScanBuilder::kinds`](crate::scan::ScanBuilder::kinds)).
///
/// ```
/// use knot::{Kind, Tag};
///
/// let kind: Kind = "LX_SYMLINK".parse().unwrap();
/// assert_eq!(kind, Kind::of_tag(Tag::LX_SYMLINK));
/// assert_eq!(kind.name(), "lx-symlink");
/// assert_eq!(Kind::of_tag(Tag::SYMLINK), Kind::Symlink);
/// assert_eq!("symlink".parse::<Kind>().unwrap(), Kind::Symlink);
/// assert!("bogus".parse::<Kind>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    /// Any other reparse point, with its tag; its word is the tag's kind word
    /// (`lx-symlink`, `appexeclink`, `cloud`, ..., `unknown` for an undocumented tag; see
    /// [`Tag::kind_name`]).
    Reparse(ReparseTag),
}

/// The tag of a reparse point that has no kind of its own in knot's vocabulary: any tag
/// but `SYMLINK` and `MOUNT_POINT`, whose reparse points are symlinks, junctions and mount
/// points. Only knot builds one ([`Kind::of_tag`]), so a [`Kind`] is always canonical.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReparseTag(pub(crate) Tag);

impl ReparseTag {
    /// The tag.
    pub fn tag(self) -> Tag {
        self.0
    }
}

/// The tag of the kind `unknown` as a word names it (`"unknown".parse::<Kind>()`): no documented
/// tag has this value, so it stands for every undocumented one.
const UNKNOWN: Tag = Tag(0xFFFF_FFFF);

impl Kind {
    /// The kind `unknown`: a reparse point whose tag is not documented.
    pub(crate) const UNKNOWN: Kind = Kind::Reparse(ReparseTag(UNKNOWN));

    /// The kind of a reparse point with `tag`, as far as the tag says: [`Kind::Symlink`]
    /// for `SYMLINK`, [`Kind::Junction`] for `MOUNT_POINT` (whose buffer alone tells a
    /// junction from a [`Kind::MountPoint`]), else [`Kind::Reparse`].
    pub fn of_tag(tag: Tag) -> Kind {
        match tag {
            Tag::SYMLINK => Kind::Symlink,
            Tag::MOUNT_POINT => Kind::Junction,
            _ => Kind::Reparse(ReparseTag(tag)),
        }
    }

    /// The word used in output and JSON.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Symlink => "symlink",
            Kind::Junction => "junction",
            Kind::MountPoint => "mount-point",
            Kind::Hardlink => "hardlink",
            Kind::File => "file",
            Kind::Dir => "dir",
            Kind::Special => "special",
            Kind::Reparse(tag) => tag.0.kind_name(),
        }
    }

    /// Whether this kind is a link (as opposed to a plain file, directory or special file).
    pub fn is_link(&self) -> bool {
        !matches!(self, Kind::File | Kind::Dir | Kind::Special)
    }

    /// The kinds of link a word names, as `knot scan --kind` takes it, or `None` when it
    /// names none: the word parsed as a [`Kind`] (see its [`FromStr`] implementation), and a tag's full SDK
    /// name expanded to every kind a reparse point with that tag is reported as, which for
    /// `IO_REPARSE_TAG_MOUNT_POINT` is both `junction` and `mount-point`.
    ///
    /// Each kind is the one a scan or [`crate::inspect`] reports, so a filter made from
    /// any spelling matches what that spelling means (`SYMLINK`, the tag's name, is the kind
    /// `symlink`, never a reparse kind that no link has).
    pub fn from_name(word: &str) -> Option<Vec<Kind>> {
        let kind = word.parse::<Kind>().ok()?;
        let sdk_mount_point = Tag::MOUNT_POINT
            .name()
            .is_some_and(|sdk| sdk.eq_ignore_ascii_case(&word.replace('-', "_")));
        Some(if sdk_mount_point {
            vec![Kind::Junction, Kind::MountPoint]
        } else {
            vec![kind]
        })
    }
}

/// knot's kind for a reparse point with `tag`, from the codec's kind word for it (which
/// tells a junction from a mount point: [`knot_reparse::ReparsePoint::kind`]).
pub(crate) fn kind_of(tag: Tag, word: &str) -> Kind {
    match word {
        "symlink" => Kind::Symlink,
        "junction" => Kind::Junction,
        "mount-point" => Kind::MountPoint,
        _ => Kind::Reparse(ReparseTag(tag)),
    }
}

/// A word that names no kind of link, from parsing a [`Kind`] ([`str::parse`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseKindError {
    word: String,
}

impl ParseKindError {
    /// The word as given.
    pub fn word(&self) -> &str {
        &self.word
    }
}

impl fmt::Display for ParseKindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown kind {:?}: expected symlink, junction, mount-point, hardlink, unknown, \
             or a reparse tag's kind word or SDK name (IO_REPARSE_TAG_...)",
            self.word
        )
    }
}

impl std::error::Error for ParseKindError {}

/// Reads a kind of link from a word, as `knot scan --kind` takes it:
///
/// - a kind word, in any ASCII case and with `_` for `-`: `symlink`, `junction`,
///   `mount-point`, `hardlink`, `unknown` (a reparse point with an undocumented tag), or a
///   documented tag's kind word (`lx-symlink`, `LX_SYMLINK`, `appexeclink`, `cloud-f`,
///   ...; see [`Tag::kind_name`]). The short SDK names are these words too (`MOUNT_POINT`
///   is `mount-point`);
/// - a tag's full SDK name, in any case (`IO_REPARSE_TAG_SYMLINK`): the kind of that tag
///   ([`Kind::of_tag`]); `IO_REPARSE_TAG_MOUNT_POINT` is a junction here, and both
///   `junction` and `mount-point` to [`Kind::from_name`].
///
/// # Errors
/// Any other word, `dir` and `file` included (they are no links), is a
/// [`ParseKindError`].
impl FromStr for Kind {
    type Err = ParseKindError;

    fn from_str(word: &str) -> Result<Kind, ParseKindError> {
        const SDK_PREFIX: &str = "io-reparse-tag-";
        let err = || ParseKindError {
            word: word.to_owned(),
        };
        let normal = word.to_ascii_lowercase().replace('_', "-");
        if normal.starts_with(SDK_PREFIX) && normal.len() > SDK_PREFIX.len() {
            return Tag::documented()
                .find(|tag| {
                    tag.name()
                        .is_some_and(|sdk| sdk.eq_ignore_ascii_case(&word.replace('-', "_")))
                })
                .map(Kind::of_tag)
                .ok_or_else(err);
        }
        Ok(match normal.as_str() {
            "symlink" => Kind::Symlink,
            "junction" => Kind::Junction,
            "mount-point" => Kind::MountPoint,
            "hardlink" => Kind::Hardlink,
            "unknown" => Kind::UNKNOWN,
            _ => {
                let tag = Tag::documented()
                    .find(|tag| tag.kind_name() == normal)
                    .ok_or_else(err)?;
                kind_of(tag, tag.kind_name())
            }
        })
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What stands at a path where knot wanted a link: the payload of
/// [`ErrorKind::NotALink`](crate::ErrorKind::NotALink) and
/// [`ErrorKind::WouldReplaceReal`](crate::ErrorKind::WouldReplaceReal).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Found {
    /// A regular file (with one name or several: a hard link is a file too).
    File,
    /// A real directory.
    Dir,
    /// A FIFO, socket or device file; what it is, where that was read.
    Special(Option<Special>),
    /// A file or directory whose data lives behind a reparse point that is no link (a
    /// WOF-compressed, deduplicated or cloud file), which Windows and ntfs-3g list among
    /// links.
    ReparseFile,
}

impl Found {
    /// `"regular file"`, `"directory"`, `"file with a reparse point"`, `"special file"`,
    /// or what the special file is (`"FIFO"`, `"socket"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Found::File => "regular file",
            Found::Dir => "directory",
            Found::Special(None) => "special file",
            Found::Special(Some(special)) => special.name(),
            Found::ReparseFile => "file with a reparse point",
        }
    }
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether a link leads somewhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
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
    /// On an NTFS volume read from Linux (ntfs-3g): the target is on another Windows drive
    /// than the volume's own (`C:`), which ntfs-3g does not map (no `.NTFS-3G/X:` at the
    /// volume's root), or on another volume or a network share: it cannot be followed or
    /// judged from here, and may well work on Windows. Not broken, and never followed.
    Elsewhere,
}

impl Status {
    /// Every status, in the order of the declaration (the order `scan`'s summary lists
    /// them in).
    pub const ALL: &'static [Status] = &[
        Status::Ok,
        Status::Dangling,
        Status::Loop,
        Status::TooLong,
        Status::Unreadable,
        Status::Elsewhere,
    ];

    /// The word used in output and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Dangling => "dangling",
            Status::Loop => "loop",
            Status::TooLong => "too-long",
            Status::Unreadable => "unreadable",
            Status::Elsewhere => "elsewhere",
        }
    }

    /// Whether the link is broken (`dangling`, `loop` or `too-long`: the system cannot
    /// open the path), as [`ScanBuilder::broken`](crate::scan::ScanBuilder::broken) (the
    /// CLI's `scan --broken`, and so `fix --broken --delete`) means it. A link that leads
    /// `elsewhere` is not: it was not judged, only not followed.
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    /// [`Flavour::Dir`] for a directory, else [`Flavour::File`].
    pub fn of(is_dir: bool) -> Flavour {
        if is_dir { Flavour::Dir } else { Flavour::File }
    }

    /// Whether it is [`Flavour::Dir`].
    pub fn is_dir(self) -> bool {
        self == Flavour::Dir
    }

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
    /// Whether it is (or, for a link, leads to) a directory ([`Flavour::Dir`]) or not. For
    /// a Windows symlink or junction: its own flavour. `None` for a dangling Unix symlink.
    pub dir: Option<Flavour>,
    /// The target exactly as stored in the link.
    pub target: Option<PathBuf>,
    /// Whether the stored target is relative (resolved against the link's parent).
    pub relative: Option<bool>,
    /// The absolute path the target leads to: the canonical path when it exists, else the
    /// target joined to the link's parent, its existing part resolved as the kernel would
    /// (`sym/../x` is `x` beside where `sym` leads).
    pub resolved: Option<PathBuf>,
    /// With an image root ([`ImageRoot`](crate::ImageRoot)), where `resolved` (then a path
    /// inside the image) is on the host; `None` otherwise.
    pub resolved_host: Option<PathBuf>,
    /// Whether the target can be reached.
    pub status: Option<Status>,
    /// The reparse tag, for reparse points.
    pub tag: Option<Tag>,
    /// The reparse point's substitute name (the path Windows follows).
    pub substitute_name: Option<OsString>,
    /// The reparse point's print name (the path Windows shows).
    pub print_name: Option<OsString>,
    /// The number of names the file has (hard links), where it was read.
    pub nlink: Option<u64>,
    /// For a special file, or a link that leads to one: what it is (a device, a FIFO, a
    /// socket). `None` otherwise, and where it was not read (a scan).
    pub special: Option<Special>,
    /// The raw REPARSE_DATA_BUFFER, for reparse points (what the CLI's `knot show --raw`
    /// decodes).
    pub reparse_data: Option<Vec<u8>>,
    /// Where [`inspect`](crate::inspect) was given a path that ends in a slash (or `/.`)
    /// right after a link (`l/`), that link: the system follows a link before a trailing
    /// slash, so this record is of what `l` points at, not of `l`. `None` otherwise, and
    /// always on Windows, where `l\` is the link itself. Not part of the JSON record.
    pub through: Option<PathBuf>,
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
            resolved_host: None,
            status: None,
            tag: None,
            substitute_name: None,
            print_name: None,
            nlink: None,
            special: None,
            reparse_data: None,
            through: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn reparse(tag: Tag) -> Kind {
        Kind::Reparse(ReparseTag(tag))
    }

    #[test]
    fn words_parse_to_kinds() {
        for (word, kind) in [
            ("symlink", Kind::Symlink),
            ("JUNCTION", Kind::Junction),
            ("mount_point", Kind::MountPoint),
            ("MOUNT_POINT", Kind::MountPoint),
            ("Hardlink", Kind::Hardlink),
            ("lx_symlink", reparse(Tag::LX_SYMLINK)),
            ("cloud-f", reparse(Tag::CLOUD_F)),
            ("IO_REPARSE_TAG_WOF", reparse(Tag::WOF)),
            ("IO_REPARSE_TAG_SYMLINK", Kind::Symlink),
            ("io-reparse-tag-mount-point", Kind::Junction),
        ] {
            let parsed: Kind = word.parse().unwrap();
            // A reparse kind keeps its tag, and `==` looks at it.
            assert_eq!(parsed, kind, "{word}");
        }
        for word in [
            "",
            "dir",
            "file",
            "special",
            "bogus",
            "IO_REPARSE_TAG_",
            "links",
        ] {
            let err = word.parse::<Kind>().unwrap_err();
            assert_eq!(err.word(), word);
        }
    }

    /// `unknown` is the word of every undocumented tag, and of no documented one; each
    /// undocumented tag is a kind of its own, with that word.
    #[test]
    fn unknown_is_every_undocumented_tag() {
        assert!(Tag::documented().all(|tag| tag != UNKNOWN));
        let unknown: Kind = "unknown".parse().unwrap();
        assert_eq!(unknown.name(), "unknown");
        assert_eq!(reparse(Tag(0x8000_7777)).name(), "unknown");
        assert_ne!(unknown, reparse(Tag(0x8000_7777)));
        assert_ne!(reparse(Tag::WOF).name(), "unknown");
        let set: HashSet<Kind> = [reparse(Tag(0x8000_7777)), reparse(Tag(0x1234))]
            .into_iter()
            .collect();
        assert_eq!(set.len(), 2, "two tags, two kinds");
    }

    /// A kind is one value: a tag that has a kind of its own is that kind, so a link's kind
    /// compares equal only to itself; a mislabelled kind is caught by `==`.
    #[test]
    fn kinds_are_canonical() {
        assert_eq!(Kind::of_tag(Tag::SYMLINK), Kind::Symlink);
        assert_eq!(Kind::of_tag(Tag::MOUNT_POINT), Kind::Junction);
        assert_eq!(Kind::of_tag(Tag::LX_SYMLINK), reparse(Tag::LX_SYMLINK));
        assert_ne!(Kind::of_tag(Tag::LX_SYMLINK), Kind::Symlink);
        assert_ne!(reparse(Tag::APPEXECLINK), reparse(Tag::WOF));
        assert_eq!(
            Kind::from_name("IO_REPARSE_TAG_MOUNT_POINT"),
            Some(vec![Kind::Junction, Kind::MountPoint])
        );
        assert_eq!(
            Kind::from_name("IO_REPARSE_TAG_SYMLINK"),
            Some(vec![Kind::Symlink])
        );
        assert_eq!(
            Kind::from_name("appexeclink"),
            Some(vec![reparse(Tag::APPEXECLINK)])
        );
    }

    #[test]
    fn kind_of_a_reparse_point() {
        assert_eq!(kind_of(Tag::MOUNT_POINT, "junction"), Kind::Junction);
        assert_eq!(kind_of(Tag::MOUNT_POINT, "mount-point"), Kind::MountPoint);
        assert_eq!(kind_of(Tag::SYMLINK, "symlink"), Kind::Symlink);
        assert_eq!(kind_of(Tag::WOF, "wof"), reparse(Tag::WOF));
        // The tag is kept, even where the kind is `unknown`.
        assert_eq!(
            kind_of(Tag(0x8000_7777), "unknown"),
            reparse(Tag(0x8000_7777))
        );
    }

    #[test]
    fn what_was_found_is_named() {
        assert_eq!(Found::File.name(), "regular file");
        assert_eq!(Found::Dir.to_string(), "directory");
        assert_eq!(Found::Special(None).name(), "special file");
        assert_eq!(Found::Special(Some(Special::Fifo)).name(), "FIFO");
        assert_eq!(Found::ReparseFile.name(), "file with a reparse point");
    }

    /// `Status::ALL` holds every status once, in the order of the declaration: the match
    /// below stops compiling when a status is added, and the count then checks the list.
    #[test]
    fn all_statuses_are_listed_in_order() {
        let position = |status: Status| match status {
            Status::Ok => 0,
            Status::Dangling => 1,
            Status::Loop => 2,
            Status::TooLong => 3,
            Status::Unreadable => 4,
            Status::Elsewhere => 5,
        };
        for (i, &status) in Status::ALL.iter().enumerate() {
            assert_eq!(position(status), i, "{status}");
        }
        assert_eq!(Status::ALL.len(), position(Status::Elsewhere) + 1);
    }
}
