//! A channel's in-memory state and its lock: the buffer, the wait queues, the claims and
//! the open ends, and what releasing the lock publishes (the readiness hint, the ring's
//! thaw, the wake-ups of waiters completed under it).

use std::sync::Arc;

use super::buffer::Buffer;
use super::ring::Ring;
use super::waker::{Claims, WaitQueue, Woken};
use super::{EndId, Side};
use crate::park::{Context, Outcome};
use crate::sync::{AtomicUsize, MutexGuard, Ordering};

pub(crate) const READ_MAY_GO: usize = 1;
pub(crate) const WRITE_MAY_GO: usize = 2;

/// The channel's state, locked; releasing it publishes the readiness hint and, when the
/// channel needs no lock, lets the ring's fast path run again.
pub(super) struct Locked<'a, T> {
    pub(super) state: MutexGuard<'a, State<T>>,
    pub(super) hint: &'a AtomicUsize,
    pub(super) ring: Option<&'a Ring<T>>,
    /// Declared after `state`, so dropped after it: the contexts completed under the
    /// lock are woken once it is released (a woken waiter's first act is often to take
    /// the lock).
    pub(super) woken: Woken,
}

impl<T> Drop for Locked<'_, T> {
    fn drop(&mut self) {
        // Still under the lock: the hint is never older than the last release. Thawing
        // comes after it, so fast operations only ever add bits to a stored hint.
        self.hint.store(self.state.hint(), Ordering::Release);
        if let Some(ring) = self.ring {
            if !self.state.needs_lock() {
                ring.thaw();
            }
        }
        self.woken.take_from(&mut self.state.wake);
    }
}

impl<T> std::ops::Deref for Locked<'_, T> {
    type Target = State<T>;
    fn deref(&self) -> &State<T> {
        &self.state
    }
}

impl<T> std::ops::DerefMut for Locked<'_, T> {
    fn deref_mut(&mut self) -> &mut State<T> {
        &mut self.state
    }
}

pub(super) struct State<T> {
    pub(super) buffer: Buffer<T>,
    pub(super) readers: WaitQueue<T>,
    pub(super) writers: WaitQueue<T>,
    /// Indexed by `Side`.
    pub(super) claims: [Claims; 2],
    /// Ends of each side not yet retired, indexed by `Side`.
    pub(super) open: [usize; 2],
    pub(super) poisoned: bool,
    /// Contexts completed under the lock, to wake once it is released (see `Locked`).
    pub(super) wake: Vec<Arc<Context>>,
    /// The channel moved to the cross-process flavour: this state is unused from then
    /// on, and its hint says "may go" so that an alt asks the other flavour.
    pub(super) crossed: bool,
}

impl<T> State<T> {
    /// Conservative: a set bit means "may complete without waiting" (waiters counted
    /// may be stale), a clear bit means it certainly cannot.
    pub(super) fn hint(&self) -> usize {
        if self.crossed {
            return READ_MAY_GO | WRITE_MAY_GO;
        }
        let mut h = 0;
        if self.poisoned
            || !self.buffer.is_empty()
            || !self.writers.is_empty()
            || self.open[Side::Write as usize] == 0
        {
            h |= READ_MAY_GO;
        }
        if self.poisoned
            || !self.readers.is_empty()
            || self.buffer.accepts()
            || self.open[Side::Read as usize] == 0
        {
            h |= WRITE_MAY_GO;
        }
        h
    }

    /// Whether an operation could meet a party the ring knows nothing of: a waiter (a
    /// parked operation or a registered alt), a claim, poison or a retired side. While
    /// so, every operation takes the lock.
    fn needs_lock(&self) -> bool {
        self.poisoned
            || self.crossed
            || !self.readers.is_empty()
            || !self.writers.is_empty()
            || self.open.contains(&0)
            || self
                .claims
                .iter()
                .any(|c| c.holder.is_some() || !c.queue.is_empty())
    }

    pub(super) fn queue(&mut self, side: Side) -> &mut WaitQueue<T> {
        match side {
            Side::Read => &mut self.readers,
            Side::Write => &mut self.writers,
        }
    }

    /// A waiter of `side` left its queue: a claim waiting for the queue to drain may now
    /// be granted.
    pub(super) fn dequeued(&mut self, side: Side) {
        if !self.claims[side as usize].queue.is_empty() {
            let busy = self.queue(side).has_live();
            self.claims[side as usize].pump(busy, &mut self.wake);
        }
    }

    /// `end` gives up its claim on `side`, if it holds it: the next claim may go.
    pub(super) fn drop_claim(&mut self, side: Side, end: EndId) {
        if self.claims[side as usize].holder == Some(end) {
            self.claims[side as usize].holder = None;
            let busy = self.queue(side).has_live();
            self.claims[side as usize].pump(busy, &mut self.wake);
        }
    }

    /// Completes every waiter of `side`'s queue with `outcome`.
    pub(super) fn complete_all(&mut self, side: Side, outcome: fn(usize) -> Outcome) {
        match side {
            Side::Read => self.readers.complete_all(outcome, &mut self.wake),
            Side::Write => self.writers.complete_all(outcome, &mut self.wake),
        }
    }
}
