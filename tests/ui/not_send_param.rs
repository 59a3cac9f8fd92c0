use csp::{process, Output};
use std::rc::Rc;

#[process]
fn shares(counter: Rc<u8>, out: Output<u8>) {
    let _ = out.write(*counter);
}

fn main() {}
