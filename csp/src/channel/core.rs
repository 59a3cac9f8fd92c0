//! The state machine of one channel, shared by all its ends.
//!
//! One lock guards the buffer and the wait queues; it is never held while parked, and no
//! user code (a `Drop` of a dropped value, an extended-rendezvous block) runs under it.
//! A blocked operation is a waiter whose outcome is decided by one CAS on its context
//! (see `park`), so a timeout, a poison and a partner can race without losing or
//! duplicating a value.

use std::sync::{Arc, Arc as StdArc, OnceLock};
use std::time::Instant;

use super::buffer::{Buffer, Pushed};
use super::crossing::Crossing;
use super::error::{ChannelError, RetiredSide, WriteError};
use super::ring::Ring;
use super::state::{Locked, State};
pub(crate) use super::state::{READ_MAY_GO, WRITE_MAY_GO};
use super::waker::{Claims, SparePacket, Spares, WaitQueue, Waiter, Woken};
use super::{Codec, EndId, Kind, Side};
use crate::park::{Context, Outcome, Packet, Release, WaitOp, WaitReason};
use crate::sync::{self, AtomicBool, AtomicUsize, Mutex, Ordering};

/// When a blocked operation gives up.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Deadline {
    /// Do not block at all (`try_*`).
    Now,
    Never,
    At(Instant),
}

pub(crate) struct Core<T> {
    pub(super) id: u64,
    pub(super) name: OnceLock<StdArc<str>>,
    pub(super) kind: Kind,
    pub(super) codec: Option<Codec<T>>,
    /// The buffer policy as text (`rendezvous`, `fifo(8)`, ...), for the topology layer.
    pub(super) policy: StdArc<str>,
    /// Mirrors `State::poisoned` for lock-free `is_poisoned`.
    pub(super) poisoned: AtomicBool,
    /// What a reader or a writer might find without waiting (`READ_MAY_GO`,
    /// `WRITE_MAY_GO`), stored each time the lock is released: an alt's first look at
    /// its guards reads it instead of taking every channel's lock.
    pub(super) hint: AtomicUsize,
    /// A `Fifo(n)` channel's buffer, also reached without the lock while the channel
    /// needs none (see `ring`): the same ring as `State::buffer`'s.
    pub(super) ring: Option<Arc<Ring<T>>>,
    pub(super) state: Mutex<State<T>>,
    /// Spare packets per side (indexed by `Side`), behind their own small lock: a
    /// finished waiter gives its packet back without taking the channel's lock again,
    /// which its partner is likely to be holding right then. Never held while taking
    /// the channel's lock (the order is channel, then spares), and nothing under it
    /// blocks, calls user code or (under loom) reaches a modelled operation, so std's
    /// mutex serves under loom too.
    pub(super) spares: [std::sync::Mutex<Spares<T>>; 2],
    /// Where the channel's state lives once it crosses OS processes (set by
    /// `make_shared` before a fork, then never again): from then on the ends use it
    /// instead of the in-memory state above (see `Flavor`).
    pub(super) crossing: OnceLock<Crossing<T>>,
}

