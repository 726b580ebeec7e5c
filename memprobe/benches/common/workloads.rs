//! Realistic workloads through the global allocator, shared by the `alloc_ratio` bench (their
//! cost under each allocator) and the accuracy tests (`tests/dhat_equality.rs`: the same figures
//! from memprobe and from dhat). Deterministic: the same calls allocate the same way every run.

use std::collections::BTreeMap;
use std::hint::black_box;

/// Builds a `BTreeMap<String, Vec<u8>>` of `entries` entries (formatted keys, values of 1 to 64
/// bytes) and drops it. Returns a checksum so the work is not optimised away.
pub fn btree_build_drop(entries: usize) -> usize {
    let mut map = BTreeMap::new();
    for i in 0..entries {
        map.insert(format!("key-{i:08}"), vec![i as u8; i % 64 + 1]);
    }
    let checksum = map.values().map(Vec::len).sum::<usize>() + map.len();
    drop(black_box(map));
    checksum
}

/// A JSON document of `records` objects, each with a string, numbers, a nested array and map.
pub fn json_document(records: usize) -> serde_json::Value {
    serde_json::Value::Array(
        (0..records)
            .map(|i| {
                serde_json::json!({
                    "id": i,
                    "name": format!("record number {i}"),
                    "score": i as f64 * 0.25,
                    "tags": ["alpha", "beta", format!("t{}", i % 7)],
                    "nested": { "ok": i % 2 == 0, "depth": [1, 2, 3] },
                })
            })
            .collect(),
    )
}

/// Serialises `document` to a string and parses it back; both are dropped. Returns the length
/// of the text.
pub fn json_round_trip(document: &serde_json::Value) -> usize {
    let text = serde_json::to_string(document).expect("a JSON value serialises");
    let parsed: serde_json::Value = serde_json::from_str(&text).expect("our own JSON parses");
    let len = text.len();
    drop(black_box(parsed));
    drop(black_box(text));
    len
}
