//! Bridges between a raw byte stream and channels of messages, for peers that speak no
//! csp: how messages are cut out of the stream ([`Framing`]), and the two pumps.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;

use crate::channel::{Input, Output};
use crate::process::Process;

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
