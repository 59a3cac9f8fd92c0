//! The rendezvous protocol on one link, for one reader and one writer (see `wire` for
//! the frames). A `write` returns only once the reader has acked the value, so a writer
//! whose reader vanished before taking it gets an error with its value back, never a
//! silent `Ok`. Poison and retire cross as frames; a peer that closes without either
//! (it died) breaks the link, and every later operation says so.
//!
//! A buffered end (`buffer > 0`) writes without waiting while fewer than `buffer`
//! values are unacked; its reader acks cumulatively every `ack_every(buffer)` values.

use std::sync::Arc;
use std::time::Instant;

use super::door::Door;
use super::link::{Event, Link, LinkError};
use super::wire::{ack_every, Frame, Role};
use crate::channel::{ChannelError, RetiredSide};

/// How an end stopped.
#[derive(Clone, Debug)]
enum Ended {
    Poisoned,
    Retired(RetiredSide),
    Broken(String),
}

/// What the reader's taker did with a value it was handed.
pub(crate) enum Taken<R> {
    /// Taken: the writer is acked.
    Took(R),
    /// Not taken: instead of the ack the writer gets poison (or retirement), and the read
    /// fails with `error`. The writer's `write` fails and hands its value back.
    Refused { poison: bool, error: ChannelError },
}

/// One connected end of the protocol.
pub(crate) struct Peer {
    link: Option<Link>,
    /// The listener of the side that listened: programs knocking while this end is
    /// connected are turned away.
    door: Option<Door>,
    channel: Arc<str>,
    /// The named channel and its path, or the bridge and its peer: for messages.
    place: Arc<str>,
    role: Role,
    /// The writer's last value sent; the reader's last value taken.
    seq: u32,
    /// The last value acked: by the reader (writer side), to the writer (reader side).
    acked: u32,
    /// Values the writer may run ahead of the reader (0: rendezvous).
    buffer: usize,
    /// The writer is gone as far as acks are concerned (an ack could not be sent): the
    /// reader still reads what it sent.
    acks_lost: bool,
    ended: Option<Ended>,
    /// The largest value the peer accepts.
    peer_max: usize,
}

impl Peer {
    pub(crate) fn new(
        link: Link,
        door: Option<Door>,
        role: Role,
        channel: Arc<str>,
        place: Arc<str>,
        peer_max: usize,
        buffer: usize,
    ) -> Peer {
        Peer {
            link: Some(link),
            door,
            channel,
            place,
            role,
            seq: 0,
            acked: 0,
            buffer,
            acks_lost: false,
            ended: None,
            peer_max,
        }
    }

    fn error(&self, ended: &Ended) -> ChannelError {
        let channel = self.channel.clone();
        match ended {
            Ended::Poisoned => {
                crate::park::process::note_poisoned();
                ChannelError::Poisoned { channel }
            }
            Ended::Retired(side) => ChannelError::Retired {
                channel,
                side: *side,
            },
            Ended::Broken(why) => ChannelError::Transport {
                channel,
                message: format!("{}: {why}", self.place),
            },
        }
    }

    fn timeout(&self) -> ChannelError {
        ChannelError::Timeout {
            channel: self.channel.clone(),
        }
    }

    /// Stops the end: the link closes, and every later operation fails with `how`.
    fn end(&mut self, how: Ended) -> ChannelError {
        if let Some(link) = self.link.take() {
            link.close();
        }
        let err = self.error(&how);
        self.ended = Some(how);
        err
    }

    fn broken(&mut self, e: LinkError) -> ChannelError {
        self.end(Ended::Broken(e.describe()))
    }

    /// Why the end cannot be used, if it cannot.
    fn stopped(&self) -> Option<ChannelError> {
        match (&self.ended, &self.link) {
            (Some(how), _) => Some(self.error(how)),
            (None, Some(_)) => None,
            (None, None) => Some(self.error(&Ended::Broken("the link is closed".into()))),
        }
    }

    fn link(&mut self) -> Result<&mut Link, ChannelError> {
        if let Some(e) = self.stopped() {
            return Err(e);
        }
        self.link.as_mut().ok_or_else(|| ChannelError::Transport {
            channel: self.channel.clone(),
            message: "the link is closed".into(),
        })
    }

    fn send(&mut self, f: &Frame) -> Result<(), ChannelError> {
        match self.link()?.send(f) {
            Ok(()) => Ok(()),
            Err(e) => Err(self.after_send_failed(e)),
        }
    }

