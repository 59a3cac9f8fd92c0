//! The fork runtime: processes placed in forked OS processes, with real networks.
//!
//! `harness = false`: libtest would run each case on a thread of its own, and a
//! multi-threaded program refuses to fork. `main` runs the cases in order, each under
//! `alarm(60)` (a watchdog thread would itself make the program multi-threaded), and
//! exits non-zero if one fails.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use csp::topology::ProblemKind;
use csp::{
    Alt, Barrier, Channel, ChannelError, Failure, ForkError, NetworkError, Parallel, Process,
};

type Case = (&'static str, fn());

/// The cases, in order (the last checks that the others left no child behind).
const CASES: &[Case] = &[
    (
        "results of forked and thread processes come back in order",
        results_in_order,
    ),
    ("a group shares one child", group_shares_a_child),
    (
        "a child that panics is Panicked, and poisons its channels",
        panic_in_child,
    ),
    (
        "a child's error travels as its message; poison is a stop",
        error_in_child,
    ),
    ("a child that exits is Exited with its code", exit_in_child),
    (
        "a panic in a map of a forked result is the process's",
        panic_in_map,
    ),
    ("a child killed by a signal is Killed", killed_child),
    (
        "a local channel across a fork is refused",
        local_channel_across_fork,
    ),
    (
        "diagrams show where each process runs",
        diagrams_show_children,
    ),
    (
        "a forked nested network forks in its turn",
        nested_forked_network,
    ),
    (
        "a nested network that forks on a thread is refused",
        nested_on_a_thread_refused,
    ),
    (
        "a killed parent leaves no child behind",
        killed_parent_leaves_no_child,
    ),
    (
        "forking from a multi-threaded program is refused",
        refuses_multithreaded,
    ),
    (
        "values cross from a forked producer to a thread consumer",
        values_cross,
    ),
    (
        "a thread reader blocked on a child that dies mid-stream stops",
        dies_mid_stream,
    ),
    (
        "a child SIGKILLed at random points mid-stream is Killed, its reader stops",
        killed_at_random_points_mid_stream,
    ),
    (
        "a child SIGKILLed at random points mid-alt is Killed, its readers stop",
        killed_at_random_points_mid_alt,
    ),
    (
        "a child blocked for a second burns (almost) no CPU",
        blocked_child_is_idle,
    ),
    (
        "a barrier's parties in children and on threads pass together",
        barrier_across_processes,
    ),
    (
        "an alting barrier across processes completes with both sides alting",
        alting_barrier_across_processes,
    ),
    (
        "a child killed mid-barrier does not hang the others",
        barrier_party_killed,
    ),
    (
        "a forked barrier party that dies before its first sync does not hang the others",
        barrier_party_dies_before_syncing,
    ),
    (
        "a duplex connection serves a forked child's requests both ways",
        duplex_across_a_fork,
    ),
    (
        "a key-value server loses no update from 8 clients, 4 of them forked",
        kv_server_under_8_clients,
    ),
    (
        "a farm of forked workers gives results in input order",
        farm_of_forked_workers,
    ),
    (
        "a farm worker SIGKILLed mid-job is Killed by name, the farm ends",
        farm_worker_killed,
    ),
    (
        "map_all on threads leaves no thread, so forking still works; forked map_all",
        farm_map_all_then_fork,
    ),
    ("every child of the cases above was reaped", no_child_left),
];

const SCENARIO: &str = "CSP_FORK_SCENARIO";

fn main() {
    if let Ok(scenario) = std::env::var(SCENARIO) {
        return run_scenario(&scenario);
    }
    // `CSP_FORK_CASE=text` runs only the cases whose name contains `text`.
    csp_tests::run_cases("CSP_FORK_CASE", CASES);
}

fn pid() -> u32 {
    std::process::id()
}

fn results_in_order() {
    let results = Parallel::new()
        .add(Process::from_fn("a", || (1_u32, pid())).forked())
        .add(Process::from_fn("b", || (2_u32, pid())))
        .add(Process::from_fn("c", || (3_u32, pid())).forked())
        .run()
        .expect("runs");
    let results: Vec<(u32, u32)> = results.into_iter().map(Option::unwrap).collect();
    assert_eq!(results.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 2, 3]);
    assert_ne!(results[0].1, pid());
    assert_eq!(results[1].1, pid());
    assert_ne!(results[2].1, pid());
    assert_ne!(
        results[0].1, results[2].1,
        "each forked process has its own child"
    );
}

