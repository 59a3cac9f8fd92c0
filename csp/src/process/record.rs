//! Recording which channel ends a process holds: the [`Ends`] trait and its [`Recorder`].
//!
//! The `#[process]` macro sees tokens, not types, so it cannot tell `n: u64` from
//! `a: Input<u64>`. It probes every parameter with *autoref specialisation*: a method
//! implemented for `&&Probe<T>` when `T: Ends`, and a do-nothing fallback for `Probe<T>`
//! (and a middle level for derived generic types, in `__private`). Method resolution
//! picks the first that applies, so only end-holding values record.

use std::sync::Arc;

use crate::alt::barrier::Party;
use crate::channel::{ChannelInfo, EndId, Input, Output, SharedInput, SharedOutput, Side};

/// A value that holds channel ends: the ends themselves, and containers of them.
///
/// The runtime poisons the recorded channels of a process that fails, and the topology
/// layer draws the network from them. Implemented for [`Input`](crate::Input),
/// [`Output`](crate::Output), their shared forms, `Vec`, arrays, slices in boxes, `Option`,
/// tuples and `PhantomData` (no ends); derive it for your own structs with `#[derive(Ends)]`.
///
/// ```
/// use csp::{Channel, Ends, Input, Output};
///
/// #[derive(Ends)]
/// struct Pair {
///     requests: Input<u64>,
///     replies: Output<u64>,
///     label: String, // not an end: skipped
/// }
///
/// let (tx, requests) = Channel::<u64>::new().one2one();
/// let (replies, rx) = Channel::<u64>::new().one2one();
/// let pair = Pair { requests, replies, label: "server".into() };
/// let mut rec = csp::process::Recorder::new();
/// pair.record_ends(&mut rec);
/// assert_eq!(rec.len(), 2);
/// # drop((tx, rx));
/// ```
pub trait Ends {
    /// Adds every end inside `self` to `rec`.
    ///
    /// ```
    /// use csp::process::{Ends, Recorder};
    /// let (tx, rx) = csp::Channel::<u8>::new().one2one();
    /// let ends = [Some(tx), None];
    /// let mut rec = Recorder::new();
    /// ends.record_ends(&mut rec);
    /// assert_eq!(rec.len(), 1);
    /// assert_eq!(rec.ends()[0].path(), "[0]");
    /// # drop(rx);
    /// ```
    fn record_ends(&self, rec: &mut Recorder);
}

/// One end a process holds, as the runtime and the topology layer see it.
///
/// ```
/// use csp::channel::Side;
/// use csp::{Channel, Process};
/// let (tx, rx) = Channel::<u8>::new().named("jobs").one2one();
/// let p = Process::with_ends("worker", (rx, tx), |_| Ok(()));
/// let end = &p.ends()[0];
/// assert_eq!((end.channel_name().as_str(), end.side(), end.path()), ("jobs", Side::Read, "0"));
/// ```
#[derive(Clone)]
pub struct RecordedEnd {
    pub(crate) channel: Arc<dyn ChannelInfo>,
    pub(crate) end: EndId,
    pub(crate) side: Side,
    pub(crate) path: String,
}

