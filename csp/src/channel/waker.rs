//! Queues of blocked operations.
//!
//! A channel has one queue of waiting readers and one of waiting writers (each served in
//! arrival order), and per side a claim queue: ends waiting for a `claim()`, or for
//! another end's claim to end before they may act.

use std::cell::Cell;
use std::collections::VecDeque;

use super::core::Core;
use super::{EndId, Side};
use crate::park::{Context, Outcome, Packet};
use std::sync::Arc;

/// A read or write blocked on a channel.
pub(crate) struct Waiter<T> {
    pub(crate) ctx: Arc<Context>,
    /// Which guard of the waiter's alt this is (0 for a plain operation).
    pub(crate) case: usize,
    /// A writer's value, or where a reader receives one.
    pub(crate) packet: Arc<Packet<T>>,
    /// A reader that runs an extended-rendezvous block before releasing the writer.
    pub(crate) extended: bool,
}

/// How many used packets a side keeps for its next waiters.
const SPARE_PACKETS: usize = 4;

/// Empty packets of one side's finished waiters, reused by the next ones so that a
/// blocking operation allocates nothing. The partner of a finished exchange may still
/// hold one for a moment; it is reused only once nobody else does.
pub(crate) struct Spares<T> {
    packets: Vec<Arc<Packet<T>>>,
}

impl<T> Spares<T> {
    pub(crate) fn new() -> Self {
        Spares {
            packets: Vec::new(),
        }
    }

    /// A packet holding `value` for a new waiter: a spare nobody else holds any more,
    /// else a new one.
    pub(crate) fn packet(&mut self, value: Option<T>) -> Arc<Packet<T>> {
        for (i, spare) in self.packets.iter_mut().enumerate() {
            // Unique: no partner can reach it any more, and none can get it back.
            if let Some(packet) = Arc::get_mut(spare) {
                packet.reset(value);
                return self.packets.swap_remove(i);
            }
        }
        // The partner of a wait may hold its packet a moment after the wait is over, so
        // the first waiter also makes the next one's (see `Context::acquire`).
        if self.packets.is_empty() {
            self.packets.push(Packet::new(None));
        }
        Packet::new(value)
    }

    /// Keeps the packet of a finished waiter (emptied by [`Packet::empty`]) for reuse.
    pub(crate) fn keep(&mut self, packet: Arc<Packet<T>>) {
        if self.packets.len() < SPARE_PACKETS {
            self.packets.push(packet);
        }
    }
}

/// The packet of an end's last blocking operation, kept by the end for its next one: an
/// end belongs to one process (it is `!Sync`), so taking and keeping it costs no lock,
/// where the side's `Spares` cost two. A packet the last partner still holds goes to the
/// side's spares instead (see `Core::end_packet`).
pub(crate) struct SparePacket<T>(Cell<Option<Arc<Packet<T>>>>);

impl<T> SparePacket<T> {
    pub(crate) fn new() -> Self {
        SparePacket(Cell::new(None))
    }
}

impl<T> Core<T> {
    /// A packet holding `value` for a new waiter of `side` on the end that keeps
    /// `spare`: its own spare if nobody else holds it any more, else one of the side's.
    pub(super) fn end_packet(
        &self,
        side: Side,
        spare: &SparePacket<T>,
        value: Option<T>,
    ) -> Arc<Packet<T>> {
        if let Some(mut packet) = spare.0.take() {
            // Unique: no partner can reach it any more, and none can get it back.
            if let Some(unique) = Arc::get_mut(&mut packet) {
                unique.reset(value);
                return packet;
            }
            self.spares(side).keep(packet);
        }
        self.packet(side, value)
    }

    /// Keeps the packet of the end's finished waiter for its next wait (see
    /// `Core::recycle`).
    pub(super) fn end_recycle(&self, side: Side, spare: &SparePacket<T>, packet: Arc<Packet<T>>) {
        packet.empty();
        if let Some(older) = spare.0.replace(Some(packet)) {
            self.spares(side).keep(older);
        }
    }
}

/// A channel's spare packets, one set per side, behind their own small lock (see
/// `Core::spares`).
impl<T> Core<T> {
    pub(super) fn spares(&self, side: Side) -> std::sync::MutexGuard<'_, Spares<T>> {
        self.spares[side as usize]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A packet for a new waiter of `side`, holding `value` (see `Spares`).
    pub(super) fn packet(&self, side: Side, value: Option<T>) -> Arc<Packet<T>> {
        self.spares(side).packet(value)
    }

    /// Gives the packet of a waiter of `side` whose exchange is over back to the side's
    /// spares, for the next waiter.
    pub(super) fn recycle(&self, side: Side, packet: Arc<Packet<T>>) {
        packet.empty();
        self.spares(side).keep(packet);
    }
}

pub(crate) struct WaitQueue<T> {
    waiters: VecDeque<Waiter<T>>,
}

