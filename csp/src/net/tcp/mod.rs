//! TCP: typed channels between csp programs on two machines, and bridges that turn
//! the connections of peers that speak no csp (a Python client, `nc`) into channels.
//!
//! - [`listen`] / [`connect`] (and the reverse pair [`listen_writer`] /
//!   [`connect_reader`]): a typed one-to-one channel over TCP, with the protocol, checks
//!   and semantics of [`named`](super::named) channels; the channel's name, in both
//!   hellos, says which channel a port carries.
//! - [`serve`]: Python's accept loop (`conn, addr = s.accept()` then a thread per
//!   client) as a process: per accepted client, two channels of messages (in, out),
//!   two bridge processes ([`raw_in`], [`raw_out`]) and the process you make for it,
//!   run as a network of their own. Messages are byte frames, [`Framing::Lines`]
//!   (`b"...\n"`) or [`Framing::LengthPrefixed`] (a big-endian `u32` length first).
//!
//! | Python | here |
//! |---|---|
//! | `s.bind(addr); s.listen(5)` | `TcpListener::bind(addr)?` |
//! | `while True: conn, addr = s.accept(); Thread(target=handle, args=(conn,)).start()` | `tcp::serve("echo", listener, Framing::Lines, Some(n), handle)` |
//! | `data = conn.recv(1024)`; `conn.send(reply)` | `client.input.read()?`; `client.output.write(reply)?` |
//!
//! ```
//! use std::io::{BufRead, BufReader, Write};
//! use std::net::{TcpListener, TcpStream};
//! use csp::net::tcp::{self, Framing};
//! use csp::{Parallel, Process};
//!
//! let listener = TcpListener::bind("127.0.0.1:0")?;
//! let addr = listener.local_addr()?;
//! let server = tcp::serve("upper", listener, Framing::Lines, Some(1), |client| {
//!     Process::new("handler", move || {
//!         for line in client.input.iter() {
//!             client.output.write(line.to_ascii_uppercase())?;
//!         }
//!         Ok(())
//!     })
//! });
//! let python_like_client = std::thread::spawn(move || -> std::io::Result<String> {
//!     let mut s = TcpStream::connect(addr)?;
//!     s.write_all(b"hello\n")?;
//!     let mut reply = String::new();
//!     BufReader::new(&s).read_line(&mut reply)?;
//!     Ok(reply) // dropping `s` ends this client's input: its network ends
//! });
//! let served = Parallel::new().add(server).run()?;
//! assert_eq!(python_like_client.join().unwrap()?, "HELLO\n");
//! assert_eq!(served[0].as_ref().map(|s| s.clients), Some(1));
//! # Ok::<(), csp::BoxError>(())
//! ```

mod raw;
mod serve;

pub use raw::{raw_in, raw_out, Framing, MAX_RAW_MESSAGE};
pub use serve::{serve, serve_until, Client, Served};

use std::net::{SocketAddr, TcpListener, TcpStream};

use super::door::Door;
use super::endpoint::{Endpoint, Spec};
use super::error::NetError;
use super::handshake;
use super::wire::{Role, WireType};
use super::{NetInput, NetOutput};
use crate::channel::{Wire, DEFAULT_MAX_FRAME};

/// The reading end of the typed channel `channel` served on `listener`: the peer that
/// [`connect`]s writes. The peer is accepted at the first operation.
///
/// ```
/// use std::net::TcpListener;
/// use csp::net::tcp;
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let addr = listener.local_addr()?;
/// let rx = tcp::listen::<String>(listener, "greetings")?;
/// let t = std::thread::spawn(move || -> Result<(), csp::BoxError> {
///     Ok(tcp::connect::<String>(addr, "greetings")?.write("hi".into())?)
/// });
/// assert_eq!(rx.read()?, "hi");
/// t.join().unwrap()?;
/// # Ok::<(), csp::BoxError>(())
/// ```
pub fn listen<T: Wire>(listener: TcpListener, channel: &str) -> Result<NetInput<T>, NetError> {
    let end = listening(listener, channel, Role::Reader, WireType::of::<T>())?;
    Ok(NetInput::new(end, DEFAULT_MAX_FRAME))
}

