//! The dining philosophers, as in occam's and JCSP's classic "college": five philosophers,
//! five forks and a butler, each a process. Python's version is five `threading.Lock`s
//! for the forks plus a `threading.Semaphore(4)` that keeps one philosopher away from
//! the table (or a global lock order) so that it cannot deadlock; here the forks and the
//! butler are server processes that *choose* whom to serve with an `Alt`.
//!
//! ```text
//!   philosopher[0..5] ──sit_down (any2one, shared by all five)──▶ butler
//!                     ──get_up   (any2one, shared by all five)──▶ butler
//!   philosopher[i]    ──phil{i}->fork{i}   (one2one)──▶ fork[i]     (its left fork)
//!                     ──phil{i}->fork{i+1} (one2one)──▶ fork[i+1]   (its right fork)
//! ```
//!
//! - A philosopher thinks, asks the butler for a seat, picks up its left fork, then its
//!   right one, eats, puts both down, and tells the butler it has left the table.
//! - A fork alts (fairly) over "pick up" from its two neighbours; once picked up it
//!   listens only to the philosopher holding it, for "put down".
//! - The butler seats at most four at once: its `sit_down` guard has the precondition
//!   `seated < 4` (`input_if`), so a fifth philosopher waits at the door. Without it all
//!   five could pick up their left forks together and wait forever for their right ones.
//!
//! Ending: a philosopher that has eaten its meals returns; its channel ends are dropped,
//! so its fork channels retire, and once all five are gone the shared `sit_down` and
//! `get_up` channels retire too. Forks and butler see their guards' channels retire,
//! disable them, and return when none is left.
//!
//! `cargo run --release --example philosophers`

use std::time::{Duration, Instant};

use csp::{
    process, Alt, AltError, BoxError, Channel, ChannelError, Fair, Input, NetworkError, Output,
    Parallel, SharedOutput, Timer,
};

const PHILOSOPHERS: usize = 5;
const MEALS: u32 = 50;
/// The butler's limit: one fewer than the philosophers.
const SEATS: usize = PHILOSOPHERS - 1;

/// What a philosopher says to a fork.
#[derive(Debug)]
enum Hand {
    PickUp,
    PutDown,
}

/// A philosopher's report.
#[derive(Debug, Default)]
struct Diner {
    meals: u32,
    /// Time spent hungry: from asking for a seat to holding both forks.
    hungry: Duration,
}

