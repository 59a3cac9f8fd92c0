//! Running processes: [`Parallel`] (all at once, results back), [`Sequence`] (one after
//! another), [`spawn`] (detached, joinable), and [`par!`](crate::par) for results of
//! different types.
//!
//! `Parallel::run` goes through these steps: **plan** (name every process uniquely,
//! apply [`Parallel::forked`]), **validate** (the topology layer checks the network
//! here), **fork** (only if some process is placed in a forked OS process, see
//! [`Placement`](crate::Placement): refuse a multi-threaded program, share the channels
//! that cross, fork every child before any thread starts; `fork/`), **start** (one OS
//! thread per thread process, named after it), **supervise** (react to each process's
//! completion as it happens, a forked one's as its child reports it: a failure poisons
//! that process's channels at once, so the rest of the network ends instead of waiting
//! for a partner that is gone).

#[cfg(target_os = "linux")]
mod fork;
mod green_net;
mod par;
mod sequence;
mod supervise;

pub use par::ParTuple;
pub use sequence::{spawn, Sequence, Spawned};

use std::collections::HashMap;

pub(crate) mod error;

pub use self::error::{Deadlock, ForkError, NetworkError, Operation, Waiting};
use crate::channel::Wire;
use crate::green;
use crate::process::{Ends, Recorder, ScopedProcess};
use crate::topology::{Declarations, Level, Lint, Report, Topology};

/// Processes run in parallel; `run` waits for all of them and returns their results in
/// the order they were added.
///
/// ```
/// use csp::{Channel, Parallel, Process};
///
/// let (tx, rx) = Channel::<u64>::new().one2one();
/// let results = Parallel::new()
///     .add(Process::with_ends("count", tx, |tx| {
///         for i in 1..=100 {
///             tx.write(i)?;
///         }
///         Ok(0) // dropping `tx` retires the channel: the sum below ends
///     }))
///     .add(Process::with_ends("sum", rx, |rx| Ok(rx.iter().sum())))
///     .run()?;
/// assert_eq!(results, vec![Some(0), Some(5050)]);
/// # Ok::<(), csp::NetworkError>(())
/// ```
///
/// A result is `None` for a process that stopped because a channel it used was poisoned
/// (a deliberate way to end a network, so `run` still returns `Ok`). A process that panics
/// or returns an error makes `run` return [`NetworkError::Failed`] naming it.
///
/// A `Parallel` dropped without running drops its processes, and with them the ends
/// they hold: those ends *retire* (as any dropped end does), so a partner outside sees
/// a finished stream, not an abort. Poison them first if that is not what you mean.
///
/// ```
/// use csp::{Channel, ChannelError, Parallel, Process};
/// let (tx, rx) = Channel::<u8>::new().one2one();
/// let never_run: Parallel<()> = Parallel::new().add(Process::with_ends("w", tx, |tx| Ok(tx.write(1)?)));
/// drop(never_run);
/// assert!(matches!(rx.read(), Err(ChannelError::Retired { .. })));
/// ```
pub struct Parallel<'a, R = ()> {
    procs: Vec<ScopedProcess<'a, R>>,
    declarations: Declarations,
    /// Set when this network runs as a process of an outer one, which validated the
    /// whole (its channels to the outer processes would look dangling from here).
    nested: bool,
    detect_deadlock: bool,
    /// Set by [`forked`](Self::forked): places a process there, captured while
    /// `R: Wire` was known.
    fork_all: Option<fn(ScopedProcess<'a, R>) -> ScopedProcess<'a, R>>,
    /// Set by [`green`](Self::green): processes on threads run green instead.
    green_all: bool,
    /// How the green processes run (workers, stack size).
    green: green::Config,
}

