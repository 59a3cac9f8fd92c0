//! Alternation: every guard kind, the three select disciplines, and the exactly-once
//! guarantee with both ends of channels alting under contention.

use std::thread;
use std::time::{Duration, Instant};

use csp::{Alt, AltError, Channel, ChannelError, Fair, Policy};
use csp_tests::{settle, tag, watchdog, Tally};

#[test]
fn pri_select_always_chooses_the_first_ready_guard() {
    let (a_tx, a) = Channel::<u32>::new().buffer(Policy::Unbounded).one2one();
    let (b_tx, b) = Channel::<u32>::new().buffer(Policy::Unbounded).one2one();
    let (c_tx, c) = Channel::<u32>::new().buffer(Policy::Unbounded).one2one();
    for i in 0..100 {
        b_tx.write(i).unwrap();
        c_tx.write(i).unwrap();
    }
    // `a` is empty: `b` is the first ready guard every time, never `c`.
    for i in 0..100 {
        let got = Alt::new()
            .input(&a, |v| ('a', v))
            .input(&b, |v| ('b', v))
            .input(&c, |v| ('c', v))
            .pri_select()
            .unwrap();
        assert_eq!(got, ('b', i));
    }
    a_tx.write(7).unwrap();
    let got = Alt::new()
        .input(&a, |v| ('a', v))
        .input(&c, |v| ('c', v))
        .pri_select()
        .unwrap();
    assert_eq!(got, ('a', 7));
}

#[test]
fn a_skip_is_never_chosen_while_an_input_is_ready_whatever_its_place() {
    // PyCSP's bug: a SkipGuard overtaking a ready input.
    let (tx, rx) = Channel::<u32>::new().buffer(Policy::Unbounded).one2one();
    for i in 0..1000 {
        tx.write(i).unwrap();
    }
    for i in 0..500 {
        let got = Alt::new()
            .skip(|| None)
            .input(&rx, Some)
            .pri_select()
            .unwrap();
        assert_eq!(got, Some(2 * i), "skip chosen over a ready input");
        let got = Alt::new().input(&rx, Some).skip(|| None).select().unwrap();
        assert_eq!(got, Some(2 * i + 1));
    }
    assert_eq!(
        Alt::new().input(&rx, Some).skip(|| None).select().unwrap(),
        None
    );
}

/// A `Fifo` channel's writes and reads may complete without its lock (its ring's fast
/// path); an alt's first look reads the channel's readiness hint instead of locking. A
/// write or read that returned before the alt looked must show in that hint: otherwise a
/// skip would be chosen over an input holding a value, or over an output with room. Each
/// alt below runs right after the lock path found the ring empty (or full) and a
/// lock-free operation changed that.
#[test]
fn a_skip_never_overtakes_a_guard_made_ready_by_a_lock_free_operation() {
    const ROUNDS: u32 = 2_000;
    watchdog(120, "skip vs lock-free fifo", || {
        let (tx, rx) = Channel::<u32>::new().fifo(1).one2one();
        let (go_tx, go_rx) = Channel::<()>::new().one2one();
        let (ack_tx, ack_rx) = Channel::<()>::new().one2one();
        let writer = thread::spawn(move || {
            for i in 0..ROUNDS {
                tx.write(i).unwrap(); // the last alt emptied the ring: no lock now
                go_tx.write(()).unwrap();
                ack_rx.read().unwrap();
            }
        });
        for i in 0..ROUNDS {
            go_rx.read().unwrap();
            let got = Alt::new()
                .skip(|| None)
                .input(&rx, Some)
                .pri_select()
                .unwrap();
            assert_eq!(got, Some(i), "skip chosen over a buffered value");
            ack_tx.write(()).unwrap();
        }
        writer.join().unwrap();

        let (tx, rx) = Channel::<u32>::new().fifo(1).one2one();
        let (go_tx, go_rx) = Channel::<()>::new().one2one();
        let (ack_tx, ack_rx) = Channel::<()>::new().one2one();
        let reader = thread::spawn(move || {
            for i in 0..ROUNDS {
                go_rx.read().unwrap();
                assert_eq!(rx.read().unwrap(), i); // the last alt filled it: no lock now
                ack_tx.write(()).unwrap();
            }
        });
        for i in 0..ROUNDS {
            let wrote = Alt::new()
                .skip(|| false)
                .output(&tx, i, || true)
                .pri_select()
                .unwrap();
            assert!(wrote, "skip chosen over an output with room");
            go_tx.write(()).unwrap();
            ack_rx.read().unwrap();
        }
        reader.join().unwrap();
    });
}