fn group_shares_a_child() {
    let results = Parallel::new()
        .add(Process::from_fn("x", pid).in_group("pool"))
        .add(Process::from_fn("y", pid))
        .add(Process::from_fn("z", pid).in_group("pool"))
        .run()
        .expect("runs");
    assert_eq!(results[0], results[2], "one child for the group");
    assert_ne!(results[0], Some(pid()));
    assert_eq!(results[1], Some(pid()));
}

/// A forked process `name` that holds `out` and runs `body` before writing; a thread
/// process reads it. `body` ends the child abnormally, so the reader must be woken by
/// the parent poisoning the channel.
fn with_reader(name: &str, body: fn()) -> NetworkError {
    let (out, input) = Channel::<u32>::new().named("link").one2one();
    let err = Parallel::new()
        .add(
            Process::with_ends(name, out, move |out| {
                body();
                Ok(out.write(1)?)
            })
            .forked(),
        )
        .add(Process::with_ends("reader", input, |input| {
            Ok(input.read().map(|_| ())?)
        }))
        .run()
        .expect_err("the child fails");
    assert_eq!(err.failures().len(), 1, "only the child fails: {err}");
    err
}

fn panic_in_child() {
    let err = with_reader("crasher", || panic!("boom in child"));
    match &err.failures()[0] {
        Failure::Panicked { process, message } => {
            assert_eq!(process, "crasher");
            assert_eq!(message, "boom in child");
        }
        other => panic!("expected Panicked, got {other}"),
    }
}

fn error_in_child() {
    let (stop_tx, stop_rx) = Channel::<u32>::new().named("stop").one2one();
    stop_tx.poison();
    let err = Parallel::new()
        .add(Process::new("refuses", || Err::<u32, _>("bad input".into())).forked())
        .add(Process::with_ends("poisoned", stop_rx, |rx| Ok(rx.read()?)).forked())
        .add(Process::from_fn("fine", || 7).forked())
        .boundary(&stop_tx)
        .run()
        .expect_err("one fails");
    let failures = err.failures();
    assert_eq!(failures.len(), 1, "a poisoned read is a stop: {err}");
    assert!(matches!(&failures[0], Failure::Error { process, error }
        if process == "refuses" && error.to_string() == "bad input"));
}

fn panic_in_map() {
    let err = Parallel::new()
        .add(Process::from_fn("mapped", || 2_u32).forked().map(|n| {
            if n == 2 {
                panic!("map saw {n}")
            } else {
                n
            }
        }))
        .add(Process::from_fn("other", || 1))
        .run()
        .expect_err("the map panics");
    assert!(
        matches!(err.failures(), [Failure::Panicked { process, message }]
            if process == "mapped" && message == "map saw 2"),
        "{err}"
    );
}

fn exit_in_child() {
    let err = with_reader("quitter", || std::process::exit(3));
    assert!(
        matches!(&err.failures()[0], Failure::Exited { process, code: 3 } if process == "quitter"),
        "{err}"
    );
}

fn killed_child() {
    let err = with_reader("victim", || {
        // SAFETY: raise only sends a signal to this (child) process.
        unsafe { libc::raise(libc::SIGKILL) };
    });
    match &err.failures()[0] {
        Failure::Killed {
            process,
            signal,
            signal_name,
        } => {
            assert_eq!(process, "victim");
            assert_eq!(*signal, libc::SIGKILL);
            assert_eq!(signal_name, "SIGKILL");
        }
        other => panic!("expected Killed, got {other}"),
    }
    assert!(err.to_string().contains("killed by signal 9 (SIGKILL)"));
}

