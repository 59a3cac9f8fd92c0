//! Where everything lives in a channel's mapping, and the raw accesses to it.
//!
//! ```text
//! Header | entries: readers[max_waiters], writers[max_waiters] | heap order[cap] |
//! arrival seq[cap] | waiter frame slots[2 * max_waiters] | buffer frame slots[cap]
//! ```
//!
//! Everything but the frame slots is atomics (or the mutex), so `&Header` and `&Entry`
//! are sound however many processes share them. Words that the lock protects are read
//! and written `Relaxed` under it (the mutex orders them); words touched without it say
//! why where they are used. Frame slots are plain bytes whose exclusive use the protocol
//! hands over (see `channel`); reading one is always checked (`frame::read`).

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam_utils::CachePadded;

use super::lock::RawLock;
use super::mapping::Mapping;
use super::{Config, Mode, SharedError};
use crate::channel::frame::{self, FrameError};
use crate::channel::Side;

/// A waiter's state word: also the futex word it sleeps on. `IDLE` while the entry is
/// free; the owner sets `WAITING` under the lock when it queues; then exactly one CAS
/// from `WAITING` decides it: `SELECTED` (a partner committed and is moving the frame;
/// it stores `DONE` or `ABANDONED` when finished), `ABORTED` (the owner's deadline),
/// `POISONED`, `RETIRED`; a partner finishes by one CAS from `SELECTED`.
pub(crate) const IDLE: u32 = 0;
pub(crate) const WAITING: u32 = 1;
pub(crate) const SELECTED: u32 = 2;
pub(crate) const DONE: u32 = 3;
/// An extended rendezvous whose reader's block did not complete: the write fails.
pub(crate) const ABANDONED: u32 = 4;
pub(crate) const ABORTED: u32 = 5;
pub(crate) const POISONED: u32 = 6;
pub(crate) const RETIRED: u32 = 7;
/// A `SELECTED` waiter that poison let go before its partner finished (the partner may
/// have died mid-commit): the owner fails with `Poisoned` and never frees the entry
/// (a live partner may still touch its slot; a poisoned channel allocates no more), and
/// the partner's `SELECTED -> DONE` CAS fails, so it fails with `Poisoned` too.
pub(crate) const CUT: u32 = 8;

/// One side's claim (occam-pi's CLAIM), under the lock except `gen`'s futex use.
#[repr(C)]
pub(crate) struct ClaimState {
    pub(crate) holding: AtomicU32,
    pub(crate) holder_pid: AtomicU32,
    pub(crate) holder_end: AtomicU64,
    /// Claims waiting to be granted: operations of other ends wait behind them.
    pub(crate) pending: AtomicU32,
    /// Bumped whenever something a claim waiter waits for may have changed; the futex
    /// word of every operation that waits for a claim.
    pub(crate) gen: AtomicU32,
    /// How many sleep on `gen` (so that nobody calls futex wake for nobody).
    pub(crate) sleepers: AtomicU32,
}

#[repr(C)]
pub(crate) struct Header {
    pub(crate) lock: RawLock,
    /// Mirrors the poisoned state for lock-free `is_poisoned` (written under the lock).
    pub(crate) poisoned: AtomicU32,
    /// Ends of each side not yet retired, indexed by `Side`.
    pub(crate) open: [AtomicU64; 2],
    /// The buffer's read and write positions: `tail - head` frames are buffered, in
    /// slots `head % cap ..` for the FIFO policies (`Priority`: `head` stays 0 and the
    /// heap is `tail` long). Both only grow for the FIFO policies. A channel with a fast
    /// path (`Layout::fast`) also moves them without the lock, by one CAS each, while
    /// neither carries the `fast::SLOW` bit; each on its own cache line, its owner's.
    pub(crate) head: CachePadded<AtomicU64>,
    pub(crate) tail: CachePadded<AtomicU64>,
    /// Entries taken per side (indexed by `Side`): raised under the lock, lowered by
    /// an entry's owner when it frees it. Zero means that side has no waiter at all, so
    /// nobody scans its table and the fast path may run.
    pub(crate) used: [AtomicU32; 2],
    /// The fast path's sleepers (see `fast`), on a line of their own.
    pub(crate) sleep: CachePadded<Sleep>,
    /// Arrival counter: orders waiters (FIFO service) and equal priorities.
    pub(crate) seq: AtomicU64,
    pub(crate) claims: [ClaimState; 2],
}

