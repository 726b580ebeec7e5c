//! The Prometheus text exposition format (version 0.0.4) of the board's figures: formatting only,
//! a pure function of copied figures, so it is tested without a server.
//!
//! Every family has its `# HELP` and `# TYPE` lines and is listed only when it has a sample (no
//! cgroup family without `--cgroup`, no jemalloc family without a publishing target). Names carry
//! their unit (`_bytes`, `_seconds`) and counters end in `_total`, as Prometheus's naming
//! conventions ask. Per-target series carry `pid`, `command` and `phase` (empty, so absent to
//! Prometheus, until the target publishes one); the daemon's own figures carry none.

use super::board::{SlotState, TargetFigures, VerdictKind};
use crate::procfs::SelfUsage;
use std::fmt::Write;

/// The `Content-Type` of the text format.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// One family: name, type, help, and how a target's value is read (`None`: no sample).
struct Family {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    value: fn(&TargetFigures) -> Option<u64>,
}

const FAMILIES: &[Family] = &[
    Family {
        name: "memprobe_target_running",
        kind: "gauge",
        help: "1 while the target is sampled, 0 once it has ended (exited, PID replaced, or the run stopped).",
        value: |t| Some(u64::from(t.state == SlotState::Running)),
    },
    Family {
        name: "memprobe_rss_bytes",
        kind: "gauge",
        help: "Resident set size of the target at its last sample (/proc/PID/statm).",
        value: |t| Some(t.rss_bytes),
    },
    Family {
        name: "memprobe_anon_swap_bytes",
        kind: "gauge",
        help: "RssAnon + VmSwap of the target at its last status read (/proc/PID/status).",
        value: |t| t.anon_swap_bytes,
    },
    Family {
        name: "memprobe_peak_rss_bytes",
        kind: "gauge",
        help: "Peak resident set size of the target (VmHWM), reset by --phase-reset.",
        value: |t| t.peak_rss_bytes,
    },
    Family {
        name: "memprobe_cgroup_usage_bytes",
        kind: "gauge",
        help: "Memory usage of the watched cgroup (--cgroup) at the last sample.",
        value: |t| t.cgroup_usage_bytes,
    },
    Family {
        name: "memprobe_jemalloc_allocated_bytes",
        kind: "gauge",
        help: "jemalloc stats.allocated published by the target (memprobe::publish).",
        value: |t| t.jemalloc.map(|j| j[0]),
    },
    Family {
        name: "memprobe_jemalloc_active_bytes",
        kind: "gauge",
        help: "jemalloc stats.active published by the target (memprobe::publish).",
        value: |t| t.jemalloc.map(|j| j[1]),
    },
    Family {
        name: "memprobe_jemalloc_resident_bytes",
        kind: "gauge",
        help: "jemalloc stats.resident published by the target (memprobe::publish).",
        value: |t| t.jemalloc.map(|j| j[2]),
    },
    Family {
        name: "memprobe_samples_total",
        kind: "counter",
        help: "Samples taken of the target: the number of lines of its --out JSONL.",
        value: |t| Some(t.samples),
    },
];

/// Writes `pid`, `command` and `phase`, escaped, without the braces.
fn target_labels(out: &mut String, t: &TargetFigures) {
    let _ = write!(out, "pid=\"{}\",command=\"", t.pid);
    escape(out, &t.command);
    out.push_str("\",phase=\"");
    escape(out, &t.phase);
    out.push('"');
}

