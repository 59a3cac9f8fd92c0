//! Green placements: parties run as green processes (`csp::Placement::Green`), each in a
//! network of its own with one green worker, so a party waits in the green executor's
//! parker (its coroutine suspends, a timer wakes it, a partner on another worker or on
//! a plain thread wakes it through the worker's inbox).

use std::sync::{Arc, Mutex, PoisonError};

use csp::{Failure, NetworkError, Parallel, ScopedProcess};

use super::{ChannelEnds, Kind, Party, Placement};

/// Every party, and the test body itself, is a green process.
///
/// ```
/// use csp_tests::placement::{Green, Placement};
/// let (tx, rx) = csp::Channel::<u32>::new().one2one();
/// let writer = Green::spawn(move || tx.write(7).unwrap());
/// assert_eq!(Green::watchdog(60, "read", move || rx.read()), Ok(7));
/// writer.join().unwrap();
/// assert!(Green::spawn(|| panic!("on purpose")).join().is_err());
/// ```
pub struct Green;

impl Placement for Green {
    fn spawn(f: impl FnOnce() + Send + 'static) -> Party {
        Party(Kind::Thread(std::thread::spawn(move || run_green(f))))
    }

    fn watchdog<R: Send + 'static>(
        secs: u64,
        name: &str,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> R {
        crate::watchdog(secs, name, move || run_green(f))
    }

    fn share<E: ChannelEnds>(ends: E) -> E {
        ends
    }
}

/// Parties are green processes; the test body runs on a plain OS thread: every channel
/// of a case joins green processes and a thread.
///
/// ```
/// use csp_tests::placement::{GreenParties, Placement};
/// let (tx, rx) = csp::Channel::<u32>::new().one2one();
/// let writer = GreenParties::spawn(move || tx.write(7).unwrap());
/// assert_eq!(rx.read(), Ok(7));
/// writer.join().unwrap();
/// ```
pub struct GreenParties;

impl Placement for GreenParties {
    fn spawn(f: impl FnOnce() + Send + 'static) -> Party {
        Green::spawn(f)
    }

    fn watchdog<R: Send + 'static>(
        secs: u64,
        name: &str,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> R {
        crate::watchdog(secs, name, f)
    }

    fn share<E: ChannelEnds>(ends: E) -> E {
        ends
    }
}

/// Runs `f` as the one green process of a network, and gives its value back; a panic
/// in it panics here with its message. The value travels beside the network, so a
/// body that met poison (and so "stopped", as the poison rule says) still gives it.
fn run_green<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    let slot: Arc<Mutex<Option<R>>> = Arc::new(Mutex::new(None));
    let mine = slot.clone();
    let party = ScopedProcess::from_fn("party", move || {
        let value = f();
        *mine.lock().unwrap_or_else(PoisonError::into_inner) = Some(value);
    });
    let ran = Parallel::new()
        .add(party)
        .green()
        .green_workers(1)
        // Its partners are outside this network: the deadlock check cannot see them.
        .detect_deadlock(false)
        .run();
    match ran {
        Ok(_) => {}
        Err(NetworkError::Failed(failures)) => match failures.first() {
            Some(Failure::Panicked { message, .. }) => panic!("{message}"),
            _ => panic!("the green party failed: {failures:?}"),
        },
        Err(e) => panic!("the green party's network failed: {e}"),
    }
    let value = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
    value.expect("the green party returned")
}
