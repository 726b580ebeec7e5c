//! Replays the committed fuzz inputs (`fuzz/corpus/<target>/` and `fuzz/regressions/<target>/`)
//! through what each target calls, in the ordinary test suites, so a fresh machine without
//! nightly or cargo-fuzz still checks every input that once crashed a parser. Included by the
//! `readers` tests of `memprobe` and `memprobe-daemon` with `#[path]`.

use std::path::{Path, PathBuf};

/// A fuzz target's name and what it calls with each input.
pub type Feed = (&'static str, fn(&[u8]));

/// The committed inputs of fuzz target `target`: its corpus and every input that once crashed it.
pub fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut inputs = Vec::new();
    for kind in ["corpus", "regressions"] {
        let Ok(dir) = std::fs::read_dir(fuzz.join(kind).join(target)) else {
            continue;
        };
        for entry in dir {
            let path = entry.unwrap().path();
            inputs.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    inputs
}

/// Feeds every committed input of each target to its feed; a panic names the file. Returns how
/// many inputs were fed.
pub fn feed_all(targets: &[Feed]) -> usize {
    let mut fed = 0;
    for (target, feed) in targets {
        for (path, bytes) in inputs(target) {
            let outcome = std::panic::catch_unwind(|| feed(&bytes));
            assert!(outcome.is_ok(), "{}: panicked", path.display());
            fed += 1;
        }
    }
    fed
}
