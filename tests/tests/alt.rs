//! Alternation: the channel-guard suite (`suites/alt_guards.rs`, `suites/alt_contention.rs`) on OS threads, and the
//! merge components built on alternation.

csp_tests::libtest_placement!(Threads);

#[path = "suites/alt_guards.rs"]
mod guards;

#[path = "suites/alt_contention.rs"]
mod contention;

mod merge {
    use csp::components::{collect, generate, merge, plex};
    use csp::{par, Channel, Failure, NetworkError, Parallel, Policy, Process};
    use csp_tests::watchdog;

    #[test]
    fn merge_of_8_producers_delivers_every_value_once() {
        const PRODUCERS: u64 = 8;
        const EACH: u64 = 10_000;
        let got = watchdog(300, "merge 8", || {
            let (outs, ins): (Vec<_>, Vec<_>) = (0..PRODUCERS)
                .map(|_| Channel::<u64>::new().one2one())
                .unzip();
            let (out, out_in) = Channel::<u64>::new().fifo(64).one2one();
            let producers: Parallel = outs
                .into_iter()
                .enumerate()
                .map(|(p, o)| {
                    let p = p as u64;
                    generate((0..EACH).map(move |i| p * EACH + i), o)
                })
                .collect();
            let (_, _, got) = par!(
                producers.into_process("producers"),
                merge(ins, out),
                collect(out_in)
            )
            .unwrap();
            got.unwrap()
        });
        let mut got = got;
        got.sort_unstable();
        assert_eq!(got, (0..PRODUCERS * EACH).collect::<Vec<_>>());
    }

    #[test]
    fn merge_is_fair_between_two_busy_inputs() {
        // Both inputs hold all their values before the merge starts, so both are ready
        // at every select: a fair merge must alternate.
        const EACH: usize = 5000;
        let got = watchdog(60, "merge fair", || {
            let (a, a_in) = Channel::<u8>::new().buffer(Policy::Unbounded).one2one();
            let (b, b_in) = Channel::<u8>::new().buffer(Policy::Unbounded).one2one();
            for _ in 0..EACH {
                a.write(0).unwrap();
                b.write(1).unwrap();
            }
            drop((a, b));
            let (out, out_in) = Channel::<u8>::new().one2one();
            let (_, got) = par!(merge(vec![a_in, b_in], out), collect(out_in)).unwrap();
            got.unwrap()
        });
        assert_eq!(got.len(), 2 * EACH);
        let longest_run = got.chunk_by(|x, y| x == y).map(<[u8]>::len).max().unwrap();
        assert!(longest_run <= 2, "longest run of one input: {longest_run}");
    }

    #[test]
    fn plex_tags_each_value_with_its_input() {
        let got = watchdog(60, "plex", || {
            let (a, a_in) = Channel::<u32>::new().one2one();
            let (b, b_in) = Channel::<u32>::new().one2one();
            let (out, out_in) = Channel::<(usize, u32)>::new().one2one();
            let (_, _, _, got) = par!(
                generate(0..100, a),
                generate(100..200, b),
                plex(vec![a_in, b_in], out),
                collect(out_in),
            )
            .unwrap();
            got.unwrap()
        });
        assert_eq!(got.len(), 200);
        for (input, v) in got {
            assert_eq!(input, (v / 100) as usize);
        }
    }

    #[test]
    fn merge_stops_on_poison_and_refuses_two_ends_of_one_channel() {
        watchdog(60, "merge poison", || {
            let (a, a_in) = Channel::<u32>::new().one2one();
            let (out, out_in) = Channel::<u32>::new().one2one();
            let poisoner = Process::with_ends("poisoner", a, |a| {
                a.write(1)?;
                a.poison();
                Ok(())
            });
            let results = Parallel::new()
                .add(poisoner)
                .add(merge(vec![a_in], out))
                .add(Process::with_ends("reader", out_in, |r| {
                    r.read()?;
                    r.read()?;
                    Ok(())
                }))
                .run()
                .unwrap();
            // Everyone stopped because of the poison: no failure, no result.
            assert_eq!(results[1], None);

            let (_tx, rx) = Channel::<u32>::new().named("twice").one2any();
            let (out, _out_in) = Channel::<u32>::new().one2one();
            let err = Parallel::new()
                .boundary(&_tx)
                .boundary(&_out_in)
                .add(merge(vec![rx.clone().into(), rx.into()], out))
                .run()
                .unwrap_err();
            let NetworkError::Failed(failures) = err else {
                panic!("expected a failure");
            };
            assert!(matches!(&failures[0], Failure::Error { process, error }
                if process == "merge" && error.to_string().contains("'twice'")));
        });
    }
}
