//! Alternation over channel guards under contention: exactly-once delivery with both
//! ends of channels alting, rings of alting processes, alts waiting out claims.
//!
//! A suite included once per placement, like `channel_semantics.rs` (whose header says
//! what the including file provides).

use std::time::Duration;

use csp::{Alt, Channel, Fair};
use csp_tests::{settle, tag, Tally};

use super::{share, spawn, watchdog};

fn exactly_once_with_4_alting_writers_and_4_alting_readers_over_8_shared_channels() {
    const WRITERS: u64 = 4;
    const READERS: usize = 4;
    const CHANNELS: usize = 8;
    const PER_WRITER: u64 = 250_000; // 1,000,000 in total
    watchdog(600, "alt exactly-once", || {
        let (txs, rxs): (Vec<_>, Vec<_>) = (0..CHANNELS)
            .map(|i| share(Channel::<u64>::new().named(format!("c{i}")).any2any()))
            .unzip();
        // Each reader's tally comes back here: readers may be other OS processes.
        let (tallies_tx, tallies) = share(Channel::<Tally>::new().fifo(READERS).any2one());
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let outs: Vec<_> = txs.to_vec();
                spawn(move || {
                    for seq in 0..PER_WRITER {
                        let v = tag(w, seq);
                        let mut alt = Alt::new();
                        for out in &outs {
                            alt = alt.output(out, v, || ());
                        }
                        alt.select().unwrap();
                    }
                })
            })
            .collect();
        drop(txs);
        let readers: Vec<_> = (0..READERS)
            .map(|_| {
                let ins: Vec<_> = rxs.to_vec();
                let tallies_tx = tallies_tx.clone();
                spawn(move || {
                    let mut tally = Tally::new(WRITERS as usize);
                    let mut open = [true; CHANNELS];
                    let mut fair = Fair::new();
                    while open.iter().any(|o| *o) {
                        let mut alt = Alt::new();
                        for (i, input) in ins.iter().enumerate() {
                            alt = alt.input_if(open[i], input, |v| v);
                        }
                        match alt.fair_select(&mut fair) {
                            Ok(v) => {
                                tally.add(v);
                            }
                            Err(e) if e.is_retired() => open[e.guard().unwrap()] = false,
                            Err(e) => panic!("reader: {e}"),
                        }
                    }
                    tallies_tx.write(tally).unwrap();
                })
            })
            .collect();
        drop((rxs, tallies_tx));
        let mut total = Tally::new(WRITERS as usize);
        for tally in &tallies {
            total.merge(&tally);
        }
        for party in writers.into_iter().chain(readers) {
            party.join().unwrap();
        }
        total.assert_exactly_once(PER_WRITER);
    });
}

fn a_ring_of_processes_alting_on_output_and_input_runs_10000_rounds() {
    const NODES: usize = 8;
    const ROUNDS: u64 = 10_000;
    watchdog(600, "alt ring", || {
        let (outs, ins): (Vec<_>, Vec<_>) = (0..NODES)
            .map(|i| share(Channel::<u64>::new().named(format!("link{i}")).one2one()))
            .unzip();
        // Each node's tally comes back here: nodes may be other OS processes.
        let (tallies_tx, tallies) = share(Channel::<Tally>::new().fifo(NODES).any2one());
        // Node i writes to link i and reads from link i-1.
        let mut ins: Vec<_> = ins.into_iter().map(Some).collect();
        let nodes: Vec<_> = outs
            .into_iter()
            .enumerate()
            .map(|(i, out)| {
                let input = ins[(i + NODES - 1) % NODES].take().unwrap();
                let tallies_tx = tallies_tx.clone();
                spawn(move || {
                    let (mut sent, mut held) = (0u64, 1u64);
                    // What this node read, as its neighbour tagged it: the loop bounds
                    // how many reads were made, not what they returned.
                    let mut tally = Tally::new(NODES);
                    let mut received = 0u64;
                    while sent < ROUNDS || received < ROUNDS {
                        let got = Alt::new()
                            .output_if(sent < ROUNDS && held > 0, &out, tag(i as u64, sent), || {
                                None
                            })
                            .input_if(received < ROUNDS, &input, Some)
                            .select()
                            .unwrap();
                        match got {
                            Some(v) => {
                                let from = (i + NODES - 1) % NODES;
                                assert_eq!(
                                    tally.add(v),
                                    (from, received),
                                    "node {i}: out of order"
                                );
                                received += 1;
                                held += 1;
                            }
                            None => {
                                sent += 1;
                                held -= 1;
                            }
                        }
                    }
                    tallies_tx.write(tally).unwrap();
                })
            })
            .collect();
        drop(tallies_tx);
        let mut total = Tally::new(NODES);
        for tally in &tallies {
            total.merge(&tally);
        }
        for n in nodes {
            n.join().unwrap();
        }
        // Every node's messages 0..ROUNDS, each read exactly once, by its neighbour.
        total.assert_exactly_once(ROUNDS);
    });
}

fn both_ends_alting_on_one_rendezvous_channel_meet_exactly_once() {
    const ROUNDS: u64 = 20_000;
    watchdog(300, "both ends alting", || {
        let (tx, rx) = share(Channel::<u64>::new().one2one());
        let (_idle_tx, idle) = share(Channel::<u64>::new().one2one());
        let (idle_out, _idle_rx) = share(Channel::<u64>::new().one2one());
        let writer = spawn(move || {
            for i in 0..ROUNDS {
                Alt::new()
                    .output(&tx, i, || ())
                    .input(&idle, |_| panic!("nobody writes here"))
                    .select()
                    .unwrap();
            }
        });
        for expected in 0..ROUNDS {
            let v = Alt::new()
                .input(&rx, |v| v)
                .output(&idle_out, 0, || panic!("nobody reads here"))
                .select()
                .unwrap();
            assert_eq!(v, expected);
        }
        writer.join().unwrap();
    });
}

fn an_output_guard_waits_out_another_ends_claim_and_never_splits_its_burst() {
    watchdog(60, "alt and claim", || {
        let (tx, rx) = share(Channel::<u32>::new().named("burst").fifo(16).any2one());
        let mut claimer = tx.clone();
        let (go_tx, go) = share(Channel::<()>::new().fifo(1).one2one());
        let burst = spawn(move || {
            let claimed = claimer.claim().unwrap();
            go_tx.write(()).unwrap(); // the claim is held from here
            for i in 1..=3 {
                claimed.write(i).unwrap();
                settle();
            }
        });
        go.read().unwrap();
        // While the other end holds its claim, the alt cannot write: it waits the claim
        // out (polling), then writes after the whole burst.
        let sent = Alt::new()
            .output(&tx, 99, || true)
            .timeout(Duration::from_secs(30), || false)
            .select()
            .unwrap();
        assert!(sent);
        burst.join().unwrap();
        drop(tx);
        let got: Vec<u32> = rx.iter().collect();
        assert_eq!(got, vec![1, 2, 3, 99]);
    });
}

cases!(
    exactly_once_with_4_alting_writers_and_4_alting_readers_over_8_shared_channels,
    a_ring_of_processes_alting_on_output_and_input_runs_10000_rounds,
    both_ends_alting_on_one_rendezvous_channel_meet_exactly_once,
    an_output_guard_waits_out_another_ends_claim_and_never_splits_its_burst,
);
