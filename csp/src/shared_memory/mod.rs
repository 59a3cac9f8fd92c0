//! Big buffers handed over channels without copying them: Python's
//! `multiprocessing.shared_memory` and `Array`, in CSP form.
//!
//! In Python, processes share a big array by naming a `SharedMemory` block, mapping it
//! in each process and guarding it with a `Semaphore` or `Lock`; who may touch the
//! bytes when is a convention the code must keep:
//!
//! ```python
//! shm = shared_memory.SharedMemory(create=True, size=1 << 20)
//! sem = Semaphore(0)
//! Process(target=fill, args=(shm.name, sem)).start()   # fills, then sem.release()
//! sem.acquire(); use(shm.buf); shm.close(); shm.unlink()
//! ```
//!
//! Here the *ownership* of a buffer is what travels on a channel. A [`SharedPool`]
//! holds fixed-size blocks in memory shared with the OS processes forked after it was
//! made; [`SharedPool::alloc`] gives a [`SharedBuf`], which owns one block and derefs
//! to `[u8]`. Write it to a channel and the reader owns it: between threads the value
//! just moves, and between forked processes only a small handle (pool, block,
//! generation, length) crosses, so a megabyte costs what a handle costs. Exactly one
//! value owns a block at a time, so no lock guards the bytes, and dropping the owner
//! gives the block back. The semaphore's other use, bounding how many buffers are in
//! use, is the pool itself: [`SharedPool::alloc_timeout`] waits for a free block.
//!
//! ```
//! use csp::shared_memory::{SharedBuf, SharedPool};
//! use csp::{Channel, Parallel, Process};
//!
//! let pool = SharedPool::new(4, 1 << 20)?; // before the fork: the children share it
//! let (tx, rx) = Channel::<SharedBuf>::new().named("frames").one2one();
//! let filler = {
//!     let pool = pool.clone();
//!     Process::with_ends("fill", tx, move |tx| {
//!         let mut buf = pool.alloc()?;
//!         buf.fill(7); // a megabyte written in the child...
//!         tx.write(buf)?; // ...handed over as a 20-byte handle
//!         Ok(())
//!     })
//!     .forked()
//! };
//! let user = Process::with_ends("use", rx, |rx| {
//!     let buf = rx.read()?; // the same memory, now owned here
//!     Ok(buf.iter().map(|&b| u64::from(b)).sum::<u64>())
//! });
//! let results = Parallel::new().add(filler.map(|()| 0)).add(user).run()?;
//! assert_eq!(results[1], Some(7 << 20));
//! assert_eq!(pool.free_blocks(), 4); // the reader dropped it: back in the pool
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **Handles.** A `SharedBuf` serializes as its handle and deserializes by claiming the
//! block the handle names. A handle that reaches a process which does not share its
//! pool (made after the fork, or in another child), names a block out of range, or was
//! already claimed (a duplicated or replayed frame) fails to decode: the read gets
//! [`ChannelError::Codec`](crate::ChannelError::Codec) with `operation: "decode"`, and,
//! as for any frame that does not decode, the channel is poisoned. Never undefined
//! behaviour: the bytes are only reachable through the one owner.
//!
//! **Ownership on the wire.** Serializing does not give the block away (a write may
//! fail and hand the value back); dropping a buffer that was serialized does: its
//! handle owns the block from then on, and the reader claims it. A channel drops a
//! written value as soon as the write returned, so the reader's claim waits at most
//! microseconds for that. Serialize a buffer by hand only to send it. (So an extended
//! rendezvous, [`Input::read_with`](crate::Input::read_with), between OS processes
//! cannot take a `SharedBuf`: it decodes while its writer still holds the value, and
//! the claim times out. Use `read`.)
//!
//! **Processes that die.** A process killed while it owns blocks does not hang the
//! others: an `alloc` that finds no free block frees those whose owner process has
//! died ([`SharedPool::reclaim_dead`]), and `alloc_timeout` looks again every 100 ms
//! while it waits. Blocks whose handle was in flight when the channel carrying it was
//! poisoned (or whose failed write's value was then dropped) stay taken until the pool
//! ends, when the last process holding it unmaps it.
//!
//! Linux only, like forked processes.

mod buf;
mod pool;

#[cfg(all(test, not(loom)))]
mod tests;

use std::sync::Arc;
use std::time::{Duration, Instant};

use thiserror::Error;