impl<'a, R: Wire> Parallel<'a, R> {
    /// Runs every process of this network that has no placement of its own in an OS
    /// process of its own, forked by [`run`](Self::run) (processes placed with
    /// [`ScopedProcess::in_group`] keep their group). See [`Placement`](crate::Placement).
    ///
    /// Forking is Linux only, and `run` refuses ([`ForkError::Threads`]) unless the
    /// program is still single-threaded: a forked child gets a copy of every lock
    /// another thread held at that moment, and could wait on it forever. Run such a
    /// network before starting threads (first thing in `main`), or, in tests, from a
    /// `harness = false` test binary. Doctests are programs of their own, so they can.
    /// `run` forks every child before it starts any thread; each child dies with the
    /// parent (`PR_SET_PDEATHSIG`), and a child that crashes is reported as a
    /// [`Failure`](crate::Failure) (`Killed`, `Exited`) naming its processes, whose
    /// channels are then poisoned so the rest of the network ends.
    ///
    /// Results come back encoded with postcard, hence `R: Serialize +
    /// DeserializeOwned`. The deadlock check is off for a network with forked processes.
    ///
    /// A nested network (see [`into_process`](Self::into_process)) with forked
    /// processes forks when it runs, so it must run single-threaded too: fork the nested
    /// network as a whole (it then runs alone on its child's main thread). Run on a
    /// thread of its parent network, it is refused with [`ForkError::Threads`].
    ///
    /// ```
    /// use csp::{Parallel, Process};
    /// let squares = (1..=3_u64)
    ///     .map(|i| Process::from_fn("square", move || (i * i, std::process::id())))
    ///     .collect::<Parallel<_>>()
    ///     .forked()
    ///     .run()?;
    /// let values: Vec<u64> = squares.iter().map(|r| r.unwrap().0).collect();
    /// assert_eq!(values, [1, 4, 9]);
    /// assert!(squares.iter().all(|r| r.unwrap().1 != std::process::id()));
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn forked(mut self) -> Self {
        self.fork_all = Some(ScopedProcess::forked);
        self
    }
}

