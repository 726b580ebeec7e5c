//! `memprobe.toml`: the per-crate file of checks applied to measured functions by glob, its
//! schema, its loader (read and checked once per process) and the glob matcher.
//!
//! Optional, next to the crate's `Cargo.toml`:
//!
//! ```toml
//! [[test]]
//! name = "parser::*"      # glob over test paths as `cargo test` prints them: `*` any run, `?` one character
//! max_allocs = 0
//! max_bytes = "64 KiB"    # sizes as strings or integers, as in the attribute
//! fail_if_growth = "10%"
//! rss_noise = "4 MiB"     # compare RSS growth with the baseline too, allowing this much noise
//!
//! [[test]]
//! name = "*"
//! purge = true
//! ```
//!
//! Every entry whose glob matches applies, in file order (a later entry overrides an earlier one
//! field by field); what the attribute says wins over all of them. Keys: `name`, `max_allocs`,
//! `max_bytes`, `max_peak`, `max_net`, `max_rss_growth`, `fail_if_growth`, `rss_noise`, `purge`.

use crate::baseline::Policy;
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::units::{Growth, parse_bytes};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The checks a run applies: memprobe.toml entries, then the attribute.
#[derive(Debug, Default)]
pub(crate) struct Settings {
    pub(crate) limits: Limits,
    pub(crate) fail_if_growth: Option<String>,
    pub(crate) rss_noise: Option<u64>,
    pub(crate) purge: bool,
}

impl Settings {
    /// The settings of the test at `path` from the memprobe.toml of the crate at `manifest_dir`
    /// (none without a directory or a file).
    ///
    /// # Errors
    ///
    /// The file's [`Error::ConfigRead`], [`Error::ConfigSyntax`] or [`Error::ConfigValue`],
    /// shared by every test of the crate.
    pub(crate) fn from_file(
        manifest_dir: Option<&Path>,
        path: &str,
    ) -> Result<Settings, &'static Error> {
        let mut s = Settings::default();
        if let Some(dir) = manifest_dir {
            let entries = load_cached(dir).as_ref()?;
            for entry in entries.iter().filter(|e| glob(&e.name, path)) {
                entry.apply(&mut s);
            }
        }
        Ok(s)
    }
}

/// One `[[test]]` entry of memprobe.toml, checked.
#[derive(Debug)]
pub(crate) struct Entry {
    name: String,
    max_allocs: Option<u64>,
    max_bytes: Option<u64>,
    max_peak: Option<u64>,
    max_net: Option<u64>,
    max_rss_growth: Option<Growth>,
    fail_if_growth: Option<String>,
    rss_noise: Option<u64>,
    purge: Option<bool>,
}

impl Entry {
    fn apply(&self, s: &mut Settings) {
        let l = &mut s.limits;
        l.max_allocs = self.max_allocs.or(l.max_allocs);
        l.max_bytes = self.max_bytes.or(l.max_bytes);
        l.max_peak = self.max_peak.or(l.max_peak);
        l.max_net = self.max_net.or(l.max_net);
        l.max_rss_growth = self.max_rss_growth.or(l.max_rss_growth);
        if let Some(g) = &self.fail_if_growth {
            s.fail_if_growth = Some(g.clone());
        }
        s.rss_noise = self.rss_noise.or(s.rss_noise);
        s.purge = self.purge.unwrap_or(s.purge);
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    test: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    name: String,
    max_allocs: Option<u64>,
    max_bytes: Option<Size>,
    max_peak: Option<Size>,
    max_net: Option<Size>,
    max_rss_growth: Option<Size>,
    fail_if_growth: Option<String>,
    rss_noise: Option<Size>,
    purge: Option<bool>,
}

/// A size as a string (`"64 KiB"`) or an integer of bytes. TOML integers are signed: a negative
/// one is read as such so the size grammar can say "negative" instead of serde's "did not match
/// any variant".
#[derive(Deserialize)]
#[serde(untagged)]
enum Size {
    Bytes(i64),
    Text(String),
}

impl Size {
    fn text(&self) -> String {
        match self {
            Size::Bytes(n) => n.to_string(),
            Size::Text(s) => s.clone(),
        }
    }
}

/// A crate's memprobe.toml as loaded: its entries, or the error every test of the crate reports.
type Loaded = &'static Result<Vec<Entry>>;

/// memprobe.toml of the crate at `manifest_dir`, read and checked once per process. Kept for the
/// life of the process (one per crate with measured functions), so every test borrows it.
fn load_cached(manifest_dir: &Path) -> Loaded {
    static CACHE: Mutex<Vec<(PathBuf, Loaded)>> = Mutex::new(Vec::new());
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, c)) = cache.iter().find(|(dir, _)| dir == manifest_dir) {
        return c;
    }
    let c: Loaded = Box::leak(Box::new(load(&manifest_dir.join("memprobe.toml"))));
    cache.push((manifest_dir.to_path_buf(), c));
    c
}

