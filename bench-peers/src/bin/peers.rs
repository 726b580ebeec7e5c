//! The driver: runs every counting-allocator binary (`alloc-*`, next to this one) interleaved,
//! round after round with the order rotated, then the snapshot readers interleaved in this
//! process, and prints both as markdown tables (medians and interquartile ranges of per-round
//! ratios). `scripts/bench-peers.sh` builds and runs it.
//!
//! Environment: `PEERS_ROUNDS` (default 21) rounds for both parts; `PEERS_READS` reads per reader
//! per round (default 2000); the `PEERS_*` sizes read by the contenders are passed through.

use anyhow::{Context, Result, bail};
use bench_peers::stats::{Spread, ratio_spread, spread};
use bench_peers::thread_cpu_time;
use memprobe::ProcessMemory;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;

/// Binary name, label, and the allocator it wraps (its own baseline besides bare jemalloc).
const CONTENDERS: [(&str, &str, &str); 8] = [
    ("jemalloc", "jemalloc (bare)", "jemalloc"),
    (
        "memprobe-jemalloc",
        "**memprobe `Counting<Jemalloc>`**",
        "jemalloc",
    ),
    ("system", "System (bare, glibc)", "system"),
    (
        "memprobe-system",
        "**memprobe `Counting<System>`**",
        "system",
    ),
    (
        "stats-alloc-system",
        "`stats_alloc` 0.1 (over System)",
        "system",
    ),
    (
        "allocation-counter",
        "`allocation-counter` 0.8 (over System)",
        "system",
    ),
    (
        "cap-jemalloc",
        "`cap` 0.1 (over jemalloc, no limit)",
        "jemalloc",
    ),
    ("dhat", "`dhat` 0.3 heap profiler (over System)", "system"),
];

const CASES: [(&str, usize, &str); 6] = [
    ("churn", 1, "churn, 1 thread"),
    ("churn", 2, "churn, 2 threads"),
    ("btree", 1, "BTreeMap, 1 thread"),
    ("btree", 2, "BTreeMap, 2 threads"),
    ("json", 1, "serde_json, 1 thread"),
    ("json", 2, "serde_json, 2 threads"),
];

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn cell(s: Spread) -> String {
    format!("{:.3}× ({:.3}–{:.3})", s.median, s.q1, s.q3)
}

