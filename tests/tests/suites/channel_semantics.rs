//! Channel semantics, one behaviour per test: policies, try/timeouts, retire, poison,
//! extended rendezvous, FIFO service, names, mobile ends.
//!
//! A suite included once per way of running processes (see `placement` in the
//! `csp_tests` crate): each including test file provides `spawn` and `watchdog`, which
//! run their closure under that placement, so every case here runs on every placement.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use csp::channel::RetiredSide;
use csp::{Channel, ChannelError, Policy};
use csp_tests::settle;

use super::{spawn, watchdog};

#[test]
fn rendezvous_write_returns_only_after_the_read() {
    watchdog(60, "rendezvous", || {
        for policy in [Policy::Rendezvous, Policy::Fifo(0)] {
            let (tx, rx) = Channel::<u32>::new().buffer(policy).one2one();
            let written = Arc::new(AtomicBool::new(false));
            let w = written.clone();
            let writer = spawn(move || {
                tx.write(1).unwrap();
                w.store(true, Ordering::SeqCst);
            });
            settle();
            assert!(
                !written.load(Ordering::SeqCst),
                "{policy:?}: write returned before any read"
            );
            assert_eq!(rx.read(), Ok(1));
            writer.join().unwrap();
            assert!(written.load(Ordering::SeqCst));
        }
    });
}

#[test]
fn fifo_is_full_at_capacity_keeps_order_and_a_read_releases_a_blocked_writer() {
    watchdog(60, "fifo", || {
        let (tx, rx) = Channel::<u32>::new().fifo(3).one2one();
        for i in 0..3 {
            tx.try_write(i).unwrap();
        }
        assert_eq!(tx.len(), 3);
        let e = tx.try_write(3).unwrap_err();
        assert!(matches!(e.error(), ChannelError::Full { .. }));
        assert_eq!(e.into_inner(), Some(3));
        let writer = spawn(move || {
            tx.write(3).unwrap(); // blocks until a read makes room
            tx
        });
        settle();
        assert_eq!(
            rx.len(),
            3,
            "the blocked writer's value is not in the buffer yet"
        );
        assert_eq!(rx.read(), Ok(0));
        let tx = writer.join().unwrap();
        assert_eq!((rx.read(), rx.read(), rx.read()), (Ok(1), Ok(2), Ok(3)));
        drop(tx);
        assert!(rx.read().unwrap_err().is_retired());
    });
}

#[test]
fn overwrite_oldest_keeps_the_newest_values() {
    let (tx, rx) = Channel::<u32>::new()
        .buffer(Policy::OverwriteOldest(3))
        .one2one();
    for i in 0..10 {
        tx.try_write(i).unwrap(); // never Full
    }
    assert_eq!(rx.len(), 3);
    drop(tx);
    assert_eq!(rx.into_iter().collect::<Vec<_>>(), vec![7, 8, 9]);
}

#[test]
fn drop_newest_keeps_the_oldest_values() {
    let (tx, rx) = Channel::<u32>::new()
        .buffer(Policy::DropNewest(3))
        .one2one();
    for i in 0..10 {
        tx.write(i).unwrap(); // never blocks: the value is dropped by declaration
    }
    drop(tx);
    assert_eq!(rx.into_iter().collect::<Vec<_>>(), vec![0, 1, 2]);
}

#[test]
fn lossy_policies_with_capacity_zero_hold_one_value() {
    let (tx, rx) = Channel::<u32>::new()
        .buffer(Policy::OverwriteOldest(0))
        .one2one();
    tx.write(1).unwrap();
    tx.write(2).unwrap();
    assert_eq!(rx.try_read(), Ok(2));
}

#[test]
fn unbounded_never_blocks() {
    let (tx, rx) = Channel::<u32>::new().buffer(Policy::Unbounded).one2one();
    for i in 0..100_000 {
        tx.try_write(i).unwrap();
    }
    assert_eq!(rx.len(), 100_000);
    drop(tx);
    assert_eq!(
        rx.into_iter().map(u64::from).sum::<u64>(),
        99_999 * 100_000 / 2
    );
}

