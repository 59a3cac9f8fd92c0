//! A barrier whose parties may sit in different OS processes: its counts live in an
//! anonymous shared mapping made before the fork, guarded by a robust process-shared
//! mutex, and waiters sleep on a generation word (a process-shared futex) that the last
//! arrival bumps.
//!
//! A party in a process that dies never arrives and never resigns, which would leave the
//! others waiting forever; so each process's enrollments and arrivals are counted apart
//! (by pid), and a waiter looks every [`DEAD_CHECK`] for processes that have gone: their
//! parties are resigned, as a thread's are when it unwinds. A party is counted under the
//! process that made the barrier shared until it first syncs, resigns or tries
//! elsewhere (each handle remembers where it is counted, its *home*, and moves it), or
//! until the forked child whose process holds it as a recorded end adopts it at its
//! start (`adopt_party`): so a forked party that dies before its first sync is noticed
//! too, if its process recorded it (`Process::with_ends`, `#[process]`).
//!
//! A timed wait withdraws its arrival under the lock unless the generation moved, so a
//! timeout never lets a barrier complete without a party that believes it left: what an
//! alt needs to offer on a barrier guard (see `alt::engine`).

use std::io;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::futex;
use super::lock::RawLock;
use super::mapping::Mapping;

/// How often a waiting party looks for processes that died enrolled.
const DEAD_CHECK: Duration = Duration::from_millis(100);

/// Processes whose parties are counted apart; parties of further processes are counted
/// in the totals only (a death there is not noticed).
const PROCESSES: usize = 64;

#[repr(C)]
struct Party {
    pid: AtomicU32,
    enrolled: AtomicU32,
    arrived: AtomicU32,
}

#[repr(C)]
struct Cell {
    lock: RawLock,
    /// The process the parties enrolled before sharing are counted under.
    origin: AtomicU32,
    enrolled: AtomicU32,
    arrived: AtomicU32,
    /// Bumped by each completion; the futex word waiters sleep on.
    generation: AtomicU32,
    parties: [Party; PROCESSES],
}

/// The shared state of one barrier; clones share it.
#[derive(Clone)]
pub(crate) struct SharedBarrier {
    map: Arc<Mapping>,
}

/// Lowers a count (under the lock) by `n`, never below zero: after a dead owner's torn
/// update a count may be off, and must not wrap.
fn lower(count: &AtomicU32, n: u32) {
    let was = count.load(Ordering::Relaxed);
    count.store(was.saturating_sub(n), Ordering::Relaxed);
}

fn own_pid() -> u32 {
    std::process::id()
}

/// Whether `pid` still exists (a zombie does until its parent reaps it).
fn alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 checks for existence and permission; nothing is sent.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

impl SharedBarrier {
    /// A shared barrier with `enrolled` parties, all of this process.
    pub(crate) fn create(enrolled: usize) -> io::Result<SharedBarrier> {
        let map = Mapping::new(std::mem::size_of::<Cell>())?;
        let b = SharedBarrier { map: Arc::new(map) };
        // SAFETY: the mapping is fresh, zeroed and ours alone until this returns.
        unsafe { b.cell().lock.init()? };
        let n = u32::try_from(enrolled).unwrap_or(u32::MAX);
        b.cell().enrolled.store(n, Ordering::Relaxed);
        b.cell().origin.store(own_pid(), Ordering::Relaxed);
        if let Some(p) = b.party(own_pid()) {
            p.enrolled.store(n, Ordering::Relaxed);
        }
        Ok(b)
    }

    fn cell(&self) -> &Cell {
        debug_assert!(self.map.len() >= std::mem::size_of::<Cell>());
        // SAFETY: the mapping is at least a `Cell` long, page-aligned, zero-initialised
        // (a valid `Cell`: atomics and a mutex `init` prepared), and lives as long as
        // `self`; every field is an atomic or the mutex, so shared access is sound.
        unsafe { &*self.map.base().cast::<Cell>() }
    }

    /// The counts of process `pid` (under the lock): its row, or a free one it takes.
    fn party(&self, pid: u32) -> Option<&Party> {
        let parties = &self.cell().parties;
        if let Some(p) = parties
            .iter()
            .find(|p| p.pid.load(Ordering::Relaxed) == pid)
        {
            return Some(p);
        }
        let free = parties.iter().find(|p| {
            p.enrolled.load(Ordering::Relaxed) == 0 && p.arrived.load(Ordering::Relaxed) == 0
        })?;
        free.pid.store(pid, Ordering::Relaxed);
        Some(free)
    }

