//! The record's figures for reports: sums over many programmes at once.
