//! [`SharedBuf`]: one block of a pool, owned by one buffer at a time, and its handle
//! form on the wire.

use std::cell::Cell;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::pool::{self, Pool, FREE, IN_FLIGHT};
use super::{PoolError, SharedPool};

/// How long a decoded handle waits for its sender to drop the buffer it serialized.
/// A channel drops a written value as soon as the write returns, so this is normally
/// microseconds; only a handle serialized by hand from a buffer still in use waits it
/// out, and then fails.
const CLAIM_WAIT: Duration = if cfg!(test) {
    Duration::from_millis(200)
} else {
    Duration::from_secs(10)
};

/// A block of a [`SharedPool`], owned by this value: bytes in memory shared with the
/// OS processes forked after the pool was made. It derefs to `[u8]` (`len` bytes of a
/// block of `capacity`).
///
/// Written to a channel, it is handed over without copying its contents: between
/// threads it simply moves; across OS processes it travels as a handle (pool, block,
/// generation, length) and the reader's process gets the same memory. Exactly one
/// value owns a block at a time; dropping the owner gives the block back to the pool
/// (see the [module docs](super) for handles, errors and killed owners).
///
/// ```
/// use csp::shared_memory::SharedPool;
/// use csp::Channel;
///
/// let pool = SharedPool::new(2, 1024)?;
/// let mut buf = pool.alloc()?;
/// buf.set_len(5)?;
/// buf.copy_from_slice(b"hello");
/// let (tx, rx) = Channel::new().one2one();
/// std::thread::spawn(move || tx.write(buf));
/// let got = rx.read()?;
/// assert_eq!(&got[..], b"hello");
/// assert_eq!(got.capacity(), 1024);
/// assert_eq!(pool.free_blocks(), 1);
/// drop(got);
/// assert_eq!(pool.free_blocks(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SharedBuf {
    pool: Arc<Pool>,
    block: u32,
    generation: u32,
    len: usize,
    /// Serialized at least once: its handle may be travelling, so dropping this value
    /// gives the block to that handle instead of freeing it. `Cell`: serializing takes
    /// `&self` (it also makes `SharedBuf` `!Sync`, so that flag is never raced).
    serialized: Cell<bool>,
}

/// The wire form of a [`SharedBuf`].
#[derive(Serialize, Deserialize)]
pub(super) struct Handle {
    pub(super) pool: u64,
    pub(super) block: u32,
    pub(super) generation: u32,
    pub(super) len: u64,
}

impl SharedBuf {
    pub(super) fn new(pool: Arc<Pool>, block: u32, generation: u32) -> SharedBuf {
        let len = pool.block_size;
        SharedBuf {
            pool,
            block,
            generation,
            len,
            serialized: Cell::new(false),
        }
    }

    /// The number of bytes in use (what `Deref` shows).
    ///
    /// ```
    /// let pool = csp::shared_memory::SharedPool::new(1, 64)?;
    /// let mut buf = pool.alloc()?;
    /// assert_eq!(buf.len(), 64); // a fresh buffer spans its whole block
    /// buf.set_len(3)?;
    /// assert_eq!(buf.len(), 3);
    /// # Ok::<(), csp::shared_memory::PoolError>(())
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no byte is in use.
    ///
    /// ```
    /// let pool = csp::shared_memory::SharedPool::new(1, 64)?;
    /// let mut buf = pool.alloc()?;
    /// buf.set_len(0)?;
    /// assert!(buf.is_empty());
    /// # Ok::<(), csp::shared_memory::PoolError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The block's size: the largest `len`.
    ///
    /// ```
    /// let pool = csp::shared_memory::SharedPool::new(1, 100)?;
    /// assert_eq!(pool.alloc()?.capacity(), 100);
    /// # Ok::<(), csp::shared_memory::PoolError>(())
    /// ```
    pub fn capacity(&self) -> usize {
        self.pool.block_size
    }

