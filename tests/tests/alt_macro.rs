//! The `alt!` macro: the same engine as `Alt`, with the arms' bodies in the caller.

use std::thread;
use std::time::{Duration, Instant};

use csp::{alt, AltError, Barrier, Channel, ChannelError, Fair, Policy};
use csp_tests::{settle, tag, watchdog, Tally};

#[test]
fn pri_takes_the_first_ready_arm_and_bodies_can_use_mutable_state() {
    let (a_tx, a) = Channel::<u32>::new().buffer(Policy::Unbounded).one2one();
    let (b_tx, b) = Channel::<u32>::new().buffer(Policy::Unbounded).one2one();
    for i in 0..10 {
        a_tx.write(i).unwrap();
        b_tx.write(100 + i).unwrap();
    }
    let (mut from_a, mut from_b) = (Vec::new(), Vec::new());
    for _ in 0..20 {
        alt! { pri:
            recv(a) -> v => from_a.push(v),
            recv(b) -> v => from_b.push(v),
        }
        .unwrap();
    }
    assert_eq!(from_a, (0..10).collect::<Vec<_>>());
    assert_eq!(from_b, (100..110).collect::<Vec<_>>());
}

#[test]
fn preconditions_default_and_timeout_arms() {
    let (tx, rx) = Channel::<u32>::new().fifo(2).one2one();
    tx.write(1).unwrap();
    let got = alt! { pri:
        recv(rx) -> v if false => Some(v),
        default => None,
    };
    assert_eq!(got.unwrap(), None);
    let got = alt! {
        recv(rx) -> v => Some(v),
        default => None,
    };
    assert_eq!(got.unwrap(), Some(1));
    let start = Instant::now();
    let got = alt! {
        recv(rx) -> v => Some(v),
        after(Duration::from_millis(30)) => None,
    };
    assert_eq!(got.unwrap(), None);
    assert!(start.elapsed() >= Duration::from_millis(30));
    let err = alt! {
        recv(rx) -> v if false => v,
    }
    .unwrap_err();
    assert!(matches!(err, AltError::NoGuard));
}

#[test]
fn bodies_can_break_and_use_the_question_mark() {
    fn drain(rx: &csp::Input<u32>) -> Result<u32, AltError> {
        let mut sum = 0;
        loop {
            alt! {
                recv(rx) -> v => sum += v,
                default => break,
            }?;
        }
        Ok(sum)
    }
    let (tx, rx) = Channel::<u32>::new().fifo(8).one2one();
    for i in 1..=4 {
        tx.write(i).unwrap();
    }
    assert_eq!(drain(&rx).unwrap(), 10);
    tx.poison();
    let err = drain(&rx).unwrap_err();
    assert!(err.is_poisoned());
}

#[test]
fn errors_number_the_guard_arms_in_order() {
    let (_a_tx, a) = Channel::<u32>::new().named("a").one2one();
    let (b_tx, b) = Channel::<u32>::new().named("b").one2one();
    let (c_tx, _c) = Channel::<u32>::new().named("c").one2one();
    drop(b_tx);
    let err = alt! { pri:
        recv(a) -> _v => (),
        recv(b) -> _v => (),
        send(c_tx, 1) => (),
        after(Duration::from_secs(60)) => (),
    }
    .unwrap_err();
    assert_eq!(err.guard(), Some(1));
    assert!(matches!(
        err.channel_error(),
        Some(ChannelError::Retired { channel, .. }) if &**channel == "b"
    ));
}

#[test]
fn both_ends_alting_with_the_macro_in_a_ring_of_8_for_10000_rounds() {
    const NODES: usize = 8;
    const ROUNDS: u64 = 10_000;
    watchdog(600, "alt! ring", || {
        let (outs, ins): (Vec<_>, Vec<_>) =
            (0..NODES).map(|_| Channel::<u64>::new().one2one()).unzip();
        let mut ins: Vec<_> = ins.into_iter().map(Some).collect();
        let nodes: Vec<_> = outs
            .into_iter()
            .enumerate()
            .map(|(i, out)| {
                let input = ins[(i + NODES - 1) % NODES].take().unwrap();
                thread::spawn(move || {
                    let (mut sent, mut held) = (0u64, 1u64);
                    // What this node read, as its neighbour tagged it: the loop bounds
                    // how many reads were made, not what they returned.
                    let mut tally = Tally::new(NODES);
                    let mut received = 0u64;
                    let from = (i + NODES - 1) % NODES;
                    while sent < ROUNDS || received < ROUNDS {
                        alt! {
                            send(out, tag(i as u64, sent)) if sent < ROUNDS && held > 0 => {
                                sent += 1;
                                held -= 1;
                            }
                            recv(input) -> v if received < ROUNDS => {
                                assert_eq!(tally.add(v), (from, received), "node {i}: out of order");
                                received += 1;
                                held += 1;
                            }
                        }
                        .unwrap();
                    }
                    tally
                })
            })
            .collect();
        let mut total = Tally::new(NODES);
        for n in nodes {
            total.merge(&n.join().unwrap());
        }
        // Every node's messages 0..ROUNDS, each read exactly once, by its neighbour.
        total.assert_exactly_once(ROUNDS);
    });
}

#[test]
fn fair_mode_and_barrier_arms() {
    let (a_tx, a) = Channel::<u8>::new().buffer(Policy::Unbounded).one2one();
    let (b_tx, b) = Channel::<u8>::new().buffer(Policy::Unbounded).one2one();
    for _ in 0..1000 {
        a_tx.write(0).unwrap();
        b_tx.write(1).unwrap();
    }
    let mut fair = Fair::new();
    let mut counts = [0; 2];
    for _ in 0..1000 {
        let v = alt! { fair(&mut fair):
            recv(a) -> v => v,
            recv(b) -> v => v,
        }
        .unwrap();
        counts[v as usize] += 1;
    }
    assert_eq!(counts, [500, 500]);

    watchdog(60, "alt! barrier", || {
        let barrier = Barrier::new();
        let me = barrier.enroll();
        let other = barrier.enroll();
        let (_tx, idle) = Channel::<u8>::new().one2one();
        let t = thread::spawn(move || {
            settle();
            other.sync();
        });
        let what = alt! {
            recv(idle) -> _v => "input",
            sync(me) => "synced",
        }
        .unwrap();
        assert_eq!(what, "synced");
        t.join().unwrap();
    });
}
