//! `watch --sites` on real processes: the soak target's `sites` mode leaks in
//! `leaky_cache_insert` and churns (allocates far more, frees it all) in
//! `churn_scratch_buffers`; the growth verdict must name the first and never the second, and the
//! profile files must read back. A command that does not publish gets one note, not a hang.
use crate::support::*;
use memprobe::sites::Profile;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::io::Read;

const LEAK: &str = "memprobe_soak_target::leaky_cache_insert";
const CHURN: &str = "churn_scratch_buffers";

/// `watch --sites` of the soak target's `sites` mode (4 MiB/s leaked, 32 MiB/s churned) for 3 s
/// at 10 ms, sampling one allocation per 64 KiB after the 20% warm-up.
#[test]
fn a_leak_names_its_function_first_and_never_the_churner() {
    let o = outputs();
    let out = daemon()
        .args(["watch", "--interval", "10ms", "--duration", "3s", "--sites"])
        .args([
            "--sites-rate",
            "64KiB",
            "--fail-if-growth",
            "5%",
            "--summary",
        ])
        .arg(&o.summary)
        .arg("--out")
        .arg(&o.out)
        .arg("--")
        .arg(target())
        .args(["sites", "--rate", "4MiB", "--step-ms", "10"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let summary = read_json(&o.summary);
    let sites = &summary["sites"];
    let top = sites["top_growing"]
        .as_array()
        .unwrap_or_else(|| panic!("{summary:#}"));
    assert_eq!(top[0]["function"], LEAK, "{sites:#}");
    assert!(
        top.iter()
            .all(|s| !s["function"].as_str().unwrap().contains(CHURN)),
        "{sites:#}"
    );
    // The leak is the sampled live bytes; the warm-up's leak (before sampling) is not counted.
    assert!(
        top[0]["live_share_percent"].as_f64().unwrap() > 90.0,
        "{sites:#}"
    );
    let verdict_line = stderr
        .lines()
        .find(|l| l.contains("top growing sites:"))
        .unwrap_or_else(|| panic!("no sites line: {stderr}"));
    assert!(
        verdict_line.starts_with(&format!("memprobe-daemon: top growing sites: {LEAK} ")),
        "{verdict_line}"
    );
    assert!(!stderr.contains(CHURN), "{stderr}");

    // The JSON reads back as a memprobe profile: the churner allocated the most bytes, yet holds
    // none of the live ones that matter; the leak grew by about 4 MiB/s over ~2.4 s of sampling.
    let json = o.dir.path().join("s.sites.json");
    assert_eq!(sites["json"], json.display().to_string());
    let profile: Profile = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(
        profile.sites[0].function.ends_with(CHURN),
        "{:?}",
        profile.sites[0]
    );
    let leak = profile.site("leaky_cache_insert").unwrap();
    let churn = profile.site(CHURN).unwrap();
    assert!(
        churn.stats.alloc_bytes > 4 * leak.stats.alloc_bytes,
        "{churn:?} {leak:?}"
    );
    assert!(
        churn.stats.live_bytes < profile.total.live_bytes / 100,
        "{churn:?}"
    );
    let mib = leak.stats.live_bytes as f64 / (1 << 20) as f64;
    assert!((6.0..=13.0).contains(&mib), "{mib} MiB live: {leak:?}");
    assert_eq!(sites["live_bytes"], profile.total.live_bytes);

    // The pprof decodes against profile.proto, and its samples sum to the JSON's totals.
    use prost::Message;
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(o.dir.path().join("s.sites.pb.gz")).unwrap())
        .read_to_end(&mut raw)
        .unwrap();
    let decoded = memprobe::sites::pprof::proto::Profile::decode(raw.as_slice()).unwrap();
    let sum = |i: usize| decoded.sample.iter().map(|s| s.value[i]).sum::<i64>() as u64;
    assert_eq!(sum(1), profile.total.alloc_bytes);
    assert_eq!(sum(3), profile.total.live_bytes);
    assert_eq!(decoded.period, 64 << 10);
    let names: Vec<&str> = decoded
        .function
        .iter()
        .map(|f| decoded.string_table[f.name as usize].as_str())
        .collect();
    assert!(names.contains(&LEAK), "{names:?}");
}

/// A command that does not publish: one note in the summary, no files, the exit code of a run
/// without `--sites` (0: the verdict is not enforced), and no wait for an answer.
#[test]
fn a_command_that_does_not_publish_gets_one_note() {
    let o = outputs();
    let started = Instant::now();
    daemon()
        .args(["watch", "--interval", "10ms", "--duration", "1s", "--sites"])
        .arg("--summary")
        .arg(&o.summary)
        .args(["--", "sleep", "10"])
        .assert()
        .code(0);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "waited for an answer"
    );
    let summary = read_json(&o.summary);
    let notes: Vec<&str> = summary["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n.as_str().filter(|n| n.starts_with("--sites")))
        .collect();
    assert_eq!(
        notes,
        [
            "--sites: no allocation sites: the command published no record (build it with memprobe's `publish` and `sites` features, memprobe::global_allocator!(), and call memprobe::publish::start())"
        ]
    );
    assert!(summary["sites"].is_null());
    assert!(!o.dir.path().join("s.sites.json").exists());
}

/// SIGINT to the daemon: the profile is asked for before the signal reaches the command.
#[test]
fn a_stop_signal_asks_for_the_profile_before_forwarding() {
    let o = outputs();
    let mut child = std::process::Command::new(daemon_path())
        .args([
            "watch",
            "--interval",
            "10ms",
            "--quiet",
            "--sites",
            "--warmup",
            "300ms",
        ])
        .arg("--summary")
        .arg(&o.summary)
        .arg("--")
        .arg(target())
        .args(["sites", "--rate", "4MiB", "--step-ms", "10"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let status = child.wait().unwrap();
    let summary = read_json(&o.summary);
    assert_eq!(summary["run"]["stop_signal"], "SIGINT", "{status:?}");
    let top = &summary["sites"]["top_growing"];
    assert_eq!(top[0]["function"], LEAK, "{summary:#}");
    assert!(o.dir.path().join("s.sites.pb.gz").exists());
}

/// Flags: `--sites` watches a command only; `--sites-rate` wants a size or `exact`.
#[test]
fn sites_flags_are_checked() {
    daemon()
        .args(["watch", "--pid", "1", "--sites"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--sites asks a command started here",
        ));
    daemon()
        .args(["watch", "--sites", "--sites-rate", "0", "--", "true"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--sites-rate 0 samples nothing"));
    daemon()
        .args(["watch", "--sites", "--sites-rate", "lots", "--", "true"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--sites-rate: "));
}
