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
