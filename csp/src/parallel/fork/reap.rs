//! The parent's side of a child: read its reports to the end of its pipe, reap it, and
//! turn every process it did not report into a failure (`Killed` by a signal, or
//! `Exited` with a code), with that process's channels poisoned. Plus the guard that
//! kills and reaps every child still running if the parent unwinds.

use std::fs::File;
use std::io::BufReader;
use std::sync::{Arc, Mutex, PoisonError};

use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

use super::super::supervise::Done;
use super::wire;
use crate::process::{Decode, Exit, Failure, RecordedEnd, ScopedProcess};

/// One process of a child, as the parent knows it.
pub(super) struct Watched<'a, R> {
    /// Its index in the network.
    pub(super) index: usize,
    pub(super) name: String,
    pub(super) ends: Vec<RecordedEnd>,
    pub(super) decode: Decode<'a, R>,
}

/// A running child: its pid (in the guard's table at `slot`), its pipe, its processes.
pub(super) struct Child<'a, R> {
    pub(super) slot: usize,
    pub(super) pipe: File,
    pub(super) members: Vec<Watched<'a, R>>,
}

/// The pids of the children not reaped yet. Dropping it kills and reaps them: the
/// parent is unwinding, and a child left running would wait on its channels forever.
#[derive(Clone, Default)]
pub(super) struct Children(Arc<Mutex<Vec<Option<Pid>>>>);

impl Children {
    pub(super) fn add(&self, pid: Pid) -> usize {
        let mut table = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        table.push(Some(pid));
        table.len() - 1
    }

    /// Takes the child's pid, to reap it: `None` if the guard already did.
    fn take(&self, slot: usize) -> Option<Pid> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)[slot].take()
    }
}

/// Kills and reaps, on drop, every child nobody has reaped.
pub(super) struct Guard(pub(super) Children);

impl Drop for Guard {
    fn drop(&mut self) {
        let mut table = self.0 .0.lock().unwrap_or_else(PoisonError::into_inner);
        for pid in table.iter_mut().filter_map(Option::take) {
            // The child may have ended already: then kill fails and waitpid reaps it.
            let _ = kill(pid, Signal::SIGKILL);
            let _ = waitpid(pid, None);
        }
    }
}

/// Reads the child's reports, sends each ending to the completion loop, then reaps the
/// child and fails every process it did not report.
pub(super) fn watch<R>(child: Child<'_, R>, children: Children, done: Done<R>) {
    let Child {
        slot,
        pipe,
        members,
    } = child;
    let mut members: Vec<Option<Watched<'_, R>>> = members.into_iter().map(Some).collect();
    let mut input = BufReader::new(pipe);
    let mut broken = None;
    loop {
        match wire::receive(&mut input) {
            Ok(Some(report)) => {
                let Some(m) = members
                    .get_mut(report.member as usize)
                    .and_then(Option::take)
                else {
                    broken = Some(format!("a report for unknown process #{}", report.member));
                    break;
                };
                let exit = report.outcome.into_exit(&m.name, m.decode);
                end(m.index, &m.ends, exit, &done);
            }
            Ok(None) => break,
            Err(e) => {
                broken = Some(e.to_string());
                break;
            }
        }
    }
    let status = reap(&children, slot, broken.is_some());
    for m in members.into_iter().flatten() {
        let process = m.name.clone();
        let failure = match (&broken, status) {
            (Some(why), _) => Failure::Error {
                process,
                error: format!("its OS process sent a bad report: {why}").into(),
            },
            (None, WaitStatus::Signaled(_, signal, _)) => killed(process, signal),
            (None, WaitStatus::Exited(_, code)) => Failure::Exited { process, code },
            // Reaped by the guard (the parent is unwinding): it was killed.
            (None, _) => killed(process, Signal::SIGKILL),
        };
        end(m.index, &m.ends, Exit::Failed(failure), &done);
    }
}

fn killed(process: String, signal: Signal) -> Failure {
    Failure::Killed {
        process,
        signal: signal as i32,
        signal_name: signal.as_str().to_string(),
    }
}

/// Waits for the child to end (killing it first if its reports went wrong, since it
/// may never stop on its own). `StillAlive` stands for "reaped by the guard".
fn reap(children: &Children, slot: usize, kill_first: bool) -> WaitStatus {
    let Some(pid) = children.take(slot) else {
        return WaitStatus::StillAlive;
    };
    if kill_first {
        let _ = kill(pid, Signal::SIGKILL);
    }
    loop {
        match waitpid(pid, None) {
            Ok(status @ (WaitStatus::Exited(..) | WaitStatus::Signaled(..))) => return status,
            Err(nix::errno::Errno::EINTR) | Ok(_) => continue,
            Err(_) => return WaitStatus::StillAlive,
        }
    }
}

/// Hands one ending to the completion loop; an abnormal one poisons the process's
/// channels here in the parent first, so the rest of the network ends.
fn end<R>(index: usize, ends: &[RecordedEnd], exit: Exit<R>, done: &Done<R>) {
    if !matches!(exit, Exit::Done(_)) {
        ScopedProcess::<R>::poison_ends(ends);
    }
    // The completion loop outlives every watcher: the send cannot fail.
    let _ = done.send((index, exit));
}
