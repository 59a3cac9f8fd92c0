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

/// How long an alt that cannot register on one of its guards waits before it looks at
/// every guard again: first briefly, then twice as long each time up to the longest.
/// That guard's side is claimed by another end (claims are short, and an alt never
/// queues behind one), or its channel crosses OS processes (its partner cannot wake an
/// alt in another process, see `channel::crossing`): the first looks catch a partner
/// that is about to arrive, the longest bounds the cost of an alt that waits long.
const FIRST_REPOLL: Duration = Duration::from_micros(20);
const LONGEST_REPOLL: Duration = Duration::from_millis(1);

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
    let enabled = match look(set, order, true) {
        Look::Chosen(decided) => return decided,
        Look::Nothing { enabled } => enabled,
    };
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
    wait(set, order, timeout, enabled)
}

/// No guard was ready at the first look: registers on every in-memory guard and parks
/// until a partner chooses one. Guards on channels that cross OS processes cannot be
/// registered on (their partners cannot reach this process's context), so between
/// waits the alt offers on one of them at a time, in turn, as a plain reader or writer
/// (see [`offer`]); a partner there, blocking or alting, meets that offer.
fn wait<S: GuardSet + ?Sized>(
    set: &mut S,
    order: impl Fn(usize) -> usize + Copy,
    timeout: Option<Instant>,
    enabled: usize,
) -> Result<Chosen, Refused> {
    let n = set.len();
    let crossing = (0..n)
        .filter(|&p| set.get(p).is_some_and(|g| g.crosses()))
        .count();
    let mut repoll = FIRST_REPOLL;
    let mut turn = 0;
    let reason_channel = (0..n)
        .find_map(|p| set.get(p).map(|g| g.key()))
        .unwrap_or(0);
    loop {
        let ctx = Context::acquire(WaitReason {
            op: WaitOp::Alt,
            channel: reason_channel,
        });
        let (claimed, pending) = match register(set, &ctx, order) {
            Registered::Decided(decided) => {
                cancel(set, None);
                return decided;
            }
            Registered::Restart => {
                cancel(set, None);
                continue;
            }
            Registered::Waiting { claimed, pending } => (claimed, pending),
        };
        // With only crossing guards unready, nothing here can wake the alt: look at
        // every guard once more (registering does not try crossing ones, and a partner
        // may be waiting on one), then offer.
        if !pending && crossing > 0 {
            if let Look::Chosen(decided) = look(set, order, false) {
                return decided;
            }
        }
        if pending || crossing == 0 {
            let wake_at = match (timeout, claimed) {
                (Some(at), true) => Some(at.min(saturating_after(crate::sync::now(), repoll))),
                (Some(at), false) => Some(at),
                (None, true) => Some(saturating_after(crate::sync::now(), repoll)),
                (None, false) => None,
            };
            let outcome = ctx.wait_until(wake_at);
            if let Some(decided) = woken(set, &ctx, outcome, timeout, order) {
                return decided;
            }
        }
        if crossing > 0 {
            // The only guard there is may wait for as long as the alt does.
            let sole = crossing == 1 && enabled == 1;
            let window = (!sole).then_some(repoll);
            if let Some(decided) = offer(set, order, &mut turn, window, timeout) {
                return decided;
            }
        }
        if claimed {
            repoll = (repoll * 2).min(LONGEST_REPOLL);
        }
    }
}

/// Offers on the next crossing guard in turn for `window` (`None`: until the alt's
/// timeout, or for good): the alt is registered nowhere else meanwhile, so it commits
/// to at most one guard. `None` if no partner came in time and the alt goes on; the
/// timeout once it has passed.
fn offer<S: GuardSet + ?Sized>(
    set: &mut S,
    order: impl Fn(usize) -> usize,
    turn: &mut usize,
    window: Option<Duration>,
    timeout: Option<Instant>,
) -> Option<Result<Chosen, Refused>> {
    let until = match (
        window.map(|w| saturating_after(crate::sync::now(), w)),
        timeout,
    ) {
        (Some(u), Some(at)) => Some(u.min(at)),
        (u, at) => u.or(at),
    };
    let offered = offer_once(set, order, turn, until);
    if offered.is_none() && timeout.is_some_and(|at| crate::sync::now() >= at) {
        return Some(Ok(Chosen::Timeout));
    }
    offered
}

