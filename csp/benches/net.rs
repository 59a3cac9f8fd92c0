//! Named channels between two parties against a raw Unix socket, in the same run.
//!
//! - `roundtrip`: one `u64` to an echoing thread and back, per iteration: over two named
//!   channels (`csp::net::named`, one each way: hello once, then per value a data
//!   frame and the reader's ack, each a checked frame) against one Unix `SOCK_STREAM`
//!   socketpair echoing the same 8 bytes with one `write` and one `read` each way;
//!   and over two *buffered* named channels (`Named::buffer(64)`: a `write` returns once
//!   its frame is sent, the reader acks every 32 values), the stream form.
//! - `stream`: 10,000 `u64`s one way per iteration, buffered named channel against the
//!   raw socket writing the same 8-byte values (each side one syscall per value).
//!
//! The echo runs on a thread of this process (the socket costs are those between
//! programs: no memory is shared). Prints the ratios `named / raw` (goal <= 1.2).
//! Run: `cargo bench -p csp --bench net`.

mod common;

#[cfg(target_os = "linux")]
mod linux {
    use std::hint::black_box;
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;
    use std::path::PathBuf;
    use std::thread;
    use std::time::{Duration, Instant, SystemTime};

    use criterion::{BenchmarkId, Criterion, Throughput};
    use csp::net::{named, NetInput, NetOutput};

    use super::common;

