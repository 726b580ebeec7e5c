//! `memprobe-daemon`: samples a process over time. The `watch` command lands with its own issue.
#![forbid(unsafe_code)]

fn main() {
    eprintln!("memprobe-daemon: the `watch` command is not built yet");
    std::process::exit(2);
}
