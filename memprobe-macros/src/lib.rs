//! Procedural macros for [memprobe](https://docs.rs/memprobe).
//!
//! This crate only parses and expands; generated code calls `::memprobe::__private`, where all
//! measurement lives. It is re-exported by `memprobe`: depend on `memprobe`, not on this crate
//! (`memprobe` pins it with `=x.y.z`, since the generated code and the runtime change together).
//!
//! - `attr.rs` parses the arguments, then checks the rules between them in one `build()` step.
//! - `expand.rs` emits the function around a call to the runtime.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod attr;
mod expand;

use proc_macro::TokenStream;

/// Measures a test or bench function's memory and checks it against limits and baselines.
///
/// ```
/// memprobe::global_allocator!(); // once per test binary
///
/// #[memprobe::memprobe(max_allocs = 0)]
/// #[test]
/// fn parse_header_does_not_allocate() { /* ... */ }
///
/// #[memprobe::memprobe(iters = 1000, warmup = 10, max_bytes = "64 KiB", fail_if_growth = "10%")]
/// #[test]
/// fn create_job() { /* ... */ }
///
/// #[memprobe::memprobe(scope = "process", max_rss_growth = "8 MiB", purge)]
/// #[tokio::test]
/// async fn client_pool() { /* ... */ }
/// # fn main() {}
/// ```
///
/// Outside tests (a `harness = false` bench, an example), call the function: it prints its table
/// and writes its report.
///
/// ```
/// memprobe::global_allocator!();
///
/// #[memprobe::memprobe(iters = 100, max_allocs = 1, max_bytes = "1 KiB", report = "table")]
/// fn format_id() {
///     std::hint::black_box(format!("job-{}", std::hint::black_box(7)));
/// }
///
/// fn main() {
///     format_id(); // panics if a limit is exceeded
/// }
/// ```
///
/// # Options
///
/// | option | value | meaning |
/// |---|---|---|
/// | `scope` | `"thread"` (default) or `"process"` | what is counted: the test's thread plus whatever enters its attribution, exact under parallel `cargo test`; or every thread (process-scope tests serialize with each other, and the report flags allocations from threads outside the test) |
/// | `max_allocs` | integer | most allocation events (allocations + reallocations), per iteration |
/// | `max_bytes` | size | most bytes allocated, per iteration |
/// | `max_net` | size | most net bytes (what the code keeps alive), per iteration |
/// | `max_peak` | size | highest peak of live bytes over the run |
/// | `max_rss_growth` | size or percentage | most RSS growth over the run (`"8 MiB"`, `"10%"` of RSS at the start) |
/// | `iters` | integer ≥ 1 | run the body this many times in one probe; figures are totals and per iteration |
/// | `warmup` | integer | unmeasured runs first (needs `iters`) |
/// | `fail_if_growth` | percentage | fail when allocations, bytes or peak grow more than this over the committed baseline |
/// | `baseline` | string | the baseline's name (default: the test's path; needs `fail_if_growth`) |
/// | `purge` | flag, or `= true/false` | purge jemalloc's dirty pages before each RSS snapshot |
/// | `report` | `true` (default), `false`, `"json"`, `"table"` | what the run leaves: a JSON report (plus the printed table when the function is not a test), nothing, the file only, or the table only |
/// | `sizes` | array of integers, e.g. `[10, 50, 100, 200]` | a scaling fit (`memprobe::scaling`): the function takes the number of items (`fn per_job(n: u64) -> ...`) and runs once per size and repetition; what it returns is kept until its run is measured |
/// | `max_allocs_per_item` | integer | with `sizes`: most allocation events per item (the fitted slope) |
/// | `max_bytes_per_item` | size | with `sizes`: most bytes allocated per item (the fitted slope) |
/// | `sites` | flag, `= N` (integer ≥ 1) or `= "exact"` | sample allocation sites while the body runs (needs memprobe's `sites` feature): writes `<report stem>.sites.json` and `<report stem>.sites.pb.gz` (pprof) beside the report, and a failing limit prints the top 10 (or N) sites after its violations; `"exact"` samples every allocation (small tests), otherwise one per 512 KiB on average. One sites window runs at a time per process: parallel `sites` tests take turns |
///
/// With `sizes`, `fail_if_growth` compares the per-item costs with a committed per-item baseline
/// (`<test path>.per_item.toml`), and the options that bound one run (`iters`, `max_allocs`,
/// `max_bytes`, `max_peak`, `max_net`, `max_rss_growth`, `purge`, `sites`) do not apply; `memprobe.toml`
/// entries are not read for it. A failure lists every per-item limit over and the fit's table.
///
/// ```
/// memprobe::global_allocator!();
///
/// #[memprobe::memprobe(sizes = [10, 50, 100], max_bytes_per_item = "64 B", max_allocs_per_item = 1, report = "table")]
/// fn boxes(n: u64) -> Vec<Box<[u8; 32]>> {
///     (0..n).map(|_| Box::new([0u8; 32])).collect() // 32 bytes + 8 in the Vec, 1 allocation each
/// }
///
/// fn main() {
///     boxes(); // prints the fit; panics if a per-item limit is exceeded
/// }
/// ```
///
/// A size is a string in memprobe's grammar (`"0"`, `"512"`, `"64 KiB"`, `"1.5MB"`; `KB`/`MB`/…
/// are 1000ⁿ, `KiB`/`MiB`/… 1024ⁿ) or a plain integer of bytes. Sizes and percentages are
/// checked at compile time.
///
/// # Behaviour
///
/// - The body runs inside a probe; a panic in it propagates unchanged, with no figures checked.
/// - On a limit violation the test panics with its name, each violated figure (limit and
///   actual) and the full report; with `max_allocs = 0`, also a backtrace of the first allocation.
/// - A test returning `Err` fails with its error; its report is written but limits and
///   baselines are not checked (and never blessed).
/// - Each run writes `<dir>/<package>/<module path>.<fn>.json`, where `<dir>` is
///   `$MEMPROBE_HOME`, else `$CARGO_TARGET_DIR/memprobe`, else the target directory's `memprobe`.
///   A function defined inside another is named through it (`tests.first.measured.json`), in
///   reports and baselines alike, so same-named inner functions of different tests never share
///   one.
/// - Process scope: when threads outside the probed code allocated meanwhile (the harness, other
///   tests), the report and any failure say how many, and suggest thread scope or `cargo nextest`.
/// - No counting allocator installed: the test fails with the line to add.
///
/// # Limits outside the code: `memprobe.toml`
///
/// An optional `memprobe.toml` next to the crate's `Cargo.toml` sets limits and baseline settings
/// by test path (as `cargo test` prints it), with globs (`*` any run of characters, `?` one):
///
/// ```toml
/// [[test]]
/// name = "parser::*"
/// max_allocs = 0
/// max_bytes = "64 KiB"      # every limit option of the attribute, sizes as strings or integers
/// fail_if_growth = "10%"
/// rss_noise = "4 MiB"       # also compare RSS growth with the baseline, allowing this much noise
///
/// [[test]]
/// name = "*"
/// purge = true
/// ```
///
/// Every matching entry applies, in file order (a later one overrides an earlier one field by
/// field); what the attribute says wins over all of them.
///
/// # Baselines
///
/// With `fail_if_growth`, the run's allocations and bytes per iteration and its peak are compared
/// with `.memprobe/baselines/<test crate>/<test path>.toml` at the crate root (one small file per
/// test; commit them). `MEMPROBE_UPDATE=1 cargo test` writes them; a missing baseline is created
/// locally and fails under `CI=true` with the command that creates it; shrinking never fails.
/// See `memprobe::baseline` for the format.
///
/// # Async tests
///
/// On an `async fn` the body becomes an async block that the probe's attribution wraps, so every
/// poll counts, on whichever thread polls it. Put `#[memprobe]` above `#[tokio::test]` (either
/// order works, and both measure the same thing: the test's future, not building the runtime).
/// Tasks the test spawns onto other worker threads count when they enter the probe's attribution
/// (wrap them with `Attribution::scope`), or with `scope = "process"`.
///
/// # Supported functions
///
/// Functions without arguments returning `()` or a `Result`: `#[test]` (with `#[should_panic]`,
/// `#[ignore]`), `#[tokio::test]` (current-thread and multi-thread), and plain functions called
/// from a `harness = false` bench or an example. The attribute expects `memprobe` to be a direct
/// dependency named `memprobe`.
// The first example shows the attribute on tests, as users write it; it compiles (which checks the
// arguments) though the tests themselves do not run in a doctest.
#[allow(clippy::test_attr_in_doctest)]
#[proc_macro_attribute]
pub fn memprobe(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args.into(), item.into()).into()
}