    /// This run's socket files, in a directory of its own.
    fn socket_path(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("csp-bench-net-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        dir.join(name)
    }

    /// The main thread's ends of a named ping-pong with an echoing thread.
    struct NamedPair {
        ping: NetOutput<u64>,
        pong: NetInput<u64>,
    }

    /// A ping-pong over two named channels buffering `buffer` values (0: rendezvous).
    fn named_pair(buffer: usize) -> NamedPair {
        let tag = if buffer == 0 { "rv" } else { "buf" };
        let ping_path = socket_path(&format!("ping-{tag}"));
        let pong_path = socket_path(&format!("pong-{tag}"));
        let at = |path: &PathBuf| named::Named::<u64>::at(path).buffer(buffer);
        let echo_in = at(&ping_path).listen_reader().expect("listen ping");
        let echo_out = at(&pong_path).listen_writer().expect("listen pong");
        thread::spawn(move || {
            while let Ok(v) = echo_in.read() {
                if echo_out.write(v).is_err() {
                    break;
                }
            }
        });
        let ping = at(&ping_path).connect_writer().expect("connect ping");
        ping.write(0).expect("first ping"); // the echo accepts `pong` as it answers
        let pong = at(&pong_path).connect_reader().expect("connect pong");
        assert_eq!(pong.read().expect("first pong"), 0);
        NamedPair { ping, pong }
    }

    fn named_roundtrips(pair: &NamedPair, iters: u64) -> Duration {
        let start = Instant::now();
        for i in 0..iters {
            pair.ping.write(i).expect("ping");
            black_box(pair.pong.read().expect("pong"));
        }
        start.elapsed()
    }

    const STREAM: u64 = 10_000;

    /// A buffered named channel to a thread that reads `STREAM` values per request.
    fn named_stream() -> (NetOutput<u64>, NetInput<u64>) {
        let (data, done) = (socket_path("stream"), socket_path("stream-done"));
        let rx = named::Named::<u64>::at(&data)
            .buffer(64)
            .listen_reader()
            .expect("listen");
        let done_tx = named::Named::<u64>::at(&done)
            .buffer(64)
            .listen_writer()
            .expect("listen");
        thread::spawn(move || loop {
            let mut sum = 0u64;
            for _ in 0..STREAM {
                match rx.read() {
                    Ok(v) => sum = sum.wrapping_add(v),
                    Err(_) => return,
                }
            }
            if done_tx.write(sum).is_err() {
                return;
            }
        });
        let tx = named::Named::<u64>::at(&data)
            .buffer(64)
            .connect_writer()
            .expect("connect");
        tx.write(0).expect("first value"); // the reader accepts `done` as it answers
        (0..STREAM - 1).for_each(|i| tx.write(i).expect("stream"));
        let done_rx = named::Named::<u64>::at(&done)
            .buffer(64)
            .connect_reader()
            .expect("connect");
        done_rx.read().expect("first sum");
        (tx, done_rx)
    }

    fn named_streams(ends: &(NetOutput<u64>, NetInput<u64>), iters: u64) -> Duration {
        let start = Instant::now();
        for _ in 0..iters {
            for i in 0..STREAM {
                ends.0.write(i).expect("stream");
            }
            black_box(ends.1.read().expect("sum"));
        }
        start.elapsed()
    }

    /// A raw socket to a thread that reads `STREAM` 8-byte values, then answers 8 bytes.
    fn raw_stream() -> UnixStream {
        let (mine, theirs) = UnixStream::pair().expect("socketpair");
        thread::spawn(move || {
            let mut theirs = theirs;
            let mut buf = [0u8; 8];
            loop {
                let mut sum = 0u64;
                for _ in 0..STREAM {
                    if theirs.read_exact(&mut buf).is_err() {
                        return;
                    }
                    sum = sum.wrapping_add(u64::from_le_bytes(buf));
                }
                if theirs.write_all(&sum.to_le_bytes()).is_err() {
                    return;
                }
            }
        });
        mine
    }

    fn raw_streams(mut sock: &UnixStream, iters: u64) -> Duration {
        let mut buf = [0u8; 8];
        let start = Instant::now();
        for _ in 0..iters {
            for i in 0..STREAM {
                sock.write_all(&i.to_le_bytes()).expect("write");
            }
            sock.read_exact(&mut buf).expect("read");
            black_box(buf);
        }
        start.elapsed()
    }

    fn raw_pair() -> UnixStream {
        let (mine, theirs) = UnixStream::pair().expect("socketpair");
        thread::spawn(move || {
            let mut theirs = theirs;
            let mut buf = [0u8; 8];
            while theirs.read_exact(&mut buf).is_ok() {
                if theirs.write_all(&buf).is_err() {
                    break;
                }
            }
        });
        mine
    }

    fn raw_roundtrips(mut sock: &UnixStream, iters: u64) -> Duration {
        let mut buf = [0u8; 8];
        let start = Instant::now();
        for i in 0..iters {
            sock.write_all(&i.to_le_bytes()).expect("write");
            sock.read_exact(&mut buf).expect("read");
            black_box(buf);
        }
        start.elapsed()
    }

    pub fn run() {
        let since = SystemTime::now();
        let mut c = Criterion::default().configure_from_args();
        {
            let mut g = c.benchmark_group("net_roundtrip");
            g.throughput(Throughput::Elements(1));
            g.sample_size(20)
                .warm_up_time(Duration::from_secs(1))
                .measurement_time(Duration::from_secs(4));
            let pair = named_pair(0);
            g.bench_function(BenchmarkId::new("named", "u64"), |b| {
                b.iter_custom(|iters| named_roundtrips(&pair, iters))
            });
            let buffered = named_pair(64);
            g.bench_function(BenchmarkId::new("named_buffered", "u64"), |b| {
                b.iter_custom(|iters| named_roundtrips(&buffered, iters))
            });
            let sock = raw_pair();
            g.bench_function(BenchmarkId::new("unix_socket", "8_bytes"), |b| {
                b.iter_custom(|iters| raw_roundtrips(&sock, iters))
            });
            g.finish();
        }
        {
            let mut g = c.benchmark_group("net_stream");
            g.throughput(Throughput::Elements(STREAM));
            g.sample_size(10)
                .warm_up_time(Duration::from_secs(1))
                .measurement_time(Duration::from_secs(4));
            let ends = named_stream();
            g.bench_function(BenchmarkId::new("named_buffered", "u64"), |b| {
                b.iter_custom(|iters| named_streams(&ends, iters))
            });
            let sock = raw_stream();
            g.bench_function(BenchmarkId::new("unix_socket", "8_bytes"), |b| {
                b.iter_custom(|iters| raw_streams(&sock, iters))
            });
            g.finish();
        }
        c.final_summary();
        let mean = |group, id| common::mean_ns_since(group, id, since);
        let raw = mean("net_roundtrip", "unix_socket/8_bytes");
        println!("\nratios (same run; < 1 means the named channel is faster):");
        for (what, id) in [
            ("named (rendezvous)", "named/u64"),
            ("named buffered(64)", "named_buffered/u64"),
        ] {
            match (mean("net_roundtrip", id), raw) {
                (Some(n), Some(r)) => println!(
                    "  {what} / unix socket round trip: {n:.0} ns / {r:.0} ns = {:.2}x (goal <= 1.2)",
                    n / r
                ),
                _ => println!("  {what}: a figure is missing (was the run filtered?)"),
            }
        }
        let stream = (
            mean("net_stream", "named_buffered/u64"),
            mean("net_stream", "unix_socket/8_bytes"),
        );
        match stream {
            (Some(n), Some(r)) => println!(
                "  named buffered(64) / unix socket, stream of {STREAM}: {:.0} ns / {:.0} ns per value = {:.2}x",
                n / STREAM as f64,
                r / STREAM as f64,
                n / r
            ),
            _ => println!("  stream: a figure is missing (was the run filtered?)"),
        }
        let _ = std::fs::remove_dir_all(
            std::env::temp_dir().join(format!("csp-bench-net-{}", std::process::id())),
        );
    }
}

fn main() {
    #[cfg(target_os = "linux")]
    linux::run();
}
