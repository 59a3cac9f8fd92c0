//! Python's accept loop as a process: a network of its own for every client.

use std::net::{SocketAddr, TcpListener, TcpStream};

use super::raw::{raw_in, raw_out, Framing};
use crate::channel::{Channel, Input, Output};
use crate::parallel::{spawn, Parallel, Spawned};
use crate::process::{BoxError, Process};

/// One client of [`serve`]: its messages in, the messages to send it, and where it
/// connected from.
///
/// ```
/// fn handle(client: csp::net::tcp::Client) -> csp::Process<()> {
///     csp::Process::new(format!("client {}", client.peer), move || {
///         for msg in client.input.iter() {
///             client.output.write(msg)?; // echo
///         }
///         Ok(())
///     })
/// }
/// # let _ = handle;
/// ```
pub struct Client {
    /// The messages the client sends, until it closes its side (then retired).
    pub input: Input<Vec<u8>>,
    /// The messages to send it; retiring (dropping) this closes the connection.
    pub output: Output<Vec<u8>>,
    /// The client's address.
    pub peer: SocketAddr,
    /// 0 for the first client served, 1 for the next, ...
    pub index: usize,
}

/// What [`serve`] did: how many clients it served, and the failures of their networks
/// (each naming the bridge, the client's address and what went wrong), so that one bad
/// client does not stop the server.
///
/// ```
/// let s = csp::net::tcp::Served { clients: 2, failures: vec![] };
/// assert!(s.failures.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Served {
    /// Clients accepted.
    pub clients: usize,
    /// Failures of client networks, as messages naming the bridge and the peer.
    pub failures: Vec<String>,
}

/// A process named `name` that accepts clients on `listener` (up to `clients` of them,
/// or forever with `None`) and runs, per client, a network of three processes: a
/// [`raw_in`] bridge, the process `handler` makes from the [`Client`], a [`raw_out`]
/// bridge. It ends once the last client's network ended, with what it [`Served`].
///
/// ```
/// use std::io::{Read, Write};
/// use std::net::{TcpListener, TcpStream};
/// use csp::net::tcp::{self, Framing};
///
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let addr = listener.local_addr()?;
/// let server = tcp::serve("count", listener, Framing::LengthPrefixed, Some(2), |client| {
///     csp::Process::new("counter", move || {
///         let n = client.input.iter().count() as u32; // messages until the client closes
///         Ok(client.output.write(n.to_be_bytes().to_vec())?)
///     })
/// });
/// let clients = std::thread::spawn(move || -> std::io::Result<Vec<Vec<u8>>> {
///     (0..2u8).map(|i| {
///         let mut s = TcpStream::connect(addr)?;
///         for _ in 0..=i {
///             s.write_all(&[0, 0, 0, 1, i])?;
///         }
///         s.shutdown(std::net::Shutdown::Write)?;
///         let mut reply = Vec::new();
///         s.read_to_end(&mut reply)?;
///         Ok(reply)
///     }).collect()
/// });
/// let served = csp::Sequence::new().add(server).run()?.remove(0).unwrap();
/// assert_eq!(clients.join().unwrap()?, [vec![0, 0, 0, 4, 0, 0, 0, 1], vec![0, 0, 0, 4, 0, 0, 0, 2]]);
/// assert_eq!((served.clients, served.failures.len()), (2, 0));
/// # Ok::<(), csp::BoxError>(())
/// ```
pub fn serve<F>(
    name: impl Into<String>,
    listener: TcpListener,
    framing: Framing,
    clients: Option<usize>,
    handler: F,
) -> Process<Served>
where
    F: FnMut(Client) -> Process<()> + Send + 'static,
{
    let name = name.into();
    let server = name.clone();
    Process::new(name, move || {
        let mut handler = handler;
        let mut running: Vec<(String, Spawned<Vec<Option<()>>>)> = Vec::new();
        let mut served = Served::default();
        while clients.map_or(true, |n| served.clients < n) {
            let (stream, peer) = listener
                .accept()
                .map_err(|e| format!("tcp server '{server}': cannot accept: {e}"))?;
            let index = served.clients;
            served.clients += 1;
            let bridge = format!("{server}[{index}]");
            let network = client_network(&bridge, stream, peer, index, framing, &mut handler)?;
            let place = format!("tcp bridge '{bridge}' for {peer}");
            running.push((place, spawn(network)?));
        }
        for (place, client) in running {
            if let Err(e) = client.join() {
                served.failures.push(format!("{place}: {e}"));
            }
        }
        Ok(served)
    })
}

/// The network serving one client.
fn client_network<F>(
    bridge: &str,
    stream: TcpStream,
    peer: SocketAddr,
    index: usize,
    framing: Framing,
    handler: &mut F,
) -> Result<Process<Vec<Option<()>>>, BoxError>
where
    F: FnMut(Client) -> Process<()>,
{
    let _ = stream.set_nodelay(true);
    let reader = stream
        .try_clone()
        .map_err(|e| format!("tcp bridge '{bridge}' for {peer}: {e}"))?;
    let (in_tx, in_rx) = Channel::<Vec<u8>>::new()
        .named(format!("{bridge}.in"))
        .one2one();
    let (out_tx, out_rx) = Channel::<Vec<u8>>::new()
        .named(format!("{bridge}.out"))
        .one2one();
    let client = Client {
        input: in_rx,
        output: out_tx,
        peer,
        index,
    };
    Ok(Parallel::new()
        .add(raw_in(format!("{bridge}.recv"), reader, framing, in_tx))
        .add(handler(client))
        .add(raw_out(format!("{bridge}.send"), out_rx, stream, framing))
        .into_process(bridge.to_string()))
}
