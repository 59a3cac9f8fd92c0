//! Spawn-and-join: a `Parallel` of trivial processes, started, run and joined, in ns per
//! process. Green processes (100,000 per network) beside thread processes (1,000 per
//! network: a thread costs tens of microseconds to start), measured in the same run.
//!
//! `cargo bench -p csp --bench green_spawn`.

mod common;

use std::time::{Duration, Instant, SystemTime};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use csp::{Parallel, Process};

const GREEN: u64 = 100_000;
const THREADS: u64 = 1_000;

/// Runs `iters` networks of `n` trivial processes; the time of the runs only.
fn spawn_join(iters: u64, n: u64, green: bool) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let net: Parallel<u64> = (0..n).map(|i| Process::from_fn("p", move || i)).collect();
        let net = if green { net.green() } else { net };
        let start = Instant::now();
        let results = net.run().expect("trivial network");
        total += start.elapsed();
        assert_eq!(results.len() as u64, n);
    }
    total
}

fn main() {
    let started = SystemTime::now();
    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("spawn_join");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(GREEN));
    g.bench_function(BenchmarkId::new("green", GREEN), |b| {
        b.iter_custom(|iters| spawn_join(iters, GREEN, true))
    });
    g.throughput(Throughput::Elements(THREADS));
    g.bench_function(BenchmarkId::new("threads", THREADS), |b| {
        b.iter_custom(|iters| spawn_join(iters, THREADS, false))
    });
    g.finish();
    c.final_summary();
    let mean = |id: &str| common::mean_ns_since("spawn_join", id, started);
    match (
        mean(&format!("green/{GREEN}")),
        mean(&format!("threads/{THREADS}")),
    ) {
        (Some(green), Some(threads)) => {
            let (green, threads) = (green / GREEN as f64, threads / THREADS as f64);
            println!(
                "\nspawn_join: green {green:.0} ns/process, threads {threads:.0} ns/process, \
                 ratio {:.3} (green / threads)",
                green / threads
            );
        }
        _ => println!("\nspawn_join: not measured in this run"),
    }
}
