//! The hello exchange that starts every connection: each side says what it is, and the
//! listening side refuses a peer that cannot be its partner, with the reason, before a
//! single value crosses. So a program connecting with another `T`, to another channel,
//! or with the same role gets a clear error instead of garbage.

use std::time::{Duration, Instant};

use super::error::NetError;
use super::link::{Event, Link};
use super::wire::{Frame, Hello};

/// How long the listening side waits for a connected program's hello before it turns
/// it away (a program that connects and says nothing must not block the door).
pub(crate) const HELLO_WAIT: Duration = Duration::from_secs(5);

/// The connecting side: sends its hello, then waits (until `deadline`) for the
/// listening side's answer. The peer's frame limit on success.
pub(crate) fn connect(
    link: &mut Link,
    mine: &Hello,
    place: &str,
    deadline: Option<Instant>,
) -> Result<usize, NetError> {
    let failed = |message: String| NetError::Handshake {
        place: place.to_string(),
        message,
    };
    link.send(&Frame::Hello(mine.clone()))
        .map_err(|e| failed(e.describe()))?;
    match link
        .recv(deadline, None)
        .map_err(|e| failed(e.describe()))?
    {
        Event::Frame(Frame::Hello(theirs)) => match mine.mismatch(&theirs) {
            None => Ok(usize::try_from(theirs.max_frame).unwrap_or(usize::MAX)),
            Some(reason) => {
                let _ = link.send(&Frame::Refuse(reason.clone()));
                Err(NetError::Refused {
                    place: place.to_string(),
                    reason,
                })
            }
        },
        Event::Frame(Frame::Refuse(reason)) => Err(NetError::Refused {
            place: place.to_string(),
            reason,
        }),
        Event::Frame(other) => Err(failed(format!("expected a hello, got {other:?}"))),
        Event::Timeout | Event::Knock => Err(NetError::Timeout {
            place: place.to_string(),
        }),
    }
}

/// The listening side: reads the peer's hello and answers it with its own, or refuses
/// it. The peer's frame limit, or why it was turned away.
pub(crate) fn accept(link: &mut Link, mine: &Hello) -> Result<usize, String> {
    let deadline = Instant::now() + HELLO_WAIT;
    let reason = match link.recv(Some(deadline), None) {
        Ok(Event::Frame(Frame::Hello(theirs))) => match mine.mismatch(&theirs) {
            None => {
                link.send(&Frame::Hello(mine.clone()))
                    .map_err(|e| e.describe())?;
                return Ok(usize::try_from(theirs.max_frame).unwrap_or(usize::MAX));
            }
            Some(reason) => reason,
        },
        Ok(Event::Frame(other)) => format!("expected a hello, got {other:?}"),
        Ok(_) => "no hello in time".to_string(),
        Err(e) => e.describe(),
    };
    let _ = link.send(&Frame::Refuse(reason.clone()));
    Err(reason)
}
