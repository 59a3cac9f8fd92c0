//! Signals as a channel: Python's `signal.signal(SIGUSR1, handler)`, in CSP form.
//!
//! In Python a handler runs *in the middle of* whatever the program was doing, so it
//! may only set a flag or write to a pipe, and the main loop must look at that:
//!
//! ```python
//! signal.signal(signal.SIGUSR1, lambda s, f: report_status())
//! signal.signal(signal.SIGTERM, lambda s, f: stop.set())
//! while not stop.is_set():
//!     work()
//! ```
//!
//! Here [`signals`] gives a process (the *pump*) and an [`Input<Signal>`]. Put the
//! pump in the network; each signal sent to the OS process the pump runs in then
//! arrives on the input as a value, read like any other message — in an [`Alt`]
//! beside the process's work, so "report status" and "shut down" are just two more
//! guards, handled between two pieces of work, never in the middle of one.
//!
//! ```
//! use csp::signals::{signals_armed, SIGTERM, SIGUSR1};
//! use csp::{Alt, Channel, Parallel, Process};
//!
//! let (armed_tx, armed) = Channel::<u32>::new().one2one();
//! let (pump, sigs) = signals_armed(&[SIGUSR1, SIGTERM], armed_tx)?;
//! let worker = Process::with_ends("worker", (sigs, armed), |(sigs, armed)| {
//!     let pid = armed.read()?; // the handlers are installed: send ourselves a signal
//!     SIGUSR1.send_to(pid)?;
//!     let mut log = Vec::new();
//!     loop {
//!         let event = Alt::new().input(&sigs, |s| s).skip(|| csp::signals::Signal::ZERO).pri_select()?;
//!         match event {
//!             SIGUSR1 => {
//!                 log.push("status");
//!                 SIGTERM.send_to(pid)?; // (a real program gets this one from outside)
//!             }
//!             SIGTERM => break,
//!             _ => {} // no signal: a piece of work would go here
//!         }
//!     }
//!     Ok(log)
//! });
//! let results = Parallel::new().add(pump.map(|()| Vec::new())).add(worker).run()?;
//! assert_eq!(results[1], Some(vec!["status"]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **Where the handlers live.** The pump installs them (with `signal-hook`) when it
//! starts, in the OS process it runs in, and removes them when it ends. No thread is
//! created: the pump is an ordinary process of the network, so a later forked
//! [`Parallel`](crate::Parallel) still finds the program single-threaded. A signal
//! sent before the pump started has its usual effect (SIGTERM ends the program): use
//! [`signals_armed`] to learn when the handlers are in place, and the pid they serve.
//!
//! **Forked networks.** A pump placed [`.forked()`](crate::ScopedProcess::forked)
//! receives the signals sent to its own child's pid (the pid `signals_armed`
//! announces); the signals go to the channel, which crosses to wherever the reader is.
//! A signal sent to the parent is not the pump's then: it has the parent's own
//! disposition (SIGTERM kills the parent, and the children die with it). To handle
//! the signals sent to the program, run the pump on a thread of the parent (the
//! default placement), whatever the placement of its reader.
//!
//! **Order and counting.** Each signal the pump's handler sees becomes one value, in the
//! order the handler ran, and a slow reader loses none of them (up to 64 Ki signals
//! wait in the pump's pipe; beyond that, new ones are dropped). What the kernel does
//! before the handler runs is the OS's: it coalesces *standard* signals (while one of
//! a kind is pending, sent but not yet handled, more of that kind are discarded, so a
//! burst of `kill`s may arrive as fewer values); when several kinds are pending at
//! once it hands out the lowest-numbered first; and in a program with several threads,
//! two signals sent back to back may be handled on two threads at once, in either
//! order. So: signals sent one at a time, each after the previous one was read, all
//! arrive, in order. Real-time signals ([`Signal::rt`]) are queued, not coalesced: a
//! burst of them arrives whole, though not in order across kinds.
//!
//! Several pumps may handle the same signal (in different parts of a program): each
//! receives every one of them.
//!
//! **Ending.** The pump ends when its reader retires (or is dropped) or the channel is
//! poisoned, looking at least every 50 ms; it then unregisters its actions. A signal
//! that no pump of the OS process handles any more has its disposition of before the
//! first pump again: the default effect (SIGTERM ends the program), or ignored, or the
//! program's own handler; a new pump for it works as the first did. (Actions that
//! other code registered with `signal-hook` for the same signal do not run while no
//! pump handles it.)
//!
//! Linux only, like forked processes.

