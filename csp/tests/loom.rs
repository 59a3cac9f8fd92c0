//! Loom model tests of the channel core, claims and barriers: every interleaving (up to
//! the preemption bound) of the wait-and-commit protocol. Each model with more than one
//! possible outcome counts its outcomes and fails if one was never reached. Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 CARGO_TARGET_DIR=target/loom
//! cargo test -p csp --test loom --release` (the whole suite takes well under a second
//! once built).
#![cfg(loom)]

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use csp::{Channel, ChannelError, Timer};
use loom::thread;

/// A deadline no model reaches by itself: under loom the crate's clock is a model clock
/// that only a timed wait moves on, so a wait with this timeout registers, lets loom
/// schedule its partner anywhere, and then expires.
const HOUR: Duration = Duration::from_secs(3600);

/// How often each branch of a model was reached over all of its executions. The counters
/// live outside loom (plain std atomics in a `static`) and are checked after
/// `loom::model` returns: a model that never reaches a branch proves nothing about it.
struct Reached<const N: usize> {
    names: [&'static str; N],
    hits: [AtomicUsize; N],
}

impl<const N: usize> Reached<N> {
    const fn new(names: [&'static str; N]) -> Self {
        Reached {
            names,
            hits: [const { AtomicUsize::new(0) }; N],
        }
    }

    fn hit(&self, branch: usize) {
        self.hits[branch].fetch_add(1, Relaxed);
    }

    fn assert_all(&self) {
        for (name, hits) in self.names.iter().zip(&self.hits) {
            assert!(hits.load(Relaxed) > 0, "the model never reached `{name}`");
        }
    }
}

/// A rendezvous delivers the value exactly once, whoever arrives first.
#[test]
fn rendezvous_delivers_once() {
    loom::model(|| {
        let (tx, rx) = Channel::<u32>::new().one2one();
        let writer = thread::spawn(move || tx.write(7).is_ok());
        assert_eq!(rx.read(), Ok(7));
        assert!(writer.join().unwrap());
    });
}

/// From a thread's third wait on, its waits reuse contexts (a thread caches two) and
/// packets (a wait queue keeps two spares) whose last partner may still hold them: no
/// value is lost, duplicated or delivered out of order.
#[test]
fn reused_contexts_and_packets_keep_exchanges_apart() {
    loom::model(|| {
        let (tx, rx) = Channel::<u32>::new().one2one();
        let writer = thread::spawn(move || (1..=3).all(|v| tx.write(v).is_ok()));
        let got: Vec<u32> = (0..3).map(|_| rx.read().unwrap()).collect();
        assert_eq!(got, [1, 2, 3]);
        assert!(writer.join().unwrap());
    });
}

/// A timed-out read leaves its context to the thread's next waits, possibly still held
/// by a writer that found it decided: the later reads get every value, in order.
#[test]
fn waits_after_a_timed_out_read_reuse_its_context() {
    static REACHED: Reached<2> = Reached::new(["read in time", "timed out"]);
    loom::model(|| {
        let (tx, rx) = Channel::<u32>::new().one2one();
        let writer = thread::spawn(move || (1..=2).all(|v| tx.write(v).is_ok()));
        let mut got = Vec::new();
        match rx.read_timeout(HOUR) {
            Ok(v) => {
                REACHED.hit(0);
                got.push(v);
            }
            Err(e) => {
                assert!(e.is_timeout(), "{e}");
                REACHED.hit(1);
            }
        }
        while got.len() < 2 {
            got.push(rx.read().unwrap());
        }
        assert_eq!(got, [1, 2]);
        assert!(writer.join().unwrap());
    });
    REACHED.assert_all();
}

/// A write whose deadline has passed races a reader: the value is either delivered
/// (write `Ok`, reader got it) or handed back (`Timeout`, reader got nothing), never both
/// and never neither.
#[test]
fn write_timeout_racing_reader_is_lossless() {
    static REACHED: Reached<2> = Reached::new(["delivered", "handed back"]);
    loom::model(|| {
        let (tx, rx) = Channel::<u32>::new().one2one();
        let writer = thread::spawn(move || match tx.write_deadline(5, Timer::now()) {
            Ok(()) => None,
            Err(e) => {
                assert!(e.error().is_timeout());
                e.into_inner()
            }
        });
        let got = rx.try_read().ok();
        let handed_back = writer.join().unwrap();
        match (got, handed_back) {
            (Some(5), None) => REACHED.hit(0),
            (None, Some(5)) => REACHED.hit(1),
            other => panic!("value lost or duplicated: {other:?}"),
        }
    });
    REACHED.assert_all();
}

/// The same race from the reader's side: a timed-out read never swallows a value.
#[test]
fn read_timeout_racing_writer_is_lossless() {
    static REACHED: Reached<2> = Reached::new(["read in time", "still buffered"]);
    loom::model(|| {
        let (tx, rx) = Channel::<u32>::new().fifo(1).one2one();
        let reader = thread::spawn(move || {
            let got = rx.read_deadline(Timer::now()).ok();
            (got, rx)
        });
        // A buffered write succeeds at once.
        assert!(tx.try_write(3).is_ok());
        let (got, rx) = reader.join().unwrap();
        // Either the timed-out read got the value, or the value is still buffered.
        let rest = rx.try_read().ok();
        match (got, rest) {
            (Some(3), None) => REACHED.hit(0),
            (None, Some(3)) => REACHED.hit(1),
            other => panic!("value lost or duplicated: {other:?}"),
        }
    });
    REACHED.assert_all();
}

/// Buffered channel: a blocked writer is moved into the buffer by a read, and retire
/// after the writes loses nothing.
#[test]
fn fifo_refill_and_retire_lose_nothing() {
    loom::model(|| {
        let (tx, rx) = Channel::<u32>::new().fifo(1).one2one();
        let writer = thread::spawn(move || {
            tx.write(1).unwrap();
            tx.write(2).unwrap(); // blocks until the first read makes room
        }); // dropping tx retires the channel
        let mut got = Vec::new();
        loop {
            match rx.read() {
                Ok(v) => got.push(v),
                Err(e) => {
                    assert!(e.is_retired(), "{e}");
                    break;
                }
            }
        }
        writer.join().unwrap();
        assert_eq!(got, vec![1, 2]);
    });
}

/// The `Fifo` ring's fast path racing its lock path: a reader that finds the ring empty
/// retries once (under loom a fast operation's snooze is one yield) and then parks
/// while the writer pushes, a writer that finds it full does the same while the reader
/// pops, and a value pushed without the lock is seen by a reader that took it. Every
/// value arrives once, in order, and the model reaches all six ways through.
#[test]
fn fifo_fast_path_and_lock_path_deliver_once_in_order() {
    static REACHED: Reached<6> = Reached::new([
        "write without the lock",
        "write refused (full or frozen)",
        "read without the lock",
        "read refused (empty or frozen)",
        "write without the lock after a refusal and a snooze",
        "read without the lock after a refusal and a snooze",
    ]);
    loom::model(|| {
        let (tx, rx) = Channel::<u32>::new().fifo(1).one2one();
        let writer = thread::spawn(move || {
            for v in 1..=3 {
                tx.write(v).unwrap();
            }
        }); // dropping tx retires the channel
        let mut got = Vec::new();
        loop {
            match rx.read() {
                Ok(v) => got.push(v),
                Err(e) => {
                    assert!(e.is_retired(), "{e}");
                    break;
                }
            }
        }
        writer.join().unwrap();
        assert_eq!(got, vec![1, 2, 3]);
        for (branch, n) in rx.fast_path_stats().into_iter().enumerate() {
            if n > 0 {
                REACHED.hit(branch);
            }
        }
    });
    REACHED.assert_all();
}

/// Poison from the reading end racing a writer on the `Fifo` ring, fast or locked: a
/// write is `Ok` (its value buffered, and dropped by the poison unless read first) or
/// `Poisoned` with its value back; nothing is read after the poison nor read twice, and
/// once the first write has failed the second never succeeds.
#[test]
fn poison_racing_fifo_writes_hands_back_or_buffers() {
    static REACHED: Reached<3> = Reached::new([
        "both writes buffered",
        "a write got its value back",
        "a value read before the poison",
    ]);
    loom::model(|| {
        let (tx, rx) = Channel::<u32>::new().fifo(1).one2one();
        let writer = thread::spawn(move || {
            let first = tx.write(1).map_err(|e| e.into_parts());
            let second = tx.write(2).map_err(|e| e.into_parts());
            (first, second)
        });
        let got = rx.try_read().ok();
        rx.poison();
        assert!(matches!(rx.read(), Err(ChannelError::Poisoned { .. })));
        let (first, second) = writer.join().unwrap();
        for (v, r) in [(1, &first), (2, &second)] {
            match r {
                Ok(()) => {}
                Err((ChannelError::Poisoned { .. }, Some(back))) => {
                    assert_eq!(*back, v, "another value came back");
                    assert_ne!(got, Some(v), "read and handed back");
                    REACHED.hit(1);
                }
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        assert!(
            !(first.is_err() && second.is_ok()),
            "a write after poison went through"
        );
        assert!(
            got.is_none() || got == Some(1),
            "read out of order: {got:?}"
        );
        if first.is_ok() && second.is_ok() {
            REACHED.hit(0);
        }
        if got.is_some() {
            REACHED.hit(2);
        }
    });
    REACHED.assert_all();
}

/// A writer blocked on a rendezvous channel is released by poison from the reading end
/// and gets its value back.
#[test]
fn poison_releases_blocked_writer_with_its_value() {
    loom::model(|| {
        let (tx, rx) = Channel::<u32>::new().one2one();
        let writer = thread::spawn(move || tx.write(1).map_err(|e| e.into_parts()));
        rx.poison();
        match writer.join().unwrap() {
            Err((ChannelError::Poisoned { .. }, Some(1))) => {}
            other => panic!("expected Poisoned with the value back, got {other:?}"),
        }
        assert!(matches!(rx.read(), Err(ChannelError::Poisoned { .. })));
    });
}

/// A reader blocked on a rendezvous channel is released by poison from another thread.
#[test]
fn poison_releases_blocked_reader() {
    loom::model(|| {
        let (tx, rx) = Channel::<u32>::new().one2one();
        let reader = thread::spawn(move || rx.read());
        tx.poison();
        assert!(matches!(
            reader.join().unwrap(),
            Err(ChannelError::Poisoned { .. })
        ));
    });
}

/// Two writers on an any2one rendezvous channel and one reader that reads twice: both
/// values arrive exactly once.
#[test]
fn any2one_two_writers_exactly_once() {
    loom::model(|| {
        let (tx, rx) = Channel::<u32>::new().any2one();
        let tx2 = tx.clone();
        let a = thread::spawn(move || tx.write(1).is_ok());
        let b = thread::spawn(move || tx2.write(2).is_ok());
        let mut got = [rx.read().unwrap(), rx.read().unwrap()];
        got.sort();
        assert_eq!(got, [1, 2]);
        assert!(a.join().unwrap() && b.join().unwrap());
    });
}

/// Extended rendezvous: the writer returns only after the reader's block ran.
#[test]
fn extended_rendezvous_releases_writer_after_block() {
    loom::model(|| {
        use loom::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        let ran = Arc::new(AtomicBool::new(false));
        let (tx, rx) = Channel::<u32>::new().one2one();
        let r2 = ran.clone();
        let writer = thread::spawn(move || {
            tx.write(4).unwrap();
            assert!(
                r2.load(Ordering::SeqCst),
                "writer released before the block ran"
            );
        });
        let v = rx.read_with(|v| {
            ran.store(true, Ordering::SeqCst);
            v
        });
        assert_eq!(v, Ok(4));
        writer.join().unwrap();
    });
}

/// An alting writer against an alting reader over the same two rendezvous channels,
/// polled in opposite orders, so both may register at once and see each other: exactly
/// one communication happens, and both sides agree on which.
#[test]
fn alting_writer_meets_alting_reader_exactly_once() {
    use csp::Alt;
    loom::model(|| {
        let (a_tx, a_rx) = Channel::<u32>::new().one2one();
        let (b_tx, b_rx) = Channel::<u32>::new().one2one();
        let writer = thread::spawn(move || {
            Alt::new()
                .output(&a_tx, 1, || 'a')
                .output(&b_tx, 2, || 'b')
                .pri_select()
                .unwrap()
        });
        let got = Alt::new()
            .input(&b_rx, |v| ('b', v))
            .input(&a_rx, |v| ('a', v))
            .pri_select()
            .unwrap();
        let sent = writer.join().unwrap();
        match (sent, got) {
            ('a', ('a', 1)) | ('b', ('b', 2)) => {}
            other => panic!("alts disagree: {other:?}"),
        }
    });
}

/// The same with deadlines in the future on both sides: each alt registers, and its
/// deadline may pass anywhere in its partner's progress. They meet, or both time out;
/// never one side believing in a communication the other did not make. Both branches
/// must be reached: with deadlines already passed (this test's first version) neither
/// alt ever registered, so they could never meet.
#[test]
fn alting_writer_and_reader_with_timeouts_agree() {
    use csp::Alt;
    static REACHED: Reached<2> = Reached::new(["met", "both timed out"]);
    loom::model(|| {
        let (a_tx, a_rx) = Channel::<u32>::new().one2one();
        let writer = thread::spawn(move || {
            let sent = Alt::new()
                .output(&a_tx, 1, || true)
                .timeout(HOUR, || false)
                .pri_select()
                .unwrap();
            (sent, a_tx) // kept open until the reader is done
        });
        let got = Alt::new()
            .input(&a_rx, Some)
            .timeout(HOUR, || None)
            .pri_select()
            .unwrap();
        let (sent, _a_tx) = writer.join().unwrap();
        match (sent, got) {
            (true, Some(1)) => REACHED.hit(0),
            (false, None) => REACHED.hit(1),
            other => panic!("value lost or duplicated: {other:?}"),
        }
    });
    REACHED.assert_all();
}

/// Claims on a shared end: one writer holds `claim()` for two writes while another
/// writes once. The reader sees all three values exactly once and the claimed pair
/// contiguous, whether the lone write comes before or after the claim.
#[test]
fn a_claimed_pair_of_writes_is_never_split() {
    static REACHED: Reached<2> = Reached::new(["lone write first", "claimed pair first"]);
    loom::model(|| {
        let (mut tx, rx) = Channel::<u32>::new().any2one();
        let tx2 = tx.clone();
        let claimant = thread::spawn(move || {
            let claimed = tx.claim().unwrap();
            claimed.write(1).unwrap();
            claimed.write(2).unwrap();
        });
        let lone = thread::spawn(move || tx2.write(3).unwrap());
        let got = [rx.read().unwrap(), rx.read().unwrap(), rx.read().unwrap()];
        claimant.join().unwrap();
        lone.join().unwrap();
        match got {
            [3, 1, 2] => REACHED.hit(0),
            [1, 2, 3] => REACHED.hit(1),
            other => panic!("claimed pair split, or a value lost or duplicated: {other:?}"),
        }
    });
    REACHED.assert_all();
}

/// A barrier of three parties where one resigns while the other two sync: nobody passes
/// while the third is still enrolled, and the resignation releases the two waiting
/// parties (loom reports a deadlock if it does not). Whether the resignation lands
/// before both parties have arrived or after is the race explored.
#[test]
fn resigning_from_a_barrier_releases_the_parties_syncing_on_it() {
    use csp::Barrier;
    use loom::sync::atomic::{AtomicBool, AtomicUsize as LoomUsize, Ordering::SeqCst};
    use loom::sync::Arc;
    static REACHED: Reached<2> = Reached::new(["resigned before both arrived", "resigned after"]);
    loom::model(|| {
        let barrier = Barrier::new();
        let (a, b, leaver) = (barrier.enroll(), barrier.enroll(), barrier.enroll());
        let resigning = Arc::new(AtomicBool::new(false));
        let arrived = Arc::new(LoomUsize::new(0));
        let party = |me: csp::Enrolled| {
            let (resigning, arrived) = (resigning.clone(), arrived.clone());
            move || {
                arrived.fetch_add(1, SeqCst);
                me.sync();
                assert!(resigning.load(SeqCst), "passed with a party still enrolled");
            }
        };
        let b = thread::spawn(party(b));
        let (r2, ar2) = (resigning.clone(), arrived.clone());
        let leaver = thread::spawn(move || {
            let both = ar2.load(SeqCst) == 2;
            r2.store(true, SeqCst);
            leaver.resign();
            both
        });
        party(a)();
        b.join().unwrap();
        REACHED.hit(usize::from(leaver.join().unwrap()));
        // The two parties resigned too, when their handles were dropped.
        assert_eq!(barrier.enrolled(), 0);
    });
    REACHED.assert_all();
}

/// Poison and retire race with a reader blocked in `read()`: the reader gets `Poisoned`
/// or `Retired` (never hangs, never a value), `Retired` only if the poison did not come
/// strictly first, and a later read sees the poison, which sticks.
#[test]
fn poison_and_retire_racing_with_a_parked_reader() {
    use loom::sync::atomic::{AtomicUsize as LoomUsize, Ordering::SeqCst};
    use loom::sync::Arc;
    static REACHED: Reached<4> = Reached::new([
        "retired",
        "poisoned, poison strictly first",
        "poisoned, retire strictly first (the reader came after both)",
        "poisoned, poison and retire overlapping",
    ]);
    loom::model(|| {
        let (tx, rx) = Channel::<u32>::new().one2any();
        let poisoner_end = rx.clone();
        // A logical clock: each side notes when its operation began and ended.
        let clock = Arc::new(LoomUsize::new(0));
        let reader = thread::spawn(move || {
            let first = rx.read();
            (first, rx)
        });
        let c2 = clock.clone();
        let poisoner = thread::spawn(move || {
            let began = c2.fetch_add(1, SeqCst);
            poisoner_end.poison();
            (began, c2.fetch_add(1, SeqCst))
        });
        let retire_began = clock.fetch_add(1, SeqCst);
        tx.retire();
        let retire_ended = clock.fetch_add(1, SeqCst);
        let (poison_began, poison_ended) = poisoner.join().unwrap();
        let (first, rx) = reader.join().unwrap();
        let poison_first = poison_ended < retire_began;
        let retire_first = retire_ended < poison_began;
        match first {
            Err(ChannelError::Retired { .. }) => {
                assert!(!poison_first, "retired after the channel was poisoned");
                REACHED.hit(0);
            }
            Err(ChannelError::Poisoned { .. }) if poison_first => REACHED.hit(1),
            Err(ChannelError::Poisoned { .. }) if retire_first => REACHED.hit(2),
            Err(ChannelError::Poisoned { .. }) => REACHED.hit(3),
            other => panic!("expected Poisoned or Retired, got {other:?}"),
        }
        assert!(matches!(rx.read(), Err(ChannelError::Poisoned { .. })));
    });
    REACHED.assert_all();
}

/// The same with one party alting between the barrier and a channel on which the
/// resigning party offers a message (with a timeout) before it resigns: the message is
/// taken exactly when its write succeeded, and the alting party passes the barrier only
/// with the third party gone.
#[test]
fn an_alting_party_and_a_resigning_one() {
    use csp::{Alt, Barrier};
    use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use loom::sync::Arc;
    static REACHED: Reached<2> = Reached::new(["message taken", "message timed out"]);
    loom::model(|| {
        let barrier = Barrier::new();
        let (a, b, leaver) = (barrier.enroll(), barrier.enroll(), barrier.enroll());
        let (tx, rx) = Channel::<u32>::new().one2one();
        let resigning = Arc::new(AtomicBool::new(false));
        let r1 = resigning.clone();
        let alting = thread::spawn(move || {
            let mut taken = None;
            while let Some(v) = Alt::new()
                .barrier(&b, || None)
                .input(&rx, Some)
                .pri_select()
                .unwrap()
            {
                assert!(taken.replace(v).is_none(), "one message, taken twice");
            }
            assert!(r1.load(SeqCst), "passed with a party still enrolled");
            taken
        });
        let r2 = resigning.clone();
        let leaver = thread::spawn(move || {
            let sent = tx.write_timeout(9, HOUR).is_ok();
            r2.store(true, SeqCst);
            leaver.resign();
            (sent, tx) // kept open: a retired input guard would end the alt with an error
        });
        a.sync();
        assert!(resigning.load(SeqCst), "passed with a party still enrolled");
        let taken = alting.join().unwrap();
        let (sent, _tx) = leaver.join().unwrap();
        match (sent, taken) {
            (true, Some(9)) => REACHED.hit(0),
            (false, None) => REACHED.hit(1),
            other => panic!("message lost or invented: {other:?}"),
        }
    });
    REACHED.assert_all();
}