fn offer_once<S: GuardSet + ?Sized>(
    set: &mut S,
    order: impl Fn(usize) -> usize,
    turn: &mut usize,
    until: Option<Instant>,
) -> Option<Result<Chosen, Refused>> {
    let n = set.len();
    for k in 0..n {
        let p = order((*turn + k) % n.max(1));
        let Some(g) = set.get(p) else { continue };
        if !g.crosses() {
            continue;
        }
        *turn = (*turn + k + 1) % n.max(1);
        return match g.offer(until) {
            Polled::Ready => Some(Ok(Chosen::Guard(p))),
            Polled::Failed(error) => Some(Err(Refused::Guard { position: p, error })),
            _ => None,
        };
    }
    None
}

/// What a look at every guard without registering found.
enum Look {
    Chosen(Result<Chosen, Refused>),
    /// None is ready; `enabled` guards were looked at.
    Nothing {
        enabled: usize,
    },
}

/// Polls every enabled guard in order without registering; the first ready (or failed)
/// one decides. With `hints`, a guard whose channel's hint says it cannot go is skipped.
fn look<S: GuardSet + ?Sized>(set: &mut S, order: impl Fn(usize) -> usize, hints: bool) -> Look {
    let mut enabled = 0;
    for k in 0..set.len() {
        let p = order(k);
        if hints && !set.may_go(p) {
            enabled += 1;
            continue;
        }
        if let Some(g) = set.get(p) {
            enabled += 1;
            match g.poll(None) {
                Polled::Ready => return Look::Chosen(Ok(Chosen::Guard(p))),
                Polled::Failed(error) => {
                    return Look::Chosen(Err(Refused::Guard { position: p, error }))
                }
                _ => {}
            }
        }
    }
    Look::Nothing { enabled }
}

/// What registering on every guard gave.
enum Registered {
    /// A guard completed (or failed) while registering: the alt is decided.
    Decided(Result<Chosen, Refused>),
    /// The alt committed itself for a partner that vanished: start over.
    Restart,
    /// Registered; `claimed` if some guard could not register and needs another look,
    /// `pending` if some guard did register (a partner here can wake the alt).
    Waiting { claimed: bool, pending: bool },
}

fn register<S: GuardSet + ?Sized>(
    set: &mut S,
    ctx: &Arc<Context>,
    order: impl Fn(usize) -> usize,
) -> Registered {
    let (mut claimed, mut pending) = (false, false);
    for k in 0..set.len() {
        let p = order(k);
        let Some(g) = set.get(p) else { continue };
        match g.poll(Some((ctx, p))) {
            Polled::Pending => pending = true,
            Polled::Ready => return Registered::Decided(Ok(Chosen::Guard(p))),
            Polled::Failed(error) => {
                return Registered::Decided(Err(Refused::Guard { position: p, error }))
            }
            Polled::Restart => return Registered::Restart,
            // Someone chose us while we registered: the outcome is final; the wait
            // returns it at once.
            Polled::Taken => {
                pending = true;
                break;
            }
            Polled::Claimed | Polled::NotReady => claimed = true,
        }
    }
    Registered::Waiting { claimed, pending }
}

/// Settles what the wait gave; `None` to go round again (woken only to look again).
fn woken<S: GuardSet + ?Sized>(
    set: &mut S,
    ctx: &Arc<Context>,
    outcome: Outcome,
    timeout: Option<Instant>,
    order: impl Fn(usize) -> usize,
) -> Option<Result<Chosen, Refused>> {
    match outcome {
        Outcome::Selected(p) => {
            let completed = match set.get(p) {
                Some(g) => g.complete_selected(ctx),
                None => Ok(()),
            };
            cancel(set, Some(p));
            Some(match completed {
                Ok(()) => Ok(Chosen::Guard(p)),
                Err(error) => Err(Refused::Guard { position: p, error }),
            })
        }
        Outcome::Poisoned(p) | Outcome::Retired(p) => {
            cancel(set, None);
            // The channel is final now: polling it again gives its error.
            let Some(g) = set.get(p) else {
                return Some(Err(Refused::Internal {
                    channel: Arc::from("?"),
                }));
            };
            Some(match g.poll(None) {
                Polled::Ready => Ok(Chosen::Guard(p)),
                Polled::Failed(error) => Err(Refused::Guard { position: p, error }),
                _ => Err(Refused::Internal { channel: g.name() }),
            })
        }
        Outcome::Aborted => {
            cancel(set, None);
            if timeout.is_some_and(|at| crate::sync::now() >= at) {
                return Some(Ok(Chosen::Timeout));
            }
            // Woken to look at a claimed side again: poll from the start.
            match look(set, order, false) {
                Look::Chosen(decided) => Some(decided),
                Look::Nothing { .. } => None,
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
