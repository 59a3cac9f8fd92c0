//! Channel speed against crossbeam-channel, measured in the same run.
//!
//! - `commstime`: the occam / JCSP / Go benchmark (prefix → delta → succ → prefix, delta
//!   also feeding a consumer), four rendezvous communications per loop, each process on
//!   its own OS thread; beside the same network on `crossbeam_channel::bounded(0)`.
//! - `fifo_1024`: one writer streaming to one reader through a `Fifo(1024)` channel;
//!   beside `crossbeam_channel::bounded(1024)`.
//!
//! - `commstime/green` and `commstime/green_1worker`: the same commstime network with its
//!   four processes green (`Placement::Green`): on one green worker per core, and all
//!   on one worker (every communication then a coroutine switch, no system call); each
//!   reported against crossbeam and against csp on threads.
//!
//! Both pairs run twice, in two criterion groups: `idle`, and `loaded`, with one
//! busy-spinning thread per core beside them for the whole group (`common::Load`), because
//! this machine is shared and a design that wins only on an idle machine loses for users.
//! Ids are `<group>/<bench>/<csp|crossbeam>`, e.g. `loaded/commstime/csp`.
//!
//! Each measurement times only the steady state (threads started, first message through),
//! so thread start-up is not counted. After criterion's own report, the run prints each
//! pair's ratio (`csp / crossbeam`, below 1 means csp is faster) against the project's
//! goal, read back from criterion's estimates of this run. Then, for each pair criterion
//! ran, it runs csp and crossbeam alternately 15 times (`common::paired`) and prints the
//! median and quartiles of the per-pair ratios: on a shared machine two means taken
//! seconds apart drift apart, runs side by side do not.
//!
//! `cargo bench -p csp --bench commstime` (1.5–2 minutes on two cores once built;
//! `-- idle` or `-- loaded/fifo` runs a part).

mod common;

use std::thread;
use std::time::{Duration, Instant, SystemTime};

use common::Load;
use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use csp::components::{delta, prefix, succ};
use csp::{Channel, Input, Parallel, Process};

/// Commstime on csp channels, built from the components; returns the time of `loops`
/// loops once the network runs.
fn commstime_csp(loops: u64) -> Duration {
    let (a_out, a_in) = Channel::<u64>::new().named("a").one2one();
    let (b_out, b_in) = Channel::<u64>::new().named("b").one2one();
    let (c_out, c_in) = Channel::<u64>::new().named("c").one2one();
    let (d_out, d_in) = Channel::<u64>::new().named("d").one2one();
    let consumer = Process::with_ends("consumer", d_in, move |d: Input<u64>| {
        d.read()?;
        let start = Instant::now();
        for _ in 0..loops {
            d.read()?;
        }
        let elapsed = start.elapsed();
        d.poison(); // ends the loop: poison travels round it
        Ok(elapsed)
    });
    let (_, _, _, elapsed) = csp::par!(
        prefix(0, c_in, a_out),
        delta(a_in, vec![b_out, d_out]),
        succ(b_in, c_out),
        consumer,
    )
    .expect("commstime network");
    elapsed.expect("the consumer finished")
}

/// Commstime with its four processes green, on `workers` green workers (0: one per
/// core).
fn commstime_green_on(loops: u64, workers: usize) -> Duration {
    let (a_out, a_in) = Channel::<u64>::new().named("a").one2one();
    let (b_out, b_in) = Channel::<u64>::new().named("b").one2one();
    let (c_out, c_in) = Channel::<u64>::new().named("c").one2one();
    let (d_out, d_in) = Channel::<u64>::new().named("d").one2one();
    let consumer = Process::with_ends("consumer", d_in, move |d: Input<u64>| {
        d.read()?;
        let start = Instant::now();
        for _ in 0..loops {
            d.read()?;
        }
        let elapsed = start.elapsed();
        d.poison();
        Ok(Some(elapsed))
    });
    let results = Parallel::new()
        .add(prefix(0, c_in, a_out).map(|()| None))
        .add(delta(a_in, vec![b_out, d_out]).map(|()| None))
        .add(succ(b_in, c_out).map(|()| None))
        .add(consumer)
        .green()
        .green_workers(workers)
        .run()
        .expect("commstime network");
    results[3].flatten().expect("the consumer finished")
}

fn commstime_green(loops: u64) -> Duration {
    commstime_green_on(loops, 0)
}

fn commstime_green_1worker(loops: u64) -> Duration {
    commstime_green_on(loops, 1)
}