fn local_channel_across_fork() {
    let (out, input) = Channel::<String>::local().named("texts").one2one();
    let net: Parallel<()> = Parallel::new()
        .add(Process::with_ends("away", out, |out| Ok(out.write("hi".into())?)).forked())
        .add(Process::with_ends("home", input, |input| {
            Ok(input.read().map(drop)?)
        }));
    let report = net.validate();
    let problem = report
        .errors()
        .into_iter()
        .find(|p| p.kind == ProblemKind::LocalAcrossFork)
        .expect("refused");
    assert_eq!(problem.channels, ["texts"]);
    assert_eq!(problem.processes, ["away", "home"]);
    let err = net.run().expect_err("refused");
    assert!(matches!(err, NetworkError::Invalid(_)), "{err}");
    // The same network with both ends in one group is fine.
    let (out, input) = Channel::<String>::local().named("texts").one2one();
    let net: Parallel<()> = Parallel::new()
        .add(Process::with_ends("away", out, |out| Ok(out.write("hi".into())?)).in_group("g"))
        .add(Process::with_ends("home", input, |i| Ok(i.read().map(drop)?)).in_group("g"));
    assert!(net.validate().is_ok());
    net.run().expect("a local channel inside one child works");
}

fn diagrams_show_children() {
    let (out, input) = Channel::<u8>::new().named("bytes").one2one();
    let net: Parallel<()> = Parallel::new()
        .add(Process::with_ends("w", out, |o| Ok(o.write(1)?)).in_group("g"))
        .add(Process::with_ends("r", input, |i| Ok(i.read().map(drop)?)).in_group("g"))
        .add(Process::from_fn("solo", || ()).forked());
    let topology = net.topology();
    assert_eq!(topology.place_of("w"), Some("group g"));
    assert_eq!(topology.place_of("solo"), Some("fork solo"));
    let dot = topology.to_dot();
    assert!(
        dot.contains("subgraph cluster_os0 { label=\"group g\"; style=dashed; p0; p1; }"),
        "{dot}"
    );
    assert!(
        dot.contains("subgraph cluster_os1 { label=\"fork solo\"; style=dashed; p2; }"),
        "{dot}"
    );
    let mermaid = topology.to_mermaid();
    assert!(
        mermaid.contains("subgraph os0[\"group g\"]\n        p0\n        p1\n    end"),
        "{mermaid}"
    );
}

fn nested_forked_network() {
    let inner = Parallel::new()
        .add(Process::from_fn("here", pid))
        .add(Process::from_fn("deeper", pid).forked());
    let results = Parallel::new()
        .add(inner.into_process("inner").forked())
        .add(Process::from_fn("top", || vec![Some(pid())]))
        .run()
        .expect("runs");
    let inner = results[0].as_ref().expect("inner result");
    let (child, grandchild) = (inner[0].unwrap(), inner[1].unwrap());
    assert_ne!(child, pid(), "the nested network runs in a child");
    assert_ne!(grandchild, child, "its forked process in a grandchild");
    assert_ne!(grandchild, pid());
    assert_eq!(results[1], Some(vec![Some(pid())]));
}

fn nested_on_a_thread_refused() {
    let inner = Parallel::new().add(Process::from_fn("deeper", pid).forked());
    let err = Parallel::new()
        .add(inner.into_process("inner"))
        .add(Process::from_fn("top", || vec![Some(pid())]))
        .run()
        .expect_err("refused");
    assert!(
        matches!(err.failures(), [Failure::Error { process, error }]
            if process == "inner" && error.to_string().contains("threads")),
        "{err}"
    );
}

fn refuses_multithreaded() {
    let (stop, wait) = std::sync::mpsc::channel::<()>();
    let other = std::thread::spawn(move || wait.recv());
    let (out, input) = Channel::<u8>::new().named("c").one2one();
    let err = Parallel::new()
        .add(Process::with_ends("away", out, |o| Ok(o.write(1)?)).forked())
        .boundary(&input)
        .run()
        .expect_err("refused");
    assert!(
        matches!(err, NetworkError::Fork(ForkError::Threads { threads: 2 })),
        "{err}"
    );
    assert!(err.to_string().contains("harness = false"));
    // Nothing ran, and the channel was poisoned so nobody waits for it.
    assert!(matches!(input.read(), Err(ChannelError::Poisoned { .. })));
    drop(stop);
    other.join().expect("joins").ok();
}

