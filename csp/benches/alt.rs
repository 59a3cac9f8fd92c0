//! Alt speed: against a plain read and against crossbeam-channel's select, measured in
//! the same run.
//!
//! - `alt_one_ready`: one thread, eight `Fifo(1024)` channels of which exactly one (the
//!   last, so `pri_select` polls the seven empty ones first) holds a value. Each
//!   iteration writes a value and takes it again: by an alt over all eight inputs
//!   (`pri_select`, `select`), by a plain `read` on that one channel, and by
//!   `crossbeam_channel::Select` over eight `bounded(1024)` receivers (plus a plain
//!   crossbeam `recv` for reference).
//! - `alt_contended`: four writer threads, each writing in turn to two of eight rendezvous
//!   channels; one reader alting (`fair_select`) over all eight. Time per message
//!   received; beside the same network on `crossbeam_channel::bounded(0)` and `Select`.
//! - `alt_rendezvous_pingpong`: two threads alting on both ends of rendezvous channels:
//!   the pinger alts over an output on `ping` and an idle input, the ponger over the
//!   input of `ping` and an idle output, then back the other way on `pong`. One iteration
//!   is a round trip (two communications); beside crossbeam's `select!` with send and
//!   recv arms.
//!
//! Multi-threaded measurements time only the steady state (threads started, met at a
//! barrier), so thread start-up is not counted. After criterion's own report, the run
//! prints each pair's ratio, read back from criterion's estimates.
//!
//! `cargo bench -p csp --bench alt`

mod common;

use std::hint::black_box;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use csp::{Alt, Channel, Fair, Input, Output};

/// Channels per alt.
const N: usize = 8;
/// The channel that holds the value in `alt_one_ready`.
const READY: usize = N - 1;

fn fifo_channels(n: usize) -> (Vec<Output<u64>>, Vec<Input<u64>>) {
    (0..n)
        .map(|_| Channel::<u64>::new().fifo(1024).one2one())
        .unzip()
}

fn rendezvous_channels(n: usize) -> (Vec<Output<u64>>, Vec<Input<u64>>) {
    (0..n).map(|_| Channel::<u64>::new().one2one()).unzip()
}

/// An alt over every input, each handler giving the value.
fn alt_over(inputs: &[Input<u64>]) -> Alt<'_, u64> {
    let mut alt = Alt::new();
    for i in inputs {
        alt = alt.input(i, |v| v);
    }
    alt
}

// ---- alt_one_ready ----

fn one_ready_pri_select(iters: u64) -> Duration {
    let (outs, ins) = fifo_channels(N);
    let start = Instant::now();
    for i in 0..iters {
        outs[READY].write(i).expect("reader alive");
        let v = alt_over(&ins).pri_select().expect("one guard ready");
        black_box(v);
    }
    start.elapsed()
}

fn one_ready_select(iters: u64) -> Duration {
    let (outs, ins) = fifo_channels(N);
    let start = Instant::now();
    for i in 0..iters {
        outs[READY].write(i).expect("reader alive");
        let v = alt_over(&ins).select().expect("one guard ready");
        black_box(v);
    }
    start.elapsed()
}

/// The same choice written with `alt!`: the guards live on the stack, nothing is boxed.
fn one_ready_macro(iters: u64) -> Duration {
    let (outs, ins) = fifo_channels(N);
    let [a, b, c, d, e, f, g, h] = &ins[..] else {
        panic!("eight channels")
    };
    let start = Instant::now();
    for i in 0..iters {
        outs[READY].write(i).expect("reader alive");
        let v = csp::alt! { pri:
            recv(a) -> v => v,
            recv(b) -> v => v,
            recv(c) -> v => v,
            recv(d) -> v => v,
            recv(e) -> v => v,
            recv(f) -> v => v,
            recv(g) -> v => v,
            recv(h) -> v => v,
        }
        .expect("one guard ready");
        black_box(v);
    }
    start.elapsed()
}

fn one_ready_read(iters: u64) -> Duration {
    let (outs, ins) = fifo_channels(N);
    let start = Instant::now();
    for i in 0..iters {
        outs[READY].write(i).expect("reader alive");
        let v = ins[READY].read().expect("value buffered");
        black_box(v);
    }
    start.elapsed()
}

