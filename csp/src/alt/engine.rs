//! The alt itself: poll the guards, else register on all of them and park once.
//!
//! Shared by the [`Alt`](super::Alt) builder and the [`alt!`](crate::alt!) macro, which
//! differ only in how they keep their guards and run the chosen arm.

use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::guard::{Guard, Polled};
use super::timer::saturating_after;
use super::Timer;
use crate::channel::ChannelError;
use crate::park::{Context, Outcome, WaitOp, WaitReason};

/// How long an alt whose guard's side is claimed by another end waits before it looks
/// again: claims are short, and an alt never queues behind one.
const CLAIM_REPOLL: Duration = Duration::from_millis(1);

/// The guards of one alt, by position; `None` for a guard disabled by its precondition.
pub(crate) trait GuardSet {
    fn len(&self) -> usize;
    fn get(&mut self, position: usize) -> Option<&mut dyn Guard>;
    /// A cheap first look: `false` if the guard at `position` is enabled but certainly
    /// cannot complete now (it is still polled when the alt registers).
    fn may_go(&self, _position: usize) -> bool {
        true
    }
}

/// What the alt chose.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Chosen {
    Guard(usize),
    Skip,
    Timeout,
}

/// Why it chose nothing.
pub(crate) enum Refused {
    /// The guard at `position` failed: its channel is poisoned or retired.
    Guard {
        position: usize,
        error: ChannelError,
    },
    NoGuard,
    SameChannel {
        channel: Arc<str>,
        first: usize,
        second: usize,
    },
    Internal {
        channel: Arc<str>,
    },
}

