//! Matching mentees with mentors.
pub mod solver;
