//! Running networks: failures by name, poison travelling through a network, the
//! combinators.

use csp::{
    par, process, spawn, Channel, ChannelError, Failure, Input, NetworkError, Output, Parallel,
    Process, ScopedProcess, Sequence,
};
use csp_tests::watchdog;

/// One process of a ring: passes a token on; the process at `poisoner` poisons its
/// output after `after` rounds instead.
#[process(name = "node")]
fn node(
    index: usize,
    poisoner: usize,
    after: u64,
    input: Input<u64>,
    output: Output<u64>,
) -> Result<u64, ChannelError> {
    let mut passed = 0;
    if index == 0 {
        output.write(0)?;
    }
    loop {
        let token = input.read()?;
        if index == poisoner && passed == after {
            output.poison();
            return Ok(passed);
        }
        passed += 1;
        output.write(token + 1)?;
    }
}

#[test]
fn poison_from_any_single_process_ends_a_ring_of_100() {
    const N: usize = 100;
    for poisoner in [0, 37, 99] {
        let result = watchdog(120, "poison ring", move || {
            let (outs, ins): (Vec<_>, Vec<_>) =
                (0..N).map(|_| Channel::<u64>::new().one2one()).unzip();
            // Process i reads channel i and writes channel i + 1 (mod N).
            let mut outs: std::collections::VecDeque<_> = outs.into();
            outs.rotate_left(1);
            let ring: Parallel<u64> = ins
                .into_iter()
                .zip(outs)
                .enumerate()
                .map(|(i, (input, output))| node(i, poisoner, 50, input, output))
                .collect();
            ring.run()
        });
        let results = result.expect("a deliberate poison is not a failure");
        assert_eq!(results.len(), N);
        // Only the poisoner finished with a value; every other process stopped.
        let finished: Vec<_> = results
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_some())
            .collect();
        assert_eq!(finished.len(), 1, "poisoner {poisoner}: {finished:?}");
        assert_eq!(finished[0].0, poisoner);
    }
}

#[test]
fn a_panicking_process_is_named_with_its_message_and_the_rest_ends() {
    let err = watchdog(120, "panic", || {
        let (tx, rx) = Channel::<u32>::new().one2one();
        let (tx2, rx2) = Channel::<u32>::new().one2one();
        Parallel::new()
            .add(Process::with_ends("producer", tx, |tx| {
                for i in 0.. {
                    tx.write(i)?;
                }
                Ok(())
            }))
            .add(Process::with_ends("crasher", (rx, tx2), |(rx, _tx2)| {
                let v = rx.read()?;
                let w = rx.read()?;
                panic!("bad pair {v} {w}");
            }))
            .add(Process::with_ends("downstream", rx2, |rx2| {
                rx2.read()?; // blocked until the crasher's channels are poisoned
                Ok(())
            }))
            .run()
            .unwrap_err()
    });
    assert!(matches!(err, NetworkError::Failed(_)));
    let failures = err.failures();
    assert_eq!(failures.len(), 1, "{err}");
    match &failures[0] {
        Failure::Panicked { process, message } => {
            assert_eq!(process, "crasher");
            assert_eq!(message, "bad pair 0 1");
        }
        other => panic!("expected a panic, got {other}"),
    }
    assert_eq!(err.to_string(), "process 'crasher' panicked: bad pair 0 1");
}

#[derive(Debug)]
struct Overheated(u32);
impl std::fmt::Display for Overheated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "overheated at {} degrees", self.0)
    }
}
impl std::error::Error for Overheated {}

#[process]
fn sensor(readings: Output<u32>) -> Result<(), ChannelError> {
    for t in 20.. {
        readings.write(t)?;
    }
    Ok(())
}

#[process]
fn monitor(readings: Input<u32>, limit: u32) -> Result<u32, Overheated> {
    for t in &readings {
        if t > limit {
            return Err(Overheated(t));
        }
    }
    Ok(0)
}

#[test]
fn an_error_is_a_failure_naming_the_process_and_poisoned_peers_only_stop() {
    let err = watchdog(120, "error", || {
        let (tx, rx) = Channel::<u32>::new().one2one();
        par!(sensor(tx), monitor(rx, 25)).unwrap_err()
    });
    let failures = err.failures();
    assert_eq!(
        failures.len(),
        1,
        "the sensor stopped by poison, it did not fail: {err}"
    );
    assert!(matches!(&failures[0], Failure::Error { process, .. } if process == "monitor"));
    assert_eq!(
        err.to_string(),
        "process 'monitor' failed: overheated at 26 degrees"
    );
}

