//! limits (placeholder).
