use csp::Ends;

#[derive(Ends)]
union Bits {
    a: u32,
    b: f32,
}

fn main() {}
