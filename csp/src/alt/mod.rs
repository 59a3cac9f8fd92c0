//! Alternation: wait for whichever of several events can happen first, and commit to
//! exactly one (occam's ALT, JCSP's `Alternative`, Go's `select`).
//!
//! Write one with the [`alt!`](crate::alt!) macro (Go-style arms whose bodies run in your
//! code; the guards live on the stack, so it is the fast form) or build an [`Alt`] from
//! guards, each with a handler that runs if it is chosen:
//!
//! - **input** guards (`input`): a value can be read;
//! - **output** guards (`output`): a value can be written — on every channel kind, and
//!   with the reader alting too (JCSP allows output guards only on symmetric channels);
//! - a **timeout** (`timeout`, `deadline`): chosen if nothing else became ready in time;
//! - a **skip** (`skip`): chosen at once if nothing else is ready (Go's `default`).
//!
//! Every guard has an `_if` form with a boolean precondition (occam's `cond & guard`);
//! a disabled guard is never chosen. Then one of:
//!
//! - [`Alt::pri_select`]: the first ready guard in the order they were added;
//! - [`Alt::fair_select`]: the same, but starting after the guard chosen last time (kept
//!   in a [`Fair`]), so no ready guard starves;
//! - [`Alt::select`]: an arbitrary ready guard (a random starting point).
//!
//! A skip or a timeout is chosen only when no channel guard is ready — never while an
//! input is ready, whatever their order.
//!
//! ```
//! use std::time::Duration;
//! use csp::{Alt, Channel};
//!
//! let (left_tx, left) = Channel::<u32>::new().fifo(1).one2one();
//! let (_right_tx, right) = Channel::<String>::new().one2one();
//! left_tx.write(7)?;
//!
//! enum Event { Left(u32), Right(String), Quiet }
//! let event = Alt::new()
//!     .input(&left, Event::Left)
//!     .input(&right, Event::Right)
//!     .timeout(Duration::from_millis(50), || Event::Quiet)
//!     .pri_select()?;
//! assert!(matches!(event, Event::Left(7)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The handlers are closures that produce the alt's result; to act on shared state, let
//! them return a value (an enum as above) and `match` on it afterwards.
//!
//! How it works: the alt polls each guard; if none is ready it registers one waiter (one
//! context, see `park`) on every guard's channel and parks once. Whoever completes it —
//! a partner on one of the channels, a poisoner, its own deadline — does so by the single
//! CAS of the wait-and-commit protocol, so exactly one guard is ever chosen, even with
//! both ends of a channel alting at once. See `channel::select` for the channel's part.

pub(crate) mod barrier;
mod builder;
mod engine;
mod error;
mod fair;
mod guard;
mod macros;
mod timer;

pub use barrier::{Barrier, Enrolled};
pub use builder::Alt;
pub use error::AltError;
pub use fair::Fair;
pub use timer::Timer;

#[doc(hidden)]
#[path = "macro_support.rs"]
pub mod __private;