impl<T> WaitQueue<T> {
    pub(crate) fn new() -> Self {
        WaitQueue {
            waiters: VecDeque::new(),
        }
    }

    /// Whether no waiter is queued (stale ones count: a cheap, conservative check).
    pub(crate) fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }

    pub(crate) fn push(&mut self, w: Waiter<T>) {
        self.waiters.push_back(w);
    }

    /// Commits to the first waiter still waiting, in arrival order. Waiters whose context
    /// was already completed elsewhere (timed out, or an alt that chose another guard) are
    /// stale and dropped on the way.
    pub(crate) fn select(&mut self) -> Option<Waiter<T>> {
        while let Some(w) = self.waiters.pop_front() {
            if w.ctx.try_complete(Outcome::Selected(w.case)) {
                return Some(w);
            }
        }
        None
    }

    /// Removes the waiter owning `packet` (after it timed out or was told to stop).
    pub(crate) fn remove(&mut self, packet: &Arc<Packet<T>>) {
        if let Some(i) = self
            .waiters
            .iter()
            .position(|w| Arc::ptr_eq(&w.packet, packet))
        {
            self.waiters.remove(i);
        }
    }

    /// Whether any waiter is still live. Stale waiters in front are dropped on the way,
    /// so the check costs O(1) amortised.
    pub(crate) fn has_live(&mut self) -> bool {
        while let Some(front) = self.waiters.front() {
            if front.ctx.outcome().is_none() {
                return true;
            }
            self.waiters.pop_front();
        }
        false
    }

    /// Completes every waiter with `outcome(case)`; returns those to wake.
    pub(crate) fn complete_all(
        &mut self,
        outcome: fn(usize) -> Outcome,
        wake: &mut Vec<Arc<Context>>,
    ) {
        for w in self.waiters.drain(..) {
            if w.ctx.try_complete(outcome(w.case)) {
                wake.push(w.ctx);
            }
        }
    }
}

/// An end waiting to claim its side, or waiting for another end's claim to end.
pub(crate) struct ClaimWaiter {
    pub(crate) ctx: Arc<Context>,
    pub(crate) end: EndId,
    /// `true`: wants the claim itself; `false`: wants to perform one operation.
    pub(crate) wants_claim: bool,
}

/// Exclusive use of one side of a shared channel (occam-pi's CLAIM).
pub(crate) struct Claims {
    pub(crate) holder: Option<EndId>,
    pub(crate) queue: VecDeque<ClaimWaiter>,
}

impl Claims {
    pub(crate) fn new() -> Self {
        Claims {
            holder: None,
            queue: VecDeque::new(),
        }
    }

    /// Whether an operation by `end` may go ahead now. `passed` is set for an operation
    /// that was let through by `pump` and must not queue behind a waiting claim again.
    #[inline]
    pub(crate) fn admits(&self, end: EndId, passed: bool) -> bool {
        match self.holder {
            Some(h) => h == end,
            None => passed || self.queue.is_empty(),
        }
    }

    /// Lets waiters through after the claim was released or the side's wait queue
    /// drained: operations queued ahead of a claim are let through; a claim is granted
    /// only once `side_busy` says no operation of the side is still pending, so that
    /// nothing from another end completes inside the claim.
    pub(crate) fn pump(&mut self, side_busy: bool, wake: &mut Vec<Arc<Context>>) {
        while self.holder.is_none() {
            let Some(front) = self.queue.front() else {
                return;
            };
            if front.ctx.outcome().is_some() {
                self.queue.pop_front();
                continue;
            }
            if front.wants_claim && side_busy {
                return;
            }
            let Some(w) = self.queue.pop_front() else {
                return;
            };
            if w.ctx.try_complete(Outcome::Selected(0)) {
                if w.wants_claim {
                    self.holder = Some(w.end);
                }
                wake.push(w.ctx);
            }
        }
    }

    pub(crate) fn remove(&mut self, ctx: &Arc<Context>) {
        if let Some(i) = self.queue.iter().position(|w| Arc::ptr_eq(&w.ctx, ctx)) {
            self.queue.remove(i);
        }
    }

    pub(crate) fn complete_all(&mut self, outcome: Outcome, wake: &mut Vec<Arc<Context>>) {
        for w in self.queue.drain(..) {
            if w.ctx.try_complete(outcome) {
                wake.push(w.ctx);
            }
        }
    }
}

/// Contexts to wake once the channel's lock is released: `Locked` moves the ones
/// completed under the lock here, and this wakes them when dropped, after the lock.
#[derive(Default)]
pub(super) struct Woken(Vec<Arc<Context>>);

impl Woken {
    pub(super) fn take_from(&mut self, completed: &mut Vec<Arc<Context>>) {
        if !completed.is_empty() {
            self.0 = std::mem::take(completed);
        }
    }
}

impl Drop for Woken {
    fn drop(&mut self) {
        for ctx in self.0.drain(..) {
            ctx.unpark();
        }
    }
}
