//! One measured run of a `#[memprobe]` function, from settings to verdict: resolve the settings
//! (memprobe.toml, then the attribute), start the probe, and on finishing write the report, check
//! limits and the baseline, and panic with the failure text or print the verdict.
//!
//! ```text
//!   start ─▶ settings ─▶ [panic hook wrapped] ─▶ probe starts
//!   finish ─▶ probe finishes ─▶ JSON report written ─▶ [table printed]
//!          ─▶ limits checked ─▶ baseline checked ─▶ [one `::error` line when GITHUB_ACTIONS=true]
//!          ─▶ one panic listing every failure, or return
//! ```

use crate::baseline::{Baselines, Mode, Policy, Verdict};
use crate::config::Settings;
use crate::failure;
use crate::limits::Limits;
use crate::measured::{Outcome, Test};
use crate::output_dir::report_path;
use crate::probe::{Probe, ProbeOptions};
use crate::report::Report;
use std::cell::Cell;
use std::path::PathBuf;

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

/// The baseline mode on this thread: [`with_baseline_mode`]'s, else [`Mode::from_env`].
pub(crate) fn baseline_mode() -> Mode {
    MODE.with(Cell::get).unwrap_or_else(Mode::from_env)
}

/// Sets one size limit from its string.
type SetLimit = fn(&Limits, &str) -> crate::Result<Limits>;

/// The settings of `test`: its crate's memprobe.toml entries, then the attribute on top. Panics
/// (at the measured function) with the file's error when memprobe.toml is invalid.
#[track_caller]
fn resolve(test: &Test, path: &str) -> Settings {
    let mut s = match Settings::from_file(test.manifest_dir().as_deref(), path) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let limits = &mut s.limits;
    if let Some(n) = test.max_allocs {
        *limits = limits.max_allocs(n);
    }
    let sizes: [(&str, Option<&str>, SetLimit); 4] = [
        ("max_bytes", test.max_bytes, |l, v| l.max_bytes(v)),
        ("max_peak", test.max_peak, |l, v| l.max_peak(v)),
        ("max_net", test.max_net, |l, v| l.max_net(v)),
        ("max_rss_growth", test.max_rss_growth, |l, v| {
            l.max_rss_growth(v)
        }),
    ];
    for (what, value, set) in sizes {
        let Some(value) = value else { continue };
        match set(limits, value) {
            Ok(l) => *limits = l,
            // The attribute checks these with the same grammar; only a hand-built `Test` gets here.
            Err(e) => panic!("memprobe: `{path}`: {what}: {e}"),
        }
    }
    if let Some(g) = test.fail_if_growth {
        s.fail_if_growth = Some(g.to_owned());
    }
    s.purge |= test.purge;
    s
}

/// A run whose settings are resolved and whose allocator is known to be installed: what can
/// fail before the body runs has failed, at the measured function.
pub(crate) struct Prepared {
    test: &'static Test,
    path: String,
    settings: Settings,
}

/// One measured run, from settings to verdict.
pub(crate) struct Session {
    test: &'static Test,
    path: String,
    settings: Settings,
    pub(crate) probe: Probe,
    /// The allocation-sites window of `sites`, started before the probe and finished after it.
    #[cfg(feature = "sites")]
    sites: Option<crate::sites::Session>,
}

impl Session {
    /// Resolves the settings and checks that the counting allocator is installed. Panics at the
    /// caller with the fix when it is not (naming the file to add the line to) or memprobe.toml
    /// is invalid.
    #[track_caller]
    pub(crate) fn prepare(test: &'static Test) -> Prepared {
        if !crate::alloc::is_installed() {
            panic!("{}", not_installed(std::panic::Location::caller().file()));
        }
        let path = test.path();
        let settings = resolve(test, &path);
        Prepared {
            test,
            path,
            settings,
        }
    }
}

