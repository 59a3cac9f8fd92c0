//! The one waiting abstraction: a blocked operation's [`Context`].
//!
//! Every blocking operation — a read, a write, a claim, later an alt over many guards — is
//! a *waiter*: it publishes a `Context` in the queues of the channels involved, then parks.
//! Whoever completes it (a partner, a poisoner, the waiter's own timeout) decides the
//! outcome by **one compare-and-swap** from `WAITING`. The loser of that race learns so
//! and backs off. This is what makes a timeout racing a partner lossless: either the
//! partner's CAS won (the operation happened, the timeout is ignored) or the timeout's CAS
//! won (nobody will touch the waiter's value, the waiter takes it back).
//!
//! No lock is held while parked. Parking is a short spin (the partner is often about to
//! arrive on another core) and then a real park through the executor seam ([`parker`]):
//! the OS thread's park, or the `Parker` the executor running the process installed.
//!
//! Layer: uses `sync` only; the channel and alt layers build on it.

pub(crate) mod parker;
pub(crate) mod process;
pub(crate) mod snooze;

pub(crate) use parker::Unparker;
pub(crate) use snooze::Snooze;

use std::cell::RefCell;
use std::time::Instant;

use std::sync::Arc;

use crate::sync::{self, AtomicBool, AtomicUsize, Mutex, Ordering};

/// Busy-spin steps of `Context::spin_for` (crossbeam's `Backoff::spin` doubles its
/// busy-wait up to 64 `spin_loop`s per step).
#[cfg(not(loom))]
const SPIN_STEPS: usize = 8;
/// Yields after the spin, while yielding is cheap.
#[cfg(not(loom))]
const YIELD_STEPS: usize = 2;

const WAITING: usize = 0;
const ABORTED: usize = 1;
/// Held for a moment by an alting barrier that is committing several waiters at once
/// (see `alt::barrier`): not decided yet, but nobody else may decide it until the
/// barrier commits it or lets it go.
const CLAIMED: usize = 2;
const KIND_SELECTED: usize = 0;
const KIND_POISONED: usize = 1;
const KIND_RETIRED: usize = 2;

/// How a wait ended. `case` says which of the waiter's guards it concerns (0 for the
/// one-guard operations of a channel end).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The waiter gave up (its deadline passed) before anyone committed to it.
    Aborted,
    /// A partner committed to this guard.
    Selected(usize),
    /// The guard's channel was poisoned.
    Poisoned(usize),
    /// The guard's channel was retired on the other side.
    Retired(usize),
}

impl Outcome {
    fn encode(self) -> usize {
        match self {
            Outcome::Aborted => ABORTED,
            Outcome::Selected(c) => ((c + 1) << 2) | KIND_SELECTED,
            Outcome::Poisoned(c) => ((c + 1) << 2) | KIND_POISONED,
            Outcome::Retired(c) => ((c + 1) << 2) | KIND_RETIRED,
        }
    }

    fn decode(s: usize) -> Option<Outcome> {
        match s {
            WAITING | CLAIMED => None,
            ABORTED => Some(Outcome::Aborted),
            s => {
                let case = (s >> 2) - 1;
                Some(match s & 3 {
                    KIND_SELECTED => Outcome::Selected(case),
                    KIND_POISONED => Outcome::Poisoned(case),
                    _ => Outcome::Retired(case),
                })
            }
        }
    }
}

/// What an operation waits for: kept with its context so that a deadlock report can say
/// which process waits on which channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WaitReason {
    pub(crate) op: WaitOp,
    pub(crate) channel: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WaitOp {
    Read,
    Write,
    Claim,
    /// A writer whose value a reader has taken, waiting for the reader's extended block.
    Release,
    /// An alt over several guards (`channel` is its first guard's).
    Alt,
}

/// One blocked operation: its outcome cell and the thread to wake.
pub(crate) struct Context {
    state: AtomicUsize,
    unparker: Unparker,
    reason: WaitReason,
}

/// How many contexts a thread keeps for its next waits. A partner that completed our
/// last wait may still hold that context for a moment (it lets go just after the unpark),
/// so the next wait takes another; a few cover several partners finishing at once.
const CACHED_CONTEXTS: usize = 4;

sync::thread_local! {
    static CONTEXTS: RefCell<[Option<Arc<Context>>; CACHED_CONTEXTS]> =
        RefCell::new(Default::default());
}

impl Context {
    /// The one place a context is built: a waiter of this thread, not yet decided.
    fn fresh(reason: WaitReason) -> Context {
        Context {
            state: AtomicUsize::new(WAITING),
            unparker: Unparker::current(),
            reason,
        }
    }

