//! The CSPm export: channels as events, buffered channels as buffer processes, each
//! process by its model, the network as an alphabetised parallel.
//!
//! A rendezvous channel `c` is one CSPm channel: writer and reader meet on `c.x`. A
//! buffered channel is two, `c_in` (the writers') and `c_out` (the readers'), joined
//! by a process `BUFF_c` that behaves as its policy does. When several processes hold
//! one side of a channel, each gets an index on that side's events (`c_in.1!x`), so
//! that a write involves one writer, not all of them (in an alphabetised parallel, an
//! event in two processes' alphabets needs both).

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use super::dedup;
use crate::channel::Side;
use crate::process::ModelContext;
use crate::topology::{ChannelNode, Topology};

/// The names the script itself defines, kept from channels and processes.
const RESERVED: [&str; 7] = ["K", "T", "UB", "SYSTEM", "pinsert", "ALPHA", "PROC"];

/// The bound that stands for an unbounded buffer's capacity.
const UNBOUNDED_BOUND: usize = 3;

/// What a buffered channel's buffer does, read from its policy text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BufferModel {
    Fifo(usize),
    OverwriteOldest(usize),
    DropNewest(usize),
    Priority(usize),
    Unbounded,
}

impl BufferModel {
    /// `None` for rendezvous, and for a policy this export does not know (see
    /// [`known`]).
    fn of(policy: &str) -> Option<BufferModel> {
        if policy == "unbounded" {
            return Some(BufferModel::Unbounded);
        }
        let (name, rest) = policy.split_once('(')?;
        let n: usize = rest.strip_suffix(')')?.parse().ok()?;
        match name {
            "fifo" => Some(BufferModel::Fifo(n)),
            "overwrite_oldest" => Some(BufferModel::OverwriteOldest(n)),
            "drop_newest" => Some(BufferModel::DropNewest(n)),
            "priority" => Some(BufferModel::Priority(n)),
            _ => None,
        }
    }
}

/// Whether the export can model `policy` (the channel layer may grow new ones).
fn known(policy: &str) -> bool {
    policy == "rendezvous" || BufferModel::of(policy).is_some()
}

/// One channel's CSPm events.
struct Events {
    /// The channel's CSPm name (rendezvous) or the stem of `_in`/`_out`.
    name: String,
    /// `None`: rendezvous.
    buffer: Option<BufferModel>,
    /// The processes on each side, each once, in order: their index is their position.
    writers: Vec<usize>,
    readers: Vec<usize>,
}

impl Events {
    fn new(c: &ChannelNode, name: String) -> Events {
        Events {
            name,
            // An unknown policy is modelled as rendezvous, and the script says so.
            buffer: BufferModel::of(&c.policy),
            writers: dedup(&c.writers),
            readers: dedup(&c.readers),
        }
    }

    fn shared(&self, side: Side) -> bool {
        match side {
            Side::Write => self.writers.len() > 1,
            Side::Read => self.readers.len() > 1,
        }
    }

    fn index(&self, side: Side, process: usize) -> usize {
        let holders = match side {
            Side::Write => &self.writers,
            Side::Read => &self.readers,
        };
        holders.iter().position(|p| *p == process).unwrap_or(0)
    }

    /// `{0..n-1}.` for a shared side, else nothing: the index field of its events.
    fn field(&self, side: Side) -> String {
        let n = match side {
            Side::Write => self.writers.len(),
            Side::Read => self.readers.len(),
        };
        if self.shared(side) {
            format!("{{0..{}}}.", n - 1)
        } else {
            String::new()
        }
    }

    /// The CSPm channels and their types. A shared rendezvous channel carries the
    /// reader's index, then the writer's: `c.reader.writer.value`.
    fn declarations(&self) -> Vec<(String, String)> {
        let (w, r) = (self.field(Side::Write), self.field(Side::Read));
        if self.buffer.is_none() {
            vec![(self.name.clone(), format!("{r}{w}T"))]
        } else {
            vec![
                (format!("{}_in", self.name), format!("{w}T")),
                (format!("{}_out", self.name), format!("{r}T")),
            ]
        }
    }

