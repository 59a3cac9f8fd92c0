//! The forked placement: each party is a forked OS process, and the harness that runs a
//! suite's cases one after another on the main thread of a `harness = false` test
//! binary (a program must be single-threaded when it forks).

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use nix::sys::signal::{kill, signal, SigHandler, Signal};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{alarm, fork, getpid, getppid, ForkResult, Pid};

use super::{ChannelEnds, Kind, Party, PartyFailed, Placement};

/// The case the harness is running: forked parties' errors name it.
static CASE: Mutex<&str> = Mutex::new("");

/// Forked parties not joined yet: the harness kills and reaps them after their case.
static CHILDREN: Mutex<Vec<Pid>> = Mutex::new(Vec::new());

fn current_case() -> &'static str {
    *CASE.lock().unwrap_or_else(PoisonError::into_inner)
}

fn children() -> std::sync::MutexGuard<'static, Vec<Pid>> {
    CHILDREN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Parties in forked OS processes: the channels a case makes are moved into shared
/// memory first ([`ChannelEnds::share_with_forks`]). Only for a single-threaded program,
/// such as a suite run by [`run_suite`] (or a doctest).
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use csp_tests::placement::{Forked, Placement};
/// use csp_tests::shared::Shared;
///
/// let seen = Shared::new(AtomicU64::new(0))?;
/// let child = seen.clone();
/// Forked::spawn(move || child.store(std::process::id().into(), Ordering::SeqCst)).join()?;
/// let pid = seen.load(Ordering::SeqCst);
/// assert!(pid != 0 && pid != u64::from(std::process::id()), "set by another process");
/// assert!(Forked::spawn(|| panic!("on purpose")).join().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Forked;

impl Placement for Forked {
    fn spawn(f: impl FnOnce() + Send + 'static) -> Party {
        let case = current_case();
        if let Err(threads) = single_threaded() {
            panic!("case {case}: cannot fork with {threads} threads running (need 1)");
        }
        // Whatever is buffered would be written twice, once by each process.
        let _ = std::io::stdout().flush();
        let parent = getpid();
        // SAFETY: the program is single-threaded (checked just above), so the child
        // inherits no lock held by another thread and may run any code.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => run_child(parent, f),
            Ok(ForkResult::Parent { child }) => {
                // The closure, and the ends it holds, now belong to the child: dropping
                // the parent's copy would retire those ends.
                std::mem::forget(f);
                children().push(child);
                Party(Kind::Forked(Child { pid: child, case }))
            }
            Err(e) => panic!("case {case}: fork failed: {e}"),
        }
    }

    fn watchdog<R: Send + 'static>(
        secs: u64,
        _name: &str,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> R {
        // A hang kills the whole harness by SIGALRM's default action (no thread may
        // watch); the harness printed the case's name first, and forked parties die
        // with it (their parent-death signal).
        // SAFETY: the default action runs no handler code in this process.
        if let Err(e) = unsafe { signal(Signal::SIGALRM, SigHandler::SigDfl) } {
            panic!("case {}: cannot arm the watchdog: {e}", current_case());
        }
        let _cancel = Alarm::set(secs);
        f()
    }

    fn share<E: ChannelEnds>(ends: E) -> E {
        if let Err(e) = ends.share_with_forks() {
            panic!("case {}: share_with_forks: {e}", current_case());
        }
        ends
    }

    fn share_barrier(barrier: csp::Barrier) -> csp::Barrier {
        if let Err(e) = barrier.share_with_forks() {
            panic!("case {}: Barrier::share_with_forks: {e}", current_case());
        }
        barrier
    }
}

/// An armed alarm, cancelled when the watched body ends, even by a panic.
struct Alarm;

impl Alarm {
    fn set(secs: u64) -> Alarm {
        alarm::set(u32::try_from(secs).unwrap_or(u32::MAX));
        Alarm
    }
}

impl Drop for Alarm {
    fn drop(&mut self) {
        alarm::cancel();
    }
}

/// The forked process: runs `f` and ends with its own exit, never returning into the
/// harness (whose stack and statics belong to the parent).
fn run_child(parent: Pid, f: impl FnOnce()) -> ! {
    // A harness killed by its watchdog must not leave children blocked forever.
    let orphaned = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).is_err() || getppid() != parent;
    let status = if orphaned {
        3
    } else {
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(()) => 0,
            Err(_) => 101, // the panic hook has printed the message
        }
    };
    // SAFETY: `_exit` ends the process at once: no unwinding into the parent's frames,
    // no destructors or atexit handlers of the harness.
    unsafe { libc::_exit(status) }
}

