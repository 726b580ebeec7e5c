//! `cargo memprobe`: the cargo front of `memprobe-daemon`, for the cargo convention
//! (`cargo memprobe compare main-reports target/memprobe`). Cargo runs `cargo-memprobe memprobe
//! ARGS...`; the `memprobe` it inserts is dropped and the rest is exactly `memprobe-daemon ARGS...`,
//! the same code and exit codes.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // Run as `cargo memprobe ...` cargo passes the subcommand's name first; run directly
    // (`cargo-memprobe compare ...`) it does not.
    if args.get(1).is_some_and(|a| a == "memprobe") {
        args.remove(1);
    }
    memprobe_daemon::main_with_args("cargo memprobe", args)
}
