//! Unit tests of the Windows backend. They run for real on Windows and under Wine
//! (`scripts/test-windows.sh`). Where Wine 8 lacks a feature (reparse points), a test
//! first finds out what the system does and then checks that the failure is clean:
//! nothing is ever assumed about the system.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use knot_reparse::{MountPoint, ReparsePoint, Tag};
use windows_sys::Win32::Foundation::ERROR_ACCESS_DENIED;

use super::*;
use crate::fixture::names;
use crate::sys::{Directory as _, Reader as _};

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// Prints past the test harness's capture (which takes only `print!` and `eprint!`), so
/// what a test met instead of the real thing shows in every run, not only on failure.
fn note(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "note: {text}");
}

#[test]
fn entry_types_from_attributes_and_tags() {
    const DIR: u32 = FILE_ATTRIBUTE_DIRECTORY;
    const REPARSE: u32 = FILE_ATTRIBUTE_REPARSE_POINT;
    assert_eq!(file_type(0, None), FileType::File);
    assert_eq!(file_type(DIR, None), FileType::Dir);
    assert_eq!(
        file_type(DIR | REPARSE, Some(Tag::MOUNT_POINT.0)),
        FileType::Link
    );
    assert_eq!(file_type(REPARSE, Some(Tag::SYMLINK.0)), FileType::Link);
    assert_eq!(file_type(REPARSE, Some(Tag::APPEXECLINK.0)), FileType::Link);
    // A cloud placeholder folder holds real children: a directory to walk, not a link.
    assert_eq!(file_type(DIR | REPARSE, Some(Tag::CLOUD.0)), FileType::Dir);
    // A WOF-compressed file is reported by its tag (and `rm` refuses it).
    assert_eq!(file_type(REPARSE, Some(Tag::WOF.0)), FileType::Link);
}

#[test]
fn symlink_text_uses_backslashes_except_verbatim() {
    let text = |s: &str| String::from_utf16(&symlink_text(Path::new(s))).unwrap();
    assert_eq!(text("a/b/c"), r"a\b\c");
    assert_eq!(text(r"..\x"), r"..\x");
    assert_eq!(text(r"\\?\C:\a/b"), r"\\?\C:\a/b");
}

/// `CreateSymbolicLinkW` stores `C:x` as a full path; knot stores what it would, so the
/// read-back compares like with like. Other targets are stored as given.
#[test]
fn drive_relative_symlink_targets_are_made_absolute() {
    for target in [
        "x",
        r"..\x",
        r"\x",
        r"C:\x",
        "C:/x",
        r"\\server\share\x",
        r"\\?\C:\x",
    ] {
        assert_eq!(
            normalise_symlink_target(Path::new(target)).unwrap(),
            Path::new(target)
        );
    }
    let made = normalise_symlink_target(Path::new("C:x")).unwrap();
    assert!(made.is_absolute(), "{}", made.display());
    assert!(
        made.starts_with(r"C:\") && made.ends_with("x"),
        "{}",
        made.display()
    );
    assert_eq!(made, crate::path::absolute(Path::new("C:x")).unwrap());
}

#[test]
fn network_paths_are_remote() {
    assert!(is_remote(Path::new(r"\\server\share\dir")));
    assert!(is_remote(Path::new(r"//server/share/dir")));
    assert!(is_remote(Path::new(r"\\?\UNC\server\share")));
    assert!(is_remote(Path::new(r"\??\unc\server\share")));
    assert!(!is_remote(Path::new(r"\\.\C:\dir")));
    assert!(!is_remote(Path::new(
        r"\\?\Volume{00000000-0000-0000-0000-000000000000}\"
    )));
    assert!(!is_remote(Path::new(r"relative\dir")));
    // The temporary directory is on a local drive (on Wine, C: is the prefix's drive_c).
    let local = std::env::temp_dir();
    assert!(!is_remote(&local), "{} is local", local.display());
}

#[test]
fn privilege_errors_have_their_own_kind() {
    let err = os_error(ERROR_PRIVILEGE_NOT_HELD);
    assert_eq!(
        os_error_kind(&err),
        Some(crate::sys::OsError::PrivilegeNeeded)
    );
    let err = os_error(ERROR_NOT_SAME_DEVICE);
    assert_eq!(os_error_kind(&err), Some(crate::sys::OsError::CrossDevice));
    assert_eq!(os_error_kind(&os_error(ERROR_ACCESS_DENIED)), None);
}

/// ERROR_PRIVILEGE_NOT_HELD from CreateSymbolicLinkW becomes an error of its own kind,
/// whose message says what Windows needs (the CLI's hint says how to get it).
#[test]
fn privilege_errors_say_what_windows_needs() {
    use crate::error::{Error, ErrorKind, Op};
    let err = Error::io(
        Op::CreateSymlink,
        Path::new("l"),
        os_error(ERROR_PRIVILEGE_NOT_HELD),
    );
    assert_eq!(*err.kind(), ErrorKind::PrivilegeNeeded);
    assert_eq!(
        err.to_string(),
        "cannot create symlink 'l': Windows lets only administrators create symbolic links, \
         unless Developer Mode is on (ERROR_PRIVILEGE_NOT_HELD)"
    );
    // The OS error is kept as the source.
    assert_eq!(
        err.io_error().and_then(io::Error::raw_os_error),
        Some(ERROR_PRIVILEGE_NOT_HELD as i32)
    );
}

#[test]
fn resolve_errors_are_classified() {
    assert_eq!(
        classify_resolve_error(&os_error(ERROR_FILE_NOT_FOUND)),
        Status::Dangling
    );
    assert_eq!(
        classify_resolve_error(&os_error(ERROR_PATH_NOT_FOUND)),
        Status::Dangling
    );
    assert_eq!(
        classify_resolve_error(&os_error(ERROR_CANT_RESOLVE_FILENAME)),
        Status::Loop
    );
    assert_eq!(
        classify_resolve_error(&os_error(ERROR_ACCESS_DENIED)),
        Status::Unreadable
    );
    let t = tempdir();
    let err = stat(&t.path().join("missing")).unwrap_err();
    assert_eq!(classify_resolve_error(&err), Status::Dangling);
}

#[test]
fn stat_of_files_and_directories() {
    let t = tempdir();
    let file = t.path().join("f");
    fs::write(&file, "x").unwrap();
    let meta = lstat(&file).unwrap();
    assert_eq!((meta.ty, meta.nlink, meta.tag), (FileType::File, 1, None));
    assert_eq!(stat(&file).unwrap().id, meta.id);
    let dir = lstat(t.path()).unwrap();
    assert_eq!(dir.ty, FileType::Dir);
    assert_ne!(dir.id, meta.id);
    assert_eq!(
        lstat(&t.path().join("missing")).unwrap_err().kind(),
        io::ErrorKind::NotFound
    );
    // A plain file is not a reparse point: there is nothing to read.
    let err = read_link(&file).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(ERROR_NOT_A_REPARSE_POINT as i32));
}