    /// What a process's model writes before `!x` / `?x` for its end on `side`, and the
    /// events of that end (for its alphabet): a channel or prefix to put in `{| |}`, or a
    /// whole set, which starts with `{|`.
    fn end(&self, side: Side, process: usize) -> (String, String) {
        let i = self.index(side, process);
        let (w, r) = (self.shared(Side::Write), self.shared(Side::Read));
        let c = &self.name;
        match (self.buffer, side) {
            (None, Side::Write) => {
                // Offer every reader (`?_`), as this writer (`!i`).
                let prefix = format!("{c}{}{}", if r { "?_" } else { "" }, bang(w, i));
                let events = match (r, w) {
                    (true, true) => {
                        let last = self.readers.len() - 1;
                        format!("{{| {c}.j.{i} | j <- {{0..{last}}} |}}")
                    }
                    (false, true) => format!("{c}.{i}"),
                    _ => c.clone(),
                };
                (prefix, events)
            }
            (None, Side::Read) => {
                let mine = if r { format!("{c}.{i}") } else { c.clone() };
                (format!("{mine}{}", if w { "?_" } else { "" }), mine)
            }
            (_, Side::Write) => with_index(&format!("{c}_in"), w, i),
            (_, Side::Read) => with_index(&format!("{c}_out"), r, i),
        }
    }
}

fn bang(shared: bool, i: usize) -> String {
    if shared {
        format!("!{i}")
    } else {
        String::new()
    }
}

/// `(c.i, c.i)` on a shared side, else `(c, c)`.
fn with_index(c: &str, shared: bool, i: usize) -> (String, String) {
    let e = if shared {
        format!("{c}.{i}")
    } else {
        c.to_string()
    };
    (e.clone(), e)
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

/// One member of the parallel: its name and alphabet.
struct Member {
    name: String,
    alphabet: String,
}

pub(crate) fn cspm(t: &Topology) -> String {
    let mut taken: HashSet<String> = RESERVED.map(String::from).into();
    let channels: Vec<Events> = t
        .channels
        .iter()
        .map(|c| {
            let stem = identifier("", &c.name, &mut taken);
            if BufferModel::of(&c.policy).is_some() {
                // `_in`/`_out` and `BUFF_` must not meet another name either.
                for n in [
                    format!("{stem}_in"),
                    format!("{stem}_out"),
                    format!("BUFF_{stem}"),
                ] {
                    taken.insert(n);
                }
            }
            Events::new(c, stem)
        })
        .collect();
    let mut s = String::new();
    header(&mut s, t);
    declarations(&mut s, &channels);
    let mut members = Vec::new();
    for (c, events) in t.channels.iter().zip(&channels) {
        if let Some(b) = events.buffer {
            members.push(buffer(&mut s, c, events, b));
        }
    }
    let by_id: HashMap<u64, usize> = t
        .channels
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id, i))
        .collect();
    let mut placeholders = 0;
    for p in 0..t.processes.len() {
        let (member, placeholder) = process(&mut s, t, &channels, &by_id, p, &mut taken);
        placeholders += usize::from(placeholder);
        members.push(member);
    }
    system(&mut s, &members);
    if placeholders > 0 {
        let _ = writeln!(
            s,
            "-- {placeholders} process(es) above are placeholders: the check covers the rest."
        );
    }
    s.push_str("assert SYSTEM :[deadlock free]\n");
    s
}

/// What the model keeps and what it abstracts, said in the script itself.
fn header(s: &mut String, t: &Topology) {
    s.push_str("-- CSPm model of the network, generated by csp::Topology::to_cspm().\n");
    s.push_str(
        "-- Check it with FDR (`refines network.csp`). Values are abstracted to the finite\n\
         -- type T = {0..K-1} (raise K to model more values); finite streams are modelled\n\
         -- as infinite (retiring and poisoning are not modelled); buffered channels are\n\
         -- buffer processes of their capacity and policy.\n",
    );
    for c in &t.channels {
        if !known(&c.policy) {
            let _ = writeln!(
                s,
                "-- ABSTRACTED: channel '{}' has a policy this export does not know ({}); \
                 it is modelled as rendezvous.",
                c.name, c.policy
            );
        }
    }
    s.push('\n');
    s.push_str("K = 2\nT = {0..K-1}\n\n");
}

