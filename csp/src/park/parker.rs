//! The seam between waiting and executing: how a waiter blocks, how it is woken, how a
//! process sleeps. Channel and alt code only ever call [`park`], [`sleep`] and
//! [`Unparker::unpark`]; which executor runs the process decides what those do.
//!
//! Today a process runs on an OS thread (`thread::park` / `Thread::unpark`) unless the
//! code running it installed a [`Parker`] of its own with [`with_parker`]: a green
//! executor (a coroutine yields to its scheduler; waking pushes it back on a run queue)
//! or a test executor.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use crate::sync;

/// An executor's way of blocking the process it runs now, and of waking it.
///
/// A waiter calls [`park`](Parker::park) in a loop until the state it waits for has
/// changed, so `park` may return early; a wake that comes before `park` must make the
/// next `park` return at once (as `std::thread::park` does with its token).
///
/// A parker made of a mutex and a condition variable, used for one closure:
///
/// ```
/// use std::sync::{Arc, Condvar, Mutex};
/// use std::task::{Wake, Waker};
/// use std::time::Duration;
/// use csp::executor::{with_parker, Parker};
///
/// #[derive(Default)]
/// struct CondvarParker {
///     woken: Mutex<bool>,
///     cv: Condvar,
/// }
///
/// impl Wake for CondvarParker {
///     fn wake(self: Arc<Self>) {
///         self.wake_by_ref()
///     }
///     fn wake_by_ref(self: &Arc<Self>) {
///         *self.woken.lock().unwrap() = true;
///         self.cv.notify_one();
///     }
/// }
///
/// struct Handle(Arc<CondvarParker>);
///
/// impl Parker for Handle {
///     fn park(&self, timeout: Option<Duration>) {
///         let mut woken = self.0.woken.lock().unwrap();
///         if !*woken {
///             woken = match timeout {
///                 Some(t) => self.0.cv.wait_timeout(woken, t).unwrap().0,
///                 None => self.0.cv.wait(woken).unwrap(),
///             };
///         }
///         *woken = false;
///     }
///     fn waker(&self) -> Waker {
///         Waker::from(self.0.clone())
///     }
/// }
///
/// let (tx, rx) = csp::Channel::<u32>::new().one2one();
/// let writer = std::thread::spawn(move || tx.write(42));
/// let parker = Arc::new(Handle(Arc::default()));
/// let got = with_parker(parker, || rx.read())?; // this read parks on the condvar
/// writer.join().unwrap()?;
/// assert_eq!(got, 42);
/// # Ok::<(), csp::ChannelError>(())
/// ```
pub trait Parker: Send + Sync {
    /// Blocks the running process until it is woken through [`waker`](Self::waker), or
    /// until `timeout` passes. May return early.
    ///
    /// ```
    /// # use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    /// # use std::sync::Arc;
    /// # use std::task::{Wake, Waker};
    /// # use std::time::Duration;
    /// # use csp::executor::{with_parker, Parker};
    /// # struct Unpark(std::thread::Thread);
    /// # impl Wake for Unpark {
    /// #     fn wake(self: Arc<Self>) {
    /// #         self.0.unpark()
    /// #     }
    /// # }
    /// /// Parks the OS thread as usual, and counts what the channel asks of it.
    /// #[derive(Default)]
    /// struct Counting {
    ///     parks: AtomicUsize,
    ///     wakers: AtomicUsize,
    /// }
    /// impl Parker for Counting {
    ///     fn park(&self, timeout: Option<Duration>) {
    ///         self.parks.fetch_add(1, SeqCst);
    ///         match timeout {
    ///             Some(t) => std::thread::park_timeout(t),
    ///             None => std::thread::park(),
    ///         }
    ///     }
    ///     fn waker(&self) -> Waker {
    ///         self.wakers.fetch_add(1, SeqCst);
    ///         Waker::from(Arc::new(Unpark(std::thread::current())))
    ///     }
    /// }
    /// let counting = Arc::new(Counting::default());
    /// let (tx, rx) = csp::Channel::<u8>::new().one2one();
    /// let seen = counting.clone();
    /// let writer = std::thread::spawn(move || {
    ///     while seen.parks.load(SeqCst) == 0 {
    ///         std::thread::yield_now(); // write only once the reader has parked
    ///     }
    ///     tx.write(7)
    /// });
    /// assert_eq!(with_parker(counting.clone(), || rx.read())?, 7); // waited through `park`
    /// writer.join().unwrap()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn park(&self, timeout: Option<Duration>);