    /// Sets the number of bytes in use. Growing shows the bytes the block held (zero in
    /// a fresh pool, else whatever its last owner left); beyond `capacity` it fails
    /// with [`PoolError::TooLarge`].
    ///
    /// ```
    /// let pool = csp::shared_memory::SharedPool::new(1, 8)?;
    /// let mut buf = pool.alloc()?;
    /// buf.set_len(2)?;
    /// assert_eq!(&buf[..], &[0, 0]);
    /// assert!(buf.set_len(9).is_err());
    /// # Ok::<(), csp::shared_memory::PoolError>(())
    /// ```
    pub fn set_len(&mut self, len: usize) -> Result<(), PoolError> {
        if len > self.capacity() {
            return Err(PoolError::TooLarge {
                pool: self.pool.id,
                len,
                capacity: self.capacity(),
            });
        }
        self.len = len;
        Ok(())
    }

    /// The pool the block belongs to.
    ///
    /// ```
    /// let pool = csp::shared_memory::SharedPool::new(1, 8)?;
    /// assert_eq!(pool.alloc()?.pool().id(), pool.id());
    /// # Ok::<(), csp::shared_memory::PoolError>(())
    /// ```
    pub fn pool(&self) -> SharedPool {
        SharedPool {
            pool: self.pool.clone(),
        }
    }

    /// The block's index in its pool (what the handle names).
    ///
    /// ```
    /// let pool = csp::shared_memory::SharedPool::new(4, 8)?;
    /// assert!(pool.alloc()?.block() < 4);
    /// # Ok::<(), csp::shared_memory::PoolError>(())
    /// ```
    pub fn block(&self) -> usize {
        self.block as usize
    }

    /// The bytes in use as a slice of `T`, a plain-old-data type (any bit pattern is a
    /// valid `T`: integers, floats, arrays and `#[derive(Pod)]` structs of them). Fails
    /// with [`PoolError::Layout`] if `len` is not a multiple of `T`'s size (blocks start
    /// 64-byte aligned, so alignment holds for every type aligned to at most 64).
    ///
    /// ```
    /// let pool = csp::shared_memory::SharedPool::new(1, 64)?;
    /// let mut buf = pool.alloc()?;
    /// buf.as_mut_slice_of::<u64>()?.iter_mut().enumerate().for_each(|(i, x)| *x = i as u64);
    /// assert_eq!(buf.as_slice_of::<u64>()?, &[0, 1, 2, 3, 4, 5, 6, 7]);
    /// buf.set_len(12)?;
    /// assert!(buf.as_slice_of::<u64>().is_err()); // 12 bytes are not whole u64s
    /// assert_eq!(buf.as_slice_of::<u32>()?.len(), 3);
    /// # Ok::<(), csp::shared_memory::PoolError>(())
    /// ```
    pub fn as_slice_of<T: bytemuck::Pod>(&self) -> Result<&[T], PoolError> {
        bytemuck::try_cast_slice(self).map_err(|e| self.layout_error::<T>(e))
    }

    /// The bytes in use as a mutable slice of `T` (see [`as_slice_of`](Self::as_slice_of)).
    ///
    /// ```
    /// let pool = csp::shared_memory::SharedPool::new(1, 16)?;
    /// let mut buf = pool.alloc()?;
    /// buf.as_mut_slice_of::<f32>()?[3] = 1.5;
    /// assert_eq!(buf.as_slice_of::<f32>()?, &[0.0, 0.0, 0.0, 1.5]);
    /// # Ok::<(), csp::shared_memory::PoolError>(())
    /// ```
    pub fn as_mut_slice_of<T: bytemuck::Pod>(&mut self) -> Result<&mut [T], PoolError> {
        let (pool, len) = (self.pool.id, self.len);
        bytemuck::try_cast_slice_mut(self).map_err(|e| PoolError::Layout {
            pool,
            message: format!("{len} bytes as [{}]: {e}", std::any::type_name::<T>()),
        })
    }

    fn layout_error<T>(&self, e: bytemuck::PodCastError) -> PoolError {
        PoolError::Layout {
            pool: self.pool.id,
            message: format!(
                "{} bytes as [{}]: {e}",
                self.len,
                std::any::type_name::<T>()
            ),
        }
    }

