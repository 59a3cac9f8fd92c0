//! Topology: each validation error and warning by kind, with the names it reports; the
//! exports of a fixed network against expected text.

use csp::components::{delta, generate, prefix, sink, succ};
use csp::topology::{ProblemKind, Severity};
use csp::{
    process, Channel, ChannelError, Input, Level, Lint, NetworkError, Output, Parallel, Process,
};
use csp_tests::watchdog;

/// Commstime built from components, channels named a..d.
fn commstime() -> Parallel<'static, ()> {
    let (a, a_in) = Channel::<u64>::new().named("a").one2one();
    let (b, b_in) = Channel::<u64>::new().named("b").one2one();
    let (c, c_in) = Channel::<u64>::new().named("c").one2one();
    let (d, d_in) = Channel::<u64>::new().named("d").one2one();
    Parallel::new()
        .add(prefix(0, c_in, a))
        .add(delta(a_in, vec![b, d]))
        .add(succ(b_in, c))
        .add(sink(d_in).map(|_| ()))
}

#[test]
fn a_dangling_end_is_an_error_naming_the_channel_and_its_holder() {
    let (tx, rx) = Channel::<u32>::new().named("results").one2one();
    let net: Parallel<()> = Parallel::new().add(generate(0..3, tx));
    let report = net.validate();
    let errors = report.errors();
    assert_eq!(errors.len(), 1, "{report}");
    assert_eq!(errors[0].kind, ProblemKind::Dangling);
    assert_eq!(errors[0].channels, vec!["results"]);
    assert_eq!(errors[0].processes, vec!["generate"]);
    assert!(report.to_string().contains(".boundary(&end)"), "{report}");

    // Refused before anything runs; the outside end sees poison rather than hanging.
    let err = net.run().unwrap_err();
    assert!(matches!(err, NetworkError::Invalid(_)), "{err}");
    assert!(err
        .to_string()
        .contains("channel 'results' is written by 'generate'"));
    assert!(rx.read().unwrap_err().is_poisoned());
}

#[test]
fn a_boundary_channel_or_a_finished_stream_is_not_dangling() {
    let (tx, rx) = Channel::<u32>::new().fifo(4).one2one();
    Parallel::new()
        .add(generate(1..=3, tx))
        .boundary(&rx)
        .run()
        .unwrap();
    assert_eq!(rx.iter().sum::<u32>(), 6);

    // Every writer dropped before the run: the reader drains a finished stream.
    let (tx, rx) = Channel::<u32>::new().fifo(4).one2one();
    tx.write(5).unwrap();
    drop(tx);
    let net: Parallel<u64> = Parallel::new().add(sink(rx));
    assert!(net.validate().problems().is_empty());
    assert_eq!(net.run().unwrap(), vec![Some(1)]);
}

#[process]
fn talks_to_itself(out: Output<u8>, input: Input<u8>) -> Result<u8, ChannelError> {
    out.write(1)?;
    input.read()
}

#[test]
fn a_rendezvous_channel_held_only_by_one_process_is_an_error() {
    let (tx, rx) = Channel::<u8>::new().named("echo").one2one();
    let net = Parallel::new().add(talks_to_itself(tx, rx));
    let report = net.validate();
    let errors = report.errors();
    assert_eq!(errors.len(), 1, "{report}");
    assert_eq!(errors[0].kind, ProblemKind::SelfRendezvous);
    assert_eq!(errors[0].processes, vec!["talks_to_itself"]);
    assert!(report.to_string().contains("would wait on itself"));

    // With a buffer it is fine.
    let (tx, rx) = Channel::<u8>::new().fifo(1).one2one();
    let net = Parallel::new().add(talks_to_itself(tx, rx));
    assert!(net.validate().is_ok());
    assert_eq!(net.run().unwrap(), vec![Some(1)]);
}

