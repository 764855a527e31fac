//! The Win32 structures and constants the Windows backend uses, with the layout checks
//! that tie them to the C headers (STYLE.md point 2: every FFI layout in one place).
//!
//! Functions and most types come from `windows-sys`; what is defined here is either
//! missing from the `windows-sys` features knot enables (a constant that lives in a module
//! otherwise unused) or a buffer whose alignment Rust must be told about.

use std::mem::{align_of, offset_of, size_of};

pub(crate) use windows_sys::Win32::Foundation::{
    CloseHandle, ERROR_ACCESS_DENIED, ERROR_BAD_NET_NAME, ERROR_BAD_NETPATH,
    ERROR_CALL_NOT_IMPLEMENTED, ERROR_CANT_RESOLVE_FILENAME, ERROR_DIRECTORY, ERROR_FILE_NOT_FOUND,
    ERROR_HANDLE_EOF, ERROR_INVALID_DRIVE, ERROR_INVALID_FUNCTION, ERROR_INVALID_LEVEL,
    ERROR_INVALID_PARAMETER, ERROR_MORE_DATA, ERROR_NO_MORE_FILES, ERROR_NOT_A_REPARSE_POINT,
    ERROR_NOT_READY, ERROR_NOT_SAME_DEVICE, ERROR_NOT_SUPPORTED, ERROR_PATH_NOT_FOUND,
    ERROR_PRIVILEGE_NOT_HELD, ERROR_SHARING_VIOLATION, ERROR_SYMLINK_CLASS_DISABLED,
    ERROR_TOO_MANY_OPEN_FILES, HANDLE, INVALID_HANDLE_VALUE, MAX_PATH,
};
pub(crate) use windows_sys::Win32::Storage::FileSystem::{
    BY_HANDLE_FILE_INFORMATION, CreateFileW, CreateSymbolicLinkW, DELETE, FILE_ATTRIBUTE_DIRECTORY,
    FILE_ATTRIBUTE_REPARSE_POINT, FILE_ATTRIBUTE_TAG_INFO, FILE_DISPOSITION_FLAG_DELETE,
    FILE_DISPOSITION_FLAG_IGNORE_READONLY_ATTRIBUTE, FILE_DISPOSITION_FLAG_POSIX_SEMANTICS,
    FILE_DISPOSITION_INFO, FILE_DISPOSITION_INFO_EX, FILE_FLAG_BACKUP_SEMANTICS,
    FILE_FLAG_OPEN_REPARSE_POINT, FILE_ID_BOTH_DIR_INFO, FILE_ID_EXTD_DIR_INFO, FILE_ID_INFO,
    FILE_INFO_BY_HANDLE_CLASS, FILE_LIST_DIRECTORY, FILE_READ_ATTRIBUTES, FILE_RENAME_INFO,
    FILE_SHARE_DELETE, FILE_SHARE_READ, FILE_SHARE_WRITE, FILE_STANDARD_INFO,
    FILE_WRITE_ATTRIBUTES, FILE_WRITE_DATA, FileAttributeTagInfo, FileDispositionInfo,
    FileDispositionInfoEx, FileIdBothDirectoryInfo, FileIdBothDirectoryRestartInfo,
    FileIdExtdDirectoryInfo, FileIdExtdDirectoryRestartInfo, FileIdInfo, FileStandardInfo,
    FindClose, FindExInfoBasic, FindExSearchNameMatch, FindFirstFileExW, GetDriveTypeW,
    GetFileInformationByHandle, GetFileInformationByHandleEx, GetFinalPathNameByHandleW,
    GetFullPathNameW, GetVolumeInformationByHandleW, GetVolumePathNameW, OPEN_EXISTING,
    QueryDosDeviceW, SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE, SYMBOLIC_LINK_FLAG_DIRECTORY,
    SYNCHRONIZE, SetFileInformationByHandle, VOLUME_NAME_DOS, VOLUME_NAME_NONE, WIN32_FIND_DATAW,
};
pub(crate) use windows_sys::Win32::System::IO::{DeviceIoControl, IO_STATUS_BLOCK};

