//! The typed ends of a channel between two programs: [`NetOutput`] writes, [`NetInput`]
//! reads, with the operations and errors of local ends.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::endpoint::Endpoint;
use super::peer::Taken;
use crate::channel::{ChannelError, Codec, Wire, WriteError};

/// The writing end of a channel to another program (made by [`named`](super::named) or
/// [`tcp`](super::tcp)). `write` returns once the other program's reader has taken the
/// value, as on a local rendezvous channel.
///
/// ```
/// # let path = std::env::temp_dir().join(format!("csp-doc-out-{}.sock", std::process::id()));
/// use csp::net::named;
///
/// let rx = named::listen::<String>(&path)?; // this program reads
/// let writer = std::thread::spawn({
///     let path = path.clone();
///     move || -> Result<(), csp::BoxError> {
///         let tx = named::connect::<String>(&path)?; // another program, usually
///         tx.write("hello".to_string())?;
///         Ok(())
///     }
/// });
/// assert_eq!(rx.read()?, "hello");
/// writer.join().unwrap()?;
/// # Ok::<(), csp::BoxError>(())
/// ```
pub struct NetOutput<T> {
    pub(crate) end: Endpoint,
    pub(crate) codec: Codec<T>,
}

/// The reading end of a channel from another program (made by [`named`](super::named)
/// or [`tcp`](super::tcp)). See [`NetOutput`] for an example.
///
/// ```
/// # let path = std::env::temp_dir().join(format!("csp-doc-in-{}.sock", std::process::id()));
/// use csp::net::named;
///
/// let rx = named::listen::<u32>(&path)?;
/// let writer = std::thread::spawn({
///     let path = path.clone();
///     move || -> Result<(), csp::BoxError> {
///         let tx = named::connect::<u32>(&path)?;
///         for i in 1..=3 {
///             tx.write(i)?;
///         }
///         Ok(()) // dropping `tx` retires the channel: the reader's loop ends
///     }
/// });
/// assert_eq!(rx.iter().sum::<u32>(), 6);
/// writer.join().unwrap()?;
/// # Ok::<(), csp::BoxError>(())
/// ```
pub struct NetInput<T> {
    pub(crate) end: Endpoint,
    pub(crate) codec: Codec<T>,
}

impl<T: Wire> NetOutput<T> {
    pub(crate) fn new(end: Endpoint, max_frame: usize) -> NetOutput<T> {
        let mut codec = Codec::new();
        codec.max_frame = max_frame;
        NetOutput { end, codec }
    }

