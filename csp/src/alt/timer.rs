//! Time for processes: JCSP's `CSTimer`, occam's `TIMER`.

use std::time::{Duration, Instant};

/// The clock processes use for timeouts and delays.
///
/// ```
/// use std::time::Duration;
/// use csp::{Alt, Channel, Timer};
///
/// let start = Timer::now();
/// Timer::sleep(Duration::from_millis(5));
/// assert!(start.elapsed() >= Duration::from_millis(5));
///
/// // A periodic tick that never drifts: wait for absolute deadlines.
/// let (_tx, commands) = Channel::<u8>::new().one2one();
/// let mut next = Timer::after(Duration::from_millis(2));
/// let mut ticks = 0;
/// while ticks < 3 {
///     let tick = Alt::new().input(&commands, |_| false).deadline(next, || true).pri_select()?;
///     if tick {
///         ticks += 1;
///         next += Duration::from_millis(2);
///     }
/// }
/// # Ok::<(), csp::AltError>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Timer;

impl Timer {
    /// The current instant.
    pub fn now() -> Instant {
        crate::sync::now()
    }

    /// The instant `d` from now: a deadline for [`Alt::deadline`](crate::Alt::deadline)
    /// or [`Timer::sleep_until`].
    pub fn after(d: Duration) -> Instant {
        crate::sync::now() + d
    }

    /// Blocks the calling process for `d`.
    pub fn sleep(d: Duration) {
        crate::sync::sleep(d);
    }

    /// Blocks the calling process until `at` (returns at once if it has passed).
    pub fn sleep_until(at: Instant) {
        let now = crate::sync::now();
        if at > now {
            crate::sync::sleep(at - now);
        }
    }
}
