//! # csp — process networks with typed channels
//!
//! (Tutorial: see the sections below.)

#![warn(missing_docs)]

extern crate self as csp;

pub mod channel;
mod error;
pub mod parallel;
mod park;
pub mod process;
mod sync;

pub use channel::{
    Channel, ChannelError, Input, Kind, Output, Policy, SharedInput, SharedOutput, WriteError,
};
// TEMP-MACROS pub use csp_macros::{process, Ends};
pub use error::{BoxError, Failure, NetworkError};
pub use parallel::{spawn, Parallel, Sequence, Spawned};
pub use process::{Process, ScopedProcess};
