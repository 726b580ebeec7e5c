//! Where reports go: one directory per process, computed once (criterion's
//! `default_output_directory`), and the report file of a measured function inside it.

use crate::files::file_stem;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Where reports go: `$MEMPROBE_HOME`, else `$CARGO_TARGET_DIR/memprobe`, else the target
/// directory this test binary was built in (found from the executable's path), else
/// `<workspace root>/target/memprobe`. Computed once per process.
pub fn report_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(home) = std::env::var_os("MEMPROBE_HOME").filter(|h| !h.is_empty()) {
            return PathBuf::from(home);
        }
        // A relative CARGO_TARGET_DIR is relative to where cargo was started, which the test
        // process does not know; the executable's own location is better then.
        if let Some(target) = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .filter(|t| t.is_absolute())
        {
            return target.join("memprobe");
        }
        if let Some(target) = target_dir_of_executable() {
            return target.join("memprobe");
        }
        let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        workspace_root(&manifest).join("target").join("memprobe")
    })
}

/// The report file of a measured function: `<report dir>/<package>/<full path>.json`, `::`
/// written as `.`. `full_path` is [`Test::full_path`](crate::__private::Test::full_path): crate, modules, enclosing functions, name.
pub fn report_path(package: Option<&str>, full_path: &str) -> PathBuf {
    let crate_name = full_path.split("::").next().unwrap_or(full_path);
    let package = file_stem(package.unwrap_or(crate_name));
    report_dir()
        .join(package)
        .join(format!("{}.json", file_stem(full_path)))
}

/// Cargo marks the root of every target directory with `CACHEDIR.TAG`; test, bench and example
/// binaries live a few levels below it.
fn target_dir_of_executable() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .skip(1)
        .take(5)
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(Path::to_path_buf)
}

/// The outermost directory above `manifest` whose `Cargo.toml` declares a `[workspace]`, or
/// `manifest` itself.
fn workspace_root(manifest: &Path) -> PathBuf {
    manifest
        .ancestors()
        .filter(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|text| text.lines().any(|l| l.trim() == "[workspace]"))
        })
        .last()
        .unwrap_or(manifest)
        .to_path_buf()
}

/// The file baseline messages are appended to: `baseline-notes.txt` in the report directory
/// (`$MEMPROBE_HOME`, else `$CARGO_TARGET_DIR/memprobe`, else `target/memprobe`).
///
/// Delete it whenever you like; it only collects what passing tests had to say about their
/// baselines (created, rewritten, or shrunk and worth re-blessing).
///
/// # Examples
///
/// ```
/// let file = memprobe::baseline::notes_file();
/// assert!(file.ends_with("baseline-notes.txt"));
/// assert!(file.starts_with(memprobe::__private::report_dir()));
/// ```
pub fn notes_file() -> PathBuf {
    report_dir().join("baseline-notes.txt")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_file_is_named_for_its_package_and_path() {
        assert!(
            report_path(Some("my-app"), "app::parser::test_a::inner")
                .ends_with("my-app/app.parser.test_a.inner.json")
        );
        assert!(report_path(None, "app::x").ends_with("app/app.x.json"));
        assert!(report_path(None, "app::x").starts_with(report_dir()));
    }

    #[test]
    fn report_files_stay_two_levels_below_the_report_dir() {
        let long = "very_long_module_name::".repeat(20) + "test";
        for (package, path) in [
            (Some(".."), "../../etc::passwd"),
            (Some("/abs"), "/etc/passwd"),
            (Some("a\0b"), "x::a\0b"),
            (None, "..::..::x"),
            (None, long.as_str()),
        ] {
            let file = report_path(package, path);
            let package_dir = file.parent().unwrap();
            assert_eq!(package_dir.parent(), Some(report_dir()), "{file:?}");
            assert_eq!(
                file.components().count(),
                report_dir().components().count() + 2,
                "{file:?}"
            );
            let name = file.file_name().unwrap().to_str().unwrap();
            assert!(name.len() <= 255 && !name.starts_with('.'), "{name}");
        }
    }
}
