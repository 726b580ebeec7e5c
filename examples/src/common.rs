//! What every example binary shares: a tiny `--flag value` parser (std only, so the examples stay
//! free of a CLI dependency) and the exit-code mapping, under which a closed stdout (`| head`) is
//! not an error.
//!
//! Each binary declares `mod common;`; the file is not a target of its own.

use std::error::Error;
use std::io::{self, Write};
use std::process::ExitCode;
use std::str::FromStr;

/// What a binary's `run` returns.
pub type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// Exit code for a usage or runtime error, the same as `memprobe-daemon`'s.
pub const EXIT_ERROR: u8 = 2;

/// The command line after the program name, consumed flag by flag.
pub struct Args {
    program: &'static str,
    usage: &'static str,
    rest: Vec<String>,
}

impl Args {
    /// The process's arguments. `usage` is printed for `--help` and after every usage error.
    pub fn from_env(program: &'static str, usage: &'static str) -> Self {
        Args {
            program,
            usage,
            rest: std::env::args().skip(1).collect(),
        }
    }

    /// Whether `--help` or `-h` was given (removing them).
    pub fn wants_help(&mut self) -> bool {
        let long = self.switch("--help");
        self.switch("-h") || long
    }

    /// Removes every `flag` that takes no value; `true` when there was one.
    pub fn switch(&mut self, flag: &str) -> bool {
        let before = self.rest.len();
        self.rest.retain(|a| a != flag);
        self.rest.len() != before
    }

    /// Prints the usage line to stdout.
    ///
    /// # Errors
    ///
    /// Writing to stdout failed.
    pub fn print_help(&self) -> Result<()> {
        writeln!(io::stdout(), "usage: {} {}", self.program, self.usage)?;
        Ok(())
    }

    /// Removes `flag VALUE` (or `flag=VALUE`) and parses the value; `None` when absent.
    ///
    /// # Errors
    ///
    /// A usage error naming the flag when it is repeated, has no value, or does not parse.
    pub fn value<T>(&mut self, flag: &str) -> Result<Option<T>>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        let prefix = format!("{flag}=");
        let mut found: Option<String> = None;
        let mut i = 0;
        while i < self.rest.len() {
            let raw = if self.rest[i] == flag {
                if i + 1 == self.rest.len() {
                    return Err(self.usage_error(format!("{flag} needs a value")));
                }
                let value = self.rest.remove(i + 1);
                self.rest.remove(i);
                value
            } else if let Some(value) = self.rest[i].strip_prefix(&prefix) {
                let value = value.to_owned();
                self.rest.remove(i);
                value
            } else {
                i += 1;
                continue;
            };
            if found.is_some() {
                return Err(self.usage_error(format!("{flag} given twice")));
            }
            found = Some(raw);
        }
        found
            .map(|raw| {
                raw.parse::<T>()
                    .map_err(|e| self.usage_error(format!("{flag} {raw:?}: {e}")))
            })
            .transpose()
    }

    /// Fails on anything not consumed by [`value`](Self::value).
    ///
    /// # Errors
    ///
    /// A usage error naming the first unexpected argument.
    pub fn finish(self) -> Result<()> {
        match self.rest.first() {
            None => Ok(()),
            Some(extra) => Err(self.usage_error(format!("unexpected argument {extra:?}"))),
        }
    }

    /// A usage error: the problem, then the usage line.
    pub fn usage_error(&self, problem: String) -> Box<dyn Error> {
        format!("{problem}\nusage: {} {}", self.program, self.usage).into()
    }
}

/// Maps `run`'s result to an exit code: `Ok(code)` as is, a broken pipe on stdout as success,
/// anything else as one line on stderr and [`EXIT_ERROR`].
pub fn exit(program: &str, result: Result<u8>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&*e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{program}: {e}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn is_broken_pipe(e: &(dyn Error + 'static)) -> bool {
    e.downcast_ref::<io::Error>()
        .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
}
