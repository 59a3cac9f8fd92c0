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
//! The distributor numbers the values; idle workers take the next from a shared channel,
//! so a slow value does not hold up the others; the collector puts the results back in
//! input order. Cheap values travel in batches, sized from what the workers measure
//! (see `stages.rs`): expensive values go one by one, and a slow input never waits for a
//! batch to fill. Ordering needs a reorder buffer, and a credit per emitted batch bounds
//! it: the distributor sends batch `n` only once batch `n - window` has left, so the
//! collector never holds more than `window` batches however uneven the work is.
//!
//! No sentinels: when the input is retired, the distributor retires the work channel, so
//! every worker's loop ends, then the collector's, and the output is retired once the last
//! result has left. A panicking worker fails the network with its name, and (the poison
//! rule) the farm's channels and its output are poisoned, never retired.

mod map_all;
mod stages;

use self::stages::{collector, distributor, local_links, wire_links, worker, MakeLinks, Sizes};
use crate::channel::{Input, Output, Wire};
use crate::parallel::Parallel;
use crate::process::{Placement, Process};

/// The default [`Farm::batch`] on threads.
const THREAD_BATCH: usize = 256;
/// The default [`Farm::batch`] with forked workers: their frames hold whole batches.
const FORKED_BATCH: usize = 16;
/// The largest frame a forked farm's batches may take, whatever `max_frame` × `batch`.
const MAX_BATCH_FRAME: usize = 256 << 20;
/// What a batch adds to its values' encodings: two `u64` and a length, as varints.
const BATCH_HEADER: usize = 32;

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
    max_batch: usize,
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
    /// `work`. The reorder window defaults to four batches per worker.
    ///
    /// ```
    /// use csp::components::Farm;
    /// use csp::Channel;
    /// let (jobs, jobs_in) = Channel::<String>::new().fifo(4).one2one();
    /// let (done, lengths) = Channel::<usize>::new().fifo(4).one2one();
    /// let farm = Farm::new("measure", 3, |s: String| s.len());
    /// for word in ["a", "bb", "ccc"] {
    ///     jobs.write(word.to_string())?;
    /// }
    /// drop(jobs);
    /// let procs = farm.processes(jobs_in, done);
    /// let names: Vec<&str> = procs.iter().map(|p| p.name()).collect();
    /// assert_eq!(names[..2], ["measure/distributor", "measure/worker[0]"]);
    /// procs.into_iter().collect::<csp::Parallel>().boundary(&lengths).run()?;
    /// assert_eq!(lengths.iter().collect::<Vec<_>>(), [1, 2, 3]); // in input order
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(name: impl Into<String>, workers: usize, work: F) -> Self {
        let workers = workers.max(1);
        Farm {
            name: name.into(),
            workers,
            window: 4 * workers,
            max_frame: crate::channel::DEFAULT_MAX_FRAME,
            max_batch: THREAD_BATCH,
            placement: Placement::Thread,
            links: local_links::<T, R>,
            work,
        }
    }

    /// At most `window` batches (at least one per worker) are between the distributor
    /// and the output at any time: the bound on the collector's reorder buffer, and on how
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
    /// (see [`Channel::max_frame`](crate::Channel::max_frame)); the default is
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

    /// The most values one batch holds (at least one, which turns batching off): by
    /// default 256 on threads and 16 with forked workers, whose batches travel as one
    /// frame of up to `max_batch` × [`max_frame`](Farm::max_frame) bytes.
    ///
    /// ```
    /// use csp::components::{collect, generate, Farm};
    /// use csp::{par, Channel};
    /// let (jobs, jobs_in) = Channel::<u8>::new().fifo(8).one2one();
    /// let (done, done_in) = Channel::<u8>::new().one2one();
    /// let one_by_one = Farm::new("strict", 2, |x: u8| x).batch(1);
    /// let (_, _, got) = par!(
    ///     generate(0..=9, jobs),
    ///     one_by_one.into_process(jobs_in, done),
    ///     collect(done_in),
    /// )?;
    /// assert_eq!(got.unwrap(), (0..=9).collect::<Vec<u8>>());
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn batch(mut self, max: usize) -> Self {
        self.max_batch = max.max(1);
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
            max_frame: self.batch_frame(),
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
        all.push(
            collector(results_in, output, credits_out, self.effective_batch())
                .named(format!("{prefix}collector")),
        );
        all
    }

    /// The most values a batch holds once huge frames are accounted for: a batch of
    /// values at the frame limit must fit in one frame of at most [`MAX_BATCH_FRAME`].
    fn effective_batch(&self) -> usize {
        (MAX_BATCH_FRAME / self.max_frame.max(1)).clamp(1, self.max_batch)
    }

    /// The frame limit of the internal channels: a whole batch of values at the limit,
    /// and room for the batch's number, length and time.
    fn batch_frame(&self) -> usize {
        self.max_frame
            .saturating_mul(self.effective_batch())
            .saturating_add(BATCH_HEADER)
    }

    /// The whole farm as one process (a nested network), e.g. for
    /// [`par!`](crate::par). With [`forked`](Farm::forked) workers, this process is
    /// itself placed in a forked child, from whose main thread the workers fork, since a
    /// nested network running on a thread cannot fork. Its processes are named as with
    /// [`processes`](Farm::processes), the farm's name being the nested network's.
    ///
    /// ```
    /// use csp::components::{collect, generate, Farm};
    /// use csp::{Channel, NetworkError};
    /// let (jobs, jobs_in) = Channel::<u32>::new().one2one();
    /// let (done, done_in) = Channel::<u32>::new().one2one();
    /// let farm = Farm::new("check", 2, |x: u32| {
    ///     assert!(x != 3, "bad input {x}");
    ///     x
    /// });
    /// let err = csp::par!(generate(1..=5, jobs), farm.into_process(jobs_in, done), collect(done_in))
    ///     .unwrap_err();
    /// // A failure inside the farm names the worker by its path under the farm's process.
    /// let NetworkError::Failed(failures) = &err else { panic!("{err}") };
    /// assert!(failures[0].process().starts_with("check/worker["));
    /// ```
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
        self.max_batch = self.max_batch.min(FORKED_BATCH);
        self
    }
}
