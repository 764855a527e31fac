//! `--root DIR`: links judged inside an image root, as a chroot into DIR would see them,
//! on a tree built like a root file system. Some targets exist only in the image, some
//! only on the host (`/usr/bin/env`, `/proc`): with `--root` the image decides, without it
//! the host. Then `convert --relative` and `--absolute` within the image, the image moved,
//! and a racing swap of a directory of the image for a link to a host directory.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde_json::Value;

use crate::fixture::{Env, records, run};

/// A root file system in `img`: `usr/bin/knot-img-tool` (a name no host has), `etc`,
/// `opt/app/conf` (only in the image), and links to them, to `/usr/bin/env` (only on the
/// host), to `/proc` (the image has none), and a `..` chain that climbs above the root.
fn image() -> Env {
    let env = Env::new();
    for dir in [
        "img/usr/bin",
        "img/etc",
        "img/opt/app/conf",
        "img/var/lib/x",
    ] {
        env.mkdir(dir);
    }
    env.file("img/usr/bin/knot-img-tool", "#!/bin/sh\n");
    for (link, target) in [
        ("img/etc/app.conf", "/opt/app/conf"),
        ("img/env-link", "/usr/bin/env"),
        ("img/proc-self", "/proc/self"),
        ("img/usr/bin/tool", "knot-img-tool"),
        ("img/etc/tool", "/usr/bin/tool"),
        (
            "img/var/lib/x/up",
            "../../../../../../usr/bin/knot-img-tool",
        ),
        ("img/bin", "usr/bin"),
        ("img/loop-a", "/loop-b"),
        ("img/loop-b", "loop-a"),
    ] {
        symlink(target, env.path(link)).unwrap();
    }
    env
}

