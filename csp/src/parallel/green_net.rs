//! A network's green settings: which processes run green, on how many workers, on
//! stacks of what size (see [`Placement::Green`](crate::Placement::Green)).

use super::Parallel;
use crate::process::ScopedProcess;

impl<'a, R: Send + 'a> Parallel<'a, R> {
    /// Runs every process of this network that is placed on a thread (the default) as
    /// a green process instead: a coroutine of the network's green executor, many per
    /// OS thread (see [`Placement::Green`](crate::Placement::Green)).
    ///
    /// ```
    /// use csp::{Channel, Parallel, Process};
    /// // A pipeline of 1,000 green processes, each adding one.
    /// let (first_tx, mut rx) = Channel::<u64>::new().one2one();
    /// let mut net = Parallel::new();
    /// for _ in 0..1000 {
    ///     let (tx, next_rx) = Channel::<u64>::new().one2one();
    ///     net.push(Process::with_ends("add", (rx, tx), |(rx, tx)| {
    ///         for v in &rx {
    ///             tx.write(v + 1)?;
    ///         }
    ///         Ok(0)
    ///     }));
    ///     rx = next_rx;
    /// }
    /// net.push(Process::with_ends("feed", first_tx, |tx| {
    ///     tx.write(0)?;
    ///     Ok(0)
    /// }));
    /// net.push(Process::with_ends("sum", rx, |rx| Ok(rx.iter().sum())));
    /// let results = net.green().run()?;
    /// assert_eq!(results.last(), Some(&Some(1000)));
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn green(mut self) -> Self {
        self.green_all = true;
        self
    }

    /// Sets the usable stack size of this network's green processes, in bytes (64 KiB
    /// by default; rounded up to a power of two), for those that do not ask for their
    /// own with [`ScopedProcess::green_stack`]. It must lie within
    /// [`GREEN_STACK_MIN`](crate::process::GREEN_STACK_MIN)..=[`GREEN_STACK_MAX`](crate::process::GREEN_STACK_MAX):
    /// `run` refuses the network otherwise, naming each green process concerned.
    ///
    /// Each stack has a guard page below it: a process that overflows its stack kills
    /// the program with `SIGSEGV` rather than corrupting memory, and says so on stderr
    /// first: ``csp: green process `NAME` overflowed its stack of 64 KiB``.
    ///
    /// ```
    /// use csp::{Parallel, Process};
    /// let deep = |n: u64| -> u64 { (0..n).map(|i| i * 2).sum() };
    /// let results = Parallel::new()
    ///     .add(Process::from_fn("sum", move || deep(10)).green())
    ///     .green_stack(256 * 1024)
    ///     .run()?;
    /// assert_eq!(results, vec![Some(90)]);
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn green_stack(mut self, bytes: usize) -> Self {
        self.green.stack_size = bytes;
        self
    }

    /// Sets how many worker threads run this network's green processes (by default one
    /// per core; `0` also means that). Never more than there are green processes.
    ///
    /// ```
    /// use csp::{Parallel, Process};
    /// // Both run on the one worker: the same OS thread.
    /// let threads = Parallel::new()
    ///     .add(Process::from_fn("a", || format!("{:?}", std::thread::current().id())))
    ///     .add(Process::from_fn("b", || format!("{:?}", std::thread::current().id())))
    ///     .green()
    ///     .green_workers(1)
    ///     .run()?;
    /// assert_eq!(threads[0], threads[1]);
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn green_workers(mut self, workers: usize) -> Self {
        self.green.workers = std::num::NonZeroUsize::new(workers);
        self
    }

    /// Whether `p` will run green: placed so, or on a thread of a network made
    /// [`green`](Self::green).
    pub(super) fn runs_green(&self, p: &ScopedProcess<'a, R>) -> bool {
        match p.placement() {
            crate::Placement::Green => true,
            crate::Placement::Thread => self.green_all,
            _ => false,
        }
    }
}
