use csp::{process, Input};

#[process]
async fn reader(input: Input<u8>) {
    let _ = input.read();
}

fn main() {}
