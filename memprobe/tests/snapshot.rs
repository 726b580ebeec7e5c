//! `memprobe::snapshot`: the /proc parsers on captured real files, and the readers against a live
//! process (this one and children).
//!
//! This binary installs its own per-thread counting allocator (not `memprobe::Counting`) so the
//! no-allocation test sees only its own thread, whatever the harness threads do.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts allocations made by the current thread, then defers to `System`.
struct ThreadCounting;

thread_local! {
    // const-initialised and without Drop: reading it never allocates or registers a destructor.
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the counter
// neither allocates nor panics.
unsafe impl GlobalAlloc for ThreadCounting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: ThreadCounting = ThreadCounting;

fn thread_allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

/// The tests of this binary run one at a time: the RSS tests move this process's memory by tens of
/// MiB, and must not see the others' allocations (or their 5-second child) as noise.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

mod parsers {
    use memprobe::snapshot::procfs::{
        Status, parse_stat, parse_stat_start_time, parse_statm, parse_status,
    };
    use proptest::prelude::*;

    const SELF_STATUS: &[u8] = include_bytes!("fixtures/proc/self_status");
    const SELF_STATM: &[u8] = include_bytes!("fixtures/proc/self_statm");
    const SELF_STAT: &[u8] = include_bytes!("fixtures/proc/self_stat");
    const PID1_STATUS: &[u8] = include_bytes!("fixtures/proc/pid1_status");
    const PID1_STATM: &[u8] = include_bytes!("fixtures/proc/pid1_statm");
    const PID1_STAT: &[u8] = include_bytes!("fixtures/proc/pid1_stat");
    const KTHREADD_STATUS: &[u8] = include_bytes!("fixtures/proc/kthreadd_status");
    const KTHREADD_STATM: &[u8] = include_bytes!("fixtures/proc/kthreadd_statm");
    const ODD_COMM_STAT: &[u8] = include_bytes!("fixtures/proc/odd_comm_stat");
    /// `status` of a `sh` started with 901 supplementary groups (10000..=10900): its `Groups:`
    /// line is 5.3 KiB and comes before every `Vm*` line.
    const GROUPS_STATUS: &[u8] = include_bytes!("fixtures/proc/groups_status");
    /// `stat` of a `sh` that renamed itself `a\nb) (c` (written to `/proc/self/comm`).
    const NEWLINE_COMM_STAT: &[u8] = include_bytes!("fixtures/proc/newline_comm_stat");

    /// An independent, allocating reading of a `status` field in bytes, to check the parser against.
    fn reference_kib(text: &[u8], key: &str) -> Option<u64> {
        let text = std::str::from_utf8(text).unwrap();
        text.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            (k == key).then(|| {
                v.trim()
                    .strip_suffix(" kB")
                    .unwrap()
                    .trim()
                    .parse::<u64>()
                    .unwrap()
                    * 1024
            })
        })
    }

    fn check_against_reference(text: &[u8]) -> Status {
        let status = parse_status(text);
        let fields = [
            ("VmSize", status.vm_size_bytes),
            ("VmHWM", status.vm_hwm_bytes),
            ("VmRSS", status.vm_rss_bytes),
            ("RssAnon", status.rss_anon_bytes),
            ("RssFile", status.rss_file_bytes),
            ("RssShmem", status.rss_shmem_bytes),
            ("VmSwap", status.vm_swap_bytes),
        ];
        for (key, parsed) in fields {
            assert_eq!(parsed, reference_kib(text, key), "{key}");
        }
        status
    }

    #[test]
    fn self_status_matches_the_file() {
        let _serial = crate::serial();
        let status = check_against_reference(SELF_STATUS);
        // The values as captured (a shell, `cat /proc/$$/status`).
        assert_eq!(status.vm_size_bytes, Some(2592 * 1024));
        assert_eq!(status.vm_hwm_bytes, Some(1708 * 1024));
        assert_eq!(status.vm_rss_bytes, Some(1708 * 1024));
        assert_eq!(status.rss_anon_bytes, Some(104 * 1024));
        assert_eq!(status.rss_file_bytes, Some(1604 * 1024));
        assert_eq!(status.rss_shmem_bytes, Some(0));
        assert_eq!(status.vm_swap_bytes, Some(0));
    }

    #[test]
    fn pid1_status_matches_the_file() {
        let _serial = crate::serial();
        let status = check_against_reference(PID1_STATUS);
        assert_eq!(status.vm_size_bytes, Some(43420 * 1024));
        assert_eq!(status.vm_hwm_bytes, Some(17660 * 1024));
        assert_eq!(status.rss_anon_bytes, Some(7292 * 1024));
        assert_eq!(status.rss_file_bytes, Some(8 * 1024));
        assert_eq!(status.rss_shmem_bytes, Some(6456 * 1024));
        // RSS is the sum of its three parts.
        assert_eq!(
            status.vm_rss_bytes,
            Some(
                status.rss_anon_bytes.unwrap()
                    + status.rss_file_bytes.unwrap()
                    + status.rss_shmem_bytes.unwrap()
            )
        );
    }

    #[test]
    fn kernel_thread_status_has_no_memory_fields() {
        let _serial = crate::serial();
        assert_eq!(parse_status(KTHREADD_STATUS), Status::default());
        let statm = parse_statm(KTHREADD_STATM).unwrap();
        assert_eq!(
            (statm.size_pages, statm.resident_pages, statm.shared_pages),
            (0, 0, 0)
        );
    }

    #[test]
    fn statm_matches_the_file_and_status() {
        let _serial = crate::serial();
        let statm = parse_statm(SELF_STATM).unwrap();
        assert_eq!(
            (statm.size_pages, statm.resident_pages, statm.shared_pages),
            (648, 427, 401)
        );
        // Captured together with self_status: resident pages × 4 KiB = VmRSS, size = VmSize.
        assert_eq!(
            Some(statm.resident_pages * 4096),
            parse_status(SELF_STATUS).vm_rss_bytes
        );
        assert_eq!(
            Some(statm.size_pages * 4096),
            parse_status(SELF_STATUS).vm_size_bytes
        );
        let statm = parse_statm(PID1_STATM).unwrap();
        assert_eq!(
            (statm.size_pages, statm.resident_pages, statm.shared_pages),
            (10855, 3439, 1616)
        );
        assert_eq!(
            Some(statm.resident_pages * 4096),
            parse_status(PID1_STATUS).vm_rss_bytes
        );
    }

    #[test]
    fn stat_start_time_matches_the_file() {
        let _serial = crate::serial();
        assert_eq!(parse_stat_start_time(SELF_STAT), Some(81329));
        assert_eq!(parse_stat_start_time(PID1_STAT), Some(24));
        // A real process named `x) y (z`: counting from the first `)` would read the wrong field.
        assert!(ODD_COMM_STAT.starts_with(b"19541 (x) y (z) S"));
        assert_eq!(parse_stat_start_time(ODD_COMM_STAT), Some(81704));
    }

    #[test]
    fn stat_with_a_newline_in_the_name() {
        let _serial = crate::serial();
        // Stopping at the first newline (as the reader did) leaves `3707 (a`: no field at all.
        assert!(NEWLINE_COMM_STAT.starts_with(b"3707 (a\nb) (c) S 3682 "));
        let first_line = NEWLINE_COMM_STAT.split(|&b| b == b'\n').next().unwrap();
        assert_eq!(parse_stat(first_line), None);
        let stat = parse_stat(NEWLINE_COMM_STAT).unwrap();
        assert_eq!(
            (stat.state, stat.ppid, stat.start_time_ticks),
            (b'S', 3682, 99051)
        );
        assert_eq!(parse_stat_start_time(NEWLINE_COMM_STAT), Some(99051));
        let stat = parse_stat(SELF_STAT).unwrap();
        assert_eq!(stat.start_time_ticks, 81329);
    }

    #[test]
    fn status_with_a_5_kib_groups_line() {
        let _serial = crate::serial();
        let groups = GROUPS_STATUS
            .split(|&b| b == b'\n')
            .find(|l| l.starts_with(b"Groups:"))
            .unwrap();
        assert!(groups.len() > 5 * 1024, "{}", groups.len());
        let status = parse_status(GROUPS_STATUS);
        for (key, got) in [
            ("VmSize", status.vm_size_bytes),
            ("VmHWM", status.vm_hwm_bytes),
            ("VmRSS", status.vm_rss_bytes),
            ("RssAnon", status.rss_anon_bytes),
            ("RssFile", status.rss_file_bytes),
            ("RssShmem", status.rss_shmem_bytes),
            ("VmSwap", status.vm_swap_bytes),
        ] {
            assert_eq!(got, reference_kib(GROUPS_STATUS, key), "{key}");
            assert!(got.is_some(), "{key}");
        }
        // The copy's bug: the first 4 KiB end inside `Groups:`, before any `Vm*` line.
        let cut = parse_status(&GROUPS_STATUS[..4096]);
        assert_eq!((cut.vm_swap_bytes, cut.vm_hwm_bytes), (None, None));
    }

    #[test]
    fn status_with_a_missing_field() {
        let _serial = crate::serial();
        let text = std::str::from_utf8(SELF_STATUS).unwrap();
        let without: String = text
            .lines()
            .filter(|l| !l.starts_with("VmSwap:"))
            .map(|l| format!("{l}\n"))
            .collect();
        let status = parse_status(without.as_bytes());
        assert_eq!(status.vm_swap_bytes, None);
        assert_eq!(status.vm_hwm_bytes, Some(1708 * 1024));
        assert_eq!(status.rss_anon_bytes, Some(104 * 1024));
    }

    #[test]
    fn truncated_status_keeps_complete_fields_only() {
        let _serial = crate::serial();
        // Cut inside the VmHWM number ("VmHWM:\t    17" of "1708 kB").
        let cut =
            SELF_STATUS.windows(6).position(|w| w == b"VmHWM:").unwrap() + "VmHWM:\t    17".len();
        let status = parse_status(&SELF_STATUS[..cut]);
        assert_eq!(status.vm_size_bytes, Some(2592 * 1024));
        assert_eq!(
            status.vm_hwm_bytes, None,
            "a number cut short must not be read as 17 kB"
        );
        assert_eq!(status.vm_rss_bytes, None);
        // Cut between the number and its unit.
        let cut = SELF_STATUS.windows(6).position(|w| w == b"VmHWM:").unwrap()
            + "VmHWM:\t    1708 k".len();
        assert_eq!(parse_status(&SELF_STATUS[..cut]).vm_hwm_bytes, None);
        // Every prefix parses without panicking, and never invents a value.
        let full = parse_status(SELF_STATUS);
        for len in 0..SELF_STATUS.len() {
            let part = parse_status(&SELF_STATUS[..len]);
            for (got, want) in [
                (part.vm_size_bytes, full.vm_size_bytes),
                (part.vm_hwm_bytes, full.vm_hwm_bytes),
                (part.rss_anon_bytes, full.rss_anon_bytes),
                (part.vm_swap_bytes, full.vm_swap_bytes),
            ] {
                assert!(got.is_none() || got == want, "prefix of {len} bytes");
            }
        }
    }

    #[test]
    fn truncated_statm_and_stat_are_refused() {
        let _serial = crate::serial();
        assert_eq!(parse_statm(&SELF_STATM[..5]), None); // "648 4"
        assert_eq!(parse_statm(b""), None);
        for len in 0..SELF_STATM.len() {
            if let Some(statm) = parse_statm(&SELF_STATM[..len]) {
                assert_eq!(
                    statm,
                    parse_statm(SELF_STATM).unwrap(),
                    "prefix of {len} bytes"
                );
            }
        }
        for len in 0..SELF_STAT.len() {
            let start = parse_stat_start_time(&SELF_STAT[..len]);
            assert!(
                start.is_none() || start == Some(81329),
                "prefix of {len} bytes"
            );
        }
    }

    #[test]
    fn garbage_gives_none() {
        let _serial = crate::serial();
        let garbage: &[&[u8]] = &[
            b"",
            b"\n\n\n",
            b"VmSize:\tabc kB\nVmHWM:\t-1 kB\nVmRSS: 12 MB\nRssAnon:\t99999999999999999999 kB\nRssFile:\n",
            b"VmSwap\t12 kB",
            b"\xff\xfe\x00:\x00",
        ];
        for text in garbage {
            assert_eq!(parse_status(text), Status::default(), "{text:?}");
            assert_eq!(parse_statm(text), None);
            assert_eq!(parse_stat_start_time(text), None);
        }
        assert_eq!(parse_statm(b"1 2x 3 4 5 6 7\n"), None);
        assert_eq!(parse_statm(b"99999999999999999999 2 3 4 5 6 7\n"), None);
        assert_eq!(parse_stat_start_time(b"1 (a) S 1 2 3"), None);
    }

    proptest! {
        #[test]
        fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _serial = crate::serial();
            let _ = parse_status(&bytes);
            let _ = parse_statm(&bytes);
            let _ = parse_stat_start_time(&bytes);
        }

        #[test]
        fn status_values_round_trip(kib in 0u64..(u64::MAX / 1024), pad in 0usize..12) {
            let _serial = crate::serial();
            let line = format!("VmHWM:\t{}{kib} kB\n", " ".repeat(pad));
            prop_assert_eq!(parse_status(line.as_bytes()).vm_hwm_bytes, Some(kib * 1024));
        }
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use memprobe::{Error, ProcessMemory};

    const MIB: usize = 1 << 20;

    /// A fresh anonymous private mapping, unmapped on drop.
    struct Mapping {
        ptr: *mut u8,
        len: usize,
    }

    impl Mapping {
        fn new(len: usize) -> Mapping {
            // SAFETY: a new anonymous private mapping; no existing memory is touched.
            let ptr = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            assert_ne!(ptr, libc::MAP_FAILED, "mmap of {len} bytes failed");
            Mapping {
                ptr: ptr.cast(),
                len,
            }
        }

        /// Writes one byte per page, so every page becomes resident.
        fn touch(&self) {
            let page = page_size();
            for offset in (0..self.len).step_by(page) {
                // SAFETY: `offset < len`, inside the writable mapping.
                unsafe { self.ptr.add(offset).write_volatile(1) };
            }
        }
    }

    impl Drop for Mapping {
        fn drop(&mut self) {
            // SAFETY: unmaps exactly the mapping made in `new`, which nothing else references.
            let rc = unsafe { libc::munmap(self.ptr.cast(), self.len) };
            assert_eq!(rc, 0);
        }
    }

    fn page_size() -> usize {
        // SAFETY: sysconf only reads a configuration value.
        usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap()
    }

    /// Within 1% + 64 KiB of `expected`.
    fn near(delta: i128, expected: usize) -> bool {
        let expected = expected as i128;
        (delta - expected).abs() <= expected / 100 + 64 * 1024
    }

    /// RSS before and after touching a fresh `len`-byte mapping, by both readers, and after munmap.
    struct Touched {
        rss: (u64, u64, u64),
        snap: (memprobe::MemorySnapshot, memprobe::MemorySnapshot),
    }

    fn touch_and_measure(me: &ProcessMemory, len: usize) -> Touched {
        let mapping = Mapping::new(len);
        let rss_before = me.rss_bytes().unwrap();
        let snap_before = me.snapshot().unwrap();
        mapping.touch();
        let rss_after = me.rss_bytes().unwrap();
        let snap_after = me.snapshot().unwrap();
        drop(mapping);
        let rss_freed = me.rss_bytes().unwrap();
        Touched {
            rss: (rss_before, rss_after, rss_freed),
            snap: (snap_before, snap_after),
        }
    }

    fn delta(before: u64, after: u64) -> i128 {
        i128::from(after) - i128::from(before)
    }

    #[test]
    fn touching_64_mib_moves_rss_by_64_mib() {
        let _serial = crate::serial();
        let me = ProcessMemory::current().unwrap();
        let len = 64 * MIB;
        // Other threads of this binary (the harness starting the next test) can move RSS by a few
        // hundred KiB at any time; one clean run out of three proves the reader exact.
        let mut failures = Vec::new();
        for _ in 0..3 {
            let t = touch_and_measure(&me, len);
            let (before, after) = t.snap;
            let anon = |s: memprobe::MemorySnapshot| s.rss_anon_bytes.unwrap();
            let checks = [
                ("rss_bytes()", delta(t.rss.0, t.rss.1)),
                (
                    "snapshot().rss_bytes",
                    delta(before.rss_bytes, after.rss_bytes),
                ),
                (
                    "snapshot().rss_anon_bytes",
                    delta(anon(before), anon(after)),
                ),
                ("rss_bytes() freed by munmap", delta(t.rss.2, t.rss.1)),
            ];
            let off = checks
                .iter()
                .filter(|(_, d)| !near(*d, len))
                .collect::<Vec<_>>();
            assert!(after.peak_rss_bytes.unwrap() + MIB as u64 >= after.rss_bytes);
            assert!(after.virtual_bytes.unwrap() >= after.rss_bytes);
            if off.is_empty() {
                return;
            }
            failures.push(format!("{off:?}"));
        }
        panic!("RSS did not move by {len} ± (1% + 64 KiB) in 3 tries: {failures:#?}");
    }

    #[test]
    fn reset_peak_lowers_vm_hwm() {
        let _serial = crate::serial();
        let me = ProcessMemory::current().unwrap();
        let len = 128 * MIB;
        let mapping = Mapping::new(len);
        mapping.touch();
        let high = me.snapshot().unwrap().peak_rss_bytes.unwrap();
        drop(mapping);

        let before_reset = me.snapshot().unwrap();
        // The peak survives munmap (give or take the kernel's per-CPU counter slack).
        let kept = before_reset.peak_rss_bytes.unwrap();
        assert!(
            kept + MIB as u64 >= high,
            "VmHWM {kept} after munmap, {high} before"
        );
        me.reset_peak().unwrap();
        let after = me.snapshot().unwrap();
        let peak = after.peak_rss_bytes.unwrap();
        assert!(
            peak + (len as u64) / 2 <= high,
            "VmHWM {peak} after reset, {high} before: expected a drop of about {len}"
        );
        // The reset sets the peak to the current RSS.
        assert!(
            peak + 4 * MIB as u64 >= after.rss_bytes && peak <= after.rss_bytes + 4 * MIB as u64
        );
    }

    #[test]
    fn reading_allocates_nothing() {
        let _serial = crate::serial();
        let me = ProcessMemory::current().unwrap();
        // Warm up anything lazily initialised.
        me.rss_bytes().unwrap();
        me.snapshot().unwrap();
        me.start_time_ticks().unwrap();

        let before = super::thread_allocs();
        let mut total = 0u64;
        for _ in 0..1000 {
            total = total.wrapping_add(me.rss_bytes().unwrap());
            total = total.wrapping_add(me.snapshot().unwrap().rss_bytes);
            total = total.wrapping_add(me.start_time_ticks().unwrap());
        }
        let allocs = super::thread_allocs() - before;
        std::hint::black_box(total);
        assert_eq!(
            allocs, 0,
            "1000 × (rss_bytes + snapshot + start_time_ticks) allocated {allocs} times"
        );
        // The counter does see this thread's allocations.
        drop(std::hint::black_box(vec![0u8; 16]));
        assert!(super::thread_allocs() > before);
    }

    #[test]
    fn current_reads_this_process() {
        let _serial = crate::serial();
        let me = ProcessMemory::current().unwrap();
        assert_eq!(me.pid(), std::process::id());
        let s = me.snapshot().unwrap();
        assert!(s.rss_bytes > 0);
        let parts =
            s.rss_anon_bytes.unwrap() + s.rss_file_bytes.unwrap() + s.rss_shmem_bytes.unwrap();
        // statm and status are read a moment apart while other tests run; allow some drift.
        assert!(
            parts.abs_diff(s.rss_bytes) < 32 * MIB as u64,
            "parts {parts}, rss {}",
            s.rss_bytes
        );
        assert!(s.swap_bytes.is_some());
        assert_eq!(s.phys_footprint_bytes, None);
        assert!(me.start_time_ticks().unwrap() > 0);
    }

    #[test]
    fn child_process_then_process_not_found_after_reaping() {
        let _serial = crate::serial();
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let pid = child.id();
        // Until its exec has finished the child is a copy of this process, then a half-loaded
        // image; wait until `sleep` itself is asleep.
        let stat = format!("/proc/{pid}/stat");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !std::fs::read_to_string(&stat)
            .unwrap()
            .contains("(sleep) S ")
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the child never ran `sleep`"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let reader = ProcessMemory::for_pid(pid).unwrap();
        assert_eq!(reader.pid(), pid);
        let s = reader.snapshot().unwrap();
        assert!(s.rss_bytes > 0);
        assert!(s.virtual_bytes.unwrap() > s.rss_bytes, "{s:?}");
        let start = reader.start_time_ticks().unwrap();
        assert!(
            start
                >= ProcessMemory::current()
                    .unwrap()
                    .start_time_ticks()
                    .unwrap()
        );

        child.kill().unwrap();
        child.wait().unwrap();

        let message = format!(
            "memprobe: no process with PID {pid} (it never existed or has exited); check the PID with `ps -p {pid}`"
        );
        for err in [
            reader.rss_bytes().unwrap_err(),
            reader.snapshot().unwrap_err(),
            reader.start_time_ticks().unwrap_err(),
            reader.reset_peak().unwrap_err(),
        ] {
            assert!(
                matches!(err, Error::ProcessNotFound { pid: p } if p == pid),
                "{err:?}"
            );
            assert_eq!(err.to_string(), message);
        }
        let err = ProcessMemory::for_pid(pid).unwrap_err();
        assert_eq!(err.to_string(), message);
    }

    #[test]
    fn missing_pid_is_process_not_found() {
        let _serial = crate::serial();
        let pid_max: u32 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let free = (2..pid_max)
            .rev()
            .find(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
            .unwrap();
        let err = ProcessMemory::for_pid(free).unwrap_err();
        assert!(
            matches!(err, Error::ProcessNotFound { pid } if pid == free),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "memprobe: no process with PID {free} (it never existed or has exited); check the PID with `ps -p {free}`"
            )
        );
        // PID 0 is the idle task, never in /proc.
        assert!(matches!(
            ProcessMemory::for_pid(0),
            Err(Error::ProcessNotFound { pid: 0 })
        ));
    }

    #[test]
    fn pid_1_is_readable_or_denied_by_name() {
        let _serial = crate::serial();
        match ProcessMemory::for_pid(1).and_then(|p| p.snapshot()) {
            Ok(s) => assert!(s.virtual_bytes.is_some() || s.rss_bytes == 0),
            // Only for an unprivileged user on a system that hides other users' processes.
            Err(Error::PermissionDenied { path, .. }) => {
                assert!(path.starts_with("/proc/1/"), "{}", path.display());
            }
            Err(e) => panic!("reading PID 1: {e}"),
        }
    }

    /// A real process with 1,000 supplementary groups: its `status` is over 6 KiB, and every
    /// figure after the long `Groups:` line is still read.
    #[test]
    fn process_with_a_thousand_groups_has_every_figure() {
        let _serial = crate::serial();
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: setting 1,000 supplementary groups needs root");
            return;
        }
        let groups: Vec<String> = (10_000..11_000).map(|g| g.to_string()).collect();
        let mut child = std::process::Command::new("setpriv")
            .arg("--groups")
            .arg(groups.join(","))
            .args(["--reuid", "0", "--regid", "0", "--", "sleep", "30"])
            .spawn()
            .expect("setpriv (util-linux) starts");
        let pid = child.id();
        // Wait until setpriv has exec'd sleep with its groups.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let status = loop {
            let text = std::fs::read(format!("/proc/{pid}/status")).unwrap();
            if text.windows(6).any(|w| w == b"10999 ") || std::time::Instant::now() > deadline {
                break text;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        assert!(status.len() > 6 * 1024, "status is {} bytes", status.len());
        let memory = ProcessMemory::for_pid(pid).unwrap();
        let s = memory.snapshot().unwrap();
        assert!(s.swap_bytes.is_some(), "{s:?}");
        assert!(s.peak_rss_bytes.unwrap() >= s.rss_bytes, "{s:?}");
        assert!(
            s.rss_anon_bytes.is_some() && s.rss_file_bytes.is_some(),
            "{s:?}"
        );
        assert_eq!(memory.stat().unwrap().ppid, std::process::id());
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// The sampler's read policy on a live process: its RssAnon is the kernel's `status` line,
    /// `status` is read at most every `status_every` on fast ticks, and a reaped process is named.
    #[test]
    fn sampler_reads_status_on_its_schedule() {
        use memprobe::snapshot::Sampler;
        use std::time::{Duration, Instant};
        let _serial = crate::serial();
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let every = Duration::from_millis(100);
        let memory = ProcessMemory::for_pid(child.id()).unwrap();
        let mut r = Sampler::new(memory, every, every);
        let now = Instant::now();
        let m = r.read(now).unwrap();
        let status = memprobe::snapshot::procfs::parse_status(
            &std::fs::read(format!("/proc/{}/status", child.id())).unwrap(),
        );
        assert_eq!(m.rss_anon_bytes, status.rss_anon_bytes);
        assert_eq!(
            m.rss_bytes,
            status.rss_anon_bytes.unwrap()
                + status.rss_file_bytes.unwrap()
                + status.rss_shmem_bytes.unwrap()
        );
        assert!(m.peak_rss_bytes.unwrap() >= m.rss_bytes && m.swap_bytes.is_some());
        assert_eq!(r.status_read_at(), Some(now));
        // Fast ticks read status at most every `every`.
        let memory = ProcessMemory::for_pid(child.id()).unwrap();
        let mut fast = Sampler::new(memory, Duration::from_millis(1), every);
        fast.read(now).unwrap();
        fast.read(now + Duration::from_millis(50)).unwrap();
        assert_eq!(fast.status_read_at(), Some(now));
        let almost = now + every - Duration::from_micros(100);
        fast.read(almost).unwrap();
        assert_eq!(fast.status_read_at(), Some(almost));
        child.kill().unwrap();
        child.wait().unwrap();
        let e = r.read(Instant::now()).unwrap_err();
        assert!(matches!(e, Error::ProcessNotFound { .. }), "{e}");
        let e = memprobe::snapshot::read_stat(i32::MAX as u32).unwrap_err();
        assert!(
            e.to_string()
                .contains(&format!("no process with PID {}", i32::MAX)),
            "{e}"
        );
    }

    /// A process named `a\nb) (c` can be watched by PID: its start time and state are read. (The
    /// shell stays the renamed process: `exec` would rename it after the new program.)
    #[test]
    fn process_with_a_newline_in_its_name_has_a_start_time() {
        let _serial = crate::serial();
        let mut child = std::process::Command::new("sh")
            .args([
                "-c",
                "printf 'a\\nb) (c' > /proc/$$/comm; while :; do sleep 0.1; done",
            ])
            .spawn()
            .unwrap();
        let pid = child.id();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::fs::read(format!("/proc/{pid}/comm")).unwrap() != b"a\nb) (c\n" {
            assert!(std::time::Instant::now() < deadline, "comm never renamed");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let memory = ProcessMemory::for_pid(pid).unwrap();
        let start = memory.start_time_ticks().unwrap();
        let stat = memprobe::snapshot::read_stat(pid).unwrap();
        assert_eq!(stat.start_time_ticks, start);
        assert_eq!(stat.ppid, std::process::id());
        assert_eq!(memory.stat().unwrap(), stat);
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn reset_peak_of_another_users_process_is_permission_denied() {
        let _serial = crate::serial();
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            eprintln!("skipped: running as root, which may write any process's clear_refs");
            return;
        }
        let err = ProcessMemory::for_pid(1).unwrap().reset_peak().unwrap_err();
        assert_eq!(
            err.to_string(),
            "memprobe: permission denied writing 5 to /proc/1/clear_refs: run as the process's owner, or as root (CAP_SYS_PTRACE / CAP_SYS_ADMIN)"
        );
    }
}
