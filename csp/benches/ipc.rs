//! Channels between forked OS processes against a raw Unix socketpair, in the same run.
//!
//! - `pingpong`: one value to a forked child and back, per iteration: a csp rendezvous
//!   channel each way against a `SOCK_SEQPACKET` socketpair echoing 8-byte packets.
//! - `stream`: 8-byte values one way to the parent, per iteration one value: a csp
//!   `Fifo(1024)` channel against a `SOCK_STREAM` socketpair (one `write` per value).
//!
//! - `large`: 1 MiB values (`Vec<u8>`, a channel with `max_frame(2 MiB)`, `Fifo(2)`) one
//!   way to the parent, per iteration one value, against a `memcpy` of 1 MiB in one
//!   process (what any transfer costs at least): the ratio says how many copies' worth
//!   a crossing costs (encode, into the slot, out of it, decode).
//!
//! Each pair runs idle and with one busy *process* per core beside it (processes, not
//! threads: the benchmark forks, and forking beside running threads is what the library
//! refuses). After each group the ratio `csp / socketpair` is printed (below 1: csp is
//! faster). Run: `cargo bench -p csp --bench ipc`.

mod common;

#[cfg(target_os = "linux")]
mod linux {
    use std::hint::black_box;
    use std::os::fd::{AsFd, AsRawFd, OwnedFd};
    use std::time::{Duration, Instant, SystemTime};

    use criterion::Criterion;
    use csp::Channel;
    use nix::sys::signal::{kill, Signal};
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    use nix::sys::wait::waitpid;
    use nix::unistd::{read, write, Pid};

    use super::common;
    use super::common::forked::spawn_child;

    /// Closes the child's copy of the parent's socket, so that the child sees the end of
    /// the stream when the parent closes its own. (The child exits without dropping
    /// anything, so the `OwnedFd` never closes it a second time.)
    fn close_in_child(fd: &OwnedFd) {
        // SAFETY: closes a descriptor this process owns and never uses again.
        unsafe { libc::close(fd.as_raw_fd()) };
    }

    fn seqpacket_pair(kind: SockType) -> (OwnedFd, OwnedFd) {
        socketpair(AddressFamily::Unix, kind, None, SockFlag::SOCK_CLOEXEC).expect("socketpair")
    }

    fn pingpong_socketpair(iters: u64) -> Duration {
        let (parent, child) = seqpacket_pair(SockType::SeqPacket);
        let pid = spawn_child(|| {
            close_in_child(&parent);
            let mut buf = [0u8; 8];
            while let Ok(n @ 1..) = read(child.as_fd(), &mut buf) {
                if write(child.as_fd(), &buf[..n]).is_err() {
                    break;
                }
            }
        });
        drop(child);
        let mut buf = [0u8; 8];
        let start = Instant::now();
        for i in 0..iters {
            write(parent.as_fd(), &i.to_le_bytes()).expect("write");
            read(parent.as_fd(), &mut buf).expect("read");
        }
        let took = start.elapsed();
        drop(parent);
        waitpid(pid, None).expect("waitpid");
        black_box(buf);
        took
    }

    fn pingpong_csp(iters: u64) -> Duration {
        let (ping_tx, ping_rx) = Channel::<u64>::new().named("ping").one2one();
        let (pong_tx, pong_rx) = Channel::<u64>::new().named("pong").one2one();
        ping_tx.share_with_forks().expect("share ping");
        pong_tx.share_with_forks().expect("share pong");
        let pid = spawn_child(|| {
            for v in &ping_rx {
                if pong_tx.write(v).is_err() {
                    break;
                }
            }
        });
        let start = Instant::now();
        for i in 0..iters {
            ping_tx.write(i).expect("ping");
            black_box(pong_rx.read().expect("pong"));
        }
        let took = start.elapsed();
        drop(ping_tx); // retires: the child's loop ends
        waitpid(pid, None).expect("waitpid");
        // The child's ends were the child's: forgotten here, not dropped (dropping
        // would retire them a second time).
        std::mem::forget(ping_rx);
        std::mem::forget(pong_tx);
        took
    }

    fn stream_socketpair(n: u64) -> Duration {
        let (parent, child) = seqpacket_pair(SockType::Stream);
        let start = Instant::now();
        let pid = spawn_child(|| {
            close_in_child(&parent);
            for i in 0..n {
                write(child.as_fd(), &i.to_le_bytes()).expect("write");
            }
        });
        drop(child);
        let mut buf = [0u8; 8];
        let mut got = 0;
        while got < n * 8 {
            let k = read(parent.as_fd(), &mut buf[..(8 - (got % 8) as usize)]).expect("read");
            assert!(k > 0, "the writer ended early");
            got += k as u64;
        }
        let took = start.elapsed();
        waitpid(pid, None).expect("waitpid");
        took
    }

