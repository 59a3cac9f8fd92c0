//! Validation over petgraph: processes and channels as one bipartite digraph (writer →
//! channel → reader), so a shared channel with many ends costs one edge per end.
//! Part of the topology layer: uses only its [`Topology`] and `channel::Side`.

use std::collections::{HashSet, VecDeque};

use petgraph::algo::kosaraju_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use super::report::{Level, Lint, Problem, ProblemKind, Report, Severity};
use super::{ChannelNode, Topology};
use crate::channel::Side;
use crate::process::{GREEN_STACK_MAX, GREEN_STACK_MIN};

/// The stated assumption of the client–server rule.
const CLIENT_SERVER_OK: &str = "deadlock-free by the client-server design rule (Welch, Martin): \
     every cycle passes through declared client->server request/reply channels and the \
     client->server relation is acyclic; this assumes every server always accepts each \
     request it is sent and answers it";

pub(crate) fn validate(t: &Topology) -> Report {
    let mut check = Check {
        t,
        problems: Vec::new(),
        linted: Vec::new(),
    };
    for c in &t.channels {
        check.dangling(c);
        check.self_rendezvous(c);
        check.local_across_fork(c);
    }
    for c in &t.channels {
        check.outside_ends(c);
    }
    check.no_channels();
    check.green_stacks();
    let deadlock_free = check.cycles();
    // Errors first, then the lints in the order they were found.
    let mut problems = check.problems;
    problems.extend(check.linted);
    Report {
        problems,
        deadlock_free,
    }
}

/// One validation pass: the topology and what it found so far.
struct Check<'t> {
    t: &'t Topology,
    /// The errors that are not lints (dangling, self-rendezvous).
    problems: Vec<Problem>,
    /// The lints, after the network's levels.
    linted: Vec<Problem>,
}

