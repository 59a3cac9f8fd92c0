//! The green executor (`Placement::Green`): large networks, failures named, timers that
//! do not block a worker, processes that stay on the worker that started them, green
//! and thread processes sharing channels.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

use csp::{
    Channel, ChannelError, Failure, Level, Lint, NetworkError, Parallel, Process, ScopedProcess,
    Timer,
};
use csp_tests::watchdog;

/// A ring of `n` green processes passing a token `laps` times: each adds one per pass.
/// The last process starts the token and counts the laps.
fn ring(n: usize, laps: u64) -> Result<Vec<Option<u64>>, NetworkError> {
    let (writers, mut readers): (Vec<_>, Vec<_>) =
        (0..n).map(|_| Channel::<u64>::new().one2one()).unzip();
    readers.rotate_right(1); // process i reads channel i - 1 and writes channel i
    let mut net = Parallel::new().lint(Lint::RendezvousCycle, Level::Allow);
    for (i, (tx, rx)) in writers.into_iter().zip(readers).enumerate() {
        let last = i == n - 1;
        net.push(Process::with_ends("node", (tx, rx), move |(tx, rx)| {
            let mut token = 0;
            if last {
                tx.write(0)?;
            }
            for lap in 0..laps {
                token = rx.read()?;
                if !(last && lap == laps - 1) {
                    tx.write(token + 1)?;
                }
            }
            Ok(token)
        }));
    }
    net.green().run()
}

#[test]
fn a_ring_of_100_000_green_processes_passes_a_token_10_times() {
    let n = 100_000;
    let results = watchdog(300, "ring", move || ring(n, 10)).unwrap();
    // The token went round 10 times, one increment per hop.
    assert_eq!(results[n - 1], Some(10 * n as u64 - 1));
    assert_eq!(results[0], Some(9 * n as u64));
}

#[test]
#[ignore = "a million processes: minutes and some GB; run by hand"]
fn a_ring_of_1_000_000_green_processes_passes_a_token_10_times() {
    let n = 1_000_000;
    let results = watchdog(3600, "ring", move || ring(n, 10)).unwrap();
    assert_eq!(results[n - 1], Some(10 * n as u64 - 1));
}

#[test]
fn a_panic_in_a_green_process_is_reported_naming_it_and_poisons_its_partner() {
    let (tx, rx) = Channel::<u32>::new().named("never").one2one();
    let err = watchdog(60, "panic", move || {
        Parallel::new()
            .add(Process::with_ends("boom", tx, |_tx| -> Result<u32, _> {
                panic!("on purpose")
            }))
            .add(Process::with_ends("waiter", rx, |rx| Ok(rx.read()?)))
            .green()
            .run()
            .unwrap_err()
    });
    let NetworkError::Failed(failures) = &err else {
        panic!("{err}")
    };
    // The waiter met poison: it stopped, which is not a failure.
    assert_eq!(failures.len(), 1, "{failures:?}");
    let Failure::Panicked { process, message } = &failures[0] else {
        panic!("{failures:?}")
    };
    assert_eq!(process, "boom");
    assert_eq!(message, "on purpose");
}

#[test]
fn a_green_process_that_met_poison_stops_and_its_result_is_none() {
    let (tx, rx) = Channel::<u32>::new().one2one();
    let results = watchdog(60, "poison", move || {
        Parallel::new()
            .add(Process::with_ends("poisoner", tx, |tx| {
                tx.write(1)?;
                tx.poison();
                Ok(1)
            }))
            .add(Process::with_ends("reader", rx, |rx| {
                let mut n = 0;
                // Ends on poison; the error is swallowed, the rule still applies.
                while rx.read().is_ok() {
                    n += 1;
                }
                Ok(n)
            }))
            .green()
            .run()
            .unwrap()
    });
    assert_eq!(results, vec![Some(1), None]);
}

