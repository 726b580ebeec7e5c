//! The daemon's readers of outside text, as properties: `memory.stat` of both cgroup versions,
//! locating the memory cgroup, `children`, `smaps_rollup` and the `watch --out` JSONL reader never
//! panic on arbitrary input and read back what was written. The fuzz targets in `fuzz/` drive the
//! same functions for longer (`scripts/fuzz.sh`); their committed corpus and every input that
//! ever crashed one are fed here too, so the normal suite keeps them fixed without nightly.

use memprobe_daemon::__readers::{cgroup_locate, cgroup_stat, children, jsonl, smaps_rollup};
use proptest::prelude::*;
use std::path::PathBuf;

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        "[a-zA-Z_ :0-9\n/-]{0,200}".prop_map(String::into_bytes),
    ]
}

/// Writes `data` as a JSONL file and reads it back; a panic fails the property.
fn read_back(data: &[u8]) -> anyhow::Result<(u64, Vec<memprobe::trend::Series>)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.jsonl");
    std::fs::write(&path, data).unwrap();
    jsonl(&path)
}

proptest! {
    #[test]
    fn readers_never_panic(data in bytes()) {
        let _ = cgroup_stat(false, &data);
        let _ = cgroup_stat(true, &data);
        let text = String::from_utf8_lossy(&data);
        let (a, b) = text.split_once('/').unwrap_or((&text, ""));
        let _ = cgroup_locate(a, b);
        let _ = children(&data);
        let _ = smaps_rollup(&data);
    }

    #[test]
    fn cgroup_stats_read_back(anon in any::<u64>(), file in any::<u64>(), shmem in any::<u64>(), swap in any::<u64>()) {
        let v2 = format!("anon {anon}\nfile {file}\nkernel 5\nshmem {shmem}\n");
        prop_assert_eq!(cgroup_stat(true, v2.as_bytes()), [Some(anon), Some(file), Some(shmem), None]);
        let v1 = format!("rss 1\ntotal_rss {anon}\ntotal_cache {file}\ntotal_shmem {shmem}\ntotal_swap {swap}\n");
        prop_assert_eq!(cgroup_stat(false, v1.as_bytes()), [Some(anon), Some(file), Some(shmem), Some(swap)]);
    }

    #[test]
    fn cgroup_paths_are_found_under_their_mount(path in "(/[a-z0-9_-]{1,12}){1,4}") {
        // cgroup v1: the memory hierarchy (v2 is taken only where `memory.current` exists).
        let mountinfo = "35 25 0:30 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory";
        let dir = cgroup_locate(&format!("12:pids:/x\n4:memory:{path}\n0::/y"), mountinfo).unwrap();
        prop_assert_eq!(dir, PathBuf::from(format!("/sys/fs/cgroup/memory{path}")));
    }

    #[test]
    fn children_read_back(pids in proptest::collection::vec(any::<u32>(), 0..20)) {
        let text: String = pids.iter().map(|p| format!("{p} ")).collect();
        prop_assert_eq!(children(text.as_bytes()), pids);
    }

    #[test]
    fn smaps_rollup_reads_back_or_refuses_overflow(
        pss in any::<u64>(),
        // Near the top of what `kB × 1024` can hold, so the sum of the two overflows often.
        clean in prop_oneof![any::<u64>(), (1u64 << 53)..(1 << 54)],
        dirty in prop_oneof![any::<u64>(), (1u64 << 53)..(1 << 54)],
    ) {
        let text = format!("Rss: 1 kB\nPss: {pss} kB\nPrivate_Clean: {clean} kB\nPrivate_Dirty: {dirty} kB\n");
        let expected = (|| {
            let uss = clean.checked_mul(1024)?.checked_add(dirty.checked_mul(1024)?)?;
            Some((pss.checked_mul(1024)?, uss, None))
        })();
        prop_assert_eq!(smaps_rollup(text.as_bytes()), expected);
    }

    #[test]
    fn jsonl_never_panics(data in bytes()) {
        if let Err(e) = read_back(&data) {
            prop_assert!(!format!("{e:#}").contains('\n'), "{e:#}");
        }
    }

    #[test]
    fn jsonl_reads_back(rows in proptest::collection::vec((any::<u64>(), any::<u64>(), any::<u64>()), 1..12)) {
        let text: String = rows
            .iter()
            .enumerate()
            .map(|(i, (rss, anon, swap))| format!(
                "{{\"t_ns\":{i},\"rss_bytes\":{rss},\"rss_anon_bytes\":{anon},\"swap_bytes\":{swap}}}\n"
            ))
            .collect();
        let overflow = rows.iter().any(|(_, a, s)| a.checked_add(*s).is_none());
        match read_back(text.as_bytes()) {
            Ok((lines, series)) => {
                prop_assert!(!overflow);
                prop_assert_eq!(lines, rows.len() as u64);
                prop_assert!(!series.is_empty());
            }
            Err(e) => {
                let e = format!("{e:#}");
                prop_assert!(overflow, "{e}");
                prop_assert!(e.contains("rss_anon_bytes + swap_bytes") && !e.contains('\n'), "{e}");
            }
        }
    }
}

#[path = "../../fuzz/replay.rs"]
mod replay;

/// Feeds every committed input of the daemon's targets to what the target calls (see
/// `fuzz/fuzz_targets/<target>.rs`); a panic names the file.
#[test]
fn committed_fuzz_inputs_still_pass() {
    let targets: [replay::Feed; 4] = [
        ("cgroup", |b| {
            let _ = cgroup_stat(false, b);
            let _ = cgroup_stat(true, b);
            let text = String::from_utf8_lossy(b);
            let (cgroup, mountinfo) = text.split_once('\0').unwrap_or((&text, ""));
            let _ = cgroup_locate(cgroup, mountinfo);
        }),
        ("proc_stat", |b| {
            let _ = children(b);
        }),
        ("proc_status", |b| {
            let _ = smaps_rollup(b);
        }),
        ("jsonl", |b| {
            if let Err(e) = read_back(b) {
                assert!(!format!("{e:#}").contains('\n'), "not one line: {e:#}");
            }
        }),
    ];
    let fed = replay::feed_all(&targets);
    assert!(fed > 0, "no committed fuzz input found under fuzz/corpus");
}