/// Runs one alt. Guards are polled from `start` round to `start - 1`; the first ready
/// one is chosen. `skip` and `timeout` count only when no guard is ready.
pub(crate) fn select<S: GuardSet + ?Sized>(
    set: &mut S,
    start: usize,
    timeout: Option<Instant>,
    skip: bool,
) -> Result<Chosen, Refused> {
    let n = set.len();
    let order = move |k: usize| (start + k) % n.max(1);
    // Two guards on one channel would let the alt meet itself: refused whether or not
    // a guard happens to be ready, so a wrong alt fails the first time it runs.
    check_distinct(set)?;

    // Attempt: the first ready guard in order wins, with no registration at all.
    let mut enabled = 0;
    for k in 0..n {
        let p = order(k);
        if !set.may_go(p) {
            enabled += 1;
            continue;
        }
        if let Some(g) = set.get(p) {
            enabled += 1;
            match g.poll(None) {
                Polled::Ready => return Ok(Chosen::Guard(p)),
                Polled::Failed(error) => return Err(Refused::Guard { position: p, error }),
                _ => {}
            }
        }
    }
    if skip {
        return Ok(Chosen::Skip);
    }
    match timeout {
        Some(at) if enabled == 0 => {
            Timer::sleep_until(at);
            return Ok(Chosen::Timeout);
        }
        Some(at) if crate::sync::now() >= at => return Ok(Chosen::Timeout),
        None if enabled == 0 => return Err(Refused::NoGuard),
        _ => {}
    }
    let reason_channel = (0..n)
        .find_map(|p| set.get(p).map(|g| g.key()))
        .unwrap_or(0);
    loop {
        let ctx = Context::acquire(WaitReason {
            op: WaitOp::Alt,
            channel: reason_channel,
        });
        let mut claimed = false;
        let mut now_ready = None;
        let mut restart = false;
        for k in 0..n {
            let p = order(k);
            let Some(g) = set.get(p) else { continue };
            match g.poll(Some((&ctx, p))) {
                Polled::Pending => {}
                Polled::Ready => {
                    now_ready = Some(Ok(p));
                    break;
                }
                Polled::Failed(e) => {
                    now_ready = Some(Err((p, e)));
                    break;
                }
                Polled::Restart => {
                    restart = true;
                    break;
                }
                // Someone chose us while we registered: the outcome is final; the wait
                // below returns it at once.
                Polled::Taken => break,
                Polled::Claimed | Polled::NotReady => claimed = true,
            }
        }
        if let Some(ready) = now_ready {
            cancel(set, None);
            return match ready {
                Ok(p) => Ok(Chosen::Guard(p)),
                Err((position, error)) => Err(Refused::Guard { position, error }),
            };
        }
        if restart {
            cancel(set, None);
            continue;
        }
        let wake_at = match (timeout, claimed) {
            (Some(at), true) => Some(at.min(saturating_after(crate::sync::now(), CLAIM_REPOLL))),
            (Some(at), false) => Some(at),
            (None, true) => Some(saturating_after(crate::sync::now(), CLAIM_REPOLL)),
            (None, false) => None,
        };
        match ctx.wait_until(wake_at) {
            Outcome::Selected(p) => {
                let completed = match set.get(p) {
                    Some(g) => g.complete_selected(&ctx),
                    None => Ok(()),
                };
                cancel(set, Some(p));
                return match completed {
                    Ok(()) => Ok(Chosen::Guard(p)),
                    Err(error) => Err(Refused::Guard { position: p, error }),
                };
            }
            Outcome::Poisoned(p) | Outcome::Retired(p) => {
                cancel(set, None);
                // The channel is final now: polling it again gives its error.
                let Some(g) = set.get(p) else {
                    return Err(Refused::Internal {
                        channel: Arc::from("?"),
                    });
                };
                return match g.poll(None) {
                    Polled::Ready => Ok(Chosen::Guard(p)),
                    Polled::Failed(error) => Err(Refused::Guard { position: p, error }),
                    _ => Err(Refused::Internal { channel: g.name() }),
                };
            }
            Outcome::Aborted => {
                cancel(set, None);
                if timeout.is_some_and(|at| crate::sync::now() >= at) {
                    return Ok(Chosen::Timeout);
                }
                // Woken to look at a claimed side again: poll from the start.
                for k in 0..n {
                    let p = order(k);
                    if let Some(g) = set.get(p) {
                        match g.poll(None) {
                            Polled::Ready => return Ok(Chosen::Guard(p)),
                            Polled::Failed(error) => {
                                return Err(Refused::Guard { position: p, error })
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
    }
}

/// Withdraws every registration but `keep`'s. A guard knows whether it is registered
/// (it holds its packet or offer), so no list of them is kept (it would be allocated).
fn cancel<S: GuardSet + ?Sized>(set: &mut S, keep: Option<usize>) {
    for p in 0..set.len() {
        if Some(p) != keep {
            if let Some(g) = set.get(p) {
                g.cancel();
            }
        }
    }
}

/// Guards up to this many are checked pairwise on the stack (the common alt: no
/// allocation on its fast path); more are sorted.
const SMALL_ALT: usize = 16;

fn check_distinct<S: GuardSet + ?Sized>(set: &mut S) -> Result<(), Refused> {
    let n = set.len();
    let repeated = if n <= SMALL_ALT {
        let mut keys = [(0u64, 0usize); SMALL_ALT];
        let mut len = 0;
        for p in 0..n {
            if let Some(g) = set.get(p) {
                keys[len] = (g.key(), p);
                len += 1;
            }
        }
        let keys = &keys[..len];
        (1..len).find_map(|j| {
            let (b, second) = keys[j];
            keys[..j]
                .iter()
                .find(|(a, _)| *a == b)
                .map(|&(_, first)| (first, second))
        })
    } else {
        // Sorted by key then position: a repeated key shows up as neighbours, in
        // O(n log n) even for an alt over thousands of channels.
        let mut keys: Vec<(u64, usize)> = (0..n)
            .filter_map(|p| set.get(p).map(|g| (g.key(), p)))
            .collect();
        keys.sort_unstable();
        keys.windows(2)
            .find(|pair| pair[0].0 == pair[1].0)
            .map(|pair| (pair[0].1, pair[1].1))
    };
    match repeated {
        None => Ok(()),
        Some((first, second)) => Err(Refused::SameChannel {
            channel: set
                .get(second)
                .map(|g| g.name())
                .unwrap_or_else(|| Arc::from("?")),
            first,
            second,
        }),
    }
}

thread_local! {
    static RNG: Cell<u64> = const { Cell::new(0) };
}

/// A cheap per-thread xorshift for `select`'s starting point (no external crate).
pub(crate) fn random_below(n: usize) -> usize {
    RNG.with(|r| {
        let mut x = r.get();
        if x == 0 {
            let here = &x as *const u64 as u64;
            let clock = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0x9E37_79B9_7F4A_7C15);
            x = (here ^ clock) | 1;
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        r.set(x);
        (x % n.max(1) as u64) as usize
    })
}
