//! A thread that found every counter slot taken counts exactly anyway, and takes a slot as soon
//! as one is free. Its own test binary: it fills the slab with threads alive at once.

memprobe::global_allocator!();

use std::hint::black_box;
use std::sync::{Arc, Barrier};

#[test]
fn a_thread_that_found_the_slab_full_takes_a_slot_once_one_is_free() {
    let capacity = memprobe::alloc::thread_slots().capacity;
    // Enough holders to own every slot, whoever else holds some.
    let holders = capacity;
    let filled = Arc::new(Barrier::new(holders + 1));
    let release = Arc::new(Barrier::new(holders + 1));
    let handles: Vec<_> = (0..holders)
        .map(|_| {
            let (filled, release) = (filled.clone(), release.clone());
            std::thread::Builder::new()
                .stack_size(64 * 1024)
                .spawn(move || {
                    drop(black_box(vec![0u8; 16]));
                    filled.wait();
                    release.wait();
                })
                .unwrap()
        })
        .collect();
    filled.wait();
    let slots = memprobe::alloc::thread_slots();
    assert_eq!(slots.in_use, slots.capacity, "{slots:?}");

    let (to_late, late_inbox) = std::sync::mpsc::channel::<()>();
    let (to_main, main_inbox) = std::sync::mpsc::channel::<()>();
    let late = std::thread::spawn(move || {
        // Slab full: this thread counts in the shared overflow counters.
        drop(black_box(vec![0u8; 8]));
        to_main.send(()).unwrap();
        late_inbox.recv().unwrap();
        // Slots were handed back meanwhile: the next allocation takes one.
        let in_use_before = memprobe::alloc::thread_slots().in_use;
        drop(black_box(vec![0u8; 1]));
        let before = memprobe::thread_totals().expect("a slot was free again");
        let v = black_box(vec![0u8; 1234]);
        let delta = memprobe::thread_totals().unwrap().since(&before);
        assert_eq!((delta.alloc_count, delta.alloc_bytes), (1, 1234));
        drop(v);
        (in_use_before, memprobe::alloc::thread_slots().in_use)
    });
    main_inbox.recv().unwrap();
    release.wait();
    for h in handles {
        h.join().unwrap();
    }
    to_late.send(()).unwrap();
    let (in_use_before, in_use_after) = late.join().unwrap();
    // The late thread's retry is the only claim in between.
    assert_eq!(in_use_after, in_use_before + 1);
}
