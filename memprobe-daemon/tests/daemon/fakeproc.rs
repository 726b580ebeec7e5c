//! The committed fake `/proc` (`tests/fixtures/fakeproc/round{1,2,3}`): exact table tests of
//! every parser on its files, of the library reader under a fake root (64 KiB pages), and of
//! `watch --proc-root` with its tree walk over three sampling rounds.
//!
//! The tree, one process per row (page size 65536):
//!
//! | round | 42 (target) | 43 (child) | 44 (child) |
//! |---|---|---|---|
//! | 1 | comm `((a b ) ( c d) )`, 1000 pages | comm `a\nb) (c`, no RssShmem/VmSwap lines | `u64::MAX` figures, 2^48-1 pages |
//! | 2 | grows to 1100 pages | replaced: start 4301, comm `x) Z 1 (y` | a zombie |
//! | 3 | replaced: start 4999 | as round 2 | as round 2 |

use crate::support::*;
use memprobe::ProcessMemory;
use memprobe::snapshot::procfs::{parse_children, parse_stat, parse_statm, parse_status};
use memprobe::snapshot::{ProcRoot, read_stat_in};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fakeproc")
}

fn file(round: u32, pid: u32, name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(format!("round{round}/{pid}/{name}"))).unwrap()
}

const KIB: u64 = 1024;
const PAGE: u64 = 65536;

#[test]
fn statm_table() {
    // (round, pid, size, resident, shared) in pages.
    let table: [(u32, u32, u64, u64, u64); 6] = [
        (1, 42, 2000, 1000, 400),
        (1, 43, 300, 100, 50),
        (1, 44, u64::MAX, (1 << 48) - 1, 0),
        (2, 42, 2100, 1100, 400),
        (2, 43, 200, 50, 25),
        (2, 44, 0, 0, 0),
    ];
    for (round, pid, size, resident, shared) in table {
        let s = parse_statm(&file(round, pid, "statm")).unwrap();
        assert_eq!(
            (s.size_pages, s.resident_pages, s.shared_pages),
            (size, resident, shared),
            "round {round} pid {pid}"
        );
    }
}

#[test]
fn status_table() {
    type Row = (u32, u32, [Option<u64>; 7]);
    let k = |v: u64| Some(v * KIB);
    // vm_size, vm_hwm, vm_rss, rss_anon, rss_file, rss_shmem, vm_swap
    let table: [Row; 6] = [
        (
            1,
            42,
            [
                k(128000),
                k(70000),
                k(64000),
                k(40000),
                k(20000),
                k(4000),
                k(512),
            ],
        ),
        // No RssShmem nor VmSwap lines.
        (
            1,
            43,
            [k(19200), k(6400), k(6400), k(4000), k(2400), None, None],
        ),
        // u64::MAX kB overflows bytes: None, never a wrapped figure; VmSwap is the largest that fits.
        (
            1,
            44,
            [
                None,
                None,
                None,
                k(0),
                k(0),
                k(0),
                Some(18446744073709550592),
            ],
        ),
        (
            2,
            42,
            [
                k(134400),
                k(76800),
                k(70400),
                k(46400),
                k(20000),
                k(4000),
                k(1024),
            ],
        ),
        (
            2,
            43,
            [k(12800), k(3200), k(3200), k(1600), k(1600), k(0), k(0)],
        ),
        // A zombie has no Vm lines.
        (2, 44, [None; 7]),
    ];
    for (round, pid, want) in table {
        let s = parse_status(&file(round, pid, "status"));
        assert_eq!(
            [
                s.vm_size_bytes,
                s.vm_hwm_bytes,
                s.vm_rss_bytes,
                s.rss_anon_bytes,
                s.rss_file_bytes,
                s.rss_shmem_bytes,
                s.vm_swap_bytes
            ],
            want,
            "round {round} pid {pid}"
        );
    }
}

#[test]
fn stat_table_with_hostile_names() {
    // (round, pid, state, ppid, start): names with parentheses, spaces, a newline, fake fields.
    let table = [
        (1, 42, b'S', 1, 4200),
        (1, 43, b'S', 42, 4300),
        (1, 44, b'R', 42, 4400),
        (2, 43, b'S', 42, 4301),
        (2, 44, b'Z', 42, 4400),
        (3, 42, b'S', 1, 4999),
    ];
    for (round, pid, state, ppid, start) in table {
        let s = parse_stat(&file(round, pid, "stat")).unwrap();
        assert_eq!(
            (s.state, s.ppid, s.start_time_ticks),
            (state, ppid, start),
            "round {round} pid {pid}"
        );
    }
}

#[test]
fn children_table() {
    let mut kids = vec![];
    parse_children(&file(1, 42, "task/42/children"), &mut kids);
    assert_eq!(kids, [43, 44]);
    kids.clear();
    parse_children(&file(1, 43, "task/43/children"), &mut kids);
    assert!(kids.is_empty());
}

