//! Claims, retire and poison: what changes a channel's state other than moving frames.
//!
//! Operations that wait for a claim sleep on the side's `gen` word. Changes made under
//! the lock (a claim granted or released, a waiter committed, poison) are ordered with
//! a sleeper's check by the lock itself. The one change made without it, an entry
//! freed by its owner, pairs a `SeqCst` fence with the sleeper's (`claim_changed` and
//! `wait_claim`): either the freer sees the sleeper counted and bumps `gen`, or the
//! sleeper's check sees the entry gone.

use std::sync::atomic::{fence, Ordering};

use super::channel::{me, Locked, SharedChannel};
use super::futex;
use super::layout::{ClaimState, POISONED, RETIRED};
use super::{SharedError, Wait};
use crate::channel::Side;

impl SharedChannel {
    fn claims(&self, side: Side) -> &ClaimState {
        &self.r.header().claims[side as usize]
    }

    /// Whether `end` may operate on `side` now (under the lock): it holds the claim, or
    /// nobody holds or waits for one.
    pub(super) fn admits(&self, side: Side, end: u64) -> bool {
        let c = self.claims(side);
        if c.holding.load(Ordering::Relaxed) != 0 {
            let (pid, end) = me(end);
            c.holder_pid.load(Ordering::Relaxed) == pid
                && c.holder_end.load(Ordering::Relaxed) == end
        } else {
            c.pending.load(Ordering::Relaxed) == 0
        }
    }

    /// Something a claim waiter of side `side` (0 or 1) waits for changed: wake them.
    pub(super) fn claim_changed(&self, side: usize) {
        let c = &self.r.header().claims[side];
        fence(Ordering::SeqCst);
        if c.sleepers.load(Ordering::Relaxed) > 0 {
            c.gen.fetch_add(1, Ordering::SeqCst);
            futex::wake_all(&c.gen);
        }
    }

    /// Sleeps (after releasing `g`) until `side`'s claims change, unless `ready` (checked
    /// after this waiter is counted, still under the lock) says there is no need. The
    /// caller then starts its operation over.
    pub(super) fn wait_claim(
        &self,
        g: Locked<'_>,
        side: Side,
        wait: Wait,
        ready: impl Fn(&Self) -> bool,
    ) -> Result<(), SharedError> {
        let c = self.claims(side);
        let deadline = match wait {
            Wait::Try => {
                return Err(match side {
                    Side::Read => SharedError::Empty,
                    Side::Write => SharedError::Full,
                })
            }
            Wait::Forever => None,
            Wait::Until(d) => Some(d),
        };
        c.sleepers.fetch_add(1, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        let gen = c.gen.load(Ordering::SeqCst);
        if !ready(self) {
            drop(g);
            match deadline {
                None => futex::wait(&c.gen, gen, None),
                Some(d) => futex::wait_until(&c.gen, gen, d),
            };
        }
        c.sleepers.fetch_sub(1, Ordering::Relaxed);
        match deadline {
            Some(d) if std::time::Instant::now() >= d => Err(SharedError::Timeout),
            _ => Ok(()),
        }
    }

    /// Takes exclusive use of `side` for `end` (of this process), once no operation of
    /// another end on that side is pending; meanwhile other ends' new operations wait.
    pub fn claim(&self, side: Side, end: u64) -> Result<(), SharedError> {
        let c = self.claims(side);
        let (pid, id) = me(end);
        let mut counted = false;
        loop {
            let g = self.lock()?;
            let free = |ch: &Self| {
                ch.claims(side).holding.load(Ordering::Relaxed) == 0 && !ch.has_live(side)
            };
            let poisoned = self.poisoned();
            if poisoned || free(self) {
                if counted {
                    // Under the lock, so that an operation's admission check and this
                    // change are ordered.
                    c.pending.fetch_sub(1, Ordering::Relaxed);
                    self.claim_changed(side as usize);
                }
                if poisoned {
                    return Err(SharedError::Poisoned);
                }
                c.holding.store(1, Ordering::Relaxed);
                c.holder_pid.store(pid, Ordering::Relaxed);
                c.holder_end.store(id, Ordering::Relaxed);
                return Ok(());
            }
            if !counted {
                counted = true;
                c.pending.fetch_add(1, Ordering::Relaxed);
            }
            self.wait_claim(g, side, Wait::Forever, free)?;
        }
    }

    /// Ends `end`'s claim on `side` (nothing if it holds none).
    pub fn release_claim(&self, side: Side, end: u64) {
        if let Ok(_g) = self.lock() {
            self.unclaim(side, end);
        }
    }

    /// Under the lock.
    fn unclaim(&self, side: Side, end: u64) {
        let c = self.claims(side);
        let (pid, id) = me(end);
        if c.holding.load(Ordering::Relaxed) != 0
            && c.holder_pid.load(Ordering::Relaxed) == pid
            && c.holder_end.load(Ordering::Relaxed) == id
        {
            c.holding.store(0, Ordering::Relaxed);
            self.claim_changed(side as usize);
        }
    }

    /// A new end of `side` (a clone of a shared end).
    pub fn open_end(&self, side: Side) {
        if let Ok(_g) = self.lock() {
            self.r.header().open[side as usize].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// How many ends of `side` are open.
    pub fn open_ends(&self, side: Side) -> usize {
        self.r.header().open[side as usize].load(Ordering::Relaxed) as usize
    }

    /// An end of `side` retires (ending its claim, if it holds one). When the last
    /// writer retires, blocked readers get `Retired` (the buffer is empty, or they would
    /// not be blocked) and later reads drain the buffer first; when the last reader
    /// retires, blocked writers get `Retired` and their frames were taken by nobody.
    pub fn retire(&self, side: Side, end: u64) {
        let Ok(_g) = self.lock() else {
            return;
        };
        let open = &self.r.header().open[side as usize];
        let left = open.load(Ordering::Relaxed).saturating_sub(1);
        open.store(left, Ordering::Relaxed);
        self.unclaim(side, end);
        if left == 0 && !self.poisoned() {
            match side {
                Side::Write if self.buffered() == 0 => self.complete_all(Side::Read, RETIRED),
                Side::Write => {}
                Side::Read => self.complete_all(Side::Write, RETIRED),
            }
        }
    }

    /// Every pending and later operation fails with `Poisoned`; buffered frames are
    /// dropped.
    pub fn poison(&self) {
        // A lock whose owner died poisons inside `lock`.
        if let Ok(_g) = self.lock() {
            self.poison_locked();
        }
    }

    /// Poison, under the lock.
    pub(super) fn poison_locked(&self) {
        let h = self.r.header();
        if h.poisoned.swap(1, Ordering::AcqRel) != 0 {
            return;
        }
        self.drain();
        for side in [Side::Read, Side::Write] {
            self.complete_all(side, POISONED);
            self.cut_all(side);
            let c = self.claims(side);
            c.gen.fetch_add(1, Ordering::SeqCst);
            futex::wake_all(&c.gen);
        }
    }

    /// Whether the channel is poisoned (without the lock).
    pub fn is_poisoned(&self) -> bool {
        self.poisoned()
    }

    /// Buffered frames.
    pub fn len(&self) -> usize {
        self.lock().map_or(0, |_g| self.buffered())
    }

    /// Whether nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Test hook: takes the channel lock and never releases it, so that a test can kill
    /// the process holding it.
    #[doc(hidden)]
    pub fn hold_lock_forever(&self) -> Result<(), SharedError> {
        std::mem::forget(self.lock()?);
        Ok(())
    }
}
