//! Two footprints compared: per total (text, rodata, data, bss, flash, ram), per section and per
//! symbol, with `--fail-if-growth` judged on the totals. Plain data; nothing here formats.
//!
//! A total fails when it grows by more than every threshold (`10%` of BASE's figure, or a size),
//! like `compare`. Sections and symbols are reported, not judged: a new symbol has no base to take
//! a percentage of, and a section's growth is already in its class's total.

use super::measure::{Class, Footprint};
use memprobe::units::Growth;
use serde::Serialize;
use std::collections::BTreeMap;

/// One total of both binaries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub(crate) struct TotalDiff {
    /// `text`, `rodata`, `data`, `bss`, `flash` or `ram`.
    pub(crate) name: &'static str,
    /// BASE's figure.
    pub(crate) base_bytes: u64,
    /// NEW's figure.
    pub(crate) new_bytes: u64,
    /// NEW minus BASE.
    pub(crate) delta_bytes: i64,
    /// Grew past every `--fail-if-growth` threshold (false when none were given).
    pub(crate) grew_past_threshold: bool,
}

/// One section or symbol of either binary whose size differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub(crate) struct ItemDiff {
    /// The section's or symbol's name.
    pub(crate) name: String,
    /// Its class (NEW's, or BASE's when it is gone).
    pub(crate) class: Class,
    /// Its size in BASE, `None` when it is new.
    pub(crate) base_bytes: Option<u64>,
    /// Its size in NEW, `None` when it is gone.
    pub(crate) new_bytes: Option<u64>,
    /// NEW minus BASE (a missing side counts as 0).
    pub(crate) delta_bytes: i64,
}

/// The comparison of two binaries.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub(crate) struct Diff {
    /// The reference binary.
    pub(crate) base: Footprint,
    /// The binary under test.
    pub(crate) new: Footprint,
    /// The thresholds, as given.
    pub(crate) fail_if_growth: Vec<String>,
    /// Every total, in order.
    pub(crate) totals: Vec<TotalDiff>,
    /// Sections that differ, largest change first.
    pub(crate) sections: Vec<ItemDiff>,
    /// Symbols that differ, largest change first.
    pub(crate) symbols: Vec<ItemDiff>,
    /// Some total grew past the thresholds.
    pub(crate) failed: bool,
}

/// Compares `base` with `new`.
pub(crate) fn diff(base: Footprint, new: Footprint, thresholds: &[Growth]) -> Diff {
    let totals: Vec<TotalDiff> = base
        .totals
        .figures()
        .into_iter()
        .zip(new.totals.figures())
        .map(|((name, b), (_, n))| {
            let delta = signed(n) - signed(b);
            TotalDiff {
                name,
                base_bytes: b,
                new_bytes: n,
                delta_bytes: delta,
                grew_past_threshold: !thresholds.is_empty()
                    && thresholds.iter().all(|t| delta as f64 > t.allowance(b)),
            }
        })
        .collect();
    let sections = items(
        base.sections
            .iter()
            .map(|s| (&s.name, s.class, s.size_bytes)),
        new.sections
            .iter()
            .map(|s| (&s.name, s.class, s.size_bytes)),
    );
    let symbols = items(
        base.symbols
            .iter()
            .map(|s| (&s.name, s.class, s.size_bytes)),
        new.symbols.iter().map(|s| (&s.name, s.class, s.size_bytes)),
    );
    Diff {
        failed: totals.iter().any(|t| t.grew_past_threshold),
        fail_if_growth: thresholds.iter().map(ToString::to_string).collect(),
        base,
        new,
        totals,
        sections,
        symbols,
    }
}

fn signed(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The items whose size differs between two lists keyed by name (sizes of one name summed),
/// largest absolute change first, ties by name.
fn items<'a>(
    base: impl Iterator<Item = (&'a String, Class, u64)>,
    new: impl Iterator<Item = (&'a String, Class, u64)>,
) -> Vec<ItemDiff> {
    let mut by_name: BTreeMap<&str, (Class, Option<u64>, Option<u64>)> = BTreeMap::new();
    for (name, class, size) in base {
        let e = by_name.entry(name).or_insert((class, None, None));
        *e.1.get_or_insert(0) += size;
    }
    for (name, class, size) in new {
        let e = by_name.entry(name).or_insert((class, None, None));
        e.0 = class;
        *e.2.get_or_insert(0) += size;
    }
    let mut out: Vec<ItemDiff> = by_name
        .into_iter()
        .map(|(name, (class, b, n))| ItemDiff {
            name: name.to_owned(),
            class,
            base_bytes: b,
            new_bytes: n,
            delta_bytes: signed(n.unwrap_or(0)) - signed(b.unwrap_or(0)),
        })
        .filter(|d| d.delta_bytes != 0 || d.base_bytes.is_none() || d.new_bytes.is_none())
        .collect();
    out.sort_by(|a, b| {
        b.delta_bytes
            .unsigned_abs()
            .cmp(&a.delta_bytes.unsigned_abs())
            .then_with(|| a.name.cmp(&b.name))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_pair_by_name_and_sort_by_the_size_of_the_change() {
        let (a, b, c, d) = (
            "a".to_owned(),
            "b".to_owned(),
            "c".to_owned(),
            "d".to_owned(),
        );
        let base = [
            (&a, Class::Bss, 10),
            (&b, Class::Data, 5),
            (&c, Class::Text, 7),
        ];
        let new = [
            (&a, Class::Bss, 110),
            (&b, Class::Data, 5),
            (&d, Class::Rodata, 3),
        ];
        let got = items(base.into_iter(), new.into_iter());
        let summary: Vec<_> = got
            .iter()
            .map(|i| (i.name.as_str(), i.base_bytes, i.new_bytes, i.delta_bytes))
            .collect();
        assert_eq!(
            summary,
            [
                ("a", Some(10), Some(110), 100),
                ("c", Some(7), None, -7),
                ("d", None, Some(3), 3),
            ]
        );
    }
}
