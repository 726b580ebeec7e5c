//! The one sentence a person reads for a verdict: what the run shows, the slope and the growth
//! over the run against the threshold, the warm-up, a sawtooth or a staircase, and any notes.

use super::evidence::{Evidence, Step};
use super::outcome::VerdictKind;
use super::phrase::{capitalize, length, position, qty, range, rate, signed};
use super::vocab::Warmup;
use crate::units::{Growth, Seconds as Secs, percent};

pub(super) fn summarize(kind: &VerdictKind, e: &Evidence, outer: Option<&Evidence>) -> String {
    let mut s = match kind {
        VerdictKind::Inconclusive { reason } => {
            format!("Inconclusive for {}: {reason}", e.series)
        }
        VerdictKind::Growth => growth_sentence(e),
        VerdictKind::Fragmentation => match outer {
            Some(o) => format!(
                "{}, while {} stays flat: fragmentation or memory the allocator retains, not a leak",
                growth_sentence(o),
                e.series
            ),
            None => format!(
                "{} stays flat but resident memory grows: fragmentation",
                capitalize(e.series)
            ),
        },
        VerdictKind::Pass => pass_sentence(e),
    };
    for note in &e.notes {
        s.push_str(" (");
        s.push_str(note);
        s.push(')');
    }
    s
}

/// A pass says what the run did: flat, a sawtooth, growth under the threshold, or a rise that
/// ended on a plateau (with the rise told in full).
pub(super) fn pass_sentence(e: &Evidence) -> String {
    let name = capitalize(e.series);
    let (Some(slope), Some(p)) = (e.slope(), e.projected_growth_bytes) else {
        return format!("{name} passes");
    };
    let per = format!("/{}", e.axis.unit());
    if let Some(pl) = e.plateau {
        let ups: Vec<&Step> = e
            .steps
            .iter()
            .filter(|s| s.at <= pl.start && s.size_bytes > 0.0)
            .collect();
        let after = format!(
            "{} after it (95% CI {})",
            rate(pl.slope_after.value, e.axis),
            range(pl.slope_after.low, pl.slope_after.high, &per)
        );
        return match ups.as_slice() {
            // One step that is the whole rise: name it. A ramp cut into steps is told as a rise.
            [one] if (one.size_bytes - pl.rise_bytes).abs() <= 0.25 * pl.rise_bytes.abs() => {
                format!(
                    "{name} steps up {} at {}, flat since at {}: {after}{}, within {}: passes as a plateau",
                    signed(pl.rise_bytes),
                    position(e.axis, one.at),
                    qty(pl.level_bytes),
                    warmup_phrase(e),
                    threshold_phrase(e)
                )
            }
            _ => format!(
                "{name} grew {}{}, then flat at {} from {}: passes as a plateau ({after}, within {})",
                qty(pl.rise_bytes),
                if e.warmup_dropped > 0 {
                    " after warm-up".to_owned()
                } else {
                    " from the start".to_owned()
                },
                qty(pl.level_bytes),
                position(e.axis, pl.start),
                threshold_phrase(e)
            ),
        };
    }
    let interval = format!("95% CI {}", range(slope.low, slope.high, &per));
    let subject = match e.period {
        Some(period) => format!(
            "{name} saw-tooths (period {}, amplitude {}) and its per-cycle means",
            length(e.axis, period.period),
            qty(period.amplitude_bytes)
        ),
        None => name,
    };
    if slope.low > 0.0 {
        // It grows, less than the threshold: say so, with the figures.
        format!(
            "{subject} {} {} ({} over the run, {interval}){}, within {}",
            if e.period.is_some() { "grow" } else { "grows" },
            rate(slope.value, e.axis),
            qty(p.value),
            warmup_phrase(e),
            threshold_phrase(e)
        )
    } else {
        format!(
            "{subject} {}: {} ({interval}){}: at most {} over the run, within {}",
            if e.period.is_some() {
                "do not grow"
            } else {
                "does not grow"
            },
            rate(slope.value, e.axis),
            warmup_phrase(e),
            qty(p.high.max(0.0)),
            threshold_phrase(e)
        )
    }
}

pub(super) fn growth_sentence(e: &Evidence) -> String {
    let (Some(slope), Some(p)) = (e.slope(), e.projected_growth_bytes) else {
        return format!("{} grows", capitalize(e.series));
    };
    let mut s = format!(
        "{} grows {} (95% CI {}){}: {} over the run, above {}",
        capitalize(e.series),
        rate(slope.value, e.axis),
        range(slope.low, slope.high, &format!("/{}", e.axis.unit())),
        warmup_phrase(e),
        qty(p.value),
        threshold_phrase(e)
    );
    if let Some(period) = e.period {
        s.push_str(&format!(
            ", under a sawtooth (period {}, amplitude {}) judged per cycle",
            length(e.axis, period.period),
            qty(period.amplitude_bytes)
        ));
    } else if let Some(stairs) = staircase(e) {
        s.push_str(&stairs);
    }
    s
}

/// "; it climbs in 16 steps of about +1.0 MiB, one every 10 s" when the rise is a staircase.
pub(super) fn staircase(e: &Evidence) -> Option<String> {
    let ups: Vec<&Step> = e.steps.iter().filter(|s| s.size_bytes > 0.0).collect();
    if ups.len() < 2 || ups.len() > 24 || ups.len() * 4 < e.steps.len() * 3 {
        return None;
    }
    let mean = ups.iter().map(|s| s.size_bytes).sum::<f64>() / ups.len() as f64;
    let every = (ups[ups.len() - 1].at - ups[0].at) / (ups.len() - 1) as f64;
    Some(format!(
        "; it climbs in {} steps of about {}, one every {}",
        ups.len(),
        signed(mean),
        length(e.axis, every)
    ))
}

pub(super) fn warmup_phrase(e: &Evidence) -> String {
    if e.warmup_dropped == 0 {
        return String::new();
    }
    match e.warmup {
        Warmup::None => String::new(),
        Warmup::Duration(d) => format!(" after a {} warm-up", Secs(d.as_secs_f64())),
        Warmup::Share(s) => format!(" after a {}% warm-up ({})", percent(s), Secs(e.warmup_secs)),
        Warmup::Iterations(n) => format!(" after {n} warm-up iterations"),
    }
}

pub(super) fn threshold_phrase(e: &Evidence) -> String {
    let allowance = e
        .allowance_bytes
        .map(|a| format!(" ({})", qty(a)))
        .unwrap_or_default();
    match e.thresholds.as_slice() {
        [] => "a zero threshold".to_owned(),
        [one] => format!("the {one} threshold{allowance}"),
        many => {
            let names: Vec<String> = many.iter().map(Growth::to_string).collect();
            format!("the {} thresholds{allowance}", names.join(" and "))
        }
    }
}
