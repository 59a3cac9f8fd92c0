//! Python's `queue.PriorityQueue` between a dispatcher and a worker, as a `priority(n)`
//! channel: the worker always takes the most urgent job waiting.
//!
//! | Python                                   | csp                                            |
//! |------------------------------------------|------------------------------------------------|
//! | `q = queue.PriorityQueue(maxsize=16)`    | `Channel::<Job>::new().priority(16).one2one()` |
//! | `q.put((priority, job))`                 | `tx.write(job)` (`Job`'s `Ord` is the priority) |
//! | `q.get()`: the lowest `(priority, ..)`   | `rx.read()`: the greatest `Job` (equal ones oldest first) |
//! | `q.put(None)` to stop the worker         | drop `tx`: the worker drains the queue, then stops |
//!
//! The dispatcher queues a burst of jobs while the worker is busy with the first one;
//! the worker then serves them most urgent first, and among equally urgent jobs in the
//! order they came.
//!
//! `cargo run --release --example priority_jobs`

use std::cmp::Ordering;

use csp::{Channel, NetworkError, Parallel, Process};

/// A job; `Ord` by urgency only, so equally urgent jobs keep their arrival order.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Job {
    urgency: u8,
    name: String,
}

impl PartialEq for Job {
    fn eq(&self, other: &Self) -> bool {
        self.urgency == other.urgency
    }
}
impl Eq for Job {}
impl PartialOrd for Job {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Job {
    fn cmp(&self, other: &Self) -> Ordering {
        self.urgency.cmp(&other.urgency)
    }
}

fn main() -> Result<(), NetworkError> {
    let (tx, rx) = Channel::<Job>::new().named("jobs").priority(16).one2one();
    // Two handshakes make the run repeatable: the worker has taken the first job before
    // the burst is queued, and the whole burst is queued before the worker goes on.
    let (started_tx, started) = Channel::<()>::new().named("started").one2one();
    let (queued_tx, queued) = Channel::<()>::new().named("queued").one2one();
    let burst = [
        (1, "rotate logs"),
        (5, "page the on-call"),
        (3, "rebuild index"),
        (5, "restart the database"),
        (1, "send newsletter"),
        (3, "renew certificate"),
    ];
    let results = Parallel::new()
        .add(Process::with_ends(
            "dispatcher",
            (tx, started, queued_tx),
            move |(tx, started, queued_tx)| {
                tx.write(Job {
                    urgency: 0,
                    name: "warm cache".into(),
                })?;
                started.read()?; // the worker is busy with the first job now
                for (urgency, name) in burst {
                    tx.write(Job {
                        urgency,
                        name: name.into(),
                    })?;
                }
                queued_tx.write(())?;
                Ok(Vec::new()) // dropping `tx`: no more jobs
            },
        ))
        .add(Process::with_ends(
            "worker",
            (rx, started_tx, queued),
            |(rx, started_tx, queued)| {
                let mut done = Vec::new();
                let first = rx.read()?;
                started_tx.write(())?;
                queued.read()?; // busy with the first job while the burst queues
                done.push(first.name);
                for job in &rx {
                    done.push(format!("{} (urgency {})", job.name, job.urgency));
                }
                Ok(done)
            },
        ))
        .run()?;
    println!("the worker did, in order:");
    for (i, job) in results[1].iter().flatten().enumerate() {
        println!("  {}. {job}", i + 1);
    }
    Ok(())
}
