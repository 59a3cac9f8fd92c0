//! The supervisor: starts one thread per process, reacts to each ending as it happens,
//! and watches for a network in which every process waits for another (deadlock).
//!
//! Uses the process layer (what a process is, how it ends) and the park layer's
//! per-process contexts (what each process waits on); nothing above.

use std::collections::HashMap;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use super::error::{flatten_into, Deadlock, NetworkError, Operation, Waiting};
use crate::channel::Side;
use crate::green;
use crate::park::process::ProcessContext;
use crate::park::{Context, WaitOp};
use crate::process::Failure;
use crate::process::{Exit, RecordedEnd, Runnable, ScopedProcess};

/// How often the supervisor looks for a deadlock while processes run.
const WATCH_INTERVAL: Duration = Duration::from_millis(20);

/// Whether every open end of every channel the processes use is held by one of them:
/// then only they can wake each other, and a deadlock among them is final.
pub(super) fn closed_world<R>(procs: &[ScopedProcess<'_, R>]) -> bool {
    // Per channel: how many of its read and write ends the processes hold.
    let mut held: HashMap<u64, ([usize; 2], &RecordedEnd)> = HashMap::new();
    for end in procs.iter().flat_map(|p| p.ends()) {
        held.entry(end.channel_id()).or_insert(([0, 0], end)).0[end.side() as usize] += 1;
    }
    held.values().all(|(count, end)| {
        [Side::Read, Side::Write]
            .into_iter()
            .all(|side| end.channel.open_ends(side) <= count[side as usize])
    })
}

/// Where the completion loop hears of each ending: (process index, how it ended).
pub(super) type Done<R> = mpsc::Sender<(usize, Exit<R>)>;

/// Reports the endings of processes run elsewhere (a forked child) to the loop; runs
/// on a thread of its own.
pub(super) type Watcher<'a, R> = Box<dyn FnOnce(Done<R>) + Send + 'a>;

/// One process of a supervised network.
pub(super) enum Slot<'a, R> {
    /// Runs on a thread the supervisor starts.
    Thread(String, Vec<RecordedEnd>, Runnable<'a, R>),
    /// Runs as a coroutine of the network's green executor, on a stack of its own
    /// size if it asked for one.
    Green(String, Vec<RecordedEnd>, Runnable<'a, R>, Option<usize>),
    /// Runs elsewhere; a [`Watcher`] reports its ending.
    Elsewhere(String, Vec<RecordedEnd>),
}

/// Runs `procs`, one OS thread each or green as placed (`green` says how), and
/// collects their endings as they come; with `watch`, also ends a deadlocked network
/// (see `Parallel::detect_deadlock`).
pub(super) fn supervise<'a, R: Send + 'a>(
    procs: Vec<ScopedProcess<'a, R>>,
    watch: bool,
    green: green::Config,
) -> Result<Vec<Option<R>>, NetworkError> {
    let slots = procs
        .into_iter()
        .map(|p| {
            let is_green = p.placement() == &crate::Placement::Green;
            let stack = p.green_stack_request();
            let (name, ends, runnable) = p.into_parts();
            if is_green {
                Slot::Green(name, ends, runnable, stack)
            } else {
                Slot::Thread(name, ends, runnable)
            }
        })
        .collect();
    collect(slots, Vec::new(), watch, green, ())
}

/// [`run_network`], gathering the results in order and every failure.
pub(super) fn collect<'a, R: Send + 'a>(
    slots: Vec<Slot<'a, R>>,
    watchers: Vec<Watcher<'a, R>>,
    watch: bool,
    green: green::Config,
    guard: impl Send,
) -> Result<Vec<Option<R>>, NetworkError> {
    let mut results: Vec<Option<R>> = slots.iter().map(|_| None).collect();
    let mut failures = Vec::new();
    let deadlock = run_network(slots, watchers, watch, green, guard, |i, exit| match exit {
        Exit::Done(r) => results[i] = Some(r),
        Exit::Stopped => {}
        Exit::Failed(f) => flatten_into(f, &mut failures),
    });
    match deadlock {
        Some(d) => Err(NetworkError::Deadlock(d)),
        None if failures.is_empty() => Ok(results),
        None => Err(NetworkError::Failed(failures)),
    }
}

/// Starts the thread slots, the green executor of the green slots (configured by
/// `green`) and the watchers, and hands each ending to `on_exit` as it comes (on the
/// calling thread); returns the deadlock that ended the network, if `watch` found one. `guard` is dropped before the threads are joined, also when
/// this unwinds: the fork runtime's guard kills its children there, so the watchers
/// waiting for them can end.
pub(super) fn run_network<'a, R: Send + 'a>(
    slots: Vec<Slot<'a, R>>,
    watchers: Vec<Watcher<'a, R>>,
    watch: bool,
    green: green::Config,
    guard: impl Send,
    mut on_exit: impl FnMut(usize, Exit<R>),
) -> Option<Deadlock> {
    let mut deadlock = None;
    std::thread::scope(|scope| {
        let _guard = guard;
        let (done_tx, done_rx) = mpsc::channel::<(usize, Exit<R>)>();
        let mut network = Network::default();
        let mut threads = Vec::new();
        let mut green_jobs = Vec::new();
        for (i, slot) in slots.into_iter().enumerate() {
            let context = ProcessContext::new();
            let (name, ends, running) = match slot {
                Slot::Thread(name, ends, runnable) => {
                    let started = start_thread(scope, i, &name, runnable, &context, &done_tx);
                    let running = started.is_ok();
                    match started {
                        Ok(thread) => threads.push(thread),
                        Err(error) => {
                            ScopedProcess::<R>::poison_ends(&ends);
                            let process = name.clone();
                            on_exit(i, Exit::Failed(Failure::Start { process, error }));
                        }
                    }
                    (name, ends, running)
                }
                Slot::Green(name, ends, runnable, stack) => {
                    let stack = stack.unwrap_or(green.stack_size);
                    let job = green_job(i, &name, stack, &ends, runnable, &context, &done_tx);
                    green_jobs.push(job);
                    (name, ends, true)
                }
                Slot::Elsewhere(name, ends) => (name, ends, true),
            };
            network.add(name, ends, context, running);
        }
        threads.extend(green::start(scope, green_jobs, green));
        for watcher in watchers {
            threads.extend(start_watcher(scope, watcher, done_tx.clone()));
        }
        drop(done_tx);
        loop {
            let next = if watch && deadlock.is_none() {
                done_rx.recv_timeout(WATCH_INTERVAL)
            } else {
                done_rx.recv().map_err(|_| RecvTimeoutError::Disconnected)
            };
            match next {
                Ok((i, exit)) => {
                    network.finished(i);
                    on_exit(i, exit);
                }
                Err(RecvTimeoutError::Timeout) => {
                    deadlock = network.deadlock();
                    if deadlock.is_some() {
                        network.poison_all();
                    }
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        join_all(threads);
    });
    deadlock
}

/// Joins every thread the supervisor started. The scope alone would only wait for
/// their closures to return; an OS thread still exiting then would make a network run
/// right after look multi-threaded to the fork runtime. A panic (of the runtime: a
/// process's own panics are caught) goes on once all are joined.
fn join_all(threads: Vec<std::thread::ScopedJoinHandle<'_, ()>>) {
    let mut panicked = None;
    for thread in threads {
        if let Err(payload) = thread.join() {
            panicked.get_or_insert(payload);
        }
    }
    if let Some(payload) = panicked {
        std::panic::resume_unwind(payload);
    }
}

/// Starts process `i` on a thread named after it, as the process of `context`.
fn start_thread<'scope, 'a: 'scope, R: Send + 'a>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    i: usize,
    name: &str,
    runnable: Runnable<'a, R>,
    context: &Arc<ProcessContext>,
    done: &Done<R>,
) -> std::io::Result<std::thread::ScopedJoinHandle<'scope, ()>> {
    let done = done.clone();
    let context = context.clone();
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn_scoped(scope, move || {
            let exit = runnable.execute_in(context);
            // The supervisor outlives every process thread: the send cannot fail.
            let _ = done.send((i, exit));
        })
}

/// Process `i` (named `name`, on a stack of `stack_size` usable bytes) as a job of
/// the green executor, run as the process of `context`; a job the executor cannot
/// start (no stack, no worker) reports `Failure::Start`.
fn green_job<'a, R: Send + 'a>(
    i: usize,
    name: &str,
    stack_size: usize,
    ends: &[RecordedEnd],
    runnable: Runnable<'a, R>,
    context: &Arc<ProcessContext>,
    done: &Done<R>,
) -> green::Job<'a> {
    let done = done.clone();
    let (process, ends) = (name.to_string(), ends.to_vec());
    let job_context = context.clone();
    green::Job {
        name: name.to_string(),
        stack_size,
        context: context.clone(),
        body: Box::new(move |refused: Option<std::io::Error>| {
            let exit = match refused {
                None => runnable.execute_in(job_context),
                Some(error) => {
                    ScopedProcess::<R>::poison_ends(&ends);
                    Exit::Failed(Failure::Start { process, error })
                }
            };
            // The supervisor outlives every green worker: the send cannot fail.
            let _ = done.send((i, exit));
        }),
    }
}

/// Starts `watcher` on a thread of its own; if the OS refuses one, runs it here (its
/// child's endings are then queued until the completion loop starts: later, still
/// correct).
fn start_watcher<'scope, 'a: 'scope, R: Send + 'a>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    watcher: Watcher<'a, R>,
    done: Done<R>,
) -> Option<std::thread::ScopedJoinHandle<'scope, ()>> {
    let handoff = Arc::new(std::sync::Mutex::new(Some((watcher, done))));
    let theirs = handoff.clone();
    let spawned = std::thread::Builder::new()
        .name("csp-fork-watcher".into())
        .spawn_scoped(scope, move || {
            let taken = theirs.lock().map(|mut slot| slot.take());
            if let Ok(Some((watcher, done))) = taken {
                watcher(done);
            }
        });
    if spawned.is_err() {
        let taken = handoff.lock().map(|mut slot| slot.take());
        if let Ok(Some((watcher, done))) = taken {
            watcher(done);
        }
    }
    spawned.ok()
}

