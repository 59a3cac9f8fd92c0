use csp::{process, Output};

#[process]
fn numbers(items: impl Iterator<Item = u8> + Send + 'static, out: Output<u8>) {
    for i in items {
        let _ = out.write(i);
    }
}

fn main() {}
