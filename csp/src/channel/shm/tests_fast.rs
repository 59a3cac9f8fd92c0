//! The fast path of a one2one FIFO channel (`fast`), across threads: order through
//! sleeps and lock-path interruptions, exact tries and timeouts, poison and retire
//! reaching a fast sleeper, corruption caught. The kill tests in `tests/tests/fork.rs`
//! and the forked suites run it across processes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use super::layout::Slot;
use super::{Config, Gone, Mode, SharedChannel, SharedError, Wait};
use crate::channel::Side;

const W: u64 = 1;
const R: u64 = 2;

fn fast(capacity: usize) -> SharedChannel {
    let ch = SharedChannel::create(Config {
        capacity,
        mode: Mode::Fifo,
        max_frame: 64,
        one_to_one: true,
        ..Config::default()
    })
    .unwrap();
    assert!(ch.r.at.fast);
    ch
}

fn soon(ms: u64) -> Wait {
    Wait::Until(Instant::now() + Duration::from_millis(ms))
}

/// A write as `Crossing` does it: the fast path, else the lock path.
fn send(ch: &SharedChannel, frame: &[u8], wait: Wait) -> Result<(), SharedError> {
    let encode = |buf: &mut [u8]| {
        buf.get_mut(..frame.len())?.copy_from_slice(frame);
        Some(frame.len())
    };
    if ch.fast_write(wait, encode) {
        return Ok(());
    }
    ch.write(W, frame, wait)
}

/// A read as `Crossing` does it.
fn recv(ch: &SharedChannel, wait: Wait) -> Result<Vec<u8>, SharedError> {
    match ch.fast_read(wait, <[u8]>::to_vec) {
        Some(got) => Ok(got?),
        None => ch.read(R, wait),
    }
}

#[test]
fn a_fast_stream_keeps_order_through_sleeps_and_lock_path_interruptions() {
    const N: u32 = 200_000;
    let ch = fast(8);
    let stop = Arc::new(AtomicBool::new(false));
    // Takes the lock now and then: the buffer freezes, and operations racing the
    // freeze go to the lock path.
    let meddler = {
        let (ch, stop) = (ch.clone(), stop.clone());
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                assert!(ch.len() <= 8);
                thread::sleep(Duration::from_micros(50));
            }
        })
    };
    let writer = {
        let ch = ch.clone();
        thread::spawn(move || {
            for i in 0..N {
                // Now and then a timed write: it must not lose or repeat anything.
                let wait = if i % 97 == 0 { soon(1) } else { Wait::Forever };
                loop {
                    match send(&ch, &i.to_le_bytes(), wait) {
                        Ok(()) => break,
                        Err(SharedError::Timeout) => continue,
                        Err(e) => panic!("write {i}: {e}"),
                    }
                }
            }
        })
    };
    let mut next = 0u32;
    while next < N {
        let wait = if next % 89 == 0 {
            soon(1)
        } else {
            Wait::Forever
        };
        match recv(&ch, wait) {
            Ok(f) => {
                assert_eq!(f, next.to_le_bytes(), "out of order");
                next += 1;
            }
            Err(SharedError::Timeout) => {}
            Err(e) => panic!("read {next}: {e}"),
        }
    }
    writer.join().unwrap();
    stop.store(true, Ordering::Relaxed);
    meddler.join().unwrap();
    assert!(matches!(recv(&ch, Wait::Try), Err(SharedError::Empty)));
}

#[test]
fn tries_and_timeouts_on_a_fast_channel_are_exact_and_keep_the_values() {
    let ch = fast(2);
    assert!(matches!(recv(&ch, Wait::Try), Err(SharedError::Empty)));
    let t = Instant::now();
    assert!(matches!(recv(&ch, soon(30)), Err(SharedError::Timeout)));
    assert!(t.elapsed() >= Duration::from_millis(30));
    send(&ch, b"a", Wait::Try).unwrap();
    send(&ch, b"b", soon(30)).unwrap();
    assert!(matches!(send(&ch, b"c", Wait::Try), Err(SharedError::Full)));
    let t = Instant::now();
    assert!(matches!(
        send(&ch, b"c", soon(30)),
        Err(SharedError::Timeout)
    ));
    assert!(t.elapsed() >= Duration::from_millis(30));
    assert_eq!(ch.len(), 2);
    assert_eq!(recv(&ch, Wait::Try).unwrap(), b"a");
    assert_eq!(recv(&ch, soon(30)).unwrap(), b"b");
}

/// Waits until `side`'s end sleeps on the fast path.
fn until_asleep(ch: &SharedChannel, side: Side) {
    let parked = &ch.r.header().sleep.parked[side as usize];
    while parked.load(Ordering::SeqCst) == 0 {
        thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn retire_and_poison_reach_a_fast_sleeper() {
    // A reader asleep on an empty buffer: the last writer retires.
    let ch = fast(4);
    let reader = {
        let ch = ch.clone();
        thread::spawn(move || recv(&ch, Wait::Forever))
    };
    until_asleep(&ch, Side::Read);
    ch.retire(Side::Write, W);
    assert!(matches!(
        reader.join().unwrap(),
        Err(SharedError::Retired(Gone::Writers))
    ));

    // A writer asleep on a full buffer: the reader retires.
    let ch = fast(1);
    send(&ch, b"x", Wait::Forever).unwrap();
    let writer = {
        let ch = ch.clone();
        thread::spawn(move || send(&ch, b"y", Wait::Forever))
    };
    until_asleep(&ch, Side::Write);
    ch.retire(Side::Read, R);
    assert!(matches!(
        writer.join().unwrap(),
        Err(SharedError::Retired(Gone::Readers))
    ));

    // Poison wakes a sleeper too, and everything after fails.
    let ch = fast(4);
    let reader = {
        let ch = ch.clone();
        thread::spawn(move || recv(&ch, Wait::Forever))
    };
    until_asleep(&ch, Side::Read);
    ch.poison();
    assert!(matches!(reader.join().unwrap(), Err(SharedError::Poisoned)));
    assert!(matches!(
        send(&ch, b"z", Wait::Try),
        Err(SharedError::Poisoned)
    ));
}

#[test]
fn a_frame_written_while_the_reader_sleeps_wakes_it() {
    let ch = fast(4);
    for round in 0..50u8 {
        let reader = {
            let ch = ch.clone();
            thread::spawn(move || recv(&ch, Wait::Forever))
        };
        until_asleep(&ch, Side::Read);
        send(&ch, &[round], Wait::Forever).unwrap();
        assert_eq!(reader.join().unwrap().unwrap(), [round]);
    }
}

#[test]
fn a_corrupted_frame_on_the_fast_path_is_an_error_and_the_next_one_arrives() {
    let ch = fast(4);
    send(&ch, b"bad", Wait::Forever).unwrap();
    send(&ch, b"good", Wait::Forever).unwrap();
    ch.r.corrupt(Slot::Buffer(0), 17, 0x40);
    assert!(matches!(
        ch.fast_read(Wait::Try, <[u8]>::to_vec),
        Some(Err(_))
    ));
    assert_eq!(recv(&ch, Wait::Try).unwrap(), b"good");
}

#[test]
fn a_value_too_large_for_the_slot_is_refused_by_the_fast_path_and_reported() {
    let ch = fast(4);
    assert!(!ch.fast_write(Wait::Try, |_| None));
    let big = [0u8; 65];
    assert!(matches!(
        send(&ch, &big, Wait::Try),
        Err(SharedError::TooLarge { len: 65, limit: 64 })
    ));
    assert!(ch.is_empty());
}