fn declarations(s: &mut String, channels: &[Events]) {
    let all: Vec<(String, String)> = channels.iter().flat_map(Events::declarations).collect();
    // Plain channels on one line, as a person would write them; indexed ones each alone.
    let plain: Vec<&str> = all
        .iter()
        .filter(|(_, ty)| ty == "T")
        .map(|(n, _)| n.as_str())
        .collect();
    if !plain.is_empty() {
        let _ = writeln!(s, "channel {} : T", plain.join(", "));
    }
    for (n, ty) in all.iter().filter(|(_, ty)| ty != "T") {
        let _ = writeln!(s, "channel {n} : {ty}");
    }
    if !all.is_empty() {
        s.push('\n');
    }
    if channels
        .iter()
        .any(|e| e.buffer == Some(BufferModel::Unbounded))
    {
        let _ = writeln!(
            s,
            "-- Unbounded channels are approximated by FIFO buffers of capacity UB: the\n\
             -- program's writer never blocks, the model's does while UB values wait, so a\n\
             -- deadlock found with such a buffer full may not exist in the program (raise UB).\n\
             UB = {UNBOUNDED_BOUND}\n"
        );
    }
    if channels
        .iter()
        .any(|e| matches!(e.buffer, Some(BufferModel::Priority(_))))
    {
        s.push_str(
            "-- A priority buffer's queue, greatest first, equal values oldest first.\n\
             pinsert(x, <>) = <x>\n\
             pinsert(x, <y>^s) = if x > y then <x, y>^s else <y>^pinsert(x, s)\n\n",
        );
    }
}

/// The buffer process of a buffered channel; its member of the parallel.
fn buffer(s: &mut String, c: &ChannelNode, e: &Events, b: BufferModel) -> Member {
    let n = &e.name;
    let input = format!("{n}_in{}", if e.shared(Side::Write) { "?_" } else { "" });
    let output = format!("{n}_out{}", if e.shared(Side::Read) { "?_" } else { "" });
    let me = format!("BUFF_{n}");
    let (cap, note, store) = match b {
        BufferModel::Fifo(cap) => (cap.to_string(), "a writer waits while it is full", "s^<x>"),
        BufferModel::Unbounded => ("UB".into(), "bounded by UB, see above", "s^<x>"),
        BufferModel::Priority(cap) => (
            cap.to_string(),
            "the reader gets the greatest value (T's order stands for the type's Ord)",
            "pinsert(x, s)",
        ),
        BufferModel::OverwriteOldest(cap) => (
            cap.to_string(),
            "a write never waits: when full it drops the oldest value",
            "",
        ),
        BufferModel::DropNewest(cap) => (
            cap.to_string(),
            "a write never waits: when full the value written is dropped",
            "",
        ),
    };
    let _ = writeln!(s, "-- channel '{}', {}: {note}", c.name, c.policy);
    let write = match b {
        BufferModel::OverwriteOldest(_) => {
            format!("{input}?x -> {me}(if #s < {cap} then s^<x> else tail(s)^<x>)")
        }
        BufferModel::DropNewest(_) => {
            format!("{input}?x -> {me}(if #s < {cap} then s^<x> else s)")
        }
        _ => format!("#s < {cap} & {input}?x -> {me}({store})"),
    };
    let _ = writeln!(
        s,
        "{me}(s) =\n    {write}\n    [] #s > 0 & {output}!head(s) -> {me}(tail(s))\n"
    );
    Member {
        name: format!("{me}(<>)"),
        alphabet: format!("{{| {n}_in, {n}_out |}}"),
    }
}

