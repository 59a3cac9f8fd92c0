//! A duplex connection: two channels, one each way, held as one value per side —
//! Python's `multiprocessing.Pipe()` (duplex by default) and a socket's two directions.
//!
//! Each side sends values of one type and receives values of the other; the two
//! channels keep every channel's semantics (a rendezvous `send` returns once the other
//! side has the value, timeouts lose nothing, poison and retire reach the other side),
//! also between forked OS processes.

use std::time::Duration;

use super::{Channel, ChannelError, Input, Output, Wire, WriteError};

/// One side of a duplex connection: sends `S`, receives `R`.
///
/// ```
/// use csp::{duplex, Parallel, Process};
/// // The parent answers what the child says (Python's `Pipe()` in duplex mode).
/// let (parent, child) = duplex::<String, String>("talk");
/// let results = Parallel::new()
///     .add(Process::with_ends("talker", child, |conn| {
///         conn.send("i am the child".to_string())?;
///         Ok(conn.recv()?)
///     }))
///     .add(Process::with_ends("parent", parent, |conn| {
///         let said = conn.recv()?;
///         conn.send(format!("got '{said}'"))?;
///         Ok(said)
///     }))
///     .run()?;
/// assert_eq!(results[0].as_deref(), Some("got 'i am the child'"));
/// # Ok::<(), csp::NetworkError>(())
/// ```
pub struct Duplex<S, R> {
    tx: Output<S>,
    rx: Input<R>,
}

/// A duplex connection named `name` over two rendezvous channels, `name>` (from the first
/// side to the second) and `name<` (back); see [`Duplex`]. Both value types must be able
/// to cross OS processes; use [`Duplex::over`] for buffered or local channels.
///
/// ```
/// // A request/reply connection: u32 one way, String the other.
/// let (client, server) = csp::duplex::<u32, String>("api");
/// let server = std::thread::spawn(move || -> Result<(), csp::ChannelError> {
///     for n in server.receiver() {
///         server.send(format!("#{n}"))?;
///     }
///     Ok(())
/// });
/// client.send(7)?;
/// assert_eq!(client.recv()?, "#7");
/// drop(client); // retires both directions: the server's loop ends
/// server.join().unwrap()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn duplex<A: Wire, B: Wire>(name: &str) -> (Duplex<A, B>, Duplex<B, A>) {
    Duplex::over(
        Channel::new().named(format!("{name}>")),
        Channel::new().named(format!("{name}<")),
    )
}

impl<S: Send + 'static, R: Send + 'static> Duplex<S, R> {
    /// A duplex connection over the two channels given as built so far (name, buffer,
    /// frame limit): `there` carries the first side's values to the second, `back` the
    /// other way.
    ///
    /// ```
    /// use csp::{Channel, Duplex};
    /// // A buffered connection: each side may send two values ahead.
    /// let (a, b) = Duplex::over(Channel::<u32>::new().fifo(2), Channel::<u32>::new().fifo(2));
    /// a.send(1)?;
    /// a.send(2)?;
    /// b.send(10)?;
    /// assert_eq!((b.recv()?, b.recv()?, a.recv()?), (1, 2, 10));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn over(there: Channel<S>, back: Channel<R>) -> (Duplex<S, R>, Duplex<R, S>) {
        let (tx_there, rx_there) = there.one2one();
        let (tx_back, rx_back) = back.one2one();
        (
            Duplex {
                tx: tx_there,
                rx: rx_back,
            },
            Duplex {
                tx: tx_back,
                rx: rx_there,
            },
        )
    }
}

impl<S, R> Duplex<S, R> {
    /// Sends a value to the other side (see [`Output::write`]).
    ///
    /// ```
    /// let (a, b) = csp::Duplex::over(csp::Channel::<u8>::new().fifo(1), csp::Channel::<u8>::new());
    /// a.send(1)?; // buffered: returns at once
    /// assert_eq!(b.recv()?, 1);
    /// drop(b);
    /// assert!(a.send(2).unwrap_err().error().is_retired()); // the other side is gone
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send(&self, value: S) -> Result<(), WriteError<S>> {
        self.tx.write(value)
    }

