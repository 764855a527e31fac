//! The safety promises under races (DESIGN.md promises 1, 2 and 9), on a native file system
//! and on an NTFS volume mounted with ntfs-3g, a FUSE file system without `renameat2`'s
//! flags.
//!
//! Each round lets a racer rename a regular file onto the link's name at some moment while
//! knot removes or replaces the link. Whenever the rename lands, the file must survive, at
//! the link's name, with nothing else left in the directory: knot may remove or replace
//! only a link. The outcome is checked every round, so the tests cannot pass or fail by
//! how the threads were scheduled; the racer's delays only spread the renames over
//! knot's work, so that every window is hit in some rounds. Work is bounded by counts.
//!
//! The ntfs-3g tests need root, /dev/fuse and the ntfs-3g package; without them they say
//! why and pass, and with `KNOT_REQUIRE_NTFS3G=1` (as CI sets) they fail instead.

use std::fs;
use std::path::Path;
use std::sync::{Arc, Barrier};

use knot::{
    ChangeMode, ConvertOptions, ConvertTo, CreateOptions, ErrorKind, Flavour, LinkType, NativeDirs,
    Replace, RetargetOptions, convert, create, remove, retarget,
};

use crate::fixture::ntfs3g::volume;
use crate::fixture::{Dir, names};

/// The extended attribute through which ntfs-3g reads and writes a reparse point.
const REPARSE: &str = "system.ntfs_reparse_data";

/// Rounds per test: enough for the racer's rename to land in every step of knot's work.
const ROUNDS: u64 = 300;
/// More for `--force` without `renameat2`'s flags, where the window a careless
/// implementation leaves (a check, then a `rename` that overwrites) is two calls wide.
const MANY_ROUNDS: u64 = 1000;

/// A small deterministic generator for the racer's delays (xorshift).
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// `rounds` rounds of: make a link `p` in `dir` (with `link`), then run `act` on it while
/// a racer renames a file with precious contents onto `p` (after `act`, in quiet rounds).
/// After each round the file must be at `p` and the directory must hold nothing else but
/// `keep` and the test's own `removed`. Returns how many rounds knot did its work, refused (the file came first), and
/// found the file while it worked.
fn race(
    dir: &Path,
    rounds: u64,
    keep: &[&str],
    link: impl Fn(&Path, u64),
    act: impl Fn(&Path) -> Result<(), knot::Error>,
) -> (u64, u64, u64) {
    let p = dir.join("p");
    let file = dir.join("f");
    // Where the test puts what it is done with: a name removed on a FUSE file system while
    // its file is still open (a copy of the descriptor held by a forked child, say) is
    // only hidden (`.fuse_hidden…`) until the last close, and would read as left behind.
    let removed = dir.join("removed");
    fs::create_dir(&removed).unwrap();
    let barrier = Arc::new(Barrier::new(2));
    // The racer's delays span about as long as knot's work takes (the quickest of a few
    // tries): that spreads the renames over every step of it.
    let mut quickest = std::time::Duration::MAX;
    for round in 0..5 {
        link(&p, round);
        let started = std::time::Instant::now();
        act(&p).unwrap();
        quickest = quickest.min(started.elapsed());
        let _ = fs::rename(&p, removed.join(format!("try {round}")));
    }
    let spins = calibrate(quickest);
    let racer = {
        let (p, file, barrier) = (p.clone(), file.clone(), Arc::clone(&barrier));
        std::thread::spawn(move || {
            let mut seed = 0x9e37_79b9_7f4a_7c15;
            for round in 0..rounds {
                fs::write(&file, format!("precious {round}")).unwrap();
                barrier.wait();
                if !quiet(round) {
                    for _ in 0..next(&mut seed) % spins {
                        std::hint::spin_loop();
                    }
                    fs::rename(&file, &p).unwrap();
                }
                barrier.wait();
                if quiet(round) {
                    fs::rename(&file, &p).unwrap();
                }
                barrier.wait();
                barrier.wait();
            }
        })
    };
    // Processes started all along, as other test threads and programs do: each child holds
    // copies of every descriptor of this process, knot's among them, until its `exec`, so
    // that on a FUSE file system a file knot made or set aside can still be open when knot
    // removes its name.
    let spawning = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let spawner = {
        let spawning = Arc::clone(&spawning);
        std::thread::spawn(move || {
            let mut spawned = 0u64;
            while spawning.load(std::sync::atomic::Ordering::Relaxed) {
                std::process::Command::new("true").status().unwrap();
                spawned += 1;
            }
            spawned
        })
    };
    let mut expected: Vec<String> = keep.iter().map(|s| (*s).to_owned()).collect();
    expected.push("p".into());
    expected.push("removed".into());
    expected.sort();
    let (mut done, mut refused, mut raced) = (0, 0, 0);
    for round in 0..rounds {
        link(&p, round);
        barrier.wait();
        match act(&p) {
            Ok(()) => done += 1,
            // Nothing raced: knot must have done its work.
            Err(err) if quiet(round) => panic!("round {round}, with no race: {err}"),
            // The file came first: refused, as a file at the name always is.
            Err(err)
                if matches!(
                    err.kind(),
                    ErrorKind::NotALink { .. }
                        | ErrorKind::WouldReplaceReal { .. }
                        | ErrorKind::NotForeignLink { .. }
                ) =>
            {
                refused += 1;
            }
            // The file came while knot worked: found, and left alone; or the racer's rename
            // took the link away first (ntfs-3g's rename is not one step).
            // Or reading the link raced the file onto its name: `readlink` of what is a
            // file by then says EINVAL (ntfs-3g); nothing was changed.
            Err(err)
                if err.to_string().contains("replaced by something else")
                    || err.io_error().is_some_and(|e| e.raw_os_error() == Some(22))
                    || err
                        .io_error()
                        .is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound) =>
            {
                raced += 1;
            }
            // A retarget in place (ntfs-3g) reads the link back by its name after the
            // change, step by step (what it is, what it holds, where it leads): the file
            // can take the name between any two steps (ntfs-3g's rename removes the old
            // name first), after knot was done with the link. Whether the file came
            // through intact is checked below, whatever the read-back said.
            Err(err) if matches!(err.kind(), ErrorKind::ReadBack { .. }) => {
                raced += 1;
            }
            Err(err) => panic!("round {round}: {err}"),
        }
        barrier.wait();
        barrier.wait();
        assert_eq!(
            fs::read_to_string(&p)
                .unwrap_or_else(|e| panic!("round {round}: the file is lost: {e}")),
            format!("precious {round}"),
            "round {round}"
        );
        // A `.fuse_hidden…` name is FUSE's, for a removed file that is still open: the
        // racer's rename over a file read a moment before (by knot, judging it) hides that
        // file until FUSE gets the release of the last descriptor. It must then go, so it
        // is looked for again, a bounded number of times; a name of knot's never goes.
        let mut left = names(dir);
        for _ in 0..400 {
            if !left.iter().any(|name| name.starts_with(".fuse_hidden")) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
            left = names(dir);
        }
        assert_eq!(left, expected, "round {round}: something was left behind");
        fs::rename(&p, removed.join(round.to_string())).unwrap();
        barrier.wait();
    }
    racer.join().unwrap();
    spawning.store(false, std::sync::atomic::Ordering::Relaxed);
    let spawned = spawner.join().unwrap();
    // What the rounds met, for the record; each outcome was checked above.
    eprintln!(
        "{rounds} rounds: {done} done, {refused} refused, {raced} found the race; \
         {spawned} processes started meanwhile"
    );
    (done, refused, raced)
}

