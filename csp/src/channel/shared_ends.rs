//! Ends shared by many holders: [`SharedOutput`] and [`SharedInput`] (`Clone`, one per
//! holder) of the any-kinds, and the [`Claim`] that gives one holder a side alone.

use std::ops::Deref;

use super::core::Core;
use super::ends::{Input, Output};
use super::error::ChannelError;
use super::iter::{IntoIter, Iter};
use super::{ChannelInfo, Side};
use std::sync::Arc;
/// A writing end of an any2one or any2any channel: `Clone` gives another writer.
/// Everything an [`Output`] does, it does (through `Deref`).
///
/// ```
/// use csp::Channel;
/// let (tx, rx) = Channel::<u32>::new().fifo(4).any2one();
/// let tx2 = tx.clone();
/// tx.write(1)?;
/// tx2.write(2)?;
/// drop((tx, tx2)); // both writers retired
/// assert_eq!(rx.into_iter().sum::<u32>(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SharedOutput<T>(Output<T>);

/// A reading end of a one2any or any2any channel: `Clone` gives another reader.
///
/// ```
/// use csp::Channel;
/// let (tx, rx) = Channel::<u32>::new().fifo(2).one2any();
/// let rx2 = rx.clone();
/// tx.write(1)?;
/// tx.write(2)?;
/// assert_eq!(rx.read()? + rx2.read()?, 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SharedInput<T>(Input<T>);

impl<T> SharedOutput<T> {
    pub(crate) fn new(core: Arc<Core<T>>, info: Arc<dyn ChannelInfo>) -> Self {
        SharedOutput(Output::new(core, info))
    }

    /// Exclusive use of the writing side for a sequence of writes (occam-pi's CLAIM):
    /// while the returned guard lives, no other writer's value is delivered. The claim
    /// waits until writes already pending from other ends have completed.
    ///
    /// ```
    /// use csp::Channel;
    /// let (tx, rx) = Channel::<u32>::new().fifo(8).any2one();
    /// let mut tx2 = tx.clone();
    /// {
    ///     let claimed = tx2.claim()?;
    ///     claimed.write(1)?;
    ///     claimed.write(2)?; // no other writer can come between 1 and 2
    /// }
    /// tx.write(3)?;
    /// assert_eq!((rx.read()?, rx.read()?, rx.read()?), (1, 2, 3));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn claim(&mut self) -> Result<Claim<'_, Output<T>>, ChannelError> {
        self.0.end.claim(Side::Write)?;
        Ok(Claim { end: &self.0 })
    }
}

impl<T> SharedInput<T> {
    pub(crate) fn new(core: Arc<Core<T>>, info: Arc<dyn ChannelInfo>) -> Self {
        SharedInput(Input::new(core, info))
    }

    /// Exclusive use of the reading side for a sequence of reads (occam-pi's CLAIM).
    ///
    /// ```
    /// use csp::Channel;
    /// let (tx, mut rx) = Channel::<u32>::new().fifo(8).one2any();
    /// tx.write(1)?;
    /// tx.write(2)?;
    /// let claimed = rx.claim()?;
    /// assert_eq!((claimed.read()?, claimed.read()?), (1, 2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn claim(&mut self) -> Result<Claim<'_, Input<T>>, ChannelError> {
        self.0.end.claim(Side::Read)?;
        Ok(Claim { end: &self.0 })
    }
}

/// Exclusive use of one side of a shared channel; released when dropped. Dereferences to
/// the end, so every operation is available.
///
/// ```
/// use csp::channel::Claim;
/// use csp::{Channel, Output};
/// let (tx, rx) = Channel::<&str>::local().fifo(4).any2one();
/// let mut logger = tx.clone();
/// {
///     let claim: Claim<'_, Output<&str>> = logger.claim()?;
///     claim.write("begin")?; // an `Output` through `Deref`
///     claim.write("end")?;
/// } // released here: other writers may write again
/// tx.write("next")?;
/// assert_eq!((rx.read()?, rx.read()?, rx.read()?), ("begin", "end", "next"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Claim<'a, E: Claimable> {
    end: &'a E,
}

/// An end that can be claimed: [`Output`] and [`Input`] (of a shared channel).
///
/// ```
/// use csp::channel::{Claim, Claimable};
/// use csp::Channel;
/// // Generic over the side claimed: how many values wait while we hold the claim.
/// fn waiting<E: Claimable>(claim: &Claim<'_, E>, len: impl Fn(&E) -> usize) -> usize {
///     len(claim)
/// }
/// let (tx, mut rx) = Channel::<u8>::new().fifo(2).one2any();
/// tx.write(1)?;
/// let claim = rx.claim()?;
/// assert_eq!(waiting(&claim, |input| input.len()), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Claimable: sealed::Sealed {
    #[doc(hidden)]
    fn release_claim(&self);
}

mod sealed {
    pub trait Sealed {}
    impl<T> Sealed for super::Output<T> {}
    impl<T> Sealed for super::Input<T> {}
}

impl<T> Claimable for Output<T> {
    fn release_claim(&self) {
        self.end.release_claim(Side::Write)
    }
}

impl<T> Claimable for Input<T> {
    fn release_claim(&self) {
        self.end.release_claim(Side::Read)
    }
}

impl<E: Claimable> Deref for Claim<'_, E> {
    type Target = E;
    fn deref(&self) -> &E {
        self.end
    }
}

impl<E: Claimable> Drop for Claim<'_, E> {
    fn drop(&mut self) {
        self.end.release_claim()
    }
}

impl<T> Clone for SharedOutput<T> {
    fn clone(&self) -> Self {
        SharedOutput(Output {
            end: self.0.end.duplicate(Side::Write),
        })
    }
}

impl<T> Clone for SharedInput<T> {
    fn clone(&self) -> Self {
        SharedInput(Input {
            end: self.0.end.duplicate(Side::Read),
        })
    }
}

impl<T> Deref for SharedOutput<T> {
    type Target = Output<T>;
    fn deref(&self) -> &Output<T> {
        &self.0
    }
}

impl<T> Deref for SharedInput<T> {
    type Target = Input<T>;
    fn deref(&self) -> &Input<T> {
        &self.0
    }
}

impl<T> From<SharedOutput<T>> for Output<T> {
    fn from(s: SharedOutput<T>) -> Output<T> {
        s.0
    }
}

impl<T> From<SharedInput<T>> for Input<T> {
    fn from(s: SharedInput<T>) -> Input<T> {
        s.0
    }
}

impl<T> IntoIterator for SharedInput<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    fn into_iter(self) -> IntoIter<T> {
        self.0.into_iter()
    }
}

impl<'a, T> IntoIterator for &'a SharedInput<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.0.iter()
    }
}

impl<T> std::fmt::Debug for SharedOutput<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SharedOutput({})", self.name())
    }
}
impl<T> std::fmt::Debug for SharedInput<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SharedInput({})", self.name())
    }
}
