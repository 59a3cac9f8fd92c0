//! The fork executor: runs the processes placed in forked OS processes (see
//! [`Placement`](crate::Placement)) beside the thread ones, Linux only.
//!
//! `run` goes: **preflight** (the program must be single-threaded, counted in
//! `/proc/self/task`; every channel with ends in two OS processes is made shared),
//! **fork** every child before any thread starts (one per forked process, one per
//! group), then **supervise**: the parent's thread processes run on threads as usual,
//! and one watcher thread per child reads the child's reports from its pipe, reaps it,
//! and turns an early death into `Failure::Killed` / `Failure::Exited`. The deadlock
//! watch is off for such a network: a process waiting on a channel to another OS
//! process shows nothing the supervisor can read.
//!
//! Refusing a multi-threaded program (rather than re-executing it) is deliberate: a
//! re-exec would rerun `main` up to this point, side effects included, and needs the
//! network to be rebuilt identically, which the library cannot promise.

mod child;
mod reap;
mod wire;

use std::fs::File;
use std::io::Write;

use nix::fcntl::OFlag;
use nix::unistd::{fork, getpid, pipe2, ForkResult, Pid};

use super::error::{ForkError, NetworkError};
use super::supervise::{collect, Slot, Watcher};
use crate::process::{Exit, Failure, Parts, Placement, ScopedProcess};
use crate::topology::Topology;
use child::Member;
use reap::{Child, Children, Guard, Watched};

/// The processes of one forked child, with what the parent keeps of each.
type Group<'a, R> = Vec<(Member<'a>, Watched<'a, R>)>;

/// Runs a network in which some processes are forked (`procs` planned, `topology`
/// built from them).
pub(super) fn run<'a, R: Send + 'a>(
    procs: Vec<ScopedProcess<'a, R>>,
    topology: &Topology,
) -> Result<Vec<Option<R>>, NetworkError> {
    if let Err(e) = preflight(topology) {
        for p in &procs {
            ScopedProcess::<R>::poison_ends(p.ends());
        }
        return Err(e.into());
    }
    let (slots, groups) = split(procs);
    let children = Children::default();
    let guard = Guard(children.clone());
    let (slots, watchers) = fork_all(slots, groups, &children);
    // Green processes run on threads here (see `Placement::Green`): no green slots.
    collect(slots, watchers, false, Default::default(), guard)
}

