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

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit, LitStr, Meta, Token};

#[path = "../../memprobe/src/size_grammar.rs"]
#[allow(dead_code)]
mod grammar;

/// Every option, in the order the docs list them (used in the "unknown option" message).
pub(crate) const OPTIONS: &[&str] = &[
    "scope",
    "max_allocs",
    "max_bytes",
    "max_peak",
    "max_net",
    "max_rss_growth",
    "iters",
    "warmup",
    "fail_if_growth",
    "baseline",
    "purge",
    "report",
    "sizes",
    "max_allocs_per_item",
    "max_bytes_per_item",
    "sites",
];

/// Accepted size forms, word for word with `SIZE_FORMS` in `memprobe/src/units.rs`.
const SIZE_FORMS: &str = "a byte count with an optional unit, e.g. `0`, `512`, `64 KiB`, `1.5MB`, `2 GiB` (B; KB, MB, GB, TB = 1000^n; KiB, MiB, GiB, TiB = 1024^n; see memprobe::units)";
/// Accepted growth forms, as `GROWTH_FORMS` in `memprobe/src/units.rs`.
const GROWTH_FORMS: &str = "a percentage such as `10%` or `2.5%`, or a size with its unit such as `64 KiB`, `1.5MB`, `512B`, `0` (KB, MB, GB = 1000^n; KiB, MiB, GiB = 1024^n; see memprobe::units)";

/// What a probe counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    Thread,
    Process,
}

/// What the run leaves behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReportMode {
    /// JSON file; the table too when the function is not a test.
    Default,
    /// Nothing written or printed.
    Off,
    /// JSON file only.
    Json,
    /// Printed table only.
    Table,
}

/// A checked configuration: everything `expand.rs` needs, nothing it must validate.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) scope: Scope,
    pub(crate) max_allocs: Option<u64>,
    /// Size strings, validated, emitted as written.
    pub(crate) max_bytes: Option<String>,
    pub(crate) max_peak: Option<String>,
    pub(crate) max_net: Option<String>,
    pub(crate) max_rss_growth: Option<String>,
    pub(crate) iters: Option<u64>,
    pub(crate) warmup: u64,
    pub(crate) fail_if_growth: Option<String>,
    pub(crate) baseline: Option<String>,
    pub(crate) purge: bool,
    pub(crate) report: ReportMode,
    /// `sizes = [...]`: distinct, at least two.
    pub(crate) sizes: Option<Vec<u64>>,
    pub(crate) max_allocs_per_item: Option<u64>,
    /// A size string, validated, emitted as written.
    pub(crate) max_bytes_per_item: Option<String>,
    /// `sites`: the table's top N and exact mode, with the option's span (where a missing
    /// `sites` feature is reported).
    pub(crate) sites: Option<(Sites, Span)>,
}

/// `sites`, `sites = N` or `sites = "exact"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sites {
    /// Rows of the sites table: 10 unless `sites = N`.
    pub(crate) top: usize,
    /// `sites = "exact"`: every allocation sampled.
    pub(crate) exact: bool,
}

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

/// Errors gathered across options, combined into one.
#[derive(Debug, Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn extend(&mut self, other: Errors) {
        if let Some(e) = other.0 {
            self.push(e);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    pub(crate) fn into_result(self) -> Result<(), syn::Error> {
        self.0.map_or(Ok(()), Err)
    }
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

/// Sets an option once; a second occurrence is an error on the second.
fn put<T>(slot: &mut Option<Set<T>>, name: &str, value: T, name_span: Span) -> syn::Result<()> {
    if slot.is_some() {
        return Err(twice(name_span, name));
    }
    *slot = Some(Set { value, name_span });
    Ok(())
}

fn twice(span: Span, name: &str) -> syn::Error {
    syn::Error::new(span, format!("`{name}` is given twice: keep one"))
}

fn unknown(span: Span, name: &str) -> syn::Error {
    let hint = closest(name)
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default();
    syn::Error::new(
        span,
        format!(
            "unknown option `{name}`{hint}; the options are: {}",
            OPTIONS.join(", ")
        ),
    )
}

/// The option within two edits of `name`, if any.
fn closest(name: &str) -> Option<&'static str> {
    OPTIONS
        .iter()
        .copied()
        .map(|o| (edit_distance(name, o), o))
        .filter(|&(d, _)| d <= 2)
        .min()
        .map(|(_, o)| o)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

fn path_text(path: &syn::Path) -> String {
    path.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

/// The literal of `name = <literal>`, or an error saying what was expected.
fn literal<'a>(meta: &'a Meta, name: &str, expected: &str) -> syn::Result<&'a Lit> {
    match meta {
        Meta::NameValue(nv) => match strip_groups(&nv.value) {
            Expr::Lit(ExprLit { lit, .. }) => Ok(lit),
            other => Err(syn::Error::new_spanned(
                other,
                format!("`{name}` takes a literal: {expected}"),
            )),
        },
        Meta::Path(p) => Err(syn::Error::new_spanned(
            p,
            format!("`{name}` needs a value: {expected}"),
        )),
        Meta::List(l) => Err(syn::Error::new_spanned(
            l,
            format!("`{name}` is written `{name} = ...`: {expected}"),
        )),
    }
}