#[test]
fn fair_select_over_two_always_ready_inputs_shares_evenly() {
    const SELECTS: usize = 10_000;
    let (a_tx, a) = Channel::<u8>::new().buffer(Policy::Unbounded).one2one();
    let (b_tx, b) = Channel::<u8>::new().buffer(Policy::Unbounded).one2one();
    for _ in 0..SELECTS {
        a_tx.write(0).unwrap();
        b_tx.write(1).unwrap();
    }
    let mut fair = Fair::new();
    let mut counts = [0usize; 2];
    for _ in 0..SELECTS {
        let v = Alt::new()
            .input(&a, |v| v)
            .input(&b, |v| v)
            .fair_select(&mut fair)
            .unwrap();
        counts[v as usize] += 1;
    }
    for (i, c) in counts.iter().enumerate() {
        let share = *c as f64 / SELECTS as f64;
        assert!((0.45..=0.55).contains(&share), "input {i}: {share}");
    }
}

#[test]
fn arbitrary_select_chooses_each_ready_guard_sometimes() {
    let (a_tx, a) = Channel::<u8>::new().buffer(Policy::Unbounded).one2one();
    let (b_tx, b) = Channel::<u8>::new().buffer(Policy::Unbounded).one2one();
    for _ in 0..1000 {
        a_tx.write(0).unwrap();
        b_tx.write(1).unwrap();
    }
    let mut counts = [0usize; 2];
    for _ in 0..1000 {
        let v = Alt::new()
            .input(&a, |v| v)
            .input(&b, |v| v)
            .select()
            .unwrap();
        counts[v as usize] += 1;
    }
    assert!(counts[0] > 100 && counts[1] > 100, "{counts:?}");
}

#[test]
fn a_timeout_fires_after_its_deadline_and_never_before_a_ready_input() {
    let (tx, rx) = Channel::<u32>::new().fifo(1).one2one();
    let start = Instant::now();
    let got = Alt::new()
        .input(&rx, Some)
        .timeout(Duration::from_millis(50), || None)
        .pri_select()
        .unwrap();
    assert_eq!(got, None);
    assert!(start.elapsed() >= Duration::from_millis(50));

    // A ready input is chosen even with a timeout that has already expired (PyCSP's
    // blocking TimeoutGuard bug), and before the deadline.
    tx.write(5).unwrap();
    let got = Alt::new()
        .deadline(Instant::now(), || None)
        .input(&rx, Some)
        .pri_select()
        .unwrap();
    assert_eq!(got, Some(5));

    // An input that arrives while the alt waits is taken at once, not at the deadline.
    let writer = thread::spawn(move || {
        settle();
        tx.write(6).unwrap();
    });
    let start = Instant::now();
    let got = Alt::new()
        .input(&rx, Some)
        .timeout(Duration::from_secs(60), || None)
        .pri_select()
        .unwrap();
    assert_eq!(got, Some(6));
    assert!(start.elapsed() < Duration::from_secs(60));
    writer.join().unwrap();
}

#[test]
fn disabled_guards_are_never_chosen_and_an_alt_with_none_is_an_error() {
    let (tx, rx) = Channel::<u32>::new().fifo(4).one2one();
    let (out_tx, _out_rx) = Channel::<u32>::new().fifo(4).one2one();
    tx.write(1).unwrap();
    for _ in 0..100 {
        let got = Alt::new()
            .input_if(false, &rx, |_| "input")
            .output_if(false, &out_tx, 1, || "output")
            .skip_if(false, || "skip")
            .timeout(Duration::from_millis(1), || "timeout")
            .pri_select()
            .unwrap();
        assert_eq!(got, "timeout");
    }
    let err = Alt::new()
        .input_if(false, &rx, |_| ())
        .skip_if(false, || ())
        .select()
        .unwrap_err();
    assert!(matches!(err, AltError::NoGuard), "{err}");
    assert_eq!(rx.read().unwrap(), 1); // nothing was taken
}

