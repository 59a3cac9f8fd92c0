//! What can go wrong on a channel. Every error names its channel.

use std::fmt;
use std::sync::Arc;

use super::core::Core;
use super::Side;
use crate::park::Outcome;

/// The error of a channel operation.
///
/// ```
/// use csp::{Channel, ChannelError};
/// let (tx, rx) = Channel::<u8>::new().named("numbers").one2one();
/// drop(tx);
/// let err = rx.read().unwrap_err();
/// assert!(matches!(err, ChannelError::Retired { .. }));
/// assert_eq!(err.to_string(), "channel 'numbers' is retired: every writer has retired and nothing is buffered");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChannelError {
    /// The channel was poisoned: every pending and later operation fails.
    #[error("channel '{channel}' is poisoned")]
    Poisoned {
        /// The channel's name.
        channel: Arc<str>,
    },
    /// The other side has retired: all writers (after the buffer drained), or all readers.
    #[error("channel '{channel}' is retired: {}", side.describe())]
    Retired {
        /// The channel's name.
        channel: Arc<str>,
        /// Which side retired.
        side: RetiredSide,
    },
    /// The deadline passed before the operation could complete.
    #[error("timed out on channel '{channel}'")]
    Timeout {
        /// The channel's name.
        channel: Arc<str>,
    },
    /// `try_write` found no reader waiting and no room in the buffer.
    #[error("channel '{channel}' is full")]
    Full {
        /// The channel's name.
        channel: Arc<str>,
    },
    /// `try_read` found no writer waiting and nothing buffered.
    #[error("channel '{channel}' is empty")]
    Empty {
        /// The channel's name.
        channel: Arc<str>,
    },
    /// A value that crossed an OS-process boundary could not be encoded or decoded.
    #[error("channel '{channel}': cannot {operation} a message: {message}")]
    Codec {
        /// The channel's name.
        channel: Arc<str>,
        /// `encode` or `decode`.
        operation: &'static str,
        /// What the codec said.
        message: String,
    },
    /// A value's encoding is larger than the channel's frame limit, so it cannot cross
    /// an OS-process boundary (it is never truncated).
    #[error("channel '{channel}': a message of {len} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The channel's name.
        channel: Arc<str>,
        /// The encoded size.
        len: usize,
        /// The channel's limit.
        limit: usize,
    },
    /// The transport between OS processes failed (the OS refused shared memory, or a
    /// limit of the cross-process flavour was reached).
    #[error("channel '{channel}': {message}")]
    Transport {
        /// The channel's name.
        channel: Arc<str>,
        /// What went wrong.
        message: String,
    },
}

/// Which side of a channel retired.
///
/// ```
/// use csp::channel::RetiredSide;
/// use csp::{Channel, ChannelError};
/// let (tx, rx) = Channel::<u8>::new().one2one();
/// drop(rx); // the only reader retires: a writer learns it was the readers' side
/// let err = tx.write(1).unwrap_err();
/// assert!(matches!(err.error(), ChannelError::Retired { side: RetiredSide::Readers, .. }));
/// tx.retire();
/// let err = tx.write(2).unwrap_err(); // now this end itself is retired
/// assert!(matches!(err.error(), ChannelError::Retired { side: RetiredSide::ThisEnd, .. }));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetiredSide {
    /// Every writer retired (the reader sees this once the buffer is drained).
    Writers,
    /// Every reader retired.
    Readers,
    /// This very end was retired earlier.
    ThisEnd,
}

impl RetiredSide {
    fn describe(self) -> &'static str {
        match self {
            RetiredSide::Writers => "every writer has retired and nothing is buffered",
            RetiredSide::Readers => "every reader has retired",
            RetiredSide::ThisEnd => "this end was retired",
        }
    }
}

impl ChannelError {
    /// The name of the channel the error happened on.
    ///
    /// ```
    /// let (tx, rx) = csp::Channel::<u8>::new().named("orders").one2one();
    /// tx.poison();
    /// assert_eq!(rx.read().unwrap_err().channel(), "orders");
    /// ```
    pub fn channel(&self) -> &str {
        match self {
            ChannelError::Poisoned { channel }
            | ChannelError::Retired { channel, .. }
            | ChannelError::Timeout { channel }
            | ChannelError::Full { channel }
            | ChannelError::Empty { channel }
            | ChannelError::Codec { channel, .. }
            | ChannelError::TooLarge { channel, .. }
            | ChannelError::Transport { channel, .. } => channel,
        }
    }

    /// Whether the error is `Poisoned`.
    ///
    /// ```
    /// let (tx, rx) = csp::Channel::<u8>::new().fifo(1).one2one();
    /// tx.write(1)?;
    /// rx.poison(); // poison aborts: even the buffered value is not read
    /// assert!(rx.read().unwrap_err().is_poisoned());
    /// assert!(tx.write(2).unwrap_err().error().is_poisoned());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_poisoned(&self) -> bool {
        matches!(self, ChannelError::Poisoned { .. })
    }

    /// Whether the error is `Retired`.
    ///
    /// ```
    /// let (tx, rx) = csp::Channel::<u8>::new().fifo(1).one2one();
    /// tx.write(1)?;
    /// drop(tx); // retire: the reader drains the buffer first
    /// assert_eq!(rx.read()?, 1);
    /// assert!(rx.read().unwrap_err().is_retired());
    /// # Ok::<(), csp::ChannelError>(())
    /// ```
    pub fn is_retired(&self) -> bool {
        matches!(self, ChannelError::Retired { .. })
    }

    /// Whether the error is `Timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let (_tx, rx) = csp::Channel::<u8>::new().one2one();
    /// let err = rx.read_timeout(Duration::from_millis(1)).unwrap_err();
    /// assert!(err.is_timeout() && !err.is_retired());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, ChannelError::Timeout { .. })
    }
}