#[test]
fn stopped_by_poison_is_none_and_not_a_failure() {
    let results = watchdog(60, "stopped", || {
        let (tx, rx) = Channel::<u32>::new().one2one();
        Parallel::new()
            .add(Process::with_ends("reader", rx, |rx| Ok(rx.read()?)))
            .add(Process::with_ends("poisoner", tx, |tx| {
                tx.poison();
                Ok(7)
            }))
            .run()
            .unwrap()
    });
    assert_eq!(results, vec![None, Some(7)]);
}

#[test]
fn replicated_processes_are_named_with_their_index() {
    let err = watchdog(60, "replicated", || {
        (0..4)
            .map(|i| {
                Process::new("worker", move || {
                    if i == 2 {
                        Err("no")?;
                    }
                    Ok(i)
                })
            })
            .collect::<Parallel<_>>()
            .run()
            .unwrap_err()
    });
    assert_eq!(err.failures()[0].process(), "worker[2]");
}

#[test]
fn sequence_stops_at_a_failure_and_poisons_the_channels_of_what_did_not_run() {
    let (tx, rx) = Channel::<u32>::new().fifo(1).one2one();
    let err = Sequence::new()
        .add(Process::from_fn("first", || 1))
        .add(Process::new("second", || Err("broken".into())))
        .add(Process::with_ends("third", tx, |tx| {
            Ok(tx.write(3).map(|_| 3)?)
        }))
        .run()
        .unwrap_err();
    assert_eq!(err.failures()[0].process(), "second");
    assert!(
        rx.read().unwrap_err().is_poisoned(),
        "third never ran: its channel is poisoned"
    );
}

#[test]
fn spawn_runs_detached_and_join_returns_the_result() {
    watchdog(60, "spawn", || {
        let (tx, rx) = Channel::<u32>::new().one2one();
        let handle = spawn(Process::with_ends("summer", rx, |rx| {
            Ok(rx.iter().sum::<u32>())
        }))
        .unwrap();
        assert_eq!(handle.name(), "summer");
        for i in 1..=4 {
            tx.write(i).unwrap();
        }
        drop(tx);
        assert_eq!(handle.join().unwrap(), Some(10));

        let failing = spawn(Process::from_fn("boom", || panic!("kaboom"))).unwrap();
        let err = failing.join().unwrap_err();
        assert_eq!(err.to_string(), "process 'boom' panicked: kaboom");
    });
}

#[test]
fn par_nesting_and_scoped_processes() {
    watchdog(60, "combinators", || {
        let (tx, rx) = Channel::<String>::new().one2one();
        let (n, s) = par!(
            Process::with_ends("send", tx, |tx| {
                tx.write("hi".into())?;
                Ok(2_u8)
            }),
            Process::with_ends("recv", rx, |rx| Ok(rx.read()?)),
        )
        .unwrap();
        assert_eq!((n, s.as_deref()), (Some(2), Some("hi")));

        let inner: Parallel<u32> = (1..=3)
            .map(|i| Process::from_fn("leaf", move || i))
            .collect();
        let outer = Parallel::new()
            .add(inner.into_process("inner"))
            .add(Process::from_fn("solo", || vec![Some(0)]));
        assert_eq!(
            outer.run().unwrap(),
            vec![Some(vec![Some(1), Some(2), Some(3)]), Some(vec![Some(0)])]
        );

        // A nested failure is reported by the inner process's path.
        let inner: Parallel<u32> =
            Parallel::new().add(Process::from_fn("deep", || panic!("deep trouble")));
        let err = Parallel::new()
            .add(inner.into_process("inner"))
            .run()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "process 'inner/deep' panicked: deep trouble"
        );

        // Scoped processes borrow local data.
        let data: Vec<u64> = (1..=100).collect();
        let (left, right) = data.split_at(50);
        let sums = Parallel::new()
            .add(ScopedProcess::from_fn("left", || left.iter().sum::<u64>()))
            .add(ScopedProcess::from_fn("right", || {
                right.iter().sum::<u64>()
            }))
            .run()
            .unwrap();
        assert_eq!(sums, vec![Some(1275), Some(3775)]);
    });
}