/// Ordered by `priority` only, so equal priorities can be told apart by `seq`.
#[derive(Debug, PartialEq, Eq)]
struct Task {
    priority: u8,
    seq: u32,
}
impl Ord for Task {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.priority.cmp(&other.priority)
    }
}
impl PartialOrd for Task {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

#[test]
fn priority_serves_greatest_first_and_equal_priorities_in_arrival_order() {
    watchdog(60, "priority", || {
        let (tx, rx) = Channel::<Task>::local().priority(5).one2one();
        let tasks = [(1, 0), (5, 1), (3, 2), (5, 3), (1, 4)];
        for (priority, seq) in tasks {
            tx.write(Task { priority, seq }).unwrap();
        }
        assert!(matches!(
            tx.try_write(Task {
                priority: 9,
                seq: 5
            })
            .unwrap_err()
            .error(),
            ChannelError::Full { .. }
        ));
        let writer = spawn(move || {
            tx.write(Task {
                priority: 9,
                seq: 5,
            })
            .unwrap()
        });
        settle();
        let first = rx.read().unwrap(); // makes room: the blocked 9 enters the heap
        writer.join().unwrap();
        let rest: Vec<_> = rx.into_iter().map(|t| (t.priority, t.seq)).collect();
        assert_eq!((first.priority, first.seq), (5, 1));
        assert_eq!(rest, vec![(9, 5), (5, 3), (3, 2), (1, 0), (1, 4)]);
    });
}

#[test]
fn try_and_timeouts_name_the_channel_and_leave_it_usable() {
    watchdog(60, "timeouts", || {
        let (tx, rx) = Channel::<u32>::new().named("slow").one2one();
        let e = rx.try_read().unwrap_err();
        assert!(matches!(e, ChannelError::Empty { .. }) && e.channel() == "slow");
        let e = rx.read_timeout(Duration::from_millis(20)).unwrap_err();
        assert!(e.is_timeout() && e.to_string().contains("'slow'"), "{e}");
        let e = rx.read_deadline(Instant::now()).unwrap_err();
        assert!(e.is_timeout());
        let e = tx.write_timeout(5, Duration::from_millis(20)).unwrap_err();
        assert!(e.error().is_timeout());
        assert_eq!(e.into_inner(), Some(5));
        let e = tx.write_deadline(6, Instant::now()).unwrap_err();
        assert_eq!(e.into_inner(), Some(6));
        // Nothing is left behind by the timed-out operations.
        let reader = spawn(move || rx.read_timeout(Duration::from_secs(30)));
        tx.write(7).unwrap();
        assert_eq!(reader.join().unwrap(), Ok(7));
    });
}

#[test]
fn timeouts_on_buffered_channels() {
    let (tx, rx) = Channel::<u32>::new().fifo(1).one2one();
    tx.write_timeout(1, Duration::from_millis(10)).unwrap();
    assert!(tx
        .write_timeout(2, Duration::from_millis(10))
        .unwrap_err()
        .error()
        .is_timeout());
    assert_eq!(rx.read_timeout(Duration::from_millis(10)), Ok(1));
    assert!(rx
        .read_timeout(Duration::from_millis(10))
        .unwrap_err()
        .is_timeout());
    // A huge timeout is a wait without deadline, not an overflow.
    tx.write_timeout(3, Duration::MAX).unwrap();
    assert_eq!(rx.read_timeout(Duration::MAX), Ok(3));
}

#[test]
fn retire_drains_the_buffer_then_ends_readers() {
    let (tx, rx) = Channel::<u32>::new().fifo(8).one2one();
    for i in 0..5 {
        tx.write(i).unwrap();
    }
    tx.retire();
    assert!(matches!(
        tx.write(9).unwrap_err().error(),
        ChannelError::Retired {
            side: RetiredSide::ThisEnd,
            ..
        }
    ));
    assert_eq!((&rx).into_iter().collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
    assert!(matches!(
        rx.read(),
        Err(ChannelError::Retired {
            side: RetiredSide::Writers,
            ..
        })
    ));
}

#[test]
fn retire_wakes_a_blocked_reader_and_a_blocked_writer() {
    watchdog(60, "retire wakes", || {
        let (tx, rx) = Channel::<u32>::new().one2one();
        let reader = spawn(move || rx.read());
        settle();
        drop(tx);
        assert!(reader.join().unwrap().unwrap_err().is_retired());

        let (tx, rx) = Channel::<u32>::new().one2one();
        let writer = spawn(move || tx.write(4).map_err(|e| e.into_parts()));
        settle();
        drop(rx);
        match writer.join().unwrap() {
            Err((
                ChannelError::Retired {
                    side: RetiredSide::Readers,
                    ..
                },
                Some(4),
            )) => {}
            other => panic!("expected Retired with the value back, got {other:?}"),
        }
    });
}

#[test]
fn shared_writers_retire_only_when_the_last_one_does() {
    let (tx, rx) = Channel::<u32>::new().fifo(4).any2one();
    let clones: Vec<_> = (0..3).map(|_| tx.clone()).collect();
    drop(tx);
    for (i, c) in clones.iter().enumerate() {
        c.write(i as u32).unwrap();
    }
    let mut clones = clones.into_iter();
    drop(clones.next());
    drop(clones.next());
    assert_eq!(rx.try_read(), Ok(0));
    let last = clones.next().unwrap();
    last.write(9).unwrap();
    drop(last);
    assert_eq!(rx.into_iter().collect::<Vec<_>>(), vec![1, 2, 9]);
}

#[test]
fn poison_fails_pending_and_later_operations_at_both_ends() {
    watchdog(60, "poison", || {
        let (tx, rx) = Channel::<u32>::new().named("p").fifo(2).any2any();
        tx.write(1).unwrap();
        tx.write(2).unwrap();
        let blocked_writer = {
            let tx = tx.clone();
            spawn(move || tx.write(3).map_err(|e| e.into_parts()))
        };
        settle();
        rx.poison();
        match blocked_writer.join().unwrap() {
            Err((ChannelError::Poisoned { channel }, Some(3))) => assert_eq!(&*channel, "p"),
            other => panic!("expected Poisoned with the value back, got {other:?}"),
        }
        assert!(tx.is_poisoned() && rx.is_poisoned());
        assert!(
            rx.read().unwrap_err().is_poisoned(),
            "buffered values are dropped by poison"
        );
        assert!(tx.try_write(4).unwrap_err().error().is_poisoned());
        assert_eq!(rx.len(), 0);

        let (tx, rx) = Channel::<u32>::new().one2one();
        let blocked_reader = spawn(move || rx.read());
        settle();
        tx.poison();
        assert!(blocked_reader.join().unwrap().unwrap_err().is_poisoned());
    });
}

#[test]
fn poison_wins_over_a_retire_no_reader_has_seen() {
    let (tx, rx) = Channel::<u32>::new().fifo(4).one2one();
    tx.write(1).unwrap();
    drop(tx); // retired, but the reader has not seen it yet
    rx.poison();
    assert!(rx.read().unwrap_err().is_poisoned());
}

#[test]
fn extended_rendezvous_releases_the_writer_after_the_block_in_both_orders() {
    watchdog(60, "extended", || {
        for reader_first in [false, true] {
            let (tx, rx) = Channel::<u32>::new().one2one();
            let block_done = Arc::new(AtomicBool::new(false));
            let done = block_done.clone();
            let writer = spawn(move || {
                if reader_first {
                    settle();
                }
                tx.write(10).unwrap();
                done.load(Ordering::SeqCst)
            });
            if !reader_first {
                settle();
            }
            let doubled = rx
                .read_with(|v| {
                    thread::sleep(Duration::from_millis(20));
                    block_done.store(true, Ordering::SeqCst);
                    v * 2
                })
                .unwrap();
            assert_eq!(doubled, 20);
            assert!(
                writer.join().unwrap(),
                "reader_first={reader_first}: writer released early"
            );
        }
    });
}

/// How a writer offers its value in `a_panicking_extended_block_fails_the_write`.
#[derive(Clone, Copy, Debug)]
enum Offer {
    Write,
    OutputGuard,
}

/// A reader's extended block that panics took the value but did not complete the
/// rendezvous: the writer is released (never left blocked) with `Poisoned` and no value,
/// and the channel is poisoned — whether the writer or the reader arrived first, and
/// whether the writer used `write` or an alt's output guard.
#[test]
fn a_panicking_extended_block_fails_the_write() {
    watchdog(60, "extended panic", || {
        for offer in [Offer::Write, Offer::OutputGuard] {
            for reader_first in [false, true] {
                let (tx, rx) = Channel::<u32>::new().named("ext").one2one();
                let writer = spawn(move || {
                    if reader_first {
                        settle();
                    }
                    match offer {
                        Offer::Write => tx.write(1).map_err(|e| e.into_parts()),
                        Offer::OutputGuard => csp::Alt::new()
                            .output(&tx, 1, || ())
                            .select()
                            .map_err(|e| match e {
                                csp::AltError::Channel { error, .. } => (error, None),
                                other => panic!("unexpected alt error: {other}"),
                            }),
                    }
                });
                if !reader_first {
                    settle();
                }
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    rx.read_with(|_| panic!("block failed")).ok()
                }));
                assert!(r.is_err(), "the block's panic reaches the reader");
                let case = format!("{offer:?}, reader_first={reader_first}");
                match writer.join().unwrap() {
                    Err((ChannelError::Poisoned { channel }, None)) => {
                        assert_eq!(&*channel, "ext", "{case}")
                    }
                    other => panic!("{case}: expected Poisoned without the value: {other:?}"),
                }
                assert!(rx.is_poisoned(), "{case}");
            }
        }
    });
}

