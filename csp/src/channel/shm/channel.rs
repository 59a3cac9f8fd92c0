//! `SharedChannel`: the handle, and the write and read paths (see the module docs for
//! the protocol).

use std::sync::atomic::Ordering;

use super::fast::Seen;
use super::layout::{Layout, Region, Slot, ABANDONED, DONE, SELECTED, WAITING};
use super::lock::LockGuard;
use super::store::{Pushed, Source};
use super::waiters::Outcome;
use super::{Config, Gone, SharedError, Wait};
use crate::channel::Side;

/// The order of a priority buffer: compares two payloads (typically by decoding them,
/// so it captures the decoder: a closure, shared by the handle's clones).
pub type Order = std::sync::Arc<dyn Fn(&[u8], &[u8]) -> std::cmp::Ordering + Send + Sync>;

/// A handle on a channel in shared memory. Clone it (or fork) for more ends: every
/// clone, in any process forked after `create`, operates on the same channel.
#[derive(Clone)]
pub struct SharedChannel {
    pub(super) r: Region,
    pub(super) order: Option<Order>,
    /// The fast path's view of the other side's position (see `fast`).
    pub(super) seen: Seen,
}

/// The held channel lock. Taking it freezes a fast channel's buffer; releasing it thaws
/// the buffer if the channel needs no lock (see `fast`).
pub(super) struct Locked<'a> {
    ch: &'a SharedChannel,
    _raw: LockGuard<'a>,
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        if self.ch.r.at.fast {
            self.ch.thaw_if_idle();
            // Whatever changed under the lock (a frame pushed, poison, a side retired),
            // a fast sleeper may wait for it.
            std::sync::atomic::fence(Ordering::SeqCst);
            self.ch.wake(Side::Read);
            self.ch.wake(Side::Write);
        }
    }
}

/// A frame read by [`SharedChannel::read_extended`] whose writer is still blocked:
/// [`Held::release`] lets it go. Dropped without `release`, it releases as completed,
/// or as not completed while the thread panics (the reader's block did not finish).
pub struct Held {
    ch: SharedChannel,
    /// The writer's entry, when the frame came from a waiting writer (not the buffer).
    writer: Option<usize>,
    released: bool,
}

impl Held {
    /// Ends the extended rendezvous: `completed` gives the writer `Ok`; otherwise the
    /// writer gets `Poisoned` and the channel is poisoned.
    pub fn release(mut self, completed: bool) {
        self.finish(completed);
    }

    fn finish(&mut self, completed: bool) {
        if std::mem::replace(&mut self.released, true) {
            return;
        }
        if completed {
            if let Some(w) = self.writer {
                self.ch.finish(w, DONE);
            }
        } else {
            if let Some(w) = self.writer {
                self.ch.finish(w, ABANDONED);
            }
            self.ch.poison();
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.finish(!std::thread::panicking());
    }
}

/// The identity of an end across processes: end ids are counted per process, and
/// ends created after a fork may repeat across processes, so the pid goes with it.
pub(super) fn me(end: u64) -> (u32, u64) {
    (std::process::id(), end)
}

impl SharedChannel {
    /// Maps and initialises a channel; fork after this for ends in other processes.
    pub fn create(cfg: Config) -> Result<SharedChannel, SharedError> {
        let region = Region::new(Layout::new(&cfg)?)?;
        let h = region.header();
        for side in [Side::Read, Side::Write] {
            h.open[side as usize].store(cfg.open[side as usize] as u64, Ordering::Relaxed);
        }
        Ok(SharedChannel {
            r: region,
            order: None,
            seen: Seen::default(),
        })
    }

    /// Sets a priority buffer's order (greatest first). Kept in the handle, which a
    /// forked child inherits with its memory: set it before forking.
    pub fn set_order(&mut self, cmp: Order) {
        self.order = Some(cmp);
    }

    /// Takes the channel lock; if its last owner died holding it, poisons the channel.
    pub(super) fn lock(&self) -> Result<Locked<'_>, SharedError> {
        let held = self.r.header().lock.lock()?;
        if self.r.at.fast {
            self.freeze();
        }
        let locked = Locked {
            ch: self,
            _raw: held.guard,
        };
        if held.owner_died {
            self.poison_locked();
            return Err(SharedError::Poisoned);
        }
        Ok(locked)
    }

