//! Barriers, plain and as alt guards (alting barriers), whatever the parties' placement.
//!
//! A suite included once per placement, like `channel_semantics.rs` (whose header says
//! what the including file provides); a new barrier goes through `share_barrier`, and
//! parties observe each other through `csp_tests::shared` atomics, which a forked party
//! shares too.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use csp::{Alt, Barrier, Channel, Policy};
use csp_tests::settle;
use csp_tests::shared::Shared;

use super::{share, share_barrier, spawn, watchdog};

fn counters(n: usize) -> Vec<Shared<AtomicUsize>> {
    (0..n)
        .map(|_| Shared::new(AtomicUsize::new(0)).expect("a shared counter"))
        .collect()
}

fn no_party_starts_a_phase_before_every_party_finished_the_previous_one() {
    const PARTIES: usize = 4;
    const PHASES: usize = 200;
    watchdog(300, "barrier phases", || {
        let barrier = share_barrier(Barrier::named("phases"));
        let done = counters(PHASES);
        // Enroll everyone before anyone syncs: a party alone on a barrier passes it.
        let enrolled: Vec<_> = (0..PARTIES).map(|_| barrier.enroll()).collect();
        let parties: Vec<_> = enrolled
            .into_iter()
            .map(|me| {
                let done = done.clone();
                spawn(move || {
                    for (phase, count) in done.iter().enumerate() {
                        count.fetch_add(1, Ordering::SeqCst);
                        me.sync();
                        assert_eq!(
                            count.load(Ordering::SeqCst),
                            PARTIES,
                            "passed the barrier of phase {phase} early"
                        );
                    }
                })
            })
            .collect();
        for p in parties {
            p.join().unwrap();
        }
    });
}

fn resigning_releases_the_parties_waiting_for_it() {
    watchdog(60, "barrier resign", || {
        let barrier = share_barrier(Barrier::new());
        let waiting = barrier.enroll();
        let late = barrier.enroll();
        let passed = Shared::new(AtomicBool::new(false)).expect("a shared flag");
        let seen = passed.clone();
        let t = spawn(move || {
            waiting.sync();
            passed.store(true, Ordering::SeqCst);
        });
        settle();
        assert!(!seen.load(Ordering::SeqCst), "passed with a party missing");
        late.resign();
        t.join().unwrap();
        assert!(seen.load(Ordering::SeqCst));
        assert_eq!(barrier.enrolled(), 0);
    });
}

fn alting_parties_commit_to_the_barrier_together_or_not_at_all() {
    // Each party alts between the barrier and its own message channel. If a barrier
    // completion ever committed some parties but not the others, their sync counts would
    // diverge and one would wait forever for a barrier the others left behind.
    const PARTIES: usize = 3;
    const SYNCS: usize = 300;
    const MESSAGES: usize = 300;
    watchdog(300, "alting barrier", || {
        let barrier = share_barrier(Barrier::named("round"));
        let (feeds, inboxes): (Vec<_>, Vec<_>) = (0..PARTIES)
            .map(|_| share(Channel::<usize>::new().buffer(Policy::Fifo(64)).one2one()))
            .unzip();
        let feeder = spawn(move || {
            for m in 0..MESSAGES {
                for f in &feeds {
                    f.write(m).unwrap();
                }
            }
        });
        let enrolled: Vec<_> = (0..PARTIES).map(|_| barrier.enroll()).collect();
        // passed[k]: how many parties have come out of round k. A party comes out of
        // round k only when every party offered round k, which each does after coming
        // out of round k-1: a completion that committed only some parties breaks this.
        let passed = counters(SYNCS);
        let parties: Vec<_> = inboxes
            .into_iter()
            .zip(enrolled)
            .map(|(inbox, me)| {
                let passed = passed.clone();
                spawn(move || {
                    let (mut syncs, mut messages) = (0, 0);
                    while syncs < SYNCS || messages < MESSAGES {
                        let got = Alt::new()
                            .barrier_if(syncs < SYNCS, &me, || None)
                            .input_if(messages < MESSAGES, &inbox, Some)
                            .select()
                            .unwrap();
                        match got {
                            None => {
                                if syncs > 0 {
                                    assert_eq!(
                                        passed[syncs - 1].load(Ordering::SeqCst),
                                        PARTIES,
                                        "left round {syncs} before all had left the last"
                                    );
                                }
                                passed[syncs].fetch_add(1, Ordering::SeqCst);
                                syncs += 1;
                            }
                            // The feeder writes 0, 1, 2, ... to each inbox: a message
                            // lost or taken twice shows up here.
                            Some(m) => {
                                assert_eq!(m, messages, "message lost or duplicated");
                                messages += 1;
                            }
                        }
                    }
                })
            })
            .collect();
        feeder.join().unwrap();
        for p in parties {
            p.join().unwrap();
        }
    });
}

fn a_barrier_guard_waits_for_the_other_parties_and_loses_to_a_ready_input() {
    watchdog(60, "barrier guard", || {
        let barrier = share_barrier(Barrier::new());
        let me = barrier.enroll();
        let _absent = barrier.enroll(); // never syncs
        let (tx, rx) = share(Channel::<u8>::new().fifo(1).one2one());
        let got = Alt::new()
            .barrier(&me, || "synced")
            .timeout(Duration::from_millis(20), || "timeout")
            .select()
            .unwrap();
        assert_eq!(got, "timeout");
        tx.write(1).unwrap();
        let got = Alt::new()
            .barrier(&me, || "synced")
            .input(&rx, |_| "input")
            .select()
            .unwrap();
        assert_eq!(got, "input");
    });
}

cases!(
    no_party_starts_a_phase_before_every_party_finished_the_previous_one,
    resigning_releases_the_parties_waiting_for_it,
    alting_parties_commit_to_the_barrier_together_or_not_at_all,
    a_barrier_guard_waits_for_the_other_parties_and_loses_to_a_ready_input,
);
