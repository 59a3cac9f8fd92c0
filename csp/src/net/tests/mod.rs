//! Bad input and protocol edge cases, in one process: peers made of threads, and fake
//! peers that write raw bytes (garbage, half a frame) to a real end.

mod buffered_tests;
mod named_tests;
mod tcp_tests;
mod udp_tests;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use super::link::{Event, Link};
use super::named::{self, Named};
use super::tcp::{self, Framing};
use super::wire::{Frame, Hello, Role, WireType};
use super::NetError;
use crate::channel::ChannelError;
use crate::{Parallel, Process};

/// A fresh socket path in the temporary directory, named by the run's process id (the
/// listeners remove their socket files, and the tests that make other files remove
/// them, so nothing stays behind).
fn path(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("csp-net-test-{}-{name}-{n}", std::process::id()))
}

/// A fake peer: a raw connection that has said a writer's hello for `u32` on `channel`.
fn fake_writer(at: &PathBuf, channel: &str) -> Link {
    let stream = UnixStream::connect(at).unwrap();
    let mut link = Link::new(stream.into(), 1 << 16);
    let hello = Hello::new(Role::Writer, channel, &WireType::of::<u32>(), 1 << 16);
    link.send(&Frame::Hello(hello)).unwrap();
    match link.recv(
        Some(std::time::Instant::now() + Duration::from_secs(10)),
        None,
    ) {
        Ok(Event::Frame(Frame::Hello(_))) => link,
        other => panic!("no hello back: {other:?}"),
    }
}

fn raw_bytes_of(link: Link) -> std::os::fd::OwnedFd {
    link.into_fd()
}
