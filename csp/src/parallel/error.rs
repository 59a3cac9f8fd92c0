//! Errors of a network run: [`NetworkError`] and the deadlock report. Channel errors
//! live in [`crate::channel`], a process's [`Failure`] in [`crate::process`].
//!
//! Layer: parallel; uses process and topology.

use std::fmt;

use crate::process::Failure;

/// What one process of a deadlocked network waits for.
///
/// ```
/// use csp::{Channel, NetworkError, Operation, Parallel, Process, Waiting};
/// let (a_tx, a_rx) = Channel::<u8>::new().named("a").one2one();
/// let (b_tx, b_rx) = Channel::<u8>::new().named("b").one2one();
/// let err = Parallel::new()
///     .add(Process::with_ends("left", (a_rx, b_tx), |(a, b)| Ok(b.write(a.read()?)?)))
///     .add(Process::with_ends("right", (b_rx, a_tx), |(b, a)| Ok(a.write(b.read()?)?)))
///     .lint(csp::Lint::RendezvousCycle, csp::Level::Allow)
///     .run()
///     .unwrap_err();
/// let NetworkError::Deadlock(deadlock) = err else { panic!("{err}") };
/// assert_eq!(
///     deadlock.waiting[0],
///     Waiting { process: "left".into(), operation: Operation::Read, channel: "a".into() }
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiting {
    /// The process's name.
    pub process: String,
    /// What it does.
    pub operation: Operation,
    /// The channel it waits on (for an alt, its first guard's channel or barrier).
    pub channel: String,
}

/// A blocking operation, as a deadlock report names it.
///
/// ```
/// use csp::{Channel, NetworkError, Operation, Parallel, Process};
/// let (out, out_rx) = Channel::<u8>::new().named("out").fifo(1).one2one();
/// let (go, go_rx) = Channel::<()>::new().named("go").one2one();
/// let err = Parallel::new()
///     .add(Process::with_ends("writer", (out, go), |(out, go)| {
///         out.write(1)?;
///         out.write(2)?; // the buffer is full: waits for room...
///         Ok(go.write(())?)
///     }))
///     .add(Process::with_ends("reader", (out_rx, go_rx), |(out, go)| {
///         go.read()?; // ...while the reader waits for the signal that follows
///         Ok(out.read().map(|_| ())?)
///     }))
///     .run()
///     .unwrap_err();
/// let NetworkError::Deadlock(deadlock) = err else { panic!("{err}") };
/// let ops: Vec<Operation> = deadlock.waiting.iter().map(|w| w.operation).collect();
/// assert_eq!(ops, [Operation::Write, Operation::Read]);
/// assert_eq!(Operation::Write.to_string(), "writes"); // as reports word it
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Operation {
    /// A read waiting for a writer.
    Read,
    /// A write waiting for a reader (or for room).
    Write,
    /// A shared end waiting for another end's claim to end.
    Claim,
    /// An alt (or a barrier sync) waiting for any of its guards.
    Alt,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::Read => "reads",
            Operation::Write => "writes",
            Operation::Claim => "claims",
            Operation::Alt => "alts over",
        })
    }
}

/// Every live process of a network waits, with no timeout, for another one of them:
/// nothing inside the network can ever move again. [`Parallel::run`](crate::Parallel::run)
/// finds this, poisons the network's channels (so every process ends) and returns it as
/// [`NetworkError::Deadlock`].
///
/// ```
/// use csp::{Channel, NetworkError, Parallel, Process};
/// let (a_tx, a_rx) = Channel::<u8>::new().named("a").one2one();
/// let (b_tx, b_rx) = Channel::<u8>::new().named("b").one2one();
/// let err = Parallel::new()
///     .add(Process::with_ends("left", (a_rx, b_tx), |(a, b)| Ok(b.write(a.read()?)?)))
///     .add(Process::with_ends("right", (b_rx, a_tx), |(b, a)| Ok(a.write(b.read()?)?)))
///     .lint(csp::Lint::RendezvousCycle, csp::Level::Allow)
///     .run()
///     .unwrap_err();
/// let NetworkError::Deadlock(deadlock) = err else { panic!("{err}") };
/// let who: Vec<(&str, &str)> =
///     deadlock.waiting.iter().map(|w| (w.process.as_str(), w.channel.as_str())).collect();
/// assert_eq!(who, [("left", "a"), ("right", "b")]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deadlock {
    /// Each waiting process and what it waits for, in the order processes were added.
    pub waiting: Vec<Waiting>,
}

impl fmt::Display for Deadlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "deadlock: every process waits for another: ")?;
        for (i, w) in self.waiting.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "'{}' {} '{}'", w.process, w.operation, w.channel)?;
        }
        Ok(())
    }
}

