//! The protocol across threads (the mapping behaves the same within one process; the
//! fork test binary `csp/tests/shared_fork.rs` runs it across processes).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use super::layout::Slot;
use super::{Config, Gone, Mode, SharedChannel, SharedError, Wait};
use crate::channel::frame::FrameError;
use crate::channel::Side;

const W: u64 = 1;
const R: u64 = 2;

fn chan(capacity: usize, mode: Mode) -> SharedChannel {
    SharedChannel::create(Config {
        capacity,
        mode,
        max_frame: 256,
        ..Config::default()
    })
    .unwrap()
}

fn soon(ms: u64) -> Wait {
    Wait::Until(Instant::now() + Duration::from_millis(ms))
}

/// Reads everything buffered now, as the first byte of each frame.
fn drain(ch: &SharedChannel) -> Vec<u8> {
    std::iter::from_fn(|| ch.read(R, Wait::Try).ok().map(|f| f[0])).collect()
}

#[test]
fn rendezvous_write_returns_only_once_the_reader_has_the_frame() {
    let ch = chan(0, Mode::Fifo);
    let written = Arc::new(AtomicBool::new(false));
    let writer = {
        let (ch, written) = (ch.clone(), written.clone());
        thread::spawn(move || {
            ch.write(W, b"hello", Wait::Forever).unwrap();
            written.store(true, Ordering::SeqCst);
        })
    };
    thread::sleep(Duration::from_millis(30));
    assert!(
        !written.load(Ordering::SeqCst),
        "a rendezvous write returned alone"
    );
    assert_eq!(ch.read(R, Wait::Forever).unwrap(), b"hello");
    writer.join().unwrap();
    assert!(matches!(
        ch.write(W, b"x", Wait::Try),
        Err(SharedError::Full)
    ));
    assert!(matches!(ch.read(R, Wait::Try), Err(SharedError::Empty)));
}

#[test]
fn fifo_blocks_when_full_keeps_order_and_a_read_releases_a_blocked_writer() {
    let ch = chan(2, Mode::Fifo);
    ch.write(W, &[1], Wait::Try).unwrap();
    ch.write(W, &[2], Wait::Try).unwrap();
    assert!(matches!(
        ch.write(W, &[3], Wait::Try),
        Err(SharedError::Full)
    ));
    assert_eq!(ch.len(), 2);
    let writer = {
        let ch = ch.clone();
        thread::spawn(move || ch.write(W, &[3], Wait::Forever))
    };
    thread::sleep(Duration::from_millis(20));
    assert_eq!(ch.read(R, Wait::Forever).unwrap(), [1]);
    writer.join().unwrap().unwrap();
    assert_eq!(drain(&ch), [2, 3]);
}

#[test]
fn lossy_policies_drop_the_oldest_or_the_newest() {
    let over = chan(2, Mode::OverwriteOldest);
    let newest = chan(2, Mode::DropNewest);
    for i in 0..5 {
        over.write(W, &[i], Wait::Try).unwrap();
        newest.write(W, &[i], Wait::Try).unwrap();
    }
    assert_eq!(drain(&over), [3, 4]);
    assert_eq!(drain(&newest), [0, 1]);
    let one = chan(0, Mode::DropNewest);
    one.write(W, &[7], Wait::Try).unwrap();
    one.write(W, &[8], Wait::Try).unwrap();
    assert_eq!(drain(&one), [7]);
}

#[test]
fn priority_serves_greatest_first_and_equals_oldest_first() {
    let mut ch = chan(8, Mode::Priority);
    ch.set_order(std::sync::Arc::new(|a: &[u8], b: &[u8]| a[0].cmp(&b[0])));
    for (p, tag) in [(3, 0), (9, 1), (3, 2), (1, 3), (9, 4), (5, 5)] {
        ch.write(W, &[p, tag], Wait::Try).unwrap();
    }
    let got: Vec<_> = std::iter::from_fn(|| ch.read(R, Wait::Try).ok()).collect();
    let want: Vec<Vec<u8>> = vec![
        vec![9, 1],
        vec![9, 4],
        vec![5, 5],
        vec![3, 0],
        vec![3, 2],
        vec![1, 3],
    ];
    assert_eq!(got, want);
}

