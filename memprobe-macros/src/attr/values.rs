//! Phase one's value readers: each option's literal checked for its type and form on its own
//! (integers, size strings and growths through the runtime's grammar, `sizes = [...]`, flags,
//! `sites`, `report`), every error spanned on the literal and naming the accepted forms.

use super::grammar;
use super::table::{ReportMode, Sites};
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit, LitStr, Meta};

/// Accepted size forms, word for word with `SIZE_FORMS` in `memprobe/src/units.rs`.
const SIZE_FORMS: &str = "a byte count with an optional unit, e.g. `0`, `512`, `64 KiB`, `1.5MB`, `2 GiB` (B; KB, MB, GB, TB = 1000^n; KiB, MiB, GiB, TiB = 1024^n; see memprobe::units)";
/// Accepted growth forms, as `GROWTH_FORMS` in `memprobe/src/units.rs`.
const GROWTH_FORMS: &str = "a percentage such as `10%` or `2.5%`, or a size with its unit such as `64 KiB`, `1.5MB`, `512B`, `0` (KB, MB, GB = 1000^n; KiB, MiB, GiB = 1024^n; see memprobe::units)";

/// The literal of `name = <literal>`, or an error saying what was expected.
pub(super) fn literal<'a>(meta: &'a Meta, name: &str, expected: &str) -> syn::Result<&'a Lit> {
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
pub(super) fn strip_groups(expr: &Expr) -> &Expr {
    match expr {
        Expr::Group(g) => strip_groups(&g.expr),
        Expr::Paren(p) => strip_groups(&p.expr),
        other => other,
    }
}

pub(super) fn value_span(meta: &Meta) -> Span {
    match meta {
        Meta::NameValue(nv) => nv.value.span(),
        other => other.span(),
    }
}

pub(super) fn string_value(meta: &Meta, name: &str, expected: &str) -> syn::Result<LitStr> {
    match literal(meta, name, expected)? {
        Lit::Str(s) => Ok(s.clone()),
        other => Err(syn::Error::new(
            other.span(),
            format!("`{name}` takes a string: {expected}"),
        )),
    }
}

pub(super) fn integer_value(meta: &Meta, name: &str, expected: &str) -> syn::Result<u64> {
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
pub(super) fn size_value(meta: &Meta, name: &str) -> syn::Result<String> {
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
pub(super) fn growth_value(meta: &Meta, name: &str) -> syn::Result<String> {
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
pub(super) fn sizes_value(meta: &Meta) -> syn::Result<Vec<u64>> {
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
pub(super) fn integer_text<T>(
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
pub(super) fn negative(meta: &Meta, name: &str, kind: &str, forms: &str) -> syn::Result<()> {
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
pub(super) fn flag_value(meta: &Meta, name: &str) -> syn::Result<bool> {
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
pub(super) fn sites_value(meta: &Meta) -> syn::Result<Sites> {
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
pub(super) fn report_value(meta: &Meta) -> syn::Result<ReportMode> {
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
