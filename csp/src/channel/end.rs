//! What both ends of a channel hold, and where each of their operations goes: the
//! in-memory core or the cross-process flavour (`Flavor`), chosen per operation.

use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::core::{Core, Flavor};
use super::error::{ChannelError, RetiredSide};
use super::waker::SparePacket;
use super::{next_end_id, ChannelInfo, EndId, Side};

/// State common to both ends.
pub(super) struct End<T> {
    pub(super) core: Arc<Core<T>>,
    /// The same channel without its type, for recording ends (no bound on `T` needed).
    pub(super) info: Arc<dyn ChannelInfo>,
    pub(super) id: EndId,
    retired: AtomicBool,
    /// The packet of this end's last blocking operation, for its next one.
    pub(super) spare: SparePacket<T>,
    /// Makes every end `!Sync`: an end is used by the one process that owns it. Sharing
    /// `&Output` between threads would let two writers use a one2one channel; shared
    /// kinds hand out `Clone` ends instead, one per holder.
    _one_holder: PhantomData<Cell<()>>,
}

impl<T> End<T> {
    pub(super) fn new(core: Arc<Core<T>>, info: Arc<dyn ChannelInfo>) -> Self {
        End {
            core,
            info,
            id: next_end_id(),
            retired: AtomicBool::new(false),
            spare: SparePacket::new(),
            _one_holder: PhantomData,
        }
    }

    pub(super) fn check_open(&self) -> Result<(), ChannelError> {
        if self.retired.load(Ordering::Relaxed) {
            return Err(ChannelError::Retired {
                channel: self.core.name(),
                side: RetiredSide::ThisEnd,
            });
        }
        Ok(())
    }

    pub(super) fn retire(&self, side: Side) {
        if !self.retired.swap(true, Ordering::AcqRel) {
            self.retire_now(side);
        }
    }

    fn retire_now(&self, side: Side) {
        match self.core.flavor() {
            Flavor::Memory(core) => core.retire(side, self.id),
            Flavor::Crossing(x) => x.retire(side, self.id),
        }
    }

    pub(super) fn poison(&self) {
        match self.core.flavor() {
            Flavor::Memory(core) => core.poison(),
            Flavor::Crossing(x) => x.poison(),
        }
    }

    pub(super) fn is_poisoned(&self) -> bool {
        match self.core.flavor() {
            Flavor::Memory(core) => core.is_poisoned(),
            Flavor::Crossing(x) => x.is_poisoned(),
        }
    }

    pub(super) fn len(&self) -> usize {
        match self.core.flavor() {
            Flavor::Memory(core) => core.len(),
            Flavor::Crossing(x) => x.len(),
        }
    }

    pub(super) fn claim(&self, side: Side) -> Result<(), ChannelError> {
        self.check_open()?;
        match self.core.flavor() {
            Flavor::Memory(core) => core.claim(side, self.id),
            Flavor::Crossing(x) => x.claim(side, self.id),
        }
    }

    pub(super) fn release_claim(&self, side: Side) {
        match self.core.flavor() {
            Flavor::Memory(core) => core.release_claim(side, self.id),
            Flavor::Crossing(x) => x.release_claim(side, self.id),
        }
    }

    /// Dropping an end retires it, except when its process panics, fails or has seen
    /// poison: then its channel is poisoned, so that the network ends rather than taking
    /// a truncated stream for a complete one, and an abort stays an abort downstream (see
    /// `park::process`).
    pub(super) fn drop_end(&self, side: Side) {
        if !self.retired.swap(true, Ordering::AcqRel) {
            if crate::park::process::drop_poisons() {
                self.poison();
            } else {
                self.retire_now(side);
            }
        }
    }

    pub(super) fn duplicate(&self, side: Side) -> End<T> {
        let end = End::new(self.core.clone(), self.info.clone());
        if self.retired.load(Ordering::Relaxed) {
            end.retired.store(true, Ordering::Relaxed);
        } else {
            match self.core.flavor() {
                Flavor::Memory(core) => core.open_end(side),
                Flavor::Crossing(x) => x.open_end(side),
            }
        }
        end
    }
}
