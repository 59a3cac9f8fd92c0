//! The one place the crate takes its synchronisation primitives from.
//!
//! Under `cfg(loom)` every atomic, lock and park comes from loom, so the model
//! tests explore all interleavings of the channel core without changing its code.

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

/// Parks the calling thread until it is unparked, or until `timeout` passes (loom has
/// no clock: there a timed park only yields, which models every possible expiry).
pub(crate) fn park(timeout: Option<std::time::Duration>) {
    #[cfg(not(loom))]
    match timeout {
        Some(t) => std::thread::park_timeout(t),
        None => std::thread::park(),
    }
    #[cfg(loom)]
    match timeout {
        Some(_) => loom::thread::yield_now(),
        None => loom::thread::park(),
    }
}
