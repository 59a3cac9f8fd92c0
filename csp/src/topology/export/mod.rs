//! Drawings and models of a network: Graphviz DOT, Mermaid, and CSPm for FDR.
//! Part of the topology layer: uses its [`Topology`] and the process layer's
//! `ModelContext`.
//!
//! A channel with exactly one writer and one reader in the network is drawn as an arrow
//! between them; a shared channel (several writers or readers) or one with a side
//! outside the network gets a node of its own, so every end shows. One walker decides
//! that; a [`Renderer`] per format only spells each element. Processes in forked OS
//! processes are boxed by OS process (a cluster, a subgraph); green processes are drawn
//! rounded and filled green, with their stack size in the label.

mod cspm;
pub(crate) mod models;

pub(crate) use cspm::cspm;

use std::collections::HashSet;

use super::{ChannelNode, Topology};

/// How one drawing format spells the elements the walker meets. Identifiers are given
/// already made (`p0`, `c1`, `outside`); each method returns one line, unindented.
trait Renderer {
    /// Everything before the first process.
    fn header(&self) -> &'static str;
    /// A process; `green`: a green process (drawn apart from thread processes).
    fn process(&self, id: &str, name: &str, green: bool) -> String;
    /// What styles green processes, if the format needs it declared once (after the
    /// processes).
    fn green_style(&self) -> Option<&'static str>;
    /// A one-to-one channel drawn as a labelled arrow between its two processes.
    fn arrow(&self, from: &str, to: &str, label: &str) -> String;
    /// A channel drawn as a node of its own.
    fn channel(&self, id: &str, label: &str) -> String;
    /// An unlabelled edge to or from a channel node.
    fn edge(&self, from: &str, to: &str) -> String;
    /// The processes (by id) that run in the forked OS process `label`, drawn as a box
    /// around them.
    fn cluster(&self, id: &str, label: &str, members: &[String]) -> Vec<String>;
    /// The node that stands for everything outside the network.
    fn outside(&self) -> &'static str;
    /// Everything after the last line.
    fn footer(&self) -> &'static str;
}

struct Dot;

impl Renderer for Dot {
    fn header(&self) -> &'static str {
        "digraph network {\n    rankdir=LR;\n    node [shape=box];\n"
    }
    fn process(&self, id: &str, name: &str, green: bool) -> String {
        let style = if green {
            ", style=\"rounded,filled\", fillcolor=\"#d8f0d8\""
        } else {
            ""
        };
        format!("{id} [label=\"{}\"{style}];", dot_escape(name))
    }
    fn green_style(&self) -> Option<&'static str> {
        None
    }
    fn arrow(&self, from: &str, to: &str, label: &str) -> String {
        format!("{from} -> {to} [label=\"{}\"];", dot_escape(label))
    }
    fn channel(&self, id: &str, label: &str) -> String {
        format!("{id} [shape=ellipse, label=\"{}\"];", dot_escape(label))
    }
    fn edge(&self, from: &str, to: &str) -> String {
        format!("{from} -> {to};")
    }
    fn cluster(&self, id: &str, label: &str, members: &[String]) -> Vec<String> {
        vec![format!(
            "subgraph cluster_{id} {{ label=\"{}\"; style=dashed; {}; }}",
            dot_escape(label),
            members.join("; ")
        )]
    }
    fn outside(&self) -> &'static str {
        "outside [shape=plaintext, label=\"(outside)\"];"
    }
    fn footer(&self) -> &'static str {
        "}\n"
    }
}

struct Mermaid;

