//! A worker farm: Python's pool of worker threads fed from a `Queue` with one sentinel
//! per worker and `task_done`/`join` (or `multiprocessing.Pool.imap`), as a network.
//!
//! ```text
//!            ┌──────────┐  work  ┌─ worker[0] ─┐ results ┌───────────┐
//!  input ──▶ │distribute│ ─────▶ ├─ worker[1] ─┤ ──────▶ │  collect  │ ──▶ output
//!            └──────────┘ (one2any)    ...    (any2one)  └───────────┘
//!                 ▲                                          │
//!                 └──────────────── credits ◀────────────────┘
//! ```
//!
//! The distributor numbers every value; idle workers take the next one from a shared
//! channel, so a slow value does not hold up the others; the collector puts the results
//! back in input order. Ordering needs a reorder buffer, and a credit per emitted result
//! bounds it: the distributor sends value `n` only once result `n - window` has left, so
//! the collector never holds more than `window` results however uneven the work is.
//!
//! No sentinels: when the input is retired, the distributor retires the work channel, so
//! every worker's loop ends, then the collector's, and the output is retired once the last
//! result has left. A panicking worker fails the network with its name, and (the poison
//! rule) the farm's channels and its output are poisoned, never retired.

use std::collections::BTreeMap;

use super::forward;
use crate::channel::{Channel, ChannelError, Input, Output, SharedInput, SharedOutput, Wire};
use crate::parallel::{NetworkError, Parallel};
use crate::process::{panic_message, Failure, Placement, Process};
use rayon::iter::{IntoParallelIterator, ParallelIterator};

/// What a farm's internal channels are made of: local between threads, or
/// serialisable ones when the workers are forked.
type MakeLinks<T, R> = fn(&Sizes) -> Links<T, R>;

/// What the internal channels are made with.
struct Sizes {
    name: String,
    workers: usize,
    window: usize,
    max_frame: usize,
}

/// A value or a result with its place in the input.
type Numbered<T> = (u64, T);

/// The three internal channels, each as its two ends.
struct Links<T, R> {
    work: (Output<Numbered<T>>, SharedInput<Numbered<T>>),
    results: (SharedOutput<Numbered<R>>, Input<Numbered<R>>),
    credits: (Output<()>, Input<()>),
}

/// A farm of `workers` processes applying one function to a stream, results in input
/// order. Build it, then take its processes into a network with
/// [`into_process`](Farm::into_process) (one process, for `par!`) or
/// [`processes`](Farm::processes) (to add to a [`Parallel`] of your own).
///
/// ```
/// use csp::components::{collect, generate, Farm};
/// use csp::{par, Channel};
///
/// let (jobs, jobs_in) = Channel::<u64>::new().one2one();
/// let (done, done_in) = Channel::<u64>::new().one2one();
/// let farm = Farm::new("square", 4, |x: u64| x * x);
/// let (_, _, squares) = par!(
///     generate(1..=100, jobs),
///     farm.into_process(jobs_in, done),
///     collect(done_in),
/// )?;
/// assert_eq!(squares.unwrap(), (1..=100).map(|x| x * x).collect::<Vec<_>>());
/// # Ok::<(), csp::NetworkError>(())
/// ```
pub struct Farm<T, R, F> {
    name: String,
    workers: usize,
    window: usize,
    max_frame: usize,
    placement: Placement,
    links: MakeLinks<T, R>,
    work: F,
}

impl<T, R, F> Farm<T, R, F>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(T) -> R + Clone + Send + 'static,
{
    /// A farm named `name` (its processes are `name/distributor`, `name/worker[i]`,
    /// `name/collector`) of `workers` workers (at least one) on threads, each applying
    /// `work`. The reorder window defaults to four values per worker.
    pub fn new(name: impl Into<String>, workers: usize, work: F) -> Self {
        let workers = workers.max(1);
        Farm {
            name: name.into(),
            workers,
            window: 4 * workers,
            max_frame: crate::channel::DEFAULT_MAX_FRAME,
            placement: Placement::Thread,
            links: local_links::<T, R>,
            work,
        }
    }

