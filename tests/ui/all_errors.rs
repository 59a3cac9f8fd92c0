use csp::{process, Output};

// Every malformed argument and every problem of the signature is reported, each at its
// own token; the function is kept, so `main` compiles against it without a cascade.
#[process(name = 42, crate = 1 + 1, colour = "red")]
async fn greeter<'a>(name: &'a str, out: Output<String>) {
    let _ = out.write(name.to_string());
}

fn main() {
    let (out, _rx) = csp::Channel::<String>::new().one2one();
    let _future = greeter("x", out);
}
