//! The poison rule: a process that observed poison ends with all its channels poisoned,
//! never retired, whatever its body returned — so an abort reaches the end of any chain.

use csp::components::id;
use csp::{ChannelError, Input, NetworkError, Output, Parallel, Process};
use csp_tests::watchdog;

/// Writes one value, then poisons its output.
fn poisoner(out: Output<u32>) -> Process<Option<ChannelError>> {
    Process::with_ends("poisoner", out, |out| {
        out.write(1)?;
        out.poison();
        Ok(None)
    })
}

/// Reads until its input fails, and returns that error.
fn reader(input: Input<u32>) -> Process<Option<ChannelError>> {
    Process::with_ends("reader", input, |input| loop {
        if let Err(e) = input.read() {
            return Ok(Some(e));
        }
    })
}

#[test]
fn poison_reaches_the_end_of_a_chain_of_one_id_every_time() {
    watchdog(120, "chain of one id", || {
        for run in 0..1000 {
            let results = chain_results(1);
            assert_reader_stopped_by_poison(&results, run);
        }
    });
}

#[test]
fn poison_reaches_the_end_of_a_chain_of_100_ids_every_time() {
    watchdog(300, "chain of 100 ids", || {
        for run in 0..1000 {
            let results = chain_results(100);
            assert_reader_stopped_by_poison(&results, run);
        }
    });
}

/// A ring of 100 `id`s closed by one process that writes a value, poisons, then reads
/// what comes round: poison, every time.
#[test]
fn poison_goes_round_a_ring_of_100_ids_every_time() {
    watchdog(300, "ring of 100 ids", || {
        for run in 0..1000 {
            let (first, mut upstream) = csp::Channel::<u32>::new().one2one();
            let mut net = Parallel::new();
            for _ in 0..100 {
                let (out, next) = csp::Channel::<u32>::new().one2one();
                net.push(id(upstream, out).map(|()| None));
                upstream = next;
            }
            let closer = Process::with_ends("closer", (first, upstream), |(out, input)| {
                out.write(1)?;
                out.poison();
                loop {
                    if let Err(e) = input.read() {
                        return Ok(Some(e));
                    }
                }
            });
            let results = net.add(closer).run().expect("poison is not a failure");
            assert_reader_stopped_by_poison(&results, run);
        }
    });
}

/// The results of `poisoner -> id x n -> reader`.
fn chain_results(n: usize) -> Vec<Option<Option<ChannelError>>> {
    let (first, mut upstream) = csp::Channel::<u32>::new().one2one();
    let mut net = Parallel::new().add(poisoner(first));
    for _ in 0..n {
        let (out, next) = csp::Channel::<u32>::new().one2one();
        net.push(id(upstream, out).map(|()| None));
        upstream = next;
    }
    net.add(reader(upstream))
        .run()
        .expect("poison is not a failure")
}

/// The reader met poison, so the rule makes its result `None` although its body returned
/// `Some(error)`; every id is `None` too. A `Retired` reaching the reader would have made
/// its body return normally without meeting poison: `Some(Some(Retired))`.
fn assert_reader_stopped_by_poison(results: &[Option<Option<ChannelError>>], run: usize) {
    let reader = results.last().expect("the reader's result");
    assert!(
        reader.is_none(),
        "run {run}: the reader ended without meeting poison: {reader:?}"
    );
    let ids = &results[..results.len() - 1];
    assert!(
        ids.iter().all(|r| matches!(r, None | Some(None))),
        "run {run}: {ids:?}"
    );
}

/// Through a closure process (not `#[process]`): it sees poison on its input, returns an
/// error and drops its output on the way. Its neighbour downstream must see `Poisoned`,
/// not `Retired`, and so stop instead of failing with "channel retired".
#[test]
fn a_closure_process_that_saw_poison_passes_it_on_not_retire() {
    watchdog(120, "closure relay", || {
        for run in 0..1000 {
            let (a, a_in) = csp::Channel::<u32>::new().one2one();
            let (b, b_in) = csp::Channel::<u32>::new().one2one();
            let relay = Process::with_ends("relay", (a_in, b), |(input, out)| {
                for v in &input {
                    out.write(v)?;
                }
                // Iteration ended: on poison, but the body cannot tell; it fails.
                Err("relay: input ended".into())
            });
            let downstream = Process::with_ends("downstream", b_in, |input| {
                let mut n = 0;
                loop {
                    match input.read() {
                        Ok(_) => n += 1,
                        Err(e) if e.is_poisoned() => return Err(e.into()),
                        Err(e) => return Err(format!("after {n}: {e}").into()),
                    }
                }
            });
            let results: Result<Vec<Option<()>>, NetworkError> = Parallel::new()
                .add(poisoner(a).map(|_| ()))
                .add(relay)
                .add(downstream)
                .run();
            match results {
                Ok(r) => assert_eq!(r[1..], [None, None], "run {run}"),
                Err(e) => panic!("run {run}: {e}"),
            }
        }
    });
}

#[csp::process]
fn summer(input: Input<u32>) -> Result<u32, ChannelError> {
    let mut sum = 0;
    for v in &input {
        sum += v;
    }
    Ok(sum)
}

/// A value-returning process whose iteration ended on poison returns `None`, not its
/// partial result; one whose input retired returns its value.
#[test]
fn a_value_returning_process_that_saw_poison_returns_none() {
    let (a, a_in) = csp::Channel::<u32>::new().one2one();
    let results = Parallel::new()
        .add(poisoner(a).map(|_| None))
        .add(summer(a_in).map(Some))
        .run()
        .unwrap();
    assert_eq!(results, vec![Some(None), None]);

    let (a, a_in) = csp::Channel::<u32>::new().one2one();
    let results = Parallel::new()
        .add(csp::components::generate([1, 2, 3], a).map(|()| None))
        .add(summer(a_in).map(Some))
        .run()
        .unwrap();
    assert_eq!(results, vec![Some(None), Some(Some(6))]);
}
