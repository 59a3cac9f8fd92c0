//! Ways of running the parties of a test suite: each suite that states channel semantics
//! is included once per placement, so every case runs on every placement. A suite's
//! parties return nothing and observe each other through [`crate::shared`], so that the
//! same case runs on threads and in forked OS processes.

use std::any::Any;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Wake, Waker};
use std::thread::JoinHandle;
use std::time::Duration;

use csp::executor::{with_parker, Parker};
use csp::{ChannelError, Input, Output, SharedInput, SharedOutput};

mod forked;
mod green;

pub use forked::{run_suite, Forked, Suite};
pub use green::{Green, GreenParties};

/// A way to run a test's concurrent parties.
///
/// ```
/// use csp::Channel;
/// use csp_tests::placement::{Placement, Threads};
///
/// fn echo<P: Placement>() {
///     let (tx, rx) = P::share(Channel::<u32>::new().one2one());
///     let writer = P::spawn(move || tx.write(7).unwrap());
///     assert_eq!(rx.read(), Ok(7));
///     writer.join().unwrap();
/// }
/// Threads::watchdog(60, "echo", echo::<Threads>);
/// ```
pub trait Placement {
    /// Starts `f` as a party of its own.
    fn spawn(f: impl FnOnce() + Send + 'static) -> Party;

    /// Runs a test body, failing the test if it hangs (see [`watchdog`](crate::watchdog)).
    fn watchdog<R: Send + 'static>(
        secs: u64,
        name: &str,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> R;

    /// Prepares a new channel's ends for this placement's parties (a forked placement
    /// moves the channel into shared memory); gives them back.
    fn share<E: ChannelEnds>(ends: E) -> E;

    /// Prepares a new barrier for this placement's parties (a forked placement moves it
    /// into shared memory); gives it back.
    fn share_barrier(barrier: csp::Barrier) -> csp::Barrier {
        barrier
    }
}

/// The two ends of a channel, as its builder returns them.
///
/// ```
/// use csp_tests::placement::ChannelEnds;
/// let ends = csp::Channel::<u32>::new().fifo(2).any2one();
/// // Fails where there is no shared-memory flavour; either way the ends stay usable.
/// let _ = ends.share_with_forks();
/// ends.0.write(1)?;
/// assert_eq!(ends.1.read()?, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait ChannelEnds {
    /// Moves the channel into memory shared with processes forked afterwards (see
    /// `Output::share_with_forks`).
    fn share_with_forks(&self) -> Result<(), ChannelError>;
}

impl<T: 'static> ChannelEnds for (Output<T>, Input<T>) {
    fn share_with_forks(&self) -> Result<(), ChannelError> {
        self.0.share_with_forks()
    }
}

impl<T: 'static> ChannelEnds for (SharedOutput<T>, Input<T>) {
    fn share_with_forks(&self) -> Result<(), ChannelError> {
        self.0.share_with_forks()
    }
}

impl<T: 'static> ChannelEnds for (Output<T>, SharedInput<T>) {
    fn share_with_forks(&self) -> Result<(), ChannelError> {
        self.0.share_with_forks()
    }
}

impl<T: 'static> ChannelEnds for (SharedOutput<T>, SharedInput<T>) {
    fn share_with_forks(&self) -> Result<(), ChannelError> {
        self.0.share_with_forks()
    }
}

/// A started party, to be joined.
///
/// ```
/// use csp_tests::placement::{Placement, Threads};
/// assert!(Threads::spawn(|| ()).join().is_ok());
/// let failed = Threads::spawn(|| panic!("on purpose")).join().unwrap_err();
/// assert!(failed.to_string().contains("on purpose"));
/// ```
pub struct Party(Kind);

enum Kind {
    Thread(JoinHandle<()>),
    Forked(forked::Child),
}

