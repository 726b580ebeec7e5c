//! criterion measurement (placeholder).
