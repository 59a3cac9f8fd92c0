use csp::process;

struct NotAnError;

#[process]
fn worker() -> Result<(), NotAnError> {
    Ok(())
}

fn main() {}