pub use buf::SharedBuf;
/// Plain old data: the types [`SharedBuf::as_slice_of`] can view a buffer as
/// (`bytemuck`'s trait; derive it with `bytemuck`'s `derive` feature).
///
/// ```
/// use csp::shared_memory::{Pod, SharedPool};
/// // Any `Pod` type views the block's bytes in place: integers, floats, arrays of them.
/// fn fill<T: Pod>(pool: &SharedPool, value: T) -> Result<usize, Box<dyn std::error::Error>> {
///     let mut block = pool.alloc()?;
///     let items = block.as_mut_slice_of::<T>()?;
///     items.fill(value);
///     Ok(items.len())
/// }
/// let pool = SharedPool::new(1, 4096)?;
/// assert_eq!(fill(&pool, 1.5_f64)?, 4096 / 8);
/// assert_eq!(fill(&pool, [0_u16; 4])?, 4096 / 8); // the first block went back to the pool
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub use bytemuck::Pod;
use pool::Pool;

/// Why a pool could not be made or could not hand out a block.
///
/// ```
/// use csp::shared_memory::{PoolError, SharedPool};
/// assert!(matches!(SharedPool::new(0, 8), Err(PoolError::Invalid(_))));
/// let pool = SharedPool::new(1, 8)?;
/// let _held = pool.alloc()?;
/// let e = pool.alloc().unwrap_err();
/// assert!(e.to_string().contains("all 1 blocks are in use"));
/// # Ok::<(), PoolError>(())
/// ```
#[derive(Debug, Error)]
pub enum PoolError {
    /// The shape asked for cannot be laid out.
    #[error("invalid shared pool: {0}")]
    Invalid(String),
    /// The OS refused the shared mapping.
    #[error("shared pool: the OS refused the mapping: {0}")]
    Os(std::io::Error),
    /// Every block is owned (by `alloc`, at once; by `alloc_timeout`, for the whole
    /// timeout).
    #[error("shared pool #{pool:x}: all {blocks} blocks are in use")]
    Exhausted {
        /// The pool's id.
        pool: u64,
        /// Its number of blocks.
        blocks: usize,
    },
    /// A typed view that does not fit the bytes in use (see
    /// [`SharedBuf::as_slice_of`]).
    #[error("shared pool #{pool:x}: {message}")]
    Layout {
        /// The pool's id.
        pool: u64,
        /// Which view of how many bytes, and why not.
        message: String,
    },
    /// A length beyond the block size.
    #[error("shared pool #{pool:x}: {len} bytes do not fit a block of {capacity}")]
    TooLarge {
        /// The pool's id.
        pool: u64,
        /// The length asked for.
        len: usize,
        /// The block size.
        capacity: usize,
    },
}

/// Fixed-size blocks in memory shared with the OS processes forked after it was made
/// (Python's `SharedMemory`, cut into blocks). Cloning gives another handle to the same
/// pool. See the [module docs](self).
///
/// ```
/// use csp::shared_memory::{PoolError, SharedPool};
///
/// let pool = SharedPool::new(2, 4096)?;
/// let a = pool.alloc()?;
/// let b = pool.alloc()?;
/// assert!(matches!(pool.alloc(), Err(PoolError::Exhausted { blocks: 2, .. })));
/// drop(a);
/// let c = pool.alloc()?; // a's block, back in the pool
/// assert_eq!(pool.free_blocks(), 0);
/// # drop((b, c));
/// # Ok::<(), PoolError>(())
/// ```
#[derive(Clone)]
pub struct SharedPool {
    pool: Arc<Pool>,
}

impl SharedPool {
    /// A pool of `blocks` blocks of `block_size` bytes each. The memory is reserved,
    /// not committed: a block costs memory once written.
    ///
    /// ```
    /// let pool = csp::shared_memory::SharedPool::new(8, 1 << 20)?;
    /// assert_eq!((pool.blocks(), pool.block_size()), (8, 1 << 20));
    /// assert!(csp::shared_memory::SharedPool::new(0, 8).is_err());
    /// # Ok::<(), csp::shared_memory::PoolError>(())
    /// ```
    pub fn new(blocks: usize, block_size: usize) -> Result<SharedPool, PoolError> {
        Ok(SharedPool {
            pool: Pool::create(blocks, block_size)?,
        })
    }

    /// A free block, at once, or [`PoolError::Exhausted`]. Blocks of processes that
    /// died are reclaimed first. The buffer spans the whole block (`len == capacity`).
    ///
    /// ```
    /// let pool = csp::shared_memory::SharedPool::new(1, 16)?;
    /// let buf = pool.alloc()?;
    /// assert!(pool.alloc().is_err());
    /// drop(buf);
    /// assert!(pool.alloc().is_ok());
    /// # Ok::<(), csp::shared_memory::PoolError>(())
    /// ```
    pub fn alloc(&self) -> Result<SharedBuf, PoolError> {
        self.alloc_until(None)
    }

