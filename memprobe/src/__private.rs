//! Used by generated code, not public API: the runtime behind `#[memprobe(...)]`. Nothing here is
//! covered by semver; `memprobe` pins `memprobe-macros` to its exact version, so the code the
//! attribute emits and these entry points always match.
//!
//! ```text
//!   run ─▶ settings: memprobe.toml globs (read once per crate), then the attribute on top
//!       ─▶ probe starts ─▶ body (warm-up runs before, unmeasured; `iters` runs inside)
//!       ─▶ probe finishes ─▶ JSON report written ─▶ [table printed]
//!       ─▶ limits checked ─▶ baseline checked ─▶ one panic listing every failure,
//!                                                or the body's value returned unchanged
//! ```
//!
//! A panic in the body is not caught: it unwinds through the probe (whose `Drop` stops counting)
//! and reaches the test harness unchanged. A body that returns `Err` fails the test with its own
//! error; its report is written, but limits and baselines are not checked and nothing is blessed.
//!
//! # `memprobe.toml`
//!
//! Optional, next to the crate's `Cargo.toml`; read once per test process:
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

use crate::baseline::{Baselines, Mode, Policy};
use crate::error::Error;
use crate::limits::Limits;
use crate::probe::{Probe, ProbeOptions};
use crate::report::Report;
use crate::units::{Growth, parse_bytes};
use serde::Deserialize;
use std::cell::Cell;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

pub use crate::scope::Scope;

/// A measured function, as the attribute describes it. Strings are checked at compile time and
/// parsed here with [`crate::units`].
#[derive(Debug)]
pub struct Test {
    /// The function's full path, crate first, enclosing functions included
    /// (`crate::module::outer_fn::inner_fn`): same-named inner functions of different tests must
    /// not share a report or a baseline, and `module_path!()` alone does not tell them apart.
    /// Generated code passes `type_name_of_val` of a marker function it declares in the body,
    /// whose trailing [`MARKER`] segment is stripped here.
    pub item_path: fn() -> &'static str,
    /// `CARGO_PKG_NAME` at compile time.
    pub package: Option<&'static str>,
    /// `CARGO_MANIFEST_DIR` at compile time.
    pub manifest_dir: Option<&'static str>,
    /// Whether the function carries a test attribute (`#[test]`, `#[tokio::test]`, ...).
    pub is_test: bool,
    /// What the probe counts.
    pub scope: Scope,
    /// `max_allocs`.
    pub max_allocs: Option<u64>,
    /// `max_bytes`, as written.
    pub max_bytes: Option<&'static str>,
    /// `max_peak`, as written.
    pub max_peak: Option<&'static str>,
    /// `max_net`, as written.
    pub max_net: Option<&'static str>,
    /// `max_rss_growth`, as written.
    pub max_rss_growth: Option<&'static str>,
    /// `iters`.
    pub iters: Option<u64>,
    /// `warmup`.
    pub warmup: u64,
    /// `fail_if_growth`, as written.
    pub fail_if_growth: Option<&'static str>,
    /// `baseline`.
    pub baseline: Option<&'static str>,
    /// `purge`.
    pub purge: bool,
    /// `report`.
    pub report: ReportMode,
}

/// The name of the marker function generated code declares in a measured function's body.
pub const MARKER: &str = "__memprobe_marker";

impl Test {
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

