//! One worker: an OS thread that runs green processes as coroutines, one at a time.
//!
//! Its loop: fire the timers that are due, resume a woken task (the LIFO slot first,
//! then its ready queue, then what other threads woke), else start a process nobody
//! has started (its own deque, the network's injector, another worker's deque), else
//! sleep until woken or until its next timer.

use std::cell::{Cell, RefCell};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use corosensei::{Coroutine, CoroutineResult};
use crossbeam_deque::{Injector, Steal, Stealer, Worker};

use super::overflow::{self, Frame};
use super::parker::{self, Current, GreenParker, GreenYielder, Suspend};
use super::stack::{PooledStack, StackPools};
use super::task::{Home, Task};
use super::Job;
use crate::executor::with_parker;
use crate::park::process::{self, ProcessContext};

/// Tasks taken from the LIFO slot in a row before the ready queue gets a turn: two
/// processes passing a value back and forth must not starve the others.
const LIFO_STREAK: u32 = 32;
/// Busy-spin steps of an idle worker before it parks (see `wake_is_near`).
const IDLE_SPIN_STEPS: usize = 8;
/// Every this many picks, the inbox (tasks woken by other threads) goes first.
const INBOX_EVERY: u32 = 61;

/// What the workers of one network share.
pub(super) struct Shared<'a> {
    /// Processes not started yet, any worker may take them.
    pub(super) jobs: Injector<Job<'a>>,
    pub(super) stealers: Vec<Stealer<Job<'a>>>,
    pub(super) homes: Vec<Arc<Home>>,
    /// Processes not ended yet; the workers stop at zero.
    pub(super) remaining: AtomicUsize,
    pub(super) stacks: StackPools,
}

impl Shared<'_> {
    fn job_done(&self) {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            for home in &self.homes {
                home.wake_worker();
            }
        }
    }
}

/// Tasks of this thread's worker that are ready to run.
#[derive(Default)]
struct Ready {
    /// The task woken last by a task of this worker: it runs next.
    lifo: Option<Arc<Task>>,
    queue: VecDeque<Arc<Task>>,
}

thread_local! {
    /// The worker this thread runs, if any.
    static HERE: Cell<*const Home> = const { Cell::new(std::ptr::null()) };
    static READY: RefCell<Ready> = RefCell::new(Ready::default());
}

/// Puts a woken task where its worker will run it: this thread's LIFO slot if this
/// thread is its worker, else its worker's inbox.
pub(super) fn schedule(task: Arc<Task>) {
    let here = HERE.try_with(Cell::get).unwrap_or(std::ptr::null());
    if std::ptr::eq(here, Arc::as_ptr(&task.home)) {
        push_local(task);
    } else {
        let home = task.home.clone();
        home.push_remote(task);
    }
}

fn push_local(task: Arc<Task>) {
    READY.with(|ready| {
        let mut ready = ready.borrow_mut();
        if let Some(displaced) = ready.lifo.replace(task) {
            ready.queue.push_back(displaced);
        }
    });
}

/// A started process: its coroutine and what the worker sets while it runs.
struct Running {
    coroutine: Coroutine<(), Suspend, (), PooledStack>,
    /// Boxed: the thread-local pointer to it must stay valid while the table grows.
    current: Box<Current>,
    context: Arc<ProcessContext>,
    /// What the stack overflow handler reports; points into `_name`.
    frame: Frame,
    _name: String,
}

/// A pending timed park.
struct Timer {
    at: Instant,
    id: u64,
    task: Arc<Task>,
}

impl PartialEq for Timer {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.id) == (other.at, other.id)
    }
}
impl Eq for Timer {}
impl PartialOrd for Timer {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Timer {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.id).cmp(&(other.at, other.id))
    }
}

/// Runs worker `index` of `shared` on the calling thread until every process of the
/// network has ended.
pub(super) fn run<'a>(shared: &Shared<'a>, index: usize, local: Worker<Job<'a>>) {
    let home = shared.homes[index].clone();
    home.settle_here();
    let previous = HERE.with(|h| h.replace(Arc::as_ptr(&home)));
    let mut worker = WorkerLoop {
        shared,
        index,
        local,
        tasks: Vec::new(),
        free_slots: Vec::new(),
        timers: BinaryHeap::new(),
        next_timer: 1,
        lifo_streak: 0,
        picks: 0,
    };
    with_parker(Arc::new(GreenParker), || worker.run());
    // Every coroutine has ended (or, if the loop unwound, is dropped here, before the
    // scope of the processes' borrows ends: see `start`).
    drop(worker);
    HERE.with(|h| h.set(previous));
}

struct WorkerLoop<'s, 'a> {
    shared: &'s Shared<'a>,
    index: usize,
    local: Worker<Job<'a>>,
    tasks: Vec<Option<Running>>,
    free_slots: Vec<usize>,
    timers: BinaryHeap<Reverse<Timer>>,
    next_timer: u64,
    lifo_streak: u32,
    picks: u32,
}

