//! Barriers: every enrolled process waits until all of them have arrived (occam-pi's
//! and JCSP's `Barrier`), and a barrier can be a guard in an alt (an *alting barrier*,
//! Welch et al.): a process may offer to sync while also waiting for other events.
//!
//! Completing a barrier commits several waiters at once, each of which may be alting on
//! other guards too. One CAS per waiter cannot do that atomically, so the last party to
//! arrive first *claims* every other party's context (a claimed context cannot be decided
//! by anyone else until released), then commits them all — or, if one has already chosen
//! something else, releases the others and waits like them. Claims are taken only under
//! one global lock (the oracle of JCSP's alting barriers), so two barriers never wait on
//! each other's claims; a channel partner that meets a claimed context waits the few
//! instructions until it is committed or released.
//!
//! Across OS processes: before it forks, the fork runtime moves every live barrier into
//! shared memory ([`share_live`]; a barrier's parties are not recorded, so any of them
//! may be in a child). From then on the barrier's counts live there
//! (`channel::shm::SharedBarrier`), `sync` sleeps on a process-shared futex, and an alt
//! treats the barrier as a crossing guard: it completes it if every other party waits,
//! or offers on it for a while as channels' crossing guards do (see `alt::engine`).

use std::marker::PhantomData;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Instant;

use crate::channel::SharedBarrier;
use crate::park::{Context, Outcome};
use crate::sync::{self, Mutex};

/// Serialises every barrier commit (see the module docs).
#[cfg(not(loom))]
static ORACLE: Mutex<()> = Mutex::new(());

#[cfg(loom)]
loom::lazy_static! {
    static ref ORACLE: Mutex<()> = Mutex::new(());
}

/// Barrier ids live apart from channel ids, so an alt can tell its guards apart.
const BARRIER_ID_BIT: u64 = 1 << 63;

struct Offer {
    ctx: Arc<Context>,
    case: usize,
}

struct State {
    enrolled: usize,
    /// Parties waiting to sync (plain `sync` or alts with this barrier as a guard).
    offers: Vec<Offer>,
}

struct Inner {
    id: u64,
    name: Arc<str>,
    state: Mutex<State>,
    /// Where the barrier's counts live once it crosses OS processes (set by
    /// [`share_live`] before a fork, then never again).
    crossing: OnceLock<SharedBarrier>,
}

/// Every barrier of this process that may still have parties: the fork runtime shares
/// them all, since nothing records which processes hold a barrier's parties.
static LIVE: std::sync::Mutex<Vec<Weak<Inner>>> = std::sync::Mutex::new(Vec::new());

fn register(inner: &Arc<Inner>) {
    let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    // Forget barriers that have gone, now and then, so the list stays as long as the
    // live ones (amortised: at most once per doubling).
    if live.len() >= 64 && live.len().is_power_of_two() {
        live.retain(|w| w.strong_count() > 0);
    }
    live.push(Arc::downgrade(inner));
}

/// Moves every live barrier into memory shared with the OS processes forked after this
/// call (see the module docs); called by the fork runtime while single-threaded. The
/// name of the barrier whose shared memory the OS refused, with the error.
pub(crate) fn share_live() -> Result<(), (Arc<str>, std::io::Error)> {
    let live: Vec<Arc<Inner>> = {
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|w| w.strong_count() > 0);
        live.iter().filter_map(Weak::upgrade).collect()
    };
    for inner in live {
        share(&inner).map_err(|e| (inner.name.clone(), e))?;
    }
    Ok(())
}

/// Moves one barrier into shared memory, with the parties enrolled now.
fn share(inner: &Inner) -> std::io::Result<()> {
    let _oracle = oracle();
    if inner.crossing.get().is_some() {
        return Ok(());
    }
    let enrolled = sync::lock(&inner.state).enrolled;
    let _ = inner.crossing.set(SharedBarrier::create(enrolled)?);
    Ok(())
}

/// A barrier; processes take part through the [`Enrolled`] handles it gives out.
///
/// ```
/// use csp::{Barrier, Parallel, Process};
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// let barrier = Barrier::named("phase");
/// let arrived = AtomicUsize::new(0);
/// let workers: Parallel<usize> = (0..4)
///     .map(|_| {
///         let me = barrier.enroll();
///         let arrived = &arrived;
///         csp::ScopedProcess::from_fn("worker", move || {
///             arrived.fetch_add(1, Ordering::SeqCst);
///             me.sync(); // nobody passes until all four have arrived
///             arrived.load(Ordering::SeqCst)
///         })
///     })
///     .collect();
/// assert_eq!(workers.run()?, vec![Some(4); 4]);
/// # Ok::<(), csp::NetworkError>(())
/// ```
#[derive(Clone)]
pub struct Barrier {
    inner: Arc<Inner>,
}