    /// What wakes this parker (called once per wait, so keep it cheap).
    ///
    /// ```
    /// # use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    /// # use std::sync::Arc;
    /// # use std::task::{Wake, Waker};
    /// # use std::time::Duration;
    /// # use csp::executor::{with_parker, Parker};
    /// # struct Unpark(std::thread::Thread);
    /// # impl Wake for Unpark {
    /// #     fn wake(self: Arc<Self>) {
    /// #         self.0.unpark()
    /// #     }
    /// # }
    /// # /// Parks the OS thread as usual, and counts what the channel asks of it.
    /// # #[derive(Default)]
    /// # struct Counting {
    /// #     parks: AtomicUsize,
    /// #     wakers: AtomicUsize,
    /// # }
    /// # impl Parker for Counting {
    /// #     fn park(&self, timeout: Option<Duration>) {
    /// #         self.parks.fetch_add(1, SeqCst);
    /// #         match timeout {
    /// #             Some(t) => std::thread::park_timeout(t),
    /// #             None => std::thread::park(),
    /// #         }
    /// #     }
    /// #     fn waker(&self) -> Waker {
    /// #         self.wakers.fetch_add(1, SeqCst);
    /// #         Waker::from(Arc::new(Unpark(std::thread::current())))
    /// #     }
    /// # }
    /// # let counting = Arc::new(Counting::default());
    /// let (tx, rx) = csp::Channel::<u8>::new().one2one();
    /// let seen = counting.clone();
    /// let writer = std::thread::spawn(move || {
    ///     while seen.parks.load(SeqCst) == 0 {
    ///         std::thread::yield_now();
    ///     }
    ///     tx.write(7) // wakes the parked reader with the waker it left
    /// });
    /// // The reader asks for its waker before it parks, and registers it on the channel.
    /// let got = with_parker(counting.clone(), || rx.read())?;
    /// writer.join().unwrap()?;
    /// assert_eq!(got, 7);
    /// assert!(counting.wakers.load(SeqCst) >= 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn waker(&self) -> Waker;

