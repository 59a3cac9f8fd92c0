//! Fairness across selects: where the next `fair_select` starts polling.

/// Remembers which guard a [`fair_select`](crate::Alt::fair_select) chose last, so the next
/// one starts after it.
///
/// ```
/// use csp::{Alt, Channel, Fair};
/// let (a_tx, a) = Channel::<u8>::new().buffer(csp::Policy::Unbounded).one2one();
/// let (b_tx, b) = Channel::<u8>::new().buffer(csp::Policy::Unbounded).one2one();
/// for _ in 0..4 {
///     a_tx.write(0)?;
///     b_tx.write(1)?;
/// }
/// let mut fair = Fair::new();
/// let mut picks = Vec::new();
/// for _ in 0..4 {
///     picks.push(Alt::new().input(&a, |v| v).input(&b, |v| v).fair_select(&mut fair)?);
/// }
/// assert_eq!(picks, vec![0, 1, 0, 1]); // both always ready: they take turns
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Fair {
    pub(super) last: Option<usize>,
}

impl Fair {
    /// No guard chosen yet.
    ///
    /// ```
    /// use csp::{Alt, Channel, Fair};
    /// let (tx, rx) = Channel::<u8>::new().fifo(2).one2one();
    /// let (tx2, rx2) = Channel::<u8>::new().fifo(2).one2one();
    /// for v in [1, 2] {
    ///     tx.write(v)?;
    ///     tx2.write(v + 10)?;
    /// }
    /// let mut fair = Fair::new(); // keep it across selects: it remembers the last choice
    /// let first = Alt::new().input(&rx, |v| v).input(&rx2, |v| v).fair_select(&mut fair)?;
    /// let second = Alt::new().input(&rx, |v| v).input(&rx2, |v| v).fair_select(&mut fair)?;
    /// assert_eq!((first, second), (1, 11));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new() -> Fair {
        Fair::default()
    }
}

impl Fair {
    /// The position to start polling at: the first guard after the one chosen last.
    pub(super) fn start(&self, indices: impl Iterator<Item = usize>) -> usize {
        match self.last {
            None => 0,
            Some(last) => indices.take_while(|i| *i <= last).count(),
        }
    }
}