impl<'a> WorkerLoop<'_, 'a> {
    fn run(&mut self) {
        loop {
            self.fire_timers();
            if let Some(task) = self.next_ready() {
                self.resume(task);
            } else if let Some(job) = self.next_job() {
                self.start(job);
            } else if self.shared.remaining.load(Ordering::Acquire) == 0 {
                return;
            } else {
                self.sleep();
            }
        }
    }

    fn home(&self) -> &Home {
        &self.shared.homes[self.index]
    }

    fn next_ready(&mut self) -> Option<Arc<Task>> {
        self.picks = self.picks.wrapping_add(1);
        if self.picks % INBOX_EVERY == 0 {
            if let Some(task) = self.home().pop_remote() {
                return Some(task);
            }
        }
        let streak = &mut self.lifo_streak;
        let local = READY.with(|ready| {
            let mut ready = ready.borrow_mut();
            if *streak < LIFO_STREAK {
                if let Some(task) = ready.lifo.take() {
                    *streak += 1;
                    return Some(task);
                }
            } else if let Some(task) = ready.lifo.take() {
                ready.queue.push_back(task);
            }
            *streak = 0;
            ready.queue.pop_front()
        });
        local.or_else(|| self.home().pop_remote())
    }

    /// A process nobody has started: from this worker's deque, the injector, or
    /// stolen from another worker's deque.
    fn next_job(&mut self) -> Option<Job<'a>> {
        if let Some(job) = self.local.pop() {
            return Some(job);
        }
        loop {
            let mut retry = false;
            match self.shared.jobs.steal_batch_and_pop(&self.local) {
                Steal::Success(job) => return Some(job),
                Steal::Retry => retry = true,
                Steal::Empty => {}
            }
            for (i, stealer) in self.shared.stealers.iter().enumerate() {
                if i == self.index {
                    continue;
                }
                match stealer.steal() {
                    Steal::Success(job) => return Some(job),
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
                }
            }
            if !retry {
                return None;
            }
        }
    }

    /// Starts `job` as a coroutine on a pooled stack and runs it until it first
    /// suspends. Without a stack, the process fails to start (and is reported so).
    fn start(&mut self, job: Job<'a>) {
        let stack = match self.shared.stacks.take(job.stack_size) {
            Ok(stack) => stack,
            Err(error) => {
                (job.body)(Some(error));
                self.shared.job_done();
                return;
            }
        };
        let slot = self.free_slots.pop().unwrap_or_else(|| {
            self.tasks.push(None);
            self.tasks.len() - 1
        });
        let task = Task::new(slot, self.shared.homes[self.index].clone());
        let frame = Frame::new(stack.guard(), stack.usable(), &job.name);
        // SAFETY: only the lifetime changes (the same fat pointer). The body may
        // borrow for the network's `'a`; the coroutine that owns it lives in this
        // worker's table, and `run` drops the table before returning, whether every
        // coroutine ended or the loop unwound (dropping a coroutine unwinds its stack).
        // `run` is called on a thread scoped within `'a` (see `super::start`), so the
        // body never outlives what it borrows.
        let body: Box<dyn FnOnce(Option<io::Error>) + Send + 'static> =
            unsafe { std::mem::transmute(job.body) };
        let coroutine = Coroutine::with_stack(stack, move |yielder: &GreenYielder, ()| {
            parker::enter_coroutine(yielder);
            body(None);
        });
        self.tasks[slot] = Some(Running {
            coroutine,
            current: Box::new(Current::new(task.clone())),
            context: job.context,
            frame,
            _name: job.name,
        });
        self.resume(task);
    }

    /// Runs `task` until it parks or ends.
    fn resume(&mut self, task: Arc<Task>) {
        task.set_running();
        let slot = task.slot;
        let Some(running) = self.tasks.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let previous = parker::set_current(&*running.current);
        let result = {
            let _entered = process::enter(running.context.clone());
            let _watched = overflow::watch(running.frame);
            running.coroutine.resume(())
        };
        parker::set_current(previous);
        match result {
            CoroutineResult::Yield(Suspend::Park(deadline)) => {
                let timer = match deadline {
                    Some(at) => self.add_timer(at, &task),
                    None => 0,
                };
                task.timer.store(timer, Ordering::Relaxed);
                if !task.park() {
                    push_local(task);
                }
            }
            CoroutineResult::Return(()) => {
                task.finish();
                self.tasks[slot] = None;
                self.free_slots.push(slot);
                self.shared.job_done();
            }
        }
    }

    fn add_timer(&mut self, at: Instant, task: &Arc<Task>) -> u64 {
        let id = self.next_timer;
        self.next_timer += 1;
        self.timers.push(Reverse(Timer {
            at,
            id,
            task: task.clone(),
        }));
        id
    }

    /// Wakes the tasks whose timed park is due (a timer of a park that is over wakes
    /// nobody).
    fn fire_timers(&mut self) {
        if self.timers.is_empty() {
            return;
        }
        let now = Instant::now();
        while let Some(Reverse(first)) = self.timers.peek() {
            if first.at > now {
                break;
            }
            if let Some(Reverse(timer)) = self.timers.pop() {
                if timer.task.timer.load(Ordering::Relaxed) == timer.id {
                    std::task::Wake::wake_by_ref(&timer.task);
                }
            }
        }
    }

    /// Spins a moment on the inbox before the worker parks its OS thread: a partner on
    /// another core often answers within a microsecond, and catching its wake saves two
    /// system calls (as the park layer's spin does for thread processes).
    fn wake_is_near(&self) -> bool {
        let backoff = crossbeam_utils::Backoff::new();
        for _ in 0..IDLE_SPIN_STEPS {
            if !self.home().inbox_is_empty() {
                return true;
            }
            backoff.spin();
        }
        false
    }

    /// Parks this OS thread until another thread wakes one of its tasks, its next timer
    /// is due, or the network ends.
    fn sleep(&mut self) {
        let stealable =
            !self.shared.jobs.is_empty() || self.shared.stealers.iter().any(|s| !s.is_empty());
        if stealable || self.wake_is_near() || !self.home().prepare_sleep() {
            return;
        }
        if self.shared.remaining.load(Ordering::Acquire) != 0 {
            match self.timers.peek() {
                Some(Reverse(first)) => {
                    let now = Instant::now();
                    if first.at > now {
                        std::thread::park_timeout(first.at - now);
                    }
                }
                None => std::thread::park(),
            }
        }
        self.home().end_sleep();
    }
}