    /// A free block, waiting up to `timeout` for one to be dropped anywhere (in this
    /// or another OS process sharing the pool): a counting semaphore's `acquire`, whose
    /// `release` is dropping the buffer.
    ///
    /// ```
    /// use std::time::Duration;
    /// let pool = csp::shared_memory::SharedPool::new(1, 16)?;
    /// let buf = pool.alloc()?;
    /// let waiter = {
    ///     let pool = pool.clone();
    ///     std::thread::spawn(move || pool.alloc_timeout(Duration::from_secs(10)).map(|b| b.len()))
    /// };
    /// std::thread::sleep(Duration::from_millis(20));
    /// drop(buf); // wakes the waiter
    /// assert_eq!(waiter.join().unwrap()?, 16);
    /// assert!(pool.alloc_timeout(Duration::from_millis(1)).is_ok());
    /// # Ok::<(), csp::shared_memory::PoolError>(())
    /// ```
    pub fn alloc_timeout(&self, timeout: Duration) -> Result<SharedBuf, PoolError> {
        self.alloc_until(Some(
            Instant::now()
                .checked_add(timeout)
                .ok_or(PoolError::Invalid("timeout too large".to_string()))?,
        ))
    }

    fn alloc_until(&self, deadline: Option<Instant>) -> Result<SharedBuf, PoolError> {
        match self.pool.alloc(pool::me(), deadline) {
            Some((block, generation)) => Ok(SharedBuf::new(self.pool.clone(), block, generation)),
            None => Err(PoolError::Exhausted {
                pool: self.pool.id,
                blocks: self.blocks(),
            }),
        }
    }

    /// A buffer holding a copy of `bytes` (at once, like [`alloc`](Self::alloc)).
    ///
    /// ```
    /// let pool = csp::shared_memory::SharedPool::new(1, 16)?;
    /// assert_eq!(&pool.alloc_from(b"abc")?[..], b"abc");
    /// assert!(pool.alloc_from(&[0; 17]).is_err());
    /// # Ok::<(), csp::shared_memory::PoolError>(())
    /// ```
    pub fn alloc_from(&self, bytes: &[u8]) -> Result<SharedBuf, PoolError> {
        if bytes.len() > self.block_size() {
            return Err(PoolError::TooLarge {
                pool: self.pool.id,
                len: bytes.len(),
                capacity: self.block_size(),
            });
        }
        let mut buf = self.alloc()?;
        buf.set_len(bytes.len())?;
        buf.copy_from_slice(bytes);
        Ok(buf)
    }

    /// How many blocks the pool has.
    ///
    /// ```
    /// assert_eq!(csp::shared_memory::SharedPool::new(3, 8)?.blocks(), 3);
    /// # Ok::<(), csp::shared_memory::PoolError>(())
    /// ```
    pub fn blocks(&self) -> usize {
        self.pool.blocks as usize
    }

    /// The size of each block.
    ///
    /// ```
    /// assert_eq!(csp::shared_memory::SharedPool::new(3, 8)?.block_size(), 8);
    /// # Ok::<(), csp::shared_memory::PoolError>(())
    /// ```
    pub fn block_size(&self) -> usize {
        self.pool.block_size
    }

    /// How many blocks are free now (a moment's count: other processes may be taking
    /// and dropping blocks meanwhile).
    ///
    /// ```
    /// let pool = csp::shared_memory::SharedPool::new(3, 8)?;
    /// let _held = pool.alloc()?;
    /// assert_eq!(pool.free_blocks(), 2);
    /// # Ok::<(), csp::shared_memory::PoolError>(())
    /// ```
    pub fn free_blocks(&self) -> usize {
        self.pool.free_blocks()
    }

    /// Frees the blocks whose owner process has died (a killed child); how many.
    /// `alloc` does this by itself when it finds no free block.
    ///
    /// ```
    /// let pool = csp::shared_memory::SharedPool::new(1, 8)?;
    /// let _mine = pool.alloc()?;
    /// assert_eq!(pool.reclaim_dead(), 0); // this process is alive
    /// # Ok::<(), csp::shared_memory::PoolError>(())
    /// ```
    pub fn reclaim_dead(&self) -> usize {
        self.pool.reclaim_dead()
    }

    /// The pool's id, as handles and errors name it.
    ///
    /// ```
    /// let (a, b) = (csp::shared_memory::SharedPool::new(1, 8)?, csp::shared_memory::SharedPool::new(1, 8)?);
    /// assert_ne!(a.id(), b.id());
    /// # Ok::<(), csp::shared_memory::PoolError>(())
    /// ```
    pub fn id(&self) -> u64 {
        self.pool.id
    }
}

impl std::fmt::Debug for SharedPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedPool")
            .field("id", &format_args!("#{:x}", self.pool.id))
            .field("blocks", &self.pool.blocks)
            .field("block_size", &self.pool.block_size)
            .finish()
    }
}
