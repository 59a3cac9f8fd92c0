//! The shared-memory flavour of a channel: its state lives in an anonymous shared
//! mapping, so ends in OS processes forked after [`SharedChannel::create`] keep the
//! in-memory channel's semantics (rendezvous, buffer policies, timeouts, retire,
//! poison, claims, extended rendezvous). It moves *frames* (bytes the caller encoded)
//! and knows nothing of the value type.
//!
//! The protocol mirrors the in-memory core's wait-and-commit (`channel::core`,
//! `park::Context`), with the queues and contexts moved into the mapping:
//!
//! - one robust, process-shared mutex (`lock`) guards the buffer, the claims and the
//!   waiter table; it is never held while waiting. A process that dies holding it
//!   poisons the channel (the next locker is told by `EOWNERDEAD`).
//! - a blocked operation takes an [`Entry`](layout::Entry) of its side's fixed table
//!   (`max_waiters` per side) and sleeps on the entry's state word (a short spin, then a
//!   process-shared futex). The word is decided by one CAS from `WAITING`: `SELECTED` by
//!   a partner (under the lock), `ABORTED` by the owner's own deadline (without it),
//!   `POISONED`/`RETIRED` by poison and retire. Whoever wins is the answer, which makes
//!   `Wait::Until` lossless as `park::Context` makes timeouts lossless. A selected
//!   waiter's partner moves the frame through the entry's slot outside the lock, then
//!   stores `DONE` (or `ABANDONED`: an extended reader's block failed) and wakes it.
//! - the table is served in arrival order (each entry records a sequence number), which
//!   is the in-memory queues' FIFO service.
//! - a one2one channel with a `Fifo` or `Unbounded` buffer (`Config::one_to_one`) moves
//!   buffered frames without the lock while nobody waits in the lock path: one CAS per
//!   operation on the buffer's positions, which taking the lock freezes (see `fast`).
//!
//! **Alt (for the lead).** An alt registers one waiter on every guard and is decided by
//! one CAS on one word. Here an entry's state word already is that CAS word for a
//! one-guard wait; an alt over several shared channels needs a word that every partner
//! process can reach, and the channels' mappings are distinct. The road: the fork
//! runtime creates, before forking, one extra shared mapping of "select words" (the
//! arena), each alt takes one there, and an entry gains `word: u32` (0: its own state;
//! else 1 + an arena index) and `case: u32`. `select` then CASes the arena word from
//! `WAITING` to `SELECTED(case)` instead of the entry's, the alt's process sleeps on the
//! arena word, and the channel code does not otherwise change (an alt whose guards all
//! are local keeps using `park::Context`; an alt mixing local and shared guards must use
//! an arena word, and local partners would CAS it too). The registering alt's
//! self-commit before committing a partner (see `channel::select`) carries over
//! unchanged: it is a CAS on its arena word.

mod barrier;
mod channel;
mod control;
mod fast;
pub(crate) mod futex;
mod layout;
mod lock;
pub(crate) mod mapping;
mod store;
mod waiters;

#[cfg(all(test, target_os = "linux", not(loom)))]
mod tests;
#[cfg(all(test, target_os = "linux", not(loom)))]
mod tests_fast;

pub use crate::channel::frame::FrameError;
pub(crate) use barrier::SharedBarrier;
pub use channel::{Held, SharedChannel};

use thiserror::Error;

/// How the buffer treats a write when it is full (and which value a read gets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Oldest first; a writer waits while it is full. Capacity 0 is a rendezvous.
    Fifo,
    /// Oldest first; when full, a write drops the oldest value.
    OverwriteOldest,
    /// Oldest first; when full, a write drops the value being written.
    DropNewest,
    /// Oldest first and never full in practice: `capacity` is the number of slots the
    /// mapping reserves (`MAP_NORESERVE`: untouched slots cost no memory). A write
    /// beyond it waits like `Fifo`'s.
    Unbounded,
    /// Greatest first by [`SharedChannel::set_order`], the oldest among equals; a writer
    /// waits while it is full.
    Priority,
}

/// A shared channel's shape.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Buffered frames; 0 with `Fifo` is a rendezvous (lossy and priority buffers hold
    /// at least one).
    pub capacity: usize,
    /// The buffer policy.
    pub mode: Mode,
    /// The largest frame accepted; larger writes fail with `TooLarge`.
    pub max_frame: usize,
    /// Waiters per side that can block at once (more fail with `TooManyWaiters`).
    pub max_waiters: usize,
    /// Open ends of each side (indexed by `Side`) at the switch.
    pub open: [usize; 2],
    /// One writer end and one reader end, each used by one thread at a time (a one2one
    /// channel). With a `Fifo` or `Unbounded` buffer, buffered frames then move
    /// without the lock and without a system call while nobody waits (see `fast`).
    pub one_to_one: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            capacity: 0,
            mode: Mode::Fifo,
            max_frame: crate::channel::DEFAULT_MAX_FRAME,
            max_waiters: 64,
            open: [1, 1],
            one_to_one: false,
        }
    }
}

/// How long an operation may wait.
#[derive(Clone, Copy, Debug)]
pub enum Wait {
    /// Not at all: `Full` / `Empty` instead.
    Try,
    /// Until the operation completes.
    Forever,
    /// Until the operation completes or this instant passes (`Timeout`).
    Until(std::time::Instant),
}

/// Which side has gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gone {
    /// Every writer retired and the buffer is drained.
    Writers,
    /// Every reader retired.
    Readers,
}

/// Why a shared-channel operation failed.
#[derive(Debug, Error)]
pub enum SharedError {
    /// The channel is poisoned.
    #[error("channel poisoned")]
    Poisoned,
    /// A side has gone (retired).
    #[error("channel retired by its {}", match .0 { Gone::Writers => "writers", Gone::Readers => "readers" })]
    Retired(Gone),
    /// A reader took the frame into an extended rendezvous whose block failed: the
    /// channel is poisoned and the frame is gone with the block.
    #[error("the reader's extended block failed with the frame; channel poisoned")]
    Lost,
    /// `Wait::Until` passed; nothing was delivered.
    #[error("timed out")]
    Timeout,
    /// `Wait::Try` write: no reader waiting, no room.
    #[error("channel full")]
    Full,
    /// `Wait::Try` read: nothing to read now.
    #[error("channel empty")]
    Empty,
    /// The frame is larger than `max_frame` (never truncated).
    #[error("frame of {len} bytes exceeds the channel's limit of {limit}")]
    TooLarge {
        /// The frame's length.
        len: usize,
        /// `max_frame`.
        limit: usize,
    },
    /// A frame in the mapping failed its checks.
    #[error("malformed frame: {0}")]
    Frame(#[from] FrameError),
    /// The side's waiter table is full.
    #[error("more than {limit} operations of one side waiting at once")]
    TooManyWaiters {
        /// `max_waiters`.
        limit: usize,
    },
    /// `Config` cannot be laid out.
    #[error("invalid shared channel configuration: {0}")]
    InvalidConfig(String),
    /// The mapping or the lock failed.
    #[error("operating system error: {0}")]
    Os(#[from] std::io::Error),
}
