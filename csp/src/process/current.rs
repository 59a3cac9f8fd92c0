//! What the runtime knows about the process running on this thread.
//!
//! Two things the channel layer reports here:
//!
//! - **poison seen**: a read that meets poison ends a `for v in input` loop quietly; the
//!   process must still count as stopped by poison, and its other channels must then be
//!   poisoned so that poison travels through the network.
//! - **ends dropped**: an end dropped by a running process is not retired at once but
//!   at the process's next channel operation, or when it ends. When it ends, the runtime
//!   knows *how*: a process that failed or was stopped by poison has its channels
//!   poisoned *before* its dropped ends retire, so a peer never mistakes a crashed
//!   producer's stream for a finished one. Flushing at the next operation keeps the
//!   everyday pattern `drop(jobs); for r in &results { .. }` working.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use crate::channel::{ChannelInfo, EndId, Side};

/// An end dropped by the running process, not yet retired.
pub(crate) struct DroppedEnd {
    channel: Arc<dyn ChannelInfo>,
    side: Side,
    end: EndId,
}

thread_local! {
    static SAW_POISON: Cell<bool> = const { Cell::new(false) };
    /// `Some` while a process body runs on this thread.
    static DROPPED: RefCell<Option<Vec<DroppedEnd>>> = const { RefCell::new(None) };
}

/// Called by the channel layer whenever an operation fails with `Poisoned`.
pub(crate) fn note_poisoned() {
    SAW_POISON.with(|c| c.set(true));
}

/// Defers the retirement of a dropped end if a process runs on this thread; otherwise
/// retires it now.
pub(crate) fn retire_dropped(channel: Arc<dyn ChannelInfo>, side: Side, end: EndId) {
    let dropped = DroppedEnd { channel, side, end };
    let rest = DROPPED.with(|d| match d.borrow_mut().as_mut() {
        Some(list) => {
            list.push(dropped);
            None
        }
        None => Some(dropped),
    });
    if let Some(d) = rest {
        d.channel.retire_end(d.side, d.end);
    }
}

/// Retires the ends the running process has dropped so far: called before each of its
/// channel operations, so what it dropped is visible before anything it does next.
#[inline]
pub(crate) fn flush_dropped() {
    let pending = DROPPED.with(|d| match d.borrow_mut().as_mut() {
        Some(list) if !list.is_empty() => std::mem::take(list),
        _ => Vec::new(),
    });
    for d in pending {
        d.channel.retire_end(d.side, d.end);
    }
}

/// What a process body left behind: whether it met poison, and the ends it dropped
/// that are still to be retired (or poisoned).
pub(crate) struct BodyEnd {
    pub(crate) saw_poison: bool,
    dropped: Vec<DroppedEnd>,
}

impl BodyEnd {
    /// Settles the dropped ends: poisoned first if the process failed or stopped, then
    /// retired (their count of open ends must still go down).
    pub(crate) fn settle_dropped(self, poison: bool) {
        let dropped = self.dropped;
        if poison {
            for d in &dropped {
                d.channel.poison_channel();
            }
        }
        for d in dropped {
            d.channel.retire_end(d.side, d.end);
        }
    }
}

/// Runs `f` as a process body on this thread.
pub(crate) fn run_body<T>(f: impl FnOnce() -> T) -> (T, BodyEnd) {
    let outer_poison = SAW_POISON.with(|c| c.replace(false));
    let outer_dropped = DROPPED.with(|d| d.replace(Some(Vec::new())));
    let result = f();
    let saw_poison = SAW_POISON.with(|c| c.replace(outer_poison));
    let dropped = DROPPED
        .with(|d| d.replace(outer_dropped))
        .unwrap_or_default();
    (
        result,
        BodyEnd {
            saw_poison,
            dropped,
        },
    )
}
