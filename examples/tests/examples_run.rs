//! Runs every example and checks what it prints: an example that stops working, or
//! stops saying what its docs promise, fails here rather than in a newcomer's hands.
//!
//! `cargo test` builds a package's examples before it runs its tests; their binaries sit
//! beside this test's, in `<target>/<profile>/examples/`.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Generous: a hung example turns into a failure, not a hung test run.
const WATCHDOG: Duration = Duration::from_secs(120);

fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // <target>/<profile>/deps/examples_run-<hash> -> <target>/<profile>/examples/<name>
    let profile = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary sits in <target>/<profile>/deps");
    let path = profile.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo test -p csp-examples`, which builds the examples",
        path.display()
    );
    path
}

/// Runs the example `name` with `args`; its stdout, after it exited successfully.
fn run(name: &str, args: &[&str]) -> String {
    let mut child = Command::new(binary(name))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waits") {
            break status;
        }
        if started.elapsed() > WATCHDOG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("example {name} ran longer than {WATCHDOG:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (mut out, mut err) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        status.success(),
        "example {name} failed ({status}):\n{out}\n{err}"
    );
    out
}

fn assert_says(name: &str, out: &str, expected: &[&str]) {
    for line in expected {
        assert!(
            out.contains(line),
            "example {name} did not print {line:?}; it printed:\n{out}"
        );
    }
}

#[test]
fn showcase_validates_runs_on_threads_forked_and_green_and_names_the_panicking_parser() {
    let out = run("showcase", &[]);
    let lost = out.matches("quarantined 100 malformed lines").count();
    assert_eq!(lost, 3, "all three runs see every malformed line:\n{out}");
    assert_says(
        "showcase",
        &out,
        &[
            "validation: the network is valid",
            "flowchart LR",
            "== the same network, each parser in a forked OS process of its own",
            "; in forked processes: ",
            "== the same network, every process green",
            "executor  time        vs threads",
            "\nthreads   ",
            "\nforked    ",
            "\ngreen     ",
            "panicked: malformed log line",
        ],
    );
}

#[test]
fn commstime_reports_ns_per_communication() {
    let out = run("commstime", &["2000"]);
    assert_says("commstime", &out, &["loops=2000", "ns_per_comm="]);
}

#[test]
fn counter_server_counts_every_request() {
    let out = run("counter_server", &[]);
    assert_says(
        "counter_server",
        &out,
        &[
            "server process: counter = 160000",
            "mutex:          counter = 160000",
        ],
    );
}

#[test]
fn multiplexer_answers_every_request_under_both_policies() {
    let out = run("multiplexer", &[]);
    assert_says(
        "multiplexer",
        &out,
        &[
            "Fair select: 1800 requests served",
            "Priority select: 1800 requests served",
        ],
    );
}

#[test]
fn queue_timeout_shows_full_empty_and_timeouts() {
    let out = run("queue_timeout", &[]);
    assert_says(
        "queue_timeout",
        &out,
        &[
            "q.put_nowait(4)         -> queue.Full",
            "q.get_nowait()          -> queue.Empty",
            "consumer: got [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]",
        ],
    );
}

#[test]
fn philosophers_all_eat_and_never_deadlock() {
    let out = run("philosophers", &[]);
    let ate = (0..5)
        .filter(|i| out.contains(&format!("philosopher {i} ate 50 times")))
        .count();
    assert_eq!(ate, 5, "every philosopher eats 50 times:\n{out}");
    assert_says(
        "philosophers",
        &out,
        &["at most 4 seated at once", "no deadlock"],
    );
}

#[test]
fn fork_pipeline_crosses_processes_and_names_the_crashed_worker() {
    let out = run("fork_pipeline", &[]);
    let child = out
        .lines()
        .find_map(|l| l.strip_prefix("parent (pid "))
        .expect("the parent's line");
    // "parent (pid P) read: child processing (pid C)": two different processes.
    let pids: Vec<&str> = child
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(pids.len(), 2, "{out}");
    assert_ne!(pids[0], pids[1], "the child ran in the parent:\n{out}");
    assert_says(
        "fork_pipeline",
        &out,
        &[
            "talker got: i am the parent's response",
            "parent got: i am a child (talker)",
            "40 jobs handled in",
            "none in the parent",
            "sum of squares 1..=40 = 22140",
            "unlucky exited with code 3",
        ],
    );
}

#[test]
fn manager_dict_counts_every_word_across_forked_and_thread_workers() {
    let out = run("manager_dict", &[]);
    assert_says(
        "manager_dict",
        &out,
        &[
            "27 words counted by 6 workers (4 forked), 15 distinct:",
            "  the      6",
            "no count lost: true",
        ],
    );
}

#[test]
fn priority_jobs_serves_the_most_urgent_first_and_equals_in_order() {
    let out = run("priority_jobs", &[]);
    let order: Vec<&str> = out.lines().skip(1).map(str::trim).collect();
    assert_eq!(
        order,
        [
            "1. warm cache",
            "2. page the on-call (urgency 5)",
            "3. restart the database (urgency 5)",
            "4. rebuild index (urgency 3)",
            "5. renew certificate (urgency 3)",
            "6. rotate logs (urgency 1)",
            "7. send newsletter (urgency 1)",
        ],
        "{out}"
    );
}

#[test]
fn signals_reports_status_twice_and_shuts_down_on_sigterm() {
    let out = run("signals", &[]);
    let statuses: Vec<u64> = out
        .lines()
        .filter_map(|l| l.strip_prefix("status: "))
        .map(|l| l.split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(statuses.len(), 2, "two SIGUSR1, two reports:\n{out}");
    assert!(statuses[0] <= statuses[1], "{out}");
    assert_says(
        "signals",
        &out,
        &[
            "SIGTERM: shutting down after",
            "2 status reports; pump and generator ended: true",
        ],
    );
    // SIGTERM comes after the reports, and the worker's total is at least the last one.
    let last = out.lines().last().unwrap_or_default();
    let jobs: u64 = last
        .strip_prefix("worker: ")
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("the worker's summary is the last line");
    assert!(jobs >= statuses[1], "{out}");
}

#[test]
fn shared_memory_hands_frames_over_without_copying() {
    let out = run("shared_memory", &[]);
    assert_says(
        "shared_memory",
        &out,
        &[
            "consumer: 16 frames of 1024 KiB checked, all at the address the producer filled",
            "blocks free again: 4 of 4",
        ],
    );
    let blocks: usize = out
        .split(" distinct blocks")
        .next()
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("the number of blocks used");
    assert!(
        (1..=4).contains(&blocks),
        "the pool bounds the frames in use:\n{out}"
    );
    let transformed: Vec<u64> = out
        .lines()
        .find_map(|l| l.strip_prefix("workers transformed "))
        .map(|l| l.split(' ').filter_map(|w| w.parse().ok()).collect())
        .expect("the workers' counts");
    assert_eq!(transformed.iter().take(2).sum::<u64>(), 16, "{out}");
}

#[test]
fn event_times_out_broadcasts_a_set_and_clears() {
    let out = run("event", &[]);
    assert_says(
        "event",
        &out,
        &[
            "nobody sets it: 0 of 3 waiters released, 3 timed out",
            "one set: 3 of 3 waiters released, is_set=true",
            "a wait on a set event: released=true",
            "after clear: is_set=false, a waiter released=false",
            "event: 4 waits answered by a set",
        ],
    );
}

#[test]
fn worker_pool_keeps_input_order_on_threads_and_forked_and_names_a_failed_worker() {
    let out = run("worker_pool", &[]);
    assert_says(
        "worker_pool",
        &out,
        &[
            "threads: words per page [1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000, 11000, 12000]",
            "forked: same counts true, every page counted in a child process true",
            "map_all: same counts true",
            "panicked: page of 7000 words is corrupt",
        ],
    );
    let failed: Vec<&str> = out.lines().filter(|l| l.starts_with("failed:")).collect();
    assert_eq!(failed.len(), 1, "exactly the one worker fails: {failed:?}");
    assert!(failed[0].contains("'strict/worker["), "{}", failed[0]);
}

#[test]
fn named_pipe_carries_greetings_between_two_programs() {
    let out = run("named_pipe", &[]);
    assert_says(
        "named_pipe",
        &out,
        &[
            "receiver got #1: Hello, receiver!",
            "receiver got #2: How are you?",
            "receiver got #3: Goodbye.",
            "receiver: 3 greetings, then the sender retired",
            "sender exited: ok",
            "socket file removed: true",
        ],
    );
}

#[test]
fn tcp_echo_serves_every_client_through_its_own_bridges() {
    let out = run("tcp_echo", &[]);
    let mut expected: Vec<String> = (0..5)
        .map(|i| format!("client{i} got: server got: [CLIENT{i}]"))
        .collect();
    expected.push("server: served 5 clients, 0 failures".into());
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    assert_says("tcp_echo", &out, &expected);
}
