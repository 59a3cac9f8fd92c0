//! Alternation: wait for whichever of several events can happen first, and commit to
//! exactly one (occam's ALT, JCSP's `Alternative`, Go's `select`).
//!
//! An [`Alt`] is built from guards, each with a handler that runs if it is chosen:
//!
//! - **input** guards (`input`): a value can be read;
//! - **output** guards (`output`): a value can be written — on every channel kind, and
//!   with the reader alting too (JCSP allows output guards only on symmetric channels);
//! - a **timeout** (`timeout`, `deadline`): chosen if nothing else became ready in time;
//! - a **skip** (`skip`): chosen at once if nothing else is ready (Go's `default`).
//!
//! Every guard has an `_if` form with a boolean precondition (occam's `cond & guard`);
//! a disabled guard is never chosen. Then one of:
//!
//! - [`Alt::pri_select`]: the first ready guard in the order they were added;
//! - [`Alt::fair_select`]: the same, but starting after the guard chosen last time (kept
//!   in a [`Fair`]), so no ready guard starves;
//! - [`Alt::select`]: an arbitrary ready guard (a random starting point).
//!
//! A skip or a timeout is chosen only when no channel guard is ready — never while an
//! input is ready, whatever their order.
//!
//! ```
//! use std::time::Duration;
//! use csp::{Alt, Channel};
//!
//! let (left_tx, left) = Channel::<u32>::new().fifo(1).one2one();
//! let (_right_tx, right) = Channel::<String>::new().one2one();
//! left_tx.write(7)?;
//!
//! enum Event { Left(u32), Right(String), Quiet }
//! let event = Alt::new()
//!     .input(&left, Event::Left)
//!     .input(&right, Event::Right)
//!     .timeout(Duration::from_millis(50), || Event::Quiet)
//!     .pri_select()?;
//! assert!(matches!(event, Event::Left(7)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The handlers are closures that produce the alt's result; to act on shared state, let
//! them return a value (an enum as above) and `match` on it afterwards.
//!
//! How it works: the alt polls each guard; if none is ready it registers one waiter (one
//! context, see `park`) on every guard's channel and parks once. Whoever completes it —
//! a partner on one of the channels, a poisoner, its own deadline — does so by the single
//! CAS of the wait-and-commit protocol, so exactly one guard is ever chosen, even with
//! both ends of a channel alting at once. See `channel::select` for the channel's part.

mod barrier;
mod error;
mod guard;
mod timer;

pub use barrier::{Barrier, Enrolled};
pub use error::AltError;
pub use timer::Timer;

use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use self::guard::{BarrierGuard, ChannelGuard, InputGuard, OutputGuard, Polled};
use crate::channel::{Input, Output};
use crate::park::{Context, Outcome, WaitOp, WaitReason};

/// How long an alt whose guard's side is claimed by another end waits before it looks
/// again: claims are short, and an alt never queues behind one.
const CLAIM_REPOLL: Duration = Duration::from_millis(1);

struct Entry<'a, R> {
    /// The guard's number among all guards added (what errors report).
    index: usize,
    guard: Box<dyn ChannelGuard<'a, R> + 'a>,
}

/// A choice between guards; see the [module docs](self).
///
/// ```
/// use csp::{Alt, Channel};
/// let (tx, rx) = Channel::<u8>::new().one2one();
/// // Nothing can happen on a rendezvous channel with no partner: the skip is chosen.
/// let got = Alt::new().input(&rx, Some).skip(|| None).pri_select()?;
/// assert_eq!(got, None);
/// # drop(tx);
/// # Ok::<(), csp::AltError>(())
/// ```
pub struct Alt<'a, R> {
    guards: Vec<Entry<'a, R>>,
    timeout: Option<(Instant, Box<dyn FnOnce() -> R + 'a>)>,
    skip: Option<Box<dyn FnOnce() -> R + 'a>>,
    count: usize,
}

impl<R> Default for Alt<'_, R> {
    fn default() -> Self {
        Alt::new()
    }
}

