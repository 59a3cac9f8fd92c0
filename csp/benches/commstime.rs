//! Channel speed against crossbeam-channel, measured in the same run.
//!
//! - `commstime`: the occam / JCSP / Go benchmark (prefix → delta → succ → prefix, delta
//!   also feeding a consumer), four rendezvous communications per loop, each process on
//!   its own OS thread; beside the same network on `crossbeam_channel::bounded(0)`.
//! - `fifo_1024`: one writer streaming to one reader through a `Fifo(1024)` channel;
//!   beside `crossbeam_channel::bounded(1024)`.
//!
//! Each measurement times only the steady state (threads started, first message through),
//! so thread start-up is not counted. After criterion's own report, the run prints each
//! pair's ratio (`csp / crossbeam`, below 1 means csp is faster), read back from
//! criterion's estimates.
//!
//! `cargo bench -p csp --bench commstime`

mod common;

use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use csp::components::{delta, prefix, succ};
use csp::{Channel, Input, Process};

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

fn commstime(c: &mut Criterion) {
    let mut g = c.benchmark_group("commstime");
    // One element = one loop = four communications.
    g.throughput(Throughput::Elements(1));
    g.sample_size(20).measurement_time(Duration::from_secs(6));
    g.bench_function(BenchmarkId::new("csp", "threads"), |b| {
        b.iter_custom(commstime_csp)
    });
    g.bench_function(BenchmarkId::new("crossbeam", "threads"), |b| {
        b.iter_custom(commstime_crossbeam)
    });
    g.finish();
}

fn fifo(c: &mut Criterion) {
    let mut g = c.benchmark_group("fifo_1024");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20).measurement_time(Duration::from_secs(4));
    g.bench_function(BenchmarkId::new("csp", "1to1"), |b| b.iter_custom(fifo_csp));
    g.bench_function(BenchmarkId::new("crossbeam", "1to1"), |b| {
        b.iter_custom(fifo_crossbeam)
    });
    g.finish();
}

criterion_group!(benches, commstime, fifo);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    println!("\nratios (csp / crossbeam, same run; < 1 means csp is faster):");
    for (group, param, per) in [("commstime", "threads", 4.0), ("fifo_1024", "1to1", 1.0)] {
        let ours = common::mean_ns(group, &format!("csp/{param}"));
        let theirs = common::mean_ns(group, &format!("crossbeam/{param}"));
        match (ours, theirs) {
            (Some(o), Some(t)) => println!(
                "  {group}: csp {:.1} ns/msg, crossbeam {:.1} ns/msg, ratio {:.2}",
                o / per,
                t / per,
                o / t
            ),
            _ => println!("  {group}: not measured in this run"),
        }
    }
}
