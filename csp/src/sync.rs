//! The one place the crate takes its synchronisation primitives from.
//!
//! Under `cfg(loom)` every atomic, lock and park comes from loom, so the model
//! tests explore all interleavings of the channel core without changing its code.

use std::time::{Duration, Instant};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The channel lock: std's futex mutex, which spins briefly and then sleeps. A pure spin
/// lock (this crate's first choice) collapsed under load: when its holder is preempted,
/// every waiter burns its time slice, and commstime beside one busy thread per core ran
/// ~100x slower than crossbeam (which made the same move to `std::sync::Mutex`).
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{AtomicBool, AtomicUsize, Ordering},
    Mutex, MutexGuard,
};

/// A cell whose accesses loom checks for data races (the ring buffer's slots). Both
/// builds offer loom's closure API, so the ring's code is the same under either.
#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// Calls `f` with a pointer to the contents; the caller upholds exclusive access.
    #[inline]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// Locks `m`. Lock poisoning is ignored: the crate's own code never panics while holding
/// one of its locks, and the one piece of user code that runs under a channel lock (a
/// priority buffer's `Ord`) is caught and turned into channel poison (see `buffer`), so
/// the state behind a poisoned lock is still consistent.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One step of a short wait for a state another thread is about to change. It yields:
/// that thread may have been descheduled, and on a small machine spinning would only
/// delay it.
pub(crate) fn spin_wait() {
    #[cfg(not(loom))]
    std::thread::yield_now();
    #[cfg(loom)]
    loom::thread::yield_now();
}

#[cfg(loom)]
pub(crate) use loom::thread_local;
/// Per-thread storage: loom's under `cfg(loom)`, whose model threads all run on one OS
/// thread and whose values must not outlive one execution.
#[cfg(not(loom))]
pub(crate) use std::thread_local;

/// The handle that wakes a parked thread.
#[cfg(not(loom))]
pub(crate) type Thread = std::thread::Thread;
#[cfg(loom)]
pub(crate) type Thread = loom::thread::Thread;

pub(crate) fn current_thread() -> Thread {
    #[cfg(not(loom))]
    {
        std::thread::current()
    }
    #[cfg(loom)]
    {
        loom::thread::current()
    }
}

/// Parks the calling thread until it is unparked, or until `timeout` passes. Under loom
/// a timed park lets the other threads run and then moves the model clock past the
/// timeout (see [`now`]), so the waiter's deadline has passed when it looks again.
pub(crate) fn park(timeout: Option<Duration>) {
    #[cfg(not(loom))]
    match timeout {
        Some(t) => std::thread::park_timeout(t),
        None => std::thread::park(),
    }
    #[cfg(loom)]
    match timeout {
        Some(t) => sleep(t),
        None => loom::thread::park(),
    }
}

/// Blocks the calling thread for `d` (under loom: yields, then advances the model clock).
pub(crate) fn sleep(d: Duration) {
    #[cfg(not(loom))]
    std::thread::sleep(d);
    #[cfg(loom)]
    {
        loom::thread::yield_now();
        model_clock::advance(d);
    }
}

/// The current instant: every deadline in the crate is measured with it.
///
/// Under loom it is a model clock that stands still except when a timed park or sleep
/// moves it on. A real clock would never let a model reach a deadline in the future (the
/// waiter would yield until its partner came), and a deadline already passed never lets
/// a waiter register at all; with this clock a timed wait registers, lets every other
/// thread run (loom explores where), and then expires, so a model explores both "the
/// partner came first" and "the deadline passed first".
pub(crate) fn now() -> Instant {
    #[cfg(not(loom))]
    return Instant::now();
    #[cfg(loom)]
    return model_clock::now();
}

#[cfg(loom)]
mod model_clock {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    /// Fixed for the whole test binary, so that time is a function of the schedule alone.
    static ORIGIN: OnceLock<Instant> = OnceLock::new();

    loom::lazy_static! {
        /// Nanoseconds elapsed in the current execution (loom resets lazy statics for
        /// every execution). A std atomic: time is the model's environment, not shared
        /// state whose interleavings loom should explore.
        static ref ELAPSED_NS: AtomicU64 = AtomicU64::new(0);
    }

    pub(super) fn now() -> Instant {
        *ORIGIN.get_or_init(Instant::now) + Duration::from_nanos(ELAPSED_NS.load(Ordering::SeqCst))
    }

    pub(super) fn advance(d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let _ = ELAPSED_NS.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |e| {
            Some(e.saturating_add(ns))
        });
    }
}
