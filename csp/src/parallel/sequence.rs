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
    ///
    /// ```
    /// let empty: csp::Sequence<'_, u8> = csp::Sequence::new();
    /// assert_eq!(empty.run()?, vec![]);
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn new() -> Self {
        Sequence { procs: Vec::new() }
    }

    /// Adds a process (builder style).
    // A builder step, not arithmetic: `Parallel + Process` would read worse.
    #[allow(clippy::should_implement_trait)]
    ///
    /// ```
    /// use csp::{ScopedProcess, Sequence};
    /// let log = std::sync::Mutex::new(Vec::new());
    /// Sequence::new()
    ///     .add(ScopedProcess::from_fn("first", || log.lock().unwrap().push(1)))
    ///     .add(ScopedProcess::from_fn("second", || log.lock().unwrap().push(2)))
    ///     .run()?;
    /// assert_eq!(*log.lock().unwrap(), [1, 2]); // one after the other, in order
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn add(mut self, p: ScopedProcess<'a, R>) -> Self {
        self.procs.push(p);
        self
    }

    /// Runs the processes in order.
    ///
    /// ```
    /// use csp::{Channel, Process, Sequence};
    /// let (tx, rx) = Channel::<u8>::new().fifo(1).one2one();
    /// let err = Sequence::new()
    ///     .add(Process::new("fails", || Err("no disk".into())))
    ///     .add(Process::with_ends("never", tx, |tx| Ok(tx.write(1)?)))
    ///     .run()
    ///     .unwrap_err();
    /// assert_eq!(err.failures()[0].process(), "fails");
    /// assert!(rx.read().unwrap_err().is_poisoned()); // "never" did not run; its channel is poisoned
    /// ```
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
///
/// ```
/// use csp::{spawn, Process, Spawned};
/// let handle: Spawned<u64> = spawn(Process::from_fn("sum", || (1..=10).sum()))?;
/// assert_eq!(handle.name(), "sum");
/// assert_eq!(handle.join()?, Some(55));
/// # Ok::<(), csp::NetworkError>(())
/// ```
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
    ///
    /// ```
    /// let handle = csp::spawn(csp::Process::from_fn("logger", || ()))?;
    /// assert_eq!(handle.name(), "logger");
    /// assert_eq!(handle.join()?, Some(()));
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the process has ended.
    ///
    /// ```
    /// use csp::{spawn, Channel, Process};
    /// let (tx, rx) = Channel::<()>::new().one2one();
    /// let waiter = spawn(Process::with_ends("waiter", rx, |rx| Ok(rx.read()?)))?;
    /// assert!(!waiter.is_finished()); // blocked on its read
    /// tx.write(())?; // a rendezvous: the waiter has the value when this returns
    /// waiter.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// Waits for the process: its result, `None` if it stopped because of poison, or
    /// the failure naming it.
    ///
    /// ```
    /// use csp::{spawn, Channel, Process};
    /// let (tx, rx) = Channel::<u8>::new().one2one();
    /// let reader = spawn(Process::with_ends("reader", rx, |rx| Ok(rx.read()?)))?;
    /// tx.poison();
    /// assert_eq!(reader.join()?, None); // stopped by poison: not a failure
    /// let broken = spawn(Process::from_fn("broken", || panic!("oops")))?;
    /// assert_eq!(broken.join().unwrap_err().failures()[0].process(), "broken");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
