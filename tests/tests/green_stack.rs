//! Green processes' stacks: a size per process, size classes shared, sizes out of
//! bounds refused naming the process. (The overflow report is `green_overflow.rs`.)

use csp::{NetworkError, Parallel, Process};
use csp_tests::watchdog;

/// Recurses `n` levels, about 1 KiB of stack each.
fn depth(n: u32) -> u32 {
    let pad = std::hint::black_box([n as u8; 1024]);
    if n == 0 {
        0
    } else {
        depth(n - 1) + 1 + u32::from(pad[1] != n as u8)
    }
}

/// A process with a stack of its own recurses deeper than the network's default
/// allows, beside processes on the default stack.
#[test]
fn a_process_with_its_own_large_stack_recurses_deeper_than_the_default() {
    let results = watchdog(60, "own stack", || {
        Parallel::new()
            // ~1 MiB of frames: 16 times the 64 KiB default.
            .add(Process::from_fn("deep", || depth(1000)).green_stack(2 << 20))
            .add(Process::from_fn("shallow", || depth(10)))
            .add(Process::from_fn("shallow", || depth(20)))
            .green()
            .green_workers(1)
            .run()
            .unwrap()
    });
    assert_eq!(results, vec![Some(1000), Some(10), Some(20)]);
}

/// Many processes of mixed stack sizes, started and ended in waves on two workers:
/// every one runs on a stack of its class, and the pools' reuse loses none.
#[test]
fn processes_of_mixed_stack_sizes_share_pools_by_size_class() {
    let results = watchdog(120, "mixed stacks", || {
        let mut net = Parallel::new();
        for i in 0..3000u32 {
            let p = Process::from_fn("p", move || depth(i % 40));
            net.push(match i % 3 {
                0 => p.green(),
                1 => p.green_stack(100 * 1024),
                _ => p.green_stack(1 << 20),
            });
        }
        net.green_workers(2).run().unwrap()
    });
    let expected: Vec<_> = (0..3000).map(|i| Some(i % 40)).collect();
    assert_eq!(results, expected);
}

#[test]
fn stack_sizes_out_of_bounds_are_refused_naming_the_process() {
    let too_small = Parallel::new()
        .add(Process::from_fn("tiny", || 0).green_stack(4096))
        .add(Process::from_fn("fine", || 0).green())
        .run()
        .unwrap_err();
    let absurd = Parallel::new()
        .add(Process::from_fn("huge", || 0).green_stack(1 << 40))
        .run()
        .unwrap_err();
    // The network's default is checked for each green process that uses it.
    let default = Parallel::new()
        .add(Process::from_fn("a", || 0))
        .add(Process::from_fn("b", || 0))
        .add(Process::from_fn("own", || 0).green_stack(64 * 1024))
        .green()
        .green_stack(100)
        .run()
        .unwrap_err();
    for (err, names, what) in [
        (&too_small, vec!["tiny"], "below the minimum"),
        (&absurd, vec!["huge"], "above the maximum"),
        (&default, vec!["a", "b"], "below the minimum"),
    ] {
        let NetworkError::Invalid(report) = err else {
            panic!("{err}")
        };
        let errors = report.errors();
        assert_eq!(errors.len(), names.len(), "{report}");
        for (problem, name) in errors.iter().zip(names) {
            assert_eq!(problem.kind, csp::topology::ProblemKind::GreenStack);
            assert_eq!(problem.processes, vec![name.to_string()]);
            assert!(problem.message.contains(what), "{}", problem.message);
        }
    }
    // A thread process's stack is not the green executor's business.
    let fine = Parallel::new()
        .add(Process::from_fn("t", || 1))
        .green_stack(100);
    assert!(fine.validate().is_ok());
}
