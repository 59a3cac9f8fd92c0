use csp::process;

// `crate = path` is used as given: here it names nothing.
#[process(crate = nowhere::csp)]
fn worker() {}

fn main() {}
