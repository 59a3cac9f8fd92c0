//! `block_in_place`: blocking work from a green process, off its worker.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use csp::{Channel, Failure, NetworkError, Parallel, Process};
use csp_tests::watchdog;

/// One worker: while one process sleeps 300 ms in `block_in_place`, two others on the
/// same worker keep talking; they are seen to make progress during the sleep.
#[test]
fn block_in_place_lets_the_worker_run_others_during_a_blocking_call() {
    let sleeping = Arc::new(AtomicBool::new(false));
    let finished = Arc::new(AtomicBool::new(false));
    let (tx, rx) = Channel::<u64>::new().one2one();
    let results = watchdog(60, "block_in_place", {
        let (sleeping, finished) = (sleeping.clone(), finished.clone());
        move || {
            let (s, f) = (sleeping.clone(), finished.clone());
            let sleeper = Process::from_fn("sleeper", move || {
                let on_worker = std::thread::current().id();
                let helper = csp::block_in_place(|| {
                    s.store(true, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(300));
                    s.store(false, Ordering::SeqCst);
                    std::thread::current().id()
                });
                f.store(true, Ordering::SeqCst);
                // The work ran on another thread; the process is back on its own.
                u64::from(helper != on_worker && std::thread::current().id() == on_worker)
            });
            let talker = Process::with_ends("talker", tx, move |tx| {
                let mut during_sleep = 0;
                while !finished.load(Ordering::SeqCst) {
                    tx.write(1)?;
                    if sleeping.load(Ordering::SeqCst) {
                        during_sleep += 1;
                    }
                }
                Ok(during_sleep)
            });
            let listener = Process::with_ends("listener", rx, |rx| Ok(rx.iter().count() as u64));
            Parallel::new()
                .add(sleeper)
                .add(talker)
                .add(listener)
                .green()
                .green_workers(1)
                .run()
                .unwrap()
        }
    });
    assert_eq!(results[0], Some(1));
    let during_sleep = results[1].unwrap();
    assert!(during_sleep > 0, "no progress during the blocking call");
    assert!(results[2].unwrap() >= during_sleep);
}

/// A panic in the blocking work is the calling process's panic, reported naming it;
/// on a thread process the work runs right there.
#[test]
fn block_in_place_resumes_a_panic_and_runs_inline_on_threads() {
    let err = watchdog(60, "panic", || {
        Parallel::new()
            .add(Process::from_fn("blocker", || {
                csp::block_in_place(|| -> u32 { panic!("in the helper") })
            }))
            .green()
            .run()
            .unwrap_err()
    });
    let NetworkError::Failed(failures) = &err else {
        panic!("{err}")
    };
    assert!(
        matches!(&failures[..], [Failure::Panicked { process, message }]
            if process == "blocker" && message == "in the helper"),
        "{failures:?}"
    );
    let same = Parallel::new()
        .add(Process::from_fn("thread", || {
            let here = std::thread::current().id();
            csp::block_in_place(|| std::thread::current().id() == here)
        }))
        .run()
        .unwrap();
    assert_eq!(same, vec![Some(true)]);
}

/// Many green processes on two workers blocking in turn, while talking to each other:
/// every call returns its own result, nothing hangs.
#[test]
fn many_green_processes_block_in_place_concurrently() {
    let procs = 200u64;
    let (tx, rx) = Channel::<u64>::new().any2one();
    let results = watchdog(120, "many blockers", move || {
        let mut net = Parallel::new();
        for i in 0..procs {
            net.push(Process::with_ends("blocker", tx.clone(), move |tx| {
                let mut sum = 0;
                for round in 0..5 {
                    sum += csp::block_in_place(move || {
                        std::thread::sleep(Duration::from_micros(200));
                        i * 10 + round
                    });
                    tx.write(i)?;
                }
                Ok(sum)
            }));
        }
        drop(tx);
        net.push(Process::with_ends("sink", rx, |rx| {
            Ok(rx.iter().count() as u64)
        }));
        net.green().green_workers(2).run().unwrap()
    });
    for (i, r) in results[..procs as usize].iter().enumerate() {
        assert_eq!(*r, Some(i as u64 * 50 + 10));
    }
    assert_eq!(results[procs as usize], Some(procs * 5));
}
