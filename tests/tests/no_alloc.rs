//! A blocking operation in steady state allocates nothing: its waiting context is the
//! thread's cached one and its packet comes from the channel's spares (issue 12).
//!
//! Its own test binary, so the counting allocator below sees only these tests. Each
//! thread counts its own allocations, and only while it runs the measured loop: libtest's
//! threads, spawning and joining are not counted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::thread;
use std::time::Duration;

use csp::{alt, Channel, Input, Output};
use csp_tests::watchdog;

struct Counting;

thread_local! {
    // `const` and destructor-free: safe to touch from inside the allocator.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

fn note_alloc() {
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        }
    });
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees are ours; counting touches only const thread-locals, which
// neither allocate nor register destructors.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_alloc();
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_alloc();
        // SAFETY: forwarded as is.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_alloc();
        // SAFETY: forwarded as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Round trips run before counting starts: they fill the caches.
const WARM_UP: u64 = 1_000;
/// The first warm-up round trips make each operation of the loop block in turn (see
/// [`lag`]), so that every wait queue involved has had its waiters before counting.
const FORCED: u64 = 80;
/// Round trips counted.
const MEASURED: u64 = 10_000;

/// During the first warm-up steps, step `i` of phase `phase` (0..4) sleeps, so that the
/// partner's operation reaches its wait first and blocks.
fn lag(i: u64, phase: u64) {
    if i < FORCED && i % 4 == phase {
        thread::sleep(Duration::from_millis(1));
    }
}

/// Runs `step(i)` for the warm-up, then counts this thread's allocations over the
/// measured steps; returns that count.
fn count_allocations(mut step: impl FnMut(u64)) -> usize {
    for i in 0..WARM_UP {
        step(i);
    }
    COUNT.with(|c| c.set(0));
    COUNTING.with(|on| on.set(true));
    for i in WARM_UP..WARM_UP + MEASURED {
        step(i);
    }
    COUNTING.with(|on| on.set(false));
    COUNT.with(Cell::get)
}

/// Main writes `i` on `to`, the echo thread sends `i + 1` back on `back`: reads mostly
/// wait for a value that is not there yet (the partner is busy with the other channel).
fn echo_round_trips(to: (Output<u64>, Input<u64>), back: (Output<u64>, Input<u64>)) {
    let (to_tx, to_rx) = to;
    let (back_tx, back_rx) = back;
    let echo = thread::spawn(move || {
        count_allocations(|i| {
            lag(i, 2);
            let v = to_rx.read().expect("read the request");
            assert_eq!(v, i);
            lag(i, 3);
            back_tx.write(v + 1).expect("write the reply");
        })
    });
    let main = count_allocations(|i| {
        lag(i, 0);
        to_tx.write(i).expect("write the request");
        lag(i, 1);
        assert_eq!(back_rx.read().expect("read the reply"), i + 1);
    });
    let echo = echo.join().expect("echo thread");
    assert_eq!(
        (main, echo),
        (0, 0),
        "allocations (main, echo) over {MEASURED} round trips"
    );
}

#[test]
fn rendezvous_round_trips_allocate_nothing() {
    watchdog(120, "rendezvous no-alloc", || {
        echo_round_trips(
            Channel::<u64>::new().one2one(),
            Channel::<u64>::new().one2one(),
        );
    });
}

#[test]
fn buffered_reads_blocking_on_empty_allocate_nothing() {
    watchdog(120, "fifo no-alloc", || {
        echo_round_trips(
            Channel::<u64>::new().fifo(4).one2one(),
            Channel::<u64>::new().fifo(4).one2one(),
        );
    });
}

#[test]
fn buffered_writes_blocking_on_full_allocate_nothing() {
    watchdog(120, "fifo full no-alloc", || {
        let (tx, rx) = Channel::<u64>::new().fifo(1).one2one();
        let reader = thread::spawn(move || {
            count_allocations(|i| {
                lag(i, 2);
                assert_eq!(rx.read().expect("read"), i);
            })
        });
        // Mostly the writer outruns the reader: it keeps finding the one slot full.
        let writer = count_allocations(|i| {
            lag(i, 0);
            tx.write(i).expect("write");
        });
        let reader = reader.join().expect("reader thread");
        assert_eq!((writer, reader), (0, 0), "allocations (writer, reader)");
    });
}

#[test]
fn alt_macro_round_trips_allocate_nothing() {
    watchdog(120, "alt! no-alloc", || {
        let (to_tx, to_rx) = Channel::<u64>::new().one2one();
        let (idle_tx, idle_rx) = Channel::<u64>::new().one2one();
        let (back_tx, back_rx) = Channel::<u64>::new().one2one();
        let echo = thread::spawn(move || {
            let n = count_allocations(|i| {
                lag(i, 2);
                // Two input guards, one never ready: the alt registers on both and parks.
                let v = alt! { pri:
                    recv(to_rx) -> v => v,
                    recv(idle_rx) -> v => v + 1_000_000,
                }
                .expect("alt");
                assert_eq!(v, i);
                lag(i, 3);
                back_tx.write(v + 1).expect("write the reply");
            });
            drop(idle_tx);
            n
        });
        let main = count_allocations(|i| {
            lag(i, 0);
            to_tx.write(i).expect("write the request");
            lag(i, 1);
            assert_eq!(back_rx.read().expect("read the reply"), i + 1);
        });
        let echo = echo.join().expect("echo thread");
        assert_eq!((main, echo), (0, 0), "allocations (main, alting echo)");
    });
}

/// Two green processes on one worker: every operation of the round trip blocks (the
/// partner runs only once this process suspends), so each one waits, suspends and is
/// woken through the worker's run queue. Both processes run on the worker's thread, so
/// the count covers the whole worker while the measured round trips run.
#[test]
fn green_round_trips_on_one_worker_allocate_nothing() {
    use csp::{Parallel, Process};
    watchdog(120, "green no-alloc", || {
        let (to_tx, to_rx) = Channel::<u64>::new().one2one();
        let (back_tx, back_rx) = Channel::<u64>::new().one2one();
        let main = Process::with_ends(
            "main",
            (to_tx, back_rx),
            |(to_tx, back_rx): (Output<u64>, Input<u64>)| {
                let n = count_allocations(|i| {
                    to_tx.write(i).expect("write the request");
                    assert_eq!(back_rx.read().expect("read the reply"), i + 1);
                });
                Ok(Some(n))
            },
        );
        let echo = Process::with_ends(
            "echo",
            (to_rx, back_tx),
            |(to_rx, back_tx): (Input<u64>, Output<u64>)| {
                for v in &to_rx {
                    back_tx.write(v + 1)?;
                }
                Ok(None)
            },
        );
        let results = Parallel::new()
            .add(main)
            .add(echo)
            .green()
            .green_workers(1)
            .run()
            .expect("green network");
        assert_eq!(
            results[0],
            Some(Some(0)),
            "allocations on the worker over {MEASURED} round trips"
        );
    });
}
