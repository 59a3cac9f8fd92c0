//! The network's shape, checked before anything runs.
//!
//! [`Parallel::run`](crate::Parallel::run) builds a graph (petgraph) of its processes —
//! nested `Parallel`s flattened, each named by its path (`farm/worker[3]`) — and the
//! channels whose ends they hold, and refuses a broken network with a [`Report`] a person
//! can act on. [`Parallel::validate`](crate::Parallel::validate) returns the same report
//! without running anything; [`Parallel::topology`](crate::Parallel::topology) gives the
//! graph itself, to draw (`to_dot`, `to_mermaid`) or to model-check (`to_cspm`, for FDR).
//!
//! Layer: topology, above process. It may use `process` (the processes as recorded:
//! paths, ends, models) and `channel` (what a channel is, without its type); `Parallel`
//! builds a [`Topology`] and acts on its [`Report`], never the other way round.
//!
//! **Errors** (the network is refused):
//! - a *dangling* channel: one side is held by processes of the network, and the other
//!   side's open ends by no process of it — unless the channel is declared part of the
//!   network's boundary with [`Parallel::boundary`](crate::Parallel::boundary) (e.g.
//!   `main` reads the results). A side whose ends were all dropped or retired before
//!   the run is not dangling: it is a finished stream (e.g. a pre-filled buffer);
//! - a rendezvous channel whose only parties are one process: it would wait on itself;
//! - a channel made with `Channel::local()` whose ends are held in two OS processes
//!   (forked processes, see [`Placement`](crate::Placement); the OS process that runs
//!   the network counts as one place, with its thread processes and any end held
//!   outside the processes): its values cannot be encoded to cross.
//!
//! **Warnings** (each a [`Lint`] that can be denied or allowed):
//! - [`Lint::RendezvousCycle`]: a strongly connected set of processes linked by
//!   rendezvous channels may deadlock; reported once per set, with one cycle named in
//!   order (listing every cycle would be exponential);
//! - [`Lint::OutsideEnds`]: a channel used inside the network whose ends are also held
//!   open outside it — typically a forgotten `drop(tx)` after cloning a shared writer
//!   into the processes, which would leave the readers waiting for a retirement;
//! - [`Lint::NoChannels`]: a process that records no channel ends (a closure that
//!   captures its ends hides them: use `Process::with_ends` or `#[process]`);
//! - [`Lint::ClientServer`]: channels declared as client→server request/reply pairs
//!   ([`Parallel::client_server`](crate::Parallel::client_server)) but a cycle breaks
//!   the client–server design rule. When the rule holds, the report says the network is
//!   deadlock-free by that rule (Welch, Martin), and states its assumption.
//!
//! ```
//! use csp::components::{delta, prefix, succ, sink};
//! use csp::{Channel, Parallel};
//!
//! let (a, a_in) = Channel::<u64>::new().named("a").one2one();
//! let (b, b_in) = Channel::<u64>::new().named("b").one2one();
//! let (c, c_in) = Channel::<u64>::new().named("c").one2one();
//! let (d, d_in) = Channel::<u64>::new().named("d").one2one();
//! let net: Parallel<()> = Parallel::new()
//!     .add(prefix(0, c_in, a))
//!     .add(delta(a_in, vec![b, d]))
//!     .add(succ(b_in, c))
//!     .add(sink(d_in).map(|_| ()));
//! let report = net.validate();
//! assert!(report.errors().is_empty());
//! // prefix -> delta -> succ -> prefix is a cycle of rendezvous channels: a warning.
//! assert_eq!(report.warnings().len(), 1);
//! assert!(report.to_string().contains("prefix -[a]-> delta -[b]-> succ -[c]-> prefix"));
//! ```

pub(crate) mod export;
mod graph;
mod report;

pub use report::{Level, Lint, Problem, ProblemKind, Report, Severity};

use std::collections::HashMap;
use std::sync::Arc;

use crate::channel::{ChannelInfo, Kind, Side};
use crate::process::ProcessNode;