#[test]
fn blocked_writers_are_served_in_arrival_order() {
    watchdog(60, "fifo waiters", || {
        let (tx, rx) = Channel::<u32>::new().any2one();
        let started = Arc::new(AtomicUsize::new(0));
        let mut writers = Vec::new();
        for i in 0..6 {
            let tx = tx.clone();
            let mine = started.clone();
            writers.push(spawn(move || {
                mine.fetch_add(1, Ordering::SeqCst);
                tx.write(i).unwrap();
            }));
            while started.load(Ordering::SeqCst) <= i as usize {
                thread::yield_now();
            }
            settle(); // let writer i block before writer i+1 starts
        }
        drop(tx);
        let got: Vec<_> = (0..6).map(|_| rx.read().unwrap()).collect();
        assert_eq!(got, vec![0, 1, 2, 3, 4, 5]);
        for w in writers {
            w.join().unwrap();
        }
    });
}

#[test]
fn names_are_given_or_default_to_the_id() {
    let (tx, rx) = Channel::<u8>::new().named("given").one2one();
    assert_eq!(&*tx.name(), "given");
    assert_eq!(rx.try_read().unwrap_err().channel(), "given");
    let (a, _) = Channel::<u8>::new().one2one();
    let (b, _) = Channel::<u8>::new().one2one();
    assert!(a.name().starts_with("chan#"), "{}", a.name());
    assert_ne!(a.name(), b.name());
    assert_ne!(a.channel_id(), b.channel_id());
    assert_ne!(a.id(), b.id());
}

