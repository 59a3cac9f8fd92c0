//! Typed channels: the only way processes talk.
//!
//! A channel is made with [`Channel`], a builder that fixes its name and buffer policy,
//! and then split into ends by its kind:
//!
//! | kind        | ends                                   | readers / writers |
//! |-------------|----------------------------------------|-------------------|
//! | `one2one`   | ([`Output`], [`Input`])                 | 1 / 1             |
//! | `any2one`   | ([`SharedOutput`], [`Input`])           | 1 / any           |
//! | `one2any`   | ([`Output`], [`SharedInput`])           | any / 1           |
//! | `any2any`   | ([`SharedOutput`], [`SharedInput`])     | any / any         |
//!
//! A one2one end is not `Clone`, so a second reader or writer cannot exist: the compiler
//! refuses it. Shared ends are `Clone` and can be claimed for a sequence of operations.
//!
//! ```compile_fail
//! let (tx, rx) = csp::Channel::<u8>::new().one2one();
//! let second_writer = tx.clone(); // one2one: refused at compile time
//! ```
//!
//! Nor can one end be shared by reference: ends are `Send` but not `Sync`, so an
//! `Arc<Output<T>>` (or `&Output<T>`) cannot reach a second thread, and a one2one channel
//! keeps one writer and one reader. Shared kinds give each holder its own clone.
//!
//! ```compile_fail
//! use std::sync::Arc;
//! let (tx, _rx) = csp::Channel::<u8>::new().fifo(2).one2one();
//! let tx = Arc::new(tx);
//! let second = Arc::clone(&tx);
//! std::thread::spawn(move || second.write(1)); // refused: `Output<u8>` is not `Sync`
//! tx.write(2).unwrap();
//! ```
//!
//! ```
//! let (tx, rx) = csp::Channel::<u8>::new().fifo(2).any2one();
//! let second = tx.clone(); // a shared end: each thread owns a clone
//! std::thread::spawn(move || second.write(1)).join().unwrap()?;
//! tx.write(2)?;
//! assert_eq!(rx.read()? + rx.read()?, 3);
//! # Ok::<(), csp::ChannelError>(())
//! ```
//!
//! By default a channel is a **rendezvous**: `write` returns once a reader has taken the
//! value. [`Policy`] chooses a buffer instead; [`Channel::priority`] a priority queue.
//!
//! Ending a network: [`Output::retire`] (or dropping an end) ends the stream gracefully —
//! readers drain what is buffered, then see `Retired`, and `for v in input` loops end;
//! [`Output::poison`] aborts — every pending and later operation fails with `Poisoned`.

mod alt_hooks;
mod buffer;
mod codec;
mod core;
mod crossing;
mod duplex;
mod end;
mod ending;
mod ends;
mod error;
mod extended;
// Checked frames: the shared-memory slots and `csp::net`'s byte streams carry the same.
pub(crate) mod frame;
mod ids;
mod info;
mod iter;
mod ring;
pub(crate) mod select;
mod shared_ends;
mod state;
// The byte-level shared-memory channel exists on Linux only; elsewhere a stand-in
// refuses to make one, so a forked placement is a clear error there.
#[cfg(target_os = "linux")]
pub(crate) mod shm;
#[cfg(not(target_os = "linux"))]
#[path = "unsupported.rs"]
mod shm;
mod waker;

pub use buffer::Policy;
#[cfg(test)]
pub(crate) use codec::take_decode_note;
pub(crate) use codec::{note_decode_failure, Codec};
pub use codec::{Wire, DEFAULT_MAX_FRAME};
pub use duplex::{duplex, Duplex};
pub use ends::{Input, Output};
pub use error::{ChannelError, RetiredSide, WriteError};
pub(crate) use info::ChannelInfo;
pub use iter::{IntoIter, Iter};
pub use shared_ends::{Claim, Claimable, SharedInput, SharedOutput};

use std::marker::PhantomData;
use std::sync::Arc;

use self::buffer::Buffer;
use self::core::Core;

/// Who may hold the ends of a channel.
///
/// ```
/// use csp::{Channel, Kind};
/// let (tx, rx) = Channel::<u8>::new().one2any();
/// assert_eq!(tx.kind(), Kind::One2Any);
/// assert_eq!(rx.kind(), Kind::One2Any); // both ends tell the channel's kind
/// assert_eq!(Channel::<u8>::new().any2one().1.kind(), Kind::Any2One);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// One writer, one reader.
    One2One,
    /// Any number of writers, one reader.
    Any2One,
    /// One writer, any number of readers.
    One2Any,
    /// Any number of writers and readers.
    Any2Any,
}