impl<'a, R: Send + 'a> Parallel<'a, R> {
    /// An empty parallel.
    ///
    /// ```
    /// use csp::Parallel;
    /// let empty: Parallel<u8> = Parallel::new();
    /// assert!(empty.is_empty());
    /// assert_eq!(empty.run()?, vec![]); // nothing to wait for
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn new() -> Self {
        Parallel {
            procs: Vec::new(),
            declarations: Declarations::default(),
            nested: false,
            detect_deadlock: true,
            fork_all: None,
            green_all: false,
            green: green::Config::default(),
        }
    }

    /// Adds a process (builder style).
    // A builder step, not arithmetic: `Parallel + Process` would read worse.
    #[allow(clippy::should_implement_trait)]
    ///
    /// ```
    /// use csp::{Parallel, Process};
    /// let results = Parallel::new()
    ///     .add(Process::from_fn("two", || 2))
    ///     .add(Process::from_fn("three", || 3))
    ///     .run()?;
    /// assert_eq!(results, vec![Some(2), Some(3)]); // in the order added
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn add(mut self, p: ScopedProcess<'a, R>) -> Self {
        self.procs.push(p);
        self
    }

    /// Adds a process.
    ///
    /// ```
    /// use csp::{Parallel, Process};
    /// let mut net = Parallel::new();
    /// for i in 0..3_u32 {
    ///     net.push(Process::from_fn("square", move || i * i)); // in a loop: no rebinding
    /// }
    /// assert_eq!(net.run()?, vec![Some(0), Some(1), Some(4)]);
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn push(&mut self, p: ScopedProcess<'a, R>) {
        self.procs.push(p);
    }

    /// The number of processes.
    ///
    /// ```
    /// use csp::{Parallel, Process};
    /// let net: Parallel<()> = (0..4).map(|_| Process::from_fn("worker", || ())).collect();
    /// assert_eq!(net.len(), 4);
    /// ```
    pub fn len(&self) -> usize {
        self.procs.len()
    }

    /// Whether there is no process.
    ///
    /// ```
    /// let net: csp::Parallel<()> = std::iter::empty().collect();
    /// assert!(net.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.procs.is_empty()
    }

    /// The processes, in order. Processes collected from an iterator are named uniquely
    /// already (a replicated `worker` becomes `worker[0]`, `worker[1]`, ...); those
    /// added with [`add`](Self::add) or [`push`](Self::push) keep their names until
    /// `run` (or [`topology`](Self::topology)) names them so.
    ///
    /// ```
    /// use csp::{Parallel, Process};
    /// let collected: Parallel<()> = (0..2).map(|_| Process::from_fn("worker", || ())).collect();
    /// let names: Vec<&str> = collected.processes().map(|p| p.name()).collect();
    /// assert_eq!(names, ["worker[0]", "worker[1]"]);
    /// let added: Parallel<()> = Parallel::new()
    ///     .add(Process::from_fn("worker", || ()))
    ///     .add(Process::from_fn("worker", || ()));
    /// let names: Vec<&str> = added.processes().map(|p| p.name()).collect();
    /// assert_eq!(names, ["worker", "worker"]); // renamed when it runs
    /// assert_eq!(added.topology().process_names(), ["worker[0]", "worker[1]"]);
    /// ```
    pub fn processes(&self) -> impl Iterator<Item = &ScopedProcess<'a, R>> {
        self.procs.iter()
    }

    /// Declares `ends`' channels part of the network's boundary: their other side is held
    /// outside the network (by the caller of `run`), so validation does not call them
    /// dangling.
    ///
    /// ```
    /// use csp::components::generate;
    /// use csp::{Channel, Parallel};
    /// let (tx, rx) = Channel::<u32>::new().fifo(4).one2one();
    /// Parallel::new().add(generate(1..=3, tx)).boundary(&rx).run()?;
    /// assert_eq!(rx.iter().sum::<u32>(), 6); // main reads what the network wrote
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn boundary(mut self, ends: &impl Ends) -> Self {
        self.declarations.boundary.extend(channel_ids(ends));
        self
    }

    /// Declares client->server channels: `requests` (clients write, servers read) and
    /// `replies` (servers answer; `&()` if replies travel inside the requests). Validation
    /// then checks the client-server design rule; see [`crate::topology`].
    ///
    /// ```
    /// use csp::{Channel, Parallel, Process};
    /// let (ask, asked) = Channel::<u32>::new().named("ask").one2one();
    /// let (answer, answered) = Channel::<u32>::new().named("answer").one2one();
    /// let net = Parallel::new()
    ///     .client_server(&ask, &answer)
    ///     .add(Process::with_ends("client", (ask, answered), |(ask, answered)| {
    ///         ask.write(20)?;
    ///         Ok(answered.read()?)
    ///     }))
    ///     .add(Process::with_ends("server", (asked, answer), |(asked, answer)| {
    ///         for q in &asked {
    ///             answer.write(q + 1)?;
    ///         }
    ///         Ok(0)
    ///     }));
    /// let report = net.validate();
    /// assert!(report.deadlock_free().is_some()); // no rendezvous-cycle warning either
    /// assert_eq!(net.run()?, vec![Some(21), Some(0)]);
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn client_server(mut self, requests: &impl Ends, replies: &impl Ends) -> Self {
        self.declarations
            .client_server
            .push((channel_ids(requests), channel_ids(replies)));
        self
    }

    /// Sets how a kind of warning is treated: allowed, warned (the default) or denied.
    ///
    /// ```
    /// use csp::{Level, Lint, Parallel, Process};
    /// let quiet: Parallel<()> = Parallel::new()
    ///     .add(Process::from_fn("tick", || ()))
    ///     .lint(Lint::NoChannels, Level::Allow);
    /// assert!(quiet.validate().problems().is_empty());
    /// ```
    pub fn lint(mut self, lint: Lint, level: Level) -> Self {
        self.declarations.levels.push((lint, level));
        self
    }

    /// The network's processes (nested networks flattened) and channels, to inspect,
    /// draw or export.
    ///
    /// ```
    /// use csp::components::{generate, sink};
    /// use csp::{Channel, Parallel};
    /// let (tx, rx) = Channel::<u8>::new().named("bytes").one2one();
    /// let net: Parallel<()> = Parallel::new().add(generate(0..3, tx)).add(sink(rx).map(|_| ()));
    /// let dot = net.topology().to_dot();
    /// assert!(dot.contains("p0 -> p1 [label=\"bytes\"]"));
    /// ```
    pub fn topology(&self) -> Topology {
        let names = planned_names(&self.procs);
        // A network that forks runs its green processes on threads (see `Placement::Green`).
        let forks = self.procs.iter().any(|p| p.placement().is_forked());
        let nodes = self
            .procs
            .iter()
            .zip(&names)
            .flat_map(|(p, name)| {
                let mut nodes = p.nodes(name);
                if p.nested.is_none() && self.runs_green(p) && !forks {
                    let stack = p.green_stack_request().unwrap_or(self.green.stack_size);
                    nodes.iter_mut().for_each(|n| n.green_stack = Some(stack));
                }
                nodes
            })
            .collect();
        Topology::new(nodes, self.declarations.clone())
    }

    /// Checks the network without running it: the report `run` would act on.
    ///
    /// ```
    /// use csp::components::generate;
    /// use csp::{Channel, Parallel};
    /// let (tx, _rx) = Channel::<u8>::new().named("lost").one2one();
    /// let report = Parallel::new().add(generate(0..3, tx)).validate();
    /// assert!(!report.is_ok());
    /// assert_eq!(report.errors()[0].channels, vec!["lost"]);
    /// ```
    pub fn validate(&self) -> Report {
        self.topology().validate()
    }

    /// Runs every process, each where it is placed (its own OS thread by default; see
    /// [`Placement`](crate::Placement)), and waits for all of them. The network is validated first; if
    /// it has errors, nothing runs, the processes' channels are poisoned (so nothing
    /// outside waits for them), and the report comes back in [`NetworkError::Invalid`].
    /// A network with forked processes may also be refused with
    /// [`NetworkError::Fork`] (see [`forked`](Self::forked)).
    ///
    /// ```
    /// use csp::{Channel, NetworkError, Parallel, Process};
    /// let (tx, rx) = Channel::<u8>::new().named("lonely").one2one();
    /// // Refused before anything runs: nobody in the network reads "lonely".
    /// let err = Parallel::new()
    ///     .add(Process::with_ends("writer", tx, |tx| Ok(tx.write(1)?)))
    ///     .run()
    ///     .unwrap_err();
    /// let NetworkError::Invalid(report) = &err else { panic!("{err}") };
    /// assert_eq!(report.errors()[0].channels, ["lonely"]);
    /// assert!(rx.read().unwrap_err().is_poisoned()); // so nothing outside waits for it
    /// ```
    pub fn run(mut self) -> Result<Vec<Option<R>>, NetworkError> {
        self.place_all();
        let topology = self.topology();
        if !self.nested {
            let report = topology.validate();
            if !report.is_ok() {
                self.poison_all();
                return Err(NetworkError::Invalid(report));
            }
        }
        if self.procs.iter().any(|p| p.placement().is_forked()) {
            return self.run_forked(&topology);
        }
        let watch = self.detect_deadlock
            && !self.nested
            && self.declarations.boundary.is_empty()
            && supervise::closed_world(&self.procs);
        let procs = plan(self.procs);
        supervise::supervise(procs, watch, self.green)
    }

    #[cfg(target_os = "linux")]
    fn run_forked(self, topology: &Topology) -> Result<Vec<Option<R>>, NetworkError> {
        fork::run(plan(self.procs), topology)
    }

    #[cfg(not(target_os = "linux"))]
    fn run_forked(self, _topology: &Topology) -> Result<Vec<Option<R>>, NetworkError> {
        self.poison_all();
        Err(ForkError::Unsupported.into())
    }

    /// Applies [`forked`](Self::forked) and [`green`](Self::green) to the processes
    /// without a placement.
    fn place_all(&mut self) {
        if self.green_all {
            for p in &mut self.procs {
                if p.placement() == &crate::Placement::Thread {
                    p.set_placement(crate::Placement::Green);
                }
            }
        }
        if let Some(place) = self.fork_all.take() {
            self.procs = std::mem::take(&mut self.procs)
                .into_iter()
                .map(|p| {
                    if p.placement() == &crate::Placement::Thread {
                        place(p)
                    } else {
                        p
                    }
                })
                .collect();
        }
    }

    fn poison_all(&self) {
        for p in &self.procs {
            ScopedProcess::<R>::poison_ends(p.ends());
        }
    }

    /// Turns the deadlock check of [`run`](Self::run) on (the default) or off.
    ///
    /// While a network runs, its caller's thread looks every few tens of milliseconds
    /// at what each process waits for. When every live process is parked, without a
    /// timeout, on a channel operation (a read, a write, a claim, an alt with no timeout
    /// guard) that nobody has completed, and it sees exactly the same waits twice in a
    /// row, no process of the network can ever wake another: `run` poisons the network's
    /// channels (so every process stops) and returns [`NetworkError::Deadlock`] naming
    /// each process and the channel it waits on. Go reports only that "all goroutines
    /// are asleep".
    ///
    /// The check runs only where it cannot be fooled: for a network that is not nested
    /// in another, has no [`boundary`](Self::boundary), and whose channels have no open
    /// ends held outside its processes (anyone outside could still wake them). Threads a
    /// process starts itself (rather than as processes of a nested `Parallel`) are
    /// invisible to it: a process parked on a channel that only such a thread will serve,
    /// while every other process waits too, would be reported. Turn the check off for
    /// such a network.
    ///
    /// ```
    /// use csp::{Channel, NetworkError, Parallel, Process};
    /// let (a_tx, a_rx) = Channel::<u8>::new().named("a").one2one();
    /// let (b_tx, b_rx) = Channel::<u8>::new().named("b").one2one();
    /// // Each reads before it writes: neither can ever go.
    /// let err = Parallel::new()
    ///     .add(Process::with_ends("left", (a_rx, b_tx), |(a, b)| {
    ///         let v = a.read()?;
    ///         Ok(b.write(v)?)
    ///     }))
    ///     .add(Process::with_ends("right", (b_rx, a_tx), |(b, a)| {
    ///         let v = b.read()?;
    ///         Ok(a.write(v)?)
    ///     }))
    ///     .lint(csp::Lint::RendezvousCycle, csp::Level::Allow)
    ///     .run()
    ///     .unwrap_err();
    /// let NetworkError::Deadlock(deadlock) = &err else { panic!("{err}") };
    /// assert_eq!(deadlock.waiting.len(), 2);
    /// assert_eq!(
    ///     err.to_string(),
    ///     "deadlock: every process waits for another: 'left' reads 'a'; 'right' reads 'b'"
    /// );
    /// ```
    pub fn detect_deadlock(mut self, on: bool) -> Self {
        self.detect_deadlock = on;
        self
    }

    /// This parallel as one process, to nest inside another network. The process can
    /// be placed like any other: `.forked()` runs the whole nested network in one child
    /// (whose own forked processes are then forked from that child, on its main thread).
    ///
    /// ```
    /// use csp::{Parallel, Process};
    /// let inner = Parallel::new()
    ///     .add(Process::from_fn("a", || 1))
    ///     .add(Process::from_fn("b", || 2));
    /// let outer = Parallel::new()
    ///     .add(inner.into_process("inner"))
    ///     .add(Process::from_fn("c", || vec![Some(3)]));
    /// assert_eq!(outer.run()?, vec![Some(vec![Some(1), Some(2)]), Some(vec![Some(3)])]);
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn into_process(mut self, name: impl Into<String>) -> ScopedProcess<'a, Vec<Option<R>>> {
        self.place_all();
        let topology = self.topology();
        let ends = topology
            .processes
            .iter()
            .flat_map(|n| n.ends.iter().cloned())
            .collect();
        self.nested = true;
        let mut p = ScopedProcess::new(name, move || self.run().map_err(Into::into));
        p.set_ends(ends);
        p.nested = Some(topology.processes);
        p
    }
}