/// One process's definition (its model, or a marked placeholder); its member of the
/// parallel, and whether it is a placeholder. `by_id` finds a channel by its id.
fn process(
    s: &mut String,
    t: &Topology,
    channels: &[Events],
    by_id: &HashMap<u64, usize>,
    p: usize,
    taken: &mut HashSet<String>,
) -> (Member, bool) {
    let node = &t.processes[p];
    let name = identifier("P_", &node.path, taken);
    let mut ends = Vec::new();
    let mut events = Vec::new();
    for e in &node.ends {
        let (prefix, its) = match by_id.get(&e.channel_id()) {
            Some(c) => channels[*c].end(e.side(), p),
            None => ("UNKNOWN".to_string(), "UNKNOWN".to_string()),
        };
        ends.push((e.path().to_string(), prefix));
        events.push(its);
    }
    let alphabet = alphabet(events);
    let _ = writeln!(s, "-- process '{}'", node.path);
    let placeholder = match &node.model {
        Some(model) => {
            let ctx = ModelContext {
                name: name.clone(),
                ends,
            };
            let _ = writeln!(s, "{}\n", model.render(&ctx).trim_end());
            false
        }
        None if node.ends.is_empty() => {
            let _ = writeln!(
                s,
                "-- PLACEHOLDER: no model and no recorded channels; give it\n\
                 -- #[process(model = \"...\")] (or Process::with_model).\n{name} = SKIP\n"
            );
            true
        }
        None => {
            let _ = writeln!(
                s,
                "-- PLACEHOLDER: no model; give it #[process(model = \"...\")] (or\n\
                 -- Process::with_model). Until then it may do anything on its channels\n\
                 -- but never refuses all of them, so it hides no deadlock of its own.\n\
                 {name} = RUN({alphabet})\n"
            );
            true
        }
    };
    (Member { name, alphabet }, placeholder)
}

/// A process's alphabet from its ends' events (see [`Events::end`]): the channels and
/// prefixes in one `{| |}`, whole sets beside it.
fn alphabet(events: Vec<String>) -> String {
    let mut plain: Vec<String> = Vec::new();
    let mut sets: Vec<String> = Vec::new();
    for e in events {
        let list = if e.starts_with("{|") {
            &mut sets
        } else {
            &mut plain
        };
        if !list.contains(&e) {
            list.push(e);
        }
    }
    if !plain.is_empty() {
        sets.insert(0, format!("{{| {} |}}", plain.join(", ")));
    }
    match sets.len() {
        0 => "{}".to_string(),
        1 => sets.remove(0),
        _ => format!("Union({{{}}})", sets.join(", ")),
    }
}

/// The alphabetised parallel of every member, replicated over their indices:
/// `ALPHA(i)` and `PROC(i)` per member, then `|| i : {0..n-1} @ [ALPHA(i)] PROC(i)`, so
/// the script grows linearly with the network (a folded binary parallel repeats the
/// union of all earlier alphabets at every step: quadratic).
fn system(s: &mut String, members: &[Member]) {
    match members {
        [] => s.push_str("SYSTEM = SKIP\n\n"),
        [only] => {
            let _ = writeln!(s, "SYSTEM = {}\n", only.name);
        }
        _ => {
            for (i, m) in members.iter().enumerate() {
                let _ = writeln!(s, "ALPHA({i}) = {}", m.alphabet);
            }
            for (i, m) in members.iter().enumerate() {
                let _ = writeln!(s, "PROC({i}) = {}", m.name);
            }
            let _ = writeln!(
                s,
                "\nSYSTEM = || i : {{0..{}}} @ [ALPHA(i)] PROC(i)\n",
                members.len() - 1
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::cspm;
    use crate::channel::Kind;
    use crate::topology::{ChannelNode, Declarations, Topology};

    /// A channel layer newer than this export may name a policy it cannot model: the
    /// script must say so rather than pass it off as modelled.
    #[test]
    fn an_unknown_policy_is_modelled_as_rendezvous_and_marked() {
        let (tx, _rx) = crate::Channel::<u8>::new().one2one();
        let t = Topology {
            processes: Vec::new(),
            channels: vec![ChannelNode {
                id: 1,
                name: Arc::from("odd"),
                kind: Kind::One2One,
                policy: Arc::from("sliding(4)"),
                can_cross: true,
                writers: Vec::new(),
                readers: Vec::new(),
                boundary: true,
                open: [1, 1],
                info: tx.info().0.clone(),
            }],
            declarations: Declarations::default(),
        };
        let script = cspm(&t);
        assert!(
            script.contains(
                "-- ABSTRACTED: channel 'odd' has a policy this export does not know (sliding(4))"
            ),
            "{script}"
        );
        assert!(script.contains("channel odd : T\n"), "{script}");
        assert!(!script.contains("BUFF_odd"), "{script}");
    }
}
