//! Channels between programs that did not fork one another: named channels at a path
//! (Python's `os.mkfifo`), and bridges between sockets and channels (Python's `socket`).
//!
//! A forked process shares a network's channels through memory made before the fork
//! (section 8 of the crate docs). Two *unrelated* programs have no such memory: they
//! meet at a name. Here:
//!
//! - [`named`]: `listen::<T>(path)` in one program, `connect::<T>(path)` in another: a
//!   typed one-to-one channel between them over a Unix-domain socket, with the local
//!   channel's rendezvous, timeouts, poison and retire ([`NetInput`], [`NetOutput`]);
//! - [`tcp`]: the same ends over TCP (`tcp::listen` / `tcp::connect`), and
//!   [`tcp::serve`]: a server whose every client is a pair of channels of byte
//!   messages (lines, or length-prefixed), for peers that speak no csp (a Python client, `nc`);
//! - [`udp`]: a UDP socket as two channels of datagrams, `(address, bytes)` in and out,
//!   and the bridge process between them (Python's `sendto` / `recvfrom`);
//! - [`bridge`]: processes that pump a net end into an ordinary channel end or out of
//!   one, so that a channel from another program takes part in an `Alt` or a
//!   `Parallel` network like any other.
//!
//! | Python | here |
//! |---|---|
//! | `os.mkfifo(p)`; `open(p, 'r').read()` | `named::listen::<T>(p)?.read()?` |
//! | `open(p, 'w').write(msg)` | `named::connect::<T>(p)?.write(msg)?` |
//! | `s.bind(addr); s.listen(); conn, a = s.accept(); conn.recv(1024)` (echo server) | [`tcp::serve`]: a process per client, messages in and out as channels |
//! | `s.connect(addr); s.sendall(b'..'); s.recv(1024)` | `tcp::connect::<T>(addr)` between csp programs; a raw socket otherwise |
//! | `s = socket(AF_INET, SOCK_DGRAM); s.bind(a); data, addr = s.recvfrom(1024); s.sendto(reply, addr)` | [`udp::bind`]`(a)`: `input.read()` gives `(addr, data)`, `output.write((addr, reply))` |
//!
//! **The protocol** ([`NetInput`], [`NetOutput`]): every message is a checked frame (the
//! format and checksum of the shared-memory channels: a damaged or foreign byte stream
//! is an error naming the channel, never garbage values), values are postcard-encoded
//! as `Channel::new()` encodes them for forked processes, and no frame exceeds the
//! end's [`max_frame`](named::Named::max_frame). Each connection starts with a hello
//! carrying the protocol version, the role, the channel's name and the Rust type's name
//! and fingerprint: a program with another `T`, at the wrong path or with the same
//! role is refused with the reason. Then a `write` sends the value and returns only
//! when the reader acked it on taking it, so a writer whose reader died first gets an
//! error and its value back, never a silent `Ok`. Poison and retire travel as frames;
//! a peer that vanishes without either (a killed program) is a `ChannelError::Transport`
//! naming the place, at the next or current operation: nothing hangs.
//!
//! **No hidden threads**: an end does its socket I/O on the thread that calls it. A
//! named end in a network therefore goes through a [`bridge`] process.

pub mod bridge;
mod door;
mod endpoint;
mod ends;
mod error;
mod handshake;
mod link;
pub mod named;
mod peer;
pub mod tcp;
#[cfg(test)]
mod tests;
pub mod udp;
mod wire;

pub use ends::{NetInput, NetOutput};
pub use error::NetError;
