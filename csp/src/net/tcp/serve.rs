//! Python's accept loop as a process: a network of its own for every client, joined as
//! it ends; [`serve_until`] bounds how many run at once and stops on a channel.

use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::time::Duration;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

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
/// A client's network is joined as soon as it ends, so serving forever keeps no
/// finished thread; to stop a server, or bound how many clients it serves at once,
/// use [`serve_until`].
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
    let server = Server::new(name.clone(), framing, usize::MAX);
    Process::new(name, move || {
        server.run(listener, handler, |served| {
            match clients.map_or(true, |n| served.clients < n) {
                true => Control::Go,
                false => Control::Finish,
            }
        })
    })
}

/// A server as [`serve`]'s, without a limit on the number of clients, that serves at
/// most `concurrent` of them at once (a client beyond that waits in the listener's
/// backlog until one ends; so the server's threads are bounded, four per client
/// served) and stops when `stop` is written to or retired (dropped): it stops
/// accepting, closes the receiving side of every client still connected (each one's
/// input ends, as if the client had closed: its handler finishes, its replies are
/// sent), joins their networks and returns what it [`Served`]. When `stop` is
/// poisoned, the clients are cut off both ways and the server stops with the poison.
/// It looks at `stop` at least every 50 ms.
///
/// ```
/// use std::io::{BufRead, BufReader, Write};
/// use std::net::{TcpListener, TcpStream};
/// use csp::net::tcp::{self, Framing};
/// use csp::{Channel, Parallel, Process};
///
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let addr = listener.local_addr()?;
/// let (stop_tx, stop) = Channel::<()>::new().one2one();
/// let server = tcp::serve_until("echo", listener, Framing::Lines, 8, stop, |client| {
///     Process::new("echo", move || {
///         for line in client.input.iter() {
///             client.output.write(line)?;
///         }
///         Ok(())
///     })
/// });
/// let admin = Process::with_ends("admin", stop_tx, move |stop| {
///     let mut s = TcpStream::connect(addr)?; // a client that stays connected
///     s.write_all(b"hi\n")?;
///     let mut reply = String::new();
///     BufReader::new(&s).read_line(&mut reply)?;
///     stop.write(())?; // the server stops; this client's input ends
///     Ok(reply)
/// });
/// let results = Parallel::new().add(server.map(|s| s.clients.to_string())).add(admin).run()?;
/// assert_eq!(results, [Some("1".to_string()), Some("hi\n".to_string())]);
/// # Ok::<(), csp::BoxError>(())
/// ```
pub fn serve_until<F>(
    name: impl Into<String>,
    listener: TcpListener,
    framing: Framing,
    concurrent: usize,
    stop: Input<()>,
    handler: F,
) -> Process<Served>
where
    F: FnMut(Client) -> Process<()> + Send + 'static,
{
    let name = name.into();
    let server = Server::new(name.clone(), framing, concurrent.max(1));
    Process::with_ends(name, stop, move |stop| {
        server.run(listener, handler, |_| match stop.try_read() {
            Ok(()) => Control::Stop,
            Err(e) if e.is_retired() => Control::Stop,
            Err(e) if e.is_poisoned() => Control::Abort(e.into()),
            Err(_) => Control::Go, // nobody wrote: go on serving
        })
    })
}

/// What the server does next, asked between two clients and every 50 ms.
enum Control {
    Go,
    /// Stop accepting; the clients' networks end when they do.
    Finish,
    /// Stop accepting; the clients' inputs end, their networks finish.
    Stop,
    /// Stop accepting, cut the clients off, end with this error.
    Abort(BoxError),
}

/// How often a waiting server asks whether to stop.
const LOOK_EVERY: Duration = Duration::from_millis(50);

/// A client's network, running.
struct Running {
    /// "tcp bridge 'echo[3]' for 127.0.0.1:5555", for its failures.
    place: String,
    network: Spawned<Vec<Option<()>>>,
    /// The connection, to end it when the server stops.
    stream: TcpStream,
}

/// The accept loop shared by [`serve`] and [`serve_until`].
struct Server {
    name: String,
    framing: Framing,
    concurrent: usize,
}

impl Server {
    fn new(name: String, framing: Framing, concurrent: usize) -> Server {
        Server {
            name,
            framing,
            concurrent,
        }
    }

    /// Accepts and serves clients while `control` says go; then ends them as it says
    /// and joins every network.
    fn run<F>(
        &self,
        listener: TcpListener,
        mut handler: F,
        mut control: impl FnMut(&Served) -> Control,
    ) -> Result<Served, BoxError>
    where
        F: FnMut(Client) -> Process<()>,
    {
        let failed = |what: &str, e: std::io::Error| -> BoxError {
            format!("tcp server '{}': {what}: {e}", self.name).into()
        };
        listener
            .set_nonblocking(true)
            .map_err(|e| failed("cannot listen", e))?;
        let mut running: Vec<Running> = Vec::new();
        let mut served = Served::default();
        let ending = loop {
            self.reap(&mut running, &mut served, false);
            match control(&served) {
                Control::Go => {}
                ending => break ending,
            }
            if running.len() >= self.concurrent {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            let (stream, peer) = match listener.accept() {
                Ok(accepted) => accepted,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    wait_for_client(&listener, LOOK_EVERY)
                        .map_err(|e| failed("cannot accept", e))?;
                    continue;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionAborted => continue,
                Err(e) => break Control::Abort(failed("cannot accept", e)),
            };
            running.push(self.start(stream, peer, served.clients, &mut handler)?);
            served.clients += 1;
        };
        let how = match &ending {
            Control::Abort(_) => Some(Shutdown::Both),
            Control::Stop => Some(Shutdown::Read),
            Control::Go | Control::Finish => None,
        };
        for client in &running {
            if let Some(how) = how {
                let _ = client.stream.shutdown(how);
            }
        }
        self.reap(&mut running, &mut served, true);
        match ending {
            Control::Abort(e) => Err(e),
            _ => Ok(served),
        }
    }

    /// Starts the network of client number `index`.
    fn start<F>(
        &self,
        stream: TcpStream,
        peer: SocketAddr,
        index: usize,
        handler: &mut F,
    ) -> Result<Running, BoxError>
    where
        F: FnMut(Client) -> Process<()>,
    {
        let bridge = format!("{}[{index}]", self.name);
        let place = format!("tcp bridge '{bridge}' for {peer}");
        let _ = stream.set_nonblocking(false);
        let kept = stream.try_clone().map_err(|e| format!("{place}: {e}"))?;
        let network = client_network(&bridge, stream, peer, index, self.framing, handler)?;
        Ok(Running {
            place,
            network: spawn(network)?,
            stream: kept,
        })
    }

    /// Joins the networks that ended (all of them, waiting, if `all`), recording
    /// their failures.
    fn reap(&self, running: &mut Vec<Running>, served: &mut Served, all: bool) {
        let mut i = 0;
        while i < running.len() {
            if !all && !running[i].network.is_finished() {
                i += 1;
                continue;
            }
            let client = running.swap_remove(i);
            if let Err(e) = client.network.join() {
                served.failures.push(format!("{}: {e}", client.place));
            }
        }
    }
}

/// Waits until `listener` has a client or `timeout` passed.
fn wait_for_client(listener: &TcpListener, timeout: Duration) -> std::io::Result<()> {
    let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
    let timeout = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
    match poll(&mut fds, timeout) {
        Ok(_) | Err(nix::errno::Errno::EINTR) => Ok(()),
        Err(e) => Err(e.into()),
    }
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
