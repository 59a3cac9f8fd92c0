//! What can go wrong when setting up a connection between programs. Once connected,
//! the ends report [`ChannelError`](crate::ChannelError)s, as local ends do.

use std::io;

/// The error of making a connection: listening, connecting, the hello exchange.
/// Each names the place concerned: the named channel and its path, or the bridge and
/// its peer's address.
///
/// ```
/// let err = csp::net::named::connect::<u32>("/nonexistent/dir/jobs.sock").unwrap_err();
/// assert!(err.to_string().contains("/nonexistent/dir/jobs.sock"), "{err}");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// The socket could not be made or bound.
    #[error("cannot listen at {place}: {source}")]
    Listen {
        /// The named channel and its path, or the bridge and its address.
        place: String,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// A live program already listens at this path.
    #[error("{place}: a live program already listens there")]
    InUse {
        /// The named channel and its path.
        place: String,
    },
    /// The path exists and is not a socket: it is left alone.
    #[error("{place}: the path exists and is not a socket; refusing to replace it")]
    NotASocket {
        /// The named channel and its path.
        place: String,
    },
    /// Nobody listens there (no such file, a stale socket of a dead program, a port
    /// nobody serves), or the OS refused the connection.
    #[error("cannot connect to {place}: {source}")]
    Connect {
        /// The named channel and its path, or the bridge and its peer.
        place: String,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// The other side refused this end: it already has a peer, it carries another type,
    /// it is another channel, or it has the same role (two readers).
    #[error("{place} refused the connection: {reason}")]
    Refused {
        /// The named channel and its path, or the bridge and its peer.
        place: String,
        /// Why.
        reason: String,
    },
    /// The other side is not a csp end: garbage, or it closed during the hello.
    #[error("handshake with {place} failed: {message}")]
    Handshake {
        /// The named channel and its path, or the bridge and its peer.
        place: String,
        /// What was wrong.
        message: String,
    },
    /// No peer came before the deadline.
    #[error("{place}: no peer connected in time")]
    Timeout {
        /// The named channel and its path, or the bridge and its address.
        place: String,
    },
}
