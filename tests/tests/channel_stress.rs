//! Many processes, many iterations, both sides racing.

use std::collections::HashSet;
use std::thread;
use std::time::Duration;

use csp::{Channel, ChannelError, SharedOutput};
use csp_tests::{tag as encode, untag as decode, watchdog, Tally};

#[test]
fn any2any_rendezvous_8x8_a_million_messages_each_read_exactly_once() {
    const WRITERS: u64 = 8;
    const READERS: usize = 8;
    const PER_WRITER: u64 = 125_000; // 1,000,000 in total
    watchdog(300, "any2any 8x8", || {
        let (tx, rx) = Channel::<u64>::new().any2any();
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let tx = tx.clone();
                thread::spawn(move || {
                    for seq in 0..PER_WRITER {
                        tx.write(encode(w, seq)).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let readers: Vec<_> = (0..READERS)
            .map(|_| {
                let rx = rx.clone();
                thread::spawn(move || {
                    let mut tally = Tally::new(WRITERS as usize);
                    for v in &rx {
                        tally.add_in_order(v);
                    }
                    tally
                })
            })
            .collect();
        drop(rx);
        Tally::join(WRITERS as usize, writers, readers).assert_exactly_once(PER_WRITER);
    });
}

#[test]
fn write_timeout_racing_a_reader_delivers_or_hands_back_never_both_never_neither() {
    const ROUNDS: u64 = 20_000;
    watchdog(300, "write_timeout race", || {
        let (tx, rx) = Channel::<u64>::new().one2one();
        let (done_tx, done_rx) = Channel::<()>::new().fifo(1).one2one();
        let reader = thread::spawn(move || {
            let mut got = Vec::new();
            loop {
                match rx.read_timeout(Duration::from_micros(3)) {
                    Ok(v) => got.push(v),
                    Err(e) if e.is_timeout() => {
                        if done_rx.try_read().is_ok() {
                            // The writer has finished: drain what a last write may hold.
                            while let Ok(v) = rx.try_read() {
                                got.push(v);
                            }
                            return got;
                        }
                    }
                    Err(e) => panic!("unexpected {e}"),
                }
            }
        });
        let mut delivered = HashSet::new();
        let mut handed_back = HashSet::new();
        for v in 0..ROUNDS {
            match tx.write_timeout(v, Duration::from_micros(v % 7)) {
                Ok(()) => {
                    delivered.insert(v);
                }
                Err(e) => {
                    assert!(e.error().is_timeout(), "{}", e.error());
                    assert_eq!(e.into_inner(), Some(v));
                    handed_back.insert(v);
                }
            }
        }
        done_tx.write(()).unwrap();
        let got = reader.join().unwrap();
        let got_set: HashSet<u64> = got.iter().copied().collect();
        assert_eq!(got.len(), got_set.len(), "a value was read twice");
        assert_eq!(
            got_set, delivered,
            "read values differ from the writes that returned Ok"
        );
        assert!(delivered.is_disjoint(&handed_back));
        assert_eq!(delivered.len() + handed_back.len(), ROUNDS as usize);
    });
}

#[test]
fn read_timeout_racing_writers_loses_nothing() {
    const ROUNDS: u64 = 20_000;
    watchdog(300, "read_timeout race", || {
        let (tx, rx) = Channel::<u64>::new().any2one();
        let writers: Vec<_> = (0..2)
            .map(|w| {
                let tx = tx.clone();
                thread::spawn(move || {
                    for seq in 0..ROUNDS {
                        tx.write(encode(w, seq)).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let mut seen = HashSet::new();
        loop {
            match rx.read_timeout(Duration::from_micros(2)) {
                Ok(v) => assert!(seen.insert(v), "duplicate {v}"),
                Err(e) if e.is_timeout() => {}
                Err(e) if e.is_retired() => break,
                Err(e) => panic!("unexpected {e}"),
            }
        }
        for w in writers {
            w.join().unwrap();
        }
        assert_eq!(seen.len() as u64, 2 * ROUNDS);
    });
}

/// `writers` threads, each writing `per_writer` tagged values, then (alternating by
/// writer and round) retiring its end explicitly or dropping it.
fn retiring_writers(
    tx: &SharedOutput<u64>,
    writers: u64,
    per_writer: u64,
    round: u64,
) -> Vec<thread::JoinHandle<()>> {
    (0..writers)
        .map(|w| {
            let tx = tx.clone();
            thread::spawn(move || {
                for seq in 0..per_writer {
                    tx.write(encode(w, seq)).unwrap();
                }
                if (w + round).is_multiple_of(2) {
                    tx.retire();
                }
            })
        })
        .collect()
}

#[test]
fn retire_on_a_fifo_1000_channel_loses_nothing_while_writers_race_to_retire() {
    const WRITERS: u64 = 8;
    const PER_WRITER: u64 = 5_000;
    watchdog(300, "retire race", || {
        for round in 0..20 {
            let (tx, rx) = Channel::<u64>::new().fifo(1000).any2one();
            let writers = retiring_writers(&tx, WRITERS, PER_WRITER, round);
            drop(tx);
            let mut count = [0u64; WRITERS as usize];
            for v in &rx {
                count[decode(v).0] += 1;
            }
            assert!(rx.read().unwrap_err().is_retired());
            for w in writers {
                w.join().unwrap();
            }
            assert_eq!(count, [PER_WRITER; WRITERS as usize], "round {round}");
        }
    });
}

#[test]
fn claimed_bursts_stay_contiguous_under_contention() {
    const WRITERS: u64 = 6;
    const BURSTS: u64 = 300;
    const BURST: u64 = 5;
    watchdog(300, "claims", || {
        for buffered in [true, false] {
            let builder = Channel::<u64>::new();
            let builder = if buffered { builder.fifo(7) } else { builder };
            let (tx, rx) = builder.any2one();
            let writers: Vec<_> = (0..WRITERS)
                .map(|w| {
                    let mut tx = tx.clone();
                    thread::spawn(move || -> Result<(), ChannelError> {
                        for b in 0..BURSTS {
                            if b % 3 == 0 {
                                // Unclaimed single writes mixed in.
                                tx.write(encode(w, b * BURST))?;
                                continue;
                            }
                            let claimed = tx.claim()?;
                            for i in 0..BURST {
                                claimed.write(encode(w, b * BURST + i))?;
                            }
                        }
                        Ok(())
                    })
                })
                .collect();
            drop(tx);
            let values: Vec<_> = rx.into_iter().map(decode).collect();
            for w in writers {
                w.join().unwrap().unwrap();
            }
            // Every claimed burst (b % 3 != 0) appears as BURST consecutive values.
            let mut i = 0;
            let mut bursts = 0;
            while i < values.len() {
                let (w, seq) = values[i];
                let b = seq / BURST;
                if !b.is_multiple_of(3) && seq.is_multiple_of(BURST) {
                    for k in 0..BURST as usize {
                        assert_eq!(
                            values[i + k],
                            (w, seq + k as u64),
                            "burst of writer {w} interleaved"
                        );
                    }
                    i += BURST as usize;
                    bursts += 1;
                } else {
                    i += 1;
                }
            }
            let claimed_bursts = (0..BURSTS).filter(|b| b % 3 != 0).count() as u64;
            assert_eq!(bursts, WRITERS * claimed_bursts, "buffered={buffered}");
        }
    });
}

#[test]
fn claimed_reads_on_a_shared_input() {
    watchdog(120, "input claims", || {
        let (tx, rx) = Channel::<u64>::new().fifo(16).one2any();
        let readers: Vec<_> = (0..4)
            .map(|_| {
                let mut rx = rx.clone();
                thread::spawn(move || {
                    let mut pairs = Vec::new();
                    loop {
                        let Ok(claimed) = rx.claim() else { break };
                        let (Ok(a), Ok(b)) = (claimed.read(), claimed.read()) else {
                            break;
                        };
                        pairs.push((a, b));
                    }
                    pairs
                })
            })
            .collect();
        drop(rx);
        for v in 0..4000u64 {
            tx.write(v).unwrap();
        }
        drop(tx);
        let mut total = 0;
        for r in readers {
            for (a, b) in r.join().unwrap() {
                assert_eq!(b, a + 1, "a claimed pair was split");
                assert_eq!(a % 2, 0);
                total += 2;
            }
        }
        assert_eq!(total, 4000);
    });
}

/// Every kind of operation on a small ring-buffered channel at once: blocking, `try_*`
/// and timed writes and reads, 4 writers and 4 readers on `Fifo(8)`, so the ring is
/// full and empty often and operations keep crossing between the lock-free path and the
/// lock path. Every message is read exactly once, a refused write hands back the very
/// value, and each writer's values reach any one reader in the order written.
#[test]
fn any2any_fifo_8_mixed_blocking_try_and_timed_ops_each_read_exactly_once() {
    const WRITERS: u64 = 4;
    const READERS: usize = 4;
    const PER_WRITER: u64 = 50_000; // 200,000 in total
    watchdog(300, "any2any fifo(8) mixed", || {
        let (tx, rx) = Channel::<u64>::new().fifo(8).any2any();
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let tx = tx.clone();
                thread::spawn(move || {
                    for seq in 0..PER_WRITER {
                        let mut v = encode(w, seq);
                        loop {
                            let r = match seq % 3 {
                                0 => tx.write(v),
                                1 => tx.try_write(v),
                                _ => tx.write_timeout(v, Duration::from_micros(seq % 5)),
                            };
                            match r {
                                Ok(()) => break,
                                Err(e) => {
                                    let kind = e.error();
                                    assert!(
                                        matches!(kind, ChannelError::Full { .. })
                                            || kind.is_timeout(),
                                        "{kind}"
                                    );
                                    v = e.into_inner().expect("a refused write hands it back");
                                    assert_eq!(v, encode(w, seq), "another value came back");
                                }
                            }
                        }
                    }
                })
            })
            .collect();
        drop(tx);
        let readers: Vec<_> = (0..READERS)
            .map(|r| {
                let rx = rx.clone();
                thread::spawn(move || {
                    let mut tally = Tally::new(WRITERS as usize);
                    for op in (r as u64).. {
                        let got = match op % 3 {
                            0 => rx.read(),
                            1 => rx.try_read(),
                            _ => rx.read_timeout(Duration::from_micros(op % 4)),
                        };
                        let v = match got {
                            Ok(v) => v,
                            Err(ChannelError::Empty { .. }) => continue,
                            Err(e) if e.is_timeout() => continue,
                            Err(e) if e.is_retired() => break,
                            Err(e) => panic!("unexpected {e}"),
                        };
                        tally.add_in_order(v);
                    }
                    tally
                })
            })
            .collect();
        drop(rx);
        Tally::join(WRITERS as usize, writers, readers).assert_exactly_once(PER_WRITER);
    });
}

/// Retire racing the last writes of a small ring: each writer retires (or drops) its end
/// right after its last write while readers are still draining and parking on an empty
/// ring. Every value written is read, and every reader then sees `Retired`.
#[test]
fn retire_racing_the_last_writes_on_fifo_8_loses_nothing() {
    const WRITERS: u64 = 4;
    const READERS: usize = 4;
    const PER_WRITER: u64 = 1_000;
    watchdog(300, "fifo(8) retire race", || {
        for round in 0..40 {
            let (tx, rx) = Channel::<u64>::new().fifo(8).any2any();
            let writers = retiring_writers(&tx, WRITERS, PER_WRITER, round);
            drop(tx);
            let readers: Vec<_> = (0..READERS)
                .map(|_| {
                    let rx = rx.clone();
                    thread::spawn(move || {
                        let mut tally = Tally::new(WRITERS as usize);
                        for v in &rx {
                            tally.add(v);
                        }
                        let last = rx.read().unwrap_err();
                        assert!(last.is_retired(), "{last}");
                        tally
                    })
                })
                .collect();
            drop(rx);
            for w in writers {
                w.join().unwrap();
            }
            let mut total = Tally::new(WRITERS as usize);
            for r in readers {
                total.merge(&r.join().unwrap());
            }
            total.assert_exactly_once(PER_WRITER);
        }
    });
}

/// One writer streaming to one reader through a small `Fifo` ring, each side now and then
/// stalling so that the other snoozes, gives up, parks and is woken (the ring frozen and
/// thawed around it), while the reader mixes plain reads, `try_read`, timed reads and an
/// alt with a timeout (a registered alt freezes the ring under a snoozing writer). Every
/// value arrives once, in order.
#[test]
fn fifo_stream_through_snoozes_parks_and_alts_keeps_order() {
    const VALUES: u64 = 400_000;
    watchdog(300, "fifo stream with stalls", || {
        let (tx, rx) = Channel::<u64>::new().fifo(16).one2one();
        let writer = thread::spawn(move || {
            for v in 0..VALUES {
                if v.is_multiple_of(40_000) {
                    thread::sleep(Duration::from_micros(300)); // the reader parks on empty
                }
                tx.write(v).unwrap();
            }
        });
        let mut next = 0;
        let mut op = 0u64;
        while next < VALUES {
            op += 1;
            if op.is_multiple_of(30_000) {
                thread::sleep(Duration::from_micros(300)); // the writer parks on full
            }
            let got = match op % 4 {
                0 => rx.read().ok(),
                1 => rx.try_read().ok(),
                2 => rx.read_timeout(Duration::from_micros(op % 5)).ok(),
                _ => csp::alt! {
                    recv(rx) -> v => Some(v),
                    after(Duration::from_micros(op % 7)) => None,
                }
                .unwrap(),
            };
            if let Some(v) = got {
                assert_eq!(v, next, "out of order or lost");
                next += 1;
            }
        }
        writer.join().unwrap();
        assert!(rx.read().unwrap_err().is_retired());
    });
}
