//! The channel lock: a process-shared, robust `pthread_mutex_t` inside the mapping.
//!
//! Robust means that if the process holding it dies, the next `lock` succeeds with
//! `EOWNERDEAD` instead of hanging forever. The state the dead owner was changing may be
//! half-written, so the channel treats that as poison (its caller does): a child killed
//! inside a commit never hangs the others.

use std::cell::UnsafeCell;
use std::io;

/// How many `try_lock`s before sleeping in `pthread_mutex_lock`: the lock is held for a
/// few hundred instructions, so a holder on another core is usually done by then.
const SPIN_TRIES: u32 = 16;

/// The mutex, as laid out in the mapping. Initialised once by [`RawLock::init`] before
/// any other process can see it.
#[repr(C)]
pub(crate) struct RawLock {
    mutex: UnsafeCell<libc::pthread_mutex_t>,
}

/// The held lock; unlocks when dropped.
pub(crate) struct LockGuard<'a> {
    lock: &'a RawLock,
}

/// What `lock` found.
pub(crate) struct Locked<'a> {
    pub(crate) guard: LockGuard<'a>,
    /// The previous owner died holding the lock: the protected state may be torn.
    pub(crate) owner_died: bool,
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
}

impl RawLock {
    /// Makes the zeroed bytes of a fresh mapping a process-shared robust mutex.
    ///
    /// # Safety
    /// Called once, on memory that no other thread or process uses yet.
    pub(crate) unsafe fn init(&self) -> io::Result<()> {
        let mut attr = std::mem::MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
        // SAFETY: `attr` is initialised by `pthread_mutexattr_init` before any other use
        // and destroyed after `pthread_mutex_init` copied it; the mutex memory is ours
        // alone (the caller's contract).
        unsafe {
            check(libc::pthread_mutexattr_init(attr.as_mut_ptr()))?;
            let result = (|| {
                check(libc::pthread_mutexattr_setpshared(
                    attr.as_mut_ptr(),
                    libc::PTHREAD_PROCESS_SHARED,
                ))?;
                check(libc::pthread_mutexattr_setrobust(
                    attr.as_mut_ptr(),
                    libc::PTHREAD_MUTEX_ROBUST,
                ))?;
                check(libc::pthread_mutex_init(self.mutex.get(), attr.as_ptr()))
            })();
            libc::pthread_mutexattr_destroy(attr.as_mut_ptr());
            result
        }
    }

    /// Takes the lock: a few `try_lock`s, then a sleeping lock. `owner_died` is set when
    /// the previous owner died holding it; the mutex is then marked consistent again, so
    /// the caller must repair (poison) what it protects before unlocking.
    pub(crate) fn lock(&self) -> io::Result<Locked<'_>> {
        let mut rc = libc::EBUSY;
        for _ in 0..SPIN_TRIES {
            // SAFETY: the mutex was initialised by `init` before the mapping was shared
            // and is never moved or destroyed while a handle exists.
            rc = unsafe { libc::pthread_mutex_trylock(self.mutex.get()) };
            if rc != libc::EBUSY {
                break;
            }
            std::hint::spin_loop();
        }
        if rc == libc::EBUSY {
            // SAFETY: as above.
            rc = unsafe { libc::pthread_mutex_lock(self.mutex.get()) };
        }
        let owner_died = rc == libc::EOWNERDEAD;
        if owner_died {
            // SAFETY: we own the mutex (EOWNERDEAD hands it over locked); marking it
            // consistent keeps it usable after we unlock.
            rc = unsafe { libc::pthread_mutex_consistent(self.mutex.get()) };
        }
        check(rc)?;
        Ok(Locked {
            guard: LockGuard { lock: self },
            owner_died,
        })
    }
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: this guard exists only while this thread holds the lock.
        unsafe { libc::pthread_mutex_unlock(self.lock.mutex.get()) };
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::channel::shm::mapping::Mapping;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    /// A lock and a counter it protects, in a mapping.
    #[repr(C)]
    struct Cell {
        lock: RawLock,
        count: AtomicU64,
    }

    fn cell(m: &Mapping) -> &Cell {
        // SAFETY: the mapping is page-aligned, zeroed and larger than `Cell`, whose
        // fields are all valid when zeroed (the mutex is initialised below).
        unsafe { &*(m.base() as *const Cell) }
    }

    #[test]
    fn the_lock_excludes_threads() {
        let m = Arc::new(Mapping::new(4096).unwrap());
        // SAFETY: nobody else sees the mapping yet.
        unsafe { cell(&m).lock.init().unwrap() };
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        let held = cell(&m).lock.lock().unwrap();
                        assert!(!held.owner_died);
                        // A non-atomic read-modify-write: lost updates if not excluded.
                        let c = cell(&m).count.load(Ordering::Relaxed);
                        cell(&m).count.store(c + 1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(cell(&m).count.load(Ordering::Relaxed), 40_000);
    }

    #[test]
    fn a_thread_that_exits_holding_the_lock_makes_the_next_owner_told() {
        let m = Arc::new(Mapping::new(4096).unwrap());
        // SAFETY: nobody else sees the mapping yet.
        unsafe { cell(&m).lock.init().unwrap() };
        let m2 = m.clone();
        std::thread::spawn(move || std::mem::forget(cell(&m2).lock.lock().unwrap()))
            .join()
            .unwrap();
        let held = cell(&m).lock.lock().unwrap();
        assert!(held.owner_died);
        drop(held);
        assert!(!cell(&m).lock.lock().unwrap().owner_died);
    }
}
