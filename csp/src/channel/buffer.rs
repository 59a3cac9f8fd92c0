//! Buffer policies: what a channel does with values no reader has taken yet.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;

use super::core::Core;
use super::ring::{Ring, MAX_RING};
use super::state::Locked;
use super::Side;

/// How a channel buffers. The default, `Rendezvous`, buffers nothing: a write returns only
/// once a reader has taken the value (CSP's synchronisation).
///
/// `Priority(n)` needs `T: Ord`, so it is chosen with
/// [`Channel::priority`](crate::Channel::priority) rather than here.
///
/// ```
/// use csp::{Channel, Policy};
/// let (tx, rx) = Channel::<u32>::new().buffer(Policy::OverwriteOldest(2)).one2one();
/// for i in 0..5 {
///     tx.write(i)?; // never blocks: the oldest value makes room
/// }
/// assert_eq!((rx.read()?, rx.read()?), (3, 4));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Policy {
    /// No buffer: writer and reader meet.
    #[default]
    Rendezvous,
    /// Up to `n` values; a writer blocks while it is full. `Fifo(0)` is `Rendezvous`.
    Fifo(usize),
    /// Up to `n` values; when full, a write drops the oldest value (lossy by declaration).
    OverwriteOldest(usize),
    /// Up to `n` values; when full, a write drops the value being written (lossy by
    /// declaration).
    DropNewest(usize),
    /// No limit: a write never blocks.
    Unbounded,
}

