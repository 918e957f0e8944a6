//! The mentorbridge signalling protocol (work in progress).
