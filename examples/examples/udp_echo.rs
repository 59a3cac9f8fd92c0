//! Python's UDP sender and receiver (`socket(AF_INET, SOCK_DGRAM)`, `sendto`,
//! `recvfrom`) as a csp network: `udp::bind` turns the server's socket into two
//! channels of datagrams, `(address, bytes)` in and out, with a bridge process doing
//! the socket I/O, so the server is ordinary channel code that answers each datagram
//! to the address it came from. The clients are plain sockets, as Python's are.
//!
//! | Python                                              | csp                                                   |
//! |-----------------------------------------------------|-------------------------------------------------------|
//! | `s = socket(AF_INET, SOCK_DGRAM); s.bind((HOST, PORT))` | `let udp = udp::bind("127.0.0.1:0")?;` (its bridge goes in the network) |
//! | `data, addr = s.recvfrom(1024)`                     | `let (addr, data) = udp.input.read()?;` (`Udp::at(a).max_datagram(1024)`: a larger datagram is an error, not cut) |
//! | `s.sendto(reply, addr)`                             | `udp.output.write((addr, reply))?`                    |
//! | `s.close()`                                         | the server's ends drop: the bridge ends, the socket closes |
//!
//! `cargo run --example udp_echo`

use std::net::{SocketAddr, UdpSocket};
use std::thread;
use std::time::Duration;

use csp::net::udp::{Datagram, Udp};
use csp::{Input, Output, Parallel, Process};

const CLIENTS: usize = 3;

/// The server: answers each datagram, upper-cased, to its sender; after `n` it ends
/// (its ends drop, so the bridge ends and the socket closes).
fn server(n: usize, ends: (Input<Datagram>, Output<Datagram>)) -> Process<usize> {
    Process::with_ends("upper", ends, move |(requests, replies)| {
        for _ in 0..n {
            let (from, data) = requests.read()?;
            let reply = format!(
                "server got: [{}]",
                String::from_utf8_lossy(&data).to_uppercase()
            );
            replies.write((from, reply.into_bytes()))?;
        }
        Ok(n)
    })
}

/// A client as Python writes it: `sendto` the server, `recvfrom` its reply.
fn client(server: SocketAddr, name: String) -> std::io::Result<String> {
    let sock = UdpSocket::bind("127.0.0.1:0")?;
    sock.set_read_timeout(Some(Duration::from_secs(30)))?; // loopback: the reply comes
    sock.send_to(format!("Hello from {name}").as_bytes(), server)?;
    let mut buf = [0u8; 1024];
    let (n, _from) = sock.recv_from(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
}

fn main() -> Result<(), csp::BoxError> {
    let udp = Udp::at("127.0.0.1:0")
        .named("udp-server")
        .max_datagram(1024)
        .bind()?;
    let addr = udp.local;
    println!("server: bound on loopback, answering {CLIENTS} datagrams");

    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| thread::spawn(move || client(addr, format!("client{i}"))))
        .collect();
    let results = Parallel::new()
        .add(udp.bridge.map(|()| 0))
        .add(server(CLIENTS, (udp.input, udp.output)))
        .run()?;
    for (i, c) in clients.into_iter().enumerate() {
        let reply = c.join().map_err(|_| "a client panicked")??;
        println!("client{i} got: {reply}");
    }
    println!(
        "server: answered {} datagrams; the bridge ended",
        results[1].unwrap_or(0)
    );
    Ok(())
}
