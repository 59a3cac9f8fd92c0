//! The [`Alt`] builder: guards with their handlers, and the three ways of choosing one.

use std::time::{Duration, Instant};

use super::engine::{self, Chosen, GuardSet};
use super::guard::{BarrierSlot, Guard, InputSlot, OutputSlot};
use super::{AltError, Enrolled, Fair, Timer};
use crate::channel::{Input, Output};
use crate::sync::{AtomicUsize, Ordering};

/// A guard with the handler that runs if it is chosen.
trait Handled<R> {
    fn guard(&mut self) -> &mut dyn Guard;
    fn call_handler(self: Box<Self>) -> R;
}

struct WithHandler<G, F> {
    slot: G,
    handler: F,
}

impl<T, R, F: FnOnce(T) -> R> Handled<R> for WithHandler<InputSlot<'_, T>, F> {
    fn guard(&mut self) -> &mut dyn Guard {
        &mut self.slot
    }
    fn call_handler(mut self: Box<Self>) -> R {
        let v = self.slot.take();
        (self.handler)(v)
    }
}

impl<T, R, F: FnOnce() -> R> Handled<R> for WithHandler<OutputSlot<'_, T>, F> {
    fn guard(&mut self) -> &mut dyn Guard {
        &mut self.slot
    }
    fn call_handler(self: Box<Self>) -> R {
        (self.handler)()
    }
}

impl<R, F: FnOnce() -> R> Handled<R> for WithHandler<BarrierSlot<'_>, F> {
    fn guard(&mut self) -> &mut dyn Guard {
        &mut self.slot
    }
    fn call_handler(self: Box<Self>) -> R {
        (self.handler)()
    }
}

struct Entry<'a, R> {
    /// The guard's number among all guards added (what errors report).
    index: usize,
    guard: Box<dyn Handled<R> + 'a>,
    /// The channel's readiness hint and this guard's bit in it (none for a barrier).
    hint: Option<(&'a AtomicUsize, usize)>,
}

impl<R> GuardSet for Vec<Entry<'_, R>> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn get(&mut self, position: usize) -> Option<&mut dyn Guard> {
        Some(self[position].guard.guard())
    }
    #[inline]
    fn may_go(&self, position: usize) -> bool {
        match self[position].hint {
            Some((hint, bit)) => hint.load(Ordering::Acquire) & bit != 0,
            None => true,
        }
    }
}

/// A choice between guards; see the [module docs](mod@crate::alt).
///
/// ```
/// use csp::{Alt, Channel};
/// let (tx, rx) = Channel::<u8>::new().one2one();
/// // Nothing can happen on a rendezvous channel with no partner: the skip is chosen.
/// let got = Alt::new().input(&rx, Some).skip(|| None).pri_select()?;
/// assert_eq!(got, None);
/// # drop(tx);
/// # Ok::<(), csp::AltError>(())
/// ```
pub struct Alt<'a, R> {
    guards: Vec<Entry<'a, R>>,
    timeout: Option<(Instant, Box<dyn FnOnce() -> R + 'a>)>,
    skip: Option<Box<dyn FnOnce() -> R + 'a>>,
    count: usize,
}

impl<R> Default for Alt<'_, R> {
    fn default() -> Self {
        Alt::new()
    }
}

impl<'a, R> Alt<'a, R> {
    /// An alt with no guards yet.
    ///
    /// ```
    /// use csp::{Alt, AltError};
    /// // An alt's result type is what its handlers return; with no guard it cannot wait.
    /// let alt: Alt<'_, u8> = Alt::new();
    /// assert!(matches!(alt.pri_select(), Err(AltError::NoGuard)));
    /// ```
    pub fn new() -> Self {
        Alt {
            guards: Vec::with_capacity(8),
            timeout: None,
            skip: None,
            count: 0,
        }
    }

    fn next_index(&mut self) -> usize {
        self.count += 1;
        self.count - 1
    }

    /// Numbers the next guard and keeps it if its precondition holds.
    fn push_guard(
        mut self,
        condition: bool,
        hint: Option<(&'a AtomicUsize, usize)>,
        guard: impl FnOnce() -> Box<dyn Handled<R> + 'a>,
    ) -> Self {
        let index = self.next_index();
        if condition {
            self.guards.push(Entry {
                index,
                hint,
                guard: guard(),
            });
        }
        self
    }

    /// A guard that reads from `end`; `handler` gets the value.
    ///
    /// ```
    /// use csp::{Alt, Channel};
    /// let (_idle, quiet) = Channel::<u8>::new().one2one();
    /// let (tx, busy) = Channel::<String>::new().fifo(1).one2one();
    /// tx.write("job".into())?;
    /// // Only the ready input is chosen; its handler gets the value.
    /// let got = Alt::new()
    ///     .input(&quiet, |n| format!("number {n}"))
    ///     .input(&busy, |s| format!("text {s}"))
    ///     .select()?;
    /// assert_eq!(got, "text job");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn input<T: 'a>(self, end: &'a Input<T>, handler: impl FnOnce(T) -> R + 'a) -> Self {
        self.input_if(true, end, handler)
    }

