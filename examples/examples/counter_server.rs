//! The seed idiom "a shared variable behind a Lock", done the CSP way: one server process
//! owns the counter; clients send requests over a shared (any2one) channel and get
//! replies on their own channels. No lock, no data race, and the server can log, batch
//! or refuse requests because it *sees* them.
//!
//! `cargo run --release --example counter_server`

use std::sync::{Arc, Mutex};
use std::time::Instant;

use csp::{process, Channel, ChannelError, Input, NetworkError, Output, Parallel, SharedOutput};

/// What a client may ask.
enum Request {
    /// Add to the counter; the reply carries the new value.
    Add(i64, Output<i64>),
    /// Read the counter.
    Get(Output<i64>),
}

#[process]
fn counter_server(requests: Input<Request>) -> i64 {
    let mut value = 0;
    for request in &requests {
        // A client that has gone away is not the server's problem: ignore reply errors.
        let _ = match request {
            Request::Add(n, reply) => {
                value += n;
                reply.write(value)
            }
            Request::Get(reply) => reply.write(value),
        };
    }
    value // every client retired its request end: the server ends by itself
}

#[process]
fn client(requests: SharedOutput<Request>, adds: u32) -> Result<i64, ChannelError> {
    let (reply_tx, reply_rx) = Channel::<i64>::local().any2one();
    for _ in 0..adds {
        requests.write(Request::Add(1, reply_tx.clone().into()))?;
        reply_rx.read()?;
    }
    requests.write(Request::Get(reply_tx.into()))?;
    reply_rx.read()
}

fn main() -> Result<(), NetworkError> {
    let clients = 8;
    let adds = 20_000;

    let start = Instant::now();
    let (req_tx, req_rx) = Channel::<Request>::local().named("requests").any2one();
    let workers: Parallel<i64> = (0..clients).map(|_| client(req_tx.clone(), adds)).collect();
    drop(req_tx);
    let (_, total) = csp::par!(workers.into_process("clients"), counter_server(req_rx))?;
    let csp_time = start.elapsed();

    // The same with a lock, for comparison.
    let start = Instant::now();
    let shared = Arc::new(Mutex::new(0_i64));
    std::thread::scope(|s| {
        for _ in 0..clients {
            let shared = shared.clone();
            s.spawn(move || {
                for _ in 0..adds {
                    *shared.lock().unwrap() += 1;
                }
            });
        }
    });
    let lock_time = start.elapsed();
    let locked = *shared.lock().unwrap();

    println!(
        "server process: counter = {} after {clients} clients x {adds} requests in {csp_time:?}",
        total.unwrap_or(0)
    );
    println!("mutex:          counter = {locked} in {lock_time:?}");
    println!(
        "(each request is two rendezvous, request and reply: a server is for state with \
         behaviour, not for a bare increment)"
    );
    Ok(())
}