// The NT calls that open, make and link entries relative to a directory's handle: Win32
// names every entry by a path, NT by an `OBJECT_ATTRIBUTES` whose `RootDirectory` the name
// is relative to.
pub(crate) use windows_sys::Wdk::Foundation::OBJECT_ATTRIBUTES;
pub(crate) use windows_sys::Wdk::Storage::FileSystem::{
    FILE_CREATE, FILE_DIRECTORY_FILE, FILE_INFORMATION_CLASS, FILE_LINK_INFORMATION, FILE_OPEN,
    FILE_OPEN_FOR_BACKUP_INTENT, FILE_OPEN_REPARSE_POINT, FILE_SYNCHRONOUS_IO_NONALERT,
    FileLinkInformation, FileRenameInformation, FileRenameInformationEx, NtCreateFile,
    NtSetInformationFile,
};
pub(crate) use windows_sys::Win32::Foundation::{
    NTSTATUS, OBJ_CASE_INSENSITIVE, RtlNtStatusToDosError, UNICODE_STRING,
};
pub(crate) use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleW, GetProcAddress};

// The Windows build, for the symlink flag older builds reject (`make.rs`).
pub(crate) use windows_sys::Wdk::System::SystemServices::RtlGetVersion;
pub(crate) use windows_sys::Win32::System::SystemInformation::OSVERSIONINFOW;

/// `FindFirstFileNameW` (fileapi.h), looked up at run time: Wine 8 exports it from
/// kernel32 as a stub that aborts the process when called, so it is taken from
/// kernelbase.dll, where Windows implements it and Wine 8 has nothing.
pub(crate) type FindFirstFileNameW =
    unsafe extern "system" fn(*const u16, u32, *mut u32, *mut u16) -> HANDLE;
/// `FindNextFileNameW` (fileapi.h), looked up with [`FindFirstFileNameW`].
pub(crate) type FindNextFileNameW =
    unsafe extern "system" fn(HANDLE, *mut u32, *mut u16) -> windows_sys::core::BOOL;
pub(crate) use windows_sys::Win32::System::Ioctl::{
    FSCTL_GET_REPARSE_POINT, FSCTL_SET_REPARSE_POINT,
};

// A file's data copied (`copy.rs`): block cloning, holes, attributes and times.
pub(crate) use windows_sys::Wdk::Storage::FileSystem::FILE_NON_DIRECTORY_FILE;
pub(crate) use windows_sys::Win32::Storage::FileSystem::{
    FILE_ATTRIBUTE_ARCHIVE, FILE_ATTRIBUTE_HIDDEN, FILE_ATTRIBUTE_NORMAL,
    FILE_ATTRIBUTE_NOT_CONTENT_INDEXED, FILE_ATTRIBUTE_READONLY, FILE_ATTRIBUTE_SPARSE_FILE,
    FILE_ATTRIBUTE_SYSTEM, FILE_BASIC_INFO, FILE_READ_DATA, FileBasicInfo,
};

// A file's data read from behind its reparse point (`copy.rs`): a cloud file's data not
// here, a filter not there.
pub(crate) use windows_sys::Win32::Foundation::ERROR_CANT_ACCESS_FILE;
pub(crate) use windows_sys::Win32::Storage::FileSystem::{
    FILE_ATTRIBUTE_OFFLINE, FILE_ATTRIBUTE_RECALL_ON_DATA_ACCESS, FILE_ATTRIBUTE_RECALL_ON_OPEN,
};
pub(crate) use windows_sys::Win32::System::Ioctl::{
    DUPLICATE_EXTENTS_DATA, FILE_ALLOCATED_RANGE_BUFFER, FSCTL_DUPLICATE_EXTENTS_TO_FILE,
    FSCTL_GET_INTEGRITY_INFORMATION, FSCTL_GET_INTEGRITY_INFORMATION_BUFFER,
    FSCTL_QUERY_ALLOCATED_RANGES, FSCTL_SET_INTEGRITY_INFORMATION,
    FSCTL_SET_INTEGRITY_INFORMATION_BUFFER, FSCTL_SET_SPARSE,
};

/// `FILE_SUPPORTS_BLOCK_REFCOUNTING` (winnt.h): a `GetVolumeInformationByHandleW` flag of
/// a volume that clones blocks (ReFS, Dev Drive). windows-sys has it only in
/// `Win32_System_SystemServices`.
pub(crate) const FILE_SUPPORTS_BLOCK_REFCOUNTING: u32 = 0x0800_0000;

/// `FILE_RENAME_FLAG_POSIX_SEMANTICS` (winbase.h; windows-sys has it only in
/// `Win32_System_WindowsProgramming`): POSIX rename semantics for `FileRenameInformationEx`
/// (Windows 10 1809 and later, NTFS). knot never passes `FILE_RENAME_FLAG_REPLACE_IF_EXISTS`:
/// it renames only onto a free name.
pub(crate) const FILE_RENAME_FLAG_POSIX_SEMANTICS: u32 = 0x0000_0002;