    /// The test crate: the first segment of the full path.
    fn crate_name(&self) -> &'static str {
        let full = (self.item_path)();
        full.split("::").next().unwrap_or(full)
    }

    fn manifest_dir(&self) -> Option<PathBuf> {
        self.manifest_dir
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from))
    }

    /// The command that writes this test's baseline.
    fn update_command(&self) -> String {
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
    fn writes_json(self) -> bool {
        matches!(self, ReportMode::Default | ReportMode::Json)
    }

    fn prints_table(self, is_test: bool) -> bool {
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

/// Runs `body` once inside a probe.
pub fn run<R: Outcome, F: FnOnce() -> R>(test: &'static Test, body: F) -> R {
    let session = Session::start(test);
    let out = body();
    session.finish(1, &out);
    out
}

/// Runs `body` `warmup` times unmeasured, then `iters` times inside one probe.
pub fn run_iters<R: Outcome, F: FnMut() -> R>(test: &'static Test, mut body: F) -> R {
    for _ in 0..test.warmup {
        let out = body();
        if out.failed() {
            return out;
        }
    }
    let session = Session::start(test);
    let mut done = 1;
    let mut out = body();
    while done < test.iters.unwrap_or(1) && !out.failed() {
        drop(out);
        out = body();
        done += 1;
    }
    session.finish(done, &out);
    out
}

/// Awaits `body` inside a probe; every poll enters the probe's attribution, on whichever thread
/// polls it.
///
/// The probe starts detached: no guard is held across `.await`, only each poll of `body` enters
/// the attribution. Two measured futures polled together on one thread (`join!`, `select!`) thus
/// each count exactly their own polls, and their enter/leave pairs never interleave.
pub async fn run_async<R: Outcome, F: Future<Output = R>>(test: &'static Test, body: F) -> R {
    let session = Session::start_detached(test);
    let out = session.probe.attribution().scope(body).await;
    session.finish(1, &out);
    out
}

/// The async form of [`run_iters`]: each iteration awaits a fresh future from `body`.
pub async fn run_async_iters<R, F, Fut>(test: &'static Test, mut body: F) -> R
where
    R: Outcome,
    F: FnMut() -> Fut,
    Fut: Future<Output = R>,
{
    for _ in 0..test.warmup {
        let out = body().await;
        if out.failed() {
            return out;
        }
    }
    // Detached, as in `run_async`: only the polls of each iteration's future count.
    let session = Session::start_detached(test);
    let attribution = session.probe.attribution();
    let mut done = 1;
    let mut out = attribution.scope(body()).await;
    while done < test.iters.unwrap_or(1) && !out.failed() {
        drop(out);
        out = attribution.scope(body()).await;
        done += 1;
    }
    drop(attribution);
    session.finish(done, &out);
    out
}

thread_local! {
    static MODE: Cell<Option<Mode>> = const { Cell::new(None) };
}

/// Runs `f` with baselines handled in `mode` on this thread instead of the mode from
/// `MEMPROBE_UPDATE` and `CI`, so tests of the baseline cycle need not change the environment.
pub fn with_baseline_mode<T>(mode: Mode, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<Mode>);
    impl Drop for Restore {
        fn drop(&mut self) {
            MODE.with(|m| m.set(self.0));
        }
    }
    let _restore = Restore(MODE.with(|m| m.replace(Some(mode))));
    f()
}

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
/// written as `.`. `full_path` is [`Test::full_path`]: crate, modules, enclosing functions, name.
pub fn report_path(package: Option<&str>, full_path: &str) -> PathBuf {
    let crate_name = full_path.split("::").next().unwrap_or(full_path);
    let package = crate::files::file_stem(package.unwrap_or(crate_name));
    report_dir()
        .join(package)
        .join(format!("{}.json", crate::files::file_stem(full_path)))
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

/// The checks a run applies: memprobe.toml entries, then the attribute.
#[derive(Debug, Default)]
struct Settings {
    limits: Limits,
    fail_if_growth: Option<String>,
    rss_noise: Option<u64>,
    purge: bool,
}

impl Settings {
    fn resolve(test: &Test, path: &str) -> Settings {
        let mut s = Settings::default();
        if let Some(dir) = test.manifest_dir() {
            match &*config(&dir) {
                Ok(config) => {
                    for entry in config.iter().filter(|e| glob(&e.name, path)) {
                        entry.apply(&mut s);
                    }
                }
                Err(message) => panic!("{message}"),
            }
        }
        let parsed = |what: &str, r: crate::Result<Limits>| {
            r.unwrap_or_else(|e| panic!("memprobe: `{path}`: {what}: {e} (the attribute accepted it; please report this)"))
        };
        let limits = &mut s.limits;
        if let Some(n) = test.max_allocs {
            *limits = limits.max_allocs(n);
        }
        if let Some(v) = test.max_bytes {
            *limits = parsed("max_bytes", limits.max_bytes(v));
        }
        if let Some(v) = test.max_peak {
            *limits = parsed("max_peak", limits.max_peak(v));
        }
        if let Some(v) = test.max_net {
            *limits = parsed("max_net", limits.max_net(v));
        }
        if let Some(v) = test.max_rss_growth {
            *limits = parsed("max_rss_growth", limits.max_rss_growth(v));
        }
        if let Some(g) = test.fail_if_growth {
            s.fail_if_growth = Some(g.to_owned());
        }
        s.purge |= test.purge;
        s
    }
}

/// One `[[test]]` entry of memprobe.toml, checked.
#[derive(Debug)]
struct Entry {
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

/// A size as a string (`"64 KiB"`) or an integer of bytes.
#[derive(Deserialize)]
#[serde(untagged)]
enum Size {
    Bytes(u64),
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

type Config = Arc<Result<Vec<Entry>, String>>;

/// memprobe.toml of the crate at `manifest_dir`, read and checked once per process.
fn config(manifest_dir: &Path) -> Config {
    static CACHE: Mutex<Vec<(PathBuf, Config)>> = Mutex::new(Vec::new());
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, c)) = cache.iter().find(|(dir, _)| dir == manifest_dir) {
        return c.clone();
    }
    let c = Arc::new(load_config(&manifest_dir.join("memprobe.toml")));
    cache.push((manifest_dir.to_path_buf(), c.clone()));
    c
}

fn load_config(path: &Path) -> Result<Vec<Entry>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("memprobe: cannot read {}: {e}", path.display())),
    };
    let file: ConfigFile = toml::from_str(&text).map_err(|e| {
        format!(
            "memprobe: {} is not a valid memprobe.toml: {}",
            path.display(),
            e.to_string().trim_end()
        )
    })?;
    file.test
        .into_iter()
        .enumerate()
        .map(|(i, raw)| {
            let at = |key: &str, e: Error| {
                format!(
                    "memprobe: {}: [[test]] entry {} (name = {:?}): {key}: {e}",
                    path.display(),
                    i + 1,
                    raw.name
                )
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

/// One measured run, from settings to verdict.
struct Session {
    test: &'static Test,
    path: String,
    settings: Settings,
    probe: Probe,
}

impl Session {
    /// Resolves the settings and starts the probe, its attribution entered on this thread until
    /// it finishes. Panics with the fix when the counting allocator is missing or memprobe.toml
    /// is invalid.
    fn start(test: &'static Test) -> Session {
        Session::begin(test, false)
    }

    /// [`Session::start`] without entering the attribution: for async bodies, whose polls enter
    /// it themselves ([`crate::Attribution::scope`]), so no guard lives across an `.await`.
    fn start_detached(test: &'static Test) -> Session {
        Session::begin(test, true)
    }

    fn begin(test: &'static Test, detached: bool) -> Session {
        let path = test.path();
        let settings = Settings::resolve(test, &path);
        let trace = settings.limits.max_allocs == Some(0);
        if trace {
            keep_panic_hooks_out_of_probes();
        }
        let options = ProbeOptions::new(test.scope)
            .name(path.clone())
            .purge(settings.purge)
            .trace_first_alloc(trace);
        let probe = if detached {
            options.start_detached()
        } else {
            options.start()
        }
        .unwrap_or_else(|e| panic!("{e}"));
        Session {
            test,
            path,
            settings,
            probe,
        }
    }

    /// Finishes the probe, writes the report and checks it; panics listing every failure.
    fn finish<R: Outcome>(self, iterations: u64, out: &R) {
        let Session {
            test,
            path,
            settings,
            probe,
        } = self;
        let warmup = if test.iters.is_some() { test.warmup } else { 0 };
        let report = probe
            .finish_iterations(iterations, warmup)
            .unwrap_or_else(|e| panic!("{e}"));
        let report_file = test
            .report
            .writes_json()
            .then(|| write_report(test, &report));
        if test.report.prints_table(test.is_test) {
            println!("{report}");
            if let Some(file) = &report_file {
                println!("report: {}", file.display());
            }
        }
        if out.failed() {
            return;
        }

        let mut failures = Vec::new();
        let violations = settings.limits.check(&report);
        if !violations.is_empty() {
            let mut text = String::from("limits:");
            for v in &violations {
                text.push_str(&format!("\n  {v}"));
            }
            let no_allocs = settings.limits.max_allocs == Some(0)
                && violations
                    .iter()
                    .any(|v| v.figure == crate::limits::Figure::Allocations);
            if no_allocs {
                match &report.first_alloc_backtrace {
                    Some(trace) => text.push_str(&format!(
                        "\nfirst allocation (max_allocs = 0), most recent call first:\n{}",
                        trim_backtrace(trace)
                    )),
                    None => text.push_str("\nfirst allocation: no backtrace (it came from a thread outside the probe)"),
                }
            }
            failures.push(text);
        }
        if let Some(growth) = &settings.fail_if_growth {
            match check_baseline(test, &path, &settings, growth, &report) {
                Ok(verdict) if verdict.failed() => failures.push(verdict.to_string()),
                Ok(verdict) => println!("{verdict}"),
                Err(e) => failures.push(e.to_string()),
            }
        }
        let contaminated = report
            .outside_alloc_count
            .filter(|&n| n > 0)
            .map(|n| format!("note: {}", crate::report::OutsideNote(n)));
        if failures.is_empty() {
            if let Some(note) = contaminated {
                println!("memprobe: `{path}`: {note}");
            }
            return;
        }
        let what = if test.is_test { "test" } else { "function" };
        let mut message = format!("memprobe: {what} `{path}` failed its memory checks");
        for failure in failures {
            message.push('\n');
            message.push_str(&failure);
        }
        if let Some(note) = contaminated {
            message.push('\n');
            message.push_str(&note);
        }
        message.push_str(&format!("\n{report}"));
        if let Some(file) = report_file {
            message.push_str(&format!("report: {}", file.display()));
        }
        panic!("{message}");
    }
}

/// Wraps the panic hook (once per process) so that it runs with this thread's allocations kept
/// out of every probe.
///
/// Why: a test that panics inside a `max_allocs = 0` probe (a failed `assert!`) runs the panic
/// hook inside the probe. With `RUST_BACKTRACE` set, the default hook holds std's backtrace lock
/// while it prints, and allocates; that allocation is the probe's first, whose backtrace capture
/// takes the same lock: the thread would deadlock. The hook's own allocations are not the test's
/// figures anyway. A hook installed later by the user replaces this wrapper.
fn keep_panic_hooks_out_of_probes() {
    static WRAPPED: std::sync::Once = std::sync::Once::new();
    WRAPPED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            crate::alloc::without_counting(|| previous(info))
        }));
    });
}

