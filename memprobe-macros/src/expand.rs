//! Emitting code: the user's function, its body moved into a closure or async block handed to a
//! `::memprobe::__private` entry point, with a `static` describing the test. No measurement logic
//! lives here; everything the run does is behind `memprobe/src/__private.rs` (its `session` module).
//!
//! ```text
//!   sync        fn t() -> R { fn marker; static T; run::<R, _>(&T, move || -> R { body }) }
//!   iters       fn t() -> R { fn marker; static T; run_iters::<R, _>(&T, || -> R { body }) }
//!   async       async fn t() -> R { fn marker; static T; run_async::<R, _>(&T, async move { body }).await.check() }
//!   async iters async fn t() -> R { fn marker; static T; run_async_iters::<R, _, _>(&T, || async move { body }).await.check() }
//! ```
//!
//! The calls are spanned on the function's signature (its return type, else its name), and the
//! entry points and `check` are `#[track_caller]`: a failed check panics at the test's line, not
//! inside memprobe.
//!
//! The marker, `fn __memprobe_marker() {}`, names the test: `type_name_of_val` of it is
//! `crate::module::t::__memprobe_marker`, with any enclosing functions between module and `t`, so
//! same-named inner functions of different tests get different reports and baselines
//! (`module_path!()` stops at the module).
//!
//! # `#[tokio::test]`, in either order
//!
//! Above `#[tokio::test]`, the attribute sees the `async fn` and wraps its body: the probe starts
//! on the first poll, after tokio has built its runtime. Below it, tokio has already turned the
//! function into a synchronous one whose first statement is `let body = async { ... };` followed
//! by building the runtime and `block_on(body)`. Wrapping that whole function would count building
//! and dropping the runtime, so in that one shape (a test whose first statement is
//! `let body = async ...`) the async block itself is wrapped instead, which measures exactly what
//! the other order measures.

use crate::attr::{Config, ReportMode, Scope};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{AttrStyle, Expr, FnArg, ItemFn, Pat, ReturnType, Stmt};