/// The library reader under the fake root: 64 KiB pages, every figure from its one source, the
/// children listed through the held directory, identity by (PID, start time).
#[test]
fn reader_under_a_fake_root() {
    let root = ProcRoot::at(fixtures().join("round1")).unwrap();
    assert_eq!(root.page_size(), PAGE);
    let p42 = ProcessMemory::for_pid_in(&root, 42).unwrap();
    let s = p42.snapshot().unwrap();
    assert_eq!(s.rss_bytes, 1000 * PAGE);
    assert_eq!(s.rss_anon_bytes, Some(40000 * KIB));
    assert_eq!(s.rss_file_bytes, Some(20000 * KIB));
    assert_eq!(s.rss_shmem_bytes, Some(4000 * KIB));
    assert_eq!(s.swap_bytes, Some(512 * KIB));
    assert_eq!(s.peak_rss_bytes, Some(70000 * KIB));
    assert_eq!(s.virtual_bytes, Some(128000 * KIB));
    assert_eq!(p42.start_time_ticks().unwrap(), 4200);
    let mut kids = vec![];
    p42.children(&mut kids);
    assert_eq!(kids, [43, 44]);
    // 2^48-1 pages of 64 KiB is the largest resident size that fits; the full snapshot has it.
    let p44 = ProcessMemory::for_pid_in(&root, 44).unwrap();
    assert_eq!(p44.snapshot().unwrap().rss_bytes, ((1 << 48) - 1) * PAGE);
    assert!(matches!(
        ProcessMemory::for_pid_in(&root, 45),
        Err(memprobe::Error::ProcessNotFound { pid: 45 })
    ));
    let round3 = ProcRoot::at(fixtures().join("round3")).unwrap();
    assert_eq!(read_stat_in(&round3, 42).unwrap().start_time_ticks, 4999);
}

/// Copies round `n` of the fake tree over `live`, file by file in place (the open files see the
/// new text, as `/proc`'s do), while the daemon is stopped.
fn load_round(n: u32, live: &Path) {
    let from = fixtures().join(format!("round{n}"));
    copy_tree(&from, live);
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::write(&target, std::fs::read(entry.path()).unwrap()).unwrap();
        }
    }
}

fn signal(pid: u32, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} {pid}");
}

