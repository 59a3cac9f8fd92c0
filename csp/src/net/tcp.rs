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

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;

use super::door::Door;
use super::endpoint::{Endpoint, Spec};
use super::error::NetError;
use super::handshake;
use super::peer::Peer;
use super::wire::Role;
use super::{NetInput, NetOutput};
use crate::channel::{Channel, Input, Output, Wire, DEFAULT_MAX_FRAME};
use crate::parallel::{spawn, Parallel, Spawned};
use crate::process::{BoxError, Process};

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
    let end = listening(listener, channel, Role::Reader, std::any::type_name::<T>())?;
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
    let end = listening(listener, channel, Role::Writer, std::any::type_name::<T>())?;
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
    let end = connecting(addr, channel, Role::Writer, std::any::type_name::<T>())?;
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
    let end = connecting(addr, channel, Role::Reader, std::any::type_name::<T>())?;
    Ok(NetInput::new(end, DEFAULT_MAX_FRAME))
}

fn spec(channel: &str, role: Role, type_name: &'static str, place: String) -> Spec {
    Spec {
        role,
        channel: channel.into(),
        place: place.into(),
        type_name,
        max_frame: DEFAULT_MAX_FRAME,
    }
}

fn listening(
    listener: TcpListener,
    channel: &str,
    role: Role,
    type_name: &'static str,
) -> Result<Endpoint, NetError> {
    let at = listener
        .local_addr()
        .map_or_else(|_| "?".to_string(), |a| a.to_string());
    let spec = spec(
        channel,
        role,
        type_name,
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
    type_name: &'static str,
) -> Result<Endpoint, NetError> {
    let spec = spec(
        channel,
        role,
        type_name,
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
    let peer = Peer::new(
        link,
        None,
        role,
        spec.channel.clone(),
        spec.place.clone(),
        peer_max,
    );
    Ok(Endpoint::connected(peer, spec))
}

/// How messages are cut out of a raw byte stream.
///
/// ```
/// use csp::net::tcp::Framing;
/// // Python's side of each: `sock.sendall(b"hi\n")`, `sock.sendall(struct.pack(">I", 2) + b"hi")`.
/// assert_ne!(Framing::Lines, Framing::LengthPrefixed);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// Each message ends with `\n` (which, and a `\r` before it, is not part of it);
    /// a line over the limit is an error.
    Lines,
    /// Each message is a big-endian `u32` length, then that many bytes
    /// (Python: `struct.pack('>I', len(b)) + b`).
    LengthPrefixed,
}

/// The largest raw message a bridge accepts: a peer sending more is an error.
///
/// ```
/// assert_eq!(csp::net::tcp::MAX_RAW_MESSAGE, 1 << 20); // 1 MiB
/// ```
pub const MAX_RAW_MESSAGE: usize = 1 << 20;

/// One client of [`serve`]: its messages in, the messages to send it, and where it
/// connected from.
///
/// ```
/// fn handle(client: csp::net::tcp::Client) -> csp::Process<()> {
///     csp::Process::new(format!("client {}", client.peer), move || {
///         for msg in client.input.iter() {
///             client.output.write(msg)?; // echo
///         }
///         Ok(())
///     })
/// }
/// # let _ = handle;
/// ```
pub struct Client {
    /// The messages the client sends, until it closes its side (then retired).
    pub input: Input<Vec<u8>>,
    /// The messages to send it; retiring (dropping) this closes the connection.
    pub output: Output<Vec<u8>>,
    /// The client's address.
    pub peer: SocketAddr,
    /// 0 for the first client served, 1 for the next, ...
    pub index: usize,
}

/// What [`serve`] did: how many clients it served, and the failures of their networks
/// (each naming the bridge, the client's address and what went wrong), so that one bad
/// client does not stop the server.
///
/// ```
/// let s = csp::net::tcp::Served { clients: 2, failures: vec![] };
/// assert!(s.failures.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Served {
    /// Clients accepted.
    pub clients: usize,
    /// Failures of client networks, as messages naming the bridge and the peer.
    pub failures: Vec<String>,
}

