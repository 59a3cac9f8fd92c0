//! A started green process as other threads see it: a [`Task`] that anyone may wake
//! (it is the process's `Waker`), and the [`Home`] worker it lives on.
//!
//! A task is in one of five states. Only its own worker moves it out of `QUEUED`
//! (to run it) and out of `RUNNING` (when it suspends or ends); a wake moves it from
//! `PARKED` to `QUEUED` (and queues it), or from `RUNNING` to `NOTIFIED` (a wake before
//! the park: the next park returns at once, as `Parker` requires).

use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::Wake;
use std::thread::Thread;

use crossbeam_deque::Injector;

/// Being resumed by its worker.
const RUNNING: u8 = 0;
/// Running, and woken since it last parked: its next park returns at once.
const NOTIFIED: u8 = 1;
/// Suspended until woken.
const PARKED: u8 = 2;
/// In a run queue of its worker.
const QUEUED: u8 = 3;
/// Ended: wakes are ignored.
const DONE: u8 = 4;

/// What other threads need of a worker: where to put the tasks they wake, and how to
/// wake the worker if it sleeps.
pub(super) struct Home {
    /// This worker's tasks woken by other threads.
    inbox: Injector<Arc<Task>>,
    /// Set while the worker's OS thread is parked (or about to park).
    sleeping: AtomicBool,
    thread: OnceLock<Thread>,
}

impl Home {
    pub(super) fn new() -> Arc<Home> {
        Arc::new(Home {
            inbox: Injector::new(),
            sleeping: AtomicBool::new(false),
            thread: OnceLock::new(),
        })
    }

    /// Called once by the worker's own thread before it runs anything.
    pub(super) fn settle_here(&self) {
        let _ = self.thread.set(std::thread::current());
    }

    /// Queues a task woken by another thread, and wakes the worker if it sleeps.
    pub(super) fn push_remote(&self, task: Arc<Task>) {
        self.inbox.push(task);
        // Pairs with the fence in `prepare_sleep`: either the worker sees the task,
        // or this sees `sleeping` and unparks it.
        fence(Ordering::SeqCst);
        self.wake_worker_if_sleeping();
    }

    /// The next task other threads woke, if any.
    pub(super) fn pop_remote(&self) -> Option<Arc<Task>> {
        loop {
            match self.inbox.steal() {
                crossbeam_deque::Steal::Success(task) => return Some(task),
                crossbeam_deque::Steal::Empty => return None,
                crossbeam_deque::Steal::Retry => continue,
            }
        }
    }

    pub(super) fn inbox_is_empty(&self) -> bool {
        self.inbox.is_empty()
    }

    /// Marks the worker as going to sleep; `false` if a wake arrived meanwhile (it
    /// must look again instead).
    pub(super) fn prepare_sleep(&self) -> bool {
        self.sleeping.store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if self.inbox.is_empty() {
            return true;
        }
        self.sleeping.store(false, Ordering::Relaxed);
        false
    }

    pub(super) fn end_sleep(&self) {
        self.sleeping.store(false, Ordering::Relaxed);
    }

    pub(super) fn wake_worker_if_sleeping(&self) {
        if self.sleeping.swap(false, Ordering::SeqCst) {
            self.wake_worker();
        }
    }

    /// Unparks the worker's thread whatever it is doing (its loop looks again).
    pub(super) fn wake_worker(&self) {
        if let Some(thread) = self.thread.get() {
            thread.unpark();
        }
    }
}

/// One started green process: its state, where it lives, its timer.
pub(super) struct Task {
    state: AtomicU8,
    /// Its index in its worker's table of started coroutines.
    pub(super) slot: usize,
    pub(super) home: Arc<Home>,
    /// The id of the timer of its current timed park (0: none). A timer that fires
    /// with another id belongs to a park that is over, and wakes nobody.
    pub(super) timer: AtomicU64,
}

impl Task {
    /// A task being started (so `RUNNING`) in `slot` of the worker `home`.
    pub(super) fn new(slot: usize, home: Arc<Home>) -> Arc<Task> {
        Arc::new(Task {
            state: AtomicU8::new(RUNNING),
            slot,
            home,
            timer: AtomicU64::new(0),
        })
    }

    /// Consumes a wake that came since the task's last park, if any. (The green parker
    /// no longer asks: the worker's `park` finds such a wake.)
    #[cfg(test)]
    pub(super) fn take_notification(&self) -> bool {
        self.state
            .compare_exchange(NOTIFIED, RUNNING, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Called by the worker once the task has suspended to park: `true` if it is
    /// parked now, `false` if a wake came since it looked (it is `QUEUED` then, and
    /// the worker queues it itself).
    pub(super) fn park(&self) -> bool {
        match self
            .state
            .compare_exchange(RUNNING, PARKED, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(_) => {
                // Only a wake moves a running task, and only to NOTIFIED. A swap, not a
                // store, so that later wakes' writes stay ordered (see `set_running`).
                self.state.swap(QUEUED, Ordering::AcqRel);
                false
            }
        }
    }

    /// Called by the worker as it takes the task from a run queue. A read-modify-write,
    /// as every wake is: a waker that finds the task `QUEUED` comes before this in the
    /// state's modification order, and so does what it published before waking (the
    /// task will see it); one that comes after finds it `RUNNING`. With a plain store
    /// both could miss the other (a store-buffer race): a lost wake.
    pub(super) fn set_running(&self) {
        self.state.swap(RUNNING, Ordering::AcqRel);
    }

    /// Called by the worker when the task's coroutine has returned.
    pub(super) fn finish(&self) {
        self.state.store(DONE, Ordering::Release);
    }
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            // Even a wake that changes nothing writes the state (see `set_running`).
            let next = match state {
                RUNNING | NOTIFIED => NOTIFIED,
                PARKED => QUEUED,
                QUEUED => QUEUED,
                _ => return,
            };
            match self
                .state
                .compare_exchange(state, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) if state == PARKED => break,
                Ok(_) => return,
                Err(now) => state = now,
            }
        }
        super::worker::schedule(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wake_before_the_park_makes_the_park_return_at_once() {
        let task = Task::new(0, Home::new());
        assert!(!task.take_notification(), "no wake yet");
        // A running task that is woken: nothing is queued, the token is kept.
        task.clone().wake();
        assert!(task.take_notification());
        assert!(!task.take_notification(), "one wake, one early return");
    }

    #[test]
    fn a_wake_between_suspend_and_park_requeues_the_task() {
        let task = Task::new(0, Home::new());
        task.wake_by_ref();
        // The worker finds the wake as it parks the suspended task.
        assert!(!task.park());
        task.set_running();
        assert!(task.park(), "parked now: no wake pending");
    }

    #[test]
    fn a_parked_task_woken_from_another_thread_lands_in_its_inbox() {
        let home = Home::new();
        let task = Task::new(7, home.clone());
        assert!(task.park());
        std::thread::scope(|s| {
            s.spawn(|| {
                task.wake_by_ref();
                task.wake_by_ref(); // a second wake of a queued task queues nothing
            });
        });
        let queued = home.pop_remote().expect("queued once");
        assert_eq!(queued.slot, 7);
        assert!(home.pop_remote().is_none());
        task.finish();
        task.wake_by_ref();
        assert!(home.pop_remote().is_none(), "an ended task is never queued");
    }
}
