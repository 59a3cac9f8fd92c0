//! Signals as a channel (`csp::signals`): order, counting, ending, forked pumps.
//!
//! `harness = false`: a signal is sent to the whole OS process, so cases must not run
//! side by side, and the forked ones need a single-threaded program. `main` runs the
//! cases in order, each under `alarm(60)`, and exits non-zero if one fails. The cases
//! on what a signal does after its pump ended re-execute this binary as a child
//! (`CSP_SIGNALS_CHILD` says which), whose fate a signal may be.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use csp::signals::{signals, signals_armed, Signal, SIGHUP, SIGTERM, SIGUSR1, SIGUSR2};
use csp::{Channel, Input, Parallel, Process};

type Case = (&'static str, fn());

const CASES: &[Case] = &[
    (
        "after the pump ended, SIGTERM to a child kills it (and a new pump still works)",
        default_action_after_the_pump,
    ),
    (
        "a signal ignored before the pump stays ignored after it",
        ignored_stays_ignored_after_the_pump,
    ),
    (
        "signals sent one at a time arrive all, in order",
        one_at_a_time_in_order,
    ),
    (
        "a burst: real-time signals are all counted, standard ones coalesce at most",
        bursts,
    ),
    (
        "the pump ends when its reader retires, leaving no thread and no action",
        ends_when_reader_retires,
    ),
    (
        "the pump stops when its channel is poisoned",
        stops_on_poison,
    ),
    (
        "two pumps for one signal both receive every signal",
        two_pumps_one_signal,
    ),
    (
        "a forked pump handles the signals sent to its own pid",
        forked_pump,
    ),
    (
        "a pump in the parent feeds a forked reader",
        parent_pump_forked_reader,
    ),
];

fn main() {
    if let Ok(role) = std::env::var("CSP_SIGNALS_CHILD") {
        return child(&role);
    }
    csp_tests::run_cases("CSP_SIGNALS_CASE", CASES);
    println!("{} passed, 0 failed", CASES.len());
}

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

/// Runs `pump` (on a thread, or forked) beside a reader that gets the armed pid and
/// the signals; the reader's result.
fn with_pump<R: serde::Serialize + serde::de::DeserializeOwned + Send + 'static>(
    kinds: &[Signal],
    forked: bool,
    reader: impl FnOnce(u32, Input<Signal>) -> Result<R, csp::BoxError> + Send + 'static,
) -> R {
    let (armed_tx, armed) = Channel::<u32>::new().one2one();
    let (pump, sigs) = signals_armed(kinds, armed_tx).unwrap();
    let pump = if forked { pump.forked() } else { pump };
    let reader = Process::with_ends("reader", (sigs, armed), move |(sigs, armed)| {
        let pid = armed.read()?;
        drop(armed);
        reader(pid, sigs).map(Some)
    });
    let mut results = Parallel::new()
        .add(pump.map(|()| None))
        .add(reader)
        .run()
        .unwrap();
    results
        .pop()
        .flatten()
        .flatten()
        .expect("the reader's result")
}

/// A repeatable mixed sequence of kinds.
fn sequence(kinds: &[Signal], n: usize) -> Vec<Signal> {
    let mut x: u32 = 0x9e37_79b9;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            kinds[x as usize % kinds.len()]
        })
        .collect()
}

fn one_at_a_time_in_order() {
    let kinds = [SIGUSR1, SIGUSR2, SIGHUP, Signal::rt(0).unwrap()];
    let sent = sequence(&kinds, 200);
    let expected = sent.clone();
    let got = with_pump(&kinds, false, move |pid, sigs| {
        let mut got = Vec::new();
        for s in sent {
            s.send_to(pid)?;
            got.push(sigs.read_timeout(Duration::from_secs(10))?);
        }
        Ok(got)
    });
    assert_eq!(got, expected);
}

