//! A process is a value: a name, the channel ends it holds, and a body that runs only
//! when a combinator ([`Parallel`](crate::Parallel), [`Sequence`](crate::Sequence),
//! [`spawn`](crate::spawn)) runs it.
//!
//! Layer: process, above alt. It may use `channel`, `park` and `error`; it knows
//! nothing of the topology, `Parallel` or the components above it, which build on
//! what it records ([`RecordedEnd`]s, a [`Model`], a nested network's processes).
//!
//! Make one with `#[process]` on a function, or from a closure:
//!
//! ```
//! use csp::{Channel, Parallel, Process};
//!
//! let (tx, rx) = Channel::<u32>::new().one2one();
//! let producer = Process::with_ends("producer", tx, |tx| {
//!     for i in 0..3 {
//!         tx.write(i)?;
//!     }
//!     Ok(())
//! });
//! let consumer = Process::with_ends("consumer", rx, |rx| Ok(rx.into_iter().sum::<u32>()));
//! let results = Parallel::new().add(producer.map(|()| 0)).add(consumer).run()?;
//! assert_eq!(results, vec![Some(0), Some(3)]);
//! # Ok::<(), csp::NetworkError>(())
//! ```

mod failure;
mod model;
mod placement;
mod record;
mod run;

pub use failure::{BoxError, Failure};
pub use model::{Model, ModelContext};
pub(crate) use placement::{Body, Decode, Remote};
pub use placement::{Placement, GREEN_STACK_MAX, GREEN_STACK_MIN};
pub use record::{Ends, RecordedEnd, Recorder};
pub(crate) use run::{panic_message, Exit, Runnable};

use crate::alt::barrier::Party;

/// A process whose body may borrow from its surroundings for `'a`; see [`Process`].
///
/// A [`Parallel`](crate::Parallel) waits for all its processes, like
/// `std::thread::scope`, so its processes may borrow local data:
///
/// ```
/// use csp::{Parallel, ScopedProcess};
///
/// let data = vec![1, 2, 3, 4];
/// let (left, right) = data.split_at(2);
/// let sums = Parallel::new()
///     .add(ScopedProcess::from_fn("left", || left.iter().sum::<i32>()))
///     .add(ScopedProcess::from_fn("right", || right.iter().sum::<i32>()))
///     .run()?;
/// assert_eq!(sums, vec![Some(3), Some(7)]);
/// # Ok::<(), csp::NetworkError>(())
/// ```
pub struct ScopedProcess<'a, R = ()> {
    name: String,
    ends: Vec<RecordedEnd>,
    /// The barrier parties it holds (recorded like its ends).
    parties: Vec<Party>,
    body: Body<'a, R>,
    placement: Placement,
    /// The usable stack size asked for with `green_stack` (else the network's default).
    green_stack: Option<usize>,
    pub(crate) model: Option<Model>,
    /// For a nested network: its processes, flattened (their paths relative to it).
    pub(crate) nested: Option<Vec<ProcessNode>>,
}

/// A process that owns everything it uses: what `#[process]` functions return, and what
/// can be [`spawn`](crate::spawn)ed, forked or run as a green thread.
///
/// ```
/// use csp::{Channel, Process};
/// // Owns its data: it can outlive the code that made it, e.g. be spawned.
/// let (tx, rx) = Channel::<String>::new().one2one();
/// let greeting = String::from("hello");
/// let p: Process<usize> = Process::with_ends("greeter", tx, move |tx| {
///     tx.write(greeting.clone())?;
///     Ok(greeting.len())
/// });
/// let running = csp::spawn(p)?;
/// assert_eq!(rx.read()?, "hello");
/// assert_eq!(running.join()?, Some(5));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Process<R = ()> = ScopedProcess<'static, R>;

