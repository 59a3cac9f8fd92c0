//! Running a process's body: the poison rule and how a process ended.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use super::{placement, Failure, RecordedEnd, ScopedProcess};
use crate::alt::barrier::Party;
use crate::channel::ChannelError;
use crate::park::process::{self, ProcessContext};

/// How one process ended.
pub(crate) enum Exit<R> {
    /// Returned a value without ever meeting poison.
    Done(R),
    /// Met poison (and so ended with its channels poisoned): not a failure.
    Stopped,
    /// Panicked or returned an error.
    Failed(Failure),
}

/// The part of a process that a worker thread executes.
pub(crate) struct Runnable<'a, R> {
    pub(super) name: String,
    pub(super) ends: Vec<RecordedEnd>,
    /// The barrier parties the process holds: a forked child adopts them before it
    /// runs the process (see `alt::barrier::Party`).
    pub(crate) parties: Vec<Party>,
    pub(super) body: placement::LocalBody<'a, R>,
}

impl<R> Runnable<'_, R> {
    /// Runs the body on the calling thread as the current process, catching panics.
    ///
    /// The poison rule: a process that observed poison (an operation failed with it, an
    /// iteration ended on it, an alt met it) is `Stopped` whatever its body returned, and
    /// every channel it holds is poisoned, never retired (the ends it dropped on the way
    /// already poisoned theirs, see `park::process`). A process that fails has its
    /// channels poisoned too, so the network ends.
    pub(crate) fn execute(self) -> Exit<R> {
        self.execute_in(ProcessContext::new())
    }

    /// [`execute`](Self::execute) with a context the caller keeps, to see what the
    /// process waits on while it runs.
    pub(crate) fn execute_in(self, context: Arc<ProcessContext>) -> Exit<R> {
        let Runnable {
            name, ends, body, ..
        } = self;
        let result = {
            let _current = process::enter(context.clone());
            panic::catch_unwind(AssertUnwindSafe(body))
        };
        let exit = match result {
            Ok(_) if context.saw_poison() => Exit::Stopped,
            Ok(Ok(r)) => Exit::Done(r),
            Ok(Err(e)) if caused_by_poison(&*e) => Exit::Stopped,
            Ok(Err(e)) => Exit::Failed(Failure::Error {
                process: name,
                error: e,
            }),
            Err(payload) => Exit::Failed(Failure::Panicked {
                process: name,
                message: panic_message(&*payload),
            }),
        };
        if !matches!(exit, Exit::Done(_)) {
            ScopedProcess::<R>::poison_ends(&ends);
        }
        exit
    }
}

/// Whether `e`, or an error in its source chain, is a channel's `Poisoned` (a failed
/// write's `WriteError` has its `ChannelError` as source).
fn caused_by_poison(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(ChannelError::Poisoned { .. }) = err.downcast_ref::<ChannelError>() {
            return true;
        }
        cur = err.source();
    }
    false
}

pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_string()
    }
}