/// The missing-allocator message for a measured function in `file`: the line goes in that file
/// when it is an integration test, bench or example (each is its own binary), not in the
/// library, where it would conflict with a test file's own.
pub(crate) fn not_installed(file: &str) -> String {
    let binary_root = ["tests/", "benches/", "examples/"]
        .iter()
        .any(|dir| file.starts_with(dir) || file.contains(&format!("/{dir}")));
    let fix = if binary_root {
        format!(
            "add `memprobe::global_allocator!();` at the top of {file}: each file in tests/, benches/ and examples/ is its own binary and needs the line itself (not in src/lib.rs, where it conflicts with a test file's own: \"the `#[global_allocator]` in this crate conflicts with global allocator in: ...\")"
        )
    } else {
        format!(
            "add `#[cfg(test)] memprobe::global_allocator!();` to the crate root of {file} (src/lib.rs or src/main.rs; `#[cfg(test)]` keeps it out of the library that integration tests link, where it would conflict with their own)"
        )
    };
    format!(
        "memprobe: the counting allocator is not installed, so every allocation figure would read 0; {fix}"
    )
}

impl Prepared {
    /// Starts the probe, its attribution entered on this thread until it finishes.
    #[track_caller]
    pub(crate) fn start(self) -> Session {
        self.begin(false)
    }

    /// [`Prepared::start`] without entering the attribution: for async bodies, whose polls enter
    /// it themselves ([`crate::Attribution::scope`]), so no guard lives across an `.await`.
    #[track_caller]
    pub(crate) fn start_detached(self) -> Session {
        self.begin(true)
    }

    #[track_caller]
    fn begin(self, detached: bool) -> Session {
        let Prepared {
            test,
            path,
            settings,
        } = self;
        let trace = settings.limits.max_allocs == Some(0);
        if trace {
            keep_panic_hooks_out_of_probes();
        }
        // Before the probe: waiting for another test's sites window is not this test's cost.
        #[cfg(feature = "sites")]
        let sites = test.sites.map(sites::start);
        let options = ProbeOptions::new(test.scope)
            .name(path.clone())
            .purge(settings.purge)
            .trace_first_alloc(trace);
        let probe = if detached {
            options.start_detached()
        } else {
            options.start()
        };
        let probe = match probe {
            Ok(probe) => probe,
            Err(e) => panic!("{e}"),
        };
        Session {
            test,
            path,
            settings,
            probe,
            #[cfg(feature = "sites")]
            sites,
        }
    }
}

impl Session {
    /// Finishes the probe, writes the report and checks it; panics at the caller listing every
    /// failure.
    #[track_caller]
    pub(crate) fn finish<R: Outcome>(self, iterations: u64, out: &R) {
        let Session {
            test,
            path,
            settings,
            probe,
            #[cfg(feature = "sites")]
            sites,
        } = self;
        let warmup = if test.iters.is_some() { test.warmup } else { 0 };
        let report = match probe.finish_iterations(iterations, warmup) {
            Ok(report) => match test.source() {
                Some((file, line)) => report.at_source(file, line),
                None => report,
            },
            Err(e) => panic!("{e}"),
        };
        // The top sites table, shown after a failing limit's violations.
        #[cfg(feature = "sites")]
        let sites_table = sites.map(|window| sites::finish(test, window));
        #[cfg(not(feature = "sites"))]
        let sites_table: Option<String> = None;
        let report_file = if test.report.writes_json() {
            Some(write_report(test, &report))
        } else {
            None
        };
        if test.report.prints_table(test.is_test) {
            println!("{report}");
            if let Some(file) = &report_file {
                println!("report: {}", file.display());
            }
        }
        if out.failed() {
            return;
        }

        // Each failure twice: in full for the panic, on one line for the CI annotation.
        let mut failures = Vec::new();
        let mut lines = Vec::new();
        let violations = settings.limits.check(&report);
        if !violations.is_empty() {
            let mut text = failure::limits_failure(&settings.limits, &violations, &report);
            if let Some(table) = &sites_table {
                text.push_str("\nwhere the bytes came from (allocation sites):\n");
                text.push_str(table);
            }
            failures.push(text);
            lines.push(failure::limits_line(&violations));
        }
        if let Some(growth) = &settings.fail_if_growth {
            let failed = match check_baseline(test, &path, &settings, growth, &report) {
                Ok(verdict) if verdict.failed() => Some(verdict.to_string()),
                Ok(verdict) => {
                    crate::baseline_notes::deliver(&verdict);
                    None
                }
                Err(e) => Some(e.to_string()),
            };
            if let Some(text) = failed {
                lines.push(failure::one_line(&text));
                failures.push(text);
            }
        }
        let note = failure::outside_note(&report);
        if failures.is_empty() {
            if let Some(note) = note {
                println!("memprobe: `{path}`: {note}");
            }
            return;
        }
        if crate::github::in_actions() {
            // On stdout, where the runner reads workflow commands (libtest shows a failing test's
            // captured output), once per failing function, before the panic that fails it.
            let what = if test.is_test { "test" } else { "function" };
            let heading = format!("{what} `{path}` failed its memory checks");
            println!("{}", failure::annotation(&heading, &lines, test.source()));
        }
        panic!(
            "{}",
            failure::message(
                test.is_test,
                &path,
                failures,
                note,
                &report,
                report_file.as_deref()
            )
        );
    }
}

