//! Python's `multiprocessing.shared_memory` + `Semaphore`: forked workers fill and
//! transform big buffers that are handed over channels without being copied.
//!
//! | Python                                              | csp                                                |
//! |-----------------------------------------------------|----------------------------------------------------|
//! | `SharedMemory(create=True, size=n)` per buffer       | `SharedPool::new(blocks, n)`, made before the fork |
//! | `Semaphore(4)` bounding the buffers in use           | the pool's 4 blocks: `alloc_timeout` is `acquire`, dropping the buffer is `release` |
//! | pass `shm.name` in a `Queue`, then `SharedMemory(name)` | write the `SharedBuf` to a channel: its handle crosses, the reader owns the block |
//! | a `Lock` around `shm.buf` while one process works    | nothing: exactly one process owns a buffer at a time |
//! | `shm.close(); shm.unlink()`                          | drop the buffer (back to the pool); the pool ends with its last user |
//!
//! A forked producer fills 1 MiB frames; two forked workers transform them in place;
//! the consumer, in the parent, checks them. 16 frames pass through a pool of 4
//! blocks, so at most 4 are in use at once, and every frame is seen at the same
//! address by every process: the megabytes never move, only 20-byte handles do.
//!
//! `cargo run --release --example shared_memory`

use std::collections::BTreeSet;
use std::time::Duration;

use csp::shared_memory::{SharedBuf, SharedPool};
use csp::{Channel, Input, Output, Parallel, Process, SharedInput, SharedOutput};

const FRAMES: u64 = 16;
const FRAME: usize = 1 << 20;
const BLOCKS: usize = 4;

/// A frame: its number and the buffer holding its pixels.
#[derive(serde::Serialize, serde::Deserialize)]
struct Frame {
    number: u64,
    /// Where the producer saw the bytes, to show that nobody copied them.
    address: usize,
    pixels: SharedBuf,
}

fn producer(pool: SharedPool, out: Output<Frame>) -> Process<u64> {
    Process::with_ends("producer", out, move |out| {
        for number in 0..FRAMES {
            // Waits while all 4 blocks are in use: the semaphore.
            let mut pixels = pool.alloc_timeout(Duration::from_secs(30))?;
            pixels.fill(number as u8);
            let address = pixels.as_ptr() as usize;
            out.write(Frame {
                number,
                address,
                pixels,
            })?;
        }
        Ok(0)
    })
    .forked()
}

fn worker(name: String, input: SharedInput<Frame>, out: SharedOutput<Frame>) -> Process<u64> {
    Process::with_ends(name, (input, out), |(input, out)| {
        let mut done = 0;
        for mut frame in &*input {
            for p in frame.pixels.iter_mut() {
                *p = p.wrapping_mul(2).wrapping_add(1); // in place, in the shared block
            }
            out.write(frame).map_err(|e| e.into_parts().0)?;
            done += 1;
        }
        Ok(done)
    })
    .forked()
}

fn consumer(input: Input<Frame>) -> Process<u64> {
    Process::with_ends("consumer", input, |input| {
        let (mut frames, mut addresses) = (0, BTreeSet::new());
        for frame in &input {
            let expected = (frame.number as u8).wrapping_mul(2).wrapping_add(1);
            assert!(
                frame.pixels.iter().all(|&p| p == expected),
                "frame {}",
                frame.number
            );
            assert_eq!(frame.pixels.as_ptr() as usize, frame.address, "copied!");
            addresses.insert(frame.address);
            frames += 1;
        }
        println!(
            "consumer: {frames} frames of {} KiB checked, all at the address the producer \
             filled, in {} distinct blocks",
            FRAME / 1024,
            addresses.len()
        );
        Ok(frames)
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pool = SharedPool::new(BLOCKS, FRAME)?;
    let (raw_tx, raw) = Channel::<Frame>::new().named("raw").one2any();
    let (done_tx, done) = Channel::<Frame>::new().named("done").any2one();
    let mut net = Parallel::new().add(producer(pool.clone(), raw_tx));
    for i in 0..2 {
        net = net.add(worker(format!("worker{i}"), raw.clone(), done_tx.clone()));
    }
    let net = net.add(consumer(done));
    drop((raw, done_tx));
    let results = net.run()?;
    println!(
        "workers transformed {} and {} frames; blocks free again: {} of {}",
        results[1].unwrap_or(0),
        results[2].unwrap_or(0),
        pool.free_blocks(),
        pool.blocks()
    );
    Ok(())
}