/// Each record's path with one of its fields, sorted by path.
fn field(records: &[Value], name: &str) -> Vec<(String, Value)> {
    let mut out: Vec<_> = records
        .iter()
        .map(|r| (r["path"].as_str().unwrap().to_owned(), r[name].clone()))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn strings(pairs: &[(&str, &str)]) -> Vec<(String, Value)> {
    pairs
        .iter()
        .map(|(p, v)| ((*p).to_owned(), Value::from(*v)))
        .collect()
}

#[test]
fn scan_judges_each_link_inside_the_image() {
    let env = image();
    let found = records(&mut env.knot(["scan", "--json", "--root", "img", "img"]));
    assert_eq!(
        field(&found, "status"),
        strings(&[
            ("img/bin", "ok"),
            ("img/env-link", "dangling"),
            ("img/etc/app.conf", "ok"),
            ("img/etc/tool", "ok"),
            ("img/loop-a", "loop"),
            ("img/loop-b", "loop"),
            ("img/proc-self", "dangling"),
            ("img/usr/bin/tool", "ok"),
            ("img/var/lib/x/up", "ok"),
        ])
    );
    assert_eq!(
        field(&found, "resolved"),
        strings(&[
            ("img/bin", "/usr/bin"),
            ("img/env-link", "/usr/bin/env"),
            ("img/etc/app.conf", "/opt/app/conf"),
            ("img/etc/tool", "/usr/bin/knot-img-tool"),
            ("img/loop-a", "/loop-b"),
            ("img/loop-b", "/loop-a"),
            ("img/proc-self", "/proc/self"),
            ("img/usr/bin/tool", "/usr/bin/knot-img-tool"),
            ("img/var/lib/x/up", "/usr/bin/knot-img-tool"),
        ])
    );
    // The host path of each, in the image.
    let img = env.real().join("img");
    for (path, host) in field(&found, "resolved_host") {
        let host = PathBuf::from(host.as_str().unwrap());
        assert!(host.starts_with(&img), "{path}: {}", host.display());
    }
    // Without --root the host decides: the same links, the other way round.
    let host = records(&mut env.knot(["scan", "--json", "img"]));
    let status = field(&host, "status");
    let of = |name: &str| status.iter().find(|(p, _)| p == name).unwrap().1.clone();
    assert_eq!(of("img/etc/app.conf"), "dangling");
    assert_eq!(of("img/env-link"), "ok");
    assert_eq!(of("img/etc/tool"), "dangling");
    assert_eq!(of("img/var/lib/x/up"), "dangling");
    assert!(host.iter().all(|r| r["resolved_host"].is_null()));
}

#[test]
fn broken_lists_what_is_broken_in_the_image() {
    let env = image();
    run(
        &mut env.knot(["scan", "--broken", "--sort", "--root", "img", "img"]),
        0,
        "img/env-link  -> /usr/bin/env  [dangling]\n\
         img/loop-a    -> /loop-b  [loop]\n\
         img/loop-b    -> loop-a  [loop]\n\
         img/proc-self -> /proc/self  [dangling]\n",
        "",
    );
}

#[test]
fn show_resolves_inside_the_image() {
    let env = image();
    let found = records(&mut env.knot([
        "show",
        "--json",
        "--root",
        "img",
        "img/etc/app.conf",
        "img/env-link",
        "img/var/lib/x/up",
    ]));
    let img = env.real().join("img");
    assert_eq!(found[0]["status"], "ok");
    assert_eq!(found[0]["resolved"], "/opt/app/conf");
    assert_eq!(
        found[0]["resolved_host"],
        img.join("opt/app/conf").to_str().unwrap()
    );
    assert_eq!(found[1]["status"], "dangling");
    assert_eq!(found[2]["resolved"], "/usr/bin/knot-img-tool");
    // A path outside the image has no place in it.
    env.file("elsewhere", "");
    let out = crate::fixture::output(&mut env.knot(["show", "--root", "img", "elsewhere"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("outside"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Each link's target as stored, by its path below `dir`, sorted.
fn targets(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in fs::read_dir(&at).unwrap() {
            let entry = entry.unwrap();
            let ty = entry.file_type().unwrap();
            if ty.is_symlink() {
                let rel = entry.path().strip_prefix(dir).unwrap().to_owned();
                let target = fs::read_link(entry.path()).unwrap();
                out.push((
                    rel.to_string_lossy().into_owned(),
                    target.to_string_lossy().into_owned(),
                ));
            } else if ty.is_dir() {
                stack.push(entry.path());
            }
        }
    }
    out.sort();
    out
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[test]
fn convert_relative_stays_inside_the_image_and_survives_a_move() {
    let env = image();
    let before = field(
        &records(&mut env.knot(["scan", "--json", "--root", "img", "img"])),
        "resolved",
    );
    let out = crate::fixture::output(&mut env.knot([
        "convert",
        "--relative",
        "--root",
        "img",
        "-r",
        "img",
    ]));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        targets(&env.path("img")),
        pairs(&[
            ("bin", "usr/bin"),
            ("env-link", "usr/bin/env"),
            ("etc/app.conf", "../opt/app/conf"),
            ("etc/tool", "../usr/bin/tool"),
            ("loop-a", "loop-b"),
            ("loop-b", "loop-a"),
            ("proc-self", "proc/self"),
            ("usr/bin/tool", "knot-img-tool"),
            ("var/lib/x/up", "../../../usr/bin/knot-img-tool"),
        ])
    );
    // Moved, the image leads where it did, judged by itself or by the host.
    fs::rename(env.path("img"), env.path("moved")).unwrap();
    let after = records(&mut env.knot(["scan", "--json", "--root", "moved", "moved"]));
    let after: Vec<_> = field(&after, "resolved")
        .into_iter()
        .map(|(p, v)| (p.replacen("moved/", "img/", 1), v))
        .collect();
    assert_eq!(after, before);
    let host = records(&mut env.knot(["scan", "--json", "moved/etc", "moved/var"]));
    assert!(host.iter().all(|r| r["status"] == "ok"), "{host:?}");
}

#[test]
fn convert_absolute_makes_image_absolute_targets() {
    let env = image();
    let out = crate::fixture::output(&mut env.knot([
        "convert",
        "--absolute",
        "--root",
        "img",
        "-r",
        "img",
    ]));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        targets(&env.path("img")),
        pairs(&[
            ("bin", "/usr/bin"),
            ("env-link", "/usr/bin/env"),
            ("etc/app.conf", "/opt/app/conf"),
            ("etc/tool", "/usr/bin/tool"),
            ("loop-a", "/loop-b"),
            ("loop-b", "/loop-a"),
            ("proc-self", "/proc/self"),
            ("usr/bin/tool", "/usr/bin/knot-img-tool"),
            ("var/lib/x/up", "/usr/bin/knot-img-tool"),
        ])
    );
}

#[test]
fn fix_judges_repairs_inside_the_image() {
    let env = image();
    env.mkdir("img/new");
    env.file("img/new/x", "");
    symlink("/old/x", env.path("img/etc/old")).unwrap();
    // The new target exists only in the image: not dangling there.
    run(
        &mut env.knot([
            "fix",
            "--root",
            "img",
            "img",
            "--replace",
            "/old=/new",
            "-n",
        ]),
        0,
        "would replace 'img/etc/old': '/old/x' -> '/new/x'\n",
        "",
    );
    run(
        &mut env.knot(["fix", "--root", "img", "img", "--broken", "--delete"]),
        0,
        "deleted 'img/env-link' -> '/usr/bin/env'\n\
         deleted 'img/etc/old' -> '/old/x'\n\
         deleted 'img/loop-a' -> '/loop-b'\n\
         deleted 'img/loop-b' -> 'loop-a'\n\
         deleted 'img/proc-self' -> '/proc/self'\n",
        "",
    );
    // What leads somewhere only in the image is kept.
    assert!(fs::symlink_metadata(env.path("img/etc/app.conf")).is_ok());
    assert!(fs::symlink_metadata(env.path("img/var/lib/x/up")).is_ok());
}

/// Rounds at least, at most, and links in the image's `etc`.
const ROUNDS: usize = 12;
const MAX_ROUNDS: usize = 60;
const LINKS: usize = 40;
const SWAPS: usize = 200_000;

/// Exchanges `a` and `b` (`RENAME_EXCHANGE`): a directory and a link to a host directory.
fn exchange(a: &Path, b: &Path) {
    rustix::fs::renameat_with(
        rustix::fs::CWD,
        a,
        rustix::fs::CWD,
        b,
        rustix::fs::RenameFlags::EXCHANGE,
    )
    .unwrap();
}

/// Runs `body` while another thread exchanges `a` and `b` again and again (at most
/// [`SWAPS`] times, each counted in `swaps`), and stops it once `body` is done.
fn while_swapping<T>(a: &Path, b: &Path, swaps: &AtomicUsize, body: impl FnOnce() -> T) -> T {
    let working = AtomicBool::new(true);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for _ in 0..SWAPS {
                if !working.load(Ordering::Acquire) {
                    break;
                }
                exchange(a, b);
                swaps.fetch_add(1, Ordering::Relaxed);
            }
        });
        let done = body();
        working.store(false, Ordering::Release);
        done
    })
}