/// What a `Parallel` declares about its network besides its processes.
#[derive(Clone, Default)]
pub(crate) struct Declarations {
    /// Channels with one side outside the network (held by the caller of `run`).
    pub(crate) boundary: Vec<u64>,
    /// Client→server request channels and their reply channels.
    pub(crate) client_server: Vec<(Vec<u64>, Vec<u64>)>,
    pub(crate) levels: Vec<(Lint, Level)>,
}

/// A channel as the topology sees it.
#[derive(Clone)]
pub(crate) struct ChannelNode {
    pub(crate) id: u64,
    pub(crate) name: Arc<str>,
    pub(crate) kind: Kind,
    pub(crate) policy: Arc<str>,
    pub(crate) can_cross: bool,
    /// Process indices holding a writing end (one entry per end).
    pub(crate) writers: Vec<usize>,
    /// Process indices holding a reading end.
    pub(crate) readers: Vec<usize>,
    pub(crate) boundary: bool,
    /// Open ends of each side, wherever they are (indexed by `Side`).
    pub(crate) open: [usize; 2],
    pub(crate) info: Arc<dyn ChannelInfo>,
}

impl ChannelNode {
    pub(crate) fn rendezvous(&self) -> bool {
        &*self.policy == "rendezvous"
    }

    /// Whether some open end is held outside the network's processes (by the caller of
    /// `run`, declared or not).
    pub(crate) fn held_outside(&self) -> bool {
        self.boundary
            || self.open[Side::Write as usize] > self.writers.len()
            || self.open[Side::Read as usize] > self.readers.len()
    }
}

/// One channel of a [`Topology`], as data.
///
/// ```
/// use csp::topology::ChannelSummary;
/// use csp::Kind;
/// use csp::components::{generate, sink};
/// use csp::{Channel, Parallel};
/// let (tx, rx) = Channel::<u8>::new().named("bytes").fifo(4).one2one();
/// let net: Parallel<()> = Parallel::new().add(generate(0..3, tx)).add(sink(rx).map(|_| ()));
/// let topology = net.topology();
/// assert_eq!(
///     topology.channels(),
///     [ChannelSummary {
///         name: "bytes".into(),
///         kind: Kind::One2One,
///         policy: "fifo(4)".into(),
///         can_cross_processes: true,
///         writers: vec!["generate".into()],
///         readers: vec!["sink".into()],
///         boundary: false,
///     }]
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelSummary {
    /// The channel's name.
    pub name: String,
    /// one2one, any2one, ...
    pub kind: Kind,
    /// `rendezvous`, `fifo(8)`, `unbounded`, ...
    pub policy: String,
    /// Made with `Channel::new` (serializable), not `Channel::local`.
    pub can_cross_processes: bool,
    /// The processes holding a writing end, by path.
    pub writers: Vec<String>,
    /// The processes holding a reading end, by path.
    pub readers: Vec<String>,
    /// Declared part of the network's boundary.
    pub boundary: bool,
}

/// A network's processes and channels, flattened: what validation checks and the
/// exports draw.
///
/// ```
/// use csp::components::{generate, collect};
/// use csp::{Channel, Parallel};
/// let (tx, rx) = Channel::<u32>::new().named("numbers").one2one();
/// let net: Parallel<()> = Parallel::new()
///     .add(generate(0..3, tx))
///     .add(collect(rx).map(|_| ()));
/// let topology = net.topology();
/// assert_eq!(topology.process_names(), vec!["generate", "collect"]);
/// assert_eq!(topology.channels()[0].writers, vec!["generate"]);
/// assert!(topology.to_mermaid().contains("p0 -->|\"numbers\"| p1"));
/// ```
pub struct Topology {
    pub(crate) processes: Vec<ProcessNode>,
    pub(crate) channels: Vec<ChannelNode>,
    pub(crate) declarations: Declarations,
}

