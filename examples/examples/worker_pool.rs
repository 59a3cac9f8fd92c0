//! Python's pool of worker threads fed from a `queue.Queue`, stopped with one `None`
//! sentinel per worker and waited for with `q.join()` — and `multiprocessing.Pool` — as
//! a `components::Farm`.
//!
//! | Python                                            | csp                                        |
//! |---------------------------------------------------|--------------------------------------------|
//! | `q = Queue()`; `Thread(target=worker)` × 4        | `Farm::new("count", 4, count_words)`       |
//! | `q.put(item)`                                     | `jobs.write(item)`                         |
//! | `q.put(None)` × 4, then `t.join()` for each       | drop `jobs`: the farm drains and ends      |
//! | results through a second queue, in any order      | results on `done`, in input order          |
//! | `multiprocessing.Pool(4).imap(f, items)`          | the same farm, `.forked()`                 |
//! | `Pool(4).map(f, items)`                           | `Farm::map_all(items)` (rayon on threads)  |
//! | an exception in a worker: the pool hangs or the traceback is lost | `Failure::Panicked` naming the worker |
//!
//! `cargo run --release --example worker_pool`

use csp::components::{collect, generate, Farm};
use csp::{par, Channel, NetworkError};

/// The pages of a little "document", one job each, of uneven length.
fn pages() -> Vec<String> {
    (1..=12)
        .map(|p| {
            let words = ["csp ", "channels ", "processes "];
            words[p % 3].repeat(p * 1000)
        })
        .collect()
}

fn count_words(page: String) -> usize {
    page.split_whitespace().count()
}

fn main() -> Result<(), NetworkError> {
    // The failure below is reported by the network; the default hook would print it too.
    std::panic::set_hook(Box::new(|_| {}));
    // Worker threads: results come back in the order the pages went in, however long
    // each page took.
    let (jobs, jobs_in) = Channel::<String>::new().one2one();
    let (done, done_in) = Channel::<usize>::new().one2one();
    let (_, _, counts) = par!(
        generate(pages(), jobs),
        Farm::new("count", 4, count_words).into_process(jobs_in, done),
        collect(done_in),
    )?;
    let counts = counts.unwrap_or_default();
    println!("threads: words per page {counts:?}");

    // The same farm with each worker in a forked OS process (multiprocessing.Pool).
    // Values crossing processes travel as frames of at most 64 KiB unless the channel
    // says otherwise: the longest page is 120 KB.
    let (jobs, jobs_in) = Channel::<String>::new().max_frame(1 << 20).one2one();
    let (done, done_in) = Channel::<(usize, bool)>::new().one2one();
    let here = std::process::id();
    let farm = Farm::new("count", 4, move |page: String| {
        (count_words(page), std::process::id() != here)
    });
    let (_, _, forked) = par!(
        generate(pages(), jobs),
        farm.max_frame(1 << 20).forked().into_process(jobs_in, done),
        collect(done_in),
    )?;
    let forked = forked.unwrap_or_default();
    let same = forked.iter().map(|r| r.0).eq(counts.iter().copied());
    let away = forked.iter().all(|r| r.1);
    println!("forked: same counts {same}, every page counted in a child process {away}");

    // Pool.map: every value in hand at once.
    let all = Farm::new("count", 4, count_words).map_all(pages())?;
    println!("map_all: same counts {}", all == counts);

    // A worker that fails is named; the network ends instead of hanging.
    let (jobs, jobs_in) = Channel::<String>::new().one2one();
    let (done, done_in) = Channel::<usize>::new().one2one();
    let fragile = Farm::new("strict", 4, |page: String| {
        let words = count_words(page);
        assert!(words != 7000, "page of {words} words is corrupt");
        words
    });
    match par!(
        generate(pages(), jobs),
        fragile.into_process(jobs_in, done),
        collect(done_in),
    ) {
        Err(NetworkError::Failed(failures)) => {
            for f in failures {
                println!("failed: {f}");
            }
        }
        other => println!("unexpected: {:?}", other.map(|_| ())),
    }
    Ok(())
}
