//! Parsing `#[memprobe(...)]` arguments in two phases, as tokio's `Configuration` → `FinalConfig`:
//! [`Options::parse`] reads each `name = value` pair, checking its type and form on its own
//! (unknown names, repeats, wrong literal types, bad size strings); [`Options::build`] then checks
//! the rules that involve several options (`warmup` without `iters`, `baseline` without
//! `fail_if_growth`) and yields the [`Config`] that `expand.rs` emits. Every problem is a
//! `syn::Error` spanned on the culprit, and all of them are combined so the user fixes them in
//! one pass.
//!
//! # Size strings
//!
//! The macro crate cannot depend on `memprobe` (it is the other way round), so it compiles the
//! runtime's grammar file itself: `memprobe/src/size_grammar.rs`, included below with `#[path]`.
//! One source, so the attribute rejects exactly what the runtime would, with the same words, as a
//! compile error spanned on the literal; the string is emitted unchanged and the runtime parses it
//! again (it cannot fail there). The price: this crate can only be packaged from the workspace
//! (`cargo package` needs the file inside the crate; vendor it in at publish time).

//!
//! # Files
//!
//! `table` (the option names and the checked [`Config`]), `values` (phase one's readers of each
//! option's literal), `build` (phase two), `errors` (gathering and the shared messages); this
//! file holds [`Options`] and reads each `name = value` pair.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Meta, Token};

#[path = "../../../memprobe/src/size_grammar.rs"]
#[allow(dead_code)]
mod grammar;

mod build;
mod errors;
mod table;
mod values;

pub(crate) use errors::Errors;
use errors::{path_text, twice, unknown};
pub(crate) use table::{Config, OPTIONS, ReportMode, Scope, Sites};
use values::{
    flag_value, growth_value, integer_value, report_value, sites_value, size_value, sizes_value,
    string_value, value_span,
};

/// One option as written, with the span of its name (for "given twice" and cross-option errors).
#[derive(Debug, Clone)]
struct Set<T> {
    value: T,
    name_span: Span,
}

/// Phase one: each option read and checked on its own.
#[derive(Debug, Default)]
pub(crate) struct Options {
    scope: Option<Set<Scope>>,
    max_allocs: Option<Set<u64>>,
    max_bytes: Option<Set<String>>,
    max_peak: Option<Set<String>>,
    max_net: Option<Set<String>>,
    max_rss_growth: Option<Set<String>>,
    iters: Option<Set<u64>>,
    warmup: Option<Set<u64>>,
    fail_if_growth: Option<Set<String>>,
    baseline: Option<Set<String>>,
    purge: Option<Set<bool>>,
    report: Option<Set<ReportMode>>,
    sizes: Option<Set<Vec<u64>>>,
    max_allocs_per_item: Option<Set<u64>>,
    max_bytes_per_item: Option<Set<String>>,
    sites: Option<Set<Sites>>,
    /// Names seen so far, valid or not: a repeat is an error even when the first was invalid.
    seen: Vec<String>,
    errors: Errors,
}

impl Parse for Options {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let metas = Punctuated::<Meta, Token![,]>::parse_terminated(input)?;
        let mut options = Options::default();
        for meta in metas {
            if let Err(e) = options.set(&meta) {
                options.errors.push(e);
            }
        }
        Ok(options)
    }
}

impl Options {
    /// Whether option `name` was written, valid or not.
    pub(crate) fn mentions(&self, name: &str) -> bool {
        self.seen.iter().any(|seen| seen == name)
    }

