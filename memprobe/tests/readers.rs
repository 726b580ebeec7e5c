//! Every reader of outside text, as a property: the size, duration and percentage parsers, the
//! `/proc` `statm`, `status` and `stat` parsers, the baseline and memprobe.toml readers and the
//! published-record decoder never panic on arbitrary input, and read back what a writer wrote.
//! The fuzz targets in `fuzz/` drive the same functions for longer (`scripts/fuzz.sh`); their
//! committed corpus and every input that ever crashed one are fed here too, so the normal suite
//! keeps them fixed without nightly.

use memprobe::snapshot::procfs::{parse_stat_start_time, parse_statm, parse_status};
use memprobe::units::{Growth, parse_bytes, parse_duration};
use proptest::prelude::*;
use std::time::Duration;

/// Any text: arbitrary bytes made UTF-8, and arbitrary characters.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..256)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        "\\PC{0,64}",
        "[0-9. kKmMgGtTiIbBsSnuµh%-]{0,24}",
    ]
}

proptest! {
    #[test]
    fn units_never_panic(s in text()) {
        let _ = parse_bytes(&s);
        let _ = parse_duration(&s);
        if let Ok(g) = s.parse::<Growth>() {
            let _ = (g.allowance(0), g.allowance(u64::MAX), g.to_string());
        }
        if let Ok(policy) = memprobe::baseline::Policy::new(&s) {
            let _ = policy.rss_noise(&s);
        }
    }

    #[test]
    fn sizes_read_back(n in any::<u64>(), k in 0u64..(1 << 54)) {
        prop_assert_eq!(parse_bytes(&n.to_string()).ok(), Some(n));
        prop_assert_eq!(parse_bytes(&format!("{n} B")).ok(), Some(n));
        prop_assert_eq!(parse_bytes(&format!("{k} KiB")).ok(), Some(k << 10));
        prop_assert_eq!(parse_bytes(&format!(" {k}kb ")).ok(), Some(k * 1000));
    }

    #[test]
    fn durations_read_back(ms in any::<u32>(), s in 0u64..1_000_000) {
        prop_assert_eq!(parse_duration(&format!("{ms}ms")).ok(), Some(Duration::from_millis(ms.into())));
        prop_assert_eq!(parse_duration(&format!("{s}s")).ok(), Some(Duration::from_secs(s)));
    }

    #[test]
    fn percentages_read_back(p in 0.0f64..1e9) {
        let g = Growth::Percent(p);
        prop_assert_eq!(g.to_string().parse::<Growth>().ok(), Some(g));
    }

    #[test]
    fn proc_parsers_never_panic(b in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_statm(&b);
        let _ = parse_status(&b);
        let _ = parse_stat_start_time(&b);
    }

    #[test]
    fn statm_reads_back(a in any::<u64>(), r in any::<u64>(), s in any::<u64>()) {
        let st = parse_statm(format!("{a} {r} {s} 1 0 2 0\n").as_bytes()).unwrap();
        prop_assert_eq!((st.size_pages, st.resident_pages, st.shared_pages), (a, r, s));
    }

    #[test]
    fn status_reads_back_and_refuses_overflow(kib in any::<u64>(), pad in "[ \t]{0,8}") {
        let st = parse_status(format!("Name:\tx\nVmRSS:{pad}{kib} kB\nVmSwap:\t1 kB\n").as_bytes());
        prop_assert_eq!(st.vm_rss_bytes, kib.checked_mul(1024));
        prop_assert_eq!(st.vm_swap_bytes, Some(1024));
    }

    #[test]
    fn stat_start_time_survives_hostile_names(comm in "[^\0]{0,32}", start in any::<u64>()) {
        let line = format!("42 ({comm}) S 1 42 42 0 -1 4194560 10 0 0 0 1 2 0 0 20 0 1 0 {start} 3000 100\n");
        prop_assert_eq!(parse_stat_start_time(line.as_bytes()), Some(start));
    }

    #[test]
    fn readers_of_our_files_never_panic(s in text(), name in "[a-z:_]{1,12}") {
        if let Err(e) = memprobe::__readers::memprobe_toml(&s) {
            prop_assert!(e.to_string().starts_with("memprobe: "));
        }
        if let Err(e) = memprobe::__readers::baseline(&s, &name) {
            prop_assert!(e.to_string().starts_with("memprobe: "));
        }
    }

    #[test]
    fn baselines_read_back(
        name in "[a-z_]{1,8}(::[a-z_]{1,8}){0,3}",
        iterations in 1u64..,
        allocations in any::<u64>(),
        alloc_bytes in any::<u64>(),
        peak_bytes in any::<u64>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let b = memprobe::baseline::Baselines::new(dir.path());
        let baseline = memprobe::baseline::Baseline::new(iterations, allocations, alloc_bytes, peak_bytes);
        let path = b.save(&name, &baseline, "MEMPROBE_UPDATE=1 cargo test").unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        prop_assert_eq!(memprobe::__readers::baseline(&text, &name).unwrap(), baseline);
    }

    #[test]
    fn memprobe_toml_entries_read_back(sizes in proptest::collection::vec(any::<u32>(), 0..6)) {
        let text: String = sizes
            .iter()
            .enumerate()
            .map(|(i, s)| format!("[[test]]\nname = \"t{i}\"\nmax_bytes = \"{s} KiB\"\nmax_allocs = {s}\n\n"))
            .collect();
        prop_assert_eq!(memprobe::__readers::memprobe_toml(&text).unwrap(), sizes.len());
    }
}