#[test]
fn timeouts_expire_and_leave_the_channel_usable() {
    let ch = chan(0, Mode::Fifo);
    let t = Instant::now();
    assert!(matches!(ch.read(R, soon(30)), Err(SharedError::Timeout)));
    assert!(matches!(
        ch.write(W, b"a", soon(30)),
        Err(SharedError::Timeout)
    ));
    assert!(t.elapsed() >= Duration::from_millis(60));
    let reader = {
        let ch = ch.clone();
        thread::spawn(move || ch.read(R, soon(5_000)))
    };
    ch.write(W, b"b", soon(5_000)).unwrap();
    assert_eq!(reader.join().unwrap().unwrap(), b"b");
}

#[test]
fn retire_drains_the_buffer_then_ends_readers_and_ends_writers() {
    let ch = chan(4, Mode::Fifo);
    ch.write(W, &[1], Wait::Try).unwrap();
    ch.write(W, &[2], Wait::Try).unwrap();
    ch.retire(Side::Write, W);
    assert_eq!(drain(&ch), [1, 2]);
    assert!(matches!(
        ch.read(R, Wait::Forever),
        Err(SharedError::Retired(Gone::Writers))
    ));

    let ch = chan(0, Mode::Fifo);
    let reader = {
        let ch = ch.clone();
        thread::spawn(move || ch.read(R, Wait::Forever))
    };
    thread::sleep(Duration::from_millis(20));
    ch.retire(Side::Write, W);
    assert!(matches!(
        reader.join().unwrap(),
        Err(SharedError::Retired(Gone::Writers))
    ));

    let ch = chan(0, Mode::Fifo);
    let writer = {
        let ch = ch.clone();
        thread::spawn(move || ch.write(W, b"lost", Wait::Forever))
    };
    thread::sleep(Duration::from_millis(20));
    ch.retire(Side::Read, R);
    assert!(matches!(
        writer.join().unwrap(),
        Err(SharedError::Retired(Gone::Readers))
    ));
    assert!(matches!(
        ch.write(W, b"x", Wait::Try),
        Err(SharedError::Retired(Gone::Readers))
    ));
}

#[test]
fn shared_sides_retire_with_their_last_end() {
    let ch = SharedChannel::create(Config {
        capacity: 1,
        open: [1, 2],
        ..Config::default()
    })
    .unwrap();
    ch.open_end(Side::Write);
    assert_eq!(ch.open_ends(Side::Write), 3);
    ch.retire(Side::Write, 10);
    ch.retire(Side::Write, 11);
    assert!(matches!(ch.read(R, Wait::Try), Err(SharedError::Empty)));
    ch.retire(Side::Write, 12);
    assert!(matches!(
        ch.read(R, Wait::Try),
        Err(SharedError::Retired(Gone::Writers))
    ));
}

#[test]
fn poison_wakes_every_waiter_at_once_and_fails_later_operations() {
    let ch = chan(0, Mode::Fifo);
    // One reader parked in the queue, one waiting behind its claim.
    ch.claim(Side::Read, R).unwrap();
    let waiters: Vec<_> = [R, R + 1]
        .into_iter()
        .map(|end| {
            let ch = ch.clone();
            thread::spawn(move || ch.read(end, Wait::Forever))
        })
        .collect();
    let writer_ch = chan(0, Mode::Fifo);
    let writer = {
        let ch = writer_ch.clone();
        thread::spawn(move || ch.write(W, b"v", Wait::Forever))
    };
    thread::sleep(Duration::from_millis(30));
    ch.poison();
    writer_ch.poison();
    for w in waiters {
        assert!(matches!(w.join().unwrap(), Err(SharedError::Poisoned)));
    }
    assert!(matches!(writer.join().unwrap(), Err(SharedError::Poisoned)));
    assert!(ch.is_poisoned());
    assert!(matches!(
        ch.write(W, b"v", Wait::Try),
        Err(SharedError::Poisoned)
    ));
    assert!(matches!(
        ch.claim(Side::Read, R),
        Err(SharedError::Poisoned)
    ));
}