/// Which end of a channel: the reading or the writing side.
///
/// ```
/// use csp::channel::Side;
/// use csp::{Channel, Process};
/// let (tx, rx) = Channel::<u8>::new().one2one();
/// let p = Process::with_ends("relay", (rx, tx), |_| Ok(()));
/// let sides: Vec<Side> = p.ends().iter().map(|e| e.side()).collect();
/// assert_eq!(sides, [Side::Read, Side::Write]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The [`Input`] side.
    Read = 0,
    /// The [`Output`] side.
    Write = 1,
}

/// The stable id of one channel end.
///
/// ```
/// let (tx, rx) = csp::Channel::<u8>::new().any2one();
/// let tx2 = tx.clone();
/// // One channel, three ends: each end has an id of its own.
/// assert_eq!(tx.channel_id(), rx.channel_id());
/// assert_ne!(tx.id(), tx2.id());
/// assert_ne!(tx.id(), rx.id());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EndId(u64);

impl EndId {
    /// The id as a number.
    ///
    /// ```
    /// let (tx, rx) = csp::Channel::<u8>::new().one2one();
    /// let (a, b) = (tx.id().get(), rx.id().get());
    /// assert_ne!(a, b);
    /// assert_eq!(tx.id().get(), a); // stable for the end's life
    /// ```
    pub fn get(self) -> u64 {
        self.0
    }
}

pub(crate) use self::ids::{local_part as short_id, next_channel_id};
pub(crate) use self::shm::SharedBarrier;

pub(crate) fn next_end_id() -> EndId {
    EndId(ids::next_end_id())
}

/// A channel under construction: choose its name and buffer, then split it into ends
/// with [`one2one`](Self::one2one), [`any2one`](Self::any2one),
/// [`one2any`](Self::one2any) or [`any2any`](Self::any2any).
///
/// ```
/// use csp::{Channel, Policy};
///
/// let (tx, rx) = Channel::<u64>::new().named("jobs").fifo(16).one2one();
/// tx.write(1)?;
/// assert_eq!(rx.read()?, 1);
/// assert_eq!(&*rx.name(), "jobs");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Channel<T> {
    name: Option<String>,
    buffer: Buffer<T>,
    codec: Option<Codec<T>>,
    _marker: PhantomData<fn() -> T>,
}

impl<T> Channel<T> {
    /// A channel whose values can also cross OS-process boundaries (it captures their
    /// serde encoding). Use [`Channel::local`] for values that are not serializable.
    ///
    /// ```compile_fail
    /// struct NotSerializable;
    /// let c = csp::Channel::<NotSerializable>::new(); // explains itself, points to local()
    /// ```
    ///
    /// ```
    /// let (tx, rx) = csp::Channel::<(u32, String)>::new().fifo(1).one2one();
    /// assert!(tx.can_cross_processes());
    /// tx.write((1, "one".into()))?;
    /// assert_eq!(rx.read()?, (1, "one".to_string()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new() -> Channel<T>
    where
        T: Wire,
    {
        Channel {
            name: None,
            buffer: Buffer::new(Policy::Rendezvous),
            codec: Some(Codec::new()),
            _marker: PhantomData,
        }
    }

    /// A channel for any `Send` value, that stays within one OS process (topology
    /// validation refuses it across a fork boundary).
    ///
    /// ```
    /// use csp::{Channel, Parallel, Process};
    /// type Job = Box<dyn FnOnce() -> u32 + Send>; // not serializable: a local channel
    /// let (tx, rx) = Channel::<Job>::local().fifo(1).one2one();
    /// tx.write(Box::new(|| 6 * 7))?;
    /// assert_eq!(rx.read()?(), 42);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn local() -> Channel<T>
    where
        T: Send + 'static,
    {
        Channel {
            name: None,
            buffer: Buffer::new(Policy::Rendezvous),
            codec: None,
            _marker: PhantomData,
        }
    }

