//! Seeded synthetic suites for the verdict engine: every shape a service's memory takes (flat,
//! sawtooth, steps, staircases, ratchets, plateaus with churn, autocorrelated noise, leaks under
//! all of them), at least 50 seeds each, with the rules the engine must keep:
//!
//! - no growth on a shape that does not leak (a false growth fails a healthy build);
//! - growth on every leak above the threshold (a missed leak is the worst outcome);
//! - on a steady leak the slope within ±5% of the truth, under a sawtooth within ±25%, and the
//!   95% interval containing the truth in at least 90% of the seeds (a 95% interval misses one
//!   run in twenty by definition, so "every seed" would be a test of luck).
//!
//! `cargo test -p memprobe --test trend_suites -- --nocapture confusion` prints the confusion
//! table (shape × verdict) published in BENCHMARKS.md. `TREND_SEEDS=200` runs more seeds. The
//! `jumps` module holds the leaks that move in jumps (ratchets and staircases over a grid of
//! rates, lengths and noise), where a pass is a missed leak.

use memprobe::trend::{Sample, Series, SeriesKind, TrendConfig, VerdictKind, analyze};
use std::fmt::Write as _;

mod trend_support;
use trend_support::SplitMix;

const MIB: f64 = 1024.0 * 1024.0;
const PAGE: f64 = 4096.0;
const BASE: f64 = 100.0 * MIB;
/// 200 s at 10 Hz; the default 20% warm-up leaves 160 s judged.
const SAMPLES: usize = 2000;
const DT: f64 = 0.1;
const JUDGED_SECS: f64 = 0.8 * SAMPLES as f64 * DT;

/// Seeds per shape; `TREND_SEEDS=200` checks the rates more closely.
fn seeds() -> u64 {
    std::env::var("TREND_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50)
}

/// `n` samples every `dt` seconds of `shape(t, rng)`, rounded to whole pages (RSS is counted in
/// pages).
fn trace(seed: u64, n: usize, dt: f64, mut shape: impl FnMut(f64, &mut SplitMix) -> f64) -> Series {
    let mut rng = SplitMix::new(seed);
    Series::from_samples(
        SeriesKind::Rss,
        (0..n).map(|i| {
            let t = i as f64 * dt;
            Sample::new(t, (shape(t, &mut rng) / PAGE).round() * PAGE)
        }),
    )
}

/// A sawtooth of `amplitude` bytes whose cycles last `period` seconds each ± `jitter` (a share),
/// starting at a random phase: 0 at a trough, rising linearly, dropping at the cycle's end.
struct Saw {
    period: f64,
    amplitude: f64,
    jitter: f64,
    /// Start and length of the current cycle.
    start: f64,
    len: f64,
}

impl Saw {
    fn new(period: f64, amplitude: f64, jitter: f64, rng: &mut SplitMix) -> Self {
        let len = period * (1.0 + jitter * (2.0 * rng.uniform() - 1.0));
        Saw {
            period,
            amplitude,
            jitter,
            start: -rng.uniform() * len,
            len,
        }
    }

    fn at(&mut self, t: f64, rng: &mut SplitMix) -> f64 {
        while t >= self.start + self.len {
            self.start += self.len;
            self.len = self.period * (1.0 + self.jitter * (2.0 * rng.uniform() - 1.0));
        }
        self.amplitude * (t - self.start) / self.len
    }
}

/// What a shape must get.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Expect {
    /// Does not leak: never growth, always pass.
    Pass,
    /// Does not leak, but may be too short or too wild to rule growth out: never growth.
    NoGrowth,
    /// Leaks above the threshold: always growth.
    Growth,
    /// Leaks above the threshold in a run too short to show it clearly: never pass.
    NotPass,
    /// A leak near the threshold: recorded, not asserted.
    Either,
}

/// How close the slope must be to the truth, with the truth in bytes per second.
#[derive(Clone, Copy)]
struct Truth {
    rate: f64,
    tolerance: f64,
}

struct Shape {
    name: String,
    expect: Expect,
    truth: Option<Truth>,
    config: TrendConfig,
    make: Box<dyn Fn(u64) -> Series>,
}

fn shape(name: impl Into<String>, expect: Expect, make: impl Fn(u64) -> Series + 'static) -> Shape {
    Shape {
        name: name.into(),
        expect,
        truth: None,
        config: TrendConfig::new(),
        make: Box::new(make),
    }
}

impl Shape {
    fn truth(mut self, rate: f64, tolerance: f64) -> Self {
        self.truth = Some(Truth { rate, tolerance });
        self
    }
}

