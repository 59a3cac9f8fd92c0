//! The green executor: processes placed [`Green`](crate::Placement::Green) run as
//! stackful coroutines, many per OS thread.
//!
//! Layer: beside `parallel` (which starts it), above `process` and `park`. It plugs
//! into the park seam ([`crate::executor::Parker`]): channel and alt code do not know
//! it exists.
//!
//! # Design
//!
//! - **M:N.** A network's green processes run on one worker thread per core
//!   (`std::thread::available_parallelism`, or
//!   [`Parallel::green_workers`](crate::Parallel::green_workers)), started by
//!   `Parallel::run` and ended when the last green process ends. Each process is a
//!   `corosensei` coroutine on a stack of its own.
//! - **Work stealing of processes that have not started.** They wait in a
//!   `crossbeam-deque` injector; an idle worker takes a batch into its own deque, and
//!   steals from the others'. A coroutine that has started stays on its worker for good:
//!   corosensei coroutines are `!Send` on purpose, since a process may hold thread-local
//!   references (std's, crossbeam-epoch's, parking_lot's) across a wait. A test shows
//!   that every process runs on the worker that started it.
//! - **Waiting.** Every worker installs [`GreenParker`](parker::GreenParker) with
//!   [`with_parker`](crate::executor::with_parker). A channel wait that must block calls
//!   it; it suspends the coroutine back to the worker loop, which runs another. The
//!   waker is the process's [`Task`](task::Task): a wake from the same worker puts it in
//!   the worker's LIFO slot (so a rendezvous between two green processes on one worker
//!   costs two coroutine switches and no system call); a wake from another thread puts
//!   it in the worker's inbox and unparks the worker if it sleeps. A wake that comes
//!   before the park makes the park return at once, as `Parker` requires. The green
//!   parker also tells the park layer not to spin before parking: the partner runs on
//!   this very thread, once we suspend.
//! - **Timers.** A timed park (a read with a timeout, an alt's timeout guard, a
//!   [`Timer::sleep`](crate::Timer::sleep)) records its deadline in its worker's timer
//!   heap and suspends; the worker wakes it when due, and sleeps no longer than its next
//!   timer. A timer never blocks a worker.
//! - **The process context** (poison seen, what it waits on, see `park::process`) is
//!   made current by the worker for each resume, so the poison rule and the deadlock
//!   check work as on threads. Panics are caught inside the coroutine by the same code
//!   that runs a thread process, and reported as `Failure::Panicked` naming it.
//! - **Stacks** ([`stack`]): 64 KiB by default
//!   ([`Parallel::green_stack`](crate::Parallel::green_stack)), or the process's own
//!   ([`ScopedProcess::green_stack`](crate::ScopedProcess::green_stack)), rounded up
//!   to a power of two: one pool per size class. Each stack has a guard page, and they
//!   are carved out of large mappings with `madvise(MADV_GUARD_INSTALL)` so that
//!   100,000 processes do not hit `vm.max_map_count`; they are reused by processes that
//!   start later, and a pool that shrinks after a peak gives wholly idle slabs back to
//!   the OS (`MADV_DONTNEED`) beyond two slabs' worth of idle stacks.
//! - **Stack overflow** ([`overflow`]): touching a guard page raises `SIGSEGV`; a
//!   handler (installed by the first worker, run on each worker's alternate signal
//!   stack) writes ``csp: green process `NAME` overflowed its stack of N KiB`` to stderr
//!   and lets the signal kill the program. Other faults go to the handler installed
//!   before it (std's, for threads' own overflows).
//!
//! # What blocks a worker
//!
//! A green process shares its OS thread with every other process of its worker, and
//! a call that blocks the OS thread blocks them all meanwhile:
//!
//! - **Do not block:** channel operations (read, write, their timeouts), [`Alt`](crate::Alt)
//!   and its timeout guards, [`Timer::sleep`](crate::Timer::sleep) and `sleep_until`, barriers, and
//!   everything built on them (the components, `Farm`'s channels): they suspend the
//!   coroutine instead.
//! - **Block the worker:** `std::thread::sleep`, blocking I/O (files, sockets, stdin,
//!   `std::process::Command::output`), waiting on a `std::sync::Mutex` or `Condvar`
//!   another thread holds long, `JoinHandle::join`, `std::sync::mpsc` receives, a
//!   nested `Parallel::run` or `Sequence::run` (it waits for its own processes), and
//!   CPU-bound loops that never wait (they do not block, but nothing else on the
//!   worker runs until they do).
//!
//! Wrap such calls in [`block_in_place`]: the work runs on a helper thread while the
//! process waits suspended, and the worker runs its other processes. Or run that
//! process on a thread.
//!
//! # Limits
//!
//! In a network that also forks, green processes run on threads (a channel shared with
//! another OS process waits on a futex of its own), so a forked child cannot run its
//! processes green yet. A stack overflow is caught by the guard page only if a frame
//! touches it (Rust's stack probes see to that for Rust code; a foreign function with
//! a frame larger than a page could skip it).

