//! Runs memprobe-core for real on a Cortex-M3: builds the firmware in `embedded/qemu-cortex-m`
//! for `thumbv7m-none-eabi` with allocation sizes chosen here, boots it on QEMU's
//! `lm3s6965evb`, and checks every figure it prints over semihosting against the figures
//! derived here from those sizes.
//!
//! Needs `qemu-system-arm` and the `thumbv7m-none-eabi` target (`scripts/install-test-deps.sh`
//! installs both), and crates.io or a warm cargo cache for the firmware's dependencies. Missing
//! tools: a failure naming them when `CI=true`, else a skip with the reason on stderr.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TARGET: &str = "thumbv7m-none-eabi";

/// The pattern's sizes, passed to the firmware's build (see its `src/main.rs`). Not its
/// defaults, so a firmware built without them would fail the test.
const VEC_LEN: u64 = 37;
const BOX_BYTES: u64 = 200;
const STRING_BYTES: u64 = 21;

/// Skips (or fails under `CI=true`) when an external tool is missing.
fn missing(what: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("memprobe: {what} is missing; run scripts/install-test-deps.sh");
    }
    eprintln!("qemu test skipped: {what} is missing (scripts/install-test-deps.sh installs it)");
}

fn has_target() -> bool {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    sysroot.is_some_and(|s| s.join("lib/rustlib").join(TARGET).join("lib").is_dir())
}

fn has_qemu() -> bool {
    Command::new("qemu-system-arm")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn build_firmware(root: &Path) -> PathBuf {
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("qemu-cortex-m");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(root.join("embedded/qemu-cortex-m"))
        .args(["build", "--release", "--locked", "--target", TARGET])
        .env("CARGO_TARGET_DIR", &target_dir)
        .env("MEMPROBE_QEMU_VEC_LEN", VEC_LEN.to_string())
        .env("MEMPROBE_QEMU_BOX_BYTES", BOX_BYTES.to_string())
        .env("MEMPROBE_QEMU_STRING_BYTES", STRING_BYTES.to_string())
        // The host build's flags are not the firmware's (its own are in its .cargo/config.toml).
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .expect("memprobe: cannot run cargo to build the firmware");
    assert!(
        output.status.success(),
        "memprobe: building embedded/qemu-cortex-m failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    target_dir
        .join(TARGET)
        .join("release/memprobe-qemu-cortex-m")
}

/// Runs the firmware under QEMU and returns its semihosting output, killing QEMU after 60 s.
fn run_qemu(kernel: &Path) -> String {
    let mut child = Command::new("qemu-system-arm")
        .args(["-cpu", "cortex-m3", "-machine", "lm3s6965evb", "-nographic"])
        .args(["-semihosting-config", "enable=on,target=native", "-kernel"])
        .arg(kernel)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("memprobe: cannot start qemu-system-arm");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for qemu") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("qemu output");
            panic!(
                "memprobe: the firmware did not exit within 60 s under QEMU; it printed:\n{}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().expect("qemu output");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        status.success(),
        "memprobe: the firmware exited with {status} under QEMU; it printed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The `key=value` pairs of the line starting with `label:` (or the bare `key=value` line).
fn line(output: &str, label: &str) -> BTreeMap<String, u64> {
    let text = output
        .lines()
        .find_map(|l| l.strip_prefix(label))
        .unwrap_or_else(|| panic!("no `{label}` line in the firmware's output:\n{output}"));
    text.trim_start_matches(':')
        .split_whitespace()
        .map(|pair| {
            let (k, v) = pair.split_once('=').expect("key=value");
            (k.to_owned(), v.parse().expect("a non-negative figure"))
        })
        .collect()
}

#[test]
fn firmware_counts_the_pattern_exactly() {
    if !has_qemu() {
        return missing("qemu-system-arm");
    }
    if !has_target() {
        return missing(
            "the thumbv7m-none-eabi Rust target (rustup target add thumbv7m-none-eabi)",
        );
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let output = run_qemu(&build_firmware(root));

    let pattern = line(&output, "pattern");
    assert_eq!(
        (
            pattern["vec_len"],
            pattern["box_bytes"],
            pattern["string_bytes"]
        ),
        (VEC_LEN, BOX_BYTES, STRING_BYTES),
        "the firmware was built with other sizes"
    );

    // Derived from the pattern: the vector's buffer (4 bytes per u32), reallocated to twice
    // its size, the kept box, the dropped string, then the vector dropped.
    let vec_bytes = 4 * VEC_LEN;
    let grown = 2 * vec_bytes;
    let expected = BTreeMap::from([
        ("alloc_count".to_owned(), 3),
        ("realloc_count".to_owned(), 1),
        ("dealloc_count".to_owned(), 2),
        (
            "alloc_bytes".to_owned(),
            vec_bytes + grown + BOX_BYTES + STRING_BYTES,
        ),
        ("freed_bytes".to_owned(), vec_bytes + STRING_BYTES + grown),
        ("live_bytes".to_owned(), BOX_BYTES),
        ("peak_bytes".to_owned(), grown + BOX_BYTES + STRING_BYTES),
        (
            "largest_alloc_bytes".to_owned(),
            grown.max(BOX_BYTES).max(STRING_BYTES),
        ),
    ]);
    assert_eq!(
        line(&output, "window"),
        expected,
        "window figures:\n{output}"
    );
    // Nothing else allocated on the firmware (semihosting output does not), so the all-time
    // figures are the window's.
    assert_eq!(
        line(&output, "total"),
        expected,
        "all-time figures:\n{output}"
    );
    assert_eq!(
        line(&output, "high_water_mark")[""],
        grown + BOX_BYTES + STRING_BYTES
    );
    assert_eq!(line(&output, "after_reset_peak")[""], BOX_BYTES);
    assert_eq!(line(&output, "after_free")["live_bytes"], 0);
}
