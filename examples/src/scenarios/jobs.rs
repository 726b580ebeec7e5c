//! Jobs as a queue worker builds them: an id, a name, a few labels and a payload buffer. "What
//! does one job cost?" at 10, 50, 100 and 200 jobs held in a queue.

use memprobe::scaling::Scaling;
use std::collections::{HashMap, VecDeque};

/// The sizes teams try: 10, 50, 100 and 200 jobs.
pub const SIZES: [u64; 4] = [10, 50, 100, 200];
/// The payload each job in the scaling fit carries.
pub const PAYLOAD_BYTES: usize = 256;

/// One unit of work, as a queue consumer would build it.
#[derive(Debug)]
pub struct Job {
    /// Its id.
    pub id: u64,
    /// `job-<id>`.
    pub name: String,
    /// Routing labels.
    pub labels: HashMap<&'static str, String>,
    /// The message body.
    pub payload: Vec<u8>,
}

/// Builds job `id` with a zeroed payload of `payload_len` bytes.
pub fn create_job(id: u64, payload_len: usize) -> Job {
    let mut labels = HashMap::with_capacity(2);
    labels.insert("queue", "default".to_owned());
    labels.insert("tenant", format!("tenant-{}", id % 7));
    Job {
        id,
        name: format!("job-{id}"),
        labels,
        payload: vec![0u8; payload_len],
    }
}

/// A queue of `n` pending jobs, ids 1000 onwards (four-digit names, so every job has the same
/// size), each with a [`PAYLOAD_BYTES`] payload.
pub fn queue(n: u64) -> VecDeque<Job> {
    (1000..1000 + n)
        .map(|id| create_job(id, PAYLOAD_BYTES))
        .collect()
}

/// The scaling run of [`queue`]: per job, with the RSS delta beside the exact counts.
pub fn scaling() -> Scaling {
    Scaling::new(SIZES).item("job").name("jobs").rss(true)
}

/// Fits what a queue of `n` jobs costs, per job.
///
/// # Errors
///
/// From [`Scaling::run`].
pub fn fit() -> memprobe::Result<memprobe::Fit> {
    scaling().run(queue)
}
