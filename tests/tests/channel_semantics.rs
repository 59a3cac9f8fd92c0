//! The channel-semantics suite with processes on OS threads.

use csp_tests::placement::{ChannelEnds, Party, Placement, Threads};

fn spawn(f: impl FnOnce() + Send + 'static) -> Party {
    Threads::spawn(f)
}

fn watchdog<R: Send + 'static>(secs: u64, name: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    Threads::watchdog(secs, name, f)
}

fn share<E: ChannelEnds>(ends: E) -> E {
    Threads::share(ends)
}

/// One `#[test]` per case of the suite.
macro_rules! cases {
    ($($case:ident),* $(,)?) => { csp_tests::test_per_case!(cases: $($case),*); };
}

/// Threads share one process: the cases that move ends over channels run here too.
macro_rules! in_process_cases {
    ($($case:ident),* $(,)?) => { csp_tests::test_per_case!(in_process_cases: $($case),*); };
}

#[path = "suites/channel_semantics.rs"]
mod suite;

#[path = "suites/channel_lifecycle.rs"]
mod lifecycle;

#[path = "suites/channel_stress.rs"]
mod stress;
