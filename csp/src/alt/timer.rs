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

/// About a century: far enough to mean "never", near enough for every clock to hold.
const NEVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// `from + d`, or as far as the clock goes if that overflows.
pub(crate) fn saturating_after(from: Instant, d: Duration) -> Instant {
    from.checked_add(d)
        .or_else(|| from.checked_add(NEVER))
        .unwrap_or(from)
}

impl Timer {
    /// The current instant.
    ///
    /// ```
    /// use std::time::Duration;
    /// use csp::Timer;
    /// let start = Timer::now();
    /// let deadline = start + Duration::from_millis(1);
    /// Timer::sleep_until(deadline);
    /// assert!(Timer::now() >= deadline);
    /// ```
    pub fn now() -> Instant {
        crate::sync::now()
    }

    /// The instant `d` from now: a deadline for [`Alt::deadline`](crate::Alt::deadline)
    /// or [`Timer::sleep_until`]. A `d` too large for the clock (e.g. `Duration::MAX`)
    /// saturates to a century from now: in effect, never.
    ///
    /// ```
    /// use std::time::Duration;
    /// let never = csp::Timer::after(Duration::MAX); // no overflow panic
    /// assert!(never > csp::Timer::after(Duration::from_secs(86_400 * 365 * 99)));
    /// ```
    pub fn after(d: Duration) -> Instant {
        saturating_after(crate::sync::now(), d)
    }

    /// Blocks the calling process for `d`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use csp::{Parallel, Process, Timer};
    /// // In a process, `sleep` waits the way the process's executor waits: a green process
    /// // suspends and leaves its worker to others.
    /// let slept = Parallel::new()
    ///     .add(Process::from_fn("nap", || {
    ///         let start = Timer::now();
    ///         Timer::sleep(Duration::from_millis(2));
    ///         start.elapsed()
    ///     }).green())
    ///     .run()?;
    /// assert!(slept[0].unwrap() >= Duration::from_millis(2));
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn sleep(d: Duration) {
        crate::park::parker::sleep(d);
    }

    /// Blocks the calling process until `at` (returns at once if it has passed).
    ///
    /// ```
    /// use std::time::Duration;
    /// use csp::Timer;
    /// // A loop that keeps a steady period: each wait is until the next absolute tick.
    /// let period = Duration::from_millis(1);
    /// let start = Timer::now();
    /// let mut next = start;
    /// for _ in 0..3 {
    ///     next += period;
    ///     Timer::sleep_until(next);
    /// }
    /// assert!(start.elapsed() >= 3 * period);
    /// Timer::sleep_until(start); // in the past: returns at once
    /// ```
    pub fn sleep_until(at: Instant) {
        let now = crate::sync::now();
        if at > now {
            crate::park::parker::sleep(at - now);
        }
    }
}
