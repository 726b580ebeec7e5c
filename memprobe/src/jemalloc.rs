//! jemalloc statistics (placeholder).

/// jemalloc statistics.
///
/// # Examples
///
/// ```
/// let _ = memprobe::JemallocStats::default();
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct JemallocStats {}
