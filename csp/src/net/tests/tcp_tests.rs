//! TCP: typed channels, and serve's bridges with bad clients.

use super::*;

#[test]
fn tcp_typed_channels_refuse_a_wrong_type() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let rx = tcp::listen::<u64>(listener, "ticks").unwrap();
    let waiter = thread::spawn(move || rx.read());
    let err = tcp::connect::<String>(addr, "ticks").unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&addr.to_string()) && text.contains("`u64`"),
        "{text}"
    );
    tcp::connect::<u64>(addr, "ticks")
        .unwrap()
        .write(3)
        .unwrap();
    assert_eq!(waiter.join().unwrap().unwrap(), 3);
}

/// An echo server over `framing` for `clients` clients.
fn echo_server(
    framing: Framing,
    clients: usize,
) -> (std::net::SocketAddr, thread::JoinHandle<tcp::Served>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tcp::serve("echo", listener, framing, Some(clients), |client| {
        Process::new("handler", move || {
            for msg in client.input.iter() {
                client.output.write(msg)?;
            }
            Ok(())
        })
    });
    let handle = thread::spawn(move || {
        let mut results = Parallel::new().add(server).run().unwrap();
        results.remove(0).unwrap()
    });
    (addr, handle)
}

#[test]
fn tcp_bad_clients_are_reported_by_bridge_and_address_and_others_served() {
    let (addr, server) = echo_server(Framing::LengthPrefixed, 3);
    // A client that announces 10 bytes, sends 3 and disconnects.
    let mut half = TcpStream::connect(addr).unwrap();
    let half_addr = half.local_addr().unwrap();
    half.write_all(&[0, 0, 0, 10, 1, 2, 3]).unwrap();
    drop(half);
    // A client that announces more than the limit (garbage as a length).
    let mut garbage = TcpStream::connect(addr).unwrap();
    garbage.write_all(b"\xff\xff\xffGARBAGE").unwrap();
    let mut rest = Vec::new();
    let _ = garbage.read_to_end(&mut rest);
    // A good client, served as if nothing happened; its messages all come back.
    let mut good = TcpStream::connect(addr).unwrap();
    for i in 0..100u8 {
        good.write_all(&[0, 0, 0, 1, i]).unwrap();
    }
    good.shutdown(std::net::Shutdown::Write).unwrap();
    let mut echoed = Vec::new();
    good.read_to_end(&mut echoed).unwrap();
    let expected: Vec<u8> = (0..100u8).flat_map(|i| [0, 0, 0, 1, i]).collect();
    assert_eq!(echoed, expected);
    let served = server.join().unwrap();
    assert_eq!(served.clients, 3);
    assert_eq!(served.failures.len(), 2, "{:?}", served.failures);
    let half_failure = served
        .failures
        .iter()
        .find(|f| f.contains(&half_addr.to_string()));
    let half_failure = half_failure.expect("the half message's client is named");
    assert!(
        half_failure.contains("in the middle of a message"),
        "{half_failure}"
    );
    assert!(half_failure.contains("echo[0]"), "{half_failure}");
    assert!(
        served.failures.iter().any(|f| f.contains("over the limit")),
        "{:?}",
        served.failures
    );
}

#[test]
fn tcp_line_clients_connecting_twice_are_two_clients() {
    let (addr, server) = echo_server(Framing::Lines, 2);
    let talk = move |text: &str| {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(text.as_bytes()).unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let mut back = String::new();
        s.read_to_string(&mut back).unwrap();
        back
    };
    let a = thread::spawn(move || talk("a1\na2\r\n"));
    assert_eq!(talk("b1\n"), "b1\n");
    assert_eq!(a.join().unwrap(), "a1\na2\n");
    let served = server.join().unwrap();
    assert_eq!((served.clients, served.failures.len()), (2, 0));
}
