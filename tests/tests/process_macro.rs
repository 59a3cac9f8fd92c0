//! What `#[process]` and `#[derive(Ends)]` expand to, observed through the real runtime.

use csp::channel::Side;
use csp::{process, Channel, ChannelError, Ends, Input, NetworkError, Output, Process, Sequence};

/// A hand-written error type, as a user without thiserror would write it.
#[derive(Debug)]
struct Refused(u64);

impl std::error::Error for Refused {}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "refused {}", self.0)
    }
}

#[process]
fn mixed(a: Input<u64>, outs: Vec<Output<u64>>, n: u64, maybe: Option<Output<u64>>) -> u64 {
    let _ = (a, outs, maybe);
    n
}

#[test]
fn records_ends_in_every_container_with_paths_and_derived_names() {
    let (a_tx, a_rx) = Channel::<u64>::new().one2one();
    let (o1, o1_rx) = Channel::<u64>::new().one2one();
    let (o2, o2_rx) = Channel::<u64>::new().named("given").one2one();
    let (m, m_rx) = Channel::<u64>::new().one2one();
    let p = mixed(a_rx, vec![o1, o2], 7, Some(m));
    assert_eq!(p.name(), "mixed");
    let ends: Vec<_> = p
        .ends()
        .iter()
        .map(|e| (e.path().to_string(), e.side()))
        .collect();
    assert_eq!(
        ends,
        vec![
            ("a".into(), Side::Read),
            ("outs[0]".into(), Side::Write),
            ("outs[1]".into(), Side::Write),
            ("maybe".into(), Side::Write),
        ]
    );
    let recorded = p.ends().to_vec();
    assert_eq!(Sequence::new().add(p).run().unwrap(), vec![Some(7)]);
    // Unnamed channels are named after the process and parameter when it starts; a
    // given name is kept.
    let names: Vec<_> = recorded.iter().map(|e| e.channel_name()).collect();
    assert_eq!(
        names,
        vec!["mixed.a", "mixed.outs[0]", "given", "mixed.maybe"]
    );
    assert_eq!(&*a_tx.name(), "mixed.a");
    drop((a_tx, o1_rx, o2_rx, m_rx));
}

#[process]
fn unit_body(out: Output<u8>) {
    let _ = out.write(1);
}

#[process]
fn fallible(input: Input<u64>, limit: u64) -> Result<u64, Refused> {
    let mut sum = 0;
    for v in &input {
        if v > limit {
            return Err(Refused(v));
        }
        sum += v;
    }
    Ok(sum)
}

#[process]
fn with_question_mark(out: Output<u64>) -> Result<(), ChannelError> {
    out.write(1)?;
    out.write(2)?;
    Ok(())
}

#[test]
fn return_types_unit_value_and_result_with_return_and_question_mark() {
    let (tx, rx) = Channel::<u8>::new().fifo(1).one2one();
    assert_eq!(
        Sequence::new().add(unit_body(tx)).run().unwrap(),
        vec![Some(())]
    );
    assert_eq!(rx.read(), Ok(1));

    let (tx, rx) = Channel::<u64>::new().fifo(4).one2one();
    assert_eq!(
        Sequence::new().add(with_question_mark(tx)).run().unwrap(),
        vec![Some(())]
    );
    let (tx2, rx2) = Channel::<u64>::new().fifo(4).one2one();
    for v in rx {
        tx2.write(v).unwrap();
    }
    drop(tx2);
    assert_eq!(
        Sequence::new().add(fallible(rx2, 10)).run().unwrap(),
        vec![Some(3)]
    );

    let (tx, rx) = Channel::<u64>::new().fifo(4).one2one();
    tx.write(99).unwrap();
    drop(tx);
    let err = Sequence::new().add(fallible(rx, 10)).run().unwrap_err();
    assert_eq!(err.failures()[0].process(), "fallible");
    assert!(err.to_string().contains("refused 99"), "{err}");
}

#[process]
fn generic_id<T: Send + 'static>(input: Input<T>, output: Output<T>) -> Result<(), ChannelError> {
    for v in &input {
        output.write(v)?;
    }
    Ok(())
}

#[process(name = "custom")]
fn renamed(mut count: u32, (left, right): (Output<u32>, Output<u32>)) -> u32 {
    count += 1;
    let _ = (left.write(count), right.write(count));
    count
}