impl<'a, R: 'a> ScopedProcess<'a, R> {
    /// A process from a closure that may fail: `?` works on every channel operation.
    ///
    /// ```
    /// use csp::{Channel, Process};
    /// let (tx, rx) = Channel::<u8>::new().fifo(1).one2one();
    /// let p = Process::new("hello", move || {
    ///     tx.write(7)?;
    ///     Ok(())
    /// });
    /// assert_eq!(p.name(), "hello");
    /// csp::Sequence::new().add(p).run()?;
    /// assert_eq!(rx.read()?, 7);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(
        name: impl Into<String>,
        body: impl FnOnce() -> Result<R, BoxError> + Send + 'a,
    ) -> Self {
        ScopedProcess {
            name: name.into(),
            ends: Vec::new(),
            parties: Vec::new(),
            body: Body::Local(Box::new(body)),
            placement: Placement::Thread,
            green_stack: None,
            model: None,
            nested: None,
        }
    }

    /// A process from a closure that cannot fail.
    ///
    /// ```
    /// let p = csp::Process::from_fn("answer", || 42);
    /// assert_eq!(csp::Sequence::new().add(p).run()?, vec![Some(42)]);
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn from_fn(name: impl Into<String>, body: impl FnOnce() -> R + Send + 'a) -> Self {
        Self::new(name, move || Ok(body()))
    }

    /// A process that holds `ends` (recorded, so the runtime can poison them if the
    /// process fails, and the topology layer can draw them) and hands them to `body`.
    ///
    /// ```
    /// use csp::{Channel, Process};
    /// let (tx, rx) = Channel::<u8>::new().one2one();
    /// let p = Process::with_ends("writer", tx, |tx| Ok(tx.write(1)?));
    /// assert_eq!(p.ends().len(), 1);
    /// # drop(rx);
    /// ```
    pub fn with_ends<E: Ends + Send + 'a>(
        name: impl Into<String>,
        ends: E,
        body: impl FnOnce(E) -> Result<R, BoxError> + Send + 'a,
    ) -> Self {
        let name = name.into();
        let mut rec = Recorder::new();
        ends.record_ends(&mut rec);
        let (recorded, parties) = rec.into_parts();
        ScopedProcess {
            name,
            ends: recorded,
            parties,
            body: Body::Local(Box::new(move || body(ends))),
            placement: Placement::Thread,
            green_stack: None,
            model: None,
            nested: None,
        }
    }

    /// The process's name, used in every error about it.
    ///
    /// ```
    /// use csp::{process, Output};
    /// #[process]
    /// fn ticker(out: Output<u8>) {
    ///     let _ = out.write(1);
    /// }
    /// let (tx, _rx) = csp::Channel::<u8>::new().one2one();
    /// assert_eq!(ticker(tx).name(), "ticker"); // a `#[process]` is named after its function
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Renames the process (e.g. `worker[3]` for a replicated worker).
    ///
    /// ```
    /// let p = csp::Process::from_fn("worker", || ()).named("worker[3]");
    /// assert_eq!(p.name(), "worker[3]");
    /// ```
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    pub(crate) fn rename(&mut self, name: String) {
        self.name = name;
    }

    /// The channel ends the process holds.
    ///
    /// ```
    /// use csp::channel::Side;
    /// use csp::{process, Channel, Input, Output};
    /// #[process]
    /// fn relay(input: Input<u8>, outputs: Vec<Output<u8>>, label: &'static str) {
    ///     # let _ = (input, outputs, label);
    /// }
    /// let (_, rx) = Channel::<u8>::new().one2one();
    /// let (a, _) = Channel::<u8>::new().one2one();
    /// let (b, _) = Channel::<u8>::new().one2one();
    /// let p = relay(rx, vec![a, b], "fan-out");
    /// let ends: Vec<(&str, Side)> = p.ends().iter().map(|e| (e.path(), e.side())).collect();
    /// assert_eq!(ends, [("input", Side::Read), ("outputs[0]", Side::Write), ("outputs[1]", Side::Write)]);
    /// ```
    pub fn ends(&self) -> &[RecordedEnd] {
        &self.ends
    }

    /// Where the process runs (see [`Placement`]).
    ///
    /// ```
    /// use csp::{Placement, Process};
    /// let p = Process::from_fn("job", || 1_u8);
    /// assert_eq!(p.placement(), &Placement::Thread); // the default
    /// assert_eq!(p.forked().placement(), &Placement::Fork); // placing does not run it
    /// ```
    pub fn placement(&self) -> &Placement {
        &self.placement
    }

    pub(crate) fn set_placement(&mut self, placement: Placement) {
        self.placement = placement;
    }

    /// Gives the process a CSPm model, used by
    /// [`Topology::to_cspm`](crate::Topology::to_cspm) (see [`Model`]).
    ///
    /// ```
    /// use csp::process::Model;
    /// let p = csp::Process::from_fn("idle", || ()).with_model(Model::template("{SELF} = SKIP"));
    /// # drop(p);
    /// ```
    pub fn with_model(mut self, model: Model) -> Self {
        self.model = Some(model);
        self
    }

    /// The processes this one stands for in a network: itself, or a nested network's
    /// processes with their paths under its name.
    pub(crate) fn nodes(&self, name: &str) -> Vec<ProcessNode> {
        let here = match &self.placement {
            Placement::Thread | Placement::Green => None,
            Placement::Fork => Some(format!("fork {name}")),
            Placement::Group(group) => Some(format!("group {group}")),
        };
        match &self.nested {
            Some(children) => children
                .iter()
                .map(|c| {
                    // A place inside the nested network is named under it; the nested
                    // network's own place, if forked, contains it.
                    let inner = c.place.as_ref().map(|p| format!("{name}/{p}"));
                    let place = match (&here, inner) {
                        (Some(outer), Some(inner)) => Some(format!("{outer} > {inner}")),
                        (outer, inner) => inner.or_else(|| outer.clone()),
                    };
                    ProcessNode {
                        path: format!("{name}/{}", c.path),
                        place,
                        ..c.clone()
                    }
                })
                .collect(),
            None => vec![ProcessNode {
                path: name.to_string(),
                ends: self.ends.clone(),
                model: self.model.clone(),
                place: here,
                // Set by the network, which knows its default and whether it forks.
                green_stack: None,
            }],
        }
    }

    pub(crate) fn set_ends(&mut self, ends: Vec<RecordedEnd>) {
        self.ends = ends;
    }

    /// The same process with its result transformed by `f`.
    ///
    /// ```
    /// let p = csp::Process::from_fn("n", || 20).map(|n| n + 1);
    /// assert_eq!(csp::Sequence::new().add(p).run()?, vec![Some(21)]);
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn map<S: 'a>(self, f: impl FnOnce(R) -> S + Send + 'a) -> ScopedProcess<'a, S> {
        ScopedProcess {
            name: self.name,
            ends: self.ends,
            parties: self.parties,
            body: self.body.map(f),
            placement: self.placement,
            green_stack: self.green_stack,
            model: self.model,
            nested: self.nested,
        }
    }

    /// Poisons every recorded channel: used when the process will never run or has failed.
    pub(crate) fn poison_ends(ends: &[RecordedEnd]) {
        for e in ends {
            e.channel.poison_channel();
        }
    }

    /// Splits the process into what the supervisor keeps and what the worker runs. The
    /// process is about to start under its final name: unnamed channels are named after
    /// it now (`process.param`).
    ///
    /// A process placed elsewhere runs here all the same, its result encoded and
    /// decoded on the spot: `Sequence` and `spawn` ignore placement.
    pub(crate) fn into_parts(self) -> (String, Vec<RecordedEnd>, Runnable<'a, R>) {
        self.derive_channel_names();
        let runnable = Runnable {
            name: self.name.clone(),
            ends: self.ends.clone(),
            parties: self.parties,
            body: self.body.into_local(),
        };
        (self.name, self.ends, runnable)
    }

    /// [`into_parts`](Self::into_parts), keeping a remote body remote: what runs in
    /// the other OS process (giving the result encoded), and the decoder for the bytes
    /// that come back.
    pub(crate) fn into_placed_parts(self) -> Parts<'a, R> {
        self.derive_channel_names();
        match self.body {
            Body::Local(body) => Parts::Here(
                self.name.clone(),
                self.ends.clone(),
                Runnable {
                    name: self.name,
                    ends: self.ends,
                    parties: self.parties,
                    body,
                },
            ),
            Body::Remote(Remote { run, decode }) => Parts::Remote(
                Runnable {
                    name: self.name,
                    ends: self.ends,
                    parties: self.parties,
                    body: run,
                },
                decode,
            ),
        }
    }

    fn derive_channel_names(&self) {
        for e in &self.ends {
            let name = if e.path.is_empty() {
                self.name.clone()
            } else {
                format!("{}.{}", self.name, e.path)
            };
            e.channel.derive_name(&name);
        }
    }
}