/// `DRIVE_REMOTE` (winbase.h): what `GetDriveTypeW` says of a network drive. windows-sys
/// has it only in `Win32_System_WindowsProgramming`.
pub(crate) const DRIVE_REMOTE: u32 = 4;

/// `FILE_SUPPORTS_REPARSE_POINTS` (winnt.h): a `GetVolumeInformationW` flag. windows-sys
/// has it only in `Win32_System_SystemServices`.
pub(crate) const FILE_SUPPORTS_REPARSE_POINTS: u32 = 0x0000_0080;

/// `FILE_SUPPORTS_HARD_LINKS` (winnt.h): a `GetVolumeInformationW` flag. windows-sys
/// has it only in `Win32_System_SystemServices`.
pub(crate) const FILE_SUPPORTS_HARD_LINKS: u32 = 0x0040_0000;

/// `MAXIMUM_REPARSE_DATA_BUFFER_SIZE` (winnt.h): 16 KiB, the whole buffer.
pub(crate) const MAXIMUM_REPARSE_DATA_BUFFER_SIZE: usize = 16 * 1024;

/// The output buffer of `FSCTL_GET_REPARSE_POINT`: 16 KiB, aligned as the
/// `REPARSE_DATA_BUFFER` it receives (8, as std's `Align8` buffer). The control code is
/// `METHOD_BUFFERED`, so the I/O manager copies the result in from its own buffer and
/// nothing here reads the bytes as a structure (the codec decodes them byte by byte);
/// the alignment is for any code that would, where a plain `[u8; N]` promises only 1
/// (the `junction` crate's `cast.rs` casts such a buffer to a structure pointer).
#[repr(C, align(8))]
pub(crate) struct ReparseBuffer(pub(crate) [u8; MAXIMUM_REPARSE_DATA_BUFFER_SIZE]);

/// The buffer a directory listing is read into, one `GetFileInformationByHandleEx` call at
/// a time: 64 KiB, as `FIND_FIRST_EX_LARGE_FETCH` asks of the file system (and the most an
/// SMB server returns at once), aligned to 8 like the entries in it (each starts at a
/// multiple of 8: MS-FSCC 2.4, `NextEntryOffset`). The entries are read field by field at
/// the offsets of a [`DirInfoLayout`], never cast to structures.
#[repr(C, align(8))]
pub(crate) struct DirBuffer(pub(crate) [u8; DIR_BUFFER_SIZE]);

pub(crate) const DIR_BUFFER_SIZE: usize = 64 * 1024;

/// Where the fields knot reads sit in the entries of one directory information class.
#[derive(Debug)]
pub(crate) struct DirInfoLayout {
    /// The class's name, for messages.
    pub(crate) class_name: &'static str,
    /// The class that goes on with a listing, and the one that starts it again.
    pub(crate) class: FILE_INFO_BY_HANDLE_CLASS,
    pub(crate) restart: FILE_INFO_BY_HANDLE_CLASS,
    pub(crate) attributes: usize,
    /// `FileNameLength`, in bytes.
    pub(crate) name_length: usize,
    /// The reparse tag, valid when `FILE_ATTRIBUTE_REPARSE_POINT` is set.
    pub(crate) tag: usize,
    pub(crate) name: usize,
    /// `FileId`, and its width in bytes: 16 (`FILE_ID_128`) or 8 (`LARGE_INTEGER`).
    pub(crate) file_id: usize,
    pub(crate) file_id_len: usize,
}

/// `FILE_ID_EXTD_DIR_INFO` (Windows 10 and later, NTFS and ReFS): the tag has its own
/// field, `ReparsePointTag`.
pub(crate) const ID_EXTD_DIR_INFO: DirInfoLayout = DirInfoLayout {
    class_name: "FileIdExtdDirectoryInfo",
    class: FileIdExtdDirectoryInfo,
    restart: FileIdExtdDirectoryRestartInfo,
    attributes: offset_of!(FILE_ID_EXTD_DIR_INFO, FileAttributes),
    name_length: offset_of!(FILE_ID_EXTD_DIR_INFO, FileNameLength),
    tag: offset_of!(FILE_ID_EXTD_DIR_INFO, ReparsePointTag),
    name: offset_of!(FILE_ID_EXTD_DIR_INFO, FileName),
    file_id: offset_of!(FILE_ID_EXTD_DIR_INFO, FileId),
    file_id_len: 16,
};

