//! Loom model tests of the channel core: every interleaving (up to the preemption bound)
//! of the wait-and-commit protocol. Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p csp --test loom --release`.
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
                Some(e.into_inner())
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

/// A writer blocked on a rendezvous channel is released by poison from the reading end
/// and gets its value back.
#[test]
fn poison_releases_blocked_writer_with_its_value() {
    loom::model(|| {
        let (tx, rx) = Channel::<u32>::new().one2one();
        let writer = thread::spawn(move || tx.write(1).map_err(|e| e.into_parts()));
        rx.poison();
        match writer.join().unwrap() {
            Err((ChannelError::Poisoned { .. }, 1)) => {}
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
