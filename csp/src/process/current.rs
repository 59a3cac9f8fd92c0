//! What the runtime knows about the process running on this thread.
//!
//! Two things the channel layer and the process body report here:
//!
//! - **poison seen**: a read that meets poison ends a `for v in input` loop quietly; the
//!   process must still count as stopped by poison, and its other channels must then be
//!   poisoned so that poison travels through the network.
//! - **failing**: a `#[process]` body that returned an error sets it before the
//!   parameters it still holds are dropped, so those ends poison their channels instead
//!   of retiring them (as a panic's unwinding does). A reader then never takes a failed
//!   producer's truncated stream for a finished one. An end dropped while the body runs
//!   retires at once, so `drop(jobs); for r in &results { .. }` works as in Go.

use std::cell::Cell;

thread_local! {
    static SAW_POISON: Cell<bool> = const { Cell::new(false) };
    static FAILING: Cell<bool> = const { Cell::new(false) };
}

/// Called by the channel layer whenever an operation fails with `Poisoned`.
#[cfg_attr(loom, allow(dead_code))]
pub(crate) fn note_poisoned() {
    SAW_POISON.with(|c| c.set(true));
}

/// Marks the process on this thread as failing: ends dropped from now on poison.
pub(crate) fn set_failing() {
    FAILING.with(|c| c.set(true));
}

/// Whether an end dropped now belongs to a failing process.
#[cfg_attr(loom, allow(dead_code))]
pub(crate) fn is_failing() -> bool {
    FAILING.with(|c| c.get())
}

/// Runs `f` as a process body on this thread; also tells whether it met poison.
pub(crate) fn run_body<T>(f: impl FnOnce() -> T) -> (T, bool) {
    let outer_poison = SAW_POISON.with(|c| c.replace(false));
    let outer_failing = FAILING.with(|c| c.replace(false));
    let result = f();
    let saw_poison = SAW_POISON.with(|c| c.replace(outer_poison));
    FAILING.with(|c| c.set(outer_failing));
    (result, saw_poison)
}
