//! The two ends of a channel: [`Output`] writes, [`Input`] reads. Shared kinds hand out
//! [`SharedOutput`] / [`SharedInput`], which are `Clone` and can be [`claim`]ed.
//!
//! [`claim`]: SharedOutput::claim

use std::time::{Duration, Instant};

use super::core::{Core, Deadline, Flavor};
use super::end::End;
use super::error::{ChannelError, WriteError};
use super::extended::{Extended, ExtendedBlock};
use super::iter::Iter;
use super::{ChannelInfo, EndId, Kind, Side};
use std::sync::Arc;

fn deadline_after(timeout: Duration) -> Deadline {
    match crate::sync::now().checked_add(timeout) {
        Some(d) => Deadline::At(d),
        None => Deadline::Never,
    }
}

macro_rules! common_end_methods {
    ($side:expr) => {
        /// Poisons the channel: every pending and later operation on it, at either end,
        /// fails with `Poisoned`. Use it to abort a network; [`retire`](Self::retire) to
        /// end a stream gracefully.
        ///
        /// ```
        /// use csp::{Channel, Parallel, Process};
        /// let (tx, rx) = Channel::<u32>::new().one2one();
        /// let writer = Process::with_ends("writer", tx, |tx| {
        ///     tx.poison(); // abort: the reader's read fails, and it stops
        ///     Ok(())
        /// });
        /// let reader = Process::with_ends("reader", rx, |rx| Ok(rx.read().map(|_| ())?));
        /// let results = Parallel::new().add(writer).add(reader).run()?;
        /// assert_eq!(results, vec![Some(()), None]); // stopped by poison: `None`, not a failure
        /// # Ok::<(), csp::NetworkError>(())
        /// ```
        pub fn poison(&self) {
            self.end.poison()
        }

        /// Whether the channel is poisoned.
        ///
        /// ```
        /// let (tx, rx) = csp::Channel::<u8>::new().one2one();
        /// assert!(!tx.is_poisoned());
        /// rx.poison();
        /// assert!(tx.is_poisoned() && rx.is_poisoned()); // one channel: both ends see it
        /// ```
        pub fn is_poisoned(&self) -> bool {
            self.end.is_poisoned()
        }

        /// Retires this end (dropping it does the same). Later operations on this end
        /// fail with `Retired`; once every end of this side has retired, the other side
        /// is told so.
        ///
        /// ```
        /// let (tx, rx) = csp::Channel::<u8>::new().fifo(2).one2one();
        /// tx.write(1)?;
        /// tx.retire(); // the same as `drop(tx)`, but `tx` stays usable as a value
        /// assert!(tx.write(2).unwrap_err().error().is_retired());
        /// assert_eq!(rx.read()?, 1); // what was buffered is still delivered
        /// assert!(rx.read().unwrap_err().is_retired());
        /// # Ok::<(), csp::ChannelError>(())
        /// ```
        pub fn retire(&self) {
            self.end.retire($side)
        }

        /// The number of buffered values.
        ///
        /// ```
        /// let (tx, rx) = csp::Channel::<u8>::new().fifo(4).one2one();
        /// tx.write(1)?;
        /// tx.write(2)?;
        /// assert_eq!((tx.len(), rx.len()), (2, 2));
        /// rx.read()?;
        /// assert_eq!(rx.len(), 1);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn len(&self) -> usize {
            self.end.len()
        }

        /// Whether nothing is buffered.
        ///
        /// ```
        /// let (tx, rx) = csp::Channel::<u8>::new().fifo(1).one2one();
        /// assert!(rx.is_empty());
        /// tx.write(7)?;
        /// assert!(!tx.is_empty() && !rx.is_empty());
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn is_empty(&self) -> bool {
            self.len() == 0
        }

        /// The channel's name: given with [`Channel::named`](crate::Channel::named),
        /// derived from the first process parameter that holds it, or `chan#<id>`.
        /// An unnamed channel's name is fixed the first time it is used (by this
        /// method, or by an error naming the channel): read before a process starts,
        /// it stays `chan#<id>`.
        ///
        /// ```
        /// use csp::{Channel, Process, Sequence};
        /// let (tx, rx) = Channel::<u8>::new().fifo(1).one2one();
        /// // Run by a process, an unnamed channel is named after the process (and the
        /// // parameter, for a `#[process]` function or a tuple of ends).
        /// Sequence::new().add(Process::with_ends("source", tx, |tx| Ok(tx.write(1)?))).run()?;
        /// assert_eq!(&*rx.name(), "source");
        /// let (other, _) = Channel::<u8>::new().one2one();
        /// assert!(other.name().starts_with("chan#")); // held by no process
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn name(&self) -> std::sync::Arc<str> {
            self.end.core.name()
        }

        /// The channel's stable id.
        ///
        /// ```
        /// let (tx, rx) = csp::Channel::<u8>::new().one2one();
        /// let (other, _) = csp::Channel::<u8>::new().one2one();
        /// assert_eq!(tx.channel_id(), rx.channel_id()); // two ends of one channel
        /// assert_ne!(tx.channel_id(), other.channel_id());
        /// ```
        pub fn channel_id(&self) -> u64 {
            self.end.core.id()
        }

        /// This end's stable id.
        ///
        /// ```
        /// let (tx, rx) = csp::Channel::<u8>::new().one2any();
        /// let rx2 = rx.clone(); // a second reader: a second end
        /// assert_ne!(rx.id(), rx2.id());
        /// assert_ne!(tx.id(), rx.id());
        /// ```
        pub fn id(&self) -> EndId {
            self.end.id
        }

        /// The channel's kind.
        ///
        /// ```
        /// use csp::{Channel, Kind};
        /// let (tx, rx) = Channel::<u8>::new().any2any();
        /// assert_eq!((tx.kind(), rx.kind()), (Kind::Any2Any, Kind::Any2Any));
        /// ```
        pub fn kind(&self) -> Kind {
            self.end.core.kind()
        }

        /// Whether values of this channel can cross an OS-process boundary (the channel
        /// was made with `Channel::new`, not `Channel::local`).
        ///
        /// ```
        /// let (tx, _rx) = csp::Channel::<u8>::new().one2one();
        /// assert!(tx.can_cross_processes());
        /// type Job = Box<dyn FnOnce() + Send>; // a closure cannot be serialized
        /// let (local, _rx) = csp::Channel::<Job>::local().one2one();
        /// assert!(!local.can_cross_processes());
        /// ```
        pub fn can_cross_processes(&self) -> bool {
            self.end.core.codec().is_some()
        }

        /// Moves this channel's state into memory shared with the OS processes forked
        /// after this call, so that its ends keep working when they end up in different
        /// processes. [`Parallel::run`](crate::Parallel::run) does this for every channel
        /// that crosses its forked processes; call it yourself only if you fork by other
        /// means. Idempotent. Fails for a channel made with `Channel::local()` (its
        /// values cannot cross) and where the OS refuses shared memory.
        ///
        /// ```
        /// let (tx, rx) = csp::Channel::<u32>::new().fifo(4).one2one();
        /// tx.write(1)?;
        /// rx.share_with_forks()?; // from here on, a forked child could hold `tx` or `rx`
        /// tx.write(2)?;
        /// assert_eq!((rx.read()?, rx.read()?), (1, 2));
        /// # Ok::<(), csp::ChannelError>(())
        /// ```
        pub fn share_with_forks(&self) -> Result<(), ChannelError>
        where
            T: 'static,
        {
            self.end.core.make_shared()
        }
    };
}