mod block;
mod overflow;
mod parker;
mod stack;
mod task;
mod worker;

use std::io;
use std::num::NonZeroUsize;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::thread::{Scope, ScopedJoinHandle};

use crossbeam_deque::{Injector, Worker};

use crate::park::process::ProcessContext;
use stack::StackPools;
use task::Home;

pub use block::block_in_place;

/// The default usable size of a green process's stack.
pub(crate) const DEFAULT_STACK_SIZE: usize = 64 * 1024;

/// How a network's green processes are run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Config {
    /// Worker threads; `None`: one per core.
    pub(crate) workers: Option<NonZeroUsize>,
    /// Usable bytes of the stack of each process that asks for no size of its own.
    pub(crate) stack_size: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            workers: None,
            stack_size: DEFAULT_STACK_SIZE,
        }
    }
}

/// One green process to run: its name (for the stack overflow report), the usable
/// bytes its stack needs, its context (made current whenever it runs), and its body,
/// called with `None` to run it, or with the error that kept it from starting.
pub(crate) struct Job<'a> {
    pub(crate) name: String,
    pub(crate) stack_size: usize,
    pub(crate) context: Arc<ProcessContext>,
    pub(crate) body: Box<dyn FnOnce(Option<io::Error>) + Send + 'a>,
}

/// Starts the workers that run `jobs`, on threads of `scope`; each ends when every job
/// has. With no worker thread at all (the OS refused), every job is refused at once.
pub(crate) fn start<'scope, 'a: 'scope>(
    scope: &'scope Scope<'scope, '_>,
    jobs: Vec<Job<'a>>,
    config: Config,
) -> Vec<ScopedJoinHandle<'scope, ()>> {
    if jobs.is_empty() {
        return Vec::new();
    }
    let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let workers = config
        .workers
        .map_or(cores, NonZeroUsize::get)
        .min(jobs.len());
    let locals: Vec<Worker<Job<'a>>> = (0..workers).map(|_| Worker::new_fifo()).collect();
    let shared = Arc::new(worker::Shared {
        jobs: Injector::new(),
        stealers: locals.iter().map(Worker::stealer).collect(),
        homes: (0..workers).map(|_| Home::new()).collect(),
        remaining: AtomicUsize::new(jobs.len()),
        stacks: StackPools::for_sizes(jobs.iter().map(|j| j.stack_size)),
    });
    for job in jobs {
        shared.jobs.push(job);
    }
    let mut handles = Vec::new();
    let mut refused = None;
    for (index, local) in locals.into_iter().enumerate() {
        let mine = shared.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("csp-green-{index}"))
            .spawn_scoped(scope, move || {
                // Without an alternate stack, an overflow still kills the program,
                // only unnamed.
                let _alt_stack = overflow::on_worker_thread();
                worker::run(&mine, index, local)
            });
        match spawned {
            Ok(handle) => handles.push(handle),
            Err(error) => refused = Some(error),
        }
    }
    if handles.is_empty() {
        let error = refused.unwrap_or_else(|| io::Error::other("no green worker"));
        while let Some(job) = steal(&shared.jobs) {
            (job.body)(Some(io::Error::new(error.kind(), error.to_string())));
        }
    }
    handles
}

fn steal<T>(injector: &Injector<T>) -> Option<T> {
    loop {
        match injector.steal() {
            crossbeam_deque::Steal::Success(t) => return Some(t),
            crossbeam_deque::Steal::Empty => return None,
            crossbeam_deque::Steal::Retry => continue,
        }
    }
}