#[test]
fn a_rendezvous_cycle_is_warned_once_with_one_cycle_in_order_and_still_runs() {
    let report = commstime().validate();
    assert!(report.is_ok());
    let warnings = report.warnings();
    assert_eq!(warnings.len(), 1, "{report}");
    assert_eq!(warnings[0].kind, ProblemKind::Lint(Lint::RendezvousCycle));
    assert_eq!(warnings[0].processes, vec!["prefix", "delta", "succ"]);
    assert_eq!(warnings[0].channels, vec!["a", "b", "c"]);
    assert!(report
        .to_string()
        .contains("prefix -[a]-> delta -[b]-> succ -[c]-> prefix"));

    // It runs (the sink is poisoned by a consumer to end it).
    let (a, a_in) = Channel::<u64>::new().one2one();
    let (b, b_in) = Channel::<u64>::new().one2one();
    let (c, c_in) = Channel::<u64>::new().one2one();
    let (d, d_in) = Channel::<u64>::new().one2one();
    let consumer = Process::with_ends("consumer", d_in, |d: Input<u64>| {
        for _ in 0..100 {
            d.read()?;
        }
        d.poison();
        Ok(())
    });
    watchdog(60, "commstime runs", || {
        Parallel::new()
            .add(prefix(0, c_in, a))
            .add(delta(a_in, vec![b, d]))
            .add(succ(b_in, c))
            .add(consumer)
            .run()
            .unwrap();
    });

    // Denied, it refuses the network; allowed, it is silent.
    assert!(!commstime()
        .lint(Lint::RendezvousCycle, Level::Deny)
        .validate()
        .is_ok());
    assert!(commstime()
        .lint(Lint::RendezvousCycle, Level::Allow)
        .validate()
        .problems()
        .is_empty());
}

#[test]
fn a_process_with_no_channels_is_warned() {
    let net: Parallel<()> = Parallel::new().add(Process::from_fn("opaque", || ()));
    let report = net.validate();
    assert_eq!(report.warnings().len(), 1);
    assert_eq!(
        report.warnings()[0].kind,
        ProblemKind::Lint(Lint::NoChannels)
    );
    assert_eq!(report.warnings()[0].severity, Severity::Warning);
    assert_eq!(report.warnings()[0].processes, vec!["opaque"]);
    assert!(net.run().is_ok());
}

#[test]
fn nested_networks_are_flattened_with_their_paths() {
    let (jobs, jobs_in) = Channel::<u32>::new().named("jobs").one2any();
    let (results, results_in) = Channel::<u32>::new().named("results").any2one();
    let workers: Parallel<()> = (0..3)
        .map(|_| {
            Process::with_ends(
                "worker",
                (jobs_in.clone(), results.clone()),
                |(jobs, results)| {
                    for j in &jobs {
                        results.write(j * 2)?;
                    }
                    Ok(())
                },
            )
        })
        .collect();
    drop((jobs_in, results));
    let outer: Parallel<()> = Parallel::new()
        .add(generate(1..=10, jobs))
        .add(workers.into_process("farm").map(|_| ()))
        .add(sink(results_in).map(|_| ()));
    let t = outer.topology();
    assert_eq!(
        t.process_names(),
        vec![
            "generate",
            "farm/worker[0]",
            "farm/worker[1]",
            "farm/worker[2]",
            "sink"
        ]
    );
    let jobs = t.channels().into_iter().find(|c| c.name == "jobs").unwrap();
    assert_eq!(
        jobs.readers,
        vec!["farm/worker[0]", "farm/worker[1]", "farm/worker[2]"]
    );
    assert!(outer.validate().is_ok());
    watchdog(60, "nested run", move || outer.run().unwrap());
}

/// A client of the server: sends `n` requests and waits for each reply.
#[process]
fn client(
    id: usize,
    requests: csp::SharedOutput<(usize, u32)>,
    replies: Input<u32>,
) -> Result<(), ChannelError> {
    for i in 0..5 {
        requests.write((id, i)).map_err(|e| e.into_parts().0)?;
        replies.read()?;
    }
    Ok(())
}

#[process]
fn server(requests: Input<(usize, u32)>, replies: Vec<Output<u32>>) -> Result<(), ChannelError> {
    for (id, v) in &requests {
        replies[id].write(v + 1)?;
    }
    Ok(())
}