/// A fast channel's reader waiting for a frame, or writer waiting for room, without
/// the lock: indexed by `Side`.
#[repr(C)]
pub(crate) struct Sleep {
    /// 1 while that side's one end sleeps on `event` (or is about to).
    pub(crate) parked: [AtomicU32; 2],
    /// Bumped to wake that side's sleeper: the futex word it sleeps on.
    pub(crate) event: [AtomicU32; 2],
}

/// One waiter: a blocked read or write, or a writer waiting for an extended
/// rendezvous's release. Own cache line: its owner spins on `state`.
#[repr(C, align(64))]
pub(crate) struct Entry {
    /// 1 while some waiter owns the entry (set under the lock; cleared by the owner).
    pub(crate) used: AtomicU32,
    pub(crate) state: AtomicU32,
    /// A reader that runs an extended-rendezvous block before releasing the writer.
    pub(crate) extended: AtomicU32,
    /// For an extended reader: 1 + the writer entry its `Held` must release (0: none).
    pub(crate) release_to: AtomicU32,
    /// Arrival order among the side's waiters.
    pub(crate) seq: AtomicU64,
}

fn align(x: usize, a: usize) -> Option<usize> {
    x.checked_next_multiple_of(a)
}

/// The configuration as the mapping is laid out for it, and the offsets.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    pub(crate) cap: usize,
    pub(crate) mode: Mode,
    pub(crate) max_frame: usize,
    pub(crate) waiters: usize,
    /// One writer and one reader, and a FIFO buffer that waits when full: buffered
    /// frames move without the lock while nobody waits (see `fast`).
    pub(crate) fast: bool,
    slot: usize,
    entries: usize,
    heap: usize,
    seqs: usize,
    wslots: usize,
    bslots: usize,
    pub(crate) size: usize,
}

impl Layout {
    pub(crate) fn new(cfg: &Config) -> Result<Layout, SharedError> {
        let bad = |why: &str| SharedError::InvalidConfig(why.into());
        let cap = match cfg.mode {
            _ if cfg.capacity > u32::MAX as usize => return Err(bad("capacity above 2^32")),
            Mode::Fifo => cfg.capacity,
            Mode::Unbounded if cfg.capacity == 0 => {
                return Err(bad("unbounded needs a slot reservation (capacity > 0)"))
            }
            Mode::Unbounded => cfg.capacity,
            Mode::OverwriteOldest | Mode::DropNewest | Mode::Priority => cfg.capacity.max(1),
        };
        if cfg.max_waiters == 0 || cfg.max_waiters > 1 << 16 {
            return Err(bad("max_waiters must be 1..=65536"));
        }
        if cfg.max_frame > u32::MAX as usize - frame::HEADER {
            return Err(bad("max_frame above 4 GiB"));
        }
        let overflow = || bad("the mapping would not fit the address space");
        let slot = frame::slot_size(cfg.max_frame).ok_or_else(overflow)?;
        let n_entries = 2 * cfg.max_waiters;
        let entries = align(std::mem::size_of::<Header>(), 64).ok_or_else(overflow)?;
        let heap = entries + n_entries * std::mem::size_of::<Entry>();
        let seqs = align(heap + 4 * cap, 8).ok_or_else(overflow)?;
        let wslots =
            (|| align(seqs.checked_add(cap.checked_mul(8)?)?, 4096))().ok_or_else(overflow)?;
        let bslots =
            (|| wslots.checked_add(n_entries.checked_mul(slot)?))().ok_or_else(overflow)?;
        let size = (|| bslots.checked_add(cap.checked_mul(slot)?))().ok_or_else(overflow)?;
        Ok(Layout {
            cap,
            mode: cfg.mode,
            max_frame: cfg.max_frame,
            waiters: cfg.max_waiters,
            fast: cfg.one_to_one && cap > 0 && matches!(cfg.mode, Mode::Fifo | Mode::Unbounded),
            slot,
            entries,
            heap,
            seqs,
            wslots,
            bslots,
            size,
        })
    }
}

