//! One channel's part in an alt: poll a guard, register it, cancel it.
//!
//! An alt polls each of its guards under that channel's lock. If the guard can complete
//! now, the alt **commits itself first** (one CAS on its own context) and then completes
//! the operation: a registered alt may be chosen by a partner on another channel at any
//! moment, and the self-commit is what makes sure it is chosen exactly once. If a
//! partner waiter it was about to meet vanished between the check and the commit (the
//! partner timed out or its own alt chose elsewhere), the alt has committed itself to
//! nothing: it starts again with a fresh context (`Restart`). Otherwise it registers a
//! waiter and moves on to the next guard, then parks once for all of them.
//!
//! Partners need no alt-specific code: a plain `write` that finds an alting reader in the
//! queue completes it by the same CAS that completes a plain reader, and learns which of
//! the alt's guards it met from the waiter's `case`.

use std::sync::Arc;

use super::buffer::Pushed;
use super::core::Core;
use super::error::{ChannelError, RetiredSide};
use super::state::Locked;
use super::waker::Waiter;
use super::{EndId, Side};
use crate::park::{Context, Outcome, Packet, Release};

/// The alt's identity while it registers: its context, the guard's index, and where
/// the guard keeps its packet (where a partner leaves or takes the value) once it is
/// registered.
pub(crate) struct Registering<'a, T> {
    pub(crate) ctx: &'a Arc<Context>,
    pub(crate) case: usize,
    pub(crate) packet: &'a mut Option<Arc<Packet<T>>>,
}

/// What one attempt at a guard's operation on this channel gave (the alt layer turns it
/// into its `Polled`, which carries no value).
pub(crate) enum Attempt<T> {
    /// The operation completed now (an input's value; `None` for an output).
    Ready(Option<T>),
    /// The channel is poisoned or retired on the other side.
    Failed(ChannelError),
    /// Not ready; the alt is now registered on this guard.
    Pending,
    /// Not ready (a poll without registration).
    NotReady,
    /// Another end holds a claim on this side: try again later.
    Claimed,
    /// Someone completed the alt's context while it was still registering.
    Taken,
    /// The alt committed itself but the partner vanished: start over.
    Restart,
}

/// Commits the registering alt to `outcome`; `false` if someone else already did.
fn commit<T>(me: &Option<Registering<'_, T>>, outcome: Outcome) -> bool {
    match me {
        Some(r) => r.ctx.try_complete(outcome),
        None => true,
    }
}

/// Reports a guard's channel as failed. A registering alt commits itself to `outcome`
/// first, as for any other outcome: a partner may have chosen one of its other guards
/// meanwhile, and then that choice stands.
pub(crate) fn fail<T>(
    me: &Option<Registering<'_, T>>,
    outcome: Outcome,
    error: ChannelError,
) -> Attempt<T> {
    if commit(me, outcome) {
        Attempt::Failed(error)
    } else {
        Attempt::Taken
    }
}

pub(crate) fn case<T>(me: &Option<Registering<'_, T>>) -> usize {
    me.as_ref().map_or(0, |r| r.case)
}

impl<T> Core<T> {
    /// Polls an input guard: take a buffered value or meet a waiting writer, or register.
    pub(crate) fn alt_read(&self, end: EndId, me: Option<Registering<'_, T>>) -> Attempt<T> {
        // A first look needs no lock: most guards of a waiting alt are not ready.
        if me.is_none() && !self.read_may_go() {
            return Attempt::NotReady;
        }
        let c = case(&me);
        let mut st = self.lock();
        if st.poisoned {
            drop(st);
            return fail(&me, Outcome::Poisoned(c), self.poisoned_error());
        }
        if !st.claims[Side::Read as usize].admits(end, false) {
            return Attempt::Claimed;
        }
        if !st.buffer.is_empty() {
            if !commit(&me, Outcome::Selected(c)) {
                return Attempt::Taken;
            }
            let v = self.pop_buffered(st);
            return Attempt::Ready(v);
        }
        if st.writers.has_live() {
            let w = match self.meet(st, Side::Write, &me, c) {
                Ok(w) => w,
                Err(poll) => return poll,
            };
            let v = w.packet.take();
            Release {
                ctx: w.ctx,
                packet: w.packet,
            }
            .release();
            return Attempt::Ready(v);
        }
        if st.open[Side::Write as usize] == 0 {
            drop(st);
            return fail(
                &me,
                Outcome::Retired(c),
                self.retired_error(RetiredSide::Writers),
            );
        }
        match me {
            Some(r) => {
                let packet = self.packet(Side::Read, None);
                st.readers.push(Waiter {
                    ctx: r.ctx.clone(),
                    case: r.case,
                    packet: packet.clone(),
                    extended: false,
                });
                *r.packet = Some(packet);
                Attempt::Pending
            }
            None => Attempt::NotReady,
        }
    }

