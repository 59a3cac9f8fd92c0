//! Helpers shared by the integration tests.

use std::sync::mpsc;
use std::time::Duration;

/// Runs `f` on its own thread and fails the test, naming it, if `f` has not finished
/// after `secs` seconds: a hang becomes a failure instead of a stuck CI run. The limit is
/// generous on purpose: it is a watchdog, not a speed assertion.
pub fn watchdog<R: Send + 'static>(
    secs: u64,
    name: &str,
    f: impl FnOnce() -> R + Send + 'static,
) -> R {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::Builder::new()
        .name(format!("watched:{name}"))
        .spawn(move || {
            let _ = tx.send(f());
        })
        .expect("spawn the watched thread");
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(r) => {
            let _ = worker.join();
            r
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{name}: still running after {secs} s (hang?)")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(payload) => std::panic::resume_unwind(payload),
            Ok(()) => panic!("{name}: the watched thread ended without a result"),
        },
    }
}

/// Sleeps a little: used to let another thread reach a blocking call before the test
/// goes on. Only the *order* of events is asserted afterwards, never a duration.
pub fn settle() {
    std::thread::sleep(Duration::from_millis(30));
}
