//! The listening socket of the side that listens: where a peer connects, and where a
//! program that knocks while the end has its peer is turned away with a reason.

use std::io;
use std::net::TcpListener;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::time::Instant;

use super::link::{wait_readable, Link, Ready};
use super::wire::Frame;

/// A bound, listening socket (non-blocking: it is only accepted from once readable).
pub(crate) enum Door {
    /// A Unix-domain socket at a path, removed when the door goes (if it still is the
    /// socket this door bound, by device and inode).
    Unix {
        listener: UnixListener,
        path: PathBuf,
        file: (u64, u64),
    },
    Tcp(TcpListener),
}

impl Door {
    pub(crate) fn unix(listener: UnixListener, path: PathBuf) -> io::Result<Door> {
        listener.set_nonblocking(true)?;
        let meta = std::fs::symlink_metadata(&path)?;
        Ok(Door::Unix {
            listener,
            path,
            file: (meta.dev(), meta.ino()),
        })
    }

    pub(crate) fn tcp(listener: TcpListener) -> io::Result<Door> {
        listener.set_nonblocking(true)?;
        Ok(Door::Tcp(listener))
    }

    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Door::Unix { listener, .. } => listener.as_fd(),
            Door::Tcp(listener) => listener.as_fd(),
        }
    }

    /// The next connection (a blocking socket), or `None` once `deadline` passed.
    pub(crate) fn accept(&self, deadline: Option<Instant>) -> io::Result<Option<OwnedFd>> {
        loop {
            match self.try_accept() {
                Ok(fd) => return Ok(Some(fd)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // The knocking program gave up before we answered: not our error.
                Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => continue,
                Err(e) => return Err(e),
            }
            match wait_readable(self.fd(), deadline, None) {
                Ok(Ready::Timeout) => return Ok(None),
                Ok(_) => {}
                Err(e) => return Err(io::Error::other(e.describe())),
            }
        }
    }

    fn try_accept(&self) -> io::Result<OwnedFd> {
        match self {
            Door::Unix { listener, .. } => {
                let (s, _) = listener.accept()?;
                s.set_nonblocking(false)?;
                Ok(s.into())
            }
            Door::Tcp(listener) => {
                let (s, _) = listener.accept()?;
                s.set_nonblocking(false)?;
                s.set_nodelay(true)?;
                Ok(s.into())
            }
        }
    }

    /// Turns away every program waiting at the door, telling each `reason`.
    pub(crate) fn turn_away(&self, reason: &str) {
        while let Ok(fd) = self.try_accept() {
            let mut link = Link::new(fd, 0);
            let _ = link.send(&Frame::Refuse(reason.to_string()));
            link.close();
        }
    }
}

impl Drop for Door {
    fn drop(&mut self) {
        if let Door::Unix { path, file, .. } = self {
            // Only our own socket file: a later listener may have replaced a stale one.
            let ours = std::fs::symlink_metadata(&*path).is_ok_and(|m| (m.dev(), m.ino()) == *file);
            if ours {
                let _ = std::fs::remove_file(&*path);
            }
        }
    }
}