/// One worker, two processes: while one waits on a timer (a read with a timeout, then
/// a sleep), the other, on the same OS thread, gets all its work done.
#[test]
fn a_green_process_waiting_on_a_timer_does_not_block_its_worker() {
    let (outside_tx, timed_rx) = Channel::<u32>::new().named("silent").one2one();
    let (work_tx, work_rx) = Channel::<u32>::new().one2one();
    let worked = Arc::new(AtomicBool::new(false));
    let seen = worked.clone();
    let results = watchdog(60, "timer", move || {
        let timed = Process::with_ends("timed", timed_rx, move |rx| {
            let e = rx.read_timeout(Duration::from_millis(300)).unwrap_err();
            assert!(e.is_timeout(), "{e}");
            let after_timeout = seen.load(Ordering::SeqCst);
            Timer::sleep(Duration::from_millis(300));
            Ok(u32::from(after_timeout) + 2 * u32::from(seen.load(Ordering::SeqCst)))
        });
        let feeder = Process::with_ends("feeder", work_tx, |tx| {
            for i in 0..100 {
                tx.write(i)?;
            }
            Ok(0)
        });
        let worker = Process::with_ends("worker", work_rx, move |rx| {
            let sum = rx.iter().sum::<u32>();
            worked.store(true, Ordering::SeqCst);
            Ok(sum)
        });
        let results = Parallel::new()
            .add(timed)
            .add(feeder)
            .add(worker)
            .boundary(&outside_tx)
            .green()
            .green_workers(1)
            .run()
            .unwrap();
        drop(outside_tx);
        results
    });
    // The other two did all their 100 exchanges during the timed wait.
    assert_eq!(results, vec![Some(3), Some(0), Some(4950)]);
}

/// A started coroutine never moves: every process sees one OS thread for its whole
/// life, across thousands of waits, while processes that had not started were spread
/// over the workers.
#[test]
fn a_started_green_process_stays_on_the_worker_that_started_it() {
    let procs = 64;
    let seen: Arc<Mutex<Vec<HashSet<ThreadId>>>> =
        Arc::new(Mutex::new(vec![HashSet::new(); procs]));
    let (tx, rx) = Channel::<usize>::new().any2any();
    let mut net = Parallel::new();
    for i in 0..procs {
        let seen = seen.clone();
        let (tx, rx) = (tx.clone(), rx.clone());
        net.push(Process::with_ends("hop", (tx, rx), move |(tx, rx)| {
            for round in 0..200 {
                seen.lock().unwrap()[i].insert(std::thread::current().id());
                // Half write, half read: every one of them waits, often.
                if i % 2 == 0 {
                    tx.write(round)?;
                } else {
                    rx.read()?;
                }
            }
            Ok(())
        }));
    }
    drop((tx, rx));
    watchdog(120, "stay", move || {
        net.green().green_workers(2).run().unwrap()
    });
    let seen = seen.lock().unwrap();
    assert!(seen.iter().all(|threads| threads.len() == 1), "{seen:?}");
}

/// Green processes may borrow from the caller's stack, as thread processes do: `run`
/// ends every coroutine before it returns.
#[test]
fn green_processes_borrow_local_data() {
    let data: Vec<u64> = (1..=1000).collect();
    let chunks: Vec<&[u64]> = data.chunks(100).collect();
    let sums = Parallel::new()
        .add(ScopedProcess::from_fn("all", || data.iter().sum::<u64>()))
        .green()
        .run()
        .unwrap();
    assert_eq!(sums, vec![Some(500_500)]);
    let sums: Vec<_> = chunks
        .iter()
        .map(|c| ScopedProcess::from_fn("chunk", move || c.iter().sum::<u64>()).green())
        .collect::<Parallel<_>>()
        .run()
        .unwrap();
    assert_eq!(sums.iter().flatten().sum::<u64>(), 500_500);
}

