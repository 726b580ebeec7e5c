//! The readers of memprobe's own file formats as pure functions of their text, for the fuzz
//! targets in `fuzz/` and the property tests: used by those, not public API.
//!
//! The readers themselves live where a reader looks for them (`memprobe.toml` in `config`,
//! baselines in `baseline`); this module only routes to them.

use std::path::Path;

/// Checks the text of a `memprobe.toml`; the number of `[[test]]` entries.
///
/// # Errors
///
/// The error the tests of a crate with this file would report.
///
/// # Examples
///
/// ```
/// use memprobe::__readers::memprobe_toml;
/// assert_eq!(memprobe_toml("[[test]]\nname = \"a\"\nmax_bytes = \"1 KiB\"\n")?, 1);
/// assert!(memprobe_toml("[[test]]\nname = \"a\"\nmax_bytes = \"lots\"\n").is_err());
/// # Ok::<(), memprobe::Error>(())
/// ```
pub fn memprobe_toml(text: &str) -> crate::Result<usize> {
    crate::config::parse(text, Path::new("memprobe.toml")).map(|entries| entries.len())
}

/// Checks the text of baseline `name`'s file.
///
/// # Errors
///
/// The error [`Baselines::load`](crate::baseline::Baselines::load) would return for a file
/// with this text.
///
/// # Examples
///
/// ```
/// use memprobe::__readers::baseline;
/// let text = "format = 1\nname = \"a\"\niterations = 2\nallocations = 4\nalloc_bytes = 64\npeak_bytes = 32\n";
/// assert_eq!(baseline(text, "a")?.iterations, 2);
/// assert!(baseline(text, "b").is_err());
/// # Ok::<(), memprobe::Error>(())
/// ```
pub fn baseline(text: &str, name: &str) -> crate::Result<crate::baseline::Baseline> {
    crate::baseline::parse(text, name, Path::new("baseline.toml"))
}
