//! The shared-memory channel flavour across real forked processes.
//!
//! `harness = false`: libtest would run tests on threads, and forking a threaded process
//! leaves the child with locks held by threads that no longer exist. Here `main` is the
//! only thread, every child runs its part and leaves with `_exit`, and every wait is
//! under `alarm(60)` (a hang kills the test instead of blocking CI).

#[cfg(target_os = "linux")]
mod fork {
    use std::collections::HashSet;
    use std::time::{Duration, Instant};

    use csp::__shared_test::{Config, Gone, Mode, SharedChannel, SharedError, Side, Wait};
    use nix::sys::signal::{kill, Signal};
    use nix::sys::wait::{waitpid, WaitStatus};
    use nix::unistd::{fork, ForkResult, Pid};

    fn watchdog() {
        // SAFETY: `alarm` only arms this process's timer; SIGALRM's default kills it.
        unsafe { libc::alarm(60) };
    }

    fn chan(capacity: usize, mode: Mode) -> SharedChannel {
        SharedChannel::create(Config {
            capacity,
            mode,
            max_frame: 64,
            ..Config::default()
        })
        .expect("a shared channel")
    }

    fn soon(ms: u64) -> Wait {
        Wait::Until(Instant::now() + Duration::from_millis(ms))
    }

    /// Runs `body` in a forked child, which exits 0 if it returned normally.
    fn child(body: impl FnOnce()) -> Pid {
        // SAFETY: the test process has one thread (harness = false), so the child's
        // copy holds no lock another thread owned; the child leaves with `_exit`.
        match unsafe { fork() }.expect("fork") {
            ForkResult::Parent { child } => child,
            ForkResult::Child => {
                watchdog();
                let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).is_ok();
                // SAFETY: `_exit` ends the child without running the parent's atexit
                // handlers or flushing its copied stdio buffers twice.
                unsafe { libc::_exit(if ok { 0 } else { 101 }) }
            }
        }
    }

    fn reap(pid: Pid) {
        assert_eq!(
            waitpid(pid, None).expect("waitpid"),
            WaitStatus::Exited(pid, 0)
        );
    }

    fn ping_pong() {
        let (to_child, to_parent) = (chan(0, Mode::Fifo), chan(0, Mode::Fifo));
        const N: u32 = 10_000;
        let pid = child(|| {
            for _ in 0..N {
                let f = to_child.read(2, Wait::Forever).unwrap();
                to_parent.write(1, &f, Wait::Forever).unwrap();
            }
        });
        let t = Instant::now();
        for i in 0..N {
            to_child.write(1, &i.to_le_bytes(), Wait::Forever).unwrap();
            assert_eq!(to_parent.read(2, Wait::Forever).unwrap(), i.to_le_bytes());
        }
        let per = t.elapsed() / N;
        reap(pid);
        println!("rendezvous ping-pong: {N} round trips, {per:?} each");
    }

    fn fifo_streaming_from_two_children() {
        let ch = SharedChannel::create(Config {
            capacity: 64,
            open: [1, 2],
            ..Config::default()
        })
        .unwrap();
        const N: u32 = 100_000;
        let pids: Vec<_> = (0..2u8)
            .map(|w| {
                let ch = ch.clone();
                child(move || {
                    for i in 0..N {
                        let f = [&[w][..], &i.to_le_bytes()].concat();
                        ch.write(u64::from(w), &f, Wait::Forever).unwrap();
                    }
                    ch.retire(Side::Write, u64::from(w));
                })
            })
            .collect();
        let mut next = [0u32; 2];
        loop {
            match ch.read(9, Wait::Forever) {
                Ok(f) => {
                    let w = usize::from(f[0]);
                    let i = u32::from_le_bytes([f[1], f[2], f[3], f[4]]);
                    assert_eq!(i, next[w], "writer {w} out of order");
                    next[w] += 1;
                }
                Err(SharedError::Retired(Gone::Writers)) => break,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(next, [N, N], "frames lost");
        pids.into_iter().for_each(reap);
        println!("fifo(64): 2 x {N} frames from two children, in order");
    }

    fn timeouts() {
        let ch = chan(0, Mode::Fifo);
        assert!(matches!(ch.read(2, soon(30)), Err(SharedError::Timeout)));
        let pid = child(|| {
            // A write nobody reads times out, and nobody gets it later.
            assert!(matches!(
                ch.write(1, b"lost", soon(30)),
                Err(SharedError::Timeout)
            ));
            std::thread::sleep(Duration::from_millis(100));
            ch.write(1, b"late", soon(5_000)).unwrap();
        });
        std::thread::sleep(Duration::from_millis(60));
        assert!(matches!(ch.read(2, Wait::Try), Err(SharedError::Empty)));
        assert_eq!(ch.read(2, soon(5_000)).unwrap(), b"late");
        reap(pid);
        println!("timeouts across processes");
    }

    fn poison_from_a_child_wakes_a_parent_reader() {
        let ch = chan(0, Mode::Fifo);
        let pid = child(|| {
            std::thread::sleep(Duration::from_millis(50));
            ch.poison();
        });
        assert!(matches!(
            ch.read(2, Wait::Forever),
            Err(SharedError::Poisoned)
        ));
        reap(pid);
        println!("poison from a child wakes the parent");
    }

    fn retire_across_processes() {
        let ch = chan(4, Mode::Fifo);
        let pid = child(|| {
            for i in 0..3u8 {
                ch.write(1, &[i], Wait::Forever).unwrap();
            }
            ch.retire(Side::Write, 1);
        });
        reap(pid);
        let got: Vec<_> = (0..3)
            .map(|_| ch.read(2, Wait::Forever).unwrap()[0])
            .collect();
        assert_eq!(got, [0, 1, 2]);
        assert!(matches!(
            ch.read(2, Wait::Forever),
            Err(SharedError::Retired(Gone::Writers))
        ));

        let ch = chan(0, Mode::Fifo);
        let pid = child(|| {
            std::thread::sleep(Duration::from_millis(50));
            ch.retire(Side::Read, 2);
        });
        assert!(matches!(
            ch.write(1, b"x", Wait::Forever),
            Err(SharedError::Retired(Gone::Readers))
        ));
        reap(pid);
        println!("retire across processes");
    }

    fn extended_rendezvous_across_processes() {
        let ch = chan(0, Mode::Fifo);
        let pid = child(|| {
            let (f, held) = ch.read_extended(2, Wait::Forever).unwrap();
            assert_eq!(f, b"ext");
            std::thread::sleep(Duration::from_millis(50));
            held.release(true);
        });
        let t = Instant::now();
        ch.write(1, b"ext", Wait::Forever).unwrap();
        assert!(
            t.elapsed() >= Duration::from_millis(50),
            "released before the block"
        );
        reap(pid);
        println!("extended rendezvous across processes");
    }

    fn a_child_killed_holding_the_lock_poisons() {
        let (ch, ready) = (chan(1, Mode::Fifo), chan(1, Mode::Fifo));
        let pid = child(|| {
            ch.hold_lock_forever().unwrap();
            ready.write(1, b"locked", Wait::Forever).unwrap();
            loop {
                std::thread::sleep(Duration::from_secs(1));
            }
        });
        assert_eq!(ready.read(2, Wait::Forever).unwrap(), b"locked");
        kill(pid, Signal::SIGKILL).unwrap();
        assert_eq!(
            waitpid(pid, None).unwrap(),
            WaitStatus::Signaled(pid, Signal::SIGKILL, false)
        );
        assert!(matches!(
            ch.write(1, b"x", Wait::Forever),
            Err(SharedError::Poisoned)
        ));
        assert!(ch.is_poisoned());
        println!("a child killed holding the lock poisons the channel");
    }

    /// A deadline of 0..40 µs, varied so that some expire while spinning, some while
    /// parked, some just as the partner commits.
    fn jitter(i: u32) -> Duration {
        Duration::from_micros(u64::from(i.wrapping_mul(7919) % 41))
    }

    /// Both sides use short deadlines, so timeouts race selections all the time: the
    /// child then reports what it delivered, which must be exactly what was read.
    fn timeouts_racing_selections(capacity: usize) {
        let (ch, report) = (chan(capacity, Mode::Fifo), chan(0, Mode::Fifo));
        const N: u32 = 20_000;
        let pid = child(|| {
            let (mut count, mut sum) = (0u64, 0u64);
            for i in 0..N {
                let wait = Wait::Until(Instant::now() + jitter(i));
                match ch.write(1, &i.to_le_bytes(), wait) {
                    Ok(()) => (count, sum) = (count + 1, sum + u64::from(i)),
                    Err(SharedError::Timeout) => {}
                    Err(e) => panic!("{e}"),
                }
            }
            ch.retire(Side::Write, 1);
            let f = [count.to_le_bytes(), sum.to_le_bytes()].concat();
            report.write(1, &f, Wait::Forever).unwrap();
        });
        let mut got = HashSet::new();
        for k in 0.. {
            let wait = Wait::Until(Instant::now() + jitter(k * 3));
            match ch.read(2, wait) {
                Ok(f) => assert!(got.insert(u32::from_le_bytes(f[..4].try_into().unwrap()))),
                Err(SharedError::Timeout) => {}
                Err(SharedError::Retired(Gone::Writers)) => break,
                Err(e) => panic!("{e}"),
            }
        }
        let f = report.read(2, Wait::Forever).unwrap();
        let count = u64::from_le_bytes(f[..8].try_into().unwrap());
        let sum = u64::from_le_bytes(f[8..].try_into().unwrap());
        reap(pid);
        assert_eq!(
            got.len() as u64,
            count,
            "capacity {capacity}: frames lost or duplicated"
        );
        assert_eq!(got.iter().map(|&i| u64::from(i)).sum::<u64>(), sum);
        println!("capacity {capacity}: {count} of {N} timed writes delivered, none lost");
    }

    /// Two writer children and two reader children meet on one rendezvous channel:
    /// every frame written is read exactly once (the readers report count and sum).
    fn any2any_rendezvous_between_four_children() {
        let ch = SharedChannel::create(Config {
            capacity: 0,
            max_frame: 64,
            open: [2, 2],
            ..Config::default()
        })
        .unwrap();
        let report = chan(2, Mode::Fifo);
        const N: u64 = 20_000;
        let writers: Vec<_> = (0..2u64)
            .map(|w| {
                let ch = ch.clone();
                child(move || {
                    for i in 0..N {
                        ch.write(w, &(w * N + i).to_le_bytes(), Wait::Forever)
                            .unwrap();
                    }
                    ch.retire(Side::Write, w);
                })
            })
            .collect();
        let readers: Vec<_> = (10..12u64)
            .map(|r| {
                let (ch, report) = (ch.clone(), report.clone());
                child(move || {
                    let (mut count, mut sum) = (0u64, 0u64);
                    loop {
                        match ch.read(r, Wait::Forever) {
                            Ok(f) => {
                                count += 1;
                                sum += u64::from_le_bytes(f[..8].try_into().unwrap());
                            }
                            Err(SharedError::Retired(Gone::Writers)) => break,
                            Err(e) => panic!("{e}"),
                        }
                    }
                    let f = [count.to_le_bytes(), sum.to_le_bytes()].concat();
                    report.write(r, &f, Wait::Forever).unwrap();
                })
            })
            .collect();
        let (mut count, mut sum) = (0, 0);
        for _ in 0..2 {
            let f = report.read(99, Wait::Forever).unwrap();
            count += u64::from_le_bytes(f[..8].try_into().unwrap());
            sum += u64::from_le_bytes(f[8..].try_into().unwrap());
        }
        writers.into_iter().chain(readers).for_each(reap);
        assert_eq!(count, 2 * N);
        assert_eq!(sum, (0..2 * N).sum::<u64>());
        println!("any2any rendezvous: 2 writers, 2 readers, {count} frames, none lost");
    }

    /// A child's claim keeps the parent's writes out until the child releases it.
    fn a_claim_in_a_child_holds_off_the_parent() {
        let (ch, ready) = (chan(8, Mode::Fifo), chan(1, Mode::Fifo));
        let pid = child(|| {
            ch.claim(Side::Write, 1).unwrap();
            ready.write(1, b"claimed", Wait::Forever).unwrap();
            std::thread::sleep(Duration::from_millis(50));
            ch.write(1, b"child", Wait::Forever).unwrap();
            ch.release_claim(Side::Write, 1);
        });
        assert_eq!(ready.read(2, Wait::Forever).unwrap(), b"claimed");
        // Same end number as the child's: ends are told apart by process too.
        assert!(matches!(
            ch.write(1, b"early", soon(10)),
            Err(SharedError::Timeout)
        ));
        ch.write(1, b"parent", Wait::Forever).unwrap();
        assert_eq!(ch.read(2, Wait::Try).unwrap(), b"child");
        assert_eq!(ch.read(2, Wait::Try).unwrap(), b"parent");
        reap(pid);
        println!("a claim in a child holds off the parent");
    }

    pub fn main() {
        let tests: [(&str, fn()); 11] = [
            ("claim", a_claim_in_a_child_holds_off_the_parent),
            ("any2any", any2any_rendezvous_between_four_children),
            ("ping_pong", ping_pong),
            ("fifo_streaming", fifo_streaming_from_two_children),
            ("timeouts", timeouts),
            ("poison", poison_from_a_child_wakes_a_parent_reader),
            ("retire", retire_across_processes),
            ("extended", extended_rendezvous_across_processes),
            (
                "killed_holding_lock",
                a_child_killed_holding_the_lock_poisons,
            ),
            ("racing_rendezvous", || timeouts_racing_selections(0)),
            ("racing_fifo", || timeouts_racing_selections(2)),
        ];
        let only = std::env::args().nth(1);
        for (name, test) in tests {
            if only.as_deref().is_some_and(|o| !name.contains(o)) {
                continue;
            }
            watchdog();
            test();
        }
        println!("shared_fork: all passed");
    }
}

fn main() {
    #[cfg(target_os = "linux")]
    fork::main();
}
