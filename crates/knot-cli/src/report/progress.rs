//! Progress on standard error for every long command (`scan`, `du`, `hardlinks`, `fix`,
//! `copy`), drawn one way with `indicatif`: a line that shows what the command's counters
//! say and the time elapsed,
//! from the time it has run half a second, redrawn ten times a second and wiped when the
//! command is done. Only where standard error is a terminal and messages are not quiet,
//! so it never mixes into piped output; anything else written to the terminal while it
//! is shown goes through [`suspend`], which wipes the line and draws it again below. The
//! line is a guard: it is wiped when the [`ProgressLine`] is dropped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use knot::scan::Progress;

use crate::context::Context;
use crate::report::Messages;

/// The line shown, if any: what [`suspend`] hides while something else is written.
static SHOWN: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// How long a command runs before its progress is shown: a quick one never flickers.
const DELAY: Duration = Duration::from_millis(500);

/// How often the counters are read and the line redrawn.
const TICK: Duration = Duration::from_millis(100);

/// The progress line of one command, wiped for good when dropped.
#[derive(Debug)]
pub struct ProgressLine {
    bar: ProgressBar,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ProgressLine {
    /// Starts showing `label: render(counters) [elapsed]` on standard error, if it is a
    /// terminal and messages are not quiet; `None` otherwise.
    pub fn start(
        context: &Context,
        label: &str,
        progress: Arc<Progress>,
        render: fn(&Progress) -> String,
    ) -> Option<ProgressLine> {
        ProgressLine::start_with(context, label, move || render(&progress))
    }

    /// [`ProgressLine::start`] of `label: render() [elapsed]`, for counters a command
    /// keeps itself (`knot copy`'s items and bytes).
    pub fn start_with(
        context: &Context,
        label: &str,
        render: impl Fn() -> String + Send + 'static,
    ) -> Option<ProgressLine> {
        let messages = Messages::of(context);
        if !context.terminal.stderr || messages.quiet {
            return None;
        }
        // Hidden until DELAY has passed; indicatif also draws nothing where standard
        // error is not a terminal.
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        let style = ProgressStyle::with_template("{prefix}{msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.set_prefix(messages.labelled(label, ""));
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let drawn = bar.clone();
        // A thread the system cannot start leaves the work without a progress line.
        let thread = std::thread::Builder::new()
            .spawn(move || {
                let mut waited = Duration::ZERO;
                while !stopped.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    waited += TICK;
                    if waited < DELAY || stopped.load(Ordering::Relaxed) {
                        continue;
                    }
                    if drawn.is_hidden() {
                        drawn.set_draw_target(ProgressDrawTarget::stderr_with_hz(10));
                    }
                    drawn.set_message(render());
                }
            })
            .ok()?;
        *SHOWN.lock().unwrap_or_else(PoisonError::into_inner) = Some(bar.clone());
        Some(ProgressLine {
            bar,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for ProgressLine {
    /// Wipes the line for good.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        *SHOWN.lock().unwrap_or_else(PoisonError::into_inner) = None;
        self.bar.finish_and_clear();
    }
}

/// Runs `write` (output or a message for the terminal) with the progress line wiped, and
/// draws the line again after it; just runs it where no line is shown.
pub fn suspend<R>(write: impl FnOnce() -> R) -> R {
    let shown = SHOWN.lock().unwrap_or_else(PoisonError::into_inner);
    match shown.as_ref() {
        // Held while writing, so two threads' output never meets the line half drawn.
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

/// `N entries seen, M links found`: `knot scan`'s counters.
pub fn scan_counts(progress: &Progress) -> String {
    format!(
        "{} entries seen, {} links found",
        progress.entries(),
        progress.found()
    )
}

/// `N entries, X`: `knot du`'s counters, the bytes in binary units.
pub fn du_counts(progress: &Progress) -> String {
    format!(
        "{} entries, {}",
        progress.entries(),
        indicatif::BinaryBytes(progress.bytes())
    )
}

/// `N entries seen, M names found`: the counters of `knot hardlinks FILE`'s walk.
pub fn names_counts(progress: &Progress) -> String {
    format!(
        "{} entries seen, {} names found",
        progress.entries(),
        progress.found()
    )
}

/// `N entries seen, M hard-linked names found`: `knot hardlinks --groups`' counters.
pub fn groups_counts(progress: &Progress) -> String {
    format!(
        "{} entries seen, {} hard-linked names found",
        progress.entries(),
        progress.found()
    )
}

/// The note that the work ran on fewer threads than asked for, where the system could not
/// start more (out of memory, or of processes in a cgroup): the work was done all the same.
pub fn threads_note(messages: &Messages, threads: knot::Threads) {
    if threads.started < threads.asked {
        messages.note(&format!(
            "the system started only {} of the {} threads asked for; the work was done on {}",
            threads.started, threads.asked, threads.started
        ));
    }
}