/// Green writers and thread writers into one channel, read by a green reader and a
/// thread reader: every message arrives exactly once.
#[test]
fn green_and_thread_processes_share_channels_under_load() {
    let writers = 8;
    let per_writer = 5_000u64;
    let (tx, rx) = Channel::<u64>::new().any2any();
    let total = Arc::new(AtomicUsize::new(0));
    let mut net = Parallel::new();
    for w in 0..writers {
        let p = Process::with_ends("writer", tx.clone(), move |tx| {
            for i in 0..per_writer {
                tx.write(i)?;
            }
            Ok(0)
        });
        net.push(if w % 2 == 0 { p.green() } else { p });
    }
    for r in 0..2 {
        let total = total.clone();
        let p = Process::with_ends("reader", rx.clone(), move |rx| {
            let mut sum = 0;
            for v in &rx {
                sum += v;
                total.fetch_add(1, Ordering::Relaxed);
            }
            Ok(sum)
        });
        net.push(if r == 0 { p.green() } else { p });
    }
    drop((tx, rx));
    let results = watchdog(120, "mixed", move || net.run().unwrap());
    let read: u64 = results[writers..].iter().flatten().sum();
    assert_eq!(read, writers as u64 * per_writer * (per_writer - 1) / 2);
    assert_eq!(total.load(Ordering::Relaxed), writers * per_writer as usize);
}

#[test]
fn a_deadlock_among_green_processes_is_reported() {
    let (a_tx, a_rx) = Channel::<u8>::new().named("a").one2one();
    let (b_tx, b_rx) = Channel::<u8>::new().named("b").one2one();
    let err = watchdog(60, "deadlock", move || {
        Parallel::new()
            .add(Process::with_ends("left", (a_rx, b_tx), |(a, b)| {
                let v = a.read()?;
                Ok(b.write(v)?)
            }))
            .add(Process::with_ends("right", (b_rx, a_tx), |(b, a)| {
                let v = b.read()?;
                Ok(a.write(v)?)
            }))
            .lint(Lint::RendezvousCycle, Level::Allow)
            .green()
            .run()
            .unwrap_err()
    });
    let NetworkError::Deadlock(deadlock) = &err else {
        panic!("{err}")
    };
    let mut waiting: Vec<_> = deadlock
        .waiting
        .iter()
        .map(|w| (w.process.as_str(), w.channel.as_str()))
        .collect();
    waiting.sort();
    assert_eq!(waiting, [("left", "a"), ("right", "b")]);
}

/// A bigger stack for a process that needs one.
#[test]
fn green_stack_sets_the_stack_size() {
    fn depth(n: u32) -> u32 {
        // About 1 KiB of stack per level that the optimiser cannot remove.
        let pad = std::hint::black_box([n as u8; 1024]);
        if n == 0 {
            0
        } else {
            depth(n - 1) + 1 + u32::from(pad[1] != n as u8)
        }
    }
    let results = Parallel::new()
        .add(Process::from_fn("deep", || depth(400)))
        .green()
        .green_stack(2 * 1024 * 1024)
        .run()
        .unwrap();
    assert_eq!(results, vec![Some(400)]);
}

#[test]
fn a_timed_out_read_and_a_racing_write_lose_nothing_on_green() {
    // Many timed reads racing writers: each value is either read or kept by its writer.
    let (tx, rx) = Channel::<u64>::new().one2one();
    let results = watchdog(120, "race", move || {
        Parallel::new()
            .add(Process::with_ends("writer", tx, |tx| {
                let mut sent = 0;
                for i in 0..20_000u64 {
                    match tx.write_timeout(i, Duration::from_micros(50)) {
                        Ok(()) => sent += i,
                        Err(e) if e.error().is_timeout() => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                Ok(sent)
            }))
            .add(Process::with_ends("reader", rx, |rx| {
                let mut got = 0;
                loop {
                    match rx.read_timeout(Duration::from_micros(70)) {
                        Ok(v) => got += v,
                        Err(ChannelError::Retired { .. }) => return Ok(got),
                        Err(e) if e.is_timeout() => {}
                        Err(e) => return Err(e.into()),
                    }
                }
            }))
            .green()
            .run()
            .unwrap()
    });
    assert_eq!(results[0], results[1]);
}