/// One run of a contender binary: figure per (case, threads).
fn run_contender(dir: &std::path::Path, bin: &str) -> Result<BTreeMap<(String, usize), f64>> {
    let path = dir.join(format!("alloc-{bin}"));
    let out = Command::new(&path).output().with_context(|| {
        format!(
            "running {}: build it with scripts/bench-peers.sh",
            path.display()
        )
    })?;
    if !out.status.success() {
        bail!(
            "{} failed: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut figures = BTreeMap::new();
    for line in String::from_utf8(out.stdout)?.lines() {
        let mut f = line.split('\t');
        let (Some(case), Some(threads), Some(value)) = (f.next(), f.next(), f.next()) else {
            bail!("{bin}: unexpected line {line:?}");
        };
        figures.insert((case.to_string(), threads.parse()?), value.parse()?);
    }
    Ok(figures)
}

fn allocators(rounds: usize) -> Result<()> {
    let dir: PathBuf = std::env::current_exe()?
        .parent()
        .context("the driver's directory")?
        .to_path_buf();
    let active = &CONTENDERS[..];
    // times[contender][case] = per-round figures
    let mut times = vec![vec![Vec::new(); CASES.len()]; active.len()];
    for round in 0..rounds {
        for k in 0..active.len() {
            let i = (round + k) % active.len();
            let figures = run_contender(&dir, active[i].0)?;
            for (c, (case, threads, _)) in CASES.iter().enumerate() {
                let v = figures
                    .get(&(case.to_string(), *threads))
                    .with_context(|| {
                        format!("{}: no figure for {case} at {threads}", active[i].0)
                    })?;
                times[i][c].push(*v);
            }
        }
        eprint!("\rallocators: round {}/{rounds}", round + 1);
    }
    eprintln!();
    let index = |bin: &str| active.iter().position(|c| c.0 == bin).unwrap();
    let (je, sys) = (index("jemalloc"), index("system"));

    println!(
        "\n### Counting allocators: ratio to bare jemalloc, median (IQR) of {rounds} per-round ratios\n"
    );
    print!("| allocator |");
    for (_, _, title) in CASES {
        print!(" {title} |");
    }
    println!("\n|---|{}", "---|".repeat(CASES.len()));
    print!("| bare jemalloc, CPU time |");
    for (c, (case, _, _)) in CASES.iter().enumerate() {
        let unit = if *case == "churn" { "ns/op" } else { "µs/run" };
        print!(" {:.2} {unit} |", spread(&times[je][c]).median);
    }
    println!();
    for (i, (_, label, _)) in active.iter().enumerate() {
        print!("| {label} |");
        for (t, base) in times[i].iter().zip(&times[je]) {
            print!(" {} |", cell(ratio_spread(t, base)));
        }
        println!();
    }

    println!("\n### The same, as ratios to the allocator each one wraps (its own bare baseline)\n");
    print!("| allocator | wraps |");
    for (_, _, title) in CASES {
        print!(" {title} |");
    }
    println!("\n|---|---|{}", "---|".repeat(CASES.len()));
    for (i, (bin, label, inner)) in active.iter().enumerate() {
        if *bin == "jemalloc" || *bin == "system" {
            continue;
        }
        let base = if *inner == "jemalloc" { je } else { sys };
        print!("| {label} | {inner} |");
        for (t, b) in times[i].iter().zip(&times[base]) {
            print!(" {} |", cell(ratio_spread(t, b)));
        }
        println!();
    }
    Ok(())
}

type Reader<'a> = (&'a str, Box<dyn FnMut() + 'a>);

fn readers(rounds: usize, reads: u64) -> Result<()> {
    let me = ProcessMemory::current().context("memprobe: reading this process's memory")?;
    let mut system = sysinfo::System::new().context("sysinfo could not initialise")?;
    let pid = sysinfo::Pid::from_u32(std::process::id());
    let procfs_self = procfs::process::Process::myself().context("procfs: /proc/self")?;
    let mut list: Vec<Reader> = vec![
        (
            "memprobe `rss_bytes` (statm, kept-open fd, pread)",
            Box::new(|| {
                black_box(me.rss_bytes().unwrap());
            }),
        ),
        (
            "memprobe full snapshot (statm + status)",
            Box::new(|| {
                black_box(me.snapshot().unwrap());
            }),
        ),
        (
            "`sysinfo` 0.40 refresh of one process (memory only)",
            Box::new(|| {
                system.refresh_processes_specifics(
                    sysinfo::ProcessesToUpdate::Some(&[pid]),
                    true,
                    sysinfo::ProcessRefreshKind::nothing().with_memory(),
                );
                black_box(system.process(pid).map(|p| p.memory()));
            }),
        ),
        (
            "`memory-stats` 1.2 `memory_stats()` (default features: parses `/proc/self/smaps`)",
            Box::new(|| {
                black_box(memory_stats::memory_stats().unwrap());
            }),
        ),
        (
            "`procfs` 0.18 `Process::statm()` (handle kept)",
            Box::new(|| {
                black_box(procfs_self.statm().unwrap());
            }),
        ),
        (
            "`procfs` 0.18 `Process::myself()?.statm()`",
            Box::new(|| {
                black_box(procfs::process::Process::myself().unwrap().statm().unwrap());
            }),
        ),
    ];
    let mut times = vec![Vec::new(); list.len()];
    for round in 0..rounds {
        for k in 0..list.len() {
            let i = (round + k) % list.len();
            let read = &mut list[i].1;
            let t0 = thread_cpu_time();
            for _ in 0..reads {
                read();
            }
            times[i].push((thread_cpu_time() - t0).as_nanos() as f64 / reads as f64);
        }
    }
    println!(
        "\n### Snapshot readers: CPU ns per read, ratio to memprobe's RSS read, median (IQR) of {rounds} rounds of {reads} reads\n"
    );
    println!("| reader | CPU ns per read | ratio to memprobe `rss_bytes` |");
    println!("|---|---|---|");
    for (i, (label, _)) in list.iter().enumerate() {
        let s = spread(&times[i]);
        println!(
            "| {label} | {:.0} ({:.0}–{:.0}) | {} |",
            s.median,
            s.q1,
            s.q3,
            cell(ratio_spread(&times[i], &times[0]))
        );
    }
    Ok(())
}

fn main() -> Result<()> {
    let rounds = env("PEERS_ROUNDS", 21) as usize;
    let reads = env("PEERS_READS", 2000);
    let only = std::env::args().nth(1);
    if only.as_deref() != Some("readers") {
        allocators(rounds)?;
    }
    if only.as_deref() != Some("allocators") {
        readers(rounds, reads)?;
    }
    Ok(())
}