/// An image `img` (`usr/lib`, `etc`) and a host directory `outside` (`lib`), with the
/// link `img/u` to the host directory that the races swap with `img/usr`.
fn image_beside_host(env: &Env) -> (PathBuf, PathBuf) {
    let (img, outside) = (env.path("img"), env.real().join("outside"));
    fs::create_dir_all(img.join("usr/lib")).unwrap();
    fs::create_dir_all(img.join("etc")).unwrap();
    fs::create_dir_all(outside.join("lib")).unwrap();
    symlink(&outside, img.join("u")).unwrap();
    (img, outside)
}

/// While `scan --root` runs, a racer swaps the image's `usr` (a real directory) with a
/// link to a host directory that holds every file the image's links name. Resolution
/// stays inside the image whatever it meets: through the link (an absolute host path,
/// which inside the image names nothing) no link is ever `ok`, and no resolved path is
/// outside the image. A round meets the swap where a link resolved through it.
#[test]
fn a_directory_swapped_for_a_host_link_never_leads_out() {
    let env = Env::new();
    let (img, outside) = image_beside_host(&env);
    for i in 0..LINKS {
        fs::write(outside.join(format!("lib/x{i}")), "host").unwrap();
        symlink(format!("/usr/lib/x{i}"), img.join(format!("etc/l{i}"))).unwrap();
    }
    let (usr, u) = (img.join("usr"), img.join("u"));
    let real_img = env.real().join("img");
    let swaps = AtomicUsize::new(0);
    let mut met = 0;
    for round in 0..MAX_ROUNDS {
        if round >= ROUNDS && met > 0 {
            break;
        }
        if fs::symlink_metadata(&usr).unwrap().file_type().is_symlink() {
            exchange(&usr, &u);
        }
        let found = while_swapping(&usr, &u, &swaps, || {
            records(&mut env.knot(["scan", "--json", "--root", "img", "img/etc"]))
        });
        assert_eq!(found.len(), LINKS);
        for record in &found {
            let resolved = record["resolved"].as_str().unwrap();
            let host = PathBuf::from(record["resolved_host"].as_str().unwrap());
            assert!(host.starts_with(&real_img), "round {round}: {record}");
            assert_ne!(record["status"], "ok", "round {round}: {record}");
            if resolved.starts_with(outside.to_str().unwrap()) {
                met += 1;
            }
        }
    }
    assert!(swaps.load(Ordering::Relaxed) > 0, "the racer never swapped");
    assert!(
        met > 0,
        "no link was resolved through the swapped directory"
    );
}

