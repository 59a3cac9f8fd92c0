//! The green executor's [`Parker`]: a wait suspends the running coroutine back to its
//! worker, and its waker is the process's [`Task`].
//!
//! One parker serves every coroutine of a worker: it finds the running one through a
//! thread-local pointer to its [`Current`], which the worker sets for exactly the time
//! it resumes that coroutine.

use std::cell::Cell;
use std::sync::Arc;
use std::task::{Wake, Waker};
use std::thread::Thread;
use std::time::{Duration, Instant};

use corosensei::Yielder;

use super::task::Task;
use crate::executor::Parker;

/// Why a coroutine handed control back to its worker.
pub(super) enum Suspend {
    /// To wait until woken, or until the deadline if any.
    Park(Option<Instant>),
}

pub(super) type GreenYielder = Yielder<(), Suspend>;

/// The coroutine a worker is running: its task, and how it suspends.
pub(super) struct Current {
    pub(super) task: Arc<Task>,
    /// The coroutine's yielder, on the coroutine's own stack; set by the coroutine as
    /// it starts (null until then).
    yielder: Cell<*const GreenYielder>,
}

impl Current {
    pub(super) fn new(task: Arc<Task>) -> Current {
        Current {
            task,
            yielder: Cell::new(std::ptr::null()),
        }
    }
}

thread_local! {
    static CURRENT: Cell<*const Current> = const { Cell::new(std::ptr::null()) };
}

/// Makes `current` the running coroutine of this thread (null: none); gives the
/// previous one. The worker keeps `*current` in place and alive while it is set.
pub(super) fn set_current(current: *const Current) -> *const Current {
    CURRENT.with(|c| c.replace(current))
}

fn with_current<R>(f: impl FnOnce(&Current) -> R) -> Option<R> {
    let current = CURRENT.try_with(Cell::get).ok()?;
    // SAFETY: a non-null pointer here was set by `set_current` from the worker's boxed
    // `Current` of the coroutine it is resuming, and is reset before that resume
    // returns; the box is dropped only after the coroutine has ended. So while code
    // on this thread sees it, it points to a live `Current`, which is only ever
    // shared (`Cell` fields, read and written on this thread alone).
    unsafe { current.as_ref() }.map(f)
}

/// Called by a coroutine as it starts, with its yielder.
pub(super) fn enter_coroutine(yielder: &GreenYielder) {
    with_current(|c| c.yielder.set(yielder));
}

/// The parker every worker installs (see [`crate::executor::with_parker`]).
pub(super) struct GreenParker;

impl Parker for GreenParker {
    fn park(&self, timeout: Option<Duration>) {
        let deadline = timeout.map(|t| Instant::now() + t);
        let suspended = with_current(|c| {
            // A wake that came since the last park is not looked for here: the worker
            // finds it as it parks the suspended task (`Task::park`) and resumes it at
            // once. That costs a switch in the rare case and saves a CAS in every wait.
            let yielder = c.yielder.get();
            // SAFETY: `yielder` was set by this very coroutine as it started (`c` is
            // the running coroutine's `Current`, and `park` runs on its stack), and a
            // `Yielder` lives at the base of its coroutine's stack for as long as the
            // coroutine runs. Suspending hands control to the worker, which keeps the
            // coroutine (and `c`) alive until it resumes or ends it.
            if let Some(yielder) = unsafe { yielder.as_ref() } {
                yielder.suspend(Suspend::Park(deadline));
            }
        });
        if suspended.is_none() {
            // Not inside a coroutine (the worker's own code never waits; this is for
            // robustness): block the thread as a thread process would.
            match timeout {
                Some(t) => std::thread::park_timeout(t),
                None => std::thread::park(),
            }
        }
    }

    fn waker(&self) -> Waker {
        with_current(|c| Waker::from(c.task.clone()))
            .unwrap_or_else(|| Waker::from(Arc::new(ThreadWaker(std::thread::current()))))
    }

    fn spins(&self) -> bool {
        // The partner of a wait usually runs on this very thread, after we suspend.
        false
    }
}

/// Wakes an OS thread (the fallback outside a coroutine).
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}
