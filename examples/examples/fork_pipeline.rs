//! Python's `os.pipe()` + `os.fork()`, `multiprocessing.Pipe()` and a worker pool fed by a
//! `multiprocessing.Queue`, written as CSP processes placed in forked OS processes.
//!
//! | Python                                         | csp                                              |
//! |------------------------------------------------|--------------------------------------------------|
//! | `r, w = os.pipe(); if os.fork() == 0: ...`     | a channel; the writing process `.forked()`       |
//! | `os.write(w, msg)` / `os.read(r, 32)`          | `tx.write(msg)` / `rx.read()`: typed values      |
//! | `a, b = Pipe()` (duplex)                       | `csp::duplex("pipe")`: one channel each way       |
//! | `Process(target=f, args=(q,)).start()`, `join` | `Process::with_ends(..).forked()`, `run()`       |
//! | `Queue(maxsize=5)` shared by workers           | `Channel::new().fifo(5).any2any()`               |
//! | a `None` sentinel per worker                   | the producer ends: every worker sees `Retired`   |
//! | a worker that crashes: the pool hangs or dies  | `run()` names it (`Killed`, `Exited`, `Panicked`) |
//!
//! Each part is one `Parallel` whose forked processes run in child processes of their own
//! (they print their pid); the channels between them keep their semantics across the
//! fork (a rendezvous write returns once the reader has the value), because `run` moves
//! every channel that crosses into shared memory before it forks.
//!
//! `cargo run --release --example fork_pipeline`

use std::error::Error;

use csp::{Channel, ChannelError, Failure, NetworkError, Parallel, Process};

fn pid() -> u32 {
    std::process::id()
}

/// `os.pipe()` + `os.fork()`: the child writes one message, the parent reads it.
fn pipe_and_fork() -> Result<(), NetworkError> {
    println!("== os.pipe() + os.fork(): the child writes, the parent reads");
    let (w, r) = Channel::<String>::new().named("pipe").one2one();
    let results = Parallel::new()
        .add(
            Process::with_ends("child", w, |w| {
                w.write(format!("child processing (pid {})", pid()))?;
                Ok(String::new())
            })
            .forked(),
        )
        .add(Process::with_ends("parent", r, |r| Ok(r.read()?)))
        .run()?;
    let read = results[1].clone().unwrap_or_default();
    println!("parent (pid {}) read: {read}", pid());
    Ok(())
}

/// `multiprocessing.Pipe()` in duplex mode: the child talks, the parent answers.
fn duplex_pipe() -> Result<(), NetworkError> {
    println!("== multiprocessing.Pipe(): a child talks, the parent answers");
    let (parent_end, child_end) = csp::duplex::<String, String>("pipe");
    let results = Parallel::new()
        .add(
            Process::with_ends("talker", child_end, |conn| {
                conn.send("i am a child (talker)".to_string())?;
                let reply = conn.recv()?;
                Ok(format!("talker got: {reply}"))
            })
            .forked(),
        )
        .add(Process::with_ends("parent", parent_end, |conn| {
            let said = conn.recv()?;
            conn.send("i am the parent's response".to_string())?;
            Ok(format!("parent got: {said}"))
        }))
        .run()?;
    for line in results.into_iter().flatten() {
        println!("{line}");
    }
    Ok(())
}

/// A pool of forked workers fed by a bounded queue: `Queue(maxsize=5)` shared by
/// `Process`es, no sentinels.
fn worker_pool() -> Result<(), Box<dyn Error>> {
    const WORKERS: usize = 4;
    const JOBS: u64 = 40;
    println!("== Queue(maxsize=5) + {WORKERS} worker Processes");
    let (jobs_tx, jobs_rx) = Channel::<u64>::new().named("jobs").fifo(5).any2any();
    let (done_tx, done_rx) = Channel::<(u64, u32)>::new().named("done").fifo(8).any2one();
    let mut pool = Parallel::new().add(Process::with_ends("producer", jobs_tx, |jobs| {
        for n in 1..=JOBS {
            jobs.write(n)?; // waits while five jobs are queued
        }
        Ok(JOBS) // dropping `jobs` retires it: no sentinel needed
    }));
    for w in 0..WORKERS {
        let ends = (jobs_rx.clone(), done_tx.clone());
        pool = pool.add(
            Process::with_ends(format!("worker{w}"), ends, |(jobs, done)| {
                let mut handled = 0;
                for n in &jobs {
                    done.write((n * n, pid()))?;
                    handled += 1;
                }
                Ok(handled)
            })
            .forked(),
        );
    }
    drop((jobs_rx, done_tx));
    let (sum_tx, sum_rx) = Channel::<(u64, usize, bool)>::local()
        .named("sum")
        .fifo(1)
        .one2one();
    let results = pool
        .add(Process::with_ends("collector", done_rx, move |done| {
            let (mut sum, mut pids) = (0, std::collections::BTreeSet::new());
            for (square, worker) in &done {
                sum += square;
                pids.insert(worker);
            }
            // The collector runs in the parent: no job was done here.
            sum_tx.write((sum, pids.len(), !pids.contains(&pid())))?;
            Ok(sum)
        }))
        .boundary(&sum_rx)
        .run()?;
    let handled: u64 = results[1..=WORKERS].iter().flatten().sum();
    let (sum, workers, away) = sum_rx.read()?;
    let here = if away { "none" } else { "some" };
    println!("{handled} jobs handled in {workers} worker process(es), {here} in the parent");
    println!("sum of squares 1..={JOBS} = {sum}");
    Ok(())
}

/// A worker that crashes (here it exits, as `os._exit(3)` would) is named in the error;
/// the rest of the network ends instead of waiting for it.
fn crashing_worker() -> Result<(), Box<dyn Error>> {
    println!("== a worker that exits in the middle of its job");
    let (tx, rx) = Channel::<u64>::new().named("results").one2one();
    let err = Parallel::new()
        .add(
            Process::with_ends("unlucky", tx, |tx| {
                tx.write(1)?;
                std::process::exit(3)
            })
            .forked(),
        )
        .add(Process::with_ends("reader", rx, |rx| {
            let mut got = 0;
            loop {
                match rx.read() {
                    Ok(_) => got += 1,
                    Err(ChannelError::Poisoned { .. }) => return Ok(got),
                    Err(e) => return Err(e.into()),
                }
            }
        }))
        .run()
        .expect_err("the worker exits");
    for failure in err.failures() {
        if let Failure::Exited { process, code } = failure {
            println!("{process} exited with code {code}; the reader was told, not hung");
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    pipe_and_fork()?;
    duplex_pipe()?;
    worker_pool()?;
    crashing_worker()?;
    Ok(())
}