/// The same network on crossbeam's zero-capacity channels, one thread per process.
fn commstime_crossbeam(loops: u64) -> Duration {
    use crossbeam_channel::bounded;
    let (a_tx, a_rx) = bounded::<u64>(0);
    let (b_tx, b_rx) = bounded::<u64>(0);
    let (c_tx, c_rx) = bounded::<u64>(0);
    let (d_tx, d_rx) = bounded::<u64>(0);
    thread::scope(|s| {
        s.spawn(move || {
            if a_tx.send(0).is_err() {
                return;
            }
            while let Ok(v) = c_rx.recv() {
                if a_tx.send(v).is_err() {
                    return;
                }
            }
        });
        s.spawn(move || {
            while let Ok(v) = a_rx.recv() {
                if b_tx.send(v).is_err() || d_tx.send(v).is_err() {
                    return;
                }
            }
        });
        s.spawn(move || {
            while let Ok(v) = b_rx.recv() {
                if c_tx.send(v + 1).is_err() {
                    return;
                }
            }
        });
        let consumer = s.spawn(move || {
            d_rx.recv().expect("network running");
            let start = Instant::now();
            for _ in 0..loops {
                d_rx.recv().expect("network running");
            }
            start.elapsed()
            // dropping d_rx ends the loop: each process's send or recv fails in turn
        });
        consumer.join().expect("consumer")
    })
}

/// `n` values through a `Fifo(1024)` channel, one writer thread, one reader thread.
fn fifo_csp(n: u64) -> Duration {
    let (tx, rx) = Channel::<u64>::new().fifo(1024).one2one();
    let start = Instant::now();
    let writer = thread::spawn(move || {
        for i in 0..n {
            tx.write(i).expect("reader alive");
        }
    });
    let mut sum = 0u64;
    for v in &rx {
        sum = sum.wrapping_add(v);
    }
    let elapsed = start.elapsed();
    writer.join().expect("writer");
    assert_eq!(sum, n * n.saturating_sub(1) / 2);
    elapsed
}

fn fifo_crossbeam(n: u64) -> Duration {
    let (tx, rx) = crossbeam_channel::bounded::<u64>(1024);
    let start = Instant::now();
    let writer = thread::spawn(move || {
        for i in 0..n {
            tx.send(i).expect("reader alive");
        }
    });
    let mut sum = 0u64;
    for v in &rx {
        sum = sum.wrapping_add(v);
    }
    let elapsed = start.elapsed();
    writer.join().expect("writer");
    assert_eq!(sum, n * n.saturating_sub(1) / 2);
    elapsed
}

/// A named csp variant of a benchmark.
type Variant = (&'static str, fn(u64) -> Duration);

/// One benchmark: csp against its crossbeam baseline, and how criterion should time it.
struct Pair {
    /// The middle part of the id, `<group>/<name>/<csp|crossbeam>`.
    name: &'static str,
    /// Communications per iteration, to print ns per communication.
    per_iter: u64,
    /// Time measured per benchmark, after a one-second warm-up.
    measurement: Duration,
    csp: fn(u64) -> Duration,
    crossbeam: fn(u64) -> Duration,
    /// Other csp variants of the same benchmark (id `<group>/<name>/<variant>`), each
    /// reported against both.
    variants: &'static [Variant],
    /// The goal for `csp / crossbeam`, idle and loaded.
    goal: [f64; 2],
    /// Iterations of each run in the paired comparison (a few tens of ms).
    paired_iters: u64,
}

const PAIRS: [Pair; 2] = [
    Pair {
        // One iteration is one loop: four rendezvous communications.
        name: "commstime",
        per_iter: 4,
        measurement: Duration::from_secs(12),
        csp: commstime_csp,
        crossbeam: commstime_crossbeam,
        variants: &[
            ("green", commstime_green),
            ("green_1worker", commstime_green_1worker),
        ],
        goal: [0.5, 1.0],
        paired_iters: 5_000,
    },
    Pair {
        name: "fifo_1024",
        per_iter: 1,
        measurement: Duration::from_secs(6),
        csp: fifo_csp,
        crossbeam: fifo_crossbeam,
        variants: &[],
        goal: [1.0, 1.0],
        paired_iters: 200_000,
    },
];

const GROUPS: [&str; 2] = ["idle", "loaded"];

/// Runs every pair in `group`. Flat sampling with few samples gives each sample many
/// iterations (hundreds of ms), which a preempted thread under load does not swamp.
fn run_group(c: &mut Criterion, group: &str) {
    let mut g = c.benchmark_group(group);
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1));
    for pair in &PAIRS {
        g.throughput(Throughput::Elements(pair.per_iter))
            .measurement_time(pair.measurement);
        g.bench_function(BenchmarkId::new(pair.name, "csp"), |b| {
            b.iter_custom(pair.csp)
        });
        g.bench_function(BenchmarkId::new(pair.name, "crossbeam"), |b| {
            b.iter_custom(pair.crossbeam)
        });
        for &(variant, run) in pair.variants {
            g.bench_function(BenchmarkId::new(pair.name, variant), |b| b.iter_custom(run));
        }
    }
    g.finish();
}