/// `FILE_ID_BOTH_DIR_INFO` (Windows Vista and later, every local file system, SMB, Wine):
/// the tag is in `EaSize`, which "MUST contain a reparse tag" when the entry is a reparse
/// point (MS-FSCC 2.4.17; `FindFirstFileExW` reports it as `dwReserved0` from there).
pub(crate) const ID_BOTH_DIR_INFO: DirInfoLayout = DirInfoLayout {
    class_name: "FileIdBothDirectoryInfo",
    class: FileIdBothDirectoryInfo,
    restart: FileIdBothDirectoryRestartInfo,
    attributes: offset_of!(FILE_ID_BOTH_DIR_INFO, FileAttributes),
    name_length: offset_of!(FILE_ID_BOTH_DIR_INFO, FileNameLength),
    tag: offset_of!(FILE_ID_BOTH_DIR_INFO, EaSize),
    name: offset_of!(FILE_ID_BOTH_DIR_INFO, FileName),
    file_id: offset_of!(FILE_ID_BOTH_DIR_INFO, FileId),
    file_id_len: 8,
};

/// The fixed part of `FILE_RENAME_INFO` (winbase.h) on 64-bit Windows:
/// `union { BOOLEAN ReplaceIfExists; DWORD Flags; }` at 0, `HANDLE RootDirectory` at 8,
/// `DWORD FileNameLength` at 16, then `WCHAR FileName[]` at 20. The name follows the
/// fixed part in the same allocation; see `rename_info` in `mod.rs`.
pub(crate) const RENAME_INFO_NAME_OFFSET: usize = offset_of!(FILE_RENAME_INFO, FileName);

/// The offset of the name in `FILE_LINK_INFORMATION` (ntifs.h), which has the fixed part
/// of `FILE_RENAME_INFO` (and of `FILE_RENAME_INFORMATION`, which is the same structure):
/// the union, `RootDirectory`, `FileNameLength`, then the name.
pub(crate) const LINK_INFO_NAME_OFFSET: usize = offset_of!(FILE_LINK_INFORMATION, FileName);

