//! How a process fails: [`Failure`], and the error type a process body returns.
//!
//! Layer: process; uses nothing above it.

use std::fmt;

/// The error type a process body may return: any error, boxed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// How one process failed.
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
