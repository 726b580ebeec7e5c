//! Baselines (placeholder).
