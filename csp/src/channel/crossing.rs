//! The cross-process flavour, typed: a channel whose ends sit in different OS processes.
//!
//! The fork runtime moves a channel here (`Core::make_shared`) before it forks, while the
//! program is single-threaded; from then on every operation of the channel's ends goes
//! through this flavour (see `Flavor`). Values travel as `postcard` frames through the
//! byte-level shared-memory channel (`channel::shm`), which keeps the same
//! wait-and-commit protocol as the in-memory core: a rendezvous write returns once a
//! reader has the value, a timed-out write keeps its value, poison wakes everyone.
//!
//! Layer: channel; uses park (per-process poison note) and sync, nothing above.

use std::sync::Arc;

use super::buffer::{Buffer, Shape};
use super::core::{Core, Deadline};
use super::error::{ChannelError, RetiredSide, WriteError};
use super::shm::{Config, Gone, Held, Mode, SharedChannel, SharedError, Wait};
use super::{Codec, EndId, Side};

/// A channel's state once it crosses OS processes.
pub(crate) struct Crossing<T> {
    chan: SharedChannel,
    name: Arc<str>,
    codec: Codec<T>,
}

fn wait_of(deadline: Deadline) -> Wait {
    match deadline {
        Deadline::Now => Wait::Try,
        Deadline::Never => Wait::Forever,
        Deadline::At(at) => Wait::Until(at),
    }
}

impl<T> Crossing<T> {
    pub(crate) fn new(chan: SharedChannel, name: Arc<str>, codec: Codec<T>) -> Self {
        Crossing { chan, name, codec }
    }

    /// The channel error for a transport error, naming the channel.
    fn error(&self, e: SharedError) -> ChannelError {
        let channel = self.name.clone();
        match e {
            SharedError::Poisoned => {
                crate::park::process::note_poisoned();
                ChannelError::Poisoned { channel }
            }
            SharedError::Retired(Gone::Writers) => ChannelError::Retired {
                channel,
                side: RetiredSide::Writers,
            },
            SharedError::Retired(Gone::Readers) => ChannelError::Retired {
                channel,
                side: RetiredSide::Readers,
            },
            SharedError::Timeout => ChannelError::Timeout { channel },
            SharedError::Full => ChannelError::Full { channel },
            SharedError::Empty => ChannelError::Empty { channel },
            SharedError::TooLarge { len, limit } => ChannelError::TooLarge {
                channel,
                len,
                limit,
            },
            SharedError::Frame(e) => ChannelError::Codec {
                channel,
                operation: "decode",
                message: e.to_string(),
            },
            other => ChannelError::Transport {
                channel,
                message: other.to_string(),
            },
        }
    }

    pub(crate) fn write(
        &self,
        end: EndId,
        value: T,
        deadline: Deadline,
    ) -> Result<(), WriteError<T>> {
        let wait = wait_of(deadline);
        if self.fast_write(&value, wait) {
            return Ok(());
        }
        let frame = match self.codec.encode(&self.name, &value) {
            Ok(f) => f,
            Err(e) => return Err(WriteError::new(e, value)),
        };
        match self.chan.write(end.get(), &frame, wait) {
            Ok(()) => Ok(()),
            Err(SharedError::Lost) => Err(WriteError::lost(self.error(SharedError::Poisoned))),
            Err(e) => Err(WriteError::new(self.error(e), value)),
        }
    }

    /// The fast path of a one2one FIFO channel (`shm::fast`): the value encoded
    /// straight into a buffer slot, no lock, no system call. `false`: take the lock path.
    fn fast_write(&self, value: &T, wait: Wait) -> bool {
        self.chan
            .fast_write(wait, |buf| self.codec.encode_into(value, buf))
    }

    /// The fast path's read: `None` to take the lock path.
    fn fast_read(&self, wait: Wait) -> Option<Result<T, ChannelError>> {
        let got = self.chan.fast_read(wait, |payload| self.decode(payload))?;
        Some(
            got.map_err(|e| self.error(SharedError::Frame(e)))
                .and_then(|v| v),
        )
    }

    pub(crate) fn read(&self, end: EndId, deadline: Deadline) -> Result<T, ChannelError> {
        let wait = wait_of(deadline);
        if let Some(got) = self.fast_read(wait) {
            return got;
        }
        let frame = self.chan.read(end.get(), wait).map_err(|e| self.error(e))?;
        self.decode(&frame)
    }

