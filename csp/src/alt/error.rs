//! Why an alt did not choose a guard.

use std::sync::Arc;

use crate::channel::ChannelError;

/// The error of an [`Alt`](crate::Alt) select.
///
/// ```
/// use csp::{Alt, AltError, Channel};
/// let (tx, rx) = Channel::<u8>::new().named("orders").one2one();
/// tx.poison();
/// let err = Alt::new().input(&rx, |v| v).pri_select().unwrap_err();
/// assert!(err.is_poisoned());
/// assert_eq!(err.guard(), Some(0));
/// assert_eq!(err.to_string(), "alt guard 0: channel 'orders' is poisoned");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AltError {
    /// The chosen guard's channel is poisoned, or retired on the other side, or this
    /// end was retired. `guard` is its number in the order guards were added, so a
    /// caller can disable it next time (e.g. a retired input of a merge).
    #[error("alt guard {guard}: {error}")]
    Channel {
        /// The guard's number (counting every guard added, enabled or not).
        guard: usize,
        /// What the channel said.
        #[source]
        error: ChannelError,
    },
    /// Every guard is disabled and there is no timeout or skip: the alt would wait
    /// forever.
    #[error("alt has no enabled guard and no timeout or skip: it would wait forever")]
    NoGuard,
    /// Two guards on one channel: the alt would have to meet itself.
    #[error("alt guards {first} and {second} are both on channel '{channel}'")]
    SameChannel {
        /// The channel.
        channel: Arc<str>,
        /// The first guard's number.
        first: usize,
        /// The second guard's number.
        second: usize,
    },
    /// A broken invariant of the alt protocol (a bug: please report it).
    #[error("alt on channel '{channel}': internal protocol error")]
    Internal {
        /// The channel involved.
        channel: Arc<str>,
    },
}

impl AltError {
    /// Why the engine chose nothing, with positions turned into guard numbers by `index`.
    pub(crate) fn from_refused(
        refused: super::engine::Refused,
        index: impl Fn(usize) -> usize,
    ) -> AltError {
        use super::engine::Refused;
        match refused {
            Refused::Guard { position, error } => AltError::Channel {
                guard: index(position),
                error,
            },
            Refused::NoGuard => AltError::NoGuard,
            Refused::SameChannel {
                channel,
                first,
                second,
            } => AltError::SameChannel {
                channel,
                first: index(first),
                second: index(second),
            },
            Refused::Internal { channel } => AltError::Internal { channel },
        }
    }

    /// The channel error, for a guard whose channel failed.
    ///
    /// ```
    /// use csp::{Alt, AltError, Channel};
    /// let (tx, rx) = Channel::<u8>::new().named("feed").one2one();
    /// drop(tx);
    /// let err = Alt::new().input(&rx, |v| v).pri_select().unwrap_err();
    /// assert_eq!(err.channel_error().map(|e| e.channel()), Some("feed"));
    /// assert!(AltError::NoGuard.channel_error().is_none());
    /// ```
    pub fn channel_error(&self) -> Option<&ChannelError> {
        match self {
            AltError::Channel { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The number of the guard whose channel failed.
    ///
    /// ```
    /// use csp::{Alt, Channel};
    /// let (_a_tx, a) = Channel::<u8>::new().one2one();
    /// let (b_tx, b) = Channel::<u8>::new().one2one();
    /// b_tx.poison();
    /// // Guards are numbered in the order they were added, disabled ones included.
    /// let err = Alt::new().input_if(false, &a, |v| v).input(&b, |v| v).pri_select().unwrap_err();
    /// assert_eq!(err.guard(), Some(1));
    /// ```
    pub fn guard(&self) -> Option<usize> {
        match self {
            AltError::Channel { guard, .. } => Some(*guard),
            _ => None,
        }
    }

    /// Whether the alt ended because a guard's channel is poisoned.
    ///
    /// ```
    /// use csp::{Alt, Channel};
    /// let (tx, rx) = Channel::<u8>::new().one2one();
    /// rx.poison();
    /// let err = Alt::new().output(&tx, 1, || ()).pri_select().unwrap_err();
    /// assert!(err.is_poisoned() && !err.is_retired());
    /// ```
    pub fn is_poisoned(&self) -> bool {
        self.channel_error().is_some_and(ChannelError::is_poisoned)
    }

    /// Whether the alt ended because a guard's channel is retired.
    ///
    /// ```
    /// use csp::{Alt, AltError, Channel};
    /// let (a_tx, a) = Channel::<u8>::new().fifo(1).one2one();
    /// let (b_tx, b) = Channel::<u8>::new().fifo(1).one2one();
    /// a_tx.write(1)?;
    /// drop((a_tx, b_tx)); // both inputs end: a merge keeps going until every input retired
    /// let mut open = [true, true];
    /// let mut got = Vec::new();
    /// while open.contains(&true) {
    ///     match Alt::new().input_if(open[0], &a, |v| v).input_if(open[1], &b, |v| v).pri_select() {
    ///         Ok(v) => got.push(v),
    ///         Err(e) if e.is_retired() => open[e.guard().unwrap()] = false,
    ///         Err(e) => return Err(e.into()),
    ///     }
    /// }
    /// assert_eq!(got, [1]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_retired(&self) -> bool {
        self.channel_error().is_some_and(ChannelError::is_retired)
    }
}
