//! The farm's three kinds of process and the channels between them.
//!
//! Values travel in batches of consecutive values so that cheap work does not pay three
//! channel communications per value: the distributor puts into a batch the first value
//! it waits for plus whatever else its input already holds, up to the *grain*. Workers
//! time each batch; from those times the collector estimates what one value costs and
//! suggests, with each credit it gives back, a grain worth [`BATCH_TARGET`] of work. So
//! expensive values go one by one (the best balance between workers), cheap ones in
//! batches (the least overhead), and a slow input never waits for a batch to fill.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::super::forward;
use crate::channel::{Channel, ChannelError, Input, Output, SharedInput, SharedOutput, Wire};

/// How much work one batch should hold: enough that a batch's three communications
/// (a few µs on a busy machine) cost a few percent of it, little enough that the last
/// batches of a stream keep every worker busy.
pub(super) const BATCH_TARGET: Duration = Duration::from_micros(100);

/// Consecutive values, numbered by batch.
pub(super) type Batch<T> = (u64, Vec<T>);

/// A batch's results, and the ns its worker spent on them.
pub(super) type Done<R> = (u64, Vec<R>, u64);

/// What the internal channels are made with.
pub(super) struct Sizes {
    pub(super) name: String,
    pub(super) workers: usize,
    /// In batches.
    pub(super) window: usize,
    /// The largest encoded batch a forked worker takes or gives back.
    pub(super) max_frame: usize,
}

/// The three internal channels, each as its two ends.
pub(super) struct Links<T, R> {
    pub(super) work: (Output<Batch<T>>, SharedInput<Batch<T>>),
    pub(super) results: (SharedOutput<Done<R>>, Input<Done<R>>),
    /// Each credit is the grain the collector suggests.
    pub(super) credits: (Output<u32>, Input<u32>),
}

/// What a farm's internal channels are made of: local between threads, or
/// serialisable ones when the workers are forked.
pub(super) type MakeLinks<T, R> = fn(&Sizes) -> Links<T, R>;