/// Values passed through `macro_rules!` arrive wrapped in invisible groups.
fn strip_groups(expr: &Expr) -> &Expr {
    match expr {
        Expr::Group(g) => strip_groups(&g.expr),
        Expr::Paren(p) => strip_groups(&p.expr),
        other => other,
    }
}

fn value_span(meta: &Meta) -> Span {
    match meta {
        Meta::NameValue(nv) => nv.value.span(),
        other => other.span(),
    }
}

fn string_value(meta: &Meta, name: &str, expected: &str) -> syn::Result<LitStr> {
    match literal(meta, name, expected)? {
        Lit::Str(s) => Ok(s.clone()),
        other => Err(syn::Error::new(
            other.span(),
            format!("`{name}` takes a string: {expected}"),
        )),
    }
}

fn integer_value(meta: &Meta, name: &str, expected: &str) -> syn::Result<u64> {
    match literal(meta, name, expected)? {
        Lit::Int(i) => i
            .base10_parse::<u64>()
            .map_err(|e| syn::Error::new(i.span(), format!("`{name}`: {e}; expected {expected}"))),
        other => Err(syn::Error::new(
            other.span(),
            format!("`{name}` takes an integer: {expected}"),
        )),
    }
}

/// A size: a string in the size grammar, or a plain integer (bytes).
fn size_value(meta: &Meta, name: &str) -> syn::Result<String> {
    let expected = format!("a size string such as \"64 KiB\" or a byte count; {SIZE_FORMS}");
    negative(meta, name, "size", SIZE_FORMS)?;
    match literal(meta, name, &expected)? {
        Lit::Int(i) => integer_text(i, name, "size", SIZE_FORMS, grammar::size),
        Lit::Str(s) => match grammar::size(&s.value()) {
            Ok(_) => Ok(s.value()),
            Err(problem) => Err(syn::Error::new(
                s.span(),
                format!(
                    "invalid size {:?} for `{name}`: {problem}; expected {SIZE_FORMS}",
                    s.value()
                ),
            )),
        },
        other => Err(syn::Error::new(
            other.span(),
            format!("`{name}` takes {expected}"),
        )),
    }
}

/// A growth: a percentage or a size with its unit (string), or `0`.
fn growth_value(meta: &Meta, name: &str) -> syn::Result<String> {
    let expected = format!("\"8 MiB\" or \"10%\": {GROWTH_FORMS}");
    negative(meta, name, "size or percentage", GROWTH_FORMS)?;
    let grow = |s: &str| grammar::growth(s).map(|_| ());
    match literal(meta, name, &expected)? {
        Lit::Int(i) => integer_text(i, name, "size or percentage", GROWTH_FORMS, grow),
        Lit::Str(s) => match grow(&s.value()) {
            Ok(()) => Ok(s.value()),
            Err(problem) => Err(syn::Error::new(
                s.span(),
                format!(
                    "invalid size or percentage {:?} for `{name}`: {problem}; expected {GROWTH_FORMS}",
                    s.value()
                ),
            )),
        },
        other => Err(syn::Error::new(
            other.span(),
            format!("`{name}` takes {expected}"),
        )),
    }
}

/// `sizes = [10, 50, 100]`: integer literals, at least two, each once.
fn sizes_value(meta: &Meta) -> syn::Result<Vec<u64>> {
    const EXPECTED: &str = "`sizes = [10, 50, 100, 200]`: at least two distinct item counts (three or more to tell whether the cost is linear)";
    let Meta::NameValue(nv) = meta else {
        return Err(syn::Error::new_spanned(
            meta,
            format!("`sizes` is written {EXPECTED}"),
        ));
    };
    let Expr::Array(array) = strip_groups(&nv.value) else {
        return Err(syn::Error::new_spanned(
            &nv.value,
            format!("`sizes` takes an array: {EXPECTED}"),
        ));
    };
    let mut sizes = Vec::with_capacity(array.elems.len());
    for elem in &array.elems {
        let n = match strip_groups(elem) {
            Expr::Lit(ExprLit {
                lit: Lit::Int(i), ..
            }) => i
                .base10_parse::<u64>()
                .map_err(|e| syn::Error::new(i.span(), format!("`sizes`: {e}")))?,
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    format!("`sizes` takes integer literals: {EXPECTED}"),
                ));
            }
        };
        if sizes.contains(&n) {
            return Err(syn::Error::new_spanned(
                elem,
                format!(
                    "size {n} is given twice: give each size once (the fit repeats each run itself)"
                ),
            ));
        }
        sizes.push(n);
    }
    if sizes.len() < 2 {
        return Err(syn::Error::new_spanned(
            array,
            format!("a per-item cost needs at least two sizes: {EXPECTED}"),
        ));
    }
    Ok(sizes)
}

