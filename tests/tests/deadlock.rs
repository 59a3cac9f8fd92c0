//! Deadlock detection: a network in which every process waits for another ends with
//! `NetworkError::Deadlock` naming them, instead of hanging; live networks are never
//! reported, however much they block.

use std::time::Duration;

use csp::components::id;
use csp::{
    Channel, ChannelError, Input, Level, Lint, NetworkError, Operation, Output, Parallel, Process,
    Timer,
};
use csp_tests::watchdog;

/// A ring of `n` processes that each read before they write: nobody can start.
#[test]
fn a_ring_where_everyone_reads_first_is_reported_with_every_process_and_channel() {
    watchdog(60, "deadlocked ring", || {
        let n = 10;
        let (outs, ins): (Vec<_>, Vec<_>) = (0..n)
            .map(|i| Channel::<u32>::new().named(format!("c{i}")).one2one())
            .unzip();
        let mut ins: Vec<Option<Input<u32>>> = ins.into_iter().map(Some).collect();
        let mut net = Parallel::new().lint(Lint::RendezvousCycle, Level::Allow);
        for (i, out) in outs.into_iter().enumerate() {
            let input = ins[(i + n - 1) % n].take().unwrap();
            net.push(id(input, out).named(format!("node{i}")));
        }
        let err = net.run().unwrap_err();
        let NetworkError::Deadlock(d) = &err else {
            panic!("expected a deadlock: {err}")
        };
        assert_eq!(d.waiting.len(), n, "{err}");
        for (i, w) in d.waiting.iter().enumerate() {
            assert_eq!(w.process, format!("node{i}"));
            assert_eq!(w.operation, Operation::Read);
            assert_eq!(w.channel, format!("c{}", (i + n - 1) % n));
        }
    });
}

/// Two processes deadlock while a third still works: nothing is reported while it
/// runs (it could still write), and the deadlock is reported once it has ended.
#[test]
fn a_deadlock_is_reported_only_once_no_process_can_move() {
    watchdog(60, "partial deadlock", || {
        let (a_tx, a_rx) = Channel::<u32>::new().named("a").one2one();
        let (b_tx, b_rx) = Channel::<u32>::new().named("b").one2one();
        let worker = Process::from_fn("worker", || {
            Timer::sleep(Duration::from_millis(300));
        });
        let start = Timer::now();
        let err = Parallel::new()
            .add(Process::with_ends("left", (a_rx, b_tx), |(a, b)| {
                let v = a.read()?;
                Ok(b.write(v)?)
            }))
            .add(Process::with_ends("right", (b_rx, a_tx), |(b, a)| {
                let v = b.read()?;
                Ok(a.write(v)?)
            }))
            .add(worker)
            .lint(Lint::RendezvousCycle, Level::Allow)
            .lint(Lint::NoChannels, Level::Allow)
            .run()
            .unwrap_err();
        assert!(
            start.elapsed() >= Duration::from_millis(300),
            "reported while the worker still ran"
        );
        let NetworkError::Deadlock(d) = &err else {
            panic!("expected a deadlock: {err}")
        };
        let who: Vec<&str> = d.waiting.iter().map(|w| w.process.as_str()).collect();
        assert_eq!(who, ["left", "right"]);
    });
}

/// A process that sleeps before it writes keeps its readers waiting, but it is not
/// parked on a channel: no deadlock.
#[test]
fn readers_waiting_for_a_slow_writer_are_not_a_deadlock() {
    watchdog(60, "slow writer", || {
        let (tx, rx) = Channel::<u32>::new().one2any();
        let slow = Process::with_ends("slow", tx, |tx| {
            Timer::sleep(Duration::from_millis(200));
            tx.write(1)?;
            tx.write(2)?;
            Ok(0)
        });
        let readers: Vec<_> = (0..2)
            .map(|_| Process::with_ends("reader", rx.clone(), |rx| Ok(rx.read()?)))
            .collect();
        drop(rx);
        let mut net = Parallel::new().add(slow);
        net.extend(readers);
        let mut got = net.run().expect("no deadlock");
        got.sort();
        assert_eq!(got, vec![Some(0), Some(1), Some(2)]);
    });
}

