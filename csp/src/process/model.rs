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
    pub fn template(text: &str) -> Model {
        Model(ModelSource::Template(Arc::from(text)))
    }

    /// A model written by a function of the process's context (how the components in
    /// [`csp::components`](crate::components) describe themselves).
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
pub struct ModelContext {
    pub(crate) name: String,
    /// (path of the end in the parameters, CSPm name of its channel), in order.
    pub(crate) ends: Vec<(String, String)>,
}

impl ModelContext {
    /// The process's CSPm name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The channel of the end at `path` (a parameter name, `outputs[1]`, ...); if no
    /// end is there, a marked name that FDR will reject, so the mistake shows.
    pub fn channel(&self, path: &str) -> String {
        self.ends
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, c)| c.clone())
            .unwrap_or_else(|| format!("UNKNOWN_END_{}", path.replace(['.', '[', ']'], "_")))
    }

    /// The channels of every end under parameter `param` (e.g. each of a `Vec`'s).
    pub fn channels(&self, param: &str) -> Vec<String> {
        self.ends
            .iter()
            .filter(|(p, _)| p == param || p.starts_with(&format!("{param}[")))
            .map(|(_, c)| c.clone())
            .collect()
    }
}
