//! The green executor (`Placement::Green`): large networks, failures named, timers that
//! do not block a worker, processes that stay on the worker that started them, green
//! and thread processes sharing channels.

use csp::{Channel, Level, Lint, NetworkError, Parallel, Process};
use csp_tests::watchdog;

/// A ring of `n` green processes passing a token `laps` times: each adds one per pass.
/// The last process starts the token and counts the laps.
fn ring(n: usize, laps: u64) -> Result<Vec<Option<u64>>, NetworkError> {
    let (writers, mut readers): (Vec<_>, Vec<_>) =
        (0..n).map(|_| Channel::<u64>::new().one2one()).unzip();
    readers.rotate_right(1); // process i reads channel i - 1 and writes channel i
    let mut net = Parallel::new().lint(Lint::RendezvousCycle, Level::Allow);
    for (i, (tx, rx)) in writers.into_iter().zip(readers).enumerate() {
        let last = i == n - 1;
        net.push(Process::with_ends("node", (tx, rx), move |(tx, rx)| {
            let mut token = 0;
            if last {
                tx.write(0)?;
            }
            for lap in 0..laps {
                token = rx.read()?;
                if !(last && lap == laps - 1) {
                    tx.write(token + 1)?;
                }
            }
            Ok(token)
        }));
    }
    net.green().run()
}

#[test]
fn a_ring_of_100_000_green_processes_passes_a_token_10_times() {
    let n = 100_000;
    let results = watchdog(300, "ring", move || ring(n, 10)).unwrap();
    // The token went round 10 times, one increment per hop.
    assert_eq!(results[n - 1], Some(10 * n as u64 - 1));
    assert_eq!(results[0], Some(9 * n as u64));
}

#[test]
#[ignore = "a million processes: minutes and some GB; run by hand"]
fn a_ring_of_1_000_000_green_processes_passes_a_token_10_times() {
    let n = 1_000_000;
    let results = watchdog(3600, "ring", move || ring(n, 10)).unwrap();
    assert_eq!(results[n - 1], Some(10 * n as u64 - 1));
}