/// A process named `name` that accepts clients on `listener` (up to `clients` of them,
/// or forever with `None`) and runs, per client, a network of three processes: a
/// [`raw_in`] bridge, the process `handler` makes from the [`Client`], a [`raw_out`]
/// bridge. It ends once the last client's network ended, with what it [`Served`].
///
/// ```
/// use std::io::{Read, Write};
/// use std::net::{TcpListener, TcpStream};
/// use csp::net::tcp::{self, Framing};
///
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let addr = listener.local_addr()?;
/// let server = tcp::serve("count", listener, Framing::LengthPrefixed, Some(2), |client| {
///     csp::Process::new("counter", move || {
///         let n = client.input.iter().count() as u32; // messages until the client closes
///         Ok(client.output.write(n.to_be_bytes().to_vec())?)
///     })
/// });
/// let clients = std::thread::spawn(move || -> std::io::Result<Vec<Vec<u8>>> {
///     (0..2u8).map(|i| {
///         let mut s = TcpStream::connect(addr)?;
///         for _ in 0..=i {
///             s.write_all(&[0, 0, 0, 1, i])?;
///         }
///         s.shutdown(std::net::Shutdown::Write)?;
///         let mut reply = Vec::new();
///         s.read_to_end(&mut reply)?;
///         Ok(reply)
///     }).collect()
/// });
/// let served = csp::Sequence::new().add(server).run()?.remove(0).unwrap();
/// assert_eq!(clients.join().unwrap()?, [vec![0, 0, 0, 4, 0, 0, 0, 1], vec![0, 0, 0, 4, 0, 0, 0, 2]]);
/// assert_eq!((served.clients, served.failures.len()), (2, 0));
/// # Ok::<(), csp::BoxError>(())
/// ```
pub fn serve<F>(
    name: impl Into<String>,
    listener: TcpListener,
    framing: Framing,
    clients: Option<usize>,
    handler: F,
) -> Process<Served>
where
    F: FnMut(Client) -> Process<()> + Send + 'static,
{
    let name = name.into();
    let server = name.clone();
    Process::new(name, move || {
        let mut handler = handler;
        let mut running: Vec<(String, Spawned<Vec<Option<()>>>)> = Vec::new();
        let mut served = Served::default();
        while clients.map_or(true, |n| served.clients < n) {
            let (stream, peer) = listener
                .accept()
                .map_err(|e| format!("tcp server '{server}': cannot accept: {e}"))?;
            let index = served.clients;
            served.clients += 1;
            let bridge = format!("{server}[{index}]");
            let network = client_network(&bridge, stream, peer, index, framing, &mut handler)?;
            let place = format!("tcp bridge '{bridge}' for {peer}");
            running.push((place, spawn(network)?));
        }
        for (place, client) in running {
            if let Err(e) = client.join() {
                served.failures.push(format!("{place}: {e}"));
            }
        }
        Ok(served)
    })
}

/// The network serving one client.
fn client_network<F>(
    bridge: &str,
    stream: TcpStream,
    peer: SocketAddr,
    index: usize,
    framing: Framing,
    handler: &mut F,
) -> Result<Process<Vec<Option<()>>>, BoxError>
where
    F: FnMut(Client) -> Process<()>,
{
    let _ = stream.set_nodelay(true);
    let reader = stream
        .try_clone()
        .map_err(|e| format!("tcp bridge '{bridge}' for {peer}: {e}"))?;
    let (in_tx, in_rx) = Channel::<Vec<u8>>::new()
        .named(format!("{bridge}.in"))
        .one2one();
    let (out_tx, out_rx) = Channel::<Vec<u8>>::new()
        .named(format!("{bridge}.out"))
        .one2one();
    let client = Client {
        input: in_rx,
        output: out_tx,
        peer,
        index,
    };
    Ok(Parallel::new()
        .add(raw_in(format!("{bridge}.recv"), reader, framing, in_tx))
        .add(handler(client))
        .add(raw_out(format!("{bridge}.send"), out_rx, stream, framing))
        .into_process(bridge.to_string()))
}

/// A bridge process named `name` that cuts messages out of `stream` by `framing` and
/// writes each to `to`. The peer closing between messages retires `to`; closing in the
/// middle of one, sending a message over [`MAX_RAW_MESSAGE`], or a socket error fails
/// the bridge with an error naming it and the peer, and poisons `to`. When `to` is
/// poisoned or retired, the bridge stops reading the socket.
///
/// ```
/// use std::io::Write;
/// use std::net::{TcpListener, TcpStream};
/// use csp::net::tcp::{self, Framing};
///
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let mut client = TcpStream::connect(listener.local_addr()?)?;
/// let (server_side, _) = listener.accept()?;
/// client.write_all(b"one\ntwo\n")?;
/// drop(client);
/// let (tx, rx) = csp::Channel::<Vec<u8>>::new().fifo(4).one2one();
/// csp::Sequence::new().add(tcp::raw_in("recv", server_side, Framing::Lines, tx)).run()?;
/// assert_eq!(rx.iter().collect::<Vec<_>>(), [b"one".to_vec(), b"two".to_vec()]);
/// # Ok::<(), csp::BoxError>(())
/// ```
pub fn raw_in(
    name: impl Into<String>,
    stream: TcpStream,
    framing: Framing,
    to: Output<Vec<u8>>,
) -> Process<()> {
    let name = name.into();
    let peer = peer_of(&stream);
    let place = format!("tcp bridge '{name}' from {peer}");
    Process::with_ends(name, to, move |to| {
        let mut reader = BufReader::new(&stream);
        loop {
            let message = match next_message(&mut reader, framing) {
                Ok(Some(m)) => m,
                Ok(None) => return Ok(()), // the peer closed: `to` retires as it drops
                Err(e) => {
                    to.poison();
                    return Err(format!("{place}: {e}").into());
                }
            };
            if let Err(e) = to.write(message) {
                let _ = stream.shutdown(Shutdown::Read);
                return if e.error().is_retired() {
                    Ok(())
                } else {
                    Err(e.into())
                };
            }
        }
    })
}

