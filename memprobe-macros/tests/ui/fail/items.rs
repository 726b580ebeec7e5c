use memprobe::memprobe;

#[memprobe(max_allocs = 0)]
struct NotAFunction;

#[memprobe]
fn takes_arguments(_input: &str, _n: usize) {}

#[memprobe(max_alocs = 0)]
const fn constant() {}

struct Job;

impl Job {
    #[memprobe]
    fn method(&self) {}
}

fn main() {}