fn one_ready_crossbeam_select(iters: u64) -> Duration {
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..N)
        .map(|_| crossbeam_channel::bounded::<u64>(1024))
        .unzip();
    let start = Instant::now();
    for i in 0..iters {
        txs[READY].send(i).expect("receiver alive");
        let mut sel = crossbeam_channel::Select::new();
        for r in &rxs {
            sel.recv(r);
        }
        let op = sel.select();
        let k = op.index();
        let v = op.recv(&rxs[k]).expect("value buffered");
        black_box(v);
    }
    start.elapsed()
}

fn one_ready_crossbeam_recv(iters: u64) -> Duration {
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..N)
        .map(|_| crossbeam_channel::bounded::<u64>(1024))
        .unzip();
    let start = Instant::now();
    for i in 0..iters {
        txs[READY].send(i).expect("receiver alive");
        let v = rxs[READY].recv().expect("value buffered");
        black_box(v);
    }
    start.elapsed()
}

// ---- alt_contended ----

/// Writers and the messages each sends: `total` split among `WRITERS`.
const WRITERS: usize = 4;

fn quota(total: u64, w: usize) -> u64 {
    total / WRITERS as u64 + u64::from((w as u64) < total % WRITERS as u64)
}

fn contended_csp(iters: u64) -> Duration {
    let (outs, ins) = rendezvous_channels(N);
    let barrier = Barrier::new(WRITERS + 1);
    // Each writer owns its outputs (ends are `!Sync`) and hands them back when done, so
    // they live until the scope ends: no channel retires while the reader still alts
    // over it, and the reader stops after exactly `iters` messages.
    let mut outs = outs.into_iter();
    thread::scope(|s| {
        for w in 0..WRITERS {
            let pair: Vec<Output<u64>> = outs.by_ref().take(N / WRITERS).collect();
            let barrier = &barrier;
            s.spawn(move || {
                barrier.wait();
                for i in 0..quota(iters, w) {
                    pair[i as usize % pair.len()]
                        .write(i)
                        .expect("reader alive");
                }
                pair
            });
        }
        let mut fair = Fair::new();
        let mut sum = 0u64;
        barrier.wait();
        let start = Instant::now();
        for _ in 0..iters {
            sum = sum.wrapping_add(alt_over(&ins).fair_select(&mut fair).expect("alt"));
        }
        let elapsed = start.elapsed();
        black_box(sum);
        elapsed
    })
}

fn contended_crossbeam(iters: u64) -> Duration {
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..N).map(|_| crossbeam_channel::bounded::<u64>(0)).unzip();
    let barrier = Barrier::new(WRITERS + 1);
    thread::scope(|s| {
        for (w, pair) in txs.chunks(N / WRITERS).enumerate() {
            let barrier = &barrier;
            s.spawn(move || {
                barrier.wait();
                for i in 0..quota(iters, w) {
                    pair[i as usize % pair.len()]
                        .send(i)
                        .expect("receiver alive");
                }
            });
        }
        let mut sum = 0u64;
        barrier.wait();
        let start = Instant::now();
        for _ in 0..iters {
            let mut sel = crossbeam_channel::Select::new();
            for r in &rxs {
                sel.recv(r);
            }
            let op = sel.select();
            let k = op.index();
            sum = sum.wrapping_add(op.recv(&rxs[k]).expect("writers alive"));
        }
        let elapsed = start.elapsed();
        black_box(sum);
        elapsed
    })
}

// ---- alt_rendezvous_pingpong ----

/// What the alt chose; the idle guards must never be.
#[derive(Debug, PartialEq)]
enum Pick {
    Sent,
    Got(u64),
    Idle,
}

