//! Components that choose between inputs: they alt over them.

use super::forward;
use crate::alt::{Alt, AltError, Fair};
use crate::channel::{Input, Output};
use crate::process;
use crate::BoxError;

/// Waits for the next value from whichever open input offers one, fairly: over time
/// every input that keeps offering is served in turn (`fair_select`). `None` once every
/// input has retired.
fn next_fair<T>(
    inputs: &[Input<T>],
    open: &mut [bool],
    fair: &mut Fair,
) -> Result<Option<(usize, T)>, AltError> {
    while open.iter().any(|o| *o) {
        let mut alt = Alt::new();
        for (i, input) in inputs.iter().enumerate() {
            alt = alt.input_if(open[i], input, move |v| (i, v));
        }
        match alt.fair_select(fair) {
            Ok(got) => return Ok(Some(got)),
            Err(AltError::Channel { guard, error }) if error.is_retired() => open[guard] = false,
            // Poison, or two inputs that are ends of one channel.
            Err(other) => return Err(other),
        }
    }
    Ok(None)
}

/// Merges many inputs into one output, fairly (JCSP's `Plex`, occam's fair `merge`):
/// a busy input cannot starve the others. It ends when every input has retired, or
/// when the output's readers have. It fails if a channel is poisoned (and so stops
/// with the network) or if two inputs are ends of one channel.
///
/// ```
/// use csp::{components::{collect, generate, merge}, par, Channel};
/// let (a, a_in) = Channel::<u32>::new().one2one();
/// let (b, b_in) = Channel::<u32>::new().one2one();
/// let (out, out_in) = Channel::<u32>::new().one2one();
/// let (_, _, _, got) = par!(
///     generate(0..100, a),
///     generate(1000..1100, b),
///     merge(vec![a_in, b_in], out),
///     collect(out_in),
/// )?;
/// let mut got = got.unwrap();
/// got.sort();
/// assert_eq!(got, (0..100).chain(1000..1100).collect::<Vec<_>>());
/// # Ok::<(), csp::NetworkError>(())
/// ```
#[process(model = crate::topology::export::models::merge)]
pub fn merge<T: Send + 'static>(inputs: Vec<Input<T>>, output: Output<T>) -> Result<(), BoxError> {
    let mut open = vec![true; inputs.len()];
    let mut fair = Fair::new();
    while let Some((_, v)) = next_fair(&inputs, &mut open, &mut fair)? {
        if !forward(&output, v)? {
            break;
        }
    }
    Ok(())
}

/// Like [`merge`], but each value leaves tagged with the index of the input it came
/// from, so the reader can tell the streams apart (a multiplexer for a demultiplexing
/// reader at the far end).
///
/// ```
/// use csp::{components::{collect, generate, plex}, par, Channel};
/// let (a, a_in) = Channel::<char>::new().one2one();
/// let (b, b_in) = Channel::<char>::new().one2one();
/// let (out, out_in) = Channel::<(usize, char)>::new().one2one();
/// let (_, _, _, got) = par!(
///     generate(['x'], a),
///     generate(['y'], b),
///     plex(vec![a_in, b_in], out),
///     collect(out_in),
/// )?;
/// let mut got = got.unwrap();
/// got.sort();
/// assert_eq!(got, vec![(0, 'x'), (1, 'y')]);
/// # Ok::<(), csp::NetworkError>(())
/// ```
#[process(model = crate::topology::export::models::plex)]
pub fn plex<T: Send + 'static>(
    inputs: Vec<Input<T>>,
    output: Output<(usize, T)>,
) -> Result<(), BoxError> {
    let mut open = vec![true; inputs.len()];
    let mut fair = Fair::new();
    while let Some(tagged) = next_fair(&inputs, &mut open, &mut fair)? {
        if !forward(&output, tagged)? {
            break;
        }
    }
    Ok(())
}