    /// Names the channel; the name appears in every error and diagram.
    ///
    /// ```
    /// let (tx, rx) = csp::Channel::<u8>::new().named("temperatures").one2one();
    /// drop(tx);
    /// let err = rx.read().unwrap_err();
    /// assert_eq!(&*rx.name(), "temperatures");
    /// assert!(err.to_string().contains("'temperatures'"));
    /// ```
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Chooses the buffer policy.
    ///
    /// ```
    /// use csp::{Channel, ChannelError, Policy};
    /// // DropNewest(2): a full buffer refuses nothing and waits for nothing; it loses the new value.
    /// let (tx, rx) = Channel::<u8>::new().buffer(Policy::DropNewest(2)).one2one();
    /// for v in 1..=4 {
    ///     tx.write(v)?;
    /// }
    /// assert_eq!((rx.read()?, rx.read()?), (1, 2));
    /// assert!(matches!(rx.try_read(), Err(ChannelError::Empty { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn buffer(mut self, policy: Policy) -> Self {
        self.buffer = Buffer::new(policy);
        self
    }

    /// The largest value, encoded, that the channel carries between OS processes
    /// (default [`DEFAULT_MAX_FRAME`], 64 KiB). A larger one is refused whole with
    /// [`ChannelError::TooLarge`] naming the channel, and handed back, never truncated;
    /// a reader never decodes more than this from a peer. Each buffer slot and waiter
    /// of a shared channel reserves this much address space (committed only as used).
    /// Channels made with [`Channel::local`] never cross, and ignore it.
    ///
    /// ```
    /// let (tx, rx) = csp::Channel::<Vec<u8>>::new().max_frame(2 << 20).fifo(1).one2one();
    /// tx.share_with_forks()?; // as `Parallel::run` does before it forks
    /// tx.write(vec![7; 1 << 20])?; // 1 MiB: over the default, under this limit
    /// assert_eq!(rx.read()?.len(), 1 << 20);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn max_frame(mut self, bytes: usize) -> Self {
        if let Some(codec) = &mut self.codec {
            codec.max_frame = bytes;
        }
        self
    }

    /// Shorthand for `buffer(Policy::Fifo(n))`.
    ///
    /// ```
    /// let (tx, rx) = csp::Channel::<u8>::new().fifo(2).one2one();
    /// tx.write(1)?; // returns at once: there is room
    /// tx.write(2)?;
    /// assert!(tx.try_write(3).is_err()); // full
    /// assert_eq!(rx.len(), 2);
    /// assert_eq!((rx.read()?, rx.read()?), (1, 2)); // first in, first out
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fifo(self, n: usize) -> Self {
        self.buffer(Policy::Fifo(n))
    }

    /// A buffer of up to `n` values from which readers get the greatest first (among
    /// equal values, the oldest first): Python's `PriorityQueue(maxsize=n)`.
    ///
    /// `T`'s `Ord` runs while the channel is locked (a heap compares on every write and
    /// read), so keep it cheap: other ends wait (parked, not spinning) while it runs. If
    /// it panics, the panic reaches the process that wrote or read, which fails as any
    /// panicking process does: its channels, this one included, are poisoned. From the
    /// panic on, the buffer offers nothing and takes nothing (nobody else calls the
    /// broken `Ord`), and poisoning drains it without comparing. (The value being read
    /// when a read's comparison panics goes with that panic.)
    ///
    /// ```
    /// let (tx, rx) = csp::Channel::<u32>::new().priority(8).one2one();
    /// for v in [3, 9, 1] {
    ///     tx.write(v)?;
    /// }
    /// assert_eq!((rx.read()?, rx.read()?, rx.read()?), (9, 3, 1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn priority(mut self, n: usize) -> Self
    where
        T: Ord,
    {
        self.buffer = Buffer::priority(n);
        self
    }

    fn build(self, kind: Kind) -> (Arc<Core<T>>, Arc<dyn ChannelInfo>)
    where
        T: Send + 'static,
    {
        let id = next_channel_id();
        let core = Arc::new(Core::new(id, self.name, kind, self.buffer, self.codec));
        let info: Arc<dyn ChannelInfo> = core.clone();
        (core, info)
    }

    /// One writer, one reader.
    ///
    /// ```
    /// use csp::{Channel, Input, Kind, Output};
    /// let (tx, rx): (Output<u8>, Input<u8>) = Channel::new().one2one();
    /// assert_eq!(tx.kind(), Kind::One2One);
    /// std::thread::spawn(move || tx.write(9)); // ends move to where they are used
    /// assert_eq!(rx.read()?, 9);
    /// # Ok::<(), csp::ChannelError>(())
    /// ```
    pub fn one2one(self) -> (Output<T>, Input<T>)
    where
        T: Send + 'static,
    {
        self.ends(Kind::One2One)
    }

    /// Any number of writers (clone the [`SharedOutput`]), one reader.
    ///
    /// ```
    /// let (tx, rx) = csp::Channel::<usize>::new().any2one();
    /// let writers: Vec<_> = (0..3)
    ///     .map(|i| {
    ///         let tx = tx.clone();
    ///         std::thread::spawn(move || tx.write(i))
    ///     })
    ///     .collect();
    /// drop(tx); // only the threads' clones are left: the reader's loop ends after them
    /// assert_eq!(rx.iter().sum::<usize>(), 0 + 1 + 2);
    /// for w in writers {
    ///     w.join().unwrap()?;
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn any2one(self) -> (SharedOutput<T>, Input<T>)
    where
        T: Send + 'static,
    {
        self.ends(Kind::Any2One)
    }

    /// One writer, any number of readers (clone the [`SharedInput`]).
    ///
    /// ```
    /// let (tx, rx) = csp::Channel::<u32>::new().fifo(4).one2any();
    /// let readers: Vec<_> = (0..2)
    ///     .map(|_| {
    ///         let rx = rx.clone();
    ///         std::thread::spawn(move || rx.iter().count())
    ///     })
    ///     .collect();
    /// drop(rx);
    /// for v in 0..4 {
    ///     tx.write(v)?;
    /// }
    /// drop(tx); // every reader's loop ends once the four values are taken
    /// let taken: usize = readers.into_iter().map(|r| r.join().unwrap()).sum();
    /// assert_eq!(taken, 4); // each value went to exactly one reader
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn one2any(self) -> (Output<T>, SharedInput<T>)
    where
        T: Send + 'static,
    {
        self.ends(Kind::One2Any)
    }

    /// Any number of writers and readers.
    ///
    /// ```
    /// use csp::Kind;
    /// let (tx, rx) = csp::Channel::<u8>::new().fifo(2).any2any();
    /// let (tx2, rx2) = (tx.clone(), rx.clone());
    /// tx.write(1)?;
    /// tx2.write(2)?;
    /// assert_eq!(rx2.read()? + rx.read()?, 3);
    /// assert_eq!(rx.kind(), Kind::Any2Any);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn any2any(self) -> (SharedOutput<T>, SharedInput<T>)
    where
        T: Send + 'static,
    {
        self.ends(Kind::Any2Any)
    }

    /// The channel of `kind`, as the end types its kind hands out.
    fn ends<W: FromCore<T>, R: FromCore<T>>(self, kind: Kind) -> (W, R)
    where
        T: Send + 'static,
    {
        let (core, info) = self.build(kind);
        (
            W::from_core(core.clone(), info.clone()),
            R::from_core(core, info),
        )
    }
}