/// Runs this binary with a scenario, kills it with SIGINT while its children run, and
/// checks that none of them is left. This process is made a child subreaper first, so
/// the orphans come to it (not to pid 1, which in a container may never reap them):
/// each must have died of SIGKILL, their death signal, and be reaped here.
fn killed_parent_leaves_no_child() {
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER only sets a flag of this process.
    assert_eq!(unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1) }, 0);
    let exe = std::env::current_exe().expect("own path");
    let mut parent = Command::new(exe)
        .env(SCENARIO, "sleepers")
        .stdout(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut lines = BufReader::new(parent.stdout.take().expect("stdout")).lines();
    let children: Vec<i32> = (0..2)
        .map(|_| {
            lines
                .next()
                .expect("a pid")
                .expect("text")
                .parse()
                .expect("a pid")
        })
        .collect();
    assert!(children.iter().all(|c| alive(*c)), "children run");
    // SAFETY: kill only sends a signal, to the process this test started.
    unsafe { libc::kill(parent.id() as i32, libc::SIGINT) };
    let status = parent.wait().expect("reaped");
    assert!(!status.success());
    for child in children {
        assert_eq!(reap_orphan(child), Some(libc::SIGKILL), "child {child}");
    }
    // SAFETY: as above; back to normal.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 0) };
}

/// Waits (10 s at most) for the orphan `pid` to end; the signal that killed it.
fn reap_orphan(pid: i32) -> Option<i32> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let mut status = 0;
        // SAFETY: waitpid writes the status into a local; WNOHANG never blocks.
        let reaped = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if reaped == pid {
            return libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn no_child_left() {
    let me = pid().to_string();
    let mut left = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("proc").flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // After the command's closing parenthesis: state, then the parent's pid.
        let mut fields = stat.rsplit(')').next().unwrap_or("").split_whitespace();
        if fields.nth(1) == Some(me.as_str()) {
            left.push(entry.file_name());
        }
    }
    assert!(left.is_empty(), "children (or zombies) left: {left:?}");
}

/// Whether `pid` is a live process (not gone, not a zombie).
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z') && !state.starts_with('X')
        }
        Err(_) => false,
    }
}

fn run_scenario(name: &str) {
    assert_eq!(name, "sleepers", "unknown scenario");
    let sleeper = |name: &str| {
        Process::from_fn(name, || {
            println!("{}", pid());
            loop {
                std::thread::sleep(Duration::from_secs(1));
            }
        })
        .forked()
    };
    let _ = Parallel::<()>::new()
        .add(sleeper("s1"))
        .add(sleeper("s2"))
        .run();
}

fn values_cross() {
    let (out, input) = Channel::<u64>::new().named("numbers").one2one();
    let results = Parallel::new()
        .add(
            Process::with_ends("produce", out, |out| {
                for i in 1..=100 {
                    out.write(i)?;
                }
                Ok(0)
            })
            .forked(),
        )
        .add(Process::with_ends("sum", input, |input| {
            Ok(input.iter().sum())
        }))
        .run()
        .expect("runs");
    assert_eq!(results, [Some(0), Some(5050)]);
}

fn dies_mid_stream() {
    let (out, input) = Channel::<u64>::new().named("numbers").one2one();
    let err = Parallel::new()
        .add(
            Process::with_ends("produce", out, |out| {
                out.write(1)?;
                // SAFETY: raise only sends a signal to this (child) process.
                unsafe { libc::raise(libc::SIGKILL) };
                Ok(())
            })
            .forked(),
        )
        .add(Process::with_ends("sum", input, |input| {
            let first = input.read()?;
            assert_eq!(first, 1);
            Ok(input.read().map(drop)?)
        }))
        .run()
        .expect_err("the child dies");
    assert_eq!(err.failures().len(), 1, "{err}");
    assert!(matches!(err.failures()[0], Failure::Killed { .. }));
}

/// Kill moments spread over the first 20 ms of a busy stream: the child may hold the
/// channel's lock, sit in the middle of a commit, or wait.
const KILL_ROUNDS: u64 = 16;

