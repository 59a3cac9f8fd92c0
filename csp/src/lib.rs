//! # csp — process networks with typed channels
//!
//! Write a concurrent program as a network of sequential **processes** that share
//! nothing and talk only over typed **channels** (Hoare's CSP, as in occam, JCSP, PyCSP
//! and Go). This crate gives you:
//!
//! - `#[process]`: a function becomes a process value, run later by a combinator;
//! - [`Channel`]: rendezvous by default, or buffered with a [`Policy`]; one2one ends that
//!   the compiler keeps unique, shared ends that clone; [`poison`](Output::poison) to abort
//!   and [`retire`](Output::retire) (or just drop an end) to finish;
//! - [`Parallel`], [`Sequence`], [`spawn`] and [`par!`] to run processes, with failures
//!   reported by process name and channels poisoned so nothing hangs.
//!
//! ## 1. Processes and channels
//!
//! A `#[process]` function returns a [`Process`]; nothing runs until a [`Parallel`] runs
//! it. Each process gets its own OS thread, named after it.
//!
//! ```
//! use csp::{process, Channel, ChannelError, Input, Output, Parallel};
//!
//! #[process]
//! fn numbers(n: u64, out: Output<u64>) -> Result<(), ChannelError> {
//!     for i in 1..=n {
//!         out.write(i)?; // rendezvous: returns once the reader has taken i
//!     }
//!     Ok(()) // `out` is dropped here: the channel retires and the reader's loop ends
//! }
//!
//! #[process]
//! fn total(input: Input<u64>) -> u64 {
//!     input.iter().sum()
//! }
//!
//! let (tx, rx) = Channel::<u64>::new().one2one();
//! let (_, sum) = csp::par!(numbers(100, tx), total(rx))?;
//! assert_eq!(sum, Some(5050));
//! # Ok::<(), csp::NetworkError>(())
//! ```
//!
//! Results come back in order; each is `None` if that process stopped because a channel
//! was poisoned. [`par!`] runs processes with different result types; [`Parallel`] runs
//! any number with the same one:
//!
//! ```
//! use csp::{process, Channel, Input, Output, Parallel};
//!
//! #[process]
//! fn square(jobs: Input<u64>, results: Output<u64>) {
//!     for j in &jobs {
//!         if results.write(j * j).is_err() {
//!             break;
//!         }
//!     }
//! }
//!
//! // A worker farm: the seed idiom "pool of workers and a queue with sentinels".
//! let (jobs_tx, jobs_rx) = Channel::<u64>::new().one2any();
//! let (res_tx, res_rx) = Channel::<u64>::new().any2one();
//! let workers: Parallel = (0..4).map(|_| square(jobs_rx.clone().into(), res_tx.clone().into())).collect();
//! drop((jobs_rx, res_tx)); // only the workers hold these ends now
//! let feeder = csp::Process::with_ends("feeder", jobs_tx, |jobs| {
//!     for j in 1..=10 {
//!         jobs.write(j)?;
//!     }
//!     Ok(()) // no sentinels: retiring the channel tells every worker to stop
//! });
//! let collector = csp::Process::with_ends("collector", res_rx, |r| Ok(r.iter().sum::<u64>()));
//! let (_, _, sum) = csp::par!(workers.into_process("workers"), feeder, collector)?;
//! assert_eq!(sum, Some(385));
//! # Ok::<(), csp::NetworkError>(())
//! ```
//!
//! ## 2. Buffers, timeouts and `try_*`
//!
//! Python's `Queue(maxsize=n)` with `put(timeout=...)`, `get_nowait()`, `Full` and `Empty`:
//!
//! ```
//! use std::time::Duration;
//! use csp::{Channel, ChannelError, Policy};
//!
//! let (tx, rx) = Channel::<&str>::local().fifo(2).one2one();
//! tx.write("a")?;
//! tx.try_write("b")?;
//! let full = tx.write_timeout("c", Duration::from_millis(10)).unwrap_err();
//! assert!(full.error().is_timeout());
//! assert_eq!(full.into_inner(), Some("c")); // a failed write hands the value back
//! assert_eq!(rx.read()?, "a");
//! assert_eq!(rx.try_read()?, "b");
//! assert!(matches!(rx.try_read(), Err(ChannelError::Empty { .. })));
//!
//! // Lossy policies say so in their name; a priority channel is a PriorityQueue.
//! let (latest, readings) = Channel::<u32>::new().buffer(Policy::OverwriteOldest(1)).one2one();
//! latest.write(1)?;
//! latest.write(2)?;
//! assert_eq!(readings.read()?, 2);
//! let (urgent, queue) = Channel::<u8>::new().priority(10).one2one();
//! urgent.write(1)?;
//! urgent.write(9)?;
//! assert_eq!(queue.read()?, 9);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## 3. Shared state as a server process
//!
//! Instead of a lock around a shared variable, one process owns the state and serves
//! requests; clients share the request channel (any2one) and each has a reply channel.
//!
//! ```
//! use csp::{process, Channel, Input, Output, Parallel, SharedOutput};
//!
//! enum Request { Add(i64, Output<i64>) }
//! // (An `Output` inside a message: ends are values and travel over channels.)
//!
//! #[process]
//! fn counter(requests: Input<Request>) -> i64 {
//!     let mut value = 0;
//!     for Request::Add(n, reply) in &requests {
//!         value += n;
//!         let _ = reply.write(value);
//!     }
//!     value
//! }
//!
//! #[process]
//! fn client(requests: SharedOutput<Request>, times: i64) -> Result<(), csp::BoxError> {
//!     for _ in 0..times {
//!         let (reply_tx, reply_rx) = Channel::<i64>::local().one2one();
//!         requests.write(Request::Add(1, reply_tx)).map_err(|e| e.into_parts().0)?;
//!         reply_rx.read()?;
//!     }
//!     Ok(())
//! }
//!
//! let (req_tx, req_rx) = Channel::<Request>::local().any2one();
//! let clients: Parallel = (0..4).map(|_| client(req_tx.clone(), 250)).collect();
//! drop(req_tx);
//! let (_, total) = csp::par!(clients.into_process("clients"), counter(req_rx))?;
//! assert_eq!(total, Some(1000));
//! # Ok::<(), csp::NetworkError>(())
//! ```
//!
//! ## 4. Ending a network: retire, poison, failure
//!
//! Dropping (or [`retire`](Output::retire)-ing) the last writer ends the readers' loops
//! once the buffer is drained: nothing written is lost. [`poison`](Output::poison) aborts:
//! every pending and later operation fails with [`ChannelError::Poisoned`], and a process
//! that stops because of it is *stopped*, not *failed*. A process that panics or returns
//! an error fails: its channels are poisoned, the network ends, and `run` names it.
//!
//! **The poison rule**: a process that *observed* poison — an operation failed with it, a
//! `for v in &input` loop ended on it, an alt met it — ends with every channel it holds
//! poisoned, never retired, whatever its body returned, and its result is `None`. The
//! ends it drops after that moment poison their channels too. So an abort stays an abort
//! through any chain of processes: a `for v in &input` loop cannot tell poison from
//! retirement, but the runtime can, and a reader at the end of a chain of
//! [`id`](components::id)s sees `Poisoned`, not a graceful end. (Poisoning a channel
//! yourself is not observing it: a process that calls `poison()` and returns keeps its
//! result.)
//!
//! A network that can never move again does not hang either: when every process waits,
//! with no timeout, for another one of them, `run` poisons the network and returns
//! [`NetworkError::Deadlock`] naming each process and the channel it waits on (see
//! [`Parallel::detect_deadlock`]).
//!
//! ```
//! use csp::{process, Channel, ChannelError, Input, NetworkError, Output};
//!
//! #[process]
//! fn producer(out: Output<u32>) -> Result<(), ChannelError> {
//!     for i in 0.. {
//!         out.write(i)?; // fails with Poisoned once the consumer has failed
//!     }
//!     Ok(())
//! }
//!
//! #[process]
//! fn consumer(input: Input<u32>) {
//!     for v in &input {
//!         assert!(v < 3, "value {v} is too big");
//!     }
//! }
//!
//! let (tx, rx) = Channel::<u32>::new().one2one();
//! let err = csp::par!(producer(tx), consumer(rx)).unwrap_err();
//! let NetworkError::Failed(failures) = &err else { unreachable!() };
//! assert_eq!(failures.len(), 1); // the producer only stopped
//! assert_eq!(failures[0].process(), "consumer");
//! assert!(err.to_string().contains("value 3 is too big"));
//! ```
//!
//! ## 5. Extended rendezvous and claims
//!
//! [`Input::read_with`] runs a block before the writer is released (occam-pi's `??`);
//! [`SharedOutput::claim`] gives one writer the channel for a sequence of writes
//! (occam-pi's CLAIM). See their docs.
//!
//! ## 6. Choice: `Alt`
//!
//! A process often waits for whichever of several things happens first. [`Alt`] offers
//! input guards, output guards (a write as a choice, on any channel kind, even with the
//! reader alting too), a timeout, a skip and [`Barrier`] guards, each optionally behind a
//! precondition; it commits to exactly one. `pri_select` takes the first ready guard in
//! order, `fair_select` rotates priority so nothing starves, `select` picks any.
//!
//! ```
//! use std::time::Duration;
//! use csp::{process, Alt, AltError, Channel, Fair, Input, Output};
//!
//! /// Forwards whichever input has a value, and reports "idle" after 20 ms of quiet.
//! #[process]
//! fn watcher(inputs: Vec<Input<u32>>, out: Output<String>) -> Result<(), csp::BoxError> {
//!     let mut open = vec![true; inputs.len()];
//!     let mut fair = Fair::new();
//!     while open.contains(&true) {
//!         let mut alt = Alt::new();
//!         for (i, input) in inputs.iter().enumerate() {
//!             alt = alt.input_if(open[i], input, move |v| format!("{i}: {v}"));
//!         }
//!         let event = alt.timeout(Duration::from_millis(20), || "idle".to_string());
//!         match event.fair_select(&mut fair) {
//!             Ok(msg) => out.write(msg)?,
//!             // A retired input is disabled from now on; poison ends the process.
//!             Err(AltError::Channel { guard, error }) if error.is_retired() => open[guard] = false,
//!             Err(e) => return Err(e.into()),
//!         }
//!     }
//!     Ok(())
//! }
//!
//! let (a, a_in) = Channel::<u32>::new().fifo(4).one2one();
//! let (b, b_in) = Channel::<u32>::new().fifo(4).one2one();
//! let (out, log) = Channel::<String>::new().buffer(csp::Policy::Unbounded).one2one();
//! a.write(1)?;
//! b.write(2)?;
//! drop((a, b)); // both streams end after their buffered values
//! csp::Sequence::new().add(watcher(vec![a_in, b_in], out)).run()?;
//! let mut lines: Vec<String> = log.iter().collect();
//! lines.sort();
//! assert_eq!(lines, ["0: 1", "1: 2"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## 7. Checking and drawing a network
//!
//! `run` validates a network before starting it: a channel end that no process of the
//! network pairs with, or a rendezvous channel only one process holds, refuses the
//! network with a report naming them; a cycle of rendezvous channels is a warning.
//! [`Parallel::validate`] gives the report without running, and [`Parallel::topology`]
//! draws the network (DOT, Mermaid) or writes a CSPm model for FDR.
//!
//! ```
//! use csp::components::generate;
//! use csp::{Channel, NetworkError, Parallel};
//!
//! let (tx, rx) = Channel::<u32>::new().named("numbers").fifo(8).one2one();
//! let net = Parallel::new().add(generate(1..=3, tx));
//! // `rx` is held by main, outside the network: undeclared, that is a dangling end.
//! let report = net.validate();
//! assert!(report.to_string().contains("channel 'numbers' is written by 'generate'"));
//! // Declared as the network's boundary, it is fine.
//! net.boundary(&rx).run()?;
//! assert_eq!(rx.iter().sum::<u32>(), 6);
//! # Ok::<(), NetworkError>(())
//! ```
//!
//! ## 8. Forked OS processes
//!
//! The same processes run in forked OS processes when placed there: isolation, a crash
//! that does not take the program down, real parallelism for code that must not share a
//! heap (Python's `multiprocessing`). [`ScopedProcess::forked`] gives a process a child
//! of its own, [`ScopedProcess::in_group`] puts several into one child (as threads
//! there), [`Parallel::forked`] forks every process of a network; the rest stay on
//! threads of the calling program. A forked process's result comes back to the parent,
//! so it must be `Serialize + DeserializeOwned` (a compile error otherwise), and so must
//! the values of every channel between OS processes (`Channel::new()`: validation
//! refuses a `Channel::local()` channel whose ends would be in two OS processes).
//!
//! Channels keep their semantics across processes — a rendezvous still waits for the
//! reader, timeouts lose nothing, poison and retire reach every end, alts work on both
//! ends — because `run` moves each crossing channel (and every barrier) into shared
//! memory before it forks. A child that panics,
//! exits or is killed is reported by name ([`Failure::Panicked`], [`Failure::Exited`],
//! [`Failure::Killed`]), its channels are poisoned, and the rest of the network ends.
//! `run` forks only while the program is single-threaded (it says so otherwise: run
//! the network before starting threads), and every child dies with its parent.
//!
//! ```
//! use csp::{Channel, Parallel, Process};
//!
//! let (tx, rx) = Channel::<u64>::new().named("squares").fifo(16).one2one();
//! let results = Parallel::new()
//!     .add(
//!         Process::with_ends("square", tx, |tx| {
//!             for i in 1..=10u64 {
//!                 tx.write(i * i)?;
//!             }
//!             Ok(std::process::id() as u64) // runs in a child: a different pid
//!         })
//!         .forked(),
//!     )
//!     .add(Process::with_ends("sum", rx, |rx| Ok(rx.iter().sum())))
//!     .run()?;
//! assert_ne!(results[0], Some(std::process::id() as u64));
//! assert_eq!(results[1], Some(385));
//! # Ok::<(), csp::NetworkError>(())
//! ```
//!
//! ## 9. Components
//!
//! [`components`] holds ready-made processes — `id`, `prefix`, `delta`, `succ`, `tail`,
//! `map`, `filter`, `generate`, `sink`, `collect`, and the choosing `merge` and `plex` —
//! from which classic networks such as commstime are built
//! (`cargo run --release --example commstime`), and
//! [`kv_server`](components::kv_server), a process owning a typed map that clients on
//! threads or in forked processes share (Python's `Manager().dict()`). A [`duplex`]
//! connection is a channel each way held as one value per side (Python's `Pipe()`).
//! A [`Farm`](components::Farm) is a pool of workers on threads or forked, fed from one
//! channel and giving results in input order (Python's worker threads with sentinels,
//! `multiprocessing.Pool`).
//!
//! ## 10. Signals and shared buffers
//!
//! Two things Python programs reach for outside of queues have a CSP form here
//! (Linux). [`signals()`] turns signals into a channel: a pump process, placed in the
//! network like any other, installs the handlers and writes each signal it sees to an
//! [`Input<Signal>`](signals::Signal), which a worker reads in an [`Alt`] beside its
//! work (`SIGUSR1` = "report status", `SIGTERM` = "finish this job, then stop"), instead
//! of a handler that interrupts it anywhere. [`shared_memory`] hands big buffers over
//! channels without copying them: a [`SharedPool`](shared_memory::SharedPool) of blocks
//! made before the fork, and a [`SharedBuf`](shared_memory::SharedBuf) that owns one
//! block and travels between forked processes as a small handle, so that exactly one
//! process owns the bytes at a time and no lock guards them.
//!
//! ```
//! use csp::shared_memory::{SharedBuf, SharedPool};
//! use csp::{Channel, Parallel, Process};
//!
//! let pool = SharedPool::new(2, 1 << 20)?;
//! let (tx, rx) = Channel::<SharedBuf>::new().one2one();
//! let shared = pool.clone();
//! let producer = Process::with_ends("producer", tx, move |tx| {
//!     let mut frame = shared.alloc()?;
//!     frame.as_mut_slice_of::<u32>()?.fill(3);
//!     tx.write(frame)?; // a handle crosses, not the megabyte
//!     Ok(0)
//! });
//! let consumer = Process::with_ends("consumer", rx, |rx| {
//!     Ok(rx.read()?.as_slice_of::<u32>()?.iter().map(|&x| u64::from(x)).sum())
//! });
//! let results = Parallel::new().add(producer.forked()).add(consumer).run()?;
//! assert_eq!(results[1], Some(3 << 18));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## 11. Between programs
//!
//! Programs that did not fork one another meet at a name: [`net::named`] gives two of
//! them a typed channel at a path (Python's `os.mkfifo`, with rendezvous, timeouts,
//! poison and retire; a program with another type or at the wrong path is refused with
//! the reason), [`net::tcp`] the same over TCP plus bridges for peers that speak no csp,
//! and [`net::bridge`] processes put such a channel into a network. Run
//! `cargo run --example named_pipe` and `cargo run --example tcp_echo`.
//!
//! ## 12. Coming from Python, PyCSP, JCSP or Go
//!
//! | you write (Python / PyCSP / JCSP / Go) | here |
//! |---|---|
//! | `threading.Thread(target=f)`, `go f()`, `new Parallel(...)`, PyCSP `Parallel(f(), g())` | `Parallel::new().add(f(..)).add(g(..)).run()`, or [`par!`] |
//! | `multiprocessing.Process(target=f)` | the same process, [`.forked()`](ScopedProcess::forked) |
//! | PyCSP `@process def f(cin, cout)`, JCSP `class F implements CSProcess` | `#[process] fn f(cin: Input<T>, cout: Output<T>)` |
//! | PyCSP `Channel()`, `+C` / `-C`, JCSP `Channel.one2one()`, Go `make(chan T)` | `Channel::<T>::new().one2one()`: `(Output<T>, Input<T>)` |
//! | Go `make(chan T, n)`, `queue.Queue(maxsize=n)` | `.fifo(n)`; `try_write` / `try_read` are `put_nowait` / `get_nowait` |
//! | `queue.PriorityQueue`, JCSP's overwriting buffers | `.priority(n)`, `.buffer(Policy::OverwriteOldest(n))`, `DropNewest`, `Unbounded` |
//! | JCSP `any2one`, `one2any`, `any2any`; Go: any goroutine may use a channel | `.any2one()`, `.one2any()`, `.any2any()`; one-to-one ends cannot be shared (the compiler refuses) |
//! | Go `select`, JCSP `Alternative`, PyCSP `AltSelect`, occam `ALT` | [`alt!`] or [`Alt`]: input and output guards, `skip`, `timeout`, barriers, `pri`/`fair` |
//! | Go `close(ch)`, a `None` sentinel, PyCSP `retire(c)` | drop the end or `retire()`: readers drain, then their loop ends |
//! | PyCSP `poison(c)`, JCSP `poison()` | `poison()`: every end of the channel fails, and the poison rule carries it through the network |
//! | occam `CLAIM`, JCSP shared-channel `claim` | [`SharedOutput::claim`] / [`SharedInput::claim`] |
//! | JCSP `AltingBarrier`, `threading.Barrier` | [`Barrier`]: `sync()`, or a guard in an alt; also across forked processes |
//! | JCSP extended rendezvous (`startRead` / `endRead`) | [`Input::read_with`] |
//! | `threading.Lock` around shared state | a server process owning the state (section 3); `components::kv_server` for a dict |
//! | `multiprocessing.Pipe()` | [`duplex`] |
//! | worker threads + `None` sentinels + `q.join()`, `multiprocessing.Pool.imap` / `.map` | [`components::Farm`]: retire the input instead of sentinels; `.forked()`; `map_all` |
//! | `signal.signal(SIGUSR1, handler)` | [`signals()`]: a pump process and an `Input<Signal>` read in an alt |
//! | `multiprocessing.shared_memory`, `Array`, `Semaphore` bounding buffers | [`shared_memory`]: `SharedPool` / `SharedBuf` handed over channels; `alloc_timeout` is the semaphore |
//! | `threading.Event`, `asyncio.Event` | a server process owning the flag, waits as alts with a timeout (`examples/event.rs`), or a [`Barrier`] |
//! | a deadlock that hangs | `NetworkError::Deadlock` naming every waiting process and channel, or the topology check before the run |
//! | `os.mkfifo(path)`, `open(path)` in two programs; JCSP net2 `net2one` / `one2net` | `net::named::listen::<T>(path)` / `net::named::connect::<T>(path)` (section 11) |
//! | a `socket` server: `accept()` and a thread per client | `net::tcp::serve`: a bridge pair and a process per client |

