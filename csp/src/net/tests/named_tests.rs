//! Named channels: bad peers, refusals, socket files, poison and timeouts, bridges.

use super::*;

#[test]
fn garbage_before_the_hello_is_refused_and_the_listener_goes_on() {
    let at = path("garbage");
    let rx = named::listen::<u32>(&at).unwrap();
    let garbage = thread::spawn({
        let at = at.clone();
        move || {
            let mut s = UnixStream::connect(&at).unwrap();
            s.write_all(b"GET / HTTP/1.0\r\n\r\n and more bytes than a header")
                .unwrap();
            let mut answer = Vec::new();
            let _ = s.read_to_end(&mut answer);
            String::from_utf8_lossy(&answer).into_owned()
        }
    });
    // The listener meets the garbage at its first read, turns it away, goes on.
    let good = thread::spawn({
        let at = at.clone();
        move || {
            thread::sleep(Duration::from_millis(50)); // (after the garbage, usually)
            named::connect::<u32>(&at).unwrap().write(7).is_ok()
        }
    });
    assert_eq!(rx.read().unwrap(), 7);
    let answer = garbage.join().unwrap();
    assert!(answer.contains("garbage"), "{answer}");
    assert!(good.join().unwrap());
}

#[test]
fn garbage_after_the_hello_is_an_error_naming_the_path() {
    let at = path("garbage-later");
    let rx = named::listen::<u32>(&at).unwrap();
    let peer = thread::spawn({
        let at = at.clone();
        move || {
            let link = fake_writer(&at, at.file_name().unwrap().to_str().unwrap());
            let mut s = UnixStream::from(raw_bytes_of(link));
            s.write_all(&[0xde; 64]).unwrap();
            thread::sleep(Duration::from_millis(200));
        }
    });
    let err = rx.read().unwrap_err();
    assert!(matches!(err, ChannelError::Transport { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("garbage") && text.contains(&*at.to_string_lossy()),
        "{text}"
    );
    // Broken for good: the next read says the same, without waiting.
    assert_eq!(rx.read().unwrap_err(), err);
    peer.join().unwrap();
}

#[test]
fn a_peer_that_disconnects_mid_message_is_an_error_and_nothing_is_delivered() {
    let at = path("half");
    let rx = named::listen::<u32>(&at).unwrap();
    let peer = thread::spawn({
        let at = at.clone();
        move || {
            let link = fake_writer(&at, at.file_name().unwrap().to_str().unwrap());
            let mut frame = Vec::new();
            Frame::Data {
                seq: 1,
                firm: true,
                value: vec![1, 2, 3, 4, 5, 6, 7, 8],
            }
            .encode(&mut frame)
            .unwrap();
            let mut s = UnixStream::from(raw_bytes_of(link));
            s.write_all(&frame[..frame.len() - 3]).unwrap();
            // Dropped here: the connection closes in the middle of the frame.
        }
    });
    let err = rx.read().unwrap_err();
    let text = err.to_string();
    assert!(text.contains("in the middle of a message"), "{text}");
    assert!(text.contains(&*at.to_string_lossy()), "{text}");
    peer.join().unwrap();
}

#[test]
fn a_second_program_is_refused_with_the_path_and_the_first_is_undisturbed() {
    let at = path("busy");
    let rx = named::listen::<u32>(&at).unwrap();
    let first = thread::spawn({
        let at = at.clone();
        move || {
            let tx = named::connect::<u32>(&at).unwrap();
            (0..100).try_for_each(|i| tx.write(i)).is_ok()
        }
    });
    assert_eq!(rx.read().unwrap(), 0);
    // Turned away while the end waits in an operation (it does its own I/O).
    let second = thread::spawn({
        let at = at.clone();
        move || named::connect::<u32>(&at).unwrap_err()
    });
    thread::sleep(Duration::from_millis(50));
    let rest: Vec<u32> = rx.iter().collect();
    assert_eq!(rest, (1..100).collect::<Vec<_>>());
    let second = second.join().unwrap();
    assert!(matches!(second, NetError::Refused { .. }), "{second}");
    let text = second.to_string();
    assert!(
        text.contains(&*at.to_string_lossy()) && text.contains("another peer"),
        "{text}"
    );
    assert!(first.join().unwrap());
}

#[test]
fn a_wrong_type_or_name_or_role_is_refused_with_the_reason() {
    let at = path("typed");
    let rx = Named::<u32>::at(&at).named("jobs").listen_reader().unwrap();
    let waiter = thread::spawn(move || rx.read_timeout(Duration::from_secs(20)));
    let wrong_type = Named::<String>::at(&at)
        .named("jobs")
        .connect_writer()
        .unwrap_err();
    let text = wrong_type.to_string();
    assert!(
        text.contains("`u32`") && text.contains("`alloc::string::String`"),
        "{text}"
    );
    assert!(text.contains(&*at.to_string_lossy()), "{text}");
    let wrong_name = Named::<u32>::at(&at)
        .named("results")
        .connect_writer()
        .unwrap_err();
    assert!(wrong_name.to_string().contains("'results'"), "{wrong_name}");
    let two_readers = Named::<u32>::at(&at)
        .named("jobs")
        .connect_reader()
        .unwrap_err();
    assert!(
        two_readers.to_string().contains("both ends read"),
        "{two_readers}"
    );
    // The listener was not disturbed: the right peer still gets through.
    let tx = Named::<u32>::at(&at)
        .named("jobs")
        .connect_writer()
        .unwrap();
    tx.write(5).unwrap();
    assert_eq!(waiter.join().unwrap().unwrap(), 5);
}

#[test]
fn stale_socket_files_are_replaced_live_ones_and_other_files_are_not() {
    let at = path("stale");
    drop(UnixListener::bind(&at).unwrap()); // a dead program's socket file
    assert!(at.exists());
    let live = named::listen::<u8>(&at).unwrap();
    let err = named::listen::<u8>(&at).unwrap_err();
    assert!(matches!(err, NetError::InUse { .. }), "{err}");
    drop(live);
    assert!(!at.exists(), "the listener removes its socket file");
    std::fs::write(&at, b"precious").unwrap();
    let err = named::listen::<u8>(&at).unwrap_err();
    assert!(matches!(err, NetError::NotASocket { .. }), "{err}");
    assert_eq!(std::fs::read(&at).unwrap(), b"precious");
    std::fs::remove_file(&at).unwrap();
}

#[test]
fn poison_and_retire_cross_both_ways() {
    for poison in [false, true] {
        // The writer ends the stream.
        let at = path("end-w");
        let rx = named::listen::<u32>(&at).unwrap();
        let t = thread::spawn({
            let at = at.clone();
            move || {
                let tx = named::connect::<u32>(&at).unwrap();
                tx.write(1).unwrap();
                if poison {
                    tx.poison()
                } else {
                    tx.retire()
                }
            }
        });
        assert_eq!(rx.read().unwrap(), 1);
        let err = rx.read().unwrap_err();
        assert_eq!(
            (err.is_poisoned(), err.is_retired()),
            (poison, !poison),
            "{err}"
        );
        t.join().unwrap();
        // The reader ends it: the writer's pending write fails with its value back.
        let at = path("end-r");
        let tx = Named::<u32>::at(&at).listen_writer().unwrap();
        let t = thread::spawn({
            let at = at.clone();
            move || {
                let rx = named::connect_reader::<u32>(&at).unwrap();
                assert_eq!(rx.read().unwrap(), 1);
                if poison {
                    rx.poison()
                } else {
                    rx.retire()
                }
            }
        });
        tx.write(1).unwrap();
        let err = tx.write(2).unwrap_err();
        assert_eq!(err.error().is_poisoned(), poison, "{err}");
        assert_eq!(err.into_inner(), Some(2));
        t.join().unwrap();
    }
}

#[test]
fn timeouts_on_both_sides_lose_and_duplicate_nothing() {
    const N: u32 = 2_000;
    let at = path("racy");
    let rx = named::listen::<u32>(&at).unwrap();
    let writer = thread::spawn({
        let at = at.clone();
        move || {
            let tx = named::connect::<u32>(&at).unwrap();
            let mut timeouts = 0;
            for i in 0..N {
                let mut v = i;
                // A tentative value needs one round trip to be claimed: the wait
                // grows with each attempt, so every value gets through eventually.
                for attempt in 0.. {
                    let wait = Duration::from_micros(u64::from(i % 7) * 40 + attempt * 100);
                    match tx.write_timeout(v, wait) {
                        Ok(()) => break,
                        Err(e) if e.error().is_timeout() => {
                            timeouts += 1;
                            v = e.into_inner().unwrap();
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
            }
            timeouts
        }
    });
    let mut got = Vec::new();
    let mut timeouts = 0;
    while got.len() < N as usize {
        let wait = Duration::from_micros(u64::from(got.len() as u32 % 5) * 50);
        match rx.read_timeout(wait) {
            Ok(v) => got.push(v),
            Err(e) if e.is_timeout() => timeouts += 1,
            Err(e) => panic!("{e}"),
        }
    }
    let writer_timeouts = writer.join().unwrap();
    assert_eq!(got, (0..N).collect::<Vec<_>>());
    assert!(rx.read().unwrap_err().is_retired());
    // Not a speed check: only that the racing paths were taken at all.
    assert!(timeouts + writer_timeouts > 0);
}

#[test]
fn a_value_over_the_frame_limit_is_refused_whole() {
    let at = path("large");
    let rx = Named::<Vec<u8>>::at(&at)
        .max_frame(1024)
        .listen_reader()
        .unwrap();
    let t = thread::spawn({
        let at = at.clone();
        move || {
            let tx = Named::<Vec<u8>>::at(&at)
                .max_frame(1 << 20)
                .connect_writer()
                .unwrap();
            // Over the reader's limit: refused before it is sent, and handed back.
            let err = tx.write(vec![0; 4096]).unwrap_err();
            assert!(matches!(
                err.error(),
                ChannelError::TooLarge { limit: 1024, .. }
            ));
            assert_eq!(err.into_inner().map(|v| v.len()), Some(4096));
            tx.write(vec![1; 100]).is_ok()
        }
    });
    assert_eq!(rx.read().unwrap(), vec![1; 100]);
    assert!(t.join().unwrap());
}

#[test]
fn bridges_carry_values_and_poison_across_a_network() {
    let at = path("bridge");
    let remote = named::listen::<u32>(&at).unwrap();
    let other = thread::spawn({
        let at = at.clone();
        move || {
            let tx = named::connect::<u32>(&at).unwrap();
            for i in 0..50 {
                tx.write(i).unwrap();
            }
            tx.poison();
        }
    });
    let (tx, rx) = crate::Channel::<u32>::new().one2one();
    let result = Parallel::new()
        .add(crate::net::bridge::pump_in("in", remote, tx).map(|()| 0))
        .add(Process::with_ends("sum", rx, |rx| {
            Ok(rx.iter().sum::<u32>())
        }))
        .run()
        .unwrap();
    // Poison crossed: the sum's loop ended on it, so it counts as stopped (None).
    assert_eq!(result, vec![None, None]);
    other.join().unwrap();
}

#[test]
fn pump_out_never_reports_an_undelivered_value_written() {
    let at = path("bridge-out");
    let remote = Named::<u32>::at(&at).listen_writer().unwrap();
    let other = thread::spawn({
        let at = at.clone();
        move || {
            let rx = named::connect_reader::<u32>(&at).unwrap();
            let first = rx.read().unwrap();
            rx.retire(); // leaves after one value
            first
        }
    });
    let (tx, rx) = crate::Channel::<u32>::new().one2one();
    let refused = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = refused.clone();
    let writer = Process::with_ends("writer", tx, move |tx| {
        tx.write(1)?;
        // The remote reader has gone: this value is not taken, and `write` says so.
        let second = tx.write(2);
        flag.store(second.is_err(), Ordering::SeqCst);
        Ok(())
    });
    Parallel::new()
        .add(writer)
        .add(crate::net::bridge::pump_out("out", rx, remote))
        .run()
        .unwrap();
    assert!(refused.load(Ordering::SeqCst));
    assert_eq!(other.join().unwrap(), 1);
}

/// Poison from either side, or both at once, racing with the stream: whatever the
/// interleaving, the writer's count of `Ok` writes equals what the reader took (no
/// accepted value lost, none taken unreported), both ends end `Poisoned`, nothing hangs.
#[test]
fn poison_racing_the_stream_from_either_side_keeps_the_counts_equal() {
    for round in 0..150u32 {
        let at = path("poison-race");
        let rx = named::listen::<u32>(&at).unwrap();
        let (reader_stops, writer_stops) = match round % 3 {
            0 => (Some(round % 17), None),
            1 => (None, Some(round % 13)),
            _ => (Some(round % 11), Some(round % 7)),
        };
        let writer = thread::spawn({
            let at = at.clone();
            move || {
                let tx = match named::connect::<u32>(&at) {
                    Ok(tx) => tx,
                    // Poisoned before it accepted anyone: the path closed.
                    Err(_) if reader_stops == Some(0) => return (0, Some(())),
                    Err(e) => panic!("{e}"),
                };
                let mut written = 0;
                loop {
                    if writer_stops == Some(written) {
                        tx.poison();
                        return (written, None);
                    }
                    match tx.write(written) {
                        Ok(()) => written += 1,
                        Err(e) => {
                            assert_eq!(e.into_inner(), Some(written), "value handed back");
                            return (written, Some(()));
                        }
                    }
                }
            }
        });
        let mut taken = 0;
        let reader_error = loop {
            if reader_stops == Some(taken) {
                rx.poison();
                break None;
            }
            match rx.read() {
                Ok(v) => {
                    assert_eq!(v, taken);
                    taken += 1;
                }
                Err(e) => break Some(e),
            }
        };
        let (written, writer_failed) = writer.join().unwrap();
        assert_eq!(
            written, taken,
            "round {round}: acked writes against values taken"
        );
        if let Some(e) = reader_error {
            assert!(e.is_poisoned(), "round {round}: {e}");
        }
        if writer_failed.is_some() {
            assert!(rx.is_poisoned());
        }
    }
}
