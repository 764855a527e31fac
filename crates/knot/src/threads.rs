//! The threads a parallel operation runs on: started as the system allows, and counted.

use std::sync::Arc;

/// How many threads a parallel operation was to run on, and how many it ran on: fewer
/// where the system could not start more (out of memory, or of processes in a cgroup),
/// and then the others did the work. Both 0 before it starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Threads {
    /// The threads asked for (one per core where none was given), as many as there is
    /// work for.
    pub asked: usize,
    /// The threads the work ran on.
    pub started: usize,
}

/// Starts up to `threads` threads in `scope`, each running what `each` makes, and returns
/// how many the system started (it may refuse one: out of memory, or of processes in a
/// cgroup or under `RLIMIT_NPROC`). A thread whose work is done keeps its place until the
/// last is started, so that the number started is the number that ran at once: what a
/// limit on processes allowed, not how many came and went.
pub(crate) fn start_threads<'scope, F>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    threads: usize,
    mut each: impl FnMut() -> F,
) -> usize
where
    F: FnOnce() + Send + 'scope,
{
    let starting = Arc::new(std::sync::RwLock::new(()));
    let held = starting.write();
    let mut started = 0;
    for _ in 0..threads {
        let (work, starting) = (each(), Arc::clone(&starting));
        let spawned = std::thread::Builder::new().spawn_scoped(scope, move || {
            work();
            drop(starting.read());
        });
        if spawned.is_err() {
            break;
        }
        started += 1;
    }
    drop(held);
    started
}
