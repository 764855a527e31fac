//! The `knot` binary (and `mklink` and `junction`, by the name it runs under): the whole
//! work is in the library ([`knot_cli::main`]).

fn main() -> std::process::ExitCode {
    knot_cli::main()
}