    /// Receives a value from the other side (see [`Input::read`]).
    ///
    /// ```
    /// let (client, server) = csp::duplex::<u32, u32>("double");
    /// let t = std::thread::spawn(move || -> Result<(), csp::BoxError> {
    ///     let n = server.recv()?;
    ///     Ok(server.send(n * 2)?)
    /// });
    /// client.send(21)?;
    /// assert_eq!(client.recv()?, 42);
    /// t.join().unwrap()?;
    /// # Ok::<(), csp::BoxError>(())
    /// ```
    pub fn recv(&self) -> Result<R, ChannelError> {
        self.rx.read()
    }

    /// Receives, giving up after `timeout` (Python's `conn.poll(timeout)` then `recv`).
    ///
    /// ```
    /// use std::time::Duration;
    /// let (a, _b) = csp::duplex::<u8, u8>("quiet");
    /// let err = a.recv_timeout(Duration::from_millis(5)).unwrap_err();
    /// assert!(err.is_timeout());
    /// assert_eq!(err.channel(), "quiet<"); // `a` receives on the channel back
    /// ```
    pub fn recv_timeout(&self, timeout: Duration) -> Result<R, ChannelError> {
        self.rx.read_timeout(timeout)
    }

    /// The sending end, e.g. for an alt's output guard.
    ///
    /// ```
    /// use csp::Alt;
    /// let (a, b) = csp::Duplex::over(csp::Channel::<u8>::new().fifo(1), csp::Channel::<u8>::new());
    /// // Send if the other side can take it now, else do something else.
    /// let sent = Alt::new().output(a.sender(), 5, || true).skip(|| false).pri_select()?;
    /// assert!(sent);
    /// assert_eq!(b.recv()?, 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sender(&self) -> &Output<S> {
        &self.tx
    }

    /// The receiving end, e.g. for an alt's input guard or a `for` loop.
    ///
    /// ```
    /// let (a, b) = csp::Duplex::over(csp::Channel::<u8>::new().fifo(3), csp::Channel::<u8>::new());
    /// for v in [1, 2, 3] {
    ///     a.send(v)?;
    /// }
    /// drop(a); // retires both of a's ends: b's loop ends after the three values
    /// assert_eq!(b.receiver().iter().sum::<u8>(), 6);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn receiver(&self) -> &Input<R> {
        &self.rx
    }

    /// The two ends apart (to give them to different processes).
    ///
    /// ```
    /// use csp::{duplex, Parallel, Process};
    /// let (client, server) = duplex::<u32, u32>("square");
    /// let results = Parallel::new()
    ///     .add(Process::with_ends("client", client, |c| {
    ///         c.send(3)?;
    ///         Ok(c.recv()?)
    ///     }))
    ///     .add(Process::with_ends("server", server.split(), |(replies, requests)| {
    ///         for n in &requests {
    ///             replies.write(n * n)?;
    ///         }
    ///         Ok(0) // the client dropped its side: its requests channel retired
    ///     }))
    ///     .run()?;
    /// assert_eq!(results, vec![Some(9), Some(0)]);
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn split(self) -> (Output<S>, Input<R>) {
        (self.tx, self.rx)
    }

    /// Poisons both directions (see [`Output::poison`]).
    ///
    /// ```
    /// let (a, b) = csp::duplex::<u8, u8>("link");
    /// a.poison();
    /// assert!(b.recv().unwrap_err().is_poisoned());
    /// assert!(b.send(1).unwrap_err().error().is_poisoned()); // both directions
    /// ```
    pub fn poison(&self) {
        self.tx.poison();
        self.rx.poison();
    }
}

impl<S, R> std::fmt::Debug for Duplex<S, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Duplex")
            .field("sends", &self.tx)
            .field("receives", &self.rx)
            .finish()
    }
}
