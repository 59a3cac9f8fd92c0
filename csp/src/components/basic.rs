//! One-input, one-output components and the sources and sinks.

use std::ops::Add;

use super::forward;
use crate::channel::{ChannelError, Input, Output};
use crate::process;

/// Copies its input to its output (occam's `id`, JCSP's `Identity`): a one-place buffer
/// when put in a rendezvous pipeline.
///
/// ```
/// use csp::{components::{collect, generate, id}, par, Channel};
/// let (a, a_in) = Channel::<u8>::new().one2one();
/// let (b, b_in) = Channel::<u8>::new().one2one();
/// let (_, _, got) = par!(generate([1, 2], a), id(a_in, b), collect(b_in))?;
/// assert_eq!(got, Some(vec![1, 2]));
/// # Ok::<(), csp::NetworkError>(())
/// ```
#[process(model = crate::topology::export::models::id)]
pub fn id<T: Send + 'static>(input: Input<T>, output: Output<T>) -> Result<(), ChannelError> {
    for v in &input {
        if !forward(&output, v)? {
            break;
        }
    }
    Ok(())
}

/// Writes `first`, then copies its input (occam's `prefix`): the seed of a feedback loop.
///
/// ```
/// use csp::{components::{collect, generate, prefix}, par, Channel};
/// let (a, a_in) = Channel::<u8>::new().one2one();
/// let (b, b_in) = Channel::<u8>::new().one2one();
/// let (_, _, got) = par!(generate([1, 2], a), prefix(0, a_in, b), collect(b_in))?;
/// assert_eq!(got, Some(vec![0, 1, 2]));
/// # Ok::<(), csp::NetworkError>(())
/// ```
#[process(model = crate::topology::export::models::prefix)]
pub fn prefix<T: Send + 'static>(
    first: T,
    input: Input<T>,
    output: Output<T>,
) -> Result<(), ChannelError> {
    if !forward(&output, first)? {
        return Ok(());
    }
    for v in &input {
        if !forward(&output, v)? {
            break;
        }
    }
    Ok(())
}

/// Drops the first value, then copies (occam's `tail`).
///
/// ```
/// use csp::{components::{collect, generate, tail}, par, Channel};
/// let (a, a_in) = Channel::<u8>::new().one2one();
/// let (b, b_in) = Channel::<u8>::new().one2one();
/// let (_, _, got) = par!(generate([1, 2, 3], a), tail(a_in, b), collect(b_in))?;
/// assert_eq!(got, Some(vec![2, 3]));
/// # Ok::<(), csp::NetworkError>(())
/// ```
#[process(model = crate::topology::export::models::tail)]
pub fn tail<T: Send + 'static>(input: Input<T>, output: Output<T>) -> Result<(), ChannelError> {
    let mut values = input.iter();
    values.next();
    for v in values {
        if !forward(&output, v)? {
            break;
        }
    }
    Ok(())
}

/// Adds one to every value (occam's `succ`).
///
/// ```
/// use csp::{components::{collect, generate, succ}, par, Channel};
/// let (a, a_in) = Channel::<u64>::new().one2one();
/// let (b, b_in) = Channel::<u64>::new().one2one();
/// let (_, _, got) = par!(generate([1, 5], a), succ(a_in, b), collect(b_in))?;
/// assert_eq!(got, Some(vec![2, 6]));
/// # Ok::<(), csp::NetworkError>(())
/// ```
#[process(model = crate::topology::export::models::succ)]
pub fn succ<T>(input: Input<T>, output: Output<T>) -> Result<(), ChannelError>
where
    T: Add<Output = T> + From<u8> + Send + 'static,
{
    for v in &input {
        if !forward(&output, v + T::from(1))? {
            break;
        }
    }
    Ok(())
}

/// Applies `f` to every value.
///
/// ```
/// use csp::{components::{collect, generate, map}, par, Channel};
/// let (a, a_in) = Channel::<u8>::new().one2one();
/// let (b, b_in) = Channel::<String>::new().one2one();
/// let (_, _, got) = par!(generate([1, 2], a), map(a_in, b, |v| v.to_string()), collect(b_in))?;
/// assert_eq!(got, Some(vec!["1".to_string(), "2".to_string()]));
/// # Ok::<(), csp::NetworkError>(())
/// ```
#[process(model = crate::topology::export::models::map)]
pub fn map<T, U, F>(input: Input<T>, output: Output<U>, mut f: F) -> Result<(), ChannelError>
where
    T: Send + 'static,
    U: Send + 'static,
    F: FnMut(T) -> U + Send + 'static,
{
    for v in &input {
        if !forward(&output, f(v))? {
            break;
        }
    }
    Ok(())
}

/// Passes on the values for which `keep` is true.
///
/// ```
/// use csp::{components::{collect, filter, generate}, par, Channel};
/// let (a, a_in) = Channel::<u8>::new().one2one();
/// let (b, b_in) = Channel::<u8>::new().one2one();
/// let (_, _, got) = par!(generate(1..=6, a), filter(a_in, b, |v| v % 2 == 0), collect(b_in))?;
/// assert_eq!(got, Some(vec![2, 4, 6]));
/// # Ok::<(), csp::NetworkError>(())
/// ```
#[process(model = crate::topology::export::models::filter)]
pub fn filter<T, F>(input: Input<T>, output: Output<T>, mut keep: F) -> Result<(), ChannelError>
where
    T: Send + 'static,
    F: FnMut(&T) -> bool + Send + 'static,
{
    for v in &input {
        if keep(&v) && !forward(&output, v)? {
            break;
        }
    }
    Ok(())
}

/// Writes every item of `items`, then retires its output (a finite source; use an
/// endless iterator for a generator that runs until poisoned or its reader retires).
///
/// ```
/// use csp::{components::{collect, generate}, par, Channel};
/// let (a, a_in) = Channel::<u32>::new().one2one();
/// let (_, got) = par!(generate((0..).step_by(10).take(3), a), collect(a_in))?;
/// assert_eq!(got, Some(vec![0, 10, 20]));
/// # Ok::<(), csp::NetworkError>(())
/// ```
#[process(model = crate::topology::export::models::generate)]
pub fn generate<T, I>(items: I, output: Output<T>) -> Result<(), ChannelError>
where
    T: Send + 'static,
    I: IntoIterator<Item = T> + Send + 'static,
{
    for v in items {
        if !forward(&output, v)? {
            break;
        }
    }
    Ok(())
}

/// Reads and discards every value (JCSP's `BlackHole`); returns how many it read.
///
/// ```
/// use csp::{components::{generate, sink}, par, Channel};
/// let (a, a_in) = Channel::<u8>::new().one2one();
/// let (_, n) = par!(generate(0..100, a), sink(a_in))?;
/// assert_eq!(n, Some(100));
/// # Ok::<(), csp::NetworkError>(())
/// ```
#[process(model = crate::topology::export::models::sink)]
pub fn sink<T: Send + 'static>(input: Input<T>) -> u64 {
    input.iter().fold(0, |n, _| n + 1)
}

/// Reads every value until the channel is retired and returns them.
///
/// ```
/// use csp::{components::{collect, generate}, par, Channel};
/// let (a, a_in) = Channel::<char>::new().one2one();
/// let (_, got) = par!(generate("hey".chars(), a), collect(a_in))?;
/// assert_eq!(got, Some(vec!['h', 'e', 'y']));
/// # Ok::<(), csp::NetworkError>(())
/// ```
#[process(model = crate::topology::export::models::sink)]
pub fn collect<T: Send + 'static>(input: Input<T>) -> Vec<T> {
    input.into_iter().collect()
}