/// Pairs of runs in the paired comparison.
const PAIRED_RUNS: usize = 15;

fn idle(c: &mut Criterion, started: SystemTime) -> Vec<String> {
    run_group(c, GROUPS[0]);
    paired_lines(GROUPS[0], started)
}

fn loaded(c: &mut Criterion, started: SystemTime) -> Vec<String> {
    let load = Load::start();
    println!(
        "loaded: {} busy-spinning threads beside each benchmark",
        load.threads()
    );
    run_group(c, GROUPS[1]);
    let lines = paired_lines(GROUPS[1], started);
    drop(load);
    lines
}

/// The paired comparison of each pair criterion ran in `group` (under the group's load).
fn paired_lines(group: &str, started: SystemTime) -> Vec<String> {
    PAIRS
        .iter()
        .filter(|pair| {
            common::mean_ns_since(group, &format!("{}/csp", pair.name), started).is_some()
        })
        .map(|pair| {
            let n = pair.paired_iters;
            let runs = common::paired(
                PAIRED_RUNS,
                || (pair.csp)(n).as_secs_f64(),
                || (pair.crossbeam)(n).as_secs_f64(),
            );
            format!(
                "{group} {}: paired csp / crossbeam, {PAIRED_RUNS} alternating runs: median {:.2} \
                 (quartiles {:.2}–{:.2})",
                pair.name,
                runs.median(),
                runs.quantile(0.25),
                runs.quantile(0.75),
            )
        })
        .collect()
}

fn main() {
    let started = SystemTime::now();
    let mut c = Criterion::default().configure_from_args();
    let mut paired = idle(&mut c, started);
    paired.extend(loaded(&mut c, started));
    c.final_summary();
    println!("\nratios (csp / crossbeam, same run; < 1 means csp is faster):");
    for (g, group) in GROUPS.iter().enumerate() {
        for pair in &PAIRS {
            println!("  {}", ratio_line(group, pair, pair.goal[g], started));
            for &(variant, _) in pair.variants {
                println!("  {}", variant_line(group, pair, variant, started));
            }
        }
    }
    for line in paired {
        println!("  {line}");
    }
}

/// `<group> <bench>: csp .. ns/msg, crossbeam .. ns/msg, ratio .. (goal <= ..: met)`, from
/// the estimates criterion wrote since `started`.
fn ratio_line(group: &str, pair: &Pair, goal: f64, started: SystemTime) -> String {
    let name = pair.name;
    let mean = |who: &str| common::mean_ns_since(group, &format!("{name}/{who}"), started);
    let (Some(ours), Some(theirs)) = (mean("csp"), mean("crossbeam")) else {
        return format!("{group} {name}: not measured in this run");
    };
    let per = pair.per_iter as f64;
    let ratio = ours / theirs;
    let verdict = if ratio <= goal { "met" } else { "missed" };
    format!(
        "{group} {name}: csp {:.1} ns/msg, crossbeam {:.1} ns/msg, ratio {ratio:.2} \
         (goal <= {goal}: {verdict})",
        ours / per,
        theirs / per,
    )
}

/// `<group> <bench>/<variant>: .. ns/msg, .. × crossbeam, .. × csp on threads`.
fn variant_line(group: &str, pair: &Pair, variant: &str, started: SystemTime) -> String {
    let name = pair.name;
    let mean = |who: &str| common::mean_ns_since(group, &format!("{name}/{who}"), started);
    let (Some(ours), Some(crossbeam), Some(threads)) =
        (mean(variant), mean("crossbeam"), mean("csp"))
    else {
        return format!("{group} {name}/{variant}: not measured in this run");
    };
    format!(
        "{group} {name}/{variant}: {:.1} ns/msg, ratio {:.3} to crossbeam, {:.3} to csp on threads",
        ours / pair.per_iter as f64,
        ours / crossbeam,
        ours / threads,
    )
}
