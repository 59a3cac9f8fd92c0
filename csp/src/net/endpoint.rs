//! What both typed ends share: the connection, made lazily on the listening side (the
//! first operation accepts the peer, as opening a FIFO waits for the other side), and
//! what the end says about itself in hellos and errors.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Instant;

use super::door::Door;
use super::handshake;
use super::link::Link;
use super::peer::Peer;
use super::wire::{payload_limit, Hello, Role, WireType};
use crate::channel::{ChannelError, RetiredSide};

/// Who an end is: for the hello, the limits and the messages.
#[derive(Clone)]
pub(crate) struct Spec {
    pub(crate) role: Role,
    pub(crate) channel: Arc<str>,
    /// "named channel 'jobs' at /tmp/jobs.sock", "tcp channel 'jobs' to 127.0.0.1:80".
    pub(crate) place: Arc<str>,
    pub(crate) ty: WireType,
    pub(crate) max_frame: usize,
    /// Values the writer may run ahead of the reader (0: rendezvous).
    pub(crate) buffer: usize,
}

impl Spec {
    pub(crate) fn hello(&self) -> Hello {
        let buffer = u32::try_from(self.buffer).unwrap_or(u32::MAX);
        Hello::new(self.role, &self.channel, &self.ty, self.max_frame).buffered(buffer)
    }

    /// The protocol end over a link that said its hello, whose peer accepts values of up
    /// to `peer_max` bytes.
    pub(crate) fn peer(&self, link: Link, door: Option<Door>, peer_max: usize) -> Peer {
        Peer::new(
            link,
            door,
            self.role,
            self.channel.clone(),
            self.place.clone(),
            peer_max,
            self.buffer,
        )
    }

    /// A link over a connected socket, accepting frames this end's limit allows.
    pub(crate) fn link(&self, fd: std::os::fd::OwnedFd) -> Link {
        Link::new(fd, payload_limit(self.max_frame))
    }

    pub(crate) fn transport(&self, message: impl std::fmt::Display) -> ChannelError {
        ChannelError::Transport {
            channel: self.channel.clone(),
            message: format!("{}: {message}", self.place),
        }
    }
}

enum Conn {
    /// Listening: no peer yet.
    Waiting(Door),
    Connected(Peer),
    /// Poisoned or retired before a peer came.
    Closed(ChannelError),
}

/// The connection of one end, used through `&self` as local ends are.
pub(crate) struct Endpoint {
    conn: RefCell<Conn>,
    pub(crate) spec: Spec,
}

impl Endpoint {
    pub(crate) fn listening(door: Door, spec: Spec) -> Endpoint {
        Endpoint {
            conn: RefCell::new(Conn::Waiting(door)),
            spec,
        }
    }

    pub(crate) fn connected(peer: Peer, spec: Spec) -> Endpoint {
        Endpoint {
            conn: RefCell::new(Conn::Connected(peer)),
            spec,
        }
    }

    /// Runs `op` on the connected peer, accepting it first (until `deadline`) if this
    /// end listens and has none yet.
    pub(crate) fn with_peer<R>(
        &self,
        deadline: Option<Instant>,
        op: impl FnOnce(&mut Peer) -> Result<R, ChannelError>,
    ) -> Result<R, ChannelError> {
        let mut conn = self.conn.try_borrow_mut().map_err(|_| {
            self.spec
                .transport("the end was used inside its own read_with block")
        })?;
        if matches!(*conn, Conn::Waiting(_)) {
            let placeholder = Conn::Closed(self.spec.transport("accepting"));
            let Conn::Waiting(door) = std::mem::replace(&mut *conn, placeholder) else {
                unreachable!("checked just above")
            };
            *conn = match self.accept(door, deadline) {
                Ok(peer) => Conn::Connected(peer),
                Err((door, e)) => {
                    *conn = Conn::Waiting(door);
                    return Err(e);
                }
            };
        }
        match &mut *conn {
            Conn::Connected(peer) => op(peer),
            Conn::Closed(e) => Err(e.clone()),
            Conn::Waiting(_) => Err(self.spec.transport("no peer")),
        }
    }

    /// Accepts programs until one says the right hello (the others are told why not).
    fn accept(&self, door: Door, deadline: Option<Instant>) -> Result<Peer, (Door, ChannelError)> {
        let hello = self.spec.hello();
        loop {
            let fd = match door.accept(deadline) {
                Ok(Some(fd)) => fd,
                Ok(None) => {
                    let channel = self.spec.channel.clone();
                    return Err((door, ChannelError::Timeout { channel }));
                }
                Err(e) => {
                    let err = self
                        .spec
                        .transport(format_args!("cannot accept a peer: {e}"));
                    return Err((door, err));
                }
            };
            let mut link = self.spec.link(fd);
            match handshake::accept(&mut link, &hello) {
                Ok(peer_max) => return Ok(self.spec.peer(link, Some(door), peer_max)),
                Err(_turned_away) => link.close(),
            }
        }
    }

    pub(crate) fn poison(&self) {
        self.stop(true)
    }

    pub(crate) fn retire(&self) {
        self.stop(false)
    }

    fn stop(&self, poison: bool) {
        let Ok(mut conn) = self.conn.try_borrow_mut() else {
            return;
        };
        match &mut *conn {
            Conn::Connected(peer) if poison => peer.poison(),
            Conn::Connected(peer) => peer.retire(),
            Conn::Waiting(door) => {
                // No peer ever came: the door closes (the socket file goes), and a
                // program connecting later finds nobody listening. One knocking now
                // is told why.
                door.turn_away(if poison {
                    "the end was poisoned before a peer came"
                } else {
                    "the end was retired before a peer came"
                });
                let channel = self.spec.channel.clone();
                *conn = Conn::Closed(if poison {
                    ChannelError::Poisoned { channel }
                } else {
                    ChannelError::Retired {
                        channel,
                        side: RetiredSide::ThisEnd,
                    }
                });
            }
            Conn::Closed(_) => {}
        }
    }

    pub(crate) fn is_poisoned(&self) -> bool {
        match &*self.conn.borrow() {
            Conn::Connected(peer) => peer.is_poisoned(),
            Conn::Closed(e) => e.is_poisoned(),
            Conn::Waiting(_) => false,
        }
    }
}
