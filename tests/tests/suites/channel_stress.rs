//! Channel stress that holds on every placement: many values through one small buffer,
//! writers racing, checked where the values arrive.
//!
//! A suite included once per placement, like `channel_semantics.rs` (whose header says
//! what the including file provides).

use csp::Channel;
use csp_tests::{tag, Tally};

use super::{share, spawn, watchdog};

/// Four writers race 10,000 values each through an any2one `Fifo(64)` (full most of the
/// time, so writers block and wake often); the reader sees every value exactly once and
/// each writer's values in the order written.
fn any2one_fifo_64_four_writers_lose_nothing_and_keep_each_writers_order() {
    const WRITERS: u64 = 4;
    const PER_WRITER: u64 = 10_000;
    watchdog(300, "any2one fifo(64) x4", || {
        let (tx, rx) = share(Channel::<u64>::new().fifo(64).any2one());
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let tx = tx.clone();
                spawn(move || {
                    for seq in 0..PER_WRITER {
                        tx.write(tag(w, seq)).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let mut tally = Tally::new(WRITERS as usize);
        for v in &rx {
            tally.add_in_order(v);
        }
        for w in writers {
            w.join().unwrap();
        }
        tally.assert_exactly_once(PER_WRITER);
    });
}

cases!(any2one_fifo_64_four_writers_lose_nothing_and_keep_each_writers_order);