    /// Whether a waiter should spin a little before parking, in case its partner is
    /// about to arrive from another core (the default, right for OS threads). An
    /// executor whose waiters' partners usually run on the same OS thread, after the
    /// waiter parks, says `false`: spinning would only delay them.
    ///
    /// ```
    /// # use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    /// # use std::sync::Arc;
    /// # use std::task::{Wake, Waker};
    /// # use std::time::Duration;
    /// # use csp::executor::{with_parker, Parker};
    /// # struct Unpark(std::thread::Thread);
    /// # impl Wake for Unpark {
    /// #     fn wake(self: Arc<Self>) {
    /// #         self.0.unpark()
    /// #     }
    /// # }
    /// # /// Parks the OS thread as usual, and counts what the channel asks of it.
    /// # #[derive(Default)]
    /// # struct Counting {
    /// #     parks: AtomicUsize,
    /// #     wakers: AtomicUsize,
    /// # }
    /// # impl Parker for Counting {
    /// #     fn park(&self, timeout: Option<Duration>) {
    /// #         self.parks.fetch_add(1, SeqCst);
    /// #         match timeout {
    /// #             Some(t) => std::thread::park_timeout(t),
    /// #             None => std::thread::park(),
    /// #         }
    /// #     }
    /// #     fn waker(&self) -> Waker {
    /// #         self.wakers.fetch_add(1, SeqCst);
    /// #         Waker::from(Arc::new(Unpark(std::thread::current())))
    /// #     }
    /// # }
    /// # let counting = Arc::new(Counting::default());
    /// assert!(counting.spins()); // the default: right for waiters on OS threads
    /// struct NoSpin(Counting);
    /// impl Parker for NoSpin {
    ///     fn park(&self, timeout: Option<Duration>) {
    ///         self.0.park(timeout)
    ///     }
    ///     fn waker(&self) -> Waker {
    ///         self.0.waker()
    ///     }
    ///     fn spins(&self) -> bool {
    ///         false // partners run on this thread: spinning would only delay them
    ///     }
    /// }
    /// let (tx, rx) = csp::Channel::<u8>::new().one2one();
    /// let writer = std::thread::spawn(move || tx.write(1));
    /// assert_eq!(with_parker(Arc::new(NoSpin(Counting::default())), || rx.read())?, 1);
    /// writer.join().unwrap()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn spins(&self) -> bool {
        true
    }

    /// Blocks the running process for `d`. The default parks until `d` has passed; a
    /// green executor runs other processes meanwhile.
    ///
    /// ```
    /// # use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    /// # use std::sync::Arc;
    /// # use std::task::{Wake, Waker};
    /// # use std::time::Duration;
    /// # use csp::executor::{with_parker, Parker};
    /// # struct Unpark(std::thread::Thread);
    /// # impl Wake for Unpark {
    /// #     fn wake(self: Arc<Self>) {
    /// #         self.0.unpark()
    /// #     }
    /// # }
    /// # /// Parks the OS thread as usual, and counts what the channel asks of it.
    /// # #[derive(Default)]
    /// # struct Counting {
    /// #     parks: AtomicUsize,
    /// #     wakers: AtomicUsize,
    /// # }
    /// # impl Parker for Counting {
    /// #     fn park(&self, timeout: Option<Duration>) {
    /// #         self.parks.fetch_add(1, SeqCst);
    /// #         match timeout {
    /// #             Some(t) => std::thread::park_timeout(t),
    /// #             None => std::thread::park(),
    /// #         }
    /// #     }
    /// #     fn waker(&self) -> Waker {
    /// #         self.wakers.fetch_add(1, SeqCst);
    /// #         Waker::from(Arc::new(Unpark(std::thread::current())))
    /// #     }
    /// # }
    /// # let counting = Arc::new(Counting::default());
    /// let start = std::time::Instant::now();
    /// // `Timer::sleep` in a process sleeps through its executor's parker: by default it parks.
    /// with_parker(counting.clone(), || csp::Timer::sleep(Duration::from_millis(50)));
    /// assert!(start.elapsed() >= Duration::from_millis(50));
    /// assert!(counting.parks.load(SeqCst) >= 1);
    /// ```
    fn sleep(&self, d: Duration) {
        let end = sync::now() + d;
        loop {
            let now = sync::now();
            if now >= end {
                return;
            }
            self.park(Some(end - now));
        }
    }
}

thread_local! {
    /// In an `Rc`: a wait holds the parker while it parks (the parker's code runs
    /// then, and may switch to other code of this thread), and an `Rc` clone costs no
    /// atomic operation where an `Arc` clone costs two per wait.
    static PARKER: RefCell<Option<Rc<Arc<dyn Parker>>>> = const { RefCell::new(None) };
}

