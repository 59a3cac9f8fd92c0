//! Drawings and models of a network: Graphviz DOT, Mermaid, and CSPm for FDR.
//! Part of the topology layer: uses its [`Topology`] and the process layer's
//! `ModelContext`.
//!
//! A channel with exactly one writer and one reader in the network is drawn as an arrow
//! between them; a shared channel (several writers or readers) or one with a side
//! outside the network gets a node of its own, so every end shows.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use super::{ChannelNode, Topology};
use crate::process::ModelContext;

/// How a channel is drawn.
enum Shape<'c> {
    Arrow { from: usize, to: usize },
    Node(&'c ChannelNode),
}

fn shape(c: &ChannelNode) -> Shape<'_> {
    match (c.writers.as_slice(), c.readers.as_slice()) {
        ([w], [r]) => Shape::Arrow { from: *w, to: *r },
        _ => Shape::Node(c),
    }
}

fn label(c: &ChannelNode) -> String {
    if c.rendezvous() {
        c.name.to_string()
    } else {
        format!("{} {}", c.name, c.policy)
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

pub(crate) fn dot(t: &Topology) -> String {
    let mut s = String::from("digraph network {\n    rankdir=LR;\n    node [shape=box];\n");
    for (i, p) in t.processes.iter().enumerate() {
        let _ = writeln!(s, "    p{i} [label=\"{}\"];", escape(&p.path));
    }
    let mut outside = false;
    for (i, c) in t.channels.iter().enumerate() {
        match shape(c) {
            Shape::Arrow { from, to } => {
                let _ = writeln!(s, "    p{from} -> p{to} [label=\"{}\"];", escape(&label(c)));
            }
            Shape::Node(c) => {
                let _ = writeln!(
                    s,
                    "    c{i} [shape=ellipse, label=\"{}\"];",
                    escape(&label(c))
                );
                for w in dedup(&c.writers) {
                    let _ = writeln!(s, "    p{w} -> c{i};");
                }
                for r in dedup(&c.readers) {
                    let _ = writeln!(s, "    c{i} -> p{r};");
                }
                if c.writers.is_empty() {
                    outside = true;
                    let _ = writeln!(s, "    outside -> c{i};");
                }
                if c.readers.is_empty() {
                    outside = true;
                    let _ = writeln!(s, "    c{i} -> outside;");
                }
            }
        }
    }
    if outside {
        s.push_str("    outside [shape=plaintext, label=\"(outside)\"];\n");
    }
    s.push_str("}\n");
    s
}

pub(crate) fn mermaid(t: &Topology) -> String {
    let mut s = String::from("flowchart LR\n");
    for (i, p) in t.processes.iter().enumerate() {
        let _ = writeln!(s, "    p{i}[\"{}\"]", p.path.replace('"', "#quot;"));
    }
    let mut outside = false;
    for (i, c) in t.channels.iter().enumerate() {
        let text = label(c).replace('"', "#quot;");
        match shape(c) {
            Shape::Arrow { from, to } => {
                let _ = writeln!(s, "    p{from} -->|\"{text}\"| p{to}");
            }
            Shape::Node(c) => {
                let _ = writeln!(s, "    c{i}((\"{text}\"))");
                for w in dedup(&c.writers) {
                    let _ = writeln!(s, "    p{w} --> c{i}");
                }
                for r in dedup(&c.readers) {
                    let _ = writeln!(s, "    c{i} --> p{r}");
                }
                if c.writers.is_empty() {
                    outside = true;
                    let _ = writeln!(s, "    outside --> c{i}");
                }
                if c.readers.is_empty() {
                    outside = true;
                    let _ = writeln!(s, "    c{i} --> outside");
                }
            }
        }
    }
    if outside {
        s.push_str("    outside[/\"(outside)\"/]\n");
    }
    s
}

fn dedup(ps: &[usize]) -> Vec<usize> {
    let mut seen = HashSet::new();
    ps.iter().copied().filter(|p| seen.insert(*p)).collect()
}

/// A CSPm identifier for `name`, unique among `taken`.
fn identifier(prefix: &str, name: &str, taken: &mut HashSet<String>) -> String {
    let mut id: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    id = format!("{prefix}{}", id.trim_matches('_'));
    if id.is_empty() || id.starts_with(|c: char| c.is_ascii_digit()) {
        id = format!("x{id}");
    }
    let mut unique = id.clone();
    let mut n = 2;
    while !taken.insert(unique.clone()) {
        unique = format!("{id}_{n}");
        n += 1;
    }
    unique
}

pub(crate) fn cspm(t: &Topology) -> String {
    let mut taken: HashSet<String> = ["K", "T", "SYSTEM"].map(String::from).into();
    let channel_ids: Vec<String> = t
        .channels
        .iter()
        .map(|c| identifier("", &c.name, &mut taken))
        .collect();
    let by_id: HashMap<u64, &str> = t
        .channels
        .iter()
        .zip(&channel_ids)
        .map(|(c, n)| (c.id, n.as_str()))
        .collect();

    let mut s = String::new();
    s.push_str("-- CSPm model of the network, generated by csp::Topology::to_cspm().\n");
    s.push_str(
        "-- Check it with FDR (`refines network.csp`). Values are abstracted to the finite\n",
    );
    s.push_str(
        "-- type T = {0..K-1} (raise K to model more values); finite streams are modelled\n",
    );
    s.push_str("-- as unbounded; channels are modelled as rendezvous.\n\n");
    s.push_str("K = 2\nT = {0..K-1}\n\n");
    if !channel_ids.is_empty() {
        let _ = writeln!(s, "channel {} : T\n", channel_ids.join(", "));
    }

    let mut processes = Vec::new();
    let mut placeholders = 0;
    for p in &t.processes {
        let name = identifier("P_", &p.path, &mut taken);
        let ends: Vec<(String, String)> = p
            .ends
            .iter()
            .map(|e| {
                let channel = by_id.get(&e.channel_id()).copied().unwrap_or("UNKNOWN");
                (e.path().to_string(), channel.to_string())
            })
            .collect();
        let mut alphabet: Vec<&str> = Vec::new();
        for (_, c) in &ends {
            if !alphabet.contains(&c.as_str()) {
                alphabet.push(c);
            }
        }
        let alphabet = if alphabet.is_empty() {
            "{}".to_string()
        } else {
            format!("{{| {} |}}", alphabet.join(", "))
        };
        let _ = writeln!(s, "-- process '{}'", p.path);
        match &p.model {
            Some(model) => {
                let ctx = ModelContext {
                    name: name.clone(),
                    ends,
                };
                let _ = writeln!(s, "{}\n", model.render(&ctx).trim_end());
            }
            None if p.ends.is_empty() => {
                placeholders += 1;
                let _ = writeln!(
                    s,
                    "-- PLACEHOLDER: no model and no recorded channels; give it\n\
                     -- #[process(model = \"...\")] (or Process::with_model).\n{name} = SKIP\n"
                );
            }
            None => {
                placeholders += 1;
                let _ = writeln!(
                    s,
                    "-- PLACEHOLDER: no model; give it #[process(model = \"...\")] (or\n\
                     -- Process::with_model). Until then it may do anything on its channels\n\
                     -- but never refuses all of them, so it hides no deadlock of its own.\n\
                     {name} = RUN({alphabet})\n"
                );
            }
        }
        processes.push((name, alphabet));
    }

    // The alphabetised parallel, folded left: (P1 [A1 || A2] P2) [A1 ∪ A2 || A3] P3 ...
    let mut system = String::new();
    let mut alphabets: Vec<&str> = Vec::new();
    for (i, (name, alphabet)) in processes.iter().enumerate() {
        if i == 0 {
            system = name.clone();
        } else {
            let left = if alphabets.len() == 1 {
                alphabets[0].to_string()
            } else {
                format!("Union({{{}}})", alphabets.join(", "))
            };
            system = format!("({system})\n    [{left} || {alphabet}]\n    {name}");
        }
        alphabets.push(alphabet);
    }
    if system.is_empty() {
        system = "SKIP".into();
    }
    let _ = writeln!(s, "SYSTEM =\n    {system}\n");
    if placeholders > 0 {
        let _ = writeln!(
            s,
            "-- {placeholders} process(es) above are placeholders: the check covers the rest."
        );
    }
    s.push_str("assert SYSTEM :[deadlock free]\n");
    s
}

/// CSPm models of the components in `csp::components`.
pub(crate) mod models {
    use crate::process::ModelContext;

    fn me(c: &ModelContext) -> &str {
        c.name()
    }

    pub(crate) fn id(c: &ModelContext) -> String {
        format!(
            "{0} = {1}?x -> {2}!x -> {0}",
            me(c),
            c.channel("input"),
            c.channel("output")
        )
    }

    pub(crate) fn prefix(c: &ModelContext) -> String {
        format!(
            "{0} = |~| v : T @ {2}!v -> {0}_COPY\n{0}_COPY = {1}?x -> {2}!x -> {0}_COPY",
            me(c),
            c.channel("input"),
            c.channel("output")
        )
    }

    pub(crate) fn tail(c: &ModelContext) -> String {
        format!(
            "{0} = {1}?_ -> {0}_COPY\n{0}_COPY = {1}?x -> {2}!x -> {0}_COPY",
            me(c),
            c.channel("input"),
            c.channel("output")
        )
    }

    pub(crate) fn succ(c: &ModelContext) -> String {
        format!(
            "{0} = {1}?x -> {2}!((x + 1) % K) -> {0}",
            me(c),
            c.channel("input"),
            c.channel("output")
        )
    }

    pub(crate) fn map(c: &ModelContext) -> String {
        format!(
            "-- the function is abstracted: any value may come out\n\
             {0} = {1}?x -> (|~| y : T @ {2}!y -> {0})",
            me(c),
            c.channel("input"),
            c.channel("output")
        )
    }

    pub(crate) fn filter(c: &ModelContext) -> String {
        format!(
            "-- the predicate is abstracted: a value is passed on or dropped\n\
             {0} = {1}?x -> ({2}!x -> {0} |~| {0})",
            me(c),
            c.channel("input"),
            c.channel("output")
        )
    }

    pub(crate) fn generate(c: &ModelContext) -> String {
        format!("{0} = |~| v : T @ {1}!v -> {0}", me(c), c.channel("output"))
    }

    pub(crate) fn sink(c: &ModelContext) -> String {
        format!("{0} = {1}?_ -> {0}", me(c), c.channel("input"))
    }

    pub(crate) fn delta(c: &ModelContext) -> String {
        let outs: String = c
            .channels("outputs")
            .iter()
            .map(|o| format!("{o}!x -> "))
            .collect();
        format!("{0} = {1}?x -> {outs}{0}", me(c), c.channel("input"))
    }

    pub(crate) fn delta_par(c: &ModelContext) -> String {
        let outs: Vec<String> = c
            .channels("outputs")
            .iter()
            .map(|o| format!("{o}!x -> SKIP"))
            .collect();
        let outs = if outs.is_empty() {
            "SKIP".to_string()
        } else {
            format!("({})", outs.join(" ||| "))
        };
        format!("{0} = {1}?x -> {outs}; {0}", me(c), c.channel("input"))
    }

    pub(crate) fn merge(c: &ModelContext) -> String {
        let out = c.channel("output");
        let arms: Vec<String> = c
            .channels("inputs")
            .iter()
            .map(|i| format!("({i}?x -> {out}!x -> {})", me(c)))
            .collect();
        let body = if arms.is_empty() {
            "STOP".to_string()
        } else {
            arms.join(" [] ")
        };
        format!("{} = {body}", me(c))
    }

    pub(crate) fn plex(c: &ModelContext) -> String {
        format!(
            "-- the input's index that tags each value is abstracted\n{}",
            merge(c)
        )
    }
}
