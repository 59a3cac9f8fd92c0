//! What the runtime knows about the process running on this thread.
//!
//! A read that meets poison ends a `for v in input` loop quietly; the process must still
//! count as stopped by poison, and its other channels must be poisoned when it ends, so
//! that poison travels through the network. The channel layer notes it here.

use std::cell::Cell;

thread_local! {
    static SAW_POISON: Cell<bool> = const { Cell::new(false) };
}

/// Called by the channel layer whenever an operation fails with `Poisoned`.
pub(crate) fn note_poisoned() {
    SAW_POISON.with(|c| c.set(true));
}

/// Runs `f` as the body of process `_name`; also tells whether it met poison.
pub(crate) fn with_process<T>(_name: &str, f: impl FnOnce() -> T) -> (T, bool) {
    let outer = SAW_POISON.with(|c| c.replace(false));
    let r = f();
    let saw = SAW_POISON.with(|c| c.replace(outer));
    (r, saw)
}
