//! The showcase: a log-analytics pipeline as a CSP network.
//!
//! ```text
//!  generate ──lines (fifo 1024, one2any)──▶ parse[0..4] ──records (any2one)──▶ aggregate
//!                                                │
//!                                                └──rejects (any2one, unbounded)──▶ quarantine
//! ```
//!
//! 1. A generator writes a million synthetic access-log lines (1 in 10,000 malformed).
//! 2. Four parser processes share the input channel (a worker farm without sentinels:
//!    retiring the channel stops them) and share two output channels.
//! 3. The aggregator counts per endpoint and status; the quarantine keeps bad lines.
//! 4. Before it runs, the network is validated and its diagram printed (Mermaid).
//! 5. The same network runs again with each parser in a forked OS process of its own
//!    (`.forked()`): the same code, channels through shared memory; and again with
//!    every process green (`Parallel::green()`: coroutines on one worker thread per
//!    core). The three timings print side by side.
//! 6. Then the same network runs with a parser that panics on a bad line: the framework
//!    poisons its channels, the whole network ends, and the error names the process.
//!
//! `cargo run --release --example showcase`

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use csp::{
    process, Channel, ChannelError, Input, NetworkError, Output, Parallel, Policy, SharedInput,
    SharedOutput,
};

const ENDPOINTS: [&str; 5] = ["/", "/login", "/api/items", "/api/cart", "/static/app.js"];

#[derive(Debug, Serialize, Deserialize)]
struct Record {
    endpoint: String,
    status: u16,
    micros: u32,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Stats {
    requests: u64,
    by_endpoint: BTreeMap<String, u64>,
    errors: u64,
    total_micros: u64,
}

#[process]
fn generate(lines: u64, out: Output<String>) -> Result<(), ChannelError> {
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    for i in 0..lines {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let line = if i % 10_000 == 9_999 {
            format!("garbage line {i}")
        } else {
            let endpoint = ENDPOINTS[(seed % 5) as usize];
            let status = [200, 200, 200, 304, 404, 500][(seed >> 8) as usize % 6];
            format!("GET {endpoint} {status} {}us", (seed >> 16) % 5000)
        };
        out.write(line)?;
    }
    Ok(()) // dropping `out` retires the channel: the parsers stop when it is drained
}

fn parse_line(line: &str) -> Option<Record> {
    let mut parts = line.split(' ');
    let (_method, endpoint, status, took) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    Some(Record {
        endpoint: endpoint.to_string(),
        status: status.parse().ok()?,
        micros: took.strip_suffix("us")?.parse().ok()?,
    })
}

#[process]
fn parse(
    lines: SharedInput<String>,
    records: SharedOutput<Record>,
    rejects: SharedOutput<String>,
    strict: bool,
) -> Result<u64, ChannelError> {
    let mut parsed = 0;
    for line in &lines {
        match parse_line(&line) {
            Some(record) => {
                records.write(record)?;
                parsed += 1;
            }
            None if strict => panic!("malformed log line: {line:?}"),
            None => rejects.write(line)?,
        }
    }
    Ok(parsed)
}

#[process]
fn aggregate(records: Input<Record>) -> Stats {
    let mut stats = Stats::default();
    for r in &records {
        stats.requests += 1;
        *stats.by_endpoint.entry(r.endpoint).or_default() += 1;
        stats.errors += u64::from(r.status >= 500);
        stats.total_micros += u64::from(r.micros);
    }
    stats
}

#[process]
fn quarantine(rejects: Input<String>) -> Vec<String> {
    rejects.into_iter().collect()
}

/// What the processes of the network return (sent back from a forked process as
/// postcard, hence serde).
#[derive(Serialize, Deserialize)]
enum Outcome {
    Nothing,
    Stats(Stats),
    Rejects(Vec<String>),
}

/// Where the parsers run.
#[derive(Clone, Copy, PartialEq)]
enum Parsers {
    /// On threads of this program, as one nested network (`farm`).
    Threads,
    /// Each in a forked OS process of its own.
    Forked,
    /// Every process of the network green (each parser a process of the network: a
    /// nested network's `run` would block its worker).
    Green,
}

/// Builds the network; `strict` parsers panic on a malformed line.
fn network(lines: u64, parsers: usize, strict: bool, place: Parsers) -> Parallel<'static, Outcome> {
    // `Channel::new()`: the values can cross OS processes (they are serde types).
    let (line_tx, line_rx) = Channel::<String>::new().named("lines").fifo(1024).one2any();
    let (rec_tx, rec_rx) = Channel::<Record>::new()
        .named("records")
        .fifo(256)
        .any2one();
    let (rej_tx, rej_rx) = Channel::<String>::new()
        .named("rejects")
        .buffer(Policy::Unbounded)
        .any2one();
    let parser = |_| parse(line_rx.clone(), rec_tx.clone(), rej_tx.clone(), strict);
    let mut net = Parallel::new().add(generate(lines, line_tx).map(|()| Outcome::Nothing));
    net = match place {
        Parsers::Threads => {
            let farm: Parallel<u64> = (0..parsers).map(parser).collect();
            net.add(farm.into_process("farm").map(|_| Outcome::Nothing))
        }
        Parsers::Forked => (0..parsers).fold(net, |net, i| {
            net.add(parser(i).map(|_| Outcome::Nothing).forked())
        }),
        Parsers::Green => {
            (0..parsers).fold(net, |net, i| net.add(parser(i).map(|_| Outcome::Nothing)))
        }
    };
    drop((line_rx, rec_tx, rej_tx)); // the parsers hold these ends now
    let net = net
        .add(aggregate(rec_rx).map(Outcome::Stats))
        .add(quarantine(rej_rx).map(Outcome::Rejects));
    if place == Parsers::Green {
        net.green()
    } else {
        net
    }
}