impl RecordedEnd {
    /// The channel's name.
    ///
    /// ```
    /// let (tx, _rx) = csp::Channel::<u8>::new().named("alerts").one2one();
    /// let p = csp::Process::with_ends("siren", tx, |_| Ok(()));
    /// assert_eq!(p.ends()[0].channel_name(), "alerts");
    /// ```
    pub fn channel_name(&self) -> String {
        self.channel.name().to_string()
    }
    /// The channel's stable id.
    ///
    /// ```
    /// let (tx, rx) = csp::Channel::<u8>::new().one2one();
    /// let id = rx.channel_id();
    /// let p = csp::Process::with_ends("loop", (tx, rx), |_| Ok(()));
    /// // Both ends belong to one channel: that is how validation finds a self-rendezvous.
    /// assert!(p.ends().iter().all(|e| e.channel_id() == id));
    /// ```
    pub fn channel_id(&self) -> u64 {
        self.channel.id()
    }
    /// The end's stable id.
    ///
    /// ```
    /// let (tx, rx) = csp::Channel::<u8>::new().one2one();
    /// let tx_id = tx.id();
    /// let p = csp::Process::with_ends("writer", tx, |_| Ok(()));
    /// assert_eq!(p.ends()[0].end_id(), tx_id);
    /// # drop(rx);
    /// ```
    pub fn end_id(&self) -> EndId {
        self.end
    }
    /// Whether this end reads or writes.
    ///
    /// ```
    /// use csp::channel::Side;
    /// let (tx, rx) = csp::Channel::<u8>::new().one2one();
    /// let reader = csp::Process::with_ends("reader", rx, |_| Ok(()));
    /// assert_eq!(reader.ends()[0].side(), Side::Read);
    /// # drop(tx);
    /// ```
    pub fn side(&self) -> Side {
        self.side
    }
    /// Where in the process's parameters the end sits, e.g. `workers[2]` or `pair.replies`.
    ///
    /// ```
    /// use csp::{Channel, Ends, Input, Output};
    /// #[derive(Ends)]
    /// struct Pair {
    ///     requests: Input<u8>,
    ///     replies: Output<u8>,
    /// }
    /// let (_, requests) = Channel::<u8>::new().one2one();
    /// let (replies, _) = Channel::<u8>::new().one2one();
    /// let p = csp::Process::with_ends("server", Pair { requests, replies }, |_| Ok(()));
    /// let paths: Vec<&str> = p.ends().iter().map(|e| e.path()).collect();
    /// assert_eq!(paths, ["requests", "replies"]);
    /// ```
    pub fn path(&self) -> &str {
        &self.path
    }
}

impl std::fmt::Debug for RecordedEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordedEnd")
            .field("channel", &self.channel.name())
            .field("side", &self.side)
            .field("path", &self.path)
            .finish()
    }
}

/// Collects the ends of a process's parameters, each with its path.
///
/// ```
/// use csp::process::{Ends, Recorder};
/// let (tx, rx) = csp::Channel::<u8>::new().one2one();
/// let mut rec = Recorder::new();
/// vec![Some(tx)].record_ends(&mut rec); // containers record what they hold
/// rx.record_ends(&mut rec);
/// let paths: Vec<&str> = rec.ends().iter().map(|e| e.path()).collect();
/// assert_eq!(paths, ["[0]", ""]);
/// ```
#[derive(Default, Debug)]
pub struct Recorder {
    ends: Vec<RecordedEnd>,
    /// Barrier parties ([`Enrolled`](crate::Enrolled)) met among the ends.
    parties: Vec<Party>,
    path: Vec<String>,
}

impl Recorder {
    /// An empty recorder.
    ///
    /// ```
    /// let rec = csp::process::Recorder::new();
    /// assert!(rec.is_empty());
    /// ```
    pub fn new() -> Recorder {
        Recorder::default()
    }

    /// Records what `f` records under the path segment `segment` (a parameter or field
    /// name, or an index such as `[3]`).
    ///
    /// ```
    /// use csp::process::{Ends, Recorder};
    /// use csp::Input;
    /// // `Ends` by hand, for a type the derive cannot see into.
    /// struct Inbox {
    ///     inner: (u32, Input<String>),
    /// }
    /// impl Ends for Inbox {
    ///     fn record_ends(&self, rec: &mut Recorder) {
    ///         rec.scope("mail", |rec| self.inner.1.record_ends(rec));
    ///     }
    /// }
    /// let (_tx, rx) = csp::Channel::<String>::new().one2one();
    /// let mut rec = Recorder::new();
    /// Inbox { inner: (0, rx) }.record_ends(&mut rec);
    /// assert_eq!(rec.ends()[0].path(), "mail");
    /// ```
    pub fn scope(&mut self, segment: &str, f: impl FnOnce(&mut Recorder)) {
        self.path.push(segment.to_string());
        f(self);
        self.path.pop();
    }