/// Label value escaping: backslash, double quote and line feed.
fn escape(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// The exposition of `targets` (in slot order), the run loop's missed ticks and the daemon's own
/// cost.
pub(crate) fn render(targets: &[TargetFigures], missed: u64, own: &SelfUsage) -> String {
    let mut out = String::with_capacity(512 + targets.len() * 1024);
    for family in FAMILIES {
        let mut samples = targets
            .iter()
            .filter_map(|t| (family.value)(t).map(|v| (t, v)))
            .peekable();
        if samples.peek().is_none() {
            continue;
        }
        header(&mut out, family.name, family.kind, family.help);
        for (t, v) in samples {
            out.push_str(family.name);
            out.push('{');
            target_labels(&mut out, t);
            let _ = writeln!(out, "}} {v}");
        }
    }
    if !targets.is_empty() {
        header(
            &mut out,
            "memprobe_verdict",
            "gauge",
            "The target's current verdict, re-judged every few seconds: 1 on its kind, 0 on the others (all 0 before the first judgement).",
        );
        for t in targets {
            for kind in VerdictKind::LISTED {
                out.push_str("memprobe_verdict{");
                target_labels(&mut out, t);
                let _ = writeln!(
                    out,
                    ",kind=\"{}\"}} {}",
                    kind.name(),
                    u8::from(t.verdict == kind)
                );
            }
        }
    }
    header(
        &mut out,
        "memprobe_sampler_missed_samples_total",
        "counter",
        "Sampling ticks the daemon skipped because it was behind its interval.",
    );
    let _ = writeln!(out, "memprobe_sampler_missed_samples_total {missed}");
    header(
        &mut out,
        "memprobe_sampler_cpu_seconds_total",
        "counter",
        "CPU time (user + system) of the whole daemon process, HTTP thread included.",
    );
    let cpu_ns = own.cpu_user_ns + own.cpu_system_ns;
    let _ = writeln!(
        out,
        "memprobe_sampler_cpu_seconds_total {}",
        cpu_ns as f64 / 1e9
    );
    header(
        &mut out,
        "memprobe_sampler_rss_bytes",
        "gauge",
        "Resident set size of the daemon itself.",
    );
    let _ = writeln!(out, "memprobe_sampler_rss_bytes {}", own.rss_bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(pid: u32) -> TargetFigures {
        TargetFigures {
            state: SlotState::Running,
            pid,
            command: "srv".into(),
            phase: String::new(),
            rss_bytes: 4096,
            anon_swap_bytes: Some(2048),
            peak_rss_bytes: None,
            cgroup_usage_bytes: None,
            jemalloc: None,
            samples: 3,
            verdict: VerdictKind::None,
        }
    }

    #[test]
    fn families_have_help_type_and_labelled_samples() {
        let mut a = target(7);
        a.verdict = VerdictKind::Growth;
        a.phase = "steady".into();
        let mut b = target(8);
        b.state = SlotState::Ended;
        b.command = "we\"ird\\name\n".into();
        let own = SelfUsage {
            cpu_user_ns: 1_500_000_000,
            rss_bytes: 9000,
            ..SelfUsage::default()
        };
        let text = render(&[a, b], 2, &own);
        assert!(text.contains(
            "# HELP memprobe_rss_bytes Resident set size of the target at its last sample (/proc/PID/statm).\n# TYPE memprobe_rss_bytes gauge\nmemprobe_rss_bytes{pid=\"7\",command=\"srv\",phase=\"steady\"} 4096\n"
        ), "{text}");
        assert!(text.contains(
            "memprobe_rss_bytes{pid=\"8\",command=\"we\\\"ird\\\\name\\n\",phase=\"\"} 4096\n"
        ));
        assert!(text.contains(
            "memprobe_target_running{pid=\"8\",command=\"we\\\"ird\\\\name\\n\",phase=\"\"} 0\n"
        ));
        assert!(text.contains("# TYPE memprobe_samples_total counter\n"));
        assert!(text.contains(
            "memprobe_verdict{pid=\"7\",command=\"srv\",phase=\"steady\",kind=\"growth\"} 1\n"
        ));
        assert!(text.contains(
            "memprobe_verdict{pid=\"7\",command=\"srv\",phase=\"steady\",kind=\"pass\"} 0\n"
        ));
        assert!(!text.contains("kind=\"none\""));
        // Figures never read are not shown: no cgroup, no jemalloc, no peak family.
        assert!(!text.contains("memprobe_cgroup_usage_bytes"));
        assert!(!text.contains("memprobe_jemalloc"));
        assert!(!text.contains("memprobe_peak_rss_bytes"));
        assert!(text.contains("memprobe_sampler_missed_samples_total 2\n"));
        assert!(text.contains("memprobe_sampler_cpu_seconds_total 1.5\n"));
        assert!(text.contains("memprobe_sampler_rss_bytes 9000\n"));
        // Every sample line belongs to a family declared just before it.
        let mut declared = "";
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                declared = rest.split(' ').next().unwrap();
            } else if !line.starts_with('#') {
                assert!(line.starts_with(declared), "{line} after {declared}");
            }
        }
    }

    #[test]
    fn no_target_still_shows_the_daemon() {
        let text = render(&[], 0, &SelfUsage::default());
        assert!(!text.contains("memprobe_verdict"));
        assert!(!text.contains("memprobe_rss_bytes"));
        assert!(text.contains("memprobe_sampler_rss_bytes 0\n"));
    }
}