    /// At most `window` values (at least one per worker) are between the distributor and
    /// the output at any time: the bound on the collector's reorder buffer, and on how
    /// far a fast worker can run ahead of a slow one.
    ///
    /// ```
    /// use csp::components::Farm;
    /// let farm = Farm::new("f", 2, |x: u8| x).window(1);
    /// assert_eq!(farm.window_len(), 2);
    /// ```
    pub fn window(mut self, window: usize) -> Self {
        self.window = window.max(self.workers);
        self
    }

    /// The largest value or result, encoded, that forked workers take or give back
    /// (see [`Channel::max_frame`]); the default is
    /// [`DEFAULT_MAX_FRAME`](crate::channel::DEFAULT_MAX_FRAME). Threads pass values
    /// without encoding them, so this only matters with [`forked`](Farm::forked).
    ///
    /// ```
    /// use csp::components::Farm;
    /// let big = vec![vec![7u8; 100_000]];
    /// let sizes = Farm::new("len", 1, |v: Vec<u8>| v.len())
    ///     .max_frame(1 << 20)
    ///     .forked()
    ///     .map_all(big)?;
    /// assert_eq!(sizes, [100_000]);
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn max_frame(mut self, bytes: usize) -> Self {
        self.max_frame = bytes;
        self
    }

    /// The reorder window: see [`window`](Farm::window).
    ///
    /// ```
    /// use csp::components::Farm;
    /// assert_eq!(Farm::new("f", 3, |x: u8| x).window_len(), 12);
    /// ```
    pub fn window_len(&self) -> usize {
        self.window
    }

    /// The farm's processes, to add to a network of your own: the distributor reading
    /// `input`, the workers, and the collector writing `output`. Forked workers are
    /// placed here, so they fork with the rest of your network.
    ///
    /// ```
    /// use csp::components::Farm;
    /// use csp::{Channel, Parallel, Process};
    ///
    /// let (jobs, jobs_in) = Channel::<u32>::new().fifo(8).one2one();
    /// let (done, done_in) = Channel::<u32>::new().fifo(8).one2one();
    /// let mut net: Parallel = Farm::new("inc", 2, |x: u32| x + 1)
    ///     .processes(jobs_in, done)
    ///     .into_iter()
    ///     .collect();
    /// net.push(Process::with_ends("source", jobs, |jobs| {
    ///     Ok((0..10).try_for_each(|i| jobs.write(i))?)
    /// }));
    /// net.push(Process::with_ends("sink", done_in, |done| {
    ///     let got: Vec<u32> = done.iter().collect();
    ///     assert_eq!(got, (1..=10).collect::<Vec<_>>());
    ///     Ok(())
    /// }));
    /// net.run()?;
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn processes(self, input: Input<T>, output: Output<R>) -> Vec<Process> {
        let prefix = format!("{}/", self.name);
        self.build(input, output, &prefix)
    }

    /// The processes, named `{prefix}distributor`, ...
    fn build(self, input: Input<T>, output: Output<R>, prefix: &str) -> Vec<Process> {
        let links = (self.links)(&Sizes {
            name: self.name.clone(),
            workers: self.workers,
            window: self.window,
            max_frame: self.max_frame,
        });
        let (work_out, work_in) = links.work;
        let (results_out, results_in) = links.results;
        let (credits_out, credits_in) = links.credits;
        let mut all = Vec::with_capacity(self.workers + 2);
        all.push(
            distributor(input, work_out, credits_in, self.window as u64)
                .named(format!("{prefix}distributor")),
        );
        for i in 0..self.workers {
            let worker = worker(work_in.clone(), results_out.clone(), self.work.clone())
                .named(format!("{prefix}worker[{i}]"));
            all.push(match &self.placement {
                Placement::Thread => worker,
                _ => worker.forked(),
            });
        }
        drop((work_in, results_out));
        all.push(collector(results_in, output, credits_out).named(format!("{prefix}collector")));
        all
    }

