//! Reparse tags: the 32-bit owner identifier at the start of every reparse buffer.
//!
//! Bit layout (MS-FSCC 2.1.2.1): bit 31 **M** (Microsoft-owned), bit 30 **R** (reserved,
//! formerly "high latency"), bit 29 **N** (name surrogate: the file stands for another
//! named entity), bit 28 **D** (a directory with this tag may have children), bits 16-27
//! reserved, bits 0-15 the tag value.

use core::fmt;

/// A reparse tag (`ReparseTag`, MS-FSCC 2.1.2.1).
///
/// Any `u32` is a `Tag`; [`Tag::name`] tells whether it is one Microsoft documents.
///
/// # Names
///
/// Two names exist for every documented tag:
///
/// - [`Tag::name`] is the constant's name in the Windows SDK (`ntifs.h`, `winnt.h`) and
///   MS-FSCC, for example `IO_REPARSE_TAG_MOUNT_POINT`. It is exact and searchable, so
///   knot's JSON field `tag_name` uses it.
/// - [`Tag::kind_name`] is the knot *kind* word: the SDK name without `IO_REPARSE_TAG_`,
///   lower-cased, `_` replaced by `-` (`lx-symlink`, `cloud-1`, `wci-tombstone`), with
///   one exception: `IO_REPARSE_TAG_MOUNT_POINT` is `junction`, because that is what
///   almost every mount point is. [`crate::ReparsePoint::kind`] looks at the buffer and
///   says `mount-point` for the ones that lead to a volume.
///
/// Undocumented tags have no name and the kind `unknown`; show them by their hex value
/// (the `Display` form does).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(pub u32);