    pub(super) fn poisoned(&self) -> bool {
        self.r.header().poisoned.load(Ordering::Acquire) != 0
    }

    fn open(&self, side: Side) -> u64 {
        self.r.header().open[side as usize].load(Ordering::Relaxed)
    }

    /// Writes a frame; with a rendezvous, `Ok` only once a reader has it. A frame a
    /// write does not deliver (an error) was taken by nobody.
    pub fn write(&self, end: u64, frame: &[u8], wait: Wait) -> Result<(), SharedError> {
        let limit = self.r.at.max_frame;
        if frame.len() > limit {
            return Err(SharedError::TooLarge {
                len: frame.len(),
                limit,
            });
        }
        loop {
            let g = self.lock()?;
            if self.poisoned() {
                return Err(SharedError::Poisoned);
            }
            if self.open(Side::Read) == 0 {
                return Err(SharedError::Retired(Gone::Readers));
            }
            if !self.admits(Side::Write, end) {
                self.wait_claim(g, Side::Write, wait, |ch| ch.admits(Side::Write, end))?;
                continue;
            }
            if let Some((reader, mine)) = self.take_reader()? {
                drop(g);
                return self.hand_to_reader(reader, mine, frame);
            }
            match self.push(Source::Bytes(frame))? {
                Pushed::Stored | Pushed::Dropped => return Ok(()),
                Pushed::Full => {}
            }
            if matches!(wait, Wait::Try) {
                return Err(SharedError::Full);
            }
            let idx = self.alloc(Side::Write, WAITING, false)?;
            // Still under the lock: no reader can select us before the frame is in.
            self.r.put(Slot::Waiter(idx), frame)?;
            drop(g);
            return self.ended(idx, self.wait_entry(idx, wait), Side::Write);
        }
    }

    /// Commits to the oldest waiting reader (under the lock). An extended reader also
    /// gets an entry of ours, on which we wait for its `Held` to be released.
    fn take_reader(&self) -> Result<Option<(usize, Option<usize>)>, SharedError> {
        loop {
            let Some(reader) = self.oldest(Side::Read) else {
                return Ok(None);
            };
            let extended = self.r.entry_at(reader).extended.load(Ordering::Relaxed) != 0;
            let mine = match extended {
                true => Some(self.alloc(Side::Write, SELECTED, false)?),
                false => None,
            };
            if self.commit(reader) {
                if let Some(m) = mine {
                    let to = u32::try_from(m + 1).unwrap_or(0);
                    self.r
                        .entry_at(reader)
                        .release_to
                        .store(to, Ordering::Relaxed);
                }
                return Ok(Some((reader, mine)));
            }
            if let Some(m) = mine {
                self.free(m);
            }
        }
    }

    /// Gives the frame to a reader we committed to (without the lock).
    fn hand_to_reader(
        &self,
        reader: usize,
        mine: Option<usize>,
        frame: &[u8],
    ) -> Result<(), SharedError> {
        let put = self.r.put(Slot::Waiter(reader), frame);
        if !self.finish(reader, DONE) {
            if let Some(m) = mine {
                self.free(m);
            }
            return Err(SharedError::Poisoned);
        }
        put?;
        match mine {
            None => Ok(()),
            Some(m) => self.ended(m, self.wait_entry(m, Wait::Forever), Side::Write),
        }
    }

    /// A waiter's result from its outcome; frees its entry unless poison cut it loose.
    fn ended(&self, idx: usize, outcome: Outcome, side: Side) -> Result<(), SharedError> {
        if outcome != Outcome::Cut {
            self.free(idx);
        }
        match outcome {
            Outcome::Done => Ok(()),
            Outcome::Aborted => Err(SharedError::Timeout),
            Outcome::Retired => Err(SharedError::Retired(match side {
                Side::Read => Gone::Writers,
                Side::Write => Gone::Readers,
            })),
            // The reader took the frame into an extended block that failed: gone.
            Outcome::Abandoned => Err(SharedError::Lost),
            Outcome::Poisoned | Outcome::Cut => Err(SharedError::Poisoned),
        }
    }

