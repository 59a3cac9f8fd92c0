//! Forked children for the benchmarks that measure channels between OS processes.

use std::time::{Duration, Instant};

use csp::channel::Wire;
use csp::Channel;
use nix::sys::wait::waitpid;
use nix::unistd::{fork, ForkResult, Pid};

/// Runs `child` in a forked child process, which then exits without dropping anything
/// it borrowed (the parent's values are the parent's); returns its pid.
pub fn spawn_child(child: impl FnOnce()) -> Pid {
    // SAFETY: the benchmark's process is single-threaded when it forks (criterion runs
    // benchmarks on the main thread, and the load is made of processes), so the child
    // may do anything; it leaves with `_exit`, never returning into criterion.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            child();
            // SAFETY: ends the child without running the parent's destructors or atexit.
            unsafe { libc::_exit(0) }
        }
        ForkResult::Parent { child } => child,
    }
}

/// Streams `n` values of `bytes` bytes each (`wrap`ped into `V`) from a forked child to
/// this process through a `fifo(2)` channel shared with forks; the time from the fork to
/// the last value read.
pub fn large_stream<V>(n: u64, bytes: usize, wrap: fn(Vec<u8>) -> V) -> Duration
where
    V: Wire + AsRef<[u8]>,
{
    let (tx, rx) = Channel::<V>::new()
        .named("large")
        .max_frame(2 * bytes)
        .fifo(2)
        .one2one();
    tx.share_with_forks().expect("share");
    let source = vec![7u8; bytes];
    let start = Instant::now();
    let pid = spawn_child(|| {
        for _ in 0..n {
            tx.write(wrap(source.clone())).expect("write");
        }
    });
    let mut read = 0;
    for _ in 0..n {
        read += rx.read().expect("read").as_ref().len();
    }
    let took = start.elapsed();
    assert_eq!(read, n as usize * bytes);
    waitpid(pid, None).expect("waitpid");
    std::mem::forget(tx);
    took
}