/// The writing end of a channel.
///
/// ```
/// use csp::Channel;
/// let (tx, rx) = Channel::<&'static str>::local().fifo(1).one2one();
/// tx.write("hi")?;
/// assert_eq!(rx.read()?, "hi");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Output<T> {
    pub(super) end: End<T>,
}

impl<T> Output<T> {
    /// The channel without its type, and this end's id: what the process layer records.
    pub(crate) fn info(&self) -> (&Arc<dyn ChannelInfo>, EndId) {
        (&self.end.info, self.end.id)
    }

    pub(crate) fn new(core: Arc<Core<T>>, info: Arc<dyn ChannelInfo>) -> Self {
        Output {
            end: End::new(core, info),
        }
    }

    fn write_by(&self, value: T, deadline: Deadline) -> Result<(), WriteError<T>> {
        if let Err(e) = self.end.check_open() {
            return Err(WriteError::new(e, value));
        }
        match self.end.core.flavor() {
            Flavor::Memory(core) => core.write(self.end.id, value, deadline, &self.end.spare),
            Flavor::Crossing(x) => x.write(self.end.id, value, deadline),
        }
    }

    /// Writes `value`, blocking until a reader has taken it (rendezvous) or it is
    /// buffered. On failure the value comes back inside the error.
    ///
    /// ```
    /// use csp::{Channel, Parallel, Process};
    /// let (tx, rx) = Channel::<u64>::new().one2one();
    /// let writer = Process::with_ends("writer", tx, |tx| Ok(tx.write(42)?));
    /// let reader = Process::with_ends("reader", rx, |rx| Ok(rx.read().map(|_| ())?));
    /// Parallel::new().add(writer).add(reader).run()?;
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn write(&self, value: T) -> Result<(), WriteError<T>> {
        self.write_by(value, Deadline::Never)
    }