    /// Reads a frame.
    pub fn read(&self, end: u64, wait: Wait) -> Result<Vec<u8>, SharedError> {
        let (frame, writer) = self.read_inner(end, wait, false)?;
        debug_assert!(writer.is_none());
        Ok(frame)
    }

    /// Reads a frame in an extended rendezvous: the writer's `write` returns only when
    /// the returned [`Held`] is released (after the reader's block).
    pub fn read_extended(&self, end: u64, wait: Wait) -> Result<(Vec<u8>, Held), SharedError> {
        let (frame, writer) = self.read_inner(end, wait, true)?;
        let held = Held {
            ch: self.clone(),
            writer,
            released: false,
        };
        Ok((frame, held))
    }

    fn read_inner(
        &self,
        end: u64,
        wait: Wait,
        extended: bool,
    ) -> Result<(Vec<u8>, Option<usize>), SharedError> {
        loop {
            let g = self.lock()?;
            if self.poisoned() {
                return Err(SharedError::Poisoned);
            }
            if !self.admits(Side::Read, end) {
                self.wait_claim(g, Side::Read, wait, |ch| ch.admits(Side::Read, end))?;
                continue;
            }
            if let Some(frame) = self.pop() {
                self.refill();
                drop(g);
                return Ok((frame?, None));
            }
            if let Some(writer) = self.select(Side::Write) {
                drop(g);
                return self.take_from_writer(writer, extended);
            }
            if self.open(Side::Write) == 0 {
                return Err(SharedError::Retired(Gone::Writers));
            }
            if matches!(wait, Wait::Try) {
                return Err(SharedError::Empty);
            }
            let idx = self.alloc(Side::Read, WAITING, extended)?;
            drop(g);
            return self.reader_waited(idx, wait);
        }
    }

    /// After a pop (under the lock): the oldest blocked writer's frame moves into the
    /// room, and that writer is done.
    fn refill(&self) {
        if !self.has_room() {
            return;
        }
        if let Some(w) = self.select(Side::Write) {
            // A waiting writer's frame was checked for size when it was written.
            let _ = self.push(Source::Waiter(w));
            self.finish(w, DONE);
        }
    }

    /// Takes the frame of a writer we committed to (without the lock); the writer is
    /// released now, or by the caller's `Held` (`extended`).
    fn take_from_writer(
        &self,
        w: usize,
        extended: bool,
    ) -> Result<(Vec<u8>, Option<usize>), SharedError> {
        let frame = self.r.payload(Slot::Waiter(w)).map(<[u8]>::to_vec);
        if extended && frame.is_ok() {
            return Ok((frame?, Some(w)));
        }
        if !self.finish(w, DONE) {
            return Err(SharedError::Poisoned);
        }
        Ok((frame?, None))
    }

    fn reader_waited(
        &self,
        idx: usize,
        wait: Wait,
    ) -> Result<(Vec<u8>, Option<usize>), SharedError> {
        let outcome = self.wait_entry(idx, wait);
        let got = match outcome {
            Outcome::Done => {
                let e = self.r.entry_at(idx);
                let writer = (e.release_to.load(Ordering::Relaxed) as usize).checked_sub(1);
                Some((
                    self.r.payload(Slot::Waiter(idx)).map(<[u8]>::to_vec),
                    writer,
                ))
            }
            _ => None,
        };
        self.ended(idx, outcome, Side::Read)?;
        let (frame, writer) = got.ok_or(SharedError::Poisoned)?;
        match frame {
            Ok(f) => Ok((f, writer)),
            Err(e) => {
                if let Some(w) = writer {
                    self.finish(w, DONE);
                }
                Err(e.into())
            }
        }
    }

    /// Buffers a frame that the in-memory channel held before the switch.
    pub fn push_initial(&self, frame: &[u8]) -> Result<(), SharedError> {
        let _g = self.lock()?;
        match self.push(Source::Bytes(frame))? {
            Pushed::Stored => Ok(()),
            Pushed::Dropped | Pushed::Full => Err(SharedError::Full),
        }
    }
}
