use csp::process;

struct Borrowing<'a>(std::marker::PhantomData<&'a ()>);

#[process]
fn holder<'a>(b: Borrowing<'a>) {
    let _ = b;
}

fn main() {}
