//! How a channel's ends come and go in the in-memory flavour: claims on a side of a
//! shared channel, new ends, retiring and poisoning.

use super::core::{blocking, Core, Deadline};
use super::error::ChannelError;
use super::state::{Locked, State};
use super::waker::ClaimWaiter;
use super::{EndId, Side};
use crate::park::{Context, Outcome, WaitOp, WaitReason};
use crate::sync::Ordering;

impl<T> Core<T> {
    /// Parks in `side`'s claim queue: to take the claim (`wants_claim`), or to wait until
    /// another end's claim ends before one operation.
    pub(super) fn wait_claim(
        &self,
        mut st: Locked<'_, T>,
        side: Side,
        end: EndId,
        wants_claim: bool,
        deadline: Deadline,
    ) -> Result<(), ChannelError> {
        let Some(deadline) = blocking(deadline) else {
            drop(st);
            return Err(self.would_block_error(side));
        };
        let ctx = Context::acquire(WaitReason {
            op: WaitOp::Claim,
            channel: self.id,
        });
        st.claims[side as usize].queue.push_back(ClaimWaiter {
            ctx: ctx.clone(),
            end,
            wants_claim,
        });
        drop(st);
        match ctx.wait_until(deadline) {
            Outcome::Selected(_) => Ok(()),
            other => {
                let mut st = self.lock();
                st.claims[side as usize].remove(&ctx);
                st.dequeued(side);
                drop(st);
                Err(self.wait_error(other, side))
            }
        }
    }

    /// Takes exclusive use of `side` for `end`, once every pending operation of another
    /// end on that side has completed.
    pub(crate) fn claim(&self, side: Side, end: EndId) -> Result<(), ChannelError> {
        let mut st = self.lock();
        if st.poisoned {
            drop(st);
            return Err(self.poisoned_error());
        }
        let busy = st.queue(side).has_live();
        let claims = &mut st.claims[side as usize];
        if claims.holder.is_none() && claims.queue.is_empty() && !busy {
            claims.holder = Some(end);
            return Ok(());
        }
        self.wait_claim(st, side, end, true, Deadline::Never)
    }

    pub(crate) fn release_claim(&self, side: Side, end: EndId) {
        self.lock().drop_claim(side, end);
    }

    pub(crate) fn open_ends(&self, side: Side) -> usize {
        self.lock().open[side as usize]
    }

    /// A new end of `side` (a clone of a shared end).
    pub(crate) fn open_end(&self, side: Side) {
        self.lock().open[side as usize] += 1;
    }

    /// An end of `side` retires. When the last writer retires, blocked readers get
    /// `Retired` (the buffer is empty, or they would not be blocked); later reads drain
    /// the buffer first. When the last reader retires, blocked writers get their values
    /// back with `Retired`.
    pub(crate) fn retire(&self, side: Side, end: EndId) {
        let mut st = self.lock();
        let open = &mut st.open[side as usize];
        *open = open.saturating_sub(1);
        let last = *open == 0;
        st.drop_claim(side, end);
        if last && !st.poisoned {
            match side {
                Side::Write if st.buffer.is_empty() => {
                    st.complete_all(Side::Read, Outcome::Retired)
                }
                Side::Write => {}
                Side::Read => st.complete_all(Side::Write, Outcome::Retired),
            }
        }
    }

    /// Every pending and later operation fails with `Poisoned`; buffered values are
    /// dropped (poison is abort).
    pub(crate) fn poison(&self) {
        let mut st = self.lock();
        if st.poisoned {
            return;
        }
        st.poisoned = true;
        self.poisoned.store(true, Ordering::Release);
        let dropped = st.buffer.drain();
        st.complete_all(Side::Read, Outcome::Poisoned);
        st.complete_all(Side::Write, Outcome::Poisoned);
        let State { claims, wake, .. } = &mut *st;
        for c in claims {
            c.complete_all(Outcome::Poisoned(0), wake);
        }
        drop(st);
        drop(dropped);
    }
}
