//! `memprobe-daemon`: thin `main` over [`memprobe_daemon::main_with_args`], which maps the result
//! to the documented exit codes: 0 pass, 1 growth (or fragmentation), 2 usage or runtime error, 3
//! inconclusive.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    memprobe_daemon::main_with_args("memprobe-daemon", std::env::args_os())
}