// The layouts, checked against the headers at compile time.
const _: () = {
    assert!(size_of::<ReparseBuffer>() == MAXIMUM_REPARSE_DATA_BUFFER_SIZE);
    assert!(align_of::<ReparseBuffer>() == 8);
    assert!(MAXIMUM_REPARSE_DATA_BUFFER_SIZE == knot_reparse::MAX_BUFFER_SIZE);

    // BY_HANDLE_FILE_INFORMATION: 13 DWORDs (FILETIMEs are two each), 52 bytes.
    assert!(size_of::<BY_HANDLE_FILE_INFORMATION>() == 52);
    assert!(offset_of!(BY_HANDLE_FILE_INFORMATION, dwVolumeSerialNumber) == 28);
    assert!(offset_of!(BY_HANDLE_FILE_INFORMATION, nNumberOfLinks) == 40);
    assert!(offset_of!(BY_HANDLE_FILE_INFORMATION, nFileIndexLow) == 48);

    // FILE_ID_INFO: a 64-bit volume serial number, then the 16 bytes of a FILE_ID_128.
    assert!(size_of::<FILE_ID_INFO>() == 24);
    assert!(offset_of!(FILE_ID_INFO, FileId) == 8);

    // FILE_BASIC_INFO: four LARGE_INTEGER times, then the attributes, padded to 8.
    assert!(size_of::<FILE_BASIC_INFO>() == 40);
    assert!(offset_of!(FILE_BASIC_INFO, FileAttributes) == 32);
    // DUPLICATE_EXTENTS_DATA: the source's handle, two offsets and a length.
    #[cfg(target_pointer_width = "64")]
    assert!(size_of::<DUPLICATE_EXTENTS_DATA>() == 32);
    assert!(size_of::<FILE_ALLOCATED_RANGE_BUFFER>() == 16);
    assert!(size_of::<FSCTL_GET_INTEGRITY_INFORMATION_BUFFER>() == 16);
    assert!(size_of::<FSCTL_SET_INTEGRITY_INFORMATION_BUFFER>() == 8);

    // FILE_ATTRIBUTE_TAG_INFO: FileAttributes, ReparseTag.
    assert!(size_of::<FILE_ATTRIBUTE_TAG_INFO>() == 8);
    // FILE_STANDARD_INFO: two LARGE_INTEGERs, a DWORD and two BOOLEANs, padded to 8.
    assert!(size_of::<FILE_STANDARD_INFO>() == 24);
    assert!(offset_of!(FILE_ATTRIBUTE_TAG_INFO, ReparseTag) == 4);

    // FILE_DISPOSITION_INFO is one BOOLEAN; FILE_DISPOSITION_INFO_EX one DWORD of flags.
    assert!(size_of::<FILE_DISPOSITION_INFO>() == 1);
    assert!(size_of::<FILE_DISPOSITION_INFO_EX>() == 4);

    // The directory entries (ntifs.h FILE_ID_EXTD_DIR_INFORMATION and
    // FILE_ID_BOTH_DIR_INFORMATION): NextEntryOffset, FileIndex, four times and two sizes
    // (8 bytes each), FileAttributes at 56, FileNameLength at 60, EaSize at 64; then the
    // tag and the 16-byte id before the name at 88, or the 8.3 name and the 8-byte id
    // before the name at 104.
    assert!(size_of::<DirBuffer>() == DIR_BUFFER_SIZE);
    assert!(align_of::<DirBuffer>() == 8);
    assert!(ID_EXTD_DIR_INFO.attributes == 56);
    assert!(ID_EXTD_DIR_INFO.name_length == 60);
    assert!(offset_of!(FILE_ID_EXTD_DIR_INFO, EaSize) == 64);
    assert!(ID_EXTD_DIR_INFO.tag == 68);
    assert!(offset_of!(FILE_ID_EXTD_DIR_INFO, FileId) == 72);
    assert!(ID_EXTD_DIR_INFO.name == 88);
    assert!(ID_BOTH_DIR_INFO.attributes == 56);
    assert!(ID_BOTH_DIR_INFO.name_length == 60);
    assert!(ID_BOTH_DIR_INFO.tag == 64);
    assert!(offset_of!(FILE_ID_BOTH_DIR_INFO, ShortName) == 70);
    assert!(offset_of!(FILE_ID_BOTH_DIR_INFO, FileId) == 96);
    assert!(ID_BOTH_DIR_INFO.name == 104);

    // WIN32_FIND_DATAW: attributes, three FILETIMEs, sizes, then dwReserved0 (the reparse
    // tag of a reparse point, FindFirstFileExW docs) at 36 and the name at 44.
    assert!(offset_of!(WIN32_FIND_DATAW, dwReserved0) == 36);
    assert!(offset_of!(WIN32_FIND_DATAW, cFileName) == 44);
    assert!(size_of::<WIN32_FIND_DATAW>() == 592);

    // FILE_RENAME_INFO: the union, the handle (pointer-aligned), the length, the name.
    #[cfg(target_pointer_width = "64")]
    {
        assert!(offset_of!(FILE_RENAME_INFO, RootDirectory) == 8);
        assert!(offset_of!(FILE_RENAME_INFO, FileNameLength) == 16);
        assert!(RENAME_INFO_NAME_OFFSET == 20);
        assert!(size_of::<FILE_RENAME_INFO>() == 24);
        assert!(offset_of!(FILE_LINK_INFORMATION, RootDirectory) == 8);
        assert!(offset_of!(FILE_LINK_INFORMATION, FileNameLength) == 16);
        assert!(LINK_INFO_NAME_OFFSET == 20);
        assert!(size_of::<FILE_LINK_INFORMATION>() == 24);
        // OBJECT_ATTRIBUTES: Length, RootDirectory, ObjectName, Attributes, and the two
        // security pointers; IO_STATUS_BLOCK: the status (or a pointer) and Information.
        assert!(size_of::<OBJECT_ATTRIBUTES>() == 48);
        assert!(offset_of!(OBJECT_ATTRIBUTES, RootDirectory) == 8);
        assert!(size_of::<IO_STATUS_BLOCK>() == 16);
        assert!(size_of::<UNICODE_STRING>() == 16);
    }
    #[cfg(target_pointer_width = "32")]
    {
        assert!(offset_of!(FILE_RENAME_INFO, RootDirectory) == 4);
        assert!(offset_of!(FILE_RENAME_INFO, FileNameLength) == 8);
        assert!(RENAME_INFO_NAME_OFFSET == 12);
        assert!(LINK_INFO_NAME_OFFSET == 12);
    }
};
