//! Shared buffers (`csp::shared_memory`) handed between forked OS processes.
//!
//! `harness = false`: forking needs a single-threaded program, and libtest runs tests
//! on threads. `main` runs the cases in order, each under `alarm(60)`, and exits
//! non-zero if one fails.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use csp::shared_memory::{SharedBuf, SharedPool};
use csp::{Channel, ChannelError, Failure, NetworkError, Parallel, Process};

type Case = (&'static str, fn());

const CASES: &[Case] = &[
    (
        "a buffer goes to a forked child and back, same memory, many rounds",
        round_trips,
    ),
    (
        "forked producers and a forked consumer share a small pool",
        producers_and_consumer,
    ),
    (
        "a handle from a pool made after the fork is a decode error",
        pool_made_after_fork,
    ),
    (
        "a killed owner's blocks come back to a waiting alloc",
        killed_owner,
    ),
    (
        "a child SIGKILLed at random points mid-stream never hangs the pool",
        killed_at_random_points,
    ),
];

fn main() {
    csp_tests::run_cases("CSP_SHM_CASE", CASES);
    println!("{} passed, 0 failed", CASES.len());
}

fn round_trips() {
    const ROUNDS: usize = 500;
    let pool = SharedPool::new(2, 1 << 16).unwrap();
    let (to_child, from_parent) = Channel::<SharedBuf>::new().one2one();
    let (to_parent, from_child) = Channel::<SharedBuf>::new().one2one();
    let echo = Process::with_ends("echo", (from_parent, to_parent), |(input, output)| {
        let mut seen = 0u64;
        for mut buf in &input {
            for b in buf.iter_mut() {
                *b = b.wrapping_mul(3);
            }
            seen += 1;
            output.write(buf)?;
        }
        Ok(seen)
    })
    .forked();
    let driver = {
        let pool = pool.clone();
        Process::with_ends("driver", (to_child, from_child), move |(output, input)| {
            let me = std::process::id();
            for round in 0..ROUNDS {
                let mut buf = pool.alloc_timeout(Duration::from_secs(10))?;
                buf.set_len(1 + (round * 97) % (1 << 16))?;
                buf.fill(round as u8);
                let (at, len) = (buf.as_ptr() as usize, buf.len());
                output.write(buf)?;
                let back = input.read()?;
                assert_eq!((back.as_ptr() as usize, back.len()), (at, len));
                assert!(back.iter().all(|&b| b == (round as u8).wrapping_mul(3)));
            }
            assert_eq!(std::process::id(), me);
            Ok(ROUNDS as u64)
        })
    };
    let results = Parallel::new().add(echo).add(driver).run().unwrap();
    assert_eq!(results, [Some(ROUNDS as u64), Some(ROUNDS as u64)]);
    assert_eq!(pool.free_blocks(), 2, "every block came back");
}

fn producers_and_consumer() {
    const PRODUCERS: usize = 3;
    const EACH: usize = 300;
    let pool = SharedPool::new(2, 4096).unwrap();
    let (tx, rx) = Channel::<SharedBuf>::new().fifo(4).any2one();
    let mut net = Parallel::new();
    for p in 0..PRODUCERS {
        let pool = pool.clone();
        let tx = tx.clone();
        net = net.add(
            Process::with_ends(format!("producer{p}"), tx, move |tx| {
                for i in 0..EACH {
                    // The pool bounds the buffers in use: a semaphore's acquire.
                    let mut buf = pool.alloc_timeout(Duration::from_secs(20))?;
                    buf.set_len(8)?;
                    buf.copy_from_slice(&((p * EACH + i) as u64).to_le_bytes());
                    tx.write(buf).map_err(|e| e.into_parts().0)?;
                }
                Ok(0u64)
            })
            .forked(),
        );
    }
    drop(tx);
    let consumer = Process::with_ends("consumer", rx, |rx| {
        let mut sum = 0u64;
        for buf in &rx {
            std::thread::yield_now();
            sum += u64::from_le_bytes(buf[..8].try_into().unwrap());
        }
        Ok(sum)
    })
    .forked();
    let results = net.add(consumer).run().unwrap();
    let n = (PRODUCERS * EACH) as u64;
    assert_eq!(
        results[PRODUCERS],
        Some(n * (n - 1) / 2),
        "every value once"
    );
    assert_eq!(pool.free_blocks(), 2);
}

fn pool_made_after_fork() {
    let (tx, rx) = Channel::<SharedBuf>::new().one2one();
    let child = Process::with_ends("maker", tx, |tx| {
        // Made in the child: the parent never shared it.
        let pool = SharedPool::new(1, 64)?;
        let _ = tx.write(pool.alloc_from(b"mine")?);
        Ok(())
    })
    .forked();
    let reader = Process::with_ends("reader", rx, |rx| match rx.read() {
        Err(ChannelError::Codec {
            operation, message, ..
        }) => Ok(Some(format!("{operation}: {message}"))),
        other => Ok(other.map(|_| None).ok().flatten()),
    });
    let results = Parallel::new()
        .add(child.map(|()| None))
        .add(reader)
        .run()
        .unwrap();
    let message = results[1].clone().flatten().expect("a decode error");
    assert!(message.starts_with("decode"), "{message}");
    assert!(message.contains("does not share"), "{message}");
}

fn killed_owner() {
    let pool = SharedPool::new(2, 64).unwrap();
    let got = Arc::new(AtomicUsize::new(0));
    let (ready_tx, ready) = Channel::<u32>::new().one2one();
    let hog = {
        let pool = pool.clone();
        Process::with_ends("hog", ready_tx, move |ready| {
            let held = (pool.alloc()?, pool.alloc()?);
            ready.write(std::process::id())?;
            // SAFETY: kill only sends a signal; this child dies holding both blocks.
            unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
            drop(held);
            Ok(())
        })
        .forked()
    };
    let waiter = {
        let (pool, got) = (pool.clone(), got.clone());
        Process::with_ends("waiter", ready, move |ready| {
            ready.read()?;
            let buf = pool.alloc_timeout(Duration::from_secs(20))?;
            got.store(buf.capacity(), Ordering::SeqCst);
            Ok(())
        })
    };
    match Parallel::new().add(hog).add(waiter).run() {
        Err(NetworkError::Failed(f)) => {
            assert_eq!(f.len(), 1, "{f:?}");
            assert!(matches!(&f[0], Failure::Killed { process, .. } if process == "hog"));
        }
        other => panic!("the hog was killed: {:?}", other.map(|_| ())),
    }
    assert_eq!(
        got.load(Ordering::SeqCst),
        64,
        "the waiter got a reclaimed block"
    );
    assert_eq!(pool.reclaim_dead() + pool.free_blocks(), 2);
}

/// An echo child killed at a random moment while buffers go back and forth: the
/// parent's side ends (the channels are poisoned), and the pool still serves: the dead
/// child's blocks are reclaimed; at most one block per direction was in flight in a
/// poisoned channel and stays taken.
fn killed_at_random_points() {
    const BLOCKS: usize = 4;
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..8 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_micros(200 + seed % 20_000);
        let pool = SharedPool::new(BLOCKS, 4096).unwrap();
        let (to_child, from_parent) = Channel::<SharedBuf>::new().fifo(1).one2one();
        let (to_parent, from_child) = Channel::<SharedBuf>::new().one2one();
        let (pid_tx, pid_rx) = Channel::<u32>::new().one2one();
        let echo = Process::with_ends(
            "echo",
            (from_parent, to_parent, pid_tx),
            |(input, output, pid)| {
                pid.write(std::process::id())?;
                for buf in &input {
                    output.write(buf)?;
                }
                Ok(())
            },
        )
        .forked();
        let driver = {
            let pool = pool.clone();
            Process::with_ends("driver", (to_child, from_child), move |(output, input)| {
                loop {
                    let buf = pool.alloc_timeout(Duration::from_secs(20))?;
                    output.write(buf)?;
                    let back = input.read()?;
                    drop(back);
                }
            })
        };
        let killer = Process::with_ends("killer", pid_rx, move |pid| {
            let pid = pid.read()?;
            std::thread::sleep(delay);
            // SAFETY: kill only sends a signal to the echo child.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            Ok(())
        });
        match Parallel::new().add(echo).add(driver).add(killer).run() {
            Err(NetworkError::Failed(f)) => assert!(
                f.iter()
                    .any(|f| matches!(f, Failure::Killed { process, .. } if process == "echo")),
                "{f:?}"
            ),
            other => panic!("the echo child was killed: {:?}", other.map(|_| ())),
        }
        pool.reclaim_dead();
        let free = pool.free_blocks();
        assert!(free >= BLOCKS - 2, "{free} of {BLOCKS} free after the kill");
        let again: Vec<_> = (0..free).map(|_| pool.alloc().unwrap()).collect();
        assert_eq!(again.len(), free);
    }
}