/// Remembers which guard a [`fair_select`](Alt::fair_select) chose last, so the next
/// one starts after it.
///
/// ```
/// use csp::{Alt, Channel, Fair};
/// let (a_tx, a) = Channel::<u8>::new().buffer(csp::Policy::Unbounded).one2one();
/// let (b_tx, b) = Channel::<u8>::new().buffer(csp::Policy::Unbounded).one2one();
/// for _ in 0..4 {
///     a_tx.write(0)?;
///     b_tx.write(1)?;
/// }
/// let mut fair = Fair::new();
/// let mut picks = Vec::new();
/// for _ in 0..4 {
///     picks.push(Alt::new().input(&a, |v| v).input(&b, |v| v).fair_select(&mut fair)?);
/// }
/// assert_eq!(picks, vec![0, 1, 0, 1]); // both always ready: they take turns
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Fair {
    last: Option<usize>,
}

impl Fair {
    /// No guard chosen yet.
    pub fn new() -> Fair {
        Fair::default()
    }
}

impl<'a, R> Alt<'a, R> {
    /// An alt with no guards yet.
    pub fn new() -> Self {
        Alt {
            guards: Vec::new(),
            timeout: None,
            skip: None,
            count: 0,
        }
    }

    fn next_index(&mut self) -> usize {
        self.count += 1;
        self.count - 1
    }

