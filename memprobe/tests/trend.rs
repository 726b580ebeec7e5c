//! The verdict engine (`memprobe::trend`) judged on synthetic traces with seeded noise and on
//! properties that must hold for any series. The in-process soak helper reads process-wide
//! allocation counts, so it has its own test binary (`trend_soak.rs`).

memprobe::global_allocator!();

use memprobe::trend::{
    Axis, InconclusiveReason, Sample, Series, SeriesChoice, SeriesKind, TrendConfig, Verdict,
    VerdictKind, Warmup, analyze,
};
use memprobe::units::Growth;
use std::collections::BTreeMap;
use std::time::Duration;

mod trend_support;
use trend_support::SplitMix;

const BASE: f64 = 100.0 * 1024.0 * 1024.0;
const SAMPLES: usize = 2000;
const DT: f64 = 0.1;
/// Seeds per scenario; `TREND_SEEDS=1000` checks the rates more closely.
fn seeds() -> u64 {
    std::env::var("TREND_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50)
}

/// A 200 s run sampled every 100 ms: `shape(t)` in bytes plus normal noise of `sigma` bytes.
fn synthetic(kind: SeriesKind, seed: u64, sigma: f64, shape: impl Fn(f64) -> f64) -> Series {
    let mut rng = SplitMix::new(seed);
    Series::from_samples(
        kind,
        (0..SAMPLES).map(|i| {
            let t = i as f64 * DT;
            Sample::new(t, (shape(t) + sigma * rng.normal()).round())
        }),
    )
}

const RUN_SECS: f64 = SAMPLES as f64 * DT;

/// The verdict kinds over all seeds, with one summary per kind, for assertion messages.
fn survey(make: impl Fn(u64) -> Series, config: &TrendConfig) -> BTreeMap<String, (u64, String)> {
    let mut seen = BTreeMap::new();
    for seed in 0..seeds() {
        let verdict = analyze(config, &[make(seed)]).unwrap();
        let key = match &verdict.kind {
            VerdictKind::Inconclusive { reason } => {
                format!(
                    "inconclusive: {}",
                    reason.to_string().split(':').next().unwrap()
                )
            }
            other => format!("{other:?}"),
        };
        let entry = seen.entry(key).or_insert((0, verdict.summary.clone()));
        entry.0 += 1;
    }
    seen
}

fn assert_all(make: impl Fn(u64) -> Series, config: &TrendConfig, expected: VerdictKind) {
    let seen = survey(make, config);
    let want = format!("{expected:?}");
    assert!(
        seen.len() == 1 && seen.contains_key(&want),
        "expected {want} for all {} seeds, got {seen:#?}",
        seeds()
    );
}

mod synthetic {
    use super::*;

    #[test]
    fn linear_leak_is_growth() {
        // 50 KiB/s on 100 MiB: 7.8 MiB over the judged 160 s, noise σ 0.5%.
        let make = |seed| synthetic(SeriesKind::Rss, seed, 0.005 * BASE, |t| BASE + 51_200.0 * t);
        assert_all(make, &TrendConfig::new(), VerdictKind::Growth);
        let v = analyze(&TrendConfig::new(), &[make(7)]).unwrap();
        let slope = v.evidence.slope_per_sec.unwrap();
        assert!(slope.low < 51_200.0 && 51_200.0 < slope.high, "{v:#?}");
        assert!(
            v.summary.starts_with("RSS grows 4") || v.summary.starts_with("RSS grows 5"),
            "{}",
            v.summary
        );
        assert!(
            v.summary.contains(" KiB/s (95% CI ")
                && v.summary.contains("after a 20% warm-up (40 s): "),
            "{}",
            v.summary
        );
        assert!(
            v.summary.contains("above the 5% threshold"),
            "{}",
            v.summary
        );
    }

    #[test]
    fn slow_leak_under_heavy_noise_is_growth() {
        // 15% over the run under noise σ 2% (each step is 1/270 of σ).
        let make = |seed| {
            synthetic(SeriesKind::Rss, seed, 0.02 * BASE, |t| {
                BASE * (1.0 + 0.15 * t / RUN_SECS)
            })
        };
        assert_all(make, &TrendConfig::new(), VerdictKind::Growth);
    }

    #[test]
    fn leak_with_spikes_is_growth_and_spiky_flat_passes() {
        // 2% of the samples read 30% high (a transient buffer): robust fits ignore them.
        let spiky = |seed: u64, slope: f64| {
            let mut rng = SplitMix::new(seed ^ 0xABCD);
            let mut s = synthetic(SeriesKind::Rss, seed, 0.005 * BASE, |t| BASE + slope * t);
            for sample in &mut s.samples {
                if rng.uniform() < 0.02 {
                    sample.bytes += 0.3 * BASE;
                }
            }
            s
        };
        assert_all(
            |seed| spiky(seed, 51_200.0),
            &TrendConfig::new(),
            VerdictKind::Growth,
        );
        assert_all(
            |seed| spiky(seed, 0.0),
            &TrendConfig::new(),
            VerdictKind::Pass,
        );
    }

    #[test]
    fn warmup_then_plateau_passes() {
        // Fills 20 MiB with a 10 s time constant, then stays.
        let make = |seed| {
            synthetic(SeriesKind::Rss, seed, 0.005 * BASE, |t| {
                BASE + 0.2 * BASE * (1.0 - (-t / 10.0).exp())
            })
        };
        assert_all(make, &TrendConfig::new(), VerdictKind::Pass);
        // A linear ramp over the first half, longer than the 20% warm-up: the plateau search
        // finds it.
        let ramp = |seed| {
            synthetic(SeriesKind::Rss, seed, 0.005 * BASE, |t| {
                BASE + 0.2 * BASE * (t / (0.5 * RUN_SECS)).min(1.0)
            })
        };
        assert_all(ramp, &TrendConfig::new(), VerdictKind::Pass);
        let v = analyze(&TrendConfig::new(), &[ramp(3)]).unwrap();
        assert!(v.evidence.plateau_start.is_some(), "{v:#?}");
        // The sentence tells the rise before the plateau, then the plateau (issue 18).
        assert!(
            v.summary.contains(" grew ")
                && v.summary.contains(" after warm-up, then flat at ")
                && v.summary.contains(": passes as a plateau"),
            "{}",
            v.summary
        );
        let plateau = v.evidence.plateau.unwrap();
        assert!(
            (plateau.rise_bytes - 0.2 * BASE).abs() < 0.12 * BASE,
            "{plateau:?}"
        );
    }

    #[test]
    fn sawtooth_passes() {
        // Frees 10 MiB every 20 s, random phase.
        let make = |seed: u64| {
            let phase = SplitMix::new(seed ^ 0x5157).uniform() * 20.0;
            synthetic(SeriesKind::Rss, seed, 0.005 * BASE, move |t| {
                BASE + 0.1 * BASE * ((t + phase) / 20.0).fract()
            })
        };
        assert_all(make, &TrendConfig::new(), VerdictKind::Pass);
    }

    #[test]
    fn single_step_then_flat_passes() {
        // +10 MiB once, somewhere between 25% and 65% of the run.
        let make = |seed: u64| {
            let at = (0.25 + 0.4 * SplitMix::new(seed ^ 0x57E9).uniform()) * RUN_SECS;
            synthetic(SeriesKind::Rss, seed, 0.005 * BASE, move |t| {
                BASE + if t < at { 0.0 } else { 0.1 * BASE }
            })
        };
        assert_all(make, &TrendConfig::new(), VerdictKind::Pass);
        // Noise-free too (an exact allocator figure).
        let exact = |seed: u64| {
            let at = (0.25 + 0.4 * SplitMix::new(seed).uniform()) * RUN_SECS;
            synthetic(SeriesKind::JemallocAllocated, seed, 0.0, move |t| {
                BASE + if t < at { 0.0 } else { 0.1 * BASE }
            })
        };
        assert_all(exact, &TrendConfig::new(), VerdictKind::Pass);
    }

    #[test]
    fn staircase_is_growth() {
        // +1 MiB every 10 s: a leak in bursts is still a leak.
        let make = |seed| {
            synthetic(SeriesKind::Rss, seed, 0.005 * BASE, |t| {
                BASE + (t / 10.0).floor() * 1024.0 * 1024.0
            })
        };
        assert_all(make, &TrendConfig::new(), VerdictKind::Growth);
    }

    #[test]
    fn flat_passes() {
        let make = |seed| synthetic(SeriesKind::Rss, seed, 0.005 * BASE, |_| BASE);
        assert_all(make, &TrendConfig::new(), VerdictKind::Pass);
        let exact = |seed| synthetic(SeriesKind::AllocatorLive, seed, 0.0, |_| BASE);
        assert_all(exact, &TrendConfig::new(), VerdictKind::Pass);
        let v = analyze(&TrendConfig::new(), &[make(1)]).unwrap();
        assert!(
            v.summary.starts_with("RSS does not grow: "),
            "{}",
            v.summary
        );
        assert!(
            v.summary.contains("within the 5% threshold (5.0 MiB)"),
            "{}",
            v.summary
        );
    }

    #[test]
    fn leak_below_the_threshold_passes_and_above_an_absolute_one_fails() {
        // 2 MiB over the run: under 5%, over 1 MiB.
        let make = |seed| {
            synthetic(SeriesKind::Rss, seed, 0.001 * BASE, |t| {
                BASE + 2.0 * 1048576.0 * t / RUN_SECS
            })
        };
        assert_all(make, &TrendConfig::new(), VerdictKind::Pass);
        let absolute = TrendConfig::new().fail_if_growth("1 MiB".parse().unwrap());
        assert_all(make, &absolute, VerdictKind::Growth);
        // Both thresholds must be exceeded.
        let both =
            TrendConfig::new().fail_if_growth_all([Growth::Percent(5.0), Growth::Bytes(1 << 20)]);
        assert_all(make, &both, VerdictKind::Pass);
    }

    #[test]
    fn fragmentation_when_rss_grows_and_allocated_is_flat() {
        for seed in 0..seeds() {
            let allocated = synthetic(SeriesKind::JemallocAllocated, seed, 0.001 * BASE, |_| BASE);
            let rss = synthetic(SeriesKind::Rss, seed + 1000, 0.005 * BASE, |t| {
                1.5 * BASE + 102_400.0 * t
            });
            let run = [rss, allocated];
            let v = analyze(&TrendConfig::new(), &run).unwrap();
            assert_eq!(v.kind, VerdictKind::Fragmentation, "{v:#?}");
            assert_eq!(v.evidence.series, SeriesKind::JemallocAllocated);
            assert_eq!(v.fragmentation.as_ref().unwrap().series, SeriesKind::Rss);
            assert_eq!(v.exit_code(), 1);
            assert!(
                v.summary
                    .contains("while jemalloc allocated stays flat: fragmentation"),
                "{}",
                v.summary
            );
            let allowed = analyze(&TrendConfig::new().allow_fragmentation(true), &run).unwrap();
            assert_eq!(
                (allowed.exit_code(), allowed.kind),
                (0, VerdictKind::Fragmentation)
            );
            // Judging RSS itself calls it growth.
            let rss_only = TrendConfig::new().series(SeriesChoice::Kind(SeriesKind::Rss));
            assert_eq!(analyze(&rss_only, &run).unwrap().kind, VerdictKind::Growth);
        }
    }

    #[test]
    fn a_leak_in_allocated_is_growth_not_fragmentation() {
        let allocated = synthetic(SeriesKind::JemallocAllocated, 1, 0.001 * BASE, |t| {
            BASE + 51_200.0 * t
        });
        let rss = synthetic(SeriesKind::Rss, 2, 0.005 * BASE, |t| {
            1.5 * BASE + 51_200.0 * t
        });
        let v = analyze(&TrendConfig::new(), &[rss, allocated]).unwrap();
        assert_eq!(v.kind, VerdictKind::Growth);
        assert_eq!(v.evidence.series, SeriesKind::JemallocAllocated);
    }

    #[test]
    fn auto_prefers_allocated_then_anon_then_rss() {
        let flat = |kind| synthetic(kind, 1, 0.0, |_| BASE);
        let pick = |series: &[Series]| {
            analyze(&TrendConfig::new(), series)
                .unwrap()
                .evidence
                .series
        };
        assert_eq!(
            pick(&[flat(SeriesKind::Rss), flat(SeriesKind::RssAnonPlusSwap)]),
            SeriesKind::RssAnonPlusSwap
        );
        assert_eq!(
            pick(&[
                flat(SeriesKind::Rss),
                flat(SeriesKind::JemallocResident),
                flat(SeriesKind::JemallocAllocated)
            ]),
            SeriesKind::JemallocAllocated
        );
        assert_eq!(pick(&[flat(SeriesKind::Rss)]), SeriesKind::Rss);
        let err = analyze(
            &TrendConfig::new().series(SeriesChoice::Kind(SeriesKind::JemallocActive)),
            &[flat(SeriesKind::Rss)],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("memprobe: invalid series choice \"jemalloc_active among [rss]\""),
            "{err}"
        );
    }

    #[test]
    fn iterations_are_the_axis_when_marked() {
        // 32 B per iteration at 1000 iterations/s, noise-free: exact.
        let s = Series::from_samples(
            SeriesKind::AllocatorLive,
            (0..500u64).map(|i| {
                Sample::new(i as f64 * 0.01, 1e5 + 320.0 * i as f64).with_iteration(i * 10)
            }),
        );
        let v = analyze(&TrendConfig::new().warmup("100it".parse().unwrap()), &[s]).unwrap();
        assert_eq!(v.kind, VerdictKind::Growth);
        assert_eq!(v.evidence.axis, Axis::Iterations);
        let per_it = v.evidence.slope_per_iteration.unwrap();
        assert_eq!((per_it.low, per_it.value, per_it.high), (32.0, 32.0, 32.0));
        assert!((v.evidence.slope_per_sec.unwrap().value - 32_000.0).abs() < 1e-6);
        assert_eq!(v.evidence.warmup_dropped, 10);
        assert!(
            v.summary.starts_with("The live heap grows 32 B/iteration (95% CI 32 to 32 B/iteration) after 100 warm-up iterations: "),
            "{}",
            v.summary
        );
    }

    #[test]
    fn verdicts_serialize_for_the_daemon() {
        let s = synthetic(SeriesKind::Rss, 1, 0.005 * BASE, |t| BASE + 51_200.0 * t);
        let v = analyze(&TrendConfig::new(), &[s]).unwrap();
        let json: serde_json::Value = serde_json::to_value(&v).unwrap();
        assert_eq!(json["kind"]["verdict"], "growth");
        assert_eq!(json["evidence"]["series"], "rss");
        assert_eq!(json["evidence"]["axis"], "seconds");
        assert!(json["evidence"]["slope_per_sec"]["low"].as_f64().unwrap() > 0.0);
        assert!(
            json["evidence"]["windows"]["noise_floor_bytes"]
                .as_f64()
                .unwrap()
                > 0.0
        );
        assert_eq!(json["summary"], v.summary.as_str());
        let back: Verdict = serde_json::from_value(json).unwrap();
        assert_eq!(back, v);
    }
}

mod inconclusive {
    use super::*;

    fn reason(v: &Verdict) -> &InconclusiveReason {
        match &v.kind {
            VerdictKind::Inconclusive { reason } => reason,
            other => panic!("expected inconclusive, got {other:?}: {}", v.summary),
        }
    }

    #[test]
    fn too_few_samples() {
        let s = Series::from_samples(
            SeriesKind::Rss,
            (0..15).map(|i| Sample::new(i as f64, BASE + 1e6 * i as f64)),
        );
        let v = analyze(
            &TrendConfig::new().warmup(Warmup::None),
            std::slice::from_ref(&s),
        )
        .unwrap();
        assert_eq!(
            reason(&v),
            &InconclusiveReason::TooFewSamples {
                got: 15,
                need: 20,
                after_warmup: false
            }
        );
        assert_eq!(v.exit_code(), 3);
        assert_eq!(
            v.summary,
            "Inconclusive for RSS: only 15 samples, at least 20 needed"
        );
        // 24 samples, 20% warm-up: 19 left.
        let s = Series::from_samples(
            SeriesKind::Rss,
            (0..24).map(|i| Sample::new(i as f64, BASE)),
        );
        let v = analyze(&TrendConfig::new(), &[s]).unwrap();
        assert_eq!(
            reason(&v),
            &InconclusiveReason::TooFewSamples {
                got: 19,
                need: 20,
                after_warmup: true
            }
        );
    }

    #[test]
    fn too_short() {
        let s = synthetic(SeriesKind::Rss, 1, 0.0, |t| BASE + 1e5 * t);
        let config = TrendConfig::new()
            .warmup("30s".parse().unwrap())
            .min_duration(Duration::from_secs(600));
        let v = analyze(&config, std::slice::from_ref(&s)).unwrap();
        assert!(
            matches!(
                reason(&v),
                InconclusiveReason::TooShort {
                    need_secs: 600.0,
                    ..
                }
            ),
            "{v:#?}"
        );
        assert!(
            v.summary
                .contains("too short: 2.8 min judged after the warm-up, at least 10 min needed"),
            "{}",
            v.summary
        );
        let v = analyze(&TrendConfig::new().warmup("10m".parse().unwrap()), &[s]).unwrap();
        assert_eq!(
            v.summary,
            "Inconclusive for RSS: too short: the 10 min warm-up covers the whole 3.3 min run"
        );
        let same_instant = Series::from_samples(
            SeriesKind::Rss,
            (0..40).map(|i| Sample::new(5.0, BASE + i as f64)),
        );
        let v = analyze(&TrendConfig::new(), &[same_instant]).unwrap();
        assert_eq!(
            reason(&v),
            &InconclusiveReason::NoProgress {
                axis: Axis::Seconds
            }
        );
    }

    #[test]
    fn too_noisy() {
        // 40 samples with noise σ 10%: a 5% threshold can be neither met nor ruled out.
        let mut rng = SplitMix::new(9);
        let s = Series::from_samples(
            SeriesKind::Rss,
            (0..40).map(|i| Sample::new(i as f64, BASE * (1.0 + 0.1 * rng.normal()))),
        );
        let v = analyze(&TrendConfig::new(), &[s]).unwrap();
        assert!(
            matches!(reason(&v), InconclusiveReason::TooNoisy { .. }),
            "{v:#?}"
        );
        assert!(
            v.summary.contains("too noisy: growth up to"),
            "{}",
            v.summary
        );
    }

    #[test]
    fn bad_input_is_an_error() {
        let nan = Series::from_samples(SeriesKind::Rss, [Sample::new(0.0, f64::NAN)]);
        let err = analyze(&TrendConfig::new(), &[nan])
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "memprobe: invalid sample \"rss = NaN at t = 0 s\": expected finite times and byte counts"
        );
        let unmarked = synthetic(SeriesKind::Rss, 1, 0.0, |_| BASE);
        let err = analyze(
            &TrendConfig::new().warmup(Warmup::Iterations(5)),
            &[unmarked],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("memprobe: invalid warm-up \"5 iterations\""),
            "{err}"
        );
        let err = "150%".parse::<Warmup>().unwrap_err().to_string();
        assert!(err.contains("`20%`") && err.contains("`100it`"), "{err}");
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// A series with integer byte counts and timestamps shared by up to 4 samples.
    fn series() -> impl Strategy<Value = Series> {
        (
            20usize..150,
            any::<u64>(),
            0u64..3,
            1u32..1_000_000,
            0u32..4,
        )
            .prop_map(|(n, seed, shape, noise, repeat)| {
                let mut rng = SplitMix::new(seed);
                let slope = [0.0, 1e4, -3e3][shape as usize];
                Series::from_samples(
                    SeriesKind::Rss,
                    (0..n).map(|i| {
                        let t = (i / (repeat as usize + 1)) as f64;
                        let bytes = (1e8 + slope * t + noise as f64 * rng.normal()).round();
                        Sample::new(t, bytes)
                    }),
                )
            })
    }

    fn absolute() -> TrendConfig {
        TrendConfig::new().fail_if_growth(Growth::Bytes(200_000))
    }

    proptest! {
        #[test]
        fn adding_a_constant_changes_neither_slope_nor_verdict(s in series(), c in -50_000_000i64..1_000_000_000_000) {
                let mut shifted = s.clone();
            for sample in &mut shifted.samples {
                sample.bytes += c as f64;
            }
            let (a, b) = (analyze(&absolute(), &[s]).unwrap(), analyze(&absolute(), &[shifted]).unwrap());
            prop_assert_eq!(a.evidence.slope_per_sec, b.evidence.slope_per_sec);
            prop_assert_eq!(a.evidence.plateau_start, b.evidence.plateau_start);
            prop_assert_eq!(a.kind, b.kind);
        }

        #[test]
        fn scaling_the_series_scales_the_slope(s in series(), k in 0.001f64..1000.0) {
                let mut scaled = s.clone();
            for sample in &mut scaled.samples {
                sample.bytes *= k;
            }
            // The slope's rounding error scales with the data, not with the slope: on a 1e8 B
            // offset a flat series' slope is a difference of near-equal sums, so a tolerance
            // relative to the slope alone fails near zero. Relative to the slope plus the
            // largest value over the time span, it is honest for every shape.
            let max_bytes = scaled.samples.iter().map(|x| x.bytes.abs()).fold(0.0, f64::max);
            let (first, last) = (
                scaled.samples.iter().map(|x| x.t_secs).fold(f64::INFINITY, f64::min),
                scaled.samples.iter().map(|x| x.t_secs).fold(f64::NEG_INFINITY, f64::max),
            );
            let span = (last - first).max(1.0);
            let config = TrendConfig::new().plateau_detection(false);
            let a = analyze(&config, &[s]).unwrap().evidence.slope_per_sec;
            let b = analyze(&config, &[scaled]).unwrap().evidence.slope_per_sec;
            if let (Some(a), Some(b)) = (a, b) {
                for (x, y) in [(a.value, b.value), (a.low, b.low), (a.high, b.high)] {
                    let tolerance = 1e-9 * ((x * k).abs() + max_bytes / span);
                    prop_assert!((x * k - y).abs() <= tolerance, "{} × {} vs {} (tolerance {})", x, k, y, tolerance);
                }
            } else {
                prop_assert_eq!(a.is_some(), b.is_some());
            }
        }

        #[test]
        fn sample_order_within_a_timestamp_does_not_matter(s in series(), seed in any::<u64>()) {
                // Shuffle the whole series (Fisher–Yates), then restore time order with a stable
            // sort: samples sharing a timestamp end up in a random order.
            let mut rng = SplitMix::new(seed);
            let mut shuffled = s.clone();
            for i in (1..shuffled.samples.len()).rev() {
                let j = (rng.next_u64() % (i as u64 + 1)) as usize;
                shuffled.samples.swap(i, j);
            }
            shuffled.samples.sort_by(|a, b| a.t_secs.total_cmp(&b.t_secs));
            let config = TrendConfig::new();
            prop_assert_eq!(
                analyze(&config, std::slice::from_ref(&s)).unwrap(),
                analyze(&config, std::slice::from_ref(&shuffled)).unwrap()
            );
            // Wholly unsorted input is judged the same too.
            shuffled.samples.reverse();
            prop_assert_eq!(analyze(&config, &[s]).unwrap(), analyze(&config, &[shuffled]).unwrap());
        }
    }
}

/// Verdict rates on harder traces than the tests demand; run with
/// `cargo test --release -p memprobe --test trend -- --ignored --nocapture survey`.
#[test]
#[ignore = "prints rates for tuning, asserts nothing"]
fn survey_harder_traces() {
    let config = TrendConfig::new();
    let report = |name: &str, make: &dyn Fn(u64) -> Series| {
        let seen = survey(make, &config);
        let counts: Vec<String> = seen.iter().map(|(k, (n, _))| format!("{k}: {n}")).collect();
        println!("{name:<48} {}", counts.join(", "));
    };
    for ratio in [1.0, 2.0, 3.0, 5.0, 8.0] {
        // Growth over the run = ratio × σ, threshold 5%, σ = 2%.
        let name = format!("leak {ratio}σ over run, σ 2%");
        report(&name, &|seed| {
            synthetic(SeriesKind::Rss, seed, 0.02 * BASE, move |t| {
                BASE * (1.0 + ratio * 0.02 * t / RUN_SECS)
            })
        });
    }
    for at in [0.7, 0.8, 0.9] {
        report(&format!("step +10% at {at} of the run"), &|seed| {
            synthetic(SeriesKind::Rss, seed, 0.005 * BASE, move |t| {
                BASE * if t < at * RUN_SECS { 1.0 } else { 1.1 }
            })
        });
    }
    for periods in [2.0, 3.0, 5.0] {
        report(&format!("sawtooth 10%, {periods} periods"), &|seed| {
            let phase = SplitMix::new(seed ^ 0x5157).uniform();
            synthetic(SeriesKind::Rss, seed, 0.005 * BASE, move |t| {
                BASE + 0.1 * BASE * (t / RUN_SECS * periods + phase).fract()
            })
        });
    }
    report("sawtooth 10% + leak 8% (GC'd leak)", &|seed| {
        let phase = SplitMix::new(seed ^ 0x5157).uniform();
        synthetic(SeriesKind::Rss, seed, 0.005 * BASE, move |t| {
            BASE * (1.0 + 0.08 * t / RUN_SECS) + 0.1 * BASE * (t / 20.0 + phase).fract()
        })
    });
    report("random walk, step σ 0.1%", &|seed| {
        let mut rng = SplitMix::new(seed);
        let mut level = BASE;
        Series::from_samples(
            SeriesKind::Rss,
            (0..SAMPLES).map(|i| {
                level += 0.001 * BASE * rng.normal();
                Sample::new(i as f64 * DT, level)
            }),
        )
    });
    report("sqrt growth (slowing, never flat) 10%", &|seed| {
        synthetic(SeriesKind::Rss, seed, 0.005 * BASE, |t| {
            BASE * (1.0 + 0.1 * (t / RUN_SECS).sqrt())
        })
    });
    report("flat, then leak from half-way (8%)", &|seed| {
        synthetic(SeriesKind::Rss, seed, 0.005 * BASE, |t| {
            BASE * (1.0 + 0.16 * (t / RUN_SECS - 0.5).max(0.0))
        })
    });
    report("flat, 200 samples", &|seed| {
        let mut s = synthetic(SeriesKind::Rss, seed, 0.005 * BASE, |_| BASE);
        s.samples.truncate(200);
        s
    });
}

/// The sentence must not contradict the numbers (issue 18, items 1 and 2), and names what it saw
/// (issue 11: steps, periods, what would decide an inconclusive run).
mod sentences {
    use super::*;

    const KIB: f64 = 1024.0;
    const MIB: f64 = 1024.0 * 1024.0;

    #[test]
    fn growth_under_the_threshold_says_it_grows() {
        // 96 KiB/s on 200 MiB: 15 MiB over the judged 160 s, above 5% (10 MiB) but under the
        // 64 MiB that must be exceeded too. It grows, within the thresholds: the sentence says so.
        let s = synthetic(SeriesKind::RssAnonPlusSwap, 3, 0.001 * BASE, |t| {
            2.0 * BASE + 96.0 * KIB * t
        });
        let config =
            TrendConfig::new().fail_if_growth_all([Growth::Percent(5.0), Growth::Bytes(64 << 20)]);
        let v = analyze(&config, std::slice::from_ref(&s)).unwrap();
        assert_eq!(v.kind, VerdictKind::Pass, "{}", v.summary);
        assert!(
            v.summary.starts_with("RssAnon+swap grows 96.0 KiB/s (")
                && v.summary.contains(" over the run, 95% CI ")
                && v.summary
                    .ends_with("within the 5% and 64.0 MiB thresholds (64.0 MiB)"),
            "{}",
            v.summary
        );
        assert!(!v.summary.contains("does not grow"), "{}", v.summary);
        let lenient = analyze(
            &TrendConfig::new().fail_if_growth("500%".parse().unwrap()),
            &[s],
        )
        .unwrap();
        assert!(
            lenient.summary.starts_with("RssAnon+swap grows ")
                && lenient.summary.contains("within the 500% threshold"),
            "{}",
            lenient.summary
        );
    }

    /// RssAnon from 2.3 MiB at the end of warm-up to 4.2 MiB by 5.6 s, then flat, judged with a
    /// zero threshold: a plateau, told in full.
    fn warmed_then_flat() -> Series {
        Series::from_samples(
            SeriesKind::RssAnonPlusSwap,
            (0..200).map(|i| {
                let t = i as f64 * 0.1;
                let level = 2.3 * MIB + 1.9 * MIB * ((t - 4.0) / 1.6).clamp(0.0, 1.0);
                Sample::new(t, (level / 4096.0).round() * 4096.0)
            }),
        )
    }

    #[test]
    fn a_plateau_after_warm_up_tells_the_rise() {
        let zero = TrendConfig::new().fail_if_growth(Growth::Bytes(0));
        let v = analyze(&zero, &[warmed_then_flat()]).unwrap();
        assert_eq!(v.kind, VerdictKind::Pass, "{}", v.summary);
        let p = v.evidence.plateau.unwrap();
        assert!((p.rise_bytes - 1.9 * MIB).abs() < 0.1 * MIB, "{p:?}");
        assert!((p.level_bytes - 4.2 * MIB).abs() < 0.01 * MIB, "{p:?}");
        assert!(
            v.summary
                .starts_with("RssAnon+swap grew 1.9 MiB after warm-up, then flat at 4.2 MiB from ")
                && v.summary.contains(": passes as a plateau (0 B/s after it"),
            "{}",
            v.summary
        );
        let from_start =
            analyze(&zero.clone().warmup(Warmup::None), &[warmed_then_flat()]).unwrap();
        // At block resolution the 1.6 s ramp is one step: either wording tells the whole rise.
        assert!(
            from_start
                .summary
                .starts_with("RssAnon+swap grew 1.9 MiB from the start, then flat at 4.2 MiB")
                || (from_start
                    .summary
                    .starts_with("RssAnon+swap steps up +1.9 MiB at ")
                    && from_start
                        .summary
                        .contains(", flat since at 4.2 MiB: 0 B/s after it")
                    && (4.0..=5.6).contains(&from_start.evidence.steps[0].at)),
            "{}",
            from_start.summary
        );
        assert!(
            from_start.evidence.windows.unwrap().significant,
            "{from_start:#?}"
        );
    }

    #[test]
    fn one_step_is_named_with_its_size_and_time() {
        let s = Series::from_samples(
            SeriesKind::Rss,
            (0..2000).map(|i| {
                let t = i as f64 * 0.1;
                Sample::new(t, if t < 80.0 { BASE } else { BASE + 64.0 * MIB })
            }),
        );
        let v = analyze(&TrendConfig::new(), &[s]).unwrap();
        assert_eq!(v.kind, VerdictKind::Pass, "{}", v.summary);
        assert!(
            v.summary.starts_with("RSS steps up +64.0 MiB at ")
                && (79.0..=81.0).contains(&v.evidence.steps[0].at)
                && v.summary
                    .contains(", flat since at 164.0 MiB: 0 B/s after it"),
            "{}",
            v.summary
        );
        assert!(
            !v.summary.contains("0 B/s (95% CI 0 to 0 B/s)"),
            "{}",
            v.summary
        );
    }

    #[test]
    fn a_staircase_is_growth_and_says_so() {
        let s = synthetic(SeriesKind::JemallocAllocated, 1, 0.0, |t| {
            BASE + (t / 25.0).floor() * 4.0 * MIB
        });
        let v = analyze(&TrendConfig::new(), &[s]).unwrap();
        assert_eq!(v.kind, VerdictKind::Growth, "{}", v.summary);
        let slope = v.evidence.slope_per_sec.unwrap();
        assert!(
            (slope.value / (4.0 * MIB / 25.0) - 1.0).abs() < 0.25,
            "{}",
            v.summary
        );
    }

    #[test]
    fn a_sawtooth_reports_its_period_and_amplitude() {
        let s = synthetic(SeriesKind::Rss, 5, 0.002 * BASE, |t| {
            BASE + 40.0 * MIB * (t / 2.0).fract()
        });
        let v = analyze(&TrendConfig::new(), &[s]).unwrap();
        assert_eq!(v.kind, VerdictKind::Pass, "{}", v.summary);
        let p = v.evidence.period.unwrap();
        assert!((p.period - 2.0).abs() < 0.05, "{p:?}");
        assert!(
            (p.amplitude_bytes / (40.0 * MIB) - 1.0).abs() < 0.15,
            "{p:?}"
        );
        assert_eq!(p.cycles, 79); // 159.9 s judged
        assert!(
            v.summary
                .starts_with("RSS saw-tooths (period 2 s, amplitude ")
                && v.summary.contains(" and its per-cycle means ")
                && v.summary.ends_with("within the 5% threshold (5.9 MiB)"),
            "{}",
            v.summary
        );
    }

    #[test]
    fn too_few_periods_says_how_long_to_run() {
        // A 40 MiB tooth every 70 s: 2.3 periods after the 40 s warm-up.
        let s = synthetic(SeriesKind::Rss, 2, 0.002 * BASE, |t| {
            BASE + 40.0 * MIB * (t / 70.0).fract()
        });
        let v = analyze(&TrendConfig::new(), &[s]).unwrap();
        let VerdictKind::Inconclusive { reason } = &v.kind else {
            panic!("{}", v.summary)
        };
        assert!(
            matches!(reason, InconclusiveReason::TooFewPeriods { cycles, .. } if *cycles < 3.0),
            "{reason:?}"
        );
        assert!(
            v.summary.contains(
                " periods were judged: run at least 3 periods (3.5 min) after the warm-up"
            ),
            "{}",
            v.summary
        );
    }

    #[test]
    fn samples_sharing_an_iteration_mark_keep_their_time_order() {
        // Ten /proc samples per iteration mark, flat noise: sorting them by bytes within a mark
        // would make every window's first samples its lowest.
        let mut significant = 0;
        for seed in 0..seeds() {
            let mut rng = SplitMix::new(seed);
            let s = Series::from_samples(
                SeriesKind::Rss,
                (0..400u64).map(|i| {
                    Sample::new(i as f64 * 0.1, (BASE + 0.01 * BASE * rng.normal()).round())
                        .with_iteration(i / 40)
                }),
            );
            let v = analyze(
                &TrendConfig::new().fail_if_growth("1%".parse().unwrap()),
                &[s],
            )
            .unwrap();
            assert_eq!(v.evidence.axis, Axis::Iterations);
            assert_ne!(v.kind, VerdictKind::Growth, "seed {seed}: {}", v.summary);
            significant += u64::from(v.evidence.windows.unwrap().significant);
        }
        // A 95% interval excludes zero by chance in about 1 run in 40 on the rising side.
        assert!(
            significant * 10 <= seeds(),
            "{significant} of {} seeds",
            seeds()
        );
    }
}

/// Evidence files: the new fields are written with schema version 2, and files written before
/// them (version 1) still read.
mod schema {
    use super::*;

    #[test]
    fn new_evidence_carries_version_2_and_its_fields() {
        let s = synthetic(SeriesKind::Rss, 1, 0.002 * BASE, |t| {
            BASE + 51_200.0 * t + 0.2 * BASE * (t / 5.0).fract()
        });
        let v = analyze(&TrendConfig::new(), &[s]).unwrap();
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["evidence"]["schema_version"], 2);
        assert!(json["evidence"]["period"]["period"].as_f64().unwrap() > 4.5);
        assert!(json["evidence"]["projected_shift_bytes"]["low"].is_f64());
        assert!(json["evidence"]["windows"]["shift_bytes"]["value"].is_f64());
        let back: Verdict = serde_json::from_value(json).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn version_1_evidence_still_reads() {
        let v1 = r#"{"kind":{"verdict":"growth"},"evidence":{"series":"rss","axis":"seconds",
            "samples_total":2000,"samples_used":1600,"warmup":{"share":0.2},"warmup_dropped":400,
            "warmup_secs":40.0,"duration_secs":159.9,"iterations":null,"plateau_start":null,
            "slope_per_sec":{"value":51000.0,"low":50000.0,"high":52000.0},
            "slope_per_iteration":null,
            "projected_growth_bytes":{"value":8.1e6,"low":8.0e6,"high":8.3e6},
            "windows":{"samples_per_window":160,"first_median_bytes":1.07e8,
              "last_median_bytes":1.15e8,"change_bytes":8e6,"relative_change":0.07,
              "noise_sigma_bytes":5e5,"noise_floor_bytes":1.25e6,"significant":true},
            "thresholds":[{"percent":5.0}],"allowance_bytes":5.3e6,"notes":[]},
            "fragmentation_allowed":false,"summary":"RSS grows 49.8 KiB/s"}"#;
        let v: Verdict = serde_json::from_str(v1).unwrap();
        assert_eq!(v.kind, VerdictKind::Growth);
        assert_eq!(v.evidence.schema_version, 1);
        assert_eq!(v.evidence.period, None);
        assert!(v.evidence.steps.is_empty());
        assert_eq!(v.evidence.windows.unwrap().shift_bytes, None);
        assert_eq!(v.evidence.windows.unwrap().points_per_window, 0);
        let reason: InconclusiveReason = serde_json::from_str(
            r#"{"kind":"too_noisy","projected_growth_bytes":{"value":1.0,"low":0.0,"high":2.0},
               "allowance_bytes":1.0,"noise_floor_bytes":1.0}"#,
        )
        .unwrap();
        assert!(matches!(
            reason,
            InconclusiveReason::TooNoisy {
                projected_shift_bytes: None,
                ..
            }
        ));
    }
}
