use csp::process;

#[process]
unsafe fn raw() {}

fn main() {}
