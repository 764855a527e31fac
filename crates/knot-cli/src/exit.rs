//! knot's exit codes, every one of them (README, "Exit codes"), and how two of them merge
//! (fd's `exit_codes.rs`).

use std::process::ExitCode;

/// How a run of knot ends: `main` returns one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    /// Some operation or entry failed; each failure was printed.
    Failure = 1,
    /// The command line was not understood (clap printed why).
    Usage = 2,
    /// `scan --check` found matching links; `git-links --check` found placeholders.
    Found = 3,
}

impl Exit {
    /// The exit that says both: a failure outweighs success, a match of `scan --check`
    /// outweighs a failure (the README promises 3 even when something could not be read),
    /// and a usage error outweighs everything.
    #[must_use]
    pub fn merge(self, other: Exit) -> Exit {
        fn weight(exit: Exit) -> u8 {
            match exit {
                Exit::Success => 0,
                Exit::Failure => 1,
                Exit::Found => 2,
                Exit::Usage => 3,
            }
        }
        if weight(other) > weight(self) {
            other
        } else {
            self
        }
    }

    /// [`Exit::Failure`] where `failed`, else [`Exit::Success`].
    pub fn failed_if(failed: bool) -> Exit {
        if failed { Exit::Failure } else { Exit::Success }
    }
}

impl std::process::Termination for Exit {
    fn report(self) -> ExitCode {
        ExitCode::from(self as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_the_documented_ones() {
        use std::process::Termination as _;
        for (exit, code) in [
            (Exit::Success, 0u8),
            (Exit::Failure, 1),
            (Exit::Usage, 2),
            (Exit::Found, 3),
        ] {
            assert_eq!(exit as u8, code);
            assert_eq!(exit.report(), ExitCode::from(code));
        }
    }

    #[test]
    fn the_weightier_exit_wins_a_merge_either_way_round() {
        use Exit::*;
        for (a, b, merged) in [
            (Success, Success, Success),
            (Success, Failure, Failure),
            (Failure, Found, Found),
            (Found, Usage, Usage),
            (Success, Found, Found),
        ] {
            assert_eq!(a.merge(b), merged, "{a:?} {b:?}");
            assert_eq!(b.merge(a), merged, "{b:?} {a:?}");
        }
    }
}
