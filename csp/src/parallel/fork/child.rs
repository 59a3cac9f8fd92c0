//! The life of a forked child: make sure it dies with its parent, run its processes,
//! report each ending on its pipe, and leave with `_exit`, never returning into the
//! code that called `run` (that code belongs to the parent).
//!
//! Between `fork` and `_exit` the child is single-threaded (the parent checked it was
//! before forking, and `fork` copies only the calling thread), so no lock can be held
//! by a thread that does not exist here: it may allocate, and start threads of its own.

use std::fs::File;
use std::io::Write;

use nix::sys::signal::Signal;
use nix::unistd::{getppid, Pid};

use super::super::supervise::{run_network, Slot};
use super::wire::{self, Outcome, Report};
use crate::process::{Exit, RecordedEnd, Runnable};

/// One process the child runs.
pub(super) struct Member<'a> {
    pub(super) name: String,
    pub(super) ends: Vec<RecordedEnd>,
    pub(super) runnable: Runnable<'a, Vec<u8>>,
}

/// Exit code of a child whose parent was gone before it could arm its death signal.
const ORPHANED: i32 = 101;
/// Exit code of a child that could not write a report to its parent.
const UNREPORTED: i32 = 102;
/// Exit code of a child whose runtime (not a process: those are caught) panicked.
const PANICKED: i32 = 103;

/// Runs `members` in this (forked) child and exits. `parent` is the pid that forked it.
pub(super) fn run_child(parent: Pid, members: Vec<Member<'_>>, pipe: File) -> ! {
    // Die with the parent. The parent may already have died between fork and this
    // call (then the signal never comes): `getppid` tells.
    let armed = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
    if armed.is_err() || getppid() != parent {
        leave(ORPHANED);
    }
    // A panic of the runtime itself must not unwind into the parent's code.
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| serve(members, pipe)));
    leave(match run {
        Ok(true) => 0,
        Ok(false) => UNREPORTED,
        Err(_) => PANICKED,
    })
}

/// Runs the members, reporting each ending; whether every report was written.
fn serve(members: Vec<Member<'_>>, pipe: File) -> bool {
    // Before anything runs: the barrier parties our processes hold are counted under
    // this child from now on, so that they are resigned if it dies before they sync.
    for party in members.iter().flat_map(|m| &m.runnable.parties) {
        party.adopt_here();
    }
    let mut pipe = pipe;
    let mut reported = true;
    let mut report = |member: usize, exit: Exit<Vec<u8>>| {
        let report = Report {
            // The child's members are counted from a `Vec` built by the parent: u32.
            member: member as u32,
            outcome: Outcome::of(exit),
        };
        reported &= wire::send(&mut pipe, &report).is_ok();
    };
    if members.len() == 1 {
        // On the child's main thread, still single-threaded: a nested network inside
        // it may fork in its turn.
        let member = members.into_iter().next().expect("one member");
        report(0, member.runnable.execute());
    } else {
        let slots = members
            .into_iter()
            .map(|m| Slot::Thread(m.name, m.ends, m.runnable))
            .collect();
        // The deadlock watch stays off: channels to other OS processes are invisible
        // to it.
        run_network(slots, Vec::new(), false, Default::default(), (), report);
    }
    reported
}

/// Flushes what the child's processes printed and ends the child without running the
/// parent's exit handlers or destructors (the child owns none of that).
fn leave(code: i32) -> ! {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: `_exit` ends the process at once; it is always safe to call. Skipping
    // `exit`'s atexit handlers and stdio flushing is the point (they belong to the
    // parent's program, whose state this child only copied).
    unsafe { libc::_exit(code) }
}
