//! Phase two: the rules that involve several options (`warmup` without `iters`, `baseline`
//! without `fail_if_growth`, per-item limits without `sizes`, per-run options with `sizes`), then
//! the defaults, yielding the [`Config`] that `expand.rs` emits.

use super::Options;
use super::errors::Errors;
use super::table::{Config, ReportMode, Scope};

impl Options {
    /// Phase two: rules between options, and defaults.
    pub(crate) fn build(self) -> Result<Config, Errors> {
        let mut errors = self.errors;
        if let (Some(warmup), None) = (&self.warmup, &self.iters) {
            errors.push(syn::Error::new(
                warmup.name_span,
                "`warmup` needs `iters`: warm-up runs precede measured iterations; add e.g. `iters = 100`, or drop `warmup`",
            ));
        }
        if let (Some(baseline), None) = (&self.baseline, &self.fail_if_growth) {
            errors.push(syn::Error::new(
                baseline.name_span,
                "`baseline` names what `fail_if_growth` compares against; add e.g. `fail_if_growth = \"10%\"`, or drop `baseline`",
            ));
        }
        for (set, name) in [
            (
                self.max_allocs_per_item.as_ref().map(|s| s.name_span),
                "max_allocs_per_item",
            ),
            (
                self.max_bytes_per_item.as_ref().map(|s| s.name_span),
                "max_bytes_per_item",
            ),
        ] {
            if let (Some(span), None) = (set, &self.sizes) {
                errors.push(syn::Error::new(
                    span,
                    format!(
                        "`{name}` limits the cost per item of a scaling fit; add the sizes to fit over, e.g. `sizes = [10, 50, 100, 200]`, and give the function one argument `n: u64`"
                    ),
                ));
            }
        }
        if self.sizes.is_some() {
            let per_run = [
                ("iters", self.iters.as_ref().map(|s| s.name_span)),
                ("max_allocs", self.max_allocs.as_ref().map(|s| s.name_span)),
                ("max_bytes", self.max_bytes.as_ref().map(|s| s.name_span)),
                ("max_peak", self.max_peak.as_ref().map(|s| s.name_span)),
                ("max_net", self.max_net.as_ref().map(|s| s.name_span)),
                (
                    "max_rss_growth",
                    self.max_rss_growth.as_ref().map(|s| s.name_span),
                ),
                ("purge", self.purge.as_ref().map(|s| s.name_span)),
                ("sites", self.sites.as_ref().map(|s| s.name_span)),
            ];
            for (name, span) in per_run {
                if let Some(span) = span {
                    errors.push(syn::Error::new(
                        span,
                        format!(
                            "`{name}` applies to one run, and `sizes` runs the function once per size and repetition as a scaling fit; limit the cost per item with `max_allocs_per_item` or `max_bytes_per_item`, or drop `sizes`"
                        ),
                    ));
                }
            }
        }
        errors.into_result().map_err(|e| Errors(Some(e)))?;
        Ok(Config {
            scope: self.scope.map_or(Scope::Thread, |s| s.value),
            max_allocs: self.max_allocs.map(|s| s.value),
            max_bytes: self.max_bytes.map(|s| s.value),
            max_peak: self.max_peak.map(|s| s.value),
            max_net: self.max_net.map(|s| s.value),
            max_rss_growth: self.max_rss_growth.map(|s| s.value),
            iters: self.iters.map(|s| s.value),
            warmup: self.warmup.map_or(0, |s| s.value),
            fail_if_growth: self.fail_if_growth.map(|s| s.value),
            baseline: self.baseline.map(|s| s.value),
            purge: self.purge.is_some_and(|s| s.value),
            report: self.report.map_or(ReportMode::Default, |s| s.value),
            sizes: self.sizes.map(|s| s.value),
            max_allocs_per_item: self.max_allocs_per_item.map(|s| s.value),
            max_bytes_per_item: self.max_bytes_per_item.map(|s| s.value),
            sites: self.sites.map(|s| (s.value, s.name_span)),
        })
    }
}