macro_rules! documented_tags {
    ($( $(#[$doc:meta])* $konst:ident = $value:literal, $sdk:literal, $kind:literal; )*) => {
        impl Tag {
            $( $(#[$doc])* pub const $konst: Tag = Tag($value); )*
        }

        /// Every documented tag with its SDK name and kind word, in MS-FSCC order.
        const TABLE: &[(Tag, &str, &str)] = &[ $( (Tag::$konst, $sdk, $kind), )* ];
    };
}

// Values: MS-FSCC 2.1.2.1, the Win32 "Reparse Point Tags" page, ntifs.h (via windows-sys
// for DATALESS_CIM and STORAGE_SYNC_FOLDER), ntfs-3g `layout.h`.
documented_tags! {
    /// `IO_REPARSE_TAG_RESERVED_ZERO`: reserved; never valid in a buffer (MS-FSCC 2.3.82).
    RESERVED_ZERO = 0x0000_0000, "IO_REPARSE_TAG_RESERVED_ZERO", "reserved-zero";
    /// `IO_REPARSE_TAG_RESERVED_ONE`: reserved; never valid in a buffer (MS-FSCC 2.3.82).
    RESERVED_ONE = 0x0000_0001, "IO_REPARSE_TAG_RESERVED_ONE", "reserved-one";
    /// `IO_REPARSE_TAG_RESERVED_TWO`: reserved.
    RESERVED_TWO = 0x0000_0002, "IO_REPARSE_TAG_RESERVED_TWO", "reserved-two";
    /// `IO_REPARSE_TAG_MOUNT_POINT`: junctions and volume mount points (MS-FSCC 2.1.2.5).
    MOUNT_POINT = 0xA000_0003, "IO_REPARSE_TAG_MOUNT_POINT", "junction";
    /// `IO_REPARSE_TAG_HSM`: legacy Hierarchical Storage Manager (obsolete).
    HSM = 0xC000_0004, "IO_REPARSE_TAG_HSM", "hsm";
    /// `IO_REPARSE_TAG_DRIVE_EXTENDER`: Windows Home Server drive extender.
    DRIVE_EXTENDER = 0x8000_0005, "IO_REPARSE_TAG_DRIVE_EXTENDER", "drive-extender";
    /// `IO_REPARSE_TAG_HSM2`: legacy Hierarchical Storage Manager (obsolete).
    HSM2 = 0x8000_0006, "IO_REPARSE_TAG_HSM2", "hsm2";
    /// `IO_REPARSE_TAG_SIS`: single-instance storage.
    SIS = 0x8000_0007, "IO_REPARSE_TAG_SIS", "sis";
    /// `IO_REPARSE_TAG_WIM`: a file served from a mounted WIM image.
    WIM = 0x8000_0008, "IO_REPARSE_TAG_WIM", "wim";
    /// `IO_REPARSE_TAG_CSV`: Cluster Shared Volumes.
    CSV = 0x8000_0009, "IO_REPARSE_TAG_CSV", "csv";
    /// `IO_REPARSE_TAG_DFS`: Distributed File System.
    DFS = 0x8000_000A, "IO_REPARSE_TAG_DFS", "dfs";
    /// `IO_REPARSE_TAG_FILTER_MANAGER`: filter manager test harness.
    FILTER_MANAGER = 0x8000_000B, "IO_REPARSE_TAG_FILTER_MANAGER", "filter-manager";
    /// `IO_REPARSE_TAG_SYMLINK`: symbolic links (MS-FSCC 2.1.2.4).
    SYMLINK = 0xA000_000C, "IO_REPARSE_TAG_SYMLINK", "symlink";
    /// `IO_REPARSE_TAG_IIS_CACHE`: IIS cache.
    IIS_CACHE = 0xA000_0010, "IO_REPARSE_TAG_IIS_CACHE", "iis-cache";
    /// `IO_REPARSE_TAG_DFSR`: DFS Replication.
    DFSR = 0x8000_0012, "IO_REPARSE_TAG_DFSR", "dfsr";
    /// `IO_REPARSE_TAG_DEDUP`: Data Deduplication.
    DEDUP = 0x8000_0013, "IO_REPARSE_TAG_DEDUP", "dedup";
    /// `IO_REPARSE_TAG_NFS`: NFS symbolic links and special files.
    NFS = 0x8000_0014, "IO_REPARSE_TAG_NFS", "nfs";
    /// `IO_REPARSE_TAG_APPXSTRM`: AppX streams.
    APPXSTRM = 0xC000_0014, "IO_REPARSE_TAG_APPXSTRM", "appxstrm";
    /// `IO_REPARSE_TAG_FILE_PLACEHOLDER`: Windows 8.1 placeholder files (OneDrive).
    FILE_PLACEHOLDER = 0x8000_0015, "IO_REPARSE_TAG_FILE_PLACEHOLDER", "file-placeholder";
    /// `IO_REPARSE_TAG_DFM`: Dynamic File filter.
    DFM = 0x8000_0016, "IO_REPARSE_TAG_DFM", "dfm";
    /// `IO_REPARSE_TAG_WOF`: Windows Overlay Filter (compact.exe, WIMBoot).
    WOF = 0x8000_0017, "IO_REPARSE_TAG_WOF", "wof";
    /// `IO_REPARSE_TAG_WCI`: Windows Container Isolation.
    WCI = 0x8000_0018, "IO_REPARSE_TAG_WCI", "wci";
    /// `IO_REPARSE_TAG_WCI_1`: Windows Container Isolation, directory form.
    WCI_1 = 0x9000_1018, "IO_REPARSE_TAG_WCI_1", "wci-1";
    /// `IO_REPARSE_TAG_GLOBAL_REPARSE`: NPFS server silo named-pipe links.
    GLOBAL_REPARSE = 0xA000_0019, "IO_REPARSE_TAG_GLOBAL_REPARSE", "global-reparse";
    /// `IO_REPARSE_TAG_CLOUD`: cloud files (OneDrive and other sync engines).
    CLOUD = 0x9000_001A, "IO_REPARSE_TAG_CLOUD", "cloud";
    /// `IO_REPARSE_TAG_CLOUD_1`: cloud files.
    CLOUD_1 = 0x9000_101A, "IO_REPARSE_TAG_CLOUD_1", "cloud-1";
    /// `IO_REPARSE_TAG_CLOUD_2`: cloud files.
    CLOUD_2 = 0x9000_201A, "IO_REPARSE_TAG_CLOUD_2", "cloud-2";
    /// `IO_REPARSE_TAG_CLOUD_3`: cloud files.
    CLOUD_3 = 0x9000_301A, "IO_REPARSE_TAG_CLOUD_3", "cloud-3";
    /// `IO_REPARSE_TAG_CLOUD_4`: cloud files.
    CLOUD_4 = 0x9000_401A, "IO_REPARSE_TAG_CLOUD_4", "cloud-4";
    /// `IO_REPARSE_TAG_CLOUD_5`: cloud files.
    CLOUD_5 = 0x9000_501A, "IO_REPARSE_TAG_CLOUD_5", "cloud-5";
    /// `IO_REPARSE_TAG_CLOUD_6`: cloud files.
    CLOUD_6 = 0x9000_601A, "IO_REPARSE_TAG_CLOUD_6", "cloud-6";
    /// `IO_REPARSE_TAG_CLOUD_7`: cloud files.
    CLOUD_7 = 0x9000_701A, "IO_REPARSE_TAG_CLOUD_7", "cloud-7";
    /// `IO_REPARSE_TAG_CLOUD_8`: cloud files.
    CLOUD_8 = 0x9000_801A, "IO_REPARSE_TAG_CLOUD_8", "cloud-8";
    /// `IO_REPARSE_TAG_CLOUD_9`: cloud files.
    CLOUD_9 = 0x9000_901A, "IO_REPARSE_TAG_CLOUD_9", "cloud-9";
    /// `IO_REPARSE_TAG_CLOUD_A`: cloud files.
    CLOUD_A = 0x9000_A01A, "IO_REPARSE_TAG_CLOUD_A", "cloud-a";
    /// `IO_REPARSE_TAG_CLOUD_B`: cloud files.
    CLOUD_B = 0x9000_B01A, "IO_REPARSE_TAG_CLOUD_B", "cloud-b";
    /// `IO_REPARSE_TAG_CLOUD_C`: cloud files.
    CLOUD_C = 0x9000_C01A, "IO_REPARSE_TAG_CLOUD_C", "cloud-c";
    /// `IO_REPARSE_TAG_CLOUD_D`: cloud files.
    CLOUD_D = 0x9000_D01A, "IO_REPARSE_TAG_CLOUD_D", "cloud-d";
    /// `IO_REPARSE_TAG_CLOUD_E`: cloud files.
    CLOUD_E = 0x9000_E01A, "IO_REPARSE_TAG_CLOUD_E", "cloud-e";
    /// `IO_REPARSE_TAG_CLOUD_F`: cloud files.
    CLOUD_F = 0x9000_F01A, "IO_REPARSE_TAG_CLOUD_F", "cloud-f";
    /// `IO_REPARSE_TAG_APPEXECLINK`: app execution aliases (`%LOCALAPPDATA%\Microsoft\WindowsApps`).
    APPEXECLINK = 0x8000_001B, "IO_REPARSE_TAG_APPEXECLINK", "appexeclink";
    /// `IO_REPARSE_TAG_PROJFS`: Projected File System (VFS for Git; ntfs-3g calls it GVFS).
    PROJFS = 0x9000_001C, "IO_REPARSE_TAG_PROJFS", "projfs";
    /// `IO_REPARSE_TAG_LX_SYMLINK`: WSL symbolic links.
    LX_SYMLINK = 0xA000_001D, "IO_REPARSE_TAG_LX_SYMLINK", "lx-symlink";
    /// `IO_REPARSE_TAG_STORAGE_SYNC`: Azure File Sync.
    STORAGE_SYNC = 0x8000_001E, "IO_REPARSE_TAG_STORAGE_SYNC", "storage-sync";
    /// `IO_REPARSE_TAG_WCI_TOMBSTONE`: Windows Container Isolation tombstone.
    WCI_TOMBSTONE = 0xA000_001F, "IO_REPARSE_TAG_WCI_TOMBSTONE", "wci-tombstone";
    /// `IO_REPARSE_TAG_UNHANDLED`: Windows Container Isolation, unhandled.
    UNHANDLED = 0x8000_0020, "IO_REPARSE_TAG_UNHANDLED", "unhandled";
    /// `IO_REPARSE_TAG_ONEDRIVE`: OneDrive (not used any more).
    ONEDRIVE = 0x8000_0021, "IO_REPARSE_TAG_ONEDRIVE", "onedrive";
    /// `IO_REPARSE_TAG_PROJFS_TOMBSTONE`: Projected File System tombstone.
    PROJFS_TOMBSTONE = 0xA000_0022, "IO_REPARSE_TAG_PROJFS_TOMBSTONE", "projfs-tombstone";
    /// `IO_REPARSE_TAG_AF_UNIX`: AF_UNIX socket files.
    AF_UNIX = 0x8000_0023, "IO_REPARSE_TAG_AF_UNIX", "af-unix";
    /// `IO_REPARSE_TAG_LX_FIFO`: WSL named pipes.
    LX_FIFO = 0x8000_0024, "IO_REPARSE_TAG_LX_FIFO", "lx-fifo";
    /// `IO_REPARSE_TAG_LX_CHR`: WSL character devices.
    LX_CHR = 0x8000_0025, "IO_REPARSE_TAG_LX_CHR", "lx-chr";
    /// `IO_REPARSE_TAG_LX_BLK`: WSL block devices.
    LX_BLK = 0x8000_0026, "IO_REPARSE_TAG_LX_BLK", "lx-blk";
    /// `IO_REPARSE_TAG_WCI_LINK`: Windows Container Isolation link.
    WCI_LINK = 0xA000_0027, "IO_REPARSE_TAG_WCI_LINK", "wci-link";
    /// `IO_REPARSE_TAG_WCI_LINK_1`: Windows Container Isolation link.
    WCI_LINK_1 = 0xA000_1027, "IO_REPARSE_TAG_WCI_LINK_1", "wci-link-1";
    /// `IO_REPARSE_TAG_STORAGE_SYNC_FOLDER`: Azure File Sync folder.
    STORAGE_SYNC_FOLDER = 0x9000_0027, "IO_REPARSE_TAG_STORAGE_SYNC_FOLDER", "storage-sync-folder";
    /// `IO_REPARSE_TAG_DATALESS_CIM`: dataless files backed by a composite image.
    DATALESS_CIM = 0xA000_0028, "IO_REPARSE_TAG_DATALESS_CIM", "dataless-cim";
}

impl Tag {
    /// Bit 31, **M**: the tag is owned by Microsoft. Such tags use the 8-byte
    /// `REPARSE_DATA_BUFFER` header; all others the 24-byte `REPARSE_GUID_DATA_BUFFER`
    /// header (MS-FSCC 2.1.2.2, 2.1.2.3).
    pub const MICROSOFT_BIT: u32 = 0x8000_0000;
    /// Bit 30, **R**: reserved (formerly "high latency").
    pub const RESERVED_BIT: u32 = 0x4000_0000;
    /// Bit 29, **N**: name surrogate; the file or directory stands for another named
    /// entity (`IsReparseTagNameSurrogate`). Rust's std treats these as symlinks.
    pub const NAME_SURROGATE_BIT: u32 = 0x2000_0000;
    /// Bit 28, **D**: a directory with this tag may have children.
    pub const DIRECTORY_BIT: u32 = 0x1000_0000;

    /// The raw value.
    pub const fn value(self) -> u32 {
        self.0
    }

    /// Whether bit 31 (**M**, Microsoft-owned) is set.
    pub const fn is_microsoft(self) -> bool {
        self.0 & Self::MICROSOFT_BIT != 0
    }

    /// Whether bit 29 (**N**, name surrogate) is set: junctions, symlinks, LX symlinks
    /// and a few others.
    pub const fn is_name_surrogate(self) -> bool {
        self.0 & Self::NAME_SURROGATE_BIT != 0
    }

    /// Whether it is one of the sixteen cloud tags (`IO_REPARSE_TAG_CLOUD` and
    /// `IO_REPARSE_TAG_CLOUD_1` to `_F`, `0x9000_X01A`): a file or directory of a sync
    /// engine (OneDrive and others).
    pub const fn is_cloud(self) -> bool {
        self.0 & 0xFFFF_0FFF == Self::CLOUD.0
    }

    /// Whether bit 28 (**D**, directory may have children) is set: cloud, WCI_1, ProjFS.
    pub const fn is_directory(self) -> bool {
        self.0 & Self::DIRECTORY_BIT != 0
    }

    /// Whether bit 30 (**R**, reserved) is set.
    pub const fn is_reserved_bit_set(self) -> bool {
        self.0 & Self::RESERVED_BIT != 0
    }

    /// Tags 0 and 1 are reserved and never valid in a reparse buffer: Windows rejects them
    /// with `STATUS_IO_REPARSE_DATA_INVALID` (MS-FSCC 2.3.82), ntfs-3g with `EINVAL`.
    pub const fn is_reserved(self) -> bool {
        self.0 <= 1
    }

    /// The Windows SDK name of a documented tag (`IO_REPARSE_TAG_MOUNT_POINT`), or `None`.
    pub fn name(self) -> Option<&'static str> {
        lookup(self).map(|(_, name, _)| name)
    }

    /// The knot kind word: `junction`, `symlink`, `lx-symlink`, `cloud-3`, ...; `unknown`
    /// for an undocumented tag. See the [type docs](Tag) for the rule.
    pub fn kind_name(self) -> &'static str {
        lookup(self).map_or("unknown", |(_, _, kind)| kind)
    }

    /// The documented tag with this SDK name (`IO_REPARSE_TAG_WOF`, the prefix optional,
    /// any case) or kind word (`wof`, `cloud-1`; `mount-point` also finds
    /// [`Tag::MOUNT_POINT`]).
    pub fn from_name(name: &str) -> Option<Tag> {
        let short = strip_prefix_ignore_case(name, "IO_REPARSE_TAG_").unwrap_or(name);
        if short.eq_ignore_ascii_case("mount-point") || short.eq_ignore_ascii_case("mount_point") {
            return Some(Tag::MOUNT_POINT);
        }
        TABLE.iter().find_map(|&(tag, sdk, kind)| {
            let sdk_short = sdk.strip_prefix("IO_REPARSE_TAG_").unwrap_or(sdk);
            (sdk_short.eq_ignore_ascii_case(short) || kind.eq_ignore_ascii_case(short))
                .then_some(tag)
        })
    }

    /// Every documented tag, in the order of MS-FSCC's table (by tag value).
    pub fn documented() -> impl Iterator<Item = Tag> {
        TABLE.iter().map(|&(tag, _, _)| tag)
    }
}

fn lookup(tag: Tag) -> Option<(Tag, &'static str, &'static str)> {
    TABLE.iter().copied().find(|&(t, _, _)| t == tag)
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

impl From<u32> for Tag {
    fn from(value: u32) -> Self {
        Tag(value)
    }
}

impl From<Tag> for u32 {
    fn from(tag: Tag) -> Self {
        tag.0
    }
}

/// `IO_REPARSE_TAG_MOUNT_POINT (0xa0000003)`, or just `0x12345678` for an undocumented tag.
impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({:#010x})", self.0),
            None => write!(f, "{:#010x}", self.0),
        }
    }
}

/// Lower-case hex with `0x` and 8 digits, as knot's JSON field `tag` writes it.
impl fmt::LowerHex for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerHex::fmt(&self.0, f)
    }
}

