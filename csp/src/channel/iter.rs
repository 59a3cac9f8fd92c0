//! Iterating over an [`Input`]: `for v in &input` reads until the channel ends.

use super::Input;

/// Borrowing iterator over an [`Input`].
///
/// ```
/// use csp::channel::Iter;
/// let (tx, rx) = csp::Channel::<u8>::new().fifo(2).one2one();
/// tx.write(1)?;
/// tx.write(2)?;
/// drop(tx);
/// let it: Iter<'_, u8> = rx.iter(); // what `for v in &rx` uses
/// assert_eq!(it.max(), Some(2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Iter<'a, T> {
    pub(super) input: &'a Input<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.input.read().ok()
    }
}

/// Owning iterator over an [`Input`].
///
/// ```
/// use csp::channel::IntoIter;
/// let (tx, rx) = csp::Channel::<String>::new().fifo(2).one2one();
/// tx.write("a".into())?;
/// tx.write("b".into())?;
/// drop(tx);
/// let it: IntoIter<String> = rx.into_iter(); // what `for v in rx` uses: it owns `rx`
/// assert_eq!(it.collect::<String>(), "ab");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct IntoIter<T> {
    input: Input<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.input.read().ok()
    }
}

impl<T> IntoIterator for Input<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    fn into_iter(self) -> IntoIter<T> {
        IntoIter { input: self }
    }
}

impl<'a, T> IntoIterator for &'a Input<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}
