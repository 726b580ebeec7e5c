//! `verdict FILE.jsonl` on hand-written files: errors, fragmentation, iterations.
use crate::support::*;

fn line(t_s: u64, rss_mib: u64, published: Option<(u64, u64)>) -> String {
    let mib = 1u64 << 20;
    let mut l = format!(
        r#"{{"t_ns":{},"wall_ns":0,"pid":7,"rss_bytes":{},"rss_anon_bytes":{},"rss_file_bytes":null,"rss_shmem_bytes":null,"swap_bytes":0,"peak_rss_bytes":null,"virtual_bytes":null,"status_t_ns":null"#,
        t_s * 1_000_000_000,
        rss_mib * mib,
        (rss_mib - 10) * mib
    );
    if let Some((iteration, allocated_mib)) = published {
        let a = allocated_mib * mib;
        l.push_str(&format!(
            r#","published":{{"pid":7,"updates":{iteration},"updated_monotonic_ns":0,"jemalloc":{{"allocated_bytes":{a},"active_bytes":{a},"resident_bytes":{a},"mapped_bytes":{a},"retained_bytes":0,"metadata_bytes":0}},"counting":null,"iteration":{iteration},"phase_seq":0,"phase":"","purge_done":0}}"#
        ));
    }
    l.push_str("}\n");
    l
}

/// The verdict line on a recorded run (`tests/fixtures/leak.jsonl`: `memprobe-soak-target leak
/// --rate 4MiB --step-ms 50` watched for 3 s at 20 ms, publishing) is byte for byte the line
/// the daemon printed when the fixture was captured, for each series choice: a refactor of the
/// reader, the series adaptation or the formatter cannot change it unnoticed.
#[test]
fn recorded_run_prints_the_same_line_as_when_captured() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for series in ["auto", "rss", "anon"] {
        let expected =
            std::fs::read_to_string(fixtures.join(format!("leak.verdict-{series}.txt"))).unwrap();
        daemon()
            .arg("verdict")
            .arg(fixtures.join("leak.jsonl"))
            .args(["--series", series])
            .assert()
            .code(1)
            .stdout(expected)
            .stderr("");
    }
}

fn file(d: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = d.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn errors_are_one_line_exit_2() {
    let d = dir();
    let missing = d.path().join("missing.jsonl");
    daemon()
        .arg("verdict")
        .arg(&missing)
        .assert()
        .code(2)
        .stdout("")
        .stderr(format!(
            "memprobe-daemon: cannot read {}: No such file or directory (os error 2)\n",
            missing.display()
        ));
    let empty = file(&d, "empty.jsonl", "");
    daemon()
        .arg("verdict")
        .arg(&empty)
        .assert()
        .code(2)
        .stderr(format!(
            "memprobe-daemon: {} holds no samples: expected the JSONL written by `memprobe-daemon watch --out`\n",
            empty.display()
        ));
    let corrupt = file(
        &d,
        "corrupt.jsonl",
        &format!(
            "{}{}not json\n{}",
            line(0, 20, None),
            line(1, 20, None),
            line(2, 20, None)
        ),
    );
    daemon()
        .arg("verdict")
        .arg(&corrupt)
        .assert()
        .code(2)
        .stderr(format!(
            "memprobe-daemon: {}:3: not a sample line of `memprobe-daemon watch --out`: expected ident at line 1 column 2\n",
            corrupt.display()
        ));
    daemon()
        .args(["verdict", "x.jsonl", "--warmup", "soon"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "memprobe-daemon: --warmup: invalid warm-up \"soon\": expected a duration",
        ));
}

#[test]
fn fragmentation_exits_1_unless_allowed() {
    // The heap is flat at 50 MiB while RSS creeps up 1 MiB a second.
    let d = dir();
    let text: String = (0..60)
        .map(|i| line(i, 80 + i, Some((i + 1, 50))))
        .collect();
    let f = file(&d, "frag.jsonl", &text);
    let out = daemon().arg("verdict").arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with("fragmentation (exit 1): RssAnon+swap grows 1.0 MiB/iteration")
            && stdout.contains("while jemalloc allocated stays flat: fragmentation or memory the allocator retains, not a leak"),
        "{stdout}"
    );
    daemon()
        .arg("verdict")
        .arg(&f)
        .arg("--allow-fragmentation")
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("fragmentation (exit 0): "));
    // Judged on RSS alone, it is growth.
    daemon()
        .arg("verdict")
        .arg(&f)
        .args(["--series", "rss", "--allow-fragmentation"])
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with(
            "growth (exit 1): RSS grows 1.0 MiB/iteration",
        ));
}

#[test]
fn killed_daemon_file_and_inconclusive_mapping() {
    let d = dir();
    // Ten samples, then the line a SIGKILL cut short.
    let mut text: String = (0..10).map(|i| line(i, 20, None)).collect();
    text.push_str(r#"{"t_ns":10000000000,"wall_"#);
    let f = file(&d, "cut.jsonl", &text);
    daemon()
        .arg("verdict")
        .arg(&f)
        .assert()
        .code(3)
        .stdout("inconclusive (exit 3): Inconclusive for RssAnon+swap: only 10 samples, at least 20 needed\n")
        .stderr(format!(
            "memprobe-daemon: {}: line 11, the last, is cut off (the daemon was killed while writing it): left out\n",
            f.display()
        ));
    daemon()
        .arg("verdict")
        .arg(&f)
        .args(["--inconclusive", "pass", "--quiet"])
        .assert()
        .code(0)
        .stdout("")
        .stderr("");
}
