//! Channel semantics, one behaviour per test: policies, try/timeouts, names, mobile
//! ends, errors of non-`Sync` values. Retire, poison and extended rendezvous are in
//! `channel_lifecycle.rs`.
//!
//! A suite included once per way of running processes (see `placement` in the
//! `csp_tests` crate): each including test file provides `spawn` and `watchdog`, which
//! run their closure under that placement, `share`, which prepares every channel a case
//! makes for it, and the macros `cases!` and `in_process_cases!`, which turn the list of
//! cases at the end into tests. So every case here runs on every placement, forked OS
//! processes included: parties return nothing and observe each other only through
//! channels and `csp_tests::shared` cells.

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use csp::{Channel, ChannelError, Policy};
use csp_tests::settle;
use csp_tests::shared::Shared;

use super::{share, spawn, watchdog};

fn rendezvous_write_returns_only_after_the_read() {
    watchdog(60, "rendezvous", || {
        for policy in [Policy::Rendezvous, Policy::Fifo(0)] {
            let (tx, rx) = share(Channel::<u32>::new().buffer(policy).one2one());
            let written = Shared::new(AtomicBool::new(false)).unwrap();
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

fn fifo_is_full_at_capacity_keeps_order_and_a_read_releases_a_blocked_writer() {
    watchdog(60, "fifo", || {
        let (tx, rx) = share(Channel::<u32>::new().fifo(3).one2one());
        // Holds the writer's end open until the reads below are done.
        let (release_tx, release_rx) = share(Channel::<()>::new().one2one());
        let written = Shared::new(AtomicBool::new(false)).unwrap();
        let w = written.clone();
        for i in 0..3 {
            tx.try_write(i).unwrap();
        }
        assert_eq!(tx.len(), 3);
        let e = tx.try_write(3).unwrap_err();
        assert!(matches!(e.error(), ChannelError::Full { .. }));
        assert_eq!(e.into_inner(), Some(3));
        let writer = spawn(move || {
            tx.write(3).unwrap(); // blocks until a read makes room
            w.store(true, Ordering::SeqCst);
            assert!(release_rx.read().unwrap_err().is_retired());
            drop(tx);
        });
        settle();
        assert_eq!(
            rx.len(),
            3,
            "the blocked writer's value is not in the buffer yet"
        );
        assert!(
            !written.load(Ordering::SeqCst),
            "write returned with a full buffer"
        );
        assert_eq!(rx.read(), Ok(0));
        while !written.load(Ordering::SeqCst) {
            thread::yield_now(); // the read made room: the write returns
        }
        assert_eq!((rx.read(), rx.read(), rx.read()), (Ok(1), Ok(2), Ok(3)));
        drop(release_tx);
        writer.join().unwrap();
        assert!(rx.read().unwrap_err().is_retired());
    });
}

fn overwrite_oldest_keeps_the_newest_values() {
    let (tx, rx) = share(
        Channel::<u32>::new()
            .buffer(Policy::OverwriteOldest(3))
            .one2one(),
    );
    for i in 0..10 {
        tx.try_write(i).unwrap(); // never Full
    }
    assert_eq!(rx.len(), 3);
    drop(tx);
    assert_eq!(rx.into_iter().collect::<Vec<_>>(), vec![7, 8, 9]);
}

fn drop_newest_keeps_the_oldest_values() {
    let (tx, rx) = share(
        Channel::<u32>::new()
            .buffer(Policy::DropNewest(3))
            .one2one(),
    );
    for i in 0..10 {
        tx.write(i).unwrap(); // never blocks: the value is dropped by declaration
    }
    drop(tx);
    assert_eq!(rx.into_iter().collect::<Vec<_>>(), vec![0, 1, 2]);
}

fn lossy_policies_with_capacity_zero_hold_one_value() {
    let (tx, rx) = share(
        Channel::<u32>::new()
            .buffer(Policy::OverwriteOldest(0))
            .one2one(),
    );
    tx.write(1).unwrap();
    tx.write(2).unwrap();
    assert_eq!(rx.try_read(), Ok(2));
}

fn unbounded_never_blocks() {
    let (tx, rx) = share(Channel::<u32>::new().buffer(Policy::Unbounded).one2one());
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
#[derive(Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

fn priority_serves_greatest_first_and_equal_priorities_in_arrival_order() {
    watchdog(60, "priority", || {
        let (tx, rx) = share(Channel::<Task>::new().priority(5).one2one());
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

fn try_and_timeouts_name_the_channel_and_leave_it_usable() {
    watchdog(60, "timeouts", || {
        let (tx, rx) = share(Channel::<u32>::new().named("slow").one2one());
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
        let reader = spawn(move || assert_eq!(rx.read_timeout(Duration::from_secs(30)), Ok(7)));
        tx.write(7).unwrap();
        reader.join().unwrap();
    });
}

fn timeouts_on_buffered_channels() {
    let (tx, rx) = share(Channel::<u32>::new().fifo(1).one2one());
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
fn names_are_given_or_default_to_the_id() {
    let (tx, rx) = share(Channel::<u8>::new().named("given").one2one());
    assert_eq!(&*tx.name(), "given");
    assert_eq!(rx.try_read().unwrap_err().channel(), "given");
    let (a, _) = share(Channel::<u8>::new().one2one());
    let (b, _) = share(Channel::<u8>::new().one2one());
    assert!(a.name().starts_with("chan#"), "{}", a.name());
    assert_ne!(a.name(), b.name());
    assert_ne!(a.channel_id(), b.channel_id());
    assert_ne!(a.id(), b.id());
}

fn ends_travel_over_channels() {
    watchdog(60, "mobile", || {
        let (carrier_tx, carrier_rx) = Channel::<csp::Output<String>>::local().one2one();
        let (tx, rx) = share(Channel::<String>::new().fifo(1).one2one());
        let remote = spawn(move || {
            let out = carrier_rx.read().unwrap();
            out.write("from afar".into()).unwrap();
        });
        carrier_tx.write(tx).unwrap();
        remote.join().unwrap();
        assert_eq!(rx.read().as_deref(), Ok("from afar"));
    });
}

fn write_errors_of_non_sync_values_become_box_errors_and_are_shared_by_reference() {
    fn send_cell(tx: &csp::Output<std::cell::Cell<u8>>) -> Result<(), csp::BoxError> {
        tx.try_write(std::cell::Cell::new(1))?; // WriteError<Cell<u8>>: needs `Sync`
        Ok(())
    }
    let (tx, _rx) = share(
        Channel::<std::cell::Cell<u8>>::new()
            .named("cells")
            .one2one(),
    );
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

cases!(
    rendezvous_write_returns_only_after_the_read,
    fifo_is_full_at_capacity_keeps_order_and_a_read_releases_a_blocked_writer,
    overwrite_oldest_keeps_the_newest_values,
    drop_newest_keeps_the_oldest_values,
    lossy_policies_with_capacity_zero_hold_one_value,
    unbounded_never_blocks,
    priority_serves_greatest_first_and_equal_priorities_in_arrival_order,
    try_and_timeouts_name_the_channel_and_leave_it_usable,
    timeouts_on_buffered_channels,
    names_are_given_or_default_to_the_id,
    write_errors_of_non_sync_values_become_box_errors_and_are_shared_by_reference,
);

// An end is not a value that crosses OS processes: the carrier channel is local.
in_process_cases!(ends_travel_over_channels);