    /// A frame that does not decode was sent by a broken or hostile peer: the channel
    /// cannot be trusted any more, so it is poisoned, and the reader gets the error.
    fn decode(&self, frame: &[u8]) -> Result<T, ChannelError> {
        self.codec.decode(&self.name, frame).inspect_err(|_| {
            self.chan.poison();
        })
    }

    /// Extended rendezvous: the value, and what releases its writer when the reader's
    /// block ends.
    pub(crate) fn read_extended(&self, end: EndId) -> Result<(T, Held), ChannelError> {
        let (frame, held) = self
            .chan
            .read_extended(end.get(), Wait::Forever)
            .map_err(|e| self.error(e))?;
        match self.decode(&frame) {
            Ok(v) => Ok((v, held)),
            Err(e) => {
                held.release(false);
                Err(e)
            }
        }
    }

    /// An alt's attempt at an input guard. A cross-process channel cannot see the
    /// alt's context (it lives in one process's memory), so the alt never registers
    /// here: it tries without waiting, and looks again shortly while other guards may
    /// wake it (see `alt::engine`, which treats `None` as "look again").
    pub(crate) fn try_read(&self, end: EndId) -> Result<Option<T>, ChannelError> {
        self.read_unless(end, Wait::Try)
    }

    /// An alt's exclusive offer at an input guard: waits as a reader until `until`
    /// (`None`: for as long as it takes), so that a writer in another process, blocking
    /// or alting, can hand over to it. `Ok(None)` if nobody did in time. The alt is
    /// registered nowhere else meanwhile, so it commits to at most one guard.
    pub(crate) fn offer_read(
        &self,
        end: EndId,
        until: Option<std::time::Instant>,
    ) -> Result<Option<T>, ChannelError> {
        self.read_unless(end, until.map_or(Wait::Forever, Wait::Until))
    }

    /// A read that gives `None` where it would wait longer than `wait` allows.
    fn read_unless(&self, end: EndId, wait: Wait) -> Result<Option<T>, ChannelError> {
        if let Some(got) = self.fast_read(wait) {
            return got.map(Some);
        }
        match self.chan.read(end.get(), wait) {
            Ok(frame) => self.decode(&frame).map(Some),
            Err(SharedError::Empty | SharedError::Timeout) => Ok(None),
            Err(e) => Err(self.error(e)),
        }
    }

    /// An alt's attempt at an output guard: `Ok(true)` if a reader took the value (or
    /// the buffer did); `Ok(false)` if it would have to wait (the value stays).
    pub(crate) fn try_write(
        &self,
        end: EndId,
        value: &mut Option<T>,
    ) -> Result<bool, ChannelError> {
        self.write_unless(end, value, Wait::Try)
    }

    /// An alt's exclusive offer at an output guard (see [`Crossing::offer_read`]):
    /// `Ok(true)` if a reader took the value; `Ok(false)` if nobody did in time, and
    /// the value stays in `value`.
    pub(crate) fn offer_write(
        &self,
        end: EndId,
        value: &mut Option<T>,
        until: Option<std::time::Instant>,
    ) -> Result<bool, ChannelError> {
        self.write_unless(end, value, until.map_or(Wait::Forever, Wait::Until))
    }

    /// A write that gives `Ok(false)`, keeping the value, where it would wait longer
    /// than `wait` allows.
    fn write_unless(
        &self,
        end: EndId,
        value: &mut Option<T>,
        wait: Wait,
    ) -> Result<bool, ChannelError> {
        let Some(v) = value.as_ref() else {
            return Ok(true);
        };
        if self.fast_write(v, wait) {
            *value = None;
            return Ok(true);
        }
        let frame = self.codec.encode(&self.name, v)?;
        match self.chan.write(end.get(), &frame, wait) {
            Ok(()) => {
                *value = None;
                Ok(true)
            }
            Err(SharedError::Full | SharedError::Timeout) => Ok(false),
            Err(SharedError::Lost) => {
                *value = None; // gone with the reader's failed extended block
                Err(self.error(SharedError::Poisoned))
            }
            Err(e) => Err(self.error(e)),
        }
    }

