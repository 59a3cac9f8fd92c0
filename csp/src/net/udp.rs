//! UDP: Python's `sock.sendto(data, addr)` / `sock.recvfrom(n)` as two channels of
//! datagrams, with bridge processes doing the socket I/O.
//!
//! [`bind`] binds a UDP socket and gives an input of the datagrams it receives,
//! `(from, bytes)`, an output of the datagrams to send, `(to, bytes)`, and the bridge
//! process that moves them (put it in the network beside the process that uses them).
//! A server reads a request and writes its reply to the address it came from; a client
//! binds too (port 0: the OS picks one) and writes to the server's address.
//!
//! | Python | here |
//! |---|---|
//! | `s = socket(AF_INET, SOCK_DGRAM); s.bind((host, port))` | `let udp = udp::bind("127.0.0.1:5000")?;` |
//! | `data, addr = s.recvfrom(1024)` | `let (addr, data) = udp.input.read()?;` (with [`Udp::max_datagram`]`(1024)`) |
//! | `s.sendto(data, addr)` | `udp.output.write((addr, data))?` |
//! | `s.close()` | drop (retire) both ends: the bridges end and the socket closes |
//!
//! ```
//! use csp::net::udp;
//! use csp::{Parallel, Process};
//!
//! let server = udp::bind("127.0.0.1:0")?;
//! let client = udp::bind("127.0.0.1:0")?;
//! let server_addr = server.local;
//! let (s_in, s_out) = (server.input, server.output);
//! let echo = Process::with_ends("echo", (s_in, s_out), |(input, output)| {
//!     let (from, bytes) = input.read()?;
//!     output.write((from, bytes.to_ascii_uppercase()))?;
//!     Ok(())
//! });
//! let (c_in, c_out) = (client.input, client.output);
//! let ask = Process::with_ends("ask", (c_in, c_out), move |(input, output)| {
//!     output.write((server_addr, b"hello".to_vec()))?;
//!     let (from, reply) = input.read()?;
//!     assert_eq!(from, server_addr);
//!     Ok(String::from_utf8(reply)?)
//! });
//! let results = Parallel::new()
//!     .add(server.bridge.map(|()| String::new()))
//!     .add(echo.map(|()| String::new()))
//!     .add(client.bridge.map(|()| String::new()))
//!     .add(ask)
//!     .run()?;
//! assert_eq!(results[3].as_deref(), Some("HELLO"));
//! # Ok::<(), csp::BoxError>(())
//! ```
//!
//! **Semantics.** UDP itself may drop, duplicate or reorder datagrams, and so may these
//! channels; on loopback it drops only when the socket's receive buffer is full (a
//! burst bigger than the kernel's buffer while the reader is slow). The receiving
//! bridge writes each datagram to the input (a rendezvous: the kernel's buffer holds
//! what arrives meanwhile); the sending bridge sends each datagram the moment it reads
//! it, and its writer's `write` returns only once the datagram was handed to the OS:
//! a datagram that could not be sent (too large, a bad address) fails that `write`
//! with `Poisoned` and the bridge with an error naming it, the local address and the
//! destination, never `Ok`. **Oversized datagrams** are refused, never cut: one to
//! send over [`MAX_DATAGRAM`] (or over [`Udp::max_datagram`]) fails as above; one
//! received over `max_datagram` (set it as Python's `recvfrom(n)`) fails the receiving
//! bridge with an error naming the sender and poisons the input, where Python would
//! silently keep the first `n` bytes.
//!
//! **Ending.** The receiving bridge ends when its reader retires (or is dropped) or
//! poisons the input, looking at least every 50 ms; the sending bridge when every
//! writer of the output retired (after sending what was written) or poisoned it. The
//! socket closes when both ended.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use super::error::NetError;
use crate::channel::{Channel, ChannelError, Input, Output, Side};
use crate::parallel::Parallel;
use crate::process::{BoxError, Process};

/// A datagram and its peer: where it came from (received) or where it goes (sent).
///
/// ```
/// use csp::net::udp::{self, Datagram};
/// let sock = udp::bind("127.0.0.1:0")?;
/// // Addressed to the socket itself: the bridge would deliver it back to `sock.input`.
/// let hello: Datagram = (sock.local, b"hello".to_vec());
/// assert_eq!(hello.0.port(), sock.local.port());
/// assert_eq!(hello.1, b"hello");
/// # Ok::<(), csp::BoxError>(())
/// ```
pub type Datagram = (SocketAddr, Vec<u8>);

