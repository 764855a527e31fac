//! Parses arbitrary words (NUL-separated bytes) as the command line of each drop-in front
//! end knot offers: cmd's `mklink` and Sysinternals' `junction`. Neither parser may panic,
//! whatever the words.

#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt as _;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let args: Vec<OsString> = data
        .split(|&b| b == 0)
        .map(|word| OsString::from_vec(word.to_vec()))
        .collect();
    let _ = knot_cli::fuzzing::mklink(&args);
    let _ = knot_cli::fuzzing::junction(&args);
});