impl Topology {
    pub(crate) fn new(processes: Vec<ProcessNode>, declarations: Declarations) -> Topology {
        let mut index: HashMap<u64, usize> = HashMap::new();
        let mut channels: Vec<ChannelNode> = Vec::new();
        for (p, node) in processes.iter().enumerate() {
            for end in &node.ends {
                let info: &Arc<dyn ChannelInfo> = &end.channel;
                let id = info.id();
                let c = *index.entry(id).or_insert_with(|| {
                    channels.push(ChannelNode {
                        id,
                        name: info.name(),
                        kind: info.kind(),
                        policy: info.policy(),
                        can_cross: info.can_cross(),
                        writers: Vec::new(),
                        readers: Vec::new(),
                        boundary: declarations.boundary.contains(&id),
                        open: [info.open_ends(Side::Read), info.open_ends(Side::Write)],
                        info: info.clone(),
                    });
                    channels.len() - 1
                });
                match end.side {
                    Side::Write => channels[c].writers.push(p),
                    Side::Read => channels[c].readers.push(p),
                }
            }
        }
        Topology {
            processes,
            channels,
            declarations,
        }
    }

    /// The OS processes holding ends of channel `c`, each once, in the order met: a
    /// forked child by its label, `None` for the one that runs the network (its thread
    /// processes and any end held outside the processes).
    pub(crate) fn places(&self, c: &ChannelNode) -> Vec<Option<&str>> {
        let mut places: Vec<Option<&str>> = Vec::new();
        let held = c.writers.iter().chain(&c.readers);
        let here = c.held_outside().then_some(None);
        for place in held
            .map(|p| self.processes[*p].place.as_deref())
            .chain(here)
        {
            if !places.contains(&place) {
                places.push(place);
            }
        }
        places
    }

    /// The channels whose ends sit in more than one OS process.
    pub(crate) fn crossing(&self) -> impl Iterator<Item = &ChannelNode> {
        self.channels.iter().filter(|c| self.places(c).len() > 1)
    }

    /// Where the process at `path` runs: `None` for the OS process that runs the
    /// network, else the label of its forked child.
    ///
    /// ```
    /// use csp::{Parallel, Process};
    /// let net: Parallel<u8> = Parallel::new()
    ///     .add(Process::from_fn("here", || 1))
    ///     .add(Process::from_fn("away", || 2).forked())
    ///     .add(Process::from_fn("pooled", || 3).in_group("pool"));
    /// let topology = net.topology(); // nothing runs or forks
    /// assert_eq!(topology.place_of("here"), None);
    /// assert_eq!(topology.place_of("away"), Some("fork away"));
    /// assert_eq!(topology.place_of("pooled"), Some("group pool"));
    /// ```
    pub fn place_of(&self, path: &str) -> Option<&str> {
        self.processes
            .iter()
            .find(|p| p.path == path)
            .and_then(|p| p.place.as_deref())
    }

    /// The processes' names (paths for nested ones), in order.
    ///
    /// ```
    /// use csp::{Parallel, Process};
    /// let inner: Parallel<()> = (0..2).map(|_| Process::from_fn("worker", || ())).collect();
    /// let net: Parallel<()> = Parallel::new()
    ///     .add(inner.into_process("pool").map(|_| ()))
    ///     .add(Process::from_fn("main", || ()));
    /// assert_eq!(net.topology().process_names(), ["pool/worker[0]", "pool/worker[1]", "main"]);
    /// ```
    pub fn process_names(&self) -> Vec<&str> {
        self.processes.iter().map(|p| p.path.as_str()).collect()
    }

    /// The channels' names, in the order they were first met.
    ///
    /// ```
    /// use csp::components::{generate, sink};
    /// use csp::{Channel, Parallel};
    /// let (tx, rx) = Channel::<u8>::new().named("bytes").fifo(4).one2one();
    /// let net: Parallel<()> = Parallel::new().add(generate(0..3, tx)).add(sink(rx).map(|_| ()));
    /// let topology = net.topology();
    /// assert_eq!(topology.channel_names(), ["bytes"]);
    /// ```
    pub fn channel_names(&self) -> Vec<&str> {
        self.channels.iter().map(|c| &*c.name).collect()
    }