    /// Writes `value` and waits until the reader in the other program has taken it
    /// (on a buffered channel, [`Named::buffer`](super::named::Named::buffer), only
    /// until it is sent, once there is room). Fails, handing the value back, if the
    /// reader poisons or retires the channel or its program goes away first (then a
    /// `Transport` error naming the place).
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("csp-doc-w-{}.sock", std::process::id()));
    /// use csp::net::named::{self, Named};
    /// let tx = Named::<u8>::at(&path).listen_writer()?;
    /// let t = std::thread::spawn({
    ///     let path = path.clone();
    ///     move || drop(named::connect_reader::<u8>(&path)) // the reader leaves at once
    /// });
    /// let err = tx.write(1).unwrap_err();
    /// assert!(err.error().is_retired());
    /// assert_eq!(err.into_inner(), Some(1)); // not taken: handed back to the writer
    /// # t.join().unwrap();
    /// # Ok::<(), csp::BoxError>(())
    /// ```
    pub fn write(&self, value: T) -> Result<(), WriteError<T>> {
        self.write_until(value, None)
    }

    /// As [`write`](Self::write), but gives up with `Timeout` (and the value back) if no
    /// reader claimed the value within `timeout` (on a buffered channel: if no room came
    /// within it): lossless, the value was not taken.
    /// (A reader that claimed it in time gets it, even if the last round trip ends
    /// after the deadline.) A tentative value needs one round trip to the reader to be
    /// claimed, so a zero timeout, which a local channel with a waiting reader meets,
    /// always times out here.
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("csp-doc-wt-{}.sock", std::process::id()));
    /// use std::time::Duration;
    /// use csp::net::named;
    /// let tx = named::Named::<u8>::at(&path).listen_writer()?;
    /// let err = tx.write_timeout(5, Duration::from_millis(20)).unwrap_err(); // nobody connected
    /// assert!(err.error().is_timeout());
    /// assert_eq!(err.into_inner(), Some(5));
    /// # Ok::<(), csp::BoxError>(())
    /// ```
    pub fn write_timeout(&self, value: T, timeout: Duration) -> Result<(), WriteError<T>> {
        self.write_until(value, Some(Instant::now() + timeout))
    }

    fn write_until(&self, value: T, deadline: Option<Instant>) -> Result<(), WriteError<T>> {
        let channel = self.end.spec.channel.clone();
        let bytes = match self.codec.encode(&channel, &value) {
            Ok(bytes) => bytes,
            Err(e) => return Err(WriteError::new(e, value)),
        };
        if bytes.len() > self.codec.max_frame {
            let (len, limit) = (bytes.len(), self.codec.max_frame);
            let e = ChannelError::TooLarge {
                channel,
                len,
                limit,
            };
            return Err(WriteError::new(e, value));
        }
        match self
            .end
            .with_peer(deadline, |peer| peer.write(&bytes, deadline))
        {
            Ok(()) => Ok(()),
            Err(e) => Err(WriteError::new(e, value)),
        }
    }

    /// Poisons the channel: the reader in the other program gets `Poisoned` (now, if it
    /// waits), and so does every later operation here.
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("csp-doc-wp-{}.sock", std::process::id()));
    /// use csp::net::named;
    /// let rx = named::listen::<u8>(&path)?;
    /// let t = std::thread::spawn({
    ///     let path = path.clone();
    ///     move || named::connect::<u8>(&path).map(|tx| tx.poison())
    /// });
    /// assert!(rx.read().unwrap_err().is_poisoned());
    /// t.join().unwrap()?;
    /// # Ok::<(), csp::BoxError>(())
    /// ```
    pub fn poison(&self) {
        self.end.poison();
    }

    /// Retires this end (as dropping it does): the reader sees `Retired` once it has
    /// taken what was written.
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("csp-doc-wr-{}.sock", std::process::id()));
    /// use csp::net::named;
    /// let rx = named::listen::<u8>(&path)?;
    /// let t = std::thread::spawn({
    ///     let path = path.clone();
    ///     move || -> Result<(), csp::BoxError> {
    ///         let tx = named::connect::<u8>(&path)?;
    ///         tx.write(1)?;
    ///         tx.retire();
    ///         Ok(())
    ///     }
    /// });
    /// assert_eq!(rx.read()?, 1);
    /// assert!(rx.read().unwrap_err().is_retired());
    /// t.join().unwrap()?;
    /// # Ok::<(), csp::BoxError>(())
    /// ```
    pub fn retire(&self) {
        self.end.retire();
    }

    /// Whether the channel was poisoned (here, or by the other program as far as this
    /// end has seen).
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("csp-doc-wip-{}.sock", std::process::id()));
    /// let tx = csp::net::named::Named::<u8>::at(&path).listen_writer()?;
    /// tx.poison();
    /// assert!(tx.is_poisoned());
    /// # Ok::<(), csp::BoxError>(())
    /// ```
    pub fn is_poisoned(&self) -> bool {
        self.end.is_poisoned()
    }

    /// The channel's name (in every error).
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("csp-doc-wn-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let tx = csp::net::named::Named::<u8>::at(dir.join("jobs")).listen_writer()?;
    /// assert_eq!(&*tx.name(), "jobs"); // by default the path's file name
    /// # drop(tx);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), csp::BoxError>(())
    /// ```
    pub fn name(&self) -> Arc<str> {
        self.end.spec.channel.clone()
    }

    /// Where the channel goes: "named channel 'jobs' at /tmp/jobs", "tcp channel ...".
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("csp-doc-wpl-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let tx = csp::net::named::Named::<u8>::at(dir.join("jobs")).listen_writer()?;
    /// assert!(tx.place().starts_with("named channel 'jobs' at "));
    /// # drop(tx);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), csp::BoxError>(())
    /// ```
    pub fn place(&self) -> &str {
        &self.end.spec.place
    }
}

impl<T: Wire> NetInput<T> {
    pub(crate) fn new(end: Endpoint, max_frame: usize) -> NetInput<T> {
        let mut codec = Codec::new();
        codec.max_frame = max_frame;
        NetInput { end, codec }
    }

    /// Reads the next value the other program writes; fails with `Retired` once it has
    /// retired (or dropped) its end, `Poisoned` if it poisoned it, and `Transport`
    /// naming the place if it went away without either (it died).
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("csp-doc-r-{}.sock", std::process::id()));
    /// use csp::net::named;
    /// let tx = named::Named::<(u8, String)>::at(&path).listen_writer()?; // this side writes
    /// let t = std::thread::spawn({
    ///     let path = path.clone();
    ///     move || named::connect_reader::<(u8, String)>(&path)?.read().map_err(csp::BoxError::from)
    /// });
    /// tx.write((1, "one".into()))?;
    /// assert_eq!(t.join().unwrap()?, (1, "one".to_string()));
    /// # Ok::<(), csp::BoxError>(())
    /// ```
    pub fn read(&self) -> Result<T, ChannelError> {
        self.read_until(None, |v| v)
    }

    /// As [`read`](Self::read), giving up with `Timeout` after `timeout`; nothing is
    /// lost: a value the writer offers later is read by a later read.
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("csp-doc-rt-{}.sock", std::process::id()));
    /// use std::time::Duration;
    /// let rx = csp::net::named::listen::<u8>(&path)?;
    /// assert!(rx.read_timeout(Duration::from_millis(10)).unwrap_err().is_timeout());
    /// # Ok::<(), csp::BoxError>(())
    /// ```
    pub fn read_timeout(&self, timeout: Duration) -> Result<T, ChannelError> {
        self.read_until(Some(Instant::now() + timeout), |v| v)
    }

    /// Extended rendezvous: runs `block` on the value before the writer is released
    /// (its `write` returns after `block` did). `block` must not use this end.
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("csp-doc-rw-{}.sock", std::process::id()));
    /// use csp::net::named;
    /// let rx = named::listen::<u8>(&path)?;
    /// let t = std::thread::spawn({
    ///     let path = path.clone();
    ///     move || named::connect::<u8>(&path).unwrap().write(4).is_ok()
    /// });
    /// assert_eq!(rx.read_with(|v| v * 10)?, 40);
    /// assert!(t.join().unwrap());
    /// # Ok::<(), csp::BoxError>(())
    /// ```
    pub fn read_with<R>(&self, block: impl FnOnce(T) -> R) -> Result<R, ChannelError> {
        self.read_until(None, block)
    }

    fn read_until<R>(
        &self,
        deadline: Option<Instant>,
        block: impl FnOnce(T) -> R,
    ) -> Result<R, ChannelError> {
        self.take(deadline, |v| Taken::Took(block(v)))
    }

    /// Reads a value and lets `take` decide whether it is taken (acked) or refused
    /// (the writer then gets poison or retirement and its value back): what a bridge
    /// that must not lose a value it cannot pass on needs.
    pub(crate) fn take<R>(
        &self,
        deadline: Option<Instant>,
        take: impl FnOnce(T) -> Taken<R>,
    ) -> Result<R, ChannelError> {
        let channel = &self.end.spec.channel;
        self.end.with_peer(deadline, |peer| {
            peer.read(deadline, |bytes| match self.codec.decode(channel, bytes) {
                Ok(v) => take(v),
                Err(error) => Taken::Refused {
                    poison: true,
                    error,
                },
            })
        })
    }

    /// The values read until the other program retires or poisons the channel (or
    /// goes away).
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("csp-doc-ri-{}.sock", std::process::id()));
    /// use csp::net::named;
    /// let rx = named::listen::<char>(&path)?;
    /// let t = std::thread::spawn({
    ///     let path = path.clone();
    ///     move || -> Result<(), csp::BoxError> {
    ///         let tx = named::connect::<char>(&path)?;
    ///         "abc".chars().try_for_each(|c| tx.write(c))?;
    ///         Ok(())
    ///     }
    /// });
    /// assert_eq!(rx.iter().collect::<String>(), "abc");
    /// t.join().unwrap()?;
    /// # Ok::<(), csp::BoxError>(())
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        std::iter::from_fn(move || self.read().ok())
    }

    /// Poisons the channel: the writer in the other program gets `Poisoned` (with its
    /// value back, if it was writing), and so does every later operation here.
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("csp-doc-rp-{}.sock", std::process::id()));
    /// use csp::net::named;
    /// let rx = named::listen::<u8>(&path)?;
    /// rx.poison(); // before any peer came: the socket file goes
    /// assert!(rx.read().unwrap_err().is_poisoned());
    /// assert!(named::connect::<u8>(&path).is_err());
    /// # Ok::<(), csp::BoxError>(())
    /// ```
    pub fn poison(&self) {
        self.end.poison();
    }

    /// Retires this end (as dropping it does): a writer waiting, or writing later, gets
    /// `Retired` and its value back.
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("csp-doc-rr-{}.sock", std::process::id()));
    /// let rx = csp::net::named::listen::<u8>(&path)?;
    /// rx.retire();
    /// assert!(rx.read().unwrap_err().is_retired());
    /// # Ok::<(), csp::BoxError>(())
    /// ```
    pub fn retire(&self) {
        self.end.retire();
    }

    /// Whether the channel was poisoned (here, or by the other program as far as this
    /// end has seen).
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("csp-doc-rip-{}.sock", std::process::id()));
    /// let rx = csp::net::named::listen::<u8>(&path)?;
    /// assert!(!rx.is_poisoned());
    /// # Ok::<(), csp::BoxError>(())
    /// ```
    pub fn is_poisoned(&self) -> bool {
        self.end.is_poisoned()
    }

    /// The channel's name (in every error).
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("csp-doc-rn-{}.sock", std::process::id()));
    /// let rx = csp::net::named::Named::<u8>::at(&path).named("jobs").listen_reader()?;
    /// assert_eq!(&*rx.name(), "jobs");
    /// # Ok::<(), csp::BoxError>(())
    /// ```
    pub fn name(&self) -> Arc<str> {
        self.end.spec.channel.clone()
    }

    /// Where the channel comes from: "named channel 'jobs' at /tmp/jobs", ...
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("csp-doc-rpl-{}.sock", std::process::id()));
    /// let rx = csp::net::named::listen::<u8>(&path)?;
    /// assert!(rx.place().contains(&*path.to_string_lossy()));
    /// # Ok::<(), csp::BoxError>(())
    /// ```
    pub fn place(&self) -> &str {
        &self.end.spec.place
    }
}

impl<T> std::fmt::Debug for NetOutput<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetOutput")
            .field("place", &self.end.spec.place)
            .finish_non_exhaustive()
    }
}

impl<T> std::fmt::Debug for NetInput<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetInput")
            .field("place", &self.end.spec.place)
            .finish_non_exhaustive()
    }
}
