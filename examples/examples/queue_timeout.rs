//! Python's bounded `queue.Queue` with timeouts, done with a buffered channel.
//!
//! | Python                                 | csp                                          |
//! |----------------------------------------|----------------------------------------------|
//! | `q = queue.Queue(maxsize=3)`           | `Channel::new().fifo(3).one2one()`           |
//! | `q.put(v)`                             | `tx.write(v)`                                |
//! | `q.put_nowait(v)` / `queue.Full`       | `tx.try_write(v)` / `ChannelError::Full`     |
//! | `q.put(v, timeout=t)` / `queue.Full`   | `tx.write_timeout(v, t)` / `Timeout`         |
//! | `q.get()`                              | `rx.read()`                                  |
//! | `q.get_nowait()` / `queue.Empty`       | `rx.try_read()` / `ChannelError::Empty`      |
//! | `q.get(timeout=t)` / `queue.Empty`     | `rx.read_timeout(t)` / `Timeout`             |
//! | `q.qsize()`                            | `tx.len()` / `rx.len()`                      |
//! | a sentinel `None` to say "no more"     | drop the writer: the reader sees `Retired`   |
//!
//! A failed write hands the value back (`WriteError::into_inner`), so a `put` that timed
//! out loses nothing.
//!
//! Part 1 walks through the calls one by one. Part 2 runs a producer and a slow consumer:
//! the producer's bursts fill the queue (`put_nowait` fails with Full, a short `put` with a
//! timeout expires, then a blocking `put` waits for room), and the consumer waits for
//! items with an `Alt` that has a timeout guard, doing housekeeping whenever the queue
//! has been quiet for a while — Python's `while True: try: item = q.get(timeout=0.2)
//! except queue.Empty: housekeeping()`.
//!
//! `cargo run --release --example queue_timeout`

use std::error::Error;
use std::time::{Duration, Instant};

use csp::{process, Alt, AltError, Channel, ChannelError, Input, Output, Timer};

/// How long the blocking calls of part 1 wait before giving up.
const WAIT: Duration = Duration::from_millis(200);

/// Prints one step of part 1: the Python call and what its csp counterpart gave.
fn step(python: &str, outcome: impl std::fmt::Display) {
    println!("{python:<24}-> {outcome}");
}

/// Part 1: the `queue.Queue(maxsize=3)` calls one by one, on one thread.
fn walkthrough() -> Result<(), Box<dyn Error>> {
    println!("== part 1: q = queue.Queue(maxsize=3), call by call");
    let (q, q_in) = Channel::<u32>::new().named("q").fifo(3).one2one();

    for v in 1..=3 {
        q.write(v)?; // room in the buffer: returns at once
        step(
            &format!("q.put({v})"),
            format_args!("ok, qsize {}", q.len()),
        );
    }

    // A buffered write that fails always hands its value back.
    let (err, four) = q.try_write(4).expect_err("the queue is full").into_parts();
    let four = four.ok_or("value lost")?;
    assert!(matches!(err, ChannelError::Full { .. }));
    step(
        "q.put_nowait(4)",
        format_args!("queue.Full ({err}; {four} handed back)"),
    );

    let t = Instant::now();
    let err = q
        .write_timeout(four, WAIT)
        .expect_err("nobody reads: the queue stays full");
    assert!(err.error().is_timeout());
    let elapsed = t.elapsed();
    step(
        "q.put(4, timeout=0.2)",
        format_args!("queue.Full after {elapsed:.0?} ({})", err.error()),
    );
    let four = err.into_inner().ok_or("value lost")?; // nothing lost: try again later

    let v = q_in.read()?;
    step("q.get()", format_args!("{v}, qsize {}", q_in.len()));
    q.write_timeout(four, WAIT)?;
    step(
        "q.put(4, timeout=0.2)",
        format_args!("ok at once (there was room), qsize {}", q.len()),
    );
    let v = q_in.try_read()?;
    step("q.get_nowait()", format_args!("{v}, qsize {}", q_in.len()));
    let v = q_in.read_timeout(WAIT)?;
    step(
        "q.get(timeout=0.2)",
        format_args!("{v}, qsize {}", q_in.len()),
    );
    let v = q_in.read()?;
    step("q.get()", format_args!("{v}, qsize {}", q_in.len()));

    let err = q_in.try_read().expect_err("the queue is empty");
    assert!(matches!(err, ChannelError::Empty { .. }));
    step("q.get_nowait()", format_args!("queue.Empty ({err})"));

    let t = Instant::now();
    let err = q_in.read_timeout(WAIT).expect_err("nobody writes");
    assert!(err.is_timeout());
    let elapsed = t.elapsed();
    step(
        "q.get(timeout=0.2)",
        format_args!("queue.Empty after {elapsed:.0?} ({err})"),
    );

    q.write(5)?;
    drop(q); // no sentinel needed: retiring the writer says "no more items"
    step(
        "q.put(5)",
        "ok; then the producer goes away (drops its end)",
    );
    step("q.get()", q_in.read()?);
    let err = q_in.read().expect_err("the writer has retired");
    assert!(err.is_retired());
    step(
        "q.get()",
        format_args!("Retired: the end of the stream ({err})"),
    );
    Ok(())
}

