//! [`par!`](crate::par): processes of different result types, run in parallel.
//!
//! Layer: parallel.

use std::sync::Mutex;

use super::{NetworkError, Parallel};
use crate::process::ScopedProcess;

/// Processes of different result types, run in parallel: the results come back as a
/// tuple (each `None` if that process stopped because of poison). The network is
/// validated as by [`Parallel::run`]; if the caller holds ends of its channels, use a
/// `Parallel` with [`boundary`](Parallel::boundary) instead.
///
/// ```
/// use csp::{par, Channel, Process};
/// let (tx, rx) = Channel::<String>::new().one2one();
/// let (sent, text) = par!(
///     Process::with_ends("send", tx, |tx| {
///         tx.write("hello".to_string())?;
///         Ok(1_u8)
///     }),
///     Process::with_ends("receive", rx, |rx| Ok(rx.read()?)),
/// )?;
/// assert_eq!((sent, text.as_deref()), (Some(1), Some("hello")));
/// # Ok::<(), csp::NetworkError>(())
/// ```
///
/// A process placed in a forked OS process ([`forked`](crate::ScopedProcess::forked),
/// [`in_group`](crate::ScopedProcess::in_group)) takes part as in a `Parallel`; its
/// result comes back to the tuple:
///
/// ```
/// use csp::{par, Channel, Process};
/// let (tx, rx) = Channel::<u64>::new().named("numbers").fifo(4).one2one();
/// let (pid, sum) = par!(
///     Process::with_ends("numbers", tx, |tx| {
///         for i in 1..=100_u64 {
///             tx.write(i)?;
///         }
///         Ok(std::process::id())
///     })
///     .forked(),
///     Process::with_ends("sum", rx, |rx| Ok(rx.iter().sum::<u64>())),
/// )?;
/// assert_ne!(pid, Some(std::process::id()));
/// assert_eq!(sum, Some(5050));
/// # Ok::<(), csp::NetworkError>(())
/// ```
#[macro_export]
macro_rules! par {
    ($($p:expr),+ $(,)?) => {
        $crate::parallel::ParTuple::run_par(($($p,)+))
    };
}

/// Tuples of processes that [`par!`](crate::par) can run.
///
/// ```
/// use csp::parallel::ParTuple;
/// use csp::Process;
/// // What `par!` calls: a tuple of processes runs as one network.
/// let procs = (Process::from_fn("n", || 1_u8), Process::from_fn("s", || "one"));
/// assert_eq!(procs.run_par()?, (Some(1), Some("one")));
/// # Ok::<(), csp::NetworkError>(())
/// ```
pub trait ParTuple {
    /// The tuple of results.
    type Output;
    /// Runs the processes in parallel.
    ///
    /// ```
    /// use csp::parallel::ParTuple;
    /// use csp::{Channel, Process};
    /// let (tx, rx) = Channel::<u32>::new().one2one();
    /// let send = Process::with_ends("send", tx, |tx| Ok(tx.write(7)?));
    /// let recv = Process::with_ends("recv", rx, |rx| Ok(rx.read()? * 2));
    /// let (sent, doubled) = (send, recv).run_par()?;
    /// assert_eq!((sent, doubled), (Some(()), Some(14)));
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    fn run_par(self) -> Result<Self::Output, NetworkError>;
}

fn take<R>(slot: Mutex<Option<R>>) -> Option<R> {
    slot.into_inner().unwrap_or_else(|e| e.into_inner())
}

macro_rules! par_tuple {
    ($($r:ident $p:ident $s:ident),+) => {
        impl<'a, $($r: Send + 'a),+> ParTuple for ($(ScopedProcess<'a, $r>,)+) {
            type Output = ($(Option<$r>,)+);
            fn run_par(self) -> Result<Self::Output, NetworkError> {
                let ($($p,)+) = self;
                $( let $s = Mutex::new(None); )+
                {
                    let mut par = Parallel::new();
                    $(
                        let slot = &$s;
                        par.push($p.map(move |r| {
                            *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                        }));
                    )+
                    par.run()?;
                }
                Ok(($(take($s),)+))
            }
        }
    };
}
par_tuple!(A a sa);
par_tuple!(A a sa, B b sb);
par_tuple!(A a sa, B b sb, C c sc);
par_tuple!(A a sa, B b sb, C c sc, D d sd);
par_tuple!(A a sa, B b sb, C c sc, D d sd, E e se);
par_tuple!(A a sa, B b sb, C c sc, D d sd, E e se, F f sf);
par_tuple!(A a sa, B b sb, C c sc, D d sd, E e se, F f sf, G g sg);
par_tuple!(A a sa, B b sb, C c sc, D d sd, E e se, F f sf, G g sg, H h sh);