/// The listing's view of an entry, for files locked against every open (`pagefile.sys`),
/// which no test can make: checked here on ordinary entries against `lstat`.
#[test]
fn locked_entries_are_read_from_their_listing() {
    let t = tempdir();
    let file = t.path().join("f1");
    fs::write(&file, "x").unwrap();
    let dir = Dir::hold(t.path()).unwrap();
    hard_link(&dir, OsStr::new("f1"), &dir, OsStr::new("f2")).unwrap();
    let listed = listed_meta(&file).unwrap();
    assert_eq!(
        (listed.ty, listed.nlink, listed.tag, listed.id),
        (FileType::File, 1, None, LISTED_ID)
    );
    assert_ne!(listed.id, lstat(&file).unwrap().id);
    assert_eq!(listed_meta(t.path()).unwrap().ty, FileType::Dir);
    assert!(listed_meta(&t.path().join("missing")).is_none());
    // A wildcard would match `f1` and `f2` as a pattern: not an answer about `f*`.
    assert!(listed_meta(&t.path().join("f*")).is_none());
    assert!(listed_meta(&t.path().join("f?")).is_none());
}

#[test]
fn hard_links_share_one_file() {
    let t = tempdir();
    let file = t.path().join("f");
    fs::write(&file, "x").unwrap();
    let link = t.path().join("l");
    let dir = Dir::hold(t.path()).unwrap();
    let (f, l) = (OsStr::new("f"), OsStr::new("l"));
    hard_link(&dir, f, &dir, l).unwrap();
    let (a, b) = (lstat(&file).unwrap(), lstat(&link).unwrap());
    assert_eq!((a.nlink, b.nlink), (2, 2));
    assert_eq!(a.id, b.id);
    let err = hard_link(&dir, f, &dir, l).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    // A name in another directory, relative to that one's handle.
    fs::create_dir(t.path().join("d")).unwrap();
    let d = dir.hold_at(OsStr::new("d")).unwrap();
    hard_link(&dir, f, &d, f).unwrap();
    assert_eq!(lstat(&t.path().join("d").join("f")).unwrap().id, a.id);
    assert_eq!(lstat(&file).unwrap().nlink, 3);
    // Nothing to link: the error the system gives for a missing file.
    let err = hard_link(&dir, OsStr::new("missing"), &dir, OsStr::new("m")).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
}

/// Paths longer than MAX_PATH go through `\\?\`.
#[test]
fn long_paths_work() {
    let t = tempdir();
    let mut deep = t.path().to_path_buf();
    for i in 0..6 {
        deep.push(format!("{i}{}", "d".repeat(60)));
    }
    assert!(deep.as_os_str().len() > 300);
    fs::create_dir_all(&deep).unwrap();
    let file = deep.join("f");
    fs::write(&file, "x").unwrap();
    let link = deep.join("l");
    let dir = Dir::open(&deep).unwrap();
    hard_link(&dir, OsStr::new("f"), &dir, OsStr::new("l")).unwrap();
    assert_eq!(lstat(&link).unwrap().nlink, 2);
    let mut found = Vec::new();
    DirReader::new()
        .read(&dir, |name, ty, _| {
            found.push((name.to_string_lossy().into_owned(), ty));
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        found,
        [
            ("f".into(), Some(FileType::File)),
            ("l".into(), Some(FileType::File))
        ]
    );
}

/// `rm` through the handle refuses what is not a link, and leaves it there.
#[test]
fn remove_link_refuses_files_and_directories() {
    let t = tempdir();
    let file = t.path().join("f");
    fs::write(&file, "keep").unwrap();
    let sub = t.path().join("d");
    fs::create_dir(&sub).unwrap();
    let dir = Dir::hold(t.path()).unwrap();
    for name in ["f", "d"] {
        let err = remove_link(&dir, OsStr::new(name)).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(ERROR_NOT_A_REPARSE_POINT as i32));
    }
    drop(dir);
    assert_eq!(fs::read_to_string(&file).unwrap(), "keep");
    assert!(sub.is_dir());
}

/// A read-only entry is deleted through its handle where the system can ignore the
/// attribute (Windows 10 1809+); elsewhere (Wine 8) the refusal is clean and the entry
/// stays. `rm` of a read-only link goes through here.
#[test]
fn delete_on_close_ignores_the_read_only_attribute_where_it_can() {
    let t = tempdir();
    let file = t.path().join("f");
    fs::write(&file, "x").unwrap();
    let mut permissions = fs::metadata(&file).unwrap().permissions();
    permissions.set_readonly(true);
    fs::set_permissions(&file, permissions).unwrap();
    let handle = Handle::open(&file, DELETE | FILE_READ_ATTRIBUTES, Follow::No).unwrap();
    match delete_on_close(&handle) {
        Ok(()) => {
            drop(handle);
            assert!(names(t.path()).is_empty());
        }
        Err(err) => {
            note(&format!(
                "this system cannot delete a read-only entry through a handle ({err})"
            ));
            assert_eq!(err.kind(), io::ErrorKind::PermissionDenied, "{err}");
            drop(handle);
            assert_eq!(fs::read_to_string(&file).unwrap(), "x");
            let mut permissions = fs::metadata(&file).unwrap().permissions();
            #[allow(
                clippy::permissions_set_readonly_false,
                reason = "Windows: clears the read-only attribute, so the temporary directory can go"
            )]
            permissions.set_readonly(false);
            fs::set_permissions(&file, permissions).unwrap();
        }
    }
}

