//! Coroutine stacks: carved out of large mappings, each with a guard page below it, and
//! pooled for reuse by the processes that start later.
//!
//! One `mmap` per stack with an `mprotect`ed guard page (corosensei's `DefaultStack`)
//! costs two kernel mappings per stack, and `vm.max_map_count` (65,530 by default)
//! then stops a network near 32,000 live processes. Here a slab of
//! [`STACKS_PER_SLAB`] stacks is one mapping, and each stack's guard page is installed
//! with `madvise(MADV_GUARD_INSTALL)` (Linux 6.13), which does not split the mapping.
//! On an older kernel the guard falls back to `mprotect`, and the error at the limit
//! says so.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use corosensei::stack::{Stack, StackPointer};

/// Stacks per mapping: 16 MiB of address space for 64 KiB stacks.
const STACKS_PER_SLAB: usize = 256;

/// `MADV_GUARD_INSTALL` from `<linux/mman.h>` (not in every libc crate release yet).
#[cfg(target_os = "linux")]
const MADV_GUARD_INSTALL: libc::c_int = 102;

/// Stacks of one size for one executor; every stack handed out gives itself back when
/// its coroutine is dropped.
pub(super) struct StackPool {
    /// Usable bytes per stack (a whole number of pages).
    usable: usize,
    page: usize,
    /// The base (highest address) of every stack not in use.
    free: Mutex<Vec<usize>>,
    slabs: Mutex<Vec<Slab>>,
}

/// One mapping holding [`STACKS_PER_SLAB`] stacks, each `page + usable` bytes, guard first.
struct Slab {
    addr: usize,
    len: usize,
}

impl Drop for Slab {
    fn drop(&mut self) {
        // SAFETY: `addr..addr + len` is a mapping this slab made and nothing else
        // unmaps; the pool that owns the slab is dropped only after every stack carved
        // from it (each holds an `Arc` to the pool), so no coroutine runs on it now.
        unsafe { libc::munmap(self.addr as *mut libc::c_void, self.len) };
    }
}

impl StackPool {
    /// A pool of stacks with at least `size` usable bytes each.
    pub(super) fn new(size: usize) -> Arc<StackPool> {
        let page = page_size();
        let usable = size.max(corosensei::stack::MIN_STACK_SIZE).div_ceil(page) * page;
        Arc::new(StackPool {
            usable,
            page,
            free: Mutex::new(Vec::new()),
            slabs: Mutex::new(Vec::new()),
        })
    }

    /// A stack from the pool, or from a new slab if none is free.
    pub(super) fn take(self: &Arc<Self>) -> io::Result<PooledStack> {
        let reused = lock(&self.free).pop();
        let base = match reused {
            Some(base) => base,
            None => self.grow()?,
        };
        Ok(PooledStack {
            base,
            limit: base - self.usable - self.page,
            pool: self.clone(),
        })
    }

    /// Maps a new slab, guards each of its stacks, keeps all but one free; gives that
    /// one's base.
    fn grow(&self) -> io::Result<usize> {
        let stride = self.page + self.usable;
        let len = stride * STACKS_PER_SLAB;
        // SAFETY: an anonymous private mapping at an address the kernel picks touches no
        // existing memory; the result is checked before use.
        let addr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if addr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let slab = Slab {
            addr: addr as usize,
            len,
        };
        for i in 0..STACKS_PER_SLAB {
            guard(slab.addr + i * stride, self.page)?;
        }
        let bases = (1..=STACKS_PER_SLAB).map(|i| slab.addr + i * stride);
        let mut free = lock(&self.free);
        free.extend(bases);
        let base = free.pop().unwrap_or(slab.addr + stride);
        drop(free);
        lock(&self.slabs).push(slab);
        Ok(base)
    }
}

