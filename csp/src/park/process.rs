//! The process a waiter belongs to: per-process state that the channel layer reports
//! into and reads, without knowing what a process is.
//!
//! - **poison seen**: an operation that met poison (a failed read or write, the end of a
//!   `for v in input` loop, an alt guard) marks its process. From then on every end the
//!   process drops poisons its channel instead of retiring it, and when the process ends
//!   the runtime poisons all its channels and reports it stopped (`None`), whatever its
//!   body returned. An abort therefore travels through a chain of `id`s as an abort,
//!   never as a graceful end.
//! - **failing**: a `#[process]` body that returned an error marks its process before
//!   the parameters it still holds are dropped, so those ends poison too (as a panic's
//!   unwinding does). An end dropped while the body runs normally retires at once, so
//!   `drop(jobs); for r in &results { .. }` works as in Go.
//!
//! - **waiting on**: the wait (a [`Context`]) the process is parked in with no deadline,
//!   if any. A supervisor that finds every live process of its network parked this way,
//!   twice over with the very same undecided waits, knows none can ever be woken from
//!   inside the network: a deadlock, reported with what each one waits for.
//!
//! The state lives in a [`ProcessContext`] that the executor makes current while the
//! process runs (a thread-local pointer today; a green executor swaps it when it switches
//! coroutines), so many processes sharing a thread, or one moving between threads, each
//! keep their own.

use std::cell::{RefCell, UnsafeCell};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::Context;

/// The state of one running process that its channel operations update.
#[derive(Default)]
pub(crate) struct ProcessContext {
    saw_poison: AtomicBool,
    failing: AtomicBool,
    /// The untimed wait the process is parked in, while it lasts.
    waiting: ShownSlot,
}

impl ProcessContext {
    pub(crate) fn new() -> Arc<ProcessContext> {
        Arc::new(ProcessContext::default())
    }

    /// Whether one of the process's operations met poison.
    pub(crate) fn saw_poison(&self) -> bool {
        self.saw_poison.load(Ordering::Relaxed)
    }

    /// The wait the process is parked in with no deadline and that nobody has decided
    /// yet: `None` while it runs, sleeps, waits with a timeout, or is being woken.
    pub(crate) fn blocked_on(&self) -> Option<Arc<Context>> {
        self.waiting
            .with(|shown| shown.clone())
            .filter(|ctx| ctx.outcome().is_none())
    }

    fn show_waiting(&self, ctx: Option<Arc<Context>>) {
        let old = self.waiting.with(|shown| std::mem::replace(shown, ctx));
        // Dropped after the lock is let go.
        drop(old);
    }
}

/// The shown wait of one process, behind a lock of one flag. The process shows and
/// withdraws a wait twice per blocking operation, and a supervisor reads it now and
/// then: a mutex cost two atomic read-modify-writes per use, this lock costs one (its
/// release is a plain store). It is held for a pointer move only, so a contender (the
/// rare case) just yields until it is free.
#[derive(Default)]
struct ShownSlot {
    locked: AtomicBool,
    shown: UnsafeCell<Option<Arc<Context>>>,
}

// SAFETY: `shown` is touched only inside `with`, which holds `locked`; `Arc<Context>`
// is `Send + Sync`, so moving or cloning it from any thread is fine.
unsafe impl Sync for ShownSlot {}

impl ShownSlot {
    fn with<R>(&self, f: impl FnOnce(&mut Option<Arc<Context>>) -> R) -> R {
        while self.locked.swap(true, Ordering::Acquire) {
            std::thread::yield_now();
        }
        struct Unlock<'a>(&'a AtomicBool);
        impl Drop for Unlock<'_> {
            fn drop(&mut self) {
                self.0.store(false, Ordering::Release);
            }
        }
        let _unlock = Unlock(&self.locked);
        // SAFETY: `locked` is ours until `_unlock` drops, so this is the only reference
        // to `shown` meanwhile; `f` only moves or clones an `Arc` and does not reenter.
        f(unsafe { &mut *self.shown.get() })
    }
}

/// Shows `ctx` as the current process's untimed wait until the guard drops. Outside a
/// process (a thread of the caller's own), nothing is shown.
pub(crate) fn waiting_on(ctx: &Arc<Context>) -> Option<ShownWait> {
    with_current(|p| p.show_waiting(Some(ctx.clone())))?;
    Some(ShownWait {
        _not_send: PhantomData,
    })
}

