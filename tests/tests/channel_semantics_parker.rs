//! The channel suites with every blocking wait going through a parker of the
//! executor seam (`csp::executor`) that is not a thread park: a mutex and a condition
//! variable per process. It proves the seam carries every wait and wake-up.

csp_tests::libtest_placement!(CondvarParked);

#[path = "suites/channel_semantics.rs"]
mod suite;

#[path = "suites/channel_lifecycle.rs"]
mod lifecycle;

#[path = "suites/channel_stress.rs"]
mod stress;

/// The waits really go through the installed parker: a read that must wait, a write
/// that must wait, a timeout and a sleep each park it.
#[test]
fn blocking_waits_sleeps_and_alts_park_in_the_installed_parker() {
    use std::time::Duration;

    use csp::executor::with_parker;
    use csp_tests::placement::CondvarParker;

    let (parker, parks) = CondvarParker::counted();
    let (tx, rx) = csp::Channel::<u32>::new().one2one();
    let (tx2, rx2) = csp::Channel::<u32>::new().one2one();
    let partner = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        tx.write(1).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        // `tx` goes back with the answer: alive until joined, so the timed read below
        // waits rather than finding the channel retired.
        (rx2.read().unwrap(), tx)
    });
    let counts = with_parker(parker, move || {
        let mut counts = Vec::new();
        assert_eq!(rx.read(), Ok(1));
        counts.push(parks());
        tx2.write(2).unwrap();
        counts.push(parks());
        assert!(rx.read_timeout(Duration::from_millis(20)).is_err());
        counts.push(parks());
        csp::Timer::sleep(Duration::from_millis(5));
        counts.push(parks());
        counts
    });
    assert_eq!(partner.join().unwrap().0, 2);
    assert!(
        counts[0] >= 1,
        "the read did not park in the parker: {counts:?}"
    );
    assert!(counts.windows(2).all(|w| w[1] > w[0]), "{counts:?}");
}
