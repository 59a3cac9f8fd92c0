//! What `#[process]` and `#[derive(Ends)]` expand to, observed through the real runtime.

use csp::channel::Side;
use csp::{process, Channel, ChannelError, Ends, Input, Output, Process, Sequence};

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