    /// The whole farm as one process (a nested network), e.g. for
    /// [`par!`](crate::par). With [`forked`](Farm::forked) workers, this process is
    /// itself placed in a forked child, from whose main thread the workers fork, since a
    /// nested network running on a thread cannot fork. Its processes are named as with
    /// [`processes`](Farm::processes), the farm's name being the nested network's.
    pub fn into_process(self, input: Input<T>, output: Output<R>) -> Process {
        let name = self.name.clone();
        let forked = self.placement != Placement::Thread;
        let net: Parallel = self.build(input, output, "").into_iter().collect();
        let farm = net.into_process(name).map(|_| ());
        if forked {
            farm.forked()
        } else {
            farm
        }
    }
}

impl<T, R, F> Farm<T, R, F>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(T) -> R + Clone + Send + 'static,
{
    /// Applies the farm's work to every value of `items` at once and returns the results
    /// in order: the data-parallel case (Python's `Pool.map`), when all the values are
    /// already in hand. On threads it runs the workers over `rayon` (work stealing,
    /// no channel per value, so fine-grained work costs what `par_iter` costs), in a pool
    /// of its own whose threads are joined before it returns, so a later forked
    /// `Parallel` can still fork; with [`forked`](Farm::forked) workers it runs the
    /// farm's network.
    ///
    /// A panic in the work is a [`Failure::Panicked`] naming the farm's workers.
    ///
    /// ```
    /// use csp::components::Farm;
    /// let lengths = Farm::new("len", 2, |s: String| s.len()).map_all(vec!["a".into(), "bcd".into()])?;
    /// assert_eq!(lengths, [1, 3]);
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn map_all(self, items: Vec<T>) -> Result<Vec<R>, NetworkError> {
        if self.placement != Placement::Thread {
            return self.map_all_as_network(items);
        }
        let workers = format!("{}/worker", self.name);
        let work = std::sync::Mutex::new(self.work);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.workers)
            .thread_name(move |i| format!("{workers}[{i}]"));
        let map = |pool: &rayon::ThreadPool| {
            pool.install(|| {
                items
                    .into_par_iter()
                    // One clone of the work per rayon split: `F` need not be `Sync`.
                    .map_init(
                        || work.lock().unwrap_or_else(|e| e.into_inner()).clone(),
                        |f, v| f(v),
                    )
                    .collect::<Vec<R>>()
            })
        };
        let name = format!("{}/worker", self.name);
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.build_scoped(rayon::ThreadBuilder::run, map)
        })) {
            Ok(Ok(results)) => Ok(results),
            Ok(Err(e)) => Err(NetworkError::Failed(vec![Failure::Start {
                process: name,
                error: std::io::Error::other(e),
            }])),
            Err(payload) => Err(NetworkError::Failed(vec![Failure::Panicked {
                process: name,
                message: panic_message(payload.as_ref()),
            }])),
        }
    }

    fn map_all_as_network(self, items: Vec<T>) -> Result<Vec<R>, NetworkError> {
        let (jobs, jobs_in) = Channel::local().fifo(self.workers).one2one();
        let (done, done_in) = Channel::local().fifo(self.workers).one2one();
        let (got, results) = std::sync::mpsc::channel();
        let mut net: Parallel = self.processes(jobs_in, done).into_iter().collect();
        net.push(super::generate(items, jobs));
        net.push(super::collect(done_in).map(move |v| {
            // The receiver lives until `run` has returned.
            let _ = got.send(v);
        }));
        net.run()?;
        // Every process ran to its end: the collector's results are all there.
        results.recv().map_err(|_| {
            NetworkError::Failed(vec![Failure::Error {
                process: "collect".into(),
                error: "the farm's results were lost".into(),
            }])
        })
    }
}

