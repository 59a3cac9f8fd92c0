//! Helpers shared by the integration tests.

use std::sync::mpsc;
use std::time::Duration;

/// Runs `f` on its own thread and fails the test, naming it, if `f` has not finished
/// after `secs` seconds: a hang becomes a failure instead of a stuck CI run. The limit is
/// generous on purpose: it is a watchdog, not a speed assertion.
pub fn watchdog<R: Send + 'static>(
    secs: u64,
    name: &str,
    f: impl FnOnce() -> R + Send + 'static,
) -> R {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::Builder::new()
        .name(format!("watched:{name}"))
        .spawn(move || {
            let _ = tx.send(f());
        })
        .expect("spawn the watched thread");
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(r) => {
            let _ = worker.join();
            r
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{name}: still running after {secs} s (hang?)")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(payload) => std::panic::resume_unwind(payload),
            Ok(()) => panic!("{name}: the watched thread ended without a result"),
        },
    }
}

/// Sleeps a little: used to let another thread reach a blocking call before the test
/// goes on. Only the *order* of events is asserted afterwards, never a duration.
pub fn settle() {
    std::thread::sleep(Duration::from_millis(30));
}

/// A test message tagged with its writer (top bits) and its sequence number.
pub fn tag(writer: u64, seq: u64) -> u64 {
    (writer << 40) | seq
}

/// The writer and sequence number of a [`tag`]ged message.
pub fn untag(v: u64) -> (usize, u64) {
    ((v >> 40) as usize, v & ((1 << 40) - 1))
}

/// What readers saw of [`tag`]ged messages, per writer: how many and the sum of their
/// sequence numbers. Merged over all readers, it proves each message was read exactly
/// once. It crosses channels (serde), so a reader in another OS process can send it back.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Tally {
    count: Vec<u64>,
    sum: Vec<u64>,
    /// The last sequence number seen from each writer (for `add_in_order`).
    last: Vec<Option<u64>>,
}

impl Tally {
    /// Nothing seen yet from `writers` writers.
    pub fn new(writers: usize) -> Tally {
        Tally {
            count: vec![0; writers],
            sum: vec![0; writers],
            last: vec![None; writers],
        }
    }

    /// Counts one message; gives back its writer and sequence number.
    pub fn add(&mut self, v: u64) -> (usize, u64) {
        let (w, seq) = untag(v);
        self.count[w] += 1;
        self.sum[w] += seq;
        (w, seq)
    }

    /// Counts one message as [`add`](Self::add) does, and checks that it comes after
    /// the previous one this tally saw from the same writer: one writer's values reach
    /// any one reader in the order written.
    pub fn add_in_order(&mut self, v: u64) -> (usize, u64) {
        let (w, seq) = self.add(v);
        let previous = self.last[w].replace(seq);
        assert!(
            previous.is_none_or(|l| l < seq),
            "writer {w}: reordered, {previous:?} then {seq}"
        );
        (w, seq)
    }

    /// Joins the writer threads, then merges the readers' tallies into one.
    pub fn join(
        writers: usize,
        writer_threads: Vec<std::thread::JoinHandle<()>>,
        reader_threads: Vec<std::thread::JoinHandle<Tally>>,
    ) -> Tally {
        for w in writer_threads {
            w.join().expect("a writer panicked");
        }
        let mut total = Tally::new(writers);
        for r in reader_threads {
            total.merge(&r.join().expect("a reader panicked"));
        }
        total
    }

    /// Adds another reader's tally.
    pub fn merge(&mut self, other: &Tally) {
        for w in 0..self.count.len() {
            self.count[w] += other.count[w];
            self.sum[w] += other.sum[w];
        }
    }

    /// Fails unless every writer's messages `0..per_writer` were each seen exactly once.
    pub fn assert_exactly_once(&self, per_writer: u64) {
        for w in 0..self.count.len() {
            assert_eq!(
                self.count[w], per_writer,
                "writer {w}: messages lost or duplicated"
            );
            assert_eq!(
                self.sum[w],
                per_writer * (per_writer - 1) / 2,
                "writer {w}: wrong values"
            );
        }
    }
}

/// The `main` of a `harness = false` test binary that forks: runs `cases` in order on
/// the main thread (libtest would run them on threads, and a multi-threaded program
/// refuses to fork), each under `alarm(60)` (a watchdog thread would itself make the
/// program multi-threaded), only those whose name contains the value of the environment
/// variable `filter` if it is set; exits non-zero if one failed.
pub fn run_cases(filter: &str, cases: &[(&str, fn())]) {
    let only = std::env::var(filter).unwrap_or_default();
    let mut failed = Vec::new();
    for (name, case) in cases.iter().filter(|(name, _)| name.contains(&only)) {
        // SAFETY: alarm only arms a timer; its default action ends a hung program.
        unsafe { libc::alarm(60) };
        let outcome = std::panic::catch_unwind(case);
        // SAFETY: as above; 0 disarms it.
        unsafe { libc::alarm(0) };
        match outcome {
            Ok(()) => println!("ok     {name}"),
            Err(_) => {
                println!("FAILED {name}");
                failed.push(name);
            }
        }
    }
    if !failed.is_empty() {
        eprintln!("{} case(s) failed: {failed:?}", failed.len());
        std::process::exit(1);
    }
}

