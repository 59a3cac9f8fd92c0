//! UDP bridges on loopback: bursts and replies, ending, bad addresses, oversized
//! datagrams.

use std::net::{SocketAddr, UdpSocket};

use super::*;
use crate::net::udp::{self, Datagram, Udp};
use crate::{Input, NetworkError, Output};

/// An echo server's process: replies to each datagram with its bytes reversed, until
/// `n` were answered; then its ends drop and the bridge ends.
fn echo(n: usize, ends: (Input<Datagram>, Output<Datagram>)) -> Process<()> {
    Process::with_ends("echo", ends, move |(input, output)| {
        for _ in 0..n {
            let (from, mut bytes) = input.read()?;
            bytes.reverse();
            output.write((from, bytes))?;
        }
        Ok(())
    })
}

#[test]
fn a_server_answers_bursts_from_several_clients_and_every_reply_comes_back() {
    const CLIENTS: usize = 4;
    const BURSTS: usize = 20;
    const BURST: usize = 16; // far below loopback's receive buffer: nothing is dropped
    let server = udp::bind("127.0.0.1:0").unwrap();
    let addr = server.local;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            thread::spawn(move || {
                let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
                sock.set_read_timeout(Some(Duration::from_secs(20)))
                    .unwrap();
                let mut replies = Vec::new();
                for b in 0..BURSTS {
                    for i in 0..BURST {
                        let msg = format!("c{c} b{b} i{i}");
                        sock.send_to(msg.as_bytes(), addr).unwrap();
                    }
                    for _ in 0..BURST {
                        let mut buf = [0u8; 64];
                        let (n, from) = sock.recv_from(&mut buf).expect("a reply in time");
                        assert_eq!(from, addr);
                        replies.push(String::from_utf8(buf[..n].to_vec()).unwrap());
                    }
                }
                replies
            })
        })
        .collect();
    let ends = (server.input, server.output);
    Parallel::new()
        .add(server.bridge)
        .add(echo(CLIENTS * BURSTS * BURST, ends))
        .run()
        .unwrap();
    for (c, client) in clients.into_iter().enumerate() {
        let mut got = client.join().unwrap();
        let mut expected: Vec<String> = (0..BURSTS)
            .flat_map(|b| (0..BURST).map(move |i| format!("c{c} b{b} i{i}")))
            .map(|m| m.chars().rev().collect())
            .collect();
        got.sort();
        expected.sort();
        assert_eq!(got, expected, "client {c}");
    }
}

#[test]
fn the_bridge_ends_when_its_ends_retire_or_are_poisoned_and_frees_the_port() {
    for poison in [false, true] {
        let udp = udp::bind("127.0.0.1:0").unwrap();
        let addr = udp.local;
        let user = Process::with_ends("user", (udp.input, udp.output), move |(input, output)| {
            thread::sleep(Duration::from_millis(20));
            if poison {
                input.poison();
                output.poison();
            }
            Ok(())
        });
        let network = Parallel::new().add(udp.bridge).add(user);
        let (done_tx, done) = std::sync::mpsc::channel();
        thread::spawn(move || done_tx.send(network.run().map_err(|e| e.to_string())));
        // A watchdog: a bridge that did not end would hang the run.
        let results = done
            .recv_timeout(Duration::from_secs(20))
            .expect("the run ended");
        assert_eq!(results, Ok(vec![Some(()), Some(())]), "poison: {poison}");
        // The socket closed with the bridge: its port can be bound again.
        UdpSocket::bind(addr).expect("the port is free again");
    }
}

#[test]
fn a_client_sends_and_reads_the_reply_through_its_own_bridge() {
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    let server_addr = server.local_addr().unwrap();
    let answering = thread::spawn(move || {
        let mut buf = [0u8; 64];
        let (n, from) = server.recv_from(&mut buf).unwrap();
        server
            .send_to(&buf[..n].to_ascii_uppercase(), from)
            .unwrap();
    });
    let client = Udp::at("127.0.0.1:0").named("client").bind().unwrap();
    let ask = Process::with_ends(
        "ask",
        (client.input, client.output),
        move |(input, output)| {
            output.write((server_addr, b"ping".to_vec()))?;
            Ok(input.read()?)
        },
    );
    let results = Parallel::new()
        .add(client.bridge.map(|()| (server_addr, Vec::new())))
        .add(ask)
        .run()
        .unwrap();
    assert_eq!(results[1], Some((server_addr, b"PING".to_vec())));
    answering.join().unwrap();
}

/// The one failure of a run whose user process writes `datagram` through a bridge
/// (the write must fail with `Poisoned`, not return `Ok`).
fn send_failure(udp: udp::UdpChannels, datagram: Datagram) -> String {
    let user =
        Process::with_ends(
            "user",
            (udp.input, udp.output),
            move |(_input, output)| match output.write(datagram) {
                Err(e) if e.error().is_poisoned() => Ok(()),
                other => Err(format!("the write did not fail: {other:?}").into()),
            },
        );
    one_failure(Parallel::new().add(udp.bridge).add(user).run().unwrap_err())
}

/// The text of the only failure in `err`.
fn one_failure(err: NetworkError) -> String {
    match &err {
        NetworkError::Failed(failures) if failures.len() == 1 => failures[0].to_string(),
        _ => panic!("not one failure: {err}"),
    }
}

#[test]
fn a_bad_address_is_an_error_naming_the_bridge_and_the_address() {
    let err = Udp::at("192.0.2.1:0").named("far").bind().err().unwrap();
    let text = err.to_string();
    assert!(matches!(err, NetError::Listen { .. }), "{text}");
    assert!(text.contains("udp bridge 'far' at 192.0.2.1:0"), "{text}");
    // An IPv6 destination from an IPv4 socket: the write fails, never `Ok`, and the
    // bridge's error names itself and the destination.
    let udp = Udp::at("127.0.0.1:0").named("v4").bind().unwrap();
    let to: SocketAddr = "[::1]:9".parse().unwrap();
    let text = send_failure(udp, (to, b"x".to_vec()));
    assert!(
        text.contains("udp bridge 'v4' at 127.0.0.1:") && text.contains("to [::1]:9"),
        "{text}"
    );
}

#[test]
fn oversized_datagrams_are_refused_not_cut() {
    // To send: over the bridge's limit, the write fails and the bridge says why.
    let udp = Udp::at("127.0.0.1:0")
        .named("small")
        .max_datagram(100)
        .bind()
        .unwrap();
    let to: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let text = send_failure(udp, (to, vec![0; 101]));
    assert!(
        text.contains("a datagram of 101 bytes to send to 127.0.0.1:9")
            && text.contains("limit of 100 bytes"),
        "{text}"
    );
    // Received: over the limit, the receiving bridge fails naming the sender, and the
    // input is poisoned rather than given the first 100 bytes.
    let udp = Udp::at("127.0.0.1:0")
        .named("small")
        .max_datagram(100)
        .bind()
        .unwrap();
    let addr = udp.local;
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    let from = sender.local_addr().unwrap();
    sender.send_to(&[7; 150], addr).unwrap();
    let user = Process::with_ends(
        "user",
        (udp.input, udp.output),
        |(input, _output)| match input.read() {
            Err(e) if e.is_poisoned() => Ok(()),
            other => Err(format!("the read did not fail: {other:?}").into()),
        },
    );
    let text = one_failure(Parallel::new().add(udp.bridge).add(user).run().unwrap_err());
    assert!(
        text.contains(&format!("received from {from}")) && text.contains("limit of 100"),
        "{text}"
    );
}
