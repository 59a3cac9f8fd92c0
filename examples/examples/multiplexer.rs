//! A server multiplexing many clients with a fair alt: the Python idiom
//! `selectors`/`select.select(sockets, ...)` in a loop over client connections (or one
//! `queue.Queue` per client polled in turn), done as a CSP process that alts over one
//! request channel per client.
//!
//! ```text
//!  client[0] ──requests[0] (fifo 32)──▶ ┐
//!  client[1] ──requests[1]────────────▶ │ server: Alt over every open request channel,
//!     ...                               │         fair_select; answers on replies[i]
//!  client[5] ──requests[5]────────────▶ ┘
//!      ▲                                   │
//!      └────────── replies[i] (fifo 32) ◀──┘
//! ```
//!
//! Three clients are greedy: they keep up to 32 requests in flight. Three are paced:
//! one request at a time, with a pause between them. The server ends by itself when every
//! client has finished: a finished client drops its request end, the channel retires, the
//! alt reports that guard as retired and the server disables it with `input_if`.
//!
//! The network runs twice: with `fair_select` (rotating priority: every ready client gets
//! its turn) and with `pri_select` (the first ready guard always wins), to show what
//! fairness buys: with priority, the greedy client 0 is served before everyone else and
//! the others' requests wait for it.
//!
//! `cargo run --release --example multiplexer`

use std::time::{Duration, Instant};

use csp::{
    process, Alt, AltError, Channel, ChannelError, Fair, Input, NetworkError, Output, Timer,
};

/// Requests in flight per greedy client (and the size of every buffer).
const WINDOW: usize = 32;
/// Requests each client sends.
const REQUESTS: u32 = 300;
/// The pause of each client between requests (zero: greedy, `WINDOW` in flight).
const PACES_MICROS: [u64; 6] = [0, 0, 0, 200, 500, 1000];
/// The work the server does per request (a sleep standing in for real work): it makes the
/// server the bottleneck, so that clients really compete for it.
const SERVICE: Duration = Duration::from_micros(50);

struct Request {
    seq: u32,
    operand: u64,
    sent: Instant,
}