    /// An input guard enabled only if `condition` holds.
    ///
    /// ```
    /// use csp::{Alt, AltError, Channel};
    /// let (tx, rx) = Channel::<u8>::new().fifo(1).one2one();
    /// tx.write(1)?;
    /// // The only guard is disabled and there is no timeout or skip: an error, not a hang.
    /// let err = Alt::new().input_if(false, &rx, |v| v).pri_select().unwrap_err();
    /// assert!(matches!(err, AltError::NoGuard));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn input_if<T: 'a>(
        self,
        condition: bool,
        end: &'a Input<T>,
        handler: impl FnOnce(T) -> R + 'a,
    ) -> Self {
        self.push_guard(condition, Some(end.read_hint()), || {
            Box::new(WithHandler {
                slot: InputSlot::new(end),
                handler,
            })
        })
    }

    /// A guard that writes `value` to `end`; `handler` runs once a reader has taken it
    /// (or it was buffered). If another guard is chosen, `value` is dropped.
    ///
    /// ```
    /// use csp::{Alt, Channel};
    /// let (tx, rx) = Channel::<&str>::local().fifo(1).one2one();
    /// let done = Alt::new().output(&tx, "sent", || true).skip(|| false).pri_select()?;
    /// assert!(done);
    /// assert_eq!(rx.read()?, "sent");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn output<T: 'a>(
        self,
        end: &'a Output<T>,
        value: T,
        handler: impl FnOnce() -> R + 'a,
    ) -> Self {
        self.output_if(true, end, value, handler)
    }

    /// An output guard enabled only if `condition` holds.
    ///
    /// ```
    /// use csp::{Alt, Channel};
    /// let (tx, rx) = Channel::<u32>::new().fifo(1).one2one();
    /// let (_cmd_tx, commands) = Channel::<u32>::new().one2one();
    /// let mut pending: Option<u32> = None; // nothing to send yet: the output guard is off
    /// let r = Alt::new()
    ///     .output_if(pending.is_some(), &tx, pending.unwrap_or(0), || "sent")
    ///     .input(&commands, |_| "command")
    ///     .skip(|| "idle")
    ///     .pri_select()?;
    /// assert_eq!(r, "idle");
    /// pending = Some(5);
    /// let r = Alt::new().output_if(pending.is_some(), &tx, 5, || "sent").skip(|| "idle").pri_select()?;
    /// assert_eq!((r, rx.read()?), ("sent", 5));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn output_if<T: 'a>(
        self,
        condition: bool,
        end: &'a Output<T>,
        value: T,
        handler: impl FnOnce() -> R + 'a,
    ) -> Self {
        self.push_guard(condition, Some(end.write_hint()), || {
            Box::new(WithHandler {
                slot: OutputSlot::new(end, value),
                handler,
            })
        })
    }

    /// A guard that syncs on a barrier (an alting barrier): chosen when every other
    /// party enrolled on it is also offering to sync, by `sync` or by its own alt.
    ///
    /// ```
    /// use csp::{Alt, Barrier, Channel};
    /// let barrier = Barrier::new();
    /// let me = barrier.enroll();
    /// let other = barrier.enroll();
    /// let (_tx, rx) = Channel::<u8>::new().one2one();
    /// let t = std::thread::spawn(move || other.sync());
    /// let what = Alt::new().input(&rx, |_| "input").barrier(&me, || "synced").select()?;
    /// assert_eq!(what, "synced");
    /// t.join().unwrap();
    /// # Ok::<(), csp::AltError>(())
    /// ```
    pub fn barrier(self, party: &'a Enrolled, handler: impl FnOnce() -> R + 'a) -> Self {
        self.barrier_if(true, party, handler)
    }

    /// A barrier guard enabled only if `condition` holds.
    ///
    /// ```
    /// use csp::{Alt, Barrier};
    /// let barrier = Barrier::new();
    /// let me = barrier.enroll(); // the only party: a barrier guard is ready at once
    /// let ready_to_sync = false;
    /// let r = Alt::new().barrier_if(ready_to_sync, &me, || "synced").skip(|| "skipped").pri_select()?;
    /// assert_eq!(r, "skipped");
    /// let r = Alt::new().barrier_if(true, &me, || "synced").skip(|| "skipped").pri_select()?;
    /// assert_eq!(r, "synced");
    /// # Ok::<(), csp::AltError>(())
    /// ```
    pub fn barrier_if(
        self,
        condition: bool,
        party: &'a Enrolled,
        handler: impl FnOnce() -> R + 'a,
    ) -> Self {
        self.push_guard(condition, None, || {
            Box::new(WithHandler {
                slot: BarrierSlot::new(party),
                handler,
            })
        })
    }

    /// Chosen if no other guard became ready within `after` (counted from now).
    ///
    /// ```
    /// use std::time::Duration;
    /// use csp::{Alt, Channel};
    /// let (_tx, rx) = Channel::<u8>::new().one2one();
    /// let r = Alt::new()
    ///     .input(&rx, Some)
    ///     .timeout(Duration::from_millis(5), || None) // nobody writes: the timeout is chosen
    ///     .pri_select()?;
    /// assert_eq!(r, None);
    /// # Ok::<(), csp::AltError>(())
    /// ```
    pub fn timeout(self, after: Duration, handler: impl FnOnce() -> R + 'a) -> Self {
        self.deadline(Timer::after(after), handler)
    }

    /// Chosen if no other guard became ready by `at`. With several timeouts, the
    /// earliest counts.
    ///
    /// ```
    /// use std::time::Duration;
    /// use csp::{Alt, Channel, Timer};
    /// let (_tx, rx) = Channel::<u8>::new().one2one();
    /// let start = Timer::now();
    /// let timed_out = Alt::new()
    ///     .input(&rx, |_| false)
    ///     .deadline(Timer::after(Duration::from_millis(20)), || true)
    ///     .select()?;
    /// assert!(timed_out && start.elapsed() >= Duration::from_millis(20));
    /// # Ok::<(), csp::AltError>(())
    /// ```
    pub fn deadline(self, at: Instant, handler: impl FnOnce() -> R + 'a) -> Self {
        self.deadline_if(true, at, handler)
    }

    /// A deadline guard enabled only if `condition` holds.
    ///
    /// ```
    /// use std::time::Duration;
    /// use csp::{Alt, Channel, Timer};
    /// let (_tx, rx) = Channel::<u8>::new().one2one();
    /// let (tx2, rx2) = Channel::<u8>::new().fifo(1).one2one();
    /// let has_deadline = false;
    /// // Without its deadline (and with no skip) the alt waits for the input alone.
    /// let writer = std::thread::spawn(move || tx2.write(1));
    /// let r = Alt::new()
    ///     .input(&rx, |_| "first")
    ///     .input(&rx2, |_| "second")
    ///     .deadline_if(has_deadline, Timer::after(Duration::ZERO), || "late")
    ///     .pri_select()?;
    /// assert_eq!(r, "second");
    /// writer.join().unwrap()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn deadline_if(
        mut self,
        condition: bool,
        at: Instant,
        handler: impl FnOnce() -> R + 'a,
    ) -> Self {
        self.next_index();
        if condition && !matches!(&self.timeout, Some((t, _)) if *t <= at) {
            self.timeout = Some((at, Box::new(handler)));
        }
        self
    }

    /// Chosen at once if no channel guard is ready (Go's `default`, JCSP's `Skip`).
    ///
    /// ```
    /// use csp::{Alt, Channel};
    /// let (tx, rx) = Channel::<u8>::new().fifo(1).one2one();
    /// let poll = |rx| Alt::new().input(rx, Some).skip(|| None).pri_select();
    /// assert_eq!(poll(&rx)?, None); // nothing ready: the skip, at once
    /// tx.write(3)?;
    /// assert_eq!(poll(&rx)?, Some(3)); // a ready input always beats the skip
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn skip(self, handler: impl FnOnce() -> R + 'a) -> Self {
        self.skip_if(true, handler)
    }

    /// A skip guard enabled only if `condition` holds.
    ///
    /// ```
    /// use std::time::Duration;
    /// use csp::{Alt, Channel};
    /// let (_tx, rx) = Channel::<u8>::new().one2one();
    /// for blocking in [false, true] {
    ///     // Poll or wait (here briefly) with the same alt, by the skip's precondition.
    ///     let r = Alt::new()
    ///         .input(&rx, |_| "value")
    ///         .skip_if(!blocking, || "nothing now")
    ///         .timeout(Duration::from_millis(2), || "timed out")
    ///         .pri_select()?;
    ///     assert_eq!(r, if blocking { "timed out" } else { "nothing now" });
    /// }
    /// # Ok::<(), csp::AltError>(())
    /// ```
    pub fn skip_if(mut self, condition: bool, handler: impl FnOnce() -> R + 'a) -> Self {
        self.next_index();
        if condition && self.skip.is_none() {
            self.skip = Some(Box::new(handler));
        }
        self
    }

    /// Chooses the first ready guard in the order they were added (occam's PRI ALT).
    ///
    /// ```
    /// use csp::{Alt, Channel};
    /// let (urgent_tx, urgent) = Channel::<&str>::local().fifo(1).one2one();
    /// let (normal_tx, normal) = Channel::<&str>::local().fifo(1).one2one();
    /// normal_tx.write("routine")?;
    /// urgent_tx.write("alarm")?;
    /// // Both ready: the first guard added wins, every time.
    /// let got = Alt::new().input(&urgent, |m| m).input(&normal, |m| m).pri_select()?;
    /// assert_eq!(got, "alarm");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pri_select(self) -> Result<R, AltError> {
        self.choose(0).0
    }

    /// Chooses an arbitrary ready guard: polling starts at a random guard.
    ///
    /// ```
    /// use csp::{Alt, Channel};
    /// let (a_tx, a) = Channel::<char>::new().fifo(1).one2one();
    /// let (b_tx, b) = Channel::<char>::new().fifo(1).one2one();
    /// a_tx.write('a')?;
    /// b_tx.write('b')?;
    /// // Both ready: either may be chosen, and exactly one is.
    /// let got = Alt::new().input(&a, |c| c).input(&b, |c| c).select()?;
    /// assert!(got == 'a' || got == 'b');
    /// assert_eq!(a.len() + b.len(), 1); // the other value is still buffered
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn select(self) -> Result<R, AltError> {
        let start = engine::random_below(self.guards.len());
        self.choose(start).0
    }

    /// Chooses the first ready guard starting after the one `fair` chose last, and
    /// records the choice: over repeated selects every ready guard gets its turn.
    ///
    /// ```
    /// use csp::{Alt, Channel, Fair};
    /// let (a_tx, a) = Channel::<u8>::new().fifo(3).one2one();
    /// let (b_tx, b) = Channel::<u8>::new().fifo(3).one2one();
    /// for _ in 0..3 {
    ///     a_tx.write(0)?;
    ///     b_tx.write(1)?;
    /// }
    /// let mut fair = Fair::new();
    /// let picks: Vec<u8> = (0..4)
    ///     .map(|_| Alt::new().input(&a, |v| v).input(&b, |v| v).fair_select(&mut fair))
    ///     .collect::<Result<_, _>>()?;
    /// assert_eq!(picks, [0, 1, 0, 1]); // pri_select would have taken `a` three times first
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fair_select(self, fair: &mut Fair) -> Result<R, AltError> {
        let start = fair.start(self.guards.iter().map(|e| e.index));
        let (result, chosen) = self.choose(start);
        if let Some(index) = chosen {
            fair.last = Some(index);
        }
        result
    }

    /// Runs the alt; also says which guard (by index) was chosen or failed, if one.
    fn choose(self, start: usize) -> (Result<R, AltError>, Option<usize>) {
        let Alt {
            mut guards,
            timeout,
            skip,
            ..
        } = self;
        let at = timeout.as_ref().map(|(at, _)| *at);
        match engine::select(&mut guards, start, at, skip.is_some()) {
            Ok(Chosen::Guard(p)) => {
                let entry = guards.swap_remove(p);
                // The other guards (and output values not sent) go before the handler runs.
                drop(guards);
                (Ok(entry.guard.call_handler()), Some(entry.index))
            }
            Ok(Chosen::Skip) => match skip {
                Some(handler) => (Ok(handler()), None),
                None => (Err(AltError::NoGuard), None),
            },
            Ok(Chosen::Timeout) => match timeout {
                Some((_, handler)) => (Ok(handler()), None),
                None => (Err(AltError::NoGuard), None),
            },
            Err(failure) => {
                let index = |p: usize| guards[p].index;
                let chosen = match &failure {
                    engine::Refused::Guard { position, .. } => Some(index(*position)),
                    _ => None,
                };
                (Err(AltError::from_refused(failure, index)), chosen)
            }
        }
    }
}