fn check_baseline(
    test: &Test,
    path: &str,
    settings: &Settings,
    growth: &str,
    report: &Report,
) -> crate::Result<crate::baseline::Verdict> {
    let name = test.baseline.unwrap_or(path);
    let root = test.manifest_dir().unwrap_or_else(|| PathBuf::from("."));
    let baselines = Baselines::for_crate(root, test.crate_name());
    let mut policy = Policy::new(growth)?.update_command(test.update_command());
    if let Some(noise) = settings.rss_noise {
        policy = policy.rss_noise(&noise.to_string())?;
    }
    let mode = MODE.with(Cell::get).unwrap_or_else(Mode::from_env);
    baselines.check(name, report, &policy, mode)
}

/// Writes the report as JSON; panics (failing the test) when it cannot, since CI would otherwise
/// silently lose it.
fn write_report(test: &Test, report: &Report) -> PathBuf {
    let file = report_path(test.package, &test.full_path());
    let result = file
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| crate::files::overwrite(&file, report.to_json().as_bytes()));
    if let Err(e) = result {
        panic!(
            "memprobe: writing report {}: {e}; set MEMPROBE_HOME to a writable directory, or write `report = false` in the attribute",
            file.display()
        );
    }
    file
}

/// The frames between the allocator and the measured function: drops the capture and allocator
/// frames at the top and the runtime and harness frames below `__private`.
fn trim_backtrace(trace: &str) -> String {
    let mut frames: Vec<Vec<&str>> = Vec::new();
    for line in trace.lines() {
        let is_header = line
            .trim_start()
            .split_once(": ")
            .is_some_and(|(n, _)| n.chars().all(|c| c.is_ascii_digit()));
        match frames.last_mut() {
            Some(frame) if !is_header => frame.push(line),
            _ => frames.push(vec![line]),
        }
    }
    let symbol = |frame: &Vec<&str>| {
        frame[0]
            .trim_start()
            .split_once(": ")
            .map_or("", |(_, s)| s)
            .to_owned()
    };
    let start = frames
        .iter()
        .position(|f| !is_machinery(&symbol(f)))
        .unwrap_or(0);
    let end = frames[start..]
        .iter()
        .position(|f| {
            let s = symbol(f);
            s.starts_with("memprobe::__private::")
                || s.starts_with("<memprobe::alloc::attribution::Scoped")
        })
        .map_or(frames.len(), |i| start + i)
        .min(start + 16);
    if start >= end {
        return trace.to_owned();
    }
    frames[start..end]
        .iter()
        .flatten()
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
}

