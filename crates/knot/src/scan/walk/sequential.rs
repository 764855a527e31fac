//! The walk as an iterator, depth first, on the calling thread.

use super::*;

/// The sequential walk: a stack of jobs, and what the last directory read produced.
pub(crate) struct Sequential<F: Filter> {
    walker: Walker<F>,
    stack: Vec<Job>,
    pending: VecDeque<Result<F::Item>>,
    reader: DirReader,
}

impl<F: Filter + fmt::Debug> fmt::Debug for Sequential<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sequential")
            .field("walker", &self.walker)
            .field("stack", &self.stack)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl<F: Filter> Sequential<F> {
    pub(super) fn new(walker: Walker<F>, roots: &[PathBuf]) -> Sequential<F> {
        Sequential {
            stack: root_jobs(roots, &walker),
            walker,
            pending: VecDeque::new(),
            reader: DirReader::new(),
        }
    }
}

impl<F: Filter> Iterator for Sequential<F> {
    type Item = Result<F::Item>;

    fn next(&mut self) -> Option<Result<F::Item>> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            let Some(job) = self.stack.pop() else {
                self.stack = self.walker.next_round();
                if self.stack.is_empty() {
                    return None;
                }
                continue;
            };
            let pending = &mut self.pending;
            let mut emit = |item| {
                pending.push_back(item);
                WalkState::Continue
            };
            self.walker
                .run(job, &mut self.reader, &mut emit, &mut self.stack);
        }
    }
}
