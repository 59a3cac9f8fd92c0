//! Python's `threading.Event` (and `asyncio.Event`): `set`, `clear`, `is_set` and
//! `wait(timeout)`, as a server process that owns the flag.
//!
//! | Python                                   | csp                                                       |
//! |------------------------------------------|-----------------------------------------------------------|
//! | `ev = threading.Event()`                 | an `event` process owning `is_set`, requests on an any2one channel |
//! | `ev.set()` wakes every waiter            | `Set`: the server answers every queued `Wait` (a broadcast) |
//! | `ev.clear()`, `ev.is_set()`              | `Clear`, `IsSet(reply)`                                   |
//! | `ev.wait(timeout=0.05)` → `False`        | send `Wait(reply)`, then an alt: the reply, or a timeout guard |
//! | `await ev.wait()` (asyncio)              | the same request: a process blocked on its reply costs no thread when green |
//! | `threading.Barrier(n)`                    | `csp::Barrier` (not needed here)                          |
//!
//! Three waiters time out while nobody sets the event; three more are all released by
//! one `set`; after `clear`, a waiter times out again. No lock and no condition
//! variable: the flag has one owner, and a timed-out waiter cannot miss or steal a
//! wake-up, because its alt commits to exactly one of "reply" and "timeout".
//!
//! `cargo run --release --example event`

use std::time::Duration;

use csp::{Alt, Channel, Input, Output, Parallel, Process, SharedOutput};

enum Request {
    Set,
    Clear,
    IsSet(Output<bool>),
    Wait(Output<()>),
}

/// The event: the flag and the waiters parked on it.
fn event(requests: Input<Request>) -> Process<String> {
    Process::with_ends("event", requests, |requests| {
        let (mut is_set, mut waiting, mut woken) = (false, Vec::new(), 0);
        for request in &requests {
            match request {
                Request::Set => {
                    is_set = true;
                    for waiter in waiting.drain(..) {
                        // A waiter that timed out has dropped its reply: the write fails.
                        let waiter: Output<()> = waiter;
                        woken += usize::from(waiter.write(()).is_ok());
                    }
                }
                Request::Clear => is_set = false,
                Request::IsSet(reply) => {
                    let _ = reply.write(is_set);
                }
                Request::Wait(reply) if is_set => {
                    woken += usize::from(reply.write(()).is_ok());
                }
                Request::Wait(reply) => waiting.push(reply),
            }
        }
        Ok(format!("event: {woken} waits answered by a set"))
    })
}

/// `ev.wait(timeout)`: whether the event was set in time.
fn wait(ev: &SharedOutput<Request>, timeout: Duration) -> Result<bool, csp::BoxError> {
    let (reply, answer) = Channel::<()>::local().one2one();
    ev.write(Request::Wait(reply))
        .map_err(|e| e.into_parts().0)?;
    let set = Alt::new()
        .input(&answer, |()| true)
        .timeout(timeout, || false)
        .pri_select()?;
    Ok(set)
}

fn is_set(ev: &SharedOutput<Request>) -> Result<bool, csp::BoxError> {
    let (reply, answer) = Channel::<bool>::local().one2one();
    ev.write(Request::IsSet(reply))
        .map_err(|e| e.into_parts().0)?;
    Ok(answer.read()?)
}

/// `n` waiters at once, each `wait(timeout)`; how many saw the event set.
fn waiters(
    ev: &SharedOutput<Request>,
    n: usize,
    timeout: Duration,
) -> Result<usize, csp::BoxError> {
    let net: Parallel<bool> = (0..n)
        .map(|i| {
            let ev = ev.clone();
            Process::from_fn(format!("waiter{i}"), move || {
                wait(&ev, timeout).unwrap_or(false)
            })
        })
        .collect();
    Ok(net.run()?.into_iter().filter(|r| *r == Some(true)).count())
}

fn script(ev: SharedOutput<Request>) -> Process<String> {
    Process::with_ends("script", ev, |ev| {
        let send = |r| ev.write(r).map_err(|e| e.into_parts().0);
        let released = waiters(&ev, 3, Duration::from_millis(50))?;
        println!("nobody sets it: {released} of 3 waiters released, 3 timed out");

        let setter = {
            let ev = ev.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                ev.write(Request::Set).map_err(|e| e.into_parts().0)
            })
        };
        let released = waiters(&ev, 3, Duration::from_secs(10))?;
        setter.join().expect("the setter")?;
        println!(
            "one set: {released} of 3 waiters released, is_set={}",
            is_set(&ev)?
        );
        println!(
            "a wait on a set event: released={}",
            wait(&ev, Duration::from_secs(10))?
        );

        send(Request::Clear)?;
        let released = wait(&ev, Duration::from_millis(20))?;
        println!(
            "after clear: is_set={}, a waiter released={released}",
            is_set(&ev)?
        );
        Ok(String::new())
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (requests, served) = Channel::<Request>::local().named("event").any2one();
    let results = Parallel::new()
        .add(event(served))
        .add(script(requests))
        .run()?;
    println!("{}", results[0].as_deref().unwrap_or("event: stopped"));
    Ok(())
}
