//! Alternation over channel guards: every guard kind on channels, the three select
//! disciplines, errors. Alting under contention is in `alt_contention.rs`; barrier guards
//! and the merge components are tested elsewhere.
//!
//! A suite included once per placement, like `channel_semantics.rs` (whose header says
//! what the including file provides).

use std::time::{Duration, Instant};

use csp::{Alt, AltError, Channel, ChannelError, Fair, Policy};
use csp_tests::settle;

use super::{share, spawn, watchdog};

fn pri_select_always_chooses_the_first_ready_guard() {
    let (a_tx, a) = share(Channel::<u32>::new().buffer(Policy::Unbounded).one2one());
    let (b_tx, b) = share(Channel::<u32>::new().buffer(Policy::Unbounded).one2one());
    let (c_tx, c) = share(Channel::<u32>::new().buffer(Policy::Unbounded).one2one());
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

fn a_skip_is_never_chosen_while_an_input_is_ready_whatever_its_place() {
    // PyCSP's bug: a SkipGuard overtaking a ready input.
    let (tx, rx) = share(Channel::<u32>::new().buffer(Policy::Unbounded).one2one());
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
fn a_skip_never_overtakes_a_guard_made_ready_by_a_lock_free_operation() {
    const ROUNDS: u32 = 2_000;
    watchdog(120, "skip vs lock-free fifo", || {
        let (tx, rx) = share(Channel::<u32>::new().fifo(1).one2one());
        let (go_tx, go_rx) = share(Channel::<()>::new().one2one());
        let (ack_tx, ack_rx) = share(Channel::<()>::new().one2one());
        let writer = spawn(move || {
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

        let (tx, rx) = share(Channel::<u32>::new().fifo(1).one2one());
        let (go_tx, go_rx) = share(Channel::<()>::new().one2one());
        let (ack_tx, ack_rx) = share(Channel::<()>::new().one2one());
        let reader = spawn(move || {
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

fn fair_select_over_two_always_ready_inputs_shares_evenly() {
    const SELECTS: usize = 10_000;
    let (a_tx, a) = share(Channel::<u8>::new().buffer(Policy::Unbounded).one2one());
    let (b_tx, b) = share(Channel::<u8>::new().buffer(Policy::Unbounded).one2one());
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

fn arbitrary_select_chooses_each_ready_guard_sometimes() {
    let (a_tx, a) = share(Channel::<u8>::new().buffer(Policy::Unbounded).one2one());
    let (b_tx, b) = share(Channel::<u8>::new().buffer(Policy::Unbounded).one2one());
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

fn a_timeout_fires_after_its_deadline_and_never_before_a_ready_input() {
    let (tx, rx) = share(Channel::<u32>::new().fifo(1).one2one());
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
    let writer = spawn(move || {
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

fn disabled_guards_are_never_chosen_and_an_alt_with_none_is_an_error() {
    let (tx, rx) = share(Channel::<u32>::new().fifo(4).one2one());
    let (out_tx, _out_rx) = share(Channel::<u32>::new().fifo(4).one2one());
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

fn a_poisoned_or_retired_guard_ends_the_alt_naming_its_channel_and_guard() {
    let (_a_tx, a) = share(Channel::<u32>::new().named("a").one2one());
    let (b_tx, b) = share(Channel::<u32>::new().named("b").one2one());
    let poisoner = spawn(move || {
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

    let (c_tx, c) = share(Channel::<u32>::new().named("c").fifo(2).one2one());
    c_tx.write(1).unwrap();
    drop(c_tx);
    // A retired channel still delivers what is buffered, then reports retirement.
    assert_eq!(Alt::new().input(&c, |v| v).select().unwrap(), 1);
    let err = Alt::new().input(&c, |v| v).select().unwrap_err();
    assert!(err.is_retired(), "{err}");

    // An output guard whose readers are gone.
    let (d_tx, d_rx) = share(Channel::<u32>::new().named("d").one2one());
    drop(d_rx);
    let err = Alt::new().output(&d_tx, 1, || ()).select().unwrap_err();
    assert!(err.is_retired() && err.to_string().contains("'d'"), "{err}");
}

fn two_guards_on_one_channel_are_refused() {
    let (tx, rx) = share(Channel::<u32>::new().named("loop").any2any());
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
fn two_guards_on_one_channel_are_refused_even_when_one_is_ready() {
    let (tx, rx) = share(Channel::<u32>::new().named("busy").fifo(4).any2any());
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
fn a_duration_max_timeout_does_not_panic() {
    let (tx, rx) = share(Channel::<u32>::new().fifo(1).one2one());
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

fn an_output_guard_meets_a_plain_reader_and_an_input_guard_a_plain_writer() {
    watchdog(60, "alt with plain partners", || {
        let (tx, rx) = share(Channel::<u32>::new().one2one());
        let reader = spawn(move || {
            assert_eq!((0..100).map(|_| rx.read().unwrap()).sum::<u32>(), 4950);
        });
        for i in 0..100 {
            Alt::new().output(&tx, i, || ()).select().unwrap();
        }
        reader.join().unwrap();

        let (tx, rx) = share(Channel::<u32>::new().one2one());
        let writer = spawn(move || {
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

fn an_output_guard_not_chosen_sends_nothing() {
    let (tx, rx) = share(Channel::<u32>::new().fifo(1).one2one());
    let (_other_tx, other) = share(Channel::<u32>::new().fifo(1).one2one());
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

fn a_guard_on_an_end_retired_by_its_holder_reports_it() {
    let (tx, rx) = share(Channel::<u32>::new().named("done").fifo(1).one2one());
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

cases!(
    pri_select_always_chooses_the_first_ready_guard,
    a_skip_is_never_chosen_while_an_input_is_ready_whatever_its_place,
    a_skip_never_overtakes_a_guard_made_ready_by_a_lock_free_operation,
    fair_select_over_two_always_ready_inputs_shares_evenly,
    arbitrary_select_chooses_each_ready_guard_sometimes,
    a_timeout_fires_after_its_deadline_and_never_before_a_ready_input,
    disabled_guards_are_never_chosen_and_an_alt_with_none_is_an_error,
    a_poisoned_or_retired_guard_ends_the_alt_naming_its_channel_and_guard,
    two_guards_on_one_channel_are_refused,
    two_guards_on_one_channel_are_refused_even_when_one_is_ready,
    a_duration_max_timeout_does_not_panic,
    an_output_guard_meets_a_plain_reader_and_an_input_guard_a_plain_writer,
    an_output_guard_not_chosen_sends_nothing,
    a_guard_on_an_end_retired_by_its_holder_reports_it,
);