struct Reply {
    seq: u32,
    square: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Choice {
    Fair,
    Priority,
}

/// What the server saw: the order in which it served clients, and the longest time a
/// request of each client waited before the server took it.
struct Served {
    order: Vec<usize>,
    longest_wait: Vec<Duration>,
}

#[process]
fn server(
    requests: Vec<Input<Request>>,
    replies: Vec<Output<Reply>>,
    choice: Choice,
) -> Result<Served, AltError> {
    let mut open = vec![true; requests.len()];
    let mut fair = Fair::new(); // kept across iterations: it remembers who went last
    let mut served = Served {
        order: Vec::new(),
        longest_wait: vec![Duration::ZERO; requests.len()],
    };
    while open.contains(&true) {
        let mut alt = Alt::new();
        for (i, input) in requests.iter().enumerate() {
            alt = alt.input_if(open[i], input, move |request| (i, request));
        }
        let chosen = match choice {
            Choice::Fair => alt.fair_select(&mut fair),
            Choice::Priority => alt.pri_select(),
        };
        match chosen {
            Ok((i, request)) => {
                let waited = request.sent.elapsed();
                served.longest_wait[i] = served.longest_wait[i].max(waited);
                served.order.push(i);
                Timer::sleep(SERVICE);
                let reply = Reply {
                    seq: request.seq,
                    square: request.operand * request.operand,
                };
                // Never blocks: a client has at most WINDOW requests, so replies, in
                // flight. A client that has gone away is not the server's problem.
                let _ = replies[i].write(reply);
            }
            // This client has finished: disable its guard from now on.
            Err(AltError::Channel { guard, error }) if error.is_retired() => open[guard] = false,
            Err(e) => return Err(e),
        }
    }
    Ok(served)
}

#[process]
fn client(
    id: usize,
    requests: Output<Request>,
    replies: Input<Reply>,
    pace: Duration,
) -> Result<u32, ChannelError> {
    let window = if pace.is_zero() { WINDOW } else { 1 };
    let mut in_flight = 0;
    let mut answered = 0;
    let mut take_reply = |in_flight: &mut usize| -> Result<(), ChannelError> {
        let reply = replies.read()?;
        let operand = (id as u64) * 1000 + u64::from(reply.seq);
        assert_eq!(reply.seq, answered, "replies come back in order");
        assert_eq!(reply.square, operand * operand);
        answered += 1;
        *in_flight -= 1;
        Ok(())
    };
    for seq in 0..REQUESTS {
        if in_flight == window {
            take_reply(&mut in_flight)?;
        }
        let operand = (id as u64) * 1000 + u64::from(seq);
        requests.write(Request {
            seq,
            operand,
            sent: Instant::now(),
        })?;
        in_flight += 1;
        if !pace.is_zero() {
            std::thread::sleep(pace);
        }
    }
    while in_flight > 0 {
        take_reply(&mut in_flight)?;
    }
    Ok(answered)
    // `requests` is dropped here: the server sees this client's channel retire.
}

fn run(choice: Choice) -> Result<(), NetworkError> {
    let clients = PACES_MICROS.len();
    let mut request_ends = Vec::new();
    let mut reply_ends = Vec::new();
    let mut workers = Vec::new();
    for (id, &pace) in PACES_MICROS.iter().enumerate() {
        let (req_tx, req_rx) = Channel::<Request>::local()
            .named(format!("requests[{id}]"))
            .fifo(WINDOW)
            .one2one();
        let (rep_tx, rep_rx) = Channel::<Reply>::local()
            .named(format!("replies[{id}]"))
            .fifo(WINDOW)
            .one2one();
        request_ends.push(req_rx);
        reply_ends.push(rep_tx);
        workers.push(client(id, req_tx, rep_rx, Duration::from_micros(pace)));
    }
    let workers: csp::Parallel<u32> = workers.into_iter().collect();

    let start = Instant::now();
    let (answered, served) = csp::par!(
        workers.into_process("clients"),
        server(request_ends, reply_ends, choice)
    )?;
    let took = start.elapsed();
    let answered = answered.unwrap_or_default();
    let served = served.expect("the server returns once every client has finished");

    // How far each client had got when the first client was done: a snapshot taken
    // while every client was still competing for the server.
    let first_done = (0..clients)
        .filter_map(|c| served.order.iter().rposition(|&s| s == c))
        .min()
        .unwrap_or(0);
    let mut at_first_done = vec![0; clients];
    for &c in &served.order[..=first_done] {
        at_first_done[c] += 1;
    }

    println!(
        "== {choice:?} select: {} requests served in {took:.0?}",
        served.order.len()
    );
    println!("client  pace     answered  served when the first client finished  longest wait");
    for c in 0..clients {
        let pace = match PACES_MICROS[c] {
            0 => "greedy".to_string(),
            us => format!("{us}us"),
        };
        println!(
            "{c:>6}  {pace:<7}  {:>8}  {:>38}  {:>12.1?}",
            answered.get(c).copied().flatten().unwrap_or(0),
            at_first_done[c],
            served.longest_wait[c],
        );
    }
    let all = served.order.len() as u32;
    assert_eq!(
        all,
        REQUESTS * clients as u32,
        "every request was served once"
    );
    Ok(())
}

fn main() -> Result<(), NetworkError> {
    println!(
        "{} clients x {REQUESTS} requests; one server alting over a channel per client\n",
        PACES_MICROS.len()
    );
    run(Choice::Fair)?;
    println!("(fair: while they all compete, every client advances at the server's pace;");
    println!(
        " a greedy client's request waits behind its own {} others, a paced client's",
        WINDOW - 1
    );
    println!(" for less than one round of the rest)\n");
    run(Choice::Priority)?;
    println!("(priority: client 0 is served whenever it has a request ready, client 1");
    println!(" whenever client 0 has none, ...: the paced clients wait for all the greedy ones)");
    Ok(())
}
