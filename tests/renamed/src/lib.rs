//! A crate that depends on `csp` under another name: the macros must find it as
//! `my_csp` (there is no `csp` here), and honour an explicit `crate = path`.

use my_csp::{process, Ends, Input, Output};

/// A derived bundle: its expansion names the crate.
#[derive(Ends)]
pub struct Link<T> {
    /// Where values come from.
    pub input: Input<T>,
    /// Where they go.
    pub output: Output<T>,
}

/// Forwards every value of `link.input` to `link.output`.
#[process]
pub fn forward(link: Link<u32>) -> Result<u32, my_csp::WriteError<u32>> {
    let mut n = 0;
    for v in &link.input {
        link.output.write(v)?;
        n += 1;
    }
    Ok(n)
}

/// The same crate reached through a re-export, given explicitly.
pub mod facade {
    pub use my_csp as runtime;
}

/// Counts what it reads.
#[process(crate = crate::facade::runtime)]
pub fn count(input: Input<u32>) -> usize {
    input.into_iter().count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use my_csp::{Channel, Parallel};

    #[test]
    fn processes_run_under_the_renamed_crate() {
        let (tx, input) = Channel::<u32>::new().fifo(4).one2one();
        let (output, rx) = Channel::<u32>::new().one2one();
        for v in 0..3 {
            tx.write(v).unwrap();
        }
        drop(tx);
        let fwd = forward(Link { input, output });
        assert_eq!(fwd.ends().len(), 2);
        let results = Parallel::new()
            .add(fwd.map(|n| n as usize))
            .add(count(rx))
            .run()
            .unwrap();
        assert_eq!(results, vec![Some(3), Some(3)]);
    }
}
