//! Threads-only tests of the pool and the handle protocol (the forked ones are in
//! `tests/tests/shared_memory_forked.rs`).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::pool::{pack, unpack, IN_FLIGHT};
use super::{PoolError, SharedBuf, SharedPool};
use crate::{Channel, ChannelError};

fn encode(buf: &SharedBuf) -> Vec<u8> {
    postcard::to_allocvec(buf).unwrap()
}

/// Decodes as a channel would; the error is the reason the handle was refused.
fn decode(frame: &[u8]) -> Result<SharedBuf, String> {
    postcard::from_bytes(frame)
        .map_err(|e| crate::channel::take_decode_note().unwrap_or(e.to_string()))
}

#[test]
fn a_handle_decodes_once_to_the_same_memory() {
    let pool = SharedPool::new(2, 64).unwrap();
    let buf = pool.alloc_from(b"payload").unwrap();
    let at = buf.as_ptr();
    let frame = encode(&buf);
    drop(buf); // the handle owns the block now
    assert_eq!(pool.free_blocks(), 1);
    let got = decode(&frame).unwrap();
    assert_eq!(&got[..], b"payload");
    assert_eq!(got.as_ptr(), at, "not a copy: the same block");
    // A replayed frame finds the block handed over since.
    let again = decode(&frame).unwrap_err().to_string();
    assert!(again.contains("stale or duplicated"), "{again}");
    drop(got);
    assert_eq!(pool.free_blocks(), 2);
}

#[test]
fn forged_handles_fail_to_decode() {
    let pool = SharedPool::new(2, 64).unwrap();
    let buf = pool.alloc().unwrap();
    let mut frame = encode(&buf);
    // Another pool id: unknown here.
    let mut other = frame.clone();
    other[0] ^= 0x55;
    let e = decode(&other).unwrap_err().to_string();
    assert!(e.contains("does not share"), "{e}");
    // A block out of range.
    let handle = super::buf::Handle {
        pool: pool.id(),
        block: 9,
        generation: 0,
        len: 1,
    };
    let e = decode(&postcard::to_allocvec(&handle).unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("forged"), "{e}");
    // A handle of a block its owner still holds (serialized by hand, not dropped):
    // the claim waits for the owner, then fails rather than share the bytes.
    let t = Instant::now();
    let e = decode(&frame).unwrap_err().to_string();
    assert!(e.contains("still holds it"), "{e}");
    assert!(t.elapsed() >= Duration::from_millis(150));
    frame.clear();
    drop(buf);
    assert_eq!(
        pool.free_blocks(),
        1,
        "the held buffer's handle owns it now"
    );
}

#[test]
fn exhaustion_is_an_error_or_a_bounded_wait() {
    let pool = SharedPool::new(2, 8).unwrap();
    let held: Vec<_> = (0..2).map(|_| pool.alloc().unwrap()).collect();
    assert!(matches!(
        pool.alloc(),
        Err(PoolError::Exhausted { blocks: 2, .. })
    ));
    let t = Instant::now();
    assert!(matches!(
        pool.alloc_timeout(Duration::from_millis(30)),
        Err(PoolError::Exhausted { .. })
    ));
    assert!(t.elapsed() >= Duration::from_millis(30));
    let waiter = {
        let pool = pool.clone();
        std::thread::spawn(move || {
            pool.alloc_timeout(Duration::from_secs(30))
                .map(|b| b.block())
        })
    };
    std::thread::sleep(Duration::from_millis(20));
    let freed = held[1].block();
    drop(held);
    let got = waiter.join().unwrap().unwrap();
    assert!(got == freed || got < 2);
}

#[test]
fn a_dead_owners_blocks_are_reclaimed_by_alloc() {
    let pool = SharedPool::new(1, 8).unwrap();
    // A pid that existed and is gone: a reaped child.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let buf = pool.alloc().unwrap();
    let word = pool.pool.state(0);
    let (g, _) = unpack(word.load(Ordering::Acquire));
    word.store(pack(g, dead), Ordering::Release);
    std::mem::forget(buf); // as if its process had been killed
    assert_eq!(pool.free_blocks(), 0);
    let again = pool.alloc().expect("the dead owner's block is reclaimed");
    assert_eq!(again.block(), 0);
    // Blocks in flight are never reclaimed: a frame may still carry their handle.
    let frame = encode(&again);
    drop(again);
    assert_eq!(unpack(word.load(Ordering::Acquire)).1, IN_FLIGHT);
    assert_eq!(pool.reclaim_dead(), 0);
    assert!(decode(&frame).is_ok());
}

