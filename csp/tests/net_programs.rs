//! Named channels between two real programs: this test binary re-executes itself as
//! the second, unrelated program (`CSP_NET_ROLE` says which part it plays), so the
//! peers share nothing but the socket path. Covers many messages with both sides
//! racing on timeouts, poison from either side, and a peer killed with SIGKILL in the
//! middle of a stream (the other side gets an error naming the path, no hang).
//!
//! `harness = false`: it starts child processes and must own its process; each case
//! runs under a watchdog that turns a hang into a failure and kills the children.

#[cfg(target_os = "linux")]
mod programs {
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, Stdio};
    use std::sync::mpsc;
    use std::sync::Mutex;
    use std::thread;
    use std::time::{Duration, Instant};

    use csp::net::named;
    use csp::ChannelError;

    const WATCHDOG: Duration = Duration::from_secs(120);
    const MESSAGES: u64 = 20_000;

    /// Children started by the cases, killed by the watchdog if a case hangs.
    static CHILDREN: Mutex<Vec<u32>> = Mutex::new(Vec::new());

    /// This run's own directory for socket files (removed at the end of the run).
    fn run_dir() -> PathBuf {
        std::env::temp_dir().join(format!("csp-net-programs-{}", std::process::id()))
    }

    fn socket_path(case: &str) -> PathBuf {
        assert!(!case.is_empty(), "a case names its socket");
        let dir = run_dir();
        std::fs::create_dir_all(&dir).expect("a temp dir");
        dir.join(case)
    }

    /// Starts this binary as the other program, playing `role` at `path`.
    fn other_program(role: &str, path: &Path, arg: u64) -> Child {
        let child = Command::new(std::env::current_exe().expect("own path"))
            .env("CSP_NET_ROLE", role)
            .env("CSP_NET_PATH", path)
            .env("CSP_NET_ARG", arg.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the child starts");
        CHILDREN.lock().unwrap().push(child.id());
        child
    }

    fn finish(child: Child) -> String {
        let out = child.wait_with_output().expect("waits for the child");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "the other program failed: {text}");
        text
    }

    /// Waits until the listener's socket file is there (the child listens).
    fn wait_for(path: &Path) {
        let start = Instant::now();
        while !path.exists() {
            assert!(
                start.elapsed() < WATCHDOG,
                "{} never appeared",
                path.display()
            );
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// A small xorshift: the timeouts' pattern differs per run and per side.
    fn random(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    // ---- the other program's parts ----

    pub fn play(role: &str) -> Result<(), csp::BoxError> {
        let path = PathBuf::from(std::env::var("CSP_NET_PATH")?);
        let arg: u64 = std::env::var("CSP_NET_ARG")?.parse()?;
        match role {
            // Writes 0..arg with racing timeouts (retrying what timed out), then retires.
            "racy-writer" => {
                let tx = named::connect::<u64>(&path)?;
                let mut seed = u64::from(std::process::id()) | 1;
                let mut timeouts = 0;
                for i in 0..arg {
                    let mut v = i;
                    for attempt in 0.. {
                        let micros = random(&mut seed) % 200 + attempt * 100;
                        match tx.write_timeout(v, Duration::from_micros(micros)) {
                            Ok(()) => break,
                            Err(e) if e.error().is_timeout() => {
                                timeouts += 1;
                                v = e.into_inner().ok_or("value lost")?;
                            }
                            Err(e) => return Err(e.into()),
                        }
                    }
                }
                println!("timeouts {timeouts}");
                Ok(())
            }
            // Writes arg values, then poisons.
            "poisoning-writer" => {
                let tx = named::connect::<u64>(&path)?;
                (0..arg).try_for_each(|i| tx.write(i))?;
                tx.poison();
                Ok(())
            }
            // Reads arg values, then poisons; says how many it read.
            "poisoning-reader" => {
                let rx = named::connect_reader::<u64>(&path)?;
                for i in 0..arg {
                    assert_eq!(rx.read()?, i);
                }
                rx.poison();
                println!("read {arg}");
                Ok(())
            }
            // Writes until killed.
            "endless-writer" => {
                let tx = named::connect::<u64>(&path)?;
                (0..).try_for_each(|i| tx.write(i))?;
                Ok(())
            }
            // Listens and reads until killed.
            "endless-reader" => {
                let rx = named::listen::<u64>(&path)?;
                loop {
                    rx.read()?;
                }
            }
            other => Err(format!("unknown role {other}").into()),
        }
    }

    // ---- the cases ----

    /// Many messages, both sides racing on timeouts: every value arrives exactly once
    /// and in order.
    fn racing_timeouts_lose_nothing() {
        let path = socket_path("racy");
        let rx = named::listen::<u64>(&path).unwrap();
        let child = other_program("racy-writer", &path, MESSAGES);
        let mut seed = 0x9e37_79b9_7f4a_7c15;
        let (mut next, mut reader_timeouts) = (0, 0);
        loop {
            let micros = random(&mut seed) % 150;
            match rx.read_timeout(Duration::from_micros(micros)) {
                Ok(v) => {
                    assert_eq!(v, next, "lost or duplicated");
                    next += 1;
                }
                Err(e) if e.is_timeout() => reader_timeouts += 1,
                Err(e) if e.is_retired() => break,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(next, MESSAGES);
        let said = finish(child);
        println!(
            "    reader timeouts {reader_timeouts}, writer {}",
            said.trim()
        );
    }

    /// The writer poisons after its values: the reader gets them all, then `Poisoned`.
    fn poison_from_the_writer() {
        let path = socket_path("poison-w");
        let rx = named::listen::<u64>(&path).unwrap();
        let child = other_program("poisoning-writer", &path, 1000);
        for i in 0..1000 {
            assert_eq!(rx.read().unwrap(), i);
        }
        assert!(rx.read().unwrap_err().is_poisoned());
        finish(child);
    }

    /// The reader poisons after some values: the writer's next write fails with
    /// `Poisoned` and its value back; the reader had taken exactly what was acked.
    fn poison_from_the_reader() {
        let path = socket_path("poison-r");
        let tx = named::Named::<u64>::at(&path).listen_writer().unwrap();
        let child = other_program("poisoning-reader", &path, 500);
        let mut acked = 0;
        let err = loop {
            match tx.write(acked) {
                Ok(()) => acked += 1,
                Err(e) => break e,
            }
        };
        assert!(err.error().is_poisoned(), "{err}");
        assert_eq!(err.into_inner(), Some(acked));
        assert_eq!(acked, 500);
        assert_eq!(finish(child).trim(), "read 500");
    }

    /// The writing program is killed mid-stream: the reader gets a `Transport` error
    /// naming the path, not a hang and not a clean end.
    fn killed_writer_is_an_error() {
        let path = socket_path("killed-w");
        let rx = named::listen::<u64>(&path).unwrap();
        let child = other_program("endless-writer", &path, 0);
        for i in 0..2000 {
            assert_eq!(rx.read().unwrap(), i);
        }
        kill(&child);
        let err = loop {
            match rx.read() {
                Ok(_) => {} // values the writer offered before it died
                Err(e) => break e,
            }
        };
        assert!(matches!(err, ChannelError::Transport { .. }), "{err}");
        assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");
        reap(child);
    }

    /// The reading program is killed mid-stream: the writer's write fails (value back)
    /// instead of returning `Ok` for a value nobody took.
    fn killed_reader_is_an_error() {
        let path = socket_path("killed-r");
        let child = other_program("endless-reader", &path, 0);
        wait_for(&path);
        let tx = named::connect::<u64>(&path).unwrap();
        for i in 0..2000 {
            tx.write(i).unwrap();
        }
        kill(&child);
        let mut i = 2000;
        let err = loop {
            match tx.write(i) {
                Ok(()) => i += 1,
                Err(e) => break e,
            }
        };
        assert!(
            matches!(err.error(), ChannelError::Transport { .. }),
            "{err}"
        );
        assert_eq!(err.into_inner(), Some(i));
        reap(child);
    }

    fn kill(child: &Child) {
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).expect("kill");
    }

    fn reap(child: Child) {
        let out = child.wait_with_output().expect("waits");
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(out.status.signal(), Some(9));
    }

    pub fn run_all() -> bool {
        let cases: [(&str, fn()); 5] = [
            ("racing_timeouts_lose_nothing", racing_timeouts_lose_nothing),
            ("poison_from_the_writer", poison_from_the_writer),
            ("poison_from_the_reader", poison_from_the_reader),
            ("killed_writer_is_an_error", killed_writer_is_an_error),
            ("killed_reader_is_an_error", killed_reader_is_an_error),
        ];
        let (mut passed, mut failed) = (0, 0);
        for (name, case) in cases {
            let (done_tx, done_rx) = mpsc::channel();
            thread::spawn(move || {
                let result = std::panic::catch_unwind(case);
                let _ = done_tx.send(result.is_ok());
            });
            let ok = match done_rx.recv_timeout(WATCHDOG) {
                Ok(ok) => ok,
                Err(_) => {
                    println!("test {name} hung for {WATCHDOG:?}");
                    false
                }
            };
            println!("test {name} ... {}", if ok { "ok" } else { "FAILED" });
            if ok {
                passed += 1;
            } else {
                failed += 1;
            }
            for pid in CHILDREN.lock().unwrap().drain(..) {
                let pid = nix::unistd::Pid::from_raw(pid as i32);
                let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            }
        }
        // Only this run's own directory (its name carries this process's id).
        let _ = std::fs::remove_dir_all(run_dir());
        println!("{passed} passed, {failed} failed");
        failed == 0
    }
}

#[cfg(target_os = "linux")]
fn main() {
    if let Ok(role) = std::env::var("CSP_NET_ROLE") {
        if let Err(e) = programs::play(&role) {
            eprintln!("{role}: {e}");
            std::process::exit(1);
        }
        return;
    }
    // Children killed by a case would otherwise become zombies until the run ends.
    if !programs::run_all() {
        std::process::exit(1);
    }
}

#[cfg(not(target_os = "linux"))]
fn main() {}