    /// Writes only if that needs no waiting: a reader is waiting or the buffer has room.
    /// Otherwise `Full`, with the value handed back.
    ///
    /// ```
    /// use csp::{Channel, ChannelError};
    /// let (tx, _rx) = Channel::<u8>::new().fifo(1).one2one();
    /// assert!(tx.try_write(1).is_ok());
    /// assert!(matches!(tx.try_write(2).unwrap_err().error(), ChannelError::Full { .. }));
    /// ```
    pub fn try_write(&self, value: T) -> Result<(), WriteError<T>> {
        self.write_by(value, Deadline::Now)
    }

    /// Writes, giving up after `timeout` with `Timeout` (and the value back). A value is
    /// never both delivered and handed back.
    ///
    /// ```
    /// use std::time::Duration;
    /// let (tx, _rx) = csp::Channel::<u8>::new().one2one();
    /// let err = tx.write_timeout(9, Duration::from_millis(10)).unwrap_err();
    /// assert!(err.error().is_timeout());
    /// assert_eq!(err.into_inner(), Some(9));
    /// ```
    pub fn write_timeout(&self, value: T, timeout: Duration) -> Result<(), WriteError<T>> {
        self.write_by(value, deadline_after(timeout))
    }

    /// Writes, giving up at `deadline`.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let (tx, rx) = csp::Channel::<u8>::new().fifo(1).one2one();
    /// tx.write_deadline(1, Instant::now() + Duration::from_secs(1))?;
    /// assert_eq!(rx.read()?, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_deadline(&self, value: T, deadline: Instant) -> Result<(), WriteError<T>> {
        self.write_by(value, Deadline::At(deadline))
    }

    common_end_methods!(Side::Write);
}

impl<T> Drop for Output<T> {
    fn drop(&mut self) {
        self.end.drop_end(Side::Write)
    }
}

/// The reading end of a channel. It iterates until the channel is retired (or poisoned).
///
/// ```
/// use csp::Channel;
/// let (tx, rx) = Channel::<u32>::new().buffer(csp::Policy::Unbounded).one2one();
/// for i in 1..=3 {
///     tx.write(i)?;
/// }
/// drop(tx); // retire: the reader drains the buffer, then stops
/// assert_eq!(rx.into_iter().collect::<Vec<_>>(), vec![1, 2, 3]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Input<T> {
    pub(super) end: End<T>,
}

impl<T> Input<T> {
    /// The channel without its type, and this end's id: what the process layer records.
    pub(crate) fn info(&self) -> (&Arc<dyn ChannelInfo>, EndId) {
        (&self.end.info, self.end.id)
    }

    pub(crate) fn new(core: Arc<Core<T>>, info: Arc<dyn ChannelInfo>) -> Self {
        Input {
            end: End::new(core, info),
        }
    }

    /// How often the channel's lock-free fast path stored, refused a write, took,
    /// refused a read, stored after a refusal and took after a refusal within the same
    /// operation (all zero for a channel without one). For loom models only, which
    /// check that both the fast and the lock path were explored.
    #[cfg(loom)]
    #[doc(hidden)]
    pub fn fast_path_stats(&self) -> [usize; 6] {
        self.end.core.ring_stats()
    }

    fn read_by(&self, deadline: Deadline) -> Result<T, ChannelError> {
        self.end.check_open()?;
        match self.end.core.flavor() {
            Flavor::Memory(core) => core
                .read(self.end.id, deadline, false, &self.end.spare)
                .map(|(v, _)| v),
            Flavor::Crossing(x) => x.read(self.end.id, deadline),
        }
    }

