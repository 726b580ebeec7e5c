//! A failed check panics at the measured function, not inside memprobe: `#[track_caller]` runs
//! from the generated call down to the `panic!`. The panic hook records where each panic says
//! it happened; each measured function below fails its limit on purpose.

use memprobe::memprobe;
use std::hint::black_box;
use std::sync::Mutex;

memprobe::global_allocator!();

mod support;

/// File and line of the last panic, as the panic hook was told.
static LAST: Mutex<Option<(String, u32)>> = Mutex::new(None);

/// Runs `f`, which must panic, and returns the message and where the panic said it happened.
fn panic_location(f: impl FnOnce()) -> (String, String, u32) {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Some(at) = info.location() {
                *LAST.lock().unwrap() = Some((at.file().to_owned(), at.line()));
            }
            previous(info);
        }));
    });
    let message = support::panic_message(f);
    let (file, line) = LAST.lock().unwrap().take().expect("a panic location");
    (message, file, line)
}

// The lines the attribute spans its call on: each function's signature.
const SYNC_LINE: u32 = line!() + 2;
#[memprobe(max_allocs = 0, report = false)]
fn allocates_once() {
    drop(black_box(vec![1u8; 8]));
}

const ITERS_LINE: u32 = line!() + 2;
#[memprobe(iters = 10, max_bytes = "1 B", report = false)]
fn allocates_each_iteration() {
    drop(black_box(vec![1u8; 8]));
}

const ASYNC_LINE: u32 = line!() + 2;
#[memprobe(max_allocs = 0, report = false)]
async fn allocates_in_a_future() {
    drop(black_box(vec![1u8; 8]));
}

const ASYNC_ITERS_LINE: u32 = line!() + 2;
#[memprobe(iters = 3, warmup = 1, max_net = "0", report = false)]
async fn keeps_memory_per_iteration() {
    std::mem::forget(black_box(vec![1u8; 8]));
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

#[test]
fn limit_failures_point_at_the_measured_function() {
    type Run = Box<dyn FnOnce()>;
    let cases: [(&str, u32, Run); 4] = [
        ("allocates_once", SYNC_LINE, Box::new(allocates_once)),
        (
            "allocates_each_iteration",
            ITERS_LINE,
            Box::new(allocates_each_iteration),
        ),
        (
            "allocates_in_a_future",
            ASYNC_LINE,
            Box::new(|| block_on(allocates_in_a_future())),
        ),
        (
            "keeps_memory_per_iteration",
            ASYNC_ITERS_LINE,
            Box::new(|| block_on(keeps_memory_per_iteration())),
        ),
    ];
    for (name, line, run) in cases {
        let (message, file, at_line) = panic_location(run);
        assert!(
            message.starts_with(&format!(
                "memprobe: function `{name}` failed its memory checks"
            )),
            "{message}"
        );
        assert_eq!(
            (file.as_str(), at_line),
            (file!(), line),
            "{name}: {message}"
        );
    }
}
