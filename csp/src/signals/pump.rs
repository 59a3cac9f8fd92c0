//! The pump: signal-hook actions that write each signal's number into a pipe, and the
//! loop that turns the pipe's bytes into channel writes.

use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Duration;

use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use signal_hook::SigId;

use super::disposition::{pump_ended, pump_starts};
use super::{Signal, SignalError};
use crate::channel::{ChannelError, Output, RetiredSide, Side};

/// How often an idle pump looks whether its reader has gone.
const LOOK_EVERY: Duration = Duration::from_millis(50);

/// The installed actions of one pump; dropping it unregisters them, and a signal no
/// pump handles any more gets its default action back (see `disposition`).
struct Registration {
    ids: Vec<(Signal, SigId)>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        for (signal, id) in self.ids.drain(..) {
            // Once `unregister` returns, signal-hook guarantees no handler still runs the
            // action, which it then drops (closing the action's copy of the pipe).
            signal_hook::low_level::unregister(id);
            pump_ended(signal.number());
        }
    }
}

/// Installs one action per signal, each writing its number to `write`'s pipe.
fn register(kinds: &[Signal], write: &OwnedFd) -> Result<Registration, SignalError> {
    let mut registration = Registration { ids: Vec::new() };
    for &signal in kinds {
        let os = |error: std::io::Error| SignalError::Register { signal, error };
        let fd: OwnedFd = write.try_clone().map_err(os)?;
        let byte = [u8::try_from(signal.number()).map_err(|_| SignalError::Forbidden { signal })?];
        let action = move || {
            // SAFETY: `write` is async-signal-safe; `fd` is owned by this action and
            // stays open as long as it can run (signal-hook drops the action only after
            // `unregister` made sure no handler runs it); `byte` is a live 1-byte
            // buffer. A full pipe (EAGAIN: the fd is non-blocking) drops the signal,
            // which the docs say.
            unsafe { libc::write(fd.as_raw_fd(), byte.as_ptr().cast(), 1) };
        };
        pump_starts(signal.number()).map_err(os)?;
        // SAFETY: the action only calls `write(2)`, which is async-signal-safe, and
        // touches no lock, allocation or thread-local; `signal` was checked against
        // signal-hook's forbidden list (SIGKILL, SIGSTOP, SIGSEGV, ...) by `signals`.
        match unsafe { signal_hook::low_level::register(signal.number(), action) } {
            Ok(id) => registration.ids.push((signal, id)),
            Err(e) => {
                pump_ended(signal.number());
                return Err(os(e));
            }
        }
    }
    Ok(registration)
}

/// Whether the pump should stop: its readers have all retired, or the channel is
/// poisoned (the error to end with).
fn reader_gone(out: &Output<Signal>) -> Option<Result<(), ChannelError>> {
    if out.is_poisoned() {
        return Some(Err(ChannelError::Poisoned {
            channel: out.name(),
        }));
    }
    let (info, _) = out.info();
    (info.open_ends(Side::Read) == 0).then_some(Ok(()))
}

/// A write's failure as the pump's ending: a retired reader is a normal end.
fn ended(e: ChannelError) -> Result<(), ChannelError> {
    match e {
        ChannelError::Retired {
            side: RetiredSide::Readers | RetiredSide::ThisEnd,
            ..
        } => Ok(()),
        e => Err(e),
    }
}

/// The pump's body: register, announce, then forward until the reader goes.
pub(super) fn run(
    kinds: &[Signal],
    out: Output<Signal>,
    armed: Option<Output<u32>>,
) -> Result<(), crate::BoxError> {
    let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)
        .map_err(|e| SignalError::Pipe(e.into()))?;
    let registration = register(kinds, &write)?;
    drop(write); // the actions hold their own copies
    if let Some(armed) = armed {
        // Armed: signals sent to this OS process from now on reach the channel.
        if let Err(e) = armed.write(std::process::id()) {
            ended(e.into_parts().0)?;
        }
    }
    let result = forward(&read, &out);
    drop(registration);
    Ok(result?)
}

fn forward(read: &OwnedFd, out: &Output<Signal>) -> Result<(), ChannelError> {
    let mut pipe = std::fs::File::from(read.try_clone().map_err(|e| ChannelError::Transport {
        channel: out.name(),
        message: e.to_string(),
    })?);
    let timeout = PollTimeout::try_from(LOOK_EVERY).unwrap_or(PollTimeout::MAX);
    let mut bytes = [0u8; 256];
    loop {
        if let Some(end) = reader_gone(out) {
            return end;
        }
        let mut fds = [PollFd::new(read.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
            Ok(_) => {}
            Err(e) => {
                return Err(ChannelError::Transport {
                    channel: out.name(),
                    message: format!("poll on the signal pipe: {e}"),
                })
            }
        }
        let n = match pipe.read(&mut bytes) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => 0,
            Err(e) => {
                return Err(ChannelError::Transport {
                    channel: out.name(),
                    message: format!("read of the signal pipe: {e}"),
                })
            }
        };
        for &b in &bytes[..n] {
            if let Err(e) = out.write(Signal(i32::from(b))) {
                return ended(e.into_parts().0);
            }
        }
    }
}
