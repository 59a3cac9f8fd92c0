use csp::{process, Output};

// `&'static str` is fine (it lives forever); the borrow inside `Option` is not.
#[process]
fn words(list: Vec<&'static str>, extra: Option<&String>, out: Output<String>) {
    let _ = (list, extra, out);
}

fn main() {}