/// The growth the default 5% threshold allows over the judged 160 s on a level, as a rate.
fn threshold_rate(level: f64) -> f64 {
    0.05 * level / JUDGED_SECS
}

fn sawtooth(period: f64, amplitude: f64, leak: f64, full: bool) -> impl Fn(u64) -> Series {
    move |seed| {
        let mut rng = SplitMix::new(seed ^ 0x5A57);
        let mut saw = Saw::new(period, amplitude, 0.05, &mut rng);
        // Stop anywhere in the last 15% of the run, so most runs end mid-cycle.
        let n = if full {
            SAMPLES
        } else {
            SAMPLES - (rng.uniform() * 0.15 * SAMPLES as f64) as usize
        };
        trace(seed, n, DT, move |t, r| {
            BASE + leak * t + saw.at(t, &mut rng) + 0.005 * BASE * r.normal()
        })
    }
}

/// glibc-like RSS of a program leaking `leak` bytes per second while churning large temporary
/// buffers: the heap's top only moves up when the leaked bytes outgrow the holes the churn left,
/// so RSS stays flat for many samples, then jumps to the true level plus a random slack; rarely
/// the top is trimmed back to the true level. Page noise on top.
fn ratchet(base: f64, leak: f64, n: usize, jump_p: f64) -> impl Fn(u64) -> Series {
    noisy_ratchet(base, leak, n, jump_p, 0.0)
}

/// [`ratchet`] with normal noise of `sigma` bytes on top of the page noise (none when 0, and then
/// the same trace as `ratchet` for the same seed).
fn noisy_ratchet(
    base: f64,
    leak: f64,
    n: usize,
    jump_p: f64,
    sigma: f64,
) -> impl Fn(u64) -> Series {
    move |seed| {
        let mut rng = SplitMix::new(seed ^ 0x4A7C);
        let mut level = base;
        trace(seed, n, DT, move |t, r| {
            let truth = base + leak * t;
            let u = rng.uniform();
            if u < 0.01 {
                level = truth;
            } else if u < 0.01 + jump_p && truth > level - 0.5 * MIB {
                level = level.max(truth) + rng.uniform() * 1.5 * MIB;
            }
            let noise = if sigma > 0.0 { sigma * r.normal() } else { 0.0 };
            level.max(truth - 1.0 * MIB) + PAGE * (r.uniform() * 3.0).floor() + noise
        })
    }
}

/// A staircase leaking `rate` bytes per second in equal steps every `gap` seconds (the first at a
/// random phase), over `n` samples, with normal noise of `sigma` bytes.
fn staircase(base: f64, rate: f64, gap: f64, n: usize, sigma: f64) -> impl Fn(u64) -> Series {
    move |seed| {
        let phase = SplitMix::new(seed ^ 0x57A3).uniform() * gap;
        trace(seed, n, DT, move |t, r| {
            let steps = ((t + phase) / gap).floor();
            base + steps * rate * gap + if sigma > 0.0 { sigma * r.normal() } else { 0.0 }
        })
    }
}

/// AR(1) noise with coefficient `phi`, stationary standard deviation `sigma`, around `level(t)`.
fn ar1(phi: f64, sigma: f64, level: impl Fn(f64) -> f64 + 'static) -> impl Fn(u64) -> Series {
    move |seed| {
        let mut rng = SplitMix::new(seed ^ 0xA121);
        let innovation = sigma * (1.0 - phi * phi).sqrt();
        let mut e = sigma * rng.normal();
        trace(seed, SAMPLES, DT, |t, _| {
            e = phi * e + innovation * rng.normal();
            level(t) + e
        })
    }
}