impl Renderer for Mermaid {
    fn header(&self) -> &'static str {
        "flowchart LR\n"
    }
    fn process(&self, id: &str, name: &str, green: bool) -> String {
        if green {
            format!("{id}([\"{}\"]):::green", mermaid_escape(name))
        } else {
            format!("{id}[\"{}\"]", mermaid_escape(name))
        }
    }
    fn green_style(&self) -> Option<&'static str> {
        Some("classDef green fill:#d8f0d8,stroke:#2e7d32")
    }
    fn arrow(&self, from: &str, to: &str, label: &str) -> String {
        format!("{from} -->|\"{}\"| {to}", mermaid_escape(label))
    }
    fn channel(&self, id: &str, label: &str) -> String {
        format!("{id}((\"{}\"))", mermaid_escape(label))
    }
    fn edge(&self, from: &str, to: &str) -> String {
        format!("{from} --> {to}")
    }
    fn cluster(&self, id: &str, label: &str, members: &[String]) -> Vec<String> {
        let mut lines = vec![format!("subgraph {id}[\"{}\"]", mermaid_escape(label))];
        lines.extend(members.iter().map(|m| format!("    {m}")));
        lines.push("end".to_string());
        lines
    }
    fn outside(&self) -> &'static str {
        "outside[/\"(outside)\"/]"
    }
    fn footer(&self) -> &'static str {
        ""
    }
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn mermaid_escape(s: &str) -> String {
    s.replace('"', "#quot;")
}

pub(crate) fn dot(t: &Topology) -> String {
    draw(t, &Dot)
}

pub(crate) fn mermaid(t: &Topology) -> String {
    draw(t, &Mermaid)
}

/// The walker: processes first, then each channel as an arrow or as a node with its ends.
fn draw(t: &Topology, r: &dyn Renderer) -> String {
    let mut lines: Vec<String> = Vec::new();
    for (i, p) in t.processes.iter().enumerate() {
        let id = format!("p{i}");
        lines.push(match p.green_stack {
            Some(stack) => r.process(&id, &green_label(&p.path, stack), true),
            None => r.process(&id, &p.path, false),
        });
    }
    if t.processes.iter().any(|p| p.green_stack.is_some()) {
        lines.extend(r.green_style().map(String::from));
    }
    lines.extend(clusters(t, r));
    let mut outside = false;
    for (i, c) in t.channels.iter().enumerate() {
        if let ([w], [rd]) = (c.writers.as_slice(), c.readers.as_slice()) {
            lines.push(r.arrow(&format!("p{w}"), &format!("p{rd}"), &label(c)));
            continue;
        }
        let id = format!("c{i}");
        lines.push(r.channel(&id, &label(c)));
        for w in dedup(&c.writers) {
            lines.push(r.edge(&format!("p{w}"), &id));
        }
        for rd in dedup(&c.readers) {
            lines.push(r.edge(&id, &format!("p{rd}")));
        }
        if c.writers.is_empty() {
            outside = true;
            lines.push(r.edge("outside", &id));
        }
        if c.readers.is_empty() {
            outside = true;
            lines.push(r.edge(&id, "outside"));
        }
    }
    if outside {
        lines.push(r.outside().to_string());
    }
    let mut s = String::from(r.header());
    for line in lines {
        s.push_str("    ");
        s.push_str(&line);
        s.push('\n');
    }
    s.push_str(r.footer());
    s
}

/// One box per forked OS process, around the processes that run in it, in the order
/// first met.
fn clusters(t: &Topology, r: &dyn Renderer) -> Vec<String> {
    let mut places: Vec<(&str, Vec<String>)> = Vec::new();
    for (i, p) in t.processes.iter().enumerate() {
        let Some(place) = p.place.as_deref() else {
            continue;
        };
        match places.iter_mut().find(|(label, _)| *label == place) {
            Some((_, members)) => members.push(format!("p{i}")),
            None => places.push((place, vec![format!("p{i}")])),
        }
    }
    let mut lines = Vec::new();
    for (k, (label, members)) in places.iter().enumerate() {
        lines.extend(r.cluster(&format!("os{k}"), label, members));
    }
    lines
}

/// A green process's label: its name, and its stack size asked for.
fn green_label(name: &str, stack: usize) -> String {
    if stack % 1024 == 0 {
        format!("{name} (green, {} KiB)", stack / 1024)
    } else {
        format!("{name} (green, {stack} B)")
    }
}

fn label(c: &ChannelNode) -> String {
    if c.rendezvous() {
        c.name.to_string()
    } else {
        format!("{} {}", c.name, c.policy)
    }
}

fn dedup(ps: &[usize]) -> Vec<usize> {
    let mut seen = HashSet::new();
    ps.iter().copied().filter(|p| seen.insert(*p)).collect()
}
