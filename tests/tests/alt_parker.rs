//! The channel-guard alternation suites with every blocking wait in a condvar parker of
//! the executor seam (see `channel_semantics_parker.rs`).

csp_tests::libtest_placement!(CondvarParked);

#[path = "suites/alt_guards.rs"]
mod guards;

#[path = "suites/alt_contention.rs"]
mod contention;

#[path = "suites/barrier.rs"]
mod barriers;
