//! An anonymous shared mapping: memory that a `fork` leaves shared between parent and
//! child (not copied on write), so both processes see the same channel state.

use std::ffi::c_void;
use std::num::NonZeroUsize;
use std::ptr::NonNull;

use nix::sys::mman::{mmap_anonymous, munmap, MapFlags, ProtFlags};

/// A `MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE` mapping, zero-filled by the kernel.
/// Pages cost memory only once touched, so generous frame slots are cheap.
///
/// Owned by an `Arc` in each process: a fork copies the `Arc` (and the mapping stays at
/// the same address in the child), and each process unmaps its view when its last
/// handle goes.
pub(crate) struct Mapping {
    base: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain memory; every access to its contents goes through atomics
// or through byte copies whose exclusivity the channel protocol guarantees.
unsafe impl Send for Mapping {}
// SAFETY: as for `Send`: `&Mapping` only hands out the base address.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps `len` bytes (rounded up to whole pages by the kernel).
    pub(crate) fn new(len: usize) -> std::io::Result<Mapping> {
        let size = NonZeroUsize::new(len).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "empty mapping")
        })?;
        // SAFETY: no address hint (the kernel picks a fresh range, so nothing existing is
        // replaced), and an anonymous mapping has no file whose lifetime matters.
        let ptr = unsafe {
            mmap_anonymous(
                None,
                size,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED | MapFlags::MAP_NORESERVE,
            )
        }
        .map_err(std::io::Error::from)?;
        Ok(Mapping {
            base: ptr.cast(),
            len,
        })
    }

    /// The first byte; the mapping is page-aligned.
    pub(crate) fn base(&self) -> *mut u8 {
        self.base.as_ptr()
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `base`/`len` are exactly what `mmap` returned, and this is the last
        // handle of this process (the `Arc` dropped it), so nothing here still points in.
        // Other processes keep their own view: `munmap` only removes ours.
        let _ = unsafe { munmap(self.base.cast::<c_void>(), self.len) };
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_mapping_is_zeroed_page_aligned_and_writable() {
        let m = Mapping::new(10_000).unwrap();
        assert_eq!(m.base() as usize % 4096, 0);
        // SAFETY: within the mapping, which only this test uses.
        unsafe {
            assert_eq!(*m.base().add(9_999), 0);
            *m.base().add(9_999) = 7;
            assert_eq!(*m.base().add(9_999), 7);
        }
        assert!(Mapping::new(0).is_err());
    }
}
