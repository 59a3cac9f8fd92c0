//! Spawn-and-join: a `Parallel` of trivial processes, started, run and joined, in ns per
//! process. Green processes (100,000 per network) beside thread processes (1,000 per
//! network: a thread costs tens of microseconds to start), measured in the same run.
//!
//! Then, outside criterion (a size, not a time): the resident memory each blocked
//! process adds, green (100,000 of them) and on threads (1,000), each blocked on a read
//! of a channel of its own, read from `/proc/self/statm` before the channels are made
//! and while every process waits.
//!
//! `cargo bench -p csp --bench green_spawn` (`-- --memory-only` skips the timings).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use csp::{Channel, Parallel, Process};

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
    if !std::env::args().any(|a| a == "--memory-only") {
        timings();
    }
    let green = resident_per_blocked_process(GREEN, true);
    let threads = resident_per_blocked_process(THREADS, false);
    println!(
        "\nresident memory per blocked process: green {:.0} B ({GREEN} processes), \
         threads {:.0} B ({THREADS} processes), ratio {:.3} (green / threads)",
        green,
        threads,
        green / threads
    );
}

/// Resident bytes per process of a network of `n` processes, each blocked on a read of
/// a channel of its own, green or on threads: measured by a thread process once all
/// have started and had time to block, before it lets them end.
fn resident_per_blocked_process(n: u64, green: bool) -> f64 {
    let before = resident_bytes();
    let (writers, readers): (Vec<_>, Vec<_>) =
        (0..n).map(|_| Channel::<u64>::new().one2one()).unzip();
    let started = Arc::new(AtomicUsize::new(0));
    let mut net = Parallel::new();
    for rx in readers {
        let started = started.clone();
        let p = Process::with_ends("blocked", rx, move |rx| {
            started.fetch_add(1, Ordering::SeqCst);
            // Retired when the probe drops the writers: the read fails, the process ends.
            Ok(rx.read().unwrap_or(0))
        });
        net.push(if green { p.green() } else { p });
    }
    let measured = Arc::new(AtomicUsize::new(0));
    let seen = measured.clone();
    net.push(Process::with_ends("probe", writers, move |writers| {
        while started.load(Ordering::SeqCst) < n as usize {
            std::thread::sleep(Duration::from_millis(10));
        }
        // The last ones to start are about to park: give them a moment.
        std::thread::sleep(Duration::from_millis(200));
        seen.store(resident_bytes(), Ordering::SeqCst);
        drop(writers);
        Ok(0)
    }));
    net.run().expect("blocked network");
    let during = measured.load(Ordering::SeqCst);
    during.saturating_sub(before) as f64 / n as f64
}

/// The resident set of this OS process, from `/proc/self/statm` (its second field, in
/// pages; assumed 4 KiB).
fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|f| f.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn timings() {
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
