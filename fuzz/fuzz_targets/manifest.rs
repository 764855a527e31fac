//! Reads arbitrary bytes as `knot apply` reads a manifest (a manifest is untrusted input).
//! The reader must never panic; every record it reads must write and read back the same;
//! the lines come in order; and what is read must not depend on the size of the parts the
//! manifest is read in (the first byte picks a small one), nor on the number of threads
//! (two, on every input however small).

#![no_main]

use libfuzzer_sys::fuzz_target;

type Lines = Vec<(usize, Result<knot::Record, String>)>;

fn read(bytes: &[u8], part: usize, threads: usize) -> Lines {
    let mut lines: Lines = Vec::new();
    knot_cli::fuzzing::manifest(bytes.to_vec(), part, threads, |number, read| {
        if let Some((last, _)) = lines.last() {
            assert!(number > *last, "line {number} after line {last}");
        }
        lines.push((number, read.cloned()));
    });
    lines
}

fuzz_target!(|data: &[u8]| {
    let Some((&part, bytes)) = data.split_first() else {
        return;
    };
    let whole = read(bytes, usize::MAX, 1);
    for (_, record) in &whole {
        if let Ok(record) = record {
            let json = serde_json::to_string(record).unwrap();
            let back: knot::Record = serde_json::from_str(&json).unwrap();
            assert_eq!(&back, record, "{json}");
        }
    }
    // Parts of every size on one thread (the seams between parts), and one part on two
    // threads (the seams between the threads' shares): the same lines.
    assert_eq!(read(bytes, usize::from(part), 1), whole, "parts of {part}");
    assert_eq!(read(bytes, usize::MAX, 2), whole, "two threads");
});
