//! Without the counting allocator, every entry point says so with the line to add, and bad limit
//! strings name the input and the accepted forms. This binary deliberately installs no
//! `#[global_allocator]`.

use memprobe::{Error, Limits, Probe, Scope};

#[test]
fn a_probe_refuses_with_the_line_to_add() {
    let err = Probe::start(Scope::Thread).unwrap_err();
    assert!(matches!(err, Error::AllocatorNotInstalled));
    let message = err.to_string();
    assert!(
        message.starts_with("memprobe: the counting allocator is not installed"),
        "{message}"
    );
    assert!(
        message.contains("memprobe::global_allocator!();"),
        "{message}"
    );
    assert!(memprobe::measure(|| ()).is_err());
    assert!(memprobe::process_totals().is_err());
}

#[test]
fn jemalloc_figures_refuse_instead_of_reading_zero() {
    let message = memprobe::JemallocStats::read().unwrap_err().to_string();
    assert!(
        message.contains("jemalloc is not the global allocator"),
        "{message}"
    );
    // The fix names a path the user can write without depending on tikv-jemallocator.
    assert!(
        message.contains("memprobe::global_allocator!(memprobe::jemalloc::Jemalloc)"),
        "{message}"
    );
    assert!(memprobe::jemalloc::purge().is_err());
}

#[test]
fn bad_limit_strings_name_the_input_and_the_forms() {
    type Setter = fn(&str) -> memprobe::Result<Limits>;
    let cases: [(&str, Setter); 4] = [
        ("12 KBB", |s| Limits::new().max_bytes(s)),
        ("-5", |s| Limits::new().max_peak(s)),
        ("lots", |s| Limits::new().max_net(s)),
        ("10 %%", |s| Limits::new().max_rss_growth(s)),
    ];
    for (input, parse) in cases {
        let message = parse(input).unwrap_err().to_string();
        assert!(message.starts_with("memprobe: invalid size"), "{message}");
        assert!(message.contains(&format!("{input:?}")), "{message}");
        assert!(
            message.contains("64 KiB") && message.contains("1.5MB"),
            "{message}"
        );
        assert_eq!(message.lines().count(), 1, "{message}");
    }
    let message = Limits::new()
        .max_rss_growth("ten%")
        .unwrap_err()
        .to_string();
    assert!(message.contains("10%"), "{message}");
}