fn kill_delay(round: u64) -> Duration {
    Duration::from_micros(round * 7_919 % 20_000)
}

/// A process that learns a child's pid, waits `delay` and kills it.
fn killer(pid_rx: csp::Input<u32>, delay: Duration) -> Process<()> {
    Process::with_ends("killer", pid_rx, move |rx| {
        let child = rx.read()?;
        std::thread::sleep(delay);
        // SAFETY: kill only sends a signal, to a child this network forked.
        unsafe { libc::kill(child as i32, libc::SIGKILL) };
        Ok(())
    })
}

/// A reader that checks the stream is in order, without gaps, until it ends.
fn in_order(name: &str, input: csp::Input<u64>) -> Process<()> {
    Process::with_ends(name, input, |input| {
        for (expected, v) in (0_u64..).zip(&input) {
            assert_eq!(v, expected, "a value was lost or repeated");
        }
        Ok(())
    })
}

fn assert_killed(err: &NetworkError, name: &str, started: Instant) {
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    let killed: Vec<_> = err
        .failures()
        .iter()
        .filter(|f| {
            matches!(f, Failure::Killed { process, signal, .. }
            if process == name && *signal == libc::SIGKILL)
        })
        .collect();
    assert_eq!(killed.len(), 1, "{err}");
    assert_eq!(
        err.failures().len(),
        1,
        "only the killed child fails: {err}"
    );
}

fn killed_at_random_points_mid_stream() {
    for round in 0..KILL_ROUNDS {
        let channel = Channel::<u64>::new().named("stream");
        // Rendezvous and buffered in turn: a commit in flight, or a slot being filled.
        let (out, input) = match round % 2 {
            0 => channel.one2one(),
            _ => channel.fifo(64).one2one(),
        };
        let (pid_tx, pid_rx) = Channel::<u32>::new().named("pid").fifo(1).one2one();
        let started = Instant::now();
        let err = Parallel::new()
            .add(
                Process::with_ends("producer", (out, pid_tx), |(out, pid_tx)| {
                    pid_tx.write(pid())?;
                    for i in 0_u64.. {
                        out.write(i)?;
                    }
                    Ok(())
                })
                .forked(),
            )
            .add(killer(pid_rx, kill_delay(round)))
            .add(in_order("consumer", input))
            .run()
            .expect_err("the producer is killed");
        assert_killed(&err, "producer", started);
    }
}

fn killed_at_random_points_mid_alt() {
    for round in 0..KILL_ROUNDS {
        let (a_out, a_in) = Channel::<u64>::new().named("a").one2one();
        let (b_out, b_in) = Channel::<u64>::new().named("b").fifo(4).one2one();
        let (pid_tx, pid_rx) = Channel::<u32>::new().named("pid").fifo(1).one2one();
        let started = Instant::now();
        let err = Parallel::new()
            .add(
                Process::with_ends("chooser", (a_out, b_out, pid_tx), |(a, b, pid_tx)| {
                    pid_tx.write(pid())?;
                    let (mut to_a, mut to_b) = (0_u64, 0_u64);
                    loop {
                        Alt::new()
                            .output(&a, to_a, || to_a += 1)
                            .output(&b, to_b, || to_b += 1)
                            .select()?;
                    }
                })
                .forked(),
            )
            .add(killer(pid_rx, kill_delay(round)))
            .add(in_order("reader a", a_in))
            .add(in_order("reader b", b_in))
            .run()
            .expect_err("the chooser is killed");
        assert_killed(&err, "chooser", started);
    }
}

/// This process's CPU time (user + system) so far.
fn cpu_time() -> Duration {
    // SAFETY: getrusage writes into the struct it is given, nothing else.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut usage), 0);
        usage
    };
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}