/// Runs the network; its statistics and the quarantined lines.
fn run(net: Parallel<'static, Outcome>) -> Result<(Stats, Vec<String>), NetworkError> {
    let mut stats = Stats::default();
    let mut rejects = Vec::new();
    for outcome in net.run()?.into_iter().flatten() {
        match outcome {
            Outcome::Stats(s) => stats = s,
            Outcome::Rejects(r) => rejects = r,
            Outcome::Nothing => {}
        }
    }
    Ok((stats, rejects))
}

/// Runs the network and prints what it found; how long it took.
fn run_and_report(net: Parallel<'static, Outcome>, lines: u64, processes: usize) -> Duration {
    let start = Instant::now();
    let (stats, rejects) = match run(net) {
        Ok(found) => found,
        Err(e) => {
            println!("unexpected failure: {e}");
            std::process::exit(1);
        }
    };
    let took = start.elapsed();
    println!(
        "{lines} lines in {took:.2?} ({:.0} lines/s through 4 stages, {processes} processes)",
        lines as f64 / took.as_secs_f64(),
    );
    println!(
        "requests {}  server errors {}  mean latency {}us",
        stats.requests,
        stats.errors,
        stats.total_micros / stats.requests.max(1)
    );
    for (endpoint, n) in &stats.by_endpoint {
        println!("  {endpoint:<16} {n}");
    }
    println!(
        "quarantined {} malformed lines, e.g. {:?}",
        rejects.len(),
        rejects.first()
    );
    assert_eq!(stats.requests + rejects.len() as u64, lines, "no line lost");
    took
}

fn main() {
    let lines = 1_000_000;
    let parsers = 4;

    println!("== a log-analytics pipeline: generate -> parse x{parsers} -> aggregate + quarantine");
    let net = network(lines, parsers, false, Parsers::Threads);
    // Checked before it runs (dangling ends, self-waits, rendezvous cycles, ...), and
    // drawn: paste the diagram into any Mermaid viewer (or GitHub markdown).
    println!("validation: {}", net.validate());
    println!("```mermaid\n{}```", net.topology().to_mermaid());
    let threads = run_and_report(net, lines, 3 + parsers);

    println!();
    println!("== the same network, each parser in a forked OS process of its own");
    // Forking needs a single-threaded program: the first run's threads have all ended.
    let forked = run_and_report(
        network(lines, parsers, false, Parsers::Forked),
        lines,
        3 + parsers,
    );
    println!(
        "parsers on threads: {threads:.2?}; in forked processes: {forked:.2?} ({:.2}x)",
        forked.as_secs_f64() / threads.as_secs_f64()
    );

    println!();
    println!("== the same network, every process green");
    let green = run_and_report(
        network(lines, parsers, false, Parsers::Green),
        lines,
        3 + parsers,
    );
    println!();
    println!("executor  time        vs threads");
    for (name, took) in [("threads", threads), ("forked", forked), ("green", green)] {
        println!(
            "{name:<9} {:<11} {:.2}x",
            format!("{took:.2?}"),
            took.as_secs_f64() / threads.as_secs_f64()
        );
    }

    println!();
    println!("== the same network with strict parsers that panic on a malformed line");
    // The error below reports the panic; std's default hook would also print it (with a
    // backtrace if RUST_BACKTRACE is set) to stderr.
    std::panic::set_hook(Box::new(|_| {}));
    let start = Instant::now();
    match run(network(lines, parsers, true, Parsers::Threads)) {
        Ok(_) => println!("no malformed line was met"),
        Err(e) => {
            println!("the network ended in {:.2?} with: {e}", start.elapsed());
            println!("(the panicking parser's channels were poisoned, so every other process");
            println!(" stopped instead of waiting forever; stopped processes are not failures)");
        }
    }
}
