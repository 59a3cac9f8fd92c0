//! The channel-guard alternation and barrier suites with every party, and each case's
//! body, as a green process (see `channel_semantics_green.rs`).

csp_tests::libtest_placement!(Green);

#[path = "suites/alt_guards.rs"]
mod guards;

#[path = "suites/alt_contention.rs"]
mod contention;

#[path = "suites/barrier.rs"]
mod barriers;