/// A cross-process wait sleeps on a futex (after a short spin), and an alt over crossing
/// channels looks again at most every millisecond: a second of waiting must cost a
/// small fraction of a second of CPU, or an idle network would heat a machine.
fn blocked_child_is_idle() {
    const IDLE: Duration = Duration::from_secs(1);
    let (a_out, a_in) = Channel::<u64>::new().named("a").one2one();
    let (b_out, b_in) = Channel::<u64>::new().named("b").one2one();
    let (c_out, c_in) = Channel::<u64>::new().named("c").one2one();
    let results = Parallel::new()
        .add(
            Process::with_ends("waiter", (a_in, b_in, c_in), |(a, b, c)| {
                let before = cpu_time();
                a.read()?; // a plain blocked read
                let read = cpu_time() - before;
                let before = cpu_time();
                Alt::new().input(&b, drop).input(&c, drop).select()?; // an alt
                let alt = cpu_time() - before;
                Ok((read.as_micros() as u64, alt.as_micros() as u64))
            })
            .forked(),
        )
        .add(Process::with_ends(
            "late",
            (a_out, b_out, c_out),
            |(a, b, c)| {
                std::thread::sleep(IDLE);
                a.write(1)?;
                std::thread::sleep(IDLE);
                c.write(2)?;
                drop(b); // only now: a retired guard would end the alt early
                Ok((0, 0))
            },
        ))
        .run()
        .expect("runs");
    let (read, alt) = results[0].expect("the waiter's CPU times");
    println!("       CPU over 1 s blocked: read {read} us, alt over two crossing inputs {alt} us");
    assert!(
        read < 100_000,
        "a blocked read used {read} us of CPU in 1 s"
    );
    assert!(alt < 250_000, "a blocked alt used {alt} us of CPU in 1 s");
}

/// Two forked parties and one thread party, 200 rounds: each counts its arrival in a
/// shared counter before `sync`, and after it must see every party's arrival of that
/// round (nobody passes early), and never one from two rounds on (nobody is left behind).
fn barrier_across_processes() {
    const ROUNDS: u64 = 200;
    let barrier = Barrier::named("phase");
    let arrivals = csp_tests::shared::Shared::new(std::sync::atomic::AtomicU64::new(0))
        .expect("a shared counter");
    let party = |name: &str| {
        let (me, arrivals) = (barrier.enroll(), arrivals.clone());
        Process::from_fn(name, move || {
            for round in 0..ROUNDS {
                arrivals.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                me.sync();
                let seen = arrivals.load(std::sync::atomic::Ordering::SeqCst);
                assert!(
                    seen >= (round + 1) * 3,
                    "passed early: {seen} in round {round}"
                );
                assert!(
                    seen <= (round + 2) * 3,
                    "a round ahead: {seen} in round {round}"
                );
            }
            pid()
        })
    };
    let pids = Parallel::new()
        .add(party("child a").forked())
        .add(party("child b").forked())
        .add(party("here"))
        .run()
        .expect("every party passes every round");
    assert_ne!(pids[0], Some(pid()));
    assert_eq!(
        arrivals.load(std::sync::atomic::Ordering::SeqCst),
        3 * ROUNDS
    );
}

/// A child alts between the barrier and a channel it never gets a value on; the parent
/// alts between the barrier and a timeout: they must meet on the barrier every round.
fn alting_barrier_across_processes() {
    const ROUNDS: u32 = 100;
    let barrier = Barrier::named("both alting");
    let (_idle_tx, idle_rx) = Channel::<u32>::new().named("idle").one2one();
    let (child_me, parent_me) = (barrier.enroll(), barrier.enroll());
    let results = Parallel::new()
        .add(
            Process::with_ends("child", idle_rx, move |idle| {
                let mut synced = 0;
                while synced < ROUNDS {
                    Alt::new()
                        .barrier(&child_me, || synced += 1)
                        .input(&idle, |_| panic!("nobody writes"))
                        .select()?;
                }
                Ok(synced)
            })
            .forked(),
        )
        .add(Process::from_fn("parent", move || {
            let (mut synced, mut timeouts) = (0, 0);
            while synced < ROUNDS {
                Alt::new()
                    .barrier(&parent_me, || synced += 1)
                    .timeout(Duration::from_millis(5), || timeouts += 1)
                    .select()
                    .expect("the alt");
            }
            synced
        }))
        .boundary(&_idle_tx)
        .run()
        .expect("both sync every round");
    assert_eq!(results, [Some(ROUNDS), Some(ROUNDS)]);
}

