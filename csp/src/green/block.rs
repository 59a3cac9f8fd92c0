//! [`block_in_place`]: blocking work from a green process, off its worker.

use std::panic;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use super::overflow;
use crate::park::parker::park;
use crate::park::Unparker;

/// Runs `f`, which may block its OS thread (`std::thread::sleep`, blocking I/O, a
/// lock held long by another thread, a nested [`Parallel::run`](crate::Parallel::run)),
/// without stalling the other processes of the calling green process's worker; gives
/// `f`'s result, or resumes its panic.
///
/// In a green process (see [`Placement::Green`](crate::Placement::Green)), `f` runs on a
/// helper thread started for it while the calling process waits, suspended like a
/// process waiting on a channel: the worker runs its other processes meanwhile. A call
/// costs a thread start (tens of microseconds): use it for work that blocks, not for
/// every small step. If the OS refuses the thread, `f` runs on the worker itself (as
/// it would have without `block_in_place`). Anywhere else (a process on a thread or
/// forked, or no process at all) it just calls `f`.
///
/// `f` runs on another OS thread: what it does with thread-locals stays there.
///
/// ```
/// use std::time::Duration;
/// use csp::{block_in_place, Channel, Parallel, Process};
///
/// let (tx, rx) = Channel::<u32>::new().one2one();
/// // One worker for both: the sleeper's 50 ms do not hold up the two that talk.
/// let results = Parallel::new()
///     .add(Process::from_fn("sleeper", || {
///         block_in_place(|| std::thread::sleep(Duration::from_millis(50)));
///         0
///     }))
///     .add(Process::with_ends("writer", tx, |tx| {
///         for i in 0..100 {
///             tx.write(i)?;
///         }
///         Ok(0)
///     }))
///     .add(Process::with_ends("reader", rx, |rx| Ok(rx.iter().sum())))
///     .green()
///     .green_workers(1)
///     .run()?;
/// assert_eq!(results, vec![Some(0), Some(0), Some(4950)]);
/// # Ok::<(), csp::NetworkError>(())
/// ```
pub fn block_in_place<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if !overflow::in_green_process() {
        return f();
    }
    // Taken by the helper thread, or by this one if no helper can start.
    let work = Mutex::new(Some(f));
    let take = || work.lock().unwrap_or_else(PoisonError::into_inner).take();
    let done = AtomicBool::new(false);
    let waker = Unparker::current();
    std::thread::scope(|scope| {
        let helper = std::thread::Builder::new()
            .name("csp-block-in-place".into())
            .spawn_scoped(scope, || {
                // Set and wake even if `f` panics: the caller must not wait forever.
                let _finished = Finished {
                    done: &done,
                    waker: &waker,
                };
                take().map(|f| f())
            });
        let Ok(helper) = helper else {
            return take().map(|f| f());
        };
        while !done.load(Ordering::Acquire) {
            park(None);
        }
        match helper.join() {
            Ok(result) => result,
            Err(payload) => panic::resume_unwind(payload),
        }
    })
    .unwrap_or_else(|| unreachable_work())
}

/// Marks the helper's work finished and wakes the waiting process, when dropped.
struct Finished<'a> {
    done: &'a AtomicBool,
    waker: &'a Unparker,
}

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Release);
        self.waker.unpark();
    }
}

/// The work is taken exactly once, by the helper or by the caller: never neither.
fn unreachable_work() -> ! {
    unreachable!("block_in_place: the work was taken twice")
}