impl Check<'_> {
    /// The level the network set for `lint` (the last setting wins), else `Warn`.
    fn level(&self, lint: Lint) -> Level {
        self.t
            .declarations
            .levels
            .iter()
            .rev()
            .find(|(l, _)| *l == lint)
            .map_or(Level::Warn, |(_, level)| *level)
    }

    /// Records a lint unless the network allows it; a denied one is an error.
    fn lint(&mut self, lint: Lint, processes: Vec<String>, channels: Vec<String>, text: Text) {
        let severity = match self.level(lint) {
            Level::Allow => return,
            Level::Warn => Severity::Warning,
            Level::Deny => Severity::Error,
        };
        self.linted.push(Problem {
            kind: ProblemKind::Lint(lint),
            severity,
            processes,
            channels,
            message: text.message,
            hint: text.hint.into(),
        });
    }

    fn error(&mut self, kind: ProblemKind, processes: Vec<String>, c: &ChannelNode, text: Text) {
        self.problems.push(Problem {
            kind,
            severity: Severity::Error,
            processes,
            channels: vec![c.name.to_string()],
            message: text.message,
            hint: text.hint.into(),
        });
    }

    /// The paths of processes `ps`, each once, in order.
    fn names(&self, ps: &[usize]) -> Vec<String> {
        let mut seen = HashSet::new();
        ps.iter()
            .filter(|p| seen.insert(**p))
            .map(|p| self.t.processes[*p].path.clone())
            .collect()
    }

    /// One side held in the network, the other side's open ends by none of its processes.
    fn dangling(&mut self, c: &ChannelNode) {
        if c.boundary {
            return;
        }
        // A side nobody holds open any more is a finished stream, not a dangling one.
        let open_readers = c.open[Side::Read as usize] > 0;
        let open_writers = c.open[Side::Write as usize] > 0;
        let (side, holders, missing) = match (c.writers.is_empty(), c.readers.is_empty()) {
            (false, true) if open_readers => ("written", &c.writers, "reads"),
            (true, false) if open_writers => ("read", &c.readers, "writes"),
            _ => return,
        };
        let ps = self.names(holders);
        let message = format!(
            "channel '{}' is {side} by {} but no process in the network {missing} it",
            c.name,
            quoted(&ps)
        );
        let hint = "give the other end to a process of this network, or, if the caller of \
                    run() holds it (e.g. main reads the results), declare it with \
                    .boundary(&end)";
        self.error(ProblemKind::Dangling, ps, c, Text { message, hint });
    }

    /// A rendezvous channel whose every end is held by one process.
    fn self_rendezvous(&mut self, c: &ChannelNode) {
        if !c.rendezvous() || c.writers.is_empty() || c.readers.is_empty() {
            return;
        }
        let p = c.writers[0];
        if !c.writers.iter().chain(&c.readers).all(|q| *q == p) {
            return;
        }
        let ps = self.names(&[p]);
        let message = format!(
            "rendezvous channel '{}' has only one party, process {}: it would wait on itself",
            c.name,
            quoted(&ps)
        );
        let hint = "give one end to another process, or give the channel a buffer (.fifo(n)) \
                    if the process really talks to itself";
        self.error(ProblemKind::SelfRendezvous, ps, c, Text { message, hint });
    }

    /// A local channel (its values cannot be encoded) with ends in two OS processes.
    fn local_across_fork(&mut self, c: &ChannelNode) {
        if c.can_cross {
            return;
        }
        let places = self.t.places(c);
        if places.len() < 2 {
            return;
        }
        let mut holders = c.writers.clone();
        holders.extend(&c.readers);
        let ps = self.names(&holders);
        let where_ = places
            .iter()
            .map(|p| p.unwrap_or("the parent").to_string())
            .collect::<Vec<_>>();
        let message = format!(
            "channel '{}' was made with Channel::local() but its ends are held in {} OS \
             processes ({}), by {}",
            c.name,
            places.len(),
            where_.join(", "),
            quoted(&ps)
        );
        let hint = "make it with Channel::new() (its values must be Serialize + \
                    DeserializeOwned), or place the processes that share it in one group \
                    (.in_group(name)) or on threads";
        self.error(ProblemKind::LocalAcrossFork, ps, c, Text { message, hint });
    }

    /// Open ends of a network channel held outside the network (a forgotten `drop(tx)`).
    fn outside_ends(&mut self, c: &ChannelNode) {
        if c.boundary || c.writers.is_empty() || c.readers.is_empty() {
            return;
        }
        for (side, held, what, who) in [
            (
                Side::Write,
                &c.writers,
                "writing",
                "its readers may wait forever for it to retire",
            ),
            (
                Side::Read,
                &c.readers,
                "reading",
                "its writers may block once nobody outside reads",
            ),
        ] {
            let outside = c.open[side as usize].saturating_sub(held.len());
            if outside == 0 {
                continue;
            }
            let message = format!(
                "channel '{}' has {outside} open {what} end(s) held outside the network: {who}",
                c.name
            );
            let hint = "drop the caller's copy before run() (e.g. `drop(tx)` after cloning it \
                        into the processes), or declare it with .boundary(&end) if it is used \
                        on purpose";
            let ps = self.names(held);
            let channels = vec![c.name.to_string()];
            self.lint(Lint::OutsideEnds, ps, channels, Text { message, hint });
        }
    }

    fn no_channels(&mut self) {
        for p in &self.t.processes {
            if !p.ends.is_empty() {
                continue;
            }
            let message = format!("process '{}' records no channel ends", p.path);
            let hint = "if it uses channels, hand them over with Process::with_ends or make it \
                        a #[process] fn, so that validation, diagrams and poisoning see them";
            let ps = vec![p.path.clone()];
            self.lint(Lint::NoChannels, ps, Vec::new(), Text { message, hint });
        }
    }

    /// Green processes whose stack size is out of bounds.
    fn green_stacks(&mut self) {
        for p in &self.t.processes {
            let Some(bytes) = p.green_stack else {
                continue;
            };
            let what = if bytes < GREEN_STACK_MIN {
                "below the minimum"
            } else if bytes > GREEN_STACK_MAX {
                "above the maximum"
            } else {
                continue;
            };
            self.problems.push(Problem {
                kind: ProblemKind::GreenStack,
                severity: Severity::Error,
                processes: vec![p.path.clone()],
                channels: Vec::new(),
                message: format!(
                    "green process '{}' asks for a stack of {bytes} bytes, {what} \
                     ({GREEN_STACK_MIN} to {GREEN_STACK_MAX} bytes)",
                    p.path
                ),
                hint: "give it a size within the bounds with .green_stack(bytes) (or the \
                       network's default with Parallel::green_stack), or run it on a thread"
                    .into(),
            });
        }
    }

    /// Rendezvous cycles outside the declared client-server pairs, then the
    /// client-server rule itself; returns the rule's verdict when it holds.
    fn cycles(&mut self) -> Option<String> {
        let t = self.t;
        let pairs = &t.declarations.client_server;
        // Channels declared as client-server pairs are judged by that rule, not as cycles.
        let request: HashSet<u64> = pairs.iter().flat_map(|(req, _)| req.clone()).collect();
        let paired: HashSet<u64> = pairs
            .iter()
            .flat_map(|(req, reply)| req.iter().chain(reply).copied())
            .collect();
        let rendezvous = Bipartite::new(t, |c| c.rendezvous() && !paired.contains(&c.id));
        for cycle in rendezvous.cycles() {
            self.rendezvous_cycle(&cycle);
        }
        if pairs.is_empty() {
            return None;
        }
        let plain = Bipartite::new(t, |c| !paired.contains(&c.id));
        let calls = Bipartite::new(t, |c| request.contains(&c.id));
        let broken = plain
            .cycles()
            .into_iter()
            .map(|c| (c, "a cycle that passes through no client->server pair"))
            .chain(calls.cycles().into_iter().map(|c| {
                (
                    c,
                    "a cycle of client->server requests (clients that serve each other)",
                )
            }))
            .collect::<Vec<_>>();
        let holds = broken.is_empty();
        for (cycle, what) in broken {
            let message = format!(
                "the client-server rule does not hold: {what}: {}",
                cycle.describe(t)
            );
            let hint = "make every cycle go through a request/reply pair, with servers never \
                        calling back their own clients";
            let ps = self.names(&cycle.members);
            self.lint(
                Lint::ClientServer,
                ps,
                cycle.channels(t),
                Text { message, hint },
            );
        }
        holds.then(|| CLIENT_SERVER_OK.to_string())
    }

    fn rendezvous_cycle(&mut self, cycle: &Cycle) {
        let ps = self.names(&cycle.members);
        let message = format!(
            "processes {} are linked in a cycle of rendezvous channels and may deadlock, e.g. {}",
            quoted(&ps),
            cycle.describe(self.t)
        );
        let hint = "check that the cycle cannot block (e.g. one process alts over its input \
                    and output), buffer one of its channels, or declare client->server pairs \
                    with .client_server(..); allow this lint if the design is proven";
        let channels = cycle.channels(self.t);
        self.lint(Lint::RendezvousCycle, ps, channels, Text { message, hint });
    }
}