/// A mapping laid out for one channel: what every handle holds.
#[derive(Clone)]
pub(crate) struct Region {
    map: Arc<Mapping>,
    pub(crate) at: Layout,
}

/// A frame slot: a waiter's (by entry index) or the buffer's (by slot index).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Slot {
    Waiter(usize),
    Buffer(usize),
}

impl Region {
    /// Maps and initialises a channel's memory (before anyone else can see it).
    pub(crate) fn new(at: Layout) -> Result<Region, SharedError> {
        let map = Arc::new(Mapping::new(at.size).map_err(SharedError::Os)?);
        let region = Region { map, at };
        // SAFETY: the mapping is fresh and private to this call: nobody else uses the lock.
        unsafe { region.header().lock.init() }.map_err(SharedError::Os)?;
        for i in 0..at.cap {
            region.heap(i).store(i as u32, Ordering::Relaxed);
        }
        Ok(region)
    }

    fn at<T>(&self, offset: usize) -> &T {
        debug_assert!(offset + std::mem::size_of::<T>() <= self.map.len());
        debug_assert_eq!(offset % std::mem::align_of::<T>(), 0);
        // SAFETY: every offset comes from `Layout`, which places each item inside the
        // mapping at its alignment (the mapping is page-aligned); the items are atomics
        // or the mutex, valid when zeroed and shareable, and the mapping outlives `&self`.
        unsafe { &*(self.map.base().add(offset) as *const T) }
    }

    pub(crate) fn header(&self) -> &Header {
        self.at(0)
    }

    /// Entry `i` of `side` (0..waiters).
    pub(crate) fn entry(&self, side: Side, i: usize) -> &Entry {
        self.entry_at(side as usize * self.at.waiters + i)
    }

    /// An entry by its index over both sides.
    pub(crate) fn entry_at(&self, idx: usize) -> &Entry {
        self.at(self.at.entries + idx * std::mem::size_of::<Entry>())
    }

    /// The `i`th place of the priority heap: which buffer slot it holds.
    pub(crate) fn heap(&self, i: usize) -> &AtomicU32 {
        self.at(self.at.heap + 4 * i)
    }

    /// The arrival number of the value in buffer slot `i`.
    pub(crate) fn slot_seq(&self, i: usize) -> &AtomicU64 {
        self.at(self.at.seqs + 8 * i)
    }

    fn slot_ptr(&self, slot: Slot) -> *mut u8 {
        let offset = match slot {
            Slot::Waiter(idx) => self.at.wslots + idx * self.at.slot,
            Slot::Buffer(i) => self.at.bslots + i * self.at.slot,
        };
        debug_assert!(offset + self.at.slot <= self.map.len());
        // SAFETY: `Layout` places every slot inside the mapping.
        unsafe { self.map.base().add(offset) }
    }

    /// Writes `payload` as a frame into `slot`.
    ///
    /// The caller holds the slot: its own waiter slot before queueing, a selected
    /// waiter's slot, or a buffer slot under the lock.
    pub(crate) fn put(&self, slot: Slot, payload: &[u8]) -> Result<(), FrameError> {
        // SAFETY: the slot lies in the mapping (`slot_ptr`) and nobody else touches it
        // now (the caller's contract, which the protocol keeps).
        let bytes = unsafe { std::slice::from_raw_parts_mut(self.slot_ptr(slot), self.at.slot) };
        frame::write(bytes, payload)
    }

