//! The channel suites with every party in a forked OS process: a channel whose
//! ends sit in different processes keeps exactly the semantics it has between threads.
//! A `harness = false` binary (libtest's threads would forbid forking): its main runs the
//! cases one after another on the main thread. Takes libtest's filter arguments.

csp_tests::forked_placement!();

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