/// A forked party syncs once, then dies while the other waits in the next round: the
/// waiting `sync` passes once the barrier notices the process is gone (its party is
/// counted under it from its first sync), and `run` reports the death.
fn barrier_party_killed() {
    let barrier = Barrier::named("doomed");
    let (doomed, survivor) = (barrier.enroll(), barrier.enroll());
    let started = Instant::now();
    let err = Parallel::new()
        .add(
            Process::from_fn("doomed", move || {
                doomed.sync();
                std::thread::sleep(Duration::from_millis(50)); // the other waits by now
                                                               // SAFETY: raise only sends a signal to this (child) process.
                unsafe { libc::raise(libc::SIGKILL) };
            })
            .forked(),
        )
        .add(Process::from_fn("survivor", move || {
            survivor.sync();
            survivor.sync(); // passes when the barrier sees the other party is gone
        }))
        .run()
        .expect_err("the child is killed");
    assert_killed(&err, "doomed", started);
}

/// A forked party dies before it ever syncs, while two others (a thread and another
/// child) wait: they pass once the barrier notices the child is gone. The party was
/// counted under the parent until the child adopted it at its start (it is recorded
/// with the process's ends), so without that adoption nobody would ever resign it.
fn barrier_party_dies_before_syncing() {
    let barrier = Barrier::named("early death");
    let (doomed, other, survivor) = (barrier.enroll(), barrier.enroll(), barrier.enroll());
    let started = Instant::now();
    let err = Parallel::new()
        .add(
            Process::with_ends("doomed", doomed, |_me| {
                std::thread::sleep(Duration::from_millis(50)); // the others wait by now
                                                               // SAFETY: raise only sends a signal to this (child) process.
                unsafe { libc::raise(libc::SIGKILL) };
                Ok(())
            })
            .forked(),
        )
        .add(
            Process::with_ends("other child", other, |me| {
                me.sync(); // passes when the barrier sees the doomed party is gone
                me.sync(); // and the two survivors go on together
                Ok(())
            })
            .forked(),
        )
        .add(Process::with_ends("survivor", survivor, |me| {
            me.sync();
            me.sync();
            Ok(())
        }))
        .run()
        .expect_err("the child is killed");
    assert_killed(&err, "doomed", started);
    assert_eq!(barrier.enrolled(), 0, "every party resigned or dropped");
}

/// `multiprocessing.Pipe()` as `csp::duplex`: a forked server answers 1,000 requests
/// from a thread client, in order; the client's drop ends the server's loop.
fn duplex_across_a_fork() {
    const REQUESTS: u64 = 1_000;
    let (client, server) = csp::duplex::<u64, (u64, u32)>("rpc");
    let results = Parallel::new()
        .add(
            Process::with_ends("server", server, |conn| {
                let mut served = 0;
                for n in conn.receiver() {
                    conn.send((n * 2, pid()))?;
                    served += 1;
                }
                Ok(served)
            })
            .forked(),
        )
        .add(Process::with_ends("client", client, |conn| {
            for n in 0..REQUESTS {
                conn.send(n)?;
                let (doubled, server) = conn.recv()?;
                assert_eq!(doubled, 2 * n, "replies come back in order");
                assert_ne!(server, pid(), "the server runs in a child");
            }
            Ok(0)
        }))
        .run()
        .expect("runs");
    assert_eq!(results, [Some(REQUESTS), Some(0)]);
}

/// `Manager().dict()` as `components::kv_server`: 8 clients (4 in forked processes, 4
/// on threads) each add 1 to a shared counter 250 times with `update` (a
/// compare-and-set loop) and keep a key of their own; no increment is lost, and the
/// server returns the final map once every client has gone.
fn kv_server_under_8_clients() {
    const CLIENTS: usize = 8;
    const ROUNDS: u64 = 250;
    let (server, clients) = csp::components::kv_server::<String, u64>("kv", CLIENTS);
    let mut net = Parallel::new().add(server.map(|map| {
        let own = (0..CLIENTS).filter(|c| map.get(&format!("client{c}")) == Some(&ROUNDS));
        (map.get("counter").copied().unwrap_or(0), own.count() as u64)
    }));
    for (c, kv) in clients.into_iter().enumerate() {
        let client = Process::with_ends(format!("client{c}"), kv, move |kv| {
            for round in 1..=ROUNDS {
                kv.update("counter".to_string(), |n| Some(n.copied().unwrap_or(0) + 1))?;
                kv.set(format!("client{c}"), round)?;
            }
            assert_eq!(kv.get(format!("client{c}"))?, Some(ROUNDS));
            assert!(kv.len()? >= 2, "the counter and this client's key");
            Ok((0, 0))
        });
        net = net.add(if c % 2 == 0 { client.forked() } else { client });
    }
    let results = net.run().expect("runs");
    assert_eq!(
        results[0],
        Some((CLIENTS as u64 * ROUNDS, CLIENTS as u64)),
        "every increment and every client's key is there"
    );
}

