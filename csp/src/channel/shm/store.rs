//! The buffer inside the mapping, always used under the channel lock: a ring of frame
//! slots for the FIFO policies, a binary heap of slot numbers for `Priority`.
//!
//! The FIFO policies keep a ring of `cap` slots between the positions `head` and
//! `tail`, which only grow (slot = position % cap). A one2one FIFO channel's fast path
//! moves them without the lock too (see `fast`); under the lock they are frozen.
//!
//! The heap keeps a permutation of the slot numbers in `heap[0..cap]`: the first `len`
//! places are the heap, the rest are the free slots, so a push takes `heap[len]` and a
//! pop leaves the popped slot just past the shrunk heap.

use std::cmp::Ordering as Cmp;
use std::sync::atomic::Ordering;

use super::channel::SharedChannel;
use super::fast::{move_to, SLOW};
use super::layout::Slot;
use super::Mode;
use crate::channel::frame::FrameError;

/// Where a pushed frame comes from.
#[derive(Clone, Copy)]
pub(super) enum Source<'a> {
    Bytes(&'a [u8]),
    /// A waiting writer's slot (by entry index).
    Waiter(usize),
}

/// What a push did.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Pushed {
    Stored,
    /// Accepted and dropped, as `DropNewest` declares.
    Dropped,
    Full,
}

impl SharedChannel {
    /// The buffer's read and write positions (under the lock), without `SLOW`.
    fn positions(&self) -> (u64, u64) {
        let h = self.r.header();
        (
            h.head.load(Ordering::Relaxed) & !SLOW,
            h.tail.load(Ordering::Relaxed) & !SLOW,
        )
    }

    /// Buffered frames (under the lock).
    pub(super) fn buffered(&self) -> usize {
        let (head, tail) = self.positions();
        tail.wrapping_sub(head) as usize
    }

    /// Whether a push would store without dropping anything.
    pub(super) fn has_room(&self) -> bool {
        self.buffered() < self.r.at.cap
    }

    fn store(&self, slot: usize, src: Source<'_>) -> Result<(), FrameError> {
        match src {
            Source::Bytes(b) => self.r.put(Slot::Buffer(slot), b),
            Source::Waiter(idx) => {
                self.r.copy(Slot::Waiter(idx), Slot::Buffer(slot));
                Ok(())
            }
        }
    }

    /// Stores a frame by the buffer's policy (under the lock).
    pub(super) fn push(&self, src: Source<'_>) -> Result<Pushed, FrameError> {
        let h = self.r.header();
        let cap = self.r.at.cap as u64;
        let (head, tail) = self.positions();
        let len = tail.wrapping_sub(head);
        if len >= cap {
            match self.r.at.mode {
                Mode::Fifo | Mode::Unbounded | Mode::Priority => return Ok(Pushed::Full),
                Mode::DropNewest => return Ok(Pushed::Dropped),
                Mode::OverwriteOldest => {
                    move_to(&h.head, head.wrapping_add(1));
                    return self.push(src);
                }
            }
        }
        if self.r.at.mode == Mode::Priority {
            let slot = self.r.heap(len as usize).load(Ordering::Relaxed) as usize;
            self.store(slot, src)?;
            let seq = h.seq.fetch_add(1, Ordering::Relaxed);
            self.r.slot_seq(slot).store(seq, Ordering::Relaxed);
            move_to(&h.tail, tail.wrapping_add(1));
            self.guarded(|| self.sift_up(len as usize));
        } else {
            self.store((tail % cap) as usize, src)?;
            move_to(&h.tail, tail.wrapping_add(1));
        }
        Ok(Pushed::Stored)
    }

    /// Takes the next frame (under the lock), checked.
    pub(super) fn pop(&self) -> Option<Result<Vec<u8>, FrameError>> {
        let h = self.r.header();
        let (head, tail) = self.positions();
        let len = tail.wrapping_sub(head);
        if len == 0 {
            return None;
        }
        let slot = if self.r.at.mode == Mode::Priority {
            let last = len as usize - 1;
            self.swap(0, last);
            move_to(&h.tail, tail.wrapping_sub(1));
            self.guarded(|| self.sift_down(0, last));
            self.r.heap(last).load(Ordering::Relaxed) as usize
        } else {
            move_to(&h.head, head.wrapping_add(1));
            (head % self.r.at.cap as u64) as usize
        };
        // Nobody writes the slot before our next lock: the positions are frozen for a
        // fast channel, and a writer under the lock writes past `tail` only.
        Some(self.r.payload(Slot::Buffer(slot)).map(<[u8]>::to_vec))
    }

    /// Empties the buffer (poison; under the lock). The heap's places stay a
    /// permutation, so every slot is free again.
    pub(super) fn drain(&self) {
        let (_, tail) = self.positions();
        move_to(&self.r.header().head, tail);
    }

    /// Runs a heap operation, which calls the user's order. If that panics, the heap
    /// may be out of order: the channel is poisoned (still under the lock) and the panic
    /// goes on to the caller, whose process fails, as with the in-memory priority buffer.
    fn guarded(&self, op: impl FnOnce()) {
        if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(op)) {
            self.poison_locked();
            std::panic::resume_unwind(panic);
        }
    }

    fn swap(&self, i: usize, j: usize) {
        let (a, b) = (self.r.heap(i), self.r.heap(j));
        let t = a.load(Ordering::Relaxed);
        a.store(b.load(Ordering::Relaxed), Ordering::Relaxed);
        b.store(t, Ordering::Relaxed);
    }

    /// Whether the value at heap place `i` goes before the one at `j`: greater, or
    /// equal and older. A corrupted frame compares as empty; reading it reports it.
    fn before(&self, i: usize, j: usize) -> bool {
        let (a, b) = (
            self.r.heap(i).load(Ordering::Relaxed) as usize,
            self.r.heap(j).load(Ordering::Relaxed) as usize,
        );
        let payload = |s| self.r.payload(Slot::Buffer(s)).unwrap_or(&[]);
        let by_value = self
            .order
            .as_ref()
            .map_or(Cmp::Equal, |cmp| cmp(payload(a), payload(b)));
        let seq = |s| self.r.slot_seq(s).load(Ordering::Relaxed);
        by_value.then_with(|| seq(b).cmp(&seq(a))) == Cmp::Greater
    }

    fn sift_up(&self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if !self.before(i, parent) {
                return;
            }
            self.swap(i, parent);
            i = parent;
        }
    }

    fn sift_down(&self, mut i: usize, len: usize) {
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut top = i;
            if l < len && self.before(l, top) {
                top = l;
            }
            if r < len && self.before(r, top) {
                top = r;
            }
            if top == i {
                return;
            }
            self.swap(i, top);
            i = top;
        }
    }
}
