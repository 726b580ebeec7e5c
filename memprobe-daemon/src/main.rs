//! `memprobe-daemon`: thin `main` mapping [`memprobe_daemon::run`]'s result to the documented exit
//! codes: 0 pass, 1 growth (or fragmentation), 2 usage or runtime error, 3 inconclusive.
#![forbid(unsafe_code)]

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match memprobe_daemon::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print to stdout and exit 0; usage errors exit 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match memprobe_daemon::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let message = format!("{e:#}");
            // Library errors already say `memprobe: ...`; one prefix is enough.
            let message = message.strip_prefix("memprobe: ").unwrap_or(&message);
            eprintln!("memprobe-daemon: {message}");
            ExitCode::from(2)
        }
    }
}
