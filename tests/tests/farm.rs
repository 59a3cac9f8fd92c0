//! `components::Farm` on threads: results in input order whatever the work takes, the
//! reorder window bounds how far workers run ahead, and failures end the farm cleanly.
//! The forked farm is tested in `fork.rs`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use csp::components::{collect, generate, Farm};
use csp::{par, Channel, Failure, NetworkError};

/// A cheap pseudo-random stream, so that runs differ in timing but not in content.
fn jitter(x: u64) -> u64 {
    x.wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407)
        >> 59
}

#[test]
fn results_come_in_input_order_despite_uneven_work() {
    for workers in [1, 2, 3, 8] {
        let (jobs, jobs_in) = Channel::<u64>::new().one2one();
        let (done, done_in) = Channel::<u64>::new().one2one();
        let farm = Farm::new("uneven", workers, |x: u64| {
            // Some values take far longer than others, so they finish out of order.
            if jitter(x) == 0 {
                std::thread::sleep(Duration::from_millis(2));
            }
            x * 3
        });
        let (_, _, got) = par!(
            generate(0..2_000u64, jobs),
            farm.into_process(jobs_in, done),
            collect(done_in),
        )
        .unwrap();
        let expected: Vec<u64> = (0..2_000).map(|x| x * 3).collect();
        assert_eq!(got.unwrap(), expected, "{workers} workers");
    }
}

#[test]
fn the_window_bounds_how_far_workers_run_past_a_slow_value() {
    const WINDOW: usize = 6;
    let started = Arc::new(AtomicUsize::new(0));
    let (release, release_in) = Channel::<()>::new().one2one();
    let release_in = Arc::new(std::sync::Mutex::new(release_in));
    let seen = Arc::clone(&started);
    // Value 0 waits until the test releases it; every other value is instant.
    let farm = Farm::new("held", 3, move |x: u64| {
        seen.fetch_add(1, Ordering::SeqCst);
        if x == 0 {
            release_in.lock().unwrap().read().unwrap();
        }
        x
    })
    .window(WINDOW);
    let (jobs, jobs_in) = Channel::<u64>::new().one2one();
    let (done, done_in) = Channel::<u64>::new().one2one();
    let watcher = std::thread::spawn(move || {
        // Long enough for an unbounded farm to take hundreds of values past value 0.
        std::thread::sleep(Duration::from_millis(300));
        let taken = started.load(Ordering::SeqCst);
        release.write(()).unwrap();
        taken
    });
    let (_, _, got) = par!(
        generate(0..1_000u64, jobs),
        farm.into_process(jobs_in, done),
        collect(done_in),
    )
    .unwrap();
    let taken_while_held = watcher.join().unwrap();
    assert_eq!(got.unwrap(), (0..1_000).collect::<Vec<_>>());
    assert!(
        taken_while_held <= WINDOW,
        "{taken_while_held} values were taken while value 0 was held; the window is {WINDOW}"
    );
    assert!(
        taken_while_held >= 3,
        "the other workers should have run ahead, took {taken_while_held}"
    );
}

#[test]
fn empty_input_gives_empty_output() {
    let (jobs, jobs_in) = Channel::<u8>::new().one2one();
    let (done, done_in) = Channel::<u8>::new().one2one();
    drop(jobs);
    let (_, got) = par!(
        Farm::new("idle", 4, |x: u8| x).into_process(jobs_in, done),
        collect(done_in),
    )
    .unwrap();
    assert_eq!(got, Some(vec![]));
}

#[test]
fn a_panicking_worker_is_named_and_the_output_is_poisoned() {
    let (jobs, jobs_in) = Channel::<u32>::new().one2one();
    let (done, done_in) = Channel::<u32>::new().one2one();
    let farm = Farm::new("parse", 3, |x: u32| {
        assert!(x != 50, "bad record {x}");
        x
    });
    let (out, tail) = std::sync::mpsc::channel();
    let err = par!(
        generate(0..1_000u32, jobs),
        farm.into_process(jobs_in, done),
        csp::Process::with_ends("reader", done_in, move |done| {
            let mut n = 0u32;
            let end = loop {
                match done.read() {
                    Ok(v) => {
                        assert_eq!(v, n);
                        n += 1;
                    }
                    Err(e) => break e,
                }
            };
            out.send((n, end.is_poisoned())).unwrap();
            Ok(())
        }),
    )
    .unwrap_err();
    let NetworkError::Failed(failures) = err else {
        panic!("expected failures, got {err}");
    };
    let panicked: Vec<&Failure> = failures
        .iter()
        .filter(|f| matches!(f, Failure::Panicked { .. }))
        .collect();
    assert_eq!(panicked.len(), 1, "{failures:?}");
    assert!(
        panicked[0].process().starts_with("parse/worker["),
        "named {}",
        panicked[0].process()
    );
    assert!(panicked[0].to_string().contains("bad record 50"));
    let (results_before, poisoned) = tail.recv().unwrap();
    assert!(
        poisoned,
        "the reader saw the farm's output retired, not poisoned"
    );
    assert!(
        results_before <= 50,
        "a result after the failed one got out"
    );
}

