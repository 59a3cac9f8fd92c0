//! `tcp::serve_until`: a server without a client limit stops on its control channel
//! (written, retired or poisoned), ends its clients' networks, leaves no thread behind,
//! and serves at most `concurrent` clients at once.
//!
//! `harness = false`: the cases count the threads of the whole OS process, so no other
//! test may run beside them. Each case runs under `alarm(60)`: a hang is a failure.

#[cfg(target_os = "linux")]
mod cases {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{SocketAddr, TcpListener, TcpStream};
    use std::time::Duration;

    use csp::net::tcp::{self, Framing, Served};
    use csp::{Channel, Output, Parallel, Process};

    fn threads() -> usize {
        std::fs::read_dir("/proc/self/task")
            .expect("/proc/self/task")
            .count()
    }

    /// An echo server on loopback stopping on `stop`, serving `concurrent` at once.
    fn echo_server(concurrent: usize) -> (SocketAddr, Output<()>, Process<Served>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop_tx, stop) = Channel::<()>::new().named("stop").one2one();
        let server = tcp::serve_until("echo", listener, Framing::Lines, concurrent, stop, |c| {
            Process::new(format!("echo[{}]", c.index), move || {
                for line in c.input.iter() {
                    c.output.write(line)?;
                }
                Ok(())
            })
        });
        (addr, stop_tx, server)
    }

    /// A client that connects, says `hi` and reads the echo.
    fn greet(addr: SocketAddr) -> (TcpStream, String) {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s.write_all(b"hi\n").unwrap();
        let mut line = String::new();
        BufReader::new(&s).read_line(&mut line).unwrap();
        (s, line)
    }

    /// How the admin ends the server.
    #[derive(Clone, Copy, Debug)]
    enum Ending {
        Write,
        Retire,
        Poison,
    }

    fn stops_and_leaves_no_thread(ending: Ending) {
        let before = threads();
        let (addr, stop_tx, server) = echo_server(8);
        let admin = Process::with_ends("admin", stop_tx, move |stop| {
            // Two clients stay connected, one has gone: the server keeps serving.
            let (mut a, hi_a) = greet(addr);
            let (b, hi_b) = greet(addr);
            drop(greet(addr));
            assert_eq!((hi_a.as_str(), hi_b.as_str()), ("hi\n", "hi\n"));
            match ending {
                Ending::Write => stop.write(())?,
                Ending::Retire => drop(stop),
                Ending::Poison => stop.poison(),
            }
            // The connected clients' connections end: their reads see the end.
            let mut rest = Vec::new();
            let _ = a.read_to_end(&mut rest);
            drop(b);
            Ok(rest)
        });
        let results = Parallel::new()
            .add(server.map(|s| (s.clients, s.failures)))
            .add(admin.map(|rest| (rest.len(), Vec::new())))
            .run()
            .unwrap();
        match ending {
            Ending::Poison => assert!(results[0].is_none(), "{results:?}"),
            _ => assert_eq!(results[0], Some((3, Vec::new()))),
        }
        assert_eq!(
            results[1],
            Some((0, Vec::new())),
            "nothing more after the stop"
        );
        assert_eq!(threads(), before, "every thread of the server was joined");
    }

    fn serves_at_most_concurrent_clients_at_once() {
        let before = threads();
        let (addr, stop_tx, server) = echo_server(2);
        let admin = Process::with_ends("admin", stop_tx, move |stop| {
            let mut clients: Vec<TcpStream> = (0..4)
                .map(|_| {
                    let mut s = TcpStream::connect(addr).unwrap();
                    s.write_all(b"hi\n").unwrap();
                    s.set_read_timeout(Some(Duration::from_millis(300)))
                        .unwrap();
                    s
                })
                .collect();
            let answered = |s: &TcpStream| {
                let mut byte = [0u8; 3];
                (&*s).read_exact(&mut byte).is_ok()
            };
            // Two are served; the others wait in the backlog (however long we look).
            let first: Vec<bool> = clients.iter().map(answered).collect();
            assert_eq!(first.iter().filter(|&&a| a).count(), 2, "{first:?}");
            // The served two leave: the waiting two are served.
            let mut i = 0;
            clients.retain(|_| {
                i += 1;
                !first[i - 1]
            });
            for s in &clients {
                s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                assert!(answered(s), "a waiting client is served once one leaves");
            }
            stop.write(())?;
            Ok(())
        });
        let results = Parallel::new()
            .add(server.map(|s| s.clients))
            .add(admin.map(|()| 0))
            .run()
            .unwrap();
        assert_eq!(results[0], Some(4));
        assert_eq!(threads(), before);
    }

    pub fn run() {
        type Case = (&'static str, fn());
        let cases: &[Case] = &[
            ("stops when its stop channel is written", || {
                stops_and_leaves_no_thread(Ending::Write)
            }),
            ("stops when its stop channel retires", || {
                stops_and_leaves_no_thread(Ending::Retire)
            }),
            ("stops, cutting clients off, when poisoned", || {
                stops_and_leaves_no_thread(Ending::Poison)
            }),
            (
                "serves at most `concurrent` clients at once",
                serves_at_most_concurrent_clients_at_once,
            ),
        ];
        for (name, case) in cases {
            // SAFETY: `alarm` only arms a timer; its SIGALRM's default action ends the
            // program, which is the watchdog we want for a hung case.
            unsafe { libc::alarm(60) };
            case();
            println!("ok: {name}");
        }
        // SAFETY: as above; 0 disarms the timer.
        unsafe { libc::alarm(0) };
        println!("{} passed, 0 failed", cases.len());
    }
}

fn main() {
    #[cfg(target_os = "linux")]
    cases::run();
}
