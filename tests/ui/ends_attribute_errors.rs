use csp::{Ends, Input};

// Both misplaced attributes are reported; the fallback impl keeps `Ends` implemented.
#[derive(Ends)]
#[ends(skip)]
struct Pair {
    #[ends(crate = csp)]
    input: Input<u8>,
}

fn needs_ends<E: Ends>(_: &E) {}

fn main() {
    let (_tx, input) = csp::Channel::<u8>::new().one2one();
    needs_ends(&Pair { input });
}