impl Default for Barrier {
    fn default() -> Self {
        Barrier::new()
    }
}

impl Barrier {
    /// A barrier with no party enrolled yet.
    ///
    /// ```
    /// let barrier = csp::Barrier::new();
    /// assert_eq!(barrier.enrolled(), 0);
    /// assert!(barrier.name().starts_with("barrier#"));
    /// ```
    pub fn new() -> Barrier {
        let id = crate::channel::next_channel_id();
        Barrier::with_name(id, format!("barrier#{}", crate::channel::short_id(id)))
    }

    /// A named barrier (the name appears in alt errors).
    ///
    /// ```
    /// let barrier = csp::Barrier::named("phase");
    /// assert_eq!(&*barrier.name(), "phase");
    /// ```
    pub fn named(name: impl Into<String>) -> Barrier {
        let id = crate::channel::next_channel_id();
        Barrier::with_name(id, name.into())
    }

    fn with_name(id: u64, name: String) -> Barrier {
        let inner = Arc::new(Inner {
            id: id | BARRIER_ID_BIT,
            name: Arc::from(name),
            state: Mutex::new(State {
                enrolled: 0,
                offers: Vec::new(),
            }),
            crossing: OnceLock::new(),
        });
        register(&inner);
        Barrier { inner }
    }

    /// Enrolls one more party; dropping (or [`resign`](Enrolled::resign)ing) the handle
    /// takes it out again.
    ///
    /// ```
    /// use csp::Barrier;
    /// let barrier = Barrier::new();
    /// // Enrol every party before any starts, so that none passes early.
    /// let parties: Vec<_> = (0..3).map(|_| barrier.enroll()).collect();
    /// assert_eq!(barrier.enrolled(), 3);
    /// let workers: Vec<_> = parties
    ///     .into_iter()
    ///     .map(|me| std::thread::spawn(move || me.sync()))
    ///     .collect();
    /// for w in workers {
    ///     w.join().unwrap();
    /// }
    /// assert_eq!(barrier.enrolled(), 0); // each handle resigned when its thread ended
    /// ```
    pub fn enroll(&self) -> Enrolled {
        // Under the oracle, which `share` holds too: a party is counted on one side of
        // the move into shared memory, never lost between them.
        let _oracle = oracle();
        let home = match self.inner.crossing.get() {
            Some(shared) => shared.enroll(),
            None => {
                sync::lock(&self.inner.state).enrolled += 1;
                0
            }
        };
        Enrolled {
            inner: self.inner.clone(),
            home: Arc::new(std::sync::atomic::AtomicU32::new(home)),
            not_sync: PhantomData,
        }
    }

    /// How many parties are enrolled.
    ///
    /// ```
    /// let barrier = csp::Barrier::new();
    /// let a = barrier.enroll();
    /// let b = barrier.enroll();
    /// assert_eq!(barrier.enrolled(), 2);
    /// b.resign();
    /// assert_eq!(barrier.enrolled(), 1);
    /// # drop(a);
    /// ```
    pub fn enrolled(&self) -> usize {
        if let Some(shared) = self.inner.crossing.get() {
            return shared.enrolled();
        }
        let _oracle = oracle();
        sync::lock(&self.inner.state).enrolled
    }

    /// Moves the barrier into memory shared with the OS processes forked after this
    /// call, so that its parties keep syncing when they end up in different processes.
    /// [`Parallel::run`](crate::Parallel::run) does this for every live barrier before
    /// it forks; call it yourself only if you fork by other means. Idempotent. Fails
    /// where the OS refuses shared memory (or is not Linux).
    ///
    /// ```
    /// let barrier = csp::Barrier::named("phase");
    /// let me = barrier.enroll();
    /// barrier.share_with_forks()?; // from here on, a forked child could hold a party
    /// me.sync(); // the only party: passes at once
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn share_with_forks(&self) -> std::io::Result<()> {
        share(&self.inner)
    }

