//! Support for the `alt!` macro. Not a public API.

use std::time::Instant;

use super::engine::{self, Chosen, GuardSet};
use super::guard::Guard;
pub use super::guard::{BarrierSlot, InputSlot, OutputSlot};
use super::{AltError, Fair};
use crate::sync::{AtomicUsize, Ordering};

/// One arm's guard, or `None` if its precondition is false; with the channel's
/// readiness hint, so the first look at a guard costs one load and no call.
pub struct Slot<'a> {
    guard: Option<&'a mut dyn Guard>,
    hint: Option<(&'a AtomicUsize, usize)>,
}

/// An input arm's guard.
pub fn input<'a, T: 'a>(g: &'a mut InputSlot<'_, T>, enabled: bool) -> Slot<'a> {
    let hint = g.end().read_hint();
    Slot {
        hint: enabled.then_some(hint),
        guard: enabled.then_some(g as &mut dyn Guard),
    }
}

/// An output arm's guard.
pub fn output<'a, T: 'a>(g: &'a mut OutputSlot<'_, T>, enabled: bool) -> Slot<'a> {
    let hint = g.end().write_hint();
    Slot {
        hint: enabled.then_some(hint),
        guard: enabled.then_some(g as &mut dyn Guard),
    }
}

/// A barrier arm's guard.
pub fn barrier<'a>(g: &'a mut BarrierSlot<'_>, enabled: bool) -> Slot<'a> {
    Slot {
        hint: None,
        guard: enabled.then_some(g as &mut dyn Guard),
    }
}

struct Slots<'s, 'a>(&'s mut [Slot<'a>]);

impl GuardSet for Slots<'_, '_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn get(&mut self, position: usize) -> Option<&mut dyn Guard> {
        match &mut self.0[position].guard {
            Some(g) => Some(&mut **g),
            None => None,
        }
    }
    #[inline]
    fn may_go(&self, position: usize) -> bool {
        let slot = &self.0[position];
        match slot.hint {
            Some((hint, bit)) => hint.load(Ordering::Acquire) & bit != 0,
            // Disabled, or a barrier: let the engine look at the guard itself.
            None => true,
        }
    }
}

/// How the macro's alt chooses.
pub enum Mode<'f> {
    /// The first ready arm in order.
    Pri,
    /// Rotating priority.
    Fair(&'f mut Fair),
    /// Any ready arm.
    Any,
}

/// What the macro's alt chose: an arm by its number among the guard arms, or the
/// timeout or default arm.
#[derive(PartialEq, Eq)]
pub enum Pick {
    /// A guard arm.
    Guard(usize),
    /// The `default` arm.
    Skip,
    /// The `after` / `at` arm.
    Timeout,
}

/// Selects for the macro's alt.
pub fn select(
    slots: &mut [Slot<'_>],
    mode: Mode<'_>,
    timeout: Option<Instant>,
    skip: bool,
) -> Result<Pick, AltError> {
    let n = slots.len();
    let start = match &mode {
        Mode::Pri => 0,
        Mode::Any => engine::random_below(n),
        Mode::Fair(f) => f.start(0..n),
    };
    let result = engine::select(&mut Slots(slots), start, timeout, skip);
    let chosen = match &result {
        Ok(Chosen::Guard(p)) | Err(engine::Refused::Guard { position: p, .. }) => Some(*p),
        _ => None,
    };
    if let (Mode::Fair(f), Some(p)) = (mode, chosen) {
        f.last = Some(p);
    }
    match result {
        Ok(Chosen::Guard(p)) => Ok(Pick::Guard(p)),
        Ok(Chosen::Skip) => Ok(Pick::Skip),
        Ok(Chosen::Timeout) => Ok(Pick::Timeout),
        Err(failure) => Err(AltError::from_refused(failure, |p| p)),
    }
}

/// The earlier of two optional deadlines.
pub fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}
