//! Buffered named channels (`Named::buffer(n)`): how far the writer runs ahead, order
//! and completeness of streams, ending, and the hello's checks of buffer and type.

use super::*;

/// A buffered named channel at a fresh path: the listening reader and the connected
/// writer (the reader accepts its peer at its first operation, on another thread).
fn buffered_pair(name: &str, n: usize) -> (crate::net::NetInput<u32>, crate::net::NetOutput<u32>) {
    let at = path(name);
    let rx = Named::<u32>::at(&at).buffer(n).listen_reader().unwrap();
    let accepting = thread::spawn(move || {
        // Accepts the peer and takes its first value.
        assert_eq!(rx.read_timeout(Duration::from_secs(10)).unwrap(), u32::MAX);
        rx
    });
    let tx = Named::<u32>::at(&at).buffer(n).connect_writer().unwrap();
    tx.write(u32::MAX).unwrap(); // the accepting read takes it
    (accepting.join().unwrap(), tx)
}

#[test]
fn a_buffered_writer_runs_ahead_by_the_buffer_and_no_further() {
    let (rx, tx) = buffered_pair("ahead", 4);
    // The first value was taken, but its ack waits for a second one (every 2 of 4).
    for i in 0..3 {
        tx.write(i).unwrap(); // nobody reads: room for 4 unacked values
    }
    let err = tx.write_timeout(3, Duration::from_millis(50)).unwrap_err();
    assert!(err.error().is_timeout(), "{}", err.error());
    assert_eq!(err.into_inner(), Some(3)); // not sent: handed back whole
                                           // The reader takes one: with the first, two taken, one ack: room for two more.
    assert_eq!(rx.read().unwrap(), 0);
    tx.write_timeout(3, Duration::from_secs(10)).unwrap();
    tx.write_timeout(4, Duration::from_secs(10)).unwrap();
    drop(tx); // retires after the values: the reader gets them all, then Retired
    assert_eq!(rx.iter().collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert!(rx.read().unwrap_err().is_retired());
}

#[test]
fn a_buffered_stream_arrives_whole_and_in_order_whatever_the_buffer() {
    const N: u32 = 20_000;
    for n in [1, 2, 3, 64] {
        let (rx, tx) = buffered_pair(&format!("stream-{n}"), n);
        let writer = thread::spawn(move || {
            for i in 0..N {
                tx.write(i).unwrap();
            }
            // `tx` drops here, right after the last write: the values still in flight
            // and in the reader's socket must all be read before `Retired`.
        });
        let got: Vec<u32> = rx.iter().collect();
        writer.join().unwrap();
        assert_eq!(got.len(), N as usize, "buffer {n}");
        assert!(got.iter().copied().eq(0..N), "buffer {n}: out of order");
        assert!(rx.read().unwrap_err().is_retired());
    }
}

#[test]
fn a_reader_that_retires_or_poisons_stops_a_writer_waiting_for_room() {
    for poison in [false, true] {
        let (rx, tx) = buffered_pair(&format!("stop-{poison}"), 2);
        let writer = thread::spawn(move || {
            let mut sent = 0u32;
            loop {
                match tx.write(sent) {
                    Ok(()) => sent += 1,
                    Err(e) => return (sent, e.error().clone(), e.into_inner()),
                }
            }
        });
        thread::sleep(Duration::from_millis(50)); // the writer fills the buffer, waits
        if poison {
            rx.poison();
        } else {
            rx.retire();
        }
        let (sent, error, value) = writer.join().unwrap();
        assert!(sent >= 2, "the writer ran ahead: {sent}");
        assert_eq!(value, Some(sent), "the value not sent comes back");
        assert_eq!(error.is_poisoned(), poison, "{error}");
        assert_eq!(error.is_retired(), !poison, "{error}");
    }
}

#[test]
fn ends_that_disagree_on_the_buffer_or_the_tag_are_refused_with_the_reason() {
    let at = path("disagree");
    let rx = Named::<u32>::at(&at)
        .buffer(8)
        .tag("v2")
        .listen_reader()
        .unwrap();
    let reader = thread::spawn(move || rx.read_timeout(Duration::from_secs(10)));
    let rendezvous = Named::<u32>::at(&at)
        .tag("v2")
        .connect_writer()
        .unwrap_err();
    let text = rendezvous.to_string();
    assert!(matches!(rendezvous, NetError::Refused { .. }), "{text}");
    assert!(text.contains("buffers 0 values, this end 8"), "{text}");
    let old = Named::<u32>::at(&at)
        .buffer(8)
        .tag("v1")
        .connect_writer()
        .unwrap_err();
    assert!(old.to_string().contains("\"v1\""), "{old}");
    let good = Named::<u32>::at(&at)
        .buffer(8)
        .tag("v2")
        .connect_writer()
        .unwrap();
    good.write(5).unwrap();
    assert_eq!(reader.join().unwrap().unwrap(), 5);
}

#[test]
fn a_type_of_another_size_under_the_same_name_is_refused() {
    let at = path("size");
    let rx = named::listen::<u32>(&at).unwrap();
    let reader = thread::spawn(move || rx.read_timeout(Duration::from_secs(10)));
    // A fake writer whose `u32` is 8 bytes: another build's definition of the type.
    let stream = UnixStream::connect(&at).unwrap();
    let mut link = Link::new(stream.into(), 1 << 16);
    let mut ty = WireType::of::<u32>();
    ty.size = 8;
    let hello = Hello::new(
        Role::Writer,
        at.file_name().unwrap().to_str().unwrap(),
        &ty,
        64,
    );
    link.send(&Frame::Hello(hello)).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    match link.recv(Some(deadline), None) {
        Ok(Event::Frame(Frame::Refuse(reason))) => {
            assert!(
                reason.contains("8 bytes in the peer's build and 4"),
                "{reason}"
            )
        }
        other => panic!("not refused: {other:?}"),
    }
    let tx = named::connect::<u32>(&at).unwrap();
    tx.write(1).unwrap();
    assert_eq!(reader.join().unwrap().unwrap(), 1);
}