fn pingpong_csp(iters: u64) -> Duration {
    let (ping_tx, ping_rx) = Channel::<u64>::new().named("ping").one2one();
    let (pong_tx, pong_rx) = Channel::<u64>::new().named("pong").one2one();
    // Idle channels, one pair per thread: the far ends stay alive for the whole run and
    // nobody uses them, so these guards never become ready.
    let idle: Vec<(Output<u64>, Input<u64>)> = (0..4)
        .map(|k| Channel::<u64>::new().named(format!("idle{k}")).one2one())
        .collect();
    let mut idle = idle.into_iter();
    let (far_out_0, pinger_idle_in) = idle.next().expect("4 idle channels");
    let (pinger_idle_out, far_in_1) = idle.next().expect("4 idle channels");
    let (far_out_2, ponger_idle_in) = idle.next().expect("4 idle channels");
    let (ponger_idle_out, far_in_3) = idle.next().expect("4 idle channels");
    let (pinger_idle_in, pinger_idle_out) = (&pinger_idle_in, &pinger_idle_out);
    let barrier = Barrier::new(2);
    let barrier = &barrier;
    let elapsed = thread::scope(|s| {
        // Ends are `!Sync`: the ponger owns its ends.
        let ponger = s.spawn(move || {
            let (ponger_idle_in, ponger_idle_out) = (&ponger_idle_in, &ponger_idle_out);
            barrier.wait();
            for _ in 0..iters {
                let got = Alt::new()
                    .input(&ping_rx, Pick::Got)
                    .output(ponger_idle_out, 0, || Pick::Idle)
                    .select()
                    .expect("ping");
                let Pick::Got(v) = got else {
                    panic!("ponger chose {got:?}")
                };
                let sent = Alt::new()
                    .output(&pong_tx, v, || Pick::Sent)
                    .input(ponger_idle_in, Pick::Got)
                    .select()
                    .expect("pong");
                assert_eq!(sent, Pick::Sent, "ponger chose the idle input");
            }
        });
        barrier.wait();
        let start = Instant::now();
        for i in 0..iters {
            let sent = Alt::new()
                .output(&ping_tx, i, || Pick::Sent)
                .input(pinger_idle_in, Pick::Got)
                .select()
                .expect("ping");
            assert_eq!(sent, Pick::Sent, "pinger chose the idle input");
            let got = Alt::new()
                .input(&pong_rx, Pick::Got)
                .output(pinger_idle_out, 0, || Pick::Idle)
                .select()
                .expect("pong");
            assert_eq!(got, Pick::Got(i));
        }
        let elapsed = start.elapsed();
        ponger.join().expect("ponger");
        elapsed
    });
    drop((far_out_0, far_in_1, far_out_2, far_in_3));
    elapsed
}

fn pingpong_crossbeam(iters: u64) -> Duration {
    use crossbeam_channel::{bounded, select};
    let (ping_tx, ping_rx) = bounded::<u64>(0);
    let (pong_tx, pong_rx) = bounded::<u64>(0);
    let idle: Vec<_> = (0..4).map(|_| bounded::<u64>(0)).collect();
    let (pinger_idle_in, pinger_idle_out) = (&idle[0].1, &idle[1].0);
    let (ponger_idle_in, ponger_idle_out) = (&idle[2].1, &idle[3].0);
    let barrier = Barrier::new(2);
    thread::scope(|s| {
        let ponger = s.spawn(|| {
            barrier.wait();
            for _ in 0..iters {
                let v = select! {
                    recv(ping_rx) -> v => v.expect("ping"),
                    send(ponger_idle_out, 0) -> _ => panic!("ponger chose the idle output"),
                };
                select! {
                    send(pong_tx, v) -> r => r.expect("pong"),
                    recv(ponger_idle_in) -> _ => panic!("ponger chose the idle input"),
                }
            }
        });
        barrier.wait();
        let start = Instant::now();
        for i in 0..iters {
            select! {
                send(ping_tx, i) -> r => r.expect("ping"),
                recv(pinger_idle_in) -> _ => panic!("pinger chose the idle input"),
            }
            let v = select! {
                recv(pong_rx) -> v => v.expect("pong"),
                send(pinger_idle_out, 0) -> _ => panic!("pinger chose the idle output"),
            };
            assert_eq!(v, i);
        }
        let elapsed = start.elapsed();
        ponger.join().expect("ponger");
        elapsed
    })
}

// ---- groups ----