#[test]
fn a_poisoned_or_retired_guard_ends_the_alt_naming_its_channel_and_guard() {
    let (_a_tx, a) = Channel::<u32>::new().named("a").one2one();
    let (b_tx, b) = Channel::<u32>::new().named("b").one2one();
    let poisoner = thread::spawn(move || {
        settle();
        b_tx.poison();
    });
    let err = Alt::new()
        .input(&a, |_| ())
        .input(&b, |_| ())
        .select()
        .unwrap_err();
    poisoner.join().unwrap();
    assert!(err.is_poisoned(), "{err}");
    assert_eq!(err.guard(), Some(1));
    assert_eq!(err.channel_error().unwrap().channel(), "b");

    let (c_tx, c) = Channel::<u32>::new().named("c").fifo(2).one2one();
    c_tx.write(1).unwrap();
    drop(c_tx);
    // A retired channel still delivers what is buffered, then reports retirement.
    assert_eq!(Alt::new().input(&c, |v| v).select().unwrap(), 1);
    let err = Alt::new().input(&c, |v| v).select().unwrap_err();
    assert!(err.is_retired(), "{err}");

    // An output guard whose readers are gone.
    let (d_tx, d_rx) = Channel::<u32>::new().named("d").one2one();
    drop(d_rx);
    let err = Alt::new().output(&d_tx, 1, || ()).select().unwrap_err();
    assert!(err.is_retired() && err.to_string().contains("'d'"), "{err}");
}

#[test]
fn two_guards_on_one_channel_are_refused() {
    let (tx, rx) = Channel::<u32>::new().named("loop").any2any();
    let err = Alt::new()
        .input(&rx, |_| ())
        .output(&tx, 1, || ())
        .select()
        .unwrap_err();
    assert!(matches!(err, AltError::SameChannel { .. }), "{err}");
    assert!(err.to_string().contains("'loop'"), "{err}");
}