/// The largest UDP payload the protocol's length field allows (65,535 bytes less the
/// 8-byte UDP header; over IPv4 the IP header leaves 65,507, and the OS refuses a
/// larger datagram to send there). The default limit of both bridges: a received
/// datagram is never cut.
///
/// ```
/// assert_eq!(csp::net::udp::MAX_DATAGRAM, 65_527);
/// ```
pub const MAX_DATAGRAM: usize = 65_527;

/// How often an idle receiving bridge looks whether its reader has gone.
const LOOK_EVERY: Duration = Duration::from_millis(50);

/// A bound UDP socket as channels: made by [`bind`] or [`Udp::at`]`(..).bind()`.
///
/// ```
/// let udp = csp::net::udp::bind("127.0.0.1:0")?;
/// assert!(udp.local.ip().is_loopback() && udp.local.port() != 0);
/// # Ok::<(), csp::BoxError>(())
/// ```
pub struct UdpChannels {
    /// The address the socket is bound to (with the port the OS chose for port 0).
    pub local: SocketAddr,
    /// The datagrams received, with their senders.
    pub input: Input<Datagram>,
    /// The datagrams to send, with their destinations.
    pub output: Output<Datagram>,
    /// The two bridges as one process: put it in the network.
    pub bridge: Process<()>,
}

/// A UDP socket under construction: its address, the bridges' name, the size limit.
///
/// ```
/// use csp::net::udp::Udp;
/// let udp = Udp::at("127.0.0.1:0").named("echo").max_datagram(1024).bind()?;
/// assert_eq!(udp.bridge.name(), "echo");
/// # Ok::<(), csp::BoxError>(())
/// ```
pub struct Udp<A> {
    addr: A,
    name: Option<String>,
    max_datagram: usize,
}

/// Binds a UDP socket at `addr` (`"127.0.0.1:0"`: loopback, a port the OS picks): its
/// datagrams as channels, and the bridge process. Shorthand for `Udp::at(addr).bind()`.
///
/// ```
/// use csp::net::{udp, NetError};
/// // An address this machine does not have: the error names the bridge and it.
/// let err = udp::bind("192.0.2.1:9").err().unwrap();
/// assert!(matches!(err, NetError::Listen { .. }));
/// assert!(err.to_string().contains("udp bridge 'udp 192.0.2.1:9'"), "{err}");
/// ```
pub fn bind<A: ToSocketAddrs + std::fmt::Display>(addr: A) -> Result<UdpChannels, NetError> {
    Udp::at(addr).bind()
}

impl<A: ToSocketAddrs + std::fmt::Display> Udp<A> {
    /// The socket to bind at `addr`.
    ///
    /// ```
    /// let builder = csp::net::udp::Udp::at("127.0.0.1:0");
    /// # drop(builder);
    /// ```
    pub fn at(addr: A) -> Udp<A> {
        Udp {
            addr,
            name: None,
            max_datagram: MAX_DATAGRAM,
        }
    }

    /// The bridge process's name (default `udp <addr>`), in its errors and in the
    /// network; its two halves are `<name>.recv` and `<name>.send`.
    ///
    /// ```
    /// let udp = csp::net::udp::Udp::at("127.0.0.1:0").named("dns").bind()?;
    /// assert_eq!(udp.bridge.name(), "dns");
    /// # Ok::<(), csp::BoxError>(())
    /// ```
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The largest datagram either bridge passes (default and at most [`MAX_DATAGRAM`]):
    /// a larger one is refused with an error, never cut (see the [module docs](self)).
    ///
    /// ```
    /// let udp = csp::net::udp::Udp::at("127.0.0.1:0").max_datagram(512).bind()?;
    /// # drop(udp);
    /// # Ok::<(), csp::BoxError>(())
    /// ```
    pub fn max_datagram(mut self, bytes: usize) -> Self {
        self.max_datagram = bytes.min(MAX_DATAGRAM);
        self
    }