/// Withdraws a shown wait when the waiter wakes. It finds its process as the current
/// one again (rather than holding an `Arc` of it, two atomic operations a wait): the
/// guard lives within one wait of one process, and whichever executor runs the process
/// makes it current again before the wait returns.
pub(crate) struct ShownWait {
    /// Dropped on the thread (and in the process) that made it.
    _not_send: PhantomData<*const ()>,
}

impl Drop for ShownWait {
    fn drop(&mut self) {
        with_current(|p| p.show_waiting(None));
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<ProcessContext>>> = const { RefCell::new(None) };
}

/// Makes `ctx` the current process until the guard drops, which restores the previous
/// one (a nested network's processes run on other threads; a `Sequence` runs its
/// processes one after another on this one).
pub(crate) fn enter(ctx: Arc<ProcessContext>) -> Entered {
    let previous = CURRENT.with(|c| c.replace(Some(ctx)));
    Entered { previous }
}

/// Restores the previously current process when dropped.
pub(crate) struct Entered {
    previous: Option<Arc<ProcessContext>>,
}

impl Entered {
    /// Restores the previously current process, giving back the one `enter` made
    /// current: an executor that resumes the same process many times moves its context
    /// in and out rather than cloning it (an `Arc` clone and drop per resume).
    pub(crate) fn leave(mut self) -> Option<Arc<ProcessContext>> {
        let previous = self.previous.take();
        let ours = CURRENT.try_with(|c| c.replace(previous)).ok().flatten();
        // Restored already: the drop would restore `None`.
        std::mem::forget(self);
        ours
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.previous.take();
        // `try_with`: a guard dropped during thread teardown must not panic.
        let _ = CURRENT.try_with(|c| c.replace(previous));
    }
}

fn with_current<R>(f: impl FnOnce(&ProcessContext) -> R) -> Option<R> {
    CURRENT
        .try_with(|c| c.borrow().as_deref().map(f))
        .ok()
        .flatten()
}

/// Called by the channel layer whenever an operation fails with `Poisoned`.
pub(crate) fn note_poisoned() {
    with_current(|p| p.saw_poison.store(true, Ordering::Relaxed));
}

/// Marks the current process as failing: ends dropped from now on poison.
pub(crate) fn set_failing() {
    with_current(|p| p.failing.store(true, Ordering::Relaxed));
}

/// Whether an end dropped now must poison its channel rather than retire it: the thread
/// is unwinding from a panic, or the current process is failing or has seen poison.
pub(crate) fn drop_poisons() -> bool {
    std::thread::panicking()
        || with_current(|p| p.saw_poison() || p.failing.load(Ordering::Relaxed)).unwrap_or(false)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::park::{Outcome, WaitOp, WaitReason};

    fn context(channel: u64) -> Arc<Context> {
        Context::acquire(WaitReason {
            op: WaitOp::Read,
            channel,
        })
    }

    #[test]
    fn a_shown_wait_is_seen_until_withdrawn_or_decided() {
        let process = ProcessContext::new();
        let _entered = enter(process.clone());
        assert!(process.blocked_on().is_none(), "nothing shown yet");
        let ctx = context(7);
        let shown = waiting_on(&ctx);
        let seen = process.blocked_on().expect("shown");
        assert!(Arc::ptr_eq(&seen, &ctx));
        drop(seen);
        drop(shown);
        assert!(process.blocked_on().is_none(), "withdrawn");
        let _shown = waiting_on(&ctx);
        assert!(ctx.try_complete(Outcome::Selected(0)));
        assert!(
            process.blocked_on().is_none(),
            "decided waits are not blocked"
        );
    }

    /// The process shows and withdraws waits while a supervisor thread reads them: every
    /// wait the supervisor sees is one the process showed, and still alive.
    #[test]
    fn showing_races_with_a_reader() {
        let process = ProcessContext::new();
        let reader = process.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let stop_reader = stop.clone();
        let supervisor = std::thread::spawn(move || {
            let mut seen = 0u64;
            while !stop_reader.load(Ordering::Relaxed) {
                if let Some(ctx) = reader.blocked_on() {
                    assert!(ctx.reason().channel < 1000);
                    seen += 1;
                }
            }
            seen
        });
        {
            let _entered = enter(process.clone());
            for i in 0..100_000u64 {
                let ctx = context(i % 1000);
                let shown = waiting_on(&ctx);
                std::hint::black_box(&shown);
                drop(shown);
            }
        }
        stop.store(true, Ordering::Relaxed);
        supervisor.join().expect("supervisor");
        assert!(process.blocked_on().is_none());
    }
}
