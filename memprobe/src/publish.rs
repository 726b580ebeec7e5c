//! Publishing in-process statistics to memprobe-daemon (placeholder).
