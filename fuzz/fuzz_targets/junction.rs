//! Parses arbitrary words (NUL-separated bytes) as `junction`'s command line, which knot
//! takes as a drop-in front end. The parser must never panic, whatever the words.

#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt as _;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let args: Vec<OsString> = data
        .split(|&b| b == 0)
        .map(|word| OsString::from_vec(word.to_vec()))
        .collect();
    let _ = knot_cli::fuzzing::junction(&args);
});