#[test]
fn each_process_runs_on_a_thread_named_after_it() {
    let names = Parallel::new()
        .add(Process::from_fn("alpha", || {
            std::thread::current().name().map(String::from)
        }))
        .add(Process::from_fn("beta", || {
            std::thread::current().name().map(String::from)
        }))
        .run()
        .unwrap();
    assert_eq!(
        names,
        vec![Some(Some("alpha".into())), Some(Some("beta".into()))]
    );
}

#[process]
fn boss(jobs: Output<u32>, results: Input<u32>) -> Result<u32, ChannelError> {
    for j in 1..=10 {
        jobs.write(j)?;
    }
    // Go's `close(jobs)` then `for r := range results`: an end dropped inside a process
    // retires at once, or this would deadlock.
    drop(jobs);
    Ok(results.iter().sum())
}

#[process]
fn doubler(jobs: Input<u32>, results: Output<u32>) -> Result<(), ChannelError> {
    for j in &jobs {
        results.write(j * 2)?;
    }
    Ok(())
}

#[test]
fn an_end_dropped_inside_a_process_retires_at_once() {
    let sum = watchdog(60, "drop inside process", || {
        let (jobs_tx, jobs_rx) = Channel::<u32>::new().fifo(16).one2one();
        let (res_tx, res_rx) = Channel::<u32>::new().fifo(16).one2one();
        par!(boss(jobs_tx, res_rx), doubler(jobs_rx, res_tx)).unwrap()
    });
    assert_eq!(sum, (Some(110), Some(())));
}

#[test]
fn an_end_dropped_before_a_nested_run_is_retired_before_it_blocks() {
    // The outer process drops its writer and then waits for a nested network whose
    // reader runs until that channel retires: deferring the retirement past the nested
    // `run()` would deadlock.
    let total = watchdog(60, "drop before nested run", || {
        let outer = Process::new("outer", || {
            let (tx, rx) = Channel::<u32>::new().fifo(8).one2one();
            for i in 1..=5 {
                tx.write(i)?;
            }
            drop(tx);
            let inner = Parallel::new().add(Process::with_ends("drain", rx, |rx| {
                Ok(rx.iter().sum::<u32>())
            }));
            Ok(inner.run()?[0])
        });
        Parallel::new().add(outer).run().unwrap()
    });
    assert_eq!(total, vec![Some(Some(15))]);
}

#[process]
fn failing_producer(out: Output<u32>) -> Result<(), Overheated> {
    out.write(1).map_err(|_| Overheated(0))?;
    csp_tests::settle(); // the reader is now blocked on its second read
    Err(Overheated(99)) // `out` is still held: it must poison, not retire
}

#[test]
fn a_process_returning_an_error_poisons_the_ends_it_still_holds_before_they_retire() {
    watchdog(60, "error poisons before retire", || {
        let (tx, rx) = Channel::<u32>::new().named("stream").one2one();
        // The reader is blocked on the channel when the producer returns its error: it
        // must see poison, never the end of a (truncated) stream.
        let reader = std::thread::spawn(move || {
            let first = rx.read();
            let second = rx.read();
            (first, second)
        });
        let err = Parallel::new()
            .boundary(&tx) // the reader is a thread outside the network
            .add(failing_producer(tx))
            .run()
            .unwrap_err();
        assert!(err.to_string().contains("failing_producer"), "{err}");
        let (first, second) = reader.join().unwrap();
        assert_eq!(first.unwrap(), 1);
        let second = second.unwrap_err();
        assert!(second.is_poisoned(), "expected poison, got {second}");
        assert_eq!(second.channel(), "stream");
    });
}

/// A failure inside a nested network is named by its full path.
#[test]
fn a_failure_in_a_nested_network_is_named_by_its_path() {
    let parse = |i: u32| {
        Process::from_fn("parse", move || {
            if i == 1 {
                panic!("bad input {i}");
            }
            i
        })
    };
    let farm: Parallel<u32> = (0..3).map(parse).collect();
    let inner = farm.into_process("farm");
    let outer = Parallel::new()
        .add(inner)
        .add(Process::from_fn("other", Vec::new))
        .lint(csp::Lint::NoChannels, csp::Level::Allow);
    let err = outer.run().unwrap_err();
    let names: Vec<&str> = err.failures().iter().map(|f| f.process()).collect();
    assert_eq!(names, ["farm/parse[1]"], "{err}");
    assert!(err
        .to_string()
        .contains("process 'farm/parse[1]' panicked: bad input 1"));
}
