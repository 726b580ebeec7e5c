//! `memprobe-daemon verdict`'s JSONL reader on any file: a run or a one-line error, never a
//! panic. The reader takes a path, so each input is written to a file first.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let shm = std::path::Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("memprobe-fuzz-jsonl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    });
    let path = dir.join("run.jsonl");
    std::fs::write(&path, data).unwrap();
    if let Err(e) = memprobe_daemon::__readers::jsonl(&path) {
        assert!(!format!("{e:#}").contains('\n'), "not one line: {e:#}");
    }
});
