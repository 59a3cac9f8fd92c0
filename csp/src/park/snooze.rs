//! How a lock-free operation waits for a partner that is not there yet (a `Fifo` ring
//! found empty or full) before it gives up and takes the slow path: a few busy spins,
//! then yields, one step per refusal (crossbeam's `Backoff::snooze` shape).
//!
//! Whether yielding pays depends on the machine. Beside an idle core a yield returns
//! within a microsecond and the partner, running on the other core, has moved on: much
//! cheaper than parking, which costs the partner a lock and a futex wake and this thread
//! tens of microseconds to wake up. Beside a busy thread a yield hands the core away for
//! a whole slice, while a parked thread that its partner wakes is scheduled at once (the
//! scheduler favours a thread that slept). So a slow yield turns yielding off for the
//! next waits of this thread, which then give up after the spins (and park in the slow
//! path); each further slow yield doubles that cooldown, and a fast one halves it. The
//! cooldown adapts because on a shared machine a single slow yield is common and says
//! little, and parking every wait then costs more than it saves (measured: a fixed
//! cooldown of 256 waits after any slow yield made idle streaming 1.5–2x slower, while
//! under one busy thread per core it made streaming 10x faster than yielding).
//!
//! The cooldown is the thread's one estimate of whether yielding pays: a rendezvous
//! waiter's spin before parking (`Context::spin_for`) reads and feeds the same one
//! through [`cooling`] and [`timed_yield`].

use std::cell::Cell;

#[cfg(not(loom))]
use std::time::{Duration, Instant};

/// Busy-spin steps (step `i` spins `1 << i` times).
#[cfg(not(loom))]
const SPIN_STEPS: u32 = 5;
/// Yield steps after the spins.
#[cfg(not(loom))]
const YIELD_STEPS: u32 = 6;
/// A yield slower than this gave the core to a thread that kept it.
#[cfg(not(loom))]
const SLOW_YIELD: Duration = Duration::from_micros(20);
/// Bounds of the cooldown, in snoozes that skip their yields.
#[cfg(not(loom))]
const MIN_COOLDOWN: u32 = 4;
#[cfg(not(loom))]
const MAX_COOLDOWN: u32 = 1024;

#[cfg(not(loom))]
thread_local! {
    /// Snoozes left that skip their yields, and the cooldown the next slow yield sets.
    static COOLDOWN: Cell<(u32, u32)> = const { Cell::new((0, MIN_COOLDOWN)) };
}

/// One wait of a lock-free operation: call [`snooze`](Snooze::snooze) after each
/// refusal and retry while it says `true`.
///
/// Under loom: one retry after a yield, so that models reach "refused, retried, got
/// through" without spinning.
pub(crate) struct Snooze {
    step: Cell<u32>,
}

impl Snooze {
    #[inline]
    pub(crate) fn new() -> Snooze {
        Snooze { step: Cell::new(0) }
    }

    /// Waits one step and says `true`, or says `false` once the steps are spent (or
    /// yielding is cooling down and the spins are spent).
    #[inline]
    pub(crate) fn snooze(&self) -> bool {
        let step = self.step.get();
        self.step.set(step + 1);
        #[cfg(not(loom))]
        {
            if step < SPIN_STEPS {
                for _ in 0..1u32 << step {
                    std::hint::spin_loop();
                }
                return true;
            }
            let go = !(step == SPIN_STEPS && cooling())
                && step < SPIN_STEPS + YIELD_STEPS
                && timed_yield();
            if !go {
                // Spent for good: a slow yield ended it early, and a later call must not
                // yield again (or count the cooldown off twice).
                self.step.set(SPIN_STEPS + YIELD_STEPS);
            }
            go
        }
        #[cfg(loom)]
        {
            if step > 0 {
                return false;
            }
            loom::thread::yield_now();
            true
        }
    }
}

/// Whether this snooze skips its yields, counting it off the cooldown.
#[cfg(not(loom))]
pub(crate) fn cooling() -> bool {
    COOLDOWN.with(|c| {
        let (left, next) = c.get();
        c.set((left.saturating_sub(1), next));
        left > 0
    })
}

/// Yields, and adapts the cooldown to how long that took: `false` if it was slow.
#[cfg(not(loom))]
#[inline(never)]
pub(crate) fn timed_yield() -> bool {
    let before = Instant::now();
    std::thread::yield_now();
    let slow = before.elapsed() > SLOW_YIELD;
    COOLDOWN.with(|c| c.set(adapt(c.get(), slow)));
    !slow
}

/// The cooldown `(left, next)` after a yield: a slow one starts `next` snoozes without
/// yields and doubles `next`; a fast one halves `next`.
#[cfg(not(loom))]
fn adapt((left, next): (u32, u32), slow: bool) -> (u32, u32) {
    if slow {
        (next, (next * 2).min(MAX_COOLDOWN))
    } else {
        (left, (next / 2).max(MIN_COOLDOWN))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn slow_yields_lengthen_the_cooldown_and_fast_ones_shorten_it() {
        let mut state = (0, MIN_COOLDOWN);
        state = adapt(state, true);
        assert_eq!(state, (MIN_COOLDOWN, 2 * MIN_COOLDOWN));
        for _ in 0..20 {
            state = adapt(state, true);
        }
        assert_eq!(state, (MAX_COOLDOWN, MAX_COOLDOWN), "bounded above");
        state = adapt(state, false);
        assert_eq!(
            state,
            (MAX_COOLDOWN, MAX_COOLDOWN / 2),
            "a fast yield keeps `left`"
        );
        for _ in 0..20 {
            state = adapt(state, false);
        }
        assert_eq!(state.1, MIN_COOLDOWN, "bounded below");
    }

    #[test]
    fn a_snooze_spins_then_yields_then_gives_up() {
        COOLDOWN.with(|c| c.set((0, MIN_COOLDOWN)));
        let snooze = Snooze::new();
        let mut steps = 0;
        while snooze.snooze() {
            steps += 1;
            assert!(steps <= SPIN_STEPS + YIELD_STEPS, "never gave up");
        }
        // A yield on a busy test machine may be slow and end the snooze early, but
        // never before the spins.
        assert!(steps >= SPIN_STEPS, "gave up after {steps} steps");
        assert!(!snooze.snooze(), "stays spent");
    }

    #[test]
    fn while_cooling_a_snooze_gives_up_after_the_spins() {
        COOLDOWN.with(|c| c.set((2, MIN_COOLDOWN)));
        for left in [1, 0] {
            let snooze = Snooze::new();
            let mut steps = 0;
            while snooze.snooze() {
                steps += 1;
            }
            assert_eq!(steps, SPIN_STEPS);
            assert_eq!(COOLDOWN.with(|c| c.get().0), left);
        }
    }
}