fn farm_of_forked_workers() {
    use csp::components::{collect, generate, Farm};
    let (jobs, jobs_in) = Channel::<u64>::new().one2one();
    let (done, done_in) = Channel::<(u64, u32)>::new().one2one();
    let farm = Farm::new("pool", 3, |x: u64| {
        if x.is_multiple_of(7) {
            std::thread::sleep(Duration::from_millis(1));
        }
        (x * x, std::process::id())
    })
    .forked();
    let mut net: Parallel = farm.processes(jobs_in, done).into_iter().collect();
    net.push(generate(0..3_000u64, jobs));
    let (got_tx, got) = std::sync::mpsc::channel();
    net.push(collect(done_in).map(move |v| got_tx.send(v).unwrap()));
    net.run().expect("runs");
    let got = got.recv().unwrap();
    let squares: Vec<u64> = got.iter().map(|r| r.0).collect();
    assert_eq!(squares, (0..3_000u64).map(|x| x * x).collect::<Vec<_>>());
    let mut workers: Vec<u32> = got.iter().map(|r| r.1).collect();
    workers.sort_unstable();
    workers.dedup();
    assert!(
        !workers.contains(&pid()),
        "a value was worked in the parent"
    );
    assert!(workers.len() >= 2, "the work was spread: {workers:?}");
}

fn farm_worker_killed() {
    use csp::components::{generate, Farm};
    let (jobs, jobs_in) = Channel::<u64>::new().one2one();
    let (done, done_in) = Channel::<u64>::new().one2one();
    let farm = Farm::new("pool", 2, |x: u64| {
        if x == 500 {
            // SAFETY: raising a signal in this (forked) worker's own process.
            unsafe { libc::raise(libc::SIGKILL) };
        }
        x
    })
    .forked();
    let mut net: Parallel = farm.processes(jobs_in, done).into_iter().collect();
    net.push(generate(0..100_000u64, jobs));
    net.push(in_order("reader", done_in));
    let started = Instant::now();
    let err = net.run().expect_err("a worker was killed");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    let killed: Vec<_> = err
        .failures()
        .iter()
        .filter(|f| {
            matches!(f, Failure::Killed { process, signal, .. }
            if process.starts_with("pool/worker[") && *signal == libc::SIGKILL)
        })
        .collect();
    assert_eq!(killed.len(), 1, "{err}");
}

fn farm_map_all_then_fork() {
    use csp::components::Farm;
    let on_threads = Farm::new("rayon", 2, |x: u32| x + 1)
        .map_all((0..1_000).collect())
        .expect("runs on threads");
    assert_eq!(on_threads, (1..=1_000).collect::<Vec<_>>());
    // A joined thread can stay listed for a moment after its join: allow it a second.
    let started = Instant::now();
    let threads = || std::fs::read_dir("/proc/self/task").unwrap().count();
    while threads() > 1 && started.elapsed() < Duration::from_secs(1) {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(threads(), 1, "map_all left threads behind");
    let forked = Farm::new("forked", 2, |x: u32| (x + 1, std::process::id()))
        .forked()
        .map_all((0..1_000).collect())
        .expect("forks");
    assert_eq!(
        forked.iter().map(|r| r.0).collect::<Vec<_>>(),
        (1..=1_000).collect::<Vec<_>>()
    );
    assert!(forked.iter().all(|r| r.1 != pid()));
}
