//! What a plot shows, as plain data: the run's series on the verdict's x-axis (seconds or
//! iterations), and the marks the verdict names (warm-up, fitted slope with its 95% band, steps,
//! period, plateau), the published phases and the verdict's sentence. Built once from a
//! [`RunSeries`] and its [`Verdict`]; the renderers ([`super::svg`], [`super::html`]) only draw
//! it. Every figure stays in raw units (bytes; seconds or iterations): the units are the
//! renderers' choice.
//!
//! # The fitted line
//!
//! The engine reports the slope and its interval, not an intercept (it fits binned points). The
//! line drawn has the engine's slope through the judged samples' Theil–Sen intercept (the median
//! of `y − slope·x`), and the band is the fan of the interval's two slopes through the line's
//! point at the judged samples' median x: where the series would be at either end of the
//! interval, which is what the interval says about the run.

use crate::verdict::RunSeries;
use memprobe::trend::{Axis, Estimate, SeriesChoice, SeriesKind, Verdict, Warmup};
use memprobe::units::{ByteAmount, Seconds};
use serde::Serialize;

/// A phase the process published, where it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Phase {
    /// Its name.
    pub(crate) name: String,
    /// When it was first seen, ns since the run started.
    pub(crate) t_ns: u64,
    /// The process's iteration count then.
    pub(crate) iteration: u64,
}

/// One series of the run, decimated: each point the mean of the samples it stands for, with
/// their minimum and maximum.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Line {
    /// The series' JSON key (`rss`, `jemalloc_allocated`, ...).
    pub(crate) key: &'static str,
    /// Its name in the legend.
    pub(crate) name: String,
    /// Its colour, `#rrggbb`.
    pub(crate) color: &'static str,
    /// Whether the verdict judged it (drawn emphasised).
    pub(crate) judged: bool,
    /// x of each point, on the chart's axis.
    pub(crate) x: Vec<f64>,
    /// Mean bytes of each point.
    pub(crate) y: Vec<f64>,
    /// Least bytes among the samples each point stands for.
    pub(crate) lo: Vec<f64>,
    /// Most bytes among the samples each point stands for.
    pub(crate) hi: Vec<f64>,
}

/// The fitted slope over the judged samples and its 95% band (see the module docs).
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct Fit {
    /// First judged x.
    pub(crate) x0: f64,
    /// Last judged x.
    pub(crate) x1: f64,
    /// The band's pivot: the judged samples' median x ...
    pub(crate) pivot_x: f64,
    /// ... and the line's bytes there.
    pub(crate) pivot_y: f64,
    /// Bytes per axis unit, with its 95% interval.
    pub(crate) slope: Estimate,
}

impl Fit {
    /// Bytes on the line with slope `slope` at `x`.
    pub(crate) fn at(&self, slope: f64, x: f64) -> f64 {
        self.pivot_y + slope * (x - self.pivot_x)
    }
}

/// A labelled mark at one x (a step) or over a span (period, plateau, phase, warm-up).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Mark {
    /// Where it starts, on the chart's axis.
    pub(crate) x0: f64,
    /// Where it ends (equal to `x0` for a step).
    pub(crate) x1: f64,
    /// A level in bytes, where the mark has one (a plateau's).
    pub(crate) y: Option<f64>,
    /// What it says.
    pub(crate) label: String,
}

/// Everything a plot of one run shows.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Chart {
    /// `KIND: the verdict's sentence`.
    pub(crate) title: String,
    /// The verdict's kind (`growth`, `pass`, ...).
    pub(crate) verdict: &'static str,
    /// `iterations` or `seconds`: the verdict's x-axis.
    pub(crate) axis: &'static str,
    /// The x range drawn.
    pub(crate) x_range: (f64, f64),
    /// The byte range drawn (from 0 when the series stay within 4× their span above it).
    pub(crate) y_range: (f64, f64),
    /// The series, the judged one last (drawn on top).
    pub(crate) series: Vec<Line>,
    /// The warm-up the verdict dropped.
    pub(crate) warmup: Option<Mark>,
    /// The fitted slope.
    pub(crate) fit: Option<Fit>,
    /// The fit's label (`fit 208.0 KiB/iteration (95% CI ...)`).
    pub(crate) fit_label: Option<String>,
    /// Steps the verdict found, when its sentence names them.
    pub(crate) steps: Vec<Mark>,
    /// One cycle of the period the verdict found, from the first judged x.
    pub(crate) period: Option<Mark>,
    /// The plateau the run ends on.
    pub(crate) plateau: Option<Mark>,
    /// The phases the process published, each up to the next.
    pub(crate) phases: Vec<Mark>,
}