mod disposition;
mod pump;

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::channel::{Channel, Input, Output};
use crate::process::Process;

#[cfg(doc)]
use crate::Alt;

/// A signal number, as a value that travels on channels (also between OS processes).
///
/// ```
/// use csp::signals::{Signal, SIGTERM};
/// assert_eq!(SIGTERM.number(), 15);
/// assert_eq!(SIGTERM.name(), "SIGTERM");
/// assert_eq!(Signal::rt(1).unwrap().name(), "SIGRTMIN+1");
/// assert_eq!(format!("{SIGTERM}"), "SIGTERM");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Signal(i32);

macro_rules! signal_consts {
    ($($name:ident: $doc:literal),* $(,)?) => {
        $(
            #[doc = $doc]
            ///
            /// ```
            #[doc = concat!("assert_eq!(csp::signals::", stringify!($name), ".number(), libc::", stringify!($name), ");")]
            /// ```
            pub const $name: Signal = Signal(libc::$name);
        )*
    };
}

signal_consts! {
    SIGHUP: "Hang-up: a daemon's \"reload your configuration\".",
    SIGINT: "Interrupt: Ctrl-C.",
    SIGQUIT: "Quit: Ctrl-\\.",
    SIGUSR1: "User-defined signal 1 (say, \"report your status\").",
    SIGUSR2: "User-defined signal 2.",
    SIGPIPE: "Write to a pipe with no reader.",
    SIGALRM: "Timer expired (`alarm`).",
    SIGTERM: "Terminate: the polite request to shut down.",
    SIGCHLD: "A child stopped or ended.",
    SIGCONT: "Continue after a stop.",
    SIGTSTP: "Stop from the terminal: Ctrl-Z.",
    SIGWINCH: "The terminal's window changed size.",
}

impl Signal {
    /// No signal: number 0, which `kill` uses to test that a process exists. Handy as
    /// the "nothing happened" value of an alt's skip or timeout guard; the pump never
    /// sends it.
    ///
    /// ```
    /// assert_eq!(csp::signals::Signal::ZERO.number(), 0);
    /// ```
    pub const ZERO: Signal = Signal(0);

    /// The signal with this number, if the OS has it (1 to `SIGRTMAX`).
    ///
    /// ```
    /// use csp::signals::{Signal, SIGUSR1};
    /// assert_eq!(Signal::from_number(libc::SIGUSR1), Some(SIGUSR1));
    /// assert_eq!(Signal::from_number(1000), None);
    /// ```
    pub fn from_number(number: i32) -> Option<Signal> {
        (1..=libc::SIGRTMAX())
            .contains(&number)
            .then_some(Signal(number))
    }

    /// The real-time signal `SIGRTMIN + n`, if there is one. Real-time signals are
    /// queued by the kernel: a burst of them is never coalesced.
    ///
    /// ```
    /// let first = csp::signals::Signal::rt(0).unwrap();
    /// assert_eq!(first.number(), libc::SIGRTMIN());
    /// assert!(csp::signals::Signal::rt(1000).is_none());
    /// ```
    pub fn rt(n: i32) -> Option<Signal> {
        let number = libc::SIGRTMIN().checked_add(n)?;
        (n >= 0 && number <= libc::SIGRTMAX()).then_some(Signal(number))
    }

    /// The signal's number.
    ///
    /// ```
    /// assert_eq!(csp::signals::SIGUSR1.number(), libc::SIGUSR1);
    /// ```
    pub fn number(self) -> i32 {
        self.0
    }

    /// The signal's name: `SIGTERM`, `SIGRTMIN+2`, or `signal 0`.
    ///
    /// ```
    /// assert_eq!(csp::signals::SIGHUP.name(), "SIGHUP");
    /// ```
    pub fn name(self) -> String {
        if let Ok(s) = nix::sys::signal::Signal::try_from(self.0) {
            return s.as_str().to_string();
        }
        match self.0.checked_sub(libc::SIGRTMIN()) {
            Some(n) if n >= 0 && self.0 <= libc::SIGRTMAX() => format!("SIGRTMIN+{n}"),
            _ => format!("signal {}", self.0),
        }
    }