#[cfg(feature = "publish")]
proptest! {
    #[test]
    fn published_records_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = memprobe::publish::decode(&b);
    }

    #[test]
    fn published_records_read_back(
        words in proptest::collection::vec(any::<u64>(), memprobe::publish::RECORD_SIZE / 8),
        pid in 1u32..,
        seq in any::<u64>(),
    ) {
        let mut words = words;
        words[0] = memprobe::publish::MAGIC;
        words[1] = u64::from(memprobe::publish::VERSION) | ((memprobe::publish::RECORD_SIZE as u64) << 32);
        words[2] = seq & !1;
        words[3] = u64::from(pid);
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
        let s = memprobe::publish::decode(&bytes).unwrap();
        prop_assert_eq!(s.pid, pid);
        prop_assert_eq!((s.updates, s.iteration, s.purge_done), (words[4], words[18], words[30]));
        prop_assert_eq!(s.jemalloc.is_some(), words[5] & 1 != 0);
        prop_assert_eq!(s.counting.map(|c| c.alloc_count), (words[5] & 2 != 0).then_some(words[13]));
        prop_assert!(s.phase.len() <= memprobe::publish::PHASE_MAX * 3);
        words[2] |= 1;
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
        prop_assert_eq!(memprobe::publish::decode(&bytes), Err(memprobe::publish::Invalid::MidWrite));
    }
}

#[path = "../../fuzz/replay.rs"]
mod replay;

/// Feeds every committed input of each target to what the target calls (see
/// `fuzz/fuzz_targets/<target>.rs`); a panic names the file.
#[test]
fn committed_fuzz_inputs_still_pass() {
    let targets: [replay::Feed; 8] = [
        ("units_size", |b| {
            if let Ok(s) = std::str::from_utf8(b) {
                if let Ok(n) = parse_bytes(s) {
                    assert_eq!(parse_bytes(&n.to_string()).ok(), Some(n));
                }
            }
        }),
        ("units_duration", |b| {
            if let Ok(s) = std::str::from_utf8(b) {
                let _ = parse_duration(s);
            }
        }),
        ("units_percent", |b| {
            if let Ok(s) = std::str::from_utf8(b) {
                if let Ok(g) = s.parse::<Growth>() {
                    let _ = (g.allowance(0), g.allowance(u64::MAX));
                    if let Growth::Percent(_) = g {
                        assert_eq!(g.to_string().parse::<Growth>().ok(), Some(g));
                    }
                }
                if let Ok(p) = memprobe::baseline::Policy::new(s) {
                    let _ = p.growth_percent();
                    let _ = p.rss_noise(s);
                }
            }
        }),
        ("proc_statm", |b| {
            let _ = parse_statm(b);
        }),
        ("proc_status", |b| {
            let _ = parse_status(b);
        }),
        ("proc_stat", |b| {
            let _ = parse_stat_start_time(b);
        }),
        ("baseline", |b| {
            if let Ok(s) = std::str::from_utf8(b) {
                if let Err(e) = memprobe::__readers::baseline(s, "fuzz::case") {
                    assert!(e.to_string().starts_with("memprobe: "));
                }
            }
        }),
        ("memprobe_toml", |b| {
            if let Ok(s) = std::str::from_utf8(b) {
                if let Err(e) = memprobe::__readers::memprobe_toml(s) {
                    assert!(e.to_string().starts_with("memprobe: "));
                }
            }
        }),
    ];
    #[cfg_attr(not(feature = "publish"), allow(unused_mut))]
    let mut fed = replay::feed_all(&targets);
    #[cfg(feature = "publish")]
    for (path, bytes) in replay::inputs("published_record") {
        if let Ok(s) = memprobe::publish::decode(&bytes) {
            assert!(
                s.phase.chars().count() <= memprobe::publish::PHASE_MAX,
                "{}",
                path.display()
            );
        }
        fed += 1;
    }
    // Nothing to feed would make this test pass vacuously: the corpus is committed.
    assert!(fed > 0, "no committed fuzz input found under fuzz/corpus");
}