/// A bridge process named `name` that writes every message read from `from` to
/// `stream`, framed by `framing`. When `from` retires, the connection's sending side
/// closes (the peer sees the end of the stream); when it is poisoned, the connection
/// closes both ways. A socket error (the peer has gone) fails the bridge naming it and
/// the peer, and poisons `from`.
///
/// ```
/// use std::io::Read;
/// use std::net::{TcpListener, TcpStream};
/// use csp::net::tcp::{self, Framing};
///
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let mut client = TcpStream::connect(listener.local_addr()?)?;
/// let (server_side, _) = listener.accept()?;
/// let (tx, rx) = csp::Channel::<Vec<u8>>::new().fifo(4).one2one();
/// tx.write(b"hi".to_vec())?;
/// drop(tx);
/// csp::Sequence::new().add(tcp::raw_out("send", rx, server_side, Framing::LengthPrefixed)).run()?;
/// let mut got = Vec::new();
/// client.read_to_end(&mut got)?;
/// assert_eq!(got, [0, 0, 0, 2, b'h', b'i']);
/// # Ok::<(), csp::BoxError>(())
/// ```
pub fn raw_out(
    name: impl Into<String>,
    from: Input<Vec<u8>>,
    stream: TcpStream,
    framing: Framing,
) -> Process<()> {
    let name = name.into();
    let peer = peer_of(&stream);
    let place = format!("tcp bridge '{name}' to {peer}");
    Process::with_ends(name, from, move |from| {
        let mut writer = &stream;
        loop {
            match from.read() {
                Ok(message) => {
                    if let Err(e) = send_message(&mut writer, framing, &message) {
                        from.poison();
                        let _ = stream.shutdown(Shutdown::Both);
                        return Err(format!("{place}: cannot send: {e}").into());
                    }
                }
                Err(e) if e.is_retired() => {
                    let _ = stream.shutdown(Shutdown::Write);
                    return Ok(());
                }
                Err(e) => {
                    let _ = stream.shutdown(Shutdown::Both);
                    return Err(e.into());
                }
            }
        }
    })
}

fn peer_of(stream: &TcpStream) -> Arc<str> {
    stream
        .peer_addr()
        .map_or_else(|_| "an unknown peer".to_string(), |a| a.to_string())
        .into()
}

/// The next message, `None` at a clean end of the stream (between messages).
fn next_message(reader: &mut impl BufRead, framing: Framing) -> io::Result<Option<Vec<u8>>> {
    match framing {
        Framing::Lines => {
            let mut line = Vec::new();
            let n = reader
                .by_ref()
                .take(MAX_RAW_MESSAGE as u64 + 1)
                .read_until(b'\n', &mut line)?;
            if n == 0 {
                return Ok(None);
            }
            if line.last() != Some(&b'\n') {
                return Err(if line.len() > MAX_RAW_MESSAGE {
                    io::Error::other(format!("a line over {MAX_RAW_MESSAGE} bytes"))
                } else {
                    disconnected(line.len())
                });
            }
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            Ok(Some(line))
        }
        Framing::LengthPrefixed => {
            let mut len = [0u8; 4];
            let got = read_full(reader, &mut len)?;
            if got == 0 {
                return Ok(None);
            }
            if got < 4 {
                return Err(disconnected(got));
            }
            let len = u32::from_be_bytes(len) as usize;
            if len > MAX_RAW_MESSAGE {
                return Err(io::Error::other(format!(
                    "a message of {len} bytes announced, over the limit of {MAX_RAW_MESSAGE}"
                )));
            }
            let mut message = vec![0; len];
            let got = read_full(reader, &mut message)?;
            if got < len {
                return Err(disconnected(4 + got));
            }
            Ok(Some(message))
        }
    }
}

fn disconnected(after: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("the peer disconnected in the middle of a message (after {after} bytes of it)"),
    )
}

/// Reads until `buf` is full or the stream ends; how many bytes it got.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

fn send_message(writer: &mut impl Write, framing: Framing, message: &[u8]) -> io::Result<()> {
    match framing {
        Framing::Lines => {
            let mut line = Vec::with_capacity(message.len() + 1);
            line.extend_from_slice(message);
            line.push(b'\n');
            writer.write_all(&line)
        }
        Framing::LengthPrefixed => {
            let len = u32::try_from(message.len())
                .map_err(|_| io::Error::other("a message over 4 GiB"))?;
            let mut framed = Vec::with_capacity(message.len() + 4);
            framed.extend_from_slice(&len.to_be_bytes());
            framed.extend_from_slice(message);
            writer.write_all(&framed)
        }
    }
}