#[test]
fn the_client_server_rule_accepts_a_server_farm() {
    let (req_tx, req_rx) = Channel::<(usize, u32)>::new().named("requests").any2one();
    let (reply_txs, reply_rxs): (Vec<_>, Vec<_>) = (0..3)
        .map(|i| Channel::<u32>::new().named(format!("reply{i}")).one2one())
        .unzip();
    let mut net: Parallel<()> = Parallel::new().client_server(&req_rx, &reply_txs);
    for (i, r) in reply_rxs.into_iter().enumerate() {
        net.push(client(i, req_tx.clone(), r));
    }
    drop(req_tx);
    let net = net.add(server(req_rx, reply_txs));
    let report = net.validate();
    assert!(report.problems().is_empty(), "{report}");
    let verdict = report.deadlock_free().expect("the rule holds");
    assert!(
        verdict.contains("assumes every server always accepts"),
        "{verdict}"
    );
    watchdog(60, "server farm", move || net.run().unwrap());
}

/// Serves requests on `serve` and, for each, asks the other peer on `ask`.
#[process]
fn peer(
    serve: Input<u32>,
    answer: Output<u32>,
    ask: Output<u32>,
    hear: Input<u32>,
) -> Result<(), ChannelError> {
    for v in &serve {
        ask.write(v)?;
        answer.write(hear.read()?)?;
    }
    Ok(())
}

#[test]
fn the_client_server_rule_rejects_two_clients_serving_each_other() {
    let (ab, ab_in) = Channel::<u32>::new().named("a_asks_b").one2one();
    let (ba_reply, ba_reply_in) = Channel::<u32>::new().named("b_answers_a").one2one();
    let (ba, ba_in) = Channel::<u32>::new().named("b_asks_a").one2one();
    let (ab_reply, ab_reply_in) = Channel::<u32>::new().named("a_answers_b").one2one();
    let net: Parallel<()> = Parallel::new()
        .client_server(&ab, &ba_reply)
        .client_server(&ba, &ab_reply)
        .add(peer(ba_in, ab_reply, ab, ba_reply_in).named("a"))
        .add(peer(ab_in, ba_reply, ba, ab_reply_in).named("b"));
    let report = net.validate();
    assert!(report.deadlock_free().is_none());
    let broken: Vec<_> = report
        .warnings()
        .into_iter()
        .filter(|w| w.kind == ProblemKind::Lint(Lint::ClientServer))
        .collect();
    assert_eq!(broken.len(), 1, "{report}");
    assert_eq!(broken[0].processes, vec!["a", "b"]);
    assert!(
        report
            .to_string()
            .contains("a -[a_asks_b]-> b -[b_asks_a]-> a"),
        "{report}"
    );
}

#[test]
fn exports_of_commstime_match_the_expected_text() {
    let t = commstime().topology();
    assert_eq!(
        t.to_dot(),
        r#"digraph network {
    rankdir=LR;
    node [shape=box];
    p0 [label="prefix"];
    p1 [label="delta"];
    p2 [label="succ"];
    p3 [label="sink"];
    p2 -> p0 [label="c"];
    p0 -> p1 [label="a"];
    p1 -> p2 [label="b"];
    p1 -> p3 [label="d"];
}
"#
    );
    assert_eq!(
        t.to_mermaid(),
        r#"flowchart LR
    p0["prefix"]
    p1["delta"]
    p2["succ"]
    p3["sink"]
    p2 -->|"c"| p0
    p0 -->|"a"| p1
    p1 -->|"b"| p2
    p1 -->|"d"| p3
"#
    );
    let cspm = t.to_cspm();
    assert!(!cspm.contains("PLACEHOLDER"), "{cspm}");
    let body = cspm.split_once("\n\n").unwrap().1;
    assert_eq!(
        body,
        r#"K = 2
T = {0..K-1}

channel c, a, b, d : T

-- process 'prefix'
P_prefix = |~| v : T @ a!v -> P_prefix_COPY
P_prefix_COPY = c?x -> a!x -> P_prefix_COPY

-- process 'delta'
P_delta = a?x -> b!x -> d!x -> P_delta

-- process 'succ'
P_succ = b?x -> c!((x + 1) % K) -> P_succ

-- process 'sink'
P_sink = d?_ -> P_sink

ALPHA(0) = {| c, a |}
ALPHA(1) = {| a, b, d |}
ALPHA(2) = {| b, c |}
ALPHA(3) = {| d |}
PROC(0) = P_prefix
PROC(1) = P_delta
PROC(2) = P_succ
PROC(3) = P_sink

SYSTEM = || i : {0..3} @ [ALPHA(i)] PROC(i)

assert SYSTEM :[deadlock free]
"#
    );
}

