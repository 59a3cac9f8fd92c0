//! A green process that overflows its stack: the program dies by `SIGSEGV`, and stderr
//! names the process and its stack size first. A fault that is not a green overflow
//! goes on to the handler installed before (std's, which names a thread that overflows)
//! or to the default action.
//!
//! Each case re-executes this binary as a child that crashes (the parent must survive
//! it), so this is a `harness = false` test; `CSP_OVERFLOW_CASE=text` runs only the cases
//! whose name contains `text`.

use std::os::unix::process::ExitStatusExt;
use std::process::Command;

use csp::{Parallel, Process};

/// Set in a child: which crash to stage.
const CHILD: &str = "CSP_OVERFLOW_CHILD";

const CASES: &[(&str, fn())] = &[
    ("an_overflowing_green_process_is_named", overflow_is_named),
    (
        "a_large_own_stack_is_reported_with_its_size",
        own_stack_size_is_reported,
    ),
    (
        "a_wild_pointer_in_a_green_process_is_a_plain_segfault",
        wild_pointer_is_not_overflow,
    ),
    (
        "a_thread_overflow_still_reaches_std_handler",
        thread_overflow_is_chained_to_std,
    ),
];

fn main() {
    if let Ok(child) = std::env::var(CHILD) {
        return stage(&child);
    }
    csp_tests::run_cases("CSP_OVERFLOW_CASE", CASES);
}

/// Recurses without end, with a frame the optimiser cannot remove.
#[allow(unconditional_recursion)]
fn recurse(n: u64) -> u64 {
    let pad = std::hint::black_box([n as u8; 256]);
    recurse(n + 1) + u64::from(pad[7])
}

/// The crash of child `which`; returns only if it did not crash.
fn stage(which: &str) {
    match which {
        "deep" => {
            // Other green processes on the same worker: the report names the right one.
            let _ = Parallel::new()
                .add(Process::from_fn("calm", || 0))
                .add(Process::from_fn("deep", || recurse(0)))
                .add(Process::from_fn("calm too", || 0))
                .green()
                .green_workers(1)
                .run();
        }
        "own" => {
            let _ = Parallel::new()
                .add(Process::from_fn("roomy", || recurse(0)).green_stack(300 * 1024))
                .run();
        }
        "wild" => {
            let _ = Parallel::new()
                .add(Process::from_fn("wild", || {
                    // SAFETY: deliberately unsound: this child exists to fault reading address
                    // 16, and dies there; nothing after the read runs.
                    unsafe { std::ptr::read_volatile(std::hint::black_box(16usize) as *const u64) }
                }))
                .green()
                .run();
        }
        "thread" => {
            // The handler is installed by this green network; afterwards a thread
            // overflows its own stack: std's handler must still report it.
            Parallel::new()
                .add(Process::from_fn("first", || 0))
                .green()
                .run()
                .unwrap();
            std::thread::Builder::new()
                .name("plain thread".into())
                .stack_size(256 * 1024)
                .spawn(|| recurse(0))
                .unwrap()
                .join()
                .unwrap();
        }
        other => panic!("unknown child {other}"),
    }
    eprintln!("child {which} did not crash");
    std::process::exit(3);
}

/// Runs child `which`; its terminating signal and its stderr.
fn crash(which: &str) -> (Option<i32>, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .env(CHILD, which)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.signal(), stderr)
}

fn overflow_is_named() {
    let (signal, stderr) = crash("deep");
    assert_eq!(signal, Some(libc::SIGSEGV), "{stderr}");
    assert!(
        stderr.contains("csp: green process `deep` overflowed its stack of 64 KiB"),
        "{stderr}"
    );
    assert!(!stderr.contains("calm"), "{stderr}");
}

fn own_stack_size_is_reported() {
    let (signal, stderr) = crash("own");
    assert_eq!(signal, Some(libc::SIGSEGV), "{stderr}");
    // 300 KiB asked, the 512 KiB size class given.
    assert!(
        stderr.contains("csp: green process `roomy` overflowed its stack of 512 KiB"),
        "{stderr}"
    );
}

fn wild_pointer_is_not_overflow() {
    let (signal, stderr) = crash("wild");
    assert_eq!(signal, Some(libc::SIGSEGV), "{stderr}");
    assert!(!stderr.contains("overflowed"), "{stderr}");
}

fn thread_overflow_is_chained_to_std() {
    let (signal, stderr) = crash("thread");
    // std reports the overflow of a thread's own stack and aborts.
    assert_eq!(signal, Some(libc::SIGABRT), "{stderr}");
    // (Newer std puts the thread id between the name and the words.)
    assert!(stderr.contains("thread 'plain thread'"), "{stderr}");
    assert!(stderr.contains("has overflowed its stack"), "{stderr}");
    assert!(!stderr.contains("csp: green process"), "{stderr}");
}
