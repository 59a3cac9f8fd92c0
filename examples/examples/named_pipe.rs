//! Python's named pipe (`os.mkfifo`) between two unrelated programs, as a typed csp
//! channel at a path: the receiver listens, the sender connects, and values, not bytes,
//! cross, with a rendezvous (each `write` returns once the receiver took the value).
//!
//! | Python                                            | csp                                                |
//! |---------------------------------------------------|----------------------------------------------------|
//! | `os.mkfifo(path)`; `open(path, 'r')`              | `let rx = named::listen::<Greeting>(&path)?;`      |
//! | `open(path, 'w').write('Hello, receiver!')`       | `named::connect::<Greeting>(&path)?.write(g)?`     |
//! | `msg = f.read()` until the writer closes          | a bridge process pumps `rx` into a channel of the network; its loop ends when the sender retires |
//! | leftover FIFO file after a crash                  | the socket file goes with the listener; a stale one is replaced |
//!
//! The example re-executes itself as the sender (`named_pipe --sender PATH`): two
//! programs that share nothing but the path. The receiver is a csp network: the
//! bridge from the named channel, and a printer.
//!
//! `cargo run --example named_pipe`

use std::process::Command;

use csp::net::{bridge, named};
use csp::{Channel, Parallel, Process};

/// What the sender sends: a typed value (a program connecting with another type is
/// refused with both type names).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Greeting {
    number: u32,
    text: String,
}

fn sender(path: &str) -> Result<(), csp::BoxError> {
    let tx = named::connect::<Greeting>(path)?;
    for (number, text) in (1..).zip(["Hello, receiver!", "How are you?", "Goodbye."]) {
        tx.write(Greeting {
            number,
            text: text.to_string(),
        })?; // returns once the receiver took it: nothing is lost if it dies later
    }
    Ok(()) // dropping `tx` retires the channel: the receiver's loop ends
}

fn receiver() -> Result<(), csp::BoxError> {
    let path = std::env::temp_dir().join(format!("csp-named-pipe-{}", std::process::id()));
    let from_sender = named::listen::<Greeting>(&path)?;
    println!("receiver: listening at {}", path.display());

    let mut other_program = Command::new(std::env::current_exe()?)
        .arg("--sender")
        .arg(&path)
        .spawn()?;

    let (tx, rx) = Channel::<Greeting>::new().named("greetings").one2one();
    let printer = Process::with_ends("printer", rx, |rx| {
        let mut count = 0;
        for g in &rx {
            println!("receiver got #{}: {}", g.number, g.text);
            count += 1;
        }
        Ok(count)
    });
    let results = Parallel::new()
        .add(bridge::pump_in("from-sender", from_sender, tx).map(|()| 0))
        .add(printer)
        .run();
    // Waited for whatever happened: the sender's end fails once ours is gone, so it
    // always exits, and no child is left behind.
    let status = other_program.wait()?;
    let results = results?;
    println!(
        "receiver: {} greetings, then the sender retired",
        results[1].unwrap_or(0)
    );
    println!(
        "sender exited: {}",
        if status.success() { "ok" } else { "failed" }
    );
    println!("socket file removed: {}", !path.exists());
    Ok(())
}

fn main() -> Result<(), csp::BoxError> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("--sender") => sender(args.get(2).ok_or("--sender needs a path")?),
        _ => receiver(),
    }
}