/// A read-only file and a read-only directory are removed (`rm --tree`, `--mirror`), the
/// attribute ignored by the delete where the system can, else cleared on that entry
/// alone through the entry opened again from the handle that deletes it; a file with
/// another name gets the attribute back, so the name left keeps it.
#[test]
fn read_only_entries_are_removed_and_other_names_keep_the_attribute() {
    let t = tempdir();
    let read_only = |path: &Path, on: bool| {
        let mut permissions = fs::metadata(path).unwrap().permissions();
        #[allow(
            clippy::permissions_set_readonly_false,
            reason = "Windows: sets or clears the read-only attribute"
        )]
        permissions.set_readonly(on);
        fs::set_permissions(path, permissions).unwrap();
    };
    fs::write(t.path().join("f"), "x").unwrap();
    fs::write(t.path().join("g"), "y").unwrap();
    fs::hard_link(t.path().join("g"), t.path().join("g2")).unwrap();
    fs::create_dir(t.path().join("d")).unwrap();
    for name in ["f", "g", "d"] {
        read_only(&t.path().join(name), true);
    }
    let dir = held(t.path());
    remove_file(&dir, OsStr::new("f")).unwrap();
    remove_file(&dir, OsStr::new("g")).unwrap();
    remove_dir(&dir, OsStr::new("d")).unwrap();
    drop(dir);
    assert_eq!(names(t.path()), ["g2"]);
    assert!(
        fs::metadata(t.path().join("g2"))
            .unwrap()
            .permissions()
            .readonly()
    );
    assert_eq!(fs::read_to_string(t.path().join("g2")).unwrap(), "y");
    read_only(&t.path().join("g2"), false);
}

/// The junction itself, below `Place`: made, or if the file system refuses the reparse
/// point, gone without a trace (DESIGN.md promise 3). Wine 8 refuses it.
#[test]
fn junctions_are_made_whole_or_not_at_all() {
    let t = tempdir();
    let target = t.path().join("target");
    fs::create_dir(&target).unwrap();
    fs::write(target.join("canary"), "alive").unwrap();
    let link = t.path().join("j");
    let full = crate::path::absolute(&target).unwrap();
    let point = MountPoint::junction(wide::units(full.as_os_str())).unwrap();
    let buffer = ReparsePoint::from(point).encode().unwrap();
    let dir = Dir::hold(t.path()).unwrap();
    match make_junction(&dir, OsStr::new("j"), &buffer) {
        Ok(()) => {
            let meta = lstat(&link).unwrap();
            assert_eq!((meta.ty, meta.tag), (FileType::Link, Some(0xA000_0003)));
            let s = read_link(&link).unwrap();
            assert_eq!(s.reparse.unwrap().raw, buffer);
            assert_eq!(s.target, full);
            assert_eq!(stat(&link).unwrap().id, lstat(&target).unwrap().id);
            remove_link(&dir, OsStr::new("j")).unwrap();
            assert_eq!(fs::read_to_string(target.join("canary")).unwrap(), "alive");
        }
        Err(err) => {
            note(&format!(
                "this file system refuses reparse points ({err}); checked the clean-up"
            ));
            assert_eq!(err.kind(), io::ErrorKind::Unsupported, "{err}");
        }
    }
    assert_eq!(names(t.path()), ["target"]);
}

/// A system that reports a symlink made and makes nothing (Wine 8) is caught by reading
/// back; here the backend call is checked to report what the system said.
#[test]
fn symlink_reports_what_the_system_says() {
    let t = tempdir();
    let link = t.path().join("l");
    let held = Dir::hold(t.path()).unwrap();
    let request = Request {
        at: At::new(&held, OsStr::new("l"), &link),
        target: Path::new("missing"),
        given: Path::new("missing"),
        flavour: Flavour::File,
        drive: None,
    };
    match symlink(&request) {
        Ok(written) => {
            assert_eq!(written, None);
            match lstat(&link) {
                Ok(meta) => {
                    assert_eq!(meta.ty, FileType::Link);
                    assert_eq!(read_link(&link).unwrap().target, Path::new("missing"));
                    remove_link(&held, OsStr::new("l")).unwrap();
                }
                Err(err) => {
                    assert_eq!(err.kind(), io::ErrorKind::NotFound);
                    note("CreateSymbolicLinkW reported success and made nothing");
                }
            }
        }
        Err(err) => {
            note(&format!("CreateSymbolicLinkW failed: {err}"));
            assert_eq!(
                os_error_kind(&err),
                Some(crate::sys::OsError::PrivilegeNeeded),
                "{err}"
            );
        }
    }
    assert!(names(t.path()).is_empty());
}

#[test]
fn place_says_whether_junctions_can_be_made() {
    let t = tempdir();
    let place = OnVolume {
        volume: volume_of(t.path()).ok(),
        remote: None,
    };
    assert!(place.flavour_matters());
    let volume = place
        .volume
        .as_ref()
        .expect("the temporary directory's volume");
    match place.junctions() {
        Junctions::Native => assert_ne!(volume.flags & FILE_SUPPORTS_REPARSE_POINTS, 0),
        Junctions::Refused(why) => {
            assert_eq!(volume.flags & FILE_SUPPORTS_REPARSE_POINTS, 0);
            assert!(why.contains(&volume.file_system), "{why}");
        }
        Junctions::Emulated => panic!("Windows never emulates junctions"),
    }
}

/// The replacement's steps, run on files (Wine has no links): the old entry is set aside
/// through its handle, the new one renamed in without replacing, the old one deleted; and
/// with nothing in the way, the new one is just renamed in.
#[test]
fn replace_entry_puts_the_new_entry_in_place() {
    let t = tempdir();
    let (a, b) = (t.path().join("a"), t.path().join("b"));
    fs::write(&a, "new").unwrap();
    fs::write(&b, "old").unwrap();
    let dir = Dir::hold(t.path()).unwrap();
    let (a_name, b_name) = (OsStr::new("a"), OsStr::new("b"));
    replace_entry(&dir, a_name, b_name, |_| Ok(true)).unwrap();
    assert_eq!(fs::read_to_string(&b).unwrap(), "new");
    assert_eq!(names(t.path()), ["b"]);
    fs::write(&a, "newer").unwrap();
    fs::remove_file(&b).unwrap();
    replace_entry(&dir, a_name, b_name, |_| Ok(true)).unwrap();
    assert_eq!(fs::read_to_string(&b).unwrap(), "newer");
    assert_eq!(names(t.path()), ["b"]);
}