/// Every tenth round the racer waits until knot is done, so that knot must succeed: a
/// knot that refused everything would pass the other rounds.
fn quiet(round: u64) -> bool {
    round % 10 == 9
}

/// How many spins take about twice as long as `work`.
fn calibrate(work: std::time::Duration) -> u64 {
    let started = std::time::Instant::now();
    for _ in 0..100_000 {
        std::hint::spin_loop();
    }
    let per = started.elapsed().as_nanos().max(1) / 100_000;
    u64::try_from(2 * work.as_nanos() / per.max(1))
        .unwrap_or(u64::MAX)
        .max(16)
}

fn options(replace: Replace, flavour: Option<Flavour>) -> CreateOptions {
    CreateOptions {
        replace,
        flavour,
        ..CreateOptions::default()
    }
}

/// A symlink to the file `t` in even rounds, a junction to the directory `d` in odd ones.
fn make_link(p: &Path, round: u64) {
    let dir = p.parent().unwrap();
    let made = if round.is_multiple_of(2) {
        create(
            p,
            "t",
            LinkType::Symlink,
            &options(Replace::Never, Some(Flavour::File)),
        )
    } else {
        create(
            p,
            dir.join("d"),
            LinkType::Junction,
            &CreateOptions::default(),
        )
    };
    made.unwrap();
}

fn setup(dir: &Path) {
    fs::write(dir.join("t"), "target").unwrap();
    fs::create_dir(dir.join("d")).unwrap();
    fs::write(dir.join("d/canary"), "keep").unwrap();
}

/// rm, racing a file renamed onto the link: the file is never removed, nor left under
/// another name, and the targets keep their contents.
fn rm_race(dir: &Path) {
    setup(dir);
    race(dir, ROUNDS, &["d", "t"], make_link, |p| {
        remove(p, ChangeMode::Change).map(|_| ())
    });
    assert_eq!(fs::read_to_string(dir.join("d/canary")).unwrap(), "keep");
    assert_eq!(fs::read_to_string(dir.join("t")).unwrap(), "target");
}

/// --force, racing a file renamed onto the link: the file is never overwritten.
fn force_race(dir: &Path, rounds: u64) {
    setup(dir);
    let force = options(Replace::Links, Some(Flavour::File));
    race(dir, rounds, &["d", "t"], make_link, |p| {
        create(p, "t", LinkType::Symlink, &force).map(|_| ())
    });
}