    /// Sends this signal to OS process `pid` (`kill(pid, signal)`): the whole
    /// process, whichever of its threads handles it.
    ///
    /// ```
    /// // Signal 0 only checks that the process exists.
    /// csp::signals::Signal::ZERO.send_to(std::process::id())?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn send_to(self, pid: u32) -> std::io::Result<()> {
        let pid = i32::try_from(pid).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "pid out of range")
        })?;
        // SAFETY: `kill` has no memory effects in this process beyond what the signal's
        // disposition does, which is the point.
        match unsafe { libc::kill(pid, self.0) } {
            0 => Ok(()),
            _ => Err(std::io::Error::last_os_error()),
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// Why a signal pump could not be made or could not install its handlers.
///
/// ```
/// use csp::signals::{signals, Signal, SignalError};
/// let kill = Signal::from_number(libc::SIGKILL).unwrap();
/// let Err(e) = signals(&[kill]) else { panic!("SIGKILL cannot be caught") };
/// assert!(matches!(e, SignalError::Forbidden { .. }));
/// assert_eq!(e.to_string(), "signal pump: SIGKILL cannot be handled");
/// assert!(matches!(signals(&[]), Err(SignalError::Empty)));
/// ```
#[derive(Debug, Error)]
pub enum SignalError {
    /// A signal that cannot be handled (`SIGKILL`, `SIGSTOP`, `SIGSEGV`, `SIGILL`,
    /// `SIGFPE`, or no signal at all).
    #[error("signal pump: {signal} cannot be handled")]
    Forbidden {
        /// The signal.
        signal: Signal,
    },
    /// No signal was asked for.
    #[error("signal pump: no signal to handle")]
    Empty,
    /// The OS refused the pump's pipe.
    #[error("signal pump: cannot create its pipe: {0}")]
    Pipe(std::io::Error),
    /// The OS refused to install the handler.
    #[error("signal pump: cannot handle {signal}: {error}")]
    Register {
        /// The signal.
        signal: Signal,
        /// What the OS said.
        error: std::io::Error,
    },
}

/// A pump process and the input it writes the signals to (see the [module
/// docs](self)): put the pump in the network beside the reader. The handlers are
/// installed when the pump starts, in the OS process it runs in.
///
/// ```
/// use std::time::Duration;
/// use csp::signals::{signals, SIGUSR2};
/// use csp::Parallel;
///
/// let (pump, sigs) = signals(&[SIGUSR2])?;
/// let reader = csp::Process::with_ends("reader", sigs, |sigs| {
///     // Nothing arrives: the reader stops waiting, retires, and the pump ends.
///     Ok(sigs.read_timeout(Duration::from_millis(20)).is_err())
/// });
/// let results = Parallel::new().add(pump.map(|()| false)).add(reader).run()?;
/// assert_eq!(results[1], Some(true));
/// assert!(csp::signals::signals(&[csp::signals::Signal::ZERO]).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn signals(kinds: &[Signal]) -> Result<(Process, Input<Signal>), SignalError> {
    make(kinds, None)
}

/// Like [`signals`], and the pump writes the pid of the OS process whose signals it
/// now handles to `armed` once its handlers are installed (then drops it): the moment
/// from which a signal sent there arrives on the input rather than having its default
/// effect, and the pid to send it to when the pump runs forked.
///
/// ```
/// use csp::signals::{signals_armed, SIGUSR1};
/// use csp::{Channel, Parallel, Process};
///
/// let (armed_tx, armed) = Channel::<u32>::new().one2one();
/// let (pump, sigs) = signals_armed(&[SIGUSR1], armed_tx)?;
/// let user = Process::with_ends("user", (sigs, armed), |(sigs, armed)| {
///     SIGUSR1.send_to(armed.read()?)?;
///     Ok(sigs.read()?)
/// });
/// let results = Parallel::new().add(pump.forked().map(|()| None)).add(user.map(Some)).run()?;
/// assert_eq!(results[1], Some(Some(SIGUSR1)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn signals_armed(
    kinds: &[Signal],
    armed: Output<u32>,
) -> Result<(Process, Input<Signal>), SignalError> {
    make(kinds, Some(armed))
}

fn make(
    kinds: &[Signal],
    armed: Option<Output<u32>>,
) -> Result<(Process, Input<Signal>), SignalError> {
    if kinds.is_empty() {
        return Err(SignalError::Empty);
    }
    let mut unique: Vec<Signal> = Vec::with_capacity(kinds.len());
    for &signal in kinds {
        if Signal::from_number(signal.0).is_none()
            || signal_hook::consts::FORBIDDEN.contains(&signal.0)
        {
            return Err(SignalError::Forbidden { signal });
        }
        if !unique.contains(&signal) {
            unique.push(signal);
        }
    }
    let (out, input) = Channel::<Signal>::new().named("signals").one2one();
    let pump = Process::with_ends("signals", (out, armed), move |(out, armed)| {
        pump::run(&unique, out, armed)
    });
    Ok((pump, input))
}