fn shapes() -> Vec<Shape> {
    let noise = 0.005 * BASE;
    let mut all = vec![
        shape("flat, noise 0.5%", Expect::Pass, move |seed| {
            trace(seed, SAMPLES, DT, |_, r| BASE + noise * r.normal())
        }),
        shape("flat with 2% spikes of +30%", Expect::Pass, move |seed| {
            trace(seed, SAMPLES, DT, |_, r| {
                let spike = if r.uniform() < 0.02 { 0.3 * BASE } else { 0.0 };
                BASE + noise * r.normal() + spike
            })
        }),
        shape(
            "AR(1) φ 0.9, σ 1%",
            Expect::Pass,
            ar1(0.9, 0.01 * BASE, |_| BASE),
        ),
        shape(
            "AR(1) φ 0.99, σ 1%",
            Expect::NoGrowth,
            ar1(0.99, 0.01 * BASE, |_| BASE),
        ),
        shape("fill 20% (τ 10 s), then flat", Expect::Pass, move |seed| {
            trace(seed, SAMPLES, DT, |t, r| {
                BASE + 0.2 * BASE * (1.0 - (-t / 10.0).exp()) + noise * r.normal()
            })
        }),
        shape(
            "ramp +20% over half the run, then flat",
            Expect::Pass,
            move |seed| {
                trace(seed, SAMPLES, DT, |t, r| {
                    BASE + 0.2 * BASE * (t / 100.0).min(1.0) + noise * r.normal()
                })
            },
        ),
        shape("one step +10% at 25–65%", Expect::Pass, move |seed| {
            let at = (0.25 + 0.4 * SplitMix::new(seed ^ 0x57E9).uniform()) * 200.0;
            trace(seed, SAMPLES, DT, move |t, r| {
                BASE + if t < at { 0.0 } else { 0.1 * BASE } + noise * r.normal()
            })
        }),
        shape(
            "one step +64 MiB at 40%, exact",
            Expect::Pass,
            move |seed| {
                let at = (0.35 + 0.1 * SplitMix::new(seed ^ 0x57EA).uniform()) * 200.0;
                trace(seed, SAMPLES, DT, move |t, _| {
                    BASE + if t < at { 0.0 } else { 64.0 * MIB }
                })
            },
        ),
        shape(
            "plateau after fill, periodic churn 30% every 5 s",
            Expect::Pass,
            move |seed| {
                let mut rng = SplitMix::new(seed ^ 0xC4);
                let phase = rng.uniform() * 5.0;
                trace(seed, SAMPLES, DT, move |t, r| {
                    let churn = if ((t + phase) / 5.0).fract() < 0.2 {
                        0.3 * BASE
                    } else {
                        0.0
                    };
                    BASE + 0.1 * BASE * (1.0 - (-t / 8.0).exp()) + churn + noise * r.normal()
                })
            },
        ),
    ];
    for period in [2.0, 7.0, 20.0] {
        for amplitude in [0.1, 0.4] {
            all.push(shape(
                format!("sawtooth {period} s, {}%", amplitude * 100.0),
                Expect::Pass,
                sawtooth(period, amplitude * BASE, 0.0, false),
            ));
        }
    }
    // Two periods only in the judged part: too short to tell a tooth from growth.
    all.push(shape(
        "sawtooth 70 s, 40% (2 periods)",
        Expect::NoGrowth,
        sawtooth(70.0, 0.4 * BASE, 0.0, true),
    ));
    // Leaks under a 40% sawtooth of period 2 s: the threshold is 5% of the mean level (1.2 BASE).
    let saw_threshold = threshold_rate(1.2 * BASE);
    for (label, ratio, expect) in [
        ("half", 0.5, Expect::NoGrowth),
        ("0.9×", 0.9, Expect::Either),
        ("1×", 1.0, Expect::Either),
        ("2×", 2.0, Expect::Growth),
        ("5×", 5.0, Expect::Growth),
    ] {
        let rate = ratio * saw_threshold;
        let s = shape(
            format!("sawtooth 2 s, 40% + leak {label} threshold"),
            expect,
            sawtooth(2.0, 0.4 * BASE, rate, false),
        );
        all.push(if ratio >= 2.0 { s.truth(rate, 0.25) } else { s });
    }
    // The CPython worker of the issue: 80 KiB every 0.1 s under a 40 MiB sawtooth of 2 s.
    all.push(
        shape(
            "worker: 40 MiB sawtooth 2 s + 800 KiB/s",
            Expect::Growth,
            move |seed| {
                let mut rng = SplitMix::new(seed ^ 0xC0DE);
                let mut saw = Saw::new(2.0, 40.0 * MIB, 0.05, &mut rng);
                trace(seed, 600, DT, move |t, r| {
                    60.0 * MIB + 800.0 * 1024.0 * t + saw.at(t, &mut rng) + 0.2 * MIB * r.normal()
                })
            },
        )
        .truth(800.0 * 1024.0, 0.25),
    );
    for (label, ratio, expect) in [
        ("0.5×", 0.5, Expect::NoGrowth),
        ("0.9×", 0.9, Expect::Either),
        ("2×", 2.0, Expect::Growth),
        ("5×", 5.0, Expect::Growth),
    ] {
        let rate = ratio * threshold_rate(BASE);
        let s = shape(
            format!("steady leak {label} threshold, noise 0.5%"),
            expect,
            move |seed| {
                trace(seed, SAMPLES, DT, move |t, r| {
                    BASE + rate * t + noise * r.normal()
                })
            },
        );
        all.push(if ratio >= 2.0 { s.truth(rate, 0.05) } else { s });
    }
    all.push(
        shape(
            "steady leak 3× threshold, AR(1) φ 0.9 σ 1%",
            Expect::Growth,
            ar1(0.9, 0.01 * BASE, |t| BASE + 3.0 * threshold_rate(BASE) * t),
        )
        .truth(3.0 * threshold_rate(BASE), 0.25),
    );
    all.push(
        shape("leak 15% under noise 2%", Expect::Growth, move |seed| {
            trace(seed, SAMPLES, DT, |t, r| {
                BASE * (1.0 + 0.15 * t / 200.0) + 0.02 * BASE * r.normal()
            })
        })
        .truth(0.15 * BASE / 200.0, 0.25),
    );
    all.push(shape(
        "flat half, then leak 8% of the run",
        Expect::Growth,
        move |seed| {
            trace(seed, SAMPLES, DT, |t, r| {
                BASE * (1.0 + 0.16 * (t / 200.0 - 0.5).max(0.0)) + noise * r.normal()
            })
        },
    ));
    all.push(
        shape("staircase +1 MiB every 10 s", Expect::Growth, move |seed| {
            let phase = SplitMix::new(seed ^ 0x57A1).uniform() * 10.0;
            trace(seed, SAMPLES, DT, move |t, r| {
                BASE + ((t + phase) / 10.0).floor() * MIB + noise * r.normal()
            })
        })
        .truth(MIB / 10.0, 0.25),
    );
    all.push(shape(
        "staircase +4 MiB at random gaps (mean 20 s)",
        Expect::Growth,
        move |seed| {
            let mut rng = SplitMix::new(seed ^ 0x57A2);
            let mut next = rng.uniform() * 20.0;
            let mut level = BASE;
            trace(seed, SAMPLES, DT, move |t, r| {
                while t >= next {
                    level += 4.0 * MIB;
                    next += 5.0 + rng.uniform() * 30.0;
                }
                level + noise * r.normal()
            })
        },
    ));
    // Ratchets: the case (about 120 KiB/s on 30 MiB, 20 s at 10 Hz) and longer runs.
    let ratchet_threshold = 0.05 * 30.0 * MIB / 16.0;
    for (label, ratio, n, expect) in [
        // In 16 judged seconds the ratchet jumps a few times: never a pass (growth, or
        // inconclusive where its few levels cannot pin the trend down). `jumps` checks 200 seeds.
        ("20 s, 1.25×", 1.25, 200, Expect::NotPass),
        ("20 s, 2×", 2.0, 200, Expect::NotPass),
        ("200 s, 2×", 2.0, SAMPLES, Expect::Growth),
        ("200 s, 0.5×", 0.5, SAMPLES, Expect::NoGrowth),
    ] {
        let rate = ratio * ratchet_threshold * if n == SAMPLES { 0.1 } else { 1.0 };
        let s = shape(
            format!("ratchet {label} threshold"),
            expect,
            ratchet(30.0 * MIB, rate, n, 0.08),
        );
        all.push(if expect == Expect::Growth {
            s.truth(rate, 0.25)
        } else {
            s
        });
    }
    all
}