/// The `sites` option's window: one sampling session per process, so concurrent tests take
/// turns (see [`sites::start`]).
#[cfg(feature = "sites")]
mod sites {
    use crate::measured::{SitesSpec, Test};
    use crate::output_dir::report_path;
    use crate::sites::{Sampling, Session, SitesError, pprof, render};
    use std::path::{Path, PathBuf};

    /// Starts the test's sites window, waiting while another one runs.
    ///
    /// Why wait: the sampler is process-wide and `cargo test` runs tests in parallel. Serializing
    /// the windows (as `ProbeOptions::process_scope_wait` does for process scope) keeps each
    /// window to one `sites` test; the test's own probe still counts its allocations exactly
    /// and in parallel with the others. Tests without `sites` are not held back, and what they
    /// allocate while a window is open is sampled into it: keep heavy allocators of the same
    /// binary out of `sites` tests' windows, or run them with `--test-threads=1`.
    #[track_caller]
    pub(super) fn start(spec: SitesSpec) -> Session {
        let sampling = if spec.exact {
            Sampling::Exact
        } else {
            Sampling::default()
        };
        loop {
            match Session::start(sampling) {
                Ok(session) => return session,
                Err(SitesError::SessionRunning) => {
                    std::thread::sleep(std::time::Duration::from_millis(1))
                }
                Err(e) => panic!("{e}"),
            }
        }
    }

    /// Ends the window, writes `<report stem>.sites.json` and `<report stem>.sites.pb.gz`
    /// beside the report file, and returns the top sites as a terminal table. Panics (failing
    /// the test) with the file when one cannot be written.
    #[track_caller]
    pub(super) fn finish(test: &Test, session: Session) -> String {
        let profile = session.finish();
        let report = report_path(test.package, &test.full_path());
        let (json, pb) = (
            sibling(&report, "sites.json"),
            sibling(&report, "sites.pb.gz"),
        );
        let written = report
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| crate::files::overwrite(&json, render::json(&profile).as_bytes()))
            .map_err(|source| SitesError::Write {
                path: json.clone(),
                source,
            })
            .and_then(|()| pprof::write(&profile, &pb));
        if let Err(e) = written {
            panic!("{e}");
        }
        let top = test.sites.map_or(10, |s| s.top);
        render::table(&profile, render::Format::Terminal, Some(top))
    }

    /// `dir/name.json` → `dir/name.<suffix>`.
    fn sibling(report: &Path, suffix: &str) -> PathBuf {
        report.with_extension(suffix)
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
) -> crate::Result<Verdict> {
    let name = test.baseline.unwrap_or(path);
    let root = test.manifest_dir().unwrap_or_else(|| PathBuf::from("."));
    let baselines = Baselines::for_crate(root, test.crate_name());
    let mut policy = Policy::new(growth)?.update_command(test.update_command());
    if let Some(noise) = settings.rss_noise {
        policy = policy.rss_noise(&noise.to_string())?;
    }
    baselines.check(name, report, &policy, baseline_mode())
}

/// Writes the report as JSON; panics (failing the test) when it cannot, since CI would otherwise
/// silently lose it.
#[track_caller]
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