/// The stored values of a channel, by policy. A capacity of 0 means 1 for the lossy
/// policies and for `Priority`, which need room for at least one value.
pub(crate) enum Buffer<T> {
    None,
    /// `Fifo(n)` up to `MAX_RING`: a ring the channel also reaches without its lock.
    Ring(Arc<Ring<T>>),
    Queue {
        items: VecDeque<T>,
        cap: usize,
        when_full: WhenFull,
    },
    Priority {
        heap: BinaryHeap<Ranked<T>>,
        cap: usize,
        seq: u64,
        cmp: fn(&T, &T) -> Ordering,
        /// Set when the user's `Ord` panicked: the heap still holds every value (std's
        /// heap is panic-safe) but may be out of order, and comparing again could panic
        /// again. From then on the buffer looks full and empty to everyone until poison
        /// (which the panicking process's unwinding brings) drains it without comparing.
        broken: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum WhenFull {
    Block,
    DropOldest,
    DropNewest,
}

/// What a full buffer does, and how a priority buffer orders (see `Buffer::shape`).
pub(crate) enum Shape<T> {
    Fifo,
    DropOldest,
    DropNewest,
    Priority(fn(&T, &T) -> Ordering),
}

/// What became of a pushed value.
pub(crate) enum Pushed<T> {
    /// Stored; `Some` is a value the lossy policy dropped to make it fit (to be dropped
    /// by the caller after releasing the channel lock: user `Drop` code never runs under it).
    Stored(Option<T>),
    /// No room; the value comes back.
    Full(T),
}

impl<T> Buffer<T> {
    pub(crate) fn new(policy: Policy) -> Buffer<T> {
        let queue = |cap: usize, when_full| Buffer::Queue {
            items: VecDeque::with_capacity(cap.min(1024)),
            cap,
            when_full,
        };
        match policy {
            Policy::Rendezvous | Policy::Fifo(0) => Buffer::None,
            Policy::Fifo(n) if n <= MAX_RING => Buffer::Ring(Arc::new(Ring::new(n))),
            Policy::Fifo(n) => queue(n, WhenFull::Block),
            Policy::OverwriteOldest(n) => queue(n.max(1), WhenFull::DropOldest),
            Policy::DropNewest(n) => queue(n.max(1), WhenFull::DropNewest),
            Policy::Unbounded => queue(usize::MAX, WhenFull::Block),
        }
    }

    pub(crate) fn priority(cap: usize) -> Buffer<T>
    where
        T: Ord,
    {
        Buffer::Priority {
            heap: BinaryHeap::new(),
            cap: cap.max(1),
            seq: 0,
            cmp: T::cmp,
            broken: false,
        }
    }

    /// The policy as the cross-process flavour needs it: a capacity (0 for a
    /// rendezvous, `usize::MAX` unbounded), what a full buffer does, and for a priority
    /// buffer the order of its values.
    pub(crate) fn shape(&self) -> (usize, Shape<T>) {
        match self {
            Buffer::None => (0, Shape::Fifo),
            Buffer::Ring(r) => (r.capacity(), Shape::Fifo),
            Buffer::Queue { cap, when_full, .. } => (
                *cap,
                match when_full {
                    WhenFull::Block => Shape::Fifo,
                    WhenFull::DropOldest => Shape::DropOldest,
                    WhenFull::DropNewest => Shape::DropNewest,
                },
            ),
            Buffer::Priority { cap, cmp, .. } => (*cap, Shape::Priority(*cmp)),
        }
    }

    /// The ring, for the channel's lock-free fast path.
    pub(crate) fn ring(&self) -> Option<Arc<Ring<T>>> {
        match self {
            Buffer::Ring(r) => Some(r.clone()),
            _ => None,
        }
    }

    /// The policy, as diagrams and reports show it.
    pub(crate) fn describe(&self) -> String {
        match self {
            Buffer::None => "rendezvous".into(),
            Buffer::Ring(r) => format!("fifo({})", r.capacity()),
            Buffer::Queue { cap, when_full, .. } => match (when_full, *cap) {
                (WhenFull::Block, usize::MAX) => "unbounded".into(),
                (WhenFull::Block, n) => format!("fifo({n})"),
                (WhenFull::DropOldest, n) => format!("overwrite_oldest({n})"),
                (WhenFull::DropNewest, n) => format!("drop_newest({n})"),
            },
            Buffer::Priority { cap, .. } => format!("priority({cap})"),
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Buffer::None => 0,
            Buffer::Ring(r) => r.len_locked(),
            Buffer::Queue { items, .. } => items.len(),
            Buffer::Priority { broken: true, .. } => 0,
            Buffer::Priority { heap, .. } => heap.len(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a push would store without dropping anything.
    pub(crate) fn has_room(&self) -> bool {
        match self {
            Buffer::None => false,
            Buffer::Ring(r) => r.len_locked() < r.capacity(),
            Buffer::Queue { items, cap, .. } => items.len() < *cap,
            Buffer::Priority { broken: true, .. } => false,
            Buffer::Priority { heap, cap, .. } => heap.len() < *cap,
        }
    }

    /// Whether a push would succeed now (storing it, or dropping a value as a lossy
    /// policy declares).
    pub(crate) fn accepts(&self) -> bool {
        match self {
            Buffer::Queue { when_full, .. } if *when_full != WhenFull::Block => true,
            _ => self.has_room(),
        }
    }

    pub(crate) fn push(&mut self, value: T) -> Pushed<T> {
        match self {
            Buffer::None => Pushed::Full(value),
            Buffer::Ring(r) => match r.push_locked(value) {
                Ok(()) => Pushed::Stored(None),
                Err(v) => Pushed::Full(v),
            },
            Buffer::Queue {
                items,
                cap,
                when_full,
            } => {
                if items.len() < *cap {
                    items.push_back(value);
                    return Pushed::Stored(None);
                }
                match when_full {
                    WhenFull::Block => Pushed::Full(value),
                    WhenFull::DropNewest => Pushed::Stored(Some(value)),
                    WhenFull::DropOldest => {
                        let oldest = items.pop_front();
                        items.push_back(value);
                        Pushed::Stored(oldest)
                    }
                }
            }
            Buffer::Priority {
                heap,
                cap,
                seq,
                cmp,
                broken,
            } => {
                if *broken || heap.len() >= *cap {
                    return Pushed::Full(value);
                }
                *seq += 1;
                let ranked = Ranked {
                    value,
                    seq: *seq,
                    cmp: *cmp,
                };
                guard_ord(broken, || heap.push(ranked));
                Pushed::Stored(None)
            }
        }
    }

    pub(crate) fn pop(&mut self) -> Option<T> {
        match self {
            Buffer::None => None,
            Buffer::Ring(r) => r.pop_locked(),
            Buffer::Queue { items, .. } => items.pop_front(),
            Buffer::Priority { broken: true, .. } => None,
            Buffer::Priority { heap, broken, .. } => {
                guard_ord(broken, || heap.pop()).map(|r| r.value)
            }
        }
    }

    /// Empties the buffer (poison), handing the values to the caller to drop unlocked.
    /// A priority buffer is emptied without comparing: poison runs while a process
    /// unwinds, and a user `Ord` that panicked once must not be called again there (a
    /// panic during unwinding aborts).
    pub(crate) fn drain(&mut self) -> Vec<T> {
        match self {
            Buffer::None => Vec::new(),
            Buffer::Queue { items, .. } => items.drain(..).collect(),
            Buffer::Priority { heap, .. } => heap.drain().map(|r| r.value).collect(),
            Buffer::Ring(r) => std::iter::from_fn(|| r.pop_locked()).collect(),
        }
    }
}

impl<T> Core<T> {
    /// Takes the next buffered value and releases the lock. Room appeared, so the first
    /// blocked writer's value moves into the buffer and that writer is released.
    pub(super) fn pop_buffered(&self, mut st: Locked<'_, T>) -> Option<T> {
        let v = st.buffer.pop();
        let mut refill = None;
        if st.buffer.has_room() {
            if let Some(w) = st.writers.select() {
                if let Some(wv) = w.packet.take() {
                    if let Pushed::Stored(Some(lost)) | Pushed::Full(lost) = st.buffer.push(wv) {
                        // Cannot happen (there is room); keep the value alive rather
                        // than drop it under the lock.
                        w.packet.put(lost, None);
                    }
                }
                st.dequeued(Side::Write);
                refill = Some(w);
            }
        }
        drop(st);
        if let Some(w) = refill {
            w.packet.finish(&w.ctx);
        }
        v
    }
}

/// Runs a heap operation that calls the user's `Ord`; if that panics, marks the buffer
/// broken before the panic goes on to the process that wrote or read.
fn guard_ord<R>(broken: &mut bool, op: impl FnOnce() -> R) -> R {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(op)) {
        Ok(r) => r,
        Err(payload) => {
            *broken = true;
            std::panic::resume_unwind(payload)
        }
    }
}

/// A value in a priority buffer: greatest first, and among equals the oldest first.
pub(crate) struct Ranked<T> {
    value: T,
    seq: u64,
    cmp: fn(&T, &T) -> Ordering,
}

impl<T> Ord for Ranked<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.cmp)(&self.value, &other.value).then_with(|| other.seq.cmp(&self.seq))
    }
}
impl<T> PartialOrd for Ranked<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> PartialEq for Ranked<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<T> Eq for Ranked<T> {}
