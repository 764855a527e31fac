//! `knot::hardlinks` on Windows, run under Wine by `scripts/test-windows.sh`:
//! `CreateHardLinkW` makes the names, and `names` finds them by `FindFirstFileNameW`, or
//! where the system has none that works (Wine 8's is a stub that fails with
//! `ERROR_CALL_NOT_IMPLEMENTED`) by the walk; the test prints which ran.

use std::fs;

use crate::fixture::Dir;
use knot::hardlinks::{HardlinksOptions, Lookup, Method, names};

#[test]
fn names_by_find_first_file_name_or_the_walk() {
    let tmp = Dir::new();
    let root = tmp.path();
    fs::create_dir_all(root.join("a\\b")).unwrap();
    fs::write(root.join("a\\f"), "data").unwrap();
    fs::hard_link(root.join("a\\f"), root.join("a\\b\\g")).unwrap();
    fs::hard_link(root.join("a\\f"), root.join("h")).unwrap();
    let options = HardlinksOptions {
        within: Some(root.join("a")),
        ..HardlinksOptions::default()
    };
    let found = names(root.join("a\\f"), &options, &mut |e| panic!("{e}")).unwrap();
    eprintln!(
        "knot hardlinks ran by {} ({})",
        found.method.name(),
        if found.method == Method::FileNames {
            "FindFirstFileNameW works here"
        } else {
            "FindFirstFileNameW is missing or a stub here: the walk ran instead"
        }
    );
    if found.method != Method::FileNames {
        crate::fixture::wine_lacks(
            "names_by_find_first_file_name_or_the_walk",
            "FindFirstFileNameW is a stub (Wine 8): the walk ran",
        );
    }
    assert_eq!(found.nlink, 3);
    assert_eq!(found.names, [root.join("a\\b\\g"), root.join("a\\f")]);
    assert_eq!(found.outside(), 1);
    // The walk gives the same names, whatever the system has.
    let walk = HardlinksOptions {
        lookup: Lookup::Walk,
        ..options.clone()
    };
    let walked = names(root.join("a\\f"), &walk, &mut |e| panic!("{e}")).unwrap();
    assert_eq!(walked.method, Method::Walk);
    assert_eq!(walked.names, found.names);
    // A directory is refused.
    let err = names(root.join("a"), &options, &mut |e| panic!("{e}")).unwrap_err();
    assert_eq!(*err.kind(), knot::ErrorKind::IsADirectory);
}

/// Removes a subst drive when dropped, a failed test included.
struct Subst(String);

impl Drop for Subst {
    fn drop(&mut self) {
        let _ = std::process::Command::new("subst")
            .args([self.0.as_str(), "/D"])
            .output();
    }
}

/// Through a subst drive, whose root is a folder of another drive, every name is still
/// found inside `--within`, named through the drive as given: the names
/// `FindFirstFileNameW` gives (relative to the real volume) and `--within` are made real
/// the same way, from the final path of their handles.
#[test]
fn names_through_a_subst_drive() {
    let test = "names_through_a_subst_drive";
    let tmp = Dir::new();
    let root = tmp.path();
    fs::create_dir_all(root.join("a\\b")).unwrap();
    fs::write(root.join("a\\f"), "data").unwrap();
    fs::hard_link(root.join("a\\f"), root.join("a\\b\\g")).unwrap();
    let Some(letter) = ('P'..='Y')
        .rev()
        .find(|l| !std::path::Path::new(&format!("{l}:\\")).exists())
    else {
        crate::fixture::wine_lacks(test, "no free drive letter");
        return;
    };
    let drive = format!("{letter}:");
    let made = std::process::Command::new("subst")
        .arg(&drive)
        .arg(root)
        .output();
    if !made.as_ref().is_ok_and(|out| out.status.success()) {
        crate::fixture::wine_lacks(test, &format!("no subst here: {made:?}"));
        return;
    }
    let _subst = Subst(drive.clone());
    let s = std::path::PathBuf::from(format!("{drive}\\"));
    if !s.join("a\\f").exists() {
        crate::fixture::wine_lacks(test, "subst reported success and made no drive (Wine 8)");
        return;
    }
    let options = HardlinksOptions {
        within: Some(s.join("a")),
        ..HardlinksOptions::default()
    };
    let found = names(s.join("a\\f"), &options, &mut |e| panic!("{e}")).unwrap();
    eprintln!(
        "through {drive}: knot hardlinks ran by {}",
        found.method.name()
    );
    if found.method != Method::FileNames {
        crate::fixture::wine_lacks(test, "FindFirstFileNameW is a stub (Wine 8): the walk ran");
    }
    assert_eq!(found.nlink, 2);
    assert_eq!(found.names, [s.join("a\\b\\g"), s.join("a\\f")]);
    assert!(found.complete());
}
