//! `components::kv_server` (Python's `Manager().dict()`) against a `Mutex<HashMap>`
//! shared by the same threads, in the same run: 8 client threads each doing the same
//! mix of requests (a `set` then a `get` of a key of its own, and every tenth request a
//! `get` of a shared key). Each iteration is one request; the ratio `kv / mutex` is
//! printed with both figures as requests per second (from criterion's slope, so the
//! network's start is not counted).
//!
//! The server serialises every request through one process, as a Manager does, so the
//! mutex (an uncontended lock is a few ns) is the floor, not a peer: the point is what
//! the lock-free, crash-isolated form costs. Python's `Manager().dict()` under the same
//! mix is `benches/peers/manager_dict.py` (`benches/peers/run.sh kv`).
//! Run: `cargo bench -p csp --bench kv`.

mod common;

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use criterion::Criterion;
use csp::components::kv_server;
use csp::{Parallel, Process};

const CLIENTS: u64 = 8;

/// The request mix of client `c`'s `i`-th pair of requests.
fn key(c: u64, i: u64) -> u64 {
    if i % 10 == 0 {
        u64::MAX // shared
    } else {
        c
    }
}

fn kv(requests: u64) -> Duration {
    let per_client = (requests / CLIENTS / 2).max(1);
    let (server, clients) = kv_server::<u64, u64>("kv", CLIENTS as usize);
    let mut net = Parallel::new().add(server.map(|_| ()));
    for (c, client) in (0..CLIENTS).zip(clients) {
        net.push(Process::with_ends(
            format!("client{c}"),
            client,
            move |kv| {
                for i in 0..per_client {
                    kv.set(key(c, i), i)?;
                    black_box(kv.get(key(c, i))?);
                }
                Ok(())
            },
        ));
    }
    let started = Instant::now();
    net.run().expect("the kv network runs");
    started.elapsed()
}

fn mutex(requests: u64) -> Duration {
    let per_client = (requests / CLIENTS / 2).max(1);
    let map = Mutex::new(HashMap::<u64, u64>::new());
    let started = Instant::now();
    std::thread::scope(|s| {
        for c in 0..CLIENTS {
            let map = &map;
            s.spawn(move || {
                for i in 0..per_client {
                    map.lock().unwrap().insert(key(c, i), i);
                    black_box(map.lock().unwrap().get(&key(c, i)).copied());
                }
            });
        }
    });
    started.elapsed()
}

fn main() {
    let since = SystemTime::now();
    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("kv_8_clients");
    g.measurement_time(Duration::from_secs(4));
    g.bench_function("kv_server", |b| b.iter_custom(kv));
    g.bench_function("mutex_hashmap", |b| b.iter_custom(mutex));
    g.finish();
    let kv = common::slope_ns_since("kv_8_clients", "kv_server", since);
    let mutex = common::slope_ns_since("kv_8_clients", "mutex_hashmap", since);
    if let (Some(k), Some(m)) = (kv, mutex) {
        println!(
            "kv_8_clients: kv_server {:.0} requests/s, Mutex<HashMap> {:.0} requests/s, ratio kv/mutex {:.1}",
            1e9 / k,
            1e9 / m,
            k / m
        );
    }
    c.final_summary();
}