    /// The channels, with who holds their ends: data for tools.
    ///
    /// ```
    /// use csp::components::{collect, generate};
    /// use csp::{Channel, Parallel};
    /// let (tx, rx) = Channel::<u8>::new().fifo(8).any2one();
    /// let net: Parallel<()> = Parallel::new()
    ///     .add(generate(0..3, tx.clone().into()))
    ///     .add(generate(3..6, tx.into()))
    ///     .add(collect(rx).map(|_| ()));
    /// let c = &net.topology().channels()[0];
    /// assert_eq!((c.policy.as_str(), c.writers.len(), c.readers.len()), ("fifo(8)", 2, 1));
    /// ```
    pub fn channels(&self) -> Vec<ChannelSummary> {
        let paths = |ps: &[usize]| -> Vec<String> {
            let mut out: Vec<String> = Vec::new();
            for p in ps {
                let path = &self.processes[*p].path;
                if !out.contains(path) {
                    out.push(path.clone());
                }
            }
            out
        };
        self.channels
            .iter()
            .map(|c| ChannelSummary {
                name: c.name.to_string(),
                kind: c.kind,
                policy: c.policy.to_string(),
                can_cross_processes: c.can_cross,
                writers: paths(&c.writers),
                readers: paths(&c.readers),
                boundary: c.boundary,
            })
            .collect()
    }

    /// Checks the network; see the [module docs](self) for what is checked.
    ///
    /// ```
    /// use csp::components::{generate, sink};
    /// use csp::{Channel, Parallel};
    /// let (tx, rx) = Channel::<u8>::new().named("bytes").fifo(4).one2one();
    /// let net: Parallel<()> = Parallel::new().add(generate(0..3, tx)).add(sink(rx).map(|_| ()));
    /// let topology = net.topology();
    /// // The same report as `Parallel::validate`, from the graph already built.
    /// assert!(topology.validate().is_ok());
    /// ```
    pub fn validate(&self) -> Report {
        graph::validate(self)
    }

    /// The network as a Graphviz DOT digraph: processes as boxes, channels as labelled
    /// arrows (shared channels as small nodes, so every end shows). Processes in a
    /// forked OS process are boxed in a dashed cluster per OS process; green processes
    /// are rounded and filled green, their label saying `green` and their stack size.
    ///
    /// ```
    /// use csp::{Channel, Parallel, Process};
    /// let (tx, rx) = Channel::<u8>::new().named("bytes").one2one();
    /// let net = Parallel::new()
    ///     .add(Process::with_ends("writer", tx, |tx| Ok(tx.write(1)?)).green())
    ///     .add(Process::with_ends("reader", rx, |rx| Ok(rx.read().map(|_| ())?)));
    /// let dot = net.topology().to_dot();
    /// assert!(dot.contains(
    ///     "p0 [label=\"writer (green, 64 KiB)\", style=\"rounded,filled\", fillcolor=\"#d8f0d8\"];"
    /// ));
    /// assert!(dot.contains("p1 [label=\"reader\"];"));
    /// assert!(dot.contains("p0 -> p1 [label=\"bytes\"]"));
    /// ```
    pub fn to_dot(&self) -> String {
        export::dot(self)
    }

