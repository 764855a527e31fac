//! With `follow` (or `once`), each directory walked once, in rounds.

use super::*;

/// With `follow`, what makes the walk visit each directory once, by (device, inode) or
/// (volume serial, file id), whichever path reaches it, so that its time is proportional
/// to the tree, never to the number of paths through it (DESIGN.md promise 4): two links
/// per level to the next would otherwise make 2^levels records.
///
/// The walk goes in rounds. Round 0 walks the roots without entering links; round n+1
/// enters the links to directories that round n found, and walks below them without
/// entering links again. A directory is walked in the first round that reaches it, by the
/// path that comes first among that round's paths to it: a real directory before a link
/// to it, fewer links before more, and among links found in one round, the first path in
/// order. Each round's targets are all claimed before the round starts, so what a round
/// walks does not depend on the order in which threads meet it: the sequential and the
/// parallel walk find the same records under the same paths. A link to a directory that
/// is walked already, or claimed by an earlier path, is listed and not entered.
///
/// (Where one directory has two names without links, a bind mount or a hard-linked
/// directory, the first thread to reach it walks it, under its name.)
///
/// With `once` and no `follow`, no link is entered, so there is one round: the set only
/// keeps a directory from being walked again under a second path that is no link (a bind
/// mount of the same file system, a root given twice or below another root).
#[derive(Debug, Default)]
pub(super) struct Visited {
    /// Every directory walked, or claimed to be walked in this round.
    pub(super) walked: Mutex<HashSet<FileId>>,
    /// The links to directories found in this round, as jobs for the next.
    pub(super) next: Mutex<Vec<Job>>,
}

impl Visited {
    pub(super) fn lock_walked(&self) -> MutexGuard<'_, HashSet<FileId>> {
        self.walked.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts `id` as walked; false when it is already.
    pub(super) fn claim(&self, id: FileId) -> bool {
        self.lock_walked().insert(id)
    }

    pub(super) fn defer(&self, jobs: &mut Vec<Job>) {
        if !jobs.is_empty() {
            let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
            next.append(jobs);
        }
    }

    /// The next round: the links found in the last one, in path order, each claiming the
    /// directory it leads to; a link to a directory walked or claimed already is dropped
    /// (its record was listed when it was found). (On Windows, a directory that cannot be
    /// opened even for its attributes has no file id, only `LISTED_ID`, shared by all
    /// such; only the first is kept, and none could be opened to be read anyway.)
    pub(super) fn next_round(&self) -> Vec<Job> {
        let mut next =
            std::mem::take(&mut *self.next.lock().unwrap_or_else(PoisonError::into_inner));
        next.sort_by(|a, b| a.path.cmp(&b.path));
        let mut walked = self.lock_walked();
        next.retain(|job| match &job.open {
            How::Below {
                claimed: Some(id), ..
            } => walked.insert(*id),
            _ => true,
        });
        // A stack: the first path is walked first.
        next.reverse();
        next
    }
}
