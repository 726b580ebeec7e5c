//! Eight `#[memprobe(sites)]` functions run by eight tests in parallel (the harness's default):
//! the sampler is process-wide, and the attribute serializes sites windows, so each test's
//! profile has its own function on top, never a neighbour's.

use std::hint::black_box;

use memprobe::memprobe;
use memprobe::sites::Profile;

memprobe::global_allocator!();

fn profile_of(function: &str) -> Profile {
    let report = memprobe::__private::report_path(
        option_env!("CARGO_PKG_NAME"),
        &format!("sites_parallel::{function}"),
    );
    let json = report.with_extension("sites.json");
    let text = std::fs::read_to_string(&json).unwrap_or_else(|e| panic!("{}: {e}", json.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", json.display()))
}

macro_rules! parallel {
    ($($test:ident, $measured:ident, $churn:ident, $blocks:expr;)*) => {$(
        /// Allocates 32 MiB in blocks of its own size, keeping nothing.
        #[inline(never)]
        fn $churn() {
            for _ in 0..(32 << 20) / $blocks {
                black_box(Vec::<u8>::with_capacity($blocks));
            }
        }

        #[memprobe(sites = 3, report = "json")]
        fn $measured() {
            $churn();
        }

        #[test]
        fn $test() {
            $measured();
            let profile = profile_of(stringify!($measured));
            let top = &profile.sites[0].function;
            assert_eq!(
                top,
                concat!("sites_parallel::", stringify!($churn)),
                "{}",
                memprobe::sites::render::table(&profile, memprobe::sites::render::Format::Terminal, Some(5))
            );
            // No other test's workload reached this window.
            for other in profile.sites.iter().filter(|s| s.function.contains("::churn_")) {
                assert_eq!(&other.function, top, "a neighbour's site in this window");
            }
        }
    )*};
}

parallel! {
    one, measured_one, churn_one, 1024;
    two, measured_two, churn_two, 2048;
    three, measured_three, churn_three, 3072;
    four, measured_four, churn_four, 4096;
    five, measured_five, churn_five, 5120;
    six, measured_six, churn_six, 6144;
    seven, measured_seven, churn_seven, 7168;
    eight, measured_eight, churn_eight, 8192;
}
