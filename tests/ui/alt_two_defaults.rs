use csp::{alt, Channel};

fn main() {
    let (_tx, rx) = Channel::<u8>::new().one2one();
    let _ = alt! {
        recv(rx) -> v => Some(v),
        default => None,
        default => None,
    };
}
