//! `components::Farm` against `rayon`'s `par_iter` on the same CPU-bound work, in the
//! same run: each iteration is one value through `work`, so the figures are ns per value.
//!
//! - `farm_coarse`: about 20 µs of arithmetic per value; `farm_fine`: about 2 µs, where
//!   the farm's per-value channel cost (three communications) starts to show.
//! - Farms of one worker per core streaming the values through channels, on threads
//!   and forked, and the farm's data-parallel `map_all` (a rayon pool of its own), against
//!   `par_iter().map()` over the same values on rayon's global pool (one thread per core).
//!
//! After each group the ratio `farm / rayon` is printed. The same work in Python's
//! `multiprocessing.Pool` is `benches/peers/pool_farm.py` (`benches/peers/run.sh pool`).
//! Run: `cargo bench -p csp --bench farm`.

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use criterion::Criterion;
use csp::components::Farm;
use csp::{Channel, Parallel, Process};
use rayon::prelude::*;

/// `rounds` steps of a xorshift generator: work the optimiser cannot skip, the same as
/// `work` in `benches/peers/pool_farm.py`.
fn work(seed: u64, rounds: u32) -> u64 {
    let mut x = seed | 1;
    for _ in 0..rounds {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn farm(n: u64, rounds: u32, forked: bool) -> Duration {
    let (jobs, jobs_in) = Channel::<u64>::new().fifo(64).one2one();
    let (done, done_in) = Channel::<u64>::new().fifo(64).one2one();
    let farm = Farm::new("farm", cores(), move |x: u64| work(x, rounds));
    let farm = if forked { farm.forked() } else { farm };
    let mut net: Parallel = farm.processes(jobs_in, done).into_iter().collect();
    net.push(Process::with_ends("source", jobs, move |jobs| {
        Ok((0..n).try_for_each(|i| jobs.write(i))?)
    }));
    net.push(Process::with_ends("sink", done_in, |done| {
        done.iter().for_each(|v| {
            black_box(v);
        });
        Ok(())
    }));
    let started = Instant::now();
    net.run().expect("the farm runs");
    started.elapsed()
}

fn rayon(n: u64, rounds: u32) -> Duration {
    let started = Instant::now();
    let out: Vec<u64> = (0..n).into_par_iter().map(|x| work(x, rounds)).collect();
    black_box(out);
    started.elapsed()
}

/// One benchmark of group `name`, measured 4 s.
fn bench(c: &mut Criterion, name: &str, id: &str, run: impl Fn(u64) -> Duration) {
    let mut g = c.benchmark_group(name);
    g.measurement_time(Duration::from_secs(4));
    g.bench_function(id, |b| b.iter_custom(&run));
    g.finish();
}

const GRAINS: [(&str, u32); 2] = [("farm_coarse", 20_000), ("farm_fine", 2_000)];

fn main() {
    let since = SystemTime::now();
    let mut c = Criterion::default().configure_from_args();
    // The forked farms first: a program refuses to fork once it has threads, and rayon's
    // pool keeps its threads for the life of the program.
    #[cfg(target_os = "linux")]
    for (name, rounds) in GRAINS {
        bench(&mut c, name, "farm_forked", |n| farm(n, rounds, true));
    }
    for (name, rounds) in GRAINS {
        bench(&mut c, name, "farm_threads", |n| farm(n, rounds, false));
        bench(&mut c, name, "farm_map_all", |n| {
            let items: Vec<u64> = (0..n).collect();
            let started = Instant::now();
            let out = Farm::new("farm", cores(), move |x: u64| work(x, rounds))
                .map_all(items)
                .expect("the farm runs");
            black_box(out);
            started.elapsed()
        });
        bench(&mut c, name, "rayon", |n| rayon(n, rounds));
    }
    for (name, _) in GRAINS {
        let rayon = common::slope_ns_since(name, "rayon", since);
        for id in ["farm_threads", "farm_forked", "farm_map_all"] {
            if let (Some(f), Some(r)) = (common::slope_ns_since(name, id, since), rayon) {
                println!(
                    "{name}: {id} {f:.0} ns, rayon {r:.0} ns per value, ratio {id}/rayon {:.2}",
                    f / r
                );
            }
        }
    }
    c.final_summary();
}
