use csp::{process, Ends, Input};

// `label: T` makes the derived impl require `T: Ends`; with `T = u64` the struct holds an
// end that would go unrecorded, so using it as a process parameter is refused (the fix is
// `#[ends(skip)]` on `label`).
#[derive(Ends)]
struct Tagged<T> {
    input: Input<u8>,
    label: T,
}

#[process]
fn worker(tagged: Tagged<u64>) -> u64 {
    drop(tagged.input);
    tagged.label
}

fn main() {}
