//! The one place the crate takes its synchronisation primitives from.
//!
//! Under `cfg(loom)` every atomic, lock and park comes from loom, so the model
//! tests explore all interleavings of the channel core without changing its code.

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

#[cfg(not(loom))]
pub(crate) use spin::{Mutex, MutexGuard};

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{AtomicBool, AtomicUsize, Ordering},
    Mutex, MutexGuard,
};

/// Locks `m`. (Loom's mutex reports lock poisoning, which cannot happen: the crate never
/// panics while holding one of its locks, and user code never runs under them.)
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    #[cfg(not(loom))]
    {
        m.lock()
    }
    #[cfg(loom)]
    {
        m.lock().unwrap()
    }
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

#[cfg(not(loom))]
mod spin {
    //! The channel lock: a spin lock with exponential backoff that yields the CPU when
    //! the holder is slow (crossbeam-channel's `Spinlock`). Critical sections in the
    //! channel core are a few dozen instructions with no user code and no syscall, so
    //! spinning beats a futex mutex, whose contended unlock costs a `futex_wake` syscall
    //! per message on a busy buffered channel (measured: 4x slower than crossbeam).

    use std::cell::UnsafeCell;
    use std::ops::{Deref, DerefMut};
    use std::sync::atomic::{AtomicBool, Ordering};

    use crossbeam_utils::Backoff;

    pub(crate) struct Mutex<T> {
        locked: AtomicBool,
        value: UnsafeCell<T>,
    }

    // SAFETY: the lock hands out access to `value` to one guard at a time (the
    // `locked` flag is taken with an Acquire CAS and given back with a Release store), so
    // sharing the mutex between threads only ever moves `T` between them: `T: Send` is
    // what that needs, as for `std::sync::Mutex`.
    unsafe impl<T: Send> Send for Mutex<T> {}
    // SAFETY: as above; `&Mutex<T>` gives no access to `T` without the lock.
    unsafe impl<T: Send> Sync for Mutex<T> {}

    impl<T> Mutex<T> {
        pub(crate) const fn new(value: T) -> Mutex<T> {
            Mutex {
                locked: AtomicBool::new(false),
                value: UnsafeCell::new(value),
            }
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            let backoff = Backoff::new();
            while self
                .locked
                .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
            {
                // Wait for the lock to look free before trying again, so waiters do not
                // keep stealing the cache line from the holder.
                while self.locked.load(Ordering::Relaxed) {
                    backoff.snooze();
                }
            }
            MutexGuard { lock: self }
        }
    }

    pub(crate) struct MutexGuard<'a, T> {
        lock: &'a Mutex<T>,
    }

    impl<T> Drop for MutexGuard<'_, T> {
        fn drop(&mut self) {
            self.lock.locked.store(false, Ordering::Release);
        }
    }

    impl<T> Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            // SAFETY: this guard exists only while `locked` is held by it (taken in
            // `lock`, released in `drop`), so no other reference to `value` is live.
            unsafe { &*self.lock.value.get() }
        }
    }

    impl<T> DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            // SAFETY: as in `deref`; `&mut self` makes this the guard's only borrow.
            unsafe { &mut *self.lock.value.get() }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::Mutex;
        use std::sync::Arc;

        /// Many threads increment a non-atomic counter under the lock: any lost update
        /// means two guards were live at once. Also run under miri.
        #[test]
        fn the_lock_excludes() {
            let threads = if cfg!(miri) { 3 } else { 8 };
            let per = if cfg!(miri) { 50 } else { 100_000 };
            let m = Arc::new(Mutex::new(0u64));
            let hs: Vec<_> = (0..threads)
                .map(|_| {
                    let m = m.clone();
                    std::thread::spawn(move || {
                        for _ in 0..per {
                            *m.lock() += 1;
                        }
                    })
                })
                .collect();
            for h in hs {
                h.join().unwrap();
            }
            assert_eq!(*m.lock(), threads * per);
        }
    }
}
