//! The wire protocol: what travels on the byte stream between two net ends.
//!
//! Every message is one checked frame (`channel::frame`: magic, length and its
//! complement, checksum, then the payload), whose payload starts with a kind byte:
//!
//! | kind | body | sent by | meaning |
//! |---|---|---|---|
//! | `Hello` | postcard [`Hello`] | both, first | protocol version, role, channel name, type name, size, tag and fingerprint, frame limit, buffer |
//! | `Refuse` | UTF-8 reason | the listening side | this connection is not taken (busy, wrong type, ...) |
//! | `Data` | seq, firm, postcard value | writer | a value on offer |
//! | `Ack` | seq | reader | the reader has taken value `seq` (and, on a buffered channel, every value before it): a rendezvous `write` returns, a buffered writer gets room back |
//! | `Claim` | seq | reader | the reader wants tentative value `seq` (sent by `write_timeout`) |
//! | `Confirm` | seq | writer | the claim stands: the reader takes the value, then acks |
//! | `Withdraw` | seq | writer | the writer's deadline passed first: value `seq` is not on offer any more |
//! | `Poison`, `Retire` | — | either | as on a local channel |
//!
//! A `write` without a deadline offers a *firm* value: the reader takes it when it reads
//! and acks. A `write_timeout` offers a *tentative* one: the reader claims it and takes it
//! only once the writer confirms, so the writer's deadline decides alone, without
//! waiting for a reader that may not be reading, whether the value was taken.
//!
//! On a *buffered* channel (both hellos say `buffer: n > 0`) every value is firm and a
//! `write` returns once its frame is sent, while fewer than `n` values are unacked; the
//! reader acks cumulatively, once every `ack_every(n)` values taken.

use serde::{Deserialize, Serialize};

use crate::channel::frame::{self, FrameError, HEADER};

/// The protocol's version, in every hello: two ends of different versions refuse.
/// (2: the hello gained the type's size and tag, and the buffer.)
pub(crate) const VERSION: u16 = 2;

/// Bytes of a data frame's payload before the value: kind, firm, seq.
pub(crate) const DATA_PREFIX: usize = 6;

/// Room for the hello and the control frames whatever the channel's frame limit.
const CONTROL_ROOM: usize = 4096;

/// The largest frame payload an end accepts for values of up to `max_frame` bytes.
pub(crate) fn payload_limit(max_frame: usize) -> usize {
    max_frame.saturating_add(DATA_PREFIX).max(CONTROL_ROOM)
}

/// How many values a buffered reader takes between two acks: half its buffer, so the
/// writer gets room back while it still has half the buffer to go on with.
pub(crate) fn ack_every(buffer: usize) -> usize {
    buffer.div_ceil(2).max(1)
}

/// Which side an end is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Role {
    Reader,
    Writer,
}

impl Role {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Role::Reader => "reads",
            Role::Writer => "writes",
        }
    }
}

/// What an end says about the Rust type it carries: a cheap structural fingerprint.
///
/// Two programs agree on a type when its name (`type_name`, the path as the compiler
/// spells it, generics included), its size (`size_of`) and the user's tag (empty unless
/// the builder set one) agree. That catches the usual mistakes: another type at the
/// path, a struct that gained, lost or widened a field in one program's build, a
/// generic instantiated differently. It cannot see a change that keeps the name and the
/// size (two fields swapped, `u32` turned `f32`, a variant renamed, another serde
/// attribute): a tag naming the type's version (`Named::tag("Job v2")`) covers those,
/// and a value that still does not decode is a codec error naming the channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WireType {
    pub(crate) name: &'static str,
    pub(crate) size: usize,
    pub(crate) tag: Option<std::sync::Arc<str>>,
}

impl WireType {
    pub(crate) fn of<T>() -> WireType {
        WireType {
            name: std::any::type_name::<T>(),
            size: std::mem::size_of::<T>(),
            tag: None,
        }
    }

