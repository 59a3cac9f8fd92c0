//! 1 MiB handed from a forked child to its parent, per iteration one buffer:
//!
//! - `shared_buf`: a [`SharedBuf`] of a 4-block pool on a `Fifo(2)` channel (only the
//!   handle crosses);
//! - `bytebuf`: a `serde_bytes::ByteBuf` on a `Fifo(2)` channel with `max_frame(2 MiB)`
//!   (encoded as one byte string, copied into the slot and out again);
//! - `vec`: a `Vec<u8>` on the same channel (serde encodes it element by element);
//! - `memcpy`: one 1 MiB `copy_from_slice` in one process, the floor of any transfer
//!   that copies.
//!
//! In each, the producer fills the 1 MiB it sends by copying it from a source buffer
//! (so every variant pays one producer-side copy) and the reader looks at its length.
//! After the group the ratios are printed. Run: `cargo bench -p csp --bench shared_buf`.

mod common;

#[cfg(target_os = "linux")]
mod linux {
    use std::time::{Duration, Instant, SystemTime};

    use criterion::Criterion;
    use csp::shared_memory::{SharedBuf, SharedPool};
    use csp::Channel;
    use nix::sys::wait::waitpid;

    use super::common;
    use super::common::forked::spawn_child;

    const LARGE: usize = 1 << 20;

    fn shared_buf(n: u64) -> Duration {
        let pool = SharedPool::new(4, LARGE).expect("pool");
        let (tx, rx) = Channel::<SharedBuf>::new().named("large").fifo(2).one2one();
        tx.share_with_forks().expect("share");
        let source = vec![7u8; LARGE];
        let start = Instant::now();
        let pid = spawn_child(|| {
            for _ in 0..n {
                let mut buf = pool.alloc_timeout(Duration::from_secs(60)).expect("alloc");
                buf.copy_from_slice(&source);
                tx.write(buf).expect("write");
            }
        });
        let mut bytes = 0;
        for _ in 0..n {
            bytes += rx.read().expect("read").len();
        }
        let took = start.elapsed();
        assert_eq!(bytes, n as usize * LARGE);
        waitpid(pid, None).expect("waitpid");
        std::mem::forget(tx);
        took
    }

    fn encoded<V>(n: u64, wrap: fn(Vec<u8>) -> V) -> Duration
    where
        V: csp::channel::Wire + AsRef<[u8]>,
    {
        common::forked::large_stream(n, LARGE, wrap)
    }

    fn bytebuf(n: u64) -> Duration {
        encoded(n, serde_bytes::ByteBuf::from)
    }

    fn vec(n: u64) -> Duration {
        encoded(n, |v| v)
    }

    fn memcpy(n: u64) -> Duration {
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

    type Run = fn(u64) -> Duration;

    pub fn main() {
        let mut c = Criterion::default().configure_from_args();
        const GROUP: &str = "shared_buf_1mib";
        let since = SystemTime::now();
        let runs: [(&str, Run); 4] = [
            ("shared_buf", shared_buf),
            ("bytebuf", bytebuf),
            ("vec", vec),
            ("memcpy", memcpy),
        ];
        let mut g = c.benchmark_group(GROUP);
        g.measurement_time(Duration::from_secs(3));
        for (name, run) in runs {
            g.bench_function(name, |b| b.iter_custom(run));
        }
        g.finish();
        let ns = |id| common::mean_ns_since(GROUP, id, since);
        if let (Some(s), Some(b), Some(v), Some(m)) =
            (ns("shared_buf"), ns("bytebuf"), ns("vec"), ns("memcpy"))
        {
            println!(
                "{GROUP}: shared_buf {s:.0} ns, bytebuf {b:.0} ns, vec {v:.0} ns, memcpy {m:.0} ns; \
                 ratios shared_buf/memcpy {:.2}, bytebuf/shared_buf {:.2}, vec/shared_buf {:.2}",
                s / m,
                b / s,
                v / s
            );
        }
        c.final_summary();
    }
}

fn main() {
    #[cfg(target_os = "linux")]
    linux::main();
}