    /// Number of ends recorded.
    ///
    /// ```
    /// use csp::process::{Ends, Recorder};
    /// let (tx, rx) = csp::Channel::<u8>::new().one2any();
    /// let readers = vec![rx.clone(), rx];
    /// let mut rec = Recorder::new();
    /// (tx, readers).record_ends(&mut rec);
    /// assert_eq!(rec.len(), 3); // one writer, two readers
    /// ```
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether no end was recorded.
    ///
    /// ```
    /// use csp::process::{Ends, Recorder};
    /// let mut rec = Recorder::new();
    /// None::<csp::Input<u8>>.record_ends(&mut rec); // an absent end records nothing
    /// assert!(rec.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The recorded ends.
    ///
    /// ```
    /// use csp::channel::Side;
    /// use csp::process::{Ends, Recorder};
    /// let (tx, rx) = csp::Channel::<u8>::new().named("pipe").one2one();
    /// let mut rec = Recorder::new();
    /// (rx, tx).record_ends(&mut rec);
    /// let sides: Vec<Side> = rec.ends().iter().map(|e| e.side()).collect();
    /// assert_eq!(sides, [Side::Read, Side::Write]);
    /// assert!(rec.ends().iter().all(|e| e.channel_name() == "pipe"));
    /// ```
    pub fn ends(&self) -> &[RecordedEnd] {
        &self.ends
    }

    pub(crate) fn into_ends(self) -> Vec<RecordedEnd> {
        self.ends
    }

    /// The channel ends and the barrier parties recorded.
    pub(crate) fn into_parts(self) -> (Vec<RecordedEnd>, Vec<Party>) {
        (self.ends, self.parties)
    }

    pub(crate) fn push_party(&mut self, party: Party) {
        self.parties.push(party);
    }

    pub(crate) fn current_path(&self) -> String {
        let mut s = String::new();
        for seg in &self.path {
            if !s.is_empty() && !seg.starts_with('[') {
                s.push('.');
            }
            s.push_str(seg);
        }
        s
    }

    pub(crate) fn push(&mut self, channel: Arc<dyn ChannelInfo>, end: EndId, side: Side) {
        let path = self.current_path();
        self.ends.push(RecordedEnd {
            channel,
            end,
            side,
            path,
        });
    }
}

/// A barrier party is recorded beside the channel ends: not drawn, but a forked child
/// counts it under its own pid before the process runs, so that the party is resigned
/// if the child dies before its first sync.
impl Ends for crate::Enrolled {
    fn record_ends(&self, rec: &mut Recorder) {
        rec.push_party(self.party());
    }
}

// The channel layer knows nothing of processes: their ends are recorded from here.
impl<T> Ends for Output<T> {
    fn record_ends(&self, rec: &mut Recorder) {
        let (info, id) = self.info();
        rec.push(info.clone(), id, Side::Write);
    }
}

impl<T> Ends for Input<T> {
    fn record_ends(&self, rec: &mut Recorder) {
        let (info, id) = self.info();
        rec.push(info.clone(), id, Side::Read);
    }
}

impl<S, R> Ends for crate::channel::Duplex<S, R> {
    fn record_ends(&self, rec: &mut Recorder) {
        rec.scope("sends", |r| self.sender().record_ends(r));
        rec.scope("receives", |r| self.receiver().record_ends(r));
    }
}

impl<T> Ends for SharedOutput<T> {
    fn record_ends(&self, rec: &mut Recorder) {
        (**self).record_ends(rec)
    }
}

impl<T> Ends for SharedInput<T> {
    fn record_ends(&self, rec: &mut Recorder) {
        (**self).record_ends(rec)
    }
}