#[derive(Default)]
struct Tally {
    pass: u64,
    growth: u64,
    inconclusive: u64,
    other: u64,
    in_tolerance: u64,
    covered: u64,
    fitted: u64,
    worst: Option<String>,
}

fn run(shape: &Shape) -> Tally {
    let mut tally = Tally::default();
    for seed in 0..seeds() {
        let series = (shape.make)(seed);
        let v = analyze(&shape.config, &[series]).unwrap();
        let bad = match v.kind {
            VerdictKind::Pass => {
                tally.pass += 1;
                matches!(shape.expect, Expect::Growth | Expect::NotPass)
            }
            VerdictKind::Growth => {
                tally.growth += 1;
                matches!(shape.expect, Expect::Pass | Expect::NoGrowth)
            }
            VerdictKind::Inconclusive { .. } => {
                tally.inconclusive += 1;
                matches!(shape.expect, Expect::Pass | Expect::Growth)
            }
            _ => {
                tally.other += 1;
                true
            }
        };
        if let (Some(truth), Some(slope)) = (shape.truth, v.evidence.slope_per_sec) {
            tally.fitted += 1;
            if (slope.value - truth.rate).abs() <= truth.tolerance * truth.rate {
                tally.in_tolerance += 1;
            } else if tally.worst.is_none() {
                tally.worst = Some(format!("seed {seed}: slope off: {}", v.summary));
            }
            if slope.low <= truth.rate && truth.rate <= slope.high {
                tally.covered += 1;
            }
        }
        if bad && tally.worst.is_none() {
            tally.worst = Some(format!("seed {seed}: {}", v.summary));
        }
    }
    tally
}