    /// Reads a value, blocking until one is available.
    ///
    /// ```
    /// let (tx, rx) = csp::Channel::<u8>::new().fifo(1).one2one();
    /// tx.write(5)?;
    /// assert_eq!(rx.read()?, 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read(&self) -> Result<T, ChannelError> {
        self.read_by(Deadline::Never)
    }

    /// Reads only if a value is available now; otherwise `Empty`.
    ///
    /// ```
    /// let (_tx, rx) = csp::Channel::<u8>::new().one2one();
    /// assert!(matches!(rx.try_read(), Err(csp::ChannelError::Empty { .. })));
    /// ```
    pub fn try_read(&self) -> Result<T, ChannelError> {
        self.read_by(Deadline::Now)
    }

    /// Reads, giving up after `timeout` with `Timeout`.
    ///
    /// ```
    /// let (_tx, rx) = csp::Channel::<u8>::new().one2one();
    /// let err = rx.read_timeout(std::time::Duration::from_millis(5)).unwrap_err();
    /// assert!(err.is_timeout());
    /// ```
    pub fn read_timeout(&self, timeout: Duration) -> Result<T, ChannelError> {
        self.read_by(deadline_after(timeout))
    }

    /// Reads, giving up at `deadline`.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let (_tx, rx) = csp::Channel::<u8>::new().one2one();
    /// assert!(rx.read_deadline(Instant::now() + Duration::from_millis(5)).is_err());
    /// ```
    pub fn read_deadline(&self, deadline: Instant) -> Result<T, ChannelError> {
        self.read_by(Deadline::At(deadline))
    }

    /// Extended rendezvous (occam-pi's `??`, JCSP's `startRead`/`endRead`): reads a value
    /// and runs `block` on it *before* the writer is released, so the writer knows the
    /// block ran when its `write` returns. On a buffered channel the writer was already
    /// released when its value was buffered.
    ///
    /// ```
    /// use csp::{Channel, Parallel, Process};
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    ///
    /// let seen = Arc::new(AtomicBool::new(false));
    /// let (tx, rx) = Channel::<u8>::new().one2one();
    /// let s = seen.clone();
    /// let writer = Process::with_ends("writer", tx, move |tx| {
    ///     tx.write(1)?;
    ///     Ok(s.load(Ordering::SeqCst)) // the reader's block has run
    /// });
    /// let s = seen.clone();
    /// let reader = Process::with_ends("reader", rx, move |rx| {
    ///     rx.read_with(|_v| s.store(true, Ordering::SeqCst))?;
    ///     Ok(true)
    /// });
    /// assert_eq!(Parallel::new().add(writer).add(reader).run()?, vec![Some(true), Some(true)]);
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn read_with<R>(&self, block: impl FnOnce(T) -> R) -> Result<R, ChannelError> {
        let (v, _held) = self.read_extended()?;
        Ok(block(v))
    }

    /// As [`read_with`](Self::read_with), but `block` also says whether it completed:
    /// `false` releases the writer as a panicking block does (its `write` fails with
    /// `Poisoned`, the channel is poisoned): a value that could not be passed on is
    /// never reported written. What a bridge to another program needs.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn read_with_verdict<R>(
        &self,
        block: impl FnOnce(T) -> (R, bool),
    ) -> Result<R, ChannelError> {
        let (v, mut held) = self.read_extended()?;
        let (r, completed) = block(v);
        held.failed = !completed;
        Ok(r)
    }

    fn read_extended(&self) -> Result<(T, Extended<'_, T>), ChannelError> {
        self.end.check_open()?;
        Ok(match self.end.core.flavor() {
            Flavor::Memory(core) => {
                let (v, release) =
                    core.read(self.end.id, Deadline::Never, true, &self.end.spare)?;
                (v, Extended::new(ExtendedBlock::Memory { core, release }))
            }
            Flavor::Crossing(x) => {
                let (v, held) = x.read_extended(self.end.id)?;
                (v, Extended::new(ExtendedBlock::Crossing(Some(held))))
            }
        })
    }

    /// An iterator over values read until the channel is retired or poisoned (a poisoned
    /// channel is noted for the running process: it counts as stopped by poison).
    ///
    /// ```
    /// let (tx, rx) = csp::Channel::<u32>::new().fifo(3).one2one();
    /// for v in [1, 2, 3] {
    ///     tx.write(v)?;
    /// }
    /// drop(tx);
    /// let squares: Vec<u32> = rx.iter().map(|v| v * v).collect();
    /// assert_eq!(squares, [1, 4, 9]);
    /// assert!(rx.read().unwrap_err().is_retired()); // `iter` borrows: `rx` is still here
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { input: self }
    }

    common_end_methods!(Side::Read);
}

impl<T> Drop for Input<T> {
    fn drop(&mut self) {
        self.end.drop_end(Side::Read)
    }
}

impl<T> std::fmt::Debug for Output<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Output({})", self.name())
    }
}
impl<T> std::fmt::Debug for Input<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Input({})", self.name())
    }
}