#[test]
fn generics_custom_names_mut_and_tuple_patterns() {
    let (a_tx, a_rx) = Channel::<String>::new().fifo(2).one2one();
    let (b_tx, b_rx) = Channel::<String>::new().fifo(2).one2one();
    a_tx.write("x".to_string()).unwrap();
    drop(a_tx);
    let p: Process<()> = generic_id(a_rx, b_tx);
    assert_eq!(p.ends().len(), 2);
    Sequence::new().add(p).run().unwrap();
    assert_eq!(b_rx.read().as_deref(), Ok("x"));

    let (l, l_rx) = Channel::<u32>::new().fifo(1).one2one();
    let (r, r_rx) = Channel::<u32>::new().fifo(1).one2one();
    let p = renamed(41, (l, r));
    assert_eq!(p.name(), "custom");
    let paths: Vec<_> = p.ends().iter().map(|e| e.path().to_string()).collect();
    assert_eq!(paths, vec!["arg1.0", "arg1.1"]);
    assert_eq!(Sequence::new().add(p).run().unwrap(), vec![Some(42)]);
    assert_eq!((l_rx.read(), r_rx.read()), (Ok(42), Ok(42)));
}

#[derive(Ends)]
struct Bundle {
    requests: Input<u64>,
    replies: Output<u64>,
    label: String,
}

#[derive(Ends)]
enum Role {
    Reader(Input<u64>),
    Writer { out: Output<u64> },
    Idle,
}

#[process]
fn server(bundle: Bundle, role: Role) -> String {
    let _ = role;
    for r in &bundle.requests {
        if bundle.replies.write(r + 1).is_err() {
            break;
        }
    }
    bundle.label
}

#[test]
fn derived_ends_of_structs_and_enums() {
    let (req_tx, req_rx) = Channel::<u64>::new().fifo(2).one2one();
    let (rep_tx, rep_rx) = Channel::<u64>::new().fifo(2).one2one();
    let (w, w_rx) = Channel::<u64>::new().one2one();
    let bundle = Bundle {
        requests: req_rx,
        replies: rep_tx,
        label: "srv".into(),
    };
    let p = server(bundle, Role::Writer { out: w });
    let paths: Vec<_> = p.ends().iter().map(|e| e.path().to_string()).collect();
    assert_eq!(
        paths,
        vec!["bundle.requests", "bundle.replies", "role.Writer.out"]
    );
    req_tx.write(1).unwrap();
    drop(req_tx);
    assert_eq!(
        Sequence::new().add(p).run().unwrap(),
        vec![Some("srv".to_string())]
    );
    assert_eq!(rep_rx.read(), Ok(2));
    drop(w_rx);

    let mut rec = csp::process::Recorder::new();
    Role::Idle.record_ends(&mut rec);
    assert!(rec.is_empty());
    let (_tx, rx) = Channel::<u64>::new().one2one();
    Role::Reader(rx).record_ends(&mut rec);
    assert_eq!(rec.ends()[0].path(), "Reader.0");
}

/// The one failure of `net`, which must have failed, as (process, message).
fn only_failure<R>(net: Sequence<R>) -> (String, String) {
    match net.run() {
        Err(NetworkError::Failed(failures)) => {
            assert_eq!(failures.len(), 1, "{failures:?}");
            (failures[0].process().to_string(), failures[0].to_string())
        }
        other => panic!("expected a failed network, got {:?}", other.map(|_| ())),
    }
}

#[process]
fn io_writer(out: Output<u8>, fail: bool) -> std::io::Result<()> {
    if fail {
        return Err(std::io::Error::other("disk full"));
    }
    out.write(1).map_err(std::io::Error::other)
}

#[test]
fn an_io_result_err_fails_the_process_and_poisons_the_ends_it_kept() {
    let (tx, rx) = Channel::<u8>::new().fifo(1).one2one();
    let p: Process<()> = io_writer(tx, false);
    assert_eq!(Sequence::new().add(p).run().unwrap(), vec![Some(())]);
    assert_eq!(rx.read(), Ok(1));

    let (tx, rx) = Channel::<u8>::new().fifo(1).one2one();
    let (process, message) = only_failure(Sequence::new().add(io_writer(tx, true)));
    assert_eq!(process, "io_writer");
    assert!(message.contains("disk full"), "{message}");
    // The unconsumed `out` was dropped as a failing process's end: poisoned, not retired.
    assert!(rx.read().unwrap_err().is_poisoned());
}

mod app {
    /// An application's own error and `Result` alias, as many crates define them.
    #[derive(Debug)]
    pub struct AppError(pub &'static str);

    impl std::error::Error for AppError {}

    impl std::fmt::Display for AppError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "app error: {}", self.0)
        }
    }

    pub type Result<T> = std::result::Result<T, AppError>;
}

#[process]
fn alias_result(out: Output<u32>, n: u32) -> app::Result<u32> {
    if n == 0 {
        return Err(app::AppError("zero"));
    }
    let _ = out.write(n);
    Ok(n * 2)
}

/// A `Result` that is not spelled `Result`: the process's result type is the whole
/// value, but an `Err` still fails it.
type Fallible = Result<u32, Refused>;

#[process]
fn other_name(out: Output<u32>, n: u32) -> Fallible {
    if n > 5 {
        return Err(Refused(n.into()));
    }
    let _ = out.write(n);
    Ok(n)
}