#[test]
fn a_process_without_a_model_gets_a_marked_placeholder_and_shared_channels_a_node() {
    let (tx, rx) = Channel::<u32>::new().named("work").any2one();
    let net: Parallel<()> = Parallel::new()
        .add(Process::with_ends("w", tx.clone(), |tx| Ok(tx.write(1)?)))
        .add(Process::with_ends("w", tx, |tx| Ok(tx.write(2)?)))
        .add(sink(rx).map(|_| ()));
    let t = net.topology();
    let cspm = t.to_cspm();
    assert!(cspm.contains("-- PLACEHOLDER: no model"), "{cspm}");
    // Each writer has its own events, so a write needs the reader, not both writers.
    assert!(cspm.contains("P_w_0 = RUN({| work.0 |})"), "{cspm}");
    assert!(cspm.contains("P_w_1 = RUN({| work.1 |})"), "{cspm}");
    let mermaid = t.to_mermaid();
    assert!(mermaid.contains("c0((\"work\"))"), "{mermaid}");
    assert!(
        mermaid.contains("p0 --> c0") && mermaid.contains("p1 --> c0"),
        "{mermaid}"
    );
    assert!(mermaid.contains("c0 --> p2"), "{mermaid}");
}

#[test]
fn a_large_cycle_is_reported_once_with_a_short_message_and_every_member_as_data() {
    const N: usize = 1000;
    let (outs, ins): (Vec<_>, Vec<_>) = (0..N).map(|_| Channel::<u8>::new().one2one()).unzip();
    let mut ins: Vec<_> = ins.into_iter().map(Some).collect();
    let ring: Parallel<()> = outs
        .into_iter()
        .enumerate()
        .map(|(i, out)| {
            let input = ins[(i + N - 1) % N].take().unwrap();
            Process::with_ends("node", (input, out), |_| Ok(()))
        })
        .collect();
    let report = ring.validate();
    let warnings = report.warnings();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].processes.len(), N);
    assert!(
        warnings[0].message.contains("and 992 more"),
        "{}",
        warnings[0].message
    );
    assert!(warnings[0].message.len() < 1000, "{}", warnings[0].message);
    assert!(
        warnings[0].message.contains("more processes) ..."),
        "{}",
        warnings[0].message
    );
}

#[test]
fn a_writer_left_open_outside_the_network_is_warned() {
    let (tx, rx) = Channel::<u32>::new().named("jobs").any2one();
    // The caller keeps `tx` after cloning it into the network: the sink would wait for
    // ever for the channel to retire.
    let net: Parallel<()> = Parallel::new()
        .add(generate(0..3, tx.clone().into()).named("producer"))
        .add(sink(rx).map(|_| ()));
    let report = net.validate();
    let warnings = report.warnings();
    assert_eq!(warnings.len(), 1, "{report}");
    assert_eq!(warnings[0].kind, ProblemKind::Lint(Lint::OutsideEnds));
    assert_eq!(warnings[0].channels, vec!["jobs"]);
    assert!(report
        .to_string()
        .contains("1 open writing end(s) held outside"));
    drop(tx);
    assert!(net.validate().problems().is_empty());
}

/// Every buffer policy, channels with two writers, and one with two of each: the model
/// must give each buffer its process and each sharer its own events. The expected
/// script was reviewed by hand against the CSPm grammar (no CSPm parser installs here).
#[test]
fn cspm_models_buffers_as_processes_and_shared_ends_by_index() {
    use csp::components::{id, merge};
    use csp::Policy;
    let (jobs, jobs_in) = Channel::<u64>::new().named("jobs").fifo(2).any2one();
    let (results, results_in) = Channel::<u64>::new().named("results").any2one();
    let (log, log_in) = Channel::<u64>::new()
        .named("log")
        .buffer(Policy::OverwriteOldest(3))
        .one2one();
    let (spill, spill_in) = Channel::<u64>::new()
        .named("spill")
        .buffer(Policy::DropNewest(1))
        .one2one();
    let (urgent, urgent_in) = Channel::<u64>::new().named("urgent").priority(2).one2one();
    let (backlog, backlog_in) = Channel::<u64>::new()
        .named("backlog")
        .buffer(Policy::Unbounded)
        .one2one();
    let (out, out_in) = Channel::<u64>::new().named("out").any2any();
    let net: Parallel<()> = Parallel::new()
        .add(generate(0..3, jobs.clone().into()).named("gen_a"))
        .add(generate(0..3, jobs.into()).named("gen_b"))
        .add(id(jobs_in, results.clone().into()))
        .add(generate(0..3, results.into()).named("gen_c"))
        .add(delta(results_in, vec![log, spill, urgent, backlog]))
        .add(
            merge(
                vec![log_in, spill_in, urgent_in, backlog_in],
                out.clone().into(),
            )
            .map(|_| ()),
        )
        .add(generate(0..3, out.into()).named("gen_d"))
        .add(sink(out_in.clone().into()).map(|_| ()))
        .add(sink(out_in.into()).map(|_| ()));
    let cspm = net.topology().to_cspm();
    let expected = include_str!("golden/buffers.csp");
    assert_eq!(cspm, expected, "got:\n{cspm}");
}