fn alt_one_ready(c: &mut Criterion) {
    let mut g = c.benchmark_group("alt_one_ready");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g.bench_function(BenchmarkId::new("csp_pri_select", N), |b| {
        b.iter_custom(one_ready_pri_select)
    });
    g.bench_function(BenchmarkId::new("csp_select", N), |b| {
        b.iter_custom(one_ready_select)
    });
    g.bench_function(BenchmarkId::new("csp_alt_macro_pri", N), |b| {
        b.iter_custom(one_ready_macro)
    });
    g.bench_function(BenchmarkId::new("csp_read", 1), |b| {
        b.iter_custom(one_ready_read)
    });
    g.bench_function(BenchmarkId::new("crossbeam_select", N), |b| {
        b.iter_custom(one_ready_crossbeam_select)
    });
    g.bench_function(BenchmarkId::new("crossbeam_recv", 1), |b| {
        b.iter_custom(one_ready_crossbeam_recv)
    });
    g.finish();
}

fn alt_contended(c: &mut Criterion) {
    let mut g = c.benchmark_group("alt_contended");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    g.bench_function(BenchmarkId::new("csp_fair_select", "4w8ch"), |b| {
        b.iter_custom(contended_csp)
    });
    g.bench_function(BenchmarkId::new("crossbeam_select", "4w8ch"), |b| {
        b.iter_custom(contended_crossbeam)
    });
    g.finish();
}

fn alt_pingpong(c: &mut Criterion) {
    let mut g = c.benchmark_group("alt_rendezvous_pingpong");
    // One element = one round trip = two communications.
    g.throughput(Throughput::Elements(1));
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    g.bench_function(BenchmarkId::new("csp_alt", "both_ends"), |b| {
        b.iter_custom(pingpong_csp)
    });
    g.bench_function(BenchmarkId::new("crossbeam_select", "both_ends"), |b| {
        b.iter_custom(pingpong_crossbeam)
    });
    g.finish();
}

criterion_group!(benches, alt_one_ready, alt_contended, alt_pingpong);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    println!("\nratios (same run; < 1 means the first is faster):");
    let pairs = [
        // (group, numerator, denominator, unit, what)
        (
            "alt_one_ready",
            "csp_pri_select/8",
            "csp_read/1",
            "ns/msg",
            "alt / read (goal <= 2)",
        ),
        (
            "alt_one_ready",
            "csp_select/8",
            "csp_read/1",
            "ns/msg",
            "alt / read (goal <= 2)",
        ),
        (
            "alt_one_ready",
            "csp_alt_macro_pri/8",
            "csp_read/1",
            "ns/msg",
            "alt! / read (goal <= 2)",
        ),
        (
            "alt_one_ready",
            "csp_alt_macro_pri/8",
            "crossbeam_select/8",
            "ns/msg",
            "csp alt! / crossbeam select",
        ),
        (
            "alt_one_ready",
            "csp_pri_select/8",
            "crossbeam_select/8",
            "ns/msg",
            "csp alt / crossbeam select",
        ),
        (
            "alt_one_ready",
            "csp_select/8",
            "crossbeam_select/8",
            "ns/msg",
            "csp alt / crossbeam select",
        ),
        (
            "alt_one_ready",
            "csp_read/1",
            "crossbeam_recv/1",
            "ns/msg",
            "csp read / crossbeam recv",
        ),
        (
            "alt_contended",
            "csp_fair_select/4w8ch",
            "crossbeam_select/4w8ch",
            "ns/msg",
            "csp / crossbeam",
        ),
        (
            "alt_rendezvous_pingpong",
            "csp_alt/both_ends",
            "crossbeam_select/both_ends",
            "ns/round trip",
            "csp / crossbeam",
        ),
    ];
    for (group, ours, theirs, unit, what) in pairs {
        match (common::mean_ns(group, ours), common::mean_ns(group, theirs)) {
            (Some(o), Some(t)) => println!(
                "  {group}: {ours} {o:.1} {unit}, {theirs} {t:.1} {unit}, {what}: {:.2}",
                o / t
            ),
            _ => println!("  {group}: {ours} / {theirs} not measured in this run"),
        }
    }
}