    /// A send failed because the peer closed: it may have said why (poison, retire)
    /// just before, so read what it sent before calling the link broken.
    fn after_send_failed(&mut self, e: LinkError) -> ChannelError {
        loop {
            let Some(link) = self.link.as_mut() else {
                return self.broken(e);
            };
            match link.recv(Some(Instant::now()), None) {
                Ok(Event::Frame(Frame::Poison)) => return self.end(Ended::Poisoned),
                Ok(Event::Frame(Frame::Retire)) => return self.end(self.retired_peer()),
                Ok(Event::Frame(_)) => {}
                _ => return self.broken(e),
            }
        }
    }

    /// The peer retired: for a reader, every writer has; for a writer, every reader.
    fn retired_peer(&self) -> Ended {
        Ended::Retired(match self.role {
            Role::Reader => RetiredSide::Writers,
            Role::Writer => RetiredSide::Readers,
        })
    }

    /// The next frame; programs knocking meanwhile are turned away.
    fn recv(&mut self, deadline: Option<Instant>) -> Result<Event, ChannelError> {
        loop {
            if let Some(e) = self.stopped() {
                return Err(e);
            }
            let knock = self.door.as_ref().map(Door::fd);
            let Some(link) = self.link.as_mut() else {
                return Err(self.timeout());
            };
            match link.recv(deadline, knock) {
                Ok(Event::Knock) => {
                    if let Some(door) = &self.door {
                        door.turn_away("it is connected to another peer already");
                    }
                }
                Ok(event) => return Ok(event),
                Err(e) => return Err(self.broken(e)),
            }
        }
    }

    /// A frame that the protocol does not allow here breaks the link.
    fn unexpected(&mut self, f: &Frame) -> ChannelError {
        self.end(Ended::Broken(format!(
            "protocol violation: unexpected {f:?}"
        )))
    }

    /// Writes `value` (its encoding) and waits for the reader to take it. Without a
    /// deadline the value is offered firm; with one it is tentative, and withdrawn if
    /// no reader claimed it in time. (Once claimed, the transfer finishes whatever the
    /// deadline: the reader is reading, so that takes one round trip.)
    pub(crate) fn write(
        &mut self,
        value: &[u8],
        deadline: Option<Instant>,
    ) -> Result<(), ChannelError> {
        if value.len() > self.peer_max {
            return Err(ChannelError::TooLarge {
                channel: self.channel.clone(),
                len: value.len(),
                limit: self.peer_max,
            });
        }
        if self.buffer > 0 {
            return self.write_buffered(value, deadline);
        }
        self.seq = self.seq.wrapping_add(1);
        let (seq, firm) = (self.seq, deadline.is_none());
        let sent = self.link()?.send_data(seq, firm, value);
        if let Err(e) = sent {
            return Err(self.after_send_failed(e));
        }
        let mut wait_until = deadline;
        loop {
            match self.recv(wait_until)? {
                Event::Frame(Frame::Ack(s)) if s == seq => return Ok(()),
                Event::Frame(Frame::Claim(s)) if s == seq && !firm => {
                    self.send(&Frame::Confirm(seq))?;
                    wait_until = None;
                }
                // Left over from a withdrawn value: already answered.
                Event::Frame(Frame::Claim(_) | Frame::Ack(_)) => {}
                Event::Frame(Frame::Poison) => return Err(self.end(Ended::Poisoned)),
                Event::Frame(Frame::Retire) => return Err(self.end(self.retired_peer())),
                Event::Frame(other) => return Err(self.unexpected(&other)),
                Event::Timeout => {
                    self.send(&Frame::Withdraw(seq))?;
                    return Err(self.timeout());
                }
                Event::Knock => {}
            }
        }
    }

    /// A buffered write: waits (until `deadline`) for room, then sends the value firm
    /// and returns. A value that found no room in time was not sent: it goes back.
    fn write_buffered(
        &mut self,
        value: &[u8],
        deadline: Option<Instant>,
    ) -> Result<(), ChannelError> {
        while self.seq.wrapping_sub(self.acked) as usize >= self.buffer {
            match self.recv(deadline)? {
                Event::Frame(Frame::Ack(s)) => self.note_ack(s)?,
                Event::Frame(Frame::Poison) => return Err(self.end(Ended::Poisoned)),
                Event::Frame(Frame::Retire) => return Err(self.end(self.retired_peer())),
                Event::Frame(other) => return Err(self.unexpected(&other)),
                Event::Timeout => return Err(self.timeout()),
                Event::Knock => {}
            }
        }
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let sent = self.link()?.send_data(seq, true, value);
        match sent {
            Ok(()) => Ok(()),
            Err(e) => {
                self.seq = self.seq.wrapping_sub(1);
                Err(self.after_send_failed(e))
            }
        }
    }

