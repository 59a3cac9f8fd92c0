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
use crate::park::process::ProcessContext;
use crate::park::{Context, WaitOp};
use crate::process::Failure;
use crate::process::{Exit, RecordedEnd, ScopedProcess};

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

/// Runs `procs`, one OS thread each, and collects their endings as they come; with
/// `watch`, also ends a deadlocked network (see `Parallel::detect_deadlock`).
pub(super) fn supervise<'a, R: Send + 'a>(
    procs: Vec<ScopedProcess<'a, R>>,
    watch: bool,
) -> Result<Vec<Option<R>>, NetworkError> {
    let mut results: Vec<Option<R>> = procs.iter().map(|_| None).collect();
    let mut failures = Vec::new();
    let mut deadlock = None;
    std::thread::scope(|scope| {
        let (done_tx, done_rx) = mpsc::channel::<(usize, Exit<R>)>();
        let mut network = Network::default();
        for (i, p) in procs.into_iter().enumerate() {
            let (name, ends, runnable) = p.into_parts();
            let context = ProcessContext::new();
            let done_tx = done_tx.clone();
            let in_thread = context.clone();
            let started =
                std::thread::Builder::new()
                    .name(name.clone())
                    .spawn_scoped(scope, move || {
                        let exit = runnable.execute_in(in_thread);
                        // The supervisor outlives every process thread: the send cannot fail.
                        let _ = done_tx.send((i, exit));
                    });
            let running = started.is_ok();
            if let Err(error) = started {
                ScopedProcess::<R>::poison_ends(&ends);
                failures.push(Failure::Start {
                    process: name.clone(),
                    error,
                });
            }
            network.add(name, ends, context, running);
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
                    match exit {
                        Exit::Done(r) => results[i] = Some(r),
                        Exit::Stopped => {}
                        Exit::Failed(f) => flatten_into(f, &mut failures),
                    }
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
    });
    match deadlock {
        Some(d) => Err(NetworkError::Deadlock(d)),
        None if failures.is_empty() => Ok(results),
        None => Err(NetworkError::Failed(failures)),
    }
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
