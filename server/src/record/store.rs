//! The record's SQL, on its own tables only.

mod figures;
