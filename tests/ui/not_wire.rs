// `Channel::new()` needs values that can cross OS processes; the error says so and
// points to `Channel::local()`.
struct Job;

fn main() {
    let _ = csp::Channel::<Job>::new();
}
