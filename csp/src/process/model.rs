//! A process's CSPm model, for [`Topology::to_cspm`](crate::Topology::to_cspm).

use std::sync::Arc;

/// How a process behaves, in CSPm, so that a network can be checked in FDR.
///
/// Give one with `#[process(model = "...")]` or
/// [`Process::with_model`](crate::Process::with_model). A template names the channel of each end by the
/// parameter (or field path) that holds it, in braces, and the process itself as
/// `{SELF}`:
///
/// ```
/// use csp::{process, Channel, ChannelError, Input, Output, Parallel};
///
/// #[process(model = "{SELF} = {jobs}?x -> {results}!x -> {SELF}")]
/// fn worker(jobs: Input<u8>, results: Output<u8>) -> Result<(), ChannelError> {
///     for j in &jobs {
///         results.write(j)?;
///     }
///     Ok(())
/// }
///
/// let (jobs, jobs_in) = Channel::<u8>::new().named("jobs").one2one();
/// let (out, results) = Channel::<u8>::new().named("results").one2one();
/// let net: Parallel<()> = Parallel::new().add(worker(jobs_in, out)).boundary(&(jobs, results));
/// assert!(net.topology().to_cspm().contains("P_worker = jobs?x -> results!x -> P_worker"));
/// ```
#[derive(Clone)]
pub struct Model(ModelSource);

#[derive(Clone)]
enum ModelSource {
    Template(Arc<str>),
    Generated(fn(&ModelContext) -> String),
}

impl Model {
    /// A CSPm template: `{SELF}` is the process, `{param}` the channel of the end held
    /// by parameter `param` (`{outputs[1]}`, `{pair.requests}` for nested ends).
    ///
    /// ```
    /// use csp::process::Model;
    /// use csp::{Channel, Parallel, Process};
    /// let (tx, rx) = Channel::<u8>::new().named("ticks").one2one();
    /// let net: Parallel<()> = Parallel::new()
    ///     .add(Process::with_ends("clock", tx, |_| Ok(())).with_model(Model::template("{SELF} = {}!0 -> {SELF}")))
    ///     .boundary(&rx);
    /// // `{}` is the end the process holds itself (a tuple's parts would be `{0}`, `{1}`).
    /// assert!(net.topology().to_cspm().contains("P_clock = ticks!0 -> P_clock"));
    /// ```
    pub fn template(text: &str) -> Model {
        Model(ModelSource::Template(Arc::from(text)))
    }

    /// A model written by a function of the process's context (how the components in
    /// [`csp::components`](crate::components) describe themselves).
    ///
    /// ```
    /// use csp::process::{Model, ModelContext};
    /// use csp::{process, Channel, Output, Parallel};
    /// // One output per replica, whatever their number: written by a function.
    /// fn broadcast_model(ctx: &ModelContext) -> String {
    ///     let outs: Vec<String> = ctx.channels("outs").iter().map(|c| format!("{c}!0")).collect();
    ///     format!("{} = {} -> {}", ctx.name(), outs.join(" -> "), ctx.name())
    /// }
    /// #[process]
    /// fn broadcast(outs: Vec<Output<u8>>) {
    ///     for o in &outs {
    ///         let _ = o.write(0);
    ///     }
    /// }
    /// let (txs, rxs): (Vec<_>, Vec<_>) =
    ///     (0..2).map(|i| Channel::<u8>::new().named(format!("out{i}")).one2one()).unzip();
    /// let p = broadcast(txs).with_model(Model::generated(broadcast_model));
    /// let net: Parallel<()> = Parallel::new().add(p).boundary(&rxs);
    /// let cspm = net.topology().to_cspm();
    /// assert!(cspm.contains("P_broadcast = out0!0 -> out1!0 -> P_broadcast"), "{cspm}");
    /// ```
    pub fn generated(f: fn(&ModelContext) -> String) -> Model {
        Model(ModelSource::Generated(f))
    }

    pub(crate) fn render(&self, ctx: &ModelContext) -> String {
        match &self.0 {
            ModelSource::Generated(f) => f(ctx),
            ModelSource::Template(t) => {
                let mut out = String::with_capacity(t.len());
                let mut rest: &str = t;
                while let Some(open) = rest.find('{') {
                    out.push_str(&rest[..open]);
                    let after = &rest[open + 1..];
                    match after.find('}') {
                        Some(close) => {
                            let key = &after[..close];
                            if key == "SELF" {
                                out.push_str(&ctx.name);
                            } else {
                                out.push_str(&ctx.channel(key));
                            }
                            rest = &after[close + 1..];
                        }
                        None => {
                            out.push('{');
                            rest = after;
                        }
                    }
                }
                out.push_str(rest);
                out
            }
        }
    }
}

