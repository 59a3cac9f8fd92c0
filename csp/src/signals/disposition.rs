//! Giving a signal its default action back once no pump handles it.
//!
//! signal-hook installs its dispatcher for a signal at the first action registered and
//! keeps it when the last one is unregistered: a signal nobody handles any more is then
//! dropped by the dispatcher, where it should have its default action (SIGTERM ending
//! the program). So the pumps of this OS process count themselves per signal; when the
//! last one for a signal ends and the signal's disposition before the first pump was
//! the default (`SIG_DFL`), that disposition is put back, and signal-hook's dispatcher
//! is kept aside to be put back when a pump for the signal starts again (signal-hook
//! itself believes it is still installed, and would not install it again). A signal
//! that was ignored, or had a handler of its own, before the first pump needs nothing:
//! the dispatcher keeps ignoring it, or passes it to that handler (signal-hook chains
//! to the handler it found).
//!
//! Limitation: actions registered with signal-hook for the same signal by other code
//! are not counted: while no pump handles the signal they do not run.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::io;
use std::sync::Mutex;

/// What is known of one signal's disposition.
struct Disposition {
    /// Pumps of this OS process handling the signal now.
    pumps: usize,
    /// Whether the signal had its default action before the first pump.
    was_default: bool,
    /// signal-hook's dispatcher, taken out while no pump handles the signal.
    parked: Option<libc::sigaction>,
}

/// The signals the pumps of this OS process ever handled. (A forked child has its
/// copy, which is right: dispositions are per process and inherited by a fork.)
static SIGNALS: Mutex<Option<HashMap<i32, Disposition>>> = Mutex::new(None);

/// The signal's current disposition.
fn current(signal: i32) -> io::Result<libc::sigaction> {
    // SAFETY: an all-zero `sigaction` is a valid value of the C struct (no handler, no
    // flags, an empty mask); it is only written by the kernel here.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: a null `act` only reads the disposition into `old`, a live struct.
    match unsafe { libc::sigaction(signal, std::ptr::null(), &mut old) } {
        0 => Ok(old),
        _ => Err(io::Error::last_os_error()),
    }
}

/// Installs `new` as the signal's disposition; the one it replaced.
fn install(signal: i32, new: &libc::sigaction) -> io::Result<libc::sigaction> {
    // SAFETY: as in `current`, an all-zero `sigaction` is valid; it receives the old one.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: `new` is either a disposition the kernel gave us (signal-hook's own
    // dispatcher, whose code lives as long as the program) or the default action; both
    // are valid for any signal a pump may handle (`signals` refused the others).
    match unsafe { libc::sigaction(signal, new, &mut old) } {
        0 => Ok(old),
        _ => Err(io::Error::last_os_error()),
    }
}

/// Called before a pump registers its action for `signal`: notes the disposition the
/// signal had before the first pump, or puts signal-hook's dispatcher back.
pub(super) fn pump_starts(signal: i32) -> io::Result<()> {
    let mut signals = SIGNALS.lock().unwrap_or_else(|e| e.into_inner());
    let signals = signals.get_or_insert_with(HashMap::new);
    let entry = match signals.entry(signal) {
        Entry::Occupied(known) => known.into_mut(),
        Entry::Vacant(new) => new.insert(Disposition {
            pumps: 0,
            was_default: current(signal)?.sa_sigaction == libc::SIG_DFL,
            parked: None,
        }),
    };
    if entry.pumps == 0 {
        if let Some(dispatcher) = entry.parked.take() {
            install(signal, &dispatcher)?;
        }
    }
    entry.pumps += 1;
    Ok(())
}

/// Called after a pump unregistered its action for `signal` (or failed to register
/// it): the last pump gives the signal its default action back, if it had it before.
pub(super) fn pump_ended(signal: i32) {
    let mut signals = SIGNALS.lock().unwrap_or_else(|e| e.into_inner());
    let Some(entry) = signals.as_mut().and_then(|s| s.get_mut(&signal)) else {
        return;
    };
    entry.pumps = entry.pumps.saturating_sub(1);
    if entry.pumps > 0 || !entry.was_default || entry.parked.is_some() {
        return;
    }
    // SAFETY: as in `current`, an all-zero `sigaction` is valid: with `SIG_DFL` as its
    // handler, it is the default action.
    let mut default: libc::sigaction = unsafe { std::mem::zeroed() };
    default.sa_sigaction = libc::SIG_DFL;
    if let Ok(dispatcher) = install(signal, &default) {
        entry.parked = Some(dispatcher);
    }
}