/// Upper-case hex of the raw value.
impl fmt::UpperHex for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::UpperHex::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sixteen cloud tags are cloud, and the tags beside them are not.
    #[test]
    fn cloud_tags_are_the_sixteen() {
        for n in 0..16u32 {
            assert!(Tag(0x9000_001A | n << 12).is_cloud(), "{n}");
        }
        for tag in [
            Tag::SYMLINK,
            Tag::MOUNT_POINT,
            Tag(0x9000_001B),
            Tag(0x8000_001A),
        ] {
            assert!(!tag.is_cloud(), "{tag:?}");
        }
    }

    #[test]
    fn kind_follows_the_sdk_name_except_mount_point() {
        for &(tag, sdk, kind) in TABLE {
            let short = sdk.strip_prefix("IO_REPARSE_TAG_").expect("SDK prefix");
            let expected = if tag == Tag::MOUNT_POINT {
                "junction".to_owned()
            } else {
                short.to_ascii_lowercase().replace('_', "-")
            };
            assert_eq!(kind, expected, "{sdk}");
        }
    }

    #[test]
    fn table_has_no_duplicates() {
        for (i, a) in TABLE.iter().enumerate() {
            for b in TABLE.iter().skip(i + 1) {
                assert_ne!(a.0, b.0, "{} and {}", a.1, b.1);
                assert_ne!(a.1, b.1);
                assert_ne!(a.2, b.2);
            }
        }
    }

    #[test]
    fn bits() {
        assert!(Tag::MOUNT_POINT.is_microsoft());
        assert!(Tag::MOUNT_POINT.is_name_surrogate());
        assert!(!Tag::MOUNT_POINT.is_directory());
        assert!(Tag::CLOUD_7.is_directory());
        assert!(!Tag::CLOUD_7.is_name_surrogate());
        assert!(Tag::HSM.is_reserved_bit_set());
        assert!(!Tag(0x1234).is_microsoft());
        assert!(Tag::RESERVED_ZERO.is_reserved());
        assert!(Tag::RESERVED_ONE.is_reserved());
        assert!(!Tag::RESERVED_TWO.is_reserved());
    }

    #[test]
    fn names_and_kinds() {
        assert_eq!(Tag::MOUNT_POINT.name(), Some("IO_REPARSE_TAG_MOUNT_POINT"));
        assert_eq!(Tag::MOUNT_POINT.kind_name(), "junction");
        assert_eq!(Tag(0x9000_B01A).kind_name(), "cloud-b");
        assert_eq!(Tag::LX_SYMLINK.kind_name(), "lx-symlink");
        assert_eq!(Tag::AF_UNIX.kind_name(), "af-unix");
        assert_eq!(Tag(0x8000_7777).name(), None);
        assert_eq!(Tag(0x8000_7777).kind_name(), "unknown");
        assert_eq!(
            Tag::SYMLINK.to_string(),
            "IO_REPARSE_TAG_SYMLINK (0xa000000c)"
        );
        assert_eq!(Tag(0x1234).to_string(), "0x00001234");
        assert_eq!(format!("{:#010x}", Tag::WOF), "0x80000017");
    }

    #[test]
    fn from_name() {
        assert_eq!(Tag::from_name("IO_REPARSE_TAG_WOF"), Some(Tag::WOF));
        assert_eq!(Tag::from_name("io_reparse_tag_wof"), Some(Tag::WOF));
        assert_eq!(Tag::from_name("CLOUD_F"), Some(Tag::CLOUD_F));
        assert_eq!(Tag::from_name("cloud-f"), Some(Tag::CLOUD_F));
        assert_eq!(Tag::from_name("junction"), Some(Tag::MOUNT_POINT));
        assert_eq!(Tag::from_name("mount-point"), Some(Tag::MOUNT_POINT));
        assert_eq!(Tag::from_name("nope"), None);
        assert_eq!(Tag::from_name(""), None);
        assert_eq!(Tag::documented().count(), TABLE.len());
    }
}