    /// Takes ownership of the block a decoded handle names, waiting (bounded) for its
    /// sender to drop the buffer it serialized.
    fn claim(handle: Handle) -> Result<SharedBuf, String> {
        let pool = Pool::find(handle.pool).ok_or_else(|| {
            format!(
                "shared buffer of pool #{:x}, which this OS process does not share \
                 (a pool reaches the processes forked after it was made)",
                handle.pool
            )
        })?;
        if handle.block >= pool.blocks || handle.len > pool.block_size as u64 {
            return Err(format!(
                "forged shared buffer handle: block {} of {}, length {} of {}",
                handle.block, pool.blocks, handle.len, pool.block_size
            ));
        }
        let word = pool.state(handle.block);
        let start = Instant::now();
        let mut pause = Duration::from_micros(1);
        loop {
            let s = word.load(Ordering::Acquire);
            let (generation, owner) = pool::unpack(s);
            if generation != handle.generation || owner == FREE {
                return Err(format!(
                    "stale or duplicated shared buffer handle: block {} of pool #{:x} \
                     has been handed over since",
                    handle.block, pool.id
                ));
            }
            if owner == IN_FLIGHT || !pool::alive(owner) {
                let next = generation.wrapping_add(1);
                let claimed = pool::pack(next, pool::me());
                if word
                    .compare_exchange(s, claimed, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
                {
                    let mut buf = SharedBuf::new(pool.clone(), handle.block, next);
                    // Checked against `block_size` above.
                    buf.len = handle.len as usize;
                    return Ok(buf);
                }
                continue;
            }
            if start.elapsed() > CLAIM_WAIT {
                return Err(format!(
                    "shared buffer handle for block {} of pool #{:x} whose owner (pid \
                     {owner}) still holds it",
                    handle.block, pool.id
                ));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(1));
        }
    }

    fn bytes(&self) -> *mut u8 {
        self.pool.data(self.block)
    }
}

impl Deref for SharedBuf {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        // SAFETY: this value owns the block (its generation is the block's, and only the
        // owner's drop or a claim of a handle it released can change that; a release
        // happens only in `drop`, which needs `&mut self`, so no borrow of this slice is
        // alive then). `len <= block_size`, the block lies inside the mapping, which the
        // `Arc<Pool>` keeps mapped; its bytes are initialised (zero-filled by the kernel
        // or written as bytes).
        unsafe { std::slice::from_raw_parts(self.bytes(), self.len) }
    }
}

impl DerefMut for SharedBuf {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `deref`, and `&mut self` makes this the only borrow.
        unsafe { std::slice::from_raw_parts_mut(self.bytes(), self.len) }
    }
}

impl Drop for SharedBuf {
    fn drop(&mut self) {
        if self.serialized.get() {
            // The handle may be in a channel: it owns the block now. If it never
            // reaches a reader (its write failed and this value, handed back, was
            // dropped), the block stays taken until the pool ends.
            self.pool.release_to_flight(self.block, self.generation);
        } else {
            self.pool.free(self.block, self.generation);
        }
    }
}

impl Serialize for SharedBuf {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (generation, owner) = pool::unpack(self.pool.state(self.block).load(Ordering::Acquire));
        if generation != self.generation || owner == FREE || owner == IN_FLIGHT {
            return Err(S::Error::custom(format!(
                "shared buffer (block {} of pool #{:x}) is no longer owned here",
                self.block, self.pool.id
            )));
        }
        self.serialized.set(true);
        Handle {
            pool: self.pool.id,
            block: self.block,
            generation: self.generation,
            len: self.len as u64,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SharedBuf {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<SharedBuf, D::Error> {
        let handle = Handle::deserialize(deserializer)?;
        SharedBuf::claim(handle).map_err(|why| {
            crate::channel::note_decode_failure(why.clone());
            D::Error::custom(why)
        })
    }
}

impl fmt::Debug for SharedBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedBuf")
            .field("pool", &format_args!("#{:x}", self.pool.id))
            .field("block", &self.block)
            .field("len", &self.len)
            .field("capacity", &self.capacity())
            .finish()
    }
}