/// Reads and checks the memprobe.toml at `path`; no file is no entries.
fn load(path: &Path) -> Result<Vec<Entry>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(Error::ConfigRead {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    parse(&text, path)
}

/// Checks the text of a memprobe.toml (`path` only names it in errors): a pure function of the
/// text that never panics.
pub(crate) fn parse(text: &str, path: &Path) -> Result<Vec<Entry>> {
    let file: ConfigFile = toml::from_str(text).map_err(|e| Error::ConfigSyntax {
        path: path.to_path_buf(),
        problem: e.to_string().trim_end().to_owned(),
    })?;
    file.test
        .into_iter()
        .enumerate()
        .map(|(i, raw)| {
            let at = |key: &'static str, e: Error| Error::ConfigValue {
                path: path.to_path_buf(),
                entry: i + 1,
                name: raw.name.clone(),
                key,
                source: Box::new(e),
            };
            let size = |key, v: &Option<Size>| {
                v.as_ref()
                    .map(|v| parse_bytes(&v.text()).map_err(|e| at(key, e)))
                    .transpose()
            };
            let max_rss_growth = raw
                .max_rss_growth
                .as_ref()
                .map(|v| {
                    v.text()
                        .parse::<Growth>()
                        .map_err(|e| at("max_rss_growth", e))
                })
                .transpose()?;
            if let Some(g) = &raw.fail_if_growth {
                Policy::new(g).map_err(|e| at("fail_if_growth", e))?;
            }
            Ok(Entry {
                max_allocs: raw.max_allocs,
                max_bytes: size("max_bytes", &raw.max_bytes)?,
                max_peak: size("max_peak", &raw.max_peak)?,
                max_net: size("max_net", &raw.max_net)?,
                max_rss_growth,
                fail_if_growth: raw.fail_if_growth.clone(),
                rss_noise: size("rss_noise", &raw.rss_noise)?,
                purge: raw.purge,
                name: raw.name,
            })
        })
        .collect()
}

