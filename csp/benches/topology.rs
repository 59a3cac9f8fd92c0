//! Network validation speed: `Parallel::validate` on large networks, no process runs.
//!
//! - `validate/pipeline/N`: N processes in a line, N-1 rendezvous channels, every process
//!   named `stage` (so validation also pays for renaming them `stage[0]`, `stage[1]`, ...);
//!   N = 10k, 100k, 1M.
//! - `validate/grid/W`: a W×W grid, each node writing to its right and down neighbours
//!   over rendezvous channels: acyclic, no warning.
//! - `validate/torus/W`: the same grid with its rows and columns wrapped round, so the
//!   whole network is one strongly connected set: the rendezvous-cycle warning (and its
//!   example cycle) is computed.
//!
//! Each network is built once, outside the measurement; only `validate()` is timed (it
//! builds the flattened topology, then checks it). Throughput is per process. After
//! criterion's own report, the run prints the mean time per process at each size and the
//! ratio of the per-process cost between the largest and the smallest pipeline (near 1
//! means validation grows linearly).
//!
//! `cargo bench -p csp --bench topology`

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use csp::{Channel, Input, Output, Parallel, Process};

/// `n` processes in a line: the first only writes, the last only reads.
fn pipeline(n: usize) -> Parallel<'static, ()> {
    assert!(n >= 2);
    let mut net = Parallel::new();
    let (first_out, mut prev_in) = Channel::<u64>::new().one2one();
    net.push(Process::with_ends("stage", first_out, |_ends| Ok(())));
    for _ in 1..n - 1 {
        let (out, next_in) = Channel::<u64>::new().one2one();
        let ends: (Input<u64>, Output<u64>) = (prev_in, out);
        net.push(Process::with_ends("stage", ends, |_ends| Ok(())));
        prev_in = next_in;
    }
    net.push(Process::with_ends("stage", prev_in, |_ends| Ok(())));
    net
}

/// A `w`×`w` grid, each node writing to its right and down neighbours; with `wrap`, the
/// last column writes to the first and the last row to the first (a torus).
fn grid(w: usize, wrap: bool) -> Parallel<'static, ()> {
    let at = |row: usize, col: usize| row * w + col;
    let mut inputs: Vec<Vec<Input<u64>>> = (0..w * w).map(|_| Vec::new()).collect();
    let mut outputs: Vec<Vec<Output<u64>>> = (0..w * w).map(|_| Vec::new()).collect();
    let mut link = |from: usize, to: usize| {
        let (out, inp) = Channel::<u64>::new().one2one();
        outputs[from].push(out);
        inputs[to].push(inp);
    };
    for row in 0..w {
        for col in 0..w {
            if col + 1 < w || wrap {
                link(at(row, col), at(row, (col + 1) % w));
            }
            if row + 1 < w || wrap {
                link(at(row, col), at((row + 1) % w, col));
            }
        }
    }
    inputs
        .into_iter()
        .zip(outputs)
        .map(|ends| Process::with_ends("node", ends, |_ends| Ok(())))
        .collect()
}

/// What one benchmarked network's report said (checked once, before timing).
struct Measured {
    function: &'static str,
    param: String,
    processes: u64,
    warnings: usize,
}

/// Times `net.validate()` under `function/param`; the network must validate without
/// errors.
fn bench_validate(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    function: &'static str,
    param: String,
    net: &Parallel<'static, ()>,
) -> Measured {
    let processes = net.len() as u64;
    let start = Instant::now();
    let report = net.validate();
    let once = start.elapsed();
    assert!(report.is_ok(), "{function}/{param}: {report}");
    let warnings = report.warnings().len();
    drop(report);
    // Room for the 10 samples of one validation each that the largest sizes come to.
    g.measurement_time(MEASUREMENT.max(once * 15));
    g.throughput(Throughput::Elements(processes));
    g.bench_function(BenchmarkId::new(function, &param), |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(net.validate());
            }
            start.elapsed()
        })
    });
    Measured {
        function,
        param,
        processes,
        warnings,
    }
}

const GROUP: &str = "validate";
/// Measurement time of the small sizes; the big ones get what ten validations take.
const MEASUREMENT: Duration = Duration::from_secs(3);

fn validate(c: &mut Criterion) -> Vec<Measured> {
    let mut done = Vec::new();
    let mut g = c.benchmark_group(GROUP);
    // One sample is a few validations of a network of up to 1M processes: flat sampling
    // (the same iteration count in every sample) keeps the big sizes to ~10 runs.
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500));
    for n in [10_000, 100_000, 1_000_000] {
        let net = pipeline(n);
        done.push(bench_validate(&mut g, "pipeline", n.to_string(), &net));
    }
    for w in [100, 316] {
        for (function, wrap) in [("grid", false), ("torus", true)] {
            let net = grid(w, wrap);
            done.push(bench_validate(&mut g, function, format!("{w}x{w}"), &net));
        }
    }
    g.finish();
    done
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let done = validate(&mut c);
    c.final_summary();
    println!("\nvalidate(), mean time per process (same run):");
    let mut per_process = Vec::new();
    for m in &done {
        let id = format!("{}/{}", m.function, m.param);
        match common::mean_ns(GROUP, &id) {
            Some(ns) => {
                let per = ns / m.processes as f64;
                println!(
                    "  {id:>18}: {:>9} processes, {:>10.3} ms per validate, {:>7.1} ns/process, {} warning(s)",
                    m.processes,
                    ns / 1e6,
                    per,
                    m.warnings
                );
                per_process.push((id, per));
            }
            None => println!("  {id:>18}: not measured in this run"),
        }
    }
    let per = |id: &str| {
        per_process
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, per)| *per)
    };
    for (big, small) in [
        ("pipeline/1000000", "pipeline/10000"),
        ("torus/316x316", "torus/100x100"),
        ("grid/316x316", "grid/100x100"),
    ] {
        if let (Some(b), Some(s)) = (per(big), per(small)) {
            println!(
                "  per-process cost {big} / {small}: {:.2} (1 = linear growth)",
                b / s
            );
        }
    }
}
