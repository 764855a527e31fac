//! The codec's integration tests: one binary, as fd, ripgrep and uutils build theirs, with
//! the golden vectors (`vectors`) and the property tests (`roundtrip`). `Cargo.toml` sets
//! `autotests = false`, so a file in `tests/` is built only when it is listed here.

mod roundtrip;
mod vectors;
