//! A measured function as `#[memprobe(...)]` describes it: the descriptor ([`Test`]) generated
//! code builds in a `static`, what a run leaves behind ([`ReportMode`]) and what the function may
//! return ([`Outcome`]). Re-exported by [`crate::__private`]; not public API.

use crate::scope::Scope;
use std::path::PathBuf;

/// The name of the marker function generated code declares in a measured function's body.
pub const MARKER: &str = "__memprobe_marker";

/// A measured function, as the attribute describes it. Strings are checked at compile time and
/// parsed at run time with [`crate::units`].
///
/// Built with [`Test::new`] and one `const` setter per option the attribute was given, so
/// generated code and tests name only what differs from the defaults.
///
/// # Examples
///
/// ```
/// use memprobe::__private::{ReportMode, Scope, Test};
/// static TEST: Test = Test::new(|| "app::parser::small::__memprobe_marker")
///     .test()
///     .scope(Scope::Process)
///     .max_allocs(0)
///     .max_bytes("64 KiB")
///     .report(ReportMode::Off)
///     .at("tests/parser.rs", 12);
/// assert_eq!(TEST.full_path(), "app::parser::small");
/// assert_eq!(TEST.source(), Some(("tests/parser.rs", 12)));
/// assert_eq!(TEST.path(), "parser::small");
/// ```
#[derive(Debug)]
pub struct Test {
    /// The function's full path, crate first, enclosing functions included
    /// (`crate::module::outer_fn::inner_fn`): same-named inner functions of different tests must
    /// not share a report or a baseline, and `module_path!()` alone does not tell them apart.
    /// Generated code passes `type_name_of_val` of a marker function it declares in the body,
    /// whose trailing [`MARKER`] segment is stripped here.
    pub(crate) item_path: fn() -> &'static str,
    /// `CARGO_PKG_NAME` at compile time.
    pub(crate) package: Option<&'static str>,
    /// `CARGO_MANIFEST_DIR` at compile time.
    pub(crate) manifest_dir: Option<&'static str>,
    /// Whether the function carries a test attribute (`#[test]`, `#[tokio::test]`, ...).
    pub(crate) is_test: bool,
    /// What the probe counts.
    pub(crate) scope: Scope,
    /// `max_allocs`.
    pub(crate) max_allocs: Option<u64>,
    /// `max_bytes`, as written.
    pub(crate) max_bytes: Option<&'static str>,
    /// `max_peak`, as written.
    pub(crate) max_peak: Option<&'static str>,
    /// `max_net`, as written.
    pub(crate) max_net: Option<&'static str>,
    /// `max_rss_growth`, as written.
    pub(crate) max_rss_growth: Option<&'static str>,
    /// `iters`.
    pub(crate) iters: Option<u64>,
    /// `warmup`.
    pub(crate) warmup: u64,
    /// `fail_if_growth`, as written.
    pub(crate) fail_if_growth: Option<&'static str>,
    /// `baseline`.
    pub(crate) baseline: Option<&'static str>,
    /// `purge`.
    pub(crate) purge: bool,
    /// `report`.
    pub(crate) report: ReportMode,
    /// `sizes`: run once per size as a scaling fit (empty without `sizes`).
    pub(crate) sizes: &'static [u64],
    /// `max_allocs_per_item`.
    pub(crate) max_allocs_per_item: Option<u64>,
    /// `max_bytes_per_item`, as written.
    pub(crate) max_bytes_per_item: Option<&'static str>,
    /// `sites`: sample allocation sites while the function runs (needs the `sites` feature).
    pub(crate) sites: Option<SitesSpec>,
    /// `file!()` and `line!()` of the annotated function's name, for reports and CI annotations.
    pub(crate) source: Option<(&'static str, u32)>,
}

/// What `sites` asks for: how many sites the table shows and whether every allocation is
/// sampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SitesSpec {
    /// Rows of the table (the files hold every site).
    pub(crate) top: usize,
    /// `sites = "exact"`: every allocation, instead of the default 512 KiB mean interval.
    pub(crate) exact: bool,
}

/// Implemented only when memprobe is built with its `sites` feature: the bound of
/// [`Test::sites`], so `#[memprobe(sites)]` without the feature fails to compile with this
/// message, at the option.
#[diagnostic::on_unimplemented(
    message = "memprobe: `#[memprobe(sites)]` needs memprobe's `sites` feature, which is off",
    label = "allocation sites need the `sites` feature",
    note = "enable it where memprobe is a dependency: `memprobe = {{ version = \"...\", features = [\"sites\"] }}` (for tests only, under [dev-dependencies]), or drop `sites` from the attribute"
)]
pub trait SitesFeature {}

