//! The floor under `knot apply`, for `bench/apply`: the same links made by a loop that does
//! nothing else (no manifest to parse, no check, no report), so that knot's ratio to the
//! Python loop can be read against what the kernel itself takes.
//!
//!     apply-floor ROOT PAIRS READ_BACK THREADS
//!
//! PAIRS is the NUL-separated path and target pairs the Python loop reads; the links are
//! made as it makes them, from inside ROOT by their relative paths (`symlink(2)`), then,
//! if READ_BACK is 1, each read back (`readlink(2)`), as knot reads back every link it
//! makes. THREADS threads share the links by directory, as `knot apply` does.

use std::ffi::OsStr;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, root, pairs, read_back, threads] = &args[..] else {
        eprintln!("usage: apply-floor ROOT PAIRS READ_BACK THREADS");
        std::process::exit(2);
    };
    let data = std::fs::read(pairs).expect("the pairs");
    std::env::set_current_dir(root).expect("the root");
    let read_back = read_back == "1";
    let threads: usize = threads.parse().expect("a number of threads");
    let fields: Vec<&[u8]> = data.split(|&b| b == 0).collect();
    let mut shares = vec![Vec::new(); threads];
    for pair in fields.chunks_exact(2) {
        let (path, target) = (pair[0], pair[1]);
        let dir = path.iter().rposition(|&b| b == b'/').map_or(&[][..], |end| &path[..end]);
        let share = BuildHasherDefault::<DefaultHasher>::default().hash_one(dir) as usize;
        shares[share % threads].push((path, target));
    }
    std::thread::scope(|scope| {
        for share in &shares {
            scope.spawn(move || {
                for &(path, target) in share {
                    let path = Path::new(OsStr::from_bytes(path));
                    std::os::unix::fs::symlink(OsStr::from_bytes(target), path)
                        .expect("a link made");
                    if read_back {
                        std::fs::read_link(path).expect("a link read back");
                    }
                }
            });
        }
    });
}