/// An integer literal given as a size or threshold, checked by the grammar as its digits (syn
/// reads `-1` as one negative literal, whose digits the grammar calls negative).
fn integer_text<T>(
    i: &syn::LitInt,
    name: &str,
    kind: &str,
    forms: &str,
    parse: impl Fn(&str) -> Result<T, grammar::Problem>,
) -> syn::Result<String> {
    let digits = i.base10_digits();
    match parse(digits) {
        Ok(_) => Ok(digits.to_owned()),
        Err(problem) => Err(syn::Error::new(
            i.span(),
            format!("invalid {kind} {digits} for `{name}`: {problem}; expected {forms}"),
        )),
    }
}

/// `name = -1` as rustc hands it over: a negation of a literal, refused in the grammar's words.
/// (Tokens built by `quote!` arrive as one negative literal instead; [`integer_text`] covers
/// that form.)
fn negative(meta: &Meta, name: &str, kind: &str, forms: &str) -> syn::Result<()> {
    let Meta::NameValue(nv) = meta else {
        return Ok(());
    };
    match strip_groups(&nv.value) {
        Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Neg(_)) => {
            Err(syn::Error::new_spanned(
                unary,
                format!(
                    "invalid {kind} for `{name}`: {}; expected {forms}",
                    grammar::Problem::Negative
                ),
            ))
        }
        _ => Ok(()),
    }
}

/// `purge` or `purge = true|false`.
fn flag_value(meta: &Meta, name: &str) -> syn::Result<bool> {
    if let Meta::Path(_) = meta {
        return Ok(true);
    }
    match literal(meta, name, "`purge` or `purge = true`")? {
        Lit::Bool(b) => Ok(b.value),
        other => Err(syn::Error::new(
            other.span(),
            format!("`{name}` takes `true` or `false` (or write `{name}` alone)"),
        )),
    }
}

/// `sites` (top 10, default sampling), `sites = N` (top N) or `sites = "exact"` (every
/// allocation, top 10).
fn sites_value(meta: &Meta) -> syn::Result<Sites> {
    const EXPECTED: &str = "`sites` (the top 10 sites, sampled every 512 KiB on average), `sites = 5` (the top 5) or `sites = \"exact\"` (every allocation, for small tests)";
    const DEFAULT: Sites = Sites {
        top: 10,
        exact: false,
    };
    if let Meta::Path(_) = meta {
        return Ok(DEFAULT);
    }
    match literal(meta, "sites", EXPECTED)? {
        Lit::Int(i) => match i.base10_parse::<usize>() {
            Ok(0) | Err(_) => Err(syn::Error::new(
                i.span(),
                format!("`sites` takes a number of sites of at least 1: {EXPECTED}"),
            )),
            Ok(top) => Ok(Sites { top, exact: false }),
        },
        Lit::Str(s) if s.value() == "exact" => Ok(Sites {
            exact: true,
            ..DEFAULT
        }),
        other => Err(syn::Error::new(
            other.span(),
            format!("`sites` takes {EXPECTED}"),
        )),
    }
}

/// `report = true|false|"json"|"table"`.
fn report_value(meta: &Meta) -> syn::Result<ReportMode> {
    const EXPECTED: &str = "`true` (the default: a JSON report, plus the table outside tests), `false` (nothing), \"json\" (the file only) or \"table\" (printed only)";
    match literal(meta, "report", EXPECTED)? {
        Lit::Bool(b) if b.value => Ok(ReportMode::Default),
        Lit::Bool(_) => Ok(ReportMode::Off),
        Lit::Str(s) if s.value() == "json" => Ok(ReportMode::Json),
        Lit::Str(s) if s.value() == "table" => Ok(ReportMode::Table),
        other => Err(syn::Error::new(
            other.span(),
            format!("`report` takes {EXPECTED}"),
        )),
    }
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