    /// Polls an output guard: meet a waiting reader or buffer the value, or register
    /// (the value then waits in the guard's packet). `value` is taken only when the
    /// write completed or the value went into the packet.
    pub(crate) fn alt_write(
        &self,
        end: EndId,
        value: &mut Option<T>,
        me: Option<Registering<'_, T>>,
    ) -> Attempt<T> {
        if me.is_none() && !self.write_may_go() {
            return Attempt::NotReady;
        }
        let c = case(&me);
        let mut st = self.lock();
        if st.poisoned {
            drop(st);
            return fail(&me, Outcome::Poisoned(c), self.poisoned_error());
        }
        if !st.claims[Side::Write as usize].admits(end, false) {
            return Attempt::Claimed;
        }
        if st.open[Side::Read as usize] == 0 {
            drop(st);
            return fail(
                &me,
                Outcome::Retired(c),
                self.retired_error(RetiredSide::Readers),
            );
        }
        if st.readers.has_live() {
            let reader = match self.meet(st, Side::Read, &me, c) {
                Ok(r) => r,
                Err(poll) => return poll,
            };
            let v = value
                .take()
                .expect("invariant: an output guard holds its value until it completes");
            return match self.hand_to_reader::<()>(reader, v) {
                Ok(()) => Attempt::Ready(None),
                Err(e) => Attempt::Failed(e.into()),
            };
        }
        if st.buffer.accepts() {
            return Self::alt_store(st, &me, c, value);
        }
        match me {
            Some(r) => self.alt_queue_writer(st, r, value),
            None => Attempt::NotReady,
        }
    }

    /// An output guard's value goes into the buffer, which has room (the alt commits
    /// first, if registering).
    fn alt_store(
        mut st: Locked<'_, T>,
        me: &Option<Registering<'_, T>>,
        c: usize,
        value: &mut Option<T>,
    ) -> Attempt<T> {
        if !commit(me, Outcome::Selected(c)) {
            return Attempt::Taken;
        }
        let v = value
            .take()
            .expect("invariant: an output guard holds its value until it completes");
        let dropped = match st.buffer.push(v) {
            Pushed::Stored(d) => d,
            Pushed::Full(v) => Some(v), // `accepts` said otherwise: cannot happen
        };
        drop(st);
        drop(dropped);
        Attempt::Ready(None)
    }

    /// A registering alt's output guard joins the writers' queue with its value.
    fn alt_queue_writer(
        &self,
        mut st: Locked<'_, T>,
        r: Registering<'_, T>,
        value: &mut Option<T>,
    ) -> Attempt<T> {
        let v = value
            .take()
            .expect("invariant: an output guard holds its value until it completes");
        let packet = self.packet(Side::Write, Some(v));
        st.writers.push(Waiter {
            ctx: r.ctx.clone(),
            case: r.case,
            packet: packet.clone(),
            extended: false,
        });
        *r.packet = Some(packet);
        Attempt::Pending
    }

    /// Commits the alt (if registering), then the first live waiter of `side`, and
    /// releases the lock. If that waiter vanished since `has_live`, a registering alt
    /// has committed itself to nothing and must restart.
    fn meet(
        &self,
        mut st: Locked<'_, T>,
        side: Side,
        me: &Option<Registering<'_, T>>,
        c: usize,
    ) -> Result<Waiter<T>, Attempt<T>> {
        if !commit(me, Outcome::Selected(c)) {
            return Err(Attempt::Taken);
        }
        let Some(w) = st.queue(side).select() else {
            return Err(if me.is_some() {
                Attempt::Restart
            } else {
                Attempt::NotReady
            });
        };
        st.dequeued(side);
        drop(st);
        Ok(w)
    }

    /// Takes a registered guard's waiter off `side`'s queue and keeps its packet as a
    /// spare. For an output guard that was not chosen, its value comes back out of the
    /// packet. The alt is decided elsewhere, so no partner fills or empties the packet
    /// any more (one that popped the stale waiter lost the CAS for it).
    pub(crate) fn alt_cancel(&self, side: Side, packet: Arc<Packet<T>>) -> Option<T> {
        let mut st = self.lock();
        st.queue(side).remove(&packet);
        st.dequeued(side);
        // Moved out, not dropped, under the lock.
        let value = packet.take();
        drop(st);
        self.spares(side).keep(packet);
        value
    }
}