/// Prints a line stamped with the time since `start` and the process's name.
fn say(start: Instant, who: &str, what: impl std::fmt::Display) {
    println!("[{:>6.3}s] {who:<8} {what}", start.elapsed().as_secs_f64());
}

/// The producer's bursts: items put back to back, then a pause.
const BURSTS: [std::ops::RangeInclusive<u32>; 2] = [1..=6, 7..=10];
/// The pause between bursts: long enough for the consumer to go idle.
const PAUSE: Duration = Duration::from_millis(900);
/// How long the producer's `put(timeout=...)` waits before it falls back to a plain put.
const PUT_TIMEOUT: Duration = Duration::from_millis(20);
/// How long the consumer works on one item: much slower than the producer.
const WORK: Duration = Duration::from_millis(100);
/// How long the queue must be quiet before the consumer does housekeeping.
const IDLE: Duration = Duration::from_millis(200);

#[derive(Debug, Default)]
struct ProducerReport {
    put_at_once: u32,
    full: u32,
    timed_out: u32,
}

#[process]
fn producer(queue: Output<u32>, start: Instant) -> Result<ProducerReport, ChannelError> {
    let mut report = ProducerReport::default();
    for (b, burst) in BURSTS.into_iter().enumerate() {
        if b > 0 {
            say(start, "producer", format_args!("pausing {PAUSE:?}"));
            Timer::sleep(PAUSE);
        }
        for v in burst {
            // put_nowait first; if the queue is full, put with a timeout; if that expires
            // too, a plain blocking put. Each failure hands the value back.
            let err = match queue.try_write(v) {
                Ok(()) => {
                    report.put_at_once += 1;
                    say(
                        start,
                        "producer",
                        format_args!("put_nowait({v}) ok, qsize {}", queue.len()),
                    );
                    continue;
                }
                Err(err) if matches!(err.error(), ChannelError::Full { .. }) => err,
                Err(err) => return Err(err.into()),
            };
            report.full += 1;
            say(
                start,
                "producer",
                format_args!("put_nowait({v}): queue.Full -> put({v}, timeout={PUT_TIMEOUT:?})"),
            );
            let v = err.handed_back()?;
            let v = match queue.write_timeout(v, PUT_TIMEOUT) {
                Ok(()) => {
                    say(start, "producer", format_args!("put({v}, timeout) ok"));
                    continue;
                }
                Err(err) if err.error().is_timeout() => err.handed_back()?,
                Err(err) => return Err(err.into()),
            };
            report.timed_out += 1;
            say(
                start,
                "producer",
                format_args!("put({v}, timeout): queue.Full after the timeout -> put({v})"),
            );
            queue.write(v)?;
            say(
                start,
                "producer",
                format_args!("put({v}) ok after waiting for room"),
            );
        }
    }
    say(
        start,
        "producer",
        "done: dropping the queue's writer (no sentinel)",
    );
    Ok(report)
}

#[derive(Debug, Default)]
struct ConsumerReport {
    items: Vec<u32>,
    housekeeping: u32,
}

#[process]
fn consumer(queue: Input<u32>, start: Instant) -> Result<ConsumerReport, AltError> {
    enum Event {
        Item(u32),
        Quiet,
    }
    let mut report = ConsumerReport::default();
    loop {
        let event = Alt::new()
            .input(&queue, Event::Item)
            .timeout(IDLE, || Event::Quiet)
            .pri_select();
        match event {
            Ok(Event::Item(v)) => {
                say(
                    start,
                    "consumer",
                    format_args!("get() -> {v}, qsize {}; working on it", queue.len()),
                );
                Timer::sleep(WORK);
                report.items.push(v);
            }
            Ok(Event::Quiet) => {
                report.housekeeping += 1;
                say(
                    start,
                    "consumer",
                    format_args!(
                        "nothing for {IDLE:?}: housekeeping #{}",
                        report.housekeeping
                    ),
                );
            }
            Err(e) if e.is_retired() => {
                say(start, "consumer", "queue retired and drained: done");
                break;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(report)
}

/// Part 2: a producer in bursts and a slow consumer that does housekeeping when idle.
fn network() -> Result<(), Box<dyn Error>> {
    println!("== part 2: a bursty producer, a slow consumer ({WORK:?} per item), maxsize=3");
    let (tx, rx) = Channel::<u32>::new().named("q").fifo(3).one2one();
    let start = Instant::now();
    let (produced, consumed) = csp::par!(producer(tx, start), consumer(rx, start))?;
    let produced = produced.ok_or("the producer was stopped")?;
    let consumed = consumed.ok_or("the consumer was stopped")?;

    println!(
        "producer: {} put at once, {} found the queue full, {} of those also timed out",
        produced.put_at_once, produced.full, produced.timed_out
    );
    println!(
        "consumer: got {:?}, did housekeeping {} times while the queue was quiet",
        consumed.items, consumed.housekeeping
    );
    let all: Vec<u32> = BURSTS.into_iter().flatten().collect();
    assert_eq!(consumed.items, all, "every item, in order, none lost");
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    walkthrough()?;
    println!();
    network()
}