#[test]
fn extended_rendezvous_releases_the_writer_after_the_block_in_both_orders() {
    for writer_first in [true, false] {
        let ch = chan(0, Mode::Fifo);
        let released = Arc::new(AtomicBool::new(false));
        let writer = {
            let (ch, released) = (ch.clone(), released.clone());
            thread::spawn(move || {
                let r = ch.write(W, b"ext", Wait::Forever);
                (r, released.load(Ordering::SeqCst))
            })
        };
        if writer_first {
            thread::sleep(Duration::from_millis(20));
        }
        let (frame, held) = ch.read_extended(R, Wait::Forever).unwrap();
        assert_eq!(frame, b"ext");
        thread::sleep(Duration::from_millis(20));
        released.store(true, Ordering::SeqCst);
        held.release(true);
        let (result, saw_release) = writer.join().unwrap();
        result.unwrap();
        assert!(saw_release, "the writer returned before the block ended");
    }
}

#[test]
fn an_extended_block_that_fails_loses_the_write_and_poisons() {
    let ch = chan(0, Mode::Fifo);
    let writer = {
        let ch = ch.clone();
        thread::spawn(move || ch.write(W, b"ext", Wait::Forever))
    };
    let (_, held) = ch.read_extended(R, Wait::Forever).unwrap();
    held.release(false);
    assert!(matches!(writer.join().unwrap(), Err(SharedError::Lost)));
    assert!(ch.is_poisoned());
}

#[test]
fn limits_are_errors() {
    let ch = SharedChannel::create(Config {
        max_frame: 8,
        max_waiters: 1,
        ..Config::default()
    })
    .unwrap();
    assert!(matches!(
        ch.write(W, &[0; 9], Wait::Forever),
        Err(SharedError::TooLarge { len: 9, limit: 8 })
    ));
    let first = {
        let ch = ch.clone();
        thread::spawn(move || ch.write(W, b"one", soon(2_000)))
    };
    thread::sleep(Duration::from_millis(30));
    assert!(matches!(
        ch.write(W + 1, b"two", Wait::Forever),
        Err(SharedError::TooManyWaiters { limit: 1 })
    ));
    assert_eq!(ch.read(R, Wait::Forever).unwrap(), b"one");
    first.join().unwrap().unwrap();
    let bad = Config {
        mode: Mode::Unbounded,
        ..Config::default()
    };
    assert!(matches!(
        SharedChannel::create(bad),
        Err(SharedError::InvalidConfig(_))
    ));
}

#[test]
fn a_claim_holder_goes_alone_until_it_releases() {
    let ch = chan(8, Mode::Fifo);
    ch.claim(Side::Write, W).unwrap();
    ch.write(W, &[1], Wait::Try).unwrap();
    assert!(matches!(
        ch.write(W + 1, &[9], soon(30)),
        Err(SharedError::Timeout)
    ));
    let other = {
        let ch = ch.clone();
        thread::spawn(move || ch.write(W + 1, &[3], Wait::Forever))
    };
    thread::sleep(Duration::from_millis(20));
    ch.write(W, &[2], Wait::Try).unwrap();
    ch.release_claim(Side::Write, W);
    other.join().unwrap().unwrap();
    assert_eq!(drain(&ch), [1, 2, 3]);
}

#[test]
fn a_thread_dying_with_the_lock_poisons_instead_of_hanging() {
    let ch = chan(1, Mode::Fifo);
    let c = ch.clone();
    thread::spawn(move || c.hold_lock_forever().unwrap())
        .join()
        .unwrap();
    assert!(matches!(
        ch.read(R, Wait::Forever),
        Err(SharedError::Poisoned)
    ));
    assert!(ch.is_poisoned());
}

#[test]
fn initial_frames_are_buffered_in_order() {
    let ch = chan(2, Mode::Fifo);
    ch.push_initial(&[1]).unwrap();
    ch.push_initial(&[2]).unwrap();
    assert!(matches!(ch.push_initial(&[3]), Err(SharedError::Full)));
    assert_eq!(drain(&ch), [1, 2]);
}