/// The type generated code names as [`Test::sites`]' feature witness.
#[derive(Debug)]
pub struct SitesEnabled;

#[cfg(feature = "sites")]
impl SitesFeature for SitesEnabled {}

impl Test {
    /// A function at `item_path` with every option at its default: not a test, no package or
    /// manifest directory, thread scope, no limits, one run, no warm-up, no baseline, no purge,
    /// the default report.
    pub const fn new(item_path: fn() -> &'static str) -> Test {
        Test {
            item_path,
            package: None,
            manifest_dir: None,
            is_test: false,
            scope: Scope::Thread,
            max_allocs: None,
            max_bytes: None,
            max_peak: None,
            max_net: None,
            max_rss_growth: None,
            iters: None,
            warmup: 0,
            fail_if_growth: None,
            baseline: None,
            purge: false,
            report: ReportMode::Default,
            sizes: &[],
            max_allocs_per_item: None,
            max_bytes_per_item: None,
            sites: None,
            source: None,
        }
    }

    /// Where the function is written: `file!()` and `line!()` of its name.
    pub const fn at(mut self, file: &'static str, line: u32) -> Test {
        self.source = Some((file, line));
        self
    }

    /// `CARGO_PKG_NAME` and `CARGO_MANIFEST_DIR` of the crate the function is in.
    pub const fn in_package(
        mut self,
        package: Option<&'static str>,
        manifest_dir: Option<&'static str>,
    ) -> Test {
        self.package = package;
        self.manifest_dir = manifest_dir;
        self
    }

    /// The function carries a test attribute.
    pub const fn test(mut self) -> Test {
        self.is_test = true;
        self
    }

    /// `scope = ...`.
    pub const fn scope(mut self, scope: Scope) -> Test {
        self.scope = scope;
        self
    }

    /// `max_allocs = n`.
    pub const fn max_allocs(mut self, n: u64) -> Test {
        self.max_allocs = Some(n);
        self
    }

    /// `max_bytes = "..."`.
    pub const fn max_bytes(mut self, size: &'static str) -> Test {
        self.max_bytes = Some(size);
        self
    }

    /// `max_peak = "..."`.
    pub const fn max_peak(mut self, size: &'static str) -> Test {
        self.max_peak = Some(size);
        self
    }

    /// `max_net = "..."`.
    pub const fn max_net(mut self, size: &'static str) -> Test {
        self.max_net = Some(size);
        self
    }

    /// `max_rss_growth = "..."`.
    pub const fn max_rss_growth(mut self, growth: &'static str) -> Test {
        self.max_rss_growth = Some(growth);
        self
    }

    /// `iters = n`.
    pub const fn iters(mut self, n: u64) -> Test {
        self.iters = Some(n);
        self
    }

    /// `warmup = n`.
    pub const fn warmup(mut self, n: u64) -> Test {
        self.warmup = n;
        self
    }

    /// `fail_if_growth = "..."`.
    pub const fn fail_if_growth(mut self, growth: &'static str) -> Test {
        self.fail_if_growth = Some(growth);
        self
    }

    /// `baseline = "..."`.
    pub const fn baseline(mut self, name: &'static str) -> Test {
        self.baseline = Some(name);
        self
    }

    /// `purge = true`.
    pub const fn purge(mut self) -> Test {
        self.purge = true;
        self
    }

    /// `report = ...`.
    pub const fn report(mut self, mode: ReportMode) -> Test {
        self.report = mode;
        self
    }

    /// `sizes = [...]`: a scaling fit over these sizes.
    pub const fn sizes(mut self, sizes: &'static [u64]) -> Test {
        self.sizes = sizes;
        self
    }

    /// `max_allocs_per_item = n`.
    pub const fn max_allocs_per_item(mut self, n: u64) -> Test {
        self.max_allocs_per_item = Some(n);
        self
    }

    /// `max_bytes_per_item = "..."`.
    pub const fn max_bytes_per_item(mut self, size: &'static str) -> Test {
        self.max_bytes_per_item = Some(size);
        self
    }

    /// `sites`, `sites = N` or `sites = "exact"`: sample allocation sites, show the `top` of
    /// them, every allocation when `exact`. `F` is [`SitesEnabled`], which implements
    /// [`SitesFeature`] only with memprobe's `sites` feature.
    pub const fn sites<F: SitesFeature>(mut self, top: usize, exact: bool) -> Test {
        self.sites = Some(SitesSpec { top, exact });
        self
    }

