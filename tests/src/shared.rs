//! Observation that works on every placement: atomics in an anonymous `MAP_SHARED`
//! mapping, so that a value a forked child stores is the value its parent loads. Between
//! threads they behave exactly like an `Arc<Atomic*>`.

use std::num::NonZeroUsize;
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize};
use std::sync::Arc;

use nix::sys::mman::{mmap_anonymous, munmap, MapFlags, ProtFlags};

mod sealed {
    pub trait Sealed {}
}

/// An atomic that stays meaningful in memory shared by several OS processes: lock-free,
/// no pointers, no drop glue.
pub trait ProcessShared: sealed::Sealed + Send + Sync + 'static {}

macro_rules! process_shared {
    ($($atomic:ty),*) => {$(
        impl sealed::Sealed for $atomic {}
        impl ProcessShared for $atomic {}
    )*};
}
process_shared!(AtomicBool, AtomicU32, AtomicU64, AtomicUsize, AtomicI64);

/// One atomic in memory shared with the processes forked after it was made. Clones
/// refer to the same atomic; it dereferences to the atomic.
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use csp_tests::shared::Shared;
///
/// let flag = Shared::new(AtomicBool::new(false))?;
/// let seen = flag.clone();
/// std::thread::spawn(move || flag.store(true, Ordering::SeqCst)).join().unwrap();
/// assert!(seen.load(Ordering::SeqCst));
/// # Ok::<(), nix::Error>(())
/// ```
pub struct Shared<A: ProcessShared> {
    mapping: Arc<Mapping<A>>,
}

impl<A: ProcessShared> Shared<A> {
    /// A new shared atomic holding `value`. Fails if the OS refuses the mapping.
    pub fn new(value: A) -> Result<Shared<A>, nix::Error> {
        let len = NonZeroUsize::new(std::mem::size_of::<A>()).ok_or(nix::Error::EINVAL)?;
        // SAFETY: a fresh anonymous mapping at an address the kernel chooses aliases no
        // Rust object.
        let ptr = unsafe {
            mmap_anonymous(
                None,
                len,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
            )?
        };
        let ptr = ptr.cast::<A>();
        // SAFETY: the mapping is page-aligned (enough for any atomic), `len` bytes long
        // and writable; nothing reads it before this write.
        unsafe { ptr.as_ptr().write(value) };
        Ok(Shared {
            mapping: Arc::new(Mapping { ptr }),
        })
    }
}

impl<A: ProcessShared> Clone for Shared<A> {
    fn clone(&self) -> Self {
        Shared {
            mapping: self.mapping.clone(),
        }
    }
}

impl<A: ProcessShared> Deref for Shared<A> {
    type Target = A;

    fn deref(&self) -> &A {
        // SAFETY: the mapping lives as long as this process holds a `Mapping`, and the
        // atomic in it is only ever accessed through shared references.
        unsafe { self.mapping.ptr.as_ref() }
    }
}

/// The mapping, unmapped when the last clone in this process goes (each forked process
/// has its own count, and its own view of the mapping to unmap).
struct Mapping<A> {
    ptr: NonNull<A>,
}

// SAFETY: the pointee is an atomic (`ProcessShared: Send + Sync`), accessed only through
// shared references.
unsafe impl<A: ProcessShared> Send for Mapping<A> {}
// SAFETY: as for `Send`.
unsafe impl<A: ProcessShared> Sync for Mapping<A> {}

impl<A> Drop for Mapping<A> {
    fn drop(&mut self) {
        // SAFETY: the mapping was made by `Shared::new` with this length, and no
        // reference into it outlives the last `Shared` of this process. A failed unmap
        // only leaks the page.
        let _ = unsafe { munmap(self.ptr.cast(), std::mem::size_of::<A>()) };
    }
}
