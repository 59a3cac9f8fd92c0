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

/// Address space per mapping: 16 MiB, so 256 stacks of 64 KiB (fewer of larger sizes).
const SLAB_BYTES: usize = 16 * 1024 * 1024;
/// At most this many stacks per mapping (what small stacks get).
const STACKS_PER_SLAB: usize = 256;
/// Idle stacks a pool keeps resident, in slabs' worth: beyond that, a slab whose
/// stacks are all idle gives its memory back to the OS (`MADV_DONTNEED`). A network
/// that churns through short-lived processes reuses the same few stacks and never
/// pays for it; one that shrinks after a peak returns what the peak touched.
const IDLE_SLABS_KEPT: usize = 2;

/// `MADV_GUARD_INSTALL` from `<linux/mman.h>` (not in every libc crate release yet).
#[cfg(target_os = "linux")]
const MADV_GUARD_INSTALL: libc::c_int = 102;

/// Stacks of one size for one executor; every stack handed out gives itself back when
/// its coroutine is dropped.
pub(super) struct StackPool {
    /// Usable bytes per stack (a whole number of pages).
    usable: usize,
    page: usize,
    /// Stacks per slab of this pool.
    per_slab: usize,
    inner: Mutex<Inner>,
}

struct Inner {
    /// Every stack not in use: its base (highest address) and its slab's index.
    free: Vec<(usize, usize)>,
    slabs: Vec<Slab>,
}

/// One mapping holding `per_slab` stacks, each `page + usable` bytes, guard first.
struct Slab {
    addr: usize,
    len: usize,
    /// Its stacks handed out now.
    in_use: usize,
    /// Whether its memory was given back since it was last used.
    released: bool,
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
            per_slab: (SLAB_BYTES / (usable + page)).clamp(1, STACKS_PER_SLAB),
            inner: Mutex::new(Inner {
                free: Vec::new(),
                slabs: Vec::new(),
            }),
        })
    }

    /// A stack from the pool, or from a new slab if none is free.
    pub(super) fn take(self: &Arc<Self>) -> io::Result<PooledStack> {
        let mut inner = lock(&self.inner);
        let (base, slab) = match inner.free.pop() {
            Some(free) => free,
            None => self.grow(&mut inner)?,
        };
        let owner = &mut inner.slabs[slab];
        owner.in_use += 1;
        owner.released = false;
        drop(inner);
        Ok(PooledStack {
            base,
            slab,
            limit: base - self.usable - self.page,
            pool: self.clone(),
        })
    }

    /// Maps a new slab, guards each of its stacks, keeps all but one free; gives that
    /// one's base and the slab's index.
    fn grow(&self, inner: &mut Inner) -> io::Result<(usize, usize)> {
        let stride = self.page + self.usable;
        let len = stride * self.per_slab;
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
            in_use: 0,
            released: true,
        };
        for i in 0..self.per_slab {
            guard(slab.addr + i * stride, self.page)?;
        }
        let index = inner.slabs.len();
        // Highest first, so the lowest stack of the slab is handed out first.
        let bases = (1..=self.per_slab)
            .rev()
            .map(|i| (slab.addr + i * stride, index));
        inner.free.extend(bases);
        inner.slabs.push(slab);
        Ok(inner.free.pop().unwrap_or((addr as usize + stride, index)))
    }

    /// Takes back the stack at `base` of slab `slab`; gives the slab's memory back to
    /// the OS if it is now wholly idle and the pool holds enough idle stacks already.
    fn give_back(&self, base: usize, slab: usize) {
        let mut inner = lock(&self.inner);
        inner.free.push((base, slab));
        let idle = inner.free.len();
        let owner = &mut inner.slabs[slab];
        owner.in_use -= 1;
        if owner.in_use == 0 && !owner.released && idle > IDLE_SLABS_KEPT * self.per_slab {
            owner.released = true;
            // SAFETY: the whole slab is a mapping this pool owns and none of its stacks
            // is in use (`in_use` is 0 under the lock, and a stack is taken only under
            // it): no coroutine runs on it. DONTNEED only drops the pages' contents
            // (they read as zeros when touched again); guard pages stay installed.
            unsafe {
                libc::madvise(
                    owner.addr as *mut libc::c_void,
                    owner.len,
                    libc::MADV_DONTNEED,
                )
            };
        }
    }
}

/// The pools of one executor, one per size class: a stack's usable size is rounded up
/// to a power of two, so processes asking for nearby sizes share stacks.
pub(super) struct StackPools {
    classes: Vec<Arc<StackPool>>,
}

