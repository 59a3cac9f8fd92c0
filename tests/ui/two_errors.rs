use csp::{process, Output};

// Both problems are reported at once, each at its own token.
#[process]
async fn greeter(name: &str, out: Output<String>) {
    let _ = out.write(name.to_string());
}

fn main() {}