    /// A guard that reads from `end`; `handler` gets the value.
    pub fn input<T: 'a>(self, end: &'a Input<T>, handler: impl FnOnce(T) -> R + 'a) -> Self {
        self.input_if(true, end, handler)
    }

    /// An input guard enabled only if `condition` holds.
    ///
    /// ```
    /// use csp::{Alt, AltError, Channel};
    /// let (tx, rx) = Channel::<u8>::new().fifo(1).one2one();
    /// tx.write(1)?;
    /// // The only guard is disabled and there is no timeout or skip: an error, not a hang.
    /// let err = Alt::new().input_if(false, &rx, |v| v).pri_select().unwrap_err();
    /// assert!(matches!(err, AltError::NoGuard));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn input_if<T: 'a>(
        mut self,
        condition: bool,
        end: &'a Input<T>,
        handler: impl FnOnce(T) -> R + 'a,
    ) -> Self {
        let index = self.next_index();
        if condition {
            self.guards.push(Entry {
                index,
                guard: Box::new(InputGuard::new(end, handler)),
            });
        }
        self
    }

    /// A guard that writes `value` to `end`; `handler` runs once a reader has taken it
    /// (or it was buffered). If another guard is chosen, `value` is dropped.
    ///
    /// ```
    /// use csp::{Alt, Channel};
    /// let (tx, rx) = Channel::<&str>::local().fifo(1).one2one();
    /// let done = Alt::new().output(&tx, "sent", || true).skip(|| false).pri_select()?;
    /// assert!(done);
    /// assert_eq!(rx.read()?, "sent");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn output<T: 'a>(
        self,
        end: &'a Output<T>,
        value: T,
        handler: impl FnOnce() -> R + 'a,
    ) -> Self {
        self.output_if(true, end, value, handler)
    }

    /// An output guard enabled only if `condition` holds.
    pub fn output_if<T: 'a>(
        mut self,
        condition: bool,
        end: &'a Output<T>,
        value: T,
        handler: impl FnOnce() -> R + 'a,
    ) -> Self {
        let index = self.next_index();
        if condition {
            self.guards.push(Entry {
                index,
                guard: Box::new(OutputGuard::new(end, value, handler)),
            });
        }
        self
    }

    /// A guard that syncs on a barrier (an alting barrier): chosen when every other
    /// party enrolled on it is also offering to sync, by `sync` or by its own alt.
    ///
    /// ```
    /// use csp::{Alt, Barrier, Channel};
    /// let barrier = Barrier::new();
    /// let me = barrier.enroll();
    /// let other = barrier.enroll();
    /// let (_tx, rx) = Channel::<u8>::new().one2one();
    /// let t = std::thread::spawn(move || other.sync());
    /// let what = Alt::new().input(&rx, |_| "input").barrier(&me, || "synced").select()?;
    /// assert_eq!(what, "synced");
    /// t.join().unwrap();
    /// # Ok::<(), csp::AltError>(())
    /// ```
    pub fn barrier(self, party: &'a Enrolled, handler: impl FnOnce() -> R + 'a) -> Self {
        self.barrier_if(true, party, handler)
    }

    /// A barrier guard enabled only if `condition` holds.
    pub fn barrier_if(
        mut self,
        condition: bool,
        party: &'a Enrolled,
        handler: impl FnOnce() -> R + 'a,
    ) -> Self {
        let index = self.next_index();
        if condition {
            self.guards.push(Entry {
                index,
                guard: Box::new(BarrierGuard {
                    party,
                    handler,
                    offered: None,
                }),
            });
        }
        self
    }

    /// Chosen if no other guard became ready within `after` (counted from now).
    pub fn timeout(self, after: Duration, handler: impl FnOnce() -> R + 'a) -> Self {
        self.deadline(Timer::after(after), handler)
    }

    /// Chosen if no other guard became ready by `at`. With several timeouts, the
    /// earliest counts.
    ///
    /// ```
    /// use std::time::Duration;
    /// use csp::{Alt, Channel, Timer};
    /// let (_tx, rx) = Channel::<u8>::new().one2one();
    /// let start = Timer::now();
    /// let timed_out = Alt::new()
    ///     .input(&rx, |_| false)
    ///     .deadline(Timer::after(Duration::from_millis(20)), || true)
    ///     .select()?;
    /// assert!(timed_out && start.elapsed() >= Duration::from_millis(20));
    /// # Ok::<(), csp::AltError>(())
    /// ```
    pub fn deadline(self, at: Instant, handler: impl FnOnce() -> R + 'a) -> Self {
        self.deadline_if(true, at, handler)
    }

    /// A deadline guard enabled only if `condition` holds.
    pub fn deadline_if(
        mut self,
        condition: bool,
        at: Instant,
        handler: impl FnOnce() -> R + 'a,
    ) -> Self {
        self.next_index();
        if condition && !matches!(&self.timeout, Some((t, _)) if *t <= at) {
            self.timeout = Some((at, Box::new(handler)));
        }
        self
    }

    /// Chosen at once if no channel guard is ready (Go's `default`, JCSP's `Skip`).
    pub fn skip(self, handler: impl FnOnce() -> R + 'a) -> Self {
        self.skip_if(true, handler)
    }

    /// A skip guard enabled only if `condition` holds.
    pub fn skip_if(mut self, condition: bool, handler: impl FnOnce() -> R + 'a) -> Self {
        self.next_index();
        if condition && self.skip.is_none() {
            self.skip = Some(Box::new(handler));
        }
        self
    }

    /// Chooses the first ready guard in the order they were added (occam's PRI ALT).
    pub fn pri_select(self) -> Result<R, AltError> {
        self.run(0)
    }

    /// Chooses an arbitrary ready guard: polling starts at a random guard.
    pub fn select(self) -> Result<R, AltError> {
        let n = self.guards.len().max(1);
        let start = random_below(n);
        self.run(start)
    }

    /// Chooses the first ready guard starting after the one `fair` chose last, and
    /// records the choice: over repeated selects every ready guard gets its turn.
    pub fn fair_select(self, fair: &mut Fair) -> Result<R, AltError> {
        let start = match fair.last {
            None => 0,
            Some(last) => self.guards.iter().position(|e| e.index > last).unwrap_or(0),
        };
        let (result, chosen) = self.run_reporting(start);
        if let Some(index) = chosen {
            fair.last = Some(index);
        }
        result
    }

    fn run(self, start: usize) -> Result<R, AltError> {
        self.run_reporting(start).0
    }

    /// Runs the alt; also says which channel guard (by index) was chosen, if one was.
    fn run_reporting(self, start: usize) -> (Result<R, AltError>, Option<usize>) {
        let Alt {
            mut guards,
            timeout,
            skip,
            ..
        } = self;
        if let Err(e) = check_distinct(&guards) {
            return (Err(e), None);
        }
        if guards.is_empty() && timeout.is_none() && skip.is_none() {
            return (Err(AltError::NoGuard), None);
        }
        let n = guards.len();
        let order: Vec<usize> = (0..n).map(|k| (start + k) % n).collect();

        // Poll: the first ready guard in order wins, with no registration at all.
        for &p in &order {
            match guards[p].guard.poll(None) {
                Polled::Ready => return finish(guards, p),
                Polled::Failed(error) => return fail(&guards, p, error),
                _ => {}
            }
        }
        if let Some(skip) = skip {
            return (Ok(skip()), None);
        }
        if let Some((at, _)) = &timeout {
            if n == 0 || Instant::now() >= *at {
                let (at, handler) = timeout.expect("checked above");
                Timer::sleep_until(at);
                return (Ok(handler()), None);
            }
        }

        // Register on every guard with one context, then park once.
        let reason_channel = guards[order[0]].guard.channel_id();
        loop {
            let ctx = Context::new(WaitReason {
                op: WaitOp::Alt,
                channel: reason_channel,
            });
            let mut registered: Vec<usize> = Vec::with_capacity(n);
            let mut claimed = false;
            let mut now_ready = None;
            let mut restart = false;
            for &p in &order {
                match guards[p].guard.poll(Some((&ctx, p))) {
                    Polled::Pending => registered.push(p),
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
                    // Someone chose us while we registered: the outcome is final; the
                    // wait below returns it at once.
                    Polled::Taken => break,
                    Polled::Claimed | Polled::NotReady => claimed = true,
                }
            }
            if let Some(ready) = now_ready {
                cancel(&mut guards, &registered, None);
                return match ready {
                    Ok(p) => finish(guards, p),
                    Err((p, e)) => fail(&guards, p, e),
                };
            }
            if restart {
                cancel(&mut guards, &registered, None);
                continue;
            }
            let wake_at = match (&timeout, claimed) {
                (Some((at, _)), true) => Some((*at).min(Instant::now() + CLAIM_REPOLL)),
                (Some((at, _)), false) => Some(*at),
                (None, true) => Some(Instant::now() + CLAIM_REPOLL),
                (None, false) => None,
            };
            match ctx.wait_until(wake_at) {
                Outcome::Selected(p) => {
                    guards[p].guard.complete_selected(&ctx);
                    cancel(&mut guards, &registered, Some(p));
                    return finish(guards, p);
                }
                Outcome::Poisoned(p) | Outcome::Retired(p) => {
                    cancel(&mut guards, &registered, None);
                    // The channel is final now: polling it again gives its error.
                    return match guards[p].guard.poll(None) {
                        Polled::Ready => finish(guards, p),
                        Polled::Failed(e) => fail(&guards, p, e),
                        _ => (
                            Err(AltError::Internal {
                                channel: guards[p].guard.channel_name(),
                            }),
                            None,
                        ),
                    };
                }
                Outcome::Aborted => {
                    cancel(&mut guards, &registered, None);
                    if let Some((at, _)) = &timeout {
                        if Instant::now() >= *at {
                            let (_, handler) = timeout.expect("checked above");
                            return (Ok(handler()), None);
                        }
                    }
                    // Woken to look at a claimed side again: poll from the start.
                    for &p in &order {
                        match guards[p].guard.poll(None) {
                            Polled::Ready => return finish(guards, p),
                            Polled::Failed(error) => return fail(&guards, p, error),
                            _ => {}
                        }
                    }
                }
            }
        }
    }
}

