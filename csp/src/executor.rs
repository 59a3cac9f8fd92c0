//! The seam executors plug into: how a process waiting on a channel blocks and is woken.
//!
//! Processes run on OS threads unless their executor installs a [`Parker`] (a green
//! executor's coroutine scheduler, or a test executor) with [`with_parker`]; channel and
//! alt code do not change. See [`Parker`] for a complete example.

pub use crate::park::parker::{with_parker, Parker};