/// Every shape's rule, and the confusion table in the failure message (and on stdout).
#[test]
fn confusion() {
    let mut table = String::from(
        "| shape | expected | pass | growth | inconclusive | slope in tolerance | CI covers truth |\n|---|---|---|---|---|---|---|\n",
    );
    let mut failures = Vec::new();
    for shape in shapes() {
        let t = run(&shape);
        let n = seeds();
        let (tol, cover) = match shape.truth {
            Some(truth) => (
                format!(
                    "{}/{} (±{}%)",
                    t.in_tolerance,
                    t.fitted,
                    truth.tolerance * 100.0
                ),
                format!("{}/{}", t.covered, t.fitted),
            ),
            None => ("".into(), "".into()),
        };
        writeln!(
            table,
            "| {} | {:?} | {} | {} | {} | {tol} | {cover} |",
            shape.name, shape.expect, t.pass, t.growth, t.inconclusive
        )
        .unwrap();
        let ok = t.other == 0
            && match shape.expect {
                Expect::Pass => t.pass == n,
                Expect::NoGrowth => t.growth == 0,
                Expect::Growth => t.growth == n,
                Expect::NotPass => t.pass == 0,
                Expect::Either => true,
            }
            && shape
                .truth
                .is_none_or(|_| t.fitted == n && t.in_tolerance == n && t.covered * 10 >= n * 9);
        if !ok {
            failures.push(format!(
                "{}: {}",
                shape.name,
                t.worst.unwrap_or_else(|| "slope or interval off".into())
            ));
        }
    }
    println!("{table}");
    assert!(
        failures.is_empty(),
        "{table}\n{} shapes broke their rule:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Prints every non-conforming seed's sentence for one shape:
/// `SHAPE='ratchet 20 s, 2×' cargo test -p memprobe --test trend_suites -- --ignored --nocapture explain`.
#[test]
#[ignore = "a tuning aid: prints, asserts nothing"]
fn explain() {
    let wanted = std::env::var("SHAPE").unwrap_or_default();
    for shape in shapes().into_iter().filter(|s| s.name.contains(&wanted)) {
        for seed in 0..seeds() {
            let v = analyze(&shape.config, &[(shape.make)(seed)]).unwrap();
            println!("{} / {seed}: {}", shape.name, v.summary);
            if std::env::var("EVIDENCE").is_ok_and(|s| s == seed.to_string()) {
                println!("{:#?}", v.evidence);
            }
        }
    }
}

/// Leaks above the threshold that move in jumps: ratchets and staircases. A pass on any of them is
/// a missed leak, the worst outcome; growth is the answer, and "inconclusive, run longer" only
/// where the judged seconds hold too few jumps to tell a pause from a plateau.
mod jumps {
    use super::*;

    /// A seeded trace maker.
    type Make = Box<dyn Fn(u64) -> Series>;

    /// Seeds for the jump suites: at least 200, since a miss in one seed of fifty is what they
    /// are here to catch.
    fn many_seeds() -> u64 {
        seeds().max(200)
    }

    /// What the engine said on each seed of `make`: (pass, growth, inconclusive) and the passes'
    /// sentences.
    fn tally(make: &dyn Fn(u64) -> Series, n: u64) -> ([u64; 3], Vec<String>) {
        let mut counts = [0; 3];
        let mut passes = Vec::new();
        for seed in 0..n {
            let v = analyze(&TrendConfig::new(), &[make(seed)]).unwrap();
            match v.kind {
                VerdictKind::Pass => {
                    counts[0] += 1;
                    passes.push(format!("seed {seed}: {}", v.summary));
                }
                VerdictKind::Growth => counts[1] += 1,
                _ => counts[2] += 1,
            }
        }
        (counts, passes)
    }

    /// The ratchet, 20 s at 10 Hz (16 judged seconds), at 1.25× and 2× the threshold.
    /// Before the fix, 9 of 200 seeds passed at 1.25× (13, 67, 97, 113, 122, 150, 160, 164, 187)
    /// and 1 at 2× (192).
    #[test]
    fn short_ratchets_never_pass() {
        let threshold = 0.05 * 30.0 * MIB / 16.0;
        let mut missed = Vec::new();
        for ratio in [1.25, 2.0] {
            let make = ratchet(30.0 * MIB, ratio * threshold, 200, 0.08);
            let (counts, passes) = tally(&make, many_seeds());
            println!("ratchet 20 s, {ratio}× threshold: pass / growth / inconclusive = {counts:?}");
            missed.extend(passes.into_iter().map(|p| format!("{ratio}×: {p}")));
        }
        assert!(
            missed.is_empty(),
            "{} missed leaks:\n{}",
            missed.len(),
            missed.join("\n")
        );
    }

    /// A grid of leaks that move in jumps: 1.1× to 2× the threshold, 16 to 120 judged seconds,
    /// staircases of 2 to 8 steps in the judged part and the glibc-like ratchet, with page noise
    /// only or 0.5% normal noise on top. No cell may pass a single seed.
    /// `cargo test -p memprobe --test trend_suites -- --nocapture jump_grid` prints the table.
    #[test]
    fn jump_grid_never_passes() {
        let mut table = String::from(
            "| leak | judged s | shape | noise | pass | growth | inconclusive |\n|---|---|---|---|---|---|---|\n",
        );
        let mut missed = Vec::new();
        for multiple in [1.1, 1.25, 1.5, 2.0] {
            for judged in [16.0, 30.0, 60.0, 120.0] {
                let n = (judged / 0.8 / DT).round() as usize;
                for (noise_label, share) in [("pages", 0.0), ("0.5%", 0.005)] {
                    let mut cells: Vec<(String, Make)> = Vec::new();
                    // The allowance is 5% of the first window's level, which the warm-up and
                    // the window's own climb already raised: aim the rate at that level.
                    let rate_on =
                        |base: f64| multiple * 0.05 * base / (judged * (1.0 - 0.0175 * multiple));
                    for steps in [2.0, 4.0, 8.0] {
                        let rate = rate_on(BASE);
                        cells.push((
                            format!("staircase, {steps} steps"),
                            Box::new(staircase(BASE, rate, judged / steps, n, share * BASE)),
                        ));
                    }
                    let base = 30.0 * MIB;
                    let rate = rate_on(base);
                    cells.push((
                        "ratchet".into(),
                        Box::new(noisy_ratchet(base, rate, n, 0.08, share * base)),
                    ));
                    for (shape, make) in cells {
                        let (c, passes) = tally(&make, seeds());
                        writeln!(
                            table,
                            "| {multiple}× | {judged} | {shape} | {noise_label} | {} | {} | {} |",
                            c[0], c[1], c[2]
                        )
                        .unwrap();
                        if let Some(first) = passes.first() {
                            missed.push(format!(
                                "{multiple}×, {judged} s, {shape}, noise {noise_label}: {} passes, {first}",
                                c[0]
                            ));
                        }
                    }
                }
            }
        }
        println!("{table}");
        assert!(
            missed.is_empty(),
            "{table}\n{} cells missed leaks:\n{}",
            missed.len(),
            missed.join("\n")
        );
    }
}

/// Long soaks judged in bounded memory: 24 h at 10 Hz and 1 h at 1 kHz streamed through a
/// [`BoundedSeries`] (per-stride min, mean and max, at most 4,096 samples kept).
mod long_soaks {
    use super::*;
    use memprobe::trend::BoundedSeries;

    /// Streams `n` readings every `dt` seconds of `shape(t)` plus noise into a bounded series.
    fn stream(n: u64, dt: f64, seed: u64, sigma: f64, shape: impl Fn(f64) -> f64) -> BoundedSeries {
        let mut rng = SplitMix::new(seed);
        let mut s = BoundedSeries::new(SeriesKind::Rss, 4096);
        for i in 0..n {
            let t = i as f64 * dt;
            s.push(Sample::new(
                t,
                ((shape(t) + sigma * rng.normal()) / PAGE).round() * PAGE,
            ));
            assert!(s.len() <= 4096);
        }
        s
    }

    #[test]
    fn a_day_at_10_hz() {
        // 864,000 readings; a 60 s, 20 MiB sawtooth on 200 MiB; with and without a leak of twice
        // the 5% threshold over the judged 19.2 h.
        let n = 864_000;
        let judged = 0.8 * n as f64 * 0.1;
        let leak = 2.0 * 0.05 * 210.0 * MIB / judged;
        let shape =
            |rate: f64| move |t: f64| 200.0 * MIB + rate * t + 20.0 * MIB * (t / 60.0).fract();
        for seed in 0..3 {
            let flat = stream(n, 0.1, seed, 0.002 * BASE, shape(0.0));
            assert_eq!(flat.readings(), n);
            let v = analyze(&TrendConfig::new(), &[flat.series()]).unwrap();
            assert_eq!(v.kind, VerdictKind::Pass, "{}", v.summary);
            let leaky = stream(n, 0.1, seed, 0.002 * BASE, shape(leak));
            let v = analyze(&TrendConfig::new(), &[leaky.series()]).unwrap();
            assert_eq!(v.kind, VerdictKind::Growth, "{}", v.summary);
            let slope = v.evidence.slope_per_sec.unwrap();
            assert!((slope.value / leak - 1.0).abs() < 0.05, "{}", v.summary);
            assert!(slope.low <= leak && leak <= slope.high, "{}", v.summary);
        }
    }

    #[test]
    fn an_hour_at_1_khz_does_not_alias() {
        // 3.6 million readings. The stride ends at 1,024 readings (1.024 s), and the sawtooth's
        // period is a hair shorter, so its phase drifts half a cycle per hour against the stride:
        // keeping every 1,024th reading would read that drift as an 8 MiB rise. Per-stride
        // means average the period out.
        let n = 3_600_000u64;
        let period = 1.024 * (1.0 - 0.5 / 3515.625);
        let saw = move |t: f64| 100.0 * MIB + 16.0 * MIB * (t / period).fract();
        let bounded = stream(n, 0.001, 1, 0.001 * BASE, saw);
        assert_eq!(bounded.stride(), 1024);
        let v = analyze(&TrendConfig::new(), &[bounded.series()]).unwrap();
        assert_eq!(v.kind, VerdictKind::Pass, "{}", v.summary);
        // What every-k-th thinning would have judged.
        let picked = Series::from_samples(
            SeriesKind::Rss,
            (0..n)
                .step_by(1024)
                .map(|i| Sample::new(i as f64 * 0.001, saw(i as f64 * 0.001))),
        );
        let aliased = analyze(&TrendConfig::new(), &[picked]).unwrap();
        assert_eq!(aliased.kind, VerdictKind::Growth, "{}", aliased.summary);
        // A leak of 3× the threshold under the same sawtooth is found, at the right rate.
        let judged = 0.8 * n as f64 * 0.001;
        let leak = 3.0 * 0.05 * 108.0 * MIB / judged;
        let leaky = stream(n, 0.001, 2, 0.001 * BASE, move |t| saw(t) + leak * t);
        let v = analyze(&TrendConfig::new(), &[leaky.series()]).unwrap();
        assert_eq!(v.kind, VerdictKind::Growth, "{}", v.summary);
        let slope = v.evidence.slope_per_sec.unwrap();
        assert!((slope.value / leak - 1.0).abs() < 0.05, "{}", v.summary);
    }

    #[test]
    fn a_day_of_raw_samples_is_judged_directly() {
        // `verdict FILE.jsonl` hands every sample over: the engine streams them into its bins.
        let n = 864_000;
        let mut rng = SplitMix::new(9);
        let s = Series::from_samples(
            SeriesKind::Rss,
            (0..n).map(|i| {
                let t = i as f64 * 0.1;
                Sample::new(
                    t,
                    200.0 * MIB + 20.0 * MIB * (t / 60.0).fract() + 0.002 * BASE * rng.normal(),
                )
            }),
        );
        let v = analyze(&TrendConfig::new(), &[s]).unwrap();
        assert_eq!(v.kind, VerdictKind::Pass, "{}", v.summary);
    }
}

/// Smooth leaks: a straight ramp has no steps. Its segmentation may cut it into pieces, but
/// the evidence names a step only where the series really moves in jumps, and the sentence
/// says nothing of steps (a real process leaking at an even pace was told "it climbs in 3
/// steps of about +8.7 MiB, one every 96 iterations").
mod ramps {
    use super::*;

    /// Linear ramps at 0.5× to 20× the threshold over 16 to 160 judged seconds, rounded to pages,
    /// with page noise only (the series is quantised, as a real RSS is) or 0.5% normal noise on
    /// top: no seed may report a step.
    #[test]
    fn smooth_ramps_have_no_steps() {
        let mut wrong = Vec::new();
        let mut runs = 0;
        for judged in [16.0, 48.0, 160.0] {
            let n = (judged / 0.8 / DT).round() as usize;
            for multiple in [0.5, 2.0, 5.0, 20.0] {
                let rate = multiple * 0.05 * BASE / judged;
                for (noise_label, sigma) in [("pages", 0.0), ("0.5%", 0.005 * BASE)] {
                    for seed in 0..seeds() {
                        let series = trace(seed, n, DT, |t, r| {
                            BASE + rate * t
                                + PAGE * (r.uniform() * 3.0).floor()
                                + if sigma > 0.0 { sigma * r.normal() } else { 0.0 }
                        });
                        let v = analyze(&TrendConfig::new(), &[series]).unwrap();
                        runs += 1;
                        if !v.evidence.steps.is_empty() || v.summary.contains("step") {
                            wrong.push(format!(
                                "{judged} s, {multiple}×, noise {noise_label}, seed {seed}: {} steps: {}",
                                v.evidence.steps.len(),
                                v.summary
                            ));
                        }
                    }
                }
            }
        }
        // Measured at 50 seeds: 3 of 1,200 (all at 0.5× under 0.5% noise, where the ramp is a
        // fifth of the noise over a few blocks and segmentation finds levels in the noise);
        // 1,171 before steps needed the series to move in jumps. At most 1% may.
        assert!(
            wrong.len() * 100 <= runs,
            "{} of {runs} smooth ramps reported steps, e.g.\n{}",
            wrong.len(),
            wrong[..wrong.len().min(12)].join("\n")
        );
    }
}

/// The other side of [`ramps`]: a series that really moves in jumps keeps its steps in the
/// evidence and its staircase in the sentence.
mod stairs {
    use super::*;

    /// A seeded trace maker.
    type Make = Box<dyn Fn(u64) -> Series>;

    /// Per shape, the seeds whose evidence names steps and whose sentence names the staircase.
    fn described(make: &dyn Fn(u64) -> Series) -> (u64, u64, Vec<String>) {
        let (mut stepped, mut told, mut untold) = (0, 0, Vec::new());
        for seed in 0..seeds() {
            let v = analyze(&TrendConfig::new(), &[make(seed)]).unwrap();
            stepped += u64::from(!v.evidence.steps.is_empty());
            if v.summary.contains("; it climbs in ") {
                told += 1;
            } else {
                untold.push(format!("seed {seed}: {}", v.summary));
            }
        }
        (stepped, told, untold)
    }

    /// Staircases of the suites (+1 MiB every 10 s; 4 and 8 steps in 120 judged seconds at 2×
    /// the threshold, page or 0.5% noise) name their steps and their staircase: every seed with
    /// page noise only; under 0.5% noise, where a block may straddle a jump and its points are
    /// noisy, at least 80% (measured at 50 seeds: 43, 49 and 41 of 50; every seed before steps
    /// needed the series to move in jumps, when smooth ramps named steps too).
    #[test]
    fn staircases_keep_their_steps() {
        let noise = 0.005 * BASE;
        let mut cases: Vec<(String, Make)> = vec![(
            "+1 MiB every 10 s, noise 0.5%".into(),
            Box::new(move |seed| {
                let phase = SplitMix::new(seed ^ 0x57A1).uniform() * 10.0;
                trace(seed, SAMPLES, DT, move |t, r| {
                    BASE + ((t + phase) / 10.0).floor() * MIB + noise * r.normal()
                })
            }),
        )];
        let judged = 120.0;
        let n = (judged / 0.8 / DT).round() as usize;
        let rate = 2.0 * 0.05 * BASE / (judged * (1.0 - 0.0175 * 2.0));
        for steps in [4.0, 8.0] {
            for (label, share) in [("pages", 0.0), ("0.5%", 0.005)] {
                cases.push((
                    format!("{steps} steps in {judged} s, noise {label}"),
                    Box::new(staircase(BASE, rate, judged / steps, n, share * BASE)),
                ));
            }
        }
        let mut wrong = Vec::new();
        for (name, make) in &cases {
            let (stepped, told, untold) = described(make.as_ref());
            println!(
                "staircase {name}: steps in {stepped}, told in {told} of {}",
                seeds()
            );
            let need = if name.contains("pages") {
                seeds()
            } else {
                seeds() * 8 / 10
            };
            if stepped < need || told < need {
                wrong.push(format!(
                    "{name}: steps in {stepped}, told in {told}; {}",
                    untold.first().map_or("", String::as_str)
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}