#[test]
fn buffers_move_between_threads_and_through_shared_channels() {
    const ROUNDS: usize = 2_000;
    let pool = SharedPool::new(4, 4096).unwrap();
    let (to_b, from_a) = Channel::<SharedBuf>::new().fifo(2).one2one();
    let (to_a, from_b) = Channel::<SharedBuf>::new().one2one();
    // In shared memory: every value crosses as a handle, as between forked processes.
    to_b.share_with_forks().unwrap();
    let echo = std::thread::spawn(move || {
        for mut buf in &from_a {
            for b in buf.iter_mut() {
                *b = b.wrapping_add(1);
            }
            to_a.write(buf).unwrap();
        }
    });
    for round in 0..ROUNDS {
        let mut buf = pool.alloc_timeout(Duration::from_secs(10)).unwrap();
        buf.set_len(1 + round % 4096).unwrap();
        buf.fill(round as u8);
        let at = buf.as_ptr();
        to_b.write(buf).unwrap();
        let back = from_b.read().unwrap();
        assert_eq!(back.as_ptr(), at);
        assert_eq!(back.len(), 1 + round % 4096);
        assert!(back.iter().all(|&b| b == (round as u8).wrapping_add(1)));
    }
    drop(to_b);
    echo.join().unwrap();
    assert_eq!(pool.free_blocks(), 4, "every block came back");
}

#[test]
fn concurrent_owners_never_share_a_block() {
    const THREADS: usize = 6;
    const ROUNDS: usize = 3_000;
    let pool = SharedPool::new(3, 256).unwrap();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let pool = pool.clone();
            std::thread::spawn(move || {
                for _ in 0..ROUNDS {
                    let mut buf = pool.alloc_timeout(Duration::from_secs(30)).unwrap();
                    buf.fill(t as u8);
                    std::thread::yield_now();
                    assert!(buf.iter().all(|&b| b == t as u8), "two owners of one block");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(pool.free_blocks(), 3);
}

#[test]
fn a_failed_write_hands_the_buffer_back_usable() {
    let pool = SharedPool::new(1, 8).unwrap();
    let (tx, rx) = Channel::<SharedBuf>::new().one2one();
    tx.share_with_forks().unwrap();
    let buf = pool.alloc_from(b"keep").unwrap();
    let e = tx.write_timeout(buf, Duration::from_millis(5)).unwrap_err();
    assert!(matches!(e.error(), ChannelError::Timeout { .. }));
    let mut buf = e.into_inner().expect("handed back");
    buf[0] = b'K';
    assert_eq!(&buf[..], b"Keep");
    let reader = std::thread::spawn(move || rx.read().map(|b| b.to_vec()));
    tx.write(buf).unwrap();
    assert_eq!(reader.join().unwrap().unwrap(), b"Keep");
}

#[test]
fn typed_views_survive_a_handover() {
    let pool = SharedPool::new(1, 4096).unwrap();
    let (tx, rx) = Channel::<SharedBuf>::new().one2one();
    tx.share_with_forks().unwrap();
    let mut buf = pool.alloc().unwrap();
    for (i, x) in buf.as_mut_slice_of::<u64>().unwrap().iter_mut().enumerate() {
        *x = (i as u64) * 3;
    }
    let reader = std::thread::spawn(move || {
        let buf = rx.read().unwrap();
        let sum: u64 = buf.as_slice_of::<u64>().unwrap().iter().sum();
        (sum, buf.as_slice_of::<u32>().unwrap().len())
    });
    tx.write(buf).unwrap();
    assert_eq!(reader.join().unwrap(), (3 * 511 * 512 / 2, 1024));
    let mut odd = pool.alloc().unwrap();
    odd.set_len(7).unwrap();
    assert!(matches!(
        odd.as_slice_of::<u16>(),
        Err(PoolError::Layout { .. })
    ));
    assert!(odd.as_mut_slice_of::<u8>().is_ok());
}