/// Checks that `function` can be measured; every problem is spanned on its culprit.
pub(crate) fn check_signature(function: &ItemFn, sized: bool) -> crate::attr::Errors {
    let mut errors = crate::attr::Errors::default();
    let sig = &function.sig;
    if sized {
        if sig.inputs.len() != 1 || !matches!(sig.inputs.first(), Some(FnArg::Typed(_))) {
            let message = "with `sizes`, the function takes the number of items as its one argument, e.g. `fn per_job(n: u64)`, and #[memprobe] calls it once per size";
            errors.push(if sig.inputs.is_empty() {
                syn::Error::new_spanned(&sig.ident, message)
            } else {
                syn::Error::new_spanned(&sig.inputs, message)
            });
        }
        if let Some(asyncness) = &sig.asyncness {
            errors.push(syn::Error::new_spanned(
                asyncness,
                "`sizes` measures a synchronous function: build a runtime per run inside it, or measure an async function without `sizes`",
            ));
        }
    } else if !sig.inputs.is_empty() {
        errors.push(syn::Error::new_spanned(
            &sig.inputs,
            "#[memprobe] measures a test or bench function, which takes no arguments: build the inputs inside the function (or measure a closure with memprobe::measure)",
        ));
    }
    if let Some(constness) = &sig.constness {
        errors.push(syn::Error::new_spanned(
            constness,
            "#[memprobe] cannot measure a `const fn`: remove `const`",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new_spanned(
            variadic,
            "#[memprobe] cannot measure a variadic function",
        ));
    }
    errors
}

/// The measured function.
pub(crate) fn expand(config: &Config, mut function: ItemFn) -> TokenStream {
    // Inner attributes (`#![allow(...)]`) cannot stay in a block that becomes a closure body:
    // lift them onto the function, as tokio does.
    for attr in &mut function.attrs {
        attr.style = AttrStyle::Outer;
    }
    let is_test = function
        .attrs
        .iter()
        .any(|a| a.path().segments.last().is_some_and(|s| s.ident == "test"));
    // `line!()` spanned on the function's name: the report (and a CI annotation) points there.
    let name_span = function.sig.ident.span();
    let location = quote_spanned!(name_span=> .at(::core::file!(), ::core::line!()));
    let spec = spec(config, is_test, location);
    let output = match &function.sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => ty.to_token_stream(),
    };
    // Errors about the return type (it must be `()` or a `Result`) land on the return type.
    let span = match &function.sig.output {
        ReturnType::Default => function.sig.ident.span(),
        ReturnType::Type(_, ty) => ty.span(),
    };
    let block = &function.block;
    if config.sizes.is_some() {
        return expand_sized(function, &spec, &output, span);
    }
    let body = if function.sig.asyncness.is_some() {
        async_call(config, span, &output, quote!(async move #block))
    } else if let Some((index, future)) = tokio_body(&function, is_test) {
        // Below `#[tokio::test]`: wrap tokio's `let body = async { ... };` only.
        let call = async_call(config, span, &output, future.to_token_stream());
        let mut block = (*function.block).clone();
        if let Stmt::Local(local) = &mut block.stmts[index] {
            if let Some(init) = &mut local.init {
                *init.expr = syn::parse_quote!(async move { #call });
            }
        }
        let stmts = &block.stmts;
        quote!(#(#stmts)*)
    } else if config.iters.is_some() {
        quote_spanned! {span=> ::memprobe::__private::run_iters::<#output, _>(&__MEMPROBE_TEST, || -> #output #block) }
    } else {
        quote_spanned! {span=> ::memprobe::__private::run::<#output, _>(&__MEMPROBE_TEST, move || -> #output #block) }
    };
    let ItemFn {
        attrs, vis, sig, ..
    } = &function;
    quote! {
        #(#attrs)*
        #vis #sig {
            // Its type name is this function's full path, enclosing functions included.
            fn __memprobe_marker() {}
            static __MEMPROBE_TEST: ::memprobe::__private::Test = #spec;
            #body
        }
    }
}

/// `sizes = [...]`: the function, its argument and return type moved into a closure called once
/// per size; the test itself takes nothing and returns `()`.
///
/// ```text
///   fn t(n: u64) -> R { body }  ─▶  fn t() { fn marker; static T; run_scaling::<R, _>(&T, |n: u64| -> R { body }) }
/// ```
fn expand_sized(
    function: ItemFn,
    spec: &TokenStream,
    output: &TokenStream,
    span: Span,
) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = function;
    let input = sig.inputs.pop().map(syn::punctuated::Pair::into_value);
    sig.output = ReturnType::Default;
    let param = match input {
        Some(FnArg::Typed(typed)) => {
            let (pat, ty) = (&typed.pat, &typed.ty);
            quote!(#pat: #ty)
        }
        _ => quote!(_: u64),
    };
    let call = quote_spanned! {span=>
        ::memprobe::__private::run_scaling::<#output, _>(&__MEMPROBE_TEST, |#param| -> #output #block)
    };
    quote! {
        #(#attrs)*
        #vis #sig {
            // Its type name is this function's full path, enclosing functions included.
            fn __memprobe_marker() {}
            static __MEMPROBE_TEST: ::memprobe::__private::Test = #spec;
            #call
        }
    }
}

/// The awaited entry-point call around `future` (an `async` block expression).
fn async_call(
    config: &Config,
    span: Span,
    output: &TokenStream,
    future: TokenStream,
) -> TokenStream {
    if config.iters.is_some() {
        quote_spanned! {span=> ::memprobe::__private::run_async_iters::<#output, _, _>(&__MEMPROBE_TEST, || #future).await.check() }
    } else {
        quote_spanned! {span=> ::memprobe::__private::run_async::<#output, _>(&__MEMPROBE_TEST, #future).await.check() }
    }
}

/// In a synchronous test, the first statement `let body = async ...;` that `#[tokio::test]`
/// (and runtimes' test macros like it) expand to: its index and the async block.
fn tokio_body(function: &ItemFn, is_test: bool) -> Option<(usize, &Expr)> {
    if !is_test {
        return None;
    }
    let (index, stmt) = function.block.stmts.iter().enumerate().next()?;
    let Stmt::Local(local) = stmt else {
        return None;
    };
    let Pat::Ident(pat) = &local.pat else {
        return None;
    };
    let init = local.init.as_ref()?;
    (pat.ident == "body" && matches!(*init.expr, Expr::Async(_)) && init.diverge.is_none())
        .then_some((index, &*init.expr))
}

/// The `::memprobe::__private::Test` descriptor: its constructor, then one `const` setter per
/// option that differs from the default.
fn spec(config: &Config, is_test: bool, location: TokenStream) -> TokenStream {
    let mut setters = vec![location];
    if is_test {
        setters.push(quote!(.test()));
    }
    if config.scope == Scope::Process {
        setters.push(quote!(.scope(::memprobe::__private::Scope::Process)));
    }
    if let Some(n) = config.max_allocs {
        setters.push(quote!(.max_allocs(#n)));
    }
    let strings = [
        (quote!(max_bytes), &config.max_bytes),
        (quote!(max_peak), &config.max_peak),
        (quote!(max_net), &config.max_net),
        (quote!(max_rss_growth), &config.max_rss_growth),
        (quote!(fail_if_growth), &config.fail_if_growth),
        (quote!(baseline), &config.baseline),
    ];
    for (setter, value) in strings {
        if let Some(s) = value {
            setters.push(quote!(.#setter(#s)));
        }
    }
    if let Some(n) = config.iters {
        setters.push(quote!(.iters(#n)));
    }
    if config.warmup != 0 {
        let warmup = config.warmup;
        setters.push(quote!(.warmup(#warmup)));
    }
    if config.purge {
        setters.push(quote!(.purge()));
    }
    let report = match config.report {
        ReportMode::Default => None,
        ReportMode::Off => Some(quote!(Off)),
        ReportMode::Json => Some(quote!(Json)),
        ReportMode::Table => Some(quote!(Table)),
    };
    if let Some(report) = report {
        setters.push(quote!(.report(::memprobe::__private::ReportMode::#report)));
    }
    if let Some(sizes) = &config.sizes {
        setters.push(quote!(.sizes(&[#(#sizes),*])));
    }
    if let Some(n) = config.max_allocs_per_item {
        setters.push(quote!(.max_allocs_per_item(#n)));
    }
    if let Some(s) = &config.max_bytes_per_item {
        setters.push(quote!(.max_bytes_per_item(#s)));
    }
    if let Some((sites, span)) = config.sites {
        let (top, exact) = (sites.top, sites.exact);
        // Spanned at the option: without memprobe's `sites` feature, `SitesEnabled` does not
        // implement `SitesFeature`, and the error (memprobe's message) points here.
        setters.push(
            quote_spanned!(span=> .sites::<::memprobe::__private::SitesEnabled>(#top, #exact)),
        );
    }
    quote! {
        ::memprobe::__private::Test::new(|| ::core::any::type_name_of_val(&__memprobe_marker))
            .in_package(
                ::core::option_env!("CARGO_PKG_NAME"),
                ::core::option_env!("CARGO_MANIFEST_DIR"),
            )
            #(#setters)*
    }
}
