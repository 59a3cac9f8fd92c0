//! The channel semantics suite with the parties as green processes and each case's body
//! on a plain OS thread: channels between green processes and threads.

csp_tests::libtest_placement!(GreenParties);

#[path = "suites/channel_semantics.rs"]
mod suite;

#[path = "suites/channel_lifecycle.rs"]
mod lifecycle;