/// Withdraws every registration but `keep`'s.
fn cancel<R>(guards: &mut [Entry<'_, R>], registered: &[usize], keep: Option<usize>) {
    for &p in registered {
        if Some(p) != keep {
            guards[p].guard.cancel();
        }
    }
}

fn finish<R>(mut guards: Vec<Entry<'_, R>>, p: usize) -> (Result<R, AltError>, Option<usize>) {
    let entry = guards.swap_remove(p);
    // The other guards (and output values not sent) are dropped before the handler runs.
    drop(guards);
    (Ok(entry.guard.run()), Some(entry.index))
}

fn fail<R>(
    guards: &[Entry<'_, R>],
    p: usize,
    error: crate::channel::ChannelError,
) -> (Result<R, AltError>, Option<usize>) {
    let index = guards[p].index;
    (
        Err(AltError::Channel {
            guard: index,
            error,
        }),
        Some(index),
    )
}

/// An alt may not have two guards on one channel: it would have to meet itself.
fn check_distinct<R>(guards: &[Entry<'_, R>]) -> Result<(), AltError> {
    for (i, a) in guards.iter().enumerate() {
        for b in &guards[..i] {
            if a.guard.channel_id() == b.guard.channel_id() {
                return Err(AltError::SameChannel {
                    channel: a.guard.channel_name(),
                    first: b.index,
                    second: a.index,
                });
            }
        }
    }
    Ok(())
}

thread_local! {
    static RNG: Cell<u64> = const { Cell::new(0) };
}

/// A cheap per-thread xorshift for `select`'s starting point (no external crate).
fn random_below(n: usize) -> usize {
    RNG.with(|r| {
        let mut x = r.get();
        if x == 0 {
            let seed = Arc::as_ptr(&Arc::new(0u8)) as u64
                ^ Instant::now().elapsed().as_nanos() as u64
                ^ std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(0x9E37_79B9_7F4A_7C15);
            x = seed | 1;
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        r.set(x);
        (x % n as u64) as usize
    })
}
