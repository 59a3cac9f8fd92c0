//! Values through the frames of a channel that crosses OS processes: whatever a value
//! is, it comes out as it went in; whatever bytes arrive, the reader gets an error
//! naming the channel, never a panic (the byte level is tested in `csp::channel::shm`).

use csp::{Channel, ChannelError};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum Message {
    Empty,
    Text(String),
    Numbers(Vec<i64>),
    Nested {
        id: u64,
        tags: Vec<String>,
        parent: Option<Box<Message>>,
    },
    Pair(u8, f32),
}

fn message() -> impl Strategy<Value = Message> {
    let leaf = prop_oneof![
        Just(Message::Empty),
        ".{0,40}".prop_map(Message::Text),
        prop::collection::vec(any::<i64>(), 0..64).prop_map(Message::Numbers),
        (any::<u8>(), -1.0e6f32..1.0e6).prop_map(|(a, b)| Message::Pair(a, b)),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        (
            any::<u64>(),
            prop::collection::vec(".{0,8}", 0..4),
            prop::option::of(inner),
        )
            .prop_map(|(id, tags, parent)| Message::Nested {
                id,
                tags,
                parent: parent.map(Box::new),
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A batch of values written into a shared buffered channel reads back equal and
    /// in order, through encode, frame, slot, check and decode.
    #[test]
    fn values_round_trip_through_shared_frames(values in prop::collection::vec(message(), 1..32)) {
        let (tx, rx) = Channel::<Message>::new().named("frames").fifo(32).one2one();
        tx.share_with_forks().unwrap();
        for v in &values {
            tx.write(v.clone()).unwrap();
        }
        let back: Vec<Message> = (0..values.len()).map(|_| rx.read().unwrap()).collect();
        prop_assert_eq!(back, values);
    }

    /// Byte strings of any length and content round-trip too (the frame's length and
    /// checksum must not trip on any of them).
    #[test]
    fn byte_strings_round_trip(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let (tx, rx) = Channel::<Vec<u8>>::new().named("bytes").fifo(1).one2one();
        rx.share_with_forks().unwrap();
        tx.write(bytes.clone()).unwrap();
        prop_assert_eq!(rx.read().unwrap(), bytes);
    }
}

#[test]
fn a_value_over_the_frame_limit_is_refused_whole_and_handed_back() {
    let (tx, rx) = Channel::<Vec<u8>>::new().named("big").fifo(1).one2one();
    tx.share_with_forks().unwrap();
    let big = vec![7u8; 1 << 20];
    let err = tx.write(big.clone()).expect_err("over the 64 KiB default");
    assert!(
        matches!(err.error(), ChannelError::TooLarge { channel, .. } if &**channel == "big"),
        "{err}"
    );
    assert_eq!(
        err.into_inner(),
        Some(big),
        "the value comes back, not truncated"
    );
    // The channel goes on.
    tx.write(vec![1, 2, 3]).unwrap();
    assert_eq!(rx.read().unwrap(), vec![1, 2, 3]);
}

#[test]
fn the_frame_limit_is_set_per_channel() {
    let (tx, rx) = Channel::<Vec<u8>>::new()
        .named("small")
        .max_frame(64)
        .fifo(2)
        .one2one();
    rx.share_with_forks().unwrap();
    tx.write(vec![1; 32]).unwrap();
    let err = tx.write(vec![2; 100]).expect_err("over 64 bytes");
    assert!(
        matches!(err.error(), ChannelError::TooLarge { channel, limit: 64, .. } if &**channel == "small"),
        "{err}"
    );
    assert_eq!(rx.read().unwrap(), vec![1; 32]);
}