    /// Binds the socket: its channels and the bridge process.
    ///
    /// ```
    /// let udp = csp::net::udp::Udp::at("127.0.0.1:0").bind()?;
    /// assert_eq!(&*udp.input.name(), &format!("udp {}.in", "127.0.0.1:0"));
    /// # Ok::<(), csp::BoxError>(())
    /// ```
    pub fn bind(self) -> Result<UdpChannels, NetError> {
        let name = self.name.unwrap_or_else(|| format!("udp {}", self.addr));
        let place = format!("udp bridge '{name}' at {}", self.addr);
        let failed = |source: io::Error| NetError::Listen {
            place: place.clone(),
            source,
        };
        let socket = UdpSocket::bind(&self.addr).map_err(failed)?;
        socket.set_read_timeout(Some(LOOK_EVERY)).map_err(failed)?;
        let local = socket.local_addr().map_err(failed)?;
        let socket = Arc::new(socket);
        let site = Site {
            place: format!("udp bridge '{name}' at {local}").into(),
            max: self.max_datagram,
        };
        let (in_tx, input) = Channel::<Datagram>::new()
            .named(format!("{name}.in"))
            .one2one();
        let (output, out_rx) = Channel::<Datagram>::new()
            .named(format!("{name}.out"))
            .one2one();
        let bridge = Parallel::new()
            .add(receiving(
                format!("{name}.recv"),
                socket.clone(),
                site.clone(),
                in_tx,
            ))
            .add(sending(format!("{name}.send"), socket, site, out_rx))
            .into_process(name)
            .map(|_| ());
        Ok(UdpChannels {
            local,
            input,
            output,
            bridge,
        })
    }
}

/// What both bridges of one socket say about it.
#[derive(Clone)]
struct Site {
    /// "udp bridge 'echo' at 127.0.0.1:5000".
    place: Arc<str>,
    max: usize,
}

/// The receiving bridge: each datagram the socket receives, written to `to`.
fn receiving(
    name: String,
    socket: Arc<UdpSocket>,
    site: Site,
    to: Output<Datagram>,
) -> Process<()> {
    Process::with_ends(name, to, move |to| {
        // One byte more than the limit: a datagram that fills it was too large.
        let mut buf = vec![0u8; site.max + 1];
        loop {
            if to.is_poisoned() {
                return Err(ChannelError::Poisoned { channel: to.name() }.into());
            }
            if to.info().0.open_ends(Side::Read) == 0 {
                return Ok(());
            }
            let (len, from) = match socket.recv_from(&mut buf) {
                Ok(got) => got,
                Err(e) if is_timeout(&e) => continue,
                // An ICMP error for an earlier datagram sent: not this socket's fault.
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => continue,
                Err(e) => {
                    to.poison();
                    return Err(format!("{}: cannot receive: {e}", site.place).into());
                }
            };
            if len > site.max {
                to.poison();
                return Err(oversized(&site, "received from", from, None));
            }
            if let Err(e) = to.write((from, buf[..len].to_vec())) {
                let e = ChannelError::from(e);
                return if e.is_retired() {
                    Ok(())
                } else {
                    Err(e.into())
                };
            }
        }
    })
}

/// The sending bridge: each datagram read from `from`, sent; its writer is released
/// only once the OS took it, and fails if it could not.
fn sending(name: String, socket: Arc<UdpSocket>, site: Site, from: Input<Datagram>) -> Process<()> {
    Process::with_ends(name, from, move |from| loop {
        let sent = from.read_with_verdict(|(to, bytes)| {
            let failed = if bytes.len() > site.max {
                Some(oversized(&site, "to send to", to, Some(bytes.len())))
            } else {
                match socket.send_to(&bytes, to) {
                    Ok(_) => None,
                    Err(e) => Some(
                        format!(
                            "{}: cannot send {} bytes to {to}: {e}",
                            site.place,
                            bytes.len()
                        )
                        .into(),
                    ),
                }
            };
            let ok = failed.is_none();
            (failed, ok)
        });
        match sent {
            Ok(None) => {}
            // The writer's `write` failed (`Poisoned`): this is why.
            Ok(Some(error)) => return Err(error),
            Err(e) if e.is_retired() => return Ok(()),
            Err(e) => return Err(e.into()),
        }
    })
}

fn oversized(site: &Site, what: &str, peer: SocketAddr, len: Option<usize>) -> BoxError {
    let size = len.map_or_else(
        || "a datagram".to_string(),
        |n| format!("a datagram of {n} bytes"),
    );
    format!(
        "{}: {size} {what} {peer} is over the limit of {} bytes (refused, not cut)",
        site.place, site.max
    )
    .into()
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}
