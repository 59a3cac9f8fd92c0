use csp::process;

#[process(name = "ok", modle = "typo")]
fn worker() {}

#[process(name = 42)]
fn other() {}

fn main() {}
