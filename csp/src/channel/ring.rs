//! The lock-free fast path of a `Fifo(n)` channel: a bounded MPMC ring (crossbeam's
//! array flavour, after Vyukov) that holds the channel's buffered values.
//!
//! Every slot has a stamp saying whose turn it is: `stamp == tail` lets a writer fill it,
//! `stamp == head + 1` lets a reader empty it. A writer claims a slot by one CAS on
//! `tail`, a reader by one CAS on `head`; the stamp, stored with `Release` after the slot
//! is written or read and loaded with `Acquire` before, is what orders the two accesses
//! to the value.
//!
//! **When the fast path may run.** `head` and `tail` each carry a `SLOW` bit. A fast push
//! or pop refuses (and its caller takes the channel lock) while the bit is set, and
//! since the bit lives in the very word its CAS changes, "the bit was clear" and "the
//! slot was claimed" are one atomic step. The lock holder sets both bits right after
//! taking the lock (`freeze`), so from then on it alone moves `head` and `tail`: it
//! decides "empty, so park" or "full, so park" on a ring nobody else changes. It clears
//! them again (`thaw`) just before releasing the lock, and only if the channel needs no
//! lock at all: no parked or alting waiter, no claim held or queued, not poisoned, no
//! side retired. So a fast operation can only happen while a lock-path write or read
//! would have gone straight to the buffer too, and no wake-up can be lost: whoever would
//! park freezes the ring first and then looks at it.
//!
//! A fast operation that claimed its slot just before the freeze may still be writing or
//! reading the value; the lock holder sees `tail` (or `head`) already moved and waits
//! the few instructions until the stamp says the slot is done.
//!
//! **A refused fast operation waits a little before the lock** (`Snooze`: a few
//! spins, then yields, while the ring is not frozen and the deadline has not passed).
//! Streaming through `Fifo(1024)`, the reader keeps catching up with the writer (or the
//! writer with the reader). When a refusal went straight to the lock, that side froze
//! the ring, queued itself and parked, so the partner's next operations all took the
//! lock until the hand-over and the wake-up: perf showed `lock_contended`,
//! `wait_until` and `sched_yield` on top and the stream cost 2.5x crossbeam-channel
//! (3.3x beside busy threads). Waiting first, as crossbeam's `send`/`recv` do, keeps
//! both sides on the fast path; the lock path (and its exact "empty, park" decision)
//! is only for a partner that really stalled. A frozen ring goes to the lock at once:
//! what froze it (a parked partner, an alt, a claim, poison, a retired side) is the
//! lock path's business, and it stays frozen until that is over.
//!
//! **A fast operation never reads the other side's index.** A fast push whose slot
//! still holds last lap's value refuses as `Refused::Busy`, whether the ring is full
//! or the slot's reader is still moving the value out, and the snooze tells the two
//! apart by trying again; a fast pop likewise never reads `tail`. So `tail` stays in the
//! writer's cache and `head` in the reader's, and only slot lines travel between the
//! cores (crossbeam's ring loads the other index behind a `SeqCst` fence each time a
//! slot is not ready, pulling a line its owner writes on every operation). Only the
//! lock holder, which must answer exactly, reads both.

use std::mem::MaybeUninit;

use crossbeam_utils::CachePadded;

use super::core::{READ_MAY_GO, WRITE_MAY_GO};
use crate::park::Snooze;
use crate::sync::{self, AtomicUsize, Ordering, UnsafeCell};

/// The largest `Fifo(n)` that gets a ring: a ring allocates all its slots up front, so a
/// larger buffer stays a lazily growing queue behind the lock.
pub(crate) const MAX_RING: usize = 1 << 16;