/// Why a network did not complete.
///
/// ```
/// use csp::{NetworkError, Parallel, Process};
/// let err = Parallel::new()
///     .add(Process::from_fn("fine", || ()))
///     .add(Process::from_fn("broken", || panic!("disk on fire")))
///     .run()
///     .unwrap_err();
/// let NetworkError::Failed(failures) = &err else { panic!() };
/// assert_eq!(failures[0].process(), "broken");
/// assert!(err.to_string().contains("process 'broken' panicked: disk on fire"));
/// ```
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum NetworkError {
    /// One or more processes panicked or returned an error; each failure names its
    /// process. (Processes that only stopped because a channel was poisoned are not
    /// listed.)
    #[error("{}", list(.0))]
    Failed(Vec<Failure>),
    /// Validation refused the network before anything ran (see
    /// [`Parallel::validate`](crate::Parallel::validate)).
    #[error("the network is invalid:\n{0}")]
    Invalid(crate::topology::Report),
    /// Every process waited for another; the network was poisoned to end it.
    #[error("{0}")]
    Deadlock(Deadlock),
    /// The network places processes in forked OS processes and could not fork them;
    /// nothing ran, and the processes' channels were poisoned.
    #[error(transparent)]
    Fork(#[from] ForkError),
}

/// Why [`Parallel::run`](crate::Parallel::run) could not fork the network's forked
/// processes (see [`Placement`](crate::Placement)).
///
/// ```
/// # if cfg!(target_os = "linux") {
/// use csp::{NetworkError, Parallel, Process};
/// // A second thread makes forking unsafe: `run` refuses before anything runs.
/// let (stop, wait) = std::sync::mpsc::channel::<()>();
/// let other = std::thread::spawn(move || wait.recv());
/// let err = Parallel::new()
///     .add(Process::from_fn("away", || 1_u8).forked())
///     .run()
///     .unwrap_err();
/// assert!(matches!(err, NetworkError::Fork(csp::ForkError::Threads { .. })));
/// drop(stop);
/// other.join().unwrap().ok();
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ForkError {
    /// The program runs more than one thread. A forked child would hold a copy of
    /// every lock another thread held at that moment, forever (the allocator's too).
    #[error(
        "cannot fork the network: the program runs {threads} threads, and a forked child \
         would inherit the locks they hold; run the network before starting any thread \
         (e.g. first thing in main), or, in a test, from a `harness = false` test binary \
         (libtest runs each test on a thread of its own)"
    )]
    Threads {
        /// How many threads `/proc/self/task` lists.
        threads: usize,
    },
    /// Forked placement needs Linux (`fork`, `prctl(PR_SET_PDEATHSIG)`).
    #[error("cannot fork the network: forked placement is supported on Linux only")]
    Unsupported,
    /// The OS refused something the fork runtime needs.
    #[error("cannot fork the network: {what}: {error}")]
    Os {
        /// What was attempted.
        what: &'static str,
        /// What the OS said.
        error: std::io::Error,
    },
    /// A channel with ends in two OS processes could not be moved to shared memory.
    #[error("cannot fork the network: channel '{channel}' cannot be shared: {error}")]
    Share {
        /// The channel's name.
        channel: String,
        /// Why.
        error: crate::channel::ChannelError,
    },
    /// A barrier could not be moved to shared memory.
    #[error("cannot fork the network: barrier '{barrier}' cannot be shared: {error}")]
    ShareBarrier {
        /// The barrier's name.
        barrier: String,
        /// What the OS said.
        error: std::io::Error,
    },
}

fn list(failures: &[Failure]) -> String {
    let mut s = match failures.len() {
        1 => String::new(),
        n => format!("{n} processes failed: "),
    };
    for (i, f) in failures.iter().enumerate() {
        if i > 0 {
            s.push_str("; ");
        }
        s.push_str(&f.to_string());
    }
    s
}

/// The readable message, so that `fn main() -> Result<(), NetworkError>` reports a
/// failed network as "process 'x' panicked: ..." rather than as nested structs.
impl fmt::Debug for NetworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl NetworkError {
    /// The failures, if the network failed because of its processes.
    ///
    /// ```
    /// use csp::{Parallel, Process};
    /// let err = Parallel::new()
    ///     .add(Process::from_fn("a", || panic!("one")))
    ///     .add(Process::from_fn("b", || panic!("two")))
    ///     .run()
    ///     .unwrap_err();
    /// let mut names: Vec<&str> = err.failures().iter().map(|f| f.process()).collect();
    /// names.sort();
    /// assert_eq!(names, ["a", "b"]);
    /// ```
    pub fn failures(&self) -> &[Failure] {
        match self {
            NetworkError::Failed(f) => f,
            NetworkError::Invalid(_) | NetworkError::Deadlock(_) | NetworkError::Fork(_) => &[],
        }
    }
}

/// A nested network's failure is the list of its processes' failures: report those,
/// each under its full path (`farm/parse[2]`), not "process 'farm' failed: 3 processes
/// failed: ...".
pub(crate) fn flatten_into(failure: Failure, out: &mut Vec<Failure>) {
    match failure {
        Failure::Error { process, error } => match error.downcast::<NetworkError>() {
            Ok(inner) => match *inner {
                NetworkError::Failed(failures) => {
                    out.extend(failures.into_iter().map(|f| f.under(&process)))
                }
                other => out.push(Failure::Error {
                    process,
                    error: Box::new(other),
                }),
            },
            Err(error) => out.push(Failure::Error { process, error }),
        },
        other => out.push(other),
    }
}