/// How many threads the program runs, once the ones that are exiting have gone: a
/// thread joined a moment ago (a previous network's) can still be listed in
/// `/proc/self/task` for a few microseconds after `pthread_join` returned.
fn threads() -> Result<usize, ForkError> {
    const SETTLE: std::time::Duration = std::time::Duration::from_millis(50);
    let start = std::time::Instant::now();
    loop {
        let threads = std::fs::read_dir("/proc/self/task")
            .map_err(|error| ForkError::Os {
                what: "list /proc/self/task",
                error,
            })?
            .count();
        if threads == 1 || start.elapsed() > SETTLE {
            return Ok(threads);
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// Refuses a multi-threaded program, and shares the channels that cross.
fn preflight(topology: &Topology) -> Result<(), ForkError> {
    let threads = threads()?;
    if threads > 1 {
        return Err(ForkError::Threads { threads });
    }
    // What the program printed but did not flush yet would be printed again by every
    // child that flushes its copy.
    let _ = std::io::stdout().flush();
    for c in topology.crossing() {
        c.info.make_shared().map_err(|error| ForkError::Share {
            channel: c.name.to_string(),
            error,
        })?;
    }
    // A barrier's parties are not recorded, so any of them may end up in a child.
    crate::alt::barrier::share_live().map_err(|(name, error)| ForkError::ShareBarrier {
        barrier: name.to_string(),
        error,
    })?;
    Ok(())
}

/// The thread processes as slots (the forked ones as `Elsewhere`), and the forked
/// ones grouped by the child they run in, in the order first met.
#[allow(clippy::type_complexity)]
fn split<'a, R: Send + 'a>(
    procs: Vec<ScopedProcess<'a, R>>,
) -> (Vec<Slot<'a, R>>, Vec<Group<'a, R>>) {
    let mut slots = Vec::with_capacity(procs.len());
    let mut groups: Vec<(Option<String>, Group<'a, R>)> = Vec::new();
    for (index, p) in procs.into_iter().enumerate() {
        let key = match p.placement() {
            Placement::Group(g) => Some(g.clone()),
            _ => None, // Fork: a child of its own
        };
        let (name, ends) = (p.name().to_string(), p.ends().to_vec());
        let (runnable, decode) = match p.into_placed_parts() {
            Parts::Remote(runnable, decode) => (runnable, decode),
            Parts::Here(name, ends, runnable) => {
                slots.push(Slot::Thread(name, ends, runnable));
                continue;
            }
        };
        slots.push(Slot::Elsewhere(name.clone(), ends.clone()));
        let member = Member {
            name: name.clone(),
            ends: ends.clone(),
            runnable,
        };
        let watched = Watched {
            index,
            name,
            ends,
            decode,
        };
        match groups.iter_mut().find(|(k, _)| k.is_some() && *k == key) {
            Some((_, group)) => group.push((member, watched)),
            None => groups.push((key, vec![(member, watched)])),
        }
    }
    (slots, groups.into_iter().map(|(_, g)| g).collect())
}

/// Forks one child per group, before any thread starts; returns the watchers of the
/// children (a group whose fork failed gets a watcher that reports `Start` failures).
fn fork_all<'a, R: Send + 'a>(
    slots: Vec<Slot<'a, R>>,
    groups: Vec<Group<'a, R>>,
    children: &Children,
) -> (Vec<Slot<'a, R>>, Vec<Watcher<'a, R>>) {
    let parent = getpid();
    let mut watchers: Vec<Watcher<'a, R>> = Vec::with_capacity(groups.len());
    let mut groups: Vec<Option<Group<'a, R>>> = groups.into_iter().map(Some).collect();
    for k in 0..groups.len() {
        let group = groups[k].take().expect("each group forks once");
        let (members, watched): (Vec<_>, Vec<_>) = group.into_iter().unzip();
        match fork_child() {
            Ok(Forked::Child(pipe)) => {
                // The processes of the parent and of the other children are theirs:
                // dropping them here would retire channel ends they still use.
                std::mem::forget((slots, groups, watchers, watched));
                child::run_child(parent, members, pipe)
            }
            Ok(Forked::Parent(pid, pipe)) => {
                // Runs in the child now; its ends belong to it.
                std::mem::forget(members);
                let slot = children.add(pid);
                let child = Child {
                    slot,
                    pipe,
                    members: watched,
                };
                let children = children.clone();
                watchers.push(Box::new(move |done| reap::watch(child, children, done)));
            }
            Err(error) => watchers.push(refused(members, watched, error)),
        }
    }
    (slots, watchers)
}

/// A watcher reporting that a group could not be forked: each process failed to start
/// (and its channels are poisoned by dropping it as a failed process would).
fn refused<'a, R: Send + 'a>(
    members: Vec<Member<'a>>,
    watched: Vec<Watched<'a, R>>,
    error: ForkError,
) -> Watcher<'a, R> {
    let message = error.to_string();
    for m in &members {
        ScopedProcess::<R>::poison_ends(&m.ends);
    }
    drop(members);
    Box::new(move |done| {
        for w in watched {
            let error = std::io::Error::other(message.clone());
            let exit: Exit<R> = Exit::Failed(Failure::Start {
                process: w.name,
                error,
            });
            let _ = done.send((w.index, exit));
        }
    })
}

enum Forked {
    /// In the parent: the child's pid and the read end of its pipe.
    Parent(Pid, File),
    /// In the child: the write end of its pipe.
    Child(File),
}

/// Forks one child with a pipe from it to the parent.
fn fork_child() -> Result<Forked, ForkError> {
    let os = |what| {
        move |e: nix::errno::Errno| ForkError::Os {
            what,
            error: e.into(),
        }
    };
    // Close-on-exec, so a process that execs a program does not hand it the pipe.
    let (read, write) = pipe2(OFlag::O_CLOEXEC).map_err(os("create a pipe"))?;
    // SAFETY: the program is single-threaded (checked by `preflight`, and nothing
    // since has started a thread), so the child's copy of memory holds no lock taken
    // by another thread; the child never returns into the caller (`run_child` ends
    // with `_exit`).
    match unsafe { fork() }.map_err(os("fork"))? {
        ForkResult::Child => {
            drop(read);
            Ok(Forked::Child(File::from(write)))
        }
        ForkResult::Parent { child } => {
            // Only the child writes: the parent's copy would keep the pipe open after
            // the child died.
            drop(write);
            Ok(Forked::Parent(child, File::from(read)))
        }
    }
}
