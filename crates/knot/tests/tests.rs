//! The library's integration tests: one binary, as fd, ripgrep and uutils build theirs,
//! with one module per part of the library and one fixture (`fixture`). A test is named by
//! its module and its name: `cargo test -p knot --test tests scan::`.
//!
//! Modules for one platform are compiled there only. `Cargo.toml` sets `autotests = false`,
//! so a file in `tests/` is built only when it is listed here.

mod fixture;

#[cfg(unix)]
mod convert;
#[cfg(target_os = "linux")]
mod copy;
#[cfg(target_os = "linux")]
mod copy_outer;
#[cfg(target_os = "linux")]
mod copy_special;
#[cfg(unix)]
mod hardlinks;
#[cfg(target_os = "linux")]
mod materialize;
#[cfg(target_os = "linux")]
mod mirror;
#[cfg(target_os = "linux")]
mod races;
#[cfg(target_os = "linux")]
mod relocate;
mod rm_tree;
#[cfg(unix)]
mod scan;
#[cfg(target_os = "linux")]
mod snapshot;
#[cfg(unix)]
mod unix_links;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
mod windows_hardlinks;
#[cfg(windows)]
mod windows_links;