/// A failed write: the error, and the value handed back (as std's and crossbeam's
/// `SendError` do), so nothing is lost silently.
///
/// ```
/// use csp::{Channel, ChannelError};
/// let (tx, rx) = Channel::<String>::new().one2one();
/// let err = tx.try_write("hello".to_string()).unwrap_err();
/// assert!(matches!(err.error(), ChannelError::Full { .. }));
/// assert_eq!(err.into_inner().as_deref(), Some("hello"));
/// # drop(rx);
/// ```
///
/// The value is back in every case but one: a reader took it into an extended
/// rendezvous block ([`Input::read_with`](crate::Input::read_with)) that panicked. The
/// write then fails with `Poisoned` (the reader poisoned the channel) and the value is
/// gone with the block.
pub struct WriteError<T> {
    error: ChannelError,
    // In a mutex only to make the error `Sync` for any `T: Send` (so `?` converts it
    // into a `BoxError`) without `unsafe`: nothing ever locks it while shared.
    value: std::sync::Mutex<Option<T>>,
}

impl<T> WriteError<T> {
    pub(crate) fn new(error: ChannelError, value: T) -> Self {
        WriteError {
            error,
            value: std::sync::Mutex::new(Some(value)),
        }
    }

    /// A write whose value a reader took and lost (see above).
    pub(crate) fn lost(error: ChannelError) -> Self {
        WriteError {
            error,
            value: std::sync::Mutex::new(None),
        }
    }

    /// What went wrong.
    ///
    /// ```
    /// use csp::{Channel, ChannelError};
    /// let (tx, rx) = Channel::<u8>::new().named("done").one2one();
    /// drop(rx);
    /// let err = tx.write(1).unwrap_err();
    /// assert!(matches!(err.error(), ChannelError::Retired { .. }));
    /// assert_eq!(err.error().channel(), "done");
    /// ```
    pub fn error(&self) -> &ChannelError {
        &self.error
    }

    /// The value that was not written (`None` only if a panicking extended-rendezvous
    /// block took it).
    ///
    /// ```
    /// let (tx, _rx) = csp::Channel::<Vec<u8>>::new().one2one();
    /// let big = vec![0u8; 1024];
    /// let err = tx.try_write(big).unwrap_err(); // no reader waiting on a rendezvous
    /// let big = err.into_inner().expect("a failed write hands the value back");
    /// assert_eq!(big.len(), 1024);
    /// ```
    pub fn into_inner(self) -> Option<T> {
        self.into_parts().1
    }

    /// The value handed back, or the error itself if the value was lost: what a
    /// process that retries a write wants (`let v = err.handed_back()?;`).
    ///
    /// ```
    /// let (tx, rx) = csp::Channel::<u8>::new().fifo(1).one2one();
    /// tx.write(1)?;
    /// let retry = tx.try_write(2).unwrap_err().handed_back()?;
    /// assert_eq!((rx.read()?, retry), (1, 2));
    /// # Ok::<(), csp::ChannelError>(())
    /// ```
    pub fn handed_back(self) -> Result<T, ChannelError> {
        let (error, value) = self.into_parts();
        value.ok_or(error)
    }

    /// Both parts.
    ///
    /// ```
    /// let (tx, rx) = csp::Channel::<String>::new().one2one();
    /// rx.poison();
    /// let (error, value) = tx.write("order 7".to_string()).unwrap_err().into_parts();
    /// assert!(error.is_poisoned());
    /// assert_eq!(value.as_deref(), Some("order 7"));
    /// ```
    pub fn into_parts(self) -> (ChannelError, Option<T>) {
        let value = self
            .value
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (self.error, value)
    }
}

impl<T> fmt::Debug for WriteError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteError")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for WriteError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "write failed: {}", self.error)
    }
}

impl<T> std::error::Error for WriteError<T> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl<T> From<WriteError<T>> for ChannelError {
    fn from(e: WriteError<T>) -> ChannelError {
        e.error
    }
}

/// The errors of the in-memory flavour, each naming its channel.
impl<T> Core<T> {
    pub(crate) fn poisoned_error(&self) -> ChannelError {
        crate::park::process::note_poisoned();
        ChannelError::Poisoned {
            channel: self.name(),
        }
    }

    pub(super) fn retired_error(&self, side: RetiredSide) -> ChannelError {
        ChannelError::Retired {
            channel: self.name(),
            side,
        }
    }

    /// The error for a wait on `side` that ended other than by being selected.
    pub(super) fn wait_error(&self, outcome: Outcome, side: Side) -> ChannelError {
        match outcome {
            Outcome::Poisoned(_) => self.poisoned_error(),
            Outcome::Retired(_) => self.retired_error(match side {
                Side::Read => RetiredSide::Writers,
                Side::Write => RetiredSide::Readers,
            }),
            Outcome::Aborted | Outcome::Selected(_) => ChannelError::Timeout {
                channel: self.name(),
            },
        }
    }

    pub(super) fn would_block_error(&self, side: Side) -> ChannelError {
        let channel = self.name();
        match side {
            Side::Read => ChannelError::Empty { channel },
            Side::Write => ChannelError::Full { channel },
        }
    }
}