/// A pipeline of `n` `id`s between a generator and a sink, exported to CSPm.
fn pipeline_cspm(n: usize) -> String {
    let (first, mut input) = Channel::<u8>::new().one2one();
    let mut net: Parallel<()> = Parallel::new().add(generate(0..3, first));
    for _ in 0..n {
        let (out, next) = Channel::<u8>::new().one2one();
        net = net.add(csp::components::id(input, out).map(|_| ()));
        input = next;
    }
    net.add(sink(input).map(|_| ())).topology().to_cspm()
}

#[test]
fn the_cspm_script_grows_linearly_with_the_network() {
    let (small, large) = (pipeline_cspm(200).len(), pipeline_cspm(800).len());
    // 4x the processes: about 4x the text (a folded parallel repeating every earlier
    // alphabet at each step grew about 16x).
    let growth = large as f64 / small as f64;
    assert!(
        growth < 4.6,
        "{small} -> {large} bytes: {growth:.1}x for 4x the processes"
    );
}

/// Green processes are drawn apart from thread processes, with their stack size, in
/// both formats; a network that forks runs its green processes on threads, and draws
/// them so.
#[test]
fn green_processes_are_drawn_green_with_their_stack_size() {
    let net = || {
        let (a_tx, a_rx) = Channel::<u8>::new().named("a").one2one();
        let (b_tx, b_rx) = Channel::<u8>::new().named("b").one2one();
        Parallel::<()>::new()
            .add(generate(0..3, a_tx).green())
            .add(
                Process::with_ends("relay", (a_rx, b_tx), |(rx, tx)| {
                    for v in &rx {
                        tx.write(v)?;
                    }
                    Ok(())
                })
                .green_stack(256 * 1024),
            )
            .add(sink(b_rx).map(|_| ()))
    };
    let dot = net().topology().to_dot();
    let green = "style=\"rounded,filled\", fillcolor=\"#d8f0d8\"";
    assert!(
        dot.contains(&format!(
            "p0 [label=\"generate (green, 64 KiB)\", {green}];"
        )),
        "{dot}"
    );
    assert!(
        dot.contains(&format!("p1 [label=\"relay (green, 256 KiB)\", {green}];")),
        "{dot}"
    );
    assert!(dot.contains("p2 [label=\"sink\"];"), "{dot}");
    let mermaid = net().topology().to_mermaid();
    assert!(
        mermaid.contains("p0([\"generate (green, 64 KiB)\"]):::green"),
        "{mermaid}"
    );
    assert!(mermaid.contains("p2[\"sink\"]"), "{mermaid}");
    assert_eq!(mermaid.matches("classDef green").count(), 1, "{mermaid}");
    // The whole network green, with its own default.
    let all = net().green().green_stack(32 * 1024).topology().to_dot();
    assert!(all.contains("p2 [label=\"sink (green, 32 KiB)\""), "{all}");
    assert!(
        all.contains("p1 [label=\"relay (green, 256 KiB)\""),
        "{all}"
    );
    // What runs is drawn: none of them runs green beside a forked process.
    let forked = net()
        .add(Process::from_fn("away", || ()).forked())
        .topology();
    let dot = forked.to_dot();
    assert!(!dot.contains("green"), "{dot}");
    assert!(
        dot.contains("subgraph cluster_os0 { label=\"fork away\""),
        "{dot}"
    );
    // And the network runs as drawn.
    watchdog(60, "drawn", move || net().green().run().unwrap());
}
