//! Channel semantics of ending and failing, one behaviour per test: retire, poison,
//! extended rendezvous and its failures, FIFO service of blocked writers, a panicking
//! `Ord` in a priority buffer.
//!
//! A suite included once per placement, like `channel_semantics.rs` (whose header says
//! what the including file provides).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use csp::channel::RetiredSide;
use csp::{Channel, ChannelError};
use csp_tests::settle;
use csp_tests::shared::Shared;

use super::{share, spawn, watchdog};

fn retire_drains_the_buffer_then_ends_readers() {
    let (tx, rx) = share(Channel::<u32>::new().fifo(8).one2one());
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

fn retire_wakes_a_blocked_reader_and_a_blocked_writer() {
    watchdog(60, "retire wakes", || {
        let (tx, rx) = share(Channel::<u32>::new().one2one());
        let reader = spawn(move || assert!(rx.read().unwrap_err().is_retired()));
        settle();
        drop(tx);
        reader.join().unwrap();

        let (tx, rx) = share(Channel::<u32>::new().one2one());
        let writer = spawn(move || match tx.write(4).map_err(|e| e.into_parts()) {
            Err((
                ChannelError::Retired {
                    side: RetiredSide::Readers,
                    ..
                },
                Some(4),
            )) => {}
            other => panic!("expected Retired with the value back, got {other:?}"),
        });
        settle();
        drop(rx);
        writer.join().unwrap();
    });
}

fn shared_writers_retire_only_when_the_last_one_does() {
    let (tx, rx) = share(Channel::<u32>::new().fifo(4).any2one());
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

fn poison_fails_pending_and_later_operations_at_both_ends() {
    watchdog(60, "poison", || {
        let (tx, rx) = share(Channel::<u32>::new().named("p").fifo(2).any2any());
        tx.write(1).unwrap();
        tx.write(2).unwrap();
        let blocked_writer = {
            let tx = tx.clone();
            spawn(move || match tx.write(3).map_err(|e| e.into_parts()) {
                Err((ChannelError::Poisoned { channel }, Some(3))) => assert_eq!(&*channel, "p"),
                other => panic!("expected Poisoned with the value back, got {other:?}"),
            })
        };
        settle();
        rx.poison();
        blocked_writer.join().unwrap();
        assert!(tx.is_poisoned() && rx.is_poisoned());
        assert!(
            rx.read().unwrap_err().is_poisoned(),
            "buffered values are dropped by poison"
        );
        assert!(tx.try_write(4).unwrap_err().error().is_poisoned());
        assert_eq!(rx.len(), 0);

        let (tx, rx) = share(Channel::<u32>::new().one2one());
        let blocked_reader = spawn(move || assert!(rx.read().unwrap_err().is_poisoned()));
        settle();
        tx.poison();
        blocked_reader.join().unwrap();
    });
}

fn poison_wins_over_a_retire_no_reader_has_seen() {
    let (tx, rx) = share(Channel::<u32>::new().fifo(4).one2one());
    tx.write(1).unwrap();
    drop(tx); // retired, but the reader has not seen it yet
    rx.poison();
    assert!(rx.read().unwrap_err().is_poisoned());
}

fn extended_rendezvous_releases_the_writer_after_the_block_in_both_orders() {
    watchdog(60, "extended", || {
        for reader_first in [false, true] {
            let (tx, rx) = share(Channel::<u32>::new().one2one());
            let block_done = Shared::new(AtomicBool::new(false)).unwrap();
            let done = block_done.clone();
            let writer = spawn(move || {
                if reader_first {
                    settle();
                }
                tx.write(10).unwrap();
                assert!(
                    done.load(Ordering::SeqCst),
                    "reader_first={reader_first}: writer released early"
                );
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
            writer.join().unwrap();
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
fn a_panicking_extended_block_fails_the_write() {
    watchdog(60, "extended panic", || {
        for offer in [Offer::Write, Offer::OutputGuard] {
            for reader_first in [false, true] {
                let (tx, rx) = share(Channel::<u32>::new().named("ext").one2one());
                let case = format!("{offer:?}, reader_first={reader_first}");
                let writer_case = case.clone();
                let writer = spawn(move || {
                    if reader_first {
                        settle();
                    }
                    let written = match offer {
                        Offer::Write => tx.write(1).map_err(|e| e.into_parts()),
                        Offer::OutputGuard => csp::Alt::new()
                            .output(&tx, 1, || ())
                            .select()
                            .map_err(|e| match e {
                                csp::AltError::Channel { error, .. } => (error, None),
                                other => panic!("unexpected alt error: {other}"),
                            }),
                    };
                    let case = writer_case;
                    match written {
                        Err((ChannelError::Poisoned { channel }, None)) => {
                            assert_eq!(&*channel, "ext", "{case}")
                        }
                        other => panic!("{case}: expected Poisoned without the value: {other:?}"),
                    }
                });
                if !reader_first {
                    settle();
                }
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    rx.read_with(|_| panic!("block failed")).ok()
                }));
                assert!(r.is_err(), "the block's panic reaches the reader");
                writer.join().unwrap();
                assert!(rx.is_poisoned(), "{case}");
            }
        }
    });
}

fn blocked_writers_are_served_in_arrival_order() {
    watchdog(60, "fifo waiters", || {
        let (tx, rx) = share(Channel::<u32>::new().any2one());
        let started = Shared::new(AtomicUsize::new(0)).unwrap();
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

/// A priority value whose `Ord` panics on one value.
#[derive(Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
fn a_panicking_ord_in_a_priority_buffer_fails_the_writer_and_poisons_the_channel() {
    watchdog(60, "panicking ord", || {
        let (tx, rx) = share(
            Channel::<Fragile>::new()
                .named("prio")
                .priority(8)
                .one2one(),
        );
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

cases!(
    retire_drains_the_buffer_then_ends_readers,
    retire_wakes_a_blocked_reader_and_a_blocked_writer,
    shared_writers_retire_only_when_the_last_one_does,
    poison_fails_pending_and_later_operations_at_both_ends,
    poison_wins_over_a_retire_no_reader_has_seen,
    extended_rendezvous_releases_the_writer_after_the_block_in_both_orders,
    a_panicking_extended_block_fails_the_write,
    blocked_writers_are_served_in_arrival_order,
    a_panicking_ord_in_a_priority_buffer_fails_the_writer_and_poisons_the_channel,
);
