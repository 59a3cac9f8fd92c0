//! A framed byte stream: whole checked frames in and out of one socket, a read that
//! waits until a deadline, and a second descriptor (a listener) watched while waiting,
//! so that an end can turn away a program knocking at its door while it waits.
//!
//! The end does its own I/O on the calling thread: nothing runs in the background.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::time::Instant;

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{send, shutdown, MsgFlags, Shutdown};

use super::wire::Frame;
use crate::channel::frame::{self, HEADER};

/// What a wait for a frame brought.
#[derive(Debug)]
pub(crate) enum Event {
    Frame(Frame),
    /// The deadline passed first.
    Timeout,
    /// The watched listener has a connection waiting.
    Knock,
}

/// Why the stream cannot go on.
#[derive(Debug)]
pub(crate) enum LinkError {
    /// The peer closed its end (or died): in the middle of a frame or between frames.
    Closed { mid_frame: bool },
    /// The peer sent bytes that are not a frame of this protocol.
    Garbage(String),
    /// The OS refused a read or a write.
    Io(io::Error),
}

impl LinkError {
    /// The error as a sentence about the peer.
    pub(crate) fn describe(&self) -> String {
        match self {
            LinkError::Closed { mid_frame: true } => {
                "the peer closed the connection in the middle of a message (did it die?)".into()
            }
            LinkError::Closed { mid_frame: false } => {
                "the peer closed the connection without retiring or poisoning it (did it die?)"
                    .into()
            }
            LinkError::Garbage(what) => format!("the peer sent garbage: {what}"),
            LinkError::Io(e) => format!("socket error: {e}"),
        }
    }
}

/// Reading starts with this much room; a larger frame grows the buffer to its size.
const READ_ROOM: usize = 16 * 1024;

/// One connected socket carrying frames.
pub(crate) struct Link {
    fd: OwnedFd,
    /// Received bytes live in `rbuf[start..end]`.
    rbuf: Vec<u8>,
    start: usize,
    end: usize,
    /// The frame being sent, reused.
    wbuf: Vec<u8>,
    /// The largest payload accepted from the peer.
    limit: usize,
}

impl Link {
    /// A link over a connected, blocking stream socket.
    pub(crate) fn new(fd: OwnedFd, limit: usize) -> Link {
        Link {
            fd,
            rbuf: vec![0; READ_ROOM],
            start: 0,
            end: 0,
            wbuf: Vec::with_capacity(256),
            limit,
        }
    }

    /// Sends one frame whole (a frame is never left half-sent by a deadline).
    pub(crate) fn send(&mut self, f: &Frame) -> Result<(), LinkError> {
        let mut buf = std::mem::take(&mut self.wbuf);
        let result = f
            .encode(&mut buf)
            .map_err(|e| LinkError::Garbage(e.to_string()))
            .and_then(|()| self.send_bytes(&buf));
        self.wbuf = buf;
        result
    }

    /// Sends a data frame whose value's bytes are `value`, without an extra copy of them
    /// into a `Frame`.
    pub(crate) fn send_data(
        &mut self,
        seq: u32,
        firm: bool,
        value: &[u8],
    ) -> Result<(), LinkError> {
        let mut buf = std::mem::take(&mut self.wbuf);
        Frame::data_prefix(&mut buf, seq, firm);
        buf.extend_from_slice(value);
        let result = Frame::seal(&mut buf)
            .map_err(|e| LinkError::Garbage(e.to_string()))
            .and_then(|()| self.send_bytes(&buf));
        self.wbuf = buf;
        result
    }

    fn send_bytes(&self, mut bytes: &[u8]) -> Result<(), LinkError> {
        while !bytes.is_empty() {
            // MSG_NOSIGNAL: a peer that has gone is an EPIPE error here, not a SIGPIPE
            // that kills the program.
            match send(self.fd.as_raw_fd(), bytes, MsgFlags::MSG_NOSIGNAL) {
                Ok(n) => bytes = &bytes[n..],
                Err(Errno::EINTR) => {}
                Err(Errno::EPIPE | Errno::ECONNRESET) => {
                    return Err(LinkError::Closed { mid_frame: false })
                }
                Err(e) => return Err(LinkError::Io(e.into())),
            }
        }
        Ok(())
    }

    /// The next frame, waiting until `deadline` (forever if `None`) and, if `knock` is
    /// given, returning early when that listener has a connection waiting.
    pub(crate) fn recv(
        &mut self,
        deadline: Option<Instant>,
        knock: Option<BorrowedFd<'_>>,
    ) -> Result<Event, LinkError> {
        loop {
            if let Some(f) = self.take_frame()? {
                return Ok(Event::Frame(f));
            }
            if deadline.is_some() || knock.is_some() {
                match wait_readable(self.fd.as_fd(), deadline, knock)? {
                    Ready::Stream => {}
                    Ready::Knock => return Ok(Event::Knock),
                    Ready::Timeout => return Ok(Event::Timeout),
                }
            }
            self.fill()?;
        }
    }