    /// A checksum of the name, size and tag together.
    fn fingerprint(&self) -> u32 {
        let mut bytes = Vec::with_capacity(self.name.len() + 16);
        bytes.extend_from_slice(self.name.as_bytes());
        bytes.extend_from_slice(&(self.size as u64).to_le_bytes());
        bytes.extend_from_slice(self.tag.as_deref().unwrap_or("").as_bytes());
        frame::checksum(&bytes)
    }
}

/// The first frame each side sends: who it is and what it carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Hello {
    pub(crate) version: u16,
    pub(crate) role: Role,
    pub(crate) channel: String,
    pub(crate) type_name: String,
    /// `size_of` the type in the sender's build.
    pub(crate) type_size: u64,
    /// The user's tag for the type (empty: none).
    pub(crate) tag: String,
    /// A checksum of name, size and tag: a peer whose fields read the same but whose
    /// fingerprint differs is not a csp end of this version.
    pub(crate) fingerprint: u32,
    pub(crate) max_frame: u64,
    /// How many values the writer may run ahead of the reader (0: rendezvous).
    pub(crate) buffer: u32,
}

impl Hello {
    pub(crate) fn new(role: Role, channel: &str, ty: &WireType, max_frame: usize) -> Hello {
        Hello {
            version: VERSION,
            role,
            channel: channel.to_string(),
            type_name: ty.name.to_string(),
            type_size: ty.size as u64,
            tag: ty.tag.as_deref().unwrap_or("").to_string(),
            fingerprint: ty.fingerprint(),
            max_frame: max_frame as u64,
            buffer: 0,
        }
    }

    /// The same hello for a channel buffering `buffer` values.
    pub(crate) fn buffered(mut self, buffer: u32) -> Hello {
        self.buffer = buffer;
        self
    }

    /// Why `peer` cannot be this end's partner, if it cannot.
    pub(crate) fn mismatch(&self, peer: &Hello) -> Option<String> {
        if peer.version != self.version {
            return Some(format!(
                "protocol version {} against {}",
                peer.version, self.version
            ));
        }
        if peer.role == self.role {
            return Some(format!(
                "both ends {} (one must read, the other write)",
                self.role.describe()
            ));
        }
        if peer.type_name != self.type_name {
            return Some(format!(
                "the peer's end carries `{}`, this end carries `{}`",
                peer.type_name, self.type_name
            ));
        }
        if peer.type_size != self.type_size {
            return Some(format!(
                "`{}` is {} bytes in the peer's build and {} here: \
                 the two programs were built from different definitions of it",
                self.type_name, peer.type_size, self.type_size
            ));
        }
        if peer.tag != self.tag {
            return Some(format!(
                "the peer tags `{}` {:?}, this end {:?}",
                self.type_name, peer.tag, self.tag
            ));
        }
        if peer.fingerprint != self.fingerprint {
            return Some(format!(
                "the fingerprint of `{}` differs (a peer of another protocol build?)",
                self.type_name
            ));
        }
        if peer.channel != self.channel {
            return Some(format!(
                "the peer expects channel '{}', this is channel '{}'",
                peer.channel, self.channel
            ));
        }
        if peer.buffer != self.buffer {
            return Some(format!(
                "the peer's end buffers {} values, this end {} (both must say the same)",
                peer.buffer, self.buffer
            ));
        }
        None
    }
}

/// One message of the protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Frame {
    Hello(Hello),
    Refuse(String),
    Data {
        seq: u32,
        firm: bool,
        value: Vec<u8>,
    },
    Ack(u32),
    Claim(u32),
    Confirm(u32),
    Withdraw(u32),
    Poison,
    Retire,
}

const HELLO: u8 = 1;
const REFUSE: u8 = 2;
const DATA: u8 = 3;
const ACK: u8 = 4;
const CLAIM: u8 = 5;
const CONFIRM: u8 = 6;
const WITHDRAW: u8 = 7;
const POISON: u8 = 8;
const RETIRE: u8 = 9;