#[test]
fn poisoned_input_poisons_the_output() {
    let (jobs, jobs_in) = Channel::<u32>::new().one2one();
    let (done, done_in) = Channel::<u32>::new().one2one();
    let (out, tail) = std::sync::mpsc::channel();
    let result = par!(
        csp::Process::with_ends("source", jobs, |jobs| {
            for i in 0..100 {
                jobs.write(i)?;
            }
            jobs.poison();
            Ok(())
        }),
        Farm::new("f", 4, |x: u32| x).into_process(jobs_in, done),
        csp::Process::with_ends("reader", done_in, move |done| {
            let mut n = 0;
            let end = loop {
                match done.read() {
                    Ok(_) => n += 1,
                    Err(e) => break e,
                }
            };
            out.send((n, end.is_poisoned())).unwrap();
            Ok(())
        }),
    );
    // Seeing poison is not a failure (the poison rule): what matters is what the
    // farm's reader saw.
    result.unwrap();
    let (n, poisoned) = tail.recv().unwrap();
    assert!(poisoned, "the reader saw retire after {n} values");
    assert!(n <= 100);
}

#[test]
fn a_reader_that_stops_early_ends_the_farm() {
    let (jobs, jobs_in) = Channel::<u64>::new().one2one();
    let (done, done_in) = Channel::<u64>::new().one2one();
    let (_, _, firsts) = par!(
        generate(0.., jobs), // endless: only the retire can stop it
        Farm::new("endless", 4, |x: u64| x + 1).into_process(jobs_in, done),
        csp::Process::with_ends("three", done_in, |done| {
            let v: Vec<u64> = done.iter().take(3).collect();
            Ok(v)
        }),
    )
    .unwrap();
    assert_eq!(firsts, Some(vec![1, 2, 3]));
}

#[test]
fn stress_many_workers_many_values() {
    for round in 0..5u64 {
        let (jobs, jobs_in) = Channel::<u64>::new().fifo(16).one2one();
        let (done, done_in) = Channel::<u64>::new().fifo(16).one2one();
        let farm = Farm::new("stress", 8, move |x: u64| {
            if jitter(x ^ round) < 2 {
                std::thread::yield_now();
            }
            x ^ round
        })
        .window(9);
        let (_, _, got) = par!(
            generate(0..50_000u64, jobs),
            farm.into_process(jobs_in, done),
            collect(done_in),
        )
        .unwrap();
        let got = got.unwrap();
        assert_eq!(got.len(), 50_000);
        assert!(got.iter().enumerate().all(|(i, v)| *v == i as u64 ^ round));
    }
}

#[test]
fn map_all_keeps_order() {
    // (That its pool leaves no thread behind is checked in `fork.rs`, which is
    // single-threaded.)
    let items: Vec<u64> = (0..10_000).collect();
    let got = Farm::new("all", 3, |x: u64| x * 2).map_all(items).unwrap();
    assert_eq!(got, (0..10_000).map(|x| x * 2).collect::<Vec<_>>());
}

#[test]
fn map_all_reports_a_panic_by_the_farms_name() {
    let err = Farm::new("checks", 2, |x: u32| {
        assert!(x != 77, "value {x} is bad");
        x
    })
    .map_all((0..1_000).collect())
    .unwrap_err();
    let NetworkError::Failed(failures) = err else {
        panic!("expected a failure, got {err}");
    };
    assert!(
        matches!(&failures[..], [Failure::Panicked { process, message }]
            if process == "checks/worker" && message.contains("value 77 is bad")),
        "{failures:?}"
    );
}
