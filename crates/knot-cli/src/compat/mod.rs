//! The drop-in front ends (DESIGN.md section 2): cmd's `mklink` and Sysinternals
//! `junction`, spoken by the same binary when it runs under their names or as
//! `knot compat mklink ...` / `knot compat junction ...`. Each is only another parser that
//! produces the same [`Settings`](crate::cli::Settings) as knot's own commands (STYLE.md
//! point 8); the program's dialect picks the messages.

pub mod junction;
pub mod mklink;
