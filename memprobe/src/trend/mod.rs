//! Trend analysis of memory time series (placeholder until the verdict engine lands).