/// Refused before anything is polled: also when a guard is ready, so the alt neither
/// completes nor consumes anything.
#[test]
fn two_guards_on_one_channel_are_refused_even_when_one_is_ready() {
    let (tx, rx) = Channel::<u32>::new().named("busy").fifo(4).any2any();
    tx.write(7).unwrap();
    let err = Alt::new()
        .input(&rx, |v| v)
        .input(&rx, |v| v)
        .pri_select()
        .unwrap_err();
    assert!(
        matches!(
            err,
            AltError::SameChannel {
                first: 0,
                second: 1,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(rx.try_read(), Ok(7), "the refused alt consumed nothing");
    let err = csp::alt! {
        recv(rx) -> _v => (),
        send(tx, 1) => (),
        default => (),
    };
    assert!(
        err.is_err_and(|e| e.to_string().contains("'busy'")),
        "default is not taken either"
    );
    assert_eq!(
        rx.try_read(),
        Err(ChannelError::Empty {
            channel: "busy".into()
        })
    );
}

/// A huge timeout saturates instead of overflowing the clock: the ready guard wins.
#[test]
fn a_duration_max_timeout_does_not_panic() {
    let (tx, rx) = Channel::<u32>::new().fifo(1).one2one();
    tx.write(5).unwrap();
    let got = Alt::new()
        .input(&rx, |v| v)
        .timeout(Duration::MAX, || 0)
        .select()
        .unwrap();
    assert_eq!(got, 5);
    let got = csp::alt! {
        recv(rx) -> v => v,
        after(Duration::MAX) => 1,
        default => 2,
    };
    assert_eq!(
        got.unwrap(),
        2,
        "nothing ready: skip chosen, the timeout is never due"
    );
    assert!(csp::Timer::after(Duration::MAX) > csp::Timer::now());
    tx.write(6).unwrap();
    assert_eq!(rx.read_timeout(Duration::MAX), Ok(6));
}

#[test]
fn an_output_guard_meets_a_plain_reader_and_an_input_guard_a_plain_writer() {
    watchdog(60, "alt with plain partners", || {
        let (tx, rx) = Channel::<u32>::new().one2one();
        let reader = thread::spawn(move || (0..100).map(|_| rx.read().unwrap()).sum::<u32>());
        for i in 0..100 {
            Alt::new().output(&tx, i, || ()).select().unwrap();
        }
        assert_eq!(reader.join().unwrap(), 4950);

        let (tx, rx) = Channel::<u32>::new().one2one();
        let writer = thread::spawn(move || {
            for i in 0..100 {
                tx.write(i).unwrap();
            }
        });
        let mut sum = 0;
        for _ in 0..100 {
            sum += Alt::new().input(&rx, |v| v).select().unwrap();
        }
        writer.join().unwrap();
        assert_eq!(sum, 4950);
    });
}

#[test]
fn an_output_guard_not_chosen_sends_nothing() {
    let (tx, rx) = Channel::<u32>::new().fifo(1).one2one();
    let (_other_tx, other) = Channel::<u32>::new().fifo(1).one2one();
    tx.write(0).unwrap(); // full
    let got = Alt::new()
        .output(&tx, 99, || "sent")
        .input(&other, |_| "read")
        .timeout(Duration::from_millis(20), || "timeout")
        .select()
        .unwrap();
    assert_eq!(got, "timeout");
    assert_eq!(rx.read().unwrap(), 0);
    assert!(matches!(rx.try_read(), Err(ChannelError::Empty { .. })));
}

#[test]
fn exactly_once_with_4_alting_writers_and_4_alting_readers_over_8_shared_channels() {
    const WRITERS: u64 = 4;
    const READERS: usize = 4;
    const CHANNELS: usize = 8;
    const PER_WRITER: u64 = 250_000; // 1,000,000 in total
    watchdog(600, "alt exactly-once", || {
        let (txs, rxs): (Vec<_>, Vec<_>) = (0..CHANNELS)
            .map(|i| Channel::<u64>::new().named(format!("c{i}")).any2any())
            .unzip();
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let outs: Vec<_> = txs.to_vec();
                thread::spawn(move || {
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
                thread::spawn(move || {
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
                    tally
                })
            })
            .collect();
        drop(rxs);
        Tally::join(WRITERS as usize, writers, readers).assert_exactly_once(PER_WRITER);
    });
}

#[test]
fn a_ring_of_processes_alting_on_output_and_input_runs_10000_rounds() {
    const NODES: usize = 8;
    const ROUNDS: u64 = 10_000;
    watchdog(600, "alt ring", || {
        let (outs, ins): (Vec<_>, Vec<_>) = (0..NODES)
            .map(|i| Channel::<u64>::new().named(format!("link{i}")).one2one())
            .unzip();
        // Node i writes to link i and reads from link i-1.
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
fn both_ends_alting_on_one_rendezvous_channel_meet_exactly_once() {
    const ROUNDS: u64 = 20_000;
    watchdog(300, "both ends alting", || {
        let (tx, rx) = Channel::<u64>::new().one2one();
        let (_idle_tx, idle) = Channel::<u64>::new().one2one();
        let (idle_out, _idle_rx) = Channel::<u64>::new().one2one();
        let writer = thread::spawn(move || {
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

mod merge {
    use csp::components::{collect, generate, merge, plex};
    use csp::{par, Channel, Failure, NetworkError, Parallel, Policy, Process};
    use csp_tests::watchdog;

    #[test]
    fn merge_of_8_producers_delivers_every_value_once() {
        const PRODUCERS: u64 = 8;
        const EACH: u64 = 10_000;
        let got = watchdog(300, "merge 8", || {
            let (outs, ins): (Vec<_>, Vec<_>) = (0..PRODUCERS)
                .map(|_| Channel::<u64>::new().one2one())
                .unzip();
            let (out, out_in) = Channel::<u64>::new().fifo(64).one2one();
            let producers: Parallel = outs
                .into_iter()
                .enumerate()
                .map(|(p, o)| {
                    let p = p as u64;
                    generate((0..EACH).map(move |i| p * EACH + i), o)
                })
                .collect();
            let (_, _, got) = par!(
                producers.into_process("producers"),
                merge(ins, out),
                collect(out_in)
            )
            .unwrap();
            got.unwrap()
        });
        let mut got = got;
        got.sort_unstable();
        assert_eq!(got, (0..PRODUCERS * EACH).collect::<Vec<_>>());
    }

    #[test]
    fn merge_is_fair_between_two_busy_inputs() {
        // Both inputs hold all their values before the merge starts, so both are ready
        // at every select: a fair merge must alternate.
        const EACH: usize = 5000;
        let got = watchdog(60, "merge fair", || {
            let (a, a_in) = Channel::<u8>::new().buffer(Policy::Unbounded).one2one();
            let (b, b_in) = Channel::<u8>::new().buffer(Policy::Unbounded).one2one();
            for _ in 0..EACH {
                a.write(0).unwrap();
                b.write(1).unwrap();
            }
            drop((a, b));
            let (out, out_in) = Channel::<u8>::new().one2one();
            let (_, got) = par!(merge(vec![a_in, b_in], out), collect(out_in)).unwrap();
            got.unwrap()
        });
        assert_eq!(got.len(), 2 * EACH);
        let longest_run = got.chunk_by(|x, y| x == y).map(<[u8]>::len).max().unwrap();
        assert!(longest_run <= 2, "longest run of one input: {longest_run}");
    }

    #[test]
    fn plex_tags_each_value_with_its_input() {
        let got = watchdog(60, "plex", || {
            let (a, a_in) = Channel::<u32>::new().one2one();
            let (b, b_in) = Channel::<u32>::new().one2one();
            let (out, out_in) = Channel::<(usize, u32)>::new().one2one();
            let (_, _, _, got) = par!(
                generate(0..100, a),
                generate(100..200, b),
                plex(vec![a_in, b_in], out),
                collect(out_in),
            )
            .unwrap();
            got.unwrap()
        });
        assert_eq!(got.len(), 200);
        for (input, v) in got {
            assert_eq!(input, (v / 100) as usize);
        }
    }

    #[test]
    fn merge_stops_on_poison_and_refuses_two_ends_of_one_channel() {
        watchdog(60, "merge poison", || {
            let (a, a_in) = Channel::<u32>::new().one2one();
            let (out, out_in) = Channel::<u32>::new().one2one();
            let poisoner = Process::with_ends("poisoner", a, |a| {
                a.write(1)?;
                a.poison();
                Ok(())
            });
            let results = Parallel::new()
                .add(poisoner)
                .add(merge(vec![a_in], out))
                .add(Process::with_ends("reader", out_in, |r| {
                    r.read()?;
                    r.read()?;
                    Ok(())
                }))
                .run()
                .unwrap();
            // Everyone stopped because of the poison: no failure, no result.
            assert_eq!(results[1], None);

            let (_tx, rx) = Channel::<u32>::new().named("twice").one2any();
            let (out, _out_in) = Channel::<u32>::new().one2one();
            let err = Parallel::new()
                .boundary(&_tx)
                .boundary(&_out_in)
                .add(merge(vec![rx.clone().into(), rx.into()], out))
                .run()
                .unwrap_err();
            let NetworkError::Failed(failures) = err else {
                panic!("expected a failure");
            };
            assert!(matches!(&failures[0], Failure::Error { process, error }
                if process == "merge" && error.to_string().contains("'twice'")));
        });
    }
}

#[test]
fn an_output_guard_waits_out_another_ends_claim_and_never_splits_its_burst() {
    watchdog(60, "alt and claim", || {
        let (tx, rx) = Channel::<u32>::new().named("burst").fifo(16).any2one();
        let mut claimer = tx.clone();
        let (go_tx, go) = Channel::<()>::new().fifo(1).one2one();
        let burst = thread::spawn(move || {
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

#[test]
fn a_guard_on_an_end_retired_by_its_holder_reports_it() {
    let (tx, rx) = Channel::<u32>::new().named("done").fifo(1).one2one();
    rx.retire();
    let err = Alt::new().input(&rx, |v| v).select().unwrap_err();
    assert!(err.is_retired(), "{err}");
    assert_eq!(err.guard(), Some(0));
    let err = Alt::new()
        .output(&tx, 1, || ())
        .timeout(Duration::from_secs(5), || ())
        .select()
        .unwrap_err();
    assert!(
        err.is_retired() && err.to_string().contains("'done'"),
        "{err}"
    );
}
