//! The data-parallel case of a farm: every value in hand at once.

use rayon::iter::{IntoParallelIterator, ParallelIterator};

use super::Farm;
use crate::channel::Channel;
use crate::parallel::{NetworkError, Parallel};
use crate::process::{panic_message, Failure, Placement};

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
        net.push(crate::components::generate(items, jobs));
        net.push(crate::components::collect(done_in).map(move |v| {
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
