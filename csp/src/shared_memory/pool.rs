//! The pool's memory and its ownership words.
//!
//! ```text
//! Header (one page) | state words: blocks × AtomicU64 | data: blocks × stride bytes
//! ```
//!
//! Every block has one state word, `generation << 32 | owner`, where `owner` is `FREE`,
//! `IN_FLIGHT` (its last owner dropped a buffer it had serialized: the handle travelling
//! in a frame owns the block) or the pid of the owning process. Every change is one CAS
//! on that word, so no lock is needed and a process that dies mid-change leaves a
//! consistent word. The generation moves on whenever ownership is taken from a handle
//! (a claim) or the block is freed, so a duplicated or stale handle never matches again.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use crate::channel::shm::futex;
use crate::channel::shm::mapping::Mapping;

use super::PoolError;

/// `owner` of a block nobody owns.
pub(super) const FREE: u32 = 0;
/// `owner` of a block whose serialized handle owns it (see the module docs).
pub(super) const IN_FLIGHT: u32 = u32::MAX;

/// Data blocks start on a cache line: typed views of up to 64-byte alignment are sound.
const BLOCK_ALIGN: usize = 64;
/// The header's share of the mapping: one page keeps the state words page-aligned.
const HEADER_BYTES: usize = 4096;
/// How long a waiting `alloc` sleeps before it looks for blocks of dead owners again.
const RECLAIM_EVERY: Duration = Duration::from_millis(100);

pub(super) fn pack(generation: u32, owner: u32) -> u64 {
    (u64::from(generation) << 32) | u64::from(owner)
}

pub(super) fn unpack(state: u64) -> (u32, u32) {
    ((state >> 32) as u32, state as u32)
}

/// The first page of the mapping. Only atomics: every process reads it through `&`.
#[repr(C)]
struct Header {
    /// Bumped by every free: the futex word of allocators waiting for a block.
    frees: AtomicU32,
    /// How many allocators sleep on `frees` (so that a free wakes nobody for nobody).
    sleepers: AtomicU32,
    /// Where the next allocation starts looking (spreads allocations over the blocks).
    hint: AtomicU64,
}

/// One pool as a process sees it: the shared mapping and its shape. Forked children
/// get a copy of this (the mapping stays at the same address, shared).
pub(super) struct Pool {
    pub(super) id: u64,
    pub(super) blocks: u32,
    pub(super) block_size: usize,
    stride: usize,
    data_offset: usize,
    map: Mapping,
}

/// The pools this process knows, by id: a handle is decoded only against these. A
/// forked child inherits the table (a copy of this process's memory), which is what
/// makes a pool created before the fork known there, and one created after it not.
static POOLS: Mutex<Vec<(u64, Weak<Pool>)>> = Mutex::new(Vec::new());

fn next_id() -> u64 {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    // Unique among the pools of one program: a pid is not reused while its process
    // lives, and the counter orders the pools one process creates.
    (u64::from(std::process::id()) << 32) | u64::from(COUNTER.fetch_add(1, Ordering::Relaxed))
}

impl Pool {
    pub(super) fn create(blocks: usize, block_size: usize) -> Result<Arc<Pool>, PoolError> {
        let invalid = |why: &str| PoolError::Invalid(why.to_string());
        if blocks == 0 || block_size == 0 {
            return Err(invalid(
                "a pool needs at least one block of at least one byte",
            ));
        }
        let blocks = u32::try_from(blocks)
            .ok()
            .filter(|&b| b < u32::MAX)
            .ok_or_else(|| invalid("too many blocks"))?;
        let stride = block_size
            .checked_next_multiple_of(BLOCK_ALIGN)
            .ok_or_else(|| invalid("block size too large"))?;
        let states = (blocks as usize) * std::mem::size_of::<AtomicU64>();
        let data_offset = (HEADER_BYTES + states).next_multiple_of(BLOCK_ALIGN);
        let len = (blocks as usize)
            .checked_mul(stride)
            .and_then(|d| d.checked_add(data_offset))
            .ok_or_else(|| invalid("pool too large"))?;
        let map = Mapping::new(len).map_err(PoolError::Os)?;
        // The kernel zero-fills the mapping: every state word is `pack(0, FREE)` and the
        // header's counters are 0, which is the initial state.
        let pool = Arc::new(Pool {
            id: next_id(),
            blocks,
            block_size,
            stride,
            data_offset,
            map,
        });
        let mut known = POOLS.lock().unwrap_or_else(PoisonError::into_inner);
        known.retain(|(_, p)| p.strong_count() > 0);
        known.push((pool.id, Arc::downgrade(&pool)));
        Ok(pool)
    }

    /// The pool with this id, if this process shares it.
    pub(super) fn find(id: u64) -> Option<Arc<Pool>> {
        let known = POOLS.lock().unwrap_or_else(PoisonError::into_inner);
        known
            .iter()
            .find(|(i, _)| *i == id)
            .and_then(|(_, p)| p.upgrade())
    }

    fn header(&self) -> &Header {
        // SAFETY: the mapping is page-aligned and at least `HEADER_BYTES` long, `Header`
        // is all atomics (valid when zeroed, and shared access is what they are for),
        // and the reference lives no longer than `self`, which keeps the mapping.
        unsafe { &*(self.map.base() as *const Header) }
    }