    /// The network as a Mermaid flowchart (renders in GitHub markdown). Forked OS
    /// processes are subgraphs; green processes are rounded, of class `green` (filled
    /// green), their label saying `green` and their stack size.
    ///
    /// ```
    /// use csp::{Channel, Parallel, Process};
    /// let (tx, rx) = Channel::<u8>::new().named("bytes").one2one();
    /// let net = Parallel::new()
    ///     .add(Process::with_ends("writer", tx, |tx| Ok(tx.write(1)?)))
    ///     .add(Process::with_ends("reader", rx, |rx| Ok(rx.read().map(|_| ())?)))
    ///     .green()
    ///     .green_stack(128 * 1024);
    /// let mermaid = net.topology().to_mermaid();
    /// assert!(mermaid.contains("p0([\"writer (green, 128 KiB)\"]):::green"));
    /// assert!(mermaid.contains("p1([\"reader (green, 128 KiB)\"]):::green"));
    /// assert!(mermaid.contains("classDef green fill:#d8f0d8"));
    /// ```
    pub fn to_mermaid(&self) -> String {
        export::mermaid(self)
    }

    /// The network as a CSPm script for FDR: channel declarations over a finite data
    /// type, each process's definition, the network as an alphabetised parallel, and
    /// `assert SYSTEM :[deadlock free]`.
    ///
    /// What is exact, given the values abstracted to `T = {0..K-1}` (`K = 2`):
    /// - channels: a rendezvous channel is one event per value; a buffered channel is a
    ///   process `BUFF_c` between `c_in` (its writers) and `c_out` (its readers) that
    ///   holds up to its capacity in a sequence: `fifo(n)` (a writer waits while it is
    ///   full), `overwrite_oldest(n)` and `drop_newest(n)` (a write never waits; when full
    ///   the oldest, or the written, value is lost), `priority(n)` (the reader gets the
    ///   greatest value, equal ones oldest first; `T`'s order stands for the type's `Ord`);
    /// - shared channels: each process on a shared side has its own index in the events
    ///   (`c_in.1!x`), so a communication involves one writer and one reader, as it does
    ///   at run time;
    /// - the components' bodies, where they do not depend on a closure or a value: `id`,
    ///   `prefix`, `tail`, `succ` (modulo `K`), `sink`/`collect`, `delta`, `delta_par`,
    ///   `merge` (an external choice over its inputs; its fairness is not modelled).
    ///
    /// What is abstracted, and said so in the script:
    /// - `unbounded` channels are FIFO buffers of capacity `UB = 3`: the model's writer
    ///   waits when the program's would not, so a deadlock found with such a buffer full
    ///   may not exist (raise `UB`);
    /// - `map`'s function (any value may come out), `filter`'s predicate (a value is
    ///   passed on or not), `plex`'s tags (modelled as `merge`), and `generate`'s items
    ///   (any values, forever);
    /// - termination: retiring and poisoning are not modelled, every stream is infinite;
    /// - a process without a model is `RUN` of its channels (or `SKIP` without any),
    ///   marked `PLACEHOLDER`; a model given with `#[process(model = "...")]` is taken
    ///   as written;
    /// - a buffer policy this export does not know is modelled as rendezvous, marked
    ///   `ABSTRACTED`;
    /// - a process holding both a writer and a reader of one shared rendezvous channel
    ///   may, in the model, communicate with itself (its own writer and reader indices
    ///   make an event only it takes part in), which at run time it cannot: a deadlock
    ///   in which that process would have to be its own partner is missed.
    ///
    /// The script grows linearly with the network: each process's alphabet is named
    /// once (`ALPHA(i)`, `PROC(i)`) and `SYSTEM` is their replicated parallel.
    ///
    /// ```
    /// use csp::components::{generate, sink};
    /// use csp::{Channel, Parallel};
    /// let (tx, rx) = Channel::<u8>::new().named("jobs").fifo(2).one2one();
    /// let net: Parallel<()> = Parallel::new().add(generate(0..3, tx)).add(sink(rx).map(|_| ()));
    /// let cspm = net.topology().to_cspm();
    /// assert!(cspm.contains("#s < 2 & jobs_in?x -> BUFF_jobs(s^<x>)"));
    /// assert!(cspm.contains("P_generate = |~| v : T @ jobs_in!v -> P_generate"));
    /// assert!(cspm.contains("P_sink = jobs_out?_ -> P_sink"));
    /// ```
    pub fn to_cspm(&self) -> String {
        export::cspm(self)
    }
}
