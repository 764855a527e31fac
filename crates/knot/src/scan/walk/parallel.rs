//! The walk on several threads: a shared stack of jobs.

use super::*;

/// The shared stack of a parallel walk.
pub(super) struct Queue {
    pub(super) state: Mutex<QueueState>,
    pub(super) ready: Condvar,
}

pub(super) struct QueueState {
    pub(super) jobs: Vec<Job>,
    /// Threads holding a job; the walk is over when none does and no job is left.
    pub(super) active: usize,
    /// Threads waiting for a job: only they need waking (a wake is a system call).
    pub(super) idle: usize,
    pub(super) done: bool,
}

impl Queue {
    pub(super) fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// When no thread holds a job and none is left, the round is over: the next one's
    /// jobs (`follow` only), or the end of the walk. Taken under the lock, so no thread
    /// starts the next round before every thread is done with this one.
    pub(super) fn end_of_round<F: Filter>(state: &mut QueueState, walker: &Walker<F>) {
        if state.active == 0 && state.jobs.is_empty() {
            state.jobs = walker.next_round();
            state.done = state.jobs.is_empty();
        }
    }

    /// The next job, waiting while other threads may still produce one.
    pub(super) fn pop<F: Filter>(&self, walker: &Walker<F>) -> Option<Job> {
        let mut state = self.lock();
        loop {
            if state.done {
                return None;
            }
            if let Some(job) = state.jobs.pop() {
                state.active += 1;
                return Some(job);
            }
            if state.active == 0 {
                Queue::end_of_round(&mut state, walker);
                if state.idle > 0 {
                    self.ready.notify_all();
                }
                continue;
            }
            state.idle += 1;
            state = self
                .ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.idle -= 1;
        }
    }

    /// Shares the jobs a thread found; `keeps_one` says it goes on with one more itself.
    pub(super) fn share<F: Filter>(
        &self,
        jobs: &mut Vec<Job>,
        keeps_one: bool,
        walker: &Walker<F>,
    ) {
        let mut state = self.lock();
        let mut shared = !jobs.is_empty();
        state.jobs.append(jobs);
        if !keeps_one {
            state.active -= 1;
        }
        if state.active == 0 && state.jobs.is_empty() {
            Queue::end_of_round(&mut state, walker);
            shared = !state.jobs.is_empty();
        }
        if state.idle > 0 && (state.done || shared) {
            self.ready.notify_all();
        }
    }

    pub(super) fn stop(&self) {
        let mut state = self.lock();
        state.done = true;
        self.ready.notify_all();
    }
}

pub(super) fn run_parallel<'s, F: Filter>(
    walker: Walker<F>,
    roots: &[PathBuf],
    threads: usize,
    visitor: &mut dyn FnMut() -> BoxVisitor<'s, F::Item>,
) {
    let queue = Queue {
        state: Mutex::new(QueueState {
            jobs: root_jobs(roots, &walker),
            active: 0,
            idle: 0,
            done: false,
        }),
        ready: Condvar::new(),
    };
    let started = |started: usize| {
        if let Some(progress) = &walker.config.progress {
            let asked = threads.max(1);
            progress.set_threads(crate::scan::Threads { asked, started });
        }
    };
    if threads <= 1 {
        started(1);
        let mut visitor = visitor();
        work(&walker, &queue, &mut *visitor);
        return;
    }
    std::thread::scope(|scope| {
        // As many threads as the system gives, up to `threads`: a thread it cannot start
        // (out of memory, or of processes in a cgroup) leaves the work to the others, and
        // with none started it is done here.
        let running = crate::threads::start_threads(scope, threads, || {
            let mut visitor = visitor();
            let (walker, queue) = (&walker, &queue);
            move || {
                work(walker, queue, &mut *visitor);
                // The visitor is dropped here, on its own thread, before `run` returns.
            }
        });
        started(running.max(1));
        if running == 0 {
            let mut visitor = visitor();
            work(&walker, &queue, &mut *visitor);
        }
    });
}

/// Ends the walk for every thread when the one it guards panics (a filter's or a
/// visitor's bug): the job it held would otherwise stay active for ever, and the others
/// wait for it without end; so the panic reaches the caller and the process does not hang.
struct StopOnPanic<'a>(&'a Queue);

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.stop();
        }
    }
}

pub(super) fn work<F: Filter>(walker: &Walker<F>, queue: &Queue, emit: &mut Emit<'_, F::Item>) {
    let _stop = StopOnPanic(queue);
    let mut reader = DirReader::new();
    let mut jobs = Vec::new();
    let mut next = None;
    loop {
        let job = match next.take() {
            Some(job) => job,
            None => match queue.pop(walker) {
                Some(job) => job,
                None => return,
            },
        };
        walker.run(job, &mut reader, emit, &mut jobs);
        if walker.quitting() {
            queue.stop();
            return;
        }
        // Go on with the last subdirectory found (depth first, so few directories are
        // pending at once) and share the others.
        next = jobs.pop();
        if !(jobs.is_empty() && next.is_some()) {
            queue.share(&mut jobs, next.is_some(), walker);
        }
    }
}
