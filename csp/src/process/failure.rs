//! How a process fails: [`Failure`], and the error type a process body returns.
//!
//! Layer: process; uses nothing above it.

use std::fmt;

/// The error type a process body may return: any error, boxed.
///
/// ```
/// use csp::{BoxError, Process};
/// // Any error converts with `?`: channel errors, I/O errors, strings.
/// let p = Process::new("parse", || -> Result<u32, BoxError> {
///     let n: u32 = "12".parse()?;
///     if n > 10 {
///         return Err(format!("{n} is too big").into());
///     }
///     Ok(n)
/// });
/// let err = csp::Sequence::new().add(p).run().unwrap_err();
/// assert_eq!(err.to_string(), "process 'parse' failed: 12 is too big");
/// ```
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// How one process failed.
///
/// ```
/// use csp::{Failure, NetworkError, Parallel, Process};
/// let err = Parallel::new()
///     .add(Process::from_fn("calm", || ()))
///     .add(Process::from_fn("fragile", || panic!("out of range")))
///     .add(Process::new("picky", || Err("bad input".into())))
///     .run()
///     .unwrap_err();
/// let NetworkError::Failed(failures) = err else { unreachable!() };
/// assert_eq!(failures.len(), 2); // "calm" did not fail
/// for failure in &failures {
///     match failure {
///         Failure::Panicked { process, message } => {
///             assert_eq!((process.as_str(), message.as_str()), ("fragile", "out of range"))
///         }
///         Failure::Error { process, error } => {
///             assert_eq!((process.as_str(), error.to_string().as_str()), ("picky", "bad input"))
///         }
///         other => panic!("unexpected {other}"),
///     }
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Failure {
    /// The process panicked.
    Panicked {
        /// The process's name.
        process: String,
        /// The panic message.
        message: String,
    },
    /// The process returned an error (other than a channel's `Poisoned`, which counts
    /// as stopping, not failing).
    Error {
        /// The process's name.
        process: String,
        /// What it returned.
        error: BoxError,
    },
    /// The process could not be started (e.g. the OS refused a thread or a fork).
    Start {
        /// The process's name.
        process: String,
        /// What the OS said.
        error: std::io::Error,
    },
    /// The forked OS process running the process was killed by a signal before it
    /// reported the process's ending (a segfault, an abort, `kill -9`).
    Killed {
        /// The process's name.
        process: String,
        /// The signal's number.
        signal: i32,
        /// The signal's name, e.g. `SIGKILL`.
        signal_name: String,
    },
    /// The forked OS process running the process exited (e.g. by
    /// `std::process::exit`) before it reported the process's ending.
    Exited {
        /// The process's name.
        process: String,
        /// The exit code.
        code: i32,
    },
}

impl Failure {
    /// The name of the process that failed.
    ///
    /// ```
    /// use csp::{Channel, Parallel, Process};
    /// let (tx, rx) = Channel::<u32>::new().one2one();
    /// let err = Parallel::new()
    ///     .add(Process::with_ends("producer", tx, |tx| {
    ///         for i in 0.. {
    ///             tx.write(i)?; // fails with `Poisoned` once the consumer failed: stopped, not failed
    ///         }
    ///         Ok(())
    ///     }))
    ///     .add(Process::with_ends("consumer", rx, |rx| {
    ///         let v = rx.read()?;
    ///         panic!("cannot handle {v}")
    ///     }))
    ///     .run()
    ///     .unwrap_err();
    /// let names: Vec<&str> = err.failures().iter().map(|f| f.process()).collect();
    /// assert_eq!(names, ["consumer"]);
    /// ```
    pub fn process(&self) -> &str {
        match self {
            Failure::Panicked { process, .. }
            | Failure::Error { process, .. }
            | Failure::Start { process, .. }
            | Failure::Killed { process, .. }
            | Failure::Exited { process, .. } => process,
        }
    }
}

impl Failure {
    /// The same failure, named by its path below the process `parent` (`farm/parse[2]`).
    pub(crate) fn under(mut self, parent: &str) -> Failure {
        let (Failure::Panicked { process, .. }
        | Failure::Error { process, .. }
        | Failure::Start { process, .. }
        | Failure::Killed { process, .. }
        | Failure::Exited { process, .. }) = &mut self;
        *process = format!("{parent}/{process}");
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Panicked { process, message } => {
                write!(f, "process '{process}' panicked: {message}")
            }
            Failure::Error { process, error } => {
                write!(f, "process '{process}' failed: {error}")
            }
            Failure::Start { process, error } => {
                write!(f, "process '{process}' could not start: {error}")
            }
            Failure::Killed {
                process,
                signal,
                signal_name,
            } => write!(
                f,
                "process '{process}' was killed by signal {signal} ({signal_name})"
            ),
            Failure::Exited { process, code } => write!(
                f,
                "process '{process}' exited with code {code} before reporting its result"
            ),
        }
    }
}