    /// The function's full path, crate first: [`Test::item_path`] without the marker segment
    /// and without the compiler's `{{closure}}` segments (the body of an `async fn` or an async
    /// block is one, so a marker there reads `crate::m::f::{{closure}}::__memprobe_marker`).
    pub fn full_path(&self) -> String {
        let mut segments: Vec<&str> = (self.item_path)()
            .split("::")
            .filter(|s| !s.starts_with("{{"))
            .collect();
        if segments.last() == Some(&MARKER) {
            segments.pop();
        }
        segments.join("::")
    }

    /// The path `cargo test` prints: the full path without the crate (enclosing functions
    /// included, for an inner function).
    pub fn path(&self) -> String {
        let full = self.full_path();
        match full.split_once("::") {
            Some((_, rest)) => rest.to_owned(),
            None => full,
        }
    }

    /// `file!()` and `line!()` of the function, when generated code gave them ([`Test::at`]).
    pub fn source(&self) -> Option<(&'static str, u32)> {
        self.source
    }

    /// The test crate: the first segment of the full path.
    pub(crate) fn crate_name(&self) -> &'static str {
        let full = (self.item_path)();
        full.split("::").next().unwrap_or(full)
    }

    pub(crate) fn manifest_dir(&self) -> Option<PathBuf> {
        self.manifest_dir
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from))
    }

    /// The command that writes this test's baseline.
    pub(crate) fn update_command(&self) -> String {
        let package = self.package.map(|p| format!(" -p {p}")).unwrap_or_default();
        if self.is_test {
            format!("MEMPROBE_UPDATE=1 cargo test{package} -- {}", self.path())
        } else {
            format!("MEMPROBE_UPDATE=1 cargo bench{package}")
        }
    }
}

/// What a run leaves behind (`report = ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportMode {
    /// The JSON report; the table too when the function is not a test.
    Default,
    /// Nothing.
    Off,
    /// The JSON report only.
    Json,
    /// The printed table only.
    Table,
}

impl ReportMode {
    pub(crate) fn writes_json(self) -> bool {
        matches!(self, ReportMode::Default | ReportMode::Json)
    }

    pub(crate) fn prints_table(self, is_test: bool) -> bool {
        self == ReportMode::Table || (self == ReportMode::Default && !is_test)
    }
}

/// What a measured function may return: `()` or a `Result`, whose `Err` fails the test.
#[diagnostic::on_unimplemented(
    message = "#[memprobe] measures functions returning `()` or a `Result`, not `{Self}`",
    label = "this return type is not supported by #[memprobe]"
)]
pub trait Outcome {
    /// `true` when the value fails the test on its own.
    fn failed(&self) -> bool;
}

impl Outcome for () {
    fn failed(&self) -> bool {
        false
    }
}

impl<T, E> Outcome for Result<T, E> {
    fn failed(&self) -> bool {
        self.is_err()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_come_from_the_marker() {
        fn outer() -> &'static str {
            fn __memprobe_marker() {}
            std::any::type_name_of_val(&__memprobe_marker)
        }
        // What `type_name_of_val` really gives for a marker in a nested function.
        let nested = Test::new(outer);
        assert_eq!(
            nested.full_path(),
            "memprobe::measured::tests::paths_come_from_the_marker::outer"
        );
        assert_eq!(
            nested.path(),
            "measured::tests::paths_come_from_the_marker::outer"
        );
        assert_eq!(nested.crate_name(), "memprobe");
        for (item_path, full, path) in [
            (
                (|| "app::parser::small::__memprobe_marker") as fn() -> &'static str,
                "app::parser::small",
                "parser::small",
            ),
            (
                || "app::parser::test_a::{{closure}}::inner::{{closure}}::__memprobe_marker",
                "app::parser::test_a::inner",
                "parser::test_a::inner",
            ),
            (|| "app::top", "app::top", "top"),
        ] {
            let test = Test::new(item_path);
            assert_eq!(
                (test.full_path().as_str(), test.path()),
                (full, path.to_owned())
            );
            assert_eq!(test.crate_name(), "app");
        }
    }

    #[test]
    fn the_update_command_names_the_package_and_the_test() {
        let test = Test::new(|| "app::parser::small").in_package(Some("my-app"), None);
        assert_eq!(
            test.update_command(),
            "MEMPROBE_UPDATE=1 cargo bench -p my-app"
        );
        assert_eq!(
            test.test().update_command(),
            "MEMPROBE_UPDATE=1 cargo test -p my-app -- parser::small"
        );
    }
}