impl StackPools {
    /// A pool for the class of each of `sizes` (usable bytes asked for).
    pub(super) fn for_sizes(sizes: impl IntoIterator<Item = usize>) -> StackPools {
        let mut classes: Vec<Arc<StackPool>> = Vec::new();
        for size in sizes {
            let class = size_class(size);
            if !classes.iter().any(|p| p.usable == class) {
                classes.push(StackPool::new(class));
            }
        }
        StackPools { classes }
    }

    /// A stack of at least `size` usable bytes, from its class's pool.
    pub(super) fn take(&self, size: usize) -> io::Result<PooledStack> {
        let class = size_class(size);
        match self.classes.iter().find(|p| p.usable == class) {
            Some(pool) => pool.take(),
            None => Err(io::Error::other(format!(
                "no stack pool for {class} bytes (a size not announced at start)"
            ))),
        }
    }
}

/// The usable size of the stacks given to a process asking for `size` bytes: the next
/// power of two, at least a page (and corosensei's minimum).
fn size_class(size: usize) -> usize {
    size.max(corosensei::stack::MIN_STACK_SIZE)
        .max(page_size())
        .checked_next_power_of_two()
        .unwrap_or(usize::MAX / 2 + 1)
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
    slab: usize,
    limit: usize,
    pool: Arc<StackPool>,
}

impl PooledStack {
    /// The addresses of its guard page: an access there is an overflow of this stack.
    pub(super) fn guard(&self) -> std::ops::Range<usize> {
        self.limit..self.limit + self.pool.page
    }

    /// Its usable bytes.
    pub(super) fn usable(&self) -> usize {
        self.pool.usable
    }
}

impl Drop for PooledStack {
    fn drop(&mut self) {
        self.pool.give_back(self.base, self.slab);
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

pub(super) fn page_size() -> usize {
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

    #[test]
    fn sizes_round_up_to_their_class_and_share_its_pool() {
        assert_eq!(size_class(64 * 1024), 64 * 1024);
        assert_eq!(size_class(64 * 1024 + 1), 128 * 1024);
        assert_eq!(size_class(300 * 1024), 512 * 1024);
        assert_eq!(size_class(1), size_class(page_size()));
        let pools = StackPools::for_sizes([100 * 1024, 128 * 1024, 16 * 1024]);
        assert_eq!(pools.classes.len(), 2);
        let a = pools.take(100 * 1024).unwrap();
        let b = pools.take(128 * 1024).unwrap();
        assert!(Arc::ptr_eq(&a.pool, &b.pool));
        assert_eq!(a.usable(), 128 * 1024);
        assert_eq!(pools.take(16 * 1024).unwrap().usable(), 16 * 1024);
        assert!(pools.take(1 << 20).is_err(), "a class not announced");
    }

    /// A pool that shrinks after a peak gives the memory of wholly idle slabs back,
    /// beyond the idle stacks it keeps; a stack taken again works (reads zeros).
    #[test]
    fn idle_slabs_beyond_the_bound_give_their_memory_back() {
        let pool = StackPool::new(16 * 1024);
        let per_slab = pool.per_slab;
        let slabs = IDLE_SLABS_KEPT + 3;
        let stacks: Vec<_> = (0..slabs * per_slab)
            .map(|_| pool.take().unwrap())
            .collect();
        for s in &stacks {
            // SAFETY: the top word of a stack in use by no coroutine: ours to write.
            unsafe { ((s.base - 8) as *mut u64).write_volatile(0xC5B) };
        }
        let tops: Vec<usize> = stacks.iter().map(|s| s.base - 8).collect();
        drop(stacks);
        let resident = tops.iter().filter(|t| is_resident(**t)).count();
        // The first slabs given back stay, up to the bound; the rest were released.
        assert!(
            resident <= (IDLE_SLABS_KEPT + 1) * per_slab && resident >= per_slab,
            "{resident} of {} stack tops still resident",
            tops.len()
        );
        let again = pool.take().unwrap();
        // SAFETY: as above.
        let top = unsafe { ((again.base - 8) as *const u64).read_volatile() };
        assert!(top == 0 || top == 0xC5B);
    }

    /// Whether the page holding `addr` is resident (`mincore`).
    fn is_resident(addr: usize) -> bool {
        let page = page_size();
        let mut vec = 0u8;
        // SAFETY: one page of a mapping the test owns; `vec` holds its one status byte.
        let ok =
            unsafe { libc::mincore((addr & !(page - 1)) as *mut libc::c_void, page, &mut vec) };
        assert_eq!(ok, 0);
        vec & 1 == 1
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
