//! The lock-free fast path of a one2one FIFO channel between processes: while nobody
//! waits, a write stores its frame in the next buffer slot and a read takes the oldest
//! one, each by one CAS on its own position, with no lock and no system call. The same
//! design as the in-memory ring (`channel::ring`), for one writer and one reader.
//!
//! **When it may run.** `head` and `tail` each carry a [`SLOW`] bit. Whoever takes the
//! channel lock sets both (`freeze`) before it looks at anything, so from then on only
//! lock holders move the positions: the lock path decides "empty, so wait" or "full, so
//! wait" on a buffer nobody else changes, exactly as without a fast path. Releasing the
//! lock clears them again (`thaw_if_idle`) only if the channel needs no lock at all: no
//! entry taken on either side (nobody waiting in the lock path, nobody finishing a
//! commit), no claim held or queued, not poisoned, no side retired. So a partner
//! blocked in the lock path keeps the buffer frozen, and the next operation takes the
//! lock path and wakes it there.
//!
//! **Sleeping without the lock.** A fast read that finds the buffer empty (a write
//! that finds it full) snoozes (`park::Snooze`), then sleeps on its side's `event`
//! futex word after announcing itself in `parked`, and tries again when woken. The
//! partner looks at `parked` after each publish and wakes only a sleeper that is there:
//! a stream whose reader keeps up makes no system call at all. Both steps are `SeqCst`
//! (announce, then look at the position; publish, then look at `parked`), so either the
//! partner sees the sleeper or the sleeper sees the change. Every release of the lock
//! wakes both sides' sleepers too: whatever changed there (a frame pushed by the lock
//! path, poison, a retired side) they look again, and find the buffer frozen if the
//! change is the lock path's business.
//!
//! **Publishing by CAS.** A fast write encodes its frame straight into slot
//! `tail % cap` and then moves `tail` by a CAS from the value it read; a fast read
//! copies the frame in slot `head % cap` out and moves `head` by a CAS. The CAS fails
//! if a lock holder froze the position meanwhile, and then nothing happened: the frame
//! written was never published (the slot is past `tail`), the frame copied was not
//! taken (it is still before `tail`, and the copy is dropped unread). A process killed
//! anywhere in a fast operation therefore leaves the buffer consistent: there is no
//! claimed-but-unfinished slot for anyone to wait for, which the lock path could not
//! tell from a slow partner. Which slot is whose: the writer writes only past `tail`
//! into a slot the reader has left (`tail - head < cap`, `head` loaded with `Acquire`
//! after the reader's `Release` CAS), the reader reads only before `tail`, and while
//! they are frozen only the one writer (or, for it while it is blocked, the reader's
//! refill) pushes and only the one reader pops, so no two parties ever touch one slot.
//!
//! **Ordering.** The frame's bytes are written before the `Release` CAS on `tail` and
//! read after an `Acquire` load of it; copied out before the `Release` CAS on `head`,
//! and overwritten only after an `Acquire` load of it. A lock holder freezes with
//! read-modify-writes and stores positions with `Release`, so a fast reader that saw a
//! position a lock holder stored also sees the freeze, and its CAS fails.
//!
//! Each side keeps the other's position as last seen (process memory, a hint that is
//! never ahead), and loads the real one only when the hint says "full" or "empty": in a
//! steady stream only the slots travel between the cores.

use std::sync::atomic::{fence, AtomicU64, Ordering};
use std::time::Instant;

use super::channel::SharedChannel;
use super::futex;
use super::layout::Slot;
use super::Wait;
use crate::channel::frame::{self, FrameError};
use crate::channel::Side;
use crate::park::Snooze;

/// The bit of `head` and `tail` that says "frozen: only the lock holder moves me".
pub(super) const SLOW: u64 = 1 << 63;

/// Stores a position under the lock, keeping its `SLOW` bit (`Release`: see the module
/// docs).
pub(super) fn move_to(word: &AtomicU64, position: u64) {
    let slow = word.load(Ordering::Relaxed) & SLOW;
    word.store(position | slow, Ordering::Release);
}

/// The other side's position as this process last saw it: `[head, tail]`.
#[derive(Default)]
pub(super) struct Seen([AtomicU64; 2]);

impl Clone for Seen {
    fn clone(&self) -> Self {
        let [head, tail] = &self.0;
        Seen([
            AtomicU64::new(head.load(Ordering::Relaxed)),
            AtomicU64::new(tail.load(Ordering::Relaxed)),
        ])
    }
}

/// Whether a refused fast operation may wait for its partner before the lock path.
fn may_snooze(wait: Wait) -> bool {
    match wait {
        Wait::Try => false,
        Wait::Forever => true,
        Wait::Until(d) => Instant::now() < d,
    }
}

impl SharedChannel {
    /// Freezes the positions (the lock holder, right after taking the lock).
    pub(super) fn freeze(&self) {
        let h = self.r.header();
        h.head.fetch_or(SLOW, Ordering::AcqRel);
        h.tail.fetch_or(SLOW, Ordering::AcqRel);
    }

    /// Thaws the positions if the channel needs no lock (the lock holder, just before
    /// releasing it; see the module docs).
    pub(super) fn thaw_if_idle(&self) {
        let h = self.r.header();
        let idle = !self.poisoned()
            && h.open.iter().all(|o| o.load(Ordering::Relaxed) > 0)
            && h.used.iter().all(|u| u.load(Ordering::Acquire) == 0)
            && h.claims.iter().all(|c| {
                c.holding.load(Ordering::Relaxed) == 0 && c.pending.load(Ordering::Relaxed) == 0
            });
        if idle {
            h.head.fetch_and(!SLOW, Ordering::AcqRel);
            h.tail.fetch_and(!SLOW, Ordering::AcqRel);
        }
    }