    /// A cumulative ack on a buffered channel: every value up to `s` was taken.
    fn note_ack(&mut self, s: u32) -> Result<(), ChannelError> {
        let unacked = self.seq.wrapping_sub(self.acked);
        let newly = s.wrapping_sub(self.acked);
        if newly == 0 || newly > unacked {
            return Err(self.unexpected(&Frame::Ack(s)));
        }
        self.acked = s;
        Ok(())
    }

    /// Tells the writer the reader took value `seq`: at once on a rendezvous channel,
    /// once per `ack_every` values on a buffered one. A writer that has gone cannot be
    /// told, and need not be: what it sent before going is still read.
    fn ack(&mut self, seq: u32) {
        self.seq = seq;
        let due = seq.wrapping_sub(self.acked) as usize >= ack_every(self.buffer);
        if !due || self.acks_lost {
            return;
        }
        self.acked = seq;
        let sent = match self.link.as_mut() {
            Some(link) => link.send(&Frame::Ack(seq)),
            None => return,
        };
        if sent.is_err() {
            self.acks_lost = true;
        }
    }

    /// Reads the next value: `take` gets its bytes and decides; the writer is acked
    /// only after `take` took it (an extended rendezvous).
    pub(crate) fn read<R>(
        &mut self,
        deadline: Option<Instant>,
        take: impl FnOnce(&[u8]) -> Taken<R>,
    ) -> Result<R, ChannelError> {
        let mut claimed: Option<(u32, Vec<u8>)> = None;
        let value = loop {
            let wait_until = if claimed.is_some() { None } else { deadline };
            match self.recv(wait_until)? {
                Event::Frame(Frame::Data {
                    seq,
                    firm: true,
                    value,
                }) => break (seq, value),
                Event::Frame(Frame::Data {
                    seq,
                    firm: false,
                    value,
                }) => {
                    self.send(&Frame::Claim(seq))?;
                    claimed = Some((seq, value));
                }
                Event::Frame(Frame::Confirm(s)) if claimed.as_ref().is_some_and(|c| c.0 == s) => {
                    break claimed.take().unwrap_or_default();
                }
                Event::Frame(Frame::Withdraw(s)) if claimed.as_ref().is_some_and(|c| c.0 == s) => {
                    claimed = None;
                }
                Event::Frame(Frame::Poison) => return Err(self.end(Ended::Poisoned)),
                Event::Frame(Frame::Retire) => return Err(self.end(self.retired_peer())),
                Event::Frame(other) => return Err(self.unexpected(&other)),
                Event::Timeout => return Err(self.timeout()),
                Event::Knock => {}
            }
        };
        match take(&value.1) {
            Taken::Took(r) => {
                // The value is taken: if the ack cannot reach the writer, the writer
                // has gone and learns nothing; this read still succeeded.
                self.ack(value.0);
                Ok(r)
            }
            Taken::Refused { poison, error } => {
                let frame = if poison { Frame::Poison } else { Frame::Retire };
                let _ = self.send(&frame);
                self.end(if poison {
                    Ended::Poisoned
                } else {
                    Ended::Retired(RetiredSide::ThisEnd)
                });
                Err(error)
            }
        }
    }

    /// Poisons the end and its peer (`Poisoned` there at its next or current operation).
    pub(crate) fn poison(&mut self) {
        if self.ended.is_none() {
            let _ = self.send(&Frame::Poison);
            self.end(Ended::Poisoned);
        }
    }

    /// Retires the end: its peer sees `Retired` (a reader after nothing more comes, a
    /// writer instead of its ack).
    pub(crate) fn retire(&mut self) {
        if self.ended.is_none() {
            let _ = self.send(&Frame::Retire);
            self.end(Ended::Retired(RetiredSide::ThisEnd));
        }
    }

    /// Whether the end was poisoned, here or by its peer.
    pub(crate) fn is_poisoned(&self) -> bool {
        matches!(self.ended, Some(Ended::Poisoned))
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.retire();
    }
}
