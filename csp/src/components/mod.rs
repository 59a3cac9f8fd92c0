//! Plug-and-play processes (JCSP's `plugNplay`, occam's legoland): each is a
//! `#[process]` function returning a [`Process`](crate::Process).
//!
//! Layer: components, above parallel. They may use every layer below (channels, alt,
//! processes, `Parallel`) and point their CSPm models at `topology::export::models`.
//!
//! They end cleanly: when their input is retired they retire their outputs; when a
//! downstream reader has retired they stop and retire their input; when a channel is
//! poisoned they stop, and (the poison rule, see the crate docs) every channel they hold
//! is poisoned, never retired, so an abort reaches the end of any chain of them.
//!
//! ```
//! use csp::components::{generate, map, collect};
//! use csp::{par, Channel};
//!
//! let (a_out, a_in) = Channel::<u32>::new().one2one();
//! let (b_out, b_in) = Channel::<u32>::new().one2one();
//! let (_, _, squares) = par!(
//!     generate(1..=4, a_out),
//!     map(a_in, b_out, |x| x * x),
//!     collect(b_in),
//! )?;
//! assert_eq!(squares, Some(vec![1, 4, 9, 16]));
//! # Ok::<(), csp::NetworkError>(())
//! ```

mod basic;
mod choice;
mod delta;
mod farm;
mod kv;

pub use basic::{collect, filter, generate, id, map, prefix, sink, succ, tail};
pub use choice::{merge, plex};
pub use delta::{delta, delta_par};
pub use farm::Farm;
pub use kv::{kv_server, KvClient, KvServer};

use crate::channel::{ChannelError, Output, RetiredSide};

/// Writes `v`; `Ok(false)` when every reader downstream has retired (time to stop
/// quietly), an error when the channel is poisoned.
pub(crate) fn forward<T>(out: &Output<T>, v: T) -> Result<bool, ChannelError> {
    match out.write(v) {
        Ok(()) => Ok(true),
        Err(e) => match e.error() {
            ChannelError::Retired {
                side: RetiredSide::Readers | RetiredSide::ThisEnd,
                ..
            } => Ok(false),
            _ => Err(e.into()),
        },
    }
}