/// One process of a flattened network, as recorded before it runs: what the layers
/// above (validation, diagrams, models) build their picture from.
#[derive(Clone)]
pub(crate) struct ProcessNode {
    /// Its path: its name, prefixed by the names of the networks it is nested in.
    pub(crate) path: String,
    pub(crate) ends: Vec<RecordedEnd>,
    pub(crate) model: Option<Model>,
    /// The forked OS process it runs in, as a label (`fork name`, `group g`, nested ones
    /// joined with ` > `); `None` for the OS process that runs the network.
    pub(crate) place: Option<String>,
    /// For a green process, the usable bytes of its stack (its own or its network's
    /// default, as asked: validation checks them); `None` for any other.
    pub(crate) green_stack: Option<usize>,
}

/// A process split for the executor that runs it.
pub(crate) enum Parts<'a, R> {
    /// Runs in this OS process: its name, its ends, and what a worker runs.
    Here(String, Vec<RecordedEnd>, Runnable<'a, R>),
    /// Runs in another one: what runs there, and the decoder of its result.
    Remote(Runnable<'a, Vec<u8>>, Decode<'a, R>),
}

/// Support for the `#[process]` expansion. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use super::record::__private::*;
    use super::{Process, Recorder};
    use crate::BoxError;

    /// Builds the process a `#[process]` function returns.
    pub fn from_macro<R: 'static>(
        name: &str,
        rec: Recorder,
        body: impl FnOnce() -> Result<R, BoxError> + Send + 'static,
    ) -> Process<R> {
        let mut p = Process::new(name, body);
        (p.ends, p.parties) = rec.into_parts();
        p
    }

    // Whether a body's value is an error is decided by its *type*, not by the tokens of
    // the return type, so `std::io::Result<()>` and aliases such as
    // `type Result<T> = std::result::Result<T, MyError>` fail like a spelled-out `Result`.
    // The macro knows no types and picks one of two routes by the return type's name:
    // - named `Result` (`Result<T, E>`, `io::Result<T>`, `fmt::Result`, an alias): the
    //   process's result type is `ProcessResult::Ok`, computed by the compiler, and the
    //   value goes through `settle`; a non-std type named `Result` does not compile;
    // - anything else: the result type is the value's type, and the value goes through
    //   `Outcome`'s autoref specialisation (as `Probe` in record.rs), so a `Result` under
    //   another name (`type Fallible = Result<(), E>`) still fails on `Err`.
    // Both routes require an error type that converts into `BoxError`.

    /// The `Ok` type of a return type named `Result`: what the process returns.
    pub trait ProcessResult {
        /// The process's result type.
        type Ok;
    }

    impl<T, E> ProcessResult for Result<T, E> {
        type Ok = T;
    }

    /// Marks the body's outcome before the parameters it did not consume are dropped: on an
    /// error, those ends poison their channels instead of retiring.
    pub fn settle<T, E: Into<BoxError>>(result: Result<T, E>) -> Result<T, BoxError> {
        result.map_err(|e| {
            crate::park::process::set_failing();
            e.into()
        })
    }

    /// Wraps a body's value for autoref specialisation: `(&Outcome(&v)).__csp_outcome()`
    /// gives [`Fails`] for a `Result`, [`Succeeds`] for any other type.
    pub struct Outcome<'a, T>(pub &'a T);

    /// A value that is a `Result`: its `Err` is the process's failure.
    pub struct Fails;

    /// A value that is not a `Result`: always a success.
    pub struct Succeeds;

    /// Chosen when the value is a `Result`.
    pub trait ResultOutcome {
        /// The tag that settles this value.
        fn __csp_outcome(&self) -> Fails {
            Fails
        }
    }
    impl<T, E> ResultOutcome for Outcome<'_, Result<T, E>> {}

    /// The fallback for every other value.
    pub trait ValueOutcome {
        /// The tag that settles this value.
        fn __csp_outcome(&self) -> Succeeds {
            Succeeds
        }
    }
    impl<T> ValueOutcome for &Outcome<'_, T> {}

    impl Fails {
        /// `Err` fails the process (the value is kept whole on success: the macro already
        /// named the process's result type after it).
        pub fn settle<T, E: Into<BoxError>>(
            self,
            value: Result<T, E>,
        ) -> Result<Result<T, E>, BoxError> {
            settle(value).map(Ok)
        }
    }

    impl Succeeds {
        /// Any value is a success.
        pub fn settle<V>(self, value: V) -> Result<V, BoxError> {
            Ok(value)
        }
    }
}