    /// The barrier's name.
    ///
    /// ```
    /// use csp::{Alt, Barrier};
    /// let barrier = Barrier::named("round");
    /// let me = barrier.enroll();
    /// let _other = barrier.enroll(); // never syncs: the guard cannot be chosen
    /// let r = Alt::new().barrier(&me, || "synced").skip(|| "not yet").pri_select()?;
    /// assert_eq!((r, &*barrier.name()), ("not yet", "round"));
    /// # Ok::<(), csp::AltError>(())
    /// ```
    pub fn name(&self) -> Arc<str> {
        self.inner.name.clone()
    }
}

/// One party's enrollment on a [`Barrier`]: `Send`, so it can move into its process.
///
/// ```
/// use csp::Barrier;
/// let b = Barrier::new();
/// let alone = b.enroll();
/// alone.sync(); // the only party: passes at once
/// let second = alone.enroll();
/// assert_eq!(b.enrolled(), 2);
/// drop(second); // resigns
/// alone.sync();
/// ```
pub struct Enrolled {
    inner: Arc<Inner>,
    /// Once the barrier crosses OS processes: the pid its party is counted under (0: the
    /// process that shared it), see `channel::shm::SharedBarrier`.
    /// Shared with the [`Party`] a process records, so that a forked child can count
    /// the party under itself before it runs (see [`Party::adopt_here`]).
    home: Arc<std::sync::atomic::AtomicU32>,
    // One party syncs at a time: the handle is `Send` but not `Sync`.
    not_sync: PhantomData<std::cell::Cell<()>>,
}

impl Enrolled {
    /// Waits until every enrolled party has called `sync` (or chosen this barrier's
    /// guard in an alt).
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// let barrier = csp::Barrier::new();
    /// let phase1 = AtomicUsize::new(0);
    /// let parties: Vec<_> = (0..3).map(|_| barrier.enroll()).collect();
    /// std::thread::scope(|s| {
    ///     for me in parties {
    ///         let phase1 = &phase1;
    ///         s.spawn(move || {
    ///             phase1.fetch_add(1, Ordering::SeqCst);
    ///             me.sync(); // every party has finished phase 1 past this line
    ///             assert_eq!(phase1.load(Ordering::SeqCst), 3);
    ///         });
    ///     }
    /// });
    /// ```
    pub fn sync(&self) {
        // A one-guard alt: it can only end by the barrier completing.
        let _ = crate::Alt::new().barrier(self, || ()).pri_select();
    }

    /// Enrolls another party on the same barrier.
    ///
    /// ```
    /// let barrier = csp::Barrier::new();
    /// let first = barrier.enroll();
    /// let second = first.enroll(); // a party can enrol another: no `Barrier` needed
    /// assert_eq!(barrier.enrolled(), 2);
    /// let t = std::thread::spawn(move || second.sync());
    /// first.sync(); // the two meet
    /// t.join().unwrap();
    /// ```
    pub fn enroll(&self) -> Enrolled {
        Barrier {
            inner: self.inner.clone(),
        }
        .enroll()
    }

    /// Leaves the barrier (the same as dropping the handle): the others no longer wait
    /// for this party.
    ///
    /// ```
    /// let barrier = csp::Barrier::new();
    /// let me = barrier.enroll();
    /// let quitter = barrier.enroll();
    /// quitter.resign(); // without this, `sync` below would wait for it forever
    /// me.sync();
    /// assert_eq!(barrier.enrolled(), 1);
    /// ```
    pub fn resign(self) {}

    pub(crate) fn id(&self) -> u64 {
        self.inner.id
    }

    pub(crate) fn name(&self) -> Arc<str> {
        self.inner.name.clone()
    }