#![warn(missing_docs)]

extern crate self as csp;

pub mod alt;
pub mod channel;
pub mod components;
pub mod executor;
mod green;
#[cfg(target_os = "linux")]
pub mod net;
pub mod parallel;
mod park;
pub mod process;
#[cfg(target_os = "linux")]
pub mod shared_memory;
#[cfg(target_os = "linux")]
pub mod signals;
mod sync;
pub mod topology;

/// Not API: the shared-memory channel flavour, reachable only so that its fork test
/// (`csp/tests/shared_fork.rs`, which must own its process) can drive it.
#[cfg(target_os = "linux")]
#[doc(hidden)]
pub mod __shared_test {
    pub use crate::channel::shm::{Config, Gone, Held, Mode, SharedChannel, SharedError, Wait};
    pub use crate::channel::Side;
}

pub use alt::{Alt, AltError, Barrier, Enrolled, Fair, Timer};
pub use channel::{
    duplex, Channel, ChannelError, Duplex, Input, Kind, Output, Policy, SharedInput, SharedOutput,
    WriteError,
};
/// What counts as a failure, generics and `crate = path`, run:
///
/// ```
/// use csp::{process, Channel, Ends, Input, NetworkError, Output, Sequence};
///
/// // An `Err` fails the process whatever the `Result` is called.
/// #[process]
/// fn save(out: Output<u8>, full: bool) -> std::io::Result<()> {
///     if full {
///         return Err(std::io::Error::other("disk full"));
///     }
///     out.write(1).map_err(std::io::Error::other)
/// }
///
/// // A generic process records the ends its parameters hold.
/// #[process(crate = csp)]
/// fn relay<T: Send + 'static>(input: Input<T>, output: Output<T>) {
///     for v in &input {
///         if output.write(v).is_err() {
///             break;
///         }
///     }
/// }
///
/// let (tx, rx) = Channel::<u8>::new().fifo(1).one2one();
/// match Sequence::new().add(save(tx, true)).run() {
///     Err(NetworkError::Failed(f)) => assert_eq!(f[0].process(), "save"),
///     other => panic!("{:?}", other.map(|_| ())),
/// }
/// // The end `save` kept was poisoned, not retired: its reader stops too.
/// assert!(rx.read().unwrap_err().is_poisoned());
///
/// let (a, b) = (Channel::<String>::new().one2one(), Channel::<String>::new().one2one());
/// assert_eq!(relay(a.1, b.0).ends().len(), 2);
/// ```
pub use csp_macros::process;
/// Generic fields, enums, `#[ends(skip)]`, and the paths the ends are recorded under:
///
/// ```
/// use std::marker::PhantomData;
/// use csp::{Channel, Ends, Input, Output, Process};
///
/// #[derive(Ends)]
/// struct Tagged<E> {
///     ends: E,              // generic: the impl requires `E: Ends`
///     #[ends(skip)]
///     tag: PhantomData<E>, // mentions `E` but holds no end
///     label: String,        // not an end: skipped
/// }
///
/// #[derive(Ends)]
/// enum Link {
///     Reader(Input<u8>),
///     Both { input: Input<u8>, output: Output<u8> },
/// }
///
/// let (tx, rx) = Channel::<u8>::new().one2one();
/// let (tx2, rx2) = Channel::<u8>::new().one2one();
/// let value = Tagged {
///     ends: (Link::Both { input: rx, output: tx2 }, tx),
///     tag: PhantomData,
///     label: "x".into(),
/// };
/// let p = Process::with_ends("node", value, |_| Ok(()));
/// let paths: Vec<&str> = p.ends().iter().map(|e| e.path()).collect();
/// assert_eq!(paths, ["ends.0.Both.input", "ends.0.Both.output", "ends.1"]); // variant named
/// # drop(rx2);
/// ```
pub use csp_macros::Ends;
pub use green::block_in_place;
pub use parallel::{spawn, Parallel, Sequence, Spawned};
pub use parallel::{Deadlock, ForkError, NetworkError, Operation, Waiting};
pub use process::{BoxError, Failure};
pub use process::{Ends, Placement, Process, ScopedProcess};
#[cfg(target_os = "linux")]
pub use signals::signals;
pub use topology::{Level, Lint, Report, Topology};