/// `*` matches any run of characters (`::` included), `?` exactly one.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was, and where in `text` it started matching: backtrack there.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("*", "anything::at::all"));
        assert!(glob("parser::*", "parser::header::small"));
        assert!(!glob("parser::*", "lexer::parser::x"));
        assert!(glob("*::small_?", "a::b::small_1"));
        assert!(!glob("*::small_?", "a::b::small_12"));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b*c", "axxbyy"));
        assert!(glob("exact", "exact"));
        assert!(!glob("exact", "exactly"));
    }

    #[test]
    fn entries_are_checked_with_their_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("memprobe.toml");
        std::fs::write(&path, "[[test]]\nname = \"a::*\"\nmax_bytes = 1024\nmax_peak = \"2 KiB\"\nfail_if_growth = \"5%\"\n").unwrap();
        let entries = load(&path).unwrap();
        assert_eq!(
            (entries[0].max_bytes, entries[0].max_peak),
            (Some(1024), Some(2048))
        );
        assert!(load(&dir.path().join("none.toml")).unwrap().is_empty());
    }

    #[test]
    fn a_bad_value_names_the_file_the_entry_and_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("memprobe.toml");
        std::fs::write(
            &path,
            "[[test]]\nname = \"*\"\n\n[[test]]\nname = \"x\"\nmax_bytes = \"12 KBB\"\n",
        )
        .unwrap();
        let e = load(&path).unwrap_err();
        assert!(
            matches!(&e, Error::ConfigValue { path: p, entry: 2, name, key: "max_bytes", source }
                if *p == path && name == "x" && matches!(**source, Error::InvalidSize { .. })),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            format!(
                "memprobe: {}: [[test]] entry 2 (name = \"x\"): max_bytes: memprobe: invalid size \"12 KBB\": unknown unit `KBB`; expected a byte count with an optional unit, e.g. `0`, `512`, `64 KiB`, `1.5MB`, `2 GiB` (B; KB, MB, GB, TB = 1000^n; KiB, MiB, GiB, TiB = 1024^n; see memprobe::units)",
                path.display()
            )
        );
        std::fs::write(
            &path,
            "[[test]]\nname = \"y\"\nfail_if_growth = \"10 KiB\"\n",
        )
        .unwrap();
        let e = load(&path).unwrap_err();
        assert!(
            matches!(
                &e,
                Error::ConfigValue {
                    entry: 1,
                    key: "fail_if_growth",
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(
            e.to_string().starts_with(&format!(
                "memprobe: {}: [[test]] entry 1 (name = \"y\"): fail_if_growth: memprobe: ",
                path.display()
            )),
            "{e}"
        );
    }

    /// memprobe.toml reads sizes and thresholds by the one grammar of `memprobe::units`.
    #[test]
    fn sizes_and_thresholds_follow_the_units_grammar() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("memprobe.toml");
        let error = |entry: &str| {
            std::fs::write(&path, format!("[[test]]\nname = \"x\"\n{entry}\n")).unwrap();
            load(&path).unwrap_err().to_string()
        };
        let e = error("max_bytes = -1");
        assert!(
            e.contains("max_bytes: memprobe: invalid size \"-1\": it is negative"),
            "{e}"
        );
        let e = error("max_bytes = \"10%\"");
        assert!(
            e.contains("a percentage is only accepted by growth limits"),
            "{e}"
        );
        let e = error("max_peak = \"99999999999 GiB\"");
        assert!(e.contains("too large"), "{e}");
        let e = error("max_rss_growth = \"5\"");
        assert!(e.contains("write `5%` (relative) or `5B` (bytes)"), "{e}");
        let e = error("max_rss_growth = 5");
        assert!(e.contains("write `5%` (relative) or `5B` (bytes)"), "{e}");
        let e = error("fail_if_growth = \"5\"");
        assert!(
            e.contains("fail_if_growth") && e.contains("write `5%`"),
            "{e}"
        );
        std::fs::write(
            &path,
            "[[test]]\nname = \"x\"\nmax_rss_growth = \"5B\"\nmax_bytes = 0\n",
        )
        .unwrap();
        let entries = load(&path).unwrap();
        assert_eq!(entries[0].max_rss_growth, Some(Growth::Bytes(5)));
        assert_eq!(entries[0].max_bytes, Some(0));
    }

    #[test]
    fn an_unknown_key_is_a_syntax_error_naming_the_file_and_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("memprobe.toml");
        std::fs::write(&path, "[[test]]\nname = \"x\"\nmax_alocs = 1\n").unwrap();
        let e = load(&path).unwrap_err();
        assert!(
            matches!(&e, Error::ConfigSyntax { path: p, .. } if *p == path),
            "{e:?}"
        );
        let text = e.to_string();
        assert!(
            text.starts_with(&format!(
                "memprobe: {} is not a valid memprobe.toml: ",
                path.display()
            )) && text.contains("max_alocs"),
            "{text}"
        );
    }

    #[test]
    fn an_unreadable_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be: it exists but cannot be read as text.
        let path = dir.path().join("memprobe.toml");
        std::fs::create_dir(&path).unwrap();
        let e = load(&path).unwrap_err();
        assert!(
            matches!(&e, Error::ConfigRead { path: p, .. } if *p == path),
            "{e:?}"
        );
        assert!(
            e.to_string()
                .starts_with(&format!("memprobe: cannot read {}: ", path.display())),
            "{e}"
        );
    }
}