    /// The checked payload of the frame in `slot` (held as for `put`).
    pub(crate) fn payload(&self, slot: Slot) -> Result<&[u8], FrameError> {
        // SAFETY: as in `put`; only read, and checked before anything trusts it.
        let bytes = unsafe { std::slice::from_raw_parts(self.slot_ptr(slot), self.at.slot) };
        frame::read(bytes, self.at.max_frame)
    }

    /// Flips the bits of `mask` in byte `at` of `slot`: a stand-in for a corrupted
    /// mapping.
    #[cfg(test)]
    pub(crate) fn corrupt(&self, slot: Slot, at: usize, mask: u8) {
        assert!(at < self.at.slot);
        // SAFETY: within the slot (asserted), which the test holds.
        unsafe { *self.slot_ptr(slot).add(at) ^= mask };
    }

    /// The bytes of the frame in the held slot `from`, header included, by its length
    /// word. Untrusted: clamped to the slot, so a corrupted length cannot make a copy
    /// leave the slot; the frame's reader then reports the corruption.
    fn frame_bytes(&self, from: Slot) -> usize {
        let mut len = [0u8; 4];
        // SAFETY: the length word lies in the held slot `from` (a slot is at least
        // `HEADER` bytes).
        unsafe { std::ptr::copy_nonoverlapping(self.slot_ptr(from).add(4), len.as_mut_ptr(), 4) };
        usize::try_from(u32::from_le_bytes(len))
            .map_or(self.at.slot, |l| l.saturating_add(frame::HEADER))
            .min(self.at.slot)
    }

    /// Moves a frame between two held slots without checking it (its reader will).
    pub(crate) fn copy(&self, from: Slot, to: Slot) {
        let n = self.frame_bytes(from);
        // SAFETY: both slots lie in the mapping, are distinct (a waiter's and a
        // buffer's), held by the caller, and `n` fits both.
        unsafe { std::ptr::copy_nonoverlapping(self.slot_ptr(from), self.slot_ptr(to), n) }
    }

    /// Writes a frame into `slot` whose payload `encode` writes in place (into at most
    /// `max_frame` bytes) and measures: `false`, and no valid frame, if it could not.
    /// The slot is held as for `put`.
    pub(crate) fn put_with(
        &self,
        slot: Slot,
        encode: impl FnOnce(&mut [u8]) -> Option<usize>,
    ) -> bool {
        // SAFETY: as in `put`.
        let bytes = unsafe { std::slice::from_raw_parts_mut(self.slot_ptr(slot), self.at.slot) };
        frame::write_with(bytes, self.at.max_frame, encode)
    }

    /// A copy of the frame in `slot` (held, or at least not written by anyone while
    /// this copies), header included and unchecked: `frame::read` checks the copy.
    pub(crate) fn copy_out(&self, slot: Slot) -> Copied {
        let n = self.frame_bytes(slot);
        let src = self.slot_ptr(slot);
        if n <= INLINE {
            let mut small = [0u8; INLINE];
            // SAFETY: `n` bytes lie in the slot (`frame_bytes` clamps) and fit `small`.
            unsafe { std::ptr::copy_nonoverlapping(src, small.as_mut_ptr(), n) };
            Copied::Inline(small, n)
        } else {
            // SAFETY: as above, into a fresh vector of `n` bytes.
            Copied::Heap(unsafe { std::slice::from_raw_parts(src, n) }.to_vec())
        }
    }
}

/// Frames up to this many bytes (header included) are copied out onto the stack.
const INLINE: usize = 128;

/// A frame copied out of its slot (see `Region::copy_out`).
pub(crate) enum Copied {
    Inline([u8; INLINE], usize),
    Heap(Vec<u8>),
}

impl Copied {
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Copied::Inline(b, n) => &b[..*n],
            Copied::Heap(v) => v,
        }
    }
}