/// Which flavour carries a channel's operations: the in-memory core, or shared memory
/// between OS processes. The ends choose by it on every operation (crossbeam-channel's
/// `flavors` idea; here the choice can change once, before a fork, which is why it is
/// looked up rather than fixed when the end is made).
pub(crate) enum Flavor<'a, T> {
    Memory(&'a Core<T>),
    Crossing(&'a Crossing<T>),
}

/// The deadline of a wait that may block (`Some(None)`: no deadline), or `None` for a
/// `try_*` operation that must not.
pub(super) fn blocking(deadline: Deadline) -> Option<Option<Instant>> {
    match deadline {
        Deadline::Now => None,
        Deadline::Never => Some(None),
        Deadline::At(d) => Some(Some(d)),
    }
}

/// Whether a fast operation refused by a `Fifo` ring may try again before it takes the
/// lock path: not for a `try_*`, nor once the deadline has passed (such an operation
/// gets one look, as the lock path gives it).
fn may_snooze(deadline: Deadline) -> bool {
    match deadline {
        Deadline::Now => false,
        Deadline::Never => true,
        Deadline::At(d) => sync::now() < d,
    }
}

impl<T> Core<T> {
    pub(crate) fn new(
        id: u64,
        name: Option<String>,
        kind: Kind,
        buffer: Buffer<T>,
        codec: Option<Codec<T>>,
    ) -> Core<T> {
        let cell = OnceLock::new();
        if let Some(n) = name {
            let _ = cell.set(StdArc::from(n));
        }
        let policy = StdArc::from(buffer.describe());
        let ring = buffer.ring();
        let state = State {
            buffer,
            readers: WaitQueue::new(),
            writers: WaitQueue::new(),
            claims: [Claims::new(), Claims::new()],
            open: [1, 1],
            poisoned: false,
            wake: Vec::new(),
            crossed: false,
        };
        Core {
            id,
            name: cell,
            kind,
            codec,
            policy,
            poisoned: AtomicBool::new(false),
            hint: AtomicUsize::new(state.hint()),
            ring,
            state: Mutex::new(state),
            spares: [
                std::sync::Mutex::new(Spares::new()),
                std::sync::Mutex::new(Spares::new()),
            ],
            crossing: OnceLock::new(),
        }
    }

    /// The flavour that carries this channel's operations now.
    #[inline]
    pub(crate) fn flavor(&self) -> Flavor<'_, T> {
        match self.crossing.get() {
            None => Flavor::Memory(self),
            Some(c) => Flavor::Crossing(c),
        }
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    pub(crate) fn policy(&self) -> StdArc<str> {
        self.policy.clone()
    }

    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }

    pub(crate) fn codec(&self) -> Option<&Codec<T>> {
        self.codec.as_ref()
    }

    pub(crate) fn name(&self) -> StdArc<str> {
        self.name
            .get_or_init(|| StdArc::from(format!("chan#{}", super::ids::local_part(self.id))))
            .clone()
    }

    /// Names an unnamed channel after the first process parameter that holds it.
    pub(crate) fn derive_name(&self, name: &str) {
        let _ = self.name.set(StdArc::from(name));
    }

    pub(super) fn lock(&self) -> Locked<'_, T> {
        let state = sync::lock(&self.state);
        let ring = self.ring.as_deref();
        if let Some(r) = ring {
            r.freeze();
        }
        Locked {
            state,
            hint: &self.hint,
            ring,
            woken: Woken::default(),
        }
    }

    /// The fast path's counts (`ring::STAT_*`), for loom models.
    #[cfg(loom)]
    pub(crate) fn ring_stats(&self) -> [usize; super::ring::STATS] {
        self.ring
            .as_ref()
            .map_or([0; super::ring::STATS], |r| r.stats())
    }

    /// The readiness hint itself, for an alt that checks it without a call per guard.
    pub(crate) fn hint(&self) -> &AtomicUsize {
        &self.hint
    }

    /// Whether a read might complete now (false: it certainly would wait).
    #[inline]
    pub(crate) fn read_may_go(&self) -> bool {
        self.hint.load(Ordering::Acquire) & READ_MAY_GO != 0
    }

    /// Whether a write might complete now (false: it certainly would wait).
    #[inline]
    pub(crate) fn write_may_go(&self) -> bool {
        self.hint.load(Ordering::Acquire) & WRITE_MAY_GO != 0
    }

    pub(crate) fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::Acquire)
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().buffer.len()
    }

    /// Writes `value`; on failure the value comes back with the error. A `Fifo` ring
    /// takes it without the lock if it can (inlined into the end's `write`, so a
    /// streaming writer pays one call-free CAS per value); otherwise the lock path.
    #[inline]
    pub(crate) fn write(
        &self,
        end: EndId,
        value: T,
        deadline: Deadline,
        spare: &SparePacket<T>,
    ) -> Result<(), WriteError<T>> {
        let value = match &self.ring {
            Some(ring) => match ring.fast_push(value, &self.hint, || may_snooze(deadline)) {
                Ok(()) => return Ok(()),
                Err(v) => v,
            },
            None => value,
        };
        self.write_locked(end, value, deadline, spare)
    }

    /// The lock path of `write`.
    fn write_locked(
        &self,
        end: EndId,
        mut value: T,
        deadline: Deadline,
        spare: &SparePacket<T>,
    ) -> Result<(), WriteError<T>> {
        let mut passed = false;
        loop {
            let st = self.lock();
            if st.poisoned {
                drop(st);
                return Err(WriteError::new(self.poisoned_error(), value));
            }
            if st.open[Side::Read as usize] == 0 {
                drop(st);
                let e = self.retired_error(RetiredSide::Readers);
                return Err(WriteError::new(e, value));
            }
            if !st.claims[Side::Write as usize].admits(end, passed) {
                match self.wait_claim(st, Side::Write, end, false, deadline) {
                    Ok(()) => {
                        passed = true;
                        continue;
                    }
                    Err(e) => return Err(WriteError::new(e, value)),
                }
            }
            let mut st = match self.take_waiter(st, Side::Read) {
                Ok(reader) => return self.hand_to_reader(reader, value),
                Err(st) => st,
            };
            match st.buffer.push(value) {
                Pushed::Stored(dropped) => {
                    drop(st);
                    drop(dropped);
                    return Ok(());
                }
                Pushed::Full(v) => value = v,
            }
            return self.park_writer(st, value, deadline, spare);
        }
    }

    /// Queues a writer that found neither a reader nor room, and waits for a reader.
    fn park_writer(
        &self,
        mut st: Locked<'_, T>,
        value: T,
        deadline: Deadline,
        spare: &SparePacket<T>,
    ) -> Result<(), WriteError<T>> {
        let Some(deadline) = blocking(deadline) else {
            drop(st);
            return Err(WriteError::new(self.would_block_error(Side::Write), value));
        };
        let ctx = Context::acquire(WaitReason {
            op: WaitOp::Write,
            channel: self.id,
        });
        let packet = self.end_packet(Side::Write, spare, Some(value));
        st.writers.push(Waiter {
            ctx: ctx.clone(),
            case: 0,
            packet: packet.clone(),
            extended: false,
        });
        drop(st);
        match ctx.wait_until(deadline) {
            // A reader took the value; wait until it says so (after its extended
            // block, if it runs one).
            Outcome::Selected(_) => {
                ctx.wait_for(packet.done());
                let delivered = self.delivered(&packet);
                self.end_recycle(Side::Write, spare, packet);
                delivered
            }
            // Nobody committed to us, so nobody will touch the packet: take the value
            // back. This is the step that makes timeouts lossless.
            other => {
                self.withdraw(Side::Write, &packet);
                let value = packet
                    .take()
                    .expect("invariant: an unselected writer still holds its value");
                Err(WriteError::new(self.wait_error(other, Side::Write), value))
            }
        }
    }

    /// Commits to the first live waiter of `side`'s queue and releases the lock (waking
    /// a claim that waited for that queue to drain); the lock comes back if there is none.
    fn take_waiter<'a>(
        &self,
        mut st: Locked<'a, T>,
        side: Side,
    ) -> Result<Waiter<T>, Locked<'a, T>> {
        let Some(waiter) = st.queue(side).select() else {
            return Err(st);
        };
        st.dequeued(side);
        drop(st);
        Ok(waiter)
    }

    /// Takes a waiter that nobody committed to (timed out, poisoned, retired) out of
    /// `side`'s queue.
    fn withdraw(&self, side: Side, packet: &Arc<Packet<T>>) {
        let mut st = self.lock();
        st.queue(side).remove(packet);
        st.dequeued(side);
    }

    /// After a reader released this writer: `Ok`, or `Poisoned` if the reader's extended
    /// block panicked (the value went with it; the reader poisoned the channel).
    pub(super) fn delivered<V>(&self, packet: &Packet<T>) -> Result<(), WriteError<V>> {
        if packet.abandoned() {
            return Err(WriteError::lost(self.poisoned_error()));
        }
        Ok(())
    }

    /// Gives `value` to a reader this writer has committed to.
    pub(super) fn hand_to_reader<V>(
        &self,
        reader: Waiter<T>,
        value: T,
    ) -> Result<(), WriteError<V>> {
        if reader.extended {
            // The reader runs a block before we may return: wait for its release.
            let me = Context::acquire(WaitReason {
                op: WaitOp::Release,
                channel: self.id,
            });
            let mine = Packet::new(None);
            let release = Release {
                ctx: me.clone(),
                packet: mine.clone(),
            };
            reader.packet.put(value, Some(release));
            reader.packet.finish(&reader.ctx);
            me.wait_for(mine.done());
            self.delivered(&mine)
        } else {
            reader.packet.put(value, None);
            reader.packet.finish(&reader.ctx);
            Ok(())
        }
    }

    /// Ends an extended rendezvous after the reader's block: the writer is released, or,
    /// if the block panicked, the channel is poisoned and the writer told its value was
    /// lost.
    pub(crate) fn end_extended(&self, release: Release<T>, completed: bool) {
        if completed {
            release.release();
        } else {
            self.poison();
            release.abandon();
        }
    }

    /// Reads a value. With `extended`, a writer met in rendezvous is not released until
    /// the returned `Release` is (the caller runs its block first).
    /// A `Fifo` ring gives its oldest value without the lock if it can (inlined, as in
    /// `write`).
    #[inline]
    pub(crate) fn read(
        &self,
        end: EndId,
        deadline: Deadline,
        extended: bool,
        spare: &SparePacket<T>,
    ) -> Result<(T, Option<Release<T>>), ChannelError> {
        if let Some(ring) = &self.ring {
            if let Some(v) = ring.fast_pop(&self.hint, || may_snooze(deadline)) {
                return Ok((v, None));
            }
        }
        self.read_locked(end, deadline, extended, spare)
    }

    /// The lock path of `read`.
    fn read_locked(
        &self,
        end: EndId,
        deadline: Deadline,
        extended: bool,
        spare: &SparePacket<T>,
    ) -> Result<(T, Option<Release<T>>), ChannelError> {
        let mut passed = false;
        loop {
            let st = self.lock();
            if st.poisoned {
                drop(st);
                return Err(self.poisoned_error());
            }
            if !st.claims[Side::Read as usize].admits(end, passed) {
                self.wait_claim(st, Side::Read, end, false, deadline)?;
                passed = true;
                continue;
            }
            if !st.buffer.is_empty() {
                let v = self.pop_buffered(st);
                return Ok((v.expect("invariant: a non-empty buffer pops a value"), None));
            }
            let st = match self.take_waiter(st, Side::Write) {
                Ok(writer) => return Ok(Self::take_from_writer(writer, extended)),
                Err(st) => st,
            };
            if st.open[Side::Write as usize] == 0 {
                drop(st);
                return Err(self.retired_error(RetiredSide::Writers));
            }
            return self.park_reader(st, deadline, extended, spare);
        }
    }

    /// The value of a writer this reader committed to; the writer is released now, or
    /// (`extended`) by the returned `Release` after the reader's block.
    fn take_from_writer(w: Waiter<T>, extended: bool) -> (T, Option<Release<T>>) {
        let v = w
            .packet
            .take()
            .expect("invariant: a selected writer's packet holds its value");
        let release = Release {
            ctx: w.ctx,
            packet: w.packet,
        };
        if extended {
            return (v, Some(release));
        }
        release.release();
        (v, None)
    }

    /// Queues a reader that found nothing to read, and waits for a writer.
    fn park_reader(
        &self,
        mut st: Locked<'_, T>,
        deadline: Deadline,
        extended: bool,
        spare: &SparePacket<T>,
    ) -> Result<(T, Option<Release<T>>), ChannelError> {
        let Some(deadline) = blocking(deadline) else {
            drop(st);
            return Err(self.would_block_error(Side::Read));
        };
        let ctx = Context::acquire(WaitReason {
            op: WaitOp::Read,
            channel: self.id,
        });
        let packet = self.end_packet(Side::Read, spare, None);
        st.readers.push(Waiter {
            ctx: ctx.clone(),
            case: 0,
            packet: packet.clone(),
            extended,
        });
        drop(st);
        match ctx.wait_until(deadline) {
            Outcome::Selected(_) => {
                ctx.wait_for(packet.done());
                let v = packet
                    .take()
                    .expect("invariant: a selected reader's packet was filled");
                let release = packet.take_release();
                self.end_recycle(Side::Read, spare, packet);
                Ok((v, release))
            }
            other => {
                self.withdraw(Side::Read, &packet);
                Err(self.wait_error(other, Side::Read))
            }
        }
    }
}
