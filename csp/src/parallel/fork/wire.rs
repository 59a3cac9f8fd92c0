//! What a forked child tells its parent: one frame per process that ended, on a pipe.
//! A frame is a 4-byte little-endian length and that many bytes of a postcard-encoded
//! [`Report`]. A frame that does not decode is an error naming the child's processes,
//! never a panic.

use std::io::{self, Read, Write};
use std::panic::{self, AssertUnwindSafe};

use serde::{Deserialize, Serialize};

use super::super::error::NetworkError;
use crate::process::{panic_message, BoxError, Exit, Failure};

/// The largest frame a parent accepts: a result bigger than this is refused by the
/// child's encoder (`Outcome::Failed`), rather than read as garbage by the parent.
pub(super) const MAX_FRAME: usize = 1 << 30;

/// How one process in the child ended.
#[derive(Serialize, Deserialize)]
pub(super) struct Report {
    /// The process's index among the child's processes.
    pub(super) member: u32,
    pub(super) outcome: Outcome,
}

#[derive(Serialize, Deserialize)]
pub(super) enum Outcome {
    /// Its result, encoded by the process's captured encoder.
    Done(Vec<u8>),
    /// It met poison.
    Stopped,
    /// It failed.
    Failed(WireFailure),
    /// It was a nested network whose processes failed: each, by its path in it.
    Nested(Vec<WireFailure>),
}

/// A [`Failure`] as text: an error's value cannot cross, its message does.
#[derive(Serialize, Deserialize)]
pub(super) struct WireFailure {
    kind: Kind,
    process: String,
    message: String,
    number: i32,
}

#[derive(Serialize, Deserialize)]
enum Kind {
    Panicked,
    Error,
    Start,
    Killed,
    Exited,
}

/// An error that happened in another OS process: its message.
#[derive(Debug)]
struct RemoteError(String);

impl std::fmt::Display for RemoteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RemoteError {}

impl Outcome {
    /// How the child reports `exit`.
    pub(super) fn of(exit: Exit<Vec<u8>>) -> Outcome {
        match exit {
            Exit::Done(bytes) => Outcome::Done(bytes),
            Exit::Stopped => Outcome::Stopped,
            Exit::Failed(Failure::Error { process, error }) => {
                match error.downcast::<NetworkError>() {
                    Ok(inner) => match *inner {
                        NetworkError::Failed(failures) => {
                            Outcome::Nested(failures.iter().map(WireFailure::of).collect())
                        }
                        other => Outcome::Failed(WireFailure::error(process, &other)),
                    },
                    Err(error) => Outcome::Failed(WireFailure::error(process, &*error)),
                }
            }
            Exit::Failed(f) => Outcome::Failed(WireFailure::of(&f)),
        }
    }

    /// The ending in the parent, for the process `name` whose result `decode` reads.
    pub(super) fn into_exit<R>(
        self,
        name: &str,
        decode: impl FnOnce(&[u8]) -> Result<R, BoxError>,
    ) -> Exit<R> {
        match self {
            // `decode` includes the process's `map`s, run here in the parent: a panic
            // in one is the process's, as it would be on a thread.
            Outcome::Done(bytes) => {
                match panic::catch_unwind(AssertUnwindSafe(|| decode(&bytes))) {
                    Ok(Ok(r)) => Exit::Done(r),
                    Ok(Err(e)) => Exit::Failed(Failure::Error {
                        process: name.to_string(),
                        error: format!("its result did not decode: {e}").into(),
                    }),
                    Err(payload) => Exit::Failed(Failure::Panicked {
                        process: name.to_string(),
                        message: panic_message(&*payload),
                    }),
                }
            }
            Outcome::Stopped => Exit::Stopped,
            Outcome::Failed(f) => Exit::Failed(f.into_failure()),
            // Wrapped as the nested network's own error, so that the completion loop
            // names each failure under this process's path, as for a nested thread.
            Outcome::Nested(fs) => Exit::Failed(Failure::Error {
                process: name.to_string(),
                error: Box::new(NetworkError::Failed(
                    fs.into_iter().map(WireFailure::into_failure).collect(),
                )),
            }),
        }
    }
}

impl WireFailure {
    fn error(process: String, error: &dyn std::error::Error) -> WireFailure {
        WireFailure {
            kind: Kind::Error,
            process,
            message: error.to_string(),
            number: 0,
        }
    }

    fn of(f: &Failure) -> WireFailure {
        let (kind, message, number) = match f {
            Failure::Panicked { message, .. } => (Kind::Panicked, message.clone(), 0),
            Failure::Error { error, .. } => (Kind::Error, error.to_string(), 0),
            Failure::Start { error, .. } => (Kind::Start, error.to_string(), 0),
            Failure::Killed {
                signal,
                signal_name,
                ..
            } => (Kind::Killed, signal_name.clone(), *signal),
            Failure::Exited { code, .. } => (Kind::Exited, String::new(), *code),
        };
        let process = f.process().to_string();
        WireFailure {
            kind,
            process,
            message,
            number,
        }
    }

    fn into_failure(self) -> Failure {
        let WireFailure {
            kind,
            process,
            message,
            number,
        } = self;
        match kind {
            Kind::Panicked => Failure::Panicked { process, message },
            Kind::Error => Failure::Error {
                process,
                error: Box::new(RemoteError(message)),
            },
            Kind::Start => Failure::Start {
                process,
                error: io::Error::other(message),
            },
            Kind::Killed => Failure::Killed {
                process,
                signal: number,
                signal_name: message,
            },
            Kind::Exited => Failure::Exited {
                process,
                code: number,
            },
        }
    }
}

/// Writes one frame.
pub(super) fn send(out: &mut impl Write, report: &Report) -> io::Result<()> {
    let bytes = postcard::to_allocvec(report).map_err(io::Error::other)?;
    if bytes.len() > MAX_FRAME {
        return Err(io::Error::other("report larger than the frame limit"));
    }
    // The length fits in u32: MAX_FRAME is below 2^32.
    out.write_all(&(bytes.len() as u32).to_le_bytes())?;
    out.write_all(&bytes)
}

/// Reads one frame: `Ok(None)` at a clean end of the stream.
pub(super) fn receive(input: &mut impl Read) -> io::Result<Option<Report>> {
    let mut len = [0u8; 4];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::other(format!("frame of {len} bytes")));
    }
    let mut bytes = vec![0; len];
    input.read_exact(&mut bytes)?;
    postcard::from_bytes(&bytes)
        .map(Some)
        .map_err(|e| io::Error::other(format!("malformed frame: {e}")))
}
