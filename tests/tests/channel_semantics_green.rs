//! The channel suites with every party, and each case's body, as a green process
//! (`Placement::Green`): every wait suspends a coroutine in the green executor's parker,
//! every timeout is a worker's timer, every wake crosses from one green worker to
//! another.

csp_tests::libtest_placement!(Green);

#[path = "suites/channel_semantics.rs"]
mod suite;

#[path = "suites/channel_lifecycle.rs"]
mod lifecycle;

#[path = "suites/channel_stress.rs"]
mod stress;