fn wait_lines(path: &Path, at_least: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n = std::fs::read_to_string(path)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if n >= at_least {
            return n;
        }
        assert!(
            Instant::now() < deadline,
            "only {n} lines in {}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `watch --proc-root --tree` over three rounds: round 1 read field by field (extremes saturate,
/// missing fields are null), a replaced child ends its series and comes back as a new row, a
/// zombie leaves the tree, and the replaced target ends the run with a note. No sample ever
/// mixes two processes.
#[test]
fn watch_over_three_rounds() {
    let o = outputs();
    let live = o.dir.path().join("proc");
    load_round(1, &live);
    let mut daemon = std::process::Command::new(daemon_path())
        .arg("watch")
        .arg("--proc-root")
        .arg(&live)
        .args(["--pid", "42", "--tree", "--interval", "20ms", "--quiet"])
        .arg("--cgroup")
        .arg(live.join("cgroup"))
        .arg("--out")
        .arg(&o.out)
        .arg("--summary")
        .arg(&o.summary)
        .spawn()
        .unwrap();
    let pid = daemon.id();
    wait_lines(&o.out, 3);
    signal(pid, "-STOP");
    let round1 = wait_lines(&o.out, 0);
    load_round(2, &live);
    signal(pid, "-CONT");
    // Past the target's next status read (at most 1 s apart): then round 2 is whole.
    std::thread::sleep(Duration::from_millis(1300));
    wait_lines(&o.out, round1 + 3);
    signal(pid, "-STOP");
    let round2 = wait_lines(&o.out, 0);
    load_round(3, &live);
    signal(pid, "-CONT");
    let status = daemon.wait().unwrap();
    let lines = lines(&o.out);
    // SIGSTOP can land between a tick's reads and its write: that one sample is written after
    // SIGCONT, with the figures of the round it read. So a boundary may carry one such line.
    assert!(
        lines.len() == round2 || lines.len() == round2 + 1,
        "no sample after the target was replaced: {} lines, {round2} before round 3",
        lines.len()
    );
    if let Some(extra) = lines.get(round2) {
        assert_eq!(
            extra["rss_bytes"],
            lines[round2 - 1]["rss_bytes"],
            "a round-3 sample: {extra}"
        );
    }

    for l in &lines[..round1] {
        assert_eq!(l["pid"], 42);
        assert_eq!(l["rss_bytes"], 1000 * PAGE);
        assert_eq!(l["rss_anon_bytes"], 40000 * KIB);
        assert_eq!(l["rss_file_bytes"], 20000 * KIB);
        assert_eq!(l["rss_shmem_bytes"], 4000 * KIB);
        assert_eq!(l["swap_bytes"], 512 * KIB);
        assert_eq!(l["peak_rss_bytes"], 70000 * KIB);
        assert_eq!(l["virtual_bytes"], 128000 * KIB);
        // 44's figures are near u64::MAX: the sums saturate, never wrap.
        assert_eq!(l["tree"]["processes"], 3);
        assert_eq!(l["tree"]["rss_bytes"], u64::MAX);
        assert_eq!(l["tree"]["anon_swap_bytes"], u64::MAX);
        let procs = l["procs"].as_array().unwrap();
        assert_eq!(procs.len(), 2, "{l}");
        assert_eq!(procs[0]["pid"], 43);
        assert_eq!(procs[0]["ppid"], 42);
        assert_eq!(procs[0]["rss_bytes"], 100 * PAGE);
        assert_eq!(procs[0]["rss_anon_bytes"], 4000 * KIB);
        assert_eq!(procs[0]["swap_bytes"], 0, "no VmSwap line: 0 in the tree");
        assert_eq!(procs[1]["pid"], 44);
        assert_eq!(procs[1]["rss_bytes"], ((1u64 << 48) - 1) * PAGE);
        assert_eq!(procs[1]["rss_anon_bytes"], 0);
        assert_eq!(procs[1]["swap_bytes"], 18446744073709550592u64);
        assert_eq!(l["cgroup"]["usage_bytes"], 80000000);
        assert_eq!(l["cgroup"]["peak_bytes"], u64::MAX);
    }
    let last = &lines[round2 - 1];
    assert_eq!(last["rss_bytes"], 1100 * PAGE);
    assert_eq!(last["rss_anon_bytes"], 46400 * KIB);
    assert_eq!(last["swap_bytes"], 1024 * KIB);
    assert_eq!(last["cgroup"]["usage_bytes"], 90000000);
    // The zombie 44 has left; 43 is the newcomer, with its own figures only.
    assert_eq!(last["tree"]["processes"], 2);
    let procs = last["procs"].as_array().unwrap();
    assert_eq!(procs.len(), 1, "{last}");
    assert_eq!(procs[0]["pid"], 43);
    assert_eq!(procs[0]["rss_bytes"], 50 * PAGE);
    assert_eq!(procs[0]["rss_anon_bytes"], 1600 * KIB);
    assert_eq!(last["tree"]["rss_bytes"], 1100 * PAGE + 50 * PAGE);
    assert_eq!(last["tree"]["anon_swap_bytes"], (46400 + 1024 + 1600) * KIB);
    // Every round-2 sample that lists a 43 lists the newcomer's figures, never the old ones
    // (the first line after the boundary may be a tick that read round 1 before SIGSTOP).
    for l in &lines[round1 + 1..] {
        for p in l["procs"].as_array().unwrap() {
            if p["pid"] == 43 {
                assert_eq!(p["rss_bytes"], 50 * PAGE, "{l}");
            }
        }
    }

    let s = read_json(&o.summary);
    assert_eq!(s["state"], "finished");
    assert_eq!(s["run"]["ended"], "target_exited");
    assert_eq!(s["target"]["start_time_ticks"], 4200);
    let notes: Vec<&str> = s["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n
                .starts_with("PID 43 of the tree now names another process (start time changed)")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.starts_with(
            "PID 42 now names another process (start time changed): the series ends here"
        )),
        "{notes:?}"
    );
    let seen: Vec<(u64, u64, bool)> = s["tree"]["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["pid"].as_u64().unwrap(),
                p["start_time_ticks"].as_u64().unwrap(),
                p["exited"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [(43, 4300, true), (44, 4400, true), (43, 4301, false)],
        "two rows for PID 43, one per process"
    );
    assert_eq!(s["tree"]["processes_seen"], 4);
    // Round 2 is flat to the end: the verdict passes, exit 0 (documented in --help).
    assert_eq!(s["verdict"]["kind"]["verdict"], "pass", "{}", s["verdict"]);
    assert_eq!(status.code(), Some(0), "{s}");
    assert_eq!(
        s["system"]["page_size"], PAGE,
        "the page size of the root read"
    );
    assert_eq!(
        std::fs::read(live.join("42/clear_refs")).unwrap(),
        b"",
        "no --phase-reset: the peak is never reset"
    );
}

#[test]
fn proc_root_is_hidden_and_checked() {
    daemon()
        .args(["watch", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--pid").and(predicate::str::contains("proc-root").not()));
    daemon()
        .args(["watch", "--proc-root", "/nonexistent-root", "--pid", "42"])
        .assert()
        .code(2)
        .stderr(predicate::eq(
            "memprobe-daemon: --proc-root /nonexistent-root: listing /nonexistent-root: No such file or directory (os error 2)\n",
        ));
}