    pub(super) fn state(&self, block: u32) -> &AtomicU64 {
        assert!(block < self.blocks, "block index checked by every caller");
        // SAFETY: `block < blocks`, so the word lies inside the state array, which starts
        // at the page-aligned `HEADER_BYTES` (8-aligned); it is an atomic, zero-valid and
        // meant for shared access, and it lives as long as `self`.
        unsafe { &*(self.map.base().add(HEADER_BYTES) as *const AtomicU64).add(block as usize) }
    }

    /// The first byte of `block`'s data.
    pub(super) fn data(&self, block: u32) -> *mut u8 {
        assert!(block < self.blocks, "block index checked by every caller");
        // SAFETY: `data_offset + block * stride + block_size <= len` by construction.
        unsafe {
            self.map
                .base()
                .add(self.data_offset + block as usize * self.stride)
        }
    }

    /// Takes a free block for `owner`: its index and generation.
    pub(super) fn try_alloc(&self, owner: u32) -> Option<(u32, u32)> {
        let start = self.header().hint.load(Ordering::Relaxed);
        for i in 0..u64::from(self.blocks) {
            let block = ((start + i) % u64::from(self.blocks)) as u32;
            let word = self.state(block);
            let s = word.load(Ordering::Acquire);
            let (generation, current) = unpack(s);
            if current == FREE
                && word
                    .compare_exchange(
                        s,
                        pack(generation, owner),
                        Ordering::AcqRel,
                        Ordering::Relaxed,
                    )
                    .is_ok()
            {
                self.header()
                    .hint
                    .store(u64::from(block) + 1, Ordering::Relaxed);
                return Some((block, generation));
            }
        }
        None
    }

    /// Takes a block, waiting for one until `deadline` (`None`: not at all). Blocks of
    /// processes that died are reclaimed while it waits, so a killed owner never makes
    /// it wait forever.
    pub(super) fn alloc(&self, owner: u32, deadline: Option<Instant>) -> Option<(u32, u32)> {
        let header = self.header();
        loop {
            if let Some(got) = self.try_alloc(owner) {
                return Some(got);
            }
            if self.reclaim_dead() > 0 {
                continue;
            }
            let left = deadline?.checked_duration_since(Instant::now())?;
            header.sleepers.fetch_add(1, Ordering::SeqCst);
            let seen = header.frees.load(Ordering::SeqCst);
            // A block freed between the scan above and `seen` changed nothing we slept
            // on: look once more before sleeping.
            let got = self.try_alloc(owner);
            if got.is_none() {
                futex::wait(&header.frees, seen, Some(left.min(RECLAIM_EVERY)));
            }
            header.sleepers.fetch_sub(1, Ordering::SeqCst);
            if got.is_some() {
                return got;
            }
        }
    }

    /// Frees `block` if `generation` still owns it (not in flight); whether it did.
    pub(super) fn free(&self, block: u32, generation: u32) -> bool {
        // A freed block's next owner is a new generation: a stale handle cannot free it.
        let freed = self.take_from_owner(block, generation, |g| pack(g.wrapping_add(1), FREE));
        if freed {
            self.wake_allocators();
        }
        freed
    }

    /// Moves `block` from its owning process to `next(generation)` if `generation`
    /// still owns it (neither free nor in flight); whether it did.
    fn take_from_owner(&self, block: u32, generation: u32, next: impl Fn(u32) -> u64) -> bool {
        let word = self.state(block);
        let mut s = word.load(Ordering::Acquire);
        loop {
            let (g, owner) = unpack(s);
            if g != generation || owner == FREE || owner == IN_FLIGHT {
                return false;
            }
            match word.compare_exchange(s, next(g), Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return true,
                Err(now) => s = now,
            }
        }
    }

    fn wake_allocators(&self) {
        let header = self.header();
        header.frees.fetch_add(1, Ordering::SeqCst);
        if header.sleepers.load(Ordering::SeqCst) > 0 {
            futex::wake_all(&header.frees);
        }
    }

    /// Gives `block` up to the handle in flight (the owner dropped a buffer it had
    /// serialized); whether `generation` still owned it.
    pub(super) fn release_to_flight(&self, block: u32, generation: u32) -> bool {
        self.take_from_owner(block, generation, |g| pack(g, IN_FLIGHT))
    }

    /// Frees the blocks whose owner process has died; how many.
    pub(super) fn reclaim_dead(&self) -> usize {
        let mut freed = 0;
        for block in 0..self.blocks {
            let word = self.state(block);
            let s = word.load(Ordering::Acquire);
            let (g, owner) = unpack(s);
            if owner != FREE
                && owner != IN_FLIGHT
                && !alive(owner)
                && word
                    .compare_exchange(
                        s,
                        pack(g.wrapping_add(1), FREE),
                        Ordering::AcqRel,
                        Ordering::Relaxed,
                    )
                    .is_ok()
            {
                freed += 1;
            }
        }
        if freed > 0 {
            self.wake_allocators();
        }
        freed
    }

    /// How many blocks are free now.
    pub(super) fn free_blocks(&self) -> usize {
        (0..self.blocks)
            .filter(|&b| unpack(self.state(b).load(Ordering::Acquire)).1 == FREE)
            .count()
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let mut known = POOLS.lock().unwrap_or_else(PoisonError::into_inner);
        known.retain(|(i, p)| *i != self.id && p.strong_count() > 0);
    }
}

/// Whether process `pid` exists (a zombie not reaped yet still does).
pub(super) fn alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) => true,
        Err(e) => e != nix::errno::Errno::ESRCH,
    }
}

/// This process's pid, as an owner.
pub(super) fn me() -> u32 {
    std::process::id()
}
