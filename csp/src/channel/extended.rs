//! An extended rendezvous under way: the writer waits until the reader's block ends.

use super::core::Core;
use super::shm::Held;
use crate::park::Release;

/// Ends an extended rendezvous when the reader's block ends, even if it panics: the
/// writer is never left blocked, and never told `Ok` for a block that did not complete.
pub(super) enum ExtendedBlock<'a, T> {
    Memory {
        core: &'a Core<T>,
        release: Option<Release<T>>,
    },
    Crossing(Option<Held>),
}

/// An extended read under way: the writer is released when it drops, as completed
/// unless the block panicked or said it failed.
pub(super) struct Extended<'a, T> {
    pub(super) block: ExtendedBlock<'a, T>,
    pub(super) failed: bool,
}

impl<'a, T> Extended<'a, T> {
    pub(super) fn new(block: ExtendedBlock<'a, T>) -> Self {
        Extended {
            block,
            failed: false,
        }
    }
}

impl<T> Drop for Extended<'_, T> {
    fn drop(&mut self) {
        let completed = !std::thread::panicking() && !self.failed;
        match &mut self.block {
            ExtendedBlock::Memory { core, release } => {
                if let Some(r) = release.take() {
                    core.end_extended(r, completed);
                }
            }
            ExtendedBlock::Crossing(held) => {
                if let Some(h) = held.take() {
                    h.release(completed);
                }
            }
        }
    }
}
