//! The waiter table: taking and freeing entries, committing to the oldest live waiter,
//! and a waiter's own wait on its state word.

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::channel::SharedChannel;
use super::futex::{self, Waited};
use super::layout::{Entry, ABANDONED, ABORTED, CUT, DONE, IDLE, SELECTED, WAITING};
use super::{SharedError, Wait};
use crate::channel::Side;

/// Busy-spin rounds (crossbeam's `Backoff`) before a waiter sleeps on its futex: the
/// partner is often about to arrive on another core.
const SPIN_ROUNDS: u32 = 10;

/// How a waiter's wait ended (the entry's final state).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// A partner committed and finished.
    Done,
    /// The extended reader's block did not complete.
    Abandoned,
    /// Our deadline passed first: nobody touched the frame.
    Aborted,
    Poisoned,
    Retired,
    /// Poisoned while a partner was committing: the entry must not be freed.
    Cut,
}

impl SharedChannel {
    fn side_of(&self, idx: usize) -> usize {
        idx / self.r.at.waiters
    }

    /// Takes a free entry of `side` in `state` (under the lock); the index is over both
    /// sides. A `WAITING` entry joins the queue with the next arrival number.
    pub(super) fn alloc(
        &self,
        side: Side,
        state: u32,
        extended: bool,
    ) -> Result<usize, SharedError> {
        let n = self.r.at.waiters;
        let i = (0..n)
            .find(|&i| self.r.entry(side, i).used.load(Ordering::Acquire) == 0)
            .ok_or(SharedError::TooManyWaiters { limit: n })?;
        let e = self.r.entry(side, i);
        e.used.store(1, Ordering::Relaxed);
        self.r.header().used[side as usize].fetch_add(1, Ordering::Relaxed);
        e.extended.store(u32::from(extended), Ordering::Relaxed);
        e.release_to.store(0, Ordering::Relaxed);
        let seq = self.r.header().seq.fetch_add(1, Ordering::Relaxed);
        e.seq.store(seq, Ordering::Relaxed);
        e.state.store(state, Ordering::Release);
        Ok(side as usize * n + i)
    }

    /// Gives an entry back (its owner, once no partner can touch it any more).
    pub(super) fn free(&self, idx: usize) {
        let e = self.r.entry_at(idx);
        e.state.store(IDLE, Ordering::Relaxed);
        // Release: the next owner (under the lock, Acquire) sees the slot's last use done.
        e.used.store(0, Ordering::Release);
        self.r.header().used[self.side_of(idx)].fetch_sub(1, Ordering::Release);
        // A claim may have waited for this side's queue to drain.
        self.claim_changed(self.side_of(idx));
    }

    fn live(e: &Entry) -> bool {
        e.used.load(Ordering::Acquire) == 1 && e.state.load(Ordering::Acquire) == WAITING
    }

    /// The oldest waiter of `side` still waiting (under the lock).
    pub(super) fn oldest(&self, side: Side) -> Option<usize> {
        if self.r.header().used[side as usize].load(Ordering::Acquire) == 0 {
            return None;
        }
        (0..self.r.at.waiters)
            .filter(|&i| Self::live(self.r.entry(side, i)))
            .min_by_key(|&i| self.r.entry(side, i).seq.load(Ordering::Relaxed))
            .map(|i| side as usize * self.r.at.waiters + i)
    }

    pub(super) fn has_live(&self, side: Side) -> bool {
        if self.r.header().used[side as usize].load(Ordering::Acquire) == 0 {
            return false;
        }
        (0..self.r.at.waiters).any(|i| Self::live(self.r.entry(side, i)))
    }

    /// Commits to waiter `idx` (under the lock): `false` if its deadline won the race.
    pub(super) fn commit(&self, idx: usize) -> bool {
        let won = self
            .r
            .entry_at(idx)
            .state
            .compare_exchange(WAITING, SELECTED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if won {
            self.claim_changed(self.side_of(idx));
        }
        won
    }

    /// Commits to the oldest live waiter of `side` (under the lock).
    pub(super) fn select(&self, side: Side) -> Option<usize> {
        loop {
            let idx = self.oldest(side)?;
            if self.commit(idx) {
                return Some(idx);
            }
        }
    }

    /// Decides every live waiter of `side` as `state` and wakes it (under the lock).
    pub(super) fn complete_all(&self, side: Side, state: u32) {
        for i in 0..self.r.at.waiters {
            let e = self.r.entry(side, i);
            if e.used.load(Ordering::Acquire) == 1
                && e.state
                    .compare_exchange(WAITING, state, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
            {
                futex::wake_all(&e.state);
            }
        }
    }

    /// Lets every selected waiter of `side` go (poison, under the lock): see `CUT`.
    pub(super) fn cut_all(&self, side: Side) {
        for i in 0..self.r.at.waiters {
            let e = self.r.entry(side, i);
            if e.state
                .compare_exchange(SELECTED, CUT, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                futex::wake_all(&e.state);
            }
        }
    }

    /// The partner's last step: `DONE` or `ABANDONED` from `SELECTED`, then a wake.
    /// `false` if poison cut the waiter loose first.
    pub(super) fn finish(&self, idx: usize, state: u32) -> bool {
        let e = self.r.entry_at(idx);
        let ok = e
            .state
            .compare_exchange(SELECTED, state, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if ok {
            futex::wake_all(&e.state);
        }
        ok
    }

    /// Waits (without the lock) until entry `idx` is decided and, if selected, finished.
    /// On its deadline the owner tries `WAITING -> ABORTED`; a lost CAS means a partner
    /// committed first, and then the wait goes on without a deadline until it finishes:
    /// the timeout never loses a frame.
    pub(super) fn wait_entry(&self, idx: usize, wait: Wait) -> Outcome {
        let word = &self.r.entry_at(idx).state;
        let backoff = crossbeam_utils::Backoff::new();
        let mut spins = 0;
        loop {
            let s = word.load(Ordering::Acquire);
            match s {
                DONE => return Outcome::Done,
                ABANDONED => return Outcome::Abandoned,
                ABORTED => return Outcome::Aborted,
                super::layout::POISONED => return Outcome::Poisoned,
                super::layout::RETIRED => return Outcome::Retired,
                CUT => return Outcome::Cut,
                _ => {}
            }
            if spins < SPIN_ROUNDS {
                spins += 1;
                backoff.spin();
                continue;
            }
            let deadline = match wait {
                Wait::Until(d) if s == WAITING => Some(d),
                _ => None,
            };
            let waited = match deadline {
                Some(d) => futex::wait_until(word, s, d),
                None => futex::wait(word, s, None),
            };
            if deadline.is_some_and(|d| waited == Waited::TimedOut || Instant::now() >= d) {
                let _ =
                    word.compare_exchange(WAITING, ABORTED, Ordering::AcqRel, Ordering::Acquire);
            }
        }
    }
}