/// What a model can refer to: the process's CSPm name and the channels of its ends.
///
/// ```
/// use csp::process::{Model, ModelContext};
/// use csp::{process, Channel, Input, Output, Parallel};
/// fn relay_model(ctx: &ModelContext) -> String {
///     let (i, o) = (ctx.channel("input"), ctx.channel("output"));
///     format!("{s} = {i}?x -> {o}!x -> {s}", s = ctx.name())
/// }
/// #[process]
/// fn relay(input: Input<u8>, output: Output<u8>) {
///     for v in &input {
///         let _ = output.write(v);
///     }
/// }
/// let (a, a_in) = Channel::<u8>::new().named("a").one2one();
/// let (b, b_in) = Channel::<u8>::new().named("b").one2one();
/// let p = relay(a_in, b).with_model(Model::generated(relay_model));
/// let net: Parallel<()> = Parallel::new().add(p).boundary(&(a, b_in));
/// assert!(net.topology().to_cspm().contains("P_relay = a?x -> b!x -> P_relay"));
/// ```
pub struct ModelContext {
    pub(crate) name: String,
    /// (path of the end in the parameters, CSPm name of its channel), in order.
    pub(crate) ends: Vec<(String, String)>,
}

impl ModelContext {
    /// The process's CSPm name.
    ///
    /// ```
    /// use csp::process::{Model, ModelContext};
    /// use csp::{Parallel, Process};
    /// fn idle(ctx: &ModelContext) -> String {
    ///     format!("{} = SKIP", ctx.name()) // the process's name in the script, not its Rust name
    /// }
    /// let net: Parallel<()> = Parallel::new()
    ///     .add(Process::from_fn("worker", || ()).with_model(Model::generated(idle)))
    ///     .lint(csp::Lint::NoChannels, csp::Level::Allow);
    /// assert!(net.topology().to_cspm().contains("P_worker = SKIP"));
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The channel of the end at `path` (a parameter name, `outputs[1]`, ...); if no
    /// end is there, a marked name that FDR will reject, so the mistake shows.
    ///
    /// ```
    /// use csp::process::{Model, ModelContext};
    /// use csp::{Channel, Parallel, Process};
    /// fn model(ctx: &ModelContext) -> String {
    ///     // "0" is the first part of the tuple of ends; "typo" holds no end and shows up as such.
    ///     format!("{} = {}!0 -> {}!0 -> SKIP", ctx.name(), ctx.channel("0"), ctx.channel("typo"))
    /// }
    /// let (tx, rx) = Channel::<u8>::new().named("out").one2one();
    /// let p = Process::with_ends("w", (tx,), |_| Ok(())).with_model(Model::generated(model));
    /// let net: Parallel<()> = Parallel::new().add(p).boundary(&rx);
    /// assert!(net.topology().to_cspm().contains("P_w = out!0 -> UNKNOWN_END_typo!0 -> SKIP"));
    /// ```
    pub fn channel(&self, path: &str) -> String {
        self.ends
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, c)| c.clone())
            .unwrap_or_else(|| format!("UNKNOWN_END_{}", path.replace(['.', '[', ']'], "_")))
    }

    /// The channels of every end under parameter `param` (e.g. each of a `Vec`'s).
    ///
    /// ```
    /// use csp::process::{Model, ModelContext};
    /// use csp::{process, Channel, Input, Output, Parallel};
    /// fn fan_in(ctx: &ModelContext) -> String {
    ///     let choices: Vec<String> = ctx.channels("inputs").iter().map(|c| format!("{c}?x -> {}", ctx.name())).collect();
    ///     format!("{} = {}", ctx.name(), choices.join(" [] "))
    /// }
    /// #[process]
    /// fn drain(inputs: Vec<Input<u8>>) {
    ///     for i in &inputs {
    ///         i.iter().for_each(drop);
    ///     }
    /// }
    /// let (txs, rxs): (Vec<_>, Vec<_>) = (0..3).map(|i| Channel::<u8>::new().named(format!("c{i}")).one2one()).unzip();
    /// let net: Parallel<()> = Parallel::new().add(drain(rxs).with_model(Model::generated(fan_in))).boundary(&txs);
    /// assert!(net.topology().to_cspm().contains("P_drain = c0?x -> P_drain [] c1?x -> P_drain [] c2?x -> P_drain"));
    /// ```
    pub fn channels(&self, param: &str) -> Vec<String> {
        self.ends
            .iter()
            .filter(|(p, _)| p == param || p.starts_with(&format!("{param}[")))
            .map(|(_, c)| c.clone())
            .collect()
    }
}
