//! `knot::copy` of special files: FIFOs and devices made anew, as `cp -a` makes them;
//! sockets reported and left out.

use std::fs;
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _, PermissionsExt as _};
use std::path::Path;
use std::sync::Mutex;

use knot::copy::{Action, CopyOptions, Item, Summary};
use knot::{ChangeMode, Kind, Special};

use crate::fixture::Dir;

fn run(source: &Path, copy: &Path, options: CopyOptions) -> (Summary, Vec<Item>, Vec<knot::Error>) {
    let items = Mutex::new(Vec::new());
    let errors = Mutex::new(Vec::new());
    let summary = knot::copy(source, copy, &options, |item| match item {
        Ok(item) => items.lock().unwrap().push(item),
        Err(err) => errors.lock().unwrap().push(err),
    })
    .unwrap();
    (
        summary,
        items.into_inner().unwrap(),
        errors.into_inner().unwrap(),
    )
}

fn item<'a>(items: &'a [Item], path: &Path) -> &'a Item {
    items
        .iter()
        .find(|item| item.link.path == path)
        .unwrap_or_else(|| panic!("no item for {}: {items:#?}", path.display()))
}

/// A FIFO is made a FIFO in the copy, with its permissions and times; a socket is
/// reported and left out; the rest of the copy goes on. Any user.
#[test]
fn fifos_are_copied_and_sockets_left_out() {
    let dir = Dir::new();
    let src = dir.mkdir("src");
    dir.mkdir("src/sub");
    let fifo = src.join("sub/pipe");
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
    )
    .unwrap();
    fs::set_permissions(&fifo, fs::Permissions::from_mode(0o640)).unwrap();
    let old = fs::FileTimes::new()
        .set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000));
    fs::File::options()
        .read(true)
        .write(true)
        .open(&fifo)
        .unwrap()
        .set_times(old)
        .unwrap();
    let socket = src.join("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    dir.file("src/file", "data");

    let dst = dir.join("dst");
    let dry = CopyOptions {
        mode: ChangeMode::DryRun,
        ..CopyOptions::default()
    };
    let (summary, _, errors) = run(&src, &dst, dry);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!((summary.special, summary.skipped), (1, 1), "{summary:?}");
    assert!(!dst.exists());

    let (summary, items, errors) = run(&src, &dst, CopyOptions::default());
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!((summary.special, summary.skipped, summary.files), (1, 1, 1));
    let meta = fs::symlink_metadata(dst.join("sub/pipe")).unwrap();
    assert!(meta.file_type().is_fifo(), "{meta:?}");
    assert_eq!(meta.mode() & 0o7777, 0o640);
    assert_eq!(meta.mtime(), 1_000_000_000);
    assert!(!dst.join("sock").exists());
    assert_eq!(fs::read_to_string(dst.join("file")).unwrap(), "data");

    let pipe = item(&items, &fifo);
    assert_eq!(
        (pipe.link.kind, pipe.link.special, pipe.action),
        (Kind::Special, Some(Special::Fifo), Action::Copied)
    );
    let sock = item(&items, &socket);
    assert_eq!(
        (sock.link.special, sock.action),
        (Some(Special::Socket), Action::Skipped)
    );
}

/// A device file is made with the same device number, as root (`mknod` needs it); for
/// anyone else it is reported with the reason, and the rest is copied.
#[test]
fn devices_are_copied_as_root() {
    let dir = Dir::new();
    let src = dir.mkdir("src");
    dir.file("src/file", "data");
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipping devices_are_copied_as_root: not root (making a device needs it)");
        return;
    }
    // The device numbers of /dev/null.
    let null = src.join("null");
    let dev = rustix::fs::makedev(1, 3);
    let kind = rustix::fs::FileType::CharacterDevice;
    let mode = rustix::fs::Mode::from_raw_mode(0o604);
    rustix::fs::mknodat(rustix::fs::CWD, &null, kind, mode, dev).unwrap();
    fs::set_permissions(&null, fs::Permissions::from_mode(0o604)).unwrap();
    let dst = dir.join("dst");
    let (summary, items, errors) = run(&src, &dst, CopyOptions::default());
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(summary.special, 1);
    let meta = fs::symlink_metadata(dst.join("null")).unwrap();
    assert!(meta.file_type().is_char_device(), "{meta:?}");
    assert_eq!(meta.rdev(), fs::symlink_metadata(&null).unwrap().rdev());
    assert_eq!(meta.mode() & 0o7777, 0o604);
    assert_eq!(item(&items, &null).link.special, Some(Special::CharDevice));
    assert_eq!(fs::read_to_string(dst.join("file")).unwrap(), "data");
}

/// The names below `root`, sorted, not following links.
fn names_below(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                todo.push(entry.path());
            }
            out.push(entry.path());
        }
    }
    out.sort();
    out
}

/// DST swapped for a link to another directory while FIFOs are being made in it: every
/// FIFO is made through the directories of DST held open, so none lands outside and
/// nothing outside changes mode. Rounds are counted, not timed, and at least one must have
/// swapped DST while the copy ran.
#[test]
fn fifos_are_never_made_through_a_swapped_destination() {
    use std::sync::atomic::{AtomicBool, Ordering};
    const ROUNDS: usize = 200;
    let dir = Dir::new();
    let src = dir.mkdir("src");
    let private = rustix::fs::Mode::from_raw_mode(0o666);
    for d in 0..20 {
        dir.mkdir(&format!("src/d{d}"));
        rustix::fs::mkfifoat(rustix::fs::CWD, src.join(format!("p{d}")), private).unwrap();
        rustix::fs::mkfifoat(rustix::fs::CWD, src.join(format!("d{d}/p")), private).unwrap();
    }
    let outside = dir.mkdir("outside");
    dir.mkdir("outside/d0");
    fs::set_permissions(outside.join("d0"), fs::Permissions::from_mode(0o700)).unwrap();
    let before = names_below(&outside);
    let mode = |p: &Path| fs::symlink_metadata(p).unwrap().mode();
    let mode_before = mode(&outside.join("d0"));
    let dst = dir.join("dst");
    let mut swapped = 0;
    for round in 0..ROUNDS {
        let aside = dir.join(format!("aside{round}"));
        let done = AtomicBool::new(false);
        let hit = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    if fs::rename(&dst, &aside).is_ok() {
                        std::os::unix::fs::symlink(&outside, &dst).unwrap();
                        if !done.load(Ordering::Relaxed) {
                            hit.store(true, Ordering::Relaxed);
                        }
                        return;
                    }
                    std::hint::spin_loop();
                }
            });
            let options = CopyOptions {
                threads: 2,
                ..CopyOptions::default()
            };
            let _ = knot::copy(&src, &dst, &options, |_| {});
            done.store(true, Ordering::Relaxed);
        });
        if hit.load(Ordering::Relaxed) {
            swapped += 1;
        }
        assert_eq!(names_below(&outside), before, "round {round}");
        assert_eq!(mode(&outside.join("d0")), mode_before, "round {round}");
        match fs::symlink_metadata(&dst) {
            Ok(meta) if meta.is_dir() => fs::remove_dir_all(&dst).unwrap(),
            Ok(_) => fs::remove_file(&dst).unwrap(),
            Err(_) => {}
        }
        if aside.exists() {
            fs::remove_dir_all(&aside).unwrap();
        }
        if swapped >= 10 {
            break;
        }
    }
    assert!(swapped > 0, "no round swapped DST while the copy ran");
}