/// As above, where only the status is asked for (the human form, `--broken`), which the
/// scan tells from the directories it holds and, for a directory many links in one
/// directory lead into, from that directory held once for the rest of them: the links
/// to `/usr/lib/h*`, which only the host directory holds, are broken in every round,
/// whatever was held when. A round meets the swap where a link to `/usr/lib/a*`, which
/// the image's `usr/lib` holds, was judged through the link (and so is broken).
#[test]
fn a_directory_swapped_for_a_host_link_is_never_held_for_the_status() {
    let env = Env::new();
    let (img, outside) = image_beside_host(&env);
    for i in 0..LINKS {
        fs::write(outside.join(format!("lib/h{i}")), "host").unwrap();
        fs::write(img.join(format!("usr/lib/a{i}")), "image").unwrap();
        symlink(format!("/usr/lib/h{i}"), img.join(format!("etc/h{i}"))).unwrap();
        symlink(format!("/usr/lib/a{i}"), img.join(format!("etc/a{i}"))).unwrap();
    }
    let (usr, u) = (img.join("usr"), img.join("u"));
    let swaps = AtomicUsize::new(0);
    let mut met = 0;
    for round in 0..MAX_ROUNDS {
        if round >= ROUNDS && met > 0 {
            break;
        }
        if fs::symlink_metadata(&usr).unwrap().file_type().is_symlink() {
            exchange(&usr, &u);
        }
        let out = while_swapping(&usr, &u, &swaps, || {
            env.knot(["scan", "--broken", "--root", "img", "img/etc"])
                .output()
                .unwrap()
        });
        assert!(out.stderr.is_empty(), "round {round}: {out:?}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        let broken: Vec<&str> = stdout.lines().collect();
        for i in 0..LINKS {
            let h = format!("img/etc/h{i} ");
            assert!(
                broken.iter().any(|line| line.starts_with(&h)),
                "round {round}: h{i} is not broken: {stdout}"
            );
        }
        met += broken
            .iter()
            .filter(|line| line.starts_with("img/etc/a"))
            .count();
    }
    assert!(swaps.load(Ordering::Relaxed) > 0, "the racer never swapped");
    assert!(met > 0, "no link was judged through the swapped directory");
}

/// `convert --relative --root` while a directory of the image is swapped, again and again,
/// with a link to a host directory that holds links of its own: the host's links are never
/// changed, whatever the walk meets. Rounds are counted, not timed. A round meets the swap
/// where the walk found the image's directory under the link's name, the link under the
/// directory's name, or a directory that changed under it (a failure reported). Two
/// layers keep the host's links: each directory is opened without following a link, and
/// each link's directory is checked to be inside the image before anything is written;
/// with the first taken away, the walk reaches the host's links and the second refuses
/// each ("the path leads outside the root"), so both must fail for this test to.
#[test]
fn convert_with_a_directory_swapped_for_a_host_link_never_writes_outside() {
    const LINKS_HERE: usize = 20;
    let env = Env::new();
    let (img, outside) = (env.path("img"), env.real().join("outside"));
    fs::create_dir_all(img.join("usr/lib")).unwrap();
    fs::create_dir_all(img.join("etc")).unwrap();
    fs::create_dir_all(&outside).unwrap();
    for i in 0..LINKS_HERE {
        fs::write(img.join(format!("usr/lib/x{i}")), "image").unwrap();
        symlink(format!("/usr/lib/x{i}"), outside.join(format!("l{i}"))).unwrap();
    }
    let host_before = targets(&outside);
    let (etc, e) = (img.join("etc"), img.join("e"));
    let swaps = AtomicUsize::new(0);
    let mut met = 0;
    for round in 0..MAX_ROUNDS {
        if round >= ROUNDS && met > 0 {
            break;
        }
        // Afresh: `etc` the image's directory with absolute links, `e` a link to the host's.
        if fs::symlink_metadata(&etc).unwrap().file_type().is_symlink() {
            exchange(&etc, &e);
        }
        let _ = fs::remove_file(&e);
        symlink(&outside, &e).unwrap();
        for i in 0..LINKS_HERE {
            let link = etc.join(format!("l{i}"));
            let _ = fs::remove_file(&link);
            symlink(format!("/usr/lib/x{i}"), &link).unwrap();
        }
        let out = while_swapping(&etc, &e, &swaps, || {
            crate::fixture::output(&mut env.knot([
                "convert",
                "--relative",
                "--root",
                "img",
                "-r",
                "img",
            ]))
        });
        assert_eq!(targets(&outside), host_before, "round {round}: {out:?}");
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        if stdout.contains("'img/e/") || stdout.contains("'img/etc':") || !stderr.is_empty() {
            met += 1;
        }
    }
    assert!(swaps.load(Ordering::Relaxed) > 0, "the racer never swapped");
    assert!(met > 0, "no round met the swap");
}