fn expand(
    args: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    let mut errors = attr::Errors::default();
    let options = syn::parse2::<attr::Options>(args)
        .map_err(|e| errors.push(e))
        .ok();
    let function = match syn::parse2::<syn::ItemFn>(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            errors.push(not_a_function(&item));
            return with_errors(item, errors);
        }
    };
    // Argument errors first, then signature errors: the order they appear in the source.
    // With `sizes` written (even invalid), the function takes the number of items.
    let sized = options.as_ref().is_some_and(|o| o.mentions("sizes"));
    let config = options.and_then(|o| o.build().map_err(|e| errors.extend(e)).ok());
    errors.extend(expand::check_signature(&function, sized));
    match config {
        Some(config) if errors.is_empty() => expand::expand(&config, function),
        // Keep the function as written so IDEs and the rest of the crate still work.
        _ => with_errors(quote::ToTokens::into_token_stream(function), errors),
    }
}

/// The error for an attribute on something that is not a function, spanned on its first tokens.
fn not_a_function(item: &proc_macro2::TokenStream) -> syn::Error {
    let what = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Struct(_)) => "a struct",
        Ok(syn::Item::Enum(_)) => "an enum",
        Ok(syn::Item::Mod(_)) => "a module",
        Ok(syn::Item::Impl(_)) => "an impl block",
        Ok(syn::Item::Const(_)) => "a const",
        Ok(syn::Item::Static(_)) => "a static",
        Ok(syn::Item::Trait(_)) => "a trait",
        Ok(syn::Item::Type(_)) => "a type alias",
        Ok(syn::Item::Use(_)) => "a use declaration",
        _ => "this item",
    };
    let span = syn::parse2::<syn::Item>(item.clone())
        .ok()
        .and_then(|item| item_keyword_span(&item))
        .unwrap_or_else(proc_macro2::Span::call_site);
    syn::Error::new(
        span,
        format!(
            "#[memprobe] goes on a function (a #[test], #[tokio::test] or bench function), not on {what}"
        ),
    )
}

fn item_keyword_span(item: &syn::Item) -> Option<proc_macro2::Span> {
    use syn::spanned::Spanned;
    Some(match item {
        syn::Item::Struct(i) => i.struct_token.span(),
        syn::Item::Enum(i) => i.enum_token.span(),
        syn::Item::Mod(i) => i.mod_token.span(),
        syn::Item::Impl(i) => i.impl_token.span(),
        syn::Item::Const(i) => i.const_token.span(),
        syn::Item::Static(i) => i.static_token.span(),
        syn::Item::Trait(i) => i.trait_token.span(),
        syn::Item::Type(i) => i.type_token.span(),
        syn::Item::Use(i) => i.use_token.span(),
        other => other.span(),
    })
}

fn with_errors(
    mut tokens: proc_macro2::TokenStream,
    errors: attr::Errors,
) -> proc_macro2::TokenStream {
    if let Err(e) = errors.into_result() {
        tokens.extend(e.into_compile_error());
    }
    tokens
}
