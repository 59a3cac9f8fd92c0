//! Named channels between two parties against a raw Unix socket, in the same run.
//!
//! - `roundtrip`: one `u64` to an echoing thread and back, per iteration: over two named
//!   channels (`csp::net::named`, one each way: hello once, then per value a data
//!   frame and the reader's ack, each a checked frame) against one Unix `SOCK_STREAM`
//!   socketpair echoing the same 8 bytes with one `write` and one `read` each way.
//!
//! The echo runs on a thread of this process (the socket costs are those between
//! programs: no memory is shared). Prints the ratio `named / raw` (goal <= 1.2).
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

    fn named_pair() -> NamedPair {
        let (ping_path, pong_path) = (socket_path("ping"), socket_path("pong"));
        let echo_in = named::listen::<u64>(&ping_path).expect("listen ping");
        let echo_out = named::Named::<u64>::at(&pong_path)
            .listen_writer()
            .expect("listen pong");
        thread::spawn(move || {
            while let Ok(v) = echo_in.read() {
                if echo_out.write(v).is_err() {
                    break;
                }
            }
        });
        let ping = named::connect::<u64>(&ping_path).expect("connect ping");
        ping.write(0).expect("first ping"); // the echo accepts `pong` as it answers
        let pong = named::connect_reader::<u64>(&pong_path).expect("connect pong");
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
            let pair = named_pair();
            g.bench_function(BenchmarkId::new("named", "u64"), |b| {
                b.iter_custom(|iters| named_roundtrips(&pair, iters))
            });
            let sock = raw_pair();
            g.bench_function(BenchmarkId::new("unix_socket", "8_bytes"), |b| {
                b.iter_custom(|iters| raw_roundtrips(&sock, iters))
            });
            g.finish();
        }
        c.final_summary();
        let named = common::mean_ns_since("net_roundtrip", "named/u64", since);
        let raw = common::mean_ns_since("net_roundtrip", "unix_socket/8_bytes", since);
        println!("\nratio (same run; < 1 means the named channel is faster):");
        match (named, raw) {
            (Some(n), Some(r)) => println!(
                "  named / unix socket round trip: {n:.0} ns / {r:.0} ns = {:.2}x (goal <= 1.2)",
                n / r
            ),
            _ => println!("  (a figure is missing: was the run filtered?)"),
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