    /// Writes a frame that `encode` makes straight into the next buffer slot, without
    /// the lock: `true` once it is buffered. `false` means "take the lock path": not a
    /// fast channel, frozen, still full when `wait` ran out, or `encode` gave up (too
    /// large, or an encoding error the lock path will report).
    pub fn fast_write(&self, wait: Wait, encode: impl FnOnce(&mut [u8]) -> Option<usize>) -> bool {
        if !self.r.at.fast {
            return false;
        }
        let h = self.r.header();
        let cap = self.r.at.cap as u64;
        let seen = &self.seen.0[0];
        // Room for the frame at `tail`, by the hint first, then by `head` itself.
        let room = |tail: u64| {
            if tail.wrapping_sub(seen.load(Ordering::Relaxed)) < cap {
                return true;
            }
            let head = h.head.load(Ordering::SeqCst) & !SLOW;
            seen.store(head, Ordering::Relaxed);
            tail.wrapping_sub(head) < cap
        };
        let mut snooze = Snooze::new();
        loop {
            let raw = h.tail.load(Ordering::Relaxed);
            if raw & SLOW != 0 {
                return false;
            }
            if !room(raw) {
                if !may_snooze(wait) {
                    return false;
                }
                if !snooze.snooze() {
                    let changed = || {
                        let raw = h.tail.load(Ordering::SeqCst);
                        raw & SLOW != 0 || room(raw)
                    };
                    if !self.sleep(Side::Write, wait, changed) {
                        return false;
                    }
                    snooze = Snooze::new();
                }
                continue;
            }
            let slot = Slot::Buffer((raw % cap) as usize);
            let published = self.r.put_with(slot, encode)
                && h.tail
                    .compare_exchange(raw, raw + 1, Ordering::SeqCst, Ordering::Relaxed)
                    .is_ok();
            if published {
                self.wake(Side::Read);
            }
            return published;
        }
    }

    /// Takes the oldest buffered frame without the lock and gives its checked payload
    /// to `take`: `None` means "take the lock path" (not a fast channel, frozen, or
    /// still empty when `wait` ran out). The frame is taken before it is checked, as
    /// the lock path's pop does: a corrupted one is gone with its error.
    pub fn fast_read<R>(
        &self,
        wait: Wait,
        take: impl FnOnce(&[u8]) -> R,
    ) -> Option<Result<R, FrameError>> {
        if !self.r.at.fast {
            return None;
        }
        let h = self.r.header();
        let cap = self.r.at.cap as u64;
        let seen = &self.seen.0[1];
        // Whether a frame is at `head`, by the hint first, then by `tail` itself.
        let filled = |head: u64| {
            let ahead = seen.load(Ordering::Relaxed).wrapping_sub(head);
            if ahead != 0 && ahead <= cap {
                return true;
            }
            let tail = h.tail.load(Ordering::SeqCst) & !SLOW;
            seen.store(tail, Ordering::Relaxed);
            tail != head
        };
        let mut snooze = Snooze::new();
        loop {
            let raw = h.head.load(Ordering::Relaxed);
            if raw & SLOW != 0 {
                return None;
            }
            if !filled(raw) {
                if !may_snooze(wait) {
                    return None;
                }
                if !snooze.snooze() {
                    let changed = || {
                        let raw = h.head.load(Ordering::SeqCst);
                        raw & SLOW != 0 || filled(raw)
                    };
                    if !self.sleep(Side::Read, wait, changed) {
                        return None;
                    }
                    snooze = Snooze::new();
                }
                continue;
            }
            let copy = self.r.copy_out(Slot::Buffer((raw % cap) as usize));
            h.head
                .compare_exchange(raw, raw + 1, Ordering::SeqCst, Ordering::Relaxed)
                .ok()?;
            self.wake(Side::Write);
            return Some(frame::read(copy.bytes(), self.r.at.max_frame).map(take));
        }
    }

    /// Sleeps as `side`'s fast sleeper until woken, unless `changed` (checked once the
    /// sleeper is announced) says there is no need: `false` if `wait`'s deadline passed.
    /// The announcement and the check pair with `wake`'s publish-then-look (all
    /// `SeqCst`): either the partner sees the sleeper, or the sleeper sees the change.
    fn sleep(&self, side: Side, wait: Wait, changed: impl Fn() -> bool) -> bool {
        let sleep = &self.r.header().sleep;
        let (parked, event) = (&sleep.parked[side as usize], &sleep.event[side as usize]);
        parked.store(1, Ordering::SeqCst);
        let seen = event.load(Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if !changed() {
            match wait {
                Wait::Until(d) => futex::wait_until(event, seen, d),
                _ => futex::wait(event, seen, None),
            };
        }
        parked.store(0, Ordering::Relaxed);
        may_snooze(wait)
    }

    /// Wakes `side`'s fast sleeper, if it sleeps (after a change it may wait for, made
    /// with `SeqCst`, or followed by a `SeqCst` fence).
    pub(super) fn wake(&self, side: Side) {
        let sleep = &self.r.header().sleep;
        let parked = &sleep.parked[side as usize];
        if parked.load(Ordering::SeqCst) != 0 && parked.swap(0, Ordering::SeqCst) != 0 {
            let event = &sleep.event[side as usize];
            event.fetch_add(1, Ordering::SeqCst);
            futex::wake_all(event);
        }
    }
}
