//! Where a process runs: [`Placement`], and the two forms of a process's body (run
//! here, or run elsewhere with its result sent back as bytes).
//!
//! Layer: process. The fork executor (in `parallel`) reads what is recorded here; this
//! module knows nothing of forking itself.

use super::{BoxError, ScopedProcess};
use crate::channel::Wire;

/// Where a process of a [`Parallel`](crate::Parallel) runs.
///
/// The default is `Thread`. [`ScopedProcess::forked`], [`ScopedProcess::in_group`] and
/// [`Parallel::forked`](crate::Parallel::forked) choose the others. Placement is honoured
/// by `Parallel::run`; [`Sequence`](crate::Sequence) and [`spawn`](crate::spawn) run
/// every process on a thread of the calling OS process whatever its placement.
///
/// ```
/// use csp::{Placement, Process};
/// let p = Process::from_fn("worker", || 1_u32);
/// assert_eq!(p.placement(), &Placement::Thread);
/// let p = p.in_group("pool");
/// assert_eq!(p.placement(), &Placement::Group("pool".into()));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Placement {
    /// An OS thread of the process that calls `run` (the default).
    #[default]
    Thread,
    /// An OS process of its own, forked by `run`.
    Fork,
    /// A forked OS process shared by every process of the same `Parallel` placed in the
    /// group of this name; inside it, each process runs on a thread (one alone runs on
    /// the child's main thread).
    Group(String),
    /// A green process: a coroutine of the network's green executor, which runs many
    /// of them on each of its worker threads (one per core), in the OS process that calls
    /// `run`. A wait on a channel suspends the coroutine and the worker runs another, so
    /// a rendezvous between green processes costs a few context switches and no system
    /// call, and a network can have hundreds of thousands of processes (each has a
    /// stack of its own, 64 KiB of address space by default, of which it touches only
    /// what it uses). Green and thread processes share channels freely.
    ///
    /// Choose it with [`ScopedProcess::green`] or
    /// [`Parallel::green`](crate::Parallel::green); see also
    /// [`Parallel::green_workers`](crate::Parallel::green_workers) and
    /// [`Parallel::green_stack`](crate::Parallel::green_stack).
    ///
    /// A green process must not block its OS thread for long (`std::thread::sleep`,
    /// blocking I/O, a nested `Parallel::run`): the other processes of its worker wait
    /// meanwhile. Channel operations, their timeouts and [`Timer`](crate::Timer) never
    /// block it.
    ///
    /// In a network that also forks (some process [`Fork`](Placement::Fork)ed or in a
    /// [`Group`](Placement::Group)), green processes run on threads for now: a channel
    /// shared with another OS process waits on a futex of its own, which would block a
    /// green worker and every process on it.
    ///
    /// ```
    /// use csp::{Channel, Parallel, Placement, Process};
    /// // A ring of 10,000 green processes passes a token around once.
    /// let n = 10_000;
    /// let chans: Vec<_> = (0..n).map(|_| Channel::<u64>::new().one2one()).collect();
    /// let (mut writers, mut readers): (Vec<_>, Vec<_>) = chans.into_iter().unzip();
    /// readers.rotate_left(1); // process i reads channel i - 1, writes channel i
    /// let mut net = Parallel::new();
    /// for (i, (tx, rx)) in writers.drain(..).zip(readers.drain(..)).enumerate().rev() {
    ///     net.push(Process::with_ends("node", (tx, rx), move |(tx, rx)| {
    ///         if i == n - 1 {
    ///             tx.write(0)?; // the last one starts the token...
    ///             return Ok(rx.read()?); // ...and gets it back, counted
    ///         }
    ///         let v = rx.read()?;
    ///         tx.write(v + 1)?;
    ///         Ok(0)
    ///     }).green());
    /// }
    /// let net = net.lint(csp::Lint::RendezvousCycle, csp::Level::Allow);
    /// assert_eq!(net.processes().next().unwrap().placement(), &Placement::Green);
    /// let results = net.run()?;
    /// assert_eq!(results[0], Some(n as u64 - 1));
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    Green,
}

impl Placement {
    /// Whether the process runs in a forked child.
    ///
    /// ```
    /// use csp::Placement;
    /// assert!(Placement::Fork.is_forked());
    /// assert!(Placement::Group("pool".into()).is_forked());
    /// assert!(!Placement::Thread.is_forked() && !Placement::Green.is_forked());
    /// ```
    pub fn is_forked(&self) -> bool {
        matches!(self, Placement::Fork | Placement::Group(_))
    }
}