impl Frame {
    /// Appends the whole frame (header and payload) to `out`, which it clears first.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), FrameError> {
        out.clear();
        out.resize(HEADER, 0);
        match self {
            Frame::Hello(h) => {
                out.push(HELLO);
                // A hello is a few strings: postcard cannot fail on it.
                let body = postcard::to_allocvec(h).unwrap_or_default();
                out.extend_from_slice(&body);
            }
            Frame::Refuse(reason) => {
                out.push(REFUSE);
                out.extend_from_slice(reason.as_bytes());
            }
            Frame::Data { seq, firm, value } => {
                Frame::data_prefix(out, *seq, *firm);
                out.extend_from_slice(value);
            }
            Frame::Ack(s) => Frame::numbered(out, ACK, *s),
            Frame::Claim(s) => Frame::numbered(out, CLAIM, *s),
            Frame::Confirm(s) => Frame::numbered(out, CONFIRM, *s),
            Frame::Withdraw(s) => Frame::numbered(out, WITHDRAW, *s),
            Frame::Poison => out.push(POISON),
            Frame::Retire => out.push(RETIRE),
        }
        Frame::seal(out)
    }

    /// Starts a data frame in `out` (cleared): the value's bytes follow, then [`seal`].
    pub(crate) fn data_prefix(out: &mut Vec<u8>, seq: u32, firm: bool) {
        out.clear();
        out.resize(HEADER, 0);
        out.push(DATA);
        out.push(u8::from(firm));
        out.extend_from_slice(&seq.to_le_bytes());
    }

    /// Writes the header of the frame whose payload follows it in `out`.
    pub(crate) fn seal(out: &mut [u8]) -> Result<(), FrameError> {
        let header = frame::header(&out[HEADER..], u32::MAX as usize)?;
        out[..HEADER].copy_from_slice(&header);
        Ok(())
    }

    fn numbered(out: &mut Vec<u8>, kind: u8, seq: u32) {
        out.push(kind);
        out.extend_from_slice(&seq.to_le_bytes());
    }

    /// The frame a checked payload holds.
    pub(crate) fn decode(payload: &[u8]) -> Result<Frame, String> {
        let (&kind, body) = payload.split_first().ok_or("an empty frame")?;
        let seq = |at: usize| -> Result<u32, String> {
            body.get(at..at + 4)
                .and_then(|b| b.try_into().ok())
                .map(u32::from_le_bytes)
                .ok_or_else(|| format!("a frame of kind {kind} is too short"))
        };
        Ok(match kind {
            HELLO => Frame::Hello(
                postcard::from_bytes(body).map_err(|e| format!("a malformed hello: {e}"))?,
            ),
            REFUSE => Frame::Refuse(String::from_utf8_lossy(body).into_owned()),
            DATA => {
                let firm = *body.first().ok_or("a data frame is too short")? != 0;
                Frame::Data {
                    seq: seq(1)?,
                    firm,
                    value: body[5..].to_vec(),
                }
            }
            ACK => Frame::Ack(seq(0)?),
            CLAIM => Frame::Claim(seq(0)?),
            CONFIRM => Frame::Confirm(seq(0)?),
            WITHDRAW => Frame::Withdraw(seq(0)?),
            POISON => Frame::Poison,
            RETIRE => Frame::Retire,
            other => return Err(format!("unknown frame kind {other}")),
        })
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn ty(name: &'static str, size: usize, tag: Option<&str>) -> WireType {
        WireType {
            name,
            size,
            tag: tag.map(Into::into),
        }
    }

    fn round_trip(f: Frame) {
        let mut out = Vec::new();
        f.encode(&mut out).unwrap();
        let payload = frame::read(&out, 1 << 20).unwrap();
        assert_eq!(Frame::decode(payload).unwrap(), f);
    }

    #[test]
    fn every_frame_round_trips() {
        round_trip(Frame::Hello(Hello::new(
            Role::Writer,
            "jobs",
            &ty("u32", 4, Some("v1")),
            64,
        )));
        round_trip(Frame::Hello(
            Hello::new(Role::Reader, "jobs", &WireType::of::<u8>(), 64).buffered(8),
        ));
        round_trip(Frame::Refuse("busy".into()));
        round_trip(Frame::Data {
            seq: 7,
            firm: true,
            value: vec![1, 2, 3],
        });
        round_trip(Frame::Data {
            seq: u32::MAX,
            firm: false,
            value: vec![],
        });
        for f in [
            Frame::Ack(1),
            Frame::Claim(2),
            Frame::Confirm(3),
            Frame::Withdraw(4),
        ] {
            round_trip(f);
        }
        round_trip(Frame::Poison);
        round_trip(Frame::Retire);
    }

    #[test]
    fn short_and_unknown_frames_are_errors_not_panics() {
        assert!(Frame::decode(&[]).is_err());
        assert!(Frame::decode(&[ACK, 1]).unwrap_err().contains("too short"));
        assert!(Frame::decode(&[DATA]).is_err());
        assert!(Frame::decode(&[200]).unwrap_err().contains("unknown"));
        assert!(Frame::decode(&[HELLO, 0xff, 0xff]).is_err());
    }

    #[test]
    fn hellos_name_what_does_not_match() {
        let job = ty("app::Job", 16, None);
        let me = Hello::new(Role::Reader, "jobs", &job, 64);
        assert_eq!(
            me.mismatch(&Hello::new(Role::Writer, "jobs", &job, 64)),
            None
        );
        let two_readers = me.mismatch(&Hello::new(Role::Reader, "jobs", &job, 64));
        assert!(two_readers.unwrap().contains("both ends read"));
        let other_type = me
            .mismatch(&Hello::new(Role::Writer, "jobs", &ty("u8", 1, None), 64))
            .unwrap();
        assert!(other_type.contains("`u8`") && other_type.contains("`app::Job`"));
        let other_channel = me.mismatch(&Hello::new(Role::Writer, "results", &job, 64));
        assert!(other_channel.unwrap().contains("'results'"));
        let buffered = me.mismatch(&Hello::new(Role::Writer, "jobs", &job, 64).buffered(4));
        assert!(buffered.unwrap().contains("buffers 4 values, this end 0"));
    }

    #[test]
    fn the_fingerprint_tells_sizes_and_tags_apart_but_not_same_size_layouts() {
        let me = Hello::new(Role::Reader, "jobs", &ty("app::Job", 16, None), 64);
        // The same struct, grown by a field in the peer's build.
        let grown = me
            .mismatch(&Hello::new(
                Role::Writer,
                "jobs",
                &ty("app::Job", 24, None),
                64,
            ))
            .unwrap();
        assert!(
            grown.contains("24 bytes in the peer's build and 16"),
            "{grown}"
        );
        let tagged = me
            .mismatch(&Hello::new(
                Role::Writer,
                "jobs",
                &ty("app::Job", 16, Some("v2")),
                64,
            ))
            .unwrap();
        assert!(tagged.contains("\"v2\""), "{tagged}");
        // A change that keeps name and size (fields swapped) is not seen: documented.
        let swapped = Hello::new(Role::Writer, "jobs", &ty("app::Job", 16, None), 64);
        assert_eq!(me.mismatch(&swapped), None);
        assert_ne!(
            ty("a", 4, None).fingerprint(),
            ty("a", 4, Some("x")).fingerprint()
        );
    }

    #[test]
    fn a_buffered_reader_acks_every_half_buffer() {
        assert_eq!(ack_every(0), 1);
        assert_eq!(ack_every(1), 1);
        assert_eq!(ack_every(2), 1);
        assert_eq!(ack_every(3), 2);
        assert_eq!(ack_every(64), 32);
    }
}
