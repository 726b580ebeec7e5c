//! The judgement of a baseline check, one for the per-test baselines and the per-item ones
//! ([`crate::scaling`]): the flow every check follows ([`decide`]: write under
//! `MEMPROBE_UPDATE`, else compare, creating a missing baseline outside CI), and how a figure is
//! held to its baseline with the allowed growth: exactly, in integers, for the per-test totals
//! ([`compare`]), and with a tolerance for the rounding of a fit for per-item costs
//! ([`fitted`]).

use super::change::{Change, Figure};
use super::outcome::Action;
use super::policy::{Mode, Policy};
use super::record::Baseline;
use crate::error::{Error, Result};
use std::path::Path;

/// What [`decide`] leaves to its caller.
pub(crate) enum Step<B> {
    /// The current figures were written as the baseline (created or updated).
    Written(Action),
    /// There is a baseline to compare the current figures with.
    Compare(B),
}

/// The flow of a check on the `kind` ("baseline", "per-item baseline") `name` at `path`: under
/// [`Mode::Update`] `write`s; otherwise `load`s it, and a missing one is an error under
/// [`Mode::Ci`] naming `update_command`, else `write`n ([`Action::Created`]).
pub(crate) fn decide<B>(
    mode: Mode,
    kind: &str,
    name: &str,
    path: &Path,
    update_command: &str,
    load: impl FnOnce() -> Result<Option<B>>,
    write: impl FnOnce() -> Result<()>,
) -> Result<Step<B>> {
    if mode == Mode::Update {
        write()?;
        return Ok(Step::Written(Action::Updated));
    }
    match load()? {
        Some(base) => Ok(Step::Compare(base)),
        None if mode == Mode::Ci => Err(Error::Baseline {
            path: path.to_path_buf(),
            problem: format!(
                "missing: there is no {kind} `{name}` yet, and under CI it is not created; create it with `{update_command}` and commit the file"
            ),
        }),
        None => {
            write()?;
            Ok(Step::Written(Action::Created))
        }
    }
}

/// A fitted per-item figure `current` held to its `baseline` under `policy`: the allowance
/// `baseline + |baseline| × growth`, and whether `current` is over it by more than a billionth
/// of the baseline (the rounding of the fit; the costs of a deterministic workload are exact).
pub(crate) fn fitted(baseline: f64, current: f64, policy: &Policy) -> (f64, bool) {
    let growth = policy.growth_percent() / 100.0;
    let allowed = baseline + baseline.abs() * growth;
    (allowed, current > allowed + 1e-9 * baseline.abs().max(1.0))
}

/// Allowances are fractions of the baseline in millionths: exact for any percentage written with
/// up to four decimals (`15%` is 150 000, `2.5%` is 25 000).
const MILLION: i128 = 1_000_000;

/// `policy`'s allowed growth in millionths of the baseline (rounded to the nearest, saturating
/// for absurd percentages).
fn growth_millionths(policy: &Policy) -> i128 {
    // `as` saturates for values beyond i128; percentages are never negative.
    (policy.growth_percent() * 10_000.0).round() as i128
}

/// `a × b ≤ c × d`, exactly when the products fit in i128 (always, for u64 factors), else in
/// floating point.
fn products_le(a: i128, b: i128, c: i128, d: i128) -> bool {
    match (a.checked_mul(b), c.checked_mul(d)) {
        (Some(left), Some(right)) => left <= right,
        _ => (a as f64) * (b as f64) <= (c as f64) * (d as f64),
    }
}

/// `⌊n / d⌋` for `d > 0`, as f64.
fn floor_div(n: i128, d: i128) -> f64 {
    n.div_euclid(d) as f64
}