struct Slot<T> {
    /// `index + lap` when the slot is free for the writer of that lap, `+ 1` once it
    /// holds that writer's value.
    stamp: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

pub(crate) struct Ring<T> {
    /// The next slot to read: index in the low bits, `SLOW` above them, lap above that.
    head: CachePadded<AtomicUsize>,
    /// The next slot to write, laid out as `head`.
    tail: CachePadded<AtomicUsize>,
    slots: Box<[Slot<T>]>,
    cap: usize,
    /// The `SLOW` bit: the smallest power of two above every index.
    slow: usize,
    /// What one lap adds to a position (twice `slow`, so the lap never touches `SLOW`).
    one_lap: usize,
    #[cfg(loom)]
    stats: [std::sync::atomic::AtomicUsize; STATS],
}

// SAFETY: values are moved in by one thread and out by another, so `T: Send` suffices;
// each slot's value is accessed by one thread at a time, handed over by its stamp
// (`Release` store after the access, `Acquire` load before the next one).
unsafe impl<T: Send> Send for Ring<T> {}
// SAFETY: as for `Send`: shared access never yields a `&T`, only moves values through
// slots whose ownership the stamps hand over.
unsafe impl<T: Send> Sync for Ring<T> {}

/// What a fast operation did, counted for the loom models (which check that every way
/// through was explored); the counts cost nothing outside loom.
pub(crate) const STAT_PUSHED: usize = 0;
pub(crate) const STAT_PUSH_REFUSED: usize = 1;
pub(crate) const STAT_POPPED: usize = 2;
pub(crate) const STAT_POP_REFUSED: usize = 3;
/// Stored or taken after one or more refusals within the same operation.
pub(crate) const STAT_PUSHED_ON_RETRY: usize = 4;
pub(crate) const STAT_POPPED_ON_RETRY: usize = 5;
/// How many `STAT_*` counts there are.
#[cfg(loom)]
pub(crate) const STATS: usize = 6;

impl<T> Ring<T> {
    /// A ring of `cap` slots; `cap` is at least 1 and at most [`MAX_RING`].
    pub(crate) fn new(cap: usize) -> Ring<T> {
        let cap = cap.clamp(1, MAX_RING);
        let slow = (cap + 1).next_power_of_two();
        let slots = (0..cap)
            .map(|i| Slot {
                stamp: AtomicUsize::new(i),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            })
            .collect();
        Ring {
            head: CachePadded::new(AtomicUsize::new(0)),
            tail: CachePadded::new(AtomicUsize::new(0)),
            slots,
            cap,
            slow,
            one_lap: slow * 2,
            #[cfg(loom)]
            stats: Default::default(),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.cap
    }

    /// The position after `pos` (index and lap, `SLOW` clear).
    fn next(&self, pos: usize) -> usize {
        let index = pos & (self.slow - 1);
        if index + 1 < self.cap {
            pos + 1
        } else {
            (pos & !(self.one_lap - 1)).wrapping_add(self.one_lap)
        }
    }

    fn slot(&self, pos: usize) -> &Slot<T> {
        &self.slots[pos & (self.slow - 1)]
    }

    /// Stores `value` unless the ring is full, or (`locked` false) the `SLOW` bit is set.
    /// `locked` is for the holder of the channel lock, which has frozen the ring and
    /// needs an exact answer. A fast push never reads `head`: a slot still holding last
    /// lap's value is `Busy` whether the ring is full or its reader is just moving the
    /// value out, and the caller's snooze tells the two apart by trying again. So
    /// `head` stays in the reader's cache and `tail` in the writer's: only the slots
    /// travel between the two cores (crossbeam's ring reads the other index, behind a
    /// `SeqCst` fence, each time it finds a slot not ready).
    fn push(&self, value: T, locked: bool) -> Result<(), (T, Refused)> {
        let mut raw = self.tail.load(Ordering::Relaxed);
        let mut patience = Patience::new(locked);
        loop {
            if raw & self.slow != 0 && !locked {
                return Err((value, Refused::Frozen));
            }
            let tail = raw & !self.slow;
            let slot = self.slot(tail);
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == tail {
                let new = self.next(tail) | (raw & self.slow);
                match self
                    .tail
                    .compare_exchange_weak(raw, new, Ordering::AcqRel, Ordering::Relaxed)
                {
                    Ok(_) => {
                        // SAFETY: the CAS gave this thread the slot for this lap, and the
                        // `Acquire` load of `stamp == tail` ordered the previous reader's
                        // move out before this write; no one touches the slot until the
                        // stamp below says it is full.
                        slot.value.with_mut(|p| unsafe { (*p).write(value) });
                        slot.stamp.store(tail + 1, Ordering::Release);
                        return Ok(());
                    }
                    Err(now) => raw = now,
                }
            } else if stamp.wrapping_add(self.one_lap) == tail + 1 {
                // The slot still holds last lap's value: full, unless its reader has
                // claimed it (head moved) and is still moving it out.
                if !locked {
                    return Err((value, Refused::Busy));
                }
                let head = self.head.load(Ordering::Relaxed) & !self.slow;
                if head.wrapping_add(self.one_lap) == tail {
                    return Err((value, Refused::Busy));
                }
                patience.wait();
                raw = self.tail.load(Ordering::Relaxed);
            } else {
                // Another writer claimed this slot and `tail` moved on: look again.
                if !patience.wait() {
                    return Err((value, Refused::Busy));
                }
                raw = self.tail.load(Ordering::Relaxed);
            }
        }
    }

    /// Takes the oldest value unless the ring is empty, or (`locked` false) the `SLOW`
    /// bit is set. As `push`, a fast pop never reads `tail`.
    fn pop(&self, locked: bool) -> Result<T, Refused> {
        let mut raw = self.head.load(Ordering::Relaxed);
        let mut patience = Patience::new(locked);
        loop {
            if raw & self.slow != 0 && !locked {
                return Err(Refused::Frozen);
            }
            let head = raw & !self.slow;
            let slot = self.slot(head);
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == head + 1 {
                let new = self.next(head) | (raw & self.slow);
                match self
                    .head
                    .compare_exchange_weak(raw, new, Ordering::AcqRel, Ordering::Relaxed)
                {
                    Ok(_) => {
                        // SAFETY: the CAS gave this thread the full slot for this lap; the
                        // `Acquire` load of `stamp == head + 1` ordered the writer's
                        // `write` before this read, which moves the value out exactly
                        // once: the stamp below hands the slot to next lap's writer.
                        let v = slot.value.with_mut(|p| unsafe { (*p).assume_init_read() });
                        slot.stamp
                            .store(head.wrapping_add(self.one_lap), Ordering::Release);
                        return Ok(v);
                    }
                    Err(now) => raw = now,
                }
            } else if stamp == head {
                // Not filled yet: empty, unless a writer has claimed it (tail moved) and
                // is still writing.
                if !locked {
                    return Err(Refused::Busy);
                }
                let tail = self.tail.load(Ordering::Relaxed) & !self.slow;
                if tail == head {
                    return Err(Refused::Busy);
                }
                patience.wait();
                raw = self.head.load(Ordering::Relaxed);
            } else {
                if !patience.wait() {
                    return Err(Refused::Busy);
                }
                raw = self.head.load(Ordering::Relaxed);
            }
        }
    }

    /// The fast write: `Err` gives the value back for the lock path (the ring stayed
    /// full, or the channel needs its lock). While `may_wait` says so (it is asked
    /// only after a refusal: a deadline costs a clock read), a ring that is not frozen
    /// is tried again after each step of a `Snooze`: the reader is usually a few
    /// instructions from making room, and the lock path would park this writer, freeze
    /// the ring and turn every later operation of both sides into a locked one until
    /// the wake-up. A frozen ring goes to the lock path at once: it
    /// stays frozen while the channel needs its lock (a parked partner, poison, a
    /// retired side, a claim), which only the lock path handles. A stored value sets
    /// `READ_MAY_GO`, after the store, so a reader that learns of the write learns of
    /// the value too; clearing stays the lock holder's business (a set bit may be
    /// stale).
    #[inline]
    pub(crate) fn fast_push(
        &self,
        mut value: T,
        hint: &AtomicUsize,
        may_wait: impl Fn() -> bool,
    ) -> Result<(), T> {
        let snooze = Snooze::new();
        let mut retried = false;
        loop {
            let why = match self.push(value, false) {
                Ok(()) => {
                    self.count(if retried {
                        STAT_PUSHED_ON_RETRY
                    } else {
                        STAT_PUSHED
                    });
                    if hint.load(Ordering::Relaxed) & READ_MAY_GO == 0 {
                        hint.fetch_or(READ_MAY_GO, Ordering::Release);
                    }
                    return Ok(());
                }
                Err((v, why)) => {
                    value = v;
                    why
                }
            };
            self.count(STAT_PUSH_REFUSED);
            if why == Refused::Frozen || !may_wait() || !snooze.snooze() {
                return Err(value);
            }
            retried = true;
        }
    }

    /// The fast read: `None` sends the caller to the lock path (the ring stayed empty,
    /// or the channel needs its lock). `may_wait`, the snooze and `WRITE_MAY_GO` as in
    /// `fast_push`.
    #[inline]
    pub(crate) fn fast_pop(&self, hint: &AtomicUsize, may_wait: impl Fn() -> bool) -> Option<T> {
        let snooze = Snooze::new();
        let mut retried = false;
        loop {
            let why = match self.pop(false) {
                Ok(v) => {
                    self.count(if retried {
                        STAT_POPPED_ON_RETRY
                    } else {
                        STAT_POPPED
                    });
                    if hint.load(Ordering::Relaxed) & WRITE_MAY_GO == 0 {
                        hint.fetch_or(WRITE_MAY_GO, Ordering::Release);
                    }
                    return Some(v);
                }
                Err(why) => why,
            };
            self.count(STAT_POP_REFUSED);
            if why == Refused::Frozen || !may_wait() || !snooze.snooze() {
                return None;
            }
            retried = true;
        }
    }

    /// Under the channel lock: stores `value` unless the ring is full.
    pub(crate) fn push_locked(&self, value: T) -> Result<(), T> {
        self.push(value, true).map_err(|(v, _)| v)
    }

    /// Under the channel lock: takes the oldest value.
    pub(crate) fn pop_locked(&self) -> Option<T> {
        self.pop(true).ok()
    }

    /// Under the channel lock: how many values are stored (the ring is frozen, so this
    /// is exact; a slot claimed just before the freeze counts).
    pub(crate) fn len_locked(&self) -> usize {
        let head = self.head.load(Ordering::Relaxed) & !self.slow;
        let tail = self.tail.load(Ordering::Relaxed) & !self.slow;
        let (hix, tix) = (head & (self.slow - 1), tail & (self.slow - 1));
        if hix < tix {
            tix - hix
        } else if hix > tix {
            self.cap - hix + tix
        } else if head == tail {
            0
        } else {
            self.cap
        }
    }

    /// Just after taking the channel lock: stops fast operations. The read-modify-writes
    /// read the latest `head` and `tail`, so the lock holder's later loads are exact;
    /// if the bits are set already, the previous holder's did that and the lock handed
    /// it over.
    pub(crate) fn freeze(&self) {
        if self.tail.load(Ordering::Relaxed) & self.slow == 0 {
            self.tail.fetch_or(self.slow, Ordering::AcqRel);
            self.head.fetch_or(self.slow, Ordering::AcqRel);
        }
    }

    /// Just before releasing the channel lock, when the channel needs no lock: lets fast
    /// operations run again.
    pub(crate) fn thaw(&self) {
        if self.tail.load(Ordering::Relaxed) & self.slow != 0 {
            self.head.fetch_and(!self.slow, Ordering::AcqRel);
            self.tail.fetch_and(!self.slow, Ordering::AcqRel);
        }
    }

    #[cfg(loom)]
    fn count(&self, stat: usize) {
        self.stats[stat].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    #[cfg(not(loom))]
    #[inline(always)]
    fn count(&self, _stat: usize) {}

    /// How often each fast operation succeeded or refused (`STAT_*`), for loom models.
    #[cfg(loom)]
    pub(crate) fn stats(&self) -> [usize; STATS] {
        self.stats
            .each_ref()
            .map(|s| s.load(std::sync::atomic::Ordering::Relaxed))
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        // `&mut self`: no operation is in flight, so `pop` never waits.
        while let Ok(v) = self.pop(true) {
            drop(v);
        }
    }
}

/// Why a push or pop did not go through.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Refused {
    /// The `SLOW` bit is set: the channel needs its lock.
    Frozen,
    /// Full (push) or empty (pop); for a fast operation, possibly only for a moment: a
    /// partner's operation on the slot is in flight, or another writer's (reader's).
    Busy,
}

/// How long an operation waits for a slot another thread has claimed but not finished.
/// The lock holder waits as long as it takes (that thread is a few instructions from
/// done); a fast operation spins a little and then takes the lock path instead.
struct Patience {
    left: u32,
    locked: bool,
}

impl Patience {
    fn new(locked: bool) -> Patience {
        // Under loom a spin without a yield is a livelock the checker reports.
        let left = if cfg!(loom) { 0 } else { 64 };
        Patience { left, locked }
    }

    fn wait(&mut self) -> bool {
        if self.locked {
            sync::spin_wait();
            return true;
        }
        if self.left == 0 {
            return false;
        }
        self.left -= 1;
        std::hint::spin_loop();
        true
    }
}