impl<E: Ends> Ends for Vec<E> {
    fn record_ends(&self, rec: &mut Recorder) {
        self.as_slice().record_ends(rec)
    }
}

impl<E: Ends> Ends for [E] {
    fn record_ends(&self, rec: &mut Recorder) {
        for (i, e) in self.iter().enumerate() {
            rec.scope(&format!("[{i}]"), |r| e.record_ends(r));
        }
    }
}

impl<E: Ends, const N: usize> Ends for [E; N] {
    fn record_ends(&self, rec: &mut Recorder) {
        self.as_slice().record_ends(rec)
    }
}

impl<E: Ends + ?Sized> Ends for Box<E> {
    fn record_ends(&self, rec: &mut Recorder) {
        (**self).record_ends(rec)
    }
}

impl<E: Ends> Ends for Option<E> {
    fn record_ends(&self, rec: &mut Recorder) {
        if let Some(e) = self {
            e.record_ends(rec)
        }
    }
}

macro_rules! tuple_ends {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: Ends),+> Ends for ($($name,)+) {
            fn record_ends(&self, rec: &mut Recorder) {
                $( rec.scope(stringify!($idx), |r| self.$idx.record_ends(r)); )+
            }
        }
    };
}
tuple_ends!(A 0);
tuple_ends!(A 0, B 1);
tuple_ends!(A 0, B 1, C 2);
tuple_ends!(A 0, B 1, C 2, D 3);
tuple_ends!(A 0, B 1, C 2, D 3, E 4);
tuple_ends!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_ends!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_ends!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

impl<T: ?Sized> Ends for std::marker::PhantomData<T> {
    fn record_ends(&self, _rec: &mut Recorder) {}
}

/// Support for the `#[process]` and `#[derive(Ends)]` expansions. Not a public API.
///
/// The probe has three levels, tried in order by method resolution on
/// `(&&&Probe(&value)).__csp_record(rec)`: the value holds ends (`T: Ends`); the value's
/// type derives `Ends` but this instance does not implement it (a generic struct whose
/// field type parameter is not an `Ends`: a compile error naming the missing bound, rather
/// than silently recording nothing); any other value (records nothing).
#[doc(hidden)]
pub mod __private {
    use super::{Ends, Recorder};

    /// Wraps a parameter for autoref specialisation.
    pub struct Probe<'a, T: ?Sized>(pub &'a T);

    /// Implemented by `#[derive(Ends)]` for every instance of the type, whatever its
    /// parameters, so that an instance lacking `Ends` is an error, not a silent skip.
    pub trait DerivedEnds {}

    /// Chosen when the probed value holds ends.
    pub trait RecordEnds {
        fn __csp_record(&self, rec: &mut Recorder);
    }
    impl<T: Ends + ?Sized> RecordEnds for &&Probe<'_, T> {
        fn __csp_record(&self, rec: &mut Recorder) {
            self.0.record_ends(rec)
        }
    }

    /// Chosen for a derived type whose instance does not implement `Ends`: the method's
    /// bound is checked only after it was chosen, so the call fails to compile.
    pub trait RequireEnds {
        type Inner: ?Sized;
        fn __csp_record(&self, rec: &mut Recorder)
        where
            Self::Inner: Ends;
    }
    impl<T: DerivedEnds + ?Sized> RequireEnds for &Probe<'_, T> {
        type Inner = T;
        fn __csp_record(&self, rec: &mut Recorder)
        where
            T: Ends,
        {
            self.0.record_ends(rec)
        }
    }

    /// The fallback for every other value: records nothing.
    pub trait SkipEnds {
        fn __csp_record(&self, _rec: &mut Recorder) {}
    }
    impl<T: ?Sized> SkipEnds for Probe<'_, T> {}

    /// Emitted with the span of each parameter type, so a type that cannot move to
    /// another thread is reported at the parameter, not deep inside the expansion.
    pub fn assert_send_static<T: Send + 'static>() {}
}