/// The figures of `current` that differ from `base`, each judged exactly against its allowance
/// under `policy`, and notes on figures that could not be compared.
pub(crate) fn compare(
    base: &Baseline,
    current: &Baseline,
    policy: &Policy,
) -> (Vec<Change>, Vec<String>) {
    let growth = growth_millionths(policy);
    let allowance = MILLION.saturating_add(growth);
    let per = |total: u64, iterations: u64| total as f64 / iterations.max(1) as f64;
    let mut changes = Vec::new();
    let mut push = |figure, baseline: f64, current: f64, allowed: f64, over, per_iteration| {
        if current != baseline {
            changes.push(Change {
                figure,
                baseline,
                current,
                allowed,
                per_iteration,
                over,
            });
        }
    };
    let iterated = base.iterations > 1 || current.iterations > 1;
    let (b_iters, c_iters) = (
        i128::from(base.iterations.max(1)),
        i128::from(current.iterations.max(1)),
    );
    for (figure, b, c) in [
        (Figure::Allocations, base.allocations, current.allocations),
        (Figure::AllocBytes, base.alloc_bytes, current.alloc_bytes),
    ] {
        let (b_total, c_total) = (i128::from(b), i128::from(c));
        // c / c_iters ≤ b / b_iters × allowance / MILLION, cross-multiplied.
        let within = products_le(c_total * b_iters, MILLION, b_total * c_iters, allowance);
        // b / b_iters × allowance / MILLION, rounded down to a hundredth (a whole number when
        // the figures are totals, as rounding down a whole-number limit loses nothing).
        let allowed = if iterated {
            b_total
                .checked_mul(allowance)
                .and_then(|n| n.checked_mul(100))
                .map_or(
                    per(b, base.iterations) * allowance as f64 / MILLION as f64,
                    |n| floor_div(n, MILLION * b_iters) / 100.0,
                )
        } else {
            b_total
                .checked_mul(allowance)
                .map_or(b as f64 * allowance as f64 / MILLION as f64, |n| {
                    floor_div(n, MILLION)
                })
        };
        let (b, c) = (per(b, base.iterations), per(c, current.iterations));
        push(figure, b, c, allowed, !within, iterated);
    }
    let (b_peak, c_peak) = (i128::from(base.peak_bytes), i128::from(current.peak_bytes));
    push(
        Figure::PeakBytes,
        base.peak_bytes as f64,
        current.peak_bytes as f64,
        b_peak.checked_mul(allowance).map_or(
            base.peak_bytes as f64 * allowance as f64 / MILLION as f64,
            |n| floor_div(n, MILLION),
        ),
        !products_le(c_peak, MILLION, b_peak, allowance),
        false,
    );

    let mut notes = Vec::new();
    if let Some(noise) = policy.rss_noise_bytes() {
        match (base.rss_growth_bytes, current.rss_growth_bytes) {
            (Some(b), Some(c)) => {
                // b + |b| × growth + noise, in millionths (RSS growth can be negative).
                let (b_m, c_m) = (i128::from(b), i128::from(c));
                let limit = b_m
                    .checked_mul(MILLION)
                    .zip(b_m.abs().checked_mul(growth))
                    .and_then(|(base, grown)| base.checked_add(grown))
                    .and_then(|n| n.checked_add(i128::from(noise) * MILLION));
                let (allowed, over) = match limit {
                    Some(limit) => (floor_div(limit, MILLION), c_m * MILLION > limit),
                    None => {
                        let allowed = b as f64
                            + (b as f64).abs() * policy.growth_percent() / 100.0
                            + noise as f64;
                        (allowed, c as f64 > allowed)
                    }
                };
                push(
                    Figure::RssGrowthBytes,
                    b as f64,
                    c as f64,
                    allowed,
                    over,
                    false,
                );
            }
            (None, Some(_)) => notes.push(format!(
                "rss_growth_bytes is not in the baseline, so RSS was not compared; record it with: {}",
                policy.update_command_line()
            )),
            (_, None) => notes.push("no RSS figures on this platform, so RSS was not compared".to_owned()),
        }
    }
    (changes, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_is_relative_and_shrinking_passes() {
        let policy = Policy::new("10%").unwrap();
        let base = Baseline::new(10, 100, 10_000, 500);
        let same = compare(&base, &base, &policy);
        assert!(same.0.is_empty());
        // 10% more allocations per iteration is allowed; one more is not.
        let (changes, _) = compare(&base, &Baseline::new(10, 110, 10_000, 500), &policy);
        assert!(!changes[0].grew());
        let (changes, _) = compare(&base, &Baseline::new(10, 111, 10_000, 500), &policy);
        assert!(changes[0].grew());
        // Per iteration: twice the iterations, twice the totals, no change.
        assert!(
            compare(&base, &Baseline::new(20, 200, 20_000, 500), &policy)
                .0
                .is_empty()
        );
        // From zero, anything is growth.
        let zero = Baseline::new(1, 0, 0, 0);
        assert!(
            compare(&zero, &Baseline::new(1, 1, 8, 8), &policy)
                .0
                .iter()
                .all(Change::grew)
        );
        let (shrunk, _) = compare(&base, &Baseline::new(10, 50, 10_000, 500), &policy);
        assert!(shrunk[0].shrank() && !shrunk[0].grew());
    }

    /// Exactly the allowed growth passes, one more fails, for totals and per iteration, and
    /// the message names the exact limit (`100 × 1.15` is 114.99999999999999 in f64).
    #[test]
    fn exactly_the_allowed_growth_passes() {
        let policy = Policy::new("15%").unwrap();
        let base = Baseline::new(1, 100, 100, 100);
        let (at, _) = compare(&base, &Baseline::new(1, 115, 115, 115), &policy);
        assert!(at.iter().all(|c| !c.grew() && c.allowed == 115.0), "{at:?}");
        let (over, _) = compare(&base, &Baseline::new(1, 116, 116, 116), &policy);
        assert!(over.iter().all(Change::grew), "{over:?}");
        assert_eq!(
            over[2].to_string(),
            "peak_bytes: baseline 100 B, now 116 B (+16.0%; allowed up to 115 B)"
        );
        // Per iteration: 100 per iteration over 3 iterations against 115 per iteration over 7.
        let base = Baseline::new(3, 300, 300, 100);
        assert!(
            compare(&base, &Baseline::new(7, 805, 805, 100), &policy)
                .0
                .iter()
                .all(|c| !c.grew())
        );
        let (over, _) = compare(&base, &Baseline::new(7, 806, 806, 100), &policy);
        assert!(over.iter().all(Change::grew), "{over:?}");
        assert_eq!(
            over[1].to_string(),
            "alloc_bytes: baseline 100 B, now 115.14 B per iteration (+15.1%; allowed up to 115 B)"
        );
        // Fractional percentages are exact too: 2.5% of 1000 is 25.
        let policy = Policy::new("2.5%").unwrap();
        let base = Baseline::new(1, 1000, 1000, 1000);
        assert!(
            compare(&base, &Baseline::new(1, 1025, 1025, 1025), &policy)
                .0
                .iter()
                .all(|c| !c.grew())
        );
        assert!(
            compare(&base, &Baseline::new(1, 1026, 1026, 1026), &policy)
                .0
                .iter()
                .all(Change::grew)
        );
        // RSS: baseline growth plus the percentage of its magnitude plus the noise, exactly.
        let policy = Policy::new("15%").unwrap().rss_noise("10").unwrap();
        let mut base = Baseline::new(1, 1, 1, 1);
        base.rss_growth_bytes = Some(-100);
        let mut at = base;
        at.rss_growth_bytes = Some(-100 + 15 + 10);
        assert!(compare(&base, &at, &policy).0.iter().all(|c| !c.grew()));
        at.rss_growth_bytes = Some(-74);
        let (over, _) = compare(&base, &at, &policy);
        assert!(over[0].grew() && over[0].allowed == -75.0, "{over:?}");
    }
}