    fn lock(&self) -> Option<super::lock::Locked<'_>> {
        // A dead owner left at most one count half-changed; the barrier goes on (it has
        // no poison), and the dead process's parties are resigned by `reap_dead`.
        self.cell().lock.lock().ok()
    }

    /// Adds one party of this process; store the returned home in its handle.
    pub(crate) fn enroll(&self) -> u32 {
        let me = own_pid();
        let Some(_g) = self.lock() else { return me };
        self.cell().enrolled.fetch_add(1, Ordering::Relaxed);
        if let Some(p) = self.party(me) {
            p.enrolled.fetch_add(1, Ordering::Relaxed);
        }
        me
    }

    /// Under the lock: counts the party whose handle keeps `home` under this process
    /// from now on (see the module docs).
    fn adopt(&self, home: &AtomicU32) {
        let me = own_pid();
        let was = match home.load(Ordering::Relaxed) {
            0 => self.cell().origin.load(Ordering::Relaxed),
            pid => pid,
        };
        if was == me {
            return;
        }
        if let Some(p) = self.party(was) {
            lower(&p.enrolled, 1);
        }
        if let Some(p) = self.party(me) {
            p.enrolled.fetch_add(1, Ordering::Relaxed);
        }
        home.store(me, Ordering::Relaxed);
    }

    /// Counts the party whose handle keeps `home` under this process from now on (a
    /// forked child does it for the parties its processes hold, before they run).
    pub(crate) fn adopt_party(&self, home: &AtomicU32) {
        let Some(_g) = self.lock() else { return };
        self.adopt(home);
    }

    /// Removes the party whose handle keeps `home`; completes the barrier if everyone
    /// left has arrived.
    pub(crate) fn resign(&self, home: &AtomicU32) {
        let Some(_g) = self.lock() else { return };
        self.adopt(home);
        lower(&self.cell().enrolled, 1);
        if let Some(p) = self.party(own_pid()) {
            lower(&p.enrolled, 1);
        }
        self.complete_if_all_arrived();
    }

    pub(crate) fn enrolled(&self) -> usize {
        self.cell().enrolled.load(Ordering::Relaxed) as usize
    }

    /// Under the lock: the next generation if every enrolled party has arrived.
    fn complete_if_all_arrived(&self) -> bool {
        let c = self.cell();
        let enrolled = c.enrolled.load(Ordering::Relaxed);
        if enrolled == 0 || c.arrived.load(Ordering::Relaxed) < enrolled {
            return false;
        }
        c.arrived.store(0, Ordering::Relaxed);
        for p in &c.parties {
            p.arrived.store(0, Ordering::Relaxed);
        }
        c.generation.fetch_add(1, Ordering::Release);
        futex::wake_all(&c.generation);
        true
    }

    /// Under the lock: resigns the parties of processes that have died.
    fn reap_dead(&self) {
        let c = self.cell();
        for p in &c.parties {
            let (enrolled, arrived) = (
                p.enrolled.load(Ordering::Relaxed),
                p.arrived.load(Ordering::Relaxed),
            );
            if enrolled + arrived == 0 || alive(p.pid.load(Ordering::Relaxed)) {
                continue;
            }
            let total = c.enrolled.load(Ordering::Relaxed);
            c.enrolled
                .store(total.saturating_sub(enrolled), Ordering::Relaxed);
            let total = c.arrived.load(Ordering::Relaxed);
            c.arrived
                .store(total.saturating_sub(arrived), Ordering::Relaxed);
            p.enrolled.store(0, Ordering::Relaxed);
            p.arrived.store(0, Ordering::Relaxed);
        }
    }

    /// Arrives (under the lock): `true` if that completed the barrier.
    fn arrive(&self) -> bool {
        self.cell().arrived.fetch_add(1, Ordering::Relaxed);
        if let Some(p) = self.party(own_pid()) {
            p.arrived.fetch_add(1, Ordering::Relaxed);
        }
        self.complete_if_all_arrived()
    }

    /// Completes the barrier if every other party is waiting; never waits.
    pub(crate) fn try_sync(&self, home: &AtomicU32) -> bool {
        let Some(_g) = self.lock() else { return false };
        self.adopt(home);
        self.reap_dead();
        let c = self.cell();
        if c.arrived.load(Ordering::Relaxed) + 1 < c.enrolled.load(Ordering::Relaxed) {
            return false;
        }
        self.arrive()
    }

    /// Arrives and waits until the barrier completes (`true`) or `until` passes
    /// (`false`, and the arrival is withdrawn: the barrier never completed with it).
    pub(crate) fn sync(&self, home: &AtomicU32, until: Option<Instant>) -> bool {
        let generation = {
            let Some(_g) = self.lock() else { return false };
            self.adopt(home);
            self.reap_dead();
            if self.arrive() {
                return true;
            }
            self.cell().generation.load(Ordering::Acquire)
        };
        let word = &self.cell().generation;
        loop {
            let check = Instant::now() + DEAD_CHECK;
            let wake = until.map_or(check, |u| u.min(check));
            futex::wait_until(word, generation, wake);
            if word.load(Ordering::Acquire) != generation {
                return true;
            }
            let Some(_g) = self.lock() else { return false };
            if word.load(Ordering::Acquire) != generation {
                return true;
            }
            if until.is_some_and(|u| Instant::now() >= u) {
                self.withdraw();
                return false;
            }
            self.reap_dead();
            if self.complete_if_all_arrived() {
                return true;
            }
        }
    }

    /// Takes back this process's arrival (under the lock).
    fn withdraw(&self) {
        lower(&self.cell().arrived, 1);
        if let Some(p) = self.party(own_pid()) {
            lower(&p.arrived, 1);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::thread;

    #[test]
    fn parties_pass_together_generation_after_generation() {
        let b = SharedBarrier::create(3).unwrap();
        let passed = Arc::new(AtomicU32::new(0));
        let parties: Vec<_> = (0..3)
            .map(|_| {
                let (b, passed) = (b.clone(), passed.clone());
                thread::spawn(move || {
                    let home = AtomicU32::new(0);
                    for round in 0..200 {
                        assert!(b.sync(&home, None));
                        passed.fetch_add(1, Ordering::SeqCst);
                        // Nobody can be a whole round ahead: the barrier holds them.
                        let seen = passed.load(Ordering::SeqCst);
                        assert!(seen > round * 3 && seen <= (round + 2) * 3, "{seen}");
                    }
                })
            })
            .collect();
        for p in parties {
            p.join().unwrap();
        }
        assert_eq!(passed.load(Ordering::SeqCst), 600);
    }

    #[test]
    fn a_timed_out_sync_withdraws_and_the_barrier_waits_for_it_again() {
        let b = SharedBarrier::create(2).unwrap();
        let home = AtomicU32::new(0);
        let soon = Instant::now() + Duration::from_millis(20);
        assert!(!b.sync(&home, Some(soon)), "alone, it times out");
        // Withdrawn: the other party alone does not complete it.
        assert!(!b.try_sync(&home));
        let other = {
            let b = b.clone();
            thread::spawn(move || b.sync(&AtomicU32::new(0), None))
        };
        while b.cell().arrived.load(Ordering::SeqCst) == 0 {
            thread::yield_now();
        }
        assert!(b.try_sync(&home), "the other waits: a try completes it");
        assert!(other.join().unwrap());
    }

    #[test]
    fn resigning_releases_the_waiters() {
        let b = SharedBarrier::create(3).unwrap();
        let waiter = {
            let b = b.clone();
            thread::spawn(move || b.sync(&AtomicU32::new(0), None))
        };
        while b.cell().arrived.load(Ordering::SeqCst) == 0 {
            thread::yield_now();
        }
        let home = AtomicU32::new(0);
        b.resign(&home);
        assert_eq!(b.enrolled(), 2);
        b.resign(&home); // the waiter is the only party left, and it has arrived
        assert!(waiter.join().unwrap());
    }

    #[test]
    fn the_parties_of_a_dead_process_are_resigned() {
        let b = SharedBarrier::create(1).unwrap();
        // A row for a process that does not exist (pid beyond pid_max): enrolled, never
        // arriving.
        {
            let _g = b.lock().unwrap();
            let p = b.party(u32::MAX - 1).unwrap();
            p.enrolled.store(2, Ordering::Relaxed);
            b.cell().enrolled.fetch_add(2, Ordering::Relaxed);
        }
        assert_eq!(b.enrolled(), 3);
        let started = Instant::now();
        let home = AtomicU32::new(0);
        assert!(b.sync(&home, Some(Instant::now() + Duration::from_secs(10))));
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(b.enrolled(), 1);
    }
}