/// Promise 2 under a race: a real file that took the link's place is never replaced by
/// `--force`'s last step, and both stay as they are.
#[test]
fn rename_over_refuses_what_is_not_a_link() {
    let t = tempdir();
    let (a, b) = (t.path().join("a"), t.path().join("b"));
    fs::write(&a, "new").unwrap();
    fs::write(&b, "precious").unwrap();
    let dir = Dir::hold(t.path()).unwrap();
    let err = rename_over(&dir, OsStr::new("a"), OsStr::new("b")).unwrap_err();
    assert!(
        err.to_string().contains("replaced by something else"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&a).unwrap(), "new");
    assert_eq!(fs::read_to_string(&b).unwrap(), "precious");
    assert_eq!(names(t.path()), ["a", "b"]);
}

#[test]
fn directories_list_with_types_and_open_without_following() {
    let t = tempdir();
    fs::write(t.path().join("f"), "x").unwrap();
    fs::create_dir(t.path().join("d")).unwrap();
    let dir = Dir::open(t.path()).unwrap();
    let mut found = Vec::new();
    DirReader::new()
        .read(&dir, |name, ty, _| {
            found.push((name.to_os_string(), ty));
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        found,
        [
            ("d".into(), Some(FileType::Dir)),
            ("f".into(), Some(FileType::File))
        ]
    );
    let sub = dir.open_at(OsStr::new("d"), false).unwrap();
    assert_eq!(
        sub.meta().unwrap().id,
        lstat(&t.path().join("d")).unwrap().id
    );
    assert_eq!(
        sub.parent().unwrap().meta().unwrap().id,
        dir.meta().unwrap().id
    );
    let err = dir.open_at(OsStr::new("f"), false).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotADirectory);
    assert_eq!(
        dir.stat_at(OsStr::new("f"), false).unwrap().ty,
        FileType::File
    );
    let real: PathBuf = dir.real_path_at(OsStr::new("f")).unwrap();
    assert!(
        !real.as_os_str().to_string_lossy().starts_with(r"\\?\"),
        "{}",
        real.display()
    );
    assert_eq!(
        lstat(&real).unwrap().id,
        lstat(&t.path().join("f")).unwrap().id
    );
}

/// A listing buffer as the file system fills it: entries laid out as `layout` says, each
/// starting at a multiple of 8, chained by `NextEntryOffset`.
fn listing(layout: &ffi::DirInfoLayout, entries: &[(u32, u32, &str)]) -> Vec<u8> {
    let mut buffer = Vec::new();
    for (i, &(attributes, tag, name)) in entries.iter().enumerate() {
        let name: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let len = (layout.name + name.len()).next_multiple_of(8);
        let mut entry = vec![0u8; len];
        if i + 1 < entries.len() {
            entry[..4].copy_from_slice(&(len as u32).to_le_bytes());
        }
        entry[layout.attributes..][..4].copy_from_slice(&attributes.to_le_bytes());
        entry[layout.name_length..][..4].copy_from_slice(&(name.len() as u32).to_le_bytes());
        entry[layout.tag..][..4].copy_from_slice(&tag.to_le_bytes());
        entry[layout.name..][..name.len()].copy_from_slice(&name);
        buffer.extend(entry);
    }
    buffer
}

/// Both information classes are read field by field: names, types from the attributes, the
/// tag only where the entry is a reparse point (`EaSize` holds the size of extended
/// attributes otherwise), and `.` and `..` left out.
#[test]
fn listing_buffers_are_read_by_their_layout() {
    const DIR: u32 = FILE_ATTRIBUTE_DIRECTORY;
    const REPARSE: u32 = FILE_ATTRIBUTE_REPARSE_POINT;
    for layout in [&ffi::ID_EXTD_DIR_INFO, &ffi::ID_BOTH_DIR_INFO] {
        let buffer = listing(
            layout,
            &[
                (DIR, 0, "."),
                (DIR, 0, ".."),
                (0x20, 64, "file with EAs"),
                (DIR | REPARSE, Tag::MOUNT_POINT.0, "junction"),
                (DIR | REPARSE, Tag::CLOUD.0, "cloud folder"),
                (REPARSE, Tag::SYMLINK.0, "\u{e9}t\u{e9}"),
            ],
        );
        let mut found = Vec::new();
        let flow = dir::entries(&buffer, layout, |name, ty, _| {
            found.push((name.to_string_lossy().into_owned(), ty));
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
        assert!(flow.is_continue());
        assert_eq!(
            found,
            [
                ("file with EAs".to_string(), Some(FileType::File)),
                ("junction".to_string(), Some(FileType::Link)),
                ("cloud folder".to_string(), Some(FileType::Dir)),
                ("\u{e9}t\u{e9}".to_string(), Some(FileType::Link)),
            ]
        );
        // The visitor stops the listing.
        let mut seen = 0;
        let flow = dir::entries(&buffer, layout, |_, _, _| {
            seen += 1;
            std::ops::ControlFlow::Break(())
        })
        .unwrap();
        assert!(flow.is_break());
        assert_eq!(seen, 1);
    }
}

/// A listing that does not fit its buffer is an error, never a read out of bounds.
#[test]
fn malformed_listings_are_errors() {
    let layout = &ffi::ID_BOTH_DIR_INFO;
    let good = listing(layout, &[(0x20, 0, "a"), (0x20, 0, "b")]);
    // Cut in the second entry's name, in the first entry's fixed part, or empty.
    let second = u32::from_le_bytes(good[..4].try_into().unwrap()) as usize;
    let mut cases = vec![
        good[..second + layout.name + 1].to_vec(),
        good[..10].to_vec(),
        Vec::new(),
    ];
    // A name longer than the buffer, and one of an odd number of bytes.
    let mut long = good.clone();
    long[layout.name_length..][..4].copy_from_slice(&u32::MAX.to_le_bytes());
    cases.push(long);
    let mut odd = good.clone();
    odd[layout.name_length..][..4].copy_from_slice(&1u32.to_le_bytes());
    cases.push(odd);
    // A next entry past the end.
    let mut next = good;
    next[..4].copy_from_slice(&0xffff_fff8u32.to_le_bytes());
    cases.push(next);
    for buffer in cases {
        let err = dir::entries(&buffer, layout, |_, _, _| {
            std::ops::ControlFlow::Continue(())
        })
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }
}

fn list(reader: &mut DirReader, dir: &Dir) -> Vec<String> {
    let mut found = Vec::new();
    reader
        .read(dir, |name, _, _| {
            found.push(name.to_string_lossy().into_owned());
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    found.sort();
    found
}

/// A listing longer than one buffer is read whole, and a directory read again is read
/// from its start.
#[test]
fn long_listings_are_read_whole_and_again() {
    let t = tempdir();
    let mut want: Vec<String> = (0..600)
        .map(|i| format!("{i:04}-{}", "n".repeat(120)))
        .collect();
    for name in &want {
        fs::write(t.path().join(name), "").unwrap();
    }
    want.sort();
    let dir = Dir::open(t.path()).unwrap();
    let mut reader = DirReader::new();
    assert_eq!(list(&mut reader, &dir), want);
    assert_eq!(list(&mut reader, &dir), want);
    // A reader stopped early leaves nothing behind for the next read.
    reader
        .read(&dir, |_, _, _| std::ops::ControlFlow::Break(()))
        .unwrap();
    assert_eq!(list(&mut reader, &dir), want);
    note(&format!(
        "directories are listed with {}",
        reader.layout.class_name
    ));
}

/// Every call on an entry below a held directory finds the entry by its name relative to
/// the directory's handle (`NtCreateFile` with it as `RootDirectory`), never by the path
/// the directory keeps: given a held directory whose path names another one (a decoy laid
/// out alike), each call reads, makes, links, renames, deletes and refuses in the
/// directory held, and the decoy is never touched.
#[test]
fn entries_are_found_through_the_held_handle_not_its_path() {
    let t = tempdir();
    let (real, decoy) = (t.path().join("real"), t.path().join("decoy"));
    for (dir, only) in [(&real, "only-real"), (&decoy, "only-decoy")] {
        fs::create_dir(dir).unwrap();
        fs::create_dir(dir.join("sub")).unwrap();
        fs::write(dir.join("f"), "x").unwrap();
        fs::write(dir.join(only), "x").unwrap();
    }
    let id = |path: &Path| lstat(path).unwrap().id;
    let held = Dir::hold(&real).unwrap().with_path(decoy.clone());
    let name = OsStr::new;
    let not_found = |err: io::Error| assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");

    // Reads.
    assert_eq!(
        held.stat_at(name("f"), false).unwrap().id,
        id(&real.join("f"))
    );
    assert_eq!(
        held.usage_at(name("only-real")).unwrap().id,
        id(&real.join("only-real"))
    );
    not_found(held.stat_at(name("only-decoy"), false).unwrap_err());
    not_found(held.read_link_at(name("only-decoy")).unwrap_err());
    let err = held.read_link_at(name("only-real")).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(ERROR_NOT_A_REPARSE_POINT as i32));
    assert_eq!(
        held.hold_at(name("sub")).unwrap().meta().unwrap().id,
        id(&real.join("sub"))
    );
    assert!(
        held.hold_at(name("f")).is_err(),
        "a file is no directory to hold"
    );

    // Changes: a directory, a hard link, a rename onto a free name, deletes, refusals.
    held.make_dir_at(name("new")).unwrap();
    assert!(real.join("new").is_dir());
    held.hard_link_at(name("f2"), &held, name("f")).unwrap();
    assert_eq!(id(&real.join("f2")), id(&real.join("f")));
    rename_over(&held, name("f2"), name("g")).unwrap();
    assert_eq!(id(&real.join("g")), id(&real.join("f")));
    held.remove_name_at(name("g")).unwrap();
    let err = held.remove_link_at(name("only-real"), &real).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(ERROR_NOT_A_REPARSE_POINT as i32));
    not_found(held.remove_link_at(name("only-decoy"), &decoy).unwrap_err());
    let target = crate::path::absolute(&real.join("sub")).unwrap();
    let point = MountPoint::junction(wide::units(target.as_os_str())).unwrap();
    let buffer = ReparsePoint::from(point).encode().unwrap();
    match make_junction(&held, name("j"), &buffer) {
        Ok(()) => assert_eq!(lstat(&real.join("j")).unwrap().ty, FileType::Link),
        Err(err) => assert_eq!(err.kind(), io::ErrorKind::Unsupported, "{err}"),
    }
    drop(held);

    assert_eq!(names(&decoy), ["f", "only-decoy", "sub"]);
    let made = names(&real);
    assert!(
        made == ["f", "new", "only-real", "sub"] || made == ["f", "j", "new", "only-real", "sub"],
        "{made:?}"
    );
    assert_eq!(lstat(&real.join("f")).unwrap().nlink, 1);
}

/// A directory knot holds cannot be renamed or deleted, so the paths below it stay
/// true; what is inside it can still change.
#[test]
fn an_open_directory_stays_where_it_is() {
    let t = tempdir();
    let (a, moved, empty) = (
        t.path().join("a"),
        t.path().join("moved"),
        t.path().join("e"),
    );
    fs::create_dir(&a).unwrap();
    fs::create_dir(&empty).unwrap();
    fs::write(a.join("f"), "x").unwrap();
    let dir = Dir::open(&a).unwrap();
    let below = Dir::open(t.path()).unwrap();
    let held = [
        below.open_at(OsStr::new("e"), false).unwrap(),
        Dir::open(&empty).unwrap(),
    ];
    assert!(fs::rename(&a, &moved).is_err());
    assert!(fs::remove_dir(&empty).is_err());
    assert!(a.is_dir() && empty.is_dir());
    fs::rename(a.join("f"), a.join("g")).unwrap();
    assert_eq!(list(&mut DirReader::new(), &dir), ["g"]);
    drop((dir, held));
    fs::rename(&a, &moved).unwrap();
    fs::remove_dir(&empty).unwrap();
}

/// `knot apply` holds the directories on the way to its links (`Dir::hold`,
/// `Dir::hold_at`): held, one cannot be renamed or replaced, so the path apply makes a
/// link by still leads through it; a directory made by `make_dir_at` is held the same way;
/// a file is no directory to hold.
#[test]
fn a_held_directory_cannot_be_renamed_away() {
    let t = tempdir();
    let root = Dir::hold(t.path()).unwrap();
    root.make_dir_at(OsStr::new("a")).unwrap();
    let a = root.hold_at(OsStr::new("a")).unwrap();
    assert!(
        root.join(OsStr::new("a")).ends_with("a"),
        "named by its path"
    );
    let moved = t.path().join("moved");
    assert!(fs::rename(t.path().join("a"), &moved).is_err());
    assert!(fs::remove_dir(t.path().join("a")).is_err());
    assert!(root.make_dir_at(OsStr::new("a")).unwrap_err().kind() == io::ErrorKind::AlreadyExists);
    fs::write(t.path().join("f"), "x").unwrap();
    assert!(root.hold_at(OsStr::new("f")).is_err());
    drop(a);
    fs::rename(t.path().join("a"), &moved).unwrap();
}

// A file copied through held directories (`copy.rs`): under Wine as on Windows.

/// `Dir::hold` of `path`, to copy from and to.
fn held(path: &Path) -> Dir {
    Dir::hold(path).unwrap()
}

/// The data (over one read's worth), the read-only and hidden attributes and both times
/// come over, through handles; the copy's name is made new.
#[test]
fn copy_file_at_copies_data_attributes_and_times() {
    use std::os::windows::fs::MetadataExt as _;
    let t = tempdir();
    let (from, to) = (t.path().join("from"), t.path().join("to"));
    fs::create_dir(&from).unwrap();
    fs::create_dir(&to).unwrap();
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    fs::write(from.join("f"), &data).unwrap();
    let times = fs::FileTimes::new()
        .set_accessed(std::time::UNIX_EPOCH + std::time::Duration::new(1_000_000, 700))
        .set_modified(std::time::UNIX_EPOCH + std::time::Duration::new(2_000_000, 123_456_700));
    fs::File::options()
        .write(true)
        .open(from.join("f"))
        .unwrap()
        .set_times(times)
        .unwrap();
    let mut permissions = fs::metadata(from.join("f")).unwrap().permissions();
    permissions.set_readonly(true);
    fs::set_permissions(from.join("f"), permissions).unwrap();
    let source = fs::metadata(from.join("f")).unwrap();
    assert_ne!(source.file_attributes() & FILE_ATTRIBUTE_READONLY, 0);
    let copied = held(&from)
        .copy_file_at(OsStr::new("f"), &held(&to), OsStr::new("g"), false)
        .unwrap();
    assert_eq!(copied.bytes, data.len() as u64);
    assert_eq!(copied.data, crate::sys::FileData::Copied { sparse: false });
    let copy = fs::metadata(to.join("g")).unwrap();
    assert_eq!(copy.modified().unwrap(), source.modified().unwrap());
    assert_eq!(
        copy.file_attributes() & (FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_HIDDEN),
        source.file_attributes() & (FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_HIDDEN)
    );
    assert_eq!(fs::read(to.join("g")).unwrap(), data);
    // The attributes `attrs_at` reads are what the copy was given.
    let (a, b) = (
        held(&from).attrs_at(OsStr::new("f")).unwrap(),
        held(&to).attrs_at(OsStr::new("g")).unwrap(),
    );
    assert_eq!((a.mode, a.mtime), (b.mode, b.mtime));
    assert_eq!(a.mtime, (2_000_000, 123_456_700));
}

/// The data behind a reparse point is copied only from a file that still has the tag it
/// was found with: a plain file at the name (the entry replaced since the walk looked at
/// it) is refused before anything is made in the copy. (Wine 8 has no reparse points: the
/// copy of the data itself runs only on Windows.)
#[test]
fn copy_reparse_data_at_refuses_a_file_without_its_tag() {
    let t = tempdir();
    let (from, to) = (t.path().join("from"), t.path().join("to"));
    fs::create_dir(&from).unwrap();
    fs::create_dir(&to).unwrap();
    fs::write(from.join("f"), "plain").unwrap();
    let (from_dir, to_dir) = (held(&from), held(&to));
    let replaced = |err: &io::Error| matches!(crate::sys::error::of(err), Some(SysError::Replaced));
    let err = from_dir
        .copy_reparse_data_at(OsStr::new("f"), Tag::WOF, &to_dir, OsStr::new("f"))
        .unwrap_err();
    assert!(replaced(&err), "{err}");
    let err = from_dir
        .reparse_data_size_at(OsStr::new("f"), Tag::CLOUD)
        .unwrap_err();
    assert!(replaced(&err), "{err}");
    assert_eq!(fs::read_dir(&to).unwrap().count(), 0);
}

/// Nothing standing at the copy's name is written to (a file, a directory), and what is
/// no plain file is not copied (a directory); an empty file is copied.
#[test]
fn copy_file_at_never_replaces_and_copies_only_files() {
    let t = tempdir();
    let (from, to) = (t.path().join("from"), t.path().join("to"));
    fs::create_dir(&from).unwrap();
    fs::create_dir(&to).unwrap();
    fs::write(from.join("f"), "new").unwrap();
    fs::write(from.join("empty"), "").unwrap();
    fs::create_dir(from.join("d")).unwrap();
    fs::write(to.join("there"), "kept").unwrap();
    fs::create_dir(to.join("dir")).unwrap();
    let (from_dir, to_dir) = (held(&from), held(&to));
    for name in ["there", "dir"] {
        let err = from_dir
            .copy_file_at(OsStr::new("f"), &to_dir, OsStr::new(name), false)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{name}: {err}");
    }
    let err = from_dir
        .copy_file_at(OsStr::new("d"), &to_dir, OsStr::new("new"), false)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    assert_eq!(fs::read_to_string(to.join("there")).unwrap(), "kept");
    assert!(!to.join("new").exists());
    let copied = from_dir
        .copy_file_at(OsStr::new("empty"), &to_dir, OsStr::new("empty"), false)
        .unwrap();
    assert_eq!(copied.bytes, 0);
    assert_eq!(fs::read(to.join("empty")).unwrap(), b"");
    // The copies refused were staged under hidden names, and taken back.
    let mut names: Vec<_> = fs::read_dir(&to)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["dir", "empty", "there"]);
}

/// A copy is written under a hidden name and renamed to its own once whole: a reader
/// looking at the copy's directory while copies are made (COUNT rounds of a file of
/// several reads' worth) sees each copy's own name only with all its bytes, and meets a
/// copy under its hidden name at least once (so it did look while one was being written).
/// Written straight to its own name, a copy is seen short.
#[test]
fn a_copy_is_seen_under_its_own_name_only_whole() {
    use std::sync::atomic::{AtomicBool, Ordering};
    const COUNT: usize = 40;
    const SIZE: usize = 8 << 20;
    let t = tempdir();
    let (from, to) = (t.path().join("from"), t.path().join("to"));
    fs::create_dir(&from).unwrap();
    fs::create_dir(&to).unwrap();
    fs::write(from.join("f"), vec![5u8; SIZE]).unwrap();
    let done = AtomicBool::new(false);
    let (staged_seen, short) = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            let (mut staged_seen, mut short) = (0usize, Vec::new());
            while !done.load(Ordering::Relaxed) {
                let Ok(entries) = fs::read_dir(&to) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if name.contains(".knot~") {
                        staged_seen += 1;
                    } else if let Ok(meta) = fs::metadata(to.join(&name))
                        && meta.len() != SIZE as u64
                    {
                        short.push((name, meta.len()));
                    }
                }
            }
            (staged_seen, short)
        });
        let (from_dir, to_dir) = (held(&from), held(&to));
        for round in 0..COUNT {
            let name = format!("c{round}");
            from_dir
                .copy_file_at(OsStr::new("f"), &to_dir, OsStr::new(&name), false)
                .unwrap();
        }
        done.store(true, Ordering::Relaxed);
        watcher.join().unwrap()
    });
    assert!(short.is_empty(), "copies seen short: {short:?}");
    assert!(
        staged_seen > 0,
        "no copy was met under its hidden name in {COUNT} rounds"
    );
    assert_eq!(fs::read_dir(&to).unwrap().count(), COUNT);
}

