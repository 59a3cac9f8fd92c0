//! Barriers, plain and as alt guards: the barrier suite (`suites/barrier.rs`) on OS
//! threads (`alt_forked.rs` runs it with the parties in forked OS processes, and
//! `alt_parker.rs` with the condvar parker).

csp_tests::libtest_placement!(Threads);

#[path = "suites/barrier.rs"]
mod suite;
