//! What validation found: problems with the processes and channels they concern, and a
//! hint for each. Part of the topology layer; plain data, it uses nothing else.

use std::fmt;

/// A kind of warning, which a network can deny (make an error) or allow (silence).
///
/// ```
/// use csp::{Level, Lint, Parallel, Process};
/// let net: Parallel<()> = Parallel::new()
///     .add(Process::from_fn("lonely", || ()))
///     .lint(Lint::NoChannels, Level::Deny);
/// let err = net.run().unwrap_err();
/// assert!(err.to_string().contains("'lonely'"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Lint {
    /// Processes linked in a cycle by rendezvous channels (may deadlock).
    RendezvousCycle,
    /// A process that records no channel end.
    NoChannels,
    /// A channel used inside the network with open ends also held outside it (e.g. the
    /// caller forgot to drop its copy of a shared writer, so the readers never see the
    /// channel retire).
    OutsideEnds,
    /// Declared client–server channels whose cycles break the design rule.
    ClientServer,
}

/// What to do with a [`Lint`].
///
/// ```
/// use csp::{Level, Lint, NetworkError, Parallel, Process};
/// let lonely = || Parallel::<()>::new().add(Process::from_fn("lonely", || ()));
/// assert_eq!(lonely().validate().warnings().len(), 1); // Warn: the default
/// assert!(lonely().lint(Lint::NoChannels, Level::Allow).validate().problems().is_empty());
/// let denied = lonely().lint(Lint::NoChannels, Level::Deny).run();
/// assert!(matches!(denied, Err(NetworkError::Invalid(_))));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    /// Say nothing.
    Allow,
    /// Report a warning (the default).
    Warn,
    /// Refuse the network.
    Deny,
}

/// How bad a problem is.
///
/// ```
/// use csp::topology::Severity;
/// use csp::{Parallel, Process};
/// let report = Parallel::<()>::new().add(Process::from_fn("lonely", || ())).validate();
/// assert_eq!(report.problems()[0].severity, Severity::Warning);
/// assert!(report.is_ok()); // a warning does not refuse the network
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The network is refused.
    Error,
    /// Reported; the network runs.
    Warning,
}

/// What is wrong.
///
/// ```
/// use csp::topology::ProblemKind;
/// use csp::{Channel, Lint, Parallel, Process};
/// let (tx, _rx) = Channel::<u8>::new().one2one();
/// let report = Parallel::new()
///     .add(Process::with_ends("writer", tx, |tx| Ok(tx.write(1)?)))
///     .add(Process::from_fn("idle", || ()))
///     .validate();
/// let kinds: Vec<ProblemKind> = report.problems().iter().map(|p| p.kind).collect();
/// assert_eq!(kinds, [ProblemKind::Dangling, ProblemKind::Lint(Lint::NoChannels)]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// A channel with only one side in the network.
    Dangling,
    /// A rendezvous channel whose only parties are one process.
    SelfRendezvous,
    /// A channel made with `Channel::local()` whose ends are held in two OS processes.
    LocalAcrossFork,
    /// A green process's stack size (its own, or its network's default) is below
    /// [`GREEN_STACK_MIN`](crate::process::GREEN_STACK_MIN) or above
    /// [`GREEN_STACK_MAX`](crate::process::GREEN_STACK_MAX).
    GreenStack,
    /// A warning of this lint.
    Lint(Lint),
}

/// One finding, with the processes and channels it concerns.
///
/// ```
/// use csp::components::generate;
/// use csp::{Channel, Parallel};
/// let (tx, _rx) = Channel::<u8>::new().named("results").one2one();
/// let report = Parallel::new().add(generate(0..3, tx)).validate();
/// let problem = &report.errors()[0];
/// assert_eq!(problem.processes, ["generate"]);
/// assert_eq!(problem.channels, ["results"]);
/// assert!(problem.hint.contains(".boundary(&end)")); // how to fix it
/// ```
#[derive(Clone, Debug)]
pub struct Problem {
    /// What is wrong.
    pub kind: ProblemKind,
    /// Error or warning (after the network's lint levels).
    pub severity: Severity,
    /// The processes involved, by path.
    pub processes: Vec<String>,
    /// The channels involved, by name.
    pub channels: Vec<String>,
    /// What was found.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

/// The result of checking a network: every problem, and the conclusion of the
/// client–server rule if channels were declared for it.
///
/// `Display` lists each problem with its hint, errors first.
///
/// ```
/// use csp::{Channel, Parallel, Process};
/// let (tx, rx) = Channel::<u8>::new().named("echo").one2one();
/// let report = Parallel::new()
///     .add(Process::with_ends("narcissus", (tx, rx), |(tx, rx)| {
///         tx.write(1)?;
///         Ok(rx.read()?)
///     }))
///     .validate();
/// assert_eq!(report.errors().len(), 1);
/// assert_eq!(report.errors()[0].processes, vec!["narcissus"]);
/// assert!(report.to_string().starts_with(
///     "error: rendezvous channel 'echo' has only one party, process 'narcissus'"
/// ));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub(crate) problems: Vec<Problem>,
    pub(crate) deadlock_free: Option<String>,
}