impl<'a, R: Send + 'a> Default for Parallel<'a, R> {
    fn default() -> Self {
        Parallel::new()
    }
}

impl<'a, R: Send + 'a> FromIterator<ScopedProcess<'a, R>> for Parallel<'a, R> {
    /// Replicated processes: `(0..n).map(worker).collect::<Parallel<_>>()`.
    fn from_iter<I: IntoIterator<Item = ScopedProcess<'a, R>>>(iter: I) -> Self {
        Parallel {
            procs: plan(iter.into_iter().collect()),
            declarations: Declarations::default(),
            nested: false,
            detect_deadlock: true,
            fork_all: None,
            green_all: false,
            green: green::Config::default(),
        }
    }
}

impl<'a, R: Send + 'a> Extend<ScopedProcess<'a, R>> for Parallel<'a, R> {
    fn extend<I: IntoIterator<Item = ScopedProcess<'a, R>>>(&mut self, iter: I) {
        self.procs.extend(iter)
    }
}

/// Gives processes that share a name an index suffix, so every error names exactly one.
fn plan<'a, R: 'a>(mut procs: Vec<ScopedProcess<'a, R>>) -> Vec<ScopedProcess<'a, R>> {
    let names = planned_names(&procs);
    for (p, name) in procs.iter_mut().zip(names) {
        if p.name() != name {
            p.rename(name);
        }
    }
    procs
}

/// The names `plan` gives: `worker[0]`, `worker[1]`, ... for a name used more than once.
fn planned_names<R>(procs: &[ScopedProcess<'_, R>]) -> Vec<String> {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for p in procs {
        *count.entry(p.name()).or_default() += 1;
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    procs
        .iter()
        .map(|p| {
            let name = p.name();
            if count[name] > 1 {
                let i = seen.entry(name).or_default();
                *i += 1;
                format!("{name}[{}]", *i - 1)
            } else {
                name.to_string()
            }
        })
        .collect()
}

/// The ids of the channels whose ends `ends` holds.
fn channel_ids(ends: &impl Ends) -> Vec<u64> {
    let mut rec = Recorder::new();
    ends.record_ends(&mut rec);
    rec.into_ends().iter().map(|e| e.channel_id()).collect()
}
