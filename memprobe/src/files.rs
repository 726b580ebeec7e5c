//! Files memprobe writes: a safe file stem for any test path, and the two ways a file is
//! replaced (an atomic rename for baselines, an in-place rewrite for reports).

use std::path::Path;
use std::sync::Mutex;

/// A file stem safe on every platform for any test path: `::` becomes `.`; ASCII letters, digits,
/// `_`, `-` and `.` stay; anything else is escaped as `%XX` per UTF-8 byte (`%` itself included),
/// so distinct names give distinct stems. Names that Windows reserves (`con`, `nul`, ...) get a
/// leading `_`, and very long names are shortened with a hash of the whole name.
pub(crate) fn file_stem(name: &str) -> String {
    let mut stem = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("::") {
            stem.push('.');
            rest = after;
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' {
            stem.push(c);
        } else {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                stem.push_str(&format!("%{byte:02X}"));
            }
        }
        rest = &rest[c.len_utf8()..];
    }
    if stem.is_empty() || stem.starts_with('.') {
        stem.insert(0, '_');
    }
    let first = stem
        .split('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let reserved = matches!(first.as_str(), "con" | "prn" | "aux" | "nul")
        || (first.len() == 4
            && (first.starts_with("com") || first.starts_with("lpt"))
            && first.as_bytes()[3].is_ascii_digit());
    if reserved {
        stem.insert(0, '_');
    }
    // Most file systems allow 255 bytes per name; keep room for an extension and a temp suffix.
    const MAX: usize = 180;
    if stem.len() > MAX {
        // FNV-1a: stable across runs and platforms, unlike `DefaultHasher`.
        let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        stem.truncate(MAX - 17);
        stem.push_str(&format!("-{hash:016x}"));
    }
    stem
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so
/// readers see the old file or the new one, never a mix, even with concurrent writers.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(
        ".{file_name}.{}.{}.tmp",
        std::process::id(),
        NEXT.fetch_add(1, Relaxed)
    ));
    std::fs::write(&temp, bytes)?;
    std::fs::rename(&temp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })
}

/// Rewrites `path` in place: write from the start, then cut to length.
///
/// PERF: not through a temporary file and a rename, nor with `O_TRUNC`. On ext4 (the default
/// `auto_da_alloc`), replacing a file by rename or truncating it to zero starts writeback of its
/// data, which cost ~130 µs per report on the machine the `attribute_overhead` bench ran on,
/// against ~7 µs for this. Writers in this process take turns, so two runs of the same function
/// never interleave; a reader racing a writer can see a mixed file for those microseconds, so
/// reports are meant to be read once the run is over. (Baselines, written rarely and read by the
/// next run, go through a rename.)
pub(crate) fn overwrite(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    static WRITING: Mutex<()> = Mutex::new(());
    let _turn = WRITING.lock().unwrap_or_else(|p| p.into_inner());
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    file.write_all(bytes)?;
    file.set_len(bytes.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stems_are_safe_and_distinct() {
        assert_eq!(file_stem("exact::alloc_1k"), "exact.alloc_1k");
        assert_eq!(file_stem("a/b\\c:d"), "a%2Fb%5Cc%3Ad");
        assert_eq!(file_stem("über::x"), "%C3%BCber.x");
        assert_eq!(file_stem("con::x"), "_con.x");
        assert_eq!(file_stem("com1"), "_com1");
        assert_eq!(file_stem("console::x"), "console.x");
        assert_eq!(file_stem(""), "_");
        assert_ne!(file_stem("a%2F"), file_stem("a/"));
        let long = "m::".repeat(200);
        let (a, b) = (file_stem(&long), file_stem(&format!("{long}x")));
        assert!(a.len() <= 180 && b.len() <= 180 && a != b);
    }
}
