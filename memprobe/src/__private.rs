//! Used by generated code, not public API (placeholder).