/// A copy's directory is made new and held (it cannot be renamed away while held), an
/// empty one is held by `hold_empty_dir_at` and a full one is not, and its attributes and
/// times are given only where it is still the directory made.
#[test]
fn copy_directories_are_made_held_and_given_their_times() {
    let t = tempdir();
    fs::create_dir(t.path().join("full")).unwrap();
    fs::write(t.path().join("full").join("f"), "x").unwrap();
    fs::create_dir(t.path().join("empty")).unwrap();
    let dir = held(t.path());
    assert!(dir.hold_empty_dir_at(OsStr::new("full")).unwrap().is_none());
    assert!(
        dir.hold_empty_dir_at(OsStr::new("empty"))
            .unwrap()
            .is_some()
    );
    let (made, id) = dir.make_copy_dir_at(OsStr::new("d")).unwrap();
    assert_eq!(made.meta().unwrap().id, id);
    assert!(t.path().join("d").is_dir());
    let err = dir.make_copy_dir_at(OsStr::new("d")).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    assert!(fs::rename(t.path().join("d"), t.path().join("moved")).is_err());
    let attrs = crate::sys::Attrs {
        mode: 0,
        uid: 0,
        gid: 0,
        atime: (1_000_000, 0),
        mtime: (3_000_000, 500),
        ctime: (3_000_000, 500),
    };
    // Another directory's identity: left as it is.
    let other = dir.hold_at(OsStr::new("empty")).unwrap().meta().unwrap().id;
    let err = dir
        .give_dir_attrs_at(OsStr::new("d"), &attrs, other)
        .unwrap_err();
    assert!(
        matches!(
            crate::sys::error::of(&err),
            Some(crate::sys::error::Error::Replaced)
        ),
        "{err}"
    );
    dir.give_dir_attrs_at(OsStr::new("d"), &attrs, id).unwrap();
    drop(made);
    let modified = fs::metadata(t.path().join("d"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        modified,
        std::time::UNIX_EPOCH + std::time::Duration::new(3_000_000, 500)
    );
}

/// A sparse file's copy is sparse too and has the same bytes, where the file system keeps
/// holes (NTFS, ReFS); where it does not say a file is sparse, this says so and checks
/// the plain copy.
#[test]
fn a_sparse_file_is_copied_with_its_holes_where_the_file_system_keeps_them() {
    use std::os::windows::fs::{FileExt as _, MetadataExt as _};
    let t = tempdir();
    let (from, to) = (t.path().join("from"), t.path().join("to"));
    fs::create_dir(&from).unwrap();
    fs::create_dir(&to).unwrap();
    let file = fs::File::create(from.join("s")).unwrap();
    let dir = held(&from);
    let handle = dir
        .entry(OsStr::new("s"), FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES)
        .unwrap();
    let made_sparse = copy::set_sparse(&handle);
    drop(handle);
    file.set_len(32 << 20).unwrap();
    file.seek_write(b"start", 0).unwrap();
    file.seek_write(b"middle", 16 << 20).unwrap();
    drop(file);
    let sparse =
        fs::metadata(from.join("s")).unwrap().file_attributes() & FILE_ATTRIBUTE_SPARSE_FILE != 0;
    let copied = dir
        .copy_file_at(OsStr::new("s"), &held(&to), OsStr::new("s"), false)
        .unwrap();
    assert_eq!(copied.bytes, 32 << 20);
    assert_eq!(
        fs::read(to.join("s")).unwrap(),
        fs::read(from.join("s")).unwrap()
    );
    if sparse {
        assert_eq!(copied.data, crate::sys::FileData::Copied { sparse: true });
        let attributes = fs::metadata(to.join("s")).unwrap().file_attributes();
        assert_ne!(attributes & FILE_ATTRIBUTE_SPARSE_FILE, 0);
    } else {
        note(&format!(
            "the file system made no sparse file ({made_sparse:?}): the plain copy was checked"
        ));
        assert_eq!(copied.data, crate::sys::FileData::Copied { sparse: false });
    }
}

/// The allocated ranges of a file with more ranges than one query returns (256) are each
/// copied, and the holes between them read back as zeros; where the system cannot say
/// where the ranges are, `holes` says so and copies nothing.
#[test]
fn holes_copies_every_allocated_range() {
    use std::os::windows::fs::FileExt as _;
    let t = tempdir();
    let file = fs::File::create(t.path().join("s")).unwrap();
    let size: u64 = 300 << 20;
    file.set_len(size).unwrap();
    for i in 0..300u64 {
        file.seek_write(format!("range {i}").as_bytes(), (i << 20) + 4096)
            .unwrap();
    }
    drop(file);
    fs::File::create(t.path().join("c")).unwrap();
    let dir = held(t.path());
    let source = dir.entry(OsStr::new("s"), FILE_READ_DATA).unwrap();
    let copy = dir
        .entry(OsStr::new("c"), FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES)
        .unwrap();
    let copied = copy::holes(&source, &copy, size).unwrap();
    drop((source, copy));
    if !copied {
        note("no allocated ranges to be had here: holes copied nothing");
        return;
    }
    let (a, b) = (
        fs::read(t.path().join("s")).unwrap(),
        fs::read(t.path().join("c")).unwrap(),
    );
    assert_eq!(b.len(), a.len());
    assert!(a == b, "the copy's bytes differ from the original's");
}

/// ERROR_SYMLINK_CLASS_DISABLED (Windows' SymlinkEvaluation policy) and
/// ERROR_NOT_A_REPARSE_POINT have kinds of their own: the first its own message (the CLI
/// adds the `fsutil` fix), the second what `inspect` retries on.
#[test]
fn symlink_evaluation_and_not_a_reparse_point_have_their_own_kinds() {
    use crate::error::{Error, ErrorKind, Op};
    use crate::sys::OsError;
    let err = os_error(ERROR_SYMLINK_CLASS_DISABLED);
    assert_eq!(os_error_kind(&err), Some(OsError::SymlinkEvaluation));
    let err = Error::io(Op::Inspect, Path::new(r"Z:\share\l"), err);
    assert_eq!(*err.kind(), ErrorKind::SymlinkEvaluation);
    assert!(
        err.to_string().ends_with(
            "Windows' SymlinkEvaluation policy does not let a symbolic link met through a \
             network share be followed here (ERROR_SYMLINK_CLASS_DISABLED)"
        ),
        "{err}"
    );
    let err = os_error(ERROR_NOT_A_REPARSE_POINT);
    assert_eq!(os_error_kind(&err), Some(OsError::NotAReparsePoint));
    assert_eq!(
        *Error::io(Op::Inspect, Path::new("l"), err).kind(),
        ErrorKind::Io
    );
    // An entry this user may not open is read from its listing, as std's `metadata` does.
    assert!(listed_instead(&os_error(ERROR_ACCESS_DENIED)));
    assert!(listed_instead(&os_error(ERROR_SHARING_VIOLATION)));
    assert!(!listed_instead(&os_error(ERROR_FILE_NOT_FOUND)));
}

/// The buffer of a junction to `target`, as `knot junction` would write it.
fn buffer_for(target: &str) -> io::Result<Vec<u8>> {
    let t = tempdir();
    let held = Dir::hold(t.path()).unwrap();
    let link = t.path().join("j");
    junction_buffer(&Request {
        at: At::new(&held, OsStr::new("j"), &link),
        target: Path::new(target),
        given: Path::new(target),
        flavour: Flavour::Dir,
        drive: None,
    })
}

/// A junction target that names a volume's device (`\\?\C:`) or a volume
/// (`\\?\Volume{GUID}\`: a volume mount point, the mount manager's) is refused with the
/// reason; the volume's root directory is not.
#[test]
fn junction_targets_that_name_a_volume_are_refused() {
    for target in [r"\\?\C:", r"\??\C:"] {
        let err = buffer_for(target).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Unsupported, "{target}: {err}");
        assert!(
            err.to_string()
                .contains("names the volume's device, not its root directory"),
            "{err}"
        );
    }
    let err = buffer_for(r"\\?\Volume{12345678-9abc-def0-0123-456789abcdef}\").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::Unsupported, "{err}");
    assert!(
        err.to_string().contains("is a volume mount point") && err.to_string().contains("mountvol"),
        "{err}"
    );
    let buffer = buffer_for(r"C:\").unwrap();
    let ReparsePoint::MountPoint(point) = knot_reparse::decode(&buffer).unwrap() else {
        panic!("not a mount point");
    };
    assert_eq!(
        String::from_utf16(point.substitute_name.as_units()).unwrap(),
        r"\??\C:\"
    );
}

/// A junction target on a subst drive is stored as the folder the drive maps: other logon
/// sessions do not have the drive.
#[test]
fn junction_targets_on_a_subst_drive_are_stored_as_their_folder() {
    use windows_sys::Win32::Storage::FileSystem::{DDD_REMOVE_DEFINITION, DefineDosDeviceW};
    let t = tempdir();
    let real = crate::path::absolute(t.path()).unwrap();
    let Some(letter) = ('P'..='Y')
        .rev()
        .find(|l| !Path::new(&format!(r"{l}:\")).exists())
    else {
        note("skipped: no free drive letter");
        return;
    };
    let device: Vec<u16> = format!("{letter}:\0").encode_utf16().collect();
    let folder = wide::terminated(wide::units(real.as_os_str())).unwrap();
    // SAFETY: both names are NUL-terminated.
    if unsafe { DefineDosDeviceW(0, device.as_ptr(), folder.as_ptr()) } == 0 {
        let err = io::Error::last_os_error();
        crate::fixture::wine_lacks(
            "junction_targets_on_a_subst_drive_are_stored_as_their_folder",
            &format!("no subst drive here ({err})"),
        );
        return;
    }
    // What the system says the drive maps to, asked here apart from the code under test.
    let mut mapped = vec![0u16; 1024];
    // SAFETY: `device` is NUL-terminated; `mapped` is writable for its length.
    let n = unsafe { QueryDosDeviceW(device.as_ptr(), mapped.as_mut_ptr(), mapped.len() as u32) };
    let shown = wide::strip_prefix(&mapped[..n as usize], r"\??\").is_some();
    let stored = without_subst(&wide::units(OsStr::new(&format!(r"{letter}:\sub\x"))));
    let verbatim = without_subst(&wide::units(OsStr::new(&format!(r"\\?\{letter}:\sub"))));
    // SAFETY: as above; the target may be null with DDD_REMOVE_DEFINITION.
    unsafe { DefineDosDeviceW(DDD_REMOVE_DEFINITION, device.as_ptr(), std::ptr::null()) };
    if !shown {
        crate::fixture::wine_lacks(
            "junction_targets_on_a_subst_drive_are_stored_as_their_folder",
            "QueryDosDeviceW does not show the subst drive's folder",
        );
        return;
    }
    let stored = String::from_utf16(&stored).unwrap();
    let want = real.join(r"sub\x");
    assert_eq!(Path::new(&stored), want);
    let mut want_verbatim = std::ffi::OsString::from(r"\\?\");
    want_verbatim.push(real.join("sub"));
    assert_eq!(
        String::from_utf16(&verbatim).unwrap(),
        want_verbatim.to_str().unwrap()
    );
    // A drive that is no subst drive is kept.
    let kept = without_subst(&wide::units(OsStr::new(r"C:\x")));
    assert_eq!(String::from_utf16(&kept).unwrap(), r"C:\x");
}