    pub(crate) fn claim(&self, side: Side, end: EndId) -> Result<(), ChannelError> {
        self.chan.claim(side, end.get()).map_err(|e| self.error(e))
    }

    pub(crate) fn release_claim(&self, side: Side, end: EndId) {
        self.chan.release_claim(side, end.get())
    }

    pub(crate) fn retire(&self, side: Side, end: EndId) {
        self.chan.retire(side, end.get())
    }

    pub(crate) fn open_end(&self, side: Side) {
        self.chan.open_end(side)
    }

    pub(crate) fn open_ends(&self, side: Side) -> usize {
        self.chan.open_ends(side)
    }

    pub(crate) fn poison(&self) {
        self.chan.poison()
    }

    pub(crate) fn is_poisoned(&self) -> bool {
        self.chan.is_poisoned()
    }

    pub(crate) fn len(&self) -> usize {
        self.chan.len()
    }
}

impl<T> Core<T> {
    /// Moves the channel to the cross-process flavour (see `ChannelInfo::make_shared`),
    /// with the values buffered so far and the ends open now. Called while the program
    /// is single-threaded, before the fork: nobody waits on the in-memory state.
    pub(crate) fn make_shared(&self) -> Result<(), ChannelError>
    where
        T: 'static,
    {
        if self.crossing.get().is_some() {
            return Ok(());
        }
        let name = self.name();
        let Some(codec) = self.codec.clone() else {
            return Err(ChannelError::Transport {
                channel: name,
                message: "made with Channel::local(): its values cannot cross OS processes".into(),
            });
        };
        let mut st = self.lock();
        let open = st.open;
        let one_to_one = self.kind == super::Kind::One2One;
        let shared = share(&name, &codec, &mut st.buffer, open, one_to_one)?;
        // Poisoned before the fork (e.g. a boundary end the caller poisoned): every
        // process must see it, or a child would wait for a value that never comes.
        if st.poisoned {
            shared.poison();
        }
        st.crossed = true;
        drop(st);
        let _ = self.crossing.set(Crossing::new(shared, name, codec));
        Ok(())
    }
}

/// Slots an unbounded channel reserves between OS processes.
const UNBOUNDED_SLOTS: usize = 1 << 18;

/// The shared-memory channel for a channel now in memory: its policy, the ends open
/// now, and the values it buffers (encoded, in the order a reader would get them).
pub(super) fn share<T: 'static>(
    name: &Arc<str>,
    codec: &Codec<T>,
    buffer: &mut Buffer<T>,
    open: [usize; 2],
    one_to_one: bool,
) -> Result<SharedChannel, ChannelError> {
    let transport = |e: SharedError| ChannelError::Transport {
        channel: name.clone(),
        message: e.to_string(),
    };
    let (capacity, shape) = buffer.shape();
    let (capacity, mode) = match shape {
        // Slots are reserved, not committed (untouched ones cost no memory): an
        // unbounded channel gets many, and a write beyond them waits.
        Shape::Fifo if capacity == usize::MAX => (UNBOUNDED_SLOTS, Mode::Unbounded),
        Shape::Fifo => (capacity, Mode::Fifo),
        Shape::DropOldest => (capacity, Mode::OverwriteOldest),
        Shape::DropNewest => (capacity, Mode::DropNewest),
        Shape::Priority(_) => (capacity, Mode::Priority),
    };
    let config = Config {
        capacity,
        mode,
        open,
        one_to_one,
        max_frame: codec.max_frame,
        ..Config::default()
    };
    let mut chan = SharedChannel::create(config).map_err(transport)?;
    if let Shape::Priority(cmp) = shape {
        let decode = codec.clone();
        // Frames that do not decode compare equal: the reader that takes one gets the
        // decode error.
        chan.set_order(Arc::new(move |a: &[u8], b: &[u8]| {
            match (decode.decode("", a), decode.decode("", b)) {
                (Ok(a), Ok(b)) => cmp(&a, &b),
                _ => std::cmp::Ordering::Equal,
            }
        }));
    }
    while let Some(v) = buffer.pop() {
        let frame = codec.encode(name, &v)?;
        chan.push_initial(&frame).map_err(transport)?;
    }
    Ok(chan)
}