/// Colours of the series (a colour-blind-safe palette, Okabe–Ito), by kind.
pub(crate) fn color(kind: SeriesKind) -> &'static str {
    match kind {
        SeriesKind::Rss => "#0072b2",
        SeriesKind::RssAnonPlusSwap => "#e69f00",
        SeriesKind::JemallocAllocated => "#009e73",
        SeriesKind::JemallocActive => "#cc79a7",
        SeriesKind::JemallocResident => "#d55e00",
        _ => "#56b4e9",
    }
}

/// A series' name in the legend; `/proc` series of a `--tree` run are the tree's totals.
fn name(kind: SeriesKind, tree: bool) -> String {
    match kind {
        SeriesKind::AllocatorLive => "live heap".to_owned(),
        SeriesKind::Rss | SeriesKind::RssAnonPlusSwap if tree => format!("tree {kind}"),
        k => k.to_string(),
    }
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

impl Chart {
    /// The chart of `run` as `verdict` judged it, with the phases the process published.
    pub(crate) fn build(run: &RunSeries, verdict: &Verdict, phases: &[Phase]) -> Chart {
        let ev = &verdict.evidence;
        let axis = ev.axis;
        // Every series the run has (the allocator-level ones too, with --tree).
        let offered = run.series(SeriesChoice::Kind(SeriesKind::JemallocAllocated));
        let mut series: Vec<Line> = Vec::new();
        // Points of the judged series: (t_secs, iteration, x, bytes).
        let mut judged: Vec<(f64, Option<u64>, f64, f64)> = Vec::new();
        for s in &offered {
            if s.is_empty() {
                continue;
            }
            let is_judged = s.kind == ev.series;
            let mut points: Vec<(f64, f64, f64, f64)> = s
                .samples
                .iter()
                .filter_map(|p| {
                    let x = match axis {
                        Axis::Iterations => p.iteration? as f64,
                        Axis::Seconds => p.t_secs,
                    };
                    if is_judged {
                        judged.push((p.t_secs, p.iteration, x, p.bytes));
                    }
                    Some((
                        x,
                        p.bytes,
                        p.min_bytes.unwrap_or(p.bytes),
                        p.max_bytes.unwrap_or(p.bytes),
                    ))
                })
                .collect();
            if points.is_empty() {
                continue;
            }
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            series.push(Line {
                key: s.kind.key(),
                name: name(s.kind, run.tree()),
                color: color(s.kind),
                judged: is_judged,
                x: points.iter().map(|p| p.0).collect(),
                y: points.iter().map(|p| p.1).collect(),
                lo: points.iter().map(|p| p.2).collect(),
                hi: points.iter().map(|p| p.3).collect(),
            });
        }
        // The judged series last: drawn on top of the others.
        series.sort_by_key(|l| l.judged);

        let (mut x_lo, mut x_hi) = (f64::INFINITY, f64::NEG_INFINITY);
        let (mut y_lo, mut y_hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for l in &series {
            for (x, (lo, hi)) in l.x.iter().zip(l.lo.iter().zip(&l.hi)) {
                x_lo = x_lo.min(*x);
                x_hi = x_hi.max(*x);
                y_lo = y_lo.min(*lo);
                y_hi = y_hi.max(*hi);
            }
        }
        let phase_x = |p: &Phase| match axis {
            Axis::Iterations => p.iteration as f64,
            Axis::Seconds => p.t_ns as f64 / 1e9,
        };
        if series.is_empty() {
            (x_lo, x_hi, y_lo, y_hi) = (0.0, 1.0, 0.0, 1.0);
        }
        if x_hi <= x_lo {
            x_hi = x_lo + 1.0;
        }
        if y_hi <= y_lo {
            y_hi = y_lo + 1.0;
        }
        // From zero when the data sit near it (a reader judges growth against the whole); else
        // zoomed on the data with a margin, so a small drift on a large base is visible.
        let y_range = if y_lo <= 4.0 * (y_hi - y_lo) {
            (0.0, y_hi * 1.05)
        } else {
            let pad = (y_hi - y_lo) * 0.1;
            (y_lo - pad, y_hi + pad)
        };

        let unit = axis.unit();
        let fmt_x = |x: f64| match axis {
            Axis::Iterations => format!("iteration {x:.0}"),
            Axis::Seconds => Seconds(x).to_string(),
        };

        let warmup = warmup_end(&judged, ev.warmup)
            .filter(|_| ev.warmup_dropped > 0)
            .map(|end| Mark {
                x0: x_lo,
                x1: end,
                y: None,
                label: format!("warm-up ({})", ev.warmup),
            });
        let judged_from = ev
            .plateau_start
            .or(warmup.as_ref().map(|w| w.x1))
            .unwrap_or(f64::NEG_INFINITY);
        // A run that passed as a plateau is judged on its flat part: that part's slope is the
        // one the sentence gives.
        let slope = match (ev.plateau, axis) {
            (Some(p), _) => Some(p.slope_after),
            (None, Axis::Iterations) => ev.slope_per_iteration,
            (None, Axis::Seconds) => ev.slope_per_sec,
        };
        let fit = slope.and_then(|slope| {
            let used: Vec<&(f64, Option<u64>, f64, f64)> =
                judged.iter().filter(|p| p.2 >= judged_from).collect();
            let mut xs: Vec<f64> = used.iter().map(|p| p.2).collect();
            let mut residuals: Vec<f64> = used.iter().map(|p| p.3 - slope.value * p.2).collect();
            let x0 = xs.iter().copied().fold(f64::INFINITY, f64::min);
            let x1 = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let pivot_x = median(&mut xs)?;
            let intercept = median(&mut residuals)?;
            Some(Fit {
                x0,
                x1,
                pivot_x,
                pivot_y: intercept + slope.value * pivot_x,
                slope,
            })
        });
        let fit_label = fit.map(|f| {
            format!(
                "fit {}/{unit} (95% CI {} to {})",
                ByteAmount(f.slope.value),
                ByteAmount(f.slope.low),
                ByteAmount(f.slope.high)
            )
        });
        // The engine's segmentation cuts a steady ramp into "steps" too, and its sentence then
        // tells a rise, not steps: steps are drawn when the sentence names them (one step up to
        // a plateau, or a staircase), so the plot never shows steps the verdict does not claim.
        let steps_named = [" steps up ", " steps of about "]
            .iter()
            .any(|p| verdict.summary.contains(p));
        let steps = ev
            .steps
            .iter()
            .filter(|_| steps_named)
            .map(|s| Mark {
                x0: s.at,
                x1: s.at,
                y: None,
                label: format!(
                    "{}{} at {}",
                    if s.size_bytes >= 0.0 { "+" } else { "" },
                    ByteAmount(s.size_bytes),
                    fmt_x(s.at)
                ),
            })
            .collect();
        let first_judged = fit
            .map(|f| f.x0)
            .or(warmup.as_ref().map(|w| w.x1))
            .unwrap_or(x_lo);
        let period = ev.period.map(|p| Mark {
            x0: first_judged,
            x1: first_judged + p.period,
            y: None,
            label: format!(
                "period {} ({} cycles, ±{})",
                match axis {
                    Axis::Iterations => format!("{:.0} iterations", p.period),
                    Axis::Seconds => Seconds(p.period).to_string(),
                },
                p.cycles,
                ByteAmount(p.amplitude_bytes / 2.0)
            ),
        });
        let plateau = ev.plateau.map(|p| Mark {
            x0: p.start,
            x1: x_hi,
            y: Some(p.level_bytes),
            label: format!(
                "plateau at {} (rose {})",
                ByteAmount(p.level_bytes),
                ByteAmount(p.rise_bytes)
            ),
        });
        let mut phase_marks: Vec<Mark> = Vec::new();
        for (i, p) in phases.iter().enumerate() {
            let x0 = phase_x(p).max(x_lo);
            let x1 = phases.get(i + 1).map_or(x_hi, phase_x).min(x_hi);
            if x1 > x0 && !p.name.is_empty() {
                phase_marks.push(Mark {
                    x0,
                    x1,
                    y: None,
                    label: p.name.clone(),
                });
            }
        }

        Chart {
            title: format!("{}: {}", verdict.kind.name(), verdict.summary),
            verdict: verdict.kind.name(),
            axis: match axis {
                Axis::Iterations => "iterations",
                Axis::Seconds => "seconds",
            },
            x_range: (x_lo, x_hi),
            y_range,
            series,
            warmup,
            fit,
            fit_label,
            steps,
            period,
            plateau,
            phases: phase_marks,
        }
    }
}

/// Where the warm-up ends on the axis: the least x among the samples the engine keeps, by the
/// same per-sample rule as `memprobe::trend` (a duration from the first sample's time, a share of
/// the x range, a count of iterations from the first mark).
fn warmup_end(points: &[(f64, Option<u64>, f64, f64)], warmup: Warmup) -> Option<f64> {
    let t_min = points.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let x_min = points.iter().map(|p| p.2).fold(f64::INFINITY, f64::min);
    let x_max = points.iter().map(|p| p.2).fold(f64::NEG_INFINITY, f64::max);
    let it_min = points.iter().filter_map(|p| p.1).min().unwrap_or(0);
    let keep = |p: &(f64, Option<u64>, f64, f64)| match warmup {
        Warmup::None => true,
        Warmup::Duration(d) => p.0 - t_min >= d.as_secs_f64(),
        Warmup::Share(share) => p.2 >= x_min + share * (x_max - x_min),
        Warmup::Iterations(k) => p.1.unwrap_or(0).saturating_sub(it_min) >= k,
        _ => true,
    };
    points
        .iter()
        .filter(|p| keep(p))
        .map(|p| p.2)
        .min_by(f64::total_cmp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{InconclusiveExit, JudgeConfig};
    use memprobe::trend::TrendConfig;

    const MIB: u64 = 1 << 20;
    const SEC: u64 = 1_000_000_000;

    fn judge(run: &RunSeries) -> Verdict {
        run.judge(&JudgeConfig {
            trend: TrendConfig::new(),
            enforced: true,
            inconclusive: InconclusiveExit::Inconclusive,
            github: false,
        })
        .unwrap()
    }

    #[test]
    fn a_leak_on_seconds_has_its_warmup_fit_and_phases() {
        // RSS grows 64 KiB/s on 10 MiB for 100 s; no published figures: judged on seconds.
        let mut run = RunSeries::new(false);
        for i in 0..100u64 {
            run.record_proc(i * SEC, 10 * MIB + i * 65_536, Some(5 * MIB + i * 65_536));
        }
        let verdict = judge(&run);
        let phases = [
            Phase {
                name: "load".into(),
                t_ns: 0,
                iteration: 0,
            },
            Phase {
                name: String::new(),
                t_ns: 30 * SEC,
                iteration: 0,
            },
            Phase {
                name: "soak".into(),
                t_ns: 50 * SEC,
                iteration: 0,
            },
        ];
        let chart = Chart::build(&run, &verdict, &phases);
        assert_eq!(chart.verdict, "growth");
        assert_eq!(chart.title, format!("growth: {}", verdict.summary));
        assert_eq!(chart.axis, "seconds");
        assert_eq!(chart.x_range, (0.0, 99.0));
        assert_eq!(
            chart.y_range.0, 0.0,
            "growth from near zero is drawn from zero"
        );
        // Judged (RssAnon+swap) last, so it is drawn on top.
        let keys: Vec<&str> = chart.series.iter().map(|l| l.key).collect();
        assert_eq!(keys, ["rss", "rss_anon_plus_swap"]);
        assert_eq!(chart.series[0].name, "RSS");
        let mut tree = RunSeries::new(true);
        tree.record_proc(0, MIB, Some(MIB));
        let tree_chart = Chart::build(&tree, &judge(&tree), &[]);
        assert_eq!(tree_chart.series[0].name, "tree RSS");
        assert!(chart.series[1].judged && !chart.series[0].judged);
        assert_eq!(chart.series[1].y[10], (5 * MIB + 10 * 65_536) as f64);
        // 20% of 0..99 s: the first kept sample is at 20 s.
        let w = chart.warmup.as_ref().unwrap();
        assert_eq!((w.x0, w.x1), (0.0, 20.0));
        assert_eq!(w.label, "warm-up (20%)");
        // The fitted line goes through the data, from the end of the warm-up to the last sample.
        let f = chart.fit.unwrap();
        assert_eq!((f.x0, f.x1), (20.0, 99.0));
        assert!((f.slope.value - 65_536.0).abs() < 1.0, "{:?}", f.slope);
        for x in [20.0, 60.0, 99.0] {
            let data = 5.0 * MIB as f64 + x * 65_536.0;
            assert!((f.at(f.slope.value, x) - data).abs() < 64.0, "at {x}");
        }
        assert!(
            chart
                .fit_label
                .unwrap()
                .starts_with("fit 64.0 KiB/s (95% CI ")
        );
        // Phases span to the next one; the unnamed one is not labelled but ends the one before.
        let spans: Vec<(f64, f64, &str)> = chart
            .phases
            .iter()
            .map(|p| (p.x0, p.x1, p.label.as_str()))
            .collect();
        assert_eq!(spans, [(0.0, 30.0, "load"), (50.0, 99.0, "soak")]);
        // A ramp has no steps, in the evidence or the sentence: no step is drawn.
        assert!(verdict.evidence.steps.is_empty(), "{}", verdict.summary);
        assert!(!verdict.summary.contains("step"), "{}", verdict.summary);
        assert!(chart.steps.is_empty(), "{:?}", chart.steps);
        assert!(chart.period.is_none() && chart.plateau.is_none());
    }

    #[test]
    fn marked_iterations_are_the_x_axis_and_a_plateau_is_its_level() {
        // jemalloc allocated rises 1 MiB an iteration for 60 iterations, then holds at 110 MiB.
        let mut run = RunSeries::new(false);
        for i in 1..=200u64 {
            let mut p = memprobe::publish::PublishedStats::default();
            p.iteration = i;
            let mut j = memprobe::JemallocStats::default();
            j.allocated_bytes = 50 * MIB + i.min(60) * MIB;
            j.active_bytes = j.allocated_bytes;
            j.resident_bytes = j.allocated_bytes + MIB;
            p.jemalloc = Some(j);
            run.record_published(i * SEC / 10, &p);
            run.record_proc(i * SEC / 10, 90 * MIB, Some(80 * MIB));
        }
        let verdict = judge(&run);
        let chart = Chart::build(&run, &verdict, &[]);
        assert_eq!(chart.axis, "iterations");
        assert_eq!(chart.x_range, (1.0, 200.0));
        let judged = chart.series.last().unwrap();
        assert_eq!(judged.key, "jemalloc_allocated");
        assert!(judged.judged);
        assert_eq!(judged.x[0], 1.0);
        assert!(
            verdict.summary.contains("passes as a plateau"),
            "{}",
            verdict.summary
        );
        let p = chart.plateau.as_ref().unwrap();
        assert_eq!(p.y, Some(110.0 * MIB as f64));
        assert_eq!(p.x1, 200.0);
        assert!(
            p.label.starts_with("plateau at 110.0 MiB (rose "),
            "{}",
            p.label
        );
        // A plateau's fit is its flat part's.
        let f = chart.fit.unwrap();
        assert!(f.x0 >= p.x0 && f.slope.value.abs() < 1024.0, "{f:?}");
        assert!((f.at(f.slope.value, 150.0) - 110.0 * MIB as f64).abs() < 1024.0);
        assert_eq!(chart.y_range, (0.0, 111.0 * MIB as f64 * 1.05));
    }
}
