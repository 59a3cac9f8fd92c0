//! Channel guards: an input or an output of one channel, with the handler to run if the
//! alt chooses it. Each hides its value type behind [`ChannelGuard`], so one alt can
//! mix channels of different types.

use std::sync::Arc;

use super::barrier::{BarrierPoll, Enrolled};
use crate::channel::select::{Poll, Registering};
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

fn split<T>(p: Poll<T>) -> (Polled, Option<T>) {
    {
        match p {
            Poll::Ready(v) => (Polled::Ready, v),
            Poll::Failed(e) => (Polled::Failed(e), None),
            Poll::Pending => (Polled::Pending, None),
            Poll::NotReady => (Polled::NotReady, None),
            Poll::Claimed => (Polled::Claimed, None),
            Poll::Taken => (Polled::Taken, None),
            Poll::Restart => (Polled::Restart, None),
        }
    }
}

pub(crate) trait ChannelGuard<'a, R> {
    fn channel_id(&self) -> u64;
    fn channel_name(&self) -> Arc<str>;
    /// Completes the operation now if it can; with `me`, registers the alt otherwise.
    fn poll(&mut self, me: Option<(&Arc<Context>, usize)>) -> Polled;
    /// Withdraws the registration, if any (an output gets its value back).
    fn cancel(&mut self);
    /// A partner chose this guard while the alt waited: wait for its handover.
    fn complete_selected(&mut self, ctx: &Context);
    /// Runs the handler on the completed operation.
    fn run(self: Box<Self>) -> R;
}

pub(crate) struct InputGuard<'a, T, F> {
    pub(crate) end: &'a Input<T>,
    pub(crate) handler: F,
    pub(crate) packet: Option<Arc<Packet<T>>>,
    pub(crate) value: Option<T>,
}

impl<'a, T, F> InputGuard<'a, T, F> {
    pub(crate) fn new(end: &'a Input<T>, handler: F) -> Self {
        InputGuard {
            end,
            handler,
            packet: None,
            value: None,
        }
    }
}

impl<'a, T, R, F: FnOnce(T) -> R> ChannelGuard<'a, R> for InputGuard<'a, T, F> {
    fn channel_id(&self) -> u64 {
        self.end.channel_id()
    }

    fn channel_name(&self) -> Arc<str> {
        self.end.name()
    }

    fn poll(&mut self, me: Option<(&Arc<Context>, usize)>) -> Polled {
        let poll = match me {
            None => self.end.alt_read(None),
            Some((ctx, case)) => {
                // A fresh packet per registration: a cancelled one may still be referenced
                // by a partner that lost the race for it.
                let packet = Packet::new(None);
                let poll = self.end.alt_read(Some(Registering {
                    ctx,
                    case,
                    packet: &packet,
                }));
                if matches!(poll, Poll::Pending) {
                    self.packet = Some(packet);
                }
                poll
            }
        };
        let (polled, value) = split(poll);
        if value.is_some() {
            self.value = value;
        }
        polled
    }

    fn cancel(&mut self) {
        if let Some(packet) = self.packet.take() {
            self.end.alt_cancel(&packet);
        }
    }

    fn complete_selected(&mut self, ctx: &Context) {
        if let Some(packet) = self.packet.take() {
            ctx.wait_for(packet.done());
            self.value = packet.take();
        }
    }

    fn run(self: Box<Self>) -> R {
        let this = *self;
        let value = this
            .value
            .expect("invariant: a chosen input guard has received its value");
        (this.handler)(value)
    }
}

pub(crate) struct OutputGuard<'a, T, F> {
    pub(crate) end: &'a Output<T>,
    pub(crate) value: Option<T>,
    pub(crate) handler: F,
    pub(crate) packet: Option<Arc<Packet<T>>>,
}

impl<'a, T, F> OutputGuard<'a, T, F> {
    pub(crate) fn new(end: &'a Output<T>, value: T, handler: F) -> Self {
        OutputGuard {
            end,
            value: Some(value),
            handler,
            packet: None,
        }
    }
}

impl<'a, T, R, F: FnOnce() -> R> ChannelGuard<'a, R> for OutputGuard<'a, T, F> {
    fn channel_id(&self) -> u64 {
        self.end.channel_id()
    }

    fn channel_name(&self) -> Arc<str> {
        self.end.name()
    }

    fn poll(&mut self, me: Option<(&Arc<Context>, usize)>) -> Polled {
        let poll = match me {
            None => self.end.alt_write(&mut self.value, None),
            Some((ctx, case)) => {
                let packet = Packet::new(None);
                let poll = self.end.alt_write(
                    &mut self.value,
                    Some(Registering {
                        ctx,
                        case,
                        packet: &packet,
                    }),
                );
                if matches!(poll, Poll::Pending) {
                    self.packet = Some(packet);
                }
                poll
            }
        };
        let (polled, _) = split(poll);
        polled
    }

    fn cancel(&mut self) {
        if let Some(packet) = self.packet.take() {
            if let Some(v) = self.end.alt_cancel(&packet) {
                self.value = Some(v);
            }
        }
    }

    fn complete_selected(&mut self, ctx: &Context) {
        if let Some(packet) = self.packet.take() {
            ctx.wait_for(packet.done());
        }
    }

    fn run(self: Box<Self>) -> R {
        (self.handler)()
    }
}

pub(crate) struct BarrierGuard<'a, F> {
    pub(crate) party: &'a Enrolled,
    pub(crate) handler: F,
    /// The context this guard's offer was registered with.
    pub(crate) offered: Option<Arc<Context>>,
}

impl<'a, R, F: FnOnce() -> R> ChannelGuard<'a, R> for BarrierGuard<'a, F> {
    fn channel_id(&self) -> u64 {
        self.party.id()
    }

    fn channel_name(&self) -> Arc<str> {
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

    fn complete_selected(&mut self, _ctx: &Context) {
        // The barrier committed every party at once; nothing travels.
        self.offered = None;
    }

    fn run(self: Box<Self>) -> R {
        (self.handler)()
    }
}
