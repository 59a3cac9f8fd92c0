//! Python's `signal.signal(SIGUSR1, handler)` in a long-running worker, as a channel of
//! signals that the worker reads in an alt beside its work.
//!
//! | Python                                            | csp                                             |
//! |---------------------------------------------------|-------------------------------------------------|
//! | `signal.signal(SIGUSR1, report)`                   | `let (pump, sigs) = csp::signals(&[SIGUSR1, SIGTERM])?` and the pump in the network |
//! | the handler interrupts the loop anywhere          | `sigs` is one more guard: handled between two jobs |
//! | `stop = Event()`; SIGTERM handler `stop.set()`    | `SIGTERM => break` in the worker's alt          |
//! | `os.kill(os.getpid(), SIGUSR1)`                    | `SIGUSR1.send_to(pid)`                           |
//!
//! The worker takes jobs from a generator forever. SIGUSR1 makes it report its status,
//! SIGTERM makes it finish the job in hand and shut down cleanly: its inputs retire, the
//! generator and the pump see that and end, and `run` returns. Here an operator process
//! sends the signals to the program itself (after the pump says its handlers are in
//! place), so the example ends by itself; run it with `--wait` and send them yourself
//! (`kill -USR1 <pid>`, `kill -TERM <pid>`).
//!
//! `cargo run --release --example signals`

use std::time::Duration;

use csp::signals::{signals_armed, Signal, SIGTERM, SIGUSR1};
use csp::{Alt, Channel, Input, Output, Parallel, Process};

/// What the worker did: jobs done, status reports given.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Done {
    jobs: u64,
    reports: u32,
}

enum Event {
    Signal(Signal),
    Job(u64),
}

fn worker(sigs: Input<Signal>, jobs: Input<u64>, reports: Output<u64>) -> Process<Done> {
    Process::with_ends("worker", (sigs, jobs, reports), |(sigs, jobs, reports)| {
        let mut done = Done::default();
        loop {
            // Signals first: a pending SIGTERM is seen before the next job starts.
            let event = Alt::new()
                .input(&sigs, Event::Signal)
                .input(&jobs, Event::Job)
                .pri_select()?;
            match event {
                Event::Signal(SIGUSR1) => {
                    done.reports += 1;
                    println!("status: {} jobs done", done.jobs);
                    let _ = reports.write(done.jobs); // nobody reads them under --wait
                }
                Event::Signal(SIGTERM) => {
                    println!("SIGTERM: shutting down after {} jobs", done.jobs);
                    break;
                }
                Event::Signal(other) => println!("ignored {other}"),
                Event::Job(n) => {
                    std::thread::sleep(Duration::from_micros(200)); // the work
                    done.jobs = n + 1;
                }
            }
        }
        Ok(done) // dropping `sigs` and `jobs` ends the pump and the generator
    })
}

fn generator(jobs: Output<u64>) -> Process<Done> {
    Process::with_ends("generator", jobs, |jobs| {
        for n in 0.. {
            if jobs.write(n).is_err() {
                break; // the worker retired its input
            }
        }
        Ok(Done::default())
    })
}

/// Sends the program SIGUSR1 twice, then SIGTERM, each once the previous was handled.
fn operator(armed: Input<u32>, reports: Input<u64>) -> Process<Done> {
    Process::with_ends("operator", (armed, reports), |(armed, reports)| {
        let pid = armed.read()?; // the pump's handlers are in place
        let mut last = 0;
        for _ in 0..2 {
            std::thread::sleep(Duration::from_millis(50));
            SIGUSR1.send_to(pid)?;
            let jobs = reports.read()?;
            assert!(jobs >= last, "the count only grows");
            last = jobs;
        }
        SIGTERM.send_to(pid)?;
        Ok(Done::default())
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let wait = std::env::args().any(|a| a == "--wait");
    let (armed_tx, armed) = Channel::<u32>::new().one2one();
    let (pump, sigs) = signals_armed(&[SIGUSR1, SIGTERM], armed_tx)?;
    let (jobs_tx, jobs) = Channel::<u64>::new().one2one();
    let (reports_tx, reports) = Channel::<u64>::new().fifo(4).one2one();
    let mut net = Parallel::new()
        .add(pump.map(|()| Done::default()))
        .add(generator(jobs_tx))
        .add(worker(sigs, jobs, reports_tx));
    if wait {
        println!(
            "pid {}: send SIGUSR1 for a status, SIGTERM to stop",
            std::process::id()
        );
        drop((armed, reports));
    } else {
        net = net.add(operator(armed, reports));
    }
    let results = net.run()?;
    let done = results[2].as_ref().expect("the worker's result");
    println!(
        "worker: {} jobs, {} status reports; pump and generator ended: {}",
        done.jobs,
        done.reports,
        results[0].is_some() && results[1].is_some()
    );
    Ok(())
}