    fn stream_csp(n: u64) -> Duration {
        let (tx, rx) = Channel::<u64>::new().named("stream").fifo(1024).one2one();
        tx.share_with_forks().expect("share");
        let start = Instant::now();
        let pid = spawn_child(|| {
            for i in 0..n {
                tx.write(i).expect("write");
            }
        });
        let mut sum = 0;
        for _ in 0..n {
            sum += rx.read().expect("read");
        }
        let took = start.elapsed();
        assert_eq!(sum, n * n.saturating_sub(1) / 2);
        waitpid(pid, None).expect("waitpid");
        std::mem::forget(tx);
        took
    }

    const LARGE: usize = 1 << 20;

    /// 1 MiB as a `Vec<u8>`, which serde encodes element by element.
    fn large_csp(n: u64) -> Duration {
        large_of(n, |v| v)
    }

    /// 1 MiB as `serde_bytes::ByteBuf`, which serde encodes as one byte string.
    fn large_csp_bytes(n: u64) -> Duration {
        large_of(n, serde_bytes::ByteBuf::from)
    }

    fn large_of<V>(n: u64, wrap: fn(Vec<u8>) -> V) -> Duration
    where
        V: csp::channel::Wire + AsRef<[u8]>,
    {
        common::forked::large_stream(n, LARGE, wrap)
    }

    fn large_memcpy(n: u64) -> Duration {
        let src = vec![7u8; LARGE];
        let mut dst = vec![0u8; LARGE];
        let start = Instant::now();
        for i in 0..n {
            dst.copy_from_slice(std::hint::black_box(&src));
            dst[(i as usize) % LARGE] ^= 1;
        }
        std::hint::black_box(&dst);
        start.elapsed()
    }

    /// One busy-looping child process per core, killed when dropped.
    struct LoadProcesses(Vec<Pid>);

    impl LoadProcesses {
        fn start() -> Self {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            LoadProcesses(
                (0..cores)
                    .map(|_| spawn_child(|| common::spin_forever()))
                    .collect(),
            )
        }
    }

    impl Drop for LoadProcesses {
        fn drop(&mut self) {
            for pid in self.0.drain(..) {
                let _ = kill(pid, Signal::SIGKILL);
                let _ = waitpid(pid, None);
            }
        }
    }

    type Run = fn(u64) -> Duration;

    fn pair(c: &mut Criterion, group: &str, csp: Run, baseline: Run) {
        pair_with(c, group, csp, ("socketpair", baseline));
    }

    fn pair_with(c: &mut Criterion, group: &str, csp: Run, (name, baseline): (&str, Run)) {
        let since = SystemTime::now();
        let mut g = c.benchmark_group(group);
        g.measurement_time(Duration::from_secs(3));
        g.bench_function("csp", |b| b.iter_custom(csp));
        g.bench_function(name, |b| b.iter_custom(baseline));
        g.finish();
        let csp_ns = common::mean_ns_since(group, "csp", since);
        let raw_ns = common::mean_ns_since(group, name, since);
        if let (Some(a), Some(b)) = (csp_ns, raw_ns) {
            println!(
                "{group}: csp {a:.0} ns, {name} {b:.0} ns, ratio csp/{name} {:.2}",
                a / b
            );
        }
    }

    pub fn main() {
        let mut c = Criterion::default().configure_from_args();
        pair(
            &mut c,
            "ipc_pingpong_idle",
            pingpong_csp,
            pingpong_socketpair,
        );
        pair(&mut c, "ipc_stream_idle", stream_csp, stream_socketpair);
        pair_with(&mut c, "ipc_1mib_idle", large_csp, ("memcpy", large_memcpy));
        pair_with(
            &mut c,
            "ipc_1mib_bytes_idle",
            large_csp_bytes,
            ("memcpy", large_memcpy),
        );
        {
            let _load = LoadProcesses::start();
            pair(
                &mut c,
                "ipc_pingpong_loaded",
                pingpong_csp,
                pingpong_socketpair,
            );
            pair(&mut c, "ipc_stream_loaded", stream_csp, stream_socketpair);
        }
        c.final_summary();
    }
}

fn main() {
    #[cfg(target_os = "linux")]
    linux::main();
}
