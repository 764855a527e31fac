//! Black-box tests of the `knot` binary: one test binary, as fd, ripgrep and uutils build
//! theirs, with one module per command or front end (and a few for what cuts across them:
//! long paths, races, ntfs-3g, temporary names) and one fixture (`fixture`). A test is named
//! by its module and its name: `cargo test -p knot-cli --test tests scan::`.
//!
//! Modules for one platform are compiled there only; `junction`, `reparse_decode` and
//! `windows_cli` run everywhere, the last with parts of its own for Windows. `Cargo.toml`
//! sets `autotests = false`, so a file in `tests/` is built only when it is listed here.

mod fixture;

#[cfg(unix)]
mod apply;
#[cfg(unix)]
mod cli;
#[cfg(target_os = "linux")]
mod convert_native;
#[cfg(unix)]
mod copy;
#[cfg(target_os = "linux")]
mod copy_ntfs3g;
#[cfg(unix)]
mod du;
#[cfg(unix)]
mod fix;
// Linux (the local file system and ntfs-3g) and Windows; not yet written for macOS.
#[cfg(any(target_os = "linux", windows))]
mod git_links;
#[cfg(unix)]
mod hardlinks;
#[cfg(target_os = "linux")]
mod image_root;
mod junction;
#[cfg(target_os = "linux")]
mod long_paths;
#[cfg(target_os = "linux")]
mod materialize;
#[cfg(target_os = "linux")]
mod mirror;
#[cfg(unix)]
mod mklink;
#[cfg(target_os = "linux")]
mod r#move;
#[cfg(target_os = "linux")]
mod ntfs3g;
mod reparse_decode;
#[cfg(unix)]
mod retarget;
#[cfg(unix)]
mod rm_tree;
#[cfg(unix)]
mod scan;
#[cfg(unix)]
mod shell;
#[cfg(unix)]
mod snapshot;
#[cfg(unix)]
mod temporary_names;
#[cfg(target_os = "linux")]
mod tree_races;
mod windows_cli;