/// Frames of the allocation path itself: the capture, memprobe's allocator, and the standard
/// library's allocation code (`Vec`, `String`, `<u8 as SpecFromElem>`, ...). A user type's impl of
/// a std trait (`<my::Type as core::clone::Clone>::clone`) is not machinery.
fn is_machinery(symbol: &str) -> bool {
    const OURS: &[&str] = &[
        "std::backtrace",
        // The `backtrace` crate, when the capture goes through it rather than std.
        "backtrace::",
        "<backtrace::",
        "memprobe::alloc",
        "<memprobe::alloc",
        "__rust",
        "__rdl",
        "__rg_",
    ];
    if OURS.iter().any(|p| symbol.starts_with(p)) {
        return true;
    }
    // Paths into the standard library, and primitive or built-in types (`u8`, `str`, `[T]`, `&T`).
    let std_path = |p: &str| {
        p.starts_with(['&', '*', '[', '('])
            || ["alloc::", "core::", "std::", "hashbrown::"]
                .iter()
                .any(|s| p.starts_with(s))
            || p.split(['<', '>']).next().is_some_and(|head| {
                !head.contains("::") && head.starts_with(|c: char| c.is_ascii_lowercase())
            })
    };
    match symbol.strip_prefix('<') {
        Some(qualified) => {
            let (self_ty, rest) = qualified.split_once(" as ").unwrap_or((qualified, ""));
            std_path(self_ty) && (rest.is_empty() || std_path(rest))
        }
        None => std_path(symbol),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machinery_frames() {
        for s in [
            "std::backtrace::Backtrace::force_capture",
            "backtrace::backtrace::libunwind::trace",
            "memprobe::alloc::attribution::Group::capture_first",
            "<memprobe::alloc::Counting<A> as core::alloc::global::GlobalAlloc>::alloc",
            "__rustc::__rust_alloc",
            "alloc::raw_vec::RawVec<T,A>::allocate_in",
            "<u8 as alloc::vec::spec_from_elem::SpecFromElem>::from_elem",
            "<alloc::string::String as core::clone::Clone>::clone",
            "<[T] as alloc::slice::hack::ConvertVec>::to_vec",
        ] {
            assert!(is_machinery(s), "{s}");
        }
        for s in [
            "attribute::zero::allocates::{{closure}}",
            "<myapp::Job as core::clone::Clone>::clone",
            "myapp::parse",
            "memprobe::measure",
        ] {
            assert!(!is_machinery(s), "{s}");
        }
    }

    fn test_at(item_path: fn() -> &'static str) -> Test {
        Test {
            item_path,
            package: None,
            manifest_dir: None,
            is_test: true,
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
            report: ReportMode::Off,
        }
    }

    #[test]
    fn paths_come_from_the_marker() {
        fn outer() -> &'static str {
            fn __memprobe_marker() {}
            std::any::type_name_of_val(&__memprobe_marker)
        }
        // What `type_name_of_val` really gives for a marker in a nested function.
        let nested = test_at(outer);
        assert_eq!(
            nested.full_path(),
            "memprobe::__private::tests::paths_come_from_the_marker::outer"
        );
        assert_eq!(
            nested.path(),
            "__private::tests::paths_come_from_the_marker::outer"
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
            let test = test_at(item_path);
            assert_eq!(
                (test.full_path().as_str(), test.path()),
                (full, path.to_owned())
            );
            assert_eq!(test.crate_name(), "app");
        }
        assert!(
            report_path(Some("my-app"), "app::parser::test_a::inner")
                .ends_with("my-app/app.parser.test_a.inner.json")
        );
    }

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
    fn config_entries_are_checked_with_their_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("memprobe.toml");
        std::fs::write(&path, "[[test]]\nname = \"a::*\"\nmax_bytes = 1024\nmax_peak = \"2 KiB\"\nfail_if_growth = \"5%\"\n").unwrap();
        let entries = load_config(&path).unwrap();
        assert_eq!(
            (entries[0].max_bytes, entries[0].max_peak),
            (Some(1024), Some(2048))
        );
        std::fs::write(&path, "[[test]]\nname = \"x\"\nmax_bytes = \"12 KBB\"\n").unwrap();
        let e = load_config(&path).unwrap_err();
        assert!(
            e.contains("memprobe.toml: [[test]] entry 1 (name = \"x\"): max_bytes")
                && e.contains("12 KBB"),
            "{e}"
        );
        std::fs::write(&path, "[[test]]\nname = \"x\"\nmax_alocs = 1\n").unwrap();
        assert!(load_config(&path).unwrap_err().contains("max_alocs"));
        assert!(
            load_config(&dir.path().join("none.toml"))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn backtraces_keep_the_callers_frames() {
        let trace = "   0: std::backtrace::Backtrace::force_capture\n             at /rustc/library/std/src/backtrace.rs:1\n   1: memprobe::alloc::attribution::Group::capture_first\n   2: alloc::raw_vec::RawVec::allocate\n   3: mytests::zero::allocates::{{closure}}\n             at ./tests/x.rs:10:5\n   4: memprobe::__private::run\n   5: std::rt::lang_start";
        assert_eq!(
            trim_backtrace(trace),
            "   3: mytests::zero::allocates::{{closure}}\n             at ./tests/x.rs:10:5"
        );
    }
}