    /// A context for a new wait of this thread. It is one of the thread's cached
    /// contexts that nobody else holds any more (reset in place: no allocation), or a
    /// new one that the cache keeps from then on.
    pub(crate) fn acquire(reason: WaitReason) -> Arc<Context> {
        CONTEXTS
            .try_with(|cache| {
                // Nothing under the borrow calls back here; a failed borrow would only
                // cost an allocation.
                let mut cache = cache.try_borrow_mut().ok()?;
                Some(reuse_or_keep(&mut cache[..], &reason))
            })
            .ok()
            .flatten()
            // No cache (the thread is being torn down): an uncached context.
            .unwrap_or_else(|| Arc::new(Context::fresh(reason)))
    }

    /// Commits this waiter to `outcome` if nobody has yet. Exactly one caller ever wins.
    /// While a barrier holds the waiter claimed, waits for it to commit or release it.
    pub(crate) fn try_complete(&self, outcome: Outcome) -> bool {
        loop {
            match self.state.compare_exchange(
                WAITING,
                outcome.encode(),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(CLAIMED) => sync::spin_wait(),
                Err(_) => return false,
            }
        }
    }

    /// Claims a waiting context for a barrier's commit: `false` if it is decided.
    /// Only the barrier oracle's holder claims, so claims never wait for each other.
    pub(crate) fn try_claim(&self) -> bool {
        self.state
            .compare_exchange(WAITING, CLAIMED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Lets a claimed context go, undecided.
    pub(crate) fn unclaim(&self) {
        self.state.store(WAITING, Ordering::Release);
    }

    /// Decides a claimed context.
    pub(crate) fn commit_claimed(&self, outcome: Outcome) {
        self.state.store(outcome.encode(), Ordering::Release);
    }

    /// What this wait is for.
    pub(crate) fn reason(&self) -> &WaitReason {
        &self.reason
    }

    pub(crate) fn outcome(&self) -> Option<Outcome> {
        Outcome::decode(self.state.load(Ordering::Acquire))
    }

    pub(crate) fn unpark(&self) {
        self.unparker.unpark();
    }

    /// Waits until someone completes this context or `deadline` passes; on expiry the
    /// waiter tries to complete itself as `Aborted`, and whichever CAS won is the answer.
    ///
    /// A wait without a deadline that gets past the spin is shown to the current
    /// process's context while it lasts, for the deadlock check (see `process`).
    pub(crate) fn wait_until(self: &Arc<Self>, deadline: Option<Instant>) -> Outcome {
        if let Some(o) = self.spin_for(|| self.outcome()) {
            return o;
        }
        let _shown = match deadline {
            None => process::waiting_on(self),
            Some(_) => None,
        };
        loop {
            if let Some(o) = self.outcome() {
                return o;
            }
            let timeout = match deadline {
                Some(d) => {
                    let now = sync::now();
                    if now >= d {
                        self.try_complete(Outcome::Aborted);
                        // Either our abort or a partner's commit: both are final now.
                        if let Some(o) = self.outcome() {
                            return o;
                        }
                        continue;
                    }
                    Some(d - now)
                }
                None => None,
            };
            parker::park(timeout);
        }
    }

    /// After a partner committed to this waiter, waits for it to finish its part
    /// (hand over the value, or run an extended rendezvous block): `done` turns true
    /// and then the partner unparks us.
    pub(crate) fn wait_for(&self, done: &AtomicBool) {
        if self
            .spin_for(|| done.load(Ordering::Acquire).then_some(()))
            .is_some()
        {
            return;
        }
        while !done.load(Ordering::Acquire) {
            parker::park(None);
        }
    }

    /// Waits a little before parking: the partner is often just about to arrive, and
    /// catching it avoids two futex calls. First a short busy spin (a few hundred ns),
    /// then a few `sched_yield`s — but only while yielding is cheap. A yield lets a
    /// runnable partner on this core go first (the win when processes outnumber cores),
    /// but beside busy threads it hands the core away for a whole slice (measured:
    /// ~0.4 ms per yield beside one busy thread per core, 4x slower than crossbeam). So a
    /// slow yield turns yielding off on this thread for a while, and the waiter parks at
    /// once, to be woken by its partner's unpark. The while is the `Fifo` snooze's
    /// adaptive cooldown (see `snooze`), shared: each further slow yield doubles it, a fast
    /// one halves it. A fixed cooldown of 256 waits let a thread beside busy spinners pay
    /// a whole slice every 256 waits: commstime there ran 3.3x crossbeam's time (median
    /// of 6 paired runs), and 0.26–0.43x with the shared adaptive cooldown.
    /// Loom explores interleavings instead of spinning.
    #[cfg(not(loom))]
    fn spin_for<R>(&self, mut ready: impl FnMut() -> Option<R>) -> Option<R> {
        if !parker::spins() {
            return ready();
        }
        let backoff = crossbeam_utils::Backoff::new();
        for _ in 0..SPIN_STEPS {
            if let Some(r) = ready() {
                return Some(r);
            }
            backoff.spin();
        }
        if !snooze::cooling() {
            for _ in 0..YIELD_STEPS {
                let cheap = snooze::timed_yield();
                if let Some(r) = ready() {
                    return Some(r);
                }
                if !cheap {
                    break;
                }
            }
        }
        ready()
    }

    #[cfg(loom)]
    fn spin_for<R>(&self, _ready: impl FnMut() -> Option<R>) -> Option<R> {
        None
    }
}

/// Resets the first cached context that only the cache holds, or makes a new one and
/// keeps it in the first empty place (or the first place, when every cached context is
/// still held: its holder frees it).
fn reuse_or_keep(cache: &mut [Option<Arc<Context>>], reason: &WaitReason) -> Arc<Context> {
    for ctx in cache.iter_mut().flatten() {
        // `get_mut` succeeds only if no other `Arc` (or `Weak`) exists, and it
        // synchronises with their drops: nobody can look at the old state any more.
        if let Some(unique) = Arc::get_mut(ctx) {
            *unique = Context::fresh(reason.clone());
            return ctx.clone();
        }
    }
    let ctx = Arc::new(Context::fresh(reason.clone()));
    keep(cache, ctx.clone());
    // The partner of a wait may hold its context a moment after the wait is over, so
    // the first wait also makes the next one's: how long a partner takes to let go
    // then never decides whether a steady state allocates.
    if cache.iter().flatten().count() < 2 {
        keep(cache, Arc::new(Context::fresh(reason.clone())));
    }
    ctx
}

fn keep(cache: &mut [Option<Arc<Context>>], ctx: Arc<Context>) {
    let place = cache.iter().position(Option::is_none).unwrap_or(0);
    if let Some(slot) = cache.get_mut(place) {
        *slot = Some(ctx);
    }
}

/// Where a value travels between two committed parties. The party that commits fills
/// or empties it, then sets `done` and unparks the other; the other only looks inside
/// after seeing `done`.
pub(crate) struct Packet<T> {
    slot: Mutex<Slot<T>>,
    done: AtomicBool,
    /// Set before `done` when a reader's extended block panicked: the value was taken
    /// but the rendezvous did not complete (the channel is poisoned).
    abandoned: AtomicBool,
}

struct Slot<T> {
    value: Option<T>,
    /// A writer to release once an extended rendezvous block has run.
    release: Option<Release<T>>,
}

/// A committed writer that stays blocked until the reader's extended block has run.
pub(crate) struct Release<T> {
    pub(crate) ctx: Arc<Context>,
    pub(crate) packet: Arc<Packet<T>>,
}

impl<T> Release<T> {
    /// Lets the writer go: its write succeeded.
    pub(crate) fn release(self) {
        self.packet.finish(&self.ctx);
    }

    /// Lets the writer go with the news that the reader's block did not complete (it
    /// panicked): the writer's value is lost with it, and the write fails.
    pub(crate) fn abandon(self) {
        self.packet.abandoned.store(true, Ordering::Relaxed);
        // `finish` publishes `abandoned` with its Release store of `done`.
        self.packet.finish(&self.ctx);
    }
}

impl<T> Packet<T> {
    pub(crate) fn new(value: Option<T>) -> Arc<Packet<T>> {
        Arc::new(Packet::fresh(value))
    }

    fn fresh(value: Option<T>) -> Packet<T> {
        Packet {
            slot: Mutex::new(Slot {
                value,
                release: None,
            }),
            done: AtomicBool::new(false),
            abandoned: AtomicBool::new(false),
        }
    }

    /// Makes a spare packet (see [`Packet::empty`]) ready for a new exchange.
    pub(crate) fn reset(&mut self, value: Option<T>) {
        *self = Packet::fresh(value);
    }

    /// Empties a packet whose exchange is over (its owner has seen `done`, so the
    /// partner will not fill it again), dropping what was left here rather than where a
    /// spare is reused, under a channel's lock.
    pub(crate) fn empty(&self) {
        let mut slot = sync::lock(&self.slot);
        let left = (slot.value.take(), slot.release.take());
        drop(slot);
        drop(left);
    }

    pub(crate) fn take(&self) -> Option<T> {
        sync::lock(&self.slot).value.take()
    }

    pub(crate) fn put(&self, value: T, release: Option<Release<T>>) {
        let mut slot = sync::lock(&self.slot);
        slot.value = Some(value);
        slot.release = release;
    }

    pub(crate) fn take_release(&self) -> Option<Release<T>> {
        sync::lock(&self.slot).release.take()
    }

    pub(crate) fn done(&self) -> &AtomicBool {
        &self.done
    }

    /// Whether the partner abandoned the exchange (read after `done`).
    pub(crate) fn abandoned(&self) -> bool {
        self.abandoned.load(Ordering::Relaxed)
    }

    /// Marks the exchange finished and wakes `waiter`, in that order, so one unpark is
    /// enough.
    pub(crate) fn finish(&self, waiter: &Context) {
        self.done.store(true, Ordering::Release);
        waiter.unpark();
    }
}
