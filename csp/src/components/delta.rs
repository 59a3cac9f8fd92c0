//! Delta: copy every input value to several outputs.

use super::forward;
use crate::channel::{Channel, ChannelError, Input, Output};
use crate::process;

/// Copies every input value to all `outputs`, one after another (JCSP's `Delta` with
/// sequential output). It stops when any output's readers have all retired.
///
/// ```
/// use csp::{components::{collect, delta, generate}, par, Channel};
/// let (a, a_in) = Channel::<u8>::new().one2one();
/// let (b, b_in) = Channel::<u8>::new().fifo(4).one2one();
/// let (c, c_in) = Channel::<u8>::new().fifo(4).one2one();
/// let (_, _, x, y) = par!(generate([1, 2], a), delta(a_in, vec![b, c]), collect(b_in), collect(c_in))?;
/// assert_eq!((x, y), (Some(vec![1, 2]), Some(vec![1, 2])));
/// # Ok::<(), csp::NetworkError>(())
/// ```
#[process(model = crate::topology::export::models::delta)]
pub fn delta<T: Clone + Send + 'static>(
    input: Input<T>,
    outputs: Vec<Output<T>>,
) -> Result<(), ChannelError> {
    for v in &input {
        for out in &outputs {
            if !forward(out, v.clone())? {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Copies every input value to all `outputs` in parallel (occam's `delta`, JCSP's
/// `Delta` with parallel output): the next value is read only once every output has
/// taken this one, in whatever order the readers arrive.
///
/// ```
/// use csp::{components::{collect, delta_par, generate}, par, Channel};
/// let (a, a_in) = Channel::<u8>::new().one2one();
/// let (b, b_in) = Channel::<u8>::new().one2one();
/// let (c, c_in) = Channel::<u8>::new().one2one();
/// let (_, _, x, y) = par!(generate([1, 2], a), delta_par(a_in, vec![b, c]), collect(b_in), collect(c_in))?;
/// assert_eq!((x, y), (Some(vec![1, 2]), Some(vec![1, 2])));
/// # Ok::<(), csp::NetworkError>(())
/// ```
#[process(model = crate::topology::export::models::delta_par)]
pub fn delta_par<T: Clone + Send + 'static>(
    input: Input<T>,
    outputs: Vec<Output<T>>,
) -> Result<(), ChannelError> {
    // One helper thread per output, fed over an internal rendezvous channel; each helper
    // acknowledges once its reader took the value.
    let (ack_tx, ack_rx) = Channel::<bool>::local().any2one();
    std::thread::scope(|scope| {
        let mut feeds = Vec::with_capacity(outputs.len());
        for out in outputs {
            let (feed_tx, feed_rx) = Channel::<T>::local().one2one();
            let ack = ack_tx.clone();
            scope.spawn(move || {
                let result = (|| -> Result<(), ChannelError> {
                    for v in &feed_rx {
                        ack.write(forward(&out, v)?)?;
                    }
                    Ok(())
                })();
                if result.is_err() {
                    // The delta waits for every helper's ack: wake it.
                    ack.poison();
                }
            });
            feeds.push(feed_tx);
        }
        drop(ack_tx);
        let result = (|| {
            for v in &input {
                for feed in &feeds {
                    feed.write(v.clone())?;
                }
                let mut open = true;
                for _ in &feeds {
                    open &= ack_rx.read()?;
                }
                if !open {
                    break;
                }
            }
            Ok(())
        })();
        if result.is_err() {
            // Poison ends the helpers too.
            ack_rx.poison();
        }
        drop(feeds); // retire: the helpers end
        result
    })
}