/// How many threads this process has, if more than one. A thread that was joined a
/// moment ago may still be listed until the kernel has reaped it, hence a few retries.
fn single_threaded() -> Result<(), usize> {
    let mut threads = 0;
    for _ in 0..200 {
        threads = std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count());
        if threads == 1 {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Err(threads)
}

/// A forked party.
pub(super) struct Child {
    pid: Pid,
    case: &'static str,
}

impl Child {
    pub(super) fn join(self) -> Result<(), PartyFailed> {
        let (case, pid) = (self.case, self.pid.as_raw());
        let status = loop {
            match waitpid(self.pid, None) {
                Err(nix::Error::EINTR) => continue,
                other => break other,
            }
        };
        children().retain(|&c| c != self.pid);
        match status {
            Ok(WaitStatus::Exited(_, 0)) => Ok(()),
            Ok(WaitStatus::Exited(_, status)) => Err(PartyFailed::Exited { case, pid, status }),
            Ok(WaitStatus::Signaled(_, signal, _)) => Err(PartyFailed::Killed {
                case,
                pid,
                signal: signal.to_string(),
            }),
            Ok(other) => Err(PartyFailed::Wait {
                case,
                pid,
                message: format!("unexpected status {other:?}"),
            }),
            Err(e) => Err(PartyFailed::Wait {
                case,
                pid,
                message: e.to_string(),
            }),
        }
    }
}

/// Kills and reaps the forked parties a case did not join (it failed before joining
/// them); how many there were.
fn reap_leftovers() -> usize {
    let leftovers = std::mem::take(&mut *children());
    for &pid in &leftovers {
        let _ = kill(pid, Signal::SIGKILL);
        let _ = waitpid(pid, None);
    }
    leftovers.len()
}

/// A suite's cases, as its `cases!` lists make them (see [`run_suite`]).
pub struct Suite {
    /// Cases that run with their parties forked.
    pub cases: &'static [(&'static str, fn())],
    /// Cases that cannot cross OS processes (they move channel ends over channels):
    /// listed as skipped.
    pub in_process_only: &'static [(&'static str, fn())],
}

/// The main of a `harness = false` binary of suites: runs the cases the command line selects
/// (libtest's filters: substrings, or whole names with `--exact`; `--skip`), one after
/// another on the main thread, printing `case NAME ... ok` or `FAILED`. Fails if any
/// case failed.
///
/// ```
/// use csp_tests::placement::{run_suite, Forked, Placement, Suite};
///
/// fn forked_child_runs() {
///     Forked::spawn(|| assert_eq!(2 + 2, 4)).join().unwrap();
/// }
/// let code = run_suite(&[Suite {
///     cases: &[("forked_child_runs", forked_child_runs)],
///     in_process_only: &[],
/// }]);
/// assert_eq!(code, std::process::ExitCode::SUCCESS);
/// ```
pub fn run_suite(suites: &[Suite]) -> ExitCode {
    let select = Selection::from_args(std::env::args().skip(1));
    let cases = suites.iter().flat_map(|s| s.cases);
    let in_process_only = suites.iter().flat_map(|s| s.in_process_only);
    if select.list {
        for (name, _) in cases {
            println!("{name}: test");
        }
        return ExitCode::SUCCESS;
    }
    let (mut passed, mut failed, mut skipped) = (0, Vec::new(), 0);
    for &(name, case) in cases.filter(|(n, _)| select.wants(n)) {
        if run_case(name, case) {
            passed += 1;
        } else {
            failed.push(name);
        }
    }
    for (name, _) in in_process_only.filter(|(n, _)| select.wants(n)) {
        println!("case {name} ... skipped (its channel ends cannot cross OS processes)");
        skipped += 1;
    }
    println!();
    for name in &failed {
        println!("FAILED: {name}");
    }
    let verdict = if failed.is_empty() { "ok" } else { "FAILED" };
    println!(
        "test result: {verdict}. {passed} passed; {} failed; {skipped} skipped",
        failed.len()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn run_case(name: &'static str, case: fn()) -> bool {
    print!("case {name} ... ");
    let _ = std::io::stdout().flush();
    *CASE.lock().unwrap_or_else(PoisonError::into_inner) = name;
    let ok = catch_unwind(case).is_ok();
    let leftovers = reap_leftovers();
    match (ok, leftovers) {
        (true, 0) => println!("ok"),
        (true, n) => println!("FAILED ({n} forked parties never joined)"),
        (false, _) => println!("FAILED"),
    }
    ok && leftovers == 0
}

/// Which cases the command line selects.
struct Selection {
    filters: Vec<String>,
    skip: Vec<String>,
    exact: bool,
    list: bool,
}

impl Selection {
    fn from_args(mut args: impl Iterator<Item = String>) -> Selection {
        let mut s = Selection {
            filters: Vec::new(),
            skip: Vec::new(),
            exact: false,
            list: false,
        };
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--exact" => s.exact = true,
                "--list" => s.list = true,
                "--skip" => s.skip.extend(args.next()),
                // libtest options with a value that mean nothing here.
                "--test-threads" | "--color" | "--format" | "--logfile" | "-Z" => {
                    args.next();
                }
                flag if flag.starts_with('-') => {}
                filter => s.filters.push(filter.to_owned()),
            }
        }
        s
    }

    fn wants(&self, name: &str) -> bool {
        let hit = |f: &String| {
            if self.exact {
                name == f
            } else {
                name.contains(f.as_str())
            }
        };
        (self.filters.is_empty() || self.filters.iter().any(hit))
            && !self.skip.iter().any(|s| name.contains(s.as_str()))
    }
}
