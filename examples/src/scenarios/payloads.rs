//! Orders as a service receives them in JSON: an id, a kind and a list of items, grown item by
//! item to a target size. "What does a payload cost per byte?" at 1 KB, 10 KB, 100 KB and 1 MB,
//! serialized and parsed with serde_json.

use memprobe::scaling::Scaling;
use serde::{Deserialize, Serialize};

/// The sizes teams try: 1 KB, 10 KB, 100 KB and 1 MB of JSON.
pub const SIZES: [u64; 4] = [1_000, 10_000, 100_000, 1_000_000];

/// A purchase order.
#[derive(Debug, Serialize, Deserialize)]
pub struct Order {
    /// The request it came with.
    pub request_id: u64,
    /// `purchase`, `refund`, ...
    pub kind: String,
    /// Its lines.
    pub items: Vec<Item>,
}

/// One order line.
#[derive(Debug, Serialize, Deserialize)]
pub struct Item {
    /// Line id.
    pub id: u32,
    /// Stock-keeping unit.
    pub sku: String,
    /// How many.
    pub quantity: u16,
    /// Unit price.
    pub price_cents: u64,
}

/// The largest order whose JSON is at most `target` bytes (never fewer than zero items).
pub fn order_of_size(target: u64) -> Order {
    let mut order = Order {
        request_id: 4_711,
        kind: "purchase".to_owned(),
        items: Vec::new(),
    };
    let base = json_len(&order);
    // Ids of eight digits, one-digit quantities and four-digit prices: every item serializes to
    // the same length, plus a comma between items.
    let item = |k: u32| Item {
        id: 10_000_000 + k,
        sku: format!("SKU-{k:08}"),
        quantity: (k % 9 + 1) as u16,
        price_cents: 1_299 + u64::from(k % 100),
    };
    let per_item = json_len(&item(0)) + 1;
    let count = (target.saturating_sub(base) + 1) / per_item;
    order.items = (0..count as u32).map(item).collect();
    order
}

/// The length of `value`'s JSON.
pub fn json_len<T: Serialize>(value: &T) -> u64 {
    serde_json::to_vec(value).map_or(0, |v| v.len() as u64)
}

/// An order of `n` bytes of JSON and that JSON, built unmeasured before each run.
pub fn setup(n: u64) -> (Order, Vec<u8>) {
    let order = order_of_size(n);
    let json = serde_json::to_vec(&order).expect("an order serializes");
    (order, json)
}

/// The scaling run of `serde_json::to_vec` and `from_slice` over [`SIZES`]: per byte of JSON.
pub fn scaling(name: &str) -> Scaling {
    Scaling::new(SIZES)
        .item("JSON byte")
        .name(name)
        .repetitions(2)
        .rss(true)
}

/// Fits `serde_json::to_vec` of an order, per byte of JSON.
///
/// # Errors
///
/// From [`Scaling::run_with`].
pub fn serialize_fit() -> memprobe::Result<memprobe::Fit> {
    scaling("payloads::to_vec").run_with(setup, |(order, _), _| serde_json::to_vec(order))
}

/// Fits `serde_json::from_slice` into an order, per byte of JSON: what parsing allocates, and
/// what the parsed order keeps.
///
/// # Errors
///
/// From [`Scaling::run_with`].
pub fn parse_fit() -> memprobe::Result<memprobe::Fit> {
    scaling("payloads::from_slice").run_with(setup, |(_, json), _| {
        serde_json::from_slice::<Order>(json).expect("the order parses back")
    })
}