    fn set(&mut self, meta: &Meta) -> syn::Result<()> {
        let path = meta.path();
        let Some(ident) = path.get_ident() else {
            return Err(unknown(path.span(), &path_text(path)));
        };
        let name = ident.to_string();
        let span = ident.span();
        if OPTIONS.contains(&name.as_str()) {
            if self.seen.contains(&name) {
                return Err(twice(span, &name));
            }
            self.seen.push(name.clone());
        }
        match name.as_str() {
            "scope" => {
                let s = string_value(meta, &name, "`scope = \"thread\"` or `scope = \"process\"`")?;
                let scope = match s.value().as_str() {
                    "thread" => Scope::Thread,
                    "process" => Scope::Process,
                    other => {
                        return Err(syn::Error::new(
                            s.span(),
                            format!(
                                "unknown scope {other:?}: expected \"thread\" (the default: the test's thread and what it hands work to, exact under parallel `cargo test`) or \"process\" (every thread; tests serialize)"
                            ),
                        ));
                    }
                };
                put(&mut self.scope, &name, scope, span)
            }
            "max_allocs" => {
                let n = integer_value(meta, &name, "an allocation count, e.g. `max_allocs = 0`")?;
                put(&mut self.max_allocs, &name, n, span)
            }
            "max_bytes" | "max_peak" | "max_net" => {
                let size = size_value(meta, &name)?;
                let slot = match name.as_str() {
                    "max_bytes" => &mut self.max_bytes,
                    "max_peak" => &mut self.max_peak,
                    _ => &mut self.max_net,
                };
                put(slot, &name, size, span)
            }
            "max_rss_growth" => {
                let growth = growth_value(meta, &name)?;
                put(&mut self.max_rss_growth, &name, growth, span)
            }
            "iters" => {
                let n = integer_value(
                    meta,
                    &name,
                    "a number of measured iterations, e.g. `iters = 1000`",
                )?;
                if n == 0 {
                    return Err(syn::Error::new(
                        value_span(meta),
                        "`iters` must be at least 1 (leave it out to measure a single run)",
                    ));
                }
                put(&mut self.iters, &name, n, span)
            }
            "warmup" => {
                let n = integer_value(
                    meta,
                    &name,
                    "a number of unmeasured iterations, e.g. `warmup = 10`",
                )?;
                put(&mut self.warmup, &name, n, span)
            }
            "fail_if_growth" => {
                let s = string_value(meta, &name, "a percentage, e.g. `fail_if_growth = \"10%\"`")?;
                let problem = match grammar::baseline_growth(&s.value()) {
                    Ok(Some(_)) => None,
                    Ok(None) => Some(
                        "growth over a baseline is relative to each figure: write a percentage"
                            .to_owned(),
                    ),
                    Err(problem) => Some(problem.to_string()),
                };
                if let Some(problem) = problem {
                    return Err(syn::Error::new(
                        s.span(),
                        format!(
                            "invalid growth {:?} for `fail_if_growth`: {problem}; expected a percentage such as \"10%\", \"2.5%\" or \"0%\" (growth over the baseline's exact figures)",
                            s.value()
                        ),
                    ));
                }
                put(&mut self.fail_if_growth, &name, s.value(), span)
            }
            "baseline" => {
                let s = string_value(
                    meta,
                    &name,
                    "a baseline name, e.g. `baseline = \"parser::small_input\"`",
                )?;
                let value = s.value();
                if value.trim().is_empty() {
                    return Err(syn::Error::new(
                        s.span(),
                        "the baseline name is empty: leave `baseline` out to use the test's path",
                    ));
                }
                put(&mut self.baseline, &name, value, span)
            }
            "purge" => {
                let on = flag_value(meta, &name)?;
                put(&mut self.purge, &name, on, span)
            }
            "report" => {
                let mode = report_value(meta)?;
                put(&mut self.report, &name, mode, span)
            }
            "sizes" => {
                let sizes = sizes_value(meta)?;
                put(&mut self.sizes, &name, sizes, span)
            }
            "max_allocs_per_item" => {
                let n = integer_value(
                    meta,
                    &name,
                    "an allocation count per item, e.g. `max_allocs_per_item = 3`",
                )?;
                put(&mut self.max_allocs_per_item, &name, n, span)
            }
            "max_bytes_per_item" => {
                let size = size_value(meta, &name)?;
                put(&mut self.max_bytes_per_item, &name, size, span)
            }
            "sites" => {
                let sites = sites_value(meta)?;
                put(&mut self.sites, &name, sites, span)
            }
            other => Err(unknown(span, other)),
        }
    }
}

