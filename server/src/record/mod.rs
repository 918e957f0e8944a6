//! The mentoring record: what happens to a mentee's programme after the
//! match. Baseline, midway and exit assessments the mentee scores
//! themselves (with the school's own view beside them), the action plan's
//! SMART targets and their progress, each session's notes, the
//! coordinator's reviews, the exit, and feedback from the mentee, the
//! mentor and the referring teacher.
//!
//! The record hangs off the referral, which is the mentee's programme from
//! referral to exit; its sessions are those of every match the referral had.

pub mod store;