#[csp::process]
fn relay(
    input: Input<u64>,
    output: Output<u64>,
    rounds: u64,
    first: bool,
) -> Result<u64, ChannelError> {
    let mut sum = 0;
    for r in 0..rounds {
        if first {
            output.write(r)?;
            sum += input.read()?;
        } else {
            let v = input.read()?;
            sum += v;
            output.write(v)?;
        }
    }
    Ok(sum)
}

/// A busy token ring, every process blocking all the time: never a deadlock, over many
/// runs (a false report would fail the run).
#[test]
fn a_busy_ring_is_never_reported() {
    watchdog(300, "busy ring", || {
        for _ in 0..20 {
            let n = 8;
            let rounds = 2_000;
            let (outs, ins): (Vec<_>, Vec<_>) =
                (0..n).map(|_| Channel::<u64>::new().one2one()).unzip();
            let mut ins: Vec<Option<Input<u64>>> = ins.into_iter().map(Some).collect();
            let mut net = Parallel::new().lint(Lint::RendezvousCycle, Level::Allow);
            for (i, out) in outs.into_iter().enumerate() {
                let input = ins[(i + n - 1) % n].take().unwrap();
                net.push(relay(input, out, rounds, i == 0));
            }
            let sums = net.run().expect("a live ring");
            let expected = rounds * (rounds - 1) / 2;
            assert!(sums.iter().all(|s| *s == Some(expected)), "{sums:?}");
        }
    });
}

/// A thread a process starts itself is invisible to the check: with it off, such a
/// network runs; with it on it would be reported (the documented limit).
#[test]
fn the_check_can_be_turned_off_for_processes_with_their_own_threads() {
    watchdog(60, "own threads", || {
        let network = |detect: bool| {
            let (c_tx, c_rx) = Channel::<u32>::new().named("c").one2one();
            let (d_tx, d_rx) = Channel::<u32>::new().named("d").one2one();
            let p = Process::with_ends("p", (c_rx, d_tx), |(c, d)| {
                let v = c.read()?;
                Ok(d.write(v)?)
            });
            let q = Process::with_ends("q", (c_tx, d_rx), |(c, d)| {
                // Long enough for the check to see both processes parked even on a
                // loaded machine (it looks every 20 ms).
                let helper = std::thread::spawn(move || {
                    Timer::sleep(Duration::from_millis(1000));
                    c.write(7)
                });
                let v = d.read()?;
                helper.join().expect("helper")?;
                Ok(v)
            });
            Parallel::new()
                .add(p.map(|()| 0))
                .add(q)
                .lint(Lint::RendezvousCycle, Level::Allow)
                .detect_deadlock(detect)
                .run()
        };
        assert_eq!(network(false).expect("runs"), vec![Some(0), Some(7)]);
        assert!(matches!(network(true), Err(NetworkError::Deadlock(_))));
    });
}

/// Ends held outside the network (here by a thread of the test) can wake it: the check
/// stays off and the network completes — for a declared boundary, and for a shared end
/// cloned outside.
#[test]
fn a_network_with_ends_outside_is_not_checked() {
    watchdog(60, "outside ends", || {
        let (tx, rx) = Channel::<u32>::new().named("in").one2one();
        let net = Parallel::new()
            .boundary(&tx)
            .add(Process::with_ends("reader", rx, |rx| Ok(rx.read()?)));
        let outside = std::thread::spawn(move || {
            Timer::sleep(Duration::from_millis(200));
            tx.write(5)
        });
        let got = net.run();
        outside.join().unwrap().unwrap();
        assert_eq!(got.expect("no deadlock"), vec![Some(5)]);

        let (tx, rx) = Channel::<u32>::new().named("in").any2one();
        let inside = tx.clone();
        let outside = std::thread::spawn(move || {
            Timer::sleep(Duration::from_millis(200));
            tx.write(5)
        });
        let got = Parallel::new()
            .add(Process::with_ends("writer", inside, |tx| Ok(tx.write(1)?)).map(|()| 0))
            .add(Process::with_ends("reader", rx, |rx| {
                Ok(rx.read()? + rx.read()?)
            }))
            .lint(Lint::OutsideEnds, Level::Allow)
            .run();
        outside.join().unwrap().unwrap();
        assert_eq!(got.expect("no deadlock"), vec![Some(0), Some(6)]);
    });
}
