//! The channel suites with processes on OS threads.

csp_tests::libtest_placement!(Threads);

#[path = "suites/channel_semantics.rs"]
mod suite;

#[path = "suites/channel_lifecycle.rs"]
mod lifecycle;

#[path = "suites/channel_stress.rs"]
mod stress;