    /// Polls the barrier as an alt guard: completes it if every other party is offering,
    /// otherwise (with `me`) offers to sync.
    pub(crate) fn poll(&self, me: Option<(&Arc<Context>, usize)>) -> BarrierPoll {
        if let Some(shared) = self.inner.crossing.get() {
            // Parties in other processes cannot reach the alt's context: complete it
            // if all of them wait, else the alt offers later (see `offer`).
            return match shared.try_sync(&self.home) {
                true => BarrierPoll::Ready,
                false => BarrierPoll::NotReady,
            };
        }
        let _oracle = oracle();
        let mut st = sync::lock(&self.inner.state);
        st.offers.retain(|o| o.ctx.outcome().is_none());
        if st.offers.len() + 1 >= st.enrolled {
            match claim_all(&st.offers) {
                Some(claimed) => {
                    if let Some((ctx, case)) = me {
                        if !ctx.try_complete(Outcome::Selected(case)) {
                            for o in &claimed {
                                o.unclaim();
                            }
                            return BarrierPoll::Taken;
                        }
                    }
                    let offers = std::mem::take(&mut st.offers);
                    drop(st);
                    commit_all(offers);
                    return BarrierPoll::Ready;
                }
                // A party chose something else meanwhile: drop its offer; the barrier is
                // not complete.
                None => st.offers.retain(|o| o.ctx.outcome().is_none()),
            }
        }
        match me {
            Some((ctx, case)) => {
                st.offers.push(Offer {
                    ctx: ctx.clone(),
                    case,
                });
                BarrierPoll::Pending
            }
            None => BarrierPoll::NotReady,
        }
    }

    /// Whether the barrier crosses OS processes (an alt offers on it).
    pub(crate) fn crosses(&self) -> bool {
        self.inner.crossing.get().is_some()
    }

    /// An alt's exclusive offer on a crossing barrier: waits as a plain `sync` until
    /// `until`; `true` if the barrier completed, `false` if not in time (withdrawn).
    pub(crate) fn offer(&self, until: Option<Instant>) -> bool {
        self.inner
            .crossing
            .get()
            .is_some_and(|shared| shared.sync(&self.home, until))
    }

    /// Withdraws an alt's offer.
    pub(crate) fn cancel(&self, ctx: &Arc<Context>) {
        let _oracle = oracle();
        sync::lock(&self.inner.state)
            .offers
            .retain(|o| !Arc::ptr_eq(&o.ctx, ctx));
    }
}

/// A barrier party as a process records it (see `process::Recorder`): what a forked
/// child needs to count the party under its own pid before its processes run.
#[derive(Clone)]
pub(crate) struct Party {
    inner: Arc<Inner>,
    home: Arc<std::sync::atomic::AtomicU32>,
}

impl std::fmt::Debug for Party {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Party")
            .field("barrier", &self.inner.name)
            .finish()
    }
}

impl Party {
    /// Counts the party under this process from now on, if the barrier crosses OS
    /// processes: a child that then dies before its first sync has its party resigned by
    /// the others (a party counted under the parent would be waited for forever).
    pub(crate) fn adopt_here(&self) {
        if let Some(shared) = self.inner.crossing.get() {
            shared.adopt_party(&self.home);
        }
    }
}

impl Enrolled {
    /// This party, as a process records it.
    pub(crate) fn party(&self) -> Party {
        Party {
            inner: self.inner.clone(),
            home: self.home.clone(),
        }
    }
}

impl Drop for Enrolled {
    /// Resigns: if every remaining party is already waiting, the barrier completes now.
    fn drop(&mut self) {
        let _oracle = oracle();
        if let Some(shared) = self.inner.crossing.get() {
            shared.resign(&self.home);
            return;
        }
        let mut st = sync::lock(&self.inner.state);
        st.enrolled = st.enrolled.saturating_sub(1);
        st.offers.retain(|o| o.ctx.outcome().is_none());
        if st.enrolled > 0 && st.offers.len() >= st.enrolled {
            if let Some(_claimed) = claim_all(&st.offers) {
                let offers = std::mem::take(&mut st.offers);
                drop(st);
                commit_all(offers);
            }
        }
    }
}

pub(crate) enum BarrierPoll {
    Ready,
    Pending,
    NotReady,
    Taken,
}

fn oracle() -> sync::MutexGuard<'static, ()> {
    sync::lock(&ORACLE)
}

/// Claims every offer's context, or none (releasing those claimed) if one is decided.
fn claim_all(offers: &[Offer]) -> Option<Vec<Arc<Context>>> {
    let mut claimed = Vec::with_capacity(offers.len());
    for o in offers {
        if o.ctx.try_claim() {
            claimed.push(o.ctx.clone());
        } else {
            for c in &claimed {
                c.unclaim();
            }
            return None;
        }
    }
    Some(claimed)
}

/// Commits every claimed offer to its barrier guard and wakes it.
fn commit_all(offers: Vec<Offer>) {
    for o in &offers {
        o.ctx.commit_claimed(Outcome::Selected(o.case));
    }
    for o in offers {
        o.ctx.unpark();
    }
}