/// What the supervisor knows of each process while the network runs.
#[derive(Default)]
struct Network {
    processes: Vec<Watched>,
}

struct Watched {
    name: String,
    ends: Vec<RecordedEnd>,
    context: Arc<ProcessContext>,
    running: bool,
}

impl Network {
    fn add(
        &mut self,
        name: String,
        ends: Vec<RecordedEnd>,
        context: Arc<ProcessContext>,
        running: bool,
    ) {
        self.processes.push(Watched {
            name,
            ends,
            context,
            running,
        });
    }

    fn finished(&mut self, i: usize) {
        self.processes[i].running = false;
    }

    /// The undecided untimed wait of every running process, or `None` if one of them
    /// is not so parked (it runs, sleeps, has a timeout, or is being woken).
    fn waits(&self) -> Option<Vec<(usize, Arc<Context>)>> {
        let mut waits = Vec::new();
        for (i, p) in self.processes.iter().enumerate() {
            if p.running {
                waits.push((i, p.context.blocked_on()?));
            }
        }
        (!waits.is_empty()).then_some(waits)
    }

    /// A deadlock: every running process parked on the same undecided wait in two
    /// consecutive looks. Between them, a process woken by one that was not yet parked
    /// at the first look shows a decided wait at the second; and a parked process can
    /// wake nobody. So the same waits twice means nobody can ever move again.
    fn deadlock(&self) -> Option<Deadlock> {
        let first = self.waits()?;
        let second = self.waits()?;
        let same = first.len() == second.len()
            && first
                .iter()
                .zip(&second)
                .all(|((i, a), (j, b))| i == j && Arc::ptr_eq(a, b));
        same.then(|| self.report(&second))
    }

    fn report(&self, waits: &[(usize, Arc<Context>)]) -> Deadlock {
        let names: HashMap<u64, Arc<str>> = self
            .processes
            .iter()
            .flat_map(|p| &p.ends)
            .map(|e| (e.channel_id(), e.channel.name()))
            .collect();
        let waiting = waits
            .iter()
            .map(|(i, ctx)| {
                let reason = ctx.reason();
                Waiting {
                    process: self.processes[*i].name.clone(),
                    operation: match reason.op {
                        WaitOp::Read => Operation::Read,
                        WaitOp::Write | WaitOp::Release => Operation::Write,
                        WaitOp::Claim => Operation::Claim,
                        WaitOp::Alt => Operation::Alt,
                    },
                    channel: names
                        .get(&reason.channel)
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| format!("#{}", reason.channel)),
                }
            })
            .collect();
        Deadlock { waiting }
    }

    /// Ends a deadlocked network: every process wakes with `Poisoned` and stops.
    fn poison_all(&self) {
        for p in &self.processes {
            ScopedProcess::<()>::poison_ends(&p.ends);
        }
    }
}