/// Reads what arrives until nothing more comes for a while.
fn drain(sigs: &Input<Signal>) -> Vec<Signal> {
    let mut got = Vec::new();
    while let Ok(s) = sigs.read_timeout(Duration::from_millis(300)) {
        got.push(s);
    }
    got
}

fn bursts() {
    const N: usize = 300;
    let rt1 = Signal::rt(1).unwrap();
    let rt2 = Signal::rt(2).unwrap();
    let (standard, rt, mixed) = with_pump(&[SIGUSR1, rt1, rt2], false, move |pid, sigs| {
        for _ in 0..N {
            SIGUSR1.send_to(pid)?;
        }
        let standard = drain(&sigs).len();
        for _ in 0..N {
            rt1.send_to(pid)?;
        }
        let rt = drain(&sigs).len();
        for i in 0..N {
            if i % 2 == 0 { rt1 } else { rt2 }.send_to(pid)?;
        }
        let mixed = drain(&sigs);
        let ones = mixed.iter().filter(|&&s| s == rt1).count();
        Ok((standard, rt, (ones, mixed.len() - ones)))
    });
    // Standard signals may coalesce (never more than were sent, at least one).
    assert!((1..=N).contains(&standard), "{standard} SIGUSR1 of {N}");
    // Real-time signals are queued: every one arrives.
    assert_eq!(rt, N);
    assert_eq!(mixed, (N / 2, N / 2));
}

fn ends_when_reader_retires() {
    let before = threads();
    let (pump, sigs) = signals(&[SIGUSR1]).unwrap();
    let started = Instant::now();
    let reader = Process::with_ends("reader", sigs, |sigs| {
        drop(sigs);
        Ok(())
    });
    Parallel::new().add(pump).add(reader).run().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    // Settle: a joined thread can linger in /proc for a moment.
    let t = Instant::now();
    while threads() != before && t.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(threads(), before, "no thread left behind");
    // The action is gone (SIGUSR1 has its default action again: see
    // `default_action_after_the_pump`), and a new pump gets each signal exactly once
    // (no stale action feeds it).
    let got = with_pump(&[SIGUSR1], false, |pid, sigs| {
        for _ in 0..5 {
            SIGUSR1.send_to(pid)?;
            sigs.read_timeout(Duration::from_secs(10))?;
        }
        Ok(sigs.read_timeout(Duration::from_millis(200)).is_err())
    });
    assert!(got, "a signal arrived twice");
}

fn stops_on_poison() {
    let (pump, sigs) = signals(&[SIGUSR2]).unwrap();
    let reader = Process::with_ends("reader", sigs, |sigs| {
        sigs.poison();
        Ok(())
    });
    let results = Parallel::new()
        .add(pump)
        .add(reader)
        .run()
        .expect("poison is a stop, not a failure");
    assert_eq!(results[1], Some(()));
    assert_eq!(results[0], None, "the pump stopped on poison");
}

fn forked_pump() {
    let me = std::process::id();
    let (child, got) = with_pump(&[SIGUSR1, SIGUSR2], true, move |pid, sigs| {
        let mut got = Vec::new();
        for s in sequence(&[SIGUSR1, SIGUSR2], 40) {
            s.send_to(pid)?;
            got.push(sigs.read_timeout(Duration::from_secs(10))?);
        }
        Ok((pid, got))
    });
    assert_ne!(child, me, "the pump ran in a child and handled its own pid");
    assert_eq!(got, sequence(&[SIGUSR1, SIGUSR2], 40));
    // The program is still single-threaded: nothing of the pump stayed here.
    assert_eq!(threads(), 1);
}

fn parent_pump_forked_reader() {
    let me = std::process::id();
    let (armed_tx, armed) = Channel::<u32>::new().one2one();
    let (pump, sigs) = signals_armed(&[SIGHUP], armed_tx).unwrap();
    let reader = Process::with_ends("reader", (sigs, armed), move |(sigs, armed)| {
        let pid = armed.read()?;
        let mut n = 0u32;
        for _ in 0..10 {
            SIGHUP.send_to(pid)?;
            n += u32::from(sigs.read_timeout(Duration::from_secs(10))? == SIGHUP);
        }
        Ok(Some((pid, n)))
    })
    .forked();
    let results = Parallel::new()
        .add(pump.map(|()| None))
        .add(reader)
        .run()
        .unwrap();
    assert_eq!(
        results[1],
        Some(Some((me, 10))),
        "the parent's signals reached the child"
    );
}

