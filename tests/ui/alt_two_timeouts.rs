use std::time::Duration;

use csp::{alt, Channel};

fn main() {
    let (_tx, rx) = Channel::<u8>::new().one2one();
    let _ = alt! {
        recv(rx) -> v => Some(v),
        after(Duration::from_millis(1)) => None,
        after(Duration::from_millis(2)) => None,
    };
}