/// A tiny xorshift, for think and eat times that differ between philosophers.
fn next_random(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[process]
fn philosopher(
    id: usize,
    sit_down: SharedOutput<usize>,
    get_up: SharedOutput<usize>,
    left: Output<Hand>,
    right: Output<Hand>,
) -> Result<Diner, ChannelError> {
    let mut seed = 0x9E37_79B9_7F4A_7C15 ^ (id as u64 + 1);
    let mut me = Diner::default();
    for _ in 0..MEALS {
        Timer::sleep(Duration::from_micros(next_random(&mut seed) % 1000)); // think
        let hungry = Instant::now();
        sit_down.write(id)?; // waits while four are seated
        left.write(Hand::PickUp)?; // waits while a neighbour holds the fork
        right.write(Hand::PickUp)?;
        me.hungry += hungry.elapsed();
        Timer::sleep(Duration::from_micros(next_random(&mut seed) % 1000)); // eat
        me.meals += 1;
        left.write(Hand::PutDown)?;
        right.write(Hand::PutDown)?;
        get_up.write(id)?;
    }
    Ok(me)
    // Every end is dropped here: the forks and the butler see this philosopher go.
}

/// A fork: `hands[0]` comes from the philosopher on its one side, `hands[1]` from the one
/// on its other side. Returns how often each picked it up.
#[process]
fn fork(id: usize, hands: Vec<Input<Hand>>) -> Result<[u32; 2], BoxError> {
    let mut open = [true; 2];
    let mut uses = [0; 2];
    let mut fair = Fair::new(); // neither neighbour can keep the fork from the other
    while open.contains(&true) {
        let mut alt = Alt::new();
        for (k, hand) in hands.iter().enumerate() {
            alt = alt.input_if(open[k], hand, move |h| (k, h));
        }
        match alt.fair_select(&mut fair) {
            Ok((k, Hand::PickUp)) => {
                uses[k] += 1;
                // Held: only the holder is listened to, until it puts the fork down.
                match hands[k].read()? {
                    Hand::PutDown => {}
                    Hand::PickUp => return Err(format!("fork {id} picked up twice").into()),
                }
            }
            Ok((_, Hand::PutDown)) => {
                return Err(format!("fork {id} put down by a philosopher not holding it").into())
            }
            // That neighbour has finished its meals: stop listening to it.
            Err(AltError::Channel { guard, error }) if error.is_retired() => open[guard] = false,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(uses)
}

/// What the butler saw.
#[derive(Debug, Default)]
struct Door {
    seatings: u32,
    most_seated: usize,
    /// How often the table became full, so that a hungry philosopher had to wait.
    table_full: u32,
}

#[process]
fn butler(sit_down: Input<usize>, get_up: Input<usize>) -> Result<Door, BoxError> {
    enum Event {
        Left(usize),
        Sat(usize),
    }
    const GET_UP: usize = 0; // guard numbers: the order the guards are added
    const SIT_DOWN: usize = 1;
    let mut open = [true; 2];
    let mut at_table = [false; PHILOSOPHERS];
    let mut seated = 0;
    let mut door = Door::default();
    // Once every philosopher has gone both channels retire; `seated` is then 0, so the
    // sit_down guard is enabled and its retirement is seen too.
    while open.contains(&true) {
        let event = Alt::new()
            .input_if(open[GET_UP], &get_up, Event::Left)
            .input_if(open[SIT_DOWN] && seated < SEATS, &sit_down, Event::Sat)
            .pri_select();
        match event {
            Ok(Event::Sat(id)) => {
                assert!(!at_table[id], "philosopher {id} sat down twice");
                at_table[id] = true;
                seated += 1;
                door.seatings += 1;
                door.most_seated = door.most_seated.max(seated);
                door.table_full += u32::from(seated == SEATS);
            }
            Ok(Event::Left(id)) => {
                assert!(at_table[id], "philosopher {id} got up without sitting down");
                at_table[id] = false;
                seated -= 1;
            }
            Err(AltError::Channel { guard, error }) if error.is_retired() => open[guard] = false,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(door)
}

fn main() -> Result<(), NetworkError> {
    let (sit_tx, sit_rx) = Channel::<usize>::new().named("sit_down").any2one();
    let (up_tx, up_rx) = Channel::<usize>::new().named("get_up").any2one();

    // fork_hands[j]: fork j's two reading ends, [0] from philosopher j (whose left fork
    // it is) and [1] from philosopher j-1 (whose right fork it is).
    let mut fork_hands: Vec<Vec<Option<Input<Hand>>>> =
        (0..PHILOSOPHERS).map(|_| vec![None, None]).collect();
    let mut diners = Parallel::new();
    for i in 0..PHILOSOPHERS {
        let right_fork = (i + 1) % PHILOSOPHERS;
        let (left, left_in) = Channel::<Hand>::local()
            .named(format!("phil{i}->fork{i}"))
            .one2one();
        let (right, right_in) = Channel::<Hand>::local()
            .named(format!("phil{i}->fork{right_fork}"))
            .one2one();
        fork_hands[i][0] = Some(left_in); // fork i: philosopher i is on its side 0
        fork_hands[right_fork][1] = Some(right_in); // fork i+1: philosopher i on side 1
        diners.push(philosopher(i, sit_tx.clone(), up_tx.clone(), left, right));
    }
    drop((sit_tx, up_tx)); // only the philosophers hold these now
    let forks: Parallel<[u32; 2]> = fork_hands
        .into_iter()
        .enumerate()
        .map(|(j, hands)| fork(j, hands.into_iter().flatten().collect()))
        .collect();

    println!(
        "{PHILOSOPHERS} philosophers, {PHILOSOPHERS} forks, a butler with {SEATS} seats; \
         {MEALS} meals each"
    );
    let start = Instant::now();
    let (diners, forks, door) = csp::par!(
        diners.into_process("philosophers"),
        forks.into_process("forks"),
        butler(sit_rx, up_rx),
    )?;
    let took = start.elapsed();

    let diners = diners.unwrap_or_default();
    for (i, d) in diners.iter().enumerate() {
        let d = d.as_ref().expect("every philosopher finished");
        println!(
            "philosopher {i} ate {} times, hungry for {:.1?} in all",
            d.meals, d.hungry
        );
        assert_eq!(d.meals, MEALS);
    }
    for (j, uses) in forks.unwrap_or_default().iter().enumerate() {
        let [a, b] = uses.expect("every fork finished");
        let before = (j + PHILOSOPHERS - 1) % PHILOSOPHERS;
        println!(
            "fork {j}: picked up {a} times by philosopher {j}, {b} times by philosopher {before}"
        );
        assert_eq!((a, b), (MEALS, MEALS));
    }
    let door = door.expect("the butler finished");
    println!(
        "butler: {} seatings, at most {} seated at once, the table was full {} times",
        door.seatings, door.most_seated, door.table_full
    );
    println!(
        "the whole college finished in {took:.0?}: no deadlock, every process ended by itself"
    );
    Ok(())
}