fn two_pumps_one_signal() {
    const N: usize = 50;
    let (armed_a, armed_a_rx) = Channel::<u32>::new().one2one();
    let (armed_b, armed_b_rx) = Channel::<u32>::new().one2one();
    let (pump_a, sigs_a) = signals_armed(&[SIGUSR2], armed_a).unwrap();
    let (pump_b, sigs_b) = signals_armed(&[SIGUSR2], armed_b).unwrap();
    let reader = Process::with_ends(
        "reader",
        (sigs_a, sigs_b, armed_a_rx, armed_b_rx),
        |(a, b, armed_a, armed_b)| {
            let pid = armed_a.read()?;
            assert_eq!(armed_b.read()?, pid);
            for _ in 0..N {
                SIGUSR2.send_to(pid)?;
                a.read_timeout(Duration::from_secs(10))?;
                b.read_timeout(Duration::from_secs(10))?;
            }
            Ok(Some(N))
        },
    );
    let results = Parallel::new()
        .add(pump_a.map(|()| None))
        .add(pump_b.map(|()| None))
        .add(reader)
        .run()
        .unwrap();
    assert_eq!(results[2], Some(Some(N)));
}

/// A pump for `signal` that ends at once (its reader retires), run to its end.
fn pump_and_end(signal: Signal) {
    let (pump, sigs) = signals(&[signal]).unwrap();
    let reader = Process::with_ends("reader", sigs, |sigs| {
        drop(sigs);
        Ok(())
    });
    Parallel::new().add(pump).add(reader).run().unwrap();
}

/// The child's part: a pump for its signal comes and goes, then the child says
/// `ready` and waits for a line on stdin (or for the signal to end it).
fn child(role: &str) {
    match role {
        "default" => {
            pump_and_end(SIGTERM);
            // A new pump handles SIGTERM again, sent to this very process: had the
            // pump's end not put signal-hook's dispatcher back, it would kill us here.
            let got = with_pump(&[SIGTERM], false, |pid, sigs| {
                SIGTERM.send_to(pid)?;
                Ok(sigs.read_timeout(Duration::from_secs(10))?)
            });
            assert_eq!(got, SIGTERM);
        }
        "ignored" => {
            // SAFETY: sets SIGHUP's disposition to "ignore", before any thread exists.
            unsafe { libc::signal(libc::SIGHUP, libc::SIG_IGN) };
            pump_and_end(SIGHUP);
        }
        other => panic!("unknown child role {other}"),
    }
    println!("ready");
    std::io::stdout().flush().unwrap();
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

/// Starts this binary as a child playing `role`, once it said `ready`.
fn ready_child(role: &str) -> std::process::Child {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env("CSP_SIGNALS_CHILD", role)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "ready\n", "the child got through its pumps");
    child
}

/// The child's exit status, waiting up to 10 s (then it is killed: `None`).
fn wait_for(child: &mut std::process::Child) -> Option<std::process::ExitStatus> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

fn default_action_after_the_pump() {
    let mut child = ready_child("default");
    SIGTERM.send_to(child.id()).unwrap();
    let status = wait_for(&mut child);
    let signal = status.and_then(|s| s.signal());
    assert_eq!(
        signal,
        Some(libc::SIGTERM),
        "{status:?}: SIGTERM was not fatal"
    );
}

fn ignored_stays_ignored_after_the_pump() {
    let mut child = ready_child("ignored");
    SIGHUP.send_to(child.id()).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert!(child.try_wait().unwrap().is_none(), "SIGHUP was ignored");
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let status = wait_for(&mut child);
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
}