    /// A whole frame from the bytes received so far, if they hold one.
    fn take_frame(&mut self) -> Result<Option<Frame>, LinkError> {
        let have = &self.rbuf[self.start..self.end];
        if have.len() < HEADER {
            return Ok(None);
        }
        let len = frame::payload_len(have, self.limit).map_err(garbage)?;
        let total = HEADER + len;
        if have.len() < total {
            self.make_room(total);
            return Ok(None);
        }
        let payload = frame::read(&have[..total], self.limit).map_err(garbage)?;
        let f = Frame::decode(payload).map_err(LinkError::Garbage)?;
        self.start += total;
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        }
        Ok(Some(f))
    }

    /// Room after the received bytes for a frame of `total` bytes.
    fn make_room(&mut self, total: usize) {
        if self.start + total > self.rbuf.len() {
            self.rbuf.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
            if total > self.rbuf.len() {
                self.rbuf.resize(total, 0);
            }
        }
    }

    /// Reads what the socket has (blocking until it has something).
    fn fill(&mut self) -> Result<(), LinkError> {
        if self.end == self.rbuf.len() {
            self.make_room(self.rbuf.len() + READ_ROOM);
        }
        loop {
            match nix::unistd::read(&self.fd, &mut self.rbuf[self.end..]) {
                Ok(0) => {
                    return Err(LinkError::Closed {
                        mid_frame: self.end > self.start,
                    })
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(());
                }
                Err(Errno::EINTR) => {}
                Err(Errno::ECONNRESET) => {
                    return Err(LinkError::Closed {
                        mid_frame: self.end > self.start,
                    })
                }
                Err(e) => return Err(LinkError::Io(e.into())),
            }
        }
    }

    /// The socket itself: a test's fake peer writes raw bytes on it.
    #[cfg(test)]
    pub(crate) fn into_fd(self) -> OwnedFd {
        self.fd
    }

    /// Ends the link politely: no more writes (the peer reads what was sent, then the
    /// end of the stream), and what the peer sent is read away before closing, so that
    /// unread bytes do not turn the close into a reset that could overtake the last
    /// frame sent.
    pub(crate) fn close(self) {
        let _ = shutdown(self.fd.as_raw_fd(), Shutdown::Write);
        let mut scratch = [0u8; 4096];
        // Drain only what is there already: never wait for a peer at close.
        for _ in 0..64 {
            match wait_readable(self.fd.as_fd(), Some(Instant::now()), None) {
                Ok(Ready::Stream) => match nix::unistd::read(&self.fd, &mut scratch) {
                    Ok(n) if n > 0 => continue,
                    _ => break,
                },
                _ => break,
            }
        }
    }
}

fn garbage(e: frame::FrameError) -> LinkError {
    LinkError::Garbage(e.to_string())
}

/// What became ready first.
pub(crate) enum Ready {
    Stream,
    Knock,
    Timeout,
}

/// Waits until `fd` is readable (or closed), `knock` has a connection, or `deadline`.
pub(crate) fn wait_readable(
    fd: BorrowedFd<'_>,
    deadline: Option<Instant>,
    knock: Option<BorrowedFd<'_>>,
) -> Result<Ready, LinkError> {
    loop {
        let timeout = match deadline {
            None => PollTimeout::NONE,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                // Rounded up, so that a wait never ends before its deadline.
                let ms = left.as_nanos().div_ceil(1_000_000);
                PollTimeout::try_from(ms.min(i32::MAX as u128) as i32).unwrap_or(PollTimeout::MAX)
            }
        };
        let mut all = [
            PollFd::new(fd, PollFlags::POLLIN),
            PollFd::new(knock.unwrap_or(fd), PollFlags::POLLIN),
        ];
        let fds = &mut all[..if knock.is_some() { 2 } else { 1 }];
        match poll(fds, timeout) {
            Ok(0) => {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return Ok(Ready::Timeout);
                }
            }
            Ok(_) => {
                let ready = |p: &PollFd| p.revents().is_some_and(|r| !r.is_empty());
                if ready(&fds[0]) {
                    return Ok(Ready::Stream);
                }
                if fds.get(1).is_some_and(ready) {
                    return Ok(Ready::Knock);
                }
            }
            Err(Errno::EINTR) => {}
            Err(e) => return Err(LinkError::Io(e.into())),
        }
    }
}