/// Runs `f` with `parker` as the way this thread's waits block, then restores the
/// previous one (also if `f` panics).
///
/// ```
/// # use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
/// # use std::sync::Arc;
/// # use std::task::{Wake, Waker};
/// # use std::time::Duration;
/// # use csp::executor::{with_parker, Parker};
/// # struct Unpark(std::thread::Thread);
/// # impl Wake for Unpark {
/// #     fn wake(self: Arc<Self>) {
/// #         self.0.unpark()
/// #     }
/// # }
/// # /// Parks the OS thread as usual, and counts what the channel asks of it.
/// # #[derive(Default)]
/// # struct Counting {
/// #     parks: AtomicUsize,
/// #     wakers: AtomicUsize,
/// # }
/// # impl Parker for Counting {
/// #     fn park(&self, timeout: Option<Duration>) {
/// #         self.parks.fetch_add(1, SeqCst);
/// #         match timeout {
/// #             Some(t) => std::thread::park_timeout(t),
/// #             None => std::thread::park(),
/// #         }
/// #     }
/// #     fn waker(&self) -> Waker {
/// #         self.wakers.fetch_add(1, SeqCst);
/// #         Waker::from(Arc::new(Unpark(std::thread::current())))
/// #     }
/// # }
/// # let counting = Arc::new(Counting::default());
/// let (tx, rx) = csp::Channel::<u8>::new().one2one();
/// let seen = counting.clone();
/// let writer = std::thread::spawn(move || -> Result<(), csp::BoxError> {
///     while seen.parks.load(SeqCst) == 0 {
///         std::thread::yield_now();
///     }
///     tx.write(1)?; // the read inside `with_parker` parked through `counting`...
///     Ok(tx.write(2)?)
/// });
/// assert_eq!(with_parker(counting.clone(), || rx.read())?, 1);
/// let inside = counting.parks.load(SeqCst);
/// assert_eq!(rx.read()?, 2); // ...this one, outside, waits the thread's own way
/// assert_eq!(counting.parks.load(SeqCst), inside);
/// writer.join().unwrap()?;
/// # Ok::<(), csp::BoxError>(())
/// ```
pub fn with_parker<R>(parker: Arc<dyn Parker>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Rc<Arc<dyn Parker>>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            let _ = PARKER.try_with(|p| p.replace(previous));
        }
    }
    let _restore = Restore(PARKER.with(|p| p.replace(Some(Rc::new(parker)))));
    f()
}

fn current() -> Option<Rc<Arc<dyn Parker>>> {
    PARKER.try_with(|p| p.borrow().clone()).ok().flatten()
}

/// Whether the running process's waits spin before parking (see [`Parker::spins`]).
pub(crate) fn spins() -> bool {
    PARKER
        .try_with(|p| p.borrow().as_ref().map_or(true, |p| p.spins()))
        .unwrap_or(true)
}

/// How to wake one waiter: captured when it starts waiting, used by whoever completes it.
pub(crate) enum Unparker {
    /// An OS thread blocked in `thread::park`.
    Thread(sync::Thread),
    /// A process of an executor's own, blocked in its [`Parker`].
    Executor(Waker),
}

impl Unparker {
    /// The unparker of the process running on this thread now.
    pub(crate) fn current() -> Unparker {
        // Borrowed, not cloned: `waker` does not wait, so nothing can replace the
        // parker meanwhile, and an `Arc` clone would cost two atomic operations a wait.
        let waker = PARKER
            .try_with(|p| p.borrow().as_ref().map(|p| p.waker()))
            .ok()
            .flatten();
        match waker {
            Some(w) => Unparker::Executor(w),
            None => Unparker::Thread(sync::current_thread()),
        }
    }

    pub(crate) fn unpark(&self) {
        match self {
            Unparker::Thread(t) => t.unpark(),
            Unparker::Executor(w) => w.wake_by_ref(),
        }
    }
}

/// Blocks the running process until it is unparked or `timeout` passes (may return
/// early: callers loop on their own condition).
pub(crate) fn park(timeout: Option<Duration>) {
    match current() {
        Some(p) => p.park(timeout),
        None => sync::park(timeout),
    }
}

/// Blocks the running process for `d`.
pub(crate) fn sleep(d: Duration) {
    match current() {
        Some(p) => p.sleep(d),
        None => sync::sleep(d),
    }
}