pub(super) fn local_links<T: Send + 'static, R: Send + 'static>(sizes: &Sizes) -> Links<T, R> {
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

pub(super) fn wire_links<T: Wire, R: Wire>(sizes: &Sizes) -> Links<T, R> {
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

/// Where the distributor is: how far the window lets it go, and the grain.
struct Pace {
    /// Batches it may send before it must wait for a credit.
    allowed: u64,
    grain: usize,
}

impl Pace {
    fn credit(&mut self, grain: u32) {
        self.allowed += 1;
        self.grain = grain.max(1) as usize;
    }

    /// Takes the credits already given back; then, if the window is full, waits for
    /// one. `false` when the collector has gone.
    fn admit(&mut self, batch: u64, credits: &Input<u32>) -> Result<bool, ChannelError> {
        loop {
            let credit = if batch < self.allowed {
                credits.try_read()
            } else {
                credits.read()
            };
            match credit {
                Ok(grain) => self.credit(grain),
                Err(ChannelError::Empty { .. }) => return Ok(true),
                Err(e) if e.is_retired() => return Ok(false),
                Err(e) => return Err(e),
            }
        }
    }
}

/// The next batch: the first value it waits for, then what `input` already holds, up
/// to `grain`; `None` once the input has ended; with `true` if it ended after these.
fn next_batch<T>(input: &Input<T>, grain: usize) -> Result<Option<(Vec<T>, bool)>, ChannelError> {
    let first = match input.read() {
        Ok(v) => v,
        Err(e) if e.is_retired() => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut batch = Vec::with_capacity(grain.min(64));
    batch.push(first);
    while batch.len() < grain {
        match input.try_read() {
            Ok(v) => batch.push(v),
            Err(ChannelError::Empty { .. }) => break,
            Err(e) if e.is_retired() => return Ok(Some((batch, true))),
            Err(e) => return Err(e),
        }
    }
    Ok(Some((batch, false)))
}

/// Numbers the input in batches and hands them out, at most `window` batches ahead of
/// the collector.
#[crate::process]
pub(super) fn distributor<T: Send + 'static>(
    input: Input<T>,
    work: Output<Batch<T>>,
    credits: Input<u32>,
    window: u64,
) -> Result<(), ChannelError> {
    let mut pace = Pace {
        allowed: window,
        grain: 1,
    };
    for seq in 0u64.. {
        let Some((batch, ended)) = next_batch(&input, pace.grain)? else {
            break;
        };
        if !pace.admit(seq, &credits)? || !forward(&work, (seq, batch))? || ended {
            break;
        }
    }
    Ok(())
}

/// Applies `f` to each value of each batch it takes, and times the batch.
#[crate::process]
pub(super) fn worker<T: Send + 'static, R: Send + 'static, F: Fn(T) -> R + Send + 'static>(
    work: SharedInput<Batch<T>>,
    results: SharedOutput<Done<R>>,
    f: F,
) -> Result<(), ChannelError> {
    for (seq, batch) in &work {
        let started = Instant::now();
        let out: Vec<R> = batch.into_iter().map(&f).collect();
        let ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        if !forward(&results, (seq, out, ns))? {
            break;
        }
    }
    Ok(())
}

/// A running estimate of what one value costs, and the grain it suggests.
struct Cost {
    ns_per_value: Option<f64>,
    max_batch: usize,
}

impl Cost {
    fn sample(&mut self, ns: u64, values: usize) {
        let sample = ns as f64 / values.max(1) as f64;
        // Weighted towards the recent: work can change cost along a stream.
        self.ns_per_value = Some(match self.ns_per_value {
            None => sample,
            Some(old) => (3.0 * old + sample) / 4.0,
        });
    }

    fn grain(&self) -> u32 {
        let per_value = self.ns_per_value.unwrap_or(f64::MAX).max(1.0);
        let grain = (BATCH_TARGET.as_nanos() as f64 / per_value) as usize;
        grain.clamp(1, self.max_batch) as u32
    }
}

/// Writes the results in input order, giving a credit back for each batch.
#[crate::process]
pub(super) fn collector<R: Send + 'static>(
    results: Input<Done<R>>,
    output: Output<R>,
    credits: Output<u32>,
    max_batch: usize,
) -> Result<(), ChannelError> {
    let mut early = BTreeMap::new();
    let mut next = 0u64;
    let mut cost = Cost {
        ns_per_value: None,
        max_batch,
    };
    for (seq, out, ns) in &results {
        cost.sample(ns, out.len());
        early.insert(seq, out);
        while let Some(out) = early.remove(&next) {
            for r in out {
                if !forward(&output, r)? {
                    return Ok(());
                }
            }
            next += 1;
            // The distributor retires the credits once its input has ended: no more
            // credits are needed then.
            let _ = forward(&credits, cost.grain())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grain_is_a_batch_target_of_work_within_bounds() {
        let mut cost = Cost {
            ns_per_value: None,
            max_batch: 256,
        };
        assert_eq!(cost.grain(), 1, "nothing measured yet: one by one");
        cost.sample(1_000 * 10, 10); // 1 µs a value
        assert_eq!(cost.grain(), 100);
        cost.sample(10, 10); // 1 ns a value: capped
        let cheap = cost.grain();
        assert!(cheap > 100 && cheap <= 256, "{cheap}");
        for _ in 0..50 {
            cost.sample(5_000_000, 1); // 5 ms a value
        }
        assert_eq!(cost.grain(), 1, "expensive values go one by one again");
    }

    #[test]
    fn a_batch_takes_what_is_buffered_up_to_the_grain_and_sees_the_end() {
        let (tx, rx) = Channel::<u32>::new().fifo(16).one2one();
        for i in 0..10 {
            tx.write(i).unwrap();
        }
        assert_eq!(next_batch(&rx, 4).unwrap(), Some((vec![0, 1, 2, 3], false)));
        assert_eq!(
            next_batch(&rx, 100).unwrap(),
            Some((vec![4, 5, 6, 7, 8, 9], false))
        );
        tx.write(10).unwrap();
        drop(tx);
        assert_eq!(next_batch(&rx, 100).unwrap(), Some((vec![10], true)));
        assert_eq!(next_batch(&rx, 100).unwrap(), None);
    }

    #[test]
    fn a_poisoned_input_is_an_error_not_an_end() {
        let (tx, rx) = Channel::<u32>::new().fifo(4).one2one();
        tx.write(1).unwrap();
        tx.poison();
        assert!(next_batch(&rx, 8).unwrap_err().is_poisoned());
    }

    #[test]
    fn the_window_waits_for_credits_and_takes_their_grain() {
        let (tx, rx) = Channel::<u32>::new().fifo(8).one2one();
        let mut pace = Pace {
            allowed: 2,
            grain: 1,
        };
        assert!(pace.admit(0, &rx).unwrap());
        assert!(pace.admit(1, &rx).unwrap());
        tx.write(7).unwrap();
        assert!(pace.admit(2, &rx).unwrap(), "a credit lets batch 2 go");
        assert_eq!((pace.allowed, pace.grain), (3, 7));
        drop(tx);
        assert!(
            !pace.admit(3, &rx).unwrap(),
            "no collector, no credit: stop"
        );
    }
}
