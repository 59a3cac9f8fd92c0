//! The channel-guard alternation suites with every party in a forked OS process: guards on
//! channels whose ends sit in different processes choose as they do between threads.
//! A `harness = false` binary (see `channel_semantics_forked.rs`); takes libtest's filter
//! arguments.

csp_tests::forked_placement!();

#[path = "suites/alt_guards.rs"]
mod guards;

#[path = "suites/alt_contention.rs"]
mod contention;

#[path = "suites/barrier.rs"]
mod barriers;

fn main() -> std::process::ExitCode {
    use csp_tests::placement::{run_suite, Suite};
    run_suite(&[
        Suite {
            cases: guards::CASES,
            in_process_only: &[],
        },
        Suite {
            cases: contention::CASES,
            in_process_only: &[],
        },
        Suite {
            cases: barriers::CASES,
            in_process_only: &[],
        },
    ])
}
