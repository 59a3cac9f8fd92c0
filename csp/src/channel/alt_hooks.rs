//! What an alt's guards call on the ends: polls that may register the alt, exclusive
//! offers on channels that cross OS processes, withdrawal, and packet reuse. The alt
//! engine (`alt::guard`) is the only caller; the protocol is `channel::select`'s.

use std::sync::Arc;
use std::time::Instant;

use super::core::Flavor;
use super::error::ChannelError;
use super::select::{case, fail, Attempt, Registering};
use super::{Input, Output, Side};
use crate::park::{Outcome, Packet};

impl<T> Output<T> {
    /// The channel's readiness hint and the bit that says a write may go.
    pub(crate) fn write_hint(&self) -> (&crate::sync::AtomicUsize, usize) {
        (self.end.core.hint(), super::core::WRITE_MAY_GO)
    }

    /// Polls this end as an alt's output guard (see `channel::select`).
    pub(crate) fn alt_write(
        &self,
        value: &mut Option<T>,
        me: Option<Registering<'_, T>>,
    ) -> Attempt<T> {
        if let Err(e) = self.end.check_open() {
            return fail(&me, Outcome::Retired(case(&me)), e);
        }
        match self.end.core.flavor() {
            Flavor::Memory(core) => core.alt_write(self.end.id, value, me),
            Flavor::Crossing(x) => crossing_attempt(me, || {
                x.try_write(self.end.id, value).map(|w| w.then_some(None))
            }),
        }
    }

    /// Whether this end's channel crosses OS processes (an alt offers on it, see
    /// [`Output::alt_offer`]).
    pub(crate) fn crosses(&self) -> bool {
        matches!(self.end.core.flavor(), Flavor::Crossing(_))
    }

    /// An alt's exclusive offer on this end's cross-process channel until `until`:
    /// `Ready` if a reader took the value, `NotReady` if nobody did in time (the value
    /// stays). `None` for an in-memory channel, where the alt registers instead.
    pub(crate) fn alt_offer(
        &self,
        value: &mut Option<T>,
        until: Option<Instant>,
    ) -> Option<Attempt<T>> {
        let Flavor::Crossing(x) = self.end.core.flavor() else {
            return None;
        };
        if let Err(e) = self.end.check_open() {
            return Some(Attempt::Failed(e));
        }
        Some(match x.offer_write(self.end.id, value, until) {
            Ok(true) => Attempt::Ready(None),
            Ok(false) => Attempt::NotReady,
            Err(e) => Attempt::Failed(e),
        })
    }

    /// After a reader released this end's selected output guard: `Poisoned` if the
    /// reader's extended block panicked.
    pub(crate) fn delivered(&self, packet: &Packet<T>) -> Result<(), ChannelError> {
        self.end.core.delivered::<()>(packet).map_err(Into::into)
    }

    /// Withdraws an alt's registration; the value comes back if no reader took it.
    pub(crate) fn alt_cancel(&self, packet: Arc<Packet<T>>) -> Option<T> {
        self.end.core.alt_cancel(Side::Write, packet)
    }

    /// Keeps the packet of this end's completed output guard for the next waiter.
    pub(crate) fn recycle(&self, packet: Arc<Packet<T>>) {
        self.end.core.recycle(Side::Write, packet);
    }
}

impl<T> Input<T> {
    /// The channel's readiness hint and the bit that says a read may go.
    pub(crate) fn read_hint(&self) -> (&crate::sync::AtomicUsize, usize) {
        (self.end.core.hint(), super::core::READ_MAY_GO)
    }

    /// Polls this end as an alt's input guard (see `channel::select`).
    pub(crate) fn alt_read(&self, me: Option<Registering<'_, T>>) -> Attempt<T> {
        if let Err(e) = self.end.check_open() {
            return fail(&me, Outcome::Retired(case(&me)), e);
        }
        match self.end.core.flavor() {
            Flavor::Memory(core) => core.alt_read(self.end.id, me),
            Flavor::Crossing(x) => {
                crossing_attempt(me, || x.try_read(self.end.id).map(|v| v.map(Some)))
            }
        }
    }

    /// Whether this end's channel crosses OS processes (see [`Input::alt_offer`]).
    pub(crate) fn crosses(&self) -> bool {
        matches!(self.end.core.flavor(), Flavor::Crossing(_))
    }

    /// An alt's exclusive offer on this end's cross-process channel until `until`:
    /// `Ready` with the value if a writer handed one over, `NotReady` if nobody did in
    /// time. `None` for an in-memory channel, where the alt registers instead.
    pub(crate) fn alt_offer(&self, until: Option<Instant>) -> Option<Attempt<T>> {
        let Flavor::Crossing(x) = self.end.core.flavor() else {
            return None;
        };
        if let Err(e) = self.end.check_open() {
            return Some(Attempt::Failed(e));
        }
        Some(match x.offer_read(self.end.id, until) {
            Ok(Some(v)) => Attempt::Ready(Some(v)),
            Ok(None) => Attempt::NotReady,
            Err(e) => Attempt::Failed(e),
        })
    }

    /// Withdraws an alt's registration from this end's channel.
    pub(crate) fn alt_cancel(&self, packet: Arc<Packet<T>>) {
        drop(self.end.core.alt_cancel(Side::Read, packet));
    }

    /// Keeps the packet of this end's completed input guard for the next waiter.
    pub(crate) fn recycle(&self, packet: Arc<Packet<T>>) {
        self.end.core.recycle(Side::Read, packet);
    }
}

/// An alt's attempt at a guard on a cross-process channel, which cannot hold an alt's
/// registration (see `Crossing::try_read`). Polled without registering, `attempt` runs
/// and completes the operation if it can without waiting. While the alt registers on
/// its other guards, the guard answers `NotReady` without trying: completing it then
/// would need the alt to commit itself first, so the engine instead looks at every
/// guard again, unregistered, shortly after (see `alt::engine`'s repoll).
fn crossing_attempt<'a, T>(
    me: Option<Registering<'a, T>>,
    attempt: impl FnOnce() -> Result<Option<Option<T>>, ChannelError>,
) -> Attempt<T> {
    if me.is_some() {
        return Attempt::NotReady;
    }
    match attempt() {
        Ok(Some(v)) => Attempt::Ready(v),
        Ok(None) => Attempt::NotReady,
        Err(e) => Attempt::Failed(e),
    }
}
