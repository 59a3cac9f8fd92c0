//! Process-shared futex wait and wake on a 32-bit word of the shared mapping.
//!
//! The futex calls leave out `FUTEX_PRIVATE_FLAG`: a private futex is keyed by the
//! process's address space, so a waker in another process would never find the sleeper.
//! A shared futex is keyed by the page itself, which a forked child shares.

use std::sync::atomic::AtomicU32;
use std::time::{Duration, Instant};

/// How a futex wait ended. Callers re-check their word in every case: a wake can be
/// spurious, and the word can change without a wake reaching this sleeper.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Waited {
    /// Woken, or the word no longer held `expected`, or a signal interrupted the sleep.
    Returned,
    /// The timeout passed.
    TimedOut,
}

fn timespec(d: Duration) -> libc::timespec {
    libc::timespec {
        tv_sec: libc::time_t::try_from(d.as_secs()).unwrap_or(libc::time_t::MAX),
        // Below 10^9, so it fits every `c_long`.
        tv_nsec: d.subsec_nanos() as libc::c_long,
    }
}

fn outcome(rc: libc::c_long) -> Waited {
    if rc == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ETIMEDOUT) {
        Waited::TimedOut
    } else {
        Waited::Returned
    }
}

/// Sleeps while `*word == expected`, at most `timeout` (`None`: no limit).
pub(crate) fn wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) -> Waited {
    let ts = timeout.map(timespec);
    let ts_ptr = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `word` is a live, aligned 32-bit atomic for the whole call (the kernel
    // only reads it), and `ts_ptr` is null or points at `ts`, alive until we return.
    // FUTEX_WAIT takes a relative timeout measured on CLOCK_MONOTONIC.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            ts_ptr,
            std::ptr::null::<u32>(),
            0u32,
        )
    };
    outcome(rc)
}

/// Sleeps while `*word == expected`, until `deadline` (an absolute CLOCK_MONOTONIC
/// time, which is what `Instant` reads on Linux): a sleep interrupted and resumed does
/// not stretch the deadline.
pub(crate) fn wait_until(word: &AtomicU32, expected: u32, deadline: Instant) -> Waited {
    let Some(left) = deadline.checked_duration_since(Instant::now()) else {
        return Waited::TimedOut;
    };
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) } != 0 {
        return wait(word, expected, Some(left));
    }
    let since_boot = Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    );
    let at = timespec(since_boot.saturating_add(left));
    // SAFETY: as in `wait`; FUTEX_WAIT_BITSET reads `at` as an absolute CLOCK_MONOTONIC
    // time (no FUTEX_CLOCK_REALTIME), and the match-any bitset makes it a plain wait.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT_BITSET,
            expected,
            &at as *const libc::timespec,
            std::ptr::null::<u32>(),
            libc::FUTEX_BITSET_MATCH_ANY,
        )
    };
    outcome(rc)
}

/// Wakes up to `n` sleepers on `word` (in any process); returns how many woke.
pub(crate) fn wake(word: &AtomicU32, n: u32) -> usize {
    let n = libc::c_int::try_from(n).unwrap_or(libc::c_int::MAX);
    // SAFETY: `word` is a live, aligned 32-bit atomic; FUTEX_WAKE does not dereference
    // the remaining arguments.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE,
            n,
            std::ptr::null::<libc::timespec>(),
            std::ptr::null::<u32>(),
            0u32,
        )
    };
    usize::try_from(rc).unwrap_or(0)
}

/// Wakes every sleeper on `word`.
pub(crate) fn wake_all(word: &AtomicU32) -> usize {
    wake(word, u32::MAX)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;
    use std::sync::Arc;

    #[test]
    fn a_wait_on_a_changed_word_returns_at_once_and_timeouts_expire() {
        let w = AtomicU32::new(1);
        assert_eq!(wait(&w, 0, None), Waited::Returned);
        let t = Instant::now();
        assert_eq!(
            wait(&w, 1, Some(Duration::from_millis(20))),
            Waited::TimedOut
        );
        let deadline = Instant::now() + Duration::from_millis(20);
        assert_eq!(wait_until(&w, 1, deadline), Waited::TimedOut);
        assert!(Instant::now() >= deadline);
        assert!(t.elapsed() >= Duration::from_millis(40));
    }

    #[test]
    fn a_wake_reaches_a_sleeper() {
        let w = Arc::new(AtomicU32::new(0));
        let sleeper = {
            let w = w.clone();
            std::thread::spawn(move || {
                while w.load(Ordering::Acquire) == 0 {
                    wait(&w, 0, Some(Duration::from_secs(10)));
                }
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        w.store(1, Ordering::Release);
        wake_all(&w);
        sleeper.join().unwrap();
    }
}