impl Party {
    /// Waits for the party to end; fails if it panicked (or, forked, ended otherwise
    /// than by returning).
    pub fn join(self) -> Result<(), PartyFailed> {
        match self.0 {
            Kind::Thread(t) => t
                .join()
                .map_err(|payload| PartyFailed::Panicked(panic_message(&*payload))),
            Kind::Forked(child) => child.join(),
        }
    }
}

/// How a party failed.
#[derive(Debug, thiserror::Error)]
pub enum PartyFailed {
    /// A thread's closure panicked.
    #[error("the party panicked: {0}")]
    Panicked(String),
    /// A forked party's closure panicked (its message is on stderr), or its process
    /// ended with another non-zero status.
    #[error("case {case}: forked party {pid} exited with status {status}")]
    Exited {
        case: &'static str,
        pid: i32,
        status: i32,
    },
    /// A forked party was killed.
    #[error("case {case}: forked party {pid} was killed by {signal}")]
    Killed {
        case: &'static str,
        pid: i32,
        signal: String,
    },
    /// The harness could not wait for a forked party.
    #[error("case {case}: waiting for forked party {pid}: {message}")]
    Wait {
        case: &'static str,
        pid: i32,
        message: String,
    },
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    match (
        payload.downcast_ref::<&str>(),
        payload.downcast_ref::<String>(),
    ) {
        (Some(s), _) => (*s).to_owned(),
        (_, Some(s)) => s.clone(),
        _ => "(not a string)".to_owned(),
    }
}

/// Plain OS threads, parked with `thread::park`.
pub struct Threads;

impl Placement for Threads {
    fn spawn(f: impl FnOnce() + Send + 'static) -> Party {
        Party(Kind::Thread(std::thread::spawn(f)))
    }

    fn watchdog<R: Send + 'static>(
        secs: u64,
        name: &str,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> R {
        crate::watchdog(secs, name, f)
    }

    fn share<E: ChannelEnds>(ends: E) -> E {
        ends
    }
}

/// OS threads whose channel waits block in a [`CondvarParker`] installed through the
/// executor seam, not in `thread::park`.
pub struct CondvarParked;

impl Placement for CondvarParked {
    fn spawn(f: impl FnOnce() + Send + 'static) -> Party {
        Party(Kind::Thread(std::thread::spawn(move || {
            with_parker(CondvarParker::installable(), f)
        })))
    }

    fn watchdog<R: Send + 'static>(
        secs: u64,
        name: &str,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> R {
        crate::watchdog(secs, name, move || {
            with_parker(CondvarParker::installable(), f)
        })
    }

    fn share<E: ChannelEnds>(ends: E) -> E {
        ends
    }
}

/// A parker made of a mutex and a condition variable; counts its parks.
#[derive(Default)]
pub struct CondvarParker {
    woken: Mutex<bool>,
    cv: Condvar,
    parks: AtomicUsize,
}

impl CondvarParker {
    /// A fresh parker, ready for `with_parker`.
    pub fn installable() -> Arc<dyn Parker> {
        Self::counted().0
    }

    /// A fresh parker and the number of times it has parked so far.
    pub fn counted() -> (Arc<dyn Parker>, impl Fn() -> usize) {
        let inner = Arc::new(CondvarParker::default());
        let count = inner.clone();
        let parker: Arc<dyn Parker> = Arc::new(Handle(inner));
        (parker, move || count.parks.load(Ordering::Relaxed))
    }
}

impl Wake for CondvarParker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        *self.woken.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.cv.notify_one();
    }
}

struct Handle(Arc<CondvarParker>);

impl Parker for Handle {
    fn park(&self, timeout: Option<Duration>) {
        let p = &self.0;
        p.parks.fetch_add(1, Ordering::Relaxed);
        let mut woken = p.woken.lock().unwrap_or_else(PoisonError::into_inner);
        if !*woken {
            woken = match timeout {
                Some(t) => {
                    p.cv.wait_timeout(woken, t)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => p.cv.wait(woken).unwrap_or_else(PoisonError::into_inner),
            };
        }
        *woken = false;
    }

    fn waker(&self) -> Waker {
        Waker::from(self.0.clone())
    }
}