/// What a problem says: what was found, and how to fix it.
struct Text {
    message: String,
    hint: &'static str,
}

/// Processes for a message: at most a few named; `Problem::processes` keeps them all.
fn quoted(ps: &[String]) -> String {
    const SHOWN: usize = 8;
    let mut s = ps
        .iter()
        .take(SHOWN)
        .map(|p| format!("'{p}'"))
        .collect::<Vec<_>>()
        .join(", ");
    if ps.len() > SHOWN {
        s.push_str(&format!(" and {} more", ps.len() - SHOWN));
    }
    s
}

/// Writer → channel → reader over the channels `keep` selects.
struct Bipartite {
    graph: DiGraph<Node, ()>,
}

#[derive(Clone, Copy)]
enum Node {
    Process(usize),
    Channel(usize),
}

/// One strongly connected set of processes and an example cycle through it.
struct Cycle {
    members: Vec<usize>,
    /// Alternating process, channel, process, ... back to the first process.
    path: Vec<Node>,
}

impl Cycle {
    /// The cycle in order; a long one keeps its first and last hops.
    fn describe(&self, t: &Topology) -> String {
        const HEAD: usize = 16;
        const TAIL: usize = 4;
        let text = |n: &Node| match n {
            Node::Process(p) => t.processes[*p].path.clone(),
            Node::Channel(c) => format!(" -[{}]-> ", t.channels[*c].name),
        };
        if self.path.len() <= HEAD + TAIL + 1 {
            return self.path.iter().map(text).collect();
        }
        let hidden = (self.path.len() - HEAD - TAIL) / 2;
        let mut s: String = self.path[..HEAD].iter().map(text).collect();
        s.push_str(&format!("... ({hidden} more processes) ..."));
        s.extend(self.path[self.path.len() - TAIL..].iter().map(text));
        s
    }