/// The writing end of the typed channel `channel` served on `listener`: the peer that
/// [`connect_reader`]s reads.
///
/// ```
/// use std::net::TcpListener;
/// use csp::net::tcp;
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let addr = listener.local_addr()?;
/// let tx = tcp::listen_writer::<u64>(listener, "ticks")?;
/// let t = std::thread::spawn(move || tcp::connect_reader::<u64>(addr, "ticks").unwrap().read().unwrap());
/// tx.write(42)?;
/// assert_eq!(t.join().unwrap(), 42);
/// # Ok::<(), csp::BoxError>(())
/// ```
pub fn listen_writer<T: Wire>(
    listener: TcpListener,
    channel: &str,
) -> Result<NetOutput<T>, NetError> {
    let end = listening(listener, channel, Role::Writer, WireType::of::<T>())?;
    Ok(NetOutput::new(end, DEFAULT_MAX_FRAME))
}

/// The writing end of the typed channel `channel` at `addr` (whose side [`listen`]s).
/// See [`listen`] for an example.
///
/// ```
/// use csp::net::{tcp, NetError};
/// // Nobody serves this port (bound, then released): the error names the address.
/// let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
/// let err = tcp::connect::<u8>(addr, "jobs").unwrap_err();
/// assert!(matches!(err, NetError::Connect { .. }));
/// assert!(err.to_string().contains(&addr.to_string()), "{err}");
/// # Ok::<(), csp::BoxError>(())
/// ```
pub fn connect<T: Wire>(addr: SocketAddr, channel: &str) -> Result<NetOutput<T>, NetError> {
    let end = connecting(addr, channel, Role::Writer, WireType::of::<T>())?;
    Ok(NetOutput::new(end, DEFAULT_MAX_FRAME))
}

/// The reading end of the typed channel `channel` at `addr` (whose side
/// [`listen_writer`]s). See [`listen_writer`] for an example.
///
/// ```
/// let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
/// assert!(csp::net::tcp::connect_reader::<u8>(addr, "jobs").is_err()); // nobody serves it
/// # Ok::<(), csp::BoxError>(())
/// ```
pub fn connect_reader<T: Wire>(addr: SocketAddr, channel: &str) -> Result<NetInput<T>, NetError> {
    let end = connecting(addr, channel, Role::Reader, WireType::of::<T>())?;
    Ok(NetInput::new(end, DEFAULT_MAX_FRAME))
}

fn spec(channel: &str, role: Role, ty: WireType, place: String) -> Spec {
    Spec {
        role,
        channel: channel.into(),
        place: place.into(),
        ty,
        max_frame: DEFAULT_MAX_FRAME,
        buffer: 0,
    }
}

fn listening(
    listener: TcpListener,
    channel: &str,
    role: Role,
    ty: WireType,
) -> Result<Endpoint, NetError> {
    let at = listener
        .local_addr()
        .map_or_else(|_| "?".to_string(), |a| a.to_string());
    let spec = spec(
        channel,
        role,
        ty,
        format!("tcp channel '{channel}' at {at}"),
    );
    let door = Door::tcp(listener).map_err(|source| NetError::Listen {
        place: spec.place.to_string(),
        source,
    })?;
    Ok(Endpoint::listening(door, spec))
}

fn connecting(
    addr: SocketAddr,
    channel: &str,
    role: Role,
    ty: WireType,
) -> Result<Endpoint, NetError> {
    let spec = spec(
        channel,
        role,
        ty,
        format!("tcp channel '{channel}' to {addr}"),
    );
    let place = spec.place.to_string();
    let connected = TcpStream::connect(addr).and_then(|s| s.set_nodelay(true).map(|()| s));
    let stream = connected.map_err(|source| NetError::Connect {
        place: place.clone(),
        source,
    })?;
    let mut link = spec.link(stream.into());
    let peer_max = handshake::connect(&mut link, &spec.hello(), &place, None)?;
    let peer = spec.peer(link, None, peer_max);
    Ok(Endpoint::connected(peer, spec))
}
