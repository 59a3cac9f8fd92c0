//! Values on the wire: the `Wire` bound and the encode/decode functions a channel
//! captures when it is made, so that it can cross an OS process later without its
//! transport knowing the type.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::ChannelError;

/// A value that can travel between OS processes: what [`Channel::new`](super::Channel::new) needs.
///
/// ```
/// use csp::channel::Wire;
/// use csp::Channel;
///
/// #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
/// struct Job {
///     id: u32,
///     name: String,
/// }
///
/// fn crosses<T: Wire>() {} // every serde type is `Wire`: nothing to implement
/// crosses::<Job>();
/// let (tx, rx) = Channel::<Job>::new().fifo(1).one2one();
/// tx.write(Job { id: 1, name: "scan".into() })?;
/// assert_eq!(rx.read()?.name, "scan");
/// assert!(rx.can_cross_processes());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot travel between OS processes: `Channel::new` needs `Serialize + DeserializeOwned + Send + 'static`",
    label = "not `Serialize + DeserializeOwned + Send + 'static`",
    note = "derive `serde::Serialize` and `serde::Deserialize` for it, or use `Channel::local()` for a channel that stays inside one OS process"
)]
pub trait Wire: Serialize + DeserializeOwned + Send + 'static {}
impl<T: Serialize + DeserializeOwned + Send + 'static> Wire for T {}

/// Encode/decode functions captured when the channel was made, so that a channel can
/// later cross an OS-process boundary without the transport knowing `T`.
pub(crate) struct Codec<T> {
    encode: fn(&T) -> Result<Vec<u8>, postcard::Error>,
    /// Encodes into the given bytes and says how many it used (`None`: they were too
    /// few, or the value does not encode; `encode` then says which).
    encode_into: fn(&T, &mut [u8]) -> Option<usize>,
    decode: fn(&[u8]) -> Result<T, postcard::Error>,
    /// The largest encoded value the channel carries between OS processes.
    pub(crate) max_frame: usize,
}

/// The default of [`Channel::max_frame`](super::Channel::max_frame): 64 KiB.
///
/// ```
/// use csp::channel::DEFAULT_MAX_FRAME;
/// use csp::ChannelError;
/// let (tx, _rx) = csp::Channel::<Vec<u8>>::new().fifo(1).one2one();
/// tx.share_with_forks()?; // the limit applies once values cross OS processes
/// let err = tx.write(vec![0; DEFAULT_MAX_FRAME]).unwrap_err(); // plus its length prefix
/// assert!(matches!(err.error(), ChannelError::TooLarge { limit: DEFAULT_MAX_FRAME, .. }));
/// assert_eq!(err.into_inner().map(|v| v.len()), Some(DEFAULT_MAX_FRAME)); // handed back whole
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const DEFAULT_MAX_FRAME: usize = 64 * 1024;

impl<T> Clone for Codec<T> {
    fn clone(&self) -> Self {
        Codec {
            encode: self.encode,
            encode_into: self.encode_into,
            decode: self.decode,
            max_frame: self.max_frame,
        }
    }
}

impl<T: Wire> Codec<T> {
    pub(crate) fn new() -> Codec<T> {
        Codec {
            encode: |v| postcard::to_allocvec(v),
            encode_into: |v, buf| postcard::to_slice(v, buf).ok().map(|b| b.len()),
            decode: |b| postcard::from_bytes(b),
            max_frame: DEFAULT_MAX_FRAME,
        }
    }
}

impl<T> Codec<T> {
    pub(crate) fn encode(&self, channel: &str, v: &T) -> Result<Vec<u8>, ChannelError> {
        (self.encode)(v).map_err(|e| ChannelError::Codec {
            channel: channel.into(),
            operation: "encode",
            message: e.to_string(),
        })
    }

    /// Encodes `v` into `buf`: how many bytes it took, or `None` if it did not fit or
    /// failed (then `encode` reports the error or the size).
    pub(crate) fn encode_into(&self, v: &T, buf: &mut [u8]) -> Option<usize> {
        (self.encode_into)(v, buf)
    }

    pub(crate) fn decode(&self, channel: &str, bytes: &[u8]) -> Result<T, ChannelError> {
        take_decode_note();
        (self.decode)(bytes).map_err(|e| ChannelError::Codec {
            channel: channel.into(),
            operation: "decode",
            message: match take_decode_note() {
                Some(note) => format!("{e}: {note}"),
                None => e.to_string(),
            },
        })
    }
}

thread_local! {
    static DECODE_NOTE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Says why a value refused to deserialize: postcard keeps only "Serde Deserialization
/// Error" of a custom error, so a type whose `Deserialize` checks more than the bytes
/// (a shared buffer's handle) leaves its reason here, and the channel's decode error
/// carries it.
pub(crate) fn note_decode_failure(note: String) {
    DECODE_NOTE.with(|n| *n.borrow_mut() = Some(note));
}

/// The reason the last failed decode on this thread left, if any (and forgets it).
pub(crate) fn take_decode_note() -> Option<String> {
    DECODE_NOTE.with(|n| n.borrow_mut().take())
}