/// Sets an option once; a second occurrence is an error on the second.
fn put<T>(slot: &mut Option<Set<T>>, name: &str, value: T, name_span: Span) -> syn::Result<()> {
    if slot.is_some() {
        return Err(twice(name_span, name));
    }
    *slot = Some(Set { value, name_span });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn build(tokens: proc_macro2::TokenStream) -> Result<Config, String> {
        let options: Options = syn::parse2(tokens).map_err(|e| e.to_string())?;
        options.build().map_err(|e| {
            e.into_result()
                .unwrap_err()
                .into_iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join(" | ")
        })
    }

    #[test]
    fn sites_forms() {
        let top = |c: Config| c.sites.map(|(s, _)| (s.top, s.exact));
        assert_eq!(top(build(quote!(sites)).unwrap()), Some((10, false)));
        assert_eq!(top(build(quote!(sites = 3)).unwrap()), Some((3, false)));
        assert_eq!(
            top(build(quote!(sites = "exact")).unwrap()),
            Some((10, true))
        );
        assert_eq!(top(build(quote!(max_allocs = 1)).unwrap()), None);
        let e = build(quote!(sites = 0)).unwrap_err();
        assert!(e.contains("at least 1"), "{e}");
        let e = build(quote!(sizes = [1, 2], sites)).unwrap_err();
        assert!(e.starts_with("`sites` applies to one run"), "{e}");
        let e = build(quote!(sites, sites = 2)).unwrap_err();
        assert_eq!(e, "`sites` is given twice: keep one");
    }

    #[test]
    fn every_option_parses() {
        let c = build(quote!(
            scope = "process",
            max_allocs = 3,
            max_bytes = "64 KiB",
            max_peak = 4096,
            max_net = "0",
            max_rss_growth = "10%",
            iters = 100,
            warmup = 5,
            fail_if_growth = "2.5%",
            baseline = "b",
            purge,
            report = "json"
        ))
        .unwrap();
        assert_eq!(c.scope, Scope::Process);
        assert_eq!(c.max_allocs, Some(3));
        assert_eq!(c.max_bytes.as_deref(), Some("64 KiB"));
        assert_eq!(c.max_peak.as_deref(), Some("4096"));
        assert_eq!(c.max_rss_growth.as_deref(), Some("10%"));
        assert_eq!((c.iters, c.warmup), (Some(100), 5));
        assert!(c.purge);
        assert_eq!(c.report, ReportMode::Json);
        let defaults = build(quote!()).unwrap();
        assert_eq!(
            (defaults.scope, defaults.report, defaults.purge),
            (Scope::Thread, ReportMode::Default, false)
        );
    }

    #[test]
    fn errors_are_gathered_and_name_the_fix() {
        let e = build(quote!(
            max_alocs = 1,
            max_bytes = "12 KBB",
            max_bytes = 1,
            warmup = 3,
            scope = 5
        ))
        .unwrap_err();
        assert!(
            e.contains("unknown option `max_alocs` (did you mean `max_allocs`?)"),
            "{e}"
        );
        assert!(e.contains("invalid size \"12 KBB\""), "{e}");
        assert!(e.contains("`max_bytes` is given twice"), "{e}");
        assert!(e.contains("`scope` takes a string"), "{e}");
        assert!(e.contains("`warmup` needs `iters`"), "{e}");
        let e = build(quote!(warmup = 3, baseline = "x")).unwrap_err();
        assert!(
            e.contains("`warmup` needs `iters`") && e.contains("`baseline` names what"),
            "{e}"
        );
        assert!(build(quote!(iters = 0)).unwrap_err().contains("at least 1"));
        assert!(
            build(quote!(fail_if_growth = "10 MiB"))
                .unwrap_err()
                .contains("percentage")
        );
        assert!(build(quote!(max_rss_growth = "10 %%")).is_err());
        assert!(
            build(quote!(report = "xml"))
                .unwrap_err()
                .contains("\"table\"")
        );
    }

    /// The attribute refuses what the runtime refuses, in the runtime's words (one grammar file).
    #[test]
    fn sizes_follow_the_units_grammar() {
        let e = build(quote!(max_bytes = -1)).unwrap_err();
        assert!(
            e.contains("invalid size -1 for `max_bytes`: it is negative"),
            "{e}"
        );
        let e = build(quote!(max_bytes = "99999999999 GiB")).unwrap_err();
        assert!(e.contains("too large"), "{e}");
        let e = build(quote!(max_peak = "10%")).unwrap_err();
        assert!(
            e.contains("percentage is only accepted by growth limits"),
            "{e}"
        );
        let e = build(quote!(max_net = "64k")).unwrap_err();
        assert!(e.contains("`k` is ambiguous"), "{e}");
        let e = build(quote!(max_rss_growth = "5")).unwrap_err();
        assert!(e.contains("write `5%` (relative) or `5B` (bytes)"), "{e}");
        let e = build(quote!(max_rss_growth = 5)).unwrap_err();
        assert!(e.contains("write `5%` (relative) or `5B` (bytes)"), "{e}");
        let e = build(quote!(fail_if_growth = "10")).unwrap_err();
        assert!(e.contains("write `10%`") && !e.contains("`10B`"), "{e}");
        let c = build(quote!(
            max_bytes = 4096,
            max_rss_growth = 0,
            max_peak = "64 kib"
        ))
        .unwrap();
        assert_eq!(c.max_bytes.as_deref(), Some("4096"));
        assert_eq!(c.max_rss_growth.as_deref(), Some("0"));
        for input in ["64 kib", "1.5MB", "-1", "10%", "64k", "12 KBB"] {
            assert_eq!(
                grammar::size(input).ok(),
                memprobe::units::parse_bytes(input).ok(),
                "{input:?}"
            );
        }
    }
}