    fn channels(&self, t: &Topology) -> Vec<String> {
        self.path
            .iter()
            .filter_map(|n| match n {
                Node::Channel(c) => Some(t.channels[*c].name.to_string()),
                Node::Process(_) => None,
            })
            .collect()
    }
}

impl Bipartite {
    fn new(t: &Topology, keep: impl Fn(&ChannelNode) -> bool) -> Bipartite {
        let n = t.processes.len();
        let mut graph = DiGraph::with_capacity(n + t.channels.len(), 2 * t.channels.len());
        for p in 0..n {
            graph.add_node(Node::Process(p));
        }
        for (ci, c) in t.channels.iter().enumerate() {
            if !keep(c) {
                continue;
            }
            let cn = graph.add_node(Node::Channel(ci));
            for w in &c.writers {
                graph.add_edge(NodeIndex::new(*w), cn, ());
            }
            for r in &c.readers {
                graph.add_edge(cn, NodeIndex::new(*r), ());
            }
        }
        Bipartite { graph }
    }

    /// Every strongly connected set with a cycle through at least two processes (one
    /// process alone with its channel is the self-rendezvous error, not a cycle).
    fn cycles(&self) -> Vec<Cycle> {
        let mut out = Vec::new();
        for scc in kosaraju_scc(&self.graph) {
            let mut members: Vec<usize> = scc
                .iter()
                .filter_map(|n| match self.graph[*n] {
                    Node::Process(p) => Some(p),
                    Node::Channel(_) => None,
                })
                .collect();
            if members.len() < 2 {
                continue;
            }
            members.sort_unstable();
            let inside: HashSet<NodeIndex> = scc.iter().copied().collect();
            let start = NodeIndex::new(members[0]);
            let path = self.cycle_through(start, &inside);
            out.push(Cycle { members, path });
        }
        out.sort_by_key(|c| c.members[0]);
        out
    }

    /// The shortest cycle from `start` back to it inside the component (BFS).
    fn cycle_through(&self, start: NodeIndex, inside: &HashSet<NodeIndex>) -> Vec<Node> {
        let mut parent = std::collections::HashMap::new();
        let mut queue = VecDeque::new();
        for next in self.graph.neighbors(start) {
            if inside.contains(&next) && !parent.contains_key(&next) {
                parent.insert(next, start);
                queue.push_back(next);
            }
        }
        let mut last = None;
        'search: while let Some(n) = queue.pop_front() {
            for next in self.graph.neighbors(n) {
                if next == start {
                    last = Some(n);
                    break 'search;
                }
                if inside.contains(&next) && !parent.contains_key(&next) {
                    parent.insert(next, n);
                    queue.push_back(next);
                }
            }
        }
        let mut path = vec![self.graph[start]];
        let mut n = match last {
            Some(n) => n,
            None => return path,
        };
        let mut back = vec![self.graph[start]];
        while n != start {
            back.push(self.graph[n]);
            n = parent[&n];
        }
        back.reverse();
        path.extend(back);
        path
    }
}
