use csp::process;

#[process]
struct Worker;

fn main() {}
