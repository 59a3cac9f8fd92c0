//! The channel-semantics suite with processes on OS threads.

use csp_tests::placement::{Placement, Threads};

fn spawn<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> std::thread::JoinHandle<T> {
    Threads::spawn(f)
}

fn watchdog<R: Send + 'static>(secs: u64, name: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    Threads::watchdog(secs, name, f)
}

#[path = "suites/channel_semantics.rs"]
mod suite;
