//! Python's socket echo server (a thread per client, `conn.recv(1024)`, `conn.send`)
//! as a csp network: `tcp::serve` accepts clients and gives each one a network of its
//! own — a bridge from the socket into a channel, the handler process, a bridge from a
//! channel back to the socket — so the handler is ordinary channel code. The clients
//! here are plain sockets, as a Python client would be: they speak lines of text.
//!
//! | Python                                                   | csp                                                 |
//! |----------------------------------------------------------|-----------------------------------------------------|
//! | `sock.bind(('', port)); sock.listen(5)`                  | `TcpListener::bind("127.0.0.1:0")?`                 |
//! | `while True: conn, addr = sock.accept()` + a thread each | `tcp::serve("upper", listener, Framing::Lines, Some(n), handler)` |
//! | `data = conn.recv(1024)`                                 | `for line in client.input.iter()`                   |
//! | `conn.send(reply.encode())`                              | `client.output.write(reply)?`                       |
//! | a client that sends garbage or disconnects mid-message   | the server's `Served::failures`, naming the bridge and the client's address |
//!
//! `cargo run --example tcp_echo`

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

use csp::net::tcp::{self, Client, Framing};
use csp::{Parallel, Process};

const CLIENTS: usize = 5;

/// The per-client process: upper-cases every line, as the seed's server echoes.
fn upper_case(client: Client) -> Process<()> {
    Process::new(format!("upper[{}]", client.index), move || {
        for line in client.input.iter() {
            let reply = format!(
                "server got: [{}]",
                String::from_utf8_lossy(&line).to_uppercase()
            );
            client.output.write(reply.into_bytes())?;
        }
        Ok(()) // the client closed its side; dropping `output` closes ours
    })
}

/// A client as Python writes it: connect, send its name, read the reply, close.
fn client(addr: std::net::SocketAddr, name: String) -> std::io::Result<String> {
    let mut sock = TcpStream::connect(addr)?;
    sock.write_all(format!("{name}\n").as_bytes())?;
    let mut reply = String::new();
    BufReader::new(&sock).read_line(&mut reply)?;
    sock.shutdown(std::net::Shutdown::Write)?;
    Ok(reply.trim_end().to_string())
}

fn main() -> Result<(), csp::BoxError> {
    let listener = TcpListener::bind("127.0.0.1:0")?; // loopback only
    let addr = listener.local_addr()?;
    let server = tcp::serve("upper", listener, Framing::Lines, Some(CLIENTS), upper_case);
    println!("server: listening on loopback, serving {CLIENTS} clients");

    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| thread::spawn(move || client(addr, format!("client{i}"))))
        .collect();
    let served = Parallel::new()
        .add(server)
        .run()?
        .remove(0)
        .unwrap_or_default();
    for (i, c) in clients.into_iter().enumerate() {
        let reply = c.join().map_err(|_| "a client panicked")??;
        println!("client{i} got: {reply}");
    }
    println!(
        "server: served {} clients, {} failures",
        served.clients,
        served.failures.len()
    );
    Ok(())
}