/// A boxed body that may borrow for `'a`.
pub(crate) type LocalBody<'a, R> = Box<dyn FnOnce() -> Result<R, BoxError> + Send + 'a>;

/// What a process runs.
pub(crate) enum Body<'a, R> {
    /// Runs where its result is wanted.
    Local(LocalBody<'a, R>),
    /// Runs in another OS process: `run` gives the result encoded, `decode` turns the
    /// bytes back into it where it is wanted (a later `map` is applied there, in the
    /// parent, so only the body's own result type has to be serializable).
    Remote(Remote<'a, R>),
}

/// Turns the bytes a remote body gave back into its result.
pub(crate) type Decode<'a, R> = Box<dyn FnOnce(&[u8]) -> Result<R, BoxError> + Send + 'a>;

/// A body whose result travels as bytes.
pub(crate) struct Remote<'a, R> {
    pub(crate) run: LocalBody<'a, Vec<u8>>,
    pub(crate) decode: Decode<'a, R>,
}

impl<'a, R: 'a> Body<'a, R> {
    /// The body as one local closure (a remote one encodes and decodes on the spot).
    pub(crate) fn into_local(self) -> LocalBody<'a, R> {
        match self {
            Body::Local(body) => body,
            Body::Remote(Remote { run, decode }) => Box::new(move || decode(&run()?)),
        }
    }

    pub(crate) fn map<S: 'a>(self, f: impl FnOnce(R) -> S + Send + 'a) -> Body<'a, S> {
        match self {
            Body::Local(body) => Body::Local(Box::new(move || body().map(f))),
            Body::Remote(Remote { run, decode }) => Body::Remote(Remote {
                run,
                decode: Box::new(move |bytes| decode(bytes).map(f)),
            }),
        }
    }

    /// The body with its result encoded with postcard, the encoder and decoder captured
    /// now, while `R: Wire` is known.
    fn into_remote(self) -> Remote<'a, R>
    where
        R: Wire,
    {
        match self {
            Body::Remote(remote) => remote,
            Body::Local(body) => Remote {
                run: Box::new(move || Ok(postcard::to_allocvec(&body()?)?)),
                decode: Box::new(|bytes| Ok(postcard::from_bytes(bytes)?)),
            },
        }
    }
}

impl<'a, R: Wire> ScopedProcess<'a, R> {
    /// Runs this process in an OS process of its own, forked by
    /// [`Parallel::run`](crate::Parallel::run): a crash (a segfault, an abort, a
    /// `std::process::exit`) ends only it, and `run` reports it as a
    /// [`Failure`](crate::Failure) naming it. Its result comes back to the parent
    /// encoded with postcard, hence the `Serialize + DeserializeOwned` bound.
    ///
    /// Linux only. The program must still be single-threaded when `run` forks (see
    /// [`Parallel::forked`](crate::Parallel::forked)); a doctest is, being a program of
    /// its own.
    ///
    /// ```
    /// use csp::{Parallel, Process};
    /// let here = std::process::id();
    /// let pids = Parallel::new()
    ///     .add(Process::from_fn("away", std::process::id).forked())
    ///     .add(Process::from_fn("home", std::process::id))
    ///     .run()?;
    /// assert_ne!(pids[0], Some(here));
    /// assert_eq!(pids[1], Some(here));
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn forked(mut self) -> Self {
        self.place(Placement::Fork);
        self
    }

    /// Runs this process in the forked OS process of the group `name`, which every
    /// process of the same `Parallel` placed in that group shares (each on a thread of
    /// it). See [`forked`](Self::forked).
    ///
    /// ```
    /// use csp::{Parallel, Process};
    /// let pids = Parallel::new()
    ///     .add(Process::from_fn("a", std::process::id).in_group("pool"))
    ///     .add(Process::from_fn("b", std::process::id).in_group("pool"))
    ///     .run()?;
    /// assert_eq!(pids[0], pids[1]);
    /// assert_ne!(pids[0], Some(std::process::id()));
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn in_group(mut self, name: impl Into<String>) -> Self {
        self.place(Placement::Group(name.into()));
        self
    }

    fn place(&mut self, placement: Placement) {
        let body = std::mem::replace(&mut self.body, Body::Local(Box::new(|| unreachable())));
        self.body = Body::Remote(body.into_remote());
        self.placement = placement;
    }
}

/// The placeholder body that lives only while `place` swaps the real one.
fn unreachable<R>() -> Result<R, BoxError> {
    Err("a process body was lost while placing it".into())
}
