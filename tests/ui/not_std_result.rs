use csp::process;

// A return type spelled `Result` must be a `std::result::Result`.
struct Result<T>(T);

#[process]
fn worker() -> Result<u8> {
    Result(1)
}

fn main() {}