impl<T: Wire, R: Wire, F> Farm<T, R, F>
where
    F: Fn(T) -> R + Clone + Send + 'static,
{
    /// Runs each worker in an OS process of its own (Python's `multiprocessing.Pool`):
    /// a crash ends only that worker, and is reported by its name. Values and results
    /// travel as postcard frames, hence `Serialize + DeserializeOwned`.
    ///
    /// ```
    /// use csp::components::{collect, generate, Farm};
    /// use csp::{par, Channel};
    ///
    /// let (jobs, jobs_in) = Channel::<u32>::new().one2one();
    /// let (done, done_in) = Channel::<(u32, u32)>::new().one2one();
    /// let farm = Farm::new("pid", 2, |x: u32| (x, std::process::id())).forked();
    /// let (_, _, got) = par!(
    ///     generate(0..20, jobs),
    ///     farm.into_process(jobs_in, done),
    ///     collect(done_in),
    /// )?;
    /// let got = got.unwrap();
    /// assert_eq!(got.iter().map(|r| r.0).collect::<Vec<_>>(), (0..20).collect::<Vec<_>>());
    /// assert!(got.iter().all(|r| r.1 != std::process::id()));
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn forked(mut self) -> Self {
        self.placement = Placement::Fork;
        self.links = wire_links::<T, R>;
        self
    }
}

fn local_links<T: Send + 'static, R: Send + 'static>(sizes: &Sizes) -> Links<T, R> {
    let name = &sizes.name;
    Links {
        work: Channel::local()
            .named(format!("{name}.work"))
            .fifo(sizes.workers)
            .one2any(),
        results: Channel::local()
            .named(format!("{name}.results"))
            .fifo(sizes.workers)
            .any2one(),
        credits: Channel::local()
            .named(format!("{name}.credits"))
            .fifo(sizes.window)
            .one2one(),
    }
}

fn wire_links<T: Wire, R: Wire>(sizes: &Sizes) -> Links<T, R> {
    let name = &sizes.name;
    Links {
        work: Channel::new()
            .named(format!("{name}.work"))
            .max_frame(sizes.max_frame)
            .fifo(sizes.workers)
            .one2any(),
        results: Channel::new()
            .named(format!("{name}.results"))
            .max_frame(sizes.max_frame)
            .fifo(sizes.workers)
            .any2one(),
        credits: Channel::new()
            .named(format!("{name}.credits"))
            .fifo(sizes.window)
            .one2one(),
    }
}

/// Numbers the input and hands it out, at most `window` ahead of the collector.
#[crate::process]
fn distributor<T: Send + 'static>(
    input: Input<T>,
    work: Output<Numbered<T>>,
    credits: Input<()>,
    window: u64,
) -> Result<(), ChannelError> {
    for (n, v) in (0u64..).zip(&input) {
        if n >= window {
            match credits.read() {
                Ok(()) => {}
                Err(ChannelError::Retired { .. }) => break,
                Err(e) => return Err(e),
            }
        }
        if !forward(&work, (n, v))? {
            break;
        }
    }
    Ok(())
}

/// Applies `work` to each value it takes, keeping the value's number.
#[crate::process]
fn worker<T: Send + 'static, R: Send + 'static, F: Fn(T) -> R + Send + 'static>(
    work: SharedInput<Numbered<T>>,
    results: SharedOutput<Numbered<R>>,
    f: F,
) -> Result<(), ChannelError> {
    for (n, v) in &work {
        if !forward(&results, (n, f(v)))? {
            break;
        }
    }
    Ok(())
}

/// Writes the results in input order, giving a credit back for each.
#[crate::process]
fn collector<R: Send + 'static>(
    results: Input<Numbered<R>>,
    output: Output<R>,
    credits: Output<()>,
) -> Result<(), ChannelError> {
    let mut early = BTreeMap::new();
    let mut next = 0u64;
    for (n, r) in &results {
        early.insert(n, r);
        while let Some(r) = early.remove(&next) {
            if !forward(&output, r)? {
                return Ok(());
            }
            next += 1;
            // The distributor retires the credits once its input has ended: no more
            // credits are needed then.
            let _ = forward(&credits, ())?;
        }
    }
    Ok(())
}