impl Report {
    /// Every problem.
    ///
    /// ```
    /// use csp::{Channel, Parallel, Process};
    /// let (tx, _rx) = Channel::<u8>::new().named("lost").one2one();
    /// let report = Parallel::new()
    ///     .add(Process::with_ends("writer", tx, |tx| Ok(tx.write(1)?)))
    ///     .add(Process::from_fn("idle", || ()))
    ///     .validate();
    /// assert_eq!(report.problems().len(), 2); // one error, one warning
    /// ```
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// The problems that refuse the network.
    ///
    /// ```
    /// use csp::{Channel, Parallel, Process};
    /// // A dangling channel: written inside the network, read by nobody.
    /// let (tx, _rx) = Channel::<u8>::new().named("out").one2one();
    /// let report = Parallel::new().add(Process::with_ends("writer", tx, |tx| Ok(tx.write(1)?))).validate();
    /// let errors = report.errors();
    /// assert_eq!(errors.len(), 1);
    /// assert!(errors[0].message.contains("'out'"));
    /// ```
    pub fn errors(&self) -> Vec<&Problem> {
        self.by(Severity::Error)
    }

    /// The problems that are only reported.
    ///
    /// ```
    /// use csp::{Lint, Parallel, Process};
    /// use csp::topology::ProblemKind;
    /// let report = Parallel::<()>::new().add(Process::from_fn("idle", || ())).validate();
    /// let warnings = report.warnings();
    /// assert_eq!(warnings[0].kind, ProblemKind::Lint(Lint::NoChannels));
    /// assert_eq!(warnings[0].processes, ["idle"]);
    /// ```
    pub fn warnings(&self) -> Vec<&Problem> {
        self.by(Severity::Warning)
    }

    fn by(&self, severity: Severity) -> Vec<&Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == severity)
            .collect()
    }

    /// Whether the network may run.
    ///
    /// ```
    /// use csp::components::generate;
    /// use csp::{Channel, Parallel};
    /// let (tx, rx) = Channel::<u8>::new().fifo(4).one2one();
    /// let net = Parallel::new().add(generate(0..3, tx));
    /// assert!(!net.validate().is_ok()); // `rx` dangles: `run` would refuse
    /// let net = net.boundary(&rx);
    /// assert!(net.validate().is_ok());
    /// net.run()?;
    /// # Ok::<(), csp::NetworkError>(())
    /// ```
    pub fn is_ok(&self) -> bool {
        self.errors().is_empty()
    }

    /// If channels were declared client→server and the rule holds: why the network
    /// cannot deadlock, with the assumption that makes it so.
    ///
    /// ```
    /// use csp::{Channel, Parallel, Process};
    /// fn network(declared: bool) -> Parallel<'static, u8> {
    ///     let (ask, asked) = Channel::<u8>::new().named("ask").one2one();
    ///     let (answer, answered) = Channel::<u8>::new().named("answer").one2one();
    ///     let mut net = Parallel::new();
    ///     if declared {
    ///         net = net.client_server(&ask, &answer);
    ///     }
    ///     net.add(Process::with_ends("client", (ask, answered), |(ask, answered)| {
    ///         ask.write(1)?;
    ///         Ok(answered.read()?)
    ///     }))
    ///     .add(Process::with_ends("server", (asked, answer), |(asked, answer)| {
    ///         for q in &asked {
    ///             answer.write(q)?;
    ///         }
    ///         Ok(0)
    ///     }))
    /// }
    /// assert!(network(false).validate().deadlock_free().is_none()); // nothing declared
    /// let report = network(true).validate();
    /// let why = report.deadlock_free().expect("the client-server rule holds");
    /// assert!(why.starts_with("deadlock-free by the client-server design rule"));
    /// assert!(why.contains("this assumes every server always accepts each request")); // the caveat
    /// ```
    pub fn deadlock_free(&self) -> Option<&str> {
        self.deadlock_free.as_deref()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errors = self.errors();
        let warnings = self.warnings();
        if errors.is_empty() && warnings.is_empty() {
            write!(f, "the network is valid")?;
        }
        let mut first = true;
        for p in errors.iter().chain(warnings.iter()) {
            if !first {
                writeln!(f)?;
            }
            first = false;
            let label = match p.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            write!(f, "{label}: {}\n  hint: {}", p.message, p.hint)?;
        }
        if let Some(d) = &self.deadlock_free {
            write!(f, "\n{d}")?;
        }
        Ok(())
    }
}