pub mod placement;
pub mod shared;

/// One `#[test]` per case of a suite, in a module of its own (the cases are functions of
/// the suite's module, under the same names): what a libtest placement's `cases!` does.
///
/// ```
/// fn adds() {
///     assert_eq!(1 + 1, 2);
/// }
/// csp_tests::test_per_case!(cases: adds);
/// ```
#[macro_export]
macro_rules! test_per_case {
    ($module:ident: $($case:ident),* $(,)?) => {
        mod $module {
            $(#[test]
            fn $case() {
                super::$case()
            })*
        }
    };
}

/// What a libtest file that runs suites on `placement` defines before including them:
/// `spawn`, `watchdog` and `share` of that placement, and `cases!`/`in_process_cases!`
/// emitting one `#[test]` per case.
///
/// ```
/// csp_tests::libtest_placement!(Threads);
///
/// fn a_party_writes() {
///     let (tx, rx) = share(csp::Channel::<u32>::new().one2one());
///     let writer = spawn(move || tx.write(1).unwrap());
///     assert_eq!(rx.read(), Ok(1));
///     writer.join().unwrap();
/// }
/// cases!(a_party_writes);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! libtest_placement {
    ($placement:ident) => {
        $crate::libtest_placement!(@define $placement, $);
    };
    (@define $placement:ident, $d:tt) => {
        $crate::placement_functions!($placement);

        /// One `#[test]` per case of the suite.
        #[allow(unused_macros)]
        macro_rules! cases {
            ($d($d case:ident),* $d(,)?) => {
                $crate::test_per_case!(cases: $d($d case),*);
            };
        }

        /// Cases whose ends cannot cross OS processes: in one process, they run too.
        #[allow(unused_macros)]
        macro_rules! in_process_cases {
            ($d($d case:ident),* $d(,)?) => {
                $crate::test_per_case!(in_process_cases: $d($d case),*);
            };
        }
    };
}

/// What the `harness = false` file that runs suites forked defines before including
/// them: `spawn`, `watchdog` and `share` of [`placement::Forked`], `cases!` emitting
/// `pub const CASES` and `in_process_cases!` emitting `pub const IN_PROCESS_ONLY` (listed,
/// not run), for [`placement::run_suite`].
///
/// ```
/// csp_tests::forked_placement!();
///
/// fn a_forked_party_writes() {
///     let (tx, rx) = share(csp::Channel::<u32>::new().one2one());
///     let writer = spawn(move || tx.write(1).unwrap());
///     assert_eq!(rx.read(), Ok(1));
///     writer.join().unwrap();
/// }
/// cases!(a_forked_party_writes);
///
/// fn main() {
///     assert_eq!(CASES.len(), 1);
///     // run_suite(&[Suite { cases: CASES, in_process_only: &[] }]) would run it.
/// }
/// ```
#[macro_export]
macro_rules! forked_placement {
    () => {
        $crate::forked_placement!(@define $);
    };
    (@define $d:tt) => {
        $crate::placement_functions!(Forked);

        /// The cases that run forked, by name.
        #[allow(unused_macros)]
        macro_rules! cases {
            ($d($d case:ident),* $d(,)?) => {
                pub const CASES: &[(&str, fn())] =
                    &[$d((stringify!($d case), $d case as fn())),*];
            };
        }

        /// The cases whose channel ends cannot cross OS processes: listed, not run.
        #[allow(unused_macros)]
        macro_rules! in_process_cases {
            ($d($d case:ident),* $d(,)?) => {
                pub const IN_PROCESS_ONLY: &[(&str, fn())] =
                    &[$d((stringify!($d case), $d case as fn())),*];
            };
        }
    };
}

/// `spawn`, `watchdog` and `share` of a placement, as free functions for a suite to
/// import from its including file (see [`libtest_placement!`]).
///
/// ```
/// csp_tests::placement_functions!(Threads);
/// # fn main() {
/// watchdog(60, "join", || spawn(|| ()).join().unwrap());
/// # }
/// ```
#[macro_export]
macro_rules! placement_functions {
    ($placement:ident) => {
        #[allow(dead_code)]
        fn spawn(f: impl FnOnce() + Send + 'static) -> $crate::placement::Party {
            <$crate::placement::$placement as $crate::placement::Placement>::spawn(f)
        }

        #[allow(dead_code)]
        fn watchdog<R: Send + 'static>(
            secs: u64,
            name: &str,
            f: impl FnOnce() -> R + Send + 'static,
        ) -> R {
            <$crate::placement::$placement as $crate::placement::Placement>::watchdog(secs, name, f)
        }

        #[allow(dead_code)]
        fn share<E: $crate::placement::ChannelEnds>(ends: E) -> E {
            <$crate::placement::$placement as $crate::placement::Placement>::share(ends)
        }

        #[allow(dead_code)]
        fn share_barrier(barrier: csp::Barrier) -> csp::Barrier {
            <$crate::placement::$placement as $crate::placement::Placement>::share_barrier(barrier)
        }
    };
}
