//! Guards: an input or an output of one channel, or a barrier. Each hides its value type
//! behind [`Guard`], so one alt can mix channels of different types; after the alt has
//! chosen one, the guard holds what the operation produced (an input's value).
//!
//! The [`Alt`](super::Alt) builder wraps each guard with its handler closure; the
//! [`alt!`](crate::alt!) macro keeps bare guards on the stack and runs its arms' bodies
//! itself.

use std::sync::Arc;
use std::time::Instant;

use super::barrier::{BarrierPoll, Enrolled};
use crate::channel::select::{Attempt, Registering};
use crate::channel::{ChannelError, Input, Output};
use crate::park::{Context, Packet};

/// What polling a guard gave, without its value (the guard keeps that).
pub(crate) enum Polled {
    Ready,
    Failed(ChannelError),
    Pending,
    NotReady,
    Claimed,
    Taken,
    Restart,
}

fn split<T>(p: Attempt<T>) -> (Polled, Option<T>) {
    match p {
        Attempt::Ready(v) => (Polled::Ready, v),
        Attempt::Failed(e) => (Polled::Failed(e), None),
        Attempt::Pending => (Polled::Pending, None),
        Attempt::NotReady => (Polled::NotReady, None),
        Attempt::Claimed => (Polled::Claimed, None),
        Attempt::Taken => (Polled::Taken, None),
        Attempt::Restart => (Polled::Restart, None),
    }
}

/// Polls a channel guard through `poll`; when the alt registers (`me`), the channel
/// puts the guard's packet in `packet` if the guard is now pending.
fn register<T>(
    me: Option<(&Arc<Context>, usize)>,
    packet: &mut Option<Arc<Packet<T>>>,
    poll: impl FnOnce(Option<Registering<'_, T>>) -> Attempt<T>,
) -> Attempt<T> {
    let Some((ctx, case)) = me else {
        return poll(None);
    };
    poll(Some(Registering { ctx, case, packet }))
}

/// One guard of an alt, whatever its kind and value type.
pub(crate) trait Guard {
    /// The channel's (or barrier's) id: an alt refuses two guards on one.
    fn key(&self) -> u64;
    /// The channel's (or barrier's) name, for errors.
    fn name(&self) -> Arc<str>;
    /// Completes the operation now if it can; with `me`, registers the alt otherwise.
    fn poll(&mut self, me: Option<(&Arc<Context>, usize)>) -> Polled;
    /// Withdraws the registration, if any (an output gets its value back).
    fn cancel(&mut self);
    /// A partner chose this guard while the alt waited: wait for its handover. Fails
    /// only for an output whose reader's extended block panicked (value lost, channel
    /// poisoned).
    fn complete_selected(&mut self, ctx: &Context) -> Result<(), ChannelError>;
    /// Whether the guard's channel crosses OS processes: a partner there cannot see
    /// the alt's registration, so the alt offers on it instead (see [`Guard::offer`]).
    fn crosses(&self) -> bool {
        false
    }
    /// Waits on a crossing channel as a plain reader or writer until `until` (`None`:
    /// for as long as it takes), while the alt is registered nowhere else: `Ready`
    /// if the operation completed, `NotReady` if it did not in time.
    fn offer(&mut self, _until: Option<Instant>) -> Polled {
        Polled::NotReady
    }
}

/// An input guard: after it was chosen, [`InputSlot::take`] gives the value read.
#[doc(hidden)]
pub struct InputSlot<'a, T> {
    end: &'a Input<T>,
    packet: Option<Arc<Packet<T>>>,
    value: Option<T>,
}

impl<'a, T> InputSlot<'a, T> {
    /// A guard reading from `end`.
    pub fn new(end: &'a Input<T>) -> Self {
        InputSlot {
            end,
            packet: None,
            value: None,
        }
    }

    pub(crate) fn end(&self) -> &'a Input<T> {
        self.end
    }

    /// The value read; call only for the chosen guard.
    pub fn take(&mut self) -> T {
        self.value
            .take()
            .expect("invariant: a chosen input guard has received its value")
    }
}