/// Writers and readers with short deadlines race each other: every write that
/// returned `Ok` was read exactly once, and nothing else was read.
#[test]
fn timeouts_racing_selections_lose_and_duplicate_nothing() {
    for capacity in [0, 1, 4] {
        let ch = chan(capacity, Mode::Fifo);
        let writers: Vec<_> = (0..2u8)
            .map(|w| {
                let ch = ch.clone();
                thread::spawn(move || {
                    let mut sent = HashSet::new();
                    for i in 0..3_000u32 {
                        let frame = [&[w][..], &i.to_le_bytes()].concat();
                        let wait = Wait::Until(Instant::now() + Duration::from_micros(50));
                        match ch.write(u64::from(w), &frame, wait) {
                            Ok(()) => assert!(sent.insert(frame)),
                            Err(SharedError::Timeout) => {}
                            Err(e) => panic!("{e}"),
                        }
                    }
                    sent
                })
            })
            .collect();
        let mut got = HashSet::new();
        let mut sent = HashSet::new();
        let mut done = false;
        while !done {
            let wait = Wait::Until(Instant::now() + Duration::from_micros(50));
            match ch.read(R, wait) {
                Ok(f) => assert!(got.insert(f), "duplicate"),
                Err(SharedError::Timeout) => {}
                Err(e) => panic!("{e}"),
            }
            done = writers.iter().all(|w| w.is_finished());
        }
        for w in writers {
            sent.extend(w.join().unwrap());
        }
        got.extend(drain_all(&ch));
        assert_eq!(got, sent, "capacity {capacity}");
        assert!(!sent.is_empty());
    }
}

fn drain_all(ch: &SharedChannel) -> Vec<Vec<u8>> {
    std::iter::from_fn(|| ch.read(R, Wait::Try).ok()).collect()
}

/// Four writers stream into one reader through a small buffer: per-writer order kept.
#[test]
fn any2one_streaming_keeps_each_writers_order() {
    let ch = chan(8, Mode::Fifo);
    const N: u32 = 20_000;
    let writers: Vec<_> = (0..4u8)
        .map(|w| {
            let ch = ch.clone();
            thread::spawn(move || {
                for i in 0..N {
                    let frame = [&[w][..], &i.to_le_bytes()].concat();
                    ch.write(u64::from(w), &frame, Wait::Forever).unwrap();
                }
            })
        })
        .collect();
    let mut next = [0u32; 4];
    for _ in 0..4 * N {
        let f = ch.read(R, Wait::Forever).unwrap();
        let w = usize::from(f[0]);
        let i = u32::from_le_bytes([f[1], f[2], f[3], f[4]]);
        assert_eq!(i, next[w], "writer {w} out of order");
        next[w] += 1;
    }
    for w in writers {
        w.join().unwrap();
    }
    assert!(matches!(ch.read(R, Wait::Try), Err(SharedError::Empty)));
}

#[test]
fn a_corrupted_buffered_frame_is_an_error_and_the_channel_goes_on() {
    let ch = chan(2, Mode::Fifo);
    ch.write(W, b"good", Wait::Try).unwrap();
    ch.r.corrupt(Slot::Buffer(0), 17, 0x40);
    assert!(matches!(
        ch.read(R, Wait::Try),
        Err(SharedError::Frame(FrameError::Checksum { .. }))
    ));
    ch.write(W, b"next", Wait::Try).unwrap();
    ch.r.corrupt(Slot::Buffer(1), 5, 0xff);
    assert!(matches!(
        ch.read(R, Wait::Try),
        Err(SharedError::Frame(FrameError::BadLength { .. }))
    ));
    ch.write(W, b"fine", Wait::Try).unwrap();
    assert_eq!(ch.read(R, Wait::Try).unwrap(), b"fine");
}

#[test]
fn a_panicking_order_poisons_the_priority_channel_and_reaches_the_writer() {
    let mut ch = chan(4, Mode::Priority);
    ch.set_order(std::sync::Arc::new(|a: &[u8], b: &[u8]| {
        assert!(a != b"bad" && b != b"bad", "order panics");
        a.cmp(b)
    }));
    ch.write(W, b"ok", Wait::Try).unwrap();
    let c = ch.clone();
    let panicked = thread::spawn(move || c.write(W, b"bad", Wait::Try)).join();
    assert!(panicked.is_err(), "the order's panic reaches the writer");
    assert!(ch.is_poisoned());
    assert!(matches!(
        ch.read(R, Wait::Forever),
        Err(SharedError::Poisoned)
    ));
}