/// An end made on a channel's core (each kind constructor picks two).
trait FromCore<T> {
    fn from_core(core: Arc<Core<T>>, info: Arc<dyn ChannelInfo>) -> Self;
}

macro_rules! from_core {
    ($($end:ident),*) => {$(
        impl<T> FromCore<T> for $end<T> {
            fn from_core(core: Arc<Core<T>>, info: Arc<dyn ChannelInfo>) -> Self {
                $end::new(core, info)
            }
        }
    )*};
}
from_core!(Output, Input, SharedOutput, SharedInput);

impl<T: Wire> Default for Channel<T> {
    fn default() -> Self {
        Channel::new()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn codec_round_trips_and_names_the_channel_on_bad_bytes() {
        let (tx, _rx) = Channel::<(u32, String)>::new().named("pairs").one2one();
        assert!(tx.can_cross_processes());
        let codec = Codec::<(u32, String)>::new();
        let bytes = codec.encode("pairs", &(7, "seven".into())).unwrap();
        assert_eq!(codec.decode("pairs", &bytes).unwrap(), (7, "seven".into()));
        let err = codec.decode("pairs", &[0xff, 0xff]).unwrap_err();
        assert!(matches!(
            err,
            ChannelError::Codec {
                operation: "decode",
                ..
            }
        ));
        assert!(err.to_string().contains("'pairs'"), "{err}");
    }

    /// Only the flag that validation reads: that a local channel whose ends are placed in
    /// two OS processes is refused needs forked placement, which does not exist yet.
    #[test]
    fn local_channels_report_they_cannot_cross() {
        let (tx, _rx) = Channel::<std::cell::Cell<u8>>::local().one2one();
        assert!(!tx.can_cross_processes());
    }
}
