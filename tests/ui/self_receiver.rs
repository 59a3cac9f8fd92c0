use csp::{process, Input};

struct Server;

impl Server {
    #[process]
    fn serve(self, input: Input<u8>) {
        let _ = input.read();
    }
}

fn main() {}
