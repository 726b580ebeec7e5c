//! The scenarios behind the example binaries, the tour and the scenario tests: the code a team
//! measures (jobs, clients with their pools, JSON payloads, actors and their mailboxes, a hot
//! path that must not allocate), each with the scaling fit it is measured by.
//!
//! The library declares no global allocator: each binary and test file installs
//! `memprobe::global_allocator!(...)` itself, as a user's crate would.

pub mod actors;
pub mod clients;
pub mod hot_path;
pub mod jobs;
pub mod payloads;

/// A scenario as the tour runs it: a label and the fit that measures it.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// What is measured, in a few words.
    pub label: &'static str,
    /// Runs the scenario's scaling fit.
    pub fit: fn() -> memprobe::Result<memprobe::Fit>,
}

/// Every scenario's scaling fit, in the order the tour shows them.
pub const SCENARIOS: [Scenario; 10] = [
    Scenario {
        label: "jobs in a queue",
        fit: jobs::fit,
    },
    Scenario {
        label: "clients (4-connection pools)",
        fit: clients::fit,
    },
    Scenario {
        label: "JSON to_vec",
        fit: payloads::serialize_fit,
    },
    Scenario {
        label: "JSON from_slice",
        fit: payloads::parse_fit,
    },
    Scenario {
        label: "idle actors (tokio)",
        fit: actors::idle_fit,
    },
    Scenario {
        label: "bounded mailbox",
        fit: actors::bounded_fit,
    },
    Scenario {
        label: "unbounded mailbox",
        fit: actors::unbounded_fit,
    },
    Scenario {
        label: "header parser",
        fit: hot_path::parse_fit,
    },
    Scenario {
        label: "encode_into (reused)",
        fit: hot_path::encode_into_fit,
    },
    Scenario {
        label: "encode (new Vec)",
        fit: hot_path::encode_fit,
    },
];