/// Two `--force` on one name, again and again: each replaces whatever link is there, and
/// none fails for finding the other's link instead of the one it inspected.
fn two_forces(dir: &Path) {
    setup(dir);
    let force = options(Replace::Links, Some(Flavour::File));
    create(dir.join("p"), "t", LinkType::Symlink, &force).unwrap();
    let barrier = Arc::new(Barrier::new(2));
    let rounds = ROUNDS;
    let threads: Vec<_> = ["t", "d/canary"]
        .into_iter()
        .map(|target| {
            let (p, barrier) = (dir.join("p"), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                for round in 0..rounds {
                    if let Err(err) = create(&p, target, LinkType::Symlink, &force) {
                        panic!("round {round}: {err}");
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(names(dir), ["d", "p", "t"]);
    assert!(
        fs::symlink_metadata(dir.join("p"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

/// retarget, racing a file renamed onto the link: the file never gets the link's new
/// target (on ntfs-3g: never gets reparse data, which would hide its contents), and is
/// never overwritten.
fn retarget_race(dir: &Path, rounds: u64) {
    setup(dir);
    fs::create_dir(dir.join("e")).unwrap();
    let e = dir.join("e");
    race(dir, rounds, &["d", "e", "t"], make_link, |p| {
        let new_target = if knot::inspect(p)?.dir.map(knot::Flavour::is_dir) == Some(true) {
            e.clone()
        } else {
            "d/canary".into()
        };
        retarget(p, new_target, &RetargetOptions::default()).map(|_| ())
    });
    assert_eq!(fs::read_to_string(dir.join("d/canary")).unwrap(), "keep");
}

/// A reader that looks at the link again and again while it is retargeted
/// hundreds of times never finds it missing. Each round waits, by count, until the reader
/// has looked again, so every retarget overlaps reads; the reader must have seen both
/// targets, so it cannot pass by looking only before or after the work.
fn readers_never_miss_the_link(dir: &Path, rounds: u64) {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    fs::create_dir(dir.join("a")).unwrap();
    fs::create_dir(dir.join("b")).unwrap();
    let p = dir.join("p");
    create(&p, "a", LinkType::Symlink, &CreateOptions::default()).unwrap();
    let (looks, done) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    let reader = {
        let (p, looks, done) = (p.clone(), Arc::clone(&looks), Arc::clone(&done));
        std::thread::spawn(move || {
            let (mut missing, mut seen) = (0u64, std::collections::BTreeSet::new());
            while !done.load(Ordering::Acquire) {
                match fs::read_link(&p) {
                    Ok(target) => drop(seen.insert(target)),
                    Err(_) => missing += 1,
                }
                looks.fetch_add(1, Ordering::Release);
            }
            (missing, seen)
        })
    };
    for round in 0..rounds {
        let before = looks.load(Ordering::Acquire);
        let target = if round % 2 == 0 { "b" } else { "a" };
        let done = retarget(&p, target, &RetargetOptions::default()).unwrap();
        assert!(done.changed, "round {round}");
        while looks.load(Ordering::Acquire) < before + 2 {
            std::thread::yield_now();
        }
    }
    done.store(true, Ordering::Release);
    let (missing, seen) = reader.join().unwrap();
    assert_eq!(
        missing, 0,
        "the reader found the link missing {missing} times"
    );
    assert_eq!(seen.len(), 2, "the reader saw {seen:?}");
    assert_eq!(names(dir), ["a", "b", "p"], "nothing left behind");
}

// ---- native ----

/// Retarget is atomic on a native file system (`RENAME_EXCHANGE`).
#[test]
fn a_reader_never_finds_a_retargeted_link_missing() {
    readers_never_miss_the_link(Dir::new().path(), ROUNDS);
}

/// Retarget racing a regular file.
#[test]
fn retarget_racing_a_file_never_changes_it() {
    retarget_race(Dir::new().path(), ROUNDS);
}

/// `rm` racing a regular file.
#[test]
fn rm_racing_a_file_never_removes_or_strands_it() {
    rm_race(Dir::new().path());
}

/// Promise 2 under a race.
#[test]
fn force_racing_a_file_never_overwrites_it() {
    force_race(Dir::new().path(), ROUNDS);
}

/// Two `--force` racing on one name.
#[test]
fn two_forces_on_one_name_both_succeed() {
    two_forces(Dir::new().path());
}

// ---- ntfs-3g ----

/// On ntfs-3g (no `RENAME_NOREPLACE`), rm racing a regular file.
#[test]
fn ntfs3g_rm_racing_a_file_never_removes_it() {
    let Some(vol) = volume("ntfs3g_rm_racing_a_file_never_removes_it") else {
        return;
    };
    rm_race(&vol.mnt);
}

/// On ntfs-3g (no `RENAME_EXCHANGE`), --force racing a regular file.
#[test]
fn ntfs3g_force_racing_a_file_never_overwrites_it() {
    let Some(vol) = volume("ntfs3g_force_racing_a_file_never_overwrites_it") else {
        return;
    };
    force_race(&vol.mnt, MANY_ROUNDS);
}

/// On ntfs-3g, where `--force` sets the old link aside and makes the new one
/// again in its place.
#[test]
fn ntfs3g_two_forces_on_one_name_both_succeed() {
    let Some(vol) = volume("ntfs3g_two_forces_on_one_name_both_succeed") else {
        return;
    };
    two_forces(&vol.mnt);
}

/// On ntfs-3g: the reparse point is rewritten in place, through a descriptor of
/// the link itself, so a file renamed onto the name never gets reparse data.
#[test]
fn ntfs3g_retarget_racing_a_file_never_changes_it() {
    let Some(vol) = volume("ntfs3g_retarget_racing_a_file_never_changes_it") else {
        return;
    };
    retarget_race(&vol.mnt, MANY_ROUNDS);
}

/// On ntfs-3g: `convert --to-native` of a Cygwin link file, racing a plain file renamed
/// onto its name, never replaces or loses that file: the Cygwin file is set aside and
/// judged by its system attribute and bytes before the new link takes its name, by calls
/// that never overwrite.
#[test]
fn ntfs3g_to_native_racing_a_file_never_replaces_it() {
    let Some(vol) = volume("ntfs3g_to_native_racing_a_file_never_replaces_it") else {
        return;
    };
    let dir = vol.mnt.as_path();
    setup(dir);
    // All made (written, then closed) before the rounds, each renamed onto the link's name
    // in its round: a file written just before would still be open for a moment (FUSE
    // releases it after the close returns; a forked child may hold a copy), and the
    // racer's rename over an open file only hides it (`.fuse_hidden…`).
    let pool = dir.join("pool");
    fs::create_dir(&pool).unwrap();
    for made in 0..MANY_ROUNDS + 5 {
        drop(cygwin_link(&pool.join(made.to_string())));
    }
    let next = std::sync::atomic::AtomicU64::new(0);
    let cygwin = |p: &Path, _round: u64| {
        let made = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        fs::rename(pool.join(made.to_string()), p).unwrap();
    };
    let to = ConvertTo::Native(NativeDirs::Symlink);
    let (done, refused, raced) = race(dir, MANY_ROUNDS, &["d", "pool", "t"], cygwin, |p| {
        convert(p, to, &ConvertOptions::default()).map(|_| ())
    });
    // The quiet rounds convert; and the racer's file met knot's work, not only its end.
    assert!(done >= MANY_ROUNDS / 10, "{done} done");
    assert!(refused + raced > 0, "the race was never met");
}

/// A Cygwin link file to `t` at `p`, its descriptor still open. Cygwin's form
/// (winsup/cygwin/path.cc, `check_sysfile`): the cookie, the UTF-16LE byte order mark, the
/// target and a NUL, in a file with the system attribute.
fn cygwin_link(p: &Path) -> fs::File {
    use std::io::Write;
    let mut bytes = b"!<symlink>\xFF\xFE".to_vec();
    bytes.extend("t".encode_utf16().flat_map(u16::to_le_bytes));
    bytes.extend([0, 0]);
    let mut file = fs::File::create(p).unwrap();
    file.write_all(&bytes).unwrap();
    let system = 0x24u32.to_le_bytes();
    rustix::fs::setxattr(
        p,
        "system.ntfs_attrib",
        &system,
        rustix::fs::XattrFlags::empty(),
    )
    .unwrap();
    file
}

/// On ntfs-3g, a link or Cygwin link file that is still open somewhere when knot removes,
/// replaces or converts it leaves nothing of knot's behind. libfuse does not remove a name
/// whose file is open but hides it (`.fuse_hidden…`) until the last close, so knot's
/// private directory, where the old entry was set aside and removed, could not be removed
/// and stayed. Here the test holds the file open for the whole call, as a child forked by
/// another thread holds a copy of a descriptor until its `exec`; once it is closed, FUSE's
/// hidden name goes too.
#[test]
fn ntfs3g_an_entry_still_open_leaves_nothing_behind() {
    let Some(vol) = volume("ntfs3g_an_entry_still_open_leaves_nothing_behind") else {
        return;
    };
    let dir = vol.mnt.as_path();
    setup(dir);
    let file_link = options(Replace::Never, Some(Flavour::File));
    create(dir.join("model"), "t", LinkType::Symlink, &file_link).unwrap();
    let mut buffer = vec![0u8; 16 * 1024];
    let len = rustix::fs::lgetxattr(dir.join("model"), REPARSE, &mut buffer).unwrap();
    buffer.truncate(len);
    let p = dir.join("p");
    // A file link that is open: a file, its descriptor kept, then made a link by its
    // reparse point.
    let open_link = || {
        let file = fs::File::create(&p).unwrap();
        rustix::fs::setxattr(&p, REPARSE, &buffer, rustix::fs::XattrFlags::CREATE).unwrap();
        // The kernel fails the first look at the changed inode (EIO), then sees a link.
        let linked = (0..10)
            .any(|_| fs::symlink_metadata(&p).is_ok_and(|meta| meta.file_type().is_symlink()));
        assert!(linked, "the file did not become a link");
        file
    };
    still_open(dir, "rm", open_link(), || {
        remove(&p, ChangeMode::Change).map(|_| ())
    });
    let force = options(Replace::Links, Some(Flavour::File));
    still_open(dir, "--force", open_link(), || {
        create(&p, "t", LinkType::Symlink, &force).map(|_| ())
    });
    let to = ConvertTo::Native(NativeDirs::Symlink);
    still_open(dir, "--to-native", cygwin_link(&p), || {
        convert(&p, to, &ConvertOptions::default()).map(|_| ())
    });
}

/// On ntfs-3g, knot makes a file link, under its name or under a hidden one for
/// `--force`, without ever opening the file for reading or writing: FUSE counts a file
/// open until the release of its last descriptor reaches it (later than the close, and
/// later still where a child forked by another thread holds a copy), and a name removed or
/// renamed over meanwhile is not removed but hidden (`.fuse_hidden…`). Every open of a
/// name in the directory is seen by inotify.
#[test]
fn ntfs3g_file_links_are_made_without_being_opened() {
    use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};
    let Some(vol) = volume("ntfs3g_file_links_are_made_without_being_opened") else {
        return;
    };
    let dir = vol.mnt.as_path();
    setup(dir);
    let watch = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK).unwrap();
    inotify::add_watch(&watch, dir, WatchFlags::CREATE | WatchFlags::OPEN).unwrap();
    let p = dir.join("p");
    create(
        &p,
        "t",
        LinkType::Symlink,
        &options(Replace::Never, Some(Flavour::File)),
    )
    .unwrap();
    let force = options(Replace::Links, Some(Flavour::File));
    create(&p, "t", LinkType::Symlink, &force).unwrap();
    let (mut made, mut opened) = (Vec::new(), Vec::new());
    let mut buf = [std::mem::MaybeUninit::uninit(); 4096];
    let mut events = inotify::Reader::new(&watch, &mut buf);
    while let Ok(event) = events.next() {
        let Some(name) = event.file_name() else {
            continue;
        };
        let name = name.to_string_lossy().into_owned();
        if !name.starts_with('p') && !name.starts_with(".p.knot~") {
            continue;
        }
        if event.events().contains(ReadFlags::CREATE) {
            made.push(name.clone());
        }
        if event.events().contains(ReadFlags::OPEN) {
            opened.push(name);
        }
    }
    // The link, and the new one staged under a hidden name (the watch sees knot's work).
    assert!(made.len() >= 2, "made: {made:?}");
    assert!(opened.is_empty(), "opened: {opened:?}");
}

/// Runs `act` on the entry `p` in `dir` while `held` keeps its file open, then checks that
/// no name of knot's is left, and, once `held` is closed, nothing at all.
fn still_open(
    dir: &Path,
    what: &str,
    held: fs::File,
    act: impl FnOnce() -> Result<(), knot::Error>,
) {
    act().unwrap_or_else(|err| panic!("{what}: {err}"));
    let knots: Vec<String> = names(dir)
        .into_iter()
        .filter(|name| name.contains(".knot~"))
        .collect();
    assert!(knots.is_empty(), "{what}: knot left {knots:?}");
    if what != "rm" {
        let meta = fs::symlink_metadata(dir.join("p")).unwrap();
        assert!(meta.file_type().is_symlink(), "{what}: no link made");
    }
    drop(held);
    // FUSE removes its hidden name once the release of the last descriptor reaches it:
    // looked for again a bounded number of times.
    let want = if what == "rm" {
        vec!["d", "model", "t"]
    } else {
        vec!["d", "model", "p", "t"]
    };
    let mut left = names(dir);
    for _ in 0..400 {
        if left == want {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
        left = names(dir);
    }
    assert_eq!(left, want, "{what}: something was left behind");
    let _ = fs::remove_file(dir.join("p"));
}

/// Rounds of [`apply_never_goes_through_a_swapped_directory`]; in every one the swapper
/// runs for as long as apply does.
const APPLY_ROUNDS: usize = 300;
/// Records per round and per kind.
const APPLY_LINKS: usize = 6;

/// A manifest's records: symlinks `a/l<round>-<i>`, and hard links `h<round>-<i>` made
/// from the file `a/f`.
fn apply_records(round: usize) -> Vec<knot::Record> {
    let record = |json: String| serde_json::from_str::<knot::Record>(&json).unwrap();
    (0..APPLY_LINKS)
        .flat_map(|i| {
            [
                record(format!(
                    r#"{{"path": "a/l{round}-{i}", "kind": "symlink", "target": "t"}}"#
                )),
                record(format!(
                    r#"{{"path": "h{round}-{i}", "kind": "hardlink", "target": "a/f"}}"#
                )),
            ]
        })
        .collect()
}

/// DESIGN.md section 4 and the README's `knot apply`: a directory on the way to a
/// manifest's link is never gone through if it is a link, even when another program swaps
/// it for one after apply looked at it. A racer swaps `root/a`, a real directory, with a
/// symlink to a directory outside the root (`renameat2(RENAME_EXCHANGE)`, so each state is
/// whole) again and again while apply makes links in `a` and hard links from `a/f`. Every
/// round then checks that nothing appeared outside, that each record made is in the real
/// directory `a` (wherever the swaps left it) and a hard link of its file, and that each
/// record that failed says there was a link on the way and left nothing behind. Every
/// tenth round nothing races, and everything must be made.
#[test]
fn apply_never_goes_through_a_swapped_directory() {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    let base = Dir::new();
    let (root, outside) = (base.path().join("root"), base.path().join("outside"));
    fs::create_dir_all(root.join("a")).unwrap();
    fs::create_dir(&outside).unwrap();
    fs::write(root.join("a/f"), "inside").unwrap();
    fs::write(outside.join("f"), "outside").unwrap();
    std::os::unix::fs::symlink(&outside, root.join("s")).unwrap();
    let (a, s) = (root.join("a"), root.join("s"));
    let applying = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(2));
    let racer = {
        let (a, s) = (a.clone(), s.clone());
        let (applying, swaps, barrier) = (applying.clone(), swaps.clone(), barrier.clone());
        std::thread::spawn(move || {
            for round in 0..APPLY_ROUNDS {
                barrier.wait();
                // Bounded by a count as well as by apply's work.
                for _ in 0..100_000 {
                    if quiet(round as u64) || !applying.load(Ordering::Acquire) {
                        break;
                    }
                    renameat_with(CWD, &a, CWD, &s, RenameFlags::EXCHANGE).unwrap();
                    swaps.fetch_add(1, Ordering::Relaxed);
                }
                barrier.wait();
            }
        })
    };
    let options = knot::ApplyOptions::default();
    let (mut made, mut refused) = (0, 0);
    for round in 0..APPLY_ROUNDS {
        let records = apply_records(round);
        let mut outcomes = vec![];
        // Each round starts with the real directory at `a`.
        if !fs::symlink_metadata(&a).unwrap().is_dir() {
            renameat_with(CWD, &a, CWD, &s, RenameFlags::EXCHANGE).unwrap();
        }
        applying.store(true, Ordering::Release);
        barrier.wait();
        knot::apply(&root, &records, &options, |i, result| {
            outcomes.push((i, result))
        });
        applying.store(false, Ordering::Release);
        barrier.wait();
        // The racer is still now: which name holds the real directory?
        let real = if fs::symlink_metadata(&a).unwrap().is_dir() {
            &a
        } else {
            &s
        };
        assert_eq!(
            names(&outside),
            ["f"],
            "round {round}: made outside the root"
        );
        assert_eq!(fs::read_to_string(outside.join("f")).unwrap(), "outside");
        assert_eq!(outcomes.len(), records.len());
        for (i, result) in outcomes {
            let name = records[i].path.file_name().unwrap();
            let at = if records[i].kind == "symlink" {
                real.join(name)
            } else {
                root.join(name)
            };
            match result {
                Ok(knot::Applied::Created) => {
                    made += 1;
                    if records[i].kind == "symlink" {
                        assert_eq!(fs::read_link(&at).unwrap(), Path::new("t"), "{round}");
                    } else {
                        let text = fs::read_to_string(&at).unwrap();
                        assert_eq!(text, "inside", "round {round}: {}", at.display());
                    }
                }
                Err(err) if !quiet(round as u64) => {
                    // A link on the way, or a directory that kept being swapped on every
                    // look (the record is then refused too): nothing is made either way.
                    let kept_changing = err.kind() == &ErrorKind::Io
                        && err.path() == a.as_path()
                        && err.to_string().contains("kept changing")
                        && err.is_retryable();
                    assert!(
                        matches!(err.kind(), ErrorKind::LinkOnTheWay { path } if path == &a)
                            || kept_changing,
                        "round {round}: {err}"
                    );
                    assert!(
                        !err.to_string().contains("/proc/"),
                        "round {round}: {err} names a path of knot's own"
                    );
                    assert!(fs::symlink_metadata(&at).is_err(), "round {round}: {err}");
                    refused += 1;
                }
                other => panic!("round {round}, record {i}: {other:?}"),
            }
        }
        let mut inside = names(real);
        inside.retain(|n| n.starts_with('.'));
        assert_eq!(inside, Vec::<String>::new(), "round {round}: left behind");
    }
    racer.join().unwrap();
    let swaps = swaps.load(Ordering::Relaxed);
    eprintln!("{APPLY_ROUNDS} rounds, {swaps} swaps: {made} made, {refused} refused");
}

/// Rounds of the tests below in which another program swaps a directory for a link.
const SWAP_ROUNDS: usize = 300;

/// `base/tree/sub`, a real directory, and `base/tree/s`, a symlink to `base/outside`, each
/// holding a link `l` (to `inside` and to `outside`); and a racer that swaps the two names
/// (`RENAME_EXCHANGE`) while `working` is set, at most `SWAPS` times a round.
struct Swapping {
    base: Dir,
    working: Arc<std::sync::atomic::AtomicBool>,
    swaps: Arc<std::sync::atomic::AtomicUsize>,
    racer: Option<std::thread::JoinHandle<()>>,
}

impl Swapping {
    const SWAPS: usize = 100_000;

    fn new() -> Swapping {
        let base = Dir::new();
        fs::create_dir_all(base.path().join("tree/sub")).unwrap();
        fs::create_dir(base.path().join("outside")).unwrap();
        std::os::unix::fs::symlink("../outside", base.path().join("tree/s")).unwrap();
        Swapping {
            base,
            working: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            swaps: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
            racer: None,
        }
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.base.path().join(name)
    }

    /// The real directory back at `tree/sub`, and the links `l` as at the start.
    fn reset(&self) {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        let (sub, s) = (self.path("tree/sub"), self.path("tree/s"));
        if fs::symlink_metadata(&sub).unwrap().file_type().is_symlink() {
            renameat_with(CWD, &sub, CWD, &s, RenameFlags::EXCHANGE).unwrap();
        }
        for (dir, target) in [("tree/sub", "inside"), ("outside", "outside")] {
            let l = self.path(dir).join("l");
            let _ = fs::remove_file(&l);
            std::os::unix::fs::symlink(target, &l).unwrap();
        }
    }

    /// Starts the racer, and returns once it has swapped: knot's work then overlaps swaps.
    fn start(&mut self) {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        use std::sync::atomic::Ordering;
        self.working.store(true, Ordering::Release);
        self.swaps.store(0, Ordering::Release);
        let (sub, s, working, swaps) = (
            self.path("tree/sub"),
            self.path("tree/s"),
            Arc::clone(&self.working),
            Arc::clone(&self.swaps),
        );
        self.racer = Some(std::thread::spawn(move || {
            for _ in 0..Swapping::SWAPS {
                if !working.load(Ordering::Acquire) {
                    break;
                }
                renameat_with(CWD, &sub, CWD, &s, RenameFlags::EXCHANGE).unwrap();
                swaps.fetch_add(1, Ordering::Release);
            }
        }));
        while self.swaps.load(Ordering::Acquire) == 0 {
            std::thread::yield_now();
        }
    }

    fn stop(&mut self) {
        self.working
            .store(false, std::sync::atomic::Ordering::Release);
        self.racer.take().unwrap().join().unwrap();
    }

    /// The targets of the links `l` in the real directory (wherever the racer left it)
    /// and outside, `None` where one is gone.
    fn targets(&self) -> (Option<std::path::PathBuf>, Option<std::path::PathBuf>) {
        let sub = self.path("tree/sub");
        let real = if fs::symlink_metadata(&sub).unwrap().is_dir() {
            sub
        } else {
            self.path("tree/s")
        };
        let read = |dir: std::path::PathBuf| fs::read_link(dir.join("l")).ok();
        (read(real), read(self.path("outside")))
    }
}

/// `knot rm tree/sub/l` while another program swaps `tree/sub` for a link outside: the link
/// removed is the one that was checked and reported, in whichever directory the path led
/// to when it was opened, never the one in the other.
#[test]
fn rm_removes_the_link_it_checked_while_a_directory_is_swapped() {
    let mut swapping = Swapping::new();
    let l = swapping.path("tree/sub/l");
    let (inside, outside) = (Path::new("inside"), Path::new("outside"));
    for round in 0..SWAP_ROUNDS {
        swapping.reset();
        swapping.start();
        let removed = remove(&l, ChangeMode::Change);
        swapping.stop();
        let left = swapping.targets();
        match removed {
            Ok(link) if link.target.as_deref() == Some(inside) => {
                assert_eq!(left, (None, Some(outside.into())), "round {round}");
            }
            Ok(link) => {
                assert_eq!(link.target.as_deref(), Some(outside), "round {round}");
                assert_eq!(left, (Some(inside.into()), None), "round {round}");
            }
            Err(_) => assert_eq!(left, (Some(inside.into()), Some(outside.into()))),
        }
    }
}

/// `knot retarget tree/sub/l new` while another program swaps `tree/sub` for a link
/// outside: the link retargeted is the one that was read, never the one in the other
/// directory.
#[test]
fn retarget_changes_the_link_it_read_while_a_directory_is_swapped() {
    let mut swapping = Swapping::new();
    let l = swapping.path("tree/sub/l");
    let (inside, outside, new) = (Path::new("inside"), Path::new("outside"), Path::new("new"));
    for round in 0..SWAP_ROUNDS {
        swapping.reset();
        swapping.start();
        let changed = retarget(&l, new, &RetargetOptions::default());
        swapping.stop();
        let left = swapping.targets();
        match changed {
            Ok(done) if done.before.target.as_deref() == Some(inside) => {
                assert_eq!(
                    left,
                    (Some(new.into()), Some(outside.into())),
                    "round {round}"
                );
            }
            Ok(done) => {
                assert_eq!(
                    done.before.target.as_deref(),
                    Some(outside),
                    "round {round}"
                );
                assert_eq!(
                    left,
                    (Some(inside.into()), Some(new.into())),
                    "round {round}"
                );
            }
            Err(_) => assert_eq!(left, (Some(inside.into()), Some(outside.into()))),
        }
    }
}

/// `knot symlink L first` racing `knot symlink --force L second`, round after round: the
/// `--force` always succeeds, and a create that lost the race (its read-back found the
/// other's link) never removes the link that won, so L is always there at the end.
#[test]
fn a_create_that_loses_a_race_never_removes_the_winners_link() {
    let dir = Dir::new();
    let l = dir.path().join("l");
    let force = options(Replace::Links, None);
    let barrier = Arc::new(Barrier::new(2));
    let rounds = 2 * ROUNDS;
    let first = {
        let (l, barrier) = (l.clone(), Arc::clone(&barrier));
        std::thread::spawn(move || {
            for _ in 0..rounds {
                barrier.wait();
                let _ = create(&l, "first", LinkType::Symlink, &CreateOptions::default());
                barrier.wait();
                barrier.wait();
            }
        })
    };
    let mut lost = 0;
    for round in 0..rounds {
        barrier.wait();
        let second = create(&l, "second", LinkType::Symlink, &force);
        barrier.wait();
        assert!(second.is_ok(), "round {round}: {second:?}");
        match fs::read_link(&l) {
            Ok(_) => {}
            Err(err) => {
                lost += 1;
                eprintln!("round {round}: the link is gone: {err}");
            }
        }
        let _ = fs::remove_file(&l);
        barrier.wait();
    }
    first.join().unwrap();
    assert_eq!(
        lost, 0,
        "rounds in which a failed create removed the other's link"
    );
}

/// A manifest that names each path twice, with two targets, applied on two threads, round
/// after round: a record that failed because the other made the path first never removes
/// the other's link; every path a record reports made or replaced is a link at the end.
///
/// apply gives the records of one directory (as written) to one thread, so the two
/// records of a path are spelt two ways (`l`, `./l`, `././l`, ...: eight spellings, the
/// two of each path next to each other in that list), so that paths whose spellings fall
/// to different threads are made by both at once.
#[test]
fn apply_of_a_path_named_twice_never_loses_the_link() {
    let dir = Dir::new();
    let record = |path: &str, target: &str| {
        serde_json::from_str::<knot::Record>(&format!(
            r#"{{"path": "{path}", "kind": "symlink", "target": "{target}"}}"#
        ))
        .unwrap()
    };
    let spelt = |i: usize, way: usize| format!("{}l{i}", "./".repeat(way % 8));
    let records: Vec<_> = (0..APPLY_LINKS * 4)
        .flat_map(|i| [record(&spelt(i, i), "a"), record(&spelt(i, i + 1), "b")])
        .collect();
    let options = knot::ApplyOptions {
        threads: 2,
        ..knot::ApplyOptions::default()
    };
    for round in 0..APPLY_ROUNDS / 3 {
        let root = dir.path().join(format!("r{round}"));
        let mut made = vec![false; records.len() / 2];
        knot::apply(&root, &records, &options, |i, result| {
            if result.is_ok() {
                made[i / 2] = true;
            }
        });
        for (i, made) in made.iter().enumerate() {
            if *made {
                assert!(
                    fs::read_link(root.join(format!("l{i}"))).is_ok(),
                    "round {round}: l{i} was reported made and is gone"
                );
            }
        }
    }
}

/// `knot apply` while another program makes and removes a file at the record's path again
/// and again: when the create finds the file and the next look finds it gone, the link is
/// made on a later try, never reported `created` without being there.
#[test]
fn apply_never_reports_created_without_a_link() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = Dir::new();
    let root = dir.path().join("root");
    fs::create_dir(&root).unwrap();
    let p = root.join("p");
    let records = vec![
        serde_json::from_str::<knot::Record>(r#"{"path": "p", "kind": "symlink", "target": "t"}"#)
            .unwrap(),
    ];
    let options = knot::ApplyOptions::default();
    let working = Arc::new(AtomicBool::new(false));
    let (mut created, mut failed) = (0, 0);
    for round in 0..APPLY_ROUNDS * 3 {
        working.store(true, Ordering::Release);
        let racer = {
            let (p, working) = (p.clone(), Arc::clone(&working));
            std::thread::spawn(move || {
                for _ in 0..100_000 {
                    if !working.load(Ordering::Acquire) {
                        break;
                    }
                    // Only a file the racer made itself is removed.
                    if fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(&p)
                        .is_ok()
                    {
                        fs::remove_file(&p).unwrap();
                    }
                }
            })
        };
        let mut outcome = None;
        knot::apply(&root, &records, &options, |_, result| {
            outcome = Some(result)
        });
        working.store(false, Ordering::Release);
        racer.join().unwrap();
        match outcome.unwrap() {
            Ok(knot::Applied::Created) => {
                created += 1;
                assert_eq!(
                    fs::read_link(&p).ok().as_deref(),
                    Some(Path::new("t")),
                    "round {round}: reported created, and no link is there"
                );
            }
            Ok(other) => panic!("round {round}: {other:?}"),
            Err(_) => failed += 1,
        }
        let _ = fs::remove_file(&p);
    }
    eprintln!("{created} created, {failed} refused (the file was there)");
}