/// Makes the page at `addr` fault on any access: a guard inside the slab's mapping if
/// the kernel has `MADV_GUARD_INSTALL`, else an `mprotect`ed page (a mapping of its own).
fn guard(addr: usize, page: usize) -> io::Result<()> {
    // SAFETY: `addr` is page-aligned and inside a mapping the caller owns and no
    // coroutine uses yet; a guard page only makes that page inaccessible.
    let installed = unsafe { libc::madvise(addr as *mut libc::c_void, page, MADV_GUARD_INSTALL) };
    if installed == 0 {
        return Ok(());
    }
    // SAFETY: as above.
    let protected = unsafe { libc::mprotect(addr as *mut libc::c_void, page, libc::PROT_NONE) };
    if protected == 0 {
        return Ok(());
    }
    let error = io::Error::last_os_error();
    Err(io::Error::new(
        error.kind(),
        format!(
            "cannot install a stack guard page ({error}); without MADV_GUARD_INSTALL \
             (Linux 6.13) each guard is a mapping, limited by vm.max_map_count"
        ),
    ))
}

/// One coroutine stack of a [`StackPool`], given back to it when dropped.
pub(super) struct PooledStack {
    base: usize,
    limit: usize,
    pool: Arc<StackPool>,
}

impl Drop for PooledStack {
    fn drop(&mut self) {
        lock(&self.pool.free).push(self.base);
    }
}

// SAFETY: `limit..base` lies inside one slab mapping that lives as long as the pool
// this stack holds; its lowest page is a guard page (installed by `guard` before the
// stack was handed out), above it are `usable >= MIN_STACK_SIZE` readable and writable
// bytes; both ends are page-aligned, hence aligned to `STACK_ALIGNMENT`. Only one
// `PooledStack` holds a given base at a time: it leaves the free list when taken and
// comes back only when this one is dropped.
unsafe impl Stack for PooledStack {
    fn base(&self) -> StackPointer {
        StackPointer::new(self.base).unwrap_or(StackPointer::MIN)
    }

    fn limit(&self) -> StackPointer {
        StackPointer::new(self.limit).unwrap_or(StackPointer::MIN)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn page_size() -> usize {
    // SAFETY: `sysconf` reads a constant of the system.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(page).unwrap_or(4096).max(4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacks_are_distinct_guarded_and_reused() {
        let pool = StackPool::new(16 * 1024);
        let a = pool.take().unwrap();
        let b = pool.take().unwrap();
        assert_ne!(a.base, b.base);
        assert!(a.base - a.limit >= 16 * 1024 + pool.page);
        let a_base = a.base;
        drop(a);
        let c = pool.take().unwrap();
        assert_eq!(c.base, a_base, "a stack given back is reused first");
        drop((b, c));
    }

    #[test]
    fn many_stacks_use_few_mappings_where_the_kernel_has_guard_advice() {
        let maps_before = mappings();
        let pool = StackPool::new(16 * 1024);
        let stacks: Vec<_> = (0..4 * STACKS_PER_SLAB)
            .map(|_| pool.take().unwrap())
            .collect();
        let added = mappings().saturating_sub(maps_before);
        if guard_advice_works() {
            // One mapping per slab, however many guards it holds (a few more may come
            // from the allocator meanwhile).
            assert!(
                added <= 4 + 4,
                "{added} mappings for {} stacks",
                stacks.len()
            );
        } else {
            // The mprotect fallback: a guard splits the slab's mapping.
            assert!(added >= stacks.len(), "{added} mappings");
        }
        drop(stacks);
    }

    /// Whether `MADV_GUARD_INSTALL` is accepted here (Linux 6.13 and later).
    fn guard_advice_works() -> bool {
        let page = page_size();
        // SAFETY: a fresh anonymous mapping, advised and unmapped here only.
        unsafe {
            let addr = libc::mmap(
                std::ptr::null_mut(),
                2 * page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert_ne!(addr, libc::MAP_FAILED);
            let works = libc::madvise(addr, page, MADV_GUARD_INSTALL) == 0;
            libc::munmap(addr, 2 * page);
            works
        }
    }

    fn mappings() -> usize {
        std::fs::read_to_string("/proc/self/maps").map_or(0, |m| m.lines().count())
    }
}
