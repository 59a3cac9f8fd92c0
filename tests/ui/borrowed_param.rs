use csp::{process, Output};

#[process]
fn greeter(name: &str, out: Output<String>) {
    let _ = out.write(name.to_string());
}

fn main() {}
