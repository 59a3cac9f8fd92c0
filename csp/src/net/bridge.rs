//! Bridge processes: a net end pumped into an ordinary channel end, or out of one, so
//! that a channel from another program takes part in an [`Alt`](crate::Alt) or a
//! [`Parallel`](crate::Parallel) network as any channel does (the net ends do their own
//! I/O and cannot be alt guards themselves).
//!
//! Both keep the rendezvous end to end: a value is taken from one side only once the
//! other side took it (an extended rendezvous on the way), so a value neither side took
//! is never reported written. Poison and retirement cross in both directions: the
//! bridge ends, poisoning or retiring the other side as its own side was.
//!
//! ```
//! # let path = std::env::temp_dir().join(format!("csp-doc-bridge-{}.sock", std::process::id()));
//! use csp::net::{bridge, named};
//! use csp::{Channel, Parallel, Process};
//!
//! let from_other_program = named::listen::<u32>(&path)?;
//! let other_program = std::thread::spawn({
//!     let path = path.clone();
//!     move || -> Result<(), csp::BoxError> {
//!         let tx = named::connect::<u32>(&path)?;
//!         (1..=4).try_for_each(|i| tx.write(i))?;
//!         Ok(())
//!     }
//! });
//! let (tx, rx) = Channel::<u32>::new().one2one();
//! let results = Parallel::new()
//!     .add(bridge::pump_in("jobs-in", from_other_program, tx).map(|()| 0))
//!     .add(Process::with_ends("sum", rx, |rx| Ok(rx.iter().sum::<u32>())))
//!     .run()?;
//! assert_eq!(results[1], Some(10)); // retirement crossed: the sum's loop ended
//! other_program.join().unwrap()?;
//! # Ok::<(), csp::BoxError>(())
//! ```

use std::cell::Cell;

use super::peer::Taken;
use super::{NetInput, NetOutput};
use crate::channel::{ChannelError, Input, Output, Wire};
use crate::process::{BoxError, Process};

/// A process named `name` that reads `from` (another program's writer) and writes each
/// value to `to`, acking the remote writer only once `to`'s reader took the value.
/// Ends when the remote writer retires (retiring `to`) or poisons (poisoning `to`);
/// when `to` is poisoned or retired, the remote writer gets the same (with its value
/// back). A remote program that vanishes fails the bridge with an error naming it and
/// the place, and poisons `to`.
///
/// ```
/// # let path = std::env::temp_dir().join(format!("csp-doc-pump-in-{}.sock", std::process::id()));
/// use csp::net::{bridge, named};
/// use csp::{Channel, Parallel, Process};
///
/// let remote = named::listen::<u8>(&path)?;
/// let other_program = std::thread::spawn({
///     let path = path.clone();
///     move || -> Result<(), csp::BoxError> {
///         let tx = named::connect::<u8>(&path)?;
///         tx.write(1)?;
///         tx.poison(); // an abort crosses the bridge too
///         Ok(())
///     }
/// });
/// let (tx, rx) = Channel::<u8>::new().one2one();
/// let results = Parallel::new()
///     .add(bridge::pump_in("in", remote, tx).map(|()| 0))
///     .add(Process::with_ends("reader", rx, |rx| {
///         assert_eq!(rx.read()?, 1);
///         Ok(u8::from(rx.read().unwrap_err().is_poisoned()))
///     }))
///     .run()?;
/// assert_eq!(results, vec![None, None]); // both stopped by the poison
/// other_program.join().unwrap()?;
/// # Ok::<(), csp::BoxError>(())
/// ```
pub fn pump_in<T: Wire>(name: impl Into<String>, from: NetInput<T>, to: Output<T>) -> Process<()> {
    let name = name.into();
    let bridge = name.clone();
    Process::with_ends(name, to, move |to| loop {
        let local: Cell<Option<ChannelError>> = Cell::new(None);
        let read = from.take(None, |v| match to.write(v) {
            Ok(()) => Taken::Took(()),
            Err(e) => {
                let error = ChannelError::from(e);
                local.set(Some(error.clone()));
                Taken::Refused {
                    poison: error.is_poisoned(),
                    error,
                }
            }
        });
        match (read, local.take()) {
            (Ok(()), _) => {}
            // `to` refused: the remote writer was told the same; end as `to` did.
            (Err(e), Some(_)) if e.is_retired() => return Ok(()),
            (Err(e), Some(_)) => return Err(e.into()),
            (Err(e), None) => return end_as(&bridge, e, || to.retire(), || to.poison()),
        }
    })
}

/// A process named `name` that reads `from` and writes each value to `to` (another
/// program's reader). `from`'s writer is released only once the remote reader took the
/// value; if it cannot be delivered (the remote end poisoned, retired or vanished),
/// that writer's `write` fails (`Poisoned`, the value gone with the bridge) rather
/// than return `Ok`. When `from` retires or is poisoned, so is the remote end.
///
/// ```
/// # let path = std::env::temp_dir().join(format!("csp-doc-pump-out-{}.sock", std::process::id()));
/// use csp::net::{bridge, named};
/// use csp::{Channel, Parallel, Process};
///
/// let to_other_program = named::Named::<String>::at(&path).listen_writer()?;
/// let other_program = std::thread::spawn({
///     let path = path.clone();
///     move || named::connect_reader::<String>(&path).map(|rx| rx.iter().collect::<Vec<_>>())
/// });
/// let (tx, rx) = Channel::<String>::new().one2one();
/// Parallel::new()
///     .add(Process::with_ends("greeter", tx, |tx| Ok(tx.write("hi".to_string())?)))
///     .add(bridge::pump_out("greetings-out", rx, to_other_program))
///     .run()?;
/// assert_eq!(other_program.join().unwrap()?, ["hi"]);
/// # Ok::<(), csp::BoxError>(())
/// ```
pub fn pump_out<T: Wire>(name: impl Into<String>, from: Input<T>, to: NetOutput<T>) -> Process<()> {
    let name = name.into();
    let bridge = name.clone();
    Process::with_ends(name, from, move |from| loop {
        let sent = from.read_with_verdict(|v| match to.write(v) {
            Ok(()) => (None, true),
            Err(e) => (Some(ChannelError::from(e)), false),
        });
        match sent {
            Ok(None) => {}
            // The remote end refused or vanished; `from` is poisoned by the verdict.
            Ok(Some(remote)) => {
                return match remote {
                    ChannelError::Transport { .. } => Err(bridge_error(&bridge, &remote)),
                    e if e.is_retired() => Ok(()),
                    e => Err(e.into()),
                }
            }
            Err(e) => return end_as(&bridge, e, || to.retire(), || to.poison()),
        }
    })
}

/// Ends a bridge whose side failed with `e`: the other side is retired or poisoned
/// to match, and a broken connection fails the bridge naming it.
fn end_as(
    bridge: &str,
    e: ChannelError,
    retire: impl FnOnce(),
    poison: impl FnOnce(),
) -> Result<(), BoxError> {
    if e.is_retired() {
        retire();
        return Ok(());
    }
    poison();
    match e {
        ChannelError::Transport { .. } => Err(bridge_error(bridge, &e)),
        e => Err(e.into()),
    }
}

fn bridge_error(bridge: &str, e: &ChannelError) -> BoxError {
    format!("bridge '{bridge}': {e}").into()
}
