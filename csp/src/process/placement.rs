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
    /// block it; wrap a blocking call in [`block_in_place`](crate::block_in_place).
    ///
    /// A green process that overflows its stack kills the program with `SIGSEGV`, after
    /// writing ``csp: green process `NAME` overflowed its stack of N KiB`` to stderr;
    /// give it a larger one with [`ScopedProcess::green_stack`].
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

/// The smallest stack a green process may ask for: below it, the process's own
/// frames, a panic's unwinding and the runtime's bookkeeping do not fit.
///
/// ```
/// use csp::process::GREEN_STACK_MIN;
/// use csp::{Parallel, Process};
/// let net = Parallel::new().add(Process::from_fn("p", || 0).green_stack(GREEN_STACK_MIN));
/// assert!(net.validate().is_ok());
/// let net = Parallel::new().add(Process::from_fn("p", || 0).green_stack(GREEN_STACK_MIN - 1));
/// assert!(!net.validate().is_ok());
/// ```
pub const GREEN_STACK_MIN: usize = 16 * 1024;

/// The largest stack a green process may ask for (1 GiB). Address space only (a
/// stack takes memory as it is touched), but a larger request is surely a mistake in
/// units; a process that needs more should run on a thread.
///
/// ```
/// use csp::process::GREEN_STACK_MAX;
/// use csp::{Parallel, Process};
/// let net = Parallel::new().add(Process::from_fn("p", || 0)).green().green_stack(GREEN_STACK_MAX + 1);
/// assert_eq!(net.validate().errors()[0].processes, vec!["p"]);
/// ```
pub const GREEN_STACK_MAX: usize = 1024 * 1024 * 1024;

impl<'a, R: 'a> ScopedProcess<'a, R> {
    /// Runs this process as a green process (see [`Placement::Green`]) when a
    /// [`Parallel`](crate::Parallel) runs it.
    ///
    /// ```
    /// use csp::{Channel, Parallel, Placement, Process};
    /// let (tx, rx) = Channel::<u32>::new().one2one();
    /// let green = Process::with_ends("green", tx, |tx| Ok(tx.write(7)?)).green();
    /// assert_eq!(green.placement(), &Placement::Green);
    /// // A green process and a thread process share a channel.
    /// let thread = Process::with_ends("thread", rx, |rx| Ok(rx.read()?));
    /// let results = Parallel::new().add(green.map(|()| 0)).add(thread).run()?;
    /// assert_eq!(results, vec![Some(0), Some(7)]);
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn green(mut self) -> Self {
        self.placement = Placement::Green;
        self
    }

    /// Runs this process as a green process (see [`green`](Self::green)) on a stack of
    /// at least `bytes` usable bytes, instead of its network's default
    /// ([`Parallel::green_stack`](crate::Parallel::green_stack), 64 KiB unless set).
    /// Stacks come in size classes (powers of two), so the stack may be larger than
    /// asked. `bytes` must lie within [`GREEN_STACK_MIN`]..=[`GREEN_STACK_MAX`]:
    /// [`Parallel::run`](crate::Parallel::run) refuses the network otherwise, naming
    /// the process.
    ///
    /// ```
    /// use csp::{Parallel, Process};
    /// fn depth(n: u32) -> u32 {
    ///     let pad = std::hint::black_box([n as u8; 512]); // stack the optimiser keeps
    ///     if n == 0 { 0 } else { depth(n - 1) + 1 + u32::from(pad[0] != n as u8) }
    /// }
    /// let results = Parallel::new()
    ///     .add(Process::from_fn("deep", || depth(2_000)).green_stack(4 << 20))
    ///     .add(Process::from_fn("shallow", || depth(10)).green())
    ///     .run()?;
    /// assert_eq!(results, vec![Some(2_000), Some(10)]);
    ///
    /// // Too small: refused before anything runs.
    /// let err = Parallel::new()
    ///     .add(Process::from_fn("tiny", || 0).green_stack(1024))
    ///     .run()
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("'tiny'"), "{err}");
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn green_stack(mut self, bytes: usize) -> Self {
        self.placement = Placement::Green;
        self.green_stack = Some(bytes);
        self
    }

    /// The stack size asked for with [`green_stack`](Self::green_stack), if any.
    pub(crate) fn green_stack_request(&self) -> Option<usize> {
        self.green_stack
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
