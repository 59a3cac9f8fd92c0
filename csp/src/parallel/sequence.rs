//! Running processes one after another ([`Sequence`]) or detached ([`spawn`]).
//!
//! Layer: parallel; uses process. Placement is not honoured here: every process runs on
//! a thread of the calling OS process.

use super::error::flatten_into;
use super::NetworkError;
use crate::process::{Exit, Failure, Process, ScopedProcess};

/// Processes run one after another on the calling thread (occam's SEQ). A failure stops
/// the sequence; the processes that did not run have their channels poisoned, so no
/// partner waits for them.
///
/// ```
/// use csp::{Channel, Process, Sequence};
/// let (tx, rx) = Channel::<u8>::new().fifo(2).one2one();
/// let results = Sequence::new()
///     .add(Process::with_ends("fill", tx, |tx| {
///         tx.write(1)?;
///         tx.write(2)?;
///         Ok(0)
///     }))
///     .add(Process::with_ends("drain", rx, |rx| Ok(rx.iter().sum())))
///     .run()?;
/// assert_eq!(results, vec![Some(0), Some(3)]);
/// # Ok::<(), csp::NetworkError>(())
/// ```
pub struct Sequence<'a, R = ()> {
    procs: Vec<ScopedProcess<'a, R>>,
}

impl<'a, R: 'a> Sequence<'a, R> {
    /// An empty sequence.
    pub fn new() -> Self {
        Sequence { procs: Vec::new() }
    }

    /// Adds a process (builder style).
    // A builder step, not arithmetic: `Parallel + Process` would read worse.
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, p: ScopedProcess<'a, R>) -> Self {
        self.procs.push(p);
        self
    }

    /// Runs the processes in order.
    pub fn run(self) -> Result<Vec<Option<R>>, NetworkError> {
        let mut results = Vec::with_capacity(self.procs.len());
        let mut procs = self.procs.into_iter();
        for p in procs.by_ref() {
            let (_, _, runnable) = p.into_parts();
            match runnable.execute() {
                Exit::Done(r) => results.push(Some(r)),
                Exit::Stopped => results.push(None),
                Exit::Failed(f) => {
                    for rest in procs {
                        ScopedProcess::<R>::poison_ends(rest.ends());
                    }
                    let mut failures = Vec::new();
                    flatten_into(f, &mut failures);
                    return Err(NetworkError::Failed(failures));
                }
            }
        }
        Ok(results)
    }
}

impl<'a, R: 'a> Default for Sequence<'a, R> {
    fn default() -> Self {
        Sequence::new()
    }
}

/// A process started with [`spawn`]: it runs on its own thread until it ends; `join`
/// waits for it. Dropping the handle detaches the process.
pub struct Spawned<R> {
    name: String,
    handle: std::thread::JoinHandle<Exit<R>>,
}

/// Starts `p` on its own OS thread and returns at once.
///
/// ```
/// use csp::{spawn, Channel, Process};
/// let (tx, rx) = Channel::<u32>::new().one2one();
/// let server = spawn(Process::with_ends("doubler", rx, |rx| {
///     Ok(rx.iter().map(|v| v * 2).sum::<u32>())
/// }))?;
/// tx.write(1)?;
/// tx.write(2)?;
/// drop(tx);
/// assert_eq!(server.join()?, Some(6));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn spawn<R: Send + 'static>(p: Process<R>) -> Result<Spawned<R>, NetworkError> {
    let (name, ends, runnable) = p.into_parts();
    match std::thread::Builder::new()
        .name(name.clone())
        .spawn(move || runnable.execute())
    {
        Ok(handle) => Ok(Spawned { name, handle }),
        Err(error) => {
            Process::<R>::poison_ends(&ends);
            Err(NetworkError::Failed(vec![Failure::Start {
                process: name,
                error,
            }]))
        }
    }
}

impl<R> Spawned<R> {
    /// The process's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the process has ended.
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// Waits for the process: its result, `None` if it stopped because of poison, or
    /// the failure naming it.
    pub fn join(self) -> Result<Option<R>, NetworkError> {
        let exit = match self.handle.join() {
            Ok(exit) => exit,
            // `execute` catches panics, so this is a panic in the runtime itself.
            Err(payload) => Exit::Failed(Failure::Panicked {
                process: self.name,
                message: crate::process::panic_message(&*payload),
            }),
        };
        match exit {
            Exit::Done(r) => Ok(Some(r)),
            Exit::Stopped => Ok(None),
            Exit::Failed(f) => {
                let mut failures = Vec::new();
                flatten_into(f, &mut failures);
                Err(NetworkError::Failed(failures))
            }
        }
    }
}
