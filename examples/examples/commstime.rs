//! Commstime, the classic occam / JCSP / Go channel benchmark:
//!
//! ```text
//!   prefix(0) ──a──▶ delta ──b──▶ succ ──c──▶ prefix      (a feedback loop)
//!                      └────d────▶ consumer (times the loop)
//! ```
//!
//! Every loop is four rendezvous communications. Prints nanoseconds per communication.
//! `cargo run --release --example commstime -- [loops]`

use std::time::Instant;

use csp::components::{delta, prefix, succ};
use csp::{process, Channel, ChannelError, Input, NetworkError};

/// Reads `loops` values, then poisons its channel: the poison travels round the loop
/// and ends the network.
#[process]
fn consumer(input: Input<u64>, loops: u64) -> Result<f64, ChannelError> {
    input.read()?; // the network is running
    let start = Instant::now();
    for _ in 0..loops {
        input.read()?;
    }
    let ns_per_comm = start.elapsed().as_nanos() as f64 / (loops * 4) as f64;
    input.poison();
    Ok(ns_per_comm)
}

fn main() -> Result<(), NetworkError> {
    let loops: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let (a_out, a_in) = Channel::<u64>::new().named("a").one2one();
    let (b_out, b_in) = Channel::<u64>::new().named("b").one2one();
    let (c_out, c_in) = Channel::<u64>::new().named("c").one2one();
    let (d_out, d_in) = Channel::<u64>::new().named("d").one2one();
    let (_, _, _, ns) = csp::par!(
        prefix(0, c_in, a_out),
        delta(a_in, vec![b_out, d_out]),
        succ(b_in, c_out),
        consumer(d_in, loops),
    )?;
    match ns {
        Some(ns) => println!(
            "csp-threads commstime: loops={loops} ns_per_comm={ns:.1} (4 OS threads, rendezvous channels)"
        ),
        None => println!("commstime was poisoned before it finished"),
    }
    Ok(())
}