impl<T> Guard for InputSlot<'_, T> {
    fn key(&self) -> u64 {
        self.end.channel_id()
    }

    fn name(&self) -> Arc<str> {
        self.end.name()
    }

    fn poll(&mut self, me: Option<(&Arc<Context>, usize)>) -> Polled {
        let end = self.end;
        let poll = register(me, &mut self.packet, |r| end.alt_read(r));
        let (polled, value) = split(poll);
        if value.is_some() {
            self.value = value;
        }
        polled
    }

    fn cancel(&mut self) {
        if let Some(packet) = self.packet.take() {
            self.end.alt_cancel(packet);
        }
    }

    fn crosses(&self) -> bool {
        self.end.crosses()
    }

    fn offer(&mut self, until: Option<Instant>) -> Polled {
        let (polled, value) = split(self.end.alt_offer(until).unwrap_or(Attempt::NotReady));
        if value.is_some() {
            self.value = value;
        }
        polled
    }

    fn complete_selected(&mut self, ctx: &Context) -> Result<(), ChannelError> {
        if let Some(packet) = self.packet.take() {
            ctx.wait_for(packet.done());
            self.value = packet.take();
            self.end.recycle(packet);
        }
        Ok(())
    }
}

/// An output guard holding the value it offers.
#[doc(hidden)]
pub struct OutputSlot<'a, T> {
    end: &'a Output<T>,
    value: Option<T>,
    packet: Option<Arc<Packet<T>>>,
}

impl<'a, T> OutputSlot<'a, T> {
    /// A guard offering `value` to `end`.
    pub fn new(end: &'a Output<T>, value: T) -> Self {
        OutputSlot {
            end,
            value: Some(value),
            packet: None,
        }
    }
}

impl<'a, T> OutputSlot<'a, T> {
    pub(crate) fn end(&self) -> &'a Output<T> {
        self.end
    }
}

impl<T> Guard for OutputSlot<'_, T> {
    fn key(&self) -> u64 {
        self.end.channel_id()
    }

    fn name(&self) -> Arc<str> {
        self.end.name()
    }

    fn poll(&mut self, me: Option<(&Arc<Context>, usize)>) -> Polled {
        let (end, value) = (self.end, &mut self.value);
        split(register(me, &mut self.packet, |r| end.alt_write(value, r))).0
    }

    fn cancel(&mut self) {
        if let Some(packet) = self.packet.take() {
            if let Some(v) = self.end.alt_cancel(packet) {
                self.value = Some(v);
            }
        }
    }

    fn crosses(&self) -> bool {
        self.end.crosses()
    }

    fn offer(&mut self, until: Option<Instant>) -> Polled {
        let attempt = self.end.alt_offer(&mut self.value, until);
        split(attempt.unwrap_or(Attempt::NotReady)).0
    }

    fn complete_selected(&mut self, ctx: &Context) -> Result<(), ChannelError> {
        if let Some(packet) = self.packet.take() {
            ctx.wait_for(packet.done());
            let delivered = self.end.delivered(&packet);
            self.end.recycle(packet);
            return delivered;
        }
        Ok(())
    }
}

/// A barrier guard.
#[doc(hidden)]
pub struct BarrierSlot<'a> {
    party: &'a Enrolled,
    /// The context this guard's offer was registered with.
    offered: Option<Arc<Context>>,
}

impl<'a> BarrierSlot<'a> {
    /// A guard syncing on `party`'s barrier.
    pub fn new(party: &'a Enrolled) -> Self {
        BarrierSlot {
            party,
            offered: None,
        }
    }
}

impl Guard for BarrierSlot<'_> {
    fn key(&self) -> u64 {
        self.party.id()
    }

    fn name(&self) -> Arc<str> {
        self.party.name()
    }

    fn poll(&mut self, me: Option<(&Arc<Context>, usize)>) -> Polled {
        match self.party.poll(me) {
            BarrierPoll::Ready => Polled::Ready,
            BarrierPoll::NotReady => Polled::NotReady,
            BarrierPoll::Taken => Polled::Taken,
            BarrierPoll::Pending => {
                self.offered = me.map(|(ctx, _)| ctx.clone());
                Polled::Pending
            }
        }
    }

    fn cancel(&mut self) {
        if let Some(ctx) = self.offered.take() {
            self.party.cancel(&ctx);
        }
    }

    fn crosses(&self) -> bool {
        self.party.crosses()
    }

    fn offer(&mut self, until: Option<Instant>) -> Polled {
        match self.party.offer(until) {
            true => Polled::Ready,
            false => Polled::NotReady,
        }
    }

    fn complete_selected(&mut self, _ctx: &Context) -> Result<(), ChannelError> {
        // The barrier committed every party at once; nothing travels.
        self.offered = None;
        Ok(())
    }
}