#[test]
fn ends_travel_over_channels() {
    watchdog(60, "mobile", || {
        let (carrier_tx, carrier_rx) = Channel::<csp::Output<String>>::local().one2one();
        let (tx, rx) = Channel::<String>::new().fifo(1).one2one();
        let remote = spawn(move || {
            let out = carrier_rx.read().unwrap();
            out.write("from afar".into()).unwrap();
        });
        carrier_tx.write(tx).unwrap();
        remote.join().unwrap();
        assert_eq!(rx.read().as_deref(), Ok("from afar"));
    });
}

#[test]
fn write_errors_of_non_sync_values_become_box_errors_and_are_shared_by_reference() {
    fn send_cell(tx: &csp::Output<std::cell::Cell<u8>>) -> Result<(), csp::BoxError> {
        tx.try_write(std::cell::Cell::new(1))?; // WriteError<Cell<u8>>: needs `Sync`
        Ok(())
    }
    let (tx, _rx) = Channel::<std::cell::Cell<u8>>::local()
        .named("cells")
        .one2one();
    let err = send_cell(&tx).unwrap_err();
    assert_eq!(err.to_string(), "write failed: channel 'cells' is full");
    // The unsafe `Sync` impl: share `&WriteError<Cell<u8>>` between threads.
    let werr = tx.try_write(std::cell::Cell::new(2)).unwrap_err();
    let shared = &werr;
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(move || assert!(matches!(shared.error(), ChannelError::Full { .. })));
        }
    });
    assert_eq!(werr.into_inner().map(|c| c.get()), Some(2));
}

/// A priority value whose `Ord` panics on one value.
#[derive(Debug, PartialEq, Eq)]
struct Fragile(u32);

impl PartialOrd for Fragile {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Fragile {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        if self.0 == 13 || other.0 == 13 {
            panic!("unlucky comparison");
        }
        self.0.cmp(&other.0)
    }
}

/// A panicking `Ord` in a priority buffer fails the process that wrote, poisons the
/// channel, and leaves the reader neither hanging nor crashing.
#[test]
fn a_panicking_ord_in_a_priority_buffer_fails_the_writer_and_poisons_the_channel() {
    watchdog(60, "panicking ord", || {
        let (tx, rx) = Channel::<Fragile>::local()
            .named("prio")
            .priority(8)
            .one2one();
        let writer = csp::Process::with_ends("writer", tx, |tx| {
            for v in [1, 2, 13, 4] {
                tx.write(Fragile(v))?;
            }
            Ok(())
        });
        let reader = csp::Process::with_ends("reader", rx, |rx| {
            csp_tests::settle();
            let mut got = Vec::new();
            loop {
                match rx.read() {
                    Ok(v) => got.push(v.0),
                    Err(e) => return Ok((got, e)),
                }
            }
        });
        let err = csp::par!(writer, reader).unwrap_err();
        let csp::NetworkError::Failed(failures) = &err else {
            panic!("{err}")
        };
        assert_eq!(failures.len(), 1, "{err}");
        assert_eq!(failures[0].process(), "writer");
        assert!(err.to_string().contains("unlucky comparison"), "{err}");
    });
}
