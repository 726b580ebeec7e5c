//! Every shell command the READMEs show works as written, run bounded.
//!
//! The `sh` blocks of `README.md` and `memprobe-daemon/README.md` are extracted (continuation
//! lines joined, comments dropped). Daemon commands run for real against the real binary, with
//! the parts that stand for the user's world made small: a `--duration` becomes 2 s, the
//! server after `--` becomes a sleeping child, `--pid 4242` becomes that child's PID, file names
//! land in a temporary directory, and `footprint` reads this very binary. Each must end with a
//! documented verdict exit code (0, 1 or 3), never a usage error (2) or a crash. Cargo commands
//! are checked against `cargo metadata`: the package, binary and bench they name exist.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The commands of a README's `sh` blocks, continuation lines joined and comments dropped.
fn commands(readme: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(readme).unwrap();
    let mut out = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_sh = line.trim() == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        let line = match line.find(" #") {
            Some(i) => &line[..i],
            None => line,
        };
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        out.push(std::mem::take(&mut pending));
    }
    out
}

/// The command's words after leading `VAR=value` assignments.
fn words(command: &str) -> Vec<String> {
    command
        .split_whitespace()
        .skip_while(|w| w.contains('=') && !w.starts_with('-'))
        .map(str::to_owned)
        .collect()
}

/// A daemon command's arguments, made small and local (see the module docs).
fn bounded_daemon_args(args: &[String], dir: &Path, pid: u32, me: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    let footprint = args.first().map(String::as_str) == Some("footprint");
    while i < args.len() {
        let a = &args[i];
        match a.as_str() {
            "--duration" => {
                out.extend(["--duration".to_owned(), "2s".to_owned()]);
                i += 2;
                continue;
            }
            "--interval" => {
                out.extend(["--interval".to_owned(), "100ms".to_owned()]);
                i += 2;
                continue;
            }
            "--pid" => {
                out.extend(["--pid".to_owned(), pid.to_string()]);
                i += 2;
                continue;
            }
            "--" => {
                out.extend(["--", "sleep", "3"].map(str::to_owned));
                break;
            }
            _ => {}
        }
        let local = a.ends_with(".json") || a.ends_with(".jsonl") || a.ends_with(".csv");
        if local {
            out.push(dir.join(a).display().to_string());
        } else if footprint && a.ends_with(".elf") {
            out.push(me.display().to_string());
        } else {
            out.push(a.clone());
        }
        i += 1;
    }
    // An attached run (`--pid`) has no end of its own: bound it too.
    if out.iter().any(|a| a == "--pid") && !out.iter().any(|a| a == "--duration") {
        out.extend(["--duration".to_owned(), "2s".to_owned()]);
    }
    out
}

#[test]
fn every_readme_command_works_as_written() {
    let root = repo_root();
    let me = PathBuf::from(env!("CARGO_BIN_EXE_memprobe-daemon"));
    let dir = tempfile::tempdir().unwrap();
    let mut sleeper = Command::new("sleep").arg("60").spawn().unwrap();
    let metadata = Command::new(env!("CARGO"))
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(metadata.status.success());
    let metadata = String::from_utf8(metadata.stdout).unwrap();

    let mut ran = 0;
    let mut checked = 0;
    for readme in [
        root.join("README.md"),
        root.join("memprobe-daemon/README.md"),
    ] {
        for command in commands(&readme) {
            let w = words(&command);
            let daemon_at = w
                .iter()
                .position(|x| x.ends_with("memprobe-daemon") && !x.starts_with('-'));
            let is_cargo_memprobe = w.first().map(String::as_str) == Some("cargo")
                && w.get(1).map(String::as_str) == Some("memprobe");
            // `bash scripts/...`: the script is there (its own run is too long to repeat here;
            // .ci/run runs the bounded fuzz run).
            if w.first().map(String::as_str) == Some("bash") {
                let script = w.get(1).expect("bash with a script");
                assert!(
                    root.join(script).is_file(),
                    "{}: `{command}` names {script}, which is not in the repository",
                    readme.display()
                );
                checked += 1;
                continue;
            }
            if w.first().map(String::as_str) == Some("cargo") && !is_cargo_memprobe {
                // `-p NAME` names a package; `--bin`/`--bench` a target of it.
                for flag in ["-p", "--bin", "--bench", "--path"] {
                    if let Some(at) = w.iter().position(|x| x == flag) {
                        let name = w[at + 1].rsplit('/').next().unwrap();
                        assert!(
                            metadata.contains(&format!("\"name\":\"{name}\"")),
                            "{}: `{command}` names {flag} {name}, which cargo metadata does not know",
                            readme.display()
                        );
                    }
                }
                checked += 1;
                continue;
            }
            let args: Vec<String> = if is_cargo_memprobe {
                w[2..].to_vec()
            } else if let Some(at) = daemon_at.filter(|&at| at == 0 || w[0].starts_with("target/"))
            {
                w[at + 1..].to_vec()
            } else {
                continue;
            };
            // compare needs two runs' reports: its README workflow is run by tests/compare.
            if args.first().map(String::as_str) == Some("compare") {
                checked += 1;
                continue;
            }
            let args = bounded_daemon_args(&args, dir.path(), sleeper.id(), &me);
            let out = Command::new(&me)
                .args(&args)
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .output()
                .unwrap();
            let code = out.status.code();
            let stderr = String::from_utf8_lossy(&out.stderr);
            // An iteration warm-up needs a run whose program marks iterations (the `publish`
            // feature); on this run of `sleep` the daemon must say exactly that.
            let needs_marks = args.iter().any(|a| a.ends_with("it"))
                && code == Some(2)
                && stderr.contains("these samples carry no iteration marks");
            assert!(
                (matches!(code, Some(0 | 1 | 3)) || needs_marks) && !stderr.contains("panicked"),
                "{}: `{command}` (run as {args:?}) exited {code:?}: {stderr}",
                readme.display()
            );
            ran += 1;
        }
    }
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    assert!(
        ran >= 5,
        "only {ran} daemon commands ran: did the READMEs lose their examples?"
    );
    assert!(checked >= 5, "only {checked} cargo commands checked");
}
