//! Ids of channels, barriers and ends, unique across the OS processes a program forks.
//!
//! A forked child inherits the parent's counters, so a plain counter would hand the
//! same id to a channel made in the parent and another made in the child; an end id
//! names the holder of a claim on a channel both processes share, so two equal ids
//! would let two ends hold one claim. Each id is therefore the process's tag (its pid,
//! read again in every forked child) above a per-process counter.

use std::sync::atomic::{AtomicU64, Ordering};

/// Bits of an id that count within one process: 2^40 ids each.
const COUNTER_BITS: u32 = 40;

static NEXT_CHANNEL: AtomicU64 = AtomicU64::new(1);
static NEXT_END: AtomicU64 = AtomicU64::new(1);

/// A fresh id for a channel or a barrier: one space for both, because an alt tells its
/// guards apart by these ids (two guards on one id are refused).
pub(crate) fn next_channel_id() -> u64 {
    tagged(&NEXT_CHANNEL)
}

/// A fresh id for a channel end.
pub(crate) fn next_end_id() -> u64 {
    tagged(&NEXT_END)
}

/// The part of an id that counts within its process: short enough for a default name
/// (`chan#3`), which only people read.
pub(crate) fn local_part(id: u64) -> u64 {
    id & ((1 << COUNTER_BITS) - 1)
}

fn tagged(counter: &AtomicU64) -> u64 {
    let n = counter.fetch_add(1, Ordering::Relaxed) & ((1 << COUNTER_BITS) - 1);
    (tag::current() << COUNTER_BITS) | n
}

#[cfg(all(target_os = "linux", not(loom)))]
mod tag {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Once;

    /// This process's tag; 0 until the first id is made.
    static TAG: AtomicU64 = AtomicU64::new(0);
    static WATCH_FORKS: Once = Once::new();

    /// Runs in the child of every `fork`, before `fork` returns there. Only
    /// async-signal-safe calls: `getpid` and an atomic store.
    extern "C" fn in_forked_child() {
        TAG.store(own_pid(), Ordering::Relaxed);
    }

    fn own_pid() -> u64 {
        // SAFETY: getpid has no preconditions and cannot fail.
        u64::from(unsafe { libc::getpid() }.unsigned_abs())
    }

    pub(super) fn current() -> u64 {
        WATCH_FORKS.call_once(|| {
            TAG.store(own_pid(), Ordering::Relaxed);
            // SAFETY: registers a child handler that only calls async-signal-safe
            // functions (see `in_forked_child`); no prepare or parent handler. If the
            // registration fails (out of memory), ids stay unique within this process,
            // which is all a program that never forks needs.
            unsafe { libc::pthread_atfork(None, None, Some(in_forked_child)) };
        });
        TAG.load(Ordering::Relaxed)
    }
}

#[cfg(not(all(target_os = "linux", not(loom))))]
mod tag {
    pub(super) fn current() -> u64 {
        0
    }
}

#[cfg(all(test, target_os = "linux", not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_this_process_tag_and_count_up() {
        let a = next_channel_id();
        let b = next_channel_id();
        assert_eq!(a >> COUNTER_BITS, u64::from(std::process::id()));
        assert_eq!(b >> COUNTER_BITS, a >> COUNTER_BITS);
        assert!(b > a);
        assert_ne!(next_end_id() >> COUNTER_BITS, 0);
    }
}