#[test]
fn result_aliases_fail_on_err_whatever_their_name() {
    let (tx, rx) = Channel::<u32>::new().fifo(1).one2one();
    let p: Process<u32> = alias_result(tx, 3);
    assert_eq!(Sequence::new().add(p).run().unwrap(), vec![Some(6)]);
    assert_eq!(rx.read(), Ok(3));
    let (tx, rx) = Channel::<u32>::new().fifo(1).one2one();
    let (process, message) = only_failure(Sequence::new().add(alias_result(tx, 0)));
    assert_eq!(process, "alias_result");
    assert!(message.contains("app error: zero"), "{message}");
    assert!(rx.read().unwrap_err().is_poisoned());

    let (tx, rx) = Channel::<u32>::new().fifo(1).one2one();
    let p: Process<Fallible> = other_name(tx, 4);
    let results = Sequence::new().add(p).run().unwrap();
    assert!(matches!(results.as_slice(), [Some(Ok(4))]), "{results:?}");
    assert_eq!(rx.read(), Ok(4));
    let (tx, rx) = Channel::<u32>::new().fifo(1).one2one();
    let (process, message) = only_failure(Sequence::new().add(other_name(tx, 9)));
    assert_eq!(process, "other_name");
    assert!(message.contains("refused 9"), "{message}");
    assert!(rx.read().unwrap_err().is_poisoned());
}

/// Parameters named like the expansion's own variables: without hygiene they would be
/// shadowed by the recorder, or clash with the name given to a pattern parameter.
#[process]
fn shadowing(
    __csp_rec: Input<u8>,
    __csp_r: Output<u8>,
    __csp_arg3: u8,
    (__csp_value, __csp_tag): (u8, u8),
) -> u8 {
    let v = __csp_rec.read().unwrap_or(0);
    let _ = __csp_r.write(v + __csp_arg3);
    __csp_value + __csp_tag
}

#[test]
fn user_names_do_not_collide_with_the_expansion() {
    let (in_tx, in_rx) = Channel::<u8>::new().fifo(1).one2one();
    let (out_tx, out_rx) = Channel::<u8>::new().fifo(1).one2one();
    let p = shadowing(in_rx, out_tx, 10, (2, 3));
    let paths: Vec<_> = p.ends().iter().map(|e| e.path().to_string()).collect();
    assert_eq!(paths, vec!["__csp_rec", "__csp_r"]);
    in_tx.write(1).unwrap();
    assert_eq!(Sequence::new().add(p).run().unwrap(), vec![Some(5)]);
    assert_eq!(out_rx.read(), Ok(11));
}

#[process]
fn relay<T: Send + 'static>(i: Input<T>, o: Output<T>) {
    for v in &i {
        if o.write(v).is_err() {
            break;
        }
    }
}

/// A bare generic parameter records its ends through its `Ends` bound.
#[process]
fn hold<E: Ends + Send + 'static>(ends: E, n: u32) -> u32 {
    drop(ends);
    n
}

#[derive(Ends)]
struct Link<T> {
    input: Input<T>,
    output: Output<T>,
}

#[derive(Ends)]
struct Wrapped<E> {
    inner: E,
    spare: Vec<E>,
    #[ends(skip)]
    kind: std::marker::PhantomData<E>,
    label: String,
}

#[process]
fn link_user<T: Send + 'static>(link: Link<T>) -> usize {
    drop(link);
    1
}

#[test]
fn generic_processes_and_generic_derived_structs_record_their_ends() {
    let (a_tx, a_rx) = Channel::<String>::new().one2one();
    let (b_tx, b_rx) = Channel::<String>::new().one2one();
    let p = relay(a_rx, b_tx);
    let sides: Vec<_> = p.ends().iter().map(|e| e.side()).collect();
    assert_eq!(sides, vec![Side::Read, Side::Write]);

    let p = hold((a_tx, b_rx), 1);
    let paths: Vec<_> = p.ends().iter().map(|e| e.path().to_string()).collect();
    assert_eq!(paths, vec!["ends.0", "ends.1"]);

    let (c_tx, c_rx) = Channel::<u8>::new().one2one();
    let p = link_user(Link {
        input: c_rx,
        output: c_tx,
    });
    assert_eq!(p.ends().len(), 2);

    let (x_tx, x_rx) = Channel::<u8>::new().one2one();
    let (y_tx, y_rx) = Channel::<u8>::new().one2one();
    let wrapped = Wrapped {
        inner: x_rx,
        spare: vec![y_rx],
        kind: std::marker::PhantomData,
        label: "w".into(),
    };
    let p = hold(wrapped, 2);
    let paths: Vec<_> = p.ends().iter().map(|e| e.path().to_string()).collect();
    assert_eq!(paths, vec!["ends.inner", "ends.spare[0]"]);
    drop((x_tx, y_tx));
}
