//! Python's `multiprocessing.Manager().dict()`, shared by worker processes, as a
//! key-value server process (`csp::components::kv_server`).
//!
//! | Python                                              | csp                                         |
//! |-----------------------------------------------------|---------------------------------------------|
//! | `manager = Manager(); d = manager.dict()`           | `let (server, clients) = kv_server(.., n)`  |
//! | `Process(target=work, args=(d,))`                   | `Process::with_ends(.., client, ..).forked()` |
//! | `d[k] = v` / `d.get(k)` / `d.pop(k)` / `len(d)`     | `kv.set(k, v)` / `kv.get(k)` / `kv.remove(k)` / `kv.len()` |
//! | `with lock: d[k] = d.get(k, 0) + 1`                 | `kv.update(k, \|n\| Some(n.unwrap_or(0) + 1))` |
//! | `dict(d)` after `join()`                            | the server's result: the final map          |
//!
//! Four workers in forked OS processes and two on threads count the words of their
//! share of a text into one shared dict. Every update is atomic (the server serves one
//! request at a time), so no count is lost, with no lock in sight.
//!
//! `cargo run --release --example manager_dict`

use std::collections::BTreeMap;

use csp::components::kv_server;
use csp::{NetworkError, Parallel, Process};

const TEXT: &str = "the quick brown fox jumps over the lazy dog the fox and the dog \
                    are friends now and the quick dog naps while the brown fox runs";

fn main() -> Result<(), NetworkError> {
    const WORKERS: usize = 6;
    let words: Vec<&'static str> = TEXT.split_whitespace().collect();
    let (server, clients) = kv_server::<String, u64>("word counts", WORKERS);
    let mut net = Parallel::new().add(server.map(|counts| counts));
    for (w, kv) in clients.into_iter().enumerate() {
        // Worker w takes every WORKERS-th word, starting at w.
        let share: Vec<&'static str> = words.iter().skip(w).step_by(WORKERS).copied().collect();
        let worker = Process::with_ends(format!("worker{w}"), kv, move |kv| {
            for word in share {
                kv.update(word.to_string(), |n| Some(n.copied().unwrap_or(0) + 1))?;
            }
            Ok(BTreeMap::new())
        });
        // Four in forked OS processes, two on threads: the dict does not care.
        net = net.add(if w < 4 { worker.forked() } else { worker });
    }
    let results = net.run()?;
    let counts = results[0].clone().unwrap_or_default();
    let total: u64 = counts.values().sum();
    println!(
        "{} words counted by {WORKERS} workers (4 forked), {} distinct:",
        total,
        counts.len()
    );
    let mut by_count: Vec<(&String, &u64)> = counts.iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (word, n) in by_count.iter().take(5) {
        println!("  {word:<8} {n}");
    }
    println!("no count lost: {}", total as usize == words.len());
    Ok(())
}
