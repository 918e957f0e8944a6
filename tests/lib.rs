//! Shared helpers for the mentorbridge end-to-end tests.
