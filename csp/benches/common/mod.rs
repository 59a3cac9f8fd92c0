//! Shared by the benchmarks: reading criterion's results back to print ratios, and a
//! background load that keeps every core busy.

// Each bench compiles this module on its own and uses only part of it.
#![allow(dead_code)]

#[cfg(target_os = "linux")]
pub mod forked;

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::SystemTime;

/// Criterion's point estimate of the mean time per iteration, in ns, from its report in
/// `target/criterion/<group>/<id>/new/estimates.json`.
pub fn mean_ns(group: &str, id: &str) -> Option<f64> {
    mean_ns_since(group, id, SystemTime::UNIX_EPOCH)
}

/// As [`mean_ns`], but only from a report written at or after `since`: a report left by
/// an earlier run (say, one filtered to other benchmarks) is not this run's figure.
pub fn mean_ns_since(group: &str, id: &str, since: SystemTime) -> Option<f64> {
    estimate_ns_since(group, id, "mean", since)
}

/// As [`mean_ns_since`], but the slope of time over iterations (criterion's linear
/// fit, when it sampled linearly, else the mean): what one more iteration costs, without
/// the fixed cost of an iteration batch (say, starting a network's threads).
pub fn slope_ns_since(group: &str, id: &str, since: SystemTime) -> Option<f64> {
    estimate_ns_since(group, id, "slope", since).or_else(|| mean_ns_since(group, id, since))
}

fn estimate_ns_since(group: &str, id: &str, estimate: &str, since: SystemTime) -> Option<f64> {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = dir
        .join("criterion")
        .join(group)
        .join(id)
        .join("new/estimates.json");
    let written = std::fs::metadata(&path).ok()?.modified().ok()?;
    if written < since {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json[estimate]["point_estimate"].as_f64()
}

/// One busy-spinning thread per available core, for as long as the value lives; dropping
/// it stops and joins them.
///
/// The spinners never yield or sleep, so the threads under test only run when the
/// scheduler preempts a spinner: this is a machine shared with other busy programs, where
/// a design that spins while its partner is descheduled loses badly.
pub struct Load {
    stop: Arc<AtomicBool>,
    spinners: Vec<JoinHandle<()>>,
}

impl Load {
    /// Starts the spinners, one per core that `available_parallelism` reports (one if it
    /// cannot tell).
    pub fn start() -> Self {
        let cores = thread::available_parallelism().map_or(1, |n| n.get());
        let stop = Arc::new(AtomicBool::new(false));
        let spinners = (0..cores)
            .map(|i| {
                let stop = Arc::clone(&stop);
                thread::Builder::new()
                    .name(format!("load-{i}"))
                    .spawn(move || spin(&stop))
                    .expect("spawn a load thread")
            })
            .collect();
        Load { stop, spinners }
    }

    /// How many spinners run.
    pub fn threads(&self) -> usize {
        self.spinners.len()
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for s in self.spinners.drain(..) {
            // A spinner only does arithmetic: it cannot panic, so there is nothing to report.
            let _ = s.join();
        }
    }
}

/// Burns CPU until `stop` is set: arithmetic the optimiser cannot remove, and a spin hint,
/// never a yield.
fn spin(stop: &AtomicBool) {
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    while !stop.load(Ordering::Relaxed) {
        for _ in 0..64 {
            x = black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
            std::hint::spin_loop();
        }
    }
    black_box(x);
}

/// Burns CPU until the process is killed: the body of a load *process* (for benchmarks
/// that fork, where load threads would make the parent multithreaded).
pub fn spin_forever() -> ! {
    let never = AtomicBool::new(false);
    spin(&never);
    unreachable!("nothing sets the flag")
}

/// What [`paired`] found: the ratio `a / b` of each pair of runs, sorted.
pub struct Paired {
    pub ratios: Vec<f64>,
}

impl Paired {
    /// The middle ratio: half the pairs favoured `a` at least this much.
    pub fn median(&self) -> f64 {
        self.quantile(0.5)
    }

    /// The ratio below which a fraction `q` of the pairs fell.
    pub fn quantile(&self, q: f64) -> f64 {
        let last = self.ratios.len().saturating_sub(1);
        self.ratios
            .get((q * last as f64).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    }
}

/// Runs `a` and `b` one after the other `pairs` times, alternating which goes first, and
/// returns the ratio of their times in each pair.
///
/// On a shared machine the time of a run drifts by several times over seconds (other
/// programs' load, which core the threads land on); criterion's separate means for `a`
/// and `b`, taken seconds apart, inherit that drift in their ratio. Runs side by side in
/// time see the same machine, so the median of the per-pair ratios is the steadier figure.
pub fn paired(pairs: usize, a: impl Fn() -> f64, b: impl Fn() -> f64) -> Paired {
    let mut ratios: Vec<f64> = (0..pairs)
        .map(|i| {
            let (ta, tb) = if i % 2 == 0 {
                let ta = a();
                (ta, b())
            } else {
                let tb = b();
                (a(), tb)
            };
            ta / tb
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    Paired { ratios }
}
