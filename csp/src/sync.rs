//! The one place the crate takes its synchronisation primitives from.
//!
//! Under `cfg(loom)` every atomic, lock and park comes from loom, so the model
//! tests explore all interleavings of the channel core without changing its code.

#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{AtomicBool, AtomicUsize, Ordering},
    Mutex, MutexGuard,
};

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{AtomicBool, AtomicUsize, Ordering},
    Mutex, MutexGuard,
};

/// Locks `m`, ignoring std's lock poisoning: the crate never panics while holding one of
/// its locks on user input, and user code never runs under them, so the data is intact.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    #[cfg(not(loom))]
    {
        m.lock().unwrap_or_else(|e| e.into_inner())
    }
    #[cfg(loom)]
    {
        m.lock().unwrap()
    }
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
