// A one2one channel has exactly one writer: its end cannot be cloned.
fn main() {
    let (tx, rx) = csp::Channel::<u8>::new().one2one();
    let second = tx.clone();
    drop((tx, rx, second));
}
