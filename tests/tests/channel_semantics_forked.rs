//! The channel-semantics suite with every party in a forked OS process: a channel whose
//! ends sit in different processes keeps exactly the semantics it has between threads.
//! A `harness = false` binary (libtest's threads would forbid forking): its main runs the
//! cases one after another on the main thread. Takes libtest's filter arguments.

use csp_tests::placement::{ChannelEnds, Forked, Party, Placement};

fn spawn(f: impl FnOnce() + Send + 'static) -> Party {
    Forked::spawn(f)
}

fn watchdog<R: Send + 'static>(secs: u64, name: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    Forked::watchdog(secs, name, f)
}

fn share<E: ChannelEnds>(ends: E) -> E {
    Forked::share(ends)
}

/// The cases that run forked, by name.
macro_rules! cases {
    ($($case:ident),* $(,)?) => {
        pub const CASES: &[(&str, fn())] = &[$((stringify!($case), $case as fn())),*];
    };
}

/// The cases whose channel ends cannot cross OS processes: listed, not run.
macro_rules! in_process_cases {
    ($($case:ident),* $(,)?) => {
        pub const IN_PROCESS_ONLY: &[(&str, fn())] = &[$((stringify!($case), $case as fn())),*];
    };
}

#[path = "suites/channel_semantics.rs"]
mod suite;

#[path = "suites/channel_lifecycle.rs"]
mod lifecycle;

#[path = "suites/channel_stress.rs"]
mod stress;

fn main() -> std::process::ExitCode {
    use csp_tests::placement::{run_suite, Suite};
    run_suite(&[
        Suite {
            cases: suite::CASES,
            in_process_only: suite::IN_PROCESS_ONLY,
        },
        Suite {
            cases: lifecycle::CASES,
            in_process_only: &[],
        },
        Suite {
            cases: stress::CASES,
            in_process_only: &[],
        },
    ])
}
